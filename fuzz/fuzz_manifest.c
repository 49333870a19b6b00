/*
 * fuzz_manifest.c - libFuzzer target for the ggen.toml reader
 * (gm_manifest_parse, gm/manifest.h).
 *
 * Invariants checked on every input:
 *
 *   outcome  | invariant
 *   ---------+-----------------------------------------------------------
 *   success  | name and namespace pass gm_package_name_valid; the version
 *            | formats and parses back equal; kind is template or
 *            | validator; description is 1..512 bytes; every array entry
 *            | non-NULL and the counts within their limits (keywords
 *            | valid, <= GM_MANIFEST_MAX_KEYWORDS); optional strings
 *            | NULL or non-empty and checked (license, URLs, readme);
 *            | each dependency has a valid ns/name and req_text parsing
 *            | to the same requirement as dep->req; [plugin] present
 *            | exactly for validators, with an entry ending in .wasm,
 *            | known capability bits and limits in range
 *   failure  | GM_EPARSE, GM_EFORMAT, GM_ELIMIT or GM_ENOMEM; a message;
 *            | 1 <= line <= lines of the input + 1, 1 <= column <= bytes
 *            | of that line + 1; the manifest left empty
 *   both     | a second parse of the same input gives the same result;
 *            | a parse with the k-th allocation failing (k from the input)
 *            | succeeds or returns GM_ENOMEM and leaves nothing behind
 */
#include "internal.h"

#include "gm/manifest.h"
#include "gm/semver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_manifest: invariant broken: %s\n", what);
	if (detail)
		fprintf(stderr, "  %s\n", detail);
	abort();
}

static bool is_empty(const struct gm_manifest *m)
{
	static const struct gm_manifest zero;

	return memcmp(m, &zero, sizeof(zero)) == 0;
}

static bool keyword_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 20)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '-' && c != '_')))
			return false;
	}
	return true;
}

static void check_strings(char **arr, size_t n, size_t max, size_t maxlen,
			  const char *what)
{
	size_t i, len;

	if (n > max)
		die("too many entries", what);
	if ((n == 0) != (arr == NULL))
		die("array pointer and count disagree", what);
	for (i = 0; i < n; i++) {
		if (!arr[i])
			die("NULL array entry", what);
		len = strlen(arr[i]);
		if (len == 0 || len > maxlen)
			die("array entry of the wrong length", what);
	}
}

static bool url_ok(const char *s)
{
	return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

/* Not empty, not absolute, no ".." component, no backslash. */
static bool rel_path_ok(const char *s)
{
	const char *p = s;

	if (!s[0] || s[0] == '/' || strchr(s, '\\'))
		return false;
	for (;;) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return false;
		if (!p[n])
			return true;
		p += n + 1;
	}
}

static void check_req_equal(const struct gm_dependency *dep)
{
	static struct gm_semver_req r;
	struct gm_diag d;
	size_t i;

	gm_diag_clear(&d);
	if (gm_semver_req_parse(&r, dep->req_text, strlen(dep->req_text), &d) !=
	    GM_OK)
		die("a dependency's req_text does not parse", dep->req_text);
	if (r.n != dep->req.n || r.pool_len != dep->req.pool_len ||
	    memcmp(r.pool, dep->req.pool, r.pool_len) != 0)
		die("req_text parses to another requirement", dep->req_text);
	for (i = 0; i < r.n; i++) {
		const struct gm_semver_comparator *x = &r.cmp[i];
		const struct gm_semver_comparator *y = &dep->req.cmp[i];

		if (x->op != y->op || x->has_minor != y->has_minor ||
		    x->has_patch != y->has_patch || x->major != y->major ||
		    x->minor != y->minor || x->patch != y->patch ||
		    x->pre_off != y->pre_off || x->pre_len != y->pre_len)
			die("req_text parses to other comparators",
			    dep->req_text);
	}
}

static void check_ok(const struct gm_manifest *m)
{
	char text[GM_SEMVER_MAX_LEN + 1];
	struct gm_semver v;
	struct gm_diag d;
	size_t i, n;

	if (!gm_package_name_valid(m->name, strlen(m->name)))
		die("invalid name accepted", m->name);
	if (!gm_package_name_valid(m->ns, strlen(m->ns)))
		die("invalid namespace accepted", m->ns);
	n = gm_semver_format(&m->version, text, sizeof(text));
	gm_diag_clear(&d);
	if (n >= sizeof(text) || gm_semver_parse(&v, text, n, &d) != GM_OK ||
	    !gm_semver_equal(&v, &m->version))
		die("version does not round trip", text);
	if (m->kind != GM_PACKAGE_TEMPLATE && m->kind != GM_PACKAGE_VALIDATOR)
		die("kind not set", NULL);
	if (!m->description || !m->description[0] ||
	    strlen(m->description) > GM_MANIFEST_DESCRIPTION_MAX)
		die("description missing or out of bounds", NULL);
	if (m->license) {
		gm_diag_clear(&d);
		if (gm_manifest_license_check(m->license, strlen(m->license),
					      &d) != GM_OK)
			die("license does not pass the check", m->license);
	}
	check_strings(m->authors, m->n_authors, GM_MANIFEST_MAX_AUTHORS, 256,
		      "authors");
	check_strings(m->keywords, m->n_keywords, GM_MANIFEST_MAX_KEYWORDS, 20,
		      "keywords");
	for (i = 0; i < m->n_keywords; i++)
		if (!keyword_ok(m->keywords[i]))
			die("invalid keyword accepted", m->keywords[i]);
	check_strings(m->categories, m->n_categories,
		      GM_MANIFEST_MAX_CATEGORIES, 64, "categories");
	if (m->homepage && !url_ok(m->homepage))
		die("homepage is not an http(s) URL", m->homepage);
	if (m->repository && !url_ok(m->repository))
		die("repository is not an http(s) URL", m->repository);
	if (m->readme && !rel_path_ok(m->readme))
		die("readme is not a relative path inside", m->readme);
	if (m->n_deps > GM_MANIFEST_MAX_DEPS ||
	    (m->n_deps == 0) != (m->deps == NULL))
		die("dependency count out of bounds", NULL);
	for (i = 0; i < m->n_deps; i++) {
		const struct gm_dependency *dep = &m->deps[i];

		if (!gm_package_name_valid(dep->ns, strlen(dep->ns)) ||
		    !gm_package_name_valid(dep->name, strlen(dep->name)))
			die("invalid dependency id accepted", dep->name);
		if (!dep->req_text)
			die("dependency without req_text", dep->name);
		check_req_equal(dep);
	}
	if (m->has_plugin != (m->kind == GM_PACKAGE_VALIDATOR))
		die("[plugin] present for the wrong kind", NULL);
	if (m->has_plugin) {
		const struct gm_plugin_manifest *p = &m->plugin;
		size_t el;

		if (!p->entry)
			die("plugin without entry", NULL);
		el = strlen(p->entry);
		if (el <= 5 || strcmp(p->entry + el - 5, ".wasm") != 0 ||
		    !rel_path_ok(p->entry))
			die("plugin entry is not a relative .wasm path",
			    p->entry);
		if (p->capabilities & ~0xFFu)
			die("unknown capability bit", NULL);
		if (p->limits.memory_mb < 1 || p->limits.memory_mb > 4096 ||
		    p->limits.fuel < 1 || p->limits.timeout_ms < 1 ||
		    p->limits.timeout_ms > 600000 ||
		    (p->limits.stack &&
		     (p->limits.stack < 1024 || p->limits.stack > 64 << 20)))
			die("plugin limits out of range", NULL);
	} else if (m->plugin.entry || m->plugin.capabilities ||
		   m->plugin.limits.memory_mb) {
		die("plugin fields set without [plugin]", NULL);
	}
}

static void check_position(const char *s, size_t size, const struct gm_diag *d)
{
	size_t i, line = 1, line_start = 0, line_len;
	char buf[64];

	snprintf(buf, sizeof(buf), "line %u column %u", d->line, d->column);
	if (d->line < 1 || d->column < 1)
		die("error without a 1-based position", buf);
	for (i = 0; i < size && line < d->line; i++)
		if (s[i] == '\n') {
			line++;
			line_start = i + 1;
		}
	if (line < d->line) {
		/* Only "just past the last line" is allowed. */
		if (d->line != line + 1)
			die("error line past the end of the input", buf);
		return;
	}
	line_len = 0;
	for (i = line_start; i < size && s[i] != '\n'; i++)
		line_len++;
	if (d->column > line_len + 1)
		die("error column past the end of its line", buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct gm_manifest m, m2;
	struct gm_diag d, d2;
	gm_err e, e2;
	unsigned long k;

	gm_manifest_init(&m);
	gm_diag_clear(&d);
	e = gm_manifest_parse(&m, s, size, &d);
	if (e == GM_OK) {
		check_ok(&m);
	} else {
		if (e != GM_EPARSE && e != GM_EFORMAT && e != GM_ELIMIT)
			die("unexpected error code", gm_errname(e));
		if (!d.msg[0])
			die("error without a message", gm_errname(e));
		if (!is_empty(&m))
			die("a failed parse left fields set", d.msg);
		if (e != GM_ELIMIT || size <= GM_MANIFEST_MAX_SIZE)
			check_position(s, size, &d);
	}

	/* Deterministic, and the result of parsing into a used value. */
	gm_diag_clear(&d2);
	e2 = gm_manifest_parse(&m, s, size, &d2);
	if (e2 != e || strcmp(d.msg, d2.msg) != 0 || d.line != d2.line ||
	    d.column != d2.column)
		die("a second parse gave another result", d2.msg);
	if (e == GM_OK)
		check_ok(&m);
	gm_manifest_release(&m);
	if (!is_empty(&m))
		die("release left fields set", NULL);

	/* One allocation failure, chosen by the input. */
	k = size ? (unsigned long)data[size - 1] % 64 + 1 : 1;
	gm_manifest_init(&m2);
	gm_alloc_fail_after(k);
	e2 = gm_manifest_parse(&m2, s, size, &d2);
	gm_alloc_fail_after(0);
	if (e2 != e && e2 != GM_ENOMEM)
		die("an allocation failure gave another error", gm_errname(e2));
	if (e2 != GM_OK && !is_empty(&m2))
		die("a failed parse under allocation failure left fields",
		    gm_errname(e2));
	if (e2 == GM_OK)
		check_ok(&m2);
	gm_manifest_release(&m2);
	return 0;
}
