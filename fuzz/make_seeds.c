/*
 * make_seeds.c - writes the seed corpus of the fuzz harnesses into DIR: one
 * file per well-formed request of each kind (and a few replies), encoded by
 * the library's own wire code, so that the fuzzers start from frames the
 * service accepts.  live_fuzz's seeds carry its leading mode byte (0: a
 * request over REQ).  Usage: make_seeds FRAME_DIR LIVE_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>

#include "ovio.h"
#include "wire.h"

static int n;

static void
put(const char *dir, const char *live, nng_msg *m)
{
	char  name[512];
	FILE *f;
	int   k;

	for (k = 0; k < 2; k++) {
		snprintf(
		    name, sizeof(name), "%s/seed-%03d", k == 0 ? dir : live, n);
		if ((f = fopen(name, "wb")) == NULL) {
			perror(name);
			exit(1);
		}
		if (k == 1) {
			fputc(0, f); /* live_fuzz: a request over REQ */
		}
		fwrite(nng_msg_body(m), 1, nng_msg_len(m), f);
		fclose(f);
	}
	n++;
}

static void
req(const char *dir, const char *live, Ovio__Request *rq, const char *data)
{
	nng_msg *m;

	if (nng_msg_alloc(&m, 0) != 0
	    || ovio__wire_encode_request(
	           m, rq, data, data != NULL ? strlen(data) : 0)
	           != 0) {
		exit(1);
	}
	put(dir, live, m);
	nng_msg_free(m);
}

int
main(int argc, char **argv)
{
	Ovio__Request rq;
	Ovio__Reply   rp = OVIO__REPLY__INIT;
	nng_msg      *m;
	static const struct {
		int         op;
		const char *path, *new_path, *data;
		uint32_t    flags;
		uint64_t    handle, offset, length;
	} t[] = {
		{ OVIO__OP__OP_OPEN, "a.txt", NULL, NULL,
		    OVIO_OPEN_READ | OVIO_OPEN_WRITE | OVIO_OPEN_CREATE, 0, 0,
		    0 },
		{ OVIO__OP__OP_OPEN, "dir/b.txt", NULL, NULL,
		    OVIO_OPEN_WRITE | OVIO_OPEN_TEMP, 0, 0, 0 },
		{ OVIO__OP__OP_OPEN, "../x", NULL, NULL, OVIO_OPEN_READ, 0, 0,
		    0 },
		{ OVIO__OP__OP_WRITE, NULL, NULL, "hello", 0, 1ull << 32, 0,
		    5 },
		{ OVIO__OP__OP_READ, NULL, NULL, NULL, 0, 1ull << 32, 0, 4096 },
		{ OVIO__OP__OP_FLUSH, NULL, NULL, NULL, 0, 1ull << 32, 0, 0 },
		{ OVIO__OP__OP_SETSIZE, NULL, NULL, NULL, 0, 1ull << 32, 0,
		    100 },
		{ OVIO__OP__OP_STAT, "a.txt", NULL, NULL, 0, 0, 0, 0 },
		{ OVIO__OP__OP_CLOSE, NULL, NULL, NULL, 1, 1ull << 32, 0, 0 },
		{ OVIO__OP__OP_CANCEL, NULL, NULL, NULL, 0, 1ull << 32, 0, 0 },
		{ OVIO__OP__OP_STATUS, NULL, NULL, NULL, 0, 0, 0, 0 },
		{ OVIO__OP__OP_LIST, "", NULL, NULL, 0, 0, 0, 100 },
		{ OVIO__OP__OP_MKDIR, "dir/sub", NULL, NULL, 1, 0, 0, 0 },
		{ OVIO__OP__OP_REMOVE, "a.txt", NULL, NULL, 0, 0, 0, 0 },
		{ OVIO__OP__OP_RENAME, "a.txt", "c.txt", NULL, 1, 0, 0, 0 },
		{ OVIO__OP__OP_ADMIN, NULL, NULL, NULL, 1, 0, 0, 0 },
	};
	size_t i;

	if (argc != 3) {
		fprintf(stderr, "usage: make_seeds FRAME_DIR LIVE_DIR\n");
		return (2);
	}
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ovio__request__init(&rq);
		rq.tag  = i + 1;
		rq.op   = (Ovio__Op) t[i].op;
		rq.path = (char *) (t[i].path != NULL ? t[i].path : "");
		rq.new_path
		    = (char *) (t[i].new_path != NULL ? t[i].new_path : "");
		rq.flags       = t[i].flags;
		rq.handle      = t[i].handle;
		rq.offset      = t[i].offset;
		rq.length      = t[i].length;
		rq.request_id  = i + 1;
		rq.client_id   = 42;
		rq.deadline_ms = i % 3 == 0 ? 5000 : 0;
		req(argv[1], argv[2], &rq, t[i].data);
	}
	/* A batch: a write, a read and a flush in one message (OP_BATCH). */
	ovio__request__init(&rq);
	rq.tag    = 100;
	rq.op     = OVIO__OP__OP_BATCH;
	rq.length = 3;
	if (nng_msg_alloc(&m, 0) != 0
	    || ovio__wire_encode_request(m, &rq, NULL, 0) != 0) {
		return (1);
	}
	for (i = 0; i < 3; i++) {
		static const int kinds[3] = { OVIO__OP__OP_WRITE,
			OVIO__OP__OP_READ, OVIO__OP__OP_FLUSH };
		Ovio__Request    k        = OVIO__REQUEST__INIT;
		nng_msg         *f;
		uint8_t          len[4];

		k.tag    = 101 + i;
		k.op     = (Ovio__Op) kinds[i];
		k.handle = 1ull << 32;
		k.length = i == 1 ? 4096 : 0;
		if (nng_msg_alloc(&f, 0) != 0
		    || ovio__wire_encode_request(
		           f, &k, i == 0 ? "hello" : NULL, i == 0 ? 5 : 0)
		           != 0) {
			return (1);
		}
		ovio__wire_put_le32(len, (uint32_t) nng_msg_len(f));
		if (nng_msg_append(m, len, 4) != 0
		    || nng_msg_append(m, nng_msg_body(f), nng_msg_len(f))
		           != 0) {
			return (1);
		}
		nng_msg_free(f);
	}
	put(argv[1], argv[2], m);
	nng_msg_free(m);
	/* A reply, for the frame harness's reply side. */
	rp.tag    = 7;
	rp.status = OVIO__STATUS__OK;
	rp.result = 5;
	if (nng_msg_alloc(&m, 0) != 0 || ovio__wire_encode_reply(m, &rp) != 0
	    || nng_msg_append(m, "hello", 5) != 0) {
		return (1);
	}
	put(argv[1], argv[2], m);
	nng_msg_free(m);
	printf("make_seeds: %d seeds\n", n);
	return (0);
}
