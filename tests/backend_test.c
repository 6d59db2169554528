/*
 * backend_test.c - the completion-port contract (service/port/port.h), run on
 * every Linux backend against real files and FIFOs.  Each case loops over
 * the backends; io_uring skips with a message where the kernel or container
 * refuses it.  io_uring runs twice: as for any file, and with nowait set
 * on regular files' ops (as the engine sets it on ext4, xfs, btrfs and
 * tmpfs: the kernel may then complete them inside the submit).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "port.h"
#include "testutil.h"

static const char *backends[] = { "uring", "threads", "uring" };
static const int   nowaits[]  = { 0, 0, 1 };
#define NBACKENDS 3

static char        dir[256];
static ovio__port *port;
static int         nowait; /* this loop's: set on regular files' ops */

/* Opens the backend of loop index i, or returns false to skip. */
static bool
open_port(int i)
{
	const char *why = NULL;
	int         rv;

	if (strcmp(backends[i], "uring") == 0 && !tu_have_uring()) {
		tu_skip("backend uring: io_uring is unavailable here");
		return (false);
	}
	nowait = nowaits[i];
	rv     = ovio__port_open(&port, backends[i], 4, &why);
	ck_assert_msg(rv == 0, "%s: %s", backends[i], why);
	ck_assert_str_eq(ovio__port_name(port), backends[i]);
	return (true);
}

static void
setup(void)
{
	tu_tmpdir(dir, sizeof(dir));
	port = NULL;
}

static void
teardown(void)
{
	if (port != NULL) {
		ovio__port_close(port);
	}
	tu_rmtree(dir);
}

static int
file_with(const char *name, const char *content, int flags)
{
	char path[512];
	int  fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	if (content != NULL) {
		ck_assert_int_eq(write(fd, content, strlen(content)),
		    (ssize_t) strlen(content));
	}
	if (flags != 0) {
		close(fd);
		fd = open(path, flags);
		ck_assert_int_ge(fd, 0);
	}
	return (fd);
}

static void
prep(ovio__port_op *op, ovio__port_kind kind, int fd, void *buf, size_t len,
    uint64_t off)
{
	struct stat st;

	memset(op, 0, sizeof(*op));
	op->kind   = kind;
	op->fd     = fd;
	op->buf    = buf;
	op->len    = len;
	op->offset = off;
	op->nowait = nowait && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

/* Dequeues exactly one completion within ms and returns it. */
static ovio__port_op *
one(int ms)
{
	ovio__port_op *ops[4];
	int64_t        deadline = tu_now_ms() + ms;
	int            n        = 0;

	while (n == 0 && tu_now_ms() < deadline) {
		n = ovio__port_dequeue(port, ops, 1, 50);
	}
	ck_assert_int_eq(n, 1);
	return (ops[0]);
}

/* Asserts nothing completes within ms. */
static void
none(int ms)
{
	ovio__port_op *ops[4];
	int64_t        deadline = tu_now_ms() + ms;

	while (tu_now_ms() < deadline) {
		ck_assert_int_eq(ovio__port_dequeue(port, ops, 4, 20), 0);
	}
}

START_TEST(read_file)
{
	ovio__port_op op;
	char          buf[64];
	int           fd;

	if (!open_port(_i)) {
		return;
	}
	fd = file_with("r", "hello, overlapped world", O_RDONLY);
	memset(buf, 0, sizeof(buf));
	prep(&op, OVIO__PORT_READ, fd, buf, 5, 7);
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_uint_eq(op.result, 5);
	ck_assert_mem_eq(buf, "overl", 5);
	none(50);
	close(fd);
}
END_TEST

START_TEST(write_file)
{
	ovio__port_op op;
	char          buf[32];
	int           fd;

	if (!open_port(_i)) {
		return;
	}
	fd = file_with("w", "0123456789", 0);
	prep(&op, OVIO__PORT_WRITE, fd, "abc", 3, 4);
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_uint_eq(op.result, 3);
	ck_assert_int_eq(pread(fd, buf, 10, 0), 10);
	ck_assert_mem_eq(buf, "0123abc789", 10);
	close(fd);
}
END_TEST

START_TEST(short_read_at_eof)
{
	ovio__port_op op;
	char          buf[64];
	int           fd;

	if (!open_port(_i)) {
		return;
	}
	fd = file_with("eof", "0123456789", O_RDONLY);
	prep(&op, OVIO__PORT_READ, fd, buf, sizeof(buf), 6);
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_uint_eq(op.result, 4);
	ck_assert_mem_eq(buf, "6789", 4);

	prep(&op, OVIO__PORT_READ, fd, buf, sizeof(buf), 100);
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_uint_eq(op.result, 0);
	close(fd);
}
END_TEST

/*
 * Reads whose first pages are in the page cache and the rest not: each
 * comes back whole (a short read of a regular file is its end to every
 * client).  The try at once (nowait_linux.c) may stop at the first page
 * it does not have; the port must get the rest before it answers.
 */
START_TEST(read_across_uncached_pages_is_whole)
{
	static uint8_t data[512 * 1024], buf[64 * 1024], tmp[64 * 1024];
	ovio__port_op  op;
	char           path[512];
	unsigned       seed = 5, round;
	size_t         i, cached, off;
	int            fd, rfd;

	if (!open_port(_i)) {
		return;
	}
	for (i = 0; i < sizeof(data); i++) {
		data[i] = (uint8_t) rand_r(&seed);
	}
	snprintf(path, sizeof(path), "%s/cold", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, sizeof(data)), (ssize_t) sizeof(data));
	ck_assert_int_eq(fsync(fd), 0);
	rfd = open(path, O_RDONLY);
	ck_assert_int_ge(rfd, 0);
	/* No readahead on this descriptor: it caches what it reads only. */
	ck_assert_int_eq(posix_fadvise(rfd, 0, 0, POSIX_FADV_RANDOM), 0);
	for (round = 0; round < 16; round++) {
		cached = 4096 * (1 + round % 15);
		off    = 65536 * (round % 7) + (round % 3) * 100;
		ck_assert_int_eq(
		    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
		ck_assert_int_eq(
		    pread(rfd, tmp, cached, (off_t) off), (ssize_t) cached);
		memset(buf, 0, sizeof(buf));
		prep(&op, OVIO__PORT_READ, fd, buf, sizeof(buf), off);
		/*
		 * Every other round the first try is on this thread
		 * (nowait_linux.c): it ends short at the first uncached
		 * page, and the rest still goes through the port.
		 */
		op.finish_now_ok = round % 2;
		ck_assert_int_eq(ovio__port_submit(port, &op), 0);
		ck_assert_ptr_eq(one(5000), &op);
		ck_assert_int_eq(op.status, OVIO_OK);
		ck_assert_msg(op.result == sizeof(buf),
		    "%s: read at %zu (%zu bytes cached) got %llu of %zu",
		    backends[_i], off, cached, (unsigned long long) op.result,
		    sizeof(buf));
		ck_assert_mem_eq(buf, data + off, sizeof(buf));
	}
	close(rfd);
	close(fd);
}
END_TEST

/*
 * An op the caller lets finish in its submit (finish_now_ok) on a file in
 * the page cache is done there: OVIO__PORT_DONE, its outputs set, and no
 * completion follows.  Without finish_now_ok the same read completes
 * through dequeue; a read at the end of the file is done at once with 0
 * bytes; a write is answered once, whole, one way or the other (buffered
 * writes without waiting depend on the kernel and file system).
 */
START_TEST(done_at_once_from_the_page_cache)
{
	static uint8_t data[64 * 1024], buf[64 * 1024];
	ovio__port_op  op;
	char           path[512];
	unsigned       seed = 9;
	size_t         i;
	int            fd, rv, refused;

	if (!open_port(_i)) {
		return;
	}
	for (i = 0; i < sizeof(data); i++) {
		data[i] = (uint8_t) rand_r(&seed);
	}
	snprintf(path, sizeof(path), "%s/warm", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, sizeof(data)), (ssize_t) sizeof(data));

	for (i = 0; i < 2; i++) { /* the largest tried, and a 4 KiB read */
		size_t len = i == 0 ? sizeof(buf) : 4096;
		memset(buf, 0, sizeof(buf));
		prep(&op, OVIO__PORT_READ, fd, buf, len, 0);
		op.nowait        = 1;
		op.finish_now_ok = 1;
		ck_assert_int_eq(ovio__port_submit(port, &op), OVIO__PORT_DONE);
		ck_assert_int_eq(op.status, OVIO_OK);
		ck_assert_uint_eq(op.result, len);
		ck_assert_mem_eq(buf, data, len);
		none(60);
	}

	/* Past the bound, or not allowed: through the port as ever. */
	prep(&op, OVIO__PORT_READ, fd, buf, 100, 5);
	op.nowait = 1;
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_ptr_eq(one(5000), &op);
	ck_assert_uint_eq(op.result, 100);
	ck_assert_mem_eq(buf, data + 5, 100);

	/* The end of the file is an answer. */
	prep(&op, OVIO__PORT_READ, fd, buf, 100, sizeof(data));
	op.nowait        = 1;
	op.finish_now_ok = 1;
	ck_assert_int_eq(ovio__port_submit(port, &op), OVIO__PORT_DONE);
	ck_assert_uint_eq(op.result, 0);

	/*
	 * A write: whole, answered exactly once either way.  Where this file
	 * system refuses non-blocking buffered writes (the test asks the
	 * kernel itself), the port says so (nowait_refused), so that the
	 * engine stops trying them.
	 */
	{
		struct iovec iov = { .iov_base = data, .iov_len = 4096 };
		refused = pwritev2(fd, &iov, 1, 65536, RWF_NOWAIT) < 0
		          && errno == EOPNOTSUPP;
	}
	prep(&op, OVIO__PORT_WRITE, fd, data + 7, 4096, 65536);
	op.nowait        = 1;
	op.finish_now_ok = 1;
	rv               = ovio__port_submit(port, &op);
	ck_assert_msg(rv == 0 || rv == OVIO__PORT_DONE, "submit: %d", rv);
	ck_assert_int_eq(op.nowait_refused, refused);
	if (refused) {
		ck_assert_int_eq(rv, 0);
	}
	if (rv == 0) {
		ck_assert_ptr_eq(one(5000), &op);
	}
	none(60);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_uint_eq(op.result, 4096);
	ck_assert_int_eq(pread(fd, buf, 4096, 65536), 4096);
	ck_assert_mem_eq(buf, data + 7, 4096);
	close(fd);
}
END_TEST

/*
 * Submits between ovio__port_hold and ovio__port_release: each completes
 * once after the release; io_uring queues them until then (one
 * io_uring_enter for all), the others need not.  A submit the caller lets
 * finish at once is still done at once (no completion follows).
 */
START_TEST(held_submits_go_at_release)
{
	ovio__port_op op[8], *got[8], now;
	char          buf[8][16], nbuf[16];
	int           fd, i, n = 0, k, seen[8] = { 0 };
	int64_t       deadline;

	if (!open_port(_i)) {
		return;
	}
	fd = file_with("held", "0123456789abcdef", O_RDONLY);
	ovio__port_hold(port);
	for (i = 0; i < 8; i++) {
		prep(&op[i], OVIO__PORT_READ, fd, buf[i], 4, (uint64_t) i);
		ck_assert_int_eq(ovio__port_submit(port, &op[i]), 0);
	}
	/* One the caller lets finish at once is done now, held or not. */
	prep(&now, OVIO__PORT_READ, fd, nbuf, 4, 8);
	now.nowait        = 1;
	now.finish_now_ok = 1;
	ck_assert_int_eq(ovio__port_submit(port, &now), OVIO__PORT_DONE);
	ck_assert_uint_eq(now.result, 4);
	ck_assert_mem_eq(nbuf, "89ab", 4);
	if (strcmp(backends[_i], "uring") == 0) {
		none(100); /* queued, not handed to the kernel yet */
	}
	ovio__port_release(port);
	deadline = tu_now_ms() + 5000;
	while (n < 8 && tu_now_ms() < deadline) {
		n += ovio__port_dequeue(port, got + n, 8 - n, 50);
	}
	ck_assert_int_eq(n, 8);
	for (k = 0; k < 8; k++) {
		i = (int) (got[k] - op);
		ck_assert(i >= 0 && i < 8);
		seen[i]++;
		ck_assert_int_eq(op[i].status, OVIO_OK);
		ck_assert_uint_eq(op[i].result, 4);
		ck_assert_mem_eq(buf[i], "0123456789abcdef" + i, 4);
	}
	for (i = 0; i < 8; i++) {
		ck_assert_int_eq(seen[i], 1);
	}
	none(100);
	close(fd);
}
END_TEST

START_TEST(flush_file)
{
	ovio__port_op op;
	int           fd;

	if (!open_port(_i)) {
		return;
	}
	fd = file_with("f", "data", 0);
	prep(&op, OVIO__PORT_FLUSH, fd, NULL, 0, 0);
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_ptr_eq(one(5000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	close(fd);
}
END_TEST

START_TEST(error_is_mapped)
{
	ovio__port_op op;
	char          buf[8];
	int           fd;

	if (!open_port(_i)) {
		return;
	}
	/* Reading a write-only descriptor: EBADF from the kernel. */
	fd = file_with("wo", "data", O_WRONLY);
	prep(&op, OVIO__PORT_READ, fd, buf, sizeof(buf), 0);
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_int_eq(op.status, OVIO_EBADF);
	ck_assert_int_eq(op.os_error, EBADF);
	close(fd);
}
END_TEST

/* A FIFO with a writer that never writes: a read on it stays pending. */
static void
fifo_pair(int *rd, int *wr)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	*rd = open(path, O_RDONLY | O_NONBLOCK);
	ck_assert_int_ge(*rd, 0);
	*wr = open(path, O_WRONLY);
	ck_assert_int_ge(*wr, 0);
	ck_assert_int_eq(fcntl(*rd, F_SETFL, 0), 0);
}

START_TEST(cancel_pending_fifo_read)
{
	ovio__port_op op, rep, *first, *second;
	char          buf[16];
	int           rd, wr;

	if (!open_port(_i)) {
		return;
	}
	fifo_pair(&rd, &wr);
	ck_assert_int_eq(ovio__port_associate(port, rd), 0);
	prep(&op, OVIO__PORT_READ, rd, buf, sizeof(buf), 0);
	op.stream = 1;
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	none(200); /* pending: nobody writes */
	ck_assert_int_eq(ovio__port_cancel(port, &op, &rep), 0);
	first  = one(2000);
	second = one(2000);
	/* Both the op and the report complete, in either order. */
	ck_assert(first != second);
	ck_assert(first == &op || first == &rep);
	ck_assert(second == &op || second == &rep);
	ck_assert_int_eq(op.status, OVIO_ECANCELED);
	ck_assert_uint_eq(op.result, 0);
	ck_assert_int_eq(rep.kind, OVIO__PORT_CANCEL);
	/* Pending in the OS: cancelled outright, or interrupted. */
	ck_assert(rep.result == OVIO_CANCEL_DONE
	          || rep.result == OVIO_CANCEL_REQUESTED);
	none(100); /* exactly once */

	/* The FIFO still works afterwards. */
	prep(&op, OVIO__PORT_READ, rd, buf, sizeof(buf), 0);
	op.stream = 1;
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_int_eq(write(wr, "ping", 4), 4);
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_uint_eq(op.result, 4);
	close(rd);
	close(wr);
}
END_TEST

START_TEST(cancel_after_completion)
{
	ovio__port_op op, rep, *first, *second;
	char          buf[16];
	int           fd;

	if (!open_port(_i)) {
		return;
	}
	fd = file_with("c", "complete", O_RDONLY);
	prep(&op, OVIO__PORT_READ, fd, buf, sizeof(buf), 0);
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	usleep(100000); /* the read is done in the kernel, not dequeued */
	ck_assert_int_eq(ovio__port_cancel(port, &op, &rep), 0);
	first  = one(2000);
	second = one(2000);
	ck_assert(first != second);
	ck_assert(first == &op || first == &rep);
	ck_assert(second == &op || second == &rep);
	/* The I/O won the race: its real result, once, and the report
	 * says so. */
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_uint_eq(op.result, 8);
	ck_assert_mem_eq(buf, "complete", 8);
	ck_assert_uint_eq(rep.result, OVIO_CANCEL_TOO_LATE);
	none(100);
	close(fd);
}
END_TEST

START_TEST(many_in_flight_each_once)
{
	enum { N = 600 };
	ovio__port_op *ops = calloc(N, sizeof(*ops));
	ovio__port_op *got[64];
	uint8_t       *bufs = calloc(N, 16);
	int           *seen = calloc(N, sizeof(int));
	int            fd, i, n, total = 0;
	int64_t        deadline;

	if (!open_port(_i)) {
		return;
	}
	fd = file_with("m", "abcdefghijklmnopqrstuvwxyz0123456789", O_RDONLY);
	for (i = 0; i < N; i++) {
		prep(&ops[i], OVIO__PORT_READ, fd, bufs + i * 16, 4,
		    (uint64_t) (i % 30));
		ck_assert_int_eq(ovio__port_submit(port, &ops[i]), 0);
	}
	deadline = tu_now_ms() + 10000;
	while (total < N && tu_now_ms() < deadline) {
		n = ovio__port_dequeue(port, got, 64, 100);
		for (i = 0; i < n; i++) {
			int k = (int) (got[i] - ops);
			ck_assert_int_ge(k, 0);
			ck_assert_int_lt(k, N);
			seen[k]++;
			ck_assert_int_eq(got[i]->status, OVIO_OK);
			ck_assert_uint_eq(got[i]->result, 4);
			ck_assert_int_eq(bufs[k * 16],
			    "abcdefghijklmnopqrstuvwxyz0123456789"[k % 30]);
		}
		total += n;
	}
	ck_assert_int_eq(total, N);
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(seen[i], 1);
	}
	none(50);
	close(fd);
	free(ops);
	free(bufs);
	free(seen);
}
END_TEST

START_TEST(failed_submit_has_no_completion)
{
	ovio__port_op op;
	char          buf[8];
	int           fd;

	if (!open_port(_i)) {
		return;
	}
	fd = file_with("x", "data", O_RDONLY);
	ovio__port_fail_submits(port, 1);
	prep(&op, OVIO__PORT_READ, fd, buf, sizeof(buf), 0);
	ck_assert_int_eq(ovio__port_submit(port, &op), OVIO_EIO);
	ck_assert_int_eq(op.status, OVIO_EIO);
	none(100);
	/* The seam is spent: the next submit works. */
	ck_assert_int_eq(ovio__port_submit(port, &op), 0);
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	close(fd);
}
END_TEST

START_TEST(setsize_file)
{
	ovio__port_op op;
	struct stat   st;
	int           fd, rv;

	if (!open_port(_i)) {
		return;
	}
	fd = file_with("s", "0123456789", 0);
	prep(&op, OVIO__PORT_SETSIZE, fd, NULL, 0, 3);
	rv = ovio__port_submit(port, &op);
	if (rv == OVIO_ENOTSUP && strcmp(backends[_i], "uring") == 0) {
		close(fd);
		tu_skip("backend uring: IORING_OP_FTRUNCATE needs Linux 6.9");
		return;
	}
	ck_assert_int_eq(rv, 0);
	ck_assert_ptr_eq(one(2000), &op);
	ck_assert_int_eq(op.status, OVIO_OK);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, 3);
	close(fd);
}
END_TEST

START_TEST(wake_returns_empty)
{
	ovio__port_op *ops[4];
	int64_t        t0;

	if (!open_port(_i)) {
		return;
	}
	ovio__port_wake(port);
	t0 = tu_now_ms();
	ck_assert_int_eq(ovio__port_dequeue(port, ops, 4, 5000), 0);
	ck_assert_int_lt(tu_now_ms() - t0, 1000);
}
END_TEST

START_TEST(unknown_backend)
{
	const char *why = NULL;
	ovio__port *p   = NULL;

	ck_assert_int_eq(ovio__port_open(&p, "nope", 0, &why), OVIO_ENOTSUP);
	ck_assert_str_eq(why, "unknown backend");
}
END_TEST

static Suite *
backend_suite(void)
{
	Suite *s = suite_create("backend");
	TCase *tc;

#define CASE(fn)                                        \
	tc = tcase_create(#fn);                         \
	tcase_add_checked_fixture(tc, setup, teardown); \
	tcase_set_timeout(tc, 30);                      \
	tcase_add_loop_test(tc, fn, 0, NBACKENDS);      \
	suite_add_tcase(s, tc)

	CASE(read_file);
	CASE(write_file);
	CASE(short_read_at_eof);
	CASE(read_across_uncached_pages_is_whole);
	CASE(done_at_once_from_the_page_cache);
	CASE(held_submits_go_at_release);
	CASE(flush_file);
	CASE(setsize_file);
	CASE(error_is_mapped);
	CASE(cancel_pending_fifo_read);
	CASE(cancel_after_completion);
	CASE(many_in_flight_each_once);
	CASE(failed_submit_has_no_completion);
	CASE(wake_returns_empty);
	tc = tcase_create("unknown_backend");
	tcase_add_test(tc, unknown_backend);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (tu_run(backend_suite()));
}
