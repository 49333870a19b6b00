/*
 * ingest.h - taking signed records into the registry, and the trust state
 * built from them.
 *
 * Every record that reaches this node from outside (a bundle today, a peer
 * tomorrow) goes through gm_ingest_record(), so a bundle import applies
 * exactly the checks the network will:
 *
 *   | record     | checks before it is stored                            |
 *   |------------|-------------------------------------------------------|
 *   | publisher  | signature; sequence only grows (equal: no-op); a new  |
 *   |            | key for a known handle needs a rotation               |
 *   | rotation   | signed by the handle's current key and the new key    |
 *   | revocation | signed by the key or its successor                    |
 *   | release    | signature; the publisher is known and trusted (or     |
 *   |            | GM_INGEST_TRUST_NEW pins it); the key is not revoked  |
 *   |            | past the release's sequence; a second, different      |
 *   |            | release of the same version is an equivocation        |
 *
 * A handle's trust state (gm/trust.h) is not stored as such: it is rebuilt
 * by replaying its stored publisher, rotation and revocation records in
 * sequence order (gm_ingest_publisher_state), so the same records always
 * give the same state. The trust level is the user's decision, kept on the
 * current key's publisher row.
 */
#ifndef GM_INGEST_H
#define GM_INGEST_H

#include "gm/blockstore.h"
#include "gm/gm.h"
#include "gm/record.h"
#include "gm/registry.h"
#include "gm/trust.h"

/* Accept and pin (trust full) a publisher seen for the first time. */
#define GM_INGEST_TRUST_NEW 1u

/* What gm_ingest_record did. */
enum gm_ingest_outcome {
	GM_INGEST_ADDED = 0,	 /* stored */
	GM_INGEST_DUPLICATE = 1, /* already known: nothing changed */
	GM_INGEST_EQUIVOCATION = 2, /* stored as evidence; GM_EINTEGRITY */
};

struct gm_ingest_result {
	enum gm_record_type type;
	enum gm_ingest_outcome outcome;
	struct gm_cid cid;	 /* the record's CID */
	bool pinned_new;	 /* a first-seen publisher was trusted */
	char fingerprint[GM_KEY_FPR_MAX];
};

/*
 * Rebuilds the trust state of handle from the registry (see above). An
 * unknown handle gives an empty state (known = false), not an error.
 */
GM_EXTERN gm_err gm_ingest_publisher_state(struct gm_registry *reg,
					   const char *handle,
					   struct gm_publisher_state *out,
					   struct gm_diag *d);

/*
 * Verifies and takes in one record (bytes of its canonical encoding). For
 * a release, content_state is computed from the block store (complete
 * when every block of the root's DAG is present). Runs in its own registry
 * transaction unless one is open. Errors: those of gm_record_decode, the
 * trust checks (GM_ETRUST, GM_ESIGNATURE, GM_ECONFLICT for rollbacks), and
 * GM_EINTEGRITY for an equivocation (both releases are kept and the new
 * row is marked as evidence). res may be NULL.
 */
GM_EXTERN gm_err gm_ingest_record(struct gm_registry *reg,
				  struct gm_store *store, const uint8_t *p,
				  size_t len, unsigned flags, uint64_t now,
				  struct gm_ingest_result *res,
				  struct gm_diag *d);

/*
 * Checks a release record as an install must before using it: its
 * signature (decoding again), the publisher's trust state, and that no
 * equivocation is known for the version. With GM_INGEST_TRUST_NEW an
 * unknown or untrusted publisher is trusted (full) and pinned.
 */
GM_EXTERN gm_err gm_ingest_check_release(struct gm_registry *reg,
					 const uint8_t *p, size_t len,
					 unsigned flags,
					 struct gm_record *out,
					 struct gm_diag *d);

/* Whether every block of the DAG under root is in the store. */
GM_EXTERN bool gm_ingest_dag_complete(struct gm_store *store,
				      const struct gm_cid *root);

#endif
