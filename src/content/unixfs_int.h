/*
 * unixfs_int.h - the UnixFS Data protobuf message, shared by the importer
 * and the exporter (implemented in unixfs_import.c).
 *
 * The Data message travels in the Data field of a dag-pb node (ipfs/specs
 * UNIXFS.md); proto2:
 *
 *   | field | name       | wire        | notes                           |
 *   |-------|------------|-------------|---------------------------------|
 *   | 1     | Type       | varint      | required; enum gm_unixfs_type   |
 *   | 2     | Data       | bytes       | inline file bytes               |
 *   | 3     | filesize   | varint      | File/Raw: total bytes below     |
 *   | 4     | blocksizes | varint, rep | bytes below each link, in order |
 *   | 5     | hashType   | varint      | HAMT only                       |
 *   | 6     | fanout     | varint      | HAMT only                       |
 *   | 7     | mode       | varint      | omitted when default            |
 *   | 8     | mtime      | bytes       | UnixTime message                |
 *
 * The encoder writes the fields in this order and only those present, as
 * ipfs-unixfs does. The decoder accepts blocksizes packed or not, skips
 * unknown fields, and refuses truncation, a wrong wire type for a known
 * field, a repeated singular field, groups and a missing Type (GM_EFORMAT).
 */
#ifndef GM_UNIXFS_INT_H
#define GM_UNIXFS_INT_H

#include "gm/buf.h"
#include "gm/unixfs.h"

struct gm__unixfs_data {
	uint64_t type;
	const uint8_t *data; /* points into the decoded input */
	size_t data_len;
	bool has_data;
	uint64_t filesize;
	bool has_filesize;
	uint64_t *blocksizes; /* gm_free'd by gm__unixfs_data_release */
	size_t n_blocksizes;
	uint64_t hashtype;
	bool has_hashtype;
	uint64_t fanout;
	bool has_fanout;
	uint64_t mode;
	bool has_mode;
	bool has_mtime;
};

void gm__unixfs_data_init(struct gm__unixfs_data *u);
void gm__unixfs_data_release(struct gm__unixfs_data *u);
/*
 * Decodes p[0..len) into u (initialized; data points into p). At most
 * max_blocksizes blocksizes entries are accepted (GM_ELIMIT past that).
 */
gm_err gm__unixfs_data_decode(struct gm__unixfs_data *u, const uint8_t *p,
			      size_t len, size_t max_blocksizes,
			      struct gm_diag *d);
/* Appends the encoding of u (fields present as flagged) to out. */
gm_err gm__unixfs_data_encode(const struct gm__unixfs_data *u,
			      struct gm_buf *out);

#endif
