/*
 * frame_reply.c - frame_fuzz's reply side: the library's decode of a reply
 * from a hostile service, of its result, of a listing's page and of an
 * admin page.  A file of its own: it needs the library's headers, which
 * the engine's cannot share a file with.
 */
#include <string.h>

#include <nng/nng.h>

#include "client_impl.h"
#include "wire.h"

void frame_fuzz_reply(nng_msg *m);

void
frame_fuzz_reply(nng_msg *m)
{
	Ovio__Reply        *rp;
	Ovio__AdminPage    *page;
	ovio_result         res;
	ovio_service_status svc;
	ovio__list          list;
	uint8_t            *payload;
	size_t              plen;

	if (ovio__wire_decode_reply(m, &rp, &payload, &plen) != 0) {
		return;
	}
	memset(&res, 0, sizeof(res));
	ovio__result_from_reply(&res, rp, payload, &svc);
	if (ovio__list_decode(&list, payload, plen) == 0) {
		ovio__list_free(&list);
	}
	if ((page = ovio__admin_page__unpack(NULL, plen, payload)) != NULL) {
		ovio__admin_page__free_unpacked(page, NULL);
	}
	ovio__reply__free_unpacked(rp, NULL);
}
