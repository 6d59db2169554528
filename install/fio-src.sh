#!/bin/bash
# fio-src.sh - the fio headers ovio's fio engine (client/fio/ovio_fio.c,
# make fio-engine) is compiled against.  Debian ships no fio headers, so
# this unpacks Debian's fio source package into SRC (default
# build/fio-src) and runs fio's ./configure there, as Debian's build does
# (debian/rules: --disable-native --prefix=/usr, without the gfio and nbd
# front ends, which change no header the engine sees), for the one file it
# generates that the headers need: config-host.h.  fio itself is not built.
#
# An external engine is bound to the fio that loads it by more than a
# version number: fio checks only ioengine_ops.version (FIO_IOOPS_VERSION),
# while the engine reads struct thread_data, thread_options, fio_file and
# io_u at the offsets these headers give.  So the source must be the
# installed binary's: this checks that `fio --version` names the version
# of the source (FIO-VERSION-GEN) and stops otherwise.
#
# Idempotent: when the stamp names the same source and fio, nothing is done
# (a few milliseconds).  Reads no standard input; a failure ends with one
# line, "fio-src: error: ...".  SRC/current links to the configured source
# folder (SRC/fio-3.33): the Makefile's FIO_SRC.
#
#   install/fio-src.sh [SRC]
set -euo pipefail
exec </dev/null

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC=${1:-$TOP/build/fio-src}
ME=fio-src
TOOLS=(dpkg-dev gcc make fio)
. "$TOP/install/lib.sh"

mkdir -p "$SRC" || die "cannot make $SRC"
SRC=$(cd "$SRC" && pwd)

command -v fio >/dev/null || ensure_tools
command -v fio >/dev/null || die "fio is not installed (apt-get install fio)"
have=$(fio --version 2>/dev/null | head -1) ||
    die "'fio --version' failed"
pkg=$(dpkg-query -W -f='${Version}' fio 2>/dev/null || echo "?")

# The stamp: the installed fio (its version and Debian revision) the
# configured source was checked against.
stamp=$SRC/.stamp
want="$have $pkg"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
    [ -f "$SRC/current/config-host.h" ]; then
    exit 0
fi

# The version of the source in $srcdir, as fio's own build names it.
src_version() {
    sed -n 's/^DEF_VER=//p' "$srcdir/FIO-VERSION-GEN" 2>/dev/null
}

ensure_tools
old=("$SRC"/fio-[0-9]*/)
fetch_source fio
if [ -d "${old[0]}" ] && [ "$(src_version)" != "$have" ]; then
    # Unpacked for another fio (fio was upgraded since): fetch again.
    say "$(basename "$srcdir") is not $have: fetching the source again"
    rm -rf "$srcdir" "$SRC"/fio_*
    fetch_source fio
fi
src=$srcdir
ver=$(src_version)
if [ "$ver" != "$have" ]; then
    die "Debian's fio source is ${ver:-of no known version} but the installed fio is $have ($pkg): an engine built against it would misread fio's structures; install the fio apt-get source fetches"
fi

log=$SRC/configure.log
rm -f "$src/config-host.h"
say "configuring $(basename "$src") for its config-host.h"
(cd "$src" && ./configure --disable-native --prefix=/usr) >"$log" 2>&1 ||
    die "fio's ./configure failed in $src (its output: $log)"
[ -f "$src/config-host.h" ] ||
    die "configure ran but wrote no config-host.h (see $log)"
# Headers the engine's structures depend on (fio.h: CUDA members at the end
# of struct thread_data) must be configured as in Debian's build.
if grep -q '^#define CONFIG_CUDA' "$src/config-host.h"; then
    die "config-host.h enables CUDA, which Debian's fio does not: the engine would see another struct thread_data"
fi
ln -sfn "$(basename "$src")" "$SRC/current"
echo "$want" >"$stamp"
say "ok: $src/config-host.h (for $have, Debian $pkg)"
