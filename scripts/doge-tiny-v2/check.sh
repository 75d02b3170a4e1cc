#!/usr/bin/env bash
# Issue 17 item 1's two checks for a base model (default: the v2 run's newest checkpoint):
#   1. `doge generate "Once upon a time" --seed S --max-new-tokens 100` for S = 1…20: words
#      printed per seed (pass: at least 40 words for at least 18 seeds)
#   2. held-out loss on corpus v2's eval split (corpus-v2/eval.jsonl) in bits per byte (pass:
#      below v1's 1.71): one `doge train` step at learning rate 1e-30 (a float32 no-op: no weight changes)
#      with evaluation after it, at block length MAX_LENGTH; bits per byte = eval loss (nats per
#      token) x eval tokens / eval text bytes / ln 2, as v1's model card computes its 1.71.
#
# usage: scripts/doge-tiny-v2/check.sh [MODEL_DIR] [MAX_LENGTH]   (MAX_LENGTH default 1024; v1: 256)
# env:   DOGE=path to the doge binary (default: the release build); ONLY=generate or ONLY=bpb runs one check
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
RUN=${DOGE_V2_RUN:-/root/doge-runs/doge-tiny-v2}
MODEL=${1:-$(ls -d "$RUN"/checkpoint-* | sort -t- -k2 -n | tail -n1)}
LEN=${2:-1024}
DOGE=${DOGE:-$(swift build -c release --show-bin-path)/doge}
echo "== $MODEL"

if [ "${ONLY:-generate}" = generate ]; then
pass=0
for s in $(seq 1 20); do
  words=$("$DOGE" generate --model "$MODEL" "Once upon a time" --seed "$s" --max-new-tokens 100 2>/dev/null | wc -w)
  [ "$words" -ge 40 ] && pass=$((pass + 1))
  printf 'seed %2d: %3d words\n' "$s" "$words"
done
echo "seeds with >= 40 words: $pass of 20 (pass: >= 18)"
fi
[ "${ONLY:-bpb}" = bpb ] || exit 0

TMP=$(mktemp -d "${TMPDIR:-/tmp}/doge-check.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
"$DOGE" train --model "$MODEL" --tokenizer "$MODEL" --dataset corpus-v2/eval.jsonl --eval-dataset corpus-v2/eval.jsonl \
  --output-dir "$TMP" --max-steps 1 --learning-rate 1e-30 --eval-steps 1 --max-length "$LEN" --batch-size 1 \
  --set warmup_steps=0 --set lr_scheduler_type=constant --set save_strategy=no --set dataset_text_field=text > "$TMP/log" 2>&1 \
  || { cat "$TMP/log"; exit 1; }
python3 - "$TMP/metrics.jsonl" corpus-v2/eval.jsonl "$TMP/log" <<'PY'
import json, math, re, sys
metrics = [json.loads(l) for l in open(sys.argv[1])]
loss = [m["eval_loss"] for m in metrics if "eval_loss" in m][-1]
text_bytes = sum(len(json.loads(l)["text"].encode()) for l in open(sys.argv[2]))
tokens = int(re.findall(r"tokenizing eval\.jsonl: [0-9.]+% of [0-9.]+ MB, (\d+) tokens", open(sys.argv[3]).read().replace("\r", "\n"))[-1])
print("eval loss %.4f nats/token, %d tokens, %d bytes: %.3f bits per byte (pass: < 1.71)" % (loss, tokens, text_bytes, loss * tokens / text_bytes / math.log(2)))
PY
