/*
 * smoke.c - smoke test for the Windows dependencies built by
 * install/win-deps.sh (nng, protobuf-c runtime, check), run under Wine.
 *
 * Build (from the repo top, PREFIX=build/win-deps):
 *   x86_64-w64-mingw32-gcc -O2 -Wall -Wextra \
 *       -I build/win-deps/include -DNNG_STATIC_LIB -D__USE_MINGW_ANSI_STDIO=1 \
 *       tests/win/smoke.c -o build/win-smoke.exe \
 *       -L build/win-deps/lib -lcheck -lnng -lprotobuf-c \
 *       -lws2_32 -ladvapi32 -static -pthread
 * Run:
 *   WINEDEBUG=-all WINEPREFIX=$PWD/build/wineprefix wine build/win-smoke.exe
 *
 * "smoke.exe --crash" dereferences NULL on purpose, to check that a crash
 * gives a non-zero exit status (see the unhandled-exception filter below).
 */
#include <winsock2.h> /* ntohs; must come before windows.h */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <protobuf-c/protobuf-c.h>

/* A crash must not look like success: Wine's crash handling (winedbg) can
 * end the process with status 0.  Exit with a distinctive code instead. */
static LONG WINAPI
crash_filter(EXCEPTION_POINTERS *ep)
{
	fprintf(stderr, "smoke: unhandled exception 0x%08lx\n",
	    (unsigned long) ep->ExceptionRecord->ExceptionCode);
	fflush(stderr);
	ExitProcess(3);
	return EXCEPTION_EXECUTE_HANDLER;
}

/* ---- nng ---------------------------------------------------------------- */

START_TEST(test_nng_req_open_close)
{
	nng_socket s;

	ck_assert_int_eq(nng_req0_open(&s), 0);
	ck_assert_int_gt(nng_socket_id(s), 0);
	ck_assert_int_eq(nng_close(s), 0);
}
END_TEST

/* req/rep round trip over TCP loopback (exercises winsock/IOCP). */
START_TEST(test_nng_tcp_roundtrip)
{
	nng_socket   req, rep;
	nng_listener l;
	nng_sockaddr sa;
	char         url[64];
	char        *buf = NULL;
	size_t       sz;

	ck_assert_int_eq(nng_rep0_open(&rep), 0);
	ck_assert_int_eq(nng_req0_open(&req), 0);
	ck_assert_int_eq(nng_socket_set_ms(req, NNG_OPT_RECVTIMEO, 5000), 0);
	ck_assert_int_eq(nng_socket_set_ms(req, NNG_OPT_SENDTIMEO, 5000), 0);
	ck_assert_int_eq(nng_socket_set_ms(rep, NNG_OPT_RECVTIMEO, 5000), 0);
	ck_assert_int_eq(nng_socket_set_ms(rep, NNG_OPT_SENDTIMEO, 5000), 0);

	ck_assert_int_eq(nng_listener_create(&l, rep, "tcp://127.0.0.1:0"), 0);
	ck_assert_int_eq(nng_listener_start(l, 0), 0);
	ck_assert_int_eq(nng_listener_get_addr(l, NNG_OPT_LOCADDR, &sa), 0);
	ck_assert_int_eq(sa.s_family, NNG_AF_INET);
	snprintf(url, sizeof url, "tcp://127.0.0.1:%u",
	    (unsigned) ntohs(sa.s_in.sa_port));
	ck_assert_int_eq(nng_dial(req, url, NULL, 0), 0);

	ck_assert_int_eq(nng_send(req, "ping", 5, 0), 0);
	ck_assert_int_eq(nng_recv(rep, &buf, &sz, NNG_FLAG_ALLOC), 0);
	ck_assert_uint_eq(sz, 5);
	ck_assert_str_eq(buf, "ping");
	nng_free(buf, sz);

	ck_assert_int_eq(nng_send(rep, "pong", 5, 0), 0);
	ck_assert_int_eq(nng_recv(req, &buf, &sz, NNG_FLAG_ALLOC), 0);
	ck_assert_uint_eq(sz, 5);
	ck_assert_str_eq(buf, "pong");
	nng_free(buf, sz);

	ck_assert_int_eq(nng_close(req), 0);
	ck_assert_int_eq(nng_close(rep), 0);
}
END_TEST

/* ---- protobuf-c --------------------------------------------------------- */

/* Hand-written equivalent of protoc-c output for:
 *   syntax = "proto3"; message Smoke { int32 value = 1; string name = 2; }
 */
typedef struct {
	ProtobufCMessage base;
	int32_t          value;
	char            *name;
} Smoke;

static const ProtobufCMessageDescriptor smoke_descriptor;

static void
smoke_init(ProtobufCMessage *m)
{
	static const Smoke init = { PROTOBUF_C_MESSAGE_INIT(&smoke_descriptor),
		0, (char *) protobuf_c_empty_string };
	*(Smoke *) m            = init;
}

static const ProtobufCFieldDescriptor smoke_fields[2] = {
	{ "value", 1, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_INT32, 0,
	    offsetof(Smoke, value), NULL, NULL, 0, 0, NULL, NULL },
	{ "name", 2, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_STRING, 0,
	    offsetof(Smoke, name), NULL, &protobuf_c_empty_string, 0, 0, NULL,
	    NULL },
};
static const unsigned          smoke_by_name[2] = { 1, 0 };
static const ProtobufCIntRange smoke_ranges[2]  = { { 1, 0 }, { 0, 2 } };

static const ProtobufCMessageDescriptor smoke_descriptor
    = { PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "Smoke", "Smoke", "Smoke", "",
	      sizeof(Smoke), 2, smoke_fields, smoke_by_name, 1, smoke_ranges,
	      smoke_init, NULL, NULL, NULL };

START_TEST(test_protobuf_roundtrip)
{
	Smoke   in, *out;
	uint8_t buf[64];
	size_t  len;
	/* field 1 varint 300 = 08 ac 02; field 2 "ovio" = 12 04 'o' 'v' 'i' 'o'
	 */
	static const uint8_t expect[]
	    = { 0x08, 0xac, 0x02, 0x12, 0x04, 'o', 'v', 'i', 'o' };

	ck_assert_uint_ge(protobuf_c_version_number(), 1004000);

	smoke_init(&in.base);
	in.value = 300;
	in.name  = "ovio";
	len      = protobuf_c_message_get_packed_size(&in.base);
	ck_assert_uint_eq(len, sizeof expect);
	ck_assert_uint_eq(protobuf_c_message_pack(&in.base, buf), len);
	ck_assert_mem_eq(buf, expect, len);

	out = (Smoke *) protobuf_c_message_unpack(
	    &smoke_descriptor, NULL, len, buf);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(out->value, 300);
	ck_assert_str_eq(out->name, "ovio");
	protobuf_c_message_free_unpacked(&out->base, NULL);
}
END_TEST

/* ---- main --------------------------------------------------------------- */

int
main(int argc, char **argv)
{
	Suite   *s;
	TCase   *tc;
	SRunner *sr;
	int      failed;

	SetUnhandledExceptionFilter(crash_filter);
	if (argc > 1 && strcmp(argv[1], "--crash") == 0) {
		*(volatile int *) NULL = 1;
	}

	s  = suite_create("win-smoke");
	tc = tcase_create("nng");
	tcase_add_test(tc, test_nng_req_open_close);
	tcase_add_test(tc, test_nng_tcp_roundtrip);
	suite_add_tcase(s, tc);
	tc = tcase_create("protobuf-c");
	tcase_add_test(tc, test_protobuf_roundtrip);
	suite_add_tcase(s, tc);

	printf("nng %s, protobuf-c %s, check %d.%d.%d\n", nng_version(),
	    protobuf_c_version(), check_major_version, check_minor_version,
	    check_micro_version);

	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK); /* no fork() on Windows */
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
