"""Dynamic int8 quantization of a BERT ONNX graph by graph surgery (onnxruntime's Python
quantizer is not available here). Same scheme as onnxruntime's dynamic quantizer:

  MatMul(X, W)  ->  DynamicQuantizeLinear(X) -> MatMulInteger(Xq, Wq, Xzp, 128) -> Cast(float)
                    -> Mul(Xscale * Wscale[col])
  W: symmetric int8 per output column (the per-column scale is applied after the integer matmul,
  so MatMulInteger only needs a scalar zero point), stored as uint8 with zero point 128: the same
  integers, but onnxruntime then runs its u8u8 kernel. Its u8s8 kernel on x86 CPUs without VNNI
  (AVX2 only, e.g. AMD EPYC) multiplies with vpmaddubsw, whose int16 pair sums saturate, so results
  would depend on the CPU. `--u8-weights IN OUT` converts an int8-weight file (lossless).

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


def _sym_int8(w: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 along `axis` (scale per slice); returns (int8 weights, float32 scales)."""
    amax = np.max(np.abs(w), axis=axis, keepdims=True)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
    return q, np.squeeze(scale, axis=axis)


def u8_weights(q: np.ndarray) -> np.ndarray:
    """int8 weights as uint8 with zero point 128 (the same integers; see the module docstring)."""
    return (q.astype(np.int16) + 128).astype(np.uint8)


def to_u8_weights(model: onnx.ModelProto) -> onnx.ModelProto:
    """Rewrites every MatMulInteger with int8 weights to uint8 weights, zero point 128 (lossless)."""
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    zp = "qz_zero_u8"
    if zp not in inits:
        g.initializer.append(numpy_helper.from_array(np.array(128, dtype=np.uint8), zp))
    n = 0
    for node in g.node:
        w = inits.get(node.input[1]) if node.op_type == "MatMulInteger" else None
        if w is None or w.data_type != TensorProto.INT8:
            continue
        old_zp = inits.get(node.input[3]) if len(node.input) > 3 and node.input[3] else None
        if old_zp is not None and np.any(numpy_helper.to_array(old_zp) != 0):
            raise SystemExit(f"{node.name}: int8 weights with a non-zero zero point are not handled")
        w.CopyFrom(numpy_helper.from_array(u8_weights(numpy_helper.to_array(w)), w.name))
        while len(node.input) < 4:
            node.input.append("")
        node.input[3] = zp
        n += 1
    used = {i for nd in g.node for i in nd.input}
    kept = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(kept)
    onnx.checker.check_model(model)
    print(f"u8 weights: {n} MatMulInteger nodes", flush=True)
    return model


def quantize(model: onnx.ModelProto, min_elements: int = 4096, min_vocab: int = 4096) -> onnx.ModelProto:
    """min_elements / min_vocab: smallest MatMul weight / embedding table (rows) worth quantizing."""
    g = model.graph
    opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    if opset < 11:
        raise RuntimeError("opset >= 11 required (DynamicQuantizeLinear, MatMulInteger)")
    inits = {t.name: t for t in g.initializer}
    new_nodes, drop_inits, add_inits = [], set(), []
    zero_u8 = "qz_zero_u8"
    add_inits.append(numpy_helper.from_array(np.array(128, dtype=np.uint8), zero_u8))
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
                wq, ws = _sym_int8(w, axis=0)  # one scale per output column
                add_inits += [numpy_helper.from_array(u8_weights(wq), p + "_w"), numpy_helper.from_array(ws, p + "_wscale")]
                drop_inits.add(node.input[1])
                x = node.input[0]
                new_nodes += [
                    helper.make_node("DynamicQuantizeLinear", [x], [p + "_xq", p + "_xs", p + "_xzp"], name=p + "_dql"),
                    helper.make_node("MatMulInteger", [p + "_xq", p + "_w", p + "_xzp", zero_u8], [p + "_i32"], name=p + "_mmi"),
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
    if sys.argv[1] == "--u8-weights":
        onnx.save(to_u8_weights(onnx.load(sys.argv[2])), sys.argv[3])
    else:
        onnx.save(quantize(onnx.load(sys.argv[1])), sys.argv[2])
