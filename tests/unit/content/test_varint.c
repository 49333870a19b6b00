/*
 * test_varint.c - multiformats unsigned varints: known encodings, the
 * 9-byte limit, minimality and truncation.
 */
#include "harness.h"

#include "gm/varint.h"

struct vec {
	uint64_t v;
	size_t n;
	uint8_t b[GM_VARINT_MAX];
};

static const struct vec vecs[] = {
    {0, 1, {0x00}},
    {1, 1, {0x01}},
    {127, 1, {0x7f}},
    {128, 2, {0x80, 0x01}},
    {255, 2, {0xff, 0x01}},
    {300, 2, {0xac, 0x02}},
    {16384, 3, {0x80, 0x80, 0x01}},
    {0x70, 1, {0x70}},
    {0xb220, 3, {0xa0, 0xe4, 0x02}},
    {(1ULL << 63) - 1,
     9,
     {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}},
};

TEST(varint_known_vectors_encode_and_decode)
{
	size_t i;

	for (i = 0; i < GM_ARRAY_LEN(vecs); i++) {
		uint8_t out[GM_VARINT_MAX];
		uint64_t v = 0;
		size_t used = 0;

		ASSERT_EQ(gm_varint_encode(vecs[i].v, out), vecs[i].n);
		ASSERT_EQ(gm_varint_size(vecs[i].v), vecs[i].n);
		ASSERT_MEMEQ(out, vecs[i].b, vecs[i].n);
		ASSERT_OK(gm_varint_decode(vecs[i].b, vecs[i].n, &v, &used));
		ASSERT_EQ(v, vecs[i].v);
		ASSERT_EQ(used, vecs[i].n);
	}
}

TEST(varint_decode_stops_at_the_end_of_the_varint)
{
	const uint8_t b[] = {0xac, 0x02, 0x05, 0xff};
	uint64_t v;
	size_t used;

	ASSERT_OK(gm_varint_decode(b, sizeof(b), &v, &used));
	ASSERT_EQ(v, 300);
	ASSERT_EQ(used, 2);
	ASSERT_OK(gm_varint_decode(b + 2, 2, &v, NULL));
	ASSERT_EQ(v, 5);
}

TEST(varint_refuses_non_minimal_encodings)
{
	const uint8_t a[] = {0x80, 0x00};
	const uint8_t b[] = {0x81, 0x80, 0x00};
	const uint8_t c[] = {0xff, 0x80, 0x80, 0x80, 0x00};
	uint64_t v = 77;

	ASSERT_ERR(gm_varint_decode(a, sizeof(a), &v, NULL), GM_EFORMAT);
	ASSERT_ERR(gm_varint_decode(b, sizeof(b), &v, NULL), GM_EFORMAT);
	ASSERT_ERR(gm_varint_decode(c, sizeof(c), &v, NULL), GM_EFORMAT);
	ASSERT_EQ(v, 77);
}

TEST(varint_refuses_truncated_and_overlong)
{
	const uint8_t t1[] = {0x80};
	const uint8_t t2[] = {0xff, 0xff};
	const uint8_t ten[] = {0x80, 0x80, 0x80, 0x80, 0x80,
			       0x80, 0x80, 0x80, 0x80, 0x01};
	uint8_t out[GM_VARINT_MAX];
	uint64_t v;

	ASSERT_ERR(gm_varint_decode(t1, 0, &v, NULL), GM_EFORMAT);
	ASSERT_ERR(gm_varint_decode(t1, 1, &v, NULL), GM_EFORMAT);
	ASSERT_ERR(gm_varint_decode(t2, 2, &v, NULL), GM_EFORMAT);
	ASSERT_ERR(gm_varint_decode(ten, sizeof(ten), &v, NULL), GM_EFORMAT);
	/* 2^63 needs ten bytes: encodable, but refused on input. */
	ASSERT_EQ(gm_varint_encode(1ULL << 63, out), 10);
	ASSERT_MEMEQ(out, ten, 10);
	ASSERT_EQ(gm_varint_size(UINT64_MAX), 10);
	ASSERT_ERR(gm_varint_decode(out, 10, &v, NULL), GM_EFORMAT);
}

TEST(varint_round_trips_every_size)
{
	uint8_t out[GM_VARINT_MAX];
	unsigned shift;

	for (shift = 0; shift < 63; shift++) {
		uint64_t vals[3], v;
		size_t i, n, used;

		vals[0] = 1ULL << shift;
		vals[1] = (1ULL << shift) - 1;
		vals[2] = (1ULL << shift) | 0x55;
		for (i = 0; i < 3; i++) {
			n = gm_varint_encode(vals[i], out);
			ASSERT_EQ(n, gm_varint_size(vals[i]));
			ASSERT_OK(gm_varint_decode(out, n, &v, &used));
			ASSERT_EQ(v, vals[i]);
			ASSERT_EQ(used, n);
			if (n > 1)
				ASSERT_ERR(
				    gm_varint_decode(out, n - 1, &v, NULL),
				    GM_EFORMAT);
		}
	}
}
