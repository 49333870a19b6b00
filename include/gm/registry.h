/*
 * registry.h - the local registry: SQLite metadata of publishers, releases,
 * their dependencies, categories and the announcement outbox.
 *
 * struct gm_registry is a service (opaque handle) over one SQLite database,
 * normally $GGEN_HOME/registry.db, opened in WAL mode with synchronous=FULL,
 * foreign keys on and a busy timeout. The schema is versioned with PRAGMA
 * user_version and migrated forward on open; a database written by a newer
 * ggen is refused (GM_EUNSUPPORTED). The tables are documented in
 * src/registry/registry.c.
 *
 * The registry stores rows and opaque record bytes given by the caller: it
 * does not verify signatures or trust (src/trust does that before calling).
 * It does enforce what the database itself can keep true: one release row
 * per ns/name@version and publisher (a second row only as equivocation
 * evidence), publisher sequences that never go down, the latest-version
 * bookkeeping that search relies on, and the search index kept in the same
 * transaction as the rows.
 *
 * The "latest" release of a package ns/name is its highest release version
 * by SemVer precedence, or its highest pre-release when it has no release;
 * equivocation evidence rows are never latest. Search only indexes latest
 * rows.
 *
 * Ownership: row structs passed in are read during the call only (strings
 * and bytes stay the caller's). Rows handed out belong to a result object
 * (struct gm_release_list, struct gm_publisher_row, struct gm_registry_names,
 * struct gm_category_list) freed by its own function.
 *
 * Every call may take a struct gm_diag (NULL accepted); SQLite failures are
 * mapped to gm_err (busy: GM_ETIMEOUT, corrupt/not a database: GM_ECORRUPT,
 * full: GM_ENOSPC, read only: GM_EPERM, out of memory: GM_ENOMEM, other I/O:
 * GM_EIO) with SQLite's message in the diagnostic. A registry handle is used
 * by one thread at a time.
 */
#ifndef GM_REGISTRY_H
#define GM_REGISTRY_H

#include "gm/gm.h"
#include "gm/semver.h"
#include "gm/trust.h"

/* Schema version this code writes (PRAGMA user_version). */
#define GM_REGISTRY_SCHEMA_VERSION 2
/* Ed25519 public key size: the publisher key column. */
#define GM_REGISTRY_KEY_LEN 32
/* Bounds on what one row may carry (GM_ELIMIT beyond). */
#define GM_REGISTRY_TEXT_MAX 65536     /* any one text field, bytes */
#define GM_REGISTRY_RECORD_MAX 1048576 /* record bytes */
#define GM_REGISTRY_DEPS_MAX 1024      /* dependencies of one release */

enum gm_content_state {
	GM_CONTENT_ABSENT = 0,	 /* metadata only */
	GM_CONTENT_PARTIAL = 1,	 /* some blocks present */
	GM_CONTENT_COMPLETE = 2, /* every block present and verified */
};

struct gm_registry;

/* One dependency of a release: "dep_ns/dep_name" with requirement req. */
struct gm_registry_dep {
	const char *ns;
	const char *name;
	const char *req;
};

/*
 * One release row. As input (gm_registry_insert_release, bulk_add) the
 * caller fills it and keeps ownership; NULL strings are stored as empty
 * ("") for description, kind, keywords, categories and authors, as NULL
 * for the others. As output, every pointer points into the owning
 * struct gm_release_list.
 */
struct gm_release_row {
	int64_t id;		 /* output: releases.id */
	const char *ns;		 /* required */
	const char *name;	 /* required */
	const char *version;	 /* required: the version text as published */
	struct gm_semver semver; /* the parsed version (for ordering) */
	const char *kind;
	const char *description;
	const char *license;
	const char *keywords;	/* space separated */
	const char *categories; /* space separated */
	const char *authors;	/* newline separated */
	const char *homepage;
	const char *repository;
	const char *root_cid; /* content root CID text, NULL if unknown */
	const uint8_t *manifest_digest;
	size_t manifest_digest_len;
	uint64_t size;		  /* content bytes */
	const uint8_t *publisher; /* GM_REGISTRY_KEY_LEN bytes, or NULL */
	uint64_t seq;		  /* publisher's sequence of the record */
	const char *record_cid;	  /* CID of the signed record, NULL if none */
	const uint8_t *record;	  /* signed record bytes (opaque), or NULL */
	size_t record_len;
	int64_t published_at; /* Unix seconds */
	enum gm_content_state content_state;
	bool equivocation; /* this row is equivocation evidence */
	bool latest;	   /* output: the package's latest row */
	const struct gm_registry_dep *deps;
	size_t n_deps;
};

/* Release rows owned by the list (their strings, bytes and deps too). */
struct gm_release_list {
	struct gm_release_row *rows;
	size_t n;
	void *mem_; /* private */
};

/* A publisher row; as output, handle and record belong to the row. */
struct gm_publisher_row {
	uint8_t key[GM_REGISTRY_KEY_LEN];
	const char *fingerprint; /* required on input */
	const char *handle;	 /* NULL when none */
	uint64_t seq;
	const uint8_t *record; /* newest publisher record bytes, or NULL */
	size_t record_len;
	enum gm_trust_level trust;
	bool has_revoked_after;
	uint64_t revoked_after; /* releases after this sequence refused */
	bool has_successor;
	uint8_t successor[GM_REGISTRY_KEY_LEN];
	int64_t first_seen; /* Unix seconds */
	bool pinned;	    /* TOFU pin */
	void *mem_;	    /* private; NULL on caller-filled input */
};

/* A list of strings owned by the object. */
struct gm_registry_names {
	char **v;
	size_t n;
};

struct gm_category_count {
	const char *name;
	const char *description;
	uint64_t count; /* packages whose latest release lists the category */
};

struct gm_category_list {
	struct gm_category_count *v;
	size_t n;
	void *mem_; /* private */
};

/*
 * Opens (creating if needed) the registry database at path and migrates it
 * to GM_REGISTRY_SCHEMA_VERSION, one transaction per migration. Errors:
 * GM_EUNSUPPORTED when the database's schema is newer than this code (the
 * message names both versions and says to upgrade), GM_ECORRUPT for a file
 * that is not a database, GM_EIO / GM_EPERM when it cannot be opened.
 * On success *out must be closed with gm_registry_close().
 */
GM_EXTERN gm_err gm_registry_open(struct gm_registry **out, const char *path,
				  struct gm_diag *d);
/* Closes the registry (rolls back an open transaction); NULL accepted. */
GM_EXTERN void gm_registry_close(struct gm_registry *r);
/* The schema version of the open database. */
GM_EXTERN int gm_registry_schema_version(struct gm_registry *r);

/*
 * Explicit transaction around several calls (BEGIN IMMEDIATE / COMMIT /
 * ROLLBACK). Calls made outside one are each their own transaction.
 * GM_EUSAGE when begin is nested or commit/rollback has none to end.
 */
GM_EXTERN gm_err gm_registry_begin(struct gm_registry *r, struct gm_diag *d);
GM_EXTERN gm_err gm_registry_commit(struct gm_registry *r, struct gm_diag *d);
GM_EXTERN gm_err gm_registry_rollback(struct gm_registry *r, struct gm_diag *d);

/*
 * Inserts a release row, its dependencies and (when it becomes the latest
 * of its package) its search index entry, all or nothing. The ns and name
 * must be valid package names (gm_package_name_valid). When a row for the
 * same ns/name@version already exists: with the same record_cid,
 * GM_EEXIST; by the same publisher (or both unsigned), GM_ECONFLICT
 * (nothing written) unless row->equivocation is set, in which case the row
 * is kept as equivocation evidence, every row of that version is marked
 * equivocation = 1, and the call returns GM_OK. A publisher key must exist
 * in publishers (foreign key, GM_ECONFLICT otherwise). Sets *id_out (may
 * be NULL) to the new row id.
 */
GM_EXTERN gm_err gm_registry_insert_release(struct gm_registry *r,
					    const struct gm_release_row *row,
					    int64_t *id_out, struct gm_diag *d);

/*
 * Every release row of ns/name, highest SemVer precedence first (rows of
 * one version in insertion order), with dependencies. An unknown package
 * gives GM_OK and an empty list. Free the list with gm_release_list_free.
 */
GM_EXTERN gm_err gm_registry_find_releases(struct gm_registry *r,
					   const char *ns, const char *name,
					   struct gm_release_list *out,
					   struct gm_diag *d);
/*
 * The rows of ns/name@version (more than one only as equivocation
 * evidence; the first inserted comes first), with dependencies. GM_ENOENT
 * when there is none (out is then empty but still to be freed).
 */
GM_EXTERN gm_err gm_registry_find_release(struct gm_registry *r, const char *ns,
					  const char *name, const char *version,
					  struct gm_release_list *out,
					  struct gm_diag *d);
/*
 * The latest row of every package, ordered by ns then name, from offset,
 * at most limit rows (0 = no limit); dependencies are not loaded.
 */
GM_EXTERN gm_err gm_registry_list_packages(struct gm_registry *r, size_t limit,
					   size_t offset,
					   struct gm_release_list *out,
					   struct gm_diag *d);
/* Frees the rows of a list (NULL or empty accepted) and empties it. */
GM_EXTERN void gm_release_list_free(struct gm_release_list *l);

/*
 * The namespaces that hold a package called name, sorted; a bare name
 * resolves when exactly one is returned. Free with gm_registry_names_free.
 */
GM_EXTERN gm_err gm_registry_namespaces_for(struct gm_registry *r,
					    const char *name,
					    struct gm_registry_names *out,
					    struct gm_diag *d);
GM_EXTERN void gm_registry_names_free(struct gm_registry_names *n);

/* Sets content_state of release id; GM_ENOENT when there is no such row. */
GM_EXTERN gm_err gm_registry_set_content_state(struct gm_registry *r,
					       int64_t id,
					       enum gm_content_state state,
					       struct gm_diag *d);

/*
 * Inserts or updates the publisher row of p->key. A new row takes every
 * field of p (first_seen 0 means now). An existing row keeps first_seen,
 * trust and pinned (use gm_registry_set_trust) and takes fingerprint,
 * handle, seq, record, revoked_after and successor, unless p->seq is lower
 * than the stored one: then nothing changes and the call returns
 * GM_ECONFLICT ("older record"). The fingerprint is unique
 * (GM_ECONFLICT when another key has it).
 */
GM_EXTERN gm_err gm_registry_upsert_publisher(struct gm_registry *r,
					      const struct gm_publisher_row *p,
					      struct gm_diag *d);
/*
 * Looks a publisher up by key (GM_REGISTRY_KEY_LEN bytes), by fingerprint,
 * or by handle (the current key of the handle: one without successor
 * first, then the highest sequence). GM_ENOENT when none. On success *out
 * owns its strings: release it with gm_publisher_row_release.
 */
GM_EXTERN gm_err gm_registry_get_publisher(struct gm_registry *r,
					   const uint8_t *key,
					   struct gm_publisher_row *out,
					   struct gm_diag *d);
GM_EXTERN gm_err gm_registry_get_publisher_by_fingerprint(
    struct gm_registry *r, const char *fingerprint,
    struct gm_publisher_row *out, struct gm_diag *d);
GM_EXTERN gm_err gm_registry_get_publisher_by_handle(
    struct gm_registry *r, const char *handle, struct gm_publisher_row *out,
    struct gm_diag *d);
/* Frees what a get_publisher call put in p (NULL accepted). */
GM_EXTERN void gm_publisher_row_release(struct gm_publisher_row *p);
/* Sets the trust level and pin flag of a key; GM_ENOENT when unknown. */
GM_EXTERN gm_err gm_registry_set_trust(struct gm_registry *r,
				       const uint8_t *key,
				       enum gm_trust_level trust, bool pinned,
				       struct gm_diag *d);

/*
 * The outbox: CIDs of records published here and not yet announced. add
 * is idempotent (the first queued_at stays); list gives them oldest first
 * (free with gm_registry_names_free); remove of an absent CID is GM_OK.
 */
GM_EXTERN gm_err gm_registry_outbox_add(struct gm_registry *r,
					const char *record_cid,
					int64_t queued_at, struct gm_diag *d);
GM_EXTERN gm_err gm_registry_outbox_list(struct gm_registry *r,
					 struct gm_registry_names *out,
					 struct gm_diag *d);
GM_EXTERN gm_err gm_registry_outbox_remove(struct gm_registry *r,
					   const char *record_cid,
					   struct gm_diag *d);

/* Every known category with the number of packages in it, by name. */
GM_EXTERN gm_err gm_registry_list_categories(struct gm_registry *r,
					     struct gm_category_list *out,
					     struct gm_diag *d);
GM_EXTERN void gm_category_list_free(struct gm_category_list *l);

/*
 * Runs PRAGMA integrity_check (and the search index's own check).
 * GM_ECORRUPT with the first problem in the diagnostic when not "ok".
 */
GM_EXTERN gm_err gm_registry_check(struct gm_registry *r, struct gm_diag *d);

/* A publisher, rotation or revocation record as stored. */
struct gm_trust_record_row {
	const char *cid;
	int type; /* enum gm_record_type */
	uint64_t seq;
	const uint8_t *record;
	size_t len;
};

struct gm_trust_record_list {
	struct gm_trust_record_row *v;
	size_t n;
	void *mem_; /* private */
};

/*
 * Stores a verified publisher, rotation or revocation record of handle
 * (type is enum gm_record_type from gm/record.h); a record already stored
 * (same CID) is a no-op.
 */
GM_EXTERN gm_err gm_registry_add_trust_record(struct gm_registry *r,
					      const char *cid,
					      const char *handle, int type,
					      uint64_t seq,
					      const uint8_t *record, size_t len,
					      int64_t received_at,
					      struct gm_diag *d);
/* The stored records of handle, by sequence, to replay into a state. */
GM_EXTERN gm_err gm_registry_trust_records(struct gm_registry *r,
					   const char *handle,
					   struct gm_trust_record_list *out,
					   struct gm_diag *d);
GM_EXTERN void gm_trust_record_list_free(struct gm_trust_record_list *l);
/* The highest release sequence of key in the registry (0 when none). */
GM_EXTERN gm_err gm_registry_release_seq_max(struct gm_registry *r,
					     const uint8_t *key, uint64_t *out,
					     struct gm_diag *d);

/*
 * What the resolver sees of the registry (a value the caller fills and
 * keeps alive while idx is used): reg, and optionally the lock entries
 * pinned to their version (pins, with pinned[i] for pins->entries[i]).
 */
struct gm_lockfile;
struct gm_registry_view {
	struct gm_registry *reg;
	const struct gm_lockfile *pins; /* NULL: no pins */
	const bool *pinned;		/* per pins entry */
};

/*
 * Fills idx (gm/resolve.h) so the resolver reads v: versions of a package
 * are its release rows, newest first (equivocation evidence left out;
 * GM_EINTEGRITY when there is nothing else; only the pinned version when
 * pinned; GM_ENOENT for none), the dependencies of a version those of its
 * usable row. The index borrows v.
 */
struct gm_resolve_index;
GM_EXTERN void gm_registry_resolve_index(struct gm_registry_view *v,
					 struct gm_resolve_index *idx);

/*
 * Lists every publisher row (handle, then fingerprint order) into a new
 * array *out of *n rows (each freed with gm_publisher_row_release, then
 * the array with gm_free).
 */
GM_EXTERN gm_err gm_registry_list_publishers(struct gm_registry *r,
					     struct gm_publisher_row **out,
					     size_t *n, struct gm_diag *d);

/*
 * The bulk path: loads many metadata-only releases in one transaction,
 * with prepared statements reused and synchronous=OFF until commit (a
 * crash during a bulk load may lose the load, never what was committed
 * before it). Rows are not validated as in insert_release: names are
 * stored as given (any non-empty text up to GM_REGISTRY_TEXT_MAX bytes),
 * dependencies and records are ignored, and a row whose ns/name@version
 * already exists is skipped (counted in *skipped of commit). Latest
 * bookkeeping and the search index are maintained row by row. No other
 * registry call may be made between bulk_begin and bulk_commit/abort.
 */
struct gm_registry_bulk;
GM_EXTERN gm_err gm_registry_bulk_begin(struct gm_registry *r,
					struct gm_registry_bulk **out,
					struct gm_diag *d);
GM_EXTERN gm_err gm_registry_bulk_add(struct gm_registry_bulk *b,
				      const struct gm_release_row *row,
				      struct gm_diag *d);
/*
 * Commits the load, merges the search index segments, restores
 * synchronous=FULL and frees b. On failure everything is rolled back
 * (b is freed as well). added/skipped (may be NULL) receive the counts.
 */
GM_EXTERN gm_err gm_registry_bulk_commit(struct gm_registry_bulk *b,
					 uint64_t *added, uint64_t *skipped,
					 struct gm_diag *d);
/* Rolls the load back and frees b (NULL accepted). */
GM_EXTERN void gm_registry_bulk_abort(struct gm_registry_bulk *b);

#endif
