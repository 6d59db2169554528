/*
 * live_fuzz.c - libFuzzer harness: inputs sent to a live engine, started
 * once in this process on an ipc:// endpoint with a temporary root (the
 * engine as oviod runs it; no admin endpoint, so admin requests are
 * fuzzed as the data endpoint's refusals).  The first byte
 * says how an input goes:
 *   even: its other bytes are one message body sent over a REQ socket (a
 *         request, well formed or not), and the reply is waited for;
 *   odd:  they are written raw to the socket file after a valid SP
 *         handshake (nng's ipc framing: length prefixes, message types),
 *         and the connection is closed at once.
 * Every 256 inputs, and after a request that got no reply in time, the
 * REQ socket is made anew (its session's handles closed by the engine) and
 * the engine must answer a status request within 10 s; a crash, a
 * sanitizer report or a service that stops answering fails the run.
 *
 * Built and run by tests/fuzz.sh (make fuzz; a short pass in make test).
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "engine.h"
#include "wire.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static engine     *live;
static eng_options opts;
static char        dir[] = "/tmp/ovio-live-fuzz.XXXXXX";
static char        root[64], url[96], path[96];
static const char *listen_urls[2];
static nng_socket  req;
static bool        req_open;
static unsigned    sent;

static void
req_renew(void)
{
	if (req_open) {
		nng_close(req);
		req_open = false;
	}
	if (nng_req0_open(&req) != 0) {
		abort();
	}
	nng_socket_set_ms(req, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_socket_set_ms(req, NNG_OPT_RECVTIMEO, 2000);
	nng_socket_set_ms(req, NNG_OPT_SENDTIMEO, 2000);
	if (nng_dial(req, url, NULL, 0) != 0) {
		fprintf(stderr, "live_fuzz: cannot reach the engine\n");
		abort();
	}
	req_open = true;
}

/* The engine still answers: a status request, 10 s at most. */
static void
check_alive(void)
{
	Ovio__Request rq = OVIO__REQUEST__INIT;
	nng_msg      *m;
	nng_socket    s;

	if (nng_req0_open(&s) != 0) {
		abort();
	}
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 10000);
	rq.op  = OVIO__OP__OP_STATUS;
	rq.tag = 1;
	if (nng_dial(s, url, NULL, 0) != 0 || nng_msg_alloc(&m, 0) != 0
	    || ovio__wire_encode_request(m, &rq, NULL, 0) != 0
	    || nng_sendmsg(s, m, 0) != 0 || nng_recvmsg(s, &m, 0) != 0) {
		fprintf(stderr, "live_fuzz: the engine stopped answering\n");
		abort();
	}
	nng_msg_free(m);
	nng_close(s);
}

/* At exit (libFuzzer's, after its last input): the temporary root goes. */
static void
remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void) !system(cmd);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	if (mkdtemp(dir) == NULL) {
		abort();
	}
	atexit(remove_dir);
	snprintf(root, sizeof(root), "%s/root", dir);
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	snprintf(url, sizeof(url), "ipc://%s", path);
	listen_urls[0]                  = url;
	opts.root                       = root;
	opts.threads                    = 2;
	opts.listen                     = listen_urls;
	opts.limits.handles_per_session = 64;
	opts.limits.ops_per_session     = 256;
	opts.limits.bytes_per_session   = 1u << 26;
	opts.limits.max_io              = 1u << 20;
	opts.limits.max_request         = (1u << 20) + 64 * 1024;
	opts.limits.file_mode           = 0640;
	opts.limits.sessions            = 1000;
	opts.limits.sessions_per_peer   = 1000;
	ovio__log_set_level(OVIO__LOG_ERROR); /* a line per connection else */
	if (ovio__engine_start(&live, &opts) != 0) {
		fprintf(stderr, "live_fuzz: the engine did not start\n");
		abort();
	}
	req_renew();
	return (0);
}

/* Raw bytes after a valid SP handshake (REQ, protocol 0x30), then close. */
static void
send_raw(const uint8_t *data, size_t size)
{
	static const uint8_t hello[8] = { 0, 'S', 'P', 0, 0, 0x30, 0, 0 };
	struct sockaddr_un   sa;
	int                  fd;

	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0) {
		abort();
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0
	    && send(fd, hello, sizeof(hello), MSG_NOSIGNAL)
	           == (ssize_t) sizeof(hello)) {
		(void) send(fd, data, size, MSG_NOSIGNAL);
	}
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nng_msg *m;

	if (size == 0) {
		return (0);
	}
	if ((data[0] & 1) != 0) {
		send_raw(data + 1, size - 1);
	} else if (nng_msg_alloc(&m, 0) == 0) {
		if (nng_msg_append(m, data + 1, size - 1) != 0
		    || nng_sendmsg(req, m, 0) != 0) {
			nng_msg_free(m);
			req_renew();
		} else if (nng_recvmsg(req, &m, 0) == 0) {
			nng_msg_free(m);
		} else {
			req_renew(); /* no reply in time (a read that waits) */
			check_alive();
		}
	}
	if (++sent % 256 == 0) {
		req_renew();
		check_alive();
	}
	return (0);
}
