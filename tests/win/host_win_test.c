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

#include <aclapi.h>
#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "host.h"
#include "host_windows.h"
#include "ovio_err.h"
#include "oviod_msg.h"

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

/* ---- the service's folder ------------------------------------------ */

/* A fresh folder to stand for %ProgramData%, set as it. */
static void
fake_program_data(char *pd, size_t len)
{
	static int n;
	char       tmp[MAX_PATH];

	ck_assert_uint_gt(GetTempPathA(sizeof(tmp), tmp), 0);
	snprintf(pd, len, "%sovio-pd-%lu-%lu-%d", tmp,
	    (unsigned long) GetCurrentProcessId(),
	    (unsigned long) GetTickCount(), ++n);
	ck_assert(CreateDirectoryA(pd, NULL));
	ck_assert_int_eq(_putenv_s("ProgramData", pd), 0);
}

/* Whether sid is this process's account. */
static int
is_me(PSID sid)
{
	HANDLE      tok;
	BYTE        buf[256];
	TOKEN_USER *tu = (TOKEN_USER *) buf;
	DWORD       n;
	int         me;

	ck_assert(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok));
	me = GetTokenInformation(tok, TokenUser, tu, sizeof(buf), &n)
	     && EqualSid(sid, tu->User.Sid);
	CloseHandle(tok);
	return (me);
}

/*
 * The folder's DACL: full control for SYSTEM, inherited by what is made
 * in it, and no entry for anyone but SYSTEM, Administrators and this
 * process's account (with only, none that lets another account write in
 * the folder or change it).  (Windows keeps the DACL given, SYSTEM and
 * Administrators, protected from inherited entries; Wine keeps a Unix mode
 * and shows it as SYSTEM, the owner and Everyone, and drops the
 * protection bit, so only this much holds on both.)
 */
static void
check_service_dacl(const char *dir, int only)
{
	const DWORD write = FILE_ADD_FILE | FILE_ADD_SUBDIRECTORY
	    | FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_DELETE_CHILD | DELETE
	    | WRITE_DAC | WRITE_OWNER | GENERIC_WRITE | GENERIC_ALL;
	PSECURITY_DESCRIPTOR sd   = NULL;
	PACL                 dacl = NULL;
	ACCESS_ALLOWED_ACE  *ace;
	DWORD                i;
	int                  sy = 0;

	ck_assert_int_eq(GetNamedSecurityInfoA(dir, SE_FILE_OBJECT,
	                     DACL_SECURITY_INFORMATION, NULL, NULL, &dacl,
	                     NULL, &sd),
	    ERROR_SUCCESS);
	ck_assert_ptr_nonnull(dacl);
	for (i = 0; i < dacl->AceCount; i++) {
		PSID sid;
		ck_assert(GetAce(dacl, i, (void **) &ace));
		sid = (PSID) &ace->SidStart;
		ck_assert_msg(IsWellKnownSid(sid, WinLocalSystemSid)
		                  || IsWellKnownSid(
		                      sid, WinBuiltinAdministratorsSid)
		                  || is_me(sid)
		                  || (!only && (ace->Mask & write) == 0),
		    "entry %lu (mask 0x%lx) is for another account",
		    (unsigned long) i, (unsigned long) ace->Mask);
		if (IsWellKnownSid(sid, WinLocalSystemSid)) {
			ck_assert_uint_eq(
			    ace->Header.AceType, ACCESS_ALLOWED_ACE_TYPE);
			ck_assert_uint_eq(ace->Mask, FILE_ALL_ACCESS);
			ck_assert_uint_eq(ace->Header.AceFlags
			                      & (OBJECT_INHERIT_ACE
			                          | CONTAINER_INHERIT_ACE),
			    OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE);
			sy++;
		}
	}
	ck_assert_int_eq(sy, 1);
	LocalFree(sd);
}

START_TEST(service_folder_is_made_for_system_and_administrators)
{
	char pd[MAX_PATH], dir[1024], why[1200], want[1100];

	fake_program_data(pd, sizeof(pd));
	ck_assert_int_eq(
	    ovio__host_service_dir(dir, sizeof(dir), why, sizeof(why)), 0);
	snprintf(want, sizeof(want), "%s\\ovio", pd);
	ck_assert_str_eq(dir, want);
	check_service_dacl(dir, 1);
}
END_TEST

/*
 * One made before with a DACL that lets everyone write in it (as one
 * inherited from %ProgramData% lets every user): either its DACL no longer
 * lets anyone else write (Windows sets it; Wine made the folder with its
 * umask, which already took the write bits from others), or it is refused
 * with the cause and the fix.  Never used as it was.
 */
START_TEST(service_folder_others_may_write_is_made_safe_or_refused)
{
	PSECURITY_DESCRIPTOR sd;
	SECURITY_ATTRIBUTES  sa;
	char                 pd[MAX_PATH], dir[1024], why[1200];
	int                  rv;

	fake_program_data(pd, sizeof(pd));
	snprintf(dir, sizeof(dir), "%s\\ovio", pd);
	ck_assert(ConvertStringSecurityDescriptorToSecurityDescriptorW(
	    L"D:(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;WD)",
	    SDDL_REVISION_1, &sd, NULL));
	sa.nLength              = sizeof(sa);
	sa.lpSecurityDescriptor = sd;
	sa.bInheritHandle       = FALSE;
	ck_assert(CreateDirectoryA(dir, &sa));
	LocalFree(sd);
	rv = ovio__host_service_dir(dir, sizeof(dir), why, sizeof(why));
	if (rv == 0) {
		check_service_dacl(dir, 0);
	} else {
		ck_assert_int_eq(rv, -1);
		ck_assert_msg(strstr(why, "may be written by others") != NULL
		                  && strstr(why, "icacls") != NULL,
		    "%s", why);
	}
}
END_TEST

/*
 * A file planted where the folder goes: refused, said why.  (A planted
 * link is tested with the service, tests/win/scm.sh: Wine makes links from
 * Unix symlinks, not from CreateSymbolicLinkW.)
 */
START_TEST(service_folder_planted_is_refused)
{
	char   pd[MAX_PATH], dir[1024], why[1200];
	HANDLE h;

	fake_program_data(pd, sizeof(pd));
	snprintf(dir, sizeof(dir), "%s\\ovio", pd);
	h = CreateFileA(dir, GENERIC_WRITE, 0, NULL, CREATE_NEW,
	    FILE_ATTRIBUTE_NORMAL, NULL);
	ck_assert(h != INVALID_HANDLE_VALUE);
	CloseHandle(h);
	ck_assert_int_eq(
	    ovio__host_service_dir(dir, sizeof(dir), why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "is not a folder") != NULL, "%s", why);
	ck_assert(DeleteFileA(dir));
}
END_TEST

/* ---- the Event Log's message table ----------------------------------- */

/*
 * oviod.exe (beside tests/) carries a message table with one message per
 * severity, each the log line itself: what the Event Viewer shows for the
 * source "oviod" once install registers the file.
 */
START_TEST(message_table_in_oviod_exe)
{
	static const struct {
		DWORD id;
		DWORD severity;
	} msgs[] = {
		{ OVIO_MSG_INFO, STATUS_SEVERITY_INFORMATIONAL },
		{ OVIO_MSG_WARN, STATUS_SEVERITY_WARNING },
		{ OVIO_MSG_ERROR, STATUS_SEVERITY_ERROR },
	};
	WCHAR     path[MAX_PATH], out[256], *slash;
	DWORD_PTR args[1] = { (DWORD_PTR) L"a log line" };
	HMODULE   m;
	size_t    i;

	ck_assert_uint_gt(GetModuleFileNameW(NULL, path, MAX_PATH), 0);
	ck_assert_ptr_nonnull(slash = wcsrchr(path, L'\\'));
	*slash = L'\0';
	ck_assert_ptr_nonnull(slash = wcsrchr(path, L'\\'));
	wcscpy(slash, L"\\oviod.exe"); /* tests\..\oviod.exe */
	m = LoadLibraryExW(path, NULL, LOAD_LIBRARY_AS_DATAFILE);
	ck_assert_msg(m != NULL, "cannot load %ls (error %lu)", path,
	    (unsigned long) GetLastError());
	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		ck_assert_uint_eq(msgs[i].id >> 30, msgs[i].severity);
		ck_assert_msg(FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE
		                      | FORMAT_MESSAGE_ARGUMENT_ARRAY,
		                  m, msgs[i].id, 0x409, out, 256,
		                  (va_list *) args)
		                  > 0,
		    "message 0x%08lx: error %lu", (unsigned long) msgs[i].id,
		    (unsigned long) GetLastError());
		ck_assert_msg(wcscmp(out, L"a log line\r\n") == 0,
		    "message 0x%08lx is \"%ls\"", (unsigned long) msgs[i].id,
		    out);
	}
	FreeLibrary(m);
}
END_TEST

/* A LocalAlloc'd SID from its string (fails the test if it is not one). */
static PSID
sid_of(const char *str)
{
	PSID sid = NULL;

	ck_assert_msg(ConvertStringSidToSidA(str, &sid), "SID %s", str);
	return (sid);
}

/*
 * --allow-uid and --allow-group on Windows: account names and SID strings
 * resolved at start (unknown ones refused with one line), and a peer's
 * token judged by its user and its enabled groups, never by a deny-only
 * SID.  Wine runs every process as one account, so a second account's
 * token is made here by hand; the real token path is asked of this
 * process (its own account: admitted) and of a process that is not there.
 */
START_TEST(allow_list_of_accounts_and_sids)
{
	char  why[256], who[128], me[256];
	DWORD n = sizeof(me);
	PSID  other, listed, users, adm, sys;
	union {
		TOKEN_GROUPS g;
		BYTE         b[sizeof(TOKEN_GROUPS) + sizeof(SID_AND_ATTRIBUTES)];
	} tg;
	TOKEN_GROUPS *g = &tg.g;

	ck_assert(!ovio__host_peers_restricted());
	other = sid_of("S-1-5-21-1-2-3-1001");
	ck_assert(ovio__host_sids_allowed(other, 0, NULL));
	/* Refused entries, each with its line. */
	ck_assert_int_eq(
	    ovio__host_peer_allow("S-1-x", false, why, sizeof(why)),
	    OVIO_EINVAL);
	ck_assert_str_eq(why, "--allow-uid S-1-x: not a SID");
	ck_assert_int_eq(ovio__host_peer_allow("no_such_account_ovio", false,
	                     why, sizeof(why)),
	    OVIO_EINVAL);
	ck_assert_msg(strstr(why, "--allow-uid no_such_account_ovio: no such "
	                          "account")
	                  == why,
	    "%s", why);
	ck_assert_int_eq(
	    ovio__host_peer_allow("Users", false, why, sizeof(why)),
	    OVIO_EINVAL);
	ck_assert_str_eq(why, "--allow-uid Users: not a user account");
	/* Accepted: a SID, this account by name, a group by name. */
	ck_assert(GetUserNameA(me, &n));
	ck_assert_int_eq(ovio__host_peer_allow("S-1-5-21-1-2-3-4242", false,
	                     why, sizeof(why)),
	    0);
	ck_assert_int_eq(ovio__host_peer_allow(me, false, why, sizeof(why)), 0);
	ck_assert_int_eq(ovio__host_peer_allow("Users", true, why, sizeof(why)),
	    0);
	ck_assert(ovio__host_peers_restricted());

	listed = sid_of("S-1-5-21-1-2-3-4242");
	users  = sid_of("S-1-5-32-545");
	adm    = sid_of("S-1-5-32-544");
	sys    = sid_of("S-1-5-18");
	/* By the user: listed, SYSTEM; not another, not deny-only. */
	ck_assert(ovio__host_sids_allowed(listed, 0, NULL));
	ck_assert(ovio__host_sids_allowed(sys, 0, NULL));
	ck_assert(!ovio__host_sids_allowed(other, 0, NULL));
	ck_assert(
	    !ovio__host_sids_allowed(listed, SE_GROUP_USE_FOR_DENY_ONLY, NULL));
	/* By a group: enabled, not deny-only. */
	g->GroupCount           = 1;
	g->Groups[0].Sid        = users;
	g->Groups[0].Attributes = SE_GROUP_ENABLED;
	ck_assert(ovio__host_sids_allowed(other, 0, g));
	g->Groups[0].Attributes = SE_GROUP_ENABLED | SE_GROUP_USE_FOR_DENY_ONLY;
	ck_assert(!ovio__host_sids_allowed(other, 0, g));
	g->Groups[0].Attributes = 0;
	ck_assert(!ovio__host_sids_allowed(other, 0, g));
	g->Groups[0].Sid        = adm;
	g->Groups[0].Attributes = SE_GROUP_ENABLED;
	ck_assert(ovio__host_sids_allowed(other, 0, g));
	g->Groups[0].Attributes = SE_GROUP_USE_FOR_DENY_ONLY;
	ck_assert(!ovio__host_sids_allowed(other, 0, g));

	/* A real token: this process (its own account); one not there. */
	ck_assert(ovio__host_process_allowed(
	    GetCurrentProcessId(), who, sizeof(who)));
	ck_assert_msg(strncmp(who, "S-1-5-", 6) == 0, "%s", who);
	ck_assert(!ovio__host_process_allowed(0x7ffffff0u, who, sizeof(who)));
	ck_assert_msg(strstr(who, "cannot be read") != NULL, "%s", who);
	LocalFree(other);
	LocalFree(listed);
	LocalFree(users);
	LocalFree(adm);
	LocalFree(sys);
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
	tc = tcase_create("service_folder");
	tcase_add_test(tc, service_folder_is_made_for_system_and_administrators);
	tcase_add_test(
	    tc, service_folder_others_may_write_is_made_safe_or_refused);
	tcase_add_test(tc, service_folder_planted_is_refused);
	suite_add_tcase(s, tc);
	tc = tcase_create("event_log");
	tcase_add_test(tc, message_table_in_oviod_exe);
	suite_add_tcase(s, tc);
	/* Last: the allow-list it makes stays for the rest of the process. */
	tc = tcase_create("allow_list");
	tcase_add_test(tc, allow_list_of_accounts_and_sids);
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
