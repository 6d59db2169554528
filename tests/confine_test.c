/*
 * confine_test.c - confinement to the served root and the safe defaults,
 * against a real oviod (issue 9).
 *
 * The hostile path table and the symlink-swap race run in every way oviod
 * resolves paths: openat2 RESOLVE_BENEATH (skipped on a kernel without
 * it), the component-wise walk by the test seam OVIO_TEST_NO_OPENAT2=1,
 * and the same walk chosen for real, under tests/noopenat2 (a seccomp
 * filter failing openat2 with ENOSYS, then with EPERM, as containers do).
 * Outside the root sit sentinel files; after each run they must be as they
 * were: nothing outside read, created or truncated.  The race runs 3 s per
 * mode, $OVIO_TEST_RACE_MS to change that.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#define SECRET "SECRET-OUTSIDE\n"

static tu_daemon d;
static char      outside[512];

/* The ways oviod resolves paths, one per loop index of a case. */
typedef struct mode {
	const char *name;
	const char *no_openat2; /* OVIO_TEST_NO_OPENAT2 */
	const char *seccomp;    /* noopenat2 -e ERR */
	const char *log;        /* what the start-up log must say */
} mode;

static const mode modes[] = {
	{ "openat2", NULL, NULL,
	    "paths beneath the root: openat2 RESOLVE_BENEATH" },
	{ "seam", "1", NULL,
	    "component-wise, openat2 unavailable: OVIO_TEST_NO_OPENAT2 is "
	    "set" },
	{ "seccomp-ENOSYS", NULL, "ENOSYS",
	    "component-wise, openat2 unavailable: Function not implemented" },
	{ "seccomp-EPERM", NULL, "EPERM",
	    "component-wise, openat2 unavailable: Operation not permitted" },
};
#define NMODES ((int) (sizeof(modes) / sizeof(modes[0])))

static const char *
backend(void)
{
	return (getenv("OVIO_TEST_BACKEND"));
}

static bool
log_has(const char *text)
{
	char  line[1024];
	FILE *f     = fopen(d.log, "r");
	bool  found = false;

	if (f == NULL) {
		return (false);
	}
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		found = strstr(line, text) != NULL;
	}
	fclose(f);
	return (found);
}

/*
 * Starts oviod in mode m (extra arguments after it, NULL-terminated);
 * false after printing a SKIP when that mode cannot be had here.
 */
static bool
start_mode(const mode *m, const char *extra)
{
	static char wrap[512];

	if (m->seccomp != NULL) {
		snprintf(wrap, sizeof(wrap), "%s/tests/noopenat2", tu_build());
		if (tu_sh("%s /bin/true 2>/dev/null", wrap) == 77) {
			tu_skip("%s: seccomp filters are not allowed here",
			    m->name);
			return (false);
		}
		tu_daemon_wrapper[0] = wrap;
		tu_daemon_wrapper[1] = "-e";
		tu_daemon_wrapper[2] = m->seccomp;
	}
	if (m->no_openat2 != NULL) {
		setenv("OVIO_TEST_NO_OPENAT2", m->no_openat2, 1);
	}
	tu_daemon_start(&d, backend(), extra, NULL);
	unsetenv("OVIO_TEST_NO_OPENAT2");
	tu_daemon_wrapper[0] = NULL;
	if (!log_has(m->log)) {
		if (m->seccomp == NULL && m->no_openat2 == NULL
		    && log_has("openat2 unavailable")) {
			tu_skip("%s: this kernel has no openat2", m->name);
			return (false);
		}
		ck_abort_msg(
		    "%s: the log does not say \"%s\"", m->name, m->log);
	}
	snprintf(outside, sizeof(outside), "%s/outside", d.dir);
	return (true);
}

static void
stop_cleanup(void)
{
	tu_daemon_cleanup(&d);
}

static void
put_file(const char *dir, const char *name, const char *text)
{
	char path[1024];
	int  fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_int_ge(
	    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644), 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t) strlen(text));
	close(fd);
}

static void
link_in(const char *target, const char *name)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", d.root, name);
	ck_assert_msg(symlink(target, path) == 0, "symlink %s: %s", name,
	    strerror(errno));
}

/* The sentinels outside the root, as they must stay. */
typedef struct sentinel {
	struct stat secret, sub_secret;
	int         entries;
} sentinel;

static int
count_entries(const char *dir)
{
	char           path[1024];
	DIR           *dp = opendir(dir);
	struct dirent *e;
	struct stat    st;
	int            n = 0;

	ck_assert_ptr_nonnull(dp);
	while ((e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") == 0
		    || strcmp(e->d_name, "..") == 0) {
			continue;
		}
		n++;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			n += count_entries(path);
		}
	}
	closedir(dp);
	return (n);
}

static void
sentinel_make(sentinel *s)
{
	char path[1024];

	ck_assert_int_eq(mkdir(outside, 0755), 0);
	snprintf(path, sizeof(path), "%s/sub", outside);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	put_file(outside, "secret", SECRET);
	put_file(outside, "sub/secret", SECRET);
	snprintf(path, sizeof(path), "%s/secret", outside);
	ck_assert_int_eq(stat(path, &s->secret), 0);
	snprintf(path, sizeof(path), "%s/sub/secret", outside);
	ck_assert_int_eq(stat(path, &s->sub_secret), 0);
	s->entries = count_entries(outside);
}

/* How many ways the outside changed (0: none). */
static int
sentinel_changes(const sentinel *s)
{
	char        path[1024], buf[64];
	struct stat st;
	int         n = 0, fd;
	ssize_t     got;

	snprintf(path, sizeof(path), "%s/secret", outside);
	if (stat(path, &st) != 0 || st.st_size != s->secret.st_size
	    || st.st_mtim.tv_sec != s->secret.st_mtim.tv_sec
	    || st.st_mtim.tv_nsec != s->secret.st_mtim.tv_nsec) {
		printf("outside: %s changed\n", path);
		n++;
	}
	if ((fd = open(path, O_RDONLY)) >= 0) {
		got = read(fd, buf, sizeof(buf));
		close(fd);
		if (got != (ssize_t) strlen(SECRET)
		    || memcmp(buf, SECRET, strlen(SECRET)) != 0) {
			printf("outside: %s content changed\n", path);
			n++;
		}
	}
	snprintf(path, sizeof(path), "%s/sub/secret", outside);
	if (stat(path, &st) != 0 || st.st_size != s->sub_secret.st_size
	    || st.st_mtim.tv_nsec != s->sub_secret.st_mtim.tv_nsec) {
		printf("outside: %s changed\n", path);
		n++;
	}
	if (count_entries(outside) != s->entries) {
		printf(
		    "outside: %d entries, %d before: something was created\n",
		    count_entries(outside), s->entries);
		n++;
	}
	return (n);
}

/*
 * The hostile path table.  Each path is tried with six operations, in this
 * order (a create in one makes the file the next ones see).  @OUT@ stands
 * for the outside folder's absolute path, @DIR@ for the test's folder that
 * holds both the root and the outside.
 */
enum { T_READ, T_WRITE, T_CREATE, T_EXCL, T_TRUNC, T_STAT, T_OPS };

static const char *const op_names[T_OPS]
    = { "read", "write", "create", "create+excl", "trunc", "stat" };
static const uint32_t op_flags[T_OPS] = {
	OVIO_OPEN_READ,
	OVIO_OPEN_WRITE,
	OVIO_OPEN_WRITE | OVIO_OPEN_CREATE,
	OVIO_OPEN_WRITE | OVIO_OPEN_CREATE | OVIO_OPEN_EXCL,
	OVIO_OPEN_WRITE | OVIO_OPEN_TRUNC,
	0,
};

#define OUT OVIO_EOUTSIDE
#define ALL(e)                   \
	{                        \
		e, e, e, e, e, e \
	}
/* A final component that is a link: O_EXCL never follows it. */
#define OUTLINK                                      \
	{                                            \
		OUT, OUT, OUT, OVIO_EEXIST, OUT, OUT \
	}
#define LOOP OVIO_ELOOP
#define LOOPLINK                                          \
	{                                                 \
		LOOP, LOOP, LOOP, OVIO_EEXIST, LOOP, LOOP \
	}
#define FILE_                              \
	{                                  \
		0, 0, 0, OVIO_EEXIST, 0, 0 \
	}
#define CREATES                                                \
	{                                                      \
		OVIO_ENOENT, OVIO_ENOENT, 0, OVIO_EEXIST, 0, 0 \
	}
#define DIR_                                                        \
	{                                                           \
		OVIO_EISDIR, OVIO_EISDIR, OVIO_EISDIR, OVIO_EEXIST, \
		    OVIO_EISDIR, 0                                  \
	}
/* "name/": a create is EISDIR before anything is looked up, as open(2). */
#define DIR_SLASH                                                   \
	{                                                           \
		OVIO_EISDIR, OVIO_EISDIR, OVIO_EISDIR, OVIO_EISDIR, \
		    OVIO_EISDIR, 0                                  \
	}
#define DEVICE                                                                \
	{                                                                     \
		OVIO_EPERM, OVIO_EPERM, OVIO_EPERM, OVIO_EPERM, OVIO_EPERM, 0 \
	}
#define FIFO_                                                         \
	{                                                             \
		0, OVIO_ENXIO, OVIO_ENXIO, OVIO_EEXIST, OVIO_ENXIO, 0 \
	}

typedef struct hostile {
	const char *path; /* NULL: built by the case (long names) */
	int         want[T_OPS];
	int         needs; /* 1: a device node (mknod) */
} hostile;

static const hostile table[] = {
	/* absolute, UNC and drive-letter paths */
	{ "/etc/passwd", ALL(OUT), 0 },
	{ "@OUT@/secret", ALL(OUT), 0 },
	{ "//etc/passwd", ALL(OUT), 0 },
	{ "/", ALL(OUT), 0 },
	{ "\\etc\\passwd", ALL(OUT), 0 },
	{ "\\\\server\\share\\x", ALL(OUT), 0 },
	{ "C:/x", ALL(OUT), 0 },
	{ "c:x", ALL(OUT), 0 },
	/* ".." in many spellings */
	{ "..", ALL(OUT), 0 },
	{ "../", ALL(OUT), 0 },
	{ "../outside/secret", ALL(OUT), 0 },
	{ "./../outside/secret", ALL(OUT), 0 },
	{ "d/../../outside/secret", ALL(OUT), 0 },
	{ "d/sub/../../../outside/secret", ALL(OUT), 0 },
	{ "..//outside/secret", ALL(OUT), 0 },
	{ "../root/f", ALL(OUT), 0 },
	{ "d/..", ALL(OUT), 0 },
	{ "f/..", ALL(OUT), 0 },
	{ "..\\outside\\secret", ALL(OUT), 0 },
	{ "d\\..\\..\\outside\\secret", ALL(OUT), 0 },
	{ "d/./../../outside/secret", ALL(OUT), 0 },
	{ "d//..//..//outside//secret", ALL(OUT), 0 },
	/* dots that are only names */
	{ "...", CREATES, 0 },
	{ "..a", CREATES, 0 },
	{ "..../x", ALL(OVIO_ENOENT), 0 },
	/* symlinks inside the root that lead out */
	{ "esc_rel/secret", ALL(OUT), 0 },
	{ "esc_abs/secret", ALL(OUT), 0 },
	{ "esc_rel/sub/secret", ALL(OUT), 0 },
	{ "esc_rel/newfile", ALL(OUT), 0 },
	{ "esc_rel", OUTLINK, 0 },
	{ "esc_file_rel", OUTLINK, 0 },
	{ "esc_file_abs", OUTLINK, 0 },
	{ "esc_deep", OUTLINK, 0 },
	{ "d/esc", OUTLINK, 0 },
	{ "d/upup/outside/secret", ALL(OUT), 0 },
	{ "chain_out1", OUTLINK, 0 },
	{ "dangle_out", OUTLINK, 0 },
	{ "dangle_abs", OUTLINK, 0 },
	{ "mid_out/outside/secret", ALL(OUT), 0 },
	{ "proc_self@DIR@/outside/secret", ALL(OUT), 0 },
	{ "dev_null_abs", OUTLINK, 0 },
	{ "in_dir/../esc_rel/secret", ALL(OUT), 0 },
	/* symlinks that stay inside: followed */
	{ "in_rel", FILE_, 0 },
	{ "in_dir/f", FILE_, 0 },
	{ "in_dotdot", FILE_, 0 },
	{ "chain1", FILE_, 0 },
	{ "d/up/f", FILE_, 0 },
	{ "d/up/d/up/d/f", FILE_, 0 },
	{ "dangle_in", CREATES, 0 },
	{ "in_dir", DIR_, 0 },
	{ "in_dir/", DIR_SLASH, 0 },
	/* loops and long chains */
	{ "loop1", LOOPLINK, 0 },
	{ "self", LOOPLINK, 0 },
	{ "loop1/x", ALL(LOOP), 0 },
	{ "chain_45", LOOPLINK, 0 },
	{ "chain_30", FILE_, 0 },
	/* slashes and dots */
	{ "d//f", FILE_, 0 },
	{ "./f", FILE_, 0 },
	{ "d/./f", FILE_, 0 },
	{ "./d/.//f", FILE_, 0 },
	{ ".", DIR_, 0 },
	{ "./", DIR_, 0 },
	{ "d", DIR_, 0 },
	{ "d/", DIR_SLASH, 0 },
	{ "d/sub//", DIR_SLASH, 0 },
	{ "f/",
	    { OVIO_ENOTDIR, OVIO_ENOTDIR, OVIO_EISDIR, OVIO_EISDIR,
	        OVIO_ENOTDIR, OVIO_ENOTDIR },
	    0 },
	{ "nope/",
	    { OVIO_ENOENT, OVIO_ENOENT, OVIO_EISDIR, OVIO_EISDIR, OVIO_ENOENT,
	        OVIO_ENOENT },
	    0 },
	{ "f/x", ALL(OVIO_ENOTDIR), 0 },
	{ "nope/f", ALL(OVIO_ENOENT), 0 },
	{ "new1", CREATES, 0 },
	{ "d/new2", CREATES, 0 },
	{ "", ALL(OVIO_EINVAL), 0 },
	/* long names and paths: built by the case */
	{ NULL, ALL(OVIO_ENAMETOOLONG), 0 }, /* a 256-byte name */
	{ NULL, ALL(OVIO_ENAMETOOLONG), 0 }, /* a 4001-byte path */
	{ NULL, CREATES, 0 },                /* a 255-byte name */
	{ NULL, ALL(OVIO_ENOENT), 0 },       /* 1000 missing folders */
	/* special files */
	{ "fifo", FIFO_, 0 },
	{ "fifo_link", FIFO_, 0 },
	{ "sock", DEVICE, 0 },
	{ "null", DEVICE, 1 },
	{ "blk", DEVICE, 1 },
	{ "in_null", DEVICE, 1 },
	{ "d/null_deep", DEVICE, 1 },
};
#define NTABLE ((int) (sizeof(table) / sizeof(table[0])))

/* The inside of the root the table expects; returns whether mknod works. */
static bool
make_layout(void)
{
	char               path[1024], tgt[1024], cur[64], next[64];
	struct sockaddr_un sa;
	bool               devices;
	int                s;

	put_file(d.root, "f", "inside\n");
	snprintf(path, sizeof(path), "%s/d", d.root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/d/sub", d.root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	put_file(d.root, "d/f", "inside d\n");

	link_in("../outside", "esc_rel");
	link_in(outside, "esc_abs");
	link_in("../outside/secret", "esc_file_rel");
	snprintf(tgt, sizeof(tgt), "%s/secret", outside);
	link_in(tgt, "esc_file_abs");
	link_in("d/../../outside/secret", "esc_deep");
	link_in("../../outside/secret", "d/esc");
	link_in("../..", "d/upup");
	link_in("chain_out2", "chain_out1");
	link_in("../outside/secret", "chain_out2");
	link_in("../outside/newfile", "dangle_out");
	snprintf(tgt, sizeof(tgt), "%s/newfile2", outside);
	link_in(tgt, "dangle_abs");
	link_in(d.dir, "mid_out");
	link_in("/proc/self/root", "proc_self");
	link_in("/dev/null", "dev_null_abs");

	link_in("d/f", "in_rel");
	link_in("d", "in_dir");
	link_in("d/../f", "in_dotdot");
	link_in("chain2", "chain1");
	link_in("chain3", "chain2");
	link_in("f", "chain3");
	link_in("..", "d/up");
	link_in("made_by_link", "dangle_in");

	link_in("loop2", "loop1");
	link_in("loop1", "loop2");
	link_in("self", "self");
	/* chain_N -> chain_N-1 -> ... -> chain_0 -> f: N + 1 links. */
	link_in("f", "chain_0");
	for (int i = 1; i <= 45; i++) {
		snprintf(cur, sizeof(cur), "chain_%d", i);
		snprintf(next, sizeof(next), "chain_%d", i - 1);
		link_in(next, cur);
	}

	snprintf(path, sizeof(path), "%s/fifo", d.root);
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	link_in("fifo", "fifo_link");
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(path, sizeof(path), "%s/sock", d.root);
	ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ck_assert_int_ge(s = socket(AF_UNIX, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *) &sa, sizeof(sa)), 0);
	close(s); /* the socket file stays */

	snprintf(path, sizeof(path), "%s/null", d.root);
	devices = mknod(path, S_IFCHR | 0666, makedev(1, 3)) == 0;
	if (devices) {
		snprintf(path, sizeof(path), "%s/blk", d.root);
		ck_assert_int_eq(mknod(path, S_IFBLK | 0600, makedev(7, 0)), 0);
		link_in("null", "in_null");
		snprintf(path, sizeof(path), "%s/d/null_deep", d.root);
		ck_assert_int_eq(mknod(path, S_IFCHR | 0666, makedev(1, 3)), 0);
	}
	return (devices);
}

static void
subst(char *out, size_t len, const char *path)
{
	const char *p;

	if ((p = strstr(path, "@OUT@")) != NULL) {
		snprintf(out, len, "%.*s%s%s", (int) (p - path), path, outside,
		    p + 5);
	} else if ((p = strstr(path, "@DIR@")) != NULL) {
		snprintf(
		    out, len, "%.*s%s%s", (int) (p - path), path, d.dir, p + 5);
	} else {
		snprintf(out, len, "%s", path);
	}
}

/* The long paths of the table's NULL rows, in order. */
static void
long_path(int which, char *out, size_t len)
{
	size_t i;

	switch (which) {
	case 0: /* one name past NAME_MAX */
		memset(out, 'a', 256);
		out[256] = '\0';
		break;
	case 1: /* a path past the service's 4000 bytes */
		for (i = 0; i + 2 <= 4001; i += 2) {
			memcpy(out + i, "d/", 2);
		}
		out[4000] = 'x';
		out[4001] = '\0';
		break;
	case 2: /* NAME_MAX exactly: allowed */
		memset(out, 'b', 255);
		out[255] = '\0';
		break;
	default: /* 1000 missing folders: 2999 bytes */
		for (i = 0; i < 1000; i++) {
			memcpy(out + 3 * i, "xx/", 3);
		}
		out[2999] = '\0';
		break;
	}
	(void) len;
}

/*
 * One table entry: the status and whether it escaped (a read handle that
 * reads the outside's secret).
 */
static int
try_op(ovio_client *c, const char *path, int op, int *escapes)
{
	ovio_stat st;
	uint64_t  h;
	char      buf[64];
	size_t    got = 0;
	int       rv;

	if (op == T_STAT) {
		rv = ovio_stat_path(c, path, &st);
		if (rv == 0 && st.size == strlen(SECRET)
		    && st.type == OVIO_TYPE_FILE) {
			(*escapes)++; /* nothing inside is that size */
		}
		return (rv);
	}
	rv = ovio_open(c, path, op_flags[op], 0, &h);
	if (rv != 0) {
		return (rv);
	}
	if ((op_flags[op] & OVIO_OPEN_READ) && ovio_fstat(c, h, &st) == 0
	    && st.type == OVIO_TYPE_FILE
	    && ovio_pread(c, h, buf, sizeof(buf), 0, &got) == 0 && got >= 6
	    && memcmp(buf, "SECRET", 6) == 0) {
		(*escapes)++;
	}
	ck_assert_int_eq(ovio_close(c, h), 0);
	return (rv);
}

START_TEST(hostile_path_table)
{
	const mode  *m = &modes[_i];
	sentinel     sn;
	ovio_client *c;
	static char  path[8192], msg[16384];
	size_t       mlen = 0;
	int  entries = 0, escapes = 0, wrong = 0, skipped = 0, nlong = 0;
	bool devices;

	if (!start_mode(m, NULL)) {
		return;
	}
	sentinel_make(&sn);
	devices = make_layout();
	c       = tu_connect(&d);
	msg[0]  = '\0';
	for (int i = 0; i < NTABLE; i++) {
		const hostile *t = &table[i];

		if (t->path == NULL) {
			long_path(nlong++, path, sizeof(path));
		} else {
			subst(path, sizeof(path), t->path);
		}
		if (t->needs && !devices) {
			skipped += T_OPS;
			continue;
		}
		for (int op = 0; op < T_OPS; op++) {
			int rv = try_op(c, path, op, &escapes);

			entries++;
			if (rv != t->want[op]) {
				wrong++;
				if (mlen < sizeof(msg) - 256) {
					mlen += (size_t) snprintf(msg + mlen,
					    sizeof(msg) - mlen,
					    "  %.60s %s: %s, want %s\n", path,
					    op_names[op], ovio_errname(rv),
					    ovio_errname(t->want[op]));
				}
			}
		}
	}
	ovio_disconnect(c);
	escapes += sentinel_changes(&sn);
	printf("hostile table (%s): %d entries (%d paths x %d ops), %d wrong, "
	       "%d escapes%s\n",
	    m->name, entries, entries / T_OPS, T_OPS, wrong, escapes,
	    skipped ? " (device rows skipped: mknod not allowed)" : "");
	fflush(stdout);
	ck_assert_msg(entries >= 200, "only %d entries", entries);
	ck_assert_msg(escapes == 0, "%s: %d escapes", m->name, escapes);
	ck_assert_msg(
	    wrong == 0, "%s: %d wrong statuses:\n%s", m->name, wrong, msg);
}
END_TEST

/* Whether root/rel holds exactly text. */
static bool
root_has(const char *rel, const char *text)
{
	char    path[1024], buf[256];
	ssize_t got;
	int     fd;

	snprintf(path, sizeof(path), "%s/%s", d.root, rel);
	if ((fd = open(path, O_RDONLY)) < 0) {
		return (false);
	}
	got = read(fd, buf, sizeof(buf));
	close(fd);
	return (got == (ssize_t) strlen(text) && memcmp(buf, text, got) == 0);
}

/* An atomic put (OPEN_TEMP, write, commit) of text at path. */
static int
temp_put(ovio_client *c, const char *path, const char *text)
{
	uint64_t h;
	size_t   put;
	int      rv;

	if ((rv = ovio_open(c, path, OVIO_OPEN_WRITE | OVIO_OPEN_TEMP, 0, &h))
	    != 0) {
		return (rv);
	}
	ck_assert_int_eq(ovio_pwrite(c, h, text, strlen(text), 0, &put), 0);
	return (ovio_close_commit(c, h));
}

/*
 * mkdir, rename, remove and the atomic put act on the last name in a folder
 * reached through links: followed while they stay beneath the root (in_dir
 * -> d, d/up -> ..), refused when they lead out, in every resolution mode.
 */
START_TEST(namespace_through_links)
{
	const mode  *m = &modes[_i];
	sentinel     sn;
	ovio_client *c;
	struct stat  st;
	char         path[1024];

	if (!start_mode(m, NULL)) {
		return;
	}
	sentinel_make(&sn);
	(void) make_layout();
	c = tu_connect(&d);

	ck_assert_int_eq(ovio_mkdir(c, "in_dir/nd", 0, 0755), 0);
	snprintf(path, sizeof(path), "%s/d/nd", d.root);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(ovio_mkdir(c, "in_dir/p/q", OVIO_NS_PARENTS, 0), 0);
	snprintf(path, sizeof(path), "%s/d/p/q", d.root);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(ovio_rename(c, "in_dir/nd", "d/up/nd2", 0), 0);
	snprintf(path, sizeof(path), "%s/nd2", d.root);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(ovio_remove(c, "in_dir/up/nd2"), 0);
	ck_assert_int_ne(stat(path, &st), 0);
	ck_assert_int_eq(temp_put(c, "in_dir/tp", "put through a link\n"), 0);
	ck_assert(root_has("d/tp", "put through a link\n"));
	ck_assert_int_eq(temp_put(c, "in_dir/tp", "replaced\n"), 0);
	ck_assert(root_has("d/tp", "replaced\n"));
	/* The link in the last place is acted on itself. */
	ck_assert_int_eq(ovio_rename(c, "in_dir", "in_dir2", 0), 0);
	snprintf(path, sizeof(path), "%s/in_dir2", d.root);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(ovio_remove(c, "in_dir2"), 0);
	ck_assert(root_has("d/f", "inside d\n"));

	ck_assert_int_eq(ovio_mkdir(c, "esc_rel/nd", 0, 0), OUT);
	ck_assert_int_eq(ovio_mkdir(c, "esc_abs/p/q", OVIO_NS_PARENTS, 0), OUT);
	ck_assert_int_eq(ovio_rename(c, "f", "esc_rel/f", 0), OUT);
	ck_assert_int_eq(ovio_rename(c, "esc_rel/secret", "stolen", 0), OUT);
	ck_assert_int_eq(ovio_remove(c, "esc_rel/secret"), OUT);
	ck_assert_int_eq(ovio_remove(c, "d/upup/outside/secret"), OUT);
	ck_assert_int_eq(temp_put(c, "esc_rel/secret", "overwritten\n"), OUT);
	ck_assert_int_eq(temp_put(c, "mid_out/outside/t", "new\n"), OUT);
	ovio_disconnect(c);
	ck_assert_int_eq(sentinel_changes(&sn), 0);
	ck_assert(root_has("f", "inside\n"));
}
END_TEST

/* The symlink-swap race: sw is a real folder, then a link to outside. */
typedef struct swapper {
	char          a[1024], b[1024];
	volatile int  stop;
	unsigned long swaps;
	int           err;
} swapper;

static void *
swap_main(void *arg)
{
	swapper *s = arg;

	while (!s->stop) {
		if (renameat2(AT_FDCWD, s->a, AT_FDCWD, s->b, RENAME_EXCHANGE)
		    != 0) {
			s->err = errno;
			break;
		}
		s->swaps++;
	}
	return (NULL);
}

START_TEST(symlink_swap_race)
{
	const mode   *m = &modes[_i];
	sentinel      sn;
	swapper       sw;
	pthread_t     th;
	ovio_client  *c;
	const char   *env   = getenv("OVIO_TEST_RACE_MS");
	int64_t       ms    = env != NULL ? atoll(env) : 3000, end;
	unsigned long iters = 0, inside = 0, refused = 0;
	int           escapes = 0, rv;
	char          path[1024], dir[1024];

	if (!start_mode(m, NULL)) {
		return;
	}
	sentinel_make(&sn);
	snprintf(dir, sizeof(dir), "%s/sw", d.root);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	put_file(dir, "secret", "inside\n");
	link_in("../outside", "sw_alt");
	memset(&sw, 0, sizeof(sw));
	snprintf(sw.a, sizeof(sw.a), "%s/sw", d.root);
	snprintf(sw.b, sizeof(sw.b), "%s/sw_alt", d.root);
	if (renameat2(AT_FDCWD, sw.a, AT_FDCWD, sw.b, RENAME_EXCHANGE) != 0) {
		tu_skip("%s: renameat2 RENAME_EXCHANGE: %s", m->name,
		    strerror(errno));
		return;
	}
	c = tu_connect(&d);
	ck_assert_int_eq(pthread_create(&th, NULL, swap_main, &sw), 0);
	end = tu_now_ms() + ms;
	while (tu_now_ms() < end) {
		int op = (int) (iters % T_OPS);

		snprintf(path, sizeof(path), "sw/%s",
		    op == T_CREATE || op == T_EXCL ? "new" : "secret");
		rv = try_op(c, path, op, &escapes);
		if (rv == 0) {
			inside++;
		} else {
			refused++;
		}
		iters++;
	}
	sw.stop = 1;
	pthread_join(th, NULL);
	ovio_disconnect(c);
	ck_assert_msg(sw.err == 0, "swap: %s", strerror(sw.err));
	escapes += sentinel_changes(&sn);
	printf("symlink swap race (%s): %lu opens and stats in %lld ms, %lu "
	       "swaps; %lu inside, %lu refused, %d escapes\n",
	    m->name, iters, (long long) ms, sw.swaps, inside, refused, escapes);
	fflush(stdout);
	ck_assert_msg(escapes == 0, "%s: %d escapes", m->name, escapes);
	ck_assert_msg(inside > 0 && refused > 0,
	    "the race never hit one side (%lu inside, %lu refused)", inside,
	    refused);
}
END_TEST

START_TEST(devices_and_sockets_only_with_allow_devices)
{
	ovio_client *c;
	ovio_stat    st;
	uint64_t     h;
	bool         devices;

	if (!start_mode(&modes[_i], "--allow-devices")) {
		return;
	}
	ck_assert(log_has("device nodes and sockets allowed"));
	mkdir(outside, 0755);
	devices = make_layout();
	c       = tu_connect(&d);
	/* A socket cannot be opened as a file: ENXIO, not a policy status. */
	ck_assert_int_eq(
	    ovio_open(c, "sock", OVIO_OPEN_READ, 0, &h), OVIO_ENXIO);
	ck_assert_int_eq(ovio_open(c, "fifo", OVIO_OPEN_READ, 0, &h), 0);
	ck_assert_int_eq(ovio_close(c, h), 0);
	if (devices) {
		ck_assert_int_eq(ovio_open(c, "null",
		                     OVIO_OPEN_READ | OVIO_OPEN_WRITE, 0, &h),
		    0);
		ck_assert_int_eq(ovio_fstat(c, h, &st), 0);
		ck_assert_int_eq(st.type, OVIO_TYPE_OTHER);
		ck_assert_int_eq(ovio_close(c, h), 0);
		ck_assert_int_eq(
		    ovio_open(c, "in_null", OVIO_OPEN_READ, 0, &h), 0);
		ck_assert_int_eq(ovio_close(c, h), 0);
	}
	/* Still confined: a link to /dev/null outside stays refused. */
	ck_assert_int_eq(
	    ovio_open(c, "dev_null_abs", OVIO_OPEN_READ, 0, &h), OVIO_EOUTSIDE);
	ovio_disconnect(c);
	if (!devices) {
		tu_skip("devices: mknod is not allowed here (sockets checked)");
	}
}
END_TEST

START_TEST(read_only_refuses_every_write)
{
	ovio_client *c;
	ovio_stat    st;
	uint64_t     h;
	size_t       put;
	char         path[1024], buf[16];
	size_t       got;

	tu_daemon_start(&d, backend(), "--read-only", NULL);
	ck_assert(log_has("read-only, new files 0640"));
	put_file(d.root, "f", "inside\n");
	c = tu_connect(&d);
	ck_assert_int_eq(ovio_open(c, "f", OVIO_OPEN_WRITE, 0, &h), OVIO_EROFS);
	ck_assert_int_eq(
	    ovio_open(c, "f", OVIO_OPEN_READ | OVIO_OPEN_WRITE, 0, &h),
	    OVIO_EROFS);
	ck_assert_int_eq(
	    ovio_open(c, "new", OVIO_OPEN_WRITE | OVIO_OPEN_CREATE, 0, &h),
	    OVIO_EROFS);
	ck_assert_int_eq(
	    ovio_open(c, "new",
	        OVIO_OPEN_WRITE | OVIO_OPEN_CREATE | OVIO_OPEN_EXCL, 0, &h),
	    OVIO_EROFS);
	ck_assert_int_eq(
	    ovio_open(c, "f", OVIO_OPEN_WRITE | OVIO_OPEN_TRUNC, 0, &h),
	    OVIO_EROFS);
	/* CREATE with READ only is a create too. */
	ck_assert_int_eq(
	    ovio_open(c, "new", OVIO_OPEN_READ | OVIO_OPEN_CREATE, 0, &h),
	    OVIO_EROFS);
	/* Reading works; writes and set-size on that handle are refused. */
	ck_assert_int_eq(ovio_open(c, "f", OVIO_OPEN_READ, 0, &h), 0);
	ck_assert_int_eq(ovio_pwrite(c, h, "x", 1, 0, &put), OVIO_EROFS);
	ck_assert_int_eq(ovio_setsize(c, h, 0), OVIO_EROFS);
	ck_assert_int_eq(ovio_pread(c, h, buf, sizeof(buf), 0, &got), 0);
	ck_assert_int_eq(got, 7);
	ck_assert_int_eq(ovio_stat_path(c, "f", &st), 0);
	ck_assert_int_eq(st.size, 7);
	ck_assert_int_eq(ovio_close(c, h), 0);
	/* Namespace changes too, before they run. */
	ck_assert_int_eq(ovio_mkdir(c, "dir", 0, 0), OVIO_EROFS);
	ck_assert_int_eq(ovio_remove(c, "f"), OVIO_EROFS);
	ck_assert_int_eq(ovio_rename(c, "f", "g", 0), OVIO_EROFS);
	ck_assert_int_eq(ovio_stat_path(c, "f", &st), 0);
	ovio_disconnect(c);
	/* A listing only reads: ls works, from the top and by folder. */
	ck_assert_int_eq(tu_sh("%s/ovio -e %s ls / | grep -qx f", tu_build(),
	                     d.url),
	    0);
	ck_assert_int_eq(tu_sh("%s/ovio -e %s ls --json | grep -q '\"f\"'",
	                     tu_build(), d.url),
	    0);
	snprintf(path, sizeof(path), "%s/new", d.root);
	ck_assert_int_ne(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/dir", d.root);
	ck_assert_int_ne(access(path, F_OK), 0);
	/* The CLI: put fails with the permission exit status (4). */
	ck_assert_int_eq(tu_sh("%s/ovio -e %s put /etc/hostname x 2>/dev/null",
	                     tu_build(), d.url),
	    4);
}
END_TEST

START_TEST(root_0750_files_0640_and_file_mode)
{
	ovio_client *c;
	char         fresh[1024], path[1024];
	struct stat  st;
	uint64_t     h;

	umask(022);
	tu_tmpdir(fresh, sizeof(fresh));
	strncat(fresh, "/fresh-root", sizeof(fresh) - strlen(fresh) - 1);
	/* The later --root wins: a root oviod has to create. */
	tu_daemon_start(&d, backend(), "--root", fresh, NULL);
	ck_assert_int_eq(stat(fresh, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0750);
	c = tu_connect(&d);
	ck_assert_int_eq(
	    ovio_open(c, "a", OVIO_OPEN_WRITE | OVIO_OPEN_CREATE, 0, &h), 0);
	ck_assert_int_eq(ovio_close(c, h), 0);
	ck_assert_int_eq(
	    ovio_open(c, "b", OVIO_OPEN_WRITE | OVIO_OPEN_CREATE, 0604, &h), 0);
	ck_assert_int_eq(ovio_close(c, h), 0);
	ovio_disconnect(c);
	snprintf(path, sizeof(path), "%s/a", fresh);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	snprintf(path, sizeof(path), "%s/b", fresh);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0604);
	tu_daemon_cleanup(&d);
	tu_rmtree(fresh);

	tu_daemon_start(&d, backend(), "--file-mode", "0600", NULL);
	ck_assert(log_has("new files 0600"));
	c = tu_connect(&d);
	ck_assert_int_eq(
	    ovio_open(c, "c", OVIO_OPEN_WRITE | OVIO_OPEN_CREATE, 0, &h), 0);
	ck_assert_int_eq(ovio_close(c, h), 0);
	ovio_disconnect(c);
	snprintf(path, sizeof(path), "%s/c", d.root);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
}
END_TEST

START_TEST(file_mode_is_validated)
{
	static const char *const bad[] = { "0", "000", "1000", "01777", "0888",
		"8", "abc", "", "-1", "0644x", "07777", " 644", NULL };

	for (int i = 0; bad[i] != NULL; i++) {
		ck_assert_msg(tu_sh("%s/oviod --file-mode '%s' --help "
		                    ">/dev/null 2>&1",
		                  tu_build(), bad[i])
		                  == 2,
		    "--file-mode '%s' was taken", bad[i]);
	}
	ck_assert_int_eq(
	    tu_sh("%s/oviod --file-mode 0600 --help >/dev/null", tu_build()),
	    0);
	ck_assert_int_eq(
	    tu_sh("%s/oviod --file-mode=755 --help >/dev/null", tu_build()), 0);
	ck_assert_int_eq(
	    tu_sh("%s/oviod --read-only=1 2>/dev/null", tu_build()), 2);
	ck_assert_int_eq(
	    tu_sh("%s/oviod --help | grep -q -- --allow-devices", tu_build()),
	    0);
}
END_TEST

START_TEST(status_does_not_name_the_root)
{
	ovio_client        *c;
	ovio_service_status st;
	char                line[600];

	tu_daemon_start(&d, backend(), NULL);
	c = tu_connect(&d);
	ck_assert_int_eq(ovio_status(c, &st), 0);
	ck_assert_str_eq(st.root, "");
	ovio_disconnect(c);
	snprintf(line, sizeof(line), "root %s", d.root);
	ck_assert(log_has(line)); /* the service's own log still says it */
	ck_assert_int_eq(tu_sh("%s/ovio -e %s status | grep -q 'not "
	                       "disclosed'",
	                     tu_build(), d.url),
	    0);
	ck_assert_int_eq(tu_sh("%s/ovio -e %s --json status | grep -q "
	                       "'\"root\": \"\"'",
	                     tu_build(), d.url),
	    0);
}
END_TEST

static Suite *
confine_suite(void)
{
	Suite *s = suite_create("confine");
	TCase *tc;

#define CCASE(fn, secs, loops)                                     \
	tc = tcase_create(#fn);                                    \
	tcase_set_timeout(tc, secs);                               \
	if (!tu_case_skipped(tc, #fn)) {                           \
		tcase_add_checked_fixture(tc, NULL, stop_cleanup); \
		tcase_add_loop_test(tc, fn, 0, loops);             \
	}                                                          \
	suite_add_tcase(s, tc)

	CCASE(hostile_path_table, 60, NMODES);
	CCASE(symlink_swap_race, 600, NMODES);
	CCASE(namespace_through_links, 60, NMODES);
	CCASE(devices_and_sockets_only_with_allow_devices, 30, 2);
	CCASE(read_only_refuses_every_write, 30, 1);
	CCASE(root_0750_files_0640_and_file_mode, 30, 1);
	CCASE(file_mode_is_validated, 30, 1);
	CCASE(status_does_not_name_the_root, 30, 1);
	return (s);
}

int
main(void)
{
	const char *b = backend();

	if (b != NULL && strcmp(b, "uring") == 0 && !tu_have_uring()) {
		tu_skip_all("backend uring: io_uring is unavailable here");
	}
	return (tu_run(confine_suite()));
}
