/*
 * os/posix/beneath.c - path resolution confined to a directory, one
 * component at a time, for kernels (or seccomp filters) without openat2;
 * see beneath.h.
 *
 * Every directory on the way is opened with O_PATH | O_DIRECTORY |
 * O_NOFOLLOW relative to the one before it and held until the end, so a
 * component swapped for a symbolic link between two steps is seen as a link
 * (and followed by hand, beneath the root) instead of being followed by the
 * kernel.  What this cannot see, and openat2 does: a directory already held
 * being renamed out of the root by someone with write access to the root
 * (no ovio request can rename).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beneath.h"

#define BENEATH_MAX_LINKS 40  /* as the kernel's MAXSYMLINKS */
#define BENEATH_MAX_DEPTH 256 /* directories held at once */
#define BENEATH_BUF       (2 * PATH_MAX + 2)

typedef struct beneath {
	int   root;
	int   fds[BENEATH_MAX_DEPTH]; /* directories opened here, in order */
	int   depth;
	int   links;
	char *p; /* what is left to resolve, in rest */
	char  rest[BENEATH_BUF];
	char  tmp[BENEATH_BUF];
	char  target[PATH_MAX + 1];
} beneath;

static int
beneath_cur(const beneath *b)
{
	return (b->depth == 0 ? b->root : b->fds[b->depth - 1]);
}

/*
 * Replaces the component name (in the current directory) by its link
 * target, followed by next (the rest of the path after the component).
 * Returns 0, -1 when name is not a link (any more), or an errno.
 */
static int
beneath_follow(beneath *b, const char *name, const char *next)
{
	ssize_t n;
	size_t  nl = strlen(next);

	if (++b->links > BENEATH_MAX_LINKS) {
		return (ELOOP);
	}
	n = readlinkat(beneath_cur(b), name, b->target, sizeof(b->target) - 1);
	if (n < 0) {
		return (errno == EINVAL ? -1 : errno);
	}
	if (n == 0 || b->target[0] == '/') {
		return (EXDEV); /* absolute: never beneath */
	}
	if ((size_t) n + nl + 1 > sizeof(b->tmp)) {
		return (ENAMETOOLONG);
	}
	/* next points into rest: build the new rest aside first. */
	memcpy(b->tmp, b->target, (size_t) n);
	memcpy(b->tmp + n, next, nl + 1);
	memcpy(b->rest, b->tmp, (size_t) n + nl + 1);
	b->p = b->rest;
	return (0);
}

int
ovio__beneath_open(int dirfd, const char *path, int oflags, mode_t mode)
{
	beneath    *b;
	char        name[NAME_MAX + 1];
	const char *next;
	size_t      len;
	int         fd = -1, e = 0, r, last;
	struct stat st;

	if (strlen(path) >= BENEATH_BUF) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((b = malloc(sizeof(*b))) == NULL) {
		errno = ENOMEM;
		return (-1);
	}
	b->root  = dirfd;
	b->depth = 0;
	b->links = 0;
	strcpy(b->rest, path);
	b->p = b->rest;
	if (*b->p == '/') {
		e = EXDEV;
		goto done;
	}
	for (;;) {
		while (*b->p == '/') {
			b->p++;
		}
		if (*b->p == '\0') {
			/* It ends at a folder: "", ".", "d/", a link to one. */
			fd = openat(
			    beneath_cur(b), ".", oflags | O_NOFOLLOW, mode);
			if (fd < 0) {
				e = errno;
			}
			break;
		}
		len  = strcspn(b->p, "/");
		next = b->p + len;
		last = *next == '\0';
		if (len > NAME_MAX) {
			e = ENAMETOOLONG;
			break;
		}
		memcpy(name, b->p, len);
		name[len] = '\0';
		if (strcmp(name, ".") == 0) {
			b->p = (char *) next;
			continue;
		}
		if (strcmp(name, "..") == 0) {
			if (b->depth == 0) {
				e = EXDEV; /* above the root */
				break;
			}
			close(b->fds[--b->depth]);
			b->p = (char *) next;
			continue;
		}
		if (!last && (oflags & O_CREAT)
		    && next[strspn(next, "/")] == '\0') {
			e = EISDIR; /* "name/" is a folder: as open(2) */
			break;
		}
		if (!last) {
			fd = openat(beneath_cur(b), name,
			    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0) {
				if (b->depth == BENEATH_MAX_DEPTH) {
					e = ENAMETOOLONG;
					break;
				}
				b->fds[b->depth++] = fd;
				fd                 = -1;
				b->p               = (char *) next;
				continue;
			}
			/* A link is ENOTDIR here (O_PATH opens it as is). */
			if ((e = errno) != ENOTDIR && e != ELOOP) {
				break;
			}
		} else {
			fd = openat(
			    beneath_cur(b), name, oflags | O_NOFOLLOW, mode);
			if (fd >= 0) {
				if (!(oflags & O_PATH)) {
					break;
				}
				/* O_PATH | O_NOFOLLOW opens a link itself. */
				if (fstat(fd, &st) != 0) {
					e = errno;
					break;
				}
				if (!S_ISLNK(st.st_mode)) {
					break;
				}
				close(fd);
				fd = -1;
			} else if ((e = errno) != ELOOP) {
				break;
			}
		}
		/* name is, or was, a symbolic link: follow it beneath. */
		if ((r = beneath_follow(b, name, next)) == 0) {
			e = 0;
			continue;
		}
		if (r != -1) {
			e = r;
			break;
		}
		/*
		 * Not a link now: swapped since.  Look again, counted as a
		 * link so that a swap loop ends; a file that is simply not a
		 * directory keeps its ENOTDIR.
		 */
		if (!last
		    && (fstatat(beneath_cur(b), name, &st, AT_SYMLINK_NOFOLLOW)
		            != 0
		        || !S_ISDIR(st.st_mode))) {
			break;
		}
		if (++b->links > BENEATH_MAX_LINKS) {
			e = ELOOP;
			break;
		}
		e = 0;
	}
done:
	while (b->depth > 0) {
		close(b->fds[--b->depth]);
	}
	free(b);
	if (e != 0) {
		if (fd >= 0) {
			close(fd);
		}
		errno = e;
		return (-1);
	}
	return (fd);
}
