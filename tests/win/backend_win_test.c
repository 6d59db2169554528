/*
 * backend_win_test.c - the completion-port contract (service/port/port.h) on
 * the IOCP backend, against real files and named pipes, run under Wine (or on
 * Windows).  Under Wine overlapped I/O on regular files always finishes
 * synchronously, so pending I/O and cancellation use a named pipe whose
 * client end never writes: a read on the server end stays pending.
 *
 * No fork() on Windows: the suite runs in CK_NOFORK mode, so check's own
 * timeouts do not apply; tests/win/run.sh wraps the program in timeout(1).
 * A crash exits with status 3 (unhandled-exception filter), never 0.
 *
 * One case alone: CK_RUN_CASE=name backend_win_test.exe
 */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "fs.h"
#include "port.h"

static char        dir[MAX_PATH];
static ovio__port *port;
static unsigned    pipe_seq;

static LONG WINAPI
crash_filter(EXCEPTION_POINTERS *ep)
{
	fprintf(stderr, "backend_win_test: unhandled exception 0x%08lx\n",
	    (unsigned long) ep->ExceptionRecord->ExceptionCode);
	fflush(stderr);
	ExitProcess(3);
	return (EXCEPTION_EXECUTE_HANDLER);
}

static int64_t
now_ms(void)
{
	return ((int64_t) GetTickCount64());
}

static void
setup(void)
{
	char tmp[MAX_PATH];

	ck_assert_uint_ne(GetTempPathA(sizeof(tmp), tmp), 0);
	snprintf(dir, sizeof(dir), "%sovio-bw-%lu-%lu", tmp,
	    (unsigned long) GetCurrentProcessId(), (unsigned long) now_ms());
	ck_assert_msg(CreateDirectoryA(dir, NULL), "mkdir %s: %lu", dir,
	    (unsigned long) GetLastError());
	ck_assert_int_eq(ovio__port_open(&port, "iocp", 0, NULL), 0);
	ck_assert_str_eq(ovio__port_name(port), "iocp");
}

static void
teardown(void)
{
	WIN32_FIND_DATAA fd;
	HANDLE           f;
	char             path[MAX_PATH * 2];

	if (port != NULL) {
		ovio__port_close(port);
		port = NULL;
	}
	snprintf(path, sizeof(path), "%s\\*", dir);
	if ((f = FindFirstFileA(path, &fd)) != INVALID_HANDLE_VALUE) {
		do {
			snprintf(
			    path, sizeof(path), "%s\\%s", dir, fd.cFileName);
			DeleteFileA(path);
		} while (FindNextFileA(f, &fd));
		FindClose(f);
	}
	RemoveDirectoryA(dir);
}

/* A file with content, opened overlapped with access and bound to port. */
static HANDLE
file_with(const char *name, const char *content, DWORD access)
{
	char   path[MAX_PATH * 2];
	FILE  *f;
	HANDLE h;

	snprintf(path, sizeof(path), "%s\\%s", dir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "wb"));
	if (content != NULL) {
		ck_assert_uint_eq(
		    fwrite(content, 1, strlen(content), f), strlen(content));
	}
	fclose(f);
	h = CreateFileA(path, access,
	    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
	    OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
	ck_assert_msg(h != INVALID_HANDLE_VALUE, "open %s: %lu", path,
	    (unsigned long) GetLastError());
	ck_assert_int_eq(ovio__port_associate(port, (ovio__fd) h), 0);
	return (h);
}

static void
file_content(const char *name, char *buf, size_t len)
{
	char  path[MAX_PATH * 2];
	FILE *f;

	snprintf(path, sizeof(path), "%s\\%s", dir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "rb"));
	ck_assert_uint_eq(fread(buf, 1, len, f), len);
	fclose(f);
}

/*
 * A named pipe: *srv is the overlapped server end, bound to the port;
 * *cli the synchronous client end, which writes only when a test says so.
 */
static void
pipe_pair(HANDLE *srv, HANDLE *cli)
{
	char name[128];

	snprintf(name, sizeof(name), "\\\\.\\pipe\\ovio-bw-%lu-%u",
	    (unsigned long) GetCurrentProcessId(), ++pipe_seq);
	*srv = CreateNamedPipeA(name, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
	    PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT, 1, 4096, 4096, 0,
	    NULL);
	ck_assert_msg(*srv != INVALID_HANDLE_VALUE, "CreateNamedPipe: %lu",
	    (unsigned long) GetLastError());
	*cli = CreateFileA(name, GENERIC_READ | GENERIC_WRITE, 0, NULL,
	    OPEN_EXISTING, 0, NULL);
	ck_assert_msg(*cli != INVALID_HANDLE_VALUE, "open pipe: %lu",
	    (unsigned long) GetLastError());
	ck_assert_int_eq(ovio__port_associate(port, (ovio__fd) *srv), 0);
}

/* As pipe_pair, in message mode (PIPE_TYPE_MESSAGE, read as messages). */
static void
msg_pipe_pair(HANDLE *srv, HANDLE *cli)
{
	char  name[128];
	DWORD mode = PIPE_READMODE_MESSAGE;

	snprintf(name, sizeof(name), "\\\\.\\pipe\\ovio-bwm-%lu-%u",
	    (unsigned long) GetCurrentProcessId(), ++pipe_seq);
	*srv = CreateNamedPipeA(name, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
	    PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT, 1, 4096,
	    4096, 0, NULL);
	ck_assert_msg(*srv != INVALID_HANDLE_VALUE, "CreateNamedPipe: %lu",
	    (unsigned long) GetLastError());
	*cli = CreateFileA(name, GENERIC_READ | GENERIC_WRITE, 0, NULL,
	    OPEN_EXISTING, 0, NULL);
	ck_assert_msg(*cli != INVALID_HANDLE_VALUE, "open pipe: %lu",
	    (unsigned long) GetLastError());
	ck_assert(SetNamedPipeHandleState(*cli, &mode, NULL, NULL));
	ck_assert_int_eq(ovio__port_associate(port, (ovio__fd) *srv), 0);
}

static void
prep(ovio__port_op *op, ovio__port_kind kind, HANDLE h, void *buf, size_t len,
    uint64_t off)
{
	memset(op, 0, sizeof(*op));
	op->kind   = kind;
	op->fd     = (ovio__fd) h;
	op->buf    = buf;
	op->len    = len;
	op->offset = off;
}

/* Dequeues exactly n completions within ms into ops. */
static void
dequeue_n(ovio__port_op **ops, int n, int ms)
{
	int64_t deadline = now_ms() + ms;
	int     got      = 0;

	while (got < n && now_ms() < deadline) {
		got += ovio__port_dequeue(port, ops + got, n - got, 50);
	}
	ck_assert_int_eq(got, n);
}

static ovio__port_op *
one(int ms)
{
	ovio__port_op *op;

	dequeue_n(&op, 1, ms);
	return (op);
}

/* Asserts nothing at all is dequeued within ms: no stray packet. */
static void
none(int ms)
{
	ovio__port_op *ops[4];
	int64_t        deadline = now_ms() + ms;

	while (now_ms() < deadline) {
		ck_assert_int_eq(ovio__port_dequeue(port, ops, 4, 20), 0);
	}
}

START_TEST(read_file)
{
	ovio__port_op op;
	char          buf[64];
	HANDLE h = file_with("r", "hello, overlapped world", GENERIC_READ);

	memset(buf, 0, sizeof(buf));
	prep(&op, OVIO__PORT_READ, h, buf, 5, 7);
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_uint_eq(op.result, 5);
	ck_assert_mem_eq(buf, "overl", 5);
	none(100);
	CloseHandle(h);
}
END_TEST

START_TEST(write_file)
{
	ovio__port_op op;
	char          buf[16];
	HANDLE        h = file_with("w", "0123456789", GENERIC_WRITE);

	prep(&op, OVIO__PORT_WRITE, h, "abc", 3, 4);
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_uint_eq(op.result, 3);
	CloseHandle(h);
	file_content("w", buf, 10);
	ck_assert_mem_eq(buf, "0123abc789", 10);
	none(50);
}
END_TEST

START_TEST(short_read_at_eof)
{
	ovio__port_op op;
	char          buf[64];
	HANDLE        h = file_with("eof", "0123456789", GENERIC_READ);

	prep(&op, OVIO__PORT_READ, h, buf, sizeof(buf), 6);
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_uint_eq(op.result, 4);
	ck_assert_mem_eq(buf, "6789", 4);

	/* At and past the end: ERROR_HANDLE_EOF is a 0-byte success. */
	prep(&op, OVIO__PORT_READ, h, buf, sizeof(buf), 10);
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_uint_eq(op.result, 0);
	prep(&op, OVIO__PORT_READ, h, buf, sizeof(buf), 1u << 20);
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_uint_eq(op.result, 0);
	none(50);
	CloseHandle(h);
}
END_TEST

START_TEST(flush_file)
{
	ovio__port_op op;
	HANDLE        h = file_with("f", "data", GENERIC_READ | GENERIC_WRITE);

	prep(&op, OVIO__PORT_FLUSH, h, NULL, 0, 0);
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_ptr_eq(one(5000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	none(50);
	CloseHandle(h);
}
END_TEST

START_TEST(setsize_file)
{
	ovio__port_op op;
	HANDLE        h = file_with("s", "0123456789", GENERIC_WRITE);
	LARGE_INTEGER sz;

	prep(&op, OVIO__PORT_SETSIZE, h, NULL, 0, 3);
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_ptr_eq(one(5000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert(GetFileSizeEx(h, &sz));
	ck_assert_int_eq(sz.QuadPart, 3);
	none(50);
	CloseHandle(h);
}
END_TEST

/* An immediate failure: an error return, outputs set, and no packet. */
START_TEST(immediate_failure)
{
	ovio__port_op op;
	char          buf[8];
	HANDLE        h = file_with("wo", "data", GENERIC_WRITE);

	prep(&op, OVIO__PORT_READ, h, buf, sizeof(buf), 0);
	ck_assert_int_eq(ovio__port_submit(port, &op), OVIO_EACCES);
	ck_assert_int_eq(op.status, OVIO_EACCES);
	ck_assert_int_eq(op.os_error, ERROR_ACCESS_DENIED);
	none(200);
	CloseHandle(h);
}
END_TEST

START_TEST(failed_submit_seam)
{
	ovio__port_op op;
	char          buf[8];
	HANDLE        h = file_with("seam", "data", GENERIC_READ);

	ovio__port_fail_submits(port, 1);
	prep(&op, OVIO__PORT_READ, h, buf, sizeof(buf), 0);
	ck_assert_int_eq(ovio__port_submit(port, &op), OVIO_EIO);
	none(100);
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_uint_eq(op.result, 4);
	CloseHandle(h);
}
END_TEST

START_TEST(pipe_read_pending_then_data)
{
	ovio__port_op op;
	char          buf[16];
	HANDLE        srv, cli;
	DWORD         n;

	pipe_pair(&srv, &cli);
	prep(&op, OVIO__PORT_READ, srv, buf, sizeof(buf), 0);
	op.stream = 1;
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	none(200); /* pending: the client has not written */
	ck_assert(WriteFile(cli, "ping", 4, &n, NULL));
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_uint_eq(op.result, 4);
	ck_assert_mem_eq(buf, "ping", 4);
	none(50);
	CloseHandle(cli);
	CloseHandle(srv);
}
END_TEST

/*
 * Data already there: ReadFile / WriteFile succeed synchronously, the
 * kernel queues no packet (FILE_SKIP_COMPLETION_PORT_ON_SUCCESS), and the
 * port posts exactly one itself.  (Under Wine, unlike Windows, reads and
 * writes on regular files always go through ERROR_IO_PENDING, so pipes are
 * what exercises this path.)
 */
START_TEST(pipe_sync_success_once)
{
	ovio__port_op op;
	char          buf[16];
	HANDLE        srv, cli;
	DWORD         n;

	pipe_pair(&srv, &cli);
	ck_assert(WriteFile(cli, "hello", 5, &n, NULL));
	prep(&op, OVIO__PORT_READ, srv, buf, 4, 0);
	op.stream = 1;
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_uint_eq(op.result, 4);
	ck_assert_mem_eq(buf, "hell", 4);
	none(200);

	prep(&op, OVIO__PORT_WRITE, srv, "abc", 3, 0);
	op.stream = 1;
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_uint_eq(op.result, 3);
	ck_assert(ReadFile(cli, buf, 3, &n, NULL));
	ck_assert_mem_eq(buf, "abc", 3);
	none(200);
	CloseHandle(cli);
	CloseHandle(srv);
}
END_TEST

/* The writer closed its end: end of file, 0 bytes (sync and pending). */
START_TEST(pipe_eof_when_writer_closes)
{
	ovio__port_op op;
	char          buf[16];
	HANDLE        srv, cli;

	pipe_pair(&srv, &cli);
	prep(&op, OVIO__PORT_READ, srv, buf, sizeof(buf), 0);
	op.stream = 1;
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	none(100);
	CloseHandle(cli);
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_uint_eq(op.result, 0);

	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_uint_eq(op.result, 0);
	none(50);
	CloseHandle(srv);
}
END_TEST

START_TEST(cancel_pending_pipe_read)
{
	ovio__port_op op, report;
	char          buf[16];
	HANDLE        srv, cli;

	pipe_pair(&srv, &cli);
	prep(&op, OVIO__PORT_READ, srv, buf, sizeof(buf), 0);
	op.stream = 1;
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	none(200);
	memset(&report, 0, sizeof(report));
	ck_assert_int_eq(ovio__port_cancel(port, &op, &report), 0);

	/* Two completions: the op (ECANCELED) and the cancel's report. */
	ovio__port_op *got[2];
	dequeue_n(got, 2, 2000);
	ck_assert(got[0] != got[1]);
	ck_assert(got[0] == &op || got[1] == &op);
	ck_assert(got[0] == &report || got[1] == &report);
	ck_assert_int_eq(op.status, OVIO_ECANCELED);
	ck_assert_int_eq(op.os_error, 0xC0000120L); /* STATUS_CANCELLED */
	ck_assert_uint_eq(op.result, 0);
	ck_assert_int_eq(report.kind, OVIO__PORT_CANCEL);
	ck_assert_int_eq(report.status, OVIO_OK);
	ck_assert_uint_eq(report.result, OVIO_CANCEL_REQUESTED);
	none(200);
	CloseHandle(cli);
	CloseHandle(srv);
}
END_TEST

/* The I/O finished before the cancel: its real result, exactly once. */
START_TEST(cancel_after_completion)
{
	ovio__port_op op, report;
	char          buf[16];
	HANDLE        srv, cli, h;
	DWORD         n;
	int64_t       deadline;

	/* A pending pipe read whose data arrives before the cancel. */
	pipe_pair(&srv, &cli);
	prep(&op, OVIO__PORT_READ, srv, buf, sizeof(buf), 0);
	op.stream = 1;
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert(WriteFile(cli, "data", 4, &n, NULL));
	deadline = now_ms() + 2000;
	while (!HasOverlappedIoCompleted((OVERLAPPED *) (void *) op.os)
	       && now_ms() < deadline) {
		Sleep(5);
	}
	memset(&report, 0, sizeof(report));
	ck_assert_int_eq(ovio__port_cancel(port, &op, &report), 0);
	ovio__port_op *got[2];
	dequeue_n(got, 2, 2000);
	ck_assert(got[0] == &op || got[1] == &op);
	ck_assert(got[0] == &report || got[1] == &report);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_uint_eq(op.result, 4);
	ck_assert_uint_eq(report.result, OVIO_CANCEL_TOO_LATE);
	none(100);

	/* A synchronous success whose packet the port posted itself. */
	ck_assert(WriteFile(cli, "abcdef", 6, &n, NULL));
	prep(&op, OVIO__PORT_READ, srv, buf, 3, 0);
	op.stream = 1;
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	memset(&report, 0, sizeof(report));
	ck_assert_int_eq(ovio__port_cancel(port, &op, &report), 0);
	dequeue_n(got, 2, 2000);
	ck_assert(got[0] == &op || got[1] == &op);
	ck_assert(got[0] == &report || got[1] == &report);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_uint_eq(op.result, 3);
	ck_assert_mem_eq(buf, "abc", 3);
	ck_assert_uint_eq(report.result, OVIO_CANCEL_TOO_LATE);
	none(100);

	/* And a file read (pending under Wine, synchronous on Windows). */
	h = file_with("c", "abcdef", GENERIC_READ);
	prep(&op, OVIO__PORT_READ, h, buf, 3, 1);
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_int_eq(ovio__port_cancel(port, &op, NULL), 0);
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_uint_eq(op.result, 3);
	ck_assert_mem_eq(buf, "bcd", 3);
	none(100);
	CloseHandle(h);
	CloseHandle(cli);
	CloseHandle(srv);
}
END_TEST

/*
 * Closing a handle with reads pending: as the engine does it, cancel all,
 * wait for every completion, then close.  (Closing first is never relied
 * on: Windows would leave the reads pending.)
 */
START_TEST(close_with_reads_pending)
{
	ovio__port_op op[3], *got[3];
	char          buf[3][16];
	HANDLE        srv, cli;
	int           i, seen[3] = { 0, 0, 0 };

	pipe_pair(&srv, &cli);
	for (i = 0; i < 3; i++) {
		prep(&op[i], OVIO__PORT_READ, srv, buf[i], sizeof(buf[i]), 0);
		op[i].stream = 1;
		ck_assert_int_eq(ovio__port_submit(port, &op[i]), 0);
	}
	none(200);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(ovio__port_cancel(port, &op[i], NULL), 0);
	}
	dequeue_n(got, 3, 3000);
	for (i = 0; i < 3; i++) {
		int k = (int) (got[i] - op);
		ck_assert(k >= 0 && k < 3);
		ck_assert_int_eq(seen[k], 0);
		seen[k] = 1;
		ck_assert_int_eq(got[i]->status, OVIO_ECANCELED);
	}
	CloseHandle(srv);
	CloseHandle(cli);
	none(200);
}
END_TEST

/*
 * Every outcome at once: synchronous successes, end of file, immediate
 * failures, pending reads completed by data, pending reads cancelled,
 * flushes.  Each submit that returned 0 completes exactly once; nothing
 * else is ever dequeued.
 */
#define MIX 70
START_TEST(each_outcome_exactly_once)
{
	static ovio__port_op op[MIX];
	static char          buf[MIX][16];
	ovio__port_op       *got[MIX];
	HANDLE               rd = file_with("m", "0123456789", GENERIC_READ);
	HANDLE               wo = file_with("mw", "x", GENERIC_WRITE);
	HANDLE               srv[3], cli[3];
	int                  i, ok = 0, failed = 0, seen[MIX], pend = 0;
	DWORD                n;

	memset(seen, 0, sizeof(seen));
	pipe_pair(&srv[0], &cli[0]); /* reads here get data */
	pipe_pair(&srv[1], &cli[1]); /* reads here get cancelled */
	pipe_pair(&srv[2], &cli[2]); /* data ready: synchronous success */
	ck_assert(WriteFile(cli[2], "yyyyyyyyyy", MIX / 7, &n, NULL));
	for (i = 0; i < MIX; i++) {
		switch (i % 7) {
		case 0: /* synchronous success */
			prep(&op[i], OVIO__PORT_READ, rd, buf[i], 4, 2);
			break;
		case 1: /* end of file */
			prep(&op[i], OVIO__PORT_READ, rd, buf[i], 4, 50);
			break;
		case 2: /* immediate failure */
			prep(&op[i], OVIO__PORT_READ, wo, buf[i], 4, 0);
			break;
		case 3: /* pending, then data */
			prep(&op[i], OVIO__PORT_READ, srv[0], buf[i], 1, 0);
			op[i].stream = 1;
			pend++;
			break;
		case 4: /* pending, then cancelled */
			prep(&op[i], OVIO__PORT_READ, srv[1], buf[i], 1, 0);
			op[i].stream = 1;
			break;
		case 5: /* thread-pool flush */
			prep(&op[i], OVIO__PORT_FLUSH, wo, NULL, 0, 0);
			break;
		default: /* synchronous success, packet posted by the port */
			prep(&op[i], OVIO__PORT_READ, srv[2], buf[i], 1, 0);
			op[i].stream = 1;
			break;
		}
		if (ovio__port_submit(port, &op[i]) == 0) {
			ok++;
		} else {
			failed++;
			seen[i] = -1;
			ck_assert_int_eq(i % 7, 2);
		}
	}
	ck_assert_int_eq(failed, MIX / 7);
	for (i = 0; i < pend; i++) {
		ck_assert(WriteFile(cli[0], "z", 1, &n, NULL));
	}
	for (i = 4; i < MIX; i += 7) {
		ck_assert_int_eq(ovio__port_cancel(port, &op[i], NULL), 0);
	}
	dequeue_n(got, ok, 5000);
	for (i = 0; i < ok; i++) {
		int k = (int) (got[i] - op);
		ck_assert(k >= 0 && k < MIX);
		ck_assert_int_eq(seen[k], 0);
		seen[k] = 1;
		switch (k % 7) {
		case 0:
			ck_assert_int_eq(got[i]->status, OVIO_OK);
			ck_assert_uint_eq(got[i]->result, 4);
			ck_assert_mem_eq(buf[k], "2345", 4);
			break;
		case 1:
			ck_assert_int_eq(got[i]->status, OVIO_OK);
			ck_assert_uint_eq(got[i]->result, 0);
			break;
		case 3:
			ck_assert_int_eq(got[i]->status, OVIO_OK);
			ck_assert_uint_eq(got[i]->result, 1);
			break;
		case 4:
			ck_assert_int_eq(got[i]->status, OVIO_ECANCELED);
			break;
		case 5:
			ck_assert_int_eq(got[i]->status, OVIO_OK);
			break;
		case 6:
			ck_assert_int_eq(got[i]->status, OVIO_OK);
			ck_assert_uint_eq(got[i]->result, 1);
			ck_assert_int_eq(buf[k][0], 'y');
			break;
		}
	}
	none(300);
	for (i = 0; i < 3; i++) {
		CloseHandle(cli[i]);
		CloseHandle(srv[i]);
	}
	CloseHandle(rd);
	CloseHandle(wo);
}
END_TEST

static DWORD WINAPI
dequeue_forever(void *arg)
{
	ovio__port_op *ops[4];

	*(int *) arg = ovio__port_dequeue(port, ops, 4, -1);
	return (0);
}

START_TEST(wake_blocked_dequeue)
{
	HANDLE t;
	int    n = -1;

	ck_assert_ptr_nonnull(
	    t = CreateThread(NULL, 0, dequeue_forever, &n, 0, NULL));
	Sleep(100);
	ck_assert_uint_eq(WaitForSingleObject(t, 0), WAIT_TIMEOUT);
	ovio__port_wake(port);
	ck_assert_uint_eq(WaitForSingleObject(t, 5000), WAIT_OBJECT_0);
	ck_assert_int_eq(n, 0);
	CloseHandle(t);
	none(100);
}
END_TEST

/* The service's own read on a bound handle never reaches the port. */
typedef struct delayed_write {
	HANDLE h;
	int    ms;
} delayed_write;

static DWORD WINAPI
write_later(void *arg)
{
	delayed_write *w = arg;
	DWORD          n;

	Sleep((DWORD) w->ms);
	WriteFile(w->h, "late", 4, &n, NULL);
	return (0);
}

START_TEST(sync_read_no_packet)
{
	HANDLE        h = file_with("sync", "0123456789", GENERIC_READ);
	HANDLE        srv, cli, t;
	delayed_write w;
	char          buf[16];
	size_t        got   = 0;
	int64_t       oserr = 0, t0;

	/* A file (finishes at once under Wine). */
	ck_assert_int_eq(
	    ovio__fs_pread_sync((ovio__fd) h, buf, 4, 3, 0, &got, &oserr), 0);
	ck_assert_uint_eq(got, 4);
	ck_assert_mem_eq(buf, "3456", 4);
	ck_assert_int_eq(
	    ovio__fs_pread_sync((ovio__fd) h, buf, 4, 99, 0, &got, &oserr), 0);
	ck_assert_uint_eq(got, 0);
	none(200);

	/* A pipe: the read is pending until the data comes, then waited for
	 * with GetOverlappedResult, and still no packet. */
	pipe_pair(&srv, &cli);
	w.h  = cli;
	w.ms = 200;
	ck_assert_ptr_nonnull(
	    t = CreateThread(NULL, 0, write_later, &w, 0, NULL));
	t0 = now_ms();
	ck_assert_int_eq(ovio__fs_pread_sync((ovio__fd) srv, buf, sizeof(buf),
	                     0, 1, &got, &oserr),
	    0);
	ck_assert_int_ge(now_ms() - t0, 100);
	ck_assert_uint_eq(got, 4);
	ck_assert_mem_eq(buf, "late", 4);
	WaitForSingleObject(t, 5000);
	CloseHandle(t);
	none(300);
	CloseHandle(cli);
	CloseHandle(srv);
	CloseHandle(h);
}
END_TEST

/*
 * A message longer than the read: STATUS_BUFFER_OVERFLOW / ERROR_MORE_DATA
 * is data.  The read completes exactly once, OK, with the first part; the
 * next read gets the rest.  Pending before the message arrives (the packet
 * carries the warning), and with the message already there (ReadFile
 * returns FALSE, ERROR_MORE_DATA, at once).
 */
static void
read_rest(HANDLE srv, const char *want)
{
	ovio__port_op op;
	char          buf[16];

	memset(buf, 0, sizeof(buf));
	prep(&op, OVIO__PORT_READ, srv, buf, sizeof(buf), 0);
	op.stream = 1;
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_uint_eq(op.result, strlen(want));
	ck_assert_mem_eq(buf, want, strlen(want));
	none(200);
}

START_TEST(msg_pipe_more_data_pending)
{
	ovio__port_op op;
	char          buf[4];
	HANDLE        srv, cli;
	DWORD         n;

	msg_pipe_pair(&srv, &cli);
	prep(&op, OVIO__PORT_READ, srv, buf, sizeof(buf), 0);
	op.stream = 1;
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	none(200);
	ck_assert(WriteFile(cli, "abcdefgh", 8, &n, NULL));
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_int_eq(op.os_error, 0);
	ck_assert_uint_eq(op.result, 4);
	ck_assert_mem_eq(buf, "abcd", 4);
	none(300); /* exactly once */
	read_rest(srv, "efgh");
	CloseHandle(cli);
	CloseHandle(srv);
}
END_TEST

START_TEST(msg_pipe_more_data_sync)
{
	ovio__port_op op;
	char          buf[4];
	HANDLE        srv, cli;
	DWORD         n;

	msg_pipe_pair(&srv, &cli);
	ck_assert(WriteFile(cli, "abcdefgh", 8, &n, NULL));
	ck_assert(WriteFile(cli, "xy", 2, &n, NULL));
	prep(&op, OVIO__PORT_READ, srv, buf, sizeof(buf), 0);
	op.stream = 1;
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_uint_eq(op.result, 4);
	ck_assert_mem_eq(buf, "abcd", 4);
	none(300); /* exactly once: no second packet */
	read_rest(srv, "efgh");
	read_rest(srv, "xy"); /* the next message, whole */
	CloseHandle(cli);
	CloseHandle(srv);
}
END_TEST

/* The service's own synchronous read: ERROR_MORE_DATA is data too. */
START_TEST(msg_pipe_more_data_pread_sync)
{
	HANDLE  srv, cli;
	DWORD   n;
	char    buf[4];
	size_t  got   = 0;
	int64_t oserr = 0;

	msg_pipe_pair(&srv, &cli);
	ck_assert(WriteFile(cli, "abcdefgh", 8, &n, NULL));
	ck_assert_int_eq(ovio__fs_pread_sync((ovio__fd) srv, buf, sizeof(buf),
	                     0, 1, &got, &oserr),
	    0);
	ck_assert_uint_eq(got, 4);
	ck_assert_mem_eq(buf, "abcd", 4);
	none(200);
	read_rest(srv, "efgh");
	CloseHandle(cli);
	CloseHandle(srv);
}
END_TEST

/*
 * A flush or set-size still queued on the pool is cancelled for sure: the
 * report says DONE at once; the op completes ECANCELED exactly once when
 * its pool thread comes, without doing the I/O (the size is unchanged).
 * Asking again before the op is dequeued (as the engine's timer does) is
 * harmless.
 */
START_TEST(job_cancelled_while_queued)
{
	ovio__port_op op[2], report[2], *got[2];
	HANDLE h = file_with("j", "0123456789", GENERIC_READ | GENERIC_WRITE);
	LARGE_INTEGER sz;
	int           i;

	ovio__port_hold_jobs(1);
	prep(&op[0], OVIO__PORT_FLUSH, h, NULL, 0, 0);
	prep(&op[1], OVIO__PORT_SETSIZE, h, NULL, 0, 3);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(ovio__port_submit(port, &op[i]), 0);
	}
	for (i = 0; i < 2; i++) {
		memset(&report[i], 0, sizeof(report[i]));
		ck_assert_int_eq(
		    ovio__port_cancel(port, &op[i], &report[i]), 0);
		ck_assert_int_eq(ovio__port_cancel(port, &op[i], NULL), 0);
	}
	/* The two reports, DONE; the ops wait for their (held) threads. */
	dequeue_n(got, 2, 2000);
	for (i = 0; i < 2; i++) {
		ck_assert(got[i] == &report[0] || got[i] == &report[1]);
		ck_assert_uint_eq(got[i]->result, OVIO_CANCEL_DONE);
	}
	none(200);
	ck_assert_int_eq(ovio__port_cancel(port, &op[0], &report[0]), 0);
	ck_assert_ptr_eq(one(2000), &report[0]);
	ck_assert_uint_eq(report[0].result, OVIO_CANCEL_DONE);
	ovio__port_hold_jobs(0);
	dequeue_n(got, 2, 5000);
	ck_assert(got[0] != got[1]);
	for (i = 0; i < 2; i++) {
		ck_assert(got[i] == &op[0] || got[i] == &op[1]);
		ck_assert_int_eq(got[i]->status, OVIO_ECANCELED);
		ck_assert_uint_eq(got[i]->result, 0);
	}
	none(300); /* exactly once */
	ck_assert(GetFileSizeEx(h, &sz));
	ck_assert_int_eq(sz.QuadPart, 10);

	/* Once it has run, a cancel is too late: the real result, once. */
	prep(&op[0], OVIO__PORT_SETSIZE, h, NULL, 0, 4);
	ck_assert_int_eq(ovio__port_submit(port, &op[0]), 0);
	Sleep(300);
	memset(&report[0], 0, sizeof(report[0]));
	(void) ovio__port_cancel(port, &op[0], &report[0]);
	dequeue_n(got, 2, 5000);
	ck_assert_int_eq(op[0].status, OVIO_OK);
	ck_assert_uint_eq(report[0].result, OVIO_CANCEL_TOO_LATE);
	ck_assert(GetFileSizeEx(h, &sz));
	ck_assert_int_eq(sz.QuadPart, 4);
	none(200);
	CloseHandle(h);
}
END_TEST

/*
 * A flush on a pipe completes at once: FlushFileBuffers there would wait
 * until the reader has read everything, and this reader never reads.
 */
START_TEST(flush_pipe_never_waits)
{
	ovio__port_op op;
	HANDLE        srv, cli;
	int64_t       t0;

	pipe_pair(&srv, &cli);
	prep(&op, OVIO__PORT_WRITE, srv, "unread", 6, 0);
	op.stream = 1;
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_ptr_eq(one(2000), &op);
	prep(&op, OVIO__PORT_FLUSH, srv, NULL, 0, 0);
	op.stream = 1;
	t0        = now_ms();
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_int_lt(now_ms() - t0, 1000);
	none(100);
	CloseHandle(cli);
	CloseHandle(srv);
}
END_TEST

/* A failing GetQueuedCompletionStatusEx: dequeue backs off, never spins. */
START_TEST(dequeue_failure_backs_off)
{
	ovio__port_op *ops[4];
	int64_t        t0;
	int            i;

	ovio__port_fail_dequeues(port, 5);
	t0 = now_ms();
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(ovio__port_dequeue(port, ops, 4, -1), 0);
	}
	/* 100 ms each (the back-off), not an instant return. */
	ck_assert_int_ge(now_ms() - t0, 400);
	ovio__port_fail_dequeues(port, 1);
	t0 = now_ms();
	ck_assert_int_eq(ovio__port_dequeue(port, ops, 4, 30), 0);
	ck_assert_int_ge(now_ms() - t0, 10); /* GetTickCount64 steps ~16 ms */
	none(100);                           /* and it works again */
}
END_TEST

/* CancelIoEx failing other than ERROR_NOT_FOUND: an error, no report. */
START_TEST(cancel_failure_is_an_error)
{
	ovio__port_op op, report;
	HANDLE        srv, cli;
	int           rv;

	pipe_pair(&srv, &cli);
	prep(&op, OVIO__PORT_READ, (HANDLE) (intptr_t) 0x7ff0, NULL, 1, 0);
	memset(&report, 0, sizeof(report));
	rv = ovio__port_cancel(port, &op, &report);
	ck_assert_int_ne(rv, 0);
	ck_assert_int_ne(rv, OVIO_EBUSY);
	none(200);
	CloseHandle(cli);
	CloseHandle(srv);
}
END_TEST

static Suite *
backend_win_suite(void)
{
	Suite *s  = suite_create("backend_win");
	TCase *tc = tcase_create("iocp");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, read_file);
	tcase_add_test(tc, write_file);
	tcase_add_test(tc, short_read_at_eof);
	tcase_add_test(tc, flush_file);
	tcase_add_test(tc, setsize_file);
	tcase_add_test(tc, immediate_failure);
	tcase_add_test(tc, failed_submit_seam);
	tcase_add_test(tc, pipe_read_pending_then_data);
	tcase_add_test(tc, pipe_sync_success_once);
	tcase_add_test(tc, pipe_eof_when_writer_closes);
	tcase_add_test(tc, cancel_pending_pipe_read);
	tcase_add_test(tc, cancel_after_completion);
	tcase_add_test(tc, close_with_reads_pending);
	tcase_add_test(tc, each_outcome_exactly_once);
	tcase_add_test(tc, wake_blocked_dequeue);
	tcase_add_test(tc, sync_read_no_packet);
	tcase_add_test(tc, msg_pipe_more_data_pending);
	tcase_add_test(tc, msg_pipe_more_data_sync);
	tcase_add_test(tc, msg_pipe_more_data_pread_sync);
	tcase_add_test(tc, job_cancelled_while_queued);
	tcase_add_test(tc, flush_pipe_never_waits);
	tcase_add_test(tc, dequeue_failure_backs_off);
	tcase_add_test(tc, cancel_failure_is_an_error);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr;
	int      failed;

	SetUnhandledExceptionFilter(crash_filter);
	setvbuf(stdout, NULL, _IONBF, 0);
	sr = srunner_create(backend_win_suite());
	srunner_set_fork_status(sr, CK_NOFORK); /* no fork() on Windows */
	srunner_run_all(sr, CK_VERBOSE);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
