/* os/posix/fs.c - file-system operations on the served root, POSIX; see fs.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/openat2.h>
#endif

#include "beneath.h"
#include "fs.h"
#include "error_impl.h"

static int
fs_fail(int64_t *oserr, int e)
{
	*oserr = e;
	return (ovio__err_from_errno(e));
}

/*
 * How paths are resolved beneath the root, decided once by fs_probe when
 * the root is opened (before any request) and only read afterwards: 1 for
 * openat2 with RESOLVE_BENEATH, 0 for beneath.c's walk.  A property of the
 * kernel and the process's seccomp filter, the same for every root.
 */
static int  fs_use_openat2;
static char fs_how[160] = "not probed yet";

static void
fs_probe(int rootfd)
{
	const char *why = "not built with openat2";
	const char *v   = getenv("OVIO_TEST_NO_OPENAT2");

	if (v != NULL && v[0] != '\0' && strcmp(v, "0") != 0) {
		/* Test seam: the component-wise walk as if openat2 failed. */
		why = "OVIO_TEST_NO_OPENAT2 is set";
	} else {
#if defined(__linux__) && defined(SYS_openat2)
		struct open_how how;
		long            fd;

		memset(&how, 0, sizeof(how));
		how.flags   = O_PATH | O_DIRECTORY | O_CLOEXEC;
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
		fd = syscall(SYS_openat2, rootfd, ".", &how, sizeof(how));
		if (fd >= 0) {
			close((int) fd);
			fs_use_openat2 = 1;
			snprintf(fs_how, sizeof(fs_how), "%s",
			    "openat2 RESOLVE_BENEATH");
			return;
		}
		/* ENOSYS: an old kernel; EPERM: a container's seccomp. */
		why = strerror(errno);
#endif
	}
	(void) rootfd;
	fs_use_openat2 = 0;
	snprintf(fs_how, sizeof(fs_how),
	    "component-wise, openat2 unavailable: %s", why);
}

const char *
ovio__fs_resolution(void)
{
	return (fs_how);
}

int
ovio__fs_open_root(const char *root, ovio__fd *rootfd, int64_t *oserr)
{
	int fd;

	/* Only its owner and group may look in (the umask may take more). */
	if (mkdir(root, 0750) != 0 && errno != EEXIST) {
		return (fs_fail(oserr, errno));
	}
	if ((fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		return (fs_fail(oserr, errno));
	}
	fs_probe(fd);
	*rootfd = fd;
	return (0);
}

void
ovio__fs_close_root(ovio__fd rootfd)
{
	close((int) rootfd);
}

/*
 * Opens path beneath dirfd, never leaving it (symlinks included): openat2
 * with RESOLVE_BENEATH where fs_probe found it working, else beneath.c's
 * component-wise walk.  Never a plain openat of the whole path.
 */
int
ovio__fs_open_beneath(int dirfd, const char *path, int oflags, mode_t mode)
{
#if defined(__linux__) && defined(SYS_openat2)
	struct open_how how;
	long            fd;

	if (fs_use_openat2) {
		memset(&how, 0, sizeof(how));
		how.flags   = (uint64_t) oflags;
		how.mode    = (oflags & O_CREAT) ? mode : 0;
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
		fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		if (fd >= 0 || errno != ENOSYS) {
			return ((int) fd);
		}
	}
#endif
	return (ovio__beneath_open(dirfd, path, oflags, mode));
}

/* Device nodes and sockets: served only with OVIO__FS_OPEN_DEVICES. */
static int
fs_is_device(mode_t m)
{
	return (S_ISCHR(m) || S_ISBLK(m) || S_ISSOCK(m));
}

/*
 * Whether fd is on a local file system whose regular-file I/O the kernel
 * can try without blocking (IOCB_NOWAIT) and hand to a worker when it
 * would block.  Known ones only: FUSE and network file systems may run a
 * request inline where it can wait on something outside this machine.
 */
static bool
fs_honours_nowait(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) != 0) {
		return (false);
	}
	switch ((unsigned long) sf.f_type) {
	case 0xEF53UL:     /* ext2, ext3, ext4 */
	case 0x58465342UL: /* xfs */
	case 0x9123683EUL: /* btrfs */
	case 0x01021994UL: /* tmpfs */
		return (true);
	default:
		return (false);
	}
}

int
ovio__fs_open(ovio__fd rootfd, const char *path, uint32_t flags, uint32_t mode,
    ovio__fd *fd, int *kind, int64_t *oserr)
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
	oflags |= ovio__fs_io_oflags(flags);
	/* No O_TRUNC: the file is truncated below, once it passed every check.
	 */
	mode &= 0777; /* permission bits only: never a setuid file */
	if (mode == 0) {
		mode = OVIO__FS_FILE_MODE;
	}
	/*
	 * A device node is refused before it is opened (opening some has
	 * effects); the check after the open catches one swapped in since.
	 */
	if (!(flags & OVIO__FS_OPEN_DEVICES)
	    && (f = ovio__fs_open_beneath(
	            (int) rootfd, path, O_PATH | O_CLOEXEC, 0))
	           >= 0) {
		rv = fstat(f, &st) == 0 && fs_is_device(st.st_mode);
		close(f);
		if (rv) {
			*oserr = 0;
			return (OVIO_EPERM);
		}
	}
	/* O_NONBLOCK only so that opening a FIFO does not wait for a peer. */
	if ((f = ovio__fs_open_beneath(
	         (int) rootfd, path, oflags, (mode_t) mode))
	    < 0) {
		return (fs_fail(oserr, errno));
	}
	if (fstat(f, &st) != 0 || S_ISDIR(st.st_mode)) {
		int e = S_ISDIR(st.st_mode) ? EISDIR : errno;
		close(f);
		return (fs_fail(oserr, e));
	}
	if (!(flags & OVIO__FS_OPEN_DEVICES) && fs_is_device(st.st_mode)) {
		close(f);
		*oserr = 0;
		return (OVIO_EPERM);
	}
	if (fcntl(f, F_SETFL, fcntl(f, F_GETFL) & ~O_NONBLOCK) != 0) {
		int e = errno;
		close(f);
		return (fs_fail(oserr, e));
	}
	/* Unbuffered I/O is for regular files (a FIFO would take the flag). */
	if ((flags & OVIO_OPEN_DIRECT) && !S_ISREG(st.st_mode)) {
		close(f);
		*oserr = 0;
		return (OVIO_EINVAL);
	}
	/* As with O_TRUNC, truncation applies to regular files only. */
	if ((flags & OVIO_OPEN_TRUNC) && S_ISREG(st.st_mode)
	    && ftruncate(f, 0) != 0) {
		int e = errno;
		close(f);
		return (fs_fail(oserr, e));
	}
	if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)
	    || S_ISCHR(st.st_mode)) {
		*kind = OVIO__FS_STREAM;
	} else {
		/*
		 * Unbuffered I/O keeps to io-wq (a short part of it would
		 * leave an unaligned rest), and so does write-through (its
		 * sync could run inside the submit).
		 */
		*kind = S_ISREG(st.st_mode)
		                && !(flags
		                     & (OVIO_OPEN_DIRECT
		                         | OVIO_OPEN_WRITE_THROUGH))
		                && fs_honours_nowait(f)
		            ? OVIO__FS_NOWAIT
		            : OVIO__FS_FILE;
	}
	*fd = f;
	return (0);
}

int
ovio__fs_io_oflags(uint32_t flags)
{
	return (((flags & OVIO_OPEN_DIRECT) ? O_DIRECT : 0)
	        | ((flags & OVIO_OPEN_WRITE_THROUGH) ? O_DSYNC : 0));
}

uint32_t
ovio__fs_direct_align(ovio__fd fd)
{
	uint32_t align = 0;
#ifdef STATX_DIOALIGN
	struct statx sx;

	if (statx((int) fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0
	    && (sx.stx_mask & STATX_DIOALIGN)) {
		align = sx.stx_dio_offset_align > sx.stx_dio_mem_align
		            ? sx.stx_dio_offset_align
		            : sx.stx_dio_mem_align;
	}
#else
	(void) fd;
#endif
	if (align == 0 || (align & (align - 1)) != 0) {
		return (4096); /* not reported: what nearly every disk takes */
	}
	return (align < 512 ? 512 : align);
}

static void
fs_fill_stat(const struct stat *s, ovio_stat *st)
{
	st->size = (uint64_t) s->st_size;
	st->mode = (uint32_t) (s->st_mode & 07777);
	st->type = S_ISREG(s->st_mode)    ? OVIO_TYPE_FILE
	           : S_ISDIR(s->st_mode)  ? OVIO_TYPE_DIR
	           : S_ISFIFO(s->st_mode) ? OVIO_TYPE_FIFO
	                                  : OVIO_TYPE_OTHER;
	st->mtime_ns
	    = (int64_t) s->st_mtim.tv_sec * 1000000000LL + s->st_mtim.tv_nsec;
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
ovio__fs_stat(ovio__fd rootfd, const char *path, ovio_stat *st, int64_t *oserr)
{
	int rv, f;

	if ((rv = ovio__fs_check_path(path)) != 0) {
		return (rv);
	}
	/* O_PATH opens without reading, so FIFOs and unreadable files work. */
	if ((f = ovio__fs_open_beneath(
	         (int) rootfd, path, O_PATH | O_CLOEXEC, 0))
	    < 0) {
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
