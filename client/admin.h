/*
 * admin.h - `ovio admin`: the service's administration from the command
 * line (client/admin.c), over oviod's admin endpoint.
 */
#ifndef OVIO_CLIENT_ADMIN_H
#define OVIO_CLIENT_ADMIN_H

#include <stdbool.h>

/*
 * Runs `ovio admin ARGS...`: argv holds what follows "admin".  endpoint is
 * the data endpoint ovio was given (-e, $OVIO_ENDPOINT; NULL: default), next
 * to which the admin endpoint is found unless --admin names it; json is
 * ovio's --json.  Returns ovio's exit status.
 */
int ovio__cmd_admin(const char *endpoint, bool json, int argc, char **argv);

#endif
