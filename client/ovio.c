/*
 * ovio.c - the ovio command line: moves files to and from oviod and shows
 * the service's status.  The local side of a transfer (temporary files,
 * standard streams, devices) is behind localfile.h.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "bench.h"
#include "localfile.h"
#include "number.h"
#include "ovio.h"
#include "progress.h"
#include "service.h"

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

#define SERVICE_TIMEOUT_MS 60000       /* default bound of start / stop */
#define MAX_CHUNK          (16u << 20) /* oviod's default --max-io */
#define MAX_WINDOW         256u

typedef struct cli {
	const char *endpoint;
	bool        json;
	size_t      chunk;
	unsigned    window;
	bool        long_list; /* ls -l */
	bool        parents;   /* mkdir -p */
	bool        recursive; /* rm -r */
	bool        force;     /* mv -f */
	int         argc;      /* the command's own arguments */
	char      **argv;
} cli;

typedef struct command {
	const char *name;
	const char *args;
	const char *help;
	int (*run)(cli *);
	int         nargs;
	bool        rest;    /* takes every argument after it, options too */
	int         maxargs; /* more than nargs allowed (-1: any); 0: exactly */
	const char *opts;    /* its own short options, of "lprf" */
} command;

static int cmd_rest(cli *c, const command *k, int argc, char **argv);

static const command *cmd_current;

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

/* "ovio: WHAT: remote: ENAME: message": the service's side failed. */
static int
fail_remote(const char *what, int status)
{
	int64_t os = ovio_last_os_error();

	if (os != 0) {
		fprintf(stderr, "ovio: %s: remote: %s: %s (os error %lld)\n",
		    what, ovio_errname(status), ovio_strerror(status),
		    (long long) os);
	} else {
		fprintf(stderr, "ovio: %s: remote: %s: %s\n", what,
		    ovio_errname(status), ovio_strerror(status));
	}
	return (exit_remote(status));
}

/* "ovio: WHAT: local: message": this machine's side failed. */
static int
fail_local(const char *what, int code)
{
	fprintf(
	    stderr, "ovio: %s: local: %s\n", what, ovio__local_strerror(code));
	switch (ovio__local_kind(code)) {
	case OVIO__LOCAL_NOTFOUND:
		return (EXIT_NOTFOUND);
	case OVIO__LOCAL_PERM:
		return (EXIT_PERM);
	}
	return (EXIT_LOCAL);
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
	int rv;

	if ((rv = ovio_connect(cl, c->endpoint, 3000)) != 0) {
		const char *url = c->endpoint != NULL ? c->endpoint
		                                      : ovio_default_endpoint();
		fprintf(stderr, "ovio: cannot connect to %s: %s: %s\n", url,
		    ovio_errname(rv), ovio_strerror(rv));
		if (rv == OVIO_ECONNREFUSED || rv == OVIO_ETIMEDOUT) {
			fprintf(stderr, "ovio: is oviod running? (make run, "
			                "oviod --listen URL, or on Windows "
			                "ovio service start)\n");
		}
		return (EXIT_CONNECT);
	}
	return (0);
}

/*
 * One transfer's local side.  The library's callbacks can only return an
 * ovio status, so a local failure is kept here (lerr, shrank) and the
 * callback returns OVIO_EIO to stop the transfer; the caller then reports
 * the local error, not the status.
 */
typedef struct xfer {
	progress     p;
	ovio__local *lf;
	int          lerr;   /* local error code, or 0 */
	bool         shrank; /* the local file ended before its size */
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
	ovio__progress_update(&((xfer *) arg)->p, done);
}

/*
 * put from a stream (standard input, a FIFO, a device): its size is not
 * known, so one chunk at a time is read whole and written, in order, until
 * the input ends.
 */
static int
put_stream(cli *c, ovio_client *cl, uint64_t h, xfer *x, uint64_t *total)
{
	size_t   chunk = c->chunk != 0 ? c->chunk : (1u << 20);
	uint8_t *buf;
	size_t   got, put;
	int      rv = 0;

	*total = 0;
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

static int
cmd_put(cli *c)
{
	const char  *local = c->argv[0], *remote = c->argv[1];
	ovio_client *cl;
	xfer         x;
	uint64_t     h, total = 0;
	int64_t      size;
	int          rv, rv2;

	memset(&x, 0, sizeof(x));
	if ((rv = ovio__local_open_read(local, &x.lf, &size)) != 0) {
		return (fail_local(local, rv));
	}
	if ((rv = connect_or_fail(c, &cl)) != 0) {
		ovio__local_abort(x.lf);
		return (rv);
	}
	rv = ovio_open(cl, remote,
	    OVIO_OPEN_WRITE | OVIO_OPEN_CREATE | OVIO_OPEN_TRUNC, 0, &h);
	if (rv != 0) {
		rv = fail_remote(remote, rv);
		ovio__local_abort(x.lf);
		ovio_disconnect(cl);
		return (rv);
	}
	ovio__progress_start(&x.p, "put", remote, size > 0 ? size : 0);
	if (size >= 0) {
		rv    = ovio_write_stream(cl, h, 0, (uint64_t) size, c->chunk,
		       c->window, local_fill, on_progress, &x);
		total = (uint64_t) size;
	} else {
		rv = put_stream(c, cl, h, &x, &total);
	}
	if (rv == 0) {
		rv = ovio_flush(cl, h); /* acknowledged means on disk */
	}
	rv2 = ovio_close(cl, h);
	ovio__progress_end(&x.p, rv == 0 && rv2 == 0);
	ovio__local_abort(x.lf); /* a reader: closes it, removes nothing */
	ovio_disconnect(cl);
	if (x.lerr != 0) {
		return (fail_local(local, x.lerr));
	}
	if (x.shrank) {
		fprintf(stderr,
		    "ovio: %s: local: the file shrank while being "
		    "read\n",
		    local);
		return (EXIT_LOCAL);
	}
	if (rv != 0 || rv2 != 0) {
		return (fail_remote(remote, rv != 0 ? rv : rv2));
	}
	if (c->json) {
		printf("{\"bytes\": %llu, \"seconds\": %.3f}\n",
		    (unsigned long long) total, ovio__progress_seconds(&x.p));
	}
	return (0);
}

/*
 * Reads a stream (a FIFO, say) in order, one request in flight, until a
 * read returns no bytes: a short read only means that is what was there.
 */
static int
get_stream(cli *c, ovio_client *cl, uint64_t h, xfer *x, uint64_t *total)
{
	size_t   chunk = c->chunk != 0 ? c->chunk : (1u << 20);
	uint8_t *buf;
	size_t   got;
	int      rv = 0;

	*total = 0;
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
 * REMOTE to local, where local "-" is standard output.  The remote file is
 * opened first; only then is the local side touched, and then only through
 * ovio__local_create (a temporary file renamed into place on success, or a
 * special file written in place).
 */
static int
get_to(cli *c, const char *remote, const char *local, const char *verb)
{
	ovio_client *cl;
	ovio_stat    st;
	xfer         x;
	uint64_t     h, total = 0;
	bool         stream;
	int          rv, rv2;

	memset(&x, 0, sizeof(x));
	if ((rv = connect_or_fail(c, &cl)) != 0) {
		return (rv);
	}
	if ((rv = ovio_open(cl, remote, OVIO_OPEN_READ, 0, &h)) != 0) {
		rv = fail_remote(remote, rv);
		ovio_disconnect(cl);
		return (rv);
	}
	/* Not a regular file (or unknown): a stream, read in order. */
	stream = ovio_fstat(cl, h, &st) != 0 || st.type != OVIO_TYPE_FILE;
	if ((rv = ovio__local_create(local, &x.lf)) != 0) {
		(void) ovio_close(cl, h);
		ovio_disconnect(cl);
		return (fail_local(local, rv));
	}
	ovio__progress_start(&x.p, verb, remote, stream ? 0 : st.size);
	if (stream) {
		rv = get_stream(c, cl, h, &x, &total);
	} else {
		rv = ovio_read_stream(cl, h, 0, UINT64_MAX, c->chunk, c->window,
		    local_sink, on_progress, &x, &total);
	}
	rv2 = ovio_close(cl, h);
	ovio__progress_end(&x.p, rv == 0 && rv2 == 0 && x.lerr == 0);
	ovio_disconnect(cl);
	if (x.lerr != 0 || rv != 0 || rv2 != 0) {
		ovio__local_abort(x.lf);
		if (x.lerr != 0) {
			return (fail_local(local, x.lerr));
		}
		return (fail_remote(remote, rv != 0 ? rv : rv2));
	}
	if ((rv = ovio__local_finish(x.lf)) != 0) {
		return (fail_local(local, rv));
	}
	if (c->json && strcmp(local, "-") != 0) {
		printf("{\"bytes\": %llu, \"seconds\": %.3f}\n",
		    (unsigned long long) total, ovio__progress_seconds(&x.p));
	}
	return (0);
}

static int
cmd_get(cli *c)
{
	return (get_to(c, c->argv[0], c->argv[1], "get"));
}

static int
cmd_cat(cli *c)
{
	return (get_to(c, c->argv[0], "-", "cat"));
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

static int
cmd_stat(cli *c)
{
	ovio_client *cl;
	ovio_stat    st;
	char         when[64];
	int          rv;

	if ((rv = connect_or_fail(c, &cl)) != 0) {
		return (rv);
	}
	rv = ovio_stat_path(cl, c->argv[0], &st);
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
		printf("path:  %s\nsize:  %llu\ntype:  %s\nmode:  %04o\n"
		       "mtime: %s\n",
		    c->argv[0], (unsigned long long) st.size,
		    type_name(st.type), st.mode, when);
	}
	return (0);
}

/* ---- the namespace: ls, mkdir, rm, mv ---- */

/*
 * A remote path as the service takes it: a leading "/" is the root (it is
 * dropped), "." and empty components go, and ".." takes the component
 * before it away, so "a/../b" is "b".  A ".." with nothing left to take
 * would leave the root: refused here (1), before anything is sent.  "" is
 * the root itself.  Only "/" separates, as on the service's POSIX side; the
 * service refuses a ".." between backslashes itself.
 */
static int
remote_path(const char *in, char *out, size_t cap)
{
	const char *p = in;
	size_t      n = 0, k;

	if (strlen(in) >= cap) {
		return (-1);
	}
	while (*p != '\0') {
		k = strcspn(p, "/");
		if (k == 2 && p[0] == '.' && p[1] == '.') {
			if (n == 0) {
				return (1);
			}
			while (n > 0 && out[n - 1] != '/') {
				n--;
			}
			if (n > 0) {
				n--; /* the separator before it */
			}
		} else if (k > 0 && !(k == 1 && p[0] == '.')) {
			if (n > 0) {
				out[n++] = '/';
			}
			memcpy(out + n, p, k);
			n += k;
		}
		p += k;
		if (*p == '/') {
			p++;
		}
	}
	out[n] = '\0';
	return (0);
}

/* remote_path, or says why not; returns 0 or the exit status. */
static int
remote_path_or_fail(const char *in, char *out, size_t cap, bool root_ok)
{
	int rv = remote_path(in, out, cap);

	if (rv < 0) {
		fprintf(stderr, "ovio: %s: remote: ENAMETOOLONG: %s\n", in,
		    ovio_strerror(OVIO_ENAMETOOLONG));
		return (EXIT_USAGE);
	}
	if (rv > 0) {
		fprintf(stderr, "ovio: %s: remote: EOUTSIDE: %s\n", in,
		    ovio_strerror(OVIO_EOUTSIDE));
		return (EXIT_PERM);
	}
	if (!root_ok && out[0] == '\0') {
		fprintf(
		    stderr, "ovio: %s: names the service's root itself\n", in);
		return (EXIT_USAGE);
	}
	return (0);
}

#define REMOTE_MAX 4096

/* "drwxr-xr-x"-style type and mode. */
static void
format_mode(char *buf, uint32_t type, uint32_t mode)
{
	static const char rwx[] = "rwxrwxrwx";
	int               i;

	buf[0] = type == OVIO_TYPE_DIR    ? 'd'
	         : type == OVIO_TYPE_LINK ? 'l'
	         : type == OVIO_TYPE_FIFO ? 'p'
	         : type == OVIO_TYPE_FILE ? '-'
	                                  : '?';
	for (i = 0; i < 9; i++) {
		buf[1 + i] = (mode & (0400u >> i)) ? rwx[i] : '-';
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
		printf("%s %12llu %s %s\n", mode, (unsigned long long) e->size,
		    when, e->name);
	} else {
		printf("%s\n", e->name);
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
		(void) remote_path(c->argv[i], path, sizeof(path));
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
	ovio_disconnect(cl);
	return (rv != 0 ? fail_remote(c->argv[0], rv) : 0);
}

static int
cmd_status(cli *c)
{
	ovio_client        *cl;
	ovio_service_status st;
	int                 rv;

	if ((rv = connect_or_fail(c, &cl)) != 0) {
		return (rv);
	}
	rv = ovio_status(cl, &st);
	ovio_disconnect(cl);
	if (rv != 0) {
		return (fail_remote("status", rv));
	}
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
		return (0);
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
	    "--oviod PATH). The options are stored as the service's command "
	    "line:\n"
	    "--root DIR, --listen URL, --log FILE, --start auto|demand and "
	    "the rest of\n"
	    "oviod --help. Every argument except --oviod and --help goes to "
	    "oviod;\n"
	    "after -- even those do. Needs an administrator" },
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
	    "NOT_INSTALLED, ...), process id, start type and command line; "
	    "exit\n"
	    "status 0 when it is installed, 1 when not (--json keys: service, "
	    "installed,\n"
	    "state, pid, start_type, exit_code, service_exit_code, checkpoint,"
	    "\n"
	    "wait_hint_ms, controls_accepted, preshutdown_timeout_ms, "
	    "command)" },
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
		    "uninstall, start, stop or status)\n",
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
	if ((rv = ovio__service_query(&st)) != 0) {
		return (rv);
	}
	service_print(&st, json);
	return (st.installed ? 0 : 1);
}

static const command commands[] = {
	{ "put", "LOCAL REMOTE",
	    "copy a local file (- for standard input) to REMOTE (under the\n"
	    "service's root), flushed to disk",
	    cmd_put, 2, false, 0, NULL },
	{ "get", "REMOTE LOCAL",
	    "copy REMOTE to a local file (- for standard output); a file is\n"
	    "replaced only once the copy is complete, a device or FIFO is\n"
	    "written in place",
	    cmd_get, 2, false, 0, NULL },
	{ "cat", "REMOTE", "write REMOTE to standard output", cmd_cat, 1, false,
	    0, NULL },
	{ "stat", "REMOTE",
	    "show REMOTE's size, type, mode and modification "
	    "time",
	    cmd_stat, 1, false, 0, NULL },
	{ "status", "",
	    "show the service's backend, sessions, handles, "
	    "operations in flight and counters",
	    cmd_status, 0, false, 0, NULL },
	{ "ls", "[-l] [PATH]",
	    "list a folder (default: the root), one name a line; -l adds\n"
	    "type and mode, size and modification time; --json gives one\n"
	    "object with an entries array",
	    cmd_ls, 0, false, 1, "l" },
	{ "mkdir", "[-p] PATH",
	    "make a folder; -p makes missing parents too and is content\n"
	    "with a folder already there",
	    cmd_mkdir, 1, false, 0, "p" },
	{ "rm", "[-r] PATH...",
	    "remove files and empty folders; -r removes folders with all\n"
	    "they hold (links are removed, never followed)",
	    cmd_rm, 1, false, -1, "r" },
	{ "mv", "[-f] SRC DST",
	    "rename SRC to DST, or move it into DST when DST is a folder or\n"
	    "ends with /; an existing DST is kept (EEXIST) unless -f",
	    cmd_mv, 2, false, 0, "f" },
	{ "bench", "REMOTE",
	    "measure oviod's requests/s, MB/s and latency on REMOTE\n"
	    "with random or sequential reads and writes (ovio bench --help)",
	    NULL, 0, true, 0, NULL },
	{ "service", "SUBCOMMAND",
	    "install, uninstall, start, stop or show "
	    "the Windows service (ovio service --help)",
	    NULL, 0, true, 0, NULL },
	{ "admin", "SUBCOMMAND",
	    "list sessions, handles and operations; cancel, close, kick,\n"
	    "drain, resume, shutdown, log-level (ovio admin --help)",
	    NULL, 0, true, 0, NULL },
	{ NULL, NULL, NULL, NULL, 0, false, 0, NULL },
};

/* A command with its own parser: everything after its name is its own. */
static int
cmd_rest(cli *c, const command *k, int argc, char **argv)
{
	if (strcmp(k->name, "bench") == 0) {
		return (ovio__cmd_bench(c->endpoint, c->json, argc, argv));
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
      "  3 no such file\n";

static void
usage(FILE *f)
{
	const command *k;
	const char    *nl;

	fprintf(f,
	    "usage: ovio [OPTIONS] COMMAND [ARGS]\n"
	    "\n"
	    "Moves files to and from oviod (overlapped file I/O as a service)\n"
	    "and shows its status.\n"
	    "\n"
	    "commands:\n");
	for (k = commands; k->name != NULL; k++) {
		/* First line of the help only; ovio COMMAND --help has it all.
		 */
		nl = strchr(k->help, '\n');
		fprintf(f, "  %-7s %-13s %.*s\n", k->name, k->args,
		    nl != NULL ? (int) (nl - k->help) : (int) strlen(k->help),
		    k->help);
	}
	fprintf(f,
	    "\n"
	    "options (before or after the command; --opt=VALUE or --opt "
	    "VALUE;\n"
	    "-- ends them, for names that start with -):\n"
	    "  -e, --endpoint URL  service endpoint (default: $OVIO_ENDPOINT,\n"
	    "                      else %s)\n"
	    "  --json              machine-readable output (ls, stat, status, "
	    "put,\n"
	    "                      get, bench, service status)\n"
	    "  --chunk SIZE        bytes per request, 1 to 16M (default 1M;\n"
	    "                      sizes take K, M or G: powers of 1024)\n"
	    "  --window N          requests in flight, 1 to 256 (default 8)\n"
	    "  -h, --help          this text; ovio COMMAND --help for one "
	    "command\n"
	    "  --version           print the version\n"
	    "\n"
	    "Errors are one line on stderr: \"ovio: NAME: remote: ENAME: ...\" "
	    "when\n"
	    "the service failed, \"ovio: NAME: local: ...\" when this machine "
	    "did.\n"
	    "\n%s",
	    ovio_default_endpoint(), exit_help);
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
};

static const struct option long_options[] = {
	{ "endpoint", required_argument, NULL, 'e' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "chunk", required_argument, NULL, OPT_CHUNK },
	{ "window", required_argument, NULL, OPT_WINDOW },
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
		fprintf(stderr, "ovio: %s\n",
		    ovio__number_error(
		        why, sizeof(why), name, v, e, flags, min, max));
		return (-1);
	}
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
		if (o == ':') {
			fprintf(stderr,
			    "ovio: -%c needs a value (see ovio "
			    "--help)\n",
			    optopt);
		} else {
			fprintf(stderr,
			    "ovio: unknown option -%c (see ovio "
			    "--help)\n",
			    optopt);
		}
		return (EXIT_USAGE);
	}
	len = eq != NULL ? (size_t) (eq - a - 2) : strlen(a + 2);
	for (lo = long_options; lo->name != NULL; lo++) {
		if (strlen(lo->name) >= len
		    && strncmp(lo->name, a + 2, len) == 0) {
			break;
		}
	}
	if (lo->name == NULL || len == 0) {
		fprintf(
		    stderr, "ovio: unknown option %s (see ovio --help)\n", a);
	} else if (eq != NULL && lo->has_arg == no_argument) {
		fprintf(stderr, "ovio: --%s takes no value (see ovio --help)\n",
		    lo->name);
	} else if (o == ':') {
		fprintf(stderr, "ovio: --%s needs a value (see ovio --help)\n",
		    lo->name);
	} else {
		fprintf(stderr, "ovio: bad option %s (see ovio --help)\n", a);
	}
	return (EXIT_USAGE);
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
	c.endpoint = getenv("OVIO_ENDPOINT");
	opterr     = 0; /* our own messages, without argv[0]'s path */
	/*
	 * "+": getopt_long stops at each non-option (the command and its
	 * arguments are taken here, one at a time), so options may come before
	 * or after the command and `ovio service` gets the rest untouched.
	 */
	while (optind < argc) {
		at = optind;
		o  = rest ? -1
		          : getopt_long(
		              argc, argv, "+:he:lprf", long_options, NULL);
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
					fprintf(stderr,
					    "ovio: unknown command %s "
					    "(see ovio --help)\n",
					    argv[optind]);
					return (EXIT_USAGE);
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
		case 'l':
		case 'p':
		case 'r':
		case 'f':
			/* A command's own option: after that command only. */
			if (cmd_current == NULL || cmd_current->opts == NULL
			    || strchr(cmd_current->opts, o) == NULL) {
				fprintf(stderr,
				    "ovio: -%c is not an option of %s "
				    "(see ovio --help)\n",
				    o,
				    cmd_current != NULL ? cmd_current->name
				                        : "ovio");
				return (EXIT_USAGE);
			}
			c.long_list |= o == 'l';
			c.parents |= o == 'p';
			c.recursive |= o == 'r';
			c.force |= o == 'f';
			break;
		case 'e':
			c.endpoint = optarg;
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
		default:
			return (bad_option(o, argv));
		}
	}
	if (cmd_current == NULL) {
		usage(stderr);
		return (EXIT_USAGE);
	}
	if (n < cmd_current->nargs
	    || (cmd_current->maxargs == 0 && n != cmd_current->nargs)
	    || (cmd_current->maxargs > 0 && n > cmd_current->maxargs)) {
		command_usage(stderr, cmd_current);
		return (EXIT_USAGE);
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
