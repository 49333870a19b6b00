/*
 * test_registry.c - the SQLite registry: migrations, release rows and their
 * ordering, equivocation evidence, publishers and trust, the outbox,
 * categories, integrity checks, the bulk path and transactions.
 */
#include "harness.h"

#include <sqlite3.h>

#include "gm/registry.h"
#include "registry/registry_int.h"
#include "gm/search.h"

static char *db_path(void)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/registry.db", gm_test_tmpdir());
	return path;
}

static struct gm_registry *open_reg(void)
{
	struct gm_registry *r = NULL;
	struct gm_diag d;

	gm_diag_clear(&d);
	if (gm_registry_open(&r, db_path(), &d) != GM_OK)
		gm_test_fail(__FILE__, __LINE__, "open: %s", d.msg);
	return r;
}

static struct gm_release_row mkrow(const char *ns, const char *name,
				   const char *version)
{
	struct gm_release_row row;

	memset(&row, 0, sizeof(row));
	row.ns = ns;
	row.name = name;
	row.version = version;
	if (gm_semver_parse(&row.semver, version, strlen(version), NULL))
		gm_test_fail(__FILE__, __LINE__, "bad version %s", version);
	row.description = "a package";
	row.published_at = 1700000000;
	return row;
}

static void mkkey(uint8_t key[32], uint8_t seed)
{
	int i;

	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)(seed + i);
}

/* Runs one SQL statement on the database file, outside the registry. */
static void raw_sql(const char *sql)
{
	sqlite3 *db;

	ASSERT_EQ(sqlite3_open(db_path(), &db), SQLITE_OK);
	ASSERT_EQ(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static long long raw_count(struct gm_registry *r, const char *sql)
{
	sqlite3_stmt *st;
	long long n = -1;

	ASSERT_EQ(sqlite3_prepare_v2(gm__registry_db(r), sql, -1, &st, NULL),
		  SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

TEST(open_migrates_from_empty_and_reopens)
{
	struct gm_registry *r = open_reg();
	struct gm_category_list cats;

	ASSERT_EQ(gm_registry_schema_version(r), GM_REGISTRY_SCHEMA_VERSION);
	ASSERT_EQ(raw_count(r, "PRAGMA user_version"), 2);
	ASSERT_EQ(raw_count(r, "SELECT count(*) FROM sqlite_master WHERE "
			       "name IN ('publishers', 'releases', "
			       "'release_deps', 'categories', 'outbox', "
			       "'release_fts', 'trust_records')"),
		  7);
	ASSERT_EQ(raw_count(r, "PRAGMA foreign_keys"), 1);
	ASSERT_EQ(raw_count(r, "PRAGMA synchronous"), 2);
	gm_registry_close(r);
	/* Reopen: nothing applied twice, the seeded list not doubled. */
	r = open_reg();
	ASSERT_OK(gm_registry_list_categories(r, &cats, NULL));
	ASSERT_EQ(cats.n, 14);
	ASSERT_STREQ(cats.v[0].name, "cli");
	ASSERT_EQ(cats.v[0].count, 0);
	gm_category_list_free(&cats);
	{
		sqlite3_stmt *st;
		const char *mode;

		ASSERT_EQ(sqlite3_prepare_v2(gm__registry_db(r),
					     "PRAGMA journal_mode", -1, &st,
					     NULL),
			  SQLITE_OK);
		ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
		mode = (const char *)sqlite3_column_text(st, 0);
		ASSERT_STREQ(mode, "wal");
		sqlite3_finalize(st);
	}
	gm_registry_close(r);
	gm_registry_close(NULL);
}

TEST(too_new_schema_is_refused)
{
	struct gm_registry *r = open_reg();
	struct gm_diag d;

	gm_registry_close(r);
	raw_sql("PRAGMA user_version = 7");
	gm_diag_clear(&d);
	r = (struct gm_registry *)1;
	ASSERT_ERR(gm_registry_open(&r, db_path(), &d), GM_EUNSUPPORTED);
	ASSERT(r == NULL);
	ASSERT(strstr(d.msg, "schema version 7") != NULL);
	ASSERT(strstr(d.msg, "upgrade ggen") != NULL);
}

TEST(not_a_database_is_corrupt)
{
	struct gm_registry *r;
	struct gm_diag d;
	FILE *f = fopen(db_path(), "wb");

	ASSERT(f != NULL);
	fputs("this is not an SQLite database, only some text in a file "
	      "long enough to hold a header.............................",
	      f);
	fclose(f);
	ASSERT_ERR(gm_registry_open(&r, db_path(), &d), GM_ECORRUPT);
	ASSERT(strstr(d.msg, "registry.db") != NULL);
	ASSERT_ERR(gm_registry_open(&r, "/nonexistent/dir/registry.db", &d),
		   GM_EIO);
	ASSERT(strstr(d.msg, "/nonexistent/dir") != NULL);
}

TEST(versions_ordered_by_semver_precedence)
{
	static const char *const order[] = {"1.2.0", "1.0.0", "1.0.0-beta.11",
					    "1.0.0-beta.2", "1.0.0-alpha"};
	static const char *const insert[] = {
	    "1.0.0-beta.2", "1.0.0", "1.0.0-alpha", "1.2.0", "1.0.0-beta.11"};
	struct gm_registry *r = open_reg();
	struct gm_release_list l;
	struct gm_registry_dep deps[2] = {{"acme", "util", "^1.2"},
					  {"acme", "log", "~0.3"}};
	size_t i;

	for (i = 0; i < 5; i++) {
		struct gm_release_row row = mkrow("acme", "web", insert[i]);

		if (i == 1) {
			row.deps = deps;
			row.n_deps = 2;
		}
		ASSERT_OK(gm_registry_insert_release(r, &row, NULL, NULL));
	}
	ASSERT_OK(gm_registry_find_releases(r, "acme", "web", &l, NULL));
	ASSERT_EQ(l.n, 5);
	for (i = 0; i < 5; i++)
		ASSERT_STREQ(l.rows[i].version, order[i]);
	ASSERT(l.rows[0].latest);
	ASSERT(!l.rows[1].latest);
	ASSERT_EQ(l.rows[1].n_deps, 2);
	ASSERT_STREQ(l.rows[1].deps[1].name, "log");
	ASSERT_STREQ(l.rows[1].deps[1].req, "~0.3");
	ASSERT_STREQ(l.rows[4].semver.pre, "alpha");
	gm_release_list_free(&l);

	ASSERT_OK(
	    gm_registry_find_release(r, "acme", "web", "1.0.0", &l, NULL));
	ASSERT_EQ(l.n, 1);
	ASSERT_STREQ(l.rows[0].description, "a package");
	ASSERT_EQ(l.rows[0].published_at, 1700000000);
	ASSERT_STREQ(l.rows[0].deps[0].ns, "acme");
	gm_release_list_free(&l);
	ASSERT_ERR(
	    gm_registry_find_release(r, "acme", "web", "9.9.9", &l, NULL),
	    GM_ENOENT);
	gm_release_list_free(&l);
	ASSERT_OK(gm_registry_find_releases(r, "acme", "nope", &l, NULL));
	ASSERT_EQ(l.n, 0);
	gm_release_list_free(&l);
	/* Only one row of the package is in the search index. */
	ASSERT_EQ(raw_count(r, "SELECT count(*) FROM release_fts"), 1);
	ASSERT_OK(gm_registry_check(r, NULL));
	gm_registry_close(r);
}

TEST(prerelease_is_latest_only_without_a_release)
{
	struct gm_registry *r = open_reg();
	struct gm_release_row row = mkrow("acme", "tool", "2.0.0-rc.1");
	struct gm_release_list l;

	ASSERT_OK(gm_registry_insert_release(r, &row, NULL, NULL));
	ASSERT_OK(gm_registry_list_packages(r, 0, 0, &l, NULL));
	ASSERT_EQ(l.n, 1);
	ASSERT_STREQ(l.rows[0].version, "2.0.0-rc.1");
	gm_release_list_free(&l);
	row = mkrow("acme", "tool", "1.5.0");
	ASSERT_OK(gm_registry_insert_release(r, &row, NULL, NULL));
	row = mkrow("acme", "tool", "1.4.0");
	ASSERT_OK(gm_registry_insert_release(r, &row, NULL, NULL));
	ASSERT_OK(gm_registry_list_packages(r, 0, 0, &l, NULL));
	ASSERT_EQ(l.n, 1);
	ASSERT_STREQ(l.rows[0].version, "1.5.0");
	gm_release_list_free(&l);
	ASSERT_OK(gm_registry_check(r, NULL));
	gm_registry_close(r);
}

TEST(invalid_rows_refused)
{
	struct gm_registry *r = open_reg();
	struct gm_release_row row = mkrow("Acme", "web", "1.0.0");
	struct gm_registry_dep dep = {"acme", NULL, "^1"};
	struct gm_diag d;

	ASSERT_ERR(gm_registry_insert_release(r, &row, NULL, &d), GM_EINVAL);
	ASSERT(strstr(d.msg, "'Acme'") != NULL);
	row = mkrow("acme", "web", "1.0.0");
	row.deps = &dep;
	row.n_deps = 1;
	ASSERT_ERR(gm_registry_insert_release(r, &row, NULL, &d), GM_EINVAL);
	ASSERT(strstr(d.msg, "dependency 1") != NULL);
	row.n_deps = GM_REGISTRY_DEPS_MAX + 1;
	ASSERT_ERR(gm_registry_insert_release(r, &row, NULL, &d), GM_ELIMIT);
	row.n_deps = 0;
	row.content_state = (enum gm_content_state)5;
	ASSERT_ERR(gm_registry_insert_release(r, &row, NULL, &d), GM_EINVAL);
	/* A publisher key that is not stored breaks the foreign key. */
	row.content_state = GM_CONTENT_ABSENT;
	{
		uint8_t key[32];

		mkkey(key, 1);
		row.publisher = key;
		ASSERT_ERR(gm_registry_insert_release(r, &row, NULL, &d),
			   GM_ECONFLICT);
		ASSERT(strstr(d.msg, "publisher first") != NULL);
	}
	ASSERT_EQ(raw_count(r, "SELECT count(*) FROM releases"), 0);
	gm_registry_close(r);
}

static void add_publisher(struct gm_registry *r, uint8_t seed, const char *fp,
			  const char *handle)
{
	struct gm_publisher_row p;

	memset(&p, 0, sizeof(p));
	mkkey(p.key, seed);
	p.fingerprint = fp;
	p.handle = handle;
	p.seq = 1;
	p.trust = GM_TRUST_FULL;
	ASSERT_OK(gm_registry_upsert_publisher(r, &p, NULL));
}

TEST(duplicate_refused_and_equivocation_kept)
{
	struct gm_registry *r = open_reg();
	struct gm_release_row row = mkrow("acme", "web", "1.0.0");
	struct gm_release_list l;
	struct gm_diag d;
	uint8_t k1[32];
	int64_t id1 = 0, id2 = 0;

	add_publisher(r, 1, "fp-one", "acme");
	mkkey(k1, 1);
	row.publisher = k1;
	row.record_cid = "bafyrecordone";
	row.root_cid = "bafyrootone";
	row.record = (const uint8_t *)"\xa1\x01\x02";
	row.record_len = 3;
	ASSERT_OK(gm_registry_insert_release(r, &row, &id1, NULL));
	ASSERT(id1 > 0);
	/* The same record again. */
	ASSERT_ERR(gm_registry_insert_release(r, &row, NULL, &d), GM_EEXIST);
	ASSERT(strstr(d.msg, "bafyrecordone") != NULL);
	/* Another record of the same version by the same publisher. */
	row.record_cid = "bafyrecordtwo";
	row.root_cid = "bafyroottwo";
	ASSERT_ERR(gm_registry_insert_release(r, &row, NULL, &d), GM_ECONFLICT);
	ASSERT(strstr(d.msg, "acme/web@1.0.0") != NULL);
	ASSERT(strstr(d.msg, "same publisher") != NULL);
	ASSERT_EQ(raw_count(r, "SELECT count(*) FROM releases"), 1);
	/* Kept as evidence when asked. */
	row.equivocation = true;
	ASSERT_OK(gm_registry_insert_release(r, &row, &id2, NULL));
	ASSERT(id2 > id1);
	ASSERT_OK(
	    gm_registry_find_release(r, "acme", "web", "1.0.0", &l, NULL));
	ASSERT_EQ(l.n, 2);
	ASSERT_EQ(l.rows[0].id, id1);
	ASSERT_STREQ(l.rows[0].root_cid, "bafyrootone");
	ASSERT_STREQ(l.rows[1].root_cid, "bafyroottwo");
	ASSERT(l.rows[0].equivocation && l.rows[1].equivocation);
	ASSERT(l.rows[0].latest && !l.rows[1].latest);
	ASSERT_EQ(l.rows[0].record_len, 3);
	ASSERT_MEMEQ(l.rows[0].record, "\xa1\x01\x02", 3);
	ASSERT_MEMEQ(l.rows[0].publisher, k1, 32);
	gm_release_list_free(&l);
	ASSERT_EQ(raw_count(r, "SELECT count(*) FROM release_fts"), 1);
	ASSERT_OK(gm_registry_check(r, NULL));
	gm_registry_close(r);
}

TEST(content_state_updates)
{
	struct gm_registry *r = open_reg();
	struct gm_release_row row = mkrow("acme", "web", "1.0.0");
	struct gm_release_list l;
	int64_t id;

	ASSERT_OK(gm_registry_insert_release(r, &row, &id, NULL));
	ASSERT_OK(
	    gm_registry_set_content_state(r, id, GM_CONTENT_PARTIAL, NULL));
	ASSERT_OK(
	    gm_registry_find_release(r, "acme", "web", "1.0.0", &l, NULL));
	ASSERT_EQ(l.rows[0].content_state, GM_CONTENT_PARTIAL);
	gm_release_list_free(&l);
	ASSERT_OK(
	    gm_registry_set_content_state(r, id, GM_CONTENT_COMPLETE, NULL));
	ASSERT_OK(
	    gm_registry_find_release(r, "acme", "web", "1.0.0", &l, NULL));
	ASSERT_EQ(l.rows[0].content_state, GM_CONTENT_COMPLETE);
	gm_release_list_free(&l);
	ASSERT_ERR(gm_registry_set_content_state(r, id + 100,
						 GM_CONTENT_COMPLETE, NULL),
		   GM_ENOENT);
	ASSERT_ERR(gm_registry_set_content_state(
		       r, id, (enum gm_content_state)3, NULL),
		   GM_EINVAL);
	gm_registry_close(r);
}

TEST(publishers_upsert_lookup_and_trust)
{
	struct gm_registry *r = open_reg();
	struct gm_publisher_row p, got;
	struct gm_diag d;
	uint8_t k2[32];

	memset(&p, 0, sizeof(p));
	mkkey(p.key, 1);
	p.fingerprint = "fp-one";
	p.handle = "acme";
	p.seq = 3;
	p.record = (const uint8_t *)"rec3";
	p.record_len = 4;
	p.trust = GM_TRUST_UNTRUSTED;
	p.first_seen = 1234;
	ASSERT_OK(gm_registry_upsert_publisher(r, &p, NULL));
	ASSERT_OK(gm_registry_get_publisher(r, p.key, &got, NULL));
	ASSERT_STREQ(got.fingerprint, "fp-one");
	ASSERT_STREQ(got.handle, "acme");
	ASSERT_EQ(got.seq, 3);
	ASSERT_EQ(got.first_seen, 1234);
	ASSERT_EQ(got.record_len, 4);
	ASSERT_MEMEQ(got.record, "rec3", 4);
	ASSERT(!got.has_revoked_after && !got.has_successor && !got.pinned);
	gm_publisher_row_release(&got);

	/* An older record never replaces a newer one. */
	p.seq = 2;
	p.record = (const uint8_t *)"rec2";
	ASSERT_ERR(gm_registry_upsert_publisher(r, &p, &d), GM_ECONFLICT);
	ASSERT(strstr(d.msg, "older") != NULL);
	/* A newer one does, keeping trust and first_seen. */
	ASSERT_OK(
	    gm_registry_set_trust(r, p.key, GM_TRUST_MARGINAL, true, NULL));
	mkkey(k2, 2);
	p.seq = 4;
	p.record = (const uint8_t *)"rec4";
	p.trust = GM_TRUST_ULTIMATE;
	p.first_seen = 99;
	p.has_revoked_after = true;
	p.revoked_after = 4;
	p.has_successor = true;
	memcpy(p.successor, k2, 32);
	ASSERT_OK(gm_registry_upsert_publisher(r, &p, NULL));
	ASSERT_OK(
	    gm_registry_get_publisher_by_fingerprint(r, "fp-one", &got, NULL));
	ASSERT_EQ(got.seq, 4);
	ASSERT_EQ(got.trust, GM_TRUST_MARGINAL);
	ASSERT(got.pinned);
	ASSERT_EQ(got.first_seen, 1234);
	ASSERT(got.has_revoked_after && got.revoked_after == 4);
	ASSERT(got.has_successor);
	ASSERT_MEMEQ(got.successor, k2, 32);
	ASSERT_MEMEQ(got.record, "rec4", 4);
	gm_publisher_row_release(&got);

	/* The handle's current key is the one without a successor. */
	add_publisher(r, 2, "fp-two", "acme");
	ASSERT_OK(gm_registry_get_publisher_by_handle(r, "acme", &got, NULL));
	ASSERT_STREQ(got.fingerprint, "fp-two");
	ASSERT_EQ(got.trust, GM_TRUST_FULL);
	gm_publisher_row_release(&got);

	/* A fingerprint belongs to one key. */
	memset(&p, 0, sizeof(p));
	mkkey(p.key, 3);
	p.fingerprint = "fp-two";
	ASSERT_ERR(gm_registry_upsert_publisher(r, &p, &d), GM_ECONFLICT);
	ASSERT(strstr(d.msg, "fp-two") != NULL);
	ASSERT_ERR(gm_registry_get_publisher(r, p.key, &got, &d), GM_ENOENT);
	ASSERT_ERR(gm_registry_get_publisher_by_handle(r, "nobody", &got, &d),
		   GM_ENOENT);
	ASSERT_ERR(gm_registry_set_trust(r, p.key, GM_TRUST_FULL, false, &d),
		   GM_ENOENT);
	ASSERT_ERR(
	    gm_registry_set_trust(r, k2, (enum gm_trust_level)4, false, &d),
	    GM_EINVAL);
	gm_registry_close(r);
}

TEST(outbox_add_list_remove)
{
	struct gm_registry *r = open_reg();
	struct gm_registry_names n;

	ASSERT_OK(gm_registry_outbox_add(r, "bafyb", 20, NULL));
	ASSERT_OK(gm_registry_outbox_add(r, "bafya", 10, NULL));
	ASSERT_OK(gm_registry_outbox_add(r, "bafyb", 5, NULL)); /* kept 20 */
	ASSERT_OK(gm_registry_outbox_list(r, &n, NULL));
	ASSERT_EQ(n.n, 2);
	ASSERT_STREQ(n.v[0], "bafya");
	ASSERT_STREQ(n.v[1], "bafyb");
	gm_registry_names_free(&n);
	ASSERT_OK(gm_registry_outbox_remove(r, "bafya", NULL));
	ASSERT_OK(gm_registry_outbox_remove(r, "bafyzzz", NULL));
	ASSERT_OK(gm_registry_outbox_list(r, &n, NULL));
	ASSERT_EQ(n.n, 1);
	ASSERT_STREQ(n.v[0], "bafyb");
	gm_registry_names_free(&n);
	ASSERT_ERR(gm_registry_outbox_add(r, "", 1, NULL), GM_EINVAL);
	gm_registry_close(r);
}

TEST(namespaces_categories_and_listing)
{
	struct gm_registry *r = open_reg();
	struct gm_release_row row;
	struct gm_registry_names n;
	struct gm_category_list c;
	struct gm_release_list l;
	size_t i;

	row = mkrow("acme", "web", "1.0.0");
	row.categories = "web cli";
	ASSERT_OK(gm_registry_insert_release(r, &row, NULL, NULL));
	row = mkrow("acme", "web", "1.1.0");
	row.categories = "web cli";
	ASSERT_OK(gm_registry_insert_release(r, &row, NULL, NULL));
	row = mkrow("zeta", "web", "0.1.0");
	row.categories = "web unknown";
	ASSERT_OK(gm_registry_insert_release(r, &row, NULL, NULL));
	row = mkrow("acme", "db", "0.1.0");
	ASSERT_OK(gm_registry_insert_release(r, &row, NULL, NULL));

	ASSERT_OK(gm_registry_namespaces_for(r, "web", &n, NULL));
	ASSERT_EQ(n.n, 2);
	ASSERT_STREQ(n.v[0], "acme");
	ASSERT_STREQ(n.v[1], "zeta");
	gm_registry_names_free(&n);
	ASSERT_OK(gm_registry_namespaces_for(r, "db", &n, NULL));
	ASSERT_EQ(n.n, 1);
	gm_registry_names_free(&n);

	ASSERT_OK(gm_registry_list_categories(r, &c, NULL));
	for (i = 0; i < c.n; i++) {
		if (strcmp(c.v[i].name, "web") == 0)
			ASSERT_EQ(c.v[i].count, 2);
		else if (strcmp(c.v[i].name, "cli") == 0)
			ASSERT_EQ(c.v[i].count, 1);
		else
			ASSERT_EQ(c.v[i].count, 0);
	}
	gm_category_list_free(&c);

	ASSERT_OK(gm_registry_list_packages(r, 0, 0, &l, NULL));
	ASSERT_EQ(l.n, 3);
	ASSERT_STREQ(l.rows[0].name, "db");
	ASSERT_STREQ(l.rows[1].version, "1.1.0");
	ASSERT_STREQ(l.rows[2].ns, "zeta");
	gm_release_list_free(&l);
	ASSERT_OK(gm_registry_list_packages(r, 1, 1, &l, NULL));
	ASSERT_EQ(l.n, 1);
	ASSERT_STREQ(l.rows[0].name, "web");
	ASSERT_STREQ(l.rows[0].ns, "acme");
	gm_release_list_free(&l);
	gm_registry_close(r);
}

TEST(rollback_leaves_nothing)
{
	struct gm_registry *r = open_reg();
	struct gm_release_row row = mkrow("acme", "web", "1.0.0");
	struct gm_release_list l;
	struct gm_diag d;

	ASSERT_ERR(gm_registry_commit(r, &d), GM_EUSAGE);
	ASSERT_OK(gm_registry_begin(r, NULL));
	ASSERT_ERR(gm_registry_begin(r, &d), GM_EUSAGE);
	ASSERT_OK(gm_registry_insert_release(r, &row, NULL, NULL));
	row = mkrow("acme", "web", "2.0.0");
	ASSERT_OK(gm_registry_insert_release(r, &row, NULL, NULL));
	ASSERT_OK(gm_registry_outbox_add(r, "bafyx", 1, NULL));
	/* A failing call inside the transaction undoes only itself. */
	ASSERT_ERR(gm_registry_insert_release(r, &row, NULL, NULL),
		   GM_ECONFLICT);
	ASSERT_EQ(raw_count(r, "SELECT count(*) FROM releases"), 2);
	ASSERT_OK(gm_registry_rollback(r, NULL));
	ASSERT_EQ(raw_count(r, "SELECT count(*) FROM releases"), 0);
	ASSERT_EQ(raw_count(r, "SELECT count(*) FROM outbox"), 0);
	ASSERT_EQ(raw_count(r, "SELECT count(*) FROM release_fts"), 0);
	ASSERT_OK(gm_registry_find_releases(r, "acme", "web", &l, NULL));
	ASSERT_EQ(l.n, 0);
	gm_release_list_free(&l);
	/* And a commit keeps. */
	ASSERT_OK(gm_registry_begin(r, NULL));
	ASSERT_OK(gm_registry_insert_release(r, &row, NULL, NULL));
	ASSERT_OK(gm_registry_commit(r, NULL));
	gm_registry_close(r);
	r = open_reg();
	ASSERT_EQ(raw_count(r, "SELECT count(*) FROM releases"), 1);
	gm_registry_close(r);
}

TEST(integrity_check_reports_corruption)
{
	struct gm_registry *r = open_reg();
	struct gm_release_row row = mkrow("acme", "web", "1.0.0");
	struct gm_diag d;

	ASSERT_OK(gm_registry_insert_release(r, &row, NULL, NULL));
	ASSERT_OK(gm_registry_check(r, NULL));
	/* A row changed behind the index's back. */
	ASSERT_EQ(sqlite3_exec(gm__registry_db(r),
			       "UPDATE releases SET name = 'other'", NULL, NULL,
			       NULL),
		  SQLITE_OK);
	ASSERT_ERR(gm_registry_check(r, &d), GM_ECORRUPT);
	ASSERT(strstr(d.msg, "search index") != NULL);
	gm_registry_close(r);
}

TEST(bulk_load_then_searchable)
{
	struct gm_registry *r = open_reg();
	struct gm_registry_bulk *b;
	struct gm_search_query q;
	struct gm_search_result res;
	struct gm_release_list l;
	uint64_t added, skipped;
	char name[32], desc[64];
	int i;

	ASSERT_OK(gm_registry_bulk_begin(r, &b, NULL));
	for (i = 0; i < 3000; i++) {
		struct gm_release_row row;

		snprintf(name, sizeof(name), "pkg%04d", i);
		snprintf(desc, sizeof(desc), "generated package number %d%s", i,
			 i % 100 == 7 ? " with zebra stripes" : "");
		row = mkrow("gen", name, "1.0.0");
		row.description = desc;
		ASSERT_OK(gm_registry_bulk_add(b, &row, NULL));
	}
	/* A duplicate is skipped; a newer version becomes the latest. */
	{
		struct gm_release_row row = mkrow("gen", "pkg0001", "1.0.0");

		ASSERT_OK(gm_registry_bulk_add(b, &row, NULL));
		row = mkrow("gen", "pkg0001", "1.1.0");
		row.description = "now with unicorns";
		ASSERT_OK(gm_registry_bulk_add(b, &row, NULL));
	}
	ASSERT_ERR(gm_registry_insert_release(r, &(struct gm_release_row){0},
					      NULL, NULL),
		   GM_EUSAGE);
	ASSERT_OK(gm_registry_bulk_commit(b, &added, &skipped, NULL));
	ASSERT_EQ(added, 3001);
	ASSERT_EQ(skipped, 1);
	ASSERT_EQ(raw_count(r, "PRAGMA synchronous"), 2);
	ASSERT_EQ(raw_count(r, "SELECT count(*) FROM release_fts"), 3000);
	ASSERT_OK(gm_registry_check(r, NULL));

	memset(&q, 0, sizeof(q));
	q.text = "zebra";
	q.limit = 100;
	ASSERT_OK(gm_search(r, &q, &res, NULL));
	ASSERT_EQ(res.total, 30);
	ASSERT_EQ(res.n, 30);
	gm_search_result_free(&res);
	q.text = "unicorns";
	ASSERT_OK(gm_search(r, &q, &res, NULL));
	ASSERT_EQ(res.total, 1);
	ASSERT_STREQ(res.hits[0].version, "1.1.0");
	gm_search_result_free(&res);

	/* A second bulk load into a non-empty registry indexes row by row. */
	ASSERT_OK(gm_registry_bulk_begin(r, &b, NULL));
	{
		struct gm_release_row row = mkrow("gen", "pkg0002", "2.0.0");

		row.description = "reborn as a giraffe";
		ASSERT_OK(gm_registry_bulk_add(b, &row, NULL));
	}
	ASSERT_OK(gm_registry_bulk_commit(b, NULL, NULL, NULL));
	q.text = "giraffe";
	ASSERT_OK(gm_search(r, &q, &res, NULL));
	ASSERT_EQ(res.total, 1);
	gm_search_result_free(&res);
	ASSERT_OK(gm_registry_check(r, NULL));

	/* An aborted load leaves nothing. */
	ASSERT_OK(gm_registry_bulk_begin(r, &b, NULL));
	{
		struct gm_release_row row = mkrow("gen", "lost", "1.0.0");

		ASSERT_OK(gm_registry_bulk_add(b, &row, NULL));
	}
	gm_registry_bulk_abort(b);
	ASSERT_OK(gm_registry_find_releases(r, "gen", "lost", &l, NULL));
	ASSERT_EQ(l.n, 0);
	gm_release_list_free(&l);
	gm_registry_close(r);
}

/* Walks the allocation failures of the main read paths. */
TEST(out_of_memory_paths)
{
	struct gm_registry *r = open_reg();
	struct gm_release_row row = mkrow("acme", "web", "1.0.0");
	struct gm_registry_dep dep = {"acme", "util", "^1"};
	unsigned long n;
	gm_err e;

	row.deps = &dep;
	row.n_deps = 1;
	ASSERT_OK(gm_registry_insert_release(r, &row, NULL, NULL));
	add_publisher(r, 1, "fp-one", "acme");
	for (n = 1;; n++) {
		struct gm_release_list l;

		gm_alloc_fail_after(n);
		e = gm_registry_find_releases(r, "acme", "web", &l, NULL);
		gm_alloc_fail_after(0);
		if (e == GM_OK) {
			ASSERT_EQ(l.n, 1);
			ASSERT_EQ(l.rows[0].n_deps, 1);
			gm_release_list_free(&l);
			break;
		}
		ASSERT_ERR(e, GM_ENOMEM);
		ASSERT_EQ(l.n, 0);
	}
	ASSERT(n > 1);
	for (n = 1;; n++) {
		struct gm_publisher_row p;

		gm_alloc_fail_after(n);
		e = gm_registry_get_publisher_by_handle(r, "acme", &p, NULL);
		gm_alloc_fail_after(0);
		if (e == GM_OK) {
			ASSERT_STREQ(p.handle, "acme");
			gm_publisher_row_release(&p);
			break;
		}
		ASSERT_ERR(e, GM_ENOMEM);
	}
	for (n = 1;; n++) {
		struct gm_registry *r2 = NULL;

		gm_alloc_fail_after(n);
		e = gm_registry_open(&r2, db_path(), NULL);
		gm_alloc_fail_after(0);
		if (e == GM_OK) {
			gm_registry_close(r2);
			break;
		}
		ASSERT_ERR(e, GM_ENOMEM);
		ASSERT(r2 == NULL);
	}
	gm_registry_close(r);
}

TEST(trust_records_are_kept_once_and_listed_by_sequence)
{
	struct gm_registry *r = open_reg();
	struct gm_trust_record_list l;
	const uint8_t a[] = {1, 2, 3}, b[] = {4, 5};

	ASSERT_OK(gm_registry_add_trust_record(r, "bafyb", "acme", 3, 2, b,
					       sizeof(b), 10, NULL));
	ASSERT_OK(gm_registry_add_trust_record(r, "bafya", "acme", 1, 1, a,
					       sizeof(a), 10, NULL));
	ASSERT_OK(gm_registry_add_trust_record(r, "bafya", "acme", 1, 1, a,
					       sizeof(a), 11, NULL));
	ASSERT_OK(gm_registry_add_trust_record(r, "bafyc", "other", 1, 1, a,
					       sizeof(a), 10, NULL));
	ASSERT_OK(gm_registry_trust_records(r, "acme", &l, NULL));
	ASSERT_EQ(l.n, 2);
	ASSERT_STREQ(l.v[0].cid, "bafya");
	ASSERT_EQ(l.v[0].type, 1);
	ASSERT_EQ(l.v[0].len, 3);
	ASSERT_MEMEQ(l.v[0].record, a, 3);
	ASSERT_EQ(l.v[1].seq, 2);
	gm_trust_record_list_free(&l);
	ASSERT_OK(gm_registry_trust_records(r, "nobody", &l, NULL));
	ASSERT_EQ(l.n, 0);
	gm_trust_record_list_free(&l);
	gm_registry_close(r);
}
