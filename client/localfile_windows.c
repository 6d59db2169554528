/*
 * localfile_windows.c - the local side of ovio's transfers on Windows; see
 * localfile.h.  Paths are UTF-8 and widened; error codes are Win32's.
 */
#include <windows.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "localfile.h"
#include "platform_windows.h"

struct ovio__local {
	HANDLE   h;
	bool     own_h;  /* not a standard handle: close it */
	wchar_t *tmp;    /* the temporary file, or NULL: written in place */
	wchar_t *target; /* what tmp replaces */
};

static int
lf_new(ovio__local **lfp, HANDLE h, bool own)
{
	ovio__local *lf;

	if ((lf = calloc(1, sizeof(*lf))) == NULL) {
		return (ERROR_NOT_ENOUGH_MEMORY);
	}
	lf->h     = h;
	lf->own_h = own;
	*lfp      = lf;
	return (0);
}

static void
lf_free(ovio__local *lf)
{
	free(lf->tmp);
	free(lf->target);
	free(lf);
}

int
ovio__local_open_read(const char *path, ovio__local **lf, int64_t *size)
{
	LARGE_INTEGER sz;
	wchar_t      *w;
	HANDLE        h;
	int           rv;

	if (strcmp(path, "-") == 0) {
		*size = -1;
		return (lf_new(lf, GetStdHandle(STD_INPUT_HANDLE), false));
	}
	if ((w = ovio__win_widen(path)) == NULL) {
		return (ERROR_INVALID_NAME);
	}
	h = CreateFileW(w, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE,
	    NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
	free(w);
	if (h == INVALID_HANDLE_VALUE) {
		return ((int) GetLastError());
	}
	*size = -1;
	if (GetFileType(h) == FILE_TYPE_DISK && GetFileSizeEx(h, &sz)) {
		*size = (int64_t) sz.QuadPart;
	}
	if ((rv = lf_new(lf, h, true)) != 0) {
		CloseHandle(h);
	}
	return (rv);
}

/* A temporary file beside target: ".NAME.ovio-XXXXXX" in its folder. */
static int
lf_temp(ovio__local *lf, const wchar_t *target)
{
	const wchar_t *s1 = wcsrchr(target, L'\\'), *s2 = wcsrchr(target, L'/');
	const wchar_t *slash = s1 > s2 ? s1 : s2;
	const wchar_t *base  = slash != NULL ? slash + 1 : target;
	int            dlen  = slash != NULL ? (int) (slash - target) + 1 : 0;
	size_t         len   = wcslen(target) + 32;
	unsigned       seed  = GetTickCount() ^ (GetCurrentProcessId() << 16);
	int            i;

	if ((lf->tmp = malloc(len * sizeof(wchar_t))) == NULL
	    || (lf->target = _wcsdup(target)) == NULL) {
		return (ERROR_NOT_ENOUGH_MEMORY);
	}
	for (i = 0; i < 100; i++) {
		seed = seed * 1103515245u + 12345u;
		_snwprintf(lf->tmp, len, L"%.*ls.%.200ls.ovio-%06x", dlen,
		    target, base, (seed >> 8) & 0xffffff);
		lf->tmp[len - 1] = L'\0';
		lf->h = CreateFileW(lf->tmp, GENERIC_WRITE, 0, NULL, CREATE_NEW,
		    FILE_ATTRIBUTE_NORMAL, NULL);
		if (lf->h != INVALID_HANDLE_VALUE) {
			lf->own_h = true;
			return (0);
		}
		if (GetLastError() != ERROR_FILE_EXISTS) {
			break;
		}
	}
	free(lf->tmp);
	lf->tmp = NULL;
	return ((int) GetLastError());
}

int
ovio__local_create(const char *path, ovio__local **lfp)
{
	ovio__local *lf;
	wchar_t     *w;
	HANDLE       h;
	DWORD        attr;
	int          rv;

	if (strcmp(path, "-") == 0) {
		return (lf_new(lfp, GetStdHandle(STD_OUTPUT_HANDLE), false));
	}
	if ((w = ovio__win_widen(path)) == NULL) {
		return (ERROR_INVALID_NAME);
	}
	attr = GetFileAttributesW(w);
	if (attr != INVALID_FILE_ATTRIBUTES
	    && (attr & FILE_ATTRIBUTE_DIRECTORY) != 0) {
		free(w);
		return (ERROR_DIRECTORY);
	}
	/* Something that exists and is not on a disk (NUL, a pipe, a
	 * console) is written as it is, never truncated. */
	h = CreateFileW(w, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
	    NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
	if (h != INVALID_HANDLE_VALUE && GetFileType(h) != FILE_TYPE_DISK) {
		free(w);
		if ((rv = lf_new(lfp, h, true)) != 0) {
			CloseHandle(h);
		}
		return (rv);
	}
	if (h != INVALID_HANDLE_VALUE) {
		CloseHandle(h);
	} else if (GetLastError() != ERROR_FILE_NOT_FOUND) {
		rv = (int) GetLastError();
		free(w);
		return (rv);
	}
	if ((rv = lf_new(&lf, INVALID_HANDLE_VALUE, false)) == 0
	    && (rv = lf_temp(lf, w)) != 0) {
		lf_free(lf);
	}
	free(w);
	if (rv == 0) {
		*lfp = lf;
	}
	return (rv);
}

int
ovio__local_read(ovio__local *lf, void *buf, size_t len, size_t *got)
{
	size_t done = 0;
	DWORD  n;

	while (done < len) {
		DWORD want = len - done > 0x40000000 ? 0x40000000
		                                     : (DWORD) (len - done);
		if (!ReadFile(lf->h, (char *) buf + done, want, &n, NULL)) {
			if (GetLastError() == ERROR_BROKEN_PIPE) {
				break; /* the writer is gone: the end */
			}
			return ((int) GetLastError());
		}
		if (n == 0) {
			break;
		}
		done += n;
	}
	*got = done;
	return (0);
}

int
ovio__local_write(ovio__local *lf, const void *buf, size_t len)
{
	size_t done = 0;
	DWORD  n;

	while (done < len) {
		DWORD want = len - done > 0x40000000 ? 0x40000000
		                                     : (DWORD) (len - done);
		if (!WriteFile(
		        lf->h, (const char *) buf + done, want, &n, NULL)) {
			return ((int) GetLastError());
		}
		done += n;
	}
	return (0);
}

int
ovio__local_finish(ovio__local *lf)
{
	int rv = 0;

	if (lf->tmp != NULL) {
		if (!FlushFileBuffers(lf->h)) {
			rv = (int) GetLastError();
		}
		CloseHandle(lf->h);
		if (rv == 0
		    && !MoveFileExW(lf->tmp, lf->target,
		        MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
			rv = (int) GetLastError();
		}
		if (rv != 0) {
			DeleteFileW(lf->tmp);
		}
	} else if (lf->own_h && !CloseHandle(lf->h)) {
		rv = (int) GetLastError();
	}
	lf_free(lf);
	return (rv);
}

void
ovio__local_abort(ovio__local *lf)
{
	if (lf->own_h) {
		CloseHandle(lf->h);
	}
	if (lf->tmp != NULL) {
		DeleteFileW(lf->tmp);
	}
	lf_free(lf);
}

const char *
ovio__local_strerror(int code)
{
	static char buf[256];
	DWORD       n;

	n = FormatMessageA(
	    FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
	    (DWORD) code, MAKELANGID(LANG_ENGLISH, SUBLANG_DEFAULT), buf,
	    sizeof(buf), NULL);
	while (n > 0
	       && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == '.'
	           || buf[n - 1] == ' ')) {
		buf[--n] = '\0';
	}
	if (n == 0) {
		snprintf(buf, sizeof(buf), "Windows error %d", code);
	}
	return (buf);
}

int
ovio__local_kind(int code)
{
	switch (code) {
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
	case ERROR_INVALID_NAME:
	case ERROR_BAD_NETPATH:
		return (OVIO__LOCAL_NOTFOUND);
	case ERROR_ACCESS_DENIED:
	case ERROR_WRITE_PROTECT:
	case ERROR_SHARING_VIOLATION:
		return (OVIO__LOCAL_PERM);
	}
	return (OVIO__LOCAL_IO);
}
