/* fs_ns_path.c - portable checks on namespace targets; see fs.h. */
#include <string.h>

#include "fs.h"

int
ovio__fs_check_target(const char *path)
{
	size_t end, start;
	int    rv;

	if ((rv = ovio__fs_check_path(path)) != 0) {
		return (rv);
	}
	/* The last component, trailing separators aside. */
	end = strlen(path);
	while (end > 0 && (path[end - 1] == '/' || path[end - 1] == '\\')) {
		end--;
	}
	start = end;
	while (start > 0 && path[start - 1] != '/' && path[start - 1] != '\\') {
		start--;
	}
	if (end == start || (end - start == 1 && path[start] == '.')) {
		return (
		    OVIO_EINVAL); /* "", "/", ".", "a/.": no name to act on */
	}
	return (0);
}
