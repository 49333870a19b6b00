/*
 * test_peerid.c - libp2p public keys, peer ids and multiaddrs.
 */
#include "harness.h"

#include "gm/multiaddr.h"
#include "gm/peerid.h"

/* Spec vector from libp2p/specs peer-ids. */
static const uint8_t spec_key_pb[] = {
    0x08, 0x01, 0x12, 0x20, 0x1e, 0xd1, 0xe8, 0xfa, 0xe2, 0xc4, 0xa1, 0x44,
    0xb8, 0xbe, 0x8f, 0xd4, 0xb4, 0x7b, 0xf3, 0xd3, 0xb3, 0x4b, 0x87, 0x1c,
    0x3c, 0xac, 0xf6, 0x01, 0x0f, 0x0e, 0x42, 0xd4, 0x74, 0xfc, 0xe2, 0x7e,
};
#define SPEC_ID "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"
/* The same id as a CIDv1 libp2p-key, computed with Python's base64. */
#define SPEC_CID                                                               \
	"bafzaajaiaejcahwr5d5ofrfbis4l5d6uwr57hu5tjodrypfm6yaq6dsc2r2pzyt6"
/* A sha2-256 (RSA key) peer id: an IPFS bootstrap node. */
#define RSA_ID "QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN"

static void assert_diag_has(const struct gm_diag *d, const char *needle)
{
	if (!strstr(d->msg, needle))
		gm_test_fail(__FILE__, __LINE__, "diag '%s' lacks '%s'", d->msg,
			     needle);
}

TEST(peerid_spec_vector)
{
	uint8_t pb[GM_PUBKEY_PB_ED25519_LEN], pk[32];
	char s[GM_PEERID_MAX_STR];
	struct gm_peerid id, parsed;

	gm_pubkey_encode_ed25519(spec_key_pb + 4, pb);
	ASSERT_MEMEQ(pb, spec_key_pb, sizeof(spec_key_pb));
	gm_peerid_from_ed25519(&id, spec_key_pb + 4);
	ASSERT_EQ(id.len, 38);
	ASSERT_EQ(id.bytes[0], 0x00);
	ASSERT_EQ(id.bytes[1], 0x24);
	ASSERT_MEMEQ(id.bytes + 2, spec_key_pb, 36);
	ASSERT_EQ(gm_peerid_format(&id, s, sizeof(s)), strlen(SPEC_ID));
	ASSERT_STREQ(s, SPEC_ID);
	ASSERT_EQ(gm_peerid_format(&id, s, 10), 0);

	ASSERT_OK(gm_peerid_parse(&parsed, SPEC_ID, strlen(SPEC_ID), NULL));
	ASSERT(gm_peerid_equal(&id, &parsed));
	ASSERT_OK(gm_peerid_ed25519_key(&parsed, pk, NULL));
	ASSERT_MEMEQ(pk, spec_key_pb + 4, 32);
}

TEST(peerid_cid_form_parses_and_formats)
{
	char s[128];
	struct gm_peerid id, b58;

	ASSERT_OK(gm_peerid_parse(&id, SPEC_CID, strlen(SPEC_CID), NULL));
	ASSERT_OK(gm_peerid_parse(&b58, SPEC_ID, strlen(SPEC_ID), NULL));
	ASSERT(gm_peerid_equal(&id, &b58));
	ASSERT_EQ(gm_peerid_format_cid(&id, s, sizeof(s)), strlen(SPEC_CID));
	ASSERT_STREQ(s, SPEC_CID);
	gm_peerid_format(&id, s, sizeof(s));
	ASSERT_STREQ(s, SPEC_ID);
}

TEST(peerid_sha256_form_round_trips_without_key)
{
	char s[GM_PEERID_MAX_STR];
	struct gm_peerid id;
	struct gm_diag d;
	uint8_t pk[32];

	ASSERT_OK(gm_peerid_parse(&id, RSA_ID, strlen(RSA_ID), NULL));
	ASSERT_EQ(id.len, 34);
	ASSERT_EQ(id.bytes[0], 0x12);
	gm_peerid_format(&id, s, sizeof(s));
	ASSERT_STREQ(s, RSA_ID);
	gm_diag_clear(&d);
	ASSERT_ERR(gm_peerid_ed25519_key(&id, pk, &d), GM_EUNSUPPORTED);
	assert_diag_has(&d, "hash");
}

TEST(peerid_refuses_bad_text)
{
	static const char *bad[] = {
	    "",
	    "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3p0",
	    "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3p",
	    "QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJ",
	    "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4",
	    "xyz",
	};
	struct gm_peerid id;
	struct gm_diag d;
	size_t i;

	for (i = 0; i < GM_ARRAY_LEN(bad); i++) {
		gm_diag_clear(&d);
		ASSERT_ERR(gm_peerid_parse(&id, bad[i], strlen(bad[i]), &d),
			   GM_EFORMAT);
		ASSERT(d.msg[0] != '\0');
	}
	gm_diag_clear(&d);
	gm_peerid_parse(&id, bad[4], strlen(bad[4]), &d);
	assert_diag_has(&d, "libp2p-key");
}

TEST(pubkey_decode_refuses_other_key_types)
{
	static const uint8_t rsa[] = {0x08, 0x00, 0x12, 0x02, 0x30, 0x00};
	static const uint8_t secp[] = {0x08, 0x02, 0x12, 0x01, 0x02};
	static const uint8_t no_type[] = {0x12, 0x01, 0x02};
	static const uint8_t no_data[] = {0x08, 0x01};
	static const uint8_t short_key[] = {0x08, 0x01, 0x12, 0x01, 0x02};
	static const uint8_t bad_wire[] = {0x0a, 0x00, 0x12, 0x00};
	uint8_t pk[32], reordered[36];
	struct gm_diag d;

	ASSERT_OK(gm_pubkey_decode_ed25519(spec_key_pb, sizeof(spec_key_pb), pk,
					   NULL));
	ASSERT_MEMEQ(pk, spec_key_pb + 4, 32);
	/* Field order is free on input. */
	memcpy(reordered, spec_key_pb + 2, 34);
	reordered[34] = 0x08;
	reordered[35] = 0x01;
	memset(pk, 0, sizeof(pk));
	ASSERT_OK(gm_pubkey_decode_ed25519(reordered, 36, pk, NULL));
	ASSERT_MEMEQ(pk, spec_key_pb + 4, 32);

	gm_diag_clear(&d);
	ASSERT_ERR(gm_pubkey_decode_ed25519(rsa, sizeof(rsa), pk, &d),
		   GM_EUNSUPPORTED);
	assert_diag_has(&d, "RSA");
	gm_diag_clear(&d);
	ASSERT_ERR(gm_pubkey_decode_ed25519(secp, sizeof(secp), pk, &d),
		   GM_EUNSUPPORTED);
	assert_diag_has(&d, "secp256k1");
	gm_diag_clear(&d);
	ASSERT_ERR(gm_pubkey_decode_ed25519(no_type, sizeof(no_type), pk, &d),
		   GM_EFORMAT);
	assert_diag_has(&d, "type");
	gm_diag_clear(&d);
	ASSERT_ERR(gm_pubkey_decode_ed25519(no_data, sizeof(no_data), pk, &d),
		   GM_EFORMAT);
	assert_diag_has(&d, "data");
	gm_diag_clear(&d);
	ASSERT_ERR(
	    gm_pubkey_decode_ed25519(short_key, sizeof(short_key), pk, &d),
	    GM_EFORMAT);
	assert_diag_has(&d, "expected 32");
	ASSERT_ERR(
	    gm_pubkey_decode_ed25519(bad_wire, sizeof(bad_wire), pk, NULL),
	    GM_EFORMAT);
	ASSERT_ERR(gm_pubkey_decode_ed25519(spec_key_pb, 20, pk, NULL),
		   GM_EFORMAT);
}

TEST(peerid_from_bytes_checks_the_multihash)
{
	static const uint8_t bad_code[] = {0x13, 0x01, 0x00};
	static const uint8_t bad_len[] = {0x00, 0x05, 0x00};
	static const uint8_t sha_short[] = {0x12, 0x01, 0x00};
	uint8_t big[2 + 43];
	struct gm_peerid id;

	ASSERT_ERR(gm_peerid_from_bytes(&id, bad_code, 3, NULL), GM_EFORMAT);
	ASSERT_ERR(gm_peerid_from_bytes(&id, bad_len, 3, NULL), GM_EFORMAT);
	ASSERT_ERR(gm_peerid_from_bytes(&id, sha_short, 3, NULL), GM_EFORMAT);
	ASSERT_ERR(gm_peerid_from_bytes(&id, bad_code, 0, NULL), GM_EFORMAT);
	memset(big, 0, sizeof(big));
	big[1] = 43;
	ASSERT_ERR(gm_peerid_from_bytes(&id, big, sizeof(big), NULL),
		   GM_EFORMAT);
	big[1] = 42;
	ASSERT_OK(gm_peerid_from_bytes(&id, big, sizeof(big) - 1, NULL));
	ASSERT_EQ(id.len, 44);
}

/* Parses text, checks the binary form and that formatting gives canon. */
static void ma_case(const char *text, const char *hex, const char *canon)
{
	struct gm_multiaddr ma, back;
	char s[GM_MULTIADDR_MAX_STR];
	char h[2 * GM_MULTIADDR_MAX + 1];
	struct gm_diag d;
	size_t i;

	gm_diag_clear(&d);
	if (gm_multiaddr_parse(&ma, text, strlen(text), &d))
		gm_test_fail(__FILE__, __LINE__, "%s: %s", text, d.msg);
	for (i = 0; i < ma.len; i++)
		snprintf(h + 2 * i, 3, "%02x", ma.bytes[i]);
	h[2 * ma.len] = '\0';
	ASSERT_STREQ(h, hex);
	ASSERT_EQ(gm_multiaddr_format(&ma, s, sizeof(s)),
		  strlen(canon ? canon : text));
	ASSERT_STREQ(s, canon ? canon : text);
	ASSERT_OK(gm_multiaddr_decode(&back, ma.bytes, ma.len, NULL));
	ASSERT(gm_multiaddr_equal(&ma, &back));
}

TEST(multiaddr_text_binary_each_protocol)
{
	ma_case("/ip4/127.0.0.1/tcp/4001", "047f000001060fa1", NULL);
	ma_case("/ip6/::1/tcp/0", "2900000000000000000000000000000001060000",
		NULL);
	ma_case("/ip6/2001:DB8:0:0:0:0:0:1/tcp/65535",
		"2920010db800000000000000000000000106ffff",
		"/ip6/2001:db8::1/tcp/65535");
	ma_case("/dns4/example.com/tcp/443", "360b6578616d706c652e636f6d0601bb",
		NULL);
	ma_case("/dns6/a.b/tcp/1", "3703612e62060001", NULL);
	ma_case("/dns/localhost", "35096c6f63616c686f7374", NULL);
	ma_case(
	    "/p2p/" SPEC_ID,
	    "a50326002408011220"
	    "1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e",
	    NULL);
	ma_case(
	    "/ip4/1.2.3.4/tcp/4001/p2p/" SPEC_CID,
	    "0401020304060fa1a50326002408011220"
	    "1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e",
	    "/ip4/1.2.3.4/tcp/4001/p2p/" SPEC_ID);
}

TEST(multiaddr_walk_push_and_peerid)
{
	static const char text[] = "/ip4/10.0.0.1/tcp/4001/p2p/" SPEC_ID;
	static const uint8_t ip[4] = {10, 0, 0, 1};
	static const uint8_t port[2] = {0x0f, 0xa1};
	struct gm_multiaddr ma, built;
	struct gm_multiaddr_comp c;
	struct gm_peerid id, want;
	size_t off = 0;
	struct gm_diag d;

	ASSERT_OK(gm_multiaddr_parse(&ma, text, strlen(text), NULL));
	ASSERT(gm_multiaddr_next(&ma, &off, &c));
	ASSERT_EQ(c.code, GM_MA_IP4);
	ASSERT_EQ(c.len, 4);
	ASSERT_MEMEQ(c.value, ip, 4);
	ASSERT(gm_multiaddr_next(&ma, &off, &c));
	ASSERT_EQ(c.code, GM_MA_TCP);
	ASSERT_MEMEQ(c.value, port, 2);
	ASSERT(gm_multiaddr_next(&ma, &off, &c));
	ASSERT_EQ(c.code, GM_MA_P2P);
	ASSERT_EQ(c.len, 38);
	ASSERT(!gm_multiaddr_next(&ma, &off, &c));

	ASSERT(gm_multiaddr_peerid(&ma, &id));
	gm_peerid_from_ed25519(&want, spec_key_pb + 4);
	ASSERT(gm_peerid_equal(&id, &want));

	gm_multiaddr_init(&built);
	ASSERT(!gm_multiaddr_peerid(&built, &id));
	ASSERT_OK(gm_multiaddr_push(&built, GM_MA_IP4, ip, 4, NULL));
	ASSERT_OK(gm_multiaddr_push(&built, GM_MA_TCP, port, 2, NULL));
	ASSERT_OK(
	    gm_multiaddr_push(&built, GM_MA_P2P, want.bytes, want.len, NULL));
	ASSERT(gm_multiaddr_equal(&ma, &built));
	gm_diag_clear(&d);
	ASSERT_ERR(gm_multiaddr_push(&built, 273, port, 2, &d),
		   GM_EUNSUPPORTED);
	assert_diag_has(&d, "273");
	ASSERT_ERR(gm_multiaddr_push(&built, GM_MA_TCP, ip, 4, NULL),
		   GM_EFORMAT);
}

TEST(multiaddr_refuses_bad_text_naming_the_component)
{
	static const struct {
		const char *text;
		const char *needle;
	} bad[] = {
	    {"", "empty"},
	    {"ip4/1.2.3.4", "start with '/'"},
	    {"/ip4/1.2.3.256", "/ip4/1.2.3.256"},
	    {"/ip4/1.2.3", "IPv4"},
	    {"/ip4", "/ip4: missing value"},
	    {"/ip4/", "/ip4: missing value"},
	    {"/ip4/1.2.3.4/tcp", "/tcp: missing value"},
	    {"/ip4/1.2.3.4/", "empty protocol name"},
	    {"/ip4/1.2.3.4/tcp/65536", "/tcp/65536"},
	    {"/tcp/-1", "/tcp/-1"},
	    {"/tcp/12a", "port"},
	    {"/udp/53", "'/udp'"},
	    {"//ip4/1.2.3.4", "empty protocol name"},
	    {"/ip6/1.2.3.4", "IPv6"},
	    {"/ip6/fe80::1%eth0", "/ip6/fe80::1%eth0"},
	    {"/dns4/a\x01"
	     "b",
	     "/dns4"},
	    {"/p2p/12D3KooWnotapeer", "/p2p/12D3KooWnotapeer"},
	    {"/p2p/bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4",
	     "not a peer id"},
	};
	struct gm_multiaddr ma;
	struct gm_diag d;
	size_t i;
	gm_err e;

	for (i = 0; i < GM_ARRAY_LEN(bad); i++) {
		gm_diag_clear(&d);
		e = gm_multiaddr_parse(&ma, bad[i].text, strlen(bad[i].text),
				       &d);
		if (e != GM_EFORMAT || !strstr(d.msg, bad[i].needle))
			gm_test_fail(__FILE__, __LINE__,
				     "'%s': %s '%s' lacks '%s'", bad[i].text,
				     gm_errname(e), d.msg, bad[i].needle);
	}
}

TEST(multiaddr_refuses_bad_binary)
{
	static const struct {
		const char *hex;
		const char *needle;
	} bad[] = {
	    {"047f00", "/ip4: value truncated"},
	    {"05", "unknown protocol code 5"},
	    {"0601", "/tcp: value truncated"},
	    {"3600", "/dns4: name of 0 bytes"},
	    {"3605616263", "/dns4: value length 5 runs past the end"},
	    {"36022f61", "/dns4: byte 0x2f"},
	    {"a503020000", "/p2p: value is not a peer id"},
	    {"a50380", "/p2p: malformed value length"},
	    {"8480", "malformed protocol code"},
	    {"8400", "malformed protocol code"},
	};
	uint8_t bin[64];
	struct gm_multiaddr ma;
	struct gm_diag d;
	size_t i, j, n;
	unsigned v;
	gm_err e;

	for (i = 0; i < GM_ARRAY_LEN(bad); i++) {
		n = strlen(bad[i].hex) / 2;
		for (j = 0; j < n; j++) {
			sscanf(bad[i].hex + 2 * j, "%2x", &v);
			bin[j] = (uint8_t)v;
		}
		gm_diag_clear(&d);
		e = gm_multiaddr_decode(&ma, bin, n, &d);
		if (e != GM_EFORMAT || !strstr(d.msg, bad[i].needle))
			gm_test_fail(__FILE__, __LINE__,
				     "%s: %s '%s' lacks '%s'", bad[i].hex,
				     gm_errname(e), d.msg, bad[i].needle);
	}
	ASSERT_ERR(gm_multiaddr_decode(&ma, bin, 0, NULL), GM_EFORMAT);
	memset(bin, 0, sizeof(bin));
	ASSERT_ERR(gm_multiaddr_decode(&ma, bin, GM_MULTIADDR_MAX + 1, NULL),
		   GM_ELIMIT);
}

TEST(multiaddr_length_limits)
{
	char text[GM_MULTIADDR_MAX_STR + 16], s[GM_MULTIADDR_MAX_STR];
	struct gm_multiaddr ma;
	struct gm_diag d;
	size_t n = 0;
	int i;

	/* Three 255-byte names: 3 * 258 binary bytes > 512. */
	for (i = 0; i < 3; i++) {
		n += (size_t)snprintf(text + n, sizeof(text) - n, "/dns/");
		memset(text + n, 'a', 255);
		n += 255;
	}
	text[n] = '\0';
	gm_diag_clear(&d);
	ASSERT_ERR(gm_multiaddr_parse(&ma, text, n, &d), GM_ELIMIT);
	assert_diag_has(&d, "/dns");
	/* One 256-byte name is refused, 255 is fine. */
	ASSERT_OK(gm_multiaddr_parse(&ma, text, 5 + 255, NULL));
	ASSERT_EQ(gm_multiaddr_format(&ma, s, sizeof(s)), 260);
	ASSERT_EQ(gm_multiaddr_format(&ma, s, 100), 0);
	text[5 + 255] = 'a';
	ASSERT_ERR(gm_multiaddr_parse(&ma, text, 5 + 256, NULL), GM_EFORMAT);
	memset(text, '/', sizeof(text));
	ASSERT_ERR(gm_multiaddr_parse(&ma, text, GM_MULTIADDR_MAX_STR, NULL),
		   GM_ELIMIT);
}

TEST(multiaddr_longest_text_fits)
{
	static char text[GM_MULTIADDR_MAX_STR], s[GM_MULTIADDR_MAX_STR];
	struct gm_multiaddr ma, back;
	size_t n = 0;
	int i;

	/* 102 ip4 components: 510 bytes, 2040 characters. */
	for (i = 0; i < 102; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "/ip4/255.255.255.255");
	ASSERT_EQ(n, 2040);
	ASSERT_OK(gm_multiaddr_parse(&ma, text, n, NULL));
	ASSERT_EQ(ma.len, 510);
	ASSERT_EQ(gm_multiaddr_format(&ma, s, sizeof(s)), 2040);
	ASSERT_STREQ(s, text);
	ASSERT_OK(gm_multiaddr_decode(&back, ma.bytes, ma.len, NULL));
	ASSERT(gm_multiaddr_equal(&ma, &back));
}
