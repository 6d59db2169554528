/* remote.c - remote paths as the CLI sends them; see remote.h. */
#include <string.h>

#include "ovio.h"
#include "remote.h"

int
ovio__remote_path(const char *in, char *out, size_t cap)
{
	const char *p = in;
	size_t      n = 0, k;

	if (strlen(in) >= cap) {
		return (OVIO_ENAMETOOLONG);
	}
	while (*p != '\0') {
		k = strcspn(p, "/");
		if (k == 2 && p[0] == '.' && p[1] == '.') {
			if (n == 0) {
				return (OVIO_EOUTSIDE);
			}
			while (n > 0 && out[n - 1] != '/') {
				n--;
			}
			if (n > 0) {
				n--; /* the separator before it */
			}
		} else if (k > 0 && !(k == 1 && p[0] == '.')) {
			if (n > 0) {
				out[n++] = '/';
			}
			memcpy(out + n, p, k);
			n += k;
		}
		p += k;
		if (*p == '/') {
			p++;
		}
	}
	out[n] = '\0';
	return (0);
}
