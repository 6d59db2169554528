/*
 * oviod.c - the portable body of oviod: options, start, wait, stop.
 * The host (os/posix/host.c, os/windows/host.c) owns main() and calls
 * ovio__oviod_main.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>

#include "engine.h"
#include "host.h"
#include "number.h"
#include "wire.h"

#define MAX_LISTEN 16

static const char oviod_usage[]
    = "usage: oviod [options]\n"
      "\n"
      "Serves files under a root folder to ovio clients over nng, with\n"
      "overlapped I/O on one completion port.  Runs in the foreground; "
      "SIGTERM\n"
      "or SIGINT (Ctrl-C, or a service stop on Windows, or ovio admin\n"
      "shutdown) stops it gracefully: cancel, drain, close, exit 0 (exit 1\n"
      "when something had to be abandoned after --drain-timeout).  SIGHUP\n"
      "reloads what can be reloaded and never stops it.\n"
      "\n"
      "options:\n"
      "  --root DIR          folder to serve (default: $OVIO_ROOT, else\n"
      "                      $XDG_DATA_HOME/ovio, else ~/.local/share/ovio)\n"
      "  --listen URL        endpoint, repeatable: ipc://PATH,\n"
      "                      tls+tcp://HOST:PORT (mutual TLS, needs the\n"
      "                      three --tls options), tcp://HOST:PORT (no\n"
      "                      authentication: loopback hosts only, unless\n"
      "                      --insecure-tcp) (default: $OVIO_ENDPOINT,\n"
      "                      else %s)\n"
      "  --tls-cert FILE     the service's certificate (PEM), for tls+tcp\n"
      "  --tls-key FILE      its private key (PEM, not encrypted)\n"
      "  --tls-ca FILE       CA certificate(s) (PEM): a client must present\n"
      "                      a certificate signed by one of them\n"
      "  --insecure-tcp      allow tcp:// on a host that is not loopback\n"
      "                      (127.0.0.0/8, ::1, localhost): anyone who can\n"
      "                      reach it gets the root, unauthenticated and\n"
      "                      unencrypted; logged as a warning\n"
      "  --allow-uid LIST    POSIX: users (names or uids, comma-separated,\n"
      "                      repeatable) who may connect over ipc:// besides\n"
      "                      the service's user and root; the socket becomes\n"
      "                      0666 and each peer is checked by its kernel-\n"
      "                      given uid; a refused one is logged and dropped\n"
      "  --allow-group LIST  POSIX: the same for the members of groups\n"
      "  --admin URL         the admin endpoint (ovio admin): default\n"
      "                      $OVIO_ADMIN_ENDPOINT, else beside the first\n"
      "                      ipc:// endpoint (PATH.sock -> PATH.admin.sock,\n"
      "                      a pipe NAME -> NAME.admin); none without one\n"
      "  --admin-group GROUP POSIX: GROUP may use the admin socket too\n"
      "                      (mode 0660; default 0600, the service's user\n"
      "                      only).  Windows: SYSTEM and Administrators\n"
      "  --log-level LEVEL   error, warn, info or debug (default info;\n"
      "                      ovio admin log-level changes it while running)\n"
      "  --backend NAME      Linux: uring or threads (default: uring if it\n"
      "                      works here, else threads; OVIO_DISABLE_URING=1\n"
      "                      rules uring out); Windows: iocp\n"
      "  --threads N         worker threads of the threads backend (default "
      "8)\n"
      "  --max-handles N     open handles per client (default 1024)\n"
      "  --max-ops N         operations in flight per client (default 4096)\n"
      "  --max-bytes SIZE    bytes in flight per client (default 1G)\n"
      "  --max-sessions N    client connections in all (default 1000;\n"
      "                      the admin endpoint's are not counted)\n"
      "  --max-sessions-per-peer N  ... of one uid (ipc), certificate\n"
      "                      subject (tls+tcp) or host (tcp) (default 250)\n"
      "  --idle-timeout S    close a connection with no open handle and\n"
      "                      nothing in flight after S seconds without a\n"
      "                      request (default 0: never)\n"
      "  --max-io SIZE       largest single read or write, at most 1G\n"
      "                      (default 16M)\n"
      "  --drain-timeout MS  how long stop waits for I/O to drain, at most\n"
      "                      3600000 (default 10000)\n"
      "  --read-only         refuse every write, set-size, and open for\n"
      "                      writing, creating or truncating (EROFS)\n"
      "  --file-mode OCTAL   permission bits of a created file when the\n"
      "                      client gives none, 1 to 0777 (default 0640;\n"
      "                      the umask still applies)\n"
      "  --allow-devices     serve device nodes and sockets too (refused\n"
      "                      with EPERM by default; FIFOs are always served)\n"
      "  --help              this text\n"
      "  --version           print the version\n"
      "\n"
      "--opt=VALUE works as --opt VALUE.  SIZEs take K, M or G (powers of\n"
      "1024); --threads is 1 to 1024, --max-handles and --max-ops 1 to\n"
      "1048576.  Exit status: 0 after a clean stop, 1 when start-up fails,\n"
      "2 for bad arguments.\n"
      "\n"
      "Confinement: no request names anything outside the root: absolute\n"
      "paths and \"..\" are refused, and symbolic links are followed only\n"
      "while they stay beneath it (EOUTSIDE otherwise, ELOOP for a loop).\n"
      "The root is created 0750; clients are not told its path.\n";

enum {
	OPT_ROOT = 256,
	OPT_LISTEN,
	OPT_BACKEND,
	OPT_THREADS,
	OPT_MAX_HANDLES,
	OPT_MAX_OPS,
	OPT_MAX_SESSIONS,
	OPT_MAX_SESSIONS_PEER,
	OPT_IDLE_TIMEOUT,
	OPT_MAX_BYTES,
	OPT_MAX_IO,
	OPT_DRAIN,
	OPT_READ_ONLY,
	OPT_FILE_MODE,
	OPT_ALLOW_DEVICES,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_TLS_CA,
	OPT_INSECURE_TCP,
	OPT_ALLOW_UID,
	OPT_ALLOW_GROUP,
	OPT_ADMIN,
	OPT_ADMIN_GROUP,
	OPT_LOG_LEVEL,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option oviod_options[] = {
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "max-handles", required_argument, NULL, OPT_MAX_HANDLES },
	{ "max-ops", required_argument, NULL, OPT_MAX_OPS },
	{ "max-sessions", required_argument, NULL, OPT_MAX_SESSIONS },
	{ "max-sessions-per-peer", required_argument, NULL,
	    OPT_MAX_SESSIONS_PEER },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "max-bytes", required_argument, NULL, OPT_MAX_BYTES },
	{ "max-io", required_argument, NULL, OPT_MAX_IO },
	{ "drain-timeout", required_argument, NULL, OPT_DRAIN },
	{ "read-only", no_argument, NULL, OPT_READ_ONLY },
	{ "file-mode", required_argument, NULL, OPT_FILE_MODE },
	{ "allow-devices", no_argument, NULL, OPT_ALLOW_DEVICES },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "tls-ca", required_argument, NULL, OPT_TLS_CA },
	{ "insecure-tcp", no_argument, NULL, OPT_INSECURE_TCP },
	{ "allow-uid", required_argument, NULL, OPT_ALLOW_UID },
	{ "allow-group", required_argument, NULL, OPT_ALLOW_GROUP },
	{ "admin", required_argument, NULL, OPT_ADMIN },
	{ "admin-group", required_argument, NULL, OPT_ADMIN_GROUP },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* The range and kind of each number option. */
typedef struct num_opt {
	int         id;
	const char *name;
	int         flags;
	uint64_t    min, max;
} num_opt;

static const num_opt num_opts[] = {
	{ OPT_THREADS, "--threads", 0, 1, 1024 },
	{ OPT_MAX_HANDLES, "--max-handles", 0, 1, 1u << 20 },
	{ OPT_MAX_OPS, "--max-ops", 0, 1, 1u << 20 },
	{ OPT_MAX_SESSIONS, "--max-sessions", 0, 1, 1u << 20 },
	{ OPT_MAX_SESSIONS_PEER, "--max-sessions-per-peer", 0, 1, 1u << 20 },
	{ OPT_IDLE_TIMEOUT, "--idle-timeout", 0, 0, 86400 },
	{ OPT_MAX_BYTES, "--max-bytes", OVIO__NUM_SIZE, 1, 1ull << 40 },
	{ OPT_MAX_IO, "--max-io", OVIO__NUM_SIZE, 1, OVIO__IO_MAX },
	{ OPT_DRAIN, "--drain-timeout", 0, 1, 3600000 },
	{ 0, NULL, 0, 0, 0 },
};

/* A number option's value; 0, or -1 after saying why not. */
static int
opt_number(int id, const char *v, uint64_t *out)
{
	const num_opt *n;
	char           why[256];
	int            e;

	for (n = num_opts; n->id != id; n++) { }
	if ((e = ovio__parse_number(v, n->flags, n->min, n->max, out)) != 0) {
		fprintf(stderr, "oviod: %s\n",
		    ovio__number_error(why, sizeof(why), n->name, v, e,
		        n->flags, n->min, n->max));
		return (-1);
	}
	return (0);
}

/* --file-mode: 1 to 4 octal digits, permission bits only, not 0. */
static int
opt_file_mode(const char *v, uint32_t *out)
{
	uint32_t m = 0;
	size_t   i, n = strlen(v);

	for (i = 0; i < n && n <= 4 && v[i] >= '0' && v[i] <= '7'; i++) {
		m = m * 8 + (uint32_t) (v[i] - '0');
	}
	if (n == 0 || i != n || m == 0 || m > 0777) {
		fprintf(stderr,
		    "oviod: --file-mode: %s is not an octal mode "
		    "from 1 to 0777 (permission bits only)\n",
		    v);
		return (-1);
	}
	*out = m;
	return (0);
}

/*
 * The host of a tcp:// URL (tcp4://, tcp6:// too) is loopback: 127.0.0.0/8,
 * ::1 or localhost.  No host ("tcp://:7070") means every interface.
 */
static bool
tcp_host_is_loopback(const char *url)
{
	const char *h = strstr(url, "://") + 3;
	const char *end;
	char        host[64], extra;
	unsigned    b, c, d;
	size_t      n;

	if (*h == '[') { /* [IPv6]:PORT */
		end = strchr(h, ']');
		return (end != NULL && (size_t) (end - h) == 4
		        && strncmp(h, "[::1", 4) == 0);
	}
	if ((end = strrchr(h, ':')) == NULL) {
		return (false);
	}
	n = (size_t) (end - h);
	if (n >= sizeof(host)) {
		return (false);
	}
	memcpy(host, h, n);
	host[n] = '\0';
	if (strcmp(host, "localhost") == 0) {
		return (true);
	}
	return (sscanf(host, "127.%u.%u.%u%c", &b, &c, &d, &extra) == 3
	        && b < 256 && c < 256 && d < 256);
}

static bool
url_is_tcp(const char *url)
{
	return (strncmp(url, "tcp://", 6) == 0
	        || strncmp(url, "tcp4://", 7) == 0
	        || strncmp(url, "tcp6://", 7) == 0);
}

/*
 * Checks one endpoint against the security options: tls+tcp:// needs the
 * three --tls files, a tcp:// host that is not loopback (or any tcp:// with
 * an allow-list, which cannot check tcp peers) needs --insecure-tcp (and
 * gets a warning in the log); an ipc:// path another user planted or could
 * replace is refused (os/host.h).  Returns 0, or 2 (usage) or 1 (the ipc
 * path) after one line on stderr.
 */
static int
check_url(const char *url, const eng_options *o, bool insecure_tcp)
{
	char why[512];

	/*
	 * The transports whose peers these rules know: nng also has ws://,
	 * wss:// and abstract://, which would pass every check below
	 * unchecked (an abstract socket has no file mode at all).
	 */
	if (strncmp(url, "ipc://", 6) != 0 && !ovio__url_is_tls(url)
	    && !url_is_tcp(url)) {
		fprintf(stderr,
		    "oviod: refusing %s: only ipc://, tls+tcp:// and tcp:// "
		    "endpoints are served\n",
		    url);
		return (2);
	}

	if (ovio__url_is_tls(url)
	    && (o->tls.cert == NULL || o->tls.key == NULL
	        || o->tls.ca == NULL)) {
		fprintf(stderr,
		    "oviod: %s needs --tls-cert, --tls-key and --tls-ca (see "
		    "oviod --help)\n",
		    url);
		return (2);
	}
	if (url_is_tcp(url) && !tcp_host_is_loopback(url)) {
		if (!insecure_tcp) {
			fprintf(stderr,
			    "oviod: refusing %s: plain tcp is unauthenticated; "
			    "listen on a loopback host, use tls+tcp://, or "
			    "pass --insecure-tcp\n",
			    url);
			return (2);
		}
		ovio__logl(OVIO__LOG_WARN,
		    "%s is plain tcp on a host that is not loopback "
		    "(--insecure-tcp): anyone who can reach it can read and "
		    "write the root",
		    url);
	} else if (url_is_tcp(url) && ovio__host_peers_restricted()) {
		if (!insecure_tcp) {
			fprintf(stderr,
			    "oviod: refusing %s: a tcp:// peer has no uid for "
			    "--allow-uid / --allow-group to check; use ipc:// "
			    "or tls+tcp://, or pass --insecure-tcp\n",
			    url);
			return (2);
		}
		ovio__logl(OVIO__LOG_WARN,
		    "%s is plain tcp (--insecure-tcp): every local user can "
		    "use it, whatever --allow-uid and --allow-group say",
		    url);
	}
	if (ovio__host_ipc_check(url, why, sizeof(why)) != 0) {
		fprintf(stderr, "oviod: refusing %s: %s\n", url, why);
		return (1);
	}
	return (0);
}

/* Appends name to the comma-separated list in buf (len bytes). */
static int
list_append(char *buf, size_t len, const char *name)
{
	size_t n = strlen(buf);

	if (n + 1 + strlen(name) + 1 > len) {
		return (-1);
	}
	snprintf(buf + n, len - n, "%s%s", n > 0 ? "," : "", name);
	return (0);
}

/* check_url for each endpoint, the admin one too. */
static int
check_listen(const char **listen, const eng_options *o, bool insecure_tcp)
{
	size_t i;
	int    rv;

	for (i = 0; listen[i] != NULL; i++) {
		if ((rv = check_url(listen[i], o, insecure_tcp)) != 0) {
			return (rv);
		}
	}
	return (o->admin != NULL ? check_url(o->admin, o, insecure_tcp) : 0);
}

/*
 * The option getopt_long refused (it is argv[optind - 1] by now), worded
 * from the table: glibc and mingw-w64 return different things for
 * "--help=1".  Returns 2, the exit status.
 */
static int
bad_option(int opt, char **argv)
{
	const struct option *lo;
	const char          *a  = argv[optind - 1];
	const char          *eq = strchr(a, '=');
	size_t               len;

	if (strncmp(a, "--", 2) != 0) {
		fprintf(stderr,
		    "oviod: unknown option -%c (see oviod --help)\n", optopt);
		return (2);
	}
	len = eq != NULL ? (size_t) (eq - a - 2) : strlen(a + 2);
	for (lo = oviod_options; lo->name != NULL; lo++) {
		if (strlen(lo->name) >= len
		    && strncmp(lo->name, a + 2, len) == 0) {
			break;
		}
	}
	if (lo->name == NULL || len == 0) {
		fprintf(stderr,
		    "oviod: unknown argument: %s (see oviod --help)\n", a);
	} else if (eq != NULL && lo->has_arg == no_argument) {
		fprintf(stderr,
		    "oviod: --%s takes no value (see oviod --help)\n",
		    lo->name);
	} else if (opt == ':') {
		fprintf(stderr,
		    "oviod: --%s needs a value (see oviod --help)\n", lo->name);
	} else {
		fprintf(stderr, "oviod: bad option %s (see oviod --help)\n", a);
	}
	return (2);
}

int
ovio__oviod_main(int argc, char **argv)
{
	engine         *e;
	eng_options     o;
	const char     *listen[MAX_LISTEN + 1];
	size_t          nlisten = 0;
	uint64_t        n, drain = 10000;
	bool            insecure_tcp = false;
	uint64_t        fds;
	char            allow_uids[1024] = "", allow_groups[1024] = "";
	char            why[512];
	int             opt, rv;
	char            admin[512];
	const char     *v;
	size_t          i;
	ovio__log_level level;

	memset(&o, 0, sizeof(o));
	o.limits.handles_per_session = 1024;
	o.limits.ops_per_session     = 4096;
	o.limits.sessions            = 1000;
	o.limits.sessions_per_peer   = 250;
	o.limits.bytes_per_session   = 1ull << 30;
	o.limits.max_io              = 16u << 20;
	o.limits.file_mode           = 0640;

	opterr = 0; /* our own one-line messages */
	while (
	    (opt = getopt_long(argc, argv, ":h", oviod_options, NULL)) != -1) {
		switch (opt) {
		case 'h':
		case OPT_HELP:
			printf(oviod_usage, ovio_default_endpoint());
			return (0);
		case OPT_VERSION:
			printf(
			    "oviod %s (nng %s)\n", OVIO_VERSION, nng_version());
			return (0);
		case OPT_ROOT:
			o.root = optarg;
			break;
		case OPT_LISTEN:
			if (nlisten == MAX_LISTEN) {
				fprintf(stderr, "oviod: too many --listen\n");
				return (2);
			}
			listen[nlisten++] = optarg;
			break;
		case OPT_BACKEND:
			o.backend = optarg;
			break;
		case OPT_ADMIN:
			o.admin = optarg;
			break;
		case OPT_ADMIN_GROUP:
			o.admin_group = optarg;
			break;
		case OPT_LOG_LEVEL:
			if (!ovio__log_level_parse(optarg, &level)) {
				fprintf(stderr,
				    "oviod: --log-level: %s is not error, "
				    "warn, info or debug\n",
				    optarg);
				return (2);
			}
			ovio__log_set_level(level);
			break;
		case OPT_READ_ONLY:
			o.limits.read_only = true;
			break;
		case OPT_ALLOW_DEVICES:
			o.limits.allow_devices = true;
			break;
		case OPT_TLS_CERT:
			o.tls.cert = optarg;
			break;
		case OPT_TLS_KEY:
			o.tls.key = optarg;
			break;
		case OPT_TLS_CA:
			o.tls.ca = optarg;
			break;
		case OPT_INSECURE_TCP:
			insecure_tcp = true;
			break;
		case OPT_ALLOW_UID:
		case OPT_ALLOW_GROUP:
			if (list_append(opt == OPT_ALLOW_UID ? allow_uids
			                                     : allow_groups,
			        sizeof(allow_uids), optarg)
			    != 0) {
				fprintf(stderr,
				    "oviod: --allow-uid / --allow-group: the "
				    "lists are too long\n");
				return (2);
			}
			break;
		case OPT_FILE_MODE:
			if (opt_file_mode(optarg, &o.limits.file_mode) != 0) {
				return (2);
			}
			break;
		case OPT_THREADS:
		case OPT_MAX_HANDLES:
		case OPT_MAX_OPS:
		case OPT_MAX_SESSIONS:
		case OPT_MAX_SESSIONS_PEER:
		case OPT_IDLE_TIMEOUT:
		case OPT_MAX_BYTES:
		case OPT_MAX_IO:
		case OPT_DRAIN:
			if (opt_number(opt, optarg, &n) != 0) {
				return (2);
			}
			if (opt == OPT_THREADS) {
				o.threads = (unsigned) n;
			} else if (opt == OPT_MAX_HANDLES) {
				o.limits.handles_per_session = (unsigned) n;
			} else if (opt == OPT_MAX_OPS) {
				o.limits.ops_per_session = (unsigned) n;
			} else if (opt == OPT_MAX_SESSIONS) {
				o.limits.sessions = (unsigned) n;
			} else if (opt == OPT_MAX_SESSIONS_PEER) {
				o.limits.sessions_per_peer = (unsigned) n;
			} else if (opt == OPT_IDLE_TIMEOUT) {
				o.limits.idle_ms = n * 1000;
			} else if (opt == OPT_MAX_BYTES) {
				o.limits.bytes_per_session = n;
			} else if (opt == OPT_MAX_IO) {
				o.limits.max_io = (uint32_t) n;
			} else {
				drain = n;
			}
			break;
		default:
			return (bad_option(opt, argv));
		}
	}
	if (optind < argc) {
		fprintf(stderr,
		    "oviod: unexpected argument: %s (see oviod "
		    "--help)\n",
		    argv[optind]);
		return (2);
	}
	if (o.backend != NULL && strcmp(o.backend, "uring") != 0
	    && strcmp(o.backend, "threads") != 0
	    && strcmp(o.backend, "iocp") != 0) {
		fprintf(stderr, "oviod: --backend: unknown backend %s\n",
		    o.backend);
		return (2);
	}
	if (nlisten == 0) {
		listen[nlisten++] = ovio_default_endpoint();
	}
	listen[nlisten] = NULL;
	o.listen        = listen;
	/* The admin endpoint: --admin, else the environment's, else beside
	 * the first ipc:// endpoint (as ovio admin finds it). */
	if (o.admin == NULL && (v = getenv("OVIO_ADMIN_ENDPOINT")) != NULL
	    && v[0] != '\0') {
		o.admin = v;
	}
	for (i = 0; o.admin == NULL && i < nlisten; i++) {
		if (ovio_admin_endpoint_for(listen[i], admin, sizeof(admin))
		    == 0) {
			o.admin = admin;
		}
	}
	if (o.admin_group != NULL && o.admin == NULL) {
		fprintf(stderr,
		    "oviod: --admin-group needs an admin endpoint (--admin "
		    "URL)\n");
		return (2);
	}
	if (ovio__host_peers_init(allow_uids[0] != '\0' ? allow_uids : NULL,
	        allow_groups[0] != '\0' ? allow_groups : NULL, why, sizeof(why))
	    != 0) {
		fprintf(stderr, "oviod: %s\n", why);
		return (2);
	}
	if ((rv = check_listen(listen, &o, insecure_tcp)) != 0) {
		return (rv);
	}
	if (o.root == NULL) {
		o.root = ovio__host_default_root();
	}
	/* A request is a header plus at most one write's payload. */
	o.limits.max_request = (size_t) o.limits.max_io + 64 * 1024;

	ovio__log("oviod %s starting (pid %ld)", OVIO_VERSION,
	    (long) ovio__host_pid());
	ovio__log("%s, new files %04o, device nodes and sockets %s",
	    o.limits.read_only ? "read-only" : "read-write",
	    (unsigned) o.limits.file_mode,
	    o.limits.allow_devices ? "allowed" : "refused");
	fds = ovio__host_raise_fd_limit();
	if (fds == 0) {
		snprintf(why, sizeof(why), "no limit");
	} else {
		snprintf(why, sizeof(why), "%llu", (unsigned long long) fds);
	}
	ovio__log("at most %u sessions, %u per peer, idle ones %s; "
	          "descriptors: %s",
	    o.limits.sessions, o.limits.sessions_per_peer,
	    o.limits.idle_ms != 0 ? "closed after --idle-timeout" : "kept",
	    why);
	/* Each session takes a descriptor, and its files more. */
	if (fds != 0 && fds < (uint64_t) o.limits.sessions + 64) {
		ovio__logl(OVIO__LOG_WARN,
		    "the descriptor limit (%llu) is below --max-sessions (%u): "
		    "connections past it fail with EMFILE; raise LimitNOFILE "
		    "or lower --max-sessions",
		    (unsigned long long) fds, o.limits.sessions);
	}
	if ((rv = ovio__engine_start(&e, &o)) != 0) {
		ovio__logl(
		    OVIO__LOG_ERROR, "start failed: %s", ovio_strerror(rv));
		return (1);
	}
	ovio__host_ready();
	ovio__host_wait_stop();
	if (!ovio__engine_stop(e, (int) drain)) {
		/*
		 * Something is still in the kernel or a file system: its
		 * threads and buffers stay as they are until the process
		 * ends, and nng is not torn down under them.
		 */
		ovio__logl(OVIO__LOG_ERROR, "exiting with work abandoned");
		return (1);
	}
	ovio__host_fini();
	return (0);
}
