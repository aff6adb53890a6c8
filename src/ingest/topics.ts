import type { Config } from '../config/config.ts';
import { MednerError } from '../core/errors.ts';
import { deadLetterTopicMaxBytes } from '../formats/dead-letter.ts';
import { connectKafkaAdmin, type KafkaAdmin, type TopicSpec } from '../kafka/admin.ts';
import { DEFAULT_FORMATS } from '../formats/registry.ts';

/** The project's topics with the configured partitions and replication factor. */
export function projectTopics(config: Config): TopicSpec[] {
  const { output, deadLetter, partitions, replicationFactor } = config.topics;
  return [...DEFAULT_FORMATS.topics(config), output, deadLetter].map((topic) => ({ topic, partitions, replicationFactor }));
}

export interface EnsureTopicsResult {
  created: string[];
  existing: string[];
  /** Existing topics whose partition count differs from the configured one (Kafka never shrinks them). */
  partitionMismatch: { topic: string; partitions: number; expected: number }[];
  /** The dead-letter topic's max.message.bytes, and whether this call raised it to fit the inputs. */
  deadLetterMaxBytes?: { bytes: number; raised: boolean; inputMaxBytes: number };
}

/** Kafka's default message.max.bytes (broker), used when the input topics' limit cannot be read. */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/**
 * Sizes the dead-letter topic so that a record wrapping any input the broker accepts fits
 * (issue 20): its max.message.bytes becomes deadLetterTopicMaxBytes(the input topics' largest limit).
 */
export async function fitDeadLetterTopic(config: Config, a: KafkaAdmin): Promise<NonNullable<EnsureTopicsResult['deadLetterMaxBytes']>> {
  const inputs = DEFAULT_FORMATS.topics(config);
  const limits = await a.topicConfig([...inputs, config.topics.deadLetter], 'max.message.bytes');
  const inputMaxBytes = Math.max(...inputs.map((t) => Number(limits.get(t) ?? KAFKA_DEFAULT_MAX_MESSAGE_BYTES)));
  const need = deadLetterTopicMaxBytes(inputMaxBytes);
  const have = Number(limits.get(config.topics.deadLetter) ?? 0);
  if (have >= need) return { bytes: have, raised: false, inputMaxBytes };
  await a.setTopicConfig(config.topics.deadLetter, { 'max.message.bytes': String(need) });
  return { bytes: need, raised: true, inputMaxBytes };
}

/** Creates the project's topics if absent; safe to run any number of times. */
export async function ensureTopics(config: Config, admin?: KafkaAdmin): Promise<EnsureTopicsResult> {
  const own = admin === undefined;
  let a: KafkaAdmin;
  try {
    a = admin ?? (await connectKafkaAdmin({ ...config.kafka, clientId: `${config.kafka.clientId}-admin` }));
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
    const deadLetterMaxBytes = await fitDeadLetterTopic(config, a);
    return { created, existing: specs.map((s) => s.topic).filter((t) => !created.includes(t)), partitionMismatch, deadLetterMaxBytes };
  } finally {
    if (own) await a.close().catch(() => undefined);
  }
}
