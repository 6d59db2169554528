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

/* Seconds as "42s", "3m05s" or "2h03m". */
static void
fmt_time(char *buf, size_t len, double t)
{
	unsigned long s = t > 0 ? (unsigned long) (t + 0.5) : 0;

	if (s < 60) {
		snprintf(buf, len, "%lus", s);
	} else if (s < 3600) {
		snprintf(buf, len, "%lum%02lus", s / 60, s % 60);
	} else {
		snprintf(buf, len, "%luh%02lum", s / 3600, s / 60 % 60);
	}
}

/*
 * "put NAME:  42% 10.0/24.0 MiB 5.0 MiB/s 2s ETA 3s" when the size is
 * known, else "put NAME: 10.0 MiB 5.0 MiB/s 2s".
 */
static void
draw(progress *p, double t)
{
	double mib  = (double) p->done / 1048576.0;
	double rate = t > p->start ? mib / (t - p->start) : 0;
	char   el[32], eta[32];

	fmt_time(el, sizeof(el), t - p->start);
	if (p->total > 0) {
		double left = p->total > p->done
		                  ? (double) (p->total - p->done) / 1048576.0
		                  : 0;
		if (rate > 0) {
			fmt_time(eta, sizeof(eta), left / rate);
		} else {
			snprintf(eta, sizeof(eta), "?");
		}
		fprintf(stderr, "\r%s ", p->verb);
		ovio__put_safe(stderr, p->name);
		fprintf(stderr, ": %3d%% %.1f/%.1f MiB %.1f MiB/s %s ETA %s ",
		    (int) (p->done * 100 / p->total), mib,
		    (double) p->total / 1048576.0, rate, el, eta);
	} else {
		fprintf(stderr, "\r%s ", p->verb);
		ovio__put_safe(stderr, p->name);
		fprintf(stderr, ": %.1f MiB %.1f MiB/s %s ", mib, rate, el);
	}
	p->drawn     = true;
	p->last_draw = t;
}

void
ovio__progress_update(progress *p, uint64_t done)
{
	double t = now();

	p->done = done;
	if (p->tty && !p->quiet && t - p->start > 0.5
	    && t - p->last_draw > 0.1) {
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

void
ovio__put_safe(FILE *f, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *) s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			fputc('?', f);
		} else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			fputc('?', f); /* a C1 control, as UTF-8 */
			p++;
		} else {
			fputc(*p, f);
		}
	}
}
