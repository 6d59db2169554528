/*
 * os/windows/fs_ns.c - the namespace (list, mkdir, remove, rename) under
 * the served root, Windows; see fs.h.
 *
 * Paths become full paths under the root's final path exactly as opens'
 * do (fs_impl.h: "." components dropped, ':' streams refused, the \\?\
 * form so that "CON" is a file), and the same checks keep them there: the
 * parent folder is opened first and its final path (reparse points
 * resolved) must lie under the root's.  A listed folder is opened with
 * FILE_FLAG_OPEN_REPARSE_POINT and refused if it is a reparse point, and
 * its entries are read from that handle, so what is listed is what was
 * checked.  The target of a remove or rename is opened the same way: a
 * reparse point there is removed or renamed itself (never followed);
 * anything else must lie under the root.  The race fs.c describes remains:
 * a folder replaced by a junction between the check and the call.
 */
#include <windows.h>

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "fs.h"
#include "fs_impl.h"
#include "error_impl.h"

#define NS_DIR_BUF (64u << 10)

/* Opens the target p->full, without following a reparse point there. */
static HANDLE
ns_open_target(ovio__winfs_path *p, DWORD access)
{
	return (CreateFileW(p->full, access,
	    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
	    OPEN_EXISTING,
	    FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL));
}

/*
 * The path of a mkdir, remove or rename: a name to act on (not the root
 * itself, nor "."), whose parent folder lies under the root (checked when
 * check is set: a mkdir -p checks each folder as it makes it).
 */
static int
ns_target(ovio__fd rootfd, const char *path, ovio__winfs_path *p, int check,
    int64_t *oserr)
{
	int rv;

	if ((rv = ovio__fs_check_target(path)) != 0) {
		return (rv);
	}
	if ((rv = ovio__winfs_path_make(rootfd, path, p, oserr)) != 0) {
		return (rv);
	}
	if (wcslen(p->full) == wcslen(p->root)) {
		rv = OVIO_EINVAL; /* only "." components: the root itself */
	} else if (check) {
		rv = ovio__winfs_check_parent(p, oserr);
	}
	if (rv != 0) {
		ovio__winfs_path_free(p);
	}
	return (rv);
}

/*
 * Checks the existing target of a remove or rename: a reparse point is
 * acted on itself; anything else must lie under the root.  *attr gets its
 * attributes.
 */
static int
ns_check_existing(ovio__winfs_path *p, DWORD *attr, int64_t *oserr)
{
	BY_HANDLE_FILE_INFORMATION fi;
	HANDLE                     f;
	int                        rv = 0;

	if ((f = ns_open_target(p, FILE_READ_ATTRIBUTES))
	    == INVALID_HANDLE_VALUE) {
		return (ovio__winfs_fail(oserr, GetLastError()));
	}
	if (!GetFileInformationByHandle(f, &fi)) {
		rv = ovio__winfs_fail(oserr, GetLastError());
	} else {
		*attr = fi.dwFileAttributes;
		if (!(fi.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)) {
			rv = ovio__winfs_check_under(
			    f, p->root, p->scratch, oserr);
		}
	}
	CloseHandle(f);
	return (rv);
}

static void
ns_fill_stat(const FILE_ID_BOTH_DIR_INFO *e, ovio_stat *st)
{
	FILETIME ft;

	memset(st, 0, sizeof(*st));
	st->size = (uint64_t) e->EndOfFile.QuadPart;
	if (e->FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) {
		st->type = OVIO_TYPE_LINK;
		st->mode = 0777;
	} else if (e->FileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
		st->type = OVIO_TYPE_DIR;
		st->mode = 0755;
	} else {
		st->type = OVIO_TYPE_FILE;
		st->mode = 0644;
	}
	if (e->FileAttributes & FILE_ATTRIBUTE_READONLY) {
		st->mode &= ~0222u;
	}
	ft.dwLowDateTime  = (DWORD) e->LastWriteTime.QuadPart;
	ft.dwHighDateTime = (DWORD) (e->LastWriteTime.QuadPart >> 32);
	st->mtime_ns      = ovio__winfs_filetime_ns(ft);
}

int
ovio__fs_list(ovio__fd rootfd, const char *path, ovio__fs_list_fn fn, void *arg,
    int64_t *oserr)
{
	BY_HANDLE_FILE_INFORMATION fi;
	ovio__winfs_path           p;
	HANDLE                     f   = INVALID_HANDLE_VALUE;
	uint8_t                   *buf = NULL;
	char                       name[4 * MAX_PATH];
	ovio_stat                  st;
	DWORD                      e;
	int                        rv;

	if ((rv = ovio__winfs_path_make(rootfd, path, &p, oserr)) != 0) {
		return (rv);
	}
	if ((rv = ovio__winfs_check_parent(&p, oserr)) != 0) {
		goto done;
	}
	f = CreateFileW(p.full, FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES,
	    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
	    OPEN_EXISTING,
	    FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
	if (f == INVALID_HANDLE_VALUE) {
		rv = ovio__winfs_fail(oserr, GetLastError());
		goto done;
	}
	if ((rv = ovio__winfs_check_opened(f, &p, 1, oserr)) != 0) {
		goto done;
	}
	if (!GetFileInformationByHandle(f, &fi)) {
		rv = ovio__winfs_fail(oserr, GetLastError());
		goto done;
	}
	if (!(fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
		rv = OVIO_ENOTDIR;
		goto done;
	}
	if ((buf = malloc(NS_DIR_BUF)) == NULL) {
		rv = OVIO_ENOMEM;
		goto done;
	}
	for (;;) {
		const FILE_ID_BOTH_DIR_INFO *d;
		size_t                       off = 0;

		if (!GetFileInformationByHandleEx(
		        f, FileIdBothDirectoryInfo, buf, NS_DIR_BUF)) {
			if ((e = GetLastError()) != ERROR_NO_MORE_FILES) {
				rv = ovio__winfs_fail(oserr, e);
			}
			break;
		}
		do {
			int n, wlen;

			d    = (const FILE_ID_BOTH_DIR_INFO *) (buf + off);
			wlen = (int) (d->FileNameLength / sizeof(WCHAR));
			off += d->NextEntryOffset;
			if ((wlen == 1 && d->FileName[0] == L'.')
			    || (wlen == 2 && d->FileName[0] == L'.'
			        && d->FileName[1] == L'.')) {
				continue;
			}
			n = WideCharToMultiByte(CP_UTF8, 0, d->FileName, wlen,
			    name, (int) sizeof(name) - 1, NULL, NULL);
			if (n <= 0) {
				rv = ovio__winfs_fail(oserr, GetLastError());
				break;
			}
			name[n] = '\0';
			ns_fill_stat(d, &st);
			rv = fn(arg, name, &st);
		} while (rv == 0 && d->NextEntryOffset != 0);
		if (rv != 0) {
			break;
		}
	}
done:
	free(buf);
	if (f != INVALID_HANDLE_VALUE) {
		CloseHandle(f);
	}
	ovio__winfs_path_free(&p);
	return (rv);
}

/* CreateDirectoryW of p->full cut at end, whose parent ends at parent. */
static int
ns_mkdir_at(
    ovio__winfs_path *p, size_t end, size_t parent, DWORD *err, int64_t *oserr)
{
	size_t saved_parent = p->parent;
	WCHAR  save         = p->full[end];
	int    rv;

	*err         = 0;
	p->full[end] = L'\0';
	p->parent    = parent == wcslen(p->root) ? 0 : parent;
	if ((rv = ovio__winfs_check_parent(p, oserr)) == 0
	    && !CreateDirectoryW(p->full, NULL)) {
		*err = GetLastError();
		rv   = ovio__winfs_fail(oserr, *err);
	}
	p->full[end] = save;
	p->parent    = saved_parent;
	return (rv);
}

int
ovio__fs_mkdir(ovio__fd rootfd, const char *path, uint32_t mode, int parents,
    int64_t *oserr)
{
	ovio__winfs_path p;
	size_t           i, n, root, prev;
	DWORD            err, attr;
	int              rv = 0;

	(void) mode; /* no POSIX permission bits; the folder's ACL applies */
	if ((rv = ns_target(rootfd, path, &p, 0, oserr)) != 0) {
		return (rv);
	}
	n    = wcslen(p.full);
	root = wcslen(p.root);
	prev = p.parent != 0 ? p.parent : root;
	if (parents) {
		/* Each folder on the way, checked under the root in turn. */
		for (i = root + 1, prev = root; i < n; i++) {
			if (p.full[i] != L'\\') {
				continue;
			}
			rv = ns_mkdir_at(&p, i, prev, &err, oserr);
			if (rv != 0 && err != ERROR_ALREADY_EXISTS) {
				goto done;
			}
			prev = i;
		}
	}
	/* The folder itself, its parent checked under the root. */
	if ((rv = ns_mkdir_at(&p, n, prev, &err, oserr)) != 0) {
		if (parents && err == ERROR_ALREADY_EXISTS
		    && (attr = GetFileAttributesW(p.full))
		           != INVALID_FILE_ATTRIBUTES
		    && (attr & FILE_ATTRIBUTE_DIRECTORY)
		    && !(attr & FILE_ATTRIBUTE_REPARSE_POINT)) {
			rv     = 0; /* a folder is there: what -p wants */
			*oserr = 0;
		}
	}
done:
	ovio__winfs_path_free(&p);
	return (rv);
}

int
ovio__fs_remove(ovio__fd rootfd, const char *path, int64_t *oserr)
{
	ovio__winfs_path p;
	DWORD            attr = 0;
	BOOL             ok;
	int              rv;

	if ((rv = ns_target(rootfd, path, &p, 1, oserr)) != 0) {
		return (rv);
	}
	if ((rv = ns_check_existing(&p, &attr, oserr)) == 0) {
		/* A folder link (junction, directory symlink) is a folder
		 * entry: RemoveDirectoryW removes the link, not its target. */
		ok = (attr & FILE_ATTRIBUTE_DIRECTORY)
		         ? RemoveDirectoryW(p.full)
		         : DeleteFileW(p.full);
		if (!ok) {
			rv = ovio__winfs_fail(oserr, GetLastError());
		}
	}
	ovio__winfs_path_free(&p);
	return (rv);
}

int
ovio__fs_rename(ovio__fd rootfd, const char *from, const char *to, int replace,
    int64_t *oserr)
{
	ovio__winfs_path a, b;
	DWORD            attr = 0, e;
	int              rv;

	if ((rv = ns_target(rootfd, from, &a, 1, oserr)) != 0) {
		return (rv);
	}
	if ((rv = ns_target(rootfd, to, &b, 1, oserr)) != 0) {
		ovio__winfs_path_free(&a);
		return (rv);
	}
	if ((rv = ns_check_existing(&a, &attr, oserr)) != 0) {
		goto done;
	}
	/* No MOVEFILE_COPY_ALLOWED: across volumes it fails (EXDEV). */
	if (!MoveFileExW(
	        a.full, b.full, replace ? MOVEFILE_REPLACE_EXISTING : 0)) {
		e  = GetLastError();
		rv = ovio__winfs_fail(oserr, e);
	}
done:
	ovio__winfs_path_free(&b);
	ovio__winfs_path_free(&a);
	return (rv);
}
