import type * as fhir4 from 'fhir/r4.js';
import { allergyIntoleranceTarget } from './allergy-intolerance.ts';
import { conditionTarget } from './condition.ts';
import { familyMemberHistoryTarget } from './family-member-history.ts';
import { medicationStatementTarget } from './medication-statement.ts';
import { observationTarget } from './observation.ts';
import { procedureTarget } from './procedure.ts';
import type { ResourceTarget } from './target.ts';

/**
 * The resource types medner derives from entities. Adding one: a module like condition.ts exporting
 * a ResourceTarget, and one line in SHIPPED_TARGETS. Everything that lists the derived types reads
 * them from here: the label mapping's valid `resourceType`s, the writer's retract searches and
 * reconcile plan, the conformance resources' extension contexts.
 */
export const SHIPPED_TARGETS: readonly ResourceTarget[] = [
  conditionTarget,
  observationTarget,
  medicationStatementTarget,
  procedureTarget,
  familyMemberHistoryTarget,
  allergyIntoleranceTarget,
];

export class ResourceTargets {
  private readonly byType: ReadonlyMap<string, ResourceTarget>;
  /** Every derived resource type, in registry order. */
  readonly types: readonly string[];

  constructor(readonly targets: readonly ResourceTarget[]) {
    const m = new Map<string, ResourceTarget>();
    for (const t of targets) {
      if (m.has(t.resourceType)) throw new TypeError(`resource target ${t.resourceType} registered twice`);
      m.set(t.resourceType, t);
    }
    this.byType = m;
    this.types = targets.map((t) => t.resourceType);
  }

  /** A registry with more targets (tests, extensions). */
  with(...more: ResourceTarget[]): ResourceTargets {
    return new ResourceTargets([...this.targets, ...(more as readonly ResourceTarget[])]);
  }

  get(resourceType: string): ResourceTarget | undefined {
    return this.byType.get(resourceType);
  }

  /** The names a label mapping may give as `resourceType` (besides `ignore`). */
  get selectable(): string[] {
    return this.targets.filter((t) => t.selectable).map((t) => t.resourceType);
  }

  /** The stored resource marked entered-in-error (server meta dropped), or undefined when it already is. */
  retract(resource: fhir4.Resource, type: string = resource.resourceType): fhir4.Resource | undefined {
    const r = structuredClone(resource) as fhir4.DomainResource & { status?: string };
    if (r.meta) {
      delete r.meta.versionId;
      delete r.meta.lastUpdated;
      delete r.meta.source;
    }
    const t = this.get(type);
    if (t) return t.retract(r);
    // A type no target names any more: its status, as most derived types do.
    return r.status === 'entered-in-error' ? undefined : ({ ...r, status: 'entered-in-error' } as fhir4.Resource);
  }

  isRetracted(resource: fhir4.Resource, type: string = resource.resourceType): boolean {
    const t = this.get(type);
    return t ? t.isRetracted(resource as fhir4.DomainResource) : (resource as { status?: string }).status === 'entered-in-error';
  }
}

/** The shipped targets. */
export const DEFAULT_TARGETS = new ResourceTargets(SHIPPED_TARGETS);
