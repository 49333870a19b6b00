/*
 * gm.h - common definitions for libggen-marketplace.
 *
 * Every public header includes this one. It defines the export macro, the
 * library version and pulls in the error and allocation interfaces that every
 * module uses.
 */
#ifndef GM_GM_H
#define GM_GM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define GM_EXTERN __attribute__((visibility("default")))
#define GM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define GM_EXTERN
#define GM_PRINTF(f, a)
#endif

#define GM_VERSION_STRING "0.1.0"

#include "gm/err.h"
#include "gm/alloc.h"

#endif
