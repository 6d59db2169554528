/* fs_path.c - portable checks on request paths; see fs.h. */
#include <string.h>

#include "fs.h"

int
ovio__fs_check_path(const char *path)
{
	const char *p = path;
	size_t      n;

	if (path == NULL || path[0] == '\0') {
		return (OVIO_EINVAL);
	}
	if (strlen(path) > 4000) {
		return (OVIO_ENAMETOOLONG);
	}
	/* Absolute, UNC, or drive-letter paths. */
	if (path[0] == '/' || path[0] == '\\'
	    || (((path[0] | 0x20) >= 'a' && (path[0] | 0x20) <= 'z')
	        && path[1] == ':')) {
		return (OVIO_EOUTSIDE);
	}
	while (*p != '\0') {
		n = strcspn(p, "/\\");
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			return (OVIO_EOUTSIDE);
		}
		p += n;
		if (*p != '\0') {
			p++;
		}
	}
	return (0);
}
