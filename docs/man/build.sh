#!/bin/bash
# build.sh BINDIR OUTDIR DOCDIR - the man pages, from docs/man/*.in: the
# version, the date of the last commit (or today's), DOCDIR, and the help
# texts of BINDIR/oviod and BINDIR/ovio as they print them (so the pages'
# option lists cannot drift from the programs).  make builds them into
# OUTDIR; make install installs them.
set -euo pipefail
BIN=$1
OUT=$2
DOCDIR=$3
HERE=$(cd "$(dirname "$0")" && pwd)
VERSION=$(sed -n 's/^#define OVIO_VERSION "\(.*\)"/\1/p' "$HERE/../../lib/ovio.h")
DATE=$(git -C "$HERE" log -1 --format=%cs 2>/dev/null || date +%Y-%m-%d)
UID_NOW=$(id -u)
mkdir -p "$OUT"

# A help text as roff lines: backslashes escaped, no line taken for a
# request, this user's uid in the default endpoints spelled UID.
help_roff() {
    "$@" | sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/" \
        -e "s/ovio-$UID_NOW\./ovio-UID./g"
}

help_roff "$BIN/oviod" --help >"$OUT/oviod.help"
help_roff "$BIN/ovio" --help >"$OUT/ovio.help"
help_roff "$BIN/ovio" admin --help >"$OUT/ovio-admin.help"

for in in "$HERE"/*.in; do
    page=$(basename "$in" .in)
    sed -e "s|@VERSION@|$VERSION|g" -e "s|@DATE@|$DATE|g" \
        -e "s|@DOCDIR@|$DOCDIR|g" \
        -e "/^@HELP@\$/{
r $OUT/${page%%.*}.help
d
}" -e "/^@ADMIN_HELP@\$/{
r $OUT/ovio-admin.help
d
}" "$in" >"$OUT/$page"
done
rm -f "$OUT"/*.help
