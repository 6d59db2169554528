/*
 * ovio_err.h - the one error space of ovio.
 *
 * Every status a client can see, on the wire or from the library, is one of
 * these.  The numbers are stable: they travel in Reply.status and are also
 * the values of the Status enum in proto/ovio.proto (tests/unit_test.c checks
 * that the two agree).  OS error codes (errno, Win32, NTSTATUS) are translated
 * once, where the system call is made, and the original code travels beside
 * the status for diagnostics.
 */
#ifndef OVIO_ERR_H
#define OVIO_ERR_H

/* X(name, number, message) */
#define OVIO_ERR_MAP(X)                                                       \
	X(OK, 0, "success")                                                   \
	X(EINVAL, 1, "invalid argument")                                      \
	X(ENOENT, 2, "no such file or directory")                             \
	X(EEXIST, 3, "file already exists")                                   \
	X(EACCES, 4, "permission denied")                                     \
	X(EBADF, 5, "bad or stale handle")                                    \
	X(ECLOSING, 6, "handle is closing")                                   \
	X(ECANCELED, 7, "operation canceled")                                 \
	X(ENOSPC, 8, "no space left on device")                               \
	X(EIO, 9, "input/output error")                                       \
	X(EISDIR, 10, "is a directory")                                       \
	X(ENOTDIR, 11, "not a directory")                                     \
	X(ENAMETOOLONG, 12, "name too long")                                  \
	X(ENOMEM, 13, "out of memory")                                        \
	X(EBUSY, 14, "limit reached, try again later")                        \
	X(ETOOBIG, 15, "message too large")                                   \
	X(EPROTO, 16, "malformed message")                                    \
	X(ENOTFOUND, 17, "no such operation")                                 \
	X(ECLOSED, 18, "connection closed")                                   \
	X(ETIMEDOUT, 19, "timed out")                                         \
	X(ENOTSUP, 20, "operation not supported")                             \
	X(EUNKNOWN, 21, "unknown OS error")                                   \
	X(EAGAIN, 22, "resource temporarily unavailable")                     \
	X(ECONNREFUSED, 23, "connection refused")                             \
	X(ESHUTDOWN, 24, "service is shutting down")                          \
	X(EADDRINUSE, 25, "address in use")                                   \
	X(ETAGINUSE, 26, "tag already in flight")                             \
	X(EFBIG, 27, "file too large")                                        \
	X(EROFS, 28, "read-only file system")                                 \
	X(EMFILE, 29, "too many open files")                                  \
	X(EOUTSIDE, 30, "path leaves the served root")                        \
	X(ESPIPE, 31, "illegal seek")                                         \
	X(EPERM, 32, "operation not permitted")                               \
	X(EADDRINVAL, 33, "invalid endpoint address")                         \
	X(EREQID, 34, "request id reused for a different request")            \
	X(ENOTEMPTY, 35, "folder not empty")                                  \
	X(EXDEV, 36, "cannot move across file systems")                       \
	X(ENXIO, 37, "no such device or address, or a FIFO without a reader") \
	X(ELOOP, 38, "too many levels of symbolic links")                     \
	X(EAUTH, 39,                                                          \
	    "authentication failed: a TLS certificate missing, refused or "   \
	    "not trusted, or an ipc service run by another user")

#define OVIO_ERR_ENUM(name, num, msg) OVIO_##name = num,
typedef enum ovio_err { OVIO_ERR_MAP(OVIO_ERR_ENUM) OVIO_ERR_MAX } ovio_err;
#undef OVIO_ERR_ENUM

/* ovio_strerror returns a one-line, human description of err; never NULL. */
const char *ovio_strerror(int err);

/* ovio_errname returns the symbolic name ("ENOENT"); "EUNKNOWN" if unknown. */
const char *ovio_errname(int err);

#endif
