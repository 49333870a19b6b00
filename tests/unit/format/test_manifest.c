/*
 * test_manifest.c - ggen.toml: the schema, its diagnostics (message and
 * line:column), package names and ids, SPDX expressions, loading from disk
 * and the out-of-memory paths.
 */
#include "harness.h"

#include "gm/fs.h"
#include "gm/manifest.h"

static const char full[] =
    "# a complete manifest\n"
    "[package]\n"
    "name = \"lint-rules\"\n"
    "namespace = \"acme\"\n"
    "version = \"1.2.3-rc.1+build.5\"\n"
    "kind = \"validator\"\n"
    "description = \"Checks a project against ACME's rules.\"\n"
    "license = \"(MIT AND BSD-3-Clause) OR Apache-2.0\"\n"
    "authors = [\"Ada <ada@example.org>\", \"Bob\"]\n"
    "keywords = [\"lint\", \"rules\", \"c11\"]\n"
    "categories = [\"Development tools\"]\n"
    "homepage = \"https://acme.example/lint\"\n"
    "repository = \"http://git.acme.example/lint.git\"\n"
    "readme = \"docs/README.md\"\n"
    "\n"
    "[dependencies]\n"
    "\"acme/base\" = \"^1.2\"\n"
    "\"other_ns/util-x\" = { version = \">= 1.2, < 1.5\" }\n"
    "\n"
    "[plugin]\n"
    "entry = \"plugin/lint.wasm\"\n"
    "capabilities = [\"fs-read\", \"stdout\", \"stderr\"]\n"
    "\n"
    "[plugin.limits]\n"
    "memory_mb = 256\n"
    "fuel = 1000000000\n"
    "timeout_ms = 30000\n"
    "stack = 1048576\n";

static const char minimal[] = "[package]\n"
			      "name = \"t\"\n"
			      "namespace = \"ns\"\n"
			      "version = \"0.1.0\"\n"
			      "kind = \"template\"\n"
			      "description = \"A template.\"\n";

static gm_err parse(struct gm_manifest *m, const char *text, struct gm_diag *d)
{
	gm_manifest_init(m);
	gm_diag_clear(d);
	return gm_manifest_parse(m, text, strlen(text), d);
}

/* Parses text, expects err and a message starting with want. */
static void expect_fail(const char *text, gm_err err, const char *want,
			uint32_t line, uint32_t col, int src_line)
{
	struct gm_manifest m;
	struct gm_diag d;
	gm_err e = parse(&m, text, &d);

	if (e != err || strncmp(d.msg, want, strlen(want)) != 0)
		gm_test_fail(__FILE__, src_line,
			     "got %s \"%s\"\n  want %s \"%s\"", gm_errname(e),
			     d.msg, gm_errname(err), want);
	if (line && (d.line != line || d.column != col))
		gm_test_fail(__FILE__, src_line, "at %u:%u, want %u:%u", d.line,
			     d.column, line, col);
	/* A failed parse leaves the manifest empty. */
	if (m.description || m.deps || m.name[0] || m.has_plugin)
		gm_test_fail(__FILE__, src_line, "manifest not emptied");
	gm_manifest_release(&m);
}

#define FAIL(text, err, want) expect_fail(text, err, want, 0, 0, __LINE__)
#define FAIL_AT(text, err, want, l, c)                                         \
	expect_fail(text, err, want, l, c, __LINE__)

#define VALIDATOR                                                              \
	"[package]\n"                                                          \
	"name = \"v\"\n"                                                       \
	"namespace = \"ns\"\n"                                                 \
	"version = \"1.0.0\"\n"                                                \
	"kind = \"validator\"\n"                                               \
	"description = \"A validator.\"\n"

/* minimal with extra lines appended */
static const char *with(const char *extra)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s%s", minimal, extra);
	return buf;
}

TEST(full_manifest_reads_back_exactly)
{
	struct gm_manifest m;
	struct gm_diag d;
	char buf[64];

	ASSERT_OK(parse(&m, full, &d));
	ASSERT_STREQ(m.name, "lint-rules");
	ASSERT_STREQ(m.ns, "acme");
	ASSERT_EQ(m.version.major, 1);
	ASSERT_EQ(m.version.minor, 2);
	ASSERT_EQ(m.version.patch, 3);
	ASSERT_STREQ(m.version.pre, "rc.1");
	ASSERT_STREQ(m.version.build, "build.5");
	ASSERT_EQ(m.kind, GM_PACKAGE_VALIDATOR);
	ASSERT_STREQ(gm_package_kind_name(m.kind), "validator");
	ASSERT_STREQ(m.description, "Checks a project against ACME's rules.");
	ASSERT_STREQ(m.license, "(MIT AND BSD-3-Clause) OR Apache-2.0");
	ASSERT_EQ(m.n_authors, 2);
	ASSERT_STREQ(m.authors[0], "Ada <ada@example.org>");
	ASSERT_STREQ(m.authors[1], "Bob");
	ASSERT_EQ(m.n_keywords, 3);
	ASSERT_STREQ(m.keywords[0], "lint");
	ASSERT_STREQ(m.keywords[1], "rules");
	ASSERT_STREQ(m.keywords[2], "c11");
	ASSERT_EQ(m.n_categories, 1);
	ASSERT_STREQ(m.categories[0], "Development tools");
	ASSERT_STREQ(m.homepage, "https://acme.example/lint");
	ASSERT_STREQ(m.repository, "http://git.acme.example/lint.git");
	ASSERT_STREQ(m.readme, "docs/README.md");

	ASSERT_EQ(m.n_deps, 2);
	ASSERT_STREQ(m.deps[0].ns, "acme");
	ASSERT_STREQ(m.deps[0].name, "base");
	ASSERT_STREQ(m.deps[0].req_text, "^1.2");
	gm_semver_req_format(&m.deps[0].req, buf, sizeof(buf));
	ASSERT_STREQ(buf, "^1.2");
	ASSERT_STREQ(m.deps[1].ns, "other_ns");
	ASSERT_STREQ(m.deps[1].name, "util-x");
	ASSERT_STREQ(m.deps[1].req_text, ">= 1.2, < 1.5");
	ASSERT_EQ(m.deps[1].req.n, 2);
	gm_semver_req_format(&m.deps[1].req, buf, sizeof(buf));
	ASSERT_STREQ(buf, ">=1.2, <1.5");

	ASSERT(m.has_plugin);
	ASSERT_STREQ(m.plugin.entry, "plugin/lint.wasm");
	ASSERT_EQ(m.plugin.capabilities,
		  GM_CAP_FS_READ | GM_CAP_STDOUT | GM_CAP_STDERR);
	ASSERT_EQ(m.plugin.limits.memory_mb, 256);
	ASSERT_EQ(m.plugin.limits.fuel, 1000000000);
	ASSERT_EQ(m.plugin.limits.timeout_ms, 30000);
	ASSERT_EQ(m.plugin.limits.stack, 1048576);

	/* Parsing again into the same value replaces it. */
	ASSERT_OK(gm_manifest_parse(&m, minimal, strlen(minimal), &d));
	ASSERT_STREQ(m.name, "t");
	ASSERT(!m.has_plugin && m.n_deps == 0 && m.license == NULL);
	ASSERT(m.homepage == NULL && m.authors == NULL && m.n_keywords == 0);
	ASSERT_EQ(m.kind, GM_PACKAGE_TEMPLATE);
	gm_manifest_release(&m);
	gm_manifest_release(&m); /* twice is fine */
}

TEST(each_required_key_missing)
{
	static const char *const keys[] = {"name", "namespace", "version",
					   "kind", "description"};
	char text[512], want[128];
	size_t i;

	for (i = 0; i < GM_ARRAY_LEN(keys); i++) {
		const char *line = strstr(minimal, keys[i]);
		const char *eol;

		/* "name" also starts "namespace": find the line start. */
		while (line && line[-1] != '\n')
			line = strstr(line + 1, keys[i]);
		ASSERT(line != NULL);
		eol = strchr(line, '\n');
		snprintf(text, sizeof(text), "%.*s%s", (int)(line - minimal),
			 minimal, eol + 1);
		snprintf(want, sizeof(want),
			 "missing required key '%s' in [package]", keys[i]);
		FAIL_AT(text, GM_EFORMAT, want, 1, 1);
	}
	FAIL_AT("", GM_EFORMAT, "missing required table [package]", 1, 1);
	FAIL("[dependencies]\n", GM_EFORMAT,
	     "missing required table [package]");
}

TEST(each_wrong_type)
{
	FAIL_AT("[package]\nname = 1\n", GM_EFORMAT,
		"wrong type for 'name' in [package] at 2:8: expected a "
		"string, found integer",
		2, 8);
	FAIL("[package]\nversion = 1.5\n", GM_EFORMAT,
	     "wrong type for 'version' in [package] at 2:11: expected a "
	     "string, found float");
	FAIL("[package]\nkind = true\n", GM_EFORMAT,
	     "wrong type for 'kind' in [package] at 2:8: expected a string, "
	     "found bool");
	FAIL(with("keywords = \"lint\"\n"), GM_EFORMAT,
	     "wrong type for 'keywords' in [package] at 7:12: expected an "
	     "array of strings, found string");
	FAIL(with("authors = [\"a\", 2]\n"), GM_EFORMAT,
	     "wrong type for 'authors' in [package] at 7:17: expected an "
	     "array of strings, found integer");
	FAIL(with("categories = {}\n"), GM_EFORMAT,
	     "wrong type for 'categories' in [package]");
	FAIL(with("homepage = 1979-05-27\n"), GM_EFORMAT,
	     "wrong type for 'homepage' in [package] at 7:12: expected a "
	     "string");
	FAIL("package = \"x\"\n", GM_EFORMAT,
	     "wrong type for 'package' in the top level at 1:11: expected a "
	     "table, found string");
	FAIL(with("[dependencies]\n\"a/b\" = 1\n"), GM_EFORMAT,
	     "wrong type for 'a/b' in [dependencies] at 8:9: expected a "
	     "requirement string or a table");
	FAIL(with("[dependencies]\n\"a/b\" = { version = 1 }\n"), GM_EFORMAT,
	     "wrong type for 'version' in [dependencies.\"a/b\"] at 8:21: "
	     "expected a string, found integer");
}

TEST(unknown_keys_name_table_position_and_suggestion)
{
	FAIL_AT("[package]\nname = \"x\"\nnamespace = \"y\"\n"
		"descripton = \"z\"\n",
		GM_EFORMAT,
		"unknown key 'descripton' in [package] at 4:1; did you mean "
		"'description'?",
		4, 1);
	FAIL_AT(with("  licence = \"MIT\"\n"), GM_EFORMAT,
		"unknown key 'licence' in [package] at 7:3; did you mean "
		"'license'?",
		7, 3);
	FAIL_AT(with("zzzzzzzz = 1\n"), GM_EFORMAT,
		"unknown key 'zzzzzzzz' in [package] at 7:1; the known keys "
		"are name, namespace, version, kind, description, license,",
		7, 1);
	FAIL(with("[dependency]\n"), GM_EFORMAT,
	     "unknown key 'dependency' in the top level at 7:2; did you mean "
	     "'dependencies'?");
	FAIL(with("[dependencies]\n\"a/b\" = { versoin = \"1\" }\n"),
	     GM_EFORMAT,
	     "unknown key 'versoin' in [dependencies.\"a/b\"] at 8:11; did "
	     "you mean 'version'?");
	FAIL_AT(VALIDATOR "[plugin]\nentri = \"a.wasm\"\n", GM_EFORMAT,
		"unknown key 'entri' in [plugin] at 8:1; did you mean "
		"'entry'?",
		8, 1);
	FAIL(VALIDATOR "[plugin.limits]\nmemory = 1\n", GM_EFORMAT,
	     "unknown key 'memory' in [plugin.limits] at 8:1; did you mean "
	     "'memory_mb'?");
	/* Keys with odd bytes are shown safely. */
	FAIL(with("\"a\\u0000b\\tc\" = 1\n"), GM_EFORMAT,
	     "unknown key 'a?b?c' in [package] at 7:1");
}

TEST(names_are_checked)
{
	static const char *const bad[] = {
	    "Lint",
	    "lint rules",
	    "",
	    "-lint",
	    "_lint",
	    "lint.rules",
	    "lint/x",
	    "l\xc3\xa9",
	    "LINT",
	    ("a12345678901234567890123456789012345678901234567890123456789"
	     "01234"),
	};
	static const char *const good[] = {
	    "a",
	    "lint",
	    "lint-rules",
	    "lint_rules",
	    "0lint",
	    "9",
	    ("a1234567890123456789012345678901234567890123456789012345678"
	     "90123"),
	};
	char text[512];
	size_t i;

	for (i = 0; i < GM_ARRAY_LEN(bad); i++) {
		ASSERT(!gm_package_name_valid(bad[i], strlen(bad[i])));
		snprintf(text, sizeof(text), "[package]\nname = \"%s\"\n",
			 bad[i]);
		FAIL_AT(text, GM_EFORMAT, "invalid name '", 2, 8);
		snprintf(text, sizeof(text), "[package]\nnamespace = \"%s\"\n",
			 bad[i]);
		FAIL_AT(text, GM_EFORMAT, "invalid namespace '", 2, 13);
	}
	FAIL("[package]\nname = \"Lint\"\n", GM_EFORMAT,
	     "invalid name 'Lint' for 'name' in [package] at 2:8: use 1 to "
	     "64 lowercase letters, digits, '-' or '_', starting with a "
	     "letter or a digit");
	for (i = 0; i < GM_ARRAY_LEN(good); i++)
		ASSERT(gm_package_name_valid(good[i], strlen(good[i])));
	ASSERT_EQ(strlen(good[6]), 64);
	ASSERT_EQ(strlen(bad[9]), 65);
	/* Length is what counts, not a NUL. */
	ASSERT(!gm_package_name_valid("ab\0c", 4));
	ASSERT(gm_package_name_valid("ab\0c", 2));
}

TEST(package_ids)
{
	char ns[GM_PACKAGE_NAME_MAX + 1], name[GM_PACKAGE_NAME_MAX + 1];
	struct gm_diag d;

	ASSERT_OK(gm_package_id_parse("acme/lint-rules", 15, ns, name, &d));
	ASSERT_STREQ(ns, "acme");
	ASSERT_STREQ(name, "lint-rules");
	ASSERT_ERR(gm_package_id_parse("acme", 4, ns, name, &d), GM_EINVAL);
	ASSERT_STREQ(d.msg, "invalid package id 'acme': expected "
			    "namespace/name");
	ASSERT_ERR(gm_package_id_parse("Acme/x", 6, ns, name, &d), GM_EINVAL);
	ASSERT(strstr(d.msg, "invalid namespace in package id 'Acme/x'") ==
	       d.msg);
	ASSERT_ERR(gm_package_id_parse("acme/x/y", 8, ns, name, &d), GM_EINVAL);
	ASSERT(strstr(d.msg, "invalid name in package id 'acme/x/y'") == d.msg);
	ASSERT_ERR(gm_package_id_parse("/x", 2, ns, name, &d), GM_EINVAL);
	ASSERT_ERR(gm_package_id_parse("x/", 2, ns, name, &d), GM_EINVAL);
	ASSERT_ERR(gm_package_id_parse("", 0, ns, name, &d), GM_EINVAL);
	ASSERT_ERR(gm_package_id_parse("a/b\n", 4, ns, name, &d), GM_EINVAL);
	ASSERT_STREQ(d.msg, "invalid name in package id 'a/b?': use 1 to 64 "
			    "lowercase letters, digits, '-' or '_', starting "
			    "with a letter or a digit");
	/* Only len bytes are read. */
	ASSERT_OK(gm_package_id_parse("a/bc", 3, ns, name, &d));
	ASSERT_STREQ(name, "b");
}

struct spdx_case {
	const char *expr;
	const char *msg; /* NULL when valid */
};

TEST(spdx_expressions)
{
	static const struct spdx_case cases[] = {
	    {"MIT", NULL},
	    {"MIT OR Apache-2.0", NULL},
	    {"(MIT AND BSD-3-Clause) OR GPL-2.0-or-later WITH "
	     "Classpath-exception-2.0",
	     NULL},
	    {"LicenseRef-acme", NULL},
	    {"GPL-2.0+", NULL},
	    {"DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2", NULL},
	    {"((MIT))", NULL},
	    {"MIT AND (Apache-2.0 OR (BSD-2-Clause AND Zlib))", NULL},
	    {"  MIT\tOR  0BSD ", NULL},
	    {"MIT OR",
	     "invalid license expression 'MIT OR': expected a license id "
	     "at character 7 (the end)"},
	    {"AND MIT",
	     "invalid license expression 'AND MIT': expected a license id "
	     "at character 1 ('AND')"},
	    {"(MIT", "invalid license expression '(MIT': expected ')' at "
		     "character 5 (the end)"},
	    {"MIT)", "invalid license expression 'MIT)': unmatched ')' at "
		     "character 4 (')')"},
	    {"MIT or Apache-2.0",
	     "invalid license expression 'MIT or Apache-2.0': operators "
	     "AND, OR and WITH must be upper case at character 5 ('or')"},
	    {"", "empty license expression"},
	    {"   ", "empty license expression"},
	    {"MIT Apache-2.0",
	     "invalid license expression 'MIT Apache-2.0': expected AND, "
	     "OR or WITH at character 5 ('Apache-2.0')"},
	    {"MIT WITH",
	     "invalid license expression 'MIT WITH': expected an exception "
	     "id after WITH at character 9 (the end)"},
	    {"MIT WITH (X)", "invalid license expression 'MIT WITH (X)': "
			     "expected an exception id"},
	    {"()", "invalid license expression '()': expected a license "
		   "id at character 2 (')')"},
	    {"MIT++", "invalid license expression 'MIT++': invalid "
		      "license id"},
	    {"LicenseRef-", "invalid license expression 'LicenseRef-': "
			    "invalid license reference"},
	    {"LicenseRef-a+", "invalid license expression "
			      "'LicenseRef-a+': invalid license reference"},
	    {"DocumentRef-x", "invalid license expression "
			      "'DocumentRef-x': invalid license reference"},
	    {"MIT/GPL", "invalid license expression 'MIT/GPL': unexpected "
			"character at character 4 ('/')"},
	    {"(MIT OR", "invalid license expression '(MIT OR': expected "
			"a license id at character 8"},
	    {"MIT AND OR GPL-2.0", "invalid license expression"},
	};
	struct gm_diag d;
	char deep[200];
	size_t i;

	for (i = 0; i < GM_ARRAY_LEN(cases); i++) {
		const char *s = cases[i].expr;
		gm_err e;

		gm_diag_clear(&d);
		e = gm_manifest_license_check(s, strlen(s), &d);
		if (!cases[i].msg) {
			if (e != GM_OK)
				gm_test_fail(__FILE__, __LINE__,
					     "'%s' refused: %s", s, d.msg);
			continue;
		}
		if (e != GM_EFORMAT ||
		    strncmp(d.msg, cases[i].msg, strlen(cases[i].msg)) != 0)
			gm_test_fail(__FILE__, __LINE__,
				     "'%s': %s \"%s\", want \"%s\"", s,
				     gm_errname(e), d.msg, cases[i].msg);
	}
	/* Nesting is bounded. */
	memset(deep, '(', 100);
	memcpy(deep + 100, "MIT", 3);
	memset(deep + 103, ')', 97);
	ASSERT_ERR(gm_manifest_license_check(deep, 200, &d), GM_EFORMAT);
	ASSERT(strstr(d.msg, "parentheses nested too deep") != NULL);
	/* Through the manifest: position of the value, rule in the text. */
	FAIL_AT(with("license = \"MIT OR\"\n"), GM_EFORMAT,
		"invalid license 'MIT OR' for 'license' in [package] at 7:11: "
		"invalid license expression 'MIT OR': expected a license id "
		"at character 7",
		7, 11);
}

TEST(keywords_and_categories_are_bounded)
{
	struct gm_manifest m;
	struct gm_diag d;

	ASSERT_OK(parse(&m,
			with("keywords = [\"a\", \"b\", \"c\", \"d\", "
			     "\"e\", \"f\", \"g\", \"h\", \"i\", \"j\"]\n"),
			&d));
	ASSERT_EQ(m.n_keywords, 10);
	ASSERT_STREQ(m.keywords[9], "j");
	gm_manifest_release(&m);
	FAIL_AT(with("keywords = [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", "
		     "\"g\", \"h\", \"i\", \"j\", \"k\"]\n"),
		GM_EFORMAT,
		"too many keywords in [package] at 7:12: at most 10 are "
		"allowed, found 11",
		7, 12);
	FAIL_AT(with("keywords = [\"ok\", \"Not-Lower\"]\n"), GM_EFORMAT,
		"invalid entry 'Not-Lower' for 'keywords' in [package] at "
		"7:19: a keyword is 1 to 20 lowercase",
		7, 19);
	FAIL(with("keywords = [\"two words\"]\n"), GM_EFORMAT,
	     "invalid entry 'two words' for 'keywords'");
	FAIL(with("keywords = [\"\"]\n"), GM_EFORMAT,
	     "invalid entry '' for 'keywords'");
	FAIL(with("keywords = [\"abcdefghijklmnopqrstu\"]\n"), GM_EFORMAT,
	     "invalid entry 'abcdefghijklmnopqrstu' for 'keywords'");
	ASSERT_ERR(parse(&m,
			 with("keywords = [\"abcdefghijklmnopqrst\"]\n"
			      "keywords2 = 1\n"),
			 &d),
		   GM_EFORMAT);
	ASSERT(strstr(d.msg, "did you mean 'keywords'?") != NULL);
	gm_manifest_release(&m);
	ASSERT_OK(parse(&m,
			with("categories = [\"a\", \"b\", \"c\", \"d\", "
			     "\"e\"]\nkeywords = []\n"),
			&d));
	ASSERT_EQ(m.n_categories, 5);
	ASSERT_EQ(m.n_keywords, 0);
	gm_manifest_release(&m);
	FAIL(with("categories = [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\"]\n"),
	     GM_EFORMAT,
	     "too many categories in [package] at 7:14: at most 5 are "
	     "allowed, found 6");
	FAIL(with("authors = [\"\"]\n"), GM_EFORMAT,
	     "invalid entry '' for 'authors' in [package] at 7:12: each "
	     "author is 1 to 256 bytes");
}

TEST(other_package_values_are_checked)
{
	char text[1024];

	FAIL_AT("[package]\nversion = \"1.2\"\n", GM_EFORMAT,
		"invalid version '1.2' for 'version' in [package] at 2:11: "
		"version '1.2' ends early",
		2, 11);
	FAIL("[package]\nkind = \"generator\"\n", GM_EFORMAT,
	     "invalid kind 'generator' for 'kind' in [package] at 2:8: "
	     "expected \"template\" or \"validator\"");
	FAIL(with("homepage = \"ftp://x.org\"\n"), GM_EFORMAT,
	     "invalid URL 'ftp://x.org' for 'homepage' in [package] at 7:12");
	FAIL(with("repository = \"https://\"\n"), GM_EFORMAT,
	     "invalid URL 'https://' for 'repository'");
	FAIL(with("repository = \"https:///path\"\n"), GM_EFORMAT,
	     "invalid URL");
	FAIL(with("homepage = \"https://a b.org\"\n"), GM_EFORMAT,
	     "invalid URL");
	FAIL(with("readme = \"/etc/passwd\"\n"), GM_EFORMAT,
	     "invalid path '/etc/passwd' for 'readme' in [package] at 7:10: "
	     "expected a relative path inside the package");
	FAIL(with("readme = \"docs/../../x\"\n"), GM_EFORMAT,
	     "invalid path 'docs/../../x'");
	FAIL(with("readme = \"..\"\n"), GM_EFORMAT, "invalid path '..'");
	FAIL(with("readme = \"a\\\\b\"\n"), GM_EFORMAT, "invalid path");
	FAIL(with("readme = \"\"\n"), GM_EFORMAT, "invalid path ''");
	FAIL(with("name2 = \"x\\u0000y\"\n"), GM_EFORMAT,
	     "unknown key 'name2'");
	FAIL("[package]\ndescription = \"a\\u0000b\"\n", GM_EFORMAT,
	     "invalid string 'a?b' for 'description' in [package] at 2:15: "
	     "it contains a NUL character");
	FAIL("[package]\ndescription = \"\"\n", GM_EFORMAT,
	     "invalid description '' for 'description'");
	snprintf(text, sizeof(text), "[package]\ndescription = \"%0513d\"\n",
		 0);
	FAIL(text, GM_EFORMAT, "invalid description '000");
	snprintf(text, sizeof(text), "%s[package]\ndescription = \"%0512d\"\n",
		 "", 0);
	FAIL(text, GM_EFORMAT, "missing required key 'name'");
}

TEST(dependencies_are_checked)
{
	struct gm_manifest m;
	struct gm_diag d;

	ASSERT_OK(parse(&m,
			with("[dependencies]\n"
			     "\"a/b\" = \"*\"\n"
			     "\"a/c\" = { version = \"=1.2.3-rc.1\" }\n"),
			&d));
	ASSERT_EQ(m.n_deps, 2);
	ASSERT_EQ(m.deps[0].req.n, 0);
	ASSERT_EQ(m.deps[1].req.cmp[0].op, GM_SEMVER_OP_EXACT);
	gm_manifest_release(&m);
	ASSERT_OK(parse(&m, with("[dependencies]\n"), &d));
	ASSERT_EQ(m.n_deps, 0);
	ASSERT(m.deps == NULL);
	gm_manifest_release(&m);

	FAIL_AT(with("[dependencies]\n\"Acme/b\" = \"1\"\n"), GM_EFORMAT,
		"invalid dependency key 'Acme/b' in [dependencies] at 8:1: "
		"invalid namespace in package id 'Acme/b'",
		8, 1);
	FAIL(with("[dependencies]\nlint = \"1\"\n"), GM_EFORMAT,
	     "invalid dependency key 'lint' in [dependencies] at 8:1: "
	     "invalid package id 'lint': expected namespace/name");
	FAIL_AT(with("[dependencies]\n\"a/b\" = \">=1.!\"\n"), GM_EFORMAT,
		"invalid version requirement '>=1.!' for 'a/b' in "
		"[dependencies] at 8:9: unexpected character '!' at position "
		"5 in requirement '>=1.!'",
		8, 9);
	FAIL(with("[dependencies]\n\"a/b\" = { version = \"\" }\n"), GM_EFORMAT,
	     "invalid version requirement '' for 'a/b' in [dependencies] at "
	     "8:21: empty version requirement");
	FAIL(with("[dependencies]\n\"a/b\" = {}\n"), GM_EFORMAT,
	     "missing required key 'version' in [dependencies.\"a/b\"]");
}

TEST(too_many_dependencies)
{
	char *text = malloc(64 * 1024);
	size_t n, i;

	ASSERT(text != NULL);
	n = (size_t)snprintf(text, 64 * 1024, "%s[dependencies]\n", minimal);
	for (i = 0; i <= GM_MANIFEST_MAX_DEPS; i++)
		n += (size_t)snprintf(text + n, 64 * 1024 - n,
				      "\"a/p%zu\" = \"1\"\n", i);
	FAIL_AT(text, GM_ELIMIT,
		"too many dependencies in [dependencies] at 7:1: at most 256 "
		"are allowed, found 257",
		0, 0);
	free(text);
}

TEST(validator_needs_plugin_and_template_refuses_it)
{
	static const char validator[] = "[package]\n"
					"name = \"v\"\n"
					"namespace = \"ns\"\n"
					"version = \"1.0.0\"\n"
					"kind = \"validator\"\n"
					"description = \"A validator.\"\n";
	char text[1024];
	struct gm_manifest m;
	struct gm_diag d;

	FAIL_AT(validator, GM_EFORMAT,
		"missing table [plugin]: a package of kind \"validator\" "
		"needs [plugin]",
		1, 1);
	FAIL_AT(with("[plugin]\nentry = \"a.wasm\"\n"), GM_EFORMAT,
		"unexpected table [plugin] at 7:1: only packages of kind "
		"\"validator\" have one",
		7, 1);

	snprintf(text, sizeof(text),
		 "%s[plugin]\nentry = \"a.wasm\"\n"
		 "limits = { memory_mb = 1, fuel = 1, timeout_ms = 1 }\n",
		 validator);
	ASSERT_OK(parse(&m, text, &d));
	ASSERT(m.has_plugin);
	ASSERT_STREQ(m.plugin.entry, "a.wasm");
	ASSERT_EQ(m.plugin.capabilities, 0);
	ASSERT_EQ(m.plugin.limits.memory_mb, 1);
	ASSERT_EQ(m.plugin.limits.stack, 0);
	gm_manifest_release(&m);

	snprintf(text, sizeof(text), "%s[plugin]\nentry = \"a.wasm\"\n",
		 validator);
	FAIL_AT(text, GM_EFORMAT, "missing required key 'limits' in [plugin]",
		7, 1);
	snprintf(text, sizeof(text),
		 "%s[plugin.limits]\nmemory_mb = 1\nfuel = 1\n"
		 "timeout_ms = 1\n",
		 validator);
	FAIL(text, GM_EFORMAT, "missing required key 'entry' in [plugin]");
	snprintf(text, sizeof(text),
		 "%s[plugin]\nentry = \"a.wasm\"\n[plugin.limits]\n"
		 "memory_mb = 1\ntimeout_ms = 1\n",
		 validator);
	FAIL(text, GM_EFORMAT,
	     "missing required key 'fuel' in [plugin.limits]");
}

TEST(plugin_values_are_checked)
{
	static const char head[] = VALIDATOR "[plugin]\n";
	static const struct {
		const char *body;
		const char *msg;
	} cases[] = {
	    {"entry = \"a.wat\"",
	     "invalid path 'a.wat' for 'entry' in [plugin] at 8:9: "
	     "expected a relative path to a .wasm file"},
	    {"entry = \".wasm\"", "invalid path '.wasm'"},
	    {"entry = \"../a.wasm\"", "invalid path '../a.wasm'"},
	    {"entry = \"/a.wasm\"", "invalid path '/a.wasm'"},
	    {"capabilities = [\"fs-read\", \"network\"]",
	     "invalid capability 'network' for 'capabilities' in [plugin] "
	     "at 8:28: expected one of fs-read, fs-write, env, clock, "
	     "random, args, stdout, stderr"},
	    {"capabilities = [\"env\", \"env\"]",
	     "invalid capability 'env' for 'capabilities' in [plugin] at "
	     "8:24: it is listed twice"},
	    {"capabilities = \"env\"",
	     "wrong type for 'capabilities' in [plugin] at 8:16: expected "
	     "an array of strings, found string"},
	    {"limits = 5", "wrong type for 'limits' in [plugin] at 8:10: "
			   "expected a table, found integer"},
	    {"limits = { memory_mb = 0 }",
	     "invalid value '0' for 'memory_mb' in [plugin.limits] at "
	     "8:24: expected 1 to 4096 (MiB)"},
	    {"limits = { memory_mb = 4097 }", "invalid value '4097' for "
					      "'memory_mb'"},
	    {"limits = { fuel = 0 }", "invalid value '0' for 'fuel'"},
	    {"limits = { fuel = -5 }", "invalid value '-5' for 'fuel'"},
	    {"limits = { fuel = 1.5 }",
	     "wrong type for 'fuel' in [plugin.limits] at 8:19: expected "
	     "an integer, found float"},
	    {"limits = { timeout_ms = 600001 }",
	     "invalid value '600001' for 'timeout_ms'"},
	    {"limits = { stack = 1023 }", "invalid value '1023' for "
					  "'stack'"},
	    {"limits = { stack = 67108865 }", "invalid value '67108865' "
					      "for 'stack'"},
	};
	char text[512];
	size_t i;

	for (i = 0; i < GM_ARRAY_LEN(cases); i++) {
		snprintf(text, sizeof(text), "%s%s\n", head, cases[i].body);
		expect_fail(text, GM_EFORMAT, cases[i].msg, 0, 0, __LINE__);
	}
}

TEST(toml_syntax_errors_pass_through)
{
	struct gm_manifest m;
	struct gm_diag d;

	ASSERT_ERR(parse(&m, "[package]\nname = \n", &d), GM_EPARSE);
	ASSERT_EQ(d.line, 2);
	ASSERT(d.msg[0] != '\0');
	gm_manifest_release(&m);
}

TEST(load_from_folder_and_file)
{
	const char *dir = gm_test_tmpdir();
	char *path = gm_path_join(dir, "ggen.toml");
	char *big_path = gm_path_join(dir, "big.toml");
	char *big;
	struct gm_manifest m;
	struct gm_diag d;

	ASSERT(path && big_path);
	ASSERT_OK(gm_fs_write_atomic(path, full, strlen(full), 0644, &d));
	gm_manifest_init(&m);
	ASSERT_OK(gm_manifest_load(&m, dir, &d));
	ASSERT_STREQ(m.name, "lint-rules");
	ASSERT_EQ(m.n_deps, 2);
	ASSERT_OK(gm_manifest_load(&m, path, &d));
	ASSERT_STREQ(m.plugin.entry, "plugin/lint.wasm");
	gm_manifest_release(&m);

	/* A file over 1 MiB is refused before parsing. */
	big = malloc(GM_MANIFEST_MAX_SIZE + 2);
	ASSERT(big != NULL);
	memset(big, '\n', GM_MANIFEST_MAX_SIZE + 1);
	ASSERT_OK(gm_fs_write_atomic(big_path, big, GM_MANIFEST_MAX_SIZE + 1,
				     0644, &d));
	ASSERT_ERR(gm_manifest_load(&m, big_path, &d), GM_ELIMIT);
	ASSERT(strstr(d.msg, "larger than 1048576 bytes") != NULL);
	ASSERT_ERR(gm_manifest_parse(&m, big, GM_MANIFEST_MAX_SIZE + 1, &d),
		   GM_ELIMIT);
	free(big);

	ASSERT_ERR(gm_manifest_load(&m, "/nonexistent/dir", &d), GM_ENOENT);
	ASSERT(strstr(d.msg, "/nonexistent/dir") != NULL);
	gm_manifest_release(&m);
	gm_free(path);
	gm_free(big_path);
}

TEST(capability_and_kind_names)
{
	ASSERT_STREQ(gm_capability_name(GM_CAP_FS_READ), "fs-read");
	ASSERT_STREQ(gm_capability_name(GM_CAP_STDERR), "stderr");
	ASSERT(gm_capability_name(GM_CAP_ENV | GM_CAP_ARGS) == NULL);
	ASSERT(gm_capability_name(1u << 8) == NULL);
	ASSERT_STREQ(gm_package_kind_name(GM_PACKAGE_TEMPLATE), "template");
	ASSERT_STREQ(gm_package_kind_name(GM_PACKAGE_NONE), "none");
}

/* Walks every allocation of a parse: ENOMEM or success, never a leak. */
static void oom_walk(const char *text, gm_err final)
{
	unsigned long n;
	struct gm_manifest m;
	struct gm_diag d;

	for (n = 1; n < 100000; n++) {
		gm_err e;

		gm_manifest_init(&m);
		gm_alloc_fail_after(n);
		e = gm_manifest_parse(&m, text, strlen(text), &d);
		gm_alloc_fail_after(0);
		gm_manifest_release(&m);
		if (e == final)
			return;
		if (e != GM_ENOMEM)
			gm_test_fail(__FILE__, __LINE__, "step %lu: %s (%s)", n,
				     gm_errname(e), d.msg);
	}
	gm_test_fail(__FILE__, __LINE__, "never finished");
}

TEST(out_of_memory_walk)
{
	oom_walk(full, GM_OK);
	oom_walk(minimal, GM_OK);
	/* Failing late: after strings and dependencies were copied. */
	oom_walk("[package]\nname = \"a\"\nnamespace = \"b\"\n"
		 "version = \"1.0.0\"\nkind = \"template\"\n"
		 "description = \"d\"\nauthors = [\"x\", \"y\"]\n"
		 "[dependencies]\n\"a/b\" = \"1\"\n\"a/c\" = \"!\"\n",
		 GM_EFORMAT);
}
