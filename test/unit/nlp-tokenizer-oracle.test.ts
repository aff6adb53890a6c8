import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer, WordPiece, bertNormalizer, bertPreTokenizer } from 'tokenizers';
import { BertTokenizer } from '../../src/nlp/bert-tokenizer.ts';
import { readVocab } from '../../src/nlp/model-folder.ts';

/**
 * Our tokenizer against Hugging Face's Rust tokenizer (npm `tokenizers`) as the oracle:
 * identical ids and offsets (oracle code-point offsets converted to UTF-16).
 */

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dataDir = path.resolve(repo, '../shared/data');
const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

function nerSentences(): string[] {
  const out: string[] = [];
  for (const corpus of ['bc5cdr', 'ncbi-disease']) {
    for (const split of ['train', 'devel']) {
      const file = path.join(dataDir, 'ner', corpus, `${split}.tsv`);
      if (!fs.existsSync(file)) continue;
      let words: string[] = [];
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        const tok = line.split('\t')[0]!.trim();
        if (tok === '') {
          if (words.length > 0) out.push(words.join(' '));
          words = [];
        } else words.push(tok);
      }
      if (words.length > 0) out.push(words.join(' '));
    }
  }
  return out;
}

function syntheaLines(limit: number): string[] {
  const file = path.join(dataDir, 'synthea', 'DocumentReference.ndjson');
  if (!fs.existsSync(file)) return [];
  const out: string[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '' || out.length >= limit) continue;
    const res = JSON.parse(line) as { content?: { attachment?: { data?: string } }[] };
    for (const c of res.content ?? []) {
      const data = c.attachment?.data;
      if (data === undefined) continue;
      for (const l of Buffer.from(data, 'base64').toString('utf8').split('\n')) if (l.trim() !== '') out.push(l);
    }
  }
  return out.slice(0, limit);
}

const ADVERSARIAL: string[] = [
  '',
  ' ',
  '   \t\n  ',
  'Patient 😀 took aspirin 81 mg 👍🏽 daily.',
  '𝑥 + 𝑦 = 𝟐 and 🇺🇸 flags',
  'Café naïve résumé Ångström ÉCOLE São Paulo Düsseldorf',
  'e\u0301 combining: cafe\u0301 a\u0323\u0301 \u0301lone',
  'ctrl\u0000chars\u0001here\u0007\u001b[0m\u200bzero\u200dwidth\ufeffbom\ufffdrepl',
  'tabs\tand\r\nnewlines\u000b\u000cff\u0085nel\u00a0nbsp\u2028ls\u2029ps\u3000ideo',
  '日本語のテキスト 中文 한국어 텍스트 混合text東京',
  '\uf900\ufa0d compat ideographs 𠀀𠀁 ext-b',
  'x'.repeat(150) + ' short ' + 'abc'.repeat(40) + ' ' + 'y'.repeat(100) + ' ' + 'z'.repeat(101),
  'before [SEP] after [CLS][MASK] x[SEP]y [UNK] [sep] [PAD] [ SEP ] [SEP',
  '[SEP]',
  'İstanbul ΣΊΣΥΦΟΣ straße ǅ ﬁnance ﬀ Ⅻ ㎒ ½',
  'punct: ¡¿«»‹›—–‐‑…·•§¶†‡‰′″‴ ( ) [ ] { } < > $ + = ^ ` | ~ © ® ° ± µ',
  'mixed—dash 1,000.5mg/kg q.i.d. (b.i.d.) 5-FU IL-2 TNF-α β-blocker',
  'Hyperkalemia/hypokalemia; Na+/K+-ATPase; CO₂ H₂O x² 10⁻³',
  '\u0600\u0601 arabic مرحبا بالعالم hebrew שלום thai สวัสดี devanagari नमस्ते',
  'Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ ！？',
  '\ud83d\ude00\ud83d\ude00\ud83d\ude00',
  'lone \ud800 high and \udc00 low surrogates',
];

/** Deterministic random strings over a mix of ASCII, Latin-1, marks, CJK, emoji and controls. */
function randomStrings(n: number): string[] {
  const pools = ['abcXYZ019 ', '.,;-()[]', 'éÉüÑçßİı', '\u0301\u0323', '日本中文한', '😀👍🏽🇺', '\u0000\u0007\t\n\u00a0\u200b', 'ﬁ½Ⅻ²'];
  let seed = 42;
  const rnd = (k: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % k;
  };
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let s = '';
    const len = rnd(60);
    for (let j = 0; j < len; j++) {
      const pool = Array.from(pools[rnd(pools.length)]!);
      s += pool[rnd(pool.length)];
    }
    out.push(s);
  }
  return out;
}

function codePointToUtf16(text: string): (cp: number) => number {
  const map: number[] = [0];
  let u = 0;
  for (const ch of text) {
    u += ch.length;
    map.push(u);
  }
  return (cp) => map[cp]!;
}

async function makeOracle(vocab: string[], lowercase: boolean, stripAccents = lowercase): Promise<Tokenizer> {
  const v: Record<string, number> = {};
  vocab.forEach((t, i) => {
    if (!(t in v)) v[t] = i;
  });
  const tok = new Tokenizer(WordPiece.init(v, { unkToken: '[UNK]', maxInputCharsPerWord: 100 }));
  tok.setNormalizer(bertNormalizer({ cleanText: true, handleChineseChars: true, stripAccents, lowercase }));
  tok.setPreTokenizer(bertPreTokenizer());
  tok.addSpecialTokens(SPECIALS.filter((s) => s in v));
  return tok;
}

async function compareAll(name: string, vocab: string[], lowercase: boolean, texts: string[], stripAccents = lowercase): Promise<void> {
  const ours = new BertTokenizer(vocab, { lowercase, stripAccents });
  const oracle = await makeOracle(vocab, lowercase, stripAccents);
  let mismatches = 0;
  const examples: string[] = [];
  const chunk = 512;
  for (let i = 0; i < texts.length; i += chunk) {
    const batch = texts.slice(i, i + chunk);
    const encs = await oracle.encodeBatch(batch, { addSpecialTokens: false });
    batch.forEach((text, k) => {
      const enc = encs[k]!;
      const toU16 = codePointToUtf16(text);
      const want = {
        ids: enc.getIds(),
        offsets: enc.getOffsets().map(([s, e]) => [toU16(s!), toU16(e!)]),
      };
      const t = ours.tokenize(text);
      const got = { ids: Array.from(t.ids), offsets: Array.from(t.starts, (s, j) => [s, t.ends[j]!]) };
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        mismatches++;
        if (examples.length < 3) {
          examples.push(
            `${JSON.stringify(text.slice(0, 120))}\n  ours:   ${ours.tokensOf(got.ids).join(' ')} ${JSON.stringify(got.offsets)}\n  oracle: ${enc.getTokens().join(' ')} ${JSON.stringify(want.offsets)}`,
          );
        }
      }
    });
  }
  assert.equal(mismatches, 0, `${name}: ${mismatches}/${texts.length} texts differ from the oracle:\n${examples.join('\n')}`);
}

const tinyVocab = readVocab(path.join(repo, 'test/fixtures/models/tiny-bert/vocab.txt'));
const ner = nerSentences();
const synthea = syntheaLines(4000);
const corpus = [...ADVERSARIAL, ...randomStrings(500), ...ner, ...synthea];

test('corpus for the oracle comparison is large enough (or skipped visibly)', { skip: ner.length === 0 ? 'no ../shared/data/ner' : false }, () => {
  assert.ok(ner.length + synthea.length >= 10_000, `only ${ner.length + synthea.length} sentences`);
});

test('synthea note lines', { skip: synthea.length === 0 ? 'no ../shared/data/synthea' : false }, async () => {
  await compareAll('tiny cased / synthea', tinyVocab, false, synthea);
});

test('tiny cased vocab: identical ids and offsets to the HF tokenizer', async () => {
  await compareAll('tiny cased', tinyVocab, false, corpus);
});

test('tiny vocab, uncased mode (lowercase + accent stripping)', async () => {
  await compareAll('tiny uncased', tinyVocab, true, corpus);
});

test('lowercase without accent stripping, and accent stripping without lowercasing', async () => {
  const texts = [...ADVERSARIAL, ...randomStrings(500), ...ner.slice(0, 2000)];
  await compareAll('lowercase, keep accents', tinyVocab, true, texts, false);
  await compareAll('cased, strip accents', tinyVocab, false, texts, true);
});

for (const [name, rel, lower] of [
  ['BERT uncased 30,522 (default model)', 'models/medner-bc5cdr-bge-small/vocab.txt', true],
  ['MedBERT-shaped cased 28,996 (generated)', 'models/_generated/medbert-shaped/vocab.txt', false],
] as const) {
  const file = path.join(repo, rel);
  test(`${name} vocab: identical to the HF tokenizer`, { skip: fs.existsSync(file) ? false : `${rel} absent` }, async () => {
    await compareAll(name, readVocab(file), lower, corpus);
  });
}

test('the comparison can fail: a different vocab gives different ids', async () => {
  const ours = new BertTokenizer(tinyVocab, { lowercase: false });
  const oracle = await makeOracle([...tinyVocab].reverse(), false);
  const enc = await oracle.encode('aspirin induced hypotension', null, { addSpecialTokens: false });
  assert.notDeepEqual(Array.from(ours.tokenize('aspirin induced hypotension').ids), enc.getIds());
});
