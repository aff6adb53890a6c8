import type { Config } from '../config/config.ts';
import { fhirServerVersion } from '../fhir/fhir-client.ts';
import { StackError, type ManagedService, type ServiceStatus } from './service.ts';


/**
 * Stands in for the local FHIR server when it cannot be managed here (e.g. not
 * built yet): reports whatever answers at FHIR_BASE_URL, and `up` fails with
 * `reason` unless something already answers.
 */
export function externalFhirService(config: Config, reason: string): ManagedService {
  const address = config.fhir.baseUrl;
  const isUp = async () => (await fhirServerVersion(address)) !== undefined;
  async function status(): Promise<ServiceStatus> {
    const v = await fhirServerVersion(address);
    const s: ServiceStatus = { name: 'fhir', up: v !== undefined, address, managed: false };
    if (v?.version) s.version = v.version;
    return s;
  }
  return {
    name: 'fhir',
    address,
    isUp,
    status,
    async up() {
      const s = await status();
      if (!s.up) throw new StackError(`no FHIR server answers at ${address}, and the local one cannot be started: ${reason}`);
      return s;
    },
    async down() {
      /* never ours */
    },
  };
}
