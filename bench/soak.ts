/**
 * Soak (issue 20): `npm run soak -- --docs N [options]`
 *
 * N inputs (Synthea-like HL7 v2 notes from test/support/hostile.ts goodNote, with the project's
 * hostile generator mixed in: every K-th input, plus one burst of hostile messages) go through a
 * real worker process (`medner worker`, FHIR writes on) against a Kafka broker and a HAPI FHIR
 * server that the soak starts itself (src/stack, its own STACK_DIR and ports, PostgreSQL database
 * medner_soak or H2 under that STACK_DIR), never the shared ones; Redis is REDIS_URL's, with a
 * queue of the run's own (its keys are deleted at the end).
 *
 * Fault schedule, each at a fraction of the inputs sent (`--faults` picks a subset):
 *   kill   SIGKILL the worker (inference included: role all) and start it again   (--kill-at 0.2)
 *   kafka  stop the broker and start it again                                      (--kafka-at 0.45)
 *   fhir   stop the FHIR server for --fhir-outage-s seconds, then start it         (--fhir-at 0.7, 60 s)
 *   burst  --burst consecutive hostile messages                                    (--burst-at 0.6, 44)
 *
 * Checks at the end:
 *   placement   every input in exactly one of two places: a good note's resources in the FHIR
 *               server, identical to a clean run (`medner verify --json` on the same documents:
 *               the same model run offline, compared with what the server holds, ids and content
 *               minus meta) and no dead letter; a hostile input on the dead-letter topic with a
 *               reason code and no Provenance. DocumentReference written during the run: one per
 *               good note; Provenance: one per good note that has one in the clean run (a note in
 *               which the model finds nothing has no derived resource, so no Provenance).
 *   versions    no resource written during the run has a second version (meta.versionId of every
 *               resource of the ten types we write, last updated since the start);
 *   RSS         the worker's peak resident memory (sampled from /proc every 250 ms) under --rss-bound-mb;
 *   stall       longest time the group's committed input offsets did not move while inputs were
 *               waiting (reported next to the FHIR outage, which it should not exceed by much);
 *   crashes     worker exits the soak did not cause;
 *   PHI         no line of the worker's log (nor of the soak stack's FHIR server and Kafka logs
 *               written during the run) contains a name, MRN or note phrase of the inputs.
 * Writes bench-results/<run>.json and prints a table. Exit 0 when every check passes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import kafkajs from 'kafkajs';
import type * as fhir4 from 'fhir/r4.js';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config/config.ts';
import { ensureTopics } from '../src/ingest/topics.ts';
import { createFhirServerService } from '../src/stack/fhir-server.ts';
import { createKafkaService } from '../src/stack/kafka.ts';
import type { ManagedService } from '../src/stack/service.ts';
import { goodNote, hostileInput, type HostileInput } from '../test/support/hostile.ts';
import { inputTopic } from '../src/formats/registry.ts';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
};
const N = Number(opt('docs', '300'));
const hostileEvery = Number(opt('hostile-every', '10'));
const burst = Number(opt('burst', '44'));
const faults = new Set(opt('faults', 'kill,kafka,fhir,burst').split(',').filter((f) => f !== '' && f !== 'none'));
for (const f of faults) if (!['kill', 'kafka', 'fhir', 'burst'].includes(f)) throw new Error(`--faults: unknown fault ${f} (kill, kafka, fhir, burst, none)`);
const at = { kill: Number(opt('kill-at', '0.2')), kafka: Number(opt('kafka-at', '0.45')), burst: Number(opt('burst-at', '0.6')), fhir: Number(opt('fhir-at', '0.7')) };
const fhirOutageS = Number(opt('fhir-outage-s', '60'));
const rssBoundMb = Number(opt('rss-bound-mb', '2048'));
const timeoutS = Number(opt('timeout', '3600'));
const stackDirArg = path.resolve(opt('stack-dir', '.stack-soak'));
const kafkaPort = Number(opt('kafka-port', '29092'));
const fhirPort = Number(opt('fhir-port', '28080'));
const pgDatabase = opt('pg-database', 'medner_soak');
// `own`: a FHIR server the soak starts (and stops at the end); `env`: the one at FHIR_BASE_URL (npm test's own),
// faulted only when --fhir-stack-dir started it (its pid file is there).
const fhirMode = opt('fhir', 'own');
if (fhirMode !== 'own' && fhirMode !== 'env') throw new Error('--fhir: own or env');
const fhirStackDir = path.resolve(opt('fhir-stack-dir', stackDirArg));
// `stop`: the server is stopped and started again (a start takes HAPI 30 s to minutes); `pause`: SIGSTOP, then SIGCONT (a hung server).
const fhirFault = opt('fhir-fault', 'stop');
if (fhirFault !== 'stop' && fhirFault !== 'pause') throw new Error('--fhir-fault: stop or pause');
const keepStack = args.includes('--keep-stack');
const run = `soak-${Date.now().toString(36)}`;
// Document ids and MRNs unique to the run: the soak's FHIR database outlives a run (faster starts).
const seed = Number(opt('seed', String(Date.now() % 1_000_000_000)));
const outDir = path.resolve('bench-results');
const runDir = path.join(outDir, run);
fs.mkdirSync(runDir, { recursive: true });
const logFile = path.join(outDir, `${run}.worker.log`);
const say = (line: string) => process.stderr.write(`[soak ${((Date.now() - T0) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
const T0 = Date.now();

const env: Record<string, string> = {
  ...(process.env as Record<string, string>),
  KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
  FHIR_BASE_URL: fhirMode === 'env' ? (process.env.FHIR_BASE_URL ?? 'http://127.0.0.1:8080/fhir') : `http://127.0.0.1:${fhirPort}/fhir`,
  STACK_DIR: stackDirArg,
  TOPIC_HL7_IN: `${run}.hl7v2`,
  TOPIC_FHIR_IN: `${run}.fhir`,
  TOPIC_OUTPUT: `${run}.out`,
  TOPIC_DEAD_LETTER: `${run}.dead-letter`,
  KAFKA_GROUP_ID: `${run}.group`,
  KAFKA_CLIENT_ID: run,
  QUEUE_NAME: run,
  HTTP_PORT: '0',
  LOG_LEVEL: 'info',
  FHIR_WRITE: 'true',
  OUTPUT_SINK: 'fhir',
};
delete env.NDJSON_DIR;
const config = loadConfig(env);
const { Kafka, logLevel } = kafkajs;
const kafka = new Kafka({ clientId: `${run}-bench`, brokers: config.kafka.brokers, logLevel: logLevel.NOTHING, retry: { retries: 3 } });
const kafkaSvc: ManagedService = createKafkaService(config, { readyTimeoutMs: 600_000 });
// A HAPI start on a loaded 2-core machine took over 5 minutes (2026-12-01).
const fhirSvc: ManagedService = createFhirServerService(fhirMode === 'env' ? loadConfig({ ...env, STACK_DIR: fhirStackDir }) : config, { pgDatabase, readyTimeoutMs: 900_000 });
let pausedPid: number | undefined;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- the worker: spawned, RSS sampled, unexpected exits counted (and the worker started again)
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
let worker: ChildProcess;
let expectingExit = false;
let crashes = 0;
function startWorker(): ChildProcess {
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker'], { env, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  child.on('exit', (code, signal) => {
    if (expectingExit || child !== worker) return;
    crashes++;
    say(`worker exited unexpectedly (${code ?? signal}); starting it again`);
    worker = startWorker();
  });
  return child;
}

async function waitForLog(text: string, since: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const all = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(since) : '';
    if (all.includes(text)) return;
    await sleep(500);
  }
  throw new Error(`worker did not log "${text}" within ${timeoutMs} ms`);
}

// ---- Kafka reads
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
    const t = setTimeout(resolve, 120_000);
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

/** Committed offsets of the worker's group summed over both input topics; undefined while Kafka does not answer. */
let progressAdmin: kafkajs.Admin | undefined;
async function committedTotal(): Promise<number | undefined> {
  try {
    if (!progressAdmin) {
      progressAdmin = kafka.admin();
      await progressAdmin.connect();
    }
    let n = 0;
    for (const topic of [inputTopic(config, 'hl7v2'), inputTopic(config, 'fhir')]) {
      const [c] = await progressAdmin.fetchOffsets({ groupId: config.kafka.groupId, topics: [topic] });
      for (const p of c?.partitions ?? []) n += Math.max(0, Number(p.offset));
    }
    return n;
  } catch {
    await progressAdmin?.disconnect().catch(() => undefined);
    progressAdmin = undefined;
    return undefined;
  }
}

// ---- FHIR reads
async function fhirJson(url: string): Promise<fhir4.Bundle> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(url, { headers: { accept: 'application/fhir+json' }, signal: AbortSignal.timeout(120_000) });
      if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
      return (await res.json()) as fhir4.Bundle;
    } catch (err) {
      if (attempt >= 5) throw err;
      await sleep(2_000 * attempt);
    }
  }
}

const WRITTEN_TYPES = ['Patient', 'DocumentReference', 'Provenance', 'Device', 'Condition', 'Observation', 'MedicationStatement', 'Procedure', 'FamilyMemberHistory', 'AllergyIntolerance'];

/** Every resource of our types last updated since `since`: count and those at a version above 1. */
async function versionsSince(since: Date): Promise<{ byType: Record<string, number>; bumped: string[] }> {
  const byType: Record<string, number> = {};
  const bumped: string[] = [];
  for (const type of WRITTEN_TYPES) {
    let url: string | undefined = `${config.fhir.baseUrl}/${type}?_lastUpdated=ge${since.toISOString()}&_count=1000&_elements=id&_total=none`;
    let n = 0;
    while (url) {
      const b = await fhirJson(url);
      for (const e of b.entry ?? []) {
        n++;
        const v = e.resource?.meta?.versionId;
        if (v !== undefined && v !== '1') bumped.push(`${type}/${e.resource!.id}/_history/${v}`);
      }
      url = b.link?.find((l) => l.relation === 'next')?.url;
    }
    byType[type] = n;
  }
  return { byType, bumped };
}

/** `medner verify --json` on the good notes: one line per document, whether the server holds exactly what a clean run writes. */
async function verifyFiles(files: string[]): Promise<Map<string, { same: boolean; provenance: boolean; counts?: unknown; changed?: unknown }>> {
  const out = new Map<string, { same: boolean; provenance: boolean; counts?: unknown; changed?: unknown }>();
  // A process per 1,000 documents (verify itself runs them 100 at a time through the model, 8 reads at a time),
  // the file names in a list file rather than on the command line.
  const CHUNK = 1000;
  for (let i = 0; i < files.length; i += CHUNK) {
    const list = path.join(runDir, `verify-${i}.txt`);
    fs.writeFileSync(list, `${files.slice(i, i + CHUNK).join('\n')}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'verify', '--json', '--files-from', list], { env: { ...env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    if (code !== 0 && code !== 3) say(`verify exited ${code}: ${stderr.slice(-400)}`);
    for (const line of stdout.split('\n')) {
      if (!line.startsWith('{')) continue;
      const r = JSON.parse(line) as { documentId: string; same: boolean; counts: unknown; updated?: string[]; created?: string[]; unchanged?: string[]; changedFields?: unknown };
      // Whether a clean run writes a Provenance for it: only a document with at least one derived resource has one.
      const provenance = [...(r.unchanged ?? []), ...(r.created ?? []), ...(r.updated ?? [])].some((u) => u.startsWith('Provenance/'));
      out.set(r.documentId, { same: r.same, provenance, counts: r.counts, ...(r.same ? {} : { changed: { created: r.created?.slice(0, 5), updated: r.updated?.slice(0, 5), fields: r.changedFields } }) });
    }
  }
  return out;
}

function logPhiHits(file: string, since: number, values: string[]): { lines: number; hits: string[] } {
  if (!fs.existsSync(file)) return { lines: 0, hits: [] };
  const fd = fs.openSync(file, 'r');
  const size = fs.fstatSync(fd).size;
  const buf = Buffer.alloc(Math.max(0, size - since));
  fs.readSync(fd, buf, 0, buf.length, since);
  fs.closeSync(fd);
  const text = buf.toString('utf8');
  return { lines: text.split('\n').length, hits: values.filter((v) => text.includes(v)) };
}
const sizeOf = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);

async function cleanup(): Promise<void> {
  await progressAdmin?.disconnect().catch(() => undefined);
  try {
    const a = kafka.admin();
    await a.connect();
    await a.deleteTopics({ topics: [inputTopic(config, 'hl7v2'), inputTopic(config, 'fhir'), config.topics.output, config.topics.deadLetter], timeout: 30_000 }).catch(() => undefined);
    await a.disconnect();
  } catch {
    /* the broker is gone: nothing to delete */
  }
  const redis = new Redis(config.redis.url, { maxRetriesPerRequest: 2, lazyConnect: true });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*:${run}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } catch {
    /* best effort */
  } finally {
    redis.disconnect();
  }
  if (pausedPid !== undefined) process.kill(pausedPid, 'SIGCONT');
  if (!keepStack) {
    for (const s of fhirMode === 'own' ? [fhirSvc, kafkaSvc] : [kafkaSvc]) await s.down().catch((err: unknown) => say(`${s.name}: could not be stopped: ${String(err)}`));
    say('soak stack stopped');
  }
}

async function main() {
  // ---- the soak's own stack
  const ownServices = fhirMode === 'own' ? [kafkaSvc, fhirSvc] : [kafkaSvc];
  for (const s of ownServices) {
    const st = await s.status();
    if (st.up && !st.managed) throw new Error(`${s.name} at ${s.address} answers but was not started from ${stackDirArg}: the soak injects faults only into a stack of its own (use --kafka-port/--fhir-port)`);
  }
  if (fhirMode === 'env') {
    const st = await fhirSvc.status();
    if (!st.up) throw new Error(`--fhir env: no FHIR server answers at ${fhirSvc.address}`);
    if (faults.has('fhir') && !st.managed) throw new Error(`--fhir env: ${fhirSvc.address} was not started from ${fhirStackDir} (--fhir-stack-dir): no FHIR fault on someone else's server; leave fhir out of --faults`);
  }
  say(`starting the soak stack in ${stackDirArg}: Kafka ${kafkaSvc.address}, FHIR ${fhirSvc.address}${fhirMode === 'env' ? ' (given)' : ''}`);
  const tStack = Date.now();
  await Promise.all(ownServices.map((s) => s.up()));
  const stackStartS = (Date.now() - tStack) / 1000;
  say(`stack up in ${stackStartS.toFixed(0)} s`);
  const fhirLog = path.join(fhirMode === 'env' ? fhirStackDir : stackDirArg, 'fhir-server.log');
  const kafkaLog = path.join(stackDirArg, 'kafka', 'kafka.log');
  const logStart = { fhir: sizeOf(fhirLog), kafka: sizeOf(kafkaLog) };
  await ensureTopics(config);

  // ---- inputs
  const inputs: (HostileInput & { partition?: number; offset?: string; topicName?: string; file?: string })[] = [];
  let h = 0;
  const burstFrom = faults.has('burst') ? Math.floor(N * at.burst) : -1;
  for (let i = 0; i < N; i++) {
    if (i === burstFrom) for (let b = 0; b < burst; b++) inputs.push(hostileInput(h++, seed));
    inputs.push(hostileEvery > 0 && i % hostileEvery === hostileEvery - 1 ? hostileInput(h++, seed) : goodNote(i, seed));
  }
  const total = inputs.length;
  const goodDir = path.join(runDir, 'good');
  fs.mkdirSync(goodDir, { recursive: true });
  for (const [i, inp] of inputs.entries()) {
    if (inp.kind !== 'good') continue;
    inp.file = path.join(goodDir, `${String(i).padStart(6, '0')}.hl7`);
    fs.writeFileSync(inp.file, inp.value!);
  }

  const since = new Date(Date.now() - 5_000);
  const t0 = Date.now();
  worker = startWorker();
  const sampler = setInterval(() => {
    const kb = worker.pid ? rssOf(worker.pid) : 0;
    if (kb > 0) {
      rssSamples.push(kb);
      rssPeakKb = Math.max(rssPeakKb, kb);
    }
  }, 250);
  await waitForLog('ingest started', 0, 300_000);
  say(`worker started; sending ${total} inputs (${inputs.filter((i) => i.kind !== 'good').length} hostile)`);

  // ---- progress (stall) sampler: longest time the committed offsets stood still with inputs waiting
  let sent = 0;
  let lastCommitted = -1;
  let lastMoveAt = Date.now();
  let stallMaxMs = 0;
  let stallMaxEndedAt = 0;
  let progressTimer: NodeJS.Timeout | undefined;
  const sampleProgress = async () => {
    const c = await committedTotal();
    const now = Date.now();
    if (c !== undefined && c !== lastCommitted) {
      lastCommitted = c;
      lastMoveAt = now;
    } else if (lastCommitted >= sent) {
      lastMoveAt = now; // nothing waiting: not a stall
    } else if (now - lastMoveAt > stallMaxMs) {
      stallMaxMs = now - lastMoveAt;
      stallMaxEndedAt = now;
    }
    progressTimer = setTimeout(() => void sampleProgress(), 2_000);
  };
  void sampleProgress();

  // ---- send, applying the faults at their points
  const applied: { fault: string; afterInputs: number; atS: number; seconds: number; detail?: string }[] = [];
  let producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  await producer.connect();
  const due = (f: 'kill' | 'kafka' | 'fhir', i: number) => faults.has(f) && !applied.some((a) => a.fault.startsWith(f)) && i >= Math.floor(total * at[f]);
  let fhirBack: Promise<void> | undefined;
  for (const [i, inp] of inputs.entries()) {
    if (due('kill', i)) {
      const t = Date.now();
      expectingExit = true;
      worker.kill('SIGKILL');
      await new Promise((r) => worker.once('exit', r));
      expectingExit = false;
      const logSize = sizeOf(logFile);
      worker = startWorker();
      await waitForLog('ingest started', logSize, 300_000);
      applied.push({ fault: 'kill: worker SIGKILLed, started again', afterInputs: i, atS: (t - t0) / 1000, seconds: (Date.now() - t) / 1000, detail: 'seconds: until the new worker consumes' });
      say(`worker SIGKILLed after ${i} inputs, consuming again after ${applied.at(-1)!.seconds.toFixed(0)} s`);
    }
    if (due('kafka', i)) {
      const t = Date.now();
      await producer.disconnect().catch(() => undefined);
      await kafkaSvc.down();
      const stopped = Date.now();
      await kafkaSvc.up();
      producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
      await producer.connect();
      applied.push({ fault: 'kafka: broker stopped and started', afterInputs: i, atS: (t - t0) / 1000, seconds: (Date.now() - t) / 1000, detail: `stop ${((stopped - t) / 1000).toFixed(1)} s, start ${((Date.now() - stopped) / 1000).toFixed(1)} s` });
      say(`Kafka restarted after ${i} inputs (${applied.at(-1)!.seconds.toFixed(0)} s without a broker)`);
    }
    if (due('fhir', i)) {
      const t = Date.now();
      const entry = { fault: `fhir: server ${fhirFault === 'stop' ? 'stopped' : 'paused (SIGSTOP)'} for ${fhirOutageS} s, then ${fhirFault === 'stop' ? 'started' : 'resumed'}`, afterInputs: i, atS: (t - t0) / 1000, seconds: 0, detail: '' };
      if (fhirFault === 'stop') await fhirSvc.down();
      else {
        pausedPid = (await fhirSvc.status()).pid;
        if (pausedPid === undefined) throw new Error('the FHIR server has no pid of ours to pause');
        process.kill(pausedPid, 'SIGSTOP');
      }
      applied.push(entry);
      say(`FHIR server ${fhirFault === 'stop' ? 'stopped' : 'paused'} after ${i} inputs`);
      fhirBack = (async () => {
        await sleep(fhirOutageS * 1000);
        const s = Date.now();
        if (fhirFault === 'stop') await fhirSvc.up();
        else {
          process.kill(pausedPid!, 'SIGCONT');
          pausedPid = undefined;
          while (!(await fhirSvc.isUp())) await sleep(500);
        }
        entry.seconds = (Date.now() - t) / 1000;
        entry.detail = `seconds: until it answered again (${fhirFault === 'stop' ? 'start' : 'resume'} took ${((Date.now() - s) / 1000).toFixed(0)} s)`;
        say(`FHIR server answers again, ${entry.seconds.toFixed(0)} s after the fault`);
      })();
    }
    if (i === burstFrom) applied.push({ fault: `burst: ${burst} hostile messages in a row`, afterInputs: i, atS: (Date.now() - t0) / 1000, seconds: 0 });
    const topic = inp.topic === 'hl7' ? inputTopic(config, 'hl7v2') : inputTopic(config, 'fhir');
    const [meta] = await producer.send({ topic, acks: -1, messages: [{ key: inp.key, value: inp.value }] });
    inp.topicName = topic;
    inp.partition = meta!.partition;
    inp.offset = meta!.baseOffset;
    sent = i + 1;
  }
  await producer.disconnect();
  const sentAt = Date.now();
  say('all inputs sent; waiting for the worker to commit them');
  await fhirBack;

  // ---- drained when the group's committed offsets reach the end of both input topics
  const admin = kafka.admin();
  await admin.connect();
  const deadline = Date.now() + timeoutS * 1000;
  let drained = false;
  while (Date.now() < deadline) {
    let behind = 0;
    try {
      for (const topic of [inputTopic(config, 'hl7v2'), inputTopic(config, 'fhir')]) {
        const ends = await admin.fetchTopicOffsets(topic);
        const [c] = await admin.fetchOffsets({ groupId: config.kafka.groupId, topics: [topic] });
        for (const e of ends) behind += Math.max(0, Number(e.high) - Math.max(0, Number(c?.partitions.find((p) => p.partition === e.partition)?.offset ?? 0)));
      }
    } catch {
      behind = -1;
    }
    if (behind === 0) {
      drained = true;
      break;
    }
    await sleep(2_000);
  }
  await admin.disconnect();
  const doneAt = Date.now();
  clearTimeout(progressTimer);
  expectingExit = true;
  worker.kill('SIGTERM');
  await Promise.race([new Promise((r) => worker.once('exit', r)), sleep(30_000)]);
  clearInterval(sampler);
  say(`drained: ${drained} after ${((doneAt - t0) / 1000).toFixed(0)} s; checking`);

  // ---- where each input went
  const deads = await readAll(config.topics.deadLetter);
  const place = new Map<string, { dl: number; reasons: string[] }>();
  const k = (t: string, p: string | number, o: string) => `${t}/${p}@${o}`;
  for (const d of deads) {
    const rec = JSON.parse(d.value) as { reasonCode: string; source: { topic: string; partition: number; offset: string } };
    const key = k(rec.source.topic, rec.source.partition, rec.source.offset);
    const e = place.get(key) ?? { dl: 0, reasons: [] };
    e.dl++;
    e.reasons.push(rec.reasonCode);
    place.set(key, e);
  }
  const tVerify = Date.now();
  const verified = await verifyFiles(inputs.filter((i) => i.kind === 'good').map((i) => i.file!));
  const verifyS = (Date.now() - tVerify) / 1000;
  const versions = await versionsSince(since);

  const byKind = new Map<string, { n: number; ok: number; reasons: Set<string> }>();
  const deadLetterReasons: Record<string, number> = {};
  const wrong: string[] = [];
  const differs: unknown[] = [];
  let lost = 0;
  let inBoth = 0;
  let deadLetterDuplicates = 0;
  for (const inp of inputs) {
    const p = place.get(k(inp.topicName!, inp.partition!, inp.offset!)) ?? { dl: 0, reasons: [] };
    const v = inp.kind === 'good' ? verified.get(inp.key) : undefined;
    const inFhir = v?.same === true;
    if (p.dl > 1) deadLetterDuplicates += p.dl - 1;
    for (const r of p.reasons) deadLetterReasons[r] = (deadLetterReasons[r] ?? 0) + 1;
    // On the server but not as a clean run writes it (some resources there, others differ or missing): not lost.
    const partly = v !== undefined && !v.same && ((v.counts as { unchanged?: number } | undefined)?.unchanged ?? 0) > 0;
    const got = inFhir && p.dl > 0 ? 'both' : inFhir ? 'fhir' : p.dl > 0 ? 'dead-letter' : partly ? 'fhir-differs' : 'nowhere';
    if (got === 'both') inBoth++;
    if (got === 'nowhere') lost++;
    if (v && !v.same) differs.push({ key: inp.key, ...v });
    const want = inp.kind === 'good' ? 'fhir' : 'dead-letter';
    const ok = got === want && (want !== 'dead-letter' || p.reasons.every((r) => r !== ''));
    const s = byKind.get(inp.kind) ?? { n: 0, ok: 0, reasons: new Set<string>() };
    s.n++;
    if (ok) s.ok++;
    else wrong.push(`${inp.kind} ${inp.key}: expected ${want}, got ${got}${p.reasons.length ? ` (${p.reasons.join(',')})` : ''}${v && !v.same ? ' (server differs from a clean run)' : ''}`);
    for (const r of p.reasons) s.reasons.add(r);
    byKind.set(inp.kind, s);
  }
  const good = inputs.filter((i) => i.kind === 'good').length;
  const phiValues = [...new Set(inputs.flatMap((i) => i.phi))];
  const phiWorker = logPhiHits(logFile, 0, phiValues);
  const phiFhir = logPhiHits(fhirLog, logStart.fhir, phiValues);
  const phiKafka = logPhiHits(kafkaLog, logStart.kafka, phiValues);
  const fhirOutage = applied.find((a) => a.fault.startsWith('fhir'));
  const rssSorted = [...rssSamples].sort((a, b) => a - b);
  // One DocumentReference per note; one Provenance per note that a clean run gives one (a note with no entity has none).
  const provenanceExpected = verified.size === good ? [...verified.values()].filter((v) => v.provenance).length : good;
  const perDocOk = versions.byType.Provenance === provenanceExpected && versions.byType.DocumentReference === good;
  const result = {
    run,
    date: new Date().toISOString(),
    docs: N,
    inputs: total,
    good,
    hostile: total - good,
    seed,
    fhirWrite: true,
    stack: { dir: stackDirArg, kafka: kafkaSvc.address, fhir: fhirSvc.address, fhirGiven: fhirMode === 'env', startSeconds: stackStartS },
    faults: applied,
    drained,
    seconds: { send: (sentAt - t0) / 1000, drainAfterSend: (doneAt - sentAt) / 1000, total: (doneAt - t0) / 1000, verify: verifyS },
    placement: { correct: total - wrong.length, wrong: wrong.length, lost, inBoth, examples: wrong.slice(0, 10) },
    cleanRunComparison: { documents: verified.size, same: [...verified.values()].filter((v) => v.same).length, differs: differs.length, examples: differs.slice(0, 3) },
    fhirResourcesWritten: { ...versions.byType, provenanceExpected, onePerDocument: perDocOk },
    newVersions: { count: versions.bumped.length, examples: versions.bumped.slice(0, 10) },
    deadLetters: { records: deads.length, byReason: deadLetterReasons, duplicates: deadLetterDuplicates },
    byKind: Object.fromEntries([...byKind].map(([kind, s]) => [kind, { n: s.n, ok: s.ok, reasons: [...s.reasons].sort() }])),
    workerCrashes: crashes,
    stall: { maxSeconds: stallMaxMs / 1000, endedAtS: stallMaxEndedAt ? (stallMaxEndedAt - t0) / 1000 : 0, fhirOutageSeconds: fhirOutage?.seconds ?? 0 },
    rss: { peakMb: Math.round(rssPeakKb / 1024), boundMb: rssBoundMb, withinBound: rssPeakKb / 1024 <= rssBoundMb, samples: rssSamples.length, medianMb: Math.round((rssSorted[Math.floor(rssSorted.length / 2)] ?? 0) / 1024) },
    phi: {
      valuesChecked: phiValues.length,
      workerLogLines: phiWorker.lines,
      hits: phiWorker.hits.length,
      fhirServerLogHits: phiFhir.hits.length,
      kafkaLogHits: phiKafka.hits.length,
      examples: [...phiWorker.hits, ...phiFhir.hits, ...phiKafka.hits].slice(0, 3).map((v) => `${v.slice(0, 3)}...`),
    },
    pass: false,
  };
  result.pass =
    drained &&
    wrong.length === 0 &&
    perDocOk &&
    versions.bumped.length === 0 &&
    crashes === 0 &&
    result.rss.withinBound &&
    phiWorker.hits.length + phiFhir.hits.length + phiKafka.hits.length === 0;
  const file = path.join(outDir, `${run}.json`);
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

  console.log(`\nsoak ${run}: ${total} inputs (${good} good, ${result.hostile} hostile), FHIR writes on, stack of its own (${stackDirArg})`);
  console.log('| fault | after input | at s | seconds |');
  console.log('| --- | --- | --- | --- |');
  for (const a of applied) console.log(`| ${a.fault} | ${a.afterInputs} | ${a.atS.toFixed(0)} | ${a.seconds.toFixed(0)} |`);
  console.log('\n| kind | inputs | in the right place | reason codes |');
  console.log('| --- | --- | --- | --- |');
  for (const [kind, s] of Object.entries(result.byKind)) console.log(`| ${kind} | ${s.n} | ${s.ok} | ${s.reasons.join(', ') || '-'} |`);
  console.log('\n| check | result |');
  console.log('| --- | --- |');
  console.log(`| drained | ${drained} in ${result.seconds.total.toFixed(0)} s (send ${result.seconds.send.toFixed(0)} s) |`);
  console.log(`| misplaced / lost / in both places | ${wrong.length} / ${lost} / ${inBoth} |`);
  console.log(`| server = clean run (medner verify) | ${result.cleanRunComparison.same} / ${good} |`);
  console.log(`| Provenance / DocumentReference written | ${versions.byType.Provenance} / ${versions.byType.DocumentReference} (good notes: ${good}, ${provenanceExpected} with a Provenance in a clean run) |`);
  console.log(`| resources at a version above 1 | ${versions.bumped.length} |`);
  console.log(`| dead letters | ${deads.length} (duplicates ${deadLetterDuplicates}): ${Object.entries(deadLetterReasons).map(([r, n]) => `${r} ${n}`).join(', ') || '-'} |`);
  console.log(`| worker crashes | ${crashes} |`);
  console.log(`| longest stall | ${result.stall.maxSeconds.toFixed(0)} s (FHIR outage ${result.stall.fhirOutageSeconds.toFixed(0)} s) |`);
  console.log(`| worker RSS | peak ${result.rss.peakMb} MB, median ${result.rss.medianMb} MB (bound ${rssBoundMb} MB) |`);
  console.log(`| PHI in logs | worker ${phiWorker.hits.length} (${phiWorker.lines} lines), FHIR server ${phiFhir.hits.length}, Kafka ${phiKafka.hits.length} |`);
  console.log(`${result.pass ? 'PASS' : 'FAIL'}; JSON: ${file}; worker log: ${logFile}`);
  if (result.pass) fs.rmSync(runDir, { recursive: true, force: true });
  return result.pass;
}

let pass = false;
try {
  pass = await main();
} catch (err) {
  console.error(err);
}
expectingExit = true;
if (worker! && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
await cleanup();
process.exit(pass ? 0 : 1);
