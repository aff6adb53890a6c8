import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { explainKafkaError, kafkaConnectionConfig } from '../../src/kafka/security.ts';
import { redisWhere } from '../../src/queue/redis.ts';
import { MednerError } from '../../src/core/errors.ts';

const problems = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medner-config-security-'));
const pem = (name: string, text: string) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};
const ca = pem('ca.pem', '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n');
const cert = pem('client.pem', '-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n');
const key = pem('client.key', '-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n');
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

test('no security settings: plaintext Kafka, no SASL, REDIS_URL unchanged', () => {
  const c = loadConfig({});
  assert.equal(c.kafka.ssl, undefined);
  assert.equal(c.kafka.sasl, undefined);
  assert.equal(c.redis.url, 'redis://127.0.0.1:6379');
  const k = kafkaConnectionConfig({ ...c.kafka });
  assert.equal(k.ssl, undefined);
  assert.equal(k.sasl, undefined);
});

test('Kafka TLS with CA and client certificate, SASL SCRAM: read into the one client config', () => {
  const c = loadConfig({ KAFKA_SSL_CA_FILE: ca, KAFKA_SSL_CERT_FILE: cert, KAFKA_SSL_KEY_FILE: key, KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' });
  assert.deepEqual(c.kafka.ssl, { caFile: ca, certFile: cert, keyFile: key });
  assert.deepEqual(c.kafka.sasl, { mechanism: 'scram-sha-512', username: 'u', password: 'p' });
  const k = kafkaConnectionConfig({ ...c.kafka, clientId: 'x' });
  assert.deepEqual(k.ssl, { rejectUnauthorized: true, ca: [fs.readFileSync(ca, 'utf8')], cert: fs.readFileSync(cert, 'utf8'), key: fs.readFileSync(key, 'utf8') });
  assert.deepEqual(k.sasl, { mechanism: 'scram-sha-512', username: 'u', password: 'p' });
  assert.equal(k.clientId, 'x');
  // KAFKA_SSL=true alone: TLS against the system's CAs.
  assert.deepEqual(loadConfig({ KAFKA_SSL: 'true' }).kafka.ssl, {});
  assert.deepEqual(kafkaConnectionConfig({ ...loadConfig({ KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }).kafka }).ssl, { rejectUnauthorized: true });
});

test('bad security settings are each named at start', () => {
  assert.match(problems({ KAFKA_SSL_CA_FILE: path.join(dir, 'absent.pem') }).join('\n'), /KAFKA_SSL_CA_FILE=".*absent\.pem": cannot read this file/);
  assert.match(problems({ KAFKA_SSL_CERT_FILE: cert }).join('\n'), /a client certificate needs both/);
  assert.match(problems({ KAFKA_SSL_KEY_PASSWORD: 'x' }).join('\n'), /KAFKA_SSL_KEY_PASSWORD: set without KAFKA_SSL_KEY_FILE/);
  assert.match(problems({ KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'u' }).join('\n'), /also needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/);
  assert.match(problems({ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }).join('\n'), /set KAFKA_SASL_MECHANISM too/);
  assert.match(problems({ KAFKA_SASL_MECHANISM: 'gssapi' }).join('\n'), /^KAFKA_SASL_MECHANISM="gssapi"/);
  assert.match(problems({ REDIS_URL: 'http://127.0.0.1:6379' }).join('\n'), /expected redis:\/\/ or rediss:\/\//);
});

test('REDIS_PASSWORD goes into the URL (and wins over one there); rediss:// is kept; redisWhere never shows it', () => {
  assert.equal(loadConfig({ REDIS_PASSWORD: 'p@ss/word' }).redis.url, 'redis://:p%40ss%2Fword@127.0.0.1:6379');
  assert.equal(loadConfig({ REDIS_URL: 'rediss://:old@redis.example:6380/2', REDIS_PASSWORD: 'new' }).redis.url, 'rediss://:new@redis.example:6380/2');
  assert.equal(loadConfig({ REDIS_URL: 'rediss://default:pw@redis.example:6380' }).redis.url, 'rediss://default:pw@redis.example:6380');
  assert.equal(redisWhere('rediss://default:pw@redis.example:6380/2'), 'Redis at rediss://redis.example:6380');
  assert.equal(redisWhere('redis://:pw@127.0.0.1'), 'Redis at redis://127.0.0.1:6379');
});

test('explainKafkaError: SASL rejections, TLS failures and the rest, naming Kafka and never the password', () => {
  const o = { brokers: ['b1:9093', 'b2:9093'], clientId: 'c', sasl: { mechanism: 'scram-sha-256' as const, username: 'medner', password: 'hunter2' } };
  const sasl = Object.assign(new Error('SASL SCRAM SHA256 authentication failed: invalid credentials'), { name: 'KafkaJSSASLAuthenticationError' });
  const wrapped = Object.assign(new Error('wrapped'), { name: 'KafkaJSNonRetriableError', cause: sasl });
  const e1 = explainKafkaError(wrapped, o);
  assert.ok(e1 instanceof MednerError);
  assert.equal(e1.code, 'KAFKA_AUTH_FAILED');
  assert.match(e1.message, /^Kafka at b1:9093,b2:9093 rejected the SASL credentials \(SCRAM-SHA-256 as user "medner"\)/);
  assert.ok(!e1.message.includes('hunter2'));
  const tls = Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
  const e2 = explainKafkaError(Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError', originalError: tls }), o);
  assert.equal(e2.code, 'KAFKA_TLS_FAILED');
  assert.match(e2.message, /^Kafka at b1:9093,b2:9093: TLS failed \(SELF_SIGNED_CERT_IN_CHAIN\)/);
  const e3 = explainKafkaError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9093'), { code: 'ECONNREFUSED' }), o);
  assert.equal(e3.code, 'KAFKA_UNREACHABLE');
  assert.equal(e3.retriable, true);
  assert.match(e3.message, /^Kafka at b1:9093,b2:9093 did not accept a connection with SASL scram-sha-256: connect ECONNREFUSED/);
  const own = new MednerError('KAFKA_TLS_CONFIG', 'x');
  assert.equal(explainKafkaError(own, o), own);
});

test('a PEM file that disappears after start is a typed error naming the setting', () => {
  const f = pem('gone.pem', 'x');
  const c = loadConfig({ KAFKA_SSL_CA_FILE: f });
  fs.rmSync(f);
  assert.throws(() => kafkaConnectionConfig({ ...c.kafka }), (err: unknown) => err instanceof MednerError && err.code === 'KAFKA_TLS_CONFIG' && /KAFKA_SSL_CA_FILE/.test(err.message));
});
