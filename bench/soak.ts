/**
 * Soak: `npm run soak -- --docs N [--hostile-every K] [--kill-at 0.4] [--rss-bound-mb 2048] [--fhir]`
 *
 * N documents (generated HL7 v2 notes, with the project's hostile generator test/support/hostile.ts
 * mixed in: every K-th input is hostile) go through a real worker process (`medner worker`) on
 * topics, group and queue of their own, against the shared Kafka and Redis (and the FHIR server
 * with --fhir; else FHIR_WRITE=false: the Kafka output is the place of record). Fault: the worker
 * is SIGKILLed when `--kill-at` of the inputs are sent, and started again.
 * Checks at the end:
 *   placement: every input is in exactly the place its kind calls for: an output record (good
 *              notes), a dead-letter record with a reason code (hostile), or neither (empty
 *              record, tombstone: no document text);
 *   output duplicates: output records for the same input (a crash between the FHIR write and the
 *              commit re-runs a job: allowed on the topic, idempotent in the FHIR server; counted);
 *   RSS: the worker's peak resident memory (sampled from /proc every 250 ms) under --rss-bound-mb;
 *   PHI: no worker log line contains a name, MRN or note phrase of the inputs.
 * Writes bench-results/soak-<time>.json and prints a table. Not done here (shared services on the
 * development machine): restarting Kafka and stopping the FHIR server for 60 s.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import kafkajs from 'kafkajs';
import { loadConfig } from '../src/config/config.ts';
import { ensureTopics } from '../src/ingest/topics.ts';
import { connectKafkaAdmin } from '../src/ingest/kafka-admin.ts';
import { goodNote, hostileInput, type HostileInput } from '../test/support/hostile.ts';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
};
const N = Number(opt('docs', '300'));
const hostileEvery = Number(opt('hostile-every', '4'));
const killAt = Number(opt('kill-at', '0.4'));
const rssBoundMb = Number(opt('rss-bound-mb', '2048'));
const withFhir = args.includes('--fhir');
const timeoutS = Number(opt('timeout', '900'));
const run = `soak-${Date.now().toString(36)}`;
const outDir = 'bench-results';
fs.mkdirSync(outDir, { recursive: true });
const logFile = path.join(outDir, `${run}.worker.log`);

const env: Record<string, string> = {
  ...(process.env as Record<string, string>),
  TOPIC_HL7_IN: `${run}.hl7v2`,
  TOPIC_FHIR_IN: `${run}.fhir`,
  TOPIC_OUTPUT: `${run}.out`,
  TOPIC_DEAD_LETTER: `${run}.dead-letter`,
  KAFKA_GROUP_ID: `${run}.group`,
  KAFKA_CLIENT_ID: run,
  QUEUE_NAME: run,
  HTTP_PORT: '0',
  LOG_LEVEL: 'info',
  ...(withFhir ? {} : { FHIR_WRITE: 'false' }),
};
const config = loadConfig(env);
const { Kafka, logLevel } = kafkajs;
const kafka = new Kafka({ clientId: `${run}-bench`, brokers: config.kafka.brokers, logLevel: logLevel.NOTHING });

let rssPeakKb = 0;
const rssSamples: number[] = [];
function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function startWorker(): ChildProcess {
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker'], { env, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  return child;
}

async function waitForLog(text: string, since: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const all = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(since) : '';
    if (all.includes(text)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`worker did not log "${text}" within ${timeoutMs} ms`);
}

async function readAll(topic: string): Promise<{ headers: Record<string, string>; value: string }[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const want = ends.reduce((n, e) => n + Number(e.high) - Number(e.low), 0);
  if (want === 0) return [];
  const consumer = kafka.consumer({ groupId: `${run}-reader-${topic}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const out: { headers: Record<string, string>; value: string }[] = [];
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 60_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = String(Array.isArray(v) ? v[0] : v);
        out.push({ headers, value: message.value?.toString('utf8') ?? '' });
        if (out.length >= want) {
          clearTimeout(t);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return out;
}

async function main() {
  await ensureTopics(config);
  const t0 = Date.now();
  let worker = startWorker();
  const sampler = setInterval(() => {
    const kb = worker.pid ? rssOf(worker.pid) : 0;
    if (kb > 0) {
      rssSamples.push(kb);
      rssPeakKb = Math.max(rssPeakKb, kb);
    }
  }, 250);
  await waitForLog('ingest started', 0, 180_000);

  const inputs: (HostileInput & { partition?: number; offset?: string; topicName?: string })[] = [];
  let h = 0;
  for (let i = 0; i < N; i++) inputs.push(hostileEvery > 0 && i % hostileEvery === hostileEvery - 1 ? hostileInput(h++) : goodNote(i));
  const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  await producer.connect();
  let killed = false;
  let restartedAt: number | undefined;
  for (const [i, inp] of inputs.entries()) {
    const topic = inp.topic === 'hl7' ? config.topics.hl7In : config.topics.fhirIn;
    const [meta] = await producer.send({ topic, acks: -1, messages: [{ key: inp.key, value: inp.value }] });
    inp.topicName = topic;
    inp.partition = meta!.partition;
    inp.offset = meta!.baseOffset;
    if (!killed && i >= Math.floor(N * killAt)) {
      killed = true;
      worker.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 1000));
      const logSize = fs.statSync(logFile).size;
      worker = startWorker();
      restartedAt = Date.now();
      await waitForLog('ingest started', logSize, 180_000);
    }
  }
  await producer.disconnect();
  const sentAt = Date.now();

  // Done when the group's committed offsets reach the end of both input topics.
  const admin = kafka.admin();
  await admin.connect();
  const deadline = Date.now() + timeoutS * 1000;
  let drained = false;
  while (Date.now() < deadline) {
    let behind = 0;
    for (const topic of [config.topics.hl7In, config.topics.fhirIn]) {
      const ends = await admin.fetchTopicOffsets(topic);
      const [c] = await admin.fetchOffsets({ groupId: config.kafka.groupId, topics: [topic] });
      for (const e of ends) behind += Math.max(0, Number(e.high) - Math.max(0, Number(c?.partitions.find((p) => p.partition === e.partition)?.offset ?? 0)));
    }
    if (behind === 0) {
      drained = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  await admin.disconnect();
  const doneAt = Date.now();
  worker.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 3000));
  clearInterval(sampler);

  const outputs = await readAll(config.topics.output);
  const deads = await readAll(config.topics.deadLetter);
  const place = new Map<string, { out: number; dl: number; reasons: string[] }>();
  const k = (t: string, p: string | number, o: string) => `${t}/${p}@${o}`;
  for (const o of outputs) {
    const key = k(o.headers['medner-source-topic'] ?? '', o.headers['medner-source-partition'] ?? '', o.headers['medner-source-offset'] ?? '');
    const e = place.get(key) ?? { out: 0, dl: 0, reasons: [] };
    e.out++;
    place.set(key, e);
  }
  for (const d of deads) {
    const rec = JSON.parse(d.value) as { reasonCode: string; source: { topic: string; partition: number; offset: string } };
    const key = k(rec.source.topic, rec.source.partition, rec.source.offset);
    const e = place.get(key) ?? { out: 0, dl: 0, reasons: [] };
    e.dl++;
    e.reasons.push(rec.reasonCode);
    place.set(key, e);
  }
  const byKind = new Map<string, { n: number; ok: number; reasons: Set<string> }>();
  const wrong: string[] = [];
  let outputDuplicates = 0;
  let deadLetterDuplicates = 0;
  for (const inp of inputs) {
    const p = place.get(k(inp.topicName!, inp.partition!, inp.offset!)) ?? { out: 0, dl: 0, reasons: [] };
    const got = p.out > 0 && p.dl > 0 ? 'both' : p.out > 0 ? 'output' : p.dl > 0 ? 'dead-letter' : 'skip';
    if (p.out > 1) outputDuplicates += p.out - 1;
    if (p.dl > 1) deadLetterDuplicates += p.dl - 1;
    const s = byKind.get(inp.kind) ?? { n: 0, ok: 0, reasons: new Set<string>() };
    s.n++;
    if (got === inp.expect) s.ok++;
    else wrong.push(`${inp.kind} ${inp.key}: expected ${inp.expect}, got ${got}`);
    for (const r of p.reasons) s.reasons.add(r);
    byKind.set(inp.kind, s);
  }
  const log = fs.readFileSync(logFile, 'utf8');
  const phiHits = [...new Set(inputs.flatMap((i) => i.phi))].filter((v) => log.includes(v));
  const result = {
    run,
    date: new Date().toISOString(),
    docs: N,
    hostile: inputs.filter((i) => i.kind !== 'good').length,
    fhirWrite: withFhir,
    faults: [`worker SIGKILL after ${Math.floor(N * killAt)} inputs sent, restarted`],
    drained,
    seconds: { send: (sentAt - t0) / 1000, drainAfterSend: (doneAt - sentAt) / 1000, total: (doneAt - t0) / 1000, restartToReady: restartedAt ? undefined : undefined },
    placement: { correct: inputs.length - wrong.length, wrong: wrong.length, examples: wrong.slice(0, 10) },
    outputDuplicates,
    deadLetterDuplicates,
    byKind: Object.fromEntries([...byKind].map(([kind, s]) => [kind, { n: s.n, ok: s.ok, reasons: [...s.reasons].sort() }])),
    rss: { peakMb: Math.round(rssPeakKb / 1024), boundMb: rssBoundMb, withinBound: rssPeakKb / 1024 <= rssBoundMb, samples: rssSamples.length, medianMb: Math.round((rssSamples.sort((a, b) => a - b)[Math.floor(rssSamples.length / 2)] ?? 0) / 1024) },
    phi: { valuesChecked: new Set(inputs.flatMap((i) => i.phi)).size, logLines: log.split('\n').length, hits: phiHits.length, examples: phiHits.slice(0, 3).map((v) => `${v.slice(0, 3)}...`) },
    pass: drained && wrong.length === 0 && rssPeakKb / 1024 <= rssBoundMb && phiHits.length === 0,
  };
  const file = path.join(outDir, `${run}.json`);
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nsoak ${run}: ${N} inputs (${result.hostile} hostile), FHIR ${withFhir ? 'on' : 'off (Kafka output)'}, worker SIGKILLed once`);
  console.log('| kind | inputs | in the right place | reason codes |');
  console.log('| --- | --- | --- | --- |');
  for (const [kind, s] of Object.entries(result.byKind)) console.log(`| ${kind} | ${s.n} | ${s.ok} | ${s.reasons.join(', ') || '-'} |`);
  console.log(`\ndrained: ${drained} in ${result.seconds.total.toFixed(0)} s; misplaced: ${wrong.length}; output duplicates: ${outputDuplicates}; dead-letter duplicates: ${deadLetterDuplicates}`);
  console.log(`worker RSS peak ${result.rss.peakMb} MB (median ${result.rss.medianMb} MB, bound ${rssBoundMb} MB); PHI values found in ${result.phi.logLines} log lines: ${phiHits.length}`);
  console.log(`${result.pass ? 'PASS' : 'FAIL'}; JSON: ${file}; worker log: ${logFile}`);

  const a = await connectKafkaAdmin({ brokers: config.kafka.brokers, clientId: `${run}-cleanup` });
  await a.deleteTopics([config.topics.hl7In, config.topics.fhirIn, config.topics.output, config.topics.deadLetter]).catch(() => undefined);
  await a.close();
  process.exit(result.pass ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
