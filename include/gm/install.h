/*
 * install.h - installing packages into a project: resolve, verify, switch
 * the project over atomically, write ggen.lock.
 *
 * A project's install state:
 *
 *   | path                                  | holds                        |
 *   |---------------------------------------|------------------------------|
 *   | <project>/ggen.lock                   | gm/lockfile.h; [requires]    |
 *   |                                       | are the direct requirements  |
 *   | <project>/.ggen/packages/<ns>/<name>/ | an installed template        |
 *   | <project>/.ggen/validators/<ns>/<name>/ | an installed validator     |
 *   | <project>/.ggen/txn                    | only while an install is     |
 *   |                                       | switching over (install.c)   |
 *
 * gm_install() resolves [requires] against the local registry (preferring
 * the versions in ggen.lock), checks every chosen release record (signature,
 * trust, equivocation, that the record and the registry row agree),
 * exports every package from the block store (each block checked against
 * its CID) into a staging folder, and switches the project over so that a
 * crash at any point leaves the old install or, after gm_install_recover(),
 * the complete new one. A refusal (GM_EINTEGRITY, GM_ESIGNATURE, GM_ETRUST,
 * GM_EUNSAFE, exit class 3) or any other error leaves the project exactly as
 * it was. Only one install runs in a project at a time (an flock on .ggen;
 * GM_ECONFLICT "another install is running" otherwise).
 */
#ifndef GM_INSTALL_H
#define GM_INSTALL_H

#include "gm/blockstore.h"
#include "gm/gm.h"
#include "gm/manifest.h"
#include "gm/registry.h"
#include "gm/resolve.h"

/* Folder names under <project>/.ggen/ by package kind. */
#define GM_INSTALL_DIR ".ggen"
#define GM_INSTALL_PACKAGES "packages"
#define GM_INSTALL_VALIDATORS "validators"

/* Receives one line of progress ("updated acme/b 1.0.0 -> 1.2.0"). */
typedef void (*gm_install_note_fn)(void *ctx, const char *msg);

struct gm_install_opts {
	const char *project; /* the project folder (must exist) */
	/*
	 * Set these in [requires]: id "ns/name" (a bare name was already
	 * resolved by the caller), req the requirement, or NULL when the user
	 * gave none: it is then recorded as "^<chosen version>". Read during
	 * the call only.
	 */
	const struct gm_resolve_req *add;
	size_t n_add;
	/* Drop these "ns/name" from [requires] (GM_ENOENT if not there). */
	const char *const *remove;
	size_t n_remove;
	/* Re-resolve these "ns/name" (or all) ignoring the locked versions. */
	const char *const *update;
	size_t n_update;
	bool update_all;
	/*
	 * --locked: install exactly ggen.lock. GM_ECONFLICT, naming what
	 * would change, when resolving [requires] gives anything else (or
	 * when add/remove would change [requires]).
	 */
	bool locked;
	unsigned trust_flags; /* GM_INGEST_TRUST_NEW (gm/ingest.h) */
	/*
	 * Hard-link single-block files to the store's block files instead of
	 * copying them, where the file system allows. The installed file and
	 * the store then share their bytes: editing one edits the other
	 * (gm_store_verify would report the block corrupt). Only when asked.
	 */
	bool hardlink;
	/* GM_PACKAGE_NONE, or the kind every package in add must be. */
	enum gm_package_kind only_kind;
	gm_install_note_fn note; /* may be NULL */
	void *note_ctx;
};

/* Package counts, comparing the old ggen.lock with the new one. */
struct gm_install_result {
	size_t added;	  /* in the new lock only */
	size_t updated;	  /* in both, other version or content */
	size_t removed;	  /* in the old lock only */
	size_t unchanged; /* in both, identical */
};

/*
 * Installs into o->project (see the top of this file). The registry and
 * store are only read, except that GM_INGEST_TRUST_NEW pins first-seen
 * publishers. res (may be NULL) gets the counts. When the new ggen.lock
 * would be identical to the old one and every package on disk matches it,
 * nothing is written (all unchanged).
 *
 * Errors, each naming the package and the next step: GM_ECONFLICT (no
 * solution: the resolver's explanation; --locked and something would
 * change), GM_ENOENT (a package not in the registry; removing something
 * not required; content not in the local store: "import a bundle (ggen
 * market bundle import) or run a node"), GM_EUSAGE (a package of the wrong
 * kind for only_kind), GM_EINTEGRITY (a block or record that does not match
 * its CID, a record that disagrees with its registry row),
 * GM_ESIGNATURE, GM_ETRUST, GM_EUNSAFE, GM_ELIMIT, GM_EIO, GM_ENOMEM.
 */
GM_EXTERN gm_err gm_install(struct gm_registry *reg, struct gm_store *store,
			    const struct gm_install_opts *o,
			    struct gm_install_result *res, struct gm_diag *d);

/*
 * Finishes or rolls back an install that was interrupted (a crash, a
 * kill): when <project>/.ggen/txn exists and ggen.lock is the new lock, the
 * switch is completed; otherwise the old trees are put back. Leftover
 * staging, old and temporary entries in .ggen are removed. A project with
 * nothing to recover gives GM_OK. gm_install and gm_install_verify call it
 * first. GM_ECORRUPT when the txn file is malformed (the message says
 * what to remove), GM_ECONFLICT while another install runs.
 */
GM_EXTERN gm_err gm_install_recover(const char *project, struct gm_diag *d);

enum gm_install_problem {
	GM_INSTALL_MISSING = 1,	 /* locked, but its folder is absent */
	GM_INSTALL_MODIFIED = 2, /* its folder's CID is not the locked root */
	GM_INSTALL_EXTRA = 3,	 /* a folder that ggen.lock does not list */
};

/*
 * Called for each problem found by gm_install_verify: id is "ns/name",
 * msg one sentence (what is wrong, what to run).
 */
typedef void (*gm_install_problem_fn)(void *ctx, enum gm_install_problem p,
				      const char *id, const char *msg);

/*
 * Checks the installed tree against ggen.lock (after gm_install_recover):
 * every locked package is present and its folder's UnixFS root CID (as
 * gm_unixfs_import_path computes it) equals the locked root, and no other
 * package folder is present. Reports each problem through fn (may be
 * NULL); *n_problems (may be NULL) gets their number. Returns GM_OK when
 * there is none, GM_EINTEGRITY (with the first problem and the count in
 * d) otherwise; GM_ENOENT when the project has no ggen.lock.
 */
GM_EXTERN gm_err gm_install_verify(const char *project,
				   gm_install_problem_fn fn, void *ctx,
				   size_t *n_problems, struct gm_diag *d);

#endif
