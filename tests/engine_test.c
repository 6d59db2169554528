/*
 * engine_test.c - the engine in-process: engines made and stopped by the
 * test itself (no oviod process), served over ipc and driven through
 * libovio.  The engine is an object with no file-scope state, so two of
 * them run side by side in one process, each serving its own root.  Cases
 * about the library's public structs run here too: no oviod to start.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "testutil.h"

#define NENG 2

typedef struct te_engine {
	char        dir[256];
	char        root[320];
	char        url[340];
	const char *listen[2];
	eng_options o;
	engine     *e;
} te_engine;

/* Makes a root and an ipc endpoint under a new folder and starts on them. */
static void
te_start(te_engine *t, const char *backend)
{
	char cmd[600];

	memset(t, 0, sizeof(*t));
	tu_tmpdir(t->dir, sizeof(t->dir));
	snprintf(t->root, sizeof(t->root), "%s/root", t->dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", t->root);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(t->url, sizeof(t->url), "ipc://%s/ovio.sock", t->dir);
	t->listen[0]                    = t->url;
	t->listen[1]                    = NULL;
	t->o.root                       = t->root;
	t->o.backend                    = backend;
	t->o.threads                    = 2;
	t->o.listen                     = t->listen;
	t->o.limits.handles_per_session = 16;
	t->o.limits.ops_per_session     = 64;
	t->o.limits.bytes_per_session   = 1u << 24;
	t->o.limits.max_io              = 1u << 20;
	t->o.limits.max_request         = (1u << 20) + 64 * 1024;
	ck_assert_int_eq(ovio__engine_start(&t->e, &t->o), 0);
	ck_assert_ptr_nonnull(t->e);
}

/* Reads a whole small file of a root from the disk, NUL-terminated. */
static bool
te_slurp(const char *root, const char *name, char *buf, size_t len)
{
	char   path[400];
	FILE  *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	if ((f = fopen(path, "rb")) == NULL) {
		return (false);
	}
	n      = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (true);
}

START_TEST(two_engines_in_one_process)
{
	te_engine           t[NENG];
	ovio_client        *c[NENG];
	ovio_service_status st;
	char                want[64], got[64], disk[64];
	uint64_t            h;
	size_t              n;
	int                 i;

	for (i = 0; i < NENG; i++) {
		te_start(&t[i], "threads");
	}
	for (i = 0; i < NENG; i++) {
		ck_assert_int_eq(ovio_connect(&c[i], t[i].url, 5000), 0);
	}
	/* The same name in each: each engine writes under its own root. */
	for (i = 0; i < NENG; i++) {
		snprintf(want, sizeof(want), "served by engine %d", i);
		ck_assert_int_eq(ovio_open(c[i], "f.txt",
		                     OVIO_OPEN_READ | OVIO_OPEN_WRITE
		                         | OVIO_OPEN_CREATE | OVIO_OPEN_TRUNC,
		                     0600, &h),
		    0);
		ck_assert_int_eq(
		    ovio_pwrite(c[i], h, want, strlen(want), 0, &n), 0);
		ck_assert_uint_eq(n, strlen(want));
		memset(got, 0, sizeof(got));
		ck_assert_int_eq(
		    ovio_pread(c[i], h, got, sizeof(got), 0, &n), 0);
		ck_assert_uint_eq(n, strlen(want));
		ck_assert_str_eq(got, want);
		ck_assert_int_eq(ovio_close(c[i], h), 0);
	}
	for (i = 0; i < NENG; i++) {
		snprintf(want, sizeof(want), "served by engine %d", i);
		ck_assert(te_slurp(t[i].root, "f.txt", disk, sizeof(disk)));
		ck_assert_str_eq(disk, want);
		/* Each reports its own counters (and no root path). */
		ck_assert_int_eq(ovio_status(c[i], &st), 0);
		ck_assert_str_eq(st.root, "");
		ck_assert_str_eq(st.backend, "threads");
		ck_assert_uint_eq(st.bytes_written, strlen(want));
		ck_assert_uint_eq(st.handles, 0);
	}
	for (i = 0; i < NENG; i++) {
		ovio_disconnect(c[i]);
	}
	/* Stopping one leaves the other serving. */
	ck_assert(ovio__engine_stop(t[0].e, 2000));
	ck_assert_int_eq(ovio_connect(&c[1], t[1].url, 5000), 0);
	ck_assert_int_eq(ovio_status(c[1], &st), 0);
	ck_assert_uint_eq(st.bytes_written, strlen("served by engine 1"));
	ovio_disconnect(c[1]);
	ck_assert(ovio__engine_stop(t[1].e, 2000));
	for (i = 0; i < NENG; i++) {
		tu_rmtree(t[i].dir);
	}
}
END_TEST

/* A start that fails undoes itself: the next engine starts normally. */
START_TEST(failed_start_leaves_nothing_behind)
{
	te_engine t;
	engine   *e = NULL;

	te_start(&t, "threads");
	/* A second engine on the first one's endpoint cannot listen. */
	ck_assert_int_ne(ovio__engine_start(&e, &t.o), 0);
	ck_assert_ptr_null(e);
	ck_assert(ovio__engine_stop(t.e, 2000));
	/* The endpoint is free again. */
	ck_assert_int_eq(ovio__engine_start(&e, &t.o), 0);
	ck_assert(ovio__engine_stop(e, 2000));
	tu_rmtree(t.dir);
}
END_TEST

static void
te_no_cb(void *arg, const ovio_result *r)
{
	(void) arg;
	(void) r;
	ck_abort_msg("a refused request's callback ran");
}

/*
 * The public structs' reserved space (ovio.h, "Growing without breaking
 * the ABI"): a request using it is refused, and what the library fills
 * reads 0 there, whatever the caller's memory held.
 */
START_TEST(reserved_space_is_refused_in_and_zero_out)
{
	te_engine           t;
	ovio_client        *c;
	ovio_request        rq = { .op = OVIO_OP_STATUS, .tag = 1 };
	ovio_stat           st;
	ovio_service_status ss;
	tu_collector        coll;
	const ovio_result  *r;
	uint64_t            h;
	size_t              i;
	int                 n;

	te_start(&t, "threads");
	ck_assert_int_eq(ovio_connect(&c, t.url, 5000), 0);
	rq.reserved[6] = 1;
	ck_assert_int_eq(ovio_submit(c, &rq, te_no_cb, NULL), OVIO_EINVAL);

	ck_assert_int_eq(
	    ovio_open(c, "r.txt", OVIO_OPEN_WRITE | OVIO_OPEN_CREATE, 0600, &h),
	    0);
	memset(&st, 0xa5, sizeof(st));
	ck_assert_int_eq(ovio_fstat(c, h, &st), 0);
	for (i = 0; i < sizeof(st.reserved) / sizeof(st.reserved[0]); i++) {
		ck_assert_uint_eq(st.reserved[i], 0);
	}
	ck_assert_int_eq(ovio_close(c, h), 0);
	memset(&ss, 0xa5, sizeof(ss));
	ck_assert_int_eq(ovio_status(c, &ss), 0);
	for (i = 0; i < sizeof(ss.reserved) / sizeof(ss.reserved[0]); i++) {
		ck_assert_uint_eq(ss.reserved[i], 0);
	}

	tu_coll_init(&coll);
	rq.reserved[6] = 0;
	ck_assert_int_eq(ovio_submit(c, &rq, tu_coll_cb, &coll), 0);
	ck_assert_int_eq(tu_coll_wait(&coll, 1, 5000), 1);
	r = tu_coll_find(&coll, 1, &n);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->status, OVIO_OK);
	for (i = 0; i < sizeof(r->reserved) / sizeof(r->reserved[0]); i++) {
		ck_assert_uint_eq(r->reserved[i], 0);
	}
	ovio_disconnect(c);
	ck_assert(ovio__engine_stop(t.e, 2000));
	tu_rmtree(t.dir);
}
END_TEST

static Suite *
engine_suite(void)
{
	Suite *s = suite_create("engine");
	TCase *tc;

	tc = tcase_create("two_engines_in_one_process");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, two_engines_in_one_process);
	suite_add_tcase(s, tc);

	tc = tcase_create("failed_start_leaves_nothing_behind");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, failed_start_leaves_nothing_behind);
	suite_add_tcase(s, tc);

	tc = tcase_create("reserved_space_is_refused_in_and_zero_out");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, reserved_space_is_refused_in_and_zero_out);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (tu_run(engine_suite()));
}
