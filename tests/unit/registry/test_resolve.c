/*
 * test_resolve.c - the PubGrub resolver against small in-memory indexes.
 *
 * An index here is a list of (id, version, dependencies) entries; the
 * dependencies are "id req; id req" text. It covers the examples of Dart
 * pub's doc/solver.md, the error messages, cycles and limits, random
 * registries checked against a brute-force solver, and out-of-memory walks.
 */
#include "harness.h"

#include "gm/resolve.h"

#define REG_MAX 256

struct ent {
	char id[32];
	char ver[40];
	char deps[256];
};

struct reg {
	struct ent e[REG_MAX];
	size_t n;
	unsigned version_calls;
	unsigned dep_calls;
	gm_err fail_with; /* returned by versions() when set */
};

static void add(struct reg *r, const char *id, const char *ver,
		const char *deps)
{
	struct ent *e;

	ASSERT(r->n < REG_MAX);
	e = &r->e[r->n++];
	snprintf(e->id, sizeof(e->id), "%s", id);
	snprintf(e->ver, sizeof(e->ver), "%s", ver);
	snprintf(e->deps, sizeof(e->deps), "%s", deps ? deps : "");
}

static gm_err cb_versions(void *ctx, const char *id,
			  struct gm_resolve_sink *sink, struct gm_diag *d)
{
	struct reg *r = ctx;
	size_t i;
	bool any = false;
	gm_err e;

	r->version_calls++;
	if (r->fail_with)
		return gm_diag_set(d, r->fail_with, "index unavailable");
	for (i = 0; i < r->n; i++) {
		if (strcmp(r->e[i].id, id) != 0)
			continue;
		any = true;
		e = gm_resolve_sink_version(sink, r->e[i].ver,
					    strlen(r->e[i].ver));
		if (e)
			return e;
	}
	return any ? GM_OK : GM_ENOENT;
}

/* Calls f(id, idlen, req, reqlen) for each "id req" of a deps text. */
static gm_err each_dep(const char *deps,
		       gm_err (*f)(void *, const char *, size_t, const char *,
				   size_t),
		       void *arg)
{
	const char *p = deps;

	while (*p) {
		const char *end = strchr(p, ';'), *sp;
		size_t len;
		gm_err e;

		if (!end)
			end = p + strlen(p);
		while (*p == ' ')
			p++;
		len = (size_t)(end - p);
		sp = memchr(p, ' ', len);
		if (len) {
			if (!sp)
				e = f(arg, p, len, "*", 1);
			else
				e = f(arg, p, (size_t)(sp - p), sp + 1,
				      (size_t)(end - sp - 1));
			if (e)
				return e;
		}
		p = *end ? end + 1 : end;
	}
	return GM_OK;
}

static gm_err sink_dep(void *arg, const char *id, size_t il, const char *req,
		       size_t rl)
{
	return gm_resolve_sink_dep(arg, id, il, req, rl);
}

static gm_err cb_deps(void *ctx, const char *id, const char *version,
		      struct gm_resolve_sink *sink, struct gm_diag *d)
{
	struct reg *r = ctx;
	size_t i;

	r->dep_calls++;
	for (i = 0; i < r->n; i++)
		if (strcmp(r->e[i].id, id) == 0 &&
		    strcmp(r->e[i].ver, version) == 0)
			return each_dep(r->e[i].deps, sink_dep, sink);
	return gm_diag_set(d, GM_ENOENT, "no %s %s", id, version);
}

struct rootreqs {
	struct gm_resolve_req q[32];
	char text[32][64];
	char ids[32][32];
	size_t n;
};

static gm_err add_root(void *arg, const char *id, size_t il, const char *req,
		       size_t rl)
{
	struct rootreqs *rr = arg;

	if (rr->n >= 32)
		return GM_ELIMIT;
	snprintf(rr->ids[rr->n], sizeof(rr->ids[0]), "%.*s", (int)il, id);
	snprintf(rr->text[rr->n], sizeof(rr->text[0]), "%.*s", (int)rl, req);
	rr->q[rr->n].id = rr->ids[rr->n];
	rr->q[rr->n].req = rr->text[rr->n];
	rr->n++;
	return GM_OK;
}

static gm_err solve_lim(struct reg *r, const char *root,
			const struct gm_resolve_limits *lim,
			struct gm_resolve_result *res, struct gm_diag *d)
{
	struct gm_resolve_index idx = {r, cb_versions, cb_deps};
	struct rootreqs rr;

	memset(&rr, 0, sizeof(rr));
	ASSERT_OK(each_dep(root, add_root, &rr));
	gm_diag_clear(d);
	return gm_resolve(&idx, rr.q, rr.n, lim, res, d);
}

static gm_err solve(struct reg *r, const char *root,
		    struct gm_resolve_result *res, struct gm_diag *d)
{
	return solve_lim(r, root, NULL, res, d);
}

/* The chosen version of id as text, or NULL. */
static const char *pick(const struct gm_resolve_result *res, const char *id)
{
	static char buf[GM_SEMVER_MAX_LEN + 1];
	size_t i;

	for (i = 0; i < res->n; i++) {
		if (strcmp(res->picks[i].id, id) != 0)
			continue;
		gm_semver_format(&res->picks[i].version, buf, sizeof(buf));
		return buf;
	}
	return NULL;
}

#define ASSERT_PICK(res, id, ver) ASSERT_STREQ(pick(res, id), ver)
#define ASSERT_HAS(text, part)                                                 \
	do {                                                                   \
		const char *t_ = (text);                                       \
		if (!t_ || !strstr(t_, part))                                  \
			gm_test_fail(__FILE__, __LINE__,                       \
				     "expected \"%s\" in:\n%s", part,          \
				     t_ ? t_ : "(null)");                      \
	} while (0)

/* ---- basic solving ---------------------------------------------------- */

TEST(empty_project_resolves_to_nothing)
{
	struct reg r = {0};
	struct gm_resolve_result res;
	struct gm_diag d;

	gm_resolve_result_init(&res);
	ASSERT_OK(solve(&r, "", &res, &d));
	ASSERT_EQ(res.n, 0);
	ASSERT(res.explanation == NULL);
	ASSERT_EQ(r.version_calls, 0);
	gm_resolve_result_release(&res);
}

TEST(simple_chain_picks_highest_and_records_requirers)
{
	static struct reg r;
	struct gm_resolve_result res;
	struct gm_diag d;

	add(&r, "acme/a", "1.0.0", "acme/b ^1");
	add(&r, "acme/a", "1.2.0", "acme/b ^1.1");
	add(&r, "acme/a", "2.0.0", "acme/b ^2");
	add(&r, "acme/b", "1.0.0", "acme/c ~0.3");
	add(&r, "acme/b", "1.1.0", "acme/c ~0.3");
	add(&r, "acme/b", "1.4.1", "acme/c ~0.3.1");
	add(&r, "acme/b", "2.0.0", "");
	add(&r, "acme/c", "0.3.0", "");
	add(&r, "acme/c", "0.3.7", "");
	add(&r, "acme/c", "0.4.0", "");
	gm_resolve_result_init(&res);
	ASSERT_OK(solve(&r, "acme/a ^1", &res, &d));
	ASSERT_EQ(res.n, 3);
	/* sorted by id */
	ASSERT_STREQ(res.picks[0].id, "acme/a");
	ASSERT_STREQ(res.picks[1].id, "acme/b");
	ASSERT_STREQ(res.picks[2].id, "acme/c");
	ASSERT_PICK(&res, "acme/a", "1.2.0");
	ASSERT_PICK(&res, "acme/b", "1.4.1");
	ASSERT_PICK(&res, "acme/c", "0.3.7");
	ASSERT_EQ(res.picks[0].n_by, 1);
	ASSERT_EQ(res.picks[0].by[0].from, GM_RESOLVE_PROJECT);
	ASSERT_STREQ(res.picks[0].by[0].req, "^1");
	ASSERT_EQ(res.picks[1].n_by, 1);
	ASSERT_EQ(res.picks[1].by[0].from, 0);
	ASSERT_STREQ(res.picks[1].by[0].req, "^1.1");
	ASSERT_EQ(res.picks[2].by[0].from, 1);
	ASSERT_STREQ(res.picks[2].by[0].req, "~0.3.1");
	ASSERT_EQ(res.conflicts, 0);
	gm_resolve_result_release(&res);
	ASSERT_EQ(res.n, 0);
}

TEST(diamond_shares_one_version)
{
	static struct reg r;
	struct gm_resolve_result res;
	struct gm_diag d;

	add(&r, "x/left", "1.0.0", "x/base >=1.1");
	add(&r, "x/right", "1.0.0", "x/base ^1");
	add(&r, "x/base", "1.0.0", "");
	add(&r, "x/base", "1.1.0", "");
	add(&r, "x/base", "1.2.0", "");
	add(&r, "x/base", "2.0.0", "");
	gm_resolve_result_init(&res);
	ASSERT_OK(solve(&r, "x/left 1; x/right 1", &res, &d));
	ASSERT_EQ(res.n, 3);
	ASSERT_PICK(&res, "x/base", "1.2.0");
	/* base is required by both, sorted by requirer */
	ASSERT_STREQ(res.picks[0].id, "x/base");
	ASSERT_EQ(res.picks[0].n_by, 2);
	ASSERT_EQ(res.picks[0].by[0].from, 1);
	ASSERT_STREQ(res.picks[0].by[0].req, ">=1.1");
	ASSERT_EQ(res.picks[0].by[1].from, 2);
	ASSERT_STREQ(res.picks[0].by[1].req, "^1");
	gm_resolve_result_release(&res);
}

TEST(backtracks_when_the_highest_version_conflicts)
{
	static struct reg r;
	struct gm_resolve_result res;
	struct gm_diag d;

	add(&r, "x/a", "1.0.0", "x/c ^1");
	add(&r, "x/a", "2.0.0", "x/c ^2");
	add(&r, "x/c", "1.0.0", "");
	add(&r, "x/c", "2.0.0", "x/b ^2");
	add(&r, "x/b", "1.0.0", "");
	add(&r, "x/b", "2.0.0", "");
	gm_resolve_result_init(&res);
	ASSERT_OK(solve(&r, "x/a *; x/b ^1", &res, &d));
	ASSERT_PICK(&res, "x/a", "1.0.0");
	ASSERT_PICK(&res, "x/b", "1.0.0");
	ASSERT_PICK(&res, "x/c", "1.0.0");
	ASSERT(res.conflicts >= 1);
	gm_resolve_result_release(&res);
}

/* ---- the examples of pub's doc/solver.md ------------------------------- */

TEST(pubgrub_no_conflicts)
{
	static struct reg r;
	struct gm_resolve_result res;
	struct gm_diag d;

	add(&r, "foo", "1.0.0", "bar ^1.0.0");
	add(&r, "bar", "1.0.0", "");
	add(&r, "bar", "2.0.0", "");
	gm_resolve_result_init(&res);
	ASSERT_OK(solve(&r, "foo ^1.0.0", &res, &d));
	ASSERT_EQ(res.n, 2);
	ASSERT_PICK(&res, "foo", "1.0.0");
	ASSERT_PICK(&res, "bar", "1.0.0");
	ASSERT_EQ(res.conflicts, 0);
	gm_resolve_result_release(&res);
}

TEST(pubgrub_avoiding_conflict_during_decision_making)
{
	static struct reg r;
	struct gm_resolve_result res;
	struct gm_diag d;

	add(&r, "foo", "1.0.0", "");
	add(&r, "foo", "1.1.0", "bar ^2.0.0");
	add(&r, "bar", "1.0.0", "");
	add(&r, "bar", "1.1.0", "");
	add(&r, "bar", "2.0.0", "");
	gm_resolve_result_init(&res);
	ASSERT_OK(solve(&r, "foo ^1.0.0; bar ^1.0.0", &res, &d));
	ASSERT_PICK(&res, "foo", "1.0.0");
	ASSERT_PICK(&res, "bar", "1.1.0");
	ASSERT_EQ(res.conflicts, 0);
	gm_resolve_result_release(&res);
}

TEST(pubgrub_performing_conflict_resolution)
{
	static struct reg r;
	struct gm_resolve_result res;
	struct gm_diag d;

	add(&r, "foo", "1.0.0", "");
	add(&r, "foo", "2.0.0", "bar ^1.0.0");
	add(&r, "bar", "1.0.0", "foo ^1.0.0");
	gm_resolve_result_init(&res);
	ASSERT_OK(solve(&r, "foo >=1.0.0", &res, &d));
	ASSERT_EQ(res.n, 1);
	ASSERT_PICK(&res, "foo", "1.0.0");
	ASSERT(pick(&res, "bar") == NULL);
	ASSERT_EQ(res.conflicts, 1);
	gm_resolve_result_release(&res);
}

TEST(pubgrub_conflict_resolution_with_a_partial_satisfier)
{
	static struct reg r;
	struct gm_resolve_result res;
	struct gm_diag d;

	add(&r, "foo", "1.0.0", "");
	add(&r, "foo", "1.1.0", "left ^1.0.0; right ^1.0.0");
	add(&r, "left", "1.0.0", "shared >=1.0.0");
	add(&r, "right", "1.0.0", "shared <2.0.0");
	add(&r, "shared", "2.0.0", "");
	add(&r, "shared", "1.0.0", "target ^1.0.0");
	add(&r, "target", "2.0.0", "");
	add(&r, "target", "1.0.0", "");
	gm_resolve_result_init(&res);
	ASSERT_OK(solve(&r, "foo ^1.0.0; target ^2.0.0", &res, &d));
	ASSERT_EQ(res.n, 2);
	ASSERT_PICK(&res, "foo", "1.0.0");
	ASSERT_PICK(&res, "target", "2.0.0");
	ASSERT(res.conflicts >= 1);
	gm_resolve_result_release(&res);
}

TEST(pubgrub_linear_error_reporting)
{
	static struct reg r;
	struct gm_resolve_result res;
	struct gm_diag d;

	add(&r, "foo", "1.0.0", "bar ^2.0.0");
	add(&r, "bar", "2.0.0", "baz ^3.0.0");
	add(&r, "baz", "1.0.0", "");
	add(&r, "baz", "3.0.0", "");
	gm_resolve_result_init(&res);
	ASSERT_ERR(solve(&r, "foo ^1.0.0; baz ^1.0.0", &res, &d), GM_ECONFLICT);
	ASSERT_EQ(res.n, 0);
	ASSERT_STREQ(res.explanation,
		     "Because every version of foo depends on bar ^2.0.0 "
		     "which depends on baz ^3.0.0, every version of foo "
		     "requires baz ^3.0.0.\n"
		     "So, because the project depends on both foo ^1.0.0 and "
		     "baz ^1.0.0, version solving failed.");
	ASSERT_HAS(d.msg, "every version of foo depends on bar ^2.0.0");
	gm_resolve_result_release(&res);
}

TEST(pubgrub_branching_error_reporting)
{
	static struct reg r;
	struct gm_resolve_result res;
	struct gm_diag d;

	add(&r, "foo", "1.0.0", "a ^1.0.0; b ^1.0.0");
	add(&r, "foo", "1.1.0", "x ^1.0.0; y ^1.0.0");
	add(&r, "a", "1.0.0", "b ^2.0.0");
	add(&r, "b", "1.0.0", "");
	add(&r, "b", "2.0.0", "");
	add(&r, "x", "1.0.0", "y ^2.0.0");
	add(&r, "y", "1.0.0", "");
	add(&r, "y", "2.0.0", "");
	gm_resolve_result_init(&res);
	ASSERT_ERR(solve(&r, "foo ^1.0.0", &res, &d), GM_ECONFLICT);
	/* Both branches are explained, one numbered and referred to. */
	ASSERT_HAS(res.explanation, "foo 1.0.0 depends on a ^1.0.0 which "
				    "depends on b ^2.0.0");
	ASSERT_HAS(res.explanation, "foo 1.1.0 depends on x ^1.0.0 which "
				    "depends on y ^2.0.0");
	ASSERT_HAS(res.explanation, "(1) ");
	ASSERT_HAS(res.explanation, "is forbidden (1)");
	ASSERT_HAS(res.explanation, "\n\n");
	ASSERT_HAS(res.explanation, "So, because the project depends on "
				    "foo ^1.0.0, version solving failed.");
	gm_resolve_result_release(&res);
}

TEST(conflict_explanation_names_ranges_and_requirements)
{
	static struct reg r;
	struct gm_resolve_result res;
	struct gm_diag d;

	add(&r, "acme/web-framework", "1.1.0", "acme/http-middleware ^0.2");
	add(&r, "acme/web-framework", "1.2.0", "acme/http-middleware ^0.3");
	add(&r, "acme/web-framework", "1.3.0", "acme/http-middleware ^0.3");
	add(&r, "acme/rust-cli", "1.0.2", "");
	add(&r, "acme/rust-cli", "1.0.3", "acme/http-middleware ^0.4");
	add(&r, "acme/rust-cli", "1.1.0", "");
	add(&r, "acme/http-middleware", "0.2.0", "");
	add(&r, "acme/http-middleware", "0.3.1", "");
	add(&r, "acme/http-middleware", "0.4.0", "");
	gm_resolve_result_init(&res);
	ASSERT_ERR(solve(&r, "acme/web-framework ^1.2; acme/rust-cli =1.0.3",
			 &res, &d),
		   GM_ECONFLICT);
	ASSERT_HAS(res.explanation, "acme/web-framework >=1.2.0 depends on "
				    "acme/http-middleware ^0.3");
	ASSERT_HAS(res.explanation,
		   "acme/rust-cli 1.0.3 depends on acme/http-middleware ^0.4");
	ASSERT_HAS(res.explanation, "is incompatible with");
	ASSERT_HAS(res.explanation, "version solving failed.");
	gm_resolve_result_release(&res);

	/* Without the pin the solver finds rust-cli 1.1.0. */
	ASSERT_OK(
	    solve(&r, "acme/web-framework ^1.2; acme/rust-cli ^1", &res, &d));
	ASSERT_PICK(&res, "acme/web-framework", "1.3.0");
	ASSERT_PICK(&res, "acme/rust-cli", "1.1.0");
	ASSERT_PICK(&res, "acme/http-middleware", "0.3.1");
	gm_resolve_result_release(&res);
}

/* ---- pre-releases, missing packages, cycles, errors -------------------- */

TEST(prerelease_only_when_named)
{
	static struct reg r;
	struct gm_resolve_result res;
	struct gm_diag d;

	add(&r, "x/p", "1.0.0", "");
	add(&r, "x/p", "1.1.0-beta.1", "");
	add(&r, "x/p", "1.1.0-beta.2", "");
	add(&r, "x/q", "1.0.0", "x/p ^1.1.0-beta.1");
	gm_resolve_result_init(&res);
	ASSERT_OK(solve(&r, "x/p ^1", &res, &d));
	ASSERT_PICK(&res, "x/p", "1.0.0");
	ASSERT_OK(solve(&r, "x/p >=1.1.0-beta.1", &res, &d));
	ASSERT_PICK(&res, "x/p", "1.1.0-beta.2");
	ASSERT_OK(solve(&r, "x/q 1", &res, &d));
	ASSERT_PICK(&res, "x/p", "1.1.0-beta.2");
	ASSERT_ERR(solve(&r, "x/q 1; x/p ^1.0", &res, &d), GM_ECONFLICT);
	ASSERT_HAS(res.explanation, "x/p ^1.1.0-beta.1");
	gm_resolve_result_release(&res);
}

TEST(missing_package_is_named_with_its_requirer)
{
	static struct reg r;
	struct gm_resolve_result res;
	struct gm_diag d;

	add(&r, "acme/web-framework", "1.2.0", "acme/x ^1");
	gm_resolve_result_init(&res);
	ASSERT_ERR(solve(&r, "acme/web-framework ^1", &res, &d), GM_ECONFLICT);
	ASSERT_HAS(res.explanation, "no package 'acme/x' (required by "
				    "acme/web-framework 1.2.0)");
	ASSERT_HAS(d.msg, "no package 'acme/x'");
	ASSERT_ERR(solve(&r, "acme/nothing ^1", &res, &d), GM_ECONFLICT);
	ASSERT_STREQ(res.explanation,
		     "no package 'acme/nothing' (required by the project)");
	gm_resolve_result_release(&res);
}

TEST(no_matching_version_lists_what_exists)
{
	static struct reg r;
	struct gm_resolve_result res;
	struct gm_diag d;

	add(&r, "acme/x", "1.1.0", "");
	add(&r, "acme/x", "1.0.0", "");
	add(&r, "acme/y", "3.0.0", "acme/x ^2.0");
	gm_resolve_result_init(&res);
	ASSERT_ERR(solve(&r, "acme/x ^2.0", &res, &d), GM_ECONFLICT);
	ASSERT_STREQ(res.explanation,
		     "no version of acme/x matches ^2.0 (required by the "
		     "project); available: 1.0.0, 1.1.0");
	ASSERT_ERR(solve(&r, "acme/y *", &res, &d), GM_ECONFLICT);
	ASSERT_HAS(res.explanation, "no version of acme/x matches ^2.0 "
				    "(required by acme/y 3.0.0)");
	ASSERT_HAS(res.explanation, "available: 1.0.0, 1.1.0");
	gm_resolve_result_release(&res);
}

TEST(dependency_cycle_is_refused)
{
	static struct reg r;
	struct gm_resolve_result res;
	struct gm_diag d;

	add(&r, "acme/a", "1.0.0", "acme/b ^2");
	add(&r, "acme/b", "2.1.0", "acme/a ^1");
	add(&r, "acme/s", "1.0.0", "acme/s ^1");
	add(&r, "acme/t", "1.0.0", "acme/a 1");
	gm_resolve_result_init(&res);
	ASSERT_ERR(solve(&r, "acme/a ^1", &res, &d), GM_ECONFLICT);
	ASSERT_STREQ(res.explanation, "dependency cycle: acme/a@1.0.0 -> "
				      "acme/b@2.1.0 -> acme/a@1.0.0");
	ASSERT_STREQ(d.msg, res.explanation);
	ASSERT_EQ(res.n, 0);
	ASSERT_ERR(solve(&r, "acme/t ^1", &res, &d), GM_ECONFLICT);
	ASSERT_STREQ(res.explanation, "dependency cycle: acme/a@1.0.0 -> "
				      "acme/b@2.1.0 -> acme/a@1.0.0");
	ASSERT_ERR(solve(&r, "acme/s ^1", &res, &d), GM_ECONFLICT);
	ASSERT_STREQ(res.explanation,
		     "dependency cycle: acme/s@1.0.0 -> acme/s@1.0.0");
	gm_resolve_result_release(&res);
}

TEST(self_dependency_outside_own_version_makes_it_unusable)
{
	static struct reg r;
	struct gm_resolve_result res;
	struct gm_diag d;

	add(&r, "x/s", "1.0.0", "");
	add(&r, "x/s", "2.0.0", "x/s ^1");
	gm_resolve_result_init(&res);
	ASSERT_OK(solve(&r, "x/s *", &res, &d));
	ASSERT_PICK(&res, "x/s", "1.0.0");
	gm_resolve_result_release(&res);
}

TEST(limits_stop_the_solver)
{
	static struct reg r;
	struct gm_resolve_result res;
	struct gm_resolve_limits lim;
	struct gm_diag d;

	add(&r, "x/a", "1.0.0", "x/b 1");
	add(&r, "x/b", "1.0.0", "x/c 1");
	add(&r, "x/c", "1.0.0", "x/d 1; x/e 1; x/f 1");
	add(&r, "x/d", "1.0.0", "");
	add(&r, "x/e", "1.0.0", "");
	add(&r, "x/f", "1.0.0", "");
	add(&r, "x/f", "1.0.1", "");
	add(&r, "x/f", "1.0.2", "");
	gm_resolve_result_init(&res);
	ASSERT_OK(solve(&r, "x/a 1", &res, &d));
	ASSERT_EQ(res.n, 6);

	memset(&lim, 0, sizeof(lim));
	lim.max_packages = 3;
	ASSERT_ERR(solve_lim(&r, "x/a 1", &lim, &res, &d), GM_ELIMIT);
	ASSERT_HAS(d.msg, "more than 3 packages");

	memset(&lim, 0, sizeof(lim));
	lim.max_versions = 2;
	ASSERT_ERR(solve_lim(&r, "x/a 1", &lim, &res, &d), GM_ELIMIT);
	ASSERT_HAS(d.msg, "x/f has more than 2 versions");

	memset(&lim, 0, sizeof(lim));
	lim.max_deps = 2;
	ASSERT_ERR(solve_lim(&r, "x/a 1", &lim, &res, &d), GM_ELIMIT);
	ASSERT_HAS(d.msg, "x/c has more than 2 dependencies");
	ASSERT_ERR(solve_lim(&r, "x/a 1; x/b 1; x/c 1", &lim, &res, &d),
		   GM_ELIMIT);
	ASSERT_HAS(d.msg, "the project has more than 2 requirements");

	memset(&lim, 0, sizeof(lim));
	lim.max_steps = 5;
	ASSERT_ERR(solve_lim(&r, "x/a 1", &lim, &res, &d), GM_ELIMIT);
	ASSERT_HAS(d.msg, "more than 5 steps");
	ASSERT_EQ(res.n, 0);
	gm_resolve_result_release(&res);
}

TEST(bad_index_data_is_reported)
{
	static struct reg r;
	struct gm_resolve_result res;
	struct gm_diag d;

	add(&r, "x/a", "1.0.0", "x/b >=1.!");
	add(&r, "x/b", "1.0.0", "");
	add(&r, "x/c", "1.0", "");
	add(&r, "x/d", "1.0.0+a", "");
	add(&r, "x/d", "1.0.0+b", "");
	gm_resolve_result_init(&res);
	ASSERT_ERR(solve(&r, "x/a 1", &res, &d), GM_EPARSE);
	ASSERT_HAS(d.msg, "invalid requirement '>=1.!' on x/b in x/a 1.0.0");
	ASSERT_ERR(solve(&r, "x/b ^^1", &res, &d), GM_EPARSE);
	ASSERT_HAS(d.msg, "in the project");
	ASSERT_ERR(solve(&r, "x/c 1", &res, &d), GM_EPARSE);
	ASSERT_HAS(d.msg, "invalid version of x/c");
	ASSERT_ERR(solve(&r, "x/d 1", &res, &d), GM_EFORMAT);
	ASSERT_HAS(d.msg, "version 1.0.0+b of x/d twice");

	r.fail_with = GM_EIO;
	ASSERT_ERR(solve(&r, "x/b 1", &res, &d), GM_EIO);
	ASSERT_STREQ(d.msg, "index unavailable");
	ASSERT_ERR(gm_resolve(NULL, NULL, 0, NULL, &res, &d), GM_EINVAL);
	gm_resolve_result_release(&res);
}

TEST(deterministic_across_runs_and_merges_version_runs)
{
	static struct reg r;
	struct gm_resolve_result a, b;
	struct gm_diag d;
	size_t i;

	add(&r, "z/last", "1.0.0", "a/first ^1");
	add(&r, "a/first", "1.0.0", "m/mid ^1");
	add(&r, "a/first", "1.1.0", "m/mid ^1");
	add(&r, "a/first", "1.2.0", "m/mid ^1");
	add(&r, "m/mid", "1.0.0", "");
	gm_resolve_result_init(&a);
	gm_resolve_result_init(&b);
	ASSERT_OK(solve(&r, "z/last 1", &a, &d));
	ASSERT_OK(solve(&r, "z/last 1", &b, &d));
	ASSERT_EQ(a.n, b.n);
	for (i = 0; i < a.n; i++) {
		ASSERT_STREQ(a.picks[i].id, b.picks[i].id);
		ASSERT_EQ(
		    gm_semver_cmp(&a.picks[i].version, &b.picks[i].version), 0);
	}
	ASSERT_STREQ(a.picks[0].id, "a/first");
	ASSERT_STREQ(a.picks[2].id, "z/last");
	ASSERT_PICK(&a, "a/first", "1.2.0");
	gm_resolve_result_release(&a);
	gm_resolve_result_release(&b);
}

/* ---- random registries against brute force ---------------------------- */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

#define RP_MAX 6
#define RV_MAX 5

struct rdeps {
	int to; /* package index; RP_MAX = a missing package */
	char req[24];
	struct gm_semver_req parsed;
};

struct rpkg {
	char id[16];
	int nv;
	char ver[RV_MAX][24];
	struct gm_semver v[RV_MAX];
	int nd[RV_MAX];
	struct rdeps d[RV_MAX][3];
};

struct rreg {
	int np;
	struct rpkg p[RP_MAX];
	int nroot;
	struct rdeps root[3];
	struct reg flat;
};

static const char *const rand_versions[] = {
    "0.1.0",	  "0.1.3", "0.2.0",	  "1.0.0", "1.0.1", "1.1.0",
    "1.2.0-rc.1", "1.2.0", "2.0.0-alpha", "2.0.0", "2.3.1", "3.0.0",
};

static const char *const rand_ops[] = {"^", "~", ">=", "<", "=", ""};

static void rand_req(struct rreg *g, struct rdeps *r, int from)
{
	const struct rpkg *t;
	char v[24];

	/* DAG: only later packages, so no cycles; sometimes a missing one. */
	r->to = rnd(12) == 0
		    ? RP_MAX
		    : from + 1 + (int)rnd((uint32_t)(g->np - from - 1));
	if (r->to == RP_MAX || rnd(6) == 0) {
		snprintf(r->req, sizeof(r->req), "*");
	} else {
		t = &g->p[r->to];
		snprintf(v, sizeof(v), "%s", rand_versions[rnd(12)]);
		if (rnd(3) == 0 && t->nv)
			snprintf(v, sizeof(v), "%s",
				 t->ver[rnd((uint32_t)t->nv)]);
		snprintf(r->req, sizeof(r->req), "%s%s", rand_ops[rnd(6)], v);
	}
	ASSERT_OK(
	    gm_semver_req_parse(&r->parsed, r->req, strlen(r->req), NULL));
}

static void rand_registry(struct rreg *g)
{
	int i, j, k;

	memset(g, 0, sizeof(*g));
	g->np = 3 + (int)rnd(4);
	for (i = 0; i < g->np; i++) {
		struct rpkg *p = &g->p[i];
		bool used[12] = {false};

		snprintf(p->id, sizeof(p->id), "r/p%d", i);
		p->nv = 1 + (int)rnd(RV_MAX);
		for (j = 0; j < p->nv; j++) {
			uint32_t x;

			do
				x = rnd(12);
			while (used[x]);
			used[x] = true;
			snprintf(p->ver[j], sizeof(p->ver[j]), "%s",
				 rand_versions[x]);
			ASSERT_OK(gm_semver_parse(&p->v[j], p->ver[j],
						  strlen(p->ver[j]), NULL));
		}
	}
	for (i = 0; i < g->np; i++) {
		struct rpkg *p = &g->p[i];

		for (j = 0; j < p->nv; j++) {
			p->nd[j] = i + 1 < g->np ? (int)rnd(4) : 0;
			for (k = 0; k < p->nd[j]; k++)
				rand_req(g, &p->d[j][k], i);
		}
	}
	g->nroot = 1 + (int)rnd(3);
	for (k = 0; k < g->nroot; k++)
		rand_req(g, &g->root[k], -1);
	/* flatten into the test index */
	for (i = 0; i < g->np; i++) {
		struct rpkg *p = &g->p[i];

		for (j = 0; j < p->nv; j++) {
			char deps[256] = "";
			size_t off = 0;

			for (k = 0; k < p->nd[j]; k++)
				off += (size_t)snprintf(
				    deps + off, sizeof(deps) - off, "%s%s %s",
				    k ? ";" : "",
				    p->d[j][k].to == RP_MAX
					? "r/missing"
					: g->p[p->d[j][k].to].id,
				    p->d[j][k].req);
			add(&g->flat, p->id, p->ver[j], deps);
		}
	}
}

static bool dep_ok(const struct rreg *g, const int *choice,
		   const struct rdeps *r)
{
	if (r->to == RP_MAX || choice[r->to] < 0)
		return false;
	return gm_semver_req_matches(&r->parsed, &g->p[r->to].v[choice[r->to]]);
}

static bool assignment_ok(const struct rreg *g, const int *choice)
{
	int i, k;

	for (k = 0; k < g->nroot; k++)
		if (!dep_ok(g, choice, &g->root[k]))
			return false;
	for (i = 0; i < g->np; i++) {
		if (choice[i] < 0)
			continue;
		for (k = 0; k < g->p[i].nd[choice[i]]; k++)
			if (!dep_ok(g, choice, &g->p[i].d[choice[i]][k]))
				return false;
	}
	return true;
}

/* Tries every version-or-absent for each package. */
static bool brute_force(const struct rreg *g)
{
	int choice[RP_MAX], i;

	for (i = 0; i < g->np; i++)
		choice[i] = -1;
	for (;;) {
		if (assignment_ok(g, choice))
			return true;
		for (i = 0; i < g->np; i++) {
			if (++choice[i] < g->p[i].nv)
				break;
			choice[i] = -1;
		}
		if (i == g->np)
			return false;
	}
}

TEST(random_registries_agree_with_brute_force)
{
	static struct rreg g;
	struct gm_resolve_result res;
	struct gm_diag d;
	int iter, solved = 0, failed = 0;

	rng_state = 0x9e3779b97f4a7c15ull;
	gm_resolve_result_init(&res);
	for (iter = 0; iter < 400; iter++) {
		struct gm_resolve_index idx = {&g.flat, cb_versions, cb_deps};
		struct gm_resolve_req q[3];
		int choice[RP_MAX], i, k;
		bool exists;
		gm_err e;

		rand_registry(&g);
		for (k = 0; k < g.nroot; k++) {
			q[k].id = g.root[k].to == RP_MAX ? "r/missing"
							 : g.p[g.root[k].to].id;
			q[k].req = g.root[k].req;
		}
		exists = brute_force(&g);
		e = gm_resolve(&idx, q, (size_t)g.nroot, NULL, &res, &d);
		if (e != GM_OK && e != GM_ECONFLICT)
			gm_test_fail(__FILE__, __LINE__, "iter %d: %s: %s",
				     iter, gm_errname(e), d.msg);
		if (exists != (e == GM_OK))
			gm_test_fail(
			    __FILE__, __LINE__,
			    "iter %d: brute force %s, resolver %s:\n%s", iter,
			    exists ? "solves" : "fails", gm_errname(e),
			    res.explanation ? res.explanation : "");
		if (e == GM_ECONFLICT) {
			ASSERT(res.explanation && res.explanation[0]);
			failed++;
			continue;
		}
		solved++;
		for (i = 0; i < g.np; i++)
			choice[i] = -1;
		for (i = 0; i < (int)res.n; i++) {
			int p = res.picks[i].id[3] - '0', j;

			ASSERT(p >= 0 && p < g.np);
			ASSERT_EQ(choice[p], -1);
			for (j = 0; j < g.p[p].nv; j++)
				if (gm_semver_cmp(&g.p[p].v[j],
						  &res.picks[i].version) == 0)
					choice[p] = j;
			ASSERT(choice[p] >= 0);
			if (i)
				ASSERT(strcmp(res.picks[i - 1].id,
					      res.picks[i].id) < 0);
		}
		if (!assignment_ok(&g, choice))
			gm_test_fail(__FILE__, __LINE__,
				     "iter %d: solution breaks a requirement",
				     iter);
	}
	gm_resolve_result_release(&res);
	/* The generator must exercise both outcomes. */
	ASSERT(solved > 50);
	ASSERT(failed > 50);
}

/* ---- out of memory ------------------------------------------------------ */

static void oom_walk(struct reg *r, const char *root, gm_err want)
{
	struct gm_resolve_result res;
	struct gm_diag d;
	unsigned long n;
	gm_err e;

	gm_resolve_result_init(&res);
	for (n = 1; n < 100000; n++) {
		gm_alloc_fail_after(n);
		e = solve(r, root, &res, &d);
		gm_alloc_fail_after(0);
		if (e == want)
			break;
		ASSERT_ERR(e, GM_ENOMEM);
		ASSERT_EQ(res.n, 0);
		ASSERT(res.explanation == NULL);
	}
	ASSERT(n > 5);
	ASSERT_ERR(e, want);
	gm_resolve_result_release(&res);
}

TEST(oom_walk_on_success_and_conflict)
{
	static struct reg r;

	add(&r, "foo", "1.0.0", "a ^1.0.0; b ^1.0.0");
	add(&r, "foo", "1.1.0", "x ^1.0.0; y ^1.0.0");
	add(&r, "a", "1.0.0", "b ^2.0.0");
	add(&r, "b", "1.0.0", "");
	add(&r, "b", "2.0.0", "");
	add(&r, "x", "1.0.0", "y ^2.0.0");
	add(&r, "y", "1.0.0", "");
	add(&r, "y", "2.0.0", "");
	add(&r, "ok", "1.0.0", "b ^1; y 2");
	oom_walk(&r, "foo ^1.0.0", GM_ECONFLICT);
	oom_walk(&r, "ok 1; x 1", GM_OK);
}
