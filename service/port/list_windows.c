/* port_list_windows.c - the backends linked on Windows, best first. */
#include "port_impl.h"

extern const ovio__port_backend ovio__port_iocp;

const ovio__port_backend *const ovio__port_backends[] = {
	&ovio__port_iocp,
	NULL,
};
