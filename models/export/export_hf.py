#!/usr/bin/env python3
"""Turn a fine-tuned Hugging Face BERT token-classification checkpoint (MedBERT, BioBERT,
Bio_ClinicalBERT, ... fine-tuned for NER) into medner's model folder format:

  model.onnx          fp32; inputs input_ids / attention_mask / token_type_ids (int64 [batch, sequence]),
                      output logits (float32 [batch, sequence, num_labels]); dynamic batch + sequence
  model.int8.onnx     dynamic int8 (onnxruntime.quantization; else medner's own graph-surgery quantizer)
  model.fp16.onnx     fp16 weights, fp32 inputs/outputs (onnxruntime.transformers.float16 or
                      onnxconverter_common), for CUDA
  vocab.txt           WordPiece vocabulary
  medner-model.json   labels from config.json id2label, doLowerCase / stripAccents from the tokenizer
  label-mapping.json  --label-mapping FILE, or a starting point derived from the label names (review it)
  README.md           a stub model card naming the source checkpoint

Needs: torch, transformers (and optionally onnxruntime, onnxconverter-common). Runs offline from a
local checkpoint folder (local_files_only=True): no hub access is needed or attempted.

  python models/export/export_hf.py --checkpoint path/to/medbert-ner --out models/medbert-ner --max-length 256
  python models/export/export_hf.py --make-tiny-checkpoint /tmp/tiny-bert-ner   # a random small BERT to try the tool
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
OPSET = 14


def log(msg: str) -> None:
    print(f"[export_hf] {msg}", flush=True)


# --------------------------------------------------------------------------- tiny checkpoint
def make_tiny_checkpoint(out: str) -> None:
    """A randomly initialised small BERT token classifier + tokenizer, saved like a fine-tuned
    checkpoint (config.json with id2label, tokenizer files, weights). For exercising this tool
    on a machine without hub access; its predictions are meaningless."""
    import torch
    from transformers import BertConfig, BertForTokenClassification, BertTokenizerFast

    os.makedirs(out, exist_ok=True)
    words = ("aspirin caused acute renal failure in the patient with hepatitis after lithium "
             "carbonate and cisplatin induced nephrotoxicity breast cancer hypertension").split()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = sorted({c for w in words for c in w})
    vocab = specials + list(".,;:-()/+") + chars + ["##" + c for c in chars] + sorted(set(words))
    with open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")
    tok = BertTokenizerFast(vocab_file=os.path.join(out, "vocab.txt"), do_lower_case=True, model_max_length=128)
    tok.save_pretrained(out)
    labels = ["O", "B-Disease", "I-Disease", "B-Chemical", "I-Chemical"]
    cfg = BertConfig(
        vocab_size=len(vocab), hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
        max_position_embeddings=128, id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)},
    )
    torch.manual_seed(0)
    BertForTokenClassification(cfg).save_pretrained(out)
    log(f"tiny random checkpoint -> {out} ({len(vocab)} tokens, labels {labels})")


# --------------------------------------------------------------------------- export steps
class LogitsOnly:
    """Wraps a HF token classifier so the ONNX graph has exactly one output, `logits`."""

    def __new__(cls, model):
        import torch

        class _Wrap(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids, return_dict=True).logits

        return _Wrap(model)


def export_fp32(model, tokenizer, path: str, opset: int) -> None:
    import torch

    model.eval()
    enc = tokenizer(["Aspirin caused acute renal failure.", "Hepatitis."], padding=True, return_tensors="pt")
    if "token_type_ids" not in enc:
        enc["token_type_ids"] = torch.zeros_like(enc["input_ids"])
    args = (enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
    dyn = {0: "batch", 1: "sequence"}
    with torch.no_grad():
        torch.onnx.export(
            LogitsOnly(model), args, path,
            input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
            dynamic_axes={"input_ids": dyn, "attention_mask": dyn, "token_type_ids": dyn, "logits": dyn},
            opset_version=opset, do_constant_folding=True,
        )
    import onnx

    onnx.checker.check_model(onnx.load(path))
    # Check against PyTorch when onnxruntime is installed.
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError:
        log("onnxruntime not installed: fp32 export not cross-checked (run `medner eval` on it)")
        return
    with torch.no_grad():
        ref = LogitsOnly(model)(*args).numpy()
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = sess.run(["logits"], {k: v.numpy() for k, v in zip(["input_ids", "attention_mask", "token_type_ids"], args)})[0]
    diff = float(np.max(np.abs(ref - got)))
    log(f"fp32 ONNX vs PyTorch: max |diff| = {diff:.2e}")
    if diff > 1e-3:
        raise SystemExit(f"fp32 export does not reproduce PyTorch (max diff {diff})")


def export_int8(fp32: str, out: str) -> str:
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # reduce_range (7-bit weights): the u8s8 kernel saturates on x86 CPUs without VNNI (see quantize_int8.py).
        quantize_dynamic(fp32, out, weight_type=QuantType.QInt8, reduce_range=True, op_types_to_quantize=["MatMul", "Gather"])
        return "onnxruntime.quantization.quantize_dynamic (QInt8 7-bit weights; MatMul + Gather)"
    except ImportError:
        import onnx

        sys.path.insert(0, os.path.join(ROOT, "models", "train"))
        from quantize_int8 import quantize  # medner's own: MatMulInteger + per-row int8 embeddings

        onnx.save(quantize(onnx.load(fp32)), out)
        return "medner models/train/quantize_int8.py (onnxruntime.quantization not installed)"


def export_fp16(fp32: str, out: str) -> str | None:
    import onnx

    model = onnx.load(fp32)
    try:
        from onnxruntime.transformers.float16 import convert_float_to_float16

        how = "onnxruntime.transformers.float16"
    except ImportError:
        try:
            from onnxconverter_common.float16 import convert_float_to_float16

            how = "onnxconverter_common.float16"
        except ImportError:
            return None
    # keep_io_types: inputs stay int64 and logits stay float32, so the runtime needs no special case.
    onnx.save(convert_float_to_float16(model, keep_io_types=True), out)
    return how


def read_json(path: str) -> dict:
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_vocab(checkpoint: str, tokenizer, out: str) -> int:
    src = os.path.join(checkpoint, "vocab.txt")
    dst = os.path.join(out, "vocab.txt")
    if os.path.exists(src):
        shutil.copyfile(src, dst)
    else:  # only tokenizer.json: write tokens in id order
        vocab = tokenizer.get_vocab()
        ordered = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
        if [vocab[t] for t in ordered] != list(range(len(ordered))):
            raise SystemExit("tokenizer vocabulary ids are not dense 0..n-1: cannot write vocab.txt")
        with open(dst, "w", encoding="utf-8") as f:
            f.write("\n".join(ordered) + "\n")
    with open(dst, encoding="utf-8") as f:
        return sum(1 for _ in f)


def lowercase_settings(checkpoint: str, tokenizer) -> tuple[bool, bool | None]:
    """(doLowerCase, stripAccents) from tokenizer_config.json, else the fast tokenizer's normalizer."""
    tc = read_json(os.path.join(checkpoint, "tokenizer_config.json"))
    lower = tc.get("do_lower_case")
    strip = tc.get("strip_accents")
    if lower is None:
        tj = read_json(os.path.join(checkpoint, "tokenizer.json"))
        norm = tj.get("normalizer") or {}
        lower = norm.get("lowercase")
        strip = norm.get("strip_accents") if strip is None else strip
    if lower is None:
        lower = bool(getattr(tokenizer, "do_lower_case", True))
    return bool(lower), (None if strip is None else bool(strip))


def derive_label_mapping(types: list[str], name: str) -> dict:
    """A starting point from label names; the FHIR output never invents codes (codings: [])."""
    def target(t: str) -> dict:
        l = t.lower()
        if re.search(r"disease|disorder|problem|condition|diagnos|symptom|sign|finding", l):
            return {"resourceType": "Condition", "category": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "encounter-diagnosis", "display": "Encounter Diagnosis"}]}
        if re.search(r"chemical|drug|medic|treatment_drug", l):
            return {"resourceType": "MedicationStatement"}
        if re.search(r"procedure|surgery|operation", l):
            return {"resourceType": "Procedure"}
        if re.search(r"test|lab|measure|observation", l):
            return {"resourceType": "Observation"}
        return {"resourceType": "ignore"}

    return {
        "$schema": "../../schemas/label-mapping.schema.json",
        "$comment": "Derived from the label names by models/export/export_hf.py: review before use.",
        "model": name,
        "labels": {t: target(t) for t in types},
        "codings": [],
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", help="local folder with config.json, tokenizer files and weights")
    ap.add_argument("--out", help="model folder to write (e.g. models/medbert-ner)")
    ap.add_argument("--name", help="model name (default: the output folder name)")
    ap.add_argument("--version", default="1.0.0")
    ap.add_argument("--max-length", type=int, help="tokens per window incl. [CLS]/[SEP] (default: tokenizer model_max_length if sane, else min(512, max_position_embeddings); MedBERT: use 256)")
    ap.add_argument("--stride", type=int, help="overlap tokens between windows (default: max-length / 4)")
    ap.add_argument("--aggregation", default="first", choices=["first", "simple", "average", "max"])
    ap.add_argument("--label-mapping", help="label-mapping.json to copy into the folder")
    ap.add_argument("--opset", type=int, default=OPSET)
    ap.add_argument("--no-int8", action="store_true")
    ap.add_argument("--no-fp16", action="store_true")
    ap.add_argument("--make-tiny-checkpoint", metavar="DIR", help="write a random small BERT checkpoint to DIR and exit")
    args = ap.parse_args(argv)

    if args.make_tiny_checkpoint:
        make_tiny_checkpoint(args.make_tiny_checkpoint)
        return
    if not args.checkpoint or not args.out:
        ap.error("--checkpoint and --out are required")

    from transformers import AutoConfig, AutoModelForTokenClassification, AutoTokenizer

    ck = args.checkpoint
    config = AutoConfig.from_pretrained(ck, local_files_only=True)
    if config.model_type not in ("bert", "roberta", "distilbert", "electra", "xlm-roberta"):
        log(f"warning: model_type {config.model_type!r} is untested; medner's tokenizer is BERT WordPiece")
    tokenizer = AutoTokenizer.from_pretrained(ck, local_files_only=True)
    model = AutoModelForTokenClassification.from_pretrained(ck, local_files_only=True)
    id2label = {int(k): v for k, v in config.id2label.items()}
    labels = [id2label[i] for i in range(len(id2label))]
    if any(re.fullmatch(r"LABEL_\d+", l) for l in labels):
        raise SystemExit(f"config.json id2label has generic names {labels}: set real BIO labels before exporting")

    os.makedirs(args.out, exist_ok=True)
    name = args.name or os.path.basename(os.path.normpath(args.out))
    fp32 = os.path.join(args.out, "model.onnx")
    export_fp32(model, tokenizer, fp32, args.opset)
    log(f"fp32 -> {fp32} ({os.path.getsize(fp32) / 1e6:.1f} MB)")
    notes = []
    if not args.no_int8:
        how = export_int8(fp32, os.path.join(args.out, "model.int8.onnx"))
        notes.append(f"int8: {how}")
        log(f"int8 -> model.int8.onnx via {how}")
    if not args.no_fp16:
        how = export_fp16(fp32, os.path.join(args.out, "model.fp16.onnx"))
        if how is None:
            log("fp16 skipped: neither onnxruntime.transformers nor onnxconverter-common is installed")
        else:
            notes.append(f"fp16: {how}")
            log(f"fp16 -> model.fp16.onnx via {how}")

    n_vocab = write_vocab(ck, tokenizer, args.out)
    if n_vocab != config.vocab_size:
        log(f"warning: vocab.txt has {n_vocab} tokens, config.vocab_size is {config.vocab_size}")
    lower, strip = lowercase_settings(ck, tokenizer)
    max_pos = int(getattr(config, "max_position_embeddings", 512))
    mml = getattr(tokenizer, "model_max_length", None)
    max_length = args.max_length or (int(mml) if isinstance(mml, int) and 0 < mml <= max_pos else min(512, max_pos))
    stride = args.stride if args.stride is not None else max_length // 4
    cfg = {
        "name": name,
        "version": args.version,
        "labels": labels,
        "doLowerCase": lower,
        **({} if strip is None else {"stripAccents": strip}),
        "maxLength": max_length,
        "stride": stride,
        "aggregation": args.aggregation,
        "labelMapping": "label-mapping.json",
        "description": f"Exported from {os.path.basename(os.path.normpath(ck))} by models/export/export_hf.py.",
    }
    with open(os.path.join(args.out, "medner-model.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")

    mapping_out = os.path.join(args.out, "label-mapping.json")
    if args.label_mapping:
        shutil.copyfile(args.label_mapping, mapping_out)
    elif not os.path.exists(mapping_out):
        types = sorted({re.sub(r"^[BIES]-", "", l) for l in labels if l != "O"})
        mapping = derive_label_mapping(types, name)
        mapping["$schema"] = os.path.relpath(os.path.join(ROOT, "schemas", "label-mapping.schema.json"), os.path.abspath(args.out))
        with open(mapping_out, "w", encoding="utf-8") as f:
            json.dump(mapping, f, indent=2)
            f.write("\n")
        log(f"label-mapping.json derived from label names {types}: review it")

    card = os.path.join(args.out, "README.md")
    if not os.path.exists(card):
        with open(card, "w", encoding="utf-8") as f:
            f.write(
                f"# {name}\n\nExported from `{ck}` with `models/export/export_hf.py`.\n\n"
                f"- labels: {', '.join(labels)}\n- lowercase: {lower}; max length {max_length}, stride {stride}\n"
                + "".join(f"- {n}\n" for n in notes)
                + "\nMeasure it before use: `medner eval --data DEV.tsv --model <this folder>` per variant "
                "(`--variant fp32|int8|fp16`).\n"
            )
    log(f"done: {args.out} ({name}, {len(labels)} labels, vocab {n_vocab}, maxLength {max_length}, lowercase {lower})")


if __name__ == "__main__":
    main()
