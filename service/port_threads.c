/*
 * port_threads.c - the thread-pool completion port, for kernels or
 * containers without io_uring.
 *
 * Submitted ops wait on a work queue; worker threads run them with
 * pread/pwrite/fsync and put them on a done queue, which ovio__port_dequeue
 * drains.  Cancellation:
 *  - an op still queued is taken off the queue and completed ECANCELED;
 *  - an op running on a stream (FIFO, pipe) is interrupted: the worker waits
 *    for readiness in ppoll() with the cancel signal unblocked only inside
 *    ppoll, so a cancel that arrives at any moment makes ppoll fail EINTR
 *    and no wake-up is lost;
 *  - an op running on a regular file is not interrupted (the kernel would
 *    finish it anyway); it completes with its real result.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ovio.h"
#include "port_impl.h"

int ovio__err_from_errno(int e);

#define TP_DEFAULT_THREADS 8
#define TP_SIGNAL (SIGRTMIN + 3)

enum { TP_QUEUED = 1, TP_RUNNING = 2, TP_DONE = 3 };

typedef struct tp_list {
	ovio__port_op *head;
	ovio__port_op *tail;
} tp_list;

typedef struct tp_worker {
	pthread_t       tid;
	struct tp_port *port;
} tp_worker;

typedef struct tp_port {
	ovio__port      base;
	pthread_mutex_t mtx;
	pthread_cond_t  work_cv;
	pthread_cond_t  done_cv;
	tp_list         work;
	tp_list         done;
	int             stopping;
	int             woken;
	unsigned        nworkers;
	tp_worker      *workers;
} tp_port;

static void
tp_push(tp_list *l, ovio__port_op *op)
{
	op->next = NULL;
	if (l->tail != NULL) {
		l->tail->next = op;
	} else {
		l->head = op;
	}
	l->tail = op;
}

static ovio__port_op *
tp_pop(tp_list *l)
{
	ovio__port_op *op = l->head;
	if (op != NULL) {
		l->head = op->next;
		if (l->head == NULL) {
			l->tail = NULL;
		}
		op->next = NULL;
	}
	return (op);
}

/* Removes op from l; returns 1 if it was there. */
static int
tp_remove(tp_list *l, ovio__port_op *op)
{
	ovio__port_op **pp   = &l->head;
	ovio__port_op  *prev = NULL;

	while (*pp != NULL) {
		if (*pp == op) {
			*pp = op->next;
			if (l->tail == op) {
				l->tail = prev;
			}
			op->next = NULL;
			return (1);
		}
		prev = *pp;
		pp   = &(*pp)->next;
	}
	return (0);
}

static void
tp_signal_handler(int sig)
{
	(void) sig; /* Only there to make ppoll return EINTR. */
}

static void
tp_fail(ovio__port_op *op, int e)
{
	op->status   = ovio__err_from_errno(e);
	op->os_error = e;
	op->result   = 0;
}

/*
 * Waits until fd is ready for the op, with the cancel signal deliverable
 * only here.  Returns 0 when ready, ECANCELED when the op was cancelled.
 */
static int
tp_wait_ready(ovio__port_op *op, const sigset_t *open_mask)
{
	struct pollfd pfd;

	pfd.fd     = (int) op->fd;
	pfd.events = op->kind == OVIO__PORT_READ ? POLLIN : POLLOUT;
	for (;;) {
		if (__atomic_load_n(&op->cancel, __ATOMIC_ACQUIRE)) {
			return (ECANCELED);
		}
		pfd.revents = 0;
		if (ppoll(&pfd, 1, NULL, open_mask) >= 0) {
			return (0);
		}
		if (errno != EINTR) {
			return (errno);
		}
		/* EINTR: our cancel, or a stale signal; the flag decides. */
	}
}

static void
tp_run(ovio__port_op *op, const sigset_t *open_mask)
{
	ssize_t n = 0;
	int     e;

	if (op->kind == OVIO__PORT_FLUSH) {
		if (fsync((int) op->fd) != 0) {
			tp_fail(op, errno);
		}
		return;
	}
	if (op->kind == OVIO__PORT_SETSIZE) {
		if (ftruncate((int) op->fd, (off_t) op->offset) != 0) {
			tp_fail(op, errno);
		}
		return;
	}
	if (op->stream && (e = tp_wait_ready(op, open_mask)) != 0) {
		tp_fail(op, e);
		return;
	}
	do {
		if (op->kind == OVIO__PORT_READ) {
			n = op->stream ? read((int) op->fd, op->buf, op->len)
			               : pread((int) op->fd, op->buf, op->len,
			                     (off_t) op->offset);
		} else {
			n = op->stream ? write((int) op->fd, op->buf, op->len)
			               : pwrite((int) op->fd, op->buf, op->len,
			                     (off_t) op->offset);
		}
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		tp_fail(op, errno);
		return;
	}
	op->result = (uint64_t) n;
}

static void *
tp_worker_main(void *arg)
{
	tp_worker     *w = arg;
	tp_port       *p = w->port;
	ovio__port_op *op;
	sigset_t       block, open_mask;

	/* The cancel signal is blocked except inside ppoll (tp_wait_ready). */
	sigemptyset(&block);
	sigaddset(&block, TP_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &block, &open_mask);
	sigdelset(&open_mask, TP_SIGNAL);

	pthread_mutex_lock(&p->mtx);
	for (;;) {
		while (p->work.head == NULL && !p->stopping) {
			pthread_cond_wait(&p->work_cv, &p->mtx);
		}
		if (p->work.head == NULL) {
			break;
		}
		op          = tp_pop(&p->work);
		op->state   = TP_RUNNING;
		op->priv[0] = w;
		pthread_mutex_unlock(&p->mtx);

		tp_run(op, &open_mask);

		pthread_mutex_lock(&p->mtx);
		op->state   = TP_DONE;
		op->priv[0] = NULL;
		tp_push(&p->done, op);
		pthread_cond_signal(&p->done_cv);
	}
	pthread_mutex_unlock(&p->mtx);
	return (NULL);
}

static void tp_close(ovio__port *port);

static int
tp_open(ovio__port **pp, unsigned threads, const char **why)
{
	tp_port         *p;
	struct sigaction sa;
	unsigned         i;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		*why = "out of memory";
		return (OVIO_ENOMEM);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tp_signal_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(TP_SIGNAL, &sa, NULL); /* no SA_RESTART: ppoll must fail */

	pthread_mutex_init(&p->mtx, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	pthread_cond_init(&p->done_cv, NULL);
	p->nworkers = threads != 0 ? threads : TP_DEFAULT_THREADS;
	if ((p->workers = calloc(p->nworkers, sizeof(tp_worker))) == NULL) {
		free(p);
		*why = "out of memory";
		return (OVIO_ENOMEM);
	}
	for (i = 0; i < p->nworkers; i++) {
		p->workers[i].port = p;
		if (pthread_create(&p->workers[i].tid, NULL, tp_worker_main,
		        &p->workers[i]) != 0) {
			p->nworkers = i;
			tp_close(&p->base);
			*why = "cannot start worker threads";
			return (OVIO_ENOMEM);
		}
	}
	*pp = &p->base;
	return (0);
}

static int
tp_associate(ovio__port *port, ovio__fd fd)
{
	(void) port;
	(void) fd;
	return (0);
}

static int
tp_submit(ovio__port *port, ovio__port_op *op)
{
	tp_port *p = (tp_port *) port;

	pthread_mutex_lock(&p->mtx);
	if (p->stopping) {
		pthread_mutex_unlock(&p->mtx);
		op->status = OVIO_ESHUTDOWN;
		return (OVIO_ESHUTDOWN);
	}
	op->state   = TP_QUEUED;
	op->priv[0] = NULL;
	tp_push(&p->work, op);
	pthread_cond_signal(&p->work_cv);
	pthread_mutex_unlock(&p->mtx);
	return (0);
}

/*
 * Queued: taken off the queue, cancelled for sure.  Running on a stream:
 * interrupted (it may still have got its data).  Running on a regular file
 * or already done: too late, its real result follows.
 */
static int
tp_cancel(ovio__port *port, ovio__port_op *op, ovio__port_op *report)
{
	tp_port   *p = (tp_port *) port;
	tp_worker *w;
	uint64_t   outcome = OVIO_CANCEL_TOO_LATE;

	pthread_mutex_lock(&p->mtx);
	__atomic_store_n(&op->cancel, 1, __ATOMIC_RELEASE);
	if (op->state == TP_QUEUED && tp_remove(&p->work, op)) {
		op->state  = TP_DONE;
		op->status = OVIO_ECANCELED;
		tp_push(&p->done, op);
		outcome = OVIO_CANCEL_DONE;
	} else if (op->state == TP_RUNNING && op->stream &&
	    (w = op->priv[0]) != NULL) {
		pthread_kill(w->tid, TP_SIGNAL);
		outcome = OVIO_CANCEL_REQUESTED;
	}
	if (report != NULL) {
		report->result = outcome;
		report->state  = TP_DONE;
		tp_push(&p->done, report);
	}
	pthread_cond_signal(&p->done_cv);
	pthread_mutex_unlock(&p->mtx);
	return (0);
}

static int
tp_dequeue(ovio__port *port, ovio__port_op **ops, int max, int ms)
{
	tp_port        *p = (tp_port *) port;
	struct timespec deadline;
	int             n = 0;

	if (ms >= 0) {
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += ms / 1000;
		deadline.tv_nsec += (long) (ms % 1000) * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&p->mtx);
	while (p->done.head == NULL && !p->woken) {
		if (ms < 0) {
			pthread_cond_wait(&p->done_cv, &p->mtx);
		} else if (pthread_cond_timedwait(&p->done_cv, &p->mtx,
		               &deadline) == ETIMEDOUT) {
			break;
		}
	}
	p->woken = 0;
	while (n < max && p->done.head != NULL) {
		ops[n++] = tp_pop(&p->done);
	}
	pthread_mutex_unlock(&p->mtx);
	return (n);
}

static void
tp_wake(ovio__port *port)
{
	tp_port *p = (tp_port *) port;

	pthread_mutex_lock(&p->mtx);
	p->woken = 1;
	pthread_cond_broadcast(&p->done_cv);
	pthread_mutex_unlock(&p->mtx);
}

static void
tp_close(ovio__port *port)
{
	tp_port *p = (tp_port *) port;
	unsigned i;

	pthread_mutex_lock(&p->mtx);
	p->stopping = 1;
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->mtx);
	for (i = 0; i < p->nworkers; i++) {
		pthread_join(p->workers[i].tid, NULL);
	}
	pthread_mutex_destroy(&p->mtx);
	pthread_cond_destroy(&p->work_cv);
	pthread_cond_destroy(&p->done_cv);
	free(p->workers);
	free(p);
}

const ovio__port_backend ovio__port_threads = {
	.name      = "threads",
	.open      = tp_open,
	.associate = tp_associate,
	.submit    = tp_submit,
	.cancel    = tp_cancel,
	.dequeue   = tp_dequeue,
	.wake      = tp_wake,
	.close     = tp_close,
};
