/*
 * fuzz_cid.c - CID text and binary parsing, and the multibase decoders.
 *
 * The input is tried as text CID, as binary CID, as multibase text and as
 * bare base58btc. Invariants checked:
 *   - parse(text) OK  => parse(format(cid)) equals cid, and when the text
 *     was already canonical ('b' base32 v1, or 46-char "Qm" v0) format
 *     gives back exactly the input;
 *   - decode(bin) OK  => encode(cid) is exactly the bytes consumed, and the
 *     text form round trips;
 *   - multibase and base58btc decoding OK => encoding in the same base gives
 *     back exactly the input (the decoders accept only canonical text).
 */
#include "internal.h"

#include "gm/cid.h"
#include "gm/multibase.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text_round_trip(const struct gm_cid *c)
{
	char s[GM_CID_MAX_STR];
	struct gm_cid back;
	size_t n;

	n = gm_cid_format(c, s, sizeof(s));
	if (!n)
		abort();
	if (gm_cid_parse(&back, s, n, NULL) || !gm_cid_equal(c, &back))
		abort();
}

static void fuzz_text(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char out[GM_CID_MAX_STR];
	struct gm_cid c;
	struct gm_diag d;
	size_t n;

	if (gm_cid_parse(&c, s, size, &d)) {
		if (!d.msg[0])
			abort(); /* every failure says why */
		return;
	}
	check_text_round_trip(&c);
	n = gm_cid_format(&c, out, sizeof(out));
	if ((c.version == 1 && s[0] == 'b') ||
	    (c.version == 0 && size == 46 && s[0] == 'Q')) {
		if (n != size || memcmp(out, s, size) != 0)
			abort();
	}
}

static void fuzz_binary(const uint8_t *data, size_t size)
{
	uint8_t out[GM_CID_MAX_BYTES];
	struct gm_cid c, back;
	size_t used = 0, n;

	if (gm_cid_decode(&c, data, size, &used, NULL))
		return;
	if (used == 0 || used > size)
		abort();
	n = gm_cid_encode(&c, out, sizeof(out));
	if (n != used || memcmp(out, data, used) != 0)
		abort();
	if (gm_cid_decode(&back, out, n, NULL, NULL) ||
	    !gm_cid_equal(&c, &back))
		abort();
	check_text_round_trip(&c);
}

static void fuzz_multibase(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	uint8_t bin[256];
	char text[1024]; /* 256 bytes in any base, with prefix and NUL */
	enum gm_multibase base;
	size_t n, m;

	if (!gm_multibase_decode(s, size, &base, bin, sizeof(bin), &n, NULL)) {
		if (gm_multibase_encode(base, bin, n, text, sizeof(text), &m))
			abort();
		if (m != size || memcmp(text, s, size) != 0)
			abort();
	}
	if (!gm_base58btc_decode(s, size, bin, sizeof(bin), &n, NULL)) {
		if (gm_base58btc_encode(bin, n, text, sizeof(text), &m))
			abort();
		if (m != size || memcmp(text, s, size) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_text(data, size);
	fuzz_binary(data, size);
	fuzz_multibase(data, size);
	return 0;
}
