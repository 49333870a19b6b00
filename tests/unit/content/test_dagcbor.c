/*
 * test_dagcbor.c - the canonical DAG-CBOR writer and strict decoder.
 *
 * Writer vectors are the examples of RFC 8949 appendix A; every accepted
 * document must re-encode to the same bytes; every refusal is checked for
 * its code and for the diagnostic naming what was wrong.
 */
#include "harness.h"

#include "gm/dagcbor.h"

/* Hex (spaces allowed) to bytes. */
static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (*h) {
		unsigned v;

		if (*h == ' ') {
			h++;
			continue;
		}
		ASSERT(n < cap);
		ASSERT(sscanf(h, "%2x", &v) == 1);
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
	out[2 * n] = 0;
}

#define ASSERT_BUF_HEX(b, h)                                                   \
	do {                                                                   \
		char got_[1024];                                               \
		ASSERT((b)->len < 500);                                        \
		hex((b)->data, (b)->len, got_);                                \
		ASSERT_STREQ(got_, h);                                         \
	} while (0)

TEST(writer_matches_rfc8949_examples)
{
	static const struct {
		uint64_t v;
		const char *hex;
	} uints[] = {
	    {0, "00"},
	    {23, "17"},
	    {24, "1818"},
	    {100, "1864"},
	    {1000, "1903e8"},
	    {1000000, "1a000f4240"},
	    {1000000000000ull, "1b000000e8d4a51000"},
	    {UINT64_MAX, "1bffffffffffffffff"},
	};
	struct gm_buf b;
	size_t i;

	gm_buf_init(&b, GM_BUF_UNLIMITED);
	for (i = 0; i < GM_ARRAY_LEN(uints); i++) {
		gm_buf_reset(&b);
		ASSERT_OK(gm_cbor_put_uint(&b, uints[i].v));
		ASSERT_BUF_HEX(&b, uints[i].hex);
	}
	gm_buf_reset(&b);
	ASSERT_OK(gm_cbor_put_nint(&b, 0));   /* -1 */
	ASSERT_OK(gm_cbor_put_nint(&b, 99));  /* -100 */
	ASSERT_OK(gm_cbor_put_nint(&b, 999)); /* -1000 */
	ASSERT_BUF_HEX(&b, "2038633903e7");
	gm_buf_reset(&b);
	ASSERT_OK(gm_cbor_put_text(&b, "", 0));
	ASSERT_OK(gm_cbor_put_text(&b, "IETF", 4));
	ASSERT_OK(gm_cbor_put_bytes(&b, "", 0));
	ASSERT_OK(gm_cbor_put_bytes(&b, "\x01\x02\x03\x04", 4));
	ASSERT_BUF_HEX(&b, "6064494554464044"
			   "01020304");
	gm_buf_reset(&b);
	/* {"a": 1, "b": [2, 3]} */
	ASSERT_OK(gm_cbor_put_map(&b, 2));
	ASSERT_OK(gm_cbor_put_key(&b, "a"));
	ASSERT_OK(gm_cbor_put_uint(&b, 1));
	ASSERT_OK(gm_cbor_put_key(&b, "b"));
	ASSERT_OK(gm_cbor_put_array(&b, 2));
	ASSERT_OK(gm_cbor_put_uint(&b, 2));
	ASSERT_OK(gm_cbor_put_uint(&b, 3));
	ASSERT_OK(gm_cbor_put_bool(&b, false));
	ASSERT_OK(gm_cbor_put_bool(&b, true));
	ASSERT_OK(gm_cbor_put_null(&b));
	ASSERT_BUF_HEX(&b, "a26161016162820203f4f5f6");
	gm_buf_release(&b);
}

TEST(writer_respects_buffer_limit)
{
	struct gm_buf b;

	gm_buf_init(&b, 4);
	ASSERT_ERR(gm_cbor_put_bytes(&b, "abcdef", 6), GM_ELIMIT);
	ASSERT_EQ(b.len, 0);
	ASSERT_OK(gm_cbor_put_text(&b, "abc", 3));
	ASSERT_EQ(b.len, 4);
	gm_buf_release(&b);
}

TEST(cid_is_tag42_over_zero_prefixed_bytes)
{
	struct gm_cid c, back;
	struct gm_buf b;
	struct gm_dagcbor_doc doc;
	char want[256];

	ASSERT_OK(gm_cid_sha256(&c, 1, GM_CODEC_RAW,
				(const uint8_t *)"hello world\n", 12));
	gm_buf_init(&b, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_cbor_put_cid(&b, &c));
	/* d8 2a, bytes(37) = 58 25, 00, 01 55 12 20, digest */
	snprintf(want, sizeof(want), "%s",
		 "d82a582500015512"
		 "20a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299"
		 "a192a447");
	ASSERT_BUF_HEX(&b, want);
	ASSERT_OK(gm_dagcbor_decode(&doc, b.data, b.len, NULL));
	ASSERT_EQ(doc.root->type, GM_CBOR_CID);
	ASSERT_OK(gm_cbor_cid(doc.root, &back));
	ASSERT(gm_cid_equal(&c, &back));
	gm_dagcbor_doc_release(&doc);
	gm_buf_release(&b);
}

/* A document exercising every accepted type. */
#define RICH_HEX                                                               \
	"a6"                                                                   \
	"61610a"   /* "a": 10 */                                               \
	"616280"   /* "b": [] */                                               \
	"6163f6"   /* "c": null */                                             \
	"626161a0" /* "aa": {} */                                              \
	"626262"                                                               \
	"83"                                                                   \
	"3903e7"                                                               \
	"f5"                                                                   \
	"43010203" /* "bb": [-1000,true,h'010203'] */                          \
	"63636964"                                                             \
	"d82a582500015512"                                                     \
	"20a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447"

TEST(decode_builds_tree_and_reencodes_exactly)
{
	uint8_t in[256];
	size_t n = unhex(RICH_HEX, in, sizeof(in));
	struct gm_dagcbor_doc doc;
	const struct gm_cbor *v;
	struct gm_buf b;

	ASSERT_OK(gm_dagcbor_decode(&doc, in, n, NULL));
	ASSERT_EQ(doc.root->type, GM_CBOR_MAP);
	ASSERT_EQ(doc.root->u, 6);
	v = gm_cbor_map_get(doc.root, "a");
	ASSERT(v && v->type == GM_CBOR_UINT && v->u == 10);
	v = gm_cbor_map_get(doc.root, "bb");
	ASSERT(v && v->type == GM_CBOR_ARRAY && v->u == 3);
	ASSERT_EQ(v->kids[0].type, GM_CBOR_NINT);
	ASSERT_EQ(v->kids[0].u, 999);
	ASSERT_EQ(v->kids[1].type, GM_CBOR_TRUE);
	ASSERT_EQ(v->kids[2].type, GM_CBOR_BYTES);
	ASSERT_EQ(v->kids[2].len, 3);
	ASSERT_MEMEQ(v->kids[2].p, "\x01\x02\x03", 3);
	ASSERT_EQ(gm_cbor_map_get(doc.root, "c")->type, GM_CBOR_NULL);
	ASSERT_EQ(gm_cbor_map_get(doc.root, "aa")->type, GM_CBOR_MAP);
	ASSERT_EQ(gm_cbor_map_get(doc.root, "cid")->type, GM_CBOR_CID);
	ASSERT(gm_cbor_map_get(doc.root, "zz") == NULL);
	ASSERT(gm_cbor_text_is(&doc.root->kids[0], "a"));
	gm_buf_init(&b, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_dagcbor_encode(doc.root, &b, NULL));
	ASSERT_EQ(b.len, n);
	ASSERT_MEMEQ(b.data, in, n);
	gm_buf_release(&b);
	gm_dagcbor_doc_release(&doc);
}

static void refuse(const char *h, gm_err want, const char *needle)
{
	uint8_t in[512];
	size_t n = unhex(h, in, sizeof(in));
	struct gm_dagcbor_doc doc;
	struct gm_diag d;

	gm_diag_clear(&d);
	ASSERT_ERR(gm_dagcbor_decode(&doc, in, n, &d), want);
	ASSERT(doc.root == NULL && doc.nodes == NULL);
	if (!strstr(d.msg, needle))
		gm_test_fail(__FILE__, __LINE__, "'%s': diag '%s' lacks '%s'",
			     h, d.msg, needle);
}

TEST(decode_refuses_non_canonical_forms)
{
	refuse("1817", GM_EFORMAT, "shortest form");
	refuse("190017", GM_EFORMAT, "shortest form");
	refuse("1a0000ffff", GM_EFORMAT, "shortest form");
	refuse("1b00000000ffffffff", GM_EFORMAT, "shortest form");
	refuse("3800", GM_EFORMAT, "shortest form");
	refuse("5801ff", GM_EFORMAT, "shortest form");
	refuse("a2616201616102", GM_EFORMAT, "canonical order");
	refuse("a262616101616202", GM_EFORMAT, "canonical order");
	refuse("a2616101616102", GM_EFORMAT, "duplicate map key 'a'");
	refuse("0000", GM_EFORMAT, "trailing");
	refuse("", GM_EFORMAT, "input ends");
	refuse("1903", GM_EFORMAT, "truncated");
	refuse("6461", GM_EFORMAT, "runs past");
	refuse("8201", GM_EFORMAT, "more than the input");
	refuse("828101", GM_EFORMAT, "input ends");
}

TEST(decode_refuses_what_dagcbor_forbids)
{
	refuse("f93c00", GM_EFORMAT, "floating point");
	refuse("fa47c35000", GM_EFORMAT, "floating point");
	refuse("fb3ff199999999999a", GM_EFORMAT, "floating point");
	refuse("f7", GM_EFORMAT, "simple value");
	refuse("f0", GM_EFORMAT, "simple value");
	refuse("f820", GM_EFORMAT, "simple value");
	refuse("ff", GM_EFORMAT, "break");
	refuse("5f42010243030405ff", GM_EFORMAT, "indefinite");
	refuse("9f01ff", GM_EFORMAT, "indefinite");
	refuse("bf616101ff", GM_EFORMAT, "indefinite");
	refuse("1c", GM_EFORMAT, "reserved");
	refuse("c11a514b67b0", GM_EFORMAT, "tag 1");
	refuse("d82a6161", GM_EFORMAT, "not over a byte string");
	refuse("d82a4401551200", GM_EFORMAT, "0x00");
	refuse("d82a43000000", GM_EFORMAT, "not valid");
	/* CID with a trailing byte inside the byte string */
	refuse("d82a582600015512"
	       "20a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192"
	       "a44700",
	       GM_EFORMAT, "not valid");
	refuse("a10101", GM_EFORMAT, "not a text string");
	refuse("a1420101", GM_EFORMAT, "not a text string");
	refuse("62c328", GM_EFORMAT, "UTF-8");
	refuse("62c080", GM_EFORMAT, "UTF-8");
	refuse("63eda080", GM_EFORMAT, "UTF-8");
	refuse("64f4908080", GM_EFORMAT, "UTF-8");
	refuse("a162c0800a", GM_EFORMAT, "UTF-8");
	refuse("9bffffffffffffffff", GM_EFORMAT, "more than the input");
	refuse("9affffffff00", GM_EFORMAT, "more than the input");
	refuse("bb7fffffffffffffff", GM_EFORMAT, "more than the input");
	refuse("5bffffffffffffffff", GM_EFORMAT, "runs past");
}

TEST(utf8_accepts_valid_text)
{
	ASSERT(gm_utf8_valid((const uint8_t *)"", 0));
	ASSERT(gm_utf8_valid((const uint8_t *)"caf\xc3\xa9", 5));
	ASSERT(gm_utf8_valid((const uint8_t *)"\xe2\x82\xac", 3));
	ASSERT(gm_utf8_valid((const uint8_t *)"\xf0\x9f\x98\x80", 4));
	ASSERT(gm_utf8_valid((const uint8_t *)"\xf4\x8f\xbf\xbf", 4));
	ASSERT(!gm_utf8_valid((const uint8_t *)"\xe0\x80\x80", 3));
	ASSERT(!gm_utf8_valid((const uint8_t *)"\xf0\x9f\x98", 3));
	ASSERT(!gm_utf8_valid((const uint8_t *)"\x80", 1));
}

TEST(depth_limit_is_32_levels)
{
	uint8_t in[80];
	struct gm_dagcbor_doc doc;
	struct gm_diag d;
	size_t i;

	for (i = 0; i < 32; i++)
		in[i] = 0x81;
	in[32] = 0x00;
	ASSERT_OK(gm_dagcbor_decode(&doc, in, 33, NULL));
	ASSERT_EQ(doc.count, 33);
	gm_dagcbor_doc_release(&doc);
	in[32] = 0x81;
	in[33] = 0x00;
	ASSERT_ERR(gm_dagcbor_decode(&doc, in, 34, &d), GM_ELIMIT);
	ASSERT(strstr(d.msg, "deeper than 32"));
	/* The same through maps. */
	for (i = 0; i < 33; i++) {
		in[2 * i] = 0xa1;
		in[2 * i + 1] = 0x60;
	}
	in[66] = 0x00;
	ASSERT_ERR(gm_dagcbor_decode(&doc, in, 67, &d), GM_ELIMIT);
	/* 32 map levels are fine. */
	ASSERT_OK(gm_dagcbor_decode(&doc, in + 2, 65, &d));
	gm_dagcbor_doc_release(&doc);
}

TEST(encoder_refuses_non_canonical_trees)
{
	struct gm_cbor kids[4], map;
	struct gm_buf b;
	struct gm_diag d;

	memset(kids, 0, sizeof(kids));
	kids[0].type = GM_CBOR_TEXT;
	kids[0].p = (const uint8_t *)"bb";
	kids[0].len = 2;
	kids[1].type = GM_CBOR_UINT;
	kids[2].type = GM_CBOR_TEXT;
	kids[2].p = (const uint8_t *)"c";
	kids[2].len = 1;
	kids[3].type = GM_CBOR_NULL;
	memset(&map, 0, sizeof(map));
	map.type = GM_CBOR_MAP;
	map.u = 2;
	map.kids = kids;
	gm_buf_init(&b, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_buf_append(&b, "x", 1));
	ASSERT_ERR(gm_dagcbor_encode(&map, &b, &d), GM_EINVAL);
	ASSERT(strstr(d.msg, "'c'"));
	ASSERT_EQ(b.len, 1);
	/* Put them in order and it works. */
	kids[0].p = (const uint8_t *)"b";
	kids[0].len = 1;
	ASSERT_OK(gm_dagcbor_encode(&map, &b, &d));
	ASSERT_BUF_HEX(&b, "78a2616200616"
			   "3f6");
	kids[0].type = GM_CBOR_UINT;
	gm_buf_reset(&b);
	ASSERT_ERR(gm_dagcbor_encode(&map, &b, &d), GM_EINVAL);
	ASSERT(strstr(d.msg, "not text"));
	gm_buf_release(&b);
}

TEST(key_order_is_length_first)
{
	ASSERT(gm_dagcbor_key_cmp("b", 1, "aa", 2) < 0);
	ASSERT(gm_dagcbor_key_cmp("aa", 2, "ab", 2) < 0);
	ASSERT(gm_dagcbor_key_cmp("ab", 2, "ab", 2) == 0);
	ASSERT(gm_dagcbor_key_cmp("sig", 3, "key", 3) > 0);
	ASSERT(gm_dagcbor_key_cmp("", 0, "a", 1) < 0);
}

TEST(decode_out_of_memory_is_clean)
{
	uint8_t in[256];
	size_t n = unhex(RICH_HEX, in, sizeof(in));
	struct gm_dagcbor_doc doc;
	unsigned long k;
	gm_err e;

	for (k = 1;; k++) {
		gm_alloc_fail_after(k);
		e = gm_dagcbor_decode(&doc, in, n, NULL);
		gm_alloc_fail_after(0);
		if (!e)
			break;
		ASSERT_ERR(e, GM_ENOMEM);
		ASSERT(doc.root == NULL);
	}
	ASSERT_EQ(k, 2);
	ASSERT_EQ(doc.count, 1 + 12 + 3);
	gm_dagcbor_doc_release(&doc);
}
