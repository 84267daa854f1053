/* alloc: overflow-checked allocation with a failure-injection hook for tests. */
#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>

static long fail_countdown; /* test hook only; 0 = never fail */

static int should_fail(void)
{
    if (fail_countdown <= 0)
        return 0;
    return --fail_countdown == 0;
}

void *mem_calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    if (should_fail())
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *mem_array(size_t n, size_t size) { return mem_realloc(NULL, n, size); }

void *mem_realloc(void *p, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    if (should_fail())
        return NULL;
    size_t bytes = n * size;
    return realloc(p, bytes ? bytes : 1);
}

void *mem_grow(void *p, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return p;
    size_t want = *cap ? 2 * *cap : 64;
    void *q = mem_realloc(p, want, size);
    if (q)
        *cap = want;
    return q;
}

void mem_free(void *p)
{
    free(p);
}

void mem_fail_after(long countdown)
{
    fail_countdown = countdown;
}
