/*
 * toml_test.c - runs the TOML reader over the toml-test suite.
 *
 * Reads $GGEN_SHARED/testdata/toml-test/files-toml-1.0.0 (GGEN_SHARED
 * defaults to <source root>/../shared) and runs one test per case:
 *
 *   listed file          | check
 *   ---------------------+-------------------------------------------------
 *   valid/X.toml         | parses, and the tree equals valid/X.json
 *   valid/X.json         | (the expected half of the valid/X case)
 *   invalid/X.toml       | gm_toml_parse() fails
 *
 * The expected JSON is toml-test's tagged form: every scalar is an object
 * {"type": T, "value": "text"}; arrays are arrays, tables are objects. Values
 * are compared the way toml-test's own checker does: integers and floats by
 * value (nan and inf by kind and sign of inf), date/times after parsing both
 * sides (offset date-times as instants; 't'/' ' separators, 'z', missing
 * seconds and trailing zeros in fractions make no difference).
 *
 * Prints one line per failing case with the reason, then "N passed, N
 * failed"; exits 1 if any case failed. Missing data is a SKIP, not a failure.
 * With -v it also prints the diagnostic given for each invalid case.
 */
#include "internal.h"

#include <jansson.h>
#include <math.h>

#include "gm/buf.h"
#include "gm/fs.h"
#include "gm/toml.h"

#ifndef GM_SOURCE_ROOT
#define GM_SOURCE_ROOT "."
#endif

#define REASON_MAX 600

/*
 * jansson cannot hold a NUL in an object key, so the expected JSON has each
 * \u0000 escape replaced by U+10FFFD (a noncharacter no case uses) before
 * loading, and our strings get the same replacement when compared.
 */
#define NUL_SUBST "\xF4\x8F\xBF\xBD"

static char reason[REASON_MAX];
static bool nul_subst;
static bool verbose; /* -v: also print the diagnostic of invalid cases */

/* Copy of s with NUL bytes replaced as above when nul_subst is on. */
static bool subst_nul(const char *s, size_t n, struct gm_buf *out)
{
	size_t i;

	gm_buf_reset(out);
	for (i = 0; i < n; i++) {
		gm_err e = s[i] || !nul_subst
			       ? gm_buf_append_byte(out, (uint8_t)s[i])
			       : gm_buf_append(out, NUL_SUBST, 4);

		if (e)
			return false;
	}
	if (!out->data && gm_buf_append(out, "", 0))
		return false;
	return true;
}

/* Rewrites \u0000 escapes of JSON text src into out; sets nul_subst. */
static bool subst_json(const struct gm_buf *src, struct gm_buf *out)
{
	size_t i;

	nul_subst = false;
	gm_buf_reset(out);
	for (i = 0; i < src->len; i++) {
		if (src->data[i] == '\\' && i + 5 < src->len &&
		    memcmp(src->data + i + 1, "u0000", 5) == 0) {
			if (gm_buf_append_str(out, "\\uDBFF\\uDFFD"))
				return false;
			nul_subst = true;
			i += 5;
			continue;
		}
		if (gm_buf_append_byte(out, src->data[i]))
			return false;
		if (src->data[i] == '\\' && i + 1 < src->len) {
			if (gm_buf_append_byte(out, src->data[++i]))
				return false;
		}
	}
	return true;
}

static bool fail(const char *path, const char *fmt, ...) GM_PRINTF(2, 3);

static bool fail(const char *path, const char *fmt, ...)
{
	char msg[REASON_MAX - 100];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(reason, sizeof(reason), "at '%s': %s", path[0] ? path : "/",
		 msg);
	return false;
}

/* A date/time split into fields; has_* say which parts were present. */
struct dt {
	bool has_date, has_time, has_off;
	int64_t y, mo, d, h, mi, s;
	int64_t nanos;
	int64_t off_min;
};

static bool dt_digits(const char **s, const char *end, int n, int64_t *out)
{
	int64_t v = 0;
	int i;

	if (end - *s < n)
		return false;
	for (i = 0; i < n; i++) {
		if ((*s)[i] < '0' || (*s)[i] > '9')
			return false;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*out = v;
	return true;
}

/* Parses the date/time forms toml-test writes or accepts. */
static bool dt_parse(const char *s, size_t len, struct dt *t)
{
	const char *end = s + len;
	int64_t oh, om;

	memset(t, 0, sizeof(*t));
	if (len >= 5 && s[4] == '-') {
		if (!dt_digits(&s, end, 4, &t->y) || *s++ != '-' ||
		    !dt_digits(&s, end, 2, &t->mo) || s >= end || *s++ != '-' ||
		    !dt_digits(&s, end, 2, &t->d))
			return false;
		t->has_date = true;
		if (s == end)
			return true;
		if (*s != 'T' && *s != 't' && *s != ' ')
			return false;
		s++;
	}
	if (!dt_digits(&s, end, 2, &t->h) || s >= end || *s++ != ':' ||
	    !dt_digits(&s, end, 2, &t->mi))
		return false;
	t->has_time = true;
	if (s < end && *s == ':') {
		s++;
		if (!dt_digits(&s, end, 2, &t->s))
			return false;
		if (s < end && *s == '.') {
			int64_t scale = 100000000;

			s++;
			if (s >= end || *s < '0' || *s > '9')
				return false;
			for (; s < end && *s >= '0' && *s <= '9'; s++) {
				t->nanos += (*s - '0') * scale;
				scale /= 10;
			}
		}
	}
	if (s == end)
		return true;
	if (!t->has_date)
		return false;
	if (*s == 'Z' || *s == 'z') {
		t->has_off = true;
		return s + 1 == end;
	}
	if (*s != '+' && *s != '-')
		return false;
	{
		int sign = *s == '-' ? -1 : 1;

		s++;
		if (!dt_digits(&s, end, 2, &oh) || s >= end || *s++ != ':' ||
		    !dt_digits(&s, end, 2, &om) || s != end)
			return false;
		t->has_off = true;
		t->off_min = sign * (oh * 60 + om);
	}
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool dt_equal(const struct dt *a, const struct dt *b)
{
	if (a->has_date != b->has_date || a->has_time != b->has_time ||
	    a->has_off != b->has_off)
		return false;
	if (a->has_off) {
		int64_t sa = days_from_civil(a->y, a->mo, a->d) * 86400 +
			     a->h * 3600 + a->mi * 60 + a->s - a->off_min * 60;
		int64_t sb = days_from_civil(b->y, b->mo, b->d) * 86400 +
			     b->h * 3600 + b->mi * 60 + b->s - b->off_min * 60;

		return sa == sb && a->nanos == b->nanos;
	}
	return a->y == b->y && a->mo == b->mo && a->d == b->d && a->h == b->h &&
	       a->mi == b->mi && a->s == b->s && a->nanos == b->nanos;
}

static const char *tag_of(enum gm_toml_type t)
{
	switch (t) {
	case GM_TOML_STRING:
		return "string";
	case GM_TOML_INTEGER:
		return "integer";
	case GM_TOML_FLOAT:
		return "float";
	case GM_TOML_BOOL:
		return "bool";
	case GM_TOML_DATETIME:
		return "datetime";
	case GM_TOML_DATETIME_LOCAL:
		return "datetime-local";
	case GM_TOML_DATE_LOCAL:
		return "date-local";
	case GM_TOML_TIME_LOCAL:
		return "time-local";
	default:
		return "?";
	}
}

static bool cmp_value(const struct gm_toml_value *v, json_t *j,
		      const char *path);

static bool cmp_scalar(const struct gm_toml_value *v, json_t *j,
		       const char *path)
{
	enum gm_toml_type t = gm_toml_type(v);
	json_t *jt, *jv;
	const char *want;
	size_t wlen;

	jt = json_is_object(j) ? json_object_get(j, "type") : NULL;
	jv = json_is_object(j) ? json_object_get(j, "value") : NULL;
	if (!json_is_string(jt) || !json_is_string(jv))
		return fail(path, "got a %s, expected %s", tag_of(t),
			    json_is_array(j) ? "an array" : "a table");
	if (strcmp(json_string_value(jt), tag_of(t)) != 0)
		return fail(path, "got type %s, expected %s", tag_of(t),
			    json_string_value(jt));
	want = json_string_value(jv);
	wlen = json_string_length(jv);

	switch (t) {
	case GM_TOML_STRING: {
		size_t n;
		const char *s = gm_toml_string(v, &n);
		struct gm_buf have;
		bool same;

		gm_buf_init(&have, GM_BUF_UNLIMITED);
		if (!subst_nul(s, n, &have)) {
			gm_buf_release(&have);
			return fail(path, "out of memory");
		}
		same = have.len == wlen && memcmp(have.data, want, wlen) == 0;
		gm_buf_release(&have);
		if (!same)
			return fail(path,
				    "got string \"%.*s\", expected "
				    "\"%s\"",
				    (int)(n > 80 ? 80 : n), s, want);
		return true;
	}
	case GM_TOML_INTEGER: {
		char *end;
		long long w;

		errno = 0;
		w = strtoll(want, &end, 10);
		if (errno || *end)
			return fail(path, "bad expected integer '%s'", want);
		if (w != gm_toml_integer(v))
			return fail(path, "got %" PRId64 ", expected %s",
				    gm_toml_integer(v), want);
		return true;
	}
	case GM_TOML_FLOAT: {
		double f = gm_toml_float(v), w;

		if (strcmp(want, "nan") == 0 || strcmp(want, "+nan") == 0 ||
		    strcmp(want, "-nan") == 0) {
			if (!isnan(f))
				return fail(path, "got %g, expected nan", f);
			return true;
		}
		if (strcmp(want, "inf") == 0 || strcmp(want, "+inf") == 0)
			w = INFINITY;
		else if (strcmp(want, "-inf") == 0)
			w = -INFINITY;
		else
			w = strtod(want, NULL);
		if (f != w)
			return fail(path, "got %.17g, expected %s", f, want);
		return true;
	}
	case GM_TOML_BOOL:
		if (strcmp(want, gm_toml_bool(v) ? "true" : "false") != 0)
			return fail(path, "got %s, expected %s",
				    gm_toml_bool(v) ? "true" : "false", want);
		return true;
	default: {
		const char *have = gm_toml_datetime(v);
		struct dt a, b;

		if (!dt_parse(have, strlen(have), &a))
			return fail(path, "our date/time '%s' is malformed",
				    have);
		if (!dt_parse(want, wlen, &b))
			return fail(path, "bad expected date/time '%s'", want);
		if (!dt_equal(&a, &b))
			return fail(path, "got %s, expected %s", have, want);
		return true;
	}
	}
}

static void sub_path(char *out, size_t n, const char *path, const char *key,
		     size_t klen)
{
	snprintf(out, n, "%s/%.*s", path, (int)(klen > 60 ? 60 : klen), key);
}

static bool cmp_value(const struct gm_toml_value *v, json_t *j,
		      const char *path)
{
	char sub[512];
	size_t i, n;

	switch (gm_toml_type(v)) {
	case GM_TOML_TABLE:
		if (!json_is_object(j))
			return fail(path, "got a table, expected %s",
				    json_is_array(j) ? "an array" : "a scalar");
		n = gm_toml_table_len(v);
		if (n != json_object_size(j))
			return fail(path, "table has %zu keys, expected %zu", n,
				    json_object_size(j));
		for (i = 0; i < n; i++) {
			size_t klen;
			const char *k = gm_toml_table_key(v, i, &klen);
			struct gm_buf key;
			json_t *jj = NULL;

			gm_buf_init(&key, GM_BUF_UNLIMITED);
			if (subst_nul(k, klen, &key))
				jj = json_object_getn(j, (const char *)key.data,
						      key.len);
			gm_buf_release(&key);
			sub_path(sub, sizeof(sub), path, k, klen);
			if (!jj)
				return fail(sub, "unexpected key");
			if (!cmp_value(gm_toml_table_value(v, i), jj, sub))
				return false;
		}
		return true;
	case GM_TOML_ARRAY:
		if (!json_is_array(j))
			return fail(path, "got an array, expected %s",
				    json_is_object(j) ? "a table or scalar"
						      : "something else");
		n = gm_toml_array_len(v);
		if (n != json_array_size(j))
			return fail(path, "array has %zu items, expected %zu",
				    n, json_array_size(j));
		for (i = 0; i < n; i++) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			if (!cmp_value(gm_toml_array_get(v, i),
				       json_array_get(j, i), sub))
				return false;
		}
		return true;
	default:
		return cmp_scalar(v, j, path);
	}
}

static bool read_all(const char *path, struct gm_buf *b)
{
	struct gm_diag d;

	gm_buf_reset(b);
	if (gm_fs_read_file(path, b, &d) != GM_OK) {
		snprintf(reason, sizeof(reason), "cannot read %s: %s", path,
			 d.msg);
		return false;
	}
	return true;
}

/* Runs one case; false with reason set when it fails. */
static bool run_case(const char *dir, const char *rel)
{
	struct gm_buf src, exp, json;
	struct gm_toml_doc *doc = NULL;
	struct gm_diag d;
	char path[4096];
	bool valid = strncmp(rel, "valid/", 6) == 0;
	bool ok = false;
	json_t *j = NULL;
	json_error_t jerr;
	gm_err e;

	gm_buf_init(&src, 64u * 1024 * 1024);
	gm_buf_init(&exp, 64u * 1024 * 1024);
	gm_buf_init(&json, 64u * 1024 * 1024);
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (!read_all(path, &src))
		goto out_release;
	e = gm_toml_parse(&doc, src.data ? (const char *)src.data : "", src.len,
			  &d);
	if (!valid) {
		if (e == GM_OK) {
			snprintf(reason, sizeof(reason),
				 "parsed, but the file is invalid TOML");
			goto out_release;
		}
		if (e != GM_EPARSE && e != GM_ELIMIT) {
			snprintf(reason, sizeof(reason),
				 "failed with %s, expected EPARSE",
				 gm_errname(e));
			goto out_release;
		}
		if (d.line == 0 || d.column == 0 || !d.msg[0]) {
			snprintf(reason, sizeof(reason),
				 "error without position or message");
			goto out_release;
		}
		if (verbose)
			printf("ok %s: %u:%u: %s\n", rel, d.line, d.column,
			       d.msg);
		ok = true;
		goto out_release;
	}
	if (e != GM_OK) {
		snprintf(reason, sizeof(reason), "parse failed at %u:%u: %s",
			 d.line, d.column, d.msg);
		goto out_release;
	}
	snprintf(path, sizeof(path), "%s/%.*s.json", dir,
		 (int)(strlen(rel) - 5), rel);
	if (!read_all(path, &exp))
		goto out_release;
	if (!subst_json(&exp, &json)) {
		snprintf(reason, sizeof(reason), "out of memory");
		goto out_release;
	}
	j = json_loadb(json.data ? (const char *)json.data : "", json.len,
		       JSON_ALLOW_NUL, &jerr);
	if (!j) {
		snprintf(reason, sizeof(reason), "bad expected JSON: %s",
			 jerr.text);
		goto out_release;
	}
	ok = cmp_value(gm_toml_root(doc), j, "");
	json_decref(j);

out_release:
	gm_toml_free(doc);
	gm_buf_release(&src);
	gm_buf_release(&exp);
	gm_buf_release(&json);
	return ok;
}

int main(int argc, char **argv)
{
	const char *shared = getenv("GGEN_SHARED");
	char dir[4096], list[4200];
	struct gm_buf b;
	unsigned long passed = 0, failed = 0;
	size_t i, start;

	verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
	if (shared && shared[0])
		snprintf(dir, sizeof(dir), "%s/testdata/toml-test", shared);
	else
		snprintf(dir, sizeof(dir), "%s/../shared/testdata/toml-test",
			 GM_SOURCE_ROOT);
	snprintf(list, sizeof(list), "%s/files-toml-1.0.0", dir);
	gm_buf_init(&b, 16u * 1024 * 1024);
	if (!read_all(list, &b)) {
		printf("SKIP: toml-test data not found at %s (set "
		       "GGEN_SHARED)\n",
		       dir);
		printf("0 passed, 0 failed\n");
		gm_buf_release(&b);
		return 0;
	}
	for (start = 0, i = 0; i <= b.len; i++) {
		char rel[1024];
		size_t n;

		if (i < b.len && b.data[i] != '\n')
			continue;
		n = i - start;
		if (n && b.data[start + n - 1] == '\r')
			n--;
		if (n == 0 || n >= sizeof(rel)) {
			start = i + 1;
			continue;
		}
		memcpy(rel, b.data + start, n);
		rel[n] = '\0';
		start = i + 1;
		if (n < 5 || strcmp(rel + n - 5, ".toml") != 0)
			continue; /* .json halves belong to their .toml */
		reason[0] = '\0';
		if (run_case(dir, rel)) {
			passed++;
		} else {
			failed++;
			printf("FAIL %s: %s\n", rel, reason);
		}
	}
	gm_buf_release(&b);
	printf("%lu passed, %lu failed\n", passed, failed);
	return failed ? 1 : 0;
}
