/*
 * e2e_test.c - the service end to end: a real oviod process, real sockets,
 * real files and FIFOs, and the real ovio CLI.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "testutil.h"
#include "wire.h"

static tu_daemon d;

/* The backend under test: $OVIO_TEST_BACKEND, or oviod's choice. */
static const char *
backend(void)
{
	return (getenv("OVIO_TEST_BACKEND"));
}

static void
start_default(void)
{
	tu_daemon_start(&d, backend(), NULL);
}

static void
stop_cleanup(void)
{
	tu_daemon_cleanup(&d);
}

static void
submit(ovio_client *cl, ovio_request rq, tu_collector *c)
{
	ck_assert_int_eq(ovio_submit(cl, &rq, tu_coll_cb, c), 0);
}

static bool
ops_at_least(const ovio_service_status *st, void *arg)
{
	return (st->ops_in_flight >= *(uint64_t *) arg);
}

static bool
one_session(const ovio_service_status *st, void *arg)
{
	(void) arg;
	return (st->sessions == 1);
}

static bool
all_idle(const ovio_service_status *st, void *arg)
{
	(void) arg;
	return (st->handles == 0 && st->ops_in_flight == 0);
}

/* Idle, and the caller's own session is the only one left. */
static bool
idle_alone(const ovio_service_status *st, void *arg)
{
	return (all_idle(st, arg) && st->sessions == 1);
}

/* A FIFO in the root with a writer held open by the test (never writes). */
static int
make_fifo(const char *name)
{
	char path[512];
	int  wr;

	snprintf(path, sizeof(path), "%s/%s", d.root, name);
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	wr = open(path, O_RDWR); /* a writer that does not block opening */
	ck_assert_int_ge(wr, 0);
	return (wr);
}

/* ---- basic operations through the library ---- */

START_TEST(open_write_read_stat_close)
{
	ovio_client *c = tu_connect(&d);
	uint64_t     h;
	size_t       n;
	char         buf[64];
	ovio_stat    st;

	ck_assert_int_eq(ovio_open(c, "f.txt",
	                     OVIO_OPEN_READ | OVIO_OPEN_WRITE | OVIO_OPEN_CREATE,
	                     0600, &h),
	    0);
	ck_assert_int_eq(ovio_pwrite(c, h, "hello world", 11, 0, &n), 0);
	ck_assert_uint_eq(n, 11);
	ck_assert_int_eq(ovio_flush(c, h), 0);
	ck_assert_int_eq(ovio_pread(c, h, buf, sizeof(buf), 6, &n), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_mem_eq(buf, "world", 5);
	ck_assert_int_eq(ovio_fstat(c, h, &st), 0);
	ck_assert_uint_eq(st.size, 11);
	ck_assert_uint_eq(st.mode, 0600);
	ck_assert_int_eq(st.type, OVIO_TYPE_FILE);
	ck_assert_int_eq(ovio_setsize(c, h, 5), 0);
	ck_assert_int_eq(ovio_stat_path(c, "f.txt", &st), 0);
	ck_assert_uint_eq(st.size, 5);
	ck_assert_int_eq(ovio_close(c, h), 0);

	/* The handle is stale now, and a forged one was never valid. */
	ck_assert_int_eq(ovio_pread(c, h, buf, 4, 0, &n), OVIO_EBADF);
	ck_assert_int_eq(ovio_close(c, h), OVIO_EBADF);
	ck_assert_int_eq(ovio_pread(c, 0x500000003ull, buf, 4, 0, &n),
	    OVIO_EBADF);
	ovio_disconnect(c);
}
END_TEST

START_TEST(errors_are_clear_and_service_keeps_serving)
{
	ovio_client *c = tu_connect(&d);
	uint64_t     h;
	ovio_stat    st;

	ck_assert_int_eq(ovio_open(c, "missing", OVIO_OPEN_READ, 0, &h),
	    OVIO_ENOENT);
	ck_assert_int_eq(ovio_last_os_error(), ENOENT);
	ck_assert_int_eq(ovio_open(c, "../outside", OVIO_OPEN_READ, 0, &h),
	    OVIO_EOUTSIDE);
	ck_assert_int_eq(ovio_open(c, "/etc/passwd", OVIO_OPEN_READ, 0, &h),
	    OVIO_EOUTSIDE);
	ck_assert_int_eq(ovio_open(c, "x", 0, 0, &h), OVIO_EINVAL);
	ck_assert_int_eq(ovio_open(c, ".", OVIO_OPEN_READ, 0, &h), OVIO_EISDIR);
	ck_assert_int_eq(ovio_open(c, "e", OVIO_OPEN_WRITE | OVIO_OPEN_CREATE,
	                     0, &h),
	    0);
	ck_assert_int_eq(ovio_open(c, "e",
	                     OVIO_OPEN_WRITE | OVIO_OPEN_CREATE | OVIO_OPEN_EXCL,
	                     0, &h),
	    OVIO_EEXIST);
	ck_assert_int_eq(ovio_stat_path(c, "e", &st), 0);
	ovio_disconnect(c);
}
END_TEST

START_TEST(malformed_messages_get_an_error_reply)
{
	nng_socket   s;
	nng_msg     *m;
	uint8_t      junk[] = { 200, 0, 0, 0, 1, 2, 3 };
	ovio_client *c;
	uint32_t     hlen;
	uint8_t     *b;

	ck_assert_int_eq(nng_req0_open(&s), 0);
	ck_assert_int_eq(nng_dial(s, d.url, NULL, 0), 0);
	ck_assert_int_eq(nng_msg_alloc(&m, 0), 0);
	nng_msg_append(m, junk, sizeof(junk));
	ck_assert_int_eq(nng_sendmsg(s, m, 0), 0);
	ck_assert_int_eq(nng_recvmsg(s, &m, 0), 0);
	/* The reply is a frame whose header says EPROTO (16). */
	b = nng_msg_body(m);
	ck_assert_uint_ge(nng_msg_len(m), 4);
	hlen = b[0] | (b[1] << 8);
	ck_assert_uint_eq(nng_msg_len(m), 4 + hlen);
	ck_assert_ptr_nonnull(memmem(b + 4, hlen, "\x10\x10", 2));
	nng_msg_free(m);
	nng_close(s);

	/* Everyone else is still served. */
	c = tu_connect(&d);
	ovio_service_status st;
	ck_assert_int_eq(ovio_status(c, &st), 0);
	ck_assert_uint_ge(st.requests_rejected, 1);
	ovio_disconnect(c);
}
END_TEST

START_TEST(status_reports_the_service)
{
	ovio_client        *c = tu_connect(&d);
	ovio_service_status st;

	/* The start-up probe's connection may still be going away. */
	ck_assert(tu_wait_status(c, 2000, one_session, NULL));
	ck_assert_int_eq(ovio_status(c, &st), 0);
	ck_assert_str_eq(st.version, OVIO_VERSION);
	ck_assert(strcmp(st.backend, "uring") == 0 ||
	    strcmp(st.backend, "threads") == 0);
	ck_assert_str_eq(st.root, d.root);
	ck_assert_uint_eq(st.sessions, 1);
	ck_assert_uint_eq(st.handles, 0);
	ck_assert_uint_eq(st.ops_in_flight, 0);
	ovio_disconnect(c);
}
END_TEST

/* ---- cancel ---- */

START_TEST(cancel_by_tag)
{
	ovio_client *c  = tu_connect(&d);
	int          wr = make_fifo("p");
	uint64_t     h, one = 1;
	tu_collector    col;
	ovio_cancel_result what = OVIO_CANCEL_NOT_FOUND;
	char         buf[8];
	size_t       n;

	tu_coll_init(&col);
	ck_assert_int_eq(ovio_open(c, "p", OVIO_OPEN_READ, 0, &h), 0);
	submit(c, (ovio_request) { .op = OVIO_OP_READ, .tag = 42, .handle = h,
	              .length = 16 },
	    &col);
	ck_assert(tu_wait_status(c, 2000, ops_at_least, &one));
	ck_assert_int_eq(tu_coll_wait(&col, 1, 200), 0); /* really pending */

	/* A tag in flight twice is refused; the first stays. */
	submit(c, (ovio_request) { .op = OVIO_OP_READ, .tag = 42, .handle = h,
	              .length = 16 },
	    &col);
	ck_assert_int_eq(tu_coll_wait(&col, 1, 2000), 1);
	ck_assert_int_eq(col.res[0].status, OVIO_ETAGINUSE);

	ck_assert_int_eq(ovio_cancel(c, 42, &what), 0);
	/* Pending on a FIFO: the OS cancelled it, or interrupted it. */
	ck_assert(what == OVIO_CANCEL_DONE || what == OVIO_CANCEL_REQUESTED);
	ck_assert_int_eq(tu_coll_wait(&col, 2, 2000), 2);
	ck_assert_uint_eq(col.res[1].tag, 42);
	ck_assert_int_eq(col.res[1].status, OVIO_ECANCELED);

	/* Cancelling what already completed finds nothing. */
	ck_assert_int_eq(ovio_cancel(c, 42, &what), 0);
	ck_assert_int_eq(what, OVIO_CANCEL_NOT_FOUND);
	ck_assert_int_eq(tu_coll_wait(&col, 3, 200), 2); /* exactly once */

	/* The handle still works. */
	ck_assert_int_eq(write(wr, "data", 4), 4);
	ck_assert_int_eq(ovio_pread(c, h, buf, sizeof(buf), 0, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(ovio_close(c, h), 0);
	close(wr);
	ovio_disconnect(c);
}
END_TEST

START_TEST(cancel_all_of_a_handle)
{
	ovio_client *c  = tu_connect(&d);
	int          wr = make_fifo("p");
	uint64_t     h, three = 3;
	uint32_t     canceled = 0;
	tu_collector    col;
	int          i;

	tu_coll_init(&col);
	ck_assert_int_eq(ovio_open(c, "p", OVIO_OPEN_READ, 0, &h), 0);
	for (i = 0; i < 3; i++) {
		submit(c, (ovio_request) { .op = OVIO_OP_READ, .tag = 10 + i,
		              .handle = h, .length = 8 },
		    &col);
	}
	ck_assert(tu_wait_status(c, 2000, ops_at_least, &three));
	ck_assert_int_eq(ovio_cancel_handle(c, h, &canceled), 0);
	ck_assert_uint_eq(canceled, 3);
	ck_assert_int_eq(tu_coll_wait(&col, 3, 3000), 3);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(col.res[i].status, OVIO_ECANCELED);
	}
	ck_assert_int_eq(ovio_close(c, h), 0);
	close(wr);
	ovio_disconnect(c);
}
END_TEST

START_TEST(cancel_all_of_a_session_and_never_anothers)
{
	ovio_client       *a  = tu_connect(&d);
	ovio_client       *b  = tu_connect(&d);
	int                w1 = make_fifo("p1"), w2 = make_fifo("p2");
	uint64_t           h1, h2, four = 4;
	uint32_t           canceled = 0;
	ovio_cancel_result what;
	tu_collector          col;
	int                i;

	tu_coll_init(&col);
	ck_assert_int_eq(ovio_open(a, "p1", OVIO_OPEN_READ, 0, &h1), 0);
	ck_assert_int_eq(ovio_open(a, "p2", OVIO_OPEN_READ, 0, &h2), 0);
	for (i = 0; i < 4; i++) {
		submit(a, (ovio_request) { .op = OVIO_OP_READ, .tag = 50 + i,
		              .handle = i % 2 ? h2 : h1, .length = 8 },
		    &col);
	}
	ck_assert(tu_wait_status(a, 2000, ops_at_least, &four));

	/* Another connection cannot reach them: not found, no effect. */
	ck_assert_int_eq(ovio_cancel(b, 50, &what), 0);
	ck_assert_int_eq(what, OVIO_CANCEL_NOT_FOUND);
	ck_assert_int_eq(ovio_cancel_session(b, &canceled), 0);
	ck_assert_uint_eq(canceled, 0);
	ck_assert_int_eq(ovio_cancel_handle(b, h1, &canceled), OVIO_EBADF);
	ck_assert_int_eq(tu_coll_wait(&col, 1, 200), 0);

	ck_assert_int_eq(ovio_cancel_session(a, &canceled), 0);
	ck_assert_uint_eq(canceled, 4);
	ck_assert_int_eq(tu_coll_wait(&col, 4, 3000), 4);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(col.res[i].status, OVIO_ECANCELED);
	}
	ck_assert_int_eq(ovio_close(a, h1), 0);
	ck_assert_int_eq(ovio_close(a, h2), 0);
	close(w1);
	close(w2);
	ovio_disconnect(a);
	ovio_disconnect(b);
}
END_TEST

START_TEST(deadline_cancels_what_is_still_pending)
{
	ovio_client *c  = tu_connect(&d);
	int          wr = make_fifo("p");
	uint64_t     h;
	tu_collector    col;
	int64_t      t0, took;

	tu_coll_init(&col);
	ck_assert_int_eq(ovio_open(c, "p", OVIO_OPEN_READ, 0, &h), 0);

	/* Nobody writes: the deadline cancels it. */
	t0 = tu_now_ms();
	submit(c, (ovio_request) { .op = OVIO_OP_READ, .tag = 1, .handle = h,
	              .length = 8, .deadline_ms = 150 },
	    &col);
	ck_assert_int_eq(tu_coll_wait(&col, 1, 3000), 1);
	took = tu_now_ms() - t0;
	ck_assert_int_eq(col.res[0].status, OVIO_ETIMEDOUT);
	ck_assert_int_ge(took, 140);
	ck_assert_int_lt(took, 1000);

	/* The data comes first: its result wins, the deadline is moot. */
	submit(c, (ovio_request) { .op = OVIO_OP_READ, .tag = 2, .handle = h,
	              .length = 8, .deadline_ms = 1000 },
	    &col);
	usleep(50000);
	ck_assert_int_eq(write(wr, "fast", 4), 4);
	ck_assert_int_eq(tu_coll_wait(&col, 2, 3000), 2);
	ck_assert_int_eq(col.res[1].status, OVIO_OK);
	ck_assert_uint_eq(col.res[1].bytes, 4);
	usleep(1100000);
	ck_assert_int_eq(tu_coll_wait(&col, 3, 10), 2); /* exactly once */
	ck_assert_int_eq(ovio_close(c, h), 0);
	close(wr);
	ovio_disconnect(c);
}
END_TEST

/* ---- close with I/O in flight ---- */

/*
 * A raw REQ socket sees replies in the order they arrive on the wire (the
 * library's per-request callbacks run on several threads, so their order
 * says nothing).  Frames are built by hand: the nng header carries a
 * request id, the body the ovio frame.
 */
static void
raw_send(nng_socket s, Ovio__Request *rq)
{
	nng_msg *m;

	ck_assert_int_eq(nng_msg_alloc(&m, 0), 0);
	ck_assert_int_eq(nng_msg_header_append_u32(m, 0x80000000u |
	                     (uint32_t) rq->tag),
	    0);
	ck_assert_int_eq(ovio__wire_encode_request(m, rq, NULL, 0), 0);
	ck_assert_int_eq(nng_sendmsg(s, m, 0), 0);
}

static Ovio__Reply *
raw_recv(nng_socket s, const char *seen)
{
	nng_msg     *m;
	Ovio__Reply *rp;
	uint8_t     *p;
	size_t       n;
	int          rv = nng_recvmsg(s, &m, 0);

	ck_assert_msg(rv == 0, "no reply (%s); replies so far (tag:status):%s",
	    nng_strerror(rv), seen);
	ck_assert_int_eq(ovio__wire_decode_reply(m, &rp, &p, &n), 0);
	nng_msg_free(m);
	return (rp);
}

/* Is st a refusal of an operation on a closing or closed handle? */
static bool
refused_closing(int st)
{
	return (st == OVIO_ECLOSING || st == OVIO_EBADF);
}

START_TEST(close_waits_for_cancelled_reads)
{
	ovio_client   *c  = tu_connect(&d);
	int            wr = make_fifo("p");
	char           fifo[512], seen[256] = "";
	uint64_t       h, four = 4;
	int            i, fds_open, fds_closed, close_at = -1, reads_seen = 0;
	int            r200_at = -1;
	nng_socket     s;
	Ovio__Request  rq = OVIO__REQUEST__INIT;
	Ovio__Reply   *rp;

	snprintf(fifo, sizeof(fifo), "%s/p", d.root);
	ck_assert_int_eq(nng_req0_open_raw(&s), 0);
	ck_assert_int_eq(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000), 0);
	ck_assert_int_eq(nng_dial(s, d.url, NULL, 0), 0);

	rq.tag   = 1;
	rq.op    = OVIO__OP__OP_OPEN;
	rq.path  = "p";
	rq.flags = OVIO_OPEN_READ;
	raw_send(s, &rq);
	rp = raw_recv(s, seen);
	ck_assert_int_eq(rp->status, OVIO_OK);
	h = rp->handle;
	ovio__reply__free_unpacked(rp, NULL);
	ck_assert(tu_fd_open_to(d.pid, fifo));

	rq.path = "";
	for (i = 0; i < 4; i++) {
		rq.tag    = 10 + i;
		rq.op     = OVIO__OP__OP_READ;
		rq.handle = h;
		rq.length = 32;
		raw_send(s, &rq);
	}
	ck_assert(tu_wait_status(c, 2000, ops_at_least, &four));
	/*
	 * The descriptor count is compared below: first the start-up
	 * probe's connection must be gone (oviod closes a pipe's socket
	 * after the session is gone): the listener, c and s remain.
	 */
	ck_assert_msg(tu_wait_sockets(d.pid, 3, 2000),
	    "oviod holds %d sockets, not 3", tu_socket_count(d.pid));
	fds_open = tu_fd_count(d.pid);

	rq.tag = 100;
	rq.op  = OVIO__OP__OP_CLOSE;
	raw_send(s, &rq);
	/*
	 * A read pipelined right behind the close.  The service runs the
	 * requests of one connection concurrently (rep0 contexts on several
	 * nng threads), so this one may be dispatched before the close, and
	 * then it is one more read the close cancels (answered before the
	 * close), or after it, and then it is refused.
	 */
	rq.tag = 200;
	rq.op  = OVIO__OP__OP_READ;
	raw_send(s, &rq);

	/*
	 * On the wire, the cancelled reads come before the close reply.  The
	 * first of them shows that the close has begun: a read sent after it
	 * (201) is refused at once.
	 */
	for (i = 0; i < 7; i++) {
		rp = raw_recv(s, seen);
		snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen),
		    " %u:%s", (unsigned) rp->tag,
		    ovio_errname((int) rp->status));
		if (rp->tag == 100) {
			ck_assert_int_eq(rp->status, OVIO_OK);
			close_at = i;
			ck_assert_int_eq(reads_seen, 4);
		} else if (rp->tag == 200) {
			r200_at = i;
			ck_assert_msg(refused_closing((int) rp->status)
			                  || ((int) rp->status == OVIO_ECANCELED
			                      && close_at < 0),
			    "read pipelined behind the close: %s (%d); replies "
			    "(tag:status):%s",
			    ovio_errname((int) rp->status), (int) rp->status,
			    seen);
		} else if (rp->tag == 201) {
			ck_assert_msg(refused_closing((int) rp->status),
			    "read sent once the close had begun: %s (%d)",
			    ovio_errname((int) rp->status), (int) rp->status);
		} else {
			ck_assert_uint_ge(rp->tag, 10);
			ck_assert_uint_le(rp->tag, 13);
			ck_assert_int_eq(rp->status, OVIO_ECANCELED);
			if (reads_seen++ == 0) {
				rq.tag = 201;
				rq.op  = OVIO__OP__OP_READ;
				raw_send(s, &rq);
			}
		}
		ovio__reply__free_unpacked(rp, NULL);
	}
	ck_assert_int_ge(close_at, 4);
	ck_assert_int_ge(r200_at, 0);

	/* And the descriptor is gone. */
	fds_closed = tu_fd_count(d.pid);
	ck_assert_int_eq(fds_closed, fds_open - 1);
	ck_assert(!tu_fd_open_to(d.pid, fifo));
	nng_close(s);
	close(wr);
	ovio_disconnect(c);
}
END_TEST

/* ---- a client that dies ---- */

START_TEST(killed_client_is_cleaned_up)
{
	int          wr = make_fifo("p");
	char         fifo[512], file[512], cmd[1024], line[16] = "";
	FILE        *child;
	ovio_client *c;
	uint64_t     pending = 4, h; /* the reads on the FIFO */
	int          fds_before;
	pid_t        pid;

	snprintf(fifo, sizeof(fifo), "%s/p", d.root);
	snprintf(file, sizeof(file), "%s/held", d.root);
	tu_write_random(file, 4096, 1);
	/*
	 * The baseline: oviod with c connected, the start-up probe's session
	 * gone and its socket closed (listener and c: 2 sockets).
	 */
	c = tu_connect(&d);
	ck_assert(tu_wait_status(c, 2000, idle_alone, NULL));
	ck_assert_msg(tu_wait_sockets(d.pid, 2, 2000),
	    "oviod holds %d sockets, not 2", tu_socket_count(d.pid));
	fds_before = tu_fd_count(d.pid);

	/* A separate program: nng cannot be used in a fork of this one. */
	snprintf(cmd, sizeof(cmd), "%s/tests/hold_client", tu_build());
	char *argv[] = { cmd, d.url, "reads", "8", "p", "held", NULL };
	pid          = tu_spawn(argv, &child);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), child));
	ck_assert_str_eq(line, "ready\n");
	ck_assert(tu_wait_status(c, 2000, ops_at_least, &pending));
	ck_assert(tu_fd_open_to(d.pid, fifo));
	ck_assert(tu_fd_open_to(d.pid, file));

	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	fclose(child);
	int64_t t0 = tu_now_ms();
	ck_assert(tu_wait_status(c, 2000, idle_alone, NULL));
	/* Cleaned up within 200 ms of the kill. */
	ck_assert_int_lt(tu_now_ms() - t0, tu_ms(200));
	ck_assert(!tu_fd_open_to(d.pid, fifo));
	ck_assert(!tu_fd_open_to(d.pid, file));
	/*
	 * The dead client's socket is closed after its session is gone
	 * (nng reaps the pipe afterwards): wait for that, then nothing else
	 * may be left over.
	 */
	ck_assert_msg(tu_wait_sockets(d.pid, 2, 2000),
	    "oviod holds %d sockets, not 2", tu_socket_count(d.pid));
	ck_assert_int_le(tu_fd_count(d.pid), fds_before);

	/* Another client can use the files at once. */
	ck_assert_int_eq(ovio_open(c, "held", OVIO_OPEN_WRITE, 0, &h), 0);
	ck_assert_int_eq(ovio_close(c, h), 0);
	close(wr);
	ovio_disconnect(c);
}
END_TEST

/* ---- SIGTERM with operations pending ---- */

START_TEST(sigterm_drains_and_exits_zero)
{
	ovio_client *c  = tu_connect(&d);
	int          wr = make_fifo("p");
	uint64_t     h, three = 3;
	tu_collector    col;
	int          i, status;
	char         log[8192];
	FILE        *f;
	size_t       n;

	tu_coll_init(&col);
	ck_assert_int_eq(ovio_open(c, "p", OVIO_OPEN_READ, 0, &h), 0);
	for (i = 0; i < 3; i++) {
		submit(c, (ovio_request) { .op = OVIO_OP_READ, .tag = i + 1,
		              .handle = h, .length = 8 },
		    &col);
	}
	ck_assert(tu_wait_status(c, 2000, ops_at_least, &three));
	status = tu_daemon_stop(&d, SIGTERM);
	ck_assert_int_eq(status, 0);
	/* Each pending read got its one completion: cancelled. */
	ck_assert_int_eq(tu_coll_wait(&col, 3, 3000), 3);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(col.res[i].status, OVIO_ECANCELED);
	}
	f = fopen(d.log, "r");
	ck_assert_ptr_nonnull(f);
	n      = fread(log, 1, sizeof(log) - 1, f);
	log[n] = '\0';
	fclose(f);
	ck_assert_msg(strstr(log, "stopped cleanly") != NULL, "log: %s", log);
	close(wr);
	ovio_disconnect(c);
}
END_TEST

/* ---- nng 1.5.2 bugs that ovio's nng patches fix ---- */

/* Connects a raw socket to the endpoint and closes it at once. */
static void
poke_and_close(const char *url)
{
	struct sockaddr_un sa;
	int                fd;

	ck_assert(strncmp(url, "ipc://", 6) == 0);
	ck_assert_uint_lt(strlen(url + 6), sizeof(sa.sun_path));
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, url + 6, strlen(url + 6));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	close(fd);
}

START_TEST(client_gone_in_handshake_does_not_stop_the_service)
{
	ovio_client        *c;
	ovio_service_status st;
	int                 i;

	/* nng 1.5.2 unpatched: the listener stops accepting for good. */
	for (i = 0; i < 5; i++) {
		poke_and_close(d.url);
	}
	usleep(100000);
	ck_assert_int_eq(ovio_connect(&c, d.url, 2000), 0);
	ck_assert_int_eq(ovio_status(c, &st), 0);
	ovio_disconnect(c);
}
END_TEST

START_TEST(disconnect_during_a_large_reply_returns)
{
	char         path[512];
	ovio_client *c;
	tu_collector    col;
	uint64_t     h;
	int          i;

	snprintf(path, sizeof(path), "%s/big", d.root);
	tu_write_random(path, 16u << 20, 3);
	for (i = 0; i < 20; i++) {
		tu_coll_init(&col);
		c = tu_connect(&d);
		ck_assert_int_eq(ovio_open(c, "big", OVIO_OPEN_READ, 0, &h), 0);
		submit(c, (ovio_request) { .op = OVIO_OP_READ, .tag = 1,
		              .handle = h, .length = 16u << 20 },
		    &col);
		submit(c, (ovio_request) { .op = OVIO_OP_READ, .tag = 2,
		              .handle = h, .length = 16u << 20 },
		    &col);
		usleep((useconds_t) (i * 500));
		/* nng 1.5.2 unpatched: a reply half received hangs this. */
		ovio_disconnect(c);
		ck_assert_int_eq(tu_coll_wait(&col, 2, 1000), 2);
	}
	c = tu_connect(&d);
	ck_assert(tu_wait_status(c, 3000, all_idle, NULL));
	ovio_disconnect(c);
}
END_TEST

/* ---- load ---- */

#define NCLIENTS 32
typedef struct worker {
	int  id;
	int  failures;
	char why[128];
} worker;

static void *
client_worker(void *arg)
{
	worker      *w = arg;
	ovio_client *c;
	char         name[32];
	uint8_t     *out, *in;
	size_t       len = 256 * 1024 + (size_t) w->id * 1000, got = 0, i;
	uint64_t     h;
	int          rv;

	out = malloc(len);
	in  = malloc(len);
	for (i = 0; i < len; i++) {
		out[i] = (uint8_t) (i * 7 + (size_t) w->id);
	}
	snprintf(name, sizeof(name), "client-%02d", w->id);
	if ((rv = ovio_connect(&c, d.url, 5000)) != 0) {
		snprintf(w->why, sizeof(w->why), "connect: %s",
		    ovio_strerror(rv));
		w->failures++;
		goto done;
	}
	rv = ovio_open(c, name,
	    OVIO_OPEN_READ | OVIO_OPEN_WRITE | OVIO_OPEN_CREATE, 0, &h);
	if (rv == 0) {
		rv = ovio_pwrite_all(c, h, out, len, 0, 32 * 1024, 4);
	}
	if (rv == 0) {
		rv = ovio_pread_all(c, h, in, len, 0, 32 * 1024, 4, &got);
	}
	if (rv == 0) {
		rv = ovio_close(c, h);
	}
	if (rv != 0 || got != len || memcmp(in, out, len) != 0) {
		snprintf(w->why, sizeof(w->why), "client %d: %s, got %zu/%zu",
		    w->id, ovio_strerror(rv), got, len);
		w->failures++;
	}
	ovio_disconnect(c);
done:
	free(out);
	free(in);
	return (NULL);
}

START_TEST(thirty_two_clients_at_once)
{
	pthread_t    t[NCLIENTS];
	worker       w[NCLIENTS];
	ovio_client *c;
	int          i;

	for (i = 0; i < NCLIENTS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].id = i;
		ck_assert_int_eq(pthread_create(&t[i], NULL, client_worker, &w[i]),
		    0);
	}
	for (i = 0; i < NCLIENTS; i++) {
		pthread_join(t[i], NULL);
		ck_assert_msg(w[i].failures == 0, "%s", w[i].why);
	}
	c = tu_connect(&d);
	ck_assert(tu_wait_status(c, 2000, all_idle, NULL));
	ovio_disconnect(c);
}
END_TEST

static int
run_cli(const char *fmt, ...)
{
	char    cmd[4096];
	va_list ap;
	int     st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return (WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

START_TEST(cli_put_get_256_mib)
{
	char src[512], back[512];

	snprintf(src, sizeof(src), "%s/src.bin", d.dir);
	snprintf(back, sizeof(back), "%s/back.bin", d.dir);
	tu_write_random(src, 256u << 20, 7);
	ck_assert_int_eq(run_cli("%s/ovio -e %s put %s big.bin", tu_build(),
	                     d.url, src),
	    0);
	ck_assert_int_eq(run_cli("%s/ovio -e %s get big.bin %s", tu_build(),
	                     d.url, back),
	    0);
	ck_assert_int_eq(run_cli("cmp -s %s %s", src, back), 0);
	ck_assert_int_eq(run_cli("cmp -s %s %s/big.bin", src, d.root), 0);
	ck_assert_int_eq(run_cli("[ \"$(%s/ovio -e %s cat big.bin | sha256sum)\""
	                         " = \"$(sha256sum < %s)\" ]",
	                     tu_build(), d.url, src),
	    0);
}
END_TEST

/* The start of file path, for a failure message. */
static const char *
slurp(const char *path, char *buf, size_t len)
{
	FILE  *f = fopen(path, "r");
	size_t n = 0;

	if (f != NULL) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return (buf);
}

START_TEST(cli_errors_and_json)
{
	char         out[512], json[1024];
	ovio_client *c;

	snprintf(out, sizeof(out), "%s/out.txt", d.dir);
	ck_assert_int_eq(run_cli("%s/ovio -e %s get nothing %s.x 2>%s",
	                     tu_build(), d.url, out, out),
	    1);
	ck_assert_int_eq(run_cli("grep -q 'ovio: nothing: ENOENT' %s", out), 0);
	/*
	 * The service handles a disconnect asynchronously: before the CLI
	 * reads the status, wait (through a client of our own) until every
	 * earlier client is gone and nothing is open or in flight.
	 */
	c = tu_connect(&d);
	ck_assert(tu_wait_status(c, 2000, idle_alone, NULL));
	ovio_disconnect(c);
	/* Our own session may still be there: sessions >= 1. */
	ck_assert_msg(run_cli("%s/ovio -e %s status --json >%s 2>&1 && "
	                      "python3 -c 'import json,sys; "
	                      "j=json.load(open(sys.argv[1])); "
	                      "assert j[\"handles\"]==0 and "
	                      "j[\"sessions\"]>=1 and j[\"ops_in_flight\"]==0 "
	                      "and j[\"backend\"], j' %s",
	                  tu_build(), d.url, out, out)
	                  == 0,
	    "ovio status --json: %s", slurp(out, json, sizeof(json)));
	ck_assert_int_eq(run_cli("%s/ovio -e ipc:///nonexistent/x.sock status "
	                         "2>/dev/null",
	                     tu_build()),
	    1);
	ck_assert_int_eq(run_cli("%s/ovio bogus 2>/dev/null", tu_build()), 2);
	ck_assert_int_eq(run_cli("%s/ovio --help | grep -q put", tu_build()), 0);
	ck_assert_int_eq(run_cli("%s/ovio put --help | grep -q LOCAL",
	                     tu_build()),
	    0);
	ck_assert_int_eq(run_cli("%s/oviod --help | grep -q -- --root",
	                     tu_build()),
	    0);
	ck_assert_int_eq(run_cli("%s/oviod --bogus 2>/dev/null", tu_build()),
	    2);
	ck_assert_int_eq(run_cli("%s/oviod --backend nope 2>/dev/null",
	                     tu_build()),
	    2);
	/*
	 * Without io_uring the service falls back, and says why.  The CLI
	 * needs no head start: its connect retries a refused or missing
	 * endpoint for 3 s while the service comes up.
	 */
	ck_assert_int_eq(
	    run_cli("OVIO_DISABLE_URING=1 %s/oviod --root %s/fb "
	            "--listen ipc://%s/fb.sock 2>%s/fb.log & "
	            "%s/ovio -e ipc://%s/fb.sock status "
	            "| grep -q 'backend: *threads'; r=$?; kill $!; "
	            "wait; exit $r",
	        tu_build(), d.dir, d.dir, d.dir, tu_build(), d.dir),
	    0);
	ck_assert_int_eq(run_cli("grep -q 'uring unavailable (disabled by "
	                         "OVIO_DISABLE_URING); using threads' %s/fb.log",
	                     d.dir),
	    0);
	/* A forced backend that cannot start is a one-line error. */
	ck_assert_int_eq(run_cli("OVIO_DISABLE_URING=1 %s/oviod --backend uring "
	                         "--root %s/fb --listen ipc://%s/fb2.sock "
	                         "2>%s/fb2.log",
	                     tu_build(), d.dir, d.dir, d.dir),
	    1);
	ck_assert_int_eq(run_cli("grep -q 'cannot start backend uring: disabled' "
	                         "%s/fb2.log",
	                     d.dir),
	    0);
}
END_TEST

START_TEST(per_client_limit_is_busy_not_crash)
{
	tu_daemon    small;
	ovio_client *c;
	int          wr;
	uint64_t     h;
	tu_collector    col;
	int          i, busy = 0, canceled = 0;
	char         path[600];

	tu_daemon_cleanup(&d); /* this case runs its own daemon */
	tu_daemon_start(&small, backend(), "--max-ops", "4", NULL);
	c = tu_connect(&small);
	snprintf(path, sizeof(path), "%s/p", small.root);
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	wr = open(path, O_RDWR);
	tu_coll_init(&col);
	ck_assert_int_eq(ovio_open(c, "p", OVIO_OPEN_READ, 0, &h), 0);
	for (i = 0; i < 10; i++) {
		submit(c, (ovio_request) { .op = OVIO_OP_READ, .tag = i + 1,
		              .handle = h, .length = 8 },
		    &col);
	}
	ck_assert_int_eq(tu_coll_wait(&col, 6, 3000), 6);
	ck_assert_int_eq(ovio_close(c, h), 0);
	ck_assert_int_eq(tu_coll_wait(&col, 10, 3000), 10);
	for (i = 0; i < 10; i++) {
		busy += col.res[i].status == OVIO_EBUSY;
		canceled += col.res[i].status == OVIO_ECANCELED;
	}
	ck_assert_int_eq(busy, 6);
	ck_assert_int_eq(canceled, 4);
	close(wr);
	ovio_disconnect(c);
	ck_assert_int_eq(tu_daemon_stop(&small, SIGTERM), 0);
	tu_daemon_cleanup(&small);
}
END_TEST

static Suite *
e2e_suite(void)
{
	Suite *s = suite_create("e2e");
	TCase *tc;

#define ECASE(fn, secs)                                                     \
	tc = tcase_create(#fn);                                             \
	tcase_set_timeout(tc, secs);                                        \
	if (!tu_case_skipped(tc, #fn)) {                                    \
		tcase_add_checked_fixture(tc, start_default, stop_cleanup); \
		tcase_add_test(tc, fn);                                     \
	}                                                                   \
	suite_add_tcase(s, tc)

	ECASE(open_write_read_stat_close, 20);
	ECASE(errors_are_clear_and_service_keeps_serving, 20);
	ECASE(malformed_messages_get_an_error_reply, 20);
	ECASE(status_reports_the_service, 20);
	ECASE(cancel_by_tag, 20);
	ECASE(cancel_all_of_a_handle, 20);
	ECASE(cancel_all_of_a_session_and_never_anothers, 20);
	ECASE(deadline_cancels_what_is_still_pending, 20);
	ECASE(close_waits_for_cancelled_reads, 20);
	ECASE(killed_client_is_cleaned_up, 20);
	ECASE(sigterm_drains_and_exits_zero, 30);
	ECASE(client_gone_in_handshake_does_not_stop_the_service, 20);
	ECASE(disconnect_during_a_large_reply_returns, 60);
	ECASE(thirty_two_clients_at_once, 60);
	ECASE(cli_put_get_256_mib, 240);
	ECASE(cli_errors_and_json, 30);
	ECASE(per_client_limit_is_busy_not_crash, 30);
	return (s);
}

int
main(void)
{
	const char *b = backend();

	if (b != NULL && strcmp(b, "uring") == 0 && !tu_have_uring()) {
		tu_skip_all("backend uring: io_uring is unavailable here");
	}
	return (tu_run(e2e_suite()));
}
