/*
 * oviod.c - the portable body of oviod: options, start, wait, stop.
 * The host (os/posix/host.c, os/windows/host.c) owns main() and calls
 * ovio__oviod_main.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>

#include "engine.h"
#include "host.h"
#include "ini_options.h"
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
      "  --config FILE       read options from FILE first: one \"key = "
      "value\"\n"
      "                      per line, the keys being these long options\n"
      "                      (listen = ipc:///run/ovio/oviod.sock,\n"
      "                      read-only = true); # or ; starts a comment.\n"
      "                      Options given here override it; a list\n"
      "                      (listen, allow-uid, allow-group) given here\n"
      "                      replaces the file's.  SIGHUP (or ovio admin\n"
      "                      reload) reads it again and takes log-level,\n"
      "                      max-handles, max-ops, max-bytes, max-sessions,\n"
      "                      max-sessions-per-peer and drain-timeout; other\n"
      "                      changes wait for a restart (logged)\n"
      "  --check-config      check --config FILE and the options, print\n"
      "                      \"oviod: FILE: ok\" and exit 0, or name the\n"
      "                      bad line (FILE:LINE: ...) and exit 2\n"
      "  --root DIR          folder to serve (default: $OVIO_ROOT, else\n"
      "                      $XDG_DATA_HOME/ovio, else ~/.local/share/ovio)\n"
      "  --listen URL        endpoint, repeatable: ipc://PATH,\n"
      "                      tls+tcp://HOST:PORT (mutual TLS, needs the\n"
      "                      three --tls options), tcp://HOST:PORT (no\n"
      "                      authentication: loopback hosts only, unless\n"
      "                      --insecure-tcp) (default: $OVIO_ENDPOINT,\n"
      "                      else ipc:///run/ovio/oviod.sock for root,\n"
      "                      else ipc://$XDG_RUNTIME_DIR/ovio/oviod.sock,\n"
      "                      else ipc:///tmp/ovio-UID/oviod.sock, the\n"
      "                      folder made for you only; Windows:\n"
      "                      ipc://ovio, the pipe \\\\.\\pipe\\ovio)\n"
      "  --tls-cert FILE     the service's certificate (PEM), for tls+tcp\n"
      "  --tls-key FILE      its private key (PEM, not encrypted)\n"
      "  --tls-ca FILE       CA certificate(s) (PEM): a client must present\n"
      "                      a certificate signed by one of them\n"
      "  --insecure-tcp      allow tcp:// on a host that is not loopback\n"
      "                      (127.0.0.0/8, ::1, localhost): anyone who can\n"
      "                      reach it gets the root, unauthenticated and\n"
      "                      unencrypted; logged as a warning\n"
      "  --allow-uid LIST    users (names or uids; on Windows account names\n"
      "                      or SIDs; comma-separated, repeatable) who may\n"
      "                      connect over ipc:// besides the service's user\n"
      "                      and root (SYSTEM, Administrators); the socket\n"
      "                      becomes 0666 (the pipe open to authenticated\n"
      "                      users) and each peer is checked by its kernel-\n"
      "                      given uid (its process's token); a refused one\n"
      "                      is logged and dropped\n"
      "  --allow-group LIST  the same for the members of groups\n"
      "  --admin URL         the admin endpoint (ovio admin): default\n"
      "                      $OVIO_ADMIN_ENDPOINT, else beside the first\n"
      "                      ipc:// endpoint (PATH.sock -> PATH.admin.sock,\n"
      "                      a pipe NAME -> NAME.admin); none without one\n"
      "  --admin-group GROUP POSIX: GROUP may use the admin socket too\n"
      "                      (mode 0660; default 0600, the service's user\n"
      "                      only).  Windows: SYSTEM and Administrators\n"
      "  --log-level LEVEL   error, warn, info or debug (default info;\n"
      "                      ovio admin log-level changes it while running)\n"
      "  --metrics URL       serve ovio admin metrics' Prometheus text over\n"
      "                      HTTP at URL (http://127.0.0.1:9464/metrics;\n"
      "                      port 0: any free one, logged); no access\n"
      "                      control: a host that is not loopback is\n"
      "                      logged as a warning\n"
      "  --backend NAME      Linux: uring or threads (default: uring if it\n"
      "                      works here, else threads; OVIO_DISABLE_URING=1\n"
      "                      rules uring out); Windows: iocp\n"
      "  --threads N         worker threads of the threads backend (default "
      "8)\n"
      "  --msg-threads N     threads that receive requests and send replies\n"
      "                      (nng's task threads; default 0: half the\n"
      "                      CPUs, at least 1; nothing on them blocks)\n"
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
      "1024); --threads is 1 to 1024, --msg-threads 0 to 256,\n"
      "--max-handles and --max-ops 1 to 1048576.  Exit status: 0 after a\n"
      "clean stop, 1 when start-up fails, 2 for bad arguments.\n"
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
	OPT_MSG_THREADS,
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
	OPT_METRICS,
	OPT_CONFIG,
	OPT_CHECK_CONFIG,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option oviod_options[] = {
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "msg-threads", required_argument, NULL, OPT_MSG_THREADS },
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
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
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
	{ OPT_THREADS, "threads", 0, 1, 1024 },
	{ OPT_MSG_THREADS, "msg-threads", 0, 0, 256 },
	{ OPT_MAX_HANDLES, "max-handles", 0, 1, 1u << 20 },
	{ OPT_MAX_OPS, "max-ops", 0, 1, 1u << 20 },
	{ OPT_MAX_SESSIONS, "max-sessions", 0, 1, 1u << 20 },
	{ OPT_MAX_SESSIONS_PEER, "max-sessions-per-peer", 0, 1, 1u << 20 },
	{ OPT_IDLE_TIMEOUT, "idle-timeout", 0, 0, 86400 },
	{ OPT_MAX_BYTES, "max-bytes", OVIO__NUM_SIZE, 1, 1ull << 40 },
	{ OPT_MAX_IO, "max-io", OVIO__NUM_SIZE, 1, OVIO__IO_MAX },
	{ OPT_DRAIN, "drain-timeout", 0, 1, 3600000 },
	{ 0, NULL, 0, 0, 0 },
};

/*
 * What oviod runs with: the defaults, then the --config file's lines, then
 * the command line's options (which win; a list option given there, such
 * as --listen, replaces the file's list).  A reload builds a new one the
 * same way and applies what may change while running (settings_reload).
 */
typedef struct settings {
	eng_options     o;
	const char     *listen[MAX_LISTEN + 1];
	size_t          nlisten;
	uint64_t        drain_ms;
	unsigned        msg_threads; /* --msg-threads (0: ovio_set_threads') */
	bool            insecure_tcp;
	ovio__log_level level;
	const char     *metrics;          /* --metrics URL, or NULL */
	bool            metrics_loopback; /* ... its host is loopback */
	char            allow_uids[1024], allow_groups[1024];
	char            admin[512];
	/* Which lists so far hold the file's values (the command line's
	 * first one replaces them). */
	bool file_listen, file_uids, file_groups;
	bool listen_defaulted; /* no endpoint given: ovio_user_endpoint() */
	/* The file's values, copied; freed with the settings. */
	char  *strs[256];
	size_t nstrs;
	/* Where the option being applied comes from, for messages. */
	const char *file; /* the config file, or NULL: the command line */
	int         line;
	bool        to_log; /* a reload: messages go to the log */
	bool        said;   /* say() has reported something */
	char        name[64];
} settings;

/* The command line's options, in order, kept for each reload. */
typedef struct arg_opt {
	int         id;
	const char *value; /* NULL for an option without a value */
} arg_opt;

#define MAX_ARGS 256

typedef struct oviod_run {
	engine     *e;
	settings   *cur;    /* what runs */
	const char *config; /* --config FILE, or NULL */
	arg_opt     args[MAX_ARGS];
	size_t      nargs;
	uint64_t    fds; /* the descriptor limit (0: none) */
} oviod_run;

/*
 * Descriptors kept from sessions: for the files they open, the admin
 * endpoint's connections, the listeners, logs and the backend's own.
 */
#define FD_RESERVE 256

/*
 * Each session takes a descriptor: --max-sessions is lowered where the
 * descriptor limit fds would otherwise run out before it, so that files
 * can still be opened and the admin endpoint reached when every session is
 * taken.  At most half the limit is kept in reserve.  Returns whether l
 * was lowered; say_fit says so in the log.
 */
static bool
fit_sessions(eng_limits *l, uint64_t fds)
{
	uint64_t keep = fds / 2 < FD_RESERVE ? fds / 2 : FD_RESERVE;

	if (fds == 0 || (uint64_t) l->sessions + keep <= fds) {
		return (false);
	}
	l->sessions = (unsigned) (fds - keep);
	if (l->sessions_per_peer > l->sessions) {
		l->sessions_per_peer = l->sessions;
	}
	return (true);
}

static void
say_fit(const eng_limits *l, unsigned asked, uint64_t fds)
{
	ovio__logl(OVIO__LOG_WARN,
	    "the descriptor limit (%llu) keeps %llu for files and the admin "
	    "endpoint: --max-sessions lowered from %u to %u (raise "
	    "LimitNOFILE, or ulimit -n, for more)",
	    (unsigned long long) fds, (unsigned long long) (fds - l->sessions),
	    asked, l->sessions);
}

/* The option called id, as its source spells it: --name or name. */
static const char *
opt_name(settings *s, int id)
{
	const struct option *lo;

	for (lo = oviod_options; lo->name != NULL && lo->val != id; lo++) { }
	snprintf(s->name, sizeof(s->name), "%s%s", s->file != NULL ? "" : "--",
	    lo->name != NULL ? lo->name : "?");
	return (s->name);
}

/*
 * Says why an option is refused: "oviod: MSG" on stderr at start-up
 * ("oviod: FILE:LINE: MSG" for the config file's), an error line in the
 * log on a reload.
 */
static void say(settings *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void
say(settings *s, const char *fmt, ...)
{
	char    msg[768], where[512] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->file != NULL && s->line > 0) {
		snprintf(where, sizeof(where), "%s:%d: ", s->file, s->line);
	} else if (s->file != NULL) {
		snprintf(where, sizeof(where), "%s: ", s->file);
	}
	s->said = true;
	if (s->to_log) {
		ovio__logl(OVIO__LOG_ERROR, "reload: %s%s", where, msg);
	} else {
		fprintf(stderr, "oviod: %s%s\n", where, msg);
	}
}

/* A number option's value; 0, or -1 after saying why not. */
static int
opt_number(settings *s, int id, const char *v, uint64_t *out)
{
	const num_opt *n;
	char           why[256];
	int            e;

	for (n = num_opts; n->id != id; n++) { }
	if ((e = ovio__parse_number(v, n->flags, n->min, n->max, out)) != 0) {
		say(s, "%s",
		    ovio__number_error(why, sizeof(why), opt_name(s, id), v, e,
		        n->flags, n->min, n->max));
		return (-1);
	}
	return (0);
}

/* --file-mode: 1 to 4 octal digits, permission bits only, not 0. */
static int
opt_file_mode(settings *s, const char *v, uint32_t *out)
{
	uint32_t m = 0;
	size_t   i, n = strlen(v);

	for (i = 0; i < n && n <= 4 && v[i] >= '0' && v[i] <= '7'; i++) {
		m = m * 8 + (uint32_t) (v[i] - '0');
	}
	if (n == 0 || i != n || m == 0 || m > 0777) {
		say(s,
		    "%s: %s is not an octal mode from 1 to 0777 (permission "
		    "bits only)",
		    opt_name(s, OPT_FILE_MODE), v);
		return (-1);
	}
	*out = m;
	return (0);
}

/* A switch's value in the config file: true or false (yes, no, on, off,
 * 1, 0 too); on the command line (v NULL) it is true. */
static int
opt_bool(settings *s, int id, const char *v, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[]  = { "false", "no", "off", "0" };
	size_t                   i;

	if (v == NULL) {
		*out = true;
		return (0);
	}
	for (i = 0; i < 4; i++) {
		if (strcmp(v, yes[i]) == 0 || strcmp(v, no[i]) == 0) {
			*out = strcmp(v, yes[i]) == 0;
			return (0);
		}
	}
	say(s, "%s: %s is not true or false", opt_name(s, id), v);
	return (-1);
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

static int opt_metrics(settings *s, const char *v, bool *loopback);

/*
 * Applies option id with value v (NULL for a switch on the command line)
 * to s.  Returns 0, or -1 after saying why not.
 */
static int
apply_opt(settings *s, int id, const char *v)
{
	eng_limits *l = &s->o.limits;
	uint64_t    n;
	bool        b, from_file = s->file != NULL, *file_list;
	char       *list;

	switch (id) {
	case OPT_ROOT:
		s->o.root = v;
		return (0);
	case OPT_LISTEN:
		if (!from_file && s->file_listen) {
			s->nlisten = 0; /* the command line's replace them */
			s->file_listen = false;
		}
		if (s->nlisten == MAX_LISTEN) {
			say(s, "too many %s (at most %d)", opt_name(s, id),
			    MAX_LISTEN);
			return (-1);
		}
		s->listen[s->nlisten++] = v;
		s->file_listen          = from_file;
		return (0);
	case OPT_BACKEND:
		if (strcmp(v, "uring") != 0 && strcmp(v, "threads") != 0
		    && strcmp(v, "iocp") != 0) {
			say(s, "%s: unknown backend %s", opt_name(s, id), v);
			return (-1);
		}
		s->o.backend = v;
		return (0);
	case OPT_ADMIN:
		s->o.admin = v;
		return (0);
	case OPT_ADMIN_GROUP:
		s->o.admin_group = v;
		return (0);
	case OPT_METRICS:
		if (opt_metrics(s, v, &s->metrics_loopback) != 0) {
			return (-1);
		}
		s->metrics = v;
		return (0);
	case OPT_LOG_LEVEL:
		if (!ovio__log_level_parse(v, &s->level)) {
			say(s, "%s: %s is not error, warn, info or debug",
			    opt_name(s, id), v);
			return (-1);
		}
		return (0);
	case OPT_READ_ONLY:
	case OPT_ALLOW_DEVICES:
	case OPT_INSECURE_TCP:
		if (opt_bool(s, id, v, &b) != 0) {
			return (-1);
		}
		if (id == OPT_READ_ONLY) {
			l->read_only = b;
		} else if (id == OPT_ALLOW_DEVICES) {
			l->allow_devices = b;
		} else {
			s->insecure_tcp = b;
		}
		return (0);
	case OPT_TLS_CERT:
		s->o.tls.cert = v;
		return (0);
	case OPT_TLS_KEY:
		s->o.tls.key = v;
		return (0);
	case OPT_TLS_CA:
		s->o.tls.ca = v;
		return (0);
	case OPT_ALLOW_UID:
	case OPT_ALLOW_GROUP:
		list = id == OPT_ALLOW_UID ? s->allow_uids : s->allow_groups;
		file_list
		    = id == OPT_ALLOW_UID ? &s->file_uids : &s->file_groups;
		if (!from_file && *file_list) {
			list[0] = '\0';
		}
		*file_list = from_file;
		if (list_append(list, sizeof(s->allow_uids), v) != 0) {
			say(s, "%s: the list is too long", opt_name(s, id));
			return (-1);
		}
		return (0);
	case OPT_FILE_MODE:
		return (opt_file_mode(s, v, &l->file_mode));
	case OPT_THREADS:
	case OPT_MSG_THREADS:
	case OPT_MAX_HANDLES:
	case OPT_MAX_OPS:
	case OPT_MAX_SESSIONS:
	case OPT_MAX_SESSIONS_PEER:
	case OPT_IDLE_TIMEOUT:
	case OPT_MAX_BYTES:
	case OPT_MAX_IO:
	case OPT_DRAIN:
		if (opt_number(s, id, v, &n) != 0) {
			return (-1);
		}
		if (id == OPT_THREADS) {
			s->o.threads = (unsigned) n;
		} else if (id == OPT_MSG_THREADS) {
			s->msg_threads = (unsigned) n;
		} else if (id == OPT_MAX_HANDLES) {
			l->handles_per_session = (unsigned) n;
		} else if (id == OPT_MAX_OPS) {
			l->ops_per_session = (unsigned) n;
		} else if (id == OPT_MAX_SESSIONS) {
			l->sessions = (unsigned) n;
		} else if (id == OPT_MAX_SESSIONS_PEER) {
			l->sessions_per_peer = (unsigned) n;
		} else if (id == OPT_IDLE_TIMEOUT) {
			l->idle_ms = n * 1000;
		} else if (id == OPT_MAX_BYTES) {
			l->bytes_per_session = n;
		} else if (id == OPT_MAX_IO) {
			l->max_io = (uint32_t) n;
		} else {
			s->drain_ms = n;
		}
		return (0);
	default:
		say(s, "%s cannot be set here", opt_name(s, id));
		return (-1);
	}
}

/* One "key = value" line of the config file (inih's handler). */
static int
config_line(void *user, const char *section, const char *key, const char *value,
    int line)
{
	settings            *s = user;
	const struct option *lo;
	char                *copy;

	s->line = line;
	if (section[0] != '\0') {
		say(s, "%s is in section [%s]: the file has no sections", key,
		    section);
		return (0);
	}
	for (lo = oviod_options; lo->name != NULL; lo++) {
		if (strcmp(lo->name, key) == 0) {
			break;
		}
	}
	if (lo->name == NULL || lo->val == OPT_HELP || lo->val == OPT_VERSION
	    || lo->val == OPT_CONFIG || lo->val == OPT_CHECK_CONFIG) {
		say(s,
		    "unknown key %s (the keys are oviod's long options; "
		    "see oviod --help)",
		    key);
		return (0);
	}
	if (value[0] == '\0' && lo->has_arg == required_argument) {
		say(s, "%s needs a value", key);
		return (0);
	}
	if (s->nstrs == sizeof(s->strs) / sizeof(s->strs[0])
	    || (copy = strdup(value)) == NULL) {
		say(s, "too many lines");
		return (0);
	}
	s->strs[s->nstrs++] = copy;
	return (apply_opt(s, lo->val, copy) == 0);
}

/*
 * Builds s: the defaults, then the config file (when there is one), then
 * the command line's options.  Returns 0, or -1 after saying why not.
 */
static int
settings_load(settings *s, const oviod_run *r)
{
	size_t i;
	int    rv;

	s->level                        = OVIO__LOG_INFO;
	s->drain_ms                     = 10000;
	s->o.limits.handles_per_session = 1024;
	s->o.limits.ops_per_session     = 4096;
	s->o.limits.sessions            = 1000;
	s->o.limits.sessions_per_peer   = 250;
	s->o.limits.bytes_per_session   = 1ull << 30;
	s->o.limits.max_io              = 16u << 20;
	s->o.limits.file_mode           = 0640;
	if (r->config != NULL) {
		s->file = r->config;
		rv      = ini_parse(r->config, config_line, s);
		if (rv == -1) {
			s->line = 0;
			say(s, "cannot read it: %s", strerror(errno));
			return (-1);
		} else if (rv == -2) {
			s->line = 0;
			say(s, "out of memory reading it");
			return (-1);
		} else if (rv != 0) {
			/* A line the handler refused has said why; inih's own
			 * refusals (no "=", an unclosed [, a line too long,
			 * whose first part the handler may have taken) not. */
			if (!s->said) {
				s->line = rv;
				say(s,
				    "not a \"key = value\" line of at most %d "
				    "bytes",
				    INI_MAX_LINE - 1);
			}
			return (-1);
		}
		s->file = NULL;
		s->line = 0;
	}
	for (i = 0; i < r->nargs; i++) {
		if (apply_opt(s, r->args[i].id, r->args[i].value) != 0) {
			return (-1);
		}
	}
	return (0);
}

/*
 * Each comma-separated name of list (--allow-uid when group is false,
 * --allow-group when true; "" adds nothing) into the host's allow-list.
 * Returns 0, or an OVIO_E* status after one line in why.
 */
static int
allow_each(const char *list, bool group, char *why, size_t len)
{
	char        name[256];
	const char *p = list, *end;
	int         rv;

	while (*p != '\0') {
		end = strchr(p, ',');
		if (end == NULL) {
			end = p + strlen(p);
		}
		if (end == p || (size_t) (end - p) >= sizeof(name)) {
			snprintf(why, len,
			    "--allow-%s: an empty or overlong name in \"%s\"",
			    group ? "group" : "uid", list);
			return (OVIO_EINVAL);
		}
		memcpy(name, p, (size_t) (end - p));
		name[end - p] = '\0';
		if ((rv = ovio__host_peer_allow(name, group, why, len)) != 0) {
			return (rv);
		}
		p = *end == ',' ? end + 1 : end;
	}
	return (0);
}

/*
 * The defaults that depend on the rest: the endpoint, the admin endpoint
 * (--admin, else the environment's, else beside the first ipc:// one, as
 * ovio admin finds it), the root.  Returns 0, or -1 after saying why not.
 */
static int
settings_finish(settings *s)
{
	const char *v;
	size_t      i;

	if (s->nlisten == 0) {
		v = getenv("OVIO_ENDPOINT");
		s->listen_defaulted   = v == NULL || v[0] == '\0';
		s->listen[s->nlisten++] = s->listen_defaulted
		                            ? ovio_user_endpoint()
		                            : v;
	}
	s->listen[s->nlisten] = NULL;
	s->o.listen           = s->listen;
	if (s->o.admin == NULL && (v = getenv("OVIO_ADMIN_ENDPOINT")) != NULL
	    && v[0] != '\0') {
		s->o.admin = v;
	}
	for (i = 0; s->o.admin == NULL && i < s->nlisten; i++) {
		if (ovio_admin_endpoint_for(
		        s->listen[i], s->admin, sizeof(s->admin))
		    == 0) {
			s->o.admin = s->admin;
		}
	}
	if (s->o.admin_group != NULL && s->o.admin == NULL) {
		say(s, "--admin-group needs an admin endpoint (--admin URL)");
		return (-1);
	}
	if (s->o.root == NULL) {
		s->o.root = ovio__host_default_root();
	}
	/* A request is a header plus at most one write's payload. */
	s->o.limits.max_request = (size_t) s->o.limits.max_io + 64 * 1024;
	return (0);
}

static void
settings_free(settings *s)
{
	size_t i;

	for (i = 0; i < s->nstrs; i++) {
		free(s->strs[i]);
	}
	free(s);
}

/* A host name or address is loopback: 127.0.0.0/8, ::1 or localhost. */
static bool
host_is_loopback(const char *host)
{
	unsigned b, c, d;
	char     extra;

	if (strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0) {
		return (true);
	}
	return (sscanf(host, "127.%u.%u.%u%c", &b, &c, &d, &extra) == 3
	        && b < 256 && c < 256 && d < 256);
}

/*
 * The host of a tcp:// URL (tcp4://, tcp6:// too) is loopback.  No host
 * ("tcp://:7070") means every interface.
 */
static bool
tcp_host_is_loopback(const char *url)
{
	const char *h = strstr(url, "://") + 3;
	const char *end;
	char        host[64];
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
	return (host_is_loopback(host));
}

/*
 * --metrics: an http://HOST:PORT/PATH URL that parses, with a numeric
 * port; *loopback says whether HOST is loopback.  0, or -1 after saying
 * why not.
 */
static int
opt_metrics(settings *s, const char *v, bool *loopback)
{
	nng_url *u = NULL;
	bool     ok;
	size_t   i;

	ok = strncmp(v, "http://", 7) == 0 && nng_url_parse(&u, v) == 0
	     && u->u_port[0] != '\0';
	for (i = 0; ok && u->u_port[i] != '\0'; i++) {
		ok = u->u_port[i] >= '0' && u->u_port[i] <= '9' && i < 5;
	}
	if (ok) {
		*loopback = host_is_loopback(u->u_hostname);
	}
	nng_url_free(u);
	if (!ok) {
		say(s, "%s: %s is not an http://HOST:PORT/PATH URL",
		    opt_name(s, OPT_METRICS), v);
		return (-1);
	}
	return (0);
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
 * gets a warning in the log); with paths, an ipc:// path another user
 * planted or could replace is refused (os/host.h).  Returns 0, or 2
 * (usage) or 1 (the ipc path) after one line on stderr.
 */
static int
check_url(settings *s, const char *url, bool paths)
{
	const eng_options *o = &s->o;
	char               why[512];

	/*
	 * The transports whose peers these rules know: nng also has ws://,
	 * wss:// and abstract://, which would pass every check below
	 * unchecked (an abstract socket has no file mode at all).
	 */
	if (strncmp(url, "ipc://", 6) != 0 && !ovio__url_is_tls(url)
	    && !url_is_tcp(url)) {
		say(s,
		    "refusing %s: only ipc://, tls+tcp:// and tcp:// "
		    "endpoints are served",
		    url);
		return (2);
	}

	if (ovio__url_is_tls(url)
	    && (o->tls.cert == NULL || o->tls.key == NULL
	        || o->tls.ca == NULL)) {
		say(s,
		    "%s needs --tls-cert, --tls-key and --tls-ca (see "
		    "oviod --help)",
		    url);
		return (2);
	}
	if (url_is_tcp(url) && !tcp_host_is_loopback(url)) {
		if (!s->insecure_tcp) {
			say(s,
			    "refusing %s: plain tcp is unauthenticated; "
			    "listen on a loopback host, use tls+tcp://, or "
			    "pass --insecure-tcp",
			    url);
			return (2);
		}
		ovio__logl(OVIO__LOG_WARN,
		    "%s is plain tcp on a host that is not loopback "
		    "(--insecure-tcp): anyone who can reach it can read and "
		    "write the root",
		    url);
	} else if (url_is_tcp(url) && ovio__host_peers_restricted()) {
		if (!s->insecure_tcp) {
			say(s,
			    "refusing %s: a tcp:// peer has no uid for "
			    "--allow-uid / --allow-group to check; use ipc:// "
			    "or tls+tcp://, or pass --insecure-tcp",
			    url);
			return (2);
		}
		ovio__logl(OVIO__LOG_WARN,
		    "%s is plain tcp (--insecure-tcp): every local user can "
		    "use it, whatever --allow-uid and --allow-group say",
		    url);
	}
	if (paths && ovio__host_ipc_check(url, why, sizeof(why)) != 0) {
		say(s, "refusing %s: %s", url, why);
		return (1);
	}
	return (0);
}

/* check_url for each endpoint, the admin one too. */
static int
check_listen(settings *s, bool paths)
{
	size_t i;
	int    rv;

	for (i = 0; s->listen[i] != NULL; i++) {
		if ((rv = check_url(s, s->listen[i], paths)) != 0) {
			return (rv);
		}
	}
	return (s->o.admin != NULL ? check_url(s, s->o.admin, paths) : 0);
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

static bool
str_differs(const char *a, const char *b)
{
	return ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0));
}

/* Logs that key changed in the file but needs a restart; counts it. */
static void
needs_restart(bool changed, const char *key, int *n)
{
	if (changed) {
		ovio__logl(OVIO__LOG_WARN,
		    "reload: %s changed: it takes effect when oviod restarts",
		    key);
		(*n)++;
	}
}

/* A reloadable number: logs the change and takes it; counts it. */
static void
take_number(const char *key, uint64_t *cur, uint64_t nw, int *n)
{
	if (*cur != nw) {
		ovio__log("reload: %s %llu (was %llu)", key,
		    (unsigned long long) nw, (unsigned long long) *cur);
		*cur = nw;
		(*n)++;
	}
}

static void
take_unsigned(const char *key, unsigned *cur, unsigned nw, int *n)
{
	uint64_t v = *cur;

	take_number(key, &v, nw, n);
	*cur = (unsigned) v;
}

/*
 * A reload (SIGHUP, a service's PARAMCHANGE, ovio admin reload; on the
 * main thread): reads the config file again, with the command line's
 * options over it as at start, and takes what may change while running:
 * the log level, the per-client limits (max-handles, max-ops, max-bytes),
 * the session limits (max-sessions, max-sessions-per-peer) and the drain
 * timeout.  Other changed keys are logged as needing a restart.  A file
 * with a bad line changes nothing.
 */
static void
oviod_reload(void *arg)
{
	oviod_run  *r   = arg;
	settings   *cur = r->cur, *nw;
	eng_limits *cl, *nl;
	unsigned    asked;
	size_t      i;
	int         taken = 0, later = 0;
	bool        lists;

	if (r->config == NULL) {
		ovio__log("reload: nothing to reload (oviod was started "
		          "without --config)");
		return;
	}
	if ((nw = calloc(1, sizeof(*nw))) == NULL) {
		ovio__logl(OVIO__LOG_ERROR, "reload: out of memory");
		return;
	}
	nw->to_log = true;
	if (settings_load(nw, r) != 0 || settings_finish(nw) != 0) {
		ovio__logl(OVIO__LOG_ERROR,
		    "reload: %s refused: the running settings stay", r->config);
		settings_free(nw);
		return;
	}
	cl    = &cur->o.limits;
	nl    = &nw->o.limits;
	asked = nl->sessions;
	if (fit_sessions(nl, r->fds) && nl->sessions != cl->sessions) {
		say_fit(nl, asked, r->fds);
	}

	lists = nw->nlisten != cur->nlisten;
	for (i = 0; !lists && i < nw->nlisten; i++) {
		lists = strcmp(nw->listen[i], cur->listen[i]) != 0;
	}
	needs_restart(lists, "listen", &later);
	needs_restart(str_differs(nw->o.root, cur->o.root), "root", &later);
	needs_restart(
	    str_differs(nw->o.backend, cur->o.backend), "backend", &later);
	needs_restart(nw->o.threads != cur->o.threads, "threads", &later);
	needs_restart(
	    nw->msg_threads != cur->msg_threads, "msg-threads", &later);
	needs_restart(str_differs(nw->o.admin, cur->o.admin), "admin", &later);
	needs_restart(
	    str_differs(nw->metrics, cur->metrics), "metrics", &later);
	needs_restart(str_differs(nw->o.admin_group, cur->o.admin_group),
	    "admin-group", &later);
	needs_restart(str_differs(nw->o.tls.cert, cur->o.tls.cert)
	                  || str_differs(nw->o.tls.key, cur->o.tls.key)
	                  || str_differs(nw->o.tls.ca, cur->o.tls.ca),
	    "tls-cert, tls-key or tls-ca", &later);
	needs_restart(
	    nw->insecure_tcp != cur->insecure_tcp, "insecure-tcp", &later);
	needs_restart(strcmp(nw->allow_uids, cur->allow_uids) != 0
	                  || strcmp(nw->allow_groups, cur->allow_groups) != 0,
	    "allow-uid or allow-group", &later);
	needs_restart(nl->idle_ms != cl->idle_ms, "idle-timeout", &later);
	needs_restart(nl->max_io != cl->max_io, "max-io", &later);
	needs_restart(nl->read_only != cl->read_only, "read-only", &later);
	needs_restart(
	    nl->allow_devices != cl->allow_devices, "allow-devices", &later);
	needs_restart(nl->file_mode != cl->file_mode, "file-mode", &later);

	/* Against the level in force: ovio admin log-level may have set it. */
	if (nw->level != ovio__log_get_level()) {
		ovio__log("reload: log-level %s (was %s)",
		    ovio__log_level_name(nw->level),
		    ovio__log_level_name(ovio__log_get_level()));
		cur->level = nw->level;
		ovio__log_set_level(nw->level);
		taken++;
	}
	take_unsigned("max-handles", &cl->handles_per_session,
	    nl->handles_per_session, &taken);
	take_unsigned(
	    "max-ops", &cl->ops_per_session, nl->ops_per_session, &taken);
	take_number(
	    "max-bytes", &cl->bytes_per_session, nl->bytes_per_session, &taken);
	take_unsigned("max-sessions", &cl->sessions, nl->sessions, &taken);
	take_unsigned("max-sessions-per-peer", &cl->sessions_per_peer,
	    nl->sessions_per_peer, &taken);
	take_number("drain-timeout", &cur->drain_ms, nw->drain_ms, &taken);
	ovio__engine_set_limits(r->e, cl);
	ovio__host_set_drain_ms((int) cur->drain_ms);
	ovio__log("reload: %s read: %d change(s) taken, %d waiting for a "
	          "restart",
	    r->config, taken, later);
	settings_free(nw);
}

/* The engine's lock can be taken: what the systemd watchdog is told. */
static bool
oviod_alive(void *arg)
{
	oviod_run *r = arg;

	return (ovio__engine_alive(r->e));
}

/*
 * Whether v reads back from a config line "name = v" as itself (inih,
 * third_party/inih, as ini_options.c sets it up): no line break, no white
 * space at either end (trimmed), no ';' or '#' first or after white space
 * (a comment).
 */
static bool
config_value_ok(const char *v)
{
	size_t i, n = strlen(v);

	if (n == 0) {
		return (true);
	}
	if (isspace((unsigned char) v[0]) || isspace((unsigned char) v[n - 1])
	    || v[0] == ';' || v[0] == '#') {
		return (false);
	}
	for (i = 0; i < n; i++) {
		if (v[i] == '\r' || v[i] == '\n'
		    || ((v[i] == ';' || v[i] == '#')
		        && isspace((unsigned char) v[i - 1]))) {
			return (false);
		}
	}
	return (true);
}

int
ovio__oviod_config_from_args(int argc, char **argv, FILE *f)
{
	static settings      check; /* the values, checked */
	const struct option *lo;
	const char          *v;
	int                  opt, rv = 0;

	opterr = 0;
	optind = 0; /* a fresh scan (glibc and mingw-w64 alike) */
	while (rv == 0
	       && (opt = getopt_long(argc, argv, ":", oviod_options, NULL))
	              != -1) {
		if (opt == '?' || opt == ':') {
			rv = bad_option(opt, argv);
			break;
		}
		for (lo = oviod_options; lo->name != NULL && lo->val != opt;
		     lo++) {
		}
		if (opt == OPT_CONFIG || opt == OPT_CHECK_CONFIG
		    || opt == OPT_HELP || opt == OPT_VERSION) {
			fprintf(stderr,
			    "oviod: --%s has no place in a config file\n",
			    lo->name);
			rv = 2;
			break;
		}
		if (apply_opt(&check, opt, optarg) != 0) {
			rv = 2;
			break;
		}
		v = optarg != NULL ? optarg : "true";
		if (!config_value_ok(v)) {
			fprintf(stderr,
			    "oviod: --%s %s: a config file cannot hold this "
			    "value (a line break, a comment's \" ;\" or \" #\", "
			    "or spaces at an end)\n",
			    lo->name, v);
			rv = 2;
			break;
		}
		fprintf(f, "%s = %s\n", lo->name, v);
	}
	if (rv == 0 && optind < argc) {
		fprintf(stderr, "oviod: unexpected argument: %s\n", argv[optind]);
		rv = 2;
	}
	optind = 0; /* the next scan starts afresh too */
	return (rv);
}

int
ovio__oviod_main(int argc, char **argv)
{
	static oviod_run r;
	static settings  scratch; /* the command line's options, checked */
	settings        *s;
	ovio__host_hooks hooks;
	bool             check = false;
	uint64_t         fds;
	unsigned         asked;
	char             why[512], status[256];
	int              opt, rv;

	opterr = 0; /* our own one-line messages */
	while (
	    (opt = getopt_long(argc, argv, ":h", oviod_options, NULL)) != -1) {
		switch (opt) {
		case 'h':
		case OPT_HELP:
			fputs(oviod_usage, stdout);
			return (0);
		case OPT_VERSION:
			printf(
			    "oviod %s (nng %s)\n", OVIO_VERSION, nng_version());
			return (0);
		case OPT_CONFIG:
			r.config = optarg;
			break;
		case OPT_CHECK_CONFIG:
			check = true;
			break;
		case '?':
		case ':':
			return (bad_option(opt, argv));
		default:
			/* Checked now, as given (a bad one fails even before
			 * --help); applied after the config file, which they
			 * override (settings_load), and again at each reload.
			 */
			if (apply_opt(&scratch, opt, optarg) != 0) {
				return (2);
			}
			if (r.nargs == MAX_ARGS) {
				fprintf(stderr, "oviod: too many options\n");
				return (2);
			}
			r.args[r.nargs].id      = opt;
			r.args[r.nargs++].value = optarg;
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr,
		    "oviod: unexpected argument: %s (see oviod "
		    "--help)\n",
		    argv[optind]);
		return (2);
	}
	if (check && r.config == NULL) {
		fprintf(stderr, "oviod: --check-config needs --config FILE\n");
		return (2);
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		fprintf(stderr, "oviod: out of memory\n");
		return (1);
	}
	r.cur = s; /* kept until exit: the engine uses its strings */
	if (settings_load(s, &r) != 0 || settings_finish(s) != 0) {
		return (2);
	}
	/* Before nng starts (it reads the count once). */
	(void) ovio_set_threads(s->msg_threads);
	ovio__log_set_level(s->level);
	if (allow_each(s->allow_uids, false, why, sizeof(why)) != 0
	    || allow_each(s->allow_groups, true, why, sizeof(why)) != 0) {
		say(s, "%s", why);
		return (2);
	}
	/*
	 * The default endpoint's folder is made here (only this user may use
	 * it, or only search it with an allow-list or admin group): the
	 * checks below then refuse one another user made first.
	 */
	if (!check && s->listen_defaulted
	    && ovio__host_ipc_folder(s->listen[0],
	           ovio__host_peers_restricted() || s->o.admin_group != NULL,
	           why, sizeof(why))
	           != 0) {
		say(s, "refusing %s: %s", s->listen[0], why);
		return (1);
	}
	/* --check-config checks what can be checked without starting:
	 * not the ipc:// paths, which a running oviod holds. */
	if ((rv = check_listen(s, !check)) != 0) {
		return (check ? 2 : rv);
	}
	if (check) {
		printf("oviod: %s: ok\n", r.config);
		return (0);
	}
	ovio__host_set_drain_ms((int) s->drain_ms);

	ovio__log("oviod %s starting (pid %ld)%s%s", OVIO_VERSION,
	    (long) ovio__host_pid(), r.config != NULL ? ", config " : "",
	    r.config != NULL ? r.config : "");
	if (s->msg_threads > 0) {
		ovio__log("message threads: %u", s->msg_threads);
	} else {
		ovio__log("message threads: half the CPUs, at least 1");
	}
	ovio__log("%s, new files %04o, device nodes and sockets %s",
	    s->o.limits.read_only ? "read-only" : "read-write",
	    (unsigned) s->o.limits.file_mode,
	    s->o.limits.allow_devices ? "allowed" : "refused");
	fds = ovio__host_raise_fd_limit();
	if (fds == 0) {
		snprintf(why, sizeof(why), "no limit");
	} else {
		snprintf(why, sizeof(why), "%llu", (unsigned long long) fds);
	}
	r.fds  = fds == UINT64_MAX ? 0 : fds;
	asked  = s->o.limits.sessions;
	if (fit_sessions(&s->o.limits, r.fds)) {
		say_fit(&s->o.limits, asked, r.fds);
	}
	ovio__log("at most %u sessions, %u per peer, idle ones %s; "
	          "descriptors: %s",
	    s->o.limits.sessions, s->o.limits.sessions_per_peer,
	    s->o.limits.idle_ms != 0 ? "closed after --idle-timeout" : "kept",
	    why);
	if ((rv = ovio__engine_start(&r.e, &s->o)) != 0) {
		ovio__logl(
		    OVIO__LOG_ERROR, "start failed: %s", ovio_strerror(rv));
		return (1);
	}
	if (s->metrics != NULL) {
		if (!s->metrics_loopback) {
			ovio__logl(OVIO__LOG_WARN,
			    "--metrics %s is not on a loopback host: anyone "
			    "who can reach it can read the service's figures",
			    s->metrics);
		}
		if (ovio__metrics_start(r.e, s->metrics) != 0) {
			(void) ovio__engine_stop(r.e, 0);
			return (1);
		}
	}
	snprintf(status, sizeof(status), "serving %s on %s%s", s->o.root,
	    s->listen[0], s->nlisten > 1 ? " and more" : "");
	ovio__host_ready(status);
	hooks.reload = oviod_reload;
	hooks.alive  = oviod_alive;
	hooks.arg    = &r;
	ovio__host_wait_stop(&hooks);
	ovio__metrics_stop(r.e);
	if (!ovio__engine_stop(r.e, (int) r.cur->drain_ms)) {
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
