/*
 * os/windows/fs.c - file-system operations on the served root, Windows; see
 * fs.h.
 *
 * Request paths are UTF-8 with / or \ separators, relative to the root.
 * They become "<root's final path>\a\b" (the root's final path is the
 * \\?\-prefixed name GetFinalPathNameByHandle gives, so no Win32 name
 * rewriting applies: "CON" is a file, a trailing dot stays).  Empty and "."
 * components are dropped; ".." was refused by ovio__fs_check_path; a ':'
 * (an alternate data stream) is refused.
 *
 * Staying under the root.  Reparse points (symbolic links, junctions,
 * mount points) could lead outside it, so:
 *  - the final component is opened with FILE_FLAG_OPEN_REPARSE_POINT, and
 *    a reparse point is refused (OVIO_EOUTSIDE) rather than followed;
 *  - the parent folder is opened first and its final path (every reparse
 *    point on the way resolved) must lie under the root's, so a create
 *    through a junction that leaves the root never happens;
 *  - after the open, the file's own final path must lie under the root's.
 * Truncation (OVIO_OPEN_TRUNC) is done after these checks, not by the open,
 * so a refused file is never truncated.  What remains is a race: a folder
 * replaced by a junction between the parent check and the open; the
 * check after the open still refuses the handle, but a file created there
 * stays.
 *
 * Handles are opened with FILE_FLAG_OVERLAPPED for the port; the service's
 * own reads on them use ovio__fs_pread_sync.
 */
#include <windows.h>

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "fs.h"
#include "fs_impl.h"
#include "error_impl.h"

/* 100 ns intervals between 1601-01-01 and 1970-01-01. */
#define FS_EPOCH_DELTA 116444736000000000LL

int
ovio__winfs_fail(int64_t *oserr, DWORD e)
{
	int rv = ovio__err_from_win32(e);

	*oserr = (int64_t) e;
	return (rv != OVIO_OK ? rv : OVIO_EUNKNOWN);
}

/* UTF-8 -> UTF-16; returns 0, OVIO_EINVAL or OVIO_ENAMETOOLONG. */
int
ovio__winfs_widen(const char *s, WCHAR *out, int cap)
{
	if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, out, cap)
	    == 0) {
		return (GetLastError() == ERROR_INSUFFICIENT_BUFFER
		            ? OVIO_ENAMETOOLONG
		            : OVIO_EINVAL);
	}
	return (0);
}

/* The final (\\?\-prefixed, reparse points resolved) path of h. */
static int
fs_final_path(HANDLE h, WCHAR *out, DWORD cap, int64_t *oserr)
{
	DWORD n = GetFinalPathNameByHandleW(
	    h, out, cap, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);

	if (n == 0) {
		return (ovio__winfs_fail(oserr, GetLastError()));
	}
	if (n >= cap) {
		return (OVIO_ENAMETOOLONG);
	}
	while (n > 0 && out[n - 1] == L'\\') {
		out[--n] = L'\0'; /* "\\?\C:\" -> "\\?\C:" */
	}
	return (0);
}

/* Is path the root itself or under it? */
static int
fs_under(const WCHAR *root, const WCHAR *path)
{
	size_t n = wcslen(root);

	return (_wcsnicmp(root, path, n) == 0
	        && (path[n] == L'\0' || path[n] == L'\\'));
}

/* Checks that h (an open file or folder) lies under the root. */
int
ovio__winfs_check_under(
    HANDLE h, const WCHAR *root, WCHAR *scratch, int64_t *oserr)
{
	int rv;

	if ((rv = fs_final_path(h, scratch, FS_PATH_MAX, oserr)) != 0) {
		return (rv);
	}
	return (fs_under(root, scratch) ? 0 : OVIO_EOUTSIDE);
}

void
ovio__winfs_path_free(ovio__winfs_path *p)
{
	free(p->root);
}

int
ovio__winfs_path_make(
    ovio__fd rootfd, const char *rel, ovio__winfs_path *p, int64_t *oserr)
{
	WCHAR *w, *c, *end;
	size_t n, k;
	int    rv;

	memset(p, 0, sizeof(*p));
	if ((rv = ovio__fs_check_path(rel)) != 0) {
		return (rv);
	}
	if ((p->root = malloc(4 * FS_PATH_MAX * sizeof(WCHAR))) == NULL) {
		return (OVIO_ENOMEM);
	}
	p->full    = p->root + FS_PATH_MAX;
	p->scratch = p->full + FS_PATH_MAX;
	w          = p->scratch + FS_PATH_MAX; /* the request path, widened */
	if ((rv = fs_final_path((HANDLE) rootfd, p->root, FS_PATH_MAX, oserr))
	        != 0
	    || (rv = ovio__winfs_widen(rel, w, FS_PATH_MAX)) != 0) {
		goto fail;
	}
	n = wcslen(p->root);
	wmemcpy(p->full, p->root, n + 1);
	for (c = w; *c != L'\0'; c = end) {
		end = c + wcscspn(c, L"/\\");
		k   = (size_t) (end - c);
		if (*end != L'\0') {
			end++;
		}
		if (k == 0 || (k == 1 && c[0] == L'.')) {
			continue;
		}
		if (wmemchr(c, L':', k) != NULL) {
			rv = OVIO_EINVAL; /* no alternate data streams */
			goto fail;
		}
		if (n + 1 + k + 1 > FS_PATH_MAX) {
			rv = OVIO_ENAMETOOLONG;
			goto fail;
		}
		p->parent    = n;
		p->full[n++] = L'\\';
		wmemcpy(p->full + n, c, k);
		n += k;
		p->full[n] = L'\0';
	}
	if (p->parent == wcslen(p->root)) {
		p->parent = 0; /* a name directly under the root */
	}
	return (0);

fail:
	ovio__winfs_path_free(p);
	return (rv);
}

/* Opens the parent folder of p->full and checks it lies under the root. */
int
ovio__winfs_check_parent(ovio__winfs_path *p, int64_t *oserr)
{
	HANDLE d;
	WCHAR  save;
	int    rv;

	if (p->parent == 0) {
		return (0);
	}
	save               = p->full[p->parent];
	p->full[p->parent] = L'\0';
	d                  = CreateFileW(p->full, FILE_READ_ATTRIBUTES,
	                     FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
	                     OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
	p->full[p->parent] = save;
	if (d == INVALID_HANDLE_VALUE) {
		return (ovio__winfs_fail(oserr, GetLastError()));
	}
	rv = ovio__winfs_check_under(d, p->root, p->scratch, oserr);
	CloseHandle(d);
	return (rv);
}

/*
 * Refuses reparse points and folders, and anything outside the root.
 *
 * A handle that is not a disk file (GetFileType FILE_TYPE_PIPE: a Unix
 * FIFO under Wine, opened through its Z:\ path) may not answer
 * GetFileInformationByHandle (Wine: ERROR_INVALID_PARAMETER, and
 * GetFileAttributes by name fails too); its attributes then come from
 * GetFileInformationByHandleEx(FileAttributeTagInfo), which answers.
 */
int
ovio__winfs_check_opened(
    HANDLE f, ovio__winfs_path *p, int dir_ok, int64_t *oserr)
{
	BY_HANDLE_FILE_INFORMATION fi;
	FILE_ATTRIBUTE_TAG_INFO    ti;
	DWORD                      attr, e;

	if (GetFileInformationByHandle(f, &fi)) {
		attr = fi.dwFileAttributes;
	} else {
		e = GetLastError();
		if (GetFileType(f) != FILE_TYPE_PIPE
		    || !GetFileInformationByHandleEx(
		        f, FileAttributeTagInfo, &ti, sizeof(ti))) {
			return (ovio__winfs_fail(oserr, e));
		}
		attr = ti.FileAttributes;
	}
	if (attr & FILE_ATTRIBUTE_REPARSE_POINT) {
		return (OVIO_EOUTSIDE);
	}
	if (!dir_ok && (attr & FILE_ATTRIBUTE_DIRECTORY)) {
		return (OVIO_EISDIR);
	}
	return (ovio__winfs_check_under(f, p->root, p->scratch, oserr));
}

const char *
ovio__fs_resolution(void)
{
	return ("final paths checked against the root's, reparse points "
	        "refused");
}

int
ovio__fs_open_root(const char *root, ovio__fd *rootfd, int64_t *oserr)
{
	WCHAR *w;
	HANDLE h;
	DWORD  e;
	int    rv = 0;

	if ((w = malloc(FS_PATH_MAX * sizeof(WCHAR))) == NULL) {
		return (OVIO_ENOMEM);
	}
	if ((rv = ovio__winfs_widen(root, w, FS_PATH_MAX)) != 0) {
		goto done;
	}
	if (!CreateDirectoryW(w, NULL)
	    && (e = GetLastError()) != ERROR_ALREADY_EXISTS) {
		rv = ovio__winfs_fail(oserr, e);
		goto done;
	}
	h = CreateFileW(w, FILE_READ_ATTRIBUTES,
	    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
	    OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
	if (h == INVALID_HANDLE_VALUE) {
		rv = ovio__winfs_fail(oserr, GetLastError());
		goto done;
	}
	*rootfd = (ovio__fd) h;
done:
	free(w);
	return (rv);
}

void
ovio__fs_close_root(ovio__fd rootfd)
{
	CloseHandle((HANDLE) rootfd);
}

int
ovio__fs_open(ovio__fd rootfd, const char *path, uint32_t flags, uint32_t mode,
    ovio__fd *fd, int *kind, int64_t *oserr)
{
	DWORD                 access = 0, disp, e, attr;
	HANDLE                f      = INVALID_HANDLE_VALUE;
	FILE_END_OF_FILE_INFO eof;
	ovio__winfs_path      p;
	int                   rv;

	(void) mode; /* no POSIX permission bits; the folder's ACL applies */
	if (flags & OVIO_OPEN_READ) {
		access |= GENERIC_READ;
	}
	if (flags & OVIO_OPEN_WRITE) {
		access |= GENERIC_WRITE;
	}
	if (access == 0
	    || ((flags & OVIO_OPEN_TRUNC) && !(flags & OVIO_OPEN_WRITE))) {
		return (OVIO_EINVAL);
	}
	if ((flags & OVIO_OPEN_CREATE) && (flags & OVIO_OPEN_EXCL)) {
		disp = CREATE_NEW;
	} else if (flags & OVIO_OPEN_CREATE) {
		disp = OPEN_ALWAYS; /* truncation, if asked, comes later */
	} else {
		disp = OPEN_EXISTING;
	}
	if ((rv = ovio__winfs_path_make(rootfd, path, &p, oserr)) != 0) {
		return (rv);
	}
	if ((rv = ovio__winfs_check_parent(&p, oserr)) != 0) {
		goto fail;
	}
	f = CreateFileW(p.full, access,
	    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, disp,
	    FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OVERLAPPED
	        | FILE_FLAG_OPEN_REPARSE_POINT | ovio__winfs_io_flags(flags),
	    NULL);
	if (f == INVALID_HANDLE_VALUE) {
		e = GetLastError();
		/* A folder opened as a file is refused with ACCESS_DENIED. */
		attr = GetFileAttributesW(p.full);
		if (e == ERROR_ACCESS_DENIED && attr != INVALID_FILE_ATTRIBUTES
		    && (attr & FILE_ATTRIBUTE_DIRECTORY)) {
			*oserr = (int64_t) e;
			rv     = OVIO_EISDIR;
		} else {
			rv = ovio__winfs_fail(oserr, e);
		}
		goto fail;
	}
	if ((rv = ovio__winfs_check_opened(f, &p, 0, oserr)) != 0) {
		goto fail;
	}
	/* Unbuffered I/O is for files on a disk, not pipes or devices. */
	if ((flags & OVIO_OPEN_DIRECT) && GetFileType(f) != FILE_TYPE_DISK) {
		*oserr = 0;
		rv     = OVIO_EINVAL;
		goto fail;
	}
	if (flags & OVIO_OPEN_TRUNC) {
		eof.EndOfFile.QuadPart = 0;
		if (!SetFileInformationByHandle(
		        f, FileEndOfFileInfo, &eof, sizeof(eof))) {
			rv = ovio__winfs_fail(oserr, GetLastError());
			goto fail;
		}
	}
	*kind = GetFileType(f) != FILE_TYPE_DISK ? OVIO__FS_STREAM
	                                         : OVIO__FS_FILE;
	*fd   = (ovio__fd) f;
	ovio__winfs_path_free(&p);
	return (0);

fail:
	if (f != INVALID_HANDLE_VALUE) {
		CloseHandle(f);
	}
	ovio__winfs_path_free(&p);
	return (rv);
}

int64_t
ovio__winfs_filetime_ns(FILETIME ft)
{
	int64_t t = ((int64_t) ft.dwHighDateTime << 32) | ft.dwLowDateTime;

	return ((t - FS_EPOCH_DELTA) * 100);
}

DWORD
ovio__winfs_io_flags(uint32_t flags)
{
	return (((flags & OVIO_OPEN_DIRECT) ? FILE_FLAG_NO_BUFFERING : 0)
	        | ((flags & OVIO_OPEN_WRITE_THROUGH) ? FILE_FLAG_WRITE_THROUGH
	                                             : 0));
}

/*
 * FILE_STORAGE_INFO and FileStorageInfo (16) are Windows 8's; the build
 * targets Windows 7, where the call fails and 4096 is used.
 */
typedef struct fs_storage_info {
	ULONG LogicalBytesPerSector;
	ULONG PhysicalBytesPerSectorForAtomicity;
	ULONG PhysicalBytesPerSectorForPerformance;
	ULONG FileSystemEffectivePhysicalBytesPerSectorForAtomicity;
	ULONG Flags;
	ULONG ByteOffsetForSectorAlignment;
	ULONG ByteOffsetForPartitionAlignment;
} fs_storage_info;
#define FS_STORAGE_INFO_CLASS ((FILE_INFO_BY_HANDLE_CLASS) 16)

uint32_t
ovio__fs_direct_align(ovio__fd fd)
{
	fs_storage_info si;
	uint32_t        align = 0;

	/* Unbuffered I/O needs whole physical sectors (and aligned memory). */
	if (GetFileInformationByHandleEx(
	        (HANDLE) fd, FS_STORAGE_INFO_CLASS, &si, sizeof(si))) {
		align = si.LogicalBytesPerSector;
		if (si.PhysicalBytesPerSectorForAtomicity > align) {
			align = si.PhysicalBytesPerSectorForAtomicity;
		}
	}
	if (align == 0 || (align & (align - 1)) != 0) {
		return (4096); /* not reported: what nearly every disk takes */
	}
	return (align < 512 ? 512 : align);
}

int
ovio__fs_fstat(ovio__fd fd, ovio_stat *st, int64_t *oserr)
{
	BY_HANDLE_FILE_INFORMATION fi;
	HANDLE                     h    = (HANDLE) fd;
	DWORD                      type = GetFileType(h);

	memset(st, 0, sizeof(*st));
	if (type == FILE_TYPE_PIPE) {
		st->type = OVIO_TYPE_FIFO;
		st->mode = 0600;
		return (0);
	}
	if (!GetFileInformationByHandle(h, &fi)) {
		return (ovio__winfs_fail(oserr, GetLastError()));
	}
	st->size = ((uint64_t) fi.nFileSizeHigh << 32) | fi.nFileSizeLow;
	if (fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
		st->type = OVIO_TYPE_DIR;
		st->mode = 0755;
	} else {
		st->type
		    = type == FILE_TYPE_DISK ? OVIO_TYPE_FILE : OVIO_TYPE_OTHER;
		st->mode = 0644;
	}
	if (fi.dwFileAttributes & FILE_ATTRIBUTE_READONLY) {
		st->mode &= ~0222u;
	}
	st->mtime_ns = ovio__winfs_filetime_ns(fi.ftLastWriteTime);
	return (0);
}

int
ovio__fs_stat(ovio__fd rootfd, const char *path, ovio_stat *st, int64_t *oserr)
{
	HANDLE           f = INVALID_HANDLE_VALUE;
	ovio__winfs_path p;
	int              rv;

	if ((rv = ovio__winfs_path_make(rootfd, path, &p, oserr)) != 0) {
		return (rv);
	}
	if ((rv = ovio__winfs_check_parent(&p, oserr)) != 0) {
		goto done;
	}
	/* Attributes only, so folders and files open elsewhere work. */
	f = CreateFileW(p.full, FILE_READ_ATTRIBUTES,
	    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
	    OPEN_EXISTING,
	    FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
	if (f == INVALID_HANDLE_VALUE) {
		rv = ovio__winfs_fail(oserr, GetLastError());
		goto done;
	}
	if ((rv = ovio__winfs_check_opened(f, &p, 1, oserr)) == 0) {
		rv = ovio__fs_fstat((ovio__fd) f, st, oserr);
	}
done:
	if (f != INVALID_HANDLE_VALUE) {
		CloseHandle(f);
	}
	ovio__winfs_path_free(&p);
	return (rv);
}

/*
 * The event's low bit set in OVERLAPPED.hEvent tells the kernel not to
 * queue a completion packet to the handle's port, whatever the outcome;
 * GetOverlappedResult(bWait=TRUE) waits on the event (the kernel ignores
 * the tag bit).  So this read never shows up in ovio__port_dequeue.
 * ERROR_MORE_DATA (a message-mode pipe's message longer than buf) is data:
 * buf holds its first part.
 */
int
ovio__fs_pread_sync(ovio__fd fd, void *buf, size_t len, uint64_t offset,
    int stream, size_t *got, int64_t *oserr)
{
	OVERLAPPED ov;
	HANDLE     ev;
	DWORD      n = 0, e = 0;
	int        rv = 0;

	*got = 0;
	if (len > 0x7FFFFFFFu) {
		len = 0x7FFFFFFFu;
	}
	if ((ev = CreateEventW(NULL, TRUE, FALSE, NULL)) == NULL) {
		return (ovio__winfs_fail(oserr, GetLastError()));
	}
	memset(&ov, 0, sizeof(ov));
	if (!stream) {
		ov.Offset     = (DWORD) offset;
		ov.OffsetHigh = (DWORD) (offset >> 32);
	}
	ov.hEvent = (HANDLE) ((ULONG_PTR) ev | 1);
	if (!ReadFile((HANDLE) fd, buf, (DWORD) len, NULL, &ov)
	    && (e = GetLastError()) != ERROR_IO_PENDING) {
		goto done;
	}
	e = 0;
	if (!GetOverlappedResult((HANDLE) fd, &ov, &n, TRUE)) {
		e = GetLastError();
	}
done:
	CloseHandle(ev);
	if (e == ERROR_HANDLE_EOF || e == ERROR_BROKEN_PIPE) {
		return (0); /* end of file: 0 bytes */
	}
	if (e == ERROR_MORE_DATA) {
		/* Part of a longer pipe message: data, not an error. */
		*got = (size_t) ov.InternalHigh;
		return (0);
	}
	if (e != 0) {
		rv = ovio__winfs_fail(oserr, e);
	} else {
		*got = (size_t) n;
	}
	return (rv);
}

void
ovio__fs_close(ovio__fd fd)
{
	CloseHandle((HANDLE) fd);
}
