/*
 * lockfile.c - reading and writing ggen.lock (see gm/lockfile.h).
 *
 * Reading goes through the TOML reader, so errors carry line:column; every
 * field is checked (ids, SemVer, CIDs, kind) since a lock file may come from
 * anyone's repository. Writing is canonical: entries sorted by id, fields in
 * a fixed order, strings escaped as TOML basic strings.
 */
#include "internal.h"

#include "gm/fs.h"
#include "gm/lockfile.h"
#include "gm/toml.h"

void gm_lockfile_init(struct gm_lockfile *l)
{
	l->reqs = NULL;
	l->n_reqs = 0;
	l->entries = NULL;
	l->n = 0;
}

static void entry_release(struct gm_lock_entry *e)
{
	size_t i;

	for (i = 0; i < e->n_deps; i++)
		gm_free(e->deps[i]);
	gm_free(e->deps);
	e->deps = NULL;
	e->n_deps = 0;
}

void gm_lockfile_release(struct gm_lockfile *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		entry_release(&l->entries[i]);
	gm_free(l->entries);
	for (i = 0; i < l->n_reqs; i++)
		gm_free(l->reqs[i].req);
	gm_free(l->reqs);
	gm_lockfile_init(l);
}

static int id_cmp(const char *ans, const char *aname, const char *ns,
		  const char *name)
{
	int c = strcmp(ans, ns);

	return c ? c : strcmp(aname, name);
}

gm_err gm_lockfile_set_req(struct gm_lockfile *l, const char *ns,
			   const char *name, const char *req)
{
	struct gm_lock_req *grown;
	size_t pos = 0;
	char *copy;

	while (pos < l->n_reqs &&
	       id_cmp(l->reqs[pos].ns, l->reqs[pos].name, ns, name) < 0)
		pos++;
	if (pos < l->n_reqs &&
	    !id_cmp(l->reqs[pos].ns, l->reqs[pos].name, ns, name)) {
		if (!req) {
			gm_free(l->reqs[pos].req);
			memmove(&l->reqs[pos], &l->reqs[pos + 1],
				(l->n_reqs - pos - 1) * sizeof(*l->reqs));
			l->n_reqs--;
			return GM_OK;
		}
		copy = gm_strdup(req);
		if (!copy)
			return GM_ENOMEM;
		gm_free(l->reqs[pos].req);
		l->reqs[pos].req = copy;
		return GM_OK;
	}
	if (!req)
		return GM_ENOENT;
	if (l->n_reqs >= GM_LOCKFILE_MAX_PACKAGES)
		return GM_ELIMIT;
	if (strlen(ns) > GM_PACKAGE_NAME_MAX ||
	    strlen(name) > GM_PACKAGE_NAME_MAX)
		return GM_EINVAL;
	copy = gm_strdup(req);
	if (!copy)
		return GM_ENOMEM;
	grown = gm_reallocarray(l->reqs, l->n_reqs + 1, sizeof(*grown));
	if (!grown) {
		gm_free(copy);
		return GM_ENOMEM;
	}
	l->reqs = grown;
	memmove(&l->reqs[pos + 1], &l->reqs[pos],
		(l->n_reqs - pos) * sizeof(*grown));
	snprintf(l->reqs[pos].ns, sizeof(l->reqs[pos].ns), "%s", ns);
	snprintf(l->reqs[pos].name, sizeof(l->reqs[pos].name), "%s", name);
	l->reqs[pos].req = copy;
	l->n_reqs++;
	return GM_OK;
}

gm_err gm_lockfile_remove(struct gm_lockfile *l, const char *ns,
			  const char *name)
{
	const struct gm_lock_entry *e = gm_lockfile_find(l, ns, name);
	size_t pos;

	if (!e)
		return GM_ENOENT;
	pos = (size_t)(e - l->entries);
	entry_release(&l->entries[pos]);
	memmove(&l->entries[pos], &l->entries[pos + 1],
		(l->n - pos - 1) * sizeof(*l->entries));
	l->n--;
	return GM_OK;
}

static int entry_cmp(const struct gm_lock_entry *a, const char *ns,
		     const char *name)
{
	int c = strcmp(a->ns, ns);

	return c ? c : strcmp(a->name, name);
}

const struct gm_lock_entry *gm_lockfile_find(const struct gm_lockfile *l,
					     const char *ns, const char *name)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = entry_cmp(&l->entries[mid], ns, name);

		if (!c)
			return &l->entries[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

gm_err gm_lockfile_add(struct gm_lockfile *l, const struct gm_lock_entry *e)
{
	struct gm_lock_entry copy = *e, *grown;
	size_t i, pos = 0;

	if (gm_lockfile_find(l, e->ns, e->name))
		return GM_EEXIST;
	if (l->n >= GM_LOCKFILE_MAX_PACKAGES)
		return GM_ELIMIT;
	copy.deps = NULL;
	copy.n_deps = 0;
	if (e->n_deps) {
		copy.deps = gm_calloc(e->n_deps, sizeof(char *));
		if (!copy.deps)
			return GM_ENOMEM;
		for (i = 0; i < e->n_deps; i++) {
			copy.deps[i] = gm_strdup(e->deps[i]);
			if (!copy.deps[i]) {
				copy.n_deps = i;
				entry_release(&copy);
				return GM_ENOMEM;
			}
		}
		copy.n_deps = e->n_deps;
	}
	grown = gm_reallocarray(l->entries, l->n + 1, sizeof(*grown));
	if (!grown) {
		entry_release(&copy);
		return GM_ENOMEM;
	}
	l->entries = grown;
	while (pos < l->n && entry_cmp(&l->entries[pos], e->ns, e->name) < 0)
		pos++;
	memmove(&l->entries[pos + 1], &l->entries[pos],
		(l->n - pos) * sizeof(*grown));
	l->entries[pos] = copy;
	l->n++;
	return GM_OK;
}

/* ---- reading ---- */

static gm_err at(struct gm_diag *d, const struct gm_toml_value *v,
		 const char *fmt, ...) GM_PRINTF(3, 4);

/* GM_EFORMAT at the position of v (the document start when v is NULL). */
static gm_err at(struct gm_diag *d, const struct gm_toml_value *v,
		 const char *fmt, ...)
{
	uint32_t line = 1, col = 1;
	va_list ap;

	if (!d)
		return GM_EFORMAT;
	if (v)
		gm_toml_pos(v, &line, &col);
	d->line = line;
	d->column = col;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return GM_EFORMAT;
}

static gm_err get_str(const struct gm_toml_value *t, const char *key,
		      const char **out, size_t *len, struct gm_diag *d)
{
	const struct gm_toml_value *v = gm_toml_table_get(t, key);

	if (!v)
		return at(d, t, "ggen.lock: [[package]] has no '%s'; run "
				"`ggen market install` to rewrite the lock file",
			  key);
	if (gm_toml_type(v) != GM_TOML_STRING)
		return at(d, v, "ggen.lock: '%s' must be a string", key);
	*out = gm_toml_string(v, len);
	if (memchr(*out, '\0', *len))
		return at(d, v, "ggen.lock: '%s' contains a NUL byte", key);
	return GM_OK;
}

static gm_err get_cid(const struct gm_toml_value *t, const char *key,
		      struct gm_cid *cid, struct gm_diag *d)
{
	const char *s;
	size_t len;
	gm_err e = get_str(t, key, &s, &len, d);

	if (e)
		return e;
	if (gm_cid_parse(cid, s, len, NULL))
		return at(d, gm_toml_table_get(t, key),
			  "ggen.lock: '%s' is not a valid CID", key);
	return GM_OK;
}

static const char *const entry_keys[] = {
	"id", "version", "kind", "root", "publisher", "release",
	"dependencies",
};

static gm_err parse_entry(struct gm_lockfile *l, const struct gm_toml_value *t,
			  struct gm_diag *d)
{
	struct gm_lock_entry e;
	const struct gm_toml_value *deps;
	const char *s;
	size_t len, i, j;
	gm_err err;

	memset(&e, 0, sizeof(e));
	if (gm_toml_type(t) != GM_TOML_TABLE)
		return at(d, t, "ggen.lock: %s entries must be tables",
			  "[[package]]");
	for (i = 0; i < gm_toml_table_len(t); i++) {
		const char *k = gm_toml_table_key(t, i, &len);
		bool known = false;

		for (j = 0; j < GM_ARRAY_LEN(entry_keys); j++)
			known |= strlen(entry_keys[j]) == len &&
				 !memcmp(entry_keys[j], k, len);
		if (!known) {
			uint32_t line, col;

			gm_toml_table_key_pos(t, i, &line, &col);
			return gm_diag_set_at(d, GM_EFORMAT, line, col,
					      "ggen.lock: unknown key '%.*s' "
					      "in [[package]]",
					      (int)len, k);
		}
	}
	err = get_str(t, "id", &s, &len, d);
	if (err)
		return err;
	if (gm_package_id_parse(s, len, e.ns, e.name, NULL))
		return at(d, gm_toml_table_get(t, "id"),
			  "ggen.lock: '%s' is not a package id (ns/name)", "id");
	err = get_str(t, "version", &s, &len, d);
	if (err)
		return err;
	if (gm_semver_parse(&e.version, s, len, NULL))
		return at(d, gm_toml_table_get(t, "version"),
			  "ggen.lock: '%s' is not a SemVer version", "version");
	err = get_str(t, "kind", &s, &len, d);
	if (err)
		return err;
	if (len == 8 && !memcmp(s, "template", 8))
		e.kind = GM_PACKAGE_TEMPLATE;
	else if (len == 9 && !memcmp(s, "validator", 9))
		e.kind = GM_PACKAGE_VALIDATOR;
	else
		return at(d, gm_toml_table_get(t, "kind"),
			  "ggen.lock: '%s' must be \"template\" or \"validator\"",
			  "kind");
	err = get_cid(t, "root", &e.root, d);
	if (!err)
		err = get_cid(t, "release", &e.release, d);
	if (!err)
		err = get_str(t, "publisher", &s, &len, d);
	if (err)
		return err;
	if (len == 0 || len > GM_FINGERPRINT_MAX)
		return at(d, gm_toml_table_get(t, "publisher"),
			  "ggen.lock: '%s' is not a key fingerprint",
			  "publisher");
	memcpy(e.publisher, s, len);
	e.publisher[len] = '\0';

	deps = gm_toml_table_get(t, "dependencies");
	if (deps && gm_toml_type(deps) != GM_TOML_ARRAY)
		return at(d, deps, "ggen.lock: '%s' must be an array of ids",
			  "dependencies");
	if (deps && gm_toml_array_len(deps)) {
		size_t n = gm_toml_array_len(deps);

		if (n > GM_MANIFEST_MAX_DEPS)
			return at(d, deps, "ggen.lock: too many %s",
				  "dependencies");
		e.deps = gm_calloc(n, sizeof(char *));
		if (!e.deps)
			return GM_ENOMEM;
		for (i = 0; i < n; i++) {
			const struct gm_toml_value *v =
				gm_toml_array_get(deps, i);
			char dns[GM_PACKAGE_NAME_MAX + 1];
			char dname[GM_PACKAGE_NAME_MAX + 1];

			if (gm_toml_type(v) != GM_TOML_STRING) {
				err = at(d, v, "ggen.lock: %s must be strings",
					 "dependencies");
				goto out_entry;
			}
			s = gm_toml_string(v, &len);
			if (gm_package_id_parse(s, len, dns, dname, NULL)) {
				err = at(d, v, "ggen.lock: '%s' lists a bad id",
					 "dependencies");
				goto out_entry;
			}
			e.deps[i] = gm_strndup(s, len);
			if (!e.deps[i]) {
				err = GM_ENOMEM;
				goto out_entry;
			}
			e.n_deps = i + 1;
		}
	}
	err = gm_lockfile_add(l, &e);
	if (err == GM_EEXIST)
		err = at(d, t, "ggen.lock: package '%s' is listed twice",
			 gm_toml_string(gm_toml_table_get(t, "id"), &len));
out_entry:
	entry_release(&e);
	return err;
}

static gm_err parse_requires(struct gm_lockfile *l,
			     const struct gm_toml_value *t, struct gm_diag *d)
{
	size_t i;

	if (!t)
		return GM_OK;
	if (gm_toml_type(t) != GM_TOML_TABLE)
		return at(d, t, "ggen.lock: '%s' must be a table", "requires");
	for (i = 0; i < gm_toml_table_len(t); i++) {
		const struct gm_toml_value *v = gm_toml_table_value(t, i);
		char ns[GM_PACKAGE_NAME_MAX + 1], name[GM_PACKAGE_NAME_MAX + 1];
		struct gm_semver_req req;
		size_t klen, vlen;
		const char *k = gm_toml_table_key(t, i, &klen);
		const char *s;
		char *copy;
		gm_err e;

		if (gm_package_id_parse(k, klen, ns, name, NULL)) {
			uint32_t line, col;

			gm_toml_table_key_pos(t, i, &line, &col);
			return gm_diag_set_at(d, GM_EFORMAT, line, col,
					      "ggen.lock: '%.*s' in [requires] "
					      "is not a package id (ns/name)",
					      (int)klen, k);
		}
		if (gm_toml_type(v) != GM_TOML_STRING)
			return at(d, v, "ggen.lock: requirement of '%s/%s' "
					"must be a string", ns, name);
		s = gm_toml_string(v, &vlen);
		if (gm_semver_req_parse(&req, s, vlen, NULL))
			return at(d, v, "ggen.lock: '%s/%s' has a bad version "
					"requirement", ns, name);
		copy = gm_strndup(s, vlen);
		if (!copy)
			return GM_ENOMEM;
		e = gm_lockfile_set_req(l, ns, name, copy);
		gm_free(copy);
		if (e)
			return e;
	}
	return GM_OK;
}

gm_err gm_lockfile_parse(struct gm_lockfile *l, const char *src, size_t len,
			 struct gm_diag *d)
{
	struct gm_toml_doc *doc;
	const struct gm_toml_value *root, *v, *pkgs;
	size_t i;
	gm_err e;

	gm_lockfile_release(l);
	e = gm_toml_parse(&doc, src, len, d);
	if (e)
		return e;
	root = gm_toml_root(doc);
	for (i = 0; i < gm_toml_table_len(root); i++) {
		size_t klen;
		const char *k = gm_toml_table_key(root, i, &klen);

		if ((klen == 7 && !memcmp(k, "version", 7)) ||
		    (klen == 7 && !memcmp(k, "package", 7)) ||
		    (klen == 8 && !memcmp(k, "requires", 8)))
			continue;
		{
			uint32_t line, col;

			gm_toml_table_key_pos(root, i, &line, &col);
			e = gm_diag_set_at(d, GM_EFORMAT, line, col,
					   "ggen.lock: unknown key '%.*s'",
					   (int)klen, k);
			goto out;
		}
	}
	v = gm_toml_table_get(root, "version");
	if (!v || gm_toml_type(v) != GM_TOML_INTEGER ||
	    gm_toml_integer(v) != 1) {
		e = at(d, v, "ggen.lock: %s must be 1 (a newer ggen wrote this "
			     "file?)",
		       "version");
		goto out;
	}
	e = parse_requires(l, gm_toml_table_get(root, "requires"), d);
	if (e)
		goto out;
	pkgs = gm_toml_table_get(root, "package");
	if (pkgs && gm_toml_type(pkgs) != GM_TOML_ARRAY) {
		e = at(d, pkgs, "ggen.lock: '%s' must be an array of tables",
		       "package");
		goto out;
	}
	for (i = 0; pkgs && i < gm_toml_array_len(pkgs); i++) {
		e = parse_entry(l, gm_toml_array_get(pkgs, i), d);
		if (e)
			goto out;
	}
out:
	if (e)
		gm_lockfile_release(l);
	gm_toml_free(doc);
	return e;
}

gm_err gm_lockfile_load(struct gm_lockfile *l, const char *path,
			struct gm_diag *d)
{
	struct gm_buf b;
	gm_err e;

	gm_buf_init(&b, GM_LOCKFILE_MAX_SIZE);
	e = gm_fs_read_file(path, &b, d);
	if (!e)
		e = gm_lockfile_parse(l, b.data ? (const char *)b.data : "",
				      b.len, d);
	gm_buf_release(&b);
	return e;
}

/* ---- writing ---- */

static gm_err put_str(struct gm_buf *out, const char *key, const char *s)
{
	gm_err e = gm_buf_printf(out, "%s = \"", key);

	for (; !e && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			e = gm_buf_printf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			e = gm_buf_printf(out, "\\u%04x", c);
		else
			e = gm_buf_append_byte(out, c);
	}
	return e ? e : gm_buf_append_str(out, "\"\n");
}

gm_err gm_lockfile_format(const struct gm_lockfile *l, struct gm_buf *out)
{
	gm_err e;
	size_t i, j;

	e = gm_buf_append_str(out, "# This file is written by ggen; do not "
				   "edit it by hand.\nversion = 1\n");
	if (!e && l->n_reqs)
		e = gm_buf_append_str(out, "\n[requires]\n");
	for (i = 0; !e && i < l->n_reqs; i++) {
		char key[2 * GM_PACKAGE_NAME_MAX + 4];

		snprintf(key, sizeof(key), "\"%s/%s\"", l->reqs[i].ns,
			 l->reqs[i].name);
		e = put_str(out, key, l->reqs[i].req);
	}
	for (i = 0; !e && i < l->n; i++) {
		const struct gm_lock_entry *en = &l->entries[i];
		char buf[GM_SEMVER_MAX_LEN + 1 > GM_CID_MAX_STR
				 ? GM_SEMVER_MAX_LEN + 1
				 : GM_CID_MAX_STR];

		e = gm_buf_printf(out, "\n[[package]]\nid = \"%s/%s\"\n", en->ns,
				  en->name);
		gm_semver_format(&en->version, buf, sizeof(buf));
		if (!e)
			e = put_str(out, "version", buf);
		if (!e)
			e = put_str(out, "kind", gm_package_kind_name(en->kind));
		gm_cid_format(&en->root, buf, sizeof(buf));
		if (!e)
			e = put_str(out, "root", buf);
		if (!e)
			e = put_str(out, "publisher", en->publisher);
		gm_cid_format(&en->release, buf, sizeof(buf));
		if (!e)
			e = put_str(out, "release", buf);
		if (!e)
			e = gm_buf_append_str(out, "dependencies = [");
		for (j = 0; !e && j < en->n_deps; j++)
			e = gm_buf_printf(out, "%s\"%s\"", j ? ", " : "",
					  en->deps[j]);
		if (!e)
			e = gm_buf_append_str(out, "]\n");
	}
	return e;
}

gm_err gm_lockfile_save(const struct gm_lockfile *l, const char *path,
			struct gm_diag *d)
{
	struct gm_buf b;
	gm_err e;

	gm_buf_init(&b, GM_LOCKFILE_MAX_SIZE);
	e = gm_lockfile_format(l, &b);
	if (!e)
		e = gm_fs_write_atomic(path, b.data, b.len, 0644, d);
	gm_buf_release(&b);
	return e;
}

bool gm_lockfile_equal(const struct gm_lockfile *a,
		       const struct gm_lockfile *b)
{
	size_t i, j;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++) {
		const struct gm_lock_entry *x = &a->entries[i],
					   *y = &b->entries[i];

		if (strcmp(x->ns, y->ns) || strcmp(x->name, y->name) ||
		    !gm_semver_equal(&x->version, &y->version) ||
		    x->kind != y->kind || !gm_cid_equal(&x->root, &y->root) ||
		    strcmp(x->publisher, y->publisher) ||
		    !gm_cid_equal(&x->release, &y->release) ||
		    x->n_deps != y->n_deps)
			return false;
		for (j = 0; j < x->n_deps; j++)
			if (strcmp(x->deps[j], y->deps[j]))
				return false;
	}
	return true;
}
