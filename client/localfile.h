/*
 * localfile.h - the local side of ovio's transfers, one file per OS:
 * localfile_posix.c and localfile_windows.c, chosen by the Makefile.
 * ovio.c decides what to do; these functions talk to the OS.
 *
 * "Never destroy what the user had": a file received by `get` goes to a
 * temporary name beside its target (".NAME.ovio-XXXXXX") and replaces the
 * target only once it is complete and on disk; on failure only that
 * temporary file is removed (on POSIX also when SIGINT, SIGTERM or SIGHUP
 * stops the CLI: localfile_posix.c).  Special files (devices, FIFOs, named pipes,
 * "-" for standard output) are written in place and are never truncated,
 * replaced or removed.
 *
 * Every function is called from the CLI's main thread and may block on the
 * local file.  Failures return the OS's own error code (errno, or a Win32
 * error), never 0; ovio__local_strerror and ovio__local_kind describe it.
 */
#ifndef OVIO_LOCALFILE_H
#define OVIO_LOCALFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ovio__local ovio__local;

/* What a local error code means, for the exit status. */
#define OVIO__LOCAL_IO       0 /* anything else: disk full, I/O error, ... */
#define OVIO__LOCAL_NOTFOUND 1 /* no such file or folder */
#define OVIO__LOCAL_PERM     2 /* permission denied, read-only */

/*
 * Opens path for reading; "-" is standard input.  *size is the size of a
 * regular file, or -1 for anything read to its end (a pipe, a FIFO, a
 * terminal, a device).  A folder is refused.  Returns 0 or an error code.
 */
int ovio__local_open_read(const char *path, ovio__local **lf, int64_t *size);

/*
 * Prepares path to receive a file; "-" is standard output.  A regular file,
 * or a name that does not exist yet, gets a temporary file beside it (the
 * target is not touched); a special file is opened for writing as it is, not
 * truncated; a folder is refused.  Returns 0 or an error code.
 */
int ovio__local_create(const char *path, ovio__local **lf);

/*
 * Reads up to len bytes, as many as there are before the end: *got < len
 * only at the end of the input.  Returns 0 or an error code.
 */
int ovio__local_read(ovio__local *lf, void *buf, size_t len, size_t *got);

/*
 * Reads up to len bytes at offset, for `put --streams`: only on a regular
 * file of ovio__local_open_read (size >= 0), and then only with this (not
 * mixed with ovio__local_read).  Threads may call it at once for different
 * ranges.  *got < len only at the end of the file.  Returns 0 or an error
 * code.
 */
int ovio__local_pread(
    ovio__local *lf, void *buf, size_t len, uint64_t offset, size_t *got);

/* Writes all len bytes.  Returns 0 or an error code. */
int ovio__local_write(ovio__local *lf, const void *buf, size_t len);

/*
 * Writes all len bytes at offset, for `get --streams`: only on the
 * temporary file of ovio__local_create made for a regular file (never on
 * a special file or an append), and then only with this (not mixed with
 * ovio__local_write).  Threads may call it at once for different ranges.
 * Returns 0 or an error code.
 */
int ovio__local_pwrite(
    ovio__local *lf, const void *buf, size_t len, uint64_t offset);

/* Whether lf is ovio__local_create's temporary file (replaces a target). */
bool ovio__local_is_temporary(ovio__local *lf);

/*
 * Finishes and frees lf.  For ovio__local_create's temporary file: flushed
 * to disk, then renamed over the target (keeping the mode of the file it
 * replaces); if that fails, the temporary file is removed and the target
 * left as it was.  Otherwise it closes what it opened (never the standard
 * streams).  Returns 0 or an error code.
 */
int ovio__local_finish(ovio__local *lf);

/*
 * Gives up and frees lf: removes the temporary file if there is one,
 * closes what it opened, and touches nothing else.
 */
void ovio__local_abort(ovio__local *lf);

/* A one-line description of an error code ("No space left on device"). */
const char *ovio__local_strerror(int code);

/* OVIO__LOCAL_NOTFOUND, OVIO__LOCAL_PERM or OVIO__LOCAL_IO. */
int ovio__local_kind(int code);

/* What a local path is, from ovio__local_type (links followed). */
#define OVIO__LOCAL_NONE  0 /* nothing there */
#define OVIO__LOCAL_FILE  1 /* a regular file */
#define OVIO__LOCAL_DIR   2 /* a folder */
#define OVIO__LOCAL_OTHER 3 /* a FIFO, device, socket, ... */

/*
 * Stores in *type what path is, following symbolic links (as scp does): a
 * missing path (or a dangling link) is OVIO__LOCAL_NONE, not an error.
 * Returns 0 or an error code.
 */
int ovio__local_type(const char *path, int *type);

/* Whether c separates a local path's components: '/', and '\\' on Windows. */
bool ovio__local_is_sep(char c);

/* Makes the folder path; one already there is fine.  0 or an error code. */
int ovio__local_mkdir(const char *path);

/*
 * The names in folder dir, without "." and "..", sorted bytewise, in a
 * malloc'd array of *n malloc'd strings (ovio__local_names_free frees
 * them).  Returns 0 or an error code (then nothing is left to free).
 */
int  ovio__local_names(const char *dir, char ***names, size_t *n);
void ovio__local_names_free(char **names, size_t n);

/*
 * Opens path to be written in place from its end (get --continue): a
 * regular file is kept and *size is its size; a missing one is created
 * empty (*size 0).  Anything but a regular file is refused.  Nothing is
 * atomic: the bytes are written straight into path.  Returns 0 or an error
 * code.
 */
int ovio__local_open_append(const char *path, ovio__local **lf, uint64_t *size);

/*
 * Moves a reader n bytes on: a regular file by seeking, a stream by
 * reading and dropping.  *skipped < n only when the input ended first.
 * Returns 0 or an error code.  The one function of this header written
 * once for every system (client/localfile.c), over the two below.
 */
int ovio__local_skip(ovio__local *lf, uint64_t n, uint64_t *skipped);

/* Whether lf is a file on a disk (seekable), not a pipe or a console. */
bool ovio__local_seekable(ovio__local *lf);

/* Moves a seekable reader n bytes on.  Returns 0 or an error code. */
int ovio__local_seek(ovio__local *lf, uint64_t n);

/*
 * Makes ovio__local_finish of ovio__local_create's temporary file refuse
 * to replace a target that exists by then (get --no-clobber): the
 * temporary file is removed and finish returns the "file exists" code.
 */
void ovio__local_noreplace(ovio__local *lf);

/* Whether code is the "file exists" error (ovio__local_noreplace). */
int ovio__local_is_exists(int code);

#endif
