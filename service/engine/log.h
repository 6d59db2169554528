/*
 * log.h - the service's log (log.c): one line per event, to the host's log
 * (stderr / the journal on POSIX, the log file and the Event Log on
 * Windows).  Any thread; never called with a lock that the host's logging
 * could need.
 *
 * Levels: a line is written when its level is at or below the current one
 * (--log-level, or `ovio admin log-level`; default info).  The level is
 * process-wide, like the log it filters.
 */
#ifndef OVIO_LOG_H
#define OVIO_LOG_H

#include <stdbool.h>

typedef enum {
	OVIO__LOG_ERROR = 0,
	OVIO__LOG_WARN  = 1,
	OVIO__LOG_INFO  = 2,
	OVIO__LOG_DEBUG = 3,
} ovio__log_level;

/* A line at level info. */
void ovio__log(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* A line at level. */
void ovio__logl(ovio__log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Whether a line at level would be written (to skip formatting it). */
bool ovio__log_enabled(ovio__log_level level);

/* Sets the level; any thread. */
void            ovio__log_set_level(ovio__log_level level);
ovio__log_level ovio__log_get_level(void);

/*
 * The level called name (error, warn, info, debug) in *level: true, or
 * false for any other name.  ovio__log_level_name is the other way.
 */
bool        ovio__log_level_parse(const char *name, ovio__log_level *level);
const char *ovio__log_level_name(ovio__log_level level);

#endif
