/*
 * trust.h - trust decisions over a publisher's state, as pure functions.
 *
 * struct gm_publisher_state is a value (no heap memory) holding what is
 * known about one handle: its current key, its publisher sequence, the
 * local trust level, the keys it rotated away from (with their successors
 * and the last release sequence they may still vouch for) and the revoked
 * keys (with their last good release sequence). The registry persists it;
 * these functions only compute. Records given to them must come from
 * gm_record_decode() or gm_record_sign(): signatures are already verified.
 *
 *   | function                   | rule                                      |
 *   |----------------------------|-------------------------------------------|
 *   | gm_trust_apply_publisher   | first sight binds handle to key; a higher |
 *   |                            | seq by the same key replaces; lower seq   |
 *   |                            | is a rollback (GM_ECONFLICT); equal seq   |
 *   |                            | and same key is a no-op; another key      |
 *   |                            | needs a rotation (GM_ECONFLICT)           |
 *   | gm_trust_apply_rotation    | old must be the current key (sig by old   |
 *   |                            | and new were verified); seq must grow     |
 *   | gm_trust_apply_revocation  | key must be a key of the handle, by the   |
 *   |                            | key itself or its successor; applies late |
 *   |                            | too (a revocation only ever restricts);   |
 *   |                            | two revocations keep the lower 'after'    |
 *   | gm_trust_check_release     | namespace = handle; signer = current key  |
 *   |                            | or a previous one within its bound; not   |
 *   |                            | revoked past 'after'; trust >= marginal   |
 *
 * Refusals that are security decisions return GM_ETRUST or GM_ESIGNATURE
 * (exit class 3) with a diagnostic that shows the key's fingerprint and
 * what to do, e.g. `ggen market trust add SHA256:...` or `--trust-new`.
 */
#ifndef GM_TRUST_H
#define GM_TRUST_H

#include "gm/gm.h"
#include "gm/keys.h"
#include "gm/record.h"

/* Most previous keys and most revoked keys remembered per handle. */
#define GM_TRUST_MAX_KEYS 32

enum gm_trust_level {
	GM_TRUST_UNTRUSTED = 0,
	GM_TRUST_MARGINAL = 1,
	GM_TRUST_FULL = 2,
	GM_TRUST_ULTIMATE = 3, /* keys made on this machine */
};

struct gm_trust_prev_key {
	uint8_t key[GM_KEY_PUBLIC_BYTES];
	uint8_t successor[GM_KEY_PUBLIC_BYTES];
	/* Releases by key with seq above this are refused (UINT64_MAX: none).
	 */
	uint64_t last_seq;
};

struct gm_trust_revoked_key {
	uint8_t key[GM_KEY_PUBLIC_BYTES];
	uint64_t after; /* last good release sequence */
};

struct gm_publisher_state {
	char handle[GM_HANDLE_MAX + 1];
	bool known; /* a publisher record was applied */
	uint8_t key[GM_KEY_PUBLIC_BYTES];
	uint64_t seq;  /* publisher sequence (publisher and rotation records) */
	uint64_t time; /* time of the record that set seq */
	enum gm_trust_level trust;
	size_t nprev;
	struct gm_trust_prev_key prev[GM_TRUST_MAX_KEYS];
	size_t nrevoked;
	struct gm_trust_revoked_key revoked[GM_TRUST_MAX_KEYS];
};

/* "untrusted", "marginal", "full", "ultimate" ("unknown" otherwise). */
GM_EXTERN const char *gm_trust_level_name(enum gm_trust_level t);
/* Parses a level name. GM_EINVAL with the list of names otherwise. */
GM_EXTERN gm_err gm_trust_level_parse(const char *s, enum gm_trust_level *out,
				      struct gm_diag *d);

/* Empty state for handle (unknown, untrusted). */
GM_EXTERN void gm_publisher_state_init(struct gm_publisher_state *s,
				       const char *handle);

/*
 * Applies a publisher record (see the table). *changed (may be NULL) says
 * whether s changed. On error s is unchanged. GM_EINVAL for a record of
 * another type or handle; GM_ECONFLICT for a rollback ("rollback: ...")
 * or a different key at an equal or higher sequence; GM_ETRUST for a
 * revoked key.
 */
GM_EXTERN gm_err gm_trust_apply_publisher(struct gm_publisher_state *s,
					  const struct gm_record *r,
					  bool *changed, struct gm_diag *d);

/*
 * Applies a rotation. Releases by the old key with a sequence above the
 * record's "last" (the old key's last release, signed by it) are refused
 * afterwards, so every site applies the same bound whatever order records
 * reach it in. GM_ESIGNATURE when
 * the old key is not the handle's current key, GM_ECONFLICT for a sequence
 * that does not grow (equal and identical is a no-op) or a new key the
 * handle already used, GM_ELIMIT past GM_TRUST_MAX_KEYS.
 */
GM_EXTERN gm_err gm_trust_apply_rotation(struct gm_publisher_state *s,
					 const struct gm_record *r,
					 bool *changed, struct gm_diag *d);

/*
 * Applies a revocation. GM_ESIGNATURE when "by" is neither the revoked key
 * nor its successor, GM_ECONFLICT when the key is not one of the handle's.
 */
GM_EXTERN gm_err gm_trust_apply_revocation(struct gm_publisher_state *s,
					   const struct gm_record *r,
					   bool *changed, struct gm_diag *d);

/*
 * Decides whether release record r may be installed given s. GM_OK, or
 * GM_ETRUST with the reason (unknown or untrusted publisher, key not the
 * handle's, revoked or rotated-out key past its bound, namespace not the
 * handle) and, for an untrusted publisher, the fingerprint and the command
 * that trusts it.
 */
GM_EXTERN gm_err gm_trust_check_release(const struct gm_publisher_state *s,
					const struct gm_record *r,
					struct gm_diag *d);

/*
 * Whether two verified release records of the same package@version
 * disagree on content (root CID or manifest digest): an equivocation, which
 * the caller raises as a security error and keeps both. false when they
 * agree, or when they are not releases of the same package@version.
 */
GM_EXTERN bool gm_trust_is_equivocation(const struct gm_record *a,
					const struct gm_record *b);

#endif
