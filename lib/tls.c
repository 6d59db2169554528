/*
 * tls.c - TLS configurations for tls+tcp:// (see tls.h).  nng's TLS is
 * mbedTLS; the files are read here so that a bad one is named in the
 * error rather than reported as a bare nng code.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ovio.h"
#include "error_impl.h"
#include "tls.h"

#define TLS_FILE_MAX (1u << 20) /* a PEM file larger than this is wrong */

bool
ovio__url_is_tls(const char *url)
{
	return (url != NULL && strncmp(url, "tls+tcp", 7) == 0);
}

/*
 * Reads the PEM file path (what names it, for messages) into a
 * NUL-terminated string *out.  Returns 0 or an ovio_err with why set.
 */
static int
tls_read(
    const char *what, const char *path, char **out, char *why, size_t whylen)
{
	FILE  *f;
	char  *buf;
	size_t n;
	int    e;

	if ((f = fopen(path, "rb")) == NULL) {
		e = errno;
		snprintf(why, whylen, "%s %s: %s", what, path, strerror(e));
		return (e == ENOENT   ? OVIO_ENOENT
		        : e == EACCES ? OVIO_EACCES
		                      : OVIO_EINVAL);
	}
	if ((buf = malloc(TLS_FILE_MAX + 1)) == NULL) {
		fclose(f);
		snprintf(why, whylen, "out of memory");
		return (OVIO_ENOMEM);
	}
	n = fread(buf, 1, TLS_FILE_MAX + 1, f);
	e = ferror(f);
	fclose(f);
	buf[n > TLS_FILE_MAX ? TLS_FILE_MAX : n] = '\0';
	if (e || n > TLS_FILE_MAX || strstr(buf, "-----BEGIN ") == NULL) {
		snprintf(why, whylen, "%s %s: %s", what, path,
		    e ? "cannot be read" : "is not a PEM file");
		free(buf);
		return (OVIO_EINVAL);
	}
	*out = buf;
	return (0);
}

int
ovio__tls_config(nng_tls_config **cfgp, bool server, const ovio__tls_files *f,
    char *why, size_t whylen)
{
	nng_tls_config *cfg  = NULL;
	char           *ca   = NULL;
	char           *cert = NULL;
	char           *key  = NULL;
	int             rv;

	if (f->ca == NULL || f->cert == NULL || f->key == NULL) {
		snprintf(why, whylen,
		    "tls+tcp:// needs a CA file, a certificate and its key "
		    "(%s missing)",
		    f->ca == NULL     ? "the CA"
		    : f->cert == NULL ? "the certificate"
		                      : "the key");
		return (OVIO_EINVAL);
	}
	if ((rv = tls_read("CA file", f->ca, &ca, why, whylen)) != 0
	    || (rv = tls_read("certificate", f->cert, &cert, why, whylen)) != 0
	    || (rv = tls_read("key", f->key, &key, why, whylen)) != 0) {
		goto fail;
	}
	if ((rv = nng_tls_config_alloc(
	         &cfg, server ? NNG_TLS_MODE_SERVER : NNG_TLS_MODE_CLIENT))
	    != 0) {
		snprintf(why, whylen, "cannot make a TLS configuration: %s",
		    nng_strerror(rv));
		rv = ovio__err_from_nng(rv);
		goto fail;
	}
	if (nng_tls_config_ca_chain(cfg, ca, NULL) != 0) {
		snprintf(why, whylen,
		    "CA file %s: no certificate mbedTLS takes", f->ca);
		rv = OVIO_EINVAL;
		goto fail;
	}
	if (nng_tls_config_own_cert(cfg, cert, key, NULL) != 0) {
		snprintf(why, whylen,
		    "certificate %s and key %s: not a certificate and its "
		    "unencrypted private key",
		    f->cert, f->key);
		rv = OVIO_EINVAL;
		goto fail;
	}
	if ((rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED))
	        != 0
	    || (!server && f->server_name != NULL
	        && (rv = nng_tls_config_server_name(cfg, f->server_name))
	               != 0)) {
		snprintf(
		    why, whylen, "TLS configuration: %s", nng_strerror(rv));
		rv = ovio__err_from_nng(rv);
		goto fail;
	}
	free(ca);
	free(cert);
	free(key);
	*cfgp = cfg;
	return (0);

fail:
	if (cfg != NULL) {
		nng_tls_config_free(cfg);
	}
	free(ca);
	free(cert);
	free(key);
	return (rv);
}
