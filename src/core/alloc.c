/*
 * alloc.c - the library's allocator with its fail-the-Nth test hook.
 */
#include "internal.h"

#include "gm/alloc.h"

static unsigned long alloc_count;
static unsigned long fail_at; /* absolute count at which to fail; 0 = never */

void gm_alloc_fail_after(unsigned long n)
{
	fail_at = n ? alloc_count + n : 0;
}

unsigned long gm_alloc_count(void)
{
	return alloc_count;
}

static bool should_fail(void)
{
	alloc_count++;
	if (fail_at && alloc_count == fail_at) {
		fail_at = 0;
		return true;
	}
	return false;
}

void *gm_malloc(size_t size)
{
	if (should_fail())
		return NULL;
	return malloc(size ? size : 1);
}

void *gm_calloc(size_t nmemb, size_t size)
{
	if (should_fail())
		return NULL;
	if (nmemb == 0 || size == 0)
		return calloc(1, 1);
	return calloc(nmemb, size);
}

void *gm_realloc(void *ptr, size_t size)
{
	if (should_fail())
		return NULL;
	return realloc(ptr, size ? size : 1);
}

void *gm_reallocarray(void *ptr, size_t nmemb, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(nmemb, size, &total))
		return NULL;
	return gm_realloc(ptr, total);
}

void gm_free(void *ptr)
{
	free(ptr);
}

char *gm_strndup(const char *s, size_t len)
{
	char *p;

	if (len == SIZE_MAX)
		return NULL;
	p = gm_malloc(len + 1);
	if (!p)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *gm_strdup(const char *s)
{
	return gm_strndup(s, strlen(s));
}
