#!/bin/bash
# scm.sh - oviod.exe as a real service under Wine's service manager, driven
# by the CLI (ovio.exe service ...) and by sc:
#   - ovio.exe service --help / bad usage; the native Linux ovio says
#     "Windows only" (exit 2);
#   - ovio.exe service install (runs oviod.exe install; the options are
#     stored on its command line), a second install refused;
#   - cycle 1 with sc start / sc stop, cycle 2 with ovio.exe service start
#     / status / stop: RUNNING only once it listens, native ovio put/get
#     through it over tcp, stop drains (STOP_PENDING, "stopped cleanly",
#     STOPPED last);
#   - in cycle 2 the stop comes with four reads pending on a Unix FIFO in
#     the root (a native hold_client holding them): the service cancels,
#     drains and still stops cleanly;
#   - installed with its preshutdown timeout (drain + 5 s); accepts stop,
#     shutdown and preshutdown while running;
#   - cycle 3: a drain held for its whole timeout (the engine's cancels
#     made to fail) with reads pending: STOP_PENDING checkpoints advance
#     every second, then STOPPED;
#   - ovio.exe service uninstall; status NOT_INSTALLED.
# What it did is shown by its log file and by the files it served.
#
# The wineserver is restarted persistent first (wineserver -k; -w; -p) so
# the service manager and the service outlive each wine command, and is
# killed at the end.  Ends with "N passed, N failed, N skipped".
set -u
. "$(dirname "$0")/lib.sh"

wine_init || exit 1
T=$(mktemp -d /tmp/ovio-wine-scm.XXXXXX)
HPID=
cleanup() {
    [ -n "$HPID" ] && kill -TERM "$HPID" 2>/dev/null
    exec 3>&- 2>/dev/null
    wine_run 30 reg delete 'HKLM\System\CurrentControlSet\Control\Session Manager\Environment' \
        /v OVIO_TEST_FAIL_CANCELS /f >/dev/null 2>&1
    wine_run 60 "$W/oviod.exe" uninstall >/dev/null 2>&1
    wineserver -k 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/root"
PORT=$(free_port)
EP="tcp://127.0.0.1:$PORT"
LOG=$T/oviod.log
HOLD=${HOLD_CLIENT:-$TOP/build/tests/hold_client}

wineserver -k 2>/dev/null
wineserver -w
wineserver -p 2>"$T/wineserver.err"
# A service left by an earlier, interrupted run.
wine_run 60 "$W/oviod.exe" uninstall >/dev/null 2>"$T/first-wine.err"

quiet() { "$@" >/dev/null 2>&1; }

# ovio_svc ARGS... : ovio.exe service ARGS, output without \r.
ovio_svc() {
    wine_run 60 "$W/ovio.exe" service "$@" 2>&1 | tr -d '\r'
    return "${PIPESTATUS[0]}"
}

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

# svc_json KEY : one value of ovio.exe service status --json.
svc_json() {
    ovio_svc status --json | sed -n "s/.*\"$1\": \\(\"[^\"]*\"\\|[0-9a-z]*\\).*/\\1/p" |
        tr -d '"'
}

# ---- options and usage -------------------------------------------------------
check "oviod.exe --help exits 0" quiet wine_run 60 "$W/oviod.exe" --help
wine_run 60 "$W/oviod.exe" --bogus >/dev/null 2>&1
check "oviod.exe --bogus exits 2" [ $? -eq 2 ]
ovio_svc --help >"$T/help.out"
check "ovio.exe service --help exits 0 and lists the subcommands" \
    grep -q "install.*uninstall" <(tr '\n' ' ' <"$T/help.out")
for sub in install uninstall start stop reload status; do
    ovio_svc "$sub" --help >"$T/help-$sub.out"
    rc=$?
    check "ovio.exe service $sub --help" \
        rc_grep "$rc" 0 "usage: ovio service $sub" "$T/help-$sub.out" ||
        { echo "   exit $rc; it printed:"; head -5 "$T/help-$sub.out" | sed 's/^/   | /'; }
done
ovio_svc bogus >/dev/null
check "ovio.exe service bogus exits 2" [ $? -eq 2 ]
ovio_svc stop --timeout x >/dev/null
check "ovio.exe service stop --timeout x exits 2" [ $? -eq 2 ]
"$NATIVE_OVIO" service status >"$T/native.out" 2>&1
check "native ovio service: Windows only, exit 2" \
    rc_grep $? 2 "Windows only.*systemctl" "$T/native.out"
ovio_svc status >"$T/st0.out"
check "ovio.exe service status before install: NOT_INSTALLED, exit 1" \
    rc_grep $? 1 "NOT_INSTALLED" "$T/st0.out"

# ---- install -----------------------------------------------------------------
# The options go to the service's config file, checked first.
CONF=$WINEPREFIX/drive_c/ProgramData/ovio/oviod.conf
rm -f "$CONF" "$CONF.old"
ovio_svc install --max-ops lots >"$T/bad-install.out"
check "an install with a bad option: exit 2, the option named" \
    rc_grep $? 2 "max-ops: lots is not a number" "$T/bad-install.out"
ovio_svc install --root 'C:\a ;b' >"$T/bad-install2.out"
check "... or a value the config file cannot hold (a comment's ;): exit 2" \
    rc_grep $? 2 "a config file cannot hold this value" "$T/bad-install2.out"
check "... nothing installed, no config written" \
    bash -c "[ ! -e '$CONF' ] && ! timeout 30 taskset -c 0 wine sc query oviod >/dev/null 2>&1"
check "ovio.exe service install (runs oviod.exe install)" \
    quiet ovio_svc install --start demand --log "$(winpath "$LOG")" \
    --root "$(winpath "$T/root")" --listen "$EP" --drain-timeout 5000
ovio_svc install -- --start demand >"$T/twice.err"
check "a second install is refused" grep -q "already installed" "$T/twice.err"
# (Wine's sc has no qc: the registry shows the configuration.)
wine_run 30 reg query 'HKLM\System\CurrentControlSet\Services\oviod' \
    2>/dev/null | tr -d '\r' >"$T/qc.out"
check "the service's command line: the config file and the log (quoted path)" \
    grep -q "ImagePath.*\"Z:.*oviod.exe\" run --config C:.*oviod.conf --log Z:" \
    "$T/qc.out"
# conf_has LINE... : the config file holds each LINE (CRLF or not).
conf_has() {
    local l
    for l in "$@"; do
        tr -d '\r' <"$CONF" | grep -qxF -- "$l" || return 1
    done
}
check "the config file holds the options" \
    conf_has "root = $(winpath "$T/root")" "listen = $EP" "drain-timeout = 5000"
check "demand start" grep -q "Start.*0x3" "$T/qc.out"
EVKEY='HKLM\System\CurrentControlSet\Services\EventLog\Application\oviod'
wine_run 30 reg query "$EVKEY" 2>/dev/null | tr -d '\r' >"$T/ev.out"
check "the Event Log source oviod: oviod.exe's message table, 3 severities" \
    bash -c "grep -q 'EventMessageFile.*REG_EXPAND_SZ.*oviod.exe' '$T/ev.out' && grep -q 'TypesSupported.*0x7' '$T/ev.out'"
check "sc query: STOPPED before start" wait_state STOPPED 10
ovio_svc status --json >"$T/st1.json"
check "ovio.exe service status --json: installed, STOPPED, demand" \
    grep -q '"installed": true, "state": "STOPPED".*"start_type": "demand"' \
    "$T/st1.json"
check "preshutdown timeout set at install: drain timeout + 5 s" \
    [ "$(svc_json preshutdown_timeout_ms)" = 10000 ]
check "ovio.exe service status --json: the command line, JSON-escaped" \
    grep -q "\"command\": \"\\\\\"Z:\\\\\\\\.*oviod.exe\\\\\" run --config C:\\\\\\\\.*oviod.conf --log" \
    "$T/st1.json"

# ---- two start / stop cycles -------------------------------------------------
mkfifo "$T/root/fifo"
exec 3<>"$T/root/fifo" # a writer that never writes: reads stay pending
for cycle in 1 2; do
    if [ "$cycle" -eq 1 ]; then
        check "[$cycle] sc start" quiet wine_run 60 sc start oviod
        check "[$cycle] RUNNING" wait_state RUNNING 60
    else
        ovio_svc start >"$T/start.out"
        check "[$cycle] ovio.exe service start waits for RUNNING" \
            rc_grep $? 0 "is running (pid" "$T/start.out"
        check "[$cycle] ovio.exe service status: RUNNING" \
            [ "$(svc_json state)" = RUNNING ]
        check "[$cycle] ovio.exe service status: its pid" \
            [ "$(svc_json pid)" -gt 0 ]
        check "[$cycle] it accepts stop, shutdown, preshutdown and paramchange" \
            [ "$(svc_json controls_accepted)" = stop,shutdown,preshutdown,paramchange ]
        # The options live in the config file: an edit, then paramchange.
        printf 'max-ops = 77\r\n' >>"$CONF"
        ovio_svc reload >"$T/reload.out"
        check "[$cycle] ovio.exe service reload (PARAMCHANGE)" \
            rc_grep $? 0 "reading its config file again" "$T/reload.out"
        check "[$cycle] ... takes the config file's edit" \
            wait_for "$LOG" "reload: max-ops 77 (was 4096)" 20
        ovio_svc start >"$T/start2.out"
        check "[$cycle] a second start: already running, exit 0" \
            rc_grep $? 0 "already running" "$T/start2.out"
    fi
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
    if [ "$cycle" -eq 1 ]; then
        check "[$cycle] sc stop" quiet wine_run 60 sc stop oviod
        check "[$cycle] STOPPED" wait_state STOPPED 30
    else
        # Four reads pending on the FIFO, held by a native client.
        timeout 120 "$HOLD" "$EP" reads 4 fifo >"$T/hold.out" 2>&1 &
        HPID=$!
        wait_for "$T/hold.out" ready 30
        # A request sent is not yet received: wait until the service has
        # the 4 reads in flight, then a second more (they stay pending).
        for ((i = 0; i < 300; i++)); do
            timeout 30 "$NATIVE_OVIO" -e "$EP" --json status \
                >"$T/pending.json" 2>&1
            grep -q '"ops_in_flight": 4,' "$T/pending.json" && break
            sleep 0.1
        done
        sleep 1
        timeout 30 "$NATIVE_OVIO" -e "$EP" --json status >"$T/pending.json" 2>&1
        check "[$cycle] 4 reads pending on the FIFO before the stop" \
            grep -q '"handles": 1, "ops_in_flight": 4, .*"ops_completed": [0-9]*, "ops_canceled": 0' \
            "$T/pending.json"
        ovio_svc stop >"$T/stop.out"
        rc=$?
        check "[$cycle] ovio.exe service stop with reads pending waits for STOPPED" \
            rc_grep $rc 0 "oviod stopped" "$T/stop.out" ||
            { echo "   exit $rc; it printed:"; sed 's/^/   | /' "$T/stop.out"; }
        check "[$cycle] ovio.exe service status: STOPPED" \
            [ "$(svc_json state)" = STOPPED ]
        check "[$cycle] the stop found the pending reads and drained them" \
            grep -q "stopping: 1 handle(s) open, 4 operation(s) in flight" "$LOG"
        kill -TERM "$HPID" 2>/dev/null # timeout passes it on
        wait "$HPID" 2>/dev/null
        HPID=
        ovio_svc stop >"$T/stop2.out"
        check "[$cycle] stop when stopped: not running, exit 0" \
            rc_grep $? 0 "not running" "$T/stop2.out"
    fi
    check "[$cycle] the log shows the drain and a clean stop" \
        [ "$(grep -c "stopped cleanly" "$LOG")" -eq "$cycle" ]
    check "[$cycle] STOP_PENDING, then STOPPED last" \
        awk -v c="$cycle" '/service: STOP_PENDING/ { p++ } /stopped cleanly/ { k++; if (p < k) bad = 1 } /service: STOPPED/ { s++; last = NR } END { exit !(s == c && last == NR && !bad) }' "$LOG"
done
exec 3>&-

# ---- the log in ovio service status ------------------------------------------
ovio_svc status >"$T/st-log.out"
check "ovio.exe service status: its log and the last 10 lines, STOPPED last" \
    bash -c "grep -q '^log: .*oviod.log\$' '$T/st-log.out' && grep -q '^last lines:\$' '$T/st-log.out' && [ \$(grep -c '^  ' '$T/st-log.out') -eq 10 ] && tail -n 1 '$T/st-log.out' | grep -q 'service: STOPPED\$'"
ovio_svc status --json >"$T/st-log.json"
check "... and with --json: log, log_tail" \
    python3 -c "import json, sys; d = json.load(open('$T/st-log.json')); t = d['log_tail']; sys.exit(0 if len(t) == 10 and t[-1].endswith('service: STOPPED') and d['log'].endswith('oviod.log') else 1)"

# ---- a planted service folder ----------------------------------------------
# %ProgramData%\ovio holds the service's log (and by default its root);
# every user may create in %ProgramData% (which Wine gives services as
# C:\users\Public: the log names the folder).  A link planted there (Wine
# shows a Unix symlink as one) makes the service refuse to start, writing
# nothing through it.
SVCDIR=$(sed -n 's/.*service folder \(.*\) (SYSTEM and Administrators only).*/\1/p' "$LOG" | head -1)
check "the service's log names its folder, %ProgramData%\\ovio" \
    bash -c "[[ '$SVCDIR' == [Cc]:* ]]"
PD=$WINEPREFIX/drive_c/$(printf '%s' "${SVCDIR#[Cc]:\\}" | tr '\\' /)
lines=$(wc -l <"$LOG")
mkdir -p "$T/elsewhere"
mv "$PD" "$PD.kept"
ln -s "$T/elsewhere" "$PD"
quiet wine_run 60 sc start oviod
# stopped_failed SECONDS : STOPPED with oviod's exit code 1 (this start's:
# the one before stopped cleanly, with 0).
stopped_failed() {
    local i
    for ((i = 0; i < $1 * 4; i++)); do
        [ "$(svc_json state)" = STOPPED ] &&
            [ "$(svc_json service_exit_code)" = 1 ] && return 0
        sleep 0.25
    done
    return 1
}
check "a link planted as the service folder: the service stops at once, exit code 1" \
    stopped_failed 30
check "... and wrote nothing, there or to its log" \
    bash -c "[ -z \"\$(ls -A '$T/elsewhere')\" ] && [ \$(wc -l <'$LOG') -eq $lines ]"
# One others may write in is made safe first (Wine shows the write bits
# of others as Everyone's, and takes them away as the new DACL asks).
rm "$PD"
mkdir -m 777 "$PD"
check "a service folder others may write in: the service starts" \
    quiet wine_run 60 sc start oviod
check "... RUNNING" wait_state RUNNING 60
check "... and others may no longer write in it" \
    bash -c "[ \$(( 0\$(stat -c %a '$PD') & 2 )) -eq 0 ]"
quiet wine_run 60 sc stop oviod
check "... STOPPED again" wait_state STOPPED 30
rm -rf "$PD"
mv "$PD.kept" "$PD"

# ---- STOP_PENDING checkpoints during a long drain ----------------------------
# A drain that lasts: the engine's cancels fail (OVIO_TEST_FAIL_CANCELS, the
# port's fault seam, set in the system environment the service manager
# gives services; the wineserver is restarted so it reads it), so four
# reads pending on the FIFO hold the stop for the whole drain timeout (5 s),
# after which oviod abandons them.  Meanwhile the checkpoint must advance.
ENVKEY='HKLM\System\CurrentControlSet\Control\Session Manager\Environment'
quiet wine_run 30 reg add "$ENVKEY" /v OVIO_TEST_FAIL_CANCELS /d 1000000 /f
wineserver -k 2>/dev/null
wineserver -w
wineserver -p 2>>"$T/wineserver.err"
# The first Wine command after a restart: its output to a file, not a pipe.
wine_run 60 sc query oviod >/dev/null 2>"$T/first-wine3.err"
exec 3<>"$T/root/fifo"
ovio_svc start >"$T/start3.out"
check "[3] ovio.exe service start" rc_grep $? 0 "is running (pid" "$T/start3.out"
timeout 120 "$HOLD" "$EP" reads 4 fifo >"$T/hold3.out" 2>&1 &
HPID=$!
wait_for "$T/hold3.out" ready 30
sleep 1
check "[3] sc stop with reads pending (returns at once)" \
    quiet wine_run 60 sc stop oviod
cps=()
for ((i = 0; i < 40; i++)); do
    ovio_svc status --json >"$T/st3.json"
    grep -q '"state": "STOP_PENDING"' "$T/st3.json" || break
    cps+=("$(sed -n 's/.*"checkpoint": \([0-9]*\).*/\1/p' "$T/st3.json")")
    sleep 0.5
done
echo "   checkpoints seen during the drain: ${cps[*]}"
increasing() {
    local prev=-1 ups=0 c
    for c in "${cps[@]}"; do
        [ "$c" -lt "$prev" ] && return 1
        [ "$c" -gt "$prev" ] && [ "$prev" -ge 0 ] && ups=$((ups + 1))
        prev=$c
    done
    [ "$ups" -ge 2 ]
}
check "[3] STOP_PENDING checkpoints advance during the drain (every second)" \
    increasing
check "[3] then STOPPED" wait_state STOPPED 30
check "[3] the drain ran its full timeout and abandoned the reads" \
    grep -q "abandoned 1 handle(s) with 4 operation(s)" "$LOG"
check "[3] STOPPED last in the log" \
    awk '/service: STOPPED/ { last = NR } END { exit !(last == NR) }' "$LOG"
kill -TERM "$HPID" 2>/dev/null
wait "$HPID" 2>/dev/null
HPID=
exec 3>&-
quiet wine_run 30 reg delete "$ENVKEY" /v OVIO_TEST_FAIL_CANCELS /f

check "ovio.exe service uninstall" quiet ovio_svc uninstall
check "sc query: the service is gone" [ -z "$(state)" ]
check "... and its Event Log source" \
    bash -c "! timeout 30 taskset -c 0 wine reg query '$EVKEY' >/dev/null 2>&1"
check "ovio.exe service status: NOT_INSTALLED" \
    [ "$(svc_json state)" = NOT_INSTALLED ]

echo "---- the service's log ($LOG)"
cat "$LOG"
echo "---- the files it served"
ls -l "$T/root"
summary
