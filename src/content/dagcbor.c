/*
 * dagcbor.c - canonical DAG-CBOR: the writer and the strict tree decoder
 * (see gm/dagcbor.h).
 *
 * A CBOR item starts with a head byte: major type in the top 3 bits, and
 * "additional information" (ai) in the low 5:
 *
 *   | ai     | argument                                  | canonical when  |
 *   |--------|-------------------------------------------|-----------------|
 *   | 0..23  | the value itself                          | always          |
 *   | 24     | 1 following byte                          | value >= 24     |
 *   | 25     | 2 following bytes, big endian             | value > 0xff    |
 *   | 26     | 4 following bytes                         | value > 0xffff  |
 *   | 27     | 8 following bytes                         | > 0xffffffff    |
 *   | 28..30 | reserved                                  | never           |
 *   | 31     | indefinite length / break                 | never           |
 *
 * Major 7 is accepted only as f4 (false), f5 (true), f6 (null); major 6
 * only as tag 42 (d8 2a) over a byte string 00 || canonical binary CID.
 *
 * Decoding runs the same recursive checker twice: the first pass validates
 * the whole input and counts nodes, the second fills one array allocated at
 * the exact size. A container's children are placed side by side in that
 * array (reserved when the container is met), so node->kids is a plain
 * array.
 */
#include "internal.h"

#include "gm/dagcbor.h"

#define MAJ_UINT 0
#define MAJ_NINT 1
#define MAJ_BYTES 2
#define MAJ_TEXT 3
#define MAJ_ARRAY 4
#define MAJ_MAP 5
#define MAJ_TAG 6
#define MAJ_SIMPLE 7
#define TAG_CID 42

const char *gm_cbor_type_name(enum gm_cbor_type t)
{
	static const char *const names[] = {
	    "unsigned integer",
	    "negative integer",
	    "byte string",
	    "text string",
	    "array",
	    "map",
	    "false",
	    "true",
	    "null",
	    "CID",
	};

	if ((size_t)t < GM_ARRAY_LEN(names))
		return names[t];
	return "unknown";
}

int gm_dagcbor_key_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
	int c;

	if (alen != blen)
		return alen < blen ? -1 : 1;
	if (alen == 0)
		return 0;
	c = memcmp(a, b, alen);
	return c < 0 ? -1 : c > 0;
}

bool gm_utf8_valid(const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = p[i];
		uint32_t cp;
		size_t n, k;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if ((uint64_t)i + 1 + n > len)
			return false;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += 1 + n;
	}
	return true;
}

/* ---- writer ---- */

static gm_err put_head(struct gm_buf *out, unsigned major, uint64_t v)
{
	uint8_t b[9];
	size_t n, i;
	unsigned ai;

	if (v < 24) {
		b[0] = (uint8_t)(major << 5 | (unsigned)v);
		return gm_buf_append(out, b, 1);
	}
	if (v <= 0xff) {
		n = 1;
		ai = 24;
	} else if (v <= 0xffff) {
		n = 2;
		ai = 25;
	} else if (v <= 0xffffffffu) {
		n = 4;
		ai = 26;
	} else {
		n = 8;
		ai = 27;
	}
	b[0] = (uint8_t)(major << 5 | ai);
	for (i = 0; i < n; i++)
		b[1 + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return gm_buf_append(out, b, 1 + n);
}

static gm_err put_string(struct gm_buf *out, unsigned major, const void *p,
			 size_t len)
{
	size_t start = out->len;
	gm_err e;

	e = put_head(out, major, len);
	if (!e && len)
		e = gm_buf_append(out, p, len);
	if (e)
		out->len = start;
	return e;
}

gm_err gm_cbor_put_uint(struct gm_buf *out, uint64_t v)
{
	return put_head(out, MAJ_UINT, v);
}

gm_err gm_cbor_put_nint(struct gm_buf *out, uint64_t u)
{
	return put_head(out, MAJ_NINT, u);
}

gm_err gm_cbor_put_bytes(struct gm_buf *out, const void *p, size_t len)
{
	return put_string(out, MAJ_BYTES, p, len);
}

gm_err gm_cbor_put_text(struct gm_buf *out, const char *s, size_t len)
{
	return put_string(out, MAJ_TEXT, s, len);
}

gm_err gm_cbor_put_key(struct gm_buf *out, const char *key)
{
	return put_string(out, MAJ_TEXT, key, strlen(key));
}

gm_err gm_cbor_put_array(struct gm_buf *out, uint64_t n)
{
	return put_head(out, MAJ_ARRAY, n);
}

gm_err gm_cbor_put_map(struct gm_buf *out, uint64_t n)
{
	return put_head(out, MAJ_MAP, n);
}

gm_err gm_cbor_put_bool(struct gm_buf *out, bool v)
{
	return gm_buf_append_byte(out, v ? 0xf5 : 0xf4);
}

gm_err gm_cbor_put_null(struct gm_buf *out)
{
	return gm_buf_append_byte(out, 0xf6);
}

gm_err gm_cbor_put_cid(struct gm_buf *out, const struct gm_cid *c)
{
	static const uint8_t tag[2] = {0xd8, TAG_CID};
	uint8_t b[1 + GM_CID_MAX_BYTES];
	size_t n, start = out->len;
	gm_err e;

	b[0] = 0x00;
	n = gm_cid_encode(c, b + 1, sizeof(b) - 1);
	if (n == 0)
		return GM_EINVAL;
	e = gm_buf_append(out, tag, sizeof(tag));
	if (!e)
		e = put_string(out, MAJ_BYTES, b, n + 1);
	if (e)
		out->len = start;
	return e;
}

/* ---- decoder ---- */

struct dec {
	const uint8_t *p;
	size_t len;
	size_t off;
	struct gm_cbor *pool; /* NULL in the counting pass */
	size_t next;	      /* next free node of pool */
	size_t count;	      /* nodes counted (first pass) */
	struct gm_diag *d;
};

/* Reads one head at s->off; checks it is in its shortest form. */
static gm_err read_head(struct dec *s, unsigned *major, unsigned *ai,
			uint64_t *v)
{
	size_t at = s->off, n, i;
	uint8_t b;
	uint64_t r = 0;

	if (at >= s->len)
		return gm_diag_set(s->d, GM_EFORMAT,
				   "DAG-CBOR: input ends at byte %zu where an "
				   "item was expected",
				   at);
	b = s->p[at];
	*major = b >> 5;
	*ai = b & 0x1f;
	if (*major == MAJ_SIMPLE) {
		/* Arguments of major 7 are not lengths: decided by caller. */
		s->off = at + 1;
		*v = *ai;
		return GM_OK;
	}
	if (*ai < 24) {
		*v = *ai;
		s->off = at + 1;
		return GM_OK;
	}
	if (*ai == 31)
		return gm_diag_set(s->d, GM_EFORMAT,
				   "DAG-CBOR: indefinite length at byte %zu "
				   "(only definite lengths are allowed)",
				   at);
	if (*ai > 27)
		return gm_diag_set(s->d, GM_EFORMAT,
				   "DAG-CBOR: reserved head 0x%02x at byte %zu",
				   b, at);
	n = (size_t)1 << (*ai - 24);
	if ((uint64_t)at + 1 + n > s->len)
		return gm_diag_set(s->d, GM_EFORMAT,
				   "DAG-CBOR: head at byte %zu is truncated",
				   at);
	for (i = 0; i < n; i++)
		r = r << 8 | s->p[at + 1 + i];
	if ((n == 1 && r < 24) || (n == 2 && r <= 0xff) ||
	    (n == 4 && r <= 0xffff) || (n == 8 && r <= 0xffffffffu))
		return gm_diag_set(s->d, GM_EFORMAT,
				   "DAG-CBOR: value %" PRIu64 " at byte %zu is "
				   "not in its shortest form",
				   r, at);
	*v = r;
	s->off = at + 1 + n;
	return GM_OK;
}

static gm_err read_item(struct dec *s, struct gm_cbor *slot, unsigned depth);

/* Takes n nodes from the pool for a container's children. */
static struct gm_cbor *take(struct dec *s, uint64_t n)
{
	struct gm_cbor *k;

	if (!s->pool) {
		s->count += (size_t)n;
		return NULL;
	}
	GM_ASSERT(s->next + n <= s->count);
	k = s->pool + s->next;
	s->next += (size_t)n;
	return n ? k : NULL;
}

static gm_err read_cid(struct dec *s, size_t at, struct gm_cbor *slot)
{
	unsigned major, ai;
	uint64_t n;
	struct gm_cid cid;
	struct gm_diag why;
	uint8_t again[GM_CID_MAX_BYTES];
	size_t used, start;
	gm_err e;

	e = read_head(s, &major, &ai, &n);
	if (e)
		return e;
	if (major != MAJ_BYTES)
		return gm_diag_set(s->d, GM_EFORMAT,
				   "DAG-CBOR: tag 42 at byte %zu is not over a "
				   "byte string",
				   at);
	if (n > s->len - s->off)
		return gm_diag_set(
		    s->d, GM_EFORMAT,
		    "DAG-CBOR: CID at byte %zu runs past the end", at);
	start = s->off;
	if (n < 2 || s->p[start] != 0x00)
		return gm_diag_set(s->d, GM_EFORMAT,
				   "DAG-CBOR: CID at byte %zu does not start "
				   "with the 0x00 multibase prefix",
				   at);
	gm_diag_clear(&why);
	if (gm_cid_decode(&cid, s->p + start + 1, (size_t)n - 1, &used, &why) !=
		GM_OK ||
	    used != n - 1)
		return gm_diag_set(s->d, GM_EFORMAT,
				   "DAG-CBOR: CID at byte %zu is not valid%s%s",
				   at, why.msg[0] ? ": " : "", why.msg);
	if (gm_cid_encode(&cid, again, sizeof(again)) != used ||
	    memcmp(again, s->p + start + 1, used) != 0)
		return gm_diag_set(s->d, GM_EFORMAT,
				   "DAG-CBOR: CID at byte %zu is not in its "
				   "canonical binary form",
				   at);
	if (slot) {
		slot->type = GM_CBOR_CID;
		slot->p = s->p + start + 1;
		slot->len = used;
	}
	s->off = start + (size_t)n;
	return GM_OK;
}

static gm_err read_map(struct dec *s, size_t at, uint64_t n,
		       struct gm_cbor *slot, unsigned depth)
{
	struct gm_cbor *kids;
	const uint8_t *prev = NULL;
	size_t prev_len = 0;
	uint64_t i;
	gm_err e;

	if (n > (s->len - s->off) / 2)
		return gm_diag_set(s->d, GM_EFORMAT,
				   "DAG-CBOR: map at byte %zu declares %" PRIu64
				   " entries, more than the input holds",
				   at, n);
	kids = take(s, 2 * n);
	if (slot) {
		slot->type = GM_CBOR_MAP;
		slot->u = n;
		slot->kids = kids;
	}
	for (i = 0; i < n; i++) {
		size_t kat = s->off;
		unsigned major, ai;
		uint64_t klen;
		const uint8_t *key;

		e = read_head(s, &major, &ai, &klen);
		if (e)
			return e;
		if (major != MAJ_TEXT)
			return gm_diag_set(s->d, GM_EFORMAT,
					   "DAG-CBOR: map key at byte %zu is "
					   "not a text string",
					   kat);
		if (klen > s->len - s->off)
			return gm_diag_set(s->d, GM_EFORMAT,
					   "DAG-CBOR: map key at byte %zu runs "
					   "past the end",
					   kat);
		key = s->p + s->off;
		if (!gm_utf8_valid(key, (size_t)klen))
			return gm_diag_set(s->d, GM_EFORMAT,
					   "DAG-CBOR: map key at byte %zu is "
					   "not valid UTF-8",
					   kat);
		if (prev) {
			int c = gm_dagcbor_key_cmp(prev, prev_len, key,
						   (size_t)klen);

			if (c == 0)
				return gm_diag_set(
				    s->d, GM_EFORMAT,
				    "DAG-CBOR: duplicate map key '%.*s' at "
				    "byte %zu",
				    (int)(klen > 64 ? 64 : klen), key, kat);
			if (c > 0)
				return gm_diag_set(
				    s->d, GM_EFORMAT,
				    "DAG-CBOR: map key '%.*s' at byte %zu is "
				    "out of canonical order (shorter keys "
				    "first, then bytewise)",
				    (int)(klen > 64 ? 64 : klen), key, kat);
		}
		prev = key;
		prev_len = (size_t)klen;
		s->off += (size_t)klen;
		if (kids) {
			kids[2 * i].type = GM_CBOR_TEXT;
			kids[2 * i].p = key;
			kids[2 * i].len = (size_t)klen;
			kids[2 * i].u = 0;
			kids[2 * i].kids = NULL;
		}
		e = read_item(s, kids ? &kids[2 * i + 1] : NULL, depth + 1);
		if (e)
			return e;
	}
	return GM_OK;
}

static gm_err read_item(struct dec *s, struct gm_cbor *slot, unsigned depth)
{
	size_t at = s->off;
	unsigned major, ai;
	uint64_t v, i;
	struct gm_cbor *kids;
	gm_err e;

	e = read_head(s, &major, &ai, &v);
	if (e)
		return e;
	if (slot) {
		memset(slot, 0, sizeof(*slot));
		slot->u = v;
	}
	switch (major) {
	case MAJ_UINT:
	case MAJ_NINT:
		if (slot)
			slot->type =
			    major == MAJ_UINT ? GM_CBOR_UINT : GM_CBOR_NINT;
		return GM_OK;
	case MAJ_BYTES:
	case MAJ_TEXT:
		if (v > s->len - s->off)
			return gm_diag_set(s->d, GM_EFORMAT,
					   "DAG-CBOR: %s at byte %zu runs past "
					   "the end",
					   major == MAJ_TEXT ? "text string"
							     : "byte string",
					   at);
		if (major == MAJ_TEXT &&
		    !gm_utf8_valid(s->p + s->off, (size_t)v))
			return gm_diag_set(s->d, GM_EFORMAT,
					   "DAG-CBOR: text string at byte %zu "
					   "is not valid UTF-8",
					   at);
		if (slot) {
			slot->type =
			    major == MAJ_TEXT ? GM_CBOR_TEXT : GM_CBOR_BYTES;
			slot->p = s->p + s->off;
			slot->len = (size_t)v;
			slot->u = 0;
		}
		s->off += (size_t)v;
		return GM_OK;
	case MAJ_ARRAY:
	case MAJ_MAP:
		if (depth >= GM_DAGCBOR_MAX_DEPTH)
			return gm_diag_set(s->d, GM_ELIMIT,
					   "DAG-CBOR: nesting deeper than %d "
					   "levels at byte %zu",
					   GM_DAGCBOR_MAX_DEPTH, at);
		if (major == MAJ_MAP)
			return read_map(s, at, v, slot, depth);
		if (v > s->len - s->off)
			return gm_diag_set(
			    s->d, GM_EFORMAT,
			    "DAG-CBOR: array at byte %zu declares "
			    "%" PRIu64 " items, more than the input holds",
			    at, v);
		kids = take(s, v);
		if (slot) {
			slot->type = GM_CBOR_ARRAY;
			slot->kids = kids;
		}
		for (i = 0; i < v; i++) {
			e = read_item(s, kids ? &kids[i] : NULL, depth + 1);
			if (e)
				return e;
		}
		return GM_OK;
	case MAJ_TAG:
		if (v != TAG_CID)
			return gm_diag_set(s->d, GM_EFORMAT,
					   "DAG-CBOR: tag %" PRIu64
					   " at byte %zu (only tag 42, CID, is "
					   "allowed)",
					   v, at);
		return read_cid(s, at, slot);
	default:
		break;
	}
	/* major 7 */
	if (ai == 20 || ai == 21 || ai == 22) {
		if (slot) {
			slot->type = ai == 20	? GM_CBOR_FALSE
				     : ai == 21 ? GM_CBOR_TRUE
						: GM_CBOR_NULL;
			slot->u = 0;
		}
		return GM_OK;
	}
	if (ai >= 25 && ai <= 27)
		return gm_diag_set(s->d, GM_EFORMAT,
				   "DAG-CBOR: floating point number at byte "
				   "%zu (not allowed in records)",
				   at);
	if (ai == 31)
		return gm_diag_set(s->d, GM_EFORMAT,
				   "DAG-CBOR: unexpected break at byte %zu",
				   at);
	return gm_diag_set(s->d, GM_EFORMAT,
			   "DAG-CBOR: simple value 0x%02x at byte %zu (only "
			   "false, true and null are allowed)",
			   s->p[at], at);
}

static gm_err run(struct dec *s, struct gm_cbor *root)
{
	gm_err e;

	s->off = 0;
	e = read_item(s, root, 0);
	if (e)
		return e;
	if (s->off != s->len)
		return gm_diag_set(
		    s->d, GM_EFORMAT,
		    "DAG-CBOR: %zu trailing bytes after the item "
		    "(at byte %zu)",
		    s->len - s->off, s->off);
	return GM_OK;
}

gm_err gm_dagcbor_decode(struct gm_dagcbor_doc *doc, const uint8_t *p,
			 size_t len, struct gm_diag *d)
{
	struct dec s;
	gm_err e;

	memset(doc, 0, sizeof(*doc));
	if (len > GM_DAGCBOR_MAX_INPUT)
		return gm_diag_set(d, GM_ELIMIT,
				   "DAG-CBOR: %zu bytes is more than the %u "
				   "allowed",
				   len, GM_DAGCBOR_MAX_INPUT);
	memset(&s, 0, sizeof(s));
	s.p = p;
	s.len = len;
	s.d = d;
	s.count = 1;
	e = run(&s, NULL);
	if (e)
		return e;
	s.pool = gm_calloc(s.count, sizeof(*s.pool));
	if (!s.pool)
		return gm_diag_set(d, GM_ENOMEM, "DAG-CBOR: out of memory");
	s.next = 1;
	e = run(&s, s.pool);
	GM_ASSERT(!e && s.next == s.count);
	if (e) {
		gm_free(s.pool);
		return e;
	}
	doc->nodes = s.pool;
	doc->root = s.pool;
	doc->count = s.count;
	return GM_OK;
}

void gm_dagcbor_doc_release(struct gm_dagcbor_doc *doc)
{
	if (!doc)
		return;
	gm_free(doc->nodes);
	memset(doc, 0, sizeof(*doc));
}

/* ---- tree encoder ---- */

static gm_err enc_node(const struct gm_cbor *n, struct gm_buf *out,
		       unsigned depth, struct gm_diag *d)
{
	struct gm_cid cid;
	size_t used;
	uint64_t i;
	gm_err e;

	switch (n->type) {
	case GM_CBOR_UINT:
		return put_head(out, MAJ_UINT, n->u);
	case GM_CBOR_NINT:
		return put_head(out, MAJ_NINT, n->u);
	case GM_CBOR_BYTES:
		return put_string(out, MAJ_BYTES, n->p, n->len);
	case GM_CBOR_TEXT:
		if (!gm_utf8_valid(n->p, n->len))
			return gm_diag_set(d, GM_EINVAL,
					   "DAG-CBOR: text is not valid UTF-8");
		return put_string(out, MAJ_TEXT, n->p, n->len);
	case GM_CBOR_FALSE:
	case GM_CBOR_TRUE:
		return gm_cbor_put_bool(out, n->type == GM_CBOR_TRUE);
	case GM_CBOR_NULL:
		return gm_cbor_put_null(out);
	case GM_CBOR_CID:
		if (gm_cid_decode(&cid, n->p, n->len, &used, NULL) != GM_OK ||
		    used != n->len)
			return gm_diag_set(d, GM_EINVAL,
					   "DAG-CBOR: CID node does not hold a "
					   "valid binary CID");
		return gm_cbor_put_cid(out, &cid);
	case GM_CBOR_ARRAY:
	case GM_CBOR_MAP:
		break;
	default:
		return gm_diag_set(d, GM_EINVAL, "DAG-CBOR: unknown node type");
	}
	if (depth >= GM_DAGCBOR_MAX_DEPTH)
		return gm_diag_set(d, GM_EINVAL,
				   "DAG-CBOR: tree deeper than %d levels",
				   GM_DAGCBOR_MAX_DEPTH);
	if (n->type == GM_CBOR_ARRAY) {
		e = put_head(out, MAJ_ARRAY, n->u);
		for (i = 0; !e && i < n->u; i++)
			e = enc_node(&n->kids[i], out, depth + 1, d);
		return e;
	}
	e = put_head(out, MAJ_MAP, n->u);
	for (i = 0; !e && i < n->u; i++) {
		const struct gm_cbor *k = &n->kids[2 * i];

		if (k->type != GM_CBOR_TEXT)
			return gm_diag_set(
			    d, GM_EINVAL, "DAG-CBOR: map key is a %s, not text",
			    gm_cbor_type_name(k->type));
		if (i > 0) {
			const struct gm_cbor *pk = &n->kids[2 * i - 2];

			if (gm_dagcbor_key_cmp(pk->p, pk->len, k->p, k->len) >=
			    0)
				return gm_diag_set(
				    d, GM_EINVAL,
				    "DAG-CBOR: map key '%.*s' is out of "
				    "canonical order or repeated",
				    (int)(k->len > 64 ? 64 : k->len), k->p);
		}
		e = enc_node(k, out, depth + 1, d);
		if (!e)
			e = enc_node(&n->kids[2 * i + 1], out, depth + 1, d);
	}
	return e;
}

gm_err gm_dagcbor_encode(const struct gm_cbor *node, struct gm_buf *out,
			 struct gm_diag *d)
{
	size_t start = out->len;
	gm_err e;

	e = enc_node(node, out, 0, d);
	if (e) {
		out->len = start;
		if (out->data)
			out->data[start] = 0;
	}
	return e;
}

/* ---- tree access ---- */

const struct gm_cbor *gm_cbor_map_get(const struct gm_cbor *m, const char *key)
{
	size_t klen = strlen(key);
	uint64_t i;

	if (!m || m->type != GM_CBOR_MAP)
		return NULL;
	for (i = 0; i < m->u; i++) {
		const struct gm_cbor *k = &m->kids[2 * i];

		if (k->len == klen &&
		    (klen == 0 || memcmp(k->p, key, klen) == 0))
			return &m->kids[2 * i + 1];
	}
	return NULL;
}

bool gm_cbor_text_is(const struct gm_cbor *n, const char *s)
{
	size_t len = strlen(s);

	return n && n->type == GM_CBOR_TEXT && n->len == len &&
	       (len == 0 || memcmp(n->p, s, len) == 0);
}

gm_err gm_cbor_cid(const struct gm_cbor *n, struct gm_cid *out)
{
	size_t used;

	if (!n || n->type != GM_CBOR_CID)
		return GM_EINVAL;
	if (gm_cid_decode(out, n->p, n->len, &used, NULL) != GM_OK ||
	    used != n->len)
		return GM_EFORMAT;
	return GM_OK;
}
