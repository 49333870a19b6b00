/*
 * car.h - CAR v1 files (Content Addressable aRchives), as @ipld/car and
 * `ipfs dag export` write them: the bundle format for air-gapped sites.
 *
 *   | field        | encoding                                             |
 *   |--------------|------------------------------------------------------|
 *   | header len   | varint (minimal), 1..GM_CAR_MAX_HEADER               |
 *   | header       | DAG-CBOR map {"roots": [CID, ...], "version": 1}     |
 *   | section len  | varint (minimal) = len(CID bytes) + len(data), > 0   |
 *   | section CID  | binary CID (v0: 34-byte multihash; v1)               |
 *   | section data | the block; sections repeat to the end of the file    |
 *
 * The header is canonical DAG-CBOR: a map of exactly two entries whose keys
 * are sorted length first ("roots" then "version"), every integer and
 * length in its shortest form, each root a CBOR tag 42 over a byte string of
 * 0x00 followed by the binary CID. The reader accepts exactly that (and
 * nothing looser), so any CAR it accepts is written back byte for byte by
 * the writer from the same roots and blocks in the same order. Roots may be
 * empty, as @ipld/car allows; there are at most GM_CAR_MAX_ROOTS.
 *
 * The reader is bounded: the header is at most GM_CAR_MAX_HEADER bytes, a
 * section at most GM_CAR_MAX_SECTION, and every block is verified against
 * its CID before it is handed on. CARv2 files (which start with the pragma
 * {"version": 2}) are refused with GM_EUNSUPPORTED.
 */
#ifndef GM_CAR_H
#define GM_CAR_H

#include "gm/block.h"
#include "gm/blockstore.h"
#include "gm/buf.h"
#include "gm/cid.h"
#include "gm/gm.h"

#define GM_CAR_MAX_HEADER (64 * 1024)
#define GM_CAR_MAX_ROOTS 64
#define GM_CAR_MAX_SECTION (GM_BLOCK_MAX + GM_CID_MAX_BYTES)

/* ---- header ---- */

/*
 * Appends varint(length) and the canonical DAG-CBOR header for n roots to
 * out. GM_ELIMIT for more than GM_CAR_MAX_ROOTS roots.
 */
GM_EXTERN gm_err gm_car_header_encode(const struct gm_cid *roots, size_t n,
				      struct gm_buf *out);
/*
 * Decodes the DAG-CBOR header p[0..len) (without its length varint) into
 * roots[GM_CAR_MAX_ROOTS] and *n. GM_EFORMAT (anything but the canonical
 * two-key map), GM_ELIMIT (too many roots), GM_EUNSUPPORTED (a version
 * other than 1; for 2: "CARv2 is not supported; export as CARv1"), each
 * with a diagnostic.
 */
GM_EXTERN gm_err gm_car_header_decode(const uint8_t *p, size_t len,
				      struct gm_cid *roots, size_t *n,
				      struct gm_diag *d);

/* ---- writer ---- */

/*
 * A streaming writer (a value; nothing to release). It writes to fd, or
 * appends to out when fd is -1.
 */
struct gm_car_writer {
	int fd;
	struct gm_buf *out;
	uint64_t size;	 /* bytes written so far */
	uint64_t blocks; /* sections written so far */
};

/* Sets up w to write to fd and writes the header for roots. */
GM_EXTERN gm_err gm_car_writer_init_fd(struct gm_car_writer *w, int fd,
				       const struct gm_cid *roots,
				       size_t n_roots, struct gm_diag *d);
/* Sets up w to append to out and appends the header for roots. */
GM_EXTERN gm_err gm_car_writer_init_buf(struct gm_car_writer *w,
					struct gm_buf *out,
					const struct gm_cid *roots,
					size_t n_roots, struct gm_diag *d);
/*
 * Writes one section: varint(len(CID) + len), the binary CID, the data. The
 * data is written as given (the caller verifies it); GM_ELIMIT for a block
 * over GM_BLOCK_MAX.
 */
GM_EXTERN gm_err gm_car_writer_put(struct gm_car_writer *w,
				   const struct gm_cid *cid,
				   const uint8_t *data, size_t len,
				   struct gm_diag *d);
/* Fills out so that blocks put into it are written by w. */
GM_EXTERN void gm_car_writer_sink(struct gm_car_writer *w,
				  struct gm_block_sink *out);

/* A block for gm_car_write_fd / gm_car_write_buf. */
struct gm_car_block {
	struct gm_cid cid;
	const uint8_t *data;
	size_t len;
};
/* Writes a whole CAR: the header for roots, then blocks in order. */
GM_EXTERN gm_err gm_car_write_fd(int fd, const struct gm_cid *roots,
				 size_t n_roots,
				 const struct gm_car_block *blocks,
				 size_t n_blocks, struct gm_diag *d);
/* As gm_car_write_fd, appending to out. */
GM_EXTERN gm_err gm_car_write_buf(struct gm_buf *out,
				  const struct gm_cid *roots, size_t n_roots,
				  const struct gm_car_block *blocks,
				  size_t n_blocks, struct gm_diag *d);

struct gm_car_export_result {
	uint64_t blocks; /* sections written */
	uint64_t bytes;	 /* block data bytes */
	uint64_t size;	 /* CAR file bytes */
};
/*
 * Exports the DAG of root from src as a CAR with that one root, like
 * `ipfs dag export`: depth first, pre-order, links in order, each CID
 * written once. Every block is verified against its CID. GM_ENOENT naming
 * the CID when a block is missing, GM_EUNSUPPORTED for a codec whose links
 * cannot be read (raw and dag-pb can), GM_EINTEGRITY for a corrupt block.
 * res may be NULL. On error, part of the CAR may have been written.
 */
GM_EXTERN gm_err gm_car_export_fd(const struct gm_block_source *src,
				  const struct gm_cid *root, int fd,
				  struct gm_car_export_result *res,
				  struct gm_diag *d);
/* As gm_car_export_fd, appending to out. */
GM_EXTERN gm_err gm_car_export_buf(const struct gm_block_source *src,
				   const struct gm_cid *root,
				   struct gm_buf *out,
				   struct gm_car_export_result *res,
				   struct gm_diag *d);

/* ---- reader ---- */

struct gm_car_info {
	struct gm_cid roots[GM_CAR_MAX_ROOTS];
	size_t n_roots;
	uint64_t blocks; /* sections read */
	uint64_t bytes;	 /* block data bytes */
	uint64_t size;	 /* CAR bytes read */
};

/*
 * Reads a whole CAR v1 from fd (streaming, any kind of file) and hands
 * every block, verified, to sink (NULL: only check the file). info (may be
 * NULL) gets the roots and counts. Errors name the offset and the CID:
 * GM_EFORMAT (malformed or truncated file, zero-length section, trailing
 * bytes that do not form a section, bad CID), GM_ELIMIT (header or section
 * too large), GM_EINTEGRITY (block does not match its CID),
 * GM_EUNSUPPORTED (CARv2, or a CID we cannot verify), or the sink's error.
 * Blocks before the error have already reached the sink.
 */
GM_EXTERN gm_err gm_car_read_fd(int fd, const struct gm_block_sink *sink,
				struct gm_car_info *info, struct gm_diag *d);
/* As gm_car_read_fd, from the memory p[0..len). */
GM_EXTERN gm_err gm_car_read_mem(const uint8_t *p, size_t len,
				 const struct gm_block_sink *sink,
				 struct gm_car_info *info, struct gm_diag *d);

/* ---- import into the block store ---- */

/* gm_car_import flag: pin every root after a successful import. */
#define GM_CAR_IMPORT_PIN_ROOTS 1u

struct gm_car_import_result {
	struct gm_car_info info; /* roots, blocks, bytes as read */
	uint64_t new_blocks;	 /* blocks the store did not hold before */
	uint64_t new_bytes;	 /* their size */
};
/*
 * Imports the CAR read from fd into s: every block is verified and put; if
 * anything fails (a bad block anywhere in the file, a write error), the
 * blocks this import added are removed again, so the store holds exactly
 * what it held before (blocks present before are never removed), and the
 * error names what was wrong. On success the store is synced (the blocks
 * are durable) and, with GM_CAR_IMPORT_PIN_ROOTS, the roots are pinned.
 * res may be NULL. A crash during an import can leave some new, unpinned
 * blocks, which gm_store_gc() removes.
 */
GM_EXTERN gm_err gm_car_import(struct gm_store *s, int fd, unsigned flags,
			       struct gm_car_import_result *res,
			       struct gm_diag *d);
/* As gm_car_import, opening path. */
GM_EXTERN gm_err gm_car_import_path(struct gm_store *s, const char *path,
				    unsigned flags,
				    struct gm_car_import_result *res,
				    struct gm_diag *d);

#endif
