/*
 * fault_test.c - what the service does when the world fails under it,
 * against a real oviod on real file systems: the disk of its root fills
 * up (a 1 MiB tmpfs), and the service itself is killed (SIGKILL) in the
 * middle of flushed writes.  Nothing it acknowledged may be lost, and it
 * keeps serving.  The backend is $OVIO_TEST_BACKEND (tests/run.sh runs
 * this suite on each).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

static tu_daemon d, d2;
static char      dir[256], small[320];
static bool      mounted;

static const char *
backend(void)
{
	return (getenv("OVIO_TEST_BACKEND"));
}

static void
setup(void)
{
	tu_tmpdir(dir, sizeof(dir));
	memset(&d, 0, sizeof(d));
	memset(&d2, 0, sizeof(d2));
	mounted = false;
}

static void
teardown(void)
{
	tu_daemon_cleanup(&d);
	tu_daemon_cleanup(&d2);
	if (mounted) {
		tu_sh("umount %s", small);
	}
	tu_rmtree(dir);
}

/* The byte at offset off of the test's data (the same on every run). */
static uint8_t
pattern(uint64_t off)
{
	return ((uint8_t) ((off * 131u + (off >> 12) * 7u) & 0xff));
}

static void
fill(uint8_t *buf, size_t len, uint64_t off)
{
	for (size_t i = 0; i < len; i++) {
		buf[i] = pattern(off + i);
	}
}

/* The first offset below len where buf differs from the pattern, or -1. */
static long
first_wrong(const uint8_t *buf, size_t len, uint64_t off)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != pattern(off + i)) {
			return ((long) i);
		}
	}
	return (-1);
}

/*
 * The root is a 1 MiB tmpfs.  Writes of 100 000 bytes go on until the
 * disk is full: the one that does not fit is acknowledged short, with the
 * count of the bytes it wrote, and the next fails ENOSPC.  Every byte
 * acknowledged is there (read through the service and straight from the
 * disk), another client is served meanwhile, and once a file is removed
 * the same handle writes again.
 */
START_TEST(disk_full_is_a_short_write_then_enospc)
{
	enum { CHUNK = 100000, FILLER = 256 * 1024 };
	ovio_service_status st;
	ovio_client        *c, *other;
	uint8_t            *buf, *back;
	uint64_t            h, hf, off = 0;
	size_t              put, got;
	int                 rv, shorts = 0, writes = 0;
	char                path[400];
	FILE               *f;

	snprintf(small, sizeof(small), "%s/small", dir);
	ck_assert_int_eq(mkdir(small, 0750), 0);
	if (tu_sh("mount -t tmpfs -o size=1m,mode=0750 tmpfs %s 2>/dev/null",
	        small)
	    != 0) {
		tu_skip("cannot mount a tmpfs here");
		return;
	}
	mounted = true;
	tu_daemon_start(&d, backend(), "--root", small, NULL);
	c     = tu_connect(&d);
	other = tu_connect(&d);
	ck_assert_ptr_nonnull(buf = malloc(CHUNK));
	ck_assert_ptr_nonnull(back = malloc(1u << 20));

	/* A filler file, to be removed later. */
	ck_assert_int_eq(ovio_open(c, "filler",
	                     OVIO_OPEN_WRITE | OVIO_OPEN_CREATE, 0600, &hf),
	    0);
	memset(back, 0xee, FILLER);
	ck_assert_int_eq(ovio_pwrite(c, hf, back, FILLER, 0, &put), 0);
	ck_assert_uint_eq(put, FILLER);
	ck_assert_int_eq(ovio_close(c, hf), 0);

	ck_assert_int_eq(ovio_open(c, "data",
	                     OVIO_OPEN_READ | OVIO_OPEN_WRITE
	                         | OVIO_OPEN_CREATE,
	                     0600, &h),
	    0);
	for (;;) {
		ck_assert_int_lt(writes++, 20);
		fill(buf, CHUNK, off);
		rv = ovio_pwrite(c, h, buf, CHUNK, off, &put);
		if (rv != 0) {
			break;
		}
		off += put;
		if (put < CHUNK) {
			shorts++;
		}
		/* Served meanwhile. */
		ck_assert_int_eq(ovio_status(other, &st), 0);
	}
	printf("faults: 1 MiB tmpfs full after %llu bytes in %d writes of "
	       "%d (%d short), then %s\n",
	    (unsigned long long) off, writes, CHUNK, shorts,
	    ovio_errname(rv));
	ck_assert_msg(rv == OVIO_ENOSPC, "%s", ovio_errname(rv));
	ck_assert_int_eq(shorts, 1);
	ck_assert_uint_gt(off, 5 * CHUNK);
	ck_assert_uint_le(off, (1u << 20) - FILLER);
	ck_assert_int_eq(ovio_flush(c, h), 0);

	/* Every acknowledged byte, through the service and on the disk. */
	ck_assert_int_eq(ovio_pread_all(c, h, back, 1u << 20, 0, 0, 0, &got), 0);
	ck_assert_uint_eq(got, off);
	ck_assert_int_eq(first_wrong(back, got, 0), -1);
	snprintf(path, sizeof(path), "%s/data", small);
	ck_assert_ptr_nonnull(f = fopen(path, "rb"));
	got = fread(back, 1, 1u << 20, f);
	fclose(f);
	ck_assert_uint_eq(got, off);
	ck_assert_int_eq(first_wrong(back, got, 0), -1);

	/* Space freed: the same handle writes on. */
	ck_assert_int_eq(ovio_remove(c, "filler"), 0);
	fill(buf, CHUNK, off);
	ck_assert_int_eq(ovio_pwrite(c, h, buf, CHUNK, off, &put), 0);
	ck_assert_uint_eq(put, CHUNK);
	ck_assert_int_eq(ovio_flush(c, h), 0);
	ck_assert_int_eq(ovio_pread_all(c, h, back, 1u << 20, 0, 0, 0, &got), 0);
	ck_assert_uint_eq(got, off + CHUNK);
	ck_assert_int_eq(first_wrong(back, got, 0), -1);
	ck_assert_int_eq(ovio_close(c, h), 0);
	ck_assert_int_eq(ovio_status(other, &st), 0);
	ovio_disconnect(c);
	ovio_disconnect(other);
	free(buf);
	free(back);
	tu_daemon_cleanup(&d);
}
END_TEST

typedef struct killer {
	pid_t pid;
	int   after_ms;
} killer;

static void *
kill_later(void *arg)
{
	killer *k = arg;

	usleep((useconds_t) k->after_ms * 1000);
	kill(k->pid, SIGKILL);
	return (NULL);
}

/*
 * 20 runs: a client writes 4 KiB chunks one after another, each followed
 * by a flush, while oviod is killed with SIGKILL after 30 to 220 ms.  A
 * chunk counts as acknowledged when its write and its flush both answered
 * OK.  After each kill the file holds every acknowledged chunk whole; and
 * a new oviod on the same root serves it.  The machine stays up, so this
 * shows that nothing acknowledged was still in the service (its buffers,
 * its queues) when it died, not that the flush reached the disk: a power
 * cut is not tested here.
 */
START_TEST(kill_9_during_flushed_writes_loses_nothing_acknowledged)
{
	enum { RUNS = 20, CHUNK = 4096, MAXCHUNKS = 16384 };
	ovio_client *c;
	uint8_t      buf[CHUNK], *back;
	uint64_t     h, total_acked = 0, total_lost = 0;
	char         root[320], path[600], name[32];
	pthread_t    t;
	killer       k;
	size_t       put, got;
	int          run, rv, rv_flush, last_rv = 0;
	FILE        *f;

	ck_assert_ptr_nonnull(back = malloc((size_t) MAXCHUNKS * CHUNK));
	for (run = 0; run < RUNS; run++) {
		uint64_t acked = 0, i;

		tu_daemon_start(&d, backend(), NULL);
		snprintf(root, sizeof(root), "%s", d.root);
		c = tu_connect(&d);
		snprintf(name, sizeof(name), "log%d", run);
		ck_assert_int_eq(ovio_open(c, name,
		                     OVIO_OPEN_WRITE | OVIO_OPEN_CREATE, 0600,
		                     &h),
		    0);
		k.pid      = d.pid;
		k.after_ms = 30 + (run * 97) % 191;
		ck_assert_int_eq(pthread_create(&t, NULL, kill_later, &k), 0);
		for (i = 0; i < MAXCHUNKS; i++) {
			fill(buf, CHUNK, i * CHUNK);
			rv = ovio_pwrite(c, h, buf, CHUNK, i * CHUNK, &put);
			if (rv != 0) {
				last_rv = rv;
				break;
			}
			ck_assert_uint_eq(put, CHUNK);
			rv_flush = ovio_flush(c, h);
			if (rv_flush != 0) {
				last_rv = rv_flush;
				break;
			}
			acked = i + 1;
		}
		pthread_join(t, NULL);
		/* The kill came before the loop ran out. */
		ck_assert_msg(i < MAXCHUNKS, "run %d: not killed in time", run);
		ck_assert_msg(last_rv == OVIO_ECLOSED, "run %d: %s", run,
		    ovio_errname(last_rv));
		ovio_disconnect(c);
		ck_assert_int_eq(tu_daemon_stop(&d, SIGKILL), 128 + SIGKILL);

		/* The disk: every acknowledged chunk whole. */
		snprintf(path, sizeof(path), "%s/%s", root, name);
		ck_assert_ptr_nonnull(f = fopen(path, "rb"));
		got = fread(back, 1, (size_t) MAXCHUNKS * CHUNK, f);
		fclose(f);
		if (got < acked * CHUNK) {
			total_lost += acked - got / CHUNK;
		} else {
			ck_assert_msg(first_wrong(back, acked * CHUNK, 0) == -1,
			    "run %d: an acknowledged chunk differs", run);
		}
		total_acked += acked;

		/* Once: a new oviod on the same root serves what is there. */
		if (run == RUNS - 1) {
			uint64_t h2;

			tu_daemon_start(&d2, backend(), "--root", root, NULL);
			c = tu_connect(&d2);
			ck_assert_int_eq(
			    ovio_open(c, name, OVIO_OPEN_READ, 0, &h2), 0);
			ck_assert_int_eq(
			    ovio_pread_all(c, h2, back,
			        (size_t) MAXCHUNKS * CHUNK, 0, 0, 0, &got),
			    0);
			ck_assert_uint_ge(got, acked * CHUNK);
			ck_assert_int_eq(first_wrong(back, acked * CHUNK, 0),
			    -1);
			ck_assert_int_eq(ovio_close(c, h2), 0);
			ovio_disconnect(c);
			tu_daemon_cleanup(&d2);
		}
		tu_daemon_cleanup(&d);
	}
	printf("faults: %d runs of SIGKILL during flushed 4 KiB writes: "
	       "%llu chunks acknowledged, %llu lost\n",
	    RUNS, (unsigned long long) total_acked,
	    (unsigned long long) total_lost);
	ck_assert_uint_eq(total_lost, 0);
	ck_assert_uint_gt(total_acked, RUNS);
	free(back);
}
END_TEST

static Suite *
fault_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *tc;

#define FCASE(fn, secs)                                         \
	tc = tcase_create(#fn);                                 \
	tcase_set_timeout(tc, secs);                            \
	if (!tu_case_skipped(tc, #fn)) {                        \
		tcase_add_checked_fixture(tc, setup, teardown); \
		tcase_add_test(tc, fn);                         \
	}                                                       \
	suite_add_tcase(s, tc)

	FCASE(disk_full_is_a_short_write_then_enospc, 30);
	FCASE(kill_9_during_flushed_writes_loses_nothing_acknowledged, 120);
	return (s);
}

int
main(void)
{
	return (tu_run(fault_suite()));
}
