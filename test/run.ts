/**
 * `npm test` (after the type check): the unit and integration tests, always against real services,
 * and never the services' data that `npm start` uses (issue 20).
 *
 *  - KAFKA_BROKERS, REDIS_URL and FHIR_BASE_URL all set: the tests use those.
 *  - otherwise, when a Docker engine answers: test/support/services.ts starts containers.
 *  - otherwise: this runner starts a test stack of its own (STACK_DIR .stack-test): always its own
 *    FHIR server (127.0.0.1:18080, PostgreSQL database medner_test, or H2 under .stack-test when
 *    PostgreSQL does not answer), never the one `npm start` writes to; Kafka and Redis at their
 *    configured addresses when they answer (the tests' topics, groups, queues and key prefixes
 *    carry this run's tag), else its own (127.0.0.1:19092, 127.0.0.1:16379). It stops what it
 *    started when the tests end, fail, or are interrupted (Ctrl-C, SIGTERM).
 *
 * Every run has a tag (MEDNER_TEST_RUN, test/support/services.ts uniqueName puts it first in every
 * topic, group, queue and prefix name); at the end this runner deletes the run's Kafka topics and
 * consumer groups and its Redis keys, whichever services the tests used.
 *
 * Extra arguments are passed to `node --test` (e.g. `npm test -- --test-name-pattern=replay`).
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../src/config/config.ts';
import { createFhirServerService } from '../src/stack/fhir-server.ts';
import { createKafkaService } from '../src/stack/kafka.ts';
import { createRedisService } from '../src/stack/redis.ts';
import type { ManagedService } from '../src/stack/service.ts';
import { envExports } from '../src/stack/status-line.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (line: string) => process.stderr.write(`[npm test] ${line}\n`);

const testFiles = ['test/unit', 'test/integration'].flatMap((dir) =>
  readdirSync(path.join(root, dir))
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => path.join(dir, f)),
);

async function dockerAnswers(): Promise<boolean> {
  try {
    const tc = await import('testcontainers');
    await tc.getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/** Where the test stack runs (README, "Two commands on a fresh machine"): its own STACK_DIR, FHIR server and database. */
export const TEST_STACK = {
  stackDir: '.stack-test',
  fhirBaseUrl: 'http://127.0.0.1:18080/fhir',
  pgDatabase: 'medner_test',
  kafkaBrokers: '127.0.0.1:19092',
  redisUrl: 'redis://127.0.0.1:16379',
};

/**
 * Starts the test stack; returns the services this run started (to stop afterwards). The FHIR
 * server is always the test stack's own; Kafka and Redis are the configured ones when they answer.
 */
async function startStack(): Promise<ManagedService[]> {
  const user = loadConfig();
  const stackDir = path.join(root, TEST_STACK.stackDir);
  // The FHIR server this run starts validates every write (R4 + HL7 Terminology + the extensions pack, and
  // our own extensions) and refuses one with an error (422), so a conformance regression in what medner
  // writes fails the tests (test/integration/fhir-validation.test.ts also requires the refusal).
  // FHIR_SERVER_VALIDATE=false turns it off.
  const base = { ...(process.env as Record<string, string>), STACK_DIR: stackDir, FHIR_SERVER_VALIDATE: process.env.FHIR_SERVER_VALIDATE ?? 'true' };
  const started: ManagedService[] = [];
  let config: Config | undefined;
  try {
    const userKafka = createKafkaService(user);
    const userRedis = createRedisService(user);
    const kafkaUp = !process.env.KAFKA_BROKERS ? await userKafka.isUp() : true;
    const redisUp = !process.env.REDIS_URL ? await userRedis.isUp() : true;
    config = loadConfig({
      ...base,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? (kafkaUp ? user.kafka.brokers.join(',') : TEST_STACK.kafkaBrokers),
      REDIS_URL: process.env.REDIS_URL ?? (redisUp ? user.redis.url : TEST_STACK.redisUrl),
      FHIR_BASE_URL: process.env.FHIR_BASE_URL ?? TEST_STACK.fhirBaseUrl,
    });
    const services: ManagedService[] = [];
    if (!process.env.KAFKA_BROKERS) services.push(createKafkaService(config));
    if (!process.env.REDIS_URL) services.push(createRedisService(config));
    if (!process.env.FHIR_BASE_URL) services.push(createFhirServerService(config, { pgDatabase: TEST_STACK.pgDatabase }));
    for (const svc of services) {
      const st = await svc.status();
      if (st.managed) {
        say(`${svc.name}: the test stack's, already running at ${svc.address} (an earlier run): using it, stopping it at the end`);
        started.push(svc);
        continue;
      }
      if (st.up) {
        if (svc.name === 'fhir') throw new Error(`something answers at ${svc.address} that the test stack did not start: the tests would write into it (set FHIR_BASE_URL to a server for tests, or free the port)`);
        say(`${svc.name}: something answers at ${svc.address}: using it (the tests' topics, groups, queues and keys carry the run's tag)`);
        continue;
      }
      const t0 = Date.now();
      say(`${svc.name}: starting at ${svc.address} (STACK_DIR ${TEST_STACK.stackDir}${svc.name === 'fhir' ? `, database ${TEST_STACK.pgDatabase} or H2 under it` : ''}) ...`);
      started.push(svc);
      // the tests then require the server to refuse invalid writes (test/integration/fhir-validation.test.ts)
      if (svc.name === 'fhir') process.env.FHIR_SERVER_VALIDATE = String(config.fhirServer.validate);
      await svc.up();
      say(`${svc.name}: ready (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    }
  } catch (err) {
    await stopStack(started);
    throw err;
  }
  for (const line of envExports(config)) {
    const m = /^export (\w+)=(.*)$/.exec(line);
    if (m) process.env[m[1]!] = m[2]!.replace(/^'(.*)'$/s, '$1').replaceAll(`'\\''`, "'");
  }
  return started;
}

/** Deletes this run's Kafka topics and consumer groups and its Redis keys (best effort, logged). */
async function cleanUpRun(tag: string): Promise<void> {
  const brokers = process.env.KAFKA_BROKERS?.split(',').map((b) => b.trim());
  if (brokers && brokers.length > 0) {
    const kafka = new kafkajs.Kafka({ clientId: `${tag}-cleanup`, brokers, logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 1 }, connectionTimeout: 3_000 });
    const admin = kafka.admin();
    try {
      await admin.connect();
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${tag}-`));
      if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(`${tag}-`));
      if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
      say(`cleanup: ${topics.length} Kafka topic(s) and ${groups.length} consumer group(s) of run ${tag} deleted`);
    } catch (err) {
      say(`cleanup: Kafka topics of run ${tag} not deleted: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
  if (process.env.REDIS_URL) {
    const redis = new Redis(process.env.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3_000, retryStrategy: () => null });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      let n = 0;
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `*${tag}-*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) n += await redis.del(...keys);
      } while (cursor !== '0');
      say(`cleanup: ${n} Redis key(s) of run ${tag} deleted`);
    } catch (err) {
      say(`cleanup: Redis keys of run ${tag} not deleted: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      redis.disconnect();
    }
  }
}

async function stopStack(started: ManagedService[]): Promise<void> {
  for (const svc of [...started].reverse()) {
    try {
      await svc.down();
      say(`${svc.name}: stopped`);
    } catch (err) {
      say(`${svc.name}: could not be stopped: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

function runTests(args: string[]): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...args, ...testFiles], {
    cwd: root,
    stdio: 'inherit',
    env: process.env,
  });
  const forward = (signal: NodeJS.Signals) => () => {
    say(`${signal}: stopping the tests, then the services this run started`);
    child.kill(signal);
  };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

async function main(): Promise<number> {
  const tag = (process.env.MEDNER_TEST_RUN ??= `t${Date.now().toString(36)}`);
  const unset = ['KAFKA_BROKERS', 'REDIS_URL', 'FHIR_BASE_URL'].filter((k) => !process.env[k]);
  let started: ManagedService[] = [];
  if (unset.length > 0 && !(await dockerAnswers())) {
    say(`${unset.join(', ')} unset and no Docker engine: starting the test stack (${TEST_STACK.stackDir}; its own FHIR server and database)`);
    started = await startStack();
  }
  try {
    return await runTests(process.argv.slice(2));
  } finally {
    await cleanUpRun(tag);
    await stopStack(started);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    say(`could not start the services the tests need: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
