/*
 * toml.h - a TOML 1.0.0 reader.
 *
 * gm_toml_parse() turns a document into a tree of values owned by a
 * struct gm_toml_doc (an opaque handle freed with gm_toml_free()). Values are
 * read through the accessors below; all pointers stay valid until the
 * document is freed. Tables keep their keys in the order they were defined.
 * Every value and every key remembers the 1-based line and column where it
 * was defined, so that a caller (the manifest checker) can point at it.
 *
 * Errors: GM_EPARSE with a diagnostic whose line and column point at the
 * offending byte; GM_ELIMIT when the input passes the size, nesting or count
 * limits below. The parser takes (ptr, len) and never reads past len.
 */
#ifndef GM_TOML_H
#define GM_TOML_H

#include "gm/gm.h"

#define GM_TOML_MAX_INPUT (16u * 1024 * 1024)
#define GM_TOML_MAX_DEPTH 128

enum gm_toml_type {
	GM_TOML_STRING,
	GM_TOML_INTEGER,
	GM_TOML_FLOAT,
	GM_TOML_BOOL,
	GM_TOML_DATETIME,       /* offset date-time, e.g. 1979-05-27T07:32:00Z */
	GM_TOML_DATETIME_LOCAL, /* 1979-05-27T07:32:00 */
	GM_TOML_DATE_LOCAL,     /* 1979-05-27 */
	GM_TOML_TIME_LOCAL,     /* 07:32:00 */
	GM_TOML_ARRAY,
	GM_TOML_TABLE,
};

struct gm_toml_doc;
struct gm_toml_value;

GM_EXTERN gm_err gm_toml_parse(struct gm_toml_doc **out, const char *src,
			       size_t len, struct gm_diag *d);
GM_EXTERN void gm_toml_free(struct gm_toml_doc *doc);

/* The root table. */
GM_EXTERN const struct gm_toml_value *
gm_toml_root(const struct gm_toml_doc *doc);

GM_EXTERN enum gm_toml_type gm_toml_type(const struct gm_toml_value *v);
/* Name of a type for messages: "string", "integer", ... */
GM_EXTERN const char *gm_toml_type_name(enum gm_toml_type t);
/* Where v was defined (1-based). */
GM_EXTERN void gm_toml_pos(const struct gm_toml_value *v, uint32_t *line,
			   uint32_t *column);

/* Tables: entries in definition order. */
GM_EXTERN size_t gm_toml_table_len(const struct gm_toml_value *t);
/* Key of entry i (may contain NUL bytes; *len gets its length). */
GM_EXTERN const char *gm_toml_table_key(const struct gm_toml_value *t,
					size_t i, size_t *len);
/* Where the key of entry i was written (1-based). */
GM_EXTERN void gm_toml_table_key_pos(const struct gm_toml_value *t, size_t i,
				     uint32_t *line, uint32_t *column);
GM_EXTERN const struct gm_toml_value *
gm_toml_table_value(const struct gm_toml_value *t, size_t i);
/* Looks up a NUL-terminated key; NULL when absent or t is not a table. */
GM_EXTERN const struct gm_toml_value *
gm_toml_table_get(const struct gm_toml_value *t, const char *key);

/* Arrays. */
GM_EXTERN size_t gm_toml_array_len(const struct gm_toml_value *a);
GM_EXTERN const struct gm_toml_value *
gm_toml_array_get(const struct gm_toml_value *a, size_t i);

/* Scalars; calling an accessor on the wrong type is a programming error. */
GM_EXTERN const char *gm_toml_string(const struct gm_toml_value *v,
				     size_t *len);
GM_EXTERN int64_t gm_toml_integer(const struct gm_toml_value *v);
GM_EXTERN double gm_toml_float(const struct gm_toml_value *v);
GM_EXTERN bool gm_toml_bool(const struct gm_toml_value *v);
/*
 * Date and time values as normalized RFC 3339 text: 'T' separator, upper
 * case 'Z', seconds always present, fraction kept as written.
 */
GM_EXTERN const char *gm_toml_datetime(const struct gm_toml_value *v);

#endif
