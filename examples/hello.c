/*
 * hello.c - the smallest libovio program: connect to oviod, write a file,
 * read it back, print it.
 *
 *   cc hello.c $(pkg-config --cflags --libs libovio) -o hello
 *   ./hello [ENDPOINT] [NAME]
 *
 * ENDPOINT defaults to $OVIO_ENDPOINT, else the user's default socket
 * (ovio_default_endpoint); NAME (default hello.txt) is a path beneath the
 * service's root.  Exit status 0, or 1 with one line on stderr.
 */
#include <stdio.h>
#include <string.h>

#include <ovio.h>

static int
fail(const char *what, int err)
{
	fprintf(stderr, "hello: %s: %s\n", what, ovio_strerror(err));
	return (1);
}

int
main(int argc, char **argv)
{
	const char  *url    = argc > 1 ? argv[1] : ovio_default_endpoint();
	const char  *name   = argc > 2 ? argv[2] : "hello.txt";
	const char   text[] = "hello from libovio\n";
	char         back[64];
	ovio_client *c;
	uint64_t     h;
	size_t       n;
	int          rv;

	if ((rv = ovio_connect(&c, url, 3000)) != 0) {
		return (fail(url, rv));
	}
	/* Mode 0: the service's default for a new file. */
	if ((rv = ovio_open(c, name,
	         OVIO_OPEN_READ | OVIO_OPEN_WRITE | OVIO_OPEN_CREATE
	             | OVIO_OPEN_TRUNC,
	         0, &h))
	    != 0) {
		ovio_disconnect(c);
		return (fail(name, rv));
	}
	if ((rv = ovio_pwrite(c, h, text, strlen(text), 0, &n)) != 0
	    || (rv = ovio_pread(c, h, back, sizeof(back) - 1, 0, &n)) != 0) {
		(void) ovio_close(c, h);
		ovio_disconnect(c);
		return (fail(name, rv));
	}
	back[n] = '\0';
	if ((rv = ovio_close(c, h)) != 0) {
		ovio_disconnect(c);
		return (fail(name, rv));
	}
	ovio_disconnect(c);
	printf("%s: %s", name, back);
	return (0);
}
