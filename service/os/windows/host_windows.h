/*
 * host_windows.h - what os/windows/host.c exposes besides host.h, for its
 * tests (tests/win/host_win_test.c).  Windows only.
 */
#ifndef OVIO_HOST_WINDOWS_H
#define OVIO_HOST_WINDOWS_H

#include <windows.h>

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

#endif
