/*
 * record.h - the four signed records: publisher, release, rotation,
 * revocation (docs/offline-design.md, byte layouts in docs/formats.md).
 *
 * A record is one canonical DAG-CBOR map (gm/dagcbor.h) with "t" (type
 * text), "v" (1) and its signature field(s). The signing input is
 *
 *   "ggen-marketplace/record/v1\n" || DAG-CBOR(map without sig, sig_new)
 *
 *   | type       | signature fields | verified against the field   |
 *   |------------|------------------|------------------------------|
 *   | publisher  | sig              | key                          |
 *   | release    | sig              | key                          |
 *   | rotation   | sig, sig_new     | old (sig), new (sig_new)     |
 *   | revocation | sig              | by                           |
 *
 * A struct gm_record holds any of the four. Fill one by hand (strings and
 * arrays of a release are borrowed from the caller) and call
 * gm_record_sign() to produce its bytes; or gm_record_decode() bytes into
 * one, which then owns copies of its strings (gm_record_release()).
 *
 * Errors: GM_EFORMAT for malformed records (the diagnostic names the
 * record type and the field), GM_EUNSUPPORTED for "v" other than 1,
 * GM_ESIGNATURE for a missing, malformed or wrong signature, GM_ELIMIT for
 * records over GM_RECORD_MAX bytes.
 */
#ifndef GM_RECORD_H
#define GM_RECORD_H

#include "gm/buf.h"
#include "gm/cid.h"
#include "gm/gm.h"
#include "gm/keys.h"
#include "gm/manifest.h"

#define GM_RECORD_DOMAIN "ggen-marketplace/record/v1\n"
#define GM_RECORD_MAX 65536
/* Bounds of release fields (besides the manifest's own limits). */
#define GM_RECORD_TEXT_MAX 512 /* license, homepage, repository, author */
#define GM_RECORD_WORD_MAX 64  /* one keyword or category */

enum gm_record_type {
	GM_RECORD_NONE = 0,
	GM_RECORD_PUBLISHER,
	GM_RECORD_RELEASE,
	GM_RECORD_ROTATION,
	GM_RECORD_REVOCATION,
};

/* "handle H is key K" */
struct gm_rec_publisher {
	char handle[GM_HANDLE_MAX + 1];
	uint8_t key[GM_KEY_PUBLIC_BYTES];
	uint64_t seq;
	uint64_t time;
	uint8_t sig[GM_KEY_SIG_BYTES];
};

/* One dependency: package id "ns/name" and a version requirement. */
struct gm_rec_dep {
	const char *id;
	const char *req;
};

/* Search metadata, signed with the release. NULL = absent (optional). */
struct gm_rec_meta {
	const char *description; /* required, 1..512 bytes */
	const char *license;	 /* SPDX expression or NULL */
	const char *const *keywords;
	size_t nkeywords; /* <= GM_MANIFEST_MAX_KEYWORDS */
	const char *const *categories;
	size_t ncategories; /* <= GM_MANIFEST_MAX_CATEGORIES */
	const char *const *authors;
	size_t nauthors;	/* <= GM_MANIFEST_MAX_AUTHORS */
	const char *homepage;	/* http(s) URL or NULL */
	const char *repository; /* http(s) URL or NULL */
};

/* "K releases ns/name@v with root C, manifest digest D, ..." */
struct gm_rec_release {
	const char *package; /* "ns/name" */
	const char *version; /* SemVer 2.0.0 */
	enum gm_package_kind kind;
	struct gm_cid root;
	uint8_t manifest[32];	       /* sha256 of the ggen.toml bytes */
	const struct gm_rec_dep *deps; /* sorted by id, ids unique */
	size_t ndeps;		       /* <= GM_MANIFEST_MAX_DEPS */
	uint64_t size;		       /* content bytes */
	uint8_t key[GM_KEY_PUBLIC_BYTES];
	uint64_t seq; /* the signer's release sequence */
	uint64_t time;
	struct gm_rec_meta meta;
	uint8_t sig[GM_KEY_SIG_BYTES];
};

/* "H moves from key old to key new" */
struct gm_rec_rotation {
	char handle[GM_HANDLE_MAX + 1];
	uint8_t old_key[GM_KEY_PUBLIC_BYTES];
	uint8_t new_key[GM_KEY_PUBLIC_BYTES];
	uint64_t seq;
	/*
	 * The old key's last release sequence: its releases above it are
	 * refused from now on. Signed by the old key, so every site applies
	 * the same bound whatever it has seen of the old key's releases.
	 */
	uint64_t last;
	uint64_t time;
	uint8_t sig[GM_KEY_SIG_BYTES];	   /* by old_key */
	uint8_t sig_new[GM_KEY_SIG_BYTES]; /* by new_key */
};

/* "key is revoked for releases with a sequence above after" */
struct gm_rec_revocation {
	char handle[GM_HANDLE_MAX + 1];
	uint8_t key[GM_KEY_PUBLIC_BYTES]; /* the revoked key */
	uint64_t after;			  /* last good release sequence */
	uint8_t by[GM_KEY_PUBLIC_BYTES];  /* signer: key or its successor */
	uint64_t seq;
	uint64_t time;
	uint8_t sig[GM_KEY_SIG_BYTES];
};

struct gm_record {
	enum gm_record_type type;
	union {
		struct gm_rec_publisher publisher;
		struct gm_rec_release release;
		struct gm_rec_rotation rotation;
		struct gm_rec_revocation revocation;
	};
	void *mem; /* owned copies of a decoded release's strings */
};

/* "publisher", "release", "rotation", "revocation" ("none" otherwise). */
GM_EXTERN const char *gm_record_type_name(enum gm_record_type t);

/* Zeroes r and sets its type. */
GM_EXTERN void gm_record_init(struct gm_record *r, enum gm_record_type t);
/* Frees what a decoded record owns; r is empty afterwards. */
GM_EXTERN void gm_record_release(struct gm_record *r);

/*
 * Checks r's fields, signs it and appends its canonical encoding to out.
 * signer signs "sig" and must be the record's key (publisher, release),
 * old key (rotation) or by (revocation); new_signer is the new key of a
 * rotation (NULL otherwise). Both must hold their secrets. Fills r's
 * signature fields. GM_EINVAL with a diagnostic for a bad field or a
 * signer that does not match.
 */
GM_EXTERN gm_err gm_record_sign(struct gm_record *r,
				const struct gm_key *signer,
				const struct gm_key *new_signer,
				struct gm_buf *out, struct gm_diag *d);
/* Appends r's encoding with its signature fields as they are. */
GM_EXTERN gm_err gm_record_encode(const struct gm_record *r, struct gm_buf *out,
				  struct gm_diag *d);
/* Appends r's signing input (domain string + map without signatures). */
GM_EXTERN gm_err gm_record_signing_input(const struct gm_record *r,
					 struct gm_buf *out, struct gm_diag *d);

/*
 * Decodes and verifies one record of any type from p[0..len) into out
 * (which need not be initialized; empty on error). Every field is checked
 * for presence and type, unknown fields are refused, and every signature
 * is verified against the key field it names (see the table above).
 */
GM_EXTERN gm_err gm_record_decode(struct gm_record *out, const uint8_t *p,
				  size_t len, struct gm_diag *d);

/* The record's CID: CIDv1, dag-cbor, sha2-256 of its bytes. */
GM_EXTERN gm_err gm_record_cid(const uint8_t *p, size_t len,
			       struct gm_cid *out);

#endif
