/*
 * varint.h - unsigned LEB128 varints as used by multiformats.
 *
 * Multiformats restrict varints to 9 bytes (63 bits) and require the
 * minimal encoding; the decoder refuses anything else with GM_EFORMAT.
 */
#ifndef GM_VARINT_H
#define GM_VARINT_H

#include "gm/gm.h"

#define GM_VARINT_MAX 10

/* Writes v to out, returns the number of bytes written (1..10). */
GM_EXTERN size_t gm_varint_encode(uint64_t v, uint8_t out[GM_VARINT_MAX]);
/* Number of bytes gm_varint_encode would write. */
GM_EXTERN size_t gm_varint_size(uint64_t v);
/*
 * Reads a varint from p[0..len). On success stores the value and the number
 * of bytes consumed. GM_EFORMAT if truncated, longer than 9 bytes or not
 * minimally encoded.
 */
GM_EXTERN gm_err gm_varint_decode(const uint8_t *p, size_t len, uint64_t *v,
				  size_t *used);

#endif
