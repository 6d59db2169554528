#!/bin/bash
# all.sh - every test of the project, as `make test` runs it:
#   1. the Linux suites on both backends        (tests/run.sh build)
#   2. the same under ASan + UBSan               (tests/run.sh build/san)
#   3. e2e, admin and a small stress run under TSan (tests/tsan.sh)
#   4. the Windows build under Wine              (tests/win/run.sh)
#   5. the fuzzers over their seeds, regressions and 20 000 new inputs each
#                                                (tests/fuzz.sh --smoke)
#   6. the benchmark, 1 s a run, runs end to end (tests/bench/run.sh --smoke;
#      it checks that it completes, never a speed)
#   7. fio through the fio engine against a real oviod: writes verified
#      with crc32c, a corruption caught, reads (tests/fio_engine.sh; no fio
#      is a skip)
# Each part prints its own "N passed, N failed, N skipped"; the last line is
# the total, "total: N passed, N failed, N skipped".  A skipped case (a
# missing kernel or system feature, tu_skip) is never counted as passed.
# The binaries must be built (make all, make SANITIZER=address,undefined all,
# make SANITIZER=thread all, make fuzz-build, make fio-engine); part 4
# builds its own.  SKIP_SAN=1, SKIP_TSAN=1, SKIP_WIN=1, SKIP_FUZZ=1,
# SKIP_BENCH=1 or SKIP_FIO=1 leave a part out.
set -u
cd "$(dirname "$0")/.."
pass=0
fail=0
skip=0
failed=()
details=()

part() {
    local name=$1
    shift
    echo
    echo "######## $name"
    local log rc line
    log=$(mktemp)
    "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' \
        "$log" | tail -1)
    if [ "$rc" -ne 0 ]; then
        # What failed, repeated at the end: CI keeps only a log's tail.
        local l
        while IFS= read -r l; do
            details+=("$name: $l")
        done < <(grep -E '^failed suites: |^  .*: |:[0-9]+:[FE]:|FAILED|ERROR: [A-Za-z]+Sanitizer|WARNING: ThreadSanitizer|runtime error:' \
            "$log" | head -30)
    fi
    rm -f "$log"
    if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
        pass=$((pass + BASH_REMATCH[1]))
        fail=$((fail + BASH_REMATCH[2]))
        skip=$((skip + BASH_REMATCH[3]))
    else
        line=
    fi
    if [ "$rc" -ne 0 ]; then
        failed+=("$name")
        [ -z "$line" ] && fail=$((fail + 1))
    fi
}

part "linux" tests/run.sh build
if [ -z "${SKIP_SAN:-}" ]; then
    # Sanitizers slow everything: time bounds (tests/testutil.h tu_ms) x4.
    part "linux, ASan+UBSan" env OVIO_TIME_SCALE=4 \
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0 \
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 tests/run.sh build/san
fi
if [ -z "${SKIP_TSAN:-}" ]; then
    # e2e, admin and stress (STRESS_OPS=5000, STRESS_CLIENTS=16) on both backends,
    # with tests/tsan.supp; a report from any process fails the part.
    part "linux, TSan" env OVIO_TIME_SCALE=6 tests/tsan.sh build/san-thread
fi
if [ -z "${SKIP_WIN:-}" ]; then
    part "windows (wine)" tests/win/run.sh
fi
if [ -z "${SKIP_FUZZ:-}" ]; then
    part "fuzz (short)" tests/fuzz.sh --smoke
fi
if [ -z "${SKIP_BENCH:-}" ]; then
    part "bench (smoke)" tests/bench/run.sh --smoke build
fi
if [ -z "${SKIP_FIO:-}" ]; then
    part "fio engine" tests/fio_engine.sh build
fi

echo
if [ ${#failed[@]} -gt 0 ]; then
    echo "failed parts: ${failed[*]}"
    for l in "${details[@]}"; do
        echo "  $l"
    done
fi
echo "total: $pass passed, $fail failed, $skip skipped"
[ ${#failed[@]} -eq 0 ] && [ "$fail" -eq 0 ]
