/*
 * unixfs.h - UnixFS import (files and folders to a dag-pb/raw DAG) and
 * export (a DAG back to files and folders), compatible with IPFS.
 *
 * The importer produces exactly the root CID that `ipfs add -r -Q
 * --cid-version=1` (ipfs-unixfs-importer 17 with {cidVersion: 1,
 * rawLeaves: true}) prints:
 *
 *   | input               | DAG                                             |
 *   |---------------------|-------------------------------------------------|
 *   | file, <= 256 KiB    | one raw leaf (CIDv1, codec raw), also if empty  |
 *   | file, > 256 KiB     | 262144-byte raw leaves under a balanced tree of |
 *   |                     | dag-pb File nodes, at most 174 links each       |
 *   | folder              | one dag-pb Directory node, links sorted by name |
 *   |                     | bytes, Tsize = cumulative size of the child DAG |
 *
 * Folders large enough that IPFS would shard them (HAMT) are refused with
 * GM_EUNSUPPORTED rather than given a CID IPFS would not produce. Symlinks,
 * devices, fifos and sockets are refused with GM_EUNSAFE.
 *
 * The exporter verifies every block against its CID before use, checks the
 * DAG for hostile shapes (bad names, size lies, cycles, depth and size bombs)
 * and writes into a temporary sibling of the target that is renamed into
 * place only when everything succeeded.
 */
#ifndef GM_UNIXFS_H
#define GM_UNIXFS_H

#include <sys/stat.h>

#include "gm/block.h"
#include "gm/cid.h"
#include "gm/gm.h"

/* Chunk size of the fixed-size chunker and fan-out of the balanced tree. */
#define GM_UNIXFS_CHUNK 262144
#define GM_UNIXFS_MAX_LINKS 174
/*
 * A folder whose estimated node size (sum over its entries of the UTF-8
 * name length plus the binary CID length) exceeds this is sharded by IPFS.
 */
#define GM_UNIXFS_SHARD_THRESHOLD 262144

/* UnixFS Data.Type values. */
enum gm_unixfs_type {
	GM_UNIXFS_RAW = 0,
	GM_UNIXFS_DIRECTORY = 1,
	GM_UNIXFS_FILE = 2,
	GM_UNIXFS_METADATA = 3,
	GM_UNIXFS_SYMLINK = 4,
	GM_UNIXFS_HAMT_SHARD = 5,
};

/* What an import produced. */
struct gm_unixfs_result {
	struct gm_cid root;
	/* Sum of the sizes of all files imported. */
	uint64_t content_bytes;
	/*
	 * Number of blocks handed to the sink (or that would have been, with a
	 * NULL sink). Every block is counted each time it is produced, so two
	 * identical files count their blocks twice: no de-duplication happens
	 * at this level, as in the reference importer.
	 */
	uint64_t blocks;
	/*
	 * Cumulative size of the DAG: the root block's length plus the Tsize
	 * of each of its links (what a parent link to this root would carry).
	 */
	uint64_t dag_size;
	uint64_t files; /* regular files imported */
	uint64_t dirs;	/* folders imported, the root folder included */
};

/*
 * Decides whether an entry below the imported folder is included. rel is the
 * path relative to that folder with '/' separators ("sub/file.txt"); st is
 * its lstat. Return false to skip the entry (a skipped folder is not
 * descended into). Never called for the root itself.
 */
typedef bool (*gm_unixfs_filter_fn)(void *ctx, const char *rel,
				    const struct stat *st);

struct gm_unixfs_import_opts {
	gm_unixfs_filter_fn filter; /* NULL: include everything */
	void *filter_ctx;
};

/*
 * Imports the file or folder at path. For a folder the root is the folder's
 * own node (no wrapping folder). Blocks go to sink as they are made (NULL:
 * compute the CID only); files are streamed 256 KiB at a time and never held
 * whole in memory. opts may be NULL. Errors: GM_EUNSAFE for a symlink, device,
 * fifo or socket (the diagnostic names the path), GM_EUNSUPPORTED for a
 * folder IPFS would shard or a name that is not valid UTF-8, GM_ELIMIT for a
 * folder tree deeper than 256 levels, errors from the sink as returned,
 * GM_EIO/GM_ENOENT/GM_EPERM from the file system. *out is set on success.
 */
GM_EXTERN gm_err gm_unixfs_import_path(const char *path,
				       const struct gm_block_sink *sink,
				       const struct gm_unixfs_import_opts *opts,
				       struct gm_unixfs_result *out,
				       struct gm_diag *d);

/* Imports len bytes of data as one file (as gm_unixfs_import_path would). */
GM_EXTERN gm_err gm_unixfs_import_bytes(const uint8_t *data, size_t len,
					const struct gm_block_sink *sink,
					struct gm_unixfs_result *out,
					struct gm_diag *d);

/* Bounds for an export; a zero field means the default. */
struct gm_unixfs_limits {
	uint32_t max_depth;   /* DAG depth, default 64 */
	uint64_t max_bytes;   /* total file bytes, default 4 GiB */
	uint64_t max_entries; /* files plus folders, default 1,000,000 */
};

#define GM_UNIXFS_DEFAULT_DEPTH 64
#define GM_UNIXFS_DEFAULT_BYTES (4ull << 30)
#define GM_UNIXFS_DEFAULT_ENTRIES 1000000ull

/*
 * Writes the file or folder tree with the given root to out_path, which must
 * not exist (GM_EEXIST). Each block is fetched from src and checked with
 * gm_cid_verify() before use; file bytes are streamed to disk. Everything is
 * written under a temporary sibling of out_path that is renamed into place
 * only on success, so a failure leaves nothing at out_path. lim may be NULL.
 *
 * Errors (the diagnostic names the entry and what was wrong):
 *   GM_EINTEGRITY   a block does not match its CID
 *   GM_EUNSAFE      a name that is empty, ".", "..", has '/' or NUL, is
 *                   duplicated or equal to another ignoring ASCII case; a
 *                   symlink or metadata node; sizes that disagree; a cycle
 *   GM_EUNSUPPORTED a HAMT-sharded folder, a codec other than raw/dag-pb
 *   GM_ELIMIT       depth, total bytes or entry count over lim
 *   GM_EFORMAT      a malformed block or UnixFS Data message
 *   GM_ENOENT       a block the source does not have
 */
GM_EXTERN gm_err gm_unixfs_export(const struct gm_block_source *src,
				  const struct gm_cid *root,
				  const char *out_path,
				  const struct gm_unixfs_limits *lim,
				  struct gm_diag *d);

#endif
