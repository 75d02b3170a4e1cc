#!/usr/bin/env bash
# Runs the test suite under AddressSanitizer and ThreadSanitizer (RELIABILITY.md, "Sanitizers").
#
#   scripts/reliability/sanitizers.sh [address|thread|both] [FILTER]
#
# Each sanitizer gets its own build directory (.build/asan, .build/tsan) so the normal debug
# build is untouched. FILTER (a `swift test --filter` regex) narrows the run; without it the
# whole suite runs (slow: on 2 cores expect ~1 h per sanitizer). Exit 0 when every selected
# test passes with no sanitizer report.
set -euo pipefail
cd "$(dirname "$0")/../.."
which=${1:-both}
filter=${2:-}
run() {  # SANITIZER BUILD_DIR
    local san=$1 dir=$2 log=.build/$1-tests.log
    local args=(--sanitize="$san" --build-path "$dir")
    [[ -n $filter ]] && args+=(--filter "$filter")
    echo "== swift test --sanitize=$san ${filter:+--filter $filter} (log: $log)" >&2
    mkdir -p .build
    set +e
    # halt_on_error: the first report fails the run; only the XCTest runtime's own allocations are suppressed.
    ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 LSAN_OPTIONS=suppressions=$PWD/scripts/reliability/lsan-tests.supp \
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
        swift test "${args[@]}" > "$log" 2>&1
    local status=$?
    set -e
    if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer" "$log"; then
        grep -E -A12 "ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer" "$log" | head -60 >&2
        echo "$san: sanitizer report (see $log)" >&2
        return 1
    fi
    if [[ $status -ne 0 ]]; then tail -20 "$log" >&2; echo "$san: tests failed (exit $status)" >&2; return 1; fi
    grep -E "Test run with|Executed [0-9]+ tests" "$log" | tail -2 >&2
    echo "$san: clean" >&2
}
case $which in
    address) run address .build/asan ;;
    thread) run thread .build/tsan ;;
    both) run address .build/asan; run thread .build/tsan ;;
    *) echo "usage: $0 [address|thread|both] [FILTER]" >&2; exit 64 ;;
esac
