/*
 * alloc.h - all allocation of the library goes through these functions.
 *
 * They wrap malloc/realloc/free with overflow-checked array helpers, and a
 * test hook: gm_alloc_fail_after(n) makes the n-th allocation from now (1 =
 * the next one) return NULL, so that every out-of-memory path can be run in
 * tests. Counting is per process and not thread safe; tests use it
 * single-threaded.
 */
#ifndef GM_ALLOC_H
#define GM_ALLOC_H

#include <stddef.h>

#include "gm/gm.h"

GM_EXTERN void *gm_malloc(size_t size);
GM_EXTERN void *gm_calloc(size_t nmemb, size_t size);
GM_EXTERN void *gm_realloc(void *ptr, size_t size);
/* realloc of an array of nmemb elements of size bytes, NULL on overflow. */
GM_EXTERN void *gm_reallocarray(void *ptr, size_t nmemb, size_t size);
GM_EXTERN void gm_free(void *ptr);
/* Copy of a string of len bytes, NUL terminated; NULL on failure. */
GM_EXTERN char *gm_strndup(const char *s, size_t len);
GM_EXTERN char *gm_strdup(const char *s);

/*
 * Test hook: the n-th allocation from now fails (n >= 1); 0 disables.
 * gm_alloc_count() returns the number of allocations made since the process
 * started, which a test uses to find how many allocation points a call has.
 */
GM_EXTERN void gm_alloc_fail_after(unsigned long n);
GM_EXTERN unsigned long gm_alloc_count(void);

#endif
