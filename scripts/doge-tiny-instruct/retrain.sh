#!/usr/bin/env bash
# DRAFT (issue 17, item 3) until `doge sft`, `doge dpo`, `doge grpo` and `doge eval` land on main;
# not yet run. The whole SmallDoge post-training chain on a CPU:
#   doge-tiny v2 (Models/doge-tiny) -> doge sft -> doge dpo -> doge grpo -> Models/doge-tiny-instruct
# evaluating every stage (base included) on the held-out instruction tasks
# (Models/doge-tiny-instruct/tasks: doge_define_mc, doge_arithmetic, doge_format).
#
# usage: scripts/doge-tiny-instruct/retrain.sh      (from anywhere; works in the repository root)
# Each stage resumes from its newest checkpoint when the script is run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi

M=Models/doge-tiny-instruct
RUNS=runs/doge-tiny-instruct
[ -s instruct-data/MANIFEST.tsv ] || scripts/instruct-data/build_instruct_data.sh instruct-data
swift build -c release --product doge
DOGE=$(swift build -c release --show-bin-path)/doge

newest() { ls -d "$1"/checkpoint-* | sort -t- -k2 -n | tail -n1; }
resume() { ls -d "$1"/checkpoint-* >/dev/null 2>&1 && echo --resume || true; }
evaluate() {  # evaluate MODEL NAME
  "$DOGE" eval --model "$1" --include-path "$M/tasks" --data-dir instruct-data/eval \
    --tasks doge_define_mc,doge_arithmetic,doge_format --output-path "$RUNS/eval-$2.json"
}

mkdir -p "$RUNS"
evaluate Models/doge-tiny base
"$DOGE" sft --config "$M/sft.yaml" $(resume "$RUNS/sft")
SFT=$(newest "$RUNS/sft"); evaluate "$SFT" sft
"$DOGE" dpo --config "$M/dpo.yaml" --model "$SFT" $(resume "$RUNS/dpo")
DPO=$(newest "$RUNS/dpo"); evaluate "$DPO" dpo
"$DOGE" grpo --config "$M/grpo.yaml" --model "$DPO" $(resume "$RUNS/grpo")
GRPO=$(newest "$RUNS/grpo"); evaluate "$GRPO" grpo

"$DOGE" convert --model "$GRPO" --output "$M" --dtype bf16
echo "== $M: $(du -sh "$M/model.safetensors" | cut -f1); evaluations in $RUNS/eval-{base,sft,dpo,grpo}.json"
