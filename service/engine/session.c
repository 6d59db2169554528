/*
 * session.c - sessions (one per nng pipe) and their tables of tags in
 * flight.  A session is created when its pipe is added, before any of its
 * messages can arrive, and marked dead when the pipe goes; a dead session's
 * handles go through the deferred close, and the session is freed with its
 * last handle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "engine.h"

/*
 * Every request finds its session by pipe id, under e->mtx: a hash of
 * ENG_SESS_BUCKETS chains (e->sess_hash) keeps that short however many
 * clients there are.  e->sessions lists them all, for stop and status.
 */
static eng_session **
sess_bucket(engine *e, uint32_t pipe_id)
{
	return (&e->sess_hash[(pipe_id * 2654435761u) >> 24]);
}

eng_session *
ovio__session_find(engine *e, uint32_t pipe_id)
{
	eng_session *s;

	for (s = *sess_bucket(e, pipe_id); s != NULL; s = s->hnext) {
		if (s->pipe_id == pipe_id) {
			return (s);
		}
	}
	return (NULL);
}

/* Makes s an empty live session of pipe pipe_id, on no list. */
void
ovio__session_init(eng_session *s, uint32_t pipe_id)
{
	memset(s, 0, sizeof(*s));
	s->pipe_id = pipe_id;
	ovio__list_init(&s->handles, eng_handle, s_node);
	ovio__list_node_init(&s->node);
}

/* The host part of a tcp peer's "HOST:PORT" (or "[V6]:PORT"): its length. */
static size_t
peer_host_len(const char *addr)
{
	const char *colon = strrchr(addr, ':');

	return (colon != NULL ? (size_t) (colon - addr) : strlen(addr));
}

/*
 * Whether a and b are the same peer, for limits.sessions_per_peer.  A peer
 * the OS names no way (a Windows named pipe gives a pid only) is like no
 * other: it counts against limits.sessions only, else every local client
 * would share one place.
 */
static bool
peer_same(const eng_peer *a, const eng_peer *b)
{
	size_t n;

	if (!a->tls && !a->has_uid && a->addr[0] == '\0') {
		return (false);
	}
	if (a->tls || b->tls) {
		return (
		    a->tls && b->tls && strcmp(a->subject, b->subject) == 0);
	}
	if (a->has_uid || b->has_uid) {
		return (a->has_uid && b->has_uid && a->uid == b->uid);
	}
	n = peer_host_len(a->addr);
	return (
	    n == peer_host_len(b->addr) && strncmp(a->addr, b->addr, n) == 0);
}

/*
 * The identity the reply cache binds a request's ids to (reply_cache.c): a
 * hash of the certificate subject, the uid or the tcp host, or the pipe
 * itself (top bit set) for a peer the OS names no way.
 */
static uint64_t
peer_owner(const eng_peer *p, uint32_t pipe_id)
{
	uint64_t    h = 0xcbf29ce484222325ull;
	const char *s;
	size_t      n, i;
	char        kind;

	if (p->tls) {
		kind = 'c';
		s    = p->subject;
		n    = strlen(s);
	} else if (p->has_uid) {
		kind = 'u';
		s    = (const char *) &p->uid;
		n    = sizeof(p->uid);
	} else if (p->addr[0] != '\0') {
		kind = 'h';
		s    = p->addr;
		n    = peer_host_len(p->addr);
	} else {
		return (((uint64_t) 1 << 63) | pipe_id);
	}
	h = (h ^ (uint8_t) kind) * 0x100000001b3ull;
	for (i = 0; i < n; i++) {
		h = (h ^ (uint8_t) s[i]) * 0x100000001b3ull;
	}
	return (h & ~((uint64_t) 1 << 63));
}

/* Whether one more data session of peer passes the limits.  Lock held. */
static int
session_limits(engine *e, const eng_peer *peer)
{
	eng_session *s;
	unsigned     all = 0, same = 0;

	if (peer->admin
	    || (e->limits.sessions == 0 && e->limits.sessions_per_peer == 0)) {
		return (0);
	}
	for (s = ovio__list_first(&e->sessions); s != NULL;
	     s = ovio__list_next(&e->sessions, s)) {
		if (s->dead || s->peer.admin) {
			continue;
		}
		all++;
		same += peer_same(&s->peer, peer) ? 1 : 0;
	}
	if ((e->limits.sessions != 0 && all >= e->limits.sessions)
	    || (e->limits.sessions_per_peer != 0
	        && same >= e->limits.sessions_per_peer)) {
		return (OVIO_EBUSY);
	}
	return (0);
}

int
ovio__session_add(engine *e, uint32_t pipe_id, const eng_peer *peer)
{
	eng_session *s;
	int          rv;

	if ((s = ovio__malloc(sizeof(*s))) == NULL) {
		return (OVIO_ENOMEM);
	}
	ovio__session_init(s, pipe_id);
	s->peer     = *peer;
	s->rc_owner = peer_owner(peer, pipe_id);
	nng_mtx_lock(e->mtx);
	s->active_at = nng_clock();
	if ((rv = session_limits(e, peer)) != 0) {
		nng_mtx_unlock(e->mtx);
		free(s);
		return (rv);
	}
	ovio__list_prepend(&e->sessions, s);
	s->hnext                 = *sess_bucket(e, pipe_id);
	*sess_bucket(e, pipe_id) = s;
	e->nsessions++;
	nng_mtx_unlock(e->mtx);
	return (0);
}

size_t
ovio__session_idle(engine *e, uint32_t *ids, size_t max)
{
	eng_session *s;
	nng_time     now;
	size_t       n = 0;

	if (e->limits.idle_ms == 0) {
		return (0);
	}
	nng_mtx_lock(e->mtx);
	/* Read under the lock: no active_at set before it is later. */
	now = nng_clock();
	for (s = ovio__list_first(&e->sessions); s != NULL && n < max;
	     s = ovio__list_next(&e->sessions, s)) {
		if (!s->dead && !s->idle_closed && !s->peer.admin
		    && s->nhandles == 0 && s->opening == 0
		    && s->ops_in_flight == 0 && s->replies_out == 0
		    && s->serving == 0
		    && s->active_at + (nng_time) e->limits.idle_ms <= now) {
			s->idle_closed = true;
			ids[n++] = s->pipe_id;
		}
	}
	nng_mtx_unlock(e->mtx);
	return (n);
}

/* Frees every session left at the end of a clean stop. */
void
ovio__session_fini(engine *e)
{
	eng_session *s;

	while ((s = ovio__list_pop_first(&e->sessions)) != NULL) {
		free(s);
	}
	memset(e->sess_hash, 0, sizeof(e->sess_hash));
	e->nsessions = 0;
}

/* Frees s if it is dead and owns nothing.  Lock held. */
void
ovio__session_maybe_free(engine *e, eng_session *s)
{
	eng_session **pp;

	if (!s->dead || s->nhandles != 0) {
		return;
	}
	ovio__list_remove(&e->sessions, s);
	for (pp = sess_bucket(e, s->pipe_id); *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == s) {
			*pp = s->hnext;
			break;
		}
	}
	e->nsessions--;
	free(s);
	nng_cv_wake(e->cv);
}

/*
 * The pipe went away: close every handle the session owned, cancelling
 * what is in flight, exactly as a close request would.
 */
void
ovio__session_gone(engine *e, uint32_t pipe_id)
{
	eng_session *s;
	eng_handle  *drained = NULL;
	unsigned     n;

	nng_mtx_lock(e->mtx);
	if ((s = ovio__session_find(e, pipe_id)) == NULL) {
		nng_mtx_unlock(e->mtx);
		return;
	}
	s->dead = true;
	n       = ovio__close_session(s, &drained);
	ovio__session_maybe_free(e, s);
	nng_mtx_unlock(e->mtx);

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
