/*
 * stats.c - requests answered, by kind, with a latency histogram each
 * (ovio admin stats, ovio admin metrics).  A request's latency runs from
 * its receipt (server.c) to its reply being handed to nng: the service's
 * own time, queueing included, the network's not.
 *
 * The figures are plain counters updated with atomic adds from whichever
 * thread replies; a snapshot reads each counter atomically, never a torn
 * value.  A request is counted in count before its bucket (release), and a
 * snapshot reads the buckets before count (acquire), so the buckets never
 * add up to more than count: a histogram's +Inf bucket is count.
 */
#include "engine.h"

/* The bucket of a latency: i with us < 2^i, and i >= 1 when us >= 1. */
static unsigned
stats_bucket(uint64_t us)
{
	unsigned i = 0;

	while (i < ENG_LAT_BUCKETS - 1 && us >= (1ull << i)) {
		i++;
	}
	return (i);
}

void
ovio__stats_record(engine *e, int kind, int status, uint64_t us)
{
	eng_kind_stats *s;
	uint64_t        max;

	if (kind < 0 || kind >= ENG_STAT_KINDS) {
		kind = 0;
	}
	s = &e->stats[kind];
	__atomic_fetch_add(&s->count, 1, __ATOMIC_RELAXED);
	if (status != 0) {
		__atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
	}
	__atomic_fetch_add(&s->sum_us, us, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->buckets[stats_bucket(us)], 1, __ATOMIC_RELEASE);
	max = __atomic_load_n(&s->max_us, __ATOMIC_RELAXED);
	while (us > max
	       && !__atomic_compare_exchange_n(&s->max_us, &max, us, true,
	           __ATOMIC_RELAXED, __ATOMIC_RELAXED)) { }
}

void
ovio__stats_snapshot(engine *e, eng_kind_stats out[ENG_STAT_KINDS])
{
	unsigned k, i;

	for (k = 0; k < ENG_STAT_KINDS; k++) {
		const eng_kind_stats *s = &e->stats[k];
		for (i = 0; i < ENG_LAT_BUCKETS; i++) {
			out[k].buckets[i]
			    = __atomic_load_n(&s->buckets[i], __ATOMIC_ACQUIRE);
		}
		out[k].count  = __atomic_load_n(&s->count, __ATOMIC_RELAXED);
		out[k].errors = __atomic_load_n(&s->errors, __ATOMIC_RELAXED);
		out[k].sum_us = __atomic_load_n(&s->sum_us, __ATOMIC_RELAXED);
		out[k].max_us = __atomic_load_n(&s->max_us, __ATOMIC_RELAXED);
	}
}
