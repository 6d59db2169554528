/*
 * admin.c - libovio's administration calls (ovio.h, "Administration"):
 * OP_ADMIN requests to oviod's admin endpoint, each blocking until its
 * reply, listings page after page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_impl.h"

#define ADMIN_PAGE 256u

int
ovio_admin_endpoint_for(const char *data_url, char *buf, size_t len)
{
	size_t n;
	int    w;

	if (data_url == NULL || strncmp(data_url, "ipc://", 6) != 0) {
		return (OVIO_EADDRINVAL);
	}
	n = strlen(data_url);
	if (n > 11 && strcmp(data_url + n - 5, ".sock") == 0) {
		w = snprintf(
		    buf, len, "%.*s.admin.sock", (int) (n - 5), data_url);
	} else {
		w = snprintf(buf, len, "%s.admin", data_url);
	}
	return (w < 0 || (size_t) w >= len ? OVIO_ENAMETOOLONG : 0);
}

const char *
ovio_default_admin_endpoint(void)
{
	static char buf[600];
	const char *v = getenv("OVIO_ADMIN_ENDPOINT");

	if (v != NULL && v[0] != '\0') {
		return (v);
	}
	if (ovio_admin_endpoint_for(ovio_default_endpoint(), buf, sizeof(buf))
	    != 0) {
		return (NULL);
	}
	return (buf);
}

typedef struct admin_wait {
	bool             done;
	int              status;
	uint32_t         canceled;
	bool             more;
	uint64_t         next;
	Ovio__AdminPage *page; /* a listing's page, unpacked */
} admin_wait;

static void
admin_done(void *arg, cop *op, int status, const Ovio__Reply *rp,
    const uint8_t *payload, size_t plen, nng_msg *msg)
{
	admin_wait  *w = arg;
	ovio_client *c = op->c;

	(void) msg;
	w->status = status;
	if (status == 0) {
		w->status   = (int) rp->status;
		w->canceled = rp->canceled;
		w->more     = rp->more;
		w->next     = rp->next_cookie;
		if (w->status == 0 && plen > 0
		    && (w->page = ovio__admin_page__unpack(NULL, plen, payload))
		           == NULL) {
			w->status = OVIO_EPROTO;
		}
	}
	nng_mtx_lock(c->mtx);
	w->done = true;
	nng_cv_wake(c->cv);
	nng_mtx_unlock(c->mtx);
}

/* Sends one admin request (cmd, target id, level) and waits for it. */
static int
admin_call(ovio_client *c, uint32_t cmd, uint64_t id, const char *level,
    uint64_t cookie, admin_wait *w)
{
	ovio_request rq = { .op = OVIO_OP_ADMIN,
		.flags          = cmd,
		.handle         = id,
		.path           = level,
		.offset         = cookie,
		.length         = ADMIN_PAGE };
	int          rv;

	if (c == NULL) {
		return (OVIO_EINVAL);
	}
	memset(w, 0, sizeof(*w));
	nng_mtx_lock(c->mtx);
	rq.tag = (1ull << 63) | ++c->next_tag;
	nng_mtx_unlock(c->mtx);
	if ((rv = ovio__client_send(c, &rq, NULL, NULL, admin_done, w)) != 0) {
		return (rv);
	}
	nng_mtx_lock(c->mtx);
	while (!w->done) {
		nng_cv_wait(c->cv);
	}
	nng_mtx_unlock(c->mtx);
	return (w->status);
}

/*
 * A listing: every page, then one block holding n entries of size esz and
 * their strings.  count says how many entries a page has; fill copies
 * entry i of a page to dst, its strings to *str (advancing it).
 */
typedef struct admin_kind {
	uint32_t cmd;
	size_t   esz;
	size_t (*count)(const Ovio__AdminPage *p);
	size_t (*strings)(const Ovio__AdminPage *p, size_t i);
	void (*fill)(const Ovio__AdminPage *p, size_t i, void *dst, char **str);
} admin_kind;

static int
admin_list(ovio_client *c, const admin_kind *k, void **list, size_t *np)
{
	Ovio__AdminPage **pages  = NULL, **np2;
	size_t            npages = 0, n = 0, strs = 0, i, j, at;
	uint64_t          cookie = 0;
	admin_wait        w;
	char             *block = NULL, *str;
	int               rv;

	*list = NULL;
	*np   = 0;
	for (;;) {
		if ((rv = admin_call(c, k->cmd, 0, NULL, cookie, &w)) != 0) {
			goto done;
		}
		if (w.page == NULL) {
			break; /* an empty page */
		}
		if ((np2 = realloc(pages, (npages + 1) * sizeof(*pages)))
		    == NULL) {
			ovio__admin_page__free_unpacked(w.page, NULL);
			rv = OVIO_ENOMEM;
			goto done;
		}
		pages           = np2;
		pages[npages++] = w.page;
		n += k->count(w.page);
		for (i = 0; i < k->count(w.page); i++) {
			strs += k->strings(w.page, i);
		}
		if (!w.more || w.next <= cookie) {
			break;
		}
		cookie = w.next;
	}
	if (n > 0) {
		if ((block = calloc(1, n * k->esz + strs)) == NULL) {
			rv = OVIO_ENOMEM;
			goto done;
		}
		str = block + n * k->esz;
		at  = 0;
		for (j = 0; j < npages; j++) {
			for (i = 0; i < k->count(pages[j]); i++) {
				k->fill(pages[j], i, block + at * k->esz, &str);
				at++;
			}
		}
	}
	*list = block;
	*np   = n;
done:
	for (j = 0; j < npages; j++) {
		ovio__admin_page__free_unpacked(pages[j], NULL);
	}
	free(pages);
	return (rv);
}

static char *
admin_str(const char *s, char **str)
{
	char  *d = *str;
	size_t n = strlen(s != NULL ? s : "") + 1;

	memcpy(d, s != NULL ? s : "", n);
	*str += n;
	return (d);
}

static size_t
sess_count(const Ovio__AdminPage *p)
{
	return (p->n_sessions);
}

static size_t
sess_strings(const Ovio__AdminPage *p, size_t i)
{
	return (strlen(p->sessions[i]->address) + 1
	        + strlen(p->sessions[i]->certificate) + 1);
}

static void
sess_fill(const Ovio__AdminPage *p, size_t i, void *dst, char **str)
{
	const Ovio__AdminSession *s = p->sessions[i];
	ovio_admin_session       *d = dst;

	d->id           = s->id;
	d->admin        = s->admin;
	d->has_uid      = s->has_uid;
	d->uid          = s->uid;
	d->pid          = s->pid;
	d->address      = admin_str(s->address, str);
	d->certificate  = admin_str(s->certificate, str);
	d->connected_ms = s->connected_ms;
	d->handles      = s->handles;
	d->ops          = s->ops;
	d->bytes        = s->bytes;
}

static size_t
hand_count(const Ovio__AdminPage *p)
{
	return (p->n_handles);
}

static size_t
hand_strings(const Ovio__AdminPage *p, size_t i)
{
	return (strlen(p->handles[i]->path) + 1);
}

static void
hand_fill(const Ovio__AdminPage *p, size_t i, void *dst, char **str)
{
	const Ovio__AdminHandle *h = p->handles[i];
	ovio_admin_handle       *d = dst;

	d->id      = h->id;
	d->session = h->session;
	d->flags   = h->flags;
	d->path    = admin_str(h->path, str);
	d->closing = h->closing;
	d->ops     = h->ops;
}

static size_t
op_count(const Ovio__AdminPage *p)
{
	return (p->n_ops);
}

static size_t
op_strings(const Ovio__AdminPage *p, size_t i)
{
	(void) p;
	(void) i;
	return (0);
}

static void
op_fill(const Ovio__AdminPage *p, size_t i, void *dst, char **str)
{
	const Ovio__AdminOp *o = p->ops[i];
	ovio_admin_op       *d = dst;

	(void) str;
	d->id         = o->id;
	d->tag        = o->tag;
	d->session    = o->session;
	d->kind       = (ovio_op) o->kind;
	d->handle     = o->handle;
	d->offset     = o->offset;
	d->length     = o->length;
	d->age_ms     = o->age_ms;
	d->cancelling = o->cancelling;
}

int
ovio_admin_sessions(ovio_client *c, ovio_admin_session **list, size_t *n)
{
	static const admin_kind k
	    = { OVIO__ADMIN_CMD__ADMIN_SESSIONS, sizeof(ovio_admin_session),
		      sess_count, sess_strings, sess_fill };

	return (admin_list(c, &k, (void **) list, n));
}

int
ovio_admin_handles(ovio_client *c, ovio_admin_handle **list, size_t *n)
{
	static const admin_kind k
	    = { OVIO__ADMIN_CMD__ADMIN_HANDLES, sizeof(ovio_admin_handle),
		      hand_count, hand_strings, hand_fill };

	return (admin_list(c, &k, (void **) list, n));
}

int
ovio_admin_ops(ovio_client *c, ovio_admin_op **list, size_t *n)
{
	static const admin_kind k = { OVIO__ADMIN_CMD__ADMIN_OPS,
		sizeof(ovio_admin_op), op_count, op_strings, op_fill };

	return (admin_list(c, &k, (void **) list, n));
}

static size_t
stats_count(const Ovio__AdminPage *p)
{
	return (p->n_stats);
}

static void
stats_fill(const Ovio__AdminPage *p, size_t i, void *dst, char **str)
{
	const Ovio__AdminKindStats *s = p->stats[i];
	ovio_admin_stats_entry     *d = dst;
	size_t                      b;

	(void) str;
	d->kind   = (ovio_op) s->kind;
	d->count  = s->count;
	d->errors = s->errors;
	d->sum_us = s->sum_us;
	d->max_us = s->max_us;
	for (b = 0; b < s->n_buckets && b < OVIO_LATENCY_BUCKETS; b++) {
		d->buckets[b] = s->buckets[b];
	}
}

int
ovio_admin_stats(ovio_client *c, ovio_admin_stats_entry **list, size_t *n)
{
	static const admin_kind k
	    = { OVIO__ADMIN_CMD__ADMIN_STATS, sizeof(ovio_admin_stats_entry),
		      stats_count, op_strings, stats_fill };

	return (admin_list(c, &k, (void **) list, n));
}

uint64_t
ovio_latency_quantile(const ovio_admin_stats_entry *e, double q)
{
	uint64_t total = 0, seen = 0, want, bound;
	size_t   i;

	for (i = 0; i < OVIO_LATENCY_BUCKETS; i++) {
		total += e->buckets[i];
	}
	if (total == 0 || q <= 0) {
		return (0);
	}
	/* The smallest latency with at least q of them at or below it. */
	want = (uint64_t) (q * (double) total + 0.999999);
	want = want == 0 ? 1 : want > total ? total : want;
	for (i = 0; i < OVIO_LATENCY_BUCKETS; i++) {
		seen += e->buckets[i];
		if (seen >= want) {
			break;
		}
	}
	bound = i < OVIO_LATENCY_BUCKETS - 1 ? (1ull << i) : e->max_us;
	return (bound < e->max_us ? bound : e->max_us);
}

const char *
ovio_op_name(ovio_op kind)
{
	static const char *const names[] = { "invalid", "open", "read", "write",
		"flush", "stat", "setsize", "cancel", "close", "status", "list",
		"mkdir", "remove", "rename", "admin", "batch" };

	return ((unsigned) kind < sizeof(names) / sizeof(names[0]) ? names[kind]
	                                                           : "?");
}

void
ovio_admin_free(void *list)
{
	free(list);
}

/* A command: its status, and how many cancels it started. */
static int
admin_cmd(ovio_client *c, uint32_t cmd, uint64_t id, const char *level,
    uint32_t *canceled)
{
	admin_wait w;
	int        rv = admin_call(c, cmd, id, level, 0, &w);

	if (w.page != NULL) {
		ovio__admin_page__free_unpacked(w.page, NULL);
	}
	if (rv == 0 && canceled != NULL) {
		*canceled = w.canceled;
	}
	return (rv);
}

int
ovio_admin_cancel_op(ovio_client *c, uint64_t op_id, uint32_t *canceled)
{
	return (admin_cmd(
	    c, OVIO__ADMIN_CMD__ADMIN_CANCEL_OP, op_id, NULL, canceled));
}

int
ovio_admin_cancel_handle(ovio_client *c, uint64_t handle, uint32_t *canceled)
{
	return (admin_cmd(
	    c, OVIO__ADMIN_CMD__ADMIN_CANCEL_HANDLE, handle, NULL, canceled));
}

int
ovio_admin_cancel_session(ovio_client *c, uint32_t session, uint32_t *canceled)
{
	return (admin_cmd(
	    c, OVIO__ADMIN_CMD__ADMIN_CANCEL_SESSION, session, NULL, canceled));
}

int
ovio_admin_close(ovio_client *c, uint64_t handle)
{
	return (admin_cmd(
	    c, OVIO__ADMIN_CMD__ADMIN_CLOSE_HANDLE, handle, NULL, NULL));
}

int
ovio_admin_kick(ovio_client *c, uint32_t session)
{
	return (admin_cmd(c, OVIO__ADMIN_CMD__ADMIN_KICK, session, NULL, NULL));
}

int
ovio_admin_drain(ovio_client *c)
{
	return (admin_cmd(c, OVIO__ADMIN_CMD__ADMIN_DRAIN, 0, NULL, NULL));
}

int
ovio_admin_resume(ovio_client *c)
{
	return (admin_cmd(c, OVIO__ADMIN_CMD__ADMIN_RESUME, 0, NULL, NULL));
}

int
ovio_admin_shutdown(ovio_client *c)
{
	return (admin_cmd(c, OVIO__ADMIN_CMD__ADMIN_SHUTDOWN, 0, NULL, NULL));
}

int
ovio_admin_reload(ovio_client *c)
{
	return (admin_cmd(c, OVIO__ADMIN_CMD__ADMIN_RELOAD, 0, NULL, NULL));
}

int
ovio_admin_log_level(ovio_client *c, const char *level)
{
	if (level == NULL || level[0] == '\0') {
		return (OVIO_EINVAL);
	}
	return (admin_cmd(c, OVIO__ADMIN_CMD__ADMIN_LOG_LEVEL, 0, level, NULL));
}
