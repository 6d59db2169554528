#!/bin/bash
# run.sh [--smoke] [BUILD] - the benchmark (make bench): ovio against raw nng
# (an echo, and a plain file server) and fio, measured in one run on one
# machine, printed as one table with the ratios ovio / nng, (nng + I/O) /
# nng, ovio / (nng + I/O) and ovio / fio.
#
# On a temporary root it creates one file, then for each workload (4 KiB
# random read at depth 1 and 32, and at 32 with libovio's own batches and
# in batches of 8 requests a message for ovio (ovio_submitv; nng still one
# a message), 4 KiB random write at depth 32 with and without libovio's
# batches, 1 MiB sequential read and write at depth 8) runs:
#   fio         io_uring engine on the file, locally (page cache warm)
#   nng_bench   raw nng req/rep over each transport, same sizes and depth:
#               the echo (no file), the baseline of every target
#   nng + I/O   the same, with each request's bytes really read from or
#               written to the file (nng_bench serve --file: pread / pwrite
#               on the message thread), for the workloads sent one a
#               message: what the file I/O costs a plain nng server
#   ovio bench  through oviod, over each transport, on each backend
# and, on the first transport and backend, 4 KiB random reads with 8 in
# flight per client from 1, 4, 16 and 64 clients.  Every server stays up
# for the whole run and each ovio run follows the nng runs it is compared
# with (nng + I/O, then the echo), so that a ratio compares neighbours in
# time (the load of a shared machine drifts).  Before each run the file's
# dirty pages are written out and the whole file read (settle), so that no
# run pays for the writeback of the one before or reads from the disk what
# another found in the page cache; fio, which by default drops the file
# from the page cache before it starts, is told not to (--invalidate=0).
# oviod's CPU time per
# operation and peak memory come from /proc.  Only Unix sockets and
# 127.0.0.1 are used; every process is bounded by a timeout and stopped,
# and the temporary folder removed, on exit.
#
# --smoke (make test): 1 s per workload, ipc only, oviod's default backend,
# no client scan; checks that every run completed with nonzero operations
# and no errors, that the JSON parses and that the ratios were printed --
# never how fast anything was.  It ends with "N passed, N failed, N
# skipped" (fio missing or without io_uring is a skip).
#
# Environment: BENCH_TIME (seconds per run, default 5: about 9 minutes in
# all), BENCH_SIZE (file
# size, default 256M), BENCH_TRANSPORTS ("ipc tcp"), BENCH_BACKENDS
# ("uring threads"), BENCH_CLIENTS ("1 4 16 64"), BENCH_OUT (a folder to
# keep every result and bench.json in).
set -u
cd "$(dirname "$0")/../.."
SMOKE=0
if [ "${1:-}" = "--smoke" ]; then
    SMOKE=1
    shift
fi
B=${1:-build}
if [ $SMOKE -eq 1 ]; then
    TIME=${BENCH_TIME:-1}
    SIZE=${BENCH_SIZE:-32M}
    TRANSPORTS=${BENCH_TRANSPORTS:-ipc}
    BACKENDS=${BENCH_BACKENDS:-default}
    CLIENTS=${BENCH_CLIENTS-}
else
    TIME=${BENCH_TIME:-5}
    SIZE=${BENCH_SIZE:-256M}
    TRANSPORTS=${BENCH_TRANSPORTS:-ipc tcp}
    BACKENDS=${BENCH_BACKENDS:-uring threads}
    CLIENTS=${BENCH_CLIENTS-1 4 16 64}
fi
LIMIT=$((TIME + 60)) # seconds any one run may take

# name rw bs qd [batch: ovio's requests per message, ovio_submitv's N, or
# "auto": libovio's own batches; nng sends one a message].  Without it, ovio
# too sends one a message (--no-auto-batch).
WORKLOADS=(
    "randread-4k-qd1 randread 4096 1"
    "randread-4k-qd32 randread 4096 32"
    "randread-4k-qd32-auto randread 4096 32 auto"
    "randread-4k-qd32-b8 randread 4096 32 8"
    "randwrite-4k-qd32 randwrite 4096 32"
    "randwrite-4k-qd32-auto randwrite 4096 32 auto"
    "read-1m-qd8 read 1048576 8"
    "write-1m-qd8 write 1048576 8"
)

for p in "$B/oviod" "$B/ovio" "$B/tests/nng_bench"; do
    if [ ! -x "$p" ]; then
        echo "run.sh: $p is missing: make first"
        echo "0 passed, 1 failed, 0 skipped"
        exit 1
    fi
done

TMP=$(mktemp -d /tmp/ovio-bench.XXXXXX)
RES=${BENCH_OUT:-$TMP/results}
mkdir -p "$TMP/root" "$RES"
RES=$(cd "$RES" && pwd)
MANIFEST=$RES/manifest
: >"$MANIFEST"
RUNNING=() # the servers of ours (the timeout(1) of each) still running

cleanup() {
    local p
    for p in "${RUNNING[@]}"; do
        stop_pid "$p"
    done
    rm -rf "$TMP"
}

# Stops a process of ours: SIGTERM, up to 15 s, then SIGKILL.
stop_pid() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "run.sh: $pid did not stop in 15 s: killed"
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
}

# The process timeout(1) started: the one to read /proc of.
child_of() {
    local i c
    for i in $(seq 50); do
        c=$(cat /proc/"$1"/task/*/children 2>/dev/null | awk '{ print $1; exit }')
        [ -n "$c" ] && { echo "$c"; return; }
        sleep 0.02
    done
    echo "$1"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bytes() { # 256M -> bytes
    local v=$1
    case $v in
    *[kK]) echo $((${v%?} * 1024)) ;;
    *[mM]) echo $((${v%?} * 1048576)) ;;
    *[gG]) echo $((${v%?} * 1073741824)) ;;
    *) echo "$v" ;;
    esac
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

endpoint() { # transport tag -> URL
    case $1 in
    ipc) echo "ipc://$TMP/$2.sock" ;;
    tcp) echo "tcp://127.0.0.1:$(free_port)" ;;
    esac
}

# record TOOL VIA BACKEND WORKLOAD STATUS [WHY]
record() {
    echo "$*" >>"$MANIFEST"
}

# /proc/PID/stat utime + stime, in clock ticks.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

hwm_kb() {
    awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

FILE=$TMP/root/bench.dat
SIZE_B=$(bytes "$SIZE")
echo "run.sh: $B, $((SIZE_B / 1048576)) MiB file, ${TIME} s a run," \
    "transports: $TRANSPORTS, backends: $BACKENDS${CLIENTS:+, clients: $CLIENTS}"
dd if=/dev/urandom of="$FILE" bs=1M count=$((SIZE_B / 1048576)) \
    status=none || exit 1
# On disk before anything is measured: its writeback took CPU from the
# first runs (the first cell, 4 KiB reads at depth 1 over ipc, read low).
sync "$FILE"
cat "$FILE" >/dev/null # the page cache is warm for everyone

# ---- the servers: one nng_bench serve a transport, one oviod a backend -------
# All stay up for the whole run (idle ones cost nothing), so that each ovio
# run comes right after the nng runs it is compared with: on a shared
# machine the load drifts, and neighbours in time see the same load.
RUNNING=()
declare -A NNG_URL NNGIO_URL OVIO_URL OVIOD_PID BE_NAME
for t in $TRANSPORTS; do
    NNG_URL[$t]=$(endpoint "$t" "nng")
    NNGIO_URL[$t]=$(endpoint "$t" "nngio")
done
timeout -k 5 $((LIMIT * 100)) "$B/tests/nng_bench" serve "${NNG_URL[@]}" \
    2>"$RES/nng.serve.err" &
RUNNING+=($!)
timeout -k 5 $((LIMIT * 100)) "$B/tests/nng_bench" serve --file "$FILE" \
    "${NNGIO_URL[@]}" 2>"$RES/nngio.serve.err" &
RUNNING+=($!)
for be in $BACKENDS; do
    listen=()
    for t in $TRANSPORTS; do
        OVIO_URL[$t.$be]=$(endpoint "$t" "oviod-$be")
        listen+=(--listen "${OVIO_URL[$t.$be]}")
    done
    bopt=()
    [ "$be" != default ] && bopt=(--backend "$be")
    timeout -k 5 $((LIMIT * 100)) "$B/oviod" --root "$TMP/root" \
        "${listen[@]}" "${bopt[@]}" 2>"$RES/oviod.$be.log" &
    RUNNING+=($!)
    opid=$!
    OVIOD_PID[$be]=$(child_of "$opid") # oviod itself, for its CPU time
    first=${TRANSPORTS%% *}
    up=0
    for i in $(seq 100); do
        if "$B/ovio" -e "${OVIO_URL[$first.$be]}" status --json \
            >"$RES/status.$be.json" 2>/dev/null; then
            up=1
            break
        fi
        kill -0 "$opid" 2>/dev/null || break
        sleep 0.1
    done
    if [ $up -eq 1 ]; then
        # The backend oviod chose, for the table.
        BE_NAME[$be]=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["backend"])' "$RES/status.$be.json")
    else
        echo "run.sh: oviod ${bopt[*]} did not start:"
        cat "$RES/oviod.$be.log"
        BE_NAME[$be]=$be
        OVIOD_PID[$be]=
    fi
done

# Before each run: the file's dirty pages written out, and all of it read
# (the page cache warm for everyone, whatever the run before did).
settle() {
    sync "$FILE"
    cat "$FILE" >/dev/null
}

# run_nng TOOL TRANSPORT BACKEND NAME RW BS QD [CLIENTS]: a baseline paired
# with ovio's run on BACKEND; TOOL nng (the echo) or nngio (nng + I/O).
run_nng() {
    local tool=$1 url out
    shift
    out=$RES/$tool.$1.$2.$3
    if [ "$tool" = nngio ]; then
        url=${NNGIO_URL[$1]}
    else
        url=${NNG_URL[$1]}
    fi
    echo "== $tool $1 $3 (for $2)"
    settle
    if timeout -k 5 $LIMIT "$B/tests/nng_bench" run "$url" \
        --rw "$4" --bs "$5" --qd "$6" --clients "${7:-1}" --time "$TIME" \
        --size "$SIZE_B" --json >"$out.json" 2>"$out.err"; then
        record "$tool" "$1" "$2" "$3" ok
    else
        record "$tool" "$1" "$2" "$3" fail "$(head -c 200 "$out.err" | tr '\n' ' ')"
    fi
}

# run_ovio TRANSPORT BACKEND NAME RW BS QD [CLIENTS [BATCH]]: BATCH as in
# WORKLOADS (default 1, one request a message).
run_ovio() {
    local be=$2 name=${BE_NAME[$2]} pid=${OVIOD_PID[$2]} c0 c1
    local out=$RES/ovio.$1.$name.$3 batch=(--no-auto-batch)
    case ${8:-1} in
    auto) batch=() ;;
    1) ;;
    *) batch+=(--batch "$8") ;;
    esac
    if [ -z "$pid" ]; then
        record ovio "$1" "$name" "$3" fail "oviod did not start"
        return
    fi
    echo "== ovio $1 $name $3"
    settle
    # Its peak memory during this run, not since it started (VmHWM).
    echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true
    c0=$(cpu_ticks "$pid")
    if timeout -k 5 $LIMIT "$B/ovio" -e "${OVIO_URL[$1.$be]}" bench \
        --rw "$4" --bs "$5" --qd "$6" --clients "${7:-1}" "${batch[@]}" \
        --size "$SIZE_B" --time "$TIME" --json bench.dat \
        >"$out.json" 2>"$out.err"; then
        record ovio "$1" "$name" "$3" ok
    else
        record ovio "$1" "$name" "$3" fail "$(head -c 200 "$out.err" | tr '\n' ' ')"
    fi
    c1=$(cpu_ticks "$pid")
    echo "{\"cpu_ticks\": $((c1 - c0)), \"hz\": $(getconf CLK_TCK), \"hwm_kb\": $(hwm_kb "$pid")}" >"$out.svc"
}

# ---- each workload: fio, then nng and ovio in pairs ---------------------------
FIO=${BENCH_FIO-$(command -v fio || true)} # BENCH_FIO= : without fio
for w in "${WORKLOADS[@]}"; do
    set -- $w
    out=$RES/fio.local.io_uring.$1
    if [ -z "$FIO" ]; then
        record fio local io_uring "$1" skip "fio not installed"
    else
        echo "== fio $1"
        settle
        if timeout -k 5 $LIMIT "$FIO" --name="$1" --filename="$FILE" \
            --ioengine=io_uring --rw="$2" --bs="$3" --iodepth="$4" \
            --invalidate=0 \
            --size="$SIZE_B" --time_based --runtime="$TIME" \
            --lat_percentiles=1 --output-format=json >"$out.fio" 2>"$out.err"; then
            record fio local io_uring "$1" ok
        else
            # fio is not ours: an engine this kernel lacks is a skip, not a
            # failure of ovio's benchmark.
            record fio local io_uring "$1" skip "fio failed: $(head -c 200 "$out.err" | tr '\n' ' ')"
        fi
    fi
    for t in $TRANSPORTS; do
        for be in $BACKENDS; do
            if [ -z "${5:-}" ]; then
                run_nng nngio "$t" "${BE_NAME[$be]}" "$1" "$2" "$3" "$4"
            fi
            run_nng nng "$t" "${BE_NAME[$be]}" "$1" "$2" "$3" "$4"
            run_ovio "$t" "$be" "$1" "$2" "$3" "$4" 1 "${5:-1}"
        done
    done
done

# ---- clients: first transport, first backend -----------------------------------
t=${TRANSPORTS%% *}
be=${BACKENDS%% *}
for n in $CLIENTS; do
    run_nng nng "$t" "${BE_NAME[$be]}" "randread-4k-qd8-c$n" randread 4096 8 "$n"
    run_ovio "$t" "$be" "randread-4k-qd8-c$n" randread 4096 8 "$n"
done

for p in "${RUNNING[@]}"; do
    stop_pid "$p"
done
RUNNING=()

args=("$RES")
[ $SMOKE -eq 1 ] && args=(--check "$RES")
echo
python3 tests/bench/table.py --time "$TIME" --size "$SIZE_B" "${args[@]}"
