/*
 * peer_test.c - who may reach the service over ipc://, against a real
 * oviod and the real CLI, with test users made here (root only):
 * --allow-uid / --allow-group admit the listed users and the members of
 * the listed groups and drop everyone else before any request; a socket
 * path another user planted (a file, a live listener of theirs) or could
 * replace (a folder others may write to, or another user's folder) makes
 * oviod refuse to start with one line; and a client refuses a service run
 * by another user unless $OVIO_SERVICE_USER names that user.  And how many:
 * --max-sessions and --max-sessions-per-peer refuse the connection one too
 * many (not the admin endpoint's), and --idle-timeout closes a connection
 * that holds nothing and asks nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
static char      dir[256];

static uid_t
uid_of(const char *user)
{
	struct passwd *pw = getpwnam(user);

	ck_assert_ptr_nonnull(pw);
	return (pw->pw_uid);
}

/* The test users: outside any list, in the allowed group, allowed by uid. */
static bool
make_users(void)
{
	if (geteuid() != 0) {
		tu_skip("creating test users needs root");
		return (false);
	}
	ck_assert_int_eq(
	    tu_sh("getent group ovioallow >/dev/null || groupadd ovioallow"),
	    0);
	tu_ensure_user("ovioprobe_out", NULL);
	tu_ensure_user("ovioprobe_in", "ovioallow");
	tu_ensure_user("ovioprobe_uid", NULL);
	/* ovioallow as the primary group only: not in the group's list. */
	ck_assert_int_eq(tu_sh("id -u ovioprobe_pri >/dev/null 2>&1 || "
	                       "useradd -M -N -g ovioallow -s "
	                       "/usr/sbin/nologin ovioprobe_pri"),
	    0);
	return (true);
}

static void
setup(void)
{
	tu_tmpdir(dir, sizeof(dir));
}

static void
teardown(void)
{
	tu_daemon_cleanup(&d);
	tu_sh("pkill -u ovioprobe_out -f ovio-peer-test >/dev/null 2>&1");
	tu_rmtree(dir);
}

/* How many lines of the file path hold the text s. */
static int
file_count(const char *path, const char *s)
{
	char  line[1024];
	FILE *f = fopen(path, "r");
	int   n = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		n += strstr(line, s) != NULL;
	}
	fclose(f);
	return (n);
}

/* Whether the file path holds the text s. */
static bool
file_has(const char *path, const char *s)
{
	return (tu_sh("grep -qF -- '%s' %s", s, path) == 0);
}

/* ovio ARGS as user; its exit status. */
static int
ovio_as(const char *user, const char *args)
{
	return (tu_sh("runuser -u %s -- %s/ovio -e %s %s >%s/out.txt 2>&1",
	    user, tu_build(), d.url, args, dir));
}

static bool
one_session(const ovio_service_status *st, void *arg)
{
	(void) arg;
	return (st->sessions == 1);
}

static bool
sessions_are(const ovio_service_status *st, void *arg)
{
	return (st->sessions == *(uint64_t *) arg);
}

START_TEST(allow_list_admits_listed_users_and_groups_only)
{
	ovio_service_status st;
	ovio_client        *c;
	struct stat         sb;
	char                line[128];

	if (!make_users()) {
		return;
	}
	tu_daemon_start(&d, NULL, "--allow-group", "ovioallow", "--allow-uid",
	    "ovioprobe_uid", NULL);
	/* Searchable, so the other users get as far as the socket. */
	ck_assert_int_eq(chmod(d.dir, 0755), 0);
	/* Anyone may connect to the socket; the credentials decide. */
	ck_assert_int_eq(stat(d.url + strlen("ipc://"), &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0666);
	c = tu_connect(&d);

	/* Not listed: dropped before its request, and logged with its uid. */
	ck_assert_int_eq(ovio_as("ovioprobe_out", "status"), 5);
	snprintf(line, sizeof(line), "refused: uid %lu,",
	    (unsigned long) uid_of("ovioprobe_out"));
	ck_assert(file_has(d.log, line));
	ck_assert(file_has(d.log, "not allowed (--allow-uid, --allow-group)"));
	/* A member of the allowed group, one whose primary group it is, and
	 * a user allowed by name. */
	ck_assert_int_eq(ovio_as("ovioprobe_in", "status"), 0);
	ck_assert_int_eq(ovio_as("ovioprobe_pri", "status"), 0);
	ck_assert_int_eq(ovio_as("ovioprobe_uid", "status"), 0);
	snprintf(line, sizeof(line), "refused: uid %lu,",
	    (unsigned long) uid_of("ovioprobe_in"));
	ck_assert(!file_has(d.log, line));
	/* The service's own user (root here) is served, and the others'
	 * sessions are gone once their clients are (removed as nng reaps
	 * them: waited for). */
	ck_assert_int_eq(ovio_status(c, &st), 0);
	ck_assert(tu_wait_status(c, tu_ms(5000), one_session, NULL));
	ovio_disconnect(c);
}
END_TEST

START_TEST(allow_list_options_are_checked)
{
	char err[512];

	snprintf(err, sizeof(err), "%s/err.txt", dir);
	ck_assert_int_eq(tu_sh("%s/oviod --root %s/r --listen ipc://%s/s.sock "
	                       "--allow-group ovio-no-such-group 2>%s",
	                     tu_build(), dir, dir, err),
	    2);
	ck_assert(
	    file_has(err, "--allow-group ovio-no-such-group: no such group"));
	ck_assert_int_eq(tu_sh("%s/oviod --root %s/r --listen ipc://%s/s.sock "
	                       "--allow-uid ovio-no-such-user 2>%s",
	                     tu_build(), dir, dir, err),
	    2);
	ck_assert(file_has(err, "--allow-uid ovio-no-such-user: no such user"));
	/* tcp:// peers have no uid to check: refused with a list. */
	ck_assert_int_eq(
	    tu_sh("%s/oviod --root %s/r --listen tcp://127.0.0.1:1 "
	          "--allow-uid 0 2>%s",
	        tu_build(), dir, err),
	    2);
	ck_assert(file_has(err, "a tcp:// peer has no uid"));
	ck_assert_int_eq(tu_sh("[ $(wc -l <%s) -eq 1 ]", err), 0);
	/* Transports these rules do not know are not served at all. */
	ck_assert_int_eq(
	    tu_sh("%s/oviod --root %s/r --listen ws://127.0.0.1:1/x "
	          "2>%s",
	        tu_build(), dir, err),
	    2);
	ck_assert(file_has(err, "only ipc://, tls+tcp:// and tcp://"));
	ck_assert_int_eq(tu_sh("%s/oviod --root %s/r --listen abstract://ovio "
	                       "2>%s",
	                     tu_build(), dir, err),
	    2);
	ck_assert(file_has(err, "only ipc://, tls+tcp:// and tcp://"));
}
END_TEST

/* oviod on ipc://DIR/NAME: its exit status, its stderr in DIR/err.txt. */
static int
start_at(const char *folder, const char *name)
{
	return (tu_sh("timeout 10 %s/oviod --root %s/r --listen ipc://%s/%s "
	              "2>%s/err.txt",
	    tu_build(), dir, folder, name, dir));
}

START_TEST(planted_socket_paths_are_refused)
{
	char f[512], err[512], sock[600];
	int  i;

	if (!make_users()) {
		return;
	}
	snprintf(err, sizeof(err), "%s/err.txt", dir);
	/* A folder like /tmp: anyone may create in it, the sticky bit set. */
	snprintf(f, sizeof(f), "%s/shared", dir);
	ck_assert_int_eq(mkdir(f, 0755), 0);
	ck_assert_int_eq(chmod(f, 01777), 0);
	ck_assert_int_eq(chmod(dir, 0755), 0);

	/* Another user's file where the socket would be. */
	ck_assert_int_eq(
	    tu_sh("runuser -u ovioprobe_out -- touch %s/file.sock", f), 0);
	ck_assert_int_eq(start_at(f, "file.sock"), 1);
	ck_assert(file_has(err, "file.sock exists and is not a socket"));
	ck_assert_int_eq(tu_sh("[ $(wc -l <%s) -eq 1 ]", err), 0);

	/* Another user's live listener posing as the service. */
	snprintf(sock, sizeof(sock), "%s/live.sock", f);
	ck_assert_int_eq(tu_sh("runuser -u ovioprobe_out -- python3 -c \""
	                       "import socket, time, sys; "
	                       "s = socket.socket(socket.AF_UNIX); "
	                       "s.bind('%s'); s.listen(); time.sleep(30)\" "
	                       "ovio-peer-test >/dev/null 2>&1 &",
	                     sock),
	    0);
	for (i = 0; i < 500 && access(sock, F_OK) != 0; i++) {
		usleep(10000);
	}
	ck_assert_int_eq(access(sock, F_OK), 0);
	ck_assert_int_eq(start_at(f, "live.sock"), 1);
	ck_assert(file_has(err, "live.sock is a socket of uid"));
	ck_assert(file_has(err, "another user"));

	/* A folder others may write to without the sticky bit. */
	ck_assert_int_eq(chmod(f, 0777), 0);
	ck_assert_int_eq(start_at(f, "new.sock"), 1);
	ck_assert(file_has(err, "may be written by others (mode 0777"));

	/* Another user's folder. */
	ck_assert_int_eq(chmod(f, 0755), 0);
	ck_assert_int_eq(tu_sh("chown ovioprobe_out %s", f), 0);
	ck_assert_int_eq(start_at(f, "new.sock"), 1);
	ck_assert(file_has(err, "belongs to uid"));

	/* A folder of ours inside one others may write to: they could move
	 * ours away and put their own in its place. */
	snprintf(f, sizeof(f), "%s/open", dir);
	ck_assert_int_eq(mkdir(f, 0700), 0);
	ck_assert_int_eq(chmod(f, 0777), 0);
	snprintf(sock, sizeof(sock), "%s/open/mine", dir);
	ck_assert_int_eq(mkdir(sock, 0700), 0);
	ck_assert_int_eq(start_at(sock, "s.sock"), 1);
	ck_assert(file_has(err, "/open may be written by others"));

	/* A link to another user's folder: only as safe as where it leads. */
	snprintf(f, sizeof(f), "%s/link", dir);
	snprintf(sock, sizeof(sock), "%s/shared", dir);
	ck_assert_int_eq(symlink(sock, f), 0);
	ck_assert_int_eq(start_at(f, "s.sock"), 1);
	ck_assert(file_has(err, "/shared belongs to uid"));

	/* A stale socket of our own (a crash): oviod starts over it. */
	snprintf(f, sizeof(f), "%s/own", dir);
	ck_assert_int_eq(mkdir(f, 0700), 0);
	ck_assert_int_eq(
	    tu_sh("python3 -c \"import socket; "
	          "socket.socket(socket.AF_UNIX).bind('%s/s.sock')\"",
	        f),
	    0);
	ck_assert_int_eq(tu_sh("timeout --preserve-status -s INT 2 %s/oviod "
	                       "--root %s/r --listen "
	                       "ipc://%s/s.sock 2>%s",
	                     tu_build(), dir, f, err),
	    0);
	ck_assert(file_has(err, "listening on ipc://"));
}
END_TEST

/*
 * f: a folder of ovioprobe_out's in the test's (0755, so that user gets
 * there) holding that user's copy of oviod, ovio-peer-test (so that pkill
 * finds it and nothing else).
 */
static void
theirs_folder(char *f, size_t len)
{
	snprintf(f, len, "%s/theirs", dir);
	ck_assert_int_eq(mkdir(f, 0700), 0);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(tu_sh("cp %s/oviod %s/ovio-peer-test && chown -R "
	                       "ovioprobe_out %s",
	                     tu_build(), f, f),
	    0);
}

START_TEST(client_refuses_a_service_of_another_user)
{
	ovio_client *c;
	char         f[512], url[600], log[600], buf[512];
	int64_t      t0, ms;
	int          i, rv;

	if (!make_users()) {
		return;
	}
	/* oviod run by ovioprobe_out in a folder of its own. */
	theirs_folder(f, sizeof(f));
	snprintf(url, sizeof(url), "ipc://%s/s.sock", f);
	snprintf(log, sizeof(log), "%s/log.txt", dir);
	ck_assert_int_eq(tu_sh("runuser -u ovioprobe_out -- %s/ovio-peer-test "
	                       "--root %s/r --listen %s 2>%s &",
	                     f, f, url, log),
	    0);
	for (i = 0; i < 500 && !file_has(log, "listening on ipc://"); i++) {
		usleep(10000);
	}
	ck_assert(file_has(log, "listening on ipc://"));

	/* The library: refused at once, not retried until the timeout. */
	t0 = tu_now_ms();
	rv = ovio_connect(&c, url, 3000);
	ms = tu_now_ms() - t0;
	ck_assert_msg(rv == OVIO_EAUTH, "connect: %s", ovio_errname(rv));
	ck_assert_msg(
	    ms < tu_ms(1500), "refused after %lld ms", (long long) ms);
	/* The CLI says why, and what to do if that is the service's user. */
	ck_assert_int_eq(
	    tu_sh("%s/ovio -e %s status 2>%s/out.txt", tu_build(), url, dir),
	    5);
	snprintf(buf, sizeof(buf), "%s/out.txt", dir);
	ck_assert(file_has(buf, "EAUTH"));
	ck_assert(file_has(buf, "set OVIO_SERVICE_USER"));
	/* Named, by name or number, it is trusted. */
	ck_assert_int_eq(tu_sh("OVIO_SERVICE_USER=ovioprobe_out %s/ovio -e %s "
	                       "status >/dev/null",
	                     tu_build(), url),
	    0);
	ck_assert_int_eq(
	    tu_sh("OVIO_SERVICE_USER=%lu %s/ovio -e %s status "
	          ">/dev/null",
	        (unsigned long) uid_of("ovioprobe_out"), tu_build(), url),
	    0);
	ck_assert_int_eq(tu_sh("OVIO_SERVICE_USER=ovioprobe_in %s/ovio -e %s "
	                       "status 2>/dev/null",
	                     tu_build(), url),
	    5);
	tu_sh("pkill -INT -u ovioprobe_out -f ovio-peer-test");
}
END_TEST

/*
 * oviod as ovioprobe_out, given no endpoint, with the environment env
 * ("" or "XDG_RUNTIME_DIR=..."), its log in log; the user's own copy of
 * oviod, so that pkill finds it.  Returns once it listens (or failed).
 */
static void
start_theirs(const char *f, const char *env, const char *log)
{
	int i;

	ck_assert_int_eq(tu_sh("runuser -u ovioprobe_out -- env -i "
	                       "PATH=/usr/bin:/bin %s %s/ovio-peer-test "
	                       "--root %s/r 2>%s &",
	                     env, f, f, log),
	    0);
	for (i = 0; i < 500 && !file_has(log, "listening on ipc://")
	            && !file_has(log, "refusing");
	     i++) {
		usleep(10000);
	}
}

static void
stop_theirs(void)
{
	int i;

	tu_sh("pkill -INT -u ovioprobe_out -f ovio-peer-test");
	for (i = 0; i < 500
	            && tu_sh("pgrep -u ovioprobe_out -f ovio-peer-test "
	                     ">/dev/null")
	                   == 0;
	     i++) {
		usleep(10000);
	}
}

/*
 * With no endpoint, a user's oviod listens in a folder of that user's only
 * ($XDG_RUNTIME_DIR/ovio, else /tmp/ovio-UID, made mode 0700), where the
 * user's ovio finds it; a /tmp/ovio-UID another user made first is refused
 * with one line, not used.
 */
START_TEST(default_endpoint_is_in_a_folder_of_the_users_own)
{
	char        f[512], log[600], tmpd[64], buf[1100], xdg[600];
	struct stat st;
	uid_t       u;

	if (!make_users()) {
		return;
	}
	u = uid_of("ovioprobe_out");
	snprintf(tmpd, sizeof(tmpd), "/tmp/ovio-%lu", (unsigned long) u);
	tu_sh("rm -rf %s", tmpd);
	theirs_folder(f, sizeof(f));
	snprintf(log, sizeof(log), "%s/log.txt", dir);

	/* No $XDG_RUNTIME_DIR: /tmp/ovio-UID, made for the user only. */
	start_theirs(f, "", log);
	snprintf(buf, sizeof(buf), "listening on ipc://%s/oviod.sock", tmpd);
	ck_assert_msg(file_has(log, buf), "no \"%s\" in the log", buf);
	ck_assert_int_eq(stat(tmpd, &st), 0);
	ck_assert_int_eq(st.st_uid, u);
	ck_assert_int_eq(st.st_mode & 07777, 0700);
	ck_assert_int_eq(tu_sh("runuser -u ovioprobe_out -- env -i "
	                       "PATH=/usr/bin:/bin %s/ovio status >/dev/null",
	                     tu_build()),
	    0);
	stop_theirs();

	/* $XDG_RUNTIME_DIR (the user's, 0700): its folder ovio. */
	snprintf(xdg, sizeof(xdg), "%s/xdg", f);
	ck_assert_int_eq(mkdir(xdg, 0700), 0);
	ck_assert_int_eq(chown(xdg, u, (gid_t) -1), 0);
	snprintf(buf, sizeof(buf), "XDG_RUNTIME_DIR=%s", xdg);
	ck_assert_int_eq(unlink(log), 0);
	start_theirs(f, buf, log);
	snprintf(buf, sizeof(buf), "listening on ipc://%s/ovio/oviod.sock", xdg);
	ck_assert_msg(file_has(log, buf), "no \"%s\" in the log", buf);
	ck_assert_int_eq(tu_sh("runuser -u ovioprobe_out -- env -i "
	                       "PATH=/usr/bin:/bin XDG_RUNTIME_DIR=%s "
	                       "%s/ovio status >/dev/null",
	                     xdg, tu_build()),
	    0);
	stop_theirs();

	/* Another user made /tmp/ovio-UID first: refused, one line, exit 1. */
	tu_sh("rm -rf %s", tmpd);
	ck_assert_int_eq(tu_sh("runuser -u ovioprobe_in -- mkdir -m 777 %s",
	                     tmpd),
	    0);
	ck_assert_int_eq(tu_sh("runuser -u ovioprobe_out -- env -i "
	                       "PATH=/usr/bin:/bin %s/ovio-peer-test --root "
	                       "%s/r 2>%s",
	                     f, f, log),
	    1);
	snprintf(buf, sizeof(buf), "the folder %s belongs to uid %lu", tmpd,
	    (unsigned long) uid_of("ovioprobe_in"));
	ck_assert_msg(file_has(log, buf), "no \"%s\" in the log", buf);
	ck_assert_int_eq(tu_sh("[ $(wc -l <%s) -eq 1 ]", log), 0);
	tu_sh("rm -rf %s", tmpd);
}
END_TEST

/* Connects to d and asks its status: the status (ECLOSED when refused). */
static int
connect_and_ask(ovio_client **c)
{
	ovio_service_status st;

	ck_assert_int_eq(ovio_connect(c, d.url, 5000), 0);
	return (ovio_status(*c, &st));
}

START_TEST(session_limits_refuse_the_one_too_many)
{
	ovio_client *c[4], *extra;
	char         line[128];
	uint64_t     two;
	int          i;

	if (!make_users()) {
		return;
	}
	tu_daemon_start(&d, NULL, "--max-sessions-per-peer", "3", "--allow-uid",
	    "ovioprobe_out", NULL);
	ck_assert_int_eq(chmod(d.dir, 0755), 0);
	/* tu_daemon_start's probe session first gone (nng reaps it). */
	ck_assert_int_eq(connect_and_ask(&c[0]), 0);
	ck_assert(tu_wait_status(c[0], tu_ms(5000), one_session, NULL));
	for (i = 1; i < 3; i++) {
		ck_assert_int_eq(connect_and_ask(&c[i]), 0);
	}
	/* The fourth of one uid: dropped before its request, and logged. */
	ck_assert_int_eq(connect_and_ask(&extra), OVIO_ECLOSED);
	ovio_disconnect(extra);
	snprintf(line, sizeof(line), "refused: uid %lu is at --max-sessions",
	    (unsigned long) getuid());
	ck_assert(file_has(d.log, line));
	/* Another peer is not held back by this one's connections. */
	ck_assert_int_eq(ovio_as("ovioprobe_out", "status"), 0);
	/* Nor is the admin endpoint. */
	ck_assert_int_eq(
	    tu_sh("%s/ovio -e %s admin sessions >/dev/null", tu_build(), d.url),
	    0);
	/* One goes, and its place is free again. */
	ovio_disconnect(c[0]);
	two = 2;
	ck_assert(tu_wait_status(c[1], tu_ms(5000), sessions_are, &two));
	ck_assert_int_eq(connect_and_ask(&c[3]), 0);
	for (i = 1; i < 4; i++) {
		ovio_disconnect(c[i]);
	}
	tu_daemon_cleanup(&d);

	/* In all: the third connection of anyone is refused. */
	tu_daemon_start(&d, NULL, "--max-sessions", "2", NULL);
	ck_assert_int_eq(connect_and_ask(&c[0]), 0);
	ck_assert(tu_wait_status(c[0], tu_ms(5000), one_session, NULL));
	ck_assert_int_eq(connect_and_ask(&c[1]), 0);
	ck_assert_int_eq(connect_and_ask(&extra), OVIO_ECLOSED);
	ovio_disconnect(extra);
	ck_assert_int_eq(
	    tu_sh("%s/ovio -e %s admin sessions >/dev/null", tu_build(), d.url),
	    0);
	ovio_disconnect(c[0]);
	ovio_disconnect(c[1]);
}
END_TEST

START_TEST(idle_sessions_are_closed_busy_ones_kept)
{
	ovio_service_status st;
	ovio_client        *idle, *holder, *asker;
	uint64_t            h;
	int64_t             deadline;
	int                 rv;

	tu_daemon_start(&d, NULL, "--idle-timeout", "1", NULL);
	ck_assert_int_eq(connect_and_ask(&idle), 0);
	ck_assert_int_eq(connect_and_ask(&holder), 0);
	ck_assert_int_eq(connect_and_ask(&asker), 0);
	ck_assert_int_eq(
	    ovio_open(holder, "f", OVIO_OPEN_WRITE | OVIO_OPEN_CREATE, 0, &h),
	    0);
	/* idle says nothing: closed after its second; the others go on. */
	deadline = tu_now_ms() + tu_ms(6000);
	while (!file_has(d.log, "idle for 1 s (--idle-timeout): closed")
	       && tu_now_ms() < deadline) {
		ck_assert_int_eq(ovio_status(asker, &st), 0);
		usleep(200000);
	}
	ck_assert(file_has(d.log, "idle for 1 s (--idle-timeout): closed"));
	/* The rest of a second more: the holder (a handle open, no request)
	 * and the asker (a request every 200 ms) are kept. */
	deadline = tu_now_ms() + 1500;
	while (tu_now_ms() < deadline) {
		ck_assert_int_eq(ovio_status(asker, &st), 0);
		usleep(200000);
	}
	ck_assert_int_eq(ovio_status(holder, &st), 0);
	ck_assert_uint_eq(st.handles, 1);
	rv = ovio_status(idle, &st);
	ck_assert_msg(rv == OVIO_ECLOSED, "idle client: %s", ovio_errname(rv));
	ck_assert_int_eq(ovio_close(holder, h), 0);
	ovio_disconnect(idle);
	ovio_disconnect(holder);
	ovio_disconnect(asker);
}
END_TEST

/* A mkdir of path with the at-most-once ids cid and rid, as a frame. */
static nng_msg *
mkdir_frame(const char *path, uint64_t cid, uint64_t rid)
{
	Ovio__Request rq = OVIO__REQUEST__INIT;
	nng_msg      *m;

	rq.op         = OVIO__OP__OP_MKDIR;
	rq.tag        = 9;
	rq.path       = (char *) path;
	rq.client_id  = cid;
	rq.request_id = rid;
	ck_assert_int_eq(nng_msg_alloc(&m, 0), 0);
	ck_assert_int_eq(ovio__wire_encode_request(m, &rq, NULL, 0), 0);
	return (m);
}

/* Sends m over a REQ socket of this process's own; the reply's status. */
static int
send_frame(nng_msg *m)
{
	Ovio__Reply *rp;
	nng_socket   s;
	uint8_t     *p;
	size_t       n;
	int          st;

	ck_assert_int_eq(nng_req0_open(&s), 0);
	ck_assert_int_eq(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 10000), 0);
	ck_assert_int_eq(nng_dial(s, d.url, NULL, 0), 0);
	ck_assert_int_eq(nng_sendmsg(s, m, 0), 0);
	ck_assert_int_eq(nng_recvmsg(s, &m, 0), 0);
	ck_assert_int_eq(ovio__wire_decode_reply(m, &rp, &p, &n), 0);
	st = (int) rp->status;
	ovio__reply__free_unpacked(rp, NULL);
	nng_msg_free(m);
	nng_close(s);
	return (st);
}

/*
 * The reply cache binds a request's ids to its sender: the same client id
 * and request id from another uid are that peer's own request (not refused
 * as a reuse, not answered with the first one's reply), while from the
 * same uid they still are a reuse (EREQID).  The other uid speaks nng's
 * ipc framing by hand (python), as a client that learnt the ids would.
 */
START_TEST(reply_cache_ids_belong_to_their_sender)
{
	char        body[512], made[512];
	nng_msg    *m;
	struct stat st;
	FILE       *f;

	if (!make_users()) {
		return;
	}
	tu_daemon_start(&d, NULL, "--allow-uid", "ovioprobe_out", NULL);
	ck_assert_int_eq(chmod(d.dir, 0755), 0);
	ck_assert_int_eq(send_frame(mkdir_frame("a", 0x77, 5)), 0);

	/* The same ids, another folder, from another uid: it runs. */
	m = mkdir_frame("b", 0x77, 5);
	snprintf(body, sizeof(body), "%s/body.bin", dir);
	ck_assert_ptr_nonnull(f = fopen(body, "wb"));
	ck_assert_uint_eq(
	    fwrite(nng_msg_body(m), 1, nng_msg_len(m), f), nng_msg_len(m));
	fclose(f);
	nng_msg_free(m);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(chmod(body, 0644), 0);
	ck_assert_int_eq(
	    tu_sh(
	        "runuser -u ovioprobe_out -- python3 -c '"
	        "import socket, struct, sys\n"
	        "def get(s, n):\n"
	        "    b = b\"\"\n"
	        "    while len(b) < n:\n"
	        "        c = s.recv(n - len(b))\n"
	        "        if not c: sys.exit(3)\n"
	        "        b += c\n"
	        "    return b\n"
	        "body = open(sys.argv[2], \"rb\").read()\n"
	        "s = socket.socket(socket.AF_UNIX)\n"
	        "s.connect(sys.argv[1])\n"
	        "s.sendall(b\"\\0SP\\0\\0\\x30\\0\\0\")\n"
	        "get(s, 8)\n"
	        "msg = struct.pack(\">I\", 0x80000001) + body\n"
	        "s.sendall(b\"\\x01\" + struct.pack(\">Q\", len(msg)) + msg)\n"
	        "get(s, 1)\n"
	        "get(s, struct.unpack(\">Q\", get(s, 8))[0])\n"
	        "' %s %s",
	        d.url + strlen("ipc://"), body),
	    0);
	snprintf(made, sizeof(made), "%s/b", d.root);
	ck_assert_msg(stat(made, &st) == 0 && S_ISDIR(st.st_mode),
	    "the other uid's request did not run");

	/* From the first sender, those ids are taken: a reuse. */
	ck_assert_int_eq(send_frame(mkdir_frame("c", 0x77, 5)), OVIO_EREQID);
	snprintf(made, sizeof(made), "%s/c", d.root);
	ck_assert_int_ne(stat(made, &st), 0);
}
END_TEST

/*
 * A raw ipc connection to url that has done nng's SP handshake as a REQ
 * peer (the service's REP header read back): a stranger's, speaking the
 * framing by hand.  Returns the socket.
 */
static int
sp_connect(const char *url)
{
	static const uint8_t hello[8] = { 0, 'S', 'P', 0, 0, 0x30, 0, 0 };
	struct sockaddr_un   sa;
	uint8_t              back[8];
	size_t               got = 0;
	ssize_t              n;
	int                  fd;

	ck_assert_int_ge(fd = socket(AF_UNIX, SOCK_STREAM, 0), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(url + 6), sizeof(sa.sun_path));
	memcpy(sa.sun_path, url + 6, strlen(url + 6) + 1);
	ck_assert_int_eq(connect(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	ck_assert_int_eq(send(fd, hello, 8, MSG_NOSIGNAL), 8);
	while (got < 8 && (n = recv(fd, back + got, 8 - got, 0)) > 0) {
		got += (size_t) n;
	}
	ck_assert_int_eq(got, 8);
	ck_assert_int_eq(back[5], 0x31); /* REP */
	return (fd);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;

	return (x < y ? -1 : x > y);
}

/*
 * The q-th quantile (0.9: 90th percentile) of n status round trips on c,
 * in microseconds.  n large enough that one hiccup of this VM does not
 * make the figure.
 */
static int64_t
status_us(ovio_client *c, int n, double q)
{
	ovio_service_status st;
	int64_t            *us, t0, r;
	struct timespec     ts;
	int                 i;

	ck_assert_ptr_nonnull(us = calloc((size_t) n, sizeof(*us)));
	for (i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		t0 = (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
		ck_assert_int_eq(ovio_status(c, &st), 0);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		us[i] = (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - t0;
	}
	qsort(us, (size_t) n, sizeof(us[0]), cmp_i64);
	r = us[(int) (q * n)];
	free(us);
	return (r);
}

static int64_t
p90_status_us(ovio_client *c)
{
	return (status_us(c, 200, 0.9));
}

/*
 * A frame's declared length is not memory until its bytes arrive: 20
 * strangers each declare a 16 MiB frame, send 1 KiB of it and stall.  Once
 * the service has seen 16 MiB writes (so that glibc serves such sizes from
 * its heaps, where nng's zeroed allocation is resident at once), nng 1.5.2
 * allocated each whole frame at its header: about 320 MiB.  With
 * nni_msg_rx_next (install/nng-patches/0006) each holds 64 KiB until more
 * comes.  Meanwhile a connected client and a new one are served.
 */
START_TEST(declared_frames_are_not_memory_until_they_arrive)
{
	enum { N = 20, BODY = 1024 };
	ovio_client *c, *other;
	uint8_t     *big, head[9], junk[BODY];
	uint64_t     h, len = 16u << 20;
	size_t       put;
	long         rss0, rss1 = 0;
	int64_t      idle_us, loaded_us, t0;
	int          fds[N], i;

	tu_daemon_start(&d, NULL, NULL);
	c = tu_connect(&d);
	other = tu_connect(&d);
	/* Warm up: two 16 MiB writes, received and freed. */
	ck_assert_ptr_nonnull(big = calloc(1, 16u << 20));
	ck_assert_int_eq(ovio_open(c, "big", OVIO_OPEN_WRITE | OVIO_OPEN_CREATE,
	                     0600, &h),
	    0);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(ovio_pwrite(c, h, big, 16u << 20, 0, &put), 0);
		ck_assert_uint_eq(put, 16u << 20);
	}
	free(big);
	idle_us = p90_status_us(other);
	rss0    = tu_status_kib(d.pid, "VmRSS");

	head[0] = 1;
	for (i = 0; i < 8; i++) {
		head[1 + i] = (uint8_t) (len >> (56 - 8 * i));
	}
	memset(junk, 0x5a, sizeof(junk));
	for (i = 0; i < N; i++) {
		fds[i] = sp_connect(d.url);
		ck_assert_int_eq(send(fds[i], head, 9, MSG_NOSIGNAL), 9);
		ck_assert_int_eq(send(fds[i], junk, BODY, MSG_NOSIGNAL), BODY);
	}
	/* Served meanwhile: the client connected before, and a new one. */
	loaded_us = p90_status_us(other);
	ovio_disconnect(tu_connect(&d));
	/* The largest resident size over the next half second. */
	t0 = tu_now_ms();
	do {
		long r = tu_status_kib(d.pid, "VmRSS");
		rss1   = r > rss1 ? r : rss1;
		usleep(20000);
	} while (tu_now_ms() - t0 < 500);
	printf("peers: %d stalled 16 MiB frames: oviod resident %ld -> %ld "
	       "KiB; another client's p90 round trip %lld us idle, %lld "
	       "us meanwhile\n",
	    N, rss0, rss1, (long long) idle_us, (long long) loaded_us);
	if (tu_sanitized()) {
		tu_skip("the memory bound is not checked in a sanitizer build");
	} else {
		ck_assert_int_lt(rss1 - rss0, 16 * 1024);
	}
	/* 2x, plus 20 ms for this noisy 2-core machine. */
	ck_assert_int_le(loaded_us, 2 * idle_us + tu_ms(20) * 1000);
	for (i = 0; i < N; i++) {
		close(fds[i]);
	}
	ck_assert_int_eq(ovio_close(c, h), 0);
	ovio_disconnect(c);
	ovio_disconnect(other);
}
END_TEST

/*
 * Under a descriptor limit of 300, oviod lowers --max-sessions (1000) to
 * 150 and says so, keeping the rest for files and the admin endpoint: 290
 * connections from a stranger then take 149 places, and a session still
 * opens 100 files and the admin endpoint still answers.  (Without the
 * reserve the connections took nearly every descriptor and the opens
 * failed with EMFILE.)
 */
START_TEST(descriptors_are_kept_for_files_and_the_admin_endpoint)
{
	enum { N = 290, FILES = 100 };
	ovio_client *c;
	uint64_t     h[FILES];
	uint64_t     want = 150, one = 1;
	char         name[32];
	int          fds[N], i;

	tu_daemon_wrapper[0] = "/usr/bin/prlimit";
	tu_daemon_wrapper[1] = "--nofile=300:300";
	tu_daemon_wrapper[2] = NULL;
	tu_daemon_start(&d, NULL, NULL);
	tu_daemon_wrapper[0] = NULL;
	tu_daemon_wrapper[1] = NULL;
	ck_assert(file_has(d.log, "--max-sessions lowered from 1000 to 150"));
	c = tu_connect(&d);
	/* tu_daemon_start's probe gone: c is the only session. */
	ck_assert(tu_wait_status(c, tu_ms(5000), sessions_are, &one));
	for (i = 0; i < N; i++) {
		fds[i] = sp_connect(d.url);
	}
	ck_assert_msg(tu_wait_status(c, tu_ms(10000), sessions_are, &want),
	    "not 150 sessions");
	ck_assert(file_has(d.log, "refused"));
	for (i = 0; i < FILES; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		ck_assert_int_eq(ovio_open(c, name,
		                     OVIO_OPEN_WRITE | OVIO_OPEN_CREATE, 0600,
		                     &h[i]),
		    0);
	}
	ck_assert_int_eq(tu_sh("%s/ovio -e %s admin sessions >/dev/null",
	                     tu_build(), d.url),
	    0);
	for (i = 0; i < FILES; i++) {
		ck_assert_int_eq(ovio_close(c, h[i]), 0);
	}
	for (i = 0; i < N; i++) {
		close(fds[i]);
	}
	ovio_disconnect(c);
}
END_TEST

/* Whether fd's peer closed it within ms (EOF or a reset). */
static bool
dropped_within(int fd, int64_t ms)
{
	struct pollfd p   = { .fd = fd, .events = POLLIN };
	int64_t       end = tu_now_ms() + ms;
	char          b[256];
	ssize_t       n;

	for (;;) {
		int64_t left = end - tu_now_ms();

		if (poll(&p, 1, left > 0 ? (int) left : 0) <= 0) {
			return (false);
		}
		n = recv(fd, b, sizeof(b), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			return (true);
		}
	}
}

/*
 * Item 5 of the security issue: 1 000 idle connections and 20 that each
 * declared a 16 MiB frame and stalled after 1 KiB.  oviod's resident size
 * stays within 24 MiB of where it was; a client that holds a handle is
 * served meanwhile (its p99 round trip within 2x of the larger of the
 * unloaded ones measured before and after, plus 500 us for this noisy
 * 2-core VM's scheduling; the figures are printed), and so is a new
 * client now and then while the strangers connect; and every stranger is
 * dropped at --idle-timeout, all within a second of the sweep that finds
 * it (the sweep closed only 64 a second before).
 */
START_TEST(a_thousand_idle_strangers_are_held_and_dropped)
{
	enum { IDLE = 1000, STALL = 20, N = IDLE + STALL, BODY = 1024 };
	struct rlimit       rl;
	ovio_service_status st;
	ovio_client        *c, *fresh;
	uint8_t            *big, head[9], junk[BODY];
	uint64_t            h, len = 16u << 20, want = N + 1, one = 1;
	size_t              put;
	long                rss0, rss1 = 0, r;
	int64_t             before_us, loaded_us, after_us, t0, t_held;
	int64_t             t_gone = 0, new_worst_ms = 0, t, idle_ms;
	int                 fds[N], i, late = 0, early = 0;
	char                idle_s[24];

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max < 4096) {
		tu_skip("the descriptor limit is %llu, below 4096",
		    (unsigned long long) rl.rlim_max);
		return;
	}
	rl.rlim_cur = 4096;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	/* Long enough that all connect before the first is due. */
	idle_ms = tu_ms(6000);
	snprintf(idle_s, sizeof(idle_s), "%lld", (long long) (idle_ms / 1000));
	/* The strangers are this test's uid: the per-peer limit raised. */
	tu_daemon_start(&d, NULL, "--idle-timeout", idle_s, "--max-sessions",
	    "1100", "--max-sessions-per-peer", "1100", NULL);
	c = tu_connect(&d);
	ck_assert_int_eq(ovio_open(c, "big", OVIO_OPEN_WRITE | OVIO_OPEN_CREATE,
	                     0600, &h),
	    0);
	/* Warm-up: a 16 MiB write, so that glibc serves such sizes. */
	ck_assert_ptr_nonnull(big = calloc(1, len));
	ck_assert_int_eq(ovio_pwrite(c, h, big, len, 0, &put), 0);
	free(big);
	ck_assert(tu_wait_status(c, tu_ms(5000), sessions_are, &one));
	before_us = status_us(c, 2000, 0.99);
	rss0      = tu_status_kib(d.pid, "VmRSS");

	head[0] = 1;
	for (i = 0; i < 8; i++) {
		head[1 + i] = (uint8_t) (len >> (56 - 8 * i));
	}
	memset(junk, 0x5a, sizeof(junk));
	t0 = tu_now_ms();
	for (i = 0; i < N; i++) {
		fds[i] = sp_connect(d.url);
		if (i >= IDLE) {
			ck_assert_int_eq(send(fds[i], head, 9, MSG_NOSIGNAL), 9);
			ck_assert_int_eq(
			    send(fds[i], junk, BODY, MSG_NOSIGNAL), BODY);
		}
		if (i % 100 == 99) {
			/* A new client now and then: connects and is served. */
			t = tu_now_ms();
			ck_assert_int_eq(connect_and_ask(&fresh), 0);
			ovio_disconnect(fresh);
			t = tu_now_ms() - t;
			new_worst_ms = t > new_worst_ms ? t : new_worst_ms;
		}
	}
	ck_assert_msg(tu_wait_status(c, tu_ms(5000), sessions_are, &want),
	    "not %llu sessions", (unsigned long long) want);
	t_held = tu_now_ms() - t0;
	rss1      = tu_status_kib(d.pid, "VmRSS");
	loaded_us = status_us(c, 2000, 0.99);
	r         = tu_status_kib(d.pid, "VmRSS");
	rss1      = r > rss1 ? r : rss1;
	ck_assert_int_eq(ovio_status(c, &st), 0);
	/* Nobody dropped before the timeout. */
	if (tu_now_ms() - t0 < idle_ms) {
		ck_assert_uint_eq(st.sessions, want);
	}
	ck_assert_int_eq(connect_and_ask(&fresh), 0);
	ovio_disconnect(fresh);

	/* Each dropped after its --idle-timeout, and by a second after the
	 * sweep that follows it (slack: one more second). */
	for (i = 0; i < N; i++) {
		if (dropped_within(fds[i], 0)) {
			early += tu_now_ms() - t0 < idle_ms;
		}
		if (!dropped_within(fds[i], t0 + idle_ms + tu_ms(2000) + t_held
		                                - tu_now_ms())) {
			late++;
		}
	}
	t_gone = tu_now_ms() - t0;
	ck_assert(tu_wait_status(c, tu_ms(5000), sessions_are, &one));
	ck_assert_int_eq(ovio_pwrite(c, h, "x", 1, 0, &put), 0);
	after_us = status_us(c, 2000, 0.99);
	printf("peers: %d idle connections and %d stalled 16 MiB frames, "
	       "connected in %lld ms: oviod resident %ld -> %ld KiB; a "
	       "session's p99 round trip %lld us before, %lld us loaded, "
	       "%lld us after; a new client at worst %lld ms; all dropped "
	       "%lld ms after the first connected (--idle-timeout %s s), "
	       "%d late, %d early\n",
	    IDLE, STALL, (long long) t_held, rss0, rss1,
	    (long long) before_us, (long long) loaded_us,
	    (long long) after_us, (long long) new_worst_ms,
	    (long long) t_gone, idle_s, late, early);
	ck_assert_int_eq(late, 0);
	ck_assert_int_eq(early, 0);
	ck_assert_int_eq(file_count(d.log, "(--idle-timeout): closed"), N);
	if (tu_sanitized()) {
		tu_skip("the memory bound and latency are not checked in a "
		        "sanitizer build");
	} else {
		ck_assert_int_lt(rss1 - rss0, 24 * 1024);
		ck_assert_int_le(loaded_us,
		    2 * (before_us > after_us ? before_us : after_us) + 500);
	}
	for (i = 0; i < N; i++) {
		close(fds[i]);
	}
	ck_assert_int_eq(ovio_close(c, h), 0);
	ovio_disconnect(c);
}
END_TEST

/* A small generator of the junk (xorshift: the same junk every run). */
static uint32_t
junk_next(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return (*x);
}

/*
 * One round of 50 connections of junk: each sends 20 frames of random
 * bytes (1 to 4 096 of them), then one of every five declares a frame of
 * 1 GiB (past the receive limit) and the others send half a frame; then
 * all close.  Waits until only c's session is left.
 */
static void
junk_round(ovio_client *c, uint32_t *x)
{
	enum { CONNS = 50, FRAMES = 20 };
	static uint8_t body[4096];
	uint64_t       one = 1;
	uint8_t        head[9];
	int            fds[CONNS], i, j, k;

	for (i = 0; i < CONNS; i++) {
		fds[i] = sp_connect(d.url);
		for (j = 0; j <= FRAMES; j++) {
			uint64_t n = 1 + junk_next(x) % sizeof(body);
			size_t   sent = (size_t) n;

			if (j == FRAMES) {
				n    = i % 5 == 0 ? 1u << 30 : n;
				sent = i % 5 == 0 ? 0 : (size_t) n / 2;
			}
			head[0] = 1;
			for (k = 0; k < 8; k++) {
				head[1 + k] = (uint8_t) (n >> (56 - 8 * k));
			}
			for (k = 0; k < (int) sent; k++) {
				body[k] = (uint8_t) junk_next(x);
			}
			if (send(fds[i], head, 9, MSG_NOSIGNAL) != 9
			    || send(fds[i], body, sent, MSG_NOSIGNAL)
			        != (ssize_t) sent) {
				break; /* dropped by the service: fine */
			}
		}
	}
	for (i = 0; i < CONNS; i++) {
		close(fds[i]);
	}
	ck_assert(tu_wait_status(c, tu_ms(10000), sessions_are, &one));
}

/*
 * Item 5's last part: rounds of 50 connections sending junk frames leave
 * oviod's resident size within 1 MiB above where it was after 20 rounds of
 * warm-up (the heap settles in about 15 rounds, after 900 KiB; nothing is
 * kept per junk connection or frame; less is fine), and the service
 * answers throughout.
 */
START_TEST(junk_frames_leave_no_memory_behind)
{
	enum { WARM = 20, ROUNDS = 20 };
	ovio_service_status st;
	ovio_client        *c;
	uint32_t            x = 2463534242u;
	long                rss0, rss1, most = 0;
	int                 i;

	tu_daemon_start(&d, NULL, NULL);
	c = tu_connect(&d);
	for (i = 0; i < WARM; i++) {
		junk_round(c, &x);
	}
	rss0 = tu_status_kib(d.pid, "VmRSS");
	for (i = 0; i < ROUNDS; i++) {
		long r;

		junk_round(c, &x);
		ck_assert_int_eq(ovio_status(c, &st), 0);
		r    = tu_status_kib(d.pid, "VmRSS");
		most = r > most ? r : most;
	}
	rss1 = tu_status_kib(d.pid, "VmRSS");
	printf("peers: %d rounds of 50 connections of junk frames after %d "
	       "of warm-up: oviod resident %ld -> %ld KiB (at most %ld "
	       "between rounds)\n",
	    ROUNDS, WARM, rss0, rss1, most);
	if (tu_sanitized()) {
		tu_skip("the memory bound is not checked in a sanitizer build");
	} else {
		ck_assert_int_le(rss1 - rss0, 1024);
	}
	ovio_disconnect(c);
}
END_TEST

static Suite *
peer_suite(void)
{
	Suite *s = suite_create("peers");
	TCase *tc;

#define PCASE(fn, secs)                                         \
	tc = tcase_create(#fn);                                 \
	tcase_set_timeout(tc, secs);                            \
	if (!tu_case_skipped(tc, #fn)) {                        \
		tcase_add_checked_fixture(tc, setup, teardown); \
		tcase_add_test(tc, fn);                         \
	}                                                       \
	suite_add_tcase(s, tc)

	PCASE(allow_list_admits_listed_users_and_groups_only, 30);
	PCASE(allow_list_options_are_checked, 20);
	PCASE(planted_socket_paths_are_refused, 40);
	PCASE(client_refuses_a_service_of_another_user, 30);
	PCASE(default_endpoint_is_in_a_folder_of_the_users_own, 40);
	PCASE(session_limits_refuse_the_one_too_many, 40);
	PCASE(idle_sessions_are_closed_busy_ones_kept, 30);
	PCASE(reply_cache_ids_belong_to_their_sender, 30);
	PCASE(declared_frames_are_not_memory_until_they_arrive, 30);
	PCASE(descriptors_are_kept_for_files_and_the_admin_endpoint, 40);
	PCASE(a_thousand_idle_strangers_are_held_and_dropped, 90);
	PCASE(junk_frames_leave_no_memory_behind, 60);
	return (s);
}

int
main(void)
{
	return (tu_run(peer_suite()));
}
