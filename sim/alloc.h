/* alloc: the one checked allocation wrapper.
 *
 * Array sizes are overflow-checked; every result is checked by the caller (NULL = out of
 * memory).  A test hook can make the n-th allocation fail to exercise cleanup paths. */
#ifndef STEPSIM_ALLOC_H
#define STEPSIM_ALLOC_H

#include <stddef.h>

/* Zeroed array of n elements of `size` bytes; NULL on overflow or exhaustion. */
void *mem_calloc(size_t n, size_t size);
/* Uninitialised array of n elements, for one its user writes before reading each element
 * (zeroing a large array that is filled anyway costs more than the fill); NULL on overflow
 * or exhaustion. */
void *mem_array(size_t n, size_t size);
/* Resize `p` to n elements; NULL on overflow or exhaustion (p is then untouched). */
void *mem_realloc(void *p, size_t n, size_t size);
/* Room for element `n` of an array of *cap (doubling, from 64): `p` itself while n < *cap,
 * else the grown array with *cap updated; NULL on overflow or exhaustion (p is then
 * untouched). */
void *mem_grow(void *p, size_t n, size_t *cap, size_t size);
void mem_free(void *p);

/* Testing: fail the allocation `countdown` calls from now (0 disables). Not thread-safe; tests
 * only. */
void mem_fail_after(long countdown);

#endif
