/*
 * test_multistream.c - multistream-select 1.0 negotiation, in memory.
 */
#include "harness.h"

#include "gm/buf.h"
#include "gm/multistream.h"

#define HDR "\x13/multistream/1.0.0\n"
#define HDR_LEN 20

static void assert_diag_has(const struct gm_diag *d, const char *needle)
{
	if (!strstr(d->msg, needle))
		gm_test_fail(__FILE__, __LINE__, "diag '%s' lacks '%s'", d->msg,
			     needle);
}

static void assert_buf(const struct gm_buf *b, const char *want, size_t n)
{
	if (b->len != n || (n && memcmp(b->data, want, n) != 0))
		gm_test_fail(__FILE__, __LINE__,
			     "buffer of %zu bytes differs from %zu expected",
			     b->len, n);
}

/*
 * Runs dialer and listener against each other, moving bytes in pieces of
 * step bytes, until both are done or one fails. Returns the first error.
 */
static gm_err pump(struct gm_mss *dial, struct gm_mss *lis, size_t step,
		   struct gm_diag *d)
{
	struct gm_buf to_lis, to_dial, tmp;
	size_t off, n;
	gm_err e = GM_OK;
	int rounds;

	gm_buf_init(&to_lis, 1 << 16);
	gm_buf_init(&to_dial, 1 << 16);
	gm_buf_init(&tmp, 1 << 16);
	e = gm_mss_feed(dial, NULL, 0, &to_lis, d);
	for (rounds = 0; !e && rounds < 100; rounds++) {
		if (gm_mss_done(dial) && gm_mss_done(lis))
			break;
		gm_buf_reset(&tmp);
		for (off = 0; !e && off < to_lis.len; off += n) {
			n = to_lis.len - off < step ? to_lis.len - off : step;
			e = gm_mss_feed(lis, to_lis.data + off, n, &tmp, d);
		}
		gm_buf_reset(&to_lis);
		if (!e)
			e = gm_buf_append(&to_dial, tmp.data, tmp.len);
		gm_buf_reset(&tmp);
		for (off = 0; !e && off < to_dial.len; off += n) {
			n = to_dial.len - off < step ? to_dial.len - off : step;
			e = gm_mss_feed(dial, to_dial.data + off, n, &tmp, d);
		}
		gm_buf_reset(&to_dial);
		if (!e)
			e = gm_buf_append(&to_lis, tmp.data, tmp.len);
	}
	gm_buf_release(&to_lis);
	gm_buf_release(&to_dial);
	gm_buf_release(&tmp);
	return e;
}

TEST(dialer_first_write_is_header_and_proposal)
{
	static const char *const protos[] = {"/noise"};
	struct gm_mss m;
	struct gm_buf out;

	gm_buf_init(&out, 4096);
	ASSERT_OK(gm_mss_init_dialer(&m, protos, 1, NULL));
	ASSERT_OK(gm_mss_feed(&m, NULL, 0, &out, NULL));
	assert_buf(&out, HDR "\x07/noise\n", HDR_LEN + 8);
	ASSERT(!gm_mss_done(&m));
	ASSERT(gm_mss_protocol(&m) == NULL);
	/* The listener answers header and echo in one chunk. */
	gm_buf_reset(&out);
	ASSERT_OK(gm_mss_feed(&m, (const uint8_t *)HDR "\x07/noise\n",
			      HDR_LEN + 8, &out, NULL));
	ASSERT(gm_mss_done(&m));
	ASSERT_STREQ(gm_mss_protocol(&m), "/noise");
	ASSERT_EQ(out.len, 0);
	gm_mss_release(&m);
	gm_buf_release(&out);
}

TEST(listener_answers_header_and_proposal_in_one_chunk)
{
	static const char *const sup[] = {"/yamux/1.0.0", "/noise"};
	static const char in[] = HDR "\x07/noise\n";
	struct gm_mss m;
	struct gm_buf out, rest;

	gm_buf_init(&out, 4096);
	gm_buf_init(&rest, 4096);
	ASSERT_OK(gm_mss_init_listener(&m, sup, 2, NULL));
	ASSERT_OK(
	    gm_mss_feed(&m, (const uint8_t *)in, sizeof(in) - 1, &out, NULL));
	assert_buf(&out, HDR "\x07/noise\n", HDR_LEN + 8);
	ASSERT(gm_mss_done(&m));
	ASSERT_STREQ(gm_mss_protocol(&m), "/noise");
	ASSERT_OK(gm_mss_take_rest(&m, &rest));
	ASSERT_EQ(rest.len, 0);
	gm_mss_release(&m);
	gm_buf_release(&out);
	gm_buf_release(&rest);
}

TEST(dialer_against_listener_whole_and_byte_by_byte)
{
	static const char *const want[] = {"/tls/1.0.0", "/noise"};
	static const char *const sup[] = {"/yamux/1.0.0", "/noise"};
	size_t steps[] = {1, 2, 3, 7, 1000};
	struct gm_mss dial, lis;
	struct gm_diag d;
	size_t i;

	for (i = 0; i < GM_ARRAY_LEN(steps); i++) {
		ASSERT_OK(gm_mss_init_dialer(&dial, want, 2, NULL));
		ASSERT_OK(gm_mss_init_listener(&lis, sup, 2, NULL));
		gm_diag_clear(&d);
		if (pump(&dial, &lis, steps[i], &d))
			gm_test_fail(__FILE__, __LINE__, "step %zu: %s",
				     steps[i], d.msg);
		ASSERT(gm_mss_done(&dial));
		ASSERT(gm_mss_done(&lis));
		ASSERT_STREQ(gm_mss_protocol(&dial), "/noise");
		ASSERT_STREQ(gm_mss_protocol(&lis), "/noise");
		gm_mss_release(&dial);
		gm_mss_release(&lis);
	}
}

TEST(dialer_falls_back_after_na)
{
	static const char *const want[] = {"/tls/1.0.0", "/noise"};
	struct gm_mss m;
	struct gm_buf out;

	gm_buf_init(&out, 4096);
	ASSERT_OK(gm_mss_init_dialer(&m, want, 2, NULL));
	ASSERT_OK(gm_mss_feed(&m, NULL, 0, &out, NULL));
	gm_buf_reset(&out);
	ASSERT_OK(gm_mss_feed(&m, (const uint8_t *)HDR "\x03na\n", HDR_LEN + 4,
			      &out, NULL));
	assert_buf(&out, "\x07/noise\n", 8);
	ASSERT(!gm_mss_done(&m));
	ASSERT_OK(gm_mss_feed(&m, (const uint8_t *)"\x07/noise\nAPP", 11, &out,
			      NULL));
	ASSERT_STREQ(gm_mss_protocol(&m), "/noise");
	gm_buf_reset(&out);
	ASSERT_OK(gm_mss_take_rest(&m, &out));
	assert_buf(&out, "APP", 3);
	gm_mss_release(&m);
	gm_buf_release(&out);
}

TEST(dialer_fails_when_proposals_are_exhausted)
{
	static const char *const want[] = {"/tls/1.0.0", "/noise"};
	static const char *const sup[] = {"/quic"};
	struct gm_mss dial, lis;
	struct gm_diag d;

	ASSERT_OK(gm_mss_init_dialer(&dial, want, 2, NULL));
	ASSERT_OK(gm_mss_init_listener(&lis, sup, 1, NULL));
	gm_diag_clear(&d);
	ASSERT_ERR(pump(&dial, &lis, 5, &d), GM_EUNSUPPORTED);
	assert_diag_has(&d, "refused all 2");
	assert_diag_has(&d, "/noise");
	ASSERT(gm_mss_failed(&dial));
	ASSERT(!gm_mss_done(&lis));
	/* A failed side stays failed. */
	gm_diag_clear(&d);
	ASSERT_ERR(gm_mss_feed(&dial, (const uint8_t *)"\x03na\n", 4, NULL, &d),
		   GM_EPROTO);
	assert_diag_has(&d, "already failed");
	gm_mss_release(&dial);
	gm_mss_release(&lis);
}

TEST(application_bytes_after_negotiation_are_kept)
{
	static const char *const sup[] = {"/ipfs/ping/1.0.0"};
	static const char in[] = HDR "\x11/ipfs/ping/1.0.0\nPING";
	struct gm_mss m;
	struct gm_buf out, rest;

	gm_buf_init(&out, 4096);
	gm_buf_init(&rest, 4096);
	ASSERT_OK(gm_mss_init_listener(&m, sup, 1, NULL));
	ASSERT_OK(
	    gm_mss_feed(&m, (const uint8_t *)in, sizeof(in) - 1, &out, NULL));
	ASSERT(gm_mss_done(&m));
	ASSERT_OK(gm_mss_feed(&m, (const uint8_t *)"MORE", 4, &out, NULL));
	ASSERT_OK(gm_mss_take_rest(&m, &rest));
	assert_buf(&rest, "PINGMORE", 8);
	gm_buf_reset(&rest);
	ASSERT_OK(gm_mss_take_rest(&m, &rest));
	ASSERT_EQ(rest.len, 0);
	/* A full out buffer keeps the bytes in m. */
	ASSERT_OK(gm_mss_feed(&m, (const uint8_t *)"XYZ", 3, &out, NULL));
	gm_buf_release(&rest);
	gm_buf_init(&rest, 2);
	ASSERT_ERR(gm_mss_take_rest(&m, &rest), GM_ELIMIT);
	gm_buf_release(&rest);
	gm_buf_init(&rest, 16);
	ASSERT_OK(gm_mss_take_rest(&m, &rest));
	assert_buf(&rest, "XYZ", 3);
	gm_mss_release(&m);
	gm_buf_release(&out);
	gm_buf_release(&rest);
}

TEST(listener_answers_na_and_ls)
{
	static const char *const sup[] = {"/a", "/bc"};
	static const char in[] = HDR "\x03ls\n\x03/x\n\x04/bc\n";
	/* ls: one message holding "\x03/a\n" "\x04/bc\n" and a newline. */
	static const char want[] = HDR "\x0a\x03/a\n\x04/bc\n\n"
				       "\x03na\n\x04/bc\n";
	struct gm_mss m;
	struct gm_buf out;

	gm_buf_init(&out, 4096);
	ASSERT_OK(gm_mss_init_listener(&m, sup, 2, NULL));
	ASSERT_OK(
	    gm_mss_feed(&m, (const uint8_t *)in, sizeof(in) - 1, &out, NULL));
	assert_buf(&out, want, sizeof(want) - 1);
	ASSERT_STREQ(gm_mss_protocol(&m), "/bc");
	gm_mss_release(&m);
	gm_buf_release(&out);
}

static void expect_fail(bool dialer, const char *in, size_t len, gm_err want,
			const char *needle)
{
	static const char *const protos[] = {"/noise"};
	struct gm_mss m;
	struct gm_buf out;
	struct gm_diag d;
	gm_err e;

	gm_buf_init(&out, 4096);
	if (dialer)
		ASSERT_OK(gm_mss_init_dialer(&m, protos, 1, NULL));
	else
		ASSERT_OK(gm_mss_init_listener(&m, protos, 1, NULL));
	gm_diag_clear(&d);
	e = gm_mss_feed(&m, (const uint8_t *)in, len, &out, &d);
	if (e != want || !strstr(d.msg, needle))
		gm_test_fail(__FILE__, __LINE__, "%s: %s '%s' lacks '%s'",
			     dialer ? "dialer" : "listener", gm_errname(e),
			     d.msg, needle);
	ASSERT(gm_mss_failed(&m));
	ASSERT(!gm_mss_done(&m));
	gm_mss_release(&m);
	gm_buf_release(&out);
}

TEST(malformed_and_oversized_messages_fail_with_a_reason)
{
	char big[2 + 1025];
	size_t i;

	for (i = 0; i < 2; i++) {
		bool dial = i == 0;

		expect_fail(dial, "\x81\x08", 2, GM_ELIMIT, "1025 bytes");
		expect_fail(dial, "\x80\x80\x01", 3, GM_ELIMIT, "longer");
		expect_fail(dial, "\x00", 1, GM_EPROTO, "empty message");
		expect_fail(dial, "\x83\x00", 2, GM_EPROTO, "minimal");
		expect_fail(dial,
			    "\x03"
			    "abc",
			    4, GM_EPROTO, "newline");
		expect_fail(dial,
			    "\x04"
			    "a\tb\n",
			    5, GM_EPROTO, "control character 0x09");
		expect_fail(dial, "\x13/multistream/2.0.0\n", 20, GM_EPROTO,
			    "expected the header");
		expect_fail(dial, "\x07/noise\n", 8, GM_EPROTO,
			    "expected the header");
	}
	expect_fail(true, HDR "\x05/tls\n", HDR_LEN + 6, GM_EPROTO,
		    "unexpected answer '/tls' to proposal '/noise'");
	expect_fail(true, HDR "\x03ls\n", HDR_LEN + 4, GM_EPROTO,
		    "unexpected answer");

	/* 1024 bytes is the largest message: fine as a refused proposal. */
	{
		static const char *const protos[] = {"/noise"};
		struct gm_mss m;
		struct gm_buf out;

		big[0] = (char)0x80;
		big[1] = 0x08;
		memset(big + 2, 'x', 1023);
		big[2 + 1023] = '\n';
		gm_buf_init(&out, 4096);
		ASSERT_OK(gm_mss_init_listener(&m, protos, 1, NULL));
		ASSERT_OK(
		    gm_mss_feed(&m, (const uint8_t *)HDR, HDR_LEN, &out, NULL));
		gm_buf_reset(&out);
		ASSERT_OK(gm_mss_feed(&m, (const uint8_t *)big, 2 + 1024, &out,
				      NULL));
		assert_buf(&out, "\x03na\n", 4);
		gm_mss_release(&m);
		gm_buf_release(&out);
	}
}

TEST(listener_limits_the_number_of_proposals)
{
	static const char *const sup[] = {"/noise"};
	struct gm_mss m;
	struct gm_buf out;
	struct gm_diag d;
	gm_err e = GM_OK;
	int i;

	gm_buf_init(&out, 1 << 16);
	ASSERT_OK(gm_mss_init_listener(&m, sup, 1, NULL));
	ASSERT_OK(gm_mss_feed(&m, (const uint8_t *)HDR, HDR_LEN, &out, NULL));
	gm_diag_clear(&d);
	for (i = 0; i <= GM_MSS_MAX_ATTEMPTS && !e; i++)
		e = gm_mss_feed(&m, (const uint8_t *)"\x03/x\n", 4, &out, &d);
	ASSERT_ERR(e, GM_ELIMIT);
	ASSERT_EQ(i, GM_MSS_MAX_ATTEMPTS + 1);
	assert_diag_has(&d, "proposals");
	gm_mss_release(&m);
	gm_buf_release(&out);
}

TEST(init_refuses_bad_protocol_lists)
{
	static const char *const empty[] = {""};
	static const char *const nl[] = {"/a\nb"};
	static const char *const na[] = {"na"};
	static const char *const ok[] = {"/a"};
	struct gm_mss m;
	struct gm_diag d;

	gm_diag_clear(&d);
	ASSERT_ERR(gm_mss_init_dialer(&m, ok, 0, &d), GM_EINVAL);
	assert_diag_has(&d, "0 protocols");
	gm_mss_release(&m);
	ASSERT_ERR(gm_mss_init_dialer(&m, empty, 1, NULL), GM_EINVAL);
	gm_mss_release(&m);
	ASSERT_ERR(gm_mss_init_listener(&m, nl, 1, NULL), GM_EINVAL);
	gm_mss_release(&m);
	ASSERT_ERR(gm_mss_init_listener(&m, na, 1, NULL), GM_EINVAL);
	ASSERT(gm_mss_failed(&m));
	gm_mss_release(&m);
	ASSERT_OK(gm_mss_init_listener(&m, ok, 0, NULL));
	gm_mss_release(&m);
}

TEST(feed_walks_out_of_memory_paths)
{
	static const char *const sup[] = {"/ipfs/ping/1.0.0"};
	static const char in[] = HDR "\x03/x\n\x11/ipfs/ping/1.0.0\nPING";
	struct gm_mss m;
	struct gm_buf out, rest;
	unsigned long n;
	gm_err e;

	for (n = 1;; n++) {
		gm_buf_init(&out, 4096);
		gm_buf_init(&rest, 4096);
		ASSERT_OK(gm_mss_init_listener(&m, sup, 1, NULL));
		gm_alloc_fail_after(n);
		e = gm_mss_feed(&m, (const uint8_t *)in, sizeof(in) - 1, &out,
				NULL);
		if (!e)
			e = gm_mss_take_rest(&m, &rest);
		gm_alloc_fail_after(0);
		if (!e) {
			ASSERT_STREQ(gm_mss_protocol(&m), "/ipfs/ping/1.0.0");
			assert_buf(&rest, "PING", 4);
		}
		gm_mss_release(&m);
		gm_buf_release(&out);
		gm_buf_release(&rest);
		if (!e)
			break;
		ASSERT_ERR(e, GM_ENOMEM);
		ASSERT(n < 20);
	}
	ASSERT(n > 1);
}
