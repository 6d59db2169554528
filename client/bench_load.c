/* bench_load.c - the load loop and statistics of the benchmarks; see
 * bench_load.h. */
#include <string.h>
#include <time.h>

#include "bench_load.h"

static const char *const rw_names[] = {
	[OVIO__BENCH_RANDREAD]  = "randread",
	[OVIO__BENCH_RANDWRITE] = "randwrite",
	[OVIO__BENCH_READ]      = "read",
	[OVIO__BENCH_WRITE]     = "write",
	[OVIO__BENCH_MIXED]     = "mixed",
};

uint64_t
ovio__bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec);
}

int
ovio__bench_parse_rw(const char *s, ovio__bench_rw *rw)
{
	size_t i;

	for (i = 0; i < sizeof(rw_names) / sizeof(rw_names[0]); i++) {
		if (strcmp(s, rw_names[i]) == 0) {
			*rw = (ovio__bench_rw) i;
			return (0);
		}
	}
	return (-1);
}

const char *
ovio__bench_rw_name(ovio__bench_rw rw)
{
	return (rw_names[rw]);
}

/* Histogram buckets: exact below SUB ns, then SUB per power of two. */
static unsigned
hist_bucket(uint64_t ns)
{
	unsigned e;

	if (ns < OVIO__BENCH_SUB) {
		return ((unsigned) ns);
	}
	e = 63u - (unsigned) __builtin_clzll(ns); /* >= 6 */
	ns >>= e - 6;                             /* in [64, 128) */
	e = OVIO__BENCH_SUB + (e - 6) * OVIO__BENCH_SUB + (unsigned) (ns - 64);
	return (e < OVIO__BENCH_BUCKETS ? e : OVIO__BENCH_BUCKETS - 1);
}

/* The middle of bucket i, in ns. */
static double
hist_value(unsigned i)
{
	unsigned e;

	if (i < OVIO__BENCH_SUB) {
		return ((double) i);
	}
	e = (i - OVIO__BENCH_SUB) / OVIO__BENCH_SUB + 6;
	return (
	    (double) (64 + (i % OVIO__BENCH_SUB)) * (double) (1ull << (e - 6))
	    + (double) (1ull << (e - 6)) / 2);
}

/* xorshift64*: cheap, and each slot has its own. */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return (x * 0x2545F4914F6CDD1Dull);
}

int
ovio__bench_init(ovio__bench *b)
{
	int rv;

	b->start_ns = b->end_ns = 0;
	b->issued = b->seq_next = 0;
	b->ops = b->bytes = b->errors = b->max_ns = 0;
	b->first_error                            = 0;
	b->active                                 = b->qd;
	memset(b->hist, 0, sizeof(b->hist));
	if ((rv = nng_mtx_alloc(&b->mtx)) != 0) {
		return (rv);
	}
	if ((rv = nng_cv_alloc(&b->cv, b->mtx)) != 0) {
		nng_mtx_free(b->mtx);
		return (rv);
	}
	return (0);
}

void
ovio__bench_slot_init(ovio__bench *b, ovio__bench_slot *s, unsigned index)
{
	s->b     = b;
	s->index = index;
	s->rng   = 0x9E3779B97F4A7C15ull * (index + 1) ^ 0xD1B54A32D192ED03ull;
}

void
ovio__bench_fini(ovio__bench *b)
{
	nng_cv_free(b->cv);
	nng_mtx_free(b->mtx);
}

void
ovio__bench_start(ovio__bench *b)
{
	b->start_ns = ovio__bench_now();
}

bool
ovio__bench_next(ovio__bench_slot *s)
{
	ovio__bench *b      = s->b;
	uint64_t     blocks = b->size / b->bs;
	uint64_t     now    = ovio__bench_now();
	uint64_t     n;

	if (__atomic_load_n(&b->errors, __ATOMIC_RELAXED) != 0
	    || (b->time_ns != 0 && now - b->start_ns >= b->time_ns)) {
		return (false);
	}
	n = __atomic_fetch_add(&b->issued, 1, __ATOMIC_RELAXED);
	if (b->max_ops != 0 && n >= b->max_ops) {
		return (false);
	}
	if (blocks == 0) {
		blocks = 1;
	}
	switch (b->rw) {
	case OVIO__BENCH_READ:
	case OVIO__BENCH_WRITE:
		n = __atomic_fetch_add(&b->seq_next, 1, __ATOMIC_RELAXED);
		s->offset = (n % blocks) * b->bs;
		s->write  = b->rw == OVIO__BENCH_WRITE;
		break;
	default:
		s->offset = (rng_next(&s->rng) % blocks) * b->bs;
		s->write  = b->rw == OVIO__BENCH_RANDWRITE
		           || (b->rw == OVIO__BENCH_MIXED
		               && rng_next(&s->rng) % 10 >= 7);
		break;
	}
	s->t0 = now;
	return (true);
}

void
ovio__bench_done(ovio__bench_slot *s, int err, uint64_t bytes)
{
	ovio__bench *b   = s->b;
	uint64_t     now = ovio__bench_now();
	uint64_t     lat = now - s->t0;
	uint64_t     old;
	int          zero = 0;

	if (err != 0) {
		__atomic_compare_exchange_n(&b->first_error, &zero, err, false,
		    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		__atomic_fetch_add(&b->errors, 1, __ATOMIC_RELAXED);
		return;
	}
	__atomic_fetch_add(&b->ops, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&b->bytes, bytes, __ATOMIC_RELAXED);
	__atomic_fetch_add(&b->hist[hist_bucket(lat)], 1, __ATOMIC_RELAXED);
	old = __atomic_load_n(&b->max_ns, __ATOMIC_RELAXED);
	while (lat > old
	       && !__atomic_compare_exchange_n(&b->max_ns, &old, lat, true,
	           __ATOMIC_RELAXED, __ATOMIC_RELAXED)) { }
	old = __atomic_load_n(&b->end_ns, __ATOMIC_RELAXED);
	while (now > old
	       && !__atomic_compare_exchange_n(&b->end_ns, &old, now, true,
	           __ATOMIC_RELAXED, __ATOMIC_RELAXED)) { }
}

void
ovio__bench_idle(ovio__bench *b)
{
	nng_mtx_lock(b->mtx);
	if (--b->active == 0) {
		nng_cv_wake(b->cv);
	}
	nng_mtx_unlock(b->mtx);
}

void
ovio__bench_wait(ovio__bench *b)
{
	nng_mtx_lock(b->mtx);
	while (b->active != 0) {
		nng_cv_wait(b->cv);
	}
	nng_mtx_unlock(b->mtx);
}

double
ovio__bench_quantile_us(const ovio__bench *b, double q)
{
	uint64_t want, seen = 0;
	unsigned i;

	if (b->ops == 0) {
		return (0);
	}
	want = (uint64_t) ((double) b->ops * q);
	if (want >= b->ops) {
		want = b->ops - 1;
	}
	for (i = 0; i < OVIO__BENCH_BUCKETS; i++) {
		seen += b->hist[i];
		if (seen > want) {
			double v = hist_value(i);
			if (v > (double) b->max_ns) {
				v = (double)
				        b->max_ns; /* the bucket's middle */
			}
			return (v / 1000.0);
		}
	}
	return ((double) b->max_ns / 1000.0);
}

/* s as a JSON string (endpoints may hold backslashes on Windows). */
static void
json_str(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *) s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p);
		} else if (*p < 0x20) {
			fprintf(f, "\\u%04x", *p);
		} else {
			fputc(*p, f);
		}
	}
	fputc('"', f);
}

void
ovio__bench_report(FILE *f, const ovio__bench *b, const char *tool,
    const char *endpoint, unsigned clients, bool json)
{
	double secs      = b->end_ns > b->start_ns
	                       ? (double) (b->end_ns - b->start_ns) / 1e9
	                       : 0;
	double ops_s     = secs > 0 ? (double) b->ops / secs : 0;
	double mb_s      = secs > 0 ? (double) b->bytes / 1e6 / secs : 0;
	double p50       = ovio__bench_quantile_us(b, 0.50);
	double p99       = ovio__bench_quantile_us(b, 0.99);
	double p999      = ovio__bench_quantile_us(b, 0.999);
	double max       = (double) b->max_ns / 1000.0;
	char   batch[32] = "";

	if (clients == 0) {
		clients = 1;
	}
	if (b->batch > 1) {
		snprintf(batch, sizeof(batch), ", batches of %u", b->batch);
	}
	if (json) {
		fprintf(f, "{\"tool\": ");
		json_str(f, tool);
		fprintf(f,
		    ", \"rw\": \"%s\", \"bs\": %zu, \"qd\": %u, "
		    "\"clients\": %u, \"batch\": %u, \"endpoint\": ",
		    ovio__bench_rw_name(b->rw), b->bs, b->qd / clients, clients,
		    b->batch > 1 ? b->batch : 1);
		json_str(f, endpoint);
		fprintf(f,
		    ", \"seconds\": %.3f, \"ops\": %llu, \"bytes\": %llu, "
		    "\"ops_per_s\": %.1f, \"mb_per_s\": %.2f, "
		    "\"p50_us\": %.1f, \"p99_us\": %.1f, \"p999_us\": %.1f, "
		    "\"max_us\": %.1f, \"errors\": %llu}\n",
		    secs, (unsigned long long) b->ops,
		    (unsigned long long) b->bytes, ops_s, mb_s, p50, p99, p999,
		    max, (unsigned long long) b->errors);
		return;
	}
	fprintf(f,
	    "%s %s, %zu bytes, %u in flight x %u client%s%s, %s, %.2f s\n"
	    "  %.0f ops/s  %.1f MB/s  latency us: p50 %.1f  p99 %.1f  "
	    "p99.9 %.1f  max %.1f  (%llu ops, %llu errors)\n",
	    tool, ovio__bench_rw_name(b->rw), b->bs, b->qd / clients, clients,
	    clients == 1 ? "" : "s", batch, endpoint, secs, ops_s, mb_s, p50,
	    p99, p999, max, (unsigned long long) b->ops,
	    (unsigned long long) b->errors);
}
