#!/bin/bash
# tsan.sh [BUILD] - the ThreadSanitizer part of make test: the e2e suite and
# a small stress run (STRESS_OPS=5000, STRESS_CLIENTS=16 unless set) on both
# backends, against BUILD (default build/san-thread, made by
# `make SANITIZER=thread all`).  Ends with one line "N passed, N failed,
# N skipped" (tests/run.sh's counts, plus one failure per TSan report).
#
# Both the test programs (libovio) and every oviod they start are TSan
# builds.  oviod's stderr goes to a log file in a temporary folder that the
# test removes, so every process writes its reports to BUILD/tsan-logs
# instead (TSAN_OPTIONS log_path, one file per process).  A suite that
# leaves a report there fails, and the report is printed; exitcode=66 also
# makes the reporting process itself exit non-zero, which check and the
# e2e stop tests see.  Suppressions: tests/tsan.supp (libraries only).
#
#   TSAN_SUITES="e2e stress race"   which tests/run.sh suites (default
#                                   "e2e admin stress")
#   TSAN_OPTIONS=...                appended to the options set here
set -u
cd "$(dirname "$0")/.." || exit 1
B=${1:-build/san-thread}
LOGS=$PWD/$B/tsan-logs
SUITES=${TSAN_SUITES:-e2e admin stress}
export STRESS_OPS=${STRESS_OPS:-5000}
export STRESS_CLIENTS=${STRESS_CLIENTS:-16}
export TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp:exitcode=66:log_path=$LOGS/tsan:second_deadlock_stack=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
pass=0
fail=0
skip=0
failed=()

if [ ! -x "$B/oviod" ]; then
    echo "tsan.sh: $B/oviod is missing (make SANITIZER=thread all)"
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
fi
echo "TSAN_OPTIONS=$TSAN_OPTIONS"
echo "STRESS_OPS=$STRESS_OPS STRESS_CLIENTS=$STRESS_CLIENTS"

for s in $SUITES; do
    rm -rf "$LOGS"
    mkdir -p "$LOGS"
    log=$(mktemp)
    tests/run.sh "$B" "$s" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' \
        "$log" | tail -1)
    rm -f "$log"
    if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
        pass=$((pass + BASH_REMATCH[1]))
        fail=$((fail + BASH_REMATCH[2]))
        skip=$((skip + BASH_REMATCH[3]))
    else
        fail=$((fail + 1))
    fi
    [ "$rc" -ne 0 ] && failed+=("$s")

    # Every report file is one more failure, printed in full.
    reports=$(find "$LOGS" -type f | sort)
    if [ -n "$reports" ]; then
        n=0
        for r in $reports; do
            echo
            echo "==== ThreadSanitizer report: $r (suite $s)"
            cat "$r"
            n=$((n + $(grep -c '^WARNING: ThreadSanitizer' "$r")))
        done
        echo
        echo "$s: $n ThreadSanitizer report(s) in $(echo "$reports" | wc -l) process(es)"
        [ "$n" -eq 0 ] && n=1
        fail=$((fail + n))
        [ "$rc" -eq 0 ] && failed+=("$s (tsan)")
    fi
done

echo
if [ ${#failed[@]} -gt 0 ]; then
    echo "failed suites: ${failed[*]}"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ ${#failed[@]} -eq 0 ]
