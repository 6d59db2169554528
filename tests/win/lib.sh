# lib.sh - shared by the Wine test scripts (sourced, not run).
#
# Wine runs in a private prefix under build/win (WINEPREFIX), quietly
# (WINEDEBUG=-all), pinned to one CPU (IOCP loops run ~10x faster under Wine
# that way), and every run is bounded by timeout(1).  The first Wine
# command's stderr goes to a file, never to a pipe: a pipe left open by a
# wineserver started in the background would make the caller wait forever.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
W=$TOP/build/win
export WINEPREFIX=${WINEPREFIX:-$W/wineprefix}
export WINEDEBUG=-all
NATIVE_OVIO=${NATIVE_OVIO:-$TOP/build/ovio}

pass=0
fail=0
skipped=0

ok() {
    pass=$((pass + 1))
    echo "ok   $*"
}

not_ok() {
    fail=$((fail + 1))
    echo "FAIL $*"
}

# skip NAME WHY : a check that cannot run here; counted as skipped, never
# as passed.  The line format is the one tests/win/run.sh (and the check
# suites' tu_skip) use: "SKIP: NAME: WHY".
skip() {
    skipped=$((skipped + 1))
    echo "SKIP: $1: $2"
}

# check NAME CMD... : one check, passing when CMD succeeds; returns 1 when
# it fails, for a caller that then shows more.
check() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else not_ok "$name"; return 1; fi
}

# rc_grep RC WANT PATTERN FILE : passes when exit status RC is WANT and FILE
# contains PATTERN.
rc_grep() {
    [ "$1" -eq "$2" ] && grep -q "$3" "$4"
}

# wine_run SECONDS PROGRAM ARGS... : a bounded, pinned Wine run.
wine_run() {
    local t=$1
    shift
    timeout "$t" taskset -c 0 wine "$@"
}

# Creates the prefix once (its output to a file).
wine_init() {
    mkdir -p "$W"
    if [ ! -f "$WINEPREFIX/system.reg" ]; then
        timeout 300 wineboot -i >"$W/wineboot.log" 2>&1 || {
            echo "wineboot failed, see $W/wineboot.log" >&2
            return 1
        }
    fi
}

# A Windows path for a Unix one (Wine maps / to Z:).
winpath() {
    echo "Z:$1" | tr / '\\'
}

# A free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for FILE PATTERN SECONDS : waits until FILE contains PATTERN.
wait_for() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# summary : the last line, and the exit status.
summary() {
    echo "$pass passed, $fail failed, $skipped skipped"
    [ "$fail" -eq 0 ]
}
