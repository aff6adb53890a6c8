"""Dynamic int8 quantization of a BERT ONNX graph by graph surgery (onnxruntime's Python
quantizer is not available here). Same scheme as onnxruntime's dynamic quantizer:

  MatMul(X, W)  ->  DynamicQuantizeLinear(X) -> MatMulInteger(Xq, Wq, Xzp, 0) -> Cast(float)
                    -> Mul(Xscale * Wscale[col])
  W: symmetric per output column (the per-column scale is applied after the integer matmul, so
  MatMulInteger only needs a scalar zero point), in 7 bits (-63..63, onnxruntime's
  `reduce_range`). Why 7: onnxruntime's u8s8 kernel on x86 CPUs without VNNI (AVX2 only, e.g.
  AMD EPYC) multiplies with vpmaddubsw, whose int16 pair sums saturate with 8-bit weights, so
  results would depend on the CPU; 2 x 255 x 63 fits in int16, so with 7 bits every x86 CPU
  computes the same, and VNNI CPUs keep their fast u8s8 kernel (uint8 weights, the other exact
  fix, ran 2.3x slower on an AVX512-VNNI Xeon). `--7bit-weights IN OUT` converts an 8-bit file.

  Gather(E, ids) on the word-embedding table -> Gather(Eq int8, ids) -> Cast(float)
                    -> Mul(Unsqueeze(Gather(Escale[row], ids)))     (symmetric int8 per row)

The word-embedding table is the biggest tensor of a small BERT (30,522 x 384), so quantizing it
matters for the shipped size.
"""
from __future__ import annotations

import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


WEIGHT_QMAX = 63  # 7-bit MatMul weights (module docstring); embeddings keep 127


def _sym_int8(w: np.ndarray, axis: int, qmax: int = 127) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 in [-qmax, qmax] along `axis` (scale per slice); returns (int8 weights, float32 scales)."""
    amax = np.max(np.abs(w), axis=axis, keepdims=True)
    scale = np.where(amax > 0, amax / float(qmax), 1.0).astype(np.float32)
    q = np.clip(np.round(w / scale), -qmax, qmax).astype(np.int8)
    return q, np.squeeze(scale, axis=axis)


def _weight_scale_name(weight: str, inits: dict) -> str:
    """The scale initializer of a quantized weight: ours (`*_w` -> `*_wscale`) or make_test_model's (`*_Wq` -> `*_Ws`)."""
    for cand in (weight[:-2] + "_wscale" if weight.endswith("_w") else None, weight[:-3] + "_Ws" if weight.endswith("_Wq") else None):
        if cand is not None and cand in inits:
            return cand
    raise SystemExit(f"{weight}: no weight scale initializer found (not a medner-quantized model?)")


def to_7bit_weights(model: onnx.ModelProto) -> onnx.ModelProto:
    """Rewrites 8-bit MatMulInteger weights of a medner-quantized model to 7 bits (halved, scale
    doubled): one more rounding than quantizing the float weights directly, so prefer re-exporting."""
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    n = 0
    for node in g.node:
        w = inits.get(node.input[1]) if node.op_type == "MatMulInteger" else None
        if w is None:
            continue
        if len(node.input) > 3 and node.input[3] and np.any(numpy_helper.to_array(inits[node.input[3]]) != 0):
            raise SystemExit(f"{node.name}: weights with a non-zero zero point are not handled")
        q = numpy_helper.to_array(w).astype(np.int16)
        if np.abs(q).max() <= WEIGHT_QMAX:
            continue
        s_name = _weight_scale_name(w.name, inits)
        s = inits[s_name]
        s.CopyFrom(numpy_helper.from_array((numpy_helper.to_array(s) * 2).astype(np.float32), s_name))
        w.CopyFrom(numpy_helper.from_array(np.clip(np.round(q / 2.0), -WEIGHT_QMAX, WEIGHT_QMAX).astype(np.int8), w.name))
        n += 1
    onnx.checker.check_model(model)
    print(f"7-bit weights: {n} MatMulInteger nodes", flush=True)
    return model


def quantize(model: onnx.ModelProto, min_elements: int = 4096, min_vocab: int = 4096) -> onnx.ModelProto:
    """min_elements / min_vocab: smallest MatMul weight / embedding table (rows) worth quantizing."""
    g = model.graph
    opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    if opset < 11:
        raise RuntimeError("opset >= 11 required (DynamicQuantizeLinear, MatMulInteger)")
    inits = {t.name: t for t in g.initializer}
    new_nodes, drop_inits, add_inits = [], set(), []
    zero_i8 = "qz_zero_int8"
    add_inits.append(numpy_helper.from_array(np.array(0, dtype=np.int8), zero_i8))
    axes1 = "qz_axes_last"
    if opset >= 13:
        add_inits.append(numpy_helper.from_array(np.array([-1], dtype=np.int64), axes1))
    n_mm = n_emb = 0
    for node in g.node:
        if node.op_type == "MatMul" and node.input[1] in inits:
            w = numpy_helper.to_array(inits[node.input[1]])
            if w.ndim == 2 and w.size >= min_elements:
                n_mm += 1
                p = f"qz_mm{n_mm}"
                wq, ws = _sym_int8(w, axis=0, qmax=WEIGHT_QMAX)  # one scale per output column
                add_inits += [numpy_helper.from_array(wq, p + "_w"), numpy_helper.from_array(ws, p + "_wscale")]
                drop_inits.add(node.input[1])
                x = node.input[0]
                new_nodes += [
                    helper.make_node("DynamicQuantizeLinear", [x], [p + "_xq", p + "_xs", p + "_xzp"], name=p + "_dql"),
                    helper.make_node("MatMulInteger", [p + "_xq", p + "_w", p + "_xzp", zero_i8], [p + "_i32"], name=p + "_mmi"),
                    helper.make_node("Cast", [p + "_i32"], [p + "_f"], to=TensorProto.FLOAT, name=p + "_cast"),
                    helper.make_node("Mul", [p + "_xs", p + "_wscale"], [p + "_s"], name=p + "_scale"),
                    helper.make_node("Mul", [p + "_f", p + "_s"], [node.output[0]], name=p + "_out"),
                ]
                continue
        if node.op_type == "Gather" and node.input[0] in inits:
            e = numpy_helper.to_array(inits[node.input[0]])
            if e.ndim == 2 and e.shape[0] >= min_vocab:
                n_emb += 1
                p = f"qz_emb{n_emb}"
                eq, es = _sym_int8(e, axis=1)  # one scale per row (token)
                add_inits += [numpy_helper.from_array(eq, p + "_e"), numpy_helper.from_array(es, p + "_escale")]
                drop_inits.add(node.input[0])
                ids = node.input[1]
                new_nodes += [
                    helper.make_node("Gather", [p + "_e", ids], [p + "_q"], name=p + "_gather"),
                    helper.make_node("Cast", [p + "_q"], [p + "_f"], to=TensorProto.FLOAT, name=p + "_cast"),
                    helper.make_node("Gather", [p + "_escale", ids], [p + "_s"], name=p + "_gather_scale"),
                    (helper.make_node("Unsqueeze", [p + "_s", axes1], [p + "_s1"], name=p + "_unsq") if opset >= 13
                     else helper.make_node("Unsqueeze", [p + "_s"], [p + "_s1"], axes=[-1], name=p + "_unsq")),
                    helper.make_node("Mul", [p + "_f", p + "_s1"], [node.output[0]], name=p + "_out"),
                ]
                continue
        new_nodes.append(node)
    still_used = {i for n in new_nodes for i in n.input}
    kept = [t for t in g.initializer if not (t.name in drop_inits and t.name not in still_used)]
    del g.node[:]
    g.node.extend(new_nodes)
    del g.initializer[:]
    g.initializer.extend(kept + add_inits)
    # Drop any stale value_info for rewritten tensors (shapes are re-inferred by the runtime).
    del g.value_info[:]
    onnx.checker.check_model(model)
    print(f"int8: {n_mm} MatMuls, {n_emb} embedding tables quantized", flush=True)
    return model


if __name__ == "__main__":
    if sys.argv[1] == "--7bit-weights":
        onnx.save(to_7bit_weights(onnx.load(sys.argv[2])), sys.argv[3])
    else:
        onnx.save(quantize(onnx.load(sys.argv[1])), sys.argv[2])
