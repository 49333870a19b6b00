/*
 * log.c - leveled logging to stderr, level from GGEN_LOG (see gm/log.h).
 */
#include "internal.h"

#include "gm/log.h"

static int log_level = -1;

static void log_init(void)
{
	const char *v = getenv("GGEN_LOG");

	log_level = GM_LOG_WARN;
	if (!v)
		return;
	if (!strcmp(v, "error"))
		log_level = GM_LOG_ERROR;
	else if (!strcmp(v, "info"))
		log_level = GM_LOG_INFO;
	else if (!strcmp(v, "debug") || !strcmp(v, "trace"))
		log_level = GM_LOG_DEBUG;
}

bool gm_log_enabled(enum gm_log_level level)
{
	if (log_level < 0)
		log_init();
	return (int)level <= log_level;
}

void gm_log_set_level(enum gm_log_level level)
{
	log_level = (int)level;
}

void gm_log(enum gm_log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	char line[1024];
	va_list ap;

	if (!gm_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ggen: %s: %s\n", names[level], line);
}
