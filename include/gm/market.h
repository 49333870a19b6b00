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
 *   | registry.db      | the SQLite registry (see registry.h)         |
 *   | keys/            | signing keys, mode 0700 (see keys.h)         |
 *
 * (the node folder joins with the network issues). The facade composes the
 * lower layers into whole user actions and
 * makes each one safe to interrupt: files it writes for the user (CAR
 * exports, exported trees) appear whole or not at all.
 */
#ifndef GM_MARKET_H
#define GM_MARKET_H

#include "gm/blockstore.h"
#include "gm/car.h"
#include "gm/cid.h"
#include "gm/gm.h"
#include "gm/keys.h"
#include "gm/publish.h"
#include "gm/registry.h"
#include "gm/trust.h"
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

/* The registry (owned by m). */
GM_EXTERN struct gm_registry *gm_market_registry(struct gm_market *m);
/* $GGEN_HOME/keys (owned by m). */
GM_EXTERN const char *gm_market_keys_dir(struct gm_market *m);

/*
 * Makes a key for handle, saves it (sealed when passphrase is not NULL),
 * and registers its signed publisher record with ultimate trust.
 */
GM_EXTERN gm_err gm_market_key_generate(struct gm_market *m,
					const char *handle,
					const char *passphrase,
					struct gm_key *out, struct gm_diag *d);
/*
 * The signing key for handle: key_file when given, else GGEN_SIGNING_KEY
 * (CI), else $GGEN_HOME/keys/<handle>.key. A key not yet in the registry
 * gets its publisher record at its first publish.
 */
GM_EXTERN gm_err gm_market_signing_key(struct gm_market *m,
				       const char *handle,
				       const char *key_file,
				       const char *passphrase,
				       struct gm_key *out, struct gm_diag *d);
/*
 * Rotates handle's key: a rotation record signed by the old and the new
 * key, registered; the old key file is kept beside the new one.
 */
GM_EXTERN gm_err gm_market_key_rotate(struct gm_market *m, const char *handle,
				      const char *old_pass,
				      const char *new_pass,
				      struct gm_key *new_out,
				      struct gm_diag *d);
/*
 * Revokes handle's current key for releases after its last one: a
 * revocation record signed by the key, registered; the key file is marked.
 */
GM_EXTERN gm_err gm_market_key_revoke(struct gm_market *m, const char *handle,
				      const char *passphrase,
				      uint64_t *after, struct gm_diag *d);

/*
 * Finds a publisher by fingerprint ("SHA256:...", or a unique prefix of at
 * least 8 characters of the part after "SHA256:", or a handle).
 */
GM_EXTERN gm_err gm_market_find_publisher(struct gm_market *m,
					  const char *what,
					  struct gm_publisher_row *out,
					  struct gm_diag *d);

/*
 * Garbage collection: keeps every block reachable from a store pin (user
 * pins: store add, pin add, car import) or from the registry (the content
 * root and record of every registered release, and every publisher,
 * rotation and revocation record), and deletes the rest.
 */
GM_EXTERN gm_err gm_market_gc(struct gm_market *m,
			      struct gm_store_gc_result *res,
			      struct gm_diag *d);

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


/* ---- repair: `ggen market verify --repair` (see gm/rebuild.h) ---- */

#include <limits.h>

#include "gm/rebuild.h"

/* Per-item reports of a repair; any callback may be NULL. */
struct gm_market_repair_cb {
	void *ctx;
	gm_rebuild_quarantine_fn quarantined;
	gm_rebuild_content_fn incomplete;
};

struct gm_market_repair_result {
	bool db_damaged;		  /* the database was damaged */
	char db_problem[GM_DIAG_MAX];	  /* what was wrong with it */
	bool db_rebuilt;		  /* and was rebuilt from blocks */
	char moved_to[PATH_MAX];	  /* where the damaged one went */
	struct gm_rebuild_quarantine_result blocks;
	char quarantine_dir[PATH_MAX];	  /* <home>/blocks/quarantine */
	struct gm_rebuild_result records; /* the record blocks ingested */
	uint64_t incomplete; /* releases whose content is not complete */
};

/*
 * Repairs the marketplace under home, which must not be open elsewhere in
 * this process: (1) every corrupt block file is moved to the store's
 * quarantine folder; (2) a damaged registry database (gm_rebuild_db_damaged)
 * is moved aside and rebuilt from the record blocks (gm_rebuild_registry_
 * file), while a sound one gets the record blocks it lacks (records held
 * back for trust come in after `trust add`); (3) the content_state of every
 * release is recomputed. The keys folder's own keys keep their trust
 * (see gm/rebuild.h). res is filled as far as the repair went; release
 * res->records with gm_rebuild_result_release() whatever the result.
 * Errors: what stopped the repair (a registry that cannot be opened for
 * another reason than damage, I/O, GM_ENOMEM).
 */
GM_EXTERN gm_err gm_market_repair(const char *home,
				  const struct gm_market_repair_cb *cb,
				  struct gm_market_repair_result *res,
				  struct gm_diag *d);

#endif
