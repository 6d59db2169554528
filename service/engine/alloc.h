/*
 * alloc.h - the engine's allocations, with a fault seam (alloc.c).
 *
 * Every allocation the engine makes while serving (op records, sessions,
 * handles, timers, reply-cache entries, listings) goes through these, so a
 * test can make them fail and see that each failure is answered (ENOMEM,
 * or the request runs without the cache) and the service keeps serving.
 * Start-up allocations (the engine object itself) do not.
 */
#ifndef OVIO_ALLOC_H
#define OVIO_ALLOC_H

#include <stddef.h>

/* As calloc, malloc and realloc; NULL when the seam says so.  Any thread. */
void *ovio__calloc(size_t n, size_t size);
void *ovio__malloc(size_t size);
void *ovio__realloc(void *p, size_t size);

/*
 * Fault seam for tests (OVIO_TEST_FAIL_ALLOCS in oviod): from now on every
 * nth allocation fails (0: none).  Process-wide, since allocation is.
 */
void ovio__alloc_fail_every(unsigned n);

#endif
