/*
 * engine.c - start-up, the completion thread, service status and the
 * graceful stop of oviod's engine.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fs.h"
#include "host.h"

#define COMPLETE_BATCH 64

engine eng;

/*
 * The completion thread.  When a wait passes with nothing to complete and
 * nothing in flight, after work since the last time, the memory freed by
 * that work goes back to the system (ovio__host_memory_release): once per
 * idle spell, never while busy.
 */
static void
completer_main(void *arg)
{
	ovio__port_op *ops[COMPLETE_BATCH];
	int            n, i, wait_ms;
	uint64_t       work, released = 0; /* completed + rejected */
	bool           idle;

	(void) arg;
	for (;;) {
		nng_mtx_lock(eng.mtx);
		if (eng.completer_stop && eng.ops_in_flight == 0) {
			nng_mtx_unlock(eng.mtx);
			break;
		}
		wait_ms = ovio__timer_expire(nng_clock());
		work    = eng.ctr.completed + eng.ctr.rejected;
		idle    = eng.ops_in_flight == 0 && work != released;
		nng_mtx_unlock(eng.mtx);
		n = ovio__port_dequeue(eng.port, ops, COMPLETE_BATCH, wait_ms);
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

int
ovio__engine_start(const eng_options *o)
{
	const char *why = NULL;
	int64_t     oserr = 0;
	int         rv;

	memset(&eng, 0, sizeof(eng));
	eng.limits  = o->limits;
	eng.root    = o->root;
	eng.started = nng_clock();
	if (nng_mtx_alloc(&eng.mtx) != 0 || nng_cv_alloc(&eng.cv, eng.mtx) != 0 ||
	    ovio__work_start() != 0) {
		ovio__log("out of memory");
		return (OVIO_ENOMEM);
	}
	if ((rv = ovio__fs_open_root(o->root, &eng.rootfd, &oserr)) != 0) {
		ovio__log("cannot use root %s: %s (os error %lld)", o->root,
		    ovio_strerror(rv), (long long) oserr);
		return (rv);
	}
	rv = ovio__port_open(&eng.port, o->backend, o->threads, &why);
	if (rv != 0) {
		ovio__log("cannot start backend %s: %s",
		    o->backend != NULL ? o->backend : "(any)", why);
		ovio__fs_close_root(eng.rootfd);
		return (rv);
	}
	if (getenv("OVIO_TEST_FAIL_CANCELS") != NULL) {
		/* Test seam: that many cancel asks fail; the engine re-asks. */
		ovio__port_fail_cancels(
		    eng.port, atoi(getenv("OVIO_TEST_FAIL_CANCELS")));
	}
	if (why != NULL) {
		/* The preferred backend was not usable here. */
		ovio__log("%s; using %s", why, ovio__port_name(eng.port));
	}
	ovio__log("backend %s, root %s", ovio__port_name(eng.port), o->root);
	ovio__log("paths beneath the root: %s", ovio__fs_resolution());
	if (nng_thread_create(&eng.completer, completer_main, NULL) != 0) {
		ovio__log("cannot start the completion thread");
		return (OVIO_ENOMEM);
	}
	if ((rv = ovio__server_start(o->listen, o->limits.max_request)) != 0) {
		return (rv);
	}
	return (0);
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
ovio__engine_stop(int drain_ms)
{
	eng_session *s;
	eng_handle  *drained = NULL;
	nng_time     deadline = nng_clock() + (nng_time) drain_ms;
	unsigned     nh;
	uint64_t     nops;

	nng_mtx_lock(eng.mtx);
	eng.stopping = true;
	nh           = eng.nhandles;
	nops         = eng.ops_in_flight;
	nng_mtx_unlock(eng.mtx);
	ovio__log("stopping: %u handle(s) open, %llu operation(s) in flight",
	    nh, (unsigned long long) nops);
	ovio__server_stop_listening();

	nng_mtx_lock(eng.mtx);
	for (s = eng.sessions; s != NULL; s = s->next) {
		(void) ovio__close_session(s, &drained);
	}
	nng_mtx_unlock(eng.mtx);
	ovio__close_finish_all(drained);

	nng_mtx_lock(eng.mtx);
	while (eng.nhandles > 0 &&
	    nng_cv_until(eng.cv, deadline) != NNG_ETIMEDOUT) {
	}
	nh   = eng.nhandles;
	nops = eng.ops_in_flight;
	nng_mtx_unlock(eng.mtx);

	if (nh > 0) {
		/* Their records never come back: no use waiting for them. */
		ovio__log("stop: abandoned %u handle(s) with %llu operation(s) "
		          "still in the kernel after %d ms",
		    nh, (unsigned long long) nops, drain_ms);
		return (false);
	}
	if (!ovio__server_close()) {
		ovio__log("stop: abandoned requests still being served");
		return (false);
	}
	if (!ovio__work_stop(deadline + 2000)) {
		ovio__log("stop: abandoned %u open / stat / close call(s) "
		          "stuck in the file system",
		    ovio__work_busy());
		return (false);
	}
	nng_mtx_lock(eng.mtx);
	eng.completer_stop = true;
	nng_mtx_unlock(eng.mtx);
	ovio__port_wake(eng.port);
	nng_thread_destroy(eng.completer);
	ovio__port_close(eng.port);
	ovio__op_pool_fini();
	ovio__rc_fini();
	ovio__timer_fini();
	ovio__fs_close_root(eng.rootfd);
	ovio__session_fini();
	for (uint32_t i = 0; i < eng.hcap; i++) {
		free(eng.htab[i]);
	}
	free(eng.htab);
	nng_cv_free(eng.cv);
	nng_mtx_free(eng.mtx);
	ovio__log("stopped cleanly");
	return (true);
}

void
ovio__engine_status(Ovio__ServiceStatus *st)
{
	eng_session *s;

	nng_mtx_lock(eng.mtx);
	st->version  = OVIO_VERSION;
	st->backend  = (char *) ovio__port_name(eng.port);
	st->root     = ""; /* the root's path is for the service's log only */
	st->sessions = 0;
	for (s = eng.sessions; s != NULL; s = s->next) {
		if (!s->dead) {
			st->sessions++;
		}
	}
	st->handles           = eng.nhandles;
	st->ops_in_flight     = eng.ops_in_flight;
	st->ops_submitted     = eng.ctr.submitted;
	st->ops_completed     = eng.ctr.completed;
	st->ops_canceled      = eng.ctr.canceled;
	st->bytes_read        = eng.ctr.bytes_read;
	st->bytes_written     = eng.ctr.bytes_written;
	st->requests_rejected = eng.ctr.rejected;
	st->duplicates        = eng.ctr.duplicates;
	st->uptime_ms         = (uint64_t) (nng_clock() - eng.started);
	nng_mtx_unlock(eng.mtx);
}
