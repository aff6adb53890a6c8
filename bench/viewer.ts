/**
 * Viewer page times: `npx tsx bench/viewer.ts [--docs N] [--patients P] [--concurrency C] [--repeat R] [--run ID] [--no-load]`
 * (nice it on a shared machine; it writes to the FHIR server at FHIR_BASE_URL).
 *
 *  1. load: N generated HL7 v2 notes of P patients (dates over two years, 9 entities each: affirmed,
 *     negated, uncertain and family mentions), written through the real mapping path
 *     (buildDocumentTransaction + FhirServerWriter), C transactions in flight. `--run ID --no-load`
 *     measures a server loaded before (same ID).
 *  2. pages: the viewer in this process (port 0) against that server; each page R times, cold first
 *     then warm: documents list (first page, page 2 and page 10 through the server's paging links),
 *     list filtered by patient, by date range, by resource type and by assertion, a document page,
 *     a patient page. Reports the server's Provenance count (all documents any run wrote).
 *
 * Prints a table, writes bench-results/viewer.json (--out FILE).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as fhir4 from 'fhir/r4.js';
import { loadConfig } from '../src/config/config.ts';
import type { ClinicalDocument } from '../src/core/clinical-document.ts';
import { buildDocumentTransaction } from '../src/fhir/document-output.ts';
import { FhirClient } from '../src/fhir/fhir-client.ts';
import { FhirServerWriter } from '../src/fhir/fhir-writer.ts';
import { BC5CDR_MAPPING_FILE, loadLabelMapping } from '../src/fhir/label-mapping.ts';
import type { Entity, ModelInfo } from '../src/core/entity.ts';
import { createLogger } from '../src/ops/logger.ts';
import { startViewServer } from '../src/view/server.ts';
import { assertEntities } from '../src/nlp/assertions.ts';

const argv = process.argv.slice(2);
const num = (name: string, dflt: number) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);
const str = (name: string, dflt: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : dflt);
const N = num('--docs', 2000);
const P = num('--patients', Math.max(1, Math.round(N / 20)));
const C = num('--concurrency', 4);
const R = num('--repeat', 5);
const RUN = str('--run', Date.now().toString(36));
const LOAD = !argv.includes('--no-load');
const OUT = str('--out', 'bench-results/viewer.json');
const say = (s: string) => process.stderr.write(`${s}\n`);
const MODEL: ModelInfo = { name: 'medner-bench-viewer', version: '1.0.0' };

const config = loadConfig();
const client = new FhirClient({ baseUrl: config.fhir.baseUrl, timeoutMs: 60_000, auth: config.fhir.auth });
const mapping = loadLabelMapping(fileURLToPath(BC5CDR_MAPPING_FILE));

const TEMPLATE = [
  ['Patient seen for ', ''],
  ['pneumonia', 'Disease'],
  ['. No ', ''],
  ['fever', 'Disease'],
  [' or ', ''],
  ['cough', 'Disease'],
  ['. Possible ', ''],
  ['sepsis', 'Disease'],
  ['. Started ', ''],
  ['amoxicillin', 'Chemical'],
  [' and continues ', ''],
  ['metformin', 'Chemical'],
  [' for ', ''],
  ['type 2 diabetes', 'Disease'],
  ['. Mother has ', ''],
  ['breast cancer', 'Disease'],
  ['. History of ', ''],
  ['hypertension', 'Disease'],
  ['. Plan: follow up in two weeks.', ''],
] as const;

function note(i: number): { text: string; entities: Entity[] } {
  let text = `Note ${i}. `;
  const entities: Entity[] = [];
  for (const [part, label] of TEMPLATE) {
    if (label) entities.push({ start: text.length, end: text.length + part.length, text: part, label, score: 0.9 });
    text += part;
  }
  return { text, entities };
}

function doc(i: number): ClinicalDocument {
  const { text } = note(i);
  const day = new Date(Date.UTC(2023, 0, 1) + (i % 730) * 86_400_000 + (i % 24) * 3_600_000).toISOString();
  return {
    id: `VIEW-BENCH-${RUN}-${i}`,
    idSystem: 'urn:oid:2.16.840.1.113883.19.5.99',
    format: 'hl7v2',
    messageType: 'MDM^T02',
    patient: { identifier: { system: 'urn:oid:2.16.840.1.113883.19.5', value: `MRN-VB-${RUN}-${i % P}`, type: 'MR' }, createIfAbsent: true },
    date: day,
    type: { system: 'http://loinc.org', code: '11506-3', display: 'Progress note' },
    status: 'current',
    docStatus: 'final',
    lifecycle: { action: 'original' },
    source: { kind: 'file', path: 'bench', index: i },
    text,
    segments: [{ start: 0, end: text.length, origin: 'OBX[1]' }],
  };
}

async function load(): Promise<number> {
  const writer = new FhirServerWriter(client);
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < N) {
        const i = next++;
        const d = doc(i);
        await writer.writeDocument(d, buildDocumentTransaction({ doc: d, entities: assertEntities(d.text, note(i).entities), model: MODEL, mapping }));
        done++;
        if (done % 200 === 0) say(`  loaded ${done}/${N} (${(done / ((performance.now() - t0) / 1000)).toFixed(1)} docs/s)`);
      }
    }),
  );
  return (performance.now() - t0) / 1000;
}

async function timed(url: string): Promise<{ ms: number; status: number; body: string }> {
  const t = performance.now();
  const res = await fetch(url);
  const body = await res.text();
  return { ms: performance.now() - t, status: res.status, body };
}

function stats(ms: number[]): { first: number; median: number; max: number } {
  const warm = ms.slice(1).sort((a, b) => a - b);
  return { first: Math.round(ms[0]!), median: Math.round(warm[Math.floor(warm.length / 2)] ?? ms[0]!), max: Math.round(Math.max(...ms)) };
}

const loadSeconds = LOAD ? await load() : undefined;
if (loadSeconds !== undefined) say(`loaded ${N} documents of ${P} patients in ${loadSeconds.toFixed(0)} s`);

const total = (await client.get<fhir4.Bundle>('Provenance?_summary=count')).total ?? -1;
const viewer = await startViewServer({ config, logger: createLogger('silent'), port: 0 });
const v = viewer.url;
const pages: { page: string; first: number; median: number; max: number; rows?: number }[] = [];

async function measure(name: string, url: string | (() => Promise<string>)): Promise<string> {
  const ms: number[] = [];
  let body = '';
  for (let k = 0; k < R; k++) {
    const u = typeof url === 'string' ? url : await url();
    const r = await timed(u);
    if (r.status !== 200) throw new Error(`${name}: HTTP ${r.status}`);
    ms.push(r.ms);
    body = r.body;
  }
  const rows = (body.match(/<tr>\s*<td><a href="\/documents\//g) ?? []).length;
  pages.push({ page: name, ...stats(ms), ...(body.includes('table class="docs"') ? { rows } : {}) });
  say(`  ${name}: ${pages.at(-1)!.median} ms`);
  return body;
}

const nextOf = (body: string) => /<a rel="next" href="([^"]+)"/.exec(body)?.[1]?.replace(/&amp;/g, '&');
const first = await measure('documents, page 1', `${v}/documents`);
const p2 = nextOf(first);
if (p2) await measure('documents, page 2 (paging link)', `${v}${p2}`);
let p10: string | undefined = p2;
for (let k = 2; k < 10 && p10; k++) p10 = nextOf((await timed(`${v}${p10}`)).body);
if (p10) await measure('documents, page 10 (paging link)', `${v}${p10}`);
const patient = `MRN-VB-${RUN}-1`;
await measure('documents, patient filter (identifier)', `${v}/documents?patient=${encodeURIComponent(patient)}`);
await measure('documents, date range (1 month)', `${v}/documents?from=2024-02-01&to=2024-02-29`);
await measure('documents, type FamilyMemberHistory', `${v}/documents?type=FamilyMemberHistory`);
await measure('documents, assertion negated', `${v}/documents?assertion=negated`);
await measure('documents, patient + negated', `${v}/documents?patient=${encodeURIComponent(patient)}&assertion=negated`);
const docLink = /<a href="\/documents\/([A-Za-z0-9\-.]+)">/.exec(first)?.[1];
if (docLink) await measure('document page', `${v}/documents/${docLink}`);
const patientPage = await timed(`${v}/documents?patient=${encodeURIComponent(patient)}`);
const patientId = /<a href="\/patients\/([A-Za-z0-9\-.]+)">/.exec(patientPage.body)?.[1];
if (patientId) await measure(`patient page (${Math.round(N / P)} documents)`, `${v}/patients/${patientId}`);
await viewer.close();

const result = {
  date: new Date().toISOString(),
  host: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30) },
  fhirBaseUrl: config.fhir.baseUrl,
  run: RUN,
  loaded: LOAD ? { docs: N, patients: P, seconds: loadSeconds } : undefined,
  provenancesOnServer: total,
  repeat: R,
  pages,
};
console.log(`\nviewer page times, ${total} Provenances (processed documents) on the server, ${R} requests each (ms: first, median of the rest, max)\n`);
console.log(['page'.padEnd(42), 'first'.padStart(7), 'median'.padStart(7), 'max'.padStart(7), 'rows'.padStart(5)].join(' '));
for (const p of pages) console.log([p.page.padEnd(42), String(p.first).padStart(7), String(p.median).padStart(7), String(p.max).padStart(7), String(p.rows ?? '').padStart(5)].join(' '));
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
say(`wrote ${OUT}`);
