/*
 * admin.c - `ovio admin`: lists the service's sessions, handles and
 * operations, shows its statistics (a table, JSON, or Prometheus' text
 * format), and cancels, closes, kicks, drains, resumes, shuts down,
 * reloads and sets the log level, through libovio's ovio_admin_* calls on
 * oviod's admin endpoint.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "metrics.h"
#include "number.h"
#include "ovio.h"

/* ovio's exit statuses (client/ovio.c, docs/reference.md). */
#define ADM_EXIT_OTHER   1
#define ADM_EXIT_USAGE   2
#define ADM_EXIT_PERM    4
#define ADM_EXIT_CONNECT 5

typedef struct adm_sub {
	const char *name;
	const char *args;
	const char *help;
} adm_sub;

static const adm_sub adm_subs[] = {
	{ "sessions", "",
	    "list the sessions: id, endpoint, peer (uid and pid on ipc,\n"
	    "address on tcp, and the certificate's subject on tls+tcp),\n"
	    "connect time, handles, operations and bytes in flight" },
	{ "handles", "",
	    "list the open handles: id, session, path, flags, state (OPEN or\n"
	    "CLOSING) and operations in flight" },
	{ "ops", "",
	    "list the operations in flight: id, session, handle, kind,\n"
	    "offset, length, age and state (pending or cancelling); a\n"
	    "completed operation is gone" },
	{ "cancel", "--op ID | --handle ID | --session ID",
	    "cancel one operation, every operation of a handle, or every\n"
	    "operation of a session; each completes once, to its owner, as\n"
	    "ECANCELED" },
	{ "close", "--handle ID",
	    "close any session's handle: its operations are cancelled and\n"
	    "drained (their owner gets ECANCELED), then it is closed" },
	{ "kick", "--session ID",
	    "disconnect a session: its client's requests in flight fail\n"
	    "ECLOSED, and its handles are closed" },
	{ "drain", "",
	    "refuse new opens, I/O and namespace requests (ESHUTDOWN) and\n"
	    "let what is in flight finish; status shows \"draining\"" },
	{ "resume", "", "accept new work again after drain" },
	{ "shutdown", "", "stop the service gracefully, as SIGTERM does" },
	{ "reload", "",
	    "read the service's config file again, as SIGHUP does: the log\n"
	    "level and limits change at once, other changes wait for a\n"
	    "restart (its log says which)" },
	{ "log-level", "LEVEL",
	    "set the service's log level: error, warn, info or debug" },
	{ "stats", "",
	    "requests answered since the service started, by kind: count,\n"
	    "errors, and latency (receipt to reply) p50 / p90 / p99 / max" },
	{ "metrics", "",
	    "the same and the status counters in Prometheus' text format\n"
	    "(counters, gauges and a latency histogram per kind)" },
	{ NULL, NULL, NULL },
};

static void
adm_usage(FILE *f)
{
	const adm_sub *s;
	const char    *nl, *line;

	fprintf(f,
	    "usage: ovio admin [--admin URL] [--json] SUBCOMMAND [ARGS]\n"
	    "\n"
	    "Administers oviod over its admin endpoint, which only the "
	    "service's\n"
	    "user (and its --admin-group) may reach on POSIX, and SYSTEM and\n"
	    "Administrators on Windows.\n"
	    "\n"
	    "subcommands:\n");
	for (s = adm_subs; s->name != NULL; s++) {
		/* The name and its arguments, then every line of its help. */
		fprintf(f, "  %s%s%s\n", s->name, s->args[0] != '\0' ? " " : "",
		    s->args);
		for (line = s->help; *line != '\0'; line = nl + (*nl != '\0')) {
			if ((nl = strchr(line, '\n')) == NULL) {
				nl = line + strlen(line);
			}
			fprintf(f, "      %.*s\n", (int) (nl - line), line);
		}
	}
	fprintf(f,
	    "\n"
	    "options:\n"
	    "  --admin URL  the admin endpoint (default: $OVIO_ADMIN_ENDPOINT, "
	    "else\n"
	    "               beside ovio's endpoint: ipc://PATH.sock ->\n"
	    "               ipc://PATH.admin.sock; now %s)\n"
	    "  --json       machine-readable output (docs/reference.md has "
	    "the\n"
	    "               shapes)\n"
	    "  -h, --help   this text; ovio admin SUBCOMMAND --help for one\n"
	    "\n"
	    "Exit status as ovio's: 0 done, 1 refused (ENOTFOUND, EBADF, "
	    "...),\n"
	    "2 bad usage, 4 permission denied, 5 cannot reach the admin "
	    "endpoint.\n",
	    ovio_default_admin_endpoint() != NULL
	        ? ovio_default_admin_endpoint()
	        : "(none: not ipc://)");
}

static void
adm_sub_usage(FILE *f, const adm_sub *s)
{
	fprintf(f,
	    "usage: ovio admin [--admin URL]%s %s %s\n\n%s.\n\nSee ovio "
	    "admin --help for the options and exit statuses.\n",
	    strcmp(s->name, "metrics") == 0 ? "" : " [--json]", s->name,
	    s->args, s->help);
}

/* s as a JSON string on f (control characters and quotes escaped). */
static void
adm_json_str(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *) s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p);
		} else if (*p >= 0x80) {
			fputs("\\ufffd", f); /* names: ASCII is enough */
		} else {
			fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* "read,write,create" from OVIO_OPEN_* flags. */
static void
adm_flags(uint32_t f, char *buf, size_t len)
{
	static const char *const names[]
	    = { "read", "write", "create", "excl", "trunc", "temp", "direct",
		  "write-through" };
	size_t n = 0;
	int    i;

	buf[0] = '\0';
	for (i = 0; i < 8; i++) {
		if ((f & (1u << i)) != 0 && n < len) {
			n += (size_t) snprintf(buf + n, len - n, "%s%s",
			    n > 0 ? "," : "", names[i]);
		}
	}
}

/* --json: failures as one JSON object too (adm_fail). */
static bool adm_err_json;
/* What the command names ("session 7"), for ENOTFOUND; "" for none. */
static char adm_named[64];

/*
 * The failure of a call: one line on stderr, and ex, its exit status.  With
 * --json the line is {"error": msg, "command": what, "status": "ENAME",
 * "exit": ex}, as ovio's own errors.
 */
static int
adm_fail_ex(const char *what, int rv, int ex)
{
	char msg[160];

	if (rv == OVIO_ENOTFOUND && adm_named[0] != '\0') {
		snprintf(msg, sizeof(msg), "no such %s", adm_named);
	} else {
		snprintf(msg, sizeof(msg), "%s", ovio_strerror(rv));
	}
	if (adm_err_json) {
		fprintf(stderr, "{\"error\": ");
		adm_json_str(stderr, msg);
		fprintf(stderr, ", \"command\": ");
		adm_json_str(stderr, what);
		fprintf(stderr, ", \"status\": \"%s\", \"exit\": %d}\n",
		    ovio_errname(rv), ex);
	} else {
		fprintf(stderr, "ovio admin: %s: remote: %s: %s\n", what,
		    ovio_errname(rv), msg);
	}
	return (ex);
}

/* adm_fail_ex with the exit status rv calls for. */
static int
adm_fail(const char *what, int rv)
{
	return (adm_fail_ex(what, rv,
	    rv == OVIO_EPERM || rv == OVIO_EACCES ? ADM_EXIT_PERM
	    : rv == OVIO_ECLOSED || rv == OVIO_ECONNREFUSED
	            || rv == OVIO_ETIMEDOUT
	        ? ADM_EXIT_CONNECT
	        : ADM_EXIT_OTHER));
}

static int
adm_sessions(ovio_client *cl, bool json)
{
	ovio_admin_session *l;
	size_t              n, i;
	int                 rv;

	if ((rv = ovio_admin_sessions(cl, &l, &n)) != 0) {
		return (adm_fail("sessions", rv));
	}
	if (json) {
		printf("{\"sessions\": [");
		for (i = 0; i < n; i++) {
			printf("%s{\"id\": %u, \"endpoint\": \"%s\", ",
			    i > 0 ? ", " : "", l[i].id,
			    l[i].admin ? "admin" : "data");
			if (l[i].has_uid) {
				printf("\"uid\": %llu, \"pid\": %llu, ",
				    (unsigned long long) l[i].uid,
				    (unsigned long long) l[i].pid);
			} else {
				printf("\"uid\": null, \"pid\": null, ");
			}
			printf("\"address\": ");
			adm_json_str(stdout, l[i].address);
			printf(", \"certificate\": ");
			adm_json_str(stdout, l[i].certificate);
			printf(", \"connected_ms\": %lld, \"handles\": %u, "
			       "\"ops\": %u, \"bytes\": %llu}",
			    (long long) l[i].connected_ms, l[i].handles,
			    l[i].ops, (unsigned long long) l[i].bytes);
		}
		printf("]}\n");
	} else {
		printf("%-10s %-6s %-24s %-20s %7s %7s %12s\n", "SESSION",
		    "END", "PEER", "CONNECTED (UTC)", "HANDLES", "OPS",
		    "BYTES");
		for (i = 0; i < n; i++) {
			char       peer[320], when[32];
			time_t     t = (time_t) (l[i].connected_ms / 1000);
			struct tm *tm;

			if (l[i].certificate[0] != '\0') {
				snprintf(peer, sizeof(peer), "%s %s",
				    l[i].address, l[i].certificate);
			} else if (l[i].has_uid) {
				snprintf(peer, sizeof(peer),
				    "uid %llu pid %llu",
				    (unsigned long long) l[i].uid,
				    (unsigned long long) l[i].pid);
			} else {
				snprintf(peer, sizeof(peer), "%s",
				    l[i].address[0] != '\0' ? l[i].address
				                            : "-");
			}
			/* gmtime: the CLI is one thread (mingw has no _r). */
			if ((tm = gmtime(&t)) == NULL
			    || strftime(
			           when, sizeof(when), "%Y-%m-%d %H:%M:%S", tm)
			           == 0) {
				snprintf(when, sizeof(when), "-");
			}
			printf("%-10u %-6s %-24s %-20s %7u %7u %12llu\n",
			    l[i].id, l[i].admin ? "admin" : "data", peer, when,
			    l[i].handles, l[i].ops,
			    (unsigned long long) l[i].bytes);
		}
	}
	ovio_admin_free(l);
	return (0);
}

static int
adm_handles(ovio_client *cl, bool json)
{
	ovio_admin_handle *l;
	size_t             n, i;
	char               fl[64];
	int                rv;

	if ((rv = ovio_admin_handles(cl, &l, &n)) != 0) {
		return (adm_fail("handles", rv));
	}
	if (json) {
		printf("{\"handles\": [");
	} else {
		printf("%-14s %-10s %-8s %5s %-18s %s\n", "HANDLE", "SESSION",
		    "STATE", "OPS", "FLAGS", "PATH");
	}
	for (i = 0; i < n; i++) {
		adm_flags(l[i].flags, fl, sizeof(fl));
		if (json) {
			printf("%s{\"id\": %llu, \"session\": %u, \"path\": ",
			    i > 0 ? ", " : "", (unsigned long long) l[i].id,
			    l[i].session);
			adm_json_str(stdout, l[i].path);
			printf(", \"flags\": \"%s\", \"state\": \"%s\", "
			       "\"ops\": %u}",
			    fl, l[i].closing ? "CLOSING" : "OPEN", l[i].ops);
		} else {
			printf("%-14llu %-10u %-8s %5u %-18s %s\n",
			    (unsigned long long) l[i].id, l[i].session,
			    l[i].closing ? "CLOSING" : "OPEN", l[i].ops, fl,
			    l[i].path);
		}
	}
	if (json) {
		printf("]}\n");
	}
	ovio_admin_free(l);
	return (0);
}

static int
adm_ops(ovio_client *cl, bool json)
{
	ovio_admin_op *l;
	size_t         n, i;
	int            rv;

	if ((rv = ovio_admin_ops(cl, &l, &n)) != 0) {
		return (adm_fail("ops", rv));
	}
	if (json) {
		printf("{\"ops\": [");
	} else {
		printf("%-8s %-10s %-14s %-8s %12s %10s %9s %-10s %s\n", "OP",
		    "SESSION", "HANDLE", "KIND", "OFFSET", "LENGTH", "AGE_MS",
		    "STATE", "TAG");
	}
	for (i = 0; i < n; i++) {
		const char *st = l[i].cancelling ? "cancelling" : "pending";
		if (json) {
			printf("%s{\"id\": %llu, \"tag\": %llu, \"session\": "
			       "%u, \"handle\": %llu, \"kind\": \"%s\", "
			       "\"offset\": %llu, \"length\": %llu, "
			       "\"age_ms\": %llu, \"state\": \"%s\"}",
			    i > 0 ? ", " : "", (unsigned long long) l[i].id,
			    (unsigned long long) l[i].tag, l[i].session,
			    (unsigned long long) l[i].handle,
			    ovio_op_name(l[i].kind),
			    (unsigned long long) l[i].offset,
			    (unsigned long long) l[i].length,
			    (unsigned long long) l[i].age_ms, st);
		} else {
			printf("%-8llu %-10u %-14llu %-8s %12llu %10llu %9llu "
			       "%-10s %llu\n",
			    (unsigned long long) l[i].id, l[i].session,
			    (unsigned long long) l[i].handle,
			    ovio_op_name(l[i].kind),
			    (unsigned long long) l[i].offset,
			    (unsigned long long) l[i].length,
			    (unsigned long long) l[i].age_ms, st,
			    (unsigned long long) l[i].tag);
		}
	}
	if (json) {
		printf("]}\n");
	}
	ovio_admin_free(l);
	return (0);
}

/* A latency in microseconds, as "85us", "1.2ms" or "3.40s". */
static const char *
adm_us(uint64_t us, char *buf, size_t len)
{
	if (us < 1000) {
		snprintf(buf, len, "%lluus", (unsigned long long) us);
	} else if (us < 1000000) {
		snprintf(buf, len, "%.1fms", (double) us / 1e3);
	} else {
		snprintf(buf, len, "%.2fs", (double) us / 1e6);
	}
	return (buf);
}

static int
adm_stats(ovio_client *cl, bool json)
{
	ovio_admin_stats_entry *l;
	size_t                  n, i;
	char                    a[16], b[16], c[16], d[16];
	int                     rv;

	if ((rv = ovio_admin_stats(cl, &l, &n)) != 0) {
		return (adm_fail("stats", rv));
	}
	if (json) {
		printf("{\"stats\": [");
	} else {
		printf("%-8s %10s %8s %9s %9s %9s %9s\n", "KIND", "COUNT",
		    "ERRORS", "P50", "P90", "P99", "MAX");
	}
	for (i = 0; i < n; i++) {
		uint64_t p50 = ovio_latency_quantile(&l[i], 0.5);
		uint64_t p90 = ovio_latency_quantile(&l[i], 0.9);
		uint64_t p99 = ovio_latency_quantile(&l[i], 0.99);
		if (json) {
			printf("%s{\"kind\": \"%s\", \"count\": %llu, "
			       "\"errors\": %llu, \"sum_us\": %llu, "
			       "\"p50_us\": %llu, \"p90_us\": %llu, "
			       "\"p99_us\": %llu, \"max_us\": %llu}",
			    i > 0 ? ", " : "", ovio_op_name(l[i].kind),
			    (unsigned long long) l[i].count,
			    (unsigned long long) l[i].errors,
			    (unsigned long long) l[i].sum_us,
			    (unsigned long long) p50, (unsigned long long) p90,
			    (unsigned long long) p99,
			    (unsigned long long) l[i].max_us);
		} else {
			printf("%-8s %10llu %8llu %9s %9s %9s %9s\n",
			    ovio_op_name(l[i].kind),
			    (unsigned long long) l[i].count,
			    (unsigned long long) l[i].errors,
			    adm_us(p50, a, sizeof(a)),
			    adm_us(p90, b, sizeof(b)),
			    adm_us(p99, c, sizeof(c)),
			    adm_us(l[i].max_us, d, sizeof(d)));
		}
	}
	if (json) {
		printf("]}\n");
	} else if (n == 0) {
		printf("(no request answered yet)\n");
	} else {
		printf("(latency from receipt to reply; a percentile is its "
		       "bucket's upper bound)\n");
	}
	ovio_admin_free(l);
	return (0);
}

/* Prometheus' text format (lib/metrics.h), as oviod --metrics serves it. */
static int
adm_metrics(ovio_client *cl)
{
	ovio_service_status     st;
	ovio_admin_stats_entry *l;
	size_t                  n, len;
	char                   *text;
	int                     rv;

	if ((rv = ovio_status(cl, &st)) != 0) {
		return (adm_fail("metrics", rv));
	}
	if ((rv = ovio_admin_stats(cl, &l, &n)) != 0) {
		return (adm_fail("metrics", rv));
	}
	rv = ovio__metrics_text(&st, l, n, &text, &len);
	ovio_admin_free(l);
	if (rv != 0) {
		return (adm_fail("metrics", rv));
	}
	fwrite(text, 1, len, stdout);
	free(text);
	return (0);
}

/* "--NAME ID" or "--NAME=ID" at argv[*i]; 1 matched, 0 not, -1 bad. */
static int
adm_id_opt(const char *name, int argc, char **argv, int *i, uint64_t *id)
{
	size_t      n = strlen(name);
	const char *v = NULL;
	char        why[256];
	int         e;

	if (strncmp(argv[*i], name, n) != 0
	    || (argv[*i][n] != '\0' && argv[*i][n] != '=')) {
		return (0);
	}
	if (argv[*i][n] == '=') {
		v = argv[*i] + n + 1;
	} else if (*i + 1 < argc) {
		v = argv[++*i];
	}
	if (v == NULL) {
		fprintf(stderr, "ovio admin: %s needs an ID\n", name);
		return (-1);
	}
	if ((e = ovio__parse_number(v, 0, 1, UINT64_MAX, id)) != OVIO__NUM_OK) {
		fprintf(stderr, "ovio admin: %s\n",
		    ovio__number_error(
		        why, sizeof(why), name, v, e, 0, 1, UINT64_MAX));
		return (-1);
	}
	return (1);
}

/* A command's one-line (or JSON) report. */
static int
adm_done(const char *what, int rv, uint32_t canceled, bool json, bool has_count)
{
	if (rv != 0) {
		return (adm_fail(what, rv));
	}
	if (json) {
		printf("{\"command\": \"%s\", \"status\": \"OK\"", what);
		if (has_count) {
			printf(", \"canceled\": %u", canceled);
		}
		printf("}\n");
	} else if (has_count) {
		printf("%s: %u cancel(s) started\n", what, canceled);
	} else if (strcmp(what, "reload") == 0) {
		printf("reload: asked (the service's log says what changed)\n");
	} else {
		printf("%s: done\n", what);
	}
	return (0);
}

int
ovio__cmd_admin(const char *endpoint, bool json, int argc, char **argv)
{
	const adm_sub *s;
	const char    *url = NULL;
	char           buf[600];
	ovio_client   *cl;
	uint64_t       op = 0, handle = 0, session = 0;
	uint32_t       canceled = 0;
	int            i, rv, m;
	const char    *level = NULL;

	for (i = 0; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-h") == 0
		    || strcmp(argv[i], "--help") == 0) {
			adm_usage(stdout);
			return (0);
		}
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--admin") == 0 && i + 1 < argc) {
			url = argv[++i];
		} else if (strncmp(argv[i], "--admin=", 8) == 0) {
			url = argv[i] + 8;
		} else {
			fprintf(stderr,
			    "ovio admin: unknown option %s (see ovio admin "
			    "--help)\n",
			    argv[i]);
			return (ADM_EXIT_USAGE);
		}
	}
	if (i == argc) {
		adm_usage(stderr);
		return (ADM_EXIT_USAGE);
	}
	for (s = adm_subs; s->name != NULL; s++) {
		if (strcmp(s->name, argv[i]) == 0) {
			break;
		}
	}
	if (s->name == NULL) {
		fprintf(stderr,
		    "ovio admin: unknown subcommand %s (see ovio admin "
		    "--help)\n",
		    argv[i]);
		return (ADM_EXIT_USAGE);
	}
	for (i++; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0
		    || strcmp(argv[i], "--help") == 0) {
			adm_sub_usage(stdout, s);
			return (0);
		}
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
			continue;
		}
		if ((m = adm_id_opt("--op", argc, argv, &i, &op)) == 0
		    && (m = adm_id_opt("--handle", argc, argv, &i, &handle))
		           == 0) {
			m = adm_id_opt("--session", argc, argv, &i, &session);
		}
		if (m < 0) {
			return (ADM_EXIT_USAGE);
		}
		if (m == 0 && strcmp(s->name, "log-level") == 0 && level == NULL
		    && argv[i][0] != '-') {
			level = argv[i];
			continue;
		}
		if (m == 0) {
			fprintf(stderr, "ovio admin %s: unexpected %s\n",
			    s->name, argv[i]);
			adm_sub_usage(stderr, s);
			return (ADM_EXIT_USAGE);
		}
	}
	/* Each subcommand's arguments, exactly. */
	m = (op != 0) + (handle != 0) + (session != 0);
	if ((strcmp(s->name, "cancel") == 0 && m != 1)
	    || (strcmp(s->name, "close") == 0 && (m != 1 || handle == 0))
	    || (strcmp(s->name, "kick") == 0
	        && (m != 1 || session == 0 || session > UINT32_MAX))
	    || (strcmp(s->name, "cancel") != 0 && strcmp(s->name, "close") != 0
	        && strcmp(s->name, "kick") != 0 && m != 0)
	    || (strcmp(s->name, "log-level") == 0) != (level != NULL)
	    || session > UINT32_MAX) {
		adm_sub_usage(stderr, s);
		return (ADM_EXIT_USAGE);
	}
	if (json && strcmp(s->name, "metrics") == 0) {
		fprintf(stderr,
		    "ovio admin metrics: --json does not apply: metrics are in "
		    "Prometheus' text format (ovio admin stats --json gives "
		    "the latencies, ovio status --json the counters)\n");
		return (ADM_EXIT_USAGE);
	}

	adm_err_json = json;
	if (op != 0) {
		snprintf(adm_named, sizeof(adm_named), "operation %llu",
		    (unsigned long long) op);
	} else if (handle != 0) {
		snprintf(adm_named, sizeof(adm_named), "handle %llu",
		    (unsigned long long) handle);
	} else if (session != 0) {
		snprintf(adm_named, sizeof(adm_named), "session %llu",
		    (unsigned long long) session);
	}

	if (url == NULL) {
		url = getenv("OVIO_ADMIN_ENDPOINT");
	}
	if (url == NULL || url[0] == '\0') {
		if (ovio_admin_endpoint_for(
		        endpoint != NULL ? endpoint : ovio_default_endpoint(),
		        buf, sizeof(buf))
		    != 0) {
			fprintf(stderr,
			    "ovio admin: no admin endpoint beside %s (not "
			    "ipc://): give --admin URL\n",
			    endpoint != NULL ? endpoint
			                     : ovio_default_endpoint());
			return (ADM_EXIT_USAGE);
		}
		url = buf;
	}
	if ((rv = ovio_connect(&cl, url, 3000)) != 0) {
		bool perm = rv == OVIO_EPERM || rv == OVIO_EACCES;
		int  ex   = perm ? ADM_EXIT_PERM : ADM_EXIT_CONNECT;

		if (json) {
			char what[640];

			snprintf(what, sizeof(what), "connect %.600s", url);
			adm_named[0] = '\0';
			return (adm_fail_ex(what, rv, ex));
		}
		fprintf(stderr, "ovio admin: cannot connect to %s: %s: %s\n",
		    url, ovio_errname(rv), ovio_strerror(rv));
		if (perm) {
			fprintf(stderr,
			    "ovio admin: the admin endpoint is for the "
			    "service's user and its admin group only\n");
		}
		return (ex);
	}

	if (strcmp(s->name, "sessions") == 0) {
		rv = adm_sessions(cl, json);
	} else if (strcmp(s->name, "handles") == 0) {
		rv = adm_handles(cl, json);
	} else if (strcmp(s->name, "ops") == 0) {
		rv = adm_ops(cl, json);
	} else if (strcmp(s->name, "stats") == 0) {
		rv = adm_stats(cl, json);
	} else if (strcmp(s->name, "metrics") == 0) {
		rv = adm_metrics(cl);
	} else if (strcmp(s->name, "cancel") == 0) {
		if (op != 0) {
			rv = ovio_admin_cancel_op(cl, op, &canceled);
		} else if (handle != 0) {
			rv = ovio_admin_cancel_handle(cl, handle, &canceled);
		} else {
			rv = ovio_admin_cancel_session(
			    cl, (uint32_t) session, &canceled);
		}
		rv = adm_done("cancel", rv, canceled, json, true);
	} else if (strcmp(s->name, "close") == 0) {
		rv = adm_done(
		    "close", ovio_admin_close(cl, handle), 0, json, false);
	} else if (strcmp(s->name, "kick") == 0) {
		rv = adm_done("kick", ovio_admin_kick(cl, (uint32_t) session),
		    0, json, false);
	} else if (strcmp(s->name, "drain") == 0) {
		rv = adm_done("drain", ovio_admin_drain(cl), 0, json, false);
	} else if (strcmp(s->name, "resume") == 0) {
		rv = adm_done("resume", ovio_admin_resume(cl), 0, json, false);
	} else if (strcmp(s->name, "shutdown") == 0) {
		rv = adm_done(
		    "shutdown", ovio_admin_shutdown(cl), 0, json, false);
	} else if (strcmp(s->name, "reload") == 0) {
		rv = adm_done("reload", ovio_admin_reload(cl), 0, json, false);
	} else {
		rv = adm_done("log-level", ovio_admin_log_level(cl, level), 0,
		    json, false);
	}
	ovio_disconnect(cl);
	return (rv);
}
