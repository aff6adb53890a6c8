// Writes a brat folder as token<TAB>BIO lines for train.py, with the flattening rule of
// src/nlp/brat.ts (leftmost-longest non-overlapping entities of the wanted labels; discontinuous
// entities as their full extent), one sequence per line of text, words as BERT's basic tokenizer
// splits them. Prints per-label counts of gold entities and of those kept by flattening.
//   npx tsx models/train/brat_to_bio.ts BRAT_DIR OUT.tsv Label1,Label2,... [MAX_WORDS]
import { writeFileSync } from 'node:fs';
import { bratToBio, flattenEntities, readBratDir } from '../../src/nlp/brat.ts';

const [dir, out, labelArg, maxWordsArg] = process.argv.slice(2);
if (dir === undefined || out === undefined || labelArg === undefined) {
  console.error('usage: brat_to_bio.ts BRAT_DIR OUT.tsv Label1,Label2,... [MAX_WORDS]');
  process.exit(2);
}
const labels = labelArg.split(',').filter(Boolean);
const maxWords = Number(maxWordsArg ?? 100);
const docs = await readBratDir(dir);
const lines: string[] = [];
const gold = new Map<string, number>();
const kept = new Map<string, number>();
let seqs = 0;
for (const doc of docs) {
  for (const e of doc.entities) if (labels.includes(e.label)) gold.set(e.label, (gold.get(e.label) ?? 0) + 1);
  for (const e of flattenEntities(doc.entities, labels)) kept.set(e.label, (kept.get(e.label) ?? 0) + 1);
  for (const s of bratToBio(doc, labels, maxWords)) {
    // a word's text never holds a tab or newline (whitespace splits words)
    s.words.forEach((w, i) => lines.push(`${w.text}\t${s.tags[i]}`));
    lines.push('');
    seqs++;
  }
}
writeFileSync(out, lines.join('\n'));
console.error(`${dir}: ${docs.length} documents -> ${seqs} sequences in ${out}`);
console.error(labels.map((l) => `${l} ${kept.get(l) ?? 0}/${gold.get(l) ?? 0}`).join(', ') + ' (kept/gold)');
