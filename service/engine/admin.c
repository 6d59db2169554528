/*
 * admin.c - the admin endpoint's requests (OP_ADMIN): listings of the
 * sessions, handles and operations, and the commands that act on them.
 *
 * Which endpoint a session came in on is fixed when its pipe is added
 * (server.c, peer.admin): the admin endpoint answers only admin requests
 * and status, a data endpoint never answers an admin request
 * (ovio__admin_gate; OVIO_EPERM).
 *
 * A listing is one snapshot taken under e->mtx: the page is copied into
 * protobuf records (strings copied too, since a handle may be freed once
 * the lock is dropped), the lock is released, and only then is the reply
 * packed and sent.  A page holds at most ADMIN_PAGE_MAX entries; its
 * cookie is the number of entries before it.
 *
 * The commands use the engine's own paths, never a second way to end an
 * operation: a cancel is ovio__op_cancel (the op completes once, as
 * ECANCELED, to its owner); a forced close is ovio__close_begin without a
 * close request to answer; a kick closes the session's nng pipe, which
 * runs the disconnect path (session.c).
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "engine.h"
#include "host.h"
#include "wire.h"

#define ADMIN_PAGE_MAX 256

int
ovio__admin_gate(engine *e, uint32_t pipe, int op)
{
	eng_session *s;
	bool         admin;

	nng_mtx_lock(e->mtx);
	s     = ovio__session_find(e, pipe);
	admin = s != NULL && s->peer.admin;
	nng_mtx_unlock(e->mtx);
	if (op == OVIO__OP__OP_ADMIN) {
		return (admin ? 0 : OVIO_EPERM);
	}
	return (!admin || op == OVIO__OP__OP_STATUS ? 0 : OVIO_EPERM);
}

/* How many items l holds.  Lock held. */
static unsigned
admin_count(const ovio__list *l)
{
	void    *it;
	unsigned n = 0;

	for (it = ovio__list_first(l); it != NULL;
	     it = ovio__list_next(l, it)) {
		n++;
	}
	return (n);
}

/* The handle of id in any session, or NULL.  Lock held. */
static eng_handle *
admin_handle(engine *e, uint64_t id)
{
	uint32_t    index = (uint32_t) id;
	eng_handle *h;

	if (index >= e->hcap || (h = e->htab[index])->state == H_FREE
	    || h->gen != (uint32_t) (id >> 32)) {
		return (NULL);
	}
	return (h);
}

/* The op in flight whose admin id is id, or NULL.  Lock held. */
static eng_op *
admin_op(engine *e, uint64_t id)
{
	eng_handle *h;
	eng_op     *op;
	uint32_t    i;

	for (i = 0; i < e->hcap; i++) {
		h = e->htab[i];
		for (op = ovio__list_first(&h->ops); op != NULL;
		     op = ovio__list_next(&h->ops, op)) {
			if (op->admin_id == id && op->in_flight) {
				return (op);
			}
		}
	}
	return (NULL);
}

/* A live session of id, or NULL.  Lock held. */
static eng_session *
admin_session(engine *e, uint64_t id)
{
	eng_session *s;

	if (id > UINT32_MAX
	    || (s = ovio__session_find(e, (uint32_t) id)) == NULL || s->dead) {
		return (NULL);
	}
	return (s);
}

/* A copy of s (NULL: ""), or NULL when out of memory. */
static char *
admin_strdup(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	char  *d;

	if ((d = ovio__malloc(n + 1)) != NULL) {
		memcpy(d, s != NULL ? s : "", n);
		d[n] = '\0';
	}
	return (d);
}

/* One page of a listing, made under the lock and sent after it. */
typedef struct admin_page {
	Ovio__AdminPage     page;
	Ovio__AdminSession *sess;
	Ovio__AdminHandle  *hand;
	Ovio__AdminOp      *ops;
	void              **ptrs; /* page.sessions / handles / ops */
	size_t              n;
	bool                more;
} admin_page;

static void
admin_page_free(admin_page *p)
{
	size_t i;

	for (i = 0; p->hand != NULL && i < p->n; i++) {
		free(p->hand[i].path);
	}
	for (i = 0; p->sess != NULL && i < p->n; i++) {
		free(p->sess[i].address);
		free(p->sess[i].certificate);
	}
	free(p->sess);
	free(p->hand);
	free(p->ops);
	free(p->ptrs);
}

/* Lock held for the three listings; each returns 0 or OVIO_ENOMEM. */
static int
list_sessions(engine *e, admin_page *p, uint64_t skip, size_t max)
{
	eng_session *s;
	uint64_t     pos = 0;

	for (s = ovio__list_first(&e->sessions); s != NULL;
	     s = ovio__list_next(&e->sessions, s)) {
		if (s->dead || pos++ < skip) {
			continue;
		}
		if (p->n == max) {
			p->more = true;
			break;
		}
		Ovio__AdminSession *a = &p->sess[p->n];
		ovio__admin_session__init(a);
		a->id           = s->pipe_id;
		a->admin        = s->peer.admin;
		a->has_uid      = s->peer.has_uid;
		a->uid          = s->peer.uid;
		a->pid          = s->peer.pid;
		a->connected_ms = s->peer.connected_ms;
		a->handles      = s->nhandles;
		a->ops          = s->ops_in_flight;
		a->bytes        = s->bytes_in_flight;
		if ((a->address = admin_strdup(s->peer.addr)) == NULL) {
			return (OVIO_ENOMEM);
		}
		if ((a->certificate = admin_strdup(s->peer.subject)) == NULL) {
			free(a->address); /* entry n is not freed by the page */
			return (OVIO_ENOMEM);
		}
		p->ptrs[p->n++] = a;
	}
	return (0);
}

static int
list_handles(engine *e, admin_page *p, uint64_t skip, size_t max)
{
	eng_handle *h;
	uint64_t    pos = 0;
	uint32_t    i;

	for (i = 0; i < e->hcap; i++) {
		h = e->htab[i];
		if (h->state == H_FREE || pos++ < skip) {
			continue;
		}
		if (p->n == max) {
			p->more = true;
			break;
		}
		Ovio__AdminHandle *a = &p->hand[p->n];
		ovio__admin_handle__init(a);
		a->id      = ovio__handle_id(h);
		a->session = h->sess->pipe_id;
		a->flags   = h->flags;
		a->closing = h->state == H_CLOSING;
		a->ops     = (uint32_t) admin_count(&h->ops);
		if ((a->path = admin_strdup(h->path)) == NULL) {
			return (OVIO_ENOMEM);
		}
		p->ptrs[p->n++] = a;
	}
	return (0);
}

static int
list_ops(engine *e, admin_page *p, uint64_t skip, size_t max)
{
	eng_handle *h;
	eng_op     *op;
	uint64_t    pos = 0;
	nng_time    now = nng_clock();
	uint32_t    i;

	for (i = 0; i < e->hcap && !p->more; i++) {
		h = e->htab[i];
		for (op = ovio__list_first(&h->ops); op != NULL;
		     op = ovio__list_next(&h->ops, op)) {
			if (!op->in_flight || pos++ < skip) {
				continue;
			}
			if (p->n == max) {
				p->more = true;
				break;
			}
			Ovio__AdminOp *a = &p->ops[p->n];
			ovio__admin_op__init(a);
			a->id           = op->admin_id;
			a->tag          = op->tag;
			a->session      = op->sess->pipe_id;
			a->handle       = ovio__handle_id(h);
			a->kind         = (Ovio__Op) op->kind;
			a->offset       = op->port.offset;
			a->length       = op->port.len;
			a->age_ms       = (uint64_t) (now - op->started);
			a->cancelling   = op->cancel_wanted;
			p->ptrs[p->n++] = a;
		}
	}
	return (0);
}

/*
 * Sends page (n entries, more after them) as op's reply: the reply header,
 * then the packed page as its payload.  Returns 0, or the status to answer
 * with instead.
 */
static int
admin_send_page(eng_op *op, const Ovio__Request *rq,
    const Ovio__AdminPage *page, size_t n, bool more)
{
	Ovio__Reply rp  = OVIO__REPLY__INIT;
	size_t      len = ovio__admin_page__get_packed_size(page);
	int         rv;

	rp.tag         = op->tag;
	rp.more        = more;
	rp.next_cookie = rq->offset + n;
	rp.result      = n;
	ovio__op_msg_shrink(op);
	rv = ovio__wire_encode_reply(op->msg, &rp);
	if (rv == 0
	    && nng_msg_realloc(op->msg, nng_msg_len(op->msg) + len) != 0) {
		rv = OVIO_ENOMEM;
	}
	if (rv == 0) {
		ovio__admin_page__pack(page, (uint8_t *) nng_msg_body(op->msg)
		                                 + nng_msg_len(op->msg) - len);
	}
	return (rv);
}

/*
 * ADMIN_STATS: every kind with a request answered, in one page (there are
 * at most ENG_STAT_KINDS).
 */
static void
admin_stats(eng_op *op, const Ovio__Request *rq)
{
	eng_kind_stats       s[ENG_STAT_KINDS];
	Ovio__AdminKindStats ks[ENG_STAT_KINDS], *ptrs[ENG_STAT_KINDS];
	Ovio__AdminPage      page = OVIO__ADMIN_PAGE__INIT;
	size_t               n    = 0, k;
	int                  rv;

	ovio__stats_snapshot(op->eng, s);
	for (k = 0; k < ENG_STAT_KINDS; k++) {
		if (s[k].count == 0) {
			continue;
		}
		ovio__admin_kind_stats__init(&ks[n]);
		ks[n].kind      = (Ovio__Op) k;
		ks[n].count     = s[k].count;
		ks[n].errors    = s[k].errors;
		ks[n].sum_us    = s[k].sum_us;
		ks[n].max_us    = s[k].max_us;
		ks[n].n_buckets = ENG_LAT_BUCKETS;
		ks[n].buckets   = s[k].buckets;
		ptrs[n]         = &ks[n];
		n++;
	}
	page.n_stats = n;
	page.stats   = ptrs;
	if ((rv = admin_send_page(op, rq, &page, n, false)) != 0) {
		ovio__op_reply_status(op, rv, 0);
		return;
	}
	ovio__logl(OVIO__LOG_DEBUG, "admin: stats of %u kind(s)", (unsigned) n);
	ovio__op_reply(op);
}

/* A listing: one page from rq->offset, at most rq->length entries. */
static void
admin_list(eng_op *op, const Ovio__Request *rq)
{
	engine    *e   = op->eng;
	size_t     max = rq->length == 0 || rq->length > ADMIN_PAGE_MAX
	                     ? ADMIN_PAGE_MAX
	                     : (size_t) rq->length;
	admin_page p;
	int        rv = 0;

	memset(&p, 0, sizeof(p));
	ovio__admin_page__init(&p.page);
	p.ptrs = ovio__calloc(max, sizeof(void *));
	switch (rq->flags) {
	case OVIO__ADMIN_CMD__ADMIN_SESSIONS:
		p.sess = ovio__calloc(max, sizeof(*p.sess));
		rv     = p.sess == NULL ? OVIO_ENOMEM : 0;
		break;
	case OVIO__ADMIN_CMD__ADMIN_HANDLES:
		p.hand = ovio__calloc(max, sizeof(*p.hand));
		rv     = p.hand == NULL ? OVIO_ENOMEM : 0;
		break;
	default:
		p.ops = ovio__calloc(max, sizeof(*p.ops));
		rv    = p.ops == NULL ? OVIO_ENOMEM : 0;
		break;
	}
	if (rv == 0 && p.ptrs == NULL) {
		rv = OVIO_ENOMEM;
	}
	if (rv == 0) {
		nng_mtx_lock(e->mtx);
		if (p.sess != NULL) {
			rv = list_sessions(e, &p, rq->offset, max);
		} else if (p.hand != NULL) {
			rv = list_handles(e, &p, rq->offset, max);
		} else {
			rv = list_ops(e, &p, rq->offset, max);
		}
		nng_mtx_unlock(e->mtx);
	}
	if (rv != 0) {
		admin_page_free(&p);
		ovio__op_reply_status(op, rv, 0);
		return;
	}
	if (p.sess != NULL) {
		p.page.n_sessions = p.n;
		p.page.sessions   = (Ovio__AdminSession **) p.ptrs;
	} else if (p.hand != NULL) {
		p.page.n_handles = p.n;
		p.page.handles   = (Ovio__AdminHandle **) p.ptrs;
	} else {
		p.page.n_ops = p.n;
		p.page.ops   = (Ovio__AdminOp **) p.ptrs;
	}
	rv = admin_send_page(op, rq, &p.page, p.n, p.more);
	ovio__logl(OVIO__LOG_DEBUG, "admin: listed %u %s from %llu",
	    (unsigned) p.n,
	    p.sess != NULL   ? "session(s)"
	    : p.hand != NULL ? "handle(s)"
	                     : "operation(s)",
	    (unsigned long long) rq->offset);
	admin_page_free(&p);
	if (rv != 0) {
		ovio__op_reply_status(op, rv, 0);
		return;
	}
	ovio__op_reply(op);
}

/* Cancels what rq names (op, handle or session); lock held. */
static int
admin_cancel(engine *e, const Ovio__Request *rq, Ovio__Reply *rp)
{
	eng_session *s;
	eng_handle  *h;
	eng_op      *target;

	switch (rq->flags) {
	case OVIO__ADMIN_CMD__ADMIN_CANCEL_OP:
		if ((target = admin_op(e, rq->handle)) == NULL) {
			return (OVIO_ENOTFOUND);
		}
		rp->found    = true;
		rp->canceled = target->cancel_wanted ? 0 : 1;
		(void) ovio__op_cancel(target, NULL);
		return (0);
	case OVIO__ADMIN_CMD__ADMIN_CANCEL_HANDLE:
		if ((h = admin_handle(e, rq->handle)) == NULL) {
			return (OVIO_EBADF);
		}
		rp->canceled = ovio__cancel_handle_ops(h);
		break;
	default: /* ADMIN_CANCEL_SESSION */
		if ((s = admin_session(e, rq->handle)) == NULL) {
			return (OVIO_ENOTFOUND);
		}
		for (h = ovio__list_first(&s->handles); h != NULL;
		     h = ovio__list_next(&s->handles, h)) {
			rp->canceled += ovio__cancel_handle_ops(h);
		}
		break;
	}
	rp->found = rp->canceled > 0;
	return (0);
}

static const char *const admin_names[]
    = { "none", "sessions", "handles", "ops", "cancel op", "cancel handle",
	      "cancel session", "close handle", "kick session", "drain",
	      "resume", "shutdown", "log-level", "reload", "stats" };

void
ovio__admin_dispatch(eng_op *op, const Ovio__Request *rq)
{
	engine         *e  = op->eng;
	Ovio__Reply     rp = OVIO__REPLY__INIT;
	eng_handle     *h  = NULL;
	ovio__log_level level;
	nng_pipe        kick    = NNG_PIPE_INITIALIZER;
	bool            drained = false, stop = false, reload = false;
	int             rv = 0;

	switch (rq->flags) {
	case OVIO__ADMIN_CMD__ADMIN_SESSIONS:
	case OVIO__ADMIN_CMD__ADMIN_HANDLES:
	case OVIO__ADMIN_CMD__ADMIN_OPS:
		admin_list(op, rq);
		return;
	case OVIO__ADMIN_CMD__ADMIN_STATS:
		admin_stats(op, rq);
		return;
	case OVIO__ADMIN_CMD__ADMIN_LOG_LEVEL:
		if (!ovio__log_level_parse(rq->path, &level)) {
			ovio__op_reply_status(op, OVIO_EINVAL, 0);
			return;
		}
		ovio__log("admin: log level %s (was %s)",
		    ovio__log_level_name(level),
		    ovio__log_level_name(ovio__log_get_level()));
		ovio__log_set_level(level);
		break;
	default:
		break;
	}

	nng_mtx_lock(e->mtx);
	switch (rq->flags) {
	case OVIO__ADMIN_CMD__ADMIN_CANCEL_OP:
	case OVIO__ADMIN_CMD__ADMIN_CANCEL_HANDLE:
	case OVIO__ADMIN_CMD__ADMIN_CANCEL_SESSION:
		rv = admin_cancel(e, rq, &rp);
		break;
	case OVIO__ADMIN_CMD__ADMIN_CLOSE_HANDLE:
		if ((h = admin_handle(e, rq->handle)) == NULL) {
			rv = OVIO_EBADF;
		} else if (h->state != H_OPEN) {
			rv = OVIO_ECLOSING;
		} else {
			/* The owner's ops complete ECANCELED; nothing else
			 * is answered when it is closed. */
			rp.canceled = admin_count(&h->ops);
			drained     = ovio__close_begin(h, NULL);
			rp.found    = true;
		}
		break;
	case OVIO__ADMIN_CMD__ADMIN_KICK:
		if (admin_session(e, rq->handle) == NULL) {
			rv = OVIO_ENOTFOUND;
		} else {
			kick.id  = (uint32_t) rq->handle;
			rp.found = true;
		}
		break;
	case OVIO__ADMIN_CMD__ADMIN_DRAIN:
		e->draining = true;
		break;
	case OVIO__ADMIN_CMD__ADMIN_RESUME:
		e->draining = false;
		break;
	case OVIO__ADMIN_CMD__ADMIN_SHUTDOWN:
		stop = true;
		break;
	case OVIO__ADMIN_CMD__ADMIN_RELOAD:
		reload = true; /* asked once answered, outside the lock */
		break;
	default:
		break;
	}
	nng_mtx_unlock(e->mtx);

	if (rv == 0 && rq->flags >= OVIO__ADMIN_CMD__ADMIN_DRAIN
	    && rq->flags != OVIO__ADMIN_CMD__ADMIN_LOG_LEVEL) {
		ovio__log("admin: %s", admin_names[rq->flags]);
	} else if (rv == 0 && rq->flags != OVIO__ADMIN_CMD__ADMIN_LOG_LEVEL) {
		ovio__log("admin: %s %llu: %u cancel(s) started",
		    admin_names[rq->flags], (unsigned long long) rq->handle,
		    rp.canceled);
	}
	if (drained) {
		ovio__close_finish(h);
	}
	if (kick.id != 0) {
		/* The disconnect path closes its handles (session.c). */
		(void) nng_pipe_close(kick);
	}
	if (rv != 0) {
		ovio__op_reply_status(op, rv, 0);
		return;
	}
	rp.tag = op->tag;
	ovio__op_msg_shrink(op);
	if (ovio__wire_encode_reply(op->msg, &rp) != 0) {
		ovio__op_reply_status(op, OVIO_ENOMEM, 0);
		return;
	}
	ovio__op_reply(op); /* op may be gone from here on */
	if (stop) {
		ovio__host_request_stop(); /* the reply is on its way */
	} else if (reload) {
		ovio__host_request_reload(); /* on the main thread */
	}
}
