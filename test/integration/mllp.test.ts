import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { integrationServices } from '../support/services.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { createKafka, createProducer } from '../../src/kafka/client.ts';
import { connectKafkaAdmin } from '../../src/kafka/admin.ts';
import { startMllpServer, type MllpServer } from '../../src/mllp/server.ts';
import { frame, MllpDecoder } from '../../src/mllp/frames.ts';
import { pipelineEnv, readTopic, setupConfig } from '../fixtures/pipeline/harness.ts';
import type { Config } from '../../src/config/config.ts';
import { inputTopic } from '../../src/formats/registry.ts';

/**
 * The MLLP front door with a real client socket and the real broker: AA only once the message is
 * on the HL7 topic; AR for what will never be taken; AE when Kafka is down (a closed port), so the
 * sender keeps the message; many connections at once.
 */
const svc = await integrationServices(['kafka']);
const logger = createLogger('silent');

const mdm = (id: string, type = 'MDM^T02^MDM_T02') =>
  Buffer.from(`MSH|^~\\&|EPIC|GH|MEDNER|GH|20260301093000||${type}|${id}-ctl|P|2.5.1\rPID|1||${id}-mrn^^^GH^MR\rTXA|1|DS|TX|||||||||${id}\rOBX|1|TX|18842-5||Stable.||||||F\r`, 'latin1');

/** One client connection: send frames (or raw bytes), collect the ACKs' MSA segments. */
async function exchange(port: number, payloads: Buffer[], raw = false): Promise<string[]> {
  const sock = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  const dec = new MllpDecoder(1_000_000);
  const acks: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    sock.on('data', (c: Buffer) => {
      for (const e of dec.push(c)) if (e.kind === 'frame') acks.push(e.bytes.toString('latin1').split('\r').find((s) => s.startsWith('MSA|')) ?? '');
      if (acks.length >= payloads.length) resolve();
    });
    sock.once('error', reject);
    setTimeout(() => reject(new Error(`only ${acks.length} of ${payloads.length} ACKs`)), 30_000).unref();
  });
  for (const p of payloads) sock.write(raw ? p : frame(p));
  await done;
  sock.destroy();
  return acks;
}

async function server(config: Config, brokers: string[], ackTimeoutMs = 15_000): Promise<{ srv: MllpServer; close(): Promise<void> }> {
  const producer = createProducer(createKafka({ brokers, clientId: `${config.kafka.clientId}-mllp` }, logger));
  const srv = await startMllpServer({ host: '127.0.0.1', port: 0, topic: inputTopic(config, 'hl7v2'), producer, logger, maxMessageBytes: 50_000, idleTimeoutMs: 60_000, ackTimeoutMs, maxConnections: 50 });
  return { srv, close: async () => (await srv.close(), await producer.close().catch(() => undefined)) };
}

/** Deletes the test's topics (best effort: a failure here must not hide the test's own). */
async function cleanup(config: Config) {
  const admin = await connectKafkaAdmin({ brokers: config.kafka.brokers, clientId: 'test-cleanup' });
  try {
    await admin.deleteTopics([inputTopic(config, 'hl7v2'), inputTopic(config, 'fhir'), config.topics.output, config.topics.deadLetter]).catch(() => undefined);
  } finally {
    await admin.close();
  }
}

test('MLLP: AA after Kafka stored it, AR for non-HL7, unsupported types, oversize and stray bytes; 8 connections at once', { skip: svc.skip, timeout: 120_000 }, async () => {
  if (!svc.ok) return;
  const config = await setupConfig(pipelineEnv({ ...svc.services, redisUrl: 'redis://127.0.0.1:6379', fhirBaseUrl: 'http://127.0.0.1:9/fhir' }, 'mllp'));
  const { srv, close } = await server(config, config.kafka.brokers);
  try {
    const acks = await exchange(srv.port, [mdm('M-1'), Buffer.from('not hl7 at all'), mdm('M-2', 'ADT^A01^ADT_A01'), Buffer.alloc(60_000, 0x41), mdm('M-3')]);
    assert.deepEqual(
      acks.map((a) => a.split('|').slice(0, 3).join('|')),
      ['MSA|AA|M-1-ctl', 'MSA|AR|', 'MSA|AR|M-2-ctl', 'MSA|AR|', 'MSA|AA|M-3-ctl'],
    );
    assert.match(acks[1]!, /NOT_HL7/);
    assert.match(acks[2]!, /UNSUPPORTED_EVENT/);
    assert.match(acks[3]!, /MESSAGE_TOO_LARGE/);
    // Stray bytes get an AR of their own; the valid frame after them is still taken.
    const stray = await exchange(srv.port, [Buffer.concat([Buffer.from('garbage'), frame(mdm('M-4'))]), Buffer.alloc(0)], true);
    assert.equal(stray.length, 2);
    assert.match(stray[0]!, /^MSA\|AR\|\|FRAMING/);
    assert.match(stray[1]!, /^MSA\|AA\|M-4-ctl/);

    const many = await Promise.all(Array.from({ length: 8 }, (_, i) => exchange(srv.port, [mdm(`C-${i}-a`), mdm(`C-${i}-b`)])));
    assert.deepEqual(many.flat().map((a) => a.split('|')[1]), Array(16).fill('AA'));

    const records = await readTopic(config, inputTopic(config, 'hl7v2'), 19, 30_000);
    assert.deepEqual(records.map((r) => r.key).sort(), ['M-1', 'M-3', 'M-4', ...Array.from({ length: 8 }, (_, i) => [`C-${i}-a`, `C-${i}-b`]).flat()].sort(), 'every AA is on the topic, nothing else');
    assert.ok(records.some((r) => r.value === mdm('M-1').toString('latin1')), 'bytes stored as sent');
  } finally {
    await close();
    await cleanup(config);
  }
});

test('MLLP: Kafka down (a closed port) answers AE, so the sender keeps the message', { skip: svc.skip, timeout: 60_000 }, async () => {
  if (!svc.ok) return;
  const config = await setupConfig(pipelineEnv({ ...svc.services, redisUrl: 'redis://127.0.0.1:6379', fhirBaseUrl: 'http://127.0.0.1:9/fhir' }, 'mllp-down'));
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const { srv, close } = await server(config, [`127.0.0.1:${port}`], 3_000);
  try {
    const acks = await exchange(srv.port, [mdm('D-1')]);
    assert.match(acks[0]!, /^MSA\|AE\|D-1-ctl\|KAFKA_UNAVAILABLE/);
  } finally {
    await close();
    await cleanup(config);
  }
});

test('MLLP over TLS: the handshake with the configured certificate, then AA', { skip: svc.skip, timeout: 60_000 }, async (t) => {
  if (!svc.ok) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medner-mllp-tls-'));
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1'], { encoding: 'utf8' });
  if (gen.status !== 0) {
    t.skip('openssl not available to make a test certificate');
    return;
  }
  const config = await setupConfig(pipelineEnv({ ...svc.services, redisUrl: 'redis://127.0.0.1:6379', fhirBaseUrl: 'http://127.0.0.1:9/fhir' }, 'mllp-tls'));
  const producer = createProducer(createKafka({ brokers: config.kafka.brokers, clientId: `${config.kafka.clientId}-mllp` }, logger));
  const srv = await startMllpServer({ host: '127.0.0.1', port: 0, topic: inputTopic(config, 'hl7v2'), producer, logger, maxMessageBytes: 50_000, idleTimeoutMs: 60_000, ackTimeoutMs: 15_000, maxConnections: 5, tls: { certFile, keyFile } });
  try {
    const sock = tls.connect({ host: '127.0.0.1', port: srv.port, ca: fs.readFileSync(certFile), servername: '127.0.0.1', checkServerIdentity: () => undefined });
    await new Promise<void>((resolve, reject) => sock.once('secureConnect', resolve).once('error', reject));
    const dec = new MllpDecoder(100_000);
    const ack = await new Promise<string>((resolve, reject) => {
      sock.on('data', (c: Buffer) => {
        for (const e of dec.push(c)) if (e.kind === 'frame') resolve(e.bytes.toString('latin1'));
      });
      sock.once('error', reject);
      sock.write(frame(mdm('T-1')));
    });
    sock.destroy();
    assert.match(ack, /\rMSA\|AA\|T-1-ctl\|/);
    // A plain-TCP client gets no ACK from a TLS listener.
    const plain = net.connect({ host: '127.0.0.1', port: srv.port });
    await new Promise<void>((r) => plain.once('connect', () => r()));
    plain.write(frame(mdm('T-2')));
    const got = await new Promise<string>((resolve) => {
      let buf = '';
      plain.on('data', (c: Buffer) => (buf += c.toString('latin1')));
      plain.once('close', () => resolve(buf));
      setTimeout(() => (plain.destroy(), resolve(buf)), 3_000).unref();
    });
    assert.doesNotMatch(got, /MSA\|AA/);
  } finally {
    await srv.close();
    await producer.close().catch(() => undefined);
    await cleanup(config);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
