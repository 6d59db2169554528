/*
 * host_windows.h - what os/windows/host.c exposes besides host.h, for its
 * tests (tests/win/host_win_test.c).  Windows only.
 */
#ifndef OVIO_HOST_WINDOWS_H
#define OVIO_HOST_WINDOWS_H

#include <windows.h>

#include <stdbool.h>

/*
 * The console control handler a console run installs.  CTRL_C_EVENT and
 * CTRL_BREAK_EVENT: signals the stop (ovio__host_wait_stop returns) and
 * returns TRUE at once.  CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT and
 * CTRL_SHUTDOWN_EVENT: signals the stop, then blocks until
 * ovio__host_fini says the drain is over, at most the drain timeout plus
 * 5 s (Windows ends the process when it returns), and returns TRUE.  Other
 * events: FALSE.  Runs on the console's handler thread.
 */
BOOL WINAPI ovio__host_console_ctrl(DWORD type);

/*
 * The service's folder, %ProgramData%\ovio, which holds its log and by
 * default its root.  Every user may create in %ProgramData%, so it is made
 * with a protected DACL of its own: full control for SYSTEM and
 * Administrators, inherited by what is made in it.  One already there is
 * used only if it is a folder, not a link (a reparse point, or a final
 * path elsewhere), owned by SYSTEM, Administrators or this process's
 * account; its DACL is then set to that again (an older oviod made it with
 * the one inherited from %ProgramData%), and refused if it still lets
 * anyone else write in it.  buf gets the folder's path.  Returns 0, or -1 with the one-line cause in
 * why.
 */
int ovio__host_service_dir(char *buf, size_t len, char *why, size_t wlen);

/*
 * Whether a token with this user SID (and its attributes) and these
 * groups (NULL: none) may connect under the allow-list that
 * ovio__host_peer_allow made: always without one; else the service's own
 * account, SYSTEM, an enabled Administrators group, a listed user or an
 * enabled listed group, never by a deny-only SID.  ovio__host_process_allowed
 * asks it of a process's token.
 */
bool ovio__host_sids_allowed(
    PSID user, DWORD user_attrs, const TOKEN_GROUPS *groups);

#endif
