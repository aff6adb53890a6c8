#!/usr/bin/python3
"""Build a BERT token-classification ONNX model with random weights (fixed seed).

  --shape tiny     (default) 2 layers, hidden 64, 4 heads, ~3k cased WordPiece vocab
                   -> test/fixtures/models/tiny-bert/   (committed; tests use it)
  --shape medbert  BERT-base shape: 12 layers, hidden 768, 12 heads, 28,996 cased vocab,
                   maxLength 256 -> models/_generated/medbert-shaped/  (benchmark only)
Both also write model.int8.onnx (dynamic int8 quantization of the MatMul weights);
--int8-only redoes just that from an existing model.onnx. --fp16 also writes model.fp16.onnx
(fp16 weights, fp32 inputs/outputs; needs onnxruntime.transformers or onnxconverter-common),
for GPU providers; --fp16-only writes just that from an existing model.onnx.

The vocabulary is ours: special tokens, every character seen (plus its ## form), then the
most frequent words and word endings of the NER training data in ../shared/data/ner when
present (a small built-in list otherwise). Output is deterministic for a given input.
Run with Debian's interpreter: /usr/bin/python3 (torch + onnx from apt).
"""
import argparse
import collections
import inspect
import json
import math
import os
import string
import sys

import torch
from torch import nn

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LABELS = ["O", "B-Disease", "I-Disease", "B-Chemical", "I-Chemical"]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
FALLBACK_WORDS = (
    "the of and in with patient was is for to a an by on at or as no not history pain fever "
    "cough diabetes hypertension asthma cancer tumor infection aspirin insulin metformin "
    "lisinopril heparin warfarin dose mg daily induced disease syndrome acute chronic renal "
    "failure heart attack stroke blood pressure normal left right treatment therapy"
).split()


def read_ner_tokens():
    root = os.path.join(os.path.dirname(REPO), "shared", "data", "ner")
    words = collections.Counter()
    found = False
    for corpus in ("bc5cdr", "ncbi-disease"):
        path = os.path.join(root, corpus, "train.tsv")
        if not os.path.exists(path):
            continue
        found = True
        with open(path, encoding="utf-8") as f:
            for line in f:
                tok = line.split("\t", 1)[0].strip()
                if tok:
                    words[tok] += 1
    if not found:
        print("note: ../shared/data/ner not found; using the built-in word list", file=sys.stderr)
        for w in FALLBACK_WORDS:
            words[w] += 1
    return words


def build_vocab(size):
    words = read_ner_tokens()
    chars = set(string.printable.strip()) | set("°±µ·×÷αβγδ–—‘’“”…")
    for w in words:
        chars.update(w)
    chars = sorted(c for c in chars if not c.isspace())
    vocab = list(SPECIALS)
    seen = set(vocab)

    def add(tok):
        if tok not in seen and len(vocab) < size:
            seen.add(tok)
            vocab.append(tok)

    for c in chars:
        add(c)
    for c in chars:
        add("##" + c)
    ranked = sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))
    suffixes = collections.Counter()
    for w, n in ranked:
        for k in (2, 3, 4):
            if len(w) > k + 1:
                suffixes["##" + w[-k:]] += n
    ranked_suffixes = sorted(suffixes.items(), key=lambda kv: (-kv[1], kv[0]))
    # interleave: 3 words per suffix, so both whole words and pieces exist
    wi, si = 0, 0
    while len(vocab) < size and (wi < len(ranked) or si < len(ranked_suffixes)):
        for _ in range(3):
            if wi < len(ranked):
                add(ranked[wi][0])
                wi += 1
        if si < len(ranked_suffixes):
            add(ranked_suffixes[si][0])
            si += 1
    n = 0
    while len(vocab) < size:  # pad deterministically (BERT vocabularies have [unusedN] too)
        add("[unused%d]" % n)
        n += 1
    return vocab


class Layer(nn.Module):
    def __init__(self, h, heads, ff):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(h, 3 * h)
        self.out = nn.Linear(h, h)
        self.ln1 = nn.LayerNorm(h, eps=1e-12)
        self.ff1 = nn.Linear(h, ff)
        self.ff2 = nn.Linear(ff, h)
        self.ln2 = nn.LayerNorm(h, eps=1e-12)

    def forward(self, x, mask_add):
        b, s, h = x.shape
        d = h // self.heads
        q, k, v = self.qkv(x).split(h, dim=-1)
        q = q.view(b, s, self.heads, d).transpose(1, 2)
        k = k.view(b, s, self.heads, d).transpose(1, 2)
        v = v.view(b, s, self.heads, d).transpose(1, 2)
        att = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + mask_add
        att = torch.softmax(att, dim=-1)
        ctx = torch.matmul(att, v).transpose(1, 2).reshape(b, s, h)
        x = self.ln1(x + self.out(ctx))
        return self.ln2(x + self.ff2(torch.nn.functional.gelu(self.ff1(x))))


class BertForTokenClassification(nn.Module):
    def __init__(self, vocab_size, h, layers, heads, ff, max_pos, num_labels):
        super().__init__()
        self.word = nn.Embedding(vocab_size, h)
        self.pos = nn.Embedding(max_pos, h)
        self.token_type = nn.Embedding(2, h)
        self.ln = nn.LayerNorm(h, eps=1e-12)
        self.layers = nn.ModuleList(Layer(h, heads, ff) for _ in range(layers))
        self.classifier = nn.Linear(h, num_labels)

    def forward(self, input_ids, attention_mask, token_type_ids):
        s = input_ids.shape[1]
        pos = torch.arange(s, dtype=torch.long).unsqueeze(0)
        x = self.ln(self.word(input_ids) + self.pos(pos) + self.token_type(token_type_ids))
        mask_add = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
        for layer in self.layers:
            x = layer(x, mask_add)
        return self.classifier(x)


def quantize_dynamic_int8(src, dst):
    """Dynamic int8 quantization of every MatMul with a constant 2-D weight (what
    onnxruntime.quantization.quantize_dynamic does, written out because only the `onnx`
    package is available here): x -> DynamicQuantizeLinear -> MatMulInteger(uint8, int8
    symmetric per-tensor 7-bit weight, as quantize_int8.py explains) -> Cast -> * (x_scale * w_scale)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from quantize_int8 import WEIGHT_QMAX

    m = onnx.load(src)
    inits = {i.name: i for i in m.graph.initializer}
    uses = collections.Counter(x for n in m.graph.node for x in n.input)
    nodes, new_inits, dropped = [], [], set()
    for n in m.graph.node:
        w_name = n.input[1] if n.op_type == "MatMul" and len(n.input) == 2 else None
        w = numpy_helper.to_array(inits[w_name]) if w_name in inits else None
        if w is None or w.ndim != 2:
            nodes.append(n)
            continue
        base = (n.name or n.output[0]).strip("/").replace("/", "_")
        scale = np.float32(max(float(np.abs(w).max()) / WEIGHT_QMAX, 1e-12))
        wq = np.clip(np.round(w / scale), -WEIGHT_QMAX, WEIGHT_QMAX).astype(np.int8)
        new_inits += [
            numpy_helper.from_array(wq, base + "_Wq"),
            numpy_helper.from_array(np.array(scale, dtype=np.float32), base + "_Ws"),
            numpy_helper.from_array(np.array(0, dtype=np.int8), base + "_Wzp"),
        ]
        nodes += [
            helper.make_node("DynamicQuantizeLinear", [n.input[0]], [base + "_Xq", base + "_Xs", base + "_Xzp"], name=base + "_qx"),
            helper.make_node("MatMulInteger", [base + "_Xq", base + "_Wq", base + "_Xzp", base + "_Wzp"], [base + "_i32"], name=base + "_mmi"),
            helper.make_node("Cast", [base + "_i32"], [base + "_f32"], to=TensorProto.FLOAT, name=base + "_cast"),
            helper.make_node("Mul", [base + "_Xs", base + "_Ws"], [base + "_scale"], name=base + "_scale"),
            helper.make_node("Mul", [base + "_f32", base + "_scale"], [n.output[0]], name=base + "_deq"),
        ]
        if uses[w_name] == 1:
            dropped.add(w_name)
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    keep = [i for i in m.graph.initializer if i.name not in dropped]
    del m.graph.initializer[:]
    m.graph.initializer.extend(keep + new_inits)
    if not any(o.domain in ("", "ai.onnx") and o.version >= 11 for o in m.opset_import):
        raise SystemExit("int8: opset 11+ needed for DynamicQuantizeLinear")
    onnx.checker.check_model(m)
    onnx.save(m, dst)


def write_fp16(out):
    sys.path.insert(0, os.path.join(REPO, "models", "export"))
    from export_hf import export_fp16  # the same conversion a Hugging Face export gets

    how = export_fp16(os.path.join(out, "model.onnx"), os.path.join(out, "model.fp16.onnx"))
    if how is None:
        raise SystemExit("fp16: neither onnxruntime.transformers nor onnxconverter-common is installed")
    print("wrote", os.path.join(out, "model.fp16.onnx"), "with", how)


SHAPES = {
    "tiny": dict(vocab=3000, h=64, layers=2, heads=4, ff=128, max_pos=512, max_length=128, stride=32,
                 out=os.path.join(REPO, "test", "fixtures", "models", "tiny-bert"), name="medner-tiny-test"),
    "medbert": dict(vocab=28996, h=768, layers=12, heads=12, ff=3072, max_pos=512, max_length=256, stride=64,
                    out=os.path.join(REPO, "models", "_generated", "medbert-shaped"), name="medner-medbert-shaped"),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    ap.add_argument("--out", help="output folder (default depends on --shape)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--int8-only", action="store_true", help="only (re)write model.int8.onnx from an existing model.onnx")
    ap.add_argument("--fp16", action="store_true", help="also write model.fp16.onnx")
    ap.add_argument("--fp16-only", action="store_true", help="only (re)write model.fp16.onnx from an existing model.onnx")
    args = ap.parse_args()
    spec = SHAPES[args.shape]
    out = args.out or spec["out"]
    if args.fp16_only:
        write_fp16(out)
        return
    if args.int8_only:
        quantize_dynamic_int8(os.path.join(out, "model.onnx"), os.path.join(out, "model.int8.onnx"))
        print("wrote", os.path.join(out, "model.int8.onnx"))
        return
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(args.seed)

    vocab = build_vocab(spec["vocab"])
    with open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")

    model = BertForTokenClassification(len(vocab), spec["h"], spec["layers"], spec["heads"], spec["ff"],
                                       spec["max_pos"], len(LABELS)).eval()
    with torch.no_grad():  # larger classifier weights so random models still emit some entities
        model.classifier.weight.mul_(8.0)
    ids = torch.randint(5, len(vocab), (2, 16), dtype=torch.long)
    mask = torch.ones_like(ids)
    types = torch.zeros_like(ids)
    axes = {0: "batch", 1: "sequence"}
    # The TorchScript exporter: newer torch defaults to the dynamo one, which names and folds differently.
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    torch.onnx.export(
        model, (ids, mask, types), os.path.join(out, "model.onnx"),
        input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
        dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "logits": axes},
        opset_version=14, do_constant_folding=True, **legacy,
    )
    quantize_dynamic_int8(os.path.join(out, "model.onnx"), os.path.join(out, "model.int8.onnx"))
    if args.fp16:
        write_fp16(out)
    config = {
        "name": spec["name"],
        "version": "0.0.1-random-seed%d" % args.seed,
        "labels": LABELS,
        "doLowerCase": False,
        "maxLength": spec["max_length"],
        "stride": spec["stride"],
        "aggregation": "first",
        "labelMapping": "label-mapping.json",
        "description": "Random weights (seed %d), BERT %s shape; for tests and benchmarks only, not for use."
                       % (args.seed, args.shape),
    }
    with open(os.path.join(out, "medner-model.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    print("wrote", out, "vocab", len(vocab))


if __name__ == "__main__":
    main()
