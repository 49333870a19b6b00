/*
 * log.h - leveled logging to stderr.
 *
 * The level comes from the environment variable GGEN_LOG (error, warn, info,
 * debug; default warn), read once on first use. Messages go to stderr as
 * "ggen: <level>: <message>".
 */
#ifndef GM_LOG_H
#define GM_LOG_H

#include "gm/gm.h"

enum gm_log_level {
	GM_LOG_ERROR = 0,
	GM_LOG_WARN = 1,
	GM_LOG_INFO = 2,
	GM_LOG_DEBUG = 3,
};

GM_EXTERN bool gm_log_enabled(enum gm_log_level level);
GM_EXTERN void gm_log(enum gm_log_level level, const char *fmt, ...)
	GM_PRINTF(2, 3);
/* Overrides the level (tests). */
GM_EXTERN void gm_log_set_level(enum gm_log_level level);

#define gm_debug(...) gm_log(GM_LOG_DEBUG, __VA_ARGS__)
#define gm_info(...) gm_log(GM_LOG_INFO, __VA_ARGS__)
#define gm_warn(...) gm_log(GM_LOG_WARN, __VA_ARGS__)

#endif
