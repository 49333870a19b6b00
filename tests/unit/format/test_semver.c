/*
 * test_semver.c - SemVer 2.0.0 parsing, precedence and formatting; Cargo
 * requirement parsing and matching.
 *
 * Known vectors come from semver.org (precedence chain, the valid/invalid
 * examples of its regular expression) and from Cargo's "Specifying
 * dependencies" page; property tests check the order is total and that
 * matching agrees with a brute-force interval definition of each operator.
 */
#include "harness.h"

#include "gm/semver.h"

static struct gm_semver V(const char *s) {
	struct gm_semver v;
	struct gm_diag d;
	gm_err e;

	gm_diag_clear(&d);
	e = gm_semver_parse(&v, s, strlen(s), &d);
	if (e)
		gm_test_fail(__FILE__, __LINE__, "parse '%s': %s", s, d.msg);
	return v;
}

static bool
req_matches(const char *r, const char *v)
{
	struct gm_semver_req req;
	struct gm_semver ver = V(v);
	struct gm_diag d;

	gm_diag_clear(&d);
	if (gm_semver_req_parse(&req, r, strlen(r), &d) != GM_OK)
		gm_test_fail(__FILE__, __LINE__, "req '%s': %s", r, d.msg);
	return gm_semver_req_matches(&req, &ver);
}

TEST(parse_reads_all_fields)
{
	struct gm_semver v = V("1.22.333-alpha.1+build.7-x");
	char buf[GM_SEMVER_MAX_LEN + 1];

	ASSERT_EQ(v.major, 1);
	ASSERT_EQ(v.minor, 22);
	ASSERT_EQ(v.patch, 333);
	ASSERT_STREQ(v.pre, "alpha.1");
	ASSERT_STREQ(v.build, "build.7-x");
	ASSERT_EQ(gm_semver_format(&v, buf, sizeof(buf)), 26);
	ASSERT_STREQ(buf, "1.22.333-alpha.1+build.7-x");
	/* Truncation reports the full length. */
	ASSERT_EQ(gm_semver_format(&v, buf, 5), 26);
	ASSERT_STREQ(buf, "1.22");

	v = V("18446744073709551615.0.18446744073709551615");
	ASSERT(v.major == UINT64_MAX && v.minor == 0 && v.patch == UINT64_MAX);
	ASSERT_STREQ(v.pre, "");
	ASSERT_STREQ(v.build, "");
}

static const char *const chain[] = {
    "1.0.0-alpha",  "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
    "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",	 "1.0.0",
};

TEST(precedence_chain_of_semver_org_every_pair)
{
	size_t i, j;

	for (i = 0; i < GM_ARRAY_LEN(chain); i++) {
		for (j = 0; j < GM_ARRAY_LEN(chain); j++) {
			struct gm_semver a = V(chain[i]), b = V(chain[j]);
			int r = gm_semver_cmp(&a, &b);
			int want = i < j ? -1 : i > j ? 1 : 0;

			if ((r > 0) - (r < 0) != want)
				gm_test_fail(__FILE__, __LINE__,
					     "cmp(%s, %s) = %d, want %d",
					     chain[i], chain[j], r, want);
		}
	}
}

TEST(precedence_of_core_numbers_and_build_metadata)
{
	struct gm_semver a, b;

	a = V("1.0.0");
	b = V("2.0.0");
	ASSERT(gm_semver_cmp(&a, &b) < 0);
	a = V("2.1.0");
	b = V("2.0.9");
	ASSERT(gm_semver_cmp(&a, &b) > 0);
	a = V("2.1.1");
	b = V("2.1.10");
	ASSERT(gm_semver_cmp(&a, &b) < 0);
	a = V("1.0.0-9");
	b = V("1.0.0-10");
	ASSERT(gm_semver_cmp(&a, &b) < 0);
	a = V("1.0.0-99999999999999999999999");
	b = V("1.0.0-a");
	ASSERT(gm_semver_cmp(&a, &b) < 0);
	a = V("1.0.0-B");
	b = V("1.0.0-a");
	ASSERT(gm_semver_cmp(&a, &b) < 0); /* ASCII order */
	a = V("1.0.0-alpha-1");
	b = V("1.0.0-alpha");
	ASSERT(gm_semver_cmp(&a, &b) > 0);
	a = V("1.0.0+build.1");
	b = V("1.0.0+build.2");
	ASSERT_EQ(gm_semver_cmp(&a, &b), 0);
	ASSERT(!gm_semver_equal(&a, &b));
	b = V("1.0.0+build.1");
	ASSERT(gm_semver_equal(&a, &b));
}

/* The examples that go with the regular expressions of semver.org. */
static const char *const valid_versions[] = {
    "0.0.4",
    "1.2.3",
    "10.20.30",
    "1.1.2-prerelease+meta",
    "1.1.2+meta",
    "1.1.2+meta-valid",
    "1.0.0-alpha",
    "1.0.0-beta",
    "1.0.0-alpha.beta",
    "1.0.0-alpha.beta.1",
    "1.0.0-alpha.1",
    "1.0.0-alpha0.valid",
    "1.0.0-alpha.0valid",
    "1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay",
    "1.0.0-rc.1+build.1",
    "2.0.0-rc.1+build.123",
    "1.2.3-beta",
    "10.2.3-DEV-SNAPSHOT",
    "1.2.3-SNAPSHOT-123",
    "1.0.0",
    "2.0.0",
    "1.1.7",
    "2.0.0+build.1848",
    "2.0.1-alpha.1227",
    "1.0.0-alpha+beta",
    "1.2.3----RC-SNAPSHOT.12.9.1--.12+788",
    "1.2.3----R-S.12.9.1--.12+meta",
    "1.2.3----RC-SNAPSHOT.12.9.1--.12",
    "1.0.0+0.build.1-rc.10000aaa-kk-0.1",
    "1.0.0-0A.is.legal",
};

static const char *const invalid_versions[] = {
    "1",
    "1.2",
    "1.2.3-0123",
    "1.2.3-0123.0123",
    "1.1.2+.123",
    "+invalid",
    "-invalid",
    "-invalid+invalid",
    "-invalid.01",
    "alpha",
    "alpha.beta",
    "alpha.beta.1",
    "alpha.1",
    "alpha+beta",
    "alpha_beta",
    "alpha.",
    "alpha..",
    "beta",
    "1.0.0-alpha_beta",
    "-alpha.",
    "1.0.0-alpha..",
    "1.0.0-alpha..1",
    "1.0.0-alpha...1",
    "1.0.0-alpha....1",
    "1.0.0-alpha.....1",
    "1.0.0-alpha......1",
    "1.0.0-alpha.......1",
    "01.1.1",
    "1.01.1",
    "1.1.01",
    "1.2.3.DEV",
    "1.2-SNAPSHOT",
    "1.2.31.2.3----RC-SNAPSHOT.12.09.1--..12+788",
    "1.2-RC-SNAPSHOT",
    "-1.0.3-gamma+b7718",
    "+justmeta",
    "9.8.7+meta+meta",
    "9.8.7-whatever+meta+meta",
    ("99999999999999999999999.999999999999999999.99999999999999999----"
     "RC-SNAPSHOT.12.09.1--------------------------------..12"),
    /* Beyond the regex list: our own limits and corner cases. */
    "",
    " 1.2.3",
    "1.2.3 ",
    "1.2.3-",
    "1.2.3+",
    "1.2.3-a+",
    "v1.2.3",
    "1.2.3-a.",
    "1.2.3+a..b",
    "1.2.3-\xc3\xa9",
    /* The regex accepts this one, but numbers must fit uint64. */
    "99999999999999999999999.999999999999999999.99999999999999999",
    "18446744073709551616.0.0",
};

TEST(semver_org_valid_and_invalid_examples)
{
	struct gm_semver v;
	char buf[GM_SEMVER_MAX_LEN + 1];
	size_t i;

	for (i = 0; i < GM_ARRAY_LEN(valid_versions); i++) {
		const char *s = valid_versions[i];

		v = V(s);
		gm_semver_format(&v, buf, sizeof(buf));
		ASSERT_STREQ(buf, s);
	}
	for (i = 0; i < GM_ARRAY_LEN(invalid_versions); i++) {
		const char *s = invalid_versions[i];
		struct gm_diag d;

		gm_diag_clear(&d);
		if (gm_semver_parse(&v, s, strlen(s), &d) != GM_EPARSE)
			gm_test_fail(__FILE__, __LINE__, "'%s' accepted", s);
		ASSERT(d.msg[0] != '\0');
	}
}

TEST(parse_errors_say_what_and_where)
{
	struct gm_semver v;
	struct gm_diag d;
	char big[GM_SEMVER_MAX_LEN + 2];

	ASSERT_ERR(gm_semver_parse(&v, "1.q.r", 5, &d), GM_EPARSE);
	ASSERT_STREQ(d.msg, "unexpected character 'q' at position 3 in "
			    "version '1.q.r': expected the minor version "
			    "number");
	ASSERT_ERR(gm_semver_parse(&v, "1.02.3", 6, &d), GM_EPARSE);
	ASSERT(strstr(d.msg, "leading zero in the minor version number at "
			     "position 3") == d.msg);
	ASSERT_ERR(gm_semver_parse(&v, "1.2.3-01", 8, &d), GM_EPARSE);
	ASSERT(strstr(d.msg, "leading zero in numeric pre-release") == d.msg);
	ASSERT_ERR(gm_semver_parse(&v, "1.2", 3, &d), GM_EPARSE);
	ASSERT(strstr(d.msg, "version '1.2' ends early") == d.msg);
	ASSERT_ERR(gm_semver_parse(&v, "1.2.3\0", 6, &d), GM_EPARSE);
	ASSERT(strstr(d.msg, "byte 0x00 at position 6") != NULL);
	ASSERT_ERR(gm_semver_parse(&v, "1.2.99999999999999999999", 24, &d),
		   GM_EPARSE);
	ASSERT(strstr(d.msg, "larger than 18446744073709551615") != NULL);
	/* Only len bytes are read: "1.2.3" out of "1.2.34". */
	ASSERT_OK(gm_semver_parse(&v, "1.2.34", 5, &d));
	ASSERT_EQ(v.patch, 3);

	memset(big, 'a', sizeof(big));
	memcpy(big, "1.0.0-", 6);
	ASSERT_OK(gm_semver_parse(&v, big, GM_SEMVER_MAX_LEN, &d));
	ASSERT_EQ(strlen(v.pre), GM_SEMVER_MAX_LEN - 6);
	ASSERT_ERR(gm_semver_parse(&v, big, GM_SEMVER_MAX_LEN + 1, &d),
		   GM_ELIMIT);
}

/* Cargo's "Specifying dependencies" examples, operator by operator. */
struct match_case {
	const char *req;
	const char *ver;
	bool want;
};

static const struct match_case cargo_cases[] = {
    /* Default (caret) requirements. */
    {"1.2.3", "1.2.3", true},
    {"1.2.3", "1.9.0", true},
    {"1.2.3", "1.2.2", false},
    {"1.2.3", "2.0.0", false},
    {"^1.2.3", "1.2.3", true},
    {"^1.2.3", "1.99.99", true},
    {"^1.2.3", "2.0.0", false},
    {"^1.2", "1.2.0", true},
    {"^1.2", "1.1.9", false},
    {"^1.2", "2.0.0", false},
    {"^1", "1.0.0", true},
    {"^1", "1.99.0", true},
    {"^1", "2.0.0", false},
    {"^1", "0.9.0", false},
    {"^0.2.3", "0.2.3", true},
    {"^0.2.3", "0.2.9", true},
    {"^0.2.3", "0.3.0", false},
    {"^0.2.3", "0.2.2", false},
    {"^0.2", "0.2.0", true},
    {"^0.2", "0.2.7", true},
    {"^0.2", "0.3.0", false},
    {"^0.0.3", "0.0.3", true},
    {"^0.0.3", "0.0.4", false},
    {"^0.0.3", "0.0.2", false},
    {"^0.0", "0.0.0", true},
    {"^0.0", "0.0.9", true},
    {"^0.0", "0.1.0", false},
    {"^0", "0.0.0", true},
    {"^0", "0.9.9", true},
    {"^0", "1.0.0", false},
    /* Tilde. */
    {"~1.2.3", "1.2.3", true},
    {"~1.2.3", "1.2.9", true},
    {"~1.2.3", "1.3.0", false},
    {"~1.2.3", "1.2.2", false},
    {"~1.2", "1.2.0", true},
    {"~1.2", "1.2.99", true},
    {"~1.2", "1.3.0", false},
    {"~1", "1.0.0", true},
    {"~1", "1.9.0", true},
    {"~1", "2.0.0", false},
    {"~0.2", "0.2.5", true},
    {"~0.2", "0.3.0", false},
    /* Wildcards. */
    {"*", "0.0.0", true},
    {"*", "99.1.2", true},
    {"x", "3.4.5", true},
    {"1.*", "1.0.0", true},
    {"1.*", "1.9.9", true},
    {"1.*", "2.0.0", false},
    {"1.*", "0.9.0", false},
    {"1.2.*", "1.2.0", true},
    {"1.2.*", "1.2.9", true},
    {"1.2.*", "1.3.0", false},
    {"1.X", "1.5.0", true},
    {"1.2.x", "1.2.7", true},
    /* Comparisons. */
    {">= 1.2.0", "1.2.0", true},
    {">= 1.2.0", "1.1.9", false},
    {"> 1", "2.0.0", true},
    {"> 1", "1.9.9", false},
    {"< 2", "1.99.99", true},
    {"< 2", "2.0.0", false},
    {"= 1.2.3", "1.2.3", true},
    {"= 1.2.3", "1.2.4", false},
    {"=1.2", "1.2.7", true},
    {"=1.2", "1.3.0", false},
    {">1.2", "1.3.0", true},
    {">1.2", "1.2.9", false},
    {"<=1.2", "1.2.9", true},
    {"<=1.2", "1.3.0", false},
    {"<1.2", "1.1.9", true},
    {"<1.2", "1.2.0", false},
    {">=1.2.0-0", "1.2.0", true},
    /* Multiple requirements. */
    {">= 1.2, < 1.5", "1.2.0", true},
    {">= 1.2, < 1.5", "1.4.99", true},
    {">= 1.2, < 1.5", "1.5.0", false},
    {">= 1.2, < 1.5", "1.1.0", false},
    {">=1.2.3,<1.8.0", "1.7.1", true},
    /* Pre-releases only match a comparator naming one on x.y.z. */
    {"1.0.0", "1.0.0-alpha", false},
    {"^1.0.0-alpha", "1.0.0-alpha", true},
    {"^1.0.0-alpha", "1.0.0-beta", true},
    {"^1.0.0-alpha", "1.0.0", true},
    {"^1.0.0-alpha", "1.0.1-alpha", false},
    {"^1.0.0-beta", "1.0.0-alpha", false},
    {">=1.2.3-beta.1", "1.2.3-beta.2", true},
    {">=1.2.0", "1.2.3-beta.2", false},
    {">=1.2.3-beta.1, <2", "1.2.3-beta.11", true},
    {">=1.2.3-beta.1, <2", "1.3.0-beta", false},
    {"~1.2.3-beta", "1.2.3-rc", true},
    {"=1.2.3-rc.1", "1.2.3-rc.1", true},
    {"=1.2.3-rc.1", "1.2.3-rc.2", false},
    {"<1.2.3-rc.1", "1.2.3-beta", true},
    {"*", "1.0.0-alpha", false},
    {"1.*", "1.2.0-alpha", false},
    /* Build metadata is ignored. */
    {"=1.2.3+build.5", "1.2.3+other", true},
    {"^1.2.3", "1.2.3+build", true},
};

TEST(cargo_documented_examples)
{
	size_t i;

	for (i = 0; i < GM_ARRAY_LEN(cargo_cases); i++) {
		const struct match_case *c = &cargo_cases[i];

		if (req_matches(c->req, c->ver) != c->want)
			gm_test_fail(__FILE__, __LINE__,
				     "'%s' matches '%s': got %d, want %d",
				     c->req, c->ver, !c->want, c->want);
	}
}

struct format_case {
	const char *in;
	const char *out;
};

TEST(req_format_is_canonical_and_parses_back)
{
	static const struct format_case cases[] = {
	    {"1.2.3", "^1.2.3"},
	    {"  ^1.2  ", "^1.2"},
	    {">= 1.2 ,< 1.5", ">=1.2, <1.5"},
	    {"*", "*"},
	    {" X ", "*"},
	    {"1.x", "1.*"},
	    {"1.2.*", "1.2.*"},
	    {"1.*.*", "1.*"},
	    {">=1.*", ">=1"},
	    {"=1.2.3-rc.1+build", "=1.2.3-rc.1"},
	    {"~0.0.1-0, <=3, >2.0.0-a.b", "~0.0.1-0, <=3, >2.0.0-a.b"},
	};
	struct gm_semver_req a, b;
	char buf[GM_SEMVER_REQ_MAX_LEN * 2], buf2[GM_SEMVER_REQ_MAX_LEN * 2];
	struct gm_diag d;
	size_t i, n;

	for (i = 0; i < GM_ARRAY_LEN(cases); i++) {
		gm_diag_clear(&d);
		ASSERT_OK(gm_semver_req_parse(&a, cases[i].in,
					      strlen(cases[i].in), &d));
		n = gm_semver_req_format(&a, buf, sizeof(buf));
		ASSERT_EQ(n, strlen(cases[i].out));
		ASSERT_STREQ(buf, cases[i].out);
		ASSERT_OK(gm_semver_req_parse(&b, buf, n, &d));
		gm_semver_req_format(&b, buf2, sizeof(buf2));
		ASSERT_STREQ(buf2, buf);
		ASSERT_EQ(a.n, b.n);
	}
}

struct error_case {
	const char *req;
	gm_err want;
	const char *msg; /* prefix of the message */
};

TEST(req_errors_say_what_and_where)
{
	static const struct error_case cases[] = {
	    {">=1.!", GM_EPARSE,
	     "unexpected character '!' at position 5 in requirement "
	     "'>=1.!': expected the minor version number or '*'"},
	    {"", GM_EPARSE, "empty version requirement"},
	    {"   ", GM_EPARSE, "empty version requirement"},
	    {"1.2,", GM_EPARSE, "requirement '1.2,' ends early"},
	    {"1.2 1.3", GM_EPARSE,
	     "unexpected character '1' at position 5 in requirement"},
	    {"*, 1.2", GM_EPARSE, "wildcard '*' at position 1 must be"},
	    {"1.2, *", GM_EPARSE, "wildcard '*' at position 6 must be"},
	    {">=*", GM_EPARSE, "unexpected character '*' at position 3"},
	    {"1.*.3", GM_EPARSE, "unexpected character '3' at position 5"},
	    {"1.2-beta", GM_EPARSE,
	     "pre-release at position 4 of "
	     "requirement '1.2-beta' needs a full"},
	    {"01.2", GM_EPARSE, "leading zero in the major version"},
	    {"1.2.3-01", GM_EPARSE, "leading zero in numeric pre-release"},
	    {"=>1.2", GM_EPARSE, "unexpected character '>' at position 2"},
	    {"^^1", GM_EPARSE, "unexpected character '^' at position 2"},
	    {"1.2.3-", GM_EPARSE, "requirement '1.2.3-' ends early"},
	    {"99999999999999999999", GM_EPARSE, "the major version number"},
	    {"*x", GM_EPARSE, "unexpected character 'x' at position 2"},
	    {"1.2.3\n", GM_EPARSE, "unexpected character byte 0x0a"},
	};
	struct gm_semver_req r;
	struct gm_diag d;
	size_t i;

	for (i = 0; i < GM_ARRAY_LEN(cases); i++) {
		gm_err e;

		gm_diag_clear(&d);
		e = gm_semver_req_parse(&r, cases[i].req, strlen(cases[i].req),
					&d);
		if (e != cases[i].want ||
		    strncmp(d.msg, cases[i].msg, strlen(cases[i].msg)) != 0)
			gm_test_fail(
			    __FILE__, __LINE__, "'%s': %s \"%s\", want \"%s\"",
			    cases[i].req, gm_errname(e), d.msg, cases[i].msg);
	}
}

TEST(req_limits)
{
	struct gm_semver_req r;
	struct gm_diag d;
	char buf[GM_SEMVER_REQ_MAX_LEN + 8];
	size_t n = 0, i;

	for (i = 0; i < GM_SEMVER_REQ_MAX; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s>=%zu",
				      i ? "," : "", i);
	ASSERT_OK(gm_semver_req_parse(&r, buf, n, &d));
	ASSERT_EQ(r.n, GM_SEMVER_REQ_MAX);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, ",<99");
	ASSERT_ERR(gm_semver_req_parse(&r, buf, n, &d), GM_ELIMIT);
	ASSERT(strstr(d.msg, "more than 32 comparators") != NULL);

	memset(buf, ' ', sizeof(buf));
	buf[0] = '1';
	ASSERT_OK(gm_semver_req_parse(&r, buf, GM_SEMVER_REQ_MAX_LEN, &d));
	ASSERT_ERR(gm_semver_req_parse(&r, buf, GM_SEMVER_REQ_MAX_LEN + 1, &d),
		   GM_ELIMIT);
	/* A long pre-release that fills the whole text still fits. */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "=1.2.3-", 7);
	ASSERT_OK(gm_semver_req_parse(&r, buf, GM_SEMVER_REQ_MAX_LEN, &d));
	ASSERT_EQ(r.cmp[0].pre_len, GM_SEMVER_REQ_MAX_LEN - 7);
}

/*
 * Found by fuzz_semver: 32 comparators "1.2.3-aaa..." joined by ',' fit in
 * GM_SEMVER_REQ_MAX_LEN bytes, but their canonical form ("^1.2.3-aaa...,
 * ^...") did not, so it failed to parse back. Such a requirement is now
 * refused with GM_ELIMIT; one whose canonical form just fits still parses
 * and round-trips.
 */
TEST(req_canonical_form_always_parses_back)
{
	struct gm_semver_req r, back;
	struct gm_diag d;
	char buf[GM_SEMVER_REQ_MAX_LEN + 8], out[GM_SEMVER_REQ_MAX_LEN * 2];
	size_t n, m, i, k;

	/* Each comparator: "^1.2.3-" + pre, separated by ", ". */
	for (k = 0; k < 2; k++) {
		n = 0;
		for (i = 0; i < GM_SEMVER_REQ_MAX; i++) {
			size_t pre = i + 1 < GM_SEMVER_REQ_MAX
					 ? 24
					 : GM_SEMVER_REQ_MAX_LEN - n - 7 + k;

			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
					      "%s1.2.3-", i ? "," : "");
			memset(buf + n, 'a', pre);
			n += pre;
		}
		ASSERT_EQ(n, GM_SEMVER_REQ_MAX_LEN + k);
		gm_diag_clear(&d);
		ASSERT_ERR(gm_semver_req_parse(&r, buf, n, &d), GM_ELIMIT);
		ASSERT(strstr(d.msg, k ? "1025 bytes long"
				       : "canonical form") != NULL);
	}
	/* Explicit operators and ", " already: canonical is the same size. */
	n = 0;
	for (i = 0; i < GM_SEMVER_REQ_MAX; i++) {
		size_t pre = i + 1 < GM_SEMVER_REQ_MAX
				 ? 20
				 : GM_SEMVER_REQ_MAX_LEN - n - 9;

		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s^1.2.3-",
				      i ? ", " : "");
		memset(buf + n, 'a', pre);
		n += pre;
	}
	ASSERT_EQ(n, GM_SEMVER_REQ_MAX_LEN);
	ASSERT_OK(gm_semver_req_parse(&r, buf, n, &d));
	m = gm_semver_req_format(&r, out, sizeof(out));
	ASSERT_EQ(m, n);
	ASSERT_MEMEQ(out, buf, n);
	ASSERT_OK(gm_semver_req_parse(&back, out, m, &d));
	ASSERT_EQ(back.n, GM_SEMVER_REQ_MAX);
}

/* ---- property tests ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static uint64_t rnd_num(void)
{
	static const uint64_t pick[] = {
	    0, 1, 2, 3, 9, 10, 11, 100, UINT64_MAX - 1, UINT64_MAX};

	return pick[rnd() % GM_ARRAY_LEN(pick)];
}

static void rnd_idents(char *out, size_t cap, bool pre)
{
	static const char *const words[] = {"alpha", "beta", "rc", "a", "B",
					    "x-y",   "-",    "0a", "Z9"};
	size_t n = 1 + rnd() % 4, i, len = 0;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i)
			len += (size_t)snprintf(out + len, cap - len, ".");
		if (rnd() % 2)
			len +=
			    (size_t)snprintf(out + len, cap - len, "%" PRIu64,
					     rnd() % 3 ? rnd() % 20 : rnd());
		else
			len += (size_t)snprintf(
			    out + len, cap - len, "%s",
			    words[rnd() % GM_ARRAY_LEN(words)]);
	}
	(void)pre;
}

static struct gm_semver rnd_version(void)
{
	struct gm_semver v;

	memset(&v, 0, sizeof(v));
	v.major = rnd_num();
	v.minor = rnd_num();
	v.patch = rnd_num();
	if (rnd() % 3)
		rnd_idents(v.pre, sizeof(v.pre), true);
	if (rnd() % 4 == 0)
		rnd_idents(v.build, sizeof(v.build), false);
	return v;
}

static int sign(int r)
{
	return (r > 0) - (r < 0);
}

static int cmp_qsort(const void *a, const void *b)
{
	return gm_semver_cmp(a, b);
}

#define NPROP 2000

TEST(property_cmp_is_a_total_order_and_round_trips)
{
	struct gm_semver *vs = calloc(NPROP, sizeof(*vs));
	char buf[GM_SEMVER_MAX_LEN + 1];
	size_t i, j;

	ASSERT(vs != NULL);
	rng_state = 0x9e3779b97f4a7c15ull;
	for (i = 0; i < NPROP; i++) {
		struct gm_semver back;
		struct gm_diag d;
		size_t n;

		vs[i] = rnd_version();
		n = gm_semver_format(&vs[i], buf, sizeof(buf));
		ASSERT(n < sizeof(buf));
		if (gm_semver_parse(&back, buf, n, &d) != GM_OK)
			gm_test_fail(__FILE__, __LINE__, "'%s': %s", buf,
				     d.msg);
		ASSERT(gm_semver_equal(&back, &vs[i]));
		ASSERT_EQ(gm_semver_cmp(&back, &vs[i]), 0);
		ASSERT_EQ(gm_semver_cmp(&vs[i], &vs[i]), 0);
	}
	/* Antisymmetry on all pairs of the first 500. */
	for (i = 0; i < 500; i++)
		for (j = 0; j < 500; j++)
			ASSERT_EQ(sign(gm_semver_cmp(&vs[i], &vs[j])),
				  -sign(gm_semver_cmp(&vs[j], &vs[i])));
	/* Transitivity on random triples. */
	for (i = 0; i < 200000; i++) {
		struct gm_semver *a = &vs[rnd() % NPROP];
		struct gm_semver *b = &vs[rnd() % NPROP];
		struct gm_semver *c = &vs[rnd() % NPROP];
		int ab = sign(gm_semver_cmp(a, b));
		int bc = sign(gm_semver_cmp(b, c));
		int ac = sign(gm_semver_cmp(a, c));

		if (ab <= 0 && bc <= 0)
			ASSERT(ac <= 0);
		if (ab == 0 && bc == 0)
			ASSERT(ac == 0);
		if (ab >= 0 && bc >= 0)
			ASSERT(ac >= 0);
	}
	/* After sorting, every earlier element is lower or equal. */
	qsort(vs, NPROP, sizeof(*vs), cmp_qsort);
	for (i = 0; i < NPROP; i++)
		for (j = i + 1; j < NPROP; j += 1 + j % 7)
			ASSERT(gm_semver_cmp(&vs[i], &vs[j]) <= 0);
	free(vs);
}

TEST(property_basic_operators_match_the_version_itself)
{
	static const char *const ops[] = {"^", "~", "=", ">=", "<=", ""};
	char vtext[GM_SEMVER_MAX_LEN + 1], rtext[GM_SEMVER_MAX_LEN + 8];
	size_t i, k;

	rng_state = 12345;
	for (i = 0; i < 3000; i++) {
		struct gm_semver v = rnd_version();
		struct gm_semver_req r;
		struct gm_diag d;

		v.pre[0] = '\0';
		gm_semver_format(&v, vtext, sizeof(vtext));
		for (k = 0; k < GM_ARRAY_LEN(ops); k++) {
			size_t n = (size_t)snprintf(rtext, sizeof(rtext),
						    "%s%s", ops[k], vtext);

			ASSERT_OK(gm_semver_req_parse(&r, rtext, n, &d));
			if (!gm_semver_req_matches(&r, &v))
				gm_test_fail(__FILE__, __LINE__,
					     "'%s' does not match '%s'", rtext,
					     vtext);
		}
	}
}

/*
 * The brute-force definition: each comparator is an interval of full
 * versions (Cargo's documented translation, with "-0", the lowest
 * pre-release, on exclusive upper bounds), and a pre-release version must
 * also be named by a comparator with a pre-release on its x.y.z.
 */
struct bound {
	bool inf;
	bool incl;
	struct gm_semver v;
};

static struct gm_semver mk(uint64_t a, uint64_t b, uint64_t c, const char *pre)
{
	struct gm_semver v;

	memset(&v, 0, sizeof(v));
	v.major = a;
	v.minor = b;
	v.patch = c;
	snprintf(v.pre, sizeof(v.pre), "%s", pre);
	return v;
}

static bool in_interval(const struct bound *lo, const struct bound *hi,
			const struct gm_semver *v)
{
	if (!lo->inf) {
		int r = gm_semver_cmp(v, &lo->v);

		if (r < 0 || (r == 0 && !lo->incl))
			return false;
	}
	if (!hi->inf) {
		int r = gm_semver_cmp(v, &hi->v);

		if (r > 0 || (r == 0 && !hi->incl))
			return false;
	}
	return true;
}

/* Brute-force match of the single comparator c (of req) against v. */
static bool brute(const struct gm_semver_req *req,
		  const struct gm_semver_comparator *c,
		  const struct gm_semver *v)
{
	struct bound lo = {true, true, {0}}, hi = {true, false, {0}};
	uint64_t I = c->major, J = c->minor, K = c->patch;
	char pre[GM_SEMVER_MAX_LEN + 1];
	int level = c->has_patch ? 3 : c->has_minor ? 2 : 1;

	snprintf(pre, sizeof(pre), "%.*s", (int)c->pre_len,
		 req->pool + c->pre_off);
	/* The exact version or the range a partial version stands for. */
	struct gm_semver base = level == 3   ? mk(I, J, K, pre)
				: level == 2 ? mk(I, J, 0, "")
					     : mk(I, 0, 0, "");
	struct gm_semver next = level == 3   ? mk(I, J, K, pre)
				: level == 2 ? mk(I, J + 1, 0, "0")
					     : mk(I + 1, 0, 0, "0");

	switch (c->op) {
	case GM_SEMVER_OP_CARET:
		lo = (struct bound){false, true, base};
		hi.inf = false;
		if (I > 0 || level == 1)
			hi.v = mk(I + 1, 0, 0, "0");
		else if (J > 0 || level == 2)
			hi.v = mk(0, J + 1, 0, "0");
		else
			hi.v = mk(0, 0, K + 1, "0");
		break;
	case GM_SEMVER_OP_TILDE:
		lo = (struct bound){false, true, base};
		hi.inf = false;
		hi.v = level == 1 ? mk(I + 1, 0, 0, "0") : mk(I, J + 1, 0, "0");
		break;
	case GM_SEMVER_OP_EXACT:
	case GM_SEMVER_OP_WILDCARD:
		lo = (struct bound){false, true, base};
		hi = (struct bound){false, level == 3, next};
		break;
	case GM_SEMVER_OP_GREATER:
		if (level == 3)
			lo = (struct bound){false, false, base};
		else
			lo = (struct bound){false, true,
					    level == 2 ? mk(I, J + 1, 0, "")
						       : mk(I + 1, 0, 0, "")};
		break;
	case GM_SEMVER_OP_GREATER_EQ:
		lo = (struct bound){false, true, base};
		break;
	case GM_SEMVER_OP_LESS:
		hi = (struct bound){false, false,
				    level == 3	 ? base
				    : level == 2 ? mk(I, J, 0, "0")
						 : mk(I, 0, 0, "0")};
		break;
	case GM_SEMVER_OP_LESS_EQ:
		hi = (struct bound){false, level == 3, next};
		break;
	}
	if (!in_interval(&lo, &hi, v))
		return false;
	if (!v->pre[0])
		return true;
	return c->pre_len && I == v->major && J == v->minor && K == v->patch;
}

/* Checks one single-comparator requirement against every grid version. */
static unsigned long check_grid(const char *t, const struct gm_semver *grid,
				size_t ng)
{
	struct gm_semver_req r;
	struct gm_diag d;
	char vb[64];
	size_t i;

	if (gm_semver_req_parse(&r, t, strlen(t), &d) != GM_OK)
		gm_test_fail(__FILE__, __LINE__, "'%s': %s", t, d.msg);
	ASSERT_EQ(r.n, 1);
	for (i = 0; i < ng; i++) {
		bool got = gm_semver_req_matches(&r, &grid[i]);

		if (got == brute(&r, &r.cmp[0], &grid[i]))
			continue;
		gm_semver_format(&grid[i], vb, sizeof(vb));
		gm_test_fail(__FILE__, __LINE__, "'%s' vs '%s': got %d", t, vb,
			     got);
	}
	return ng;
}

TEST(property_matching_agrees_with_brute_force_on_a_grid)
{
	static const char *const ops[] = {"",  "^",  "~", "=",
					  ">", ">=", "<", "<="};
	static const char *const pres[] = {"", "alpha", "alpha.1", "beta", "0"};
	struct gm_semver grid[4 * 4 * 4 * GM_ARRAY_LEN(pres)];
	size_t ng = 0, a, b, c, p, k;
	unsigned long checked = 0;
	char t[64];

	for (a = 0; a < 4; a++)
		for (b = 0; b < 4; b++)
			for (c = 0; c < 4; c++)
				for (p = 0; p < GM_ARRAY_LEN(pres); p++)
					grid[ng++] = mk(a, b, c, pres[p]);
	for (a = 0; a < 3; a++) {
		snprintf(t, sizeof(t), "%zu.*", a);
		checked += check_grid(t, grid, ng);
		for (b = 0; b < 3; b++) {
			snprintf(t, sizeof(t), "%zu.%zu.x", a, b);
			checked += check_grid(t, grid, ng);
		}
	}
	for (k = 0; k < GM_ARRAY_LEN(ops); k++) {
		for (a = 0; a < 3; a++) {
			snprintf(t, sizeof(t), "%s%zu", ops[k], a);
			checked += check_grid(t, grid, ng);
			for (b = 0; b < 3; b++) {
				snprintf(t, sizeof(t), "%s%zu.%zu", ops[k], a,
					 b);
				checked += check_grid(t, grid, ng);
				for (c = 0; c < 3; c++) {
					snprintf(t, sizeof(t), "%s%zu.%zu.%zu",
						 ops[k], a, b, c);
					checked += check_grid(t, grid, ng);
					snprintf(t, sizeof(t),
						 "%s%zu.%zu.%zu-alpha.1",
						 ops[k], a, b, c);
					checked += check_grid(t, grid, ng);
					snprintf(t, sizeof(t),
						 "%s%zu.%zu.%zu-beta", ops[k],
						 a, b, c);
					checked += check_grid(t, grid, ng);
				}
			}
		}
	}
	ASSERT(checked > 100000);
}

TEST(property_and_lists_are_the_conjunction_for_releases)
{
	static const char *const parts[] = {">=1.2",  "<1.5",	 "^1", "~1.3",
					    ">0.9.1", "<=1.4.2", "=1"};
	size_t i, j, a, b, c;

	for (i = 0; i < GM_ARRAY_LEN(parts); i++) {
		for (j = 0; j < GM_ARRAY_LEN(parts); j++) {
			char t[64];

			snprintf(t, sizeof(t), "%s, %s", parts[i], parts[j]);
			for (a = 0; a < 3; a++)
				for (b = 0; b < 7; b++)
					for (c = 0; c < 4; c++) {
						char v[32];
						bool want, got;

						snprintf(v, sizeof(v),
							 "%zu.%zu.%zu", a, b,
							 c);
						want =
						    req_matches(parts[i], v) &&
						    req_matches(parts[j], v);
						got = req_matches(t, v);
						ASSERT_EQ(got, want);
					}
		}
	}
}
