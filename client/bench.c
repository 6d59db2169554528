/*
 * bench.c - `ovio bench`: keeps --qd requests in flight on each of
 * --clients connections for --time seconds (or --ops operations) and
 * reports operations/s, MB/s and latency percentiles (bench_load.h).
 *
 * Each completion callback records its operation and submits the next one
 * from the library's thread, so what is measured is libovio and oviod, not
 * a hand-off to a thread of ours.  The file is opened once per connection
 * (handles belong to their connection); if it is smaller than --size it is
 * first extended with written data, so reads never hit its end.
 *
 * With --batch N the slots go in groups of N on one connection: a group's
 * operations are sent in one message (ovio_submitv), and once all N have
 * completed the group's next N go, in one message again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_load.h"
#include "number.h"
#include "ovio.h"
#include "remote.h"

#define EXIT_OTHER   1
#define EXIT_USAGE   2
#define EXIT_PERM    4
#define EXIT_CONNECT 5

#define MAX_QD      4096u
#define MAX_CLIENTS 256u
#define MAX_BS      (16u << 20) /* oviod's default --max-io */

typedef struct bench_conn {
	ovio_client *cl;
	uint64_t     h;
	bool         open;
} bench_conn;

typedef struct bench_op bench_op;

/* --batch: slots sent together; the last completion sends the next batch. */
typedef struct bench_group {
	bench_op *first; /* n slots from here on */
	unsigned  n;
	unsigned  done; /* completions of the batch in flight */
	unsigned  sent; /* operations in it */
} bench_group;

struct bench_op {
	ovio__bench_slot slot;
	bench_conn      *conn;
	bench_group     *group; /* --batch only */
	bool             going; /* --batch: in its group's batches */
};

typedef struct bench_cfg {
	ovio__bench  b;
	bench_conn  *conns;
	bench_op    *ops;
	bench_group *groups; /* --batch only */
	uint8_t     *data;   /* what writes write */
} bench_cfg;

static const char bench_help[]
    = "usage: ovio bench [OPTIONS] REMOTE\n"
      "\n"
      "Measures oviod: keeps --qd requests in flight on each of --clients\n"
      "connections against REMOTE (created, and extended to --size, if\n"
      "needed) and reports operations/s, MB/s (10^6 bytes) and latency\n"
      "p50 / p99 / p99.9 / max.  Writes overwrite REMOTE's bytes.\n"
      "\n"
      "options:\n"
      "  --rw KIND       randread, randwrite, read, write (sequential) or\n"
      "                  mixed (random, 70% reads) (default randread)\n"
      "  --bs SIZE       bytes per request, 1 to 16M (default 4K)\n"
      "  --qd N          requests in flight per connection, 1 to 4096\n"
      "                  (default 1)\n"
      "  --clients N     connections, 1 to 256 (default 1)\n"
      "  --batch N       send requests N to a message (ovio_submitv), 1\n"
      "                  to 256; --qd must be a multiple of it (default 1)\n"
      "  --no-auto-batch one message per request: without it, libovio\n"
      "                  batches small requests on its own once 8 are in\n"
      "                  flight (ovio_set_batching)\n"
      "  --size SIZE     bytes of REMOTE used (default: its size, or 256M\n"
      "                  when it is smaller than 2 requests)\n"
      "  --time SECONDS  how long to issue requests, 1 to 3600 (default 10)\n"
      "  --ops N         stop after N requests instead (0: no bound)\n"
      "  --direct        unbuffered I/O (O_DIRECT, FILE_FLAG_NO_BUFFERING):\n"
      "                  --bs must be a multiple of the file's alignment\n"
      "  --write-through each write answered once it is on the device\n"
      "                  (O_DSYNC, FILE_FLAG_WRITE_THROUGH)\n"
      "  --threads N     threads for the completions (ovio_set_threads),\n"
      "                  0 to 256 (default 0: half the CPUs, at least 1)\n"
      "  --json          one line of JSON: tool, rw, bs, qd, clients,\n"
      "                  batch, endpoint, seconds, ops, bytes, ops_per_s,\n"
      "                  mb_per_s, p50_us, p99_us, p999_us, max_us, errors\n"
      "  -e, --endpoint URL  as for every ovio command\n"
      "\n"
      "Exit status: 0, 1 when a request failed, 2 for bad usage, 5 when\n"
      "oviod cannot be reached.  tests/bench/run.sh (make bench) compares\n"
      "the figures with raw nng and fio in the same run.\n";

static void bench_issue(bench_op *op);
static void bench_issue_group(bench_group *g, bool first);

static void
bench_cb(void *arg, const ovio_result *res)
{
	bench_op *op = arg;

	ovio__bench_done(&op->slot, res->status, res->bytes);
	if (res->status == 0 && ovio__bench_next(&op->slot)) {
		bench_issue(op);
		return;
	}
	ovio__bench_idle(op->slot.b);
}

/* --batch: a batch's completions come together, on one thread. */
static void
bench_batch_cb(void *arg, const ovio_result *res)
{
	bench_cfg   *cfg = arg;
	bench_op    *op  = &cfg->ops[res->tag];
	bench_group *g   = op->group;

	ovio__bench_done(&op->slot, res->status, res->bytes);
	if (++g->done == g->sent) {
		bench_issue_group(g, false);
	}
}

/* The request of op's current operation. */
static void
bench_request(bench_op *op, ovio_request *rq)
{
	bench_cfg *cfg = (bench_cfg *) (void *) op->slot.b; /* b is first */

	memset(rq, 0, sizeof(*rq));
	rq->op     = op->slot.write ? OVIO_OP_WRITE : OVIO_OP_READ;
	rq->tag    = op->slot.index;
	rq->handle = op->conn->h;
	rq->offset = op->slot.offset;
	rq->length = cfg->b.bs;
	rq->data   = op->slot.write ? cfg->data : NULL;
}

/* Submits op's current operation; a refused submit finishes its slot. */
static void
bench_issue(bench_op *op)
{
	ovio_request rq;
	int          rv;

	bench_request(op, &rq);
	if ((rv = ovio_submit(op->conn->cl, &rq, bench_cb, op)) != 0) {
		ovio__bench_done(&op->slot, rv, 0);
		ovio__bench_idle(op->slot.b);
	}
}

/*
 * Sends the group's next batch: each of its slots still going whose run
 * goes on (the first time, their operations are already picked); a slot
 * whose run is over, and every slot of a batch that cannot be sent, goes
 * idle.
 */
static void
bench_issue_group(bench_group *g, bool first)
{
	bench_cfg   *cfg = (bench_cfg *) (void *) g->first[0].slot.b;
	ovio_request rq[OVIO_BATCH_MAX];
	bench_op    *op;
	unsigned     i, k = 0;
	int          rv;

	for (i = 0; i < g->n; i++) {
		op = &g->first[i];
		if (!op->going) {
			continue;
		}
		if (!first && !ovio__bench_next(&op->slot)) {
			op->going = false;
			ovio__bench_idle(op->slot.b);
			continue;
		}
		bench_request(op, &rq[k++]);
	}
	g->sent = k;
	g->done = 0;
	if (k == 0) {
		return;
	}
	if ((rv = ovio_submitv(
	         g->first[0].conn->cl, rq, k, bench_batch_cb, cfg))
	    != 0) {
		for (i = 0; i < g->n; i++) {
			op = &g->first[i];
			if (op->going) {
				op->going = false;
				ovio__bench_done(&op->slot, rv, 0);
				ovio__bench_idle(op->slot.b);
			}
		}
	}
}

/* "--name VALUE" or "--name=VALUE": the value, or NULL if a is not it. */
static const char *
opt_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0) {
		return (NULL);
	}
	if (argv[*i][n] == '=') {
		return (argv[*i] + n + 1);
	}
	if (argv[*i][n] != '\0') {
		return (NULL);
	}
	if (*i + 1 >= argc) {
		*missing = true;
		return (NULL);
	}
	return (argv[++*i]);
}

static int
opt_num(const char *name, const char *v, int flags, uint64_t min, uint64_t max,
    uint64_t *out)
{
	return (ovio__number_arg("ovio bench", name, v, flags, min, max, out));
}

/*
 * Extends remote to size with a pattern, 1 MiB at a time, 8 in flight,
 * through a buffered handle of its own (a --direct one could not write the
 * unaligned tail).
 */
static int
bench_prefill(ovio_client *cl, const char *remote, uint64_t from, uint64_t size)
{
	size_t   chunk = 1u << 20;
	uint8_t *buf;
	uint64_t h;
	int      rv;

	if ((rv = ovio_open(cl, remote, OVIO_OPEN_WRITE, 0, &h)) != 0) {
		return (rv);
	}
	if ((buf = malloc(chunk)) == NULL) {
		(void) ovio_close(cl, h);
		return (OVIO_ENOMEM);
	}
	memset(buf, 0xA5, chunk);
	while (rv == 0 && from < size) {
		size_t n = size - from < chunk ? (size_t) (size - from) : chunk;
		rv       = ovio_pwrite_all(cl, h, buf, n, from, 0, 0);
		from += n;
	}
	free(buf);
	if (rv == 0) {
		rv = ovio_flush(cl, h);
	}
	if (rv == 0) {
		rv = ovio_close(cl, h);
	} else {
		(void) ovio_close(cl, h);
	}
	return (rv);
}

int
ovio__cmd_bench(const char *endpoint, const ovio_connect_options *conn,
    bool json, int argc, char **argv)
{
	bench_cfg   cfg;
	const char *remote = NULL, *v = NULL, *url;
	char        rpath[4096];
	uint64_t bs = 4096, qd = 1, clients = 1, size = 0, secs = 10, ops = 0;
	uint64_t batch    = 1;
	uint64_t threads  = 0;
	uint32_t oflags   = OVIO_OPEN_READ | OVIO_OPEN_WRITE | OVIO_OPEN_CREATE;
	ovio__bench_rw rw = OVIO__BENCH_RANDREAD;
	ovio_stat      st;
	unsigned       i, n;
	int            rv, status = 0;
	bool           missing = false, inited = false, no_auto = false;

	for (i = 0; i < (unsigned) argc; i++) {
		int k = (int) i;
		if (strcmp(argv[k], "-h") == 0
		    || strcmp(argv[k], "--help") == 0) {
			fputs(bench_help, stdout);
			return (0);
		} else if (strcmp(argv[k], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[k], "--no-auto-batch") == 0) {
			no_auto = true;
		} else if (strcmp(argv[k], "--direct") == 0) {
			oflags |= OVIO_OPEN_DIRECT;
		} else if (strcmp(argv[k], "--write-through") == 0) {
			oflags |= OVIO_OPEN_WRITE_THROUGH;
		} else if (strcmp(argv[k], "-e") == 0
		           || (v = opt_value(
		                   argc, argv, &k, "--endpoint", &missing))
		                  != NULL) {
			if (strcmp(argv[k], "-e") == 0) {
				if (k + 1 >= argc) {
					missing = true;
					goto usage;
				}
				v = argv[++k];
			}
			endpoint = v;
		} else if ((v = opt_value(argc, argv, &k, "--rw", &missing))
		           != NULL) {
			if (ovio__bench_parse_rw(v, &rw) != 0) {
				fprintf(stderr,
				    "ovio bench: --rw %s: randread, "
				    "randwrite, read, write or "
				    "mixed\n",
				    v);
				return (EXIT_USAGE);
			}
		} else if ((v = opt_value(argc, argv, &k, "--bs", &missing))
		           != NULL) {
			if (opt_num("--bs", v, OVIO__NUM_SIZE, 1, MAX_BS, &bs)
			    != 0) {
				return (EXIT_USAGE);
			}
		} else if ((v = opt_value(argc, argv, &k, "--qd", &missing))
		           != NULL) {
			if (opt_num("--qd", v, 0, 1, MAX_QD, &qd) != 0) {
				return (EXIT_USAGE);
			}
		} else if ((v = opt_value(
		                argc, argv, &k, "--threads", &missing))
		           != NULL) {
			if (opt_num("--threads", v, 0, 0, 256, &threads) != 0) {
				return (EXIT_USAGE);
			}
			/* Before the first connect (below). */
			(void) ovio_set_threads((unsigned) threads);
		} else if ((v = opt_value(argc, argv, &k, "--batch", &missing))
		           != NULL) {
			if (opt_num("--batch", v, 0, 1, OVIO_BATCH_MAX, &batch)
			    != 0) {
				return (EXIT_USAGE);
			}
		} else if ((v = opt_value(
		                argc, argv, &k, "--clients", &missing))
		           != NULL) {
			if (opt_num("--clients", v, 0, 1, MAX_CLIENTS, &clients)
			    != 0) {
				return (EXIT_USAGE);
			}
		} else if ((v = opt_value(argc, argv, &k, "--size", &missing))
		           != NULL) {
			if (opt_num("--size", v, OVIO__NUM_SIZE, 1,
			        (uint64_t) 1 << 50, &size)
			    != 0) {
				return (EXIT_USAGE);
			}
		} else if ((v = opt_value(argc, argv, &k, "--time", &missing))
		           != NULL) {
			if (opt_num("--time", v, 0, 1, 3600, &secs) != 0) {
				return (EXIT_USAGE);
			}
		} else if ((v = opt_value(argc, argv, &k, "--ops", &missing))
		           != NULL) {
			if (opt_num("--ops", v, 0, 0, UINT64_MAX / 2, &ops)
			    != 0) {
				return (EXIT_USAGE);
			}
		} else if (missing) {
			goto usage;
		} else if (argv[k][0] == '-' && argv[k][1] != '\0') {
			fprintf(stderr,
			    "ovio bench: unknown option %s (see ovio "
			    "bench --help)\n",
			    argv[k]);
			return (EXIT_USAGE);
		} else if (remote == NULL) {
			remote = argv[k];
		} else {
			goto usage;
		}
		if (missing) {
			goto usage;
		}
		i = (unsigned) k;
	}
	if (remote == NULL) {
		goto usage;
	}
	/*
	 * As every command takes it: "/b.dat" is the root's b.dat, and a
	 * path leaving the root is refused here (exit 4).  Messages name the
	 * file as the user wrote it; the service gets rpath.
	 */
	if ((rv = ovio__remote_path(remote, rpath, sizeof(rpath))) != 0) {
		fprintf(stderr, "ovio bench: %s: remote: %s: %s\n", remote,
		    ovio_errname(rv), ovio_strerror(rv));
		return (rv == OVIO_ENAMETOOLONG ? EXIT_USAGE : EXIT_PERM);
	}
	if (rpath[0] == '\0') {
		fprintf(stderr,
		    "ovio bench: %s: names the service's root itself, not a "
		    "file\n",
		    remote);
		return (EXIT_USAGE);
	}
	if (qd % batch != 0) {
		fprintf(stderr,
		    "ovio bench: --qd %llu is not a multiple of --batch %llu\n",
		    (unsigned long long) qd, (unsigned long long) batch);
		return (EXIT_USAGE);
	}

	memset(&cfg, 0, sizeof(cfg));
	cfg.b.rw      = rw;
	cfg.b.bs      = (size_t) bs;
	cfg.b.qd      = (unsigned) (qd * clients);
	cfg.b.time_ns = ops != 0 ? 0 : secs * 1000000000u;
	cfg.b.max_ops = ops;
	cfg.b.batch   = (unsigned) batch;
	url           = endpoint != NULL ? endpoint : ovio_default_endpoint();
	if ((cfg.conns = calloc(clients, sizeof(*cfg.conns))) == NULL
	    || (cfg.ops = calloc(cfg.b.qd, sizeof(*cfg.ops))) == NULL
	    || (cfg.groups = calloc(cfg.b.qd / batch, sizeof(*cfg.groups)))
	           == NULL
	    || (cfg.data = malloc(cfg.b.bs)) == NULL) {
		fprintf(stderr, "ovio bench: out of memory\n");
		status = EXIT_OTHER;
		goto out;
	}
	for (i = 0; i < cfg.b.bs; i++) {
		cfg.data[i] = (uint8_t) (i * 131u + 7u);
	}
	for (n = 0; n < clients; n++) {
		ovio_connect_options o = *conn;

		o.timeout_ms = 3000;
		if ((rv = ovio_connect_opts(&cfg.conns[n].cl, endpoint, &o))
		    != 0) {
			fprintf(stderr,
			    "ovio bench: cannot connect to %s: %s: "
			    "%s\n",
			    url, ovio_errname(rv), ovio_strerror(rv));
			status = EXIT_CONNECT;
			goto out;
		}
		if (no_auto) {
			(void) ovio_set_batching(cfg.conns[n].cl, false);
		}
		/* A file it makes gets the service's --file-mode (mode 0). */
		rv = ovio_open(
		    cfg.conns[n].cl, rpath, oflags, 0, &cfg.conns[n].h);
		if (rv != 0) {
			fprintf(stderr, "ovio bench: %s: remote: %s: %s\n",
			    remote, ovio_errname(rv), ovio_strerror(rv));
			status = EXIT_OTHER;
			goto out;
		}
		cfg.conns[n].open = true;
	}
	if ((rv = ovio_fstat(cfg.conns[0].cl, cfg.conns[0].h, &st)) != 0) {
		fprintf(stderr, "ovio bench: %s: remote: %s: %s\n", remote,
		    ovio_errname(rv), ovio_strerror(rv));
		status = EXIT_OTHER;
		goto out;
	}
	if (size == 0) {
		size = st.size >= 2 * bs ? st.size : (uint64_t) 256 << 20;
	}
	if (size < bs) {
		fprintf(stderr,
		    "ovio bench: --size %llu is smaller than --bs\n",
		    (unsigned long long) size);
		status = EXIT_USAGE;
		goto out;
	}
	if (st.direct_align != 0 && bs % st.direct_align != 0) {
		fprintf(stderr,
		    "ovio bench: --direct: --bs must be a multiple of %u, "
		    "%s's direct I/O alignment\n",
		    st.direct_align, remote);
		status = EXIT_USAGE;
		goto out;
	}
	cfg.b.size = size;
	if (st.size < size) {
		if (!json) {
			fprintf(stderr,
			    "ovio bench: extending %s to %llu bytes\n", remote,
			    (unsigned long long) size);
		}
		if ((rv = bench_prefill(cfg.conns[0].cl, rpath, st.size, size))
		    != 0) {
			fprintf(stderr, "ovio bench: %s: remote: %s: %s\n",
			    remote, ovio_errname(rv), ovio_strerror(rv));
			status = EXIT_OTHER;
			goto out;
		}
	}

	if ((rv = ovio__bench_init(&cfg.b)) != 0) {
		fprintf(stderr, "ovio bench: out of memory\n");
		status = EXIT_OTHER;
		goto out;
	}
	inited = true;
	for (i = 0; i < cfg.b.qd; i++) {
		ovio__bench_slot_init(&cfg.b, &cfg.ops[i].slot, i);
		/* A batch's slots share its connection. */
		cfg.ops[i].conn = &cfg.conns[(i / batch) % clients];
		if (batch > 1) {
			cfg.ops[i].group = &cfg.groups[i / batch];
			cfg.groups[i / batch].first
			    = &cfg.ops[i / batch * batch];
			cfg.groups[i / batch].n = (unsigned) batch;
		}
	}
	ovio__bench_start(&cfg.b);
	for (i = 0; i < cfg.b.qd; i++) {
		if (ovio__bench_next(&cfg.ops[i].slot)) {
			if (batch > 1) {
				cfg.ops[i].going = true;
			} else {
				bench_issue(&cfg.ops[i]);
			}
		} else {
			ovio__bench_idle(&cfg.b);
		}
	}
	for (i = 0; batch > 1 && i < cfg.b.qd / batch; i++) {
		bench_issue_group(&cfg.groups[i], true);
	}
	ovio__bench_wait(&cfg.b);
	ovio__bench_report(
	    stdout, &cfg.b, "ovio", url, (unsigned) clients, json);
	if (cfg.b.errors != 0) {
		fprintf(stderr,
		    "ovio bench: %llu requests failed, the first "
		    "with %s: %s\n",
		    (unsigned long long) cfg.b.errors,
		    ovio_errname(cfg.b.first_error),
		    ovio_strerror(cfg.b.first_error));
		status = EXIT_OTHER;
	}

out:
	for (n = 0; cfg.conns != NULL && n < clients; n++) {
		if (cfg.conns[n].cl != NULL) {
			if (cfg.conns[n].open) {
				(void) ovio_close(
				    cfg.conns[n].cl, cfg.conns[n].h);
			}
			ovio_disconnect(cfg.conns[n].cl);
		}
	}
	if (inited) {
		ovio__bench_fini(&cfg.b);
	}
	free(cfg.conns);
	free(cfg.ops);
	free(cfg.groups);
	free(cfg.data);
	return (status);

usage:
	fprintf(stderr, "%s", bench_help);
	return (EXIT_USAGE);
}
