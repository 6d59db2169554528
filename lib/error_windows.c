/*
 * error_windows.c - translation of Windows error codes (Win32 and NTSTATUS)
 * into the one error space of ovio_err.h.
 *
 * The translation happens once, where the system call is made; the caller
 * keeps the raw code beside the status (Reply.os_error).  A code with no
 * mapping becomes OVIO_EUNKNOWN, never a guess.
 *
 * Two codes have a meaning that depends on the call, and their callers
 * handle them before asking here:
 *  - ERROR_HANDLE_EOF (STATUS_END_OF_FILE): a read at or past the end of a
 *    file is a success with 0 bytes, not an error (see port/iocp.c).
 *  - ERROR_BROKEN_PIPE (STATUS_PIPE_BROKEN): for a read, the writer has
 *    closed its end, which is end of file as for a POSIX pipe (0 bytes);
 *    for anything else it maps to OVIO_ECLOSED below.
 */
#include <windows.h>

#include "ovio.h"
#include "error_impl.h"

int
ovio__err_from_win32(unsigned long e)
{
	switch (e) {
	case ERROR_SUCCESS:
	case ERROR_HANDLE_EOF:
		return (OVIO_OK);
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
	case ERROR_INVALID_DRIVE:
	case ERROR_BAD_NETPATH:
	case ERROR_BAD_NET_NAME:
	case ERROR_BAD_PATHNAME:
		return (OVIO_ENOENT);
	case ERROR_ACCESS_DENIED:
	case ERROR_PRIVILEGE_NOT_HELD:
	case ERROR_CANT_ACCESS_FILE:
		return (OVIO_EACCES);
	case ERROR_FILE_EXISTS:
	case ERROR_ALREADY_EXISTS:
		return (OVIO_EEXIST);
	case ERROR_OPERATION_ABORTED:
		return (OVIO_ECANCELED);
	case ERROR_DISK_FULL:
	case ERROR_HANDLE_DISK_FULL:
		return (OVIO_ENOSPC);
	case ERROR_INVALID_HANDLE:
		return (OVIO_EBADF);
	case ERROR_BROKEN_PIPE:
	case ERROR_NO_DATA:
	case ERROR_PIPE_NOT_CONNECTED:
		return (OVIO_ECLOSED);
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
	case ERROR_NO_SYSTEM_RESOURCES:
	case ERROR_NONPAGED_SYSTEM_RESOURCES:
	case ERROR_PAGED_SYSTEM_RESOURCES:
		return (OVIO_ENOMEM);
	case ERROR_SHARING_VIOLATION:
	case ERROR_LOCK_VIOLATION:
	case ERROR_BUSY:
	case ERROR_PIPE_BUSY:
		return (OVIO_EBUSY);
	case ERROR_INVALID_PARAMETER:
	case ERROR_INVALID_NAME:
	case ERROR_INVALID_FUNCTION:
	case ERROR_NEGATIVE_SEEK:
	case ERROR_NO_UNICODE_TRANSLATION:
		return (OVIO_EINVAL);
	case ERROR_DIRECTORY:
		return (OVIO_EISDIR);
	case ERROR_FILENAME_EXCED_RANGE:
	case ERROR_BUFFER_OVERFLOW:
		return (OVIO_ENAMETOOLONG);
	case ERROR_WRITE_PROTECT:
		return (OVIO_EROFS);
	case ERROR_TOO_MANY_OPEN_FILES:
		return (OVIO_EMFILE);
	case ERROR_NOT_SUPPORTED:
	case ERROR_CALL_NOT_IMPLEMENTED:
		return (OVIO_ENOTSUP);
	case ERROR_CRC:
	case ERROR_IO_DEVICE:
	case ERROR_READ_FAULT:
	case ERROR_WRITE_FAULT:
	case ERROR_GEN_FAILURE:
	case ERROR_SECTOR_NOT_FOUND:
		return (OVIO_EIO);
	case ERROR_TIMEOUT:
	case WAIT_TIMEOUT:
	case ERROR_SEM_TIMEOUT:
		return (OVIO_ETIMEDOUT);
	case ERROR_CANT_RESOLVE_FILENAME: /* too many reparse points */
		return (OVIO_ELOOP);
	case ERROR_NOT_SAME_DEVICE:
		return (OVIO_EXDEV); /* MoveFileEx across volumes */
	case ERROR_FILE_TOO_LARGE:
		return (OVIO_EFBIG);
	case ERROR_DIR_NOT_EMPTY:
		return (OVIO_ENOTEMPTY);
	case ERROR_NOT_READY:
	case ERROR_RETRY:
		return (OVIO_EAGAIN);
	}
	return (OVIO_EUNKNOWN);
}

/* ntdll; declared here so that no DDK header is needed. */
ULONG WINAPI RtlNtStatusToDosError(LONG status);

/*
 * Completions carry an NTSTATUS (OVERLAPPED.Internal).  The common ones are
 * mapped directly; the rest go through ntdll's own NTSTATUS -> Win32 table.
 */
int
ovio__err_from_ntstatus(unsigned long st)
{
	switch (st) {
	case 0x00000000UL: /* STATUS_SUCCESS */
	case 0xC0000011UL: /* STATUS_END_OF_FILE */
		return (OVIO_OK);
	case 0xC0000120UL: /* STATUS_CANCELLED */
		return (OVIO_ECANCELED);
	case 0xC000014BUL: /* STATUS_PIPE_BROKEN */
	case 0xC00000B0UL: /* STATUS_PIPE_DISCONNECTED */
		return (OVIO_ECLOSED);
	case 0xC000007FUL: /* STATUS_DISK_FULL */
		return (OVIO_ENOSPC);
	case 0xC0000008UL: /* STATUS_INVALID_HANDLE */
		return (OVIO_EBADF);
	case 0xC0000022UL: /* STATUS_ACCESS_DENIED */
		return (OVIO_EACCES);
	case 0xC000000DUL: /* STATUS_INVALID_PARAMETER */
		return (OVIO_EINVAL);
	case 0xC0000017UL: /* STATUS_NO_MEMORY */
	case 0xC000009AUL: /* STATUS_INSUFFICIENT_RESOURCES */
		return (OVIO_ENOMEM);
	case 0xC0000185UL: /* STATUS_IO_DEVICE_ERROR */
		return (OVIO_EIO);
	}
	return (ovio__err_from_win32(RtlNtStatusToDosError((LONG) st)));
}
