/*
 * block.h - the interfaces through which blocks flow between modules.
 *
 * Producers (the UnixFS importer, the CAR reader) push blocks into a sink;
 * consumers (the UnixFS exporter, the CAR writer, DAG walks) pull blocks
 * from a source. The block store offers both; tests use memory maps. This
 * keeps the importer, exporter and CAR code independent of where blocks
 * live.
 */
#ifndef GM_BLOCK_H
#define GM_BLOCK_H

#include "gm/buf.h"
#include "gm/cid.h"
#include "gm/gm.h"

/* Receives one block; data is valid only during the call. */
typedef gm_err (*gm_block_put_fn)(void *ctx, const struct gm_cid *cid,
				  const uint8_t *data, size_t len);

struct gm_block_sink {
	gm_block_put_fn put;
	void *ctx;
};

/*
 * Fetches one block into out (appended to an empty buffer whose limit the
 * caller chose). Returns GM_ENOENT when the block is not available. A source
 * need not verify the bytes; consumers verify with gm_cid_verify().
 */
typedef gm_err (*gm_block_get_fn)(void *ctx, const struct gm_cid *cid,
				  struct gm_buf *out);

struct gm_block_source {
	gm_block_get_fn get;
	void *ctx;
};

/* Largest block we accept from anywhere (the IPFS/Bitswap limit). */
#define GM_BLOCK_MAX (2u * 1024 * 1024)

/* Called once for each link of a block, in order. */
typedef gm_err (*gm_block_link_fn)(void *ctx, const struct gm_cid *link);

/*
 * Lists the links of a block: none for raw and identity, the dag-pb links
 * for dag-pb. GM_EUNSUPPORTED for other codecs, GM_EFORMAT for a malformed
 * block. Implemented in dagpb.c.
 */
GM_EXTERN gm_err gm_block_links(const struct gm_cid *cid, const uint8_t *data,
				size_t len, gm_block_link_fn fn, void *ctx);

#endif
