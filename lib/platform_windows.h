/*
 * platform_windows.h - Windows helpers libovio shares with oviod and ovio
 * (internal; Windows builds only).
 */
#ifndef OVIO_PLATFORM_WINDOWS_H
#define OVIO_PLATFORM_WINDOWS_H

#include <stddef.h>
#include <wchar.h>

/*
 * ovio__win_quote_arg appends " " and argument a to the command line in
 * out (cap wide characters, *n used so far), quoted the way
 * CommandLineToArgvW and the C runtime read it back; keeps out
 * NUL-terminated.  Returns 0, or -1 when it does not fit.
 */
int ovio__win_quote_arg(wchar_t *out, size_t cap, size_t *n, const wchar_t *a);

/* UTF-8 -> a newly allocated UTF-16 copy (free it); NULL on failure. */
wchar_t *ovio__win_widen(const char *s);

/*
 * The registry key (under HKEY_LOCAL_MACHINE) of the Event Log source
 * "oviod": oviod install makes it, naming oviod.exe's message table; both
 * uninstalls (oviod's and ovio service's) delete it.
 */
#define OVIO__WIN_EVENTLOG_KEY \
	L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\oviod"

/* The name of a service state (SERVICE_RUNNING -> "RUNNING"). */
const char *ovio__win_service_state_name(unsigned long state);

#endif
