/*
 * port/threads.c - the thread-pool completion port, for kernels or
 * containers without io_uring.
 *
 * Submitted ops wait on a work queue; worker threads run them with
 * pread/pwrite/fsync and put them on a done queue, which ovio__port_dequeue
 * drains.  A small read or write of a file in the page cache is first tried
 * on the submitting thread (port/nowait_linux.c) and needs neither.  The
 * buffered writes of one regular file's descriptor run one at a time, on
 * one worker (tp_serial).
 *
 * Streams (FIFOs, pipes, sockets, character devices) never hold a worker
 * while they wait: their descriptors are made non-blocking when associated,
 * a worker tries the read or write once, and an op that would block is
 * parked with the poller thread, which polls every parked op's descriptor
 * and puts the ready ones back on the work queue.  So a client with any
 * number of reads pending on an empty FIFO takes no worker from anyone.
 *
 * Cancellation:
 *  - an op queued, chained behind a write of its file (tp_serial) or
 *    parked is taken off its list and completed ECANCELED (DONE);
 *  - a stream op a worker is running finishes at once (it does not block);
 *    if it would block it sees the cancel flag and completes ECANCELED
 *    instead of parking (REQUESTED);
 *  - an op running on a regular file is not interrupted (the kernel would
 *    finish it anyway); it completes with its real result (TOO_LATE).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "ovio.h"
#include "port_impl.h"
#include "error_impl.h"

#define TP_DEFAULT_THREADS 8

enum {
	TP_QUEUED  = 1,
	TP_RUNNING = 2,
	TP_DONE    = 3,
	TP_PARKED  = 4,
	TP_CHAINED = 5 /* behind the write its worker runs (tp_serial) */
};

typedef struct tp_list {
	ovio__port_op *head;
	ovio__port_op *tail;
} tp_list;

typedef struct tp_worker {
	pthread_t       tid;
	struct tp_port *port;
	int      writing; /* running a write of file wfd: see tp_serial */
	ovio__fd wfd;
	tp_list  chain; /* writes of wfd that wait for this worker */
} tp_worker;

typedef struct tp_port {
	ovio__port      base;
	pthread_mutex_t mtx;
	pthread_cond_t  work_cv;
	pthread_cond_t  done_cv;
	tp_list         work;
	tp_list         done;
	tp_list         parked; /* stream ops waiting for readiness */
	unsigned        nparked;
	int             stopping;
	int             woken;
	unsigned        nworkers;
	tp_worker      *workers;
	pthread_t       poller;
	int             poller_started;
	int             wake_fd[2]; /* wakes the poller: parked list changed */
	unsigned char  *serial;     /* by descriptor: 1 for tp_serial's files */
	size_t          serial_cap; /* entries in serial */
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

/*
 * The buffered writes of a regular file go one at a time, on one worker,
 * as io_uring's io-wq takes them (it hashes them by file): the file system
 * takes each such write under the file's lock anyway, so several workers
 * writing one file would only wait for each other, and each wait is a
 * sleep and a wake-up.  A write of a descriptor some worker is writing
 * waits on that worker's chain (TP_CHAINED), which it runs before anything
 * else.  Writes of other descriptors, reads, flushes, streams, block
 * devices and unbuffered (O_DIRECT) files, which the file system may write
 * in parallel, are not held.  tp_associate marks each descriptor.  Lock
 * held.
 */
static int
tp_serial(const tp_port *p, const ovio__port_op *op)
{
	return (op->kind == OVIO__PORT_WRITE && !op->stream && op->fd >= 0
	        && (size_t) op->fd < p->serial_cap && p->serial[op->fd]);
}

/* The worker writing fd (a tp_serial write), or NULL.  Lock held. */
static tp_worker *
tp_writer(tp_port *p, ovio__fd fd)
{
	unsigned i;

	for (i = 0; i < p->nworkers; i++) {
		if (p->workers[i].writing && p->workers[i].wfd == fd) {
			return (&p->workers[i]);
		}
	}
	return (NULL);
}

/* Puts op behind w's write of the same file.  Lock held. */
static void
tp_chain(tp_worker *w, ovio__port_op *op)
{
	op->state   = TP_CHAINED;
	op->priv[0] = w;
	tp_push(&w->chain, op);
}

static void
tp_fail(ovio__port_op *op, int e)
{
	op->status   = ovio__err_from_errno(e);
	op->os_error = e;
	op->result   = 0;
}

/*
 * Runs op.  Returns 1 when a stream op would block: the caller parks it.
 */
static int
tp_run(ovio__port_op *op)
{
	ssize_t  n = 0;
	uint8_t *buf;
	size_t   len;
	off_t    off;

	if (op->kind == OVIO__PORT_FLUSH) {
		if (fsync((int) op->fd) != 0) {
			tp_fail(op, errno);
		}
		return (0);
	}
	if (op->kind == OVIO__PORT_SETSIZE) {
		if (ftruncate((int) op->fd, (off_t) op->offset) != 0) {
			tp_fail(op, errno);
		}
		return (0);
	}
	/* After a short try on the submitting thread, the rest (tp_submit). */
	buf = (uint8_t *) op->buf + op->done;
	len = op->len - op->done;
	off = (off_t) (op->offset + op->done);
	do {
		if (op->kind == OVIO__PORT_READ) {
			n = op->stream ? read((int) op->fd, buf, len)
			               : pread((int) op->fd, buf, len, off);
		} else {
			n = op->stream ? write((int) op->fd, buf, len)
			               : pwrite((int) op->fd, buf, len, off);
		}
	} while (n < 0 && errno == EINTR);
	if (n < 0 && op->stream && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		return (1);
	}
	if (n < 0 && op->done > 0 && op->kind == OVIO__PORT_WRITE) {
		op->result = op->done; /* as write(2): the bytes before */
		return (0);
	}
	if (n < 0) {
		tp_fail(op, errno);
		return (0);
	}
	op->result = op->done + (uint64_t) n;
	return (0);
}

static void
tp_poller_wake(tp_port *p)
{
	char c = 0;

	(void) !write(p->wake_fd[1], &c, 1); /* full pipe: already woken */
}

/*
 * The poller: waits until a parked op's descriptor is ready (or the parked
 * list changes) and moves ready ops back to the work queue.
 */
static void *
tp_poller_main(void *arg)
{
	tp_port       *p     = arg;
	struct pollfd *pfd   = NULL;
	unsigned       cap   = 0, n, i;
	uintptr_t      round = 0;
	ovio__port_op *op, *next;
	char           buf[64];

	pthread_mutex_lock(&p->mtx);
	while (!p->stopping) {
		if (p->nparked + 1 > cap) {
			unsigned       ncap = (p->nparked + 1) * 2;
			struct pollfd *np   = realloc(pfd, ncap * sizeof(*pfd));
			if (np == NULL) {
				/* Out of memory: try again in a moment. */
				pthread_mutex_unlock(&p->mtx);
				usleep(10000);
				pthread_mutex_lock(&p->mtx);
				continue;
			}
			pfd = np;
			cap = ncap;
		}
		pfd[0].fd     = p->wake_fd[0];
		pfd[0].events = POLLIN;
		n             = 1;
		/*
		 * Each parked op remembers its slot and this round: after the
		 * poll only ops still on the parked list are looked at (one a
		 * cancel took off meanwhile may already be freed).
		 */
		round++;
		for (op = p->parked.head; op != NULL; op = op->next) {
			pfd[n].fd = (int) op->fd;
			pfd[n].events
			    = op->kind == OVIO__PORT_READ ? POLLIN : POLLOUT;
			op->priv[1] = (void *) (uintptr_t) n++;
			op->priv[2] = (void *) (uintptr_t) round;
		}
		pthread_mutex_unlock(&p->mtx);

		(void) poll(pfd, n, -1);
		while (read(p->wake_fd[0], buf, sizeof(buf)) > 0) { }

		pthread_mutex_lock(&p->mtx);
		for (op = p->parked.head; op != NULL; op = next) {
			next = op->next;
			i    = (unsigned) (uintptr_t) op->priv[1];
			if ((uintptr_t) op->priv[2] != round
			    || pfd[i].revents == 0) {
				continue; /* parked since the snapshot, or not
				             ready */
			}
			(void) tp_remove(&p->parked, op);
			p->nparked--;
			op->state = TP_QUEUED;
			tp_push(&p->work, op);
			pthread_cond_signal(&p->work_cv);
		}
	}
	pthread_mutex_unlock(&p->mtx);
	free(pfd);
	return (NULL);
}

static void *
tp_worker_main(void *arg)
{
	tp_worker     *w = arg;
	tp_port       *p = w->port;
	ovio__port_op *op;
	int            would_block;

	pthread_mutex_lock(&p->mtx);
	for (;;) {
		/* The next write of the file it was writing comes first. */
		op = NULL;
		if (w->writing && (op = tp_pop(&w->chain)) == NULL) {
			w->writing = 0;
		}
		while (op == NULL) {
			tp_worker *o;

			while (p->work.head == NULL && !p->stopping) {
				pthread_cond_wait(&p->work_cv, &p->mtx);
			}
			if (p->work.head == NULL) {
				goto out; /* stopping, and nothing is left */
			}
			op = tp_pop(&p->work);
			if (tp_serial(p, op)
			    && (o = tp_writer(p, op->fd)) != NULL) {
				tp_chain(o, op);
				op = NULL;
			}
		}
		if (tp_serial(p, op)) {
			w->writing = 1;
			w->wfd     = op->fd;
		}
		op->state   = TP_RUNNING;
		op->priv[0] = w;
		pthread_mutex_unlock(&p->mtx);

		would_block = tp_run(op);

		pthread_mutex_lock(&p->mtx);
		op->priv[0] = NULL;
		if (would_block && !p->stopping
		    && !__atomic_load_n(&op->cancel, __ATOMIC_ACQUIRE)) {
			op->state   = TP_PARKED;
			op->priv[2] = NULL; /* in no poll round yet */
			tp_push(&p->parked, op);
			p->nparked++;
			tp_poller_wake(p);
			continue;
		}
		if (would_block) {
			tp_fail(op, ECANCELED); /* cancelled before it parked */
		}
		op->state = TP_DONE;
		tp_push(&p->done, op);
		pthread_cond_signal(&p->done_cv);
	}
out:
	pthread_mutex_unlock(&p->mtx);
	return (NULL);
}

static void tp_close(ovio__port *port);

static int
tp_open(ovio__port **pp, unsigned threads, const char **why)
{
	tp_port *p;
	unsigned i;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		*why = "out of memory";
		return (OVIO_ENOMEM);
	}
	if (pipe2(p->wake_fd, O_NONBLOCK | O_CLOEXEC) != 0) {
		free(p);
		*why = "cannot make the poller's wake-up pipe";
		return (OVIO_ENOMEM);
	}
	pthread_mutex_init(&p->mtx, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	pthread_cond_init(&p->done_cv, NULL);
	p->nworkers = threads != 0 ? threads : TP_DEFAULT_THREADS;
	if ((p->workers = calloc(p->nworkers, sizeof(tp_worker))) == NULL) {
		p->nworkers = 0;
		tp_close(&p->base);
		*why = "out of memory";
		return (OVIO_ENOMEM);
	}
	if (pthread_create(&p->poller, NULL, tp_poller_main, p) != 0) {
		p->nworkers = 0;
		tp_close(&p->base);
		*why = "cannot start the poller thread";
		return (OVIO_ENOMEM);
	}
	p->poller_started = 1;
	for (i = 0; i < p->nworkers; i++) {
		p->workers[i].port = p;
		if (pthread_create(&p->workers[i].tid, NULL, tp_worker_main,
		        &p->workers[i])
		    != 0) {
			p->nworkers = i;
			tp_close(&p->base);
			*why = "cannot start worker threads";
			return (OVIO_ENOMEM);
		}
	}
	*pp = &p->base;
	return (0);
}

/*
 * Marks fd for tp_serial (serial 1) or not.  Without memory for the mark
 * its writes are simply not held: the mark only saves wake-ups.
 */
static void
tp_mark(tp_port *p, ovio__fd fd, int serial)
{
	pthread_mutex_lock(&p->mtx);
	if (fd >= 0 && (size_t) fd >= p->serial_cap && serial) {
		size_t         cap = ((size_t) fd + 1) * 2;
		unsigned char *np  = realloc(p->serial, cap);
		if (np != NULL) {
			memset(np + p->serial_cap, 0, cap - p->serial_cap);
			p->serial     = np;
			p->serial_cap = cap;
		}
	}
	if (fd >= 0 && (size_t) fd < p->serial_cap) {
		p->serial[fd] = (unsigned char) serial;
	}
	pthread_mutex_unlock(&p->mtx);
}

/*
 * Streams become non-blocking: a worker never waits on one (see top).  A
 * regular file opened without O_DIRECT is marked for tp_serial (fd may be
 * a number a closed file had: every open comes here, so the mark is
 * always its own).
 */
static int
tp_associate(ovio__port *port, ovio__fd fd)
{
	tp_port    *p = (tp_port *) port;
	struct stat st;
	int         fl;

	if (fstat((int) fd, &st) != 0 || (fl = fcntl((int) fd, F_GETFL)) < 0) {
		return (ovio__err_from_errno(errno));
	}
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) || S_ISDIR(st.st_mode)) {
		tp_mark(p, fd, S_ISREG(st.st_mode) && !(fl & O_DIRECT));
		return (0);
	}
	if (fcntl((int) fd, F_SETFL, fl | O_NONBLOCK) != 0) {
		return (ovio__err_from_errno(errno));
	}
	return (0);
}

static int
tp_submit(ovio__port *port, ovio__port_op *op)
{
	tp_port   *p = (tp_port *) port;
	tp_worker *w;

	/*
	 * Tried at once on this thread first: done, it needs no worker and
	 * no completion thread.  The rest of a short try goes to a worker
	 * (tp_run starts at op->done).
	 */
	if (ovio__port_try_nowait(op)) {
		return (OVIO__PORT_DONE);
	}
	pthread_mutex_lock(&p->mtx);
	if (p->stopping) {
		pthread_mutex_unlock(&p->mtx);
		return (ovio__port_refuse(op, OVIO_ESHUTDOWN));
	}
	if (tp_serial(p, op) && (w = tp_writer(p, op->fd)) != NULL) {
		tp_chain(w, op); /* no worker to wake: w takes it next */
	} else {
		op->state   = TP_QUEUED;
		op->priv[0] = NULL;
		tp_push(&p->work, op);
		pthread_cond_signal(&p->work_cv);
	}
	pthread_mutex_unlock(&p->mtx);
	return (0);
}

/*
 * Queued, chained or parked: taken off its list, cancelled for sure.  Running
 * on a stream: it will not park (it may still have got its data).  Running on a
 * regular file or already done: too late, its real result follows.
 */
static int
tp_cancel(ovio__port *port, ovio__port_op *op, ovio__port_op *report)
{
	tp_port *p       = (tp_port *) port;
	uint64_t outcome = OVIO_CANCEL_TOO_LATE;

	pthread_mutex_lock(&p->mtx);
	__atomic_store_n(&op->cancel, 1, __ATOMIC_RELEASE);
	if ((op->state == TP_QUEUED && tp_remove(&p->work, op))
	    || (op->state == TP_CHAINED
	        && tp_remove(&((tp_worker *) op->priv[0])->chain, op))
	    || (op->state == TP_PARKED && tp_remove(&p->parked, op))) {
		if (op->state == TP_PARKED) {
			p->nparked--;
			tp_poller_wake(p);
		}
		op->state    = TP_DONE;
		op->status   = OVIO_ECANCELED;
		op->os_error = ECANCELED;
		tp_push(&p->done, op);
		outcome = OVIO_CANCEL_DONE;
	} else if (op->state == TP_RUNNING && op->stream) {
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
		} else if (pthread_cond_timedwait(
		               &p->done_cv, &p->mtx, &deadline)
		           == ETIMEDOUT) {
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
	tp_poller_wake(p);
	pthread_mutex_unlock(&p->mtx);
	for (i = 0; i < p->nworkers; i++) {
		pthread_join(p->workers[i].tid, NULL);
	}
	if (p->poller_started) {
		pthread_join(p->poller, NULL);
	}
	close(p->wake_fd[0]);
	close(p->wake_fd[1]);
	pthread_mutex_destroy(&p->mtx);
	pthread_cond_destroy(&p->work_cv);
	pthread_cond_destroy(&p->done_cv);
	free(p->workers);
	free(p->serial);
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
