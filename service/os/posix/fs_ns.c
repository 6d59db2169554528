/*
 * os/posix/fs_ns.c - the namespace (list, mkdir, remove, rename) under the
 * served root, POSIX; see fs.h.
 *
 * Confinement is the opens' (os/posix/fs.c): a folder is resolved beneath
 * the root with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), so no
 * "..", absolute link or link leading out of the root is ever followed.
 * For mkdir, remove and rename it is the target's PARENT folder that is
 * resolved so; the target itself, a single name that is neither "." nor
 * "..", is then acted on with the *at() call (mkdirat, unlinkat, renameat2)
 * relative to that folder, so a link in the last place is made over,
 * removed or renamed itself, never followed.
 *
 * Without openat2 (a kernel before 5.6, or a sandbox refusing it) the
 * folder is resolved by the confined walk (os/posix/beneath.c), as every
 * other path is.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/openat2.h>
#endif

#include "fs.h"
#include "beneath.h"
#include "error_impl.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

static int
ns_fail(int64_t *oserr, int e)
{
	*oserr = e;
	return (ovio__err_from_errno(e));
}

/*
 * Opens path (a folder, or "." for the root itself) beneath the root.
 * Returns the descriptor, or -1 with errno set (EXDEV or ELOOP for a path
 * that leaves the root), with openat2 or the confined walk.
 */
static int
ns_open_beneath(int rootfd, const char *path, int oflags)
{
	/* As every other request's path: openat2 or the confined walk. */
	return (ovio__fs_open_beneath(rootfd, path, oflags | O_CLOEXEC, 0));
}

void
ovio__fs_target_close(ovio__fs_target *t)
{
	if (t->dirfd >= 0) {
		close(t->dirfd);
	}
	free(t->buf);
	t->dirfd = -1;
	t->buf   = NULL;
	t->name  = NULL;
}

int
ovio__fs_target_open(
    int rootfd, const char *path, ovio__fs_target *t, int64_t *oserr)
{
	const char *parent = ".";
	char       *slash, *dir;
	size_t      n;
	int         rv;

	t->dirfd = -1;
	t->buf   = NULL;
	t->name  = NULL;
	if ((rv = ovio__fs_check_target(path)) != 0) {
		return (rv);
	}
	if ((t->buf = strdup(path)) == NULL) {
		return (OVIO_ENOMEM);
	}
	n = strlen(t->buf);
	while (n > 0 && t->buf[n - 1] == '/') {
		t->buf[--n] = '\0';
	}
	if ((slash = strrchr(t->buf, '/')) != NULL) {
		*slash  = '\0';
		t->name = slash + 1;
		parent  = t->buf; /* not empty: the path is not absolute */
	} else {
		t->name = t->buf;
	}
	/* ovio__fs_check_target refused "." and ".."; '/' cannot be left. */
	if (t->name[0] == '\0' || strcmp(t->name, ".") == 0
	    || strcmp(t->name, "..") == 0) {
		ovio__fs_target_close(t);
		return (OVIO_EINVAL);
	}
	/*
	 * "folder/.": the folder is then a component on the way, which the
	 * confined walk follows (beneath the root) when it is a link; as the
	 * last component it would be opened as the link itself (ENOTDIR).
	 * O_PATH: a folder we may search but not read still works.
	 */
	n = strlen(parent);
	if ((dir = malloc(n + 3)) == NULL) {
		ovio__fs_target_close(t);
		return (OVIO_ENOMEM);
	}
	memcpy(dir, parent, n);
	memcpy(dir + n, "/.", 3);
	t->dirfd = ns_open_beneath(rootfd, dir, O_PATH | O_DIRECTORY);
	rv       = errno;
	free(dir);
	if (t->dirfd < 0) {
		ovio__fs_target_close(t);
		return (ns_fail(oserr, rv));
	}
	return (0);
}

static void
ns_fill_stat(const struct stat *s, ovio_stat *st)
{
	st->size = (uint64_t) s->st_size;
	st->mode = (uint32_t) (s->st_mode & 07777);
	st->type = S_ISREG(s->st_mode)    ? OVIO_TYPE_FILE
	           : S_ISDIR(s->st_mode)  ? OVIO_TYPE_DIR
	           : S_ISFIFO(s->st_mode) ? OVIO_TYPE_FIFO
	           : S_ISLNK(s->st_mode)  ? OVIO_TYPE_LINK
	                                  : OVIO_TYPE_OTHER;
	st->mtime_ns
	    = (int64_t) s->st_mtim.tv_sec * 1000000000LL + s->st_mtim.tv_nsec;
}

int
ovio__fs_list(ovio__fd rootfd, const char *path, ovio__fs_list_fn fn, void *arg,
    int64_t *oserr)
{
	DIR           *dir;
	struct dirent *de;
	struct stat    s;
	ovio_stat      st;
	int            fd, rv = 0;

	if ((rv = ovio__fs_check_path(path)) != 0) {
		return (rv);
	}
	if ((fd = ns_open_beneath((int) rootfd, path, O_RDONLY | O_DIRECTORY))
	    < 0) {
		return (ns_fail(oserr, errno));
	}
	if ((dir = fdopendir(fd)) == NULL) {
		rv = ns_fail(oserr, errno);
		close(fd);
		return (rv);
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(dir)) == NULL) {
			if (errno != 0) {
				rv = ns_fail(oserr, errno);
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0
		    || strcmp(de->d_name, "..") == 0) {
			continue;
		}
		if (fstatat(dirfd(dir), de->d_name, &s, AT_SYMLINK_NOFOLLOW)
		    != 0) {
			if (errno == ENOENT) {
				continue; /* removed while we listed */
			}
			rv = ns_fail(oserr, errno);
			break;
		}
		ns_fill_stat(&s, &st);
		if ((rv = fn(arg, de->d_name, &st)) != 0) {
			break;
		}
	}
	closedir(dir);
	return (rv);
}

/* mkdirat of one target; EEXIST is left to the caller. */
static int
ns_mkdir_one(
    int rootfd, const char *path, mode_t mode, int *err, int64_t *oserr)
{
	ovio__fs_target t;
	int             rv;

	*err = 0;
	if ((rv = ovio__fs_target_open(rootfd, path, &t, oserr)) != 0) {
		return (rv);
	}
	if (mkdirat(t.dirfd, t.name, mode) != 0) {
		*err = errno;
		rv   = ns_fail(oserr, errno);
	}
	ovio__fs_target_close(&t);
	return (rv);
}

int
ovio__fs_mkdir(ovio__fd rootfd, const char *path, uint32_t mode, int parents,
    int64_t *oserr)
{
	char  *prefix;
	size_t i, n;
	int    rv, err, fd;

	mode &= 0777;
	if (mode == 0) {
		mode = 0755;
	}
	if (!parents) {
		return (ns_mkdir_one(
		    (int) rootfd, path, (mode_t) mode, &err, oserr));
	}
	if ((rv = ovio__fs_check_target(path)) != 0) {
		return (rv);
	}
	if ((prefix = strdup(path)) == NULL) {
		return (OVIO_ENOMEM);
	}
	n = strlen(prefix);
	while (n > 0 && prefix[n - 1] == '/') {
		prefix[--n] = '\0';
	}
	/*
	 * Each folder on the way, resolved from the root every time, so a
	 * link met on the way is followed only while it stays beneath it.
	 */
	for (i = 1; i < n; i++) {
		if (prefix[i] != '/' || prefix[i - 1] == '/'
		    || (prefix[i - 1] == '.'
		        && (i == 1 || prefix[i - 2] == '/'))) {
			continue; /* not the end of a name, or a "." */
		}
		prefix[i] = '\0';
		rv        = ns_mkdir_one(
		           (int) rootfd, prefix, (mode_t) mode, &err, oserr);
		prefix[i] = '/';
		if (rv != 0 && err != EEXIST) {
			goto done;
		}
	}
	rv = ns_mkdir_one((int) rootfd, prefix, (mode_t) mode, &err, oserr);
	if (rv != 0 && err == EEXIST) {
		/* Success if a folder is there (reached beneath the root). */
		if ((fd = ns_open_beneath(
		         (int) rootfd, prefix, O_PATH | O_DIRECTORY))
		    >= 0) {
			close(fd);
			rv     = 0;
			*oserr = 0;
		}
	}
done:
	free(prefix);
	return (rv);
}

int
ovio__fs_remove(ovio__fd rootfd, const char *path, int64_t *oserr)
{
	ovio__fs_target t;
	struct stat     s;
	int             rv;

	if ((rv = ovio__fs_target_open((int) rootfd, path, &t, oserr)) != 0) {
		return (rv);
	}
	if (fstatat(t.dirfd, t.name, &s, AT_SYMLINK_NOFOLLOW) != 0) {
		rv = ns_fail(oserr, errno);
	} else if (unlinkat(
	               t.dirfd, t.name, S_ISDIR(s.st_mode) ? AT_REMOVEDIR : 0)
	           != 0) {
		/* POSIX lets rmdir say EEXIST for a folder that is not empty.
		 */
		rv = ns_fail(oserr, errno);
		if (errno == EEXIST) {
			rv = OVIO_ENOTEMPTY;
		}
	}
	ovio__fs_target_close(&t);
	return (rv);
}

int
ovio__fs_rename(ovio__fd rootfd, const char *from, const char *to, int replace,
    int64_t *oserr)
{
	ovio__fs_target a, b;
	int             rv, r, e;

	if ((rv = ovio__fs_target_open((int) rootfd, from, &a, oserr)) != 0) {
		return (rv);
	}
	if ((rv = ovio__fs_target_open((int) rootfd, to, &b, oserr)) != 0) {
		ovio__fs_target_close(&a);
		return (rv);
	}
	if (replace) {
		r = renameat(a.dirfd, a.name, b.dirfd, b.name);
	} else {
#if defined(__linux__) && defined(SYS_renameat2)
		r = (int) syscall(SYS_renameat2, a.dirfd, a.name, b.dirfd,
		    b.name, RENAME_NOREPLACE);
#else
		r     = -1;
		errno = ENOTSUP;
#endif
	}
	if (r != 0) {
		e  = errno;
		rv = ns_fail(oserr, e);
		if (e == EXDEV) {
			/* Both folders were reached beneath the root. */
			rv = OVIO_EXDEV;
		} else if (e == EEXIST && replace) {
			rv = OVIO_ENOTEMPTY; /* a folder over a full one */
		}
	}
	ovio__fs_target_close(&b);
	ovio__fs_target_close(&a);
	return (rv);
}
