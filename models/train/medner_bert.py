"""A small BERT encoder + token-classification head in plain PyTorch, and a BERT-uncased
WordPiece tokenizer in plain Python (no Hugging Face transformers here).

Parameter names follow the Hugging Face BERT layout (embeddings.*, encoder.layer.N.*) so the
ONNX initializers of pretrained encoders (all-MiniLM-L6-v2, bge-small-en-v1.5) map onto them by name.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

import torch
from torch import nn

LABELS = ["O", "B-Chemical", "I-Chemical", "B-Disease", "I-Disease"]
PAD_ID, UNK_TOKEN, CLS_TOKEN, SEP_TOKEN = 0, "[UNK]", "[CLS]", "[SEP]"


# --------------------------------------------------------------------------- model
@dataclass
class BertConfig:
    vocab_size: int = 30522
    hidden: int = 384
    layers: int = 6
    heads: int = 12
    intermediate: int = 1536
    max_position: int = 512
    type_vocab: int = 2
    layer_norm_eps: float = 1e-12
    dropout: float = 0.1


class Embeddings(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden)
        self.position_embeddings = nn.Embedding(c.max_position, c.hidden)
        self.token_type_embeddings = nn.Embedding(c.type_vocab, c.hidden)
        self.LayerNorm = nn.LayerNorm(c.hidden, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, input_ids, token_type_ids):
        seq = input_ids.shape[1]
        pos = torch.arange(seq, device=input_ids.device).unsqueeze(0)
        x = self.word_embeddings(input_ids) + self.position_embeddings(pos) + self.token_type_embeddings(token_type_ids)
        return self.dropout(self.LayerNorm(x))


class SelfAttention(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.heads = c.heads
        self.head_dim = c.hidden // c.heads
        self.query = nn.Linear(c.hidden, c.hidden)
        self.key = nn.Linear(c.hidden, c.hidden)
        self.value = nn.Linear(c.hidden, c.hidden)
        self.dropout = nn.Dropout(c.dropout)

    def _split(self, x):
        b, s, _ = x.shape
        return x.view(b, s, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x, mask_bias):
        q, k, v = self._split(self.query(x)), self._split(self.key(x)), self._split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim) + mask_bias
        probs = self.dropout(torch.softmax(scores, dim=-1))
        ctx = torch.matmul(probs, v).transpose(1, 2)
        return ctx.reshape(ctx.shape[0], ctx.shape[1], -1)


class DenseNorm(nn.Module):
    """dense -> dropout -> residual add -> LayerNorm (BertSelfOutput / BertOutput)."""

    def __init__(self, c: BertConfig, d_in: int):
        super().__init__()
        self.dense = nn.Linear(d_in, c.hidden)
        self.LayerNorm = nn.LayerNorm(c.hidden, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, x, residual):
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class Attention(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = DenseNorm(c, c.hidden)

    def forward(self, x, mask_bias):
        return self.output(self.self(x, mask_bias), x)


class Intermediate(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.dense = nn.Linear(c.hidden, c.intermediate)

    def forward(self, x):
        return nn.functional.gelu(self.dense(x))  # exact (erf) GELU, as in BERT


class Layer(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = DenseNorm(c, c.intermediate)

    def forward(self, x, mask_bias):
        a = self.attention(x, mask_bias)
        return self.output(self.intermediate(a), a)


class Encoder(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c) for _ in range(c.layers)])

    def forward(self, x, mask_bias):
        for layer in self.layer:
            x = layer(x, mask_bias)
        return x


class BertModel(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.config = c
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)

    def forward(self, input_ids, attention_mask, token_type_ids):
        # Additive mask: 0 where attended, a large negative where padded.
        mask_bias = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -10000.0
        return self.encoder(self.embeddings(input_ids, token_type_ids), mask_bias)


class BertForTokenClassification(nn.Module):
    def __init__(self, c: BertConfig, num_labels: int = len(LABELS)):
        super().__init__()
        self.bert = BertModel(c)
        self.dropout = nn.Dropout(c.dropout)
        self.classifier = nn.Linear(c.hidden, num_labels)
        nn.init.normal_(self.classifier.weight, std=0.02)
        nn.init.zeros_(self.classifier.bias)

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.classifier(self.dropout(self.bert(input_ids, attention_mask, token_type_ids)))


def init_random(model: nn.Module) -> None:
    """BERT-style init (normal 0.02) for a from-scratch / smoke model."""
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)


def config_from_onnx(onnx_path: str, heads: int = 12) -> BertConfig:
    """The encoder's shape (vocabulary, hidden size, layers, intermediate size) from the
    initializers of a Hugging Face BERT ONNX export (all-MiniLM-L6-v2, bge-small-en-v1.5, ...).
    The head count is not recorded in the graph's weights; both encoders we use have 12."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(onnx_path)
    dims = {t.name: list(t.dims) for t in m.graph.initializer}
    vocab_size, hidden = dims["embeddings.word_embeddings.weight"]
    layers = 1 + max(int(re.match(r"encoder\.layer\.(\d+)\.", n).group(1)) for n in dims if re.match(r"encoder\.layer\.\d+\.", n))
    return BertConfig(vocab_size=vocab_size, hidden=hidden, layers=layers, heads=heads,
                      intermediate=dims["encoder.layer.0.intermediate.dense.bias"][0],
                      max_position=dims["embeddings.position_embeddings.weight"][0])


def load_encoder_onnx(bert: BertModel, onnx_path: str) -> None:
    """Copy a BERT encoder's weights (all-MiniLM-L6-v2, bge-small-en-v1.5) from its ONNX initializers into `bert`.

    Named initializers (embeddings, biases, LayerNorms) map by name. The linear weights are
    anonymous MatMul initializers (`onnx::MatMul_N`, stored as W^T); we find each one's MatMul
    node and read the bias name from the Add that consumes its output.
    """
    import onnx
    from onnx import numpy_helper

    m = onnx.load(onnx_path)
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    consumers: dict[str, list] = {}
    for node in m.graph.node:
        for i in node.input:
            consumers.setdefault(i, []).append(node)
    state = {}
    for node in m.graph.node:
        if node.op_type != "MatMul" or node.input[1] not in inits:
            continue
        adds = [n for n in consumers.get(node.output[0], []) if n.op_type == "Add"]
        bias = next((i for a in adds for i in a.input if i.endswith(".bias") and i in inits), None)
        if bias is None:
            raise RuntimeError(f"no bias Add after MatMul {node.name}")
        state[bias[: -len(".bias")] + ".weight"] = torch.from_numpy(inits[node.input[1]].T.copy())
    for name, arr in inits.items():
        if name.startswith(("embeddings.", "encoder.")) and name != "embeddings.position_ids":
            state[name] = torch.from_numpy(arr.copy())
    missing, unexpected = bert.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise RuntimeError(f"weight mapping failed: missing={missing} unexpected={unexpected}")


# --------------------------------------------------------------------------- tokenizer
def load_vocab(path: str) -> dict[str, int]:
    with open(path, encoding="utf-8") as f:
        return {line.rstrip("\n"): i for i, line in enumerate(f)}


def _is_whitespace(ch: str) -> bool:
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def _is_control(ch: str) -> bool:
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch).startswith("C")


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F
    )


def basic_tokenize(text: str, lower: bool = True) -> list[str]:
    """BERT BasicTokenizer: clean, space CJK, whitespace split, lowercase + strip accents, split punctuation."""
    chars = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or _is_control(ch):
            continue
        if _is_whitespace(ch):
            chars.append(" ")
        elif _is_cjk(cp):
            chars.append(f" {ch} ")
        else:
            chars.append(ch)
    words = []
    for w in "".join(chars).split():
        if lower:
            w = "".join(c for c in unicodedata.normalize("NFD", w.lower()) if unicodedata.category(c) != "Mn")
        cur = ""
        for ch in w:
            if _is_punctuation(ch):
                if cur:
                    words.append(cur)
                    cur = ""
                words.append(ch)
            else:
                cur += ch
        if cur:
            words.append(cur)
    return words


def wordpiece(word: str, vocab: dict[str, int], max_chars: int = 100) -> list[str]:
    if len(word) > max_chars:
        return [UNK_TOKEN]
    pieces, start = [], 0
    while start < len(word):
        end, piece = len(word), None
        while start < end:
            sub = word[start:end] if start == 0 else "##" + word[start:end]
            if sub in vocab:
                piece = sub
                break
            end -= 1
        if piece is None:
            return [UNK_TOKEN]
        pieces.append(piece)
        start = end
    return pieces
