/*
 * testutil.h - helpers shared by the check suites: temporary folders, a
 * real oviod process, and what /proc says about its descriptors.
 */
#ifndef OVIO_TESTUTIL_H
#define OVIO_TESTUTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <check.h>

#include "ovio.h"

/* Runs a shell command line; returns its exit status (-1: a signal). */
int tu_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Makes the test user user (no home, no shell; in group when not NULL)
 * unless it exists, and adds it to group if it does.  Root only; fails the
 * test on error.
 */
void tu_ensure_user(const char *user, const char *group);

/* A fresh folder under $TMPDIR (or /tmp); removed by tu_rmtree. */
void tu_tmpdir(char *out, size_t len);
void tu_rmtree(const char *path);

/* Where the binaries under test are ($OVIO_BUILD, default "build"). */
const char *tu_build(void);

typedef struct tu_daemon {
	pid_t pid;
	char  dir[256];
	char  root[320];
	char  url[320];
	char  log[320];
} tu_daemon;

/*
 * Starts build/oviod serving a new temp root on a new ipc endpoint, with
 * backend (NULL: automatic) and up to 6 extra arguments (NULL-terminated),
 * and waits until it accepts connections.  Fails the test on error.
 */
void tu_daemon_start(tu_daemon *d, const char *backend, ...);

/*
 * When set, tu_daemon_start runs oviod under this program (its path, then
 * up to 2 arguments of its own, NULL-terminated), as PROGRAM ARGS oviod
 * ...; e.g. tests/noopenat2.  NULL (the default): oviod itself.
 */
extern const char *tu_daemon_wrapper[4];

/* Sends sig and waits up to 15 s; returns the exit status (or -1). */
int  tu_daemon_stop(tu_daemon *d, int sig);
void tu_daemon_cleanup(tu_daemon *d);

/* Connects to d (fails the test on error). */
ovio_client *tu_connect(tu_daemon *d);

/* Number of open descriptors of pid, and whether one refers to path. */
int  tu_fd_count(pid_t pid);
bool tu_fd_open_to(pid_t pid, const char *path);
/* The open(2) flags (fdinfo) of pid's descriptor open to path; -1: none. */
long tu_fd_flags(pid_t pid, const char *path);

/*
 * A size line of /proc/PID/status in KiB (field "VmRSS": resident now,
 * "VmHWM": the peak of that), or -1.
 */
long tu_status_kib(pid_t pid, const char *field);

/*
 * Whether this build runs under a sanitizer (ASan, TSan): oviod's resident
 * set is then dominated by shadow memory and quarantine, so memory bounds
 * do not apply (a case says so in its output instead of passing silently).
 */
bool tu_sanitized(void);

/*
 * Number of sockets pid holds (its listeners and one per connection), and
 * a wait until that number is n, up to ms; returns whether it was reached.
 * oviod closes a connection's socket after the session is gone (nng reaps
 * the pipe afterwards), so a test comparing descriptor counts first waits
 * for the sockets of clients that went away to be closed.
 */
int  tu_socket_count(pid_t pid);
bool tu_wait_sockets(pid_t pid, int n, int ms);

/* Writes len pseudo-random bytes (seeded) to path. */
void tu_write_random(const char *path, size_t len, unsigned seed);

/* Polls ovio_status until pred holds or ms pass; returns whether it held. */
bool tu_wait_status(ovio_client *c, int                      ms,
    bool (*pred)(const ovio_service_status *, void *), void *arg);

/*
 * A time bound of ms milliseconds, scaled by $OVIO_TIME_SCALE (default 1).
 * The plain run checks the numbers the issues state; the sanitizer runs
 * (tests/all.sh) scale them, since ASan and TSan slow everything down.
 */
int64_t tu_ms(int64_t ms);

/* Milliseconds on a monotonic clock. */
int64_t tu_now_ms(void);

/*
 * Is io_uring usable here?  (Cases needing it skip if not.)  False when
 * OVIO_DISABLE_URING is set, as oviod then refuses the uring backend too.
 */
bool tu_have_uring(void);

/*
 * Starts argv (no shell) with its stdout on a pipe; returns the pid and
 * stores a stream reading that stdout in *out.
 */
pid_t tu_spawn(char *const argv[], FILE **out);

/*
 * A collector of asynchronous completions (ovio_submit with tu_coll_cb and
 * the collector as arg): results in arrival order at the callback (not the
 * wire order: callbacks run on several threads), data pointers cleared;
 * the first bytes of the first successful read are kept in data.
 */
#define TU_MAXC 4096
typedef struct tu_collector {
	pthread_mutex_t mtx;
	pthread_cond_t  cv;
	int             n;
	ovio_result     res[TU_MAXC];
	uint8_t         data[8];
} tu_collector;

/* Waits on cv (mtx held) for at most ms: one slice of a bounded wait. */
void tu_cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mtx, int ms);

void tu_coll_init(tu_collector *c);
/* Forgets every completion collected (none may still be coming). */
void tu_coll_reset(tu_collector *c);
void tu_coll_cb(void *arg, const ovio_result *r);
/* Waits until at least n completions arrived or ms pass; returns count. */
int tu_coll_wait(tu_collector *c, int n, int ms);
/* The completion of tag (the last one) and how many there were. */
const ovio_result *tu_coll_find(tu_collector *c, uint64_t tag, int *count);

/*
 * Skips the running case: prints "SKIP: <case>: <why>" on stdout, a line
 * the runners (tests/run.sh, tests/tsan.sh) count and take off the passed
 * checks, since check itself has no skip and counts the case as passed.
 * The caller returns from the case right after.  A missing kernel or
 * system feature is a skip, never a failure and never a pass.
 */
void tu_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Skips every case of the suite about to be built: each case added with
 * tu_case_skipped (instead of its fixture and test) then only prints its
 * SKIP line.  For suites that cannot run here at all (a backend missing).
 */
void tu_skip_all(const char *why);
/*
 * If tu_skip_all was called, adds to tc (the case called name) a test that
 * prints its SKIP line, and returns true; else returns false.
 */
bool tu_case_skipped(TCase *tc, const char *name);

/* Runs a suite; CK_RUN_SUITE / CK_RUN_CASE pick one, as check does. */
int tu_run(Suite *s);

#endif
