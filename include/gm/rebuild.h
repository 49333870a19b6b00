/*
 * rebuild.h - recovering the registry and the block store after damage
 * (THREATS.md: "corrupted database page or block file").
 *
 * The registry database is a cache of what the block store proves: every
 * publisher, rotation, revocation and release record is also stored as a
 * DAG-CBOR block (publish and ingest both put it there). So a registry
 * whose database is damaged can be rebuilt by reading every block, keeping
 * those that decode as records, and feeding them through gm_ingest_record()
 * (gm/ingest.h): the same signature, sequence and trust checks as a bundle
 * import or the network. The order is fixed, so the same blocks always give
 * the same registry:
 *
 *   | phase | records                    | order                        |
 *   |-------|----------------------------|------------------------------|
 *   | 1     | publisher and rotation     | handle, sequence, CID        |
 *   | 2     | revocation                 | handle, sequence, CID        |
 *   | 3     | own keys' trust restored   | (see below)                  |
 *   | 4     | release                    | namespace, sequence, time,   |
 *   |       |                            | CID                          |
 *
 * What blocks cannot give back, because only the database held it:
 *
 *   | lost                    | what happens                              |
 *   |-------------------------|-------------------------------------------|
 *   | trust decisions (trust  | every publisher comes back untrusted; the |
 *   | add / revoke, TOFU pins)| result lists them with `ggen market trust |
 *   |                         | add` to run; their releases are held back |
 *   |                         | (refused as on import) until then         |
 *   | the outbox              | records signed by this machine's current  |
 *   |                         | keys (a rotation to one too) are queued   |
 *   |                         | again (announcing twice is harmless);     |
 *   |                         | other queued CIDs are lost                |
 *   | first-seen and received | set to the time of the rebuild            |
 *   | times                   |                                           |
 *   | metadata-only releases  | rows without a signed record (bulk index  |
 *   |                         | loads) come back only from their source   |
 *
 * Keys of this machine are the exception to "untrusted": a publisher whose
 * current key has its key file in the keys folder was made here and had
 * ultimate trust (gm_market_key_generate, gm_publish); that fact lives in
 * the keys folder, not in the database, so it is restored. Only rows that
 * are untrusted and not pinned are touched (an explicit distrust stays).
 *
 * A damaged block file is moved, bytes intact, to <store>/quarantine/
 * (<KEY>.data, then <KEY>.data.1 ...), outside the store's shard folders,
 * so the store no longer claims it and a later fetch or bundle import can
 * bring a good copy. Releases then lacking blocks get their content_state
 * lowered (partial or absent) instead of claiming complete content.
 */
#ifndef GM_REBUILD_H
#define GM_REBUILD_H

#include "gm/blockstore.h"
#include "gm/cid.h"
#include "gm/gm.h"
#include "gm/keys.h"
#include "gm/registry.h"

/* How many CIDs of each problem a result keeps (counts are complete). */
#define GM_REBUILD_SHOW 5
/* Most record blocks one rebuild reads (GM_ELIMIT beyond). */
#define GM_REBUILD_RECORDS_MAX (1u << 22)
/* Name of the quarantine folder inside the store folder. */
#define GM_REBUILD_QUARANTINE "quarantine"

/* A publisher left untrusted by a rebuild. */
struct gm_rebuild_untrusted {
	char handle[GM_HANDLE_MAX + 1];
	char fingerprint[GM_KEY_FPR_MAX]; /* of its current key */
	uint64_t held_back;		  /* its releases refused for trust */
};

struct gm_rebuild_result {
	uint64_t blocks;     /* blocks looked at */
	uint64_t unreadable; /* blocks that failed their CID check: skipped */
	uint64_t records;    /* blocks that are records */
	uint64_t added;	     /* records registered */
	uint64_t duplicates; /* records the registry already had */
	uint64_t equivocations; /* releases kept as equivocation evidence */
	/* record blocks that fail verification (signature, format): never
	 * ingested */
	uint64_t bad;
	char bad_cids[GM_REBUILD_SHOW][GM_CID_MAX_STR];
	char bad_reason[GM_DIAG_MAX]; /* why the first one failed */
	/* verified records the ingest rules refused (rollback, revoked key,
	 * unknown publisher), other than the held-back ones below */
	uint64_t refused;
	char refused_cids[GM_REBUILD_SHOW][GM_CID_MAX_STR];
	char refused_reason[GM_DIAG_MAX];
	uint64_t held_back;    /* releases refused: publisher untrusted */
	uint64_t own_restored; /* own keys given ultimate trust again */
	uint64_t requeued;     /* own records queued for announcement */
	/* publishers whose current key is untrusted after the rebuild */
	struct gm_rebuild_untrusted *untrusted;
	size_t n_untrusted;
};

struct gm_rebuild_opts {
	/* The keys folder ($GGEN_HOME/keys) for the own-key rule; NULL: none.
	 */
	const char *keys_dir;
	/* Time of the rebuild (Unix seconds); 0: now. */
	uint64_t now;
};

/* Empties res (no memory held). */
GM_EXTERN void gm_rebuild_result_init(struct gm_rebuild_result *res);
/* Frees what a rebuild put in res (NULL accepted); res is empty after. */
GM_EXTERN void gm_rebuild_result_release(struct gm_rebuild_result *res);

/*
 * Registers every verified record block of store in reg, in the order of
 * the table above, through gm_ingest_record() without GM_INGEST_TRUST_NEW.
 * Works on an empty registry (a rebuild) and on a sound one (records
 * already known are duplicates: nothing changes). Per-record refusals are
 * counted in res, not returned; the call fails only when it cannot go on
 * (GM_ENOMEM, I/O, a registry error, GM_ELIMIT past
 * GM_REBUILD_RECORDS_MAX). res is initialized here; release it with
 * gm_rebuild_result_release() whatever the result.
 */
GM_EXTERN gm_err gm_rebuild_registry(struct gm_registry *reg,
				     struct gm_store *store,
				     const struct gm_rebuild_opts *o,
				     struct gm_rebuild_result *res,
				     struct gm_diag *d);

/*
 * Whether the database at db_path is damaged: it cannot be opened as a
 * registry (GM_ECORRUPT from gm_registry_open) or gm_registry_check()
 * fails. *damaged tells; why goes into d's message (d is cleared when
 * sound). Other errors (busy, permission, a newer schema) are returned.
 */
GM_EXTERN gm_err gm_rebuild_db_damaged(const char *db_path, bool *damaged,
				       struct gm_diag *d);

/*
 * Replaces the damaged database at db_path by one rebuilt from store:
 * builds it as <db_path>.rebuild (a leftover of a crash is removed first),
 * checks it, then moves the old database aside to
 * <db_path>.corrupt-<UTC YYYYMMDDTHHMMSSZ> (with its -wal and -shm, never
 * deleted; "-N" is added when the name is taken) and renames the new one
 * into place, syncing the folder. A crash at any point leaves either the
 * old database at db_path or the new one. moved_to (cap bytes) receives
 * the new name of the old database ("" when there was none). On failure
 * the old database is where it was and the partial rebuild is removed.
 */
GM_EXTERN gm_err gm_rebuild_registry_file(const char *db_path,
					  struct gm_store *store,
					  const struct gm_rebuild_opts *o,
					  struct gm_rebuild_result *res,
					  char *moved_to, size_t cap,
					  struct gm_diag *d);

/* Called for each block moved to quarantine. */
typedef void (*gm_rebuild_quarantine_fn)(void *ctx, const struct gm_cid *cid,
					 const char *reason,
					 const char *moved_to);
struct gm_rebuild_quarantine_result {
	uint64_t checked;     /* blocks re-hashed */
	uint64_t corrupt;     /* of which corrupt */
	uint64_t quarantined; /* of which moved to quarantine */
};
/*
 * Re-hashes every block of store (whose folder is store_dir) and moves
 * each corrupt one to <store_dir>/quarantine/ (see above), reporting it
 * through fn (may be NULL). Returns the first error that stopped a move
 * (the others are still tried); res (may be NULL) gets the counts.
 */
GM_EXTERN gm_err gm_rebuild_quarantine(struct gm_store *store,
				       const char *store_dir,
				       gm_rebuild_quarantine_fn fn, void *ctx,
				       struct gm_rebuild_quarantine_result *res,
				       struct gm_diag *d);

/*
 * Called for each release whose content is not complete after a refresh;
 * changed tells whether the refresh lowered (or raised) its state.
 */
typedef void (*gm_rebuild_content_fn)(void *ctx,
				      const struct gm_release_row *row,
				      enum gm_content_state now, bool changed);
/*
 * Recomputes the content_state of every release row from the store
 * (complete: the whole DAG present; partial: the root present; absent)
 * and stores what changed. *incomplete (may be NULL) gets the number of
 * releases not complete afterwards.
 */
GM_EXTERN gm_err gm_rebuild_refresh_content(struct gm_registry *reg,
					    struct gm_store *store,
					    gm_rebuild_content_fn fn, void *ctx,
					    uint64_t *incomplete,
					    struct gm_diag *d);

#endif
