"""Export a train.py checkpoint to our model folder format:

  model.onnx        fp32, inputs input_ids / attention_mask / token_type_ids (int64 [batch, sequence]),
                    output logits (float32 [batch, sequence, num_labels]); dynamic batch and sequence
  model.int8.onnx   dynamic int8 (quantize_int8.py)
  vocab.txt, medner-model.json, label-mapping.json (only when absent: it is hand-maintained)

Also writes <checkpoint>.dev-encoded.json next to the checkpoint (the dev sentences encoded with
our tokenizer + gold tags) for score_onnx.ts, which scores the exported ONNX files in onnxruntime-node.

  /usr/bin/python3 models/train/export_onnx.py --checkpoint ckpt.pt --vocab vocab.txt --out models/<name>
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from medner_bert import BertConfig, BertForTokenClassification, load_vocab  # noqa: E402
from quantize_int8 import quantize  # noqa: E402
import train as train_mod  # noqa: E402
from train import encode, read_bio  # noqa: E402

OPSET = 14
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


class _Export(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.model(input_ids, attention_mask, token_type_ids)


def export_fp32(model, path: str) -> None:
    n = model.bert.config.vocab_size
    ids = torch.tensor([[101, 7592, 2088, 102, 0, 0], [101, 7592, 2088, 2003, 1037, 102]]) % n
    mask = (ids != 0).long()
    dyn = {0: "batch", 1: "sequence"}
    torch.onnx.export(
        _Export(model).eval(), (ids, mask, torch.zeros_like(ids)), path,
        input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
        dynamic_axes={"input_ids": dyn, "attention_mask": dyn, "token_type_ids": dyn, "logits": dyn},
        opset_version=OPSET, do_constant_folding=True,
    )
    onnx.checker.check_model(onnx.load(path))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--vocab", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", default=None, help="model name (default: the folder name)")
    ap.add_argument("--version", default="1.0.0")
    ap.add_argument("--min-score", type=float, default=0.0,
                    help="config minScore: the runtime drops entities scoring below it (chosen on a dev split)")
    ap.add_argument("--encoder-name", default="all-MiniLM-L6-v2", help="the pretrained encoder, for the config's description")
    ap.add_argument("--description", default=None, help="config description (default: the BC5CDR model's)")
    ap.add_argument("--mapping-src", default=os.path.join("src", "fhir", "mappings", "bc5cdr.label-mapping.json"),
                    help="label mapping copied to the folder as label-mapping.json when the folder has none (relative to the repository)")
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--stride", type=int, default=64)
    ap.add_argument("--segment", choices=["none", "sentence"], default="none",
                    help="config segment: sentence when the model was trained on one sentence per sequence (the runtime then "
                         "infers each sentence alone, src/nlp/segments.ts); none: windows over the whole document")
    ap.add_argument("--decoder", choices=["greedy", "viterbi"], default="greedy",
                    help="config decoder: viterbi chooses the most probable BIO-valid label sequence (src/nlp/decode.ts); chosen on dev")
    ap.add_argument("--keep-fp32", action="store_true", help="leave model.onnx in the folder (not shipped: ~130 MB for bge-small, ~90 MB for MiniLM)")
    ap.add_argument("--dev", nargs="*", help="dev files to encode for score_onnx.ts (default: the checkpoint's)")
    ap.add_argument("--quantize-min-elements", type=int, default=4096, help=argparse.SUPPRESS)  # tests: 0
    args = ap.parse_args(argv)

    ckpt = torch.load(args.checkpoint)
    config = BertConfig(**ckpt["config"])
    labels = ckpt["labels"]
    train_mod.set_labels([l[2:] for l in labels if l.startswith("B-")])
    if train_mod.LABELS != labels:
        raise SystemExit(f"checkpoint labels {labels} are not O + B-/I- pairs")
    model = BertForTokenClassification(config, len(labels))
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    os.makedirs(args.out, exist_ok=True)
    cache = os.path.dirname(os.path.abspath(args.checkpoint))
    fp32_path = os.path.join(cache, "model.onnx")
    export_fp32(model, fp32_path)
    q_min = args.quantize_min_elements
    int8 = quantize(onnx.load(fp32_path), min_elements=q_min, min_vocab=q_min)
    onnx.save(int8, os.path.join(args.out, "model.int8.onnx"))
    if args.keep_fp32:
        shutil.copyfile(fp32_path, os.path.join(args.out, "model.onnx"))
    shutil.copyfile(args.vocab, os.path.join(args.out, "vocab.txt"))

    name = args.name or os.path.basename(os.path.normpath(args.out))
    meta = ckpt.get("meta", {})
    cfg = {
        "name": name,
        "version": args.version,
        "labels": labels,
        "doLowerCase": True,
        "stripAccents": True,
        "maxLength": args.max_length,
        "stride": args.stride,
        "aggregation": "first",
        **({"segment": args.segment} if args.segment != "none" else {}),
        **({"decoder": args.decoder} if args.decoder != "greedy" else {}),
        **({"minScore": args.min_score} if args.min_score > 0 else {}),
        "labelMapping": "label-mapping.json",
        "description": args.description or (
            f"{args.encoder_name} ({config.layers} layers, hidden {config.hidden}, uncased WordPiece) fine-tuned for Chemical and Disease "
            "NER on BC5CDR train + NCBI-disease train (PubMed abstracts); selected on BC5CDR dev. "
            "See README.md."
        ),
    }
    with open(os.path.join(args.out, "medner-model.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")

    # label-mapping.json is hand-maintained next to the model; seed it from the FHIR output's
    # BC5CDR mapping (Disease -> Condition, Chemical -> MedicationStatement) when absent.
    mapping_out = os.path.join(args.out, "label-mapping.json")
    mapping_src = os.path.join(ROOT, args.mapping_src)
    if not os.path.exists(mapping_out) and os.path.exists(mapping_src):
        mapping = json.load(open(mapping_src, encoding="utf-8"))
        mapping["$schema"] = os.path.relpath(os.path.join(ROOT, "schemas", "label-mapping.schema.json"), os.path.abspath(args.out))
        mapping["model"] = name
        with open(mapping_out, "w", encoding="utf-8") as f:
            json.dump(mapping, f, indent=2)
            f.write("\n")

    # Dev sentences encoded with our tokenizer, for scoring the ONNX files in onnxruntime-node.
    vocab = load_vocab(args.vocab)
    dev = {}
    for path in args.dev if args.dev is not None else meta.get("dev_files", []):
        sents = read_bio(path)
        rows = []
        for s in sents:
            ids, _, first = encode(s, vocab, True, 512)
            rows.append({"ids": ids, "first": first, "gold": [t for _, t in s]})
        dev[os.path.basename(os.path.dirname(path))] = rows
    with open(os.path.splitext(args.checkpoint)[0] + ".dev-encoded.json", "w") as f:
        json.dump({"labels": labels, "sets": dev}, f)
    print(f"exported {name} -> {args.out} (fp32 at {fp32_path})", flush=True)


if __name__ == "__main__":
    main()
