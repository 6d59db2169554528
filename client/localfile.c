/*
 * localfile.c - what client/localfile.h asks of every system alike, over
 * the calls that localfile_posix.c and localfile_windows.c provide.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "localfile.h"

int
ovio__local_skip(ovio__local *lf, uint64_t n, uint64_t *skipped)
{
	char   buf[65536];
	size_t got;
	int    rv;

	*skipped = 0;
	if (ovio__local_seekable(lf)) {
		if ((rv = ovio__local_seek(lf, n)) != 0) {
			return (rv);
		}
		*skipped = n;
		return (0);
	}
	while (*skipped < n) {
		size_t want = n - *skipped < sizeof(buf)
		                  ? (size_t) (n - *skipped)
		                  : sizeof(buf);
		if ((rv = ovio__local_read(lf, buf, want, &got)) != 0) {
			return (rv);
		}
		*skipped += got;
		if (got < want) {
			break;
		}
	}
	return (0);
}
