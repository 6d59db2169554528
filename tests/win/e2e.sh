#!/bin/bash
# e2e.sh - oviod.exe under Wine, end to end, in a console run:
#   1. ovio.exe under Wine over a named pipe (ipc://, Windows to Windows);
#   2. the native Linux build/ovio over tcp://127.0.0.1:PORT (a named pipe
#      cannot cross from Wine to Linux); mutual TLS on
#      tls+tcp://127.0.0.1:TPORT (certificates from tests/tls_certs.sh): the
#      native client and ovio.exe get in with a good certificate and are
#      refused with an expired one; plain tcp:// on 0.0.0.0 is refused
#      without --insecure-tcp;
#   3. pending I/O in the engine: reads on a Unix FIFO inside the root
#      (oviod.exe opens it through its Z:\ path; a writer that never writes
#      is held open here, so the reads stay pending), held by the native
#      build/tests/hold_client over tcp; the client is killed and the
#      disconnect path (CancelIoEx, drain, CloseHandle) leaves no handle
#      and no operation in flight;
#   4. the graceful stop with four reads pending on the FIFO: Ctrl-C
#      (SIGINT, which Wine turns into CTRL_C_EVENT) cancels, drains and
#      exits 0, logging "stopped cleanly".
# Needs build/win (make windows), build/ovio and build/tests/hold_client
# (make).  Ends with
# "N passed, N failed, N skipped"; exits non-zero on failure.
set -u
. "$(dirname "$0")/lib.sh"

wine_init || exit 1
T=$(mktemp -d /tmp/ovio-wine-e2e.XXXXXX)
HPID=
KPID=
LPID=
trap 'kill $DPID $HPID $KPID $LPID 2>/dev/null; exec 3>&-; rm -rf "$T"' EXIT
HOLD=${HOLD_CLIENT:-$TOP/build/tests/hold_client}
mkdir -p "$T/root/dir" "$T/outside"
# Links (Wine shows Unix symlinks to Windows programs): two leaving the
# root, one staying inside.
echo secret >"$T/outside/secret.txt"
echo inside >"$T/root/dir/in.txt"
ln -s "$T/outside/secret.txt" "$T/root/flink"
ln -s "$T/outside" "$T/root/dlink"
ln -s dir "$T/root/inlink"
PORT=$(free_port)
TPORT=$(free_port)
PIPE=ovio-e2e-$$
C=$T/certs
"$TOP/tests/tls_certs.sh" "$C" || { not_ok "tests/tls_certs.sh"; summary; exit 1; }
ROOT_W=$(winpath "$T/root")

head -c 5000000 /dev/urandom >"$T/five.bin"
head -c 33554432 /dev/urandom >"$T/big.bin"
sum() { md5sum <"$1" | cut -d' ' -f1; }

# Its config file (reloaded below): one key here, the rest on the command line.
printf '# oviod.exe under Wine\r\nmax-ops = 4096\r\n' >"$T/oviod.conf"

# oviod.exe serving both endpoints; DPID is timeout's pid, which passes
# SIGINT on to Wine.
timeout 300 taskset -c 0 wine "$W/oviod.exe" --root "$ROOT_W" \
    --config "$(winpath "$T/oviod.conf")" \
    --listen "ipc://$PIPE" --listen "tcp://127.0.0.1:$PORT" \
    --listen "tls+tcp://127.0.0.1:$TPORT" --tls-cert "$(winpath "$C/server.crt")" \
    --tls-key "$(winpath "$C/server.key")" --tls-ca "$(winpath "$C/ca.crt")" \
    >"$T/oviod.out" 2>"$T/oviod.log" &
DPID=$!
if ! wait_for "$T/oviod.log" "listening on tls+tcp" 60; then
    not_ok "oviod.exe starts (log below)"
    cat "$T/oviod.log"
    summary
    exit 1
fi
ok "oviod.exe starts and listens on ipc://$PIPE, tcp://127.0.0.1:$PORT and tls+tcp://127.0.0.1:$TPORT"
grep -q "backend iocp" "$T/oviod.log" && ok "backend is iocp" ||
    not_ok "backend is iocp"

# ---- 1. Wine client over a named pipe ------------------------------------
EP="ipc://$PIPE"
check "ovio.exe put over a named pipe" \
    wine_run 120 "$W/ovio.exe" -e "$EP" put "$(winpath "$T/five.bin")" five.bin
check "ovio.exe get over a named pipe" \
    wine_run 120 "$W/ovio.exe" -e "$EP" get five.bin "$(winpath "$T/five.back")"
check "named pipe: checksums match (client file)" \
    [ "$(sum "$T/five.bin")" = "$(sum "$T/five.back" 2>/dev/null)" ]
check "named pipe: checksums match (served file)" \
    [ "$(sum "$T/five.bin")" = "$(sum "$T/root/five.bin" 2>/dev/null)" ]
wine_run 60 "$W/ovio.exe" -e "$EP" stat five.bin >"$T/stat.out" 2>&1
check "ovio.exe stat over a named pipe" grep -q "size:  5000000" "$T/stat.out"
# Unbuffered and write-through handles (FILE_FLAG_NO_BUFFERING,
# FILE_FLAG_WRITE_THROUGH): the service aligns its buffers; --bs must be a
# multiple of the handle's alignment (ovio_fstat's direct_align).
wine_run 120 "$W/ovio.exe" -e "$EP" bench --direct --write-through \
    --rw randwrite --bs 4K --qd 8 --ops 400 --size 1M direct.bin \
    >"$T/direct-w.out" 2>&1
check "ovio.exe bench --direct --write-through: 400 writes, 0 errors" \
    rc_grep $? 0 "(400 ops, 0 errors)" "$T/direct-w.out"
wine_run 120 "$W/ovio.exe" -e "$EP" bench --direct --rw randread --bs 8K \
    --qd 8 --ops 400 direct.bin >"$T/direct-r.out" 2>&1
check "ovio.exe bench --direct: 400 reads, 0 errors" \
    rc_grep $? 0 "(400 ops, 0 errors)" "$T/direct-r.out"
wine_run 60 "$W/ovio.exe" -e "$EP" bench --direct --bs 1000 --ops 10 \
    direct.bin >"$T/direct-bad.out" 2>&1
check "ovio.exe bench --direct --bs 1000: refused, exit 2" \
    rc_grep $? 2 "must be a multiple of" "$T/direct-bad.out"
# Batches (ovio_submitv): 8 requests a message, reads and writes.
wine_run 120 "$W/ovio.exe" -e "$EP" bench --batch 8 --qd 16 --rw mixed \
    --ops 800 direct.bin >"$T/batch.out" 2>&1
check "ovio.exe bench --batch 8: 800 reads and writes in batches, 0 errors" \
    rc_grep $? 0 "batches of 8.*" "$T/batch.out"
check "... each completed once" grep -q "(800 ops, 0 errors)" "$T/batch.out"
wine_run 60 "$W/ovio.exe" -e "$EP" get nothing.bin "$(winpath "$T/x")" \
    >"$T/missing.out" 2>&1
check "missing file: ENOENT" grep -q ENOENT "$T/missing.out"
wine_run 60 "$W/ovio.exe" -e "$EP" --json status >"$T/status.json" 2>&1
check "ovio.exe status: backend iocp" grep -q '"backend": "iocp"' "$T/status.json"

# ---- 1b. the admin endpoint: a named pipe of its own ----------------------
# (Its security descriptor admits SYSTEM and Administrators only; a Wine
# prefix has no other account to try it with.)
check "oviod.exe listens on the admin pipe beside the data pipe" \
    grep -q "admin endpoint on ipc://$PIPE.admin" "$T/oviod.log"
wine_run 60 "$W/ovio.exe" -e "$EP" --json admin sessions >"$T/adm.json" 2>&1
check "ovio.exe admin sessions over the admin pipe" \
    grep -q '"endpoint": "admin"' "$T/adm.json"
wine_run 60 "$W/ovio.exe" admin --admin "$EP" sessions >"$T/adm-data.out" 2>&1
rc=$?
check "the data pipe refuses admin requests (EPERM, exit 4)" \
    rc_grep "$rc" 4 "sessions: remote: EPERM" "$T/adm-data.out"
# The config file (CRLF lines) read again on ovio admin reload.
printf 'max-ops = 100\r\nmax-io = 1M\r\n' >"$T/oviod.conf"
wine_run 60 "$W/ovio.exe" -e "ipc://$PIPE" admin reload >"$T/reload.out" 2>&1
check "ovio.exe admin reload over the admin pipe" \
    rc_grep $? 0 "reload: asked" "$T/reload.out"
check "oviod.exe reloads its config file: max-ops taken" \
    wait_for "$T/oviod.log" "reload: max-ops 100 (was 4096)" 30
check "... and max-io logged as waiting for a restart" \
    grep -q "reload: max-io changed: it takes effect when oviod restarts" \
    "$T/oviod.log"
# Statistics: the put above was counted, its latency measured.
wine_run 60 "$W/ovio.exe" -e "ipc://$PIPE" admin stats --json >"$T/stats.json" 2>&1
check "ovio.exe admin stats: writes counted, with a latency" \
    grep -q '"kind": "write", "count": [1-9][0-9]*, "errors": 0, "sum_us": [1-9]' "$T/stats.json"

# ---- 2. native Linux client over tcp -------------------------------------
EP="tcp://127.0.0.1:$PORT"
check "native put over tcp (32 MiB)" \
    timeout 120 "$NATIVE_OVIO" -e "$EP" put "$T/big.bin" dir/big.bin
check "native get over tcp" \
    timeout 120 "$NATIVE_OVIO" -e "$EP" get dir/big.bin "$T/big.back"
check "tcp: checksums match (client file)" \
    [ "$(sum "$T/big.bin")" = "$(sum "$T/big.back" 2>/dev/null)" ]
check "tcp: checksums match (served file)" \
    [ "$(sum "$T/big.bin")" = "$(sum "$T/root/dir/big.bin" 2>/dev/null)" ]
check "native get of a file put by ovio.exe" \
    timeout 60 "$NATIVE_OVIO" -e "$EP" get five.bin "$T/five.native"
check "cross-client checksums match" \
    [ "$(sum "$T/five.bin")" = "$(sum "$T/five.native" 2>/dev/null)" ]
timeout 60 "$NATIVE_OVIO" -e "$EP" cat ../escape >"$T/escape.out" 2>&1
check "a path leaving the root is refused" grep -q EOUTSIDE "$T/escape.out"
timeout 60 "$NATIVE_OVIO" -e "$EP" cat 'C:\Windows\win.ini' >"$T/abs.out" 2>&1
check "an absolute path is refused" grep -q EOUTSIDE "$T/abs.out"
timeout 60 "$NATIVE_OVIO" -e "$EP" cat flink >"$T/flink.out" 2>&1
check "a link to a file outside the root is refused" \
    grep -q EOUTSIDE "$T/flink.out"
timeout 60 "$NATIVE_OVIO" -e "$EP" cat dlink/secret.txt >"$T/dlink.out" 2>&1
check "a path through a link to a folder outside is refused" \
    grep -q EOUTSIDE "$T/dlink.out"
timeout 60 "$NATIVE_OVIO" -e "$EP" put "$T/five.bin" dlink/new.bin \
    >"$T/dlink-put.out" 2>&1
check "no file is created through a link leaving the root" \
    [ ! -e "$T/outside/new.bin" ]
check "a link staying inside the root works" \
    [ "$(timeout 60 "$NATIVE_OVIO" -e "$EP" cat inlink/in.txt 2>&1)" = inside ]
timeout 60 "$NATIVE_OVIO" -e "$EP" cat dir >"$T/dir.out" 2>&1
check "a folder is not a file" grep -q EISDIR "$T/dir.out"
# ---- 2a. mutual TLS --------------------------------------------------------
EP="tls+tcp://127.0.0.1:$TPORT"
check "native put over tls+tcp with a good certificate" \
    timeout 60 "$NATIVE_OVIO" -e "$EP" --tls-ca "$C/ca.crt" \
    --tls-cert "$C/client.crt" --tls-key "$C/client.key" put "$T/five.bin" tls.bin
check "tls: checksums match (served file)" \
    [ "$(sum "$T/five.bin")" = "$(sum "$T/root/tls.bin" 2>/dev/null)" ]
check "the log names the client by its certificate subject" \
    grep -q 'certificate "O=ovio test, CN=ovio-test-client"' "$T/oviod.log"
timeout 60 "$NATIVE_OVIO" -e "$EP" --tls-ca "$C/ca.crt" \
    --tls-cert "$C/expired.crt" --tls-key "$C/expired.key" stat tls.bin \
    >"$T/expired.out" 2>&1
check "an expired client certificate is refused (EAUTH, exit 5)" rc_grep $? 5 EAUTH "$T/expired.out"
timeout 60 "$NATIVE_OVIO" -e "tcp://127.0.0.1:$TPORT" stat tls.bin \
    >"$T/plain.out" 2>&1
check "a plain tcp client cannot talk to the tls+tcp listener" [ $? -eq 5 ]
wine_run 60 "$W/ovio.exe" -e "$EP" --tls-ca "$(winpath "$C/ca.crt")" \
    --tls-cert "$(winpath "$C/client.crt")" --tls-key "$(winpath "$C/client.key")" \
    stat tls.bin >"$T/wtls.out" 2>&1
check "ovio.exe over tls+tcp with a good certificate" grep -q "size:  5000000" "$T/wtls.out"
wine_run 60 "$W/ovio.exe" -e "$EP" --tls-ca "$(winpath "$C/ca.crt")" \
    --tls-cert "$(winpath "$C/other.crt")" --tls-key "$(winpath "$C/other.key")" \
    stat tls.bin >"$T/wother.out" 2>&1
check "ovio.exe with another CA's certificate is refused (EAUTH, exit 5)" rc_grep $? 5 EAUTH "$T/wother.out"
wine_run 60 "$W/oviod.exe" --root "$ROOT_W" --listen "tcp://0.0.0.0:$(free_port)" \
    >"$T/any.out" 2>&1
check "oviod.exe refuses tcp://0.0.0.0 without --insecure-tcp (exit 2)" rc_grep $? 2 insecure-tcp "$T/any.out"

# ---- 2a. the allow-list of accounts and SIDs (named pipe) ----------------
# Wine runs every process as one account: ovio.exe is admitted as the
# service's own account (tests/win/host_win_test.c judges other tokens).
wine_run 60 "$W/oviod.exe" --root "$ROOT_W" --listen "ipc://$PIPE-bad" \
    --allow-group no_such_group_ovio >"$T/badgroup.out" 2>&1
check "oviod.exe --allow-group of no such group: exit 2, one line" \
    rc_grep $? 2 "allow-group no_such_group_ovio: no such group" "$T/badgroup.out"
timeout 120 taskset -c 0 wine "$W/oviod.exe" --root "$ROOT_W" \
    --listen "ipc://$PIPE-listed" --allow-uid "S-1-5-21-1-2-3-4242,$(whoami)" \
    --allow-group Users >"$T/listed.out" 2>"$T/listed.log" &
LPID=$!
if wait_for "$T/listed.log" "listening on ipc://$PIPE-listed" 60; then
    check "allow-list: ovio.exe (the service's account) gets in" \
        wine_run 60 "$W/ovio.exe" -e "ipc://$PIPE-listed" stat five.bin
    check "allow-list: the session logged with its pid and account SID" \
        grep -Eq "connected: pid [0-9]+, account S-1-5-" "$T/listed.log"
else
    not_ok "oviod.exe with an allow-list starts (log below)"
    cat "$T/listed.log"
fi
kill -INT $LPID 2>/dev/null
wait $LPID 2>/dev/null

# ---- 2b. the namespace through ovio.exe (named pipe) ----------------------
EP="ipc://$PIPE"
wovio() { wine_run 60 "$W/ovio.exe" -e "$EP" "$@"; }
check "ovio.exe mkdir -p" wovio mkdir -p /ns/a/b
check "mkdir -p made the folders" [ -d "$T/root/ns/a/b" ]
check "ovio.exe mkdir of an existing folder fails" \
    bash -c "! wine '$W/ovio.exe' -e '$EP' mkdir ns/a >/dev/null 2>&1"
check "ovio.exe put into the new folder" \
    wovio put "$(winpath "$T/five.bin")" ns/a/b/five.bin
wovio ls -l ns/a/b >"$T/ls.out" 2>&1
check "ovio.exe ls -l shows the file and its size" \
    grep -q "5000000 .* five.bin" "$T/ls.out"
wovio ls --json /ns/a/../a >"$T/ls.json" 2>&1
check "ovio.exe ls --json (.. inside the root)" \
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert [e["name"] for e in j["entries"]] == ["b"] and j["entries"][0]["type"] == "directory"' "$T/ls.json"
check "ovio.exe mv a folder" wovio mv ns/a ns/moved
check "mv moved it" test -f "$T/root/ns/moved/b/five.bin" -a ! -e "$T/root/ns/a"
wovio rm ns/moved >"$T/rm.out" 2>&1
check "ovio.exe rm of a full folder: ENOTEMPTY" grep -q ENOTEMPTY "$T/rm.out"
check "ovio.exe rm -r" wovio rm -r ns
check "rm -r removed the tree" [ ! -e "$T/root/ns" ]
wovio ls dlink >"$T/ls-out.out" 2>&1
check "ls of a link leaving the root is refused" grep -q EOUTSIDE "$T/ls-out.out"
wovio mkdir dlink/made >"$T/mk-out.out" 2>&1
check "mkdir through a link leaving the root is refused" \
    grep -q EOUTSIDE "$T/mk-out.out"
check "nothing was made outside" [ ! -e "$T/outside/made" ]
wovio mv five.bin dlink/five.bin >"$T/mv-out.out" 2>&1
check "mv through a link leaving the root is refused" \
    grep -q EOUTSIDE "$T/mv-out.out"
wovio rm dlink/secret.txt >"$T/rm-out.out" 2>&1
check "rm through a link leaving the root is refused" \
    grep -q EOUTSIDE "$T/rm-out.out"
check "the outside file is still there" [ -f "$T/outside/secret.txt" ]
wovio ls 'a\..\..' >"$T/ls-bs.out" 2>&1
check "ls of a backslash .. escape is refused" grep -q EOUTSIDE "$T/ls-bs.out"

# ---- 2c. several files, trees, --continue, --no-clobber through ovio.exe -
# (client/localfile_windows.c: folders walked and made, appends, a target
# kept).  Three levels, an empty folder, a name with a space.
mkdir -p "$T/tree/a/b" "$T/tree/empty"
echo one >"$T/tree/one.txt"
head -c 300000 /dev/urandom >"$T/tree/a/two words.bin"
head -c 70000 /dev/urandom >"$T/tree/a/b/three.bin"
check "ovio.exe mkdir trees" wovio mkdir trees
check "ovio.exe put -r a folder into a folder" \
    wovio put -r "$(winpath "$T/tree")" /trees/
check "put -r: the tree arrived whole" diff -r "$T/tree" "$T/root/trees/tree"
check "ovio.exe get -r it back to a new local folder" \
    wovio get -r trees/tree "$(winpath "$T/back")"
check "get -r: the same tree, the empty folder too" diff -r "$T/tree" "$T/back"
check "ovio.exe put of two files into a folder" \
    wovio put "$(winpath "$T/tree/one.txt")" "$(winpath "$T/tree/a/b/three.bin")" trees/
check "both arrived" cmp "$T/tree/a/b/three.bin" "$T/root/trees/three.bin"
head -c 2000000 "$T/five.bin" >"$T/part.bin"
check "ovio.exe get --continue appends what the local file lacks" \
    wovio get --continue five.bin "$(winpath "$T/part.bin")"
check "get --continue: the whole file" cmp "$T/five.bin" "$T/part.bin"
# --streams: parts written at their offsets (ovio__local_pwrite, WriteFile
# with an OVERLAPPED offset on a synchronous handle) from nng's threads.
head -c 25000000 /dev/urandom >"$T/root/streams.bin"
check "ovio.exe get --streams 3" \
    wovio --streams 3 get streams.bin "$(winpath "$T/streams.back")"
check "get --streams: the whole file" cmp "$T/root/streams.bin" "$T/streams.back"
# put --streams: parts read at their offsets (ovio__local_pread, ReadFile
# with an OVERLAPPED offset) into a hidden file the service renames over
# the target that is there (MoveFileEx, replacing).
head -c 20000000 /dev/urandom >"$T/root/streams.up"
check "ovio.exe put --streams 3 over a file" \
    wovio --streams 3 put "$(winpath "$T/streams.back")" streams.up
check "put --streams: the whole file" cmp "$T/streams.back" "$T/root/streams.up"
no_hidden() { ! ls -A "$T/root" | grep -q '^\..*\.ovio-'; }
check "put --streams: no hidden file left" no_hidden
head -c 3000000 "$T/five.bin" >"$T/root/resumed.bin"
check "ovio.exe put --continue sends what the remote file lacks" \
    wovio put --continue "$(winpath "$T/five.bin")" resumed.bin
check "put --continue: the whole file" cmp "$T/five.bin" "$T/root/resumed.bin"
head -c 3000001 "$T/five.bin" >"$T/root/resumed2.bin"
put_stdin() { cat "$T/five.bin" | wovio put --continue - resumed2.bin; }
check "ovio.exe put --continue from standard input reads past what is there" \
    put_stdin
check "put --continue -: the whole file" cmp "$T/five.bin" "$T/root/resumed2.bin"
echo mine >"$T/kept.txt"
wovio get --no-clobber five.bin "$(winpath "$T/kept.txt")" >"$T/nc.out" 2>&1
check "ovio.exe get --no-clobber onto a local file: exit 8" rc_grep $? 8 \
    "exists, not replaced" "$T/nc.out"
check "get --no-clobber: the local file is unchanged" \
    [ "$(cat "$T/kept.txt")" = mine ]
check "get --no-clobber: no temporary file left beside it" \
    [ "$(ls -A "$T" | grep -c 'kept')" = 1 ]
check "ovio.exe rm -r trees" wovio rm -r trees resumed.bin
EP="tcp://127.0.0.1:$PORT"

# jnum FILE KEY : a number from a status --json line.
jnum() { sed -n "s/.*\"$2\": \([0-9]*\).*/\1/p" "$1"; }
# wait_status FILE SECONDS KEY=N... : polls the status (native client, into
# FILE) until every KEY is N; fails after SECONDS.  The service handles a
# disconnect asynchronously, and a request sent is not yet a request
# received: a status read after either waits for what it checks.
wait_status() {
    local f=$1 s=$2 i kv all
    shift 2
    for ((i = 0; i < s * 10; i++)); do
        timeout 60 "$NATIVE_OVIO" -e "$EP" --json status >"$f" 2>&1
        all=1
        for kv in "$@"; do
            [ "$(jnum "$f" "${kv%%=*}")" = "${kv#*=}" ] || all=0
        done
        [ $all -eq 1 ] && return 0
        sleep 0.1
    done
    return 1
}
check "native status: no handle left open, nothing in flight" \
    wait_status "$T/status2.json" 10 handles=0 ops_in_flight=0

# ---- 2c. atomic put: a commit and a discard on Windows -------------------
# A put goes to a hidden temporary file that a commit renames over the
# target (FileRenameInfo on the open handle); any other end deletes it.
mkdir -p "$T/root/atomic"
head -c 100000 /dev/urandom >"$T/old.bin"
cp "$T/old.bin" "$T/root/atomic/keep.bin"
EPW="ipc://$PIPE"
check "ovio.exe put replaces an existing file (commit)" \
    wine_run 120 "$W/ovio.exe" -e "$EPW" put "$(winpath "$T/five.bin")" \
    atomic/keep.bin
check "commit: the target holds the new data" \
    [ "$(sum "$T/five.bin")" = "$(sum "$T/root/atomic/keep.bin")" ]
check "commit: no temporary file is left in the folder" \
    [ "$(ls -A "$T/root/atomic")" = keep.bin ]
cp "$T/old.bin" "$T/root/atomic/keep.bin"
wine_run 120 "$W/ovio.exe" -e "$EPW" put --no-clobber \
    "$(winpath "$T/five.bin")" atomic/keep.bin >"$T/noclob.out" 2>&1
rc=$?
check "put --no-clobber onto an existing file: exit 8" [ "$rc" -eq 8 ]
check "put --no-clobber: EEXIST, said once" \
    grep -q "remote: EEXIST: exists, kept (--no-clobber)" "$T/noclob.out"
check "put --no-clobber: the file is unchanged" \
    [ "$(sum "$T/old.bin")" = "$(sum "$T/root/atomic/keep.bin")" ]
check "put --no-clobber: nothing left over" \
    [ "$(ls -A "$T/root/atomic")" = keep.bin ]
check "put --no-clobber onto a new name" \
    wine_run 120 "$W/ovio.exe" -e "$EPW" put --no-clobber \
    "$(winpath "$T/five.bin")" atomic/new.bin
check "put --no-clobber: the new file is complete" \
    [ "$(sum "$T/five.bin")" = "$(sum "$T/root/atomic/new.bin")" ]
rm -f "$T/root/atomic/new.bin"
# The native put reads a FIFO this script writes 4 MiB into, then is
# killed with SIGKILL: halfway is where the writing stopped, not a time.
mkfifo "$T/src.fifo"
# (Not under timeout: the kill must reach ovio itself.)
"$NATIVE_OVIO" -e "$EP" --chunk 65536 put "$T/src.fifo" atomic/keep.bin \
    >"$T/killed.out" 2>&1 &
KPID=$!
timeout 60 "$NATIVE_OVIO" -e "$EP" --json status >"$T/bw0.json" 2>&1
bw0=$(jnum "$T/bw0.json" bytes_written)
exec 4>"$T/src.fifo"
head -c 4194304 /dev/zero >&4
written=0
for ((i = 0; i < 300; i++)); do
    timeout 60 "$NATIVE_OVIO" -e "$EP" --json status >"$T/bw.json" 2>&1
    # All but the pipe's last 64 KiB were read by the put, and sent.
    [ $(($(jnum "$T/bw.json" bytes_written) - bw0)) -ge $((4194304 - 65536)) ] &&
        written=1 && break
    sleep 0.1
done
check "killed put: half the data reached the temporary file" [ $written = 1 ]
ls -A "$T/root/atomic" >"$T/during.ls"
check "killed put: meanwhile a hidden temporary file sits beside the target" \
    grep -qx '\.ovio-tmp-[0-9a-f]\{16\}' "$T/during.ls"
check "killed put: meanwhile the target is unchanged" \
    [ "$(sum "$T/old.bin")" = "$(sum "$T/root/atomic/keep.bin")" ]
kill -KILL $KPID 2>/dev/null
wait $KPID 2>/dev/null
KPID=
exec 4>&-
check "killed put: the service closed its handle" \
    wait_status "$T/status3.json" 10 handles=0 ops_in_flight=0
check "killed put: the old file is byte-identical (discard)" \
    [ "$(sum "$T/old.bin")" = "$(sum "$T/root/atomic/keep.bin")" ]
check "killed put: no temporary file is left in the folder" \
    [ "$(ls -A "$T/root/atomic")" = keep.bin ]

# ---- 3. pending reads on a FIFO; the client killed --------------------------
# hold FILE : a native client with 4 reads pending on the FIFO; HPID.  Waits
# until the service has the 4 reads in flight, then a second more: they
# stay pending (the status read after hold checks it).
hold() {
    timeout 300 "$HOLD" "$EP" reads 4 fifo >"$1" 2>&1 &
    HPID=$!
    wait_for "$1" ready 30 &&
        wait_status "$T/hold.json" 30 ops_in_flight=4 && sleep 1
}
mkfifo "$T/root/fifo"
exec 3<>"$T/root/fifo" # a writer that never writes
check "hold_client: 4 reads submitted on the FIFO" hold "$T/hold1.out"
timeout 60 "$NATIVE_OVIO" -e "$EP" --json status >"$T/pend1.json" 2>&1
check "FIFO: the handle is open" [ "$(jnum "$T/pend1.json" handles)" = 1 ]
check "FIFO: 4 reads still pending a second later" \
    [ "$(jnum "$T/pend1.json" ops_in_flight)" = 4 ]
canceled0=$(jnum "$T/pend1.json" ops_canceled)
kill -TERM $HPID # timeout passes it on to hold_client
wait $HPID 2>/dev/null
HPID=
t0=$(date +%s%N)
for ((i = 0; i < 50; i++)); do
    timeout 60 "$NATIVE_OVIO" -e "$EP" --json status >"$T/after.json" 2>&1
    [ "$(jnum "$T/after.json" handles)" = 0 ] &&
        [ "$(jnum "$T/after.json" ops_in_flight)" = 0 ] && break
    sleep 0.1
done
ms=$((($(date +%s%N) - t0) / 1000000))
check "client killed: handles 0 within 5 s (${ms} ms)" \
    [ "$(jnum "$T/after.json" handles)" = 0 ]
check "client killed: ops_in_flight 0" \
    [ "$(jnum "$T/after.json" ops_in_flight)" = 0 ]
check "client killed: its 4 reads were cancelled" \
    [ "$(jnum "$T/after.json" ops_canceled)" = $((canceled0 + 4)) ]
check "client killed: the log shows the disconnect closing its handle" \
    grep -q "disconnected: closing 1 handle(s)" "$T/oviod.log"

# ---- 4. graceful stop with reads pending -------------------------------------
check "hold_client: 4 more reads pending for the stop" hold "$T/hold2.out"
timeout 60 "$NATIVE_OVIO" -e "$EP" --json status >"$T/pend2.json" 2>&1
check "before Ctrl-C: ops_in_flight 4" \
    [ "$(jnum "$T/pend2.json" ops_in_flight)" = 4 ]
kill -INT $DPID
rc=0
wait $DPID || rc=$?
check "Ctrl-C: oviod.exe exits 0" [ "$rc" -eq 0 ]
check "Ctrl-C: the stop found the 4 pending reads" \
    grep -q "stopping: 1 handle(s) open, 4 operation(s) in flight" \
    "$T/oviod.log"
check "Ctrl-C: the log says it stopped cleanly" \
    grep -q "stopped cleanly" "$T/oviod.log"
DPID=
kill -TERM $HPID 2>/dev/null
wait $HPID 2>/dev/null
HPID=
exec 3>&-

if [ "$fail" -ne 0 ]; then
    echo "---- oviod log"
    cat "$T/oviod.log"
fi
summary
