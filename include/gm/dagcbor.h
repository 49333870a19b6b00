/*
 * dagcbor.h - a strict, bounded codec for the canonical DAG-CBOR subset the
 * signed records use.
 *
 *   | CBOR                     | here                                      |
 *   |--------------------------|-------------------------------------------|
 *   | major 0 / 1              | unsigned / negative integer, shortest head |
 *   | major 2 / 3              | byte string / text string (valid UTF-8)   |
 *   | major 4                  | array, definite length                    |
 *   | major 5                  | map, text keys only, sorted by length     |
 *   |                          | then bytes, no duplicates                 |
 *   | f4 / f5 / f6             | false / true / null                       |
 *   | d8 2a + bytes            | CID: tag 42 over 0x00 + binary CID        |
 *
 * Everything else is refused (GM_EFORMAT): floats, undefined, other simple
 * values, other tags, indefinite lengths, heads longer than needed, keys out
 * of order or repeated, invalid UTF-8, CIDs that do not decode exactly,
 * trailing bytes. Nesting deeper than GM_DAGCBOR_MAX_DEPTH arrays and maps,
 * inputs over GM_DAGCBOR_MAX_INPUT bytes and counts that cannot fit in the
 * remaining input are refused too (GM_ELIMIT for the first two). So a
 * decoded document has exactly one encoding, and gm_dagcbor_encode() of a
 * decoded tree gives the input back byte for byte.
 *
 * Two halves:
 *
 *  - a writer: gm_cbor_put_*() append one item (or one container head) to a
 *    struct gm_buf. The caller writes map keys in canonical order itself;
 *    gm_dagcbor_key_cmp() is the order.
 *  - a tree: gm_dagcbor_decode() checks a whole document and builds a tree
 *    of struct gm_cbor nodes in one allocation owned by a struct
 *    gm_dagcbor_doc. Byte and text strings point into the input, which the
 *    caller keeps alive as long as the document.
 */
#ifndef GM_DAGCBOR_H
#define GM_DAGCBOR_H

#include "gm/buf.h"
#include "gm/cid.h"
#include "gm/gm.h"

/* Most nested arrays and maps (the root container is level 1). */
#define GM_DAGCBOR_MAX_DEPTH 32
/* Largest document gm_dagcbor_decode() reads. */
#define GM_DAGCBOR_MAX_INPUT (16u * 1024 * 1024)

enum gm_cbor_type {
	GM_CBOR_UINT,  /* u is the value */
	GM_CBOR_NINT,  /* the value is -1 - u */
	GM_CBOR_BYTES, /* p, len */
	GM_CBOR_TEXT,  /* p, len: valid UTF-8, not NUL terminated */
	GM_CBOR_ARRAY, /* u items in kids[0..u) */
	GM_CBOR_MAP, /* u entries: kids[2i] the key (text), kids[2i+1] value */
	GM_CBOR_FALSE,
	GM_CBOR_TRUE,
	GM_CBOR_NULL,
	GM_CBOR_CID, /* p, len: the binary CID (after the 0x00 prefix) */
};

/* One node of a decoded tree. */
struct gm_cbor {
	enum gm_cbor_type type;
	uint64_t u;
	const uint8_t *p;
	size_t len;
	struct gm_cbor *kids;
};

/* A decoded document: a value the caller releases. */
struct gm_dagcbor_doc {
	struct gm_cbor *root;
	struct gm_cbor *nodes; /* the one allocation behind root */
	size_t count;	       /* nodes in it */
};

/* Name of a type for messages: "unsigned integer", "map", ... */
GM_EXTERN const char *gm_cbor_type_name(enum gm_cbor_type t);

/*
 * Canonical DAG-CBOR key order: shorter keys first, then bytewise. Returns
 * <0, 0 or >0.
 */
GM_EXTERN int gm_dagcbor_key_cmp(const void *a, size_t alen, const void *b,
				 size_t blen);

/* Whether p[0..len) is valid UTF-8 (no overlongs, surrogates, > U+10FFFF). */
GM_EXTERN bool gm_utf8_valid(const uint8_t *p, size_t len);

/*
 * Writer. Each function appends one item in canonical form to out and
 * returns GM_OK, GM_ENOMEM or GM_ELIMIT (out's limit). gm_cbor_put_array()
 * and gm_cbor_put_map() write only the head: the caller then writes n items
 * (n key/value pairs for a map, keys in gm_dagcbor_key_cmp order).
 * gm_cbor_put_text() does not check UTF-8 (the caller writes its own
 * validated text); gm_cbor_put_key() writes a NUL-terminated key.
 */
GM_EXTERN gm_err gm_cbor_put_uint(struct gm_buf *out, uint64_t v);
/* Writes the negative integer -1 - u. */
GM_EXTERN gm_err gm_cbor_put_nint(struct gm_buf *out, uint64_t u);
GM_EXTERN gm_err gm_cbor_put_bytes(struct gm_buf *out, const void *p,
				   size_t len);
GM_EXTERN gm_err gm_cbor_put_text(struct gm_buf *out, const char *s,
				  size_t len);
GM_EXTERN gm_err gm_cbor_put_key(struct gm_buf *out, const char *key);
GM_EXTERN gm_err gm_cbor_put_array(struct gm_buf *out, uint64_t n);
GM_EXTERN gm_err gm_cbor_put_map(struct gm_buf *out, uint64_t n);
GM_EXTERN gm_err gm_cbor_put_bool(struct gm_buf *out, bool v);
GM_EXTERN gm_err gm_cbor_put_null(struct gm_buf *out);
/* Tag 42 over the byte string 0x00 + the binary CID. */
GM_EXTERN gm_err gm_cbor_put_cid(struct gm_buf *out, const struct gm_cid *c);

/*
 * Checks p[0..len) as one canonical DAG-CBOR item and builds its tree into
 * doc (which need not be initialized; on error it is left empty). Strings
 * in the tree point into p. Errors: GM_EFORMAT with a diagnostic naming the
 * byte offset and what was wrong, GM_ELIMIT (too deep, too large),
 * GM_ENOMEM.
 */
GM_EXTERN gm_err gm_dagcbor_decode(struct gm_dagcbor_doc *doc, const uint8_t *p,
				   size_t len, struct gm_diag *d);
/* Frees the tree; doc is empty afterwards (accepts an empty doc). */
GM_EXTERN void gm_dagcbor_doc_release(struct gm_dagcbor_doc *doc);

/*
 * Appends the encoding of a tree to out. A tree that is not canonical
 * (keys out of order or repeated or not text, a CID that does not decode,
 * text that is not UTF-8, deeper than the limit) is GM_EINVAL and out is
 * left as it was.
 */
GM_EXTERN gm_err gm_dagcbor_encode(const struct gm_cbor *node,
				   struct gm_buf *out, struct gm_diag *d);

/*
 * Value of the entry with the NUL-terminated key in map m; NULL when absent
 * or m is not a map.
 */
GM_EXTERN const struct gm_cbor *gm_cbor_map_get(const struct gm_cbor *m,
						const char *key);
/* Whether text node n equals the NUL-terminated s. */
GM_EXTERN bool gm_cbor_text_is(const struct gm_cbor *n, const char *s);
/* Decodes the CID of a GM_CBOR_CID node (always succeeds on a decoded one). */
GM_EXTERN gm_err gm_cbor_cid(const struct gm_cbor *n, struct gm_cid *out);

#endif
