/*
 * service_posix.c - `ovio service` on Linux and other POSIX systems; see
 * service.h.  oviod is managed there by the init system (a systemd unit,
 * install/oviod.service, installed by make install), so every operation is
 * a one-line pointer to it and exit status 2.
 */
#include <stdio.h>

#include "service.h"

static int
svc_none(void)
{
	fprintf(stderr, "ovio service: Windows only; on Linux use systemctl "
	                "(install/oviod.service), e.g. systemctl start "
	                "oviod\n");
	return (2);
}

int
ovio__service_install(const char *oviod, int argc, char **argv)
{
	(void) oviod;
	(void) argc;
	(void) argv;
	return (svc_none());
}

int
ovio__service_uninstall(unsigned timeout_ms)
{
	(void) timeout_ms;
	return (svc_none());
}

int
ovio__service_start(unsigned timeout_ms)
{
	(void) timeout_ms;
	return (svc_none());
}

int
ovio__service_stop(unsigned timeout_ms)
{
	(void) timeout_ms;
	return (svc_none());
}

int
ovio__service_reload(void)
{
	return (svc_none());
}

int
ovio__service_query(ovio__svc_status *st)
{
	(void) st;
	return (svc_none());
}
