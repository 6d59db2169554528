/*
 * session.c - sessions (one per nng pipe) and their tables of tags in
 * flight.  A session is created when its pipe is added, before any of its
 * messages can arrive, and marked dead when the pipe goes; a dead session's
 * handles go through the deferred close, and the session is freed with its
 * last handle.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

/*
 * Every request finds its session by pipe id, under eng.mtx: a hash of
 * SESS_BUCKETS chains keeps that short however many clients there are.
 * eng.sessions lists them all, for stop and status.
 */
#define SESS_BUCKETS 256

static eng_session *sess_table[SESS_BUCKETS];

static eng_session **
sess_bucket(uint32_t pipe_id)
{
	return (&sess_table[(pipe_id * 2654435761u) >> 24]);
}

eng_session *
ovio__session_find(uint32_t pipe_id)
{
	eng_session *s;

	for (s = *sess_bucket(pipe_id); s != NULL; s = s->hnext) {
		if (s->pipe_id == pipe_id) {
			return (s);
		}
	}
	return (NULL);
}

int
ovio__session_add(uint32_t pipe_id)
{
	eng_session *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		return (OVIO_ENOMEM);
	}
	s->pipe_id = pipe_id;
	nng_mtx_lock(eng.mtx);
	s->next                 = eng.sessions;
	eng.sessions            = s;
	s->hnext                = *sess_bucket(pipe_id);
	*sess_bucket(pipe_id)   = s;
	eng.nsessions++;
	nng_mtx_unlock(eng.mtx);
	return (0);
}

/* Frees every session left at the end of a clean stop. */
void
ovio__session_fini(void)
{
	eng_session *s;

	while ((s = eng.sessions) != NULL) {
		eng.sessions = s->next;
		free(s);
	}
	memset(sess_table, 0, sizeof(sess_table));
	eng.nsessions = 0;
}

/* Frees s if it is dead and owns nothing.  Lock held. */
void
ovio__session_maybe_free(eng_session *s)
{
	eng_session **pp;

	if (!s->dead || s->nhandles != 0) {
		return;
	}
	for (pp = &eng.sessions; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	for (pp = sess_bucket(s->pipe_id); *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == s) {
			*pp = s->hnext;
			break;
		}
	}
	eng.nsessions--;
	free(s);
	nng_cv_wake(eng.cv);
}

/*
 * The pipe went away: close every handle the session owned, cancelling
 * what is in flight, exactly as a close request would.
 */
void
ovio__session_gone(uint32_t pipe_id)
{
	eng_session *s;
	eng_handle  *drained = NULL;
	unsigned     n;

	nng_mtx_lock(eng.mtx);
	if ((s = ovio__session_find(pipe_id)) == NULL) {
		nng_mtx_unlock(eng.mtx);
		return;
	}
	s->dead = true;
	n       = ovio__close_session(s, &drained);
	ovio__session_maybe_free(s);
	nng_mtx_unlock(eng.mtx);

	if (n > 0) {
		ovio__log("session %u disconnected: closing %u handle(s)",
		    pipe_id, n);
	}
	ovio__close_finish_all(drained);
}

static unsigned
tag_bucket(uint64_t tag)
{
	return ((unsigned) ((tag * 0x9E3779B97F4A7C15ull) >> 58));
}

eng_op *
ovio__tag_find(eng_session *s, uint64_t tag)
{
	eng_op *op;

	for (op = s->tags[tag_bucket(tag)]; op != NULL; op = op->tag_next) {
		if (op->tag == tag) {
			return (op);
		}
	}
	return (NULL);
}

int
ovio__tag_add(eng_session *s, eng_op *op)
{
	unsigned b = tag_bucket(op->tag);

	if (ovio__tag_find(s, op->tag) != NULL) {
		return (OVIO_ETAGINUSE);
	}
	op->tag_next = s->tags[b];
	s->tags[b]   = op;
	return (0);
}

void
ovio__tag_remove(eng_session *s, eng_op *op)
{
	eng_op **pp;

	for (pp = &s->tags[tag_bucket(op->tag)]; *pp != NULL;
	     pp = &(*pp)->tag_next) {
		if (*pp == op) {
			*pp = op->tag_next;
			break;
		}
	}
	op->tag_next = NULL;
}
