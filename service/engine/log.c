/*
 * log.c - one line per significant event, to stderr: "TIME oviod: LINE"
 * (warnings and errors "TIME oviod: warn: LINE"), or, when stderr is
 * systemd's journal, "<N>LINE" with the line's priority N.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "host.h"

static const char *const log_names[]    = { "error", "warn", "info", "debug" };
static const int         log_priority[] = { 3, 4, 6, 7 }; /* syslog's */

/* Process-wide, as the log is; read and set atomically from any thread. */
static int log_level = OVIO__LOG_INFO;

bool
ovio__log_enabled(ovio__log_level level)
{
	return ((int) level <= __atomic_load_n(&log_level, __ATOMIC_RELAXED));
}

void
ovio__log_set_level(ovio__log_level level)
{
	__atomic_store_n(&log_level, (int) level, __ATOMIC_RELAXED);
}

ovio__log_level
ovio__log_get_level(void)
{
	return (
	    (ovio__log_level) __atomic_load_n(&log_level, __ATOMIC_RELAXED));
}

bool
ovio__log_level_parse(const char *name, ovio__log_level *level)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (strcmp(name, log_names[i]) == 0) {
			*level = (ovio__log_level) i;
			return (true);
		}
	}
	return (false);
}

const char *
ovio__log_level_name(ovio__log_level level)
{
	return ((unsigned) level < 4 ? log_names[level] : "?");
}

static void
log_write(ovio__log_level level, const char *fmt, va_list ap)
{
	char line[1024];
	char ts[40];

	if (!ovio__log_enabled(level)) {
		return;
	}
	vsnprintf(line, sizeof(line), fmt, ap);
	/* One fprintf: lines from different threads do not interleave. */
	if (ovio__host_log_to_journal()) {
		/* sd-daemon(3)'s prefixes: err, warning, info, debug; the
		 * journal keeps the time and the program's name. */
		fprintf(stderr, "<%d>%s%s%s\n", log_priority[level],
		    level != OVIO__LOG_INFO ? log_names[level] : "",
		    level != OVIO__LOG_INFO ? ": " : "", line);
		ovio__host_log_event(level, line);
		return;
	}
	ovio__host_timestamp(ts, sizeof(ts));
	if (level == OVIO__LOG_INFO) {
		fprintf(stderr, "%s oviod: %s\n", ts, line);
	} else {
		fprintf(
		    stderr, "%s oviod: %s: %s\n", ts, log_names[level], line);
	}
	ovio__host_log_event(level, line);
}

void
ovio__log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_write(OVIO__LOG_INFO, fmt, ap);
	va_end(ap);
}

void
ovio__logl(ovio__log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_write(level, fmt, ap);
	va_end(ap);
}
