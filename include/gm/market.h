/*
 * market.h - the client facade: what the front ends (`ggen market`,
 * `clnrm validator`) call.
 *
 * A struct gm_market is one user's marketplace state under a home folder
 * ($GGEN_HOME, default ~/.ggen):
 *
 *   | path             | what                                         |
 *   |------------------|----------------------------------------------|
 *   | blocks/          | the block store (see blockstore.h)           |
 *
 * (the registry, keys and node folders join with the issues that bring
 * them). The facade composes the lower layers into whole user actions and
 * makes each one safe to interrupt: files it writes for the user (CAR
 * exports, exported trees) appear whole or not at all.
 */
#ifndef GM_MARKET_H
#define GM_MARKET_H

#include "gm/blockstore.h"
#include "gm/car.h"
#include "gm/cid.h"
#include "gm/gm.h"
#include "gm/unixfs.h"

struct gm_market;

/*
 * Opens the marketplace under home, creating the folder (mode 0700) and its
 * block store as needed.
 */
GM_EXTERN gm_err gm_market_open(struct gm_market **out, const char *home,
				struct gm_diag *d);
/* Syncs and frees; accepts NULL. */
GM_EXTERN void gm_market_close(struct gm_market *m);
/* The block store (owned by m). */
GM_EXTERN struct gm_store *gm_market_store(struct gm_market *m);

/* Root CID of a file or folder, as IPFS computes it; nothing is stored. */
GM_EXTERN gm_err gm_market_cid(const char *path, struct gm_unixfs_result *res,
			       struct gm_diag *d);
/*
 * Imports a file or folder into the store, syncs every block to disk, and
 * (when pin is true) pins the root.
 */
GM_EXTERN gm_err gm_market_add(struct gm_market *m, const char *path, bool pin,
			       struct gm_unixfs_result *res,
			       struct gm_diag *d);
/* Exports the DAG under root to out_path (which must not exist). */
GM_EXTERN gm_err gm_market_get(struct gm_market *m, const struct gm_cid *root,
			       const char *out_path, struct gm_diag *d);
/*
 * Writes the DAG under root as a CAR v1 file at out_path: a temporary file
 * beside it, synced, then renamed, so out_path is whole or untouched.
 */
GM_EXTERN gm_err gm_market_car_export(struct gm_market *m,
				      const struct gm_cid *root,
				      const char *out_path,
				      struct gm_car_export_result *res,
				      struct gm_diag *d);
/* Imports a CAR file: all blocks verified, nothing kept on failure, roots pinned. */
GM_EXTERN gm_err gm_market_car_import(struct gm_market *m, const char *path,
				      struct gm_car_import_result *res,
				      struct gm_diag *d);

#endif
