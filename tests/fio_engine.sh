#!/bin/bash
# fio_engine.sh [BUILD] - the fio engine (client/fio/ovio_fio.c, make
# fio-engine) as a user runs it: the installed fio loads BUILD/ovio_fio.so
# and does its I/O through a real oviod, started here on a temporary root
# and Unix socket.  The cases:
#   - fio --enghelp lists the engine's options;
#   - 4 KiB random writes of 32 MiB at depth 16 with verify=crc32c: fio
#     writes, reads everything back and checks it;
#   - verify_only over the same file passes; then one 4 KiB block of the
#     file is overwritten in the root, behind oviod's back, and
#     verify_only must fail: the verification can fail;
#   - 4 KiB random reads at depth 16 for 3 s on a new file, which the
#     engine lays out first (its figures are printed);
#   - a sequential read of that file, 128 KiB at depth 8;
#   - thread=1, two jobs, random reads and writes with an fsync every 8
#     writes (fio's sync requests become ovio flushes);
#   - rw=randtrim is refused, and a missing service is named, both with
#     fio failing;
#   - oviod killed in the middle of a run: fio ends, with errors, in time.
# Each fio run is bounded (FIO_LIMIT seconds, default 30; the whole takes
# about 15 s) and checked by its exit status and its JSON report: no error,
# and the I/O it should have done.  Ends with "N passed, N failed, N
# skipped"; no fio is a skip, never a pass.  oviod is stopped and the
# temporary folder removed on exit (KEEP=1 keeps it, with every report).
set -u
cd "$(dirname "$0")/.." || exit 1
B=${1:-build}
LIMIT=${FIO_LIMIT:-30}
pass=0
fail=0
skip=0
fails=()

finish() {
    local l
    for l in "${fails[@]}"; do
        echo "$l"
    done
    echo "$pass passed, $fail failed, $skip skipped"
    [ "$fail" -eq 0 ]
    exit
}

ok() {
    pass=$((pass + 1))
    echo "ok: $1"
}

# bad CASE WHY: a failure, in check's format (all.sh repeats these lines).
bad() {
    fail=$((fail + 1))
    local l="tests/fio_engine.sh:${BASH_LINENO[0]}:F:fio:$1: $2"
    fails+=("$l")
    echo "$l"
}

FIO=$(command -v fio || true)
if [ -z "$FIO" ]; then
    echo "SKIP: fio: fio is not installed (install/deps.sh test)"
    skip=1
    finish
fi
case $B in
/*) ENGINE=$B/ovio_fio.so OVIO=$B/ovio ;;
*) ENGINE=$PWD/$B/ovio_fio.so OVIO=$PWD/$B/ovio ;; # the runs cd to $TMP
esac
for p in "$B/oviod" "$B/ovio" "$ENGINE"; do
    if [ ! -f "$p" ]; then
        bad setup "$p is missing: make all fio-engine first"
        finish
    fi
done

TMP=$(mktemp -d /tmp/ovio-fio.XXXXXX)
ROOT=$TMP/root
URL=ipc://$TMP/oviod.sock
mkdir "$ROOT"
OVIOD=

# Stops oviod (SIGTERM, up to 15 s, then SIGKILL).
stop_oviod() {
    [ -n "$OVIOD" ] || return 0
    kill -TERM "$OVIOD" 2>/dev/null
    for _ in $(seq 150); do
        kill -0 "$OVIOD" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$OVIOD" 2>/dev/null
    wait "$OVIOD" 2>/dev/null
    OVIOD=
}
cleanup() {
    stop_oviod
    [ -n "${KEEP:-}" ] && echo "kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# oviod itself (no timeout(1) between: the last case kills it).
"$B/oviod" --root "$ROOT" --listen "$URL" 2>"$TMP/oviod.log" &
OVIOD=$!
up=0
for _ in $(seq 100); do
    if "$B/ovio" -e "$URL" status >/dev/null 2>&1; then
        up=1
        break
    fi
    kill -0 "$OVIOD" 2>/dev/null || break
    sleep 0.1
done
if [ $up -eq 0 ]; then
    bad setup "oviod did not start: $(head -c 600 "$TMP/oviod.log")"
    finish
fi
# fio writes files of its own (local-*-verify.state) where it runs.
cd "$TMP" || exit 1

# run_fio NAME FIO-ARGS...: one bounded fio run through the engine, its
# JSON report in $TMP/NAME.json, its other output in $TMP/NAME.err;
# sets rc.
run_fio() {
    local name=$1
    shift
    timeout -k 5 "$LIMIT" "$FIO" --name="$name" \
        --ioengine=external:"$ENGINE" --endpoint="$URL" \
        --output-format=json --output="$TMP/$name.json" "$@" \
        >"$TMP/$name.err" 2>&1
    rc=$?
}

# report NAME CHECKS...: prints why fio's report of NAME falls short of the
# checks (nothing if it passes).  A check is KEY=VALUE: read / write (the
# bytes done: a number, or "+" for more than 0), sync ("+": some flushes),
# error (0: none).
report() {
    python3 - "$TMP/$1.json" "${@:2}" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
try:
    # fio may put a line of its own before the report.
    job = json.loads(text[text.index("{"):])["jobs"][0]
except Exception as e:
    print("no JSON report (%s): %s" % (e, text[:300].replace("\n", " ")))
    sys.exit()
why = []
for c in sys.argv[2:]:
    k, v = c.split("=")
    if k == "error":
        got = job["error"]
    elif k == "sync":
        got = job["sync"]["total_ios"]
    else:
        got = job[k]["io_bytes"]
    if (v == "+" and got <= 0) or (v != "+" and got != int(v)):
        why.append("%s %s (wanted %s)" % (k, got, v))
print(", ".join(why))
EOF
}

# expect_ok NAME CHECKS...: the run ended 0 and its report passes CHECKS.
expect_ok() {
    local name=$1 why
    shift
    why=$(report "$name" "$@")
    if [ "$rc" -ne 0 ]; then
        bad "$name" "fio exited $rc: $(tail -c 600 "$TMP/$name.err" | tr '\n' ' ')"
    elif [ -n "$why" ]; then
        bad "$name" "$why"
    else
        ok "$name"
    fi
}

# expect_fail NAME PATTERN: the run failed, saying PATTERN (grep -E).
expect_fail() {
    if [ "$rc" -eq 0 ]; then
        bad "$1" "fio exited 0"
    elif [ "$rc" -ge 124 ]; then
        bad "$1" "fio did not end in ${LIMIT} s (exit $rc)"
    elif ! grep -qE "$2" "$TMP/$1.err" "$TMP/$1.json" 2>/dev/null; then
        bad "$1" "no '$2' in: $(tail -c 400 "$TMP/$1.err" | tr '\n' ' ')"
    else
        ok "$1"
    fi
}

MIB32=$((32 << 20))

# ---- help -------------------------------------------------------------
# fio 3.33 takes a path (not external:PATH) for --enghelp.
if "$FIO" --enghelp="$ENGINE" >"$TMP/help" 2>&1 &&
    grep -q '^endpoint' "$TMP/help" && grep -q '^ovio_timeout' "$TMP/help"; then
    ok enghelp
else
    bad enghelp "options not listed: $(head -c 300 "$TMP/help")"
fi

# ---- write, verify, corrupt, verify again -----------------------------
VERIFY=(--filename=verify.dat --rw=randwrite --bs=4k --iodepth=16
    --size=32M --verify=crc32c --verify_state_save=0)
run_fio randwrite-verify "${VERIFY[@]}" --do_verify=1
expect_ok randwrite-verify error=0 write=$MIB32 read=$MIB32
size=$(stat -c %s "$ROOT/verify.dat" 2>/dev/null || echo 0)
if [ "$size" -eq "$MIB32" ]; then
    ok "randwrite-verify: the file in the root"
else
    bad "randwrite-verify: the file in the root" "$size bytes, not $MIB32"
fi

run_fio verify-only "${VERIFY[@]}" --verify_only=1
expect_ok verify-only error=0 read=$MIB32

# One block rewritten behind the service's back: fio must see it.
dd if=/dev/urandom of="$ROOT/verify.dat" bs=4k seek=1000 count=1 \
    conv=notrunc status=none
run_fio verify-corrupt "${VERIFY[@]}" --verify_only=1
expect_fail verify-corrupt 'verify: |"error" : [1-9]'

# ---- reads ------------------------------------------------------------
run_fio randread --filename=read.dat --rw=randread --bs=4k --iodepth=16 \
    --size=32M --runtime=3 --time_based
expect_ok randread error=0 read=+ write=0
python3 - "$TMP/randread.json" <<'EOF' || true
import json, sys
text = open(sys.argv[1]).read()
r = json.loads(text[text.index("{"):])["jobs"][0]["read"]
p = r["clat_ns"]["percentile"]
print("   randread 4k qd16 through ovio: %.0f IOPS, %.1f MiB/s, "
      "clat p50 %.0f us, p99 %.0f us"
      % (r["iops"], r["bw_bytes"] / 1048576.0, p["50.000000"] / 1e3,
         p["99.000000"] / 1e3))
EOF
size=$(stat -c %s "$ROOT/read.dat" 2>/dev/null || echo 0)
if [ "$size" -eq "$MIB32" ]; then
    ok "randread: laid out in the root"
else
    bad "randread: laid out in the root" "$size bytes, not $MIB32"
fi

run_fio seqread --filename=read.dat --rw=read --bs=128k --iodepth=8 \
    --size=32M
expect_ok seqread error=0 read=$MIB32 write=0

# ---- threads, sync ----------------------------------------------------
run_fio threads-fsync --filename=rw.dat --thread --numjobs=2 \
    --group_reporting --rw=randrw --bs=4k --iodepth=8 --size=8M \
    --fsync=8 --runtime=1 --time_based
expect_ok threads-fsync error=0 read=+ write=+ sync=+

# ---- refusals -----------------------------------------------------------
run_fio trim --filename=read.dat --rw=randtrim --bs=4k --size=1M
expect_fail trim 'trim is not supported'

rc=0
timeout -k 5 "$LIMIT" "$FIO" --name=no-service \
    --ioengine=external:"$ENGINE" --endpoint="ipc://$TMP/none.sock" \
    --filename=read.dat --rw=read --size=1M >"$TMP/no-service.err" 2>&1 ||
    rc=$?
expect_fail no-service "ovio: connect to ipc://$TMP/none.sock: ECONNREFUSED"

# ---- the service dies mid-run -----------------------------------------
timeout -k 5 "$LIMIT" "$FIO" --name=killed \
    --ioengine=external:"$ENGINE" --endpoint="$URL" \
    --filename=read.dat --rw=randread --bs=4k --iodepth=16 --size=32M \
    --runtime=20 --time_based >"$TMP/killed.err" 2>&1 &
fpid=$!
# Killed once fio's job is reading (more completed than the laid-out file
# took), not while it is still connecting: that would be another case.
done0=$("$OVIO" -e "$URL" status --json 2>/dev/null |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["ops_completed"])')
for _ in $(seq 200); do
    now=$("$OVIO" -e "$URL" status --json 2>/dev/null |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["ops_completed"])')
    [ "${now:-0}" -gt $((${done0:-0} + 1000)) ] && break
    kill -0 "$fpid" 2>/dev/null || break
    sleep 0.05
done
# (bash's notice of the killed job goes with the group's stderr)
{
    kill -KILL "$OVIOD"
    wait "$OVIOD"
} 2>/dev/null
OVIOD=
rc=0
wait "$fpid" || rc=$?
expect_fail killed 'ECLOSED|Connection reset'

finish
