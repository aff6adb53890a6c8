import fs from 'node:fs';
import path from 'node:path';
import type { BertTokenizer } from '../src/nlp/bert-tokenizer.ts';

/**
 * Benchmark documents of up to five BC5CDR dev sentences each, under the model's max length so
 * that every path compared sees the same tokens (synthetic sentences when ../shared is absent).
 */
export function loadBenchDocs(repo: string, count: number, maxTokens: number, tok: BertTokenizer): string[] {
  const sentences: string[] = [];
  const file = path.resolve(repo, '../shared/data/ner/bc5cdr/devel.tsv');
  if (fs.existsSync(file)) {
    let words: string[] = [];
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const w = line.split('\t')[0]!.trim();
      if (w === '') {
        if (words.length > 0) sentences.push(words.join(' '));
        words = [];
      } else words.push(w);
    }
  } else {
    console.log('note: ../shared/data/ner absent; using synthetic sentences');
    for (let i = 0; i < 2000; i++) sentences.push(`Patient ${i} was given aspirin ${i % 300} mg for postural hypotension and renal failure.`);
  }
  const docs: string[] = [];
  let cur: string[] = [];
  let curTokens = 0;
  for (const s of sentences) {
    const n = tok.tokenize(s).ids.length;
    if (n + 2 > maxTokens) continue;
    if (curTokens + n + 2 > maxTokens || cur.length >= 5) {
      docs.push(cur.join(' '));
      cur = [];
      curTokens = 0;
      if (docs.length >= count) break;
    }
    cur.push(s);
    curTokens += n;
  }
  return docs.slice(0, count);
}
