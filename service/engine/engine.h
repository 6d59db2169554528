/*
 * engine.h - oviod's engine: operation, handle and session tables, request
 * dispatch, the completion loop and the deferred close (internal).
 *
 * The engine is an object (struct engine), made by ovio__engine_start and
 * freed by a clean ovio__engine_stop; no engine state lives in file-scope
 * variables, so several engines can run in one process (tests do).  Every
 * internal function takes the engine, or reaches it from a record that
 * names its engine: an op (op->eng, set when the record is made), a handle
 * (h->eng, set when its slot is made).  Callbacks get it from their
 * argument: the nng aio of an op is given the op, the pipe notifications
 * and the completion thread the engine, a worker-pool job its record.
 *
 * Threads.  nng's callback threads receive requests (server.c) and run
 * dispatch (dispatch.c); one completion thread (engine.c) dequeues port
 * completions and finishes operations; the host's main thread starts and
 * stops the engine.  One mutex, e->mtx, guards every table and counter
 * below; nothing is sent to nng and no OS handle is closed while it is held.
 *
 * Lifetimes.
 *  - An op record carries one request from receipt to its reply.  Its nng
 *    message is the request, then the I/O buffer, then the reply; it is
 *    released only after the reply was handed to nng (op_sent), which for
 *    port I/O is after the port returned the op: a buffer lives until its
 *    completion.  Records are pooled with their nng context and aio.
 *  - A handle is OPEN, then CLOSING (no new operations; everything in
 *    flight cancelled), then closed by whoever drains its last operation
 *    (deferred_close.c).
 *  - A session is one nng pipe.  When the pipe goes, every handle it owned
 *    goes through the same close path, and the session is freed when its
 *    last handle is.
 */
#ifndef OVIO_ENGINE_H
#define OVIO_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "ovio.h"
#include "ovio.pb-c.h"
#include "port.h"
#include "log.h"
#include "error_impl.h"
#include "list.h"
#include "fs.h"
#include "tls.h"

typedef struct engine      engine;
typedef struct eng_op      eng_op;
typedef struct eng_handle  eng_handle;
typedef struct eng_session eng_session;
typedef struct rc_entry    rc_entry;

/* A call that may block, run by the worker pool (workers.c). */
typedef struct eng_work eng_work;
struct eng_work {
	void (*fn)(eng_work *w);
	ovio__list_node node; /* the pool's queue */
};

#define WORK_MAX_THREADS 64

typedef enum { OP_IDLE, OP_RECV, OP_WORK, OP_SEND } eng_op_phase;

#define ENG_TAG_BUCKETS 64

struct eng_op {
	ovio__port_op port; /* first: the port hands this back */
	engine       *eng;  /* the engine that made the record */
	eng_op_phase  phase;
	nng_ctx       ctx; /* rep0 context: holds the request's route back */
	nng_aio      *aio; /* receive, then send, on ctx */
	nng_msg      *msg; /* request, I/O buffer, then reply */

	uint64_t     tag;
	int          kind; /* Ovio__Op */
	eng_session *sess;
	eng_handle  *h;
	bool         in_flight; /* submitted to the port, not yet dequeued */
	bool         cancel_wanted; /* op.c: asked again until it completes */
	unsigned     reask_ms;      /* op.c: interval to the next ask */
	eng_op *cancel_waiters;     /* cancel requests answered at completion */
	ovio__list_node h_node;     /* the handle's in-flight list */
	eng_op         *tag_next;   /* the session's tag table */
	rc_entry       *rc;         /* reply to keep (reply_cache.c) */
	bool            ran;        /* the request took effect */
	eng_op         *rc_next;    /* copies waiting for that reply */
	bool            deadline_hit; /* cancelled by its deadline: ETIMEDOUT */
	nng_time        timer_at;     /* timer.c: deadline or next cancel ask */
	unsigned        timer_idx; /* timer.c: heap slot + 1, 0 when unarmed */

	/* A cancel request of one tag, waiting on its target (op.c). */
	eng_op         *cw_next;        /* the target's cancel_waiters list */
	bool            cw_report_out;  /* its cancel report is the port's */
	bool            cw_target_done; /* the target completed ... */
	int             cw_outcome;     /* ... and this is the answer */
	ovio__list_node pool_node;      /* e->srv.pool */

	/* The reply of a completed port op, counted against its session
	 * until nng has taken it (op.c, server.c). */
	bool     out_counted;
	uint32_t out_pipe;
	uint64_t out_bytes;

	/* The request, counted in its session's serving from its receipt
	 * until the record is back in the pool (server.c). */
	bool     in_counted;
	uint32_t in_pipe;

	/* An open or stat handed to the worker pool (dispatch.c). */
	eng_work       work;
	Ovio__Request *work_rq;
	uint32_t       work_pipe;

	/* What the admin listings show of a port op (op.c sets them). */
	uint64_t admin_id; /* service-wide, never reused */
	nng_time started;  /* when it was submitted */

	/* For the statistics (stats.c): when the request came in, and the
	 * status its reply carries. */
	uint64_t recv_us;
	int      reply_status;

	/* For the debug log line of its reply (server.c): who sent it, and
	 * what it named (dispatch.c sets them). */
	uint32_t log_pipe;
	uint64_t log_handle;
	uint64_t log_offset;
	uint64_t log_length;

	/*
	 * A batch (OP_BATCH, batch.c): the request that came in holds its
	 * operations' records in batch_kids until the last has completed
	 * (batch_left counts those still to come, atomically); each of them
	 * points back at it with batch_parent.  All NULL / 0 otherwise.
	 */
	eng_op  *batch_parent;
	uint32_t batch_idx;
	eng_op **batch_kids;
	uint32_t batch_n;
	uint32_t batch_left;
};

typedef enum { H_FREE, H_OPEN, H_CLOSING } eng_handle_state;

struct eng_handle {
	engine          *eng; /* the engine whose table holds the slot */
	uint32_t         index;
	uint32_t         gen;
	eng_handle_state state;
	ovio__fd         fd;
	int              stream; /* no offsets (OVIO__FS_STREAM) */
	int              nowait; /* OVIO__FS_NOWAIT: port.h's nowait */
	int nowait_write; /* ... for writes too, until the OS refuses one */
	eng_session     *sess;
	unsigned         inflight; /* port ops plus synchronous holds */
	ovio__list       ops;      /* port ops in flight (eng_op.h_node) */
	eng_op          *close_op; /* the close request to answer, if any */
	ovio__fs_temp   *temp;     /* OVIO_OPEN_TEMP: its file's state (fs.h) */
	bool             commit;   /* ... and the close request commits it */
	bool commit_canceled;   /* ... but it found I/O in flight: ECANCELED */
	ovio__list_node s_node; /* the session's handle list */
	eng_handle     *free_next;
	eng_handle     *drain_next; /* ovio__close_session's result list */
	eng_work        close_work; /* the OS close, on the worker pool */
	char           *path;  /* as opened (admin listings); may be NULL */
	uint32_t        flags; /* the open's OVIO_OPEN_* flags */
	/*
	 * OVIO_OPEN_DIRECT: the alignment (a power of two) every read and
	 * write needs of its offset, length and buffer; 0 for buffered I/O.
	 */
	uint32_t direct_align;
};

/*
 * Who is at the other end of a session, as nng tells it when the pipe is
 * added (server.c); the admin listings show it.
 */
typedef struct eng_peer {
	bool     admin;   /* connected to the admin endpoint */
	bool     has_uid; /* ipc: uid and pid are the peer's */
	uint64_t uid;
	uint64_t gid; /* ... and its (primary) group; UINT64_MAX: unknown */
	bool     has_pid; /* ipc: pid is the peer's (Windows: without uid) */
	uint64_t pid;
	char     account[96]; /* Windows ipc with an allow-list: its SID */
	char     addr[64];     /* tcp: "address:port"; else "" */
	bool     tls;          /* tls+tcp://: the certificate was verified, */
	char     subject[192]; /* ... and names this subject */
	int64_t  connected_ms; /* wall clock, ms since the Unix epoch */
} eng_peer;

struct eng_session {
	uint32_t   pipe_id;
	bool       dead;
	eng_peer   peer;
	unsigned   nhandles;
	unsigned   opening; /* opens that passed the handle limit, not done */
	unsigned   ops_in_flight;
	uint64_t   bytes_in_flight;
	unsigned   replies_out; /* completed, reply not yet sent */
	uint64_t   reply_bytes; /* ... and the bytes they hold */
	unsigned   serving;     /* received, record not back (idle timeout) */
	uint64_t   rc_owner;    /* its peer's identity, for the reply cache */
	nng_time   active_at;   /* last request, reply or connect (ditto) */
	bool       idle_closed; /* its close for idleness is under way */
	ovio__list handles;     /* eng_handle.s_node */
	eng_op    *tags[ENG_TAG_BUCKETS];
	ovio__list_node node;  /* e->sessions */
	eng_session    *hnext; /* session.c's pipe-id hash chain */
};

typedef struct eng_workers {
	nng_mtx    *mtx;
	nng_cv     *cv;      /* work queued, or stopping */
	nng_cv     *idle_cv; /* a job finished (stop waits on it) */
	ovio__list  queue;   /* eng_work.node, oldest first */
	nng_thread *threads[WORK_MAX_THREADS];
	unsigned    nthreads;
	unsigned    nidle;
	unsigned    nqueued; /* work on the queue, not yet taken */
	unsigned    nbusy;
	bool        stopping;
} eng_workers;

typedef struct eng_limits {
	unsigned handles_per_session;
	unsigned ops_per_session;
	uint64_t bytes_per_session;
	uint32_t max_io;        /* largest read or write */
	size_t   max_request;   /* NNG_OPT_RECVMAXSZ */
	bool     read_only;     /* --read-only: validate.c refuses writes */
	bool     allow_devices; /* --allow-devices */
	uint32_t file_mode;     /* --file-mode: a created file's default */
	/* Connections to the data endpoints (0: no limit); session.c. */
	unsigned sessions;          /* --max-sessions: in all */
	unsigned sessions_per_peer; /* --max-sessions-per-peer: one uid,
	                             * certificate subject or tcp host */
	uint64_t idle_ms; /* --idle-timeout: a session with no handle, no
	                   * operation and no request for this long is
	                   * closed (0: never) */
} eng_limits;

/*
 * The requests of one kind answered since start (stats.c): counted when the
 * reply is handed to nng, with the time since the request came in.  Updated
 * with atomic adds, without the engine's lock.
 */
#define ENG_STAT_KINDS  16 /* Ovio__Op 0 (undecodable) to 15 */
#define ENG_LAT_BUCKETS 32 /* bucket i: below 2^i us; the last: the rest */
typedef struct eng_kind_stats {
	uint64_t count, errors, sum_us, max_us;
	uint64_t buckets[ENG_LAT_BUCKETS];
} eng_kind_stats;

typedef struct eng_counters {
	uint64_t submitted, completed, canceled, rejected;
	uint64_t bytes_read, bytes_written;
	uint64_t duplicates; /* requests answered by the reply cache */
} eng_counters;

/* The nng side (server.c). */
#define ENG_MAX_LISTENERS 16
typedef struct eng_server {
	nng_socket      sock;
	nng_listener    listeners[ENG_MAX_LISTENERS];
	size_t          nlisteners;
	unsigned        nops;    /* op records alive (pooled or busy) */
	unsigned        npooled; /* ... of which idle in the pool */
	bool            closing;
	volatile bool   refuse; /* stop accepting new connections */
	ovio__list      pool;   /* idle op records (eng_op.pool_node) */
	unsigned        recv_posted;
	unsigned        recv_target;
	nng_tls_config *tls; /* tls+tcp:// listeners' configuration, or NULL */
	uint32_t        admin_lid; /* the admin listener's id, 0 when none */
	nng_time        idle_check_at;  /* server_close_idle's next pass */
	nng_time        busy_logged_at; /* server_log_busy: its last line */
	unsigned        busy_quiet;     /* ... and the refusals since */
} eng_server;

/* The reply cache (reply_cache.c); entries are private to it. */
#define ENG_RC_BUCKETS_LOG2 14 /* 16384: RC_MAX (8192) kept, chains short */
#define ENG_RC_BUCKETS      (1u << ENG_RC_BUCKETS_LOG2)
typedef struct eng_rcache {
	rc_entry  *table[ENG_RC_BUCKETS];
	ovio__list done; /* finished entries, oldest first */
	unsigned   done_count;
	size_t     done_bytes;
} eng_rcache;

/* Sessions by pipe id (session.c): a hash of short chains. */
#define ENG_SESS_BUCKETS 256

struct engine {
	nng_mtx    *mtx;
	nng_cv     *cv; /* signalled when a handle is freed (stop waits) */
	ovio__port *port;
	ovio__fd    rootfd;
	bool        rootfd_open;
	const char *root;
	eng_limits  limits;
	bool        stopping;
	bool        draining;   /* admin drain: new opens and I/O refused */
	uint64_t    next_op_id; /* eng_op.admin_id */
	nng_time    started;

	/* handle table: index -> handle; ids are gen << 32 | index */
	eng_handle **htab;
	uint32_t     hcap;
	eng_handle  *hfree;
	unsigned     nhandles;

	ovio__list   sessions; /* eng_session.node */
	unsigned     nsessions;
	eng_session *sess_hash[ENG_SESS_BUCKETS];
	eng_op     **timers; /* timer.c: min-heap on timer_at */
	unsigned     ntimers;
	unsigned     timer_cap;
	uint64_t     ops_in_flight;
	uint64_t cancels_waiting; /* op.c: tag cancels waiting on a target */
	eng_counters ctr;
	eng_kind_stats stats[ENG_STAT_KINDS]; /* stats.c */
	struct nng_http_server *metrics;      /* metrics.c, or NULL */

	eng_server  srv; /* server.c */
	eng_rcache  rc;  /* reply_cache.c */
	nng_thread *completer;
	bool        completer_stop;
	int         test_delay_ms; /* seam: OVIO_TEST_DELAY_COMPLETIONS */
	eng_workers work;          /* workers.c */
};

typedef struct eng_options {
	const char  *root;
	const char  *backend;
	unsigned     threads;
	const char **listen;      /* NULL-terminated URLs */
	const char  *admin;       /* the admin endpoint's URL, or NULL */
	const char  *admin_group; /* POSIX: the group that may use it */
	eng_limits   limits;
	/* tls+tcp:// listeners: the service's certificate and key, and the CA
	 * that client certificates (required) must chain to. */
	ovio__tls_files tls;
} eng_options;

/*
 * engine.c, the host's interface.  ovio__engine_start makes an engine
 * serving o->root on o->listen and stores it in *ep; it returns 0, or an
 * ovio_err after logging why, and then *ep is NULL and what had started is
 * stopped again.  o's strings must outlive the engine.  ovio__engine_stop
 * stops it gracefully (main thread) and returns true when it was freed;
 * false when work had to be abandoned, and then nothing of it was freed and
 * the caller may only exit the process.  ovio__engine_status fills st
 * (strings point into the engine); any thread.
 */
int  ovio__engine_start(engine **ep, const eng_options *o);
bool ovio__engine_stop(engine *e, int drain_ms);
void ovio__engine_status(engine *e, Ovio__ServiceStatus *st);

/*
 * A reload (oviod.c): takes l's per-client limits (handles_per_session,
 * ops_per_session, bytes_per_session) and session limits (sessions,
 * sessions_per_peer); the rest of l is ignored.  What is already open or
 * in flight stays; the new limits apply to what comes next.
 */
void ovio__engine_set_limits(engine *e, const eng_limits *l);

/*
 * stats.c.  ovio__stats_record counts a reply of kind (an Ovio__Op; out of
 * range counts as 0) with status, us microseconds after its request came
 * in; any thread, no lock.  ovio__stats_snapshot copies every kind's
 * figures to out.
 */
void ovio__stats_record(engine *e, int kind, int status, uint64_t us);
void ovio__stats_snapshot(engine *e, eng_kind_stats out[ENG_STAT_KINDS]);

/*
 * metrics.c: --metrics URL.  ovio__metrics_start serves Prometheus' text at
 * url (http://HOST:PORT/PATH) until ovio__metrics_stop, which is called
 * before ovio__engine_stop.  Returns 0, OVIO_EINVAL (not such a URL) or
 * OVIO_EADDRINUSE (cannot listen), after logging why.
 */
int  ovio__metrics_start(engine *e, const char *url);
void ovio__metrics_stop(engine *e);

/* Whether the engine's lock can be taken (the systemd watchdog): it
 * blocks, rather than returning false, while the lock is held. */
bool ovio__engine_alive(engine *e);

/*
 * workers.c: a pool for calls that may block (open, stat, OS close).
 * ovio__work_queue runs fn(w) on a thread of pool wp (any thread may queue;
 * w must live until fn runs; fn finds its engine from w's record).
 * ovio__work_stop waits until deadline for the queued and running calls,
 * then joins the threads and returns true; false when a call is still stuck
 * in the OS (nothing is freed then).
 */
int      ovio__work_start(eng_workers *wp);
void     ovio__work_queue(eng_workers *wp, eng_work *w, void (*fn)(eng_work *));
unsigned ovio__work_busy(eng_workers *wp);
bool     ovio__work_stop(eng_workers *wp, nng_time deadline);

/*
 * server.c.  ovio__server_start listens on urls, and on the admin endpoint
 * o->admin when it is set (a session of that listener is marked peer.admin).
 */
int  ovio__server_start(engine *e, const eng_options *o);
void ovio__server_stop_listening(engine *e);
/* Completion thread, each pass: fills receive slots left empty. */
void ovio__server_tick(engine *e);
bool ovio__server_close(engine *e); /* false: a record never came back */
void ovio__op_reply(eng_op *op);    /* sends op->msg */
void ovio__op_reply_status(eng_op *op, int status, int64_t oserr);
void ovio__op_msg_shrink(eng_op *op); /* an empty message of its own */
void ovio__op_drop(eng_op *op);       /* releases op unanswered */
/*
 * n records from the pool (or new ones), 0 or OVIO_ENOMEM (then none), and
 * one back; any thread, no lock held.
 */
int  ovio__op_new_n(engine *e, eng_op **ops, unsigned n);
void ovio__op_free(eng_op *op);

/*
 * batch.c: several operations in one message (OP_BATCH; proto/ovio.proto).
 * ovio__batch_dispatch runs a validated batch request rq, whose payload
 * holds the operations' frames: each becomes a record of its own, with a
 * message of its own, dispatched as if it had come alone; or the batch is
 * refused whole (EINVAL, ENOMEM) and none of them runs.  A batch's
 * operation replies through ovio__op_reply as any other, and that hands its
 * reply to ovio__batch_kid_done (with op->msg NULL when no reply could be
 * made: its frame then says ENOMEM); the last one sends the batch's reply.
 * ovio__batch_kid_ok says whether rq may be a batch's operation.
 */
#define ENG_BATCH_MAX 256
void ovio__batch_dispatch(
    eng_op *op, const Ovio__Request *rq, const uint8_t *payload, size_t plen);
void ovio__batch_kid_done(eng_op *kid);
bool ovio__batch_kid_ok(const Ovio__Request *rq);
void ovio__op_pool_fini(engine *e);

/* dispatch.c: runs one received request (nng callback thread). */
void ovio__dispatch(eng_op *op);

/*
 * namespace.c: list, mkdir, remove, rename.  ovio__ns_is_op says whether
 * an op is one of them; ovio__ns_dispatch runs rq (validated) on the
 * worker pool and frees it (nng callback thread).
 */
bool ovio__ns_is_op(int op);
void ovio__ns_dispatch(eng_op *op, Ovio__Request *rq, uint32_t pipe);

/* The longest deadline_ms honoured: one year; a longer one is cut to it. */
#define ENG_MAX_DEADLINE_MS (365ull * 24 * 3600 * 1000)

/*
 * validate.c: ovio__validate_request checks every field of the decoded
 * request rq before anything runs; msg is the request message it was decoded
 * from and plen its payload's length.  Called once per request, by dispatch,
 * on any thread, without e->mtx; it does not block.  Returns 0, or
 *   OVIO_EINVAL   an unknown op; a path or new_path holding a NUL byte; a
 *                 new_path on anything but a rename; flags of a list or
 *                 remove, of a mkdir outside OVIO_NS_PARENTS, of a rename
 *                 outside OVIO_NS_REPLACE; a payload on
 *                 anything but a write; open flags outside OVIO_OPEN_*,
 *                 without READ or WRITE, or TRUNC or TEMP without WRITE
 *                 (TEMP implies CREATE and TRUNC, which are then allowed
 *                 and change nothing; EXCL with TEMP is a no-clobber
 *                 commit); close flags outside OVIO_CLOSE_COMMIT; a read or
 *                 write whose offset, or offset + length, is past INT64_MAX;
 *                 a write whose length is set and is not its payload's; a
 *                 SETSIZE past INT64_MAX;
 *   OVIO_ETOOBIG  a read or write longer than lim->max_io;
 *   OVIO_EROFS    with lim->read_only: a write, a set-size, an open with
 *                 WRITE, CREATE, TRUNC or TEMP, a mkdir, a remove or a rename.
 * On success it has also normalised three fields: an open's or a mkdir's
 * mode keeps its permission bits (0777) only, 0 becoming lim->file_mode for
 * an open; an open's flags gain OVIO__FS_OPEN_DEVICES with
 * lim->allow_devices; and deadline_ms is at most ENG_MAX_DEADLINE_MS.
 */
int ovio__validate_request(
    Ovio__Request *rq, nng_msg *msg, size_t plen, const eng_limits *lim);

/*
 * admin.c: the admin endpoint's requests.  ovio__admin_gate says whether a
 * request of kind op may run on the session of pipe (takes the lock): 0, or
 * OVIO_EPERM for an admin request on a data endpoint or anything but an
 * admin request or a status on the admin endpoint.  ovio__admin_dispatch
 * runs rq (validated, OP_ADMIN) and frees nothing (nng callback thread).
 */
int  ovio__admin_gate(engine *e, uint32_t pipe, int op);
void ovio__admin_dispatch(eng_op *op, const Ovio__Request *rq);

/* session.c */
eng_session *ovio__session_find(engine *e, uint32_t pipe_id); /* lock held */
void         ovio__session_init(eng_session *s, uint32_t pipe_id);
/*
 * Adds the session of pipe_id, with its peer (copied).  Takes the lock.
 * Returns 0, OVIO_ENOMEM, or OVIO_EBUSY when a data session would pass
 * limits.sessions or limits.sessions_per_peer (the admin endpoint's are
 * not counted or limited).
 */
int ovio__session_add(engine *e, uint32_t pipe_id, const eng_peer *peer);
/*
 * The data sessions idle for limits.idle_ms (no handle, nothing in flight,
 * no request): up to max of their pipe ids in ids, each marked as being
 * closed (idle_closed) so that the next call returns others.  Takes the
 * lock.
 */
size_t  ovio__session_idle(engine *e, uint32_t *ids, size_t max);
void    ovio__session_gone(engine *e, uint32_t pipe_id);     /* takes lock */
void    ovio__session_maybe_free(engine *e, eng_session *s); /* held */
void    ovio__session_fini(engine *e);                       /* at stop */
int     ovio__tag_add(eng_session *s, eng_op *op);           /* lock held */
void    ovio__tag_remove(eng_session *s, eng_op *op);        /* lock held */
eng_op *ovio__tag_find(eng_session *s, uint64_t tag);        /* lock held */

/* handle.c: the generation-checked handle table (lock held for all). */
int ovio__handle_new(
    engine *e, eng_session *s, ovio__fd fd, int kind, eng_handle **hp);
eng_handle *ovio__handle_get(engine *e, eng_session *s, uint64_t id, int *err);
uint64_t    ovio__handle_id(const eng_handle *h);
void        ovio__handle_free(eng_handle *h);
void        ovio__handle_op_add(eng_handle *h, eng_op *op);
void        ovio__handle_op_remove(eng_handle *h, eng_op *op);

/* deferred_close.c */
bool     ovio__close_begin(eng_handle *h, eng_op *close_op); /* lock held */
void     ovio__handle_hold(eng_handle *h);                   /* lock held */
bool     ovio__handle_unhold(eng_handle *h);                 /* lock held */
bool     ovio__handle_drained(const eng_handle *h);          /* lock held */
void     ovio__close_finish(eng_handle *h);                  /* lock NOT held */
unsigned ovio__cancel_handle_ops(eng_handle *h);             /* lock held */
unsigned ovio__close_session(
    eng_session *s, eng_handle **drained);        /* lock held */
void ovio__close_finish_all(eng_handle *drained); /* lock NOT held */

/*
 * reply_cache.c: at-most-once execution (each takes e->mtx; the engine is
 * op->eng).
 * ovio__rc_applies says whether rq goes through the cache: an open, write,
 * flush, set-size, close, mkdir, remove or rename with both ids set (its
 * reply is kept), or a read, stat or list with both ids set (park-only: a copy
 * arriving while it runs waits for its reply; nothing is kept).
 */
void ovio__rc_init(engine *e);
bool ovio__rc_applies(const Ovio__Request *rq);
bool ovio__rc_begin(eng_op *op, const Ovio__Request *rq, size_t plen);
void ovio__rc_finish(eng_op *op); /* op->msg holds its reply */
void ovio__rc_fini(engine *e);

/*
 * op.c: an operation's life through the port (see its header comment); the
 * engine is op->eng.
 * ovio__op_start registers and submits (lock held on entry and on return,
 * released while the OS is asked; 0: op belongs to the port and may
 * already have completed, so the caller no longer touches it;
 * OVIO__PORT_DONE: the OS did it at once (port.h), and the caller, having
 * dropped the lock, finishes it with ovio__op_complete; an ovio_err:
 * nothing stays registered and the caller answers op).  ovio__op_cancel makes a
 * cancel wanted and asks the OS (lock held; report, if not NULL, becomes the
 * port's cancel report: true when the port took it).  ovio__op_cancel_wait
 * makes creq (a cancel request) wait for target's outcome (lock held).
 * ovio__op_complete finishes a dequeued op (completion thread) or one done
 * at once (its submitter); lock not held.
 */
int  ovio__op_start(eng_op *op, eng_session *s, eng_handle *h, uint64_t offset,
     void *buf, size_t len, uint64_t deadline_ms);
bool ovio__op_unregister(eng_op *op);
bool ovio__op_cancel(eng_op *op, eng_op *report);
void ovio__op_cancel_wait(eng_op *target, eng_op *creq);
void ovio__op_timer_fired(eng_op *op, nng_time now);
void ovio__op_complete(eng_op *op);

/*
 * timer.c: one timer per op in flight (lock held for all).  reserve makes
 * room for that many records (0 or OVIO_ENOMEM); expire fires what is due
 * and returns how long the completion thread may sleep.
 */
int  ovio__timer_reserve(engine *e, unsigned records);
void ovio__timer_set(eng_op *op, nng_time at); /* op->eng's heap */
void ovio__timer_clear(eng_op *op);
int  ovio__timer_expire(engine *e, nng_time now);
void ovio__timer_fini(engine *e);

#endif
