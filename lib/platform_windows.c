/* platform_windows.c - libovio's OS-specific defaults, Windows. */
#include <stdlib.h>

#include "ovio.h"

/*
 * $OVIO_ENDPOINT, else the named pipe \\.\pipe\ovio (nng maps ipc://NAME to
 * \\.\pipe\NAME).  One well-known name: the service runs as one account
 * for every user, and the pipe's security descriptor decides who may use it
 * (see host_windows.c).
 */
const char *
ovio_default_endpoint(void)
{
	const char *v = getenv("OVIO_ENDPOINT");

	if (v != NULL && v[0] != '\0') {
		return (v);
	}
	return ("ipc://ovio");
}
