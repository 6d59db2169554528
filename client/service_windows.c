/*
 * service_windows.c - `ovio service` through the Windows service control
 * manager; see service.h.
 *
 * install runs "oviod.exe install ARGS...": oviod is the one place that
 * knows how the service is registered (its quoted path, "run" and the
 * options as its command line, the restart-on-failure actions), so the CLI
 * does not keep a second copy of that.  uninstall, start, stop and status
 * talk to the SCM directly: OpenSCManager / OpenService, StartService,
 * ControlService(SERVICE_CONTROL_STOP), QueryServiceStatusEx,
 * QueryServiceConfig and DeleteService.
 *
 * Waiting for a pending state follows the SCM's contract (and Microsoft's
 * SvcControl sample): poll at a tenth of the wait hint (0.1 to 1 s); as
 * long as the checkpoint advances the service is making progress; no new
 * checkpoint within the wait hint means it hangs.  The whole wait is also
 * bounded by the caller's timeout.
 */
#include <windows.h>

#include <shellapi.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "platform_windows.h"
#include "service.h"

#define SVC_NAME         L"" OVIO_SERVICE_NAME
#define SVC_INSTALL_WAIT 60000 /* ms for oviod.exe install */

static const char *
svc_start_name(DWORD t)
{
	switch (t) {
	case SERVICE_BOOT_START:
		return ("boot");
	case SERVICE_SYSTEM_START:
		return ("system");
	case SERVICE_AUTO_START:
		return ("auto");
	case SERVICE_DEMAND_START:
		return ("demand");
	case SERVICE_DISABLED:
		return ("disabled");
	}
	return ("unknown");
}

/* One line for a failed call: "ovio service: WHAT (error N: message)". */
static int
svc_fail(const char *what, DWORD e)
{
	char  msg[256];
	DWORD n;

	n = FormatMessageA(
	    FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, e,
	    0, msg, sizeof(msg), NULL);
	while (n > 0
	       && (msg[n - 1] == '\n' || msg[n - 1] == '\r' || msg[n - 1] == '.'
	           || msg[n - 1] == ' ')) {
		msg[--n] = '\0';
	}
	if (n > 0) {
		fprintf(stderr, "ovio service: %s (error %lu: %s)\n", what,
		    (unsigned long) e, msg);
	} else {
		fprintf(stderr, "ovio service: %s (error %lu)\n", what,
		    (unsigned long) e);
	}
	if (e == ERROR_ACCESS_DENIED) {
		fprintf(stderr, "ovio service: run it as an administrator\n");
	}
	return (1);
}

/*
 * Opens the SCM and the service with the given rights.  Returns 0, 1
 * (error printed) or -1 when the service is not installed (nothing
 * printed: the caller decides).
 */
static int
svc_open(DWORD rights, SC_HANDLE *scm, SC_HANDLE *svc)
{
	*svc = NULL;
	if ((*scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT)) == NULL) {
		return (svc_fail(
		    "cannot open the service control manager", GetLastError()));
	}
	if ((*svc = OpenServiceW(*scm, SVC_NAME, rights)) == NULL) {
		DWORD e = GetLastError();
		CloseServiceHandle(*scm);
		*scm = NULL;
		if (e == ERROR_SERVICE_DOES_NOT_EXIST) {
			return (-1);
		}
		return (svc_fail("cannot open service " OVIO_SERVICE_NAME, e));
	}
	return (0);
}

static void
svc_close(SC_HANDLE scm, SC_HANDLE svc)
{
	if (svc != NULL) {
		CloseServiceHandle(svc);
	}
	if (scm != NULL) {
		CloseServiceHandle(scm);
	}
}

static int
svc_not_installed(void)
{
	fprintf(stderr, "ovio service: service " OVIO_SERVICE_NAME
	                " is not installed (ovio service install)\n");
	return (1);
}

static BOOL
svc_status(SC_HANDLE svc, SERVICE_STATUS_PROCESS *ss)
{
	DWORD n;

	return (QueryServiceStatusEx(
	    svc, SC_STATUS_PROCESS_INFO, (BYTE *) ss, sizeof(*ss), &n));
}

/*
 * Waits while the service is in state pending; returns 0 with *ss its
 * new state, or 1 (error printed) when it hangs or timeout_ms passes.
 */
static int
svc_wait(SC_HANDLE svc, DWORD pending, SERVICE_STATUS_PROCESS *ss,
    unsigned timeout_ms)
{
	ULONGLONG start = GetTickCount64(), progress = start, now;
	DWORD     cp = ss->dwCheckPoint, wait;
	char      what[160];

	while (ss->dwCurrentState == pending) {
		wait = ss->dwWaitHint / 10;
		wait = wait < 100 ? 100 : wait > 1000 ? 1000 : wait;
		Sleep(wait);
		if (!svc_status(svc, ss)) {
			return (
			    svc_fail("cannot query service " OVIO_SERVICE_NAME,
			        GetLastError()));
		}
		now = GetTickCount64();
		if (ss->dwCheckPoint != cp) {
			cp       = ss->dwCheckPoint;
			progress = now;
		} else if (ss->dwCurrentState == pending && ss->dwWaitHint > 0
		           && now - progress > ss->dwWaitHint) {
			snprintf(what, sizeof(what),
			    "service " OVIO_SERVICE_NAME
			    " made no progress in its wait hint of %lu ms; "
			    "still %s",
			    (unsigned long) ss->dwWaitHint,
			    ovio__win_service_state_name(ss->dwCurrentState));
			fprintf(stderr, "ovio service: %s\n", what);
			return (1);
		}
		if (ss->dwCurrentState == pending && now - start > timeout_ms) {
			fprintf(stderr,
			    "ovio service: service " OVIO_SERVICE_NAME
			    " still %s after %u ms\n",
			    ovio__win_service_state_name(ss->dwCurrentState),
			    timeout_ms);
			return (1);
		}
	}
	return (0);
}

/* ---- install --------------------------------------------------------------
 */

/* UTF-16 -> UTF-8 into buf (truncated). */
static void
svc_narrow(const WCHAR *w, char *buf, size_t len)
{
	if (WideCharToMultiByte(CP_UTF8, 0, w, -1, buf, (int) len, NULL, NULL)
	    == 0) {
		buf[len - 1] = '\0'; /* too long: what fitted */
	}
}

/* The oviod.exe in this program's folder. */
static int
svc_oviod_path(WCHAR *exe, DWORD cap)
{
	DWORD  n = GetModuleFileNameW(NULL, exe, cap);
	WCHAR *slash;

	if (n == 0 || n >= cap) {
		return (-1);
	}
	slash = wcsrchr(exe, L'\\');
	slash = slash != NULL ? slash + 1 : exe;
	if ((size_t) (slash - exe) + 10 >= cap) {
		return (-1);
	}
	wcscpy(slash, L"oviod.exe");
	return (0);
}

int
ovio__service_install(const char *oviod, int argc, char **argv)
{
	static WCHAR        cmd[32768];
	WCHAR               exe[MAX_PATH * 4];
	WCHAR              *w;
	STARTUPINFOW        si;
	PROCESS_INFORMATION pi;
	DWORD               code = 1;
	size_t              len;
	int                 i;

	if (oviod != NULL) {
		if ((w = ovio__win_widen(oviod)) == NULL
		    || wcslen(w) >= MAX_PATH * 4) {
			free(w);
			fprintf(stderr,
			    "ovio service: install: bad --oviod path\n");
			return (2);
		}
		wcscpy(exe, w);
		free(w);
	} else if (svc_oviod_path(exe, MAX_PATH * 4) != 0) {
		fprintf(stderr, "ovio service: install: cannot find my own "
		                "folder\n");
		return (1);
	}
	if (GetFileAttributesW(exe) == INVALID_FILE_ATTRIBUTES) {
		char p[MAX_PATH * 4];
		svc_narrow(exe, p, sizeof(p));
		fprintf(stderr,
		    "ovio service: install: no %s (--oviod PATH "
		    "names another)\n",
		    p);
		return (1);
	}

	/* "PATH\oviod.exe" install ARGS...: the same quoting oviod uses. */
	len    = 0;
	cmd[0] = L'\0';
	if (ovio__win_quote_arg(cmd, 32768, &len, exe) != 0
	    || ovio__win_quote_arg(cmd, 32768, &len, L"install") != 0) {
		goto toolong;
	}
	for (i = 0; i < argc; i++) {
		if ((w = ovio__win_widen(argv[i])) == NULL) {
			goto toolong;
		}
		if (ovio__win_quote_arg(cmd, 32768, &len, w) != 0) {
			free(w);
			goto toolong;
		}
		free(w);
	}

	/* Its output is ours: pass our standard handles on. */
	memset(&si, 0, sizeof(si));
	si.cb         = sizeof(si);
	si.dwFlags    = STARTF_USESTDHANDLES;
	si.hStdInput  = GetStdHandle(STD_INPUT_HANDLE);
	si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
	si.hStdError  = GetStdHandle(STD_ERROR_HANDLE);
	fflush(stdout);
	fflush(stderr);
	if (!CreateProcessW(
	        exe, cmd + 1, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
		return (
		    svc_fail("install: cannot run oviod.exe", GetLastError()));
	}
	if (WaitForSingleObject(pi.hProcess, SVC_INSTALL_WAIT)
	    != WAIT_OBJECT_0) {
		fprintf(stderr,
		    "ovio service: install: oviod.exe install did "
		    "not finish in %d s\n",
		    SVC_INSTALL_WAIT / 1000);
		code = 1;
	} else if (!GetExitCodeProcess(pi.hProcess, &code)) {
		code = 1;
	}
	CloseHandle(pi.hThread);
	CloseHandle(pi.hProcess);
	return ((int) code);
toolong:
	fprintf(stderr, "ovio service: install: command line too long\n");
	return (2);
}

/* ---- start / stop / uninstall ------------------------------------------- */

static int
svc_stop_open(SC_HANDLE svc, unsigned timeout_ms)
{
	SERVICE_STATUS_PROCESS ss;
	SERVICE_STATUS         s;
	int                    rv;

	if (!svc_status(svc, &ss)) {
		return (svc_fail(
		    "cannot query service " OVIO_SERVICE_NAME, GetLastError()));
	}
	if (ss.dwCurrentState == SERVICE_STOPPED) {
		printf("ovio service: " OVIO_SERVICE_NAME " is not running\n");
		return (0);
	}
	/* A service still starting cannot take the stop control yet. */
	if (ss.dwCurrentState == SERVICE_START_PENDING
	    && (rv = svc_wait(svc, SERVICE_START_PENDING, &ss, timeout_ms))
	           != 0) {
		return (rv);
	}
	if (ss.dwCurrentState != SERVICE_STOP_PENDING
	    && ss.dwCurrentState != SERVICE_STOPPED) {
		if (!ControlService(svc, SERVICE_CONTROL_STOP, &s)
		    && GetLastError() != ERROR_SERVICE_NOT_ACTIVE) {
			return (
			    svc_fail("cannot stop service " OVIO_SERVICE_NAME,
			        GetLastError()));
		}
		if (!svc_status(svc, &ss)) {
			return (
			    svc_fail("cannot query service " OVIO_SERVICE_NAME,
			        GetLastError()));
		}
	}
	if ((rv = svc_wait(svc, SERVICE_STOP_PENDING, &ss, timeout_ms)) != 0) {
		return (rv);
	}
	if (ss.dwCurrentState != SERVICE_STOPPED) {
		fprintf(stderr,
		    "ovio service: " OVIO_SERVICE_NAME " is %s, not "
		    "STOPPED\n",
		    ovio__win_service_state_name(ss.dwCurrentState));
		return (1);
	}
	printf("ovio service: " OVIO_SERVICE_NAME " stopped\n");
	return (0);
}

int
ovio__service_stop(unsigned timeout_ms)
{
	SC_HANDLE scm, svc;
	int       rv;

	if ((rv = svc_open(SERVICE_STOP | SERVICE_QUERY_STATUS, &scm, &svc))
	    != 0) {
		return (rv < 0 ? svc_not_installed() : rv);
	}
	rv = svc_stop_open(svc, timeout_ms);
	svc_close(scm, svc);
	return (rv);
}

int
ovio__service_reload(void)
{
	SERVICE_STATUS ss;
	SC_HANDLE      scm, svc;
	int            rv;

	if ((rv = svc_open(SERVICE_PAUSE_CONTINUE, &scm, &svc)) != 0) {
		return (rv < 0 ? svc_not_installed() : rv);
	}
	if (!ControlService(svc, SERVICE_CONTROL_PARAMCHANGE, &ss)) {
		rv = svc_fail("cannot reload service " OVIO_SERVICE_NAME
		              " (is it running?)",
		    GetLastError());
	} else {
		printf("ovio service: " OVIO_SERVICE_NAME
		       " is reading its config file again (its log says what "
		       "changed)\n");
	}
	svc_close(scm, svc);
	return (rv);
}

int
ovio__service_start(unsigned timeout_ms)
{
	SERVICE_STATUS_PROCESS ss;
	SC_HANDLE              scm, svc;
	int                    rv;

	if ((rv = svc_open(SERVICE_START | SERVICE_QUERY_STATUS, &scm, &svc))
	    != 0) {
		return (rv < 0 ? svc_not_installed() : rv);
	}
	if (!StartServiceW(svc, 0, NULL)) {
		if (GetLastError() == ERROR_SERVICE_ALREADY_RUNNING) {
			printf("ovio service: " OVIO_SERVICE_NAME
			       " is already running\n");
			rv = 0;
		} else {
			rv = svc_fail("cannot start service " OVIO_SERVICE_NAME,
			    GetLastError());
		}
		goto done;
	}
	if (!svc_status(svc, &ss)) {
		rv = svc_fail(
		    "cannot query service " OVIO_SERVICE_NAME, GetLastError());
		goto done;
	}
	if ((rv = svc_wait(svc, SERVICE_START_PENDING, &ss, timeout_ms)) != 0) {
		goto done;
	}
	if (ss.dwCurrentState != SERVICE_RUNNING) {
		fprintf(stderr,
		    "ovio service: " OVIO_SERVICE_NAME " did not start: it is "
		    "%s (exit code %lu, service exit code %lu; see its log)\n",
		    ovio__win_service_state_name(ss.dwCurrentState),
		    (unsigned long) ss.dwWin32ExitCode,
		    (unsigned long) ss.dwServiceSpecificExitCode);
		rv = 1;
		goto done;
	}
	printf("ovio service: " OVIO_SERVICE_NAME " is running (pid %lu)\n",
	    (unsigned long) ss.dwProcessId);
done:
	svc_close(scm, svc);
	return (rv);
}

int
ovio__service_uninstall(unsigned timeout_ms)
{
	SC_HANDLE scm, svc;
	int       rv;

	if ((rv = svc_open(
	         DELETE | SERVICE_STOP | SERVICE_QUERY_STATUS, &scm, &svc))
	    != 0) {
		return (rv < 0 ? svc_not_installed() : rv);
	}
	/* Stopped first (drained), so no process is left behind. */
	if ((rv = svc_stop_open(svc, timeout_ms)) == 0) {
		if (!DeleteService(svc)) {
			rv = svc_fail(
			    "cannot delete service " OVIO_SERVICE_NAME,
			    GetLastError());
		} else {
			printf("ovio service: uninstalled " OVIO_SERVICE_NAME
			       "\n");
			/* Its Event Log source too (the events stay). */
			(void) RegDeleteKeyW(
			    HKEY_LOCAL_MACHINE, OVIO__WIN_EVENTLOG_KEY);
		}
	}
	svc_close(scm, svc);
	return (rv);
}

/* ---- status ---------------------------------------------------------------
 */

/*
 * The log the service writes: its command line's --log FILE, else the
 * default, %ProgramData%\ovio\oviod.log.
 */
static void
svc_log_path(const WCHAR *cmdline, char *buf, size_t len)
{
	WCHAR     **av;
	const char *pd = getenv("ProgramData");
	int         ac, i;

	snprintf(buf, len, "%s\\ovio\\oviod.log", pd != NULL ? pd : "C:");
	if (cmdline == NULL || (av = CommandLineToArgvW(cmdline, &ac)) == NULL) {
		return;
	}
	for (i = 1; i < ac; i++) {
		if (wcscmp(av[i], L"--log") == 0 && i + 1 < ac) {
			svc_narrow(av[i + 1], buf, len);
		} else if (wcsncmp(av[i], L"--log=", 6) == 0) {
			svc_narrow(av[i] + 6, buf, len);
		}
	}
	LocalFree(av);
}

/* The last OVIO_SERVICE_LOG_LINES lines of st->log, into st->log_tail. */
static void
svc_log_tail(ovio__svc_status *st)
{
	char      buf[16384], *p, *start;
	WCHAR    *w;
	FILE     *f;
	long long size;
	size_t    n, keep;
	int       lines = 0;

	if ((w = ovio__win_widen(st->log)) == NULL
	    || (f = _wfopen(w, L"rb")) == NULL) {
		snprintf(st->log_error, sizeof(st->log_error),
		    "cannot read it: %s", strerror(errno));
		free(w);
		return;
	}
	free(w);
	/* 64-bit offsets: a log past 2 GiB still shows its end. */
	_fseeki64(f, 0, SEEK_END);
	size = _ftelli64(f);
	_fseeki64(f,
	    size > (long long) sizeof(buf) - 1
	        ? size - (long long) sizeof(buf) + 1
	        : 0,
	    SEEK_SET);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Back from the end over OVIO_SERVICE_LOG_LINES line ends. */
	for (p = buf + n; p > buf; p--) {
		if (p[-1] == '\n' && p != buf + n
		    && ++lines == OVIO_SERVICE_LOG_LINES) {
			break;
		}
	}
	start = p;
	/* More than fits: the newest lines, from a line's start. */
	keep = sizeof(st->log_tail) - 2;
	if (strlen(start) > keep) {
		start += strlen(start) - keep;
		while (*start != '\0' && start[-1] != '\n') {
			start++;
		}
	}
	for (n = 0; *start != '\0' && n + 2 < sizeof(st->log_tail); start++) {
		if (*start != '\r') {
			st->log_tail[n++] = *start;
		}
	}
	if (n > 0 && st->log_tail[n - 1] != '\n') {
		st->log_tail[n++] = '\n';
	}
	st->log_tail[n] = '\0';
}

int
ovio__service_query(ovio__svc_status *st)
{
	SERVICE_STATUS_PROCESS ss;
	QUERY_SERVICE_CONFIGW *qc = NULL;
	SC_HANDLE              scm, svc;
	DWORD                  need = 0;
	int                    rv;

	memset(st, 0, sizeof(*st));
	if ((rv = svc_open(
	         SERVICE_QUERY_STATUS | SERVICE_QUERY_CONFIG, &scm, &svc))
	    != 0) {
		if (rv < 0) {
			snprintf(st->state, sizeof(st->state), "NOT_INSTALLED");
			return (0);
		}
		return (rv);
	}
	if (!svc_status(svc, &ss)) {
		rv = svc_fail(
		    "cannot query service " OVIO_SERVICE_NAME, GetLastError());
		goto done;
	}
	st->installed    = true;
	st->pid          = ss.dwProcessId;
	st->exit_code    = ss.dwWin32ExitCode;
	st->service_exit = ss.dwServiceSpecificExitCode;
	st->checkpoint   = ss.dwCheckPoint;
	st->wait_hint_ms = ss.dwWaitHint;
	snprintf(st->state, sizeof(st->state), "%s",
	    ovio__win_service_state_name(ss.dwCurrentState));
	snprintf(st->controls, sizeof(st->controls), "%s%s%s%s",
	    ss.dwControlsAccepted & SERVICE_ACCEPT_STOP ? ",stop" : "",
	    ss.dwControlsAccepted & SERVICE_ACCEPT_SHUTDOWN ? ",shutdown" : "",
	    ss.dwControlsAccepted & SERVICE_ACCEPT_PRESHUTDOWN ? ",preshutdown"
	                                                       : "",
	    ss.dwControlsAccepted & SERVICE_ACCEPT_PARAMCHANGE ? ",paramchange"
	                                                       : "");
	if (st->controls[0] == ',') {
		memmove(st->controls, st->controls + 1, strlen(st->controls));
	}
	{
		SERVICE_PRESHUTDOWN_INFO pi;

		if (QueryServiceConfig2W(svc, SERVICE_CONFIG_PRESHUTDOWN_INFO,
		        (BYTE *) &pi, sizeof(pi), &need)) {
			st->preshutdown_ms = pi.dwPreshutdownTimeout;
		}
	}

	/* The configuration is extra: its failure leaves it blank. */
	if (!QueryServiceConfigW(svc, NULL, 0, &need)
	    && GetLastError() == ERROR_INSUFFICIENT_BUFFER
	    && (qc = malloc(need)) != NULL
	    && !QueryServiceConfigW(svc, qc, need, &need)) {
		free(qc);
		qc = NULL;
	}
	if (qc != NULL) {
		snprintf(st->start_type, sizeof(st->start_type), "%s",
		    svc_start_name(qc->dwStartType));
		if (qc->lpBinaryPathName != NULL) {
			svc_narrow(qc->lpBinaryPathName, st->command,
			    sizeof(st->command));
		}
	}
	svc_log_path(qc != NULL ? qc->lpBinaryPathName : NULL, st->log,
	    sizeof(st->log));
	svc_log_tail(st);
	free(qc);
done:
	svc_close(scm, svc);
	return (rv);
}
