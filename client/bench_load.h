/*
 * bench_load.h - the load loop and statistics shared by `ovio bench`
 * (client/bench.c) and its raw nng baseline (tests/bench/nng_bench.c), so
 * that both measure the same way: the same slots in flight, the same clock,
 * the same latency histogram and the same JSON keys.
 *
 * A run keeps qd operations in flight per slot chain.  The tool starts
 * each slot with ovio__bench_next and issues its operation; from the
 * operation's completion (any thread) it calls ovio__bench_done, then
 * ovio__bench_next again, and issues the next operation while that returns
 * true; when it returns false the slot is finished and the tool calls
 * ovio__bench_idle.  ovio__bench_wait returns once every slot is idle.
 * Latency is measured from ovio__bench_next (just before the issue) to
 * ovio__bench_done, so it includes everything the tool does per operation.
 */
#ifndef OVIO_BENCH_LOAD_H
#define OVIO_BENCH_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

/* Workloads, as named on the command line and in the JSON. */
typedef enum ovio__bench_rw {
	OVIO__BENCH_RANDREAD,
	OVIO__BENCH_RANDWRITE,
	OVIO__BENCH_READ,  /* sequential */
	OVIO__BENCH_WRITE, /* sequential */
	OVIO__BENCH_MIXED, /* random, 70% reads */
} ovio__bench_rw;

/* The latency histogram: ~1.5% resolution from 1 ns to ~18 minutes. */
#define OVIO__BENCH_SUB     64
#define OVIO__BENCH_BUCKETS (OVIO__BENCH_SUB * 36)

typedef struct ovio__bench {
	/* What to run; set before ovio__bench_init. */
	ovio__bench_rw rw;
	size_t         bs;
	unsigned       qd;      /* slots in flight, over all connections */
	uint64_t       size;    /* offsets fall in [0, size - bs] */
	uint64_t       time_ns; /* stop issuing after this long (0: no bound) */
	uint64_t       max_ops; /* stop after this many (0: no bound) */
	unsigned       batch;   /* requests per message (0 or 1: one) */

	/* Run state. */
	uint64_t start_ns;
	uint64_t end_ns; /* the last completion */
	uint64_t issued;
	uint64_t seq_next; /* sequential workloads: next offset */
	unsigned active;   /* slots not idle yet */
	nng_mtx *mtx;
	nng_cv  *cv;

	/* Results, updated atomically from completion threads. */
	uint64_t ops;
	uint64_t bytes;
	uint64_t errors;
	int      first_error; /* the tool's own status code, 0 if none */
	uint64_t max_ns;
	uint64_t hist[OVIO__BENCH_BUCKETS];
} ovio__bench;

/* One operation chain; the tool embeds or points to it. */
typedef struct ovio__bench_slot {
	ovio__bench *b;
	unsigned     index;
	uint64_t     rng;
	uint64_t     t0;     /* when the current operation was issued */
	uint64_t     offset; /* the current operation's offset */
	bool         write;  /* the current operation writes */
} ovio__bench_slot;

/* Monotonic nanoseconds. */
uint64_t ovio__bench_now(void);

/* Parses "randread" ...; returns 0 or -1. */
int         ovio__bench_parse_rw(const char *s, ovio__bench_rw *rw);
const char *ovio__bench_rw_name(ovio__bench_rw rw);

/*
 * Allocates the lock and zeroes the results.  Returns 0 or an nng error.
 * ovio__bench_fini frees.
 */
int  ovio__bench_init(ovio__bench *b);
void ovio__bench_fini(ovio__bench *b);

/* Binds slot number index (0 to qd - 1; each once) to b. */
void ovio__bench_slot_init(ovio__bench *b, ovio__bench_slot *s, unsigned index);

/* Starts the clock; call once, just before the slots are first issued. */
void ovio__bench_start(ovio__bench *b);

/*
 * Picks the slot's next operation (offset, read or write) and stamps its
 * issue time; false when the run is over (time or operation count), or an
 * error has been recorded.
 */
bool ovio__bench_next(ovio__bench_slot *s);

/*
 * Records the slot's current operation: bytes transferred, or err (the
 * tool's status, nonzero) for a failed one.
 */
void ovio__bench_done(ovio__bench_slot *s, int err, uint64_t bytes);

/* The slot is finished: no operation in flight, none will be issued. */
void ovio__bench_idle(ovio__bench *b);

/* Waits until every slot is idle. */
void ovio__bench_wait(ovio__bench *b);

/* Latency at quantile q (0..1) in microseconds. */
double ovio__bench_quantile_us(const ovio__bench *b, double q);

/*
 * Prints the results, one line of JSON (keys tool, rw, bs, qd, clients,
 * endpoint, seconds, ops, ops_per_s, mb_per_s, p50_us, p99_us, p999_us,
 * max_us, errors) or a short human-readable block.  MB are 10^6 bytes.
 */
void ovio__bench_report(FILE *f, const ovio__bench *b, const char *tool,
    const char *endpoint, unsigned clients, bool json);

#endif
