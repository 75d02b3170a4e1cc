#!/usr/bin/env bash
# Retrains the bundled model Models/doge-tiny from scratch with swift-doge alone:
#   1. builds the public-domain corpus (scripts/corpus/build_corpus.sh corpus), unless corpus/ has it
#   2. trains the 4,096-token tokenizer on corpus/train.jsonl (reproduces tokenizer.json byte for byte)
#   3. trains the model: doge train --config Models/doge-tiny/recipe.yaml (into runs/doge-tiny;
#      an interrupted run continues from its newest checkpoint when this script is run again)
#   4. exports the last checkpoint as BF16 into Models/doge-tiny (next to its hand-written
#      generation_config.json, which stays) and draws the loss curve (loss.svg)
#
# usage: scripts/doge-tiny/retrain.sh        (from anywhere; works in the repository root)
# env:   DOGE_THREADS=N  compute threads (default: all cores)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi

MODEL=Models/doge-tiny
RUN=runs/doge-tiny
RECIPE=$MODEL/recipe.yaml
STEPS=$(sed -n 's/^max_steps: *\([0-9]*\).*/\1/p' "$RECIPE")

[ -s corpus/train.jsonl ] && [ -s corpus/eval.jsonl ] || scripts/corpus/build_corpus.sh corpus

swift build -c release --product doge
DOGE=$(swift build -c release --show-bin-path)/doge

"$DOGE" tokenizer train --vocab-size 4096 --input corpus/train.jsonl --output "$MODEL"

RESUME=()
ls -d "$RUN"/checkpoint-* >/dev/null 2>&1 && RESUME=(--resume)
"$DOGE" train --config "$RECIPE" "${RESUME[@]}"

"$DOGE" convert --model "$RUN/checkpoint-$STEPS" --output "$MODEL" --dtype bf16
"$DOGE" plot "$RUN" --output "$MODEL/loss.svg"
echo "== $MODEL: $(du -sh "$MODEL/model.safetensors" | cut -f1) of weights; try: $DOGE generate \"Once upon a time\""
