/*
 * dagpb.h - the dag-pb codec (multicodec 0x70), as IPFS writes it.
 *
 * Protobuf schema (ipfs/specs, IPLD dag-pb):
 *
 *   message PBLink { optional bytes Hash = 1; optional string Name = 2;
 *                    optional uint64 Tsize = 3; }
 *   message PBNode { repeated PBLink Links = 2; optional bytes Data = 1; }
 *
 * The canonical encoding writes every Links entry (field 2) before Data
 * (field 1), and inside a link Hash, Name, Tsize in that order. The decoder
 * is strict like the reference codec: fields out of this order, duplicate
 * fields, unknown fields, wrong wire types, non-minimal or truncated varints,
 * a link without Hash, or a Hash that is not a valid CID are GM_EFORMAT.
 *
 * Decoded names and data point into the input buffer, which must outlive the
 * node; the link array is allocated and freed by gm_dagpb_node_release().
 */
#ifndef GM_DAGPB_H
#define GM_DAGPB_H

#include "gm/buf.h"
#include "gm/cid.h"
#include "gm/gm.h"

/* Most links we accept in one node (a bound for hostile input). */
#define GM_DAGPB_MAX_LINKS 65536

struct gm_dagpb_link {
	struct gm_cid cid;
	const uint8_t *name; /* not NUL terminated */
	size_t name_len;
	bool has_name;
	uint64_t tsize;
	bool has_tsize;
};

struct gm_dagpb_node {
	struct gm_dagpb_link *links;
	size_t n_links;
	const uint8_t *data;
	size_t data_len;
	bool has_data;
};

GM_EXTERN void gm_dagpb_node_init(struct gm_dagpb_node *n);
GM_EXTERN void gm_dagpb_node_release(struct gm_dagpb_node *n);
/* Decodes p[0..len) into n (which must be initialized). */
GM_EXTERN gm_err gm_dagpb_decode(struct gm_dagpb_node *n, const uint8_t *p,
				 size_t len, struct gm_diag *d);
/* Appends the canonical encoding of n to out. */
GM_EXTERN gm_err gm_dagpb_encode(const struct gm_dagpb_node *n,
				 struct gm_buf *out);

#endif
