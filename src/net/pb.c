/*
 * pb.c - canonical protobuf writer and bounded reader (see gm/pb.h).
 *
 * A field is a key followed by a value:
 *
 *   | part  | encoding                                             |
 *   |-------|------------------------------------------------------|
 *   | key   | varint (field number << 3) | wire type               |
 *   | value | varint / 8 bytes LE / varint length + bytes / 4 LE   |
 *
 * The writer always emits minimal varints (gm_varint_encode); the reader
 * has its own varint decoder because protobuf varints carry full 64-bit
 * values in up to 10 bytes and may be non-minimal, both of which
 * gm_varint_decode refuses.
 */
#include "internal.h"

#include "gm/pb.h"
#include "gm/varint.h"

#define PB_VARINT_MAX 10

gm_err gm_pb_put_raw_uvarint(struct gm_buf *b, uint64_t v)
{
	uint8_t tmp[GM_VARINT_MAX];
	size_t n = gm_varint_encode(v, tmp);

	return gm_buf_append(b, tmp, n);
}

static gm_err put_key(struct gm_buf *b, uint32_t field, enum gm_pb_wire wire)
{
	if (field == 0 || field > GM_PB_MAX_FIELD)
		return GM_EINVAL;
	return gm_pb_put_raw_uvarint(b, ((uint64_t)field << 3) | wire);
}

gm_err gm_pb_put_uvarint(struct gm_buf *b, uint32_t field, uint64_t v)
{
	gm_err e = put_key(b, field, GM_PB_VARINT);

	if (e)
		return e;
	return gm_pb_put_raw_uvarint(b, v);
}

gm_err gm_pb_put_bytes(struct gm_buf *b, uint32_t field, const void *p,
		       size_t n)
{
	gm_err e = put_key(b, field, GM_PB_LEN);

	if (e)
		return e;
	e = gm_pb_put_raw_uvarint(b, n);
	if (e)
		return e;
	return gm_buf_append(b, p, n);
}

gm_err gm_pb_put_string(struct gm_buf *b, uint32_t field, const char *s)
{
	return gm_pb_put_bytes(b, field, s, strlen(s));
}

gm_err gm_pb_put_message(struct gm_buf *b, uint32_t field,
			 const struct gm_buf *sub)
{
	return gm_pb_put_bytes(b, field, sub->data, sub->len);
}

gm_err gm_pb_put_fixed64(struct gm_buf *b, uint32_t field, uint64_t v)
{
	uint8_t tmp[8];
	gm_err e = put_key(b, field, GM_PB_FIXED64);
	int i;

	if (e)
		return e;
	for (i = 0; i < 8; i++)
		tmp[i] = (uint8_t)(v >> (8 * i));
	return gm_buf_append(b, tmp, sizeof(tmp));
}

gm_err gm_pb_read_uvarint(const uint8_t *p, size_t len, uint64_t *v,
			  size_t *used)
{
	uint64_t r = 0;
	size_t i;

	for (i = 0; i < len && i < PB_VARINT_MAX; i++) {
		uint8_t c = p[i];

		/* The tenth byte holds only bit 63. */
		if (i == PB_VARINT_MAX - 1 && c > 1)
			return GM_EFORMAT;
		r |= (uint64_t)(c & 0x7f) << (7 * i);
		if (!(c & 0x80)) {
			*v = r;
			*used = i + 1;
			return GM_OK;
		}
	}
	return GM_EFORMAT;
}

void gm_pb_reader_init(struct gm_pb_reader *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
}

bool gm_pb_reader_more(const struct gm_pb_reader *r)
{
	return r->off < r->len;
}

static uint64_t read_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

gm_err gm_pb_next(struct gm_pb_reader *r, struct gm_pb_field *f,
		  struct gm_diag *d)
{
	size_t off = r->off, used;
	uint64_t key, v;
	unsigned wire;

	if (off >= r->len)
		return gm_diag_set(d, GM_EFORMAT,
				   "protobuf: no field left at offset %zu",
				   off);
	if (gm_pb_read_uvarint(r->p + off, r->len - off, &key, &used))
		return gm_diag_set(d, GM_EFORMAT,
				   "protobuf: truncated or overlong field key "
				   "at offset %zu",
				   off);
	off += used;
	if (key >> 3 == 0 || key >> 3 > GM_PB_MAX_FIELD)
		return gm_diag_set(d, GM_EFORMAT,
				   "protobuf: invalid field number %" PRIu64
				   " at offset %zu",
				   key >> 3, r->off);
	wire = (unsigned)(key & 7);
	memset(f, 0, sizeof(*f));
	f->field = (uint32_t)(key >> 3);
	f->offset = r->off;
	switch (wire) {
	case GM_PB_VARINT:
		if (gm_pb_read_uvarint(r->p + off, r->len - off, &v, &used))
			return gm_diag_set(d, GM_EFORMAT,
					   "protobuf: field %" PRIu32
					   ": truncated or overlong varint "
					   "at offset %zu",
					   f->field, off);
		f->u = v;
		off += used;
		break;
	case GM_PB_FIXED64:
	case GM_PB_FIXED32: {
		unsigned n = wire == GM_PB_FIXED64 ? 8 : 4;

		if ((uint64_t)off + n > r->len)
			return gm_diag_set(d, GM_EFORMAT,
					   "protobuf: field %" PRIu32
					   ": truncated fixed%u value at "
					   "offset %zu",
					   f->field, n * 8, off);
		f->u = read_le(r->p + off, n);
		off += n;
		break;
	}
	case GM_PB_LEN:
		if (gm_pb_read_uvarint(r->p + off, r->len - off, &v, &used))
			return gm_diag_set(d, GM_EFORMAT,
					   "protobuf: field %" PRIu32
					   ": truncated or overlong length "
					   "at offset %zu",
					   f->field, off);
		off += used;
		if (v > r->len - off)
			return gm_diag_set(d, GM_EFORMAT,
					   "protobuf: field %" PRIu32
					   ": length %" PRIu64
					   " runs past the end (%zu bytes "
					   "left)",
					   f->field, v, r->len - off);
		f->bytes = r->p + off;
		f->len = (size_t)v;
		off += (size_t)v;
		break;
	default:
		return gm_diag_set(d, GM_EFORMAT,
				   "protobuf: field %" PRIu32
				   ": wire type %u is not supported%s",
				   f->field, wire,
				   wire == 3 || wire == 4 ? " (groups)" : "");
	}
	f->wire = (enum gm_pb_wire)wire;
	r->off = off;
	return GM_OK;
}
