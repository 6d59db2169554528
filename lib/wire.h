/*
 * wire.h - framing of ovio messages (internal to libovio and oviod).
 *
 * A message body is: u32 little-endian header length | protobuf header |
 * raw payload.  The header is an ovio.Request or ovio.Reply; the payload is
 * file data (write requests, read replies) and never goes through protobuf,
 * so the service can read file data straight into a reply message and write
 * straight from a request message.
 */
#ifndef OVIO_WIRE_H
#define OVIO_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "ovio.pb-c.h"

/* The largest protobuf header either side accepts. */
#define OVIO__MAX_HEADER 4096

/*
 * Room kept in front of a read reply's payload for the reply header: the
 * service reads file data at this offset in the message body and writes the
 * header into the room afterwards (see ovio__wire_prepend_reply).
 */
#define OVIO__REPLY_ROOM 128

/*
 * The largest read or write any service serves (oviod's --max-io is at most
 * this), and the largest message a reply may be: such a read's payload and
 * 16 MiB for everything else (a header, a listing page of at most 4096
 * names, an admin page of at most 256 entries).  libovio drops a
 * connection that announces a longer reply (NNG_OPT_RECVMAXSZ).
 */
#define OVIO__IO_MAX    (1u << 30)
#define OVIO__REPLY_MAX ((size_t) OVIO__IO_MAX + (16u << 20))

/*
 * ovio__wire_encode appends the frame for a header (hdr, packed by pack and
 * sized by size) followed by len bytes of payload to msg's body.  Returns 0,
 * OVIO_ETOOBIG if the header exceeds OVIO__MAX_HEADER, or OVIO_ENOMEM.
 */
int ovio__wire_encode_request(
    nng_msg *msg, const Ovio__Request *rq, const void *payload, size_t len);
int ovio__wire_encode_reply(nng_msg *msg, const Ovio__Reply *rp);

/*
 * ovio__wire_decode_* checks the frame in msg's body and unpacks its header.
 * On success *hdr is the unpacked header (free it with the matching
 * ovio__*__free_unpacked) and *payload / *plen locate the raw payload inside
 * msg's body.  Returns 0 or OVIO_EPROTO for a truncated frame, a header length
 * past the body or past OVIO__MAX_HEADER, or a header protobuf-c rejects.
 */
int ovio__wire_decode_request(
    nng_msg *msg, Ovio__Request **hdr, uint8_t **payload, size_t *plen);
int ovio__wire_decode_reply(
    nng_msg *msg, Ovio__Reply **hdr, uint8_t **payload, size_t *plen);
/* Little-endian u32s: the frames' header lengths, a batch's frame lengths. */
void     ovio__wire_put_le32(uint8_t *p, uint32_t v);
uint32_t ovio__wire_get_le32(const uint8_t *p);

/* The same for a reply frame of len bytes at frame (a batch's part). */
int ovio__wire_decode_reply_buf(uint8_t *frame, size_t len, Ovio__Reply **hdr,
    uint8_t **payload, size_t *plen);

/*
 * ovio__wire_field_len walks the protobuf header of the frame in msg's body
 * and stores in *len the encoded length of the last length-delimited field
 * numbered field (0 when the field is absent): protobuf-c keeps the last of
 * several copies of a field.  The unpacked header cannot tell this length
 * when a string holds a NUL byte, since protobuf-c hands strings over as C
 * strings; comparing it with strlen finds such a string.  Returns 0, or
 * OVIO_EPROTO when the frame or the header cannot be walked.
 */
int ovio__wire_field_len(nng_msg *msg, uint32_t field, size_t *len);

/*
 * ovio__wire_prepend_reply finishes a read reply in place.  msg's body holds
 * OVIO__REPLY_ROOM bytes of room followed by the payload; the frame header is
 * written at the end of the room and the unused front of the room is trimmed
 * away, so the payload is never copied.  Returns 0 or OVIO_ETOOBIG.
 */
int ovio__wire_prepend_reply(nng_msg *msg, const Ovio__Reply *rp);

/* The wire's status as the API's (ovio.h): the client's reply, and the
 * service's own metrics (service/engine/metrics.c). */
struct ovio_service_status;
void ovio__wire_status_to_api(
    const Ovio__ServiceStatus *s, struct ovio_service_status *out);

#endif
