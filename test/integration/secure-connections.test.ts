/**
 * Kafka over SASL_SSL and Redis with a password, for real: this test starts a SECOND Kafka broker
 * (our Maven-resolved jars, as `medner stack up` runs them) with a SASL_SSL listener on loopback,
 * certificates made here with openssl (a CA, the broker's certificate for 127.0.0.1, a client
 * certificate the broker requires), SCRAM-SHA-256/512 users and a PLAIN user; and a second
 * redis-server with requirepass; each on free ports with its own folder under /tmp. The shared
 * services are not touched (the shared FHIR server receives the document's resources).
 * A document goes end to end through them; wrong credentials stop the worker with an error
 * naming the service before anything is consumed.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { MednerError } from '../../src/core/errors.ts';
import { createStages } from '../../src/pipeline/stages.ts';
import { checkKafkaLogin } from '../../src/pipeline/connections.ts';
import { checkRedisLogin } from '../../src/queue/redis.ts';
import { startWorkerApp } from '../../src/pipeline/worker-app.ts';
import { REPO_ROOT } from '../../src/stack/paths.ts';
import { ensureKafkaJars } from '../../src/stack/kafka.ts';
import { findExecutable } from '../../src/stack/process.ts';
import { integrationServices } from '../support/services.ts';
import { committed, hl7Note, pipelineEnv, produce, readTopic, setupConfig, sleep, testId, waitFor } from '../fixtures/pipeline/harness.ts';
import { inputTopic } from '../../src/formats/registry.ts';

const svc = await integrationServices(['fhir']);
const logger = createLogger('silent');

/** Our Kafka jars, resolved with Maven as `medner stack up` does when they are not there yet. */
function kafkaJars(): string | undefined {
  try {
    return ensureKafkaJars(loadConfig({ ...process.env }));
  } catch (err) {
    return err instanceof Error ? `Kafka jars: ${err.message}` : 'Kafka jars';
  }
}
const jars = findExecutable('java') ? kafkaJars() : undefined;
const libDir = jars !== undefined && path.isAbsolute(jars) ? jars : '';
const missing = [
  findExecutable('java') ? '' : 'java',
  findExecutable('openssl') ? '' : 'openssl',
  findExecutable('redis-server') ? '' : 'redis-server',
  libDir === '' && jars !== undefined ? jars : '',
].filter(Boolean);
const skip = svc.skip ?? (missing.length > 0 ? `needs ${missing.join(', ')}` : false);
if (skip && process.env.CI === 'true') throw new Error(`CI=true: secure-connections test cannot run: ${skip}`);
if (skip) process.stderr.write(`SKIP secure-connections: ${skip}\n`);

const USER = 'medner';
const PASSWORD = 'scram-secret-1';
const REDIS_PASSWORD = 'redis-secret-1';

let dir = '';
let kafka: ChildProcess | undefined;
let redis: ChildProcess | undefined;
let saslPort = 0;
let redisPort = 0;
let files: { ca: string; cert: string; key: string };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** CA, broker certificate for 127.0.0.1/localhost, client certificate; all PEM, keys PKCS#8 unencrypted. */
function makeCertificates(): void {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=medner-test-ca']);
  for (const [name, cn, ext] of [
    ['server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth'],
    ['client', 'medner-client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    fs.writeFileSync(path.join(dir, `${name}.ext`), `${ext}\n`);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
  }
  // The broker's PEM keystore: PKCS#8 key, then its certificate.
  openssl(['pkcs8', '-topk8', '-nocrypt', '-in', 'server.key', '-out', 'server.pk8']);
  fs.writeFileSync(path.join(dir, 'server-keystore.pem'), fs.readFileSync(path.join(dir, 'server.pk8'), 'utf8') + fs.readFileSync(path.join(dir, 'server.pem'), 'utf8'));
  files = { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'client.pem'), key: path.join(dir, 'client.key') };
}

async function startKafka(): Promise<void> {
  const [internal, controller] = [await freePort(), await freePort()];
  saslPort = await freePort();
  const props = [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controller}`,
    `listeners=INTERNAL://127.0.0.1:${internal},SASL_SSL://127.0.0.1:${saslPort},CONTROLLER://127.0.0.1:${controller}`,
    `advertised.listeners=INTERNAL://127.0.0.1:${internal},SASL_SSL://127.0.0.1:${saslPort}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=INTERNAL',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,SASL_SSL:SASL_SSL',
    `log.dirs=${path.join(dir, 'kafka-data')}`,
    'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${USER}="${PASSWORD}";`,
    'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${path.join(dir, 'server-keystore.pem')}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${files.ca}`,
    // Clients must present a certificate signed by our CA, besides SASL.
    'listener.name.sasl_ssl.ssl.client.auth=required',
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    'num.network.threads=2',
    'num.io.threads=2',
  ];
  const propsFile = path.join(dir, 'server.properties');
  fs.writeFileSync(propsFile, `${props.join('\n')}\n`);
  const java = findExecutable('java')!;
  const jvm = ['-Xmx384m', '-Xms64m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', `-Dlog4j2.configurationFile=${path.join(REPO_ROOT, 'deploy/kafka/log4j2.xml')}`, '-cp', `${libDir}${path.sep}*`];
  execFileSync(
    java,
    [
      ...jvm,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      'bWVkbmVyLXNlY3VyZS10ZQ',
      '-c',
      propsFile,
      '--add-scram',
      `SCRAM-SHA-256=[name=${USER},password=${PASSWORD}]`,
      '--add-scram',
      `SCRAM-SHA-512=[name=${USER},password=${PASSWORD}]`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 },
  );
  const log = fs.openSync(path.join(dir, 'kafka.log'), 'a');
  kafka = spawn(java, [...jvm, 'kafka.Kafka', propsFile], { cwd: dir, stdio: ['ignore', log, log] });
}

function startRedis(port: number): ChildProcess {
  const log = fs.openSync(path.join(dir, 'redis.log'), 'a');
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--requirepass', REDIS_PASSWORD, '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', log, log] });
}

/** The secure settings, on top of a pipeline test environment. */
function secureEnv(extra: Record<string, string> = {}): Record<string, string> {
  if (!svc.ok) throw new Error('no services');
  return pipelineEnv({ ...svc.services, kafkaBrokers: [`127.0.0.1:${saslPort}`], redisUrl: `redis://127.0.0.1:${redisPort}` }, 'secure', {
    KAFKA_SSL_CA_FILE: files.ca,
    KAFKA_SSL_CERT_FILE: files.cert,
    KAFKA_SSL_KEY_FILE: files.key,
    KAFKA_SASL_MECHANISM: 'scram-sha-256',
    KAFKA_SASL_USERNAME: USER,
    KAFKA_SASL_PASSWORD: PASSWORD,
    REDIS_PASSWORD,
    TOPIC_PARTITIONS: '1',
    ...extra,
  });
}

async function rejects(p: Promise<unknown>, code: string, message: RegExp): Promise<MednerError> {
  const err = await p.then(
    () => assert.fail(`expected ${code}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof MednerError, `expected a MednerError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  assert.match(err.message, message);
  for (const secret of [PASSWORD, REDIS_PASSWORD, 'wrong-password']) assert.ok(!err.message.includes(secret), 'no password in the message');
  return err;
}

before(async () => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medner-secure-stack-'));
  makeCertificates();
  await startKafka();
  redisPort = await freePort();
  redis = startRedis(redisPort);
  // Up when a SASL_SSL admin connection with the right credentials works.
  const config = loadConfig(secureEnv());
  await waitFor(
    'the SASL_SSL broker',
    async () => {
      if (kafka?.exitCode !== null) throw new Error(`the test broker exited: ${fs.readFileSync(path.join(dir, 'kafka.log'), 'utf8').slice(-2000)}`);
      try {
        await checkKafkaLogin(config);
        return true;
      } catch {
        return false;
      }
    },
    120_000,
    1000,
  );
  await waitFor('the password-protected redis', async () => checkRedisLogin(config.redis.url).then(() => true, () => false), 20_000, 300);
});

after(async () => {
  for (const p of [kafka, redis]) {
    if (p && p.exitCode === null) {
      p.kill('SIGTERM');
      await Promise.race([new Promise((r) => p.once('exit', r)), sleep(15_000)]);
      if (p.exitCode === null) p.kill('SIGKILL');
    }
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('a document goes end to end over Kafka SASL_SSL (SCRAM-SHA-256, client certificate) and a password-protected Redis', { skip, timeout: 180_000 }, async () => {
  const config = await setupConfig(secureEnv());
  const stages = await createStages(config, logger);
  const app = await startWorkerApp({ config, role: 'all', logger, stages, commitIntervalMs: 200, http: false });
  try {
    const id = testId('secure');
    await produce(config, inputTopic(config, 'hl7v2'), [{ key: id, value: hl7Note(id) }]);
    await waitFor('the record committed', async () => (await committed(config, [inputTopic(config, 'hl7v2')]))[`${inputTopic(config, 'hl7v2')}/0`] === 1, 90_000);
    const out = await readTopic(config, config.topics.output, 1);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.headers['medner-document-id'], id);
    const bundle = JSON.parse(out[0]!.value) as { resourceType: string; type: string; entry: unknown[] };
    assert.equal(bundle.resourceType, 'Bundle');
    assert.ok(bundle.entry.length > 0);
  } finally {
    await app.stop(10_000);
    await stages.close();
  }
});

test('SCRAM-SHA-512 and PLAIN log in too; a client without the CA gets a TLS error naming Kafka', { skip, timeout: 60_000 }, async () => {
  await checkKafkaLogin(loadConfig(secureEnv({ KAFKA_SASL_MECHANISM: 'scram-sha-512' })));
  await checkKafkaLogin(loadConfig(secureEnv({ KAFKA_SASL_MECHANISM: 'plain' })));
  const noCa = secureEnv();
  delete noCa.KAFKA_SSL_CA_FILE;
  await rejects(checkKafkaLogin(loadConfig(noCa)), 'KAFKA_TLS_FAILED', new RegExp(`Kafka at 127\\.0\\.0\\.1:${saslPort}: TLS failed`));
});

test('wrong credentials stop the worker with an error naming the service, and nothing is consumed', { skip, timeout: 120_000 }, async () => {
  // A record waits on the input topic.
  const good = await setupConfig(secureEnv());
  const id = testId('secure-denied');
  await produce(good, inputTopic(good, 'hl7v2'), [{ key: id, value: hl7Note(id) }]);

  const tryWorker = async (env: Record<string, string>) => {
    const config: Config = loadConfig(env);
    const stages = await createStages(config, logger);
    try {
      const app = await startWorkerApp({ config, role: 'all', logger, stages, http: false });
      await app.stop(1000);
      assert.fail('the worker started');
    } finally {
      await stages.close();
    }
  };
  const same = { TOPIC_HL7_IN: inputTopic(good, 'hl7v2'), TOPIC_FHIR_IN: inputTopic(good, 'fhir'), TOPIC_OUTPUT: good.topics.output, TOPIC_DEAD_LETTER: good.topics.deadLetter, KAFKA_GROUP_ID: good.kafka.groupId };
  await rejects(tryWorker(secureEnv({ ...same, KAFKA_SASL_PASSWORD: 'wrong-password' })), 'KAFKA_AUTH_FAILED', new RegExp(`^Kafka at 127\\.0\\.0\\.1:${saslPort} rejected the SASL credentials \\(SCRAM-SHA-256 as user "medner"\\)`));
  await rejects(tryWorker(secureEnv({ ...same, KAFKA_SASL_USERNAME: 'nobody' })), 'KAFKA_AUTH_FAILED', /rejected the SASL credentials/);
  await rejects(tryWorker(secureEnv({ ...same, REDIS_PASSWORD: 'wrong-password' })), 'REDIS_AUTH_FAILED', new RegExp(`^Redis at redis://127\\.0\\.0\\.1:${redisPort} rejected the login`));
  const noRedisPassword = secureEnv(same);
  delete noRedisPassword.REDIS_PASSWORD;
  await rejects(tryWorker(noRedisPassword), 'REDIS_AUTH_FAILED', /NOAUTH|rejected the login/);

  // Nothing consumed: no offset committed for the group, nothing on the output topic.
  // (On a fresh broker the group coordinator may need a moment: NOT_COORDINATOR is retried.)
  let offsets: Record<string, number> | undefined;
  await waitFor('the group coordinator', async () => {
    offsets = await committed(good, [inputTopic(good, 'hl7v2')]).catch(() => undefined);
    return offsets !== undefined;
  }, 30_000);
  assert.deepEqual(offsets, { [`${inputTopic(good, 'hl7v2')}/0`]: -1 });
  assert.equal((await readTopic(good, good.topics.output, 1, 1500)).length, 0);
});
