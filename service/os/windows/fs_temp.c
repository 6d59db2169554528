/*
 * os/windows/fs_temp.c - temporary files for the atomic replace of a file
 * (OVIO_OPEN_TEMP), Windows; see fs.h.
 *
 * The file is a hidden name in the target's folder, ".ovio-tmp-" and 16
 * hex digits, made with CREATE_NEW after the same checks as an open (the
 * parent folder's final path under the root's, then the file's own; see
 * fs.c).  It is opened with DELETE access besides read / write, so that
 * the open handle itself can be renamed (the commit) or marked for deletion
 * (the discard), and shared for delete.
 *
 * The commit flushes (FlushFileBuffers) and renames the open file over the
 * target, SetFileInformationByHandle(FileRenameInfo) with ReplaceIfExists
 * unless no-clobber; where that class is not available, MoveFileExW of the
 * temporary name does the same.  The discard marks the file for deletion
 * (FileDispositionInfo, else DeleteFileW): it goes when the handle is
 * closed right after.  If oviod itself is killed, the hidden file stays.
 */
#include <windows.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "error_impl.h"
#include "fs.h"
#include "fs_impl.h"

#define TEMP_PREFIX L".ovio-tmp-"
#define TEMP_TRIES  16

struct ovio__fs_temp {
	WCHAR *target;    /* the full path of the target */
	WCHAR *tmp;       /* the full path of the hidden file */
	bool   excl;      /* no-clobber commit */
	bool   committed; /* the file is the target now */
};

static void
temp_free(ovio__fs_temp *t)
{
	free(t->target);
	free(t->tmp);
	free(t);
}

/* 16 hex digits that differ between calls, processes and runs. */
static unsigned long long
temp_random(void)
{
	static volatile LONG n;
	LARGE_INTEGER        qpc;
	unsigned long long   r;

	QueryPerformanceCounter(&qpc);
	r = (unsigned long long) qpc.QuadPart * 0x9E3779B97F4A7C15ull;
	r ^= (unsigned long long) GetCurrentProcessId() << 40;
	r ^= (unsigned long long) InterlockedIncrement(&n)
	     * 0xBF58476D1CE4E5B9ull;
	r ^= GetTickCount64();
	return (r);
}

/* A folder at the target can never be replaced by a file. */
static bool
temp_is_dir(const WCHAR *path)
{
	DWORD a = GetFileAttributesW(path);

	return (a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_DIRECTORY));
}

int
ovio__fs_open_temp(ovio__fd rootfd, const char *path, uint32_t flags,
    uint32_t mode, ovio__fd *fd, ovio__fs_temp **tp, int64_t *oserr)
{
	ovio__winfs_path p;
	ovio__fs_temp   *t      = NULL;
	HANDLE           f      = INVALID_HANDLE_VALUE;
	DWORD            access = GENERIC_WRITE | DELETE, e = 0;
	size_t           plen, cap;
	int              rv, i;

	(void) mode; /* no POSIX permission bits; the folder's ACL applies */
	if (!(flags & OVIO_OPEN_WRITE)) {
		return (OVIO_EINVAL);
	}
	if (flags & OVIO_OPEN_READ) {
		access |= GENERIC_READ;
	}
	if ((rv = ovio__fs_check_target(path)) != 0) {
		return (rv);
	}
	if ((rv = ovio__winfs_path_make(rootfd, path, &p, oserr)) != 0) {
		return (rv);
	}
	if ((rv = ovio__winfs_check_parent(&p, oserr)) != 0) {
		goto fail;
	}
	if (temp_is_dir(p.full)) {
		*oserr = ERROR_DIRECTORY;
		rv     = OVIO_EISDIR;
		goto fail;
	}
	/* The parent folder's path: the root itself when parent is 0. */
	plen = p.parent != 0 ? p.parent : wcslen(p.root);
	cap  = plen + 1 + wcslen(TEMP_PREFIX) + 16 + 1;
	if ((t = calloc(1, sizeof(*t))) == NULL
	    || (t->target = _wcsdup(p.full)) == NULL
	    || (t->tmp = malloc(cap * sizeof(WCHAR))) == NULL) {
		rv = OVIO_ENOMEM;
		goto fail;
	}
	t->excl = (flags & OVIO_OPEN_EXCL) != 0;
	for (i = 0; i < TEMP_TRIES; i++) {
		wmemcpy(t->tmp, p.full, plen);
		_snwprintf(t->tmp + plen, cap - plen, L"\\%ls%016llx",
		    TEMP_PREFIX, temp_random());
		t->tmp[cap - 1] = L'\0';
		f               = CreateFileW(t->tmp, access,
		                  FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
		                  NULL, CREATE_NEW,
		                  FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OVERLAPPED
		                      | FILE_FLAG_OPEN_REPARSE_POINT
		                      | ovio__winfs_io_flags(flags),
		                  NULL);
		if (f != INVALID_HANDLE_VALUE
		    || ((e = GetLastError()) != ERROR_FILE_EXISTS
		        && e != ERROR_ALREADY_EXISTS)) {
			break;
		}
	}
	if (f == INVALID_HANDLE_VALUE) {
		rv = ovio__winfs_fail(oserr, e);
		goto fail;
	}
	/* The file made must be where it was meant to be, under the root. */
	if ((rv = ovio__winfs_check_opened(f, &p, 0, oserr)) != 0) {
		ovio__fs_discard_temp(t, (ovio__fd) f);
		t = NULL;
		CloseHandle(f);
		f = INVALID_HANDLE_VALUE;
		goto fail;
	}
	ovio__winfs_path_free(&p);
	*fd = (ovio__fd) f;
	*tp = t;
	return (0);

fail:
	if (t != NULL) {
		temp_free(t);
	}
	ovio__winfs_path_free(&p);
	return (rv);
}

/* Renames the open file f over (or, excl, to) t->target. */
static DWORD
temp_rename(ovio__fs_temp *t, HANDLE f)
{
	FILE_RENAME_INFO *ri;
	size_t            n  = wcslen(t->target);
	size_t            sz = sizeof(*ri) + n * sizeof(WCHAR);
	DWORD             e  = 0;

	if ((ri = calloc(1, sz)) == NULL) {
		return (ERROR_NOT_ENOUGH_MEMORY);
	}
	ri->ReplaceIfExists = t->excl ? FALSE : TRUE;
	ri->RootDirectory   = NULL;
	ri->FileNameLength  = (DWORD) (n * sizeof(WCHAR));
	wmemcpy(ri->FileName, t->target, n + 1);
	if (!SetFileInformationByHandle(f, FileRenameInfo, ri, (DWORD) sz)) {
		e = GetLastError();
	}
	free(ri);
	if (e == ERROR_INVALID_PARAMETER || e == ERROR_CALL_NOT_IMPLEMENTED
	    || e == ERROR_NOT_SUPPORTED) {
		/* No FileRenameInfo here: the same by name. */
		e = MoveFileExW(t->tmp, t->target,
		        t->excl ? 0 : MOVEFILE_REPLACE_EXISTING)
		        ? 0
		        : GetLastError();
	}
	return (e);
}

int
ovio__fs_commit_temp(ovio__fs_temp *t, ovio__fd fd, int64_t *oserr)
{
	HANDLE f = (HANDLE) fd;
	DWORD  e;

	if (!FlushFileBuffers(f)) {
		return (ovio__winfs_fail(oserr, GetLastError()));
	}
	if ((e = temp_rename(t, f)) != 0) {
		/* A folder there is refused as access denied. */
		if (e == ERROR_ACCESS_DENIED && temp_is_dir(t->target)) {
			*oserr = (int64_t) e;
			return (OVIO_EISDIR);
		}
		return (ovio__winfs_fail(oserr, e));
	}
	t->committed = true;
	return (0);
}

void
ovio__fs_discard_temp(ovio__fs_temp *t, ovio__fd fd)
{
	FILE_DISPOSITION_INFO di;

	if (!t->committed) {
		/* Deleted when fd, the last handle, is closed right after. */
		di.DeleteFile = TRUE;
		if (!SetFileInformationByHandle(
		        (HANDLE) fd, FileDispositionInfo, &di, sizeof(di))) {
			(void) DeleteFileW(t->tmp);
		}
	}
	temp_free(t);
}
