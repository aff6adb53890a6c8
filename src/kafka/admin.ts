import type { Admin } from 'kafkajs';
import { kafkaFor } from './client.ts';
import { explainKafkaError, type KafkaClientOptions } from './security.ts';

/**
 * The Kafka admin API behind a small interface (kafkajs is no longer maintained; this lets us
 * swap clients). The client comes from kafkaFor (client.ts), the one factory.
 */
export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor: number;
  /** Topic configs set at creation (e.g. max.message.bytes). */
  configs?: Record<string, string>;
}

export interface TopicInfo {
  topic: string;
  partitions: number;
}

export interface KafkaAdmin {
  listTopics(): Promise<string[]>;
  /** Creates the topics that do not exist; returns the names it created. */
  createTopics(specs: TopicSpec[]): Promise<string[]>;
  describeTopics(topics: string[]): Promise<TopicInfo[]>;
  deleteTopics(topics: string[]): Promise<void>;
  /** Effective value of one config of each topic (topic override or broker default). */
  topicConfig(topics: string[], name: string): Promise<Map<string, string>>;
  /** Sets topic configs (Kafka's AlterConfigs: replaces the topic's overrides with these). */
  setTopicConfig(topic: string, configs: Record<string, string>): Promise<void>;
  clusterInfo(): Promise<{ clusterId: string; brokers: number; controller: number | null }>;
  close(): Promise<void>;
}

export interface KafkaAdminOptions extends KafkaClientOptions {
  /** Short timeouts and no retries, for probing whether a broker answers. */
  probe?: boolean;
}

/** kafkajs ConfigResourceTypes.TOPIC (a TypeScript enum, not reliably exported at run time under ESM). */
const TOPIC_RESOURCE = 2;

export async function connectKafkaAdmin(opts: KafkaAdminOptions): Promise<KafkaAdmin> {
  const admin: Admin = kafkaFor(opts, opts.probe ? 'probe' : 'admin').admin();
  try {
    await admin.connect();
  } catch (err) {
    throw explainKafkaError(err, opts);
  }
  return {
    listTopics: () => admin.listTopics(),
    async createTopics(specs) {
      const existing = new Set(await admin.listTopics());
      const missing = specs.filter((s) => !existing.has(s.topic));
      if (missing.length === 0) return [];
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((s) => ({
            topic: s.topic,
            numPartitions: s.partitions,
            replicationFactor: s.replicationFactor,
            ...(s.configs ? { configEntries: Object.entries(s.configs).map(([name, value]) => ({ name, value })) } : {}),
          })),
        });
      } catch (err) {
        // Another process may have created them between list and create.
        if (!isTopicExists(err)) throw err;
      }
      return missing.map((s) => s.topic);
    },
    async describeTopics(topics) {
      const md = await admin.fetchTopicMetadata({ topics });
      return md.topics.map((t) => ({ topic: t.name, partitions: t.partitions.length }));
    },
    async deleteTopics(topics) {
      if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 });
    },
    async topicConfig(topics, name) {
      const r = await admin.describeConfigs({ includeSynonyms: false, resources: topics.map((t) => ({ type: TOPIC_RESOURCE, name: t, configNames: [name] })) });
      const out = new Map<string, string>();
      for (const res of r.resources) {
        const v = res.configEntries.find((e) => e.configName === name)?.configValue;
        if (v !== undefined) out.set(res.resourceName, v);
      }
      return out;
    },
    async setTopicConfig(topic, configs) {
      await admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: TOPIC_RESOURCE, name: topic, configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })) }],
      });
    },
    async clusterInfo() {
      const c = await admin.describeCluster();
      return { clusterId: c.clusterId, brokers: c.brokers.length, controller: c.controller };
    },
    close: () => admin.disconnect(),
  };
}

function isTopicExists(err: unknown): boolean {
  const e = err as { type?: string; errors?: { type?: string }[] } | undefined;
  if (e?.type === 'TOPIC_ALREADY_EXISTS') return true;
  return Array.isArray(e?.errors) && e.errors.length > 0 && e.errors.every((x) => x.type === 'TOPIC_ALREADY_EXISTS');
}

/** Whether a Kafka broker answers admin requests at `brokers` (within a few seconds). */
export async function kafkaAnswers(brokers: string[], clientId = 'medner-probe'): Promise<boolean> {
  let admin: KafkaAdmin | undefined;
  try {
    admin = await connectKafkaAdmin({ brokers, clientId, probe: true });
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    await admin?.close().catch(() => undefined);
  }
}
