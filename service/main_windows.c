/* main_windows.c - oviod's entry point on Windows; see host_windows.c. */
#include "host.h"

int
main(int argc, char **argv)
{
	return (ovio__host_main(argc, argv));
}
