/*
 * batch.c - several operations in one message (OP_BATCH): see
 * proto/ovio.proto for the wire form and engine.h for the contract.
 *
 * The batch's own record (the one that received the message, and keeps
 * its nng context for the reply) takes a record for each operation, gives
 * each a message of its own holding its frame, and dispatches it as if it
 * had come alone (dispatch.c): the operation is registered, cancellable by
 * its tag, counted against its session and completed exactly once as any
 * other.  Its reply, instead of going to nng, is handed here
 * (ovio__batch_kid_done); the last one to arrive builds the batch's reply
 * from all of them, in order, and returns the records to the pool.
 *
 * batch_left starts at n + 1: the extra one is the dispatching thread's
 * own, given up after the last operation was dispatched, so the reply
 * cannot go while operations are still being handed out.
 */
#include <string.h>

#include "alloc.h"
#include "engine.h"
#include "wire.h"

/* Whether payload is exactly n frames, each a length and that many bytes. */
static bool
batch_frames_ok(const uint8_t *p, size_t len, uint32_t n)
{
	uint32_t i, flen;

	for (i = 0; i < n; i++) {
		if (len < 4 || (flen = ovio__wire_get_le32(p)) > len - 4
		    || flen < 4) {
			return (false);
		}
		p += 4 + (size_t) flen;
		len -= 4 + (size_t) flen;
	}
	return (len == 0);
}

bool
ovio__batch_kid_ok(const Ovio__Request *rq)
{
	switch (rq->op) {
	case OVIO__OP__OP_READ:
	case OVIO__OP__OP_WRITE:
	case OVIO__OP__OP_FLUSH:
	case OVIO__OP__OP_SETSIZE:
		/* At-most-once ids are the whole request's, never a part's. */
		return (rq->request_id == 0);
	default:
		return (false);
	}
}

static void batch_one_less(eng_op *op);

/* Gives back the records of a batch that never ran. */
static void
batch_release(eng_op **kids, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (kids[i]->msg != NULL) {
			nng_msg_free(kids[i]->msg);
			kids[i]->msg = NULL;
		}
		ovio__op_free(kids[i]);
	}
	free(kids);
}

void
ovio__batch_dispatch(
    eng_op *op, const Ovio__Request *rq, const uint8_t *payload, size_t plen)
{
	engine        *e = op->eng;
	uint32_t       n = (uint32_t) rq->length, i, flen;
	nng_pipe       pipe;
	eng_op       **kids;
	const uint8_t *p = payload;

	if (!batch_frames_ok(payload, plen, n)) {
		ovio__op_reply_status(op, OVIO_EINVAL, 0);
		return;
	}
	if ((kids = ovio__calloc(n, sizeof(*kids))) == NULL) {
		ovio__op_reply_status(op, OVIO_ENOMEM, 0);
		return;
	}
	if (ovio__op_new_n(e, kids, n) != 0) {
		free(kids);
		ovio__op_reply_status(op, OVIO_ENOMEM, 0);
		return;
	}
	for (i = 0; i < n; i++) {
		kids[i]->msg = NULL;
	}
	pipe = nng_msg_get_pipe(op->msg);
	for (i = 0; i < n; i++) {
		flen = ovio__wire_get_le32(p);
		if (nng_msg_alloc(&kids[i]->msg, flen) != 0) {
			kids[i]->msg = NULL;
			batch_release(kids, n);
			ovio__op_reply_status(op, OVIO_ENOMEM, 0);
			return;
		}
		memcpy(nng_msg_body(kids[i]->msg), p + 4, flen);
		nng_msg_set_pipe(kids[i]->msg, pipe);
		p += 4 + (size_t) flen;
	}
	/* The frames are copied: the request's memory goes now. */
	ovio__op_msg_shrink(op);
	op->batch_kids = kids;
	op->batch_n    = n;
	__atomic_store_n(&op->batch_left, n + 1, __ATOMIC_RELEASE);
	/* Their submits go to the OS together (port.h). */
	ovio__port_hold(e->port);
	for (i = 0; i < n; i++) {
		kids[i]->batch_parent = op;
		kids[i]->batch_idx    = i;
		kids[i]->recv_us      = op->recv_us;
		kids[i]->in_counted   = false;
		ovio__dispatch(kids[i]);
	}
	ovio__port_release(e->port);
	batch_one_less(op); /* the dispatching thread's own: see the top */
}

/*
 * Appends a reply frame of tag saying only status and result.  0 or
 * OVIO_ENOMEM.
 */
static int
batch_status_frame(nng_msg *msg, uint64_t tag, int status, uint64_t result)
{
	Ovio__Reply rp = OVIO__REPLY__INIT;
	nng_msg    *f;
	int         rv;

	rp.tag    = tag;
	rp.status = (Ovio__Status) status;
	rp.result = result;
	if (nng_msg_alloc(&f, 0) != 0) {
		return (OVIO_ENOMEM);
	}
	if ((rv = ovio__wire_encode_reply(f, &rp)) == 0) {
		uint8_t len[4];
		ovio__wire_put_le32(len, (uint32_t) nng_msg_len(f));
		if (nng_msg_append(msg, len, 4) != 0
		    || nng_msg_append(msg, nng_msg_body(f), nng_msg_len(f))
		           != 0) {
			rv = OVIO_ENOMEM;
		}
	}
	nng_msg_free(f);
	return (rv);
}

/*
 * The parts' replies counted against their session from their completion
 * (op.c: replies_out, reply_bytes); the counts move to the batch's record,
 * which gives them back once nng has taken its reply (server.c, op_put),
 * so a client that never reads its replies is held to its limits with
 * batches as without.  Lock not held.
 */
static void
batch_take_counts(eng_op *op)
{
	engine      *e = op->eng;
	eng_session *s;
	eng_op      *kid;
	uint64_t     bytes = 0;
	uint32_t     i, k = 0, pipe = 0;

	nng_mtx_lock(e->mtx);
	for (i = 0; i < op->batch_n; i++) {
		kid = op->batch_kids[i];
		if (kid->out_counted) {
			kid->out_counted = false;
			bytes += kid->out_bytes;
			pipe = kid->out_pipe;
			k++;
		}
	}
	if (k > 0 && (s = ovio__session_find(e, pipe)) != NULL) {
		s->replies_out -= k - 1; /* one stays, for the batch's */
		op->out_counted = true;
		op->out_pipe    = pipe;
		op->out_bytes   = bytes;
	}
	nng_mtx_unlock(e->mtx);
}

/*
 * Appends each part's frame to op->msg (behind the batch's header), as it
 * would have gone alone.  With status_only, a
 * frame of each part's status and result instead, for when the whole will
 * not fit in memory: a read that succeeded then says OVIO_ENOMEM (its data
 * is lost), a write keeps its count.  0 or OVIO_ENOMEM.
 */
static int
batch_frames(eng_op *op, bool status_only)
{
	eng_op  *kid;
	uint32_t i;
	uint8_t  len[4];
	int      rv = 0, st;

	for (i = 0; i < op->batch_n && rv == 0; i++) {
		kid = op->batch_kids[i];
		if (kid->msg == NULL) {
			/* Its own reply could not be made. */
			rv = batch_status_frame(
			    op->msg, kid->tag, OVIO_ENOMEM, 0);
		} else if (status_only) {
			st = kid->reply_status;
			if (kid->kind == OVIO__OP__OP_READ && st == OVIO_OK) {
				st = OVIO_ENOMEM;
			}
			rv = batch_status_frame(op->msg, kid->tag, st,
			    kid->kind == OVIO__OP__OP_READ ? 0
			                                   : kid->port.result);
		} else {
			ovio__wire_put_le32(
			    len, (uint32_t) nng_msg_len(kid->msg));
			if (nng_msg_append(op->msg, len, 4) != 0
			    || nng_msg_append(op->msg, nng_msg_body(kid->msg),
			           nng_msg_len(kid->msg))
			           != 0) {
				return (OVIO_ENOMEM);
			}
		}
	}
	return (rv);
}

/* The last part of op's batch has replied: the batch replies. */
static void
batch_send(eng_op *op)
{
	Ovio__Reply rp = OVIO__REPLY__INIT;
	eng_op     *kid;
	size_t      total = 0, at = 0;
	uint32_t    i;
	int         rv;

	batch_take_counts(op);
	rp.tag    = op->tag;
	rp.status = OVIO__STATUS__OK;
	rp.result = op->batch_n;
	for (i = 0; i < op->batch_n; i++) {
		kid = op->batch_kids[i];
		total += 4 + (kid->msg != NULL ? nng_msg_len(kid->msg) : 64);
	}
	nng_msg_clear(op->msg);
	if ((rv = ovio__wire_encode_reply(op->msg, &rp)) == 0) {
		at = nng_msg_len(op->msg);
		if (nng_msg_realloc(op->msg, at + total) == 0) {
			nng_msg_chop(op->msg, total); /* room to append into */
			rv = batch_frames(op, false);
		} else {
			rv = OVIO_ENOMEM;
		}
		if (rv != 0) {
			nng_msg_chop(op->msg, nng_msg_len(op->msg) - at);
			rv = batch_frames(op, true);
		}
	}
	for (i = 0; i < op->batch_n; i++) {
		kid = op->batch_kids[i];
		if (kid->msg != NULL) {
			nng_msg_free(kid->msg);
			kid->msg = NULL;
		}
		ovio__op_free(kid);
	}
	free(op->batch_kids);
	op->batch_kids = NULL;
	op->batch_n    = 0;
	if (rv != 0) {
		/*
		 * Not even the parts' statuses fit: the batch says ENOMEM
		 * with no frames, and its parts' outcomes are lost (they
		 * ran).
		 */
		ovio__op_reply_status(op, rv, 0);
		return;
	}
	op->reply_status = 0;
	ovio__op_reply(op);
}

static void
batch_one_less(eng_op *op)
{
	if (__atomic_sub_fetch(&op->batch_left, 1, __ATOMIC_ACQ_REL) == 0) {
		batch_send(op);
	}
}

void
ovio__batch_kid_done(eng_op *kid)
{
	batch_one_less(kid->batch_parent);
}
