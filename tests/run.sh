#!/bin/bash
# run.sh BUILD - runs every check suite against the binaries in BUILD and
# ends with one line "N passed, N failed, N skipped" (checks, over all
# suites).  One suite alone: tests/run.sh build unit; one case:
# CK_RUN_CASE=name.
#
# check has no skip: a case that cannot run here (tu_skip in
# tests/testutil.h) prints "SKIP: <case>: <why>" and check counts it as
# passed.  Each such line is taken off the passed and counted as skipped.
set -u
B=${1:-build}
ONLY=${2:-}
export OVIO_BUILD=$B
export CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-60}
pass=0
fail=0
skip=0
failed_suites=()
failure_lines=()

suite() {
    local name=$1
    shift
    [ -n "$ONLY" ] && [ "$ONLY" != "${name%% *}" ] && return 0
    echo "== $name"
    local out rc
    out=$(env "$@" 2>&1)
    rc=$?
    echo "$out"
    local line checks failures errors skips p=0 f=0
    skips=$(echo "$out" | grep -c '^SKIP: ')
    line=$(echo "$out" | grep -E '^[0-9]+%: Checks: ' | tail -1)
    if [ -n "$line" ]; then
        checks=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
        failures=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
        errors=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
        p=$((checks - failures - errors - skips))
        f=$((failures + errors))
    elif [ $rc -ne 0 ]; then
        f=1
    fi
    if [ $p -lt 0 ]; then
        # More SKIP lines than passed checks: a skipped case went on and
        # failed.  Count the excess as failures, never as passes.
        f=$((f - p))
        p=0
    fi
    echo "-- $name: $p passed, $f failed, $skips skipped"
    pass=$((pass + p))
    fail=$((fail + f))
    skip=$((skip + skips))
    if [ $rc -ne 0 ]; then
        failed_suites+=("$name (exit $rc)")
        # check's own failure lines (file:line:F|E:case:...), sanitizer
        # reports and a case's last words, repeated at the end so that a
        # log cut to its tail still says what failed.
        local l
        while IFS= read -r l; do
            failure_lines+=("$name: $l")
        done < <(echo "$out" | grep -E ':[0-9]+:[FE]:|ERROR: [A-Za-z]+Sanitizer|runtime error:|WARNING: ThreadSanitizer|Assertion|Segmentation|Aborted' | head -20)
    fi
}

suite unit "$B/tests/unit_test"
suite engine "$B/tests/engine_test"
suite backend "$B/tests/backend_test"
suite "e2e (uring)" OVIO_TEST_BACKEND=uring "$B/tests/e2e_test"
suite "e2e (threads)" OVIO_TEST_BACKEND=threads "$B/tests/e2e_test"
suite "admin (uring)" OVIO_TEST_BACKEND=uring "$B/tests/admin_test"
suite "admin (threads)" OVIO_TEST_BACKEND=threads "$B/tests/admin_test"
suite "race (uring)" OVIO_TEST_BACKEND=uring "$B/tests/race_test"
suite "race (threads)" OVIO_TEST_BACKEND=threads "$B/tests/race_test"
suite "stress (uring)" OVIO_TEST_BACKEND=uring "$B/tests/stress_test"
suite "stress (threads)" OVIO_TEST_BACKEND=threads "$B/tests/stress_test"
suite "confine (uring)" OVIO_TEST_BACKEND=uring "$B/tests/confine_test"
suite "confine (threads)" OVIO_TEST_BACKEND=threads "$B/tests/confine_test"
suite tls "$B/tests/tls_test"
suite peers "$B/tests/peer_test"
suite "faults (uring)" OVIO_TEST_BACKEND=uring "$B/tests/fault_test"
suite "faults (threads)" OVIO_TEST_BACKEND=threads "$B/tests/fault_test"
# make install into a staging folder: once, for the plain build.
if [ "$B" = build ]; then
    suite install tests/install_test.sh
fi

echo
if [ ${#failed_suites[@]} -gt 0 ]; then
    echo "failed suites: ${failed_suites[*]}"
    for l in "${failure_lines[@]}"; do
        echo "  $l"
    done
fi
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ] && [ ${#failed_suites[@]} -eq 0 ]
