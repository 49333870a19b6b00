/*
 * publish.h - publishing a package folder into the local registry.
 *
 * A publish, in order (docs/offline-design.md):
 *
 *   1. read and check <dir>/ggen.toml; the signing key's handle must be the
 *      manifest's namespace; the version must not be published already
 *   2. walk the folder: .git/, .ggen/ and .ggenignore patterns are skipped
 *      (each reported through the note callback); symlinks, devices, fifos,
 *      sockets and names that collide ignoring case are refused
 *   3. import the content into the block store and sync every block
 *   4. sign the release record (and, for a key the registry has not seen,
 *      a publisher record); store the records as blocks, sync, pin
 *   5. one registry transaction: publisher row, release row (content
 *      complete), outbox entries for the announcement a node will make
 *
 * A crash at any point leaves the registry as it was or with the whole
 * release; blocks written before the crash are unreferenced and gc removes
 * them (the registry, not pins, is the record of what gc keeps). With
 * dry_run, steps 1-3 run without writing anything and the
 * result says what would be published.
 */
#ifndef GM_PUBLISH_H
#define GM_PUBLISH_H

#include "gm/blockstore.h"
#include "gm/cid.h"
#include "gm/gm.h"
#include "gm/keys.h"
#include "gm/manifest.h"
#include "gm/registry.h"

/* Receives one line of progress ("skipped .git/ (always left out)"). */
typedef void (*gm_publish_note_fn)(void *ctx, const char *msg);

struct gm_publish_opts {
	const char *dir;		   /* the package folder */
	const struct gm_key *key;	   /* with its secret (not for dry_run) */
	bool dry_run;
	enum gm_package_kind require_kind; /* GM_PACKAGE_NONE: any kind */
	uint64_t now;			   /* Unix seconds; 0: the clock */
	gm_publish_note_fn note;	   /* may be NULL */
	void *note_ctx;
};

struct gm_publish_result {
	char ns[GM_PACKAGE_NAME_MAX + 1];
	char name[GM_PACKAGE_NAME_MAX + 1];
	char version[GM_SEMVER_MAX_LEN + 1];
	enum gm_package_kind kind;
	struct gm_cid root;	  /* content root */
	struct gm_cid record;	  /* release record (not for dry_run) */
	uint64_t size;		  /* content bytes */
	uint64_t files;		  /* regular files */
	uint64_t blocks;	  /* content blocks */
	uint64_t seq;		  /* the key's release sequence */
	uint64_t skipped;	  /* entries left out */
	bool new_publisher;	  /* a publisher record was made */
};

GM_EXTERN gm_err gm_publish(struct gm_registry *reg, struct gm_store *store,
			    const struct gm_publish_opts *o,
			    struct gm_publish_result *res, struct gm_diag *d);

#endif
