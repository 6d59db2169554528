/*
 * blocking.c - libovio's blocking calls and windowed transfers, built on
 * ovio__client_send.
 */
#include <stdlib.h>
#include <string.h>

#include "client_impl.h"

#define DEFAULT_CHUNK  (1u << 20)
#define DEFAULT_WINDOW 8u
#define MAX_WINDOW     256u

static _Thread_local int64_t last_os_error;

int64_t
ovio_last_os_error(void)
{
	return (last_os_error);
}

static uint64_t
next_tag(ovio_client *c)
{
	uint64_t t;

	nng_mtx_lock(c->mtx);
	t = (1ull << 63) | ++c->next_tag;
	nng_mtx_unlock(c->mtx);
	return (t);
}

typedef struct waiter {
	bool                done;
	ovio_result         res;
	ovio_service_status svc;
	void               *rbuf; /* READ: where the data goes */
	size_t              rcap;
	ovio__list          list; /* LIST: the page, for the caller to walk */
} waiter;

static void
wait_done(void *arg, cop *op, int status, const Ovio__Reply *rp,
    const uint8_t *payload, size_t plen, nng_msg *msg)
{
	waiter      *w = arg;
	ovio_client *c = op->c;

	(void) msg;
	memset(&w->res, 0, sizeof(w->res));
	w->res.status = status;
	if (status == 0) {
		ovio__result_from_reply(&w->res, rp, payload, &w->svc);
		if (w->rbuf != NULL && w->res.status == 0) {
			size_t n = plen < w->rcap ? plen : w->rcap;
			memcpy(w->rbuf, payload, n);
			w->res.bytes = n;
		}
		if (op->kind == OVIO_OP_LIST && w->res.status == 0) {
			w->res.status
			    = ovio__list_decode(&w->list, payload, plen);
		}
		w->res.data = NULL;
	}
	nng_mtx_lock(c->mtx);
	w->done = true;
	nng_cv_wake(c->cv);
	nng_mtx_unlock(c->mtx);
}

/* Sends rq and waits for its completion; returns its status. */
static int
call(ovio_client *c, ovio_request *rq, waiter *w)
{
	int rv;

	rq->tag       = next_tag(c);
	w->done       = false;
	last_os_error = 0;
	if ((rv = ovio__client_send(c, rq, NULL, NULL, wait_done, w)) != 0) {
		return (rv);
	}
	nng_mtx_lock(c->mtx);
	while (!w->done) {
		nng_cv_wait(c->cv);
	}
	nng_mtx_unlock(c->mtx);
	last_os_error = w->res.os_error;
	return (w->res.status);
}

int
ovio_open(ovio_client *c, const char *path, uint32_t flags, uint32_t mode,
    uint64_t *handle)
{
	ovio_request rq = {
		.op = OVIO_OP_OPEN, .path = path, .flags = flags, .mode = mode
	};
	waiter w = { 0 };
	int    rv;

	if (path == NULL || handle == NULL) {
		return (OVIO_EINVAL);
	}
	if ((rv = call(c, &rq, &w)) == 0) {
		*handle = w.res.handle;
	}
	return (rv);
}

int
ovio_pread(ovio_client *c, uint64_t handle, void *buf, size_t len,
    uint64_t offset, size_t *got)
{
	ovio_request rq = { .op = OVIO_OP_READ,
		.handle         = handle,
		.offset         = offset,
		.length         = len };
	waiter       w  = { 0 };
	int          rv;

	w.rbuf = buf;
	w.rcap = len;
	if ((rv = call(c, &rq, &w)) == 0 && got != NULL) {
		*got = (size_t) w.res.bytes;
	}
	return (rv);
}

int
ovio_pwrite(ovio_client *c, uint64_t handle, const void *buf, size_t len,
    uint64_t offset, size_t *put)
{
	ovio_request rq = { .op = OVIO_OP_WRITE,
		.handle         = handle,
		.offset         = offset,
		.length         = len,
		.data           = buf };
	waiter       w  = { 0 };
	int          rv;

	if ((rv = call(c, &rq, &w)) == 0 && put != NULL) {
		*put = (size_t) w.res.bytes;
	}
	return (rv);
}

int
ovio_flush(ovio_client *c, uint64_t handle)
{
	ovio_request rq = { .op = OVIO_OP_FLUSH, .handle = handle };
	waiter       w  = { 0 };

	return (call(c, &rq, &w));
}

int
ovio_fstat(ovio_client *c, uint64_t handle, ovio_stat *st)
{
	ovio_request rq = { .op = OVIO_OP_STAT, .handle = handle };
	waiter       w  = { 0 };
	int          rv;

	if (handle == 0) {
		return (OVIO_EBADF);
	}
	if ((rv = call(c, &rq, &w)) == 0) {
		*st = w.res.stat;
	}
	return (rv);
}

int
ovio_stat_path(ovio_client *c, const char *path, ovio_stat *st)
{
	ovio_request rq = { .op = OVIO_OP_STAT, .path = path };
	waiter       w  = { 0 };
	int          rv;

	if (path == NULL) {
		return (OVIO_EINVAL);
	}
	if ((rv = call(c, &rq, &w)) == 0) {
		*st = w.res.stat;
	}
	return (rv);
}

int
ovio_setsize(ovio_client *c, uint64_t handle, uint64_t size)
{
	ovio_request rq
	    = { .op = OVIO_OP_SETSIZE, .handle = handle, .length = size };
	waiter w = { 0 };

	return (call(c, &rq, &w));
}

int
ovio_cancel(ovio_client *c, uint64_t tag, ovio_cancel_result *what)
{
	ovio_request rq = { .op = OVIO_OP_CANCEL, .cancel_tag = tag };
	waiter       w  = { 0 };
	int          rv;

	if ((rv = call(c, &rq, &w)) == 0 && what != NULL) {
		*what = w.res.cancel;
	}
	return (rv);
}

int
ovio_cancel_handle(ovio_client *c, uint64_t handle, uint32_t *canceled)
{
	ovio_request rq
	    = { .op = OVIO_OP_CANCEL, .handle = handle, .all = true };
	waiter w = { 0 };
	int    rv;

	if ((rv = call(c, &rq, &w)) == 0 && canceled != NULL) {
		*canceled = w.res.canceled;
	}
	return (rv);
}

int
ovio_cancel_session(ovio_client *c, uint32_t *canceled)
{
	ovio_request rq = { .op = OVIO_OP_CANCEL, .session = true };
	waiter       w  = { 0 };
	int          rv;

	if ((rv = call(c, &rq, &w)) == 0 && canceled != NULL) {
		*canceled = w.res.canceled;
	}
	return (rv);
}

int
ovio_close(ovio_client *c, uint64_t handle)
{
	ovio_request rq = { .op = OVIO_OP_CLOSE, .handle = handle };
	waiter       w  = { 0 };

	return (call(c, &rq, &w));
}

int
ovio_close_commit(ovio_client *c, uint64_t handle)
{
	ovio_request rq = { .op = OVIO_OP_CLOSE,
		.handle         = handle,
		.flags          = OVIO_CLOSE_COMMIT };
	waiter       w  = { 0 };

	return (call(c, &rq, &w));
}

int
ovio_status(ovio_client *c, ovio_service_status *st)
{
	ovio_request rq = { .op = OVIO_OP_STATUS };
	waiter       w  = { 0 };
	int          rv;

	if ((rv = call(c, &rq, &w)) == 0) {
		if (w.res.service == NULL) {
			return (OVIO_EPROTO);
		}
		*st = w.svc;
	}
	return (rv);
}

/*
 * Windowed transfers.  Up to window chunks are in flight; completions are
 * consumed in order by the calling thread, so a read sink sees the data in
 * file order and is never called concurrently.
 */
typedef struct slot {
	bool           done;
	int            status;
	uint64_t       off;
	size_t         len;
	uint64_t       bytes;
	nng_msg       *msg; /* READ: the reply, kept until consumed */
	const uint8_t *data;
} slot;

typedef struct stream {
	ovio_client *c;
	slot        *slots;
	unsigned     window;
} stream;

static void
slot_done(void *arg, cop *op, int status, const Ovio__Reply *rp,
    const uint8_t *payload, size_t plen, nng_msg *msg)
{
	slot        *s = arg;
	ovio_client *c = op->c;

	nng_mtx_lock(c->mtx);
	s->status = status != 0 ? status : (int) rp->status;
	if (s->status == 0) {
		s->bytes = rp->result;
		if (op->kind == OVIO_OP_READ) {
			s->bytes     = plen < s->len ? plen : s->len;
			s->data      = payload;
			s->msg       = msg;
			op->keep_msg = true;
		}
	}
	s->done = true;
	nng_cv_wake(c->cv);
	nng_mtx_unlock(c->mtx);
}

static void
slot_wait(ovio_client *c, slot *s)
{
	nng_mtx_lock(c->mtx);
	while (!s->done) {
		nng_cv_wait(c->cv);
	}
	nng_mtx_unlock(c->mtx);
}

static int
stream_init(stream *st, ovio_client *c, size_t *chunk, unsigned *window)
{
	if (*chunk == 0) {
		*chunk = DEFAULT_CHUNK;
	}
	if (*window == 0) {
		*window = DEFAULT_WINDOW;
	}
	if (*window > MAX_WINDOW) {
		*window = MAX_WINDOW;
	}
	st->c      = c;
	st->window = *window;
	if ((st->slots = calloc(*window, sizeof(slot))) == NULL) {
		return (OVIO_ENOMEM);
	}
	return (0);
}

int
ovio_read_stream(ovio_client *c, uint64_t handle, uint64_t offset, uint64_t len,
    size_t chunk, unsigned window, ovio_sink_fn sink, ovio_progress_fn progress,
    void *arg, uint64_t *total)
{
	stream   st;
	uint64_t next = offset,
	         end  = len == UINT64_MAX ? UINT64_MAX : offset + len;
	uint64_t head = 0, tail = 0, done_bytes = 0;
	bool     eof = false;
	int      err = 0, rv;

	if ((rv = stream_init(&st, c, &chunk, &window)) != 0) {
		return (rv);
	}
	for (;;) {
		while (!eof && err == 0 && tail - head < window && next < end) {
			slot        *s  = &st.slots[tail % window];
			ovio_request rq = { .op = OVIO_OP_READ,
				.handle         = handle,
				.offset         = next };
			rq.length = end - next < chunk ? end - next : chunk;
			memset(s, 0, sizeof(*s));
			s->off = next;
			s->len = (size_t) rq.length;
			rq.tag = next_tag(c);
			if ((rv = ovio__client_send(
			         c, &rq, NULL, NULL, slot_done, s))
			    != 0) {
				err = rv;
				break;
			}
			tail++;
			next += rq.length;
		}
		if (head == tail) {
			break;
		}
		slot *s = &st.slots[head % window];
		slot_wait(c, s);
		if (s->status != 0 && err == 0) {
			err = s->status;
		}
		if (s->status == 0 && err == 0 && !eof) {
			if (s->bytes > 0
			    && (rv = sink(
			            arg, s->off, s->data, (size_t) s->bytes))
			           != 0) {
				err = rv;
			}
			done_bytes += s->bytes;
			if (s->bytes < s->len) {
				eof = true;
			}
			if (progress != NULL) {
				progress(arg, done_bytes);
			}
		}
		if (s->msg != NULL) {
			nng_msg_free(s->msg);
		}
		head++;
	}
	free(st.slots);
	if (total != NULL) {
		*total = done_bytes;
	}
	last_os_error = 0;
	return (err);
}

int
ovio_write_stream(ovio_client *c, uint64_t handle, uint64_t offset,
    uint64_t len, size_t chunk, unsigned window, ovio_fill_fn fill,
    ovio_progress_fn progress, void *arg)
{
	stream   st;
	uint64_t next = offset, end = offset + len;
	uint64_t head = 0, tail = 0, done_bytes = 0;
	int      err = 0, rv;

	if ((rv = stream_init(&st, c, &chunk, &window)) != 0) {
		return (rv);
	}
	for (;;) {
		while (err == 0 && tail - head < window && next < end) {
			slot        *s  = &st.slots[tail % window];
			ovio_request rq = { .op = OVIO_OP_WRITE,
				.handle         = handle,
				.offset         = next };
			rq.length = end - next < chunk ? end - next : chunk;
			memset(s, 0, sizeof(*s));
			s->off = next;
			s->len = (size_t) rq.length;
			rq.tag = next_tag(c);
			if ((rv = ovio__client_send(
			         c, &rq, fill, arg, slot_done, s))
			    != 0) {
				err = rv;
				break;
			}
			tail++;
			next += rq.length;
		}
		if (head == tail) {
			break;
		}
		slot *s = &st.slots[head % window];
		slot_wait(c, s);
		if (s->status != 0 && err == 0) {
			err = s->status;
		} else if (err == 0 && s->bytes < s->len) {
			/* A short write: the service wrote what the disk took.
			 */
			err = OVIO_ENOSPC;
		}
		if (err == 0) {
			done_bytes += s->bytes;
			if (progress != NULL) {
				progress(arg, done_bytes);
			}
		}
		head++;
	}
	free(st.slots);
	return (err);
}

typedef struct membuf {
	uint8_t *base;
	uint64_t origin;
} membuf;

static int
mem_sink(void *arg, uint64_t offset, const void *data, size_t len)
{
	membuf *m = arg;
	memcpy(m->base + (offset - m->origin), data, len);
	return (0);
}

static int
mem_fill(void *arg, uint64_t offset, void *buf, size_t len)
{
	membuf *m = arg;
	memcpy(buf, m->base + (offset - m->origin), len);
	return (0);
}

int
ovio_pread_all(ovio_client *c, uint64_t handle, void *buf, size_t len,
    uint64_t offset, size_t chunk, unsigned window, size_t *got)
{
	membuf   m     = { buf, offset };
	uint64_t total = 0;
	int      rv;

	rv = ovio_read_stream(
	    c, handle, offset, len, chunk, window, mem_sink, NULL, &m, &total);
	if (got != NULL) {
		*got = (size_t) total;
	}
	return (rv);
}

int
ovio_pwrite_all(ovio_client *c, uint64_t handle, const void *buf, size_t len,
    uint64_t offset, size_t chunk, unsigned window)
{
	membuf m = { (uint8_t *) buf, offset };

	return (ovio_write_stream(
	    c, handle, offset, len, chunk, window, mem_fill, NULL, &m));
}

int
ovio_list_page(ovio_client *c, const char *path, uint64_t cookie, uint32_t max,
    ovio_dirent_fn fn, void *arg, uint64_t *next, bool *more)
{
	ovio_request rq = { .op = OVIO_OP_LIST,
		.path           = path,
		.offset         = cookie,
		.length         = max };
	waiter       w  = { 0 };
	size_t       i;
	int          rv;

	if (path == NULL || fn == NULL) {
		return (OVIO_EINVAL);
	}
	if ((rv = call(c, &rq, &w)) == 0) {
		if (next != NULL) {
			*next = w.res.next_cookie;
		}
		if (more != NULL) {
			*more = w.res.more;
		}
		for (i = 0; i < w.list.n && rv == 0; i++) {
			rv = fn(arg, &w.list.ents[i]);
		}
	}
	ovio__list_free(&w.list);
	return (rv);
}

int
ovio_list(ovio_client *c, const char *path, ovio_dirent_fn fn, void *arg)
{
	uint64_t cookie = 0, next = 0;
	bool     more = true;
	int      rv   = 0;

	/* The largest page the service gives: each page lists the folder. */
	while (more && rv == 0) {
		rv = ovio_list_page(
		    c, path, cookie, 4096, fn, arg, &next, &more);
		if (rv == 0 && more && next <= cookie) {
			/* A service that would have us loop forever. */
			rv = OVIO_EPROTO;
		}
		cookie = next;
	}
	return (rv);
}

int
ovio_mkdir(ovio_client *c, const char *path, uint32_t flags, uint32_t mode)
{
	ovio_request rq = {
		.op = OVIO_OP_MKDIR, .path = path, .flags = flags, .mode = mode
	};
	waiter w = { 0 };

	if (path == NULL) {
		return (OVIO_EINVAL);
	}
	return (call(c, &rq, &w));
}

int
ovio_remove(ovio_client *c, const char *path)
{
	ovio_request rq = { .op = OVIO_OP_REMOVE, .path = path };
	waiter       w  = { 0 };

	if (path == NULL) {
		return (OVIO_EINVAL);
	}
	return (call(c, &rq, &w));
}

int
ovio_rename(
    ovio_client *c, const char *path, const char *new_path, uint32_t flags)
{
	ovio_request rq = { .op = OVIO_OP_RENAME,
		.path           = path,
		.new_path       = new_path,
		.flags          = flags };
	waiter       w  = { 0 };

	if (path == NULL || new_path == NULL) {
		return (OVIO_EINVAL);
	}
	return (call(c, &rq, &w));
}
