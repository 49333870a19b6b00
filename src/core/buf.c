/*
 * buf.c - bounded growable byte buffers (see gm/buf.h).
 *
 * Capacity grows by doubling; one byte beyond len is kept for a NUL.
 */
#include "internal.h"

#include "gm/buf.h"

void gm_buf_init(struct gm_buf *b, size_t limit)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->limit = limit;
}

void gm_buf_release(struct gm_buf *b)
{
	gm_free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void gm_buf_reset(struct gm_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

gm_err gm_buf_reserve(struct gm_buf *b, size_t extra)
{
	size_t need, cap;
	uint8_t *p;

	if (extra > b->limit || b->len > b->limit - extra)
		return GM_ELIMIT;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return GM_OK;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->limit + 1)
		cap = b->limit + 1;
	p = gm_realloc(b->data, cap);
	if (!p)
		return GM_ENOMEM;
	b->data = p;
	b->cap = cap;
	return GM_OK;
}

gm_err gm_buf_append(struct gm_buf *b, const void *p, size_t n)
{
	gm_err e = gm_buf_reserve(b, n);

	if (e)
		return e;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return GM_OK;
}

gm_err gm_buf_append_byte(struct gm_buf *b, uint8_t c)
{
	return gm_buf_append(b, &c, 1);
}

gm_err gm_buf_append_str(struct gm_buf *b, const char *s)
{
	return gm_buf_append(b, s, strlen(s));
}

gm_err gm_buf_printf(struct gm_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	gm_err e;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return GM_EINVAL;
	e = gm_buf_reserve(b, (size_t)n);
	if (e)
		return e;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return GM_OK;
}

uint8_t *gm_buf_steal(struct gm_buf *b, size_t *len)
{
	uint8_t *p = b->data;

	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}
