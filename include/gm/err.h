/*
 * err.h - the one error enum of the library, and diagnostics.
 *
 * Every action returns gm_err (GM_OK is 0). The enum, its names, its messages
 * and the exit class of each code are generated from the single table
 * GM_ERR_MAP below. Detail for the user (which file, which line, which field,
 * what to try next) goes into a struct gm_diag that the caller may pass (NULL
 * is always accepted).
 *
 * Exit classes follow THREATS.md: 0 success, 1 operational error, 2 usage
 * error, 3 security refusal.
 */
#ifndef GM_ERR_H
#define GM_ERR_H

#include <stddef.h>
#include <stdint.h>

/* X(name, exit class, message) */
#define GM_ERR_MAP(X)                                                        \
	X(OK, 0, "success")                                                  \
	X(ENOMEM, 1, "out of memory")                                        \
	X(EINVAL, 2, "invalid argument")                                     \
	X(EUSAGE, 2, "usage error")                                          \
	X(EIO, 1, "input/output error")                                      \
	X(ENOENT, 1, "not found")                                            \
	X(EEXIST, 1, "already exists")                                       \
	X(EPERM, 1, "permission denied")                                     \
	X(ENOSPC, 1, "no space left on device")                              \
	X(ELIMIT, 1, "limit exceeded")                                       \
	X(EPARSE, 1, "syntax error")                                         \
	X(EFORMAT, 1, "malformed data")                                      \
	X(EUNSUPPORTED, 1, "unsupported")                                    \
	X(ECONFLICT, 1, "conflict")                                          \
	X(ECORRUPT, 1, "corrupted data")                                     \
	X(ETIMEOUT, 1, "timed out")                                          \
	X(ENET, 1, "network error")                                          \
	X(EPROTO, 1, "protocol error")                                       \
	X(EINTEGRITY, 3, "integrity check failed")                           \
	X(EUNSAFE, 3, "unsafe content refused")                              \
	X(ESIGNATURE, 3, "signature check failed")                           \
	X(ETRUST, 3, "untrusted publisher")

typedef enum {
#define GM__ERR_ENUM(name, cls, msg) GM_##name,
	GM_ERR_MAP(GM__ERR_ENUM)
#undef GM__ERR_ENUM
	GM__ERR_COUNT
} gm_err;

#include "gm/gm.h"

/* Message for an error code; never NULL. */
GM_EXTERN const char *gm_strerror(gm_err e);
/* Symbolic name ("EINTEGRITY"); never NULL. */
GM_EXTERN const char *gm_errname(gm_err e);
/* Process exit status for an error: 0, 1, 2 or 3. */
GM_EXTERN int gm_err_exit_code(gm_err e);
/* Turns an errno value into the matching gm_err (at the system boundary). */
GM_EXTERN gm_err gm_err_from_errno(int errnum);

/*
 * Diagnostic detail. msg holds one human sentence (what was wrong and what to
 * do); line and column are 1-based positions in a text input, 0 when unknown.
 */
#define GM_DIAG_MAX 512
struct gm_diag {
	char msg[GM_DIAG_MAX];
	uint32_t line;
	uint32_t column;
};

/* Clears a diagnostic (accepts NULL). */
GM_EXTERN void gm_diag_clear(struct gm_diag *d);
/*
 * Sets the message (printf style) of d, if d is not NULL, and returns e so a
 * caller can write `return gm_diag_set(d, GM_EPARSE, "...")`. Does not touch
 * line/column.
 */
GM_EXTERN gm_err gm_diag_set(struct gm_diag *d, gm_err e, const char *fmt, ...)
	GM_PRINTF(3, 4);
/* As gm_diag_set, also recording a position. */
GM_EXTERN gm_err gm_diag_set_at(struct gm_diag *d, gm_err e, uint32_t line,
				uint32_t column, const char *fmt, ...)
	GM_PRINTF(5, 6);

#endif
