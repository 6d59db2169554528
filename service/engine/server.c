/*
 * server.c - oviod's nng side: one rep0 socket, its listeners, the receive
 * slots and the replies.
 *
 * rep0 with contexts.  A context holds the route back for one request, so
 * the op record that received a request keeps its context until it has
 * replied; meanwhile another record takes its place in receiving.  A fixed
 * number of records (recv_target) wait in receive at any time, however many
 * operations are pending, so a cancel or a close always gets through.  A
 * reply is queued on its pipe in order and is never dropped while the pipe
 * lives (raw rep0 in nng 1.5.2 drops replies past 64 queued per pipe, which
 * would lose completions).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "alloc.h"
#include "engine.h"
#include "host.h"
#include "wire.h"

#define SERVER_RECV_SLOTS 8
#define SERVER_POOL_KEEP  256 /* idle op records kept for reuse */
#define SERVER_LINGER_MS  100

static void op_aio_cb(void *arg);

/* Takes a record from e's pool or makes one.  Lock held. */
static eng_op *
op_get(engine *e)
{
	eng_op *op;

	if ((op = ovio__list_pop_first(&e->srv.pool)) != NULL) {
		e->srv.npooled--;
		return (op);
	}
	/* Every record may need a timer: the heap has a slot for each. */
	if (ovio__timer_reserve(e, e->srv.nops + 1) != 0
	    || (op = ovio__calloc(1, sizeof(*op))) == NULL) {
		return (NULL);
	}
	op->eng = e;
	if (nng_ctx_open(&op->ctx, e->srv.sock) != 0) {
		free(op);
		return (NULL);
	}
	if (nng_aio_alloc(&op->aio, op_aio_cb, op) != 0) {
		nng_ctx_close(op->ctx);
		free(op);
		return (NULL);
	}
	e->srv.nops++;
	return (op);
}

/*
 * Returns a record to the pool.  A completed operation's reply counted
 * against its session until now (op.c): it has been handed to the
 * transport, or dropped.  The pool keeps at most SERVER_POOL_KEEP idle
 * records, so that it shrinks after a burst: a record past that is freed
 * (its aio reaped, since this may run in that aio's own callback).
 */
static void
op_put(eng_op *op)
{
	engine      *e = op->eng;
	eng_session *s;
	bool         drop;

	nng_mtx_lock(e->mtx);
	if (op->out_counted) {
		if ((s = ovio__session_find(e, op->out_pipe)) != NULL) {
			s->replies_out--;
			s->reply_bytes -= op->out_bytes;
		}
		op->out_counted = false;
	}
	if (op->in_counted) {
		if ((s = ovio__session_find(e, op->in_pipe)) != NULL) {
			s->serving--;
			s->active_at = nng_clock();
		}
		op->in_counted = false;
	}
	op->phase        = OP_IDLE;
	op->batch_parent = NULL;
	op->batch_kids   = NULL;
	drop = e->srv.npooled >= SERVER_POOL_KEEP && !e->srv.closing;
	if (drop) {
		e->srv.nops--;
	} else {
		ovio__list_prepend(&e->srv.pool, op);
		e->srv.npooled++;
	}
	nng_cv_wake(e->cv);
	nng_mtx_unlock(e->mtx);
	if (drop) {
		nng_ctx_close(op->ctx);
		nng_aio_reap(op->aio);
		free(op);
	}
}

int
ovio__op_new_n(engine *e, eng_op **ops, unsigned n)
{
	unsigned i;

	nng_mtx_lock(e->mtx);
	for (i = 0; i < n && (ops[i] = op_get(e)) != NULL; i++) {
		ops[i]->phase = OP_WORK;
	}
	nng_mtx_unlock(e->mtx);
	if (i < n) {
		while (i > 0) {
			op_put(ops[--i]);
		}
		return (OVIO_ENOMEM);
	}
	return (0);
}

void
ovio__op_free(eng_op *op)
{
	op_put(op);
}

/*
 * Keeps recv_target records waiting in receive.  A record that cannot be
 * made (out of memory) leaves a slot empty; ovio__server_tick fills it
 * later, so the service never goes deaf with every slot empty.
 */
static void
recv_top_up(engine *e)
{
	eng_op *op;

	nng_mtx_lock(e->mtx);
	while (!e->srv.closing && e->srv.recv_posted < e->srv.recv_target
	       && (op = op_get(e)) != NULL) {
		e->srv.recv_posted++;
		op->phase = OP_RECV;
		nng_mtx_unlock(e->mtx);
		nng_ctx_recv(op->ctx, op->aio);
		nng_mtx_lock(e->mtx);
	}
	nng_mtx_unlock(e->mtx);
}

/*
 * Closes the data sessions idle for limits.idle_ms (--idle-timeout), once
 * a second at most: each goes the disconnect path (session.c).  Every one
 * due is closed in this pass, 1 024 at a time (ovio__session_idle marks
 * the ones it returns, so none comes twice while its close is under way).
 * Completion thread only, so idle_check_at needs no lock.
 */
static void
server_close_idle(engine *e)
{
	uint32_t ids[1024];
	nng_time now = nng_clock();
	size_t   n, i;

	if (e->limits.idle_ms == 0 || now < e->srv.idle_check_at) {
		return;
	}
	e->srv.idle_check_at = now + 1000;
	do {
		n = ovio__session_idle(e, ids, sizeof(ids) / sizeof(ids[0]));
		for (i = 0; i < n; i++) {
			nng_pipe p = NNG_PIPE_INITIALIZER;

			p.id = ids[i];
			ovio__log("session %u idle for %llu s (--idle-timeout): "
			          "closed",
			    ids[i],
			    (unsigned long long) (e->limits.idle_ms / 1000));
			(void) nng_pipe_close(p);
		}
	} while (n == sizeof(ids) / sizeof(ids[0]));
}

void
ovio__server_tick(engine *e)
{
	bool low;

	nng_mtx_lock(e->mtx);
	low = e->srv.recv_posted < e->srv.recv_target && !e->srv.closing;
	nng_mtx_unlock(e->mtx);
	if (low) {
		recv_top_up(e);
	}
	server_close_idle(e);
}

static void
op_aio_cb(void *arg)
{
	eng_op *op = arg;
	engine *e  = op->eng;
	int     rv = nng_aio_result(op->aio);

	if (op->phase == OP_SEND) {
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(op->aio));
			nng_aio_set_msg(op->aio, NULL);
		}
		op_put(op);
		return;
	}
	/* OP_RECV */
	if (rv == 0) {
		op->msg = nng_aio_get_msg(op->aio);
		nng_aio_set_msg(op->aio, NULL);
		op->recv_us      = ovio__host_clock_us();
		op->reply_status = 0;
	}
	nng_mtx_lock(e->mtx);
	e->srv.recv_posted--;
	if (rv == 0 && e->limits.idle_ms != 0) {
		/*
		 * Its session is busy until the record comes back (op_put);
		 * only --idle-timeout reads it, so only then is it counted.
		 */
		eng_session *s;
		op->in_pipe = nng_pipe_id(nng_msg_get_pipe(op->msg));
		if ((s = ovio__session_find(e, op->in_pipe)) != NULL) {
			s->serving++;
			s->active_at   = nng_clock();
			op->in_counted = true;
		}
	}
	nng_mtx_unlock(e->mtx);
	if (rv != 0) {
		op_put(op);
		if (rv != NNG_ECLOSED) {
			recv_top_up(e);
		}
		return;
	}
	op->phase = OP_WORK;
	recv_top_up(e);
	ovio__dispatch(op);
}

/*
 * One debug line per reply, so that an operation can be followed by its
 * session, tag and handle (with --log-level debug; off by default):
 * "session 7: read tag 12 handle 3 offset 0 length 4096: OK in 85 us".
 */
static void
op_log_reply(const eng_op *op, uint64_t us)
{
	char h[32] = "", io[64] = "";

	if (op->log_handle != 0) {
		snprintf(h, sizeof(h), " handle %llu",
		    (unsigned long long) op->log_handle);
	}
	if (op->kind == OVIO__OP__OP_READ || op->kind == OVIO__OP__OP_WRITE) {
		snprintf(io, sizeof(io), " offset %llu length %llu",
		    (unsigned long long) op->log_offset,
		    (unsigned long long) op->log_length);
	}
	ovio__logl(OVIO__LOG_DEBUG, "session %u: %s tag %llu%s%s: %s in %llu us",
	    (unsigned) op->log_pipe, ovio_op_name(op->kind),
	    (unsigned long long) op->tag, h, io,
	    op->reply_status == 0 ? "OK" : ovio_errname(op->reply_status),
	    (unsigned long long) us);
}

void
ovio__op_reply(eng_op *op)
{
	uint64_t us = ovio__host_clock_us() - op->recv_us;

	ovio__stats_record(op->eng, op->kind, op->reply_status, us);
	if (ovio__log_enabled(OVIO__LOG_DEBUG)) {
		op_log_reply(op, us);
	}
	if (op->batch_parent != NULL) {
		ovio__batch_kid_done(op); /* its batch's reply carries it */
		return;
	}
	if (op->rc != NULL) {
		ovio__rc_finish(op); /* at-most-once: keep the answer */
	}
	op->phase = OP_SEND;
	nng_aio_set_msg(op->aio, op->msg);
	op->msg = NULL;
	nng_ctx_send(op->ctx, op->aio);
}

/*
 * Gives op an empty message of its own size in place of op->msg, which may
 * still have the capacity of a request's or a read's data (a reply waiting
 * to be sent would keep all of it).  Keeps the old one, emptied, when no
 * new one can be had.
 */
void
ovio__op_msg_shrink(eng_op *op)
{
	nng_msg *small;

	if (nng_msg_alloc(&small, 0) == 0) {
		nng_msg_set_pipe(small, nng_msg_get_pipe(op->msg));
		nng_msg_free(op->msg);
		op->msg = small;
	} else {
		nng_msg_clear(op->msg);
	}
}

void
ovio__op_reply_status(eng_op *op, int status, int64_t oserr)
{
	Ovio__Reply rp = OVIO__REPLY__INIT;

	rp.tag           = op->tag;
	rp.status        = (Ovio__Status) status;
	rp.os_error      = oserr;
	op->reply_status = status;
	ovio__op_msg_shrink(op);
	if (ovio__wire_encode_reply(op->msg, &rp) != 0) {
		/* Cannot even say why: let the request go unanswered. */
		nng_msg_free(op->msg);
		op->msg = NULL;
		if (op->batch_parent != NULL) {
			ovio__batch_kid_done(op); /* its frame says ENOMEM */
			return;
		}
		if (op->rc != NULL) {
			ovio__rc_finish(op); /* copies waiting get ENOMEM */
		}
		op_put(op);
		return;
	}
	ovio__op_reply(op);
}

/*
 * Releases op without a reply, for a copy of a request whose reply reaches
 * its client another way (reply_cache.c).  op's nng context forgets the
 * request when it next receives.  Lock not held.
 */
void
ovio__op_drop(eng_op *op)
{
	nng_msg_free(op->msg);
	op->msg = NULL;
	if (op->batch_parent != NULL) {
		ovio__batch_kid_done(op); /* never: a batch's ops have no ids */
		return;
	}
	op_put(op);
}

/* A port in network byte order, as a number. */
static unsigned
server_port(const uint16_t *port)
{
	const uint8_t *b = (const uint8_t *) port;
	return ((unsigned) (b[0] << 8 | b[1]));
}

/* "a.b.c.d:port" or "[x:x:...]:port" for a tcp peer; "" otherwise. */
static void
server_format_addr(const nng_sockaddr *sa, char *buf, size_t len)
{
	const uint8_t *a;
	size_t         n;
	int            i;

	buf[0] = '\0';
	if (sa->s_family == NNG_AF_INET) {
		a = (const uint8_t *) &sa->s_in.sa_addr;
		snprintf(buf, len, "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3],
		    server_port(&sa->s_in.sa_port));
	} else if (sa->s_family == NNG_AF_INET6) {
		a = sa->s_in6.sa_addr;
		n = (size_t) snprintf(buf, len, "[");
		for (i = 0; i < 16 && n < len; i += 2) {
			n += (size_t) snprintf(buf + n, len - n, "%s%x",
			    i > 0 ? ":" : "",
			    (unsigned) (a[i] << 8 | a[i + 1]));
		}
		if (n < len) {
			snprintf(buf + n, len - n, "]:%u",
			    server_port(&sa->s_in6.sa_port));
		}
	}
}

/*
 * What nng tells of the peer of p: on tls+tcp:// the subject of the
 * client's certificate (verified: the listener requires one from the
 * configured CA) and its address, on tcp:// the address, on ipc:// the
 * peer's uid and pid where the OS says.  Returns false when p is a TLS
 * connection whose peer is not verified.
 */
static bool
server_peer(engine *e, nng_pipe p, eng_peer *peer)
{
	nng_listener l       = nng_pipe_listener(p);
	char        *subject = NULL;
	bool         verified;
	nng_sockaddr sa;

	memset(peer, 0, sizeof(*peer));
	peer->admin = e->srv.admin_lid != 0
	              && (uint32_t) nng_listener_id(l) == e->srv.admin_lid;
	peer->connected_ms = (int64_t) time(NULL) * 1000;
	peer->has_pid
	    = nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_PID, &peer->pid) == 0;
	if (nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &peer->uid) == 0) {
		peer->has_uid = true;
		if (nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_GID, &peer->gid)
		    != 0) {
			peer->gid = UINT64_MAX; /* unknown: in no group */
		}
	}
	if (nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) == 0) {
		server_format_addr(&sa, peer->addr, sizeof(peer->addr));
	}
	if (nng_pipe_get_bool(p, NNG_OPT_TLS_VERIFIED, &verified) == 0) {
		if (!verified
		    || nng_pipe_get_string(
		           p, NNG_OPT_TLS_PEER_SUBJECT, &subject)
		           != 0) {
			return (false);
		}
		peer->tls = true;
		snprintf(peer->subject, sizeof(peer->subject), "%s", subject);
		nng_strfree(subject);
	}
	return (true);
}

/*
 * A session refused for --max-sessions or --max-sessions-per-peer: logged
 * at warn, at most once a second (a flood of them must not flood the log),
 * with how many were refused meanwhile.
 */
static void
server_log_busy(engine *e, uint32_t id, const eng_peer *peer)
{
	nng_time now = nng_clock();
	unsigned quiet;
	char     who[96];

	nng_mtx_lock(e->mtx);
	if (e->srv.busy_logged_at != 0 && now - e->srv.busy_logged_at < 1000) {
		e->srv.busy_quiet++;
		nng_mtx_unlock(e->mtx);
		return;
	}
	e->srv.busy_logged_at = now;
	quiet                 = e->srv.busy_quiet;
	e->srv.busy_quiet     = 0;
	nng_mtx_unlock(e->mtx);
	if (peer->has_uid) {
		snprintf(who, sizeof(who), "uid %llu",
		    (unsigned long long) peer->uid);
	} else {
		snprintf(who, sizeof(who), "%s", peer->addr);
	}
	ovio__logl(OVIO__LOG_WARN,
	    "session %u refused: %s is at --max-sessions or "
	    "--max-sessions-per-peer (%u more refused in the last second)",
	    id, who, quiet);
}

/*
 * Whether a data endpoint's peer may have a session: with an allow-list
 * (--allow-uid, --allow-group), an ipc peer by its uid and gid (POSIX), or
 * by its process's token (Windows, which gives only the pid; its SID goes
 * to peer->account for the log), and one the OS said nothing of not at
 * all; a tls+tcp:// peer was authenticated by its certificate.  Plain
 * tcp:// is not started with an allow-list without --insecure-tcp
 * (oviod.c): such a peer is let in.
 */
static bool
server_peer_allowed(eng_peer *peer)
{
	if (!ovio__host_peers_restricted() || peer->tls
	    || peer->addr[0] != '\0') {
		return (true);
	}
	if (peer->has_uid) {
		return (ovio__host_peer_allowed(peer->uid, peer->gid));
	}
	return (peer->has_pid
	        && ovio__host_process_allowed(
	            peer->pid, peer->account, sizeof(peer->account)));
}

/*
 * "session N connected[ to the admin endpoint]: WHO", WHO being
 * "tls ADDR, certificate \"SUBJECT\"", "tcp ADDR", "uid U, pid P", "pid P"
 * (Windows; ", account SID" with an allow-list) or "ipc".
 */
static void
server_log_connected(uint32_t id, const eng_peer *peer)
{
	const char *to = peer->admin ? " to the admin endpoint" : "";

	if (peer->tls) {
		ovio__log("session %u connected%s: tls %s, certificate \"%s\"",
		    id, to, peer->addr, peer->subject);
	} else if (peer->addr[0] != '\0') {
		ovio__log("session %u connected%s: tcp %s", id, to, peer->addr);
	} else if (peer->has_uid) {
		ovio__log("session %u connected%s: uid %llu, pid %llu", id, to,
		    (unsigned long long) peer->uid,
		    (unsigned long long) peer->pid);
	} else if (peer->has_pid) {
		ovio__log("session %u connected%s: pid %llu%s%s", id, to,
		    (unsigned long long) peer->pid,
		    peer->account[0] != '\0' ? ", account " : "", peer->account);
	} else {
		ovio__log("session %u connected%s: ipc", id, to);
	}
}

static void
server_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	engine  *e  = arg;
	uint32_t id = nng_pipe_id(p);
	eng_peer peer;
	int      rv;

	if (ev == NNG_PIPE_EV_ADD_PRE) {
		if (e->srv.refuse) {
			nng_pipe_close(p); /* stopping: no new sessions */
			return;
		}
		if (!server_peer(e, p, &peer)) {
			ovio__logl(OVIO__LOG_WARN,
			    "session %u refused: tls %s, not verified", id,
			    peer.addr);
			nng_pipe_close(p);
			return;
		}
		if (!peer.admin && !server_peer_allowed(&peer)) {
			if (peer.has_uid) {
				ovio__logl(OVIO__LOG_WARN,
				    "session %u refused: uid %llu, pid %llu is "
				    "not allowed (--allow-uid, --allow-group)",
				    id, (unsigned long long) peer.uid,
				    (unsigned long long) peer.pid);
			} else if (peer.has_pid) {
				ovio__logl(OVIO__LOG_WARN,
				    "session %u refused: pid %llu, account %s "
				    "is not allowed (--allow-uid, --allow-group)",
				    id, (unsigned long long) peer.pid,
				    peer.account);
			} else {
				ovio__logl(OVIO__LOG_WARN,
				    "session %u refused: the OS gave no "
				    "credentials for it (--allow-uid, "
				    "--allow-group)",
				    id);
			}
			nng_pipe_close(p);
			return;
		}
		if ((rv = ovio__session_add(e, id, &peer)) != 0) {
			if (rv == OVIO_EBUSY) {
				server_log_busy(e, id, &peer);
			} else {
				ovio__logl(OVIO__LOG_WARN,
				    "session %u refused: out of memory", id);
			}
			nng_pipe_close(p);
			return;
		}
		server_log_connected(id, &peer);
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		ovio__session_gone(e, id);
		ovio__log("session %u gone", id);
	}
}

/* Makes the listeners' TLS configuration, once, when url is tls+tcp://. */
static int
server_tls_config(engine *e, const eng_options *o, const char *url)
{
	char why[512];
	int  rv;

	if (!ovio__url_is_tls(url) || e->srv.tls != NULL) {
		return (0);
	}
	if ((rv = ovio__tls_config(
	         &e->srv.tls, true, &o->tls, why, sizeof(why)))
	    != 0) {
		ovio__logl(
		    OVIO__LOG_ERROR, "cannot listen on %s: %s", url, why);
	}
	return (rv);
}

/* Sets that configuration on l when url is tls+tcp://. */
static int
server_set_tls(engine *e, nng_listener l, const char *url)
{
	int rv;

	if (!ovio__url_is_tls(url)) {
		return (0);
	}
	if ((rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, e->srv.tls))
	    != 0) {
		ovio__logl(OVIO__LOG_ERROR, "cannot listen on %s: %s", url,
		    nng_strerror(rv));
		return (ovio__err_from_nng(rv));
	}
	return (0);
}

/*
 * Listens on the admin endpoint url: the host restricts it before it
 * starts (POSIX: socket mode 0600; Windows: SYSTEM and Administrators) and
 * opens it to group after (POSIX: chown and mode 0660).
 */
static int
server_listen_admin(engine *e, const char *url, const char *group)
{
	nng_listener l;
	int          rv;

	if ((rv = nng_listener_create(&l, e->srv.sock, url)) != 0) {
		ovio__logl(OVIO__LOG_ERROR, "cannot listen on %s (admin): %s",
		    url, nng_strerror(rv));
		return (ovio__err_from_nng(rv));
	}
	if ((rv = server_set_tls(e, l, url)) != 0
	    || (rv = ovio__host_admin_listener_setup(l, url)) != 0) {
		nng_listener_close(l);
		return (rv);
	}
	/* Known before the first pipe of it can be added. */
	e->srv.admin_lid = (uint32_t) nng_listener_id(l);
	if ((rv = nng_listener_start(l, 0)) != 0) {
		ovio__logl(OVIO__LOG_ERROR, "cannot listen on %s (admin): %s",
		    url, nng_strerror(rv));
		nng_listener_close(l);
		return (ovio__err_from_nng(rv));
	}
	e->srv.listeners[e->srv.nlisteners++] = l;
	if ((rv = ovio__host_admin_listener_ready(url, group)) != 0) {
		return (rv);
	}
	ovio__log("admin endpoint on %s%s%s", url,
	    group != NULL ? ", group " : "", group != NULL ? group : "");
	return (0);
}

int
ovio__server_start(engine *e, const eng_options *o)
{
	const char **urls = o->listen;
	int          rv;
	size_t       i;

	/* One TLS configuration for every tls+tcp:// listener. */
	for (i = 0; urls[i] != NULL; i++) {
		if ((rv = server_tls_config(e, o, urls[i])) != 0) {
			return (rv);
		}
	}
	if (o->admin != NULL && (rv = server_tls_config(e, o, o->admin)) != 0) {
		return (rv);
	}

	if ((rv = nng_rep0_open(&e->srv.sock)) != 0) {
		ovio__logl(OVIO__LOG_ERROR, "cannot open the nng socket: %s",
		    nng_strerror(rv));
		return (ovio__err_from_nng(rv));
	}
	/* Before listening: no message larger than a request may need. */
	nng_socket_set_size(
	    e->srv.sock, NNG_OPT_RECVMAXSZ, o->limits.max_request);
	nng_pipe_notify(e->srv.sock, NNG_PIPE_EV_ADD_PRE, server_pipe_cb, e);
	nng_pipe_notify(e->srv.sock, NNG_PIPE_EV_REM_POST, server_pipe_cb, e);

	/* Under the lock: the completion thread's tick reads it. */
	nng_mtx_lock(e->mtx);
	e->srv.recv_target = SERVER_RECV_SLOTS;
	nng_mtx_unlock(e->mtx);
	recv_top_up(e);

	/*
	 * The admin endpoint first, its mode and group set: once the data
	 * endpoint answers, the admin endpoint is there to be reached.
	 */
	if (o->admin != NULL
	    && (rv = server_listen_admin(e, o->admin, o->admin_group)) != 0) {
		return (rv);
	}
	for (i = 0; urls[i] != NULL && i < ENG_MAX_LISTENERS - 1; i++) {
		nng_listener l;
		if ((rv = nng_listener_create(&l, e->srv.sock, urls[i])) != 0) {
			ovio__logl(OVIO__LOG_ERROR, "cannot listen on %s: %s",
			    urls[i], nng_strerror(rv));
			return (ovio__err_from_nng(rv));
		}
		ovio__host_listener_setup(l, urls[i]);
		if ((rv = server_set_tls(e, l, urls[i])) != 0) {
			nng_listener_close(l);
			return (rv);
		}
		if ((rv = nng_listener_start(l, 0)) != 0) {
			ovio__logl(OVIO__LOG_ERROR, "cannot listen on %s: %s",
			    urls[i], nng_strerror(rv));
			nng_listener_close(l);
			return (ovio__err_from_nng(rv));
		}
		e->srv.listeners[e->srv.nlisteners++] = l;
		ovio__log("listening on %s", urls[i]);
	}
	if (o->admin != NULL) {
		return (0);
	}
	ovio__logl(OVIO__LOG_WARN,
	    "no admin endpoint (no ipc:// endpoint to put it beside; "
	    "see --admin)");
	return (0);
}

/*
 * Stops accepting: new connections are closed as they arrive.  The
 * listeners themselves stay open until ovio__server_close, because closing
 * an nng listener also closes every connection it accepted, and those still
 * have replies to receive.
 */
void
ovio__server_stop_listening(engine *e)
{
	e->srv.refuse = true;
}

/*
 * Waits until every op record is back in the pool, but those waiting in
 * receive when in_recv is set (read afresh on every pass: a record that
 * takes a request meanwhile has a reply to send).  Lock held.  Returns
 * whether they all came back by deadline.
 */
static bool
server_wait_idle(engine *e, bool in_recv, nng_time deadline)
{
	for (;;) {
		unsigned busy = in_recv ? e->srv.recv_posted : 0;
		if (e->srv.npooled + busy >= e->srv.nops) {
			return (true);
		}
		if (nng_cv_until(e->cv, deadline) == NNG_ETIMEDOUT) {
			return (false);
		}
	}
}

/*
 * Closes the socket.  First the last replies get out: every record not
 * waiting in receive has handed its reply to nng, and then the pipes get a
 * moment (SERVER_LINGER_MS) to write them, since nng 1.5 has no linger and
 * closing a pipe drops what it has not written.  Then it waits (up to 2 s)
 * for every record to come back to the pool: after this no nng callback of
 * ours runs.  Returns false when a record did not come back (a request
 * still being served): the caller must then free nothing.
 */
bool
ovio__server_close(engine *e)
{
	bool all;

	nng_mtx_lock(e->mtx);
	e->srv.closing = true;
	(void) server_wait_idle(e, true, nng_clock() + 2000);
	nng_mtx_unlock(e->mtx);
	nng_msleep(SERVER_LINGER_MS);
	nng_close(e->srv.sock);
	if (e->srv.tls != NULL) {
		nng_tls_config_free(e->srv.tls); /* listeners held their own */
		e->srv.tls = NULL;
	}

	nng_mtx_lock(e->mtx);
	all = server_wait_idle(e, false, nng_clock() + 2000);
	nng_mtx_unlock(e->mtx);
	return (all);
}

void
ovio__op_pool_fini(engine *e)
{
	eng_op *op;

	while ((op = ovio__list_pop_first(&e->srv.pool)) != NULL) {
		nng_aio_free(op->aio);
		free(op);
		e->srv.nops--;
		e->srv.npooled--;
	}
}
