/*
 * search.h - full-text search over the registry's latest releases.
 *
 * The query text is split into terms by this code (runs of ASCII letters
 * and digits, lowercased, and of non-ASCII bytes; everything else
 * separates), so no FTS5 syntax from the user ever reaches SQLite. Each
 * term of two bytes or more also matches as a prefix ("pars" finds
 * "parser"). English stop words (a, the, for, of, ...) are left out when
 * other terms remain; a query of stop words only matches names. A text
 * "ns/rest" filters on namespace ns and searches rest. A package matches
 * when all terms match one of its name, namespace, keywords or description;
 * when no package does, packages matching any term are returned instead
 * (any_term is then set).
 *
 * Ranking (sort GM_SEARCH_RELEVANCE): packages whose name, or ns/name,
 * equals the query (case-insensitively) come first; then BM25 with field
 * weights name 10, ns 3, keywords 5, description 1. Only the latest
 * version of a package is a result. Filters are exact matches: category
 * and keyword name one entry of the space-separated lists, author one
 * entry of the author list (whole, or its name before " <"), license and
 * kind the whole column. An empty text lists every package that passes the
 * filters (by name for the relevance sort).
 *
 * When nothing matches, up to three "did you mean" package ids are
 * suggested: latest package names within gm_text_suggest_max() edits of
 * the query (spaces read as '-'), taken among names of a close length
 * whose first letter is the query's first or second letter.
 */
#ifndef GM_SEARCH_H
#define GM_SEARCH_H

#include "gm/gm.h"
#include "gm/registry.h"

#define GM_SEARCH_TEXT_MAX 1024 /* query text bytes */
#define GM_SEARCH_TERMS_MAX 16	/* terms in one query */
#define GM_SEARCH_TERM_MAX 64	/* bytes of one term */
#define GM_SEARCH_LIMIT_DEFAULT 20
#define GM_SEARCH_LIMIT_MAX 1000
#define GM_SEARCH_MARKER_MAX 32 /* bytes of a highlight marker */
#define GM_SEARCH_SUGGEST_MAX 3
#define GM_SEARCH_TOTAL_CAP 10000 /* matches counted exactly */

enum gm_search_sort {
	GM_SEARCH_RELEVANCE = 0,
	GM_SEARCH_NAME = 1,   /* by name, then namespace */
	GM_SEARCH_RECENT = 2, /* newest published_at first */
};

/* A query; every pointer may be NULL (no text, no filter, no markers). */
struct gm_search_query {
	const char *text;
	const char *category;
	const char *keyword;
	const char *author;
	const char *license;
	const char *kind;
	enum gm_search_sort sort;
	size_t limit; /* 0: GM_SEARCH_LIMIT_DEFAULT; at most _MAX */
	size_t offset;
	const char *hl_open;  /* highlight markers around matched terms */
	const char *hl_close; /* in the description, e.g. "[" and "]" */
};

struct gm_search_hit {
	int64_t id; /* releases.id */
	const char *ns;
	const char *name;
	const char *version;
	const char *kind;
	const char *description;
	/*
	 * The description with the markers around matched terms; the same
	 * text as description when the query has no markers or no text.
	 */
	const char *highlighted;
	double score; /* BM25 relevance, higher is better; 0 with
			 no text */
	const char *publisher_fingerprint; /* NULL when unsigned */
	enum gm_content_state content_state;
	bool exact;	  /* name or ns/name equals the query */
	uint32_t matched; /* bit i set: terms[i] matched this package */
};

/* A result: everything in it belongs to it (gm_search_result_free). */
struct gm_search_result {
	struct gm_search_hit *hits;
	size_t n;
	/*
	 * Matches before limit/offset, counted up to GM_SEARCH_TOTAL_CAP;
	 * when more match, total is the cap and total_capped is set (show
	 * "10000+"). Pages past the cap are still served.
	 */
	uint64_t total;
	const char **terms; /* the query's terms, lowercased */
	size_t n_terms;
	bool any_term; /* results match some terms, not all */
	const char *suggestions[GM_SEARCH_SUGGEST_MAX]; /* "ns/name" */
	size_t n_suggestions;
	bool total_capped; /* more than GM_SEARCH_TOTAL_CAP matched */
	void *mem_;	   /* private */
};

/*
 * Runs query q on the registry. Errors: GM_ELIMIT for a text over
 * GM_SEARCH_TEXT_MAX bytes, more than GM_SEARCH_TERMS_MAX terms or a term
 * over GM_SEARCH_TERM_MAX bytes, a marker over GM_SEARCH_MARKER_MAX bytes
 * or a limit over GM_SEARCH_LIMIT_MAX; GM_EINVAL for an unknown sort; SQLite
 * failures as in registry.h. No query text, whatever its bytes, makes
 * the call fail with a syntax error. On success free *out with
 * gm_search_result_free (on failure it is empty).
 */
GM_EXTERN gm_err gm_search(struct gm_registry *r,
			   const struct gm_search_query *q,
			   struct gm_search_result *out, struct gm_diag *d);
/* Frees a result (NULL accepted) and empties it. */
GM_EXTERN void gm_search_result_free(struct gm_search_result *res);

/*
 * "Did you mean": up to max (at most GM_SEARCH_SUGGEST_MAX) latest package
 * ids "ns/name" close to text, closest first (ties by name, namespace),
 * into out->suggestions (other fields of out stay empty). Used by
 * gm_search when nothing matches; exposed for the CLI's "not found".
 */
GM_EXTERN gm_err gm_search_suggest(struct gm_registry *r, const char *text,
				   size_t max, struct gm_search_result *out,
				   struct gm_diag *d);

#endif
