/* platform_posix.c - libovio's OS-specific defaults, POSIX. */
#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "client_impl.h"
#include "ovio.h"

/*
 * The system service's socket: /run/ovio is made by its unit (or by it),
 * and holds its admin socket too.
 */
#define SYSTEM_FOLDER   "ipc:///run/ovio/"
#define SYSTEM_ENDPOINT SYSTEM_FOLDER "oviod.sock"

unsigned
ovio__cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return (n > 0 ? (unsigned) n : 1u);
}

const char *
ovio_system_endpoint(void)
{
	return (SYSTEM_ENDPOINT);
}

/* The socket at ipc:// url exists (something may listen there). */
static bool
ipc_socket_exists(const char *url)
{
	struct stat st;

	return (strncmp(url, "ipc://", 6) == 0 && lstat(url + 6, &st) == 0
	        && S_ISSOCK(st.st_mode));
}

/*
 * The user's own socket is there, in a folder of the user's that nobody
 * else may write: one another user made (/tmp/ovio-UID, squatted) is
 * passed over for the system service's.
 */
static bool
own_socket_exists(const char *url)
{
	char        dir[600], *slash;
	struct stat st;

	if (!ipc_socket_exists(url)) {
		return (false);
	}
	snprintf(dir, sizeof(dir), "%s", url + 6);
	if ((slash = strrchr(dir, '/')) == NULL) {
		return (false);
	}
	*slash = '\0';
	return (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode)
	        && st.st_uid == geteuid() && (st.st_mode & 022) == 0);
}

/* The user's endpoint, worked out once (ovio_user_endpoint). */
static char           user_endpoint[600];
static pthread_once_t user_endpoint_once = PTHREAD_ONCE_INIT;

static void
user_endpoint_init(void)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");

	/* Only an absolute path that fits; else the /tmp folder. */
	if (rt != NULL && rt[0] == '/' && strlen(rt) < 400) {
		snprintf(user_endpoint, sizeof(user_endpoint),
		    "ipc://%s/ovio/oviod.sock", rt);
	} else {
		snprintf(user_endpoint, sizeof(user_endpoint),
		    "ipc:///tmp/ovio-%lu/oviod.sock", (unsigned long) geteuid());
	}
}

const char *
ovio_user_endpoint(void)
{
	if (geteuid() == 0) {
		return (SYSTEM_ENDPOINT);
	}
	(void) pthread_once(&user_endpoint_once, user_endpoint_init);
	return (user_endpoint);
}

/*
 * Something listens at the Unix socket of ipc:// url: a connect that is
 * not refused (one left by an oviod that was killed is).  The connection
 * is closed at once, before nng's handshake: the service sees no session.
 */
static bool
ipc_socket_listens(const char *url)
{
	struct sockaddr_un sa;
	size_t             n = strlen(url + 6);
	int                fd, rv;

	if (n >= sizeof(sa.sun_path)
	    || (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	            0))
	           < 0) {
		return (true); /* cannot tell: as before, it is there */
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, url + 6, n + 1);
	/* Never waits: a full backlog (EAGAIN) is a live listener. */
	rv = connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0 ? 0 : errno;
	close(fd);
	return (rv != ECONNREFUSED && rv != ENOENT);
}

const char *
ovio_default_endpoint(void)
{
	const char *v = getenv("OVIO_ENDPOINT");
	const char *mine;

	if (v != NULL && v[0] != '\0') {
		return (v);
	}
	mine = ovio_user_endpoint();
	/* The system service's, unless the user's own one is there and
	 * alive (a socket a killed oviod left does not hide it). */
	if (strcmp(mine, SYSTEM_ENDPOINT) != 0
	    && ipc_socket_exists(SYSTEM_ENDPOINT)
	    && (!own_socket_exists(mine) || !ipc_socket_listens(mine))) {
		return (SYSTEM_ENDPOINT);
	}
	return (mine);
}

/* The uid of user name (a name or a number), or UINT64_MAX. */
static uint64_t
user_uid(const char *v)
{
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

/*
 * A system account's uids are below this (Debian's SYS_UID_MAX is 999):
 * a person's account that happens to be called "ovio" is not trusted.
 */
#define SYSTEM_UID_END 1000

void
ovio__service_users(const char *url, uint64_t uids[2])
{
	uids[0] = user_uid(getenv("OVIO_SERVICE_USER"));
	uids[1] = UINT64_MAX;
	/* The system service's user, at the system service's sockets only. */
	if (url != NULL && strncmp(url, SYSTEM_FOLDER, strlen(SYSTEM_FOLDER)) == 0
	    && strchr(url + strlen(SYSTEM_FOLDER), '/') == NULL) {
		uint64_t u = user_uid(OVIO_SYSTEM_USER);
		if (u < SYSTEM_UID_END) {
			uids[1] = u;
		}
	}
}

bool
ovio__service_uid_ok(uint64_t uid, const uint64_t uids[2])
{
	return (uid == 0 || uid == (uint64_t) getuid()
	        || uid == (uint64_t) geteuid() || uid == uids[0]
	        || uid == uids[1]);
}
