/*
 * pb.h - a small canonical protobuf codec for libp2p messages.
 *
 * Writer: the caller appends fields to a struct gm_buf in tag order; every
 * varint is minimal, so the same values always give the same bytes (the
 * deterministic encoding libp2p signs over). A nested message is built in
 * its own gm_buf and appended with gm_pb_put_message().
 *
 * Reader: a bounded cursor over p[0..len) that yields one field at a time.
 *
 *   | wire type | name    | value                                  |
 *   |-----------|---------|----------------------------------------|
 *   | 0         | varint  | up to 10 bytes, full 64 bits           |
 *   | 1         | fixed64 | 8 bytes little endian                  |
 *   | 2         | length  | varint length, then that many bytes    |
 *   | 3, 4      | groups  | refused (GM_EFORMAT)                   |
 *   | 5         | fixed32 | 4 bytes little endian                  |
 *
 * The reader accepts non-minimal varints (protobuf allows them) but refuses
 * truncated input, varints longer than 10 bytes or beyond 64 bits, field
 * number 0 or above 2^29-1, and lengths past the end of the input.
 */
#ifndef GM_PB_H
#define GM_PB_H

#include "gm/gm.h"
#include "gm/buf.h"

enum gm_pb_wire {
	GM_PB_VARINT = 0,
	GM_PB_FIXED64 = 1,
	GM_PB_LEN = 2,
	GM_PB_FIXED32 = 5,
};

/* Largest field number protobuf allows. */
#define GM_PB_MAX_FIELD 0x1fffffffu

/*
 * Appends field/varint v. GM_EINVAL for a field number of 0 or above
 * GM_PB_MAX_FIELD; GM_ENOMEM or GM_ELIMIT from the buffer (on error the
 * buffer may hold part of the field: callers discard it).
 */
GM_EXTERN gm_err gm_pb_put_uvarint(struct gm_buf *b, uint32_t field,
				   uint64_t v);
/* Appends a length-delimited field holding p[0..n) (n may be 0). */
GM_EXTERN gm_err gm_pb_put_bytes(struct gm_buf *b, uint32_t field,
				 const void *p, size_t n);
/* Appends a length-delimited field holding the NUL terminated string s. */
GM_EXTERN gm_err gm_pb_put_string(struct gm_buf *b, uint32_t field,
				  const char *s);
/* Appends a nested message: a length-delimited field holding sub's bytes. */
GM_EXTERN gm_err gm_pb_put_message(struct gm_buf *b, uint32_t field,
				   const struct gm_buf *sub);
/* Appends a fixed64 field (8 bytes little endian). */
GM_EXTERN gm_err gm_pb_put_fixed64(struct gm_buf *b, uint32_t field,
				   uint64_t v);
/* Appends a bare minimal varint (e.g. the length prefix of a frame). */
GM_EXTERN gm_err gm_pb_put_raw_uvarint(struct gm_buf *b, uint64_t v);

/*
 * Reads a protobuf varint from p[0..len): up to 10 bytes, non-minimal forms
 * accepted, values beyond 64 bits refused. Stores the value and the number
 * of bytes used. GM_EFORMAT when truncated, too long or overflowing.
 */
GM_EXTERN gm_err gm_pb_read_uvarint(const uint8_t *p, size_t len, uint64_t *v,
				    size_t *used);

/* Reader cursor; p is borrowed and must outlive the reader. */
struct gm_pb_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
};

/*
 * One field. For GM_PB_VARINT, GM_PB_FIXED64 and GM_PB_FIXED32 the value is
 * in u; for GM_PB_LEN, bytes/len view the payload inside the reader's input
 * (no copy). offset is where the field's key starts in the input.
 */
struct gm_pb_field {
	uint32_t field;
	enum gm_pb_wire wire;
	uint64_t u;
	const uint8_t *bytes;
	size_t len;
	size_t offset;
};

/* Starts reading p[0..len). */
GM_EXTERN void gm_pb_reader_init(struct gm_pb_reader *r, const uint8_t *p,
				 size_t len);
/* True while input is left to read. */
GM_EXTERN bool gm_pb_reader_more(const struct gm_pb_reader *r);
/*
 * Reads the next field into f and advances. Call only while
 * gm_pb_reader_more(). GM_EFORMAT with a diagnostic naming the offset and
 * the problem for malformed input; the reader is then left where it was.
 */
GM_EXTERN gm_err gm_pb_next(struct gm_pb_reader *r, struct gm_pb_field *f,
			    struct gm_diag *d);

#endif
