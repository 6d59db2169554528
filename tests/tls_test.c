/*
 * tls_test.c - who may connect: mutual TLS on tls+tcp:// and plain tcp://
 * kept to loopback.  A real oviod on 127.0.0.1 with throwaway certificates
 * (tests/tls_certs.sh): a good client works and is named in the log by its
 * certificate's subject; a client with no certificate, one from another
 * CA, an expired one, one that does not trust the service, and a plain tcp
 * client are all refused at once, and the service keeps serving.  Run from
 * the top of the repository (tests/run.sh does).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>

#include "testutil.h"

static tu_daemon d;
static char      certs[256]; /* tests/tls_certs.sh's output */
static char      tls_url[64];
static char      cert_args[3][320];

/* A TCP port on 127.0.0.1 that nothing listens on just now. */
static int
free_port(void)
{
	struct sockaddr_in sa;
	socklen_t          len = sizeof(sa);
	int                fd  = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family      = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
	close(fd);
	return (ntohs(sa.sin_port));
}

/* certs/NAME */
static const char *
cert(const char *name)
{
	static char buf[8][320];
	static int  n;
	char       *p = buf[n++ % 8];

	snprintf(p, sizeof(buf[0]), "%s/%s", certs, name);
	return (p);
}

static void
make_certs(void)
{
	tu_tmpdir(certs, sizeof(certs));
	ck_assert_int_eq(tu_sh("tests/tls_certs.sh %s", certs), 0);
}

/* oviod on its ipc endpoint and tls+tcp://127.0.0.1:PORT. */
static void
start_tls(void)
{
	make_certs();
	snprintf(
	    tls_url, sizeof(tls_url), "tls+tcp://127.0.0.1:%d", free_port());
	snprintf(cert_args[0], sizeof(cert_args[0]), "%s", cert("server.crt"));
	snprintf(cert_args[1], sizeof(cert_args[1]), "%s", cert("server.key"));
	snprintf(cert_args[2], sizeof(cert_args[2]), "%s", cert("ca.crt"));
	tu_daemon_start(&d, NULL, "--listen", tls_url, "--tls-cert",
	    cert_args[0], "--tls-key", cert_args[1], "--tls-ca", cert_args[2],
	    NULL);
}

static void
stop_tls(void)
{
	tu_daemon_cleanup(&d);
	if (certs[0] != '\0') {
		tu_rmtree(certs);
		certs[0] = '\0';
	}
}

/* Connects to the tls listener as the client whose files are NAME.crt and
 * NAME.key, trusting ca; returns the status and the time it took. */
static int
connect_as(ovio_client **c, const char *name, const char *ca, int64_t *ms)
{
	ovio_connect_options o;
	char                 crt[64], key[64];
	int64_t              t0 = tu_now_ms();
	int                  rv;

	snprintf(crt, sizeof(crt), "%s.crt", name);
	snprintf(key, sizeof(key), "%s.key", name);
	memset(&o, 0, sizeof(o));
	o.timeout_ms    = 5000;
	o.tls_ca_file   = cert(ca);
	o.tls_cert_file = cert(crt);
	o.tls_key_file  = cert(key);
	rv              = ovio_connect_opts(c, tls_url, &o);
	*ms             = tu_now_ms() - t0;
	return (rv);
}

/* Whether the file path holds the text s. */
static bool
file_has(const char *path, const char *s)
{
	return (tu_sh("grep -qF -- '%s' %s", s, path) == 0);
}

/* A write and a read back over c. */
static void
round_trip(ovio_client *c, const char *name)
{
	uint64_t h;
	char     buf[16];
	size_t   n;

	ck_assert_int_eq(
	    ovio_open(c, name,
	        OVIO_OPEN_READ | OVIO_OPEN_WRITE | OVIO_OPEN_CREATE, 0, &h),
	    0);
	ck_assert_int_eq(ovio_pwrite(c, h, "over tls", 8, 0, &n), 0);
	ck_assert_uint_eq(n, 8);
	ck_assert_int_eq(ovio_pread(c, h, buf, sizeof(buf), 0, &n), 0);
	ck_assert_uint_eq(n, 8);
	ck_assert_int_eq(memcmp(buf, "over tls", 8), 0);
	ck_assert_int_eq(ovio_close(c, h), 0);
}

START_TEST(good_client_round_trips_and_is_named_in_the_log)
{
	ovio_client        *c, *a;
	ovio_admin_session *l;
	char                admin[400];
	size_t              n, i, found = 0;
	int64_t             ms;

	ck_assert_int_eq(connect_as(&c, "client", "ca.crt", &ms), 0);
	round_trip(c, "a.txt");
	/* The admin listing names it by its certificate, the rest by none. */
	ck_assert_int_eq(
	    ovio_admin_endpoint_for(d.url, admin, sizeof(admin)), 0);
	ck_assert_int_eq(ovio_connect(&a, admin, 5000), 0);
	ck_assert_int_eq(ovio_admin_sessions(a, &l, &n), 0);
	for (i = 0; i < n; i++) {
		if (strcmp(l[i].certificate, "") == 0) {
			continue;
		}
		ck_assert_str_eq(
		    l[i].certificate, "O=ovio test, CN=ovio-test-client");
		ck_assert_int_eq(strncmp(l[i].address, "127.0.0.1:", 10), 0);
		ck_assert(!l[i].admin && !l[i].has_uid);
		found++;
	}
	ck_assert_uint_eq(found, 1);
	ovio_admin_free(l);
	ovio_disconnect(a);
	ovio_disconnect(c);
	ck_assert(file_has(
	    d.log, "certificate \"O=ovio test, CN=ovio-test-client\""));
	ck_assert(file_has(d.log, "connected: tls 127.0.0.1:"));
}
END_TEST

/*
 * Each refusal comes back at once with its cause (well under the 5 s the
 * connection may take: a refused handshake is not retried), no session
 * is made for it, and the good client works after all of them.
 */
START_TEST(bad_clients_are_refused_and_the_service_keeps_serving)
{
	static const struct {
		const char *name, *ca;
	} bad[] = {
		{ "other", "ca.crt" }, /* signed by a CA oviod does not trust */
		{ "expired", "ca.crt" }, /* the right CA, expired in 2020 */
		{ "client", "other-ca.crt" }, /* does not trust the service */
	};
	ovio_client    *c;
	nng_socket      s;
	nng_dialer      dl;
	nng_tls_config *cfg;
	char            plain[64];
	int64_t         ms, t0;
	int             rv;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rv = connect_as(&c, bad[i].name, bad[i].ca, &ms);
		ck_assert_msg(rv == OVIO_EAUTH, "%s (trusting %s): %s",
		    bad[i].name, bad[i].ca, ovio_errname(rv));
		ck_assert_msg(ms < tu_ms(2000), "%s refused after %lld ms",
		    bad[i].name, (long long) ms);
	}

	/* No certificate at all: nng's own TLS client, trusting the CA. */
	ck_assert_int_eq(nng_req0_open(&s), 0);
	ck_assert_int_eq(nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT), 0);
	ck_assert_int_eq(nng_tls_config_ca_file(cfg, cert("ca.crt")), 0);
	ck_assert_int_eq(nng_dialer_create(&dl, s, tls_url), 0);
	ck_assert_int_eq(nng_dialer_set_ptr(dl, NNG_OPT_TLS_CONFIG, cfg), 0);
	t0 = tu_now_ms();
	rv = nng_dialer_start(dl, 0);
	ck_assert_msg(rv != 0, "a client without a certificate got in");
	ck_assert_int_lt(tu_now_ms() - t0, tu_ms(2000));
	nng_tls_config_free(cfg);
	nng_close(s);

	/* Plain tcp to the tls listener. */
	snprintf(
	    plain, sizeof(plain), "tcp://%s", tls_url + strlen("tls+tcp://"));
	t0 = tu_now_ms();
	rv = ovio_connect(&c, plain, 5000);
	ck_assert_msg(rv != 0, "a plain tcp client got in");
	ck_assert_int_lt(tu_now_ms() - t0, tu_ms(2000));

	ck_assert_int_eq(connect_as(&c, "client", "ca.crt", &ms), 0);
	round_trip(c, "b.txt");
	ovio_disconnect(c);
	ck_assert(!file_has(d.log, "someone else"));
	ck_assert(!file_has(d.log, "ovio-expired-client"));
	ck_assert(!file_has(d.log, "refused:")); /* "session N refused: ..." */
}
END_TEST

START_TEST(cli_takes_tls_files_from_options_and_environment)
{
	const char *b = tu_build();

	ck_assert_int_eq(tu_sh("echo hello >%s/in.txt", d.dir), 0);
	ck_assert_int_eq(tu_sh("%s/ovio -e %s --tls-ca %s --tls-cert %s "
	                       "--tls-key %s put %s/in.txt in.txt",
	                     b, tls_url, cert("ca.crt"), cert("client.crt"),
	                     cert("client.key"), d.dir),
	    0);
	ck_assert_int_eq(tu_sh("OVIO_TLS_CA=%s OVIO_TLS_CERT=%s "
	                       "OVIO_TLS_KEY=%s %s/ovio -e %s cat in.txt "
	                       ">%s/out.txt",
	                     cert("ca.crt"), cert("client.crt"),
	                     cert("client.key"), b, tls_url, d.dir),
	    0);
	ck_assert_int_eq(tu_sh("cmp -s %s/in.txt %s/out.txt", d.dir, d.dir), 0);

	/* Refused: exit status 5 (cannot reach oviod), one line, EAUTH. */
	ck_assert_int_eq(tu_sh("%s/ovio -e %s --tls-ca %s --tls-cert %s "
	                       "--tls-key %s stat in.txt 2>%s/err.txt",
	                     b, tls_url, cert("ca.crt"), cert("expired.crt"),
	                     cert("expired.key"), d.dir),
	    5);
	ck_assert_int_eq(tu_sh("[ $(wc -l <%s/err.txt) -eq 1 ] && grep -q "
	                       "EAUTH %s/err.txt",
	                     d.dir, d.dir),
	    0);
	/* A missing file is named. */
	ck_assert_int_eq(
	    tu_sh("%s/ovio -e %s --tls-ca %s --tls-cert "
	          "%s/none.crt --tls-key %s stat in.txt "
	          "2>%s/err.txt",
	        b, tls_url, cert("ca.crt"), d.dir, cert("client.key"), d.dir),
	    5);
	ck_assert_int_eq(tu_sh("[ $(wc -l <%s/err.txt) -eq 1 ] && grep -q "
	                       "'none.crt: No such file' %s/err.txt",
	                     d.dir, d.dir),
	    0);
}
END_TEST

/*
 * oviod refuses at start what would let anyone in: tcp:// on a host that
 * is not loopback (unless --insecure-tcp, which it then warns about in
 * the log) and tls+tcp:// without its three files.  Exit status 2, one
 * line.
 */
START_TEST(plaintext_off_loopback_needs_insecure_tcp)
{
	static const struct {
		const char *url, *why;
	} refused[] = {
		{ "tcp://0.0.0.0:%d", "pass --insecure-tcp" },
		{ "tcp://:%d", "pass --insecure-tcp" },
		{ "tcp://[::]:%d", "pass --insecure-tcp" },
		{ "tcp://10.1.2.3:%d", "pass --insecure-tcp" },
		{ "tls+tcp://127.0.0.1:%d",
		    "--tls-cert, --tls-key and --tls-ca" },
	};
	char         dir[256], url[64], any[64];
	const char  *b = tu_build();
	tu_daemon    ins;
	ovio_client *c;
	int          port = free_port();

	tu_tmpdir(dir, sizeof(dir));
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(url, sizeof(url), refused[i].url, port);
		ck_assert_int_eq(tu_sh("timeout 20 %s/oviod --root %s "
		                       "--listen '%s' 2>%s/err.txt",
		                     b, dir, url, dir),
		    2);
		ck_assert_msg(
		    tu_sh("[ $(wc -l <%s/err.txt) -eq 1 ] && grep -qF "
		          "-- '%s' %s/err.txt",
		        dir, refused[i].why, dir)
		        == 0,
		    "%s: not refused with one line saying '%s'", url,
		    refused[i].why);
	}
	/* Loopback tcp is allowed as it is. */
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
	tu_daemon_start(&ins, NULL, "--listen", url, NULL);
	ck_assert(!file_has(ins.log, "is plain tcp"));
	tu_daemon_cleanup(&ins);

	/* With --insecure-tcp it starts, says so, and serves. */
	snprintf(any, sizeof(any), "tcp://0.0.0.0:%d", port);
	tu_daemon_start(&ins, NULL, "--listen", any, "--insecure-tcp", NULL);
	ck_assert(file_has(ins.log, "warn: tcp://0.0.0.0:"));
	ck_assert_int_eq(ovio_connect(&c, url, 5000), 0);
	round_trip(c, "c.txt");
	ovio_disconnect(c);
	ck_assert(file_has(ins.log, "connected: tcp 127.0.0.1:"));
	tu_daemon_cleanup(&ins);
	tu_rmtree(dir);
}
END_TEST

static Suite *
tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc;

#define TCASE(fn, secs)              \
	tc = tcase_create(#fn);      \
	tcase_set_timeout(tc, secs); \
	tcase_add_test(tc, fn);      \
	suite_add_tcase(s, tc)
#define TLS_TCASE(fn, secs) \
	TCASE(fn, secs);    \
	tcase_add_checked_fixture(tc, start_tls, stop_tls)

	TLS_TCASE(good_client_round_trips_and_is_named_in_the_log, 30);
	TLS_TCASE(bad_clients_are_refused_and_the_service_keeps_serving, 30);
	TLS_TCASE(cli_takes_tls_files_from_options_and_environment, 30);
	TCASE(plaintext_off_loopback_needs_insecure_tcp, 60);
	return (s);
}

int
main(void)
{
	return (tu_run(tls_suite()));
}
