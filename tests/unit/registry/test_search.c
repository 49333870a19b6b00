/*
 * test_search.c - search ranking, prefixes, filters, sorts, paging,
 * highlights, "did you mean", hostile query text, latest-only results,
 * the cap on the counted total, and the one-pass page (pruned top-k)
 * against the older count / page / details statements.
 */
#include "harness.h"

#include "gm/registry.h"
#include "gm/search.h"

struct pkg {
	const char *ns, *name, *version, *kind, *desc, *keywords, *categories,
	    *authors, *license;
	int64_t published_at;
};

static const struct pkg fixture[] = {
    {"acme", "json", "1.0.0", "template", "Tiny helpers", "", "data",
     "Jane Doe <jane@example.org>", "MIT", 100},
    {"acme", "json-parser", "2.1.0", "template",
     "A fast streaming parser for JSON documents", "json parser", "data",
     "Jane Doe <jane@example.org>\nBob", "MIT", 300},
    {"tools", "fastjson", "0.3.0", "generator", "Serialize objects quickly",
     "json serde", "data web", "Bob", "Apache-2.0", 200},
    {"tools", "docgen", "1.0.0", "template",
     "Generate documentation from json schema files", "docs", "docs", "Alice",
     "MIT", 400},
    {"web", "http-server", "3.0.0", "template",
     "A small HTTP server with routing", "http server web", "web cli", "Alice",
     "MIT", 500},
    {"web", "router", "1.0.0", "validator",
     "Checks that HTTP routes are documented", "http", "web validator", "Carol",
     "BSD-3-Clause", 250},
    {"db", "postgres-orm", "0.9.0", "template",
     "Object relational mapping for databases", "orm database sql", "database",
     "Dan", "MIT", 150},
};

static struct gm_registry *setup(void)
{
	static char path[4096];
	struct gm_registry *r;
	size_t i;

	snprintf(path, sizeof(path), "%s/registry.db", gm_test_tmpdir());
	ASSERT_OK(gm_registry_open(&r, path, NULL));
	for (i = 0; i < GM_ARRAY_LEN(fixture); i++) {
		const struct pkg *p = &fixture[i];
		struct gm_release_row row;

		memset(&row, 0, sizeof(row));
		row.ns = p->ns;
		row.name = p->name;
		row.version = p->version;
		ASSERT_OK(gm_semver_parse(&row.semver, p->version,
					  strlen(p->version), NULL));
		row.kind = p->kind;
		row.description = p->desc;
		row.keywords = p->keywords;
		row.categories = p->categories;
		row.authors = p->authors;
		row.license = p->license;
		row.published_at = p->published_at;
		ASSERT_OK(gm_registry_insert_release(r, &row, NULL, NULL));
	}
	return r;
}

static struct gm_search_query query(const char *text)
{
	struct gm_search_query q;

	memset(&q, 0, sizeof(q));
	q.text = text;
	return q;
}

/* The hits' names joined by spaces. */
static const char *names(const struct gm_search_result *res)
{
	static char buf[1024];
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < res->n && off < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
					i ? " " : "", res->hits[i].name);
	return buf;
}

static const char *run(struct gm_registry *r, struct gm_search_query *q,
		       struct gm_search_result *res)
{
	struct gm_diag d;

	gm_diag_clear(&d);
	if (gm_search(r, q, res, &d) != GM_OK)
		gm_test_fail(__FILE__, __LINE__, "search: %s", d.msg);
	return names(res);
}

TEST(exact_name_first_then_name_over_description)
{
	struct gm_registry *r = setup();
	struct gm_search_query q = query("json");
	struct gm_search_result res;

	run(r, &q, &res);
	ASSERT_EQ(res.total, 4);
	ASSERT_STREQ(res.hits[0].name, "json");
	ASSERT(res.hits[0].exact);
	/* Name matches (json-parser) ahead of keyword-only and
	 * description-only matches (fastjson has json as keyword, docgen in
	 * the description only). */
	ASSERT_STREQ(res.hits[1].name, "json-parser");
	ASSERT_STREQ(res.hits[3].name, "docgen");
	ASSERT(!res.hits[1].exact);
	ASSERT(res.hits[1].score > res.hits[3].score);
	ASSERT(res.hits[3].score > 0);
	gm_search_result_free(&res);

	/* ns/name is an exact match too, and case does not matter. */
	q = query("Tools/DocGen");
	run(r, &q, &res);
	ASSERT(res.n >= 1);
	ASSERT_STREQ(res.hits[0].name, "docgen");
	ASSERT(res.hits[0].exact);
	gm_search_result_free(&res);
	gm_registry_close(r);
}

TEST(prefix_matching_and_all_terms)
{
	struct gm_registry *r = setup();
	struct gm_search_query q = query("pars");
	struct gm_search_result res;

	ASSERT_STREQ(run(r, &q, &res), "json-parser");
	ASSERT_EQ(res.n_terms, 1);
	ASSERT_STREQ(res.terms[0], "pars");
	gm_search_result_free(&res);
	/* All terms must match ... */
	q = query("http serv");
	ASSERT_STREQ(run(r, &q, &res), "http-server");
	ASSERT(!res.any_term);
	gm_search_result_free(&res);
	/* ... unless no package has them all: then any term. */
	q = query("orm routing");
	run(r, &q, &res);
	ASSERT(res.any_term);
	ASSERT_EQ(res.total, 2);
	gm_search_result_free(&res);
	gm_registry_close(r);
}

TEST(filters_are_exact)
{
	struct gm_registry *r = setup();
	struct gm_search_query q = query(NULL);
	struct gm_search_result res;

	q.category = "web";
	ASSERT_STREQ(run(r, &q, &res), "fastjson http-server router");
	gm_search_result_free(&res);
	q.category = "we";
	run(r, &q, &res);
	ASSERT_EQ(res.total, 0);
	gm_search_result_free(&res);

	q = query("json");
	q.keyword = "serde";
	ASSERT_STREQ(run(r, &q, &res), "fastjson");
	gm_search_result_free(&res);

	q = query(NULL);
	q.author = "Jane Doe";
	ASSERT_STREQ(run(r, &q, &res), "json json-parser");
	gm_search_result_free(&res);
	q.author = "Bob";
	ASSERT_STREQ(run(r, &q, &res), "fastjson json-parser");
	gm_search_result_free(&res);
	q.author = "Jane";
	run(r, &q, &res);
	ASSERT_EQ(res.total, 0);
	gm_search_result_free(&res);

	q = query(NULL);
	q.license = "Apache-2.0";
	ASSERT_STREQ(run(r, &q, &res), "fastjson");
	gm_search_result_free(&res);

	q = query("http");
	q.kind = "validator";
	ASSERT_STREQ(run(r, &q, &res), "router");
	ASSERT_EQ(res.total, 1);
	gm_search_result_free(&res);

	/* Filters apply to exact matches as well. */
	q = query("json");
	q.license = "Apache-2.0";
	ASSERT_STREQ(run(r, &q, &res), "fastjson");
	gm_search_result_free(&res);
	gm_registry_close(r);
}

TEST(sorts_limit_offset_total)
{
	struct gm_registry *r = setup();
	struct gm_search_query q = query("json");
	struct gm_search_result res;

	q.sort = GM_SEARCH_NAME;
	ASSERT_STREQ(run(r, &q, &res), "docgen fastjson json json-parser");
	gm_search_result_free(&res);
	q.sort = GM_SEARCH_RECENT;
	ASSERT_STREQ(run(r, &q, &res), "docgen json-parser fastjson json");
	gm_search_result_free(&res);

	/* Pages of the relevance order, the exact match on page one. */
	q.sort = GM_SEARCH_RELEVANCE;
	q.limit = 2;
	ASSERT_STREQ(run(r, &q, &res), "json json-parser");
	ASSERT_EQ(res.total, 4);
	gm_search_result_free(&res);
	q.offset = 1;
	run(r, &q, &res);
	ASSERT_EQ(res.n, 2);
	ASSERT_STREQ(res.hits[0].name, "json-parser");
	gm_search_result_free(&res);
	q.offset = 3;
	ASSERT_STREQ(run(r, &q, &res), "docgen");
	ASSERT_EQ(res.total, 4);
	gm_search_result_free(&res);
	q.offset = 10;
	run(r, &q, &res);
	ASSERT_EQ(res.n, 0);
	ASSERT_EQ(res.total, 4);
	gm_search_result_free(&res);

	/* No text: every package, by name. */
	q = query("");
	q.limit = 3;
	ASSERT_STREQ(run(r, &q, &res), "docgen fastjson http-server");
	ASSERT_EQ(res.total, 7);
	gm_search_result_free(&res);

	q = query("json");
	q.limit = GM_SEARCH_LIMIT_MAX + 1;
	ASSERT_ERR(gm_search(r, &q, &res, NULL), GM_ELIMIT);
	q.limit = 0;
	q.sort = (enum gm_search_sort)9;
	ASSERT_ERR(gm_search(r, &q, &res, NULL), GM_EINVAL);
	gm_registry_close(r);
}

TEST(highlight_markers_and_matched_terms)
{
	struct gm_registry *r = setup();
	struct gm_search_query q = query("stream json");
	struct gm_search_result res;

	q.hl_open = "[";
	q.hl_close = "]";
	ASSERT_STREQ(run(r, &q, &res), "json-parser");
	ASSERT_STREQ(res.hits[0].highlighted,
		     "A fast [streaming] parser for [JSON] documents");
	ASSERT_STREQ(res.hits[0].description,
		     "A fast streaming parser for JSON documents");
	ASSERT_EQ(res.hits[0].matched, 3);
	gm_search_result_free(&res);

	/* No markers (JSON output): the plain text, terms apart. */
	q.hl_open = q.hl_close = NULL;
	run(r, &q, &res);
	ASSERT_STREQ(res.hits[0].highlighted,
		     "A fast streaming parser for JSON documents");
	ASSERT_EQ(res.n_terms, 2);
	ASSERT_STREQ(res.terms[0], "stream");
	ASSERT_STREQ(res.terms[1], "json");
	gm_search_result_free(&res);

	/* Any-term results say which terms matched. */
	q = query("orm routing");
	q.hl_open = "<b>";
	q.hl_close = "</b>";
	run(r, &q, &res);
	ASSERT_EQ(res.n, 2);
	ASSERT(res.hits[0].matched == 1 || res.hits[0].matched == 2);
	ASSERT(res.hits[0].matched != res.hits[1].matched);
	if (strcmp(res.hits[0].name, "http-server") == 0)
		ASSERT_STREQ(res.hits[0].highlighted,
			     "A small HTTP server with <b>routing</b>");
	else
		ASSERT_STREQ(res.hits[1].highlighted,
			     "A small HTTP server with <b>routing</b>");
	gm_search_result_free(&res);
	gm_registry_close(r);
}

TEST(did_you_mean_for_misspellings)
{
	struct gm_registry *r = setup();
	struct gm_search_query q = query("jsno-parser");
	struct gm_search_result res;

	/* "parser" alone matches: any-term results, and a suggestion. */
	ASSERT_STREQ(run(r, &q, &res), "json-parser");
	ASSERT(res.any_term);
	ASSERT(res.n_suggestions >= 1);
	ASSERT_STREQ(res.suggestions[0], "acme/json-parser");
	gm_search_result_free(&res);

	q = query("htp servr");
	run(r, &q, &res);
	ASSERT_EQ(res.total, 0);
	ASSERT_EQ(res.n_suggestions, 1);
	ASSERT_STREQ(res.suggestions[0], "web/http-server");
	gm_search_result_free(&res);

	q = query("postgers-orm");
	run(r, &q, &res);
	ASSERT_STREQ(res.suggestions[0], "db/postgres-orm");
	gm_search_result_free(&res);

	/* Nothing close: no suggestion; a match: no suggestion either. */
	q = query("xylophone");
	run(r, &q, &res);
	ASSERT_EQ(res.n_suggestions, 0);
	gm_search_result_free(&res);
	q = query("router");
	run(r, &q, &res);
	ASSERT_EQ(res.n_suggestions, 0);
	gm_search_result_free(&res);

	ASSERT_OK(gm_search_suggest(r, "jsn", 3, &res, NULL));
	ASSERT(res.n_suggestions >= 1);
	ASSERT_STREQ(res.suggestions[0], "acme/json");
	gm_search_result_free(&res);
	gm_registry_close(r);
}

TEST(fts_syntax_in_user_text_is_harmless)
{
	static const char *const hostile[] = {
	    "foo AND",	 "\"",	       "*",
	    "NEAR(",	 "json OR",    "NOT json",
	    "-json",	 "name:json",  "^json",
	    "json\"*",	 "(((",	       "\xe2\x80\x94",
	    "j\xff\xfe", "''",	       "json; DROP TABLE releases",
	    "{name}:x",	 "AND OR NOT", "+",
	    "%_",
	};
	struct gm_registry *r = setup();
	struct gm_search_result res;
	size_t i;

	for (i = 0; i < GM_ARRAY_LEN(hostile); i++) {
		struct gm_search_query q = query(hostile[i]);
		struct gm_diag d;

		gm_diag_clear(&d);
		if (gm_search(r, &q, &res, &d) != GM_OK)
			gm_test_fail(__FILE__, __LINE__, "'%s': %s", hostile[i],
				     d.msg);
		gm_search_result_free(&res);
	}
	/* Operators are plain words: "json OR" needs both terms. */
	{
		struct gm_search_query q = query("NOT json");

		run(r, &q, &res);
		ASSERT(res.any_term);
		ASSERT_EQ(res.total, 4);
		gm_search_result_free(&res);
	}
	{
		struct gm_search_query q = query("json; DROP TABLE releases");

		run(r, &q, &res);
		gm_search_result_free(&res);
		q = query(NULL);
		run(r, &q, &res);
		ASSERT_EQ(res.total, 7);
		gm_search_result_free(&res);
	}
	gm_registry_close(r);
}

TEST(query_limits)
{
	struct gm_registry *r = setup();
	struct gm_search_query q;
	struct gm_search_result res;
	struct gm_diag d;
	char big[GM_SEARCH_TEXT_MAX + 2];
	char many[256];
	size_t i;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	q = query(big);
	ASSERT_ERR(gm_search(r, &q, &res, &d), GM_ELIMIT);
	ASSERT(strstr(d.msg, "1024") != NULL);
	big[GM_SEARCH_TERM_MAX + 1] = '\0';
	q = query(big);
	ASSERT_ERR(gm_search(r, &q, &res, &d), GM_ELIMIT);
	many[0] = '\0';
	for (i = 0; i < GM_SEARCH_TERMS_MAX + 1; i++)
		strncat(many, "w ", sizeof(many) - strlen(many) - 1);
	q = query(many);
	ASSERT_ERR(gm_search(r, &q, &res, &d), GM_ELIMIT);
	ASSERT(strstr(d.msg, "16 words") != NULL);
	gm_registry_close(r);
}

TEST(only_latest_version_is_a_result)
{
	struct gm_registry *r = setup();
	struct gm_search_query q = query("zebra");
	struct gm_search_result res;
	static const char *const versions[] = {"1.0.0", "1.2.0", "1.1.0",
					       "2.0.0-beta.1"};
	size_t i;

	for (i = 0; i < GM_ARRAY_LEN(versions); i++) {
		struct gm_release_row row;

		memset(&row, 0, sizeof(row));
		row.ns = "zoo";
		row.name = "zebra";
		row.version = versions[i];
		ASSERT_OK(gm_semver_parse(&row.semver, versions[i],
					  strlen(versions[i]), NULL));
		row.description = i == 1 ? "striped horse, new" : "old horse";
		ASSERT_OK(gm_registry_insert_release(r, &row, NULL, NULL));
	}
	run(r, &q, &res);
	ASSERT_EQ(res.total, 1);
	ASSERT_EQ(res.n, 1);
	ASSERT_STREQ(res.hits[0].version, "1.2.0");
	ASSERT_STREQ(res.hits[0].description, "striped horse, new");
	ASSERT_EQ(res.hits[0].content_state, GM_CONTENT_ABSENT);
	ASSERT(res.hits[0].publisher_fingerprint == NULL);
	gm_search_result_free(&res);
	/* Old descriptions are not searchable any more. */
	q = query("old");
	run(r, &q, &res);
	ASSERT_EQ(res.total, 0);
	gm_search_result_free(&res);
	ASSERT_OK(gm_registry_check(r, NULL));
	gm_registry_close(r);
}

TEST(publisher_fingerprint_in_hits)
{
	struct gm_registry *r = setup();
	struct gm_publisher_row p;
	struct gm_release_row row;
	struct gm_search_query q = query("signed");
	struct gm_search_result res;

	memset(&p, 0, sizeof(p));
	memset(p.key, 7, sizeof(p.key));
	p.fingerprint = "fp-signed";
	ASSERT_OK(gm_registry_upsert_publisher(r, &p, NULL));
	memset(&row, 0, sizeof(row));
	row.ns = "sig";
	row.name = "signed-pkg";
	row.version = "1.0.0";
	row.semver.major = 1;
	row.publisher = p.key;
	row.content_state = GM_CONTENT_COMPLETE;
	ASSERT_OK(gm_registry_insert_release(r, &row, NULL, NULL));
	run(r, &q, &res);
	ASSERT_EQ(res.n, 1);
	ASSERT_STREQ(res.hits[0].publisher_fingerprint, "fp-signed");
	ASSERT_EQ(res.hits[0].content_state, GM_CONTENT_COMPLETE);
	gm_search_result_free(&res);
	gm_registry_close(r);
}

TEST(out_of_memory_paths)
{
	struct gm_registry *r = setup();
	unsigned long n;
	gm_err e;

	for (n = 1;; n++) {
		struct gm_search_query q = query("json");
		struct gm_search_result res;

		q.hl_open = "[";
		q.hl_close = "]";
		gm_alloc_fail_after(n);
		e = gm_search(r, &q, &res, NULL);
		gm_alloc_fail_after(0);
		if (e == GM_OK) {
			ASSERT_EQ(res.n, 4);
			gm_search_result_free(&res);
			break;
		}
		ASSERT_ERR(e, GM_ENOMEM);
		ASSERT_EQ(res.n, 0);
		ASSERT(res.mem_ == NULL);
	}
	ASSERT(n > 3);
	for (n = 1;; n++) {
		struct gm_search_query q = query("jsno-parser");
		struct gm_search_result res;

		gm_alloc_fail_after(n);
		e = gm_search(r, &q, &res, NULL);
		gm_alloc_fail_after(0);
		if (e == GM_OK) {
			ASSERT_EQ(res.n_suggestions, 1);
			gm_search_result_free(&res);
			break;
		}
		ASSERT_ERR(e, GM_ENOMEM);
	}
	gm_registry_close(r);
}

/* n generated packages "gen/wNNNNN", description "widget number N". */
static void bulk_widgets(struct gm_registry *r, size_t from, size_t n)
{
	struct gm_registry_bulk *b;
	uint64_t added = 0;
	size_t i;

	ASSERT_OK(gm_registry_bulk_begin(r, &b, NULL));
	for (i = from; i < from + n; i++) {
		struct gm_release_row row;
		char name[32], desc[64];

		snprintf(name, sizeof(name), "w%05zu", i);
		snprintf(desc, sizeof(desc), "widget number %zu", i);
		memset(&row, 0, sizeof(row));
		row.ns = "gen";
		row.name = name;
		row.version = "1.0.0";
		row.semver.major = 1;
		row.kind = i % 2 ? "odd" : "even";
		row.description = desc;
		row.published_at = (int64_t)i;
		ASSERT_OK(gm_registry_bulk_add(b, &row, NULL));
	}
	ASSERT_OK(gm_registry_bulk_commit(b, &added, NULL, NULL));
	ASSERT_EQ(added, n);
}

TEST(total_is_exact_up_to_the_cap)
{
	struct gm_registry *r = setup();
	struct gm_search_query q = query("widget");
	struct gm_search_result res;

	bulk_widgets(r, 0, GM_SEARCH_TOTAL_CAP);
	run(r, &q, &res);
	ASSERT_EQ(res.total, GM_SEARCH_TOTAL_CAP);
	ASSERT(!res.total_capped);
	ASSERT_EQ(res.n, GM_SEARCH_LIMIT_DEFAULT);
	gm_search_result_free(&res);
	/* Half of them, by kind: exact. */
	q.kind = "odd";
	run(r, &q, &res);
	ASSERT_EQ(res.total, GM_SEARCH_TOTAL_CAP / 2);
	ASSERT(!res.total_capped);
	gm_search_result_free(&res);
	/* The fixture's seven packages and the widgets, no text. */
	q = query(NULL);
	run(r, &q, &res);
	ASSERT_EQ(res.total, GM_SEARCH_TOTAL_CAP);
	ASSERT(res.total_capped);
	gm_search_result_free(&res);
	gm_registry_close(r);
}

TEST(total_past_the_cap_is_flagged_and_pages_still_served)
{
	struct gm_registry *r = setup();
	struct gm_search_query q = query("widget");
	struct gm_search_result res;
	size_t i;

	bulk_widgets(r, 0, GM_SEARCH_TOTAL_CAP + 5);
	run(r, &q, &res);
	ASSERT_EQ(res.total, GM_SEARCH_TOTAL_CAP);
	ASSERT(res.total_capped);
	ASSERT_EQ(res.n, GM_SEARCH_LIMIT_DEFAULT);
	for (i = 0; i < res.n; i++) {
		ASSERT_STREQ(res.hits[i].ns, "gen");
		ASSERT(res.hits[i].score > 0);
		ASSERT(res.hits[i].matched == 1);
	}
	gm_search_result_free(&res);
	/* The last page, past the counted total. */
	q.offset = GM_SEARCH_TOTAL_CAP + 1;
	run(r, &q, &res);
	ASSERT_EQ(res.n, 4);
	ASSERT(res.total_capped);
	gm_search_result_free(&res);
	/* Filters and sorts count against the cap too. */
	q = query("widget");
	q.kind = "even";
	q.sort = GM_SEARCH_RECENT;
	run(r, &q, &res);
	ASSERT_EQ(res.total, GM_SEARCH_TOTAL_CAP / 2 + 3);
	ASSERT(!res.total_capped);
	ASSERT_STREQ(res.hits[0].name, "w10004");
	ASSERT_STREQ(res.hits[1].name, "w10002");
	gm_search_result_free(&res);
	/* Names among many: the exact one, then both terms. */
	q = query("w00042");
	run(r, &q, &res);
	ASSERT_EQ(res.total, 1);
	ASSERT(res.hits[0].exact);
	gm_search_result_free(&res);
	q = query("widget w00042");
	run(r, &q, &res);
	ASSERT_EQ(res.total, 1);
	ASSERT_STREQ(res.hits[0].name, "w00042");
	gm_search_result_free(&res);
	/* A narrow query is exact again. */
	q = query("widget 10003");
	run(r, &q, &res);
	ASSERT_EQ(res.total, 1);
	ASSERT(!res.total_capped);
	ASSERT_STREQ(res.hits[0].name, "w10003");
	gm_search_result_free(&res);
	gm_registry_close(r);
}

/* search.c: pages with offset + limit above it take the older statements. */
extern int64_t gm__search_one_pass_max;

static uint32_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 11);
}

/*
 * n crafted packages, in a shuffled rowid order: "tie-*" rows that tie
 * exactly in BM25 (same tokens everywhere but one name token that is no
 * query term), rows whose description repeats "alpha" (ahead of most
 * name matches), one package named "alpha" with a long description (an
 * exact match deep in the BM25 order), kinds "rare" on 1 row in 40 and
 * "common" elsewhere, published_at with many equal values.
 */
static void bulk_crafted(struct gm_registry *r, size_t n)
{
	static const char *const words[] = {"alpha",	"beta",	  "gamma",
					    "delta",	"tie",	  "omega",
					    "alphabet", "betamax"};
	struct gm_registry_bulk *b;
	uint64_t seed = 42, added = 0;
	size_t i;

	ASSERT_OK(gm_registry_bulk_begin(r, &b, NULL));
	for (i = 0; i < n; i++) {
		struct gm_release_row row;
		char name[64], desc[512], kw[64];
		size_t off = 0, w, nw;
		uint32_t x = rnd(&seed);

		memset(&row, 0, sizeof(row));
		if (i == n / 2) {
			snprintf(name, sizeof(name), "alpha");
			for (w = 0; w < 40; w++)
				off += (size_t)snprintf(desc + off,
							sizeof(desc) - off,
							"filler%zu ", w);
			snprintf(kw, sizeof(kw), "misc");
		} else if (x % 5 == 0) {
			/* Ties: "tie-N" + the same description. */
			snprintf(name, sizeof(name), "tie-%zu", i);
			snprintf(desc, sizeof(desc), "alpha beta gamma");
			snprintf(kw, sizeof(kw), "tie");
		} else {
			snprintf(name, sizeof(name), "%s-p%zu",
				 words[x % GM_ARRAY_LEN(words)], i);
			nw = 1 + (x >> 8) % 12;
			for (w = 0; w < nw; w++)
				off += (size_t)snprintf(
				    desc + off, sizeof(desc) - off, "%s%s",
				    w ? " " : "",
				    words[rnd(&seed) % GM_ARRAY_LEN(words)]);
			snprintf(kw, sizeof(kw), "%s",
				 words[(x >> 4) % GM_ARRAY_LEN(words)]);
		}
		row.ns = x % 3 ? "ns" : "other";
		row.name = name;
		row.version = "1.0.0";
		row.semver.major = 1;
		row.kind = x % 40 == 7 ? "rare" : "common";
		row.description = desc;
		row.keywords = kw;
		row.published_at = (int64_t)((x >> 12) % 16);
		ASSERT_OK(gm_registry_bulk_add(b, &row, NULL));
	}
	ASSERT_OK(gm_registry_bulk_commit(b, &added, NULL, NULL));
	ASSERT_EQ(added, n);
}

/* Runs q by both paths and fails unless the results are the same. */
static void same_both_ways(struct gm_registry *r, struct gm_search_query *q,
			   int line)
{
	struct gm_search_result a, b;
	int64_t keep;
	size_t i;

	run(r, q, &a);
	keep = gm__search_one_pass_max;
	gm__search_one_pass_max = 0;
	run(r, q, &b);
	gm__search_one_pass_max = keep;
	if (a.total != b.total || a.total_capped != b.total_capped ||
	    a.any_term != b.any_term || a.n != b.n)
		gm_test_fail(__FILE__, line,
			     "'%s' limit %zu offset %zu: total %llu/%llu n "
			     "%zu/%zu",
			     q->text, q->limit, q->offset,
			     (unsigned long long)a.total,
			     (unsigned long long)b.total, a.n, b.n);
	for (i = 0; i < a.n; i++)
		if (a.hits[i].id != b.hits[i].id ||
		    a.hits[i].score != b.hits[i].score ||
		    a.hits[i].exact != b.hits[i].exact ||
		    a.hits[i].matched != b.hits[i].matched ||
		    strcmp(a.hits[i].highlighted, b.hits[i].highlighted) != 0)
			gm_test_fail(__FILE__, line,
				     "'%s' limit %zu offset %zu: hit %zu is "
				     "%s (%.17g), was %s (%.17g)",
				     q->text, q->limit, q->offset, i,
				     a.hits[i].name, a.hits[i].score,
				     b.hits[i].name, b.hits[i].score);
	gm_search_result_free(&a);
	gm_search_result_free(&b);
}

TEST(one_pass_page_equals_the_older_statements)
{
	static const char *const texts[] = {
	    "alpha", "tie",	    "alpha beta", "gamma tie", "alph",
	    "beta",  "omega delta", "the",	  "alpha zzz", "ns/alpha",
	};
	static const size_t pages[][2] = {
	    {0, 0},  {1, 0},   {3, 0},	   {20, 1},   {7, 13},
	    {50, 0}, {50, 40}, {100, 200}, {1000, 0}, {5, 3000},
	};
	struct gm_registry *r = setup();
	size_t t, p, v;

	bulk_crafted(r, 3000);
	for (t = 0; t < GM_ARRAY_LEN(texts); t++)
		for (p = 0; p < GM_ARRAY_LEN(pages); p++)
			for (v = 0; v < 8; v++) {
				struct gm_search_query q = query(texts[t]);

				q.limit = pages[p][0];
				q.offset = pages[p][1];
				q.hl_open = "[";
				q.hl_close = "]";
				/* Relevance, name, recent; filters that
				 * exclude most of the best rows (kind) or
				 * all but the fixture's (category). */
				q.sort = (enum gm_search_sort)(v % 3);
				if (v >= 3 && v < 6)
					q.kind = "rare";
				if (v >= 6)
					q.category = "web";
				same_both_ways(r, &q, __LINE__);
			}
	gm_registry_close(r);
}

TEST(one_pass_exact_name_deep_in_bm25_order_and_ties)
{
	struct gm_registry *r = setup();
	struct gm_search_query q = query("alpha");
	struct gm_search_result res;
	size_t i, ties = 0;

	bulk_crafted(r, 3000);
	/* The exact name heads the list though its BM25 is low. */
	run(r, &q, &res);
	ASSERT(res.total_capped == false);
	ASSERT_STREQ(res.hits[0].name, "alpha");
	ASSERT(res.hits[0].exact);
	ASSERT(res.hits[0].score < res.hits[1].score);
	gm_search_result_free(&res);
	/* Tied rows come in rowid order, on every page. */
	q = query("tie");
	q.limit = 100;
	run(r, &q, &res);
	for (i = 1; i < res.n; i++)
		if (res.hits[i].score == res.hits[i - 1].score) {
			ASSERT(res.hits[i].id > res.hits[i - 1].id);
			ties++;
		}
	ASSERT(ties > 50);
	gm_search_result_free(&res);
	gm_registry_close(r);
}
