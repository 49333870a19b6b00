/*
 * bundle.h - air-gapped transfer: packages, their dependencies and the
 * records that vouch for them, in one CAR v1 file.
 *
 * A bundle is an ordinary CAR v1 (gm/car.h) whose roots are the release
 * records of the packages asked for and their dependencies (closure by the
 * resolver). Its blocks, in order:
 *
 *   | blocks                                   | codec             |
 *   |------------------------------------------|-------------------|
 *   | publisher, rotation, revocation records  | dag-cbor (0x71)   |
 *   | of every publisher involved              |                   |
 *   | then per release: its release record,    | dag-cbor, then    |
 *   | then its content DAG, depth first        | dag-pb and raw    |
 *
 * Import applies exactly the checks the network will (gm/ingest.h): every
 * block against its CID, every record's signature, the trust store, the
 * sequences, equivocation. It runs the record checks first without keeping
 * anything, so a refused bundle leaves the registry untouched; then it
 * stores the blocks (all or none) and registers the records in one
 * transaction. An equivocation is kept as evidence and reported as
 * GM_EINTEGRITY after the rest was taken in.
 */
#ifndef GM_BUNDLE_H
#define GM_BUNDLE_H

#include "gm/blockstore.h"
#include "gm/gm.h"
#include "gm/ingest.h"
#include "gm/registry.h"
#include "gm/resolve.h"

#define GM_BUNDLE_MAX_RECORDS 100000

struct gm_bundle_result {
	size_t releases;      /* release records in the bundle */
	size_t records;	      /* all records */
	uint64_t blocks;      /* all blocks */
	uint64_t new_blocks;  /* import: blocks the store lacked */
	uint64_t bytes;	      /* block bytes */
	size_t added;	      /* import: releases newly registered */
	size_t equivocations; /* import: releases kept as evidence */
	size_t pinned_new;    /* import: publishers trusted with --trust-new */
};

/* Called for each release taken in or written, for progress output. */
typedef void (*gm_bundle_note_fn)(void *ctx, const char *msg);

/*
 * Writes the bundle of reqs (package ids and requirements, e.g. "*") and
 * their dependency closure to out_path (temporary file, fsync, rename).
 * Every release must have its content in the store.
 */
GM_EXTERN gm_err gm_bundle_export(struct gm_registry *reg,
				  struct gm_store *store,
				  const struct gm_resolve_req *reqs, size_t n,
				  const char *out_path,
				  gm_bundle_note_fn note, void *note_ctx,
				  struct gm_bundle_result *res,
				  struct gm_diag *d);

/* Imports a bundle (flags: GM_INGEST_TRUST_NEW). */
GM_EXTERN gm_err gm_bundle_import(struct gm_registry *reg,
				  struct gm_store *store, const char *path,
				  unsigned flags, gm_bundle_note_fn note,
				  void *note_ctx, struct gm_bundle_result *res,
				  struct gm_diag *d);

#endif
