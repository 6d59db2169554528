#!/bin/bash
# scm.sh - oviod.exe as a real service under Wine's service manager:
# install (options stored on its command line), sc start (RUNNING only once
# it listens), native ovio put/get through it over tcp, sc stop (drains,
# STOPPED), a second start/stop cycle, uninstall.  What it did is shown by
# its log file and by the file it served.
#
# The wineserver is restarted persistent first (wineserver -k; -w; -p) so
# the service manager and the service outlive each wine command, and is
# killed at the end.  Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"

wine_init || exit 1
T=$(mktemp -d /tmp/ovio-wine-scm.XXXXXX)
cleanup() {
    wine_run 60 "$W/oviod.exe" uninstall >/dev/null 2>&1
    wineserver -k 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/root"
PORT=$(free_port)
EP="tcp://127.0.0.1:$PORT"
LOG=$T/oviod.log

wineserver -k 2>/dev/null
wineserver -w
wineserver -p 2>"$T/wineserver.err"
# A service left by an earlier, interrupted run.
wine_run 60 "$W/oviod.exe" uninstall >/dev/null 2>"$T/first-wine.err"

quiet() { "$@" >/dev/null 2>&1; }

# state: the STATE line of sc query, e.g. "4  RUNNING".
state() {
    wine_run 30 sc query oviod 2>/dev/null | tr -d '\r' |
        sed -n 's/.*STATE *: *//p'
}

# wait_state NAME SECONDS : polls sc query until the state is NAME.
wait_state() {
    local i s
    for ((i = 0; i < $2 * 4; i++)); do
        s=$(state)
        case "$s" in *"$1"*) return 0 ;; esac
        sleep 0.25
    done
    echo "   state is '$s', not $1" >&2
    return 1
}

check "oviod.exe --help exits 0" quiet wine_run 60 "$W/oviod.exe" --help
wine_run 60 "$W/oviod.exe" --bogus >/dev/null 2>&1
check "oviod.exe --bogus exits 2" [ $? -eq 2 ]

check "oviod.exe install" \
    wine_run 60 "$W/oviod.exe" install --start demand \
    --log "$(winpath "$LOG")" --root "$(winpath "$T/root")" --listen "$EP" \
    --drain-timeout 5000
wine_run 60 "$W/oviod.exe" install --start demand >/dev/null 2>"$T/twice.err"
check "a second install is refused" grep -q "already installed" "$T/twice.err"
# (Wine's sc has no qc: the registry shows the configuration.)
wine_run 30 reg query 'HKLM\System\CurrentControlSet\Services\oviod' \
    2>/dev/null | tr -d '\r' >"$T/qc.out"
check "the service's command line holds the options (quoted path)" \
    grep -q "ImagePath.*\"Z:.*oviod.exe\" run --log .* --root .* --listen $EP" \
    "$T/qc.out"
check "demand start" grep -q "Start.*0x3" "$T/qc.out"
check "sc query: STOPPED before start" wait_state STOPPED 10

for cycle in 1 2; do
    check "[$cycle] sc start" quiet wine_run 60 sc start oviod
    check "[$cycle] RUNNING" wait_state RUNNING 60
    check "[$cycle] RUNNING reported only after it listens" \
        awk -v c="$cycle" '/listening on/ { l++ } /service: RUNNING/ { r++; if (l < r) bad = 1 } END { exit !(r == c && !bad) }' "$LOG"
    head -c 3000000 /dev/urandom >"$T/in$cycle.bin"
    check "[$cycle] native put through the service" \
        timeout 60 "$NATIVE_OVIO" -e "$EP" put "$T/in$cycle.bin" "served$cycle.bin"
    check "[$cycle] native get through the service" \
        timeout 60 "$NATIVE_OVIO" -e "$EP" get "served$cycle.bin" "$T/out$cycle.bin"
    check "[$cycle] checksums match" \
        cmp -s "$T/in$cycle.bin" "$T/out$cycle.bin"
    check "[$cycle] the file it served is in its root" \
        cmp -s "$T/in$cycle.bin" "$T/root/served$cycle.bin"
    check "[$cycle] sc stop" quiet wine_run 60 sc stop oviod
    check "[$cycle] STOPPED" wait_state STOPPED 30
    check "[$cycle] the log shows the drain and a clean stop" \
        [ "$(grep -c "stopped cleanly" "$LOG")" -eq "$cycle" ]
    check "[$cycle] STOP_PENDING, then STOPPED last" \
        awk -v c="$cycle" '/service: STOP_PENDING/ { p++ } /stopped cleanly/ { k++; if (p < k) bad = 1 } /service: STOPPED/ { s++; last = NR } END { exit !(s == c && last == NR && !bad) }' "$LOG"
done

check "oviod.exe uninstall" wine_run 60 "$W/oviod.exe" uninstall
wine_run 30 sc query oviod >"$T/gone.out" 2>&1
check "sc query: the service is gone" [ -z "$(state)" ]

echo "---- the service's log ($LOG)"
cat "$LOG"
echo "---- the files it served"
ls -l "$T/root"
summary
