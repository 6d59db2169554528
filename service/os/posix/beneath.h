/*
 * beneath.h - path resolution confined to a directory (os/posix/beneath.c,
 * os/posix/fs.c; used by os/posix/fs.c and os/posix/fs_ns.c only).
 */
#ifndef OVIO_BENEATH_H
#define OVIO_BENEATH_H

#include <sys/types.h>

/*
 * ovio__beneath_open opens path relative to dirfd as openat(dirfd, path,
 * oflags, mode) would, except that resolution never leaves dirfd: it walks
 * the path one component at a time, each opened with O_NOFOLLOW relative
 * to the directory opened before it, so no component is ever looked up
 * through a link the kernel followed on its own.  Symbolic links are
 * followed by hand (readlinkat), as openat2's RESOLVE_BENEATH follows them:
 *  - an absolute target, or a ".." that would climb above dirfd, fails
 *    with EXDEV (nothing outside is opened);
 *  - more than 40 links in one resolution fail with ELOOP;
 *  - a ".." in a target goes back to the directory held before, not to
 *    whatever ".." names now.
 * oflags may hold O_PATH (the final link is then followed too).  Returns
 * the descriptor, or -1 with errno set.  Any thread; blocks like openat.
 */
int ovio__beneath_open(int dirfd, const char *path, int oflags, mode_t mode);

/*
 * ovio__fs_open_beneath opens path beneath dirfd the way the service
 * resolves every request's path: openat2 with RESOLVE_BENEATH where the
 * start-up probe found it working, else ovio__beneath_open.  Never a plain
 * openat of the whole path.  Returns as openat.  os/posix/fs.c.
 */
int ovio__fs_open_beneath(int dirfd, const char *path, int oflags, mode_t mode);

#endif
