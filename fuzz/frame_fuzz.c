/*
 * frame_fuzz.c - libFuzzer harness: an input is one message body as it
 * comes off the wire, read both ways.  As a request: the service's frame
 * decode (lib/wire.c) and its validation of every field
 * (service/engine/validate.c), with the default limits and read-only.  As
 * a reply: the library's decode of a reply, of its result, and of a
 * listing's page (a client talking to a hostile service).  Nothing here
 * may crash, leak or read out of bounds, whatever the bytes.
 *
 * Built and run by tests/fuzz.sh (make fuzz; a short pass in make test).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <nng/nng.h>

#include "engine.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reply side, in frame_reply.c (the library's headers, not the
 * engine's: both name a type ovio__list). */
void frame_fuzz_reply(nng_msg *m);

static void
as_request(nng_msg *m)
{
	Ovio__Request *rq;
	uint8_t       *payload;
	size_t         plen, len;
	eng_limits     lim;
	int            ro;

	for (ro = 0; ro < 2; ro++) {
		if (ovio__wire_decode_request(m, &rq, &payload, &plen) != 0) {
			return;
		}
		memset(&lim, 0, sizeof(lim));
		lim.max_io      = 1u << 24;
		lim.max_request = (1u << 24) + 64 * 1024;
		lim.file_mode   = 0640;
		lim.read_only   = ro != 0;
		(void) ovio__wire_field_len(m, 6, &len);
		(void) ovio__validate_request(rq, m, plen, &lim);
		ovio__request__free_unpacked(rq, NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nng_msg *m;

	if (nng_msg_alloc(&m, 0) != 0) {
		return (0);
	}
	if (nng_msg_append(m, data, size) == 0) {
		as_request(m);
		frame_fuzz_reply(m);
	}
	nng_msg_free(m);
	return (0);
}
