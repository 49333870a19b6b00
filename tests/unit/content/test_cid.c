/*
 * test_cid.c - SHA-256, CID v0/v1 binary and text forms, against vectors
 * produced by the reference implementation (js multiformats) and kubo.
 */
#include "harness.h"

#include <pthread.h>

#include "gm/cid.h"

static const char hw_v1[] =
    "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4";
static const char hw_v1_b58[] =
    "zb2rhi36Gc9GJWijLEL6zW45MBux5FcFv5gJmjXA7VAMozEXY";
static const uint8_t hw_bin[] = {
    0x01, 0x55, 0x12, 0x20, 0xa9, 0x48, 0x90, 0x4f, 0x2f, 0x0f, 0x47, 0x9b,
    0x8f, 0x81, 0x97, 0x69, 0x4b, 0x30, 0x18, 0x4b, 0x0d, 0x2e, 0xd1, 0xc1,
    0xcd, 0x2a, 0x1e, 0xc0, 0xfb, 0x85, 0xd2, 0x99, 0xa1, 0x92, 0xa4, 0x47,
};
static const char dir_v1[] =
    "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354";
static const char dir_v0[] = "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn";
static const uint8_t dir_node[] = {0x0a, 0x02, 0x08, 0x01};

static void hex(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static void parse_ok(struct gm_cid *c, const char *s)
{
	struct gm_diag d;
	gm_err e;

	gm_diag_clear(&d);
	e = gm_cid_parse(c, s, strlen(s), &d);
	if (e)
		gm_test_fail(__FILE__, __LINE__, "parse %s: %s", s, d.msg);
}

TEST(sha256_known_vectors)
{
	uint8_t out[32];
	char h[65];

	gm_sha256((const uint8_t *)"abc", 3, out);
	hex(out, 32, h);
	ASSERT_STREQ(h, "ba7816bf8f01cfea414140de5dae2223"
			"b00361a396177a9cb410ff61f20015ad");
	gm_sha256(NULL, 0, out);
	hex(out, 32, h);
	ASSERT_STREQ(h, "e3b0c44298fc1c149afbf4c8996fb924"
			"27ae41e4649b934ca495991b7852b855");
}

static void *hash_in_thread(void *arg)
{
	uint8_t *out = arg;

	gm_sha256((const uint8_t *)"abc", 3, out);
	gm_sha256((const uint8_t *)"abc", 3, out);
	return NULL;
}

TEST(sha256_from_several_threads_agrees)
{
	uint8_t want[32], got[4][32];
	pthread_t t[4];
	int i;

	gm_sha256((const uint8_t *)"abc", 3, want);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(pthread_create(&t[i], NULL, hash_in_thread, got[i]),
			  0);
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(pthread_join(t[i], NULL), 0);
		ASSERT_MEMEQ(got[i], want, 32);
	}
	/* Each thread's context is freed at its exit (LSan would say). */
}

TEST(raw_cidv1_of_hello_world_and_empty)
{
	struct gm_cid c, p;
	uint8_t bin[GM_CID_MAX_BYTES];
	char s[GM_CID_MAX_STR];

	ASSERT_OK(gm_cid_sha256(&c, 1, GM_CODEC_RAW,
				(const uint8_t *)"hello world\n", 12));
	ASSERT_EQ(gm_cid_format(&c, s, sizeof(s)), strlen(hw_v1));
	ASSERT_STREQ(s, hw_v1);
	ASSERT_EQ(gm_cid_encode(&c, bin, sizeof(bin)), sizeof(hw_bin));
	ASSERT_MEMEQ(bin, hw_bin, sizeof(hw_bin));
	parse_ok(&p, hw_v1);
	ASSERT(gm_cid_equal(&c, &p));
	ASSERT_EQ(p.version, 1);
	ASSERT_EQ(p.codec, GM_CODEC_RAW);
	ASSERT_EQ(p.mh_code, GM_MH_SHA2_256);
	ASSERT_EQ(p.digest_len, 32);

	ASSERT_OK(gm_cid_sha256(&c, 1, GM_CODEC_RAW, NULL, 0));
	ASSERT(gm_cid_format(&c, s, sizeof(s)) > 0);
	ASSERT_STREQ(s, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxq"
			"uvyku");
}

TEST(empty_unixfs_directory_v0_and_v1)
{
	struct gm_cid c0, c1, p;
	uint8_t bin[GM_CID_MAX_BYTES];
	char s[GM_CID_MAX_STR];
	size_t used = 0;

	ASSERT_OK(gm_cid_sha256(&c1, 1, GM_CODEC_DAG_PB, dir_node, 4));
	ASSERT(gm_cid_format(&c1, s, sizeof(s)) > 0);
	ASSERT_STREQ(s, dir_v1);
	ASSERT_OK(gm_cid_sha256(&c0, 0, GM_CODEC_DAG_PB, dir_node, 4));
	ASSERT_EQ(gm_cid_format(&c0, s, sizeof(s)), 46);
	ASSERT_STREQ(s, dir_v0);
	ASSERT_EQ(gm_cid_encode(&c0, bin, sizeof(bin)), 34);
	ASSERT_EQ(bin[0], 0x12);
	ASSERT_EQ(bin[1], 0x20);
	ASSERT_MEMEQ(bin + 2, c1.digest, 32);
	ASSERT_OK(gm_cid_decode(&p, bin, 34, &used, NULL));
	ASSERT_EQ(used, 34);
	ASSERT(gm_cid_equal(&p, &c0));
	parse_ok(&p, dir_v0);
	ASSERT(gm_cid_equal(&p, &c0));
	ASSERT_EQ(p.version, 0);
	ASSERT_EQ(p.codec, GM_CODEC_DAG_PB);
	ASSERT(!gm_cid_equal(&c0, &c1));
	parse_ok(&p, dir_v1);
	ASSERT(gm_cid_equal(&p, &c1));
	/* A v0 binary in multibase is a v0 CID (the CID spec's rule). */
	parse_ok(&p,
		 "bciqftfeehedf6klbt32bfaglxezl4uwfnwm4lftlmxqbcerz6cmlx3y");
	ASSERT(gm_cid_equal(&p, &c0));
	/* from_digest forces dag-pb for v0. */
	gm_cid_from_digest(&p, 0, GM_CODEC_RAW, c1.digest);
	ASSERT(gm_cid_equal(&p, &c0));
	ASSERT_ERR(gm_cid_sha256(&p, 0, GM_CODEC_RAW, dir_node, 4), GM_EINVAL);
	ASSERT_ERR(gm_cid_sha256(&p, 2, GM_CODEC_RAW, dir_node, 4), GM_EINVAL);
}

TEST(other_bases_parse_equal_to_base32)
{
	struct gm_cid a, b;
	char up[sizeof(hw_v1)];
	char f[2 + 2 * sizeof(hw_bin) + 1];
	size_t i;

	parse_ok(&a, hw_v1);
	parse_ok(&b, hw_v1_b58);
	ASSERT(gm_cid_equal(&a, &b));
	for (i = 0; i < sizeof(hw_v1); i++)
		up[i] = (hw_v1[i] >= 'a' && hw_v1[i] <= 'z')
			    ? (char)(hw_v1[i] - 'a' + 'A')
			    : hw_v1[i];
	ASSERT_EQ(up[0], 'B');
	parse_ok(&b, up);
	ASSERT(gm_cid_equal(&a, &b));
	f[0] = 'f';
	hex(hw_bin, sizeof(hw_bin), f + 1);
	parse_ok(&b, f);
	ASSERT(gm_cid_equal(&a, &b));
}

TEST(codec_with_a_multi_byte_varint_round_trips)
{
	static const char s_json[] =
	    "baguqeeravfejatzpb5dzxd4bs5uuwmayjmgs5uobzuvb5qh3qxjjtimsurdq";
	struct gm_cid c;
	uint8_t bin[GM_CID_MAX_BYTES];
	char s[GM_CID_MAX_STR];

	parse_ok(&c, s_json);
	ASSERT_EQ(c.codec, 0x0129);
	ASSERT_EQ(gm_cid_encode(&c, bin, sizeof(bin)), 37);
	ASSERT_EQ(bin[1], 0xa9);
	ASSERT_EQ(bin[2], 0x02);
	ASSERT(gm_cid_format(&c, s, sizeof(s)) > 0);
	ASSERT_STREQ(s, s_json);
	parse_ok(&c, "bafyreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2d"
		     "evei4");
	ASSERT_EQ(c.codec, GM_CODEC_DAG_CBOR);
}

TEST(identity_multihash_cids)
{
	static const uint8_t bin_hi[] = {0x01, 0x55, 0x00, 0x02, 'h', 'i'};
	struct gm_cid c, e;
	uint8_t bin[GM_CID_MAX_BYTES];
	char s[GM_CID_MAX_STR];
	struct gm_diag d;
	size_t used;

	parse_ok(&c, "bafkqaatine");
	ASSERT_EQ(c.mh_code, GM_MH_IDENTITY);
	ASSERT_EQ(c.digest_len, 2);
	ASSERT_MEMEQ(c.digest, "hi", 2);
	ASSERT_EQ(gm_cid_encode(&c, bin, sizeof(bin)), sizeof(bin_hi));
	ASSERT_MEMEQ(bin, bin_hi, sizeof(bin_hi));
	parse_ok(&e, "zfUPGrZn");
	ASSERT(gm_cid_equal(&c, &e));
	ASSERT_OK(gm_cid_verify(&c, (const uint8_t *)"hi", 2, NULL));
	gm_diag_clear(&d);
	ASSERT_ERR(gm_cid_verify(&c, (const uint8_t *)"ho", 2, &d),
		   GM_EINTEGRITY);
	ASSERT(strstr(d.msg, "bafkqaatine") != NULL);
	ASSERT_ERR(gm_cid_verify(&c, (const uint8_t *)"hi!", 3, &d),
		   GM_EINTEGRITY);

	parse_ok(&e, "bafkqaaa");
	ASSERT_EQ(e.digest_len, 0);
	ASSERT_OK(gm_cid_verify(&e, NULL, 0, NULL));
	ASSERT(gm_cid_format(&e, s, sizeof(s)) > 0);
	ASSERT_STREQ(s, "bafkqaaa");

	/* 64 bytes is the most an identity digest may carry. */
	memset(bin, 0, sizeof(bin));
	bin[0] = 1;
	bin[1] = 0x55;
	bin[2] = 0;
	bin[3] = 64;
	ASSERT_OK(gm_cid_decode(&e, bin, 4 + 64, &used, &d));
	ASSERT_EQ(used, 68);
	bin[3] = 65;
	ASSERT_ERR(gm_cid_decode(&e, bin, sizeof(bin), &used, &d), GM_EFORMAT);
	ASSERT(strstr(d.msg, "identity digest of 65 bytes") != NULL);
}

TEST(unsupported_multihash_and_version_are_refused)
{
	static const char sha512_x[] =
	    "bafkrgqfevpkejdcjkywyfaiv2e5b7thksj7vfngviwjjp6fuhzbnvcjdrpat"
	    "mjxehxftrxnqqjeisj7msbh3iicxiq4yh2efqulz2ucvdl7ge";
	uint8_t bin[4 + 64];
	struct gm_cid c;
	struct gm_diag d;

	gm_diag_clear(&d);
	memset(bin, 0xab, sizeof(bin));
	bin[0] = 0x01;
	bin[1] = 0x55;
	bin[2] = 0x13; /* sha2-512 */
	bin[3] = 0x40;
	ASSERT_ERR(gm_cid_decode(&c, bin, sizeof(bin), NULL, &d), GM_EFORMAT);
	ASSERT(strstr(d.msg, "sha2-512") != NULL);
	ASSERT(strstr(d.msg, "not supported") != NULL);
	bin[2] = 0x12;
	bin[3] = 31;
	ASSERT_ERR(gm_cid_decode(&c, bin, sizeof(bin), NULL, &d), GM_EFORMAT);
	ASSERT(strstr(d.msg, "sha2-256 digest length is 31") != NULL);
	bin[0] = 0x02;
	bin[3] = 32;
	ASSERT_ERR(gm_cid_decode(&c, bin, sizeof(bin), NULL, &d), GM_EFORMAT);
	ASSERT(strstr(d.msg, "version 2") != NULL);
	bin[0] = 0x00;
	ASSERT_ERR(gm_cid_decode(&c, bin, sizeof(bin), NULL, &d), GM_EFORMAT);
	/* Non-minimal varint for the codec. */
	bin[0] = 0x01;
	bin[1] = 0xd5;
	bin[2] = 0x00;
	ASSERT_ERR(gm_cid_decode(&c, bin, sizeof(bin), NULL, &d), GM_EFORMAT);
	ASSERT(strstr(d.msg, "codec") != NULL);

	/* Text form of a sha2-512 CID (js multiformats). */
	ASSERT_ERR(gm_cid_parse(&c, sha512_x, strlen(sha512_x), &d),
		   GM_EFORMAT);
	ASSERT(strstr(d.msg, "is not a valid CID") != NULL);
	ASSERT(strstr(d.msg, "sha2-512") != NULL);

	/* Structs we cannot encode. */
	memset(&c, 0, sizeof(c));
	c.version = 1;
	c.mh_code = 0x13;
	c.digest_len = 64;
	ASSERT_EQ(gm_cid_encode(&c, bin, sizeof(bin)), 0);
	ASSERT_ERR(gm_cid_verify(&c, bin, 4, &d), GM_EUNSUPPORTED);
	ASSERT(strstr(d.msg, "sha2-512") != NULL);
	c.version = 0;
	c.mh_code = GM_MH_SHA2_256;
	c.digest_len = 32;
	c.codec = GM_CODEC_RAW;
	ASSERT_EQ(gm_cid_encode(&c, bin, sizeof(bin)), 0);
}

TEST(truncated_binary_cids_are_refused)
{
	struct gm_cid c;
	struct gm_diag d;
	uint8_t bin[GM_CID_MAX_BYTES];
	size_t n, used = 0;

	gm_diag_clear(&d);
	for (n = 0; n < sizeof(hw_bin); n++) {
		ASSERT_ERR(gm_cid_decode(&c, hw_bin, n, &used, &d), GM_EFORMAT);
		ASSERT(strstr(d.msg, "truncated") != NULL);
	}
	ASSERT_OK(gm_cid_decode(&c, hw_bin, sizeof(hw_bin), &used, &d));
	ASSERT_EQ(used, sizeof(hw_bin));
	/* v0 binary cut short. */
	ASSERT_OK(gm_cid_sha256(&c, 0, GM_CODEC_DAG_PB, dir_node, 4));
	ASSERT_EQ(gm_cid_encode(&c, bin, sizeof(bin)), 34);
	ASSERT_ERR(gm_cid_decode(&c, bin, 33, NULL, &d), GM_EFORMAT);
	ASSERT(strstr(d.msg, "CIDv0 is truncated") != NULL);
	/* Trailing bytes are the caller's business in binary. */
	memcpy(bin, hw_bin, sizeof(hw_bin));
	bin[sizeof(hw_bin)] = 0x99;
	ASSERT_OK(gm_cid_decode(&c, bin, sizeof(hw_bin) + 1, &used, &d));
	ASSERT_EQ(used, sizeof(hw_bin));
}

TEST(bad_text_cids_name_what_is_wrong)
{
	char s[GM_CID_MAX_STR * 2];
	struct gm_cid c;
	struct gm_diag d;

	gm_diag_clear(&d);
	/* A character outside base32. */
	snprintf(s, sizeof(s), "%s", dir_v1);
	s[strlen(s) - 1] = '1';
	ASSERT_ERR(gm_cid_parse(&c, s, strlen(s), &d), GM_EFORMAT);
	ASSERT(strncmp(d.msg, "'bafybei", 8) == 0);
	ASSERT(strstr(d.msg, "' is not a valid CID: character '1' is not "
			     "base32") != NULL);
	/* Trailing garbage: a bad character, or extra bytes. */
	snprintf(s, sizeof(s), "%s!", hw_v1);
	ASSERT_ERR(gm_cid_parse(&c, s, strlen(s), &d), GM_EFORMAT);
	ASSERT(strstr(d.msg, "character '!' is not base32") != NULL);
	snprintf(s, sizeof(s), "%saa", hw_v1);
	parse_ok(&c, dir_v0);
	ASSERT_ERR(gm_cid_parse(&c, s, strlen(s), &d), GM_EFORMAT);
	ASSERT(strstr(d.msg, "1 bytes follow the end of the CID") != NULL);
	ASSERT_EQ(c.version, 0); /* a failed parse leaves c alone */
	snprintf(s, sizeof(s), "%sa", hw_v1);
	ASSERT_ERR(gm_cid_parse(&c, s, strlen(s), &d), GM_EFORMAT);
	ASSERT(strstr(d.msg, "length") != NULL);
	/* Cut short. */
	ASSERT_ERR(gm_cid_parse(&c, hw_v1, strlen(hw_v1) - 2, &d), GM_EFORMAT);
	ASSERT(strstr(d.msg, "truncated") != NULL);
	/* v0 with a character base58 lacks ('0'), and a 47-char "Qm". */
	snprintf(s, sizeof(s), "%s", dir_v0);
	s[10] = '0';
	ASSERT_ERR(gm_cid_parse(&c, s, strlen(s), &d), GM_EFORMAT);
	ASSERT(strstr(d.msg, "character '0' is not base58btc") != NULL);
	snprintf(s, sizeof(s), "%sx", dir_v0);
	ASSERT_ERR(gm_cid_parse(&c, s, strlen(s), &d), GM_EFORMAT);
	ASSERT(strstr(d.msg, "has 46 characters, not 47") != NULL);
	ASSERT_ERR(gm_cid_parse(&c, "Qx", 2, &d), GM_EUNSUPPORTED);
	ASSERT(strstr(d.msg, "prefix 'Q'") != NULL);
	/* Empty, over-long, and unknown prefixes. */
	ASSERT_ERR(gm_cid_parse(&c, "", 0, &d), GM_EFORMAT);
	ASSERT(strstr(d.msg, "empty") != NULL);
	memset(s, 'a', sizeof(s));
	s[0] = 'b';
	ASSERT_ERR(gm_cid_parse(&c, s, sizeof(s), &d), GM_EFORMAT);
	ASSERT(strstr(d.msg, "too long") != NULL);
	ASSERT(strlen(d.msg) < 200);
	ASSERT_ERR(gm_cid_parse(&c, "mAXASIA", 7, &d), GM_EUNSUPPORTED);
	ASSERT(strstr(d.msg, "multibase prefix 'm'") != NULL);
	/* A control byte is shown escaped. */
	ASSERT_ERR(gm_cid_parse(&c, "b\x01", 2, &d), GM_EFORMAT);
	ASSERT(strstr(d.msg, "'b\\x01'") != NULL);
}

TEST(verify_names_expected_and_actual)
{
	struct gm_cid c;
	struct gm_diag d;

	gm_diag_clear(&d);
	parse_ok(&c, hw_v1);
	ASSERT_OK(gm_cid_verify(&c, (const uint8_t *)"hello world\n", 12, &d));
	ASSERT_ERR(gm_cid_verify(&c, NULL, 0, &d), GM_EINTEGRITY);
	ASSERT_STREQ(d.msg, "block hash mismatch: expected "
			    "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f"
			    "2km2devei4, got bafkreihdwdcefgh4dqkjv67uzcmw7oje"
			    "e6xedzdetojuzjevtenxquvyku");
	parse_ok(&c, dir_v0);
	ASSERT_OK(gm_cid_verify(&c, dir_node, 4, &d));
	ASSERT_ERR(gm_cid_verify(&c, dir_node, 3, &d), GM_EINTEGRITY);
	ASSERT(strstr(d.msg, "expected "
			     "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHb"
			     "sf67hvA3Nn, got Qm") != NULL);
}

TEST(encode_and_format_respect_the_buffer_size)
{
	struct gm_cid c;
	uint8_t bin[GM_CID_MAX_BYTES];
	char s[GM_CID_MAX_STR];

	parse_ok(&c, hw_v1);
	ASSERT_EQ(gm_cid_encode(&c, bin, sizeof(hw_bin) - 1), 0);
	ASSERT_EQ(gm_cid_encode(&c, bin, sizeof(hw_bin)), sizeof(hw_bin));
	ASSERT_EQ(gm_cid_format(&c, s, strlen(hw_v1)), 0);
	ASSERT_EQ(gm_cid_format(&c, s, strlen(hw_v1) + 1), strlen(hw_v1));
	ASSERT_STREQ(s, hw_v1);
	parse_ok(&c, dir_v0);
	ASSERT_EQ(gm_cid_format(&c, s, 46), 0);
	ASSERT_EQ(gm_cid_format(&c, s, 47), 46);
}

TEST(text_round_trips_for_many_digests)
{
	struct gm_cid c, p;
	uint8_t data[8];
	char s[GM_CID_MAX_STR];
	unsigned i, v;

	for (i = 0; i < 200; i++) {
		memcpy(data, &i, sizeof(i));
		memset(data + sizeof(i), 0, sizeof(data) - sizeof(i));
		for (v = 0; v < 2; v++) {
			ASSERT_OK(gm_cid_sha256(&c, v, GM_CODEC_DAG_PB, data,
						sizeof(data)));
			ASSERT(gm_cid_format(&c, s, sizeof(s)) > 0);
			ASSERT_EQ(s[0], v ? 'b' : 'Q');
			ASSERT_OK(gm_cid_parse(&p, s, strlen(s), NULL));
			ASSERT(gm_cid_equal(&c, &p));
			ASSERT_OK(gm_cid_verify(&p, data, sizeof(data), NULL));
		}
	}
}
