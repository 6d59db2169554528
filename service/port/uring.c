/*
 * port/uring.c - the io_uring completion port (liburing).
 *
 * The op pointer is the SQE's user_data and comes back in its CQE.  A
 * small read or write that the engine lets finish in its submit is first
 * tried on the submitting thread (port/nowait_linux.c): from the page
 * cache it is done there, and needs no SQE, CQE or completion thread.
 * Everything else, including the rest of a try that ended short, carries
 * IOSQE_ASYNC and goes to io-wq at once.  Without it the kernel would
 * first try the op inline with IOCB_NOWAIT: after our own try that is the
 * same attempt twice, and on a FUSE file, a network file system or a
 * device an inline attempt can wait (a FUSE read waited on its daemon
 * inside io_uring_submit, blocking the thread that receives requests and
 * answers cancels).  In io-wq a regular file's read ends short only at
 * its end, so every CQE is the op's answer: its bytes plus the op->done
 * that a short try moved first (a failed rest: a write's bytes before it,
 * as write(2) answers; a read's error, never a short read, which would
 * read as the end of the file to every client).
 *
 * Submission is serialised by a mutex (the SQ ring has one producer at a
 * time); the completion side has a single consumer, the engine's
 * completion thread.
 *
 * user_data is the op's address with a generation in its top 16 bits
 * (uring_data): every submit of a record bumps it, so a cancel SQE that
 * reaches the kernel late (left queued by a failed flush) names the old
 * submission and can never cancel the record's next operation.
 *
 * Cancel submits IORING_OP_ASYNC_CANCEL for that user_data.  Its CQE is the
 * OS's answer (0: cancelled, -EALREADY: running, asked to stop, -ENOENT: not
 * found) and completes the caller's report op; without a report its
 * user_data is &uring_cancel_mark and it is dropped.  Only 0 guarantees the
 * target's CQE: -ENOENT also comes for an op that io-wq is just moving to
 * the poll table, so the engine answers clients from the target's own
 * outcome and asks again while the target is in flight (op.c).  -EINTR from
 * an op that was being cancelled means it was interrupted by the cancel:
 * it completes OVIO_ECANCELED.
 *
 * Set-size uses IORING_OP_FTRUNCATE (Linux 6.9), probed at start-up; the
 * opcode is spelled out because Debian 12's headers predate it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <liburing.h>

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#ifndef VALGRIND_MAKE_MEM_DEFINED
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void) (p), (void) (n))
#endif

#include "ovio.h"
#include "port_impl.h"
#include "error_impl.h"

/*
 * ThreadSanitizer and the kernel.  An op goes from the submitting thread to
 * the completion thread through the kernel: its pointer is written into an
 * SQE, io_uring_enter hands it over, and it comes back in a CQE whose tail
 * the kernel publishes with a release store that liburing reads with an
 * acquire load.  That orders everything the submitter wrote to the op (and
 * its buffer) before everything the completion thread does with it, but
 * TSan cannot see the kernel's side, so it reports every op field as a race
 * between dispatch and completion.  These two annotations state the
 * hand-over TSan cannot see: release on an op when it becomes an SQE's
 * user_data (an I/O op, or a cancel's report op), acquire when a CQE hands
 * it back.  They add ordering only along that real path, so a race between
 * our own threads stays visible: whatever the submitter writes to the op
 * after the hand-over is not covered (do_cancel once wrote the report op
 * after ovio__port_cancel, and TSan still reports that with these in
 * place).  Memory the kernel writes (read buffers) is invisible to TSan and
 * causes no report.
 */
#if defined(__SANITIZE_THREAD__)
#define URING_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define URING_TSAN 1
#endif
#endif
#ifdef URING_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define URING_HANDOFF(p) __tsan_release(p)
#define URING_REAPED(p)  __tsan_acquire(p)
#else
#define URING_HANDOFF(p) ((void) (p))
#define URING_REAPED(p)  ((void) (p))
#endif

#define URING_DEFAULT_ENTRIES 256
#define URING_OP_FTRUNCATE    55            /* IORING_OP_FTRUNCATE, Linux 6.9 */

static char uring_cancel_mark; /* user_data of cancel SQEs */

#define URING_GEN_SHIFT 48
#define URING_PTR_MASK  ((UINT64_C(1) << URING_GEN_SHIFT) - 1)

/*
 * The user_data of op's current submission: its address (user-space
 * addresses fit in 48 bits on every 64-bit Linux) and its generation, kept
 * in op->state, which this backend uses for nothing else.  Generations come
 * from one port-wide counter, so a record freed and another made at the
 * same address do not repeat a generation for 65536 submissions.
 */
static uint64_t
uring_data(const ovio__port_op *op)
{
	return ((uint64_t) (uintptr_t) op
	        | ((uint64_t) (uint16_t) op->state << URING_GEN_SHIFT));
}
static char uring_why[96];

/*
 * ovio__port_hold's depth on this thread (one port per process): while
 * above 0, this thread's submits stay queued in the SQ ring, and the
 * release flushes them (and anything else queued) in one io_uring_enter.
 */
static _Thread_local unsigned uring_held;
static char                   uring_wake_mark; /* user_data of wake-up NOPs */

typedef struct uring_port {
	ovio__port      base;
	struct io_uring ring;
	pthread_mutex_t sq_mtx;
	unsigned        sq_left; /* SQEs the last flush left queued (atomic) */
	uint16_t        gen;     /* the last user_data generation (sq_mtx) */
	unsigned        entries;
	int             has_ftruncate;
} uring_port;

/*
 * Hands queued SQEs to the kernel.  Called with sq_mtx held.  An SQE once
 * queued cannot be taken back, so a failure here (-EBUSY while the CQ
 * overflows, -EINTR) leaves it in the ring; the completion thread flushes
 * it again after reaping.  How many are left is published in sq_left, so
 * that thread need not read the SQ ring (the submitters') without sq_mtx.
 */
static void
uring_flush(uring_port *p)
{
	(void) io_uring_submit(&p->ring);
	__atomic_store_n(
	    &p->sq_left, io_uring_sq_ready(&p->ring), __ATOMIC_RELAXED);
}

/*
 * Returns an SQE, flushing the SQ to the kernel when it is full.  Called
 * with sq_mtx held.  NULL only if the kernel accepts nothing at all.
 */
static struct io_uring_sqe *
uring_sqe(uring_port *p)
{
	struct io_uring_sqe *sqe;

	if ((sqe = io_uring_get_sqe(&p->ring)) == NULL) {
		uring_flush(p);
		sqe = io_uring_get_sqe(&p->ring);
	}
	return (sqe);
}

static int
uring_open(ovio__port **pp, unsigned threads, const char **why)
{
	uring_port *p;
	int         rv;

	(void) threads;
	if (getenv("OVIO_DISABLE_URING") != NULL) {
		*why = "disabled by OVIO_DISABLE_URING";
		return (OVIO_ENOTSUP);
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		*why = "out of memory";
		return (OVIO_ENOMEM);
	}
	p->entries = URING_DEFAULT_ENTRIES;
	if (getenv("OVIO_URING_ENTRIES") != NULL) {
		/* Test seam: a tiny ring shows overflow handling. */
		p->entries = (unsigned) atoi(getenv("OVIO_URING_ENTRIES"));
	}
	if ((rv = io_uring_queue_init(p->entries, &p->ring, 0)) < 0) {
		free(p);
		*why = rv == -ENOSYS  ? "io_uring is not in this kernel"
		       : rv == -EPERM ? "io_uring is not permitted here"
		                      : "io_uring_setup failed";
		if (rv != -ENOSYS && rv != -EPERM) {
			snprintf(uring_why, sizeof(uring_why),
			    "io_uring_setup: %s", strerror(-rv));
			*why = uring_why;
		}
		return (OVIO_ENOTSUP);
	}
	if (!(p->ring.features & IORING_FEAT_NODROP)
	    || !(p->ring.features & IORING_FEAT_EXT_ARG)) {
		io_uring_queue_exit(&p->ring);
		free(p);
		*why = "io_uring lacks NODROP / EXT_ARG (kernel older than "
		       "5.11)";
		return (OVIO_ENOTSUP);
	}
	{
		struct io_uring_probe *probe
		    = io_uring_get_probe_ring(&p->ring);
		if (probe != NULL) {
			p->has_ftruncate = io_uring_opcode_supported(
			    probe, URING_OP_FTRUNCATE);
			io_uring_free_probe(probe);
		}
	}
	pthread_mutex_init(&p->sq_mtx, NULL);
	*pp = &p->base;
	return (0);
}

static int
uring_associate(ovio__port *port, ovio__fd fd)
{
	(void) port;
	(void) fd;
	return (0);
}

static int
uring_submit(ovio__port *port, ovio__port_op *op)
{
	uring_port          *p = (uring_port *) port;
	struct io_uring_sqe *sqe;
	uint64_t             off = op->stream ? (uint64_t) -1 : op->offset;

	if (op->kind == OVIO__PORT_SETSIZE && !p->has_ftruncate) {
		op->status = OVIO_ENOTSUP;
		return (OVIO_ENOTSUP);
	}
	/*
	 * Tried at once on this thread first, held or not: done, it needs
	 * no SQE, no CQE and no completion thread.  What a short try left
	 * (op->done bytes came) goes below, as the rest; held submits' SQEs
	 * still reach the kernel together at the release.
	 */
	if (ovio__port_try_nowait(op)) {
		return (OVIO__PORT_DONE);
	}
	pthread_mutex_lock(&p->sq_mtx);
	if ((sqe = uring_sqe(p)) == NULL) {
		pthread_mutex_unlock(&p->sq_mtx);
		return (ovio__port_refuse(op, OVIO_EBUSY));
	}
	switch (op->kind) {
	case OVIO__PORT_READ:
		io_uring_prep_read(sqe, (int) op->fd,
		    (uint8_t *) op->buf + op->done,
		    (unsigned) (op->len - op->done), off + op->done);
		break;
	case OVIO__PORT_WRITE:
		io_uring_prep_write(sqe, (int) op->fd,
		    (uint8_t *) op->buf + op->done,
		    (unsigned) (op->len - op->done), off + op->done);
		break;
	case OVIO__PORT_FLUSH:
		io_uring_prep_fsync(sqe, (int) op->fd, 0);
		break;
	case OVIO__PORT_SETSIZE:
		io_uring_prep_rw(
		    URING_OP_FTRUNCATE, sqe, (int) op->fd, NULL, 0, op->offset);
		break;
	default:
		break;
	}
	sqe->flags |= IOSQE_ASYNC;
	URING_HANDOFF(op);
	op->state = ++p->gen; /* port-wide: a new record never repeats one */
	io_uring_sqe_set_data64(sqe, uring_data(op));
	if (uring_held == 0) {
		uring_flush(p);
	}
	pthread_mutex_unlock(&p->sq_mtx);
	return (0);
}

static void
uring_hold(ovio__port *port)
{
	(void) port;
	uring_held++;
}

static void
uring_release(ovio__port *port)
{
	uring_port *p = (uring_port *) port;

	if (--uring_held == 0) {
		pthread_mutex_lock(&p->sq_mtx);
		uring_flush(p);
		pthread_mutex_unlock(&p->sq_mtx);
	}
}

static int
uring_cancel(ovio__port *port, ovio__port_op *op, ovio__port_op *report)
{
	uring_port          *p = (uring_port *) port;
	struct io_uring_sqe *sqe;

	pthread_mutex_lock(&p->sq_mtx);
	__atomic_store_n(&op->cancel, 1, __ATOMIC_RELAXED);
	if ((sqe = uring_sqe(p)) == NULL) {
		pthread_mutex_unlock(&p->sq_mtx);
		return (OVIO_EBUSY);
	}
	io_uring_prep_cancel64(sqe, uring_data(op), 0);
	if (report != NULL) {
		URING_HANDOFF(report);
		report->state = ++p->gen;
		io_uring_sqe_set_data64(sqe, uring_data(report));
	} else {
		io_uring_sqe_set_data(sqe, &uring_cancel_mark);
	}
	uring_flush(p);
	pthread_mutex_unlock(&p->sq_mtx);
	return (0);
}

static int
uring_dequeue(ovio__port *port, ovio__port_op **ops, int max, int ms)
{
	uring_port              *p = (uring_port *) port;
	struct io_uring_cqe     *cqe;
	struct __kernel_timespec ts;
	unsigned                 head, seen = 0;
	int                      n = 0, rv;

	/*
	 * An SQE a failed flush left in the ring is not submitted by the
	 * wait: flush it first, and while some stay queued, wake soon to
	 * try again rather than sleep on a completion that cannot come.
	 */
	if (__atomic_load_n(&p->sq_left, __ATOMIC_RELAXED) > 0) {
		pthread_mutex_lock(&p->sq_mtx);
		uring_flush(p);
		pthread_mutex_unlock(&p->sq_mtx);
		if (__atomic_load_n(&p->sq_left, __ATOMIC_RELAXED) > 0
		    && (ms < 0 || ms > 10)) {
			ms = 10;
		}
	}
	ts.tv_sec  = ms / 1000;
	ts.tv_nsec = (long long) (ms % 1000) * 1000000LL;
	rv = io_uring_wait_cqe_timeout(&p->ring, &cqe, ms < 0 ? NULL : &ts);
	if (rv < 0 && rv != -ETIME && rv != -EINTR) {
		return (0);
	}
	io_uring_for_each_cqe(&p->ring, head, cqe)
	{
		void *data = (void *) (uintptr_t) (io_uring_cqe_get_data64(cqe)
		                                   & URING_PTR_MASK);
		ovio__port_op *op = data;

		if (n == max) {
			break;
		}
		seen++;
		if (data == &uring_cancel_mark || data == &uring_wake_mark
		    || data == NULL) {
			continue;
		}
		URING_REAPED(op);
		if (op->kind == OVIO__PORT_CANCEL) {
			op->result = cqe->res == 0 ? OVIO_CANCEL_DONE
			             : cqe->res == -EALREADY
			                 ? OVIO_CANCEL_REQUESTED
			                 : OVIO_CANCEL_TOO_LATE;
		} else if (cqe->res < 0 && op->done > 0
		           && op->kind == OVIO__PORT_WRITE) {
			/*
			 * The rest of a write failed (ENOSPC): the bytes it
			 * wrote before are its answer, as write(2) gives.  A
			 * read's failed rest is its failure (a short read
			 * would read as the end of the file).
			 */
			op->result = op->done;
		} else if (cqe->res == -EINTR
		           && __atomic_load_n(&op->cancel, __ATOMIC_RELAXED)) {
			/* Interrupted by its cancel. */
			op->status   = OVIO_ECANCELED;
			op->os_error = EINTR;
		} else if (cqe->res < 0) {
			op->status   = ovio__err_from_errno(-cqe->res);
			op->os_error = -cqe->res;
		} else {
			op->result = op->done + (uint64_t) cqe->res;
			if (op->kind == OVIO__PORT_READ) {
				VALGRIND_MAKE_MEM_DEFINED(op->buf, op->result);
			}
		}
		ops[n++] = op;
	}
	io_uring_cq_advance(&p->ring, seen);

	/*
	 * Anything left in the SQ by a failed flush goes in now.  This used to
	 * test io_uring_sq_ready without sq_mtx, a data race (TSan) on the SQ
	 * tail that submitters move under sq_mtx; sq_left is the same count,
	 * published by every flush.
	 */
	if (__atomic_load_n(&p->sq_left, __ATOMIC_RELAXED) > 0) {
		pthread_mutex_lock(&p->sq_mtx);
		uring_flush(p);
		pthread_mutex_unlock(&p->sq_mtx);
	}
	return (n);
}

static void
uring_wake(ovio__port *port)
{
	uring_port          *p = (uring_port *) port;
	struct io_uring_sqe *sqe;

	pthread_mutex_lock(&p->sq_mtx);
	if ((sqe = uring_sqe(p)) != NULL) {
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data(sqe, &uring_wake_mark);
		uring_flush(p);
	}
	pthread_mutex_unlock(&p->sq_mtx);
}

static void
uring_close(ovio__port *port)
{
	uring_port *p = (uring_port *) port;

	io_uring_queue_exit(&p->ring);
	pthread_mutex_destroy(&p->sq_mtx);
	free(p);
}

const ovio__port_backend ovio__port_uring = {
	.name      = "uring",
	.open      = uring_open,
	.associate = uring_associate,
	.submit    = uring_submit,
	.hold      = uring_hold,
	.release   = uring_release,
	.cancel    = uring_cancel,
	.dequeue   = uring_dequeue,
	.wake      = uring_wake,
	.close     = uring_close,
};
