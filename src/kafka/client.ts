/**
 * src/kafka is the only folder that talks kafkajs (unmaintained since 2023: keep it replaceable;
 * test/unit/seams.test.ts checks it). Every kafkajs client is made by `kafkaFor` below, which
 * applies brokers, TLS and SASL (security.ts), logging and retries; everything else sees
 * KafkaClient (opaque), ConsumerPort, ProducerPort and KafkaAdmin (admin.ts).
 */
import kafkajs from 'kafkajs';
import type { Consumer, Kafka, KafkaConfig, Producer, IHeaders } from 'kafkajs';
import { MednerError, assert } from '../core/errors.ts';
import type { Logger } from '../ops/logger.ts';
import { kafkaConnectionConfig, type KafkaClientOptions } from './security.ts';

const { Kafka: KafkaClass, logLevel, Partitioners } = kafkajs;

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  /** The next offset to read, as Kafka wants it committed. */
  offset: string;
}

/**
 * How a client behaves: `client` (producers and consumers of the pipeline: 8 retries, warnings
 * and errors to our logger), `admin` (topic management: 5 retries, 5 s connect, 30 s requests),
 * `probe` (does a broker answer: no retries, 1.5 s connect, 3 s requests).
 */
export type KafkaProfile = 'client' | 'admin' | 'probe';

const PROFILES: Record<KafkaProfile, Pick<KafkaConfig, 'retry' | 'connectionTimeout' | 'requestTimeout'>> = {
  client: { retry: { retries: 8, initialRetryTime: 200 } },
  admin: { connectionTimeout: 5_000, requestTimeout: 30_000, retry: { retries: 5 } },
  probe: { connectionTimeout: 1_500, requestTimeout: 3_000, retry: { retries: 0 } },
};

/** The one kafkajs client factory: connection security from the options, the profile's retries, kafkajs logs to `logger` (none without one). */
export function kafkaFor(opts: KafkaClientOptions, profile: KafkaProfile, logger?: Logger): Kafka {
  const log = logger?.child({ component: 'kafkajs' });
  return new KafkaClass({
    ...kafkaConnectionConfig(opts),
    ...PROFILES[profile],
    ...(log
      ? {
          logLevel: logLevel.WARN,
          logCreator: () => (entry) => {
            const { message, timestamp: _t, ...extra } = entry.log;
            const fields = { ns: entry.namespace, broker: extra.broker, error: extra.error, groupId: extra.groupId };
            if (entry.level === logLevel.ERROR) log.error(fields, message);
            else if (entry.level === logLevel.WARN) log.warn(fields, message);
            else log.debug(fields, message);
          },
        }
      : { logLevel: logLevel.NOTHING }),
  });
}

/** A connection to Kafka for producers, consumers and offset lookups (createKafka). Opaque: kafkajs stays in src/kafka. */
export interface KafkaClient {
  readonly clientId: string;
}

const clients = new WeakMap<KafkaClient, Kafka>();

function kafkaOf(client: KafkaClient): Kafka {
  const k = clients.get(client);
  assert(k, 'a KafkaClient not made by createKafka');
  return k;
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  /** Producer timestamp, ms since epoch as a string (Kafka's format). */
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface OutgoingMessage {
  key?: string | Buffer | null;
  value: string | Buffer;
  headers?: Record<string, string>;
}

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export interface ConsumerPort {
  /** Subscribe and start; `handle` is awaited per message, in order within a partition. */
  run(topics: string[], handle: (m: ConsumedMessage) => Promise<void>, opts?: { fromBeginning?: boolean }): Promise<void>;
  pause(tps: { topic: string; partitions?: number[] }[]): void;
  resume(tps: { topic: string; partitions?: number[] }[]): void;
  seek(topic: string, partition: number, offset: string): void;
  commit(offsets: TopicPartitionOffset[]): Promise<void>;
  /** Called with the partitions this member owns after every group join. */
  onAssignment(cb: (owned: TopicPartitions[]) => void): void;
  /**
   * Whether this member owns its partitions now: joined its group (GROUP_JOIN) with no rebalance,
   * crash, stop or disconnect since, and heard from the broker (heartbeat, fetch or join) within
   * `freshMs`. After a broker restart it turns true only once the consumer joined again.
   */
  ownsPartitions(freshMs?: number): boolean;
  /** Kafka's end offset and our group's committed offset per partition, for the lag metric. */
  lag(topics: string[]): Promise<{ topic: string; partition: number; lag: number }[]>;
  stop(): Promise<void>;
}

export interface ProducerPort {
  /** Resolves once all in-sync replicas acknowledged (acks = all). */
  send(topic: string, messages: OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

/** Every producer and consumer of the pipeline comes from a client made here: brokers, TLS and SASL from the config. */
export function createKafka(opts: KafkaClientOptions, logger: Logger): KafkaClient {
  const client: KafkaClient = { clientId: opts.clientId };
  clients.set(client, kafkaFor(opts, 'client', logger));
  return client;
}

function headersToStrings(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) {
    if (v === undefined) continue;
    const one = Array.isArray(v) ? v[0] : v;
    if (one !== undefined) out[k] = Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
  }
  return out;
}

export function createConsumer(
  client: KafkaClient,
  opts: { groupId: string; sessionTimeoutMs?: number; heartbeatIntervalMs?: number; partitionsConsumedConcurrently?: number },
): ConsumerPort {
  const kafka = kafkaOf(client);
  const consumer: Consumer = kafka.consumer({
    groupId: opts.groupId,
    sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: opts.heartbeatIntervalMs ?? 3_000,
    rebalanceTimeout: 60_000,
    retry: { retries: 10 },
  });
  const admin = kafka.admin();
  let adminConnected = false;
  const assignmentListeners: ((owned: TopicPartitions[]) => void)[] = [];
  let joined = false;
  let lastContact = 0;
  const contact = () => void (lastContact = Date.now());
  consumer.on(consumer.events.HEARTBEAT, contact);
  consumer.on(consumer.events.FETCH, contact);
  for (const lost of [consumer.events.REBALANCING, consumer.events.CRASH, consumer.events.STOP, consumer.events.DISCONNECT]) {
    consumer.on(lost, () => void (joined = false));
  }
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    joined = true;
    contact();
    const owned = Object.entries(e.payload.memberAssignment).map(([topic, partitions]) => ({ topic, partitions }));
    for (const cb of assignmentListeners) cb(owned);
  });
  return {
    async run(topics, handle, runOpts) {
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: runOpts?.fromBeginning ?? true });
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 3,
        eachMessage: async ({ topic, partition, message }) => {
          await handle({
            topic,
            partition,
            offset: message.offset,
            timestamp: message.timestamp,
            key: message.key,
            value: message.value,
            headers: headersToStrings(message.headers),
          });
        },
      });
    },
    // Before run() (or after a crash) kafkajs throws here; there is nothing to pause then.
    pause: (tps) => {
      try {
        consumer.pause(tps);
      } catch {
        /* not running */
      }
    },
    resume: (tps) => {
      try {
        consumer.resume(tps);
      } catch {
        /* not running */
      }
    },
    seek: (topic, partition, offset) => consumer.seek({ topic, partition, offset }),
    async commit(offsets) {
      if (offsets.length > 0) await consumer.commitOffsets(offsets);
    },
    onAssignment: (cb) => void assignmentListeners.push(cb),
    ownsPartitions: (freshMs = Math.max(15_000, 3 * (opts.heartbeatIntervalMs ?? 3_000))) => joined && Date.now() - lastContact <= freshMs,
    async lag(topics) {
      if (!adminConnected) {
        await admin.connect();
        adminConnected = true;
      }
      const out: { topic: string; partition: number; lag: number }[] = [];
      const committed = await admin.fetchOffsets({ groupId: opts.groupId, topics });
      for (const t of committed) {
        const ends = await admin.fetchTopicOffsets(t.topic);
        for (const p of t.partitions) {
          const end = ends.find((e) => e.partition === p.partition);
          if (!end) continue;
          const c = Number(p.offset) >= 0 ? Number(p.offset) : Number(end.low);
          out.push({ topic: t.topic, partition: p.partition, lag: Math.max(0, Number(end.high) - c) });
        }
      }
      return out;
    },
    async stop() {
      await consumer.disconnect();
      if (adminConnected) await admin.disconnect();
    },
  };
}

/** kafkajs errors that mean the brokers are away or moving (a restart, a leader election), not that the records are bad. */
const UNAVAILABLE = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
  'KafkaJSLockTimeout',
]);

/**
 * A failed send as the caller should treat it: when the cause chain shows the brokers away (or a
 * protocol error kafkajs marks retriable, e.g. LEADER_NOT_AVAILABLE) and nothing says the records
 * themselves were refused, a retriable MednerError KAFKA_UNAVAILABLE (the job waits for Kafka as it
 * waits for the FHIR server); anything else (MESSAGE_TOO_LARGE, authorization) as kafkajs reported it.
 */
export function sendFailure(err: unknown): unknown {
  if (err instanceof MednerError) return err;
  let away = false;
  for (let e: unknown = err, i = 0; e && typeof e === 'object' && i < 8; i++) {
    const x = e as { name?: unknown; type?: unknown; retriable?: unknown; cause?: unknown; originalError?: unknown };
    if (x.type === 'MESSAGE_TOO_LARGE' || (x.name === 'KafkaJSProtocolError' && x.retriable === false)) return err;
    if (UNAVAILABLE.has(String(x.name)) || (x.name === 'KafkaJSProtocolError' && x.retriable === true)) away = true;
    e = x.originalError ?? x.cause;
  }
  return away ? new MednerError('KAFKA_UNAVAILABLE', 'Kafka did not take the records: brokers unavailable', { retriable: true, cause: err }) : err;
}

export function createProducer(client: KafkaClient): ProducerPort {
  const producer: Producer = kafkaOf(client).producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 5 } });
  let connected: Promise<void> | undefined;
  return {
    async send(topic, messages) {
      try {
        // A failed connect is not remembered: the next send connects again (the broker may be back).
        connected ??= producer.connect().catch((err: unknown) => {
          connected = undefined;
          throw err;
        });
        await connected;
        await producer.send({
          topic,
          acks: -1,
          messages: messages.map((m) => ({ key: m.key ?? null, value: m.value, headers: m.headers })),
        });
      } catch (err) {
        throw sendFailure(err);
      }
    },
    async close() {
      if (connected) await producer.disconnect();
    },
  };
}

export interface PartitionOffsets {
  partition: number;
  low: bigint;
  high: bigint;
  /** First offset at or after the timestamps asked for (high when none). */
  from?: bigint;
  to?: bigint;
}

/** Low/high offsets per partition and, when asked, the offsets at two timestamps. */
export async function topicOffsets(client: KafkaClient, topic: string, at: { from?: number; to?: number } = {}): Promise<PartitionOffsets[]> {
  const admin = kafkaOf(client).admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const fromList = at.from !== undefined ? await admin.fetchTopicOffsetsByTimestamp(topic, at.from) : undefined;
    const toList = at.to !== undefined ? await admin.fetchTopicOffsetsByTimestamp(topic, at.to) : undefined;
    return ends
      .map((e) => {
        const f = fromList?.find((x) => x.partition === e.partition);
        const t = toList?.find((x) => x.partition === e.partition);
        return {
          partition: e.partition,
          low: BigInt(e.low),
          high: BigInt(e.high),
          ...(f ? { from: BigInt(f.offset) } : {}),
          ...(t ? { to: BigInt(t.offset) } : {}),
        };
      })
      .sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}
