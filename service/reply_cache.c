/*
 * reply_cache.c - at-most-once execution.
 *
 * A request that carries a client_id and a request_id runs at most once.
 * The first copy to arrive is registered here and runs; its reply is kept.
 * A second copy (a client retry, or nng's REQ resend after a timeout or a
 * reconnect, possibly on a new connection) does not run again: it gets the
 * kept reply, or waits for it if the first copy is still running.  The same
 * ids with a different request are refused with OVIO_EREQID.
 *
 * Reads and stats are idempotent: their entries are park-only.  A copy that
 * arrives while the first copy runs waits for its reply (rather than
 * running beside it, which for a read would collide with its own tag,
 * ETAGINUSE); nothing is kept once that reply is sent, so a later copy
 * simply runs again.  Cancels and status requests bypass the cache.  A
 * reply saying the request never ran (ECLOSED, ESHUTDOWN before
 * it took effect) is not kept, so a retry runs it.  The cache holds at most RC_MAX finished
 * entries, oldest evicted first; running entries are bounded by the limits
 * on operations in flight.  All functions take eng.mtx themselves.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "wire.h"

#define RC_BUCKETS 1024
#define RC_MAX 8192

struct rc_entry {
	uint64_t  client_id;
	uint64_t  request_id;
	uint64_t  fingerprint;
	bool      done;
	bool      park_only; /* read, stat: answer the waiters, keep nothing */
	nng_msg  *reply;   /* the kept reply (done) */
	eng_op   *waiters; /* copies waiting for the reply (via rc_next) */
	rc_entry *hnext;
	rc_entry *older, *newer; /* finished entries, oldest first */
};

static rc_entry *rc_table[RC_BUCKETS];
static rc_entry *rc_oldest, *rc_newest;
static unsigned  rc_done_count;

static unsigned
rc_bucket(uint64_t cid, uint64_t rid)
{
	return ((unsigned) (((cid ^ (rid * 0x9E3779B97F4A7C15ull)) *
	                        0xC2B2AE3D27D4EB4Full) >>
	    54));
}

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n-- > 0) {
		h = (h ^ *b++) * 0x100000001b3ull;
	}
	return (h);
}

/* What makes two requests "the same": everything but the tag. */
static uint64_t
rc_fingerprint(const Ovio__Request *rq, size_t plen)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint64_t v[8] = { (uint64_t) rq->op, rq->handle, rq->offset,
		rq->length, rq->flags, rq->mode, rq->cancel_tag, plen };

	h = fnv(h, v, sizeof(v));
	return (fnv(h, rq->path, strlen(rq->path)));
}

bool
ovio__rc_applies(const Ovio__Request *rq)
{
	if (rq->client_id == 0 || rq->request_id == 0) {
		return (false);
	}
	switch (rq->op) {
	case OVIO__OP__OP_OPEN:
	case OVIO__OP__OP_WRITE:
	case OVIO__OP__OP_FLUSH:
	case OVIO__OP__OP_SETSIZE:
	case OVIO__OP__OP_CLOSE:
	case OVIO__OP__OP_READ: /* park-only */
	case OVIO__OP__OP_STAT: /* park-only */
		return (true);
	default:
		return (false);
	}
}

static rc_entry **
rc_slot(uint64_t cid, uint64_t rid)
{
	rc_entry **pp = &rc_table[rc_bucket(cid, rid)];

	while (*pp != NULL &&
	    ((*pp)->client_id != cid || (*pp)->request_id != rid)) {
		pp = &(*pp)->hnext;
	}
	return (pp);
}

static void
rc_unlink_done(rc_entry *e)
{
	if (e->older != NULL) {
		e->older->newer = e->newer;
	} else {
		rc_oldest = e->newer;
	}
	if (e->newer != NULL) {
		e->newer->older = e->older;
	} else {
		rc_newest = e->older;
	}
	e->older = e->newer = NULL;
	rc_done_count--;
}

static void
rc_drop(rc_entry *e)
{
	rc_entry **pp = rc_slot(e->client_id, e->request_id);

	*pp = e->hnext;
	if (e->reply != NULL) {
		nng_msg_free(e->reply);
	}
	free(e);
}

/* Copies the kept reply for op (with op's tag) and sends it. */
static void
rc_answer(eng_op *op, nng_msg *kept)
{
	Ovio__Reply *rp;
	uint8_t     *payload;
	size_t       plen;
	nng_msg     *m;
	int          rv;

	if (nng_msg_dup(&m, kept) != 0 ||
	    ovio__wire_decode_reply(m, &rp, &payload, &plen) != 0) {
		ovio__op_reply_status(op, OVIO_ENOMEM, 0);
		return;
	}
	rp->tag = op->tag;
	nng_msg_clear(op->msg);
	rv = ovio__wire_encode_reply(op->msg, rp);
	ovio__reply__free_unpacked(rp, NULL);
	nng_msg_free(m);
	if (rv != 0) {
		ovio__op_reply_status(op, rv, 0);
		return;
	}
	op->rc = NULL;
	ovio__op_reply(op);
}

/*
 * Looks rq up.  Returns true when op was taken care of here (answered from
 * the cache, refused, or parked until the first copy's reply); false when
 * op must run, with op->rc set if its reply is to be kept.
 */
bool
ovio__rc_begin(eng_op *op, const Ovio__Request *rq, size_t plen)
{
	uint64_t  fp = rc_fingerprint(rq, plen);
	rc_entry *e;
	nng_msg  *kept = NULL;
	int       refuse = 0;

	op->rc = NULL;
	nng_mtx_lock(eng.mtx);
	if ((e = *rc_slot(rq->client_id, rq->request_id)) == NULL) {
		if ((e = calloc(1, sizeof(*e))) != NULL) {
			e->client_id   = rq->client_id;
			e->request_id  = rq->request_id;
			e->fingerprint = fp;
			e->park_only   = rq->op == OVIO__OP__OP_READ ||
			    rq->op == OVIO__OP__OP_STAT;
			e->hnext = rc_table[rc_bucket(e->client_id, e->request_id)];
			rc_table[rc_bucket(e->client_id, e->request_id)] = e;
			op->rc = e;
		}
		/* Out of memory: run it uncached rather than not at all. */
		nng_mtx_unlock(eng.mtx);
		return (false);
	}
	eng.ctr.duplicates++;
	if (e->fingerprint != fp) {
		refuse = OVIO_EREQID;
	} else if (e->done) {
		if (nng_msg_dup(&kept, e->reply) != 0) {
			refuse = OVIO_ENOMEM;
		}
	} else {
		op->rc_next = e->waiters;
		e->waiters  = op;
	}
	nng_mtx_unlock(eng.mtx);
	if (refuse != 0) {
		ovio__op_reply_status(op, refuse, 0);
	} else if (kept != NULL) {
		rc_answer(op, kept);
		nng_msg_free(kept);
	}
	return (true);
}

/* ---- Park-only entries (reads, stats) ---- */

/* Sends w a copy of reply, header and payload, with w's own tag. */
static void
rc_answer_parked(eng_op *w, nng_msg *reply)
{
	Ovio__Reply *rp;
	uint8_t     *payload;
	size_t       plen;
	int          rv;

	if ((rv = ovio__wire_decode_reply(reply, &rp, &payload, &plen)) != 0) {
		ovio__op_reply_status(w, rv, 0);
		return;
	}
	rp->tag = w->tag;
	nng_msg_clear(w->msg);
	if ((rv = ovio__wire_encode_reply(w->msg, rp)) == 0 && plen > 0 &&
	    nng_msg_append(w->msg, payload, plen) != 0) {
		rv = OVIO_ENOMEM;
	}
	ovio__reply__free_unpacked(rp, NULL);
	if (rv != 0) {
		ovio__op_reply_status(w, rv, 0);
		return;
	}
	ovio__op_reply(w);
}

/*
 * The first copy of a read or stat is answering: the entry goes, and the
 * copies that waited get the same reply (read data included) with their
 * own tags.  Nothing is copied when none waited, the usual case.
 */
static void
rc_finish_parked(eng_op *op, rc_entry *e)
{
	eng_op *w, *next;

	nng_mtx_lock(eng.mtx);
	w          = e->waiters;
	e->waiters = NULL;
	rc_drop(e);
	nng_mtx_unlock(eng.mtx);

	for (; w != NULL; w = next) {
		next = w->rc_next;
		if (op->msg != NULL) {
			rc_answer_parked(w, op->msg);
		} else {
			ovio__op_reply_status(w, OVIO_ENOMEM, 0);
		}
	}
}

/*
 * Called with op's reply in op->msg (NULL: there is none, out of memory),
 * just before it is sent: keeps a copy
 * and answers the copies that waited.  When the reply says the request
 * never ran (ECLOSED, ESHUTDOWN and op->ran unset) the entry goes instead,
 * so a retry runs it.
 */
void
ovio__rc_finish(eng_op *op)
{
	rc_entry    *e = op->rc;
	eng_op      *w, *next;
	nng_msg     *keep = NULL, *answer = NULL;
	Ovio__Reply *rp;
	uint8_t     *payload;
	size_t       plen;
	int          status = OVIO_ENOMEM;

	op->rc = NULL;
	if (e->park_only) {
		rc_finish_parked(op, e);
		return;
	}
	if (op->msg != NULL &&
	    ovio__wire_decode_reply(op->msg, &rp, &payload, &plen) == 0) {
		status = (int) rp->status;
		ovio__reply__free_unpacked(rp, NULL);
	}
	if (op->msg != NULL &&
	    (op->ran || (status != OVIO_ECLOSED && status != OVIO_ESHUTDOWN)) &&
	    nng_msg_dup(&keep, op->msg) != 0) {
		keep = NULL;
	}
	nng_mtx_lock(eng.mtx);
	w          = e->waiters;
	e->waiters = NULL;
	if (keep == NULL) {
		rc_drop(e);
	} else {
		e->done  = true;
		e->reply = keep;
		e->older = rc_newest;
		if (rc_newest != NULL) {
			rc_newest->newer = e;
		} else {
			rc_oldest = e;
		}
		rc_newest = e;
		rc_done_count++;
		if (w != NULL && nng_msg_dup(&answer, keep) != 0) {
			answer = NULL;
		}
		while (rc_done_count > RC_MAX) {
			rc_entry *old = rc_oldest;
			rc_unlink_done(old);
			rc_drop(old);
		}
	}
	nng_mtx_unlock(eng.mtx);

	/* The copies that waited get the same answer, with their own tags. */
	for (; w != NULL; w = next) {
		next = w->rc_next;
		if (answer != NULL) {
			rc_answer(w, answer);
		} else {
			ovio__op_reply_status(w, keep != NULL ? OVIO_ENOMEM : status, 0);
		}
	}
	if (answer != NULL) {
		nng_msg_free(answer);
	}
}

void
ovio__rc_fini(void)
{
	unsigned i;

	for (i = 0; i < RC_BUCKETS; i++) {
		while (rc_table[i] != NULL) {
			rc_drop(rc_table[i]);
		}
	}
	rc_oldest = rc_newest = NULL;
	rc_done_count         = 0;
}
