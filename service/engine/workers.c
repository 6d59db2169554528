/*
 * workers.c - a pool of threads for the calls that may block: open, stat
 * and the close of an OS handle.
 *
 * Nothing slow may run on nng's callback threads (they receive every
 * client's requests), on the completion thread or under eng.mtx: an open on
 * a stuck file system would hold all of them.  So dispatch and the deferred
 * close queue such calls here.  The pool grows by one thread whenever work
 * is queued and no thread is idle, up to WORK_MAX_THREADS, so calls stuck
 * in one file system hold only their own threads; past the cap, work waits
 * its turn.  Threads stay once started (a burst leaves at most the cap).
 *
 * The pool has its own mutex; a job runs with no lock held.
 */
#include <stddef.h>

#include "engine.h"

#define work (eng.work)

static void
work_main(void *arg)
{
	eng_work *w;

	(void) arg;
	nng_mtx_lock(work.mtx);
	for (;;) {
		while (work.head == NULL && !work.stopping) {
			work.nidle++;
			nng_cv_wait(work.cv);
			work.nidle--;
		}
		if ((w = work.head) == NULL) {
			break;
		}
		if ((work.head = w->next) == NULL) {
			work.tail = NULL;
		}
		work.nbusy++;
		nng_mtx_unlock(work.mtx);

		w->fn(w);

		nng_mtx_lock(work.mtx);
		work.nbusy--;
		nng_cv_wake(work.idle_cv);
	}
	nng_mtx_unlock(work.mtx);
}

int
ovio__work_start(void)
{
	if (nng_mtx_alloc(&work.mtx) != 0 ||
	    nng_cv_alloc(&work.cv, work.mtx) != 0 ||
	    nng_cv_alloc(&work.idle_cv, work.mtx) != 0) {
		return (OVIO_ENOMEM);
	}
	return (0);
}

void
ovio__work_queue(eng_work *w, void (*fn)(eng_work *))
{
	w->fn   = fn;
	w->next = NULL;
	nng_mtx_lock(work.mtx);
	if (work.tail != NULL) {
		work.tail->next = w;
	} else {
		work.head = w;
	}
	work.tail = w;
	if (work.nidle == 0 && work.nthreads < WORK_MAX_THREADS &&
	    nng_thread_create(&work.threads[work.nthreads], work_main, NULL) ==
	        0) {
		work.nthreads++;
	}
	/* With no thread at all (none could start), a later queue retries. */
	nng_cv_wake1(work.cv);
	nng_mtx_unlock(work.mtx);
}

unsigned
ovio__work_busy(void)
{
	unsigned n;

	nng_mtx_lock(work.mtx);
	n = work.nbusy;
	for (eng_work *w = work.head; w != NULL; w = w->next) {
		n++;
	}
	nng_mtx_unlock(work.mtx);
	return (n);
}

bool
ovio__work_stop(nng_time deadline)
{
	unsigned i;

	nng_mtx_lock(work.mtx);
	while ((work.nbusy > 0 || work.head != NULL) &&
	    nng_cv_until(work.idle_cv, deadline) != NNG_ETIMEDOUT) {
	}
	if (work.nbusy > 0 || work.head != NULL) {
		/* A call is stuck in the OS: its thread cannot be joined. */
		nng_mtx_unlock(work.mtx);
		return (false);
	}
	work.stopping = true;
	nng_cv_wake(work.cv);
	nng_mtx_unlock(work.mtx);
	for (i = 0; i < work.nthreads; i++) {
		nng_thread_destroy(work.threads[i]);
	}
	work.nthreads = 0;
	nng_cv_free(work.cv);
	nng_cv_free(work.idle_cv);
	nng_mtx_free(work.mtx);
	work.mtx = NULL;
	return (true);
}
