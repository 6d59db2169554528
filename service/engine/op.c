/*
 * op.c - the life of an operation that goes through the port: register,
 * submit, cancel, complete, unregister, and the counters on the way.
 *
 * Lock invariants (e->mtx, e = op->eng):
 *  - op->in_flight is true from a successful submit until the completion
 *    thread has dequeued the op; while it is true the op is on its handle's
 *    list and in its session's tag table, counted in ops_in_flight, and the
 *    port owns op->port and the buffer.
 *  - op->cancel_wanted says the engine wants the op cancelled (a cancel
 *    request, a close, a disconnect, a stop or the deadline).  Wanting is
 *    not the same as the OS having taken the cancel: an ask may not reach
 *    the OS (a full submission queue) or may not find an op the OS is just
 *    moving (io_uring answers -ENOENT then; CancelIoEx's success only says
 *    it asked), so an op that is still in flight is asked again on a timer
 *    (timer.c), with a growing interval, until it completes.
 *  - A cancel request for a tag is answered from the target's outcome,
 *    never from the OS's answer alone: once the target has completed (and
 *    the port has returned the cancel's own report, if it took one), the
 *    answer is DONE when the target completed ECANCELED and TOO_LATE when it
 *    completed with its real result.
 */
#include <string.h>

#include "engine.h"
#include "wire.h"

#define OP_REASK_FIRST_MS 2
#define OP_REASK_MAX_MS   64

/* Asks the port to cancel op; a NULL report drops the OS's answer. */
static int
op_ask(eng_op *op, eng_op *report)
{
	engine *e = op->eng;
	int     rv;

	if (report != NULL) {
		report->h = NULL;
		e->ops_in_flight++; /* the report is the port's until dequeued
		                     */
		if ((rv = ovio__port_cancel(e->port, &op->port, &report->port))
		    != 0) {
			e->ops_in_flight--;
		}
		return (rv);
	}
	return (ovio__port_cancel(e->port, &op->port, NULL));
}

/* Arms the next ask of an op whose cancel is wanted. */
static void
op_reask_later(eng_op *op, nng_time now)
{
	ovio__timer_set(op, now + op->reask_ms);
	op->reask_ms = op->reask_ms * 2 > OP_REASK_MAX_MS ? OP_REASK_MAX_MS
	                                                  : op->reask_ms * 2;
}

bool
ovio__op_cancel(eng_op *op, eng_op *report)
{
	if (!op->in_flight || op->cancel_wanted) {
		return (false);
	}
	op->cancel_wanted = true;
	op->reask_ms      = OP_REASK_FIRST_MS;
	op_reask_later(op, nng_clock());
	if (op_ask(op, report) != 0 && report != NULL) {
		return (false); /* not asked; the timer asks again */
	}
	return (report != NULL);
}

void
ovio__op_cancel_wait(eng_op *target, eng_op *creq)
{
	creq->cw_target_done   = false;
	creq->cw_report_out    = ovio__op_cancel(target, creq);
	creq->cw_next          = target->cancel_waiters;
	target->cancel_waiters = creq;
	creq->eng->cancels_waiting++;
}

void
ovio__op_timer_fired(eng_op *op, nng_time now)
{
	if (!op->in_flight) {
		return;
	}
	if (!op->cancel_wanted) {
		/* The deadline passed: cancel it, it completes ETIMEDOUT. */
		op->deadline_hit = true;
		(void) ovio__op_cancel(op, NULL);
		return;
	}
	(void) op_ask(op, NULL);
	op_reask_later(op, now);
}

/*
 * Takes op's cancel waiters, now that op has its outcome (status), and
 * returns those whose answer can go now (the others wait for their cancel
 * report).  Lock held.
 */
static eng_op *
op_waiters_take(eng_op *op, int status)
{
	engine *e = op->eng;
	eng_op *w, *next, *answer = NULL;

	for (w = op->cancel_waiters; w != NULL; w = next) {
		next              = w->cw_next;
		w->cw_next        = NULL;
		w->cw_target_done = true;
		e->cancels_waiting--;
		w->cw_outcome = status == OVIO_ECANCELED ? OVIO_CANCEL_DONE
		                                         : OVIO_CANCEL_TOO_LATE;
		if (!w->cw_report_out) {
			w->cw_next = answer;
			answer     = w;
		}
	}
	op->cancel_waiters = NULL;
	return (answer);
}

static void op_cancel_answer(eng_op *creq);

/*
 * The port refused op (no completion will come): it is unregistered, and
 * what waited on it while the lock was dropped is told (cancel requests,
 * a close that was waiting for it).  Lock held; dropped meanwhile.
 */
static void
op_submit_failed(eng_op *op, int status)
{
	engine     *e = op->eng;
	eng_handle *h = op->h;
	eng_op     *answer, *next;
	bool        drained;

	op->ran = false;
	drained = ovio__op_unregister(op);
	answer  = op_waiters_take(op, status);
	if (answer == NULL && !drained) {
		return;
	}
	nng_mtx_unlock(e->mtx);
	for (; answer != NULL; answer = next) {
		next = answer->cw_next;
		op_cancel_answer(answer);
	}
	if (drained) {
		ovio__close_finish(h);
	}
	nng_mtx_lock(e->mtx);
}

int
ovio__op_start(eng_op *op, eng_session *s, eng_handle *h, uint64_t offset,
    void *buf, size_t len, uint64_t deadline_ms)
{
	engine *e = op->eng;
	int     rv;

	/*
	 * Replies not yet sent count too: a client that never reads its
	 * replies is held to its limits instead of growing the service.
	 */
	if (s->ops_in_flight + s->replies_out >= e->limits.ops_per_session
	    || s->bytes_in_flight + s->reply_bytes + len
	           > e->limits.bytes_per_session) {
		return (OVIO_EBUSY);
	}
	if ((rv = ovio__tag_add(s, op)) != 0) {
		return (rv);
	}
	op->port.fd            = h->fd;
	op->port.buf           = buf;
	op->port.len           = len;
	op->port.offset        = offset;
	op->port.stream        = h->stream;
	op->port.nowait        = op->port.kind == OVIO__PORT_WRITE
	                             ? h->nowait_write
	                             : h->nowait;
	op->port.finish_now_ok = true; /* the caller completes it (engine.h) */
	op->sess               = s;
	op->h                  = h;
	op->cancel_wanted      = false;
	op->deadline_hit       = false;
	op->cancel_waiters     = NULL;
	op->in_flight          = true;
	op->admin_id           = ++e->next_op_id;
	op->started            = nng_clock();
	if (deadline_ms > 0) {
		ovio__timer_set(op, nng_clock() + (nng_time) deadline_ms);
	}
	ovio__handle_op_add(h, op);
	s->ops_in_flight++;
	s->bytes_in_flight += len;
	e->ops_in_flight++;
	e->ctr.submitted++;
	op->ran = true; /* undone below if the submit fails */
	__atomic_store_n(&op->port.cancel, 0, __ATOMIC_RELAXED);

	/*
	 * The OS submit runs without the engine lock.  A cancel that comes
	 * meanwhile (a close, a deadline, a tag cancel) asks the port about
	 * an op it has not seen yet; the OS finds nothing, and the op is
	 * asked again on its timer once it is in.  After a successful submit
	 * op is not touched here: it may already have completed.
	 */
	nng_mtx_unlock(e->mtx);
	rv = ovio__port_submit(e->port, &op->port);
	nng_mtx_lock(e->mtx);
	if (rv != 0 && rv != OVIO__PORT_DONE) {
		op_submit_failed(op, rv);
	}
	return (rv);
}

bool
ovio__op_unregister(eng_op *op)
{
	engine      *e = op->eng;
	eng_session *s = op->sess;

	ovio__tag_remove(s, op);
	ovio__handle_op_remove(op->h, op);
	ovio__timer_clear(op);
	s->ops_in_flight--;
	s->bytes_in_flight -= op->port.len;
	e->ops_in_flight--;
	op->in_flight = false;
	return (ovio__handle_drained(op->h));
}

/* Answers a cancel request with what became of its target. */
static void
op_cancel_answer(eng_op *creq)
{
	Ovio__Reply rp = OVIO__REPLY__INIT;

	rp.tag    = creq->tag;
	rp.found  = true;
	rp.cancel = (Ovio__CancelResult) creq->cw_outcome;
	nng_msg_clear(creq->msg);
	if (ovio__wire_encode_reply(creq->msg, &rp) != 0) {
		ovio__op_reply_status(creq, OVIO_ENOMEM, 0);
		return;
	}
	ovio__op_reply(creq);
}

/* The port returned a cancel's report: the OS has answered. */
static void
op_report_done(eng_op *creq)
{
	engine *e = creq->eng;
	bool    answer;

	nng_mtx_lock(e->mtx);
	e->ops_in_flight--;
	creq->cw_report_out = false;
	answer              = creq->cw_target_done;
	nng_mtx_unlock(e->mtx);
	if (answer) {
		op_cancel_answer(creq);
	}
}

void
ovio__op_complete(eng_op *op)
{
	engine        *e  = op->eng;
	ovio__port_op *po = &op->port;
	Ovio__Reply    rp = OVIO__REPLY__INIT;
	eng_handle    *h  = op->h;
	eng_op        *next, *answer = NULL;
	bool           drained;

	if (po->kind == OVIO__PORT_CANCEL) {
		op_report_done(op);
		return;
	}
	nng_mtx_lock(e->mtx);
	if (po->nowait_refused) {
		h->nowait_write = 0; /* this file system has no such writes */
	}
	drained = ovio__op_unregister(op);
	/* Its reply counts against the session until nng has taken it. */
	op->out_counted = true;
	op->out_pipe    = op->sess->pipe_id;
	op->out_bytes   = po->kind == OVIO__PORT_READ && po->status == OVIO_OK
	                      ? po->len
	                      : 0;
	op->sess->replies_out++;
	op->sess->reply_bytes += op->out_bytes;
	e->ctr.completed++;
	if (po->status == OVIO_ECANCELED) {
		e->ctr.canceled++;
	} else if (po->status == OVIO_OK && po->kind == OVIO__PORT_READ) {
		e->ctr.bytes_read += po->result;
	} else if (po->status == OVIO_OK && po->kind == OVIO__PORT_WRITE) {
		e->ctr.bytes_written += po->result;
	}
	/* Each cancel request waiting on op learns the outcome. */
	answer = op_waiters_take(op, po->status);
	nng_mtx_unlock(e->mtx);

	if (op->deadline_hit && po->status == OVIO_ECANCELED) {
		po->status = OVIO_ETIMEDOUT; /* cancelled by its deadline */
	}
	rp.tag           = op->tag;
	rp.status        = (Ovio__Status) po->status;
	rp.os_error      = po->os_error;
	rp.result        = po->result;
	op->reply_status = po->status;
	if (po->kind == OVIO__PORT_READ && po->status == OVIO_OK) {
		/*
		 * The data is in place behind the header room, or, for
		 * unbuffered I/O, a little past it, at the aligned address
		 * (dispatch.c, direct_buffer): it moves back first.
		 */
		uint8_t *room
		    = (uint8_t *) nng_msg_body(op->msg) + OVIO__REPLY_ROOM;
		if (po->buf != room) {
			memmove(room, po->buf, (size_t) po->result);
		}
		nng_msg_chop(op->msg, nng_msg_len(op->msg) - OVIO__REPLY_ROOM
		                          - (size_t) po->result);
		if (ovio__wire_prepend_reply(op->msg, &rp) == 0) {
			ovio__op_reply(op);
		} else {
			ovio__op_reply_status(op, OVIO_EPROTO, 0);
		}
	} else {
		/*
		 * The message may still have the capacity of the data (a
		 * write's, or a failed read's buffer): the reply goes in a
		 * message of its own size, and the data's memory is freed now,
		 * not when the reply is sent.
		 */
		ovio__op_msg_shrink(op);
		if (ovio__wire_encode_reply(op->msg, &rp) == 0) {
			ovio__op_reply(op);
		} else {
			ovio__op_reply_status(op, OVIO_ENOMEM, 0);
		}
	}
	for (; answer != NULL; answer = next) {
		next = answer->cw_next;
		op_cancel_answer(answer);
	}
	if (drained) {
		ovio__close_finish(h);
	}
}
