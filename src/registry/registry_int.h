/*
 * registry_int.h - shared only by the files of src/registry that work on
 * the registry's SQLite database (registry.c, search.c).
 */
#ifndef GM_REGISTRY_INT_H
#define GM_REGISTRY_INT_H

#include "gm/registry.h"

/*
 * Internal to src/registry (not exported): the SQLite handle for search.c,
 * and the mapping of a SQLite result code to gm_err with its message in d.
 */
struct sqlite3;
struct sqlite3 *gm__registry_db(struct gm_registry *r);
gm_err gm__registry_sqlite_err(struct sqlite3 *db, int rc, struct gm_diag *d,
			       const char *what);
/*
 * A chain of memory blocks for result objects (*mem starts NULL): alloc
 * gives 8-byte aligned memory or NULL, strndup a NUL-terminated copy,
 * free releases every block and sets *mem to NULL.
 */
void *gm__arena_alloc(void **mem, size_t n);
char *gm__arena_strndup(void **mem, const char *s, size_t len);
void gm__arena_free(void **mem);

/*
 * The row that stands for a version in l: the first that is not kept only
 * as equivocation evidence, else the first (NULL for an empty list).
 */
struct gm_release_list;
struct gm_release_row;
const struct gm_release_row *
gm__release_usable_row(const struct gm_release_list *l);

/*
 * Formats a progress note and hands it to fn(ctx, text) (install,
 * publish and bundle take a note callback; fn NULL: nothing).
 */
void gm__note(void (*fn)(void *ctx, const char *msg), void *ctx,
	      const char *fmt, ...) GM_PRINTF(3, 4);

#endif
