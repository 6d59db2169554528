/*
 * port_impl.h - what a completion-port backend provides (private to the
 * port_*.c files).  port.c dispatches the port.h contract through this table;
 * the per-OS list (port_list_linux.c, port_list_windows.c) names the
 * backends the Makefile linked, best first.
 */
#ifndef OVIO_PORT_IMPL_H
#define OVIO_PORT_IMPL_H

#include <stdbool.h>

#include "port.h"

typedef struct ovio__port_backend {
	const char *name;
	/* As ovio__port_open, for this backend; allocates the whole port. */
	int (*open)(ovio__port **pp, unsigned threads, const char **why);
	int (*associate)(ovio__port *p, ovio__fd fd);
	int (*submit)(ovio__port *p, ovio__port_op *op);
	/* As ovio__port_hold / release; NULL where submits are not queued. */
	void (*hold)(ovio__port *p);
	void (*release)(ovio__port *p);
	int (*cancel)(ovio__port *p, ovio__port_op *op, ovio__port_op *report);
	int (*dequeue)(ovio__port *p, ovio__port_op **ops, int max, int ms);
	void (*wake)(ovio__port *p);
	void (*close)(ovio__port *p);
} ovio__port_backend;

/* Every backend's port structure starts with this. */
struct ovio__port {
	const ovio__port_backend *be;
	int                       fail_submits; /* fault seams */
	int                       fail_cancels;
	int                       fail_dequeues; /* honoured by IOCP only */
};

/*
 * ovio__port_try_nowait tries op at once without blocking (port/
 * nowait_linux.c): true when that answered it (op->result set: every byte,
 * or a read's end of file); false when it must go to the OS as usual, the
 * first op->done bytes already moved (0 when nothing was, or the op is not
 * one to try: op->finish_now_ok and op->nowait unset, a stream, neither a
 * read nor a write, or more than OVIO__PORT_NOWAIT_MAX bytes).
 */
#define OVIO__PORT_NOWAIT_MAX (64u * 1024u)
bool ovio__port_try_nowait(ovio__port_op *op);

/*
 * The answer to a submit whose op cannot go to the OS (status: OVIO_EBUSY,
 * OVIO_ESHUTDOWN).  A write whose short try already moved op->done bytes
 * is answered with those, as write(2) would (OVIO__PORT_DONE): they are on
 * the file, so a failure would contradict it.  Otherwise op fails with
 * status, which is returned.
 */
int ovio__port_refuse(ovio__port_op *op, int status);

/* NULL-terminated, best first; defined by the per-OS list file. */
extern const ovio__port_backend *const ovio__port_backends[];

#endif
