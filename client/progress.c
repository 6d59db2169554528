/* progress.c - the transfer progress line; see progress.h. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "progress.h"

static double
now(void)
{
	return ((double) nng_clock() / 1000.0);
}

void
ovio__progress_start(
    progress *p, const char *verb, const char *name, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->verb      = verb;
	p->name      = name;
	p->total     = total;
	p->start     = now();
	p->last_draw = p->start;
	p->tty       = isatty(fileno(stderr)) != 0;
}

static void
draw(progress *p, double t)
{
	double mib  = (double) p->done / 1048576.0;
	double rate = t > p->start ? mib / (t - p->start) : 0;

	if (p->total > 0) {
		fprintf(stderr, "\r%s %s: %3d%% %.1f/%.1f MiB %.1f MiB/s ",
		    p->verb, p->name, (int) (p->done * 100 / p->total), mib,
		    (double) p->total / 1048576.0, rate);
	} else {
		fprintf(stderr, "\r%s %s: %.1f MiB %.1f MiB/s ", p->verb,
		    p->name, mib, rate);
	}
	p->drawn     = true;
	p->last_draw = t;
}

void
ovio__progress_update(progress *p, uint64_t done)
{
	double t = now();

	p->done = done;
	if (p->tty && t - p->start > 0.5 && t - p->last_draw > 0.1) {
		draw(p, t);
	}
}

void
ovio__progress_end(progress *p, bool ok)
{
	if (p->drawn) {
		if (ok) {
			draw(p, now());
		}
		fputc('\n', stderr);
	}
	p->last_draw = now();
}

double
ovio__progress_seconds(const progress *p)
{
	return (p->last_draw - p->start);
}
