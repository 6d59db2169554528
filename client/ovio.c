/*
 * ovio.c - the ovio command line: moves files to and from oviod and shows
 * the service's status.  The local side of a transfer (temporary files,
 * standard streams, devices) is behind localfile.h.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "admin.h"
#include "bench.h"
#include "localfile.h"
#include "number.h"
#include "ovio.h"
#include "progress.h"
#include "remote.h"
#include "service.h"
#include "tls.h"

/*
 * Exit statuses, by kind of failure (docs/reference.md and ovio --help
 * list them).  `ovio service` keeps its own: 0, 1, and 2 for usage.
 */
#define EXIT_OTHER    1 /* any other failure */
#define EXIT_USAGE    2 /* bad command line */
#define EXIT_NOTFOUND 3 /* no such file or folder (remote or local) */
#define EXIT_PERM     4 /* permission denied, read-only, outside the root */
#define EXIT_CONNECT  5 /* cannot reach the service, or it went away */
#define EXIT_REMOTE   6 /* the service's I/O failed (EIO, ENOSPC, ...) */
#define EXIT_LOCAL    7 /* the local file's I/O failed (disk full, ...) */
#define EXIT_EXISTS   8 /* --no-clobber: the target exists, kept */

#define SERVICE_TIMEOUT_MS 60000       /* default bound of start / stop */
#define CONNECT_TIMEOUT_MS 3000        /* connecting, without --timeout */
#define MAX_TIMEOUT_MS     86400000u   /* --timeout: at most a day */
#define MAX_DEPTH          64          /* folders in folders, put/get -r */
#define MAX_CHUNK          (16u << 20) /* oviod's default --max-io */
#define MAX_WINDOW         256u
#define MAX_STREAMS        16u /* get and put --streams */
#define STREAM_MIN_PART    (8 << 20) /* --streams: bytes a part at least */
/*
 * put --streams: its rename carries both paths in one header, which may be
 * 4 KiB at most (OVIO__MAX_HEADER, lib/wire.h); a longer REMOTE goes in one
 * stream.
 */
#define PUT_STREAMS_PATH_MAX 1900

typedef struct cli {
	const char          *endpoint;
	ovio_connect_options conn; /* tls+tcp:// files */
	bool                 json;
	size_t               chunk;
	unsigned             window;
	unsigned             streams;    /* get --streams; 0: 1 */
	bool                 long_list;  /* ls -l */
	bool                 parents;    /* mkdir -p */
	bool                 recursive;  /* rm -r */
	bool                 force;      /* mv -f */
	bool                 quiet;      /* --quiet: no progress, no notices */
	bool                 resume;     /* --continue (put, get) */
	bool                 no_clobber; /* --no-clobber (put, get) */
	unsigned             timeout_ms; /* --timeout; 0: none given */
	unsigned             watch_ms;   /* status --watch; 0: once */
	int                  first; /* the exit status of the first failure */
	uint64_t             files; /* put / get: files transferred, */
	uint64_t             bytes; /* their bytes */
	int                  argc;  /* the command's own arguments */
	char               **argv;
} cli;

typedef struct command {
	const char *name;
	const char *args;
	const char *brief; /* a line of ovio --help */
	const char *help;  /* ovio COMMAND --help */
	int (*run)(cli *);
	int         nargs;
	bool        rest;    /* takes every argument after it, options too */
	int         maxargs; /* more than nargs allowed (-1: any); 0: exactly */
	const char *opts;    /* its own short options, of "lprf" */
} command;

static int cmd_rest(cli *c, const command *k, int argc, char **argv);

static const command *cmd_current;

/* --json anywhere on the command line: errors are JSON objects too. */
static bool err_json;

/* The exit status for a status the library or the service returned. */
static int
exit_remote(int status)
{
	switch (status) {
	case OVIO_ENOENT:
	case OVIO_ENOTDIR:
	case OVIO_ENXIO:
	case OVIO_ELOOP:
		return (EXIT_NOTFOUND);
	case OVIO_EACCES:
	case OVIO_EPERM:
	case OVIO_EROFS:
	case OVIO_EOUTSIDE:
		return (EXIT_PERM);
	case OVIO_ECONNREFUSED:
	case OVIO_ECLOSED:
	case OVIO_ESHUTDOWN:
	case OVIO_EADDRINVAL:
	case OVIO_ETIMEDOUT:
		return (EXIT_CONNECT);
	case OVIO_EIO:
	case OVIO_ENOSPC:
	case OVIO_EFBIG:
		return (EXIT_REMOTE);
	}
	return (EXIT_OTHER);
}

static bool json_str(FILE *f, const char *s);

/* "ovio: " and msg on stderr, one line whatever the names in it hold. */
static void
say(const char *msg)
{
	fputs("ovio: ", stderr);
	ovio__put_safe(stderr, msg);
	fputc('\n', stderr);
}

/* ovio__put_safe on a terminal; as it is elsewhere (a pipe, a file). */
static void
put_name(FILE *f, const char *s)
{
	if (isatty(fileno(f))) {
		ovio__put_safe(f, s);
	} else {
		fputs(s, f);
	}
}

/*
 * Reports one failure on stderr and returns ex, its exit status.  As text,
 * one line: "ovio: " and msg.  With --json, one JSON object on one line:
 * {"error": msg, "path": PATH, "side": "remote" or "local", "status":
 * "ENAME", "exit": ex}, where path, side and status appear only when known
 * (NULL here).
 */
static int
report(int ex, const char *path, const char *side, const char *status,
    const char *msg)
{
	if (!err_json) {
		say(msg);
		return (ex);
	}
	fprintf(stderr, "{\"error\": ");
	json_str(stderr, msg);
	if (path != NULL) {
		fprintf(stderr, ", \"path\": ");
		json_str(stderr, path);
	}
	if (side != NULL) {
		fprintf(stderr, ", \"side\": \"%s\"", side);
	}
	if (status != NULL) {
		fprintf(stderr, ", \"status\": \"%s\"", status);
	}
	fprintf(stderr, ", \"exit\": %d}\n", ex);
	return (ex);
}

/* report, with msg from a format. */
static int reportf(int ex, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
reportf(int ex, const char *path, const char *fmt, ...)
{
	char    msg[2 * 4096 + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return (report(ex, path, NULL, NULL, msg));
}

/* say, with msg from a format: a notice, never JSON. */
static void notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
notice(const char *fmt, ...)
{
	char    msg[2 * 4096 + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say(msg);
}

/* "ovio: WHAT: remote: ENAME: message": the service's side failed. */
static int
fail_remote(const char *what, int status)
{
	int64_t os = ovio_last_os_error();
	char    msg[4096 + 256];

	if (os != 0) {
		snprintf(msg, sizeof(msg), "%s: remote: %s: %s (os error %lld)",
		    what, ovio_errname(status), ovio_strerror(status),
		    (long long) os);
	} else {
		snprintf(msg, sizeof(msg), "%s: remote: %s: %s", what,
		    ovio_errname(status), ovio_strerror(status));
	}
	return (report(
	    exit_remote(status), what, "remote", ovio_errname(status), msg));
}

/* "ovio: WHAT: local: message": this machine's side failed. */
static int
fail_local(const char *what, int code)
{
	char msg[4096 + 256];
	int  ex = EXIT_LOCAL;

	switch (ovio__local_kind(code)) {
	case OVIO__LOCAL_NOTFOUND:
		ex = EXIT_NOTFOUND;
		break;
	case OVIO__LOCAL_PERM:
		ex = EXIT_PERM;
		break;
	}
	snprintf(msg, sizeof(msg), "%s: local: %s", what,
	    ovio__local_strerror(code));
	return (report(ex, what, "local", NULL, msg));
}

/* Keeps the first failure's exit status (a command that goes on). */
static void
note(cli *c, int ex)
{
	if (ex != 0 && c->first == 0) {
		c->first = ex;
	}
}

/*
 * The length of the UTF-8 sequence at p (1 to 4), or 0 when p does not
 * start a valid one (overlong forms, surrogates and values past U+10FFFF
 * are not valid).
 */
static size_t
utf8_len(const unsigned char *p)
{
	size_t   n, i;
	uint32_t v;

	if (p[0] < 0x80) {
		return (1);
	} else if ((p[0] & 0xE0) == 0xC0) {
		n = 2, v = p[0] & 0x1F;
	} else if ((p[0] & 0xF0) == 0xE0) {
		n = 3, v = p[0] & 0x0F;
	} else if ((p[0] & 0xF8) == 0xF0) {
		n = 4, v = p[0] & 0x07;
	} else {
		return (0);
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80) {
			return (0);
		}
		v = (v << 6) | (p[i] & 0x3F);
	}
	if ((n == 2 && v < 0x80) || (n == 3 && v < 0x800)
	    || (n == 4 && v < 0x10000) || v > 0x10FFFF
	    || (v >= 0xD800 && v <= 0xDFFF)) {
		return (0);
	}
	return (n);
}

/*
 * Writes s as a JSON string: quoted, with backslashes, quotes and control
 * characters escaped (Windows paths are full of backslashes).  The output
 * is valid UTF-8 whatever s holds: a byte that is not part of a valid
 * UTF-8 sequence becomes U+FFFD.  Returns false when that happened.
 */
static bool
json_str(FILE *f, const char *s)
{
	const unsigned char *p;
	size_t               n;
	bool                 valid = true;

	fputc('"', f);
	for (p = (const unsigned char *) s; *p != '\0'; p += n) {
		n = utf8_len(p);
		if (n == 0) {
			fputs("\xEF\xBF\xBD", f); /* U+FFFD */
			valid = false;
			n     = 1;
		} else if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p);
		} else if (*p < 0x20 || *p == 0x7F) {
			fprintf(f, "\\u%04x", *p);
		} else {
			fwrite(p, 1, n, f);
		}
	}
	fputc('"', f);
	return (valid);
}

/* Connects, or says why not; returns 0 or the exit status. */
static int
connect_or_fail(cli *c, ovio_client **cl)
{
	nng_tls_config *tls;
	ovio__tls_files f;
	char            why[512];
	int             rv;

	/*
	 * One attempt: nothing listening fails at once.  --timeout bounds
	 * the connection and then every reply.
	 */
	c->conn.timeout_ms
	    = c->timeout_ms != 0 ? (int) c->timeout_ms : CONNECT_TIMEOUT_MS;
	c->conn.once = 1;
	rv           = ovio_connect_opts(cl, c->endpoint, &c->conn);
	if (rv == 0 && c->timeout_ms != 0
	    && (rv = ovio_set_timeout(*cl, (int) c->timeout_ms)) != 0) {
		ovio_disconnect(*cl);
	}
	if (rv != 0) {
		const char *url = c->endpoint != NULL ? c->endpoint
		                                      : ovio_default_endpoint();
		f.ca            = c->conn.tls_ca_file;
		f.cert          = c->conn.tls_cert_file;
		f.key           = c->conn.tls_key_file;
		f.server_name   = c->conn.tls_server_name;
		/* The library cannot say which TLS file is bad: we can. */
		if (ovio__url_is_tls(url)) {
			if (ovio__tls_config(&tls, false, &f, why, sizeof(why))
			    != 0) {
				return (reportf(EXIT_CONNECT, url,
				    "cannot connect to %s: %s "
				    "(--tls-ca, --tls-cert, --tls-key)",
				    url, why));
			}
			nng_tls_config_free(tls); /* the files are fine */
		}
		if (err_json) {
			return (reportf(EXIT_CONNECT, url,
			    "cannot connect to %s: %s: %s", url,
			    ovio_errname(rv), ovio_strerror(rv)));
		}
		fprintf(stderr, "ovio: cannot connect to %s: %s: %s\n", url,
		    ovio_errname(rv), ovio_strerror(rv));
		if (rv == OVIO_ECONNREFUSED || rv == OVIO_ETIMEDOUT) {
			fprintf(stderr, "ovio: is oviod running? (make run, "
			                "oviod --listen URL, or on Windows "
			                "ovio service start)\n");
		}
		if (rv == OVIO_EPROTO) {
			fprintf(stderr, "ovio: what answers there is not an "
			                "ovio service\n");
		}
		if (rv == OVIO_EAUTH && strncmp(url, "ipc://", 6) == 0) {
			fprintf(stderr,
			    "ovio: the service there runs as another user, "
			    "not you, root or ovio; if that is the service's "
			    "user, set OVIO_SERVICE_USER to its name\n");
		}
		return (EXIT_CONNECT);
	}
	return (0);
}

/*
 * One transfer's local side.  The library's callbacks can only return an
 * ovio status, so a local failure is kept here (lerr, shrank) and the
 * callback returns OVIO_EIO to stop the transfer; the caller then reports
 * the local error, not the status.  base is where the transfer began in
 * the file (--continue), for the progress line.
 */
typedef struct xfer {
	progress     p;
	ovio__local *lf;
	uint64_t     base;
	int          lerr;   /* local error code, or 0 */
	bool         shrank; /* the local file ended before its size */
	bool remote_shrank;  /* get --streams: the remote file shrank */
} xfer;

static int
local_fill(void *arg, uint64_t offset, void *buf, size_t len)
{
	xfer  *x = arg;
	size_t got;
	int    rv;

	(void) offset; /* local files are read in order */
	if ((rv = ovio__local_read(x->lf, buf, len, &got)) != 0) {
		x->lerr = rv;
		return (OVIO_EIO);
	}
	if (got != len) {
		x->shrank = true;
		return (OVIO_EIO);
	}
	return (0);
}

static int
local_sink(void *arg, uint64_t offset, const void *data, size_t len)
{
	xfer *x = arg;
	int   rv;

	(void) offset; /* the library calls the sink in file order */
	if ((rv = ovio__local_write(x->lf, data, len)) != 0) {
		x->lerr = rv;
		return (OVIO_EIO);
	}
	return (0);
}

static void
on_progress(void *arg, uint64_t done)
{
	xfer *x = arg;

	ovio__progress_update(&x->p, x->base + done);
}

/*
 * put from a stream (standard input, a FIFO, a device): its size is not
 * known, so one chunk at a time is read whole and written, in order, until
 * the input ends.  Writing starts at *total, which ends as the file's size.
 */
static int
put_stream(cli *c, ovio_client *cl, uint64_t h, xfer *x, uint64_t *total)
{
	size_t   chunk = c->chunk != 0 ? c->chunk : (1u << 20);
	uint8_t *buf;
	size_t   got, put;
	int      rv = 0;

	if ((buf = malloc(chunk)) == NULL) {
		return (OVIO_ENOMEM);
	}
	for (;;) {
		if ((x->lerr = ovio__local_read(x->lf, buf, chunk, &got))
		    != 0) {
			rv = OVIO_EIO;
			break;
		}
		if (got == 0) {
			break;
		}
		if ((rv = ovio_pwrite(cl, h, buf, got, *total, &put)) != 0) {
			break;
		}
		if (put < got) {
			rv = OVIO_ENOSPC; /* what the service's disk took */
			break;
		}
		*total += got;
		ovio__progress_update(&x->p, *total);
		if (got < chunk) {
			break;
		}
	}
	free(buf);
	return (rv);
}

/* --no-clobber found PATH there (local for get, remote for put). */
static int
fail_exists(const char *path, const char *side, const char *what)
{
	char msg[4096 + 64];

	snprintf(
	    msg, sizeof(msg), "%s: %s: %s (--no-clobber)", path, side, what);
	return (report(EXIT_EXISTS, path, side,
	    strcmp(side, "remote") == 0 ? "EEXIST" : NULL, msg));
}

/*
 * The end of an upload, one stream or several: the progress line ended and
 * the local file closed, then what went wrong is told (the local side
 * first: its failure is what stopped the transfer), else the file counted.
 * rv is the upload's first failing status, 0 if none.  Returns 0 or the
 * exit status of the failure it reported.
 */
static int
put_end(cli *c, xfer *x, const char *local, const char *remote, int rv,
    uint64_t total)
{
	ovio__progress_end(&x->p, rv == 0);
	ovio__local_abort(x->lf); /* a reader: closes it, removes nothing */
	if (x->lerr != 0) {
		return (fail_local(local, x->lerr));
	}
	if (x->shrank) {
		return (reportf(EXIT_LOCAL, local,
		    "%s: local: the file shrank while being read", local));
	}
	if (rv == OVIO_EEXIST && c->no_clobber) {
		return (fail_exists(remote, "remote", "EEXIST: exists, kept"));
	}
	if (rv != 0) {
		return (fail_remote(remote, rv));
	}
	c->files++;
	c->bytes += total;
	return (0);
}

static int put_streams(cli *c, ovio_client *cl, const char *local,
    const char *remote, xfer *x, uint64_t size);

/*
 * Sends the local file (or "-", standard input) to remote over cl: the one
 * place a file is uploaded, so its open flags and its final flush and
 * close are here and nowhere else.  Without --continue the data goes to a
 * temporary file that the commit puts at remote only once complete and
 * flushed (atomic; with --no-clobber the commit keeps an existing remote);
 * with it, remote is opened as it is, in place (not atomic), its size is
 * asked, and the local file is sent from that offset.
 * Returns 0 or the exit status of the failure it reported.
 */
static int
put_file(cli *c, ovio_client *cl, const char *local, const char *remote)
{
	/*
	 * A temporary file, put at REMOTE by the commit only (atomic); with
	 * --continue, REMOTE itself, written in place from its size.
	 */
	uint32_t  flags = c->resume ? OVIO_OPEN_WRITE | OVIO_OPEN_CREATE
	                            : OVIO_OPEN_WRITE | OVIO_OPEN_TEMP
                                         | (c->no_clobber ? OVIO_OPEN_EXCL : 0);
	ovio_stat st;
	xfer      x;
	uint64_t  h, from = 0, total = 0, skipped;
	int64_t   size;
	int       rv, rv2;

	memset(&x, 0, sizeof(x));
	if ((rv = ovio__local_open_read(local, &x.lf, &size)) != 0) {
		return (fail_local(local, rv));
	}
	if (c->streams > 1 && !c->resume && size >= 2 * STREAM_MIN_PART
	    && strlen(remote) <= PUT_STREAMS_PATH_MAX) {
		return (put_streams(c, cl, local, remote, &x, (uint64_t) size));
	}
	if ((rv = ovio_open(cl, remote, flags, 0, &h)) != 0) {
		ovio__local_abort(x.lf);
		return (fail_remote(remote, rv));
	}
	if (c->resume) {
		/* Resume from what the remote file holds already. */
		if ((rv = ovio_fstat(cl, h, &st)) != 0) {
			(void) ovio_close(cl, h);
			ovio__local_abort(x.lf);
			return (fail_remote(remote, rv));
		}
		from = st.size;
		rv   = ovio__local_skip(x.lf, from, &skipped);
		if (rv != 0 || skipped < from
		    || (size >= 0 && (uint64_t) size < from)) {
			(void) ovio_close(cl, h);
			ovio__local_abort(x.lf);
			if (rv != 0) {
				return (fail_local(local, rv));
			}
			return (reportf(EXIT_OTHER, local,
			    "%s: local: shorter than %s (%llu bytes) already "
			    "is: nothing to continue",
			    local, remote, (unsigned long long) from));
		}
	}
	x.base = from;
	ovio__progress_start(&x.p, "put", remote, size > 0 ? size : 0);
	x.p.quiet = c->quiet;
	if (size >= 0) {
		rv    = ovio_write_stream(cl, h, from, (uint64_t) size - from,
		       c->chunk, c->window, local_fill, on_progress, &x);
		total = (uint64_t) size - from;
	} else {
		total = from;
		rv    = put_stream(c, cl, h, &x, &total);
		total -= from;
	}
	if (rv == 0) {
		rv = ovio_flush(cl, h); /* acknowledged means on disk */
	}
	/* Only a complete upload replaces REMOTE; else it is discarded. */
	rv2 = rv == 0 && !c->resume ? ovio_close_commit(cl, h)
	                            : ovio_close(cl, h);
	return (put_end(c, &x, local, remote, rv != 0 ? rv : rv2, total));
}

/*
 * Reads a stream (a FIFO, say) in order, one request in flight, until a
 * read returns no bytes: a short read only means that is what was there.
 * Reading starts at *total, which ends past the last byte.
 */
static int
get_stream(cli *c, ovio_client *cl, uint64_t h, xfer *x, uint64_t *total)
{
	size_t   chunk = c->chunk != 0 ? c->chunk : (1u << 20);
	uint8_t *buf;
	size_t   got;
	int      rv = 0;

	if ((buf = malloc(chunk)) == NULL) {
		return (OVIO_ENOMEM);
	}
	for (;;) {
		if ((rv = ovio_pread(cl, h, buf, chunk, *total, &got)) != 0
		    || got == 0) {
			break;
		}
		if ((rv = local_sink(x, *total, buf, got)) != 0) {
			break;
		}
		*total += got;
		ovio__progress_update(&x->p, *total);
	}
	free(buf);
	return (rv);
}

/*
 * get --streams (and put's, below): one file moved over several
 * connections at once, for when one connection's transport is the limit.
 * The range [from, size) is cut into one contiguous part per stream, each
 * at least STREAM_MIN_PART bytes and one chunk; part 0 runs on the caller's
 * connection and thread,
 * the others each on a connection and a thread of their own, with the file
 * opened there again.  Each part's data goes to the local temporary file
 * at its own offset (ovio__local_pwrite).  The last part reads to the end
 * of the file, as a one-stream get does; an earlier part that ends short
 * means the remote file shrank while being read (x->remote_shrank, which
 * get_file reports; the local file is not kept).  A part that fails stops
 * the others at their next chunk.  Returns 0 or the first failing status.
 */

typedef struct part {
	cli         *c;
	xfer        *x;
	ovio_client *cl;
	uint64_t     h;
	uint64_t     offset;
	uint64_t     len;     /* UINT64_MAX: to the end of the file */
	uint64_t     done;    /* bytes so far (progress; under *mtx) */
	uint64_t     total;   /* bytes read, once finished */
	int          rv;      /* its ovio status */
	int          lerr;    /* its local error */
	bool         put;     /* put --streams: writes (else get's reads) */
	bool         shrank;  /* put: the local file ended before its size */
	nng_thread  *thr;
	nng_mtx     *mtx;     /* shared by every part: done, stop */
	struct part *all;
	unsigned     n;
	bool        *stop;
} part;

/* Whether another part failed: then this one stops at its next chunk. */
static bool
part_stopped(part *pt)
{
	bool stop;

	nng_mtx_lock(pt->mtx);
	stop = *pt->stop;
	nng_mtx_unlock(pt->mtx);
	return (stop);
}

static int
part_sink(void *arg, uint64_t offset, const void *data, size_t len)
{
	part *pt = arg;
	int   rv;

	if (part_stopped(pt)) {
		return (OVIO_ECANCELED); /* another part failed */
	}
	if ((rv = ovio__local_pwrite(pt->x->lf, data, len, offset)) != 0) {
		pt->lerr = rv;
		return (OVIO_EIO);
	}
	return (0);
}

/* put --streams: each chunk read at its own offset of the local file. */
static int
part_fill(void *arg, uint64_t offset, void *buf, size_t len)
{
	part  *pt = arg;
	size_t got;
	int    rv;

	if (part_stopped(pt)) {
		return (OVIO_ECANCELED); /* another part failed */
	}
	if ((rv = ovio__local_pread(pt->x->lf, buf, len, offset, &got)) != 0) {
		pt->lerr = rv;
		return (OVIO_EIO);
	}
	if (got != len) {
		pt->shrank = true;
		return (OVIO_EIO);
	}
	return (0);
}

static void
part_progress(void *arg, uint64_t done)
{
	part    *pt  = arg;
	uint64_t sum = 0;
	unsigned i;

	nng_mtx_lock(pt->mtx);
	pt->done = done;
	for (i = 0; i < pt->n; i++) {
		sum += pt->all[i].done;
	}
	ovio__progress_update(&pt->x->p, pt->x->base + sum);
	nng_mtx_unlock(pt->mtx);
}

static void
part_run(void *arg)
{
	part *pt = arg;

	if (pt->put) {
		pt->rv    = ovio_write_stream(pt->cl, pt->h, pt->offset, pt->len,
		       pt->c->chunk, pt->c->window, part_fill, part_progress, pt);
		pt->total = pt->rv == 0 ? pt->len : 0;
	} else {
		pt->rv = ovio_read_stream(pt->cl, pt->h, pt->offset, pt->len,
		    pt->c->chunk, pt->c->window, part_sink, part_progress, pt,
		    &pt->total);
	}
	if (pt->rv != 0) {
		nng_mtx_lock(pt->mtx);
		*pt->stop = true;
		nng_mtx_unlock(pt->mtx);
	}
}

/*
 * Opens the parts' connections and handles: as many as can be had, at
 * least part 0 (the caller's).  A connection the service refuses (its
 * limit of sessions per peer, say) only means fewer streams.
 */
static unsigned
parts_open(cli *c, const char *remote, uint32_t flags, part *pt, unsigned n)
{
	unsigned i;

	for (i = 1; i < n; i++) {
		if (ovio_connect_opts(&pt[i].cl, c->endpoint, &c->conn) != 0) {
			break;
		}
		if ((c->timeout_ms != 0
		        && ovio_set_timeout(pt[i].cl, (int) c->timeout_ms) != 0)
		    || ovio_open(pt[i].cl, remote, flags, 0, &pt[i].h) != 0) {
			ovio_disconnect(pt[i].cl);
			break;
		}
	}
	return (i);
}

/*
 * Runs [from, size) of one file as parts over several connections: get's
 * reads (put false) or put's writes (put true, on a file opened for
 * writing: each further part's handle is flushed before it is closed, so
 * that a 0 means every byte is on the service's disk, the caller's
 * handle h flushed by the caller).  path is the file the further parts
 * open (put's hidden file); notices name x->p.name.  *total is the bytes
 * moved.
 */
static int
streams_run(cli *c, ovio_client *cl, uint64_t h, const char *path, xfer *x,
    uint64_t from, uint64_t size, bool put, uint64_t *total)
{
	part     pt[MAX_STREAMS];
	nng_mtx *mtx;
	bool     stop = false, shrank = false;
	uint64_t span = size - from, each;
	uint64_t chunk    = c->chunk != 0 ? c->chunk : (1u << 20);
	uint64_t part_min = chunk > STREAM_MIN_PART ? chunk : STREAM_MIN_PART;
	unsigned n        = c->streams, want, i;
	int      rv       = 0, rv2;

	/* Each part at least STREAM_MIN_PART, and at least one chunk. */
	if (span / part_min < n) {
		n = (unsigned) (span / part_min);
	}
	want = n < 1 ? 1 : n;
	if ((rv = nng_mtx_alloc(&mtx)) != 0) {
		return (OVIO_ENOMEM);
	}
	memset(pt, 0, sizeof(pt));
	pt[0].cl = cl;
	pt[0].h  = h;
	n        = parts_open(
            c, path, put ? OVIO_OPEN_WRITE : OVIO_OPEN_READ, pt, want);
	if (n < want && !c->quiet) {
		notice("%s: %u of %u streams (the service refused more "
		       "connections)",
		    x->p.name, n, want); /* REMOTE as the user named it */
	}
	/* Parts of whole chunks, the last to the end of the file. */
	each = span / n;
	each -= each % chunk;
	for (i = 0; i < n; i++) {
		pt[i].c      = c;
		pt[i].x      = x;
		pt[i].put    = put;
		pt[i].offset = from + each * i;
		pt[i].len    = i + 1 < n ? each
		               : put     ? size - pt[i].offset
		                         : UINT64_MAX;
		pt[i].mtx    = mtx;
		pt[i].all    = pt;
		pt[i].n      = n;
		pt[i].stop   = &stop;
	}
	for (i = 1; i < n; i++) {
		if (nng_thread_create(&pt[i].thr, part_run, &pt[i]) != 0) {
			pt[i].thr = NULL;
			part_run(&pt[i]); /* no thread: in turn, here */
		}
	}
	part_run(&pt[0]);
	*total = 0;
	for (i = 0; i < n; i++) {
		if (i > 0) {
			if (pt[i].thr != NULL) {
				nng_thread_destroy(pt[i].thr); /* joins it */
			}
			if (put && pt[i].rv == 0 && !part_stopped(&pt[i])) {
				pt[i].rv = ovio_flush(pt[i].cl, pt[i].h);
			}
			rv2 = ovio_close(pt[i].cl, pt[i].h);
			if (put && pt[i].rv == 0) {
				pt[i].rv = rv2; /* a write's error told at close */
			}
			ovio_disconnect(pt[i].cl);
		}
		if (x->lerr == 0 && pt[i].lerr != 0) {
			x->lerr = pt[i].lerr;
		}
		if (pt[i].shrank) {
			x->shrank = true;
		}
		if (rv == 0 && pt[i].rv != 0 && pt[i].rv != OVIO_ECANCELED) {
			rv = pt[i].rv;
		}
		if (!put && pt[i].rv == 0 && i + 1 < n
		    && pt[i].total < pt[i].len) {
			shrank = true;
		}
		*total += pt[i].total;
	}
	nng_mtx_free(mtx);
	if (rv == 0 && stop) {
		rv = OVIO_ECANCELED; /* only a local failure stopped them */
	}
	if (rv == 0 && shrank) {
		x->remote_shrank = true;
		rv               = OVIO_EIO;
	}
	return (rv);
}

#define PUT_TEMP_TRIES 4 /* hidden names tried (EEXIST) */

/*
 * The hidden file's name: REMOTE's folder (up to the last '/' or '\\', a
 * Windows service's separators too), then ".NAME.ovio-put-" and 16 hex
 * digits, or without NAME (".ovio-put-...") with short_form.
 */
static void
put_temp_name(const char *remote, bool short_form, char *tmp, size_t len)
{
	const char *base = remote, *p;

	for (p = remote; *p != '\0'; p++) {
		if (*p == '/' || *p == '\\') {
			base = p + 1;
		}
	}
	snprintf(tmp, len, "%.*s.%s%sovio-put-%08x%08x", (int) (base - remote),
	    remote, short_form ? "" : base, short_form ? "" : ".", nng_random(),
	    nng_random());
}

/*
 * put --streams: LOCAL, a regular file of two parts or more, sent over
 * several connections at once (streams_run).  OVIO_OPEN_TEMP's nameless
 * file belongs to the one connection that opened it, so the parts go to a
 * hidden file beside REMOTE instead (put_temp_name; made new:
 * OVIO_OPEN_EXCL), opened again on each part's connection.  Once every
 * part is written, flushed and closed, it is renamed onto REMOTE: atomic,
 * and with --no-clobber only where nothing is (EEXIST, REMOTE kept; this
 * needs rename's no-replace, which most local file systems have).  On any
 * failure it is removed, or named on stderr if it cannot be (the
 * connection gone).  Unlike OPEN_TEMP's file, a client killed midway
 * leaves it behind.  put_file sends a REMOTE longer than
 * PUT_STREAMS_PATH_MAX in one stream.  Returns 0 or the exit status of the
 * failure it reported.
 */
static int
put_streams(cli *c, ovio_client *cl, const char *local, const char *remote,
    xfer *x, uint64_t size)
{
	char      tmp[4096 + 64];
	ovio_stat st;
	uint64_t  h, total = 0;
	bool      short_form = false;
	int       rv, rv2, tries;

	/* A folder there: refused before anything is sent, as put does. */
	if (ovio_stat_path(cl, remote, &st) == 0 && st.type == OVIO_TYPE_DIR) {
		ovio__local_abort(x->lf);
		return (fail_remote(remote, OVIO_EISDIR));
	}
	for (tries = 0;; tries++) {
		put_temp_name(remote, short_form, tmp, sizeof(tmp));
		rv = ovio_open(cl, tmp,
		    OVIO_OPEN_WRITE | OVIO_OPEN_CREATE | OVIO_OPEN_EXCL, 0, &h);
		if (rv == OVIO_ENAMETOOLONG && !short_form) {
			short_form = true; /* NAME and the suffix too long */
		} else if (rv != OVIO_EEXIST || tries + 1 >= PUT_TEMP_TRIES) {
			break;
		}
	}
	if (rv != 0) {
		ovio__local_abort(x->lf);
		return (fail_remote(remote, rv));
	}
	ovio__progress_start(&x->p, "put", remote, size);
	x->p.quiet = c->quiet;
	rv         = streams_run(c, cl, h, tmp, x, 0, size, true, &total);
	if (rv == 0) {
		rv = ovio_flush(cl, h); /* acknowledged means on disk */
	}
	rv2 = ovio_close(cl, h);
	if (rv == 0) {
		rv = rv2;
	}
	if (rv == 0) {
		rv = ovio_rename(
		    cl, tmp, remote, c->no_clobber ? 0 : OVIO_NS_REPLACE);
	}
	if (rv != 0 && (rv2 = ovio_remove(cl, tmp)) != 0
	    && rv2 != OVIO_ENOENT) {
		/* The connection is gone, say: the user must know. */
		notice("%s: remote: the partial upload %s is left behind (%s)",
		    remote, tmp, ovio_errname(rv2));
	}
	return (put_end(c, x, local, remote, rv, total));
}

/*
 * REMOTE to local over cl, where local "-" is standard output.  The remote
 * file is opened first; only then is the local side touched: through
 * ovio__local_create (a temporary file renamed into place on success, or a
 * special file written in place), or with --continue through
 * ovio__local_open_append (the local file kept and written from its end,
 * in place, the remote file read from that offset).  --no-clobber refuses
 * a local file that exists, before and when renaming.  Returns 0 or the
 * exit status of the failure it reported.
 */
static int
get_file(cli *c, ovio_client *cl, const char *remote, const char *local,
    const char *verb)
{
	ovio_stat st;
	xfer      x;
	uint64_t  h, from = 0, total = 0;
	bool      stream, out = strcmp(local, "-") == 0;
	int       rv, rv2, type;

	memset(&x, 0, sizeof(x));
	if ((rv = ovio_open(cl, remote, OVIO_OPEN_READ, 0, &h)) != 0) {
		return (fail_remote(remote, rv));
	}
	/* Not a regular file (or unknown): a stream, read in order. */
	stream = ovio_fstat(cl, h, &st) != 0 || st.type != OVIO_TYPE_FILE;
	if (c->no_clobber && !out
	    && ((rv = ovio__local_type(local, &type)) != 0
	        || type != OVIO__LOCAL_NONE)) {
		(void) ovio_close(cl, h);
		if (rv != 0) {
			return (fail_local(local, rv));
		}
		return (fail_exists(local, "local", "exists, not replaced"));
	}
	if (c->resume && !out) {
		rv = ovio__local_open_append(local, &x.lf, &from);
	} else {
		rv = ovio__local_create(local, &x.lf);
	}
	if (rv != 0) {
		(void) ovio_close(cl, h);
		return (fail_local(local, rv));
	}
	if (c->no_clobber) {
		ovio__local_noreplace(x.lf);
	}
	if (from > 0 && (stream || from > st.size)) {
		(void) ovio_close(cl, h);
		ovio__local_abort(x.lf);
		return (reportf(EXIT_OTHER, local,
		    "%s: local: %llu bytes already, %s: nothing to continue",
		    local, (unsigned long long) from,
		    stream ? "the remote file is a stream"
		           : "more than the remote file has"));
	}
	x.base = from;
	ovio__progress_start(&x.p, verb, remote, stream ? 0 : st.size);
	x.p.quiet = c->quiet;
	if (stream) {
		rv = get_stream(c, cl, h, &x, &total);
	} else if (c->streams > 1 && ovio__local_is_temporary(x.lf)
	           && st.size - from >= 2 * (uint64_t) STREAM_MIN_PART) {
		rv = streams_run(
		    c, cl, h, remote, &x, from, st.size, false, &total);
	} else {
		rv = ovio_read_stream(cl, h, from, UINT64_MAX, c->chunk,
		    c->window, local_sink, on_progress, &x, &total);
	}
	rv2 = ovio_close(cl, h);
	ovio__progress_end(&x.p, rv == 0 && rv2 == 0 && x.lerr == 0);
	if (x.lerr != 0 || rv != 0 || rv2 != 0) {
		ovio__local_abort(x.lf);
		if (x.lerr != 0) {
			return (fail_local(local, x.lerr));
		}
		if (x.remote_shrank) {
			return (reportf(EXIT_REMOTE, remote,
			    "%s: remote: the file shrank while being read; "
			    "%s not written",
			    remote, local));
		}
		return (fail_remote(remote, rv != 0 ? rv : rv2));
	}
	if ((rv = ovio__local_finish(x.lf)) != 0) {
		if (c->no_clobber && ovio__local_is_exists(rv)) {
			return (fail_exists(
			    local, "local", "exists, not replaced"));
		}
		return (fail_local(local, rv));
	}
	c->files++;
	c->bytes += total;
	return (0);
}

static const char *
type_name(uint32_t t)
{
	switch (t) {
	case OVIO_TYPE_FILE:
		return ("file");
	case OVIO_TYPE_DIR:
		return ("directory");
	case OVIO_TYPE_FIFO:
		return ("fifo");
	case OVIO_TYPE_LINK:
		return ("link");
	}
	return ("other");
}

/*
 * mtime_ns as UTC, "2024-05-01 12:34:56.123456789 UTC" for people (iso
 * false) or ISO 8601, "2024-05-01T12:34:56.123456789Z" (iso true).
 */
static void
format_mtime(char *buf, size_t len, int64_t ns, bool iso)
{
	int64_t    sec = ns / 1000000000, frac = ns % 1000000000;
	time_t     t;
	struct tm *tm;
	char       day[32];

	if (frac < 0) {
		frac += 1000000000;
		sec--;
	}
	t = (time_t) sec;
	if ((tm = gmtime(&t)) == NULL
	    || strftime(day, sizeof(day),
	           iso ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", tm)
	           == 0) {
		snprintf(buf, len, "%lld", (long long) ns);
		return;
	}
	snprintf(
	    buf, len, "%s.%09lld%s", day, (long long) frac, iso ? "Z" : " UTC");
}

/* ovio__remote_path, or says why not; returns 0 or the exit status. */
static int
remote_path_or_fail(const char *in, char *out, size_t cap, bool root_ok)
{
	int  rv = ovio__remote_path(in, out, cap);
	char msg[4096 + 256];

	if (rv != 0) {
		snprintf(msg, sizeof(msg), "%.4096s: remote: %s: %s", in,
		    ovio_errname(rv), ovio_strerror(rv));
		return (report(rv == OVIO_ENAMETOOLONG ? EXIT_USAGE : EXIT_PERM,
		    in, "remote", ovio_errname(rv), msg));
	}
	if (!root_ok && out[0] == '\0') {
		return (reportf(EXIT_USAGE, in,
		    "%.4096s: names the service's root itself", in));
	}
	return (0);
}

#define REMOTE_MAX 4096

static int
cmd_stat(cli *c)
{
	ovio_client *cl;
	ovio_stat    st;
	char         when[64], path[REMOTE_MAX];
	int          rv;

	if ((rv = remote_path_or_fail(c->argv[0], path, sizeof(path), true))
	        != 0
	    || (rv = connect_or_fail(c, &cl)) != 0) {
		return (rv);
	}
	/* The root itself is "." to the service. */
	rv = ovio_stat_path(cl, path[0] != '\0' ? path : ".", &st);
	ovio_disconnect(cl);
	if (rv != 0) {
		return (fail_remote(c->argv[0], rv));
	}
	format_mtime(when, sizeof(when), st.mtime_ns, c->json);
	if (c->json) {
		printf("{\"path\": ");
		json_str(stdout, c->argv[0]);
		printf(", \"size\": %llu, \"type\": \"%s\", "
		       "\"mode\": \"%04o\", \"mtime_ns\": %lld, "
		       "\"mtime\": \"%s\"}\n",
		    (unsigned long long) st.size, type_name(st.type), st.mode,
		    (long long) st.mtime_ns, when);
	} else {
		fputs("path:  ", stdout);
		put_name(stdout, c->argv[0]);
		printf("\nsize:  %llu\ntype:  %s\nmode:  %04o\nmtime: %s\n",
		    (unsigned long long) st.size, type_name(st.type), st.mode,
		    when);
	}
	return (0);
}

/* ---- the namespace: ls, mkdir, rm, mv ---- */

/*
 * "drwxr-xr-x"-style type and mode, as ls(1) shows them: setuid and setgid
 * as s (S without x) in the owner's and group's x place, sticky as t (T).
 */
static void
format_mode(char *buf, uint32_t type, uint32_t mode)
{
	static const char rwx[] = "rwxrwxrwx";
	static const char set[] = "sst"; /* 04000, 02000, 01000 */
	int               i;

	buf[0] = type == OVIO_TYPE_DIR    ? 'd'
	         : type == OVIO_TYPE_LINK ? 'l'
	         : type == OVIO_TYPE_FIFO ? 'p'
	         : type == OVIO_TYPE_FILE ? '-'
	                                  : '?';
	for (i = 0; i < 9; i++) {
		buf[1 + i] = (mode & (0400u >> i)) ? rwx[i] : '-';
	}
	for (i = 0; i < 3; i++) {
		if (mode & (04000u >> i)) {
			char *x = &buf[3 + 3 * i];

			*x = *x == '-' ? (char) (set[i] - 'a' + 'A') : set[i];
		}
	}
	buf[10] = '\0';
}

typedef struct ls_state {
	cli        *c;
	const char *path;
	bool        first;
} ls_state;

/*
 * ls --json: {"path": P, "entries": [...]}, begun at the first entry (or at
 * the end of an empty listing), so a listing refused at once writes no
 * JSON to stdout, only the error to stderr.
 */
static void
ls_json_begin(ls_state *s)
{
	printf("{\"path\": ");
	json_str(stdout, s->path[0] != '\0' ? s->path : "/");
	printf(", \"entries\": [");
}

static void
ls_print(ls_state *s, const ovio_dirent *e)
{
	char when[64], mode[11];

	if (s->c->json) {
		format_mtime(when, sizeof(when), e->mtime_ns, true);
		if (s->first) {
			ls_json_begin(s);
		}
		printf("%s\n    {\"name\": ", s->first ? "" : ",");
		if (!json_str(stdout, e->name)) {
			printf(", \"name_hex\": \"");
			for (const unsigned char *p
			     = (const unsigned char *) e->name;
			     *p != '\0'; p++) {
				printf("%02x", *p);
			}
			printf("\"");
		}
		printf(
		    ", \"type\": \"%s\", \"size\": %llu, \"mode\": \"%04o\", "
		    "\"mtime_ns\": %lld, \"mtime\": \"%s\"}",
		    type_name(e->type), (unsigned long long) e->size, e->mode,
		    (long long) e->mtime_ns, when);
	} else if (s->c->long_list) {
		format_mtime(when, sizeof(when), e->mtime_ns, false);
		when[19] = '\0'; /* to the second */
		format_mode(mode, e->type, e->mode);
		printf(
		    "%s %12llu %s ", mode, (unsigned long long) e->size, when);
		put_name(stdout, e->name);
		putchar('\n');
	} else {
		put_name(stdout, e->name);
		putchar('\n');
	}
	s->first = false;
}

static int
ls_entry(void *arg, const ovio_dirent *e)
{
	ls_print(arg, e);
	return (0);
}

static int
cmd_ls(cli *c)
{
	char         path[REMOTE_MAX];
	const char  *arg = c->argc > 0 ? c->argv[0] : "";
	ovio_client *cl;
	ovio_stat    st;
	ls_state     s = { c, path, true };
	int          rv;

	if ((rv = remote_path_or_fail(arg, path, sizeof(path), true)) != 0
	    || (rv = connect_or_fail(c, &cl)) != 0) {
		return (rv);
	}
	rv = ovio_list(cl, path, ls_entry, &s);
	if (rv == OVIO_ENOTDIR && s.first
	    && ovio_stat_path(cl, path, &st) == 0) {
		/* A file lists as itself, as ls does. */
		ovio_dirent e
		    = { path, st.type, st.mode, st.size, st.mtime_ns };
		ls_print(&s, &e);
		rv = 0;
	}
	ovio_disconnect(cl);
	if (c->json && !s.first) {
		printf("\n  ]}\n"); /* closed even when a later page failed */
	} else if (c->json && rv == 0) {
		ls_json_begin(&s);
		printf("]}\n");
	}
	fflush(stdout);
	return (rv != 0 ? fail_remote(arg, rv) : 0);
}

static int
cmd_mkdir(cli *c)
{
	char         path[REMOTE_MAX];
	ovio_client *cl;
	int          rv;

	if ((rv = remote_path_or_fail(
	         c->argv[0], path, sizeof(path), c->parents))
	    != 0) {
		return (rv);
	}
	if (path[0] == '\0') {
		return (0); /* -p of the root: it is there */
	}
	if ((rv = connect_or_fail(c, &cl)) != 0) {
		return (rv);
	}
	rv = ovio_mkdir(cl, path, c->parents ? OVIO_NS_PARENTS : 0, 0);
	ovio_disconnect(cl);
	return (rv != 0 ? fail_remote(c->argv[0], rv) : 0);
}

/* The names of a folder, listed in full before anything is removed. */
typedef struct name_list {
	char    **v;
	uint32_t *type;
	size_t    n, cap;
} name_list;

static int
name_add(void *arg, const ovio_dirent *e)
{
	name_list *l = arg;

	if (l->n == l->cap) {
		size_t    cap = l->cap ? l->cap * 2 : 64;
		char    **v   = realloc(l->v, cap * sizeof(*v));
		uint32_t *t;
		if (v == NULL) {
			return (OVIO_ENOMEM);
		}
		l->v = v;
		if ((t = realloc(l->type, cap * sizeof(*t))) == NULL) {
			return (OVIO_ENOMEM);
		}
		l->type = t;
		l->cap  = cap;
	}
	if ((l->v[l->n] = strdup(e->name)) == NULL) {
		return (OVIO_ENOMEM);
	}
	l->type[l->n++] = e->type;
	return (0);
}

static void
name_list_free(name_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i]);
	}
	free(l->v);
	free(l->type);
}

/*
 * Removes path and, when it is a folder that is not empty, everything in
 * it first.  A link is removed itself, never followed: only what the
 * service says is a folder (ENOTEMPTY from the remove) is walked into.
 * *where is the path that failed.
 */
static int
rm_tree(ovio_client *cl, const char *path, char *where, size_t cap)
{
	name_list l;
	char     *sub;
	size_t    i;
	int       rv;

	if ((rv = ovio_remove(cl, path)) != OVIO_ENOTEMPTY) {
		if (rv != 0) {
			snprintf(where, cap, "%s", path);
		}
		return (rv);
	}
	memset(&l, 0, sizeof(l));
	if ((rv = ovio_list(cl, path, name_add, &l)) != 0) {
		snprintf(where, cap, "%s", path);
	}
	for (i = 0; i < l.n && rv == 0; i++) {
		size_t len = strlen(path) + strlen(l.v[i]) + 2;
		if ((sub = malloc(len)) == NULL) {
			rv = OVIO_ENOMEM;
			break;
		}
		snprintf(sub, len, "%s/%s", path, l.v[i]);
		if (l.type[i] == OVIO_TYPE_DIR) {
			rv = rm_tree(cl, sub, where, cap);
		} else if ((rv = ovio_remove(cl, sub)) != 0) {
			snprintf(where, cap, "%s", sub);
		}
		free(sub);
	}
	name_list_free(&l);
	if (rv == 0 && (rv = ovio_remove(cl, path)) != 0) {
		snprintf(where, cap, "%s", path);
	}
	return (rv);
}

static int
cmd_rm(cli *c)
{
	char         path[REMOTE_MAX], where[REMOTE_MAX];
	ovio_client *cl;
	int          i, rv, first = 0;

	for (i = 0; i < c->argc; i++) {
		if ((rv = remote_path_or_fail(
		         c->argv[i], path, sizeof(path), false))
		    != 0) {
			return (rv);
		}
	}
	if ((rv = connect_or_fail(c, &cl)) != 0) {
		return (rv);
	}
	for (i = 0; i < c->argc; i++) {
		(void) ovio__remote_path(c->argv[i], path, sizeof(path));
		if (c->recursive) {
			rv = rm_tree(cl, path, where, sizeof(where));
		} else {
			rv = ovio_remove(cl, path);
			snprintf(where, sizeof(where), "%s", c->argv[i]);
		}
		if (rv != 0) {
			/* Go on with the others, as rm does; the first failure
			 * gives the exit status. */
			rv    = fail_remote(where, rv);
			first = first != 0 ? first : rv;
		}
	}
	ovio_disconnect(cl);
	return (first);
}

static int
cmd_mv(cli *c)
{
	char         from[REMOTE_MAX], to[REMOTE_MAX + REMOTE_MAX];
	ovio_client *cl;
	ovio_stat    st;
	const char  *base;
	size_t       n;
	int          rv;
	bool         dst_missing;

	if ((rv = remote_path_or_fail(c->argv[0], from, sizeof(from), false))
	        != 0
	    || (rv = remote_path_or_fail(c->argv[1], to, REMOTE_MAX, true))
	           != 0) {
		return (rv);
	}
	if ((rv = connect_or_fail(c, &cl)) != 0) {
		return (rv);
	}
	/* Into a folder when DST is one (or ends with "/"), as mv does. */
	n = strlen(c->argv[1]);
	if (to[0] == '\0' || (n > 0 && c->argv[1][n - 1] == '/')
	    || (ovio_stat_path(cl, to, &st) == 0 && st.type == OVIO_TYPE_DIR)) {
		base = strrchr(from, '/');
		base = base != NULL ? base + 1 : from;
		n    = strlen(to);
		snprintf(
		    to + n, sizeof(to) - n, "%s%s", n > 0 ? "/" : "", base);
	}
	rv = ovio_rename(cl, from, to, c->force ? OVIO_NS_REPLACE : 0);
	/* ENOENT with SRC there: what is missing is DST's folder. */
	dst_missing = rv == OVIO_ENOENT && ovio_stat_path(cl, from, &st) == 0;
	ovio_disconnect(cl);
	if (rv == OVIO_EEXIST && !c->force) {
		/* Kept, as --no-clobber keeps a target: exit 8. */
		(void) fail_remote(to, rv);
		return (EXIT_EXISTS);
	}
	return (rv != 0 ? fail_remote(dst_missing ? c->argv[1] : c->argv[0], rv)
	                : 0);
}

/* ---- several files and trees: put and get as cp and scp do ---- */

/*
 * Whether c separates a path's components: "/" on both sides, and for a
 * local path whatever else this OS takes (ovio__local_is_sep: "\\" on
 * Windows).  A remote path has "/" only (ovio__remote_path): on a POSIX service
 * "a\\b" is one name.
 */
static bool
is_sep(char ch, bool local)
{
	return (ch == '/' || (local && ovio__local_is_sep(ch)));
}

/* Whether a name ends with a separator ("dir/"): it must be a folder. */
static bool
ends_with_sep(const char *p, bool local)
{
	size_t n = strlen(p);

	return (n > 0 && is_sep(p[n - 1], local));
}

/*
 * The last component of a local or remote path, separators at its end
 * ignored, into out: "a/b/" is "b".  "" for the root or "/".
 */
static void
base_name(const char *p, bool local, char *out, size_t cap)
{
	size_t end = strlen(p), start;

	while (end > 0 && is_sep(p[end - 1], local)) {
		end--;
	}
	start = end;
	while (start > 0 && !is_sep(p[start - 1], local)) {
		start--;
	}
	snprintf(out, cap, "%.*s", (int) (end - start), p + start);
}

/*
 * dir + "/" + name into a new string (dir "" or "-": name), dir a local
 * path or a remote one (ends_with_sep); NULL: ENOMEM.
 */
static char *
join(const char *dir, const char *name, bool local)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char  *s = malloc(n);

	if (s != NULL) {
		if (dir[0] == '\0') {
			snprintf(s, n, "%s", name);
		} else {
			snprintf(s, n, "%s%s%s", dir,
			    ends_with_sep(dir, local) ? "" : "/", name);
		}
	}
	return (s);
}

/*
 * A remote folder's entry that may not be made here: it would leave the
 * local folder ("..", or a separator of this OS in it).
 */
static bool
bad_entry_name(const char *n)
{
	for (const char *p = n; *p != '\0'; p++) {
		if (is_sep(*p, true)) {
			return (true);
		}
	}
	return (n[0] == '\0' || strcmp(n, ".") == 0 || strcmp(n, "..") == 0);
}

/*
 * put -r: the local folder dir to the remote folder rdir (made, with its
 * parents, if missing).  Links are followed, as scp does; FIFOs, devices
 * and sockets are skipped with a notice.  Every entry is tried; failures
 * are reported and noted in c->first.
 */
static void
put_tree(cli *c, ovio_client *cl, const char *dir, const char *rdir, int depth)
{
	char **names;
	size_t n, i;
	int    rv, type;

	if (depth > MAX_DEPTH) {
		note(c, reportf(EXIT_OTHER, dir,
		            "%s: local: more than %d folders deep (a link "
		            "loop?): skipped",
		            dir, MAX_DEPTH));
		return;
	}
	if (rdir[0] != '\0'
	    && (rv = ovio_mkdir(cl, rdir, OVIO_NS_PARENTS, 0)) != 0) {
		note(c, fail_remote(rdir, rv));
		return;
	}
	if ((rv = ovio__local_names(dir, &names, &n)) != 0) {
		note(c, fail_local(dir, rv));
		return;
	}
	for (i = 0; i < n; i++) {
		char *l = join(dir, names[i], true);
		char *r = join(rdir, names[i], false);

		if (l == NULL || r == NULL) {
			note(c, reportf(EXIT_OTHER, NULL, "out of memory"));
		} else if ((rv = ovio__local_type(l, &type)) != 0) {
			note(c, fail_local(l, rv));
		} else if (type == OVIO__LOCAL_DIR) {
			put_tree(c, cl, l, r, depth + 1);
		} else if (type == OVIO__LOCAL_FILE) {
			note(c, put_file(c, cl, l, r));
		} else if (type == OVIO__LOCAL_NONE) {
			note(
			    c, reportf(EXIT_NOTFOUND, l,
			           "%s: local: a link to nothing: skipped", l));
		} else if (!c->quiet) {
			notice("%s: not a file or folder: skipped", l);
		}
		free(l);
		free(r);
	}
	ovio__local_names_free(names, n);
}

/*
 * get -r: the remote folder rdir to the local folder dir (made if
 * missing).  Files and links are fetched (the service opens a link that
 * stays inside its root); FIFOs and other kinds are skipped with a notice.
 * Every entry is tried; failures are reported and noted in c->first.
 */
static void
get_tree(cli *c, ovio_client *cl, const char *rdir, const char *dir, int depth)
{
	name_list l;
	size_t    i;
	int       rv;

	if (depth > MAX_DEPTH) {
		note(c, reportf(EXIT_OTHER, rdir,
		            "%s: remote: more than %d folders deep: skipped",
		            rdir, MAX_DEPTH));
		return;
	}
	if ((rv = ovio__local_mkdir(dir)) != 0) {
		note(c, fail_local(dir, rv));
		return;
	}
	memset(&l, 0, sizeof(l));
	if ((rv = ovio_list(cl, rdir, name_add, &l)) != 0) {
		note(c, fail_remote(rdir[0] != '\0' ? rdir : "/", rv));
		name_list_free(&l);
		return;
	}
	for (i = 0; i < l.n; i++) {
		char *r  = join(rdir, l.v[i], false);
		char *lp = join(dir, l.v[i], true);

		if (r == NULL || lp == NULL) {
			note(c, reportf(EXIT_OTHER, NULL, "out of memory"));
		} else if (bad_entry_name(l.v[i])) {
			note(c, reportf(EXIT_PERM, r,
			            "%s: remote: a name that would leave the "
			            "folder: skipped",
			            r));
		} else if (l.type[i] == OVIO_TYPE_DIR) {
			get_tree(c, cl, r, lp, depth + 1);
		} else if (l.type[i] == OVIO_TYPE_FILE
		           || l.type[i] == OVIO_TYPE_LINK) {
			note(c, get_file(c, cl, r, lp, "get"));
		} else if (!c->quiet) {
			notice("%s: not a file or folder: skipped", r);
		}
		free(r);
		free(lp);
	}
	name_list_free(&l);
}

/* put --json / get --json: what was moved, once everything was. */
static void
xfer_summary(cli *c, double seconds)
{
	if (c->json && c->first == 0) {
		printf("{\"files\": %llu, \"bytes\": %llu, \"seconds\": "
		       "%.3f}\n",
		    (unsigned long long) c->files,
		    (unsigned long long) c->bytes, seconds);
	}
}

static double
now_s(void)
{
	return ((double) nng_clock() / 1000.0);
}

/*
 * ovio put [-r] LOCAL... REMOTE.  As cp and scp: into REMOTE when it is a
 * folder (or ends with "/", or is the root), else to REMOTE itself; several
 * sources need a folder.  -r with one folder: REMOTE/NAME when REMOTE is a
 * folder, else REMOTE itself, made.  One connection for everything.
 */
static int
cmd_put(cli *c)
{
	const char  *dst = c->argv[c->argc - 1];
	char         rdst[REMOTE_MAX], base[REMOTE_MAX];
	int          nsrc = c->argc - 1, i, rv, type;
	ovio_client *cl;
	ovio_stat    st;
	bool         isdir, into;
	double       t0 = now_s();

	if ((rv = remote_path_or_fail(dst, rdst, sizeof(rdst), true)) != 0) {
		return (rv);
	}
	for (i = 0; i < nsrc; i++) {
		if (strcmp(c->argv[i], "-") == 0
		    && (nsrc > 1 || ends_with_sep(dst, false)
		        || rdst[0] == '\0')) {
			return (reportf(EXIT_USAGE, "-",
			    "put: - (standard input) goes to a file named "
			    "as the target, alone"));
		}
	}
	if ((rv = connect_or_fail(c, &cl)) != 0) {
		return (rv);
	}
	isdir = rdst[0] == '\0'
	        || (ovio_stat_path(cl, rdst, &st) == 0
	            && st.type == OVIO_TYPE_DIR);
	into = isdir || ends_with_sep(dst, false);
	if (nsrc > 1 && !isdir) {
		ovio_disconnect(cl);
		return (reportf(EXIT_USAGE, dst,
		    "put: target %s is not a folder (several sources need one)",
		    dst));
	}
	for (i = 0; i < nsrc; i++) {
		const char *src = c->argv[i];
		char       *to;

		type = OVIO__LOCAL_OTHER; /* "-" */
		if (strcmp(src, "-") != 0
		    && (rv = ovio__local_type(src, &type)) != 0) {
			note(c, fail_local(src, rv));
			continue;
		}
		base_name(src, true, base, sizeof(base));
		if (type == OVIO__LOCAL_DIR) {
			if (!c->recursive) {
				note(c, reportf(EXIT_OTHER, src,
				            "%s: local: is a folder (put -r "
				            "copies folders)",
				            src));
				continue;
			}
			/* "put -r . dst/" copies what "." holds. */
			to = isdir && strcmp(base, ".") != 0
			             && strcmp(base, "..") != 0
			             && base[0] != '\0'
			         ? join(rdst, base, false)
			         : strdup(rdst);
			if (to != NULL) {
				put_tree(c, cl, src, to, 0);
			}
		} else if (into && !isdir) {
			note(c, reportf(EXIT_NOTFOUND, dst,
			            "%s: remote: not a folder", dst));
			continue;
		} else {
			to = into ? join(rdst, base, false) : strdup(rdst);
			if (to != NULL) {
				note(c, put_file(c, cl, src, to));
			}
		}
		if (to == NULL) {
			note(c, reportf(EXIT_OTHER, NULL, "out of memory"));
		}
		free(to);
	}
	ovio_disconnect(cl);
	xfer_summary(c, now_s() - t0);
	return (c->first);
}

/*
 * ovio get [-r] REMOTE... LOCAL.  As cp and scp: into LOCAL when it is a
 * folder (or ends with "/"), else to LOCAL itself (- is standard output,
 * for one file); several sources need a folder.  -r with one folder:
 * LOCAL/NAME when LOCAL is a folder, else LOCAL itself, made.
 */
static int
cmd_get(cli *c)
{
	const char  *dst = c->argv[c->argc - 1];
	char         r[REMOTE_MAX], base[REMOTE_MAX];
	int          nsrc = c->argc - 1, i, rv, type;
	ovio_client *cl;
	ovio_stat    st;
	bool         into;
	double       t0 = now_s();

	if (strcmp(dst, "-") == 0 && (nsrc > 1 || c->recursive)) {
		return (reportf(EXIT_USAGE, "-",
		    "get: - (standard output) takes one file"));
	}
	if (strcmp(dst, "-") == 0) {
		type = OVIO__LOCAL_OTHER;
	} else if ((rv = ovio__local_type(dst, &type)) != 0) {
		return (fail_local(dst, rv));
	}
	if (nsrc > 1 && type != OVIO__LOCAL_DIR) {
		return (reportf(EXIT_USAGE, dst,
		    "get: target %s is not a folder (several sources need "
		    "one)",
		    dst));
	}
	into = type == OVIO__LOCAL_DIR || ends_with_sep(dst, true);
	for (i = 0; i < nsrc; i++) {
		if ((rv = remote_path_or_fail(
		         c->argv[i], r, sizeof(r), c->recursive))
		    != 0) {
			return (rv);
		}
	}
	if ((rv = connect_or_fail(c, &cl)) != 0) {
		return (rv);
	}
	for (i = 0; i < nsrc; i++) {
		char *to;

		(void) ovio__remote_path(c->argv[i], r, sizeof(r));
		/* The local name: no separator of this OS may stay in it. */
		base_name(r, true, base, sizeof(base));
		if (c->recursive
		    && (r[0] == '\0'
		        || (ovio_stat_path(cl, r, &st) == 0
		            && st.type == OVIO_TYPE_DIR))) {
			to = type == OVIO__LOCAL_DIR && base[0] != '\0'
			         ? join(dst, base, true)
			         : strdup(dst);
			if (to != NULL) {
				get_tree(c, cl, r, to, 0);
			}
		} else {
			to = into ? join(dst, base, true) : strdup(dst);
			if (to != NULL) {
				note(c, get_file(c, cl, r, to, "get"));
			}
		}
		if (to == NULL) {
			note(c, reportf(EXIT_OTHER, NULL, "out of memory"));
		}
		free(to);
	}
	ovio_disconnect(cl);
	if (strcmp(dst, "-") != 0) {
		xfer_summary(c, now_s() - t0);
	}
	return (c->first);
}

static int
cmd_cat(cli *c)
{
	ovio_client *cl;
	char         r[REMOTE_MAX];
	int          rv;

	if ((rv = remote_path_or_fail(c->argv[0], r, sizeof(r), false)) != 0
	    || (rv = connect_or_fail(c, &cl)) != 0) {
		return (rv);
	}
	rv = get_file(c, cl, r, "-", "cat");
	ovio_disconnect(cl);
	return (rv);
}

/* One status: a JSON line, or the lines a person reads. */
static void
status_print(const cli *c, const ovio_service_status *s)
{
	ovio_service_status st = *s;

	if (c->json) {
		printf("{\"version\": ");
		json_str(stdout, st.version);
		printf(", \"backend\": ");
		json_str(stdout, st.backend);
		printf(", \"root\": ");
		json_str(stdout, st.root);
		printf(", \"state\": ");
		json_str(stdout, st.state);
		printf(", \"sessions\": %u, \"handles\": %u, "
		       "\"ops_in_flight\": %llu, \"ops_submitted\": %llu, "
		       "\"ops_completed\": %llu, \"ops_canceled\": %llu, "
		       "\"bytes_read\": %llu, \"bytes_written\": %llu, "
		       "\"requests_rejected\": %llu, \"duplicates\": %llu, "
		       "\"uptime_ms\": %llu}\n",
		    st.sessions, st.handles,
		    (unsigned long long) st.ops_in_flight,
		    (unsigned long long) st.ops_submitted,
		    (unsigned long long) st.ops_completed,
		    (unsigned long long) st.ops_canceled,
		    (unsigned long long) st.bytes_read,
		    (unsigned long long) st.bytes_written,
		    (unsigned long long) st.requests_rejected,
		    (unsigned long long) st.duplicates,
		    (unsigned long long) st.uptime_ms);
		return;
	}
	printf("oviod %s, up %llu s\n", st.version,
	    (unsigned long long) (st.uptime_ms / 1000));
	printf("backend:        %s\n", st.backend);
	printf("state:          %s\n", st.state);
	printf("root:           %s\n",
	    st.root[0] != '\0' ? st.root : "(not disclosed by the service)");
	printf("sessions:       %u\n", st.sessions);
	printf("handles:        %u\n", st.handles);
	printf("ops in flight:  %llu\n", (unsigned long long) st.ops_in_flight);
	printf("ops completed:  %llu of %llu submitted (%llu canceled)\n",
	    (unsigned long long) st.ops_completed,
	    (unsigned long long) st.ops_submitted,
	    (unsigned long long) st.ops_canceled);
	printf("bytes read:     %llu\n", (unsigned long long) st.bytes_read);
	printf("bytes written:  %llu\n", (unsigned long long) st.bytes_written);
	printf("rejected:       %llu\n",
	    (unsigned long long) st.requests_rejected);
	printf("duplicates:     %llu (answered from the reply cache)\n",
	    (unsigned long long) st.duplicates);
}

/*
 * status: once, or with --watch every watch_ms until interrupted (or the
 * service goes), redrawn in place on a terminal.
 */
static int
cmd_status(cli *c)
{
	ovio_client        *cl;
	ovio_service_status st;
	bool                tty = !c->json && isatty(fileno(stdout)) != 0;
	int                 rv;

	if ((rv = connect_or_fail(c, &cl)) != 0) {
		return (rv);
	}
	for (;;) {
		if ((rv = ovio_status(cl, &st)) != 0) {
			ovio_disconnect(cl);
			return (fail_remote("status", rv));
		}
		if (tty && c->watch_ms != 0) {
			fputs("\033[H\033[2J", stdout); /* home, clear */
		}
		status_print(c, &st);
		if (c->watch_ms == 0) {
			break;
		}
		if (!tty && !c->json) {
			putchar('\n');
		}
		fflush(stdout);
		nng_msleep((nng_duration) c->watch_ms);
	}
	ovio_disconnect(cl);
	return (0);
}

/* ---- ovio service ---------------------------------------------------- */

typedef struct svc_sub {
	const char *name;
	const char *args;
	const char *help;
} svc_sub;

static const svc_sub svc_subs[] = {
	{ "install", "[--oviod PATH] [--] [OVIOD OPTIONS]",
	    "register oviod as the Windows service \"" OVIO_SERVICE_NAME
	    "\" by running\n"
	    "\"oviod.exe install OVIOD OPTIONS\" (the oviod.exe next to "
	    "ovio.exe, or\n"
	    "--oviod PATH). --start auto|demand and --log FILE are the\n"
	    "service's own; the other options (--root DIR, --listen URL and "
	    "the rest\n"
	    "of oviod --help) are checked and written to its config file,\n"
	    "%ProgramData%\\ovio\\oviod.conf (the one before kept as "
	    "oviod.conf.old;\n"
	    "given none, the file there is kept), which its command line "
	    "names.\n"
	    "Every argument except --oviod and --help goes to oviod; after --\n"
	    "even those do. Needs an administrator" },
	{ "uninstall", "[--timeout MS]",
	    "stop the service if it runs (waiting for the drain), then delete "
	    "it" },
	{ "start", "[--timeout MS]",
	    "start the service and wait until it reports RUNNING (it does once "
	    "it\n"
	    "listens), following its wait hints, for at most --timeout "
	    "(default\n"
	    "60000 ms); a service that stops instead fails with its exit "
	    "code" },
	{ "reload", "",
	    "have the running service read its config file again (as\n"
	    "SERVICE_CONTROL_PARAMCHANGE, sc control oviod paramchange): the "
	    "log\n"
	    "level and the limits change at once, the rest at the next start"
	    " (its\n"
	    "log says which)" },
	{ "stop", "[--timeout MS]",
	    "ask the service to stop and wait until it reports STOPPED: it "
	    "stops\n"
	    "accepting, cancels what is in flight, drains and closes every "
	    "handle\n"
	    "first; bounded by its wait hints and --timeout (default 60000 "
	    "ms)" },
	{ "status", "[--json]",
	    "show the service's state (RUNNING, STOPPED, START_PENDING, "
	    "STOP_PENDING,\n"
	    "NOT_INSTALLED, ...), process id, start type, command line, its "
	    "log\n"
	    "file and the log's last 10 lines; exit status 0 when it is\n"
	    "installed, 1 when not (--json keys: service, installed, state, "
	    "pid,\n"
	    "start_type, exit_code, service_exit_code, checkpoint, "
	    "wait_hint_ms,\n"
	    "controls_accepted, preshutdown_timeout_ms, command, log, and\n"
	    "log_tail, an array of lines, or log_error when it cannot be "
	    "read)" },
	{ NULL, NULL, NULL },
};

static void
service_usage(FILE *f)
{
	const svc_sub *s;

	fprintf(f,
	    "usage: ovio service SUBCOMMAND [OPTIONS]\n"
	    "\n"
	    "Manages oviod as a Windows service through the service control\n"
	    "manager. Windows only: on Linux oviod runs under systemd\n"
	    "(install/oviod.service; systemctl start|stop|status oviod).\n"
	    "\n"
	    "subcommands:\n");
	for (s = svc_subs; s->name != NULL; s++) {
		fprintf(f, "  %-9s %s\n", s->name, s->args);
	}
	fprintf(f, "\nSee ovio service SUBCOMMAND --help for each.\n");
}

static void
service_sub_usage(FILE *f, const svc_sub *s)
{
	fprintf(
	    f, "usage: ovio service %s %s\n\n%s.\n", s->name, s->args, s->help);
}

/* ", "log": ..., "log_tail": [lines] or "log_error": ... */
static void
service_print_log_json(const ovio__svc_status *st)
{
	const char *l = st->log_tail, *nl;
	char        line[1024];
	bool        first = true;

	printf(", \"log\": ");
	json_str(stdout, st->log);
	if (st->log_error[0] != '\0') {
		printf(", \"log_error\": ");
		json_str(stdout, st->log_error);
		return;
	}
	printf(", \"log_tail\": [");
	for (; (nl = strchr(l, '\n')) != NULL; l = nl + 1) {
		snprintf(line, sizeof(line), "%.*s", (int) (nl - l), l);
		printf("%s", first ? "" : ", ");
		json_str(stdout, line);
		first = false;
	}
	printf("]");
}

static void
service_print(const ovio__svc_status *st, bool json)
{
	if (json) {
		printf("{\"service\": \"%s\", \"installed\": %s, \"state\": ",
		    OVIO_SERVICE_NAME, st->installed ? "true" : "false");
		json_str(stdout, st->state);
		printf(", \"pid\": %lu, \"start_type\": ",
		    (unsigned long) st->pid);
		json_str(stdout, st->start_type);
		printf(", \"exit_code\": %lu, \"service_exit_code\": %lu, "
		       "\"checkpoint\": %lu, \"wait_hint_ms\": %lu, "
		       "\"controls_accepted\": ",
		    (unsigned long) st->exit_code,
		    (unsigned long) st->service_exit,
		    (unsigned long) st->checkpoint,
		    (unsigned long) st->wait_hint_ms);
		json_str(stdout, st->controls);
		printf(", \"preshutdown_timeout_ms\": %lu, \"command\": ",
		    (unsigned long) st->preshutdown_ms);
		json_str(stdout, st->command);
		if (st->installed) {
			service_print_log_json(st);
		}
		printf("}\n");
		return;
	}
	printf("service:     %s\n", OVIO_SERVICE_NAME);
	printf("state:       %s\n", st->state);
	if (!st->installed) {
		return;
	}
	if (st->pid != 0) {
		printf("pid:         %lu\n", (unsigned long) st->pid);
	}
	if (st->exit_code != 0) {
		printf("last exit:   %lu (service exit code %lu)\n",
		    (unsigned long) st->exit_code,
		    (unsigned long) st->service_exit);
	}
	printf("start type:  %s\n", st->start_type);
	if (st->controls[0] != '\0') {
		printf("accepts:     %s\n", st->controls);
	}
	if (st->preshutdown_ms != 0) {
		printf("preshutdown: %lu ms\n",
		    (unsigned long) st->preshutdown_ms);
	}
	printf("command:     %s\n", st->command);
	printf("log:         %s\n", st->log);
	if (st->log_error[0] != '\0') {
		printf("             (%s)\n", st->log_error);
	} else {
		const char *l = st->log_tail, *nl;
		printf("last lines:\n");
		for (; (nl = strchr(l, '\n')) != NULL; l = nl + 1) {
			printf("  %.*s\n", (int) (nl - l), l);
		}
	}
}

/*
 * ovio service SUBCOMMAND ...: argv holds what follows "service".  The
 * parsing and printing are here; service_windows.c / service_posix.c talk
 * to the OS.
 */
static int
cmd_service(cli *c, int argc, char **argv)
{
	const svc_sub   *s;
	ovio__svc_status st;
	const char      *oviod   = NULL;
	uint64_t         timeout = SERVICE_TIMEOUT_MS;
	char           **pass;
	int              i, npass = 0, rv;
	bool             json = c->json;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0
		    || strcmp(argv[i], "--help") == 0) {
			service_usage(stdout);
			return (0);
		}
		if (argv[i][0] != '-') {
			break;
		}
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
			continue;
		}
		fprintf(stderr,
		    "ovio service: unknown option %s (see ovio "
		    "service --help)\n",
		    argv[i]);
		return (EXIT_USAGE);
	}
	if (i == argc) {
		service_usage(stderr);
		return (EXIT_USAGE);
	}
	for (s = svc_subs; s->name != NULL; s++) {
		if (strcmp(s->name, argv[i]) == 0) {
			break;
		}
	}
	if (s->name == NULL) {
		fprintf(stderr,
		    "ovio service: unknown subcommand %s (install, "
		    "uninstall, start, stop, reload or status)\n",
		    argv[i]);
		return (EXIT_USAGE);
	}
	argc -= i + 1;
	argv += i + 1;

	if (strcmp(s->name, "install") == 0) {
		/* Everything but --oviod and --help is oviod's. */
		if ((pass = calloc((size_t) argc + 1, sizeof(char *)))
		    == NULL) {
			fprintf(stderr, "ovio service: out of memory\n");
			return (1);
		}
		for (i = 0; i < argc; i++) {
			if (strcmp(argv[i], "--") == 0) {
				for (i++; i < argc; i++) {
					pass[npass++] = argv[i];
				}
				break;
			}
			if (strcmp(argv[i], "-h") == 0
			    || strcmp(argv[i], "--help") == 0) {
				service_sub_usage(stdout, s);
				free(pass);
				return (0);
			}
			if (strcmp(argv[i], "--oviod") == 0) {
				if (i + 1 == argc) {
					service_sub_usage(stderr, s);
					free(pass);
					return (EXIT_USAGE);
				}
				oviod = argv[++i];
				continue;
			}
			pass[npass++] = argv[i];
		}
		rv = ovio__service_install(oviod, npass, pass);
		free(pass);
		return (rv);
	}

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0
		    || strcmp(argv[i], "--help") == 0) {
			service_sub_usage(stdout, s);
			return (0);
		}
		if (strcmp(argv[i], "--json") == 0
		    && strcmp(s->name, "status") == 0) {
			json = true;
		} else if (strcmp(s->name, "status") != 0
		           && strcmp(s->name, "reload") != 0
		           && (strcmp(argv[i], "--timeout") == 0
		               || strncmp(argv[i], "--timeout=", 10) == 0)) {
			const char *v = NULL;
			char        why[256];
			int         e;

			if (argv[i][9] == '=') {
				v = argv[i] + 10;
			} else if (i + 1 < argc) {
				v = argv[++i];
			}

			e = ovio__parse_number(v, 0, 1, 3600000, &timeout);
			if (e != OVIO__NUM_OK) {
				fprintf(stderr, "ovio service: %s\n",
				    ovio__number_error(why, sizeof(why),
				        "--timeout",
				        v != NULL ? v : "(nothing)", e, 0, 1,
				        3600000));
				return (EXIT_USAGE);
			}
		} else {
			fprintf(stderr, "ovio service %s: unexpected %s\n",
			    s->name, argv[i]);
			service_sub_usage(stderr, s);
			return (EXIT_USAGE);
		}
	}
	if (strcmp(s->name, "uninstall") == 0) {
		return (ovio__service_uninstall((unsigned) timeout));
	}
	if (strcmp(s->name, "start") == 0) {
		return (ovio__service_start((unsigned) timeout));
	}
	if (strcmp(s->name, "stop") == 0) {
		return (ovio__service_stop((unsigned) timeout));
	}
	if (strcmp(s->name, "reload") == 0) {
		return (ovio__service_reload());
	}
	if ((rv = ovio__service_query(&st)) != 0) {
		return (rv);
	}
	service_print(&st, json);
	return (st.installed ? 0 : 1);
}

static const command commands[] = {
	{ "put", "[-r] LOCAL... REMOTE",
	    "copy local files to the service, atomically",
	    "copy local files (- for standard input) to REMOTE (under the\n"
	    "service's root; a leading / is the root), flushed to disk; into\n"
	    "REMOTE when it is a folder or ends with /, as cp and scp do.\n"
	    "Each goes to a temporary file that replaces its target\n"
	    "atomically once complete: an interrupted put leaves the old\n"
	    "file as it was; --no-clobber keeps an existing one (exit 8).\n"
	    "-r copies folders (links followed; FIFOs and devices skipped),\n"
	    "into REMOTE/NAME when REMOTE is a folder, else as REMOTE.\n"
	    "--continue sends only what REMOTE lacks, writing it in place\n"
	    "from its size (not atomic). A failure does not stop the others;\n"
	    "the first one gives the exit status",
	    cmd_put, 2, false, -1, "r" },
	{ "get", "[-r] REMOTE... LOCAL", "copy remote files here",
	    "copy remote files to LOCAL (- for standard output, one file);\n"
	    "into LOCAL when it is a folder or ends with /; -r copies "
	    "folders.\n"
	    "A file is replaced only once its copy is complete, a device or\n"
	    "FIFO is written in place. --continue appends to LOCAL from its\n"
	    "size (in place), reading REMOTE from there; --no-clobber keeps\n"
	    "an existing LOCAL (exit 8). A failure does not stop the others;\n"
	    "the first one gives the exit status",
	    cmd_get, 2, false, -1, "r" },
	{ "cat", "REMOTE", "write REMOTE to standard output",
	    "write REMOTE to standard output", cmd_cat, 1, false, 0, NULL },
	{ "stat", "REMOTE", "show REMOTE's size, type, mode and time",
	    "show REMOTE's size, type, mode and modification "
	    "time",
	    cmd_stat, 1, false, 0, NULL },
	{ "status", "[--watch T]", "show the service's state and counters",
	    "show the service's backend, sessions, handles, operations in\n"
	    "flight and counters; --watch T shows them again every T until\n"
	    "interrupted (redrawn in place on a terminal)",
	    cmd_status, 0, false, 0, NULL },
	{ "ls", "[-l] [PATH]", "list a folder",
	    "list a folder (default: the root), one name a line; -l adds\n"
	    "type and mode, size and modification time; --json gives one\n"
	    "object with an entries array",
	    cmd_ls, 0, false, 1, "l" },
	{ "mkdir", "[-p] PATH", "make a folder",
	    "make a folder; -p makes missing parents too and is content\n"
	    "with a folder already there",
	    cmd_mkdir, 1, false, 0, "p" },
	{ "rm", "[-r] PATH...", "remove files and folders",
	    "remove files and empty folders; -r removes folders with all\n"
	    "they hold (links are removed, never followed)",
	    cmd_rm, 1, false, -1, "r" },
	{ "mv", "[-f] SRC DST", "rename or move",
	    "rename SRC to DST, or move it into DST when DST is a folder or\n"
	    "ends with /; an existing DST is kept (EEXIST, exit 8) unless -f",
	    cmd_mv, 2, false, 0, "f" },
	{ "bench", "REMOTE", "measure the service's speed",
	    "measure oviod's requests/s, MB/s and latency on REMOTE\n"
	    "with random or sequential reads and writes (ovio bench --help)",
	    NULL, 0, true, 0, NULL },
	{ "service", "SUBCOMMAND", "manage the Windows service",
	    "install, uninstall, start, stop or show "
	    "the Windows service (ovio service --help)",
	    NULL, 0, true, 0, NULL },
	{ "admin", "SUBCOMMAND", "list, cancel, close, kick; drain, shutdown",
	    "list sessions, handles and operations; cancel, close, kick,\n"
	    "drain, resume, shutdown, log-level (ovio admin --help)",
	    NULL, 0, true, 0, NULL },
	{ NULL, NULL, NULL, NULL, NULL, 0, false, 0, NULL },
};

/* A command with its own parser: everything after its name is its own. */
static int
cmd_rest(cli *c, const command *k, int argc, char **argv)
{
	if (strcmp(k->name, "bench") == 0) {
		return (ovio__cmd_bench(
		    c->endpoint, &c->conn, c->json, argc, argv));
	}
	if (strcmp(k->name, "admin") == 0) {
		return (ovio__cmd_admin(c->endpoint, c->json, argc, argv));
	}
	return (cmd_service(c, argc, argv));
}

static const char exit_help[]
    = "exit status:\n"
      "  0 success            4 permission denied     7 local I/O error\n"
      "  1 other failure      5 cannot reach oviod\n"
      "  2 bad usage          6 remote I/O error\n"
      "  3 no such file       8 target exists (--no-clobber; mv without "
      "-f)\n";

static void
usage(FILE *f)
{
	const command *k;

	fprintf(f,
	    "usage: ovio [OPTIONS] COMMAND [ARGS]\n"
	    "\n"
	    "Moves files to and from oviod (overlapped file I/O as a service)\n"
	    "and shows its status.\n"
	    "\n"
	    "commands:\n");
	for (k = commands; k->name != NULL; k++) {
		/* The brief line; ovio COMMAND --help has it all. */
		fprintf(f, "  %-7s %-21s %s\n", k->name, k->args, k->brief);
	}
	fprintf(f,
	    "\n"
	    "options (before or after the command; --opt=VALUE or --opt "
	    "VALUE;\n"
	    "-- ends them, for names that start with -):\n"
	    "  -e, --endpoint URL  service endpoint (default: $OVIO_ENDPOINT,\n"
	    "                      else your own oviod's socket if it is\n"
	    "                      there, else the system service's if it\n"
	    "                      is there: %s; see\n"
	    "                      man ovio); on ipc:// only a service run by\n"
	    "                      you, root, the user ovio (in /run/ovio)\n"
	    "                      or $OVIO_SERVICE_USER is trusted\n"
	    "  --tls-ca FILE       tls+tcp://: CA certificate(s) (PEM) the\n"
	    "                      service's certificate must chain to\n"
	    "                      (default: $OVIO_TLS_CA)\n"
	    "  --tls-cert FILE     tls+tcp://: this client's certificate "
	    "(PEM;\n"
	    "                      default: $OVIO_TLS_CERT)\n"
	    "  --tls-key FILE      its private key (PEM, not encrypted;\n"
	    "                      default: $OVIO_TLS_KEY)\n"
	    "  --tls-server-name NAME  the name the service's certificate\n"
	    "                      must have (default: the endpoint's host)\n"
	    "  --json              machine-readable output (ls, stat, status, "
	    "put,\n"
	    "                      get, bench, service status); errors are\n"
	    "                      then one JSON object on stderr\n"
	    "  --chunk SIZE        bytes per request, 1 to 16M (default 1M;\n"
	    "                      sizes take K, M or G: powers of 1024)\n"
	    "  --window N          requests in flight, 1 to 256 (default 8)\n"
	    "  --streams N         get, put: move a file of 16M or more over\n"
	    "                      N connections at once, 1 to 16 (default\n"
	    "                      1), each with its own --window; for when\n"
	    "                      one connection is the limit. Not with\n"
	    "                      --continue, standard input or output\n"
	    "  --timeout T         give up connecting, and waiting for each\n"
	    "                      reply, after T seconds (or Tms; default:\n"
	    "                      3 s to connect, replies without bound);\n"
	    "                      exit 5. Nothing listening fails at once\n"
	    "  --watch T           status: show it again every T (seconds, or\n"
	    "                      Tms) until interrupted; on a terminal in\n"
	    "                      place, else one after another\n"
	    "  -q, --quiet         no progress line, no notices (errors stay)\n"
	    "  --continue          put, get: resume from the size already "
	    "there\n"
	    "  --no-clobber        put, get: never replace the target (exit "
	    "8)\n"
	    "  -h, --help          this text; ovio COMMAND --help for one "
	    "command\n"
	    "  --version           print the version\n"
	    "\n"
	    "Errors are one line on stderr: \"ovio: NAME: remote: ENAME: ...\" "
	    "when\n"
	    "the service failed, \"ovio: NAME: local: ...\" when this machine "
	    "did.\n"
	    "\n%s",
	    ovio_system_endpoint(), exit_help);
}

static void
command_usage(FILE *f, const command *k)
{
	fprintf(f,
	    "usage: ovio %s %s\n\n%s.\n\nSee ovio --help for the "
	    "options and exit statuses.\n",
	    k->name, k->args, k->help);
}

enum {
	OPT_HELP = 256, /* long-only options: values no short option has */
	OPT_VERSION,
	OPT_JSON,
	OPT_CHUNK,
	OPT_WINDOW,
	OPT_STREAMS,
	OPT_TIMEOUT,
	OPT_WATCH,
	OPT_CONTINUE,
	OPT_NOCLOBBER,
	OPT_TLS_CA,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_TLS_SERVER_NAME,
};

static const struct option long_options[] = {
	{ "endpoint", required_argument, NULL, 'e' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "chunk", required_argument, NULL, OPT_CHUNK },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "streams", required_argument, NULL, OPT_STREAMS },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "watch", required_argument, NULL, OPT_WATCH },
	{ "quiet", no_argument, NULL, 'q' },
	{ "continue", no_argument, NULL, OPT_CONTINUE },
	{ "no-clobber", no_argument, NULL, OPT_NOCLOBBER },
	{ "tls-ca", required_argument, NULL, OPT_TLS_CA },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "tls-server-name", required_argument, NULL, OPT_TLS_SERVER_NAME },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* A number option's value in [min, max]; 0, or prints why not. */
static int
opt_number(const char *name, const char *v, int flags, uint64_t min,
    uint64_t max, uint64_t *out)
{
	char why[256];
	int  e;

	if ((e = ovio__parse_number(v, flags, min, max, out)) != OVIO__NUM_OK) {
		report(EXIT_USAGE, NULL, NULL, NULL,
		    ovio__number_error(
		        why, sizeof(why), name, v, e, flags, min, max));
		return (-1);
	}
	return (0);
}

/*
 * --timeout T, --watch T: T seconds, or T followed by "s" or "ms"; 1 ms to
 * a day.  0, or prints why not (naming the option, name).
 */
static int
opt_duration(const char *name, const char *v, unsigned *ms)
{
	char     num[32];
	size_t   n    = strlen(v);
	uint64_t mult = 1000, x = 0;
	int      e = OVIO__NUM_SYNTAX;

	if (n > 2 && strcmp(v + n - 2, "ms") == 0) {
		mult = 1, n -= 2;
	} else if (n > 1 && v[n - 1] == 's') {
		n -= 1;
	}
	if (n > 0 && n < sizeof(num)) {
		snprintf(num, sizeof(num), "%.*s", (int) n, v);
		e = ovio__parse_number(num, 0, 1, MAX_TIMEOUT_MS / mult, &x);
	}
	if (e != OVIO__NUM_OK) {
		reportf(EXIT_USAGE, NULL,
		    "%s: %s is not a duration (seconds, or a number "
		    "with s or ms; 1 ms to 86400 s)",
		    name, v);
		return (-1);
	}
	*ms = (unsigned) (x * mult);
	return (0);
}

/*
 * The option getopt_long refused, from the argument it was in (argv[optind
 * - 1] once it has moved past it) or the short option character.  Worded
 * from the table, since glibc and mingw-w64 do not agree on what they
 * return for "--json=1".
 */
static int
bad_option(int o, char **argv)
{
	const struct option *lo;
	const char          *a  = argv[optind - 1];
	const char          *eq = strchr(a, '=');
	size_t               len;

	if (strncmp(a, "--", 2) != 0) {
		return (reportf(EXIT_USAGE, NULL,
		    o == ':' ? "-%c needs a value (see ovio --help)"
		             : "unknown option -%c (see ovio --help)",
		    optopt));
	}
	len = eq != NULL ? (size_t) (eq - a - 2) : strlen(a + 2);
	for (lo = long_options; lo->name != NULL; lo++) {
		if (strlen(lo->name) >= len
		    && strncmp(lo->name, a + 2, len) == 0) {
			break;
		}
	}
	if (lo->name == NULL || len == 0) {
		return (reportf(EXIT_USAGE, NULL,
		    "unknown option %s (see ovio --help)", a));
	} else if (eq != NULL && lo->has_arg == no_argument) {
		return (reportf(EXIT_USAGE, NULL,
		    "--%s takes no value (see ovio --help)", lo->name));
	} else if (o == ':') {
		return (reportf(EXIT_USAGE, NULL,
		    "--%s needs a value (see ovio --help)", lo->name));
	}
	return (
	    reportf(EXIT_USAGE, NULL, "bad option %s (see ovio --help)", a));
}

static int
cli_main(int argc, char **argv, char **args)
{
	cli            c;
	const command *k;
	uint64_t       v;
	int            n    = 0, o, at;
	bool           rest = false;

	memset(&c, 0, sizeof(c));
	c.endpoint           = getenv("OVIO_ENDPOINT");
	c.conn.tls_ca_file   = getenv("OVIO_TLS_CA");
	c.conn.tls_cert_file = getenv("OVIO_TLS_CERT");
	c.conn.tls_key_file  = getenv("OVIO_TLS_KEY");
	/* Errors found before getopt_long reaches --json are JSON too. */
	for (at = 1; at < argc && strcmp(argv[at], "--") != 0; at++) {
		err_json |= strcmp(argv[at], "--json") == 0;
	}
	opterr = 0; /* our own messages, without argv[0]'s path */
	/*
	 * "+": getopt_long stops at each non-option (the command and its
	 * arguments are taken here, one at a time), so options may come before
	 * or after the command and `ovio service` gets the rest untouched.
	 */
	while (optind < argc) {
		at = optind;
		o  = rest ? -1
		          : getopt_long(
		              argc, argv, "+:hqe:lprf", long_options, NULL);
		if (o == -1) {
			if (optind >= argc) {
				break;
			}
			if (!rest && optind == at + 1
			    && strcmp(argv[at], "--") == 0) {
				rest = true; /* all that follows are names */
				continue;
			}
			if (cmd_current == NULL) {
				for (k = commands; k->name != NULL; k++) {
					if (strcmp(k->name, argv[optind])
					    == 0) {
						break;
					}
				}
				if (k->name == NULL) {
					return (reportf(EXIT_USAGE, NULL,
					    "unknown command %s (see ovio "
					    "--help)",
					    argv[optind]));
				}
				cmd_current = k;
				optind++;
				if (k->rest) {
					/* Its own parser takes the rest. */
					return (cmd_rest(&c, k, argc - optind,
					    argv + optind));
				}
				continue;
			}
			args[n++] = argv[optind++];
			continue;
		}
		switch (o) {
		case 'h':
		case OPT_HELP:
			if (cmd_current != NULL) {
				command_usage(stdout, cmd_current);
			} else {
				usage(stdout);
			}
			return (0);
		case OPT_VERSION:
			printf("ovio %s\n", OVIO_VERSION);
			return (0);
		case OPT_JSON:
			c.json = true;
			break;
		case 'q':
			c.quiet = true;
			break;
		case OPT_CONTINUE:
			c.resume = true;
			break;
		case OPT_NOCLOBBER:
			c.no_clobber = true;
			break;
		case OPT_TIMEOUT:
			if (opt_duration("--timeout", optarg, &c.timeout_ms)
			    != 0) {
				return (EXIT_USAGE);
			}
			break;
		case OPT_WATCH:
			if (opt_duration("--watch", optarg, &c.watch_ms) != 0) {
				return (EXIT_USAGE);
			}
			break;
		case 'l':
		case 'p':
		case 'r':
		case 'f':
			/* A command's own option: after that command only. */
			if (cmd_current == NULL || cmd_current->opts == NULL
			    || strchr(cmd_current->opts, o) == NULL) {
				return (reportf(EXIT_USAGE, NULL,
				    "-%c is not an option of %s (see ovio "
				    "--help)",
				    o,
				    cmd_current != NULL ? cmd_current->name
				                        : "ovio"));
			}
			c.long_list |= o == 'l';
			c.parents |= o == 'p';
			c.recursive |= o == 'r';
			c.force |= o == 'f';
			break;
		case 'e':
			c.endpoint = optarg;
			break;
		case OPT_TLS_CA:
			c.conn.tls_ca_file = optarg;
			break;
		case OPT_TLS_CERT:
			c.conn.tls_cert_file = optarg;
			break;
		case OPT_TLS_KEY:
			c.conn.tls_key_file = optarg;
			break;
		case OPT_TLS_SERVER_NAME:
			c.conn.tls_server_name = optarg;
			break;
		case OPT_CHUNK:
			if (opt_number("--chunk", optarg, OVIO__NUM_SIZE, 1,
			        MAX_CHUNK, &v)
			    != 0) {
				return (EXIT_USAGE);
			}
			c.chunk = (size_t) v;
			break;
		case OPT_WINDOW:
			if (opt_number("--window", optarg, 0, 1, MAX_WINDOW, &v)
			    != 0) {
				return (EXIT_USAGE);
			}
			c.window = (unsigned) v;
			break;
		case OPT_STREAMS:
			if (opt_number("--streams", optarg, 0, 1, MAX_STREAMS, &v)
			    != 0) {
				return (EXIT_USAGE);
			}
			c.streams = (unsigned) v;
			break;
		default:
			return (bad_option(o, argv));
		}
	}
	if (cmd_current == NULL) {
		if (err_json) {
			return (reportf(EXIT_USAGE, NULL,
			    "no command given (see ovio --help)"));
		}
		usage(stderr);
		return (EXIT_USAGE);
	}
	if (n < cmd_current->nargs
	    || (cmd_current->maxargs == 0 && n != cmd_current->nargs)
	    || (cmd_current->maxargs > 0 && n > cmd_current->maxargs)) {
		if (err_json) {
			return (reportf(EXIT_USAGE, NULL,
			    "%s: wrong number of arguments: usage: ovio %s %s",
			    cmd_current->name, cmd_current->name,
			    cmd_current->args));
		}
		command_usage(stderr, cmd_current);
		return (EXIT_USAGE);
	}
	if ((c.resume || c.no_clobber) && cmd_current->run != cmd_get
	    && cmd_current->run != cmd_put) {
		return (reportf(EXIT_USAGE, NULL,
		    "%s is not an option of %s (see ovio --help)",
		    c.resume ? "--continue" : "--no-clobber",
		    cmd_current->name));
	}
	if (c.watch_ms != 0 && cmd_current->run != cmd_status) {
		return (reportf(EXIT_USAGE, NULL,
		    "--watch is not an option of %s (see ovio --help)",
		    cmd_current->name));
	}
	if (c.resume && c.no_clobber) {
		return (reportf(EXIT_USAGE, NULL,
		    "--continue and --no-clobber do not go together"));
	}
	c.argc = n;
	c.argv = args;
	return (cmd_current->run(&c));
}

/* The names given after the command, gathered by cli_main, live in args. */
int
main(int argc, char **argv)
{
	char **args;
	int    rv;

	if ((args = calloc((size_t) argc + 1, sizeof(*args))) == NULL) {
		fprintf(stderr, "ovio: out of memory\n");
		return (EXIT_OTHER);
	}
	rv = cli_main(argc, argv, args);
	free(args);
	return (rv);
}
