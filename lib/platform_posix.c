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

uint64_t
ovio__service_user(void)
{
	const char   *v = getenv("OVIO_SERVICE_USER");
	struct passwd pw, *found = NULL;
	char          buf[4096], *end;
	unsigned long n;

	if (v == NULL || v[0] == '\0') {
		return (UINT64_MAX);
	}
	n = strtoul(v, &end, 10);
	if (*end == '\0') {
		return ((uint64_t) n);
	}
	if (getpwnam_r(v, &pw, buf, sizeof(buf), &found) != 0
	    || found == NULL) {
		return (UINT64_MAX);
	}
	return ((uint64_t) found->pw_uid);
}

bool
ovio__service_uid_ok(uint64_t uid, uint64_t service_uid)
{
	return (uid == 0 || uid == (uint64_t) getuid()
	        || uid == (uint64_t) geteuid() || uid == service_uid);
}
