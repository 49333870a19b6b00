/*
 * internal.h - included first by every .c file of the library and tools.
 *
 * Pulls in the system headers the code base uses, then banned.h, so that the
 * banned functions are compile errors everywhere but in the system headers'
 * own declarations. Also holds the small internal helpers (GM_ASSERT,
 * GM_ARRAY_LEN) shared by all layers.
 */
#ifndef GM_INTERNAL_H
#define GM_INTERNAL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "gm/gm.h"

#include "banned.h"

#define GM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Asserts internal invariants only; never input. */
#ifdef NDEBUG
#define GM_ASSERT(x) ((void)0)
#else
#define GM_ASSERT(x)                                                          \
	((x) ? (void)0 : gm__assert_fail(#x, __FILE__, __LINE__))
#endif
void gm__assert_fail(const char *expr, const char *file, int line)
	__attribute__((noreturn));

#endif
