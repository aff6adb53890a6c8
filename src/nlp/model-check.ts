import type { SessionSignature } from './ort-protocol.ts';

/**
 * Checks an ONNX session's signature against the model config (pure): inputs
 * input_ids and attention_mask (token_type_ids optional, nothing else), a rank-3 output
 * [batch, seq, numLabels] per the metadata where ORT exposes it, and the probe run's
 * dims [1, probeLen, numLabels]. Returns one line per problem.
 */
export function signatureProblems(
  sig: SessionSignature,
  numLabels: number,
  probe: { len: number; dims: number[]; error?: string },
): string[] {
  const p: string[] = [];
  for (const name of ['input_ids', 'attention_mask']) {
    if (!sig.inputNames.includes(name)) p.push(`ONNX model has no input "${name}" (inputs: ${sig.inputNames.join(', ') || 'none'})`);
  }
  const extra = sig.inputNames.filter((n) => !['input_ids', 'attention_mask', 'token_type_ids'].includes(n));
  if (extra.length > 0) p.push(`ONNX model has inputs we cannot feed: ${extra.join(', ')}`);
  for (const m of sig.inputs) {
    if (['input_ids', 'attention_mask', 'token_type_ids'].includes(m.name) && !['int64', 'int32'].includes(m.type)) {
      p.push(`input "${m.name}" has type ${m.type}, expected int64 or int32`);
    }
  }
  if (sig.outputNames.length === 0) p.push('ONNX model has no outputs');
  const outName = sig.outputNames.includes('logits') ? 'logits' : sig.outputNames[0];
  const meta = sig.outputs.find((m) => m.name === outName);
  if (meta !== undefined && meta.shape.length > 0) {
    if (meta.shape.length !== 3) p.push(`output "${outName}" has rank ${meta.shape.length} (shape [${meta.shape.join(', ')}]), expected [batch, sequence, ${numLabels}]`);
    else if (typeof meta.shape[2] === 'number' && meta.shape[2] !== numLabels) {
      p.push(`output "${outName}" has ${meta.shape[2]} labels but the config lists ${numLabels}`);
    }
  }
  if (p.length > 0) return p;
  if (probe.error !== undefined) return [`probe run failed: ${probe.error}`];
  const d = probe.dims;
  if (d.length !== 3 || d[0] !== 1 || d[1] !== probe.len) {
    p.push(`probe run gave output shape [${d.join(', ')}], expected [1, ${probe.len}, ${numLabels}]`);
  } else if (d[2] !== numLabels) {
    p.push(`model outputs ${d[2]} labels but the config lists ${numLabels}`);
  }
  return p;
}
