/*
 * error_impl.h - translating the OS's error codes into the one error space
 * (internal to libovio and oviod; see ovio_err.h for the space itself).
 *
 * Each OS error is translated once, where the call that failed was made,
 * and the raw code is kept beside the translation (os_error on the wire).
 * A code with no mapping becomes OVIO_EUNKNOWN, never OVIO_OK.
 */
#ifndef OVIO_ERROR_IMPL_H
#define OVIO_ERROR_IMPL_H

/* errno (0 gives OVIO_OK).  error.c. */
int ovio__err_from_errno(int e);

/* nng's NNG_E* codes (0 gives OVIO_OK).  error.c. */
int ovio__err_from_nng(int rv);

/*
 * Windows: a Win32 error (GetLastError), and an NTSTATUS (a completion's
 * OVERLAPPED.Internal, through its Win32 equivalent).  error_windows.c,
 * built only for Windows.
 */
int ovio__err_from_win32(unsigned long e);
int ovio__err_from_ntstatus(unsigned long st);

#endif
