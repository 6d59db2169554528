#!/bin/bash
# nng.sh - builds the nng that ovio links on Linux: Debian's nng 1.5.2
# source with Debian's patches and ovio's (install/nng-patches), as a
# static, position-independent library with TLS (tls+tcp://, on Debian's
# mbedTLS 2.28, libmbedtls-dev), into PREFIX (default build/nng).  Debian's libnng1 has two bugs a service cannot live with (see
# install/lib.sh, fetch_nng).  Idempotent: a build made with the same patch
# set is kept (a few milliseconds).
#
#   install/nng.sh [PREFIX]
set -euo pipefail
# Built for this tree, never staged: `make install DESTDIR=...` that has
# to rebuild nng (its patches changed) must not send it to the stage.
unset DESTDIR

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PREFIX=${1:-$TOP/build/nng}
mkdir -p "$PREFIX"
PREFIX=$(cd "$PREFIX" && pwd)
SRC=$TOP/build/nng-src
JOBS=$(nproc 2>/dev/null || echo 2)
ME=nng
TOOLS=(cmake make gcc dpkg-dev patch libmbedtls-dev)
. "$TOP/install/lib.sh"

stamp=$PREFIX/.stamp
want=$(nng_patch_id)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
    [ -f "$PREFIX/lib/libnng.a" ]; then
    exit 0
fi

mkdir -p "$SRC"
ensure_tools
fetch_nng
src=$srcdir
log=$SRC/nng.log
say "building nng ($(basename "$src"), with install/nng-patches) into $PREFIX"
rm -rf "$src/_linux"
run "$log" cmake -S "$src" -B "$src/_linux" --no-warn-unused-cli \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX="$PREFIX" \
    -DCMAKE_INSTALL_LIBDIR=lib -DBUILD_SHARED_LIBS=OFF \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
    -DNNG_TESTS=OFF -DNNG_TOOLS=OFF -DNNG_ENABLE_NNGCAT=OFF \
    -DNNG_ENABLE_TLS=ON -DNNG_TLS_ENGINE=mbed
run "$log" cmake --build "$src/_linux" -j "$JOBS"
run "$log" cmake --install "$src/_linux"
[ -f "$PREFIX/lib/libnng.a" ] || die "built, but $PREFIX/lib/libnng.a is missing"
echo "$want" >"$stamp"
say "ok: $PREFIX/lib/libnng.a"
