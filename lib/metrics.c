/* metrics.c - Prometheus' text format of a service's figures (metrics.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* A growing text; failed set once an append could not grow it. */
typedef struct mtext {
	char  *buf;
	size_t len, cap;
	bool   failed;
} mtext;

static void mt_printf(mtext *m, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void
mt_printf(mtext *m, const char *fmt, ...)
{
	va_list ap;
	int     n;
	char   *nb;

	if (m->failed) {
		return;
	}
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(m->buf + m->len, m->cap - m->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			m->failed = true;
			return;
		}
		if ((size_t) n < m->cap - m->len) {
			m->len += (size_t) n;
			return;
		}
		if ((nb = realloc(m->buf, m->cap * 2 + (size_t) n)) == NULL) {
			m->failed = true;
			return;
		}
		m->buf = nb;
		m->cap = m->cap * 2 + (size_t) n;
	}
}

static void
mt_family(mtext *m, const char *name, const char *type, const char *help)
{
	mt_printf(m, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A family of one sample without labels. */
static void
mt_one(mtext *m, const char *name, const char *type, const char *help,
    unsigned long long v)
{
	mt_family(m, name, type, help);
	mt_printf(m, "%s %llu\n", name, v);
}

int
ovio__metrics_text(const ovio_service_status *st,
    const ovio_admin_stats_entry *l, size_t n, char **text, size_t *len)
{
	mtext              m = { NULL, 0, 4096, false };
	unsigned long long cum;
	const char        *k;
	size_t             i, b;

	*text = NULL;
	*len  = 0;
	if ((m.buf = malloc(m.cap)) == NULL) {
		return (OVIO_ENOMEM);
	}
	m.buf[0] = '\0';
	mt_one(&m, "ovio_up", "gauge", "1 when oviod answered.", 1);
	mt_one(&m, "ovio_uptime_seconds", "gauge",
	    "Seconds since oviod started.", st->uptime_ms / 1000);
	mt_one(&m, "ovio_draining", "gauge",
	    "1 while new work is refused (ovio admin drain, or stopping).",
	    strcmp(st->state, "running") != 0);
	mt_one(
	    &m, "ovio_sessions", "gauge", "Client connections.", st->sessions);
	mt_one(&m, "ovio_handles", "gauge", "Open handles.", st->handles);
	mt_one(&m, "ovio_ops_in_flight", "gauge", "I/O operations in flight.",
	    st->ops_in_flight);
	mt_one(&m, "ovio_ops_submitted_total", "counter",
	    "I/O operations submitted to the OS.", st->ops_submitted);
	mt_one(&m, "ovio_ops_canceled_total", "counter",
	    "I/O operations that completed as cancelled.", st->ops_canceled);
	mt_one(&m, "ovio_read_bytes_total", "counter", "Bytes read.",
	    st->bytes_read);
	mt_one(&m, "ovio_written_bytes_total", "counter", "Bytes written.",
	    st->bytes_written);
	mt_one(&m, "ovio_requests_rejected_total", "counter",
	    "Requests refused before they ran.", st->requests_rejected);

	mt_family(&m, "ovio_requests_total", "counter",
	    "Requests answered, by kind.");
	for (i = 0; i < n; i++) {
		mt_printf(&m, "ovio_requests_total{kind=\"%s\"} %llu\n",
		    ovio_op_name(l[i].kind), (unsigned long long) l[i].count);
	}
	mt_family(&m, "ovio_request_errors_total", "counter",
	    "Requests answered with a status other than OK, by kind.");
	for (i = 0; i < n; i++) {
		mt_printf(&m, "ovio_request_errors_total{kind=\"%s\"} %llu\n",
		    ovio_op_name(l[i].kind), (unsigned long long) l[i].errors);
	}
	mt_family(&m, "ovio_request_duration_seconds", "histogram",
	    "Time from a request's receipt to its reply, by kind.");
	for (i = 0; i < n; i++) {
		k   = ovio_op_name(l[i].kind);
		cum = 0;
		/*
		 * The buckets never add up to more than count (stats.c).
		 * Latencies are whole microseconds, so bucket b (below 2^b
		 * us) is exactly "le (2^b - 1) us", printed in full.
		 */
		for (b = 0; b < OVIO_LATENCY_BUCKETS - 1; b++) {
			cum += l[i].buckets[b];
			mt_printf(&m,
			    "ovio_request_duration_seconds_bucket{kind=\"%s\","
			    "le=\"%.6f\"} %llu\n",
			    k, (double) ((1ull << b) - 1) / 1e6, cum);
		}
		mt_printf(&m,
		    "ovio_request_duration_seconds_bucket{kind=\"%s\","
		    "le=\"+Inf\"} %llu\n"
		    "ovio_request_duration_seconds_sum{kind=\"%s\"} %.6f\n"
		    "ovio_request_duration_seconds_count{kind=\"%s\"} %llu\n",
		    k, (unsigned long long) l[i].count, k,
		    (double) l[i].sum_us / 1e6, k,
		    (unsigned long long) l[i].count);
	}
	if (m.failed) {
		free(m.buf);
		return (OVIO_ENOMEM);
	}
	*text = m.buf;
	*len  = m.len;
	return (0);
}
