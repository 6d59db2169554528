#!/bin/bash
# run.sh [--smoke] [BUILD] - the benchmark (make bench): ovio against raw nng
# and fio, measured in one run on one machine, printed as one table with
# the ratios ovio / nng and ovio / fio.
#
# On a temporary root it creates one file, then for each workload (4 KiB
# random read at depth 1 and 32, 4 KiB random write at depth 32, 1 MiB
# sequential read and write at depth 8) runs:
#   fio         io_uring engine on the file, locally (the disk's ceiling)
#   nng_bench   raw nng req/rep over each transport, same sizes and depth
#   ovio bench  through oviod, over each transport, on each backend
# and, on the first transport and backend, 4 KiB random reads with 8 in
# flight per client from 1, 4, 16 and 64 clients.  oviod's CPU time per
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
# Environment: BENCH_TIME (seconds per run, default 5: about 4 minutes in
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

# name rw bs qd
WORKLOADS=(
    "randread-4k-qd1 randread 4096 1"
    "randread-4k-qd32 randread 4096 32"
    "randwrite-4k-qd32 randwrite 4096 32"
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
RUNNING= # the server of ours running now (nng_bench serve or oviod)

cleanup() {
    [ -n "$RUNNING" ] && stop_pid "$RUNNING"
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
    RUNNING=
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
cat "$FILE" >/dev/null # the page cache is warm for everyone

# ---- fio, locally ---------------------------------------------------------
FIO=${BENCH_FIO-$(command -v fio || true)} # BENCH_FIO= : without fio
for w in "${WORKLOADS[@]}"; do
    set -- $w
    out=$RES/fio.local.io_uring.$1
    if [ -z "$FIO" ]; then
        record fio local io_uring "$1" skip "fio not installed"
        continue
    fi
    echo "== fio $1"
    if timeout -k 5 $LIMIT "$FIO" --name="$1" --filename="$FILE" \
        --ioengine=io_uring --rw="$2" --bs="$3" --iodepth="$4" \
        --size="$SIZE_B" --time_based --runtime="$TIME" \
        --lat_percentiles=1 --output-format=json >"$out.fio" 2>"$out.err"; then
        record fio local io_uring "$1" ok
    else
        # fio is not ours: an engine this kernel lacks is a skip, not a
        # failure of ovio's benchmark.
        record fio local io_uring "$1" skip "fio failed: $(head -c 200 "$out.err" | tr '\n' ' ')"
    fi
done

# ---- raw nng, then ovio, on each transport -----------------------------------
for t in $TRANSPORTS; do
    url=$(endpoint "$t" nng)
    timeout -k 5 $((LIMIT * 10)) "$B/tests/nng_bench" serve "$url" \
        2>"$RES/nng.$t.serve.err" &
    spid=$!
    RUNNING=$spid
    for w in "${WORKLOADS[@]}"; do
        set -- $w
        echo "== nng $t $1"
        out=$RES/nng.$t.-.$1
        if timeout -k 5 $LIMIT "$B/tests/nng_bench" run "$url" --rw "$2" \
            --bs "$3" --qd "$4" --time "$TIME" --json >"$out.json" \
            2>"$out.err"; then
            record nng "$t" - "$1" ok
        else
            record nng "$t" - "$1" fail "$(head -c 200 "$out.err" | tr '\n' ' ')"
        fi
    done
    if [ "$t" = "${TRANSPORTS%% *}" ]; then
        for n in $CLIENTS; do
            echo "== nng $t randread-4k-qd8 x $n clients"
            out=$RES/nng.$t.-.randread-4k-qd8-c$n
            if timeout -k 5 $LIMIT "$B/tests/nng_bench" run "$url" \
                --rw randread --bs 4096 --qd 8 --clients "$n" \
                --time "$TIME" --json >"$out.json" 2>"$out.err"; then
                record nng "$t" - "randread-4k-qd8-c$n" ok
            else
                record nng "$t" - "randread-4k-qd8-c$n" fail "$(head -c 200 "$out.err" | tr '\n' ' ')"
            fi
        done
    fi
    stop_pid "$spid"

    for be in $BACKENDS; do
        url=$(endpoint "$t" oviod)
        bopt=()
        [ "$be" != default ] && bopt=(--backend "$be")
        timeout -k 5 $((LIMIT * 20)) "$B/oviod" --root "$TMP/root" \
            --listen "$url" "${bopt[@]}" 2>"$RES/oviod.$t.$be.log" &
        opid=$!
        RUNNING=$opid
        svc=$(child_of "$opid") # oviod itself, for its CPU time
        up=0
        for i in $(seq 100); do
            if "$B/ovio" -e "$url" status --json >"$RES/status.json" 2>/dev/null; then
                up=1
                break
            fi
            kill -0 "$opid" 2>/dev/null || break
            sleep 0.1
        done
        if [ $up -eq 0 ]; then
            echo "run.sh: oviod --backend $be did not start:"
            cat "$RES/oviod.$t.$be.log"
            for w in "${WORKLOADS[@]}"; do
                set -- $w
                record ovio "$t" "$be" "$1" fail "oviod did not start"
            done
            stop_pid "$opid"
            continue
        fi
        # The backend oviod chose, for the table.
        name=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["backend"])' "$RES/status.json")
        runs=("${WORKLOADS[@]}")
        if [ "$t" = "${TRANSPORTS%% *}" ] && [ "$be" = "${BACKENDS%% *}" ]; then
            for n in $CLIENTS; do
                runs+=("randread-4k-qd8-c$n randread 4096 8 $n")
            done
        fi
        for w in "${runs[@]}"; do
            set -- $w
            echo "== ovio $t $name $1"
            out=$RES/ovio.$t.$name.$1
            c0=$(cpu_ticks "$svc")
            if timeout -k 5 $LIMIT "$B/ovio" -e "$url" bench --rw "$2" \
                --bs "$3" --qd "$4" --clients "${5:-1}" --size "$SIZE_B" \
                --time "$TIME" --json bench.dat >"$out.json" 2>"$out.err"; then
                record ovio "$t" "$name" "$1" ok
            else
                record ovio "$t" "$name" "$1" fail "$(head -c 200 "$out.err" | tr '\n' ' ')"
            fi
            c1=$(cpu_ticks "$svc")
            echo "{\"cpu_ticks\": $((c1 - c0)), \"hz\": $(getconf CLK_TCK), \"hwm_kb\": $(hwm_kb "$svc")}" >"$out.svc"
        done
        stop_pid "$opid"
    done
done

args=("$RES")
[ $SMOKE -eq 1 ] && args=(--check "$RES")
echo
python3 tests/bench/table.py --time "$TIME" --size "$SIZE_B" "${args[@]}"
