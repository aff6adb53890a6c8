import type { Config } from '../config/config.ts';
import { createFhirServerService } from './fhir-server.ts';
import { externalFhirService } from './fhir-probe.ts';
import { createKafkaService } from './kafka.ts';
import { createRedisService } from './redis.ts';
import { StackError, type ManagedService } from './service.ts';

/** Kafka, Redis and the FHIR server, in start order (`down` goes in reverse). */
export function stackServices(config: Config): ManagedService[] {
  let fhir: ManagedService;
  try {
    fhir = createFhirServerService(config);
  } catch (err) {
    if (!(err instanceof StackError)) throw err;
    fhir = externalFhirService(config, err.message);
  }
  return [createKafkaService(config), createRedisService(config), fhir];
}
