import type { Config } from '../config/config.ts';
import { MednerError } from '../ops/errors.ts';
import { connectKafkaAdmin, type KafkaAdmin, type TopicSpec } from './kafka-admin.ts';

/** The project's topics with the configured partitions and replication factor. */
export function projectTopics(config: Config): TopicSpec[] {
  const { fhirIn, hl7In, output, deadLetter, partitions, replicationFactor } = config.topics;
  return [fhirIn, hl7In, output, deadLetter].map((topic) => ({ topic, partitions, replicationFactor }));
}

export interface EnsureTopicsResult {
  created: string[];
  existing: string[];
  /** Existing topics whose partition count differs from the configured one (Kafka never shrinks them). */
  partitionMismatch: { topic: string; partitions: number; expected: number }[];
}

/** Creates the project's topics if absent; safe to run any number of times. */
export async function ensureTopics(config: Config, admin?: KafkaAdmin): Promise<EnsureTopicsResult> {
  const own = admin === undefined;
  let a: KafkaAdmin;
  try {
    a = admin ?? (await connectKafkaAdmin({ brokers: config.kafka.brokers, clientId: `${config.kafka.clientId}-admin` }));
  } catch (err) {
    throw new MednerError('KAFKA_UNAVAILABLE', `cannot reach Kafka at ${config.kafka.brokers.join(',')}`, { retriable: true, cause: err });
  }
  try {
    const specs = projectTopics(config);
    const created = await a.createTopics(specs);
    const infos = await a.describeTopics(specs.map((s) => s.topic));
    const partitionMismatch = infos
      .filter((i) => !created.includes(i.topic) && i.partitions !== config.topics.partitions)
      .map((i) => ({ topic: i.topic, partitions: i.partitions, expected: config.topics.partitions }));
    return { created, existing: specs.map((s) => s.topic).filter((t) => !created.includes(t)), partitionMismatch };
  } finally {
    if (own) await a.close().catch(() => undefined);
  }
}
