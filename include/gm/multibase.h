/*
 * multibase.h - text encodings of binary data, with and without the
 * multibase prefix character.
 *
 *   | prefix | encoding                                   |
 *   |--------|--------------------------------------------|
 *   | 'b'    | base32, RFC 4648 lower case, no padding    |
 *   | 'B'    | base32, RFC 4648 upper case, no padding    |
 *   | 'z'    | base58btc (bitcoin alphabet)               |
 *   | 'f'    | base16 (hex), lower case                   |
 *   | 'F'    | base16 (hex), upper case                   |
 *
 * Decoders are strict: a character outside the alphabet (of the exact case
 * the prefix names), an impossible base32 or base16 length, or non-zero
 * base32 padding bits are GM_EFORMAT, so every byte string has exactly one
 * text form per base. In base58btc each leading '1' stands for one zero
 * byte.
 *
 * Encoders write a NUL terminated string into a caller buffer of cap bytes
 * (the NUL included) and return GM_ELIMIT, writing nothing useful, when cap
 * is too small. Decoders write at most cap bytes and return GM_ELIMIT when
 * the result would not fit. Output lengths go to *out_len (may be NULL).
 */
#ifndef GM_MULTIBASE_H
#define GM_MULTIBASE_H

#include "gm/gm.h"

enum gm_multibase {
	GM_MULTIBASE_BASE16 = 'f',
	GM_MULTIBASE_BASE16_UPPER = 'F',
	GM_MULTIBASE_BASE32 = 'b',
	GM_MULTIBASE_BASE32_UPPER = 'B',
	GM_MULTIBASE_BASE58BTC = 'z',
};

/* Characters (without NUL) of the base32 form of n bytes: ceil(8n / 5). */
GM_EXTERN size_t gm_base32_encoded_len(size_t n);

/* Lower-case base32 of p[0..n), no padding, no prefix. */
GM_EXTERN gm_err gm_base32_encode(const uint8_t *p, size_t n, char *out,
				  size_t cap, size_t *out_len);
/* Decodes lower-case unpadded base32 s[0..len) (no prefix). */
GM_EXTERN gm_err gm_base32_decode(const char *s, size_t len, uint8_t *out,
				  size_t cap, size_t *out_len,
				  struct gm_diag *d);

/* base58btc of p[0..n), no prefix. Quadratic: meant for short inputs. */
GM_EXTERN gm_err gm_base58btc_encode(const uint8_t *p, size_t n, char *out,
				     size_t cap, size_t *out_len);
/* Decodes base58btc s[0..len) (no prefix); leading '1's are zero bytes. */
GM_EXTERN gm_err gm_base58btc_decode(const char *s, size_t len, uint8_t *out,
				     size_t cap, size_t *out_len,
				     struct gm_diag *d);

/*
 * Encodes p[0..n) in base, with the prefix character first.
 * GM_EUNSUPPORTED for a base not in the table above.
 */
GM_EXTERN gm_err gm_multibase_encode(enum gm_multibase base, const uint8_t *p,
				     size_t n, char *out, size_t cap,
				     size_t *out_len);
/*
 * Decodes multibase text s[0..len), dispatching on its first character;
 * the base found goes to *base (may be NULL). GM_EFORMAT for empty text or a
 * bad character (the diagnostic names it and its offset in s),
 * GM_EUNSUPPORTED for an unknown prefix, GM_ELIMIT when out is too small.
 */
GM_EXTERN gm_err gm_multibase_decode(const char *s, size_t len,
				     enum gm_multibase *base, uint8_t *out,
				     size_t cap, size_t *out_len,
				     struct gm_diag *d);

#endif
