/*
 * search.c - full-text search over the registry (see gm/search.h).
 *
 * The index is the FTS5 table release_fts (see registry.c), which holds the
 * latest release of every package only. A query runs in phases:
 *
 *   phase      | what
 *   -----------+-------------------------------------------------------------
 *   terms      | the text split into lowercase terms here; the MATCH
 *              | expression is built from them as "t1"* "t2"* (all terms)
 *              | or "t1"* OR "t2"* (any term), each term quoted, so user
 *              | text is never FTS5 syntax
 *   exact      | relevance sort: ids whose name (or ns/name) equals the
 *              | query, by the releases_name index; they head the list
 *   one pass   | text, offset + limit <= TOPK_MAX: one statement gives the
 *              | page, the total and, for the page's rows, bm25() and
 *              | highlight(); gm_topk (an FTS5 auxiliary function in its
 *              | WHERE) counts the matches and drops those that k rows
 *              | already rank strictly ahead of, so the sorter and
 *              | bm25() / highlight() see a few hundred rows, not every
 *              | match (see "one-pass page" below)
 *   details    | the page's columns and publisher fingerprint by id
 *
 * No text, or a page deeper than TOPK_MAX, takes the older statements:
 *
 *   count      | total matches (with the filters), counting stops one
 *              | past GM_SEARCH_TOTAL_CAP (total_capped: "10000+")
 *   page       | ids of one page, ordered by bm25() (relevance, exact ids
 *              | left out) or by name / published_at, with LIMIT/OFFSET
 *   details    | one statement for the page's hits: the columns, the
 *              | publisher's fingerprint, bm25() and highlight() (computed
 *              | for the page only; "+rowid IN (...)" so the MATCH runs
 *              | once, not once per id)
 *
 * and when nothing matched:
 *
 *   suggest    | "did you mean" candidates from the releases_suggest index
 *              | ((name length, first letter) pairs: each length within
 *              | the edit bound, first letter the query's first or
 *              | second) scored with gm_text_edit_distance, after a cheap
 *              | letter-count lower bound has dropped most of them
 *
 * BM25 weights by column: name 10, ns 3, keywords 5, description 1.
 */
#include "internal.h"

#include <sqlite3.h>

#include "gm/buf.h"
#include "gm/search.h"
#include "registry_int.h"
#include "gm/text.h"

#define BM25 "bm25(release_fts, 10.0, 3.0, 5.0, 1.0)"
#define SQL_MAX 65536

struct qctx {
	const struct gm_search_query *q;
	char terms[GM_SEARCH_TERMS_MAX][GM_SEARCH_TERM_MAX + 1];
	size_t n_terms;
	char lower[GM_SEARCH_TEXT_MAX + 1]; /* trimmed, lowercased text */
	char ns[GM_SEARCH_TERM_MAX + 1];    /* "ns/..." query: ns filter */
	struct gm_buf match;
	bool filtered;
};

static char lc(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool term_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c >= 0x80;
}

static gm_err tokenize(struct qctx *c, const char *text, struct gm_diag *d)
{
	size_t len = text ? strlen(text) : 0, i = 0, a, b;

	if (len > GM_SEARCH_TEXT_MAX)
		return gm_diag_set(d, GM_ELIMIT,
				   "search text is longer than %d bytes",
				   GM_SEARCH_TEXT_MAX);
	a = 0;
	b = len;
	while (a < b && (text[a] == ' ' || text[a] == '\t' || text[a] == '\n'))
		a++;
	while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' ||
			 text[b - 1] == '\n'))
		b--;
	for (i = a; i < b; i++)
		c->lower[i - a] = lc(text[i]);
	c->lower[b - a] = '\0';
	i = 0;
	/* "ns/rest": ns becomes a filter, rest the terms. */
	{
		const char *sl = strchr(c->lower, '/');
		size_t k, nl = sl ? (size_t)(sl - c->lower) : 0;

		for (k = 0; k < nl; k++)
			if (!term_byte((unsigned char)c->lower[k]) &&
			    c->lower[k] != '-' && c->lower[k] != '_')
				break;
		if (nl > 0 && k == nl && nl <= GM_SEARCH_TERM_MAX) {
			memcpy(c->ns, c->lower, nl);
			c->ns[nl] = '\0';
			i = a + nl + 1;
		}
	}
	while (i < len) {
		size_t j = i;

		while (j < len && term_byte((unsigned char)text[j]))
			j++;
		if (j > i) {
			if (c->n_terms == GM_SEARCH_TERMS_MAX)
				return gm_diag_set(d, GM_ELIMIT,
						   "search text has more than "
						   "%d words",
						   GM_SEARCH_TERMS_MAX);
			if (j - i > GM_SEARCH_TERM_MAX)
				return gm_diag_set(d, GM_ELIMIT,
						   "search word '%.20s...' is "
						   "longer than %d bytes",
						   text + i,
						   GM_SEARCH_TERM_MAX);
			for (a = i; a < j; a++)
				c->terms[c->n_terms][a - i] = lc(text[a]);
			c->terms[c->n_terms][j - i] = '\0';
			c->n_terms++;
			i = j;
		} else {
			i++;
		}
	}
	return GM_OK;
}

static bool stopword(const char *t)
{
	static const char *const words[] = {
	    "a",  "an", "and", "as", "at", "by",  "for", "from",
	    "in", "is", "of",  "on", "or", "the", "to",	 "with",
	};
	size_t i;

	for (i = 0; i < GM_ARRAY_LEN(words); i++)
		if (strcmp(t, words[i]) == 0)
			return true;
	return false;
}

/*
 * "t1"* "t2"* or "t1"* OR "t2"*; terms never hold '"'. A one-byte term
 * matches whole words only; stop words are left out when other terms
 * remain, and a query of stop words only looks at names.
 */
static gm_err build_match(struct qctx *c, bool any)
{
	size_t i, n = 0, stops = 0;
	gm_err e = GM_OK;

	for (i = 0; i < c->n_terms; i++)
		stops += stopword(c->terms[i]);
	gm_buf_reset(&c->match);
	if (stops == c->n_terms)
		e = gm_buf_append_str(&c->match, "name : (");
	for (i = 0; i < c->n_terms && !e; i++) {
		if (stops < c->n_terms && stopword(c->terms[i]))
			continue;
		e = gm_buf_printf(&c->match, "%s\"%s\"%s",
				  n == 0 ? ""
				  : any	 ? " OR "
					 : " ",
				  c->terms[i], c->terms[i][1] ? "*" : "");
		n++;
	}
	if (!e && stops == c->n_terms)
		e = gm_buf_append_byte(&c->match, ')');
	return e;
}

static gm_err append_filters(struct qctx *c, struct gm_buf *sql)
{
	const struct gm_search_query *q = c->q;
	gm_err e = GM_OK;

	if (q->category)
		e = gm_buf_append_str(sql,
				      " AND instr(' ' || r.categories || ' ',"
				      " ' ' || :cat || ' ') > 0");
	if (!e && q->keyword)
		e = gm_buf_append_str(sql,
				      " AND instr(' ' || r.keywords || ' ',"
				      " ' ' || :kw || ' ') > 0");
	if (!e && q->author)
		e = gm_buf_append_str(
		    sql, " AND (instr(char(10) || r.authors || char(10),"
			 " char(10) || :au || char(10)) > 0 OR"
			 " instr(char(10) || r.authors,"
			 " char(10) || :au || ' <') > 0)");
	if (!e && q->license)
		e = gm_buf_append_str(sql, " AND r.license = :lic");
	if (!e && q->kind)
		e = gm_buf_append_str(sql, " AND r.kind = :kind");
	if (!e && c->ns[0])
		e = gm_buf_append_str(sql, " AND r.ns = :ns");
	return e;
}

static void bind_named(sqlite3_stmt *st, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i > 0 && v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static void bind_named_int(sqlite3_stmt *st, const char *name, int64_t v)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i > 0)
		sqlite3_bind_int64(st, i, v);
}

static void bind_all(struct qctx *c, sqlite3_stmt *st)
{
	const struct gm_search_query *q = c->q;

	bind_named(st, ":cat", q->category);
	bind_named(st, ":kw", q->keyword);
	bind_named(st, ":au", q->author);
	bind_named(st, ":lic", q->license);
	bind_named(st, ":kind", q->kind);
	if (c->ns[0])
		bind_named(st, ":ns", c->ns);
	if (c->match.len)
		bind_named(st, ":match", (const char *)c->match.data);
}

static gm_err prepare(struct gm_registry *r, struct gm_buf *sql,
		      sqlite3_stmt **st, struct gm_diag *d)
{
	sqlite3 *db = gm__registry_db(r);
	int rc = sqlite3_prepare_v2(db, (const char *)sql->data, (int)sql->len,
				    st, NULL);

	if (rc != SQLITE_OK) {
		*st = NULL;
		return gm__registry_sqlite_err(db, rc, d, "search");
	}
	return GM_OK;
}

static gm_err stepr(struct gm_registry *r, sqlite3_stmt *st, bool *row,
		    struct gm_diag *d)
{
	int rc = sqlite3_step(st);

	*row = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return GM_OK;
	return gm__registry_sqlite_err(gm__registry_db(r), rc, d, "search");
}

/* The FROM/WHERE part shared by count and page queries. */
static gm_err append_from(struct qctx *c, struct gm_buf *sql, bool text,
			  bool need_rows)
{
	gm_err e;

	if (text && !need_rows)
		e = gm_buf_append_str(sql, " FROM release_fts WHERE release_fts"
					   " MATCH :match");
	else if (text)
		e = gm_buf_append_str(sql,
				      " FROM release_fts CROSS JOIN releases r"
				      " ON r.id = release_fts.rowid WHERE"
				      " release_fts MATCH :match");
	else if (c->q->category)
		e = gm_buf_append_str(sql,
				      " FROM releases r INDEXED BY"
				      " releases_categories WHERE"
				      " r.latest = 1 AND r.categories <> ''");
	else
		e = gm_buf_append_str(sql,
				      " FROM releases r INDEXED BY"
				      " releases_latest WHERE r.latest = 1");
	if (!e)
		e = append_filters(c, sql);
	return e;
}

static gm_err count_matches(struct gm_registry *r, struct qctx *c, bool text,
			    uint64_t *total, bool *capped, struct gm_diag *d)
{
	struct gm_buf sql;
	sqlite3_stmt *st = NULL;
	bool row;
	gm_err e;

	gm_buf_init(&sql, SQL_MAX);
	/* Counting stops one past the cap: "10000+" needs no more. */
	e = gm_buf_append_str(&sql, "SELECT count(*) FROM (SELECT 1");
	if (!e)
		e = append_from(c, &sql, text, c->filtered);
	if (!e)
		e = gm_buf_printf(&sql, " LIMIT %d)", GM_SEARCH_TOTAL_CAP + 1);
	if (!e)
		e = prepare(r, &sql, &st, d);
	if (!e) {
		bind_all(c, st);
		e = stepr(r, st, &row, d);
		*total = !e && row ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	}
	*capped = *total > GM_SEARCH_TOTAL_CAP;
	if (*capped)
		*total = GM_SEARCH_TOTAL_CAP;
	sqlite3_finalize(st);
	gm_buf_release(&sql);
	return e;
}

/* Appends ids from st (column 0) to the id list. */
struct idlist {
	int64_t *v;
	size_t n;
	size_t cap;
};

static gm_err ids_push(struct idlist *l, int64_t id)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		int64_t *nv = gm_reallocarray(l->v, cap, sizeof(*nv));

		if (!nv)
			return GM_ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = id;
	return GM_OK;
}

static gm_err run_ids(struct gm_registry *r, struct qctx *c, struct gm_buf *sql,
		      int64_t limit, int64_t offset, struct idlist *out,
		      struct gm_diag *d)
{
	sqlite3_stmt *st = NULL;
	bool row;
	gm_err e;

	e = prepare(r, sql, &st, d);
	if (e)
		return e;
	bind_all(c, st);
	bind_named_int(st, ":limit", limit);
	bind_named_int(st, ":offset", offset);
	bind_named(st, ":name", c->lower);
	for (;;) {
		e = stepr(r, st, &row, d);
		if (e || !row)
			break;
		e = ids_push(out, sqlite3_column_int64(st, 0));
		if (e)
			break;
	}
	sqlite3_finalize(st);
	return e;
}

/* Ids of latest rows whose name or ns/name is the query, with filters. */
static gm_err exact_ids(struct gm_registry *r, struct qctx *c,
			struct idlist *out, struct gm_diag *d)
{
	struct gm_buf sql;
	const char *slash = strchr(c->lower, '/');
	gm_err e;

	if (!c->lower[0])
		return GM_OK;
	gm_buf_init(&sql, SQL_MAX);
	e = gm_buf_append_str(&sql, "SELECT r.id FROM releases r INDEXED BY"
				    " releases_name WHERE r.name = :name AND"
				    " r.latest = 1");
	if (!e)
		e = append_filters(c, &sql);
	if (!e)
		e = gm_buf_append_str(&sql, " ORDER BY r.ns");
	if (!e)
		e = run_ids(r, c, &sql, -1, 0, out, d);
	if (!e && slash) {
		gm_buf_reset(&sql);
		e = gm_buf_append_str(&sql,
				      "SELECT r.id FROM releases r INDEXED BY"
				      " releases_latest WHERE r.ns ="
				      " substr(:name, 1, instr(:name, '/') - 1)"
				      " AND r.name = substr(:name,"
				      " instr(:name, '/') + 1) AND"
				      " r.latest = 1");
		if (!e)
			e = append_filters(c, &sql);
		if (!e)
			e = run_ids(r, c, &sql, -1, 0, out, d);
	}
	gm_buf_release(&sql);
	return e;
}

static gm_err page_ids(struct gm_registry *r, struct qctx *c, bool text,
		       const struct idlist *exact, int64_t limit,
		       int64_t offset, struct idlist *out, struct gm_diag *d)
{
	const struct gm_search_query *q = c->q;
	struct gm_buf sql;
	bool rel = text && q->sort == GM_SEARCH_RELEVANCE;
	size_t i;
	gm_err e;

	gm_buf_init(&sql, SQL_MAX);
	e = gm_buf_append_str(&sql, text ? "SELECT release_fts.rowid"
					 : "SELECT r.id");
	if (!e)
		e = append_from(c, &sql, text, c->filtered || !rel);
	for (i = 0; !e && rel && i < exact->n; i++)
		e = gm_buf_printf(&sql, " AND release_fts.rowid <> %" PRId64,
				  exact->v[i]);
	if (!e) {
		if (rel)
			e = gm_buf_append_str(&sql, " ORDER BY " BM25);
		else if (q->sort == GM_SEARCH_RECENT)
			e = gm_buf_append_str(&sql, " ORDER BY r.published_at"
						    " DESC, r.name, r.ns");
		else
			e = gm_buf_append_str(&sql, " ORDER BY r.name, r.ns");
	}
	if (!e)
		e = gm_buf_append_str(&sql, " LIMIT :limit OFFSET :offset");
	if (!e)
		e = run_ids(r, c, &sql, limit, offset, out, d);
	gm_buf_release(&sql);
	return e;
}

static gm_err col_dup(void **mem, sqlite3_stmt *st, int col, const char **out)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	if (!s) {
		*out = NULL;
		return sqlite3_column_type(st, col) == SQLITE_NULL ? GM_OK
								   : GM_ENOMEM;
	}
	*out = gm__arena_strndup(mem, (const char *)s,
				 (size_t)sqlite3_column_bytes(st, col));
	return *out ? GM_OK : GM_ENOMEM;
}

/* ---- one-pass page ---------------------------------------------------------
 *
 * A text query's page, its total and its scores and highlights come from
 * one statement (one_pass) when offset + limit is at most TOPK_MAX; deeper
 * pages take the count / page / details statements above. The statement
 * calls gm_topk(release_fts, ctx, pass, exact[, published_at, name, ns])
 * in its WHERE clause, an FTS5 auxiliary function that, for each match:
 *
 *   - returns 0 when pass (the filters) is false; else counts the row;
 *   - returns 1 for an exact row (relevance: they head the page);
 *   - returns 0 for a row that k = offset + limit rows already kept rank
 *     strictly ahead of, and 1 for the others.
 *
 * Rows it keeps go on to the SQLite sorter with the same ORDER BY as
 * before, where bm25() and highlight() (about 10 us a row: the row is
 * read and tokenized) are computed, so only for a few hundred rows, not
 * for every match. Dropping a row strictly behind k kept rows never
 * changes the first k rows or their order, ties included (equal rows are
 * kept and the sorter orders them as before, in rowid order).
 *
 *   sort      | key kept in the heap of the k best
 *   ----------+---------------------------------------------------------
 *   relevance | bm25()'s sum, from the row's instances (xInst) and size
 *             | (xColumnSize); a row is dropped when below the k-th by
 *             | more than TOPK_SLACK (relative), far above any rounding
 *             | difference from bm25()'s own sum. The size is looked up
 *             | only when the sum with the smallest size the instances
 *             | allow (a column holds its last matched token) is not
 *             | already too low. With one phrase the IDF factor is the
 *             | same for all rows and left out.
 *   name      | (name, ns), compared as SQLite's BINARY collation
 *   recent    | (published_at descending, name, ns)
 */
#define TOPK_PTR "gm_search_topk"
#define TOPK_MAX 2000 /* offset + limit served by one_pass */

/*
 * Pages with offset + limit above this take the older statements; a test
 * hook (tests set it to 0 to compare both paths), TOPK_MAX otherwise.
 */
extern int64_t gm__search_one_pass_max;
int64_t gm__search_one_pass_max = TOPK_MAX;

#define TOPK_SLACK 1e-9 /* relative */
#define KEY_MAX 128	/* name or ns bytes kept in a sort key */
#define BM25_K1 1.2
#define BM25_B 0.75
#define FTS_COLS 4

static const double bm25_weight[FTS_COLS] = {10.0, 3.0, 5.0, 1.0};

struct skey {
	int64_t pub;
	uint8_t nl, sl;
	char name[KEY_MAX];
	char ns[KEY_MAX];
};

struct topk {
	enum gm_search_sort sort;
	uint64_t total; /* rows passing the filters */
	size_t k;
	size_t n;
	double *heap;	   /* relevance: min-heap of the k best sums */
	struct skey *keys; /* name, recent: max-heap of the k best keys */
	bool ready;
	bool prune; /* false: every passing row is kept */
	int n_phrase;
	double avgdl;
	double idf[GM_SEARCH_TERMS_MAX];
};

/* Natural log of x > 0, to about 1e-16 relative (no libm here). */
static double ln_pos(double x)
{
	static const double ln2 = 0.69314718055994530942;
	double z, z2, term, sum = 0;
	int e = 0, i;

	if (!(x > 0.0) || x > 1e300)
		return 0.0; /* not reached: rows >= hits; idf is then 1e-6 */
	while (x >= 2.0) {
		x /= 2.0;
		e++;
	}
	while (x < 1.0) {
		x *= 2.0;
		e--;
	}
	/* ln(x) = 2 atanh(z), z = (x - 1) / (x + 1) <= 1/3 */
	z = (x - 1.0) / (x + 1.0);
	z2 = z * z;
	term = z;
	for (i = 1; i < 80; i += 2) {
		sum += term / i;
		term *= z2;
	}
	return 2.0 * sum + e * ln2;
}

static int count_cb(const Fts5ExtensionApi *api, Fts5Context *fts, void *p)
{
	(void)api;
	(void)fts;
	(*(int64_t *)p)++;
	return SQLITE_OK;
}

/* As bm25(): average row size and, with phrases > 1, their IDF. */
static int topk_setup(const Fts5ExtensionApi *api, Fts5Context *fts,
		      struct topk *t)
{
	sqlite3_int64 rows = 0, tokens = 0;
	int rc, i;

	t->ready = true;
	t->n_phrase = api->xPhraseCount(fts);
	t->prune = t->n_phrase >= 1 && t->n_phrase <= GM_SEARCH_TERMS_MAX;
	if (!t->prune)
		return SQLITE_OK;
	rc = api->xRowCount(fts, &rows);
	if (rc == SQLITE_OK)
		rc = api->xColumnTotalSize(fts, -1, &tokens);
	if (rc != SQLITE_OK)
		return rc;
	if (rows <= 0) {
		t->prune = false;
		return SQLITE_OK;
	}
	t->avgdl = (double)tokens / (double)rows;
	t->idf[0] = 1.0;
	for (i = 0; t->n_phrase > 1 && i < t->n_phrase; i++) {
		int64_t hits = 0;
		double idf;

		rc = api->xQueryPhrase(fts, i, &hits, count_cb);
		if (rc != SQLITE_OK)
			return rc;
		idf = ln_pos(((double)rows - (double)hits + 0.5) /
			     ((double)hits + 0.5));
		t->idf[i] = idf <= 0.0 ? 1e-6 : idf;
	}
	return SQLITE_OK;
}

/* bm25()'s sum for phrase frequencies f and a row of tokens tokens. */
static double bm25_sum(const struct topk *t, const double *f, int tokens)
{
	double s = 0, dl = (double)tokens;
	int i;

	for (i = 0; i < t->n_phrase; i++)
		s += t->idf[i] *
		     ((f[i] * (BM25_K1 + 1.0)) /
		      (f[i] + BM25_K1 * (1 - BM25_B + BM25_B * dl / t->avgdl)));
	return s;
}

static void swap_d(double *a, double *b)
{
	double x = *a;

	*a = *b;
	*b = x;
}

/* Whether a row of sum s may be among the k best; keeps the heap. */
static bool offer_sum(struct topk *t, double s)
{
	size_t i = t->n, m;

	if (t->n < t->k) {
		t->heap[t->n++] = s;
		for (; i > 0 && t->heap[(i - 1) / 2] > t->heap[i];
		     i = (i - 1) / 2)
			swap_d(&t->heap[i], &t->heap[(i - 1) / 2]);
		return true;
	}
	if (t->k == 0 || s < t->heap[0] - t->heap[0] * TOPK_SLACK)
		return false;
	if (s <= t->heap[0])
		return true;
	t->heap[0] = s;
	for (i = 0;; i = m) {
		size_t l = 2 * i + 1;

		m = i;
		if (l < t->n && t->heap[l] < t->heap[m])
			m = l;
		if (l + 1 < t->n && t->heap[l + 1] < t->heap[m])
			m = l + 1;
		if (m == i)
			break;
		swap_d(&t->heap[i], &t->heap[m]);
	}
	return true;
}

static void rank_row(const Fts5ExtensionApi *api, Fts5Context *fts,
		     sqlite3_context *sc, struct topk *t)
{
	double f[GM_SEARCH_TERMS_MAX];
	int rc = SQLITE_OK, i, n = 0, tokens = 0, seen[FTS_COLS] = {0};

	if (!t->ready)
		rc = topk_setup(api, fts, t);
	if (rc == SQLITE_OK && !t->prune) {
		sqlite3_result_int(sc, 1);
		return;
	}
	for (i = 0; i < t->n_phrase; i++)
		f[i] = 0;
	if (rc == SQLITE_OK)
		rc = api->xInstCount(fts, &n);
	for (i = 0; rc == SQLITE_OK && i < n; i++) {
		int ip, ic, io;

		rc = api->xInst(fts, i, &ip, &ic, &io);
		if (rc != SQLITE_OK || ip < 0 || ip >= t->n_phrase)
			continue;
		f[ip] += ic >= 0 && ic < FTS_COLS ? bm25_weight[ic] : 1.0;
		if (ic >= 0 && ic < FTS_COLS && io >= seen[ic])
			seen[ic] = io + 1;
	}
	/* The sum falls as the row grows: an upper bound first. */
	for (i = 0; i < FTS_COLS; i++)
		tokens += seen[i];
	if (rc == SQLITE_OK && t->n == t->k && t->k &&
	    bm25_sum(t, f, tokens) < t->heap[0] - t->heap[0] * TOPK_SLACK) {
		sqlite3_result_int(sc, 0);
		return;
	}
	if (rc == SQLITE_OK)
		rc = api->xColumnSize(fts, -1, &tokens);
	if (rc != SQLITE_OK) {
		sqlite3_result_error_code(sc, rc);
		return;
	}
	sqlite3_result_int(sc, offer_sum(t, bm25_sum(t, f, tokens)));
}

/* memcmp, then length: SQLite's BINARY collation. */
static int bincmp(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

/* < 0 when a comes first in the sort. */
static int key_cmp(enum gm_search_sort sort, const struct skey *a,
		   const struct skey *b)
{
	int c;

	if (sort == GM_SEARCH_RECENT && a->pub != b->pub)
		return a->pub > b->pub ? -1 : 1;
	c = bincmp(a->name, a->nl, b->name, b->nl);
	return c ? c : bincmp(a->ns, a->sl, b->ns, b->sl);
}

static void swap_k(struct skey *a, struct skey *b)
{
	struct skey x = *a;

	*a = *b;
	*b = x;
}

/* Whether a row of key *r may be among the k first; keeps the heap. */
static bool offer_key(struct topk *t, const struct skey *r)
{
	struct skey *h = t->keys;
	size_t i = t->n, m;
	int cmp;

	if (t->n < t->k) {
		h[t->n++] = *r;
		for (; i > 0 && key_cmp(t->sort, &h[(i - 1) / 2], &h[i]) < 0;
		     i = (i - 1) / 2)
			swap_k(&h[i], &h[(i - 1) / 2]);
		return true;
	}
	if (t->k == 0)
		return false;
	cmp = key_cmp(t->sort, r, &h[0]);
	if (cmp > 0)
		return false;
	if (cmp == 0)
		return true;
	h[0] = *r;
	for (i = 0;; i = m) {
		size_t l = 2 * i + 1;

		m = i;
		if (l < t->n && key_cmp(t->sort, &h[l], &h[m]) > 0)
			m = l;
		if (l + 1 < t->n && key_cmp(t->sort, &h[l + 1], &h[m]) > 0)
			m = l + 1;
		if (m == i)
			break;
		swap_k(&h[i], &h[m]);
	}
	return true;
}

/* A key from (published_at, name, ns); false when it cannot be one. */
static bool read_key(sqlite3_value **v, struct skey *k)
{
	const char *name = (const char *)sqlite3_value_text(v[1]);
	const char *ns = (const char *)sqlite3_value_text(v[2]);
	size_t nl = (size_t)sqlite3_value_bytes(v[1]);
	size_t sl = (size_t)sqlite3_value_bytes(v[2]);

	if (sqlite3_value_type(v[0]) != SQLITE_INTEGER ||
	    sqlite3_value_type(v[1]) != SQLITE_TEXT ||
	    sqlite3_value_type(v[2]) != SQLITE_TEXT || !name || !ns ||
	    nl > KEY_MAX || sl > KEY_MAX)
		return false;
	k->pub = sqlite3_value_int64(v[0]);
	k->nl = (uint8_t)nl;
	k->sl = (uint8_t)sl;
	memcpy(k->name, name, nl);
	memcpy(k->ns, ns, sl);
	return true;
}

static void topk_fn(const Fts5ExtensionApi *api, Fts5Context *fts,
		    sqlite3_context *sc, int argc, sqlite3_value **argv)
{
	struct topk *t = argc == 3 || argc == 6
			     ? sqlite3_value_pointer(argv[0], TOPK_PTR)
			     : NULL;
	struct skey key;

	if (!t || (argc == 6) != (t->sort != GM_SEARCH_RELEVANCE)) {
		sqlite3_result_error(sc, "gm_topk: bad arguments", -1);
		return;
	}
	if (!sqlite3_value_int(argv[1])) {
		sqlite3_result_int(sc, 0);
		return;
	}
	t->total++;
	if (sqlite3_value_int(argv[2]))
		sqlite3_result_int(sc, 1);
	else if (t->sort == GM_SEARCH_RELEVANCE)
		rank_row(api, fts, sc, t);
	else if (!read_key(argv + 3, &key))
		sqlite3_result_int(sc, 1);
	else
		sqlite3_result_int(sc, offer_key(t, &key));
}

/* Registers gm_topk with this connection's FTS5. */
static int topk_register(sqlite3 *db)
{
	fts5_api *api = NULL;
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
	sqlite3_step(st);
	rc = sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return rc;
	if (!api || api->iVersion < 2)
		return SQLITE_ERROR;
	return api->xCreateFunction(api, "gm_topk", NULL, topk_fn, NULL);
}

/*
 * prepare() for a statement calling gm_topk: the first one on a connection
 * fails with "no such function", registers it and prepares again.
 */
static gm_err prepare_topk(struct gm_registry *r, struct gm_buf *sql,
			   sqlite3_stmt **st, struct gm_diag *d)
{
	sqlite3 *db = gm__registry_db(r);
	int rc = sqlite3_prepare_v2(db, (const char *)sql->data, (int)sql->len,
				    st, NULL);

	if (rc == SQLITE_ERROR &&
	    strstr(sqlite3_errmsg(db), "no such function: gm_topk")) {
		rc = topk_register(db);
		if (rc != SQLITE_OK)
			return gm__registry_sqlite_err(db, rc, d, "search");
		return prepare(r, sql, st, d);
	}
	if (rc != SQLITE_OK) {
		*st = NULL;
		return gm__registry_sqlite_err(db, rc, d, "search");
	}
	return GM_OK;
}

/* One row of one_pass: its id, -bm25() and highlighted description. */
struct ranked {
	int64_t id;
	double score;
	const char *hl;
};

/*
 * Whether fewer than CAT_FEW latest releases have categories at all: then
 * a category filter is tested first against that set, read once from the
 * releases_categories index, instead of on every match's releases row.
 */
#define CAT_FEW 4096

static gm_err few_categorized(struct gm_registry *r, bool *few,
			      struct gm_diag *d)
{
	struct gm_buf sql;
	sqlite3_stmt *st = NULL;
	bool row;
	gm_err e;

	gm_buf_init(&sql, SQL_MAX);
	e = gm_buf_printf(&sql,
			  "SELECT count(*) FROM (SELECT 1 FROM releases"
			  " INDEXED BY releases_categories WHERE latest = 1"
			  " AND categories <> '' LIMIT %d)",
			  CAT_FEW);
	if (!e)
		e = prepare(r, &sql, &st, d);
	if (!e)
		e = stepr(r, st, &row, d);
	*few = !e && row && sqlite3_column_int64(st, 0) < CAT_FEW;
	sqlite3_finalize(st);
	gm_buf_release(&sql);
	return e;
}

static gm_err one_pass_sql(struct qctx *c, const struct idlist *exact,
			   int64_t rows, bool cat_first, struct gm_buf *sql)
{
	const struct gm_search_query *q = c->q;
	bool rel = q->sort == GM_SEARCH_RELEVANCE;
	struct gm_buf ex;
	size_t i;
	gm_err e;

	gm_buf_init(&ex, SQL_MAX);
	e = gm_buf_append_str(&ex, "release_fts.rowid IN (");
	for (i = 0; !e && i < exact->n; i++)
		e = gm_buf_printf(&ex, "%s%" PRId64, i ? ", " : "",
				  exact->v[i]);
	if (!e)
		e = gm_buf_append_byte(&ex, ')');
	if (!e)
		e = gm_buf_printf(sql,
				  "SELECT release_fts.rowid, " BM25 " AS s, %s,"
				  " %.*s AS x FROM release_fts",
				  q->hl_open && q->hl_close
				      ? "highlight(release_fts, 3, :ho, :hc)"
				      : "NULL",
				  (int)ex.len, (const char *)ex.data);
	if (!e && (c->filtered || !rel))
		e = gm_buf_append_str(sql, " CROSS JOIN releases r"
					   " ON r.id = release_fts.rowid");
	if (!e)
		e = gm_buf_append_str(sql,
				      " WHERE release_fts MATCH :match AND");
	/* Implied by the category filter (pass), so the same rows pass. */
	if (!e && cat_first)
		e = gm_buf_append_str(
		    sql, " release_fts.rowid IN (SELECT id FROM releases"
			 " INDEXED BY releases_categories WHERE latest = 1 AND"
			 " categories <> '' AND instr(' ' || categories ||"
			 " ' ', ' ' || :cat || ' ') > 0) AND");
	if (!e)
		e = gm_buf_append_str(sql, " gm_topk(release_fts, :topk, (1");
	if (!e)
		e = append_filters(c, sql);
	if (!e)
		e = gm_buf_printf(sql, "), %.*s%s) ORDER BY x DESC, ",
				  (int)ex.len, (const char *)ex.data,
				  rel ? "" : ", r.published_at, r.name, r.ns");
	if (!e)
		e = gm_buf_append_str(sql,
				      rel ? "s"
				      : q->sort == GM_SEARCH_RECENT
					  ? "r.published_at DESC, r.name, r.ns"
					  : "r.name, r.ns");
	if (!e)
		e = gm_buf_printf(sql, " LIMIT %" PRId64, rows);
	gm_buf_release(&ex);
	return e;
}

/*
 * One statement for the page (see above): exact_out[i] gets the row of
 * exact->v[i] (id 0 when it is no match), page_out the rows offset ..
 * offset + limit - 1 after the exact ones, *total the matches.
 */
static gm_err one_pass(struct gm_registry *r, struct qctx *c,
		       const struct idlist *exact, int64_t limit,
		       int64_t offset, struct ranked *exact_out,
		       struct ranked *page_out, size_t *n_page, uint64_t *total,
		       void **mem, struct gm_diag *d)
{
	const struct gm_search_query *q = c->q;
	bool marks = q->hl_open && q->hl_close;
	struct topk t;
	struct gm_buf sql;
	sqlite3_stmt *st = NULL;
	int64_t skip = offset;
	size_t i;
	bool row, cat_first = false;
	gm_err e;

	memset(&t, 0, sizeof(t));
	t.sort = q->sort;
	t.k = (size_t)(limit + offset);
	*n_page = 0;
	if (t.k && t.sort == GM_SEARCH_RELEVANCE)
		t.heap = gm_reallocarray(NULL, t.k, sizeof(*t.heap));
	else if (t.k)
		t.keys = gm_reallocarray(NULL, t.k, sizeof(*t.keys));
	if (t.k && !t.heap && !t.keys)
		return GM_ENOMEM;
	gm_buf_init(&sql, SQL_MAX);
	e = q->category ? few_categorized(r, &cat_first, d) : GM_OK;
	if (!e)
		e = one_pass_sql(c, exact, (int64_t)exact->n + limit + offset,
				 cat_first, &sql);
	if (!e)
		e = prepare_topk(r, &sql, &st, d);
	gm_buf_release(&sql);
	if (e)
		goto out_free;
	bind_all(c, st);
	if (marks) {
		bind_named(st, ":ho", q->hl_open);
		bind_named(st, ":hc", q->hl_close);
	}
	sqlite3_bind_pointer(st, sqlite3_bind_parameter_index(st, ":topk"), &t,
			     TOPK_PTR, NULL);
	for (i = 0; i < exact->n; i++)
		exact_out[i].id = 0;
	for (;;) {
		struct ranked *o = NULL;
		int64_t id;

		e = stepr(r, st, &row, d);
		if (e || !row)
			break;
		id = sqlite3_column_int64(st, 0);
		if (sqlite3_column_int(st, 3)) {
			for (i = 0; i < exact->n && exact->v[i] != id; i++)
				;
			if (i < exact->n)
				o = &exact_out[i];
		} else if (skip > 0) {
			skip--;
		} else if (*n_page < (size_t)limit) {
			o = &page_out[(*n_page)++];
		}
		if (!o)
			continue;
		o->id = id;
		o->score = -sqlite3_column_double(st, 1);
		o->hl = NULL;
		if (marks)
			e = col_dup(mem, st, 2, &o->hl);
		if (e)
			break;
	}
out_free:
	sqlite3_finalize(st);
	gm_free(t.heap);
	gm_free(t.keys);
	*total = t.total;
	return e;
}

/* Whether some word of s (len bytes) starts with term (lowercase). */
static bool has_prefix_word(const char *s, size_t len, const char *term)
{
	size_t tl = strlen(term), i = 0;

	while (i < len) {
		size_t j = i, k;

		while (j < len && term_byte((unsigned char)s[j]))
			j++;
		if (j - i >= tl) {
			for (k = 0; k < tl; k++)
				if (lc(s[i + k]) != term[k])
					break;
			if (k == tl)
				return true;
		}
		i = j + 1;
	}
	return false;
}

static uint32_t matched_terms(const struct qctx *c, const char *const fields[4])
{
	uint32_t m = 0;
	size_t i, f;

	for (i = 0; i < c->n_terms; i++)
		for (f = 0; f < 4; f++)
			if (fields[f] &&
			    has_prefix_word(fields[f], strlen(fields[f]),
					    c->terms[i])) {
				m |= (uint32_t)1 << i;
				break;
			}
	return m;
}

/*
 * The page's hits, in the order of ids. With rk (ids from one_pass),
 * score and highlight come from rk and the rows from releases; else, for
 * text, from one more pass of the MATCH.
 */
static gm_err fill_hits(struct gm_registry *r, struct qctx *c, bool text,
			const struct idlist *ids, const struct ranked *rk,
			struct gm_search_result *out, struct gm_diag *d)
{
	const struct gm_search_query *q = c->q;
	bool fts = text && !rk;
	bool marks = fts && q->hl_open && q->hl_close;
	struct gm_buf sql;
	sqlite3_stmt *st = NULL;
	size_t i;
	gm_err e;

	if (ids->n == 0)
		return GM_OK;
	out->hits = gm__arena_alloc(&out->mem_, ids->n * sizeof(*out->hits));
	if (!out->hits)
		return GM_ENOMEM;
	memset(out->hits, 0, ids->n * sizeof(*out->hits));
	gm_buf_init(&sql, SQL_MAX);
	e = gm_buf_append_str(&sql,
			      "SELECT r.id, r.ns, r.name, r.version, r.kind,"
			      " r.description, p.fingerprint, r.content_state,"
			      " r.keywords");
	if (!e && fts)
		e = gm_buf_printf(&sql, ", %s, %s", BM25,
				  marks ? "highlight(release_fts, 3, :ho, :hc)"
					: "NULL");
	if (!e && fts)
		e = gm_buf_append_str(
		    &sql, " FROM release_fts CROSS JOIN releases r ON"
			  " r.id = release_fts.rowid LEFT JOIN"
			  " publishers p ON p.key = r.publisher"
			  " WHERE release_fts MATCH :match AND"
			  " +release_fts.rowid IN (");
	else if (!e)
		e = gm_buf_append_str(
		    &sql, " FROM releases r LEFT JOIN publishers p"
			  " ON p.key = r.publisher WHERE r.id IN (");
	/*
	 * One statement for the page, and "+rowid" so that the MATCH is
	 * evaluated once and the ids filter its rows: as an index constraint
	 * SQLite would run the MATCH (prefix merges included) once per id.
	 */
	for (i = 0; i < ids->n && !e; i++)
		e = gm_buf_printf(&sql, "%s%" PRId64, i ? ", " : "", ids->v[i]);
	if (!e)
		e = gm_buf_append_byte(&sql, ')');
	if (!e)
		e = prepare(r, &sql, &st, d);
	gm_buf_release(&sql);
	if (e)
		return e;
	bind_all(c, st);
	if (marks) {
		bind_named(st, ":ho", q->hl_open);
		bind_named(st, ":hc", q->hl_close);
	}
	for (;;) {
		struct gm_search_hit *h;
		const char *fields[4];
		int64_t id;
		bool row;

		e = stepr(r, st, &row, d);
		if (e || !row)
			break;
		id = sqlite3_column_int64(st, 0);
		for (i = 0; i < ids->n && ids->v[i] != id; i++)
			;
		if (i == ids->n || out->hits[i].name)
			continue;
		h = &out->hits[i];
		h->id = id;
		h->content_state =
		    (enum gm_content_state)sqlite3_column_int(st, 7);
		e = col_dup(&out->mem_, st, 1, &h->ns);
		if (!e)
			e = col_dup(&out->mem_, st, 2, &h->name);
		if (!e)
			e = col_dup(&out->mem_, st, 3, &h->version);
		if (!e)
			e = col_dup(&out->mem_, st, 4, &h->kind);
		if (!e)
			e = col_dup(&out->mem_, st, 5, &h->description);
		if (!e)
			e = col_dup(&out->mem_, st, 6,
				    &h->publisher_fingerprint);
		if (!e && marks)
			e = col_dup(&out->mem_, st, 10, &h->highlighted);
		if (rk)
			h->highlighted = rk[i].hl;
		if (!e && !h->highlighted)
			h->highlighted = h->description;
		if (e)
			break;
		if (fts)
			h->score = -sqlite3_column_double(st, 9);
		else if (rk)
			h->score = rk[i].score;
		h->exact = strcmp(h->name, c->lower) == 0;
		if (!h->exact) {
			size_t nl = strlen(h->ns);

			h->exact = strncmp(c->lower, h->ns, nl) == 0 &&
				   c->lower[nl] == '/' &&
				   strcmp(c->lower + nl + 1, h->name) == 0;
		}
		fields[0] = h->name;
		fields[1] = h->ns;
		fields[2] = (const char *)sqlite3_column_text(st, 8);
		fields[3] = h->description;
		h->matched = matched_terms(c, fields);
	}
	sqlite3_finalize(st);
	/* Keep the page order, closing gaps left by vanished rows. */
	for (i = 0; i < ids->n && !e; i++)
		if (out->hits[i].name)
			out->hits[out->n++] = out->hits[i];
	return e;
}

static void cap_total(struct gm_search_result *out, uint64_t n)
{
	out->total_capped = n > GM_SEARCH_TOTAL_CAP;
	out->total = out->total_capped ? GM_SEARCH_TOTAL_CAP : n;
}

/*
 * Text, page within TOPK_MAX: exact rows (relevance), the page's rows and
 * the total from one_pass, the rest of the hits from releases by id.
 */
static gm_err run_ranked(struct gm_registry *r, struct qctx *c,
			 const struct idlist *exact, int64_t limit,
			 int64_t offset, struct gm_search_result *out,
			 struct gm_diag *d)
{
	struct ranked *ex = NULL, *pg = NULL, *rk = NULL;
	struct idlist page = {0};
	int64_t lim = limit, off = offset;
	uint64_t total = 0;
	size_t n_pg = 0, i;
	gm_err e = GM_OK;

	/* The page: exact rows first, then the ranked rest. */
	while (off < (int64_t)exact->n && lim > 0) {
		off++;
		lim--;
	}
	off -= (int64_t)exact->n;
	if (off < 0)
		off = 0;
	ex = gm_reallocarray(NULL, exact->n + 1, sizeof(*ex));
	pg = gm_reallocarray(NULL, (size_t)lim + 1, sizeof(*pg));
	rk = gm_reallocarray(NULL, exact->n + (size_t)lim + 1, sizeof(*rk));
	if (!ex || !pg || !rk) {
		e = GM_ENOMEM;
		goto out_free;
	}
	e = build_match(c, false);
	if (!e)
		e = one_pass(r, c, exact, lim, off, ex, pg, &n_pg, &total,
			     &out->mem_, d);
	if (!e && total == 0 && c->n_terms > 1) {
		out->any_term = true;
		e = build_match(c, true);
		if (!e)
			e = one_pass(r, c, exact, lim, off, ex, pg, &n_pg,
				     &total, &out->mem_, d);
	}
	cap_total(out, total);
	if (e || total == 0)
		goto out_free;
	/* Exact rows that are no match vanish, as in fill_hits. */
	for (i = (size_t)offset;
	     i < exact->n && i < (size_t)offset + (size_t)limit && !e; i++)
		if (ex[i].id) {
			rk[page.n] = ex[i];
			e = ids_push(&page, ex[i].id);
		}
	for (i = 0; i < n_pg && !e; i++) {
		rk[page.n] = pg[i];
		e = ids_push(&page, pg[i].id);
	}
	if (!e)
		e = fill_hits(r, c, true, &page, rk, out, d);
out_free:
	gm_free(ex);
	gm_free(pg);
	gm_free(rk);
	gm_free(page.v);
	return e;
}

static gm_err run_query(struct gm_registry *r, struct qctx *c,
			struct gm_search_result *out, struct gm_diag *d)
{
	const struct gm_search_query *q = c->q;
	struct idlist exact = {0}, page = {0};
	bool text = c->n_terms > 0;
	bool rel = text && q->sort == GM_SEARCH_RELEVANCE;
	int64_t limit =
	    (int64_t)(q->limit ? q->limit : GM_SEARCH_LIMIT_DEFAULT);
	int64_t offset = (int64_t)q->offset;
	gm_err e = GM_OK;

	if (text && limit + offset <= gm__search_one_pass_max) {
		if (rel)
			e = exact_ids(r, c, &exact, d);
		if (!e)
			e = run_ranked(r, c, &exact, limit, offset, out, d);
		gm_free(exact.v);
		return e;
	}
	if (text) {
		e = build_match(c, false);
		if (!e)
			e = count_matches(r, c, true, &out->total,
					  &out->total_capped, d);
		if (!e && out->total == 0 && c->n_terms > 1) {
			out->any_term = true;
			e = build_match(c, true);
			if (!e)
				e = count_matches(r, c, true, &out->total,
						  &out->total_capped, d);
		}
	} else {
		e = count_matches(r, c, false, &out->total, &out->total_capped,
				  d);
	}
	if (e || out->total == 0)
		goto out_free;
	if (rel)
		e = exact_ids(r, c, &exact, d);
	if (e)
		goto out_free;
	/* The page: exact ids first, then the ranked rest. */
	while (offset < (int64_t)exact.n && limit > 0) {
		e = ids_push(&page, exact.v[offset]);
		if (e)
			goto out_free;
		offset++;
		limit--;
	}
	offset -= (int64_t)exact.n;
	if (offset < 0)
		offset = 0;
	if (limit > 0)
		e = page_ids(r, c, text, &exact, limit, offset, &page, d);
	if (!e)
		e = fill_hits(r, c, text, &page, NULL, out, d);
out_free:
	gm_free(exact.v);
	gm_free(page.v);
	return e;
}

void gm_search_result_free(struct gm_search_result *res)
{
	if (!res)
		return;
	gm__arena_free(&res->mem_);
	memset(res, 0, sizeof(*res));
}

static gm_err check_query(const struct gm_search_query *q, struct gm_diag *d)
{
	const char *filters[] = {q->category, q->keyword, q->author, q->license,
				 q->kind};
	size_t i;

	if ((unsigned)q->sort > GM_SEARCH_RECENT)
		return gm_diag_set(d, GM_EINVAL, "unknown search sort %d",
				   (int)q->sort);
	if (q->limit > GM_SEARCH_LIMIT_MAX)
		return gm_diag_set(d, GM_ELIMIT, "search limit %zu is above %d",
				   q->limit, GM_SEARCH_LIMIT_MAX);
	if (q->offset > INT32_MAX)
		return gm_diag_set(d, GM_ELIMIT, "search offset %zu too large",
				   q->offset);
	if ((q->hl_open && strlen(q->hl_open) > GM_SEARCH_MARKER_MAX) ||
	    (q->hl_close && strlen(q->hl_close) > GM_SEARCH_MARKER_MAX))
		return gm_diag_set(d, GM_ELIMIT,
				   "highlight marker longer than %d bytes",
				   GM_SEARCH_MARKER_MAX);
	for (i = 0; i < GM_ARRAY_LEN(filters); i++)
		if (filters[i] && strlen(filters[i]) > GM_SEARCH_TEXT_MAX)
			return gm_diag_set(d, GM_ELIMIT,
					   "search filter longer than %d bytes",
					   GM_SEARCH_TEXT_MAX);
	return GM_OK;
}

gm_err gm_search(struct gm_registry *r, const struct gm_search_query *q,
		 struct gm_search_result *out, struct gm_diag *d)
{
	struct qctx *c;
	size_t i;
	gm_err e;

	memset(out, 0, sizeof(*out));
	e = check_query(q, d);
	if (e)
		return e;
	c = gm_calloc(1, sizeof(*c));
	if (!c)
		return GM_ENOMEM;
	c->q = q;
	c->filtered =
	    q->category || q->keyword || q->author || q->license || q->kind;
	gm_buf_init(&c->match, SQL_MAX);
	e = tokenize(c, q->text, d);
	if (e)
		goto out_free;
	c->filtered = c->filtered || c->ns[0];
	if (c->n_terms) {
		out->terms =
		    gm__arena_alloc(&out->mem_, c->n_terms * sizeof(char *));
		if (!out->terms) {
			e = GM_ENOMEM;
			goto out_free;
		}
		for (i = 0; i < c->n_terms; i++) {
			out->terms[i] = gm__arena_strndup(
			    &out->mem_, c->terms[i], strlen(c->terms[i]));
			if (!out->terms[i]) {
				e = GM_ENOMEM;
				goto out_free;
			}
		}
		out->n_terms = c->n_terms;
	}
	e = run_query(r, c, out, d);
	if (!e && (out->total == 0 || out->any_term) && c->lower[0])
		e = gm_search_suggest(r, c->lower, GM_SEARCH_SUGGEST_MAX, out,
				      d);
out_free:
	gm_buf_release(&c->match);
	gm_free(c);
	if (e)
		gm_search_result_free(out);
	return e;
}

/* ---- did you mean ----------------------------------------------------------
 */

struct cand {
	size_t dist;
	char id[2 * GM_TEXT_WORD_MAX + 2];
	size_t nslen;
};

/* Letter counts: a-z, 0-9 and one bucket for every other byte. */
#define HIST_N 37

static void hist(const char *s, size_t n, uint16_t h[HIST_N])
{
	size_t i;

	memset(h, 0, HIST_N * sizeof(*h));
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 'a' && ch <= 'z')
			h[ch - 'a']++;
		else if (ch >= '0' && ch <= '9')
			h[26 + ch - '0']++;
		else
			h[36]++;
	}
}

/*
 * A lower bound of the edit distance: an insertion or deletion changes the
 * letter counts by 1, a substitution by 2, a transposition not at all, so
 * the distance is at least half their difference. Cheaper than the edit
 * distance, it rejects most candidates.
 */
static bool hist_too_far(const uint16_t a[HIST_N], const char *s, size_t n,
			 size_t bound)
{
	uint16_t b[HIST_N];
	size_t i, diff = 0;

	hist(s, n, b);
	for (i = 0; i < HIST_N; i++)
		diff +=
		    a[i] > b[i] ? (size_t)(a[i] - b[i]) : (size_t)(b[i] - a[i]);
	return diff > 2 * bound;
}

/* Lower is better: distance, then name, then namespace. */
static int cand_cmp(const struct cand *a, const struct cand *b)
{
	int c;

	if (a->dist != b->dist)
		return a->dist < b->dist ? -1 : 1;
	c = strcmp(a->id + a->nslen + 1, b->id + b->nslen + 1);
	return c ? c : strcmp(a->id, b->id);
}

gm_err gm_search_suggest(struct gm_registry *r, const char *text, size_t max,
			 struct gm_search_result *out, struct gm_diag *d)
{
	struct cand best[GM_SEARCH_SUGGEST_MAX];
	struct gm_buf sql;
	char key[GM_TEXT_WORD_MAX + 1], first[2][2];
	uint16_t khist[HIST_N];
	size_t nbest = 0, klen = 0, bound, i;
	const char *s, *slash;
	sqlite3_stmt *st;
	bool row;
	gm_err e;

	if (max > GM_SEARCH_SUGGEST_MAX)
		max = GM_SEARCH_SUGGEST_MAX;
	out->n_suggestions = 0;
	if (!text || max == 0)
		return GM_OK;
	/* The name part, lowercased, spaces as '-'. */
	slash = strrchr(text, '/');
	s = slash ? slash + 1 : text;
	for (; *s && klen < GM_TEXT_WORD_MAX; s++) {
		char ch = lc(*s);

		if (ch == ' ' || ch == '\t') {
			if (klen && key[klen - 1] == '-')
				continue;
			ch = '-';
		}
		key[klen++] = ch;
	}
	if (*s || klen == 0)
		return GM_OK;
	key[klen] = '\0';
	bound = gm_text_suggest_max(klen);
	hist(key, klen, khist);
	first[0][0] = key[0];
	first[1][0] = klen > 1 ? key[1] : key[0];
	first[0][1] = first[1][1] = '\0';
	/*
	 * Each length within the bound is an equality, so the index is
	 * searched for (length, first letter) pairs; a range on the length
	 * would read every name of those lengths.
	 */
	gm_buf_init(&sql, SQL_MAX);
	e = gm_buf_append_str(&sql,
			      "SELECT ns, name FROM releases INDEXED BY"
			      " releases_suggest WHERE length(name) IN (");
	for (i = klen > bound ? klen - bound : 1; !e && i <= klen + bound; i++)
		e = gm_buf_printf(
		    &sql, "%s%zu",
		    i == (klen > bound ? klen - bound : 1) ? "" : ", ", i);
	if (!e)
		e = gm_buf_append_str(&sql, ") AND lower(substr(name, 1, 1))"
					    " IN (?1, ?2) AND latest = 1");
	if (!e)
		e = prepare(r, &sql, &st, d);
	gm_buf_release(&sql);
	if (e)
		return e;
	sqlite3_bind_text(st, 1, first[0], 1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, first[1], 1, SQLITE_STATIC);
	for (;;) {
		const char *ns, *name;
		char low[GM_TEXT_WORD_MAX];
		size_t nl, sl, dist, k;
		struct cand c;

		e = stepr(r, st, &row, d);
		if (e || !row)
			break;
		ns = (const char *)sqlite3_column_text(st, 0);
		name = (const char *)sqlite3_column_text(st, 1);
		nl = (size_t)sqlite3_column_bytes(st, 1);
		sl = (size_t)sqlite3_column_bytes(st, 0);
		if (!ns || !name || nl > GM_TEXT_WORD_MAX ||
		    sl > GM_TEXT_WORD_MAX)
			continue;
		for (k = 0; k < nl; k++)
			low[k] = lc(name[k]);
		if (hist_too_far(khist, low, nl, bound))
			continue;
		dist = gm_text_edit_distance(key, klen, low, nl, bound);
		if (dist > bound)
			continue;
		c.dist = dist;
		c.nslen = sl;
		memcpy(c.id, ns, sl);
		c.id[sl] = '/';
		memcpy(c.id + sl + 1, name, nl);
		c.id[sl + 1 + nl] = '\0';
		/* Insert into the small sorted best list. */
		if (nbest == max && cand_cmp(&c, &best[max - 1]) >= 0)
			continue;
		i = nbest < max ? nbest++ : max - 1;
		while (i > 0 && cand_cmp(&c, &best[i - 1]) < 0) {
			best[i] = best[i - 1];
			i--;
		}
		best[i] = c;
	}
	sqlite3_finalize(st);
	if (e)
		return e;
	for (i = 0; i < nbest; i++) {
		out->suggestions[i] = gm__arena_strndup(&out->mem_, best[i].id,
							strlen(best[i].id));
		if (!out->suggestions[i])
			return GM_ENOMEM;
		out->n_suggestions = i + 1;
	}
	return GM_OK;
}
