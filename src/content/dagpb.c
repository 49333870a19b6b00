/*
 * dagpb.c - the dag-pb codec (see gm/dagpb.h) and gm_block_links().
 *
 * Wire layout (protobuf; key = field << 3 | wire type):
 *
 *   | key  | field        | wire      | content                         |
 *   |------|--------------|-----------|---------------------------------|
 *   | 0x12 | PBNode.Links | 2 (bytes) | one PBLink; repeated, all first |
 *   | 0x0a | PBNode.Data  | 2 (bytes) | opaque (UnixFS), at most once   |
 *   | 0x0a | PBLink.Hash  | 2 (bytes) | binary CID, required            |
 *   | 0x12 | PBLink.Name  | 2 (bytes) | name bytes, optional            |
 *   | 0x18 | PBLink.Tsize | 0 (varint)| uint64, optional                |
 *
 * Only the canonical form is accepted: Links before Data, Hash, Name,
 * Tsize in that order, no field twice, no other field or wire type, every
 * varint minimal (uint64 protobuf varints, at most 10 bytes) and every
 * length inside its enclosing message. This is a little stricter than
 * @ipld/dag-pb, which also reads Data before Links and non-minimal varints;
 * in exchange gm_dagpb_encode(gm_dagpb_decode(x)) gives back x exactly.
 * Link order and names are kept as they are (encode does not sort).
 *
 * Decoding runs the parser twice: once to check the whole block and count
 * its links, once to fill an array allocated at the exact size.
 */
#include "internal.h"

#include "gm/block.h"
#include "gm/dagpb.h"
#include "gm/varint.h"

#define WIRE_VARINT 0
#define WIRE_BYTES 2
#define PB_VARINT_MAX 10

enum { F_NONE, F_HASH, F_NAME, F_TSIZE };

static const char *const link_field_names[] = {"", "Hash", "Name", "Tsize"};

/* Called for each decoded link with its index; NULL to only validate. */
typedef gm_err (*link_cb)(void *ctx, size_t i, const struct gm_dagpb_link *l);

/* Reads a protobuf uint64 varint at *off; minimal encodings only. */
static gm_err pb_varint(const uint8_t *p, size_t len, size_t *off, uint64_t *v,
			const char *what, size_t base, struct gm_diag *d)
{
	uint64_t r = 0;
	size_t i, at = *off;

	for (i = 0; i < PB_VARINT_MAX; i++) {
		uint8_t b;

		if ((uint64_t)at + i >= len)
			return gm_diag_set(d, GM_EFORMAT,
					   "dag-pb %s varint at byte %zu is "
					   "truncated",
					   what, base + at);
		b = p[at + i];
		if (i == PB_VARINT_MAX - 1 && b > 1)
			break;
		r |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			if (b == 0 && i > 0)
				return gm_diag_set(d, GM_EFORMAT,
						   "dag-pb %s varint at byte "
						   "%zu is not minimally "
						   "encoded",
						   what, base + at);
			*v = r;
			*off = at + i + 1;
			return GM_OK;
		}
	}
	return gm_diag_set(d, GM_EFORMAT,
			   "dag-pb %s varint at byte %zu overflows 64 bits",
			   what, base + at);
}

/* Reads a length-delimited field's length and checks it fits. */
static gm_err pb_bytes(const uint8_t *p, size_t len, size_t *off,
		       const uint8_t **out, size_t *out_len, const char *what,
		       size_t base, struct gm_diag *d)
{
	uint64_t n;
	size_t at = *off;
	gm_err e;

	e = pb_varint(p, len, off, &n, what, base, d);
	if (e)
		return e;
	if (n > len - *off)
		return gm_diag_set(d, GM_EFORMAT,
				   "dag-pb %s length at byte %zu says %" PRIu64
				   " bytes, only %zu remain",
				   what, base + at, n, len - *off);
	*out = p + *off;
	*out_len = (size_t)n;
	*off += (size_t)n;
	return GM_OK;
}

static gm_err parse_link(const uint8_t *p, size_t len, size_t base, size_t idx,
			 struct gm_dagpb_link *l, struct gm_diag *d)
{
	struct gm_diag sub;
	const uint8_t *hash = NULL;
	size_t off = 0, hash_len = 0, used = 0;
	uint64_t key, field;
	unsigned last = F_NONE, wire;
	bool has_hash = false;
	gm_err e;

	memset(l, 0, sizeof(*l));
	while (off < len) {
		size_t at = off;

		e = pb_varint(p, len, &off, &key, "PBLink key", base, d);
		if (e)
			return e;
		field = key >> 3;
		wire = (unsigned)(key & 7);
		if (field < F_HASH || field > F_TSIZE)
			return gm_diag_set(d, GM_EFORMAT,
					   "dag-pb link %zu has unknown field "
					   "%" PRIu64 " at byte %zu",
					   idx, field, base + at);
		if (field <= last)
			return gm_diag_set(
			    d, GM_EFORMAT, "dag-pb link %zu: %s at byte %zu %s",
			    idx, link_field_names[field], base + at,
			    field == last ? "appears twice"
					  : "is out of order (Hash, "
					    "Name, Tsize)");
		if (wire != (field == F_TSIZE ? WIRE_VARINT : WIRE_BYTES))
			return gm_diag_set(d, GM_EFORMAT,
					   "dag-pb link %zu: %s at byte %zu "
					   "has wire type %u",
					   idx, link_field_names[field],
					   base + at, wire);
		last = (unsigned)field;
		switch (field) {
		case F_HASH:
			e = pb_bytes(p, len, &off, &hash, &hash_len,
				     "PBLink Hash", base, d);
			has_hash = true;
			break;
		case F_NAME:
			e = pb_bytes(p, len, &off, &l->name, &l->name_len,
				     "PBLink Name", base, d);
			l->has_name = true;
			break;
		default:
			e = pb_varint(p, len, &off, &l->tsize, "PBLink Tsize",
				      base, d);
			l->has_tsize = true;
			break;
		}
		if (e)
			return e;
	}
	if (!has_hash)
		return gm_diag_set(d, GM_EFORMAT,
				   "dag-pb link %zu (at byte %zu) has no Hash",
				   idx, base);
	gm_diag_clear(&sub);
	e = gm_cid_decode(&l->cid, hash, hash_len, &used, &sub);
	if (!e && used != hash_len)
		e = gm_diag_set(&sub, GM_EFORMAT, "%zu bytes follow the CID",
				hash_len - used);
	if (e)
		return gm_diag_set(d, GM_EFORMAT,
				   "dag-pb link %zu Hash is not a valid CID: "
				   "%s",
				   idx, sub.msg);
	return GM_OK;
}

/*
 * Parses a whole node: calls cb for each link in order, stores Data in
 * *data_out (fields other than data are ignored) and the link count.
 */
static gm_err parse_node(const uint8_t *p, size_t len, link_cb cb, void *ctx,
			 struct gm_dagpb_node *data_out, size_t *n_links,
			 struct gm_diag *d)
{
	struct gm_dagpb_link l;
	size_t off = 0, count = 0;
	bool seen_data = false;
	uint64_t key, field;
	unsigned wire;
	gm_err e;

	while (off < len) {
		const uint8_t *body;
		size_t at = off, body_len;

		e = pb_varint(p, len, &off, &key, "PBNode key", 0, d);
		if (e)
			return e;
		field = key >> 3;
		wire = (unsigned)(key & 7);
		if (field != 1 && field != 2)
			return gm_diag_set(
			    d, GM_EFORMAT,
			    "dag-pb node has unknown field %" PRIu64
			    " at byte %zu",
			    field, at);
		if (wire != WIRE_BYTES)
			return gm_diag_set(d, GM_EFORMAT,
					   "dag-pb %s at byte %zu has wire "
					   "type %u, must be 2",
					   field == 1 ? "Data" : "Links", at,
					   wire);
		if (seen_data)
			return gm_diag_set(d, GM_EFORMAT,
					   "dag-pb %s at byte %zu follows Data "
					   "(%s)",
					   field == 1 ? "Data" : "Links", at,
					   field == 1
					       ? "Data appears twice"
					       : "Links must come first");
		if (field == 1) {
			e = pb_bytes(p, len, &off, &body, &body_len, "Data", 0,
				     d);
			if (e)
				return e;
			seen_data = true;
			if (data_out) {
				data_out->data = body;
				data_out->data_len = body_len;
				data_out->has_data = true;
			}
			continue;
		}
		e = pb_bytes(p, len, &off, &body, &body_len, "Links", 0, d);
		if (e)
			return e;
		if (count == GM_DAGPB_MAX_LINKS)
			return gm_diag_set(d, GM_ELIMIT,
					   "dag-pb node has more than %d links",
					   GM_DAGPB_MAX_LINKS);
		e = parse_link(body, body_len, (size_t)(body - p), count, &l,
			       d);
		if (e)
			return e;
		if (cb) {
			e = cb(ctx, count, &l);
			if (e)
				return e;
		}
		count++;
	}
	if (n_links)
		*n_links = count;
	return GM_OK;
}

void gm_dagpb_node_init(struct gm_dagpb_node *n)
{
	memset(n, 0, sizeof(*n));
}

void gm_dagpb_node_release(struct gm_dagpb_node *n)
{
	gm_free(n->links);
	gm_dagpb_node_init(n);
}

static gm_err store_link(void *ctx, size_t i, const struct gm_dagpb_link *l)
{
	struct gm_dagpb_node *n = ctx;

	GM_ASSERT(i < n->n_links);
	n->links[i] = *l;
	return GM_OK;
}

/*
 * On success the previous content of n is released and replaced; on
 * failure n is left as it was.
 */
gm_err gm_dagpb_decode(struct gm_dagpb_node *n, const uint8_t *p, size_t len,
		       struct gm_diag *d)
{
	struct gm_dagpb_node tmp;
	size_t count = 0;
	gm_err e;

	gm_dagpb_node_init(&tmp);
	e = parse_node(p, len, NULL, NULL, &tmp, &count, d);
	if (e)
		return e;
	if (count) {
		tmp.links = gm_reallocarray(NULL, count, sizeof(*tmp.links));
		if (!tmp.links)
			return gm_diag_set(d, GM_ENOMEM,
					   "out of memory decoding %zu dag-pb "
					   "links",
					   count);
		tmp.n_links = count;
		e = parse_node(p, len, store_link, &tmp, NULL, NULL, d);
		if (e)
			goto out_free_links;
	}
	gm_dagpb_node_release(n);
	*n = tmp;
	return GM_OK;

out_free_links:
	gm_free(tmp.links);
	return e;
}

/* Adds b to *total, failing on overflow. */
static bool size_add(size_t *total, size_t b)
{
	if (*total > SIZE_MAX - b)
		return false;
	*total += b;
	return true;
}

/* Size of a length-delimited field holding n bytes (key is one byte). */
static bool field_size(size_t *total, size_t n)
{
	return size_add(total, 1 + gm_varint_size(n)) && size_add(total, n);
}

static uint8_t *put_varint(uint8_t *w, uint64_t v)
{
	return w + gm_varint_encode(v, w);
}

static uint8_t *put_bytes(uint8_t *w, uint8_t key, const void *p, size_t n)
{
	*w++ = key;
	w = put_varint(w, n);
	if (n)
		memcpy(w, p, n);
	return w + n;
}

static bool link_size(const struct gm_dagpb_link *l, size_t cid_len,
		      size_t *out)
{
	size_t s = 0;

	if (!field_size(&s, cid_len))
		return false;
	if (l->has_name && !field_size(&s, l->name_len))
		return false;
	if (l->has_tsize && !size_add(&s, 1 + gm_varint_size(l->tsize)))
		return false;
	*out = s;
	return true;
}

gm_err gm_dagpb_encode(const struct gm_dagpb_node *n, struct gm_buf *out)
{
	uint8_t cid[GM_CID_MAX_BYTES];
	size_t total = 0, i, ls, cl;
	uint8_t *w, *start;
	gm_err e;

	if (n->n_links > GM_DAGPB_MAX_LINKS)
		return GM_ELIMIT;
	for (i = 0; i < n->n_links; i++) {
		const struct gm_dagpb_link *l = &n->links[i];

		cl = gm_cid_encode(&l->cid, cid, sizeof(cid));
		if (!cl || (l->has_name && l->name_len && !l->name))
			return GM_EINVAL;
		if (!link_size(l, cl, &ls) || !field_size(&total, ls))
			return GM_ELIMIT;
	}
	if (n->has_data) {
		if (n->data_len && !n->data)
			return GM_EINVAL;
		if (!field_size(&total, n->data_len))
			return GM_ELIMIT;
	}
	e = gm_buf_reserve(out, total);
	if (e)
		return e;
	start = w = out->data + out->len;
	for (i = 0; i < n->n_links; i++) {
		const struct gm_dagpb_link *l = &n->links[i];

		cl = gm_cid_encode(&l->cid, cid, sizeof(cid));
		link_size(l, cl, &ls);
		*w++ = 0x12;
		w = put_varint(w, ls);
		w = put_bytes(w, 0x0a, cid, cl);
		if (l->has_name)
			w = put_bytes(w, 0x12, l->name, l->name_len);
		if (l->has_tsize) {
			*w++ = 0x18;
			w = put_varint(w, l->tsize);
		}
	}
	if (n->has_data)
		w = put_bytes(w, 0x0a, n->data, n->data_len);
	GM_ASSERT((size_t)(w - start) == total);
	out->len += total;
	out->data[out->len] = '\0';
	return GM_OK;
}

struct links_ctx {
	gm_block_link_fn fn;
	void *ctx;
};

static gm_err call_link_fn(void *ctx, size_t i, const struct gm_dagpb_link *l)
{
	struct links_ctx *c = ctx;

	return c->fn(c->ctx, &l->cid);
}

/*
 * Links follow the codec: dag-pb blocks are parsed (also when the CID is an
 * identity one, whose inline node may link further), raw and identity-codec
 * blocks have none. The whole block is checked before fn is first called,
 * so a malformed block yields no links at all.
 */
gm_err gm_block_links(const struct gm_cid *cid, const uint8_t *data, size_t len,
		      gm_block_link_fn fn, void *ctx)
{
	struct links_ctx c = {fn, ctx};
	gm_err e;

	switch (cid->codec) {
	case GM_CODEC_RAW:
	case 0x00: /* identity codec */
		return GM_OK;
	case GM_CODEC_DAG_PB:
		e = parse_node(data, len, NULL, NULL, NULL, NULL, NULL);
		if (e)
			return e;
		return parse_node(data, len, call_link_fn, &c, NULL, NULL,
				  NULL);
	default:
		return GM_EUNSUPPORTED;
	}
}
