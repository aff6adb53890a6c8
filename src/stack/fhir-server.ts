import type { Config } from '../config/config.ts';
import { StackError, type ManagedService } from './service.ts';

// Placeholder until deploy/fhir-server lands (issue 2); replaced by the real service.
export function createFhirServerService(_config: Config): ManagedService {
  throw new StackError('the local FHIR server is not available yet');
}
