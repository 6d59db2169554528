/*
 * progress.h - the transfer progress line of the ovio CLI, and the local
 * file helpers it needs.  The line goes to stderr, only when stderr is a
 * terminal and the transfer has taken more than half a second.
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
	bool        drawn;
	FILE       *file; /* the local side of the transfer */
} progress;

void   ovio__progress_start(progress *p, const char *verb, const char *name,
      uint64_t total, FILE *file);
void   ovio__progress_update(progress *p, uint64_t done);
void   ovio__progress_end(progress *p, bool ok);
double ovio__progress_seconds(const progress *p);

/* Size of a regular file, or -1 for anything else. */
int64_t ovio__file_size(FILE *f);

#endif
