/*
 * test_multibase.c - base32, base58btc and base16 with and without the
 * multibase prefix: RFC 4648 and bitcoin vectors, strict decoding, bounds.
 */
#include "harness.h"

#include "gm/multibase.h"

static void check_b32(const char *in, const char *want)
{
	char out[128];
	uint8_t back[128];
	size_t n = 99, m = 99;

	ASSERT_OK(gm_base32_encode((const uint8_t *)in, strlen(in), out,
				   sizeof(out), &n));
	ASSERT_STREQ(out, want);
	ASSERT_EQ(n, strlen(want));
	ASSERT_EQ(gm_base32_encoded_len(strlen(in)), n);
	ASSERT_OK(gm_base32_decode(out, n, back, sizeof(back), &m, NULL));
	ASSERT_EQ(m, strlen(in));
	ASSERT_MEMEQ(back, in, m);
}

TEST(base32_rfc4648_vectors_without_padding)
{
	check_b32("", "");
	check_b32("f", "my");
	check_b32("fo", "mzxq");
	check_b32("foo", "mzxw6");
	check_b32("foob", "mzxw6yq");
	check_b32("fooba", "mzxw6ytb");
	check_b32("foobar", "mzxw6ytboi");
}

TEST(multibase_base32_of_f_is_bmy)
{
	char out[16];
	uint8_t back[16];
	size_t n, m;
	enum gm_multibase base;

	ASSERT_OK(gm_multibase_encode(GM_MULTIBASE_BASE32, (const uint8_t *)"f",
				      1, out, sizeof(out), &n));
	ASSERT_STREQ(out, "bmy");
	ASSERT_EQ(n, 3);
	ASSERT_OK(
	    gm_multibase_decode("bmy", 3, &base, back, sizeof(back), &m, NULL));
	ASSERT_EQ(base, GM_MULTIBASE_BASE32);
	ASSERT_EQ(m, 1);
	ASSERT_EQ(back[0], 'f');
	ASSERT_OK(gm_multibase_decode("BMZXW6YTBOI", 11, &base, back,
				      sizeof(back), &m, NULL));
	ASSERT_EQ(base, GM_MULTIBASE_BASE32_UPPER);
	ASSERT_EQ(m, 6);
	ASSERT_MEMEQ(back, "foobar", 6);
	ASSERT_OK(gm_multibase_encode(GM_MULTIBASE_BASE32_UPPER,
				      (const uint8_t *)"foobar", 6, out,
				      sizeof(out), &n));
	ASSERT_STREQ(out, "BMZXW6YTBOI");
}

TEST(base58btc_known_vectors)
{
	const uint8_t z3[] = {0, 0, 1};
	char out[64];
	uint8_t back[64];
	size_t n, m;

	ASSERT_OK(gm_base58btc_encode((const uint8_t *)"Hello World!", 12, out,
				      sizeof(out), &n));
	ASSERT_STREQ(out, "2NEpo7TZRRrLZSi2U");
	ASSERT_EQ(n, 17);
	ASSERT_OK(gm_base58btc_decode(out, n, back, sizeof(back), &m, NULL));
	ASSERT_EQ(m, 12);
	ASSERT_MEMEQ(back, "Hello World!", 12);

	ASSERT_OK(gm_base58btc_encode(z3, 3, out, sizeof(out), &n));
	ASSERT_STREQ(out, "112");
	ASSERT_OK(gm_base58btc_decode("112", 3, back, sizeof(back), &m, NULL));
	ASSERT_EQ(m, 3);
	ASSERT_MEMEQ(back, z3, 3);

	ASSERT_OK(gm_base58btc_encode(z3, 0, out, sizeof(out), &n));
	ASSERT_STREQ(out, "");
	ASSERT_OK(gm_base58btc_encode(z3, 2, out, sizeof(out), &n));
	ASSERT_STREQ(out, "11");
	ASSERT_OK(gm_base58btc_decode("1", 1, back, sizeof(back), &m, NULL));
	ASSERT_EQ(m, 1);
	ASSERT_EQ(back[0], 0);
	/* 58 is "21"; 255 is "5Q". */
	ASSERT_OK(gm_base58btc_decode("21", 2, back, sizeof(back), &m, NULL));
	ASSERT_EQ(m, 1);
	ASSERT_EQ(back[0], 58);
	back[0] = 255;
	ASSERT_OK(gm_base58btc_encode(back, 1, out, sizeof(out), &n));
	ASSERT_STREQ(out, "5Q");
}

TEST(multibase_base58_and_base16_prefixes)
{
	uint8_t back[32];
	char out[32];
	size_t m, n;
	enum gm_multibase base;

	ASSERT_OK(gm_multibase_decode("z2NEpo7TZRRrLZSi2U", 18, &base, back,
				      sizeof(back), &m, NULL));
	ASSERT_EQ(base, GM_MULTIBASE_BASE58BTC);
	ASSERT_EQ(m, 12);
	ASSERT_MEMEQ(back, "Hello World!", 12);
	ASSERT_OK(gm_multibase_decode("f00ff7a", 7, &base, back, sizeof(back),
				      &m, NULL));
	ASSERT_EQ(base, GM_MULTIBASE_BASE16);
	ASSERT_EQ(m, 3);
	ASSERT_EQ(back[0], 0x00);
	ASSERT_EQ(back[1], 0xff);
	ASSERT_EQ(back[2], 0x7a);
	ASSERT_OK(gm_multibase_decode("F00FF7A", 7, &base, back, sizeof(back),
				      &m, NULL));
	ASSERT_EQ(m, 3);
	ASSERT_EQ(back[1], 0xff);
	ASSERT_OK(gm_multibase_encode(GM_MULTIBASE_BASE16, back, 3, out,
				      sizeof(out), &n));
	ASSERT_STREQ(out, "f00ff7a");
	ASSERT_OK(gm_multibase_encode(GM_MULTIBASE_BASE58BTC,
				      (const uint8_t *)"Hello World!", 12, out,
				      sizeof(out), &n));
	ASSERT_STREQ(out, "z2NEpo7TZRRrLZSi2U");
	ASSERT_EQ(n, 18);
}

TEST(decoders_reject_characters_outside_the_alphabet)
{
	uint8_t back[32];
	struct gm_diag d;
	size_t m;

	gm_diag_clear(&d);
	ASSERT_ERR(gm_base32_decode("mzxw1", 5, back, sizeof(back), &m, &d),
		   GM_EFORMAT);
	ASSERT(strstr(d.msg, "character '1' is not base32") != NULL);
	ASSERT(strstr(d.msg, "offset 4") != NULL);
	/* Upper case is a different base; lower-case 'b' refuses it. */
	ASSERT_ERR(
	    gm_multibase_decode("bMY", 3, NULL, back, sizeof(back), &m, &d),
	    GM_EFORMAT);
	ASSERT(strstr(d.msg, "'M'") != NULL);
	ASSERT(strstr(d.msg, "offset 1") != NULL);
	/* '0', 'O', 'I', 'l' are not base58. */
	ASSERT_ERR(gm_base58btc_decode("2NEp0", 5, back, sizeof(back), &m, &d),
		   GM_EFORMAT);
	ASSERT(strstr(d.msg, "character '0' is not base58btc") != NULL);
	ASSERT_ERR(gm_base58btc_decode("Il", 2, back, sizeof(back), &m, &d),
		   GM_EFORMAT);
	ASSERT_ERR(
	    gm_multibase_decode("f0g", 3, NULL, back, sizeof(back), &m, &d),
	    GM_EFORMAT);
	ASSERT_ERR(
	    gm_multibase_decode("fAB", 3, NULL, back, sizeof(back), &m, &d),
	    GM_EFORMAT);
	/* NUL bytes are characters like any other, not terminators. */
	ASSERT_ERR(gm_base32_decode("mzx\0", 4, back, sizeof(back), &m, &d),
		   GM_EFORMAT);
	ASSERT(strstr(d.msg, "\\x00") != NULL);
}

TEST(base32_rejects_impossible_lengths_and_padding_bits)
{
	uint8_t back[32];
	struct gm_diag d;
	size_t m;

	gm_diag_clear(&d);
	ASSERT_ERR(gm_base32_decode("m", 1, back, sizeof(back), &m, &d),
		   GM_EFORMAT);
	ASSERT(strstr(d.msg, "length") != NULL);
	ASSERT_ERR(gm_base32_decode("mzx", 3, back, sizeof(back), &m, &d),
		   GM_EFORMAT);
	ASSERT_ERR(gm_base32_decode("mzxw6y", 6, back, sizeof(back), &m, &d),
		   GM_EFORMAT);
	/* "mz" is the canonical "f"; "mz" differs from "my" in pad bits. */
	ASSERT_ERR(gm_base32_decode("mz", 2, back, sizeof(back), &m, &d),
		   GM_EFORMAT);
	ASSERT(strstr(d.msg, "padding") != NULL);
	ASSERT_ERR(gm_base32_decode("my======", 8, back, sizeof(back), &m, &d),
		   GM_EFORMAT);
	ASSERT_ERR(
	    gm_multibase_decode("f0", 2, NULL, back, sizeof(back), &m, &d),
	    GM_EFORMAT);
	ASSERT(strstr(d.msg, "odd") != NULL);
}

TEST(multibase_unknown_prefix_and_empty_text)
{
	uint8_t back[8];
	struct gm_diag d;
	size_t m;

	gm_diag_clear(&d);
	ASSERT_ERR(
	    gm_multibase_decode("mZm9v", 5, NULL, back, sizeof(back), &m, &d),
	    GM_EUNSUPPORTED);
	ASSERT(strstr(d.msg, "prefix 'm'") != NULL);
	ASSERT_ERR(gm_multibase_decode("", 0, NULL, back, sizeof(back), &m, &d),
		   GM_EFORMAT);
	ASSERT(strstr(d.msg, "empty") != NULL);
	ASSERT_OK(
	    gm_multibase_decode("b", 1, NULL, back, sizeof(back), &m, &d));
	ASSERT_EQ(m, 0);
	ASSERT_ERR(gm_multibase_encode((enum gm_multibase)'m', back, 1,
				       (char *)back, sizeof(back), &m),
		   GM_EUNSUPPORTED);
}

TEST(encoders_and_decoders_respect_the_buffer_size)
{
	uint8_t back[4];
	char out[8];
	size_t m = 0;

	/* "foobar" needs 10 characters plus the NUL. */
	ASSERT_ERR(gm_base32_encode((const uint8_t *)"foobar", 6, out,
				    sizeof(out), &m),
		   GM_ELIMIT);
	ASSERT_OK(gm_base32_encode((const uint8_t *)"foo", 3, out, 6, &m));
	ASSERT_ERR(gm_base32_encode((const uint8_t *)"foo", 3, out, 5, &m),
		   GM_ELIMIT);
	ASSERT_ERR(
	    gm_base32_decode("mzxw6ytboi", 10, back, sizeof(back), &m, NULL),
	    GM_ELIMIT);
	ASSERT_ERR(gm_base58btc_encode((const uint8_t *)"Hello World!", 12, out,
				       sizeof(out), &m),
		   GM_ELIMIT);
	ASSERT_ERR(gm_base58btc_decode("2NEpo7TZRRrLZSi2U", 17, back,
				       sizeof(back), &m, NULL),
		   GM_ELIMIT);
	ASSERT_ERR(
	    gm_base58btc_decode("11111", 5, back, sizeof(back), &m, NULL),
	    GM_ELIMIT);
	ASSERT_OK(gm_base58btc_decode("1111", 4, back, sizeof(back), &m, NULL));
	ASSERT_EQ(m, 4);
	ASSERT_ERR(gm_multibase_encode(GM_MULTIBASE_BASE16, back, 4, out,
				       sizeof(out), &m),
		   GM_ELIMIT);
	ASSERT_ERR(
	    gm_multibase_encode(GM_MULTIBASE_BASE16, back, 1, out, 1, &m),
	    GM_ELIMIT);
}

TEST(every_base_round_trips_random_bytes)
{
	static const enum gm_multibase bases[] = {
	    GM_MULTIBASE_BASE16,    GM_MULTIBASE_BASE16_UPPER,
	    GM_MULTIBASE_BASE32,    GM_MULTIBASE_BASE32_UPPER,
	    GM_MULTIBASE_BASE58BTC,
	};
	uint8_t in[40], back[40];
	char text[128];
	uint32_t x = 12345;
	size_t b, len, i, n, m;

	for (b = 0; b < GM_ARRAY_LEN(bases); b++) {
		for (len = 0; len <= sizeof(in); len++) {
			enum gm_multibase got;

			for (i = 0; i < len; i++) {
				x = x * 1103515245 + 12345;
				/* Some leading zeros for base58. */
				in[i] = i < len % 3 ? 0 : (uint8_t)(x >> 16);
			}
			ASSERT_OK(gm_multibase_encode(bases[b], in, len, text,
						      sizeof(text), &n));
			ASSERT_EQ(strlen(text), n);
			ASSERT_OK(gm_multibase_decode(text, n, &got, back,
						      sizeof(back), &m, NULL));
			ASSERT_EQ(got, bases[b]);
			ASSERT_EQ(m, len);
			ASSERT_MEMEQ(back, in, len);
		}
	}
}
