/*
 * multibase.c - base16, base32 and base58btc text encodings and the
 * multibase prefix dispatch (see gm/multibase.h).
 *
 *   | base      | alphabet                                                   |
 *   |-----------|------------------------------------------------------------|
 *   | base16    | 0-9 a-f (or A-F for 'F')                                   |
 *   | base32    | a-z 2-7 (or A-Z 2-7 for 'B'), RFC 4648, no padding        |
 *   | base58btc | 123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz |
 *
 * base16 and base32 pack bits most significant first (RFC 4648). A base32
 * text of len characters carries floor(5 len / 8) bytes; lengths with a
 * remainder of 1, 3 or 6 (mod 8) cannot occur, and the unused low bits of
 * the last character must be zero. base58btc reads the text as one big
 * number; both directions are quadratic, which is fine for CIDs and keys.
 */
#include "internal.h"

#include "gm/multibase.h"

static const char b32_lower[] = "abcdefghijklmnopqrstuvwxyz234567";
static const char b32_upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char b16_lower[] = "0123456789abcdef";
static const char b16_upper[] = "0123456789ABCDEF";
static const char b58_alpha[] =
    "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* How one character is shown in a diagnostic: 'x' or \xNN. */
static void char_repr(char c, char out[8])
{
	unsigned char u = (unsigned char)c;

	if (u >= 0x20 && u < 0x7f && u != '\'')
		snprintf(out, 8, "'%c'", c);
	else
		snprintf(out, 8, "\\x%02x", u);
}

static gm_err bad_char(struct gm_diag *d, const char *s, size_t i,
		       size_t base_off, const char *what)
{
	char r[8];

	char_repr(s[i], r);
	return gm_diag_set(d, GM_EFORMAT, "character %s is not %s (offset %zu)",
			   r, what, base_off + i);
}

/* Value of c in alphabet (of n characters), or -1. */
static int alpha_value(const char *alphabet, size_t n, char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = memchr(alphabet, c, n);
	return p ? (int)(p - alphabet) : -1;
}

size_t gm_base32_encoded_len(size_t n)
{
	return n / 5 * 8 + (n % 5 * 8 + 4) / 5;
}

/* RFC 4648 style encoding with bits (4 or 5) per character. */
static gm_err rfc4648_encode(const char *alphabet, unsigned bits,
			     const uint8_t *p, size_t n, char *out, size_t cap,
			     size_t *out_len)
{
	size_t need, i, o = 0;
	unsigned mask = (1u << bits) - 1, nbits = 0;
	uint32_t acc = 0;

	if (bits == 4)
		need = n * 2;
	else
		need = gm_base32_encoded_len(n);
	if (n > SIZE_MAX / 2 || need >= cap)
		return GM_ELIMIT;
	for (i = 0; i < n; i++) {
		acc = (acc << 8) | p[i];
		nbits += 8;
		while (nbits >= bits) {
			nbits -= bits;
			out[o++] = alphabet[(acc >> nbits) & mask];
		}
	}
	if (nbits)
		out[o++] = alphabet[(acc << (bits - nbits)) & mask];
	GM_ASSERT(o == need);
	out[o] = '\0';
	if (out_len)
		*out_len = o;
	return GM_OK;
}

static gm_err rfc4648_decode(const char *alphabet, unsigned bits,
			     const char *what, const char *s, size_t len,
			     size_t base_off, uint8_t *out, size_t cap,
			     size_t *out_len, struct gm_diag *d)
{
	size_t i, o = 0, n;
	unsigned nbits = 0;
	uint32_t acc = 0;

	/* Characters first, so a stray one is named before the length. */
	for (i = 0; i < len; i++)
		if (alpha_value(alphabet, (size_t)1 << bits, s[i]) < 0)
			return bad_char(d, s, i, base_off, what);
	if (bits == 4 && len % 2)
		return gm_diag_set(d, GM_EFORMAT,
				   "%s text has an odd length (%zu)", what,
				   len);
	if (bits == 5 && (len % 8 == 1 || len % 8 == 3 || len % 8 == 6))
		return gm_diag_set(d, GM_EFORMAT,
				   "%s text has an impossible length (%zu)",
				   what, len);
	if (len > SIZE_MAX / 8)
		return GM_ELIMIT;
	n = len * bits / 8;
	if (n > cap)
		return gm_diag_set(
		    d, GM_ELIMIT, "%s text decodes to %zu bytes, more than %zu",
		    what, n, cap);
	for (i = 0; i < len; i++) {
		int v = alpha_value(alphabet, (size_t)1 << bits, s[i]);

		acc = ((acc << bits) | (uint32_t)v) & 0xffff;
		nbits += bits;
		if (nbits >= 8) {
			nbits -= 8;
			out[o++] = (uint8_t)(acc >> nbits);
		}
	}
	if (acc & ((1u << nbits) - 1))
		return gm_diag_set(d, GM_EFORMAT,
				   "%s text ends with non-zero padding bits",
				   what);
	GM_ASSERT(o == n);
	if (out_len)
		*out_len = o;
	return GM_OK;
}

gm_err gm_base32_encode(const uint8_t *p, size_t n, char *out, size_t cap,
			size_t *out_len)
{
	return rfc4648_encode(b32_lower, 5, p, n, out, cap, out_len);
}

gm_err gm_base32_decode(const char *s, size_t len, uint8_t *out, size_t cap,
			size_t *out_len, struct gm_diag *d)
{
	return rfc4648_decode(b32_lower, 5, "base32", s, len, 0, out, cap,
			      out_len, d);
}

gm_err gm_base58btc_encode(const uint8_t *p, size_t n, char *out, size_t cap,
			   size_t *out_len)
{
	size_t zeros = 0, ndig = 0, i, j;

	while (zeros < n && p[zeros] == 0)
		zeros++;
	if (zeros >= cap)
		return GM_ELIMIT;
	/*
	 * Digits of the number p[zeros..n) in base 58, least significant
	 * first, kept in out after the leading '1's.
	 */
	for (i = zeros; i < n; i++) {
		uint32_t carry = p[i];

		for (j = 0; j < ndig; j++) {
			uint8_t *dig = (uint8_t *)&out[zeros + j];

			carry += (uint32_t)*dig << 8;
			*dig = (uint8_t)(carry % 58);
			carry /= 58;
		}
		while (carry) {
			if (zeros + ndig + 1 >= cap)
				return GM_ELIMIT;
			out[zeros + ndig++] = (char)(carry % 58);
			carry /= 58;
		}
	}
	for (i = 0; i < zeros; i++)
		out[i] = '1';
	/* Most significant digit first, mapped to the alphabet. */
	for (i = 0, j = ndig; i < j; i++, j--) {
		char t = out[zeros + i];

		out[zeros + i] = out[zeros + j - 1];
		out[zeros + j - 1] = t;
	}
	for (i = 0; i < ndig; i++)
		out[zeros + i] = b58_alpha[(uint8_t)out[zeros + i]];
	out[zeros + ndig] = '\0';
	if (out_len)
		*out_len = zeros + ndig;
	return GM_OK;
}

static gm_err b58_too_long(struct gm_diag *d, size_t cap)
{
	return gm_diag_set(
	    d, GM_ELIMIT, "base58btc text decodes to more than %zu bytes", cap);
}

static gm_err base58_decode_at(const char *s, size_t len, size_t base_off,
			       uint8_t *out, size_t cap, size_t *out_len,
			       struct gm_diag *d)
{
	size_t zeros = 0, nb = 0, i, j;

	while (zeros < len && s[zeros] == '1')
		zeros++;
	if (zeros > cap)
		return b58_too_long(d, cap);
	/* The number's bytes, least significant first, after the zeros. */
	for (i = zeros; i < len; i++) {
		int v = alpha_value(b58_alpha, 58, s[i]);
		uint32_t carry;

		if (v < 0)
			return bad_char(d, s, i, base_off, "base58btc");
		carry = (uint32_t)v;
		for (j = 0; j < nb; j++) {
			carry += (uint32_t)out[zeros + j] * 58;
			out[zeros + j] = (uint8_t)carry;
			carry >>= 8;
		}
		while (carry) {
			if (zeros + nb >= cap)
				return b58_too_long(d, cap);
			out[zeros + nb++] = (uint8_t)carry;
			carry >>= 8;
		}
	}
	memset(out, 0, zeros);
	for (i = 0, j = nb; i < j; i++, j--) {
		uint8_t t = out[zeros + i];

		out[zeros + i] = out[zeros + j - 1];
		out[zeros + j - 1] = t;
	}
	if (out_len)
		*out_len = zeros + nb;
	return GM_OK;
}

gm_err gm_base58btc_decode(const char *s, size_t len, uint8_t *out, size_t cap,
			   size_t *out_len, struct gm_diag *d)
{
	return base58_decode_at(s, len, 0, out, cap, out_len, d);
}

gm_err gm_multibase_encode(enum gm_multibase base, const uint8_t *p, size_t n,
			   char *out, size_t cap, size_t *out_len)
{
	gm_err e;
	size_t len = 0;

	if (cap < 2)
		return GM_ELIMIT;
	switch (base) {
	case GM_MULTIBASE_BASE16:
		e = rfc4648_encode(b16_lower, 4, p, n, out + 1, cap - 1, &len);
		break;
	case GM_MULTIBASE_BASE16_UPPER:
		e = rfc4648_encode(b16_upper, 4, p, n, out + 1, cap - 1, &len);
		break;
	case GM_MULTIBASE_BASE32:
		e = rfc4648_encode(b32_lower, 5, p, n, out + 1, cap - 1, &len);
		break;
	case GM_MULTIBASE_BASE32_UPPER:
		e = rfc4648_encode(b32_upper, 5, p, n, out + 1, cap - 1, &len);
		break;
	case GM_MULTIBASE_BASE58BTC:
		e = gm_base58btc_encode(p, n, out + 1, cap - 1, &len);
		break;
	default:
		return GM_EUNSUPPORTED;
	}
	if (e)
		return e;
	out[0] = (char)base;
	if (out_len)
		*out_len = len + 1;
	return GM_OK;
}

gm_err gm_multibase_decode(const char *s, size_t len, enum gm_multibase *base,
			   uint8_t *out, size_t cap, size_t *out_len,
			   struct gm_diag *d)
{
	char r[8];

	if (len == 0)
		return gm_diag_set(d, GM_EFORMAT,
				   "empty text has no multibase prefix");
	if (base)
		*base = (enum gm_multibase)s[0];
	switch (s[0]) {
	case GM_MULTIBASE_BASE16:
		return rfc4648_decode(b16_lower, 4, "base16 lower case", s + 1,
				      len - 1, 1, out, cap, out_len, d);
	case GM_MULTIBASE_BASE16_UPPER:
		return rfc4648_decode(b16_upper, 4, "base16 upper case", s + 1,
				      len - 1, 1, out, cap, out_len, d);
	case GM_MULTIBASE_BASE32:
		return rfc4648_decode(b32_lower, 5, "base32", s + 1, len - 1, 1,
				      out, cap, out_len, d);
	case GM_MULTIBASE_BASE32_UPPER:
		return rfc4648_decode(b32_upper, 5, "base32 upper case", s + 1,
				      len - 1, 1, out, cap, out_len, d);
	case GM_MULTIBASE_BASE58BTC:
		return base58_decode_at(s + 1, len - 1, 1, out, cap, out_len,
					d);
	default:
		char_repr(s[0], r);
		return gm_diag_set(d, GM_EUNSUPPORTED,
				   "multibase prefix %s is not supported "
				   "(use 'b' base32, 'z' base58btc or 'f' "
				   "base16)",
				   r);
	}
}
