/* number.c - command-line numbers and sizes; see number.h. */
#include <stdio.h>
#include <string.h>

#include "number.h"

int
ovio__parse_number(
    const char *s, int flags, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t    v = 0, mul = 1;
	int         over = 0;
	const char *p;

	if (s == NULL || *s < '0' || *s > '9') {
		return (OVIO__NUM_SYNTAX);
	}
	for (p = s; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned) (*p - '0');
		if (v > (UINT64_MAX - d) / 10) {
			over = 1;
		} else {
			v = v * 10 + d;
		}
	}
	if (*p != '\0') {
		if ((flags & OVIO__NUM_SIZE) == 0 || p[1] != '\0') {
			return (OVIO__NUM_SYNTAX);
		}
		switch (*p) {
		case 'k':
		case 'K':
			mul = 1ull << 10;
			break;
		case 'm':
		case 'M':
			mul = 1ull << 20;
			break;
		case 'g':
		case 'G':
			mul = 1ull << 30;
			break;
		default:
			return (OVIO__NUM_SYNTAX);
		}
	}
	if (over || v > UINT64_MAX / mul) {
		return (OVIO__NUM_RANGE);
	}
	v *= mul;
	if (v < min || v > max) {
		return (OVIO__NUM_RANGE);
	}
	*out = v;
	return (OVIO__NUM_OK);
}

/* A size as people write it: 16M rather than 16777216, when exact. */
static void
num_show(char *buf, size_t len, uint64_t v, int flags)
{
	static const char suffix[] = "GMK";
	int               i;

	if ((flags & OVIO__NUM_SIZE) != 0 && v != 0) {
		for (i = 0; i < 3; i++) {
			unsigned shift = (unsigned) (30 - 10 * i);
			if (v % (1ull << shift) == 0) {
				snprintf(buf, len, "%llu%c",
				    (unsigned long long) (v >> shift),
				    suffix[i]);
				return;
			}
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long) v);
}

const char *
ovio__number_error(char *buf, size_t len, const char *what, const char *value,
    int err, int flags, uint64_t min, uint64_t max)
{
	char lo[32], hi[32];

	if (value[0] == '\0') {
		value = "\"\""; /* --chunk= */
	}

	if (err == OVIO__NUM_RANGE) {
		num_show(lo, sizeof(lo), min, flags);
		num_show(hi, sizeof(hi), max, flags);
		snprintf(buf, len, "%s: %s is out of range (%s to %s)", what,
		    value, lo, hi);
	} else if ((flags & OVIO__NUM_SIZE) != 0) {
		snprintf(buf, len,
		    "%s: %s is not a size (digits, then optionally K, M or G)",
		    what, value);
	} else {
		snprintf(buf, len, "%s: %s is not a number", what, value);
	}
	return (buf);
}

int
ovio__number_arg(const char *prog, const char *what, const char *value,
    int flags, uint64_t min, uint64_t max, uint64_t *out)
{
	char why[256];
	int  e;

	if ((e = ovio__parse_number(value, flags, min, max, out))
	    != OVIO__NUM_OK) {
		fprintf(stderr, "%s: %s\n", prog,
		    ovio__number_error(
		        why, sizeof(why), what, value, e, flags, min, max));
		return (-1);
	}
	return (0);
}
