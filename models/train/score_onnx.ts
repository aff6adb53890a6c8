// Scores exported ONNX files in onnxruntime-node on the dev sentences that export_onnx.py
// encoded with the training tokenizer (<checkpoint>.dev-encoded.json): strict entity P/R/F1 at
// the data-token level, the same measure train.py selects on. This isolates the ONNX export and
// int8 quantization from the runtime tokenizer/decoder (which `medner eval` measures).
//   npx tsx models/train/score_onnx.ts DEV_ENCODED.json model.onnx [model.int8.onnx ...]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { bioTokenSpans, formatScores, scoreSpans, type Span } from '../../src/nlp/eval-metrics.ts';

interface Row {
  ids: number[];
  first: number[];
  gold: string[];
}
const [encodedPath, ...models] = process.argv.slice(2);
if (encodedPath === undefined || models.length === 0) {
  console.error('usage: score_onnx.ts DEV_ENCODED.json MODEL.onnx [MODEL2.onnx ...]');
  process.exit(2);
}
const enc = JSON.parse(readFileSync(encodedPath, 'utf8')) as { labels: string[]; sets: Record<string, Row[]> };
const results: Record<string, Record<string, unknown>> = {};
for (const model of models) {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 2, interOpNumThreads: 1 });
  results[path.basename(model)] = {};
  for (const [name, rows] of Object.entries(enc.sets)) {
    const order = rows.map((_, i) => i).sort((a, b) => rows[a]!.ids.length - rows[b]!.ids.length);
    const pred: Span[][] = new Array(rows.length);
    const t0 = performance.now();
    for (let b = 0; b < order.length; b += 64) {
      const idx = order.slice(b, b + 64);
      const len = Math.max(...idx.map((i) => rows[i]!.ids.length));
      const ids = new BigInt64Array(idx.length * len);
      const mask = new BigInt64Array(idx.length * len);
      idx.forEach((i, r) => rows[i]!.ids.forEach((id, j) => {
        ids[r * len + j] = BigInt(id);
        mask[r * len + j] = 1n;
      }));
      const out = await session.run({
        input_ids: new ort.Tensor('int64', ids, [idx.length, len]),
        attention_mask: new ort.Tensor('int64', mask, [idx.length, len]),
        token_type_ids: new ort.Tensor('int64', new BigInt64Array(idx.length * len), [idx.length, len]),
      });
      const logits = out['logits']!.data as Float32Array;
      const nl = enc.labels.length;
      idx.forEach((i, r) => {
        const tags = rows[i]!.first.map((j) => {
          if (j < 0) return 'O';
          let best = 0;
          for (let k = 1; k < nl; k++) if (logits[(r * len + j) * nl + k]! > logits[(r * len + j) * nl + best]!) best = k;
          return enc.labels[best]!;
        });
        pred[i] = bioTokenSpans(tags);
      });
    }
    const scores = scoreSpans(rows.map((r) => bioTokenSpans(r.gold)), pred);
    const seconds = (performance.now() - t0) / 1000;
    results[path.basename(model)]![name] = { scores, sentencesPerSecond: rows.length / seconds };
    console.error(`${path.basename(model)} on ${name} (${rows.length} sentences, ${(rows.length / seconds).toFixed(0)}/s)\n${formatScores(scores)}\n`);
  }
  await session.release();
}
console.log(JSON.stringify(results));
