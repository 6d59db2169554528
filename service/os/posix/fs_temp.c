/*
 * os/posix/fs_temp.c - temporary files for the atomic replace of a file
 * (OVIO_OPEN_TEMP), POSIX; see fs.h.
 *
 * The folder of the target is resolved beneath the root as an open's path
 * (ovio__fs_target_open: openat2 RESOLVE_BENEATH, or the confined walk)
 * and held, as an O_PATH descriptor, until the commit or the discard.  The
 * file is made in it with O_TMPFILE: it has no name, so nothing is left
 * behind whatever ends the service, the client or the connection.  The
 * commit gives it one: linkat() straight to the target for a no-clobber
 * commit (EEXIST when something is there, checked by the kernel), else
 * linkat() to a hidden name and renameat() over the target.
 *
 * A file system without O_TMPFILE (EOPNOTSUPP, or EISDIR from kernels that
 * do not know the flag) gets a named hidden file, ".ovio-tmp-" and 16 hex
 * digits, made with O_EXCL and removed by the discard; the commit renames
 * it (or links it, for no-clobber).  OVIO_TEST_NO_TMPFILE set in the
 * environment takes this path on any file system (a test seam).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beneath.h"
#include "error_impl.h"
#include "fs.h"

#define TEMP_PREFIX   ".ovio-tmp-"
#define TEMP_NAME_MAX 32 /* the prefix, 16 hex digits, NUL */
#define TEMP_TRIES    16 /* names tried before giving up (EEXIST) */

struct ovio__fs_temp {
	ovio__fs_target at;   /* the target: its folder and its name */
	bool            excl; /* no-clobber commit */
	bool named; /* the file has the name tmpname, until committed */
	char tmpname[TEMP_NAME_MAX];
};

static int
temp_fail(int64_t *oserr, int e)
{
	*oserr = e;
	return (ovio__err_from_errno(e));
}

static void
temp_free(ovio__fs_temp *t)
{
	ovio__fs_target_close(&t->at);
	free(t);
}

/* A hidden name no one is likely to hold: the prefix and 16 hex digits. */
static void
temp_make_name(char *buf)
{
	uint64_t r = 0;
	int      f;

	if ((f = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) >= 0) {
		if (read(f, &r, sizeof(r)) != (ssize_t) sizeof(r)) {
			r = 0;
		}
		close(f);
	}
	/* Without /dev/urandom: different enough for O_EXCL to sort out. */
	r ^= ((uint64_t) getpid() << 32) ^ (uint64_t) (uintptr_t) buf
	     ^ (uint64_t) random();
	snprintf(
	    buf, TEMP_NAME_MAX, TEMP_PREFIX "%016llx", (unsigned long long) r);
}

/* A named hidden file in t's folder, made anew (O_EXCL). */
static int
temp_open_named(ovio__fs_temp *t, int oflags, mode_t mode)
{
	int f = -1, i;

	for (i = 0; i < TEMP_TRIES; i++) {
		temp_make_name(t->tmpname);
		f = openat(t->at.dirfd, t->tmpname,
		    oflags | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
		if (f >= 0 || errno != EEXIST) {
			break;
		}
	}
	t->named = f >= 0;
	return (f);
}

int
ovio__fs_open_temp(ovio__fd rootfd, const char *path, uint32_t flags,
    uint32_t mode, ovio__fd *fd, ovio__fs_temp **tp, int64_t *oserr)
{
	ovio__fs_temp *t;
	struct stat    st;
	const char    *v;
	int            oflags, f = -1, rv;

	if (!(flags & OVIO_OPEN_WRITE)) {
		return (OVIO_EINVAL);
	}
	oflags = O_CLOEXEC | ((flags & OVIO_OPEN_READ) ? O_RDWR : O_WRONLY)
	         | ovio__fs_io_oflags(flags);
	mode &= 0777;
	if (mode == 0) {
		mode = OVIO__FS_FILE_MODE;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		return (OVIO_ENOMEM);
	}
	t->at.dirfd = -1;
	t->excl     = (flags & OVIO_OPEN_EXCL) != 0;
	if ((rv = ovio__fs_target_open((int) rootfd, path, &t->at, oserr))
	    != 0) {
		goto fail;
	}
	/* A folder at path can never be replaced by a file: say so now. */
	if (fstatat(t->at.dirfd, t->at.name, &st, AT_SYMLINK_NOFOLLOW) == 0
	    && S_ISDIR(st.st_mode)) {
		rv = temp_fail(oserr, EISDIR);
		goto fail;
	}
	v = getenv("OVIO_TEST_NO_TMPFILE");
	if (v == NULL || v[0] == '\0' || strcmp(v, "0") == 0) {
		f = openat(t->at.dirfd, ".", oflags | O_TMPFILE, (mode_t) mode);
	} else {
		errno = EOPNOTSUPP;
	}
	if (f < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
		/* No O_TMPFILE here: a hidden name, removed by the discard. */
		f = temp_open_named(t, oflags, (mode_t) mode);
	}
	if (f < 0) {
		rv = temp_fail(oserr, errno);
		goto fail;
	}
	*fd = f;
	*tp = t;
	return (0);

fail:
	temp_free(t);
	return (rv);
}

/*
 * Gives the nameless file fd the name name in t's folder (EEXIST when it
 * is taken).  linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH; the
 * /proc/self/fd link works for anyone, /proc being mounted.
 */
static int
temp_link_fd(ovio__fs_temp *t, int fd, const char *name)
{
	char proc[64];

	if (linkat(fd, "", t->at.dirfd, name, AT_EMPTY_PATH) == 0) {
		return (0);
	}
	if (errno != ENOENT && errno != EPERM && errno != EINVAL) {
		return (-1);
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return (linkat(AT_FDCWD, proc, t->at.dirfd, name, AT_SYMLINK_FOLLOW));
}

/*
 * Makes the new name durable too: fsync of the folder.  Best effort: the
 * file is in place by now (readers see it), so a failure here is not
 * reported as a failed commit.
 */
static void
temp_sync_dir(ovio__fs_temp *t)
{
	int d;

	if ((d = openat(t->at.dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC))
	    >= 0) {
		(void) fsync(d);
		close(d);
	}
}

int
ovio__fs_commit_temp(ovio__fs_temp *t, ovio__fd fd, int64_t *oserr)
{
	char hidden[TEMP_NAME_MAX];
	int  e, i, r = -1;

	if (fsync((int) fd) != 0) {
		return (temp_fail(oserr, errno));
	}
	if (t->named) {
		if (t->excl) {
			/* The hidden name stays: the discard removes it. */
			if (linkat(t->at.dirfd, t->tmpname, t->at.dirfd,
			        t->at.name, 0)
			    != 0) {
				return (temp_fail(oserr, errno));
			}
		} else {
			if (renameat(t->at.dirfd, t->tmpname, t->at.dirfd,
			        t->at.name)
			    != 0) {
				return (temp_fail(oserr, errno));
			}
			t->named = false; /* it is the target now */
		}
	} else if (t->excl) {
		if (temp_link_fd(t, (int) fd, t->at.name) != 0) {
			return (temp_fail(oserr, errno));
		}
	} else {
		/* A hidden name first, then one atomic rename over path. */
		for (i = 0; i < TEMP_TRIES; i++) {
			temp_make_name(hidden);
			if ((r = temp_link_fd(t, (int) fd, hidden)) == 0
			    || errno != EEXIST) {
				break;
			}
		}
		if (r != 0) {
			return (temp_fail(oserr, errno));
		}
		if (renameat(t->at.dirfd, hidden, t->at.dirfd, t->at.name)
		    != 0) {
			e = errno;
			(void) unlinkat(t->at.dirfd, hidden, 0);
			return (temp_fail(oserr, e));
		}
	}
	temp_sync_dir(t);
	return (0);
}

void
ovio__fs_discard_temp(ovio__fs_temp *t, ovio__fd fd)
{
	(void) fd; /* a nameless file goes with its last descriptor */
	if (t->named) {
		(void) unlinkat(t->at.dirfd, t->tmpname, 0);
	}
	temp_free(t);
}
