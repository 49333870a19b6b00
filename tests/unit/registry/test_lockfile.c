/*
 * test_lockfile.c - ggen.lock reading, writing and checking.
 */
#include "harness.h"

#include "gm/fs.h"
#include "gm/lockfile.h"

static const char *const root_cid =
	"bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354";
static const char *const rel_cid =
	"bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4";

static void make_entry(struct gm_lock_entry *e, const char *ns,
		       const char *name, const char *version, char **deps,
		       size_t n_deps)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->ns, sizeof(e->ns), "%s", ns);
	snprintf(e->name, sizeof(e->name), "%s", name);
	ASSERT_OK(gm_semver_parse(&e->version, version, strlen(version), NULL));
	e->kind = GM_PACKAGE_TEMPLATE;
	ASSERT_OK(gm_cid_parse(&e->root, root_cid, strlen(root_cid), NULL));
	ASSERT_OK(gm_cid_parse(&e->release, rel_cid, strlen(rel_cid), NULL));
	snprintf(e->publisher, sizeof(e->publisher), "SHA256:abc+/def");
	e->deps = deps;
	e->n_deps = n_deps;
}

static const char expected[] =
	"# This file is written by ggen; do not edit it by hand.\n"
	"version = 1\n"
	"\n[requires]\n"
	"\"acme/web-framework\" = \"^1.2\"\n"
	"\n[[package]]\n"
	"id = \"acme/http-middleware\"\n"
	"version = \"0.3.1\"\n"
	"kind = \"template\"\n"
	"root = \"bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354\"\n"
	"publisher = \"SHA256:abc+/def\"\n"
	"release = \"bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4\"\n"
	"dependencies = []\n"
	"\n[[package]]\n"
	"id = \"acme/web-framework\"\n"
	"version = \"1.2.0-rc.1\"\n"
	"kind = \"template\"\n"
	"root = \"bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354\"\n"
	"publisher = \"SHA256:abc+/def\"\n"
	"release = \"bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4\"\n"
	"dependencies = [\"acme/http-middleware\"]\n";

static void build(struct gm_lockfile *l)
{
	struct gm_lock_entry e;
	char *deps[] = {"acme/http-middleware"};

	gm_lockfile_init(l);
	make_entry(&e, "acme", "web-framework", "1.2.0-rc.1", deps, 1);
	ASSERT_OK(gm_lockfile_add(l, &e));
	make_entry(&e, "acme", "http-middleware", "0.3.1", NULL, 0);
	ASSERT_OK(gm_lockfile_add(l, &e));
	ASSERT_ERR(gm_lockfile_add(l, &e), GM_EEXIST);
	ASSERT_OK(gm_lockfile_set_req(l, "acme", "web-framework", "^1.0"));
	ASSERT_OK(gm_lockfile_set_req(l, "acme", "web-framework", "^1.2"));
	ASSERT_OK(gm_lockfile_set_req(l, "zed", "x", "*"));
	ASSERT_OK(gm_lockfile_set_req(l, "zed", "x", NULL));
	ASSERT_ERR(gm_lockfile_set_req(l, "zed", "x", NULL), GM_ENOENT);
	ASSERT_EQ(l->n_reqs, 1);
}

TEST(format_is_canonical_and_sorted)
{
	struct gm_lockfile l;
	struct gm_buf b;

	build(&l);
	gm_buf_init(&b, 1 << 20);
	ASSERT_OK(gm_lockfile_format(&l, &b));
	ASSERT_STREQ((char *)b.data, expected);
	gm_buf_release(&b);
	gm_lockfile_release(&l);
}

TEST(parse_round_trips)
{
	struct gm_lockfile l, p;
	const struct gm_lock_entry *e;
	struct gm_diag d;
	char *path = gm_path_join(gm_test_tmpdir(), "ggen.lock");

	build(&l);
	ASSERT_OK(gm_lockfile_save(&l, path, &d));
	gm_lockfile_init(&p);
	ASSERT_OK(gm_lockfile_load(&p, path, &d));
	ASSERT(gm_lockfile_equal(&l, &p));
	e = gm_lockfile_find(&p, "acme", "web-framework");
	ASSERT(e != NULL);
	ASSERT_EQ(e->n_deps, 1);
	ASSERT_STREQ(e->deps[0], "acme/http-middleware");
	ASSERT_STREQ(e->version.pre, "rc.1");
	ASSERT(gm_lockfile_find(&p, "acme", "nope") == NULL);
	ASSERT_EQ(p.n_reqs, 1);
	ASSERT_STREQ(p.reqs[0].req, "^1.2");
	ASSERT_STREQ(p.reqs[0].name, "web-framework");
	ASSERT_OK(gm_lockfile_remove(&p, "acme", "http-middleware"));
	ASSERT_ERR(gm_lockfile_remove(&p, "acme", "http-middleware"),
		   GM_ENOENT);
	ASSERT_EQ(p.n, 1);
	gm_lockfile_release(&p);
	gm_lockfile_release(&l);
	gm_free(path);
}

static void expect_bad(const char *text, const char *needle, uint32_t line)
{
	struct gm_lockfile l;
	struct gm_diag d;
	gm_err e;

	gm_lockfile_init(&l);
	gm_diag_clear(&d);
	e = gm_lockfile_parse(&l, text, strlen(text), &d);
	if (e == GM_OK)
		gm_test_fail(__FILE__, __LINE__, "accepted: %s", text);
	if (!strstr(d.msg, needle))
		gm_test_fail(__FILE__, __LINE__, "message '%s' lacks '%s'",
			     d.msg, needle);
	if (line && d.line != line)
		gm_test_fail(__FILE__, __LINE__, "line %u, expected %u", d.line,
			     line);
	ASSERT_EQ(l.n, 0);
}

TEST(bad_files_are_refused_with_position)
{
	char text[4096];

	expect_bad("version = 2\n", "must be 1", 1);
	expect_bad("version = 1\nextra = 3\n", "unknown key 'extra'", 2);
	expect_bad("version = 1\n[[package]]\nid = \"acme/x\"\n", "no 'version'",
		   0);
	snprintf(text, sizeof(text), "%s", expected);
	*strstr(text, "0.3.1") = 'x';
	expect_bad(text, "not a SemVer version", 9);
	snprintf(text, sizeof(text), "%s", expected);
	*strstr(text, "bafybei") = 'Q';
	expect_bad(text, "not a valid CID", 0);
	snprintf(text, sizeof(text), "%s", expected);
	memcpy(strstr(text, "acme/web-framework"), "acme/http-middleware", 20);
	expect_bad(text, "", 0);
	expect_bad("version = 1\n[[package]]\nid = \"ACME/x\"\n", "package id",
		   3);
	expect_bad("version = 1\n[[package]]\nfoo = 1\n", "unknown key 'foo'",
		   3);
	expect_bad("version = 1\nversion = 1\n", "", 2);
	expect_bad("version = 1\n[requires]\n\"acme/x\" = \"^^1\"\n",
		   "bad version requirement", 3);
	expect_bad("version = 1\n[requires]\nx = \"1\"\n", "not a package id",
		   3);
}

TEST(duplicate_ids_are_refused)
{
	char text[8192];
	const char *second = strstr(expected, "\n[[package]]\nid = \"acme/web");

	/* the first entry twice */
	snprintf(text, sizeof(text), "%.*s%.*s",
		 (int)(second - expected), expected,
		 (int)(second - strstr(expected, "\n[[package]]")),
		 strstr(expected, "\n[[package]]"));
	expect_bad(text, "listed twice", 0);
}

TEST(out_of_memory_walk)
{
	unsigned long n;

	for (n = 1;; n++) {
		struct gm_lockfile l;
		gm_err e;

		gm_lockfile_init(&l);
		gm_alloc_fail_after(n);
		e = gm_lockfile_parse(&l, expected, strlen(expected), NULL);
		gm_alloc_fail_after(0);
		gm_lockfile_release(&l);
		if (e == GM_OK)
			break;
		ASSERT_ERR(e, GM_ENOMEM);
		ASSERT(n < 10000);
	}
}
