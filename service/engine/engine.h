/*
 * engine.h - oviod's engine: operation, handle and session tables, request
 * dispatch, the completion loop and the deferred close (internal).
 *
 * Threads.  nng's callback threads receive requests (server.c) and run
 * dispatch (dispatch.c); one completion thread (engine.c) dequeues port
 * completions and finishes operations; the host's main thread starts and
 * stops the engine.  One mutex, eng.mtx, guards every table and counter
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
#include "error_impl.h"

typedef struct eng_op      eng_op;
typedef struct eng_handle  eng_handle;
typedef struct eng_session eng_session;
typedef struct rc_entry    rc_entry;

/* A call that may block, run by the worker pool (workers.c). */
typedef struct eng_work eng_work;
struct eng_work {
	void (*fn)(eng_work *w);
	eng_work *next;
};

#define WORK_MAX_THREADS 64

typedef enum { OP_IDLE, OP_RECV, OP_WORK, OP_SEND } eng_op_phase;

#define ENG_TAG_BUCKETS 64

struct eng_op {
	ovio__port_op port; /* first: the port hands this back */
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
	eng_op      *cancel_waiters; /* cancel requests answered at completion */
	eng_op      *h_prev, *h_next; /* the handle's in-flight list */
	eng_op      *tag_next;        /* the session's tag table */
	rc_entry    *rc;              /* reply to keep (reply_cache.c) */
	bool         ran;             /* the request took effect */
	eng_op      *rc_next;         /* copies waiting for that reply */
	bool         deadline_hit; /* cancelled by its deadline: ETIMEDOUT */
	nng_time     timer_at;     /* timer.c: deadline or next cancel ask */
	unsigned     timer_idx;    /* timer.c: heap slot + 1, 0 when unarmed */

	/* A cancel request of one tag, waiting on its target (op.c). */
	eng_op      *cw_next;        /* the target's cancel_waiters list */
	bool         cw_report_out;  /* its cancel report is the port's */
	bool         cw_target_done; /* the target completed ... */
	int          cw_outcome;     /* ... and this is the answer */
	eng_op      *pool_next;

	/* The reply of a completed port op, counted against its session
	 * until nng has taken it (op.c, server.c). */
	bool         out_counted;
	uint32_t     out_pipe;
	uint64_t     out_bytes;

	/* An open or stat handed to the worker pool (dispatch.c). */
	eng_work       work;
	Ovio__Request *work_rq;
	uint32_t       work_pipe;
};

typedef enum { H_FREE, H_OPEN, H_CLOSING } eng_handle_state;

struct eng_handle {
	uint32_t         index;
	uint32_t         gen;
	eng_handle_state state;
	ovio__fd         fd;
	int              stream;
	eng_session     *sess;
	unsigned         inflight; /* port ops plus synchronous holds */
	eng_op          *ops;      /* port ops in flight */
	eng_op          *close_op; /* the close request to answer, if any */
	eng_handle      *s_next;   /* the session's handle list */
	eng_handle      *free_next;
	eng_handle      *drain_next; /* ovio__close_session's result list */
	eng_work         close_work; /* the OS close, on the worker pool */
};

struct eng_session {
	uint32_t     pipe_id;
	bool         dead;
	unsigned     nhandles;
	unsigned     opening; /* opens that passed the handle limit, not done */
	unsigned     ops_in_flight;
	uint64_t     bytes_in_flight;
	unsigned     replies_out; /* completed, reply not yet sent */
	uint64_t     reply_bytes; /* ... and the bytes they hold */
	eng_handle  *handles;
	eng_op      *tags[ENG_TAG_BUCKETS];
	eng_session *next;  /* eng.sessions */
	eng_session *hnext; /* session.c's pipe-id hash chain */
};

typedef struct eng_workers {
	nng_mtx    *mtx;
	nng_cv     *cv;      /* work queued, or stopping */
	nng_cv     *idle_cv; /* a job finished (stop waits on it) */
	eng_work   *head, *tail;
	nng_thread *threads[WORK_MAX_THREADS];
	unsigned    nthreads;
	unsigned    nidle;
	unsigned    nbusy;
	bool        stopping;
} eng_workers;

typedef struct eng_limits {
	unsigned handles_per_session;
	unsigned ops_per_session;
	uint64_t bytes_per_session;
	uint32_t max_io;      /* largest read or write */
	size_t   max_request; /* NNG_OPT_RECVMAXSZ */
	bool     read_only;     /* --read-only: validate.c refuses writes */
	bool     allow_devices; /* --allow-devices */
	uint32_t file_mode;     /* --file-mode: a created file's default */
} eng_limits;

typedef struct eng_counters {
	uint64_t submitted, completed, canceled, rejected;
	uint64_t bytes_read, bytes_written;
	uint64_t duplicates; /* requests answered by the reply cache */
} eng_counters;

typedef struct engine {
	nng_mtx    *mtx;
	nng_cv     *cv; /* signalled when a handle is freed (stop waits) */
	ovio__port *port;
	ovio__fd    rootfd;
	const char *root;
	eng_limits  limits;
	bool        stopping;
	nng_time    started;

	/* handle table: index -> handle; ids are gen << 32 | index */
	eng_handle **htab;
	uint32_t     hcap;
	eng_handle  *hfree;
	unsigned     nhandles;

	eng_session *sessions;
	unsigned     nsessions;
	eng_op     **timers; /* timer.c: min-heap on timer_at */
	unsigned     ntimers;
	unsigned     timer_cap;
	uint64_t     ops_in_flight;
	eng_counters ctr;

	/* op pool and the receive slots (server.c) */
	eng_op  *pool;
	unsigned recv_posted;
	unsigned recv_target;

	nng_socket  sock;
	nng_thread *completer;
	bool        completer_stop;
	eng_workers work; /* workers.c */
} engine;

extern engine eng;

typedef struct eng_options {
	const char  *root;
	const char  *backend;
	unsigned     threads;
	const char **listen; /* NULL-terminated URLs */
	eng_limits   limits;
} eng_options;

/* engine.c */
int  ovio__engine_start(const eng_options *o);
bool ovio__engine_stop(int drain_ms); /* false: abandoned, only exit */
void ovio__engine_status(Ovio__ServiceStatus *st);

/*
 * workers.c: the pool for calls that may block (open, stat, OS close).
 * ovio__work_queue runs fn(w) on a pool thread (any thread may queue; w
 * must live until fn runs).  ovio__work_stop waits until deadline for the
 * queued and running calls, then joins the threads and returns true; false
 * when a call is still stuck in the OS (nothing is freed then).
 */
int      ovio__work_start(void);
void     ovio__work_queue(eng_work *w, void (*fn)(eng_work *));
unsigned ovio__work_busy(void);
bool     ovio__work_stop(nng_time deadline);

/* server.c */
int  ovio__server_start(const char **urls, size_t max_request);
void ovio__server_stop_listening(void);
bool ovio__server_close(void); /* false: a record never came back */
void ovio__op_reply(eng_op *op);                     /* sends op->msg */
void ovio__op_reply_status(eng_op *op, int status, int64_t oserr);
void ovio__op_msg_shrink(eng_op *op); /* an empty message of its own */
void ovio__op_drop(eng_op *op); /* releases op unanswered */
void ovio__op_pool_fini(void);

/* dispatch.c: runs one received request (nng callback thread). */
void ovio__dispatch(eng_op *op);

/* The longest deadline_ms honoured: one year; a longer one is cut to it. */
#define ENG_MAX_DEADLINE_MS (365ull * 24 * 3600 * 1000)

/*
 * validate.c: ovio__validate_request checks every field of the decoded
 * request rq before anything runs; msg is the request message it was decoded
 * from and plen its payload's length.  Called once per request, by dispatch,
 * on any thread, without eng.mtx; it does not block.  Returns 0, or
 *   OVIO_EINVAL   an unknown op; a path holding a NUL byte; a payload on
 *                 anything but a write; open flags outside OVIO_OPEN_*,
 *                 without READ or WRITE, or TRUNC without WRITE; a read or
 *                 write whose offset, or offset + length, is past INT64_MAX;
 *                 a write whose length is set and is not its payload's; a
 *                 SETSIZE past INT64_MAX;
 *   OVIO_ETOOBIG  a read or write longer than lim->max_io;
 *   OVIO_EROFS    with lim->read_only: a write, a set-size, or an open
 *                 with WRITE, CREATE or TRUNC.
 * On success it has also normalised three fields: an open's mode keeps its
 * permission bits (0777) only, 0 becoming lim->file_mode; an open's flags
 * gain OVIO__FS_OPEN_DEVICES with lim->allow_devices; and deadline_ms is
 * at most ENG_MAX_DEADLINE_MS.
 */
int ovio__validate_request(
    Ovio__Request *rq, nng_msg *msg, size_t plen, const eng_limits *lim);

/* session.c */
eng_session *ovio__session_find(uint32_t pipe_id);      /* lock held */
int          ovio__session_add(uint32_t pipe_id);        /* takes lock */
void         ovio__session_gone(uint32_t pipe_id);       /* takes lock */
void         ovio__session_maybe_free(eng_session *s);   /* lock held */
void         ovio__session_fini(void);                   /* at stop */
int          ovio__tag_add(eng_session *s, eng_op *op);  /* lock held */
void         ovio__tag_remove(eng_session *s, eng_op *op); /* lock held */
eng_op      *ovio__tag_find(eng_session *s, uint64_t tag); /* lock held */

/* handle.c: the generation-checked handle table (lock held for all). */
int         ovio__handle_new(eng_session *s, ovio__fd fd, int stream,
            eng_handle **hp);
eng_handle *ovio__handle_get(eng_session *s, uint64_t id, int *err);
uint64_t    ovio__handle_id(const eng_handle *h);
void        ovio__handle_free(eng_handle *h);
void        ovio__handle_op_add(eng_handle *h, eng_op *op);
void        ovio__handle_op_remove(eng_handle *h, eng_op *op);

/* deferred_close.c */
bool ovio__close_begin(eng_handle *h, eng_op *close_op); /* lock held */
void ovio__handle_hold(eng_handle *h);                    /* lock held */
bool ovio__handle_unhold(eng_handle *h);                  /* lock held */
bool ovio__handle_drained(const eng_handle *h);           /* lock held */
void ovio__close_finish(eng_handle *h);                   /* lock NOT held */
unsigned ovio__cancel_handle_ops(eng_handle *h);          /* lock held */
unsigned ovio__close_session(eng_session *s, eng_handle **drained); /* lock held */
void ovio__close_finish_all(eng_handle *drained);        /* lock NOT held */

/*
 * reply_cache.c: at-most-once execution (each takes eng.mtx).
 * ovio__rc_applies says whether rq goes through the cache: an open, write,
 * flush, set-size or close with both ids set (its reply is kept), or a read
 * or stat with both ids set (park-only: a copy arriving while it runs waits
 * for its reply; nothing is kept).
 */
bool ovio__rc_applies(const Ovio__Request *rq);
bool ovio__rc_begin(eng_op *op, const Ovio__Request *rq, size_t plen);
void ovio__rc_finish(eng_op *op); /* op->msg holds its reply */
void ovio__rc_fini(void);

/*
 * op.c: an operation's life through the port (see its header comment).
 * ovio__op_start registers and submits (lock held; 0 or an ovio_err, and
 * then nothing was registered).  ovio__op_cancel makes a cancel wanted and
 * asks the OS (lock held; report, if not NULL, becomes the port's cancel
 * report: true when the port took it).  ovio__op_cancel_wait makes creq
 * (a cancel request) wait for target's outcome (lock held).
 * ovio__op_complete finishes a dequeued op (completion thread, lock not
 * held).
 */
int  ovio__op_start(eng_op *op, eng_session *s, eng_handle *h,
     uint64_t offset, void *buf, size_t len, uint64_t deadline_ms);
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
int  ovio__timer_reserve(unsigned records);
void ovio__timer_set(eng_op *op, nng_time at);
void ovio__timer_clear(eng_op *op);
int  ovio__timer_expire(nng_time now);
void ovio__timer_fini(void);

/* log.c */
void ovio__log(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

#endif
