/* error.c - the one error space: names, messages and errno translation. */
#include <errno.h>

#include <nng/nng.h>

#include "ovio.h"
#include "error_impl.h"

const char *
ovio_strerror(int err)
{
	switch (err) {
#define OVIO_ERR_STR(name, num, msg) \
	case num:                    \
		return (msg);
		OVIO_ERR_MAP(OVIO_ERR_STR)
#undef OVIO_ERR_STR
	}
	return ("unknown error");
}

const char *
ovio_errname(int err)
{
	switch (err) {
#define OVIO_ERR_NAME(name, num, msg) \
	case num:                     \
		return (#name);
		OVIO_ERR_MAP(OVIO_ERR_NAME)
#undef OVIO_ERR_NAME
	}
	return ("EUNKNOWN");
}

int
ovio__err_from_errno(int e)
{
	switch (e) {
	case 0:
		return (OVIO_OK);
	case EINVAL:
		return (OVIO_EINVAL);
	case ENOENT:
		return (OVIO_ENOENT);
	case EEXIST:
		return (OVIO_EEXIST);
	case EACCES:
		return (OVIO_EACCES);
	case EPERM:
		return (OVIO_EPERM);
	case EBADF:
		return (OVIO_EBADF);
	case ECANCELED:
	case EINTR:
		return (OVIO_ECANCELED);
	case ENOSPC:
#ifdef EDQUOT
	case EDQUOT:
#endif
		return (OVIO_ENOSPC);
	case EIO:
		return (OVIO_EIO);
	case EISDIR:
		return (OVIO_EISDIR);
	case ENOTDIR:
		return (OVIO_ENOTDIR);
	case ENAMETOOLONG:
		return (OVIO_ENAMETOOLONG);
	case ENOMEM:
		return (OVIO_ENOMEM);
	case EBUSY:
		return (OVIO_EBUSY);
	case ETIMEDOUT:
		return (OVIO_ETIMEDOUT);
	case ENOTSUP:
		return (OVIO_ENOTSUP);
	case EAGAIN:
		return (OVIO_EAGAIN);
	case ECONNREFUSED:
		return (OVIO_ECONNREFUSED);
	case EADDRINUSE:
		return (OVIO_EADDRINUSE);
	case EFBIG:
		return (OVIO_EFBIG);
	case EROFS:
		return (OVIO_EROFS);
	case EMFILE:
	case ENFILE:
		return (OVIO_EMFILE);
	case ESPIPE:
		return (OVIO_ESPIPE);
	case ENOTEMPTY:
		return (OVIO_ENOTEMPTY);
	/*
	 * openat2's RESOLVE_BENEATH says EXDEV for a path that leaves the
	 * root.  A rename across file systems also says EXDEV: os/posix/fs_ns.c
	 * translates that one itself, to OVIO_EXDEV.
	 */
	case EXDEV:
		/* openat2's RESOLVE_BENEATH: it would leave the root. */
		return (OVIO_EOUTSIDE);
	case ELOOP:
		return (OVIO_ELOOP);
	case ENXIO:
		return (OVIO_ENXIO);
	}
	return (OVIO_EUNKNOWN);
}

int
ovio__err_from_nng(int rv)
{
	switch (rv) {
	case 0:
		return (OVIO_OK);
	case NNG_ENOMEM:
		return (OVIO_ENOMEM);
	case NNG_EINVAL:
		return (OVIO_EINVAL);
	case NNG_ETIMEDOUT:
		return (OVIO_ETIMEDOUT);
	case NNG_ECONNREFUSED:
		return (OVIO_ECONNREFUSED);
	case NNG_ECLOSED:
	case NNG_ECONNRESET:
	case NNG_ECONNSHUT:
	case NNG_ECONNABORTED:
		return (OVIO_ECLOSED);
	case NNG_ECANCELED:
		return (OVIO_ECANCELED);
	case NNG_EADDRINUSE:
		return (OVIO_EADDRINUSE);
	case NNG_EADDRINVAL:
	case NNG_ENOTSUP:
		return (OVIO_EADDRINVAL);
	case NNG_EMSGSIZE:
		return (OVIO_ETOOBIG);
	case NNG_EPERM:
		return (OVIO_EPERM);
	case NNG_EAGAIN:
		return (OVIO_EAGAIN);
	case NNG_EBUSY:
		return (OVIO_EBUSY);
	case NNG_EPEERAUTH:
	case NNG_ECRYPTO:
		return (OVIO_EAUTH);
	case NNG_EPROTO: /* the peer does not speak nng's protocol */
		return (OVIO_EPROTO);
	case NNG_EUNREACHABLE:
		return (OVIO_ECONNREFUSED);
	}
	return (OVIO_EUNKNOWN);
}
