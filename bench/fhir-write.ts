/**
 * FHIR write benchmark: `npx tsx bench/fhir-write.ts [--docs N] [--concurrency C] [--entities E] [--warmup W] [--source synthea|hl7]`
 * (nice it on a shared machine).
 *
 * Needs only the FHIR server (`medner stack up`), at FHIR_BASE_URL (default http://127.0.0.1:8080/fhir).
 * Builds one transaction Bundle per document with the pipeline's own builder
 * (buildDocumentTransaction, written by FhirServerWriter), from the Synthea notes in
 * ../shared/data/synthea when present (else generated HL7 v2 notes, which add a
 * Patient conditional create) and E fabricated entities per document (no NER).
 * Document ids get a per-run suffix, so the first pass creates everything.
 *
 *  1. warm-up: W other documents (JIT, caches), not measured
 *  2. first write: N documents, C transactions in flight
 *  3. replay: the same N bundles again; must create no resource and no new version (FhirServerWriter reads the
 *     document's Provenance and targets first and sends nothing when all is unchanged: the replay's cost is that read)
 *  4. ndjson sink: the same N bundles written by NdjsonSink (OUTPUT_SINK=ndjson) to a temporary folder, C documents
 *     in flight, fsync per document as in the pipeline: docs/s and the writer's CPU per document (no server work;
 *     the server's `$import` of the files is not measured)
 *
 * For each pass: docs/s (wall time; noisy on a shared machine) and CPU-seconds per
 * document of the FHIR server's java process (pid from the stack's pid file, or FHIR_SERVER_PID) and of
 * all PostgreSQL processes (utime+stime from /proc, plus cutime+cstime for backends
 * that exited). Prints a table, writes bench-results/fhir-write.json (--out FILE).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as fhir4 from 'fhir/r4.js';
import { loadConfig, type Config } from '../src/config/config.ts';
import type { ClinicalDocument } from '../src/core/clinical-document.ts';
import { parseDocuments } from '../src/formats/intake.ts';
import { buildDocumentTransaction, type DocumentOutput } from '../src/fhir/document-output.ts';
import { FhirServerWriter } from '../src/fhir/fhir-writer.ts';
import { BC5CDR_MAPPING_FILE, loadLabelMapping } from '../src/fhir/label-mapping.ts';
import type { Entity, ModelInfo } from '../src/core/entity.ts';
import { FhirClient } from '../src/fhir/fhir-client.ts';
import { NdjsonSink } from '../src/fhir/ndjson-sink.ts';
import { fileURLToPath } from 'node:url';
import { generatedHl7 } from './generated-notes.ts';
import { assertEntities } from '../src/nlp/assertions.ts';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const str = (name: string, dflt: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? (argv[i + 1] as string) : dflt;
};
const N = arg('--docs', 200);
const CONCURRENCY = arg('--concurrency', 4);
const ENTITIES = arg('--entities', 12);
const WARMUP = arg('--warmup', 50);
const OUT = str('--out', 'bench-results/fhir-write.json');
const SYNTHEA = path.resolve('../shared/data/synthea');
const SOURCE = str('--source', fs.existsSync(path.join(SYNTHEA, 'DocumentReference.ndjson')) ? 'synthea' : 'hl7');
const say = (s: string) => process.stderr.write(`${s}\n`);
const MODEL: ModelInfo = { name: 'medner-bench-model', version: '1.0.0' };
const CLK_TCK = 100; // USER_HZ on Linux

// ---- CPU accounting from /proc ----

/** [utime+stime, cutime+cstime] in seconds, or undefined when the process is gone. */
function procCpu(pid: number): { comm: string; self: number; children: number } | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const comm = s.slice(s.indexOf('(') + 1, close);
    const f = s.slice(close + 2).split(' '); // f[0] is field 3 (state)
    const n = (k: number) => Number(f[k - 3]);
    return { comm, self: (n(14) + n(15)) / CLK_TCK, children: (n(16) + n(17)) / CLK_TCK };
  } catch {
    return undefined;
  }
}

function postgresPids(): number[] {
  const pids: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    if (procCpu(Number(e))?.comm.startsWith('postgres')) pids.push(Number(e));
  }
  return pids;
}

interface CpuSnapshot {
  java: number;
  postgres: Map<number, { self: number; children: number }>;
  client: NodeJS.CpuUsage;
}

function javaPid(): number {
  if (process.env.FHIR_SERVER_PID) return Number(process.env.FHIR_SERVER_PID);
  const stack = path.resolve(process.env.STACK_DIR ?? '.stack');
  const text = fs.readFileSync(path.join(stack, 'fhir-server.pid'), 'utf8');
  const pid = Number(text.split('\n')[0]);
  if (!procCpu(pid)) throw new Error(`FHIR server pid ${pid} from ${stack}/fhir-server.pid is not running`);
  return pid;
}

function snapshot(java: number): CpuSnapshot {
  const postgres = new Map<number, { self: number; children: number }>();
  for (const pid of postgresPids()) {
    const c = procCpu(pid);
    if (c) postgres.set(pid, { self: c.self, children: c.children });
  }
  return { java: procCpu(java)?.self ?? NaN, postgres, client: process.cpuUsage() };
}

/** CPU seconds between two snapshots: java, postgres (a backend that started in between counts from zero). */
function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): { java: number; postgres: number; client: number } {
  let pg = 0;
  for (const [pid, end] of b.postgres) {
    const start = a.postgres.get(pid) ?? { self: 0, children: 0 };
    pg += end.self - start.self + (end.children - start.children);
  }
  const cu = process.cpuUsage(a.client);
  return { java: b.java - a.java, postgres: pg, client: (cu.user + cu.system) / 1e6 };
}

// ---- documents ----

/** Up to `count` entities on evenly spaced words of 6+ letters, alternating Disease/Chemical. */
function fabricatedEntities(text: string, count: number): Entity[] {
  const words = [...text.matchAll(/[A-Za-z]{6,}/g)];
  const step = Math.max(1, Math.floor(words.length / count));
  const out: Entity[] = [];
  for (let k = 0; k < words.length && out.length < count; k += step) {
    const m = words[k]!;
    const start = m.index!;
    out.push({ start, end: start + m[0].length, text: m[0], label: out.length % 2 === 0 ? 'Disease' : 'Chemical', score: 0.7 + ((k * 7) % 29) / 100 });
  }
  return out;
}

async function loadDocuments(count: number, offset: number, runTag: string): Promise<ClinicalDocument[]> {
  const docs: ClinicalDocument[] = [];
  if (SOURCE === 'synthea') {
    const lines = fs.readFileSync(path.join(SYNTHEA, 'DocumentReference.ndjson'), 'utf8').split('\n').filter(Boolean);
    for (let i = 0; docs.length < count; i++) {
      const line = lines[(offset + i) % lines.length]!;
      for (const d of await parseDocuments(Buffer.from(line), { source: { kind: 'file', path: 'bench', index: i }, format: 'fhir' })) {
        // A fresh document key per run and per copy: the first pass creates, as new documents do.
        docs.push({ ...d, id: `${d.id}-${runTag}-${offset + i}` });
      }
    }
  } else {
    for (let i = 0; docs.length < count; i++) {
      const raw = generatedHl7(`${runTag}-${offset + i}`, offset + i);
      docs.push(...(await parseDocuments(raw, { source: { kind: 'file', path: 'bench', index: i }, format: 'hl7v2' })));
    }
  }
  return docs.slice(0, count);
}

// ---- writing ----

interface PassResult {
  docs: number;
  seconds: number;
  docsPerSec: number;
  cpuSeconds: { java: number; postgres: number; client: number };
  cpuSecondsPerDoc: { java: number; postgres: number; server: number };
  entries: number;
  statuses: Record<string, number>;
}

/** A FhirClient that keeps the last transaction response, so a worker can see where its entries landed. */
class RecordingClient extends FhirClient {
  last: fhir4.Bundle | undefined;
  override async transaction(bundle: fhir4.Bundle): Promise<fhir4.Bundle> {
    this.last = await super.transaction(bundle);
    return this.last;
  }
}

/** Writes every document through FhirServerWriter (as the pipeline does), CONCURRENCY at a time. */
async function writeAll(
  config: Config,
  items: { doc: ClinicalDocument; out: DocumentOutput }[],
  onResponse: (i: number, res: fhir4.Bundle) => void,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    const client = new RecordingClient({ baseUrl: config.fhir.baseUrl, timeoutMs: config.fhir.timeoutMs, auth: config.fhir.auth });
    const writer = new FhirServerWriter(client);
    for (let i = next++; i < items.length; i = next++) {
      const { doc, out } = items[i]!;
      client.last = undefined;
      await writer.writeDocument(doc, out);
      onResponse(i, client.last ?? { resourceType: 'Bundle', type: 'transaction-response', entry: [] });
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}

async function pass(
  name: string,
  config: Config,
  java: number,
  items: { doc: ClinicalDocument; out: DocumentOutput }[],
  responses: fhir4.Bundle[],
): Promise<PassResult> {
  const statuses: Record<string, number> = {};
  const a = snapshot(java);
  const t = performance.now();
  await writeAll(config, items, (i, res) => {
    responses[i] = res;
    for (const e of res.entry ?? []) {
      const s = (e.response?.status ?? '?').split(' ')[0]!;
      statuses[s] = (statuses[s] ?? 0) + 1;
    }
  });
  const seconds = (performance.now() - t) / 1000;
  // Let the last commits' background work (e.g. WAL flush) land in the numbers.
  await new Promise((r) => setTimeout(r, 300));
  const cpu = cpuBetween(a, snapshot(java));
  const n = items.length;
  const r: PassResult = {
    docs: n,
    seconds,
    docsPerSec: n / seconds,
    cpuSeconds: cpu,
    cpuSecondsPerDoc: { java: cpu.java / n, postgres: cpu.postgres / n, server: (cpu.java + cpu.postgres) / n },
    entries: items.reduce((k, x) => k + (x.out.bundle.entry?.length ?? 0), 0),
    statuses,
  };
  say(`${name}: ${r.docsPerSec.toFixed(1)} docs/s, CPU s/doc java ${r.cpuSecondsPerDoc.java.toFixed(4)} postgres ${r.cpuSecondsPerDoc.postgres.toFixed(4)}, statuses ${JSON.stringify(statuses)}`);
  return r;
}

/** The same documents through the NDJSON sink (fsync per document), CONCURRENCY at a time. */
async function ndjsonPass(items: { doc: ClinicalDocument; out: DocumentOutput }[]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medner-bench-ndjson-'));
  try {
    const sink = new NdjsonSink({ dir, maxFileBytes: 256 * 1024 * 1024, request: 'bench/fhir-write.ts' });
    const cpu0 = process.cpuUsage();
    const t = performance.now();
    let next = 0;
    let resources = 0;
    let bytes = 0;
    const worker = async () => {
      for (let i = next++; i < items.length; i = next++) {
        const r = await sink.writeDocument(items[i]!.out.bundle);
        resources += r.resources;
        bytes += r.bytes;
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
    const manifest = await sink.close();
    const seconds = (performance.now() - t) / 1000;
    const cu = process.cpuUsage(cpu0);
    const n = items.length;
    const r = { docs: n, seconds, docsPerSec: n / seconds, clientCpuSecondsPerDoc: (cu.user + cu.system) / 1e6 / n, resources, bytesPerDoc: bytes / n, files: manifest.output.length };
    say(`ndjson sink: ${r.docsPerSec.toFixed(1)} docs/s, client CPU s/doc ${r.clientCpuSecondsPerDoc.toFixed(4)}, ${resources} resources in ${r.files} files`);
    return r;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Where each entry landed: Type/id/_history/version. */
const locations = (b: fhir4.Bundle) => (b.entry ?? []).map((e) => e.response?.location ?? e.response?.etag ?? '?');

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const java = javaPid();
  const mapping = loadLabelMapping(fileURLToPath(BC5CDR_MAPPING_FILE));
  const runTag = `fw${Date.now().toString(36)}`;
  const build = (docs: ClinicalDocument[]) =>
    docs.map((doc) => ({ doc, out: buildDocumentTransaction({ doc, entities: assertEntities(doc.text, fabricatedEntities(doc.text, ENTITIES)), model: MODEL, mapping }) }));

  const warm = build(await loadDocuments(WARMUP, N, `${runTag}w`));
  const items = build(await loadDocuments(N, 0, runTag));
  const avgEntries = items.reduce((k, x) => k + (x.out.bundle.entry?.length ?? 0), 0) / items.length;
  say(`${SOURCE} documents: ${items.length} (+${warm.length} warm-up), ${avgEntries.toFixed(1)} entries/transaction, concurrency ${CONCURRENCY}, java pid ${java}`);

  if (warm.length > 0) await writeAll(config, warm, () => {});
  const first: fhir4.Bundle[] = [];
  const replayed: fhir4.Bundle[] = [];
  const write = await pass('first write', config, java, items, first);
  const replay = await pass('replay', config, java, items, replayed);
  const ndjson = await ndjsonPass(items);

  // Replay must change nothing: every entry resolves to the same resource version, none is created.
  let changed = 0;
  for (let i = 0; i < items.length; i++) {
    const a = locations(first[i]!);
    const b = locations(replayed[i]!);
    if (b.length === 0) continue; // the writer found every resource unchanged and sent nothing: no version can move
    if (a.length !== b.length || a.some((x, k) => x !== b[k])) changed++;
  }
  const created = replay.statuses['201'] ?? 0;
  const replayOk = changed === 0 && created === 0;
  say(`replay: ${changed} documents with changed versions, ${created} entries created -> ${replayOk ? 'OK' : 'NOT IDEMPOTENT'}`);

  const result = {
    when: new Date().toISOString(),
    machine: { cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model, node: process.version, loadavg: os.loadavg() },
    fhirBaseUrl: config.fhir.baseUrl,
    documents: { source: SOURCE, docs: items.length, warmup: warm.length, entitiesPerDoc: ENTITIES, entriesPerTransaction: avgEntries },
    concurrency: CONCURRENCY,
    write,
    replay,
    ndjson,
    replayIdempotent: replayOk,
    replayChangedDocuments: changed,
  };
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  const rows = [
    ['pass', 'docs/s', 'java s/doc', 'pg s/doc', 'server s/doc', 'client s/doc'],
    ...(
      [
        ['first write', write],
        ['replay', replay],
      ] as const
    ).map(([n, r]) => [n, r.docsPerSec.toFixed(1), r.cpuSecondsPerDoc.java.toFixed(4), r.cpuSecondsPerDoc.postgres.toFixed(4), r.cpuSecondsPerDoc.server.toFixed(4), (r.cpuSeconds.client / r.docs).toFixed(4)]),
  ];
  rows.push(['ndjson sink', ndjson.docsPerSec.toFixed(1), '-', '-', '0', ndjson.clientCpuSecondsPerDoc.toFixed(4)]);
  for (const r of rows) process.stdout.write(`${r[0]!.padEnd(12)}${r.slice(1).map((c) => c!.padStart(13)).join('')}\n`);
  process.stdout.write(`replay idempotent: ${replayOk ? 'yes' : `NO (${changed} documents changed, ${created} entries created)`}; wrote ${OUT}\n`);
  process.exit(replayOk ? 0 : 1);
}

await main();
