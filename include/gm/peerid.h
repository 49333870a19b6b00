/*
 * peerid.h - libp2p public keys and peer ids.
 *
 * A peer id is the multihash of the peer's serialized public key (a
 * protobuf). Keys of at most 42 bytes use the identity multihash, larger
 * ones sha2-256; this library makes only Ed25519 keys:
 *
 *   | bytes | what                                            |
 *   |-------|-------------------------------------------------|
 *   | 00 24 | identity multihash, 36 bytes follow             |
 *   | 08 01 | PublicKey.Type = 1 (Ed25519)                    |
 *   | 12 20 | PublicKey.Data, 32 bytes                        |
 *   | ...   | the Ed25519 public key                          |
 *
 * Text forms: base58btc of the multihash ("12D3KooW...", "Qm..." for
 * sha2-256 ids), printed and parsed; and a CIDv1 with codec libp2p-key
 * (0x72) in any multibase gm_cid_parse() reads ("bafzaa..."), parsed.
 * A struct gm_peerid is a value holding the multihash bytes.
 */
#ifndef GM_PEERID_H
#define GM_PEERID_H

#include "gm/gm.h"

#define GM_ED25519_PUBKEY_LEN 32
/* Length of the PublicKey protobuf of an Ed25519 key. */
#define GM_PUBKEY_PB_ED25519_LEN 36
/* Largest public key protobuf an identity peer id may hold. */
#define GM_PEERID_MAX_INLINE_KEY 42
/* Largest multihash a peer id holds (identity of 42 bytes). */
#define GM_PEERID_MAX_BYTES (2 + GM_PEERID_MAX_INLINE_KEY)
/* Enough for the base58btc text of any peer id, with its NUL. */
#define GM_PEERID_MAX_STR 72

/* Key types of libp2p's PublicKey.Type. */
#define GM_KEYTYPE_RSA 0
#define GM_KEYTYPE_ED25519 1
#define GM_KEYTYPE_SECP256K1 2
#define GM_KEYTYPE_ECDSA 3

struct gm_peerid {
	uint8_t len;
	uint8_t bytes[GM_PEERID_MAX_BYTES];
};

/* Writes the PublicKey protobuf of an Ed25519 key (36 bytes) into out. */
GM_EXTERN void gm_pubkey_encode_ed25519(const uint8_t pk[GM_ED25519_PUBKEY_LEN],
					uint8_t out[GM_PUBKEY_PB_ED25519_LEN]);
/*
 * Decodes a PublicKey protobuf p[0..len) holding an Ed25519 key into pk.
 * GM_EFORMAT for malformed protobuf, a missing field or a key that is not
 * 32 bytes; GM_EUNSUPPORTED (diagnostic names the type) for RSA, secp256k1,
 * ECDSA or unknown key types.
 */
GM_EXTERN gm_err gm_pubkey_decode_ed25519(const uint8_t *p, size_t len,
					  uint8_t pk[GM_ED25519_PUBKEY_LEN],
					  struct gm_diag *d);

/* The peer id of an Ed25519 public key. */
GM_EXTERN void gm_peerid_from_ed25519(struct gm_peerid *out,
				      const uint8_t pk[GM_ED25519_PUBKEY_LEN]);
/*
 * Reads a binary peer id (a multihash filling exactly p[0..len)): identity
 * of at most 42 bytes or sha2-256 of 32. GM_EFORMAT with a diagnostic
 * otherwise.
 */
GM_EXTERN gm_err gm_peerid_from_bytes(struct gm_peerid *out, const uint8_t *p,
				      size_t len, struct gm_diag *d);
/*
 * Parses text s[0..len): base58btc multihash ("12D3KooW...", "Qm...") or
 * a CIDv1 with codec libp2p-key ("bafzaa..."). GM_EFORMAT with a diagnostic
 * naming the problem.
 */
GM_EXTERN gm_err gm_peerid_parse(struct gm_peerid *out, const char *s,
				 size_t len, struct gm_diag *d);
/*
 * Writes the base58btc text with a NUL into out; returns its length without
 * the NUL, 0 if cap is too small (GM_PEERID_MAX_STR always suffices).
 */
GM_EXTERN size_t gm_peerid_format(const struct gm_peerid *id, char *out,
				  size_t cap);
/* As gm_peerid_format, but the CIDv1 libp2p-key base32 form ("bafz..."). */
GM_EXTERN size_t gm_peerid_format_cid(const struct gm_peerid *id, char *out,
				      size_t cap);
/*
 * Extracts the Ed25519 public key inlined in an identity peer id.
 * GM_EUNSUPPORTED for sha2-256 ids (the key is not inside) and for other
 * key types, GM_EFORMAT if the inlined key is malformed.
 */
GM_EXTERN gm_err gm_peerid_ed25519_key(const struct gm_peerid *id,
				       uint8_t pk[GM_ED25519_PUBKEY_LEN],
				       struct gm_diag *d);
/* True when a and b are the same multihash. */
GM_EXTERN bool gm_peerid_equal(const struct gm_peerid *a,
			       const struct gm_peerid *b);

#endif
