/*
 * client_impl.h - libovio internals shared by client.c (connection and
 * asynchronous requests) and blocking.c (blocking calls and windowed
 * transfers).
 */
#ifndef OVIO_CLIENT_IMPL_H
#define OVIO_CLIENT_IMPL_H

#include <stdbool.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "ovio.h"
#include "ovio.pb-c.h"
#include "error_impl.h"

typedef struct cop cop;

/*
 * Called once per request, from an nng thread with no lock held.  status is
 * a transport or framing failure (then rp is NULL) or 0 (then rp->status is
 * the service's answer).  payload points into msg, which is freed after the
 * call unless the callee sets op->keep_msg (it then owns msg).
 */
typedef void (*ovio__done_fn)(void *arg, cop *op, int status,
    const Ovio__Reply *rp, const uint8_t *payload, size_t plen, nng_msg *msg);

/* Produces len bytes of write data for offset, in place.  0 or an error. */
typedef ovio_fill_fn ovio__fill_fn;

struct cop {
	ovio_client  *c;
	nng_ctx       ctx;
	nng_aio      *aio;
	bool          sent;
	bool          keep_msg;
	uint64_t      tag;
	ovio_op       kind;
	ovio__done_fn done;
	void         *arg;
	ovio_cb       cb;        /* ovio_submit's callback (pub_done), or NULL */
	nng_duration  resend_ms; /* what ctx's REQ resend time is set to */
	nng_time      deadline; /* of the reply; 0: none (ovio_set_timeout) */
	unsigned      nparts;   /* requests it carries (a batch: n; else 1) */
	cop          *prev, *next;
};

/*
 * libovio's own batches (client.c, "Batches of its own"): at most
 * OVIO__AUTO_MAX requests, each a read or write of at most
 * OVIO__AUTO_MAX_LEN bytes, their writes OVIO__AUTO_MAX_WRITE in all (so
 * that the message fits any service: oviod takes --max-io plus 64 KiB).
 */
#define OVIO__AUTO_MAX       16
#define OVIO__AUTO_MAX_LEN   (16u << 10)
#define OVIO__AUTO_MAX_WRITE (48u << 10)
#define OVIO__AUTO_ROOM      64 /* room for the batch's own header */
#define OVIO__AUTO_HOLD      8  /* requests in flight before any waits */
#define OVIO__AUTO_WAIT_MS   1  /* the longest a request waits */

typedef struct ovio__batch ovio__batch;

struct ovio_client {
	nng_socket sock;
	bool       sock_open;
	nng_dialer dialer;
	nng_mtx   *mtx;
	nng_cv    *cv;
	bool       closed;
	unsigned   inflight;
	unsigned   arming; /* threads inside nng_ctx_send / nng_ctx_recv */
	cop       *busy;
	cop       *pool;
	uint64_t   next_tag;        /* for the blocking calls; top bit set */
	uint64_t   client_id;       /* random: at-most-once identity */
	uint64_t   next_request_id; /* each request with an id gets the next */
	int        resend_ms;       /* 0: REQ resend off */
	bool       resend_ever; /* atomic: resend was ever on (ids on all) */
	int        timeout_ms;      /* bound of each reply; 0: none */
	nng_pipe   pipe;            /* the current connection (tests) */
	bool       untrusted;   /* a connection to a service of the wrong uid */
	uint64_t   service_uids[2]; /* ovio__service_users(), at connect */

	/* Batches of its own (client.c), all under mtx. */
	unsigned     ops_out;   /* requests sent, not answered (atomic) */
	nng_aio     *aq_timer;  /* bounds the wait of what is queued */
	bool         timer_on;  /* aq_timer armed, its callback due */
	bool         auto_off;  /* ovio_set_batching(c, false) */
	unsigned     naq;       /* requests queued (atomic store) */
	unsigned     aq_sending; /* batches taken, not yet sent (atomic) */
	size_t       aq_wbytes; /* their write bytes */
	nng_msg     *aq_msg;    /* their frames, after OVIO__AUTO_ROOM */
	ovio__batch *aq;        /* their tags and callbacks */
	uint64_t    *seekable;  /* handles with offsets: an open-addressed */
	size_t       nseekable; /* set (0: empty), of cap_seekable slots, */
	size_t       cap_seekable; /* a power of two */
};

/*
 * ipc peers, where the OS says who is at the other end (platform_*.c).
 * ovio__service_users fills uids with the uid $OVIO_SERVICE_USER names (a
 * name or a number) and, when url is one of the system service's sockets
 * (in /run/ovio), the
 * uid of the system service's user (OVIO_SYSTEM_USER, if a system
 * account), each UINT64_MAX when unset or unknown; it is called once, at
 * connect, not on nng's threads.  ovio__service_uid_ok says whether this
 * process trusts a service run by uid: its own user, root, or one of
 * those two.
 */
void ovio__service_users(const char *url, uint64_t uids[2]);
/* ovio__cpu_count: the CPUs this process may run on (at least 1). */
unsigned ovio__cpu_count(void);
bool ovio__service_uid_ok(uint64_t uid, const uint64_t uids[2]);

/*
 * Sends rq; for a write with fill set, the rq->length bytes of data are
 * produced by fill straight into the message.  Returns 0 (done will be
 * called exactly once) or an error (it will not).
 */
int ovio__client_send(ovio_client *c, const ovio_request *rq,
    ovio__fill_fn fill, void *fill_arg, ovio__done_fn done, void *arg);

void ovio__result_from_reply(ovio_result *res, const Ovio__Reply *rp,
    const uint8_t *payload, ovio_service_status *svc);

/*
 * A LIST reply's page (its payload, a packed ovio.DirPage), unpacked: ents
 * points into page.  ovio__list_decode returns 0, OVIO_EPROTO or
 * OVIO_ENOMEM (then nothing is left to free); ovio__list_free frees both
 * and may be called on a zeroed ovio__list.
 */
typedef struct ovio__list {
	Ovio__DirPage *page;
	ovio_dirent   *ents;
	size_t         n;
} ovio__list;

int  ovio__list_decode(ovio__list *l, const uint8_t *payload, size_t plen);
void ovio__list_free(ovio__list *l);

/* Test seam: closes the current connection (nng dials again). */
void ovio__client_drop_connection(ovio_client *c);

#endif
