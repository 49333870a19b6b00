/*
 * test_dagpb.c - the dag-pb codec against encodings made by @ipld/dag-pb
 * 4.2.0, its strictness rules, limits, out-of-memory paths, and
 * gm_block_links().
 */
#include "harness.h"

#include "gm/block.h"
#include "gm/dagpb.h"

/* raw CIDv1 of "hello world\n" */
static const char cid_a[] =
    "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4";
/* the empty UnixFS directory, v0 */
static const char cid_b[] = "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn";
static const char link_a_hex[] =
    "0a2401551220a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299"
    "a192a447";

/*
 * dagPB.encode(prepare({Data: [8,2,0x12,3,1,2,3], Links: [{Hash: a, Name:
 * 'a.txt', Tsize: 12}, {Hash: b, Name: 'dir', Tsize: 4}]}))
 */
static const char n1_hex[] =
    "122f0a2401551220a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85"
    "d299a192a4471205612e747874180c122b0a22122059948439065f29619ef41280cb"
    "b932be52c56d99c5966b65e0111239f098bbef120364697218040a07080212030102"
    "03";
static const char n1_cid[] =
    "bafybeihnxcnz462sy2t2zt4y3b4g7yis6ktng3dqy3ku5aewmopktvkclu";

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = strlen(h) / 2, i;

	ASSERT(n <= cap);
	for (i = 0; i < n; i++) {
		unsigned v;

		ASSERT(sscanf(h + 2 * i, "%2x", &v) == 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static struct gm_cid cid_of(const char *s)
{
	struct gm_cid c;

	ASSERT_OK(gm_cid_parse(&c, s, strlen(s), NULL));
	return c;
}

/* Decodes, re-encodes and checks the bytes come back unchanged. */
static void round_trip(const uint8_t *p, size_t len, struct gm_dagpb_node *n)
{
	struct gm_diag d;
	struct gm_buf b;
	gm_err e;

	gm_diag_clear(&d);
	e = gm_dagpb_decode(n, p, len, &d);
	if (e)
		gm_test_fail(__FILE__, __LINE__, "decode: %s", d.msg);
	gm_buf_init(&b, 1 << 20);
	ASSERT_OK(gm_dagpb_encode(n, &b));
	ASSERT_EQ(b.len, len);
	if (len)
		ASSERT_MEMEQ(b.data, p, len);
	gm_buf_release(&b);
}

static void expect_bad(const char *h, gm_err want, const char *needle)
{
	uint8_t buf[512];
	struct gm_dagpb_node n;
	struct gm_diag d;
	size_t len = unhex(h, buf, sizeof(buf));
	gm_err e;

	gm_dagpb_node_init(&n);
	gm_diag_clear(&d);
	e = gm_dagpb_decode(&n, buf, len, &d);
	if (e != want || !strstr(d.msg, needle))
		gm_test_fail(__FILE__, __LINE__,
			     "%s: got %s \"%s\", want %s \"%s\"", h,
			     gm_errname(e), d.msg, gm_errname(want), needle);
	ASSERT(n.links == NULL);
	ASSERT_EQ(n.n_links, 0);
}

TEST(empty_directory_and_empty_node)
{
	const uint8_t dir[] = {0x0a, 0x02, 0x08, 0x01};
	struct gm_dagpb_node n;
	struct gm_buf b;

	gm_dagpb_node_init(&n);
	round_trip(dir, sizeof(dir), &n);
	ASSERT_EQ(n.n_links, 0);
	ASSERT(n.has_data);
	ASSERT_EQ(n.data_len, 2);
	ASSERT(n.data == dir + 2);
	round_trip(dir, 0, &n);
	ASSERT(!n.has_data);
	ASSERT_EQ(n.n_links, 0);

	/* Built by hand: data 08 01, no links. */
	gm_dagpb_node_init(&n);
	n.data = dir + 2;
	n.data_len = 2;
	n.has_data = true;
	gm_buf_init(&b, 64);
	ASSERT_OK(gm_dagpb_encode(&n, &b));
	ASSERT_EQ(b.len, 4);
	ASSERT_MEMEQ(b.data, dir, 4);
	gm_buf_release(&b);
}

TEST(two_named_links_with_tsize_and_data_match_js)
{
	uint8_t buf[256];
	size_t len = unhex(n1_hex, buf, sizeof(buf));
	struct gm_dagpb_node n;
	struct gm_dagpb_link links[2];
	struct gm_cid a = cid_of(cid_a), b = cid_of(cid_b), c;
	struct gm_buf out;
	char s[GM_CID_MAX_STR];

	gm_dagpb_node_init(&n);
	round_trip(buf, len, &n);
	ASSERT_EQ(n.n_links, 2);
	ASSERT(gm_cid_equal(&n.links[0].cid, &a));
	ASSERT(n.links[0].has_name);
	ASSERT_EQ(n.links[0].name_len, 5);
	ASSERT_MEMEQ(n.links[0].name, "a.txt", 5);
	ASSERT(n.links[0].has_tsize);
	ASSERT_EQ(n.links[0].tsize, 12);
	ASSERT(gm_cid_equal(&n.links[1].cid, &b));
	ASSERT_EQ(n.links[1].cid.version, 0);
	ASSERT_MEMEQ(n.links[1].name, "dir", 3);
	ASSERT_EQ(n.links[1].tsize, 4);
	ASSERT(n.has_data);
	ASSERT_EQ(n.data_len, 7);
	ASSERT_MEMEQ(n.data, "\x08\x02\x12\x03\x01\x02\x03", 7);
	gm_dagpb_node_release(&n);
	ASSERT(n.links == NULL);

	/* The same node built from values encodes to the same bytes. */
	memset(links, 0, sizeof(links));
	links[0].cid = a;
	links[0].name = (const uint8_t *)"a.txt";
	links[0].name_len = 5;
	links[0].has_name = true;
	links[0].tsize = 12;
	links[0].has_tsize = true;
	links[1].cid = b;
	links[1].name = (const uint8_t *)"dir";
	links[1].name_len = 3;
	links[1].has_name = true;
	links[1].tsize = 4;
	links[1].has_tsize = true;
	n.links = links;
	n.n_links = 2;
	n.data = (const uint8_t *)"\x08\x02\x12\x03\x01\x02\x03";
	n.data_len = 7;
	n.has_data = true;
	gm_buf_init(&out, 1024);
	ASSERT_OK(gm_buf_append(&out, "xy", 2));
	ASSERT_OK(gm_dagpb_encode(&n, &out));
	ASSERT_EQ(out.len, 2 + len);
	ASSERT_MEMEQ(out.data, "xy", 2);
	ASSERT_MEMEQ(out.data + 2, buf, len);
	ASSERT_OK(gm_cid_sha256(&c, 1, GM_CODEC_DAG_PB, out.data + 2, len));
	ASSERT(gm_cid_format(&c, s, sizeof(s)) > 0);
	ASSERT_STREQ(s, n1_cid);
	gm_buf_release(&out);
}

TEST(optional_fields_present_but_empty_round_trip)
{
	char h[256];
	uint8_t buf[256];
	size_t len;
	struct gm_dagpb_node n;

	gm_dagpb_node_init(&n);
	/* {Links: [{Hash: a}]} */
	snprintf(h, sizeof(h), "1226%s", link_a_hex);
	len = unhex(h, buf, sizeof(buf));
	round_trip(buf, len, &n);
	ASSERT_EQ(n.n_links, 1);
	ASSERT(!n.links[0].has_name);
	ASSERT(!n.links[0].has_tsize);
	ASSERT(!n.has_data);
	/* {Links: [{Hash: a, Name: '', Tsize: 0}], Data: empty} */
	snprintf(h, sizeof(h), "122a%s120018000a00", link_a_hex);
	len = unhex(h, buf, sizeof(buf));
	round_trip(buf, len, &n);
	ASSERT(n.links[0].has_name);
	ASSERT_EQ(n.links[0].name_len, 0);
	ASSERT(n.links[0].has_tsize);
	ASSERT_EQ(n.links[0].tsize, 0);
	ASSERT(n.has_data);
	ASSERT_EQ(n.data_len, 0);
	/* Tsize 2^53 - 1 (js), and 2^64 - 1 (the largest uint64). */
	snprintf(h, sizeof(h), "122f%s18ffffffffffffff0f", link_a_hex);
	len = unhex(h, buf, sizeof(buf));
	round_trip(buf, len, &n);
	ASSERT_EQ(n.links[0].tsize, (1LL << 53) - 1);
	snprintf(h, sizeof(h), "1231%s18ffffffffffffffffff01", link_a_hex);
	len = unhex(h, buf, sizeof(buf));
	round_trip(buf, len, &n);
	ASSERT(n.links[0].tsize == UINT64_MAX);
	gm_dagpb_node_release(&n);
}

TEST(strict_field_order_and_duplicates)
{
	char h[512];

	/* Data before Links (js reads it; we keep only canonical bytes). */
	snprintf(h, sizeof(h), "0a001226%s", link_a_hex);
	expect_bad(h, GM_EFORMAT, "Links must come first");
	expect_bad("0a000a00", GM_EFORMAT, "Data appears twice");
	/* Name before Hash, Tsize before Name, duplicate Hash / Tsize. */
	snprintf(h, sizeof(h), "12281200%s", link_a_hex);
	expect_bad(h, GM_EFORMAT, "Hash at byte 4 is out of order");
	snprintf(h, sizeof(h), "122a%s18011200", link_a_hex);
	expect_bad(h, GM_EFORMAT, "Name at byte 42 is out of order");
	snprintf(h, sizeof(h), "124c%s%s", link_a_hex, link_a_hex);
	expect_bad(h, GM_EFORMAT, "Hash at byte 40 appears twice");
	snprintf(h, sizeof(h), "122a%s18011801", link_a_hex);
	expect_bad(h, GM_EFORMAT, "Tsize at byte 42 appears twice");
}

TEST(unknown_fields_and_wire_types)
{
	char h[512];

	expect_bad("1a00", GM_EFORMAT, "unknown field 3 at byte 0");
	expect_bad("0801", GM_EFORMAT, "Data at byte 0 has wire type 0");
	expect_bad("1001", GM_EFORMAT, "Links at byte 0 has wire type 0");
	/* Field 0 and a large field number (two-byte key). */
	expect_bad("0200", GM_EFORMAT, "unknown field 0");
	expect_bad("a20600", GM_EFORMAT, "unknown field 100");
	snprintf(h, sizeof(h), "1228%s2000", link_a_hex);
	expect_bad(h, GM_EFORMAT, "link 0 has unknown field 4");
	snprintf(h, sizeof(h), "1228%s1a00", link_a_hex);
	expect_bad(h, GM_EFORMAT, "Tsize at byte 40 has wire type 2");
	snprintf(h, sizeof(h), "1228%s1000", link_a_hex);
	expect_bad(h, GM_EFORMAT, "Name at byte 40 has wire type 0");
	expect_bad("1202080a", GM_EFORMAT, "Hash at byte 2 has wire type 0");
}

TEST(links_need_a_valid_cid_hash)
{
	char h[512];

	expect_bad("12021200", GM_EFORMAT, "link 0 (at byte 2) has no Hash");
	expect_bad("1200", GM_EFORMAT, "has no Hash");
	expect_bad("1204"
		   "0a020155",
		   GM_EFORMAT,
		   "link 0 Hash is not a valid CID: binary CID is truncated");
	/* A CID followed by one more byte inside Hash. */
	expect_bad("1227"
		   "0a2501551220a948904f2f0f479b8f8197694b30184b0d2ed1"
		   "c1cd2a1ec0fb85d299a192a44700",
		   GM_EFORMAT, "1 bytes follow the CID");
	/* sha2-512 is not supported. */
	snprintf(h, sizeof(h),
		 "1246"
		 "0a44"
		 "01551340%0128d",
		 0);
	expect_bad(h, GM_EFORMAT, "sha2-512");
	/* Second link broken: nothing of the first is kept. */
	snprintf(h, sizeof(h),
		 "1226%s"
		 "1200",
		 link_a_hex);
	expect_bad(h, GM_EFORMAT, "link 1 (at byte 42) has no Hash");
}

TEST(varints_must_be_minimal_and_complete)
{
	char h[512];
	uint8_t buf[256];
	size_t len, i;
	struct gm_dagpb_node n;
	struct gm_diag d;
	gm_err e;

	expect_bad("0a8000", GM_EFORMAT,
		   "Data varint at byte 1 is not "
		   "minimally encoded");
	expect_bad("8a0000", GM_EFORMAT,
		   "key varint at byte 0 is not "
		   "minimally");
	snprintf(h, sizeof(h), "1228%s1880", link_a_hex);
	expect_bad(h, GM_EFORMAT, "Tsize varint at byte 41 is truncated");
	snprintf(h, sizeof(h), "1229%s188000", link_a_hex);
	expect_bad(h, GM_EFORMAT, "not minimally");
	snprintf(h, sizeof(h), "1231%s18ffffffffffffffffff02", link_a_hex);
	expect_bad(h, GM_EFORMAT, "overflows 64 bits");
	expect_bad("0a05080201", GM_EFORMAT,
		   "Data length at byte 1 says 5 bytes, only 3 remain");
	/* A length of 2^64 - 1 must not wrap the bounds check. */
	expect_bad("12ffffffffffffffffff01"
		   "0a0401015500",
		   GM_EFORMAT,
		   "Links length at byte 1 says 18446744073709551615 bytes");
	expect_bad("0a", GM_EFORMAT, "truncated");
	expect_bad("0aff", GM_EFORMAT, "truncated");

	/* Every prefix of n1 fails except at whole-field boundaries. */
	len = unhex(n1_hex, buf, sizeof(buf));
	gm_dagpb_node_init(&n);
	for (i = 0; i <= len; i++) {
		e = gm_dagpb_decode(&n, buf, i, &d);
		if (i == 0 || i == 49 || i == 94 || i == len)
			ASSERT_OK(e);
		else
			ASSERT_ERR(e, GM_EFORMAT);
	}
	ASSERT_EQ(n.n_links, 2);
	gm_dagpb_node_release(&n);
}

TEST(link_count_is_bounded)
{
	/* 01 55 00 00 is the identity CID of nothing: 8 bytes a link. */
	const uint8_t one[] = {0x12, 0x06, 0x0a, 0x04, 0x01, 0x55, 0x00, 0x00};
	size_t count = GM_DAGPB_MAX_LINKS + 1, i;
	uint8_t *buf = gm_malloc(count * sizeof(one));
	struct gm_dagpb_node n;
	struct gm_diag d;
	struct gm_buf out;

	ASSERT(buf != NULL);
	for (i = 0; i < count; i++)
		memcpy(buf + i * sizeof(one), one, sizeof(one));
	gm_dagpb_node_init(&n);
	gm_diag_clear(&d);
	ASSERT_ERR(gm_dagpb_decode(&n, buf, count * sizeof(one), &d),
		   GM_ELIMIT);
	ASSERT(strstr(d.msg, "more than 65536 links") != NULL);
	ASSERT_OK(gm_dagpb_decode(&n, buf, (count - 1) * sizeof(one), &d));
	ASSERT_EQ(n.n_links, GM_DAGPB_MAX_LINKS);
	ASSERT_EQ(n.links[GM_DAGPB_MAX_LINKS - 1].cid.mh_code, GM_MH_IDENTITY);
	gm_buf_init(&out, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_dagpb_encode(&n, &out));
	ASSERT_EQ(out.len, (count - 1) * sizeof(one));
	ASSERT_MEMEQ(out.data, buf, out.len);
	gm_buf_release(&out);
	gm_dagpb_node_release(&n);
	gm_free(buf);
}

TEST(encode_refuses_bad_nodes_and_respects_the_limit)
{
	struct gm_dagpb_link l;
	struct gm_dagpb_node n;
	struct gm_buf b;

	memset(&l, 0, sizeof(l));
	gm_dagpb_node_init(&n);
	n.links = &l;
	n.n_links = 1;
	gm_buf_init(&b, 1024);
	/* A zeroed CID (v0 with no multihash) cannot be encoded. */
	ASSERT_ERR(gm_dagpb_encode(&n, &b), GM_EINVAL);
	l.cid = cid_of(cid_a);
	l.has_name = true;
	l.name_len = 3;
	ASSERT_ERR(gm_dagpb_encode(&n, &b), GM_EINVAL);
	l.name = (const uint8_t *)"abc";
	ASSERT_OK(gm_dagpb_encode(&n, &b));
	ASSERT_EQ(b.len, 2 + 38 + 5);
	gm_buf_release(&b);
	/* One byte short of the encoding: nothing is appended. */
	gm_buf_init(&b, 2 + 38 + 5);
	ASSERT_OK(gm_buf_append(&b, "z", 1));
	ASSERT_ERR(gm_dagpb_encode(&n, &b), GM_ELIMIT);
	ASSERT_EQ(b.len, 1);
	ASSERT_EQ(b.data[0], 'z');
	gm_buf_release(&b);
}

TEST(decode_replaces_on_success_and_keeps_on_failure)
{
	uint8_t buf[256];
	size_t len = unhex(n1_hex, buf, sizeof(buf));
	struct gm_dagpb_node n;
	struct gm_dagpb_link *before;

	gm_dagpb_node_init(&n);
	ASSERT_OK(gm_dagpb_decode(&n, buf, len, NULL));
	before = n.links;
	ASSERT_ERR(gm_dagpb_decode(&n, buf, len - 1, NULL), GM_EFORMAT);
	ASSERT(n.links == before);
	ASSERT_EQ(n.n_links, 2);
	/* Decoding again releases the old links (ASan checks for leaks). */
	ASSERT_OK(gm_dagpb_decode(&n, buf, 49, NULL));
	ASSERT_EQ(n.n_links, 1);
	ASSERT(!n.has_data);
	gm_dagpb_node_release(&n);
}

TEST(decode_and_encode_out_of_memory_walk)
{
	uint8_t buf[256];
	size_t len = unhex(n1_hex, buf, sizeof(buf));
	struct gm_dagpb_node n;
	struct gm_buf out;
	unsigned long i;
	gm_err e;
	bool failed = false;

	for (i = 1; i < 20; i++) {
		gm_dagpb_node_init(&n);
		gm_alloc_fail_after(i);
		e = gm_dagpb_decode(&n, buf, len, NULL);
		gm_alloc_fail_after(0);
		if (e) {
			ASSERT_ERR(e, GM_ENOMEM);
			ASSERT(n.links == NULL);
			failed = true;
			continue;
		}
		ASSERT_EQ(n.n_links, 2);
		gm_buf_init(&out, 4096);
		gm_alloc_fail_after(1);
		ASSERT_ERR(gm_dagpb_encode(&n, &out), GM_ENOMEM);
		gm_alloc_fail_after(0);
		ASSERT_EQ(out.len, 0);
		ASSERT_OK(gm_dagpb_encode(&n, &out));
		ASSERT_EQ(out.len, len);
		gm_buf_release(&out);
		gm_dagpb_node_release(&n);
		break;
	}
	ASSERT(failed);
	ASSERT(i < 20);
}

struct seen {
	struct gm_cid cids[4];
	size_t n;
	size_t stop_at;
};

static gm_err collect(void *ctx, const struct gm_cid *c)
{
	struct seen *s = ctx;

	if (s->n == s->stop_at)
		return GM_ENOENT;
	s->cids[s->n++] = *c;
	return GM_OK;
}

TEST(block_links_by_codec)
{
	uint8_t buf[256];
	size_t len = unhex(n1_hex, buf, sizeof(buf));
	struct gm_cid self = cid_of(n1_cid), a = cid_of(cid_a),
		      b = cid_of(cid_b), raw;
	struct seen s = {.stop_at = 99};

	ASSERT_OK(gm_block_links(&self, buf, len, collect, &s));
	ASSERT_EQ(s.n, 2);
	ASSERT(gm_cid_equal(&s.cids[0], &a));
	ASSERT(gm_cid_equal(&s.cids[1], &b));
	/* A raw block has no links, whatever its bytes. */
	s.n = 0;
	raw = cid_of(cid_a);
	ASSERT_OK(gm_block_links(&raw, buf, len, collect, &s));
	ASSERT_EQ(s.n, 0);
	/* dag-cbor is not walked here. */
	raw.codec = GM_CODEC_DAG_CBOR;
	ASSERT_ERR(gm_block_links(&raw, buf, len, collect, &s),
		   GM_EUNSUPPORTED);
	/* A malformed block yields no link at all, even the first. */
	ASSERT_ERR(gm_block_links(&self, buf, len - 1, collect, &s),
		   GM_EFORMAT);
	ASSERT_EQ(s.n, 0);
	/* The callback's error stops the walk. */
	s.stop_at = 1;
	ASSERT_ERR(gm_block_links(&self, buf, len, collect, &s), GM_ENOENT);
	ASSERT_EQ(s.n, 1);
}
