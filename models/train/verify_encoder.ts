// Compares our PyTorch re-implementation of all-MiniLM-L6-v2 (hidden states dumped by
// verify_encoder.py) with onnxruntime-node running the original ONNX file. Exit 1 on mismatch.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

const [onnxPath, dumpPath] = process.argv.slice(2);
const dump = JSON.parse(readFileSync(dumpPath!, 'utf8')) as { ids: number[]; hidden: number[][] };
const n = dump.ids.length;
const t = (v: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, n]);
const session = await ort.InferenceSession.create(onnxPath!, { intraOpNumThreads: 1 });
const out = await session.run({
  input_ids: t(dump.ids),
  attention_mask: t(dump.ids.map(() => 1)),
  token_type_ids: t(dump.ids.map(() => 0)),
});
const ref = out['last_hidden_state']!.data as Float32Array;
let maxDiff = 0;
for (let i = 0; i < n; i++) for (let j = 0; j < 384; j++) maxDiff = Math.max(maxDiff, Math.abs(ref[i * 384 + j]! - dump.hidden[i]![j]!));
console.log(`tokens=${n} max|torch - onnxruntime| = ${maxDiff.toExponential(2)}`);
process.exit(maxDiff < 1e-3 ? 0 : 1);
