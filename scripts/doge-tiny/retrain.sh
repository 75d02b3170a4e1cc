#!/usr/bin/env bash
# Retrains the bundled model Models/doge-tiny (v2) from scratch with swift-doge alone:
#   1. builds the public-domain corpus v1 (scripts/corpus/build_corpus.sh corpus) and trains the
#      4,096-token tokenizer on it (reproduces tokenizer.json byte for byte; v2 keeps v1's tokenizer)
#   2. builds corpus v2, whole passages (scripts/corpus/build_corpus.sh --passages corpus-v2)
#   3. trains the model: doge train --config Models/doge-tiny/recipe-v2.yaml (into runs/doge-tiny-v2;
#      an interrupted run continues from its newest checkpoint when this script is run again)
#   4. exports the last checkpoint as BF16 into Models/doge-tiny (next to its hand-written
#      generation_config.json, which stays) and draws the loss curve (loss.svg)
#
# usage: scripts/doge-tiny/retrain.sh        (from anywhere; works in the repository root)
# env:   DOGE_THREADS=N  compute threads (default: all cores)
#        RECIPE=Models/doge-tiny/recipe.yaml  retrains v1 instead (corpus v1, blocks of 256, into runs/doge-tiny)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi

MODEL=Models/doge-tiny
RECIPE=${RECIPE:-$MODEL/recipe-v2.yaml}
RUN=$(sed -n 's/^output_dir: *\.\.\/\.\.\/\(.*\)$/\1/p' "$RECIPE")
STEPS=$(sed -n 's/^max_steps: *\([0-9]*\).*/\1/p' "$RECIPE")

[ -s corpus/train.jsonl ] && [ -s corpus/eval.jsonl ] || scripts/corpus/build_corpus.sh corpus
[ -s corpus-v2/train.jsonl ] && [ -s corpus-v2/eval.jsonl ] || scripts/corpus/build_corpus.sh --passages corpus-v2

swift build -c release --product doge
DOGE=$(swift build -c release --show-bin-path)/doge

"$DOGE" tokenizer train --vocab-size 4096 --input corpus/train.jsonl --output "$MODEL"

RESUME=()
ls -d "$RUN"/checkpoint-* >/dev/null 2>&1 && RESUME=(--resume)
"$DOGE" train --config "$RECIPE" "${RESUME[@]}"

"$DOGE" convert --model "$RUN/checkpoint-$STEPS" --output "$MODEL" --dtype bf16
"$DOGE" plot "$RUN" --output "$MODEL/loss.svg"
echo "== $MODEL: $(du -sh "$MODEL/model.safetensors" | cut -f1) of weights; try: $DOGE generate \"Once upon a time\""
