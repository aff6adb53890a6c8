/**
 * Where integration tests find Kafka, Redis and the FHIR server:
 *  1. KAFKA_BROKERS / REDIS_URL / FHIR_BASE_URL when set (CI and `medner stack up`);
 *  2. otherwise containers via testcontainers when a Docker engine answers;
 *  3. otherwise the tests are skipped with a visible reason, and with CI=true they fail.
 */
export type ServiceName = 'kafka' | 'redis' | 'fhir';

export interface Services {
  kafkaBrokers: string[];
  redisUrl: string;
  fhirBaseUrl: string;
}

export type ServicesOrSkip = { ok: true; services: Services; skip?: undefined } | { ok: false; skip: string };

const ENV_KEY: Record<ServiceName, string> = { kafka: 'KAFKA_BROKERS', redis: 'REDIS_URL', fhir: 'FHIR_BASE_URL' };

let containers: Promise<Partial<Services>> | undefined;

async function startContainers(names: ServiceName[]): Promise<Partial<Services>> {
  const tc = await import('testcontainers');
  await tc.getContainerRuntimeClient(); // throws when there is no container runtime
  const out: Partial<Services> = {};
  const started: { stop(): Promise<unknown> }[] = [];
  if (names.includes('kafka')) {
    const port = 9092;
    const c = await new tc.GenericContainer('apache/kafka:4.1.1')
      .withExposedPorts({ container: port, host: 39092 })
      .withEnvironment({
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: `PLAINTEXT://:${port},CONTROLLER://:9093`,
        KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://localhost:39092',
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      })
      .withWaitStrategy(tc.Wait.forLogMessage(/Kafka Server started/))
      .start();
    started.push(c);
    out.kafkaBrokers = [`${c.getHost()}:39092`];
  }
  if (names.includes('redis')) {
    const c = await new tc.GenericContainer('redis:7-alpine').withExposedPorts(6379).start();
    started.push(c);
    out.redisUrl = `redis://${c.getHost()}:${c.getMappedPort(6379)}`;
  }
  if (names.includes('fhir')) {
    const c = await new tc.GenericContainer('hapiproject/hapi:v8.8.0-1')
      .withExposedPorts(8080)
      .withEnvironment({ 'hapi.fhir.fhir_version': 'R4', 'hapi.fhir.reuse_cached_search_results_millis': '-1' })
      .withWaitStrategy(tc.Wait.forHttp('/fhir/metadata', 8080).withStartupTimeout(240_000))
      .start();
    started.push(c);
    out.fhirBaseUrl = `http://${c.getHost()}:${c.getMappedPort(8080)}/fhir`;
  }
  process.once('beforeExit', () => void Promise.all(started.map((c) => c.stop())));
  return out;
}

/** Resolve the services a test file needs, or a reason to skip. */
export async function integrationServices(names: ServiceName[]): Promise<ServicesOrSkip> {
  const fromEnv: Partial<Services> = {};
  if (process.env.KAFKA_BROKERS) fromEnv.kafkaBrokers = process.env.KAFKA_BROKERS.split(',').map((s) => s.trim());
  if (process.env.REDIS_URL) fromEnv.redisUrl = process.env.REDIS_URL;
  if (process.env.FHIR_BASE_URL) fromEnv.fhirBaseUrl = process.env.FHIR_BASE_URL.replace(/\/+$/, '');
  const missing = names.filter((n) => fromEnv[keyOf(n)] === undefined);
  if (missing.length > 0) {
    try {
      containers ??= startContainers(missing);
      Object.assign(fromEnv, await containers);
    } catch (err) {
      const reason =
        `integration services not available: set ${missing.map((n) => ENV_KEY[n]).join(', ')} ` +
        `(e.g. after \`medner stack up\`) or provide a Docker engine for testcontainers ` +
        `(${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
      if (process.env.CI === 'true') throw new Error(`CI=true: ${reason}`);
      process.stderr.write(`SKIP ${reason}\n`);
      return { ok: false, skip: reason };
    }
  }
  return {
    ok: true,
    services: {
      kafkaBrokers: fromEnv.kafkaBrokers ?? [],
      redisUrl: fromEnv.redisUrl ?? '',
      fhirBaseUrl: fromEnv.fhirBaseUrl ?? '',
    },
  };
}

function keyOf(n: ServiceName): keyof Services {
  return n === 'kafka' ? 'kafkaBrokers' : n === 'redis' ? 'redisUrl' : 'fhirBaseUrl';
}

/**
 * A name unique to this test run, for topics, groups, queues and key prefixes. Under `npm test` it
 * starts with the run's tag (MEDNER_TEST_RUN, set by test/run.ts), which deletes every Kafka topic,
 * consumer group and Redis key with that tag when the tests end.
 */
export function uniqueName(prefix: string): string {
  const run = process.env.MEDNER_TEST_RUN;
  return `${run ? `${run}-` : ''}${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
