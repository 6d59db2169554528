/*
 * nng_bench.c - the raw nng baselines of `ovio bench`: the same req/rep
 * pattern, transport, payload sizes and depth, with nothing of ovio's in
 * between (no protobuf, no engine; the echo touches no file).  Built
 * against the same nng as ovio (build/nng) and measured by the same load
 * loop (client/bench_load.c), so ovio / nng is what ovio's layers and its
 * file I/O cost.
 *
 *   nng_bench [--threads N] serve [--file PATH] URL...
 *                     answer requests until SIGTERM or SIGINT
 *   nng_bench [--threads N] run URL [--rw KIND] [--bs BYTES] [--qd N]
 *                     [--clients N] [--size BYTES] [--time SECONDS]
 *                     [--ops N] [--json]
 *
 * --threads: nng's task threads (nng_init_set_parameter).  The default is
 * libovio's (ovio_set_threads): half the CPUs, at least 1, so that ovio
 * and its baseline run on the same nng settings; 0 is nng's own default,
 * twice the CPUs.
 *
 * Each request carries a header of about ovio's size (REQ_HDR bytes, the
 * first four of which say how long the reply must be), plus the payload
 * for a write; each reply carries REP_HDR bytes plus, for a read, the
 * payload, copied into the message from a buffer as oviod copies it from
 * the page cache.  The server keeps SERVE_CTX contexts receiving, as oviod
 * keeps contexts receiving.
 *
 * serve --file PATH: a plain nng file server, for comparison.  Each
 * request's bytes really go to or come from PATH: a read is a pread(2) of
 * the requested length at the request's offset straight into the reply, a
 * write a pwrite(2) of the payload, both on the thread that received the
 * request (which oviod may not do: a write that blocks there would stall
 * every client).  Against the echo, it shows what the file I/O costs on
 * this machine; ovio / (nng + I/O) is what ovio's layers cost beyond it.
 * It is not a bound: oviod's workers can overlap a write with the next
 * request, where this server cannot.  A failed or short pread / pwrite is
 * answered with its errno in the reply's first four bytes (0: done), which
 * the client counts as an error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include "../../client/bench_load.h"
#include "../../lib/number.h"

#define REQ_HDR   48
#define REP_HDR   24
#define SERVE_CTX 256
#define MAX_BS    (16u << 20)

static const char usage_text[]
    = "usage: nng_bench [--threads N] serve [--file PATH] URL...\n"
      "       nng_bench [--threads N] run URL [--rw KIND] [--bs BYTES] "
      "[--qd N] [--clients N]\n"
      "                 [--size BYTES] [--time SECONDS] [--ops N] [--json]\n"
      "BYTES: digits with an optional K, M or G\n";

/* ---- serve ------------------------------------------------------------ */

typedef struct srv_ctx {
	nng_ctx  ctx;
	nng_aio *aio;
	bool     sending;
} srv_ctx;

static volatile sig_atomic_t srv_stop;
static uint8_t              *srv_data;    /* MAX_BS bytes of "file" */
static int                   srv_fd = -1; /* --file, or -1: the echo */

static void
srv_on_signal(int sig)
{
	(void) sig;
	srv_stop = 1;
}

/*
 * --file: req's write payload to the file, or the read's bytes from it
 * into rep, at the request's offset; a failure's errno (EIO for a short
 * transfer) in rep's first four bytes.
 */
static void
srv_file_io(nng_msg *req, nng_msg *rep, uint32_t want)
{
	uint64_t off = 0;
	uint32_t err = 0;
	ssize_t  n;
	size_t   len;

	if (nng_msg_len(req) >= 12) {
		memcpy(&off, (uint8_t *) nng_msg_body(req) + 4, 8);
	}
	if (nng_msg_len(req) > REQ_HDR) {
		len = nng_msg_len(req) - REQ_HDR;
		n = pwrite(srv_fd, (uint8_t *) nng_msg_body(req) + REQ_HDR, len,
		    (off_t) off);
	} else if (want > REP_HDR) {
		len = want - REP_HDR;
		n = pread(srv_fd, (uint8_t *) nng_msg_body(rep) + REP_HDR, len,
		    (off_t) off);
	} else {
		return;
	}
	if (n < 0) {
		err = (uint32_t) errno;
	} else if ((size_t) n != len) {
		err = EIO;
	}
	memcpy(nng_msg_body(rep), &err, 4);
}

static void
srv_cb(void *arg)
{
	srv_ctx *s = arg;
	nng_msg *req, *rep;
	uint32_t want;

	if (nng_aio_result(s->aio) != 0) {
		if (s->sending) {
			nng_msg_free(nng_aio_get_msg(s->aio));
			nng_aio_set_msg(s->aio, NULL);
		}
		if (nng_aio_result(s->aio) == NNG_ECLOSED) {
			return;
		}
		s->sending = false;
		nng_ctx_recv(s->ctx, s->aio);
		return;
	}
	if (s->sending) {
		s->sending = false;
		nng_ctx_recv(s->ctx, s->aio);
		return;
	}
	req = nng_aio_get_msg(s->aio);
	nng_aio_set_msg(s->aio, NULL);
	want = 0;
	if (nng_msg_len(req) >= 4) {
		memcpy(&want, nng_msg_body(req), 4);
	}
	if (want > MAX_BS + REP_HDR) {
		want = REP_HDR;
	}
	/* A new message for the reply, as oviod builds one for a read. */
	if (nng_msg_alloc(&rep, want) != 0) {
		nng_msg_free(req);
		nng_ctx_recv(s->ctx, s->aio);
		return;
	}
	memset(nng_msg_body(rep), 0, REP_HDR < want ? REP_HDR : want);
	if (srv_fd >= 0 && want >= REP_HDR) {
		srv_file_io(req, rep, want);
	} else if (want > REP_HDR) {
		memcpy((uint8_t *) nng_msg_body(rep) + REP_HDR, srv_data,
		    want - REP_HDR);
	}
	nng_msg_free(req);
	s->sending = true;
	nng_aio_set_msg(s->aio, rep);
	nng_ctx_send(s->ctx, s->aio);
}

static int
serve(int nurl, char **urls)
{
	nng_socket sock;
	srv_ctx   *ctxs;
	int        i, rv;

	if (strcmp(urls[0], "--file") == 0) {
		if (nurl < 3) {
			fputs(usage_text, stderr);
			return (2);
		}
		if ((srv_fd = open(urls[1], O_RDWR)) < 0) {
			fprintf(stderr, "nng_bench: serve --file %s: %s\n",
			    urls[1], strerror(errno));
			return (1);
		}
		nurl -= 2;
		urls += 2;
	}
	signal(SIGTERM, srv_on_signal);
	signal(SIGINT, srv_on_signal);
	if ((srv_fd < 0 && (srv_data = malloc(MAX_BS)) == NULL)
	    || (ctxs = calloc(SERVE_CTX, sizeof(*ctxs))) == NULL) {
		fprintf(stderr, "nng_bench: out of memory\n");
		return (1);
	}
	if (srv_data != NULL) {
		memset(srv_data, 0x5A, MAX_BS);
	}
	if ((rv = nng_rep0_open(&sock)) != 0
	    || (rv = nng_socket_set_size(sock, NNG_OPT_RECVMAXSZ, 0)) != 0) {
		fprintf(stderr, "nng_bench: %s\n", nng_strerror(rv));
		return (1);
	}
	for (i = 0; i < nurl; i++) {
		if ((rv = nng_listen(sock, urls[i], NULL, 0)) != 0) {
			fprintf(stderr, "nng_bench: serve %s: %s\n", urls[i],
			    nng_strerror(rv));
			return (1);
		}
	}
	for (i = 0; i < SERVE_CTX; i++) {
		if ((rv = nng_ctx_open(&ctxs[i].ctx, sock)) != 0
		    || (rv = nng_aio_alloc(&ctxs[i].aio, srv_cb, &ctxs[i]))
		           != 0) {
			fprintf(stderr, "nng_bench: %s\n", nng_strerror(rv));
			return (1);
		}
		nng_ctx_recv(ctxs[i].ctx, ctxs[i].aio);
	}
	while (!srv_stop) {
		nng_msleep(50);
	}
	nng_close(sock);
	for (i = 0; i < SERVE_CTX; i++) {
		nng_aio_free(ctxs[i].aio);
	}
	free(ctxs);
	free(srv_data);
	if (srv_fd >= 0) {
		close(srv_fd);
	}
	return (0);
}

/* ---- run -------------------------------------------------------------- */

typedef struct cli_op {
	ovio__bench_slot slot;
	nng_ctx          ctx;
	nng_aio         *aio;
	bool             sent;
} cli_op;

static uint8_t *cli_data; /* what writes send */

static void cli_issue(cli_op *op);

static void
cli_finish(cli_op *op, int err, uint64_t bytes)
{
	ovio__bench_done(&op->slot, err, bytes);
	if (err == 0 && ovio__bench_next(&op->slot)) {
		cli_issue(op);
		return;
	}
	ovio__bench_idle(op->slot.b);
}

static void
cli_cb(void *arg)
{
	cli_op  *op = arg;
	int      rv = nng_aio_result(op->aio);
	nng_msg *m;
	size_t   want;

	if (!op->sent) {
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(op->aio));
			nng_aio_set_msg(op->aio, NULL);
			cli_finish(op, rv, 0);
			return;
		}
		op->sent = true;
		nng_ctx_recv(op->ctx, op->aio);
		return;
	}
	if (rv != 0) {
		cli_finish(op, rv, 0);
		return;
	}
	m = nng_aio_get_msg(op->aio);
	nng_aio_set_msg(op->aio, NULL);
	want = REP_HDR + (op->slot.write ? 0 : op->slot.b->bs);
	rv   = nng_msg_len(m) == want ? 0 : NNG_EPROTO;
	if (rv == 0) {
		uint32_t err;

		memcpy(&err, nng_msg_body(m), 4); /* serve --file's errno */
		rv = err == 0 ? 0 : NNG_ESYSERR + (int) err;
	}
	nng_msg_free(m);
	cli_finish(op, rv, op->slot.b->bs);
}

static void
cli_issue(cli_op *op)
{
	size_t   bs = op->slot.b->bs;
	nng_msg *m;
	uint32_t want = (uint32_t) (REP_HDR + (op->slot.write ? 0 : bs));
	int      rv;

	if ((rv = nng_msg_alloc(&m, REQ_HDR + (op->slot.write ? bs : 0)))
	    != 0) {
		ovio__bench_done(&op->slot, rv, 0);
		ovio__bench_idle(op->slot.b);
		return;
	}
	memset(nng_msg_body(m), 0, REQ_HDR);
	memcpy(nng_msg_body(m), &want, 4);
	memcpy((uint8_t *) nng_msg_body(m) + 4, &op->slot.offset, 8);
	if (op->slot.write) {
		memcpy((uint8_t *) nng_msg_body(m) + REQ_HDR, cli_data, bs);
	}
	op->sent = false;
	nng_aio_set_msg(op->aio, m);
	nng_ctx_send(op->ctx, op->aio);
}

static int
dial(nng_socket *s, const char *url)
{
	nng_time deadline = nng_clock() + 3000;
	int      rv;

	if ((rv = nng_req0_open(s)) != 0) {
		return (rv);
	}
	nng_socket_set_ms(*s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_socket_set_size(*s, NNG_OPT_RECVMAXSZ, 0);
	while ((rv = nng_dial(*s, url, NULL, 0)) == NNG_ECONNREFUSED
	       && nng_clock() < deadline) {
		nng_msleep(50);
	}
	return (rv);
}

/* A number option's value, or a one-line error and -1. */
static int
num(const char *name, const char *s, int flags, uint64_t min, uint64_t max,
    uint64_t *out)
{
	return (ovio__number_arg("nng_bench", name, s, flags, min, max, out));
}

static int
run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rw", required_argument, NULL, 'r' },
		{ "bs", required_argument, NULL, 'b' },
		{ "qd", required_argument, NULL, 'q' },
		{ "clients", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 's' },
		{ "time", required_argument, NULL, 't' },
		{ "ops", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	ovio__bench b;
	nng_socket *socks;
	cli_op     *ops;
	const char *url;
	unsigned    qd = 1, clients = 1, i;
	uint64_t    v;
	bool        json = false;
	int         o, rv;

	memset(&b, 0, sizeof(b));
	b.rw      = OVIO__BENCH_RANDREAD;
	b.bs      = 4096;
	b.size    = 256u << 20;
	b.time_ns = 10 * 1000000000ull;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'r':
			if (ovio__bench_parse_rw(optarg, &b.rw) != 0) {
				goto usage;
			}
			break;
		case 'b':
			if (num("--bs", optarg, OVIO__NUM_SIZE, 1, MAX_BS, &v)
			    != 0) {
				return (2);
			}
			b.bs = (size_t) v;
			break;
		case 'q':
			if (num("--qd", optarg, 0, 1, 4096, &v) != 0) {
				return (2);
			}
			qd = (unsigned) v;
			break;
		case 'c':
			if (num("--clients", optarg, 0, 1, 256, &v) != 0) {
				return (2);
			}
			clients = (unsigned) v;
			break;
		case 's':
			if (num("--size", optarg, OVIO__NUM_SIZE, 1,
			        (uint64_t) 1 << 50, &b.size)
			    != 0) {
				return (2);
			}
			break;
		case 't':
			if (num("--time", optarg, 0, 1, 86400, &v) != 0) {
				return (2);
			}
			b.time_ns = v * 1000000000ull;
			break;
		case 'o':
			if (num("--ops", optarg, 0, 1, UINT64_MAX, &b.max_ops)
			    != 0) {
				return (2);
			}
			b.time_ns = 0;
			break;
		case 'j':
			json = true;
			break;
		default:
			goto usage;
		}
	}
	if (optind + 1 != argc) {
		goto usage;
	}
	if (b.size < b.bs) {
		fprintf(stderr,
		    "nng_bench: --size %llu is smaller than --bs %zu\n",
		    (unsigned long long) b.size, b.bs);
		return (2);
	}
	url  = argv[optind];
	b.qd = qd * clients;
	if ((cli_data = malloc(b.bs)) == NULL
	    || (socks = calloc(clients, sizeof(*socks))) == NULL
	    || (ops = calloc(b.qd, sizeof(*ops))) == NULL
	    || ovio__bench_init(&b) != 0) {
		fprintf(stderr, "nng_bench: out of memory\n");
		return (1);
	}
	memset(cli_data, 0xA5, b.bs);
	for (i = 0; i < clients; i++) {
		if ((rv = dial(&socks[i], url)) != 0) {
			fprintf(stderr, "nng_bench: cannot connect to %s: %s\n",
			    url, nng_strerror(rv));
			return (5);
		}
	}
	for (i = 0; i < b.qd; i++) {
		ovio__bench_slot_init(&b, &ops[i].slot, i);
		if ((rv = nng_ctx_open(&ops[i].ctx, socks[i % clients])) != 0
		    || (rv = nng_aio_alloc(&ops[i].aio, cli_cb, &ops[i]))
		           != 0) {
			fprintf(stderr, "nng_bench: %s\n", nng_strerror(rv));
			return (1);
		}
	}
	ovio__bench_start(&b);
	for (i = 0; i < b.qd; i++) {
		if (ovio__bench_next(&ops[i].slot)) {
			cli_issue(&ops[i]);
		} else {
			ovio__bench_idle(&b);
		}
	}
	ovio__bench_wait(&b);
	ovio__bench_report(stdout, &b, "nng", url, clients, json);
	rv = b.errors != 0 ? 1 : 0;
	if (b.errors != 0) {
		fprintf(stderr,
		    "nng_bench: %llu requests failed, the first "
		    "with %s\n",
		    (unsigned long long) b.errors, nng_strerror(b.first_error));
	}
	for (i = 0; i < clients; i++) {
		nng_close(socks[i]);
	}
	for (i = 0; i < b.qd; i++) {
		nng_aio_free(ops[i].aio);
	}
	ovio__bench_fini(&b);
	free(ops);
	free(socks);
	free(cli_data);
	return (rv);

usage:
	fputs(usage_text, stderr);
	return (2);
}

int
main(int argc, char **argv)
{
	long     cpus    = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t threads = cpus >= 2 ? (uint64_t) cpus / 2 : 1;

	if (argc >= 3 && strcmp(argv[1], "--threads") == 0) {
		if (num("--threads", argv[2], 0, 0, 1024, &threads) != 0) {
			return (2);
		}
		argc -= 2;
		argv += 2;
	}
	/* Before nng's first use; 0: nng's own default. */
	nng_init_set_parameter(NNG_INIT_NUM_TASK_THREADS, threads);
	if (argc >= 3 && strcmp(argv[1], "serve") == 0) {
		return (serve(argc - 2, argv + 2));
	}
	if (argc >= 3 && strcmp(argv[1], "run") == 0) {
		return (run(argc - 1, argv + 1));
	}
	fputs(usage_text, stderr);
	return (2);
}
