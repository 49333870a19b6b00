/*
 * test_identify.c - the Identify message codec and the Ping core.
 */
#include "harness.h"

#include "gm/alloc.h"
#include "gm/buf.h"
#include "gm/identify.h"
#include "gm/pb.h"

static void assert_diag_has(const struct gm_diag *d, const char *needle)
{
	if (!strstr(d->msg, needle))
		gm_test_fail(__FILE__, __LINE__, "diag '%s' lacks '%s'", d->msg,
			     needle);
}

static gm_err put_proto(struct gm_buf *b, int i)
{
	char s[32];

	snprintf(s, sizeof(s), "/p/%d", i);
	return gm_pb_put_string(b, 3, s);
}

static void fill_sample(struct gm_identify *id)
{
	struct gm_multiaddr ma;
	int i;

	gm_identify_init(id);
	id->has_key = true;
	for (i = 0; i < 32; i++)
		id->pk[i] = (uint8_t)i;
	ASSERT_OK(gm_multiaddr_parse(&ma, "/ip4/127.0.0.1/tcp/4001", 23,
				     NULL));
	ASSERT_OK(gm_identify_add_addr(id, &ma));
	ASSERT_OK(gm_identify_add_protocol(id, "/ipfs/ping/1.0.0"));
	ASSERT_OK(gm_multiaddr_parse(&id->observed, "/ip4/1.2.3.4/tcp/5",
				     18, NULL));
	id->has_observed = true;
	ASSERT_OK(gm_identify_set_versions(id, "ipfs/0.1.0", "ggen/1"));
}

/* The exact bytes of the sample message. */
static const uint8_t sample_bytes[] = {
	/* length: 2+36 + 2+8 + 2+16 + 2+8 + 2+10 + 2+6 = 96 */
	0x60,
	0x0a, 0x24, 0x08, 0x01, 0x12, 0x20, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
	11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
	28, 29, 30, 31,
	0x12, 0x08, 0x04, 127, 0, 0, 1, 0x06, 0x0f, 0xa1,
	0x1a, 0x10, '/', 'i', 'p', 'f', 's', '/', 'p', 'i', 'n', 'g', '/',
	'1', '.', '0', '.', '0',
	0x22, 0x08, 0x04, 1, 2, 3, 4, 0x06, 0x00, 0x05,
	0x2a, 0x0a, 'i', 'p', 'f', 's', '/', '0', '.', '1', '.', '0',
	0x32, 0x06, 'g', 'g', 'e', 'n', '/', '1',
};

TEST(identify_encode_exact_bytes)
{
	struct gm_identify id;
	struct gm_buf b;

	fill_sample(&id);
	gm_buf_init(&b, 1 << 20);
	ASSERT_OK(gm_identify_encode(&id, &b, NULL));
	ASSERT_EQ(b.len, sizeof(sample_bytes));
	ASSERT_MEMEQ(b.data, sample_bytes, sizeof(sample_bytes));
	gm_buf_release(&b);
	gm_identify_release(&id);
}

TEST(identify_decode_round_trip)
{
	struct gm_identify id;
	bool complete;
	size_t off, blen;
	char text[GM_MULTIADDR_MAX_STR];

	ASSERT_OK(gm_identify_frame(sample_bytes, sizeof(sample_bytes),
				    &complete, &off, &blen, NULL));
	ASSERT(complete);
	ASSERT_EQ(off, 1);
	ASSERT_EQ(blen, 96);
	ASSERT_OK(gm_identify_decode(&id, sample_bytes + off, blen, NULL));
	ASSERT(id.has_key);
	ASSERT_EQ(id.pk[31], 31);
	ASSERT_EQ(id.n_addrs, 1);
	gm_multiaddr_format(&id.addrs[0], text, sizeof(text));
	ASSERT_STREQ(text, "/ip4/127.0.0.1/tcp/4001");
	ASSERT_EQ(id.n_protocols, 1);
	ASSERT_STREQ(id.protocols[0], "/ipfs/ping/1.0.0");
	ASSERT(gm_identify_has_protocol(&id, "/ipfs/ping/1.0.0"));
	ASSERT(!gm_identify_has_protocol(&id, "/ipfs/id/1.0.0"));
	ASSERT(id.has_observed);
	gm_multiaddr_format(&id.observed, text, sizeof(text));
	ASSERT_STREQ(text, "/ip4/1.2.3.4/tcp/5");
	ASSERT_STREQ(id.protocol_version, "ipfs/0.1.0");
	ASSERT_STREQ(id.agent_version, "ggen/1");
	gm_identify_release(&id);
}

TEST(identify_frame_partial)
{
	bool complete = true;
	size_t off = 0, blen = 0, i;
	struct gm_diag d;
	static const uint8_t big[] = {0x81, 0x80, 0x08};

	for (i = 0; i < sizeof(sample_bytes); i++) {
		ASSERT_OK(gm_identify_frame(sample_bytes, i, &complete, &off,
					    &blen, NULL));
		ASSERT(!complete);
	}
	gm_diag_clear(&d);
	ASSERT_ERR(gm_identify_frame(big, sizeof(big), &complete, &off, &blen,
				     &d),
		   GM_ELIMIT);
	assert_diag_has(&d, "limit");
}

TEST(identify_decode_skips_unknown)
{
	/* field 8 (signedPeerRecord), an unknown multiaddr, an RSA key */
	static const uint8_t msg[] = {
		0x0a, 0x04, 0x08, 0x00, 0x12, 0x00,
		0x12, 0x02, 0xcc, 0x03,
		0x42, 0x03, 1, 2, 3,
		0x1a, 0x02, '/', 'a',
	};
	struct gm_identify id;

	ASSERT_OK(gm_identify_decode(&id, msg, sizeof(msg), NULL));
	ASSERT(!id.has_key);
	ASSERT_EQ(id.n_addrs, 0);
	ASSERT_EQ(id.n_protocols, 1);
	ASSERT_STREQ(id.protocols[0], "/a");
	gm_identify_release(&id);
}

TEST(identify_decode_refuses_bad)
{
	static const uint8_t wire[] = {0x18, 0x01};
	static const uint8_t trunc[] = {0x1a, 0x05, '/', 'a'};
	static const uint8_t nul[] = {0x1a, 0x02, '/', 0};
	struct gm_identify id;
	struct gm_diag d;

	gm_diag_clear(&d);
	ASSERT_ERR(gm_identify_decode(&id, wire, sizeof(wire), &d),
		   GM_EFORMAT);
	assert_diag_has(&d, "field 3");
	gm_identify_release(&id);
	ASSERT_ERR(gm_identify_decode(&id, trunc, sizeof(trunc), NULL),
		   GM_EFORMAT);
	gm_identify_release(&id);
	gm_diag_clear(&d);
	ASSERT_ERR(gm_identify_decode(&id, nul, sizeof(nul), &d),
		   GM_EFORMAT);
	assert_diag_has(&d, "protocol");
	gm_identify_release(&id);
}

TEST(identify_decode_limits)
{
	struct gm_buf b;
	struct gm_identify id;
	struct gm_diag d;
	int i;

	gm_buf_init(&b, 1 << 20);
	for (i = 0; i < GM_IDENTIFY_MAX_PROTOCOLS + 1; i++)
		ASSERT_OK(put_proto(&b, i));
	gm_diag_clear(&d);
	ASSERT_ERR(gm_identify_decode(&id, b.data, b.len, &d), GM_ELIMIT);
	assert_diag_has(&d, "protocols");
	gm_identify_release(&id);
	gm_buf_reset(&b);
	for (i = 0; i < GM_IDENTIFY_MAX_ADDRS + 1; i++) {
		static const uint8_t a[] = {0x12, 0x08, 0x04, 10, 0, 0, 1,
					    0x06, 0x00, 0x01};

		ASSERT_OK(gm_buf_append(&b, a, sizeof(a)));
	}
	gm_diag_clear(&d);
	ASSERT_ERR(gm_identify_decode(&id, b.data, b.len, &d), GM_ELIMIT);
	assert_diag_has(&d, "addresses");
	gm_identify_release(&id);
	gm_buf_release(&b);
	ASSERT_ERR(gm_identify_decode(&id, (const uint8_t *)"",
				      GM_IDENTIFY_MAX_MSG + 1, NULL),
		   GM_ELIMIT);
	gm_identify_release(&id);
}

TEST(identify_merge_push)
{
	struct gm_identify known, upd;

	fill_sample(&known);
	gm_identify_init(&upd);
	ASSERT_OK(gm_identify_add_protocol(&upd, "/ggen/echo/1.0.0"));
	ASSERT_OK(gm_identify_add_protocol(&upd, "/ipfs/id/1.0.0"));
	ASSERT_OK(gm_identify_merge(&known, &upd));
	ASSERT_EQ(known.n_protocols, 2);
	ASSERT_STREQ(known.protocols[0], "/ggen/echo/1.0.0");
	ASSERT_EQ(known.n_addrs, 1);
	ASSERT(known.has_key);
	ASSERT_STREQ(known.agent_version, "ggen/1");
	gm_identify_release(&upd);
	gm_identify_release(&known);
}

TEST(identify_encode_oom)
{
	unsigned long n;
	gm_err e;

	for (n = 1;; n++) {
		struct gm_identify id, back;
		struct gm_buf b;

		fill_sample(&id);
		gm_buf_init(&b, 1 << 20);
		gm_alloc_fail_after(n);
		e = gm_identify_encode(&id, &b, NULL);
		if (!e) {
			e = gm_identify_decode(&back, b.data + 1, b.len - 1,
					       NULL);
			gm_identify_release(&back);
		}
		gm_alloc_fail_after(0);
		gm_buf_release(&b);
		gm_identify_release(&id);
		ASSERT(e == GM_OK || e == GM_ENOMEM);
		if (!e)
			break;
	}
	ASSERT(n > 1);
}

TEST(ping_round_trip)
{
	struct gm_ping p;
	struct gm_ping_echo echo;
	struct gm_buf to_lis, to_dial;
	uint8_t payload[GM_PING_SIZE];
	size_t used, i;
	bool pong;
	uint64_t rtt;
	int round;

	gm_ping_init(&p);
	gm_ping_echo_init(&echo);
	gm_buf_init(&to_lis, 1024);
	gm_buf_init(&to_dial, 1024);
	for (round = 0; round < 3; round++) {
		memset(payload, 'a' + round, sizeof(payload));
		gm_buf_reset(&to_lis);
		gm_buf_reset(&to_dial);
		ASSERT_OK(gm_ping_send(&p, round ? NULL : payload,
				       1000 * (uint64_t)round, &to_lis));
		ASSERT_ERR(gm_ping_send(&p, NULL, 0, &to_lis), GM_EINVAL);
		ASSERT_EQ(to_lis.len, 32);
		if (!round)
			ASSERT_MEMEQ(to_lis.data, payload, 32);
		/* the listener gets it one byte at a time */
		for (i = 0; i < 32; i++) {
			ASSERT_OK(gm_ping_echo_feed(&echo, to_lis.data + i, 1,
						    &to_dial));
			ASSERT_EQ(to_dial.len, i == 31 ? 32 : 0);
		}
		ASSERT_OK(gm_ping_feed(&p, to_dial.data, 20, 0, &used, &pong,
				       &rtt, NULL));
		ASSERT_EQ(used, 20);
		ASSERT(!pong);
		ASSERT_OK(gm_ping_feed(&p, to_dial.data + 20, 12,
				       1000 * (uint64_t)round + 420, &used,
				       &pong, &rtt, NULL));
		ASSERT(pong);
		ASSERT_EQ(rtt, 420);
	}
	ASSERT_EQ(p.count, 3);
	gm_buf_release(&to_lis);
	gm_buf_release(&to_dial);
}

TEST(ping_refuses_wrong_answer)
{
	struct gm_ping p;
	struct gm_buf out;
	uint8_t bad[GM_PING_SIZE];
	struct gm_diag d;
	size_t used;
	bool pong;
	uint64_t rtt;

	gm_ping_init(&p);
	gm_buf_init(&out, 1024);
	gm_diag_clear(&d);
	ASSERT_ERR(gm_ping_feed(&p, bad, 1, 0, &used, &pong, &rtt, &d),
		   GM_EPROTO);
	assert_diag_has(&d, "no ping");
	ASSERT_OK(gm_ping_send(&p, NULL, 0, &out));
	memcpy(bad, out.data, 32);
	bad[7] ^= 1;
	gm_diag_clear(&d);
	ASSERT_ERR(gm_ping_feed(&p, bad, 32, 5, &used, &pong, &rtt, &d),
		   GM_EPROTO);
	ASSERT(!pong);
	assert_diag_has(&d, "different");
	gm_buf_release(&out);
}
