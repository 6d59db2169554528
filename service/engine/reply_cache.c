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
 * Whose ids.  An entry belongs to the identity of the peer that sent it
 * (session.c, eng_session.rc_owner): a certificate subject on tls+tcp://,
 * a uid on ipc://, a host on tcp://, and the connection itself for a peer
 * the OS names no way (a Windows named pipe).  A client_id is only the
 * client's word, and on plain tcp anyone may read it: another peer that
 * sends the same ids neither gets this entry's reply nor is refused by it;
 * its request is its own.
 *
 * Reads, stats and lists are idempotent: their entries are park-only.  A
 * copy that arrives while the first copy runs waits for its reply (rather
 * than running beside it, which for a read would collide with its own tag,
 * ETAGINUSE); nothing is kept once that reply is sent, so a later copy
 * simply runs again.  Cancels and status requests bypass the cache, so a
 * kept reply is a header without payload.  A reply saying the
 * request never ran (ECLOSED, ESHUTDOWN before it took effect) is not kept,
 * so a retry runs it.  All functions take e->mtx themselves; the cache's
 * state is the engine's (e->rc), reached from the op (op->eng).
 *
 * Memory.  A finished entry keeps the reply's bytes, exactly as sent, in an
 * allocation of exactly their size: never a copy of the nng message that
 * carried the request (nng 1.5.2's nng_msg_dup allocates and zeroes a
 * message's whole capacity, 1 MiB for a 1 MiB write).  Finished entries are
 * bounded by count (RC_MAX) and by bytes (RC_MAX_BYTES, replies plus
 * records), oldest evicted first.  Running entries are bounded by the limits
 * on operations in flight.
 *
 * Copies parked behind a running entry.  A resent copy carries the same nng
 * request id as the copy before it on its connection, so one reply on a
 * connection answers every copy sent there.  A copy that arrives on the
 * connection of the running copy, or of a copy already parked, is therefore
 * released without a reply (answering it instead with an error would reach
 * the client as the outcome of a request that does run).  A copy from a new
 * connection is parked without its request body (the op keeps a message
 * emptied of it, to build its reply in), and at most RC_PARK_MAX are parked
 * per entry: past that the oldest parked copy, the likeliest to be on a
 * connection that has gone, is released without a reply.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "engine.h"
#include "wire.h"

#define RC_MAX       8192
#define RC_MAX_BYTES (16u << 20)
#define RC_PARK_MAX  16

struct rc_entry {
	uint64_t  owner; /* the sender's identity (rc_owner) */
	uint64_t  client_id;
	uint64_t  request_id;
	uint64_t  fingerprint;
	bool      done;
	uint32_t  pipe_id; /* the running copy's connection */
	uint8_t  *reply;   /* the kept reply's body, exactly (done) */
	size_t    reply_len;
	eng_op   *waiters; /* copies parked for the reply (via rc_next) */
	unsigned  nwaiters;
	bool      park_only; /* read, stat: answer the waiters, keep nothing */
	rc_entry *hnext;
	ovio__list_node age_node; /* rc->done, when done */
};

/* What a finished entry costs against RC_MAX_BYTES. */
#define RC_COST(e) (sizeof(rc_entry) + (e)->reply_len)

static unsigned
rc_bucket(uint64_t cid, uint64_t rid)
{
	return ((unsigned) (((cid ^ (rid * 0x9E3779B97F4A7C15ull))
	                        * 0xC2B2AE3D27D4EB4Full)
	                    >> (64 - ENG_RC_BUCKETS_LOG2)));
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
	uint64_t h    = 0xcbf29ce484222325ull;
	uint64_t v[8] = { (uint64_t) rq->op, rq->handle, rq->offset, rq->length,
		rq->flags, rq->mode, rq->cancel_tag, plen };

	h = fnv(h, v, sizeof(v));
	h = fnv(h, rq->path, strlen(rq->path) + 1);
	return (fnv(h, rq->new_path, strlen(rq->new_path)));
}

/* Makes e's cache empty (at start; and at stop, after freeing it all). */
void
ovio__rc_init(engine *eng)
{
	eng_rcache *rc = &eng->rc;

	memset(rc->table, 0, sizeof(rc->table));
	ovio__list_init(&rc->done, rc_entry, age_node);
	rc->done_count = 0;
	rc->done_bytes = 0;
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
	case OVIO__OP__OP_MKDIR:
	case OVIO__OP__OP_REMOVE:
	case OVIO__OP__OP_RENAME:
	case OVIO__OP__OP_READ: /* park-only */
	case OVIO__OP__OP_STAT: /* park-only */
	case OVIO__OP__OP_LIST: /* park-only */
		return (true);
	default:
		return (false);
	}
}

static rc_entry **
rc_slot(eng_rcache *rc, uint64_t owner, uint64_t cid, uint64_t rid)
{
	rc_entry **pp = &rc->table[rc_bucket(cid, rid)];

	while (*pp != NULL
	       && ((*pp)->client_id != cid || (*pp)->request_id != rid
	           || (*pp)->owner != owner)) {
		pp = &(*pp)->hnext;
	}
	return (pp);
}

/* Takes e out of the table (and the age list, if done) and frees it. */
static void
rc_drop(eng_rcache *rc, rc_entry *e)
{
	rc_entry **pp = rc_slot(rc, e->owner, e->client_id, e->request_id);

	if (ovio__list_active(&e->age_node)) {
		ovio__list_remove(&rc->done, e);
		rc->done_count--;
		rc->done_bytes -= RC_COST(e);
	}
	*pp = e->hnext;
	free(e->reply);
	free(e);
}

/*
 * Sends the reply body kept (len bytes, no payload) as op's reply, with
 * op's tag.  Lock not held; body stays valid for the call.
 */
static void
rc_answer(eng_op *op, const uint8_t *body, size_t len)
{
	Ovio__Reply *rp;
	uint8_t     *payload;
	size_t       plen;
	int          rv;

	/* protobuf-c copies what it unpacks, so op->msg may then be reused. */
	nng_msg_clear(op->msg);
	if (nng_msg_append(op->msg, body, len) != 0
	    || ovio__wire_decode_reply(op->msg, &rp, &payload, &plen) != 0) {
		ovio__op_reply_status(op, OVIO_ENOMEM, 0);
		return;
	}
	rp->tag          = op->tag;
	op->reply_status = (int) rp->status;
	nng_msg_clear(op->msg);
	rv = ovio__wire_encode_reply(op->msg, rp);
	ovio__reply__free_unpacked(rp, NULL);
	if (rv != 0) {
		ovio__op_reply_status(op, rv, 0);
		return;
	}
	op->rc = NULL;
	ovio__op_reply(op);
}

/* Is a copy of e already on connection pipe_id?  Lock held. */
static bool
rc_answered_on(const rc_entry *e, uint32_t pipe_id)
{
	const eng_op *w;
	nng_pipe      p;

	if (e->pipe_id == pipe_id) {
		return (true);
	}
	for (w = e->waiters; w != NULL; w = w->rc_next) {
		p = nng_msg_get_pipe(w->msg);
		if ((uint32_t) nng_pipe_id(p) == pipe_id) {
			return (true);
		}
	}
	return (false);
}

/*
 * Parks op behind the running entry e, in place of its request message a
 * new empty one (on the same pipe).  Lock held.  Returns the request message
 * to free once unlocked, and in *drop a parked copy to release without a
 * reply (the oldest, when RC_PARK_MAX are parked), or op itself when no
 * message could be had for it.
 */
static nng_msg *
rc_park(rc_entry *e, eng_op *op, eng_op **drop)
{
	nng_msg *req = op->msg, *empty;
	eng_op **pp;

	*drop = NULL;
	if (nng_msg_alloc(&empty, 0) != 0) {
		*drop = op;
		return (NULL);
	}
	nng_msg_set_pipe(empty, nng_msg_get_pipe(req));
	op->msg = empty;
	if (e->nwaiters >= RC_PARK_MAX) {
		/* Parked newest first: the oldest is last. */
		for (pp = &e->waiters; (*pp)->rc_next != NULL;
		     pp = &(*pp)->rc_next) { }
		*drop = *pp;
		*pp   = NULL;
		e->nwaiters--;
	}
	op->rc_next = e->waiters;
	e->waiters  = op;
	e->nwaiters++;
	return (req);
}

/*
 * Looks rq up.  Returns true when op was taken care of here (answered from
 * the cache, refused, or parked until the first copy's reply); false when
 * op must run, with op->rc set if its reply is to be kept.
 */
bool
ovio__rc_begin(eng_op *op, const Ovio__Request *rq, size_t plen)
{
	engine      *eng  = op->eng;
	eng_rcache  *rc   = &eng->rc;
	uint64_t     fp   = rc_fingerprint(rq, plen);
	uint32_t     pipe = (uint32_t) nng_pipe_id(nng_msg_get_pipe(op->msg));
	eng_session *s;
	uint64_t     owner;
	rc_entry    *e;
	uint8_t     *kept   = NULL;
	size_t       klen   = 0;
	nng_msg     *req    = NULL;
	eng_op      *drop   = NULL;
	int          refuse = 0;

	op->rc = NULL;
	nng_mtx_lock(eng->mtx);
	s     = ovio__session_find(eng, pipe);
	owner = s != NULL ? s->rc_owner : ((uint64_t) 1 << 63) | pipe;
	if ((e = *rc_slot(rc, owner, rq->client_id, rq->request_id)) == NULL) {
		if ((e = ovio__calloc(1, sizeof(*e))) != NULL) {
			e->owner       = owner;
			e->client_id   = rq->client_id;
			e->request_id  = rq->request_id;
			e->fingerprint = fp;
			e->pipe_id     = pipe;
			e->park_only   = rq->op == OVIO__OP__OP_READ
			               || rq->op == OVIO__OP__OP_STAT
			               || rq->op == OVIO__OP__OP_LIST;
			e->hnext
			    = rc->table[rc_bucket(e->client_id, e->request_id)];
			rc->table[rc_bucket(e->client_id, e->request_id)] = e;
			op->rc                                            = e;
		}
		/* Out of memory: run it uncached rather than not at all. */
		nng_mtx_unlock(eng->mtx);
		return (false);
	}
	eng->ctr.duplicates++;
	if (e->fingerprint != fp) {
		refuse = OVIO_EREQID;
	} else if (e->done) {
		klen = e->reply_len;
		if ((kept = ovio__malloc(klen)) != NULL) {
			memcpy(kept, e->reply, klen);
		} else {
			refuse = OVIO_ENOMEM;
		}
	} else if (rc_answered_on(e, pipe)) {
		drop = op; /* the reply on this connection answers it */
	} else {
		req = rc_park(e, op, &drop);
	}
	nng_mtx_unlock(eng->mtx);
	if (req != NULL) {
		nng_msg_free(req);
	}
	if (drop != NULL) {
		ovio__op_drop(drop);
	}
	if (refuse != 0) {
		ovio__op_reply_status(op, refuse, 0);
	} else if (kept != NULL) {
		rc_answer(op, kept, klen);
		free(kept);
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
	rp->tag         = w->tag;
	w->reply_status = (int) rp->status;
	nng_msg_clear(w->msg);
	if ((rv = ovio__wire_encode_reply(w->msg, rp)) == 0 && plen > 0
	    && nng_msg_append(w->msg, payload, plen) != 0) {
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
	engine *eng = op->eng;
	eng_op *w, *next;

	nng_mtx_lock(eng->mtx);
	w          = e->waiters;
	e->waiters = NULL;
	rc_drop(&eng->rc, e);
	nng_mtx_unlock(eng->mtx);

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
 * just before it is sent: keeps an exact copy of its bytes and answers the
 * copies that waited.  When the reply says the request never ran (ECLOSED,
 * ESHUTDOWN and op->ran unset) the entry goes instead, so a retry runs it.
 */
void
ovio__rc_finish(eng_op *op)
{
	engine      *eng = op->eng;
	eng_rcache  *rc  = &eng->rc;
	rc_entry    *e   = op->rc;
	eng_op      *w, *next;
	uint8_t     *keep = NULL;
	size_t       klen = 0;
	Ovio__Reply *rp;
	uint8_t     *payload;
	size_t       plen;
	int          status;
	bool         whole = false; /* op->msg holds a reply that decodes */

	op->rc = NULL;
	if (e->park_only) {
		rc_finish_parked(op, e);
		return;
	}
	if (op->msg != NULL
	    && ovio__wire_decode_reply(op->msg, &rp, &payload, &plen) == 0) {
		whole  = true;
		status = (int) rp->status;
		ovio__reply__free_unpacked(rp, NULL);
	}
	if (whole
	    && (op->ran
	        || (status != OVIO_ECLOSED && status != OVIO_ESHUTDOWN))) {
		klen = nng_msg_len(op->msg);
		if ((keep = ovio__malloc(klen)) != NULL) {
			memcpy(keep, nng_msg_body(op->msg), klen);
		}
	}
	nng_mtx_lock(eng->mtx);
	w           = e->waiters;
	e->waiters  = NULL;
	e->nwaiters = 0;
	if (keep == NULL) {
		rc_drop(rc, e);
	} else {
		e->done      = true;
		e->reply     = keep;
		e->reply_len = klen;
		ovio__list_append(&rc->done, e);
		rc->done_count++;
		rc->done_bytes += RC_COST(e);
		while (
		    rc->done_count > RC_MAX || rc->done_bytes > RC_MAX_BYTES) {
			rc_drop(rc, ovio__list_first(&rc->done));
		}
	}
	nng_mtx_unlock(eng->mtx);

	/*
	 * The copies that waited get the same answer, with their own tags,
	 * built from op's reply, which is op's until it is sent (the entry
	 * may be evicted meanwhile).
	 */
	for (; w != NULL; w = next) {
		next = w->rc_next;
		if (whole) {
			rc_answer(
			    w, nng_msg_body(op->msg), nng_msg_len(op->msg));
		} else {
			ovio__op_reply_status(w, OVIO_ENOMEM, 0);
		}
	}
}

void
ovio__rc_fini(engine *eng)
{
	eng_rcache *rc = &eng->rc;
	unsigned    i;

	for (i = 0; i < ENG_RC_BUCKETS; i++) {
		while (rc->table[i] != NULL) {
			rc_drop(rc, rc->table[i]);
		}
	}
	ovio__rc_init(eng);
}
