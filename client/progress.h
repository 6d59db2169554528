/*
 * progress.h - the transfer progress line of the ovio CLI.  The line goes
 * to stderr, only when stderr is a terminal and the transfer has taken
 * more than half a second.
 */
#ifndef OVIO_PROGRESS_H
#define OVIO_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct progress {
	const char *verb;
	const char *name;
	uint64_t    total; /* 0: unknown */
	uint64_t    done;
	double      start;
	double      last_draw;
	bool        tty;
	bool        quiet; /* --quiet: never drawn */
	bool        drawn;
} progress;

void ovio__progress_start(
    progress *p, const char *verb, const char *name, uint64_t total);
void   ovio__progress_update(progress *p, uint64_t done);
void   ovio__progress_end(progress *p, bool ok);
double ovio__progress_seconds(const progress *p);

/*
 * Writes s to f with each control character as '?': C0 (below 0x20), DEL
 * and C1 (U+0080 to U+009F, as UTF-8), as ls(1) shows names on a
 * terminal.  A name a service sends cannot move the cursor, recolour the
 * terminal or break a one-line message in two.
 */
void ovio__put_safe(FILE *f, const char *s);

#endif
