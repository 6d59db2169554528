/*
 * os/posix/host.c - oviod as a POSIX daemon.
 *
 * Runs in the foreground (a terminal, or systemd Type=notify); SIGTERM and
 * SIGINT ask for a graceful stop, SIGHUP for a reload.  The signals are
 * blocked in every thread and the main thread takes them with
 * sigtimedwait, so no wake-up is lost and no other thread sees them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <nng/transport/ipc/ipc.h>

#include "host.h"
#include "log.h"
#include "ovio_err.h"

static sigset_t host_stopset;    /* SIGTERM, SIGINT, SIGHUP */
static bool     host_stop_asked; /* ovio__host_request_stop: logged there */

/*
 * The handler never runs while the signals are blocked, which they are in
 * every thread (ovio__host_setup_signals): the main thread takes them with
 * sigtimedwait.  It is there so that a signal is never the default action
 * (for SIGHUP: exit).
 */
static void
host_on_signal(int sig)
{
	(void) sig;
}

/*
 * Sends msg (newline-separated assignments) to systemd's $NOTIFY_SOCKET, if
 * there is one (sd_notify(3)'s protocol: one datagram).
 */
static void
host_notify(const char *msg)
{
	const char        *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	int                fd;

	if (path == NULL || path[0] == '\0'
	    || strlen(path) >= sizeof(sa.sun_path)) {
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	if (sa.sun_path[0] == '@') {
		sa.sun_path[0] = '\0'; /* abstract socket */
	}
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		return;
	}
	(void) sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *) &sa,
	    (socklen_t) (offsetof(struct sockaddr_un, sun_path)
	                 + strlen(path)));
	close(fd);
}

/*
 * The watchdog's period: half of $WATCHDOG_USEC when it is meant for this
 * process ($WATCHDOG_PID, if set, is our pid), else 0.
 */
static uint64_t
host_watchdog_usec(void)
{
	const char        *v = getenv("WATCHDOG_USEC");
	const char        *p = getenv("WATCHDOG_PID");
	unsigned long long usec;
	char              *end;

	if (v == NULL || v[0] == '\0') {
		return (0);
	}
	usec = strtoull(v, &end, 10);
	if (*end != '\0' || usec == 0) {
		return (0);
	}
	if (p != NULL && p[0] != '\0'
	    && strtol(p, NULL, 10) != (long) getpid()) {
		return (0);
	}
	return (usec / 2);
}

/* The drain timeout (ovio__host_set_drain_ms), for EXTEND_TIMEOUT_USEC. */
static unsigned long host_drain_ms = 10000;

/*
 * SIGHUP reloads (hooks->reload) and never stops the service; SIGTERM and
 * SIGINT stop it.  The main thread takes them with sigtimedwait.  When
 * systemd asks for a watchdog, a ping is due every period on a monotonic
 * clock, whatever else wakes the loop (reloads cannot put it off).
 */
void
ovio__host_wait_stop(const ovio__host_hooks *hooks)
{
	uint64_t        wd  = host_watchdog_usec();
	uint64_t        due = wd != 0 ? ovio__host_clock_us() + wd : 0, now;
	struct timespec left;
	char            msg[128];
	int             sig;

	for (;;) {
		if (wd != 0) {
			if ((now = ovio__host_clock_us()) >= due) {
				if (hooks == NULL || hooks->alive == NULL
				    || hooks->alive(hooks->arg)) {
					host_notify("WATCHDOG=1");
				}
				now = ovio__host_clock_us();
				due = now + wd;
			}
			left.tv_sec  = (time_t) ((due - now) / 1000000);
			left.tv_nsec = (long) ((due - now) % 1000000) * 1000;
		}
		sig = sigtimedwait(&host_stopset, NULL, wd != 0 ? &left : NULL);
		if (sig == SIGTERM || sig == SIGINT) {
			/* ovio admin shutdown said so itself (admin.c). */
			if (!__atomic_load_n(
			        &host_stop_asked, __ATOMIC_ACQUIRE)) {
				ovio__log("stop: %s received",
				    sig == SIGTERM ? "SIGTERM" : "SIGINT");
			}
			break;
		}
		if (sig == SIGHUP) {
			host_notify("RELOADING=1\nSTATUS=reloading");
			if (hooks != NULL && hooks->reload != NULL) {
				hooks->reload(hooks->arg);
			} else {
				ovio__log("reload (SIGHUP): nothing to reload");
			}
			host_notify("READY=1\nSTATUS=serving (reloaded)");
		}
	}
	/* The unit's stop timeout is extended to the drain's own, plus 5 s. */
	snprintf(msg, sizeof(msg),
	    "STOPPING=1\nEXTEND_TIMEOUT_USEC=%llu\nSTATUS=stopping: draining",
	    (unsigned long long) (host_drain_ms + 5000) * 1000u);
	host_notify(msg);
}

void
ovio__host_request_stop(void)
{
	/* The main thread, in sigtimedwait, is the one that takes it. */
	__atomic_store_n(&host_stop_asked, true, __ATOMIC_RELEASE);
	(void) kill(getpid(), SIGTERM);
}

void
ovio__host_request_reload(void)
{
	(void) kill(getpid(), SIGHUP);
}

void
ovio__host_set_drain_ms(unsigned long ms)
{
	host_drain_ms = ms; /* the main thread's: set and read there */
}

/* systemd Type=notify: READY=1 and a status line. */
void
ovio__host_ready(const char *status)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	host_notify(msg);
}

const char *
ovio__host_default_root(void)
{
	static char buf[4096];
	const char *v;

	if ((v = getenv("OVIO_ROOT")) != NULL && v[0] != '\0') {
		return (v);
	}
	if ((v = getenv("XDG_DATA_HOME")) != NULL && v[0] != '\0') {
		snprintf(buf, sizeof(buf), "%s/ovio", v);
		return (buf);
	}
	if ((v = getenv("HOME")) != NULL && v[0] != '\0') {
		snprintf(buf, sizeof(buf), "%s/.local/share/ovio", v);
		/* Make the parents; the engine makes the last component. */
		char parent[4096];
		snprintf(parent, sizeof(parent), "%s/.local", v);
		(void) mkdir(parent, 0755);
		snprintf(parent, sizeof(parent), "%s/.local/share", v);
		(void) mkdir(parent, 0755);
		return (buf);
	}
	return ("ovio-data");
}

uint64_t
ovio__host_clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (
	    (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u);
}

void
ovio__host_timestamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm       tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000000L);
}

/* The allow-list (ovio__host_peer_allow); read-only once the service runs. */
static struct {
	bool   restricted;
	uid_t *uids;
	size_t nuids;
	gid_t *gids;
	size_t ngids;
} host_peers;

void
ovio__host_listener_setup(nng_listener l, const char *url)
{
	if (strncmp(url, "ipc://", 6) == 0) {
		/*
		 * Only the owner may connect to the socket file; with an
		 * allow-list, anyone may, and each peer is checked by the
		 * credentials the kernel gives (server.c).
		 */
		(void) nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS,
		    host_peers.restricted ? 0666 : 0600);
	}
}

static bool
host_add_uid(uid_t u)
{
	uid_t *v
	    = realloc(host_peers.uids, (host_peers.nuids + 1) * sizeof(*v));

	if (v == NULL) {
		return (false);
	}
	host_peers.uids                     = v;
	host_peers.uids[host_peers.nuids++] = u;
	return (true);
}

static bool
host_add_gid(gid_t g)
{
	gid_t *v
	    = realloc(host_peers.gids, (host_peers.ngids + 1) * sizeof(*v));

	if (v == NULL) {
		return (false);
	}
	host_peers.gids                     = v;
	host_peers.gids[host_peers.ngids++] = g;
	return (true);
}

/* NAME is all digits: *n is its value. */
static bool
host_number(const char *name, unsigned long *n)
{
	char *end;

	if (name[0] < '0' || name[0] > '9') {
		return (false);
	}
	*n = strtoul(name, &end, 10);
	return (*end == '\0');
}

/* One user of --allow-uid: a name or a number (which need not exist). */
static int
host_allow_user(const char *name, char *why, size_t len)
{
	struct passwd *pw;
	unsigned long  n;

	if (host_number(name, &n)) {
		return (host_add_uid((uid_t) n) ? 0 : OVIO_ENOMEM);
	}
	if ((pw = getpwnam(name)) == NULL) {
		snprintf(why, len, "--allow-uid %s: no such user", name);
		return (OVIO_EINVAL);
	}
	return (host_add_uid(pw->pw_uid) ? 0 : OVIO_ENOMEM);
}

/* One group of --allow-group: its gid, and its members' uids. */
static int
host_allow_group(const char *name, char *why, size_t len)
{
	struct group  *g;
	struct passwd *pw;
	unsigned long  n;
	char         **m;

	g = host_number(name, &n) ? getgrgid((gid_t) n) : getgrnam(name);
	if (g == NULL) {
		snprintf(why, len, "--allow-group %s: no such group", name);
		return (OVIO_EINVAL);
	}
	if (!host_add_gid(g->gr_gid)) {
		return (OVIO_ENOMEM);
	}
	for (m = g->gr_mem; *m != NULL; m++) {
		if ((pw = getpwnam(*m)) != NULL && !host_add_uid(pw->pw_uid)) {
			return (OVIO_ENOMEM);
		}
	}
	return (0);
}

int
ovio__host_peer_allow(const char *name, bool group, char *why, size_t len)
{
	int rv;

	host_peers.restricted = true;
	rv = group ? host_allow_group(name, why, len)
	           : host_allow_user(name, why, len);
	if (rv == OVIO_ENOMEM) {
		snprintf(why, len, "out of memory");
	}
	return (rv);
}

bool
ovio__host_peers_restricted(void)
{
	return (host_peers.restricted);
}

bool
ovio__host_peer_allowed(uint64_t uid, uint64_t gid)
{
	size_t i;

	if (!host_peers.restricted || uid == 0 || uid == (uint64_t) geteuid()) {
		return (true);
	}
	for (i = 0; i < host_peers.nuids; i++) {
		if ((uint64_t) host_peers.uids[i] == uid) {
			return (true);
		}
	}
	for (i = 0; i < host_peers.ngids; i++) {
		if ((uint64_t) host_peers.gids[i] == gid) {
			return (true);
		}
	}
	return (false);
}

/* The kernel gives uid and gid with the pid here (server.c asks those). */
bool
ovio__host_process_allowed(uint64_t pid, char *who, size_t len)
{
	(void) pid;
	snprintf(who, len, "no credentials");
	return (false);
}

/*
 * One folder on the way to a socket: owned by the service's user or root,
 * and not writable by others unless sticky.  0, or OVIO_EACCES with why.
 */
static int
host_folder_check(const char *dir, char *why, size_t len)
{
	struct stat st;
	uid_t       me = geteuid();

	if (stat(dir, &st) != 0) {
		return (0); /* gone meanwhile: the listen fails on its own */
	}
	if (st.st_uid != me && st.st_uid != 0) {
		snprintf(why, len,
		    "the folder %s belongs to uid %lu, another user, who could "
		    "replace what is in it",
		    dir, (unsigned long) st.st_uid);
		return (OVIO_EACCES);
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0
	    && (st.st_mode & S_ISVTX) == 0) {
		snprintf(why, len,
		    "the folder %s may be written by others (mode %04o, no "
		    "sticky bit), who could replace what is in it",
		    dir, (unsigned) (st.st_mode & 07777));
		return (OVIO_EACCES);
	}
	return (0);
}

int
ovio__host_ipc_check(const char *url, char *why, size_t len)
{
	struct stat st;
	char        dir[PATH_MAX], real[PATH_MAX], *slash;
	const char *path;
	int         rv;

	if (strncmp(url, "ipc://", 6) != 0) {
		return (0);
	}
	path = url + 6;
	/*
	 * Every folder on the way, links resolved first (a link is only as
	 * safe as where it leads): nobody else may replace the socket, or a
	 * folder holding it.
	 */
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL) {
		snprintf(dir, sizeof(dir), ".");
	} else if (slash == dir) {
		dir[1] = '\0';
	} else {
		*slash = '\0';
	}
	if (realpath(dir, real) != NULL) {
		for (;;) {
			if ((rv = host_folder_check(real, why, len)) != 0) {
				return (rv);
			}
			if (strcmp(real, "/") == 0) {
				break;
			}
			slash                        = strrchr(real, '/');
			slash[slash == real ? 1 : 0] = '\0';
		}
	}
	/* The path itself: absent, or a socket of ours (a stale one). */
	if (lstat(path, &st) != 0) {
		return (0);
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(why, len, "%s exists and is not a socket", path);
		return (OVIO_EACCES);
	}
	if (st.st_uid != geteuid()) {
		snprintf(why, len,
		    "%s is a socket of uid %lu, another user (someone may be "
		    "posing as the service there)",
		    path, (unsigned long) st.st_uid);
		return (OVIO_EACCES);
	}
	return (0);
}

int
ovio__host_ipc_folder(const char *url, bool shared, char *why, size_t len)
{
	char        dir[PATH_MAX], *slash;
	mode_t      mode = shared ? 0711 : 0700;
	struct stat st;
	int         err;

	if (strncmp(url, "ipc://", 6) != 0) {
		return (0);
	}
	snprintf(dir, sizeof(dir), "%s", url + 6);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir) {
		return (0);
	}
	*slash = '\0';
	/* mkdir applies the umask: chmod says exactly what is meant. */
	if (mkdir(dir, mode) == 0) {
		if (chmod(dir, mode) != 0) {
			snprintf(why, len, "cannot set the mode of %s: %s", dir,
			    strerror(errno));
			return (OVIO_EACCES);
		}
		ovio__log("made the socket folder %s (mode %04o)", dir,
		    (unsigned) mode);
		return (0);
	}
	if ((err = errno) != EEXIST) {
		snprintf(why, len, "cannot make the folder %s: %s", dir,
		    strerror(err));
		return (err == EACCES || err == EPERM ? OVIO_EACCES
		                                      : OVIO_ENOENT);
	}
	/* There already: a folder itself (not a link), ours, closed. */
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(why, len,
		    "%s is there and is not a folder (a link?): someone may "
		    "have planted it",
		    dir);
		return (OVIO_EACCES);
	}
	if (st.st_uid != geteuid()) {
		snprintf(why, len,
		    "the folder %s belongs to uid %lu, another user, who could "
		    "replace what is in it",
		    dir, (unsigned long) st.st_uid);
		return (OVIO_EACCES);
	}
	if ((st.st_mode & 022) != 0) {
		snprintf(why, len,
		    "the folder %s may be written by others (mode %04o)", dir,
		    (unsigned) (st.st_mode & 07777));
		return (OVIO_EACCES);
	}
	return (0);
}

/* The socket file of an ipc:// URL, or NULL for another transport. */
static const char *
host_ipc_path(const char *url)
{
	return (strncmp(url, "ipc://", 6) == 0 ? url + 6 : NULL);
}

int
ovio__host_admin_listener_setup(nng_listener l, const char *url)
{
	int rv;

	if (host_ipc_path(url) == NULL) {
		ovio__logl(OVIO__LOG_WARN,
		    "admin endpoint %s: not ipc://, so anyone who can "
		    "reach it may administer the service",
		    url);
		return (0);
	}
	if ((rv = nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, 0600))
	    != 0) {
		ovio__logl(OVIO__LOG_ERROR,
		    "admin endpoint %s: cannot set its mode: %s", url,
		    nng_strerror(rv));
		return (OVIO_EACCES);
	}
	return (0);
}

int
ovio__host_admin_listener_ready(const char *url, const char *group)
{
	const char   *path = host_ipc_path(url);
	struct group *g;

	if (group == NULL) {
		return (0);
	}
	if (path == NULL) {
		ovio__logl(OVIO__LOG_ERROR,
		    "--admin-group %s: the admin endpoint %s is not an "
		    "ipc:// socket",
		    group, url);
		return (OVIO_EINVAL);
	}
	if ((g = getgrnam(group)) == NULL) {
		ovio__logl(
		    OVIO__LOG_ERROR, "--admin-group %s: no such group", group);
		return (OVIO_EINVAL);
	}
	/* Group first, then the mode: never open to the wrong group. */
	if (chown(path, (uid_t) -1, g->gr_gid) != 0 || chmod(path, 0660) != 0) {
		ovio__logl(OVIO__LOG_ERROR,
		    "--admin-group %s: cannot give %s to it: %s", group, path,
		    strerror(errno));
		return (OVIO_EACCES);
	}
	return (0);
}

/*
 * glibc keeps freed memory in its arenas, but by default it hands an
 * arena's free top back as soon as it is more than twice the largest block
 * freed so far (about 2 MiB after 1 MiB messages).  With eight 1 MiB writes
 * in flight, each freed by the completion thread once written, the top
 * went back (madvise) every few messages and the next ones faulted their
 * pages in and had them zeroed again: 16 page faults a write, a fifth of
 * the message thread's time.  So the limit is fixed: messages up to
 * HOST_MMAP_THRESHOLD come from the arenas, and a free top is handed back
 * once it passes HOST_TRIM_THRESHOLD (measured at 1 MiB writes: 4 MiB left
 * 1 fault a write, 8 MiB 0.2).  What is free at idle goes back then:
 * malloc_trim(0) (ovio__host_memory_release) gives back the free pages
 * inside every arena and the main arena's top; a thread's arena gives back
 * its top only on a free, which is why the bound is kept low.  A low mmap
 * threshold (before) costs a mapping and its faults per message.  An
 * operator's own setting (MALLOC_*_THRESHOLD_, or glibc.malloc tunables in
 * GLIBC_TUNABLES) is left to rule.  C libraries without mallopt's options
 * (musl) are left as they are.
 */
#define HOST_MMAP_THRESHOLD (32 * 1024 * 1024) /* glibc's largest, 64-bit */
#define HOST_TRIM_THRESHOLD (8 * 1024 * 1024)

void
ovio__host_setup_memory(void)
{
#ifdef __GLIBC__
	const char *t = getenv("GLIBC_TUNABLES");

	if (getenv("MALLOC_MMAP_THRESHOLD_") != NULL
	    || getenv("MALLOC_TRIM_THRESHOLD_") != NULL
	    || (t != NULL && strstr(t, "glibc.malloc.") != NULL)) {
		return; /* the operator's */
	}
	/* Either one fixes both; the second only if the first was taken. */
	if (mallopt(M_MMAP_THRESHOLD, HOST_MMAP_THRESHOLD) == 1) {
		(void) mallopt(M_TRIM_THRESHOLD, HOST_TRIM_THRESHOLD);
	}
#endif
}

void
ovio__host_memory_release(void)
{
#ifdef __GLIBC__
	(void) malloc_trim(0);
#endif
}

void
ovio__host_fini(void)
{
	nng_fini();
}

uint64_t
ovio__host_raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		return (0);
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was  = rl.rlim_cur;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			rl.rlim_cur = was;
		}
	}
	return (
	    rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t) rl.rlim_cur);
}

long
ovio__host_pid(void)
{
	return ((long) getpid());
}

void
ovio__host_log_event(int level, const char *line)
{
	(void) level; /* stderr is the journal under systemd */
	(void) line;
}

bool
ovio__host_log_to_journal(void)
{
	static int         journal = -1; /* not looked at yet */
	const char        *v;
	struct stat        st;
	unsigned long long dev, ino;

	if (journal < 0) {
		v       = getenv("JOURNAL_STREAM");
		journal = v != NULL && sscanf(v, "%llu:%llu", &dev, &ino) == 2
		          && fstat(STDERR_FILENO, &st) == 0
		          && (unsigned long long) st.st_dev == dev
		          && (unsigned long long) st.st_ino == ino;
	}
	return (journal == 1);
}

void
ovio__host_setup_signals(void)
{
	struct sigaction sa;
	sigset_t         block;

	/* Block before any thread exists, so every thread inherits it. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, NULL);
	host_stopset = block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = host_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}
