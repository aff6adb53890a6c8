"""Dump our PyTorch encoder's last hidden state for a fixed sentence, for verify_encoder.ts to
compare against onnxruntime running the original ONNX file."""
import json
import sys

import torch

from medner_bert import BertModel, config_from_onnx, basic_tokenize, load_encoder_onnx, load_vocab, wordpiece

onnx_path, vocab_path, out_path = sys.argv[1:4]
vocab = load_vocab(vocab_path)
text = "Cisplatin-induced nephrotoxicity was reversed by magnesium in 3 of 12 patients."
pieces = ["[CLS]"] + [p for w in basic_tokenize(text) for p in wordpiece(w, vocab)] + ["[SEP]"]
ids = [vocab[p] for p in pieces]
model = BertModel(config_from_onnx(onnx_path))
load_encoder_onnx(model, onnx_path)
model.eval()
with torch.no_grad():
    t = torch.tensor([ids])
    h = model(t, torch.ones_like(t), torch.zeros_like(t))[0]
json.dump({"ids": ids, "pieces": pieces, "hidden": h.tolist()}, open(out_path, "w"))
print(f"{len(ids)} tokens, hidden {tuple(h.shape)}")
