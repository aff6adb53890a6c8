/**
 * bench:scale: one ingest process and 1..N inference processes (separate `medner worker`
 * processes, as on separate machines) on the same Kafka and Redis. For each N: fresh topics,
 * group and queue; the documents are put on the input topic, then the clock runs until every
 * input offset is committed; documents/s against N, each inference process with
 * INTRA_OP_THREADS = max(1, floor(cores / N)) and one session, so the N processes share the cores
 * fairly. Then the output topic is read whole: every document exactly once (none lost, none twice).
 *
 *   npm run bench:scale -- [--docs 200] [--max 4] [--fhir]     (needs the stack: Kafka, Redis, FHIR)
 *
 * Prints a table and writes bench-results/scale.json. Without --fhir the workers write the output
 * topic only (FHIR_WRITE=false), so the numbers are the pipeline's, not the FHIR server's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import kafkajs from 'kafkajs';
import { loadConfig, type Config } from '../src/config/config.ts';
import { kafkaConnectionConfig } from '../src/kafka/security.ts';
import { ensureTopics } from '../src/ingest/topics.ts';
import { REPO_ROOT } from '../src/stack/paths.ts';
import { generatedHl7 } from './generated-notes.ts';
import { inputTopic } from '../src/formats/registry.ts';

const { Kafka, logLevel, Partitioners } = kafkajs;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] && !process.argv[i + 1]!.startsWith('--') ? process.argv[i + 1]! : fallback;
}
const DOCS = Number(arg('docs', '200'));
const MAX = Number(arg('max', '4'));
const FHIR = process.argv.includes('--fhir');
const CORES = os.availableParallelism();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row {
  inference: number;
  intraOpThreads: number;
  docs: number;
  seconds: number;
  docsPerSecond: number;
  outputs: number;
  distinct: number;
  lost: number;
  duplicated: number;
}

function spawnWorker(role: 'ingest' | 'inference', env: Record<string, string>, log: string): ChildProcess {
  const out = fs.openSync(log, 'a');
  return spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), 'worker', '--role', role, '--no-http'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', out, out],
  });
}

async function committedTotal(config: Config, kafka: InstanceType<typeof Kafka>): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    let n = 0;
    for (const t of await admin.fetchOffsets({ groupId: config.kafka.groupId, topics: [inputTopic(config, 'hl7v2')] })) {
      for (const p of t.partitions) n += Math.max(0, Number(p.offset));
    }
    return n;
  } finally {
    await admin.disconnect();
  }
}

async function outputIds(config: Config, kafka: InstanceType<typeof Kafka>, expect: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: `${config.kafka.groupId}-reader` });
  const ids: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [config.topics.output], fromBeginning: true });
  let last = Date.now();
  await consumer.run({
    eachMessage: async ({ message }) => {
      ids.push(message.headers?.['medner-document-id']?.toString() ?? '?');
      last = Date.now();
    },
  });
  // Read until nothing new for 3 s after reaching the count (to see duplicates arriving late).
  while (Date.now() - last < 3000 || (ids.length < expect && Date.now() - last < 20_000)) await sleep(250);
  await consumer.disconnect();
  return ids;
}

async function runOnce(n: number): Promise<Row> {
  const tag = `scale-${Date.now().toString(36)}-n${n}`;
  const threads = Math.max(1, Math.floor(CORES / n));
  const env: Record<string, string> = {
    TOPIC_HL7_IN: `${tag}.hl7`,
    TOPIC_FHIR_IN: `${tag}.fhir`,
    TOPIC_OUTPUT: `${tag}.out`,
    TOPIC_DEAD_LETTER: `${tag}.dl`,
    TOPIC_PARTITIONS: '6',
    KAFKA_GROUP_ID: `${tag}.group`,
    KAFKA_CLIENT_ID: tag,
    QUEUE_NAME: `${tag}.queue`,
    FHIR_WRITE: FHIR ? 'true' : 'false',
    LOG_LEVEL: 'warn',
  };
  const config = loadConfig({ ...process.env, ...env });
  // Topic creation right after the previous round's deletion can meet a busy controller: retry.
  for (let attempt = 1; ; attempt++) {
    try {
      await ensureTopics(config);
      break;
    } catch (err) {
      if (attempt >= 5) throw err;
      await sleep(2000 * attempt);
    }
  }
  const kafka = new Kafka({ ...kafkaConnectionConfig({ ...config.kafka, clientId: `${tag}-bench` }), logLevel: logLevel.NOTHING });
  const logDir = path.join(REPO_ROOT, 'bench-results', 'scale-logs');
  fs.mkdirSync(logDir, { recursive: true });
  const procs: ChildProcess[] = [];
  try {
    const inferenceEnv = { ...env, INFERENCE_WORKERS: '1', INFERENCE_SESSIONS: '1', INTRA_OP_THREADS: String(threads) };
    for (let i = 0; i < n; i++) procs.push(spawnWorker('inference', inferenceEnv, path.join(logDir, `${tag}-inference-${i}.log`)));
    procs.push(spawnWorker('ingest', env, path.join(logDir, `${tag}-ingest.log`)));
    // Warm-up: 2 documents through the whole pipeline (model load, group join) before the clock.
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: inputTopic(config, 'hl7v2'), acks: -1, messages: [0, 1].map((i) => ({ key: `w${i}`, value: generatedHl7(`${tag}-warm-${i}`, i) })) });
    const warmDeadline = Date.now() + 300_000;
    while ((await committedTotal(config, kafka)) < 2) {
      if (Date.now() > warmDeadline) throw new Error(`warm-up did not finish (logs in ${logDir})`);
      if (procs.some((p) => p.exitCode !== null)) throw new Error(`a worker exited (logs in ${logDir})`);
      await sleep(500);
    }
    const t0 = Date.now();
    for (let i = 0; i < DOCS; i += 100) {
      await producer.send({
        topic: inputTopic(config, 'hl7v2'),
        acks: -1,
        messages: Array.from({ length: Math.min(100, DOCS - i) }, (_, k) => ({ key: `d${i + k}`, value: generatedHl7(`${tag}-${i + k}`, i + k) })),
      });
    }
    await producer.disconnect();
    const deadline = Date.now() + 1_800_000;
    while ((await committedTotal(config, kafka)) < DOCS + 2) {
      if (Date.now() > deadline) throw new Error('timed out');
      if (procs.some((p) => p.exitCode !== null)) throw new Error(`a worker exited (logs in ${logDir})`);
      await sleep(250);
    }
    const seconds = (Date.now() - t0) / 1000;
    const ids = (await outputIds(config, kafka, DOCS + 2)).filter((id) => !id.includes('-warm-'));
    const distinct = new Set(ids).size;
    return {
      inference: n,
      intraOpThreads: threads,
      docs: DOCS,
      seconds: Number(seconds.toFixed(2)),
      docsPerSecond: Number((DOCS / seconds).toFixed(2)),
      outputs: ids.length,
      distinct,
      lost: DOCS - distinct,
      duplicated: ids.length - distinct,
    };
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => (p.exitCode === null ? new Promise((r) => p.once('exit', r)) : undefined)));
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [inputTopic(config, 'hl7v2'), inputTopic(config, 'fhir'), config.topics.output, config.topics.deadLetter] }).catch(() => undefined);
    await admin.disconnect();
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (let n = 1; n <= MAX; n++) {
    const r = await runOnce(n);
    rows.push(r);
    process.stdout.write(`N=${n}: ${r.docsPerSecond} docs/s (${r.docs} docs in ${r.seconds} s), lost ${r.lost}, duplicated ${r.duplicated}\n`);
  }
  const base = rows[0]?.docsPerSecond ?? 1;
  process.stdout.write(`\n| inference processes | INTRA_OP_THREADS | docs/s | speed-up | lost | duplicated |\n| --- | --- | --- | --- | --- | --- |\n`);
  for (const r of rows) process.stdout.write(`| ${r.inference} | ${r.intraOpThreads} | ${r.docsPerSecond} | ${(r.docsPerSecond / base).toFixed(2)} | ${r.lost} | ${r.duplicated} |\n`);
  const out = {
    bench: 'scale',
    date: new Date().toISOString(),
    host: { cpus: os.cpus()[0]?.model, cores: CORES, loadavg: os.loadavg() },
    model: loadConfig().model.dir,
    fhirWrite: FHIR,
    rows,
  };
  fs.mkdirSync(path.join(REPO_ROOT, 'bench-results'), { recursive: true });
  fs.writeFileSync(path.join(REPO_ROOT, 'bench-results', 'scale.json'), `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`\nbench-results/scale.json\n`);
  const bad = rows.filter((r) => r.lost !== 0 || r.duplicated !== 0);
  if (bad.length > 0) {
    process.stderr.write(`documents lost or duplicated at N=${bad.map((r) => r.inference).join(',')}\n`);
    process.exitCode = 1;
  }
}

await main();
