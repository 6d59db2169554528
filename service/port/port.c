/* port.c - picks a backend and dispatches the port.h contract to it. */
#include <stdio.h>
#include <string.h>

#include "ovio.h"
#include "port_impl.h"

/*
 * With backend NULL, tries the OS's backends best first.  When one after
 * the first is the one that opened, *why tells why the first could not
 * ("io_uring unavailable: ..."), so the host can log the fallback;
 * otherwise *why is NULL on success.
 */
int
ovio__port_open(
    ovio__port **pp, const char *backend, unsigned threads, const char **why)
{
	const ovio__port_backend *const *be;
	static char                      first_cause[160];
	const char                      *cause = "no backend built";
	int                              rv    = OVIO_ENOTSUP;

	first_cause[0] = '\0';
	for (be = ovio__port_backends; *be != NULL; be++) {
		if (backend != NULL && strcmp(backend, (*be)->name) != 0) {
			continue;
		}
		if ((rv = (*be)->open(pp, threads, &cause)) == 0) {
			(*pp)->be            = *be;
			(*pp)->fail_submits  = 0;
			(*pp)->fail_cancels  = 0;
			(*pp)->fail_dequeues = 0;
			if (why != NULL) {
				*why = first_cause[0] != '\0' ? first_cause
				                              : NULL;
			}
			return (0);
		}
		/* When a backend was named, its own failure is the answer. */
		if (backend != NULL) {
			break;
		}
		if (first_cause[0] == '\0') {
			snprintf(first_cause, sizeof(first_cause),
			    "%s unavailable (%s)", (*be)->name, cause);
		}
	}
	if (backend != NULL && *be == NULL) {
		cause = "unknown backend";
	}
	if (why != NULL) {
		*why = cause;
	}
	return (rv);
}

const char *
ovio__port_name(ovio__port *p)
{
	return (p->be->name);
}

int
ovio__port_associate(ovio__port *p, ovio__fd fd)
{
	return (p->be->associate(p, fd));
}

int
ovio__port_submit(ovio__port *p, ovio__port_op *op)
{
	/*
	 * op->cancel is not reset here: a cancel may already be asking about
	 * this op on another thread; the engine clears it before it hands
	 * the op over (a fresh op is zeroed).
	 */
	op->status         = OVIO_OK;
	op->os_error       = 0;
	op->result         = 0;
	op->nowait_refused = 0;
	/* Submits run on many threads at once: the seam counts atomically. */
	int n = __atomic_load_n(&p->fail_submits, __ATOMIC_RELAXED);
	while (n > 0
	       && !__atomic_compare_exchange_n(&p->fail_submits, &n, n - 1,
	           false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) { }
	if (n > 0) {
		op->status = OVIO_EIO;
		return (OVIO_EIO);
	}
	return (p->be->submit(p, op));
}

void
ovio__port_hold(ovio__port *p)
{
	if (p->be->hold != NULL) {
		p->be->hold(p);
	}
}

void
ovio__port_release(ovio__port *p)
{
	if (p->be->release != NULL) {
		p->be->release(p);
	}
}

int
ovio__port_cancel(ovio__port *p, ovio__port_op *op, ovio__port_op *report)
{
	if (p->fail_cancels > 0) {
		p->fail_cancels--;
		return (OVIO_EBUSY); /* fault seam: the OS was not asked */
	}
	if (report != NULL) {
		report->kind     = OVIO__PORT_CANCEL;
		report->status   = OVIO_OK;
		report->os_error = 0;
		report->result   = OVIO_CANCEL_NOT_FOUND;
	}
	return (p->be->cancel(p, op, report));
}

int
ovio__port_dequeue(ovio__port *p, ovio__port_op **ops, int max, int ms)
{
	return (p->be->dequeue(p, ops, max, ms));
}

void
ovio__port_wake(ovio__port *p)
{
	p->be->wake(p);
}

void
ovio__port_close(ovio__port *p)
{
	p->be->close(p);
}

void
ovio__port_fail_submits(ovio__port *p, int n)
{
	__atomic_store_n(&p->fail_submits, n, __ATOMIC_RELAXED);
}

void
ovio__port_fail_cancels(ovio__port *p, int n)
{
	p->fail_cancels = n;
}

void
ovio__port_fail_dequeues(ovio__port *p, int n)
{
	p->fail_dequeues = n;
}
