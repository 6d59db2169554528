/*
 * timer.c - one timer per operation in flight, in a binary min-heap.
 *
 * An operation in flight has at most one timer: its deadline (the request's
 * deadline_ms) until a cancel is wanted, then the moment the engine asks the
 * OS to cancel it again (op.c).  The completion thread pops what is due
 * between batches of completions, so a pass costs O(log n) per timer that
 * fires and nothing for the others; the heap is never scanned.
 *
 * The heap has a slot for every op record (ovio__timer_reserve is called
 * when server.c makes a record), so arming a timer never allocates and
 * never fails.  All functions run with e->mtx held; the heap is the
 * engine's (e->timers), reached from an op by op->e->
 */
#include <stdlib.h>

#include "alloc.h"
#include "engine.h"

#define TIMER_IDLE_MS 500

static bool
timer_before(const eng_op *a, const eng_op *b)
{
	return (a->timer_at < b->timer_at);
}

static void
timer_place(engine *e, unsigned i, eng_op *op)
{
	e->timers[i]  = op;
	op->timer_idx = i + 1;
}

static void
timer_up(engine *e, unsigned i)
{
	eng_op *op = e->timers[i];

	while (i > 0) {
		unsigned parent = (i - 1) / 2;
		if (!timer_before(op, e->timers[parent])) {
			break;
		}
		timer_place(e, i, e->timers[parent]);
		i = parent;
	}
	timer_place(e, i, op);
}

static void
timer_down(engine *e, unsigned i)
{
	eng_op *op = e->timers[i];

	for (;;) {
		unsigned l = 2 * i + 1, r = l + 1, m = i;
		eng_op  *best = op;

		if (l < e->ntimers && timer_before(e->timers[l], best)) {
			m    = l;
			best = e->timers[l];
		}
		if (r < e->ntimers && timer_before(e->timers[r], best)) {
			m = r;
		}
		if (m == i) {
			break;
		}
		timer_place(e, i, e->timers[m]);
		i = m;
	}
	timer_place(e, i, op);
}

int
ovio__timer_reserve(engine *e, unsigned records)
{
	eng_op **t;

	if (records <= e->timer_cap) {
		return (0);
	}
	if ((t = ovio__realloc(e->timers, records * 2 * sizeof(*t))) == NULL) {
		return (OVIO_ENOMEM);
	}
	e->timers    = t;
	e->timer_cap = records * 2;
	return (0);
}

void
ovio__timer_clear(eng_op *op)
{
	engine  *e = op->eng;
	unsigned i;
	eng_op  *last;

	if (op->timer_idx == 0) {
		return;
	}
	i             = op->timer_idx - 1;
	op->timer_idx = 0;
	last          = e->timers[--e->ntimers];
	if (i == e->ntimers) {
		return;
	}
	timer_place(e, i, last);
	if (i > 0 && timer_before(last, e->timers[(i - 1) / 2])) {
		timer_up(e, i);
	} else {
		timer_down(e, i);
	}
}

void
ovio__timer_set(eng_op *op, nng_time at)
{
	engine *e = op->eng;

	ovio__timer_clear(op);
	op->timer_at = at;
	timer_place(e, e->ntimers++, op);
	timer_up(e, e->ntimers - 1);
}

int
ovio__timer_expire(engine *e, nng_time now)
{
	eng_op *op;

	while (e->ntimers > 0 && (op = e->timers[0])->timer_at <= now) {
		ovio__timer_clear(op);
		ovio__op_timer_fired(op, now);
	}
	if (e->ntimers == 0) {
		return (TIMER_IDLE_MS);
	}
	op = e->timers[0];
	return (op->timer_at - now > TIMER_IDLE_MS
	            ? TIMER_IDLE_MS
	            : (int) (op->timer_at - now));
}

void
ovio__timer_fini(engine *e)
{
	free(e->timers);
	e->timers    = NULL;
	e->timer_cap = 0;
	e->ntimers   = 0;
}
