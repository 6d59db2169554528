/*
 * host_win_test.c - the Windows host's console control handler
 * (os/windows/host.c), called directly: Wine cannot deliver CTRL_CLOSE_EVENT,
 * CTRL_LOGOFF_EVENT or CTRL_SHUTDOWN_EVENT to a process without a console
 * window (GenerateConsoleCtrlEvent sends only Ctrl-C and Ctrl-Break), so
 * what the handler does with them is checked here: it signals the stop,
 * then holds until the drain is over (ovio__host_fini), within its bound.
 *
 * The stop and "drained" events are process-wide and never reset, so the
 * cases run in this order; each also runs alone (CK_RUN_CASE=name).
 */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>

#include <check.h>

#include "host.h"
#include "host_windows.h"

static LONG WINAPI
crash_filter(EXCEPTION_POINTERS *ep)
{
	fprintf(stderr, "host_win_test: unhandled exception 0x%08lx\n",
	    (unsigned long) ep->ExceptionRecord->ExceptionCode);
	fflush(stderr);
	ExitProcess(3);
	return (EXCEPTION_EXECUTE_HANDLER);
}

typedef struct ctrl_call {
	DWORD type;
	BOOL  rv;
} ctrl_call;

static DWORD WINAPI
call_handler(void *arg)
{
	ctrl_call *c = arg;

	c->rv = ovio__host_console_ctrl(c->type);
	return (0);
}

static HANDLE
handler_thread(ctrl_call *c, DWORD type)
{
	HANDLE t;

	c->type = type;
	c->rv   = -1;
	ck_assert_ptr_nonnull(
	    t = CreateThread(NULL, 0, call_handler, c, 0, NULL));
	return (t);
}

static DWORD WINAPI
wait_stop(void *arg)
{
	(void) arg;
	ovio__host_wait_stop(NULL);
	return (0);
}

START_TEST(other_events_not_handled)
{
	ck_assert(!ovio__host_console_ctrl(0x1234));
}
END_TEST

/* Logoff, never drained: the handler gives up after drain + 5 s. */
START_TEST(logoff_wait_is_bounded)
{
	ctrl_call c;
	HANDLE    t;
	ULONGLONG t0 = GetTickCount64();

	ovio__host_set_drain_ms(200);
	t = handler_thread(&c, CTRL_LOGOFF_EVENT);
	ck_assert_uint_eq(WaitForSingleObject(t, 4000), WAIT_TIMEOUT);
	ck_assert_uint_eq(WaitForSingleObject(t, 5000), WAIT_OBJECT_0);
	ck_assert_uint_ge(GetTickCount64() - t0, 5000);
	ck_assert_int_eq(c.rv, TRUE);
	CloseHandle(t);
}
END_TEST

/* Close: the stop is signalled, and the handler holds until drained. */
START_TEST(close_waits_for_the_drain)
{
	ctrl_call c;
	HANDLE    t, w;

	ovio__host_set_drain_ms(60000);
	t = handler_thread(&c, CTRL_CLOSE_EVENT);
	ck_assert_ptr_nonnull(
	    w = CreateThread(NULL, 0, wait_stop, NULL, 0, NULL));
	ck_assert_uint_eq(WaitForSingleObject(w, 5000), WAIT_OBJECT_0);
	ck_assert_uint_eq(WaitForSingleObject(t, 500), WAIT_TIMEOUT);
	ovio__host_fini(); /* what oviod does after ovio__engine_stop */
	ck_assert_uint_eq(WaitForSingleObject(t, 2000), WAIT_OBJECT_0);
	ck_assert_int_eq(c.rv, TRUE);
	CloseHandle(t);
	CloseHandle(w);

	/* Shutdown after the drain: returns at once. */
	t = handler_thread(&c, CTRL_SHUTDOWN_EVENT);
	ck_assert_uint_eq(WaitForSingleObject(t, 2000), WAIT_OBJECT_0);
	ck_assert_int_eq(c.rv, TRUE);
	CloseHandle(t);
}
END_TEST

/* Ctrl-C only signals: it returns at once (the process goes on). */
START_TEST(ctrl_c_returns_at_once)
{
	ctrl_call c;
	HANDLE    t;

	t = handler_thread(&c, CTRL_C_EVENT);
	ck_assert_uint_eq(WaitForSingleObject(t, 2000), WAIT_OBJECT_0);
	ck_assert_int_eq(c.rv, TRUE);
	CloseHandle(t);
	ovio__host_wait_stop(NULL); /* signalled: returns */
}
END_TEST

static Suite *
host_win_suite(void)
{
	Suite *s  = suite_create("host_win");
	TCase *tc = tcase_create("console");

	tcase_add_test(tc, other_events_not_handled);
	tcase_add_test(tc, logoff_wait_is_bounded);
	tcase_add_test(tc, close_waits_for_the_drain);
	tcase_add_test(tc, ctrl_c_returns_at_once);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr;
	int      failed;

	SetUnhandledExceptionFilter(crash_filter);
	setvbuf(stdout, NULL, _IONBF, 0);
	sr = srunner_create(host_win_suite());
	srunner_set_fork_status(sr, CK_NOFORK); /* no fork() on Windows */
	srunner_run_all(sr, CK_VERBOSE);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
