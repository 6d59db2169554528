/* port_list_linux.c - the backends linked on Linux, best first. */
#include "port_impl.h"

extern const ovio__port_backend ovio__port_uring;
extern const ovio__port_backend ovio__port_threads;

const ovio__port_backend *const ovio__port_backends[] = {
	&ovio__port_uring,
	&ovio__port_threads,
	NULL,
};
