/**
 * Error analysis of the linker on gold mentions (a development tool; use it on dev with train-only tables):
 *
 *   tsx scripts/link-misses.ts --data ../shared/data/linking/bc5cdr/dev.pubtator --tables /tmp/term-train [--top 15] [--type Disease]
 *
 * Each miss (top candidate not the gold id) gets one category, first that applies:
 *   unseen id     the gold id has no name of that label in the tables (no lookup can find it)
 *   composite     the gold mention names several concepts
 *   abbreviation  the mention is (or holds) a short form: a word in capitals or defined in the document
 *   morphology    a name of the gold id has the same word stems (first 5 letters) in the same order
 *   word order    ... the same stems in another order
 *   ambiguity     the mention's exact/word-order key is in the tables, for the gold id among others
 *   no candidate  nothing above the sieves and the fuzzy stage found nothing
 *   other         a wrong candidate (often fuzzy) with none of the above
 * Prints counts per category and the most frequent misses of each, with what the linker chose.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { findAbbreviations } from '../src/nlp/linking/abbreviations.ts';
import { matchesGold } from '../src/nlp/linking/eval-link.ts';
import { Linker, type LinkLabel } from '../src/nlp/linking/linker.ts';
import { bagKey, exactKey, words } from '../src/nlp/linking/normalize.ts';
import { parsePubtator, pubtatorType } from '../src/nlp/linking/pubtator.ts';
import { loadTerminology } from '../src/nlp/linking/tables.ts';
import { arg, requiredArg } from './cli-args.ts';

const data = requiredArg('--data', '--data FILE.pubtator is required');
const tablesDir = path.resolve(arg('--tables') ?? process.env.TERMINOLOGY_DIR ?? 'terminology');
const top = Number(arg('--top') ?? '15');
const only = arg('--type');

const tables = loadTerminology(tablesDir);
const linker = new Linker(tables);
// id -> its names, per label
const names = new Map<string, string[]>();
for (const line of gunzipSync(readFileSync(path.join(tablesDir, 'mesh-terms.tsv.gz'))).toString('utf8').split('\n').slice(1)) {
  if (!line) continue;
  const [id, label, term] = line.split('\t') as [string, string, string];
  const k = `${label}\t${id}`;
  const l = names.get(k);
  if (l) l.push(term);
  else names.set(k, [term]);
}
const stems = (t: string): string[] => words(t).filter((w) => !['of', 'the', 'a', 'an'].includes(w)).map((w) => w.slice(0, 5));

const counts = new Map<string, Map<string, number>>();
const bump = (cat: string, key: string): void => {
  let m = counts.get(cat);
  if (!m) counts.set(cat, (m = new Map()));
  m.set(key, (m.get(key) ?? 0) + 1);
};
let mentions = 0;
let misses = 0;
for (const d of parsePubtator(readFileSync(data, 'utf8'))) {
  const abbr = findAbbreviations(d.text);
  for (const m of d.mentions) {
    if (m.ids.length === 0 || m.ids.includes('-1')) continue;
    const type: LinkLabel = pubtatorType(m.type);
    if (only && type !== only) continue;
    mentions++;
    const r = linker.link(m.text, type, abbr);
    const pred = r.parts.map((p) => p.candidates[0]);
    if (matchesGold(pred.map((p) => p?.id), m)) continue;
    misses++;
    const gold = m.parts.map((alts) => alts.join('+')).join('|');
    const chose = pred.map((p) => (p ? `${p.id}(${p.via} ${p.score.toFixed(2)})` : '-')).join('|');
    const goldNames = m.parts.flat().flatMap((id) => names.get(`${type}\t${id}`) ?? []);
    let cat: string;
    if (goldNames.length === 0) cat = 'unseen id';
    else if (m.parts.length > 1) cat = 'composite';
    else if (/\b[A-Z][A-Z0-9-]*[A-Z0-9]\b/.test(m.text) && (abbr.size > 0 || m.text.length <= 8)) cat = 'abbreviation';
    else {
      const ms = stems(m.text);
      const same = goldNames.some((n) => stems(n).join(' ') === ms.join(' '));
      const sameBag = goldNames.some((n) => [...stems(n)].sort().join(' ') === [...ms].sort().join(' '));
      const d0 = tables.dictionaries.get(type)!;
      const known = d0.exact.get(exactKey(m.text)) ?? d0.bag.get(bagKey(m.text));
      if (same) cat = 'morphology';
      else if (sameBag) cat = 'word order';
      else if (known && m.parts[0]!.some((id) => known.has(id))) cat = 'ambiguity';
      else if (!pred[0]) cat = 'no candidate';
      else cat = 'other';
    }
    bump(cat, `${type}: "${m.text}" gold ${gold} [${goldNames.slice(0, 3).join('; ')}] chose ${chose}`);
  }
}
process.stdout.write(`${mentions} mentions, ${misses} misses (${((100 * misses) / mentions).toFixed(1)}%)\n`);
const cats = [...counts].map(([c, m]) => [c, m, [...m.values()].reduce((a, b) => a + b, 0)] as const).sort((a, b) => b[2] - a[2]);
for (const [c, m, n] of cats) {
  process.stdout.write(`\n== ${c}: ${n} (${((100 * n) / mentions).toFixed(1)}% of mentions)\n`);
  const rows = [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, top);
  for (const [k, v] of rows) process.stdout.write(`  ${v}x ${k}\n`);
}
