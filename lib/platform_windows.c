/* platform_windows.c - libovio's OS-specific defaults, Windows. */
#include <windows.h>

#include <stdlib.h>
#include <wchar.h>

#include "client_impl.h"
#include "ovio.h"
#include "platform_windows.h"

/*
 * $OVIO_ENDPOINT, else the named pipe \\.\pipe\ovio (nng maps ipc://NAME to
 * \\.\pipe\NAME).  One well-known name: the service runs as one account
 * for every user, and the pipe's security descriptor decides who may use it
 * (see os/windows/host.c).
 */
#define SYSTEM_ENDPOINT "ipc://ovio"

unsigned
ovio__cpu_count(void)
{
	SYSTEM_INFO si;

	GetSystemInfo(&si);
	return (si.dwNumberOfProcessors > 0 ? (unsigned) si.dwNumberOfProcessors
	                                    : 1u);
}

const char *
ovio_system_endpoint(void)
{
	return (SYSTEM_ENDPOINT);
}

const char *
ovio_user_endpoint(void)
{
	return (SYSTEM_ENDPOINT);
}

const char *
ovio_default_endpoint(void)
{
	const char *v = getenv("OVIO_ENDPOINT");

	if (v != NULL && v[0] != '\0') {
		return (v);
	}
	return (SYSTEM_ENDPOINT);
}

/*
 * Appends one argument to a command line, quoted the way
 * CommandLineToArgvW and the C runtime read it back (see
 * platform_windows.h).
 */
int
ovio__win_quote_arg(wchar_t *out, size_t cap, size_t *n, const wchar_t *a)
{
	size_t         bs;
	const wchar_t *c;

#define QUOTE_PUT(ch)                \
	do {                         \
		if (*n + 2 >= cap)   \
			return (-1); \
		out[(*n)++] = (ch);  \
	} while (0)

	QUOTE_PUT(L' ');
	if (a[0] != L'\0' && wcspbrk(a, L" \t\n\v\"") == NULL) {
		for (c = a; *c != L'\0'; c++) {
			QUOTE_PUT(*c);
		}
		out[*n] = L'\0';
		return (0);
	}
	QUOTE_PUT(L'"');
	for (c = a;; c++) {
		for (bs = 0; *c == L'\\'; c++) {
			bs++;
		}
		if (*c == L'\0') {
			for (bs *= 2; bs > 0; bs--) {
				QUOTE_PUT(L'\\');
			}
			break;
		}
		if (*c == L'"') {
			for (bs = bs * 2 + 1; bs > 0; bs--) {
				QUOTE_PUT(L'\\');
			}
		} else {
			for (; bs > 0; bs--) {
				QUOTE_PUT(L'\\');
			}
		}
		QUOTE_PUT(*c);
	}
	QUOTE_PUT(L'"');
	out[*n] = L'\0';
	return (0);
#undef QUOTE_PUT
}

const char *
ovio__win_service_state_name(unsigned long s)
{
	switch (s) {
	case SERVICE_STOPPED:
		return ("STOPPED");
	case SERVICE_START_PENDING:
		return ("START_PENDING");
	case SERVICE_STOP_PENDING:
		return ("STOP_PENDING");
	case SERVICE_RUNNING:
		return ("RUNNING");
	case SERVICE_CONTINUE_PENDING:
		return ("CONTINUE_PENDING");
	case SERVICE_PAUSE_PENDING:
		return ("PAUSE_PENDING");
	case SERVICE_PAUSED:
		return ("PAUSED");
	}
	return ("UNKNOWN");
}

wchar_t *
ovio__win_widen(const char *s)
{
	int      n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
	wchar_t *w;

	if (n <= 0 || (w = malloc((size_t) n * sizeof(wchar_t))) == NULL) {
		return (NULL);
	}
	MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n);
	return (w);
}

/*
 * Named pipes do not give the server's uid (nng has no NNG_OPT_IPC_PEER_UID
 * there), so these are never asked: a Windows client does not check who
 * serves the pipe (see the README, "Security").
 */
void
ovio__service_users(const char *url, uint64_t uids[2])
{
	(void) url;
	uids[0] = UINT64_MAX;
	uids[1] = UINT64_MAX;
}

bool
ovio__service_uid_ok(uint64_t uid, const uint64_t uids[2])
{
	(void) uid;
	(void) uids;
	return (true);
}
