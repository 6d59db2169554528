/*
 * namespace.c - list, mkdir, remove and rename: the requests on the served
 * root's names rather than on open handles.
 *
 * Each may block in the file system, so dispatch hands it here and it runs
 * on the worker pool (workers.c), like an open or a stat; the OS calls are
 * the fs contract's (os/fs.h), which keeps every path beneath the root.
 * Mkdir, remove and rename change the file system: they come through the
 * reply cache (at-most-once), and op->ran is set once the OS was asked, so
 * their reply is kept whatever it says.  List is idempotent (park-only in
 * the cache).
 *
 * A listing is sorted by name (bytes, strcmp) and paged by position in that
 * order: Request.offset is the index of the first entry wanted (the
 * next_cookie of the page before), Request.length how many at most.  Each
 * page lists the folder again, so entries added or removed between pages
 * may be missed or seen twice; nothing is held between requests.  The
 * entries travel as the reply's payload, a packed ovio.DirPage.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "engine.h"
#include "fs.h"
#include "wire.h"

#define NS_PAGE_DEFAULT 256u
#define NS_PAGE_MAX     4096u
/* A page stops growing past this many bytes of payload (one entry at least). */
#define NS_PAGE_BYTES (256u << 10)
/*
 * A folder with more entries than this is not listed (OVIO_ETOOBIG): every
 * page reads and sorts the whole folder, so this bounds both the memory
 * (about 100 bytes an entry) and the time one page takes.
 */
#define NS_LIST_MAX (1u << 20)

typedef struct ns_ent {
	char     *name;
	ovio_stat st;
} ns_ent;

typedef struct ns_listing {
	ns_ent *v;
	size_t  n, cap;
} ns_listing;

static int
ns_collect(void *arg, const char *name, const ovio_stat *st)
{
	ns_listing *l = arg;
	ns_ent     *nv;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		if (l->n >= NS_LIST_MAX) {
			return (OVIO_ETOOBIG);
		}
		if ((nv = ovio__realloc(l->v, cap * sizeof(*nv))) == NULL) {
			return (OVIO_ENOMEM);
		}
		l->v   = nv;
		l->cap = cap;
	}
	if ((l->v[l->n].name = strdup(name)) == NULL) {
		return (OVIO_ENOMEM);
	}
	l->v[l->n].st = *st;
	l->n++;
	return (0);
}

static int
ns_cmp(const void *a, const void *b)
{
	return (strcmp(((const ns_ent *) a)->name, ((const ns_ent *) b)->name));
}

static void
ns_listing_free(ns_listing *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
	}
	free(l->v);
}

/* Sends rp, with payload when plen > 0, as op's reply. */
static void
ns_reply(eng_op *op, Ovio__Reply *rp, const void *payload, size_t plen)
{
	rp->tag          = op->tag;
	op->reply_status = (int) rp->status;
	ovio__op_msg_shrink(op);
	if (ovio__wire_encode_reply(op->msg, rp) != 0
	    || (plen > 0 && nng_msg_append(op->msg, payload, plen) != 0)) {
		ovio__op_reply_status(op, OVIO_ENOMEM, 0);
		return;
	}
	ovio__op_reply(op);
}

static void
ns_list(eng_op *op, const Ovio__Request *rq)
{
	Ovio__Reply     rp   = OVIO__REPLY__INIT;
	Ovio__DirPage   page = OVIO__DIR_PAGE__INIT;
	Ovio__DirEntry *ents = NULL, **ptrs = NULL;
	ns_listing      l;
	uint8_t        *buf = NULL;
	size_t          first, count, i, bytes = 0, plen = 0;
	uint64_t        max   = rq->length;
	int64_t         oserr = 0;
	int             rv;

	memset(&l, 0, sizeof(l));
	rv = ovio__fs_list(op->eng->rootfd,
	    rq->path[0] == '\0' ? "." : rq->path, ns_collect, &l, &oserr);
	if (rv != 0) {
		goto fail;
	}
	if (l.n > 1) {
		qsort(l.v, l.n, sizeof(*l.v),
		    ns_cmp); /* l.v is NULL when empty */
	}
	if (max == 0) {
		max = NS_PAGE_DEFAULT;
	} else if (max > NS_PAGE_MAX) {
		max = NS_PAGE_MAX;
	}
	first = rq->offset < l.n ? (size_t) rq->offset : l.n;
	count = l.n - first < max ? l.n - first : (size_t) max;
	if (count > 0
	    && ((ents = ovio__calloc(count, sizeof(*ents))) == NULL
	        || (ptrs = ovio__calloc(count, sizeof(*ptrs))) == NULL)) {
		rv = OVIO_ENOMEM;
		goto fail;
	}
	for (i = 0; i < count; i++) {
		const ns_ent *e = &l.v[first + i];
		if (i > 0 && bytes >= NS_PAGE_BYTES) {
			break;
		}
		ovio__dir_entry__init(&ents[i]);
		ents[i].name     = e->name;
		ents[i].type     = e->st.type;
		ents[i].size     = e->st.size;
		ents[i].mode     = e->st.mode;
		ents[i].mtime_ns = e->st.mtime_ns;
		ptrs[i]          = &ents[i];
		bytes += ovio__dir_entry__get_packed_size(&ents[i]) + 4;
	}
	page.n_entries = i;
	page.entries   = ptrs;
	plen           = ovio__dir_page__get_packed_size(&page);
	if (plen > 0) {
		if ((buf = ovio__malloc(plen)) == NULL) {
			rv = OVIO_ENOMEM;
			goto fail;
		}
		ovio__dir_page__pack(&page, buf);
	}
	rp.more        = first + i < l.n;
	rp.next_cookie = first + i;
	ns_reply(op, &rp, buf, plen);
	free(buf);
	free(ptrs);
	free(ents);
	ns_listing_free(&l);
	return;

fail:
	free(ptrs);
	free(ents);
	ns_listing_free(&l);
	ovio__op_reply_status(op, rv, oserr);
}

/* A namespace request, on a worker-pool thread. */
static void
ns_job(eng_work *w)
{
	eng_op        *op    = (eng_op *) ((char *) w - offsetof(eng_op, work));
	Ovio__Request *rq    = op->work_rq;
	Ovio__Reply    rp    = OVIO__REPLY__INIT;
	int64_t        oserr = 0;
	int            rv;
	bool           stopping;

	op->work_rq = NULL;
	nng_mtx_lock(op->eng->mtx);
	stopping = op->eng->stopping || op->eng->draining;
	nng_mtx_unlock(op->eng->mtx);
	if (stopping) {
		ovio__op_reply_status(op, OVIO_ESHUTDOWN, 0);
		goto done;
	}
	switch (rq->op) {
	case OVIO__OP__OP_LIST:
		ns_list(op, rq);
		goto done;
	case OVIO__OP__OP_MKDIR:
		rv = ovio__fs_mkdir(op->eng->rootfd, rq->path, rq->mode,
		    (rq->flags & OVIO_NS_PARENTS) != 0, &oserr);
		break;
	case OVIO__OP__OP_REMOVE:
		rv = ovio__fs_remove(op->eng->rootfd, rq->path, &oserr);
		break;
	default: /* OVIO__OP__OP_RENAME; validate.c let no other op here */
		rv = ovio__fs_rename(op->eng->rootfd, rq->path, rq->new_path,
		    (rq->flags & OVIO_NS_REPLACE) != 0, &oserr);
		break;
	}
	op->ran = true; /* the OS was asked: keep the answer, whatever it is */
	if (rv != 0) {
		ovio__op_reply_status(op, rv, oserr);
	} else {
		ns_reply(op, &rp, NULL, 0);
	}
done:
	ovio__request__free_unpacked(rq, NULL);
}

bool
ovio__ns_is_op(int op)
{
	return (op == OVIO__OP__OP_LIST || op == OVIO__OP__OP_MKDIR
	        || op == OVIO__OP__OP_REMOVE || op == OVIO__OP__OP_RENAME);
}

void
ovio__ns_dispatch(eng_op *op, Ovio__Request *rq, uint32_t pipe)
{
	op->work_rq   = rq;
	op->work_pipe = pipe;
	ovio__work_queue(&op->eng->work, &op->work, ns_job);
}
