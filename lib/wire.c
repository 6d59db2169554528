/* wire.c - framing of ovio messages; see wire.h. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ovio.h"
#include "wire.h"

void
ovio__wire_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v);
	p[1] = (uint8_t) (v >> 8);
	p[2] = (uint8_t) (v >> 16);
	p[3] = (uint8_t) (v >> 24);
}

uint32_t
ovio__wire_get_le32(const uint8_t *p)
{
	return ((uint32_t) p[0] | ((uint32_t) p[1] << 8)
	        | ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24));
}

/* Appends u32 length + packed header; the caller appends any payload. */
static int
wire_append_header(nng_msg *msg, const ProtobufCMessage *hdr)
{
	size_t   hlen = protobuf_c_message_get_packed_size(hdr);
	size_t   old  = nng_msg_len(msg);
	uint8_t *p;

	if (hlen > OVIO__MAX_HEADER) {
		return (OVIO_ETOOBIG);
	}
	if (nng_msg_realloc(msg, old + 4 + hlen) != 0) {
		return (OVIO_ENOMEM);
	}
	p = (uint8_t *) nng_msg_body(msg) + old;
	ovio__wire_put_le32(p, (uint32_t) hlen);
	protobuf_c_message_pack(hdr, p + 4);
	return (0);
}

int
ovio__wire_encode_request(
    nng_msg *msg, const Ovio__Request *rq, const void *payload, size_t len)
{
	int rv;

	if ((rv = wire_append_header(msg, &rq->base)) != 0) {
		return (rv);
	}
	if (len > 0 && nng_msg_append(msg, payload, len) != 0) {
		return (OVIO_ENOMEM);
	}
	return (0);
}

int
ovio__wire_encode_reply(nng_msg *msg, const Ovio__Reply *rp)
{
	return (wire_append_header(msg, &rp->base));
}

static int
wire_decode_buf(uint8_t *body, size_t len,
    const ProtobufCMessageDescriptor *desc, ProtobufCMessage **hdr,
    uint8_t **payload, size_t *plen)
{
	uint32_t hlen;

	if (len < 4) {
		return (OVIO_EPROTO);
	}
	hlen = ovio__wire_get_le32(body);
	if (hlen > OVIO__MAX_HEADER || hlen > len - 4) {
		return (OVIO_EPROTO);
	}
	*hdr = protobuf_c_message_unpack(desc, NULL, hlen, body + 4);
	if (*hdr == NULL) {
		return (OVIO_EPROTO);
	}
	*payload = body + 4 + hlen;
	*plen    = len - 4 - hlen;
	return (0);
}

static int
wire_decode(nng_msg *msg, const ProtobufCMessageDescriptor *desc,
    ProtobufCMessage **hdr, uint8_t **payload, size_t *plen)
{
	return (wire_decode_buf(
	    nng_msg_body(msg), nng_msg_len(msg), desc, hdr, payload, plen));
}

int
ovio__wire_decode_reply_buf(uint8_t *frame, size_t len, Ovio__Reply **hdr,
    uint8_t **payload, size_t *plen)
{
	return (wire_decode_buf(frame, len, &ovio__reply__descriptor,
	    (ProtobufCMessage **) hdr, payload, plen));
}

int
ovio__wire_decode_request(
    nng_msg *msg, Ovio__Request **hdr, uint8_t **payload, size_t *plen)
{
	return (wire_decode(msg, &ovio__request__descriptor,
	    (ProtobufCMessage **) hdr, payload, plen));
}

int
ovio__wire_decode_reply(
    nng_msg *msg, Ovio__Reply **hdr, uint8_t **payload, size_t *plen)
{
	return (wire_decode(msg, &ovio__reply__descriptor,
	    (ProtobufCMessage **) hdr, payload, plen));
}

/*
 * Reads a protobuf varint at *p, below end, and moves *p past it.  Returns
 * false when it runs past end or past the ten bytes a varint may take.
 */
static bool
wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;
	unsigned shift;
	uint8_t  b;

	for (shift = 0; shift < 64 && *p < end; shift += 7) {
		b = *(*p)++;
		x |= (uint64_t) (b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*v = x;
			return (true);
		}
	}
	return (false);
}

int
ovio__wire_field_len(nng_msg *msg, uint32_t field, size_t *len)
{
	const uint8_t *body = nng_msg_body(msg);
	size_t         mlen = nng_msg_len(msg);
	const uint8_t *p, *end;
	uint64_t       key, v;
	uint32_t       hlen;

	if (mlen < 4) {
		return (OVIO_EPROTO);
	}
	hlen = ovio__wire_get_le32(body);
	if (hlen > OVIO__MAX_HEADER || hlen > mlen - 4) {
		return (OVIO_EPROTO);
	}
	*len = 0;
	p    = body + 4;
	end  = p + hlen;
	while (p < end) {
		if (!wire_varint(&p, end, &key)) {
			return (OVIO_EPROTO);
		}
		switch (key & 7) {
		case 0: /* varint */
			if (!wire_varint(&p, end, &v)) {
				return (OVIO_EPROTO);
			}
			break;
		case 1: /* 64-bit */
			if (end - p < 8) {
				return (OVIO_EPROTO);
			}
			p += 8;
			break;
		case 2: /* length-delimited */
			if (!wire_varint(&p, end, &v)
			    || v > (uint64_t) (end - p)) {
				return (OVIO_EPROTO);
			}
			if ((key >> 3) == field) {
				*len = (size_t) v;
			}
			p += v;
			break;
		case 5: /* 32-bit */
			if (end - p < 4) {
				return (OVIO_EPROTO);
			}
			p += 4;
			break;
		default: /* groups: protobuf-c has none */
			return (OVIO_EPROTO);
		}
	}
	return (0);
}

int
ovio__wire_prepend_reply(nng_msg *msg, const Ovio__Reply *rp)
{
	size_t   hlen = ovio__reply__get_packed_size(rp);
	uint8_t *room = nng_msg_body(msg);
	size_t   skip;

	if (hlen + 4 > OVIO__REPLY_ROOM
	    || nng_msg_len(msg) < OVIO__REPLY_ROOM) {
		return (OVIO_ETOOBIG);
	}
	skip = OVIO__REPLY_ROOM - 4 - hlen;
	ovio__wire_put_le32(room + skip, (uint32_t) hlen);
	ovio__reply__pack(rp, room + skip + 4);
	nng_msg_trim(msg, skip);
	return (0);
}

void
ovio__wire_status_to_api(
    const Ovio__ServiceStatus *s, struct ovio_service_status *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->version, sizeof(out->version), "%s", s->version);
	snprintf(out->backend, sizeof(out->backend), "%s", s->backend);
	snprintf(out->root, sizeof(out->root), "%s", s->root);
	out->sessions          = s->sessions;
	out->handles           = s->handles;
	out->ops_in_flight     = s->ops_in_flight;
	out->ops_submitted     = s->ops_submitted;
	out->ops_completed     = s->ops_completed;
	out->ops_canceled      = s->ops_canceled;
	out->bytes_read        = s->bytes_read;
	out->bytes_written     = s->bytes_written;
	out->requests_rejected = s->requests_rejected;
	out->duplicates        = s->duplicates;
	out->uptime_ms         = s->uptime_ms;
	out->cancels_waiting   = s->cancels_waiting;
	snprintf(out->state, sizeof(out->state), "%s",
	    s->state != NULL ? s->state : "");
}
