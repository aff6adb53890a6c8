"""Write vocab.txt (one token per line, in id order) from a Hugging Face tokenizer.json."""
import json
import sys

tok = json.load(open(sys.argv[1], encoding="utf-8"))
vocab = tok["model"]["vocab"]
ordered = sorted(vocab.items(), key=lambda kv: kv[1])
assert [i for _, i in ordered] == list(range(len(ordered))), "vocab ids are not dense"
with open(sys.argv[2], "w", encoding="utf-8") as f:
    for token, _ in ordered:
        f.write(token + "\n")
print(f"vocab: {len(ordered)} tokens -> {sys.argv[2]}")
