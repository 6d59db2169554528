/*
 * hold_client.c - a client for tests that must be killed with operations
 * pending: connects to URL, opens FIFO (reads on it stay pending while
 * nobody writes) and FILE, submits N reads on the FIFO, prints "ready" and
 * waits to be killed.
 *
 *   hold_client URL FIFO FILE N
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ovio.h"

static void
on_done(void *arg, const ovio_result *r)
{
	(void) arg;
	(void) r;
}

int
main(int argc, char **argv)
{
	ovio_client *c;
	uint64_t     h1, h2;
	int          i, n, rv;

	if (argc != 5) {
		fprintf(stderr, "usage: hold_client URL FIFO FILE N\n");
		return (2);
	}
	n = atoi(argv[4]);
	if ((rv = ovio_connect(&c, argv[1], 5000)) != 0 ||
	    (rv = ovio_open(c, argv[2], OVIO_OPEN_READ, 0, &h1)) != 0 ||
	    (rv = ovio_open(c, argv[3], OVIO_OPEN_READ | OVIO_OPEN_WRITE, 0,
	         &h2)) != 0) {
		fprintf(stderr, "hold_client: %s\n", ovio_strerror(rv));
		return (1);
	}
	for (i = 0; i < n; i++) {
		ovio_request rq = { .op = OVIO_OP_READ, .tag = (uint64_t) i + 1,
			.handle = h1, .length = 64 };
		if ((rv = ovio_submit(c, &rq, on_done, NULL)) != 0) {
			fprintf(stderr, "hold_client: %s\n", ovio_strerror(rv));
			return (1);
		}
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		pause();
	}
}
