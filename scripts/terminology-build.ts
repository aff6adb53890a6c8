/**
 * npm run terminology:build
 *
 * Builds the linker's terminology tables (terminology/*.tsv.gz + manifest.json) from the sources in
 * ../shared/data/terminology and ../shared/data/linking (see their SOURCES.md). Deterministic: the same
 * inputs give byte-identical outputs (sorted rows, gzip without a timestamp, no dates in the manifest).
 *
 *   tsx scripts/terminology-build.ts [--data DIR] [--out DIR] [--splits train,dev]
 *
 * --splits picks which corpus splits give MeSH names (default train,dev; never test). `--splits train`
 * writes the tables used to measure the linker on dev without dev's own names (see terminology/README.md).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parsePubtator, pubtatorType } from '../src/nlp/linking/pubtator.ts';
// the format the loader reads: bump it there when the table format or the build's rules change
import { TABLES_FORMAT } from '../src/nlp/linking/tables.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');


function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const dataDir = path.resolve(arg('--data') ?? path.join(repo, '..', 'shared', 'data'));
const outDir = path.resolve(arg('--out') ?? path.join(repo, 'terminology'));
const splits = (arg('--splits') ?? 'train,dev').split(',').map((s) => s.trim()).filter(Boolean);
for (const s of splits) {
  if (s !== 'train' && s !== 'dev') {
    process.stderr.write(`--splits: only train and dev may give names (got "${s}")\n`);
    process.exit(2);
  }
}

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const inputs: Record<string, string> = {};
function readInput(rel: string): Buffer {
  const buf = readFileSync(path.join(dataDir, rel));
  inputs[rel] = sha256(buf);
  return buf;
}

/** RFC 4180 line splitter for the ICD-10-CM CSV (quoted fields may hold commas, "" escapes a quote). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

const clean = (s: string): string => s.replace(/[\t\r\n]+/g, ' ').replace(/\s+/g, ' ').trim();
export const dotted = (code: string): string => (code.length > 3 ? `${code.slice(0, 3)}.${code.slice(3)}` : code);

// ---- ICD-10-CM ------------------------------------------------------------------------------
const icdRows: string[] = [];
const icdCodes = new Set<string>();
{
  const lines = gunzipSync(readInput('terminology/icd10cm-fy2022.csv.gz')).toString('utf8').split(/\r?\n/);
  const header = csvFields(lines[0]!);
  const iCode = header.indexOf('icd10cm_code');
  const iBill = header.indexOf('valid_billing_code');
  const iLong = header.indexOf('icd10cm_long_description');
  if (iCode < 0 || iBill < 0 || iLong < 0) throw new Error('icd10cm csv: unexpected header');
  const seen = new Map<string, string>();
  for (const line of lines.slice(1)) {
    if (!line.trim()) continue;
    const f = csvFields(line);
    const code = dotted(f[iCode]!.trim().toUpperCase());
    if (!/^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$/.test(code)) throw new Error(`icd10cm csv: bad code ${code}`);
    if (seen.has(code)) throw new Error(`icd10cm csv: duplicate ${code}`);
    const billable = Number(f[iBill]) === 1 ? 1 : 0;
    const display = clean(f[iLong]!);
    seen.set(code, display);
    icdCodes.add(code);
    icdRows.push(`${code}\t${billable}\t${display}`);
  }
  icdRows.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

// ---- Disease Ontology: labels (names for MeSH/OMIM ids) and the MeSH -> ICD-10-CM bridge ------
interface DoEntry {
  label: string;
  mesh: Set<string>;
  omim: Set<string>;
  icd: Set<string>;
}
const doid = new Map<string, DoEntry>();
let droppedIcd = 0;
{
  const lines = gunzipSync(readInput('terminology/disease-ontology-xrefs.tsv.gz')).toString('utf8').split(/\r?\n/);
  const unq = (s: string): string => s.trim().replace(/^"(.*)"$/, '$1');
  for (const line of lines.slice(1)) {
    if (!line.trim()) continue;
    const [id, label, xref] = line.split('\t').map(unq);
    if (!id || !label || !xref) continue;
    let e = doid.get(id);
    if (!e) doid.set(id, (e = { label: clean(label), mesh: new Set(), omim: new Set(), icd: new Set() }));
    const m = /^([A-Za-z0-9_]+):(.+)$/.exec(xref);
    if (!m) continue;
    const [, ns, val] = m as unknown as [string, string, string];
    if (ns === 'MESH' && /^[CD]\d+$/.test(val)) e.mesh.add(val);
    else if (ns === 'MIM' && /^\d+$/.test(val)) e.omim.add(`OMIM:${val}`);
    else if (ns === 'ICD10CM') {
      const code = val.trim().toUpperCase();
      if (icdCodes.has(code)) e.icd.add(code);
      else droppedIcd++;
    }
  }
}

// ---- MeSH names: train/dev mentions + DO labels ----------------------------------------------
/** key id\tlabel\tterm -> [mentions, fromDO] */
const terms = new Map<string, [number, number]>();
const addTerm = (id: string, label: string, term: string, mentions: number, fromDo: number): void => {
  const t = clean(term).toLowerCase();
  if (!t) return;
  const key = `${id}\t${label}\t${t}`;
  const cur = terms.get(key) ?? [0, 0];
  terms.set(key, [cur[0] + mentions, Math.max(cur[1], fromDo)]);
};
const corpora: Record<string, { mentions: number; documents: number }> = {};
for (const corpus of ['bc5cdr', 'ncbi-disease']) {
  for (const split of splits) {
    const rel = `linking/${corpus}/${split}.pubtator`;
    const docs = parsePubtator(readInput(rel).toString('utf8'));
    let n = 0;
    for (const d of docs) {
      for (const m of d.mentions) {
        const label = pubtatorType(m.type);
        if (m.parts.length === 1 && m.parts[0]!.length === 1 && m.parts[0]![0] !== '-1') {
          addTerm(m.parts[0]![0]!, label, m.text, 1, 0);
          n++;
        } else if (m.parts.length > 1 && m.parts.every((p) => p.length === 1 && p[0] !== '-1')) {
          // a composite mention as a whole ("hemorrhagic cystitis" = Hemorrhage|Cystitis): its ids
          // joined by "|", so the same words in another abstract get the same concepts
          addTerm(m.parts.map((p) => p[0]!).join('|'), label, m.text, 1, 0);
          // and its parts, as the annotators spelled them out ("cardiovascular depression")
          if (m.partTexts && m.partTexts.length === m.parts.length) m.parts.forEach((p, k) => addTerm(p[0]!, label, m.partTexts![k]!, 1, 0));
          n++;
        } else if (m.partTexts && m.partTexts.length === m.parts.length) {
          m.parts.forEach((p, k) => {
            if (p.length === 1 && p[0] !== '-1') addTerm(p[0]!, label, m.partTexts![k]!, 1, 0);
          });
          n++;
        }
      }
    }
    corpora[rel] = { mentions: n, documents: docs.length };
  }
}
for (const e of doid.values()) {
  for (const id of [...e.mesh, ...e.omim]) addTerm(id, 'Disease', e.label, 0, 1);
}
const termRows = [...terms].map(([k, [n, d]]) => `${k}\t${n}\t${d}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

// Bridge: every (MeSH, ICD-10-CM) pair that one DO disease carries.
const bridge = new Set<string>();
for (const [id, e] of doid) {
  for (const m of e.mesh) for (const c of e.icd) bridge.add(`${m}\t${c}\t${id}`);
}
const bridgeRows = [...bridge].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

// ---- write ----------------------------------------------------------------------------------
mkdirSync(outDir, { recursive: true });
const outputs: Record<string, { rows: number; sha256: string; bytes: number }> = {};
function writeTable(name: string, header: string, rows: string[]): void {
  const text = `${header}\n${rows.join('\n')}\n`;
  // gzip header: mtime 0, no file name, so the bytes depend only on the text.
  const gz = gzipSync(Buffer.from(text, 'utf8'), { level: 9 });
  writeFileSync(path.join(outDir, name), gz);
  outputs[name] = { rows: rows.length, sha256: sha256(text), bytes: gz.length };
}
writeTable('icd10cm.tsv.gz', 'code\tbillable\tdisplay', icdRows);
writeTable('mesh-terms.tsv.gz', 'id\tlabel\tterm\tmentions\tdo', termRows);
writeTable('mesh-icd10cm.tsv.gz', 'mesh\ticd10cm\tdoid', bridgeRows);

const inputHash = sha256(Object.entries(inputs).sort().map(([k, v]) => `${k}=${v}`).join('\n'));
const manifest = {
  format: TABLES_FORMAT,
  version: `${TABLES_FORMAT}.${inputHash.slice(0, 12)}`,
  icd10cm: { system: 'http://hl7.org/fhir/sid/icd-10-cm', version: '2022', source: 'CDC/NCHS ICD-10-CM FY2022 (via vcastro/icd10us@646fbf6c)' },
  diseaseOntology: { source: 'DiseaseOntology/HumanDiseaseOntology@9fbefd66 DOreports/allXREFinDO.tsv', diseases: doid.size, icd10cmXrefsNotInFy2022: droppedIcd },
  meshNames: { splits, corpora },
  inputs,
  outputs,
};
writeFileSync(path.join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
process.stdout.write(
  `terminology ${manifest.version} -> ${path.relative(process.cwd(), outDir) || '.'}\n` +
    Object.entries(outputs).map(([k, v]) => `  ${k}: ${v.rows} rows, ${(v.bytes / 1024).toFixed(0)} KiB\n`).join(''),
);
