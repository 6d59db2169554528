/*
 * bench.h - `ovio bench`: load on a running oviod through libovio's
 * asynchronous layer, measured by bench_load.h.
 */
#ifndef OVIO_BENCH_H
#define OVIO_BENCH_H

#include <stdbool.h>

#include "ovio.h"

/*
 * Runs `ovio bench` with the arguments that follow "bench" (its own
 * options and the remote file).  endpoint (NULL: the default) and json are
 * ovio's global options given before the command.  Called from the CLI's
 * main thread; blocks for the run.  Returns the exit status: 0, 1 (an
 * operation failed), 2 (bad usage), 4 (REMOTE leaves the root), 5 (cannot
 * reach oviod).
 */
int ovio__cmd_bench(const char *endpoint, const ovio_connect_options *conn,
    bool json, int argc, char **argv);

#endif
