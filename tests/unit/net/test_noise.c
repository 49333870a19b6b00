/*
 * test_noise.c - Noise XX (the cacophony vector, byte for byte), the AEAD
 * (OpenSSL against libsodium), and the libp2p session: handshake, bulk
 * transfer, tampering, truncation, bad identities, byte-by-byte feeding,
 * nonce exhaustion and out-of-memory paths.
 */
#include "harness.h"

#include <jansson.h>
#include <sodium.h>

#include "gm/buf.h"
#include "gm/keys.h"
#include "gm/noise.h"

#define VECTOR "testdata/noise/cacophony-XX_25519_ChaChaPoly_SHA256.json"

static size_t unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = strlen(s) / 2, i;
	unsigned v;

	ASSERT(n <= max);
	for (i = 0; i < n; i++) {
		ASSERT(sscanf(s + 2 * i, "%2x", &v) == 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static size_t jhex(json_t *o, const char *key, uint8_t *out, size_t max)
{
	json_t *v = json_object_get(o, key);

	ASSERT(json_is_string(v));
	return unhex(json_string_value(v), out, max);
}

TEST(cacophony_xx_vector_byte_for_byte)
{
	const char *shared = gm_test_shared_dir();
	char path[4096];
	json_error_t jerr;
	json_t *root, *v, *msgs, *m;
	uint8_t pro[64], is[32], ie[32], rs[32], re[32], hh[32];
	uint8_t pl[256], ct[512];
	size_t plen, prlen, clen, i;
	struct gm_noise_hs hi, hr;
	struct gm_noise_cipher itx, irx, rtx, rrx;
	struct gm_buf out, got;
	struct gm_diag d;

	if (!shared) {
		printf("SKIP cacophony vector: no shared folder\n");
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", shared, VECTOR);
	root = json_load_file(path, 0, &jerr);
	if (!root) {
		printf("SKIP cacophony vector: %s missing\n", path);
		return;
	}
	v = json_array_get(json_object_get(root, "vectors"), 0);
	ASSERT(v);
	ASSERT_STREQ(json_string_value(json_object_get(v, "protocol_name")),
		     GM_NOISE_PROTOCOL_NAME);
	prlen = jhex(v, "init_prologue", pro, sizeof(pro));
	ASSERT_EQ(jhex(v, "init_static", is, 32), 32);
	ASSERT_EQ(jhex(v, "init_ephemeral", ie, 32), 32);
	ASSERT_EQ(jhex(v, "resp_static", rs, 32), 32);
	ASSERT_EQ(jhex(v, "resp_ephemeral", re, 32), 32);
	ASSERT_EQ(jhex(v, "handshake_hash", hh, 32), 32);
	msgs = json_object_get(v, "messages");
	ASSERT(json_array_size(msgs) >= 4);

	ASSERT_OK(gm_noise_hs_init(&hi, true, pro, prlen, is, ie, &d));
	ASSERT_OK(gm_noise_hs_init(&hr, false, pro, prlen, rs, re, &d));
	gm_buf_init(&out, GM_BUF_UNLIMITED);
	gm_buf_init(&got, GM_BUF_UNLIMITED);
	for (i = 0; i < 3; i++) {
		struct gm_noise_hs *w = i % 2 ? &hr : &hi;
		struct gm_noise_hs *r = i % 2 ? &hi : &hr;

		m = json_array_get(msgs, i);
		plen = jhex(m, "payload", pl, sizeof(pl));
		clen = jhex(m, "ciphertext", ct, sizeof(ct));
		gm_buf_reset(&out);
		gm_buf_reset(&got);
		ASSERT_OK(gm_noise_hs_write(w, pl, plen, &out, &d));
		ASSERT_EQ(out.len, clen);
		ASSERT_MEMEQ(out.data, ct, clen);
		ASSERT_OK(gm_noise_hs_read(r, ct, clen, &got, &d));
		ASSERT_EQ(got.len, plen);
		ASSERT_MEMEQ(got.data, pl, plen);
	}
	ASSERT(gm_noise_hs_done(&hi) && gm_noise_hs_done(&hr));
	ASSERT_MEMEQ(hi.h, hh, 32);
	ASSERT_MEMEQ(hr.h, hh, 32);
	ASSERT_MEMEQ(hi.rs, hr.s_pk, 32);
	ASSERT_OK(gm_noise_hs_split(&hi, &itx, &irx, &d));
	ASSERT_OK(gm_noise_hs_split(&hr, &rtx, &rrx, &d));
	/* Initiator ciphers through OpenSSL, responder through libsodium. */
	ASSERT_OK(gm_noise_cipher_use_evp(&itx, &d));
	ASSERT_OK(gm_noise_cipher_use_evp(&irx, &d));
	for (i = 3; i < json_array_size(msgs); i++) {
		bool from_init = i % 2 == 0;

		m = json_array_get(msgs, i);
		plen = jhex(m, "payload", pl, sizeof(pl));
		clen = jhex(m, "ciphertext", ct, sizeof(ct));
		gm_buf_reset(&out);
		gm_buf_reset(&got);
		ASSERT_OK(gm_noise_cipher_encrypt(from_init ? &itx : &rtx, NULL,
						  0, pl, plen, &out, &d));
		ASSERT_EQ(out.len, clen);
		ASSERT_MEMEQ(out.data, ct, clen);
		ASSERT_OK(gm_noise_cipher_decrypt(from_init ? &rrx : &irx, NULL,
						  0, ct, clen, &got, &d));
		ASSERT_EQ(got.len, plen);
		ASSERT_MEMEQ(got.data, pl, plen);
	}
	ASSERT_EQ(itx.n + rtx.n, json_array_size(msgs) - 3);
	gm_noise_cipher_release(&itx);
	gm_noise_cipher_release(&irx);
	gm_noise_cipher_release(&rtx);
	gm_noise_cipher_release(&rrx);
	gm_noise_hs_release(&hi);
	gm_noise_hs_release(&hr);
	gm_buf_release(&out);
	gm_buf_release(&got);
	json_decref(root);
}

TEST(aead_openssl_and_libsodium_agree_both_ways)
{
	static const size_t sizes[] = {0, 1, 15, 16, 17, 1000, 65519};
	struct gm_noise_cipher evp, sod;
	struct gm_buf a, b, p;
	uint8_t *pt = gm_calloc(1, 65536), ad[40];
	struct gm_diag d;
	size_t i;

	ASSERT(pt);
	randombytes_buf(pt, 65519);
	randombytes_buf(ad, sizeof(ad));
	memset(&evp, 0, sizeof(evp));
	randombytes_buf(evp.k, 32);
	evp.has_key = true;
	evp.n = 0xfffffffffffffff0ull;
	sod = evp;
	ASSERT_OK(gm_noise_cipher_use_evp(&evp, &d));
	gm_buf_init(&a, GM_BUF_UNLIMITED);
	gm_buf_init(&b, GM_BUF_UNLIMITED);
	gm_buf_init(&p, GM_BUF_UNLIMITED);
	for (i = 0; i < GM_ARRAY_LEN(sizes); i++) {
		gm_buf_reset(&a);
		gm_buf_reset(&b);
		gm_buf_reset(&p);
		ASSERT_OK(gm_noise_cipher_encrypt(&evp, ad, i * 5, pt, sizes[i],
						  &a, &d));
		ASSERT_OK(gm_noise_cipher_encrypt(&sod, ad, i * 5, pt, sizes[i],
						  &b, &d));
		ASSERT_EQ(a.len, sizes[i] + 16);
		ASSERT_EQ(a.len, b.len);
		ASSERT_MEMEQ(a.data, b.data, a.len);
		/* Decrypt each with the other implementation. */
		evp.n--;
		sod.n--;
		ASSERT_OK(gm_noise_cipher_decrypt(&sod, ad, i * 5, a.data,
						  a.len, &p, &d));
		ASSERT_OK(gm_noise_cipher_decrypt(&evp, ad, i * 5, b.data,
						  b.len, &p, &d));
		ASSERT_EQ(p.len, 2 * sizes[i]);
		if (sizes[i]) {
			ASSERT_MEMEQ(p.data, pt, sizes[i]);
			ASSERT_MEMEQ(p.data + sizes[i], pt, sizes[i]);
		}
		/* A flipped tag bit fails in both, leaving n alone. */
		a.data[a.len - 1] ^= 1;
		ASSERT_ERR(gm_noise_cipher_decrypt(&evp, ad, i * 5, a.data,
						   a.len, &p, &d),
			   GM_EPROTO);
		ASSERT(strstr(d.msg, "authentication"));
		ASSERT_ERR(gm_noise_cipher_decrypt(&sod, ad, i * 5, a.data,
						   a.len, &p, &d),
			   GM_EPROTO);
		ASSERT_EQ(p.len, 2 * sizes[i]);
		ASSERT_EQ(evp.n, 0xfffffffffffffff1ull + i);
	}
	/* Size limits, and the nonce 2^64-1 is never used. */
	ASSERT_ERR(gm_noise_cipher_encrypt(&sod, NULL, 0, pt, 65520, &a, &d),
		   GM_ELIMIT);
	ASSERT_ERR(gm_noise_cipher_decrypt(&sod, NULL, 0, pt, 15, &a, &d),
		   GM_EPROTO);
	ASSERT_ERR(gm_noise_cipher_decrypt(&sod, NULL, 0, pt, 65536, &a, &d),
		   GM_EPROTO);
	ASSERT(strstr(d.msg, "65536-byte"));
	sod.n = UINT64_MAX;
	ASSERT_ERR(gm_noise_cipher_encrypt(&sod, NULL, 0, pt, 1, &a, &d),
		   GM_EPROTO);
	ASSERT(strstr(d.msg, "exhausted"));
	gm_noise_cipher_release(&evp);
	gm_noise_cipher_release(&sod);
	gm_buf_release(&a);
	gm_buf_release(&b);
	gm_buf_release(&p);
	gm_free(pt);
}

TEST(hs_refuses_out_of_turn_and_oversized_and_low_order)
{
	struct gm_noise_hs hi, hr;
	struct gm_buf out, pl;
	uint8_t zero[32] = {0}, *big = gm_calloc(1, 65536);
	struct gm_diag d;

	ASSERT(big);
	gm_buf_init(&out, GM_BUF_UNLIMITED);
	gm_buf_init(&pl, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_noise_hs_init(&hi, true, NULL, 0, NULL, NULL, &d));
	ASSERT_OK(gm_noise_hs_init(&hr, false, NULL, 0, NULL, NULL, &d));
	ASSERT_ERR(gm_noise_hs_write(&hr, NULL, 0, &out, &d), GM_EPROTO);
	ASSERT_ERR(gm_noise_hs_split(&hi, &hi.cs, &hr.cs, &d), GM_EPROTO);
	ASSERT_ERR(gm_noise_hs_write(&hi, big, 65535 - 31, &out, &d),
		   GM_ELIMIT);
	ASSERT_EQ(out.len, 0);
	ASSERT_OK(gm_noise_hs_write(&hi, big, 65535 - 32, &out, &d));
	ASSERT_EQ(out.len, 65535);
	ASSERT_ERR(gm_noise_hs_read(&hi, out.data, out.len, &pl, &d),
		   GM_EPROTO);
	ASSERT_ERR(gm_noise_hs_read(&hr, out.data, 31, &pl, &d), GM_EPROTO);
	ASSERT(strstr(d.msg, "31 bytes"));
	/* A failed read is final. */
	ASSERT_ERR(gm_noise_hs_read(&hr, out.data, out.len, &pl, &d),
		   GM_EPROTO);
	gm_noise_hs_release(&hr);

	/* An all-zero ephemeral key from the initiator. */
	ASSERT_OK(gm_noise_hs_init(&hr, false, NULL, 0, NULL, NULL, &d));
	ASSERT_OK(gm_noise_hs_read(&hr, zero, 32, &pl, &d));
	gm_buf_reset(&out);
	ASSERT_ERR(gm_noise_hs_write(&hr, NULL, 0, &out, &d), GM_EPROTO);
	ASSERT(strstr(d.msg, "all-zero"));
	ASSERT_EQ(out.len, 0);
	gm_noise_hs_release(&hi);
	gm_noise_hs_release(&hr);
	gm_buf_release(&out);
	gm_buf_release(&pl);
	gm_free(big);
}

/* --- libp2p sessions -------------------------------------------------- */

static void make_key(struct gm_key *k, uint8_t tag)
{
	uint8_t seed[32];

	memset(seed, tag, sizeof(seed));
	ASSERT_OK(gm_key_from_seed(k, "peer", seed, 0, NULL));
}

/* Runs a whole handshake between i and r, each message fed at once. */
static void handshake(struct gm_noise *i, struct gm_noise *r)
{
	struct gm_buf a, b, pt;
	struct gm_diag d;

	gm_buf_init(&a, GM_BUF_UNLIMITED);
	gm_buf_init(&b, GM_BUF_UNLIMITED);
	gm_buf_init(&pt, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_noise_start(i, &a, &d));
	ASSERT_OK(gm_noise_start(r, &b, &d));
	ASSERT_EQ(a.len, 2 + 32);
	ASSERT_EQ(b.len, 0);
	ASSERT_OK(gm_noise_feed(r, a.data, a.len, &b, &pt, &d));
	ASSERT_EQ(b.len, 2 + 32 + 48 + 104 + 16);
	ASSERT(!gm_noise_handshake_done(r));
	gm_buf_reset(&a);
	ASSERT_OK(gm_noise_feed(i, b.data, b.len, &a, &pt, &d));
	ASSERT_EQ(a.len, 2 + 48 + 104 + 16);
	ASSERT(gm_noise_handshake_done(i));
	gm_buf_reset(&b);
	ASSERT_OK(gm_noise_feed(r, a.data, a.len, &b, &pt, &d));
	ASSERT_EQ(b.len, 0);
	ASSERT_EQ(pt.len, 0);
	ASSERT(gm_noise_handshake_done(r));
	gm_buf_release(&a);
	gm_buf_release(&b);
	gm_buf_release(&pt);
}

static void pair(struct gm_noise *i, struct gm_noise *r, struct gm_key *ki,
		 struct gm_key *kr)
{
	make_key(ki, 1);
	make_key(kr, 2);
	ASSERT_OK(gm_noise_init(i, true, ki, NULL, NULL, NULL));
	ASSERT_OK(gm_noise_init(r, false, kr, NULL, NULL, NULL));
	handshake(i, r);
}

static void one_way(struct gm_noise *from, struct gm_noise *to,
		    const uint8_t *data, size_t len)
{
	struct gm_buf wire, send, pt;
	struct gm_diag d;
	size_t frames =
	    (len + GM_NOISE_PLAINTEXT_MAX - 1) / GM_NOISE_PLAINTEXT_MAX;

	gm_buf_init(&wire, GM_BUF_UNLIMITED);
	gm_buf_init(&send, GM_BUF_UNLIMITED);
	gm_buf_init(&pt, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_noise_write(from, data, len, &wire, &d));
	ASSERT_EQ(wire.len, len + frames * 18);
	/* The first frame is full: 65535 = ff ff. */
	if (len > GM_NOISE_PLAINTEXT_MAX)
		ASSERT(wire.data[0] == 0xff && wire.data[1] == 0xff);
	/* Fed in uneven pieces that split headers and bodies. */
	{
		size_t off = 0, step = 1;

		while (off < wire.len) {
			size_t n =
			    wire.len - off < step ? wire.len - off : step;

			ASSERT_OK(gm_noise_feed(to, wire.data + off, n, &send,
						&pt, &d));
			off += n;
			step = step * 7 % 100003 + 1;
		}
	}
	ASSERT_EQ(send.len, 0);
	ASSERT_EQ(pt.len, len);
	ASSERT_MEMEQ(pt.data, data, len);
	gm_buf_release(&wire);
	gm_buf_release(&send);
	gm_buf_release(&pt);
}

TEST(session_handshake_then_one_mib_each_way)
{
	struct gm_noise i, r;
	struct gm_key ki, kr;
	size_t len = 1u << 20;
	uint8_t *a = gm_malloc(len), *b = gm_malloc(len);

	ASSERT(a && b);
	randombytes_buf(a, len);
	randombytes_buf(b, len);
	pair(&i, &r, &ki, &kr);
	ASSERT_MEMEQ(gm_noise_remote_key(&i), kr.pk, 32);
	ASSERT_MEMEQ(gm_noise_remote_key(&r), ki.pk, 32);
	ASSERT_MEMEQ(i.hs.h, r.hs.h, 32);
	one_way(&i, &r, a, len);
	one_way(&r, &i, b, len);
	one_way(&i, &r, b, 65519);
	one_way(&r, &i, a, 65520);
	ASSERT_EQ(i.tx.n, 17 + 1);
	ASSERT_EQ(r.rx.n, 17 + 1);
	ASSERT_EQ(r.tx.n, 17 + 2);
	gm_noise_release(&i);
	gm_noise_release(&r);
	gm_free(a);
	gm_free(b);
}

TEST(session_transport_uses_noise_nonces_checked_by_libsodium)
{
	struct gm_noise i, r;
	struct gm_key ki, kr;
	struct gm_noise_cipher ref;
	struct gm_buf wire, pt;
	struct gm_diag d;

	pair(&i, &r, &ki, &kr);
	ref = r.rx; /* the same key and nonce, without OpenSSL */
	ref.evp = NULL;
	gm_buf_init(&wire, GM_BUF_UNLIMITED);
	gm_buf_init(&pt, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_noise_write(&i, (const uint8_t *)"hello", 5, &wire, &d));
	ASSERT_OK(gm_noise_write(&i, (const uint8_t *)"world", 5, &wire, &d));
	ASSERT_EQ(wire.len, 2 * 23);
	ASSERT(wire.data[0] == 0 && wire.data[1] == 21);
	ASSERT_OK(
	    gm_noise_cipher_decrypt(&ref, NULL, 0, wire.data + 2, 21, &pt, &d));
	ASSERT_OK(gm_noise_cipher_decrypt(&ref, NULL, 0, wire.data + 25, 21,
					  &pt, &d));
	ASSERT_EQ(pt.len, 10);
	ASSERT_MEMEQ(pt.data, "helloworld", 10);
	gm_buf_release(&wire);
	gm_buf_release(&pt);
	gm_noise_release(&i);
	gm_noise_release(&r);
}

TEST(session_byte_by_byte)
{
	struct gm_noise i, r;
	struct gm_key ki, kr;
	struct gm_buf a, b, pt, wire;
	struct gm_diag d;
	size_t k;

	make_key(&ki, 3);
	make_key(&kr, 4);
	ASSERT_OK(gm_noise_init(&i, true, &ki, NULL, NULL, &d));
	ASSERT_OK(gm_noise_init(&r, false, &kr, NULL, NULL, &d));
	gm_buf_init(&a, GM_BUF_UNLIMITED);
	gm_buf_init(&b, GM_BUF_UNLIMITED);
	gm_buf_init(&pt, GM_BUF_UNLIMITED);
	gm_buf_init(&wire, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_noise_start(&i, &a, &d));
	ASSERT_OK(gm_noise_start(&r, &b, &d));
	for (k = 0; k < a.len; k++)
		ASSERT_OK(gm_noise_feed(&r, a.data + k, 1, &b, &pt, &d));
	ASSERT_EQ(b.len, 202);
	gm_buf_reset(&a);
	for (k = 0; k < b.len; k++) {
		ASSERT_EQ(a.len, 0);
		ASSERT_OK(gm_noise_feed(&i, b.data + k, 1, &a, &pt, &d));
	}
	ASSERT(gm_noise_handshake_done(&i));
	/* Message 3 and two transport frames in one stream, byte by byte. */
	ASSERT_OK(gm_noise_write(&i, (const uint8_t *)"abc", 3, &a, &d));
	ASSERT_OK(gm_noise_write(&i, (const uint8_t *)"defg", 4, &a, &d));
	gm_buf_reset(&b);
	for (k = 0; k < a.len; k++)
		ASSERT_OK(gm_noise_feed(&r, a.data + k, 1, &b, &pt, &d));
	ASSERT(gm_noise_handshake_done(&r));
	ASSERT_EQ(b.len, 0);
	ASSERT_EQ(pt.len, 7);
	ASSERT_MEMEQ(pt.data, "abcdefg", 7);
	ASSERT_MEMEQ(gm_noise_remote_key(&r), ki.pk, 32);
	/* Everything in one feed, the other way. */
	gm_buf_reset(&pt);
	ASSERT_OK(gm_noise_write(&r, (const uint8_t *)"xy", 2, &wire, &d));
	ASSERT_OK(gm_noise_write(&r, (const uint8_t *)"z", 1, &wire, &d));
	ASSERT_OK(gm_noise_feed(&i, wire.data, wire.len, &b, &pt, &d));
	ASSERT_EQ(pt.len, 3);
	ASSERT_MEMEQ(pt.data, "xyz", 3);
	gm_buf_release(&a);
	gm_buf_release(&b);
	gm_buf_release(&pt);
	gm_buf_release(&wire);
	gm_noise_release(&i);
	gm_noise_release(&r);
}

/* Flips byte at of handshake message idx (0, 1, 2) and checks the error. */
static void tamper_hs(unsigned idx, size_t at)
{
	struct gm_noise i, r;
	struct gm_key ki, kr;
	struct gm_buf a, b, pt;
	struct gm_diag d;
	gm_err e = GM_OK;

	make_key(&ki, 5);
	make_key(&kr, 6);
	ASSERT_OK(gm_noise_init(&i, true, &ki, NULL, NULL, &d));
	ASSERT_OK(gm_noise_init(&r, false, &kr, NULL, NULL, &d));
	gm_buf_init(&a, GM_BUF_UNLIMITED);
	gm_buf_init(&b, GM_BUF_UNLIMITED);
	gm_buf_init(&pt, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_noise_start(&i, &a, &d));
	ASSERT_OK(gm_noise_start(&r, &b, &d));
	if (idx == 0)
		a.data[at] ^= 0x40;
	ASSERT_OK(gm_noise_feed(&r, a.data, a.len, &b, &pt, &d));
	if (idx == 1)
		b.data[at] ^= 0x40;
	gm_buf_reset(&a);
	e = gm_noise_feed(&i, b.data, b.len, &a, &pt, &d);
	if (idx <= 1) {
		ASSERT_ERR(e, GM_EPROTO);
		ASSERT(strstr(d.msg, "authentication"));
		ASSERT(gm_noise_remote_key(&i) == NULL);
		/* Final: a later feed fails too. */
		ASSERT_ERR(gm_noise_feed(&i, b.data, 1, &a, &pt, &d),
			   GM_EPROTO);
		ASSERT(strstr(d.msg, "failed earlier"));
		goto out;
	}
	ASSERT_OK(e);
	if (idx == 2)
		a.data[at] ^= 0x40;
	gm_buf_reset(&b);
	ASSERT_ERR(gm_noise_feed(&r, a.data, a.len, &b, &pt, &d), GM_EPROTO);
	ASSERT(strstr(d.msg, "authentication"));
	ASSERT(!gm_noise_handshake_done(&r));
out:
	gm_buf_release(&a);
	gm_buf_release(&b);
	gm_buf_release(&pt);
	gm_noise_release(&i);
	gm_noise_release(&r);
}

TEST(session_tampered_handshake_messages)
{
	tamper_hs(0, 2);   /* msg 1: the initiator's e (caught in msg 2) */
	tamper_hs(1, 2);   /* msg 2: the responder's e */
	tamper_hs(1, 40);  /* msg 2: the encrypted static key */
	tamper_hs(1, 150); /* msg 2: the encrypted payload */
	tamper_hs(2, 10);  /* msg 3: the encrypted static key */
	tamper_hs(2, 160); /* msg 3: the payload's tag */
}

TEST(session_tampered_truncated_and_short_frames)
{
	struct gm_noise i, r;
	struct gm_key ki, kr;
	struct gm_buf w, s, pt;
	struct gm_diag d;
	uint8_t shortf[2 + 15] = {0, 15};

	gm_buf_init(&w, GM_BUF_UNLIMITED);
	gm_buf_init(&s, GM_BUF_UNLIMITED);
	gm_buf_init(&pt, GM_BUF_UNLIMITED);

	/* Tampered frame body. */
	pair(&i, &r, &ki, &kr);
	ASSERT_OK(gm_noise_write(&i, (const uint8_t *)"payload", 7, &w, &d));
	w.data[5] ^= 1;
	ASSERT_ERR(gm_noise_feed(&r, w.data, w.len, &s, &pt, &d), GM_EPROTO);
	ASSERT(strstr(d.msg, "bad tag"));
	ASSERT_EQ(pt.len, 0);
	ASSERT(!gm_noise_handshake_done(&r));
	ASSERT_ERR(gm_noise_write(&r, (const uint8_t *)"x", 1, &w, &d),
		   GM_EPROTO);
	gm_noise_release(&i);
	gm_noise_release(&r);

	/* Truncated: a partial frame yields nothing; a shortened one fails. */
	pair(&i, &r, &ki, &kr);
	gm_buf_reset(&w);
	ASSERT_OK(gm_noise_write(&i, (const uint8_t *)"payload", 7, &w, &d));
	ASSERT_OK(gm_noise_feed(&r, w.data, w.len - 1, &s, &pt, &d));
	ASSERT_EQ(pt.len, 0);
	ASSERT_EQ(r.frame_len, w.len - 1);
	gm_noise_release(&i);
	gm_noise_release(&r);
	pair(&i, &r, &ki, &kr);
	gm_buf_reset(&w);
	ASSERT_OK(gm_noise_write(&i, (const uint8_t *)"payload", 7, &w, &d));
	w.data[1]--; /* claims 22 bytes: the body ends one short of its tag */
	ASSERT_ERR(gm_noise_feed(&r, w.data, w.len - 1, &s, &pt, &d),
		   GM_EPROTO);
	ASSERT(strstr(d.msg, "authentication"));
	gm_noise_release(&i);
	gm_noise_release(&r);

	/* A frame too short to hold a tag. */
	pair(&i, &r, &ki, &kr);
	ASSERT_ERR(gm_noise_feed(&r, shortf, sizeof(shortf), &s, &pt, &d),
		   GM_EPROTO);
	ASSERT(strstr(d.msg, "15-byte"));
	gm_noise_release(&i);
	gm_noise_release(&r);

	/* An empty frame. */
	pair(&i, &r, &ki, &kr);
	ASSERT_ERR(gm_noise_feed(&r, shortf, 2, &s, &pt, &d), GM_OK);
	ASSERT_EQ(r.frame_len, 2);
	gm_noise_release(&r);
	gm_noise_release(&i);
	pair(&i, &r, &ki, &kr);
	shortf[1] = 0;
	ASSERT_ERR(gm_noise_feed(&r, shortf, 2, &s, &pt, &d), GM_EPROTO);
	ASSERT(strstr(d.msg, "0-byte"));
	gm_noise_release(&i);
	gm_noise_release(&r);
	gm_buf_release(&w);
	gm_buf_release(&s);
	gm_buf_release(&pt);
}

TEST(session_largest_frame_and_oversized_write)
{
	struct gm_noise i, r;
	struct gm_key ki, kr;
	struct gm_buf w, s, pt;
	struct gm_diag d;
	uint8_t *big = gm_calloc(1, 65520);

	ASSERT(big);
	gm_buf_init(&w, GM_BUF_UNLIMITED);
	gm_buf_init(&s, GM_BUF_UNLIMITED);
	gm_buf_init(&pt, GM_BUF_UNLIMITED);
	pair(&i, &r, &ki, &kr);
	/* 65520 bytes become a 65535-byte frame and a 17-byte one. */
	ASSERT_OK(gm_noise_write(&i, big, 65520, &w, &d));
	ASSERT_EQ(w.len, 65537 + 19);
	ASSERT(w.data[0] == 0xff && w.data[1] == 0xff);
	ASSERT(w.data[65537] == 0 && w.data[65538] == 17);
	ASSERT_OK(gm_noise_feed(&r, w.data, w.len, &s, &pt, &d));
	ASSERT_EQ(pt.len, 65520);
	/* A plaintext buffer with a limit stops at it. */
	gm_buf_release(&pt);
	gm_buf_init(&pt, 100);
	gm_buf_reset(&w);
	ASSERT_OK(gm_noise_write(&i, big, 101, &w, &d));
	ASSERT_ERR(gm_noise_feed(&r, w.data, w.len, &s, &pt, &d), GM_ELIMIT);
	gm_noise_release(&i);
	gm_noise_release(&r);
	gm_buf_release(&w);
	gm_buf_release(&s);
	gm_buf_release(&pt);
	gm_free(big);
}

TEST(session_nonce_exhaustion)
{
	struct gm_noise i, r;
	struct gm_key ki, kr;
	struct gm_buf w, s, pt;
	struct gm_diag d;

	gm_buf_init(&w, GM_BUF_UNLIMITED);
	gm_buf_init(&s, GM_BUF_UNLIMITED);
	gm_buf_init(&pt, GM_BUF_UNLIMITED);
	pair(&i, &r, &ki, &kr);
	i.tx.n = UINT64_MAX - 1;
	r.rx.n = UINT64_MAX - 1;
	ASSERT_OK(gm_noise_write(&i, (const uint8_t *)"last", 4, &w, &d));
	ASSERT_OK(gm_noise_feed(&r, w.data, w.len, &s, &pt, &d));
	ASSERT_EQ(pt.len, 4);
	ASSERT_ERR(gm_noise_write(&i, (const uint8_t *)"more", 4, &w, &d),
		   GM_EPROTO);
	ASSERT(strstr(d.msg, "exhausted"));
	ASSERT_EQ(w.len, 22);
	ASSERT_ERR(gm_noise_feed(&r, w.data, w.len, &s, &pt, &d), GM_EPROTO);
	ASSERT(strstr(d.msg, "exhausted"));
	gm_noise_release(&i);
	gm_noise_release(&r);
	gm_buf_release(&w);
	gm_buf_release(&s);
	gm_buf_release(&pt);
}

/* --- a forged responder ----------------------------------------------- */

/*
 * Payload: identity_key = PublicKey{type, pk}, identity_sig = sig of
 * prefix || static_pk by signer, then extra bytes (fields) appended.
 */
static size_t forge_payload(uint8_t *out, uint8_t type, const uint8_t *pk,
			    const struct gm_key *signer,
			    const uint8_t static_pk[32], const uint8_t *extra,
			    size_t extra_len)
{
	uint8_t msg[24 + 32];
	size_t n = 0;

	out[n++] = 0x0a;
	out[n++] = 36;
	out[n++] = 0x08;
	out[n++] = type;
	out[n++] = 0x12;
	out[n++] = 32;
	memcpy(out + n, pk, 32);
	n += 32;
	out[n++] = 0x12;
	out[n++] = 64;
	memcpy(msg, GM_NOISE_SIG_PREFIX, 24);
	memcpy(msg + 24, static_pk, 32);
	ASSERT_OK(gm_key_sign(signer, msg, sizeof(msg), out + n));
	n += 64;
	if (extra_len)
		memcpy(out + n, extra, extra_len);
	return n + extra_len;
}

/* Runs an initiator session against a raw responder sending payload. */
static gm_err against_forged(uint8_t type, bool wrong_signer,
			     const uint8_t *extra, size_t extra_len,
			     struct gm_diag *d, uint8_t remote[32])
{
	struct gm_noise i;
	struct gm_noise_hs hr;
	struct gm_key ki, kr, kx;
	struct gm_buf a, b, pl, pt;
	uint8_t payload[300];
	size_t n;
	gm_err e;

	make_key(&ki, 7);
	make_key(&kr, 8);
	make_key(&kx, 9);
	ASSERT_OK(gm_noise_init(&i, true, &ki, NULL, NULL, d));
	ASSERT_OK(gm_noise_hs_init(&hr, false, NULL, 0, NULL, NULL, d));
	gm_buf_init(&a, GM_BUF_UNLIMITED);
	gm_buf_init(&b, GM_BUF_UNLIMITED);
	gm_buf_init(&pl, GM_BUF_UNLIMITED);
	gm_buf_init(&pt, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_noise_start(&i, &a, d));
	ASSERT_OK(gm_noise_hs_read(&hr, a.data + 2, a.len - 2, &pl, d));
	n = forge_payload(payload, type, kr.pk, wrong_signer ? &kx : &kr,
			  hr.s_pk, extra, extra_len);
	ASSERT_OK(gm_buf_append(&b, "\0\0", 2));
	ASSERT_OK(gm_noise_hs_write(&hr, payload, n, &b, d));
	b.data[0] = (uint8_t)((b.len - 2) >> 8);
	b.data[1] = (uint8_t)(b.len - 2);
	gm_buf_reset(&a);
	e = gm_noise_feed(&i, b.data, b.len, &a, &pt, d);
	if (!e) {
		ASSERT(gm_noise_handshake_done(&i));
		memcpy(remote, gm_noise_remote_key(&i), 32);
		ASSERT_MEMEQ(remote, kr.pk, 32);
	} else {
		ASSERT(gm_noise_remote_key(&i) == NULL);
		ASSERT_EQ(a.len, 0);
	}
	gm_noise_release(&i);
	gm_noise_hs_release(&hr);
	gm_buf_release(&a);
	gm_buf_release(&b);
	gm_buf_release(&pl);
	gm_buf_release(&pt);
	return e;
}

TEST(session_refuses_bad_identities)
{
	static const uint8_t ext[] = {0x22, 0x03, 0x12, 0x01, 0x41};
	static const uint8_t unknown[] = {0x28, 0x05, 0x3d, 1, 2, 3, 4};
	static const uint8_t again[] = {0x0a, 0x00};
	static const uint8_t badwire[] = {0x10, 0x01};
	static const uint8_t trunc[] = {0x22, 0x05, 0x00};
	struct gm_diag d;
	uint8_t remote[32];

	/* A good forged-by-hand payload, with extensions and unknowns. */
	ASSERT_OK(against_forged(1, false, NULL, 0, &d, remote));
	ASSERT_OK(against_forged(1, false, ext, sizeof(ext), &d, remote));
	ASSERT_OK(
	    against_forged(1, false, unknown, sizeof(unknown), &d, remote));
	ASSERT_ERR(against_forged(1, true, NULL, 0, &d, remote), GM_ESIGNATURE);
	ASSERT(strstr(d.msg, "does not verify"));
	ASSERT_ERR(against_forged(0, false, NULL, 0, &d, remote), GM_EPROTO);
	ASSERT(strstr(d.msg, "Ed25519"));
	ASSERT_ERR(against_forged(2, false, NULL, 0, &d, remote), GM_EPROTO);
	ASSERT(strstr(d.msg, "type is 2"));
	ASSERT_ERR(against_forged(1, false, again, sizeof(again), &d, remote),
		   GM_EPROTO);
	ASSERT(strstr(d.msg, "repeated"));
	ASSERT_ERR(
	    against_forged(1, false, badwire, sizeof(badwire), &d, remote),
	    GM_EPROTO);
	ASSERT(strstr(d.msg, "wire type"));
	ASSERT_ERR(against_forged(1, false, trunc, sizeof(trunc), &d, remote),
		   GM_EPROTO);
	ASSERT(strstr(d.msg, "not a valid protobuf"));
}

TEST(session_api_misuse)
{
	struct gm_noise s;
	struct gm_key k;
	struct gm_buf b;
	struct gm_diag d;

	gm_buf_init(&b, GM_BUF_UNLIMITED);
	make_key(&k, 10);
	k.has_secret = false;
	ASSERT_ERR(gm_noise_init(&s, true, &k, NULL, NULL, &d), GM_EINVAL);
	ASSERT(strstr(d.msg, "secret"));
	gm_noise_release(&s);
	k.has_secret = true;
	ASSERT_OK(gm_noise_init(&s, false, &k, NULL, NULL, &d));
	ASSERT_ERR(gm_noise_feed(&s, (const uint8_t *)"ab", 2, &b, &b, &d),
		   GM_EPROTO);
	ASSERT(strstr(d.msg, "gm_noise_start"));
	ASSERT_ERR(gm_noise_write(&s, (const uint8_t *)"ab", 2, &b, &d),
		   GM_EPROTO);
	ASSERT_OK(gm_noise_start(&s, &b, &d));
	ASSERT_ERR(gm_noise_start(&s, &b, &d), GM_EPROTO);
	ASSERT_EQ(b.len, 0);
	ASSERT(gm_noise_remote_key(&s) == NULL);
	ASSERT(!gm_noise_handshake_done(&s));
	gm_noise_release(&s);
	gm_noise_release(NULL);
	gm_buf_release(&b);
}

TEST(session_injected_keys_are_deterministic)
{
	struct gm_noise i1, r1, i2, r2;
	struct gm_key ki, kr;
	uint8_t s1[32], e1[32], s2[32], e2[32];
	struct gm_buf w1, w2;
	struct gm_diag d;

	memset(s1, 0x11, 32);
	memset(e1, 0x22, 32);
	memset(s2, 0x33, 32);
	memset(e2, 0x44, 32);
	make_key(&ki, 1);
	make_key(&kr, 2);
	ASSERT_OK(gm_noise_init(&i1, true, &ki, s1, e1, &d));
	ASSERT_OK(gm_noise_init(&r1, false, &kr, s2, e2, &d));
	ASSERT_OK(gm_noise_init(&i2, true, &ki, s1, e1, &d));
	ASSERT_OK(gm_noise_init(&r2, false, &kr, s2, e2, &d));
	handshake(&i1, &r1);
	handshake(&i2, &r2);
	ASSERT_MEMEQ(i1.hs.h, i2.hs.h, 32);
	ASSERT_MEMEQ(i1.tx.k, i2.tx.k, 32);
	ASSERT_MEMEQ(i1.tx.k, r1.rx.k, 32);
	ASSERT_MEMEQ(i1.rx.k, r1.tx.k, 32);
	ASSERT(memcmp(i1.tx.k, i1.rx.k, 32) != 0);
	gm_buf_init(&w1, GM_BUF_UNLIMITED);
	gm_buf_init(&w2, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_noise_write(&i1, (const uint8_t *)"same", 4, &w1, &d));
	ASSERT_OK(gm_noise_write(&i2, (const uint8_t *)"same", 4, &w2, &d));
	ASSERT_EQ(w1.len, w2.len);
	ASSERT_MEMEQ(w1.data, w2.data, w1.len);
	gm_buf_release(&w1);
	gm_buf_release(&w2);
	gm_noise_release(&i1);
	gm_noise_release(&r1);
	gm_noise_release(&i2);
	gm_noise_release(&r2);
}

/* The same injected keys give the same handshake with or without a cache. */
TEST(cache_gives_the_same_handshake_bytes)
{
	struct gm_noise i1, r1, i2, r2;
	struct gm_noise_cache ci, cr;
	struct gm_key ki, kr;
	uint8_t s1[32], e1[32], s2[32], e2[32];
	struct gm_diag d;

	memset(s1, 0x11, 32);
	memset(e1, 0x22, 32);
	memset(s2, 0x33, 32);
	memset(e2, 0x44, 32);
	make_key(&ki, 1);
	make_key(&kr, 2);
	ASSERT_OK(gm_noise_cache_init(&ci, &ki, s1, &d));
	ASSERT_OK(gm_noise_cache_init(&cr, &kr, s2, &d));
	ASSERT_OK(gm_noise_init(&i1, true, &ki, s1, e1, &d));
	ASSERT_OK(gm_noise_init(&r1, false, &kr, s2, e2, &d));
	ASSERT_OK(gm_noise_init_cached(&i2, true, &ci, e1, &d));
	ASSERT_OK(gm_noise_init_cached(&r2, false, &cr, e2, &d));
	ASSERT_MEMEQ(i1.hs.s_pk, i2.hs.s_pk, 32);
	handshake(&i1, &r1);
	handshake(&i2, &r2);
	/* the handshake hash covers every byte of the three messages */
	ASSERT_MEMEQ(i1.hs.h, i2.hs.h, 32);
	ASSERT_MEMEQ(r1.hs.h, r2.hs.h, 32);
	ASSERT_MEMEQ(i2.tx.k, r2.rx.k, 32);
	ASSERT_MEMEQ(i2.remote_pk, kr.pk, 32);
	ASSERT_MEMEQ(r2.remote_pk, ki.pk, 32);
	ASSERT_EQ(ci.misses, 1);
	ASSERT_EQ(cr.misses, 1);
	ASSERT_EQ(ci.hits + cr.hits, 0);
	gm_noise_release(&i1);
	gm_noise_release(&r1);
	gm_noise_release(&i2);
	gm_noise_release(&r2);
	gm_noise_cache_release(&ci);
	gm_noise_cache_release(&cr);
	ASSERT_OK(gm_noise_cache_init(&ci, &ki, NULL, &d));
	ASSERT(memcmp(ci.s_pk, i1.hs.s_pk, 32) != 0); /* NULL: a random key */
	gm_noise_cache_release(&ci);
	kr.has_secret = false;
	ASSERT_ERR(gm_noise_cache_init(&cr, &kr, NULL, &d), GM_EINVAL);
	ASSERT_ERR(gm_noise_init_cached(&i1, true, NULL, NULL, &d), GM_EINVAL);
}

/* Runs one handshake between caches a (initiator) and b; returns b's error. */
static gm_err cached_handshake(struct gm_noise_cache *a,
			       struct gm_noise_cache *b)
{
	struct gm_noise i, r;
	struct gm_buf x, y, pt;
	struct gm_diag d;
	gm_err e;

	gm_buf_init(&x, GM_BUF_UNLIMITED);
	gm_buf_init(&y, GM_BUF_UNLIMITED);
	gm_buf_init(&pt, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_noise_init_cached(&i, true, a, NULL, &d));
	ASSERT_OK(gm_noise_init_cached(&r, false, b, NULL, &d));
	ASSERT_OK(gm_noise_start(&i, &x, &d));
	ASSERT_OK(gm_noise_start(&r, &y, &d));
	ASSERT_OK(gm_noise_feed(&r, x.data, x.len, &y, &pt, &d));
	gm_buf_reset(&x);
	ASSERT_OK(gm_noise_feed(&i, y.data, y.len, &x, &pt, &d));
	e = gm_noise_feed(&r, x.data, x.len, &y, &pt, &d);
	if (e)
		ASSERT(strstr(d.msg, "signature"));
	gm_noise_release(&i);
	gm_noise_release(&r);
	gm_buf_release(&x);
	gm_buf_release(&y);
	gm_buf_release(&pt);
	return e;
}

/*
 * A peer seen before skips the verification; a bad signature is refused
 * every time and never remembered; the table keeps the last 64 peers.
 */
TEST(cache_remembers_good_signatures_only)
{
	enum { NPEERS = GM_NOISE_CACHE_PEERS + 3 };
	struct gm_noise_cache *c = gm_calloc(NPEERS, sizeof(*c));
	struct gm_key k;
	struct gm_diag d;
	unsigned i;

	ASSERT(c);
	for (i = 0; i < NPEERS; i++) {
		make_key(&k, (uint8_t)(i + 1));
		ASSERT_OK(gm_noise_cache_init(&c[i], &k, NULL, &d));
	}
	/* c[1] dials c[0] twice: the responder verifies once */
	ASSERT_OK(cached_handshake(&c[1], &c[0]));
	ASSERT_OK(cached_handshake(&c[1], &c[0]));
	ASSERT_EQ(c[0].misses, 1);
	ASSERT_EQ(c[0].hits, 1);
	ASSERT_EQ(c[1].misses, 1);
	ASSERT_EQ(c[1].hits, 1);
	/* c[2] signs its payload wrong: refused twice, never a hit */
	c[2].payload[GM_NOISE_PAYLOAD_LEN - 1] ^= 1;
	ASSERT_ERR(cached_handshake(&c[2], &c[0]), GM_ESIGNATURE);
	ASSERT_ERR(cached_handshake(&c[2], &c[0]), GM_ESIGNATURE);
	ASSERT_EQ(c[0].hits, 1);
	ASSERT_EQ(c[0].misses, 3);
	/* 64 more peers push c[1] out of c[0]'s table (c[2] is not in it) */
	for (i = 3; i < NPEERS; i++)
		ASSERT_OK(cached_handshake(&c[i], &c[0]));
	ASSERT_EQ(c[0].n_verified, GM_NOISE_CACHE_PEERS);
	ASSERT_OK(cached_handshake(&c[NPEERS - 1], &c[0]));
	ASSERT_EQ(c[0].hits, 2);
	ASSERT_OK(cached_handshake(&c[1], &c[0]));
	ASSERT_EQ(c[0].hits, 2); /* forgotten: verified again */
	for (i = 0; i < NPEERS; i++)
		gm_noise_cache_release(&c[i]);
	gm_free(c);
}

/* The whole session life with the n-th allocation failing. */
static gm_err oom_run(void)
{
	struct gm_noise i, r;
	struct gm_key ki, kr;
	struct gm_buf a, b, pt;
	struct gm_diag d;
	gm_err e;

	make_key(&ki, 1);
	make_key(&kr, 2);
	gm_buf_init(&a, GM_BUF_UNLIMITED);
	gm_buf_init(&b, GM_BUF_UNLIMITED);
	gm_buf_init(&pt, GM_BUF_UNLIMITED);
	memset(&r, 0, sizeof(r));
	if ((e = gm_noise_init(&i, true, &ki, NULL, NULL, &d)))
		goto out_bufs;
	if ((e = gm_noise_init(&r, false, &kr, NULL, NULL, &d)))
		goto out_sessions;
	if ((e = gm_noise_start(&i, &a, &d)) ||
	    (e = gm_noise_start(&r, &b, &d)) ||
	    (e = gm_noise_feed(&r, a.data, a.len, &b, &pt, &d)))
		goto out_sessions;
	gm_buf_reset(&a);
	if ((e = gm_noise_feed(&i, b.data, b.len, &a, &pt, &d)))
		goto out_sessions;
	gm_buf_reset(&b);
	if ((e = gm_noise_feed(&r, a.data, a.len, &b, &pt, &d)))
		goto out_sessions;
	gm_buf_reset(&a);
	if ((e = gm_noise_write(&i, (const uint8_t *)"hi", 2, &a, &d)) ||
	    (e = gm_noise_feed(&r, a.data, a.len, &b, &pt, &d)))
		goto out_sessions;
	if (pt.len != 2 || memcmp(pt.data, "hi", 2) != 0)
		e = GM_EINVAL;
out_sessions:
	gm_noise_release(&i);
	gm_noise_release(&r);
out_bufs:
	gm_buf_release(&a);
	gm_buf_release(&b);
	gm_buf_release(&pt);
	return e;
}

TEST(session_out_of_memory_paths)
{
	unsigned long n;
	gm_err e = GM_ENOMEM;

	for (n = 1; n < 100 && e == GM_ENOMEM; n++) {
		gm_alloc_fail_after(n);
		e = oom_run();
		gm_alloc_fail_after(0);
		ASSERT(e == GM_OK || e == GM_ENOMEM);
	}
	ASSERT_OK(e);
	ASSERT(n > 3);
}
