/*
 * deferred_close.c - closing a handle that may have I/O in flight.
 *
 * Closing an OS handle does not complete the I/O pending on it (the kernel
 * holds its own reference, on Windows and with io_uring alike), and a closed
 * descriptor number can be reused at once by the next open.  So close is a
 * state, not a call:
 *
 *   OPEN --close request / disconnect / stop--> CLOSING
 *        (new operations refused with OVIO_ECLOSING; every operation in
 *         flight is cancelled; the handle waits for their completions)
 *   CLOSING --last completion dequeued and its reply sent--> closed
 *        (an OVIO_OPEN_TEMP file committed, if the close request asked,
 *         else discarded; OS handle closed; slot freed with a new
 *         generation; close request answered with the commit's status)
 *
 * Whoever drops the in-flight count to zero closes: the close request itself
 * when nothing was in flight, else the completion thread.
 */
#include <stddef.h>

#include "engine.h"
#include "fs.h"

unsigned
ovio__cancel_handle_ops(eng_handle *h)
{
	eng_op  *op;
	unsigned n = 0;

	for (op = ovio__list_first(&h->ops); op != NULL;
	     op = ovio__list_next(&h->ops, op)) {
		if (op->in_flight && !op->cancel_wanted) {
			(void) ovio__op_cancel(op, NULL);
			n++;
		}
	}
	return (n);
}

/*
 * Starts closing h; close_op is the request to answer (NULL for a
 * disconnect or stop).  Lock held.  Returns true when nothing is in flight,
 * and the caller must then call ovio__close_finish(h) after unlocking.
 */
bool
ovio__close_begin(eng_handle *h, eng_op *close_op)
{
	h->state    = H_CLOSING;
	h->close_op = close_op;
	(void) ovio__cancel_handle_ops(h);
	return (h->inflight == 0);
}

/*
 * True when h is CLOSING and its last in-flight reference is gone: the
 * caller that made it so calls ovio__close_finish(h) after unlocking.
 */
bool
ovio__handle_drained(const eng_handle *h)
{
	return (h->state == H_CLOSING && h->inflight == 0);
}

/*
 * A synchronous operation on h's OS handle (stat, set-size) holds it like
 * an operation in flight, so a concurrent close cannot close the descriptor
 * under it.  Lock held.
 */
void
ovio__handle_hold(eng_handle *h)
{
	h->inflight++;
}

/* Drops a hold; returns ovio__handle_drained(h).  Lock held. */
bool
ovio__handle_unhold(eng_handle *h)
{
	h->inflight--;
	return (ovio__handle_drained(h));
}

/*
 * Commits or discards a temporary file, closes the OS handle, frees the
 * slot and answers the close request, on the worker pool: these may block
 * (fsync, a file system flushing on close).  h->temp, h->commit and
 * h->commit_canceled were
 * set under the lock before the handle drained; only this job reads them
 * after, so it reads them unlocked.
 */
static void
close_job(eng_work *w)
{
	eng_handle *h
	    = (eng_handle *) ((char *) w - offsetof(eng_handle, close_work));
	engine      *e = h->eng;
	eng_op      *close_op;
	eng_session *s;
	int          status = OVIO_OK;
	int64_t      oserr  = 0;

	if (h->temp != NULL) {
		if (h->commit) {
			status = ovio__fs_commit_temp(h->temp, h->fd, &oserr);
		} else if (h->commit_canceled) {
			status = OVIO_ECANCELED; /* I/O was in flight */
		}
		ovio__fs_discard_temp(h->temp, h->fd);
		h->temp = NULL;
	}
	ovio__fs_close(h->fd);

	nng_mtx_lock(e->mtx);
	close_op    = h->close_op;
	s           = h->sess;
	h->close_op = NULL;
	ovio__handle_free(h);
	ovio__session_maybe_free(e, s);
	nng_mtx_unlock(e->mtx);

	if (close_op != NULL) {
		ovio__op_reply_status(close_op, status, oserr);
	}
}

/*
 * Finishes a drained handle (close_job).  Lock not held; called exactly
 * once per handle, by whoever drained it.
 */
void
ovio__close_finish(eng_handle *h)
{
	ovio__work_queue(&h->eng->work, &h->close_work, close_job);
}

/*
 * Starts closing every open handle of s (a disconnect, a stop) and returns
 * how many.  Lock held.  The handles that had nothing in flight are pushed
 * on *drained (linked by drain_next): the caller passes that list to
 * ovio__close_finish_all after unlocking.
 */
unsigned
ovio__close_session(eng_session *s, eng_handle **drained)
{
	eng_handle *h;
	unsigned    n = 0;

	for (h = ovio__list_first(&s->handles); h != NULL;
	     h = ovio__list_next(&s->handles, h)) {
		if (h->state != H_OPEN) {
			continue;
		}
		n++;
		if (ovio__close_begin(h, NULL)) {
			h->drain_next = *drained;
			*drained      = h;
		}
	}
	return (n);
}

/* ovio__close_finish for each handle of the list.  Lock not held. */
void
ovio__close_finish_all(eng_handle *drained)
{
	eng_handle *next;

	for (; drained != NULL; drained = next) {
		next = drained->drain_next;
		ovio__close_finish(drained);
	}
}
