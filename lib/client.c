/*
 * client.c - libovio's connection and asynchronous requests.
 *
 * One req0 socket per client, one nng context per request in flight (a
 * context carries one request and its reply), pooled with its aio.  REQ's
 * automatic resend is off unless ovio_set_resend turns it on: a resent
 * write or open is not idempotent without the service's reply cache, and
 * with resend off nng fails a request whose connection dropped instead of
 * sending it again on the next one.  Handles belong to the connection that
 * opened them, so once the connection is gone the client is closed: queued
 * and new requests fail with OVIO_ECLOSED.  A request whose reply is lost
 * completes OVIO_ECLOSED whatever nng said (cop_lost); OVIO_ECANCELED only
 * ever comes from the service.
 *
 * Batches of its own.  A small read or write submitted (ovio_submit) on a
 * handle the service said has offsets (seekable, at its open), while at
 * least OVIO__AUTO_HOLD requests of the client are in flight, is not sent
 * alone: it is queued, and the queue goes as one OVIO_OP_BATCH message (as
 * ovio_submitv would send it) when it is full, when the requests in
 * flight drop below OVIO__AUTO_HOLD (a completion, cop_finish), or
 * OVIO__AUTO_WAIT_MS after it began (aq_timer).  So one request or a few in
 * flight never wait, and a deep queue of small requests costs the
 * transport a message per batch, not per request.  Only seekable handles,
 * because a batch's completions are delivered together: a FIFO read
 * waiting for its writer would hold back the others.  Any other request
 * sends the queue first, so requests keep their order on the wire.  The
 * timer is armed whenever something is queued (timer_on), and its callback
 * owns the queue: a flush elsewhere that cannot get a record leaves the
 * queue to it, and only it completes queued requests that cannot be sent
 * (OVIO_ECLOSED), on an nng thread: no completion runs on a caller's
 * thread.  Off with ovio_set_batching, and never with resend on (a resent
 * batch would run twice).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include "client_impl.h"
#include "tls.h"
#include "wire.h"

static void cop_aio_cb(void *arg);
static void client_free(ovio_client *c);
static void auto_flush(ovio_client *c);
static void auto_sent(ovio_client *c);
static void auto_timer_cb(void *arg);
static void batch_done(void *arg, cop *op, int status, const Ovio__Reply *rp,
    const uint8_t *payload, size_t plen, nng_msg *msg);

/*
 * A batch's requests: tag, kind and callback of each, in frame order
 * (ovio_submitv's, all with the caller's callback, or the client's own).
 */
struct ovio__batch {
	size_t n;
	struct {
		uint64_t tag;
		ovio_op  kind;
		ovio_cb  cb;
		void    *arg;
	} ops[];
};

/*
 * The status of a request whose reply can no longer come.  nng fails its
 * send or receive when the connection it went out on is gone (ECONNRESET,
 * ECONNSHUT), when ovio_disconnect closes the socket (ECLOSED), or when
 * client_pipe_cb aborts it because the connection dropped (ECLOSED); the
 * library cancels a request's aio for no other reason.  So every transport
 * failure but out-of-memory is OVIO_ECLOSED: the reply was lost with the
 * connection, and the request may or may not have run.  OVIO_ECANCELED is
 * never made up here; it is only ever the service's answer.
 */
static int
cop_lost(int nng_rv)
{
	if (nng_rv == NNG_ETIMEDOUT) {
		return (OVIO_ETIMEDOUT); /* the client's own bound, not lost */
	}
	return (nng_rv == NNG_ENOMEM ? OVIO_ENOMEM : OVIO_ECLOSED);
}

/*
 * The aio timeout for the next leg (send, then receive) of op: what is left
 * of its deadline, at least 1 ms, or none when the client has no bound.
 */
static nng_duration
cop_left(cop *op)
{
	nng_time now;

	if (op->deadline == 0) {
		return (NNG_DURATION_INFINITE); /* without reading the clock */
	}
	now = nng_clock();
	return (op->deadline > now ? (nng_duration) (op->deadline - now) : 1);
}

/*
 * A record for a request about to be sent (never_resend: one without a
 * request id, not at-most-once), tracked on the busy list so that a lost
 * connection can fail it, its deadline set, counted as being armed
 * (cop_armed) and its nparts requests as in flight: one lock round trip,
 * unless the pool is empty (a new record and context).
 */
static cop *
cop_get(ovio_client *c, bool never_resend, unsigned nparts)
{
	cop         *op;
	nng_duration resend;

	nng_mtx_lock(c->mtx);
	while ((op = c->pool) == NULL && !c->closed) {
		nng_mtx_unlock(c->mtx);
		if ((op = calloc(1, sizeof(*op))) == NULL) {
			return (NULL);
		}
		op->c         = c;
		op->resend_ms = NNG_DURATION_DEFAULT; /* not set yet */
		if (nng_ctx_open(&op->ctx, c->sock) != 0
		    || nng_aio_alloc(&op->aio, cop_aio_cb, op) != 0) {
			free(op);
			return (NULL);
		}
		nng_mtx_lock(c->mtx);
		op->next = c->pool; /* and taken at once, unless closed */
		c->pool  = op;
	}
	if (c->closed) {
		nng_mtx_unlock(c->mtx);
		return (NULL);
	}
	c->pool  = op->next;
	op->prev = NULL;
	op->next = c->busy;
	if (c->busy != NULL) {
		c->busy->prev = op;
	}
	c->busy = op;
	c->inflight++;
	c->arming++;
	__atomic_add_fetch(&c->ops_out, nparts, __ATOMIC_RELAXED);
	op->nparts = nparts;
	resend = c->resend_ms > 0 && !never_resend ? c->resend_ms
	                                           : NNG_DURATION_INFINITE;
	op->deadline
	    = c->timeout_ms > 0 ? nng_clock() + (nng_time) c->timeout_ms : 0;
	nng_mtx_unlock(c->mtx);
	if (op->resend_ms != resend) { /* the context keeps its setting */
		nng_ctx_set_ms(op->ctx, NNG_OPT_REQ_RESENDTIME, resend);
		op->resend_ms = resend;
	}
	return (op);
}

/*
 * Recycles op; true when requests are queued for a batch and those in
 * flight have dropped below OVIO__AUTO_HOLD: the caller sends them.
 */
static bool
cop_put(cop *op)
{
	ovio_client *c = op->c;
	bool         flush;

	nng_mtx_lock(c->mtx);
	__atomic_sub_fetch(&c->ops_out, op->nparts, __ATOMIC_RELAXED);
	op->nparts = 0;
	flush      = c->aq != NULL
	        && __atomic_load_n(&c->ops_out, __ATOMIC_RELAXED)
	               < OVIO__AUTO_HOLD;
	if (op->prev != NULL) {
		op->prev->next = op->next;
	} else {
		c->busy = op->next;
	}
	if (op->next != NULL) {
		op->next->prev = op->prev;
	}
	op->next = c->pool;
	c->pool  = op;
	if (--c->inflight == 0) {
		nng_cv_wake(c->cv); /* ovio_disconnect waits for none */
	}
	nng_mtx_unlock(c->mtx);
	return (flush);
}

/* Gives back a record cop_get gave that was never sent. */
static void
cop_unget(cop *op)
{
	ovio_client *c = op->c;

	nng_mtx_lock(c->mtx);
	if (--c->arming == 0) {
		nng_cv_wake(c->cv);
	}
	nng_mtx_unlock(c->mtx);
	(void) cop_put(op);
}

/*
 * The seekable handles (see the top of this file): an open-addressed set,
 * linear probing, 0 for an empty slot (no handle is 0).  Under c->mtx.
 * Without memory to grow, a handle is simply not added: its requests go
 * one by one.
 */
static size_t
seek_slot(const ovio_client *c, uint64_t h)
{
	return ((size_t) ((h * UINT64_C(0x9E3779B97F4A7C15)) >> 32)
	        & (c->cap_seekable - 1));
}

static bool
seek_has(const ovio_client *c, uint64_t h)
{
	size_t i;

	if (c->nseekable == 0 || h == 0) {
		return (false);
	}
	for (i = seek_slot(c, h); c->seekable[i] != 0;
	     i = (i + 1) & (c->cap_seekable - 1)) {
		if (c->seekable[i] == h) {
			return (true);
		}
	}
	return (false);
}

static void
seek_add(ovio_client *c, uint64_t h)
{
	size_t i;

	if (h == 0 || seek_has(c, h)) {
		return;
	}
	if ((c->nseekable + 1) * 2 > c->cap_seekable) {
		size_t    cap = c->cap_seekable == 0 ? 16 : c->cap_seekable * 2;
		uint64_t *old = c->seekable, *tab;
		size_t    ocap = c->cap_seekable, j;

		if ((tab = calloc(cap, sizeof(*tab))) == NULL) {
			return;
		}
		c->seekable     = tab;
		c->cap_seekable = cap;
		for (j = 0; j < ocap; j++) {
			if (old[j] != 0) {
				for (i = seek_slot(c, old[j]); tab[i] != 0;
				     i = (i + 1) & (cap - 1)) {
				}
				tab[i] = old[j];
			}
		}
		free(old);
	}
	for (i = seek_slot(c, h); c->seekable[i] != 0;
	     i = (i + 1) & (c->cap_seekable - 1)) {
	}
	c->seekable[i] = h;
	c->nseekable++;
}

/* Removes h, moving back the entries its slot kept from their own. */
static void
seek_del(ovio_client *c, uint64_t h)
{
	size_t i, j, k, mask = c->cap_seekable - 1;

	if (c->nseekable == 0 || h == 0) {
		return;
	}
	for (i = seek_slot(c, h); c->seekable[i] != h; i = (i + 1) & mask) {
		if (c->seekable[i] == 0) {
			return;
		}
	}
	c->seekable[i] = 0;
	c->nseekable--;
	for (j = (i + 1) & mask; c->seekable[j] != 0; j = (j + 1) & mask) {
		k = seek_slot(c, c->seekable[j]);
		/* j's entry may move to i unless its home is in (i, j]. */
		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			c->seekable[i] = c->seekable[j];
			c->seekable[j] = 0;
			i              = j;
		}
	}
}

/*
 * Delivers the completion (no lock held), then recycles the record, and
 * sends what is queued for a batch if fewer requests are in flight now.
 */
static void
cop_finish(cop *op, int status, nng_msg *reply)
{
	ovio_client *c       = op->c;
	Ovio__Reply *rp      = NULL;
	uint8_t     *payload = NULL;
	size_t       plen    = 0;
	int          rv;

	if (status == 0
	    && (rv = ovio__wire_decode_reply(reply, &rp, &payload, &plen))
	           != 0) {
		status = rv;
	}
	if (status == 0 && rp->tag != op->tag) {
		status = OVIO_EPROTO; /* not the reply to this request */
	}
	/*
	 * Its requests are no longer in flight for those its callbacks
	 * submit: a completion that submits the next request at 8 in flight
	 * does not make it wait.
	 */
	__atomic_sub_fetch(&c->ops_out, op->nparts, __ATOMIC_RELAXED);
	op->nparts = 0;
	if (status == 0 && op->kind == OVIO_OP_OPEN && rp->seekable
	    && rp->status == OVIO__STATUS__OK) {
		nng_mtx_lock(c->mtx);
		seek_add(c, rp->handle);
		nng_mtx_unlock(c->mtx);
	}
	op->done(op->arg, op, status, rp, payload, plen, reply);
	if (rp != NULL) {
		ovio__reply__free_unpacked(rp, NULL);
	}
	if (reply != NULL && !op->keep_msg) {
		nng_msg_free(reply);
	}
	op->keep_msg = false;
	if (cop_put(op)) {
		auto_flush(c);
	}
}

/*
 * The end of an nng_ctx_send or nng_ctx_recv call.  The request may have
 * completed on another thread before the call returned, but nng 1.5.2 still
 * holds the context inside it, and releases it on return: ovio_disconnect
 * waits for every such call to return (arming 0) before it closes the
 * socket, else that release would lock a mutex the close has freed.
 */
static void
cop_armed(ovio_client *c, nng_aio *aio)
{
	/*
	 * A connection lost while the call was being made (client_pipe_cb)
	 * may have aborted aio before nng had started it, and such an abort
	 * is lost: the request would wait for a connection that never comes.
	 * Now that aio is started, it is aborted again if the connection has
	 * gone, before arming drops (ovio_disconnect frees aio after that).
	 * (aio may be another request's by now, of this client: with closed
	 * set, every request of the client fails ECLOSED anyway.)
	 */
	nng_mtx_lock(c->mtx);
	if (c->closed) {
		nng_mtx_unlock(c->mtx);
		nng_aio_abort(aio, NNG_ECLOSED);
		nng_mtx_lock(c->mtx);
	}
	if (--c->arming == 0) {
		nng_cv_wake(c->cv);
	}
	nng_mtx_unlock(c->mtx);
}

static void
cop_aio_cb(void *arg)
{
	cop *op = arg;
	int  rv = nng_aio_result(op->aio);

	if (!op->sent) {
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(op->aio));
			nng_aio_set_msg(op->aio, NULL);
			cop_finish(op, cop_lost(rv), NULL);
			return;
		}
		/*
		 * ovio_disconnect waits for every callback before it closes
		 * the socket: once it has begun, no context is armed again.
		 */
		nng_mtx_lock(op->c->mtx);
		if (op->c->closed) {
			nng_mtx_unlock(op->c->mtx);
			cop_finish(op, OVIO_ECLOSED, NULL);
			return;
		}
		op->sent = true;
		op->c->arming++;
		nng_mtx_unlock(op->c->mtx);
		nng_aio_set_timeout(op->aio, cop_left(op));
		nng_ctx_recv(op->ctx, op->aio);
		/* op may be finished and reused by now; c and aio stay. */
		cop_armed(op->c, op->aio);
		return;
	}
	if (rv != 0) {
		cop_finish(op, cop_lost(rv), NULL);
		return;
	}
	{
		nng_msg *m = nng_aio_get_msg(op->aio);
		nng_aio_set_msg(op->aio, NULL);
		cop_finish(op, 0, m);
	}
}

/* The wire header of rq (without a request id). */
static void
client_header(ovio_client *c, const ovio_request *rq, Ovio__Request *hdr)
{
	hdr->tag         = rq->tag;
	hdr->op          = (Ovio__Op) rq->op;
	hdr->handle      = rq->handle;
	hdr->offset      = rq->offset;
	hdr->length      = rq->length;
	hdr->path        = (char *) (rq->path != NULL ? rq->path : "");
	hdr->flags       = rq->flags;
	hdr->mode        = rq->mode;
	hdr->cancel_tag  = rq->cancel_tag;
	hdr->all         = rq->all;
	hdr->session     = rq->session;
	hdr->deadline_ms = rq->deadline_ms;
	hdr->client_id   = c->client_id;
	hdr->new_path    = (char *) (rq->new_path != NULL ? rq->new_path : "");
}

/* Sends msg on op, a record from cop_get: see client_send_msg. */
static void
client_arm(ovio_client *c, cop *op, nng_msg *msg, uint64_t tag, ovio_op kind,
    ovio__done_fn done, void *arg, ovio_cb cb)
{
	op->tag      = tag;
	op->kind     = kind;
	op->done     = done;
	op->arg      = arg;
	op->cb       = cb;
	op->sent     = false;
	op->keep_msg = false;
	nng_aio_set_timeout(op->aio, cop_left(op));
	nng_aio_set_msg(op->aio, msg);
	nng_ctx_send(op->ctx, op->aio);
	cop_armed(c, op->aio);
}

/*
 * Sends msg, a request tagged tag of kind kind carrying nparts requests (a
 * batch's n, else 1), never resent when once (no request id: a batch, or a
 * read or write sent before resend was ever on); done is called exactly
 * once when 0 is returned (cb: ovio_submit's, for pub_done).  msg is
 * consumed either way.  Requests queued for a batch of the client's own go
 * first.
 */
static int
client_send_msg(ovio_client *c, nng_msg *msg, uint64_t tag, ovio_op kind,
    bool once, unsigned nparts, ovio__done_fn done, void *arg, ovio_cb cb)
{
	cop *op;
	bool closed;

	/*
	 * What waits for a batch of the client's own goes first, and so does
	 * a batch another thread has taken but not yet handed to nng: then
	 * requests keep their order on the wire (auto_take counts the taken
	 * batch before it empties the queue).
	 */
	if (__atomic_load_n(&c->naq, __ATOMIC_ACQUIRE) > 0) {
		auto_flush(c);
	}
	if (__atomic_load_n(&c->aq_sending, __ATOMIC_RELAXED) > 0) {
		nng_mtx_lock(c->mtx);
		while (__atomic_load_n(&c->aq_sending, __ATOMIC_RELAXED) > 0) {
			nng_cv_wait(c->cv);
		}
		nng_mtx_unlock(c->mtx);
	}
	if ((op = cop_get(c, once, nparts)) == NULL) {
		nng_msg_free(msg);
		nng_mtx_lock(c->mtx);
		closed = c->closed;
		nng_mtx_unlock(c->mtx);
		return (closed ? OVIO_ECLOSED : OVIO_ENOMEM);
	}
	client_arm(c, op, msg, tag, kind, done, arg, cb);
	return (0);
}

/*
 * Takes what is queued for a batch of the client's own (under c->mtx):
 * *msg its frames after OVIO__AUTO_ROOM bytes of room, the batch's own
 * header written into the room's end.  NULL when nothing is queued.
 */
static ovio__batch *
auto_take(ovio_client *c, nng_msg **msg, uint64_t *tag)
{
	Ovio__Request hdr = OVIO__REQUEST__INIT;
	ovio__batch  *ba  = c->aq;
	uint8_t      *room;
	size_t        hlen, skip;

	if (ba == NULL) {
		return (NULL);
	}
	*msg          = c->aq_msg;
	*tag          = (1ull << 63) | ++c->next_tag;
	c->aq         = NULL;
	c->aq_msg     = NULL;
	c->aq_wbytes  = 0;
	/* Taken, not yet sent: later requests wait for it (client_send_msg). */
	__atomic_add_fetch(&c->aq_sending, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&c->naq, 0, __ATOMIC_RELEASE);
	hdr.tag       = *tag;
	hdr.op        = OVIO__OP__OP_BATCH;
	hdr.length    = ba->n;
	hdr.client_id = c->client_id;
	hlen          = ovio__request__get_packed_size(&hdr); /* < 40 */
	room          = nng_msg_body(*msg);
	skip          = OVIO__AUTO_ROOM - 4 - hlen;
	ovio__wire_put_le32(room + skip, (uint32_t) hlen);
	ovio__request__pack(&hdr, room + skip + 4);
	nng_msg_trim(*msg, skip);
	return (ba);
}

/* Completes each request of ba with status (never sent), and frees it. */
static void
auto_fail(ovio__batch *ba, nng_msg *msg, int status)
{
	ovio_result res;
	size_t      i;

	nng_msg_free(msg);
	for (i = 0; i < ba->n; i++) {
		memset(&res, 0, sizeof(res));
		res.tag    = ba->ops[i].tag;
		res.op     = ba->ops[i].kind;
		res.status = status;
		ba->ops[i].cb(ba->ops[i].arg, &res);
	}
	free(ba);
}

/* A batch auto_take took has been handed to nng (or failed). */
static void
auto_sent(ovio_client *c)
{
	nng_mtx_lock(c->mtx);
	if (__atomic_sub_fetch(&c->aq_sending, 1, __ATOMIC_RELAXED) == 0) {
		nng_cv_wake(c->cv);
	}
	nng_mtx_unlock(c->mtx);
}

/*
 * Sends what is queued as one batch, if a record can be had; if not, the
 * queue is left to aq_timer's callback (auto_timer_cb).
 */
static void
auto_flush(ovio_client *c)
{
	ovio__batch *ba  = NULL;
	nng_msg     *msg = NULL;
	uint64_t     tag = 0;
	cop         *op;

	if ((op = cop_get(c, true, 0)) == NULL) {
		return;
	}
	nng_mtx_lock(c->mtx);
	if ((ba = auto_take(c, &msg, &tag)) != NULL) {
		op->nparts = (unsigned) ba->n;
		__atomic_add_fetch(&c->ops_out, op->nparts, __ATOMIC_RELAXED);
	}
	nng_mtx_unlock(c->mtx);
	if (ba == NULL) {
		cop_unget(op);
		return;
	}
	client_arm(c, op, msg, tag, OVIO_OP_BATCH, batch_done, ba, NULL);
	auto_sent(c);
}

/*
 * aq_timer's end: what is queued goes now, or, when no record can be had
 * (the connection is gone, or no memory), completes with that status.
 * Called on an nng thread.  timer_on stays set until the callback is all
 * but done (ovio_disconnect aborts the timer and waits for that), and a
 * queue begun meanwhile arms the timer again.
 */
static void
auto_timer_cb(void *arg)
{
	ovio_client *c   = arg;
	ovio__batch *ba  = NULL;
	nng_msg     *msg = NULL;
	uint64_t     tag = 0;
	cop         *op  = cop_get(c, true, 0);
	bool         closed, again;

	nng_mtx_lock(c->mtx);
	if ((ba = auto_take(c, &msg, &tag)) != NULL && op != NULL) {
		op->nparts = (unsigned) ba->n;
		__atomic_add_fetch(&c->ops_out, op->nparts, __ATOMIC_RELAXED);
	}
	closed = c->closed;
	nng_mtx_unlock(c->mtx);
	if (ba == NULL) {
		if (op != NULL) {
			cop_unget(op);
		}
	} else if (op == NULL) {
		auto_sent(c); /* nothing goes; those after it need not wait */
		auto_fail(ba, msg, closed ? OVIO_ECLOSED : OVIO_ENOMEM);
	} else {
		client_arm(c, op, msg, tag, OVIO_OP_BATCH, batch_done, ba, NULL);
		auto_sent(c);
	}
	nng_mtx_lock(c->mtx);
	again       = c->aq != NULL;
	c->timer_on = again;
	if (!again) {
		nng_cv_wake(c->cv);
	}
	nng_mtx_unlock(c->mtx);
	if (again) {
		nng_sleep_aio(OVIO__AUTO_WAIT_MS, c->aq_timer);
	}
}

/*
 * Queues rq for a batch of the client's own, if it is one to hold (see the
 * top of this file); false: it goes alone, as usual.  A full queue is sent
 * at once.
 */
static bool
auto_queue(ovio_client *c, const ovio_request *rq, ovio_cb cb, void *arg)
{
	Ovio__Request kh    = OVIO__REQUEST__INIT;
	bool          write = rq->op == OVIO_OP_WRITE, full, arm = false;
	uint8_t       zero[4] = { 0 };
	size_t        at;
	ovio__batch  *ba;
	int           rv;

	if ((rq->op != OVIO_OP_READ && !write)
	    || rq->length > OVIO__AUTO_MAX_LEN
	    || (write && rq->length > 0 && rq->data == NULL)) {
		return (false);
	}
	/*
	 * Nothing queued and fewer than 8 in flight: it goes alone, without
	 * the lock (every small submit passes here).  A race only means one
	 * request more or less in a batch.
	 */
	if (__atomic_load_n(&c->naq, __ATOMIC_RELAXED) == 0
	    && __atomic_load_n(&c->ops_out, __ATOMIC_RELAXED)
	           < OVIO__AUTO_HOLD) {
		return (false);
	}
	nng_mtx_lock(c->mtx);
	if (c->auto_off || c->resend_ms > 0 || c->closed
	    || (c->aq == NULL
	        && __atomic_load_n(&c->ops_out, __ATOMIC_RELAXED)
	               < OVIO__AUTO_HOLD)
	    || (c->aq != NULL && c->aq->n == OVIO__AUTO_MAX)
	    || (write
	        && c->aq_wbytes + rq->length > OVIO__AUTO_MAX_WRITE)
	    || !seek_has(c, rq->handle)) {
		nng_mtx_unlock(c->mtx);
		return (false);
	}
	if (c->aq == NULL) {
		c->aq = malloc(
		    sizeof(*c->aq) + OVIO__AUTO_MAX * sizeof(c->aq->ops[0]));
		if (c->aq == NULL
		    || nng_msg_alloc(&c->aq_msg, OVIO__AUTO_ROOM) != 0) {
			free(c->aq);
			c->aq     = NULL;
			c->aq_msg = NULL;
			nng_mtx_unlock(c->mtx);
			return (false);
		}
		c->aq->n = 0;
	}
	ba = c->aq;
	client_header(c, rq, &kh);
	if (write) {
		kh.length = 0; /* the payload's length is the write's */
	}
	at = nng_msg_len(c->aq_msg);
	rv = nng_msg_append(c->aq_msg, zero, 4) != 0
	         ? OVIO_ENOMEM
	         : ovio__wire_encode_request(c->aq_msg, &kh,
	               write ? rq->data : NULL,
	               write ? (size_t) rq->length : 0);
	if (rv != 0) {
		nng_msg_chop(c->aq_msg, nng_msg_len(c->aq_msg) - at);
		if (ba->n == 0) { /* never an empty batch */
			nng_msg_free(c->aq_msg);
			free(ba);
			c->aq     = NULL;
			c->aq_msg = NULL;
		}
		nng_mtx_unlock(c->mtx);
		return (false);
	}
	ovio__wire_put_le32((uint8_t *) nng_msg_body(c->aq_msg) + at,
	    (uint32_t) (nng_msg_len(c->aq_msg) - at - 4));
	ba->ops[ba->n].tag  = rq->tag;
	ba->ops[ba->n].kind = rq->op;
	ba->ops[ba->n].cb   = cb;
	ba->ops[ba->n].arg  = arg;
	ba->n++;
	if (write) {
		c->aq_wbytes += (size_t) rq->length;
	}
	__atomic_store_n(&c->naq, (unsigned) ba->n, __ATOMIC_RELEASE);
	/* Queued now: the timer is armed (or due already) to send it. */
	if (!c->timer_on) {
		c->timer_on = true;
		arm         = true;
	}
	full = ba->n == OVIO__AUTO_MAX || c->aq_wbytes >= OVIO__AUTO_MAX_WRITE;
	nng_mtx_unlock(c->mtx);
	if (arm) {
		nng_sleep_aio(OVIO__AUTO_WAIT_MS, c->aq_timer);
	}
	if (full) {
		auto_flush(c);
	}
	return (true);
}

static int
client_send(ovio_client *c, const ovio_request *rq, ovio__fill_fn fill,
    void *fill_arg, ovio__done_fn done, void *arg, ovio_cb cb)
{
	Ovio__Request hdr = OVIO__REQUEST__INIT;
	nng_msg      *msg;
	bool          once;
	int           rv;

	if (c == NULL || rq == NULL || rq->op < OVIO_OP_OPEN
	    || rq->op > OVIO_OP_ADMIN) {
		return (OVIO_EINVAL);
	}
	client_header(c, rq, &hdr);
	/*
	 * A request id, but for a read or write while resend was never on:
	 * sent once, it can have no copy for the service's reply cache to
	 * match (and a copy nng sent on a new connection would find no such
	 * handle there), so its entry would cost a lock and an allocation for
	 * nothing;
	 * cop_get never has it resent.  Not once resend was ever on: a
	 * context's resend timer may outlive its reply (nng 1.5.2) and send
	 * the context's next request twice.
	 */
	once = (rq->op == OVIO_OP_READ || rq->op == OVIO_OP_WRITE)
	       && !__atomic_load_n(&c->resend_ever, __ATOMIC_ACQUIRE);
	if (!once) {
		hdr.request_id = __atomic_add_fetch(
		    &c->next_request_id, 1, __ATOMIC_RELAXED);
	}
	if (rq->op == OVIO_OP_CLOSE) {
		nng_mtx_lock(c->mtx); /* its later requests go one by one */
		seek_del(c, rq->handle);
		nng_mtx_unlock(c->mtx);
	}

	if (nng_msg_alloc(&msg, 0) != 0) {
		return (OVIO_ENOMEM);
	}
	if (rq->op == OVIO_OP_WRITE) {
		hdr.length = 0; /* the payload's length is the write's */
		if (fill != NULL) {
			/* Let the caller produce the data in place. */
			size_t base;
			rv   = ovio__wire_encode_request(msg, &hdr, NULL, 0);
			base = nng_msg_len(msg);
			if (rv == 0
			    && nng_msg_realloc(msg, base + rq->length) != 0) {
				rv = OVIO_ENOMEM;
			}
			if (rv == 0) {
				rv = fill(fill_arg, rq->offset,
				    (uint8_t *) nng_msg_body(msg) + base,
				    (size_t) rq->length);
			}
		} else {
			rv = ovio__wire_encode_request(
			    msg, &hdr, rq->data, (size_t) rq->length);
		}
	} else {
		rv = ovio__wire_encode_request(msg, &hdr, NULL, 0);
	}
	if (rv != 0) {
		nng_msg_free(msg);
		return (rv);
	}
	return (
	    client_send_msg(c, msg, rq->tag, rq->op, once, 1, done, arg, cb));
}

int
ovio__client_send(ovio_client *c, const ovio_request *rq, ovio__fill_fn fill,
    void *fill_arg, ovio__done_fn done, void *arg)
{
	return (client_send(c, rq, fill, fill_arg, done, arg, NULL));
}

/*
 * The public, callback-per-request layer over client_send: the caller's
 * callback rides in the record (op->cb), its argument is arg.
 */
static void
pub_done(void *arg, cop *op, int status, const Ovio__Reply *rp,
    const uint8_t *payload, size_t plen, nng_msg *msg)
{
	ovio_result         res;
	ovio_service_status svc;
	ovio__list          list = { 0 };

	(void) msg;
	memset(&res, 0, sizeof(res));
	res.tag    = op->tag;
	res.op     = op->kind;
	res.status = status;
	if (status == 0) {
		ovio__result_from_reply(&res, rp, payload, &svc);
		if (op->kind == OVIO_OP_LIST && res.status == 0
		    && (res.status = ovio__list_decode(&list, payload, plen))
		           == 0) {
			res.entries  = list.ents;
			res.nentries = list.n;
		}
		if (op->kind == OVIO_OP_LIST) {
			res.data = NULL;
		}
	}
	op->cb(arg, &res);
	ovio__list_free(&list);
}

int
ovio__list_decode(ovio__list *l, const uint8_t *payload, size_t plen)
{
	size_t i;

	memset(l, 0, sizeof(*l));
	if ((l->page = ovio__dir_page__unpack(NULL, plen, payload)) == NULL) {
		return (OVIO_EPROTO);
	}
	if (l->page->n_entries > 0
	    && (l->ents = calloc(l->page->n_entries, sizeof(*l->ents)))
	           == NULL) {
		ovio__dir_page__free_unpacked(l->page, NULL);
		l->page = NULL;
		return (OVIO_ENOMEM);
	}
	for (i = 0; i < l->page->n_entries; i++) {
		const Ovio__DirEntry *e = l->page->entries[i];
		l->ents[i].name         = e->name;
		l->ents[i].type         = e->type;
		l->ents[i].mode         = e->mode;
		l->ents[i].size         = e->size;
		l->ents[i].mtime_ns     = e->mtime_ns;
	}
	l->n = l->page->n_entries;
	return (0);
}

void
ovio__list_free(ovio__list *l)
{
	free(l->ents);
	if (l->page != NULL) {
		ovio__dir_page__free_unpacked(l->page, NULL);
	}
	memset(l, 0, sizeof(*l));
}

int
ovio_submit(ovio_client *c, const ovio_request *rq, ovio_cb cb, void *arg)
{
	size_t i;

	if (cb == NULL || rq == NULL || rq->op == OVIO_OP_ADMIN) {
		return (OVIO_EINVAL); /* admin: the ovio_admin_* calls */
	}
	/* A member this library does not know yet: refused, not ignored. */
	for (i = 0; i < sizeof(rq->reserved) / sizeof(rq->reserved[0]); i++) {
		if (rq->reserved[i] != 0) {
			return (OVIO_EINVAL);
		}
	}
	if (c != NULL && auto_queue(c, rq, cb, arg)) {
		return (0);
	}
	return (client_send(c, rq, NULL, NULL, pub_done, arg, cb));
}

int
ovio_set_batching(ovio_client *c, bool on)
{
	if (c == NULL) {
		return (OVIO_EINVAL);
	}
	nng_mtx_lock(c->mtx);
	c->auto_off = !on;
	nng_mtx_unlock(c->mtx);
	return (0);
}

/* The batch's reply: each request's completion, in order, exactly once. */
static void
batch_done(void *arg, cop *op, int status, const Ovio__Reply *rp,
    const uint8_t *payload, size_t plen, nng_msg *msg)
{
	ovio__batch        *ba   = arg;
	uint8_t            *p    = (uint8_t *) payload;
	size_t              left = plen, i;
	ovio_result         res;
	ovio_service_status svc;

	(void) op;
	(void) msg;
	if (status == 0 && rp->status == OVIO__STATUS__OK
	    && rp->result != ba->n) {
		status = OVIO_EPROTO; /* not this batch's reply */
	}
	for (i = 0; i < ba->n; i++) {
		Ovio__Reply *kr = NULL;
		uint8_t     *kp;
		size_t       kl;
		uint32_t     flen;

		memset(&res, 0, sizeof(res));
		res.tag = ba->ops[i].tag;
		res.op  = ba->ops[i].kind;
		if (status != 0) {
			res.status = status;
		} else if (rp->status != OVIO__STATUS__OK) {
			res.status   = (int) rp->status; /* refused whole */
			res.os_error = rp->os_error;
		} else if (left < 4
		           || (flen = ovio__wire_get_le32(p)) > left - 4
		           || ovio__wire_decode_reply_buf(
		                  p + 4, flen, &kr, &kp, &kl)
		                  != 0
		           || kr->tag != res.tag) {
			res.status = status = OVIO_EPROTO; /* and the rest */
		} else {
			ovio__result_from_reply(&res, kr, kp, &svc);
			p += 4 + (size_t) flen;
			left -= 4 + (size_t) flen;
		}
		ba->ops[i].cb(ba->ops[i].arg, &res);
		if (kr != NULL) {
			ovio__reply__free_unpacked(kr, NULL);
		}
	}
	free(ba);
}

int
ovio_submitv(
    ovio_client *c, const ovio_request *rqs, size_t n, ovio_cb cb, void *arg)
{
	Ovio__Request hdr = OVIO__REQUEST__INIT;
	ovio__batch  *ba;
	nng_msg      *msg;
	uint64_t      tag;
	bool          resend;
	size_t        i, j, at;
	uint64_t      wbytes = 0, rbytes = 0;
	int           rv = 0;

	if (c == NULL || rqs == NULL || cb == NULL || n == 0
	    || n > OVIO_BATCH_MAX) {
		return (OVIO_EINVAL);
	}
	/* What one message may carry each way (ovio.h). */
	for (i = 0; i < n; i++) {
		uint64_t len = rqs[i].length;
		if (rqs[i].op == OVIO_OP_WRITE) {
			wbytes += len < OVIO_BATCH_MAX_WRITE
			              ? len
			              : OVIO_BATCH_MAX_WRITE;
		} else if (rqs[i].op == OVIO_OP_READ) {
			rbytes += len < OVIO_BATCH_MAX_READ
			              ? len
			              : OVIO_BATCH_MAX_READ;
		}
	}
	if (wbytes > OVIO_BATCH_MAX_WRITE || rbytes > OVIO_BATCH_MAX_READ) {
		return (OVIO_EINVAL);
	}
	for (i = 0; i < n; i++) {
		if (rqs[i].op != OVIO_OP_READ && rqs[i].op != OVIO_OP_WRITE
		    && rqs[i].op != OVIO_OP_FLUSH
		    && rqs[i].op != OVIO_OP_SETSIZE) {
			return (OVIO_EINVAL);
		}
		if (rqs[i].op == OVIO_OP_WRITE && rqs[i].length > 0
		    && rqs[i].data == NULL) {
			return (OVIO_EINVAL);
		}
		for (j = 0; j < sizeof(rqs[i].reserved) / sizeof(uint64_t);
		     j++) {
			if (rqs[i].reserved[j] != 0) {
				return (OVIO_EINVAL);
			}
		}
	}
	nng_mtx_lock(c->mtx);
	resend = c->resend_ms > 0;
	tag    = (1ull << 63) | ++c->next_tag;
	nng_mtx_unlock(c->mtx);
	if (resend) {
		return (OVIO_ENOTSUP); /* a resent batch would run twice */
	}
	if ((ba = malloc(sizeof(*ba) + n * sizeof(ba->ops[0]))) == NULL) {
		return (OVIO_ENOMEM);
	}
	if (nng_msg_alloc(&msg, 0) != 0) {
		free(ba);
		return (OVIO_ENOMEM);
	}
	ba->n         = n;
	hdr.tag       = tag;
	hdr.op        = OVIO__OP__OP_BATCH;
	hdr.length    = n;
	hdr.client_id = c->client_id;
	rv            = ovio__wire_encode_request(msg, &hdr, NULL, 0);
	/* Each request's frame, after its length (patched in once known). */
	for (i = 0; i < n && rv == 0; i++) {
		Ovio__Request kh      = OVIO__REQUEST__INIT;
		uint8_t       zero[4] = { 0 };
		bool          write   = rqs[i].op == OVIO_OP_WRITE;

		ba->ops[i].tag  = rqs[i].tag;
		ba->ops[i].kind = rqs[i].op;
		ba->ops[i].cb   = cb;
		ba->ops[i].arg  = arg;
		client_header(c, &rqs[i], &kh);
		if (write) {
			kh.length = 0; /* the payload's length is the write's */
		}
		at = nng_msg_len(msg);
		if (nng_msg_append(msg, zero, 4) != 0) {
			rv = OVIO_ENOMEM;
		} else if ((rv = ovio__wire_encode_request(msg, &kh,
		                write ? rqs[i].data : NULL,
		                write ? (size_t) rqs[i].length : 0))
		           == 0) {
			ovio__wire_put_le32((uint8_t *) nng_msg_body(msg) + at,
			    (uint32_t) (nng_msg_len(msg) - at - 4));
		}
	}
	if (rv != 0) {
		nng_msg_free(msg);
		free(ba);
		return (rv);
	}
	if ((rv = client_send_msg(c, msg, tag, OVIO_OP_BATCH, true,
	         (unsigned) n, batch_done, ba, NULL))
	    != 0) {
		free(ba);
	}
	return (rv);
}

void
ovio__result_from_reply(ovio_result *res, const Ovio__Reply *rp,
    const uint8_t *payload, ovio_service_status *svc)
{
	res->status      = (int) rp->status;
	res->os_error    = rp->os_error;
	res->handle      = rp->handle;
	res->bytes       = rp->result;
	res->data        = payload;
	res->found       = rp->found;
	res->cancel      = (ovio_cancel_result) rp->cancel;
	res->canceled    = rp->canceled;
	res->more        = rp->more;
	res->next_cookie = rp->next_cookie;
	if (rp->stat != NULL) {
		res->stat.size         = rp->stat->size;
		res->stat.mode         = rp->stat->mode;
		res->stat.type         = rp->stat->type;
		res->stat.mtime_ns     = rp->stat->mtime_ns;
		res->stat.direct_align = rp->stat->direct_align;
	}
	if (rp->service != NULL) {
		ovio__wire_status_to_api(rp->service, svc);
		res->service = svc;
	}
}

/*
 * The connection went away: fail everything still waiting, unless resend
 * is on, in which case nng reconnects and sends the requests again (the
 * service runs each at most once).
 */
static void
client_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	ovio_client *c = arg;
	cop         *op;
	nng_aio    **aios;
	size_t       n = 0, i;

	if (ev == NNG_PIPE_EV_ADD_PRE) {
		uint64_t uid;
		/*
		 * ipc: the OS says who runs the service.  One of the wrong
		 * uid (a socket planted by another user) is dropped before
		 * any request reaches it; the connect reports it (see
		 * dial_bounded).  Runs before the dial returns.
		 */
		if (nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &uid) == 0
		    && !ovio__service_uid_ok(uid, c->service_uids)) {
			nng_mtx_lock(c->mtx);
			c->untrusted = true;
			nng_mtx_unlock(c->mtx);
			nng_pipe_close(p);
		}
		return;
	}
	if (ev == NNG_PIPE_EV_ADD_POST) {
		nng_mtx_lock(c->mtx);
		c->pipe = p;
		nng_mtx_unlock(c->mtx);
		return;
	}
	if (ev != NNG_PIPE_EV_REM_POST || c->resend_ms > 0) {
		return;
	}
	/*
	 * Abort outside the lock (an aborted aio's callback takes it), with
	 * NNG_ECLOSED: the request was lost with its connection, it was not
	 * cancelled (a request nng had not sent yet would otherwise complete
	 * ECANCELED).  Records are never freed while the client lives and no
	 * new request starts once closed is set, so the pointers stay good.
	 */
	nng_mtx_lock(c->mtx);
	c->closed = true;
	aios      = calloc(c->inflight + 1, sizeof(*aios));
	for (op = c->busy; op != NULL && aios != NULL; op = op->next) {
		aios[n++] = op->aio;
	}
	nng_mtx_unlock(c->mtx);
	for (i = 0; i < n; i++) {
		nng_aio_abort(aios[i], NNG_ECLOSED);
	}
	free(aios);
}

/* One dial of a connect, run on its own thread (see dial_bounded). */
typedef struct dial_job {
	nng_dialer dialer;
	nng_mtx   *mtx;
	nng_cv    *cv;
	bool       done;
	int        rv;
} dial_job;

static void
dial_run(void *arg)
{
	dial_job *j  = arg;
	int       rv = nng_dialer_start(j->dialer, 0); /* synchronous */

	nng_mtx_lock(j->mtx);
	j->rv   = rv;
	j->done = true;
	nng_cv_wake(j->cv);
	nng_mtx_unlock(j->mtx);
}

/*
 * One attempt to connect c's socket to url (with tls set on the dialer, if
 * not NULL), given up at deadline.  A synchronous dial reports a refused
 * connection (or a missing ipc path) at once, but waits as long as the
 * transport likes for a service that accepts and never finishes the handshake
 * (nng 1.5.2: 10 s).  So the dial runs on a thread of its own while this one
 * waits for it until the deadline; then the dialer is closed, which ends the
 * dial (ECLOSED), and the attempt is OVIO_ETIMEDOUT.  A connection to an ipc
 * service of the wrong uid, dropped by client_pipe_cb, is NNG_EPEERAUTH.
 * Returns 0 (c->dialer is the dialer) or an nng error (the dialer is closed).
 */
static int
dial_bounded(
    ovio_client *c, const char *url, nng_tls_config *tls, nng_time deadline)
{
	dial_job    j;
	nng_thread *thr;
	bool        late = false;
	int         rv;

	memset(&j, 0, sizeof(j));
	j.mtx = c->mtx;
	j.cv  = c->cv;
	if ((rv = nng_dialer_create(&j.dialer, c->sock, url)) != 0) {
		return (rv);
	}
	if ((tls != NULL
	        && (rv = nng_dialer_set_ptr(j.dialer, NNG_OPT_TLS_CONFIG, tls))
	               != 0)
	    || (rv = nng_thread_create(&thr, dial_run, &j)) != 0) {
		nng_dialer_close(j.dialer);
		return (rv);
	}
	nng_mtx_lock(c->mtx);
	while (!j.done) {
		if (nng_cv_until(c->cv, deadline) == NNG_ETIMEDOUT && !j.done) {
			late = true;
			break;
		}
	}
	nng_mtx_unlock(c->mtx);
	if (late) {
		nng_dialer_close(j.dialer); /* ends the dial */
	}
	nng_thread_destroy(thr); /* joins it */
	rv = late ? NNG_ETIMEDOUT : j.rv;
	nng_mtx_lock(c->mtx);
	if (rv == 0 && c->untrusted) {
		rv = NNG_EPEERAUTH; /* client_pipe_cb dropped the connection */
	}
	nng_mtx_unlock(c->mtx);
	if (rv != 0) {
		if (!late) {
			nng_dialer_close(j.dialer);
		}
		return (rv);
	}
	c->dialer = j.dialer;
	return (0);
}

/*
 * nng's task threads (ovio_set_threads): set once, before nng starts (it
 * reads the count when it starts; nng_init_set_parameter does nothing
 * after).  The first of ovio_set_threads and the first connect sets it;
 * threads_state is 0 (not yet), 1 (being set) or 2 (set), so that a
 * thread that loses the race waits the few instructions it takes, and
 * nng never starts while the count is being written.
 */
static int threads_state;

static void
threads_set(unsigned n)
{
	int st = 0;

	if (!__atomic_compare_exchange_n(&threads_state, &st, 1, false,
	        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&threads_state, __ATOMIC_ACQUIRE) != 2) {
			/* another thread is writing it: a few instructions */
		}
		return;
	}
	if (n == 0) {
		n = ovio__cpu_count() / 2;
		n = n > 0 ? n : 1;
	}
	nng_init_set_parameter(NNG_INIT_NUM_TASK_THREADS, n);
	__atomic_store_n(&threads_state, 2, __ATOMIC_RELEASE);
}

int
ovio_set_threads(unsigned n)
{
	if (n > 256) {
		return (OVIO_EINVAL);
	}
	threads_set(n);
	return (0);
}

/*
 * The socket and state of a client, not yet connected, to url (who is
 * trusted to serve there depends on it).  Returns 0 or an ovio status
 * (nothing is left to free).
 */
static int
client_new(ovio_client **cp, const char *url)
{
	ovio_client *c;
	int          rv;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		return (OVIO_ENOMEM);
	}
	threads_set(0); /* the default, unless set before */
	if (nng_mtx_alloc(&c->mtx) != 0 || nng_cv_alloc(&c->cv, c->mtx) != 0
	    || nng_aio_alloc(&c->aq_timer, auto_timer_cb, c) != 0) {
		rv = OVIO_ENOMEM;
		goto fail;
	}
	if ((rv = nng_req0_open(&c->sock)) != 0) {
		rv = ovio__err_from_nng(rv);
		goto fail;
	}
	c->sock_open = true;
	nng_socket_set_ms(
	    c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	/*
	 * A reply longer than any service may send (OVIO__REPLY_MAX) closes
	 * the connection (OVIO_ECLOSED) before nng allocates for it.
	 */
	nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, OVIO__REPLY_MAX);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, client_pipe_cb, c);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_PRE, client_pipe_cb, c);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, client_pipe_cb, c);
	ovio__service_users(url, c->service_uids); /* before the first pipe */
	/* A random identity, so the service can tell our retries apart. */
	c->client_id = ((uint64_t) nng_random() << 32) | nng_random();
	if (c->client_id == 0) {
		c->client_id = 1;
	}
	*cp = c;
	return (0);

fail:
	client_free(c);
	return (rv);
}

static void
client_free(ovio_client *c)
{
	if (c->sock_open) {
		nng_close(c->sock);
	}
	if (c->aq_timer != NULL) {
		nng_aio_free(c->aq_timer);
	}
	if (c->cv != NULL) {
		nng_cv_free(c->cv);
	}
	if (c->mtx != NULL) {
		nng_mtx_free(c->mtx);
	}
	free(c);
}

/* An option, else the environment variable env (NULL if unset or empty). */
static const char *
opt_or_env(const char *v, const char *env)
{
	if (v == NULL && (v = getenv(env)) != NULL && *v == '\0') {
		v = NULL;
	}
	return (v);
}

/*
 * Connects as o says; unless o->once, a refused connection (or a missing
 * ipc path) is tried again every 50 ms until the deadline, for a service
 * that is starting.
 */
int
ovio_connect_opts(
    ovio_client **cp, const char *url, const ovio_connect_options *o)
{
	static const ovio_connect_options none;
	ovio_client                      *c   = NULL;
	nng_tls_config                   *tls = NULL;
	nng_time                          deadline;
	int                               timeout_ms, rv;
	size_t                            i;

	if (o == NULL) {
		o = &none;
	}
	for (i = 0; i < sizeof(o->reserved) / sizeof(o->reserved[0]); i++) {
		if (o->reserved[i] != 0) {
			return (OVIO_EINVAL);
		}
	}
	if (url == NULL) {
		url = ovio_default_endpoint();
	}
	timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 5000;
	if (ovio__url_is_tls(url)) {
		ovio__tls_files f;
		char            why[512];

		f.ca          = opt_or_env(o->tls_ca_file, "OVIO_TLS_CA");
		f.cert        = opt_or_env(o->tls_cert_file, "OVIO_TLS_CERT");
		f.key         = opt_or_env(o->tls_key_file, "OVIO_TLS_KEY");
		f.server_name = o->tls_server_name;
		if ((rv = ovio__tls_config(&tls, false, &f, why, sizeof(why)))
		    != 0) {
			return (rv);
		}
	}
	if ((rv = client_new(&c, url)) != 0) {
		goto done;
	}
	deadline = nng_clock() + (nng_time) timeout_ms;
	for (;;) {
		if ((rv = dial_bounded(c, url, tls, deadline)) == 0) {
			*cp = c;
			break;
		}
		if (o->once || (rv != NNG_ECONNREFUSED && rv != NNG_ENOENT)
		    || nng_clock() + 50 >= deadline) {
			rv = rv == NNG_ENOENT ? OVIO_ECONNREFUSED
			                      : ovio__err_from_nng(rv);
			client_free(c);
			break;
		}
		nng_msleep(50);
	}
done:
	if (tls != NULL) {
		nng_tls_config_free(tls); /* a dialer holds its own */
	}
	return (rv);
}

int
ovio_connect(ovio_client **cp, const char *url, int timeout_ms)
{
	ovio_connect_options o;

	memset(&o, 0, sizeof(o));
	o.timeout_ms = timeout_ms;
	return (ovio_connect_opts(cp, url, &o));
}

int
ovio_connect_once(ovio_client **cp, const char *url, int timeout_ms)
{
	ovio_connect_options o;

	memset(&o, 0, sizeof(o));
	o.timeout_ms = timeout_ms;
	o.once       = 1;
	return (ovio_connect_opts(cp, url, &o));
}

int
ovio_set_timeout(ovio_client *c, int ms)
{
	if (c == NULL || ms < 0) {
		return (OVIO_EINVAL);
	}
	nng_mtx_lock(c->mtx);
	c->timeout_ms = ms;
	nng_mtx_unlock(c->mtx);
	return (0);
}

int
ovio_set_resend(ovio_client *c, int ms)
{
	if (c == NULL || ms < 0) {
		return (OVIO_EINVAL);
	}
	nng_mtx_lock(c->mtx);
	c->resend_ms = ms;
	nng_mtx_unlock(c->mtx);
	if (ms > 0) {
		__atomic_store_n(&c->resend_ever, true, __ATOMIC_RELEASE);
	}
	return (0);
}

void
ovio__client_drop_connection(ovio_client *c)
{
	nng_pipe p;

	nng_mtx_lock(c->mtx);
	p = c->pipe;
	nng_mtx_unlock(c->mtx);
	nng_pipe_close(p);
}

void
ovio_disconnect(ovio_client *c)
{
	cop *op;

	if (c == NULL) {
		return;
	}
	/*
	 * Every request still waiting fails (ECLOSED), and its callback has
	 * run, before the socket is closed (those queued for a batch of the
	 * client's own fail in aq_timer's callback, which is waited for too): nng 1.5.2 must not close a socket
	 * while a callback is arming one of its contexts (the context is then
	 * released after the socket is freed, and locks a freed mutex).  A
	 * callback that armed a receive just before it saw `closed` is caught
	 * by the next round of aborts.  And every nng_ctx_send / nng_ctx_recv
	 * call has returned (cop_armed): the request it armed may be over
	 * while nng still holds the context in the call.
	 */
	nng_mtx_lock(c->mtx);
	c->closed = true;
	while (c->inflight > 0 || c->arming > 0 || c->timer_on) {
		for (op = c->busy; op != NULL; op = op->next) {
			nng_aio_abort(op->aio, NNG_ECLOSED);
		}
		if (c->timer_on) { /* its callback fails what is queued */
			nng_aio_abort(c->aq_timer, NNG_ECLOSED);
		}
		(void) nng_cv_until(c->cv, nng_clock() + 10);
	}
	nng_mtx_unlock(c->mtx);
	nng_aio_free(c->aq_timer);
	nng_close(c->sock);
	while ((op = c->pool) != NULL) {
		c->pool = op->next;
		nng_aio_free(op->aio);
		free(op);
	}
	nng_cv_free(c->cv);
	nng_mtx_free(c->mtx);
	free(c->seekable);
	free(c);
}
