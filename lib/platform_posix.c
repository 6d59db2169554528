/* platform_posix.c - libovio's OS-specific defaults, POSIX. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "client_impl.h"
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

bool
ovio__service_uid_ok(uint64_t uid)
{
	const char   *v = getenv("OVIO_SERVICE_USER");
	struct passwd pw, *found = NULL;
	char          buf[4096], *end;
	unsigned long n;

	if (uid == 0 || uid == (uint64_t) getuid()
	    || uid == (uint64_t) geteuid()) {
		return (true);
	}
	if (v == NULL || v[0] == '\0') {
		return (false);
	}
	n = strtoul(v, &end, 10);
	if (*end == '\0') {
		return (uid == (uint64_t) n);
	}
	return (getpwnam_r(v, &pw, buf, sizeof(buf), &found) == 0
	        && found != NULL && (uint64_t) found->pw_uid == uid);
}
