/*
 * unit_test.c - units: the error space, framing and codec, path checks and
 * the handle table.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fs.h"
#include "testutil.h"
#include "wire.h"

#include <nng/supplemental/util/platform.h>

/* ---- error space ---- */

START_TEST(errors_have_names_and_messages)
{
#define CHECK_ERR(name, num, msg)                   \
	ck_assert_str_eq(ovio_errname(num), #name); \
	ck_assert_str_eq(ovio_strerror(num), msg);
	OVIO_ERR_MAP(CHECK_ERR)
#undef CHECK_ERR
	ck_assert_str_eq(ovio_errname(9999), "EUNKNOWN");
	ck_assert_str_eq(ovio_strerror(-5), "unknown error");
}
END_TEST

START_TEST(errors_match_the_wire_enum)
{
	const ProtobufCEnumValue *v;
	unsigned                  n = 0;

#define CHECK_WIRE(name, num, msg)                                          \
	v = protobuf_c_enum_descriptor_get_value_by_name(                   \
	    &ovio__status__descriptor, #name);                              \
	ck_assert_msg(v != NULL, "Status." #name " missing in ovio.proto"); \
	ck_assert_int_eq(v->value, num);                                    \
	n++;
	OVIO_ERR_MAP(CHECK_WIRE)
#undef CHECK_WIRE
	ck_assert_uint_eq(ovio__status__descriptor.n_values, n);
}
END_TEST

START_TEST(errno_is_mapped_once)
{
	ck_assert_int_eq(ovio__err_from_errno(0), OVIO_OK);
	ck_assert_int_eq(ovio__err_from_errno(ENOENT), OVIO_ENOENT);
	ck_assert_int_eq(ovio__err_from_errno(EACCES), OVIO_EACCES);
	ck_assert_int_eq(ovio__err_from_errno(ENOSPC), OVIO_ENOSPC);
	ck_assert_int_eq(ovio__err_from_errno(EDQUOT), OVIO_ENOSPC);
	ck_assert_int_eq(ovio__err_from_errno(ECANCELED), OVIO_ECANCELED);
	ck_assert_int_eq(ovio__err_from_errno(EXDEV), OVIO_EOUTSIDE);
	ck_assert_int_eq(ovio__err_from_errno(ENOTEMPTY), OVIO_ENOTEMPTY);
	ck_assert_int_eq(ovio__err_from_errno(12345), OVIO_EUNKNOWN);
	ck_assert_int_eq(
	    ovio__err_from_nng(NNG_ECONNREFUSED), OVIO_ECONNREFUSED);
	ck_assert_int_eq(ovio__err_from_nng(NNG_ECLOSED), OVIO_ECLOSED);
	ck_assert_int_eq(ovio__err_from_nng(NNG_EPROTO), OVIO_EPROTO);
	ck_assert_int_eq(
	    ovio__err_from_nng(NNG_EUNREACHABLE), OVIO_ECONNREFUSED);
}
END_TEST

/* ---- framing ---- */

static nng_msg *
request_msg(uint64_t tag, const char *payload)
{
	Ovio__Request rq = OVIO__REQUEST__INIT;
	nng_msg      *m;

	rq.tag    = tag;
	rq.op     = OVIO__OP__OP_WRITE;
	rq.handle = 0x100000002ull;
	rq.offset = 4096;
	ck_assert_int_eq(nng_msg_alloc(&m, 0), 0);
	ck_assert_int_eq(ovio__wire_encode_request(m, &rq, payload,
	                     payload != NULL ? strlen(payload) : 0),
	    0);
	return (m);
}

START_TEST(frame_round_trip)
{
	nng_msg       *m = request_msg(0xfeedfacecafebeefull, "payload bytes");
	Ovio__Request *rq;
	uint8_t       *p;
	size_t         n;

	ck_assert_int_eq(ovio__wire_decode_request(m, &rq, &p, &n), 0);
	ck_assert_uint_eq(rq->tag, 0xfeedfacecafebeefull);
	ck_assert_int_eq(rq->op, OVIO__OP__OP_WRITE);
	ck_assert_uint_eq(rq->handle, 0x100000002ull);
	ck_assert_uint_eq(rq->offset, 4096);
	ck_assert_uint_eq(n, 13);
	ck_assert_mem_eq(p, "payload bytes", 13);
	/* The payload is in the message, not a copy. */
	ck_assert_ptr_eq(p + n, (uint8_t *) nng_msg_body(m) + nng_msg_len(m));
	ovio__request__free_unpacked(rq, NULL);
	nng_msg_free(m);
}
END_TEST

START_TEST(frame_truncated_is_rejected)
{
	nng_msg       *m = request_msg(7, "xyz");
	Ovio__Request *rq;
	uint8_t       *p;
	size_t         n, full = nng_msg_len(m);
	uint8_t       *body;

	/* Shorter than the length word. */
	nng_msg_chop(m, full - 3);
	ck_assert_int_eq(
	    ovio__wire_decode_request(m, &rq, &p, &n), OVIO_EPROTO);
	nng_msg_free(m);

	/* Header length past the end of the body. */
	m    = request_msg(7, NULL);
	body = nng_msg_body(m);
	body[0] += 1;
	ck_assert_int_eq(
	    ovio__wire_decode_request(m, &rq, &p, &n), OVIO_EPROTO);
	nng_msg_free(m);

	/* Header cut inside a field. */
	m       = request_msg(0xffffffffffffull, NULL);
	body    = nng_msg_body(m);
	body[0] = 3;
	ck_assert_int_eq(
	    ovio__wire_decode_request(m, &rq, &p, &n), OVIO_EPROTO);
	nng_msg_free(m);
}
END_TEST

START_TEST(frame_oversized_is_rejected)
{
	Ovio__Request  rq = OVIO__REQUEST__INIT;
	nng_msg       *m;
	char          *path   = malloc(OVIO__MAX_HEADER + 10);
	uint8_t        big[8] = { 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0 };
	Ovio__Request *out;
	uint8_t       *p;
	size_t         n;

	memset(path, 'a', OVIO__MAX_HEADER + 9);
	path[OVIO__MAX_HEADER + 9] = '\0';
	rq.path                    = path;
	ck_assert_int_eq(nng_msg_alloc(&m, 0), 0);
	ck_assert_int_eq(
	    ovio__wire_encode_request(m, &rq, NULL, 0), OVIO_ETOOBIG);
	nng_msg_free(m);
	free(path);

	/* A length word claiming 2 GiB. */
	ck_assert_int_eq(nng_msg_alloc(&m, 0), 0);
	nng_msg_append(m, big, sizeof(big));
	ck_assert_int_eq(
	    ovio__wire_decode_request(m, &out, &p, &n), OVIO_EPROTO);
	nng_msg_free(m);
}
END_TEST

START_TEST(frame_garbage_is_rejected)
{
	uint8_t        junk[] = { 4, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 2 };
	nng_msg       *m;
	Ovio__Request *rq;
	uint8_t       *p;
	size_t         n;

	ck_assert_int_eq(nng_msg_alloc(&m, 0), 0);
	nng_msg_append(m, junk, sizeof(junk));
	ck_assert_int_eq(
	    ovio__wire_decode_request(m, &rq, &p, &n), OVIO_EPROTO);
	nng_msg_free(m);
}
END_TEST

START_TEST(read_reply_is_built_in_place)
{
	Ovio__Reply  rp = OVIO__REPLY__INIT;
	Ovio__Reply *out;
	nng_msg     *m;
	uint8_t     *data, *p;
	size_t       n;

	ck_assert_int_eq(nng_msg_alloc(&m, OVIO__REPLY_ROOM + 5), 0);
	data = (uint8_t *) nng_msg_body(m) + OVIO__REPLY_ROOM;
	memcpy(data, "HELLO", 5);
	rp.tag    = 99;
	rp.result = 5;
	ck_assert_int_eq(ovio__wire_prepend_reply(m, &rp), 0);
	ck_assert_int_eq(ovio__wire_decode_reply(m, &out, &p, &n), 0);
	ck_assert_uint_eq(out->tag, 99);
	ck_assert_uint_eq(out->result, 5);
	ck_assert_uint_eq(n, 5);
	ck_assert_ptr_eq(p, data); /* the data never moved */
	ovio__reply__free_unpacked(out, NULL);
	nng_msg_free(m);
}
END_TEST

/* ---- paths ---- */

START_TEST(paths_outside_the_root_are_refused)
{
	ck_assert_int_eq(ovio__fs_check_path("a.txt"), 0);
	ck_assert_int_eq(ovio__fs_check_path("dir/sub/a.txt"), 0);
	ck_assert_int_eq(ovio__fs_check_path("a..b"), 0);
	ck_assert_int_eq(ovio__fs_check_path(""), OVIO_EINVAL);
	ck_assert_int_eq(ovio__fs_check_path(NULL), OVIO_EINVAL);
	ck_assert_int_eq(ovio__fs_check_path("/etc/passwd"), OVIO_EOUTSIDE);
	ck_assert_int_eq(ovio__fs_check_path(".."), OVIO_EOUTSIDE);
	ck_assert_int_eq(ovio__fs_check_path("../x"), OVIO_EOUTSIDE);
	ck_assert_int_eq(ovio__fs_check_path("a/../../x"), OVIO_EOUTSIDE);
	ck_assert_int_eq(ovio__fs_check_path("a/.."), OVIO_EOUTSIDE);
	ck_assert_int_eq(ovio__fs_check_path("a\\..\\x"), OVIO_EOUTSIDE);
	ck_assert_int_eq(ovio__fs_check_path("C:\\Windows"), OVIO_EOUTSIDE);
	ck_assert_int_eq(
	    ovio__fs_check_path("\\\\server\\share"), OVIO_EOUTSIDE);

	/* A namespace target must name something below the root. */
	ck_assert_int_eq(ovio__fs_check_target("a"), 0);
	ck_assert_int_eq(ovio__fs_check_target("a/b/"), 0);
	ck_assert_int_eq(ovio__fs_check_target(".a"), 0);
	ck_assert_int_eq(ovio__fs_check_target("."), OVIO_EINVAL);
	ck_assert_int_eq(ovio__fs_check_target("./"), OVIO_EINVAL);
	ck_assert_int_eq(ovio__fs_check_target("a/."), OVIO_EINVAL);
	ck_assert_int_eq(ovio__fs_check_target("a\\."), OVIO_EINVAL);
	ck_assert_int_eq(ovio__fs_check_target(""), OVIO_EINVAL);
	ck_assert_int_eq(ovio__fs_check_target("a/.."), OVIO_EOUTSIDE);
	ck_assert_int_eq(ovio__fs_check_target("/a"), OVIO_EOUTSIDE);
}
END_TEST

START_TEST(symlink_out_of_the_root_is_refused)
{
	char     dir[256], root[300], link[340];
	ovio__fd rootfd, fd;
	int64_t  oserr = 0;
	int      stream;

	tu_tmpdir(dir, sizeof(dir));
	snprintf(root, sizeof(root), "%s/root", dir);
	ck_assert_int_eq(ovio__fs_open_root(root, &rootfd, &oserr), 0);
	snprintf(link, sizeof(link), "%s/escape", root);
	ck_assert_int_eq(symlink("/etc/passwd", link), 0);
	ck_assert_int_eq(ovio__fs_open(rootfd, "escape", OVIO_OPEN_READ, 0, &fd,
	                     &stream, &oserr),
	    OVIO_EOUTSIDE);
	ck_assert_int_eq(
	    ovio__fs_open(rootfd, "new", OVIO_OPEN_WRITE | OVIO_OPEN_CREATE, 0,
	        &fd, &stream, &oserr),
	    0);
	/* A regular file: with offsets (here ext4 or tmpfs: nowait). */
	ck_assert_int_ne(stream, OVIO__FS_STREAM);
	ovio__fs_close(fd);
	ovio__fs_close_root(rootfd);
	tu_rmtree(dir);
}
END_TEST

/*
 * What ovio__fs_open says of a file decides whether the io_uring port may
 * let the kernel try its I/O inline: a FIFO is a stream; a regular file
 * is OVIO__FS_NOWAIT on a tmpfs (and ext4, xfs, btrfs) and OVIO__FS_FILE
 * elsewhere (a FUSE file system, whose inline attempt can wait on its
 * daemon, is covered by the race suite's gate).
 */
START_TEST(open_tells_streams_and_nowait_files)
{
	char     dir[256], root[300], path[340];
	ovio__fd rootfd, fd;
	int64_t  oserr = 0;
	int      kind = -1;

	tu_tmpdir(dir, sizeof(dir));
	snprintf(root, sizeof(root), "%s/root", dir);
	ck_assert_int_eq(mkdir(root, 0750), 0);
	if (tu_sh("mount -t tmpfs -o size=1m tmpfs %s 2>/dev/null", root)
	    != 0) {
		tu_rmtree(dir);
		tu_skip("cannot mount a tmpfs here");
		return;
	}
	ck_assert_int_eq(ovio__fs_open_root(root, &rootfd, &oserr), 0);
	snprintf(path, sizeof(path), "%s/fifo", root);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(ovio__fs_open(rootfd, "fifo", OVIO_OPEN_READ, 0, &fd,
	                     &kind, &oserr),
	    0);
	ck_assert_int_eq(kind, OVIO__FS_STREAM);
	ovio__fs_close(fd);
	ck_assert_int_eq(
	    ovio__fs_open(rootfd, "file", OVIO_OPEN_WRITE | OVIO_OPEN_CREATE, 0,
	        &fd, &kind, &oserr),
	    0);
	ck_assert_int_eq(kind, OVIO__FS_NOWAIT);
	ovio__fs_close(fd);
	ovio__fs_close_root(rootfd);
	ck_assert_int_eq(tu_sh("umount %s", root), 0);
	tu_rmtree(dir);
}
END_TEST

/* ---- the intrusive list (list.h) ---- */

typedef struct lt_item {
	int             v;
	ovio__list_node node;
} lt_item;

START_TEST(list_keeps_order_and_unlinks)
{
	ovio__list l;
	lt_item    it[4];
	lt_item   *p;
	int        i, want[] = { 3, 0, 2 }, n = 0;

	memset(it, 0, sizeof(it));
	ovio__list_init(&l, lt_item, node);
	ck_assert(ovio__list_empty(&l));
	ck_assert_ptr_null(ovio__list_first(&l));
	ck_assert_ptr_null(ovio__list_pop_first(&l));
	for (i = 0; i < 4; i++) {
		it[i].v = i;
		ck_assert(!ovio__list_active(&it[i].node));
	}
	ovio__list_append(&l, &it[0]);
	ovio__list_append(&l, &it[1]);
	ovio__list_append(&l, &it[2]);
	ovio__list_prepend(&l, &it[3]);
	ovio__list_remove(&l, &it[1]); /* from the middle */
	ck_assert(!ovio__list_active(&it[1].node));
	ck_assert(ovio__list_active(&it[0].node));
	for (p = ovio__list_first(&l); p != NULL; p = ovio__list_next(&l, p)) {
		ck_assert_int_eq(p->v, want[n++]);
	}
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(((lt_item *) ovio__list_last(&l))->v, 2);
	ck_assert_int_eq(((lt_item *) ovio__list_prev(&l, &it[2]))->v, 0);
	ck_assert_ptr_null(ovio__list_prev(&l, &it[3]));
	/* Emptied by removing the first item until none is left. */
	for (p = ovio__list_first(&l); p != NULL; p = ovio__list_first(&l)) {
		ovio__list_remove(&l, p);
	}
	ck_assert(ovio__list_empty(&l));
	ovio__list_append(&l, &it[1]); /* an unlinked item can go back */
	ck_assert_ptr_eq(ovio__list_pop_first(&l), &it[1]);
	ck_assert(ovio__list_empty(&l));
}
END_TEST

/* ---- handle table ---- */

/* An engine with its tables only: no port, socket or threads. */
static engine ut_eng;

static void
engine_tables_setup(void)
{
	memset(&ut_eng, 0, sizeof(ut_eng));
	ck_assert_int_eq(nng_mtx_alloc(&ut_eng.mtx), 0);
	ck_assert_int_eq(nng_cv_alloc(&ut_eng.cv, ut_eng.mtx), 0);
	ut_eng.limits.handles_per_session = 4;
}

START_TEST(stale_and_forged_handles_are_refused)
{
	eng_session a, b;
	eng_handle *h, *h2;
	uint64_t    id, id2;
	int         err = 0;

	engine_tables_setup();
	ovio__session_init(&a, 1);
	ovio__session_init(&b, 2);
	ck_assert_int_eq(ovio__handle_new(&ut_eng, &a, 10, 0, &h), 0);
	id = ovio__handle_id(h);
	ck_assert_ptr_eq(ovio__handle_get(&ut_eng, &a, id, &err), h);

	/* Another session's id is unknown to this one. */
	ck_assert_ptr_null(ovio__handle_get(&ut_eng, &b, id, &err));
	ck_assert_int_eq(err, OVIO_EBADF);
	/* Forged: right index, wrong generation; and out of range. */
	ck_assert_ptr_null(
	    ovio__handle_get(&ut_eng, &a, id + (1ull << 32), &err));
	ck_assert_int_eq(err, OVIO_EBADF);
	ck_assert_ptr_null(ovio__handle_get(&ut_eng, &a, 0xffffffull, &err));
	ck_assert_int_eq(err, OVIO_EBADF);
	ck_assert_ptr_null(ovio__handle_get(&ut_eng, &a, 0, &err));

	/* Closing makes the id stale, even when the slot is reused. */
	h->state = H_CLOSING;
	ck_assert_ptr_null(ovio__handle_get(&ut_eng, &a, id, &err));
	ck_assert_int_eq(err, OVIO_ECLOSING);
	ovio__handle_free(h);
	ck_assert_int_eq(ovio__handle_new(&ut_eng, &a, 11, 0, &h2), 0);
	id2 = ovio__handle_id(h2);
	ck_assert_ptr_eq(h2, h); /* same slot */
	ck_assert_uint_ne(id2, id);
	ck_assert_ptr_null(ovio__handle_get(&ut_eng, &a, id, &err));
	ck_assert_int_eq(err, OVIO_EBADF);
	ck_assert_ptr_eq(ovio__handle_get(&ut_eng, &a, id2, &err), h2);
}
END_TEST

START_TEST(handle_limit_per_session)
{
	eng_session a;
	eng_handle *h;
	int         i;

	engine_tables_setup();
	ovio__session_init(&a, 1);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(ovio__handle_new(&ut_eng, &a, i, 0, &h), 0);
	}
	ck_assert_int_eq(ovio__handle_new(&ut_eng, &a, 9, 0, &h), OVIO_EBUSY);
	ck_assert_uint_eq(a.nhandles, 4);
}
END_TEST

/*
 * nng's timers do not spin (install/nng-patches/0009): 300 sleeps of 1 ms
 * on an aio, one after another, take this process little CPU.  Before
 * the patch nng's expire thread spun through the last millisecond of each
 * timer, about as much CPU time as the sleeps' wall time.
 */
START_TEST(nng_timers_do_not_spin)
{
	struct rusage ru0, ru1;
	nng_aio      *aio;
	nng_time      t0, t1;
	double        cpu_ms;
	int           i;

	ck_assert_int_eq(nng_aio_alloc(&aio, NULL, NULL), 0);
	ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru0), 0);
	t0 = nng_clock();
	for (i = 0; i < 300; i++) {
		nng_sleep_aio(1, aio);
		nng_aio_wait(aio);
		ck_assert_int_eq(nng_aio_result(aio), 0);
	}
	t1 = nng_clock();
	ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru1), 0);
	nng_aio_free(aio);
	cpu_ms = (double) (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec
	             + ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec)
	        * 1000.0
	    + (double) (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec
	          + ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec)
	        / 1000.0;
	printf("300 timers of 1 ms: %llu ms, %.1f ms of CPU\n",
	    (unsigned long long) (t1 - t0), cpu_ms);
	/* At least 1 ms each: a timer fires once the clock is past it. */
	ck_assert_uint_ge(t1 - t0, 300);
	ck_assert_msg(cpu_ms < 0.25 * (double) (t1 - t0),
	    "%.1f ms of CPU in %llu ms: the expire thread spins", cpu_ms,
	    (unsigned long long) (t1 - t0));
}
END_TEST

static Suite *
unit_suite(void)
{
	Suite *s = suite_create("unit");
	TCase *tc;

#define UCASE(fn)                  \
	tc = tcase_create(#fn);    \
	tcase_set_timeout(tc, 10); \
	tcase_add_test(tc, fn);    \
	suite_add_tcase(s, tc)

	UCASE(errors_have_names_and_messages);
	UCASE(errors_match_the_wire_enum);
	UCASE(errno_is_mapped_once);
	UCASE(frame_round_trip);
	UCASE(frame_truncated_is_rejected);
	UCASE(frame_oversized_is_rejected);
	UCASE(frame_garbage_is_rejected);
	UCASE(read_reply_is_built_in_place);
	UCASE(paths_outside_the_root_are_refused);
	UCASE(symlink_out_of_the_root_is_refused);
	UCASE(open_tells_streams_and_nowait_files);
	UCASE(list_keeps_order_and_unlinks);
	UCASE(stale_and_forged_handles_are_refused);
	UCASE(handle_limit_per_session);
	UCASE(nng_timers_do_not_spin);
	return (s);
}

int
main(void)
{
	return (tu_run(unit_suite()));
}
