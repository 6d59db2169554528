/* platform_posix.c - libovio's OS-specific defaults, POSIX. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ovio.h"

const char *
ovio_default_endpoint(void)
{
	static char buf[128];
	const char *v = getenv("OVIO_ENDPOINT");

	if (v != NULL && v[0] != '\0') {
		return (v);
	}
	snprintf(buf, sizeof(buf), "ipc:///tmp/ovio-%lu.sock",
	    (unsigned long) getuid());
	return (buf);
}
