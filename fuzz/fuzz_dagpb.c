/*
 * fuzz_dagpb.c - the dag-pb decoder and gm_block_links().
 *
 * Invariants checked:
 *   - decode OK => encode gives back exactly the input (the decoder accepts
 *     only the canonical form), and every link CID round trips as text;
 *   - gm_block_links() on a dag-pb CID agrees with decode: the same links
 *     in the same order when decode succeeds, an error when it fails.
 */
#include "internal.h"

#include "gm/block.h"
#include "gm/dagpb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct walk {
	const struct gm_dagpb_node *n;
	size_t i;
};

static gm_err check_link(void *ctx, const struct gm_cid *c)
{
	struct walk *w = ctx;

	if (!w->n)
		abort(); /* decode failed, so no link may be reported */
	if (w->i >= w->n->n_links || !gm_cid_equal(c, &w->n->links[w->i].cid))
		abort();
	w->i++;
	return GM_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gm_dagpb_node n;
	struct gm_diag d;
	struct gm_buf out;
	struct gm_cid self;
	struct walk w = {NULL, 0};
	char s[GM_CID_MAX_STR];
	gm_err e, le;
	size_t i;

	if (size > GM_BLOCK_MAX)
		return 0;
	gm_cid_sha256(&self, 1, GM_CODEC_DAG_PB, data, size);
	gm_dagpb_node_init(&n);
	gm_diag_clear(&d);
	e = gm_dagpb_decode(&n, data, size, &d);
	if (e) {
		if (!d.msg[0] || n.links || n.n_links)
			abort();
		le = gm_block_links(&self, data, size, check_link, &w);
		if (le != GM_EFORMAT && le != GM_ELIMIT)
			abort();
		return 0;
	}
	gm_buf_init(&out, GM_BUF_UNLIMITED);
	if (gm_dagpb_encode(&n, &out))
		abort();
	if (out.len != size || (size && memcmp(out.data, data, size) != 0))
		abort();
	gm_buf_release(&out);
	for (i = 0; i < n.n_links; i++) {
		struct gm_cid back;
		size_t len = gm_cid_format(&n.links[i].cid, s, sizeof(s));

		if (!len || gm_cid_parse(&back, s, len, NULL) ||
		    !gm_cid_equal(&back, &n.links[i].cid))
			abort();
	}
	w.n = &n;
	if (gm_block_links(&self, data, size, check_link, &w) ||
	    w.i != n.n_links)
		abort();
	gm_dagpb_node_release(&n);
	return 0;
}
