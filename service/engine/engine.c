/*
 * engine.c - start-up, the completion thread, service status and the
 * graceful stop of oviod's engine.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "engine.h"
#include "fs.h"
#include "host.h"

#define COMPLETE_BATCH 64

/*
 * The completion thread.  When a wait passes with nothing to complete and
 * nothing in flight, after work since the last time, the memory freed by
 * that work goes back to the system (ovio__host_memory_release): once per
 * idle spell, never while busy.
 */
static void
completer_main(void *arg)
{
	engine        *e = arg;
	ovio__port_op *ops[COMPLETE_BATCH];
	int            n, i, wait_ms;
	uint64_t       work, released = 0; /* completed + rejected */
	bool           idle;

	for (;;) {
		nng_mtx_lock(e->mtx);
		if (e->completer_stop && e->ops_in_flight == 0) {
			nng_mtx_unlock(e->mtx);
			break;
		}
		wait_ms = ovio__timer_expire(e, nng_clock());
		work    = e->ctr.completed + e->ctr.rejected;
		idle    = e->ops_in_flight == 0 && work != released;
		nng_mtx_unlock(e->mtx);
		ovio__server_tick(e);
		n = ovio__port_dequeue(e->port, ops, COMPLETE_BATCH, wait_ms);
		if (n > 0 && e->test_delay_ms > 0) {
			/* Test seam: the OS is done, the engine not yet. */
			nng_msleep(e->test_delay_ms);
		}
		for (i = 0; i < n; i++) {
			/* The port op is the first member of the op record. */
			ovio__op_complete((eng_op *) ops[i]);
		}
		if (n == 0 && idle) {
			ovio__host_memory_release();
			released = work;
		}
	}
}

/* Frees what ovio__engine_start made before the completion thread. */
static void
engine_free(engine *e)
{
	if (e->port != NULL) {
		ovio__port_close(e->port);
	}
	if (e->rootfd_open) {
		ovio__fs_close_root(e->rootfd);
	}
	if (e->work.mtx != NULL) {
		(void) ovio__work_stop(&e->work, nng_clock());
	}
	if (e->cv != NULL) {
		nng_cv_free(e->cv);
	}
	if (e->mtx != NULL) {
		nng_mtx_free(e->mtx);
	}
	free(e);
}

int
ovio__engine_start(engine **ep, const eng_options *o)
{
	engine     *e;
	const char *why   = NULL;
	int64_t     oserr = 0;
	int         rv;

	*ep = NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		ovio__logl(OVIO__LOG_ERROR, "out of memory");
		return (OVIO_ENOMEM);
	}
	e->limits  = o->limits;
	e->root    = o->root;
	e->started = nng_clock();
	ovio__list_init(&e->sessions, eng_session, node);
	ovio__list_init(&e->srv.pool, eng_op, pool_node);
	ovio__rc_init(e);
	if (nng_mtx_alloc(&e->mtx) != 0 || nng_cv_alloc(&e->cv, e->mtx) != 0
	    || ovio__work_start(&e->work) != 0) {
		ovio__logl(OVIO__LOG_ERROR, "out of memory");
		rv = OVIO_ENOMEM;
		goto fail;
	}
	if ((rv = ovio__fs_open_root(o->root, &e->rootfd, &oserr)) != 0) {
		ovio__logl(OVIO__LOG_ERROR,
		    "cannot use root %s: %s (os error %lld)", o->root,
		    ovio_strerror(rv), (long long) oserr);
		goto fail;
	}
	e->rootfd_open = true;
	rv = ovio__port_open(&e->port, o->backend, o->threads, &why);
	if (rv != 0) {
		ovio__logl(OVIO__LOG_ERROR, "cannot start backend %s: %s",
		    o->backend != NULL ? o->backend : "(any)", why);
		e->port = NULL;
		goto fail;
	}
	if (getenv("OVIO_TEST_FAIL_CANCELS") != NULL) {
		/* Test seam: that many cancel asks fail; the engine re-asks. */
		ovio__port_fail_cancels(
		    e->port, atoi(getenv("OVIO_TEST_FAIL_CANCELS")));
	}
	if (getenv("OVIO_TEST_FAIL_ALLOCS") != NULL) {
		/* Test seam: every nth allocation of the engine fails. */
		ovio__alloc_fail_every(
		    (unsigned) atoi(getenv("OVIO_TEST_FAIL_ALLOCS")));
	}
	if (getenv("OVIO_TEST_DELAY_COMPLETIONS") != NULL) {
		/* Test seam: each batch of completions waits that many ms. */
		e->test_delay_ms = atoi(getenv("OVIO_TEST_DELAY_COMPLETIONS"));
	}
	if (why != NULL) {
		/* The preferred backend was not usable here. */
		ovio__logl(OVIO__LOG_WARN, "%s; using %s", why,
		    ovio__port_name(e->port));
	}
	ovio__log("backend %s, root %s", ovio__port_name(e->port), o->root);
	ovio__log("paths beneath the root: %s", ovio__fs_resolution());
	if (nng_thread_create(&e->completer, completer_main, e) != 0) {
		ovio__logl(
		    OVIO__LOG_ERROR, "cannot start the completion thread");
		e->completer = NULL;
		rv           = OVIO_ENOMEM;
		goto fail;
	}
	if ((rv = ovio__server_start(e, o)) != 0) {
		/* Threads and nng run now: the graceful stop undoes them. */
		(void) ovio__engine_stop(e, 0);
		return (rv);
	}
	*ep = e;
	return (0);

fail:
	engine_free(e);
	return (rv);
}

/*
 * Graceful stop: stop accepting, refuse new operations, close every handle
 * (cancelling what is in flight), wait up to drain_ms for the completions
 * to drain, then close the socket and the port.  What could not be drained
 * is logged and abandoned: its buffers stay allocated, because the kernel
 * may still write into them.  Returns true when everything was stopped and
 * freed; false when something was abandoned: then the completion thread,
 * the workers and nng still run, nothing of the engine was freed, and the
 * caller must not call nng_fini but only exit the process.
 */
bool
ovio__engine_stop(engine *e, int drain_ms)
{
	eng_session *s;
	eng_handle  *drained  = NULL;
	nng_time     deadline = nng_clock() + (nng_time) drain_ms;
	unsigned     nh;
	uint64_t     nops;

	nng_mtx_lock(e->mtx);
	e->stopping = true;
	nh          = e->nhandles;
	nops        = e->ops_in_flight;
	nng_mtx_unlock(e->mtx);
	ovio__log("stopping: %u handle(s) open, %llu operation(s) in flight",
	    nh, (unsigned long long) nops);
	ovio__server_stop_listening(e);

	nng_mtx_lock(e->mtx);
	for (s = ovio__list_first(&e->sessions); s != NULL;
	     s = ovio__list_next(&e->sessions, s)) {
		(void) ovio__close_session(s, &drained);
	}
	nng_mtx_unlock(e->mtx);
	ovio__close_finish_all(drained);

	nng_mtx_lock(e->mtx);
	while (e->nhandles > 0
	       && nng_cv_until(e->cv, deadline) != NNG_ETIMEDOUT) { }
	nh   = e->nhandles;
	nops = e->ops_in_flight;
	nng_mtx_unlock(e->mtx);

	if (nh > 0) {
		/* Their records never come back: no use waiting for them. */
		ovio__logl(OVIO__LOG_ERROR,
		    "stop: abandoned %u handle(s) with %llu operation(s) "
		    "still in the kernel after %d ms",
		    nh, (unsigned long long) nops, drain_ms);
		return (false);
	}
	if (!ovio__server_close(e)) {
		ovio__logl(OVIO__LOG_ERROR,
		    "stop: abandoned requests still being served");
		return (false);
	}
	if (!ovio__work_stop(&e->work, deadline + 2000)) {
		ovio__logl(OVIO__LOG_ERROR,
		    "stop: abandoned %u open / stat / close call(s) "
		    "stuck in the file system",
		    ovio__work_busy(&e->work));
		return (false);
	}
	nng_mtx_lock(e->mtx);
	e->completer_stop = true;
	nng_mtx_unlock(e->mtx);
	ovio__port_wake(e->port);
	if (e->completer != NULL) {
		nng_thread_destroy(e->completer);
	}
	ovio__op_pool_fini(e);
	ovio__rc_fini(e);
	ovio__timer_fini(e);
	ovio__session_fini(e);
	for (uint32_t i = 0; i < e->hcap; i++) {
		free(e->htab[i]);
	}
	free(e->htab);
	engine_free(e);
	ovio__log("stopped cleanly");
	return (true);
}

void
ovio__engine_status(engine *e, Ovio__ServiceStatus *st)
{
	eng_session *s;

	nng_mtx_lock(e->mtx);
	st->version  = OVIO_VERSION;
	st->backend  = (char *) ovio__port_name(e->port);
	st->root     = ""; /* the root's path is for the service's log only */
	st->state    = e->stopping   ? "stopping"
	               : e->draining ? "draining"
	                             : "running";
	st->sessions = 0;
	for (s = ovio__list_first(&e->sessions); s != NULL;
	     s = ovio__list_next(&e->sessions, s)) {
		if (!s->dead && !s->peer.admin) {
			st->sessions++; /* data sessions: clients */
		}
	}
	st->handles           = e->nhandles;
	st->ops_in_flight     = e->ops_in_flight;
	st->ops_submitted     = e->ctr.submitted;
	st->ops_completed     = e->ctr.completed;
	st->ops_canceled      = e->ctr.canceled;
	st->bytes_read        = e->ctr.bytes_read;
	st->bytes_written     = e->ctr.bytes_written;
	st->requests_rejected = e->ctr.rejected;
	st->duplicates        = e->ctr.duplicates;
	st->uptime_ms         = (uint64_t) (nng_clock() - e->started);
	st->cancels_waiting   = e->cancels_waiting;
	nng_mtx_unlock(e->mtx);
}

void
ovio__engine_set_limits(engine *e, const eng_limits *l)
{
	nng_mtx_lock(e->mtx);
	e->limits.handles_per_session = l->handles_per_session;
	e->limits.ops_per_session     = l->ops_per_session;
	e->limits.bytes_per_session   = l->bytes_per_session;
	e->limits.sessions            = l->sessions;
	e->limits.sessions_per_peer   = l->sessions_per_peer;
	nng_mtx_unlock(e->mtx);
}

bool
ovio__engine_alive(engine *e)
{
	nng_mtx_lock(e->mtx);
	nng_mtx_unlock(e->mtx);
	return (true);
}
