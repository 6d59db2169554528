/*
 * workers.c - a pool of threads for the calls that may block: open, stat
 * and the close of an OS handle.
 *
 * Nothing slow may run on nng's callback threads (they receive every
 * client's requests), on the completion thread or under the engine's lock: an
 * open on a stuck file system would hold all of them.  So dispatch and the
 * deferred close queue such calls here.  The pool grows by one thread whenever
 * work is queued and no thread is idle, up to WORK_MAX_THREADS, so calls stuck
 * in one file system hold only their own threads; past the cap, work waits
 * its turn.  Threads stay once started (a burst leaves at most the cap).
 *
 * The pool has its own mutex; a job runs with no lock held.  A pool is a
 * member of its engine (e->work) and knows nothing else of it: a job finds
 * its engine from the record its eng_work is embedded in.
 */
#include <stddef.h>

#include "engine.h"

static void
work_main(void *arg)
{
	eng_workers *wp = arg;
	eng_work    *w;

	nng_mtx_lock(wp->mtx);
	for (;;) {
		while (ovio__list_empty(&wp->queue) && !wp->stopping) {
			wp->nidle++;
			nng_cv_wait(wp->cv);
			wp->nidle--;
		}
		if ((w = ovio__list_pop_first(&wp->queue)) == NULL) {
			break;
		}
		wp->nqueued--;
		wp->nbusy++;
		nng_mtx_unlock(wp->mtx);

		w->fn(w);

		nng_mtx_lock(wp->mtx);
		wp->nbusy--;
		nng_cv_wake(wp->idle_cv);
	}
	nng_mtx_unlock(wp->mtx);
}

int
ovio__work_start(eng_workers *wp)
{
	ovio__list_init(&wp->queue, eng_work, node);
	if (nng_mtx_alloc(&wp->mtx) != 0 || nng_cv_alloc(&wp->cv, wp->mtx) != 0
	    || nng_cv_alloc(&wp->idle_cv, wp->mtx) != 0) {
		return (OVIO_ENOMEM);
	}
	return (0);
}

void
ovio__work_queue(eng_workers *wp, eng_work *w, void (*fn)(eng_work *))
{
	w->fn = fn;
	nng_mtx_lock(wp->mtx);
	ovio__list_append(&wp->queue, w);
	wp->nqueued++;
	/*
	 * A thread woken for earlier work still counts as idle until it runs,
	 * so more work queued than threads idle means a new thread: a call
	 * that is stuck never holds the work queued behind it.
	 */
	if (wp->nqueued > wp->nidle && wp->nthreads < WORK_MAX_THREADS
	    && nng_thread_create(&wp->threads[wp->nthreads], work_main, wp)
	           == 0) {
		wp->nthreads++;
	}
	/* With no thread at all (none could start), a later queue retries. */
	nng_cv_wake1(wp->cv);
	nng_mtx_unlock(wp->mtx);
}

unsigned
ovio__work_busy(eng_workers *wp)
{
	unsigned n;

	nng_mtx_lock(wp->mtx);
	n = wp->nbusy + wp->nqueued;
	nng_mtx_unlock(wp->mtx);
	return (n);
}

bool
ovio__work_stop(eng_workers *wp, nng_time deadline)
{
	unsigned i;

	nng_mtx_lock(wp->mtx);
	while ((wp->nbusy > 0 || !ovio__list_empty(&wp->queue))
	       && nng_cv_until(wp->idle_cv, deadline) != NNG_ETIMEDOUT) { }
	if (wp->nbusy > 0 || !ovio__list_empty(&wp->queue)) {
		/* A call is stuck in the OS: its thread cannot be joined. */
		nng_mtx_unlock(wp->mtx);
		return (false);
	}
	wp->stopping = true;
	nng_cv_wake(wp->cv);
	nng_mtx_unlock(wp->mtx);
	for (i = 0; i < wp->nthreads; i++) {
		nng_thread_destroy(wp->threads[i]);
	}
	wp->nthreads = 0;
	nng_cv_free(wp->cv);
	nng_cv_free(wp->idle_cv);
	nng_mtx_free(wp->mtx);
	wp->mtx = NULL;
	return (true);
}
