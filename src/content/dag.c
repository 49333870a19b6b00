/*
 * dag.c - the DAG walker and CID sets (see gm/dag.h).
 *
 * The set is open addressing with linear probing over binary CIDs, FNV-1a
 * hashed, kept at most half full.
 */
#include "internal.h"

#include "gm/dag.h"

struct gm_cidset_entry {
	uint8_t len; /* 0: empty */
	uint8_t b[GM_CID_MAX_BYTES];
};

void gm_cidset_init(struct gm_cidset *s)
{
	s->tab = NULL;
	s->cap = 0;
	s->n = 0;
}

void gm_cidset_release(struct gm_cidset *s)
{
	gm_free(s->tab);
	gm_cidset_init(s);
}

static struct gm_cidset_entry *slot_of(const struct gm_cidset *s,
				       const uint8_t *p, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	for (i = (size_t)h & (s->cap - 1);; i = (i + 1) & (s->cap - 1))
		if (!s->tab[i].len ||
		    (s->tab[i].len == len && !memcmp(s->tab[i].b, p, len)))
			return &s->tab[i];
}

gm_err gm_cidset_add(struct gm_cidset *s, const struct gm_cid *c, bool *fresh)
{
	uint8_t b[GM_CID_MAX_BYTES];
	size_t len = gm_cid_encode(c, b, sizeof(b));
	struct gm_cidset_entry *slot;

	GM_ASSERT(len > 0);
	if ((s->n + 1) * 2 > s->cap) {
		struct gm_cidset big = {NULL, s->cap ? s->cap * 2 : 64, 0};
		size_t i;

		big.tab = gm_calloc(big.cap, sizeof(*big.tab));
		if (!big.tab)
			return GM_ENOMEM;
		for (i = 0; i < s->cap; i++)
			if (s->tab[i].len)
				*slot_of(&big, s->tab[i].b, s->tab[i].len) =
					s->tab[i];
		big.n = s->n;
		gm_free(s->tab);
		*s = big;
	}
	slot = slot_of(s, b, len);
	if (fresh)
		*fresh = slot->len == 0;
	if (!slot->len) {
		slot->len = (uint8_t)len;
		memcpy(slot->b, b, len);
		s->n++;
	}
	return GM_OK;
}

bool gm_cidset_has(const struct gm_cidset *s, const struct gm_cid *c)
{
	uint8_t b[GM_CID_MAX_BYTES];
	size_t len = gm_cid_encode(c, b, sizeof(b));

	return s->cap && len && slot_of(s, b, len)->len != 0;
}

/* ---- the walk ---- */

struct cids {
	struct gm_cid *v;
	size_t n, cap;
};

static gm_err cids_push(void *ctx, const struct gm_cid *cid)
{
	struct cids *l = ctx;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct gm_cid *v;

		if (cap > GM_DAG_STACK_MAX)
			return GM_ELIMIT;
		v = gm_reallocarray(l->v, cap, sizeof(*v));
		if (!v)
			return GM_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *cid;
	return GM_OK;
}

/* Fetches and checks one block; GM_OK with data and len set. */
static gm_err fetch(const struct gm_block_source *src, const struct gm_cid *c,
		    struct gm_buf *buf, const uint8_t **data, size_t *len,
		    const char *ctext, const char *rtext, struct gm_diag *d)
{
	struct gm_diag why;
	gm_err e;

	if (c->mh_code == GM_MH_IDENTITY) {
		*data = c->digest;
		*len = c->digest_len;
		return GM_OK;
	}
	gm_buf_reset(buf);
	e = src->get(src->ctx, c, buf);
	if (e == GM_ENOENT)
		return gm_diag_set(d, e,
				   "block %s of the DAG of %s is not "
				   "available; fetch or import it first",
				   ctext, rtext);
	if (e)
		return gm_diag_set(d, e, "cannot read block %s: %s", ctext,
				   gm_strerror(e));
	gm_diag_clear(&why);
	e = gm_cid_verify(c, buf->data, buf->len, &why);
	if (e)
		return gm_diag_set(d, e, "block %s is corrupt: %s", ctext,
				   why.msg);
	*data = buf->data;
	*len = buf->len;
	return GM_OK;
}

gm_err gm_dag_walk(const struct gm_block_source *src,
		   const struct gm_cid *roots, size_t n_roots,
		   struct gm_cidset *seen, unsigned flags,
		   gm_dag_visit_fn visit, void *ctx, struct gm_diag *d)
{
	char ctext[GM_CID_MAX_STR], rtext[GM_CID_MAX_STR];
	struct cids stack = {NULL, 0, 0}, links = {NULL, 0, 0};
	struct gm_cidset own;
	struct gm_buf buf;
	bool skip = flags & GM_DAG_SKIP_BAD;
	size_t r;
	gm_err e = GM_OK;

	gm_cidset_init(&own);
	if (!seen)
		seen = &own;
	gm_buf_init(&buf, GM_BLOCK_MAX);
	for (r = 0; !e && r < n_roots; r++) {
		if (!gm_cid_format(&roots[r], rtext, sizeof(rtext)))
			snprintf(rtext, sizeof(rtext), "(root)");
		e = cids_push(&stack, &roots[r]);
		while (!e && stack.n) {
			struct gm_cid cid = stack.v[--stack.n];
			const uint8_t *data;
			size_t len, i;
			bool fresh;

			e = gm_cidset_add(seen, &cid, &fresh);
			if (e || !fresh)
				continue;
			if (!gm_cid_format(&cid, ctext, sizeof(ctext)))
				snprintf(ctext, sizeof(ctext), "(CID)");
			e = fetch(src, &cid, &buf, &data, &len, ctext, rtext,
				  d);
			if (e && skip && e != GM_ENOMEM) {
				e = GM_OK;
				continue;
			}
			if (e)
				break;
			links.n = 0;
			e = gm_block_links(&cid, data, len, cids_push, &links);
			if (e && skip && e != GM_ENOMEM) {
				/* unreadable links: a leaf */
				links.n = 0;
				e = GM_OK;
			} else if (e == GM_EUNSUPPORTED) {
				gm_diag_set(d, e,
					    "block %s has codec 0x%" PRIx64
					    ", whose links cannot be read; "
					    "only raw and dag-pb DAGs can be "
					    "walked",
					    ctext, cid.codec);
				break;
			} else if (e == GM_EFORMAT || e == GM_ELIMIT) {
				gm_diag_set(d, e, "block %s does not decode: %s",
					    ctext, gm_strerror(e));
				break;
			}
			if (e)
				break;
			e = visit ? visit(ctx, &cid, data, len) : GM_OK;
			/* reversed, so that the first link is visited next */
			for (i = links.n; !e && i > 0; i--)
				e = cids_push(&stack, &links.v[i - 1]);
			if (e == GM_ELIMIT)
				gm_diag_set(d, e,
					    "the DAG of %s is too wide or deep "
					    "to walk",
					    rtext);
		}
		stack.n = 0;
	}
	gm_cidset_release(&own);
	gm_free(stack.v);
	gm_free(links.v);
	gm_buf_release(&buf);
	return e;
}
