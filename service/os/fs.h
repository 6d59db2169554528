/*
 * fs.h - the service's file-system operations on the served root, behind
 * one interface per OS (os/posix/fs.c, os/windows/fs.c).
 *
 * All calls are synchronous and made by the engine's dispatch; reads and
 * writes go through the port instead.  Each returns 0 or an ovio_err and, on
 * failure, stores the OS's own code in *oserr.
 */
#ifndef OVIO_FS_H
#define OVIO_FS_H

#include <stddef.h>
#include <stdint.h>

#include "ovio.h"
#include "port.h"

/*
 * ovio__fs_check_path refuses what can never name a file under the root:
 * empty, absolute, drive- or UNC-prefixed paths, and any ".." component.
 * Returns 0, OVIO_EINVAL or OVIO_EOUTSIDE.  Portable (fs_path.c).
 */
int ovio__fs_check_path(const char *path);

/*
 * Opens the root directory, creating it if missing (POSIX: mode 0750), and
 * finds out how paths will be resolved beneath it (ovio__fs_resolution).
 * Called once at start-up, before any other call here.
 */
int  ovio__fs_open_root(const char *root, ovio__fd *rootfd, int64_t *oserr);
void ovio__fs_close_root(ovio__fd rootfd);

/*
 * How paths are kept beneath the root, for the start-up log: "openat2
 * RESOLVE_BENEATH" or "component-wise, openat2 unavailable: <why>" on
 * Linux.  Valid after ovio__fs_open_root; a static string.
 */
const char *ovio__fs_resolution(void);

/* The permission bits of a created file when the request gives none. */
#define OVIO__FS_FILE_MODE 0640u

/*
 * An ovio__fs_open flag of the service, never of the wire (validation
 * refuses it there): device nodes (character, block) and sockets may be
 * opened.  Without it they are refused with OVIO_EPERM, before the open
 * when they are seen then, and after it when one was swapped in since.
 * FIFOs are always allowed.
 */
#define OVIO__FS_OPEN_DEVICES 0x80000000u

/*
 * Opens path under the root with OVIO_OPEN_* flags (and
 * OVIO__FS_OPEN_DEVICES).  Resolution never leaves the root: symlinks that
 * point outside are refused with OVIO_EOUTSIDE, a symlink loop is
 * OVIO_ELOOP.  Opening a FIFO does not wait for its peer (for writing with
 * no reader: OVIO_ENXIO).  *kind says what the file is (OVIO__FS_FILE,
 * OVIO__FS_STREAM or OVIO__FS_NOWAIT, below).  mode gives the permission
 * bits of a created file (0: OVIO__FS_FILE_MODE); bits outside 0777 are
 * ignored.  OVIO_OPEN_TRUNC truncates a regular file (and nothing else) only
 * after every check that can refuse the open has passed.
 * OVIO_OPEN_DIRECT opens for unbuffered I/O (O_DIRECT,
 * FILE_FLAG_NO_BUFFERING) and is refused with OVIO_EINVAL on anything but
 * a regular file (or where the file system has no direct I/O);
 * OVIO_OPEN_WRITE_THROUGH opens with O_DSYNC (FILE_FLAG_WRITE_THROUGH).
 */
int ovio__fs_open(ovio__fd rootfd, const char *path, uint32_t flags,
    uint32_t mode, ovio__fd *fd, int *kind, int64_t *oserr);

/*
 * What ovio__fs_open tells of the file it opened.  OVIO__FS_STREAM: no
 * offsets (FIFOs, pipes, sockets, character devices).  OVIO__FS_NOWAIT: a
 * regular file, opened buffered and not write-through, on a local file
 * system known to honour
 * the kernel's non-blocking attempts (Linux: ext2/3/4, xfs, btrfs, tmpfs),
 * whose small reads and writes the port may try at once without blocking
 * (port.h, nowait).  OVIO__FS_FILE: any other file with offsets.
 */
#define OVIO__FS_FILE   0
#define OVIO__FS_STREAM 1
#define OVIO__FS_NOWAIT 2

int ovio__fs_fstat(ovio__fd fd, ovio_stat *st, int64_t *oserr);

/*
 * The alignment, a power of two, that unbuffered I/O on fd (opened
 * OVIO_OPEN_DIRECT) needs of a read or write's offset, length and memory
 * buffer: what the OS reports for the file (Linux statx STATX_DIOALIGN,
 * Windows FileStorageInfo's sector sizes), at least 512, and 4096 when it
 * reports nothing.  Any thread; may block in the file system.
 */
uint32_t ovio__fs_direct_align(ovio__fd fd);
/*
 * Stats path under the root without opening the file itself (a device node
 * or socket is described, type OVIO_TYPE_OTHER, never opened); resolution
 * as ovio__fs_open's.
 */
int ovio__fs_stat(
    ovio__fd rootfd, const char *path, ovio_stat *st, int64_t *oserr);

/*
 * ovio__fs_pread_sync reads up to len bytes at offset (ignored for streams)
 * from fd, waiting for the data, for the service's own I/O (metadata,
 * start-up checks) on a handle that may be bound to the port.  No
 * completion of this read ever reaches the port: on Windows it waits on an
 * event whose low bit is set in OVERLAPPED.hEvent, with GetOverlappedResult.
 * *got is the byte count (0 at end of file).  Any thread; blocks.
 */
int ovio__fs_pread_sync(ovio__fd fd, void *buf, size_t len, uint64_t offset,
    int stream, size_t *got, int64_t *oserr);

/* Closes an OS handle; only the deferred-close path calls this. */
void ovio__fs_close(ovio__fd fd);

/*
 * Temporary files (OVIO_OPEN_TEMP): the atomic replace of a file.
 *
 * ovio__fs_open_temp makes a new, empty file in the folder of path, which
 * is resolved beneath the root exactly as an open's (OVIO_EOUTSIDE,
 * OVIO_ELOOP, OVIO_ENOENT, OVIO_ENOTDIR); path's last component is a name
 * in that folder (ovio__fs_check_target's rules) and is not touched: a
 * folder there is OVIO_EISDIR, anything else is left alone until the
 * commit.  The file has no name (Linux: O_TMPFILE) or a hidden one the
 * service owns (".ovio-tmp-" and random hex; Windows, or a file system
 * without O_TMPFILE).  flags are the open's: WRITE (required), READ, and
 * EXCL, kept for the commit; mode as ovio__fs_open's.  On success *fd is
 * the file (never a stream) and *tp its state, which lives until
 * ovio__fs_discard_temp.  Worker pool; blocks.
 *
 * ovio__fs_commit_temp flushes fd's data to stable storage, then puts the
 * file at path in one atomic step: replacing what is there (a link is
 * replaced, never followed), or, when the open had OVIO_OPEN_EXCL, failing
 * with OVIO_EEXIST if anything is there (checked by the OS in that step).
 * OVIO_EISDIR (a folder at path), OVIO_ENOENT (the folder was removed
 * since), OVIO_ENOSPC, OVIO_EIO.  Called at most once, by the deferred
 * close, after every operation on fd drained; fd stays open.
 *
 * ovio__fs_discard_temp removes the temporary file unless a commit put it
 * in place, and frees t; fd stays open, and is closed after it with
 * ovio__fs_close.  Called exactly once per successful open_temp, by the
 * deferred close (or by the open that could not keep the handle).
 */
typedef struct ovio__fs_temp ovio__fs_temp;

int  ovio__fs_open_temp(ovio__fd rootfd, const char *path, uint32_t flags,
     uint32_t mode, ovio__fd *fd, ovio__fs_temp **tp, int64_t *oserr);
int  ovio__fs_commit_temp(ovio__fs_temp *t, ovio__fd fd, int64_t *oserr);
void ovio__fs_discard_temp(ovio__fs_temp *t, ovio__fd fd);

/*
 * The namespace: list, make folder, remove, rename (os/posix/fs_ns.c,
 * os/windows/fs_ns.c).  Called by the engine's namespace.c on a worker-pool
 * thread, with no lock held; they block.  Paths are resolved as opens'
 * are: nothing outside the root is ever named, listed, made, removed or
 * renamed (a path through a link that leaves the root is OVIO_EOUTSIDE).
 * The target (the last component) of mkdir, remove and rename is never
 * followed: a link there is the thing made over, removed or renamed.
 *
 * ovio__fs_check_target refuses, besides what ovio__fs_check_path refuses,
 * a path whose last component is "." (it would name its parent folder,
 * perhaps the root itself): OVIO_EINVAL.  Portable (fs_ns_path.c).
 */
int ovio__fs_check_target(const char *path);

/*
 * ovio__fs_list calls fn once per entry of the folder path ("." for the
 * root), "." and ".." excepted, in the file system's order, with the
 * entry's name and its own metadata (a link is OVIO_TYPE_LINK, not
 * followed).  fn returning non-zero stops the walk with that status.
 * OVIO_ENOTDIR when path is not a folder.
 */
typedef int (*ovio__fs_list_fn)(
    void *arg, const char *name, const ovio_stat *st);
int ovio__fs_list(ovio__fd rootfd, const char *path, ovio__fs_list_fn fn,
    void *arg, int64_t *oserr);

/*
 * ovio__fs_mkdir makes the folder path with mode's permission bits (0:
 * 0755; Windows ignores them).  With parents, missing folders on the way
 * are made too, and a folder already at path is success.  OVIO_EEXIST,
 * OVIO_ENOENT (no parent), OVIO_ENOTDIR.
 */
int ovio__fs_mkdir(ovio__fd rootfd, const char *path, uint32_t mode,
    int parents, int64_t *oserr);

/* A file, a link, or an empty folder.  OVIO_ENOTEMPTY, OVIO_ENOENT. */
int ovio__fs_remove(ovio__fd rootfd, const char *path, int64_t *oserr);

/*
 * ovio__fs_rename renames from to to, atomically where the OS does.
 * Without replace an existing to is OVIO_EEXIST (on Linux checked by the
 * rename itself, RENAME_NOREPLACE).  OVIO_EXDEV across file systems,
 * OVIO_ENOTEMPTY when replacing a folder that is not empty.
 */
int ovio__fs_rename(ovio__fd rootfd, const char *from, const char *to,
    int replace, int64_t *oserr);

#endif
