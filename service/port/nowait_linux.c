/*
 * port/nowait_linux.c - a read or write tried at once, on the submitting
 * thread, for the Linux backends (port_impl.h, ovio__port_try_nowait).
 *
 * A 4 KiB read of a file in the page cache takes the kernel a microsecond
 * or two; handing it to io_uring or a worker and its completion to the
 * engine's completion thread costs two thread wake-ups and more than the
 * read.  So an op the engine lets finish in its submit (op->finish_now_ok)
 * on a file that honours non-blocking attempts (op->nowait: fs.h
 * OVIO__FS_NOWAIT) is first tried with preadv2 / pwritev2 and RWF_NOWAIT:
 * the kernel copies what it can without waiting for a disk, a lock or
 * memory, and says EAGAIN when it can copy nothing.  Only a whole answer
 * (every byte, or a read at the end of the file) is final.  A short
 * attempt is not: it may have stopped at a page it could not take without
 * waiting, not at the end of the file, so the backend submits the rest as
 * usual (op->done counts what came first) and the op completes once, with
 * the sum.  A failed attempt says nothing either (RWF_NOWAIT may be
 * refused, or a write's space reservation may need to wait): the op goes
 * as usual, from the start.  A file system that refuses non-blocking
 * buffered writes outright (EOPNOTSUPP) is told to the engine
 * (op->nowait_refused), which then submits that file's writes without
 * the try, straight to a worker (io_uring: IOSQE_ASYNC).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/uio.h>

#include "ovio.h"
#include "port_impl.h"

bool
ovio__port_try_nowait(ovio__port_op *op)
{
	struct iovec iov = { .iov_base = op->buf, .iov_len = op->len };
	ssize_t      n;

	op->done = 0;
	if (!op->finish_now_ok || !op->nowait || op->stream || op->len == 0
	    || op->len > OVIO__PORT_NOWAIT_MAX
	    || (op->kind != OVIO__PORT_READ && op->kind != OVIO__PORT_WRITE)) {
		return (false);
	}
	if (op->kind == OVIO__PORT_READ) {
		n = preadv2(
		    (int) op->fd, &iov, 1, (off_t) op->offset, RWF_NOWAIT);
	} else {
		n = pwritev2(
		    (int) op->fd, &iov, 1, (off_t) op->offset, RWF_NOWAIT);
	}
	if (n < 0) {
		/*
		 * EAGAIN, EOPNOTSUPP, ...: it goes as usual.  EOPNOTSUPP comes
		 * for every buffered write on a file system that cannot do
		 * them without blocking (ext4 and tmpfs on Linux 6.x): the
		 * engine stops trying them on this file (op->nowait_refused).
		 */
		op->nowait_refused = errno == EOPNOTSUPP;
		return (false);
	}
	if ((size_t) n == op->len || (n == 0 && op->kind == OVIO__PORT_READ)) {
		op->result = (uint64_t) n;
		return (true);
	}
	op->done = (uint64_t) n; /* short: the rest goes as usual */
	return (false);
}

int
ovio__port_refuse(ovio__port_op *op, int status)
{
	if (op->done > 0 && op->kind == OVIO__PORT_WRITE) {
		op->result = op->done; /* as write(2): what it wrote */
		return (OVIO__PORT_DONE);
	}
	op->status = status;
	return (status);
}
