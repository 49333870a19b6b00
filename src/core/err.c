/*
 * err.c - gm_err names, messages and exit classes, generated from
 * GM_ERR_MAP, and struct gm_diag helpers.
 */
#include "internal.h"

#include "gm/err.h"

struct err_info {
	const char *name;
	const char *msg;
	int exit_class;
};

static const struct err_info err_table[] = {
#define GM__ERR_ROW(name, cls, msg) {#name, msg, cls},
	GM_ERR_MAP(GM__ERR_ROW)
#undef GM__ERR_ROW
};

const char *gm_strerror(gm_err e)
{
	if ((unsigned)e >= GM_ARRAY_LEN(err_table))
		return "unknown error";
	return err_table[e].msg;
}

const char *gm_errname(gm_err e)
{
	if ((unsigned)e >= GM_ARRAY_LEN(err_table))
		return "EUNKNOWN";
	return err_table[e].name;
}

int gm_err_exit_code(gm_err e)
{
	if ((unsigned)e >= GM_ARRAY_LEN(err_table))
		return 1;
	return err_table[e].exit_class;
}

gm_err gm_err_from_errno(int errnum)
{
	switch (errnum) {
	case 0:
		return GM_OK;
	case ENOMEM:
		return GM_ENOMEM;
	case ENOENT:
	case ENOTDIR:
		return GM_ENOENT;
	case EEXIST:
	case ENOTEMPTY:
		return GM_EEXIST;
	case EACCES:
	case EPERM:
	case EROFS:
		return GM_EPERM;
	case ENOSPC:
	case EDQUOT:
		return GM_ENOSPC;
	case EINVAL:
		return GM_EINVAL;
	case ETIMEDOUT:
		return GM_ETIMEOUT;
	case EFBIG:
	case ENAMETOOLONG:
	case ELOOP:
	case EMFILE:
	case ENFILE:
		return GM_ELIMIT;
	default:
		return GM_EIO;
	}
}

void gm_diag_clear(struct gm_diag *d)
{
	if (!d)
		return;
	d->msg[0] = '\0';
	d->line = 0;
	d->column = 0;
}

gm_err gm_diag_set(struct gm_diag *d, gm_err e, const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return e;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return e;
}

gm_err gm_diag_set_at(struct gm_diag *d, gm_err e, uint32_t line,
		      uint32_t column, const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return e;
	d->line = line;
	d->column = column;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return e;
}

void gm__assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "ggen: internal error: assertion '%s' failed at %s:%d\n",
		expr, file, line);
	abort();
}
