# lib.sh - shell helpers shared by the dependency builders
# (install/win-deps.sh, install/nng.sh).  Source it after setting TOP (the
# repo top), SRC (where sources are unpacked), ME (the builder's name, for
# messages) and TOOLS (the Debian packages the builder needs).

export DEBIAN_FRONTEND=noninteractive

die() { echo "$ME: error: $*" >&2; exit 1; }
say() { echo "$ME: $*"; }

# run LOG CMD... : run CMD with output appended to LOG; on failure show the
# end of the log and stop.
run() {
    local log=$1; shift
    echo "+ $*" >>"$log"
    if ! "$@" >>"$log" 2>&1; then
        echo "---- last 30 lines of $log ----" >&2
        tail -n 30 "$log" >&2
        die "$(basename "$log" .log): '$1' failed (full command and output in $log)"
    fi
}

# ---------------------------------------------------------------------------
# apt helpers
# ---------------------------------------------------------------------------
APT_UPDATED=no
apt_update() {
    [ "$APT_UPDATED" = yes ] && return 0
    say "apt-get update"
    run "$SRC/apt.log" apt-get update -q
    APT_UPDATED=yes
}

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# Installs the missing packages of TOOLS.
ensure_tools() {
    local missing=() p
    for p in "${TOOLS[@]}"; do
        installed "$p" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]}"
    apt_update
    run "$SRC/apt.log" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Make sure 'apt-get source' works: add a deb-src entry if there is none.
# The apt paths come from apt-config (normally /etc/apt/sources.list and
# /etc/apt/sources.list.d/), so APT_CONFIG can redirect them for testing.
SOURCES_OK=no
ensure_deb_src() {
    [ "$SOURCES_OK" = yes ] && return 0
    if ! apt-get source --print-uris nng >/dev/null 2>&1; then
        local APT_LIST APT_PARTS
        eval "$(apt-config shell APT_LIST Dir::Etc::sourcelist/f \
                                 APT_PARTS Dir::Etc::sourceparts/d)"
        # A deb-src entry may exist but not be fetched yet (apt-get update
        # below fixes that): only add ours when no enabled file has one.
        if ! grep -rqsE '^[[:space:]]*(deb-src[[:space:]]|Types:.*deb-src)' \
                --include='*.list' --include='*.sources' \
                "$APT_LIST" "$APT_PARTS"; then
            say "adding ${APT_PARTS}ovio-deb-src.sources"
            cat >"${APT_PARTS}ovio-deb-src.sources" <<'EOF'
# Added by ovio's install/lib.sh: Debian's source packages, so that
# install/nng.sh and install/win-deps.sh can `apt-get source` nng (and, for
# the Windows build, mbedtls, protobuf-c and check) and build them with
# ovio's patches.  Nothing is installed from it; remove it when done.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        fi
        APT_UPDATED=no
        apt_update
        apt-get source --print-uris nng >/dev/null 2>&1 ||
            die "apt-get source does not work (no deb-src entry?)"
    fi
    SOURCES_OK=yes
}

# fetch_source PKG : unpack Debian source package PKG (Debian patches applied)
# under $SRC once; sets $srcdir to the source directory.
fetch_source() {
    local pkg=$1 dirs
    dirs=("$SRC/$pkg"-[0-9]*/)
    if [ ! -d "${dirs[0]}" ]; then
        ensure_deb_src
        (cd "$SRC" && run "$SRC/$pkg.log" apt-get source -q "$pkg")
        dirs=("$SRC/$pkg"-[0-9]*/)
        [ -d "${dirs[0]}" ] || die "no source dir for $pkg after apt-get source"
    fi
    srcdir=${dirs[0]%/}
}


# NNG_BUILD_CONFIG: what the nng builds (install/nng.sh, install/win-deps.sh)
# are configured with besides the patches.  It is part of nng_patch_id, so
# changing it (TLS was off before mbedTLS came in) redoes the builds.
NNG_BUILD_CONFIG="tls=mbed"

# nng_patch_id: names the patch set in install/nng-patches and
# NNG_BUILD_CONFIG, so a build made with another set (or none), or
# configured otherwise, is redone.
nng_patch_id() {
    { cat "$TOP"/install/nng-patches/*.patch; echo "$NNG_BUILD_CONFIG"; } |
        sha256sum | cut -c1-16
}

# fetch_nng: the nng source (as fetch_source) with ovio's patches applied
# on top of Debian's: install/nng-patches/*.patch, in order.  The patches
# fix nng 1.5.2 bugs that break a service: a client closing during the
# handshake made the listener stop accepting (upstream issue #1518), and a
# connection closed while a message was half received hung the process's
# pipe teardown for ever (upstream issue #616); and a peer that declared a
# large frame had all of it allocated before a byte of it came (0006: the
# body is received into a message that grows as it arrives).  0007 adds
# upstream 1.8's nng_init_set_parameter for the task-thread count
# (ovio_set_threads, oviod --msg-threads).  0008: a TCP peer's last bytes
# before its reset (a TLS alert saying why a handshake was refused) are
# read before the error is reported, not dropped with it.
fetch_nng() {
    local id stamp patch
    fetch_source nng
    id=$(nng_patch_id)
    stamp=$srcdir/.ovio-patched
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$id" ] && return 0
    if [ -f "$stamp" ]; then
        # Patched with another set: start again from a clean source.
        rm -rf "$srcdir"
        fetch_source nng
    fi
    for patch in "$TOP"/install/nng-patches/*.patch; do
        run "$SRC/nng.log" patch -d "$srcdir" -p1 -N -i "$patch"
    done
    echo "$id" >"$stamp"
}
