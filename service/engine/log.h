/*
 * log.h - the service's log (log.c): one line per event, to the host's log
 * (stderr / the journal on POSIX, the log file and the Event Log on
 * Windows).  Any thread; never called with a lock that the host's logging
 * could need.
 */
#ifndef OVIO_LOG_H
#define OVIO_LOG_H

void ovio__log(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

#endif
