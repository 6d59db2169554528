/*
 * tls.h - TLS configurations for tls+tcp:// (internal; libovio and oviod).
 *
 * Both ends authenticate: the service has a certificate and key and
 * requires a client certificate signed by its configured CA; a client has
 * a certificate and key and requires the service's certificate to be
 * signed by the CA it was given.  Files are PEM; keys are not encrypted.
 */
#ifndef OVIO_TLS_H
#define OVIO_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

/* The files and names of one end's TLS configuration. */
typedef struct ovio__tls_files {
	const char *ca;          /* CA the peer's certificate must chain to */
	const char *cert;        /* our certificate */
	const char *key;         /* its private key */
	const char *server_name; /* client: name to check (NULL: URL host) */
} ovio__tls_files;

/* Whether url is a tls+tcp:// URL (the only TLS transport ovio uses). */
bool ovio__url_is_tls(const char *url);

/*
 * ovio__tls_config makes a configuration for a listener (server true) or
 * a dialer from f, with peer authentication required.  Returns 0 and the
 * configuration in *cfgp (the caller frees it with nng_tls_config_free,
 * after setting it on its endpoint, which holds its own reference), or an
 * ovio_err with a one-line cause in why: OVIO_EINVAL (a file missing from
 * f, or a file that is not a PEM certificate or key), OVIO_ENOENT /
 * OVIO_EACCES (a file that cannot be read), OVIO_ENOMEM.
 */
int ovio__tls_config(nng_tls_config **cfgp, bool server,
    const ovio__tls_files *f, char *why, size_t whylen);

#endif
