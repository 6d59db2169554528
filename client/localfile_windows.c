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
	bool     own_h;     /* not a standard handle: close it */
	wchar_t *tmp;       /* the temporary file, or NULL: written in place */
	wchar_t *target;    /* what tmp replaces */
	bool     noreplace; /* finish refuses an existing target */
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

/* One call's share of the len - done bytes left: ReadFile takes a DWORD. */
static DWORD
lf_want(size_t left)
{
	return (left > 0x40000000 ? 0x40000000 : (DWORD) left);
}

/*
 * Up to len bytes, at offset (an OVERLAPPED naming it, on this synchronous
 * handle: threads reading different ranges do not meet), or where the
 * handle is when offset is -1.  *got < len only at the end: of the file,
 * or of a pipe whose writer is gone.
 */
static int
lf_read_all(
    ovio__local *lf, void *buf, size_t len, int64_t offset, size_t *got)
{
	size_t     done = 0;
	DWORD      n;
	OVERLAPPED ov;

	while (done < len) {
		memset(&ov, 0, sizeof(ov));
		ov.Offset     = (DWORD) ((uint64_t) offset + done);
		ov.OffsetHigh = (DWORD) (((uint64_t) offset + done) >> 32);
		if (!ReadFile(lf->h, (char *) buf + done, lf_want(len - done), &n,
		        offset < 0 ? NULL : &ov)) {
			if (GetLastError() == ERROR_BROKEN_PIPE
			    || GetLastError() == ERROR_HANDLE_EOF) {
				break; /* the end */
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

/* All len bytes, at offset or where the handle is, as lf_read_all. */
static int
lf_write_all(ovio__local *lf, const void *buf, size_t len, int64_t offset)
{
	size_t     done = 0;
	DWORD      n;
	OVERLAPPED ov;

	while (done < len) {
		memset(&ov, 0, sizeof(ov));
		ov.Offset     = (DWORD) ((uint64_t) offset + done);
		ov.OffsetHigh = (DWORD) (((uint64_t) offset + done) >> 32);
		if (!WriteFile(lf->h, (const char *) buf + done,
		        lf_want(len - done), &n, offset < 0 ? NULL : &ov)) {
			return ((int) GetLastError());
		}
		done += n;
	}
	return (0);
}

int
ovio__local_read(ovio__local *lf, void *buf, size_t len, size_t *got)
{
	return (lf_read_all(lf, buf, len, -1, got));
}

int
ovio__local_pread(
    ovio__local *lf, void *buf, size_t len, uint64_t offset, size_t *got)
{
	return (lf_read_all(lf, buf, len, (int64_t) offset, got));
}

int
ovio__local_write(ovio__local *lf, const void *buf, size_t len)
{
	return (lf_write_all(lf, buf, len, -1));
}

int
ovio__local_pwrite(
    ovio__local *lf, const void *buf, size_t len, uint64_t offset)
{
	return (lf_write_all(lf, buf, len, (int64_t) offset));
}

bool
ovio__local_is_temporary(ovio__local *lf)
{
	return (lf->tmp != NULL);
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
		        (lf->noreplace ? 0 : MOVEFILE_REPLACE_EXISTING)
		            | MOVEFILE_WRITE_THROUGH)) {
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

bool
ovio__local_is_sep(char c)
{
	return (c == '/' || c == '\\');
}

int
ovio__local_type(const char *path, int *type)
{
	wchar_t *w;
	HANDLE   h;
	DWORD    attr, ft;
	int      rv = 0;

	if ((w = ovio__win_widen(path)) == NULL) {
		return (ERROR_INVALID_NAME);
	}
	/* Opened (following reparse points, as scp follows links). */
	h = CreateFileW(w, FILE_READ_ATTRIBUTES,
	    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
	    OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
	free(w);
	if (h == INVALID_HANDLE_VALUE) {
		rv = (int) GetLastError();
		if (rv == ERROR_FILE_NOT_FOUND || rv == ERROR_PATH_NOT_FOUND) {
			*type = OVIO__LOCAL_NONE;
			return (0);
		}
		return (rv);
	}
	ft = GetFileType(h);
	{
		BY_HANDLE_FILE_INFORMATION info;
		attr = GetFileInformationByHandle(h, &info)
		           ? info.dwFileAttributes
		           : 0;
	}
	CloseHandle(h);
	if (attr & FILE_ATTRIBUTE_DIRECTORY) {
		*type = OVIO__LOCAL_DIR;
	} else if (ft == FILE_TYPE_DISK) {
		*type = OVIO__LOCAL_FILE;
	} else {
		*type = OVIO__LOCAL_OTHER;
	}
	return (0);
}

int
ovio__local_mkdir(const char *path)
{
	wchar_t *w;
	int      rv = 0, type;

	if ((w = ovio__win_widen(path)) == NULL) {
		return (ERROR_INVALID_NAME);
	}
	if (!CreateDirectoryW(w, NULL)) {
		rv = (int) GetLastError();
		if (rv == ERROR_ALREADY_EXISTS
		    && ovio__local_type(path, &type) == 0
		    && type == OVIO__LOCAL_DIR) {
			rv = 0;
		}
	}
	free(w);
	return (rv);
}

static int
name_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *) a, *(char *const *) b));
}

void
ovio__local_names_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(names[i]);
	}
	free(names);
}

/* name, a UTF-16 file name, as malloc'd UTF-8; NULL when out of memory. */
static char *
lf_narrow(const wchar_t *name)
{
	int len
	    = WideCharToMultiByte(CP_UTF8, 0, name, -1, NULL, 0, NULL, NULL);
	char *s;

	if (len <= 0 || (s = malloc((size_t) len)) == NULL) {
		return (NULL);
	}
	WideCharToMultiByte(CP_UTF8, 0, name, -1, s, len, NULL, NULL);
	return (s);
}

int
ovio__local_names(const char *dir, char ***names, size_t *np)
{
	WIN32_FIND_DATAW fd;
	HANDLE           h;
	wchar_t         *w;
	char            *pat, **v = NULL, **nv;
	size_t           n = 0, cap = 0, len = strlen(dir) + 3;
	int              rv = 0;

	if ((pat = malloc(len)) == NULL) {
		return (ERROR_NOT_ENOUGH_MEMORY);
	}
	snprintf(pat, len, "%s\\*", dir);
	w = ovio__win_widen(pat);
	free(pat);
	if (w == NULL) {
		return (ERROR_INVALID_NAME);
	}
	h = FindFirstFileW(w, &fd);
	free(w);
	if (h == INVALID_HANDLE_VALUE) {
		rv = (int) GetLastError();
		if (rv == ERROR_FILE_NOT_FOUND) {
			*names = NULL;
			*np    = 0;
			return (0);
		}
		return (rv);
	}
	do {
		if (wcscmp(fd.cFileName, L".") == 0
		    || wcscmp(fd.cFileName, L"..") == 0) {
			continue;
		}
		if (n == cap) {
			cap = cap != 0 ? cap * 2 : 64;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				rv = ERROR_NOT_ENOUGH_MEMORY;
				break;
			}
			v = nv;
		}
		if ((v[n] = lf_narrow(fd.cFileName)) == NULL) {
			rv = ERROR_NOT_ENOUGH_MEMORY;
			break;
		}
		n++;
	} while (FindNextFileW(h, &fd));
	if (rv == 0 && GetLastError() != ERROR_NO_MORE_FILES) {
		rv = (int) GetLastError();
	}
	FindClose(h);
	if (rv != 0) {
		ovio__local_names_free(v, n);
		return (rv);
	}
	if (n > 0) {
		qsort(v, n, sizeof(*v), name_cmp);
	}
	*names = v;
	*np    = n;
	return (0);
}

int
ovio__local_open_append(const char *path, ovio__local **lf, uint64_t *size)
{
	LARGE_INTEGER sz, zero;
	wchar_t      *w;
	HANDLE        h;
	int           rv;

	if (strcmp(path, "-") == 0) {
		return (ERROR_INVALID_PARAMETER);
	}
	if ((w = ovio__win_widen(path)) == NULL) {
		return (ERROR_INVALID_NAME);
	}
	h = CreateFileW(w, GENERIC_WRITE, FILE_SHARE_READ, NULL, OPEN_ALWAYS,
	    FILE_ATTRIBUTE_NORMAL, NULL);
	free(w);
	if (h == INVALID_HANDLE_VALUE) {
		return ((int) GetLastError());
	}
	zero.QuadPart = 0;
	if (GetFileType(h) != FILE_TYPE_DISK || !GetFileSizeEx(h, &sz)
	    || !SetFilePointerEx(h, zero, NULL, FILE_END)) {
		CloseHandle(h);
		return (ERROR_INVALID_PARAMETER);
	}
	*size = (uint64_t) sz.QuadPart;
	if ((rv = lf_new(lf, h, true)) != 0) {
		CloseHandle(h);
	}
	return (rv);
}

bool
ovio__local_seekable(ovio__local *lf)
{
	return (GetFileType(lf->h) == FILE_TYPE_DISK);
}

int
ovio__local_seek(ovio__local *lf, uint64_t n)
{
	LARGE_INTEGER d;

	d.QuadPart = (LONGLONG) n;
	return (SetFilePointerEx(lf->h, d, NULL, FILE_CURRENT)
	            ? 0
	            : (int) GetLastError());
}

void
ovio__local_noreplace(ovio__local *lf)
{
	lf->noreplace = true;
}

int
ovio__local_is_exists(int code)
{
	return (code == ERROR_ALREADY_EXISTS || code == ERROR_FILE_EXISTS);
}
