#!/usr/bin/env bash
# Crash-safety proof for `doge train`, `doge tokenizer train` and `doge convert`
# (RELIABILITY.md, "Crash-safe training").
#
#   scripts/reliability/kill_resume.sh [KILLS]      (default 24 kills; exit 0 when everything holds)
#
# 1. Trains a tiny model (2 layers, hidden 32) for MAX_STEPS steps without interruption: the reference.
# 2. Trains it again, SIGKILLing the process KILLS times at random moments — half of them while a
#    checkpoint is being saved (the kill waits for the save's temporary directory to appear) —
#    resuming with --resume after each kill; then lets it finish.
# 3. After every kill, every checkpoint-N directory must be complete and readable (safetensors
#    headers and sizes, trainer_state.json, config.json), and at the end the final weights and
#    optimizer moments must be byte-identical to the reference run.
# 4. Kills `doge tokenizer train` and `doge convert` at random moments and checks that their
#    output files are either absent or complete (never half-written).
#
# DOGE=path/to/doge selects the binary (default: .build/release/doge, else .build/debug/doge).
# Needs python3 (standard library only) for the file checks.
set -euo pipefail
cd "$(dirname "$0")/../.."
KILLS=${1:-24}
MAX_STEPS=${MAX_STEPS:-40}
DOGE=${DOGE:-}
if [[ -z "$DOGE" ]]; then
    if [[ -x .build/release/doge ]]; then DOGE=.build/release/doge
    elif [[ -x .build/debug/doge ]]; then DOGE=.build/debug/doge
    else swift build -c release --product doge >&2; DOGE=.build/release/doge; fi
fi
DOGE=$(realpath "$DOGE")
REPO=$(pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/doge-kill-resume.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
say() { printf '%s\n' "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

# Training text: the repository's own documentation, repeated (deterministic, ~300 KB).
for _ in 1 2 3 4 5 6; do cat "$REPO"/README.md "$REPO"/Models/doge-tiny/README.md "$REPO"/BENCHMARKS.md; done > data.txt

recipe() {  # recipe OUTPUT_DIR
    cat <<YAML
model_init_kwargs:
  vocab_size: 4096
  hidden_size: 32
  intermediate_size: 64
  num_hidden_layers: 2
  num_attention_heads: 2
  num_key_value_heads: 1
  keep_window_size: 64
  max_position_embeddings: 128
  tie_word_embeddings: true
tokenizer_name_or_path: $REPO/Models/doge-tiny
datasets_and_ratios:
  - $WORK/data.txt: 1.0
max_length: 64
cache_dir: $WORK/cache-$1
seed: 7
max_steps: $MAX_STEPS
per_device_train_batch_size: 4
learning_rate: 1.0e-3
lr_scheduler_type: cosine
warmup_steps: 5
weight_decay: 0.01
max_grad_norm: 1.0
logging_steps: 10
save_strategy: steps
save_steps: 2
save_total_limit: 2
output_dir: $WORK/$1
YAML
}

# Every checkpoint-N under $1 must be complete: safetensors headers parse and the data size
# matches the last offset exactly; JSON files parse; the step in trainer_state.json is N.
check_checkpoints() {
    python3 - "$1" <<'PY'
import json, os, re, struct, sys
root = sys.argv[1]
if not os.path.isdir(root):
    sys.exit(0)
def safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    end = max([v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"] + [0])
    size = os.path.getsize(path) - 8 - n
    assert size == end, f"{path}: data is {size} bytes, header says {end}"
for name in sorted(os.listdir(root)):
    m = re.fullmatch(r"checkpoint-(\d+)", name)
    if not m:
        continue
    d = os.path.join(root, name)
    for f in ["model.safetensors", "optimizer.safetensors"]:
        safetensors(os.path.join(d, f))
    for f in ["config.json", "trainer_state.json", "tokenizer.json", "doge_state.json"]:
        if f == "doge_state.json" and not os.path.exists(os.path.join(d, f)):
            continue  # written by builds that keep transformers' trainer_state.json separate
        with open(os.path.join(d, f)) as fh:
            obj = json.load(fh)
        if f in ("trainer_state.json", "doge_state.json"):
            step = obj.get("globalStep", obj.get("global_step"))
            assert step == int(m.group(1)), f"{d}: trainer_state step {step}"
PY
}

# ---- 1. reference run -------------------------------------------------------------------------
recipe ref > ref.yaml
say "reference: $MAX_STEPS steps, uninterrupted ($DOGE)"
start=$(date +%s.%N)
"$DOGE" train --config ref.yaml > /dev/null 2> ref.log || { cat ref.log >&2; fail "reference run failed"; }
ref_seconds=$(python3 -c "print(round($(date +%s.%N) - $start, 1))")
[[ -d ref/checkpoint-$MAX_STEPS ]] || fail "reference run left no checkpoint-$MAX_STEPS"
say "reference took ${ref_seconds}s"

# ---- 2. killed and resumed run ----------------------------------------------------------------
recipe run > run.yaml
kills=0; during_save=0; resumes=0
while (( kills < KILLS )); do
    args=(train --config run.yaml)
    if compgen -G "run/checkpoint-*" > /dev/null; then args+=(--resume); resumes=$((resumes + 1)); fi
    "$DOGE" "${args[@]}" > /dev/null 2>> run.log &
    pid=$!
    if (( kills % 2 == 1 )); then
        # Wait (up to 20 s) for a checkpoint save to begin, then kill within ~0-30 ms.
        for _ in $(seq 2000); do
            compgen -G "run/.checkpoint-*.tmp-$pid" > /dev/null && break
            kill -0 $pid 2> /dev/null || break
            sleep 0.01
        done
        sleep "0.0$((RANDOM % 3))$((RANDOM % 10))"
    else
        sleep "$(python3 -c "import random; print(random.uniform(0.05, $ref_seconds))")"
    fi
    if kill -0 $pid 2> /dev/null; then
        compgen -G "run/.checkpoint-*.tmp-$pid" > /dev/null && during_save=$((during_save + 1))
        kill -KILL $pid; wait $pid 2> /dev/null || true
        kills=$((kills + 1))
    else
        wait $pid || fail "doge train exited with an error (see below)"$'\n'"$(tail -5 run.log)"
        # Finished before the kill: start over so every kill lands on a live run.
        rm -rf run
    fi
    check_checkpoints run || fail "a checkpoint is incomplete after kill $kills"
    latest=$( (ls -d run/checkpoint-* 2> /dev/null || true) | sed "s/.*-//" | sort -n | tail -1)
    say "kill $kills: latest checkpoint ${latest:-none}, $during_save kills during a save"
done
"$DOGE" train --config run.yaml --resume > /dev/null 2>> run.log || fail "final resume failed"
check_checkpoints run || fail "a checkpoint is incomplete at the end"
for f in model.safetensors optimizer.safetensors; do
    cmp -s "ref/checkpoint-$MAX_STEPS/$f" "run/checkpoint-$MAX_STEPS/$f" \
        || fail "$f after $kills kills differs from the uninterrupted run"
done
say "training: $kills SIGKILLs ($during_save during a checkpoint save), $resumes resumes; every checkpoint complete; final weights and moments byte-identical"

# ---- 3. tokenizer train and convert -----------------------------------------------------------
complete_or_absent() {  # DIR FILE...: each file absent or a complete, parseable file
    python3 - "$@" <<'PY'
import json, os, struct, sys
d = sys.argv[1]
for f in sys.argv[2:]:
    p = os.path.join(d, f)
    if not os.path.exists(p):
        continue
    if f.endswith(".json"):
        json.load(open(p))
    else:
        with open(p, "rb") as fh:
            n = struct.unpack("<Q", fh.read(8))[0]
            h = json.loads(fh.read(n))
        end = max([v["data_offsets"][1] for k, v in h.items() if k != "__metadata__"] + [0])
        assert os.path.getsize(p) - 8 - n == end, p
PY
}
tk_kills=0
for i in $(seq 8); do
    "$DOGE" tokenizer train --vocab-size 2000 --input data.txt --output tok > /dev/null 2>&1 &
    pid=$!
    sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
    kill -KILL $pid 2> /dev/null && tk_kills=$((tk_kills + 1)); wait $pid 2> /dev/null || true
    complete_or_absent tok tokenizer.json tokenizer_config.json special_tokens_map.json \
        || fail "doge tokenizer train left a half-written file (kill $i)"
done
cv_kills=0
for i in $(seq 8); do
    "$DOGE" convert --model "ref/checkpoint-$MAX_STEPS" --output conv --dtype bf16 > /dev/null 2>&1 &
    pid=$!
    sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
    kill -KILL $pid 2> /dev/null && cv_kills=$((cv_kills + 1)); wait $pid 2> /dev/null || true
    complete_or_absent conv model.safetensors config.json tokenizer.json tokenizer_config.json \
        || fail "doge convert left a half-written file (kill $i)"
done
say "tokenizer train: $tk_kills kills, convert: $cv_kills kills; no half-written output file"
say "OK"
