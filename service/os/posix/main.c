/* os/posix/main.c - oviod's entry point on POSIX systems. */
#include "host.h"

int
main(int argc, char **argv)
{
	/* Before any thread exists, so every thread inherits the mask. */
	ovio__host_setup_signals();
	ovio__host_setup_memory();
	return (ovio__oviod_main(argc, argv));
}
