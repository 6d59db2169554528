/*
 * ovio.h - libovio, the client library of ovio (overlapped file I/O as a
 * service).
 *
 * A client connects to oviod over nng, opens files relative to the service's
 * root and submits reads, writes, flushes, stats, set-size, cancels and
 * closes.  Each submitted request gets exactly one completion, in whatever
 * order the I/O finishes.  Two layers:
 *
 *  - asynchronous: ovio_submit() with a client-chosen 64-bit tag and a
 *    callback; any number of requests may be in flight on one connection;
 *  - blocking: ovio_open(), ovio_pread(), ... each waits for its completion;
 *    ovio_pread_all() / ovio_pwrite_all() split large transfers into chunks
 *    with a window of chunks in flight.
 *
 * All functions return 0 or a status from ovio_err.h (never -1 / errno).
 * A client handle may be used from several threads at once.
 *
 * Lost, not cancelled.  A request whose reply can no longer come completes
 * with OVIO_ECLOSED: its connection went away (the service stopped or was
 * killed, the connection was cut, or a reply announced more than any
 * service may send: a 1 GiB read and 16 MiB) with resend off, or
 * ovio_disconnect was called while it was in flight.  It may or may not have
 * run on the service.  OVIO_ECANCELED is only ever the service's answer: the
 * operation was cancelled there (ovio_cancel, ovio_cancel_handle,
 * ovio_cancel_session, or a close of its handle, including the close of every
 * handle of a connection that ended, which a copy resent on the next connection
 * may be told).  The library never turns a lost request into OVIO_ECANCELED.
 *
 * Growing without breaking the ABI.  The five public structs (ovio_request,
 * ovio_result, ovio_stat, ovio_service_status, ovio_connect_options) end in
 * reserved space, as
 * libuv's do, so that members can be added without changing their size or
 * moving a member: a program built against an older ovio.h keeps working
 * with a newer libovio.so.0, and the structs can still be embedded, copied
 * and put in arrays.  The rules:
 *  - A struct's size and the offset of every member never change within
 *    libovio.so.0 (the library checks both with static assertions).  A new
 *    member takes the place of reserved space at the front of `reserved`,
 *    which shrinks by as much; nothing is removed, reordered or resized.
 *  - A new member's zero value means what the library did before it
 *    existed.
 *  - The caller zeroes what it passes in (an initializer such as
 *    `ovio_request rq = { .op = OVIO_OP_READ, ... }` does, as does memset)
 *    and never writes `reserved`.  ovio_submit refuses a request whose
 *    reserved space is not zero with OVIO_EINVAL, so a program using a
 *    member this library does not know yet is told, not silently ignored.
 *    ovio_connect_opts refuses options whose reserved space is not zero the
 *    same way.
 *  - What the library fills (ovio_result, ovio_stat, ovio_service_status) is
 *    filled whole: a member this library does not know reads 0, and
 *    reserved space reads 0.
 * When the reserved space is used up, the next change is a new soname.
 */
#ifndef OVIO_H
#define OVIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ovio_err.h"

#define OVIO_VERSION "0.1.0"

/* Open flags, as on the wire (proto/ovio.proto, OpenFlag). */
#define OVIO_OPEN_READ   1u
#define OVIO_OPEN_WRITE  2u
#define OVIO_OPEN_CREATE 4u
#define OVIO_OPEN_EXCL   8u
#define OVIO_OPEN_TRUNC  16u
/*
 * A temporary file: a new, empty file with no name (Linux: O_TMPFILE) or a
 * hidden one the service owns, in the folder path names; path itself is
 * not touched until ovio_close_commit puts the file there atomically.
 * Needs OVIO_OPEN_WRITE; CREATE and TRUNC are implied; with EXCL the
 * commit refuses to replace anything (OVIO_EEXIST).  Closed any other way
 * (ovio_close, a disconnect, a service stop) the file vanishes.
 */
#define OVIO_OPEN_TEMP 32u
/*
 * Unbuffered I/O, past the OS's cache (Linux O_DIRECT, Windows
 * FILE_FLAG_NO_BUFFERING), for regular files only: every read and write on
 * the handle must have an offset and a length that are multiples of the
 * file's direct-I/O alignment (a power of two, 512 or 4096 on common
 * disks; ovio_fstat on the handle tells it: direct_align), else OVIO_EINVAL.
 * The caller's buffers need no alignment: the service aligns its own.  A read
 * may still end short at the end of the file.
 */
#define OVIO_OPEN_DIRECT 64u
/*
 * Write-through (Linux O_DSYNC, Windows FILE_FLAG_WRITE_THROUGH): a write
 * is answered only once its data is on the device.
 */
#define OVIO_OPEN_WRITE_THROUGH 128u

/* Close flags, as on the wire (proto/ovio.proto, CloseFlag). */
#define OVIO_CLOSE_COMMIT 1u /* CLOSE of an OVIO_OPEN_TEMP handle: commit */

/* Request kinds, as on the wire (proto/ovio.proto, Op). */
typedef enum ovio_op {
	OVIO_OP_OPEN    = 1,
	OVIO_OP_READ    = 2,
	OVIO_OP_WRITE   = 3,
	OVIO_OP_FLUSH   = 4,
	OVIO_OP_STAT    = 5,
	OVIO_OP_SETSIZE = 6,
	OVIO_OP_CANCEL  = 7,
	OVIO_OP_CLOSE   = 8,
	OVIO_OP_STATUS  = 9,
	OVIO_OP_LIST    = 10,
	OVIO_OP_MKDIR   = 11,
	OVIO_OP_REMOVE  = 12,
	OVIO_OP_RENAME  = 13,
	OVIO_OP_ADMIN   = 14, /* the ovio_admin_* calls; not ovio_submit */
	OVIO_OP_BATCH   = 15, /* ovio_submitv's message; not ovio_submit */
} ovio_op;

/* Namespace flags, as on the wire (proto/ovio.proto, NsFlag). */
#define OVIO_NS_PARENTS 1u /* MKDIR: make missing parents; a folder is OK */
#define OVIO_NS_REPLACE 2u /* RENAME: replace what new_path names */

/*
 * What a cancel did (ovio_result.cancel; proto CancelResult).  The
 * cancelled operation still completes exactly once, consistent with this:
 */
typedef enum ovio_cancel_result {
	OVIO_CANCEL_NOT_FOUND = 0, /* no such operation in flight */
	OVIO_CANCEL_DONE      = 1, /* it completed cancelled: ECANCELED, or
	                            * ETIMEDOUT when its deadline came first */
	OVIO_CANCEL_REQUESTED = 2, /* no longer sent; kept for old programs */
	OVIO_CANCEL_TOO_LATE  = 3, /* it completed with its real result */
} ovio_cancel_result;

/* File types in ovio_stat.type. */
#define OVIO_TYPE_FILE  1
#define OVIO_TYPE_DIR   2
#define OVIO_TYPE_FIFO  3
#define OVIO_TYPE_OTHER 4
#define OVIO_TYPE_LINK \
	5 /* listed, never followed: a symlink or reparse point */

typedef struct ovio_stat {
	uint64_t size;
	uint32_t mode; /* permission bits */
	uint32_t type; /* OVIO_TYPE_* */
	int64_t  mtime_ns;
	/*
	 * ovio_fstat of a handle opened OVIO_OPEN_DIRECT: the alignment its
	 * reads and writes need (offset and length); else 0.
	 */
	uint32_t direct_align;
	uint32_t reserved32;  /* 0 */
	uint64_t reserved[4]; /* 0; room to grow (see the top of this file) */
} ovio_stat;

/*
 * One entry of a folder (OVIO_OP_LIST).  name is UTF-8 on Windows and the
 * file system's bytes on POSIX (not necessarily valid UTF-8).
 */
typedef struct ovio_dirent {
	const char *name;
	uint32_t    type; /* OVIO_TYPE_*; a link is listed, not followed */
	uint32_t    mode; /* permission bits */
	uint64_t    size;
	int64_t     mtime_ns;
} ovio_dirent;

/* Service-wide status, from ovio_status(). */
typedef struct ovio_service_status {
	char     version[32];
	char     backend[32];
	char     root[512];
	uint32_t sessions;
	uint32_t handles;
	uint64_t ops_in_flight;
	uint64_t ops_submitted;
	uint64_t ops_completed;
	uint64_t ops_canceled;
	uint64_t bytes_read;
	uint64_t bytes_written;
	uint64_t requests_rejected;
	uint64_t duplicates; /* copies answered from the reply cache */
	uint64_t uptime_ms;
	uint64_t cancels_waiting; /* tag cancels waiting for their operation */
	char     state[16]; /* "running", "draining" or "stopping" ("": old) */
	uint64_t reserved[13]; /* 0; room to grow (see the top of this file) */
} ovio_service_status;

/*
 * A request for ovio_submit().  Zero it (reserved must stay 0), then set op,
 * tag and the fields the op uses:
 *   OPEN    path, flags (OVIO_OPEN_*), mode (0: the service's --file-mode,
 *           by default 0640)
 *   READ    handle, offset, length
 *   WRITE   handle, offset, data, length (data is copied into the message)
 *   FLUSH   handle
 *   STAT    handle, or path when handle is 0
 *   SETSIZE handle, length (the new size)
 *   CANCEL  cancel_tag; or handle with all set: every operation of handle;
 *           or session set: every operation of this connection
 *   CLOSE   handle, flags (OVIO_CLOSE_COMMIT for an OVIO_OPEN_TEMP one)
 *   STATUS  nothing
 *   LIST    path ("" is the root), offset: 0 or the next_cookie of the page
 *           before, length: most entries wanted (0: the service's page, 256)
 *   MKDIR   path, flags (OVIO_NS_PARENTS), mode (0 means 0755)
 *   REMOVE  path: a file, a link, or an empty folder
 *   RENAME  path, new_path, flags (OVIO_NS_REPLACE)
 * Namespace paths are checked as opens' are: relative, no "..", never
 * through a link that leaves the root.
 * Any I/O request (READ, WRITE, FLUSH, SETSIZE) may set deadline_ms: if it
 * is still in flight that long after the service received it, it is
 * cancelled and completes with OVIO_ETIMEDOUT (unless its I/O won).
 */
typedef struct ovio_request {
	ovio_op     op;
	uint64_t    tag;
	uint64_t    handle;
	uint64_t    offset;
	uint64_t    length;
	const char *path;
	uint32_t    flags;
	uint32_t    mode;
	const void *data;
	uint64_t    cancel_tag;
	bool        all;
	bool        session;
	uint64_t    deadline_ms;
	const char *new_path; /* RENAME */
	uint64_t reserved[7]; /* 0; room to grow (see the top of this file) */
} ovio_request;

/*
 * The completion of one request, passed to its callback.  Pointers inside
 * (data) are valid only during the callback.
 */
typedef struct ovio_result {
	uint64_t           tag;
	ovio_op            op;
	int                status;   /* OVIO_OK or an ovio_err */
	int64_t            os_error; /* the OS's own code, 0 if none */
	uint64_t           handle;   /* OPEN */
	uint64_t           bytes;    /* READ, WRITE: bytes transferred */
	const void        *data;     /* READ: the bytes read */
	ovio_stat          stat;     /* STAT */
	bool               found;    /* CANCEL: the operation was in flight */
	ovio_cancel_result cancel;   /* CANCEL of a tag: what it did */
	uint32_t canceled; /* CANCEL all: how many cancels were requested */
	const ovio_service_status *service; /* STATUS */
	const ovio_dirent         *entries; /* LIST: this page, in name order */
	size_t                     nentries;
	bool     more;        /* LIST: entries remain past this page */
	uint64_t next_cookie; /* LIST: the offset of the next page */
	uint64_t reserved[4]; /* 0; room to grow (see the top of this file) */
} ovio_result;

typedef void (*ovio_cb)(void *arg, const ovio_result *res);

typedef struct ovio_client ovio_client;

/*
 * The endpoints used when none is given.
 *
 * ovio_system_endpoint returns the system service's endpoint (the
 * installed systemd unit's, the Windows service's):
 * ipc:///run/ovio/oviod.sock, or ipc://ovio (the named pipe \\.\pipe\ovio)
 * on Windows.  OVIO_SYSTEM_USER is the user it runs as on POSIX (made
 * by make install, a system account); a client trusts a service run by
 * that user too, at the sockets in /run/ovio only.
 *
 * ovio_user_endpoint returns where oviod listens when it is given no
 * endpoint: ovio_system_endpoint() when run by root (and on Windows), else
 * ipc://$XDG_RUNTIME_DIR/ovio/oviod.sock, else (no $XDG_RUNTIME_DIR)
 * ipc:///tmp/ovio-<uid>/oviod.sock.  oviod makes the folder (only its user
 * may use it) and refuses one another user made.
 *
 * ovio_default_endpoint returns the endpoint a client connects to when none
 * is given: $OVIO_ENDPOINT if set; else ovio_user_endpoint() if its socket
 * is there and something listens on it (the user's own oviod; one a killed
 * oviod left is passed over), in a folder of the user's that others cannot
 * write; else ovio_system_endpoint() if its socket is there; else
 * ovio_user_endpoint().  The strings stay valid while the program runs
 * ($XDG_RUNTIME_DIR is read once).
 */
#define OVIO_SYSTEM_USER "ovio"
const char *ovio_system_endpoint(void);
const char *ovio_user_endpoint(void);
const char *ovio_default_endpoint(void);

/*
 * ovio_connect connects to the service at url (NULL: the default endpoint)
 * and waits up to timeout_ms (0: 5000) for the connection.  Returns 0,
 * OVIO_EADDRINVAL, OVIO_ECONNREFUSED, OVIO_ETIMEDOUT or OVIO_ENOMEM.
 */
int ovio_connect(ovio_client **cp, const char *url, int timeout_ms);

/*
 * How to connect, for ovio_connect_opts.  Zero it, then set what differs
 * from the defaults.  The TLS members apply to tls+tcp:// URLs only
 * (mutual TLS: the service requires a client certificate from the CA it
 * trusts, and this client requires the service's certificate to chain to
 * tls_ca_file).  Files are PEM; the key is not encrypted.  A member left
 * NULL is taken from the environment: $OVIO_TLS_CA, $OVIO_TLS_CERT,
 * $OVIO_TLS_KEY.
 */
typedef struct ovio_connect_options {
	int         timeout_ms;    /* 0: 5000 */
	int         once;          /* 1: no retries (as ovio_connect_once) */
	const char *tls_ca_file;   /* CA the service's certificate chains to */
	const char *tls_cert_file; /* this client's certificate */
	const char *tls_key_file;  /* its private key */
	const char *tls_server_name; /* name the service's certificate must
	                              * have (NULL: the URL's host) */
	uint64_t reserved[8]; /* 0; room to grow (see the top of this file) */
} ovio_connect_options;

/*
 * ovio_connect_opts connects as ovio_connect does, with o (NULL: all
 * defaults; ovio_connect(cp, url, ms) is ovio_connect_opts with only
 * timeout_ms set).  Besides ovio_connect's statuses: OVIO_EAUTH (tls+tcp://:
 * the TLS handshake failed: the service refused this client's certificate,
 * or its own is not signed by tls_ca_file or does not name the host),
 * OVIO_ECLOSED (the service closed the connection while it was being set
 * up, e.g. a plain tcp:// client at a tls+tcp:// listener), OVIO_EINVAL (o's
 * reserved space not zero; tls+tcp:// without a CA, certificate or key, or
 * a file that is not PEM), OVIO_ENOENT / OVIO_EACCES (a TLS file that cannot
 * be read).  A refused handshake is reported at once, not retried.
 *
 * Every connect (ovio_connect, ovio_connect_once too) on ipc:// where the
 * OS tells who runs the service (POSIX) trusts only a service run by this
 * process's user, by root, or by the user $OVIO_SERVICE_USER names (a name
 * or a number): any other (a socket another user planted at the path) is
 * dropped before a request is sent, and the connect fails with OVIO_EAUTH.
 */
int ovio_connect_opts(
    ovio_client **cp, const char *url, const ovio_connect_options *o);

/*
 * ovio_set_threads sets how many threads run this process's messages and
 * completions (nng's task threads, on which every ovio_cb runs).  It takes
 * effect only if called before the process's first connect (or other use
 * of nng), and only the first call counts; later it changes nothing.  0,
 * and the default when it is never called: half the CPUs, at least 1.  (nng's own default, twice the CPUs,
 * costs more in lock contention and wake-ups than it gains for small
 * requests: make bench.)  With few threads a callback that blocks holds
 * up every completion of the process: callbacks must not wait for other
 * requests (the blocking calls are for other threads).  Returns 0, or
 * OVIO_EINVAL for more than 256.
 */
int ovio_set_threads(unsigned n);

/*
 * ovio_connect_once is ovio_connect without the retries, for programs a
 * person or a script waits on: a refused connection or a missing ipc path
 * fails at once with OVIO_ECONNREFUSED instead of being tried again until
 * the timeout.  A service that accepts the connection but does not answer
 * its handshake fails with OVIO_ETIMEDOUT after timeout_ms (0: 5000), as
 * with ovio_connect.  Returns 0, OVIO_EADDRINVAL, OVIO_ECONNREFUSED,
 * OVIO_ETIMEDOUT or OVIO_ENOMEM.
 */
int ovio_connect_once(ovio_client **cp, const char *url, int timeout_ms);

/*
 * ovio_set_timeout bounds the wait for each reply: a request (blocking or
 * submitted) whose reply has not come ms milliseconds after it was
 * submitted completes with OVIO_ETIMEDOUT (0, the default: no bound).  The
 * request is abandoned, not cancelled: it may still run on the service,
 * and a reply that comes later is dropped.  Applies to requests submitted
 * after the call.  Returns 0 or OVIO_EINVAL.
 */
int ovio_set_timeout(ovio_client *c, int ms);

/*
 * ovio_set_resend turns on nng's REQ resend: a request whose reply has not
 * come after ms milliseconds, or whose connection dropped, is sent again
 * (0, the default: never).  Safe because, once it is on, every request
 * carries the client's random identity and a request id, and the service
 * runs each write, open, flush, set-size and close at most once, answering
 * copies with the first reply.  A copy of a read or stat that arrives while the first copy still
 * runs gets that copy's reply (the data, not OVIO_ETAGINUSE); one arriving
 * after it simply runs again.  With resend on, a lost connection does not
 * fail requests in flight (ovio_disconnect still completes them
 * OVIO_ECLOSED); note that handles still die with the connection that
 * opened them.  Call it before submitting.  Until resend is first turned
 * on, a read or write is sent once and carries no request id (the service
 * keeps nothing for it).  Returns 0 or OVIO_EINVAL.
 */
int ovio_set_resend(ovio_client *c, int ms);

/*
 * ovio_disconnect closes the connection.  Requests still in flight, sent or
 * not, complete with OVIO_ECLOSED (never OVIO_ECANCELED) before it returns;
 * the service cancels and closes every handle the connection had open.
 */
void ovio_disconnect(ovio_client *c);

/*
 * ovio_submit sends one request.  Returns 0, after which cb is called exactly
 * once with the request's completion (from a library thread, no lock held);
 * or an error (OVIO_EINVAL: no cb, or rq->reserved not zero; OVIO_ENOMEM,
 * OVIO_ECLOSED), after which cb is never called.  The completion's status is
 * the service's answer, or OVIO_ECLOSED when that answer was lost with the
 * connection (see "Lost, not cancelled" above), or OVIO_ENOMEM, OVIO_EPROTO (a
 * reply that does not parse or is not this request's).  Tags are the caller's:
 * unique among its requests in flight; tags with the top bit set are reserved
 * for the blocking calls below.
 */
int ovio_submit(ovio_client *c, const ovio_request *rq, ovio_cb cb, void *arg);

/*
 * ovio_submitv sends the n requests of rqs (1 to OVIO_BATCH_MAX) in one
 * message: fewer round trips through the transport for many small
 * operations.  Each is an OVIO_OP_READ, WRITE, FLUSH or SETSIZE; each
 * completes exactly once, through cb, with its own status, and is
 * cancellable by its own tag (ovio_cancel) as if sent alone; it runs as
 * soon as the service has the message, in no order among the others.
 * The completions are delivered together, in rqs's order, once the last of
 * them has completed: so batch operations that finish together (a pending
 * FIFO read holds back the rest's callbacks).  Returns 0, after which cb
 * is called exactly n times; or an error, after which it is never called:
 * OVIO_EINVAL (n out of range, no cb, another kind of request, reserved not
 * zero, writes of more than OVIO_BATCH_MAX_WRITE bytes in all, reads of
 * more than OVIO_BATCH_MAX_READ), OVIO_ENOTSUP (resend is on,
 * ovio_set_resend: a batch is not at-most-once), OVIO_ENOMEM,
 * OVIO_ECLOSED.  A batch the service refuses whole (an old service:
 * EINVAL) completes each of its requests with that status, and none of
 * them ran.  OVIO_ENOMEM from the service: out of memory for the batch
 * (none ran) or, rarely, for its reply after they ran; a read may also get
 * OVIO_ENOMEM alone when its batch's reply did not fit, the others keeping
 * their real status.  A batch's writes must also fit the service's
 * --max-io (16 MiB by default) in all: a longer message ends the
 * connection.
 */
#define OVIO_BATCH_MAX       256
#define OVIO_BATCH_MAX_WRITE (16u << 20) /* bytes written by one batch */
#define OVIO_BATCH_MAX_READ  (1u << 30)  /* bytes read by one batch */
int ovio_submitv(ovio_client *c, const ovio_request *rqs, size_t n,
    ovio_cb cb, void *arg);

/*
 * Batches of the library's own.  A read or write of at most 16 KiB given
 * to ovio_submit, on a handle with offsets (a regular file or a block
 * device, as the service said at its open: never a FIFO, pipe or
 * character device), while 8 or more of the client's requests are in
 * flight, waits in a queue that goes as one message, as ovio_submitv
 * would send it, when it holds 16 requests or 48 KiB of writes, when the
 * requests in flight drop below 8, or 1 ms after it began.  One request or
 * a few in flight never wait; many small ones cost the transport a message
 * per batch, not per request.  Each still completes exactly once, with its
 * own status, and is cancellable by its own tag; the completions of such a
 * batch are delivered together, once its last one is done.  Any other
 * request sends what waits first, so requests keep their order on the
 * wire.  Never with resend on (ovio_set_resend).  ovio_set_batching(c,
 * false) turns it off (on by default); returns 0, or OVIO_EINVAL for a
 * NULL client.
 */
int ovio_set_batching(ovio_client *c, bool on);

/*
 * Blocking calls.  Each sends one request, waits for its completion and
 * returns 0 or its status; when the status came from the OS,
 * ovio_last_os_error() gives the OS's own code.  Besides the statuses
 * listed, any of them may return the transport's: OVIO_ECLOSED (the
 * connection is gone, or went while the call waited), OVIO_ENOMEM,
 * OVIO_EPROTO (a reply that does not parse), OVIO_ESHUTDOWN (the service is
 * stopping), OVIO_EBUSY (a per-client limit of the service: handles,
 * operations or bytes in flight).
 *
 * ovio_open      path relative to the service's root; flags OVIO_OPEN_*;
 *                mode's bits outside 0777 (setuid, setgid, sticky) are
 *                dropped.  OVIO_EINVAL (no READ/WRITE, TRUNC without WRITE,
 *                a flag bit outside OVIO_OPEN_*), OVIO_EOUTSIDE (absolute,
 *                "..", or a link leaving the root), OVIO_ENOENT,
 *                OVIO_EEXIST (EXCL), OVIO_EACCES, OVIO_EISDIR, OVIO_EMFILE,
 *                OVIO_ELOOP (a symbolic link loop inside the root),
 *                OVIO_ENXIO (a FIFO opened for writing with no reader, or
 *                a socket with --allow-devices), OVIO_EPERM (a device node
 *                or socket, unless oviod runs with --allow-devices),
 *                OVIO_EROFS (WRITE, CREATE or TRUNC on a --read-only
 *                service).  With OVIO_OPEN_TEMP: OVIO_EINVAL (without
 *                WRITE), OVIO_EISDIR (a folder at path), OVIO_ENOENT /
 *                OVIO_ENOTDIR (path's folder is missing or a file).
 * ovio_pread     *got < len only at end of file (or a FIFO's short read).
 *                OVIO_EBADF (stale, forged or another client's handle),
 *                OVIO_ECLOSING (close in progress), OVIO_ETOOBIG (len over
 *                the service's --max-io), OVIO_EINVAL (offset or offset +
 *                len past INT64_MAX), OVIO_ECANCELED, OVIO_EIO.
 * ovio_pwrite    as ovio_pread; OVIO_ENOSPC, OVIO_EFBIG.
 * ovio_flush     data and metadata to stable storage.  As ovio_pread.
 * ovio_fstat     OVIO_EBADF, OVIO_ECLOSING.
 * ovio_stat_path as ovio_open's path errors.
 * ovio_setsize   as ovio_pwrite; OVIO_EINVAL (size past INT64_MAX),
 *                OVIO_ENOTSUP where the backend lacks it.
 * ovio_cancel    *what (may be NULL) says what it did; the cancelled
 *                operation still completes exactly once (ovio_cancel_result).
 * ovio_cancel_handle  *canceled: how many cancels were asked.  OVIO_EBADF.
 * ovio_close     answered after every operation in flight on the handle
 *                completed (cancelled); OVIO_EBADF, OVIO_ECLOSING (a close
 *                is already running).  Of an OVIO_OPEN_TEMP handle: the
 *                temporary file is removed, path is untouched.
 * ovio_close_commit  closes an OVIO_OPEN_TEMP handle like ovio_close, then
 *                flushes its file to stable storage and puts it at the
 *                open's path in one atomic step: a reader of path sees the
 *                old file or the whole new one, never a mix.  What is at
 *                path is replaced (a link there is replaced itself, never
 *                followed), unless the open had OVIO_OPEN_EXCL: then
 *                OVIO_EEXIST if anything is there, checked by the OS in
 *                the same step.  The handle is closed whatever the
 *                outcome; on failure the temporary file is removed and
 *                path untouched.  OVIO_EINVAL (not an OVIO_OPEN_TEMP
 *                handle: refused before closing, the handle stays open),
 *                OVIO_EISDIR (a folder at path), OVIO_ENOENT (the folder
 *                was removed since the open), OVIO_ECANCELED (operations
 *                were still in flight on the handle, I/O or a stat: the
 *                close cancelled them and the commit was abandoned; wait
 *                for every write's completion first), OVIO_ENOSPC,
 *                OVIO_EIO, and ovio_close's.
 * ovio_status    the service's counters.
 *
 * Namespace calls.  Paths as ovio_open's, with its path errors
 * (OVIO_EINVAL for an empty path or one naming "." as the target,
 * OVIO_EOUTSIDE, OVIO_ENAMETOOLONG, OVIO_ENOENT for a missing parent,
 * OVIO_ENOTDIR for a parent that is a file, OVIO_EACCES, OVIO_EROFS);
 * they run on the service's worker pool, and mkdir, remove and rename run
 * at most once even when resent.
 * ovio_list      calls fn for every entry of the folder path ("" or "."
 *                for the root), in name order, page after page; fn
 *                returning non-zero stops the listing with that status.
 *                OVIO_ENOTDIR (path is a file), OVIO_ETOOBIG (a folder of
 *                more than 1 048 576 entries).  Entries added or removed
 *                while a listing runs may be missed or seen twice.
 * ovio_list_page one page: up to max entries (0: 256) from cookie (0: the
 *                first); *next (may be NULL) is the cookie of the next
 *                page and *more (may be NULL) says whether there is one.
 * ovio_mkdir     mode's permission bits (0: 0755).  OVIO_EEXIST (something
 *                is there; with OVIO_NS_PARENTS only when it is not a
 *                folder).
 * ovio_remove    a file, a link (not what it points to) or an empty
 *                folder.  OVIO_ENOTEMPTY, OVIO_ENOENT.
 * ovio_rename    atomic on one file system.  OVIO_EEXIST (new_path exists
 *                and OVIO_NS_REPLACE is not set), OVIO_EXDEV (another
 *                file system or volume), OVIO_ENOTEMPTY (replacing a folder
 *                that is not empty), OVIO_EISDIR / OVIO_ENOTDIR (replacing
 *                a folder by a file or the other way), OVIO_EINVAL (a
 *                folder into itself).
 */
int ovio_open(ovio_client *c, const char *path, uint32_t flags, uint32_t mode,
    uint64_t *handle);
int ovio_pread(ovio_client *c, uint64_t handle, void *buf, size_t len,
    uint64_t offset, size_t *got);
int ovio_pwrite(ovio_client *c, uint64_t handle, const void *buf, size_t len,
    uint64_t offset, size_t *put);
int ovio_flush(ovio_client *c, uint64_t handle);
int ovio_fstat(ovio_client *c, uint64_t handle, ovio_stat *st);
int ovio_stat_path(ovio_client *c, const char *path, ovio_stat *st);
int ovio_setsize(ovio_client *c, uint64_t handle, uint64_t size);
int ovio_cancel(ovio_client *c, uint64_t tag, ovio_cancel_result *what);
int ovio_cancel_handle(ovio_client *c, uint64_t handle, uint32_t *canceled);
/* Cancels every operation this connection has in flight. */
int ovio_cancel_session(ovio_client *c, uint32_t *canceled);
int ovio_close(ovio_client *c, uint64_t handle);
int ovio_close_commit(ovio_client *c, uint64_t handle);
int ovio_status(ovio_client *c, ovio_service_status *st);

/* Called for each entry; the entry is valid only during the call. */
typedef int (*ovio_dirent_fn)(void *arg, const ovio_dirent *ent);

int ovio_list(ovio_client *c, const char *path, ovio_dirent_fn fn, void *arg);
int ovio_list_page(ovio_client *c, const char *path, uint64_t cookie,
    uint32_t max, ovio_dirent_fn fn, void *arg, uint64_t *next, bool *more);
int ovio_mkdir(ovio_client *c, const char *path, uint32_t flags, uint32_t mode);
int ovio_remove(ovio_client *c, const char *path);
int ovio_rename(
    ovio_client *c, const char *path, const char *new_path, uint32_t flags);

/*
 * Administration (lib/admin.c).  oviod answers these only on its admin
 * endpoint, which only the service's user (and an admin group) may reach
 * on POSIX, and SYSTEM and Administrators on Windows; a data endpoint
 * refuses them with OVIO_EPERM, and the admin endpoint refuses everything
 * but these and ovio_status.
 *
 * ovio_admin_endpoint_for writes into buf the admin endpoint beside the
 * data endpoint data_url: ipc://PATH.sock gives ipc://PATH.admin.sock, any
 * other ipc://NAME gives ipc://NAME.admin.  Returns 0, OVIO_EADDRINVAL (not
 * ipc://: give the admin URL) or OVIO_ENAMETOOLONG (len too small).
 * ovio_default_admin_endpoint: $OVIO_ADMIN_ENDPOINT if set, else the one
 * beside ovio_default_endpoint().
 */
int ovio_admin_endpoint_for(const char *data_url, char *buf, size_t len);
const char *ovio_default_admin_endpoint(void);

/* A session (a client's connection), as ovio_admin_sessions lists it. */
typedef struct ovio_admin_session {
	uint32_t    id;    /* for ovio_admin_kick, ovio_admin_cancel_session */
	bool        admin; /* connected to the admin endpoint */
	bool        has_uid; /* ipc: uid and pid are the peer's */
	uint64_t    uid;
	uint64_t    pid;
	const char *address;      /* tcp: "address:port"; else "" */
	int64_t     connected_ms; /* wall clock, ms since the Unix epoch */
	uint32_t    handles;      /* open */
	uint32_t    ops;          /* operations in flight */
	uint64_t    bytes;        /* bytes in flight */
	const char *certificate;  /* tls+tcp: its subject (verified); else "" */
	uint64_t    reserved[3];  /* 0; room to grow */
} ovio_admin_session;

/* An open handle, as ovio_admin_handles lists it. */
typedef struct ovio_admin_handle {
	uint64_t    id; /* for ovio_admin_close, ovio_admin_cancel_handle */
	uint32_t    session;
	uint32_t    flags;       /* OVIO_OPEN_* */
	const char *path;        /* as opened, relative to the root */
	bool        closing;     /* CLOSING: being drained; else OPEN */
	uint32_t    ops;         /* operations in flight */
	uint64_t    reserved[4]; /* 0; room to grow */
} ovio_admin_handle;

/*
 * An operation in flight, as ovio_admin_ops lists it: listed, it exists;
 * completed, it is gone.
 */
typedef struct ovio_admin_op {
	uint64_t id;  /* service-wide, for ovio_admin_cancel_op */
	uint64_t tag; /* its client's tag */
	uint32_t session;
	ovio_op  kind; /* READ, WRITE, FLUSH or SETSIZE */
	uint64_t handle;
	uint64_t offset;
	uint64_t length;
	uint64_t age_ms;      /* since the service submitted it */
	bool     cancelling;  /* a cancel is wanted; else pending */
	uint64_t reserved[4]; /* 0; room to grow */
} ovio_admin_op;

/*
 * The requests of one kind the service has answered since it started, as
 * ovio_admin_stats lists them.  A request's latency runs from its receipt
 * to its reply being handed to the transport (the service's own time).
 */
#define OVIO_LATENCY_BUCKETS 32
typedef struct ovio_admin_stats_entry {
	ovio_op  kind;   /* OVIO_OP_OPEN ... (0: requests that did not decode) */
	uint64_t count;  /* answered */
	uint64_t errors; /* ... with a status other than OVIO_OK */
	uint64_t sum_us; /* their latencies' sum, microseconds */
	uint64_t max_us;
	/* buckets[i]: latencies below 2^i us (and, for i > 0, at least
	 * 2^(i-1) us); the last one holds the rest. */
	uint64_t buckets[OVIO_LATENCY_BUCKETS];
	uint64_t reserved[4]; /* 0; room to grow */
} ovio_admin_stats_entry;

/*
 * The q-quantile (0 < q <= 1; 0.5 is the median) of e's latencies in
 * microseconds, from its buckets: the upper bound of the bucket it falls
 * in, and never above max_us; 0 when count is 0.
 */
uint64_t ovio_latency_quantile(const ovio_admin_stats_entry *e, double q);

/* The name of an operation kind: "read", "write", ...; "?" if unknown. */
const char *ovio_op_name(ovio_op kind);

/*
 * Listings: *list gets an array of *n entries in one allocation (strings
 * included), to free with ovio_admin_free; NULL when there are none.  Each
 * page of up to 256 entries is one snapshot of the service; entries that
 * come or go between pages may be missed or seen twice.
 */
int  ovio_admin_sessions(ovio_client *c, ovio_admin_session **list, size_t *n);
int  ovio_admin_handles(ovio_client *c, ovio_admin_handle **list, size_t *n);
int  ovio_admin_ops(ovio_client *c, ovio_admin_op **list, size_t *n);
/* Every kind with a request answered (one snapshot). */
int ovio_admin_stats(ovio_client *c, ovio_admin_stats_entry **list, size_t *n);
void ovio_admin_free(void *list);

/*
 * Commands.  The cancels and the forced close go the engine's one way: each
 * operation they reach completes exactly once, to its owner, as
 * OVIO_ECANCELED (OVIO_ETIMEDOUT if its deadline came first), or with its
 * real result if it won the race.  *canceled (may be NULL): how many
 * cancels were started.
 * ovio_admin_cancel_op       OVIO_ENOTFOUND: not in flight.
 * ovio_admin_cancel_handle   OVIO_EBADF: no such handle.
 * ovio_admin_cancel_session  OVIO_ENOTFOUND: no such session.
 * ovio_admin_close           forced close of any session's handle: its
 *                            operations are cancelled and drained, then
 *                            it is closed; the owner's later requests on
 *                            it get OVIO_ECLOSING, then OVIO_EBADF.
 *                            OVIO_EBADF, OVIO_ECLOSING (already closing).
 * ovio_admin_kick            disconnects the session: its client's requests
 *                            in flight complete OVIO_ECLOSED (the
 *                            connection went), and its handles are closed
 *                            as for any disconnect.  OVIO_ENOTFOUND.
 * ovio_admin_drain           new opens, I/O and namespace requests are
 *                            refused with OVIO_ESHUTDOWN; what is in flight
 *                            finishes; status state "draining".
 * ovio_admin_resume          undoes drain.
 * ovio_admin_shutdown        stops the service as SIGTERM does (answered
 *                            first).
 * ovio_admin_log_level       "error", "warn", "info" or "debug";
 *                            OVIO_EINVAL for anything else.
 * ovio_admin_reload          asks the service to read its config file
 *                            again, as SIGHUP does (answered first; the
 *                            service's log says what changed).
 */
int ovio_admin_cancel_op(ovio_client *c, uint64_t op_id, uint32_t *canceled);
int ovio_admin_cancel_handle(
    ovio_client *c, uint64_t handle, uint32_t *canceled);
int ovio_admin_cancel_session(
    ovio_client *c, uint32_t session, uint32_t *canceled);
int ovio_admin_close(ovio_client *c, uint64_t handle);
int ovio_admin_kick(ovio_client *c, uint32_t session);
int ovio_admin_drain(ovio_client *c);
int ovio_admin_resume(ovio_client *c);
int ovio_admin_shutdown(ovio_client *c);
int ovio_admin_log_level(ovio_client *c, const char *level);
int ovio_admin_reload(ovio_client *c);

/* The OS code of the calling thread's last failed blocking call, 0 if none. */
int64_t ovio_last_os_error(void);

/*
 * Large transfers: split into chunks of chunk bytes (0: 1 MiB) with up to
 * window (0: 8) chunks in flight.  Both return 0 or the first failing
 * status.
 *
 * ovio_pread_all reads up to len bytes from offset; *got is what was read
 * (short only at end of file).  ovio_pwrite_all writes all len bytes.
 */
int ovio_pread_all(ovio_client *c, uint64_t handle, void *buf, size_t len,
    uint64_t offset, size_t chunk, unsigned window, size_t *got);
int ovio_pwrite_all(ovio_client *c, uint64_t handle, const void *buf,
    size_t len, uint64_t offset, size_t chunk, unsigned window);

/*
 * Streams: transfers of any size without holding them in memory.
 *
 * ovio_read_stream reads len bytes (UINT64_MAX: to end of file) from
 * offset and passes them to sink in file order, from the calling thread;
 * *total is how many bytes were read.  ovio_write_stream writes len bytes
 * at offset, asking fill for each chunk's data, which it writes straight
 * into the request message.  progress (may be NULL) is called after each
 * chunk with the bytes done so far.  A sink or fill returning non-zero
 * stops the transfer with that status.  chunk and window as above.
 */
typedef int (*ovio_sink_fn)(
    void *arg, uint64_t offset, const void *data, size_t len);
typedef int (*ovio_fill_fn)(void *arg, uint64_t offset, void *buf, size_t len);
typedef void (*ovio_progress_fn)(void *arg, uint64_t done);

int ovio_read_stream(ovio_client *c, uint64_t handle, uint64_t offset,
    uint64_t len, size_t chunk, unsigned window, ovio_sink_fn sink,
    ovio_progress_fn progress, void *arg, uint64_t *total);
int ovio_write_stream(ovio_client *c, uint64_t handle, uint64_t offset,
    uint64_t len, size_t chunk, unsigned window, ovio_fill_fn fill,
    ovio_progress_fn progress, void *arg);

#endif
