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
 * Flush (FlushFileBuffers) and set-size (SetFileInformationByHandle,
 * FileEndOfFileInfo) have no overlapped form and may block for a long
 * time, so they run on a thread-pool thread, which posts the op's packet
 * when done: submit never blocks on the I/O.  They cannot be cancelled;
 * they complete with their real result (cancel reports TOO_LATE).
 *
 * Cancel is CancelIoEx(handle, &op's OVERLAPPED), which answers at once:
 * TRUE means the kernel was asked to stop a pending I/O (REQUESTED: it
 * completes with STATUS_CANCELLED -> OVIO_ECANCELED, or with its result if
 * it won the race); ERROR_NOT_FOUND means it has already finished, its
 * packet is queued or about to be (TOO_LATE: real result).  The report op,
 * if any, is posted to the port at once with that answer.
 *
 * os_error holds the raw code: the Win32 error of an immediate failure, or
 * the NTSTATUS of a completion packet (OVERLAPPED.Internal).
 *
 * One thread dequeues (the engine's completion thread); any thread submits,
 * cancels and wakes.
 */
#include <windows.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ovio.h"
#include "port_impl.h"
#include "error_impl.h"

_Static_assert(sizeof(OVERLAPPED) <= sizeof(((ovio__port_op *) 0)->os),
    "ovio__port_op.os must hold an OVERLAPPED");
_Static_assert(_Alignof(OVERLAPPED) <= 16, "OVERLAPPED alignment");

/* Completion keys.  Handles are bound with IOCP_KEY_IO. */
#define IOCP_KEY_IO 1   /* a kernel packet for an overlapped read/write */
#define IOCP_KEY_DONE 2 /* an op finished by the port itself: outputs set */
#define IOCP_KEY_WAKE 3 /* ovio__port_wake */

#define IOCP_BATCH 64

#define IOCP_STATUS_END_OF_FILE 0xC0000011UL
#define IOCP_STATUS_PIPE_BROKEN 0xC000014BUL

typedef struct iocp_port {
	ovio__port       base;
	HANDLE           iocp;
	CRITICAL_SECTION mtx;  /* guards the fallback list */
	ovio__port_op   *head; /* finished ops whose packet could not be posted */
	ovio__port_op   *tail;
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

static int
iocp_open(ovio__port **pp, unsigned threads, const char **why)
{
	iocp_port *p;

	(void) threads;
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
	if (!SetFileCompletionNotificationModes(h,
	        FILE_SKIP_COMPLETION_PORT_ON_SUCCESS |
	            FILE_SKIP_SET_EVENT_ON_HANDLE) &&
	    !SetFileCompletionNotificationModes(
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

/* A flush or set-size waiting for (or running on) a pool thread. */
typedef struct iocp_job {
	iocp_port     *port;
	ovio__port_op *op;
} iocp_job;

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
		ok = SetFileInformationByHandle(
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
	iocp_job *job = arg;

	(void) inst;
	iocp_job_run(job->port, job->op);
}

static int
iocp_is_job(const ovio__port_op *op)
{
	return (op->kind == OVIO__PORT_FLUSH || op->kind == OVIO__PORT_SETSIZE);
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
		/* The job lives in the op's private area until it runs. */
		iocp_job *job = (iocp_job *) (void *) op->priv;
		_Static_assert(sizeof(iocp_job) <= sizeof(op->priv),
		    "a job fits in priv");
		job->port = p;
		job->op   = op;
		if (!TrySubmitThreadpoolCallback(iocp_job_cb, job, NULL)) {
			iocp_job_run(p, op); /* no pool: run it here */
		}
		return (0);
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
		if (op->kind == OVIO__PORT_READ &&
		    (e == ERROR_HANDLE_EOF || e == ERROR_BROKEN_PIPE)) {
			op->result = 0; /* end of file */
			iocp_finish(p, op);
			return (0);
		}
		op->status   = ovio__err_from_win32(e);
		op->os_error = (int64_t) e;
		if (op->status == OVIO_OK) {
			op->status = OVIO_EUNKNOWN; /* never report an error as 0 */
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

	op->cancel = 1;
	/* A flush or set-size cannot be stopped: its result follows. */
	if (!iocp_is_job(op)) {
		if (CancelIoEx((HANDLE) op->fd, iocp_ov(op))) {
			outcome = OVIO_CANCEL_REQUESTED;
		} else if ((e = GetLastError()) != ERROR_NOT_FOUND) {
			/* Not asked at all; the I/O finishes by itself. */
			return (ovio__err_from_win32(e) != OVIO_OK
			        ? ovio__err_from_win32(e)
			        : OVIO_EUNKNOWN);
		}
		/* ERROR_NOT_FOUND: finished, its packet is queued. */
	}
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
	if (op->kind == OVIO__PORT_READ &&
	    (st == IOCP_STATUS_END_OF_FILE || st == IOCP_STATUS_PIPE_BROKEN)) {
		op->result = 0; /* end of file */
		return;
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

static int
iocp_dequeue(ovio__port *port, ovio__port_op **ops, int max, int ms)
{
	iocp_port      *p = (iocp_port *) port;
	OVERLAPPED_ENTRY ents[IOCP_BATCH];
	ULONG           room, got = 0, i;
	DWORD           timeout;
	int             n;

	/* The fallback list first; then do not wait if it gave something. */
	n = iocp_drain_list(p, ops, max);
	if (n == max) {
		return (n);
	}
	timeout = n > 0 ? 0 : ms < 0 ? INFINITE : (DWORD) ms;
	room    = max - n < IOCP_BATCH ? (ULONG) (max - n) : IOCP_BATCH;
	if (!GetQueuedCompletionStatusEx(
	        p->iocp, ents, room, &got, timeout, FALSE)) {
		return (n); /* WAIT_TIMEOUT (or the port is gone) */
	}
	for (i = 0; i < got; i++) {
		ovio__port_op *op;

		if (ents[i].lpCompletionKey == IOCP_KEY_WAKE ||
		    ents[i].lpOverlapped == NULL) {
			continue;
		}
		op = iocp_op(ents[i].lpOverlapped);
		if (ents[i].lpCompletionKey == IOCP_KEY_IO) {
			iocp_from_packet(op, &ents[i]);
		}
		ops[n++] = op;
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
