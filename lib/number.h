/*
 * number.h - the one parser of numbers given on a command line, shared by
 * the ovio CLI and oviod (internal: ovio__, not exported by libovio.so).
 */
#ifndef OVIO_NUMBER_H
#define OVIO_NUMBER_H

#include <stddef.h>
#include <stdint.h>

/* What ovio__parse_number found wrong, or 0. */
#define OVIO__NUM_OK 0
#define OVIO__NUM_SYNTAX                                                    \
	1                 /* not a number (or a suffix where none is taken) \
	                   */
#define OVIO__NUM_RANGE 2 /* a number, but outside [min, max] */

/* Flags of ovio__parse_number. */
#define OVIO__NUM_SIZE 1 /* take a K, M or G suffix (powers of 1024) */

/*
 * Parses s, whole: decimal digits only (no sign, no spaces, no hex), then,
 * with OVIO__NUM_SIZE, an optional suffix K, M or G in either case.  Stores
 * the value in *out and returns OVIO__NUM_OK when it lies in [min, max];
 * otherwise returns OVIO__NUM_SYNTAX or OVIO__NUM_RANGE (overflow is out of
 * range) and leaves *out alone.  Any thread; never blocks.
 */
int ovio__parse_number(
    const char *s, int flags, uint64_t min, uint64_t max, uint64_t *out);

/*
 * Writes "what: VALUE is not a number" (or "... not a size (digits with an
 * optional K, M or G)" or "... out of range (MIN to MAX)") to buf, for the
 * status err from ovio__parse_number.  Returns buf.
 */
const char *ovio__number_error(char *buf, size_t len, const char *what,
    const char *value, int err, int flags, uint64_t min, uint64_t max);

/*
 * ovio__parse_number for a command's option: on failure writes
 * "PROG: <ovio__number_error's line>" to stderr and returns -1; else 0.
 */
int ovio__number_arg(const char *prog, const char *what, const char *value,
    int flags, uint64_t min, uint64_t max, uint64_t *out);

#endif
