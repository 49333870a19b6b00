/*
 * peerid.c - libp2p PublicKey protobuf and peer ids (see gm/peerid.h).
 *
 *   PublicKey { Type (1, varint KeyType), Data (2, bytes) }
 *
 * Ed25519 keys serialize to `08 01 12 20 <32 bytes>` (minimal varints,
 * tag order), so the peer id is the identity multihash `00 24` of those 36
 * bytes. Peer ids of other key types are still carried (identity of at most
 * 42 bytes, or sha2-256 for RSA keys) so multiaddrs naming them parse, but
 * only Ed25519 keys can be taken out of an id.
 */
#include "internal.h"

#include "gm/cid.h"
#include "gm/multibase.h"
#include "gm/pb.h"
#include "gm/peerid.h"
#include "gm/varint.h"

#define SHA256_LEN 32
/* Longest text we try to read as a peer id. */
#define PEERID_TEXT_MAX 128

static const char *key_type_name(uint64_t t)
{
	switch (t) {
	case GM_KEYTYPE_RSA:
		return "RSA";
	case GM_KEYTYPE_ED25519:
		return "Ed25519";
	case GM_KEYTYPE_SECP256K1:
		return "secp256k1";
	case GM_KEYTYPE_ECDSA:
		return "ECDSA";
	}
	return "unknown";
}

void gm_pubkey_encode_ed25519(const uint8_t pk[GM_ED25519_PUBKEY_LEN],
			      uint8_t out[GM_PUBKEY_PB_ED25519_LEN])
{
	out[0] = 0x08;
	out[1] = GM_KEYTYPE_ED25519;
	out[2] = 0x12;
	out[3] = GM_ED25519_PUBKEY_LEN;
	memcpy(out + 4, pk, GM_ED25519_PUBKEY_LEN);
}

gm_err gm_pubkey_decode_ed25519(const uint8_t *p, size_t len,
				uint8_t pk[GM_ED25519_PUBKEY_LEN],
				struct gm_diag *d)
{
	struct gm_pb_reader r;
	struct gm_pb_field f;
	const uint8_t *data = NULL;
	size_t data_len = 0;
	bool have_type = false;
	uint64_t type = 0;
	gm_err e;

	gm_pb_reader_init(&r, p, len);
	while (gm_pb_reader_more(&r)) {
		e = gm_pb_next(&r, &f, d);
		if (e)
			return e;
		if (f.field == 1 && f.wire == GM_PB_VARINT) {
			type = f.u;
			have_type = true;
		} else if (f.field == 2 && f.wire == GM_PB_LEN) {
			data = f.bytes;
			data_len = f.len;
		} else if (f.field == 1 || f.field == 2) {
			return gm_diag_set(d, GM_EFORMAT,
					   "public key: field %" PRIu32
					   " has wire type %d",
					   f.field, (int)f.wire);
		}
	}
	if (!have_type)
		return gm_diag_set(d, GM_EFORMAT,
				   "public key: the key type (field 1) is "
				   "missing");
	if (type != GM_KEYTYPE_ED25519)
		return gm_diag_set(d, GM_EUNSUPPORTED,
				   "public key: key type %" PRIu64
				   " (%s) is not supported; only Ed25519 "
				   "peers are",
				   type, key_type_name(type));
	if (!data)
		return gm_diag_set(d, GM_EFORMAT,
				   "public key: the key data (field 2) is "
				   "missing");
	if (data_len != GM_ED25519_PUBKEY_LEN)
		return gm_diag_set(d, GM_EFORMAT,
				   "public key: Ed25519 key of %zu bytes, "
				   "expected 32",
				   data_len);
	memcpy(pk, data, GM_ED25519_PUBKEY_LEN);
	return GM_OK;
}

void gm_peerid_from_ed25519(struct gm_peerid *out,
			    const uint8_t pk[GM_ED25519_PUBKEY_LEN])
{
	memset(out, 0, sizeof(*out));
	out->bytes[0] = GM_MH_IDENTITY;
	out->bytes[1] = GM_PUBKEY_PB_ED25519_LEN;
	gm_pubkey_encode_ed25519(pk, out->bytes + 2);
	out->len = 2 + GM_PUBKEY_PB_ED25519_LEN;
}

gm_err gm_peerid_from_bytes(struct gm_peerid *out, const uint8_t *p, size_t len,
			    struct gm_diag *d)
{
	uint64_t code, dlen;
	size_t u1, u2;

	if (gm_varint_decode(p, len, &code, &u1) ||
	    gm_varint_decode(p + u1, len - u1, &dlen, &u2))
		return gm_diag_set(d, GM_EFORMAT,
				   "peer id: malformed multihash header");
	if (dlen != len - u1 - u2)
		return gm_diag_set(d, GM_EFORMAT,
				   "peer id: multihash says %" PRIu64
				   " digest bytes but %zu follow",
				   dlen, len - u1 - u2);
	if (code == GM_MH_IDENTITY) {
		if (dlen == 0 || dlen > GM_PEERID_MAX_INLINE_KEY)
			return gm_diag_set(d, GM_EFORMAT,
					   "peer id: identity multihash of "
					   "%" PRIu64
					   " bytes (1 to 42 allowed)",
					   dlen);
	} else if (code == GM_MH_SHA2_256) {
		if (dlen != SHA256_LEN)
			return gm_diag_set(d, GM_EFORMAT,
					   "peer id: sha2-256 multihash of "
					   "%" PRIu64 " bytes, expected 32",
					   dlen);
	} else {
		return gm_diag_set(d, GM_EFORMAT,
				   "peer id: multihash code 0x%" PRIx64
				   " is not identity or sha2-256",
				   code);
	}
	memset(out, 0, sizeof(*out));
	memcpy(out->bytes, p, len);
	out->len = (uint8_t)len;
	return GM_OK;
}

gm_err gm_peerid_parse(struct gm_peerid *out, const char *s, size_t len,
		       struct gm_diag *d)
{
	uint8_t bin[GM_PEERID_MAX_BYTES];
	struct gm_cid c;
	size_t n;
	gm_err e;

	if (len == 0)
		return gm_diag_set(d, GM_EFORMAT, "peer id: empty text");
	if (len > PEERID_TEXT_MAX)
		return gm_diag_set(d, GM_EFORMAT,
				   "peer id: text of %zu characters is too "
				   "long",
				   len);
	if (s[0] == '1' || s[0] == 'Q') {
		e = gm_base58btc_decode(s, len, bin, sizeof(bin), &n, NULL);
		if (e)
			return gm_diag_set(d, GM_EFORMAT,
					   "peer id '%.*s': not valid "
					   "base58btc or too long",
					   (int)len, s);
		return gm_peerid_from_bytes(out, bin, n, d);
	}
	e = gm_cid_parse(&c, s, len, d);
	if (e)
		return gm_diag_set(d, GM_EFORMAT,
				   "peer id '%.*s': neither base58btc nor a "
				   "CID",
				   (int)len, s);
	if (c.version != 1 || c.codec != GM_CODEC_LIBP2P_KEY)
		return gm_diag_set(d, GM_EFORMAT,
				   "peer id '%.*s': a CID, but not a v1 "
				   "libp2p-key (0x72) one",
				   (int)len, s);
	if (c.digest_len > GM_PEERID_MAX_BYTES - 2)
		return gm_diag_set(d, GM_EFORMAT,
				   "peer id: identity digest of %u bytes is "
				   "too long",
				   c.digest_len);
	bin[0] = (uint8_t)c.mh_code; /* identity or sha2-256: one byte */
	bin[1] = c.digest_len;
	memcpy(bin + 2, c.digest, c.digest_len);
	return gm_peerid_from_bytes(out, bin, 2 + (size_t)c.digest_len, d);
}

size_t gm_peerid_format(const struct gm_peerid *id, char *out, size_t cap)
{
	size_t n;

	if (gm_base58btc_encode(id->bytes, id->len, out, cap, &n))
		return 0;
	return n;
}

size_t gm_peerid_format_cid(const struct gm_peerid *id, char *out, size_t cap)
{
	struct gm_cid c;

	/* Valid ids have a one-byte code and a one-byte length. */
	memset(&c, 0, sizeof(c));
	c.version = 1;
	c.codec = GM_CODEC_LIBP2P_KEY;
	c.mh_code = id->bytes[0];
	c.digest_len = id->bytes[1];
	memcpy(c.digest, id->bytes + 2, c.digest_len);
	return gm_cid_format(&c, out, cap);
}

gm_err gm_peerid_ed25519_key(const struct gm_peerid *id,
			     uint8_t pk[GM_ED25519_PUBKEY_LEN],
			     struct gm_diag *d)
{
	if (id->len < 2 || id->bytes[0] != GM_MH_IDENTITY)
		return gm_diag_set(d, GM_EUNSUPPORTED,
				   "peer id is a hash of its key; the key is "
				   "not inside it");
	return gm_pubkey_decode_ed25519(id->bytes + 2, id->len - 2u, pk, d);
}

bool gm_peerid_equal(const struct gm_peerid *a, const struct gm_peerid *b)
{
	return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}
