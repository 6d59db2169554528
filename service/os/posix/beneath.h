/*
 * beneath.h - path resolution confined to a directory (os/posix/beneath.c,
 * os/posix/fs.c, os/posix/fs_ns.c; used by the os/posix/fs*.c files only).
 */
#ifndef OVIO_BENEATH_H
#define OVIO_BENEATH_H

#include <stdint.h>
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

/*
 * The open(2) flags of OVIO_OPEN_DIRECT (O_DIRECT) and
 * OVIO_OPEN_WRITE_THROUGH (O_DSYNC) in flags.  os/posix/fs.c.
 */
int ovio__fs_io_oflags(uint32_t flags);

/*
 * A target of a namespace operation or a temporary file: its folder,
 * resolved beneath the root, and its last name, acted on with the *at()
 * calls relative to that folder (so a link in the last place is itself
 * made over, removed or renamed, never followed).
 */
typedef struct ovio__fs_target {
	int   dirfd; /* the folder, O_PATH, beneath the root; -1 when closed */
	char *buf;   /* a copy of the path, cut at its last '/' */
	char *name;  /* the last name (inside buf): never "", "." or ".." */
} ovio__fs_target;

/*
 * ovio__fs_target_open checks path (ovio__fs_check_target), splits it and
 * opens its folder as "folder/." with ovio__fs_open_beneath, so a folder
 * that is a link is followed as a component on the way (beneath the root)
 * by openat2 and by the confined walk alike.  Returns 0, or an OVIO_E* code
 * with *oserr set for an OS failure; t is closed on failure.
 * ovio__fs_target_close closes t (again is harmless).  os/posix/fs_ns.c.
 */
int ovio__fs_target_open(
    int rootfd, const char *path, ovio__fs_target *t, int64_t *oserr);
void ovio__fs_target_close(ovio__fs_target *t);

#endif
