/*
 * record.c - signed records as canonical DAG-CBOR maps (see gm/record.h).
 *
 * Map keys of each record, in canonical order (length first, then bytes),
 * which is the order the encoders below write them in:
 *
 *   | record     | keys                                                   |
 *   |------------|--------------------------------------------------------|
 *   | publisher  | t v key seq sig time handle                            |
 *   | release    | t v key seq sig deps kind meta root size time package  |
 *   |            | version manifest                                       |
 *   | meta       | authors license? homepage? keywords categories         |
 *   |            | repository? description                                |
 *   | rotation   | t v new old seq sig last time handle sig_new           |
 *   | revocation | t v by key seq sig time after handle                   |
 *
 * Decoding: gm_dagcbor_decode() checks canonical form; then each field is
 * looked up and type checked, unknown fields refused, the struct filled
 * (a release's strings copied into one arena sized from the input), and
 * the struct re-encoded: the bytes must equal the input (so the signing
 * input computed from the struct is exactly what the signer signed), and
 * each signature is verified over that signing input.
 */
#include "internal.h"

#include "gm/dagcbor.h"
#include "gm/record.h"
#include "gm/semver.h"

#define DOMAIN_LEN (sizeof(GM_RECORD_DOMAIN) - 1)

const char *gm_record_type_name(enum gm_record_type t)
{
	switch (t) {
	case GM_RECORD_PUBLISHER:
		return "publisher";
	case GM_RECORD_RELEASE:
		return "release";
	case GM_RECORD_ROTATION:
		return "rotation";
	case GM_RECORD_REVOCATION:
		return "revocation";
	default:
		return "none";
	}
}

void gm_record_init(struct gm_record *r, enum gm_record_type t)
{
	memset(r, 0, sizeof(*r));
	r->type = t;
}

void gm_record_release(struct gm_record *r)
{
	if (!r)
		return;
	gm_free(r->mem);
	memset(r, 0, sizeof(*r));
}

/* ---- field checks shared by encode and decode ---- */

static bool text_ok(const char *s, size_t min, size_t max)
{
	size_t n;

	if (!s)
		return false;
	n = strlen(s);
	return n >= min && n <= max && gm_utf8_valid((const uint8_t *)s, n);
}

static bool url_ok(const char *s)
{
	return text_ok(s, 1, GM_RECORD_TEXT_MAX) &&
	       (strncmp(s, "https://", 8) == 0 ||
		strncmp(s, "http://", 7) == 0);
}

static gm_err bad(struct gm_diag *d, gm_err e, enum gm_record_type t,
		  const char *field, const char *what)
{
	return gm_diag_set(d, e, "%s record: field '%s' %s",
			   gm_record_type_name(t), field, what);
}

static gm_err check_words(const char *const *w, size_t n, size_t max_n,
			  size_t max_len, const char *field, gm_err e,
			  struct gm_diag *d)
{
	size_t i;

	if (n > max_n)
		return gm_diag_set(d, e,
				   "release record: field '%s' has %zu "
				   "entries, more than %zu",
				   field, n, max_n);
	for (i = 0; i < n; i++)
		if (!text_ok(w[i], 1, max_len))
			return gm_diag_set(d, e,
					   "release record: entry %zu of '%s' "
					   "must be text of 1 to %zu bytes",
					   i, field, max_len);
	return GM_OK;
}

static gm_err check_release(const struct gm_rec_release *r, gm_err e,
			    struct gm_diag *d)
{
	char ns[GM_PACKAGE_NAME_MAX + 1], name[GM_PACKAGE_NAME_MAX + 1];
	struct gm_semver v;
	struct gm_semver_req req;
	const struct gm_rec_meta *m = &r->meta;
	size_t i;
	gm_err err;

	if (!r->package || gm_package_id_parse(r->package, strlen(r->package),
					       ns, name, NULL) != GM_OK)
		return bad(d, e, GM_RECORD_RELEASE, "package",
			   "must be a package id \"namespace/name\"");
	if (!r->version ||
	    gm_semver_parse(&v, r->version, strlen(r->version), NULL) != GM_OK)
		return bad(d, e, GM_RECORD_RELEASE, "version",
			   "must be a SemVer 2.0.0 version");
	if (r->kind != GM_PACKAGE_TEMPLATE && r->kind != GM_PACKAGE_VALIDATOR)
		return bad(d, e, GM_RECORD_RELEASE, "kind",
			   "must be \"template\" or \"validator\"");
	if (r->ndeps > GM_MANIFEST_MAX_DEPS)
		return bad(d, e, GM_RECORD_RELEASE, "deps",
			   "has too many entries");
	for (i = 0; i < r->ndeps; i++) {
		const struct gm_rec_dep *dep = &r->deps[i];

		if (!dep->id || gm_package_id_parse(dep->id, strlen(dep->id),
						    ns, name, NULL) != GM_OK)
			return gm_diag_set(
			    d, e,
			    "release record: dependency %zu is "
			    "not a package id \"namespace/name\"",
			    i);
		if (!dep->req ||
		    gm_semver_req_parse(&req, dep->req, strlen(dep->req),
					NULL) != GM_OK)
			return gm_diag_set(
			    d, e,
			    "release record: dependency '%s' has "
			    "an invalid version requirement",
			    dep->id);
		if (i > 0 && strcmp(r->deps[i - 1].id, dep->id) >= 0)
			return gm_diag_set(d, e,
					   "release record: dependency '%s' is "
					   "repeated or out of order (ids must "
					   "be sorted and unique)",
					   dep->id);
	}
	if (!text_ok(m->description, 1, GM_MANIFEST_DESCRIPTION_MAX))
		return bad(d, e, GM_RECORD_RELEASE, "meta.description",
			   "must be text of 1 to 512 bytes");
	if (m->license && (!text_ok(m->license, 1, GM_RECORD_TEXT_MAX) ||
			   gm_manifest_license_check(
			       m->license, strlen(m->license), NULL) != GM_OK))
		return bad(d, e, GM_RECORD_RELEASE, "meta.license",
			   "must be an SPDX license expression");
	if (m->homepage && !url_ok(m->homepage))
		return bad(d, e, GM_RECORD_RELEASE, "meta.homepage",
			   "must be an http:// or https:// URL");
	if (m->repository && !url_ok(m->repository))
		return bad(d, e, GM_RECORD_RELEASE, "meta.repository",
			   "must be an http:// or https:// URL");
	err = check_words(m->keywords, m->nkeywords, GM_MANIFEST_MAX_KEYWORDS,
			  GM_RECORD_WORD_MAX, "meta.keywords", e, d);
	if (!err)
		err = check_words(m->categories, m->ncategories,
				  GM_MANIFEST_MAX_CATEGORIES,
				  GM_RECORD_WORD_MAX, "meta.categories", e, d);
	if (!err)
		err = check_words(m->authors, m->nauthors,
				  GM_MANIFEST_MAX_AUTHORS, GM_RECORD_TEXT_MAX,
				  "meta.authors", e, d);
	return err;
}

static gm_err check_handle(enum gm_record_type t, const char *h, gm_err e,
			   struct gm_diag *d)
{
	if (!gm_handle_valid(h))
		return bad(d, e, t, "handle",
			   "must be a handle: 1-64 of a-z, 0-9, '-', '_'");
	return GM_OK;
}

static gm_err check_fields(const struct gm_record *r, gm_err e,
			   struct gm_diag *d)
{
	switch (r->type) {
	case GM_RECORD_PUBLISHER:
		return check_handle(r->type, r->publisher.handle, e, d);
	case GM_RECORD_RELEASE:
		return check_release(&r->release, e, d);
	case GM_RECORD_ROTATION:
		if (memcmp(r->rotation.old_key, r->rotation.new_key,
			   GM_KEY_PUBLIC_BYTES) == 0)
			return bad(d, e, r->type, "new",
				   "must differ from 'old'");
		return check_handle(r->type, r->rotation.handle, e, d);
	case GM_RECORD_REVOCATION:
		return check_handle(r->type, r->revocation.handle, e, d);
	default:
		return gm_diag_set(d, GM_EINVAL, "record of unknown type %d",
				   (int)r->type);
	}
}

/* ---- encoding ---- */

struct enc {
	struct gm_buf *out;
	gm_err e;
};

static void k(struct enc *w, const char *key)
{
	if (!w->e)
		w->e = gm_cbor_put_key(w->out, key);
}

static void u(struct enc *w, const char *key, uint64_t v)
{
	k(w, key);
	if (!w->e)
		w->e = gm_cbor_put_uint(w->out, v);
}

static void by(struct enc *w, const char *key, const uint8_t *p, size_t n)
{
	k(w, key);
	if (!w->e)
		w->e = gm_cbor_put_bytes(w->out, p, n);
}

static void tx(struct enc *w, const char *key, const char *s)
{
	if (key)
		k(w, key);
	if (!w->e)
		w->e = gm_cbor_put_text(w->out, s, strlen(s));
}

static void head(struct enc *w, enum gm_cbor_type t, uint64_t n)
{
	if (!w->e)
		w->e = t == GM_CBOR_MAP ? gm_cbor_put_map(w->out, n)
					: gm_cbor_put_array(w->out, n);
}

static void words(struct enc *w, const char *key, const char *const *s,
		  size_t n)
{
	size_t i;

	k(w, key);
	head(w, GM_CBOR_ARRAY, n);
	for (i = 0; i < n; i++)
		tx(w, NULL, s[i]);
}

/* The common start: map head, "t", "v". */
static void start(struct enc *w, enum gm_record_type t, uint64_t n)
{
	head(w, GM_CBOR_MAP, n);
	tx(w, "t", gm_record_type_name(t));
	u(w, "v", 1);
}

static void enc_meta(struct enc *w, const struct gm_rec_meta *m)
{
	head(w, GM_CBOR_MAP,
	     4 + !!m->license + !!m->homepage + !!m->repository);
	words(w, "authors", m->authors, m->nauthors);
	if (m->license)
		tx(w, "license", m->license);
	if (m->homepage)
		tx(w, "homepage", m->homepage);
	words(w, "keywords", m->keywords, m->nkeywords);
	words(w, "categories", m->categories, m->ncategories);
	if (m->repository)
		tx(w, "repository", m->repository);
	tx(w, "description", m->description);
}

static void enc_release(struct enc *w, const struct gm_rec_release *r,
			bool sigs)
{
	size_t i;

	start(w, GM_RECORD_RELEASE, 13 + sigs);
	by(w, "key", r->key, sizeof(r->key));
	u(w, "seq", r->seq);
	if (sigs)
		by(w, "sig", r->sig, sizeof(r->sig));
	k(w, "deps");
	head(w, GM_CBOR_ARRAY, r->ndeps);
	for (i = 0; i < r->ndeps; i++) {
		head(w, GM_CBOR_ARRAY, 2);
		tx(w, NULL, r->deps[i].id);
		tx(w, NULL, r->deps[i].req);
	}
	tx(w, "kind", gm_package_kind_name(r->kind));
	k(w, "meta");
	enc_meta(w, &r->meta);
	k(w, "root");
	if (!w->e)
		w->e = gm_cbor_put_cid(w->out, &r->root);
	u(w, "size", r->size);
	u(w, "time", r->time);
	tx(w, "package", r->package);
	tx(w, "version", r->version);
	by(w, "manifest", r->manifest, sizeof(r->manifest));
}

static gm_err encode(const struct gm_record *r, bool sigs, struct gm_buf *out)
{
	struct enc w = {out, GM_OK};
	size_t at = out->len;

	switch (r->type) {
	case GM_RECORD_PUBLISHER:
		start(&w, r->type, 6 + sigs);
		by(&w, "key", r->publisher.key, GM_KEY_PUBLIC_BYTES);
		u(&w, "seq", r->publisher.seq);
		if (sigs)
			by(&w, "sig", r->publisher.sig, GM_KEY_SIG_BYTES);
		u(&w, "time", r->publisher.time);
		tx(&w, "handle", r->publisher.handle);
		break;
	case GM_RECORD_RELEASE:
		enc_release(&w, &r->release, sigs);
		break;
	case GM_RECORD_ROTATION:
		start(&w, r->type, 8 + 2 * sigs);
		by(&w, "new", r->rotation.new_key, GM_KEY_PUBLIC_BYTES);
		by(&w, "old", r->rotation.old_key, GM_KEY_PUBLIC_BYTES);
		u(&w, "seq", r->rotation.seq);
		if (sigs)
			by(&w, "sig", r->rotation.sig, GM_KEY_SIG_BYTES);
		u(&w, "last", r->rotation.last);
		u(&w, "time", r->rotation.time);
		tx(&w, "handle", r->rotation.handle);
		if (sigs)
			by(&w, "sig_new", r->rotation.sig_new,
			   GM_KEY_SIG_BYTES);
		break;
	case GM_RECORD_REVOCATION:
		start(&w, r->type, 8 + sigs);
		by(&w, "by", r->revocation.by, GM_KEY_PUBLIC_BYTES);
		by(&w, "key", r->revocation.key, GM_KEY_PUBLIC_BYTES);
		u(&w, "seq", r->revocation.seq);
		if (sigs)
			by(&w, "sig", r->revocation.sig, GM_KEY_SIG_BYTES);
		u(&w, "time", r->revocation.time);
		u(&w, "after", r->revocation.after);
		tx(&w, "handle", r->revocation.handle);
		break;
	default:
		return GM_EINVAL;
	}
	if (!w.e && out->len - at > GM_RECORD_MAX)
		w.e = GM_ELIMIT;
	if (w.e) {
		out->len = at;
		if (out->data)
			out->data[at] = 0;
	}
	return w.e;
}

static gm_err enc_err(gm_err e, const struct gm_record *r, struct gm_diag *d)
{
	if (e == GM_ELIMIT)
		return gm_diag_set(d, e, "%s record is larger than %d bytes",
				   gm_record_type_name(r->type), GM_RECORD_MAX);
	return e;
}

gm_err gm_record_encode(const struct gm_record *r, struct gm_buf *out,
			struct gm_diag *d)
{
	gm_err e = check_fields(r, GM_EINVAL, d);

	if (e)
		return e;
	return enc_err(encode(r, true, out), r, d);
}

gm_err gm_record_signing_input(const struct gm_record *r, struct gm_buf *out,
			       struct gm_diag *d)
{
	size_t at = out->len;
	gm_err e = check_fields(r, GM_EINVAL, d);

	if (!e)
		e = gm_buf_append(out, GM_RECORD_DOMAIN, DOMAIN_LEN);
	if (!e)
		e = encode(r, false, out);
	if (e)
		out->len = at;
	return enc_err(e, r, d);
}

/* The key that must have made "sig". */
static const uint8_t *signer_of(const struct gm_record *r)
{
	switch (r->type) {
	case GM_RECORD_PUBLISHER:
		return r->publisher.key;
	case GM_RECORD_RELEASE:
		return r->release.key;
	case GM_RECORD_ROTATION:
		return r->rotation.old_key;
	case GM_RECORD_REVOCATION:
		return r->revocation.by;
	default:
		return NULL;
	}
}

static uint8_t *sig_of(struct gm_record *r)
{
	switch (r->type) {
	case GM_RECORD_PUBLISHER:
		return r->publisher.sig;
	case GM_RECORD_RELEASE:
		return r->release.sig;
	case GM_RECORD_ROTATION:
		return r->rotation.sig;
	case GM_RECORD_REVOCATION:
		return r->revocation.sig;
	default:
		return NULL;
	}
}

gm_err gm_record_sign(struct gm_record *r, const struct gm_key *signer,
		      const struct gm_key *new_signer, struct gm_buf *out,
		      struct gm_diag *d)
{
	const uint8_t *want = signer_of(r);
	struct gm_buf in;
	gm_err e;

	if (!want)
		return gm_diag_set(d, GM_EINVAL, "record of unknown type");
	if (!signer || !signer->has_secret ||
	    memcmp(signer->pk, want, GM_KEY_PUBLIC_BYTES) != 0)
		return gm_diag_set(d, GM_EINVAL,
				   "%s record: the signing key is not the key "
				   "the record names as its signer",
				   gm_record_type_name(r->type));
	if (r->type == GM_RECORD_ROTATION &&
	    (!new_signer || !new_signer->has_secret ||
	     memcmp(new_signer->pk, r->rotation.new_key, GM_KEY_PUBLIC_BYTES) !=
		 0))
		return gm_diag_set(d, GM_EINVAL,
				   "rotation record: it must also be signed "
				   "by its new key, with that key's secret");
	gm_buf_init(&in, GM_RECORD_MAX + DOMAIN_LEN);
	e = gm_record_signing_input(r, &in, d);
	if (!e)
		e = gm_key_sign(signer, in.data, in.len, sig_of(r));
	if (!e && r->type == GM_RECORD_ROTATION)
		e = gm_key_sign(new_signer, in.data, in.len,
				r->rotation.sig_new);
	gm_buf_release(&in);
	if (!e)
		e = enc_err(encode(r, true, out), r, d);
	return e;
}

gm_err gm_record_cid(const uint8_t *p, size_t len, struct gm_cid *out)
{
	return gm_cid_sha256(out, 1, GM_CODEC_DAG_CBOR, p, len);
}

/* ---- decoding ---- */

/* Bump allocator over one block, for a decoded release's strings. */
struct arena {
	char *base;
	size_t cap;
	size_t used;
};

static void *arena_take(struct arena *a, size_t n)
{
	size_t at = (a->used + 7) & ~(size_t)7;

	/* The arena is sized for the worst case (see gm_record_decode). */
	GM_ASSERT(at <= a->cap && n <= a->cap - at);
	if (at > a->cap || n > a->cap - at)
		abort();
	a->used = at + n;
	return a->base + at;
}

struct dctx {
	const struct gm_cbor *map;
	enum gm_record_type type;
	struct arena ar;
	struct gm_diag *d;
};

static gm_err dbad(struct dctx *c, const char *field, const char *what)
{
	return bad(c->d, GM_EFORMAT, c->type, field, what);
}

/* Looks up a field and checks its type; NULL *out when absent. */
static gm_err get(struct dctx *c, const struct gm_cbor *map, const char *name,
		  enum gm_cbor_type t, bool required,
		  const struct gm_cbor **out)
{
	const struct gm_cbor *v = gm_cbor_map_get(map, name);

	*out = v;
	if (!v) {
		if (required)
			return dbad(c, name, "is missing");
		return GM_OK;
	}
	if (v->type != t)
		return gm_diag_set(c->d, GM_EFORMAT,
				   "%s record: field '%s' must be a %s, not a "
				   "%s",
				   gm_record_type_name(c->type), name,
				   gm_cbor_type_name(t),
				   gm_cbor_type_name(v->type));
	return GM_OK;
}

static gm_err get_uint(struct dctx *c, const char *name, uint64_t *out)
{
	const struct gm_cbor *v;
	gm_err e = get(c, c->map, name, GM_CBOR_UINT, true, &v);

	if (!e)
		*out = v->u;
	return e;
}

static gm_err get_key(struct dctx *c, const char *name, uint8_t out[32])
{
	const struct gm_cbor *v;
	gm_err e = get(c, c->map, name, GM_CBOR_BYTES, true, &v);

	if (e)
		return e;
	if (v->len != GM_KEY_PUBLIC_BYTES)
		return dbad(c, name, "must be a 32-byte Ed25519 public key");
	memcpy(out, v->p, GM_KEY_PUBLIC_BYTES);
	return GM_OK;
}

static gm_err get_sig(struct dctx *c, const char *name, uint8_t out[64])
{
	const struct gm_cbor *v;
	gm_err e = get(c, c->map, name, GM_CBOR_BYTES, false, &v);

	if (e)
		return e;
	if (!v)
		return gm_diag_set(c->d, GM_ESIGNATURE,
				   "%s record: signature '%s' is missing",
				   gm_record_type_name(c->type), name);
	if (v->len != GM_KEY_SIG_BYTES)
		return gm_diag_set(c->d, GM_ESIGNATURE,
				   "%s record: signature '%s' has %zu bytes, "
				   "not 64",
				   gm_record_type_name(c->type), name, v->len);
	memcpy(out, v->p, GM_KEY_SIG_BYTES);
	return GM_OK;
}

static gm_err get_handle(struct dctx *c, char out[GM_HANDLE_MAX + 1])
{
	const struct gm_cbor *v;
	gm_err e = get(c, c->map, "handle", GM_CBOR_TEXT, true, &v);

	if (e)
		return e;
	if (v->len > GM_HANDLE_MAX ||
	    !gm_package_name_valid((const char *)v->p, v->len))
		return dbad(c, "handle",
			    "must be a handle: 1-64 of a-z, 0-9, '-', '_'");
	memcpy(out, v->p, v->len);
	out[v->len] = '\0';
	return GM_OK;
}

/* Copies a text node into the arena as a C string (no NUL inside). */
static gm_err dup_text(struct dctx *c, const char *field,
		       const struct gm_cbor *v, const char **out)
{
	char *s;

	if (v->type != GM_CBOR_TEXT)
		return gm_diag_set(c->d, GM_EFORMAT,
				   "%s record: '%s' must hold text, not a %s",
				   gm_record_type_name(c->type), field,
				   gm_cbor_type_name(v->type));
	if (v->len && memchr(v->p, 0, v->len))
		return dbad(c, field, "holds a NUL byte");
	s = arena_take(&c->ar, v->len + 1);
	if (v->len)
		memcpy(s, v->p, v->len);
	s[v->len] = '\0';
	*out = s;
	return GM_OK;
}

static gm_err get_text(struct dctx *c, const struct gm_cbor *map,
		       const char *name, bool required, const char **out)
{
	const struct gm_cbor *v;
	gm_err e = get(c, map, name, GM_CBOR_TEXT, required, &v);

	*out = NULL;
	if (e || !v)
		return e;
	return dup_text(c, name, v, out);
}

static gm_err get_words(struct dctx *c, const struct gm_cbor *map,
			const char *name, size_t max, const char *const **out,
			size_t *n)
{
	const struct gm_cbor *v;
	const char **list;
	size_t i;
	gm_err e = get(c, map, name, GM_CBOR_ARRAY, true, &v);

	if (e)
		return e;
	if (v->u > max)
		return dbad(c, name, "has too many entries");
	list = arena_take(&c->ar, (size_t)v->u * sizeof(*list));
	for (i = 0; i < v->u; i++) {
		e = dup_text(c, name, &v->kids[i], &list[i]);
		if (e)
			return e;
	}
	*out = v->u ? list : NULL;
	*n = (size_t)v->u;
	return GM_OK;
}

/* Refuses fields of map not in names. */
static gm_err only(struct dctx *c, const struct gm_cbor *map,
		   const char *const *names, size_t n, const char *where)
{
	uint64_t i;
	size_t j;

	for (i = 0; i < map->u; i++) {
		const struct gm_cbor *key = &map->kids[2 * i];
		bool ok = false;

		for (j = 0; j < n && !ok; j++)
			ok = gm_cbor_text_is(key, names[j]);
		if (!ok)
			return gm_diag_set(c->d, GM_EFORMAT,
					   "%s record: unknown field '%s%.*s'",
					   gm_record_type_name(c->type), where,
					   (int)(key->len > 64 ? 64 : key->len),
					   key->p);
	}
	return GM_OK;
}

static gm_err dec_meta(struct dctx *c, struct gm_rec_meta *m)
{
	static const char *const names[] = {
	    "authors",	  "license",	"homepage",    "keywords",
	    "categories", "repository", "description",
	};
	const struct gm_cbor *map;
	gm_err e;

	e = get(c, c->map, "meta", GM_CBOR_MAP, true, &map);
	if (!e)
		e = only(c, map, names, GM_ARRAY_LEN(names), "meta.");
	if (!e)
		e = get_words(c, map, "authors", GM_MANIFEST_MAX_AUTHORS,
			      &m->authors, &m->nauthors);
	if (!e)
		e = get_text(c, map, "license", false, &m->license);
	if (!e)
		e = get_text(c, map, "homepage", false, &m->homepage);
	if (!e)
		e = get_words(c, map, "keywords", GM_MANIFEST_MAX_KEYWORDS,
			      &m->keywords, &m->nkeywords);
	if (!e)
		e = get_words(c, map, "categories", GM_MANIFEST_MAX_CATEGORIES,
			      &m->categories, &m->ncategories);
	if (!e)
		e = get_text(c, map, "repository", false, &m->repository);
	if (!e)
		e = get_text(c, map, "description", true, &m->description);
	return e;
}

static gm_err dec_release(struct dctx *c, struct gm_rec_release *r)
{
	static const char *const names[] = {
	    "t",    "v",    "key",  "seq",  "sig",     "deps",	  "kind",
	    "meta", "root", "size", "time", "package", "version", "manifest",
	};
	const struct gm_cbor *v, *deps;
	struct gm_rec_dep *dl;
	const char *kind;
	size_t i;
	gm_err e;

	e = only(c, c->map, names, GM_ARRAY_LEN(names), "");
	if (!e)
		e = get_key(c, "key", r->key);
	if (!e)
		e = get_uint(c, "seq", &r->seq);
	if (!e)
		e = get(c, c->map, "deps", GM_CBOR_ARRAY, true, &deps);
	if (e)
		return e;
	if (deps->u > GM_MANIFEST_MAX_DEPS)
		return dbad(c, "deps", "has too many entries");
	dl = arena_take(&c->ar, (size_t)deps->u * sizeof(*dl));
	for (i = 0; i < deps->u; i++) {
		const struct gm_cbor *pair = &deps->kids[i];

		if (pair->type != GM_CBOR_ARRAY || pair->u != 2)
			return gm_diag_set(
			    c->d, GM_EFORMAT,
			    "release record: dependency %zu must "
			    "be an array [id, requirement]",
			    i);
		e = dup_text(c, "deps", &pair->kids[0], &dl[i].id);
		if (!e)
			e = dup_text(c, "deps", &pair->kids[1], &dl[i].req);
		if (e)
			return e;
	}
	r->deps = deps->u ? dl : NULL;
	r->ndeps = (size_t)deps->u;
	e = get_text(c, c->map, "kind", true, &kind);
	if (e)
		return e;
	if (strcmp(kind, "template") == 0)
		r->kind = GM_PACKAGE_TEMPLATE;
	else if (strcmp(kind, "validator") == 0)
		r->kind = GM_PACKAGE_VALIDATOR;
	else
		return dbad(c, "kind", "must be \"template\" or \"validator\"");
	e = dec_meta(c, &r->meta);
	if (!e)
		e = get(c, c->map, "root", GM_CBOR_CID, true, &v);
	if (e)
		return e;
	if (gm_cbor_cid(v, &r->root) != GM_OK)
		return dbad(c, "root", "is not a valid CID");
	e = get_uint(c, "size", &r->size);
	if (!e)
		e = get_uint(c, "time", &r->time);
	if (!e)
		e = get_text(c, c->map, "package", true, &r->package);
	if (!e)
		e = get_text(c, c->map, "version", true, &r->version);
	if (!e)
		e = get(c, c->map, "manifest", GM_CBOR_BYTES, true, &v);
	if (e)
		return e;
	if (v->len != 32)
		return dbad(c, "manifest", "must be a 32-byte SHA-256 digest");
	memcpy(r->manifest, v->p, 32);
	e = check_release(r, GM_EFORMAT, c->d);
	if (!e)
		e = get_sig(c, "sig", r->sig);
	return e;
}

static gm_err dec_fields(struct dctx *c, struct gm_record *r)
{
	static const char *const pub[] = {"t",	 "v",	 "key",	  "seq",
					  "sig", "time", "handle"};
	static const char *const rot[] = {
	    "t",    "v",    "new",	"old",	  "seq",
	    "sig",  "last", "time",	"handle", "sig_new"};
	static const char *const rev[] = {
	    "t", "v", "by", "key", "seq", "sig", "time", "after", "handle"};
	gm_err e;

	switch (r->type) {
	case GM_RECORD_PUBLISHER:
		e = only(c, c->map, pub, GM_ARRAY_LEN(pub), "");
		if (!e)
			e = get_key(c, "key", r->publisher.key);
		if (!e)
			e = get_uint(c, "seq", &r->publisher.seq);
		if (!e)
			e = get_uint(c, "time", &r->publisher.time);
		if (!e)
			e = get_handle(c, r->publisher.handle);
		if (!e)
			e = get_sig(c, "sig", r->publisher.sig);
		return e;
	case GM_RECORD_RELEASE:
		return dec_release(c, &r->release);
	case GM_RECORD_ROTATION:
		e = only(c, c->map, rot, GM_ARRAY_LEN(rot), "");
		if (!e)
			e = get_key(c, "new", r->rotation.new_key);
		if (!e)
			e = get_key(c, "old", r->rotation.old_key);
		if (!e)
			e = get_uint(c, "seq", &r->rotation.seq);
		if (!e)
			e = get_uint(c, "last", &r->rotation.last);
		if (!e)
			e = get_uint(c, "time", &r->rotation.time);
		if (!e)
			e = get_handle(c, r->rotation.handle);
		if (!e && memcmp(r->rotation.old_key, r->rotation.new_key,
				 GM_KEY_PUBLIC_BYTES) == 0)
			e = dbad(c, "new", "must differ from 'old'");
		if (!e)
			e = get_sig(c, "sig", r->rotation.sig);
		if (!e)
			e = get_sig(c, "sig_new", r->rotation.sig_new);
		return e;
	default:
		e = only(c, c->map, rev, GM_ARRAY_LEN(rev), "");
		if (!e)
			e = get_key(c, "by", r->revocation.by);
		if (!e)
			e = get_key(c, "key", r->revocation.key);
		if (!e)
			e = get_uint(c, "seq", &r->revocation.seq);
		if (!e)
			e = get_uint(c, "time", &r->revocation.time);
		if (!e)
			e = get_uint(c, "after", &r->revocation.after);
		if (!e)
			e = get_handle(c, r->revocation.handle);
		if (!e)
			e = get_sig(c, "sig", r->revocation.sig);
		return e;
	}
}

/* Re-encodes r, compares with the input, verifies the signatures. */
static gm_err verify(const struct gm_record *r, const uint8_t *p, size_t len,
		     struct gm_diag *d)
{
	char fpr[GM_KEY_FPR_MAX];
	struct gm_buf b;
	gm_err e;

	gm_buf_init(&b, GM_RECORD_MAX + DOMAIN_LEN);
	e = encode(r, true, &b);
	if (e)
		goto out_release;
	if (b.len != len || memcmp(b.data, p, len) != 0) {
		e = gm_diag_set(d, GM_EFORMAT,
				"%s record is not in its canonical form",
				gm_record_type_name(r->type));
		goto out_release;
	}
	gm_buf_reset(&b);
	e = gm_buf_append(&b, GM_RECORD_DOMAIN, DOMAIN_LEN);
	if (!e)
		e = encode(r, false, &b);
	if (e)
		goto out_release;
	if (!gm_key_verify(signer_of(r), b.data, b.len,
			   sig_of((struct gm_record *)r))) {
		gm_key_fingerprint(signer_of(r), fpr);
		e = gm_diag_set(d, GM_ESIGNATURE,
				"%s record: signature 'sig' is not a valid "
				"signature by its key %s",
				gm_record_type_name(r->type), fpr);
		goto out_release;
	}
	if (r->type == GM_RECORD_ROTATION &&
	    !gm_key_verify(r->rotation.new_key, b.data, b.len,
			   r->rotation.sig_new)) {
		gm_key_fingerprint(r->rotation.new_key, fpr);
		e = gm_diag_set(d, GM_ESIGNATURE,
				"rotation record: signature 'sig_new' is not "
				"a valid signature by the new key %s",
				fpr);
	}
out_release:
	gm_buf_release(&b);
	return e;
}

gm_err gm_record_decode(struct gm_record *out, const uint8_t *p, size_t len,
			struct gm_diag *d)
{
	static const struct {
		const char *name;
		enum gm_record_type type;
	} types[] = {
	    {"publisher", GM_RECORD_PUBLISHER},
	    {"release", GM_RECORD_RELEASE},
	    {"rotation", GM_RECORD_ROTATION},
	    {"revocation", GM_RECORD_REVOCATION},
	};
	struct gm_dagcbor_doc doc;
	const struct gm_cbor *t, *v;
	struct dctx c;
	size_t i;
	gm_err e;

	gm_record_init(out, GM_RECORD_NONE);
	if (len > GM_RECORD_MAX)
		return gm_diag_set(d, GM_ELIMIT,
				   "record of %zu bytes is larger than the %d "
				   "allowed",
				   len, GM_RECORD_MAX);
	e = gm_dagcbor_decode(&doc, p, len, d);
	if (e)
		return e;
	memset(&c, 0, sizeof(c));
	c.d = d;
	c.map = doc.root;
	if (doc.root->type != GM_CBOR_MAP) {
		e = gm_diag_set(d, GM_EFORMAT,
				"a record must be a map, not a %s",
				gm_cbor_type_name(doc.root->type));
		goto out_doc;
	}
	t = gm_cbor_map_get(doc.root, "t");
	for (i = 0; t && i < GM_ARRAY_LEN(types); i++)
		if (gm_cbor_text_is(t, types[i].name))
			c.type = types[i].type;
	if (c.type == GM_RECORD_NONE) {
		e = gm_diag_set(d, GM_EFORMAT,
				"record has no type: field 't' must be "
				"\"publisher\", \"release\", \"rotation\" or "
				"\"revocation\"");
		goto out_doc;
	}
	v = gm_cbor_map_get(doc.root, "v");
	if (!v || v->type != GM_CBOR_UINT) {
		e = bad(d, GM_EFORMAT, c.type, "v",
			"must be the format version 1");
		goto out_doc;
	}
	if (v->u != 1) {
		e = gm_diag_set(d, GM_EUNSUPPORTED,
				"%s record has format version %" PRIu64
				"; this program reads version 1",
				gm_record_type_name(c.type), v->u);
		goto out_doc;
	}
	out->type = c.type;
	if (c.type == GM_RECORD_RELEASE) {
		/*
		 * Worst case: string bytes (<= len), one NUL and up to 7
		 * bytes of alignment per string or array (<= count + 4 of
		 * them), 8 bytes per word pointer and 16 per dependency
		 * (each a node of its own): len + 24 * count + 28.
		 */
		c.ar.cap = len + 32 * doc.count + 64;
		c.ar.base = gm_malloc(c.ar.cap);
		if (!c.ar.base) {
			e = GM_ENOMEM;
			goto out_doc;
		}
		out->mem = c.ar.base;
	}
	e = dec_fields(&c, out);
	if (!e)
		e = verify(out, p, len, d);
out_doc:
	gm_dagcbor_doc_release(&doc);
	if (e)
		gm_record_release(out);
	return e;
}
