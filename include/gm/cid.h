/*
 * cid.h - content identifiers: multihash, CID v0 and v1.
 *
 * A CID is a value type, caller allocated. Binary layout (v1):
 *
 *   | varint version (1) | varint codec | varint mh code | varint len | digest |
 *
 * v0 is the bare 34-byte sha2-256 multihash (0x12 0x20 + 32 bytes), always
 * dag-pb, written in base58btc ("Qm..."). v1 text is multibase: 'b' base32
 * lower (the default we print) or 'z' base58btc (accepted on input).
 *
 * Supported multihashes: sha2-256 (0x12, 32 bytes, via OpenSSL EVP) and
 * identity (0x00, up to GM_CID_MAX_DIGEST bytes).
 */
#ifndef GM_CID_H
#define GM_CID_H

#include "gm/gm.h"

#define GM_CODEC_RAW 0x55
#define GM_CODEC_DAG_PB 0x70
#define GM_CODEC_DAG_CBOR 0x71
#define GM_CODEC_LIBP2P_KEY 0x72
#define GM_MH_IDENTITY 0x00
#define GM_MH_SHA2_256 0x12

#define GM_CID_MAX_DIGEST 64
/* Largest binary CID we produce or accept. */
#define GM_CID_MAX_BYTES (4 * 10 + GM_CID_MAX_DIGEST)
/* Enough for any text form plus NUL. */
#define GM_CID_MAX_STR 160

struct gm_cid {
	uint8_t version;    /* 0 or 1 */
	uint64_t codec;     /* GM_CODEC_* */
	uint64_t mh_code;   /* GM_MH_* */
	uint8_t digest_len; /* bytes used in digest */
	uint8_t digest[GM_CID_MAX_DIGEST];
};

/* SHA-256 of data into out[32] (OpenSSL EVP). */
GM_EXTERN void gm_sha256(const uint8_t *data, size_t len, uint8_t out[32]);

/* Builds a sha2-256 CID of data: version 0 (codec must be dag-pb) or 1. */
GM_EXTERN gm_err gm_cid_sha256(struct gm_cid *out, unsigned version,
			       uint64_t codec, const uint8_t *data,
			       size_t len);
/* Builds a CID from an existing sha2-256 digest. */
GM_EXTERN void gm_cid_from_digest(struct gm_cid *out, unsigned version,
				  uint64_t codec, const uint8_t digest[32]);

/*
 * Decodes a binary CID at the start of p[0..len); *used gets its length (may
 * be NULL). GM_EFORMAT with a diagnostic when malformed or unsupported.
 */
GM_EXTERN gm_err gm_cid_decode(struct gm_cid *out, const uint8_t *p,
			       size_t len, size_t *used, struct gm_diag *d);
/* Encodes the binary form into out; returns its length (0 if cap is small). */
GM_EXTERN size_t gm_cid_encode(const struct gm_cid *c, uint8_t *out,
			       size_t cap);

/* Parses text (v0 base58 "Qm...", v1 multibase 'b' or 'z'). */
GM_EXTERN gm_err gm_cid_parse(struct gm_cid *out, const char *s, size_t len,
			      struct gm_diag *d);
/*
 * Writes the canonical text form (v0 base58btc, v1 base32 lower) with a NUL
 * into out; returns its length without the NUL (0 if cap is small).
 */
GM_EXTERN size_t gm_cid_format(const struct gm_cid *c, char *out, size_t cap);

GM_EXTERN bool gm_cid_equal(const struct gm_cid *a, const struct gm_cid *b);
/*
 * Checks that data hashes to c. GM_EINTEGRITY with a diagnostic naming the
 * expected and actual CID on mismatch; identity CIDs compare bytes.
 */
GM_EXTERN gm_err gm_cid_verify(const struct gm_cid *c, const uint8_t *data,
			       size_t len, struct gm_diag *d);

#endif
