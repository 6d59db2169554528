/*
 * ovio.c - the ovio command line: moves files to and from oviod and shows
 * the service's status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>

#include "ovio.h"
#include "progress.h"
#include "service.h"

#define EXIT_USAGE 2
#define SERVICE_TIMEOUT_MS 60000 /* default bound of start / stop */

typedef struct cli {
	const char *endpoint;
	bool        json;
	size_t      chunk;
	unsigned    window;
	int         argc; /* the command's own arguments */
	char      **argv;
} cli;

typedef struct command {
	const char *name;
	const char *args;
	const char *help;
	int (*run)(cli *);
	int  nargs;
	bool rest; /* takes every argument after it, options too */
} command;

static const command *cmd_current;

static int
fail(const char *what, int status)
{
	int64_t os = ovio_last_os_error();

	if (os != 0) {
		fprintf(stderr, "ovio: %s: %s: %s (os error %lld)\n", what,
		    ovio_errname(status), ovio_strerror(status), (long long) os);
	} else {
		fprintf(stderr, "ovio: %s: %s: %s\n", what, ovio_errname(status),
		    ovio_strerror(status));
	}
	return (1);
}

/*
 * Writes s as a JSON string: quoted, with backslashes, quotes and control
 * characters escaped (Windows paths are full of backslashes).
 */
static void
json_str(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *) s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p);
		} else if (*p < 0x20) {
			fprintf(f, "\\u%04x", *p);
		} else {
			fputc(*p, f);
		}
	}
	fputc('"', f);
}

static int
connect_or_fail(cli *c, ovio_client **cl)
{
	int rv;

	if ((rv = ovio_connect(cl, c->endpoint, 3000)) != 0) {
		char what[600];
		snprintf(what, sizeof(what), "cannot connect to %s",
		    c->endpoint != NULL ? c->endpoint : ovio_default_endpoint());
		fail(what, rv);
		if (rv == OVIO_ECONNREFUSED || rv == OVIO_ETIMEDOUT) {
			fprintf(stderr, "ovio: is oviod running? (make run, "
			                "oviod --listen URL, or on Windows "
			                "ovio service start)\n");
		}
		return (rv);
	}
	return (0);
}

/* Local files: read and written in order, so stdio is enough. */
static int
local_fill(void *arg, uint64_t offset, void *buf, size_t len)
{
	progress *p = arg;

	(void) offset;
	if (fread(buf, 1, len, p->file) != len) {
		return (OVIO_EIO);
	}
	return (0);
}

static int
local_sink(void *arg, uint64_t offset, const void *data, size_t len)
{
	progress *p = arg;

	(void) offset;
	if (fwrite(data, 1, len, p->file) != len) {
		return (OVIO_EIO);
	}
	return (0);
}

static void
on_progress(void *arg, uint64_t done)
{
	ovio__progress_update(arg, done);
}

static int
cmd_put(cli *c)
{
	const char  *local = c->argv[0], *remote = c->argv[1];
	ovio_client *cl;
	progress     p;
	uint64_t     h;
	int64_t      size;
	int          rv, rv2;
	FILE        *f;

	if ((f = fopen(local, "rb")) == NULL) {
		fprintf(stderr, "ovio: put: cannot open %s: %s\n", local,
		    strerror(errno));
		return (1);
	}
	if ((size = ovio__file_size(f)) < 0) {
		fprintf(stderr, "ovio: put: %s is not a regular file\n", local);
		fclose(f);
		return (1);
	}
	if (connect_or_fail(c, &cl) != 0) {
		fclose(f);
		return (1);
	}
	rv = ovio_open(cl, remote,
	    OVIO_OPEN_WRITE | OVIO_OPEN_CREATE | OVIO_OPEN_TRUNC, 0, &h);
	if (rv != 0) {
		fclose(f);
		ovio_disconnect(cl);
		return (fail(remote, rv));
	}
	ovio__progress_start(&p, "put", remote, (uint64_t) size, f);
	rv = ovio_write_stream(cl, h, 0, (uint64_t) size, c->chunk, c->window,
	    local_fill, on_progress, &p);
	if (rv == 0) {
		rv = ovio_flush(cl, h); /* acknowledged means on disk */
	}
	rv2 = ovio_close(cl, h);
	ovio__progress_end(&p, rv == 0 && rv2 == 0);
	fclose(f);
	ovio_disconnect(cl);
	if (rv != 0 || rv2 != 0) {
		return (fail(remote, rv != 0 ? rv : rv2));
	}
	if (c->json) {
		printf("{\"bytes\": %lld, \"seconds\": %.3f}\n", (long long) size,
		    ovio__progress_seconds(&p));
	}
	return (0);
}

static int
get_to(cli *c, const char *remote, FILE *out, const char *verb)
{
	ovio_client *cl;
	progress     p;
	ovio_stat    st;
	uint64_t     h, total = 0;
	int          rv, rv2;

	if (connect_or_fail(c, &cl) != 0) {
		return (1);
	}
	if ((rv = ovio_open(cl, remote, OVIO_OPEN_READ, 0, &h)) != 0) {
		ovio_disconnect(cl);
		return (fail(remote, rv));
	}
	if (ovio_fstat(cl, h, &st) != 0 || st.type != OVIO_TYPE_FILE) {
		st.size = 0; /* unknown: a FIFO, say; read to its end */
	}
	ovio__progress_start(&p, verb, remote, st.size, out);
	rv = ovio_read_stream(cl, h, 0, UINT64_MAX, c->chunk, c->window,
	    local_sink, on_progress, &p, &total);
	rv2 = ovio_close(cl, h);
	ovio__progress_end(&p, rv == 0);
	ovio_disconnect(cl);
	if (rv != 0 || rv2 != 0) {
		return (fail(remote, rv != 0 ? rv : rv2));
	}
	if (c->json) {
		printf("{\"bytes\": %llu, \"seconds\": %.3f}\n",
		    (unsigned long long) total, ovio__progress_seconds(&p));
	}
	return (0);
}

static int
cmd_get(cli *c)
{
	const char *remote = c->argv[0], *local = c->argv[1];
	FILE       *f;
	int         rv;

	if ((f = fopen(local, "wb")) == NULL) {
		fprintf(stderr, "ovio: get: cannot create %s: %s\n", local,
		    strerror(errno));
		return (1);
	}
	rv = get_to(c, remote, f, "get");
	if (fclose(f) != 0 && rv == 0) {
		fprintf(stderr, "ovio: get: writing %s: %s\n", local,
		    strerror(errno));
		rv = 1;
	}
	if (rv != 0) {
		remove(local); /* no half file left behind */
	}
	return (rv);
}

static int
cmd_cat(cli *c)
{
	int rv = get_to(c, c->argv[0], stdout, "cat");
	fflush(stdout);
	return (rv);
}

static const char *
type_name(uint32_t t)
{
	switch (t) {
	case OVIO_TYPE_FILE:
		return ("file");
	case OVIO_TYPE_DIR:
		return ("directory");
	case OVIO_TYPE_FIFO:
		return ("fifo");
	}
	return ("other");
}

static int
cmd_stat(cli *c)
{
	ovio_client *cl;
	ovio_stat    st;
	int          rv;

	if (connect_or_fail(c, &cl) != 0) {
		return (1);
	}
	rv = ovio_stat_path(cl, c->argv[0], &st);
	ovio_disconnect(cl);
	if (rv != 0) {
		return (fail(c->argv[0], rv));
	}
	if (c->json) {
		printf("{\"path\": ");
		json_str(stdout, c->argv[0]);
		printf(", \"size\": %llu, \"type\": \"%s\", "
		       "\"mode\": \"%04o\", \"mtime_ns\": %lld}\n",
		    (unsigned long long) st.size, type_name(st.type), st.mode,
		    (long long) st.mtime_ns);
	} else {
		printf("path:  %s\nsize:  %llu\ntype:  %s\nmode:  %04o\n",
		    c->argv[0], (unsigned long long) st.size, type_name(st.type),
		    st.mode);
	}
	return (0);
}

static int
cmd_status(cli *c)
{
	ovio_client        *cl;
	ovio_service_status st;
	int                 rv;

	if (connect_or_fail(c, &cl) != 0) {
		return (1);
	}
	rv = ovio_status(cl, &st);
	ovio_disconnect(cl);
	if (rv != 0) {
		return (fail("status", rv));
	}
	if (c->json) {
		printf("{\"version\": ");
		json_str(stdout, st.version);
		printf(", \"backend\": ");
		json_str(stdout, st.backend);
		printf(", \"root\": ");
		json_str(stdout, st.root);
		printf(", \"sessions\": %u, \"handles\": %u, "
		       "\"ops_in_flight\": %llu, \"ops_submitted\": %llu, "
		       "\"ops_completed\": %llu, \"ops_canceled\": %llu, "
		       "\"bytes_read\": %llu, \"bytes_written\": %llu, "
		       "\"requests_rejected\": %llu, \"duplicates\": %llu, "
		       "\"uptime_ms\": %llu}\n",
		    st.sessions, st.handles,
		    (unsigned long long) st.ops_in_flight,
		    (unsigned long long) st.ops_submitted,
		    (unsigned long long) st.ops_completed,
		    (unsigned long long) st.ops_canceled,
		    (unsigned long long) st.bytes_read,
		    (unsigned long long) st.bytes_written,
		    (unsigned long long) st.requests_rejected,
		    (unsigned long long) st.duplicates,
		    (unsigned long long) st.uptime_ms);
		return (0);
	}
	printf("oviod %s, up %llu s\n", st.version,
	    (unsigned long long) (st.uptime_ms / 1000));
	printf("backend:        %s\n", st.backend);
	printf("root:           %s\n", st.root);
	printf("sessions:       %u\n", st.sessions);
	printf("handles:        %u\n", st.handles);
	printf("ops in flight:  %llu\n", (unsigned long long) st.ops_in_flight);
	printf("ops completed:  %llu of %llu submitted (%llu canceled)\n",
	    (unsigned long long) st.ops_completed,
	    (unsigned long long) st.ops_submitted,
	    (unsigned long long) st.ops_canceled);
	printf("bytes read:     %llu\n", (unsigned long long) st.bytes_read);
	printf("bytes written:  %llu\n", (unsigned long long) st.bytes_written);
	printf("rejected:       %llu\n",
	    (unsigned long long) st.requests_rejected);
	printf("duplicates:     %llu (answered from the reply cache)\n",
	    (unsigned long long) st.duplicates);
	return (0);
}

/* ---- ovio service ---------------------------------------------------- */

typedef struct svc_sub {
	const char *name;
	const char *args;
	const char *help;
} svc_sub;

static const svc_sub svc_subs[] = {
	{ "install", "[--oviod PATH] [--] [OVIOD OPTIONS]",
	    "register oviod as the Windows service \"" OVIO_SERVICE_NAME
	    "\" by running\n"
	    "\"oviod.exe install OVIOD OPTIONS\" (the oviod.exe next to "
	    "ovio.exe, or\n"
	    "--oviod PATH). The options are stored as the service's command "
	    "line:\n"
	    "--root DIR, --listen URL, --log FILE, --start auto|demand and "
	    "the rest of\n"
	    "oviod --help. Every argument except --oviod and --help goes to "
	    "oviod;\n"
	    "after -- even those do. Needs an administrator" },
	{ "uninstall", "[--timeout MS]",
	    "stop the service if it runs (waiting for the drain), then delete "
	    "it" },
	{ "start", "[--timeout MS]",
	    "start the service and wait until it reports RUNNING (it does once "
	    "it\n"
	    "listens), following its wait hints, for at most --timeout "
	    "(default\n"
	    "60000 ms); a service that stops instead fails with its exit "
	    "code" },
	{ "stop", "[--timeout MS]",
	    "ask the service to stop and wait until it reports STOPPED: it "
	    "stops\n"
	    "accepting, cancels what is in flight, drains and closes every "
	    "handle\n"
	    "first; bounded by its wait hints and --timeout (default 60000 "
	    "ms)" },
	{ "status", "[--json]",
	    "show the service's state (RUNNING, STOPPED, START_PENDING, "
	    "STOP_PENDING,\n"
	    "NOT_INSTALLED, ...), process id, start type and command line; "
	    "exit\n"
	    "status 0 when it is installed, 1 when not (--json keys: service, "
	    "installed,\n"
	    "state, pid, start_type, exit_code, service_exit_code, checkpoint,"
	    "\n"
	    "wait_hint_ms, command)" },
	{ NULL, NULL, NULL },
};

static void
service_usage(FILE *f)
{
	const svc_sub *s;

	fprintf(f,
	    "usage: ovio service SUBCOMMAND [OPTIONS]\n"
	    "\n"
	    "Manages oviod as a Windows service through the service control\n"
	    "manager. Windows only: on Linux oviod runs under systemd\n"
	    "(install/oviod.service; systemctl start|stop|status oviod).\n"
	    "\n"
	    "subcommands:\n");
	for (s = svc_subs; s->name != NULL; s++) {
		fprintf(f, "  %-9s %s\n", s->name, s->args);
	}
	fprintf(f, "\nSee ovio service SUBCOMMAND --help for each.\n");
}

static void
service_sub_usage(FILE *f, const svc_sub *s)
{
	fprintf(f, "usage: ovio service %s %s\n\n%s.\n", s->name, s->args,
	    s->help);
}

static void
service_print(const ovio__svc_status *st, bool json)
{
	if (json) {
		printf("{\"service\": \"%s\", \"installed\": %s, \"state\": ",
		    OVIO_SERVICE_NAME, st->installed ? "true" : "false");
		json_str(stdout, st->state);
		printf(", \"pid\": %lu, \"start_type\": ",
		    (unsigned long) st->pid);
		json_str(stdout, st->start_type);
		printf(", \"exit_code\": %lu, \"service_exit_code\": %lu, "
		       "\"checkpoint\": %lu, \"wait_hint_ms\": %lu, "
		       "\"command\": ",
		    (unsigned long) st->exit_code,
		    (unsigned long) st->service_exit,
		    (unsigned long) st->checkpoint,
		    (unsigned long) st->wait_hint_ms);
		json_str(stdout, st->command);
		printf("}\n");
		return;
	}
	printf("service:     %s\n", OVIO_SERVICE_NAME);
	printf("state:       %s\n", st->state);
	if (!st->installed) {
		return;
	}
	if (st->pid != 0) {
		printf("pid:         %lu\n", (unsigned long) st->pid);
	}
	if (st->exit_code != 0) {
		printf("last exit:   %lu (service exit code %lu)\n",
		    (unsigned long) st->exit_code,
		    (unsigned long) st->service_exit);
	}
	printf("start type:  %s\n", st->start_type);
	printf("command:     %s\n", st->command);
}

/*
 * ovio service SUBCOMMAND ...: argv holds what follows "service".  The
 * parsing and printing are here; service_windows.c / service_posix.c talk
 * to the OS.
 */
static int
cmd_service(cli *c, int argc, char **argv)
{
	const svc_sub   *s;
	ovio__svc_status st;
	const char      *oviod   = NULL;
	unsigned long    timeout = SERVICE_TIMEOUT_MS;
	char           **pass;
	int              i, npass = 0, rv;
	bool             json = c->json;
	char            *end;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			service_usage(stdout);
			return (0);
		}
		if (argv[i][0] != '-') {
			break;
		}
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
			continue;
		}
		fprintf(stderr, "ovio service: unknown option %s (see ovio "
		                "service --help)\n",
		    argv[i]);
		return (EXIT_USAGE);
	}
	if (i == argc) {
		service_usage(stderr);
		return (EXIT_USAGE);
	}
	for (s = svc_subs; s->name != NULL; s++) {
		if (strcmp(s->name, argv[i]) == 0) {
			break;
		}
	}
	if (s->name == NULL) {
		fprintf(stderr, "ovio service: unknown subcommand %s (install, "
		                "uninstall, start, stop or status)\n",
		    argv[i]);
		return (EXIT_USAGE);
	}
	argc -= i + 1;
	argv += i + 1;

	if (strcmp(s->name, "install") == 0) {
		/* Everything but --oviod and --help is oviod's. */
		if ((pass = calloc((size_t) argc + 1, sizeof(char *))) == NULL) {
			fprintf(stderr, "ovio service: out of memory\n");
			return (1);
		}
		for (i = 0; i < argc; i++) {
			if (strcmp(argv[i], "--") == 0) {
				for (i++; i < argc; i++) {
					pass[npass++] = argv[i];
				}
				break;
			}
			if (strcmp(argv[i], "-h") == 0 ||
			    strcmp(argv[i], "--help") == 0) {
				service_sub_usage(stdout, s);
				free(pass);
				return (0);
			}
			if (strcmp(argv[i], "--oviod") == 0) {
				if (i + 1 == argc) {
					service_sub_usage(stderr, s);
					free(pass);
					return (EXIT_USAGE);
				}
				oviod = argv[++i];
				continue;
			}
			pass[npass++] = argv[i];
		}
		rv = ovio__service_install(oviod, npass, pass);
		free(pass);
		return (rv);
	}

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			service_sub_usage(stdout, s);
			return (0);
		}
		if (strcmp(argv[i], "--json") == 0 &&
		    strcmp(s->name, "status") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--timeout") == 0 &&
		    strcmp(s->name, "status") != 0 && i + 1 < argc) {
			timeout = strtoul(argv[++i], &end, 10);
			if (*end != '\0' || timeout == 0 || timeout > 3600000) {
				fprintf(stderr, "ovio service: --timeout: 1 to "
				                "3600000 ms\n");
				return (EXIT_USAGE);
			}
		} else {
			fprintf(stderr, "ovio service %s: unexpected %s\n",
			    s->name, argv[i]);
			service_sub_usage(stderr, s);
			return (EXIT_USAGE);
		}
	}
	if (strcmp(s->name, "uninstall") == 0) {
		return (ovio__service_uninstall((unsigned) timeout));
	}
	if (strcmp(s->name, "start") == 0) {
		return (ovio__service_start((unsigned) timeout));
	}
	if (strcmp(s->name, "stop") == 0) {
		return (ovio__service_stop((unsigned) timeout));
	}
	if ((rv = ovio__service_query(&st)) != 0) {
		return (rv);
	}
	service_print(&st, json);
	return (st.installed ? 0 : 1);
}

static const command commands[] = {
	{ "put", "LOCAL REMOTE",
	    "copy a local file to REMOTE (under the service's root), flushed "
	    "to disk",
	    cmd_put, 2, false },
	{ "get", "REMOTE LOCAL", "copy REMOTE to a local file", cmd_get, 2,
	    false },
	{ "cat", "REMOTE", "write REMOTE to standard output", cmd_cat, 1,
	    false },
	{ "stat", "REMOTE", "show REMOTE's size, type and mode", cmd_stat,
	    1, false },
	{ "status", "", "show the service's backend, sessions, handles, "
	                "operations in flight and counters",
	    cmd_status, 0, false },
	{ "service", "SUBCOMMAND", "install, uninstall, start, stop or show "
	                            "the Windows service (ovio service --help)",
	    NULL, 0, true },
	{ NULL, NULL, NULL, NULL, 0, false },
};

static void
usage(FILE *f)
{
	const command *k;

	fprintf(f,
	    "usage: ovio [-e URL] [--json] COMMAND [ARGS]\n"
	    "\n"
	    "Moves files to and from oviod (overlapped file I/O as a service)\n"
	    "and shows its status.\n"
	    "\n"
	    "commands:\n");
	for (k = commands; k->name != NULL; k++) {
		fprintf(f, "  %-7s %-13s %s\n", k->name, k->args, k->help);
	}
	fprintf(f,
	    "\n"
	    "options (before or after the command):\n"
	    "  -e, --endpoint URL  service endpoint (default: $OVIO_ENDPOINT,\n"
	    "                      else %s)\n"
	    "  --json              machine-readable output (stat, status, "
	    "put, get,\n"
	    "                      service status)\n"
	    "  --chunk BYTES       transfer chunk size (default 1048576)\n"
	    "  --window N          chunks in flight (default 8)\n"
	    "  -h, --help          this text; ovio COMMAND --help for one "
	    "command\n"
	    "  --version           print the version\n",
	    ovio_default_endpoint());
}

static void
command_usage(FILE *f, const command *k)
{
	fprintf(f, "usage: ovio %s %s\n\n%s.\n\nSee ovio --help for the "
	           "options.\n",
	    k->name, k->args, k->help);
}

int
main(int argc, char **argv)
{
	cli            c;
	char          *args[8];
	const command *k = NULL;
	int            i, n = 0;

	memset(&c, 0, sizeof(c));
	c.endpoint = getenv("OVIO_ENDPOINT");
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			if (cmd_current != NULL) {
				command_usage(stdout, cmd_current);
			} else {
				usage(stdout);
			}
			return (0);
		} else if (strcmp(a, "--version") == 0) {
			printf("ovio %s\n", OVIO_VERSION);
			return (0);
		} else if (strcmp(a, "--json") == 0) {
			c.json = true;
		} else if ((strcmp(a, "-e") == 0 ||
		               strcmp(a, "--endpoint") == 0)) {
			if (v == NULL) {
				fprintf(stderr, "ovio: %s needs a URL\n", a);
				return (EXIT_USAGE);
			}
			c.endpoint = v;
			i++;
		} else if (strcmp(a, "--chunk") == 0 && v != NULL) {
			c.chunk = (size_t) strtoull(v, NULL, 10);
			if (c.chunk == 0 || c.chunk > (16u << 20)) {
				fprintf(stderr, "ovio: --chunk: 1 to 16777216\n");
				return (EXIT_USAGE);
			}
			i++;
		} else if (strcmp(a, "--window") == 0 && v != NULL) {
			c.window = (unsigned) strtoul(v, NULL, 10);
			if (c.window == 0 || c.window > 256) {
				fprintf(stderr, "ovio: --window: 1 to 256\n");
				return (EXIT_USAGE);
			}
			i++;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "ovio: unknown option %s (see ovio --help)\n",
			    a);
			return (EXIT_USAGE);
		} else if (cmd_current == NULL) {
			for (k = commands; k->name != NULL; k++) {
				if (strcmp(k->name, a) == 0) {
					break;
				}
			}
			if (k->name == NULL) {
				fprintf(stderr,
				    "ovio: unknown command %s (see ovio --help)\n",
				    a);
				return (EXIT_USAGE);
			}
			cmd_current = k;
			if (k->rest) {
				/* Its own parser takes the rest. */
				return (cmd_service(&c, argc - i - 1, argv + i + 1));
			}
		} else if (n < 8) {
			args[n++] = argv[i];
		}
	}
	if (cmd_current == NULL) {
		usage(stderr);
		return (EXIT_USAGE);
	}
	if (n != cmd_current->nargs) {
		command_usage(stderr, cmd_current);
		return (EXIT_USAGE);
	}
	c.argc = n;
	c.argv = args;
	return (cmd_current->run(&c));
}
