/**
 * Linking cost: `npm run bench:link` (run it with nice on a shared machine).
 *
 * 1. Loading the terminology tables: wall time and memory (heap and RSS growth) of
 *    loadTerminology(), in a fresh process before anything else is loaded (3 loads, first and best).
 * 2. The NLP stage with linking off and on, in the same run: the shipped model (MODEL_DIR or
 *    --model) over BC5CDR dev abstracts, alternating off/on rounds; CPU per document (process CPU,
 *    worker threads included) and the linker's own CPU (the linking step, measured while no inference runs).
 * Prints a table, writes bench-results/link.json. Options: --docs N (default 200), --rounds N (3).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { linkSettingsFor, loadLabelMapping } from '../src/fhir/label-mapping.ts';
import { createNerEngine } from '../src/nlp/engine.ts';
import type { Entity } from '../src/core/entity.ts';
import { linkDocumentEntities } from '../src/nlp/linking/link-entities.ts';
import { Linker } from '../src/nlp/linking/linker.ts';
import { parsePubtator } from '../src/nlp/linking/pubtator.ts';
import { loadTerminology } from '../src/nlp/linking/tables.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const nDocs = Number(arg('--docs', '200'));
const rounds = Number(arg('--rounds', '3'));
const modelDir = path.resolve(repo, arg('--model', process.env.MODEL_DIR ?? 'models/medner-bc5cdr-bge-small'));
const dataFile = path.resolve(repo, arg('--data', '../shared/data/linking/bc5cdr/dev.pubtator'));

const mb = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;
const gc = (globalThis as { gc?: () => void }).gc;

// 1. load (first thing in the process)
gc?.();
const before = process.memoryUsage();
const loads: number[] = [];
let t0 = performance.now();
let tables = loadTerminology();
loads.push(performance.now() - t0);
gc?.();
const after = process.memoryUsage();
for (let i = 0; i < 2; i++) {
  t0 = performance.now();
  tables = loadTerminology();
  loads.push(performance.now() - t0);
}
gc?.();
const load = {
  firstMs: Math.round(loads[0]!),
  bestMs: Math.round(Math.min(...loads)),
  heapMB: mb(after.heapUsed - before.heapUsed),
  rssMB: mb(after.rss - before.rss),
  gcExposed: gc !== undefined,
};
const linker = new Linker(tables);

// 2. NLP stage, linking off and on
if (!fs.existsSync(dataFile)) {
  process.stdout.write(`load: first ${load.firstMs} ms, best ${load.bestMs} ms, heap +${load.heapMB} MB, rss +${load.rssMB} MB\n${dataFile} absent: no NLP-stage comparison\n`);
  process.exit(0);
}
const texts = parsePubtator(fs.readFileSync(dataFile, 'utf8'))
  .slice(0, nDocs)
  .map((d) => d.text);
const mapping = loadLabelMapping(fs.existsSync(path.join(modelDir, 'label-mapping.json')) ? path.join(modelDir, 'label-mapping.json') : path.join(repo, 'src/fhir/mappings/bc5cdr.label-mapping.json'));
const settingsFor = linkSettingsFor(mapping);
const engine = await createNerEngine({ modelDir });
await engine.extract(texts.slice(0, 8)); // warm

interface Round {
  linking: boolean;
  wallS: number;
  cpuMsPerDoc: number;
  linkMsPerDoc: number;
  entities: number;
  coded: number;
}
const results: Round[] = [];
for (let r = 0; r < rounds; r++) {
  for (const linking of [false, true]) {
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    let linkMs = 0;
    let entities = 0;
    let coded = 0;
    for (let i = 0; i < texts.length; i += 32) {
      const chunk = texts.slice(i, i + 32);
      let out: Entity[][] = await engine.extract(chunk);
      if (linking) {
        // CPU of the linking step alone: no inference runs meanwhile (extract has returned).
        const l0 = process.cpuUsage();
        out = out.map((ents, k) => linkDocumentEntities(linker, chunk[k]!, ents, settingsFor));
        const l1 = process.cpuUsage(l0);
        linkMs += (l1.user + l1.system) / 1000;
      }
      for (const ents of out) {
        entities += ents.length;
        coded += ents.filter((e) => e.codes && e.codes.length > 0).length;
      }
    }
    const cpu = process.cpuUsage(c0);
    results.push({
      linking,
      wallS: Math.round((performance.now() - w0) / 10) / 100,
      cpuMsPerDoc: Math.round(((cpu.user + cpu.system) / 1000 / texts.length) * 100) / 100,
      linkMsPerDoc: Math.round((linkMs / texts.length) * 1000) / 1000,
      entities,
      coded,
    });
  }
}
await engine.close();

const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const off = med(results.filter((r) => !r.linking).map((r) => r.cpuMsPerDoc));
const on = med(results.filter((r) => r.linking).map((r) => r.cpuMsPerDoc));
const linkOnly = med(results.filter((r) => r.linking).map((r) => r.linkMsPerDoc));
const summary = {
  date: new Date().toISOString(),
  model: engine.model,
  variant: engine.runtime.variant,
  docs: texts.length,
  rounds,
  load,
  cpuMsPerDoc: { off, on, addedPct: Math.round(((on - off) / off) * 1000) / 10 },
  linkerMsPerDoc: linkOnly,
  linkerShareOfOffPct: Math.round((linkOnly / off) * 1000) / 10,
  results,
};
const lines = [
  `tables ${tables.manifest.version}: load first ${load.firstMs} ms, best ${load.bestMs} ms; heap +${load.heapMB} MB, RSS +${load.rssMB} MB${load.gcExposed ? '' : ' (run with --expose-gc for exact heap)'}`,
  `model ${engine.model.name} ${engine.model.version} (${engine.runtime.variant}), ${texts.length} BC5CDR dev abstracts, ${rounds} rounds each`,
  '| linking | wall s | CPU ms/doc | linker CPU ms/doc | entities | coded |',
  '|---|---|---|---|---|---|',
  ...results.map((r) => `| ${r.linking ? 'on' : 'off'} | ${r.wallS} | ${r.cpuMsPerDoc} | ${r.linking ? r.linkMsPerDoc : '-'} | ${r.entities} | ${r.linking ? r.coded : '-'} |`),
  `median CPU ms/doc: off ${off}, on ${on} (+${summary.cpuMsPerDoc.addedPct}%); linker alone ${linkOnly} CPU ms/doc = ${summary.linkerShareOfOffPct}% of the stage without it`,
];
process.stdout.write(`${lines.join('\n')}\n`);
const outDir = path.join(repo, 'bench-results');
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, 'link.json'), `${JSON.stringify(summary, null, 2)}\n`);
process.stdout.write(`wrote ${path.relative(process.cwd(), path.join(outDir, 'link.json'))}\n`);
