#!/bin/bash
# win-deps.sh - cross-build the static Windows (x86_64-w64-mingw32)
# dependencies of ovio from Debian 12 source packages.
#
# Usage: install/win-deps.sh [PREFIX]
#
#   PREFIX   install dir (default: <repo top>/build/win-deps); a relative
#            PREFIX is taken relative to the current directory.
#
# Result: PREFIX/include and PREFIX/lib with libnng.a (with TLS),
# libmbedtls.a, libmbedx509.a, libmbedcrypto.a, libprotobuf-c.a and
# libcheck.a.  Sources are unpacked under <repo top>/build/win-src, build
# logs go to build/win-src/*.log.  Each library has a stamp file
# (PREFIX/.stamp-<lib>); delete it (or PREFIX) to force a rebuild.
# The script is idempotent: a second run only checks and exits.
#
# Needs root for apt-get (tools, deb-src entry) unless everything is there.
#
# Using the result (Windows programs, see tests/win/smoke.c):
#   CFLAGS: -I PREFIX/include -DNNG_STATIC_LIB -D__USE_MINGW_ANSI_STDIO=1
#   LIBS:   -L PREFIX/lib -lcheck -lnng -lmbedtls -lmbedx509 -lmbedcrypto
#           -lprotobuf-c -lws2_32 -ladvapi32 -static -pthread
#   (-pthread: libcheck uses winpthreads; -static: no libwinpthread-1.dll /
#   libgcc DLLs needed at run time.  nng's cmake also lists -lmswsock, but
#   nng 1.5.2 needs no symbol from it.)

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PREFIX=${1:-$TOP/build/win-deps}
mkdir -p "$PREFIX"
PREFIX=$(cd "$PREFIX" && pwd)
SRC=$TOP/build/win-src
HOST=x86_64-w64-mingw32
JOBS=$(nproc 2>/dev/null || echo 2)

ME=win-deps
# Build tools (host).  protobuf-c-compiler gives protoc-c for code generation.
TOOLS=(mingw-w64 cmake make wine wine64 dpkg-dev protobuf-c-compiler patch)
. "$TOP/install/lib.sh"

# Common cmake settings for the cross build.
CMAKE_CROSS=(
    --no-warn-unused-cli
    -DCMAKE_SYSTEM_NAME=Windows
    "-DCMAKE_C_COMPILER=$HOST-gcc"
    "-DCMAKE_RC_COMPILER=$HOST-windres"
    "-DCMAKE_FIND_ROOT_PATH=/usr/$HOST"
    -DCMAKE_FIND_ROOT_PATH_MODE_PROGRAM=NEVER
    -DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY
    -DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY
    -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_INSTALL_PREFIX="$PREFIX"
    -DCMAKE_INSTALL_LIBDIR=lib
    -DBUILD_SHARED_LIBS=OFF
)

# ---------------------------------------------------------------------------
# libraries
# ---------------------------------------------------------------------------
# mbedTLS for nng's TLS (tls+tcp://): Debian's 2.28 source, static
# libraries only.
build_mbedtls() {
    local src log=$SRC/mbedtls.log b
    fetch_source mbedtls; src=$srcdir
    say "building mbedtls ($(basename "$src"))"
    b=$src/_win
    rm -rf "$b"
    run "$log" cmake -S "$src" -B "$b" "${CMAKE_CROSS[@]}" \
        -DENABLE_TESTING=OFF -DENABLE_PROGRAMS=OFF \
        -DUSE_STATIC_MBEDTLS_LIBRARY=ON -DUSE_SHARED_MBEDTLS_LIBRARY=OFF \
        -DMBEDTLS_FATAL_WARNINGS=OFF
    run "$log" cmake --build "$b" -j "$JOBS"
    run "$log" cmake --install "$b"
}

# nng with TLS on the mbedTLS above (named explicitly: the cross build's
# find root would not look in PREFIX).
build_nng() {
    local src log=$SRC/nng.log
    fetch_nng; src=$srcdir
    say "building nng ($(basename "$src"), with install/nng-patches)"
    # PREFIX/include is on nng's include path (for mbedTLS): the headers
    # of an nng installed there before must not shadow the source's.
    rm -rf "$src/_win" "$PREFIX/include/nng"
    run "$log" cmake -S "$src" -B "$src/_win" "${CMAKE_CROSS[@]}" \
        -DNNG_TESTS=OFF -DNNG_TOOLS=OFF -DNNG_ENABLE_NNGCAT=OFF \
        -DNNG_ENABLE_TLS=ON -DNNG_TLS_ENGINE=mbed \
        -DMBEDTLS_INCLUDE_DIR="$PREFIX/include" \
        -DMBEDTLS_TLS_LIBRARY="$PREFIX/lib/libmbedtls.a" \
        -DMBEDTLS_X509_LIBRARY="$PREFIX/lib/libmbedx509.a" \
        -DMBEDTLS_CRYPTO_LIBRARY="$PREFIX/lib/libmbedcrypto.a"
    run "$log" cmake --build "$src/_win" -j "$JOBS"
    run "$log" cmake --install "$src/_win"
}

# Only the C runtime is needed (protoc-c runs on the host).
build_protobuf_c() {
    local src log=$SRC/protobuf-c.log obj
    fetch_source protobuf-c; src=$srcdir
    say "building protobuf-c runtime ($(basename "$src"))"
    obj=$src/_win/protobuf-c.o
    mkdir -p "$src/_win" "$PREFIX/include/protobuf-c" "$PREFIX/lib"
    run "$log" $HOST-gcc -O2 -Wall -I "$src" -c "$src/protobuf-c/protobuf-c.c" -o "$obj"
    rm -f "$PREFIX/lib/libprotobuf-c.a"
    run "$log" $HOST-ar rcs "$PREFIX/lib/libprotobuf-c.a" "$obj"
    run "$log" install -m 644 "$src/protobuf-c/protobuf-c.h" "$PREFIX/include/protobuf-c/"
}

# Only the static library is built and installed by hand: check's own
# install step wants the DLL too, and a libcheck.dll.a next to libcheck.a
# would be picked by -lcheck instead of the static one.
build_check() {
    local src log=$SRC/check.log b
    fetch_source check; src=$srcdir
    say "building check ($(basename "$src"))"
    b=$src/_win
    rm -rf "$b"
    run "$log" cmake -S "$src" -B "$b" "${CMAKE_CROSS[@]}" \
        -DBUILD_TESTING=OFF \
        -DCMAKE_C_FLAGS="-D__USE_MINGW_ANSI_STDIO=1" \
        -DCMAKE_EXE_LINKER_FLAGS="-pthread"
    run "$log" cmake --build "$b" -j "$JOBS" --target check
    mkdir -p "$PREFIX/include" "$PREFIX/lib"
    run "$log" install -m 644 "$b/src/check.h" "$b/check_stdint.h" "$PREFIX/include/"
    # check.h marks _ck_assert_failed() as format(printf): for mingw gcc that
    # means the MS printf (no %jd), so every ck_assert_int_* warns.  The lib
    # is built with mingw's C99 stdio, so gnu_printf is the right archetype.
    run "$log" sed -i 's/CK_ATTRIBUTE_FORMAT(printf,/CK_ATTRIBUTE_FORMAT(gnu_printf,/' \
        "$PREFIX/include/check.h"
    run "$log" install -m 644 "$b/src/libcheck.a" "$PREFIX/lib/"
}

# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------
mkdir -p "$SRC"
ensure_tools

# mbedtls before nng, which is built on it.
for lib in mbedtls nng protobuf-c check; do
    stamp=$PREFIX/.stamp-$lib
    want=built
    [ "$lib" = nng ] && want=$(nng_patch_id)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
        [ -f "$PREFIX/lib/lib$lib.a" ]; then
        continue
    fi
    "build_${lib//-/_}"
    [ -f "$PREFIX/lib/lib$lib.a" ] || die "$lib built but $PREFIX/lib/lib$lib.a is missing"
    echo "$want" >"$stamp"
done

say "ok: $PREFIX (libmbed*.a libnng.a libprotobuf-c.a libcheck.a)"
