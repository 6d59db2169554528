/*
 * os/windows/fs_impl.h - what os/windows/fs.c (opens, stats) and
 * os/windows/fs_ns.c (the namespace) share: one way to turn a request path
 * into a full path under the root and to check that what it names stays
 * there (see fs.c's header comment).  Internal to os/windows/.
 */
#ifndef OVIO_WINFS_IMPL_H
#define OVIO_WINFS_IMPL_H

#include <windows.h>

#include <stdint.h>

#include "fs.h"

#define FS_PATH_MAX 32768 /* WCHARs, the NT limit */

/*
 * A request's full path, in one allocation of four FS_PATH_MAX areas: the
 * root's final path, the full path, scratch for final-path checks, and the
 * widened request path.  parent is the length of the full path's parent
 * folder (0: the parent is the root itself).
 */
typedef struct ovio__winfs_path {
	WCHAR *root;
	WCHAR *full;
	WCHAR *scratch;
	size_t parent;
} ovio__winfs_path;

/* Stores e in *oserr and returns its ovio status (never OVIO_OK). */
int ovio__winfs_fail(int64_t *oserr, DWORD e);

/* UTF-8 -> UTF-16; returns 0, OVIO_EINVAL or OVIO_ENAMETOOLONG. */
int ovio__winfs_widen(const char *s, WCHAR *out, int cap);

/*
 * Builds p from rel (checked by ovio__fs_check_path; "." and empty
 * components dropped; a ':' refused with OVIO_EINVAL).  0, or a status
 * (then nothing is left to free).
 */
int ovio__winfs_path_make(
    ovio__fd rootfd, const char *rel, ovio__winfs_path *p, int64_t *oserr);
void ovio__winfs_path_free(ovio__winfs_path *p);

/* Opens p's parent folder and checks it lies under the root. */
int ovio__winfs_check_parent(ovio__winfs_path *p, int64_t *oserr);

/* Checks that h (an open file or folder) lies under the root. */
int ovio__winfs_check_under(
    HANDLE h, const WCHAR *root, WCHAR *scratch, int64_t *oserr);

/*
 * Refuses a reparse point (OVIO_EOUTSIDE), a folder unless dir_ok
 * (OVIO_EISDIR), and anything whose final path is outside the root.
 */
int ovio__winfs_check_opened(
    HANDLE f, ovio__winfs_path *p, int dir_ok, int64_t *oserr);

/* A FILETIME as nanoseconds since 1970. */
int64_t ovio__winfs_filetime_ns(FILETIME ft);

/*
 * The CreateFile flags of OVIO_OPEN_DIRECT (FILE_FLAG_NO_BUFFERING) and
 * OVIO_OPEN_WRITE_THROUGH (FILE_FLAG_WRITE_THROUGH) in flags.
 */
DWORD ovio__winfs_io_flags(uint32_t flags);

#endif
