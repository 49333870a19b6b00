/*
 * noise.c - Noise_XX_25519_ChaChaPoly_SHA256 and the libp2p "/noise"
 * secure channel, as a sans-IO state machine (see gm/noise.h).
 *
 * Noise framework objects (noiseprotocol.org rev 34, section 5):
 *
 *   | object         | here                                             |
 *   |----------------|--------------------------------------------------|
 *   | CipherState    | struct gm_noise_cipher (k, n, has_key)           |
 *   | SymmetricState | h, ck and cs inside struct gm_noise_hs           |
 *   | HandshakeState | struct gm_noise_hs (s, e, rs, re, msgs)          |
 *
 * The protocol name is exactly 32 bytes, so h = name and ck = h, then
 * MixHash(prologue). HKDF(ck, ikm) is temp = HMAC(ck, ikm),
 * o1 = HMAC(temp, 0x01), o2 = HMAC(temp, o1 || 0x02).
 *
 * AEAD nonce (12 bytes): 00 00 00 00 || n as 64-bit little-endian.
 *
 * Message layouts of XX (ct = ciphertext with 16-byte tag once a key is
 * set, plaintext before):
 *
 *   | msg | direction | bytes                                        |
 *   |-----|-----------|----------------------------------------------|
 *   | 1   | I -> R    | e (32) || payload                            |
 *   | 2   | R -> I    | e (32) || ct(s) (48) || ct(payload) (+16)    |
 *   | 3   | I -> R    | ct(s) (48) || ct(payload) (+16)              |
 *
 * libp2p handshake payload (protobuf), as written by us (104 bytes):
 *
 *   | bytes          | meaning                                         |
 *   |----------------|-------------------------------------------------|
 *   | 0a 24          | field 1 (identity_key), 36 bytes                |
 *   | 08 01 12 20 pk | PublicKey { Type = Ed25519, Data = pk (32) }    |
 *   | 12 40 sig      | field 2 (identity_sig), 64 bytes                |
 *
 * When reading, unknown fields are skipped, field 4 (extensions) is
 * ignored, a repeated identity field is refused.
 */
#include "internal.h"

#include <openssl/evp.h>
#include <sodium.h>

#include "gm/noise.h"

#define NONCE_BYTES 12
#define DH_BYTES 32
#define SIG_PREFIX_LEN (sizeof(GM_NOISE_SIG_PREFIX) - 1)
#define PAYLOAD_LEN GM_NOISE_PAYLOAD_LEN

/* h starts as the name itself: it must be exactly HASHLEN bytes. */
_Static_assert(sizeof(GM_NOISE_PROTOCOL_NAME) - 1 == GM_NOISE_HASH_BYTES,
	       "the Noise protocol name must be 32 bytes");

/* --- crypto primitives ------------------------------------------------ */

static void nonce_of(uint64_t n, uint8_t out[NONCE_BYTES])
{
	int i;

	memset(out, 0, 4);
	for (i = 0; i < 8; i++)
		out[4 + i] = (uint8_t)(n >> (8 * i));
}

static void hmac(const uint8_t key[32], const uint8_t *a, size_t alen,
		 const uint8_t *b, size_t blen, uint8_t out[32])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, 32);
	crypto_auth_hmacsha256_update(&st, a, alen);
	if (blen)
		crypto_auth_hmacsha256_update(&st, b, blen);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

/* HKDF with two outputs. */
static void hkdf2(const uint8_t ck[32], const uint8_t *ikm, size_t ikmlen,
		  uint8_t o1[32], uint8_t o2[32])
{
	uint8_t temp[32], one = 1, two = 2;

	hmac(ck, ikm, ikmlen, NULL, 0, temp);
	hmac(temp, &one, 1, NULL, 0, o1);
	hmac(temp, o1, 32, &two, 1, o2);
	sodium_memzero(temp, sizeof(temp));
}

static gm_err dh(const uint8_t sk[32], const uint8_t pk[32],
		 uint8_t out[DH_BYTES], struct gm_diag *d)
{
	if (crypto_scalarmult_curve25519(out, sk, pk) != 0)
		return gm_diag_set(d, GM_EPROTO,
				   "noise: the peer's X25519 key gives an "
				   "all-zero shared secret (low-order point); "
				   "refusing the handshake");
	return GM_OK;
}

/* --- CipherState ------------------------------------------------------ */

gm_err gm_noise_cipher_use_evp(struct gm_noise_cipher *c, struct gm_diag *d)
{
	EVP_CIPHER *cipher;
	EVP_CIPHER_CTX *ctx;
	int ok;

	if (c->evp)
		return GM_OK;
	cipher = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	if (!cipher)
		return gm_diag_set(d, GM_EUNSUPPORTED,
				   "noise: OpenSSL has no ChaCha20-Poly1305");
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx) {
		EVP_CIPHER_free(cipher);
		return gm_diag_set(d, GM_ENOMEM,
				   "noise: out of memory for a cipher context");
	}
	ok = EVP_CipherInit_ex2(ctx, cipher, NULL, NULL, 1, NULL);
	EVP_CIPHER_free(cipher); /* ctx keeps its own reference */
	if (ok != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return gm_diag_set(d, GM_EUNSUPPORTED,
				   "noise: OpenSSL refused ChaCha20-Poly1305");
	}
	c->evp = ctx;
	return GM_OK;
}

void gm_noise_cipher_release(struct gm_noise_cipher *c)
{
	if (!c)
		return;
	if (c->evp)
		EVP_CIPHER_CTX_free(c->evp);
	sodium_memzero(c, sizeof(*c));
}

static bool evp_seal(EVP_CIPHER_CTX *ctx, const uint8_t *k,
		     const uint8_t *nonce, const uint8_t *ad, size_t adlen,
		     const uint8_t *pt, size_t len, uint8_t *out)
{
	int n = 0, fin = 0;

	if (EVP_EncryptInit_ex2(ctx, NULL, k, nonce, NULL) != 1)
		return false;
	if (adlen && EVP_EncryptUpdate(ctx, NULL, &n, ad, (int)adlen) != 1)
		return false;
	if (EVP_EncryptUpdate(ctx, out, &n, pt, (int)len) != 1)
		return false;
	if (EVP_EncryptFinal_ex(ctx, out + n, &fin) != 1)
		return false;
	return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG,
				   GM_NOISE_TAG_BYTES, out + len) == 1;
}

static bool evp_open(EVP_CIPHER_CTX *ctx, const uint8_t *k,
		     const uint8_t *nonce, const uint8_t *ad, size_t adlen,
		     const uint8_t *ct, size_t len, uint8_t *out)
{
	uint8_t tag[GM_NOISE_TAG_BYTES];
	size_t mlen = len - GM_NOISE_TAG_BYTES;
	int n = 0, fin = 0;

	memcpy(tag, ct + mlen, sizeof(tag));
	if (EVP_DecryptInit_ex2(ctx, NULL, k, nonce, NULL) != 1)
		return false;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, sizeof(tag), tag) !=
	    1)
		return false;
	if (adlen && EVP_DecryptUpdate(ctx, NULL, &n, ad, (int)adlen) != 1)
		return false;
	if (EVP_DecryptUpdate(ctx, out, &n, ct, (int)mlen) != 1)
		return false;
	return EVP_DecryptFinal_ex(ctx, out + n, &fin) == 1;
}

gm_err gm_noise_cipher_encrypt(struct gm_noise_cipher *c, const uint8_t *ad,
			       size_t adlen, const uint8_t *pt, size_t len,
			       struct gm_buf *out, struct gm_diag *d)
{
	uint8_t nonce[NONCE_BYTES];
	unsigned long long clen;
	uint8_t *dst;
	gm_err e;

	if (!c->has_key) {
		e = gm_buf_append(out, pt, len);
		return e ? gm_diag_set(d, e, "noise: cannot grow the output")
			 : GM_OK;
	}
	if (len > GM_NOISE_PLAINTEXT_MAX)
		return gm_diag_set(d, GM_ELIMIT,
				   "noise: %zu bytes is more than the %d a "
				   "Noise message can carry",
				   len, GM_NOISE_PLAINTEXT_MAX);
	if (c->n == UINT64_MAX)
		return gm_diag_set(d, GM_EPROTO,
				   "noise: the send nonce is exhausted; open "
				   "a new connection");
	e = gm_buf_reserve(out, len + GM_NOISE_TAG_BYTES);
	if (e)
		return gm_diag_set(d, e, "noise: cannot grow the output");
	dst = out->data + out->len;
	nonce_of(c->n, nonce);
	if (c->evp) {
		if (!evp_seal(c->evp, c->k, nonce, ad, adlen, pt, len, dst))
			return gm_diag_set(d, GM_EPROTO,
					   "noise: OpenSSL encryption failed");
	} else {
		crypto_aead_chacha20poly1305_ietf_encrypt(
		    dst, &clen, pt, len, ad, adlen, NULL, nonce, c->k);
	}
	out->len += len + GM_NOISE_TAG_BYTES;
	out->data[out->len] = '\0';
	c->n++;
	return GM_OK;
}

gm_err gm_noise_cipher_decrypt(struct gm_noise_cipher *c, const uint8_t *ad,
			       size_t adlen, const uint8_t *ct, size_t len,
			       struct gm_buf *out, struct gm_diag *d)
{
	uint8_t nonce[NONCE_BYTES];
	unsigned long long mlen;
	size_t plen;
	uint8_t *dst;
	bool ok;
	gm_err e;

	if (!c->has_key) {
		e = gm_buf_append(out, ct, len);
		return e ? gm_diag_set(d, e, "noise: cannot grow the output")
			 : GM_OK;
	}
	if (len < GM_NOISE_TAG_BYTES || len > GM_NOISE_MSG_MAX)
		return gm_diag_set(d, GM_EPROTO,
				   "noise: a %zu-byte encrypted message (must "
				   "be 16 to 65535 bytes)",
				   len);
	if (c->n == UINT64_MAX)
		return gm_diag_set(d, GM_EPROTO,
				   "noise: the receive nonce is exhausted; "
				   "open a new connection");
	plen = len - GM_NOISE_TAG_BYTES;
	e = gm_buf_reserve(out, plen);
	if (e)
		return gm_diag_set(d, e, "noise: cannot grow the output");
	dst = out->data + out->len;
	nonce_of(c->n, nonce);
	if (c->evp)
		ok = evp_open(c->evp, c->k, nonce, ad, adlen, ct, len, dst);
	else
		ok =
		    crypto_aead_chacha20poly1305_ietf_decrypt(
			dst, &mlen, NULL, ct, len, ad, adlen, nonce, c->k) == 0;
	if (!ok) {
		sodium_memzero(dst, plen);
		return gm_diag_set(d, GM_EPROTO,
				   "noise: message %" PRIu64 " failed "
				   "authentication (bad tag: corrupted or "
				   "forged data); closing the connection",
				   c->n);
	}
	out->len += plen;
	out->data[out->len] = '\0';
	c->n++;
	return GM_OK;
}

/* --- SymmetricState --------------------------------------------------- */

static void mix_hash(struct gm_noise_hs *hs, const uint8_t *data, size_t len)
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, hs->h, sizeof(hs->h));
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, hs->h);
}

static void mix_key(struct gm_noise_hs *hs, const uint8_t ikm[DH_BYTES])
{
	uint8_t temp[32];

	hkdf2(hs->ck, ikm, DH_BYTES, hs->ck, temp);
	memcpy(hs->cs.k, temp, 32);
	hs->cs.n = 0;
	hs->cs.has_key = true;
	sodium_memzero(temp, sizeof(temp));
}

static gm_err mix_dh(struct gm_noise_hs *hs, const uint8_t sk[32],
		     const uint8_t pk[32], struct gm_diag *d)
{
	uint8_t shared[DH_BYTES];
	gm_err e;

	e = dh(sk, pk, shared, d);
	if (!e)
		mix_key(hs, shared);
	sodium_memzero(shared, sizeof(shared));
	return e;
}

static gm_err encrypt_and_hash(struct gm_noise_hs *hs, const uint8_t *pt,
			       size_t len, struct gm_buf *out,
			       struct gm_diag *d)
{
	size_t pos = out->len;
	gm_err e;

	e = gm_noise_cipher_encrypt(&hs->cs, hs->h, sizeof(hs->h), pt, len, out,
				    d);
	if (e)
		return e;
	mix_hash(hs, out->data + pos, out->len - pos);
	return GM_OK;
}

static gm_err decrypt_and_hash(struct gm_noise_hs *hs, const uint8_t *ct,
			       size_t len, struct gm_buf *out,
			       struct gm_diag *d)
{
	gm_err e;

	e = gm_noise_cipher_decrypt(&hs->cs, hs->h, sizeof(hs->h), ct, len, out,
				    d);
	if (e)
		return e;
	mix_hash(hs, ct, len);
	return GM_OK;
}

/* --- HandshakeState (pattern XX) -------------------------------------- */

static void keypair(const uint8_t *given, uint8_t sk[32], uint8_t pk[32])
{
	if (given) {
		memcpy(sk, given, 32);
		crypto_scalarmult_curve25519_base(pk, sk);
	} else {
		crypto_box_keypair(pk, sk);
	}
}

/*
 * gm_noise_hs_init with the static key pair given whole (s_pk derived from
 * s_sk by the caller, sparing its base multiplication).
 */
static gm_err hs_setup(struct gm_noise_hs *hs, bool initiator,
		       const uint8_t *prologue, size_t plen,
		       const uint8_t s_sk[32], const uint8_t s_pk[32],
		       const uint8_t *ephemeral_sk, struct gm_diag *d)
{
	memset(hs, 0, sizeof(*hs));
	if (plen && !prologue)
		return gm_diag_set(d, GM_EINVAL, "noise: prologue is NULL");
	if (sodium_init() < 0)
		return gm_diag_set(d, GM_EINVAL,
				   "noise: libsodium failed to initialize");
	hs->initiator = initiator;
	memcpy(hs->h, GM_NOISE_PROTOCOL_NAME, sizeof(hs->h));
	memcpy(hs->ck, hs->h, sizeof(hs->ck));
	mix_hash(hs, prologue ? prologue : (const uint8_t *)"", plen);
	memcpy(hs->s_sk, s_sk, 32);
	memcpy(hs->s_pk, s_pk, 32);
	keypair(ephemeral_sk, hs->e_sk, hs->e_pk);
	return GM_OK;
}

gm_err gm_noise_hs_init(struct gm_noise_hs *hs, bool initiator,
			const uint8_t *prologue, size_t plen,
			const uint8_t *static_sk, const uint8_t *ephemeral_sk,
			struct gm_diag *d)
{
	uint8_t sk[32], pk[32];
	gm_err e;

	memset(hs, 0, sizeof(*hs));
	if (sodium_init() < 0)
		return gm_diag_set(d, GM_EINVAL,
				   "noise: libsodium failed to initialize");
	keypair(static_sk, sk, pk);
	e = hs_setup(hs, initiator, prologue, plen, sk, pk, ephemeral_sk, d);
	sodium_memzero(sk, sizeof(sk));
	return e;
}

void gm_noise_hs_release(struct gm_noise_hs *hs)
{
	if (hs)
		sodium_memzero(hs, sizeof(*hs));
}

bool gm_noise_hs_done(const struct gm_noise_hs *hs)
{
	return hs->msgs == 3 && !hs->failed;
}

/* Whether message number hs->msgs (0-based) is ours to write. */
static bool our_turn(const struct gm_noise_hs *hs)
{
	return (hs->msgs % 2 == 0) == hs->initiator;
}

static gm_err hs_write_steps(struct gm_noise_hs *hs, const uint8_t *payload,
			     size_t len, struct gm_buf *out, struct gm_diag *d)
{
	gm_err e;

	switch (hs->msgs) {
	case 0: /* -> e */
		if ((e = gm_buf_append(out, hs->e_pk, 32)))
			return gm_diag_set(d, e, "noise: cannot grow output");
		mix_hash(hs, hs->e_pk, 32);
		break;
	case 1: /* <- e, ee, s, es */
		if ((e = gm_buf_append(out, hs->e_pk, 32)))
			return gm_diag_set(d, e, "noise: cannot grow output");
		mix_hash(hs, hs->e_pk, 32);
		if ((e = mix_dh(hs, hs->e_sk, hs->re, d)))
			return e;
		if ((e = encrypt_and_hash(hs, hs->s_pk, 32, out, d)))
			return e;
		if ((e = mix_dh(hs, hs->s_sk, hs->re, d)))
			return e;
		break;
	default: /* -> s, se */
		if ((e = encrypt_and_hash(hs, hs->s_pk, 32, out, d)))
			return e;
		if ((e = mix_dh(hs, hs->s_sk, hs->re, d)))
			return e;
		break;
	}
	return encrypt_and_hash(hs, payload, len, out, d);
}

gm_err gm_noise_hs_write(struct gm_noise_hs *hs, const uint8_t *payload,
			 size_t len, struct gm_buf *out, struct gm_diag *d)
{
	size_t pos = out->len;
	size_t over = hs->msgs == 0 ? 32 : hs->msgs == 1 ? 96 : 64;
	gm_err e;

	if (hs->failed || hs->msgs >= 3 || !our_turn(hs))
		return gm_diag_set(d, GM_EPROTO,
				   "noise: handshake message %u is not ours "
				   "to write (or the handshake is over)",
				   hs->msgs + 1u);
	if (len > GM_NOISE_MSG_MAX - over)
		return gm_diag_set(d, GM_ELIMIT,
				   "noise: a %zu-byte handshake payload makes "
				   "a message over 65535 bytes",
				   len);
	/* Room first, so that no append below can fail half way. */
	e = gm_buf_reserve(out, over + len);
	if (e)
		return gm_diag_set(d, e, "noise: cannot grow the output");
	e = hs_write_steps(hs, payload, len, out, d);
	if (e) {
		/* The state was partly advanced: the handshake is dead. */
		out->len = pos;
		if (out->data)
			out->data[pos] = '\0';
		hs->failed = true;
		return e;
	}
	hs->msgs++;
	return GM_OK;
}

static gm_err hs_read_steps(struct gm_noise_hs *hs, const uint8_t *msg,
			    size_t len, struct gm_buf *payload,
			    struct gm_diag *d)
{
	struct gm_buf tmp;
	size_t off = 0, need;
	gm_err e;

	need = hs->msgs == 0 ? 32 : hs->msgs == 1 ? 32 + 48 + 16 : 48 + 16;
	if (len < need || len > GM_NOISE_MSG_MAX)
		return gm_diag_set(d, GM_EPROTO,
				   "noise: handshake message %u is %zu bytes "
				   "(expected %zu to 65535)",
				   hs->msgs + 1u, len, need);
	if (hs->msgs <= 1) { /* e */
		memcpy(hs->re, msg, 32);
		mix_hash(hs, hs->re, 32);
		off = 32;
	}
	if (hs->msgs == 1) { /* ee */
		if ((e = mix_dh(hs, hs->e_sk, hs->re, d)))
			return e;
	}
	if (hs->msgs >= 1) { /* s */
		gm_buf_init(&tmp, 32);
		if ((e = decrypt_and_hash(hs, msg + off, 48, &tmp, d))) {
			gm_buf_release(&tmp);
			return e;
		}
		memcpy(hs->rs, tmp.data, 32);
		gm_buf_release(&tmp);
		off += 48;
		/* es (initiator reading message 2) or se (responder, 3) */
		if ((e = mix_dh(hs, hs->e_sk, hs->rs, d)))
			return e;
	}
	return decrypt_and_hash(hs, msg + off, len - off, payload, d);
}

gm_err gm_noise_hs_read(struct gm_noise_hs *hs, const uint8_t *msg, size_t len,
			struct gm_buf *payload, struct gm_diag *d)
{
	size_t pos = payload->len;
	gm_err e;

	if (hs->failed || hs->msgs >= 3 || our_turn(hs))
		return gm_diag_set(d, GM_EPROTO,
				   "noise: handshake message %u was not "
				   "expected from the peer",
				   hs->msgs + 1u);
	e = hs_read_steps(hs, msg, len, payload, d);
	if (e) {
		payload->len = pos;
		if (payload->data)
			payload->data[pos] = '\0';
		hs->failed = true;
		return e;
	}
	hs->msgs++;
	return GM_OK;
}

gm_err gm_noise_hs_split(struct gm_noise_hs *hs, struct gm_noise_cipher *send,
			 struct gm_noise_cipher *recv, struct gm_diag *d)
{
	uint8_t k1[32], k2[32];

	if (!gm_noise_hs_done(hs))
		return gm_diag_set(d, GM_EPROTO,
				   "noise: the handshake is not complete");
	hkdf2(hs->ck, NULL, 0, k1, k2);
	memset(send, 0, sizeof(*send));
	memset(recv, 0, sizeof(*recv));
	memcpy(send->k, hs->initiator ? k1 : k2, 32);
	memcpy(recv->k, hs->initiator ? k2 : k1, 32);
	send->has_key = recv->has_key = true;
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));
	sodium_memzero(&hs->cs, sizeof(hs->cs));
	return GM_OK;
}

/* --- libp2p handshake payload ----------------------------------------- */

static void payload_sign(const uint8_t id_sk[GM_KEY_SECRET_BYTES],
			 const uint8_t id_pk[GM_KEY_PUBLIC_BYTES],
			 const uint8_t s_pk[32], uint8_t out[PAYLOAD_LEN])
{
	uint8_t msg[SIG_PREFIX_LEN + 32];

	memcpy(msg, GM_NOISE_SIG_PREFIX, SIG_PREFIX_LEN);
	memcpy(msg + SIG_PREFIX_LEN, s_pk, 32);
	out[0] = 0x0a;
	out[1] = 36;
	out[2] = 0x08;
	out[3] = 0x01;
	out[4] = 0x12;
	out[5] = 32;
	memcpy(out + 6, id_pk, 32);
	out[38] = 0x12;
	out[39] = 64;
	crypto_sign_detached(out + 40, NULL, msg, sizeof(msg), id_sk);
}

static void payload_build(const struct gm_noise *s, uint8_t out[PAYLOAD_LEN])
{
	if (s->cache)
		memcpy(out, s->cache->payload, PAYLOAD_LEN);
	else
		payload_sign(s->id_sk, s->id_pk, s->hs.s_pk, out);
}

/*
 * The cache key of a remote's identity signature: SHA-256 of its
 * identity key, its static key and the signature.
 */
static void verified_digest(const uint8_t pk[32], const uint8_t rs[32],
			    const uint8_t *sig, uint8_t out[32])
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, pk, 32);
	crypto_hash_sha256_update(&st, rs, 32);
	crypto_hash_sha256_update(&st, sig, crypto_sign_BYTES);
	crypto_hash_sha256_final(&st, out);
}

/* Whether the signature sig of pk over rs is known to verify. */
static bool cache_knows(struct gm_noise_cache *c, const uint8_t dg[32])
{
	unsigned i;

	for (i = 0; i < c->n_verified; i++)
		if (sodium_memcmp(c->verified[i], dg, 32) == 0)
			return true;
	return false;
}

static void cache_remember(struct gm_noise_cache *c, const uint8_t dg[32])
{
	memcpy(c->verified[c->next], dg, 32);
	c->next = (c->next + 1) % GM_NOISE_CACHE_PEERS;
	if (c->n_verified < GM_NOISE_CACHE_PEERS)
		c->n_verified++;
}

gm_err gm_noise_cache_init(struct gm_noise_cache *c,
			   const struct gm_key *identity,
			   const uint8_t *static_sk, struct gm_diag *d)
{
	memset(c, 0, sizeof(*c));
	if (!identity || !identity->has_secret)
		return gm_diag_set(d, GM_EINVAL,
				   "noise: the identity key has no secret; "
				   "load it with its secret");
	if (sodium_init() < 0)
		return gm_diag_set(d, GM_EINVAL,
				   "noise: libsodium failed to initialize");
	memcpy(c->id_sk, identity->sk, sizeof(c->id_sk));
	memcpy(c->id_pk, identity->pk, sizeof(c->id_pk));
	keypair(static_sk, c->s_sk, c->s_pk);
	payload_sign(c->id_sk, c->id_pk, c->s_pk, c->payload);
	return GM_OK;
}

void gm_noise_cache_release(struct gm_noise_cache *c)
{
	if (c)
		sodium_memzero(c, sizeof(*c));
}

/* Reads a protobuf varint at *off; false when truncated or over 64 bits. */
static bool pb_varint(const uint8_t *p, size_t len, size_t *off, uint64_t *v)
{
	uint64_t r = 0;
	unsigned shift = 0;

	while (*off < len && shift < 64) {
		uint8_t b = p[(*off)++];

		if (shift == 63 && b > 1)
			return false;
		r |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return true;
		}
		shift += 7;
	}
	return false;
}

/*
 * Walks one protobuf message: for each field calls back with its number,
 * wire type, and value (bytes for type 2, the varint for type 0). Fixed
 * 32/64-bit fields are skipped; groups are malformed.
 */
struct pb_field {
	uint64_t num;
	unsigned type;
	uint64_t v;
	const uint8_t *p;
	size_t n;
};

static bool pb_next(const uint8_t *p, size_t len, size_t *off,
		    struct pb_field *f)
{
	uint64_t key;

	if (!pb_varint(p, len, off, &key))
		return false;
	f->num = key >> 3;
	f->type = (unsigned)(key & 7);
	if (f->num == 0)
		return false;
	switch (f->type) {
	case 0:
		return pb_varint(p, len, off, &f->v);
	case 1:
	case 5: {
		size_t w = f->type == 1 ? 8 : 4;

		if ((uint64_t)*off + w > len)
			return false;
		*off += w;
		return true;
	}
	case 2:
		if (!pb_varint(p, len, off, &f->v) || f->v > len - *off)
			return false;
		f->p = p + *off;
		f->n = (size_t)f->v;
		*off += f->n;
		return true;
	default:
		return false;
	}
}

static gm_err parse_pubkey(const uint8_t *p, size_t len, uint8_t pk[32],
			   struct gm_diag *d)
{
	struct pb_field f;
	size_t off = 0;
	uint64_t type = UINT64_MAX;
	const uint8_t *data = NULL;
	size_t dlen = 0;

	while (off < len) {
		if (!pb_next(p, len, &off, &f))
			return gm_diag_set(d, GM_EPROTO,
					   "noise: the peer's identity key is "
					   "not a valid PublicKey protobuf");
		if (f.num == 1 && f.type == 0)
			type = f.v;
		else if (f.num == 2 && f.type == 2) {
			data = f.p;
			dlen = f.n;
		}
	}
	if (type != 1)
		return gm_diag_set(d, GM_EPROTO,
				   "noise: the peer's identity key type is "
				   "%" PRIu64 "; only Ed25519 (1) is accepted",
				   type == UINT64_MAX ? 0 : type);
	if (!data || dlen != 32)
		return gm_diag_set(d, GM_EPROTO,
				   "noise: the peer's Ed25519 identity key is "
				   "%zu bytes, not 32",
				   dlen);
	memcpy(pk, data, 32);
	return GM_OK;
}

static gm_err payload_verify(struct gm_noise *s, const uint8_t *p, size_t len,
			     struct gm_diag *d)
{
	struct pb_field f;
	size_t off = 0;
	const uint8_t *key = NULL, *sig = NULL;
	size_t keylen = 0, siglen = 0;
	uint8_t msg[SIG_PREFIX_LEN + 32], pk[32], dg[32];
	gm_err e;

	while (off < len) {
		if (!pb_next(p, len, &off, &f))
			return gm_diag_set(
			    d, GM_EPROTO,
			    "noise: the peer's handshake payload "
			    "is not a valid protobuf");
		if ((f.num == 1 || f.num == 2) && f.type != 2)
			return gm_diag_set(d, GM_EPROTO,
					   "noise: handshake payload field %u "
					   "has the wrong wire type",
					   (unsigned)f.num);
		if (f.num == 1) {
			if (key)
				goto out_repeated;
			key = f.p;
			keylen = f.n;
		} else if (f.num == 2) {
			if (sig)
				goto out_repeated;
			sig = f.p;
			siglen = f.n;
		}
	}
	if (!key || !sig)
		return gm_diag_set(d, GM_EPROTO,
				   "noise: the peer's handshake payload lacks "
				   "its identity %s",
				   key ? "signature" : "key");
	if ((e = parse_pubkey(key, keylen, pk, d)))
		return e;
	if (siglen != crypto_sign_BYTES)
		return gm_diag_set(d, GM_ESIGNATURE,
				   "noise: the peer's identity signature is "
				   "%zu bytes, not 64",
				   siglen);
	if (s->cache) {
		verified_digest(pk, s->hs.rs, sig, dg);
		if (cache_knows(s->cache, dg)) {
			s->cache->hits++;
			goto out_ok;
		}
		s->cache->misses++;
	}
	memcpy(msg, GM_NOISE_SIG_PREFIX, SIG_PREFIX_LEN);
	memcpy(msg + SIG_PREFIX_LEN, s->hs.rs, 32);
	if (crypto_sign_verify_detached(sig, msg, sizeof(msg), pk) != 0)
		return gm_diag_set(d, GM_ESIGNATURE,
				   "noise: the peer's identity signature over "
				   "its static key does not verify; refusing "
				   "the connection");
	if (s->cache)
		cache_remember(s->cache, dg);
out_ok:
	memcpy(s->remote_pk, pk, 32);
	return GM_OK;

out_repeated:
	return gm_diag_set(d, GM_EPROTO,
			   "noise: handshake payload field %u is repeated",
			   (unsigned)f.num);
}

/* --- libp2p session --------------------------------------------------- */

/*
 * The rest of a session's set-up once its handshake state is ready: the
 * frame buffer and our identity. Releases hs on failure.
 */
static gm_err session_finish_init(struct gm_noise *s,
				  const uint8_t id_sk[GM_KEY_SECRET_BYTES],
				  const uint8_t id_pk[GM_KEY_PUBLIC_BYTES],
				  struct gm_diag *d)
{
	s->frame = gm_malloc(GM_NOISE_MSG_MAX + 2);
	if (!s->frame) {
		gm_noise_hs_release(&s->hs);
		return gm_diag_set(d, GM_ENOMEM,
				   "noise: out of memory for the frame buffer");
	}
	memcpy(s->id_sk, id_sk, sizeof(s->id_sk));
	memcpy(s->id_pk, id_pk, sizeof(s->id_pk));
	return GM_OK;
}

gm_err gm_noise_init(struct gm_noise *s, bool initiator,
		     const struct gm_key *identity, const uint8_t *static_sk,
		     const uint8_t *ephemeral_sk, struct gm_diag *d)
{
	gm_err e;

	memset(s, 0, sizeof(*s));
	if (!identity || !identity->has_secret)
		return gm_diag_set(d, GM_EINVAL,
				   "noise: the identity key has no secret; "
				   "load it with its secret");
	e = gm_noise_hs_init(&s->hs, initiator, NULL, 0, static_sk,
			     ephemeral_sk, d);
	if (e)
		return e;
	return session_finish_init(s, identity->sk, identity->pk, d);
}

gm_err gm_noise_init_cached(struct gm_noise *s, bool initiator,
			    struct gm_noise_cache *cache,
			    const uint8_t *ephemeral_sk, struct gm_diag *d)
{
	gm_err e;

	memset(s, 0, sizeof(*s));
	if (!cache)
		return gm_diag_set(d, GM_EINVAL, "noise: no cache given");
	e = hs_setup(&s->hs, initiator, NULL, 0, cache->s_sk, cache->s_pk,
		     ephemeral_sk, d);
	if (e)
		return e;
	s->cache = cache;
	return session_finish_init(s, cache->id_sk, cache->id_pk, d);
}

void gm_noise_release(struct gm_noise *s)
{
	if (!s)
		return;
	gm_free(s->frame);
	gm_noise_hs_release(&s->hs);
	gm_noise_cipher_release(&s->tx);
	gm_noise_cipher_release(&s->rx);
	sodium_memzero(s, sizeof(*s));
}

static gm_err fail(struct gm_noise *s, gm_err e)
{
	s->failed = true;
	return e;
}

/* Appends one handshake message, with its length prefix, to out. */
static gm_err write_hs_frame(struct gm_noise *s, const uint8_t *payload,
			     size_t len, struct gm_buf *out, struct gm_diag *d)
{
	size_t pos = out->len, n;
	uint8_t zero[2] = {0, 0};
	gm_err e;

	if ((e = gm_buf_append(out, zero, 2)))
		return gm_diag_set(d, e, "noise: cannot grow the output");
	e = gm_noise_hs_write(&s->hs, payload, len, out, d);
	if (e) {
		out->len = pos;
		out->data[pos] = '\0';
		return e;
	}
	n = out->len - pos - 2;
	out->data[pos] = (uint8_t)(n >> 8);
	out->data[pos + 1] = (uint8_t)n;
	return GM_OK;
}

static gm_err finish(struct gm_noise *s, struct gm_diag *d)
{
	gm_err e;

	if ((e = gm_noise_hs_split(&s->hs, &s->tx, &s->rx, d)))
		return e;
	if ((e = gm_noise_cipher_use_evp(&s->tx, d)))
		return e;
	if ((e = gm_noise_cipher_use_evp(&s->rx, d)))
		return e;
	s->done = true;
	return GM_OK;
}

static gm_err handle_hs(struct gm_noise *s, const uint8_t *msg, size_t len,
			struct gm_buf *out_to_send, struct gm_diag *d)
{
	uint8_t ours[PAYLOAD_LEN];
	struct gm_buf payload;
	unsigned idx = s->hs.msgs;
	gm_err e;

	gm_buf_init(&payload, GM_NOISE_MSG_MAX);
	e = gm_noise_hs_read(&s->hs, msg, len, &payload, d);
	if (e)
		goto out_payload;
	if (idx >= 1) {
		e = payload_verify(s, payload.data, payload.len, d);
		if (e)
			goto out_payload;
	}
	if (idx <= 1) {
		payload_build(s, ours);
		e = write_hs_frame(s, ours, sizeof(ours), out_to_send, d);
		if (e)
			goto out_payload;
	}
	if (idx >= 1)
		e = finish(s, d);
out_payload:
	gm_buf_release(&payload);
	return e;
}

gm_err gm_noise_start(struct gm_noise *s, struct gm_buf *out_to_send,
		      struct gm_diag *d)
{
	gm_err e;

	if (s->failed || s->started)
		return gm_diag_set(d, GM_EPROTO,
				   "noise: the session was already started");
	if (s->hs.initiator) {
		e = write_hs_frame(s, NULL, 0, out_to_send, d);
		if (e)
			return e == GM_ENOMEM ? e : fail(s, e);
	}
	s->started = true;
	return GM_OK;
}

static gm_err handle_frame(struct gm_noise *s, const uint8_t *body, size_t len,
			   struct gm_buf *out_to_send,
			   struct gm_buf *out_plaintext, struct gm_diag *d)
{
	if (s->done)
		return gm_noise_cipher_decrypt(&s->rx, NULL, 0, body, len,
					       out_plaintext, d);
	return handle_hs(s, body, len, out_to_send, d);
}

gm_err gm_noise_feed(struct gm_noise *s, const uint8_t *in, size_t len,
		     struct gm_buf *out_to_send, struct gm_buf *out_plaintext,
		     struct gm_diag *d)
{
	size_t need, take;
	gm_err e;

	if (s->failed)
		return gm_diag_set(d, GM_EPROTO,
				   "noise: the session failed earlier; close "
				   "the connection");
	if (!s->started)
		return gm_diag_set(d, GM_EPROTO,
				   "noise: gm_noise_start was not called");
	while (len > 0) {
		/* A whole frame in the input: no copy. */
		if (s->frame_len == 0 && len >= 2) {
			need = ((size_t)in[0] << 8 | in[1]) + 2;
			if (len >= need) {
				e = handle_frame(s, in + 2, need - 2,
						 out_to_send, out_plaintext, d);
				if (e)
					return fail(s, e);
				in += need;
				len -= need;
				continue;
			}
		}
		if (s->frame_len < 2) {
			s->frame[s->frame_len++] = *in++;
			len--;
			if (s->frame_len < 2)
				continue;
		}
		need = ((size_t)s->frame[0] << 8 | s->frame[1]) + 2;
		take = need - s->frame_len;
		if (take > len)
			take = len;
		memcpy(s->frame + s->frame_len, in, take);
		s->frame_len += take;
		in += take;
		len -= take;
		if (s->frame_len == need) {
			s->frame_len = 0;
			e = handle_frame(s, s->frame + 2, need - 2, out_to_send,
					 out_plaintext, d);
			if (e)
				return fail(s, e);
		}
	}
	return GM_OK;
}

gm_err gm_noise_write(struct gm_noise *s, const uint8_t *pt, size_t len,
		      struct gm_buf *out, struct gm_diag *d)
{
	size_t frames, n, pos;
	gm_err e;

	if (s->failed || !s->done)
		return gm_diag_set(d, GM_EPROTO,
				   "noise: cannot send before the handshake "
				   "is done (or after a failure)");
	frames = len / GM_NOISE_PLAINTEXT_MAX + 1;
	if (frames > (SIZE_MAX - len) / (2 + GM_NOISE_TAG_BYTES))
		return gm_diag_set(d, GM_ELIMIT, "noise: write too large");
	e = gm_buf_reserve(out, len + frames * (2 + GM_NOISE_TAG_BYTES));
	if (e)
		return gm_diag_set(d, e, "noise: cannot grow the output");
	while (len > 0) {
		n = len < GM_NOISE_PLAINTEXT_MAX ? len : GM_NOISE_PLAINTEXT_MAX;
		pos = out->len;
		out->data[out->len++] = (uint8_t)((n + 16) >> 8);
		out->data[out->len++] = (uint8_t)(n + 16);
		e = gm_noise_cipher_encrypt(&s->tx, NULL, 0, pt, n, out, d);
		if (e) {
			out->len = pos;
			out->data[pos] = '\0';
			return fail(s, e);
		}
		pt += n;
		len -= n;
	}
	return GM_OK;
}

bool gm_noise_handshake_done(const struct gm_noise *s)
{
	return s->done && !s->failed;
}

const uint8_t *gm_noise_remote_key(const struct gm_noise *s)
{
	return s->done && !s->failed ? s->remote_pk : NULL;
}
