/*
 * oviod.c - the portable body of oviod: options, start, wait, stop.
 * The host (host_posix.c, host_windows.c) owns main() and calls
 * ovio__oviod_main.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>

#include "engine.h"
#include "host.h"

#define MAX_LISTEN 16

static const char oviod_usage[] =
    "usage: oviod [options]\n"
    "\n"
    "Serves files under a root folder to ovio clients over nng, with\n"
    "overlapped I/O on one completion port.  Runs in the foreground; SIGTERM\n"
    "or SIGINT (Ctrl-C, or a service stop on Windows) stops it gracefully:\n"
    "cancel, drain, close, exit 0.\n"
    "\n"
    "options:\n"
    "  --root DIR          folder to serve (default: $OVIO_ROOT, else\n"
    "                      $XDG_DATA_HOME/ovio, else ~/.local/share/ovio)\n"
    "  --listen URL        endpoint, repeatable: ipc://PATH, tcp://HOST:PORT\n"
    "                      (default: $OVIO_ENDPOINT, else %s)\n"
    "  --backend NAME      Linux: uring or threads (default: uring if it\n"
    "                      works here, else threads; OVIO_DISABLE_URING=1\n"
    "                      rules uring out); Windows: iocp\n"
    "  --threads N         worker threads of the threads backend (default 8)\n"
    "  --max-handles N     open handles per client (default 1024)\n"
    "  --max-ops N         operations in flight per client (default 4096)\n"
    "  --max-bytes N       bytes in flight per client (default 1 GiB)\n"
    "  --max-io N          largest single read or write (default 16 MiB)\n"
    "  --drain-timeout MS  how long stop waits for I/O to drain (default 10000)\n"
    "  --help              this text\n"
    "  --version           print the version\n";

static int
opt_number(const char *name, const char *v, uint64_t *out)
{
	char              *end;
	unsigned long long n;

	if (v == NULL) {
		fprintf(stderr, "oviod: %s needs a value (see oviod --help)\n",
		    name);
		return (-1);
	}
	n = strtoull(v, &end, 10);
	if (end == v || *end != '\0' || n == 0) {
		fprintf(stderr, "oviod: %s: not a positive number: %s\n", name,
		    v);
		return (-1);
	}
	*out = n;
	return (0);
}

int
ovio__oviod_main(int argc, char **argv)
{
	eng_options o;
	const char *listen[MAX_LISTEN + 1];
	size_t      nlisten  = 0;
	uint64_t    n, drain = 10000;
	int         i, rv;

	memset(&o, 0, sizeof(o));
	o.limits.handles_per_session = 1024;
	o.limits.ops_per_session     = 4096;
	o.limits.bytes_per_session   = 1ull << 30;
	o.limits.max_io              = 16u << 20;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			printf(oviod_usage, ovio_default_endpoint());
			return (0);
		} else if (strcmp(a, "--version") == 0) {
			printf("oviod %s (nng %s)\n", OVIO_VERSION,
			    nng_version());
			return (0);
		} else if (strcmp(a, "--root") == 0 && v != NULL) {
			o.root = v;
			i++;
		} else if (strcmp(a, "--listen") == 0 && v != NULL) {
			if (nlisten == MAX_LISTEN) {
				fprintf(stderr, "oviod: too many --listen\n");
				return (2);
			}
			listen[nlisten++] = v;
			i++;
		} else if (strcmp(a, "--backend") == 0 && v != NULL) {
			o.backend = v;
			i++;
		} else if (strcmp(a, "--threads") == 0) {
			if (opt_number(a, v, &n) != 0) {
				return (2);
			}
			o.threads = (unsigned) n;
			i++;
		} else if (strcmp(a, "--max-handles") == 0) {
			if (opt_number(a, v, &n) != 0) {
				return (2);
			}
			o.limits.handles_per_session = (unsigned) n;
			i++;
		} else if (strcmp(a, "--max-ops") == 0) {
			if (opt_number(a, v, &n) != 0) {
				return (2);
			}
			o.limits.ops_per_session = (unsigned) n;
			i++;
		} else if (strcmp(a, "--max-bytes") == 0) {
			if (opt_number(a, v, &n) != 0) {
				return (2);
			}
			o.limits.bytes_per_session = n;
			i++;
		} else if (strcmp(a, "--max-io") == 0) {
			if (opt_number(a, v, &n) != 0) {
				return (2);
			}
			if (n > (1u << 30)) {
				fprintf(stderr, "oviod: --max-io: at most 1 GiB\n");
				return (2);
			}
			o.limits.max_io = (uint32_t) n;
			i++;
		} else if (strcmp(a, "--drain-timeout") == 0) {
			if (opt_number(a, v, &drain) != 0) {
				return (2);
			}
			i++;
		} else if (a[0] == '-' && v == NULL &&
		    (strcmp(a, "--root") == 0 || strcmp(a, "--listen") == 0 ||
		        strcmp(a, "--backend") == 0)) {
			fprintf(stderr,
			    "oviod: %s needs a value (see oviod --help)\n", a);
			return (2);
		} else {
			fprintf(stderr,
			    "oviod: unknown argument: %s (see oviod --help)\n", a);
			return (2);
		}
	}
	if (o.backend != NULL && strcmp(o.backend, "uring") != 0 &&
	    strcmp(o.backend, "threads") != 0 && strcmp(o.backend, "iocp") != 0) {
		fprintf(stderr, "oviod: --backend: unknown backend %s\n",
		    o.backend);
		return (2);
	}
	if (nlisten == 0) {
		listen[nlisten++] = ovio_default_endpoint();
	}
	listen[nlisten] = NULL;
	o.listen        = listen;
	if (o.root == NULL) {
		o.root = ovio__host_default_root();
	}
	/* A request is a header plus at most one write's payload. */
	o.limits.max_request = (size_t) o.limits.max_io + 64 * 1024;

	ovio__log("oviod %s starting (pid %ld)", OVIO_VERSION,
	    (long) ovio__host_pid());
	if ((rv = ovio__engine_start(&o)) != 0) {
		ovio__log("start failed: %s", ovio_strerror(rv));
		return (1);
	}
	ovio__host_ready();
	ovio__host_wait_stop();
	ovio__engine_stop((int) drain);
	ovio__host_fini();
	return (0);
}
