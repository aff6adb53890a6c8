/**
 * End-to-end benchmark: `npm run bench:e2e [-- --docs N]` (nice it on a shared machine).
 *
 * Needs Kafka, Redis and the FHIR server (`medner stack up`). Uses topics, group
 * and queue of its own. Documents: the Synthea notes in ../shared/data/synthea
 * (their patients are loaded into the FHIR server first) when present, else
 * generated HL7 v2 notes. Model: MODEL_DIR (falls back to the tiny test model
 * with a warning when the default model is not trained yet).
 *
 *  1. NER engine alone: extract() over the same texts, same model, batch size -> docs/s
 *  2. Pipeline: 4 warm-up documents (as (1) warms the engine up), then a burst of N documents
 *     Kafka -> queue -> NER -> FHIR + Kafka -> docs/s, p50/p95/p99 latency (send -> output
 *     record), ratio to (1) (goal >= 0.9)
 *  3. Live feed at a steady rate, alone and while a replay of the burst runs:
 *     live p50/p95/p99 latency in both cases
 * Document ids are of this run (the Synthea DocumentReference id and identifier
 * values get the run's tag as a suffix; generated and live notes carry it in
 * their HL7 v2 ids), texts and patient references unchanged: the FHIR writer
 * writes by an id derived from the document id, so the burst measures first
 * writes whatever earlier runs left on the server, and the replay in (3)
 * rewrites the same burst (what a backfill of processed data does).
 * Prints a table, writes bench-results/e2e.json (--out FILE to change).
 * Options: --docs N (200), --live N (30), --live-rate per second (3), --fhir-warmup N (600: documents
 * written to the FHIR server before the burst, under ids of their own, so its JIT is warm as in service).
 * FHIR_WRITE=false measures the pipeline without the FHIR server (Kafka output only).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../src/config/config.ts';
import { ensureTopics } from '../src/ingest/topics.ts';
import { createConsumer, createKafka, createProducer } from '../src/kafka/client.ts';
import { createNerEngine } from '../src/nlp/engine.ts';
import { createLogger } from '../src/ops/logger.ts';
import { withUsableModel } from '../src/pipeline/model-fallback.ts';
import { runReplay } from '../src/pipeline/replay.ts';
import { createFhirClient, createStages, labelMappingFor } from '../src/pipeline/stages.ts';
import { buildDocumentTransaction } from '../src/fhir/document-output.ts';
import { FhirServerWriter } from '../src/fhir/fhir-writer.ts';
import type { Entity } from '../src/core/entity.ts';
import { startWorkerApp } from '../src/pipeline/worker-app.ts';
import { generatedHl7 } from './generated-notes.ts';
import { assertEntities } from '../src/nlp/assertions.ts';
import { inputTopic } from '../src/formats/registry.ts';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const N = arg('--docs', 200);
const LIVE = arg('--live', 30);
const LIVE_RATE = arg('--live-rate', 3);
const FHIR_WARMUP = arg('--fhir-warmup', 600);
const outIdx = argv.indexOf('--out');
const OUT = outIdx >= 0 ? (argv[outIdx + 1] as string) : 'bench-results/e2e.json';
const SYNTHEA = path.resolve('../shared/data/synthea');
const say = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
const stats = (xs: number[]) => ({ n: xs.length, p50: pct(xs, 50), p95: pct(xs, 95), p99: pct(xs, 99) });

async function loadSyntheaPatients(config: Config): Promise<void> {
  const lines = fs.readFileSync(path.join(SYNTHEA, 'Patient.ndjson'), 'utf8').split('\n').filter(Boolean);
  for (const l of lines) {
    const p = JSON.parse(l) as { id: string };
    const res = await fetch(`${config.fhir.baseUrl}/Patient/${p.id}`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: l });
    if (!res.ok) throw new Error(`loading Synthea patient: HTTP ${res.status}`);
  }
}

/**
 * A Synthea DocumentReference with ids of this run: `-<tag>` appended to its id
 * (36 + 15 characters, within FHIR's 64), masterIdentifier and identifier
 * values, so the document id the pipeline derives its resource ids from is new
 * in every run. Text and subject are left as they are.
 */
function ofThisRun(line: string, tag: string): string {
  const r = JSON.parse(line) as { id?: string; masterIdentifier?: { value?: string }; identifier?: { value?: string }[] };
  if (r.id) r.id = `${r.id}-${tag}`;
  if (r.masterIdentifier?.value) r.masterIdentifier.value = `${r.masterIdentifier.value}-${tag}`;
  for (const i of r.identifier ?? []) if (i.value) i.value = `${i.value}-${tag}`;
  return JSON.stringify(r);
}

async function main(): Promise<void> {
  const tag = `bench-${Date.now().toString(36)}`;
  const base = loadConfig({
    ...process.env,
    TOPIC_HL7_IN: `${tag}.hl7`,
    TOPIC_FHIR_IN: `${tag}.fhir`,
    TOPIC_OUTPUT: `${tag}.out`,
    TOPIC_DEAD_LETTER: `${tag}.dl`,
    KAFKA_GROUP_ID: `${tag}.group`,
    QUEUE_NAME: `${tag}.queue`,
    HTTP_PORT: '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  const config = await withUsableModel(base, process.env, say);
  const logger = createLogger(config.logLevel);
  await ensureTopics(config);
  const stages = await createStages(config, logger);

  // Documents
  const useSynthea = fs.existsSync(path.join(SYNTHEA, 'DocumentReference.ndjson'));
  type Raw = { topic: string; value: Buffer; format: 'hl7v2' | 'fhir' };
  let rawsFor: (t: string) => Raw[];
  if (useSynthea) {
    say(`documents: Synthea notes from ${SYNTHEA}`);
    await loadSyntheaPatients(config);
    const lines = fs.readFileSync(path.join(SYNTHEA, 'DocumentReference.ndjson'), 'utf8').split('\n').filter(Boolean).slice(0, N);
    rawsFor = (t) => lines.map((l) => ({ topic: inputTopic(config, 'fhir'), value: Buffer.from(ofThisRun(l, t)), format: 'fhir' as const }));
  } else {
    say('documents: generated HL7 v2 notes (Synthea data not found)');
    rawsFor = (t) => Array.from({ length: N }, (_, i) => ({ topic: inputTopic(config, 'hl7v2'), value: generatedHl7(`${t}-${i}`, i), format: 'hl7v2' as const }));
  }
  const parseAll = async (rs: Raw[]) => {
    const out = [];
    for (const [i, r] of rs.entries()) out.push(...(await stages.parse(r.value, { kind: 'file', path: 'bench', index: i }, r.format)));
    return out;
  };
  const raws = rawsFor(tag);
  const docs = await parseAll(raws);
  const ids = docs.map((d) => d.id);
  const chars = docs.reduce((n, d) => n + d.text.length, 0);
  say(`${raws.length} records, ${docs.length} documents, ${(chars / docs.length).toFixed(0)} chars/doc on average`);

  // 1. NER engine alone
  const engine = await createNerEngine({
    modelDir: config.model.dir,
    variant: config.model.variant,
    executionProvider: config.model.executionProvider,
    gpuId: config.model.gpuIds[0] ?? 0,
    sessions: config.model.sessions,
    intraOpThreads: config.model.intraOpThreads,
    batchSize: config.model.batchSize,
    ...(config.model.maxPadding === undefined ? {} : { maxPadding: config.model.maxPadding }),
    logger,
  });
  await engine.extract(docs.slice(0, 4).map((d) => d.text));
  const nerCpu0 = process.cpuUsage();
  let t = performance.now();
  const entities: Entity[][] = [];
  for (let i = 0; i < docs.length; i += config.model.batchSize) entities.push(...(await engine.extract(docs.slice(i, i + config.model.batchSize).map((d) => d.text))));
  const nerSecs = (performance.now() - t) / 1000;
  const nerDocsPerSec = docs.length / nerSecs;
  const nerCpuMsPerDoc = cpuMs(process.cpuUsage(nerCpu0)) / docs.length;
  const model = engine.model;
  await engine.close();
  say(`NER alone: ${nerDocsPerSec.toFixed(1)} docs/s`);

  // FHIR server warm-up: a JVM's JIT needs several hundred transactions before a write costs what it
  // will in service. The same documents and entities under other ids, written directly (not via Kafka).
  if (config.fhir.write && FHIR_WARMUP > 0) {
    const writer = new FhirServerWriter(createFhirClient(config));
    const { mapping } = labelMappingFor(config.model.dir);
    const tw = performance.now();
    let written = 0;
    for (let pass = 0; written < FHIR_WARMUP; pass++) {
      const wdocs = (await parseAll(rawsFor(`${tag}w${pass}`))).slice(0, FHIR_WARMUP - written);
      let next = 0;
      const lane = async () => {
        for (let k = next++; k < wdocs.length; k = next++) {
          const doc = wdocs[k]!;
          await writer.writeDocument(doc, buildDocumentTransaction({ doc, entities: assertEntities(doc.text, entities[k] ?? []), model, mapping }));
        }
      };
      await Promise.all([lane(), lane(), lane(), lane()]);
      written += wdocs.length;
    }
    say(`FHIR server warm-up: ${written} documents in ${((performance.now() - tw) / 1000).toFixed(1)} s`);
  }

  // Output watcher: document id -> output record timestamp
  const kafka = createKafka({ ...config.kafka, clientId: `${tag}-bench` }, logger);
  const outAt = new Map<string, number>();
  let dead = 0;
  const watcher = createConsumer(kafka, { groupId: `${tag}.watch` });
  await watcher.run(
    [config.topics.output, config.topics.deadLetter],
    async (m) => {
      if (m.topic === config.topics.deadLetter) dead++;
      else if (m.headers['medner-document-id']) outAt.set(m.headers['medner-document-id'], Number(m.timestamp));
    },
    { fromBeginning: true },
  );

  // 2. Pipeline burst
  const app = await startWorkerApp({ config, role: 'all', logger, stages, http: false });
  const producer = createProducer(kafka);
  // Like the engine alone's warm-up extract: a few documents (ids of their own) through the whole
  // pipeline first, so the consumer group has joined and the sessions have run before the clock starts.
  const warm = rawsFor(`${tag}p`).slice(0, 4);
  const warmIds = (await parseAll(warm)).map((d) => d.id);
  for (const r of warm) await producer.send(r.topic, [{ key: 'warm-up', value: r.value }]);
  const warmDeadline = Date.now() + 5 * 60_000;
  while (warmIds.some((id) => !outAt.has(id)) && dead === 0 && Date.now() < warmDeadline) await sleep(100);
  if (dead > 0 || warmIds.some((id) => !outAt.has(id))) throw new Error('the pipeline warm-up documents did not come out');
  const sentAt = new Map<string, number>();
  // This process's CPU (all threads: the worker's main thread and the engine's) and its main thread's busy time.
  const burstCpu0 = process.cpuUsage();
  const burstElu0 = performance.eventLoopUtilization();
  const t0 = Date.now();
  for (let i = 0; i < raws.length; i += 100) {
    const chunk = raws.slice(i, i + 100);
    const now = Date.now();
    for (let k = 0; k < chunk.length; k++) sentAt.set(ids[i + k] as string, now);
    const byTopic = new Map<string, Buffer[]>();
    for (const r of chunk) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r.value]);
    for (const [topic, values] of byTopic) await producer.send(topic, values.map((value, k) => ({ key: `${i + k}`, value })));
  }
  const deadline = Date.now() + 20 * 60_000;
  const burstOut = () => ids.reduce((n, id) => n + (outAt.has(id) ? 1 : 0), 0);
  while (burstOut() + dead < ids.length && Date.now() < deadline) await sleep(200);
  const burstCpuMsPerDoc = cpuMs(process.cpuUsage(burstCpu0)) / ids.length;
  const burstMainMsPerDoc = performance.eventLoopUtilization(burstElu0).active / ids.length;
  const burstDone = Math.max(...ids.map((id) => outAt.get(id) ?? 0));
  const burstSecs = (burstDone - t0) / 1000;
  const burstLat = ids.filter((id) => outAt.has(id)).map((id) => (outAt.get(id) as number) - (sentAt.get(id) as number));
  const pipelineDocsPerSec = burstLat.length / burstSecs;
  say(`pipeline: ${pipelineDocsPerSec.toFixed(1)} docs/s (${burstLat.length} out, ${dead} dead-lettered)`);

  // 3. Live feed alone, then while a replay of the burst runs
  const live = async (label: string): Promise<number[]> => {
    const lat: number[] = [];
    const mine: string[] = [];
    for (let i = 0; i < LIVE; i++) {
      const id = `${tag}-${label}-${i}`;
      mine.push(id);
      sentAt.set(id, Date.now());
      await producer.send(inputTopic(config, 'hl7v2'), [{ key: id, value: generatedHl7(id, i) }]);
      await sleep(1000 / LIVE_RATE);
    }
    const until = Date.now() + 5 * 60_000;
    while (mine.some((id) => !outAt.has(id)) && Date.now() < until) await sleep(100);
    for (const id of mine) if (outAt.has(id)) lat.push((outAt.get(id) as number) - (sentAt.get(id) as number));
    return lat;
  };
  const liveAlone = await live('alone');
  let replaySummary: Awaited<ReturnType<typeof runReplay>> | undefined;
  const replay = runReplay({ config, logger, stages, topic: raws[0]!.topic }).then((s) => (replaySummary = s));
  const liveDuringReplay = await live('replay');
  await replay;

  await producer.close();
  await watcher.stop();
  await app.stop(10_000);
  await stages.close();

  const result = {
    when: new Date().toISOString(),
    machine: { cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model, node: process.version },
    model: { ...model, dir: config.model.dir, provider: config.model.executionProvider, variant: config.model.variant },
    documents: { source: useSynthea ? 'synthea' : 'generated-hl7v2', records: raws.length, documents: docs.length, avgChars: Math.round(chars / docs.length), ids: `per run (suffix ${tag})` },
    fhirWrite: config.fhir.write,
    fhirWarmupDocuments: config.fhir.write ? FHIR_WARMUP : 0,
    config: { batchSize: config.model.batchSize, batchWaitMs: config.model.batchWaitMs, workers: config.model.workers, intraOpThreads: config.model.intraOpThreads },
    nerDocsPerSec,
    pipeline: { docsPerSec: pipelineDocsPerSec, seconds: burstSecs, out: burstLat.length, deadLettered: dead, latencyMs: stats(burstLat) },
    ratioToNer: pipelineDocsPerSec / nerDocsPerSec,
    // What the worker spends per document beside the model: process CPU in the burst (the bench's own producer and
    // output watcher included) minus the engine alone's.
    cpuMsPerDoc: { nerAlone: nerCpuMsPerDoc, pipeline: burstCpuMsPerDoc, pipelineMainThread: burstMainMsPerDoc, overhead: burstCpuMsPerDoc - nerCpuMsPerDoc },
    goalRatio: 0.9,
    live: {
      ratePerSec: LIVE_RATE,
      alone: stats(liveAlone),
      duringReplay: stats(liveDuringReplay),
      replay: replaySummary ? { records: replaySummary.records, seconds: replaySummary.ms / 1000, docsPerSec: replaySummary.records / (replaySummary.ms / 1000) } : undefined,
    },
  };
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '-');
  const rows = [
    ['measure', 'docs/s', 'p50 ms', 'p95 ms', 'p99 ms'],
    ['NER engine alone', nerDocsPerSec.toFixed(1), '', '', ''],
    ['pipeline burst', pipelineDocsPerSec.toFixed(1), f(result.pipeline.latencyMs.p50), f(result.pipeline.latencyMs.p95), f(result.pipeline.latencyMs.p99)],
    [`live ${LIVE_RATE}/s alone`, '', f(result.live.alone.p50), f(result.live.alone.p95), f(result.live.alone.p99)],
    [`live ${LIVE_RATE}/s + replay`, result.live.replay ? result.live.replay.docsPerSec.toFixed(1) : '', f(result.live.duringReplay.p50), f(result.live.duringReplay.p95), f(result.live.duringReplay.p99)],
  ];
  process.stdout.write(`${result.documents.source}, ${docs.length} documents, ids of this run (${tag}): burst = first writes, replay = rewrites; FHIR writes ${config.fhir.write ? 'on' : 'off'}\n`);
  for (const r of rows) process.stdout.write(`${r[0]!.padEnd(22)}${r.slice(1).map((c) => c!.padStart(10)).join('')}\n`);
  process.stdout.write(`ratio pipeline / NER alone: ${result.ratioToNer.toFixed(2)} (goal >= 0.9); model ${model.name} ${model.version}; ${result.documents.source}\n`);
  const c = result.cpuMsPerDoc;
  process.stdout.write(`bench process CPU ms/doc: NER alone ${c.nerAlone.toFixed(1)}, pipeline burst ${c.pipeline.toFixed(1)} (main thread busy ${c.pipelineMainThread.toFixed(1)}), worker overhead ${c.overhead.toFixed(1)}\n`);
  process.stdout.write(`wrote ${OUT}\n`);
  process.exit(0);
}

await main();
