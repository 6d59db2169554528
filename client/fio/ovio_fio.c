/*
 * ovio_fio.c - an external fio ioengine that does its I/O through oviod:
 *
 *   fio --ioengine=external:build/ovio_fio.so --endpoint=ipc:///... \
 *       --filename=data/bench.dat --rw=randread --bs=4k --iodepth=16 ...
 *
 * fio's filename is a path relative to the service's root (oviod --root),
 * as every ovio path is; fio's directory= is prefixed to it as usual.
 * fio --enghelp=build/ovio_fio.so lists the engine's options (fio 3.33's
 * --enghelp takes the path, not external:PATH).
 *
 * The engine is asynchronous: ->queue submits the io_u with ovio_submit
 * and returns FIO_Q_QUEUED; the completion, delivered on a libovio
 * thread, is put on the job's list of done requests; ->getevents waits
 * (within fio's min, max and timeout) for that list and ->event hands its
 * io_us back.  Reads, writes and syncs (fsync, fdatasync and
 * sync_file_range all become an ovio flush, which is the strongest of
 * them) are supported; trim is refused, ovio having no discard.  direct=1
 * opens the files OVIO_OPEN_DIRECT and sync=1 OVIO_OPEN_WRITE_THROUGH.
 *
 * The files are the service's, never local ones: the engine is
 * FIO_DISKLESSIO, so fio neither lays them out nor stats, unlinks or
 * fadvises a local file of the same name.  The engine does that itself,
 * through ovio: ->get_file_size opens the file and asks ovio_fstat,
 * ->prepopulate_file (fio's setup, after it has decided each file's
 * range) extends with fio's buffer contents a file that a reading job
 * needs longer, as fio's own layout does, and ->unlink_file removes it.
 *
 * One connection per job.  nng, which libovio is built on, cannot be used
 * in a process forked from one that has used it (it aborts: "nng is not
 * fork-reentrant safe").  fio forks its jobs (unless thread=1) from the
 * main process, which is also where it runs the setup of every job
 * (create_serialize, the default) and so calls ->get_file_size and
 * ->prepopulate_file.  So the main process never touches nng: there, when
 * the jobs will be processes, the setup work runs in a short-lived child
 * process of its own (ovf_meta_run), which connects, does it and exits.
 * The job itself connects in ->init.
 *
 * Lifetimes (DESIGN.md, rule 1: a buffer lives until its completion).  A
 * request in flight writes into its io_u's buffer when it completes, so
 * fio must not free the buffers while any is in flight: ->close_file waits
 * until every request on the file has completed (cancelling them first),
 * and ->io_u_free, which fio calls before it frees the buffers, waits for
 * the whole job's.  If they do not complete in OVF_DRAIN_MS, the
 * connection is closed: ovio_disconnect completes every request in flight
 * before it returns.  The per-io_u records (struct ovf_iou) belong to the
 * job, not to the io_u, and are freed in ->cleanup, after the connection.
 *
 * Built against the headers of the installed fio's own source
 * (install/fio-src.sh, make fio-engine): an external engine reads fio's
 * structures (thread_data, thread_options, fio_file, io_u) at the offsets
 * those headers give, and fio checks only FIO_IOOPS_VERSION when it loads
 * one.  config-host.h comes from fio's configure run on this machine; the
 * options it may set differently from Debian's build (libaio, rdma) change
 * only the tail of struct io_u, which fio allocates and the engine does
 * not read.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * fio's headers are not written for ovio's warnings (-Wall -Wextra
 * -Wshadow -Wstrict-prototypes, -Werror in CI).  One is relaxed, for them
 * alone, between push and pop: -Wunused-parameter, which -Wextra turns on
 * and which their static inline helpers (debug.h, os/os-linux.h,
 * arch/arch-x86-common.h) trip by ignoring an argument.  Code below the
 * pop is held to the full set.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "fio.h"
#include "optgroup.h"
#pragma GCC diagnostic pop

#include "ovio.h"

#define OVF_CONNECT_MS 5000       /* ovio_connect's default */
#define OVF_DRAIN_MS   10000      /* cancelled requests' bound */
#define OVF_CHUNK      (1u << 20) /* layout: bytes a write */
#define OVF_WINDOW     8u         /* layout: writes in flight */

/* The engine's options (td->eo), from the table below. */
struct ovf_options {
	void        *pad; /* fio: no option may sit at offset 0 */
	char        *endpoint;
	unsigned int timeout_ms;
	unsigned int connect_ms;
	char        *tls_ca;
	char        *tls_cert;
	char        *tls_key;
};

static struct fio_option ovf_option_table[] = {
	{
	    .name     = "endpoint",
	    .lname    = "ovio endpoint",
	    .type     = FIO_OPT_STR_STORE,
	    .off1     = offsetof(struct ovf_options, endpoint),
	    .help     = "oviod's endpoint (ipc://PATH, tcp://HOST:PORT, "
	                "tls+tcp://HOST:PORT); default: $OVIO_ENDPOINT, else "
	                "the user's oviod, else the system's, as the ovio CLI",
	    .category = FIO_OPT_C_ENGINE,
	    .group    = FIO_OPT_G_INVALID,
	},
	{
	    .name     = "ovio_timeout",
	    .lname    = "ovio reply timeout",
	    .type     = FIO_OPT_INT,
	    .off1     = offsetof(struct ovf_options, timeout_ms),
	    .def      = "0",
	    .help     = "Milliseconds to wait for each reply before the "
	                "request fails with ETIMEDOUT (0: no bound)",
	    .category = FIO_OPT_C_ENGINE,
	    .group    = FIO_OPT_G_INVALID,
	},
	{
	    .name     = "ovio_connect_timeout",
	    .lname    = "ovio connect timeout",
	    .type     = FIO_OPT_INT,
	    .off1     = offsetof(struct ovf_options, connect_ms),
	    .def      = "5000",
	    .help     = "Milliseconds to wait for the connection to oviod",
	    .category = FIO_OPT_C_ENGINE,
	    .group    = FIO_OPT_G_INVALID,
	},
	{
	    .name     = "ovio_tls_ca",
	    .lname    = "ovio TLS CA",
	    .type     = FIO_OPT_STR_STORE,
	    .off1     = offsetof(struct ovf_options, tls_ca),
	    .help     = "tls+tcp://: CA certificate (PEM) the service's must "
	                "chain to (default: $OVIO_TLS_CA)",
	    .category = FIO_OPT_C_ENGINE,
	    .group    = FIO_OPT_G_INVALID,
	},
	{
	    .name     = "ovio_tls_cert",
	    .lname    = "ovio TLS certificate",
	    .type     = FIO_OPT_STR_STORE,
	    .off1     = offsetof(struct ovf_options, tls_cert),
	    .help     = "tls+tcp://: this client's certificate (PEM; "
	                "default: $OVIO_TLS_CERT)",
	    .category = FIO_OPT_C_ENGINE,
	    .group    = FIO_OPT_G_INVALID,
	},
	{
	    .name     = "ovio_tls_key",
	    .lname    = "ovio TLS key",
	    .type     = FIO_OPT_STR_STORE,
	    .off1     = offsetof(struct ovf_options, tls_key),
	    .help     = "tls+tcp://: its private key (PEM, not encrypted; "
	                "default: $OVIO_TLS_KEY)",
	    .category = FIO_OPT_C_ENGINE,
	    .group    = FIO_OPT_G_INVALID,
	},
	{
	    .name = NULL,
	},
};

struct ovf_job;

/* One open file (f->engine_data): its handle and its requests in flight. */
struct ovf_file {
	uint64_t handle;
	unsigned inflight; /* under job->mtx */
};

/*
 * One io_u's request (io_u->engine_data).  Owned by the job: it outlives
 * its io_u (see the top of this file).  The completion callback copies a
 * read's data into the io_u's buffer (fio leaves it alone while the io_u
 * is in flight) and fills status, os_error and bytes; ->getevents moves
 * those into the io_u (error, resid) on fio's thread, so that fio never
 * sees the io_u itself change under it.
 */
struct ovf_iou {
	struct ovf_iou  *next;     /* in the job's done list */
	struct ovf_iou  *all_next; /* in the job's list of all */
	struct ovf_job  *job;
	struct io_u     *io_u; /* NULL once fio has freed it */
	struct ovf_file *file; /* while in flight */
	int              status;
	int64_t          os_error;
	uint64_t         bytes;
};

/* One job's state (td->io_ops_data). */
struct ovf_job {
	ovio_client    *client; /* NULL after a forced disconnect */
	pid_t           pid;    /* the process that connected */
	pthread_mutex_t mtx;
	pthread_cond_t  cv; /* a completion came (CLOCK_MONOTONIC) */
	struct ovf_iou *done_head, *done_tail; /* completed, not reaped */
	unsigned        ndone;
	unsigned        inflight; /* submitted, not completed */
	struct ovf_iou *all;
	struct io_u   **events;  /* the last ->getevents' io_us, for ->event */
	unsigned        nevents; /* events' capacity */
	uint64_t        next_tag;
};

/*
 * The process in which this engine first used nng (0: none yet): a
 * process forked from it must not (see the top of this file).
 */
static pid_t ovf_nng_pid;

/* An ovio status as the errno fio reports (io_u->error, td->error). */
static int
ovf_errno(int status)
{
	switch (status) {
	case OVIO_OK:
		return (0);
	case OVIO_EINVAL:
	case OVIO_EADDRINVAL:
		return (EINVAL);
	case OVIO_ENOENT:
		return (ENOENT);
	case OVIO_EEXIST:
		return (EEXIST);
	case OVIO_EACCES:
	case OVIO_EAUTH:
		return (EACCES);
	case OVIO_EBADF:
	case OVIO_ECLOSING:
		return (EBADF);
	case OVIO_ECANCELED:
		return (ECANCELED);
	case OVIO_ENOSPC:
		return (ENOSPC);
	case OVIO_EISDIR:
		return (EISDIR);
	case OVIO_ENOTDIR:
		return (ENOTDIR);
	case OVIO_ENAMETOOLONG:
		return (ENAMETOOLONG);
	case OVIO_ENOMEM:
		return (ENOMEM);
	case OVIO_EBUSY:
	case OVIO_ETAGINUSE:
		return (EBUSY);
	case OVIO_ETOOBIG:
		return (EMSGSIZE);
	case OVIO_EPROTO:
	case OVIO_EREQID:
		return (EPROTO);
	case OVIO_ENOTFOUND:
		return (ESRCH);
	case OVIO_ECLOSED:
		return (ECONNRESET);
	case OVIO_ETIMEDOUT:
		return (ETIMEDOUT);
	case OVIO_ENOTSUP:
		return (EOPNOTSUPP);
	case OVIO_EAGAIN:
		return (EAGAIN);
	case OVIO_ECONNREFUSED:
		return (ECONNREFUSED);
	case OVIO_ESHUTDOWN:
		return (ESHUTDOWN);
	case OVIO_EADDRINUSE:
		return (EADDRINUSE);
	case OVIO_EFBIG:
		return (EFBIG);
	case OVIO_EROFS:
		return (EROFS);
	case OVIO_EMFILE:
		return (EMFILE);
	case OVIO_EOUTSIDE:
	case OVIO_EPERM:
		return (EPERM);
	case OVIO_ESPIPE:
		return (ESPIPE);
	case OVIO_ENOTEMPTY:
		return (ENOTEMPTY);
	case OVIO_EXDEV:
		return (EXDEV);
	case OVIO_ENXIO:
		return (ENXIO);
	case OVIO_ELOOP:
		return (ELOOP);
	default: /* EIO, EUNKNOWN, and any later status */
		return (EIO);
	}
}

/*
 * Reports a failed ovio call of a hook: one line on fio's error log and
 * the job's error (td->error, td->verror), as fio's own engines do.
 */
static void
ovf_fail(struct thread_data *td, const char *what, const char *name, int status,
    int64_t os_error)
{
	char msg[64], os[32] = "";

	if (os_error != 0) {
		snprintf(
		    os, sizeof(os), " (OS error %lld)", (long long) os_error);
	}
	log_err("ovio: %s%s%s: %s: %s%s\n", what, name != NULL ? " " : "",
	    name != NULL ? name : "", ovio_errname(status),
	    ovio_strerror(status), os);
	/* fio keeps 128 bytes of it, after the file and the function. */
	snprintf(msg, sizeof(msg), "%s: %s", ovio_errname(status),
	    ovio_strerror(status));
	td_vmsg(td, ovf_errno(status), msg, what);
}

/*
 * Connects as the job's options say.  Refuses, rather than letting nng
 * abort, in a process forked from one that has used nng.
 */
static int
ovf_connect(struct thread_data *td, ovio_client **cp)
{
	struct ovf_options  *o  = td->eo;
	ovio_connect_options co = { 0 };
	const char          *url;
	pid_t                used, me = getpid();
	int                  rv;

	used = __atomic_load_n(&ovf_nng_pid, __ATOMIC_ACQUIRE);
	if (used != 0 && used != me) {
		log_err("ovio: this job runs in a process fio forked after "
		        "using ovio in its parent, where nng cannot run: "
		        "set thread=1 for every job of this engine\n");
		td_vmsg(td, EINVAL, "ovio: nng after fork", "connect");
		return (OVIO_EINVAL);
	}
	url = o->endpoint != NULL && o->endpoint[0] != '\0' ? o->endpoint
	                                                    : NULL;
	co.timeout_ms
	    = o->connect_ms != 0 ? (int) o->connect_ms : OVF_CONNECT_MS;
	co.once          = 1; /* no oviod: say so at once */
	co.tls_ca_file   = o->tls_ca;
	co.tls_cert_file = o->tls_cert;
	co.tls_key_file  = o->tls_key;
	__atomic_store_n(&ovf_nng_pid, me, __ATOMIC_RELEASE);
	rv = ovio_connect_opts(cp, url, &co);
	if (rv == 0 && o->timeout_ms != 0
	    && (rv = ovio_set_timeout(*cp, (int) o->timeout_ms)) != 0) {
		ovio_disconnect(*cp);
	}
	if (rv != 0) {
		char to[300];

		snprintf(to, sizeof(to), "to %s",
		    url != NULL ? url : ovio_default_endpoint());
		ovf_fail(td, "connect", to, rv, 0);
		if (rv == OVIO_ECONNREFUSED || rv == OVIO_ETIMEDOUT) {
			log_err("ovio: is oviod running there? (endpoint=URL "
			        "names another)\n");
		}
	}
	return (rv);
}

/* ---- setup work: file size, layout, unlink -------------------------- */

enum ovf_meta_op {
	OVF_STAT,   /* size: the file's size (0: it does not exist) */
	OVF_LAYOUT, /* make the file at least `to` bytes long */
	OVF_REMOVE, /* remove it */
};

/*
 * One piece of setup work and its outcome.  Plain data: a helper process
 * passes it back through a pipe.
 */
struct ovf_meta {
	enum ovf_meta_op op;
	uint64_t         to;
	int              status; /* 0 or the failed call's ovio status */
	int64_t          os_error;
	char             what[24]; /* the failed call */
	uint64_t         size;     /* STAT, LAYOUT: the file's size */
	uint64_t         wrote;    /* LAYOUT: bytes written */
};

/* Fills a layout write with fio's buffer contents, as fio's layout does. */
static int
ovf_layout_fill(void *arg, uint64_t offset, void *buf, size_t len)
{
	struct thread_data *td = arg;

	(void) offset;
	fill_io_buffer(td, buf, len, len);
	return (0);
}

static void
ovf_meta_fail(struct ovf_meta *m, const char *what, int status)
{
	m->status   = status;
	m->os_error = ovio_last_os_error();
	snprintf(m->what, sizeof(m->what), "%s", what);
}

/* Does m with client c, in this process. */
static void
ovf_meta_do(struct thread_data *td, ovio_client *c, struct fio_file *f,
    struct ovf_meta *m)
{
	ovio_stat st;
	uint64_t  h;
	uint32_t  flags;
	int       rv;

	switch (m->op) {
	case OVF_STAT:
		rv = ovio_open(c, f->file_name, OVIO_OPEN_READ, 0, &h);
		if (rv == OVIO_ENOENT) {
			m->size = 0; /* fio lays it out or the job creates it */
			return;
		}
		if (rv != 0) {
			ovf_meta_fail(m, "open", rv);
			return;
		}
		if ((rv = ovio_fstat(c, h, &st)) != 0) {
			ovf_meta_fail(m, "fstat", rv);
		} else {
			m->size = st.size;
		}
		(void) ovio_close(c, h);
		return;

	case OVF_LAYOUT:
		flags = OVIO_OPEN_READ | OVIO_OPEN_WRITE;
		if (td->o.allow_create) {
			flags |= OVIO_OPEN_CREATE;
		}
		if ((rv = ovio_open(c, f->file_name, flags, 0, &h)) != 0) {
			ovf_meta_fail(m, "open", rv);
			return;
		}
		if ((rv = ovio_fstat(c, h, &st)) != 0) {
			ovf_meta_fail(m, "fstat", rv);
		} else if (st.size < m->to
		           && (rv = ovio_write_stream(c, h, st.size,
		                   m->to - st.size, OVF_CHUNK, OVF_WINDOW,
		                   ovf_layout_fill, NULL, td))
		                  != 0) {
			ovf_meta_fail(m, "write", rv);
		} else if (st.size < m->to && td->o.create_fsync
		           && (rv = ovio_flush(c, h)) != 0) {
			ovf_meta_fail(m, "flush", rv);
		} else {
			m->wrote = st.size < m->to ? m->to - st.size : 0;
			m->size  = st.size < m->to ? m->to : st.size;
		}
		if ((rv = ovio_close(c, h)) != 0 && m->status == 0) {
			ovf_meta_fail(m, "close", rv);
		}
		return;

	case OVF_REMOVE:
		if ((rv = ovio_remove(c, f->file_name)) != 0) {
			ovf_meta_fail(m, "remove", rv);
		}
		return;
	}
}

/* Does m on a connection of its own, in this process. */
static void
ovf_meta_connected(
    struct thread_data *td, struct fio_file *f, struct ovf_meta *m)
{
	ovio_client *c;
	int          rv;

	if ((rv = ovf_connect(td, &c)) != 0) {
		m->status = rv; /* reported by ovf_connect */
		snprintf(m->what, sizeof(m->what), "connect");
		return;
	}
	ovf_meta_do(td, c, f, m);
	ovio_disconnect(c);
}

/*
 * Does m in a child process, so that this process, which will fork fio's
 * jobs, never initializes nng.  The child writes m back through a pipe.
 */
static void
ovf_meta_forked(struct thread_data *td, struct fio_file *f, struct ovf_meta *m)
{
	int     p[2], st = 0;
	pid_t   pid;
	ssize_t n;
	size_t  got = 0;

	if (pipe2(p, O_CLOEXEC) != 0) {
		ovf_meta_fail(m, "pipe", OVIO_EUNKNOWN);
		m->os_error = errno;
		return;
	}
	if ((pid = fork()) < 0) {
		ovf_meta_fail(m, "fork", OVIO_EUNKNOWN);
		m->os_error = errno;
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		const char *b = (const char *) m;

		close(p[0]);
		ovf_meta_connected(td, f, m);
		while (got < sizeof(*m)) {
			n = write(p[1], b + got, sizeof(*m) - got);
			if (n < 0 && errno == EINTR) {
				continue;
			}
			if (n <= 0) {
				break;
			}
			got += (size_t) n;
		}
		_exit(
		    0); /* not exit(): fio's atexit handlers are the parent's */
	}
	close(p[1]);
	while (got < sizeof(*m)) {
		n = read(p[0], (char *) m + got, sizeof(*m) - got);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		got += (size_t) n;
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR) { }
	if (got != sizeof(*m)) {
		log_err("ovio: the helper process for %s died (status %#x)\n",
		    f->file_name, st);
		ovf_meta_fail(m, "helper", OVIO_EUNKNOWN);
	}
}

/*
 * Runs setup work m for file f wherever nng may be used: on the job's own
 * connection when this is the job (->init ran here), on a connection of
 * its own in a process whose jobs are threads (or that already uses nng),
 * and otherwise in a helper process.  Returns m->status.
 */
static int
ovf_meta_run(struct thread_data *td, struct fio_file *f, struct ovf_meta *m)
{
	struct ovf_job *job = td->io_ops_data;

	m->status   = 0;
	m->os_error = 0;
	m->what[0]  = '\0';
	if (job != NULL && job->client != NULL && job->pid == getpid()) {
		ovf_meta_do(td, job->client, f, m);
	} else if (td->o.use_thread
	           || __atomic_load_n(&ovf_nng_pid, __ATOMIC_ACQUIRE)
	                  == getpid()) {
		ovf_meta_connected(td, f, m);
	} else {
		ovf_meta_forked(td, f, m);
	}
	/*
	 * Reported here, except a failed connect (ovf_connect did) and a
	 * remove of what is gone: fio unlinks a file both before and after
	 * closing it, and ignores ENOENT as unlink(2)'s.
	 */
	if (m->status != 0 && strcmp(m->what, "connect") != 0
	    && !(m->op == OVF_REMOVE && m->status == OVIO_ENOENT)) {
		ovf_fail(td, m->what, f->file_name, m->status, m->os_error);
	}
	return (m->status);
}

/*
 * ->get_file_size: the file's size on the service.  A file that does not
 * exist has size 0 (fio then needs size=, and the job creates it or
 * ->prepopulate_file lays it out).
 */
static int
ovf_get_file_size(struct thread_data *td, struct fio_file *f)
{
	struct ovf_meta m = { .op = OVF_STAT };

	if (fio_file_size_known(f)) {
		return (0);
	}
	if (ovf_meta_run(td, f, &m) != 0) {
		return (1);
	}
	f->filetype       = FIO_TYPE_FILE; /* the service's, not a local one */
	f->real_file_size = m.size;
	fio_file_set_size_known(f);
	return (0);
}

/*
 * ->prepopulate_file, called by fio's setup once each file's range is
 * known.  A job that reads (or overwrites) needs the file to cover its
 * range: a shorter file is extended with written data, as fio's own
 * layout does (what is there already is kept).  A job that only writes
 * grows the file as it writes.  Either way fio is told the file covers
 * the range, so that it issues I/O over all of it.
 */
static int
ovf_prepopulate_file(struct thread_data *td, struct fio_file *f)
{
	struct ovf_meta m   = { .op = OVF_LAYOUT };
	uint64_t        end = f->file_offset + f->io_size;

	if (f->io_size == -1ULL || td->o.fill_device
	    || f->real_file_size >= end) {
		return (0);
	}
	if (td_read(td) || (td_write(td) && td->o.overwrite)) {
		if (read_only) {
			log_err("ovio: %s is shorter than the job's range "
			        "and fio runs --readonly: not laid out\n",
			    f->file_name);
			td_vmsg(td, EROFS, "ovio: layout under --readonly",
			    "layout");
			return (1);
		}
		m.to = end;
		if (ovf_meta_run(td, f, &m) != 0) {
			return (1);
		}
		if (m.wrote != 0 && (output_format & FIO_OUTPUT_NORMAL)) {
			log_info("%s: laid out %s through ovio (%llu MiB)\n",
			    td->o.name, f->file_name,
			    (unsigned long long) (m.wrote >> 20));
		}
	}
	f->real_file_size = end;
	return (0);
}

/*
 * ->unlink_file (fio's unlink=1, ...): removes the service's file.
 * Returns 0 or an errno, as fio's own unlink(2) path does.
 */
static int
ovf_unlink_file(struct thread_data *td, struct fio_file *f)
{
	struct ovf_meta m = { .op = OVF_REMOVE };

	if (ovf_meta_run(td, f, &m) != 0) {
		return (ovf_errno(m.status));
	}
	fio_file_clear_size_known(f);
	return (0);
}

/* ---- the job: connection, files, I/O -------------------------------- */

/*
 * Waits until nothing is in flight on file of (NULL: on the job),
 * cancelling what is; past OVF_DRAIN_MS, disconnects, which completes
 * everything in flight before it returns.
 */
static void
ovf_drain(struct thread_data *td, struct ovf_job *job, struct ovf_file *of)
{
	struct timespec dl;
	unsigned       *n  = of != NULL ? &of->inflight : &job->inflight;
	int             rv = 0;

	pthread_mutex_lock(&job->mtx);
	if (*n == 0 || job->client == NULL) {
		pthread_mutex_unlock(&job->mtx);
		return;
	}
	pthread_mutex_unlock(&job->mtx);
	if (of != NULL) {
		(void) ovio_cancel_handle(job->client, of->handle, NULL);
	} else {
		(void) ovio_cancel_session(job->client, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += OVF_DRAIN_MS / 1000;
	pthread_mutex_lock(&job->mtx);
	while (*n != 0 && rv != ETIMEDOUT) {
		rv = pthread_cond_timedwait(&job->cv, &job->mtx, &dl);
	}
	rv = *n != 0;
	pthread_mutex_unlock(&job->mtx);
	if (rv) {
		log_err("ovio: %s: requests still in flight %d s after "
		        "cancelling them: disconnecting\n",
		    td->o.name, OVF_DRAIN_MS / 1000);
		ovio_disconnect(job->client);
		job->client = NULL;
	}
}

/* The completion of an io_u's request, on a libovio thread. */
static void
ovf_done(void *arg, const ovio_result *res)
{
	struct ovf_iou *iou = arg;
	struct ovf_job *job = iou->job;
	struct io_u    *io_u;

	pthread_mutex_lock(&job->mtx);
	iou->status   = res->status;
	iou->os_error = res->os_error;
	iou->bytes    = res->bytes;
	io_u          = iou->io_u;
	if (io_u != NULL && res->status == OVIO_OK && res->op == OVIO_OP_READ) {
		/* res->data lives only during this call: copy it now. */
		if (iou->bytes > io_u->xfer_buflen) {
			iou->bytes = io_u->xfer_buflen;
		}
		memcpy(io_u->xfer_buf, res->data, (size_t) iou->bytes);
	}
	iou->file->inflight--;
	iou->file = NULL;
	job->inflight--;
	if (io_u != NULL) {
		iou->next = NULL;
		if (job->done_tail != NULL) {
			job->done_tail->next = iou;
		} else {
			job->done_head = iou;
		}
		job->done_tail = iou;
		job->ndone++;
	}
	pthread_cond_broadcast(&job->cv);
	pthread_mutex_unlock(&job->mtx);
}

/* Frees what ->init made; job may be partly made. */
static void
ovf_job_free(struct ovf_job *job)
{
	struct ovf_iou *iou;

	if (job->client != NULL) {
		ovio_disconnect(job->client); /* completes what is in flight */
	}
	while ((iou = job->all) != NULL) {
		job->all = iou->all_next;
		free(iou);
	}
	pthread_cond_destroy(&job->cv);
	pthread_mutex_destroy(&job->mtx);
	free(job->events);
	free(job);
}

/* ->init, in the job's process or thread: its connection. */
static int
ovf_init(struct thread_data *td)
{
	struct ovf_job    *job;
	pthread_condattr_t ca;

	if (td_trim(td)) {
		log_err("ovio: trim is not supported (ovio has no discard "
		        "request): use rw= without trim\n");
		td_vmsg(td, EOPNOTSUPP, "ovio: trim is not supported", "init");
		return (1);
	}
	if ((job = calloc(1, sizeof(*job))) == NULL) {
		td_verror(td, ENOMEM, "init");
		return (1);
	}
	pthread_mutex_init(&job->mtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&job->cv, &ca);
	pthread_condattr_destroy(&ca);
	job->nevents = td->o.iodepth > 0 ? td->o.iodepth : 1;
	job->events  = calloc(job->nevents, sizeof(*job->events));
	job->pid     = getpid();
	if (job->events == NULL) {
		td_verror(td, ENOMEM, "init");
		goto fail;
	}
	if (ovf_connect(td, &job->client) != 0) {
		job->client = NULL;
		goto fail;
	}
	td->io_ops_data = job;
	return (0);

fail:
	ovf_job_free(job);
	return (1);
}

/* ->cleanup: disconnects, then frees the job's records. */
static void
ovf_cleanup(struct thread_data *td)
{
	struct ovf_job *job = td->io_ops_data;

	if (job != NULL) {
		ovf_job_free(job);
		td->io_ops_data = NULL;
	}
}

/* ->io_u_init: the io_u's request record, owned by the job. */
static int
ovf_io_u_init(struct thread_data *td, struct io_u *io_u)
{
	struct ovf_job *job = td->io_ops_data;
	struct ovf_iou *iou;

	if ((iou = calloc(1, sizeof(*iou))) == NULL) {
		return (ENOMEM);
	}
	iou->job  = job;
	iou->io_u = io_u;
	pthread_mutex_lock(&job->mtx);
	iou->all_next = job->all;
	job->all      = iou;
	pthread_mutex_unlock(&job->mtx);
	io_u->engine_data = iou;
	return (0);
}

/*
 * ->io_u_free, which fio calls before it frees the I/O buffers: nothing
 * may be in flight after it (the files' closes drained them already).
 */
static void
ovf_io_u_free(struct thread_data *td, struct io_u *io_u)
{
	struct ovf_job *job = td->io_ops_data;
	struct ovf_iou *iou = io_u->engine_data;

	if (job == NULL || iou == NULL) {
		return;
	}
	ovf_drain(td, job, NULL);
	pthread_mutex_lock(&job->mtx);
	iou->io_u = NULL;
	pthread_mutex_unlock(&job->mtx);
	io_u->engine_data = NULL;
}

/* ->open_file: opens f on the service, as the job's direction needs. */
static int
ovf_open_file(struct thread_data *td, struct fio_file *f)
{
	struct ovf_job  *job = td->io_ops_data;
	struct ovf_file *of;
	uint32_t         flags = OVIO_OPEN_READ;
	int              rv;

	if (job == NULL || job->client == NULL) {
		td_vmsg(td, ECONNRESET, "ovio: not connected", "open");
		return (1);
	}
	if (td_write(td)) {
		flags |= OVIO_OPEN_WRITE;
		if (td->o.allow_create) {
			flags |= OVIO_OPEN_CREATE;
		}
		if (td->o.sync_io) {
			flags |= OVIO_OPEN_WRITE_THROUGH;
		}
	}
	if (td->o.odirect) {
		flags |= OVIO_OPEN_DIRECT;
	}
	if ((of = calloc(1, sizeof(*of))) == NULL) {
		td_verror(td, ENOMEM, "open");
		return (1);
	}
	rv = ovio_open(job->client, f->file_name, flags, 0, &of->handle);
	if (rv != 0) {
		ovf_fail(td, "open", f->file_name, rv, ovio_last_os_error());
		if (rv == OVIO_ENOENT && !td->o.allow_create) {
			log_err("fio: file creation disallowed by "
			        "allow_file_create=0\n");
		}
		free(of);
		return (1);
	}
	f->fd          = -1; /* no local descriptor */
	f->engine_data = of;
	return (0);
}

/* ->close_file: waits for f's requests, then closes it on the service. */
static int
ovf_close_file(struct thread_data *td, struct fio_file *f)
{
	struct ovf_job  *job = td->io_ops_data;
	struct ovf_file *of  = f->engine_data;
	int              rv  = 0;

	if (of == NULL) {
		return (0);
	}
	if (job != NULL) {
		ovf_drain(td, job, of);
		if (job->client != NULL
		    && (rv = ovio_close(job->client, of->handle)) != 0) {
			ovf_fail(td, "close", f->file_name, rv,
			    ovio_last_os_error());
		}
	}
	f->engine_data = NULL;
	free(of);
	return (rv != 0 ? ovf_errno(rv) : 0);
}

/*
 * ->queue: sends io_u's request and returns FIO_Q_QUEUED, or finishes it
 * at once with its error (FIO_Q_COMPLETED).  fio takes the issue time
 * when this returns, so its slat is the time to send and its clat the
 * time from then to the completion's reaping, as with libaio.
 */
static enum fio_q_status
ovf_queue(struct thread_data *td, struct io_u *io_u)
{
	struct ovf_job  *job = td->io_ops_data;
	struct ovf_iou  *iou = io_u->engine_data;
	struct ovf_file *of  = io_u->file->engine_data;
	ovio_request     rq  = { 0 };
	int              rv;

	fio_ro_check(td, io_u);
	iou->status   = OVIO_OK;
	iou->os_error = 0;
	switch (io_u->ddir) {
	case DDIR_READ:
		rq.op     = OVIO_OP_READ;
		rq.offset = io_u->offset;
		rq.length = io_u->xfer_buflen;
		break;
	case DDIR_WRITE:
		rq.op     = OVIO_OP_WRITE;
		rq.offset = io_u->offset;
		rq.length = io_u->xfer_buflen;
		rq.data   = io_u->xfer_buf; /* copied into the message */
		break;
	case DDIR_SYNC:
	case DDIR_DATASYNC:
	case DDIR_SYNC_FILE_RANGE:
		rq.op = OVIO_OP_FLUSH; /* data and metadata: covers all three */
		break;
	case DDIR_TRIM:
		iou->status = OVIO_ENOTSUP;
		io_u->error = EOPNOTSUPP;
		td_vmsg(td, EOPNOTSUPP, "ovio: trim is not supported", "queue");
		return (FIO_Q_COMPLETED);
	default:
		iou->status = OVIO_EINVAL;
		io_u->error = EINVAL;
		return (FIO_Q_COMPLETED);
	}
	if (job->client == NULL || of == NULL) {
		iou->status = OVIO_ECLOSED;
		io_u->error = ECONNRESET;
		return (FIO_Q_COMPLETED);
	}
	rq.handle = of->handle;
	/* Counted first: the completion may come before ovio_submit returns. */
	pthread_mutex_lock(&job->mtx);
	rq.tag    = ++job->next_tag; /* never the top bit: the library's */
	iou->file = of;
	of->inflight++;
	job->inflight++;
	pthread_mutex_unlock(&job->mtx);
	if ((rv = ovio_submit(job->client, &rq, ovf_done, iou)) != 0) {
		pthread_mutex_lock(&job->mtx);
		of->inflight--;
		job->inflight--;
		iou->file = NULL;
		pthread_mutex_unlock(&job->mtx);
		iou->status = rv;
		io_u->error = ovf_errno(rv);
		return (FIO_Q_COMPLETED);
	}
	return (FIO_Q_QUEUED);
}

/*
 * ->getevents: waits until at least min requests have completed (never
 * more than are in flight; within t when given), hands up to max of them
 * to ->event and returns how many.
 */
static int
ovf_getevents(struct thread_data *td, unsigned int min, unsigned int max,
    const struct timespec *t)
{
	struct ovf_job *job = td->io_ops_data;
	struct timespec dl;
	unsigned        n  = 0;
	int             rv = 0;

	if (max > job->nevents) {
		struct io_u **ev = realloc(job->events, max * sizeof(*ev));

		if (ev == NULL) {
			return (-ENOMEM);
		}
		job->events  = ev;
		job->nevents = max;
	}
	if (t != NULL) {
		clock_gettime(CLOCK_MONOTONIC, &dl);
		dl.tv_sec += t->tv_sec;
		dl.tv_nsec += t->tv_nsec;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&job->mtx);
	if (min > job->ndone + job->inflight) {
		min = job->ndone + job->inflight; /* would wait for ever */
	}
	while (job->ndone < min && rv != ETIMEDOUT) {
		rv = t != NULL
		         ? pthread_cond_timedwait(&job->cv, &job->mtx, &dl)
		         : pthread_cond_wait(&job->cv, &job->mtx);
	}
	while (n < max && job->done_head != NULL) {
		struct ovf_iou *iou  = job->done_head;
		struct io_u    *io_u = iou->io_u;

		job->done_head = iou->next;
		if (job->done_head == NULL) {
			job->done_tail = NULL;
		}
		job->ndone--;
		io_u->error = ovf_errno(iou->status);
		io_u->resid = 0;
		if (iou->status == OVIO_OK && ddir_rw(io_u->ddir)
		    && iou->bytes < io_u->xfer_buflen) {
			io_u->resid = io_u->xfer_buflen - iou->bytes;
		}
		job->events[n++] = io_u;
	}
	pthread_mutex_unlock(&job->mtx);
	return ((int) n);
}

/* ->event: the io_u of the event-th completion the last ->getevents gave. */
static struct io_u *
ovf_event(struct thread_data *td, int event)
{
	struct ovf_job *job = td->io_ops_data;

	return (job->events[event]);
}

/* ->errdetails: the ovio status behind a failed io_u (fio frees it). */
static char *
ovf_errdetails(struct io_u *io_u)
{
	struct ovf_iou *iou = io_u->engine_data;
	char           *s;
	int             rv;

	if (iou == NULL || iou->status == OVIO_OK) {
		return (strdup("ovio: no details"));
	}
	rv = iou->os_error != 0
	         ? asprintf(&s, "ovio: %s: %s (OS error %lld)",
	             ovio_errname(iou->status), ovio_strerror(iou->status),
	             (long long) iou->os_error)
	         : asprintf(&s, "ovio: %s: %s", ovio_errname(iou->status),
	             ovio_strerror(iou->status));
	return (rv < 0 ? NULL : s);
}

/* What fio loads: dlsym(handle, "ioengine"). */
struct ioengine_ops ioengine = {
	.name               = "ovio",
	.version            = FIO_IOOPS_VERSION,
	.flags              = FIO_DISKLESSIO | FIO_NODISKUTIL,
	.init               = ovf_init,
	.queue              = ovf_queue,
	.getevents          = ovf_getevents,
	.event              = ovf_event,
	.errdetails         = ovf_errdetails,
	.cleanup            = ovf_cleanup,
	.open_file          = ovf_open_file,
	.close_file         = ovf_close_file,
	.unlink_file        = ovf_unlink_file,
	.get_file_size      = ovf_get_file_size,
	.prepopulate_file   = ovf_prepopulate_file,
	.io_u_init          = ovf_io_u_init,
	.io_u_free          = ovf_io_u_free,
	.options            = ovf_option_table,
	.option_struct_size = sizeof(struct ovf_options),
};
