/*
 * test_pb.c - canonical protobuf writer and bounded reader.
 */
#include "harness.h"

#include "gm/buf.h"
#include "gm/pb.h"

static const uint8_t *next_field(struct gm_pb_reader *r, struct gm_pb_field *f)
{
	struct gm_diag d;

	gm_diag_clear(&d);
	if (gm_pb_next(r, f, &d))
		gm_test_fail(__FILE__, __LINE__, "gm_pb_next: %s", d.msg);
	return f->bytes;
}

TEST(writer_produces_canonical_bytes)
{
	static const uint8_t want[] = {
	    0x08, 0x01,				     /* 1: varint 1 */
	    0x12, 0x03, 'a',  'b',  'c',	     /* 2: "abc" */
	    0x18, 0xac, 0x02,			     /* 3: varint 300 */
	    0x22, 0x00,				     /* 4: empty bytes */
	    0x29, 1,	2,    3,    4,	 5, 6, 7, 8, /* 5: fixed64 */
	    0x32, 0x02, 0x08, 0x07,		     /* 6: nested { 1: 7 } */
	    0x80, 0x01, 0x00,			     /* 16: varint 0 */
	};
	struct gm_buf b, sub;

	gm_buf_init(&b, 1024);
	gm_buf_init(&sub, 1024);
	ASSERT_OK(gm_pb_put_uvarint(&b, 1, 1));
	ASSERT_OK(gm_pb_put_string(&b, 2, "abc"));
	ASSERT_OK(gm_pb_put_uvarint(&b, 3, 300));
	ASSERT_OK(gm_pb_put_bytes(&b, 4, NULL, 0));
	ASSERT_OK(gm_pb_put_fixed64(&b, 5, 0x0807060504030201ull));
	ASSERT_OK(gm_pb_put_uvarint(&sub, 1, 7));
	ASSERT_OK(gm_pb_put_message(&b, 6, &sub));
	ASSERT_OK(gm_pb_put_uvarint(&b, 16, 0));
	ASSERT_EQ(b.len, sizeof(want));
	ASSERT_MEMEQ(b.data, want, sizeof(want));
	ASSERT_ERR(gm_pb_put_uvarint(&b, 0, 1), GM_EINVAL);
	ASSERT_ERR(gm_pb_put_uvarint(&b, GM_PB_MAX_FIELD + 1, 1), GM_EINVAL);
	gm_buf_release(&b);
	gm_buf_release(&sub);
}

TEST(reader_round_trips_every_wire_type)
{
	struct gm_pb_reader r, inner;
	struct gm_pb_field f;
	struct gm_buf b, sub;

	gm_buf_init(&b, 4096);
	gm_buf_init(&sub, 4096);
	ASSERT_OK(gm_pb_put_uvarint(&b, 1, UINT64_MAX));
	ASSERT_OK(gm_pb_put_bytes(&b, 2, "\x00\xff", 2));
	ASSERT_OK(gm_pb_put_fixed64(&b, 3, 42));
	ASSERT_OK(gm_pb_put_string(&sub, 1, "inner"));
	ASSERT_OK(gm_pb_put_message(&b, GM_PB_MAX_FIELD, &sub));
	ASSERT_EQ(b.data[0], 0x08);
	ASSERT_EQ(b.data[1], 0xff);
	ASSERT_EQ(b.data[10], 0x01); /* UINT64_MAX takes 10 bytes */

	gm_pb_reader_init(&r, b.data, b.len);
	next_field(&r, &f);
	ASSERT_EQ(f.field, 1);
	ASSERT_EQ(f.wire, GM_PB_VARINT);
	ASSERT(f.u == UINT64_MAX);
	next_field(&r, &f);
	ASSERT_EQ(f.field, 2);
	ASSERT_EQ(f.wire, GM_PB_LEN);
	ASSERT_EQ(f.len, 2);
	ASSERT_MEMEQ(f.bytes, "\x00\xff", 2);
	next_field(&r, &f);
	ASSERT_EQ(f.wire, GM_PB_FIXED64);
	ASSERT_EQ(f.u, 42);
	next_field(&r, &f);
	ASSERT_EQ(f.field, GM_PB_MAX_FIELD);
	gm_pb_reader_init(&inner, f.bytes, f.len);
	next_field(&inner, &f);
	ASSERT_EQ(f.field, 1);
	ASSERT_EQ(f.len, 5);
	ASSERT_MEMEQ(f.bytes, "inner", 5);
	ASSERT(!gm_pb_reader_more(&inner));
	ASSERT(!gm_pb_reader_more(&r));
	gm_buf_release(&b);
	gm_buf_release(&sub);
}

TEST(reader_accepts_non_minimal_varints_and_fixed32)
{
	static const uint8_t in[] = {0x88, 0x00, 0x81, 0x80, 0x00,
				     0x15, 0x01, 0x00, 0x00, 0x80};
	struct gm_pb_reader r;
	struct gm_pb_field f;

	gm_pb_reader_init(&r, in, sizeof(in));
	next_field(&r, &f);
	ASSERT_EQ(f.field, 1);
	ASSERT_EQ(f.u, 1);
	ASSERT_EQ(f.offset, 0);
	next_field(&r, &f);
	ASSERT_EQ(f.field, 2);
	ASSERT_EQ(f.wire, GM_PB_FIXED32);
	ASSERT_EQ(f.u, 0x80000001u);
	ASSERT_EQ(f.offset, 5);
	ASSERT(!gm_pb_reader_more(&r));
}

static void expect_bad(const uint8_t *p, size_t len, const char *needle)
{
	struct gm_pb_reader r;
	struct gm_pb_field f;
	struct gm_diag d;
	gm_err e = GM_OK;

	gm_diag_clear(&d);
	gm_pb_reader_init(&r, p, len);
	while (gm_pb_reader_more(&r)) {
		e = gm_pb_next(&r, &f, &d);
		if (e)
			break;
	}
	ASSERT_ERR(e, GM_EFORMAT);
	if (!strstr(d.msg, needle))
		gm_test_fail(__FILE__, __LINE__, "'%s' lacks '%s'", d.msg,
			     needle);
}

TEST(reader_refuses_malformed_input)
{
	static const uint8_t trunc_key[] = {0x80};
	static const uint8_t trunc_varint[] = {0x08, 0x80, 0x80};
	static const uint8_t overlong[] = {0x08, 0x80, 0x80, 0x80, 0x80, 0x80,
					   0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
	static const uint8_t overflow[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
					   0xff, 0xff, 0xff, 0xff, 0x02};
	static const uint8_t past_end[] = {0x0a, 0x05, 'a', 'b'};
	static const uint8_t huge_len[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0xff,
					   0xff, 0xff, 0xff, 0xff, 0x01};
	static const uint8_t group_start[] = {0x0b};
	static const uint8_t group_end[] = {0x0c};
	static const uint8_t wire6[] = {0x0e};
	static const uint8_t field0[] = {0x00, 0x01};
	static const uint8_t trunc64[] = {0x09, 1, 2, 3};
	static const uint8_t trunc32[] = {0x0d, 1, 2, 3};
	static const uint8_t field_too_big[] = {0xf8, 0xff, 0xff,
						0xff, 0x1f, 0x00};

	expect_bad(trunc_key, sizeof(trunc_key), "field key");
	expect_bad(trunc_varint, sizeof(trunc_varint), "varint");
	expect_bad(overlong, sizeof(overlong), "overlong varint");
	expect_bad(overflow, sizeof(overflow), "varint");
	expect_bad(past_end, sizeof(past_end), "past the end");
	expect_bad(huge_len, sizeof(huge_len), "past the end");
	expect_bad(group_start, sizeof(group_start), "groups");
	expect_bad(group_end, sizeof(group_end), "groups");
	expect_bad(wire6, sizeof(wire6), "wire type 6");
	expect_bad(field0, sizeof(field0), "field number 0");
	expect_bad(trunc64, sizeof(trunc64), "fixed64");
	expect_bad(trunc32, sizeof(trunc32), "fixed32");
	expect_bad(field_too_big, sizeof(field_too_big), "invalid field");
}

TEST(read_uvarint_limits)
{
	static const uint8_t max[] = {0xff, 0xff, 0xff, 0xff, 0xff,
				      0xff, 0xff, 0xff, 0xff, 0x01};
	uint64_t v;
	size_t used;

	ASSERT_OK(gm_pb_read_uvarint(max, sizeof(max), &v, &used));
	ASSERT(v == UINT64_MAX);
	ASSERT_EQ(used, 10);
	ASSERT_ERR(gm_pb_read_uvarint(max, 9, &v, &used), GM_EFORMAT);
	ASSERT_ERR(gm_pb_read_uvarint(max, 0, &v, &used), GM_EFORMAT);
}

TEST(writer_reports_buffer_limit_and_enomem)
{
	struct gm_buf b;
	unsigned long n;
	gm_err e;

	gm_buf_init(&b, 4);
	ASSERT_ERR(gm_pb_put_string(&b, 1, "hello"), GM_ELIMIT);
	gm_buf_release(&b);

	for (n = 1;; n++) {
		gm_buf_init(&b, 1024);
		gm_alloc_fail_after(n);
		e = gm_pb_put_string(&b, 1, "hello");
		gm_alloc_fail_after(0);
		gm_buf_release(&b);
		if (!e)
			break;
		ASSERT_ERR(e, GM_ENOMEM);
		ASSERT(n < 10);
	}
}
