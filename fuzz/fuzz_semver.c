/*
 * fuzz_semver.c - libFuzzer target for SemVer versions and Cargo-style
 * version requirements (gm/semver.h).
 *
 * The whole input is read as a version and as a requirement; then it is
 * split at '\n' into up to three lines, each read as a version and as a
 * requirement, for the checks that need pairs. Invariants:
 *
 *   what              | invariant
 *   ------------------+--------------------------------------------------
 *   any failed parse  | GM_EPARSE or GM_ELIMIT, a non-empty message, *out
 *                     | left untouched
 *   version           | format(parse(x)) == x byte for byte (the grammar is
 *                     | canonical), parses to an equal version; truncated
 *                     | formatting returns the full length, NUL-terminated
 *   requirement       | format(r) parses to a requirement with the same
 *                     | comparators, formats to the same text again, and
 *                     | matches exactly the versions r matches over a set
 *                     | of probes (fixed ones, and ones around each
 *                     | comparator, with and without pre-releases)
 *   version pairs     | cmp antisymmetric, transitive on three, cmp == 0
 *                     | exactly when x.y.z and pre-release are equal;
 *                     | =a, >a, >=a, <a, <=a agree with cmp where the
 *                     | pre-release rule lets them match; ^a, ~a, =a, >=a,
 *                     | <=a match a itself
 *   requirement/line  | matching a version from another line agrees between
 *                     | r and its re-parsed format
 */
#include "internal.h"

#include "gm/semver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQ_TEXT_CAP (GM_SEMVER_REQ_MAX_LEN * 2)

static void die(const char *what, const char *a, const char *b)
{
	fprintf(stderr, "fuzz_semver: invariant broken: %s\n", what);
	if (a)
		fprintf(stderr, "  a: '%s'\n", a);
	if (b)
		fprintf(stderr, "  b: '%s'\n", b);
	abort();
}

static void check_failure(gm_err e, const struct gm_diag *d, const void *out,
			  const void *before, size_t n)
{
	if (e != GM_EPARSE && e != GM_ELIMIT)
		die("a failed parse returned an unexpected error", NULL, NULL);
	if (!d->msg[0])
		die("a failed parse left no message", NULL, NULL);
	if (memcmp(out, before, n) != 0)
		die("a failed parse wrote *out", NULL, NULL);
}

/* Parses s as a version; on failure checks the error contract. */
static bool parse_version(struct gm_semver *v, const char *s, size_t len)
{
	static struct gm_semver before;
	struct gm_diag d;
	gm_err e;

	memset(v, 0xA5, sizeof(*v));
	memcpy(&before, v, sizeof(before));
	gm_diag_clear(&d);
	e = gm_semver_parse(v, s, len, &d);
	if (e == GM_OK)
		return true;
	check_failure(e, &d, v, &before, sizeof(*v));
	return false;
}

static bool parse_req(struct gm_semver_req *r, const char *s, size_t len)
{
	static struct gm_semver_req before;
	struct gm_diag d;
	gm_err e;

	memset(r, 0xA5, sizeof(*r));
	memcpy(&before, r, sizeof(before));
	gm_diag_clear(&d);
	e = gm_semver_req_parse(r, s, len, &d);
	if (e == GM_OK)
		return true;
	check_failure(e, &d, r, &before, sizeof(*r));
	return false;
}

static void check_version(const struct gm_semver *v, const char *s, size_t len)
{
	char text[GM_SEMVER_MAX_LEN + 1], small[8];
	struct gm_semver w;
	size_t n, k;

	n = gm_semver_format(v, text, sizeof(text));
	if (n >= sizeof(text))
		die("a parsed version does not fit GM_SEMVER_MAX_LEN + 1", NULL,
		    NULL);
	if (n != len || memcmp(text, s, len) != 0)
		die("format(parse(x)) differs from x", text, NULL);
	if (!parse_version(&w, text, n))
		die("formatted version does not parse", text, NULL);
	if (!gm_semver_equal(v, &w) || gm_semver_cmp(v, &w) != 0)
		die("formatted version parses to a different one", text, NULL);
	/* Truncation: full length returned, output cut and terminated. */
	for (k = 0; k <= sizeof(small); k++) {
		memset(small, 'Z', sizeof(small));
		if (gm_semver_format(v, k ? small : NULL, k) != n)
			die("truncated format returned another length", text,
			    NULL);
		if (k && (strlen(small) != (n < k ? n : k - 1) ||
			  memcmp(small, text, strlen(small)) != 0))
			die("truncated format wrote the wrong bytes", text,
			    NULL);
	}
}

static const char *pre_of(const struct gm_semver_req *r,
			  const struct gm_semver_comparator *c, size_t *len)
{
	*len = c->pre_len;
	return r->pool + c->pre_off;
}

/* The same comparators (pre-release texts compared, not pool offsets). */
static bool req_same(const struct gm_semver_req *a,
		     const struct gm_semver_req *b)
{
	size_t i, la, lb;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++) {
		const struct gm_semver_comparator *x = &a->cmp[i],
						  *y = &b->cmp[i];
		const char *px = pre_of(a, x, &la), *py = pre_of(b, y, &lb);

		if (x->op != y->op || x->has_minor != y->has_minor ||
		    x->has_patch != y->has_patch || x->major != y->major ||
		    (x->has_minor && x->minor != y->minor) ||
		    (x->has_patch && x->patch != y->patch) || la != lb ||
		    memcmp(px, py, la) != 0)
			return false;
	}
	return true;
}

static void set_version(struct gm_semver *v, uint64_t ma, uint64_t mi,
			uint64_t pa, const char *pre, size_t pre_len)
{
	memset(v, 0, sizeof(*v));
	v->major = ma;
	v->minor = mi;
	v->patch = pa;
	if (pre_len > GM_SEMVER_MAX_LEN)
		pre_len = GM_SEMVER_MAX_LEN;
	memcpy(v->pre, pre, pre_len);
	v->pre[pre_len] = '\0';
}

static void probe(const struct gm_semver_req *a, const struct gm_semver_req *b,
		  const struct gm_semver *v, const char *text)
{
	char vt[GM_SEMVER_MAX_LEN + 1];

	if (gm_semver_req_matches(a, v) != gm_semver_req_matches(b, v)) {
		gm_semver_format(v, vt, sizeof(vt));
		die("re-parsed requirement matches differently", text, vt);
	}
}

static uint64_t down(uint64_t x)
{
	return x ? x - 1 : 0;
}

static uint64_t up(uint64_t x)
{
	return x < UINT64_MAX ? x + 1 : x;
}

/* Versions around comparator c, each with no, c's and other pre-releases. */
static void probe_around(const struct gm_semver_req *a,
			 const struct gm_semver_req *b,
			 const struct gm_semver_comparator *c, const char *text)
{
	static const char *const pres[] = {"", "0", "alpha", "alpha.1", "zzz"};
	uint64_t ma[3] = {down(c->major), c->major, up(c->major)};
	uint64_t mi[3] = {down(c->minor), c->minor, up(c->minor)};
	uint64_t pa[3] = {down(c->patch), c->patch, up(c->patch)};
	struct gm_semver v;
	size_t i, j, k, p, plen;
	const char *cpre = pre_of(a, c, &plen);

	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++)
			for (k = 0; k < 3; k++) {
				for (p = 0; p < GM_ARRAY_LEN(pres); p++) {
					set_version(&v, ma[i], mi[j], pa[k],
						    pres[p], strlen(pres[p]));
					probe(a, b, &v, text);
				}
				set_version(&v, ma[i], mi[j], pa[k], cpre,
					    plen);
				probe(a, b, &v, text);
			}
	set_version(&v, c->major, 0, 0, "", 0);
	probe(a, b, &v, text);
	set_version(&v, c->major, c->minor, 0, "", 0);
	probe(a, b, &v, text);
}

/* r formats to text that parses back to the same requirement. */
static void check_req(const struct gm_semver_req *r)
{
	static const char *const fixed[] = {
	    "0.0.0",	    "0.0.1",
	    "0.1.0",	    "0.1.1",
	    "1.0.0-alpha",  "1.0.0",
	    "1.2.3-beta.1", "1.2.3",
	    "1.2.4",	    "1.3.0",
	    "2.0.0-rc.1",   "2.0.0",
	    "10.20.30",	    "18446744073709551615.0.0",
	};
	static struct gm_semver_req back;
	static char text[REQ_TEXT_CAP], again[REQ_TEXT_CAP];
	struct gm_semver v;
	size_t n, n2, i;

	n = gm_semver_req_format(r, text, sizeof(text));
	if (n >= sizeof(text))
		die("formatted requirement does not fit REQ_MAX_LEN * 2", NULL,
		    NULL);
	if (!parse_req(&back, text, n))
		die("formatted requirement does not parse", text, NULL);
	if (!req_same(r, &back))
		die("formatted requirement parses to other comparators", text,
		    NULL);
	n2 = gm_semver_req_format(&back, again, sizeof(again));
	if (n2 != n || memcmp(text, again, n) != 0)
		die("format is not stable", text, again);
	for (i = 0; i < GM_ARRAY_LEN(fixed); i++) {
		if (!parse_version(&v, fixed[i], strlen(fixed[i])))
			die("probe version does not parse", fixed[i], NULL);
		probe(r, &back, &v, text);
	}
	for (i = 0; i < r->n; i++)
		probe_around(r, &back, &r->cmp[i], text);
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

/* Whether the pre-release rule lets comparator version a match b. */
static bool pre_rule_allows(const struct gm_semver *a,
			    const struct gm_semver *b)
{
	return !b->pre[0] || (a->pre[0] && a->major == b->major &&
			      a->minor == b->minor && a->patch == b->patch);
}

static bool op_matches(const char *op, const struct gm_semver *a,
		       const struct gm_semver *b)
{
	static char text[GM_SEMVER_MAX_LEN + 8];
	char vt[GM_SEMVER_MAX_LEN + 1];
	struct gm_semver_req r;
	int n;

	gm_semver_format(a, vt, sizeof(vt));
	n = snprintf(text, sizeof(text), "%s%s", op, vt);
	if (n < 0 || !parse_req(&r, text, (size_t)n))
		die("operator and version do not parse", text, NULL);
	check_req(&r);
	return gm_semver_req_matches(&r, b);
}

static void check_ops(const struct gm_semver *a, const struct gm_semver *b)
{
	char at[GM_SEMVER_MAX_LEN + 1], bt[GM_SEMVER_MAX_LEN + 1];
	int c = sign(gm_semver_cmp(b, a));
	bool allow = pre_rule_allows(a, b);

	gm_semver_format(a, at, sizeof(at));
	gm_semver_format(b, bt, sizeof(bt));
	if (op_matches("=", a, b) != (allow && c == 0))
		die("=a disagrees with cmp", at, bt);
	if (op_matches(">", a, b) != (allow && c > 0))
		die(">a disagrees with cmp", at, bt);
	if (op_matches(">=", a, b) != (allow && c >= 0))
		die(">=a disagrees with cmp", at, bt);
	if (op_matches("<", a, b) != (allow && c < 0))
		die("<a disagrees with cmp", at, bt);
	if (op_matches("<=", a, b) != (allow && c <= 0))
		die("<=a disagrees with cmp", at, bt);
}

static void check_self(const struct gm_semver *a)
{
	static const char *const ops[] = {"", "^", "~", "=", ">=", "<="};
	char at[GM_SEMVER_MAX_LEN + 1];
	size_t i;

	gm_semver_format(a, at, sizeof(at));
	for (i = 0; i < GM_ARRAY_LEN(ops); i++)
		if (!op_matches(ops[i], a, a))
			die("a requirement does not match its own version",
			    ops[i], at);
}

static void check_pair(const struct gm_semver *a, const struct gm_semver *b)
{
	char at[GM_SEMVER_MAX_LEN + 1], bt[GM_SEMVER_MAX_LEN + 1];
	int ab = sign(gm_semver_cmp(a, b)), ba = sign(gm_semver_cmp(b, a));
	bool same = a->major == b->major && a->minor == b->minor &&
		    a->patch == b->patch && strcmp(a->pre, b->pre) == 0;

	gm_semver_format(a, at, sizeof(at));
	gm_semver_format(b, bt, sizeof(bt));
	if (ab != -ba)
		die("cmp is not antisymmetric", at, bt);
	if ((ab == 0) != same)
		die("cmp == 0 but x.y.z or pre-release differ", at, bt);
	if (gm_semver_equal(a, b) != (same && !strcmp(a->build, b->build)))
		die("equal disagrees with the fields", at, bt);
	check_ops(a, b);
}

static void check_three(const struct gm_semver *a, const struct gm_semver *b,
			const struct gm_semver *c)
{
	int ab = sign(gm_semver_cmp(a, b)), bc = sign(gm_semver_cmp(b, c));
	int ac = sign(gm_semver_cmp(a, c));

	if (ab <= 0 && bc <= 0 && ac > 0)
		die("cmp is not transitive", NULL, NULL);
	if (ab >= 0 && bc >= 0 && ac < 0)
		die("cmp is not transitive", NULL, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gm_semver_req r, back;
	static char text[REQ_TEXT_CAP];
	const char *s = (const char *)data;
	struct gm_semver v[3];
	bool have_v[3] = {false, false, false}, have_r[3] = {false};
	size_t start[3], len[3], nlines = 0, off = 0, i, j, n;

	if (parse_version(&v[0], s, size)) {
		check_version(&v[0], s, size);
		check_self(&v[0]);
	}
	if (parse_req(&r, s, size))
		check_req(&r);

	/* Up to three lines for the pair checks. */
	while (nlines < 3 && off <= size) {
		const char *nl =
		    off < size ? memchr(s + off, '\n', size - off) : NULL;
		size_t end = nl ? (size_t)(nl - s) : size;

		start[nlines] = off;
		len[nlines] = end - off;
		nlines++;
		if (!nl)
			break;
		off = end + 1;
	}
	if (nlines < 2)
		return 0;
	for (i = 0; i < nlines; i++) {
		have_v[i] = parse_version(&v[i], s + start[i], len[i]);
		if (have_v[i])
			check_version(&v[i], s + start[i], len[i]);
	}
	for (i = 0; i < nlines; i++)
		for (j = 0; j < nlines; j++)
			if (i != j && have_v[i] && have_v[j])
				check_pair(&v[i], &v[j]);
	if (nlines == 3 && have_v[0] && have_v[1] && have_v[2]) {
		check_three(&v[0], &v[1], &v[2]);
		check_three(&v[0], &v[2], &v[1]);
		check_three(&v[1], &v[0], &v[2]);
	}
	/* A requirement on one line against the versions on the others. */
	for (i = 0; i < nlines; i++) {
		have_r[i] = parse_req(&r, s + start[i], len[i]);
		if (!have_r[i])
			continue;
		check_req(&r);
		n = gm_semver_req_format(&r, text, sizeof(text));
		if (!parse_req(&back, text, n))
			die("formatted requirement does not parse", text, NULL);
		for (j = 0; j < nlines; j++)
			if (have_v[j])
				probe(&r, &back, &v[j], text);
	}
	return 0;
}
