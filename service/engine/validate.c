/*
 * validate.c - every field of a request is checked once, here, at the
 * entry, before anything runs: see ovio__validate_request in engine.h.
 *
 * The rest of the service relies on what this file guarantees: an op it
 * knows, open flags it knows, a path without a NUL byte, offsets and sizes
 * within INT64_MAX (io_uring reads offset -1 as "the file position" and
 * IOCP as "append", so an offset past INT64_MAX must never reach a port),
 * reads and writes within --max-io, a mode of permission bits only, and a
 * deadline that cannot wrap the clock.
 */
#include <string.h>

#include "engine.h"
#include "fs.h"
#include "wire.h"

#define VALIDATE_OPEN_FLAGS                                                   \
	(OVIO_OPEN_READ | OVIO_OPEN_WRITE | OVIO_OPEN_CREATE | OVIO_OPEN_EXCL \
	    | OVIO_OPEN_TRUNC | OVIO_OPEN_TEMP | OVIO_OPEN_DIRECT             \
	    | OVIO_OPEN_WRITE_THROUGH)

/* The paths' field numbers in ovio.Request (proto/ovio.proto). */
#define VALIDATE_PATH_FIELD     6
#define VALIDATE_NEW_PATH_FIELD 15

/*
 * protobuf-c hands a string over as a C string, cut at its first NUL: a
 * path holding a NUL would name another file than the one sent.
 */
static int
validate_string(const char *s, nng_msg *msg, uint32_t field)
{
	size_t len;

	if (s == NULL || ovio__wire_field_len(msg, field, &len) != 0
	    || len != strlen(s)) {
		return (OVIO_EINVAL);
	}
	return (0);
}

/*
 * Refuses a read or write of len bytes at offset whose range does not fit
 * in a file offset: offset or offset + len past INT64_MAX.
 */
static int
validate_range(uint64_t offset, uint64_t len)
{
	if (offset > INT64_MAX || len > (uint64_t) INT64_MAX - offset) {
		return (OVIO_EINVAL);
	}
	return (0);
}

int
ovio__validate_request(
    Ovio__Request *rq, nng_msg *msg, size_t plen, const eng_limits *lim)
{
	int rv = 0;

	switch (rq->op) {
	case OVIO__OP__OP_OPEN:
	case OVIO__OP__OP_READ:
	case OVIO__OP__OP_WRITE:
	case OVIO__OP__OP_FLUSH:
	case OVIO__OP__OP_STAT:
	case OVIO__OP__OP_SETSIZE:
	case OVIO__OP__OP_CANCEL:
	case OVIO__OP__OP_CLOSE:
	case OVIO__OP__OP_STATUS:
	case OVIO__OP__OP_LIST:
	case OVIO__OP__OP_MKDIR:
	case OVIO__OP__OP_REMOVE:
	case OVIO__OP__OP_RENAME:
	case OVIO__OP__OP_ADMIN:
	case OVIO__OP__OP_BATCH:
		break;
	default:
		rv = OVIO_EINVAL; /* OP_NONE, or an op this service does not
		                     know */
		goto fail;
	}

	if ((rv = validate_string(rq->path, msg, VALIDATE_PATH_FIELD)) != 0
	    || (rv = validate_string(
	            rq->new_path, msg, VALIDATE_NEW_PATH_FIELD))
	           != 0) {
		goto fail;
	}
	/* Only a rename names a second path. */
	if (rq->new_path[0] != '\0' && rq->op != OVIO__OP__OP_RENAME) {
		rv = OVIO_EINVAL;
		goto fail;
	}

	/* Only a write carries a payload, and a batch (its operations). */
	if (plen != 0 && rq->op != OVIO__OP__OP_WRITE
	    && rq->op != OVIO__OP__OP_BATCH) {
		rv = OVIO_EINVAL;
		goto fail;
	}

	switch (rq->op) {
	case OVIO__OP__OP_OPEN:
		if ((rq->flags & ~VALIDATE_OPEN_FLAGS) != 0
		    || (rq->flags & (OVIO_OPEN_READ | OVIO_OPEN_WRITE)) == 0
		    || ((rq->flags & (OVIO_OPEN_TRUNC | OVIO_OPEN_TEMP))
		        && !(rq->flags & OVIO_OPEN_WRITE))) {
			rv = OVIO_EINVAL;
			goto fail;
		}
		if (lim->read_only
		    && (rq->flags
		        & (OVIO_OPEN_WRITE | OVIO_OPEN_CREATE
		            | OVIO_OPEN_TRUNC))) {
			rv = OVIO_EROFS;
			goto fail;
		}
		/* Permission bits only: no setuid, setgid or sticky file. */
		rq->mode &= 0777;
		rq->mode = rq->mode != 0 ? rq->mode : lim->file_mode;
		rq->flags |= lim->allow_devices ? OVIO__FS_OPEN_DEVICES : 0;
		break;
	case OVIO__OP__OP_READ:
		if ((rv = validate_range(rq->offset, rq->length)) != 0) {
			goto fail;
		}
		if (rq->length > lim->max_io) {
			rv = OVIO_ETOOBIG;
			goto fail;
		}
		break;
	case OVIO__OP__OP_WRITE:
		if (lim->read_only) {
			rv = OVIO_EROFS;
			goto fail;
		}
		/* The payload is the data; a length, when set, must agree. */
		if (rq->length != 0 && rq->length != plen) {
			rv = OVIO_EINVAL;
			goto fail;
		}
		if ((rv = validate_range(rq->offset, plen)) != 0) {
			goto fail;
		}
		if (plen > lim->max_io) {
			rv = OVIO_ETOOBIG;
			goto fail;
		}
		break;
	case OVIO__OP__OP_SETSIZE:
		if (lim->read_only) {
			rv = OVIO_EROFS;
			goto fail;
		}
		if (rq->length > INT64_MAX) {
			rv = OVIO_EINVAL;
			goto fail;
		}
		break;
	case OVIO__OP__OP_CLOSE:
		/* COMMIT is checked against the handle by dispatch. */
		if ((rq->flags & ~OVIO_CLOSE_COMMIT) != 0) {
			rv = OVIO_EINVAL;
			goto fail;
		}
		break;
	case OVIO__OP__OP_LIST:
	case OVIO__OP__OP_REMOVE:
		if (rq->flags != 0) {
			rv = OVIO_EINVAL;
			goto fail;
		}
		/* A listing only reads. */
		rv = lim->read_only && rq->op == OVIO__OP__OP_REMOVE
		         ? OVIO_EROFS
		         : 0;
		break;
	case OVIO__OP__OP_MKDIR:
		if ((rq->flags & ~OVIO_NS_PARENTS) != 0) {
			rv = OVIO_EINVAL;
			goto fail;
		}
		rq->mode &= 0777;
		rv = lim->read_only ? OVIO_EROFS : 0;
		break;
	case OVIO__OP__OP_RENAME:
		if ((rq->flags & ~OVIO_NS_REPLACE) != 0) {
			rv = OVIO_EINVAL;
			goto fail;
		}
		rv = lim->read_only ? OVIO_EROFS : 0;
		break;
	case OVIO__OP__OP_BATCH:
		/* How many, and nothing else: each operation has its own. */
		if (rq->length == 0 || rq->length > ENG_BATCH_MAX
		    || rq->handle != 0 || rq->offset != 0 || rq->flags != 0
		    || rq->mode != 0 || rq->path[0] != '\0'
		    || rq->cancel_tag != 0 || rq->all || rq->session
		    || rq->request_id != 0 || rq->deadline_ms != 0) {
			rv = OVIO_EINVAL;
			goto fail;
		}
		break;
	case OVIO__OP__OP_ADMIN:
		/* flags is the command; a path only for the log level. */
		if (rq->flags == OVIO__ADMIN_CMD__ADMIN_NONE
		    || rq->flags > OVIO__ADMIN_CMD__ADMIN_STATS
		    || (rq->path[0] != '\0'
		        && rq->flags != OVIO__ADMIN_CMD__ADMIN_LOG_LEVEL)) {
			rv = OVIO_EINVAL;
			goto fail;
		}
		break;
	default:
		break;
	}
	if (rv != 0) {
		goto fail; /* a namespace change on a read-only root */
	}

	/* A longer deadline is as good as none, and would wrap nng_clock(). */
	if (rq->deadline_ms > ENG_MAX_DEADLINE_MS) {
		rq->deadline_ms = ENG_MAX_DEADLINE_MS;
	}
	return (0);

fail:
	return (rv);
}
