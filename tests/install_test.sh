#!/bin/bash
# install_test.sh - make install into a staging folder (DESTDIR) and what an
# operator then has: the documented tree, a config file that checks, a
# systemd unit whose command line is the installed one and whose sandbox
# systemd-analyze rates OK (exposure <= 4.0), a second install that keeps
# an edited config, and make uninstall.  Prints check's summary line, so
# tests/run.sh counts it as a suite.
set -u
cd "$(dirname "$0")/.."
T=$(mktemp -d /tmp/ovio-install-XXXXXX)
# The user ovio is made below as make install makes it; one this test made
# goes with the test users at the end.
had_ovio=
getent passwd ovio >/dev/null && had_ovio=1
SPID=
cleanup() {
    [ -n "$SPID" ] && kill -TERM "$SPID" 2>/dev/null
    for u in ovioacc_in ovioacc_out; do userdel "$u" >/dev/null 2>&1; done
    if [ -z "$had_ovio" ]; then
        userdel ovio >/dev/null 2>&1
        groupdel ovio >/dev/null 2>&1
    fi
    rm -rf "$T"
}
trap cleanup EXIT
PREFIX=/usr/local
D=$T/dest
n=0
failed=0

check() {
    local what=$1
    shift
    n=$((n + 1))
    if "$@" >"$T/out" 2>&1; then
        echo "ok: $what"
    else
        failed=$((failed + 1))
        echo "tests/install_test.sh:${BASH_LINENO[0]}:F:install:$what: $(head -c 600 "$T/out")"
    fi
}

check "make install DESTDIR=... succeeds" \
    make -s --no-print-directory install DESTDIR="$D" PREFIX=$PREFIX
for f in bin/oviod bin/ovio lib/libovio.so.0 lib/libovio.so lib/libovio.a \
    include/ovio.h include/ovio_err.h lib/systemd/system/oviod.service \
    lib/pkgconfig/libovio.pc share/doc/ovio/README.md \
    share/doc/ovio/reference.md share/doc/ovio/oviod.conf \
    share/doc/ovio/examples/hello.c share/man/man8/oviod.8 \
    share/man/man5/oviod.conf.5 share/man/man1/ovio.1 \
    share/man/man3/libovio.3; do
    check "installed $PREFIX/$f" test -e "$D$PREFIX/$f"
done
check "installed /etc/ovio/oviod.conf" test -f "$D/etc/ovio/oviod.conf"
unit=$D$PREFIX/lib/systemd/system/oviod.service
check "the unit runs the installed oviod with the installed config" \
    grep -qx "ExecStart=$PREFIX/bin/oviod --config /etc/ovio/oviod.conf" "$unit"
check "no @...@ left in the unit or the config" \
    bash -c "! grep -n '@[A-Z]*@' '$unit' '$D/etc/ovio/oviod.conf'"
# The service's user and group, made as make install makes them on the
# target (the config's allow-group names the group, so it checks after).
check "installed $PREFIX/lib/sysusers.d/ovio.conf" \
    test -f "$D$PREFIX/lib/sysusers.d/ovio.conf"
check "systemd-sysusers makes the user ovio and its group from it" \
    bash -c "systemd-sysusers '$D$PREFIX/lib/sysusers.d/ovio.conf' && getent passwd ovio && getent group ovio"
check "the unit runs as ovio, with no capabilities" \
    bash -c "grep -qx 'User=ovio' '$unit' && grep -qx 'CapabilityBoundingSet=' '$unit' && ! grep -q '^User=root' '$unit'"
check "the installed config checks" \
    "$D$PREFIX/bin/oviod" --config "$D/etc/ovio/oviod.conf" --check-config
for m in man8/oviod.8 man5/oviod.conf.5 man1/ovio.1 man3/libovio.3; do
    check "man $m renders without a warning" \
        bash -c "MANWIDTH=80 man --warnings -l '$D$PREFIX/share/man/$m' 2>'$T/manerr' >'$T/man.txt' && [ ! -s '$T/manerr' ] && [ \$(wc -l <'$T/man.txt') -gt 20 ]"
done
check "man oviod holds oviod --help's option list, and --config" \
    bash -c "MANWIDTH=80 man -l '$D$PREFIX/share/man/man8/oviod.8' | grep -q -- '--max-sessions-per-peer N' && MANWIDTH=80 man -l '$D$PREFIX/share/man/man8/oviod.8' | grep -q -- '--check-config'"
check "man ovio holds ovio admin --help's subcommands" \
    bash -c "MANWIDTH=80 man -l '$D$PREFIX/share/man/man1/ovio.1' | grep -q 'requests answered since the service started'"
check "the installed oviod and ovio run" \
    bash -c "'$D$PREFIX/bin/oviod' --version && '$D$PREFIX/bin/ovio' --version"

# libovio as a user builds against it: pkg-config, the shared library
# (which exports ovio_* only, its nng inside), and the static one.
L=$D$PREFIX/lib
export PKG_CONFIG_PATH=$L/pkgconfig
check "pkg-config knows libovio and its version" \
    bash -c "[ \"\$(pkg-config --modversion libovio)\" = \"\$(sed -n 's/^#define OVIO_VERSION \"\(.*\)\"/\1/p' lib/ovio.h)\" ]"
check "libovio.so exports ovio_* and nothing else (nng is inside)" \
    bash -c "nm -D --defined-only '$L/libovio.so.0' | awk '\$2 ~ /[TDB]/ { print \$3 }' | grep -v '^ovio_' | grep -v '^_' | grep -q . && exit 1 || exit 0"
check "the example compiles with pkg-config --cflags --libs libovio" \
    bash -c "cc '$D$PREFIX/share/doc/ovio/examples/hello.c' \$(pkg-config --define-prefix --cflags --libs libovio) -o '$T/hello'"
check "... and statically, with libovio.a and pkg-config --static" \
    bash -c "cc '$D$PREFIX/share/doc/ovio/examples/hello.c' \$(pkg-config --define-prefix --cflags libovio) '$L/libovio.a' \$(pkg-config --define-prefix --static --libs libovio | sed 's/-lovio//') -o '$T/hello-static'"
check "the static one needs no libovio.so" \
    bash -c "! ldd '$T/hello-static' | grep -q libovio"

# Both run against the installed oviod.
mkdir -p "$T/root"
"$D$PREFIX/bin/oviod" --root "$T/root" --listen "ipc://$T/s.sock" \
    2>"$T/oviod.log" &
OPID=$!
for ((i = 0; i < 100; i++)); do
    "$D$PREFIX/bin/ovio" -e "ipc://$T/s.sock" status >/dev/null 2>&1 && break
    sleep 0.05
done
check "the example (shared libovio) writes and reads through oviod" \
    bash -c "LD_LIBRARY_PATH='$L' '$T/hello' 'ipc://$T/s.sock' a.txt | grep -qx 'a.txt: hello from libovio' && grep -qx 'hello from libovio' '$T/root/a.txt'"
check "the example (static libovio) too" \
    bash -c "'$T/hello-static' 'ipc://$T/s.sock' b.txt | grep -qx 'b.txt: hello from libovio' && grep -qx 'hello from libovio' '$T/root/b.txt'"
check "the example fails with one line and exit 1 when no service listens" \
    bash -c "LD_LIBRARY_PATH='$L' '$T/hello' 'ipc://$T/none.sock' 2>'$T/err'; [ \$? -eq 1 ] && [ \$(wc -l <'$T/err') -eq 1 ] && grep -q 'connection refused' '$T/err'"
kill -TERM "$OPID"
check "the installed oviod stops cleanly" wait "$OPID"

# The service as its unit runs it, in a mount namespace of its own whose
# /run is fresh (so the machine's /run/ovio is not touched): as the user
# ovio, on the installed config, /run/ovio made as RuntimeDirectory= makes
# it.  A member of the group ovio then reaches it with no endpoint given
# (ovio looks in /run/ovio when it has no socket of its own) and trusts it
# (run by the user ovio); another user is refused; so is the admin
# endpoint but for root.
for u in ovioacc_in ovioacc_out; do userdel "$u" >/dev/null 2>&1; done
useradd -M -N -s /usr/sbin/nologin -G ovio ovioacc_in
useradd -M -N -s /usr/sbin/nologin ovioacc_out
chmod 755 "$T"
install -d -o ovio -g ovio -m 750 "$T/srv"
unshare -m --propagation private bash -c "
    mount -t tmpfs -o mode=0755 ovio-test-run /run &&
    install -d -o ovio -g ovio -m 0711 /run/ovio &&
    exec setpriv --reuid=ovio --regid=ovio --init-groups \
        env -i PATH=/usr/bin:/bin \
        '$D$PREFIX/bin/oviod' --config '$D/etc/ovio/oviod.conf' \
        --root '$T/srv'" >/dev/null 2>"$T/svc.log" &
SPID=$!
as() {
    local u=$1
    shift
    nsenter -t "$SPID" -m setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups \
        env -i PATH=/usr/bin:/bin HOME=/ "$@"
}
for ((i = 0; i < 100; i++)); do
    grep -q "listening on ipc:///run/ovio/oviod.sock" "$T/svc.log" && break
    sleep 0.05
done
check "the service runs as ovio and listens on /run/ovio/oviod.sock" \
    bash -c "[ \"\$(stat -c %U /proc/$SPID)\" = ovio ] && nsenter -t $SPID -m stat -c '%U %a' /run/ovio/oviod.sock | grep -qx 'ovio 666'"
echo "ovio from the group" >"$T/in.txt"
chmod 644 "$T/in.txt"
check "a member of the group ovio puts and gets a file with no -e" \
    bash -c "$(declare -f as); SPID=$SPID; as ovioacc_in '$D$PREFIX/bin/ovio' put '$T/in.txt' in.txt && as ovioacc_in '$D$PREFIX/bin/ovio' cat in.txt | grep -qx 'ovio from the group' && [ \"\$(stat -c %U '$T/srv/in.txt')\" = ovio ]"
check "a user outside the group is refused, and the service says so" \
    bash -c "$(declare -f as); SPID=$SPID; ! as ovioacc_out '$D$PREFIX/bin/ovio' status && grep -q 'refused: uid '\$(id -u ovioacc_out) '$T/svc.log'"
check "the group's member cannot reach the admin endpoint" \
    bash -c "$(declare -f as); SPID=$SPID; ! as ovioacc_in '$D$PREFIX/bin/ovio' admin sessions"
check "root reaches it, admin endpoint too, with no -e" \
    bash -c "nsenter -t $SPID -m env -i PATH=/usr/bin:/bin '$D$PREFIX/bin/ovio' admin sessions | grep -q '^SESSION'"
# The member's own oviod, when there is one, comes first.
OWN=/tmp/ovio-$(id -u ovioacc_in)
rm -rf "$OWN"
install -d -o ovioacc_in -m 700 "$T/own"
echo mine >"$T/own/own.txt"
chown ovioacc_in "$T/own/own.txt"
# (nsenter execs setpriv, which execs env, which execs oviod: $! is it)
nsenter -t "$SPID" -m setpriv --reuid=ovioacc_in \
    --regid="$(id -g ovioacc_in)" --init-groups env -i PATH=/usr/bin:/bin \
    "$D$PREFIX/bin/oviod" --root "$T/own" >/dev/null 2>"$T/own.log" &
OWNPID=$!
for ((i = 0; i < 100; i++)); do
    grep -qs "listening on ipc://$OWN/oviod.sock" "$T/own.log" && break
    sleep 0.05
done
check "the member's own oviod, when running, is used instead" \
    bash -c "$(declare -f as); SPID=$SPID; as ovioacc_in '$D$PREFIX/bin/ovio' cat own.txt | grep -qx mine"
# Killed: its socket stays behind, refusing connections.
kill -KILL "$OWNPID"
wait "$OWNPID"
check "the killed oviod left its socket" [ -S "$OWN/oviod.sock" ]
check "... and the system service again once it is gone" \
    bash -c "$(declare -f as); SPID=$SPID; as ovioacc_in '$D$PREFIX/bin/ovio' cat in.txt | grep -qx 'ovio from the group'"
rm -rf "$OWN"
kill -TERM "$SPID"
check "the service stops cleanly" wait "$SPID"
SPID=

if command -v systemd-analyze >/dev/null; then
    systemd-analyze security --offline=true "$unit" >"$T/analyze" 2>&1
    exposure=$(sed -nE 's/.*Overall exposure level for oviod.service: ([0-9.]+).*/\1/p' "$T/analyze")
    echo "systemd-analyze security: exposure ${exposure:-?}"
    check "systemd-analyze security --offline=true: exposure <= 4.0" \
        python3 -c "import sys; sys.exit(0 if 0 < float('${exposure:-99}') <= 4.0 else 1)"
    check "systemd reads every line of the unit (no unknown key or value)" \
        bash -c "! grep -i 'ignoring\|unknown\|failed' '$T/analyze'"
else
    echo "SKIP: systemd-analyze is not installed: the unit's sandbox is not rated"
fi

echo "# an operator's edit" >>"$D/etc/ovio/oviod.conf"
check "a second install keeps an edited config" \
    bash -c "make -s --no-print-directory install DESTDIR='$D' PREFIX=$PREFIX | grep -q 'kept' && grep -q \"an operator's edit\" '$D/etc/ovio/oviod.conf'"
check "make uninstall succeeds" \
    make -s --no-print-directory uninstall DESTDIR="$D" PREFIX=$PREFIX
check "uninstall removed every file but the config" \
    bash -c "left=\$(find '$D' -type f -o -type l); [ \"\$left\" = '$D/etc/ovio/oviod.conf' ] || { echo left: \$left; exit 1; }"

pct=$(((n - failed) * 100 / n))
echo "$pct%: Checks: $n, Failures: $failed, Errors: 0"
[ $failed -eq 0 ]
