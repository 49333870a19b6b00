/*
 * dag.h - walking a DAG of blocks, and sets of CIDs.
 *
 * gm_dag_walk() is the one traversal every DAG consumer uses (CAR export,
 * bundle export, the completeness check of ingest, the block store's gc):
 * depth first, pre-order, links in the order the block lists them, each
 * block once (by its whole binary CID), with an explicit bounded stack (no C
 * recursion, so a hostile DAG cannot exhaust the C stack), every fetched
 * block checked against its CID, identity CIDs served from the CID itself.
 *
 * A struct gm_cidset is a value: zero it (or gm_cidset_init), add, release.
 */
#ifndef GM_DAG_H
#define GM_DAG_H

#include "gm/block.h"
#include "gm/cid.h"
#include "gm/gm.h"

struct gm_cidset_entry;

struct gm_cidset {
	struct gm_cidset_entry *tab;
	size_t cap, n; /* cap is a power of two */
};

GM_EXTERN void gm_cidset_init(struct gm_cidset *s);
GM_EXTERN void gm_cidset_release(struct gm_cidset *s);
/* Adds c; *fresh (may be NULL) tells whether it was not there before. */
GM_EXTERN gm_err gm_cidset_add(struct gm_cidset *s, const struct gm_cid *c,
			       bool *fresh);
GM_EXTERN bool gm_cidset_has(const struct gm_cidset *s,
			     const struct gm_cid *c);

/* Called once per block reached, before its links are followed. */
typedef gm_err (*gm_dag_visit_fn)(void *ctx, const struct gm_cid *cid,
				  const uint8_t *data, size_t len);

/*
 * Skip blocks that are missing, corrupt, or whose links cannot be read
 * (treat them as leaves, without visiting them) instead of failing.
 */
#define GM_DAG_SKIP_BAD 1u

/* Most CIDs waiting on the stack (a bound for hostile DAGs). */
#define GM_DAG_STACK_MAX (16u * 1024 * 1024)

/*
 * Walks the DAGs under roots[0..n_roots) in order, visiting each block
 * once. seen (may be NULL: a private set) holds the CIDs already visited
 * and is updated, so several walks can share it. Without GM_DAG_SKIP_BAD
 * the walk stops at the first problem: GM_ENOENT (a block not available),
 * GM_EINTEGRITY (a block that does not match its CID), GM_EUNSUPPORTED (a
 * codec whose links cannot be read), GM_EFORMAT, GM_ELIMIT; the diagnostic
 * names the block and the root. Errors from visit end the walk as they
 * are.
 */
GM_EXTERN gm_err gm_dag_walk(const struct gm_block_source *src,
			     const struct gm_cid *roots, size_t n_roots,
			     struct gm_cidset *seen, unsigned flags,
			     gm_dag_visit_fn visit, void *ctx,
			     struct gm_diag *d);

#endif
