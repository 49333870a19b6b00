/*
 * noise.h - the Noise XX handshake (Noise_XX_25519_ChaChaPoly_SHA256) and
 * the libp2p secure channel built on it, sans-IO.
 *
 * Two levels, both values the caller allocates:
 *
 *   - struct gm_noise_hs: the Noise framework handshake state (h, ck, the
 *     handshake cipher, local and remote keys) for pattern XX, with raw
 *     message payloads and a free prologue. This is the level the
 *     cacophony test vector exercises. struct gm_noise_cipher is one
 *     CipherState (k, n); gm_noise_hs_split() gives the two transport ones.
 *   - struct gm_noise: the libp2p "/noise" session. Bytes from the socket
 *     go into gm_noise_feed(), which returns bytes to send and decrypted
 *     plaintext; gm_noise_write() frames and encrypts application data.
 *     No I/O, no clocks, no threads.
 *
 * libp2p wire format (every handshake message and every transport message):
 *
 *   | bytes | field                                                 |
 *   |-------|-------------------------------------------------------|
 *   | 2     | length L, big-endian, L <= 65535                      |
 *   | L     | Noise message (transport: ciphertext || 16-byte tag)  |
 *
 * The handshake payloads of messages 2 and 3 are the protobuf
 * NoiseHandshakePayload { identity_key = 1 (libp2p PublicKey protobuf,
 * Ed25519 only: 08 01 12 20 <32-byte key>), identity_sig = 2 (Ed25519
 * signature over "noise-libp2p-static-key:" || X25519 static public key) };
 * extensions (field 4) are never sent and are ignored when received.
 *
 * Crypto: X25519 via libsodium (an all-zero shared secret is refused),
 * SHA-256 and HMAC-SHA256 via libsodium, ChaCha20-Poly1305 IETF with the
 * nonce 4 zero bytes || 64-bit little-endian counter. Handshake messages
 * use libsodium's AEAD; transport frames of struct gm_noise use OpenSSL's
 * EVP ChaCha20-Poly1305 (faster here: see bench/bench_aead.c), which gives
 * the same bytes.
 */
#ifndef GM_NOISE_H
#define GM_NOISE_H

#include "gm/gm.h"
#include "gm/buf.h"
#include "gm/keys.h"

#define GM_NOISE_KEY_BYTES 32
#define GM_NOISE_HASH_BYTES 32
#define GM_NOISE_TAG_BYTES 16
/* Largest Noise message (and libp2p frame body). */
#define GM_NOISE_MSG_MAX 65535
/* Largest plaintext of one transport frame. */
#define GM_NOISE_PLAINTEXT_MAX (GM_NOISE_MSG_MAX - GM_NOISE_TAG_BYTES)
/* The protocol name, exactly 32 bytes. */
#define GM_NOISE_PROTOCOL_NAME "Noise_XX_25519_ChaChaPoly_SHA256"
/* What the identity key signs, followed by the X25519 static key. */
#define GM_NOISE_SIG_PREFIX "noise-libp2p-static-key:"

/*
 * One Noise CipherState. has_key false means "no key yet": encrypting and
 * decrypting pass data through unchanged. evp, when not NULL, is an OpenSSL
 * EVP_CIPHER_CTX used instead of libsodium (see gm_noise_cipher_use_evp).
 */
struct gm_noise_cipher {
	uint8_t k[GM_NOISE_KEY_BYTES];
	uint64_t n;
	bool has_key;
	void *evp;
};

/*
 * Makes c encrypt with OpenSSL EVP ChaCha20-Poly1305 (one context per
 * cipher, reused for every message). GM_ENOMEM when OpenSSL cannot
 * allocate, GM_EUNSUPPORTED when OpenSSL lacks the cipher.
 */
GM_EXTERN gm_err gm_noise_cipher_use_evp(struct gm_noise_cipher *c,
					 struct gm_diag *d);
/* Wipes the key and frees the EVP context (accepts NULL). */
GM_EXTERN void gm_noise_cipher_release(struct gm_noise_cipher *c);
/*
 * EncryptWithAd: appends to out the ciphertext of pt (len bytes, at most
 * GM_NOISE_PLAINTEXT_MAX) with its 16-byte tag, using nonce n and then
 * incrementing n; without a key appends pt as is. GM_EPROTO when the nonce
 * is exhausted (n = 2^64 - 1), GM_ELIMIT for a too long pt, or out's error.
 */
GM_EXTERN gm_err gm_noise_cipher_encrypt(struct gm_noise_cipher *c,
					 const uint8_t *ad, size_t adlen,
					 const uint8_t *pt, size_t len,
					 struct gm_buf *out, struct gm_diag *d);
/*
 * DecryptWithAd: appends the plaintext of ct (len bytes including the tag)
 * to out. GM_EPROTO for a bad tag (n is then left unchanged), a ct shorter
 * than the tag or longer than GM_NOISE_MSG_MAX, or an exhausted nonce.
 */
GM_EXTERN gm_err gm_noise_cipher_decrypt(struct gm_noise_cipher *c,
					 const uint8_t *ad, size_t adlen,
					 const uint8_t *ct, size_t len,
					 struct gm_buf *out, struct gm_diag *d);

/* The handshake state of pattern XX (-> e; <- e, ee, s, es; -> s, se). */
struct gm_noise_hs {
	uint8_t h[GM_NOISE_HASH_BYTES];
	uint8_t ck[GM_NOISE_HASH_BYTES];
	struct gm_noise_cipher cs;
	uint8_t s_sk[32], s_pk[32]; /* our static X25519 key pair */
	uint8_t e_sk[32], e_pk[32]; /* our ephemeral key pair */
	uint8_t rs[32], re[32];	    /* the remote's static and ephemeral */
	bool initiator;
	bool failed;
	uint8_t msgs; /* handshake messages done, 0..3 */
};

/*
 * Initializes hs for one side. prologue may be NULL when plen is 0.
 * static_sk and ephemeral_sk are X25519 secret keys (32 bytes) to use, or
 * NULL for fresh random ones (tests and test vectors inject them). Cannot
 * fail but for arguments (GM_EINVAL).
 */
GM_EXTERN gm_err gm_noise_hs_init(struct gm_noise_hs *hs, bool initiator,
				  const uint8_t *prologue, size_t plen,
				  const uint8_t *static_sk,
				  const uint8_t *ephemeral_sk,
				  struct gm_diag *d);
/* Wipes hs (accepts NULL). */
GM_EXTERN void gm_noise_hs_release(struct gm_noise_hs *hs);
/*
 * Writes the next handshake message, carrying payload, appending it to out.
 * GM_EPROTO when it is not our turn, the handshake is over or failed, or
 * a DH result is all zero (hs is then failed); GM_ELIMIT when the message
 * would exceed GM_NOISE_MSG_MAX, and out's GM_ENOMEM / GM_ELIMIT (both
 * leave hs unchanged: room is reserved before any step).
 */
GM_EXTERN gm_err gm_noise_hs_write(struct gm_noise_hs *hs,
				   const uint8_t *payload, size_t len,
				   struct gm_buf *out, struct gm_diag *d);
/*
 * Reads the next handshake message msg, appending its payload to payload.
 * GM_EPROTO for a message of the wrong size, a bad tag, an all-zero DH
 * result or a message out of turn; hs is failed afterwards.
 */
GM_EXTERN gm_err gm_noise_hs_read(struct gm_noise_hs *hs, const uint8_t *msg,
				  size_t len, struct gm_buf *payload,
				  struct gm_diag *d);
/* Whether all three messages were written or read. */
GM_EXTERN bool gm_noise_hs_done(const struct gm_noise_hs *hs);
/*
 * Split: derives the two transport ciphers (send is ours, recv the
 * remote's) once the handshake is done; hs->h is then the handshake hash.
 * GM_EPROTO before the handshake is done.
 */
GM_EXTERN gm_err gm_noise_hs_split(struct gm_noise_hs *hs,
				   struct gm_noise_cipher *send,
				   struct gm_noise_cipher *recv,
				   struct gm_diag *d);

/*
 * What one host shares between its sessions (one thread only), so a
 * handshake does only the work that differs per connection:
 *   | kept                                  | saves per handshake        |
 *   |---------------------------------------|----------------------------|
 *   | the static X25519 key pair            | one X25519 base mult       |
 *   | our payload, signed once for it       | one Ed25519 signature      |
 *   | the last GM_NOISE_CACHE_PEERS remote  | one Ed25519 verification   |
 *   | (identity, static key, signature)     | when that peer comes back  |
 *   | triples that verified, as SHA-256     | with the same static key   |
 * The signature and the verification are deterministic, so the bytes on
 * the wire and every accept/refuse decision are the same as without it.
 */
#define GM_NOISE_CACHE_PEERS 64
#define GM_NOISE_PAYLOAD_LEN 104
struct gm_noise_cache {
	uint8_t id_sk[GM_KEY_SECRET_BYTES];
	uint8_t id_pk[GM_KEY_PUBLIC_BYTES];
	uint8_t s_sk[32], s_pk[32];
	uint8_t payload[GM_NOISE_PAYLOAD_LEN];
	uint8_t verified[GM_NOISE_CACHE_PEERS][GM_NOISE_HASH_BYTES];
	unsigned n_verified; /* slots used, up to GM_NOISE_CACHE_PEERS */
	unsigned next;	     /* the slot to overwrite next */
	uint64_t hits, misses; /* remote verifications saved / done */
};

/*
 * Fills c for identity (an Ed25519 key with its secret) and the static
 * X25519 secret static_sk (NULL: a random one). GM_EINVAL for a key
 * without secret. Release with gm_noise_cache_release (wipes the keys).
 */
GM_EXTERN gm_err gm_noise_cache_init(struct gm_noise_cache *c,
				     const struct gm_key *identity,
				     const uint8_t *static_sk,
				     struct gm_diag *d);
GM_EXTERN void gm_noise_cache_release(struct gm_noise_cache *c);

/* The libp2p secure channel session. */
struct gm_noise {
	struct gm_noise_cache *cache; /* NULL: none */
	struct gm_noise_hs hs;
	struct gm_noise_cipher tx, rx;
	uint8_t id_sk[GM_KEY_SECRET_BYTES];
	uint8_t id_pk[GM_KEY_PUBLIC_BYTES];
	uint8_t remote_pk[GM_KEY_PUBLIC_BYTES];
	uint8_t *frame;	  /* GM_NOISE_MSG_MAX + 2 bytes of reassembly */
	size_t frame_len; /* bytes of the current frame received so far */
	bool started;
	bool done;
	bool failed;
};

/*
 * Initializes s as initiator or responder with our libp2p identity (an
 * Ed25519 key that must hold its secret; it is copied). static_sk and
 * ephemeral_sk are optional injected X25519 secret keys (NULL: random).
 * GM_EINVAL for a key without secret, GM_ENOMEM. Release with
 * gm_noise_release() even when the handshake fails.
 */
GM_EXTERN gm_err gm_noise_init(struct gm_noise *s, bool initiator,
			       const struct gm_key *identity,
			       const uint8_t *static_sk,
			       const uint8_t *ephemeral_sk, struct gm_diag *d);
/*
 * gm_noise_init with the identity and static key of cache, which must
 * outlive s; ephemeral_sk as above. Same errors.
 */
GM_EXTERN gm_err gm_noise_init_cached(struct gm_noise *s, bool initiator,
				      struct gm_noise_cache *cache,
				      const uint8_t *ephemeral_sk,
				      struct gm_diag *d);
/* Frees and wipes s (accepts NULL). */
GM_EXTERN void gm_noise_release(struct gm_noise *s);
/*
 * Starts the handshake: the initiator appends its first message to
 * out_to_send; the responder appends nothing. Call once, before feeding.
 */
GM_EXTERN gm_err gm_noise_start(struct gm_noise *s, struct gm_buf *out_to_send,
				struct gm_diag *d);
/*
 * Feeds len bytes received from the peer (any split: partial frames are
 * kept, several frames are handled in one call). Handshake replies are
 * appended to out_to_send; decrypted transport data to out_plaintext.
 * Errors (all final: every later call fails too):
 *   GM_EPROTO      a bad tag, a frame too short to hold a tag, a malformed
 *                  handshake payload, a non-Ed25519 identity key, an
 *                  exhausted nonce, or a session that failed before;
 *   GM_ESIGNATURE  the remote's payload signature does not verify;
 *   GM_ENOMEM / GM_ELIMIT from the output buffers.
 */
GM_EXTERN gm_err gm_noise_feed(struct gm_noise *s, const uint8_t *in,
			       size_t len, struct gm_buf *out_to_send,
			       struct gm_buf *out_plaintext, struct gm_diag *d);
/*
 * Encrypts len bytes of application data into frames of at most
 * GM_NOISE_PLAINTEXT_MAX plaintext bytes, appended to out. GM_EPROTO before
 * the handshake is done, after a failure, or when the nonce is exhausted.
 */
GM_EXTERN gm_err gm_noise_write(struct gm_noise *s, const uint8_t *pt,
				size_t len, struct gm_buf *out,
				struct gm_diag *d);
/* Whether the handshake completed and the remote identity verified. */
GM_EXTERN bool gm_noise_handshake_done(const struct gm_noise *s);
/* The remote's verified Ed25519 public key (32 bytes), or NULL before. */
GM_EXTERN const uint8_t *gm_noise_remote_key(const struct gm_noise *s);

#endif
