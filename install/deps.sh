#!/bin/bash
# deps.sh [run|test] - install the Debian packages ovio needs.
#   run (default)  to build and run oviod and ovio (make run, make deps)
#   test           that, and what the tests and benchmark use (make test):
#                  check, fio, valgrind, FUSE, clang's fuzzer runtime, ...
# nng is not among them: install/nng.sh builds Debian's nng source with
# ovio's patches.  Idempotent: when everything is present it only checks
# (well under a second) and touches nothing.  Needs root (or sudo) only
# when something is missing.
set -euo pipefail

PKGS=(
    build-essential pkg-config
    libprotobuf-c-dev protobuf-c-compiler liburing-dev libmbedtls-dev
)
case "${1:-run}" in
run) ;;
test)
    PKGS+=(
        openssl check
        fio valgrind python3 python3-fusepy fuse3 procps
        clang libclang-rt-14-dev
    )
    ;;
*)
    echo "usage: install/deps.sh [run|test]" >&2
    exit 2
    ;;
esac

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for p in "${PKGS[@]}"; do
    installed "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || {
        echo "deps: need root to install: ${missing[*]}" >&2
        exit 1
    }
    SUDO=sudo
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
