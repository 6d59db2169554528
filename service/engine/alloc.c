/* alloc.c - the engine's allocations and their fault seam; see alloc.h. */
#include <stdlib.h>

#include "alloc.h"

static unsigned alloc_every; /* the seam: 0, or fail every nth */
static unsigned alloc_count;

static int
alloc_fails(void)
{
	unsigned every = __atomic_load_n(&alloc_every, __ATOMIC_RELAXED);

	return (every != 0
	        && __atomic_add_fetch(&alloc_count, 1, __ATOMIC_RELAXED) % every
	               == 0);
}

void *
ovio__calloc(size_t n, size_t size)
{
	return (alloc_fails() ? NULL : calloc(n, size));
}

void *
ovio__malloc(size_t size)
{
	return (alloc_fails() ? NULL : malloc(size));
}

void *
ovio__realloc(void *p, size_t size)
{
	return (alloc_fails() ? NULL : realloc(p, size));
}

void
ovio__alloc_fail_every(unsigned n)
{
	__atomic_store_n(&alloc_every, n, __ATOMIC_RELAXED);
}
