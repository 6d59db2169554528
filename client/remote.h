/*
 * remote.h - remote paths as the ovio CLI sends them (ovio.c, bench.c).
 */
#ifndef OVIO_REMOTE_H
#define OVIO_REMOTE_H

#include <stddef.h>

/*
 * Writes into out (cap bytes) the remote path in as the service takes it: a
 * leading "/" is the root (it is dropped), "." and empty components go, and
 * ".." takes the component before it away, so "a/../b" is "b".  "" is the
 * root itself.  Only "/" separates, as on the service's POSIX side; the
 * service refuses a ".." between backslashes itself.  Returns 0,
 * OVIO_EOUTSIDE when a ".." with nothing left to take would leave the root
 * (refused here, before anything is sent), or OVIO_ENAMETOOLONG when in
 * does not fit in cap.
 */
int ovio__remote_path(const char *in, char *out, size_t cap);

#endif /* OVIO_REMOTE_H */
