/*
 * localfile_posix.c - the local side of ovio's transfers on POSIX systems;
 * see localfile.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "localfile.h"

struct ovio__local {
	int   fd;
	bool  own_fd;    /* not a standard stream: close it */
	char *tmp;       /* the temporary file, or NULL: written in place */
	char *target;    /* what tmp replaces */
	int   tmp_slot;  /* tmp's lf_temps slot, or -1 */
	bool  noreplace; /* finish refuses an existing target */
};

/*
 * A get stopped by SIGINT, SIGTERM or SIGHUP (Ctrl-C, kill, a closed
 * terminal) removes its temporary files before it ends, as a failed one
 * does.  Each temporary file's name is copied into a slot while the file
 * exists (lf_temp_arm, lf_temp_disarm); the handler unlinks every armed
 * one (unlink is async-signal-safe) and the signal then ends the process
 * as it would have (SA_RESETHAND, raised again), so the exit status still
 * tells it.  The handlers go in with the first temporary file, and only
 * for a signal whose action is the default: one the caller ignores
 * (nohup) stays ignored.  SIGKILL cannot be caught: its file stays.  A
 * slot is static and never freed, so a handler running on another thread
 * while the main thread disarms reads a name, never freed memory.
 */
#define LF_TEMP_SLOTS 16
#define LF_SLOT_FREE  0
#define LF_SLOT_FILL  1 /* being written: the handler skips it */
#define LF_SLOT_ARMED 2

static struct {
	int  state;
	char path[PATH_MAX];
} lf_temps[LF_TEMP_SLOTS];

static const int lf_signals[] = { SIGINT, SIGTERM, SIGHUP };

static void
lf_on_signal(int sig)
{
	int i, saved = errno;

	for (i = 0; i < LF_TEMP_SLOTS; i++) {
		if (__atomic_load_n(&lf_temps[i].state, __ATOMIC_ACQUIRE)
		    == LF_SLOT_ARMED) {
			(void) unlink(lf_temps[i].path);
		}
	}
	errno = saved;
	(void) raise(sig); /* the default action, once this returns */
}

static void
lf_signals_once(void)
{
	static bool      done;
	struct sigaction sa, old;
	size_t           i;

	if (done) {
		return;
	}
	done = true;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = lf_on_signal;
	sa.sa_flags   = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(lf_signals) / sizeof(lf_signals[0]); i++) {
		if (sigaction(lf_signals[i], NULL, &old) == 0
		    && old.sa_handler == SIG_DFL) {
			(void) sigaction(lf_signals[i], &sa, NULL);
		}
	}
}

/* The slot now naming path, or -1 (none free: no clean-up on a signal). */
static int
lf_temp_arm(const char *path)
{
	int i, want;

	lf_signals_once();
	if (strlen(path) >= PATH_MAX) {
		return (-1);
	}
	for (i = 0; i < LF_TEMP_SLOTS; i++) {
		want = LF_SLOT_FREE;
		if (__atomic_compare_exchange_n(&lf_temps[i].state, &want,
		        LF_SLOT_FILL, false, __ATOMIC_ACQUIRE,
		        __ATOMIC_RELAXED)) {
			memcpy(lf_temps[i].path, path, strlen(path) + 1);
			__atomic_store_n(&lf_temps[i].state, LF_SLOT_ARMED,
			    __ATOMIC_RELEASE);
			return (i);
		}
	}
	return (-1);
}

static void
lf_temp_disarm(int slot)
{
	if (slot >= 0) {
		__atomic_store_n(
		    &lf_temps[slot].state, LF_SLOT_FREE, __ATOMIC_RELEASE);
	}
}

static int
lf_new(ovio__local **lfp, int fd, bool own)
{
	ovio__local *lf;

	if ((lf = calloc(1, sizeof(*lf))) == NULL) {
		return (ENOMEM);
	}
	lf->fd       = fd;
	lf->own_fd   = own;
	lf->tmp_slot = -1;
	*lfp         = lf;
	return (0);
}

static void
lf_free(ovio__local *lf)
{
	lf_temp_disarm(lf->tmp_slot); /* renamed or removed by now */
	free(lf->tmp);
	free(lf->target);
	free(lf);
}

int
ovio__local_open_read(const char *path, ovio__local **lf, int64_t *size)
{
	struct stat st;
	int         fd, rv;

	if (strcmp(path, "-") == 0) {
		*size = -1;
		return (lf_new(lf, STDIN_FILENO, false));
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		return (errno);
	}
	if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
		rv = S_ISDIR(st.st_mode) ? EISDIR : errno;
		close(fd);
		return (rv);
	}
	*size = S_ISREG(st.st_mode) ? (int64_t) st.st_size : -1;
	if ((rv = lf_new(lf, fd, true)) != 0) {
		close(fd);
	}
	return (rv);
}

/*
 * A temporary file beside target: ".NAME.ovio-XXXXXX" in its folder,
 * with the mode (and, when allowed, the owner) of the file it replaces, or
 * 0666 less the umask for a new one.
 */
static int
lf_temp(ovio__local *lf, const char *target, const struct stat *old)
{
	const char *slash = strrchr(target, '/');
	const char *base  = slash != NULL ? slash + 1 : target;
	int         dlen  = slash != NULL ? (int) (slash - target) + 1 : 0;
	size_t      len   = strlen(target) + 32;
	mode_t      mask;

	if ((lf->tmp = malloc(len)) == NULL
	    || (lf->target = strdup(target)) == NULL) {
		return (ENOMEM);
	}
	/* NAME cut to 200 bytes so the temporary name stays legal. */
	snprintf(lf->tmp, len, "%.*s.%.200s.ovio-XXXXXX", dlen, target, base);
	if ((lf->fd = mkostemp(lf->tmp, O_CLOEXEC)) < 0) {
		free(lf->tmp);
		lf->tmp = NULL;
		return (errno);
	}
	lf->own_fd   = true;
	lf->tmp_slot = lf_temp_arm(lf->tmp);
	if (old != NULL) {
		if (fchown(lf->fd, old->st_uid, old->st_gid) != 0) {
			/* Not ours to give away: the file becomes the user's.
			 */
		}
		(void) fchmod(lf->fd, old->st_mode & 07777);
	} else {
		mask = umask(022);
		umask(mask);
		(void) fchmod(lf->fd, 0666 & ~mask);
	}
	return (0);
}

int
ovio__local_create(const char *path, ovio__local **lfp)
{
	struct stat  st, lst;
	ovio__local *lf;
	char        *real = NULL;
	int          fd, rv;

	if (strcmp(path, "-") == 0) {
		return (lf_new(lfp, STDOUT_FILENO, false));
	}
	if (stat(path, &st) != 0) {
		if (errno != ENOENT) {
			return (errno);
		}
		if ((rv = lf_new(&lf, -1, false)) != 0) {
			return (rv);
		}
		if ((rv = lf_temp(lf, path, NULL)) != 0) {
			lf_free(lf);
			return (rv);
		}
		*lfp = lf;
		return (0);
	}
	if (S_ISDIR(st.st_mode)) {
		return (EISDIR);
	}
	if (!S_ISREG(st.st_mode)) {
		/* A device or FIFO: written as it is, never truncated. */
		if ((fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
			return (errno);
		}
		if ((rv = lf_new(lfp, fd, true)) != 0) {
			close(fd);
		}
		return (rv);
	}
	/* A link to a regular file: replace the file, not the link. */
	if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)
	    && (real = realpath(path, NULL)) == NULL) {
		return (errno);
	}
	if ((rv = lf_new(&lf, -1, false)) == 0
	    && (rv = lf_temp(lf, real != NULL ? real : path, &st)) != 0) {
		lf_free(lf);
	}
	free(real);
	if (rv == 0) {
		*lfp = lf;
	}
	return (rv);
}

/*
 * Up to len bytes, at offset, or where the file is when offset is -1;
 * *got < len only at the end.
 */
static int
lf_read_all(
    ovio__local *lf, void *buf, size_t len, int64_t offset, size_t *got)
{
	size_t  done = 0;
	ssize_t n;

	while (done < len) {
		n = offset < 0 ? read(lf->fd, (char *) buf + done, len - done)
		               : pread(lf->fd, (char *) buf + done, len - done,
		                     (off_t) offset + (off_t) done);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return (errno);
		}
		if (n == 0) {
			break;
		}
		done += (size_t) n;
	}
	*got = done;
	return (0);
}

int
ovio__local_read(ovio__local *lf, void *buf, size_t len, size_t *got)
{
	return (lf_read_all(lf, buf, len, -1, got));
}

int
ovio__local_pread(
    ovio__local *lf, void *buf, size_t len, uint64_t offset, size_t *got)
{
	return (lf_read_all(lf, buf, len, (int64_t) offset, got));
}

/* All len bytes, at offset, or where the file is when offset is -1. */
static int
lf_write_all(ovio__local *lf, const void *buf, size_t len, int64_t offset)
{
	size_t  done = 0;
	ssize_t n;

	while (done < len) {
		n = offset < 0 ? write(lf->fd, (const char *) buf + done,
		                     len - done)
		               : pwrite(lf->fd, (const char *) buf + done,
		                     len - done, (off_t) offset + (off_t) done);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return (errno);
		}
		done += (size_t) n;
	}
	return (0);
}

int
ovio__local_write(ovio__local *lf, const void *buf, size_t len)
{
	return (lf_write_all(lf, buf, len, -1));
}

int
ovio__local_pwrite(
    ovio__local *lf, const void *buf, size_t len, uint64_t offset)
{
	return (lf_write_all(lf, buf, len, (int64_t) offset));
}

bool
ovio__local_is_temporary(ovio__local *lf)
{
	return (lf->tmp != NULL);
}

/* The folder's entry is durable too once the folder is flushed. */
static void
lf_sync_dir(const char *target)
{
	const char *slash = strrchr(target, '/');
	char        dir[PATH_MAX];
	int         fd;

	if (slash == NULL) {
		snprintf(dir, sizeof(dir), ".");
	} else {
		snprintf(dir, sizeof(dir), "%.*s",
		    slash == target ? 1 : (int) (slash - target), target);
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void) fsync(fd);
		close(fd);
	}
}

int
ovio__local_finish(ovio__local *lf)
{
	int rv = 0;

	if (lf->tmp != NULL) {
		if (fsync(lf->fd) != 0) {
			rv = errno;
		}
		if (close(lf->fd) != 0 && rv == 0) {
			rv = errno;
		}
		if (rv == 0 && lf->noreplace) {
			/* link fails with EEXIST when the target is there. */
			if (link(lf->tmp, lf->target) != 0) {
				rv = errno;
			} else {
				unlink(lf->tmp);
			}
		} else if (rv == 0 && rename(lf->tmp, lf->target) != 0) {
			rv = errno;
		}
		if (rv != 0) {
			unlink(lf->tmp);
		}
		lf_temp_disarm(lf->tmp_slot); /* gone: renamed or removed */
		lf->tmp_slot = -1;
		if (rv == 0) {
			lf_sync_dir(lf->target);
		}
	} else if (lf->own_fd && close(lf->fd) != 0) {
		rv = errno;
	}
	lf_free(lf);
	return (rv);
}

void
ovio__local_abort(ovio__local *lf)
{
	if (lf->own_fd) {
		close(lf->fd);
	}
	if (lf->tmp != NULL) {
		unlink(lf->tmp);
	}
	lf_free(lf);
}

const char *
ovio__local_strerror(int code)
{
	return (strerror(code));
}

int
ovio__local_kind(int code)
{
	switch (code) {
	case ENOENT:
	case ENOTDIR:
		return (OVIO__LOCAL_NOTFOUND);
	case EACCES:
	case EPERM:
	case EROFS:
		return (OVIO__LOCAL_PERM);
	}
	return (OVIO__LOCAL_IO);
}

bool
ovio__local_is_sep(char c)
{
	return (c == '/');
}

int
ovio__local_type(const char *path, int *type)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		if (errno == ENOENT) {
			*type = OVIO__LOCAL_NONE;
			return (0);
		}
		return (errno);
	}
	*type = S_ISREG(st.st_mode)   ? OVIO__LOCAL_FILE
	        : S_ISDIR(st.st_mode) ? OVIO__LOCAL_DIR
	                              : OVIO__LOCAL_OTHER;
	return (0);
}

int
ovio__local_mkdir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0777) == 0) {
		return (0);
	}
	if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		return (0);
	}
	return (errno);
}

static int
name_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *) a, *(char *const *) b));
}

void
ovio__local_names_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(names[i]);
	}
	free(names);
}

int
ovio__local_names(const char *dir, char ***names, size_t *np)
{
	DIR           *d;
	struct dirent *e;
	char         **v = NULL, **nv;
	size_t         n = 0, cap = 0;
	int            rv = 0;

	if ((d = opendir(dir)) == NULL) {
		return (errno);
	}
	for (;;) {
		errno = 0;
		if ((e = readdir(d)) == NULL) {
			rv = errno;
			break;
		}
		if (strcmp(e->d_name, ".") == 0
		    || strcmp(e->d_name, "..") == 0) {
			continue;
		}
		if (n == cap) {
			cap = cap != 0 ? cap * 2 : 64;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				rv = ENOMEM;
				break;
			}
			v = nv;
		}
		if ((v[n] = strdup(e->d_name)) == NULL) {
			rv = ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (rv != 0) {
		ovio__local_names_free(v, n);
		return (rv);
	}
	if (n > 0) {
		qsort(v, n, sizeof(*v), name_cmp);
	}
	*names = v;
	*np    = n;
	return (0);
}

int
ovio__local_open_append(const char *path, ovio__local **lf, uint64_t *size)
{
	struct stat st;
	int         fd, rv;

	if (strcmp(path, "-") == 0) {
		return (EINVAL);
	}
	fd = open(
	    path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0666);
	if (fd < 0) {
		return (errno);
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rv = S_ISREG(st.st_mode) ? errno : EINVAL;
		close(fd);
		return (rv);
	}
	*size = (uint64_t) st.st_size;
	if ((rv = lf_new(lf, fd, true)) != 0) {
		close(fd);
	}
	return (rv);
}

bool
ovio__local_seekable(ovio__local *lf)
{
	struct stat st;

	return (fstat(lf->fd, &st) == 0 && S_ISREG(st.st_mode));
}

int
ovio__local_seek(ovio__local *lf, uint64_t n)
{
	return (lseek(lf->fd, (off_t) n, SEEK_CUR) < 0 ? errno : 0);
}

void
ovio__local_noreplace(ovio__local *lf)
{
	lf->noreplace = true;
}

int
ovio__local_is_exists(int code)
{
	return (code == EEXIST);
}
