import type * as fhir4 from 'fhir/r4.js';
import { DEFAULT_TARGETS, type ResourceTargets } from './targets/registry.ts';

/** The resource marked entered-in-error, or undefined when it already is (each target's own rule: targets/*.ts). */
export function retract(type: string, resource: fhir4.Resource, targets: ResourceTargets = DEFAULT_TARGETS): fhir4.Resource | undefined {
  return targets.retract(resource, type);
}

/** Whether a derived resource is retracted (entered-in-error). */
export function isRetracted(r: fhir4.Resource, targets: ResourceTargets = DEFAULT_TARGETS): boolean {
  return targets.isRetracted(r);
}
