/*
 * port.h - the completion-port contract of oviod.
 *
 * One port per service.  The engine (engine.c) submits reads, writes and
 * flushes on OS handles and dequeues their completions; a backend turns
 * them into OS calls:
 *
 *   port/uring.c    Linux io_uring (liburing)
 *   port/threads.c  a pool of worker threads doing pread/pwrite, for kernels
 *                   or containers where io_uring is unavailable
 *   port/iocp.c     Windows I/O completion port (overlapped I/O)
 *
 * The Makefile links the backends of the target OS; ovio__port_open picks one
 * at start-up.  Nothing above this header knows which one runs.
 *
 * The three rules every backend keeps:
 *  1. ovio__port_submit returning 0 means exactly one completion of that op
 *     will be returned by ovio__port_dequeue; returning an error means none
 *     will, and the op was never seen by the OS.  Returning OVIO__PORT_DONE
 *     (only where the caller set op->finish_now_ok) means the op completed
 *     inside the submit: its outputs are set, none will be dequeued, and
 *     the caller completes it as if it had been.
 *  2. The op (and the buffer it points at) belongs to the port from a
 *     successful submit until ovio__port_dequeue returns it (or until the
 *     submit returns OVIO__PORT_DONE).
 *  3. Cancel is a request: a cancelled op still completes exactly once, with
 *     OVIO_ECANCELED or with its real result if the I/O won the race.
 */
#ifndef OVIO_PORT_H
#define OVIO_PORT_H

#include <stddef.h>
#include <stdint.h>

/* An OS file handle: a file descriptor on POSIX, a HANDLE on Windows. */
typedef intptr_t ovio__fd;

typedef enum ovio__port_kind {
	OVIO__PORT_READ    = 1,
	OVIO__PORT_WRITE   = 2,
	OVIO__PORT_FLUSH   = 3,
	OVIO__PORT_SETSIZE = 4, /* offset is the new size */
	OVIO__PORT_CANCEL  = 5, /* the report of an ovio__port_cancel */
} ovio__port_kind;

/*
 * The port's view of one operation; the engine embeds it first in its
 * operation record and recovers the record from it with a cast.  The engine
 * fills the inputs before submit; the backend fills the outputs before
 * returning the op from dequeue.  The private part is the backend's
 * bookkeeping (list link, state, OVERLAPPED on Windows).
 */
typedef struct ovio__port_op {
	/* inputs */
	ovio__port_kind kind;
	ovio__fd        fd;
	void           *buf;
	size_t          len;
	uint64_t        offset;
	int             stream; /* 1: not seekable (FIFO, pipe): no offset */
	int             nowait; /* 1: it may be tried at once without
	                         * blocking (fs.h OVIO__FS_NOWAIT) */
	int finish_now_ok; /* 1: the caller takes OVIO__PORT_DONE (submit) */

	/* outputs */
	int      status;   /* OVIO_OK or an ovio_err */
	int64_t  os_error; /* the OS's own code when status != OVIO_OK */
	uint64_t result; /* bytes transferred; CANCEL: an ovio_cancel_result */
	int nowait_refused; /* 1: the OS refused the try at once (a file system
	                     * without non-blocking buffered writes): the
	                     * caller stops asking for it on this file */

	/* backend private */
	struct ovio__port_op *next;
	int                   state;
	int                   cancel;
	uint64_t              done; /* bytes of a short first try */
	void                 *priv[4];
	/*
	 * OS bookkeeping the backend embeds in the op, kept opaque so this
	 * header needs no OS header: port/iocp.c keeps the op's OVERLAPPED
	 * here (checked by a static assertion) and recovers the op from a
	 * completion packet with CONTAINING_RECORD.
	 */
	_Alignas(16) unsigned char os[64];
} ovio__port_op;

typedef struct ovio__port ovio__port;

/*
 * ovio__port_open creates the port.  backend is "uring", "threads", "iocp"
 * or NULL for the best that works here.  threads is the worker count for
 * backends that use workers (0: a default).  On failure *why (if not NULL)
 * gets a one-line cause.  Returns 0, OVIO_ENOTSUP (backend not built or not
 * usable here) or OVIO_ENOMEM.  Called once, by the main thread.
 */
int ovio__port_open(
    ovio__port **pp, const char *backend, unsigned threads, const char **why);

/* ovio__port_name returns the running backend's name ("uring", ...). */
const char *ovio__port_name(ovio__port *p);

/*
 * ovio__port_associate prepares fd for use with the port (IOCP binds it to
 * the port; the others do nothing).  Called once per fd, before its first
 * submit, by any thread.  Returns 0 or an ovio_err.
 */
int ovio__port_associate(ovio__port *p, ovio__fd fd);

/*
 * ovio__port_submit starts op.  Thread-safe; never blocks on the I/O itself.
 * Returns 0 (one completion will follow) or an ovio_err (none will; the op's
 * outputs are also set, so the caller may complete it itself).  When
 * op->finish_now_ok is set it may also return OVIO__PORT_DONE: the op was
 * done at once (a small read or write of a file in the page cache, tried
 * without blocking on the calling thread; Linux backends), its outputs are
 * set and no completion will follow: the caller completes it (also
 * between ovio__port_hold and ovio__port_release: what is not done at
 * once is what the release hands over together).
 */
#define OVIO__PORT_DONE (-1)
int ovio__port_submit(ovio__port *p, ovio__port_op *op);

/*
 * ovio__port_hold and ovio__port_release bracket several submits from one
 * thread (a batch's operations): between them a backend may queue what is
 * submitted and hand it all to the OS at the release, in one call (uring:
 * one io_uring_enter).  Every submit still returns as the contract above
 * says, and every op submitted is handed over by the release at the
 * latest.  Calls nest; the others are free to submit meanwhile.
 */
void ovio__port_hold(ovio__port *p);
void ovio__port_release(ovio__port *p);

/*
 * ovio__port_cancel asks the OS to cancel op, which must have been submitted
 * and not yet dequeued (the engine guarantees this under its lock).
 * Thread-safe, non-blocking.  The op still completes exactly once.
 *
 * When report is not NULL, it is completed (dequeued like any op, kind
 * OVIO__PORT_CANCEL, status OVIO_OK) once the OS has answered, with result
 * the truth about op (an ovio_cancel_result):
 *   OVIO_CANCEL_DONE       cancelled: op completes with OVIO_ECANCELED
 *   OVIO_CANCEL_REQUESTED  op was running; the OS was asked to stop it, and
 *                          it completes with OVIO_ECANCELED or its result
 *   OVIO_CANCEL_TOO_LATE   op had already finished; it completes with its
 *                          real result
 * report is then owned by the port until dequeued.  With report NULL the
 * answer is dropped (close, disconnect and deadlines need none).
 * Returns 0, or an ovio_err when the cancel could not be asked at all (then
 * report is not completed).
 */
int ovio__port_cancel(ovio__port *p, ovio__port_op *op, ovio__port_op *report);

/*
 * ovio__port_dequeue waits up to timeout_ms (-1: forever) for completions
 * and stores up to max of them in ops.  Returns how many (0 on timeout or
 * after ovio__port_wake).  Called by the engine's completion thread.
 */
int ovio__port_dequeue(
    ovio__port *p, ovio__port_op **ops, int max, int timeout_ms);

/* ovio__port_wake makes a blocked ovio__port_dequeue return.  Thread-safe. */
void ovio__port_wake(ovio__port *p);

/*
 * ovio__port_close frees the port.  Every submitted op must have been
 * dequeued first.  Called once, by the main thread.
 */
void ovio__port_close(ovio__port *p);

/*
 * Fault seams for tests: the next n submits fail with OVIO_EIO; the next n
 * cancels fail with OVIO_EBUSY without asking the OS (the engine must ask
 * again).  Not thread-safe against themselves: set them from one thread.
 */
void ovio__port_fail_submits(ovio__port *p, int n);
void ovio__port_fail_cancels(ovio__port *p, int n);

/*
 * IOCP-only fault seams (port_iocp.c; other backends ignore the first and
 * do not define the second).  ovio__port_fail_dequeues: the next n
 * dequeues see GetQueuedCompletionStatusEx fail with an error other than a
 * timeout, so a test can check that dequeue backs off instead of spinning.
 * ovio__port_hold_jobs: while hold is non-zero, flush and set-size jobs
 * wait on their pool thread before they start, so a test can cancel a job
 * that is still queued.  Process-wide.
 */
void ovio__port_fail_dequeues(ovio__port *p, int n);
void ovio__port_hold_jobs(int hold);

#endif
