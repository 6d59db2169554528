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
 * never fails.  All functions run with eng.mtx held.
 */
#include <stdlib.h>

#include "engine.h"

#define TIMER_IDLE_MS 500

static bool
timer_before(const eng_op *a, const eng_op *b)
{
	return (a->timer_at < b->timer_at);
}

static void
timer_place(unsigned i, eng_op *op)
{
	eng.timers[i] = op;
	op->timer_idx = i + 1;
}

static void
timer_up(unsigned i)
{
	eng_op *op = eng.timers[i];

	while (i > 0) {
		unsigned parent = (i - 1) / 2;
		if (!timer_before(op, eng.timers[parent])) {
			break;
		}
		timer_place(i, eng.timers[parent]);
		i = parent;
	}
	timer_place(i, op);
}

static void
timer_down(unsigned i)
{
	eng_op *op = eng.timers[i];

	for (;;) {
		unsigned l = 2 * i + 1, r = l + 1, m = i;
		eng_op  *best = op;

		if (l < eng.ntimers && timer_before(eng.timers[l], best)) {
			m    = l;
			best = eng.timers[l];
		}
		if (r < eng.ntimers && timer_before(eng.timers[r], best)) {
			m = r;
		}
		if (m == i) {
			break;
		}
		timer_place(i, eng.timers[m]);
		i = m;
	}
	timer_place(i, op);
}

int
ovio__timer_reserve(unsigned records)
{
	eng_op **t;

	if (records <= eng.timer_cap) {
		return (0);
	}
	if ((t = realloc(eng.timers, records * 2 * sizeof(*t))) == NULL) {
		return (OVIO_ENOMEM);
	}
	eng.timers    = t;
	eng.timer_cap = records * 2;
	return (0);
}

void
ovio__timer_clear(eng_op *op)
{
	unsigned i;
	eng_op  *last;

	if (op->timer_idx == 0) {
		return;
	}
	i             = op->timer_idx - 1;
	op->timer_idx = 0;
	last          = eng.timers[--eng.ntimers];
	if (i == eng.ntimers) {
		return;
	}
	timer_place(i, last);
	if (i > 0 && timer_before(last, eng.timers[(i - 1) / 2])) {
		timer_up(i);
	} else {
		timer_down(i);
	}
}

void
ovio__timer_set(eng_op *op, nng_time at)
{
	ovio__timer_clear(op);
	op->timer_at = at;
	timer_place(eng.ntimers++, op);
	timer_up(eng.ntimers - 1);
}

int
ovio__timer_expire(nng_time now)
{
	eng_op *op;

	while (eng.ntimers > 0 && (op = eng.timers[0])->timer_at <= now) {
		ovio__timer_clear(op);
		ovio__op_timer_fired(op, now);
	}
	if (eng.ntimers == 0) {
		return (TIMER_IDLE_MS);
	}
	op = eng.timers[0];
	return (op->timer_at - now > TIMER_IDLE_MS ? TIMER_IDLE_MS
	                                           : (int) (op->timer_at - now));
}

void
ovio__timer_fini(void)
{
	free(eng.timers);
	eng.timers    = NULL;
	eng.timer_cap = 0;
	eng.ntimers   = 0;
}
