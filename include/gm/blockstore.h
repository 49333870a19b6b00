/*
 * blockstore.h - the content-addressed block store on disk.
 *
 * A struct gm_store is an opaque service over one folder (the CLI passes
 * $GGEN_HOME/blocks). The layout is that of IPFS flatfs with the
 * next-to-last/2 sharding kubo uses, so a kubo repository's blocks folder
 * and ours can be read by either:
 *
 *   | path                              | holds                              |
 *   |-----------------------------------|------------------------------------|
 *   | <dir>/SHARDING                    | "/repo/flatfs/shard/v1/next-to-    |
 *   |                                   |  last/2\n"; another value refused  |
 *   | <dir>/<SS>/<KEY>.data             | one block, its raw bytes           |
 *   | <dir>/<SS>/.tmp-<pid>-<n>         | a write in progress (or a crash's  |
 *   |                                   |  leftover: ignored, removed by gc) |
 *   | <dir>/pins/<cid text>             | one recursive pin (file holds the  |
 *   |                                   |  CID text and a newline)           |
 *
 * KEY is the RFC 4648 base32 upper-case encoding, without padding, of the
 * block's multihash bytes (varint code, varint length, digest), as kubo
 * writes since 0.12: the CID's version and codec are not part of the key.
 * SS is the two characters of KEY before its last one. Example: the raw
 * block "hello world\n" has the multihash 1220a948904f...a447, so its file
 * is <dir>/IR/CIQKSSEQJ4XQ6R43R6AZO2KLGAMEWDJO2HA42KQ6YD5YLUUZUGJKIRY.data.
 *
 * Durability: a put writes a temporary file in the shard folder, fsyncs it
 * and renames it into place. The fsync of the shard folders (which makes the
 * renames durable) is batched: the store remembers which folders it touched
 * and fsyncs each once in gm_store_sync(), which gm_store_close() also
 * calls. A caller MUST call gm_store_sync() and check its result before it
 * commits anything that refers to the blocks (a registry row, a pin made
 * elsewhere, a reply to a peer). Pins are written with gm_fs_write_atomic()
 * and are durable when the pin call returns.
 *
 * Every block is verified against its CID when it is put and again when it
 * is read. A store handle is not thread safe.
 */
#ifndef GM_BLOCKSTORE_H
#define GM_BLOCKSTORE_H

#include "gm/block.h"
#include "gm/buf.h"
#include "gm/cid.h"
#include "gm/gm.h"

/* The content of the SHARDING file (without its trailing newline). */
#define GM_STORE_SHARDING "/repo/flatfs/shard/v1/next-to-last/2"
/* Room for any KEY (base32 of the longest multihash) plus NUL. */
#define GM_STORE_KEY_MAX 160

struct gm_store;

/*
 * Opens (creating it and its SHARDING file if needed) the store in dir.
 * GM_ECONFLICT with a diagnostic when dir holds a SHARDING file with another
 * sharding function. On success *out is a new handle for gm_store_close().
 */
GM_EXTERN gm_err gm_store_open(struct gm_store **out, const char *dir,
			       struct gm_diag *d);
/* Syncs (see gm_store_sync) and frees the store; accepts NULL. */
GM_EXTERN void gm_store_close(struct gm_store *s);
/*
 * Makes every put and delete since the last sync durable by fsyncing each
 * touched shard folder once (and the store folder if shards were created).
 */
GM_EXTERN gm_err gm_store_sync(struct gm_store *s, struct gm_diag *d);

/*
 * Writes the store KEY of cid (base32 upper of its multihash) with a NUL
 * into out; returns its length, 0 if cap is too small.
 */
GM_EXTERN size_t gm_store_key(const struct gm_cid *cid, char *out, size_t cap);
/* Path of the file that holds cid's block (gm_free it); NULL on ENOMEM. */
GM_EXTERN char *gm_store_block_path(const struct gm_store *s,
				    const struct gm_cid *cid);

/*
 * Stores a block. The data is first verified against cid (GM_EINTEGRITY
 * with a diagnostic naming both CIDs); a block larger than GM_BLOCK_MAX is
 * GM_ELIMIT. A block already present is left as it is. *added (may be NULL)
 * tells whether a new file was written. Durable after gm_store_sync().
 */
GM_EXTERN gm_err gm_store_put(struct gm_store *s, const struct gm_cid *cid,
			      const uint8_t *data, size_t len, bool *added,
			      struct gm_diag *d);
/*
 * Appends the block of cid to out, after checking it against cid: GM_ENOENT
 * when absent, GM_EINTEGRITY (naming the expected and the actual CID and the
 * file) when the file was corrupted, GM_ELIMIT when the file is larger than
 * GM_BLOCK_MAX or than out allows. out is unchanged on error.
 */
GM_EXTERN gm_err gm_store_get(struct gm_store *s, const struct gm_cid *cid,
			      struct gm_buf *out, struct gm_diag *d);
/* Whether a block with cid's multihash is present (not verified). */
GM_EXTERN bool gm_store_has(struct gm_store *s, const struct gm_cid *cid);
/* Removes the block of cid; GM_ENOENT when absent. Durable after sync. */
GM_EXTERN gm_err gm_store_delete(struct gm_store *s, const struct gm_cid *cid,
				 struct gm_diag *d);

/*
 * Called once for each block in the store, in no particular order. Since
 * keys hold only the multihash, cid is a CIDv1 with the raw codec (0x55) and
 * the block's multihash; size is the file size. A non-zero return stops the
 * iteration and is returned by gm_store_iterate().
 */
typedef gm_err (*gm_store_iter_fn)(void *ctx, const struct gm_cid *cid,
				   uint64_t size);
/*
 * Visits every block. Temporary files and files that are not named like a
 * block of this layout are skipped.
 */
GM_EXTERN gm_err gm_store_iterate(struct gm_store *s, gm_store_iter_fn fn,
				  void *ctx, struct gm_diag *d);

struct gm_store_stat {
	uint64_t blocks; /* number of blocks */
	uint64_t bytes;	 /* sum of their sizes */
	uint64_t pins;	 /* number of pins */
};
/* Counts blocks, bytes and pins (a scan of the folder). */
GM_EXTERN gm_err gm_store_stat(struct gm_store *s, struct gm_store_stat *out,
			       struct gm_diag *d);

/*
 * Called for each corrupt block found by gm_store_verify(): cid as in
 * gm_store_iterate(), key its store KEY, reason one sentence (the actual CID
 * of the content, or why the file could not be read).
 */
typedef void (*gm_store_corrupt_fn)(void *ctx, const struct gm_cid *cid,
				    const char *key, const char *reason);
struct gm_store_verify_result {
	uint64_t checked; /* blocks re-hashed */
	uint64_t corrupt; /* of which corrupt */
};
/*
 * Re-hashes every block and reports each corrupt one (content that does not
 * hash to its KEY, or an unreadable file) through fn (may be NULL). Returns
 * GM_ECORRUPT with a diagnostic when any block is corrupt, GM_OK when all
 * are sound; out (may be NULL) gets the counts either way.
 */
GM_EXTERN gm_err gm_store_verify(struct gm_store *s, gm_store_corrupt_fn fn,
				 void *ctx, struct gm_store_verify_result *out,
				 struct gm_diag *d);

/*
 * Pins cid recursively: gm_store_gc() keeps every block reachable from it.
 * The DAG need not be present yet. Pinning twice is a no-op. Durable on
 * return.
 */
GM_EXTERN gm_err gm_store_pin_add(struct gm_store *s, const struct gm_cid *cid,
				  struct gm_diag *d);
/* Removes the pin of cid (exactly this CID); GM_ENOENT when not pinned. */
GM_EXTERN gm_err gm_store_pin_rm(struct gm_store *s, const struct gm_cid *cid,
				 struct gm_diag *d);
/* Whether cid (exactly this CID, version and codec included) is pinned. */
GM_EXTERN bool gm_store_is_pinned(struct gm_store *s, const struct gm_cid *cid);
/*
 * Lists the pins, sorted by their text form, into a new array *out of *n
 * CIDs (gm_free it; NULL when there are none). Files in pins/ that do not
 * name a CID are skipped.
 */
GM_EXTERN gm_err gm_store_pin_list(struct gm_store *s, struct gm_cid **out,
				   size_t *n, struct gm_diag *d);

struct gm_store_gc_result {
	uint64_t kept;	       /* blocks kept (reachable from a pin) */
	uint64_t removed;      /* blocks removed */
	uint64_t bytes_freed;  /* their total size */
	uint64_t temp_removed; /* leftover temporary files (blocks, pins) */
};
/*
 * Garbage collection: marks every block reachable from a pin (walked with
 * gm_block_links, missing blocks skipped, blocks that do not decode treated
 * as leaves), removes every other block and leftover temporary files, then
 * syncs. out (may be NULL) gets the counts.
 */
GM_EXTERN gm_err gm_store_gc(struct gm_store *s, struct gm_store_gc_result *out,
			     struct gm_diag *d);

/*
 * As gm_store_gc, also keeping every block reachable from roots[0..n):
 * the caller's own record of what it needs (the registry's releases), so
 * that it need not mirror that record in pins.
 */
GM_EXTERN gm_err gm_store_gc_roots(struct gm_store *s,
				   const struct gm_cid *roots, size_t n_roots,
				   struct gm_store_gc_result *out,
				   struct gm_diag *d);

/* Fills out so that puts go to gm_store_put() (verified). */
GM_EXTERN void gm_store_sink(struct gm_store *s, struct gm_block_sink *out);
/* Fills out so that gets come from gm_store_get() (verified). */
GM_EXTERN void gm_store_source(struct gm_store *s, struct gm_block_source *out);

#endif
