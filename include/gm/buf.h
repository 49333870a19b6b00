/*
 * buf.h - growable byte buffers with a hard limit.
 *
 * A struct gm_buf is a value: the caller owns it, gm_buf_init() sets it up
 * with a maximum size and gm_buf_release() frees its memory. Growing past the
 * limit returns GM_ELIMIT and leaves the buffer unchanged, so anything read
 * from a file, a peer or a plugin can never make the process allocate more
 * than the limit. data is always NUL terminated (one byte beyond len) once
 * anything was appended, so text can be handed to C string functions, but
 * parsers must use len.
 */
#ifndef GM_BUF_H
#define GM_BUF_H

#include "gm/gm.h"

struct gm_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t limit;
};

#define GM_BUF_UNLIMITED ((size_t)-1 / 2)

GM_EXTERN void gm_buf_init(struct gm_buf *b, size_t limit);
GM_EXTERN void gm_buf_release(struct gm_buf *b);
/* Sets len to 0, keeps the memory. */
GM_EXTERN void gm_buf_reset(struct gm_buf *b);
/* Makes room for at least extra more bytes. */
GM_EXTERN gm_err gm_buf_reserve(struct gm_buf *b, size_t extra);
GM_EXTERN gm_err gm_buf_append(struct gm_buf *b, const void *p, size_t n);
GM_EXTERN gm_err gm_buf_append_byte(struct gm_buf *b, uint8_t c);
GM_EXTERN gm_err gm_buf_append_str(struct gm_buf *b, const char *s);
GM_EXTERN gm_err gm_buf_printf(struct gm_buf *b, const char *fmt, ...)
	GM_PRINTF(2, 3);
/* Transfers the memory to the caller (gm_free it); the buffer is emptied. */
GM_EXTERN uint8_t *gm_buf_steal(struct gm_buf *b, size_t *len);

#endif
