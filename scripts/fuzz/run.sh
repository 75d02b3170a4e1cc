#!/usr/bin/env bash
# Runs one libFuzzer harness (RELIABILITY.md, "Fuzzing").
#
#   scripts/fuzz/run.sh --list              the targets
#   scripts/fuzz/run.sh TARGET SECONDS      fuzz TARGET for SECONDS; exit 0 when nothing was found
#
# Starts from the committed seeds (scripts/fuzz/corpus/TARGET, never modified) plus the inputs
# earlier runs found (.build/fuzz/corpus/TARGET). A crash, a hang (an input over 10 s), a leak
# or an input that makes the process use over 2 GB is a failure: the exit status is non-zero
# and the reproducer is saved as .build/fuzz/artifacts/TARGET/crash-… (rerun it with
# DOGE_FUZZ_TARGET=TARGET .build/fuzz/doge-fuzz FILE). The last line says how many inputs ran.
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGETS=(json safetensors config tokenizer-json tokenizer-encode jinja recipe server-request)
if [[ ${1:-} == --list ]]; then printf '%s\n' "${TARGETS[@]}"; exit 0; fi
if [[ $# -ne 2 ]] || [[ ! " ${TARGETS[*]} " == *" $1 "* ]]; then
    echo "usage: scripts/fuzz/run.sh TARGET SECONDS | --list   (targets: ${TARGETS[*]})" >&2
    exit 64
fi
TARGET=$1 SECONDS_=$2
scripts/fuzz/build.sh
WORK=.build/fuzz/corpus/$TARGET ART=.build/fuzz/artifacts/$TARGET
mkdir -p "$WORK" "$ART"
LOG=.build/fuzz/$TARGET.log
set +e
DOGE_FUZZ_TARGET=$TARGET ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 LSAN_OPTIONS=suppressions=scripts/fuzz/lsan.supp \
    .build/fuzz/doge-fuzz "$WORK" "scripts/fuzz/corpus/$TARGET" \
    -max_total_time="$SECONDS_" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$ART/" -print_final_stats=1 > "$LOG" 2>&1
status=$?
set -e
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$LOG" | grep -o '[0-9]*$' || echo "?")
if [[ $status -ne 0 ]]; then
    grep -E 'ERROR|==[0-9]+==|Fatal error|SUMMARY|Test unit written' "$LOG" | head -20 >&2
    echo "$TARGET: FAILED after $runs inputs (exit $status); log $LOG" >&2
    exit 1
fi
echo "$TARGET: $runs inputs in $SECONDS_ s, no crash, hang or leak"
