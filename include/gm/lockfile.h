/*
 * lockfile.h - ggen.lock, the record of exactly what a project installed.
 *
 * TOML, written by ggen, sorted by package id so that it diffs well:
 *
 *   # This file is written by ggen; do not edit it by hand.
 *   version = 1
 *
 *   [requires]                    # what the project asked for
 *   "acme/web-framework" = "^1.2"
 *
 *   [[package]]
 *   id = "acme/web-framework"
 *   version = "1.2.0"
 *   kind = "template"
 *   root = "bafybei..."           # UnixFS root CID of the content
 *   publisher = "SHA256:..."      # fingerprint of the signing key
 *   release = "bafyrei..."        # CID of the signed release record
 *   dependencies = ["acme/http-middleware", "acme/rust-cli"]
 *
 * `install --locked` reproduces exactly these packages and fails if the
 * resolution would change anything.
 */
#ifndef GM_LOCKFILE_H
#define GM_LOCKFILE_H

#include "gm/buf.h"
#include "gm/cid.h"
#include "gm/gm.h"
#include "gm/manifest.h"
#include "gm/semver.h"

#define GM_LOCKFILE_NAME "ggen.lock"
#define GM_LOCKFILE_MAX_SIZE (4u * 1024 * 1024)
#define GM_LOCKFILE_MAX_PACKAGES 4096
#define GM_FINGERPRINT_MAX 64

struct gm_lock_entry {
	char ns[GM_PACKAGE_NAME_MAX + 1];
	char name[GM_PACKAGE_NAME_MAX + 1];
	struct gm_semver version;
	enum gm_package_kind kind;
	struct gm_cid root;
	char publisher[GM_FINGERPRINT_MAX + 1];
	struct gm_cid release;
	char **deps; /* "ns/name" strings, owned */
	size_t n_deps;
};

/* A direct requirement of the project: "ns/name" = "requirement". */
struct gm_lock_req {
	char ns[GM_PACKAGE_NAME_MAX + 1];
	char name[GM_PACKAGE_NAME_MAX + 1];
	char *req; /* owned, as written (Cargo syntax) */
};

/* A value: gm_lockfile_init, then gm_lockfile_release. */
struct gm_lockfile {
	struct gm_lock_req *reqs; /* sorted by id */
	size_t n_reqs;
	struct gm_lock_entry *entries; /* sorted by id */
	size_t n;
};

GM_EXTERN void gm_lockfile_init(struct gm_lockfile *l);
GM_EXTERN void gm_lockfile_release(struct gm_lockfile *l);

/*
 * Appends a copy of e (deps copied) to l, keeping the entries sorted by id.
 * GM_EEXIST when l already has that id.
 */
GM_EXTERN gm_err gm_lockfile_add(struct gm_lockfile *l,
				 const struct gm_lock_entry *e);
/*
 * Sets the requirement for ns/name (replacing one there was); req is
 * copied. A NULL req removes it (GM_ENOENT when there was none).
 */
GM_EXTERN gm_err gm_lockfile_set_req(struct gm_lockfile *l, const char *ns,
				     const char *name, const char *req);
/* Removes the package entry for ns/name (GM_ENOENT when absent). */
GM_EXTERN gm_err gm_lockfile_remove(struct gm_lockfile *l, const char *ns,
				    const char *name);
/* The entry for ns/name, or NULL. */
GM_EXTERN const struct gm_lock_entry *
gm_lockfile_find(const struct gm_lockfile *l, const char *ns, const char *name);

/* Parses ggen.lock text; GM_EPARSE/GM_EFORMAT with line:column in d. */
GM_EXTERN gm_err gm_lockfile_parse(struct gm_lockfile *l, const char *src,
				   size_t len, struct gm_diag *d);
/* Reads and parses a file; GM_ENOENT when there is none. */
GM_EXTERN gm_err gm_lockfile_load(struct gm_lockfile *l, const char *path,
				  struct gm_diag *d);
/* Appends the canonical text of l to out. */
GM_EXTERN gm_err gm_lockfile_format(const struct gm_lockfile *l,
				    struct gm_buf *out);
/* Writes the canonical text atomically (temporary file, fsync, rename). */
GM_EXTERN gm_err gm_lockfile_save(const struct gm_lockfile *l,
				  const char *path, struct gm_diag *d);
/*
 * Whether a and b list exactly the same packages with the same fields
 * (requirements are not compared).
 */
GM_EXTERN bool gm_lockfile_equal(const struct gm_lockfile *a,
				 const struct gm_lockfile *b);

#endif
