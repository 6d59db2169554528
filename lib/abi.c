/*
 * abi.c - the layout of the public structs of libovio.so.0, pinned.
 *
 * ovio.h's rule: within libovio.so.0 a public struct never changes size and
 * no member moves; a new member takes the place of reserved space.  These
 * assertions make a change that breaks the rule fail to build.  The numbers
 * are those of 64-bit Linux and 64-bit Windows (the same there); other
 * targets are not pinned.
 */
#include <stddef.h>

#include "ovio.h"

#define OVIO_AT(type, member, off)                      \
	_Static_assert(offsetof(type, member) == (off), \
	    #type "." #member " moved: see the top of ovio.h")
#define OVIO_SIZE(type, n) \
	_Static_assert(    \
	    sizeof(type) == (n), #type " changed size: see the top of ovio.h")

#if defined(__SIZEOF_POINTER__) && __SIZEOF_POINTER__ == 8
OVIO_AT(ovio_request, op, 0);
OVIO_AT(ovio_request, tag, 8);
OVIO_AT(ovio_request, handle, 16);
OVIO_AT(ovio_request, offset, 24);
OVIO_AT(ovio_request, length, 32);
OVIO_AT(ovio_request, path, 40);
OVIO_AT(ovio_request, flags, 48);
OVIO_AT(ovio_request, mode, 52);
OVIO_AT(ovio_request, data, 56);
OVIO_AT(ovio_request, cancel_tag, 64);
OVIO_AT(ovio_request, all, 72);
OVIO_AT(ovio_request, session, 73);
OVIO_AT(ovio_request, deadline_ms, 80);
OVIO_AT(ovio_request, new_path, 88);
OVIO_AT(ovio_request, reserved, 96);
OVIO_SIZE(ovio_request, 152);
OVIO_AT(ovio_result, tag, 0);
OVIO_AT(ovio_result, op, 8);
OVIO_AT(ovio_result, status, 12);
OVIO_AT(ovio_result, os_error, 16);
OVIO_AT(ovio_result, handle, 24);
OVIO_AT(ovio_result, bytes, 32);
OVIO_AT(ovio_result, data, 40);
OVIO_AT(ovio_result, stat, 48);
OVIO_AT(ovio_result, found, 112);
OVIO_AT(ovio_result, cancel, 116);
OVIO_AT(ovio_result, canceled, 120);
OVIO_AT(ovio_result, service, 128);
OVIO_AT(ovio_result, entries, 136);
OVIO_AT(ovio_result, nentries, 144);
OVIO_AT(ovio_result, more, 152);
OVIO_AT(ovio_result, next_cookie, 160);
OVIO_AT(ovio_result, reserved, 168);
OVIO_SIZE(ovio_result, 200);
OVIO_AT(ovio_stat, size, 0);
OVIO_AT(ovio_stat, mode, 8);
OVIO_AT(ovio_stat, type, 12);
OVIO_AT(ovio_stat, mtime_ns, 16);
OVIO_AT(ovio_stat, direct_align, 24);
OVIO_AT(ovio_stat, reserved32, 28);
OVIO_AT(ovio_stat, reserved, 32);
OVIO_SIZE(ovio_stat, 64);
OVIO_AT(ovio_service_status, version, 0);
OVIO_AT(ovio_service_status, backend, 32);
OVIO_AT(ovio_service_status, root, 64);
OVIO_AT(ovio_service_status, sessions, 576);
OVIO_AT(ovio_service_status, handles, 580);
OVIO_AT(ovio_service_status, ops_in_flight, 584);
OVIO_AT(ovio_service_status, ops_submitted, 592);
OVIO_AT(ovio_service_status, ops_completed, 600);
OVIO_AT(ovio_service_status, ops_canceled, 608);
OVIO_AT(ovio_service_status, bytes_read, 616);
OVIO_AT(ovio_service_status, bytes_written, 624);
OVIO_AT(ovio_service_status, requests_rejected, 632);
OVIO_AT(ovio_service_status, duplicates, 640);
OVIO_AT(ovio_service_status, uptime_ms, 648);
OVIO_AT(ovio_service_status, cancels_waiting, 656);
OVIO_AT(ovio_service_status, state, 664);
OVIO_AT(ovio_service_status, reserved, 680);
OVIO_SIZE(ovio_service_status, 784);
OVIO_AT(ovio_connect_options, timeout_ms, 0);
OVIO_AT(ovio_connect_options, once, 4);
OVIO_AT(ovio_connect_options, tls_ca_file, 8);
OVIO_AT(ovio_connect_options, tls_cert_file, 16);
OVIO_AT(ovio_connect_options, tls_key_file, 24);
OVIO_AT(ovio_connect_options, tls_server_name, 32);
OVIO_AT(ovio_connect_options, reserved, 40);
OVIO_SIZE(ovio_connect_options, 104);
#endif
