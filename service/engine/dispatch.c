/*
 * dispatch.c - runs one received request, on the nng callback thread that
 * received it.
 *
 * Reads, writes, flushes and set-size go to the port through op.c, which
 * owns an operation's life; their reply comes from the completion thread.
 * Opens and stats may block in the file system, so they run on the worker
 * pool (workers.c), never on nng's threads.  Open, stat, set-size,
 * cancel, close and status are answered here.  Every request gets exactly
 * one reply; a reply to a pipe that has gone is discarded by nng.
 *
 * A session pointer is never kept across an unlock: a dead session may be
 * freed by then.  The session is found again by its pipe id.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "engine.h"
#include "fs.h"
#include "wire.h"

typedef struct req {
	engine        *e; /* op->eng */
	eng_op        *op;
	Ovio__Request *rq;
	uint32_t       pipe;
	uint8_t       *payload;
	size_t         plen;
} req;

/* Sends rp as op's reply (its tag is the request's). */
static void
reply(eng_op *op, Ovio__Reply *rp)
{
	rp->tag          = op->tag;
	op->reply_status = (int) rp->status;
	nng_msg_clear(op->msg);
	if (ovio__wire_encode_reply(op->msg, rp) != 0) {
		ovio__op_reply_status(op, OVIO_ENOMEM, 0);
		return;
	}
	ovio__op_reply(op);
}

/* Finds the live session of r under e->mtx; NULL if it went away. */
static eng_session *
req_session(const req *r)
{
	eng_session *s = ovio__session_find(r->e, r->pipe);
	return (s != NULL && !s->dead ? s : NULL);
}

/* p rounded up to a multiple of align (a power of two). */
static uint8_t *
align_up(uint8_t *p, uint32_t align)
{
	return (p + ((align - ((uintptr_t) p & (align - 1))) & (align - 1)));
}

/*
 * A read or write on a handle opened OVIO_OPEN_DIRECT: its offset and
 * length must be multiples of the handle's alignment, and so must its
 * buffer's address.  The buffer is the message itself (DESIGN.md 3), at
 * whatever address nng gave it: it grows by align - 1 bytes so that an
 * aligned place fits in it, and a write's payload moves there; a read's
 * data is moved back behind the reply's room when it completes (op.c).
 * *buf is the buffer the port gets, len bytes long.
 */
static int
direct_buffer(req *r, uint32_t align, void **buf, size_t len)
{
	nng_msg *msg = r->op->msg;
	size_t   off, mlen;
	uint8_t *p;

	if (r->rq->offset % align != 0 || len % align != 0) {
		return (OVIO_EINVAL);
	}
	if (r->rq->op == OVIO__OP__OP_READ) {
		mlen = OVIO__REPLY_ROOM + len + align - 1;
		if (nng_msg_realloc(msg, mlen) != 0) {
			return (OVIO_ENOMEM);
		}
		*buf = align_up(
		    (uint8_t *) nng_msg_body(msg) + OVIO__REPLY_ROOM, align);
		return (0);
	}
	off = (size_t) (r->payload - (uint8_t *) nng_msg_body(msg));
	if (nng_msg_realloc(msg, nng_msg_len(msg) + align - 1) != 0) {
		return (OVIO_ENOMEM);
	}
	p          = (uint8_t *) nng_msg_body(msg) + off;
	r->payload = align_up(p, align);
	memmove(r->payload, p, len);
	*buf = r->payload;
	return (0);
}

static void
do_io(req *r)
{
	engine        *e  = r->e;
	eng_op        *op = r->op;
	Ovio__Request *rq = r->rq;
	eng_session   *s;
	eng_handle    *h;
	int            rv = 0;
	size_t         len;
	void          *buf   = NULL;
	uint32_t       align = 0; /* what buf is aligned for (0: nothing) */

	/* ovio__validate_request bounded offsets and lengths (max_io). */
	switch (rq->op) {
	case OVIO__OP__OP_READ:
		len = (size_t) rq->length;
		nng_msg_clear(op->msg);
		if (nng_msg_realloc(op->msg, OVIO__REPLY_ROOM + len) != 0) {
			ovio__op_reply_status(op, OVIO_ENOMEM, 0);
			return;
		}
		buf = (uint8_t *) nng_msg_body(op->msg) + OVIO__REPLY_ROOM;
		op->port.kind = OVIO__PORT_READ;
		break;
	case OVIO__OP__OP_WRITE:
		len           = r->plen;
		buf           = r->payload;
		op->port.kind = OVIO__PORT_WRITE;
		break;
	case OVIO__OP__OP_SETSIZE:
		len           = 0;
		op->port.kind = OVIO__PORT_SETSIZE;
		break;
	default:
		len           = 0;
		op->port.kind = OVIO__PORT_FLUSH;
		break;
	}

again:
	nng_mtx_lock(e->mtx);
	if ((s = req_session(r)) == NULL) {
		rv = OVIO_ECLOSED;
	} else if (e->stopping || e->draining) {
		rv = OVIO_ESHUTDOWN;
	} else if ((h = ovio__handle_get(e, s, rq->handle, &rv)) == NULL) {
		/* rv set */
	} else if (h->direct_align != align
	           && (op->port.kind == OVIO__PORT_READ
	               || op->port.kind == OVIO__PORT_WRITE)) {
		/*
		 * Unbuffered I/O: the buffer is made aligned without the lock
		 * (a handle's alignment never changes; its id is never
		 * another handle's), then the handle is looked up again.
		 */
		align = h->direct_align;
		nng_mtx_unlock(e->mtx);
		if ((rv = direct_buffer(r, align, &buf, len)) == 0) {
			goto again;
		}
		nng_mtx_lock(e->mtx);
	} else {
		rv = ovio__op_start(op, s, h,
		    op->port.kind == OVIO__PORT_SETSIZE ? rq->length
		                                        : rq->offset,
		    buf, len, rq->deadline_ms);
	}
	if (rv != 0 && rv != OVIO__PORT_DONE) {
		e->ctr.rejected++;
	}
	nng_mtx_unlock(e->mtx);

	if (rv == OVIO__PORT_DONE) {
		ovio__op_complete(op); /* answered here, no completion thread */
	} else if (rv != 0) {
		ovio__op_reply_status(op, rv, op->port.os_error);
	}
}

/*
 * An open has effects (create, truncate) as soon as the file system runs it,
 * so everything that can refuse it is checked first: the request was
 * validated, and here the session reserves its handle (s->opening) under
 * e->mtx, so that the handle limit, checked before the open, still holds
 * when the handle is added after it.
 */
static void
do_open(req *r)
{
	engine        *e  = r->e;
	Ovio__Request *rq = r->rq;
	Ovio__Reply    rp = OVIO__REPLY__INIT;
	eng_session   *s;
	eng_handle    *h;
	ovio__fd       fd;
	ovio__fs_temp *temp = NULL;
	int            kind = OVIO__FS_FILE, rv = 0;
	int64_t        oserr  = 0;
	bool           opened = false;
	uint32_t       align  = 0;
	char          *path;

	/* The admin listings show the path; a handle without it still works. */
	if ((path = ovio__malloc(strlen(rq->path) + 1)) != NULL) {
		memcpy(path, rq->path, strlen(rq->path) + 1);
	}
	nng_mtx_lock(e->mtx);
	if ((s = req_session(r)) == NULL) {
		rv = OVIO_ECLOSED;
	} else if (e->stopping || e->draining) {
		rv = OVIO_ESHUTDOWN;
	} else if (s->nhandles + s->opening >= e->limits.handles_per_session) {
		rv = OVIO_EBUSY;
	} else {
		s->opening++;
	}
	nng_mtx_unlock(e->mtx);
	if (rv != 0) {
		free(path);
		goto fail;
	}

	if (rq->flags & OVIO_OPEN_TEMP) {
		/* Nothing at path changes until a commit: see fs.h. */
		rv = ovio__fs_open_temp(e->rootfd, rq->path, rq->flags,
		    rq->mode, &fd, &temp, &oserr);
	} else {
		rv = ovio__fs_open(e->rootfd, rq->path, rq->flags, rq->mode,
		    &fd, &kind, &oserr);
	}
	if (rv == 0) {
		opened     = true;
		r->op->ran = true; /* a create took effect, whatever follows */
		if (rq->flags & OVIO_OPEN_DIRECT) {
			align = ovio__fs_direct_align(fd);
		}
	}
	nng_mtx_lock(e->mtx);
	/* A session that went away has no reservation left to give back. */
	if ((s = ovio__session_find(e, r->pipe)) != NULL) {
		s->opening--;
	}
	if (rv != 0) {
		/* rv and oserr from the open */
	} else if (s == NULL || s->dead) {
		rv = OVIO_ECLOSED;
	} else if (e->stopping) {
		rv = OVIO_ESHUTDOWN;
	} else if ((rv = ovio__handle_new(e, s, fd, kind, &h)) == 0) {
		h->path         = path;
		h->flags        = rq->flags & 0xffu; /* OVIO_OPEN_* bits */
		h->direct_align = align;
		path            = NULL;
		if ((rv = ovio__port_associate(e->port, fd)) != 0) {
			ovio__handle_free(h);
		} else {
			h->temp     = temp; /* the deferred close owns it now */
			temp        = NULL;
			rp.handle   = ovio__handle_id(h);
			rp.seekable = kind != OVIO__FS_STREAM;
		}
	}
	nng_mtx_unlock(e->mtx);
	free(path); /* NULL when the handle took it */
	if (rv != 0) {
		goto fail;
	}
	reply(r->op, &rp);
	return;

fail:
	if (temp != NULL) {
		ovio__fs_discard_temp(temp, fd);
	}
	if (opened) {
		ovio__fs_close(fd);
		oserr = 0;
	}
	ovio__op_reply_status(r->op, rv, oserr);
}

/* stat, by path or on a handle: synchronous, holding the handle open. */
static void
do_stat(req *r)
{
	engine        *e   = r->e;
	Ovio__Request *rq  = r->rq;
	Ovio__Reply    rp  = OVIO__REPLY__INIT;
	Ovio__FileStat fst = OVIO__FILE_STAT__INIT;
	eng_session   *s;
	eng_handle    *h = NULL;
	ovio_stat      st;
	int64_t        oserr = 0;
	int            rv    = 0;
	bool           drained;

	memset(&st, 0, sizeof(st));
	if (rq->handle == 0) {
		rv = ovio__fs_stat(e->rootfd, rq->path, &st, &oserr);
	} else {
		nng_mtx_lock(e->mtx);
		if ((s = req_session(r)) == NULL) {
			rv = OVIO_ECLOSED;
		} else if ((h = ovio__handle_get(e, s, rq->handle, &rv))
		           != NULL) {
			ovio__handle_hold(h);
		}
		nng_mtx_unlock(e->mtx);
		if (h == NULL) {
			ovio__op_reply_status(r->op, rv, 0);
			return;
		}
		rv              = ovio__fs_fstat(h->fd, &st, &oserr);
		st.direct_align = h->direct_align; /* set once, at the open */
		nng_mtx_lock(e->mtx);
		drained = ovio__handle_unhold(h);
		nng_mtx_unlock(e->mtx);
		if (drained) {
			ovio__close_finish(h);
		}
	}
	if (rv != 0) {
		ovio__op_reply_status(r->op, rv, oserr);
		return;
	}
	fst.size         = st.size;
	fst.mode         = st.mode;
	fst.type         = st.type;
	fst.mtime_ns     = st.mtime_ns;
	fst.direct_align = st.direct_align;
	rp.stat          = &fst;
	reply(r->op, &rp);
}

/*
 * Cancel of one tag is answered from the target's outcome (op.c): DONE when
 * it completed cancelled, TOO_LATE when it completed with its real result,
 * NOT_FOUND when it is not in flight on this session.  Cancel of a handle's
 * or the session's operations answers how many cancels were started.
 */
static void
do_cancel(req *r)
{
	engine        *e  = r->e;
	Ovio__Request *rq = r->rq;
	Ovio__Reply    rp = OVIO__REPLY__INIT;
	eng_session   *s;
	eng_handle    *h;
	eng_op        *target;
	int            rv      = 0;
	bool           pending = false;

	rp.cancel = OVIO__CANCEL_RESULT__CANCEL_NOT_FOUND;
	nng_mtx_lock(e->mtx);
	if ((s = req_session(r)) == NULL) {
		rv = OVIO_ECLOSED;
	} else if (rq->session) {
		for (h = ovio__list_first(&s->handles); h != NULL;
		     h = ovio__list_next(&s->handles, h)) {
			rp.canceled += ovio__cancel_handle_ops(h);
		}
		rp.found = rp.canceled > 0;
	} else if (rq->all) {
		if ((h = ovio__handle_get(e, s, rq->handle, &rv)) != NULL) {
			rp.canceled = ovio__cancel_handle_ops(h);
			rp.found    = rp.canceled > 0;
		} else if (rv == OVIO_ECLOSING) {
			rv = 0; /* closing already cancelled everything */
		}
	} else if ((target = ovio__tag_find(s, rq->cancel_tag)) != NULL
	           && target->in_flight) {
		/* Answered when the target completes. */
		ovio__op_cancel_wait(target, r->op);
		pending = true;
	}
	nng_mtx_unlock(e->mtx);
	if (pending) {
		return;
	}
	if (rv != 0) {
		ovio__op_reply_status(r->op, rv, 0);
		return;
	}
	reply(r->op, &rp);
}

static void
do_close(req *r)
{
	engine      *e = r->e;
	eng_session *s;
	eng_handle  *h       = NULL;
	int          rv      = 0;
	bool         drained = false;

	nng_mtx_lock(e->mtx);
	if ((s = req_session(r)) == NULL) {
		rv = OVIO_ECLOSED;
	} else if ((h = ovio__handle_get(e, s, r->rq->handle, &rv)) == NULL) {
		/* rv set */
	} else if ((r->rq->flags & OVIO_CLOSE_COMMIT) && h->temp == NULL) {
		/* Refused before anything happens: the handle stays open. */
		rv = OVIO_EINVAL;
		h  = NULL;
	} else {
		/*
		 * The close request is answered when the handle is closed
		 * (and, for a commit, its file is in place or discarded).  A
		 * commit never puts in place a file whose writes the client
		 * has not seen complete: with anything in flight, which the
		 * close cancels, the commit is abandoned (ECANCELED).
		 */
		h->commit = (r->rq->flags & OVIO_CLOSE_COMMIT) != 0;
		if (h->commit && h->inflight > 0) {
			h->commit          = false;
			h->commit_canceled = true;
		}
		r->op->ran = true;
		drained    = ovio__close_begin(h, r->op);
	}
	nng_mtx_unlock(e->mtx);
	if (h == NULL) {
		ovio__op_reply_status(r->op, rv, 0);
	} else if (drained) {
		ovio__close_finish(h);
	}
}

static void
do_status(req *r)
{
	Ovio__Reply         rp = OVIO__REPLY__INIT;
	Ovio__ServiceStatus st = OVIO__SERVICE_STATUS__INIT;

	ovio__engine_status(r->e, &st);
	rp.service = &st;
	reply(r->op, &rp);
}

/* An open or a stat, on a worker-pool thread. */
static void
dispatch_job(eng_work *w)
{
	eng_op *op = (eng_op *) ((char *) w - offsetof(eng_op, work));
	req     r;

	memset(&r, 0, sizeof(r));
	r.e         = op->eng;
	r.op        = op;
	r.rq        = op->work_rq;
	r.pipe      = op->work_pipe;
	op->work_rq = NULL;
	if (r.rq->op == OVIO__OP__OP_OPEN) {
		do_open(&r);
	} else {
		do_stat(&r);
	}
	ovio__request__free_unpacked(r.rq, NULL);
}

/* Answers a request refused before it ran (counted), and frees rq. */
static void
dispatch_refuse(eng_op *op, Ovio__Request *rq, int status)
{
	nng_mtx_lock(op->eng->mtx);
	op->eng->ctr.rejected++;
	nng_mtx_unlock(op->eng->mtx);
	if (rq != NULL) {
		ovio__request__free_unpacked(rq, NULL);
	}
	ovio__op_reply_status(op, status, 0);
}

void
ovio__dispatch(eng_op *op)
{
	req r;
	int rv;

	memset(&r, 0, sizeof(r));
	r.e            = op->eng;
	r.op           = op;
	r.pipe         = nng_pipe_id(nng_msg_get_pipe(op->msg));
	op->tag        = 0;
	op->kind       = 0;
	op->log_pipe   = r.pipe;
	op->log_handle = 0;
	op->log_offset = 0;
	op->log_length = 0;
	op->h          = NULL;
	op->sess       = NULL;
	op->rc         = NULL;
	op->ran        = false;
	/* The record is pooled: nothing of its last request may answer this
	 * one (a rejection carries no other client's os_error). */
	op->port.status   = 0;
	op->port.os_error = 0;
	op->port.result   = 0;
	if ((rv = ovio__wire_decode_request(
	         op->msg, &r.rq, &r.payload, &r.plen))
	    != 0) {
		dispatch_refuse(op, NULL, OVIO_EPROTO);
		return;
	}
	op->tag        = r.rq->tag;
	op->kind       = r.rq->op;
	op->log_handle = r.rq->handle;
	op->log_offset = r.rq->offset;
	op->log_length = r.rq->op == OVIO__OP__OP_WRITE ? r.plen : r.rq->length;
	/* A batch's operation: data operations only, without an id. */
	if (op->batch_parent != NULL && !ovio__batch_kid_ok(r.rq)) {
		dispatch_refuse(op, r.rq, OVIO_EINVAL);
		return;
	}
	if ((rv = ovio__validate_request(
	         r.rq, op->msg, r.plen, &op->eng->limits))
	    != 0) {
		dispatch_refuse(op, r.rq, rv);
		return;
	}
	/*
	 * Admin requests on the admin endpoint only, and nothing else there
	 * (a batch's operations were let in with their batch).
	 */
	if (op->batch_parent == NULL
	    && (rv = ovio__admin_gate(op->eng, r.pipe, r.rq->op)) != 0) {
		dispatch_refuse(op, r.rq, rv);
		return;
	}
	if (ovio__rc_applies(r.rq) && ovio__rc_begin(op, r.rq, r.plen)) {
		/* A copy of a request that already ran, or is running. */
		ovio__request__free_unpacked(r.rq, NULL);
		return;
	}
	if (ovio__ns_is_op(r.rq->op)) {
		ovio__ns_dispatch(op, r.rq, r.pipe); /* it frees the request */
		return;
	}
	switch (r.rq->op) {
	case OVIO__OP__OP_OPEN:
	case OVIO__OP__OP_STAT:
		/* May block in the file system: off nng's threads. */
		op->work_rq   = r.rq;
		op->work_pipe = r.pipe;
		ovio__work_queue(&op->eng->work, &op->work, dispatch_job);
		return; /* the job frees the request */
	case OVIO__OP__OP_READ:
	case OVIO__OP__OP_WRITE:
	case OVIO__OP__OP_FLUSH:
	case OVIO__OP__OP_SETSIZE:
		do_io(&r);
		break;
	case OVIO__OP__OP_CANCEL:
		do_cancel(&r);
		break;
	case OVIO__OP__OP_CLOSE:
		do_close(&r);
		break;
	case OVIO__OP__OP_STATUS:
		do_status(&r);
		break;
	case OVIO__OP__OP_ADMIN:
		ovio__admin_dispatch(op, r.rq);
		break;
	case OVIO__OP__OP_BATCH:
		ovio__batch_dispatch(op, r.rq, r.payload, r.plen);
		break;
	default:
		ovio__op_reply_status(op, OVIO_EINVAL, 0);
		break;
	}
	/* The payload of a write lives in op->msg, not in the header. */
	ovio__request__free_unpacked(r.rq, NULL);
}
