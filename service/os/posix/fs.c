/* os/posix/fs.c - file-system operations on the served root, POSIX; see fs.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/openat2.h>
#endif

#include "fs.h"
#include "error_impl.h"

static int
fs_fail(int64_t *oserr, int e)
{
	*oserr = e;
	return (ovio__err_from_errno(e));
}

int
ovio__fs_open_root(const char *root, ovio__fd *rootfd, int64_t *oserr)
{
	int fd;

	if (mkdir(root, 0755) != 0 && errno != EEXIST) {
		return (fs_fail(oserr, errno));
	}
	if ((fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		return (fs_fail(oserr, errno));
	}
	*rootfd = fd;
	return (0);
}

void
ovio__fs_close_root(ovio__fd rootfd)
{
	close((int) rootfd);
}

/*
 * openat2 with RESOLVE_BENEATH keeps resolution under the root, symlinks
 * included; on kernels without it, O_NOFOLLOW at least refuses a final
 * symlink.
 */
static int
fs_openat(int dirfd, const char *path, int oflags, mode_t mode)
{
#if defined(__linux__) && defined(SYS_openat2)
	struct open_how how;
	long            fd;

	memset(&how, 0, sizeof(how));
	how.flags   = (uint64_t) oflags;
	how.mode    = (oflags & O_CREAT) ? mode : 0;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	fd          = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	if (fd >= 0 || errno != ENOSYS) {
		return ((int) fd);
	}
#endif
	return (openat(dirfd, path, oflags | O_NOFOLLOW, mode));
}

static int
fs_is_stream(mode_t m)
{
	return (S_ISFIFO(m) || S_ISSOCK(m) || S_ISCHR(m));
}

int
ovio__fs_open(ovio__fd rootfd, const char *path, uint32_t flags,
    uint32_t mode, ovio__fd *fd, int *stream, int64_t *oserr)
{
	int         oflags = O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
	int         f, rv;
	struct stat st;

	if ((rv = ovio__fs_check_path(path)) != 0) {
		return (rv);
	}
	if ((flags & OVIO_OPEN_READ) && (flags & OVIO_OPEN_WRITE)) {
		oflags |= O_RDWR;
	} else if (flags & OVIO_OPEN_WRITE) {
		oflags |= O_WRONLY;
	} else if (flags & OVIO_OPEN_READ) {
		oflags |= O_RDONLY;
	} else {
		return (OVIO_EINVAL);
	}
	if (flags & OVIO_OPEN_CREATE) {
		oflags |= O_CREAT;
	}
	if (flags & OVIO_OPEN_EXCL) {
		oflags |= O_EXCL;
	}
	/* No O_TRUNC: the file is truncated below, once it passed every check. */
	mode &= 0777; /* permission bits only: never a setuid file */
	if (mode == 0) {
		mode = 0644;
	}
	/* O_NONBLOCK only so that opening a FIFO does not wait for a peer. */
	if ((f = fs_openat((int) rootfd, path, oflags, (mode_t) mode)) < 0) {
		return (fs_fail(oserr, errno));
	}
	if (fstat(f, &st) != 0 || S_ISDIR(st.st_mode)) {
		int e = S_ISDIR(st.st_mode) ? EISDIR : errno;
		close(f);
		return (fs_fail(oserr, e));
	}
	if (fcntl(f, F_SETFL, fcntl(f, F_GETFL) & ~O_NONBLOCK) != 0) {
		int e = errno;
		close(f);
		return (fs_fail(oserr, e));
	}
	/* As with O_TRUNC, truncation applies to regular files only. */
	if ((flags & OVIO_OPEN_TRUNC) && S_ISREG(st.st_mode) &&
	    ftruncate(f, 0) != 0) {
		int e = errno;
		close(f);
		return (fs_fail(oserr, e));
	}
	*stream = fs_is_stream(st.st_mode);
	*fd     = f;
	return (0);
}

static void
fs_fill_stat(const struct stat *s, ovio_stat *st)
{
	st->size     = (uint64_t) s->st_size;
	st->mode     = (uint32_t) (s->st_mode & 07777);
	st->type     = S_ISREG(s->st_mode)  ? OVIO_TYPE_FILE
	             : S_ISDIR(s->st_mode)  ? OVIO_TYPE_DIR
	             : S_ISFIFO(s->st_mode) ? OVIO_TYPE_FIFO
	                                    : OVIO_TYPE_OTHER;
	st->mtime_ns = (int64_t) s->st_mtim.tv_sec * 1000000000LL +
	    s->st_mtim.tv_nsec;
}

int
ovio__fs_fstat(ovio__fd fd, ovio_stat *st, int64_t *oserr)
{
	struct stat s;

	if (fstat((int) fd, &s) != 0) {
		return (fs_fail(oserr, errno));
	}
	fs_fill_stat(&s, st);
	return (0);
}

int
ovio__fs_stat(ovio__fd rootfd, const char *path, ovio_stat *st,
    int64_t *oserr)
{
	int rv, f;

	if ((rv = ovio__fs_check_path(path)) != 0) {
		return (rv);
	}
	/* O_PATH opens without reading, so FIFOs and unreadable files work. */
	if ((f = fs_openat((int) rootfd, path, O_PATH | O_CLOEXEC, 0)) < 0) {
		return (fs_fail(oserr, errno));
	}
	rv = ovio__fs_fstat(f, st, oserr);
	close(f);
	return (rv);
}

int
ovio__fs_pread_sync(ovio__fd fd, void *buf, size_t len, uint64_t offset,
    int stream, size_t *got, int64_t *oserr)
{
	ssize_t n;

	do {
		n = stream ? read((int) fd, buf, len)
		           : pread((int) fd, buf, len, (off_t) offset);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return (fs_fail(oserr, errno));
	}
	*got = (size_t) n;
	return (0);
}

void
ovio__fs_close(ovio__fd fd)
{
	close((int) fd);
}
