/*
 * port/iocp.c - the Windows I/O completion port (overlapped I/O).
 *
 * Each op embeds its OVERLAPPED (ovio__port_op.os); a completion packet
 * carries a pointer to it and the op is recovered with CONTAINING_RECORD.
 * Handles come from CreateFile with FILE_FLAG_OVERLAPPED and are bound to
 * the port by ovio__port_associate, which also sets
 * FILE_SKIP_COMPLETION_PORT_ON_SUCCESS.  A submit therefore ends one of
 * three ways, and each still gives the engine exactly one completion or
 * one error return:
 *
 *  - ERROR_IO_PENDING: the kernel queues a packet when the I/O finishes;
 *  - synchronous success: the kernel queues nothing, so submit posts the
 *    op's packet itself (PostQueuedCompletionStatus with IOCP_KEY_DONE and
 *    the op's OVERLAPPED; if even that fails, the op goes on an internal
 *    list that dequeue drains first);
 *  - immediate failure: no packet; submit returns the error with the op's
 *    outputs set.  Two failures are results, not errors, and complete
 *    like a synchronous success: ERROR_HANDLE_EOF (a read at or past the
 *    end of a file: 0 bytes) and, for reads, ERROR_BROKEN_PIPE (the writer
 *    closed a pipe: end of file, 0 bytes, as read() returns on POSIX).
 *
 * A warning is data, not a failure.  A read on a message-mode pipe whose
 * message is longer than the buffer ends with STATUS_BUFFER_OVERFLOW
 * (ReadFile: FALSE, ERROR_MORE_DATA): the buffer holds the first part of
 * the message and the next read gets the rest.  It completes OK with the
 * bytes transferred, exactly once.  Whether the kernel queues a packet for
 * such a warning finished at once, in skip mode, is not the same
 * everywhere: the documentation skips the packet for a request that
 * "returns success", which a warning is not, while Wine skips it for any
 * synchronous completion.  So the port finds out once per process
 * (iocp_probe_more_data, on a message-mode pipe of its own) and either
 * lets the kernel's packet finish the op or posts the op's packet itself.
 *
 * Flush (FlushFileBuffers) and set-size (SetFileInformationByHandle,
 * FileEndOfFileInfo) have no overlapped form and may block for a long
 * time, so they run as jobs on a thread-pool thread, which posts the op's
 * packet when done: submit never blocks on the I/O.  A job still queued
 * can be cancelled (DONE: when its pool thread comes it does not do the
 * I/O and completes the op OVIO_ECANCELED); one already running cannot
 * (TOO_LATE: its real result follows).  A flush of
 * a stream (a pipe or FIFO: op->stream) is not a job: it completes OK at
 * once, as there is no disk behind it, and FlushFileBuffers on a pipe
 * would wait until the reader has read everything -- possibly forever,
 * holding a close or a stop.
 *
 * Cancel is CancelIoEx(handle, &op's OVERLAPPED), which answers at once:
 * TRUE means the kernel was asked to stop a pending I/O (REQUESTED: it
 * completes with STATUS_CANCELLED -> OVIO_ECANCELED, or with its result if
 * it won the race); ERROR_NOT_FOUND means it has already finished, its
 * packet is queued or about to be (TOO_LATE: real result).  Any other
 * failure is returned to the caller (nothing was asked; no report).
 * Asking again for the same op is harmless (the engine does, on a timer,
 * until the op completes).  The report op, if any, is posted to the port
 * at once with the answer.
 *
 * os_error holds the raw code: the Win32 error of an immediate failure, or
 * the NTSTATUS of a completion packet (OVERLAPPED.Internal).
 *
 * One thread dequeues (the engine's completion thread); any thread submits,
 * cancels and wakes.
 */
#include <windows.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ovio.h"
#include "port_impl.h"
#include "error_impl.h"
#include "log.h"

_Static_assert(sizeof(OVERLAPPED) <= sizeof(((ovio__port_op *) 0)->os),
    "ovio__port_op.os must hold an OVERLAPPED");
_Static_assert(_Alignof(OVERLAPPED) <= 16, "OVERLAPPED alignment");

/* Completion keys.  Handles are bound with IOCP_KEY_IO. */
#define IOCP_KEY_IO   1 /* a kernel packet for an overlapped read/write */
#define IOCP_KEY_DONE 2 /* an op finished by the port itself: outputs set */
#define IOCP_KEY_WAKE 3 /* ovio__port_wake */

#define IOCP_BATCH 64

#define IOCP_STATUS_END_OF_FILE     0xC0000011UL
#define IOCP_STATUS_PIPE_BROKEN     0xC000014BUL
#define IOCP_STATUS_BUFFER_OVERFLOW 0x80000005UL /* ERROR_MORE_DATA */

typedef struct iocp_port {
	ovio__port       base;
	HANDLE           iocp;
	CRITICAL_SECTION mtx; /* guards the fallback list */
	ovio__port_op *head; /* finished ops whose packet could not be posted */
	ovio__port_op *tail;
	volatile LONG  failed_logged; /* a dequeue failure was logged */
} iocp_port;

static OVERLAPPED *
iocp_ov(ovio__port_op *op)
{
	return ((OVERLAPPED *) (void *) op->os);
}

static ovio__port_op *
iocp_op(OVERLAPPED *ov)
{
	return (CONTAINING_RECORD((void *) ov, ovio__port_op, os));
}

/*
 * Whether the kernel queues a packet for a read that ends at once with
 * ERROR_MORE_DATA on a handle in skip mode (see the top of the file): 1
 * yes, 0 no.  Found once per process by iocp_probe_more_data; if the probe
 * cannot run, the documented behaviour (a packet) is assumed.
 */
static INIT_ONCE iocp_probe_once       = INIT_ONCE_STATIC_INIT;
static int       iocp_more_data_packet = 1;

static BOOL CALLBACK iocp_probe_more_data(INIT_ONCE *, void *, void **);

static int
iocp_open(ovio__port **pp, unsigned threads, const char **why)
{
	iocp_port *p;

	(void) threads;
	(void) InitOnceExecuteOnce(
	    &iocp_probe_once, iocp_probe_more_data, NULL, NULL);
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		*why = "out of memory";
		return (OVIO_ENOMEM);
	}
	/* One thread dequeues; let the kernel run as many as it likes. */
	p->iocp = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0);
	if (p->iocp == NULL) {
		free(p);
		*why = "CreateIoCompletionPort failed";
		return (OVIO_ENOMEM);
	}
	InitializeCriticalSection(&p->mtx);
	*pp = &p->base;
	return (0);
}

/*
 * Binds fd to the port and turns off packets for synchronous successes
 * (and the signalling of the file handle).  A handle whose mode cannot be
 * set is refused: a synchronous success would then produce a packet as
 * well as the one submit posts, and the op would complete twice.
 */
static int
iocp_associate(ovio__port *port, ovio__fd fd)
{
	iocp_port *p = (iocp_port *) port;
	HANDLE     h = (HANDLE) fd;

	if (CreateIoCompletionPort(h, p->iocp, IOCP_KEY_IO, 0) == NULL) {
		return (ovio__err_from_win32(GetLastError()));
	}
	if (!SetFileCompletionNotificationModes(
	        h, FILE_SKIP_COMPLETION_PORT_ON_SUCCESS
	               | FILE_SKIP_SET_EVENT_ON_HANDLE)
	    && !SetFileCompletionNotificationModes(
	        h, FILE_SKIP_COMPLETION_PORT_ON_SUCCESS)) {
		return (ovio__err_from_win32(GetLastError()));
	}
	return (0);
}

/*
 * Queues a finished op (outputs set) for dequeue.  The packet normally
 * carries it; if the port cannot take one more packet, the fallback list
 * does, and the dequeuer finds it at its next call (within its timeout).
 */
static void
iocp_finish(iocp_port *p, ovio__port_op *op)
{
	if (PostQueuedCompletionStatus(
	        p->iocp, (DWORD) op->result, IOCP_KEY_DONE, iocp_ov(op))) {
		return;
	}
	EnterCriticalSection(&p->mtx);
	op->next = NULL;
	if (p->tail != NULL) {
		p->tail->next = op;
	} else {
		p->head = op;
	}
	p->tail = op;
	LeaveCriticalSection(&p->mtx);
}

/*
 * A flush or set-size job, kept in the op's private area: the op lives
 * until dequeue returns it, and only the pool's callback finishes it.
 * state moves once, from IOCP_JOB_QUEUED to RUNNING (claimed by the
 * callback, which then does the I/O) or to CANCELLED (claimed by a cancel:
 * the callback then finishes the op with OVIO_ECANCELED without doing it).
 * A cancel never finishes the op itself: the callback may still be about
 * to look at it, and the engine dequeues without its lock, so nothing but
 * the callback may know when the op is no longer the port's.
 */
typedef struct iocp_job {
	iocp_port     *port;
	ovio__port_op *op;
	volatile LONG  state;
} iocp_job;

_Static_assert(sizeof(iocp_job) <= sizeof(((ovio__port_op *) 0)->priv),
    "a job fits in priv");

enum { IOCP_JOB_QUEUED = 0, IOCP_JOB_RUNNING = 1, IOCP_JOB_CANCELLED = 2 };

/* Test seam (port.h): while non-zero, jobs wait before they claim. */
static volatile LONG iocp_hold_jobs;

void
ovio__port_hold_jobs(int hold)
{
	InterlockedExchange(&iocp_hold_jobs, hold ? 1 : 0);
}

static void
iocp_job_run(iocp_port *p, ovio__port_op *op)
{
	FILE_END_OF_FILE_INFO eof;
	BOOL                  ok;
	DWORD                 e;

	if (op->kind == OVIO__PORT_FLUSH) {
		ok = FlushFileBuffers((HANDLE) op->fd);
	} else {
		eof.EndOfFile.QuadPart = (LONGLONG) op->offset;
		ok                     = SetFileInformationByHandle(
		                        (HANDLE) op->fd, FileEndOfFileInfo, &eof, sizeof(eof));
	}
	if (!ok) {
		e            = GetLastError();
		op->status   = ovio__err_from_win32(e);
		op->os_error = (int64_t) e;
		if (op->status == OVIO_OK) {
			op->status = OVIO_EUNKNOWN;
		}
	}
	iocp_finish(p, op);
}

static void CALLBACK
iocp_job_cb(PTP_CALLBACK_INSTANCE inst, void *arg)
{
	iocp_job      *job = arg;
	iocp_port     *p   = job->port;
	ovio__port_op *op  = job->op;

	(void) inst;
	while (iocp_hold_jobs) {
		Sleep(1); /* test seam only */
	}
	if (InterlockedCompareExchange(
	        &job->state, IOCP_JOB_RUNNING, IOCP_JOB_QUEUED)
	    == IOCP_JOB_QUEUED) {
		iocp_job_run(p, op);
		return;
	}
	op->status = OVIO_ECANCELED; /* cancelled before it ran */
	op->result = 0;
	iocp_finish(p, op);
}

static int
iocp_is_job(const ovio__port_op *op)
{
	return (op->kind == OVIO__PORT_FLUSH || op->kind == OVIO__PORT_SETSIZE);
}

/* Starts a flush or set-size; see the top of the file. */
static int
iocp_job_submit(iocp_port *p, ovio__port_op *op)
{
	iocp_job *job = (iocp_job *) (void *) op->priv;

	job->port  = p;
	job->op    = op;
	job->state = IOCP_JOB_QUEUED;
	if (op->kind == OVIO__PORT_FLUSH && op->stream) {
		/* Nothing to flush; never waits on a reader. */
		job->state = IOCP_JOB_RUNNING;
		iocp_finish(p, op);
		return (0);
	}
	if (!TrySubmitThreadpoolCallback(iocp_job_cb, job, NULL)) {
		job->state = IOCP_JOB_RUNNING; /* no pool: run it here */
		iocp_job_run(p, op);
	}
	return (0);
}

/*
 * Cancels a job: DONE when it was still queued (it will complete
 * OVIO_ECANCELED), TOO_LATE once it runs or has run.  Asking again gives
 * the same answer.
 */
static uint64_t
iocp_job_cancel(ovio__port_op *op)
{
	iocp_job *job = (iocp_job *) (void *) op->priv;

	switch (InterlockedCompareExchange(
	    &job->state, IOCP_JOB_CANCELLED, IOCP_JOB_QUEUED)) {
	case IOCP_JOB_QUEUED:
	case IOCP_JOB_CANCELLED:
		return (OVIO_CANCEL_DONE);
	default:
		return (OVIO_CANCEL_TOO_LATE); /* its result follows */
	}
}

static BOOL CALLBACK
iocp_probe_more_data(INIT_ONCE *once, void *arg, void **ctx)
{
	WCHAR      name[96];
	HANDLE     port, srv = INVALID_HANDLE_VALUE, cli = INVALID_HANDLE_VALUE;
	OVERLAPPED ov, *got = NULL;
	ULONG_PTR  key;
	DWORD      n;
	char       c;

	(void) once;
	(void) arg;
	(void) ctx;
	if ((port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1))
	    == NULL) {
		return (TRUE);
	}
	_snwprintf(name, 95, L"\\\\.\\pipe\\ovio-probe-%lu-%lu",
	    (unsigned long) GetCurrentProcessId(),
	    (unsigned long) GetTickCount());
	name[95] = L'\0';
	srv      = CreateNamedPipeW(name,
	         PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED
	             | FILE_FLAG_FIRST_PIPE_INSTANCE,
	         PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT
	             | PIPE_REJECT_REMOTE_CLIENTS,
	         1, 64, 64, 0, NULL);
	if (srv == INVALID_HANDLE_VALUE) {
		goto done;
	}
	cli = CreateFileW(name, GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
	if (cli == INVALID_HANDLE_VALUE
	    || CreateIoCompletionPort(srv, port, 1, 0) == NULL
	    || !SetFileCompletionNotificationModes(
	        srv, FILE_SKIP_COMPLETION_PORT_ON_SUCCESS)
	    || !WriteFile(cli, "ab", 2, &n, NULL)) {
		goto done;
	}
	memset(&ov, 0, sizeof(ov));
	if (ReadFile(srv, &c, 1, NULL, &ov)) {
		goto done; /* not message mode after all: no answer */
	}
	if (GetLastError() == ERROR_MORE_DATA) {
		/* A packet would be queued before ReadFile returned. */
		(void) GetQueuedCompletionStatus(port, &n, &key, &got, 50);
		iocp_more_data_packet = got != NULL;
	} else if (GetLastError() == ERROR_IO_PENDING) {
		/* Not expected (the data is there); wait for its packet
		 * before ov goes out of scope. */
		(void) CancelIoEx(srv, &ov);
		(void) GetQueuedCompletionStatus(port, &n, &key, &got, 5000);
	}
done:
	if (cli != INVALID_HANDLE_VALUE) {
		CloseHandle(cli);
	}
	if (srv != INVALID_HANDLE_VALUE) {
		CloseHandle(srv);
	}
	CloseHandle(port);
	return (TRUE);
}

static int
iocp_submit(ovio__port *port, ovio__port_op *op)
{
	iocp_port  *p  = (iocp_port *) port;
	OVERLAPPED *ov = iocp_ov(op);
	HANDLE      h  = (HANDLE) op->fd;
	DWORD       len, e;
	BOOL        ok;

	memset(ov, 0, sizeof(*ov));
	if (iocp_is_job(op)) {
		return (iocp_job_submit(p, op));
	}
	if (op->kind != OVIO__PORT_READ && op->kind != OVIO__PORT_WRITE) {
		op->status = OVIO_EINVAL;
		return (OVIO_EINVAL);
	}
	if (op->len > 0xFFFFFFFFu) {
		op->status = OVIO_EINVAL;
		return (OVIO_EINVAL);
	}
	len = (DWORD) op->len;
	if (!op->stream) {
		/* Pipes and other streams ignore the offset; files need it. */
		ov->Offset     = (DWORD) op->offset;
		ov->OffsetHigh = (DWORD) (op->offset >> 32);
	}
	if (op->kind == OVIO__PORT_READ) {
		ok = ReadFile(h, op->buf, len, NULL, ov);
	} else {
		ok = WriteFile(h, op->buf, len, NULL, ov);
	}
	if (!ok) {
		e = GetLastError();
		if (e == ERROR_IO_PENDING) {
			/* The packet finishes it; op is no longer ours. */
			return (0);
		}
		if (op->kind == OVIO__PORT_READ
		    && (e == ERROR_HANDLE_EOF || e == ERROR_BROKEN_PIPE)) {
			op->result = 0; /* end of file */
			iocp_finish(p, op);
			return (0);
		}
		if (op->kind == OVIO__PORT_READ && e == ERROR_MORE_DATA) {
			/* Data (part of a message), finished at once. */
			if (iocp_more_data_packet) {
				return (
				    0); /* the kernel's packet finishes it */
			}
			op->result = (uint64_t) ov->InternalHigh;
			iocp_finish(p, op);
			return (0);
		}
		op->status   = ovio__err_from_win32(e);
		op->os_error = (int64_t) e;
		if (op->status == OVIO_OK) {
			op->status
			    = OVIO_EUNKNOWN; /* never report an error as 0 */
		}
		return (op->status);
	}
	/* Synchronous success: no packet was queued (skip mode). */
	op->result = (uint64_t) ov->InternalHigh;
	iocp_finish(p, op);
	return (0);
}

static int
iocp_cancel(ovio__port *port, ovio__port_op *op, ovio__port_op *report)
{
	iocp_port *p       = (iocp_port *) port;
	uint64_t   outcome = OVIO_CANCEL_TOO_LATE;
	DWORD      e;
	int        rv;

	op->cancel = 1;
	if (iocp_is_job(op)) {
		outcome = iocp_job_cancel(op);
	} else if (CancelIoEx((HANDLE) op->fd, iocp_ov(op))) {
		outcome = OVIO_CANCEL_REQUESTED;
	} else if ((e = GetLastError()) != ERROR_NOT_FOUND) {
		/* Not asked at all; the I/O finishes by itself. */
		rv = ovio__err_from_win32(e);
		return (rv != OVIO_OK ? rv : OVIO_EUNKNOWN);
	}
	/* else ERROR_NOT_FOUND: finished, its packet is queued. */
	if (report != NULL) {
		report->result = outcome;
		iocp_finish(p, report);
	}
	return (0);
}

/* Fills in the outputs of an op from its kernel packet. */
static void
iocp_from_packet(ovio__port_op *op, const OVERLAPPED_ENTRY *ent)
{
	OVERLAPPED   *ov = iocp_ov(op);
	unsigned long st = (unsigned long) (ULONG_PTR) ov->Internal;

	op->result = (uint64_t) ent->dwNumberOfBytesTransferred;
	if (st == 0) {
		return;
	}
	if (op->kind == OVIO__PORT_READ
	    && (st == IOCP_STATUS_END_OF_FILE
	        || st == IOCP_STATUS_PIPE_BROKEN)) {
		op->result = 0; /* end of file */
		return;
	}
	if (op->kind == OVIO__PORT_READ && st == IOCP_STATUS_BUFFER_OVERFLOW) {
		return; /* part of a message: data, the rest to the next read */
	}
	if ((long) st > 0) {
		return; /* informational or success codes */
	}
	op->status   = ovio__err_from_ntstatus(st);
	op->os_error = (int64_t) st;
	op->result   = 0;
	if (op->status == OVIO_OK) {
		op->status = OVIO_EUNKNOWN;
	}
}

/* Moves up to max ops from the fallback list to ops. */
static int
iocp_drain_list(iocp_port *p, ovio__port_op **ops, int max)
{
	int n = 0;

	EnterCriticalSection(&p->mtx);
	while (n < max && p->head != NULL) {
		ops[n++] = p->head;
		p->head  = p->head->next;
		if (p->head == NULL) {
			p->tail = NULL;
		}
	}
	LeaveCriticalSection(&p->mtx);
	return (n);
}

/*
 * Waits out a failed GetQueuedCompletionStatusEx (other than a timeout):
 * the dequeuer's loop would otherwise spin on it.  Sleeps for the caller's
 * timeout (at most IOCP_FAIL_BACKOFF_MS; the fallback list is checked at
 * the next call) and logs the first such failure.
 */
#define IOCP_FAIL_BACKOFF_MS 100

static void
iocp_dequeue_failed(iocp_port *p, DWORD e, DWORD timeout)
{
	if (InterlockedExchange(&p->failed_logged, 1) == 0) {
		ovio__log(
		    "iocp: GetQueuedCompletionStatusEx failed (error %lu); "
		    "retrying every %d ms",
		    (unsigned long) e, IOCP_FAIL_BACKOFF_MS);
	}
	Sleep(timeout < IOCP_FAIL_BACKOFF_MS ? timeout : IOCP_FAIL_BACKOFF_MS);
}

static int
iocp_dequeue(ovio__port *port, ovio__port_op **ops, int max, int ms)
{
	iocp_port       *p = (iocp_port *) port;
	OVERLAPPED_ENTRY ents[IOCP_BATCH];
	ULONG            room, got = 0, i;
	DWORD            timeout, e;
	int              n;

	/* The fallback list first; then do not wait if it gave something. */
	n = iocp_drain_list(p, ops, max);
	if (n < max) {
		timeout = n > 0 ? 0 : ms < 0 ? INFINITE : (DWORD) ms;
		room    = max - n < IOCP_BATCH ? (ULONG) (max - n) : IOCP_BATCH;
		if (p->base.fail_dequeues > 0) {
			p->base.fail_dequeues--; /* test seam */
			got = 0;
			SetLastError(ERROR_INVALID_HANDLE);
		} else if (GetQueuedCompletionStatusEx(
		               p->iocp, ents, room, &got, timeout, FALSE)) {
			SetLastError(0);
		} else {
			got = 0;
		}
		if (got == 0 && (e = GetLastError()) != WAIT_TIMEOUT && e != 0
		    && n == 0) {
			iocp_dequeue_failed(p, e, timeout);
		}
		for (i = 0; i < got; i++) {
			ovio__port_op *op;

			if (ents[i].lpCompletionKey == IOCP_KEY_WAKE
			    || ents[i].lpOverlapped == NULL) {
				continue;
			}
			op = iocp_op(ents[i].lpOverlapped);
			if (ents[i].lpCompletionKey == IOCP_KEY_IO) {
				iocp_from_packet(op, &ents[i]);
			}
			ops[n++] = op;
		}
	}
	return (n);
}

static void
iocp_wake(ovio__port *port)
{
	iocp_port *p = (iocp_port *) port;

	/* Closing the port would not wake a waiter; a packet does. */
	(void) PostQueuedCompletionStatus(p->iocp, 0, IOCP_KEY_WAKE, NULL);
}

static void
iocp_close(ovio__port *port)
{
	iocp_port *p = (iocp_port *) port;

	CloseHandle(p->iocp);
	DeleteCriticalSection(&p->mtx);
	free(p);
}

const ovio__port_backend ovio__port_iocp = {
	.name      = "iocp",
	.open      = iocp_open,
	.associate = iocp_associate,
	.submit    = iocp_submit,
	.cancel    = iocp_cancel,
	.dequeue   = iocp_dequeue,
	.wake      = iocp_wake,
	.close     = iocp_close,
};
