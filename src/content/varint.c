/*
 * varint.c - unsigned LEB128 varints, multiformats flavour (see gm/varint.h).
 *
 * Seven value bits per byte, least significant group first; the high bit
 * says another byte follows:
 *
 *   | value          | bytes    |
 *   |----------------|----------|
 *   | 1              | 01       |
 *   | 127            | 7f       |
 *   | 128            | 80 01    |
 *   | 300            | ac 02    |
 *   | 16384          | 80 80 01 |
 *
 * The decoder accepts at most 9 bytes (63 value bits) and only the minimal
 * form: a multi-byte varint whose last byte is 0 is refused.
 */
#include "internal.h"

#include "gm/varint.h"

/* Multiformats unsigned-varint: at most 9 bytes on input. */
#define VARINT_MAX_DECODE 9

size_t gm_varint_encode(uint64_t v, uint8_t out[GM_VARINT_MAX])
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

size_t gm_varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

gm_err gm_varint_decode(const uint8_t *p, size_t len, uint64_t *v, size_t *used)
{
	uint64_t r = 0;
	size_t i;

	for (i = 0; i < len && i < VARINT_MAX_DECODE; i++) {
		uint8_t b = p[i];

		r |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			if (b == 0 && i > 0)
				return GM_EFORMAT; /* not minimal */
			*v = r;
			if (used)
				*used = i + 1;
			return GM_OK;
		}
	}
	/* Truncated, or a tenth byte would be needed. */
	return GM_EFORMAT;
}
