/*
 * manifest.c - ggen.toml: read with the TOML reader, checked against the
 * schema in gm/manifest.h, copied into a struct gm_manifest.
 *
 * The check walks each table's entries in the order they were written, so
 * the first problem in the document is the one reported. Every message
 * starts with what was wrong, then names the key, its table and the
 * line:column of the key or value (also stored in d->line / d->column):
 *
 *   problem       | message
 *   --------------+--------------------------------------------------------
 *   unknown key   | unknown key 'k' in [t] at L:C; did you mean 'key'?
 *   wrong type    | wrong type for 'k' in [t] at L:C: expected a string,
 *                 | found integer
 *   missing key   | missing required key 'k' in [t] (position of the table)
 *   bad value     | invalid <what> 'value' for 'k' in [t] at L:C: <rule>
 *
 * SPDX license expressions are checked by a small recursive-descent parser
 * (OR binds loosest, then AND, then WITH) bounded to GM_SPDX_MAX_DEPTH
 * nested parentheses.
 */
#include "internal.h"

#include "gm/buf.h"
#include "gm/fs.h"
#include "gm/manifest.h"
#include "gm/text.h"
#include "gm/toml.h"

#define GM_SPDX_MAX_DEPTH 32
#define URL_MAX 2048
#define PATH_MAX_LEN 1024
#define AUTHOR_MAX 256
#define CATEGORY_MAX 64
#define KEYWORD_MAX 20
#define LICENSE_MAX 1024

/* ---- names and ids ---- */

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool gm_package_name_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > GM_PACKAGE_NAME_MAX || !is_lower_alnum(s[0]))
		return false;
	for (i = 1; i < len; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

/* Printable copy of text for messages: control bytes become '?'. */
static void show(char *buf, size_t cap, const char *s, size_t len)
{
	size_t i, n = len < cap - 4 ? len : cap - 4;

	/* Do not cut a UTF-8 sequence in two. */
	if (n < len)
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (n < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
}

static const char name_rule[] =
    "use 1 to 64 lowercase letters, digits, '-' or '_', starting with a "
    "letter or a digit";

gm_err gm_package_id_parse(const char *s, size_t len,
			   char ns[GM_PACKAGE_NAME_MAX + 1],
			   char name[GM_PACKAGE_NAME_MAX + 1],
			   struct gm_diag *d)
{
	const char *slash = len ? memchr(s, '/', len) : NULL;
	size_t nslen, namelen;
	char text[96];

	show(text, sizeof(text), s, len);
	if (!slash)
		return gm_diag_set(d, GM_EINVAL,
				   "invalid package id '%s': expected "
				   "namespace/name",
				   text);
	nslen = (size_t)(slash - s);
	namelen = len - nslen - 1;
	if (!gm_package_name_valid(s, nslen))
		return gm_diag_set(d, GM_EINVAL,
				   "invalid namespace in package id '%s': %s",
				   text, name_rule);
	if (!gm_package_name_valid(slash + 1, namelen))
		return gm_diag_set(d, GM_EINVAL,
				   "invalid name in package id '%s': %s", text,
				   name_rule);
	memcpy(ns, s, nslen);
	ns[nslen] = '\0';
	memcpy(name, slash + 1, namelen);
	name[namelen] = '\0';
	return GM_OK;
}

const char *gm_package_kind_name(enum gm_package_kind k)
{
	switch (k) {
	case GM_PACKAGE_TEMPLATE:
		return "template";
	case GM_PACKAGE_VALIDATOR:
		return "validator";
	case GM_PACKAGE_NONE:
		break;
	}
	return "none";
}

static const char *const cap_names[] = {
    "fs-read", "fs-write", "env", "clock", "random", "args", "stdout", "stderr",
};

const char *gm_capability_name(uint32_t cap)
{
	size_t i;

	for (i = 0; i < GM_ARRAY_LEN(cap_names); i++)
		if (cap == 1u << i)
			return cap_names[i];
	return NULL;
}

/* ---- SPDX license expressions ---- */

struct spdx {
	const char *s;
	size_t len;
	size_t off;	/* start of the current token */
	size_t tok_len; /* 0 at the end */
	struct gm_diag *d;
};

static bool spdx_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' ||
	       c == ':';
}

static gm_err spdx_fail(struct spdx *p, const char *what)
{
	char text[96], tok[48];

	show(text, sizeof(text), p->s, p->len);
	if (p->tok_len == 0)
		return gm_diag_set(p->d, GM_EFORMAT,
				   "invalid license expression '%s': %s at "
				   "character %zu (the end)",
				   text, what, p->len + 1);
	show(tok, sizeof(tok), p->s + p->off, p->tok_len);
	return gm_diag_set(p->d, GM_EFORMAT,
			   "invalid license expression '%s': %s at character "
			   "%zu ('%s')",
			   text, what, p->off + 1, tok);
}

/* Moves to the next token: '(', ')' or a word; tok_len 0 at the end. */
static gm_err spdx_next(struct spdx *p)
{
	size_t i = p->off + p->tok_len;

	while (i < p->len && (p->s[i] == ' ' || p->s[i] == '\t'))
		i++;
	p->off = i;
	p->tok_len = 0;
	if (i == p->len)
		return GM_OK;
	if (p->s[i] == '(' || p->s[i] == ')') {
		p->tok_len = 1;
		return GM_OK;
	}
	while (i < p->len && spdx_word_char(p->s[i]))
		i++;
	p->tok_len = i - p->off;
	if (p->tok_len == 0) {
		p->tok_len = 1;
		return spdx_fail(p, "unexpected character");
	}
	return GM_OK;
}

static bool spdx_is(const struct spdx *p, const char *word)
{
	return p->tok_len == strlen(word) &&
	       memcmp(p->s + p->off, word, p->tok_len) == 0;
}

static bool spdx_is_nocase(const struct spdx *p, const char *word)
{
	return p->tok_len == strlen(word) &&
	       strncasecmp(p->s + p->off, word, p->tok_len) == 0;
}

/* idstring = 1*(ALPHA / DIGIT / "-" / "."), within [s, s + n). */
static bool spdx_idstring(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] == '+' || s[i] == ':')
			return false;
	return true;
}

static bool spdx_license_ref(const char *s, size_t n)
{
	static const char lr[] = "LicenseRef-", dr[] = "DocumentRef-";
	const char *colon;

	if (n > sizeof(lr) - 1 && memcmp(s, lr, sizeof(lr) - 1) == 0)
		return spdx_idstring(s + sizeof(lr) - 1, n - (sizeof(lr) - 1));
	if (n > sizeof(dr) - 1 && memcmp(s, dr, sizeof(dr) - 1) == 0) {
		colon = memchr(s, ':', n);
		if (!colon ||
		    !spdx_idstring(s + sizeof(dr) - 1,
				   (size_t)(colon - s) - (sizeof(dr) - 1)))
			return false;
		return spdx_license_ref(colon + 1, n - (size_t)(colon - s) - 1);
	}
	return false;
}

static gm_err spdx_license(struct spdx *p)
{
	const char *w = p->s + p->off;
	size_t n = p->tok_len;

	if (n == 0 || spdx_is(p, ")") || spdx_is(p, "AND") ||
	    spdx_is(p, "OR") || spdx_is(p, "WITH"))
		return spdx_fail(p, "expected a license id");
	if (spdx_is_nocase(p, "and") || spdx_is_nocase(p, "or") ||
	    spdx_is_nocase(p, "with"))
		return spdx_fail(p, "operators AND, OR and WITH must be "
				    "upper case");
	if (spdx_license_ref(w, n))
		return spdx_next(p);
	if ((n >= 11 && memcmp(w, "LicenseRef-", 11) == 0) ||
	    (n >= 12 && memcmp(w, "DocumentRef-", 12) == 0))
		return spdx_fail(p, "invalid license reference (use "
				    "LicenseRef-<id> or "
				    "DocumentRef-<id>:LicenseRef-<id>)");
	if (w[n - 1] == '+')
		n--;
	if (!spdx_idstring(w, n))
		return spdx_fail(p, "invalid license id (use letters, "
				    "digits, '-' and '.', with an optional "
				    "'+' at the end)");
	return spdx_next(p);
}

static gm_err spdx_or(struct spdx *p, unsigned depth);

static gm_err spdx_with(struct spdx *p, unsigned depth)
{
	gm_err e;

	if (spdx_is(p, "(")) {
		if (depth >= GM_SPDX_MAX_DEPTH)
			return spdx_fail(p, "parentheses nested too deep");
		e = spdx_next(p);
		if (!e)
			e = spdx_or(p, depth + 1);
		if (e)
			return e;
		if (!spdx_is(p, ")"))
			return spdx_fail(p, "expected ')'");
		return spdx_next(p);
	}
	e = spdx_license(p);
	if (e || !spdx_is(p, "WITH"))
		return e;
	e = spdx_next(p);
	if (e)
		return e;
	if (p->tok_len == 0 || spdx_is(p, "(") || spdx_is(p, ")") ||
	    spdx_is(p, "AND") || spdx_is(p, "OR") || spdx_is(p, "WITH") ||
	    !spdx_idstring(p->s + p->off, p->tok_len))
		return spdx_fail(p, "expected an exception id after WITH");
	return spdx_next(p);
}

static gm_err spdx_and(struct spdx *p, unsigned depth)
{
	gm_err e = spdx_with(p, depth);

	while (!e && spdx_is(p, "AND")) {
		e = spdx_next(p);
		if (!e)
			e = spdx_with(p, depth);
	}
	return e;
}

static gm_err spdx_or(struct spdx *p, unsigned depth)
{
	gm_err e = spdx_and(p, depth);

	while (!e && spdx_is(p, "OR")) {
		e = spdx_next(p);
		if (!e)
			e = spdx_and(p, depth);
	}
	return e;
}

gm_err gm_manifest_license_check(const char *s, size_t len, struct gm_diag *d)
{
	struct spdx p = {s, len, 0, 0, d};
	gm_err e;

	if (len > LICENSE_MAX)
		return gm_diag_set(d, GM_EFORMAT,
				   "license expression is longer than %d "
				   "bytes",
				   LICENSE_MAX);
	e = spdx_next(&p);
	if (e)
		return e;
	if (p.tok_len == 0)
		return gm_diag_set(d, GM_EFORMAT,
				   "empty license expression: write an SPDX "
				   "expression such as 'MIT OR Apache-2.0'");
	e = spdx_or(&p, 0);
	if (e)
		return e;
	if (p.tok_len != 0) {
		if (spdx_is(&p, ")"))
			return spdx_fail(&p, "unmatched ')'");
		if (spdx_is_nocase(&p, "and") || spdx_is_nocase(&p, "or") ||
		    spdx_is_nocase(&p, "with"))
			return spdx_fail(&p, "operators AND, OR and WITH "
					     "must be upper case");
		return spdx_fail(&p, "expected AND, OR or WITH");
	}
	return GM_OK;
}

/* ---- the schema check ---- */

struct check {
	struct gm_manifest *m;
	struct gm_diag *d;
};

static void pos_of(const struct gm_toml_value *v, uint32_t *line, uint32_t *col)
{
	*line = 0;
	*col = 0;
	gm_toml_pos(v, line, col);
}

/* Index of key (len bytes) in known, or -1. */
static int key_index(const char *key, size_t len, const char *const *known,
		     size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(known[i]) == len && memcmp(known[i], key, len) == 0)
			return (int)i;
	return -1;
}

static gm_err unknown_key(struct check *c, const struct gm_toml_value *t,
			  size_t i, const char *table, const char *const *known,
			  size_t n)
{
	const char *key, *near;
	char text[96], list[256];
	uint32_t line = 0, col = 0;
	size_t len, k, off = 0;

	key = gm_toml_table_key(t, i, &len);
	gm_toml_table_key_pos(t, i, &line, &col);
	show(text, sizeof(text), key, len);
	near = gm_text_closest(key, len, known, n, 0);
	if (near)
		return gm_diag_set_at(c->d, GM_EFORMAT, line, col,
				      "unknown key '%s' in %s at %u:%u; did "
				      "you mean '%s'?",
				      text, table, line, col, near);
	list[0] = '\0';
	for (k = 0; k < n && off < sizeof(list); k++) {
		int r = snprintf(list + off, sizeof(list) - off, "%s%s",
				 k ? ", " : "", known[k]);

		if (r > 0)
			off += (size_t)r;
	}
	return gm_diag_set_at(c->d, GM_EFORMAT, line, col,
			      "unknown key '%s' in %s at %u:%u; the known "
			      "keys are %s",
			      text, table, line, col, list);
}

static gm_err wrong_type(struct check *c, const struct gm_toml_value *v,
			 const char *key, const char *table,
			 const char *expected)
{
	uint32_t line, col;

	pos_of(v, &line, &col);
	return gm_diag_set_at(c->d, GM_EFORMAT, line, col,
			      "wrong type for '%s' in %s at %u:%u: expected "
			      "%s, found %s",
			      key, table, line, col, expected,
			      gm_toml_type_name(gm_toml_type(v)));
}

static gm_err missing(struct check *c, const struct gm_toml_value *t,
		      const char *key, const char *table)
{
	uint32_t line, col;

	pos_of(t, &line, &col);
	return gm_diag_set_at(c->d, GM_EFORMAT, line, col,
			      "missing required key '%s' in %s", key, table);
}

/* "invalid <what> '<value>' for '<key>' in <table> at L:C: <rule>" */
static gm_err bad_value(struct check *c, const struct gm_toml_value *v,
			const char *what, const char *key, const char *table,
			const char *rule)
{
	uint32_t line, col;
	char text[96];
	const char *s;
	size_t len;

	pos_of(v, &line, &col);
	if (gm_toml_type(v) == GM_TOML_STRING) {
		s = gm_toml_string(v, &len);
		show(text, sizeof(text), s, len);
	} else if (gm_toml_type(v) == GM_TOML_INTEGER) {
		snprintf(text, sizeof(text), "%" PRId64, gm_toml_integer(v));
	} else {
		snprintf(text, sizeof(text), "%s",
			 gm_toml_type_name(gm_toml_type(v)));
	}
	return gm_diag_set_at(c->d, GM_EFORMAT, line, col,
			      "invalid %s '%s' for '%s' in %s at %u:%u: %s",
			      what, text, key, table, line, col, rule);
}

/* A string value without NUL bytes; *s and *len receive it. */
static gm_err get_string(struct check *c, const struct gm_toml_value *v,
			 const char *key, const char *table, const char **s,
			 size_t *len)
{
	if (gm_toml_type(v) != GM_TOML_STRING)
		return wrong_type(c, v, key, table, "a string");
	*s = gm_toml_string(v, len);
	if (memchr(*s, '\0', *len))
		return bad_value(c, v, "string", key, table,
				 "it contains a NUL character");
	return GM_OK;
}

static gm_err dup_string(const char *s, size_t len, char **out)
{
	char *p = gm_strndup(s, len);

	if (!p)
		return GM_ENOMEM;
	gm_free(*out);
	*out = p;
	return GM_OK;
}

static bool no_controls(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static bool url_valid(const char *s, size_t len)
{
	size_t i, host;

	if (len > URL_MAX)
		return false;
	if (len > 7 && memcmp(s, "http://", 7) == 0)
		host = 7;
	else if (len > 8 && memcmp(s, "https://", 8) == 0)
		host = 8;
	else
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return false;
	return s[host] != '/' && s[host] != '?' && s[host] != '#';
}

/* A relative path inside the package: no "..", not absolute. */
static bool rel_path_valid(const char *s, size_t len)
{
	size_t i = 0, start;

	if (len == 0 || len > PATH_MAX_LEN || s[0] == '/' ||
	    !no_controls(s, len) || memchr(s, '\\', len) ||
	    (len >= 2 && s[1] == ':'))
		return false;
	while (i < len) {
		start = i;
		while (i < len && s[i] != '/')
			i++;
		if (i - start == 2 && s[start] == '.' && s[start + 1] == '.')
			return false;
		i++;
	}
	return true;
}

static bool keyword_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > KEYWORD_MAX || !is_lower_alnum(s[0]))
		return false;
	for (i = 1; i < len; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

/*
 * An array of strings for key: at most max entries, each checked by ok (or
 * 1..maxlen bytes without control characters when ok is NULL).
 */
static gm_err get_string_array(struct check *c, const struct gm_toml_value *v,
			       const char *key, size_t max, size_t maxlen,
			       bool (*ok)(const char *, size_t),
			       const char *rule, char ***out, size_t *n_out)
{
	const char *table = "[package]";
	size_t n, i, len;
	const char *s;
	char **arr;
	gm_err e;

	if (gm_toml_type(v) != GM_TOML_ARRAY)
		return wrong_type(c, v, key, table, "an array of strings");
	n = gm_toml_array_len(v);
	if (n > max) {
		uint32_t line, col;

		pos_of(v, &line, &col);
		return gm_diag_set_at(c->d, GM_EFORMAT, line, col,
				      "too many %s in %s at %u:%u: at most "
				      "%zu are allowed, found %zu",
				      key, table, line, col, max, n);
	}
	for (i = 0; i < n; i++) {
		const struct gm_toml_value *el = gm_toml_array_get(v, i);

		if (gm_toml_type(el) != GM_TOML_STRING)
			return wrong_type(c, el, key, table,
					  "an array of strings");
		e = get_string(c, el, key, table, &s, &len);
		if (e)
			return e;
		if (ok ? !ok(s, len)
		       : len == 0 || len > maxlen || !no_controls(s, len))
			return bad_value(c, el, "entry", key, table, rule);
	}
	if (n == 0)
		return GM_OK;
	arr = gm_calloc(n, sizeof(*arr));
	if (!arr)
		return GM_ENOMEM;
	*out = arr;
	for (i = 0; i < n; i++) {
		s = gm_toml_string(gm_toml_array_get(v, i), &len);
		e = dup_string(s, len, &arr[i]);
		if (e)
			return e; /* the caller's release frees arr */
		*n_out = i + 1;
	}
	return GM_OK;
}

enum {
	PK_NAME,
	PK_NAMESPACE,
	PK_VERSION,
	PK_KIND,
	PK_DESCRIPTION,
	PK_LICENSE,
	PK_AUTHORS,
	PK_KEYWORDS,
	PK_CATEGORIES,
	PK_HOMEPAGE,
	PK_REPOSITORY,
	PK_README,
};

static const char *const package_keys[] = {
    [PK_NAME] = "name",
    [PK_NAMESPACE] = "namespace",
    [PK_VERSION] = "version",
    [PK_KIND] = "kind",
    [PK_DESCRIPTION] = "description",
    [PK_LICENSE] = "license",
    [PK_AUTHORS] = "authors",
    [PK_KEYWORDS] = "keywords",
    [PK_CATEGORIES] = "categories",
    [PK_HOMEPAGE] = "homepage",
    [PK_REPOSITORY] = "repository",
    [PK_README] = "readme",
};

static gm_err check_package_key(struct check *c, int k,
				const struct gm_toml_value *v)
{
	static const char table[] = "[package]";
	struct gm_manifest *m = c->m;
	const char *key = package_keys[k], *s;
	struct gm_diag sub;
	size_t len;
	gm_err e;

	switch (k) {
	case PK_AUTHORS:
		return get_string_array(c, v, key, GM_MANIFEST_MAX_AUTHORS,
					AUTHOR_MAX, NULL,
					"each author is 1 to 256 bytes without "
					"control characters",
					&m->authors, &m->n_authors);
	case PK_KEYWORDS:
		return get_string_array(c, v, key, GM_MANIFEST_MAX_KEYWORDS, 0,
					keyword_valid,
					"a keyword is 1 to 20 lowercase "
					"letters, digits, '-' or '_', starting "
					"with a letter or a digit",
					&m->keywords, &m->n_keywords);
	case PK_CATEGORIES:
		return get_string_array(c, v, key, GM_MANIFEST_MAX_CATEGORIES,
					CATEGORY_MAX, NULL,
					"a category is 1 to 64 bytes without "
					"control characters",
					&m->categories, &m->n_categories);
	default:
		break;
	}
	e = get_string(c, v, key, table, &s, &len);
	if (e)
		return e;
	switch (k) {
	case PK_NAME:
	case PK_NAMESPACE:
		if (!gm_package_name_valid(s, len))
			return bad_value(c, v,
					 k == PK_NAME ? "name" : "namespace",
					 key, table, name_rule);
		memcpy(k == PK_NAME ? m->name : m->ns, s, len);
		(k == PK_NAME ? m->name : m->ns)[len] = '\0';
		return GM_OK;
	case PK_VERSION:
		gm_diag_clear(&sub);
		if (gm_semver_parse(&m->version, s, len, &sub) != GM_OK)
			return bad_value(c, v, "version", key, table, sub.msg);
		return GM_OK;
	case PK_KIND:
		if (len == 8 && memcmp(s, "template", 8) == 0)
			m->kind = GM_PACKAGE_TEMPLATE;
		else if (len == 9 && memcmp(s, "validator", 9) == 0)
			m->kind = GM_PACKAGE_VALIDATOR;
		else
			return bad_value(c, v, "kind", key, table,
					 "expected \"template\" or "
					 "\"validator\"");
		return GM_OK;
	case PK_DESCRIPTION:
		if (len == 0 || len > GM_MANIFEST_DESCRIPTION_MAX)
			return bad_value(c, v, "description", key, table,
					 "a description is 1 to 512 bytes");
		return dup_string(s, len, &m->description);
	case PK_LICENSE:
		gm_diag_clear(&sub);
		if (gm_manifest_license_check(s, len, &sub) != GM_OK)
			return bad_value(c, v, "license", key, table, sub.msg);
		return dup_string(s, len, &m->license);
	case PK_HOMEPAGE:
	case PK_REPOSITORY:
		if (!url_valid(s, len))
			return bad_value(c, v, "URL", key, table,
					 "expected an http:// or https:// URL "
					 "with a host and no spaces");
		return dup_string(
		    s, len, k == PK_HOMEPAGE ? &m->homepage : &m->repository);
	case PK_README:
		if (!rel_path_valid(s, len))
			return bad_value(c, v, "path", key, table,
					 "expected a relative path inside the "
					 "package (not absolute, no '..')");
		return dup_string(s, len, &m->readme);
	}
	return GM_OK;
}

static gm_err check_package(struct check *c, const struct gm_toml_value *t)
{
	static const char table[] = "[package]";
	static const int required[] = {PK_NAME, PK_NAMESPACE, PK_VERSION,
				       PK_KIND, PK_DESCRIPTION};
	size_t i, n = gm_toml_table_len(t);
	gm_err e;

	for (i = 0; i < n; i++) {
		size_t len;
		const char *key = gm_toml_table_key(t, i, &len);
		int k = key_index(key, len, package_keys,
				  GM_ARRAY_LEN(package_keys));

		if (k < 0)
			return unknown_key(c, t, i, table, package_keys,
					   GM_ARRAY_LEN(package_keys));
		e = check_package_key(c, k, gm_toml_table_value(t, i));
		if (e)
			return e;
	}
	for (i = 0; i < GM_ARRAY_LEN(required); i++)
		if (!gm_toml_table_get(t, package_keys[required[i]]))
			return missing(c, t, package_keys[required[i]], table);
	return GM_OK;
}

static gm_err check_dependency(struct check *c, const struct gm_toml_value *t,
			       size_t i, struct gm_dependency *dep)
{
	static const char *const dep_keys[] = {"version"};
	static const char table[] = "[dependencies]";
	const struct gm_toml_value *v = gm_toml_table_value(t, i), *rv = v;
	uint32_t line = 0, col = 0;
	struct gm_diag sub;
	const char *key, *s;
	char id[96], where[160];
	size_t klen, len, j;
	gm_err e;

	key = gm_toml_table_key(t, i, &klen);
	show(id, sizeof(id), key, klen);
	gm_diag_clear(&sub);
	if (gm_package_id_parse(key, klen, dep->ns, dep->name, &sub)) {
		gm_toml_table_key_pos(t, i, &line, &col);
		return gm_diag_set_at(c->d, GM_EFORMAT, line, col,
				      "invalid dependency key '%s' in %s at "
				      "%u:%u: %s",
				      id, table, line, col, sub.msg);
	}
	if (gm_toml_type(v) == GM_TOML_TABLE) {
		snprintf(where, sizeof(where), "[dependencies.\"%s\"]", id);
		for (j = 0; j < gm_toml_table_len(v); j++) {
			const char *k = gm_toml_table_key(v, j, &len);

			if (key_index(k, len, dep_keys, 1) < 0)
				return unknown_key(c, v, j, where, dep_keys, 1);
		}
		rv = gm_toml_table_get(v, "version");
		if (!rv)
			return missing(c, v, "version", where);
		e = get_string(c, rv, "version", where, &s, &len);
	} else if (gm_toml_type(v) == GM_TOML_STRING) {
		e = get_string(c, v, id, table, &s, &len);
	} else {
		return wrong_type(c, v, id, table,
				  "a requirement string or a table with "
				  "'version'");
	}
	if (e)
		return e;
	gm_diag_clear(&sub);
	if (gm_semver_req_parse(&dep->req, s, len, &sub) != GM_OK)
		return bad_value(c, rv, "version requirement", id, table,
				 sub.msg);
	return dup_string(s, len, &dep->req_text);
}

static gm_err check_dependencies(struct check *c, const struct gm_toml_value *t)
{
	struct gm_manifest *m = c->m;
	size_t i, n = gm_toml_table_len(t);
	gm_err e;

	if (n > GM_MANIFEST_MAX_DEPS) {
		uint32_t line, col;

		pos_of(t, &line, &col);
		return gm_diag_set_at(c->d, GM_ELIMIT, line, col,
				      "too many dependencies in "
				      "[dependencies] at %u:%u: at most %d "
				      "are allowed, found %zu",
				      line, col, GM_MANIFEST_MAX_DEPS, n);
	}
	if (n == 0)
		return GM_OK;
	m->deps = gm_calloc(n, sizeof(*m->deps));
	if (!m->deps)
		return GM_ENOMEM;
	for (i = 0; i < n; i++) {
		m->n_deps = i + 1;
		e = check_dependency(c, t, i, &m->deps[i]);
		if (e)
			return e;
	}
	return GM_OK;
}

/* An integer in [lo, hi] for key of table. */
static gm_err get_int(struct check *c, const struct gm_toml_value *v,
		      const char *key, const char *table, int64_t lo,
		      int64_t hi, const char *rule, int64_t *out)
{
	if (gm_toml_type(v) != GM_TOML_INTEGER)
		return wrong_type(c, v, key, table, "an integer");
	*out = gm_toml_integer(v);
	if (*out < lo || *out > hi)
		return bad_value(c, v, "value", key, table, rule);
	return GM_OK;
}

static gm_err check_limits(struct check *c, const struct gm_toml_value *t)
{
	static const char table[] = "[plugin.limits]";
	static const char *const keys[] = {"memory_mb", "fuel", "timeout_ms",
					   "stack"};
	struct gm_plugin_limits *l = &c->m->plugin.limits;
	size_t i, n = gm_toml_table_len(t);
	int64_t x;
	gm_err e;

	for (i = 0; i < n; i++) {
		size_t len;
		const char *key = gm_toml_table_key(t, i, &len);
		const struct gm_toml_value *v = gm_toml_table_value(t, i);

		switch (key_index(key, len, keys, GM_ARRAY_LEN(keys))) {
		case 0:
			e = get_int(c, v, "memory_mb", table, 1, 4096,
				    "expected 1 to 4096 (MiB)", &x);
			l->memory_mb = (uint32_t)x;
			break;
		case 1:
			e = get_int(c, v, "fuel", table, 1, INT64_MAX,
				    "expected a positive integer", &x);
			l->fuel = (uint64_t)x;
			break;
		case 2:
			e = get_int(c, v, "timeout_ms", table, 1, 600000,
				    "expected 1 to 600000 (milliseconds)", &x);
			l->timeout_ms = (uint32_t)x;
			break;
		case 3:
			e = get_int(c, v, "stack", table, 1024, 64 << 20,
				    "expected 1024 to 67108864 (bytes)", &x);
			l->stack = (uint64_t)x;
			break;
		default:
			return unknown_key(c, t, i, table, keys,
					   GM_ARRAY_LEN(keys));
		}
		if (e)
			return e;
	}
	for (i = 0; i < 3; i++)
		if (!gm_toml_table_get(t, keys[i]))
			return missing(c, t, keys[i], table);
	return GM_OK;
}

static gm_err check_capabilities(struct check *c, const struct gm_toml_value *v)
{
	static const char table[] = "[plugin]";
	size_t i, n, len;
	const char *s;
	gm_err e;

	if (gm_toml_type(v) != GM_TOML_ARRAY)
		return wrong_type(c, v, "capabilities", table,
				  "an array of strings");
	n = gm_toml_array_len(v);
	for (i = 0; i < n; i++) {
		const struct gm_toml_value *el = gm_toml_array_get(v, i);
		int k;

		e = get_string(c, el, "capabilities", table, &s, &len);
		if (e)
			return e;
		k = key_index(s, len, cap_names, GM_ARRAY_LEN(cap_names));
		if (k < 0)
			return bad_value(c, el, "capability", "capabilities",
					 table,
					 "expected one of fs-read, fs-write, "
					 "env, clock, random, args, stdout, "
					 "stderr");
		if (c->m->plugin.capabilities & (1u << k))
			return bad_value(c, el, "capability", "capabilities",
					 table, "it is listed twice");
		c->m->plugin.capabilities |= 1u << k;
	}
	return GM_OK;
}

static gm_err check_plugin(struct check *c, const struct gm_toml_value *t)
{
	static const char table[] = "[plugin]";
	static const char *const keys[] = {"entry", "capabilities", "limits"};
	const struct gm_toml_value *v;
	size_t i, n = gm_toml_table_len(t), len;
	const char *s;
	gm_err e;

	for (i = 0; i < n; i++) {
		const char *key = gm_toml_table_key(t, i, &len);

		v = gm_toml_table_value(t, i);
		switch (key_index(key, len, keys, GM_ARRAY_LEN(keys))) {
		case 0:
			e = get_string(c, v, "entry", table, &s, &len);
			if (e)
				return e;
			if (!rel_path_valid(s, len) || len <= 5 ||
			    memcmp(s + len - 5, ".wasm", 5) != 0)
				return bad_value(c, v, "path", "entry", table,
						 "expected a relative path to "
						 "a .wasm file inside the "
						 "package");
			e = dup_string(s, len, &c->m->plugin.entry);
			break;
		case 1:
			e = check_capabilities(c, v);
			break;
		case 2:
			if (gm_toml_type(v) != GM_TOML_TABLE)
				return wrong_type(c, v, "limits", table,
						  "a table");
			e = check_limits(c, v);
			break;
		default:
			return unknown_key(c, t, i, table, keys,
					   GM_ARRAY_LEN(keys));
		}
		if (e)
			return e;
	}
	if (!gm_toml_table_get(t, "entry"))
		return missing(c, t, "entry", table);
	if (!gm_toml_table_get(t, "limits"))
		return missing(c, t, "limits", table);
	return GM_OK;
}

static gm_err check_root(struct check *c, const struct gm_toml_value *root)
{
	static const char table[] = "the top level";
	static const char *const keys[] = {"package", "dependencies", "plugin"};
	const struct gm_toml_value *pkg, *deps, *plugin;
	uint32_t line, col;
	size_t i, n = gm_toml_table_len(root), len;
	gm_err e;

	for (i = 0; i < n; i++) {
		const char *key = gm_toml_table_key(root, i, &len);
		int k = key_index(key, len, keys, GM_ARRAY_LEN(keys));

		if (k < 0)
			return unknown_key(c, root, i, table, keys,
					   GM_ARRAY_LEN(keys));
		if (gm_toml_type(gm_toml_table_value(root, i)) != GM_TOML_TABLE)
			return wrong_type(c, gm_toml_table_value(root, i),
					  keys[k], table, "a table");
	}
	pkg = gm_toml_table_get(root, "package");
	if (!pkg) {
		pos_of(root, &line, &col);
		return gm_diag_set_at(c->d, GM_EFORMAT, line ? line : 1,
				      col ? col : 1,
				      "missing required table [package]");
	}
	e = check_package(c, pkg);
	if (e)
		return e;
	deps = gm_toml_table_get(root, "dependencies");
	if (deps) {
		e = check_dependencies(c, deps);
		if (e)
			return e;
	}
	plugin = gm_toml_table_get(root, "plugin");
	if (plugin && c->m->kind != GM_PACKAGE_VALIDATOR) {
		pos_of(plugin, &line, &col);
		return gm_diag_set_at(c->d, GM_EFORMAT, line, col,
				      "unexpected table [plugin] at %u:%u: "
				      "only packages of kind \"validator\" "
				      "have one",
				      line, col);
	}
	if (!plugin && c->m->kind == GM_PACKAGE_VALIDATOR) {
		pos_of(pkg, &line, &col);
		return gm_diag_set_at(c->d, GM_EFORMAT, line, col,
				      "missing table [plugin]: a package of "
				      "kind \"validator\" needs [plugin] with "
				      "entry and [plugin.limits]");
	}
	if (plugin) {
		c->m->has_plugin = true;
		return check_plugin(c, plugin);
	}
	return GM_OK;
}

/* ---- the value ---- */

void gm_manifest_init(struct gm_manifest *m)
{
	memset(m, 0, sizeof(*m));
}

static void free_strings(char **arr, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		gm_free(arr[i]);
	gm_free(arr);
}

void gm_manifest_release(struct gm_manifest *m)
{
	size_t i;

	gm_free(m->description);
	gm_free(m->license);
	free_strings(m->authors, m->n_authors);
	free_strings(m->keywords, m->n_keywords);
	free_strings(m->categories, m->n_categories);
	gm_free(m->homepage);
	gm_free(m->repository);
	gm_free(m->readme);
	for (i = 0; i < m->n_deps; i++)
		gm_free(m->deps[i].req_text);
	gm_free(m->deps);
	gm_free(m->plugin.entry);
	gm_manifest_init(m);
}

gm_err gm_manifest_parse(struct gm_manifest *m, const char *src, size_t len,
			 struct gm_diag *d)
{
	struct gm_toml_doc *doc = NULL;
	struct check c = {m, d};
	gm_err e;

	gm_manifest_release(m);
	if (len > GM_MANIFEST_MAX_SIZE)
		return gm_diag_set(d, GM_ELIMIT,
				   "manifest is %zu bytes, more than the limit "
				   "of %d",
				   len, GM_MANIFEST_MAX_SIZE);
	e = gm_toml_parse(&doc, src, len, d);
	if (e)
		return e;
	e = check_root(&c, gm_toml_root(doc));
	if (e == GM_ENOMEM)
		gm_diag_set(d, e, "out of memory while reading the manifest");
	if (e)
		gm_manifest_release(m);
	gm_toml_free(doc);
	return e;
}

gm_err gm_manifest_load(struct gm_manifest *m, const char *dir_or_file,
			struct gm_diag *d)
{
	struct gm_buf buf;
	struct stat st;
	char *path = NULL;
	gm_err e;

	gm_manifest_release(m);
	if (stat(dir_or_file, &st) == 0 && S_ISDIR(st.st_mode)) {
		path = gm_path_join(dir_or_file, "ggen.toml");
		if (!path)
			return GM_ENOMEM;
	}
	gm_buf_init(&buf, GM_MANIFEST_MAX_SIZE);
	e = gm_fs_read_file(path ? path : dir_or_file, &buf, d);
	if (e)
		goto out_release;
	e = gm_manifest_parse(m, buf.data ? (const char *)buf.data : "",
			      buf.len, d);
out_release:
	gm_buf_release(&buf);
	gm_free(path);
	return e;
}
