/*
 * service.h - what `ovio service ...` needs from the OS's service manager,
 * one file per OS: service_windows.c (the service control manager) and
 * service_posix.c (which says to use systemctl instead).  ovio.c parses the
 * command line and prints; these functions talk to the OS.
 *
 * Every function is called from the CLI's only thread and may block (for
 * at most its timeout).  Each returns 0 on success; on failure it has
 * printed one line to stderr, "ovio service: ...", and returns the exit
 * status: 1 when the operation failed, 2 when the OS has no such service
 * manager (the caller passes it on as the exit status).
 */
#ifndef OVIO_SERVICE_H
#define OVIO_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

/* The service's name in the service manager. */
#define OVIO_SERVICE_NAME "oviod"

/* A snapshot of the service, from ovio__service_query. */
typedef struct ovio__svc_status {
	bool     installed;
	char     state[24];      /* RUNNING, STOPPED, START_PENDING, ... */
	uint32_t pid;            /* 0 when not running */
	uint32_t exit_code;      /* Win32 exit code of the last run */
	uint32_t service_exit;   /* oviod's own exit status, when it failed */
	uint32_t checkpoint;     /* while pending */
	uint32_t wait_hint_ms;   /* while pending */
	char     controls[48];   /* accepted now:
	                            "stop,shutdown,preshutdown,paramchange" */
	uint32_t preshutdown_ms; /* its preshutdown timeout; 0 unknown */
	char     start_type[16]; /* auto, demand, disabled, ... */
	char     command[4096];  /* its command line (UTF-8), truncated */
	char     log[1024];      /* its log file: --log, else the default */
	char     log_tail[4096]; /* the log's last lines ("\n" after each) */
	char     log_error[256]; /* why log_tail is empty, or "" */
} ovio__svc_status;

/* How many of the log's last lines ovio__service_query reads. */
#define OVIO_SERVICE_LOG_LINES 10

/*
 * Registers the service by running "OVIOD install ARGS..." (oviod knows how
 * to install itself with its options: quoted path, restart-on-failure
 * actions, description) and waits for it.  oviod NULL: the oviod program
 * next to this one.  Its output goes to ours; returns its exit status (or
 * 1 when it cannot be run).
 */
int ovio__service_install(const char *oviod, int argc, char **argv);

/*
 * Stops the service if it runs (as ovio__service_stop) and deletes it.
 */
int ovio__service_uninstall(unsigned timeout_ms);

/*
 * Starts the service and waits until it reports RUNNING, following its
 * checkpoints and wait hints, for at most timeout_ms.  Already running is
 * success.  A service that stops instead fails, with its exit code.
 */
int ovio__service_start(unsigned timeout_ms);

/*
 * Asks the service to stop and waits until it reports STOPPED (it drains
 * first), following its checkpoints and wait hints, for at most
 * timeout_ms.  Not running is success.
 */
int ovio__service_stop(unsigned timeout_ms);

/*
 * Asks the running service to read its config file again
 * (SERVICE_CONTROL_PARAMCHANGE).  Not running fails.
 */
int ovio__service_reload(void);

/*
 * Fills *st, with the last OVIO_SERVICE_LOG_LINES lines of the service's
 * log (a log that cannot be read is not a failure: log_error says why).  A
 * service that is not installed is success with st->installed false (and
 * state "NOT_INSTALLED").
 */
int ovio__service_query(ovio__svc_status *st);

#endif
