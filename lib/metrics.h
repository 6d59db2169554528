/*
 * metrics.h - Prometheus' text exposition format (version 0.0.4) of a
 * service's status and request statistics: what `ovio admin metrics`
 * prints (client/admin.c) and `oviod --metrics URL` serves over HTTP
 * (service/engine/metrics.c), one text for both.
 */
#ifndef OVIO_METRICS_H
#define OVIO_METRICS_H

#include <stddef.h>

#include "ovio.h"

/*
 * The text for status st and the n statistics entries l (one per request
 * kind): gauges ovio_up, ovio_uptime_seconds, ovio_draining,
 * ovio_sessions, ovio_handles, ovio_ops_in_flight; counters
 * ovio_ops_submitted_total, ovio_ops_canceled_total, ovio_read_bytes_total,
 * ovio_written_bytes_total, ovio_requests_rejected_total, and by kind
 * ovio_requests_total and ovio_request_errors_total; and by kind the
 * histogram ovio_request_duration_seconds (cumulative buckets at
 * le = 2^i - 1 microseconds, exactly, +Inf, _sum, _count).  *text is malloc'd and NUL-terminated,
 * *len its length.  Returns 0 or OVIO_ENOMEM.
 */
int ovio__metrics_text(const ovio_service_status *st,
    const ovio_admin_stats_entry *l, size_t n, char **text, size_t *len);

#endif
