/* os/windows/main.c - oviod's entry point on Windows; see os/windows/host.c. */
#include "host.h"

int
main(int argc, char **argv)
{
	return (ovio__host_main(argc, argv));
}
