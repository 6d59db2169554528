/*
 * metrics.c - oviod --metrics URL: Prometheus' text (lib/metrics.h) served
 * over HTTP by nng's own HTTP server, GET only, at the URL's path.  Each
 * request takes a snapshot of the status (under the engine's lock, briefly)
 * and of the statistics (stats.c, no lock), on an nng thread.  It has no
 * access control: the figures carry no file names or peers, and a host that
 * is not loopback is logged as a warning.
 */
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "engine.h"
#include "metrics.h"
#include "wire.h"

static void
metrics_reply(nng_aio *aio, uint16_t code, const char *body, size_t len)
{
	nng_http_res *res;

	if (nng_http_res_alloc(&res) != 0) {
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	if (nng_http_res_set_status(res, code) != 0
	    || nng_http_res_set_header(res, "Content-Type",
	           "text/plain; version=0.0.4; charset=utf-8")
	           != 0
	    || nng_http_res_copy_data(res, body, len) != 0) {
		nng_http_res_free(res);
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

/* GET PATH: the text, from this moment's figures. */
static void
metrics_get(nng_aio *aio)
{
	nng_http_handler      *h   = nng_aio_get_input(aio, 1);
	engine                *e   = nng_http_handler_get_data(h);
	Ovio__ServiceStatus    pst = OVIO__SERVICE_STATUS__INIT;
	ovio_service_status    st;
	eng_kind_stats         s[ENG_STAT_KINDS];
	ovio_admin_stats_entry l[ENG_STAT_KINDS];
	size_t                 n = 0, k, len;
	char                  *text;

	ovio__engine_status(e, &pst);
	ovio__wire_status_to_api(&pst, &st);
	ovio__stats_snapshot(e, s);
	for (k = 0; k < ENG_STAT_KINDS; k++) {
		if (s[k].count == 0) {
			continue;
		}
		memset(&l[n], 0, sizeof(l[n]));
		l[n].kind   = (ovio_op) k;
		l[n].count  = s[k].count;
		l[n].errors = s[k].errors;
		l[n].sum_us = s[k].sum_us;
		l[n].max_us = s[k].max_us;
		memcpy(l[n].buckets, s[k].buckets, sizeof(l[n].buckets));
		n++;
	}
	if (ovio__metrics_text(&st, l, n, &text, &len) != 0) {
		metrics_reply(aio, NNG_HTTP_STATUS_INTERNAL_SERVER_ERROR,
		    "out of memory\n", 14);
		return;
	}
	metrics_reply(aio, NNG_HTTP_STATUS_OK, text, len);
	free(text);
}

int
ovio__metrics_start(engine *e, const char *url)
{
	nng_url          *u = NULL;
	nng_http_handler *h = NULL;
	nng_sockaddr      sa;
	int               rv;

	if ((rv = nng_url_parse(&u, url)) != 0
	    || strcmp(u->u_scheme, "http") != 0) {
		ovio__logl(OVIO__LOG_ERROR,
		    "--metrics %s: not an http://HOST:PORT/PATH URL", url);
		nng_url_free(u);
		return (OVIO_EINVAL);
	}
	if ((rv = nng_http_server_hold(&e->metrics, u)) != 0
	    || (rv = nng_http_handler_alloc(
	            &h, u->u_path[0] != '\0' ? u->u_path : "/", metrics_get))
	           != 0
	    || (rv = nng_http_handler_set_method(h, "GET")) != 0
	    || (rv = nng_http_handler_set_data(h, e, NULL)) != 0
	    || (rv = nng_http_server_add_handler(e->metrics, h)) != 0) {
		goto fail;
	}
	h = NULL; /* the server's now */
	if ((rv = nng_http_server_start(e->metrics)) != 0) {
		goto fail;
	}
	if (nng_http_server_get_addr(e->metrics, &sa) == 0
	    && sa.s_family == NNG_AF_INET) {
		/* The port as bound (the URL's may be 0: any free one). */
		const uint8_t *p = (const uint8_t *) &sa.s_in.sa_port;
		ovio__log("metrics on http://%s:%u%s", u->u_hostname,
		    (unsigned) (p[0] << 8 | p[1]),
		    u->u_path[0] != '\0' ? u->u_path : "/");
	} else {
		ovio__log("metrics on %s", url);
	}
	nng_url_free(u);
	return (0);
fail:
	ovio__logl(OVIO__LOG_ERROR, "--metrics %s: %s", url, nng_strerror(rv));
	if (h != NULL) {
		nng_http_handler_free(h);
	}
	if (e->metrics != NULL) {
		nng_http_server_release(e->metrics);
		e->metrics = NULL;
	}
	nng_url_free(u);
	return (OVIO_EADDRINUSE);
}

void
ovio__metrics_stop(engine *e)
{
	if (e->metrics != NULL) {
		nng_http_server_stop(e->metrics);
		nng_http_server_release(e->metrics);
		e->metrics = NULL;
	}
}
