/*
 * host.h - what oviod needs from the OS it runs on, one file per OS:
 * os/posix/host.c (a foreground daemon stopped by SIGTERM/SIGINT) and
 * os/windows/host.c (a Windows service, or a console run).
 */
#ifndef OVIO_HOST_H
#define OVIO_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <nng/nng.h>

/*
 * Blocks the stop signals in the calling thread (and every thread created
 * after) and installs their handlers.  POSIX only; main() calls it first.
 */
void ovio__host_setup_signals(void);

/*
 * Sets how the C library's allocator keeps freed memory while the service
 * is busy (glibc: large messages stay in its arenas instead of being handed
 * back and faulted in again on every request).  POSIX only; main() calls it
 * before any thread exists.  ovio__host_memory_release returns the memory
 * once the service is idle.
 */
void ovio__host_setup_memory(void);

/* The portable body of oviod (oviod.c); the host's main calls it. */
int ovio__oviod_main(int argc, char **argv);

/*
 * Writes oviod's options in argv[1..argc) (as on its command line) to f as
 * config-file lines, "name = value" ("name = true" for a switch), each
 * checked as on the command line: for an installer that keeps the
 * service's options in its config file (os/windows/host.c).  --config,
 * --check-config, --help and --version have no line there; a value the
 * file cannot hold (a line break, " ;" or " #" that would start a comment,
 * spaces at either end) is refused.  Returns 0, or 2 after one line on
 * stderr.
 */
int ovio__oviod_config_from_args(int argc, char **argv, FILE *f);

/*
 * The Windows host's entry point (os/windows/host.c): runs as a service when
 * the SCM started the process, installs or uninstalls it, or runs
 * ovio__oviod_main in a console.  Called by os/windows/main.c's main.
 */
int ovio__host_main(int argc, char **argv);

/*
 * What the main thread does for oviod.c while it waits (all optional):
 * reload on SIGHUP (POSIX), SERVICE_CONTROL_PARAMCHANGE (Windows) or
 * ovio__host_request_reload; alive before each systemd watchdog ping
 * (WATCHDOG_USEC; POSIX), which is not sent when it returns false.  Both
 * run on the main thread.
 */
typedef struct ovio__host_hooks {
	void (*reload)(void *arg);
	bool (*alive)(void *arg);
	void *arg;
} ovio__host_hooks;

/*
 * Called by ovio__oviod_main once the engine listens: blocks the calling
 * (main) thread until the host asks to stop (signal, SCM stop), running
 * hooks (may be NULL) meanwhile.  Under systemd it says RELOADING=1 and
 * READY=1 around a reload, and STOPPING=1 when it returns.
 */
void ovio__host_wait_stop(const ovio__host_hooks *hooks);

/* Asks the main thread for a reload (ovio admin reload); any thread. */
void ovio__host_request_reload(void);

/* The drain timeout, for the host's own waits (Windows: the SCM's hints). */
void ovio__host_set_drain_ms(unsigned long ms);

/*
 * Gives the memory the process has freed back to the system, where the C
 * library keeps it otherwise.  Called by the completion thread (engine.c)
 * once the service has gone idle after work; takes the allocator's locks
 * and may take a few milliseconds, so it is not called while busy.
 */
void ovio__host_memory_release(void);

/*
 * Tells the host's supervisor that start-up is done (systemd: READY=1 and
 * STATUS=status; Windows: SERVICE_RUNNING).
 */
void ovio__host_ready(const char *status);

/*
 * Releases what the libraries hold (nng_fini) just before a clean exit.
 * On Windows this is skipped under Wine, where nng 1.5.2's nng_fini waits
 * forever (it stops its I/O threads by closing their completion port, which
 * does not wake them there).
 */
void ovio__host_fini(void);

/* The default root folder when --root is not given. */
const char *ovio__host_default_root(void);

/* A monotonic clock in microseconds (request latencies, stats.c). */
uint64_t ovio__host_clock_us(void);

/* UTC timestamp for log lines, e.g. 2026-11-21T23:59:59.123Z. */
void ovio__host_timestamp(char *buf, size_t len);

/*
 * Applies the host's access rules to a listener before it starts: on POSIX
 * an ipc socket file only its owner may use (0600), or every local user
 * when an allow-list checks each peer instead (0666, see below); on
 * Windows an explicit security descriptor on the named pipe.  Errors are
 * logged, not fatal, for transports the rule does not apply to.
 */
void ovio__host_listener_setup(nng_listener l, const char *url);

/*
 * Who may use the data endpoints: the allow-list of --allow-uid and
 * --allow-group, resolved once, at start.  ovio__host_peer_allow adds one
 * entry (group false: a user, true: a group): on POSIX a name or number,
 * a group's members being its supplementary members and the users whose
 * primary group it is (checked by the peer's gid); on Windows an account
 * name or a SID string ("S-1-5-..."), a user for --allow-uid and a group
 * or alias for --allow-group.  Returns 0, or OVIO_EINVAL (no such user or
 * group) or OVIO_ENOMEM after one line in why.  ovio__host_peers_restricted
 * says whether anything was added.
 *
 * ovio__host_peer_allowed says whether the ipc peer with uid and gid (the
 * credentials the kernel gave nng, POSIX) may connect: anyone without a
 * list; with one, the service's own user, root, a listed uid or a member
 * of a listed group.  ovio__host_process_allowed says the same of an ipc
 * peer known only by its process id (Windows: GetNamedPipeClientProcessId)
 * by that process's token: the service's own account, SYSTEM, an enabled
 * Administrators group, a listed user or an enabled listed group (a
 * deny-only SID counts for nothing); who gets the account's SID for the
 * log (or why it could not be read).  On POSIX a process id alone is no
 * identity: false.  No name lookups: safe on nng's threads.
 */
int  ovio__host_peer_allow(const char *name, bool group, char *why,
     size_t len);
bool ovio__host_peers_restricted(void);
bool ovio__host_peer_allowed(uint64_t uid, uint64_t gid);
bool ovio__host_process_allowed(uint64_t pid, char *who, size_t len);

/*
 * Refuses an ipc:// endpoint another user could have planted or could
 * replace (POSIX): a path that exists but is not a socket of the service's
 * user, or a folder that another user owns or that others may write to
 * without the sticky bit.  Returns 0 (also for other transports and on
 * Windows), or OVIO_EACCES with the one-line cause in why.
 */
int ovio__host_ipc_check(const char *url, char *why, size_t len);

/*
 * Makes the folder of the ipc:// socket at url if it is missing (POSIX; one
 * level, as ovio_user_endpoint's folders are: /run/ovio,
 * $XDG_RUNTIME_DIR/ovio, /tmp/ovio-UID), mode 0700, or 0711 when shared
 * (other users may then reach a socket in it that lets them, not list it).
 * One that exists must be a folder, not a link, of the service's user,
 * that others may not write in; its mode is left as it is.
 * Returns 0 (also for other transports and on Windows), or an ovio_err with
 * the one-line cause in why.
 */
int ovio__host_ipc_folder(const char *url, bool shared, char *why, size_t len);

/*
 * The admin endpoint's access rules (server.c).  Before it starts,
 * ovio__host_admin_listener_setup restricts listener l of url: on POSIX an
 * ipc socket only the service's user may use (0600); on Windows a named
 * pipe only SYSTEM and Administrators may open.  Once it listens,
 * ovio__host_admin_listener_ready opens it to group (NULL: none): on POSIX
 * the socket file's group becomes group and its mode 0660; on Windows a
 * group is refused (OVIO_ENOTSUP).  Both return 0 or an ovio_err after
 * logging why; the caller then fails the start.
 */
int ovio__host_admin_listener_setup(nng_listener l, const char *url);
int ovio__host_admin_listener_ready(const char *url, const char *group);

/*
 * Asks the main thread to stop the service, as SIGTERM or a service stop
 * does (the admin endpoint's shutdown).  Any thread; returns at once.
 */
void ovio__host_request_stop(void);

/*
 * Raises the descriptor limit as far as the host allows (POSIX: the soft
 * RLIMIT_NOFILE to the hard one) and returns it (0: no such limit here),
 * so that --max-sessions connections and their files fit.
 */
uint64_t ovio__host_raise_fd_limit(void);

/* The process id, for the log. */
long ovio__host_pid(void);

/*
 * Also records a log line, of level (an OVIO__LOG_* value, log.h), where
 * the host keeps events: on Windows the service's log file and the Event
 * Log, as an event of that severity (os/windows/oviod_msg.mc).
 */
void ovio__host_log_event(int level, const char *line);

/*
 * Whether stderr is systemd's journal ($JOURNAL_STREAM names it): log lines
 * then carry a "<N>" priority prefix and no timestamp of their own.
 * Always false on Windows.
 */
bool ovio__host_log_to_journal(void);

#endif
