/*
 * os/windows/host.c - oviod as a Windows service, or in a console.
 *
 *   oviod [options]              console run; Ctrl-C / Ctrl-Break / closing
 *                                the console stop it gracefully
 *   oviod install [host options] [options]
 *                                registers the service "oviod" (LocalSystem)
 *                                whose command line is this program, "run"
 *                                and the options; restarts it on failure
 *   oviod uninstall              stops (if running) and deletes it
 *   oviod run [options]          what the SCM starts; run by hand (not by
 *                                the SCM) it falls back to a console run
 *   oviod ... --help             the host's usage, then the portable one
 *
 * Host options (taken out before the portable options are parsed):
 *   --log FILE          append the log to FILE (service default:
 *                       %ProgramData%\ovio\oviod.log)
 *   --start auto|demand start type, for install (default auto)
 *
 * The service shell follows PostgreSQL's pg_ctl: the control handler only
 * sets an event; the thread running ServiceMain (the "main thread" of
 * host.h) reports START_PENDING, RUNNING once the engine listens
 * (ovio__host_ready), STOP_PENDING with a wait hint covering the drain when
 * the event fires, and STOPPED last, after the engine has stopped.  The
 * drain (ovio__engine_stop) runs on the main thread, so while it runs a
 * small ticker thread reports STOP_PENDING again every HOST_TICK_MS with
 * the next checkpoint: the service manager sees progress, not a hang.  It
 * is joined before STOPPED.
 *
 * SERVICE_CONTROL_PARAMCHANGE (sc control oviod paramchange) reloads, as
 * SIGHUP does on POSIX: the main thread runs the reload hook.
 *
 * Stop, shutdown and preshutdown all stop it the same way.  The service
 * accepts SERVICE_CONTROL_PRESHUTDOWN, which comes before the system's
 * shutdown deadline starts, and its preshutdown timeout (set at install
 * and again at each start) is the drain timeout plus HOST_STOP_SLACK.
 *
 * In a console, Ctrl-C and Ctrl-Break only signal.  For closing the
 * console, logoff and shutdown, Windows ends the process as soon as the
 * console handler returns (and for a close after about 5 s anyway), so the
 * handler signals and then waits until the drain is over
 * (ovio__host_fini), at most the drain timeout plus HOST_STOP_SLACK.  A
 * service installs no console handler: it must not stop at a user's
 * logoff, and the service manager tells it about shutdown.
 *
 * Logging.  A service has no console (and its C runtime's stderr cannot be
 * reopened), so each log line (ovio__host_log_event) is also appended to
 * the log file (--log; for a service %ProgramData%\ovio\oviod.log by
 * default) and, for a service, reported to the Event Log (source "oviod").
 *
 * Arguments are taken from GetCommandLineW and passed on as UTF-8, so
 * paths outside the ANSI code page survive.
 */
#include <winsock2.h>
#include <windows.h>

#include <aclapi.h>
#include <fcntl.h>
#include <io.h>
#include <sddl.h>
#include <shellapi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/transport/ipc/ipc.h>

#include "host.h"
#include "host_windows.h"
#include "log.h"
#include "number.h"
#include "ovio_err.h"
#include "oviod_msg.h" /* the Event Log's message ids (oviod_msg.mc) */
#include "platform_windows.h"

#define HOST_SERVICE L"oviod"
#define HOST_DISPLAY L"ovio overlapped file I/O service"
#define HOST_DESCRIPTION                                                    \
	L"Serves files under a root folder to ovio clients over nng, with " \
	L"overlapped I/O on one I/O completion port."
#define HOST_START_HINT 30000 /* ms: engine start-up */
#define HOST_STOP_SLACK 5000  /* ms on top of the drain timeout */
#define HOST_TICK_MS    1000  /* ms between STOP_PENDING checkpoints */

static HANDLE                host_stop_ev;
static HANDLE                host_reload_ev;  /* PARAMCHANGE, admin reload */
static HANDLE                host_drained_ev; /* the drain is over */
static HANDLE                host_ticker;     /* STOP_PENDING checkpoints */
static int                   host_service;    /* started by the SCM */
static SERVICE_STATUS_HANDLE host_ssh;
static SERVICE_STATUS        host_ss;
static CRITICAL_SECTION      host_ss_mtx;
static HANDLE                host_evlog;
static DWORD                 host_drain_ms = 10000;
static int                   host_preshutdown_set; /* for host_drain_ms */
static int                   host_argc;
static char                **host_argv;
static int                   host_rv;
static FILE                 *host_logf; /* --log, or the service's log */
static const char           *host_log_path; /* --log FILE, or NULL */

/* What stopped it (for the log), or NULL: ovio admin shutdown. */
static const char *volatile host_stop_cause;

static int host_open_log(const char *path);

/* ---- stop event and console ------------------------------------------- */

static HANDLE
host_event(void)
{
	if (host_stop_ev == NULL) {
		host_stop_ev = CreateEventW(NULL, TRUE, FALSE, NULL);
	}
	if (host_drained_ev == NULL) {
		host_drained_ev = CreateEventW(NULL, TRUE, FALSE, NULL);
	}
	if (host_reload_ev == NULL) { /* auto-reset: one reload per ask */
		host_reload_ev = CreateEventW(NULL, FALSE, FALSE, NULL);
	}
	return (host_stop_ev);
}

/*
 * The console's control handler (a thread of its own).  Ctrl-C and
 * Ctrl-Break only signal the main thread.  Close, logoff and shutdown
 * signal it too, then hold the handler until the drain is over (at most the
 * drain timeout plus HOST_STOP_SLACK), because Windows ends the process
 * when the handler returns.
 */
BOOL WINAPI
ovio__host_console_ctrl(DWORD type)
{
	switch (type) {
	case CTRL_C_EVENT:
	case CTRL_BREAK_EVENT:
		host_stop_cause
		    = type == CTRL_C_EVENT ? "Ctrl-C" : "Ctrl-Break";
		SetEvent(host_event()); /* only signals; main thread stops */
		return (TRUE);
	case CTRL_CLOSE_EVENT:
	case CTRL_LOGOFF_EVENT:
	case CTRL_SHUTDOWN_EVENT:
		host_stop_cause = type == CTRL_CLOSE_EVENT ? "console closed"
		                  : type == CTRL_LOGOFF_EVENT
		                      ? "logoff"
		                      : "system shutdown";
		SetEvent(host_event());
		(void) WaitForSingleObject(
		    host_drained_ev, host_drain_ms + HOST_STOP_SLACK);
		return (TRUE);
	}
	return (FALSE);
}

static void host_update_preshutdown(void);

/*
 * oviod.c's drain timeout, from the command line or the config file, at
 * start and at each reload.  A service's preshutdown timeout follows it,
 * so that the service manager waits for the whole drain at shutdown.
 */
void
ovio__host_set_drain_ms(unsigned long ms)
{
	if (host_drain_ms == (DWORD) ms && host_preshutdown_set) {
		return;
	}
	host_drain_ms = (DWORD) ms;
	if (host_service) {
		host_update_preshutdown();
		host_preshutdown_set = 1;
	}
}

/* On Windows: the stop event and the console's Ctrl-C handler. */
void
ovio__host_setup_signals(void)
{
	(void) host_event();
	SetConsoleCtrlHandler(ovio__host_console_ctrl, TRUE);
}

/* ---- service status ---------------------------------------------------- */

/* Reports state to the service manager; logs it unless quiet. */
static void
host_status(DWORD state, DWORD hint, int quiet)
{
	char line[80];

	if (!host_service) {
		return;
	}
	if (!quiet) {
		snprintf(line, sizeof(line), "service: %s",
		    ovio__win_service_state_name(state));
		ovio__host_log_event(OVIO__LOG_INFO, line);
	}
	EnterCriticalSection(&host_ss_mtx);
	host_ss.dwServiceType      = SERVICE_WIN32_OWN_PROCESS;
	host_ss.dwCurrentState     = state;
	host_ss.dwWaitHint         = hint;
	host_ss.dwControlsAccepted = state == SERVICE_RUNNING
	                                 ? SERVICE_ACCEPT_STOP
	                                       | SERVICE_ACCEPT_SHUTDOWN
	                                       | SERVICE_ACCEPT_PRESHUTDOWN
	                                       | SERVICE_ACCEPT_PARAMCHANGE
	                                 : 0;
	if (state == SERVICE_RUNNING || state == SERVICE_STOPPED) {
		host_ss.dwCheckPoint = 0;
	} else {
		host_ss.dwCheckPoint++;
	}
	SetServiceStatus(host_ssh, &host_ss);
	LeaveCriticalSection(&host_ss_mtx);
}

static void
host_report(DWORD state, DWORD hint)
{
	host_status(state, hint, 0);
}

void
ovio__host_ready(const char *status)
{
	(void) status; /* the SCM has no status line; the log says it */
	host_report(SERVICE_RUNNING, 0);
}

/* The ticker: the next STOP_PENDING checkpoint every HOST_TICK_MS. */
static DWORD WINAPI
host_tick(void *arg)
{
	(void) arg;
	while (WaitForSingleObject(host_drained_ev, HOST_TICK_MS)
	       == WAIT_TIMEOUT) {
		host_status(
		    SERVICE_STOP_PENDING, host_drain_ms + HOST_STOP_SLACK, 1);
	}
	return (0);
}

bool
ovio__host_log_to_journal(void)
{
	return (false);
}

void
ovio__host_request_reload(void)
{
	(void) host_event();
	if (host_reload_ev != NULL) {
		SetEvent(host_reload_ev);
	}
}

/* Waits for the stop event, reloading each time the reload one fires. */
void
ovio__host_wait_stop(const ovio__host_hooks *hooks)
{
	HANDLE evs[2];

	evs[0] = host_event();
	evs[1] = host_reload_ev;
	/* Without a reload event (CreateEvent failed) only the stop. */
	while (
	    WaitForMultipleObjects(evs[1] != NULL ? 2 : 1, evs, FALSE, INFINITE)
	    == WAIT_OBJECT_0 + 1) {
		if (hooks != NULL && hooks->reload != NULL) {
			hooks->reload(hooks->arg);
		}
	}
	if (host_stop_cause != NULL) { /* NULL: ovio admin shutdown, logged */
		ovio__log("stop: %s", host_stop_cause);
	}
	/* The engine now drains: tell the SCM how long that may take. */
	host_report(SERVICE_STOP_PENDING, host_drain_ms + HOST_STOP_SLACK);
	if (host_service) {
		/* Without a ticker the first checkpoint is the only one. */
		host_ticker = CreateThread(NULL, 0, host_tick, NULL, 0, NULL);
	}
}

/* The drain is over: ends the ticker and frees a console close handler. */
static void
host_drained(void)
{
	SetEvent(host_drained_ev);
	if (host_ticker != NULL) {
		WaitForSingleObject(host_ticker, INFINITE);
		CloseHandle(host_ticker);
		host_ticker = NULL;
	}
}

/*
 * The preshutdown timeout: how long the service manager waits for the
 * service after SERVICE_CONTROL_PRESHUTDOWN.  Above the drain timeout, so
 * a shutdown leaves time for the whole drain.
 */
static BOOL
host_set_preshutdown(SC_HANDLE svc)
{
	SERVICE_PRESHUTDOWN_INFO pi;

	pi.dwPreshutdownTimeout = host_drain_ms + HOST_STOP_SLACK;
	return (
	    ChangeServiceConfig2W(svc, SERVICE_CONFIG_PRESHUTDOWN_INFO, &pi));
}

/* At start and reload: the drain timeout may have changed. */
static void
host_update_preshutdown(void)
{
	SC_HANDLE scm, svc = NULL;
	char      line[120];
	DWORD     e = 0;

	if ((scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT)) == NULL
	    || (svc = OpenServiceW(scm, HOST_SERVICE, SERVICE_CHANGE_CONFIG))
	           == NULL
	    || !host_set_preshutdown(svc)) {
		e = GetLastError();
	}
	if (e != 0) {
		snprintf(line, sizeof(line),
		    "cannot set the preshutdown timeout (error %lu)",
		    (unsigned long) e);
		ovio__host_log_event(OVIO__LOG_WARN, line);
	}
	if (svc != NULL) {
		CloseServiceHandle(svc);
	}
	if (scm != NULL) {
		CloseServiceHandle(scm);
	}
}

static DWORD WINAPI
host_ctrl(DWORD ctrl, DWORD type, void *data, void *ctx)
{
	(void) type;
	(void) data;
	(void) ctx;
	switch (ctrl) {
	case SERVICE_CONTROL_STOP:
	case SERVICE_CONTROL_SHUTDOWN:
	case SERVICE_CONTROL_PRESHUTDOWN:
		host_stop_cause = ctrl == SERVICE_CONTROL_STOP
		                      ? "service stop"
		                      : "system shutdown";
		SetEvent(host_stop_ev); /* only signals; main thread stops */
		return (NO_ERROR);
	case SERVICE_CONTROL_PARAMCHANGE: /* sc control oviod paramchange */
		ovio__host_request_reload();
		return (NO_ERROR);
	case SERVICE_CONTROL_INTERROGATE:
		return (NO_ERROR);
	}
	return (ERROR_CALL_NOT_IMPLEMENTED);
}

static void WINAPI
host_service_main(DWORD ac, LPWSTR *av)
{
	(void) ac;
	(void) av; /* start parameters: the options are on the command line */
	host_ssh = RegisterServiceCtrlHandlerExW(HOST_SERVICE, host_ctrl, NULL);
	if (host_ssh == NULL) {
		host_rv = 1;
		return;
	}
	host_evlog = RegisterEventSourceW(NULL, HOST_SERVICE);
	host_report(SERVICE_START_PENDING, HOST_START_HINT);

	/*
	 * Started by the service manager (not a console "run"): its folder
	 * is made safe and its log opened, or it stops with the cause in
	 * the Event Log.  Its preshutdown timeout is set once the options
	 * are read (ovio__host_set_drain_ms).
	 */
	if (host_open_log(host_log_path) != 0) {
		host_rv = 1;
	} else {
		host_rv = ovio__oviod_main(host_argc, host_argv);
	}
	host_drained(); /* the ticker ends before STOPPED */

	fflush(stderr);
	EnterCriticalSection(&host_ss_mtx);
	if (host_rv != 0) {
		/* A non-zero exit makes the SCM run the failure actions. */
		host_ss.dwWin32ExitCode = ERROR_SERVICE_SPECIFIC_ERROR;
		host_ss.dwServiceSpecificExitCode = (DWORD) host_rv;
	}
	LeaveCriticalSection(&host_ss_mtx);
	if (host_evlog != NULL) {
		DeregisterEventSource(host_evlog);
		host_evlog = NULL;
	}
	host_report(SERVICE_STOPPED, 0); /* last: the SCM may end us now */
}

/* ---- host.h ------------------------------------------------------------ */

/*
 * The service's folder's DACL: full control for SYSTEM and Administrators,
 * inherited by what is made in it ("OICI"), nothing inherited from above
 * ("P"): %ProgramData% lets every user create folders and files, which
 * would then be theirs.
 */
static const WCHAR host_dir_sddl[] = L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";

/* Whether sid is SYSTEM, Administrators or the account this process is. */
static int
host_trusted_owner(PSID sid)
{
	HANDLE       tok;
	BYTE         buf[256];
	TOKEN_USER  *tu = (TOKEN_USER *) buf;
	DWORD        n;
	int          me = 0;

	if (IsWellKnownSid(sid, WinLocalSystemSid)
	    || IsWellKnownSid(sid, WinBuiltinAdministratorsSid)) {
		return (1);
	}
	if (OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok)) {
		me = GetTokenInformation(tok, TokenUser, tu, sizeof(buf), &n)
		     && EqualSid(sid, tu->User.Sid);
		CloseHandle(tok);
	}
	return (me);
}

/* The final path (links resolved) of the file or folder at w, or 0. */
static DWORD
host_final_path(const WCHAR *w, WCHAR *out, DWORD cap)
{
	HANDLE h = CreateFileW(w, FILE_READ_ATTRIBUTES,
	    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
	    OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
	DWORD  n;

	if (h == INVALID_HANDLE_VALUE) {
		return (0);
	}
	n = GetFinalPathNameByHandleW(
	    h, out, cap, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
	CloseHandle(h);
	if (n == 0 || n >= cap) {
		return (0);
	}
	while (n > 0 && out[n - 1] == L'\\') {
		out[--n] = L'\0';
	}
	return (n);
}

/*
 * Whether folder w is itself, not a link (a reparse point) to somewhere
 * else: Windows marks it; Wine does not, but both resolve it in its final
 * path, which must be its parent's plus its own name.
 */
static int
host_is_link(const WCHAR *w, DWORD attrs)
{
	WCHAR        parent[MAX_PATH + 8], fin[MAX_PATH + 8],
	    pfin[MAX_PATH + 8];
	const WCHAR *name;
	size_t       n;

	if ((attrs & FILE_ATTRIBUTE_REPARSE_POINT) != 0) {
		return (1);
	}
	if ((name = wcsrchr(w, L'\\')) == NULL
	    || (size_t) (name - w) >= MAX_PATH) {
		return (1);
	}
	n = (size_t) (name - w);
	wmemcpy(parent, w, n);
	parent[n] = L'\0';
	if (host_final_path(w, fin, MAX_PATH) == 0
	    || (n = host_final_path(parent, pfin, MAX_PATH)) == 0) {
		return (1); /* cannot tell: taken as one */
	}
	return (_wcsnicmp(fin, pfin, n) != 0 || _wcsicmp(fin + n, name) != 0);
}

/*
 * Whether dacl lets anyone but SYSTEM, Administrators and this process's
 * account write in the folder, or change it: who could plant a file or a
 * link there.  A NULL DACL lets everyone.
 */
static int
host_others_may_write(PACL dacl)
{
	const DWORD          w = FILE_ADD_FILE | FILE_ADD_SUBDIRECTORY
	              | FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_DELETE_CHILD
	              | DELETE | WRITE_DAC | WRITE_OWNER | GENERIC_WRITE
	              | GENERIC_ALL;
	ACCESS_ALLOWED_ACE *ace;
	DWORD               i;

	if (dacl == NULL) {
		return (1);
	}
	for (i = 0; i < dacl->AceCount; i++) {
		if (!GetAce(dacl, i, (void **) &ace)) {
			return (1);
		}
		if (ace->Header.AceType == ACCESS_ALLOWED_ACE_TYPE
		    && (ace->Mask & w) != 0
		    && !host_trusted_owner((PSID) &ace->SidStart)) {
			return (1);
		}
	}
	return (0);
}

int
ovio__host_service_dir(char *buf, size_t len, char *why, size_t wlen)
{
	const char          *pd = getenv("ProgramData");
	PSECURITY_DESCRIPTOR sd = NULL, osd = NULL;
	SECURITY_ATTRIBUTES  sa;
	PSID                 owner = NULL;
	PACL                 dacl = NULL, cur = NULL;
	BOOL                 present, defaulted;
	WCHAR               *w;
	DWORD                attrs, err;
	int                  rv = -1;

	if (pd == NULL || pd[0] == '\0') {
		snprintf(why, wlen, "%%ProgramData%% is not set");
		return (-1);
	}
	snprintf(buf, len, "%s\\ovio", pd);
	if ((w = ovio__win_widen(buf)) == NULL
	    || !ConvertStringSecurityDescriptorToSecurityDescriptorW(
	        host_dir_sddl, SDDL_REVISION_1, &sd, NULL)
	    || !GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted)) {
		snprintf(why, wlen, "%s: cannot build its security (error %lu)",
		    buf, (unsigned long) GetLastError());
		goto out;
	}
	sa.nLength              = sizeof(sa);
	sa.lpSecurityDescriptor = sd;
	sa.bInheritHandle       = FALSE;
	if (CreateDirectoryW(w, &sa)) {
		rv = 0;
		goto out;
	}
	if ((err = GetLastError()) != ERROR_ALREADY_EXISTS) {
		snprintf(why, wlen, "cannot make the folder %s (error %lu)", buf,
		    (unsigned long) err);
		goto out;
	}
	/* There already: a real folder of a trusted owner, made safe again. */
	attrs = GetFileAttributesW(w);
	if (attrs == INVALID_FILE_ATTRIBUTES
	    || (attrs & FILE_ATTRIBUTE_DIRECTORY) == 0) {
		snprintf(why, wlen, "%s exists and is not a folder", buf);
		goto out;
	}
	if (host_is_link(w, attrs)) {
		snprintf(why, wlen,
		    "%s is a link (a reparse point): someone may have planted "
		    "it",
		    buf);
		goto out;
	}
	if (GetNamedSecurityInfoW(w, SE_FILE_OBJECT,
	        OWNER_SECURITY_INFORMATION, &owner, NULL, NULL, NULL, &osd)
	        != ERROR_SUCCESS
	    || owner == NULL) {
		snprintf(why, wlen, "%s: cannot read its owner", buf);
		goto out;
	}
	if (!host_trusted_owner(owner)) {
		snprintf(why, wlen,
		    "the folder %s belongs to another account, who could "
		    "replace what is in it",
		    buf);
		goto out;
	}
	/*
	 * Set only when unsafe (an older oviod's, made with the DACL of
	 * %ProgramData%): setting it passes its inherited entries down to
	 * everything in the folder, the default root among them.
	 */
	LocalFree(osd);
	osd = NULL;
	if (GetNamedSecurityInfoW(w, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION,
	        NULL, NULL, &cur, NULL, &osd)
	        == ERROR_SUCCESS
	    && !host_others_may_write(cur)) {
		rv = 0;
		goto out;
	}
	if ((err = SetNamedSecurityInfoW(w, SE_FILE_OBJECT,
	         DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
	         NULL, NULL, dacl, NULL))
	    != ERROR_SUCCESS) {
		snprintf(why, wlen,
		    "%s: cannot limit it to SYSTEM and Administrators (error "
		    "%lu)",
		    buf, (unsigned long) err);
		goto out;
	}
	/* What it is now (Wine, for one, keeps a DACL only from creation). */
	LocalFree(osd);
	osd = NULL;
	cur = NULL;
	if (GetNamedSecurityInfoW(w, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION,
	        NULL, NULL, &cur, NULL, &osd)
	        != ERROR_SUCCESS
	    || host_others_may_write(cur)) {
		snprintf(why, wlen,
		    "the folder %s may be written by others, who could plant "
		    "files or links in it, and its DACL could not be limited "
		    "to SYSTEM and Administrators: remove the folder, or reset "
		    "it (icacls %s /inheritance:r /grant:r SYSTEM:(OI)(CI)F "
		    "Administrators:(OI)(CI)F)",
		    buf, buf);
		goto out;
	}
	rv = 0;
out:
	if (osd != NULL) {
		LocalFree(osd);
	}
	if (sd != NULL) {
		LocalFree(sd);
	}
	free(w);
	return (rv);
}

/* A user's own folder, %LOCALAPPDATA%\ovio (made if missing), plus sub. */
static void
host_user_dir(char *buf, size_t len, const char *sub)
{
	const char *v = getenv("LOCALAPPDATA");

	buf[0] = '\0';
	if (v != NULL && v[0] != '\0') {
		snprintf(buf, len, "%s\\ovio", v);
		(void) CreateDirectoryA(buf, NULL); /* the engine makes sub */
		snprintf(buf, len, "%s\\ovio%s", v, sub);
	}
}

const char *
ovio__host_default_root(void)
{
	static char buf[1024];
	const char *v;

	if ((v = getenv("OVIO_ROOT")) != NULL && v[0] != '\0') {
		return (v);
	}
	if (host_service) {
		/* Made safe by host_open_log, before the service started. */
		snprintf(buf, sizeof(buf), "%s\\ovio\\data",
		    getenv("ProgramData") != NULL ? getenv("ProgramData") : ".");
		return (buf);
	}
	host_user_dir(buf, sizeof(buf), "\\data");
	return (buf[0] != '\0' ? buf : "ovio-data");
}

uint64_t
ovio__host_clock_us(void)
{
	static LARGE_INTEGER freq; /* counts a second; fixed at boot */
	LARGE_INTEGER        now;

	if (freq.QuadPart == 0) {
		QueryPerformanceFrequency(&freq);
	}
	QueryPerformanceCounter(&now);
	return ((uint64_t) (now.QuadPart / freq.QuadPart) * 1000000u
	        + (uint64_t) (now.QuadPart % freq.QuadPart) * 1000000u
	              / (uint64_t) freq.QuadPart);
}

void
ovio__host_timestamp(char *buf, size_t len)
{
	SYSTEMTIME st;

	GetSystemTime(&st);
	snprintf(buf, len, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
	    (unsigned) st.wYear, (unsigned) st.wMonth, (unsigned) st.wDay,
	    (unsigned) st.wHour, (unsigned) st.wMinute, (unsigned) st.wSecond,
	    (unsigned) st.wMilliseconds);
}

/*
 * The allow-list (ovio__host_peer_allow): SIDs, each LocalAlloc'd by
 * ConvertStringSidToSidA or host_sid_copy.  Read-only once the service
 * runs.
 */
#define HOST_MAX_ALLOW 64
static struct {
	bool   restricted;
	PSID   users[HOST_MAX_ALLOW];
	size_t nusers;
	PSID   groups[HOST_MAX_ALLOW];
	size_t ngroups;
	BYTE   own[SECURITY_MAX_SID_SIZE]; /* this process's account */
	bool   has_own;
} host_peers;

/*
 * Who may open the service's named pipes: SYSTEM, Administrators and the
 * account oviod runs as (OWNER RIGHTS), nobody from the network and no
 * anonymous logon (deny ACEs first, as the canonical order wants; nng also
 * creates the pipes with PIPE_REJECT_REMOTE_CLIENTS).  "P" protects the
 * DACL from inherited entries.
 */
static const WCHAR host_pipe_sddl[]
    = L"D:P(D;;GA;;;NU)(D;;GA;;;AN)(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;OW)";

/*
 * With an allow-list (--allow-uid, --allow-group), every authenticated
 * local user may open the pipe, and each peer is then checked by its
 * process's token (ovio__host_process_allowed), refused ones logged.
 */
static const WCHAR host_pipe_sddl_listed[] = L"D:P(D;;GA;;;NU)(D;;GA;;;AN)"
                                             L"(A;;GA;;;SY)(A;;GA;;;BA)"
                                             L"(A;;GA;;;OW)(A;;GA;;;AU)";

/* A log line from the host itself: stderr, log file, Event Log. */
static void
host_say(int level, const char *line)
{
	ovio__logl(level, "%s", line);
}

void
ovio__host_listener_setup(nng_listener l, const char *url)
{
	/* nng keeps the pointer: the descriptor lives as long as we do. */
	static PSECURITY_DESCRIPTOR sd;
	char                        line[600];
	int                         rv;

	if (strncmp(url, "ipc://", 6) != 0) {
		return;
	}
	if (sd == NULL
	    && !ConvertStringSecurityDescriptorToSecurityDescriptorW(
	        host_peers.restricted ? host_pipe_sddl_listed : host_pipe_sddl,
	        SDDL_REVISION_1, &sd, NULL)) {
		snprintf(line, sizeof(line),
		    "%s: cannot build the pipe's security descriptor (error "
		    "%lu); using the default",
		    url, (unsigned long) GetLastError());
		host_say(OVIO__LOG_ERROR, line);
		sd = NULL;
		return;
	}
	if ((rv = nng_listener_set_ptr(l, NNG_OPT_IPC_SECURITY_DESCRIPTOR, sd))
	    != 0) {
		snprintf(line, sizeof(line),
		    "%s: cannot set the pipe's security descriptor: %s", url,
		    nng_strerror(rv));
		host_say(OVIO__LOG_ERROR, line);
	}
}

/* Windows has no descriptor limit of that kind (handles are per process). */
uint64_t
ovio__host_raise_fd_limit(void)
{
	return (0);
}

/* A LocalAlloc'd copy of sid, or NULL. */
static PSID
host_sid_copy(PSID sid)
{
	DWORD n = GetLengthSid(sid);
	PSID  c = LocalAlloc(LMEM_FIXED, n);

	if (c != NULL && !CopySid(n, c, sid)) {
		LocalFree(c);
		c = NULL;
	}
	return (c);
}

/* The user SID of token into buf (SECURITY_MAX_SID_SIZE), and its
 * attributes; false if it cannot be read. */
static bool
host_token_user(HANDLE token, BYTE *buf, DWORD *attrs)
{
	union {
		TOKEN_USER u;
		BYTE       b[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
	} tu;
	DWORD n;

	if (!GetTokenInformation(token, TokenUser, &tu, sizeof(tu), &n)
	    || !CopySid(SECURITY_MAX_SID_SIZE, buf, tu.u.User.Sid)) {
		return (false);
	}
	*attrs = tu.u.User.Attributes;
	return (true);
}

int
ovio__host_peer_allow(const char *name, bool group, char *why, size_t len)
{
	const char  *opt = group ? "--allow-group" : "--allow-uid";
	BYTE         buf[SECURITY_MAX_SID_SIZE];
	char         dom[256];
	DWORD        n = sizeof(buf), dn = sizeof(dom), attrs;
	SID_NAME_USE use;
	PSID         sid = NULL;
	HANDLE       t;

	host_peers.restricted = true;
	if (!host_peers.has_own
	    && OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &t)) {
		host_peers.has_own = host_token_user(t, host_peers.own, &attrs);
		CloseHandle(t);
	}
	if ((group ? host_peers.ngroups : host_peers.nusers)
	    >= HOST_MAX_ALLOW) {
		snprintf(why, len, "%s: more than %d entries", opt,
		    HOST_MAX_ALLOW);
		return (OVIO_EINVAL);
	}
	if ((name[0] == 'S' || name[0] == 's') && name[1] == '-') {
		if (!ConvertStringSidToSidA(name, &sid)) {
			snprintf(why, len, "%s %s: not a SID", opt, name);
			return (OVIO_EINVAL);
		}
	} else {
		if (!LookupAccountNameA(NULL, name, buf, &n, dom, &dn, &use)) {
			snprintf(why, len, "%s %s: no such %s (error %lu)", opt,
			    name, group ? "group" : "account",
			    (unsigned long) GetLastError());
			return (OVIO_EINVAL);
		}
		if (group
		    && use != SidTypeGroup && use != SidTypeAlias
		    && use != SidTypeWellKnownGroup) {
			snprintf(why, len, "%s %s: not a group", opt, name);
			return (OVIO_EINVAL);
		}
		if (!group && use != SidTypeUser) {
			snprintf(why, len, "%s %s: not a user account", opt,
			    name);
			return (OVIO_EINVAL);
		}
		if ((sid = host_sid_copy(buf)) == NULL) {
			snprintf(why, len, "out of memory");
			return (OVIO_ENOMEM);
		}
	}
	if (group) {
		host_peers.groups[host_peers.ngroups++] = sid;
	} else {
		host_peers.users[host_peers.nusers++] = sid;
	}
	return (0);
}

bool
ovio__host_peers_restricted(void)
{
	return (host_peers.restricted);
}

/* Windows gives no uid (server.c asks ovio__host_process_allowed). */
bool
ovio__host_peer_allowed(uint64_t uid, uint64_t gid)
{
	(void) uid;
	(void) gid;
	return (!host_peers.restricted);
}

static bool
host_sid_in(PSID sid, PSID *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (EqualSid(sid, list[i])) {
			return (true);
		}
	}
	return (false);
}

bool
ovio__host_sids_allowed(PSID user, DWORD user_attrs, const TOKEN_GROUPS *g)
{
	BYTE  sys[SECURITY_MAX_SID_SIZE], adm[SECURITY_MAX_SID_SIZE];
	DWORD ns = sizeof(sys), na = sizeof(adm), i;

	if (!host_peers.restricted) {
		return (true);
	}
	if (!CreateWellKnownSid(WinLocalSystemSid, NULL, sys, &ns)
	    || !CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL, adm, &na)) {
		return (false);
	}
	if ((user_attrs & SE_GROUP_USE_FOR_DENY_ONLY) == 0
	    && (EqualSid(user, sys)
	        || (host_peers.has_own && EqualSid(user, host_peers.own))
	        || host_sid_in(user, host_peers.users, host_peers.nusers))) {
		return (true);
	}
	for (i = 0; g != NULL && i < g->GroupCount; i++) {
		DWORD a = g->Groups[i].Attributes;

		if ((a & SE_GROUP_ENABLED) == 0
		    || (a & SE_GROUP_USE_FOR_DENY_ONLY) != 0) {
			continue;
		}
		if (EqualSid(g->Groups[i].Sid, adm)
		    || host_sid_in(g->Groups[i].Sid, host_peers.groups,
		        host_peers.ngroups)) {
			return (true);
		}
	}
	return (false);
}

bool
ovio__host_process_allowed(uint64_t pid, char *who, size_t len)
{
	BYTE          user[SECURITY_MAX_SID_SIZE];
	TOKEN_GROUPS *g = NULL;
	DWORD         attrs, n = 0;
	HANDLE        p, t = NULL;
	char         *str;
	bool          ok = false;

	snprintf(who, len, "(unknown)");
	p = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, (DWORD) pid);
	if (p == NULL || !OpenProcessToken(p, TOKEN_QUERY, &t)) {
		snprintf(who, len, "(its token cannot be read: error %lu)",
		    (unsigned long) GetLastError());
		goto done;
	}
	if (!host_token_user(t, user, &attrs)) {
		snprintf(who, len, "(its user cannot be read: error %lu)",
		    (unsigned long) GetLastError());
		goto done;
	}
	if (ConvertSidToStringSidA(user, &str)) {
		snprintf(who, len, "%s", str);
		LocalFree(str);
	}
	(void) GetTokenInformation(t, TokenGroups, NULL, 0, &n);
	if (n == 0 || (g = malloc(n)) == NULL
	    || !GetTokenInformation(t, TokenGroups, g, n, &n)) {
		free(g);
		g = NULL; /* judged by its user alone */
	}
	ok = ovio__host_sids_allowed(user, attrs, g);
done:
	free(g);
	if (t != NULL) {
		CloseHandle(t);
	}
	if (p != NULL) {
		CloseHandle(p);
	}
	return (ok);
}

/*
 * A named pipe has no folder and no file to plant, and nng creates the
 * first instance (FILE_FLAG_FIRST_PIPE_INSTANCE): a pipe of that name made
 * first by someone else makes the listen fail, and the start with it.
 */
int
ovio__host_ipc_check(const char *url, char *why, size_t len)
{
	(void) url;
	(void) why;
	(void) len;
	return (0);
}

/* Named pipes live in no folder. */
int
ovio__host_ipc_folder(const char *url, bool shared, char *why, size_t len)
{
	(void) url;
	(void) shared;
	(void) why;
	(void) len;
	return (0);
}

/* The admin pipe: SYSTEM and Administrators only, protected. */
static const WCHAR host_admin_sddl[] = L"D:P(A;;GA;;;SY)(A;;GA;;;BA)";

int
ovio__host_admin_listener_setup(nng_listener l, const char *url)
{
	/* nng keeps the pointer: the descriptor lives as long as we do. */
	static PSECURITY_DESCRIPTOR sd;
	char                        line[600];
	int                         rv;

	if (strncmp(url, "ipc://", 6) != 0) {
		snprintf(line, sizeof(line),
		    "admin endpoint %s: not ipc://, so anyone who can reach "
		    "it may administer the service",
		    url);
		host_say(OVIO__LOG_WARN, line);
		return (0);
	}
	if (sd == NULL
	    && !ConvertStringSecurityDescriptorToSecurityDescriptorW(
	        host_admin_sddl, SDDL_REVISION_1, &sd, NULL)) {
		snprintf(line, sizeof(line),
		    "admin endpoint %s: cannot build its security descriptor "
		    "(error %lu)",
		    url, (unsigned long) GetLastError());
		host_say(OVIO__LOG_ERROR, line);
		sd = NULL;
		return (OVIO_EACCES);
	}
	if ((rv = nng_listener_set_ptr(l, NNG_OPT_IPC_SECURITY_DESCRIPTOR, sd))
	    != 0) {
		snprintf(line, sizeof(line),
		    "admin endpoint %s: cannot set its security descriptor: %s",
		    url, nng_strerror(rv));
		host_say(OVIO__LOG_ERROR, line);
		return (OVIO_EACCES);
	}
	return (0);
}

int
ovio__host_admin_listener_ready(const char *url, const char *group)
{
	(void) url;
	if (group != NULL) {
		host_say(OVIO__LOG_ERROR,
		    "--admin-group: not on Windows (the admin pipe is for "
		    "SYSTEM and Administrators)");
		return (OVIO_ENOTSUP);
	}
	return (0);
}

void
ovio__host_request_stop(void)
{
	SetEvent(host_event()); /* as a service stop or Ctrl-C */
}

/*
 * Nothing to do: the Windows heap allocates the largest blocks directly
 * from the system, returns them on free, and decommits large free ranges
 * on its own.
 */
void
ovio__host_memory_release(void)
{
}

/*
 * nng 1.5.2 ends its I/O threads by closing their completion port, which
 * wakes them on Windows but not under Wine, where nng_fini then waits
 * forever and a stopping service never reports STOPPED.  Under Wine (ntdll
 * exports wine_get_version) the process is about to exit anyway, so the
 * clean-up is left to the exit; on Windows nng_fini runs as usual.
 *
 * First it tells the host that the drain is over: the STOP_PENDING ticker
 * ends, and a console close / logoff / shutdown handler may return.
 */
void
ovio__host_fini(void)
{
	HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");

	host_drained();
	if (ntdll != NULL
	    && GetProcAddress(ntdll, "wine_get_version") != NULL) {
		return;
	}
	nng_fini();
}

long
ovio__host_pid(void)
{
	return ((long) GetCurrentProcessId());
}

/*
 * The log file gets every line, with its level as stderr has it; the Event
 * Log gets info and above, as an event of the same severity (the message
 * table in oviod_msg.mc: a source without one shows "the description for
 * event ID ... cannot be found").
 */
void
ovio__host_log_event(int level, const char *line)
{
	WCHAR        w[1024];
	const WCHAR *strs[1] = { w };
	WORD         type    = EVENTLOG_INFORMATION_TYPE;
	DWORD        id      = OVIO_MSG_INFO;
	char         ts[40];

	if (host_logf != NULL) {
		/* One call per line: the C runtime locks the stream. */
		ovio__host_timestamp(ts, sizeof(ts));
		fprintf(host_logf, "%s oviod: %s%s%s\n", ts,
		    level != OVIO__LOG_INFO ? ovio__log_level_name(level) : "",
		    level != OVIO__LOG_INFO ? ": " : "", line);
	}
	if (host_evlog == NULL || level == OVIO__LOG_DEBUG
	    || MultiByteToWideChar(CP_UTF8, 0, line, -1, w, 1024) == 0) {
		return;
	}
	if (level == OVIO__LOG_ERROR) {
		type = EVENTLOG_ERROR_TYPE;
		id   = OVIO_MSG_ERROR;
	} else if (level == OVIO__LOG_WARN) {
		type = EVENTLOG_WARNING_TYPE;
		id   = OVIO_MSG_WARN;
	}
	(void) ReportEventW(host_evlog, type, 0, id, NULL, 1, 0, strs, NULL);
}

/* ---- command line ------------------------------------------------------ */

/* UTF-16 -> newly allocated UTF-8 (NULL on failure). */
static char *
host_narrow(const WCHAR *w)
{
	int   n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
	char *s;

	if (n <= 0 || (s = malloc((size_t) n)) == NULL) {
		return (NULL);
	}
	WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL);
	return (s);
}

/*
 * The process's arguments as UTF-8, from the UTF-16 command line (argv of
 * main is in the ANSI code page).  Falls back to argv.
 */
static char **
host_utf8_args(int *argc, char **argv)
{
	LPWSTR *wv;
	char  **v;
	int     n, i;

	if ((wv = CommandLineToArgvW(GetCommandLineW(), &n)) == NULL) {
		return (argv);
	}
	if ((v = calloc((size_t) n + 1, sizeof(char *))) == NULL) {
		LocalFree(wv);
		return (argv);
	}
	for (i = 0; i < n; i++) {
		if ((v[i] = host_narrow(wv[i])) == NULL) {
			LocalFree(wv);
			return (argv);
		}
	}
	LocalFree(wv);
	*argc = n;
	return (v);
}

/* ---- install / uninstall ------------------------------------------------ */

/* Whether the file at w is owned by SYSTEM, Administrators or us. */
static int
host_file_trusted(const WCHAR *w)
{
	PSECURITY_DESCRIPTOR sd    = NULL;
	PSID                 owner = NULL;
	int                  ok;

	ok = GetNamedSecurityInfoW((WCHAR *) w, SE_FILE_OBJECT,
	         OWNER_SECURITY_INFORMATION, &owner, NULL, NULL, NULL, &sd)
	         == ERROR_SUCCESS
	     && owner != NULL && host_trusted_owner(owner);
	if (sd != NULL) {
		LocalFree(sd);
	}
	return (ok);
}

/*
 * A stdio stream on the file handle h (flags for _open_osfhandle, mode for
 * _fdopen), or NULL with h closed (whatever fails, h is closed once) and
 * GetLastError saying why.
 */
static FILE *
host_fdopen(HANDLE h, int flags, const char *mode)
{
	FILE *f;
	int   fd = _open_osfhandle((intptr_t) h, flags);

	if (fd < 0) {
		CloseHandle(h);
		SetLastError(ERROR_TOO_MANY_OPEN_FILES);
		return (NULL);
	}
	if ((f = _fdopen(fd, mode)) == NULL) {
		_close(fd); /* closes h too */
		SetLastError(ERROR_NOT_ENOUGH_MEMORY);
	}
	return (f);
}

/*
 * The service's options go to its config file, conf (the options given,
 * argv[1..argc), checked; the file before them kept as conf.old), or,
 * given none, the file there is kept if an administrator's (made, with
 * only its header, if missing).  Returns 0, or 2 (a bad option: conf
 * untouched) or 1 after saying why.
 */
static int
host_write_config(const char *conf, int argc, char **argv)
{
	char   fresh[1100], old[1100];
	char  *cv[5];
	WCHAR *wc = NULL, *wf = NULL, *wo = NULL;
	FILE  *f  = NULL;
	HANDLE h;
	int    rv = 1, had;

	snprintf(fresh, sizeof(fresh), "%s.new", conf);
	snprintf(old, sizeof(old), "%s.old", conf);
	if ((wc = ovio__win_widen(conf)) == NULL
	    || (wf = ovio__win_widen(fresh)) == NULL
	    || (wo = ovio__win_widen(old)) == NULL) {
		goto out;
	}
	had = GetFileAttributesW(wc) != INVALID_FILE_ATTRIBUTES;
	if (argc <= 1 && had) {
		/* One an ordinary user planted (an older folder let anyone
		 * write) would configure a LocalSystem service. */
		if (!host_file_trusted(wc)) {
			fprintf(stderr,
			    "oviod: install: %s is not an administrator's: "
			    "remove it, or give the options to install\n",
			    conf);
			goto out;
		}
		printf("oviod: install: kept %s\n", conf);
		rv = 0;
		goto out;
	}
	/* A file of our own, new: none left there is truncated and used. */
	(void) DeleteFileW(wf);
	h = CreateFileW(wf, GENERIC_WRITE, 0, NULL, CREATE_NEW,
	    FILE_ATTRIBUTE_NORMAL, NULL);
	if (h == INVALID_HANDLE_VALUE
	    || (f = host_fdopen(h, _O_WRONLY | _O_TEXT, "w")) == NULL) {
		fprintf(stderr, "oviod: install: cannot write %s (error %lu)\n",
		    fresh, (unsigned long) GetLastError());
		goto out;
	}
	fprintf(f,
	    "# oviod's options, written by oviod install (one \"key = "
	    "value\" per\n"
	    "# line: its long options; see oviod --help).  After an edit:\n"
	    "#     oviod --config %s --check-config\n"
	    "# then sc control oviod paramchange (or ovio admin reload) "
	    "takes the\n"
	    "# log level and the limits at once; the rest waits for a "
	    "restart.\n",
	    conf);
	rv = ovio__oviod_config_from_args(argc, argv, f);
	if (fclose(f) != 0 && rv == 0) {
		rv = 1;
	}
	if (rv == 0) {
		/* Checked as a whole, as the service will read it. */
		cv[0] = "oviod";
		cv[1] = "--config";
		cv[2] = fresh;
		cv[3] = "--check-config";
		cv[4] = NULL;
		host_service = 1; /* the service's defaults, made nowhere */
		rv           = ovio__oviod_main(4, cv) == 0 ? 0 : 2;
		host_service = 0;
	}
	if (rv != 0) {
		DeleteFileW(wf);
		goto out;
	}
	if (had && !MoveFileExW(wc, wo, MOVEFILE_REPLACE_EXISTING)) {
		fprintf(stderr, "oviod: install: cannot keep %s as %s (error "
		                "%lu)\n",
		    conf, old, (unsigned long) GetLastError());
		DeleteFileW(wf);
		rv = 1;
		goto out;
	}
	if (!MoveFileExW(wf, wc, MOVEFILE_REPLACE_EXISTING)) {
		fprintf(stderr, "oviod: install: cannot write %s (error %lu)\n",
		    conf, (unsigned long) GetLastError());
		if (had) {
			(void) MoveFileExW(wo, wc, 0); /* the old one back */
		}
		DeleteFileW(wf);
		rv = 1;
		goto out;
	}
	printf("oviod: install: wrote %s%s%s\n", conf,
	    had ? "; the one before is " : "", had ? old : "");
out:
	free(wc);
	free(wf);
	free(wo);
	return (rv);
}

/*
 * Registers the Event Log source, with exe's message table
 * (oviod_msg.mc) as its EventMessageFile, so that the Event Viewer shows
 * each event's text and severity.  Returns 0 or a Win32 error.
 */
static LSTATUS
host_register_events(const WCHAR *exe)
{
	DWORD   types = EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE
	              | EVENTLOG_INFORMATION_TYPE;
	HKEY    k;
	LSTATUS e;

	e = RegCreateKeyExW(HKEY_LOCAL_MACHINE, OVIO__WIN_EVENTLOG_KEY, 0, NULL, 0,
	    KEY_SET_VALUE, NULL, &k, NULL);
	if (e != ERROR_SUCCESS) {
		return (e);
	}
	e = RegSetValueExW(k, L"EventMessageFile", 0, REG_EXPAND_SZ,
	    (const BYTE *) exe, (DWORD) ((wcslen(exe) + 1) * sizeof(WCHAR)));
	if (e == ERROR_SUCCESS) {
		e = RegSetValueExW(k, L"TypesSupported", 0, REG_DWORD,
		    (const BYTE *) &types, sizeof(types));
	}
	RegCloseKey(k);
	return (e);
}

static int
host_install(int argc, char **argv)
{
	static WCHAR                 cmd[32768];
	WCHAR                        exe[MAX_PATH * 4];
	SC_HANDLE                    scm = NULL, svc = NULL;
	SERVICE_DESCRIPTIONW         desc;
	SC_ACTION                    act[3];
	SERVICE_FAILURE_ACTIONSW     fa;
	SERVICE_FAILURE_ACTIONS_FLAG faf;
	DWORD                        start = SERVICE_AUTO_START, n;
	uint64_t                     ms;
	size_t                       len;
	WCHAR                       *w;
	char                       **opts = NULL, conf[1024], why[1200];
	const char                  *log   = NULL;
	int                          i, nopts = 0, rv = 1;

	n = GetModuleFileNameW(NULL, exe, MAX_PATH * 4);
	if (n == 0 || n >= MAX_PATH * 4) {
		fprintf(stderr, "oviod: install: cannot find my own path\n");
		return (1);
	}
	/*
	 * "C:\path\oviod.exe" run --config CONF [--log FILE]: the path
	 * always quoted (an unquoted path with spaces is a classic hole; a
	 * path holds no '"'), each argument quoted as needed.  The options
	 * but --start and --log go to CONF, which sc control oviod
	 * paramchange reads again.
	 */
	/* opts[0] stands for the program, as getopt wants. */
	if ((opts = calloc((size_t) argc + 2, sizeof(char *))) == NULL) {
		return (1);
	}
	opts[nopts++] = "oviod";
	for (i = 0; i < argc; i++) {
		if ((strcmp(argv[i], "--start") == 0 && i + 1 < argc)
		    || strncmp(argv[i], "--start=", 8) == 0) {
			const char *v
			    = argv[i][7] == '=' ? argv[i] + 8 : argv[++i];
			if (strcmp(v, "demand") == 0) {
				start = SERVICE_DEMAND_START;
			} else if (strcmp(v, "auto") != 0) {
				fprintf(stderr, "oviod: install: --start auto "
				                "or demand\n");
				rv = 2;
				goto done;
			}
			continue;
		}
		if (strcmp(argv[i], "--log") == 0 && i + 1 < argc) {
			log = argv[++i];
			continue;
		}
		if (strncmp(argv[i], "--log=", 6) == 0) {
			log = argv[i] + 6;
			continue;
		}
		/* Peeks for the preshutdown timeout; oviod checks the value. */
		if (strcmp(argv[i], "--drain-timeout") == 0 && i + 1 < argc
		    && ovio__parse_number(argv[i + 1], 0, 1, 3600000, &ms)
		           == 0) {
			host_drain_ms = (DWORD) ms;
		} else if (strncmp(argv[i], "--drain-timeout=", 16) == 0
		           && ovio__parse_number(
		                  argv[i] + 16, 0, 1, 3600000, &ms)
		                  == 0) {
			host_drain_ms = (DWORD) ms;
		}
		opts[nopts++] = argv[i];
	}
	if (ovio__host_service_dir(conf, sizeof(conf), why, sizeof(why))
	    != 0) {
		fprintf(stderr, "oviod: install: %s\n", why);
		goto done;
	}
	snprintf(conf + strlen(conf), sizeof(conf) - strlen(conf),
	    "\\oviod.conf");
	_snwprintf(cmd, 32767, L"\"%ls\" run", exe);
	cmd[32767] = L'\0';
	len        = wcslen(cmd);
	for (i = 0; i < 4; i++) {
		const char *arg = i == 0 ? "--config"
		                  : i == 1 ? conf
		                  : i == 2 ? (log != NULL ? "--log" : NULL)
		                           : log;
		if (arg == NULL) {
			break;
		}
		if ((w = ovio__win_widen(arg)) == NULL) {
			goto toolong;
		}
		if (ovio__win_quote_arg(
		        cmd, sizeof(cmd) / sizeof(cmd[0]), &len, w)
		    != 0) {
			free(w);
			goto toolong;
		}
		free(w);
	}

	if ((scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CREATE_SERVICE))
	    == NULL) {
		fprintf(stderr,
		    "oviod: install: cannot open the service "
		    "manager (error %lu; run as an administrator)\n",
		    (unsigned long) GetLastError());
		goto done;
	}
	svc = CreateServiceW(scm, HOST_SERVICE, HOST_DISPLAY,
	    SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS, start,
	    SERVICE_ERROR_NORMAL, cmd, NULL, NULL, NULL, NULL, NULL);
	if (svc == NULL) {
		fprintf(stderr,
		    "oviod: install: cannot create service %ls "
		    "(error %lu%s)\n",
		    HOST_SERVICE, (unsigned long) GetLastError(),
		    GetLastError() == ERROR_SERVICE_EXISTS
		        ? ": already installed"
		        : "");
		goto done;
	}
	/* Created: the config is written (a refused install leaves it be). */
	if ((rv = host_write_config(conf, nopts, opts)) != 0) {
		(void) DeleteService(svc);
		goto done;
	}
	rv                 = 1;
	desc.lpDescription = (LPWSTR) HOST_DESCRIPTION;
	(void) ChangeServiceConfig2W(svc, SERVICE_CONFIG_DESCRIPTION, &desc);

	/* Restart after 5 s, 5 s, then 60 s; forget failures after a day. */
	act[0].Type  = SC_ACTION_RESTART;
	act[0].Delay = 5000;
	act[1]       = act[0];
	act[2].Type  = SC_ACTION_RESTART;
	act[2].Delay = 60000;
	memset(&fa, 0, sizeof(fa));
	fa.dwResetPeriod = 86400;
	fa.cActions      = 3;
	fa.lpsaActions   = act;
	if (!ChangeServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS, &fa)) {
		fprintf(stderr,
		    "oviod: install: warning: cannot set the "
		    "restart-on-failure actions (error %lu)\n",
		    (unsigned long) GetLastError());
	}
	/* Also when the service stops itself with an error, not only on a
	 * crash. */
	faf.fFailureActionsOnNonCrashFailures = TRUE;
	(void) ChangeServiceConfig2W(
	    svc, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &faf);
	if (!host_set_preshutdown(svc)) {
		fprintf(stderr,
		    "oviod: install: warning: cannot set the "
		    "preshutdown timeout (error %lu)\n",
		    (unsigned long) GetLastError());
	}
	if ((n = (DWORD) host_register_events(exe)) != ERROR_SUCCESS) {
		fprintf(stderr,
		    "oviod: install: warning: cannot register the Event Log "
		    "source %ls (error %lu): its events will show no text\n",
		    HOST_SERVICE, (unsigned long) n);
	}

	printf("oviod: installed service %ls: %ls\n", HOST_SERVICE, cmd);
	rv = 0;
done:
	if (svc != NULL) {
		CloseServiceHandle(svc);
	}
	if (scm != NULL) {
		CloseServiceHandle(scm);
	}
	free(opts);
	return (rv);
toolong:
	fprintf(stderr, "oviod: install: command line too long\n");
	free(opts);
	return (2);
}

static int
host_uninstall(void)
{
	SC_HANDLE      scm, svc;
	SERVICE_STATUS ss;
	int            i, rv = 1;

	if ((scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT)) == NULL) {
		fprintf(stderr,
		    "oviod: uninstall: cannot open the service "
		    "manager (error %lu)\n",
		    (unsigned long) GetLastError());
		return (1);
	}
	svc = OpenServiceW(
	    scm, HOST_SERVICE, DELETE | SERVICE_STOP | SERVICE_QUERY_STATUS);
	if (svc == NULL) {
		fprintf(stderr,
		    "oviod: uninstall: no service %ls (error %lu)\n",
		    HOST_SERVICE, (unsigned long) GetLastError());
		CloseServiceHandle(scm);
		return (1);
	}
	/* Stop it first, waiting for the drain, so no process is orphaned. */
	if (QueryServiceStatus(svc, &ss)
	    && ss.dwCurrentState != SERVICE_STOPPED) {
		(void) ControlService(svc, SERVICE_CONTROL_STOP, &ss);
		for (i = 0; i < 300 && QueryServiceStatus(svc, &ss)
		            && ss.dwCurrentState != SERVICE_STOPPED;
		     i++) {
			Sleep(100);
		}
	}
	if (!DeleteService(svc)) {
		fprintf(stderr,
		    "oviod: uninstall: cannot delete service %ls "
		    "(error %lu)\n",
		    HOST_SERVICE, (unsigned long) GetLastError());
	} else {
		printf("oviod: uninstalled service %ls\n", HOST_SERVICE);
		rv = 0;
		/* Its Event Log source too (the events stay in the log). */
		(void) RegDeleteKeyW(HKEY_LOCAL_MACHINE, OVIO__WIN_EVENTLOG_KEY);
	}
	CloseServiceHandle(svc);
	CloseServiceHandle(scm);
	return (rv);
}

/* ---- main --------------------------------------------------------------- */

static const char host_usage[]
    = "usage: oviod [options]            run in this console (Ctrl-C stops "
      "it)\n"
      "       oviod install [--start auto|demand] [--log FILE] [options]\n"
      "                                  register the service \"oviod\"\n"
      "                                  (LocalSystem, restarted on failure);\n"
      "                                  the options are checked and written\n"
      "                                  to %ProgramData%\\ovio\\oviod.conf,\n"
      "                                  which its command line names\n"
      "       oviod uninstall            stop the service (it drains), delete "
      "it\n"
      "       oviod run [--log FILE] [options]\n"
      "                                  what the service manager starts; by\n"
      "                                  hand it is a console run\n"
      "\n"
      "Windows options:\n"
      "  --log FILE          also append the log to FILE (service default:\n"
      "                      %ProgramData%\\ovio\\oviod.log)\n"
      "  --start auto|demand start type, for install (default auto)\n"
      "\n"
      "On Windows --root defaults to $OVIO_ROOT, else "
      "%ProgramData%\\ovio\\data\n"
      "for the service and %LOCALAPPDATA%\\ovio\\data in a console (not the\n"
      "XDG folders below); ipc://NAME is the named pipe \\\\.\\pipe\\NAME, "
      "open\n"
      "to SYSTEM, Administrators and the service's own account only.  The\n"
      "service also logs to the Event Log (source oviod).  ovio service\n"
      "install|uninstall|start|stop|reload|status manages it from the ovio\n"
      "CLI.\n"
      "\n";

/* --help or -h among the arguments? */
static int
host_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0
		    || strcmp(argv[i], "-h") == 0) {
			return (1);
		}
	}
	return (0);
}

/*
 * Opens the log file (appending): a service's console goes nowhere.  The
 * file is opened as itself, never through a link (a reparse point planted
 * there would have SYSTEM append wherever it leads).  A service's folder
 * is made safe first (ovio__host_service_dir).  Returns 0, or -1 after
 * saying why on stderr and to the Event Log.
 */
static int
host_open_log(const char *path)
{
	BY_HANDLE_FILE_INFORMATION fi;
	char                       def[1024], why[1200];
	WCHAR                     *w;
	HANDLE                     h;

	if (host_service
	    && ovio__host_service_dir(def, sizeof(def), why, sizeof(why))
	           != 0) {
		fprintf(stderr, "oviod: refusing to start: %s\n", why);
		ovio__host_log_event(OVIO__LOG_ERROR, why);
		return (-1);
	}
	if (path == NULL) {
		if (!host_service) {
			return (0);
		}
		snprintf(def + strlen(def), sizeof(def) - strlen(def),
		    "\\oviod.log");
		path = def;
	}
	if ((w = ovio__win_widen(path)) == NULL) {
		return (-1);
	}
	h = CreateFileW(w, FILE_APPEND_DATA | SYNCHRONIZE,
	    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
	    OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT,
	    NULL);
	free(w);
	if (h == INVALID_HANDLE_VALUE) {
		snprintf(why, sizeof(why), "cannot open the log %s (error %lu)",
		    path, (unsigned long) GetLastError());
	} else if (!GetFileInformationByHandle(h, &fi)
	           || (fi.dwFileAttributes
	                  & (FILE_ATTRIBUTE_REPARSE_POINT
	                      | FILE_ATTRIBUTE_DIRECTORY))
	                  != 0
	           || fi.nNumberOfLinks != 1) {
		CloseHandle(h);
		snprintf(why, sizeof(why),
		    "the log %s is a link (or a second name of another file) or "
		    "a folder, not a file of its own",
		    path);
	} else if ((host_logf = host_fdopen(h, _O_APPEND | _O_TEXT, "a"))
	           == NULL) {
		snprintf(why, sizeof(why), "cannot open the log %s", path);
	} else {
		setvbuf(host_logf, NULL, _IONBF, 0);
		if (host_service) {
			snprintf(why, sizeof(why),
			    "service folder %s (SYSTEM and Administrators "
			    "only)",
			    def);
			ovio__host_log_event(OVIO__LOG_INFO, why);
		}
		return (0);
	}
	fprintf(stderr, "oviod: %s\n", why);
	ovio__host_log_event(OVIO__LOG_ERROR, why);
	return (-1);
}

int
ovio__host_main(int argc, char **argv)
{
	SERVICE_TABLE_ENTRYW table[] = {
		{ (LPWSTR) HOST_SERVICE, host_service_main },
		{ NULL, NULL },
	};
	const char *log = NULL;
	int         run = 0, backend = 0, i, n, rv;
	uint64_t    ms;
	char      **a, **v;

	InitializeCriticalSection(&host_ss_mtx);
	a = host_utf8_args(&argc, argv);
	if (host_wants_help(argc, a)) {
		/* The host's part, then the portable options; never installs
		 * a service whose command line is --help. */
		char *hv[] = { a[0], "--help", NULL };
		fputs(host_usage, stdout);
		return (ovio__oviod_main(2, hv));
	}
	if (argc > 1 && strcmp(a[1], "install") == 0) {
		return (host_install(argc - 2, a + 2));
	}
	if (argc > 1 && strcmp(a[1], "uninstall") == 0) {
		return (host_uninstall());
	}
	if (argc > 1 && strcmp(a[1], "run") == 0) {
		run = 1;
	}

	/*
	 * The portable options, without "run" and the host options.  The
	 * engine picks io_uring / threads by itself when no backend is named,
	 * so the IOCP backend is named here.
	 */
	if ((v = calloc((size_t) argc + 3, sizeof(char *))) == NULL) {
		return (1);
	}
	v[0] = a[0];
	for (n = 1, i = 1 + run; i < argc; i++) {
		if (strcmp(a[i], "--log") == 0 && i + 1 < argc) {
			log = a[++i];
			continue;
		}
		if (strncmp(a[i], "--log=", 6) == 0) {
			log = a[i] + 6;
			continue;
		}
		/* Peeks for the wait hint; ovio__oviod_main checks the value.
		 */
		if (strcmp(a[i], "--backend") == 0
		    || strncmp(a[i], "--backend=", 10) == 0) {
			backend = 1;
		} else if (strcmp(a[i], "--drain-timeout") == 0 && i + 1 < argc
		           && ovio__parse_number(a[i + 1], 0, 1, 3600000, &ms)
		                  == 0) {
			host_drain_ms = (DWORD) ms;
		} else if (strncmp(a[i], "--drain-timeout=", 16) == 0
		           && ovio__parse_number(a[i] + 16, 0, 1, 3600000, &ms)
		                  == 0) {
			host_drain_ms = (DWORD) ms;
		}
		v[n++] = a[i];
	}
	if (!backend) {
		v[n++] = "--backend";
		v[n++] = "iocp";
	}
	v[n]      = NULL;
	host_argc = n;
	host_argv = v;

	(void) host_event();
	if (run) {
		host_service  = 1;
		host_log_path = log; /* opened by host_service_main */
		if (StartServiceCtrlDispatcherW(table)) {
			return (host_rv);
		}
		if (GetLastError() != ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
			fprintf(stderr,
			    "oviod: cannot start the service "
			    "dispatcher (error %lu)\n",
			    (unsigned long) GetLastError());
			return (1);
		}
		host_service = 0; /* run by hand: a console run */
	}
	if (log != NULL && host_open_log(log) != 0) {
		return (1);
	}
	ovio__host_setup_signals();
	rv = ovio__oviod_main(host_argc, host_argv);
	host_drained(); /* also when it failed: frees a close handler */
	return (rv);
}
