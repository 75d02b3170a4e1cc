#!/usr/bin/env bash
# Trains doge-tiny v2 (base) from Models/doge-tiny/recipe-v2.yaml, resumably, at the lowest CPU
# priority (nice 19), into a run folder outside the repository so that it survives worktrees:
#   1. builds corpus v2 into corpus-v2/ unless it is there (scripts/corpus/build_corpus.sh --passages)
#   2. builds the release binary
#   3. doge train --config Models/doge-tiny/recipe-v2.yaml --output-dir RUN [--resume] [ARGS]
#      with --resume whenever RUN holds a checkpoint, so the same command continues a stopped run
#      exactly (data order, optimizer, schedule; checkpoints every 50 steps, the newest two kept).
#
# usage: scripts/doge-tiny-v2/train.sh [doge train flags, e.g. --stop-at 600]
# env:   DOGE_V2_RUN=DIR  the run folder (default /root/doge-runs/doge-tiny-v2)
#        DOGE_THREADS=N   compute threads (default: all cores)
# Stop it with Ctrl-C or `kill -TERM PID` (it saves a checkpoint first); run it again to resume.
# In the background:  nohup scripts/doge-tiny-v2/train.sh > RUN.log 2>&1 &
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi

RUN=${DOGE_V2_RUN:-/root/doge-runs/doge-tiny-v2}
[ -s corpus-v2/train.jsonl ] && [ -s corpus-v2/eval.jsonl ] || scripts/corpus/build_corpus.sh --passages corpus-v2
swift build -c release --product doge
DOGE=$(swift build -c release --show-bin-path)/doge

RESUME=()
ls -d "$RUN"/checkpoint-* >/dev/null 2>&1 && RESUME=(--resume)
exec nice -n 19 "$DOGE" train --config Models/doge-tiny/recipe-v2.yaml --output-dir "$RUN" "${RESUME[@]}" "$@"
