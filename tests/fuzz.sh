#!/bin/bash
# fuzz.sh [--smoke | SECONDS] - runs the libFuzzer harnesses (make
# fuzz-build builds them into build/fuzz): fuzz/frame_fuzz.c (the wire
# decode and validation, both ways) and fuzz/live_fuzz.c (a live engine in
# this process, requests and raw frames).  Each starts from the seeds
# fuzz/make_seeds writes, the corpus it grew before (build/fuzz/corpus/NAME)
# and every input kept in fuzz/regress/NAME (an input that once crashed:
# copy a crash-* file there when you fix its cause).
#
#   --smoke   the short pass of make test: the regressions and seeds, then
#             FUZZ_SMOKE_RUNS (default 20000) new inputs each
#   SECONDS   make fuzz: that long each (default 300)
#   --runs N  make fuzz FUZZ_RUNS=N: N new inputs each, however long
#             that takes (the closing notes' 10 million)
#
# Prints each harness's executions and ends with "N passed, N failed, N
# skipped" (a harness that crashed, leaked or hung is a failure; its input
# is left in build/fuzz/crash-NAME-*); exits non-zero on failure.
set -u
cd "$(dirname "$0")/.."
F=build/fuzz
mode=${1:-300}
runs=
if [ "$mode" = --runs ]; then
    runs=${2:?--runs needs a count}
fi
pass=0
fail=0

if [ ! -x "$F/fuzz/frame_fuzz" ] || [ ! -x "$F/fuzz/live_fuzz" ]; then
    echo "fuzz.sh: build the harnesses first (make fuzz-build)" >&2
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
fi
for name in frame live; do
    mkdir -p "$F/corpus/$name" "$F/seeds/$name" "fuzz/regress/$name"
done
"$F/fuzz/make_seeds" "$F/seeds/frame" "$F/seeds/live" >/dev/null || exit 1

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
for name in frame live; do
    if [ "$mode" = --smoke ]; then
        limit=(-runs="${FUZZ_SMOKE_RUNS:-20000}")
    elif [ -n "$runs" ]; then
        limit=(-runs="$runs")
    else
        limit=(-max_total_time="$mode")
    fi
    log=$F/fuzz-$name.log
    start=$SECONDS
    # -timeout: one input may take 30 s at most (a live request waits 2 s
    # for its reply, the status check 10 s); a hang is a failure.
    "$F/fuzz/$name"_fuzz "${limit[@]}" -timeout=30 -rss_limit_mb=4096 \
        -max_len=70000 -print_final_stats=1 \
        -artifact_prefix="$F/crash-$name-" \
        "$F/corpus/$name" "$F/seeds/$name" "fuzz/regress/$name" \
        >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    if [ $rc -eq 0 ]; then
        echo "fuzz $name: ${execs:-?} inputs in $((SECONDS - start)) s," \
            "no crash, leak or hang"
        pass=$((pass + 1))
    else
        echo "fuzz $name: FAILED after ${execs:-?} inputs (log $log):"
        grep -E "ERROR|SUMMARY|Test unit written|runtime error" "$log" | head -8
        fail=$((fail + 1))
    fi
done
echo "$pass passed, $fail failed, 0 skipped"
[ $fail -eq 0 ]
