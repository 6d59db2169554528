/* log.c - one line per significant event, to stderr (the journal). */
#include <stdarg.h>
#include <stdio.h>

#include "engine.h"
#include "host.h"

void
ovio__log(const char *fmt, ...)
{
	char    line[1024];
	char    ts[40];
	va_list ap;

	ovio__host_timestamp(ts, sizeof(ts));
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One fprintf: lines from different threads do not interleave. */
	fprintf(stderr, "%s oviod: %s\n", ts, line);
	ovio__host_log_event(line);
}
