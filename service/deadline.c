/*
 * deadline.c - per-operation deadlines.
 *
 * A request may carry deadline_ms: an operation still in flight that many
 * milliseconds after the service received it is cancelled, and completes
 * once with OVIO_ETIMEDOUT.  If its I/O finished first, its real result
 * wins (the cancel comes too late and is ignored).  The completion thread
 * checks the deadlines between batches, waking at least every
 * DEADLINE_TICK_MS while any is pending.  All functions run with eng.mtx
 * held.
 */
#include "engine.h"

#define DEADLINE_TICK_MS 5

void
ovio__deadline_add(eng_op *op)
{
	op->dl_prev = NULL;
	op->dl_next = eng.deadlines;
	if (eng.deadlines != NULL) {
		eng.deadlines->dl_prev = op;
	}
	eng.deadlines = op;
}

void
ovio__deadline_remove(eng_op *op)
{
	if (op->dl_prev != NULL) {
		op->dl_prev->dl_next = op->dl_next;
	} else if (eng.deadlines == op) {
		eng.deadlines = op->dl_next;
	}
	if (op->dl_next != NULL) {
		op->dl_next->dl_prev = op->dl_prev;
	}
	op->dl_prev = op->dl_next = NULL;
}

/*
 * Cancels every operation whose deadline has passed.  Returns how long the
 * completion thread may sleep: DEADLINE_TICK_MS while deadlines are
 * pending, else idle_ms.
 */
int
ovio__deadline_expire(nng_time now, int idle_ms)
{
	eng_op *op;

	for (op = eng.deadlines; op != NULL; op = op->dl_next) {
		if (op->deadline <= now && op->in_flight &&
		    !op->cancel_requested) {
			op->cancel_requested = true;
			op->deadline_hit     = true;
			(void) ovio__port_cancel(eng.port, &op->port, NULL);
		}
	}
	return (eng.deadlines != NULL ? DEADLINE_TICK_MS : idle_ms);
}
