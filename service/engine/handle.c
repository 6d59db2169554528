/*
 * handle.c - the handle table.
 *
 * A handle id is (generation << 32 | index).  A slot's generation changes
 * every time it is freed, so a stale id (a closed handle) or a forged one
 * never reaches another file, and a handle of another session is refused
 * like an unknown one.  All functions run with e->mtx held; a handle's
 * engine is h->eng, set when its slot is made.
 */
#include <stdlib.h>

#include "alloc.h"
#include "engine.h"

#define HANDLE_GROW 64

uint64_t
ovio__handle_id(const eng_handle *h)
{
	return (((uint64_t) h->gen << 32) | h->index);
}

static int
handle_grow(engine *e)
{
	uint32_t     ncap = e->hcap + HANDLE_GROW;
	eng_handle **ntab;
	uint32_t     i;

	if ((ntab = ovio__realloc(e->htab, ncap * sizeof(*ntab))) == NULL) {
		return (OVIO_ENOMEM);
	}
	e->htab = ntab;
	for (i = e->hcap; i < ncap; i++) {
		eng_handle *h;
		if ((h = ovio__calloc(1, sizeof(*h))) == NULL) {
			break;
		}
		h->eng   = e;
		h->index = i;
		h->gen   = 1;
		h->state = H_FREE;
		ovio__list_init(&h->ops, eng_op, h_node);
		ovio__list_node_init(&h->s_node);
		h->free_next = e->hfree;
		e->hfree     = h;
		e->htab[i]   = h;
	}
	e->hcap = i;
	return (e->hfree != NULL ? 0 : OVIO_ENOMEM);
}

int
ovio__handle_new(
    engine *e, eng_session *s, ovio__fd fd, int kind, eng_handle **hp)
{
	eng_handle *h;
	int         rv;

	if (s->nhandles >= e->limits.handles_per_session) {
		return (OVIO_EBUSY);
	}
	if (e->hfree == NULL && (rv = handle_grow(e)) != 0) {
		return (rv);
	}
	h                  = e->hfree;
	e->hfree           = h->free_next;
	h->state           = H_OPEN;
	h->fd              = fd;
	h->stream          = kind == OVIO__FS_STREAM;
	h->nowait          = kind == OVIO__FS_NOWAIT;
	h->nowait_write    = h->nowait;
	h->sess            = s;
	h->inflight        = 0;
	h->close_op        = NULL;
	h->temp            = NULL; /* the open sets it for OVIO_OPEN_TEMP */
	h->direct_align    = 0;    /* ... and this for OVIO_OPEN_DIRECT */
	h->commit          = false;
	h->commit_canceled = false;
	ovio__list_prepend(&s->handles, h); /* walked newest first */
	s->nhandles++;
	e->nhandles++;
	*hp = h;
	return (0);
}

eng_handle *
ovio__handle_get(engine *e, eng_session *s, uint64_t id, int *err)
{
	uint32_t    index = (uint32_t) id;
	uint32_t    gen   = (uint32_t) (id >> 32);
	eng_handle *h;

	if (index >= e->hcap || (h = e->htab[index])->gen != gen
	    || h->state == H_FREE || h->sess != s) {
		*err = OVIO_EBADF;
		return (NULL);
	}
	if (h->state != H_OPEN) {
		*err = OVIO_ECLOSING;
		return (NULL);
	}
	return (h);
}

void
ovio__handle_free(eng_handle *h)
{
	engine      *e = h->eng;
	eng_session *s = h->sess;

	ovio__list_remove(&s->handles, h);
	s->nhandles--;
	e->nhandles--;
	h->state = H_FREE;
	h->sess  = NULL;
	free(h->path);
	h->path  = NULL;
	h->flags = 0;
	h->gen++;
	if (h->gen == 0) {
		h->gen = 1; /* 0 would make id 0 valid-looking */
	}
	h->free_next = e->hfree;
	e->hfree     = h;
	nng_cv_wake(e->cv);
}

void
ovio__handle_op_add(eng_handle *h, eng_op *op)
{
	ovio__list_prepend(&h->ops, op); /* cancelled newest first */
	h->inflight++;
}

void
ovio__handle_op_remove(eng_handle *h, eng_op *op)
{
	ovio__list_remove(&h->ops, op);
	h->inflight--;
}
