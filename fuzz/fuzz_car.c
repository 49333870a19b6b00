/*
 * fuzz_car.c - libFuzzer target for the CAR v1 reader (src/content/car.c).
 *
 * Reads the input as a CAR from memory into a memory sink. The reader only
 * accepts canonical CARs (minimal varints, the one canonical DAG-CBOR
 * header shape, canonical binary CIDs, sections that exactly cover the
 * input), so for every accepted input the invariant is exact:
 *
 *   write(roots, blocks in order) == input, byte for byte
 *
 * and the counts the reader reports match what reached the sink. A refused
 * input must come with a diagnostic.
 */
#include "internal.h"

#include "gm/car.h"

struct arena {
	struct gm_buf bytes;	  /* all block data, concatenated */
	struct gm_car_block *blk; /* data holds an offset until the end */
	size_t n, cap;
};

static gm_err arena_put(void *ctx, const struct gm_cid *cid,
			const uint8_t *data, size_t len)
{
	struct arena *a = ctx;
	gm_err e;

	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		struct gm_car_block *v;

		v = gm_reallocarray(a->blk, cap, sizeof(*v));
		if (!v)
			return GM_ENOMEM;
		a->blk = v;
		a->cap = cap;
	}
	a->blk[a->n].cid = *cid;
	a->blk[a->n].data = (const uint8_t *)(uintptr_t)a->bytes.len;
	a->blk[a->n].len = len;
	e = gm_buf_append(&a->bytes, data, len);
	if (e)
		return e;
	a->n++;
	return GM_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gm_car_info info;
	struct gm_block_sink sink;
	struct arena a;
	struct gm_diag d;
	struct gm_buf out;
	uint64_t bytes = 0;
	size_t i;
	gm_err e;

	memset(&a, 0, sizeof(a));
	gm_buf_init(&a.bytes, GM_BUF_UNLIMITED);
	sink.put = arena_put;
	sink.ctx = &a;
	gm_diag_clear(&d);
	e = gm_car_read_mem(data, size, &sink, &info, &d);
	if (e) {
		if (!d.msg[0] && e != GM_ENOMEM)
			abort();
		goto out_free;
	}
	if (info.size != size || info.blocks != a.n)
		abort();
	for (i = 0; i < a.n; i++) {
		a.blk[i].data = a.bytes.data
				    ? a.bytes.data + (uintptr_t)a.blk[i].data
				    : (const uint8_t *)"";
		bytes += a.blk[i].len;
		if (gm_cid_verify(&a.blk[i].cid, a.blk[i].data, a.blk[i].len,
				  NULL) != GM_OK)
			abort();
	}
	if (bytes != info.bytes)
		abort();
	gm_buf_init(&out, GM_BUF_UNLIMITED);
	if (gm_car_write_buf(&out, info.roots, info.n_roots, a.blk, a.n,
			     NULL) != GM_OK)
		abort();
	if (out.len != size || (size && memcmp(out.data, data, size) != 0))
		abort();
	gm_buf_release(&out);
out_free:
	gm_free(a.blk);
	gm_buf_release(&a.bytes);
	return 0;
}
