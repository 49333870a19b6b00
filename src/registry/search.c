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
 *   count      | total matches (with the filters), counting stops one
 *              | past GM_SEARCH_TOTAL_CAP (total_capped: "10000+")
 *   page       | ids of one page, ordered by bm25() (relevance, exact ids
 *              | left out) or by name / published_at, with LIMIT/OFFSET
 *   details    | one statement for the page's hits: the columns, the
 *              | publisher's fingerprint, bm25() and highlight() (computed
 *              | for the page only; "+rowid IN (...)" so the MATCH runs
 *              | once, not once per id)
 *   suggest    | only when nothing matched: "did you mean" candidates from
 *              | the releases_suggest index (name length within the edit
 *              | bound, first letter the query's first or second) scored
 *              | with gm_text_edit_distance, after a cheap letter-count
 *              | lower bound has dropped most of them
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

static gm_err fill_hits(struct gm_registry *r, struct qctx *c, bool text,
			const struct idlist *ids, struct gm_search_result *out,
			struct gm_diag *d)
{
	const struct gm_search_query *q = c->q;
	bool marks = text && q->hl_open && q->hl_close;
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
	if (!e && text)
		e = gm_buf_printf(&sql, ", %s, %s", BM25,
				  marks ? "highlight(release_fts, 3, :ho, :hc)"
					: "NULL");
	if (!e && text)
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
		if (!e && !h->highlighted)
			h->highlighted = h->description;
		if (e)
			break;
		if (text)
			h->score = -sqlite3_column_double(st, 9);
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

static gm_err run_query(struct gm_registry *r, struct qctx *c,
			struct gm_search_result *out, struct gm_diag *d)
{
	const struct gm_search_query *q = c->q;
	struct idlist exact = {0}, page = {0};
	bool text = c->n_terms > 0;
	int64_t limit =
	    (int64_t)(q->limit ? q->limit : GM_SEARCH_LIMIT_DEFAULT);
	int64_t offset = (int64_t)q->offset;
	gm_err e = GM_OK;

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
	if (text && q->sort == GM_SEARCH_RELEVANCE)
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
		e = fill_hits(r, c, text, &page, out, d);
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
	static const char sql[] =
	    "SELECT ns, name FROM releases INDEXED BY releases_suggest"
	    " WHERE length(name) BETWEEN ?1 AND ?2 AND"
	    " lower(substr(name, 1, 1)) IN (?3, ?4) AND latest = 1";
	struct cand best[GM_SEARCH_SUGGEST_MAX];
	char key[GM_TEXT_WORD_MAX + 1], first[2][2];
	uint16_t khist[HIST_N];
	size_t nbest = 0, klen = 0, bound, i;
	const char *s, *slash;
	sqlite3 *db = gm__registry_db(r);
	sqlite3_stmt *st;
	bool row;
	int rc;
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
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return gm__registry_sqlite_err(db, rc, d, "suggest");
	sqlite3_bind_int64(st, 1, (int64_t)(klen > bound ? klen - bound : 1));
	sqlite3_bind_int64(st, 2, (int64_t)(klen + bound));
	sqlite3_bind_text(st, 3, first[0], 1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, first[1], 1, SQLITE_STATIC);
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
