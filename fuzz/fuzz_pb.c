/*
 * fuzz_pb.c - the protobuf reader, with nested decode attempts, and the
 * PublicKey decoder built on it.
 *
 * Invariants checked:
 *   - every field returned lies inside the input, fields are contiguous
 *     and the reader ends exactly at the end of the input;
 *   - a failure leaves the reader where it was and says why;
 *   - re-writing the fields canonically and reading them back gives the
 *     same fields (values and payloads), and writing them again gives the
 *     same bytes (the writer is deterministic);
 *   - length-delimited payloads are tried as nested messages, 8 deep.
 *   - gm_pubkey_decode_ed25519 OK => encoding the key gives 36 bytes that
 *     decode to the same key.
 * The same input also goes to the other parsers of the libp2p identity
 * layer, which have no target of their own:
 *   - multiaddr binary decode OK => format, parse back: same bytes;
 *   - multiaddr text parse OK => format, parse back: same bytes;
 *   - peer id text and binary OK => base58 and CID forms parse back equal.
 */
#include "internal.h"

#include "gm/buf.h"
#include "gm/pb.h"
#include "gm/multiaddr.h"
#include "gm/peerid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DEPTH 8
#define MAX_FIELDS 4096

static gm_err rewrite(struct gm_buf *b, const struct gm_pb_field *f)
{
	switch (f->wire) {
	case GM_PB_VARINT:
		return gm_pb_put_uvarint(b, f->field, f->u);
	case GM_PB_FIXED64:
		return gm_pb_put_fixed64(b, f->field, f->u);
	case GM_PB_LEN:
		return gm_pb_put_bytes(b, f->field, f->bytes, f->len);
	case GM_PB_FIXED32: {
		/* No fixed32 writer: key and 4 bytes by hand. */
		uint8_t v[4];
		int i;
		gm_err e = gm_pb_put_raw_uvarint(b, ((uint64_t)f->field << 3) |
							GM_PB_FIXED32);

		for (i = 0; i < 4; i++)
			v[i] = (uint8_t)(f->u >> (8 * i));
		return e ? e : gm_buf_append(b, v, 4);
	}
	}
	abort();
}

static bool same_field(const struct gm_pb_field *a, const struct gm_pb_field *b)
{
	if (a->field != b->field || a->wire != b->wire)
		return false;
	if (a->wire == GM_PB_LEN)
		return a->len == b->len &&
		       (a->len == 0 || memcmp(a->bytes, b->bytes, a->len) == 0);
	return a->u == b->u;
}

static void walk(const uint8_t *p, size_t len, int depth)
{
	struct gm_pb_reader r, back;
	struct gm_pb_field f, g;
	struct gm_buf canon, again;
	struct gm_diag d;
	size_t prev, count = 0;
	gm_err e = GM_OK;

	if (depth > MAX_DEPTH)
		return;
	gm_buf_init(&canon, GM_BUF_UNLIMITED);
	gm_buf_init(&again, GM_BUF_UNLIMITED);
	gm_pb_reader_init(&r, p, len);
	while (gm_pb_reader_more(&r) && count++ < MAX_FIELDS) {
		prev = r.off;
		gm_diag_clear(&d);
		e = gm_pb_next(&r, &f, &d);
		if (e) {
			if (e != GM_EFORMAT || !d.msg[0] || r.off != prev)
				abort();
			break;
		}
		if (f.offset != prev || r.off <= prev || r.off > len)
			abort();
		if (f.wire == GM_PB_LEN) {
			if (f.bytes < p || f.bytes + f.len > p + r.off)
				abort();
			walk(f.bytes, f.len, depth + 1);
		}
		if (rewrite(&canon, &f))
			abort();
	}
	if (!e && count <= MAX_FIELDS) {
		if (r.off != len)
			abort();
		/* Read the canonical form back, compare, write it again. */
		gm_pb_reader_init(&r, p, len);
		gm_pb_reader_init(&back, canon.data, canon.len);
		while (gm_pb_reader_more(&r)) {
			if (gm_pb_next(&r, &f, NULL) ||
			    !gm_pb_reader_more(&back) ||
			    gm_pb_next(&back, &g, NULL) || !same_field(&f, &g))
				abort();
			if (rewrite(&again, &g))
				abort();
		}
		if (gm_pb_reader_more(&back) || again.len != canon.len ||
		    (canon.len && memcmp(again.data, canon.data, canon.len)))
			abort();
		if (canon.len > len)
			abort(); /* canonical is never longer */
	}
	gm_buf_release(&canon);
	gm_buf_release(&again);
}

static void pubkey(const uint8_t *data, size_t size)
{
	uint8_t pk[32], pb[GM_PUBKEY_PB_ED25519_LEN], pk2[32];
	struct gm_diag d;

	gm_diag_clear(&d);
	if (gm_pubkey_decode_ed25519(data, size, pk, &d)) {
		if (!d.msg[0])
			abort();
		return;
	}
	gm_pubkey_encode_ed25519(pk, pb);
	if (gm_pubkey_decode_ed25519(pb, sizeof(pb), pk2, NULL) ||
	    memcmp(pk, pk2, 32) != 0)
		abort();
}

static void ma_round_trip(const struct gm_multiaddr *ma)
{
	char s[GM_MULTIADDR_MAX_STR];
	struct gm_multiaddr back;
	size_t n;

	n = gm_multiaddr_format(ma, s, sizeof(s));
	if (n == 0 || gm_multiaddr_parse(&back, s, n, NULL) ||
	    !gm_multiaddr_equal(ma, &back))
		abort();
}

static void peerid_round_trip(const struct gm_peerid *id)
{
	char s[GM_PEERID_MAX_STR], c[160];
	struct gm_peerid a, b;
	size_t n, m;

	n = gm_peerid_format(id, s, sizeof(s));
	m = gm_peerid_format_cid(id, c, sizeof(c));
	if (!n || !m || gm_peerid_parse(&a, s, n, NULL) ||
	    gm_peerid_parse(&b, c, m, NULL) || !gm_peerid_equal(id, &a) ||
	    !gm_peerid_equal(id, &b))
		abort();
}

static void addresses(const uint8_t *data, size_t size)
{
	struct gm_multiaddr ma;
	struct gm_peerid id;
	struct gm_diag d;

	gm_diag_clear(&d);
	if (!gm_multiaddr_decode(&ma, data, size, &d)) {
		if (ma.len != size || memcmp(ma.bytes, data, size))
			abort();
		ma_round_trip(&ma);
	} else if (!d.msg[0]) {
		abort();
	}
	gm_diag_clear(&d);
	if (!gm_multiaddr_parse(&ma, (const char *)data, size, &d))
		ma_round_trip(&ma);
	else if (!d.msg[0])
		abort();
	if (!gm_peerid_parse(&id, (const char *)data, size, NULL))
		peerid_round_trip(&id);
	if (!gm_peerid_from_bytes(&id, data, size, NULL))
		peerid_round_trip(&id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	walk(data, size, 0);
	pubkey(data, size);
	addresses(data, size);
	return 0;
}
