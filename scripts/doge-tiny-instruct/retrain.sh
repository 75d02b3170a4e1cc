#!/usr/bin/env bash
# The whole SmallDoge post-training chain on a CPU (issue 17, item 3):
#   doge-tiny v2 (Models/doge-tiny) -> doge sft -> doge dpo -> doge grpo -> Models/doge-tiny-instruct
# evaluating every stage (base included) on the held-out instruction tasks
# (Models/doge-tiny-instruct/tasks: doge_define_mc, doge_arithmetic, doge_format, doge_verifiable).
#
# usage: scripts/doge-tiny-instruct/retrain.sh      (from anywhere; works in the repository root)
# Run it again to continue: each stage resumes from its newest checkpoint (a stage listed in
# stages.tsv is finished and skipped), and an evaluation already written is not repeated. Stage
# wall times go to runs/doge-tiny-instruct/stages.tsv, evaluations to runs/doge-tiny-instruct/eval-STAGE.json.
# env: DOGE=path to the doge binary (default: the release build, built first)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi

M=Models/doge-tiny-instruct
RUNS=runs/doge-tiny-instruct
[ -s instruct-data/MANIFEST.tsv ] || scripts/instruct-data/build_instruct_data.sh instruct-data
if [ -z "${DOGE:-}" ]; then
  swift build -c release --product doge
  DOGE=$(swift build -c release --show-bin-path)/doge
fi

newest() { ls -d "$1"/checkpoint-* | sort -t- -k2 -n | tail -n1; }
resume() { ls -d "$1"/checkpoint-* >/dev/null 2>&1 && echo --resume || true; }
evaluate() {  # evaluate MODEL STAGE
  [ -s "$RUNS/eval-$2.json" ] && return 0
  "$DOGE" eval --model "$1" --include-path "$M/tasks" --data-dir instruct-data/eval \
    --tasks doge_define_mc,doge_arithmetic,doge_format,doge_verifiable --output-path "$RUNS/eval-$2.json"
}
stage() {  # stage NAME COMMAND... : runs a training stage, appending its wall time to stages.tsv
  local name=$1 start; shift
  grep -q "^$name	" "$RUNS/stages.tsv" 2>/dev/null && return 0   # finished (stages.tsv says so)
  start=$(date +%s)
  "$@"
  printf '%s\t%s\t%d\n' "$name" "$(date -u +%FT%TZ)" $(( $(date +%s) - start )) >> "$RUNS/stages.tsv"
}

mkdir -p "$RUNS"
evaluate Models/doge-tiny base
stage sft "$DOGE" sft --config "$M/sft.yaml" $(resume "$RUNS/sft")
SFT=$(newest "$RUNS/sft"); evaluate "$SFT" sft
stage dpo "$DOGE" dpo --config "$M/dpo.yaml" --model "$SFT" $(resume "$RUNS/dpo")
DPO=$(newest "$RUNS/dpo"); evaluate "$DPO" dpo
stage grpo "$DOGE" grpo --config "$M/grpo.yaml" --model "$DPO" $(resume "$RUNS/grpo")
GRPO=$(newest "$RUNS/grpo"); evaluate "$GRPO" grpo

"$DOGE" convert --model "$GRPO" --output "$M" --dtype bf16
echo "== $M: $(du -sh "$M/model.safetensors" | cut -f1); evaluations in $RUNS/eval-{base,sft,dpo,grpo}.json"
