/*
 * ingest.c - signed records into the registry, and trust states rebuilt
 * from them (see gm/ingest.h for the checks per record type).
 *
 * Replay order for a handle's state: publisher and rotation records share
 * the publisher sequence and are applied by it; revocations only ever
 * restrict, so they are applied last, in any order.
 */
#include "internal.h"

#include "gm/block.h"
#include "gm/dag.h"
#include "gm/ingest.h"
#include "gm/log.h"

/* ---- the trust state ---- */

static int replay_rank(int type)
{
	return type == GM_RECORD_REVOCATION ? 1 : 0;
}

static int replay_cmp(const void *a, const void *b)
{
	const struct gm_trust_record_row *x = a, *y = b;
	int rx = replay_rank(x->type), ry = replay_rank(y->type);

	if (rx != ry)
		return rx - ry;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return strcmp(x->cid, y->cid);
}

gm_err gm_ingest_publisher_state(struct gm_registry *reg, const char *handle,
				 struct gm_publisher_state *out,
				 struct gm_diag *d)
{
	struct gm_trust_record_list l;
	struct gm_publisher_row row;
	size_t i;
	gm_err e;

	gm_publisher_state_init(out, handle);
	e = gm_registry_trust_records(reg, handle, &l, d);
	if (e)
		return e;
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), replay_cmp);
	for (i = 0; i < l.n; i++) {
		struct gm_record r;
		struct gm_diag rd;
		gm_err re;

		re = gm_record_decode(&r, l.v[i].record, l.v[i].len, &rd);
		if (re == GM_ENOMEM) {
			gm_trust_record_list_free(&l);
			return GM_ENOMEM;
		}
		if (re) {
			/* fail closed: a skipped revocation would loosen trust */
			e = gm_diag_set(d, GM_ECORRUPT,
					"stored record %s of '%s' no longer "
					"verifies (%s); the registry is "
					"damaged: run `ggen market verify`",
					l.v[i].cid, handle, rd.msg);
			gm_trust_record_list_free(&l);
			return e;
		}
		switch (r.type) {
		case GM_RECORD_PUBLISHER:
			re = gm_trust_apply_publisher(out, &r, NULL, &rd);
			break;
		case GM_RECORD_ROTATION:
			re = gm_trust_apply_rotation(out, &r, NULL, &rd);
			break;
		case GM_RECORD_REVOCATION:
			re = gm_trust_apply_revocation(out, &r, NULL, &rd);
			break;
		default:
			re = GM_OK;
		}
		if (re)
			gm_debug("replaying %s of '%s': %s", l.v[i].cid, handle,
				 rd.msg);
		gm_record_release(&r);
	}
	gm_trust_record_list_free(&l);
	if (!out->known)
		return GM_OK;
	e = gm_registry_get_publisher(reg, out->key, &row, d);
	if (e == GM_OK) {
		out->trust = row.trust;
		gm_publisher_row_release(&row);
	} else if (e == GM_ENOENT) {
		gm_diag_clear(d);
		e = GM_OK;
	}
	return e;
}

/* ---- DAG completeness ---- */

bool gm_ingest_dag_complete(struct gm_store *store, const struct gm_cid *root)
{
	struct gm_block_source src;

	gm_store_source(store, &src);
	return gm_dag_walk(&src, root, 1, NULL, 0, NULL, NULL, NULL) == GM_OK;
}

/* ---- helpers ---- */

static gm_err store_block(struct gm_store *store, const uint8_t *p,
			  size_t len, struct gm_cid *cid, struct gm_diag *d)
{
	gm_err e = gm_record_cid(p, len, cid);

	if (!e)
		e = gm_store_put(store, cid, p, len, NULL, d);
	if (!e)
		e = gm_store_sync(store, d);
	return e;
}

static gm_err trust_new_key(struct gm_registry *reg, const uint8_t *key,
			    unsigned flags, struct gm_ingest_result *res,
			    struct gm_diag *d)
{
	if (!(flags & GM_INGEST_TRUST_NEW))
		return GM_OK;
	if (res)
		res->pinned_new = true;
	return gm_registry_set_trust(reg, key, GM_TRUST_FULL, true, d);
}

/* Upserts the publisher row of key, keeping fields the row already had. */
static gm_err upsert_key(struct gm_registry *reg, const uint8_t *key,
			 const char *handle, uint64_t seq,
			 const struct gm_buf *record, const uint8_t *successor,
			 const uint64_t *revoked_after, enum gm_trust_level trust,
			 uint64_t now, struct gm_diag *d)
{
	struct gm_publisher_row have, p;
	char fpr[GM_KEY_FPR_MAX];
	bool found;
	gm_err e;

	e = gm_registry_get_publisher(reg, key, &have, d);
	found = e == GM_OK;
	if (e && e != GM_ENOENT)
		return e;
	gm_diag_clear(d);
	memset(&p, 0, sizeof(p));
	memcpy(p.key, key, sizeof(p.key));
	gm_key_fingerprint(key, fpr);
	p.fingerprint = fpr;
	p.handle = handle;
	p.seq = found && have.seq > seq ? have.seq : seq;
	p.record = record ? record->data
			  : (found ? have.record : NULL);
	p.record_len = record ? record->len : (found ? have.record_len : 0);
	p.trust = trust;
	p.first_seen = (int64_t)now;
	if (revoked_after) {
		p.has_revoked_after = true;
		p.revoked_after = *revoked_after;
		if (found && have.has_revoked_after &&
		    have.revoked_after < *revoked_after)
			p.revoked_after = have.revoked_after;
	} else if (found) {
		p.has_revoked_after = have.has_revoked_after;
		p.revoked_after = have.revoked_after;
	}
	if (successor) {
		p.has_successor = true;
		memcpy(p.successor, successor, sizeof(p.successor));
	} else if (found) {
		p.has_successor = have.has_successor;
		memcpy(p.successor, have.successor, sizeof(p.successor));
	}
	e = gm_registry_upsert_publisher(reg, &p, d);
	if (found)
		gm_publisher_row_release(&have);
	return e;
}

/* ---- the records ---- */

static gm_err ingest_publisher(struct gm_registry *reg,
			       const struct gm_record *r,
			       const struct gm_buf *bytes,
			       const char *cid_text, unsigned flags,
			       uint64_t now, struct gm_ingest_result *res,
			       struct gm_diag *d)
{
	struct gm_publisher_state s;
	bool changed = false;
	gm_err e;

	e = gm_ingest_publisher_state(reg, r->publisher.handle, &s, d);
	if (!e)
		e = gm_trust_apply_publisher(&s, r, &changed, d);
	if (e)
		return e;
	if (!changed) {
		res->outcome = GM_INGEST_DUPLICATE;
		return GM_OK;
	}
	e = upsert_key(reg, r->publisher.key, r->publisher.handle,
		       r->publisher.seq, bytes, NULL, NULL, GM_TRUST_UNTRUSTED,
		       now, d);
	if (!e)
		e = gm_registry_add_trust_record(
			reg, cid_text, r->publisher.handle, GM_RECORD_PUBLISHER,
			r->publisher.seq, bytes->data, bytes->len, (int64_t)now,
			d);
	if (!e && s.trust < GM_TRUST_MARGINAL)
		e = trust_new_key(reg, r->publisher.key, flags, res, d);
	return e;
}

static gm_err ingest_rotation(struct gm_registry *reg,
			      const struct gm_record *r,
			      const struct gm_buf *bytes, const char *cid_text,
			      uint64_t now, struct gm_ingest_result *res,
			      struct gm_diag *d)
{
	const struct gm_rec_rotation *rot = &r->rotation;
	struct gm_publisher_state s;
	struct gm_publisher_row old;
	bool changed = false, pinned = false;
	gm_err e;

	e = gm_ingest_publisher_state(reg, rot->handle, &s, d);
	if (!e)
		e = gm_trust_apply_rotation(&s, r, &changed, d);
	if (e)
		return e;
	if (!changed) {
		res->outcome = GM_INGEST_DUPLICATE;
		return GM_OK;
	}
	/*
	 * The new key inherits the handle's trust (the old key vouched) and
	 * whether that trust was a decision made here (pinned): an explicit
	 * distrust follows the handle to its new key, while a publisher
	 * nobody decided on stays open to --trust-new.
	 */
	if (gm_registry_get_publisher(reg, rot->old_key, &old, NULL) == GM_OK) {
		pinned = old.pinned;
		gm_publisher_row_release(&old);
	}
	e = upsert_key(reg, rot->old_key, rot->handle, 0, NULL, rot->new_key,
		       NULL, s.trust, now, d);
	if (!e)
		e = upsert_key(reg, rot->new_key, rot->handle, rot->seq, NULL,
			       NULL, NULL, s.trust, now, d);
	if (!e)
		e = gm_registry_set_trust(reg, rot->new_key, s.trust, pinned,
					  d);
	if (!e)
		e = gm_registry_add_trust_record(reg, cid_text, rot->handle,
						 GM_RECORD_ROTATION, rot->seq,
						 bytes->data, bytes->len,
						 (int64_t)now, d);
	return e;
}

static gm_err ingest_revocation(struct gm_registry *reg,
				const struct gm_record *r,
				const struct gm_buf *bytes,
				const char *cid_text, uint64_t now,
				struct gm_ingest_result *res,
				struct gm_diag *d)
{
	const struct gm_rec_revocation *rev = &r->revocation;
	struct gm_publisher_state s;
	bool changed = false;
	gm_err e;

	e = gm_ingest_publisher_state(reg, rev->handle, &s, d);
	if (!e)
		e = gm_trust_apply_revocation(&s, r, &changed, d);
	if (e)
		return e;
	if (!changed) {
		res->outcome = GM_INGEST_DUPLICATE;
		return GM_OK;
	}
	e = upsert_key(reg, rev->key, rev->handle, 0, NULL, NULL, &rev->after,
		       s.trust, now, d);
	if (!e)
		e = gm_registry_add_trust_record(reg, cid_text, rev->handle,
						 GM_RECORD_REVOCATION, rev->seq,
						 bytes->data, bytes->len,
						 (int64_t)now, d);
	return e;
}

/* Splits "ns/name" of a verified record. */
static void split_id(const char *id, char *ns, char *name)
{
	const char *slash = strchr(id, '/');
	size_t nl = slash ? (size_t)(slash - id) : 0;

	snprintf(ns, GM_PACKAGE_NAME_MAX + 1, "%.*s", (int)nl, id);
	snprintf(name, GM_PACKAGE_NAME_MAX + 1, "%s", slash ? slash + 1 : id);
}

/*
 * Trust check of a release against its handle's state; with TRUST_NEW an
 * unknown-trust publisher is trusted and pinned, then checked again.
 */
static gm_err check_trust(struct gm_registry *reg, const struct gm_record *r,
			  unsigned flags, struct gm_ingest_result *res,
			  struct gm_diag *d)
{
	char ns[GM_PACKAGE_NAME_MAX + 1], name[GM_PACKAGE_NAME_MAX + 1];
	struct gm_publisher_state s;
	gm_err e;

	split_id(r->release.package, ns, name);
	e = gm_ingest_publisher_state(reg, ns, &s, d);
	if (e)
		return e;
	if (!s.known) {
		char fpr[GM_KEY_FPR_MAX];

		gm_key_fingerprint(r->release.key, fpr);
		return gm_diag_set(d, GM_ETRUST,
				   "publisher '%s' (key %s) is unknown here: "
				   "its publisher record is missing; import "
				   "a bundle that carries it",
				   ns, fpr);
	}
	e = gm_trust_check_release(&s, r, d);
	if (e == GM_ETRUST && s.trust < GM_TRUST_MARGINAL) {
		struct gm_publisher_row row;
		bool distrusted = false;

		/* an explicit distrust (trust revoke): --trust-new never
		 * overrides it, and the message says so */
		if (gm_registry_get_publisher(reg, s.key, &row, NULL) == GM_OK) {
			distrusted = row.pinned;
			gm_publisher_row_release(&row);
		}
		if (distrusted) {
			char fpr[GM_KEY_FPR_MAX];

			gm_key_fingerprint(s.key, fpr);
			return gm_diag_set(d, GM_ETRUST,
					   "publisher '%s' (key %s) is "
					   "distrusted here (trust revoke); "
					   "`ggen market trust add %s` trusts "
					   "it again",
					   ns, fpr, fpr);
		}
		if (!(flags & GM_INGEST_TRUST_NEW))
			return e;
		gm_diag_clear(d);
		e = trust_new_key(reg, s.key, flags, res, d);
		if (!e) {
			s.trust = GM_TRUST_FULL;
			e = gm_trust_check_release(&s, r, d);
		}
	}
	if (!e && res)
		gm_key_fingerprint(r->release.key, res->fingerprint);
	return e;
}

static gm_err join_list(const char *const *v, size_t n, char sep,
			struct gm_buf *out)
{
	gm_err e = gm_buf_append(out, "", 0);
	size_t i;

	for (i = 0; !e && i < n; i++) {
		if (i)
			e = gm_buf_append_byte(out, (uint8_t)sep);
		if (!e)
			e = gm_buf_append_str(out, v[i]);
	}
	return e;
}

static gm_err insert_release(struct gm_registry *reg, struct gm_store *store,
			     const struct gm_record *r,
			     const struct gm_buf *bytes,
			     const char *cid_text, bool evidence,
			     uint64_t now, struct gm_diag *d)
{
	const struct gm_rec_release *rel = &r->release;
	char ns[GM_PACKAGE_NAME_MAX + 1], name[GM_PACKAGE_NAME_MAX + 1];
	char root[GM_CID_MAX_STR];
	struct gm_registry_dep *deps = NULL;
	char (*dns)[GM_PACKAGE_NAME_MAX + 1] = NULL;
	char (*dname)[GM_PACKAGE_NAME_MAX + 1] = NULL;
	struct gm_buf kw, cats, auth;
	struct gm_release_row row;
	size_t i;
	gm_err e;

	split_id(rel->package, ns, name);
	gm_buf_init(&kw, 1 << 20);
	gm_buf_init(&cats, 1 << 20);
	gm_buf_init(&auth, 1 << 20);
	memset(&row, 0, sizeof(row));
	e = gm_semver_parse(&row.semver, rel->version, strlen(rel->version),
			    d);
	if (!e && rel->ndeps) {
		deps = gm_calloc(rel->ndeps, sizeof(*deps));
		dns = gm_calloc(rel->ndeps, sizeof(*dns));
		dname = gm_calloc(rel->ndeps, sizeof(*dname));
		if (!deps || !dns || !dname)
			e = GM_ENOMEM;
	}
	for (i = 0; !e && i < rel->ndeps; i++) {
		split_id(rel->deps[i].id, dns[i], dname[i]);
		deps[i].ns = dns[i];
		deps[i].name = dname[i];
		deps[i].req = rel->deps[i].req;
	}
	if (!e)
		e = join_list(rel->meta.keywords, rel->meta.nkeywords, ' ', &kw);
	if (!e)
		e = join_list(rel->meta.categories, rel->meta.ncategories, ' ',
			      &cats);
	if (!e)
		e = join_list(rel->meta.authors, rel->meta.nauthors, '\n',
			      &auth);
	if (e)
		goto out;
	gm_cid_format(&rel->root, root, sizeof(root));
	row.ns = ns;
	row.name = name;
	row.version = rel->version;
	row.kind = gm_package_kind_name(rel->kind);
	row.description = rel->meta.description;
	row.license = rel->meta.license;
	row.keywords = (const char *)kw.data;
	row.categories = (const char *)cats.data;
	row.authors = (const char *)auth.data;
	row.homepage = rel->meta.homepage;
	row.repository = rel->meta.repository;
	row.root_cid = root;
	row.manifest_digest = rel->manifest;
	row.manifest_digest_len = sizeof(rel->manifest);
	row.size = rel->size;
	row.publisher = rel->key;
	row.seq = rel->seq;
	row.record_cid = cid_text;
	row.record = bytes->data;
	row.record_len = bytes->len;
	row.published_at = (int64_t)rel->time;
	row.equivocation = evidence;
	row.deps = deps;
	row.n_deps = rel->ndeps;
	if (gm_ingest_dag_complete(store, &rel->root))
		row.content_state = GM_CONTENT_COMPLETE;
	else if (gm_store_has(store, &rel->root))
		row.content_state = GM_CONTENT_PARTIAL;
	else
		row.content_state = GM_CONTENT_ABSENT;
	(void)now;
	e = gm_registry_insert_release(reg, &row, NULL, d);
out:
	gm_free(dname);
	gm_free(dns);
	gm_free(deps);
	gm_buf_release(&auth);
	gm_buf_release(&cats);
	gm_buf_release(&kw);
	return e;
}

static gm_err ingest_release(struct gm_registry *reg, struct gm_store *store,
			     const struct gm_record *r,
			     const struct gm_buf *bytes, const char *cid_text,
			     unsigned flags, uint64_t now,
			     struct gm_ingest_result *res, struct gm_diag *d)
{
	char ns[GM_PACKAGE_NAME_MAX + 1], name[GM_PACKAGE_NAME_MAX + 1];
	struct gm_release_list l;
	bool evidence = false;
	size_t i;
	gm_err e;

	e = check_trust(reg, r, flags, res, d);
	if (e)
		return e;
	split_id(r->release.package, ns, name);
	e = gm_registry_find_release(reg, ns, name, r->release.version, &l, d);
	if (e == GM_ENOENT) {
		gm_diag_clear(d);
		l.n = 0;
		l.rows = NULL;
		l.mem_ = NULL;
		e = GM_OK;
	}
	if (e)
		return e;
	for (i = 0; i < l.n; i++) {
		struct gm_record old;

		if (l.rows[i].record_cid &&
		    !strcmp(l.rows[i].record_cid, cid_text)) {
			res->outcome = GM_INGEST_DUPLICATE;
			/* content may have arrived since */
			if (l.rows[i].content_state != GM_CONTENT_COMPLETE &&
			    gm_ingest_dag_complete(store, &r->release.root)) {
				e = gm_registry_set_content_state(
					reg, l.rows[i].id, GM_CONTENT_COMPLETE,
					d);
			}
			gm_release_list_free(&l);
			return e;
		}
		if (!l.rows[i].record ||
		    gm_record_decode(&old, l.rows[i].record,
				     l.rows[i].record_len, NULL))
			continue;
		if (gm_trust_is_equivocation(&old, r))
			evidence = true;
		gm_record_release(&old);
	}
	if (l.n && !evidence) {
		/* same content, another signature: nothing new */
		res->outcome = GM_INGEST_DUPLICATE;
		gm_release_list_free(&l);
		return GM_OK;
	}
	gm_release_list_free(&l);
	e = insert_release(reg, store, r, bytes, cid_text, evidence, now, d);
	if (e)
		return e;
	if (evidence) {
		res->outcome = GM_INGEST_EQUIVOCATION;
		return GM_EINTEGRITY;
	}
	return GM_OK;
}

/* Whether the trust record r (CID cid_text) is already stored. */
static gm_err trust_record_known(struct gm_registry *reg,
				 const struct gm_record *r,
				 const char *cid_text, bool *known,
				 struct gm_diag *d)
{
	const char *handle = r->type == GM_RECORD_PUBLISHER
				     ? r->publisher.handle
			     : r->type == GM_RECORD_ROTATION
				     ? r->rotation.handle
				     : r->revocation.handle;
	struct gm_trust_record_list l;
	size_t i;
	gm_err e;

	*known = false;
	e = gm_registry_trust_records(reg, handle, &l, d);
	if (e)
		return e;
	for (i = 0; i < l.n && !*known; i++)
		*known = l.v[i].cid && !strcmp(l.v[i].cid, cid_text);
	gm_trust_record_list_free(&l);
	return GM_OK;
}

gm_err gm_ingest_record(struct gm_registry *reg, struct gm_store *store,
			const uint8_t *p, size_t len, unsigned flags,
			uint64_t now, struct gm_ingest_result *res,
			struct gm_diag *d)
{
	struct gm_ingest_result local;
	struct gm_record r;
	struct gm_buf bytes;
	char cid_text[GM_CID_MAX_STR];
	bool tx = false;
	gm_err e;

	if (!res)
		res = &local;
	memset(res, 0, sizeof(*res));
	if (!now)
		now = (uint64_t)time(NULL);
	e = gm_record_decode(&r, p, len, d);
	if (e)
		return e;
	res->type = r.type;
	gm_buf_init(&bytes, GM_RECORD_MAX);
	e = gm_buf_append(&bytes, p, len);
	if (!e)
		e = store_block(store, p, len, &res->cid, d);
	if (e)
		goto out;
	gm_cid_format(&res->cid, cid_text, sizeof(cid_text));
	/*
	 * A publisher, rotation or revocation record already stored is a
	 * replay: nothing changes, and an older bundle that carries it again
	 * (every bundle carries its handle's records) is not a rollback.
	 */
	if (r.type != GM_RECORD_RELEASE) {
		bool known = false;

		e = trust_record_known(reg, &r, cid_text, &known, d);
		if (e || known) {
			if (known)
				res->outcome = GM_INGEST_DUPLICATE;
			goto out;
		}
	}
	e = gm_registry_begin(reg, NULL);
	tx = e == GM_OK;
	switch (r.type) {
	case GM_RECORD_PUBLISHER:
		e = ingest_publisher(reg, &r, &bytes, cid_text, flags, now,
				     res, d);
		break;
	case GM_RECORD_ROTATION:
		e = ingest_rotation(reg, &r, &bytes, cid_text, now, res, d);
		break;
	case GM_RECORD_REVOCATION:
		e = ingest_revocation(reg, &r, &bytes, cid_text, now, res, d);
		break;
	case GM_RECORD_RELEASE:
		e = ingest_release(reg, store, &r, &bytes, cid_text, flags, now,
				   res, d);
		break;
	default:
		e = gm_diag_set(d, GM_EFORMAT, "not a record");
	}
	/* equivocation evidence is kept: commit it with the error */
	if (tx && (e == GM_OK || res->outcome == GM_INGEST_EQUIVOCATION)) {
		gm_err c = gm_registry_commit(reg, NULL);

		if (c && !e)
			e = gm_registry_commit(reg, d);
	} else if (tx) {
		gm_registry_rollback(reg, NULL);
	}
	if (e == GM_EINTEGRITY && res->outcome == GM_INGEST_EQUIVOCATION)
		gm_diag_set(d, GM_EINTEGRITY,
			    "equivocation: %s@%s was already released with "
			    "other content; both releases are kept as "
			    "evidence and neither will be installed (see "
			    "`ggen market info %s`)",
			    r.release.package, r.release.version,
			    r.release.package);
out:
	gm_buf_release(&bytes);
	gm_record_release(&r);
	return e;
}

gm_err gm_ingest_check_release(struct gm_registry *reg, const uint8_t *p,
			       size_t len, unsigned flags,
			       struct gm_record *out, struct gm_diag *d)
{
	char ns[GM_PACKAGE_NAME_MAX + 1], name[GM_PACKAGE_NAME_MAX + 1];
	struct gm_release_list l;
	size_t i;
	gm_err e;

	e = gm_record_decode(out, p, len, d);
	if (e)
		return e;
	if (out->type != GM_RECORD_RELEASE) {
		gm_record_release(out);
		return gm_diag_set(d, GM_ESIGNATURE,
				   "the stored record is a %s record, not a "
				   "release",
				   gm_record_type_name(out->type));
	}
	e = check_trust(reg, out, flags, NULL, d);
	if (e)
		goto fail;
	split_id(out->release.package, ns, name);
	e = gm_registry_find_release(reg, ns, name, out->release.version, &l,
				     d);
	if (e)
		goto fail;
	for (i = 0; i < l.n; i++)
		if (l.rows[i].equivocation)
			e = gm_diag_set(
				d, GM_EINTEGRITY,
				"equivocation: %s@%s has two different signed "
				"releases; refusing to install it (see `ggen "
				"market info %s`)",
				out->release.package, out->release.version,
				out->release.package);
	gm_release_list_free(&l);
	if (e)
		goto fail;
	return GM_OK;
fail:
	gm_record_release(out);
	return e;
}
