/*
 * admin_test.c - administering a real oviod from the real CLI and library:
 * the admin endpoint and its access rules, the listings of sessions,
 * handles and operations, and the commands (cancel, close, kick, drain,
 * resume, shutdown, log-level, reload), the config file and its reload,
 * systemd's notify protocol and journal prefixes, with clients holding reads on
 * FIFOs so that what is pending stays pending until the test says otherwise.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
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

#include "testutil.h"

static tu_daemon d;
static char      admin_url[400];

static const char *
backend(void)
{
	return (getenv("OVIO_TEST_BACKEND"));
}

static void
admin_url_of(void)
{
	ck_assert_int_eq(
	    ovio_admin_endpoint_for(d.url, admin_url, sizeof(admin_url)), 0);
}

static void
start_default(void)
{
	tu_daemon_start(&d, backend(), NULL);
	admin_url_of();
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
idle(const ovio_service_status *st, void *arg)
{
	(void) arg;
	return (st->handles == 0 && st->ops_in_flight == 0);
}

/* A FIFO in the root with a writer held open by the test. */
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

/* A client with n reads of 16 bytes pending on FIFO name (tags 1..n). */
static ovio_client *
hold_reads(const char *name, int n, tu_collector *col, uint64_t *h, int *wr)
{
	ovio_client *c = tu_connect(&d);
	uint64_t     want;
	int          i;

	*wr = make_fifo(name);
	ck_assert_int_eq(ovio_open(c, name, OVIO_OPEN_READ, 0, h), 0);
	for (i = 0; i < n; i++) {
		submit(c,
		    (ovio_request) { .op = OVIO_OP_READ,
		        .tag             = (uint64_t) i + 1,
		        .handle          = *h,
		        .length          = 16 },
		    col);
	}
	want = (uint64_t) n;
	ck_assert(tu_wait_status(c, tu_ms(2000), ops_at_least, &want));
	/* tu_daemon_start's probe connection is gone too: one client. */
	ck_assert(tu_wait_status(c, tu_ms(2000), one_session, NULL));
	ck_assert_int_eq(tu_coll_wait(col, 1, 100), 0); /* really pending */
	return (c);
}

static ovio_client *
admin_connect(void)
{
	ovio_client *a  = NULL;
	int          rv = ovio_connect(&a, admin_url, 5000);

	ck_assert_msg(rv == 0, "admin connect: %s", ovio_strerror(rv));
	return (a);
}

/*
 * Runs `ovio -e URL admin ARGS --json`, checks that its output is one
 * valid JSON document, and that the Python expression check holds for it
 * (as d).  Returns the exit status of the check (0: it held).
 */
static int
admin_json(const char *args, const char *check)
{
	char out[512];
	int  rv;

	snprintf(out, sizeof(out), "%s/admin.json", d.dir);
	rv = tu_sh(
	    "%s/ovio -e %s admin %s --json > %s", tu_build(), d.url, args, out);
	ck_assert_msg(rv == 0, "ovio admin %s: exit %d", args, rv);
	return (tu_sh("python3 -c 'import json,sys; d=json.load(open(\"%s\")); "
	              "sys.exit(0 if (%s) else (print(d) or 1))'",
	    out, check));
}

/* The first line of file path, for a message. */
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

/* ---- listings ---- */

START_TEST(listings_show_a_clients_pending_reads)
{
	tu_collector        col;
	ovio_client        *c, *a;
	ovio_admin_op      *ops;
	ovio_admin_session *ss;
	ovio_admin_handle  *hs;
	size_t              n, i, mine = 0;
	uint64_t            h;
	char                check[1024], data[64];
	int                 wr, seen = 0;

	tu_coll_init(&col);
	c = hold_reads("p", 4, &col, &h, &wr);
	a = admin_connect();

	/* The library: exactly those four reads, pending. */
	ck_assert_int_eq(ovio_admin_ops(a, &ops, &n), 0);
	ck_assert_uint_eq(n, 4);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(ops[i].kind, OVIO_OP_READ);
		ck_assert_uint_eq(ops[i].handle, h);
		ck_assert_uint_eq(ops[i].length, 16);
		ck_assert(!ops[i].cancelling);
		ck_assert(ops[i].tag >= 1 && ops[i].tag <= 4);
		seen |= 1 << (ops[i].tag - 1);
	}
	ck_assert_int_eq(seen, 0xf);
	ovio_admin_free(ops);

	/* The session: this process, by uid and pid, with its counts; the
	 * admin connection is listed as such. */
	ck_assert_int_eq(ovio_admin_sessions(a, &ss, &n), 0);
	ck_assert_uint_eq(n, 2);
	for (i = 0; i < n; i++) {
		ck_assert(ss[i].has_uid);
		ck_assert_uint_eq(ss[i].uid, getuid());
		ck_assert_uint_eq(ss[i].pid, (uint64_t) getpid());
		if (!ss[i].admin) {
			mine++;
			ck_assert_uint_eq(ss[i].handles, 1);
			ck_assert_uint_eq(ss[i].ops, 4);
			ck_assert_uint_eq(ss[i].bytes, 64);
			ck_assert_int_gt(ss[i].connected_ms, 0);
		}
	}
	ck_assert_uint_eq(mine, 1);
	ovio_admin_free(ss);

	ck_assert_int_eq(ovio_admin_handles(a, &hs, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(hs[0].id, h);
	ck_assert_str_eq(hs[0].path, "p");
	ck_assert_uint_eq(hs[0].flags, OVIO_OPEN_READ);
	ck_assert(!hs[0].closing);
	ck_assert_uint_eq(hs[0].ops, 4);
	ovio_admin_free(hs);

	/* The CLI's JSON says the same. */
	snprintf(check, sizeof(check),
	    "len(d[\"ops\"]) == 4 and all(o[\"kind\"] == \"read\" and "
	    "o[\"handle\"] == %llu and o[\"length\"] == 16 and o[\"state\"] "
	    "== \"pending\" for o in d[\"ops\"]) and sorted(o[\"tag\"] for o "
	    "in d[\"ops\"]) == [1, 2, 3, 4]",
	    (unsigned long long) h);
	ck_assert_int_eq(admin_json("ops", check), 0);
	snprintf(check, sizeof(check),
	    "[(s[\"uid\"], s[\"pid\"], s[\"handles\"], s[\"ops\"], "
	    "s[\"bytes\"]) for s in d[\"sessions\"] if s[\"endpoint\"] == "
	    "\"data\"] == [(%u, %d, 1, 4, 64)]",
	    (unsigned) getuid(), (int) getpid());
	ck_assert_int_eq(admin_json("sessions", check), 0);
	snprintf(check, sizeof(check),
	    "d[\"handles\"] == [{\"id\": %llu, \"session\": "
	    "d[\"handles\"][0][\"session\"], \"path\": \"p\", \"flags\": "
	    "\"read\", \"state\": \"OPEN\", \"ops\": 4}]",
	    (unsigned long long) h);
	ck_assert_int_eq(admin_json("handles", check), 0);
	ck_assert_int_eq(
	    tu_sh("%s/ovio -e %s admin ops | grep -c pending | grep "
	          "-qx 4",
	        tu_build(), d.url),
	    0);

	/* The data arrives: the reads complete and are gone. */
	memset(data, 'x', sizeof(data));
	ck_assert_int_eq(write(wr, data, sizeof(data)), (int) sizeof(data));
	ck_assert_int_eq(tu_coll_wait(&col, 4, tu_ms(2000)), 4);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(col.res[i].status, OVIO_OK);
	}
	ck_assert_int_eq(ovio_admin_ops(a, &ops, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(ops);
	ck_assert_int_eq(admin_json("ops", "d == {\"ops\": []}"), 0);
	ck_assert_int_eq(
	    admin_json("sessions", "[s[\"ops\"] for s in d[\"sessions\"] if "
	                           "s[\"endpoint\"] == \"data\"] == [0]"),
	    0);

	ck_assert_int_eq(ovio_close(c, h), 0);
	ck_assert_int_eq(admin_json("handles", "d == {\"handles\": []}"), 0);
	close(wr);
	ovio_disconnect(a);
	ovio_disconnect(c);
}
END_TEST

/* ---- commands ---- */

START_TEST(close_cancels_the_owners_reads_once)
{
	tu_collector col;
	ovio_client *c, *other;
	uint64_t     h, h2;
	char         buf[8], err[512], msg[512];
	size_t       n;
	int          wr, i, rv;

	tu_coll_init(&col);
	c = hold_reads("p", 3, &col, &h, &wr);
	ck_assert_int_eq(
	    tu_sh("%s/ovio -e %s admin close --handle %llu >/dev/null",
	        tu_build(), d.url, (unsigned long long) h),
	    0);
	/* Each pending read completes exactly once, cancelled. */
	ck_assert_int_eq(tu_coll_wait(&col, 3, tu_ms(2000)), 3);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(col.res[i].status, OVIO_ECANCELED);
	}
	ck_assert(tu_wait_status(c, tu_ms(2000), idle, NULL));
	ck_assert_int_eq(tu_coll_wait(&col, 4, 200), 3);
	/* The handle is gone for its owner too. */
	rv = ovio_pread(c, h, buf, sizeof(buf), 0, &n);
	ck_assert_int_eq(rv, OVIO_EBADF);
	ck_assert_int_eq(ovio_close(c, h), OVIO_EBADF);
	/* A closed (or unknown) handle: a clear refusal. */
	snprintf(err, sizeof(err), "%s/err.txt", d.dir);
	ck_assert_int_eq(tu_sh("%s/ovio -e %s admin close --handle %llu 2>%s",
	                     tu_build(), d.url, (unsigned long long) h, err),
	    1);
	ck_assert_msg(tu_sh("grep -q 'close: remote: EBADF' %s", err) == 0,
	    "stderr: %s", slurp(err, msg, sizeof(msg)));

	/* The service, and this client, keep serving. */
	other = tu_connect(&d);
	ck_assert_int_eq(ovio_open(other, "f",
	                     OVIO_OPEN_WRITE | OVIO_OPEN_CREATE, 0644, &h2),
	    0);
	ck_assert_int_eq(ovio_pwrite(other, h2, "abc", 3, 0, &n), 0);
	ck_assert_int_eq(ovio_close(other, h2), 0);
	ck_assert_int_eq(ovio_open(c, "f", OVIO_OPEN_READ, 0, &h2), 0);
	ck_assert_int_eq(ovio_pread(c, h2, buf, sizeof(buf), 0, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(ovio_close(c, h2), 0);
	close(wr);
	ovio_disconnect(other);
	ovio_disconnect(c);
}
END_TEST

/* The data session of this test's one client, by the admin listing. */
static uint32_t
data_session(ovio_client *a)
{
	ovio_admin_session *ss;
	size_t              n, i;
	uint32_t            id = 0;

	ck_assert_int_eq(ovio_admin_sessions(a, &ss, &n), 0);
	for (i = 0; i < n; i++) {
		if (!ss[i].admin) {
			ck_assert_uint_eq(id, 0);
			id = ss[i].id;
		}
	}
	ovio_admin_free(ss);
	ck_assert_uint_ne(id, 0);
	return (id);
}

START_TEST(kick_ends_a_session_and_others_are_served)
{
	tu_collector col;
	ovio_client *c, *a, *other;
	uint64_t     h, h2;
	uint32_t     sid;
	size_t       n;
	int          wr, i;

	tu_coll_init(&col);
	c   = hold_reads("p", 3, &col, &h, &wr);
	a   = admin_connect();
	sid = data_session(a);
	ck_assert_int_eq(
	    tu_sh("%s/ovio -e %s admin kick --session %u >/dev/null",
	        tu_build(), d.url, sid),
	    0);
	/*
	 * What the client sees: its connection went, so each request in
	 * flight completes exactly once, OVIO_ECLOSED (the library never
	 * makes that ECANCELED; the service cancelled the reads, but their
	 * replies had nowhere to go).
	 */
	ck_assert_int_eq(tu_coll_wait(&col, 3, tu_ms(2000)), 3);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(col.res[i].status, OVIO_ECLOSED);
	}
	ck_assert_int_eq(tu_coll_wait(&col, 4, 200), 3);
	/* The service closed its handle and keeps serving others. */
	ck_assert(tu_wait_status(a, tu_ms(2000), idle, NULL));
	ck_assert_int_eq(ovio_admin_kick(a, sid), OVIO_ENOTFOUND);
	other = tu_connect(&d);
	ck_assert_int_eq(ovio_open(other, "f",
	                     OVIO_OPEN_WRITE | OVIO_OPEN_CREATE, 0644, &h2),
	    0);
	ck_assert_int_eq(ovio_pwrite(other, h2, "abc", 3, 0, &n), 0);
	ck_assert_int_eq(ovio_close(other, h2), 0);
	close(wr);
	ovio_disconnect(other);
	ovio_disconnect(a);
	ovio_disconnect(c);
}
END_TEST

START_TEST(cancel_one_op_by_id)
{
	tu_collector   col;
	ovio_client   *c, *a;
	ovio_admin_op *ops;
	uint64_t       h, id1 = 0;
	uint32_t       canceled = 9;
	size_t         n, i;
	char           err[512], buf[256];
	int            wr;

	tu_coll_init(&col);
	c = hold_reads("p", 2, &col, &h, &wr);
	a = admin_connect();
	ck_assert_int_eq(ovio_admin_ops(a, &ops, &n), 0);
	ck_assert_uint_eq(n, 2);
	for (i = 0; i < n; i++) {
		if (ops[i].tag == 1) {
			id1 = ops[i].id;
		}
	}
	ovio_admin_free(ops);
	ck_assert_uint_ne(id1, 0);

	ck_assert_int_eq(
	    tu_sh("%s/ovio -e %s admin cancel --op %llu --json | python3 -c "
	          "'import json,sys; d=json.load(sys.stdin); sys.exit(d != "
	          "{\"command\": \"cancel\", \"status\": \"OK\", \"canceled\": "
	          "1})'",
	        tu_build(), d.url, (unsigned long long) id1),
	    0);
	/* Tag 1 completes cancelled, once; tag 2 stays pending. */
	ck_assert_int_eq(tu_coll_wait(&col, 1, tu_ms(2000)), 1);
	ck_assert_uint_eq(col.res[0].tag, 1);
	ck_assert_int_eq(col.res[0].status, OVIO_ECANCELED);
	ck_assert_int_eq(tu_coll_wait(&col, 2, 200), 1);
	ck_assert_int_eq(ovio_admin_ops(a, &ops, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(ops[0].tag, 2);
	ovio_admin_free(ops);

	/* An op no longer in flight: ENOTFOUND, exit 1, one line. */
	snprintf(err, sizeof(err), "%s/err.txt", d.dir);
	ck_assert_int_eq(tu_sh("%s/ovio -e %s admin cancel --op %llu 2>%s",
	                     tu_build(), d.url, (unsigned long long) id1, err),
	    1);
	ck_assert_msg(tu_sh("grep -qx 'ovio admin: cancel: remote: ENOTFOUND: "
	                    "no such operation %llu' %s",
	                  (unsigned long long) id1, err)
	                  == 0,
	    "stderr: %s", slurp(err, buf, sizeof(buf)));
	ck_assert_int_eq(
	    ovio_admin_cancel_op(a, id1, &canceled), OVIO_ENOTFOUND);
	/* With --json, the error is JSON too; a session is named as one. */
	ck_assert_int_eq(tu_sh("%s/ovio -e %s admin --json kick --session 1 "
	                       "2>%s",
	                     tu_build(), d.url, err),
	    1);
	ck_assert_msg(tu_sh("python3 -c 'import json,sys; "
	                    "j=json.load(open(sys.argv[1])); "
	                    "assert j[\"error\"]==\"no such session 1\" "
	                    "and j[\"status\"]==\"ENOTFOUND\" "
	                    "and j[\"exit\"]==1' %s",
	                  err)
	                  == 0,
	    "stderr: %s", slurp(err, buf, sizeof(buf)));

	/* The handle's and the session's cancels reach the rest. */
	ck_assert_int_eq(ovio_admin_cancel_handle(a, h, &canceled), 0);
	ck_assert_uint_eq(canceled, 1);
	ck_assert_int_eq(tu_coll_wait(&col, 2, tu_ms(2000)), 2);
	ck_assert_uint_eq(col.res[1].tag, 2);
	ck_assert_int_eq(col.res[1].status, OVIO_ECANCELED);
	ck_assert_int_eq(
	    ovio_admin_cancel_session(a, data_session(a), &canceled), 0);
	ck_assert_uint_eq(canceled, 0);
	ck_assert_int_eq(
	    ovio_admin_cancel_session(a, 1, &canceled), OVIO_ENOTFOUND);
	ck_assert_int_eq(tu_coll_wait(&col, 3, 200), 2);
	ck_assert_int_eq(ovio_close(c, h), 0);
	close(wr);
	ovio_disconnect(a);
	ovio_disconnect(c);
}
END_TEST

static bool
state_is(const ovio_service_status *st, void *arg)
{
	return (strcmp(st->state, (const char *) arg) == 0);
}

START_TEST(drain_refuses_new_work_and_resume_restores)
{
	tu_collector        col;
	ovio_client        *c, *a, *other;
	ovio_service_status st;
	uint64_t            h, h2;
	size_t              n;
	char                buf[512];
	int                 wr;

	snprintf(buf, sizeof(buf), "%s/f", d.root);
	tu_write_random(buf, 10, 1);
	tu_coll_init(&col);
	c = hold_reads("p", 1, &col, &h, &wr);
	a = admin_connect();
	ck_assert_int_eq(ovio_status(a, &st), 0); /* status: admin too */
	ck_assert_str_eq(st.state, "running");

	ck_assert_int_eq(
	    tu_sh("%s/ovio -e %s admin drain >/dev/null", tu_build(), d.url),
	    0);
	ck_assert_int_eq(ovio_status(a, &st), 0);
	ck_assert_str_eq(st.state, "draining");
	ck_assert_int_eq(tu_sh("%s/ovio -e %s status --json | grep -q "
	                       "'\"state\": \"draining\"'",
	                     tu_build(), d.url),
	    0);
	/* New work is refused, with a clear status ... */
	other = tu_connect(&d);
	ck_assert_int_eq(
	    ovio_open(other, "f", OVIO_OPEN_READ, 0, &h2), OVIO_ESHUTDOWN);
	ck_assert_int_eq(
	    ovio_pread(c, h, buf, sizeof(buf), 0, &n), OVIO_ESHUTDOWN);
	ck_assert_int_eq(ovio_mkdir(other, "dir", 0, 0), OVIO_ESHUTDOWN);
	/* ... while what is in flight finishes. */
	ck_assert_int_eq(tu_coll_wait(&col, 1, 100), 0);
	ck_assert_int_eq(write(wr, "data", 4), 4);
	ck_assert_int_eq(tu_coll_wait(&col, 1, tu_ms(2000)), 1);
	ck_assert_int_eq(col.res[0].status, OVIO_OK);
	ck_assert_uint_eq(col.res[0].bytes, 4);

	ck_assert_int_eq(
	    tu_sh("%s/ovio -e %s admin resume >/dev/null", tu_build(), d.url),
	    0);
	ck_assert(tu_wait_status(a, 1000, state_is, "running"));
	ck_assert_int_eq(ovio_open(other, "f", OVIO_OPEN_READ, 0, &h2), 0);
	ck_assert_int_eq(ovio_close(other, h2), 0);
	ck_assert_int_eq(write(wr, "more", 4), 4);
	ck_assert_int_eq(ovio_pread(c, h, buf, sizeof(buf), 0, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(ovio_close(c, h), 0);
	close(wr);
	ovio_disconnect(other);
	ovio_disconnect(a);
	ovio_disconnect(c);
}
END_TEST

START_TEST(shutdown_stops_cleanly)
{
	tu_collector col;
	ovio_client *c;
	uint64_t     h;
	char         log[512], buf[8192];
	int          wr;

	tu_coll_init(&col);
	c = hold_reads("p", 2, &col, &h, &wr);
	ck_assert_int_eq(
	    tu_sh("%s/ovio -e %s admin shutdown >/dev/null", tu_build(), d.url),
	    0);
	/* Signal 0: only waits for it to exit on its own. */
	ck_assert_int_eq(tu_daemon_stop(&d, 0), 0);
	ck_assert_int_eq(tu_coll_wait(&col, 2, tu_ms(3000)), 2);
	ck_assert_int_eq(col.res[0].status, OVIO_ECANCELED);
	ck_assert_int_eq(col.res[1].status, OVIO_ECANCELED);
	snprintf(log, sizeof(log), "%s", d.log);
	ck_assert_msg(
	    strstr(slurp(log, buf, sizeof(buf)), "stopped cleanly") != NULL,
	    "log: %s", buf);
	/* Its own line says who asked; it was no SIGTERM from outside. */
	ck_assert_msg(strstr(buf, "SIGTERM") == NULL, "log: %s", buf);
	close(wr);
	ovio_disconnect(c);
}
END_TEST

/* ---- endpoints and access ---- */

START_TEST(each_endpoint_answers_only_its_own_requests)
{
	ovio_client        *c = tu_connect(&d), *a = admin_connect();
	ovio_admin_session *ss;
	ovio_service_status st;
	size_t              n;
	uint64_t            h;
	char                err[512], buf[512];

	ck_assert(tu_wait_status(c, tu_ms(2000), one_session, NULL));
	/* The data endpoint refuses admin requests ... */
	ck_assert_int_eq(ovio_admin_sessions(c, &ss, &n), OVIO_EPERM);
	ck_assert_int_eq(ovio_admin_shutdown(c), OVIO_EPERM);
	snprintf(err, sizeof(err), "%s/err.txt", d.dir);
	ck_assert_int_eq(tu_sh("%s/ovio admin --admin %s sessions 2>%s",
	                     tu_build(), d.url, err),
	    4);
	ck_assert_msg(tu_sh("grep -q 'sessions: remote: EPERM' %s", err) == 0,
	    "stderr: %s", slurp(err, buf, sizeof(buf)));
	/* ... and the admin endpoint everything but admin and status. */
	ck_assert_int_eq(
	    ovio_open(a, "f", OVIO_OPEN_WRITE | OVIO_OPEN_CREATE, 0644, &h),
	    OVIO_EPERM);
	/* Data sessions: c, once the CLI's (refused EPERM) is gone. */
	ck_assert(tu_wait_status(a, tu_ms(2000), one_session, NULL));
	ck_assert_int_eq(ovio_status(a, &st), 0);
	ck_assert_str_eq(st.state, "running");
	ck_assert_int_eq(
	    ovio_open(c, "f", OVIO_OPEN_WRITE | OVIO_OPEN_CREATE, 0644, &h), 0);
	ck_assert_int_eq(ovio_close(c, h), 0);
	ovio_disconnect(a);
	ovio_disconnect(c);
}
END_TEST

START_TEST(admin_socket_is_for_the_user_and_the_admin_group)
{
	struct stat   st;
	struct group *g;
	char          path[512], err[512], buf[512];
	const char   *sock;

	if (geteuid() != 0) {
		tu_skip("creating test users needs root");
		return;
	}
	if (tu_sh("getent group ovioadm >/dev/null || groupadd ovioadm") != 0) {
		tu_skip("groupadd failed here");
		return;
	}
	tu_ensure_user("ovioadm_out", NULL);
	tu_ensure_user("ovioadm_in", "ovioadm");
	ck_assert_ptr_nonnull(g = getgrnam("ovioadm"));

	tu_daemon_start(&d, backend(), "--admin-group", "ovioadm", NULL);
	admin_url_of();
	/* The folder must be searchable for the other users to get as far
	 * as the socket's own permissions. */
	ck_assert_int_eq(chmod(d.dir, 0755), 0);
	sock = admin_url + strlen("ipc://");
	ck_assert_int_eq(stat(sock, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0660);
	ck_assert_uint_eq(st.st_gid, g->gr_gid);
	snprintf(path, sizeof(path), "%s/oviod.sock", d.dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600); /* data: the user only */

	/* Neither the service's user nor in the group: refused, clearly. */
	snprintf(err, sizeof(err), "%s/err.txt", d.dir);
	ck_assert_int_eq(tu_sh("runuser -u ovioadm_out -- %s/ovio -e %s admin "
	                       "sessions 2>%s",
	                     tu_build(), d.url, err),
	    4);
	ck_assert_msg(
	    tu_sh("grep -q 'cannot connect to %s: EPERM' %s", admin_url, err)
	        == 0,
	    "stderr: %s", slurp(err, buf, sizeof(buf)));
	ck_assert_msg(
	    tu_sh(
	        "grep -q 'for the service.s user and its admin group' %s", err)
	        == 0,
	    "stderr: %s", slurp(err, buf, sizeof(buf)));
	/* In the admin group: served. */
	ck_assert_int_eq(tu_sh("runuser -u ovioadm_in -- %s/ovio -e %s admin "
	                       "sessions --json > %s 2>&1",
	                     tu_build(), d.url, err),
	    0);
	ck_assert_msg(tu_sh("grep -q '\"endpoint\": \"admin\"' %s", err) == 0,
	    "output: %s", slurp(err, buf, sizeof(buf)));
}
END_TEST

START_TEST(admin_socket_default_is_the_users_only)
{
	struct stat st;

	ck_assert_int_eq(stat(admin_url + strlen("ipc://"), &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
}
END_TEST

/* ---- signals, log level, help ---- */

START_TEST(sighup_keeps_serving)
{
	ovio_client        *c;
	ovio_service_status st;
	uint64_t            h;
	size_t              n;
	char                buf[16384];
	int                 i, status;
	int64_t             deadline;

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	}
	c = tu_connect(&d);
	ck_assert_int_eq(ovio_status(c, &st), 0);
	ck_assert_int_eq(waitpid(d.pid, &status, WNOHANG), 0); /* alive */
	ck_assert_int_eq(
	    ovio_open(c, "f", OVIO_OPEN_WRITE | OVIO_OPEN_CREATE, 0644, &h), 0);
	ck_assert_int_eq(ovio_pwrite(c, h, "abc", 3, 0, &n), 0);
	ck_assert_int_eq(ovio_close(c, h), 0);
	ovio_disconnect(c);
	/* The main thread logs it once it has taken the signal. */
	deadline = tu_now_ms() + tu_ms(2000);
	while (strstr(slurp(d.log, buf, sizeof(buf)), "reload: nothing") == NULL
	       && tu_now_ms() < deadline) {
		usleep(10000);
	}
	ck_assert_msg(
	    strstr(buf, "reload: nothing to reload") != NULL, "log: %s", buf);
	/* SIGTERM still stops it, cleanly. */
	ck_assert_int_eq(tu_daemon_stop(&d, SIGTERM), 0);
}
END_TEST

/* ---- the config file, reloads, systemd ---- */

static char cfg_dir[256];

static void
cfg_cleanup(void)
{
	tu_daemon_cleanup(&d);
	if (cfg_dir[0] != '\0') {
		tu_rmtree(cfg_dir);
		cfg_dir[0] = '\0';
	}
}

/* Writes text to path, whole (replacing it in place: same inode). */
static void
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

/* Waits up to 5 s for text in oviod's log; the log in buf. */
static bool
log_has(const char *text, char *buf, size_t len)
{
	int64_t deadline = tu_now_ms() + tu_ms(5000);

	while (strstr(slurp(d.log, buf, len), text) == NULL) {
		if (tu_now_ms() >= deadline) {
			return (false);
		}
		usleep(10000);
	}
	return (true);
}

static int
open_new(ovio_client *c, const char *name, uint64_t *h)
{
	return (ovio_open(c, name, OVIO_OPEN_WRITE | OVIO_OPEN_CREATE, 0, h));
}

/*
 * The file's options apply, the command line's win over them (a --listen
 * replaces the file's listen), and the file's values are checked as the
 * flags are.
 */
START_TEST(config_file_sets_options_and_flags_win)
{
	char         cfg[400], sock[400];
	ovio_client *c;
	uint64_t     h[3];
	size_t       n;
	struct stat  st;

	tu_tmpdir(cfg_dir, sizeof(cfg_dir));
	snprintf(cfg, sizeof(cfg), "%s/oviod.conf", cfg_dir);
	snprintf(sock, sizeof(sock), "%s/file.sock", cfg_dir);
	{
		char text[1024];
		snprintf(text, sizeof(text),
		    "# oviod's options, one per line\n"
		    "listen = ipc://%s   ; replaced by --listen\n"
		    "max-handles = 1\n"
		    "\n"
		    "file-mode = 600\n"
		    "log-level = warn\n",
		    sock);
		write_text(cfg, text);
	}
	tu_daemon_start(
	    &d, backend(), "--config", cfg, "--max-handles", "2", NULL);
	ck_assert_int_ne(stat(sock, &st), 0); /* the file's listen: replaced */
	c = tu_connect(&d);
	ck_assert_int_eq(open_new(c, "a", &h[0]), 0);
	ck_assert_int_eq(open_new(c, "b", &h[1]), 0); /* 2: the flag won */
	ck_assert_int_eq(open_new(c, "c", &h[2]), OVIO_EBUSY);
	ck_assert_int_eq(ovio_pwrite(c, h[0], "x", 1, 0, &n), 0);
	ck_assert_int_eq(ovio_close(c, h[0]), 0);
	ck_assert_int_eq(ovio_close(c, h[1]), 0);
	ovio_disconnect(c);
	/* file-mode from the file: 0600 (the umask may only take bits). */
	{
		char path[400];
		snprintf(path, sizeof(path), "%s/a", d.root);
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_uint_eq(st.st_mode & 0777, 0600);
	}
	/* log-level warn from the file: no info line. */
	{
		char buf[16384];
		ck_assert_int_eq(tu_daemon_stop(&d, SIGTERM), 0);
		ck_assert_msg(
		    strstr(slurp(d.log, buf, sizeof(buf)), "starting") == NULL,
		    "log: %s", buf);
	}
}
END_TEST

/* --check-config: ok, or FILE:LINE and why, exit 2; nothing starts. */
START_TEST(check_config_names_the_bad_line)
{
	static const struct {
		const char *text, *says;
	} bad[] = {
		{ "root = /srv\nmax-ops = lots\n",
		    ":2: max-ops: lots is not a number" },
		{ "# ok\nlisten\n", ":2: not a \"key = value\" line" },
		{ "colour = blue\n", ":1: unknown key colour" },
		{ "[oviod]\nroot = /srv\n", ":2: root is in section [oviod]" },
		{ "read-only = maybe\n",
		    ":1: read-only: maybe is not true or false" },
		{ "backend = fast\n", ":1: backend: unknown backend fast" },
		{ "file-mode = 4755\n",
		    ":1: file-mode: 4755 is not an octal mode" },
		{ "help = 1\n", ":1: unknown key help" },
		{ "max-io = 2G\n", ":1: max-io: 2G is out of range" },
		{ "listen = tcp://0.0.0.0:7070\n",
		    "plain tcp is unauthenticated" },
		{ "root = /srv\n    read-only = maybe\n",
		    ":2: read-only: maybe is not true or false" },
		{ "metrics = http://127.0.0.1:x/m\n",
		    ":1: metrics: http://127.0.0.1:x/m is not an http://" },
	};
	char   cfg[400], out[400], buf[4096];
	size_t i;

	tu_tmpdir(cfg_dir, sizeof(cfg_dir));
	snprintf(cfg, sizeof(cfg), "%s/oviod.conf", cfg_dir);
	snprintf(out, sizeof(out), "%s/out.txt", cfg_dir);
	write_text(cfg, "# a good one\nroot = /srv/ovio\n"
	                "listen = ipc:///run/ovio/oviod.sock\n"
	                "read-only = true\nmax-bytes = 64M # inline comment\n");
	ck_assert_int_eq(tu_sh("%s/oviod --config %s --check-config >%s 2>&1",
	                     tu_build(), cfg, out),
	    0);
	slurp(out, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, ": ok") != NULL, "out: %s", buf);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(cfg, bad[i].text);
		ck_assert_int_eq(
		    tu_sh("%s/oviod --config %s --check-config >%s 2>&1",
		        tu_build(), cfg, out),
		    2);
		slurp(out, buf, sizeof(buf));
		ck_assert_msg(strstr(buf, bad[i].says) != NULL
		                  && strstr(buf, "oviod: ") == buf,
		    "%s: %s", bad[i].text, buf);
		/* Started with it: refused the same way, exit 2. */
		ck_assert_int_eq(tu_sh("%s/oviod --config %s >/dev/null 2>&1",
		                     tu_build(), cfg),
		    2);
	}
	/* A line longer than the parser takes: named, not half taken. */
	ck_assert_int_eq(tu_sh("printf 'root = %%05000d\\n' 0 >%s && "
	                       "%s/oviod --config %s --check-config >%s 2>&1",
	                     cfg, tu_build(), cfg, out),
	    2);
	ck_assert_msg(strstr(slurp(out, buf, sizeof(buf)),
	                  ":1: not a \"key = value\" line of at most 4095 "
	                  "bytes")
	                  != NULL,
	    "%s", buf);
	ck_assert_int_eq(
	    tu_sh("%s/oviod --check-config 2>/dev/null", tu_build()), 2);
	ck_assert_int_eq(tu_sh("%s/oviod --config %s/none.conf 2>%s",
	                     tu_build(), cfg_dir, out),
	    2);
	ck_assert_msg(strstr(slurp(out, buf, sizeof(buf)),
	                  "none.conf: cannot read it: No such file")
	                  != NULL,
	    "out: %s", buf);
}
END_TEST

/*
 * SIGHUP and ovio admin reload read the file again: the log level and the
 * limits change while clients stay connected; a change that needs a
 * restart is logged as such; a bad file changes nothing.
 */
START_TEST(reload_takes_the_config_files_changes)
{
	char         cfg[400], out[400], buf[32768], want[512];
	ovio_client *c;
	uint64_t     h1, h2;
	size_t       n;

	tu_tmpdir(cfg_dir, sizeof(cfg_dir));
	snprintf(cfg, sizeof(cfg), "%s/oviod.conf", cfg_dir);
	snprintf(out, sizeof(out), "%s/out.txt", cfg_dir);
	write_text(cfg, "max-handles = 1024\nlog-level = info\n");
	tu_daemon_start(&d, backend(), "--config", cfg, NULL);
	admin_url_of();
	c = tu_connect(&d);
	ck_assert_int_eq(open_new(c, "one", &h1), 0);

	write_text(cfg, "max-handles = 1\nlog-level = debug\nmax-io = 1M\n");
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	snprintf(want, sizeof(want),
	    "reload: %s read: 2 change(s) taken, 1 waiting for a restart", cfg);
	ck_assert_msg(log_has(want, buf, sizeof(buf)), "log: %s", buf);
	ck_assert(strstr(buf, "reload: max-handles 1 (was 1024)") != NULL);
	ck_assert(strstr(buf, "reload: log-level debug (was info)") != NULL);
	ck_assert(strstr(buf, "warn: reload: max-io changed: it takes effect "
	                      "when oviod restarts")
	          != NULL);
	/* The new limit holds for the next open; the open handle works. */
	ck_assert_int_eq(open_new(c, "two", &h2), OVIO_EBUSY);
	ck_assert_int_eq(ovio_pwrite(c, h1, "abc", 3, 0, &n), 0);

	/* A bad line: refused where it is, nothing changes. */
	write_text(cfg, "max-handles = 5\nmax-ops = lots\n");
	ck_assert_int_eq(tu_sh("%s/ovio -e %s admin reload >%s 2>&1",
	                     tu_build(), d.url, out),
	    0);
	ck_assert_msg(
	    strstr(slurp(out, buf, sizeof(buf)), "reload: asked") != NULL,
	    "out: %s", buf);
	snprintf(want, sizeof(want),
	    "error: reload: %s:2: max-ops: lots is not a number", cfg);
	ck_assert_msg(log_has(want, buf, sizeof(buf)), "log: %s", buf);
	ck_assert_msg(log_has("the running settings stay", buf, sizeof(buf)),
	    "log: %s", buf);
	ck_assert_int_eq(open_new(c, "two", &h2), OVIO_EBUSY);

	/* Fixed: taken, and the service served throughout. */
	write_text(cfg, "max-handles = 5\nlog-level = debug\nmax-io = 1M\n");
	ck_assert_int_eq(
	    tu_sh("%s/ovio -e %s admin reload >/dev/null", tu_build(), d.url),
	    0);
	ck_assert_msg(
	    log_has("reload: max-handles 5 (was 1)", buf, sizeof(buf)),
	    "log: %s", buf);
	ck_assert_int_eq(open_new(c, "two", &h2), 0);
	ck_assert_int_eq(ovio_close(c, h2), 0);
	ck_assert_int_eq(ovio_close(c, h1), 0);
	ovio_disconnect(c);
	ck_assert_int_eq(tu_daemon_stop(&d, SIGTERM), 0);
}
END_TEST

/* Receives one datagram into buf within ms: its length, or -1. */
static ssize_t
recv_within(int fd, char *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t       n;

	if (poll(&p, 1, ms) != 1) {
		return (-1);
	}
	n = recv(fd, buf, len - 1, 0);
	if (n >= 0) {
		buf[n] = '\0';
	}
	return (n);
}

/* The next message that is not a watchdog ping; counts the pings. */
static bool
next_notify(int fd, char *buf, size_t len, int *pings)
{
	int64_t deadline = tu_now_ms() + tu_ms(5000);

	while (tu_now_ms() < deadline) {
		if (recv_within(fd, buf, len, 100) < 0) {
			continue;
		}
		if (strcmp(buf, "WATCHDOG=1") == 0) {
			(*pings)++;
			continue;
		}
		return (true);
	}
	return (false);
}

/*
 * Under systemd (Type=notify, WatchdogSec): READY with a status line once
 * it serves, RELOADING then READY around a reload, watchdog pings, and
 * STOPPING when it stops.
 */
START_TEST(systemd_notify_ready_reload_watchdog_stopping)
{
	struct sockaddr_un sa;
	char               path[400], buf[512];
	int                fd, pings = 0;
	int64_t            deadline;

	tu_tmpdir(cfg_dir, sizeof(cfg_dir));
	snprintf(path, sizeof(path), "%s/notify", cfg_dir);
	ck_assert_int_ge(fd = socket(AF_UNIX, SOCK_DGRAM, 0), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	setenv("NOTIFY_SOCKET", path, 1);
	setenv("WATCHDOG_USEC", "200000", 1); /* a ping every 100 ms */
	tu_daemon_start(&d, backend(), NULL);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");

	ck_assert(next_notify(fd, buf, sizeof(buf), &pings));
	ck_assert_msg(strncmp(buf, "READY=1\nSTATUS=serving ",
	                  strlen("READY=1\nSTATUS=serving "))
	                  == 0,
	    "got: %s", buf);
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	ck_assert(next_notify(fd, buf, sizeof(buf), &pings));
	ck_assert_msg(strncmp(buf, "RELOADING=1", 11) == 0, "got: %s", buf);
	ck_assert(next_notify(fd, buf, sizeof(buf), &pings));
	ck_assert_msg(strncmp(buf, "READY=1", 7) == 0, "got: %s", buf);
	/* Pings keep coming while it serves, after the reload too. */
	pings    = 0;
	deadline = tu_now_ms() + tu_ms(5000);
	while (pings < 3 && tu_now_ms() < deadline) {
		if (recv_within(fd, buf, sizeof(buf), 100) > 0) {
			ck_assert_str_eq(buf, "WATCHDOG=1");
			pings++;
		}
	}
	ck_assert_int_ge(pings, 3);
	/* Reloads more often than the watchdog's period put no ping off:
	 * a SIGHUP every 40 ms for 1.2 s, pings every 100 ms. */
	pings = 0;
	for (int i = 0; i < 30; i++) {
		ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
		deadline = tu_now_ms() + 40;
		while (tu_now_ms() < deadline) {
			if (recv_within(fd, buf, sizeof(buf), 10) > 0
			    && strcmp(buf, "WATCHDOG=1") == 0) {
				pings++;
			}
		}
	}
	ck_assert_msg(pings >= 3, "%d pings in 1.2 s of reloads", pings);
	kill(d.pid, SIGTERM);
	/* What the reloads said comes first; then the stop's message. */
	do {
		ck_assert(next_notify(fd, buf, sizeof(buf), &pings));
	} while (strncmp(buf, "RELOADING=1", 11) == 0
	         || strncmp(buf, "READY=1", 7) == 0);
	ck_assert_msg(strncmp(buf, "STOPPING=1\nEXTEND_TIMEOUT_USEC=15000000\n",
	                  strlen("STOPPING=1\nEXTEND_TIMEOUT_USEC=15000000\n"))
	                  == 0,
	    "got: %s", buf); /* the default drain, 10 s, + 5 s */
	ck_assert_int_eq(tu_daemon_stop(&d, SIGTERM), 0);
	close(fd);
}
END_TEST

/*
 * With stderr the journal ($JOURNAL_STREAM names it), each line has its
 * priority prefix and no timestamp; otherwise the timestamped form.
 */
START_TEST(journal_lines_carry_priorities)
{
	char log[400], buf[8192];

	tu_tmpdir(cfg_dir, sizeof(cfg_dir));
	snprintf(log, sizeof(log), "%s/journal", cfg_dir);
	/* A start that fails: one info line, then one error line. */
	ck_assert_int_eq(
	    tu_sh("touch %s %s/file && JOURNAL_STREAM=$(stat -c %%d:%%i %s) "
	          "%s/oviod --root %s/file/root --listen ipc://%s/s.sock "
	          "2>>%s",
	        log, cfg_dir, log, tu_build(), cfg_dir, cfg_dir, log),
	    1);
	slurp(log, buf, sizeof(buf));
	ck_assert_msg(strncmp(buf, "<6>oviod ", 9) == 0, "log: %s", buf);
	ck_assert_msg(
	    strstr(buf, "\n<3>error: cannot use root") != NULL, "log: %s", buf);
	ck_assert_msg(strstr(buf, "Z oviod:") == NULL, "log: %s", buf);
	/* Another file's dev:ino is not stderr: timestamps, no prefix. */
	ck_assert_int_eq(
	    tu_sh(": >%s && JOURNAL_STREAM=$(stat -c %%d:%%i %s/file) "
	          "%s/oviod --root %s/file/root --listen ipc://%s/s.sock "
	          "2>>%s",
	        log, cfg_dir, tu_build(), cfg_dir, cfg_dir, log),
	    1);
	slurp(log, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "Z oviod: error: cannot use root") != NULL,
	    "log: %s", buf);
	ck_assert_msg(strchr(buf, '<') == NULL, "log: %s", buf);
}
END_TEST

/* The quantile of a histogram: its bucket's upper bound, capped by max. */
START_TEST(latency_quantiles_from_buckets)
{
	ovio_admin_stats_entry e;

	memset(&e, 0, sizeof(e));
	ck_assert_uint_eq(ovio_latency_quantile(&e, 0.5), 0); /* empty */
	e.buckets[3]  = 10;                                   /* 4 to 7 us */
	e.buckets[10] = 1; /* 512 to 1023 us */
	e.count       = 11;
	e.max_us      = 900;
	ck_assert_uint_eq(ovio_latency_quantile(&e, 0.5), 8);
	ck_assert_uint_eq(ovio_latency_quantile(&e, 0.9), 8);    /* 10 of 11 */
	ck_assert_uint_eq(ovio_latency_quantile(&e, 0.99), 900); /* max */
	ck_assert_uint_eq(ovio_latency_quantile(&e, 1.0), 900);
	ck_assert_str_eq(ovio_op_name(OVIO_OP_READ), "read");
	ck_assert_str_eq(ovio_op_name((ovio_op) 99), "?");
}
END_TEST

/*
 * The statistics count what the clients did, by kind, with their errors,
 * and the Prometheus text is well formed: cumulative buckets ending at the
 * count.
 */
START_TEST(stats_and_metrics_count_what_clients_did)
{
	ovio_client            *c, *a;
	ovio_admin_stats_entry *l;
	uint64_t                h, x, sum;
	char                    buf[4096], out[400];
	size_t                  n, i, b, got;
	int                     seen = 0;

	memset(buf, 'x', sizeof(buf));
	c = tu_connect(&d);
	ck_assert_int_eq(open_new(c, "s", &h), 0);
	for (i = 0; i < 20; i++) {
		ck_assert_int_eq(
		    ovio_pwrite(c, h, buf, sizeof(buf), i * sizeof(buf), &got),
		    0);
	}
	ck_assert_int_eq(ovio_close(c, h), 0);
	ck_assert_int_eq(ovio_open(c, "s", OVIO_OPEN_READ, 0, &h), 0);
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(
		    ovio_pread(c, h, buf, sizeof(buf), i * sizeof(buf), &got),
		    0);
	}
	ck_assert_int_eq(ovio_close(c, h), 0);
	ck_assert_int_eq(
	    ovio_open(c, "missing", OVIO_OPEN_READ, 0, &x), OVIO_ENOENT);
	ovio_disconnect(c);

	a = admin_connect();
	ck_assert_int_eq(ovio_admin_stats(a, &l, &n), 0);
	for (i = 0; i < n; i++) {
		for (sum = 0, b = 0; b < OVIO_LATENCY_BUCKETS; b++) {
			sum += l[i].buckets[b];
		}
		ck_assert_uint_eq(sum, l[i].count);
		ck_assert_uint_le(ovio_latency_quantile(&l[i], 0.5),
		    ovio_latency_quantile(&l[i], 0.99));
		ck_assert_uint_le(
		    ovio_latency_quantile(&l[i], 0.99), l[i].max_us);
		if (l[i].kind == OVIO_OP_WRITE) {
			ck_assert_uint_eq(l[i].count, 20);
			ck_assert_uint_eq(l[i].errors, 0);
			ck_assert_uint_gt(l[i].sum_us, 0);
			seen++;
		} else if (l[i].kind == OVIO_OP_READ) {
			ck_assert_uint_eq(l[i].count, 10);
			ck_assert_uint_eq(l[i].errors, 0);
			seen++;
		} else if (l[i].kind == OVIO_OP_OPEN) {
			ck_assert_uint_eq(l[i].count, 3);
			ck_assert_uint_eq(l[i].errors, 1); /* ENOENT */
			seen++;
		} else if (l[i].kind == OVIO_OP_CLOSE) {
			ck_assert_uint_eq(l[i].count, 2);
			seen++;
		}
	}
	ck_assert_int_eq(seen, 4);
	ovio_admin_free(l);
	ovio_disconnect(a);

	/* The CLI: JSON, and the Prometheus text checked line by line. */
	snprintf(out, sizeof(out), "%s/stats.json", d.dir);
	ck_assert_int_eq(tu_sh("%s/ovio -e %s admin stats --json >%s",
	                     tu_build(), d.url, out),
	    0);
	ck_assert_msg(tu_sh("python3 -c 'import json,sys; "
	                    "s={k[\"kind\"]: k for k in "
	                    "json.load(open(sys.argv[1]))[\"stats\"]}; "
	                    "w=s[\"write\"]; "
	                    "assert w[\"count\"]==20 and w[\"errors\"]==0; "
	                    "assert w[\"p50_us\"]<=w[\"p90_us\"]<="
	                    "w[\"p99_us\"]<=w[\"max_us\"]; "
	                    "assert s[\"open\"][\"errors\"]==1' %s",
	                  out)
	                  == 0,
	    "%s", slurp(out, buf, sizeof(buf)));
	snprintf(out, sizeof(out), "%s/metrics.txt", d.dir);
	ck_assert_int_eq(
	    tu_sh("%s/ovio -e %s admin metrics >%s", tu_build(), d.url, out),
	    0);
	ck_assert_msg(
	    tu_sh(
	        "python3 - %s <<'EOF'\n"
	        "import re, sys\n"
	        "line = re.compile(r'^([a-z_]+)(\\{([^}]*)\\})? "
	        "([0-9.e+-]+)$')\n"
	        "v, fam = {}, set()\n"
	        "for l in open(sys.argv[1]):\n"
	        "    l = l.rstrip('\\n')\n"
	        "    if l.startswith('# TYPE '):\n"
	        "        fam.add(l.split()[2]); continue\n"
	        "    if l.startswith('# HELP '): continue\n"
	        "    m = line.match(l); assert m, l\n"
	        "    v[(m.group(1), m.group(3) or '')] = float(m.group(4))\n"
	        "assert v[('ovio_requests_total', 'kind=\"write\"')] == 20\n"
	        "assert v[('ovio_request_errors_total', "
	        "'kind=\"open\"')] == 1\n"
	        "assert v[('ovio_up', '')] == 1\n"
	        "for k in ('write', 'read', 'open'):\n"
	        "    bs = sorted(((float(lab.split('le=\"')[1][:-1]), n) "
	        "for (name, lab), n in v.items() "
	        "if name == 'ovio_request_duration_seconds_bucket' "
	        "and lab.startswith('kind=\"%%s\",' %% k)), "
	        "key=lambda t: t[0])\n"
	        "    assert len(bs) == 32, (k, len(bs))\n"
	        "    assert all(a[1] <= b[1] for a, b in zip(bs, bs[1:])), k\n"
	        "    c = v[('ovio_request_duration_seconds_count', "
	        "'kind=\"%%s\"' %% k)]\n"
	        "    assert bs[-1] == (float('inf'), c), (k, bs[-1], c)\n"
	        "    assert c == v[('ovio_requests_total', "
	        "'kind=\"%%s\"' %% k)]\n"
	        "for name, _ in v:\n"
	        "    base = re.sub('_(bucket|sum|count)$', '', name)\n"
	        "    assert name in fam or base in fam, name\n"
	        "EOF",
	        out)
	        == 0,
	    "%s", slurp(out, buf, sizeof(buf)));
}
END_TEST

/* status --watch: again and again until stopped, one after another when
 * not on a terminal (no screen codes); --json gives a line each. */
START_TEST(status_watch_repeats_until_stopped)
{
	char out[400], buf[16384];

	snprintf(out, sizeof(out), "%s/watch.txt", d.dir);
	/* 1 s (more under the sanitizers): 4 snapshots at least. */
	ck_assert_int_eq(
	    tu_sh("timeout %.2f %s/ovio -e %s --json status "
	          "--watch 100ms >%s",
	        (double) tu_ms(1000) / 1000, tu_build(), d.url, out),
	    124);
	ck_assert_msg(tu_sh("python3 -c 'import json,sys; "
	                    "l=[json.loads(x) for x in open(sys.argv[1])]; "
	                    "assert len(l)>=4, len(l); "
	                    "u=[x[\"uptime_ms\"] for x in l]; "
	                    "assert u==sorted(u) and u[-1]-u[0]>=200, u' %s",
	                  out)
	                  == 0,
	    "%s", slurp(out, buf, sizeof(buf)));
	ck_assert_int_eq(
	    tu_sh("timeout %.2f %s/ovio -e %s status --watch "
	          "100ms >%s",
	        (double) tu_ms(1000) / 1000, tu_build(), d.url, out),
	    124);
	slurp(out, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "\033") == NULL, "%s", buf);
	ck_assert_msg(
	    tu_sh("[ $(grep -c '^oviod .*, up' %s) -ge 3 ]", out) == 0, "%s",
	    buf);
	ck_assert_int_eq(tu_sh("%s/ovio -e %s stat x --watch 1 2>/dev/null",
	                     tu_build(), d.url),
	    2); /* status only */
	ck_assert_int_eq(tu_sh("%s/ovio -e %s status --watch 0 2>/dev/null",
	                     tu_build(), d.url),
	    2);
}
END_TEST

/*
 * --metrics URL serves the same Prometheus text over HTTP (GET, its path
 * only); a URL that is not http:// is refused, a port in use fails the
 * start.
 */
START_TEST(metrics_served_over_http)
{
	char         buf[16384], out[400], *p;
	ovio_client *c;
	uint64_t     h;
	size_t       got;
	int          i, port = 0;

	tu_daemon_start(
	    &d, backend(), "--metrics", "http://127.0.0.1:0/metrics", NULL);
	ck_assert_msg(log_has("metrics on http://127.0.0.1:", buf, sizeof(buf)),
	    "log: %s", buf);
	p = strstr(buf, "metrics on http://127.0.0.1:");
	ck_assert_int_eq(sscanf(p, "metrics on http://127.0.0.1:%d", &port), 1);
	c = tu_connect(&d);
	ck_assert_int_eq(open_new(c, "m", &h), 0);
	for (i = 0; i < 7; i++) {
		ck_assert_int_eq(ovio_pwrite(c, h, "abc", 3, 0, &got), 0);
	}
	ck_assert_int_eq(ovio_close(c, h), 0);
	ovio_disconnect(c);
	snprintf(out, sizeof(out), "%s/http.txt", d.dir);
	ck_assert_msg(
	    tu_sh("python3 - %d %s <<'EOF'\n"
	          "import sys, urllib.request, urllib.error\n"
	          "base = 'http://127.0.0.1:%%s' %% sys.argv[1]\n"
	          "r = urllib.request.urlopen(base + '/metrics', timeout=10)\n"
	          "assert r.status == 200\n"
	          "assert r.headers['Content-Type'].startswith("
	          "'text/plain; version=0.0.4'), r.headers['Content-Type']\n"
	          "t = r.read().decode()\n"
	          "open(sys.argv[2], 'w').write(t)\n"
	          "assert 'ovio_requests_total{kind=\"write\"} 7\\n' in t\n"
	          "assert 'ovio_up 1\\n' in t\n"
	          "try:\n"
	          "    urllib.request.urlopen(base + '/other', timeout=10)\n"
	          "    sys.exit('/other answered')\n"
	          "except urllib.error.HTTPError as e:\n"
	          "    assert e.code == 404, e.code\n"
	          "EOF",
	        port, out)
	        == 0,
	    "%s", slurp(out, buf, sizeof(buf)));
	/* The same families as ovio admin metrics prints. */
	ck_assert_int_eq(tu_sh("%s/ovio -e %s admin metrics | grep '^# TYPE' "
	                       ">%s.cli && grep '^# TYPE' %s | cmp -s - %s.cli",
	                     tu_build(), d.url, out, out, out),
	    0);
	/* Not http://: refused at start; a port in use: fails to start. */
	snprintf(out, sizeof(out), "%s/err.txt", d.dir);
	ck_assert_int_eq(tu_sh("%s/oviod --metrics ftp://127.0.0.1:1/ 2>%s",
	                     tu_build(), out),
	    2);
	ck_assert_msg(strstr(slurp(out, buf, sizeof(buf)),
	                  "--metrics: ftp://127.0.0.1:1/ is not an http://")
	                  != NULL,
	    "%s", buf);
	ck_assert_int_eq(tu_sh("%s/oviod --root %s/r2 --listen ipc://%s/2.sock "
	                       "--metrics http://127.0.0.1:%d/metrics 2>%s",
	                     tu_build(), d.dir, d.dir, port, out),
	    1);
	ck_assert_msg(
	    strstr(slurp(out, buf, sizeof(buf)), "--metrics http://") != NULL,
	    "%s", buf);
	ck_assert_int_eq(tu_daemon_stop(&d, SIGTERM), 0);
}
END_TEST

START_TEST(log_level_changes_what_is_logged)
{
	char          buf[16384], err[512], want[160], *line;
	ovio_client  *c;
	tu_collector *col;
	uint64_t      h;
	unsigned      sid;

	/* At info (the default) a listing logs nothing. */
	ck_assert_int_eq(
	    tu_sh("%s/ovio -e %s admin handles >/dev/null", tu_build(), d.url),
	    0);
	ck_assert(strstr(slurp(d.log, buf, sizeof(buf)), "debug:") == NULL);
	ck_assert_int_eq(tu_sh("%s/ovio -e %s admin log-level debug >/dev/null",
	                     tu_build(), d.url),
	    0);
	ck_assert_int_eq(
	    tu_sh("%s/ovio -e %s admin handles >/dev/null", tu_build(), d.url),
	    0);
	ck_assert_msg(strstr(slurp(d.log, buf, sizeof(buf)),
	                  "debug: admin: listed 0 handle(s)")
	                  != NULL,
	    "log: %s", buf);

	/*
	 * At debug each reply is a line with its session, tag and handle,
	 * so one operation can be followed: a failed open, then a write.
	 */
	c = tu_connect(&d);
	ck_assert_int_eq(ovio_open(c, "missing", OVIO_OPEN_READ, 0, &h),
	    OVIO_ENOENT);
	ck_assert_int_eq(open_new(c, "logged", &h), 0);
	ck_assert_ptr_nonnull(col = malloc(sizeof(*col)));
	tu_coll_init(col);
	ovio_request wr = { .op = OVIO_OP_WRITE,
		.tag            = 4242,
		.handle         = h,
		.offset         = 7,
		.data           = "hello",
		.length         = 5 };
	ck_assert_int_eq(ovio_submit(c, &wr, tu_coll_cb, col), 0);
	ck_assert_int_eq(tu_coll_wait(col, 1, 5000), 1);
	snprintf(want, sizeof(want),
	    ": write tag 4242 handle %llu offset 7 length 5: OK in ",
	    (unsigned long long) h);
	ck_assert_msg(log_has(want, buf, sizeof(buf)), "log: %s", buf);
	line = strstr(buf, want);
	while (line > buf && line[-1] != '\n') {
		line--;
	}
	ck_assert_msg(sscanf(line, "%*s oviod: debug: session %u:", &sid) == 1,
	    "line: %.200s", line);
	ck_assert_msg(tu_sh("grep -qE 'debug: session %u: open tag [0-9]+: "
	                    "ENOENT in [0-9]+ us$' %s",
	                  sid, d.log)
	                  == 0,
	    "log: %s", buf);
	snprintf(want, sizeof(want), "session %u connected: uid", sid);
	ck_assert_msg(strstr(buf, want) != NULL, "log: %s", buf);
	ck_assert_int_eq(ovio_close(c, h), 0);
	ovio_disconnect(c);
	free(col);
	snprintf(err, sizeof(err), "%s/err.txt", d.dir);
	ck_assert_int_eq(tu_sh("%s/ovio -e %s admin log-level loud 2>%s",
	                     tu_build(), d.url, err),
	    1);
	ck_assert_msg(tu_sh("grep -q 'log-level: remote: EINVAL' %s", err) == 0,
	    "stderr: %s", slurp(err, buf, sizeof(buf)));
	ck_assert_int_eq(
	    tu_sh("%s/oviod --log-level loud 2>%s", tu_build(), err), 2);
	ck_assert_msg(
	    tu_sh("grep -q 'is not error, warn, info or debug' %s", err) == 0,
	    "stderr: %s", slurp(err, buf, sizeof(buf)));
	/* At error, a failed start still says why, and nothing else. */
	ck_assert_int_eq(tu_sh("touch %s/file && %s/oviod --log-level error "
	                       "--root %s/file/root --listen ipc://%s/x.sock "
	                       "2>%s",
	                     d.dir, tu_build(), d.dir, d.dir, err),
	    1);
	slurp(err, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "oviod: error: cannot use root") != NULL,
	    "stderr: %s", buf);
	ck_assert_msg(strstr(buf, "starting") == NULL, "stderr: %s", buf);
}
END_TEST

START_TEST(help_and_usage)
{
	static const char *const subs[] = { "sessions", "handles", "ops",
		"cancel", "close", "kick", "drain", "resume", "shutdown",
		"log-level", "reload", "stats", "metrics", NULL };
	const char *const       *s;
	const char              *b = tu_build();

	ck_assert_int_eq(
	    tu_sh("%s/ovio admin --help | grep -q 'usage: ovio admin'", b), 0);
	/* Each subcommand's help whole (its last line too), no padding. */
	ck_assert_int_eq(
	    tu_sh("%s/ovio admin --help | grep -q '^      connect "
	          "time, handles, operations and bytes in flight$'",
	        b),
	    0);
	ck_assert_int_eq(tu_sh("%s/ovio admin --help | grep -q ' $'", b), 1);
	ck_assert_int_eq(tu_sh("%s/ovio --help | grep -q '^  admin '", b), 0);
	ck_assert_int_eq(
	    tu_sh("%s/oviod --help | grep -q -- '--admin-group'", b), 0);
	for (s = subs; *s != NULL; s++) {
		ck_assert_msg(tu_sh("%s/ovio admin %s --help | grep -q 'usage: "
		                    "ovio admin .*%s'",
		                  b, *s, *s)
		                  == 0,
		    "%s --help", *s);
	}
	/* Bad usage: exit 2, one line first. */
	ck_assert_int_eq(tu_sh("%s/ovio admin 2>/dev/null", b), 2);
	ck_assert_int_eq(tu_sh("%s/ovio admin frob 2>/dev/null", b), 2);
	ck_assert_int_eq(tu_sh("%s/ovio admin cancel 2>/dev/null", b), 2);
	ck_assert_int_eq(
	    tu_sh("%s/ovio admin cancel --op 1 --handle 2 2>/dev/null", b), 2);
	ck_assert_int_eq(tu_sh("%s/ovio admin close --op 1 2>/dev/null", b), 2);
	ck_assert_int_eq(
	    tu_sh("%s/ovio admin kick --session x 2>/dev/null", b), 2);
	ck_assert_int_eq(tu_sh("%s/ovio admin drain --op 1 2>/dev/null", b), 2);
	ck_assert_int_eq(tu_sh("%s/ovio admin log-level 2>/dev/null", b), 2);
	/* Prometheus' text has no JSON form: said, not ignored. */
	ck_assert_int_eq(tu_sh("%s/ovio admin metrics --json 2>&1 | grep -q "
	                       "'^ovio admin metrics: --json does not apply'",
	                     b),
	    0);
	ck_assert_int_eq(
	    tu_sh("%s/ovio admin metrics --json 2>/dev/null", b), 2);
	ck_assert_int_eq(
	    tu_sh("%s/ovio admin --json metrics 2>/dev/null", b), 2);
	ck_assert_int_eq(
	    tu_sh("%s/ovio admin metrics --help | grep -q -- --json", b), 1);
	ck_assert_int_eq(
	    tu_sh("%s/ovio -e tcp://127.0.0.1:1 admin ops 2>/dev/null", b), 2);
}
END_TEST

static Suite *
admin_suite(void)
{
	Suite *s = suite_create("admin");
	TCase *tc;

#define ACASE(fn, secs, fixture)                                           \
	tc = tcase_create(#fn);                                            \
	tcase_set_timeout(tc, secs);                                       \
	if (!tu_case_skipped(tc, #fn)) {                                   \
		if (fixture) {                                             \
			tcase_add_checked_fixture(                         \
			    tc, start_default, stop_cleanup);              \
		} else {                                                   \
			tcase_add_checked_fixture(tc, NULL, stop_cleanup); \
		}                                                          \
		tcase_add_test(tc, fn);                                    \
	}                                                                  \
	suite_add_tcase(s, tc)

	ACASE(listings_show_a_clients_pending_reads, 30, true);
	ACASE(close_cancels_the_owners_reads_once, 20, true);
	ACASE(kick_ends_a_session_and_others_are_served, 20, true);
	ACASE(cancel_one_op_by_id, 20, true);
	ACASE(drain_refuses_new_work_and_resume_restores, 20, true);
	ACASE(shutdown_stops_cleanly, 30, true);
	ACASE(each_endpoint_answers_only_its_own_requests, 20, true);
	ACASE(admin_socket_is_for_the_user_and_the_admin_group, 30, false);
	ACASE(admin_socket_default_is_the_users_only, 20, true);
	ACASE(sighup_keeps_serving, 30, true);
	ACASE(log_level_changes_what_is_logged, 20, true);
	ACASE(latency_quantiles_from_buckets, 10, false);
	ACASE(status_watch_repeats_until_stopped, 20, true);
	ACASE(metrics_served_over_http, 30, false);
	ACASE(stats_and_metrics_count_what_clients_did, 30, true);
	tc = tcase_create("config");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, cfg_cleanup);
	tcase_add_test(tc, config_file_sets_options_and_flags_win);
	tcase_add_test(tc, check_config_names_the_bad_line);
	tcase_add_test(tc, reload_takes_the_config_files_changes);
	tcase_add_test(tc, systemd_notify_ready_reload_watchdog_stopping);
	tcase_add_test(tc, journal_lines_carry_priorities);
	suite_add_tcase(s, tc);
	ACASE(help_and_usage, 20, false);
	return (s);
}

int
main(void)
{
	const char *b = backend();

	if (b != NULL && strcmp(b, "uring") == 0 && !tu_have_uring()) {
		tu_skip_all("backend uring: io_uring is unavailable here");
	}
	return (tu_run(admin_suite()));
}
