#!/bin/bash
# run.sh - builds the Windows binaries (make windows) and the native client
# (make build/ovio), then runs every Wine test and ends with one line
# "N passed, N failed, N skipped" (checks over all suites); exits non-zero
# on failure.  A "SKIP: " line in a check program's output (check has no
# skip, and counts the case as passed) is taken off the passed.
#
#   tests/win/run.sh            build and run everything
#   tests/win/run.sh backend    one suite: smoke, backend, host, e2e or scm
#   NO_BUILD=1 tests/win/run.sh skip the build
#
# Check suites run in CK_NOFORK mode (no fork() on Windows), so each run is
# bounded by timeout(1) here, and a crash exits non-zero (each test
# program's unhandled-exception filter).
set -u
. "$(dirname "$0")/lib.sh"
ONLY=${1:-}
total_pass=0
total_fail=0
total_skip=0
failed_suites=()

if [ -z "${NO_BUILD:-}" ]; then
    make -C "$TOP" --no-print-directory windows || exit 1
    make -C "$TOP" --no-print-directory build/ovio || exit 1
fi
wine_init || exit 1

# suite NAME CMD... : runs one suite and adds up its counts, from
# check's "N%: Checks: C, Failures: F, Errors: E" less its "SKIP: " lines,
# or a script's "N passed, N failed, N skipped" line.
suite() {
    local name=$1
    shift
    [ -n "$ONLY" ] && [ "$ONLY" != "$name" ] && return 0
    echo "== $name"
    local out rc line p f s
    out=$("$@" 2>&1)
    rc=$?
    echo "$out"
    s=0
    if line=$(echo "$out" | grep -E '^[0-9]+%: Checks: ' | tail -1) &&
        [ -n "$line" ]; then
        p=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
        f=$(($(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/') +
            $(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')))
        s=$(echo "$out" | grep -c '^SKIP: ')
        p=$((p - f - s))
        if [ "$p" -lt 0 ]; then # a skipped case went on and failed
            f=$((f - p))
            p=0
        fi
    elif line=$(echo "$out" |
        grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' |
        tail -1) && [ -n "$line" ]; then
        read -r p _ f _ s _ <<<"${line//,/}"
    else
        p=0
        f=1
    fi
    [ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1 # crashed or timed out
    echo "-- $name: $p passed, $f failed, $s skipped"
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    total_skip=$((total_skip + s))
    [ $rc -ne 0 ] && failed_suites+=("$name (exit $rc)")
}

# wine_suite SECONDS PROGRAM : a check program, bounded, pinned to one CPU,
# its output to a file first (never a pipe).
wine_suite() {
    local t=$1 log=$W/$(basename "$2" .exe).log rc
    shift
    timeout "$t" taskset -c 0 wine "$@" >"$log" 2>&1
    rc=$?
    cat "$log"
    return $rc
}

suite smoke wine_suite 120 "$W/tests/smoke.exe"
suite backend wine_suite 300 "$W/tests/backend_win_test.exe"
suite host wine_suite 120 "$W/tests/host_win_test.exe"
suite e2e timeout 600 "$TOP/tests/win/e2e.sh"
suite scm timeout 600 "$TOP/tests/win/scm.sh"

echo
if [ ${#failed_suites[@]} -gt 0 ]; then
    echo "failed suites: ${failed_suites[*]}"
fi
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ $total_fail -eq 0 ] && [ ${#failed_suites[@]} -eq 0 ]
