/* testutil.c - helpers shared by the check suites; see testutil.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#include "testutil.h"

int64_t
tu_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int64_t
tu_ms(int64_t ms)
{
	const char *v = getenv("OVIO_TIME_SCALE");
	int64_t     k = v != NULL ? atoll(v) : 1;

	return (ms * (k > 0 ? k : 1));
}

void
tu_tmpdir(char *out, size_t len)
{
	const char *t = getenv("TMPDIR");

	snprintf(out, len, "%s/ovio-test-XXXXXX", t != NULL ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(out));
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void) st;
	(void) flag;
	(void) ftw;
	return (remove(p));
}

void
tu_rmtree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
tu_build(void)
{
	const char *b = getenv("OVIO_BUILD");
	return (b != NULL ? b : "build");
}

const char *tu_daemon_wrapper[4];

void
tu_daemon_start(tu_daemon *d, const char *backend, ...)
{
	char                exe[PATH_MAX];
	const char         *argv[28];
	int                 argc = 0, fd;
	va_list             ap;
	const char         *a;
	ovio_client        *c;
	ovio_service_status st;
	int                 rv;

	memset(d, 0, sizeof(*d));
	tu_tmpdir(d->dir, sizeof(d->dir));
	snprintf(d->root, sizeof(d->root), "%s/root", d->dir);
	snprintf(d->url, sizeof(d->url), "ipc://%s/oviod.sock", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/oviod.log", d->dir);
	snprintf(exe, sizeof(exe), "%s/oviod", tu_build());
	mkdir(d->root, 0755);

	for (int i = 0; i < 3 && tu_daemon_wrapper[i] != NULL; i++) {
		argv[argc++] = tu_daemon_wrapper[i];
	}
	argv[argc++] = exe;
	argv[argc++] = "--root";
	argv[argc++] = d->root;
	argv[argc++] = "--listen";
	argv[argc++] = d->url;
	if (backend != NULL) {
		argv[argc++] = "--backend";
		argv[argc++] = backend;
	}
	va_start(ap, backend);
	while ((a = va_arg(ap, const char *)) != NULL && argc < 26) {
		argv[argc++] = a;
	}
	va_end(ap);
	argv[argc] = NULL;

	d->pid = fork();
	ck_assert_int_ge(d->pid, 0);
	if (d->pid == 0) {
		/*
		 * stdout too: a test that fails leaves oviod running until
		 * its teardown, and must not leave it holding the runner's
		 * output pipe open (tests/run.sh would wait on it).
		 */
		fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
		execv(argv[0], (char **) argv);
		_exit(127);
	}
	rv = ovio_connect(&c, d->url, 5000);
	ck_assert_msg(rv == 0, "oviod did not come up: %s", ovio_strerror(rv));
	/*
	 * One request, whatever its answer (a daemon may refuse us): once it
	 * is answered, the service has counted and logged this session, so
	 * that a test sees it only as gone, never connecting later.
	 */
	ovio_set_timeout(c, 10000);
	(void) ovio_status(c, &st);
	ovio_disconnect(c);
}

int
tu_daemon_stop(tu_daemon *d, int sig)
{
	int     status;
	int64_t deadline = tu_now_ms() + 15000;

	if (d->pid <= 0) {
		return (-1);
	}
	kill(d->pid, sig);
	while (tu_now_ms() < deadline) {
		pid_t r = waitpid(d->pid, &status, WNOHANG);
		if (r == d->pid) {
			d->pid = 0;
			return (WIFEXITED(status) ? WEXITSTATUS(status)
			                          : 128 + WTERMSIG(status));
		}
		usleep(10000);
	}
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &status, 0);
	d->pid = 0;
	return (-1);
}

void
tu_daemon_cleanup(tu_daemon *d)
{
	int status;

	/* Gone while the test thought it ran: say how, and show its log's
	 * end (a sanitizer's report is there), before the log is removed. */
	if (d->pid > 0 && waitpid(d->pid, &status, WNOHANG) == d->pid) {
		fprintf(stderr,
		    "oviod (pid %d) had ended by itself (%s %d); the end of "
		    "its log:\n",
		    (int) d->pid, WIFEXITED(status) ? "exit" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		(void) tu_sh("tail -n 60 %s >&2", d->log);
		d->pid = 0;
	}
	/* Still running, but stopping on its own or its socket gone: what a
	 * client would see as "connection refused".  Say so, with the log. */
	if (d->pid > 0
	    && (tu_sh("grep -q 'stopping:' %s", d->log) == 0
	        || access(d->url + strlen("ipc://"), F_OK) != 0)) {
		fprintf(stderr,
		    "oviod (pid %d) was still running but stopping, or its "
		    "socket was gone; its folder and the end of its log:\n",
		    (int) d->pid);
		(void) tu_sh(
		    "ls -la %s >&2; tail -n 60 %s >&2", d->dir, d->log);
	}
	if (d->pid > 0) {
		tu_daemon_stop(d, SIGKILL);
	}
	if (d->dir[0] != '\0') {
		tu_rmtree(d->dir);
	}
}

ovio_client *
tu_connect(tu_daemon *d)
{
	ovio_client *c  = NULL;
	int          rv = ovio_connect(&c, d->url, 5000);

	ck_assert_msg(rv == 0, "connect: %s", ovio_strerror(rv));
	return (c);
}

int
tu_fd_count(pid_t pid)
{
	char           path[64];
	DIR           *dir;
	struct dirent *e;
	int            n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
	if ((dir = opendir(path)) == NULL) {
		return (-1);
	}
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] != '.') {
			n++;
		}
	}
	closedir(dir);
	return (n);
}

long
tu_status_kib(pid_t pid, const char *field)
{
	char   path[64], line[256];
	FILE  *f;
	long   kib = -1;
	size_t n   = strlen(field);

	snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
	if ((f = fopen(path, "r")) == NULL) {
		return (-1);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, field, n) == 0 && line[n] == ':'
		    && sscanf(line + n + 1, "%ld kB", &kib) == 1) {
			break;
		}
	}
	fclose(f);
	return (kib);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TU_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TU_SANITIZED 1
#endif

bool
tu_sanitized(void)
{
#ifdef TU_SANITIZED
	return (true);
#else
	return (false);
#endif
}

bool
tu_fd_open_to(pid_t pid, const char *target)
{
	return (tu_fd_flags(pid, target) >= 0);
}

long
tu_fd_flags(pid_t pid, const char *target)
{
	char           path[64], link[PATH_MAX + 64], dest[PATH_MAX];
	DIR           *dir;
	struct dirent *e;
	int            fd = -1;
	ssize_t        n;
	FILE          *f;
	long           flags = -1;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
	if ((dir = opendir(path)) == NULL) {
		return (-1);
	}
	while (fd < 0 && (e = readdir(dir)) != NULL) {
		snprintf(link, sizeof(link), "%s/%s", path, e->d_name);
		if ((n = readlink(link, dest, sizeof(dest) - 1)) > 0) {
			dest[n] = '\0';
			fd = strcmp(dest, target) == 0 ? atoi(e->d_name) : -1;
		}
	}
	closedir(dir);
	if (fd < 0) {
		return (-1);
	}
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int) pid, fd);
	if ((f = fopen(path, "r")) == NULL) {
		return (-1);
	}
	while (fgets(dest, sizeof(dest), f) != NULL) {
		if (strncmp(dest, "flags:", 6) == 0) {
			flags = strtol(dest + 6, NULL, 8); /* octal */
			break;
		}
	}
	fclose(f);
	return (flags);
}

int
tu_socket_count(pid_t pid)
{
	char           path[64], link[PATH_MAX + 64], dest[64];
	DIR           *dir;
	struct dirent *e;
	int            n = 0;
	ssize_t        len;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
	if ((dir = opendir(path)) == NULL) {
		return (-1);
	}
	while ((e = readdir(dir)) != NULL) {
		snprintf(link, sizeof(link), "%s/%s", path, e->d_name);
		if ((len = readlink(link, dest, sizeof(dest) - 1)) > 0) {
			dest[len] = '\0';
			n += strncmp(dest, "socket:", 7) == 0;
		}
	}
	closedir(dir);
	return (n);
}

bool
tu_wait_sockets(pid_t pid, int n, int ms)
{
	int64_t deadline = tu_now_ms() + ms;

	while (tu_socket_count(pid) != n) {
		if (tu_now_ms() >= deadline) {
			return (false);
		}
		usleep(2000);
	}
	return (true);
}

void
tu_write_random(const char *path, size_t len, unsigned seed)
{
	FILE    *f = fopen(path, "wb");
	uint32_t x = seed * 2654435761u + 1;
	uint8_t  buf[65536];
	size_t   i, n;

	ck_assert_ptr_nonnull(f);
	while (len > 0) {
		n = len < sizeof(buf) ? len : sizeof(buf);
		for (i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			buf[i] = (uint8_t) x;
		}
		ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
		len -= n;
	}
	ck_assert_int_eq(fclose(f), 0);
}

bool
tu_wait_status(ovio_client *c, int                           ms,
    bool (*pred)(const ovio_service_status *, void *), void *arg)
{
	ovio_service_status st;
	int64_t             deadline = tu_now_ms() + ms;

	do {
		ck_assert_int_eq(ovio_status(c, &st), 0);
		if (pred(&st, arg)) {
			return (true);
		}
		usleep(2000);
	} while (tu_now_ms() < deadline);
	return (false);
}

bool
tu_have_uring(void)
{
	struct io_uring ring;

	/* As oviod does (port/uring.c): skips can be tried anywhere. */
	if (getenv("OVIO_DISABLE_URING") != NULL) {
		return (false);
	}
	if (io_uring_queue_init(4, &ring, 0) < 0) {
		return (false);
	}
	io_uring_queue_exit(&ring);
	return (true);
}

void
tu_coll_init(tu_collector *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->mtx, NULL);
	pthread_cond_init(&c->cv, NULL);
}

void
tu_coll_reset(tu_collector *c)
{
	pthread_mutex_lock(&c->mtx);
	c->n = 0;
	memset(c->data, 0, sizeof(c->data));
	pthread_mutex_unlock(&c->mtx);
}

void
tu_coll_cb(void *arg, const ovio_result *r)
{
	tu_collector *c = arg;

	pthread_mutex_lock(&c->mtx);
	if (c->n < TU_MAXC) {
		c->res[c->n] = *r;
		if (r->op == OVIO_OP_READ && r->status == 0 && r->bytes > 0
		    && c->data[0] == 0) {
			memcpy(c->data, r->data, r->bytes < 8 ? r->bytes : 8);
		}
		c->res[c->n].data = NULL;
	}
	c->n++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mtx);
}

void
tu_cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mtx, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long) ms * 1000000;
	while (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(cv, mtx, &ts);
}

int
tu_coll_wait(tu_collector *c, int n, int ms)
{
	int64_t deadline = tu_now_ms() + ms;
	int     got;

	pthread_mutex_lock(&c->mtx);
	while (c->n < n && tu_now_ms() < deadline) {
		tu_cond_wait_ms(&c->cv, &c->mtx, 5);
	}
	got = c->n;
	pthread_mutex_unlock(&c->mtx);
	return (got);
}

const ovio_result *
tu_coll_find(tu_collector *c, uint64_t tag, int *count)
{
	const ovio_result *r = NULL;
	int                i;

	*count = 0;
	pthread_mutex_lock(&c->mtx);
	for (i = 0; i < c->n && i < TU_MAXC; i++) {
		if (c->res[i].tag == tag) {
			r = &c->res[i];
			(*count)++;
		}
	}
	pthread_mutex_unlock(&c->mtx);
	return (r);
}

pid_t
tu_spawn(char *const argv[], FILE **out)
{
	int   p[2];
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	*out = fdopen(p[0], "r");
	ck_assert_ptr_nonnull(*out);
	return (pid);
}

static void
tu_skip_v(const char *name, const char *fmt, va_list ap)
{
	printf("SKIP: %s: ", name);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
}

void
tu_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tu_skip_v(tcase_name(), fmt, ap);
	va_end(ap);
}

/* The names of the cases tu_case_skipped stood in for, by loop index. */
#define TU_MAXSKIP 64
static const char *tu_skip_all_why;
static const char *tu_skip_names[TU_MAXSKIP];
static int         tu_nskip;

void
tu_skip_all(const char *why)
{
	tu_skip_all_why = why;
}

static void
tu_skip_name(const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tu_skip_v(name, fmt, ap);
	va_end(ap);
}

START_TEST(tu_skipped_case)
{
	tu_skip_name(tu_skip_names[_i], "%s", tu_skip_all_why);
}
END_TEST

bool
tu_case_skipped(TCase *tc, const char *name)
{
	if (tu_skip_all_why == NULL) {
		return (false);
	}
	if (tu_nskip == TU_MAXSKIP) {
		fprintf(stderr, "testutil: more than %d cases\n", TU_MAXSKIP);
		abort(); /* a suite building error, not a test failure */
	}
	tu_skip_names[tu_nskip] = name;
	/* A loop of one: _i tells the test which case it stands for. */
	tcase_add_loop_test(tc, tu_skipped_case, tu_nskip, tu_nskip + 1);
	tu_nskip++;
	return (true);
}

int
tu_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int      failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}

int
tu_sh(const char *fmt, ...)
{
	char    cmd[8192];
	va_list ap;
	int     st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return (WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

void
tu_ensure_user(const char *user, const char *group)
{
	if (tu_sh("id -u %s >/dev/null 2>&1", user) == 0) {
		if (group != NULL) {
			ck_assert_int_eq(
			    tu_sh("usermod -a -G %s %s", group, user), 0);
		}
		return;
	}
	ck_assert_int_eq(
	    tu_sh("useradd -M -N -s /usr/sbin/nologin %s%s %s",
	        group != NULL ? "-G " : "", group != NULL ? group : "", user),
	    0);
}
