/*
 * hold_client.c - a client for tests that kill it with operations pending.
 *
 *   hold_client URL reads N PATH...   open each PATH for reading, submit N
 *                                     reads spread over them
 *   hold_client URL rw PATH BYTE      open PATH read-write, submit a 64 KiB
 *                                     write of BYTE at 0 and a read at 64 KiB
 *
 * Prints "ready" once everything is submitted, then waits to be killed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ovio.h"

#define MAXH 64

static void
on_done(void *arg, const ovio_result *r)
{
	(void) arg;
	(void) r;
}

static int
fail(const char *what, int rv)
{
	fprintf(stderr, "hold_client: %s: %s\n", what, ovio_strerror(rv));
	return (1);
}

int
main(int argc, char **argv)
{
	static char  data[65536];
	ovio_client *c;
	uint64_t     h[MAXH];
	int          i, n, nh, rv;

	if (argc < 4) {
		fprintf(stderr, "usage: hold_client URL reads N PATH... | "
		                "hold_client URL rw PATH BYTE\n");
		return (2);
	}
	if ((rv = ovio_connect(&c, argv[1], 5000)) != 0) {
		return (fail("connect", rv));
	}
	if (strcmp(argv[2], "reads") == 0 && argc >= 5) {
		n  = atoi(argv[3]);
		nh = argc - 4 > MAXH ? MAXH : argc - 4;
		for (i = 0; i < nh; i++) {
			if ((rv = ovio_open(
			         c, argv[4 + i], OVIO_OPEN_READ, 0, &h[i]))
			    != 0) {
				return (fail(argv[4 + i], rv));
			}
		}
		for (i = 0; i < n; i++) {
			ovio_request rq = { .op = OVIO_OP_READ,
				.tag            = (uint64_t) i + 1,
				.handle         = h[i % nh],
				.length         = 64 };
			if ((rv = ovio_submit(c, &rq, on_done, NULL)) != 0) {
				return (fail("submit", rv));
			}
		}
	} else if (strcmp(argv[2], "rw") == 0 && argc == 5) {
		if ((rv = ovio_open(c, argv[3],
		         OVIO_OPEN_READ | OVIO_OPEN_WRITE, 0, &h[0]))
		    != 0) {
			return (fail(argv[3], rv));
		}
		memset(data, argv[4][0], sizeof(data));
		ovio_request w = { .op = OVIO_OP_WRITE,
			.tag           = 1,
			.handle        = h[0],
			.data          = data,
			.length        = sizeof(data) };
		ovio_request r = { .op = OVIO_OP_READ,
			.tag           = 2,
			.handle        = h[0],
			.offset        = sizeof(data),
			.length        = sizeof(data) };
		if ((rv = ovio_submit(c, &w, on_done, NULL)) != 0
		    || (rv = ovio_submit(c, &r, on_done, NULL)) != 0) {
			return (fail("submit", rv));
		}
	} else {
		fprintf(stderr, "hold_client: bad arguments\n");
		return (2);
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		pause();
	}
}
