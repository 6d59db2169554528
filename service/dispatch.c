/*
 * dispatch.c - runs one received request, on the nng callback thread that
 * received it.
 *
 * Reads, writes and flushes are registered on their handle and session and
 * submitted to the port under eng.mtx (submission never blocks on the I/O);
 * their reply comes from the completion thread.  Open, stat, set-size,
 * cancel, close and status are answered here.  Every request gets exactly
 * one reply; a reply to a pipe that has gone is discarded by nng.
 *
 * A session pointer is never kept across an unlock: a dead session may be
 * freed by then.  The session is found again by its pipe id.
 */
#include <string.h>

#include "engine.h"
#include "fs.h"
#include "wire.h"

typedef struct req {
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
	rp->tag = op->tag;
	nng_msg_clear(op->msg);
	if (ovio__wire_encode_reply(op->msg, rp) != 0) {
		ovio__op_reply_status(op, OVIO_ENOMEM, 0);
		return;
	}
	ovio__op_reply(op);
}

/* Finds the live session of r under eng.mtx; NULL if it went away. */
static eng_session *
req_session(const req *r)
{
	eng_session *s = ovio__session_find(r->pipe);
	return (s != NULL && !s->dead ? s : NULL);
}

/* Undoes what do_io registered; lock held.  Returns the handle's drain. */
static bool
op_unregister(eng_op *op)
{
	eng_session *s = op->sess;

	ovio__tag_remove(s, op);
	ovio__handle_op_remove(op->h, op);
	s->ops_in_flight--;
	s->bytes_in_flight -= op->port.len;
	eng.ops_in_flight--;
	op->in_flight = false;
	if (op->deadline != 0) {
		ovio__deadline_remove(op);
	}
	return (ovio__handle_drained(op->h));
}

static void
do_io(req *r)
{
	eng_op        *op = r->op;
	Ovio__Request *rq = r->rq;
	eng_session   *s;
	eng_handle    *h;
	int            rv = 0;
	size_t         len;
	void          *buf = NULL;

	/* ovio__validate_request bounded offsets and lengths (max_io). */
	switch (rq->op) {
	case OVIO__OP__OP_READ:
		len = (size_t) rq->length;
		nng_msg_clear(op->msg);
		if (nng_msg_realloc(op->msg, OVIO__REPLY_ROOM + len) != 0) {
			ovio__op_reply_status(op, OVIO_ENOMEM, 0);
			return;
		}
		buf                = (uint8_t *) nng_msg_body(op->msg) + OVIO__REPLY_ROOM;
		op->port.kind      = OVIO__PORT_READ;
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

	nng_mtx_lock(eng.mtx);
	if ((s = req_session(r)) == NULL) {
		rv = OVIO_ECLOSED;
	} else if (eng.stopping) {
		rv = OVIO_ESHUTDOWN;
	} else if ((h = ovio__handle_get(s, rq->handle, &rv)) == NULL) {
		/* rv set */
	} else if (s->ops_in_flight >= eng.limits.ops_per_session ||
	    s->bytes_in_flight + len > eng.limits.bytes_per_session) {
		rv = OVIO_EBUSY;
	} else if ((rv = ovio__tag_add(s, op)) == 0) {
		op->port.fd          = h->fd;
		op->port.buf         = buf;
		op->port.len         = len;
		op->port.offset      = op->port.kind == OVIO__PORT_SETSIZE
		         ? rq->length
		         : rq->offset;
		op->port.stream      = h->stream;
		op->sess             = s;
		op->h                = h;
		op->cancel_requested = false;
		op->deadline_hit     = false;
		op->in_flight        = true;
		op->deadline         = 0;
		if (rq->deadline_ms > 0) {
			op->deadline = nng_clock() + (nng_time) rq->deadline_ms;
			ovio__deadline_add(op);
		}
		ovio__handle_op_add(h, op);
		s->ops_in_flight++;
		s->bytes_in_flight += len;
		eng.ops_in_flight++;
		eng.ctr.submitted++;
		if ((rv = ovio__port_submit(eng.port, &op->port)) != 0) {
			/* No completion will come; the handle stays open. */
			(void) op_unregister(op);
		} else {
			op->ran = true;
		}
	}
	if (rv != 0) {
		eng.ctr.rejected++;
	}
	nng_mtx_unlock(eng.mtx);

	if (rv != 0) {
		ovio__op_reply_status(op, rv, op->port.os_error);
	}
}

void
ovio__engine_complete(eng_op *op)
{
	ovio__port_op *po = &op->port;
	Ovio__Reply    rp = OVIO__REPLY__INIT;
	eng_handle    *h  = op->h;
	bool           drained;

	if (po->kind == OVIO__PORT_CANCEL) {
		/* The OS answered a cancel request: pass its answer on. */
		nng_mtx_lock(eng.mtx);
		eng.ops_in_flight--;
		nng_mtx_unlock(eng.mtx);
		rp.found  = true;
		rp.cancel = (Ovio__CancelResult) po->result;
		reply(op, &rp);
		return;
	}
	nng_mtx_lock(eng.mtx);
	drained = op_unregister(op);
	eng.ctr.completed++;
	if (po->status == OVIO_ECANCELED) {
		eng.ctr.canceled++;
	} else if (po->status == OVIO_OK && po->kind == OVIO__PORT_READ) {
		eng.ctr.bytes_read += po->result;
	} else if (po->status == OVIO_OK && po->kind == OVIO__PORT_WRITE) {
		eng.ctr.bytes_written += po->result;
	}
	nng_mtx_unlock(eng.mtx);

	if (op->deadline_hit && po->status == OVIO_ECANCELED) {
		po->status = OVIO_ETIMEDOUT; /* cancelled by its deadline */
	}
	rp.tag      = op->tag;
	rp.status   = (Ovio__Status) po->status;
	rp.os_error = po->os_error;
	rp.result   = po->result;
	if (po->kind == OVIO__PORT_READ && po->status == OVIO_OK) {
		/* The data is already in place behind the header room. */
		nng_msg_chop(op->msg, po->len - (size_t) po->result);
		if (ovio__wire_prepend_reply(op->msg, &rp) == 0) {
			ovio__op_reply(op);
		} else {
			ovio__op_reply_status(op, OVIO_EPROTO, 0);
		}
	} else {
		reply(op, &rp);
	}
	if (drained) {
		ovio__close_finish(h);
	}
}

/*
 * An open has effects (create, truncate) as soon as the file system runs it,
 * so everything that can refuse it is checked first: the request was
 * validated, and here the session reserves its handle (s->opening) under
 * eng.mtx, so that the handle limit, checked before the open, still holds
 * when the handle is added after it.
 */
static void
do_open(req *r)
{
	Ovio__Request *rq = r->rq;
	Ovio__Reply    rp = OVIO__REPLY__INIT;
	eng_session   *s;
	eng_handle    *h;
	ovio__fd       fd;
	int            stream = 0, rv = 0;
	int64_t        oserr  = 0;
	bool           opened = false;

	nng_mtx_lock(eng.mtx);
	if ((s = req_session(r)) == NULL) {
		rv = OVIO_ECLOSED;
	} else if (eng.stopping) {
		rv = OVIO_ESHUTDOWN;
	} else if (s->nhandles + s->opening >=
	    eng.limits.handles_per_session) {
		rv = OVIO_EBUSY;
	} else {
		s->opening++;
	}
	nng_mtx_unlock(eng.mtx);
	if (rv != 0) {
		goto fail;
	}

	rv = ovio__fs_open(
	    eng.rootfd, rq->path, rq->flags, rq->mode, &fd, &stream, &oserr);
	if (rv == 0) {
		opened     = true;
		r->op->ran = true; /* a create took effect, whatever follows */
	}
	nng_mtx_lock(eng.mtx);
	/* A session that went away has no reservation left to give back. */
	if ((s = ovio__session_find(r->pipe)) != NULL) {
		s->opening--;
	}
	if (rv != 0) {
		/* rv and oserr from the open */
	} else if (s == NULL || s->dead) {
		rv = OVIO_ECLOSED;
	} else if (eng.stopping) {
		rv = OVIO_ESHUTDOWN;
	} else if ((rv = ovio__handle_new(s, fd, stream, &h)) == 0) {
		if ((rv = ovio__port_associate(eng.port, fd)) != 0) {
			ovio__handle_free(h);
		} else {
			rp.handle = ovio__handle_id(h);
		}
	}
	nng_mtx_unlock(eng.mtx);
	if (rv != 0) {
		goto fail;
	}
	reply(r->op, &rp);
	return;

fail:
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
	Ovio__Request *rq = r->rq;
	Ovio__Reply    rp = OVIO__REPLY__INIT;
	Ovio__FileStat fst = OVIO__FILE_STAT__INIT;
	eng_session   *s;
	eng_handle    *h = NULL;
	ovio_stat      st;
	int64_t        oserr = 0;
	int            rv    = 0;
	bool           drained;

	memset(&st, 0, sizeof(st));
	if (rq->handle == 0) {
		rv = ovio__fs_stat(eng.rootfd, rq->path, &st, &oserr);
	} else {
		nng_mtx_lock(eng.mtx);
		if ((s = req_session(r)) == NULL) {
			rv = OVIO_ECLOSED;
		} else if ((h = ovio__handle_get(s, rq->handle, &rv)) != NULL) {
			ovio__handle_hold(h);
		}
		nng_mtx_unlock(eng.mtx);
		if (h == NULL) {
			ovio__op_reply_status(r->op, rv, 0);
			return;
		}
		rv = ovio__fs_fstat(h->fd, &st, &oserr);
		nng_mtx_lock(eng.mtx);
		drained = ovio__handle_unhold(h);
		nng_mtx_unlock(eng.mtx);
		if (drained) {
			ovio__close_finish(h);
		}
	}
	if (rv != 0) {
		ovio__op_reply_status(r->op, rv, oserr);
		return;
	}
	fst.size     = st.size;
	fst.mode     = st.mode;
	fst.type     = st.type;
	fst.mtime_ns = st.mtime_ns;
	rp.stat      = &fst;
	reply(r->op, &rp);
}

/*
 * Cancel of one tag answers what the OS did (see ovio_cancel_result): when
 * the operation is in flight, the cancel request itself becomes the port's
 * cancel report, and is answered when the OS has answered.  Cancel of a
 * handle's operations (all) answers how many cancels were asked.
 */
static void
do_cancel(req *r)
{
	Ovio__Request *rq = r->rq;
	Ovio__Reply    rp = OVIO__REPLY__INIT;
	eng_session   *s;
	eng_handle    *h;
	eng_op        *target;
	int            rv      = 0;
	bool           pending = false;

	rp.cancel = OVIO__CANCEL_RESULT__CANCEL_NOT_FOUND;
	nng_mtx_lock(eng.mtx);
	if ((s = req_session(r)) == NULL) {
		rv = OVIO_ECLOSED;
	} else if (rq->session) {
		for (h = s->handles; h != NULL; h = h->s_next) {
			rp.canceled += ovio__cancel_handle_ops(h);
		}
		rp.found = rp.canceled > 0;
	} else if (rq->all) {
		if ((h = ovio__handle_get(s, rq->handle, &rv)) != NULL) {
			rp.canceled = ovio__cancel_handle_ops(h);
			rp.found    = rp.canceled > 0;
		} else if (rv == OVIO_ECLOSING) {
			rv = 0; /* closing already cancelled everything */
		}
	} else if ((target = ovio__tag_find(s, rq->cancel_tag)) != NULL &&
	    target->in_flight) {
		rp.found = true;
		if (target->cancel_requested) {
			rp.cancel = OVIO__CANCEL_RESULT__CANCEL_REQUESTED;
		} else {
			/* The cancel request becomes the port's report: set up
			 * before the port owns it. */
			r->op->h = NULL;
			eng.ops_in_flight++;
			if (ovio__port_cancel(eng.port, &target->port,
			        &r->op->port) == 0) {
				target->cancel_requested = true;
				pending                  = true;
			} else {
				eng.ops_in_flight--;
				rv = OVIO_EBUSY;
			}
		}
	}
	nng_mtx_unlock(eng.mtx);
	if (pending) {
		return; /* answered by ovio__engine_complete */
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
	eng_session *s;
	eng_handle  *h  = NULL;
	int          rv = 0;
	bool         drained = false;

	nng_mtx_lock(eng.mtx);
	if ((s = req_session(r)) == NULL) {
		rv = OVIO_ECLOSED;
	} else if ((h = ovio__handle_get(s, r->rq->handle, &rv)) != NULL) {
		/* The close request is answered when the handle is closed. */
		r->op->ran = true;
		drained    = ovio__close_begin(h, r->op);
	}
	nng_mtx_unlock(eng.mtx);
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

	ovio__engine_status(&st);
	rp.service = &st;
	reply(r->op, &rp);
}

void
ovio__dispatch(eng_op *op)
{
	req r;
	int rv;

	memset(&r, 0, sizeof(r));
	r.op   = op;
	r.pipe = nng_pipe_id(nng_msg_get_pipe(op->msg));
	op->tag  = 0;
	op->kind = 0;
	op->h    = NULL;
	op->sess = NULL;
	op->rc   = NULL;
	op->ran  = false;
	/* The record is pooled: nothing of its last request may answer this
	 * one (a rejection carries no other client's os_error). */
	op->port.status   = 0;
	op->port.os_error = 0;
	op->port.result   = 0;
	if ((rv = ovio__wire_decode_request(op->msg, &r.rq, &r.payload,
	         &r.plen)) != 0) {
		nng_mtx_lock(eng.mtx);
		eng.ctr.rejected++;
		nng_mtx_unlock(eng.mtx);
		ovio__op_reply_status(op, OVIO_EPROTO, 0);
		return;
	}
	op->tag  = r.rq->tag;
	op->kind = r.rq->op;
	if ((rv = ovio__validate_request(r.rq, op->msg, r.plen,
	         &eng.limits)) != 0) {
		nng_mtx_lock(eng.mtx);
		eng.ctr.rejected++;
		nng_mtx_unlock(eng.mtx);
		ovio__request__free_unpacked(r.rq, NULL);
		ovio__op_reply_status(op, rv, 0);
		return;
	}
	if (ovio__rc_applies(r.rq) && ovio__rc_begin(op, r.rq, r.plen)) {
		/* A copy of a request that already ran, or is running. */
		ovio__request__free_unpacked(r.rq, NULL);
		return;
	}
	switch (r.rq->op) {
	case OVIO__OP__OP_OPEN:
		do_open(&r);
		break;
	case OVIO__OP__OP_READ:
	case OVIO__OP__OP_WRITE:
	case OVIO__OP__OP_FLUSH:
	case OVIO__OP__OP_SETSIZE:
		do_io(&r);
		break;
	case OVIO__OP__OP_STAT:
		do_stat(&r);
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
	default:
		ovio__op_reply_status(op, OVIO_EINVAL, 0);
		break;
	}
	/* The payload of a write lives in op->msg, not in the header. */
	ovio__request__free_unpacked(r.rq, NULL);
}
