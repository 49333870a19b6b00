/*
 * market.c - the client facade (see gm/market.h): composes the content layer
 * into the user actions of the foundation verbs.
 */
#include "internal.h"

#include "gm/fs.h"
#include "gm/ingest.h"
#include "gm/market.h"
#include "gm/record.h"

struct gm_market {
	char *home;
	char *keys;
	struct gm_store *store;
	struct gm_registry *reg;
};

gm_err gm_market_open(struct gm_market **out, const char *home,
		      struct gm_diag *d)
{
	struct gm_market *m;
	char *blocks = NULL;
	gm_err e;

	*out = NULL;
	m = gm_calloc(1, sizeof(*m));
	if (!m)
		return GM_ENOMEM;
	m->home = gm_strdup(home);
	if (!m->home) {
		e = GM_ENOMEM;
		goto out_free;
	}
	e = gm_fs_mkdir_p(home, 0700, d);
	if (e)
		goto out_free;
	blocks = gm_path_join(home, "blocks");
	if (!blocks) {
		e = GM_ENOMEM;
		goto out_free;
	}
	e = gm_store_open(&m->store, blocks, d);
	gm_free(blocks);
	if (e)
		goto out_free;
	blocks = gm_path_join(home, "registry.db");
	m->keys = gm_path_join(home, "keys");
	if (!blocks || !m->keys) {
		gm_free(blocks);
		e = GM_ENOMEM;
		goto out_store;
	}
	e = gm_registry_open(&m->reg, blocks, d);
	gm_free(blocks);
	if (e)
		goto out_store;
	*out = m;
	return GM_OK;

out_store:
	gm_store_close(m->store);
out_free:
	gm_free(m->keys);
	gm_free(m->home);
	gm_free(m);
	return e;
}

void gm_market_close(struct gm_market *m)
{
	if (!m)
		return;
	gm_registry_close(m->reg);
	gm_store_close(m->store);
	gm_free(m->keys);
	gm_free(m->home);
	gm_free(m);
}

struct gm_store *gm_market_store(struct gm_market *m)
{
	return m->store;
}

struct gm_registry *gm_market_registry(struct gm_market *m)
{
	return m->reg;
}

const char *gm_market_keys_dir(struct gm_market *m)
{
	return m->keys;
}

/* Signs r with signer (and new_signer for a rotation) and ingests it. */
static gm_err sign_and_ingest(struct gm_market *m, struct gm_record *r,
			      const struct gm_key *signer,
			      const struct gm_key *new_signer,
			      struct gm_diag *d)
{
	struct gm_buf b;
	gm_err e;

	gm_buf_init(&b, GM_RECORD_MAX);
	e = gm_record_sign(r, signer, new_signer, &b, d);
	if (!e)
		e = gm_ingest_record(m->reg, m->store, b.data, b.len, 0, 0,
				     NULL, d);
	gm_buf_release(&b);
	return e;
}

gm_err gm_market_key_generate(struct gm_market *m, const char *handle,
			      const char *passphrase, struct gm_key *out,
			      struct gm_diag *d)
{
	struct gm_publisher_state s;
	struct gm_record r;
	uint64_t now = (uint64_t)time(NULL);
	char *path;
	gm_err e;

	e = gm_ingest_publisher_state(m->reg, handle, &s, d);
	if (e)
		return e;
	if (s.known) {
		char fpr[GM_KEY_FPR_MAX];

		gm_key_fingerprint(s.key, fpr);
		return gm_diag_set(d, GM_EEXIST,
				   "handle '%s' already has key %s; use `ggen "
				   "market key rotate --handle %s` to replace "
				   "it",
				   handle, fpr, handle);
	}
	e = gm_key_generate(out, handle, now, d);
	if (e)
		return e;
	e = gm_key_save(m->keys, out, passphrase, d);
	if (e)
		goto fail;
	gm_record_init(&r, GM_RECORD_PUBLISHER);
	snprintf(r.publisher.handle, sizeof(r.publisher.handle), "%s", handle);
	memcpy(r.publisher.key, out->pk, sizeof(r.publisher.key));
	r.publisher.seq = 1;
	r.publisher.time = now;
	e = sign_and_ingest(m, &r, out, NULL, d);
	if (!e)
		e = gm_registry_set_trust(m->reg, out->pk, GM_TRUST_ULTIMATE,
					  true, d);
	if (!e)
		return GM_OK;
	path = gm_key_path(m->keys, handle);
	if (path)
		unlink(path);
	gm_free(path);
fail:
	gm_key_release(out);
	return e;
}

gm_err gm_market_signing_key(struct gm_market *m, const char *handle,
			     const char *key_file, const char *passphrase,
			     struct gm_key *out, struct gm_diag *d)
{
	gm_err e;

	if (key_file)
		return gm_key_load_file(out, key_file, passphrase, d);
	e = gm_key_from_env(out, handle, d);
	if (e != GM_ENOENT)
		return e;
	gm_diag_clear(d);
	e = gm_key_load(out, m->keys, handle, passphrase, d);
	if (e == GM_ENOENT)
		return gm_diag_set(d, GM_ENOENT,
				   "no signing key for '%s'; make one with "
				   "`ggen market key generate --handle %s`, or "
				   "give --key-file or GGEN_SIGNING_KEY",
				   handle, handle);
	return e;
}

gm_err gm_market_key_rotate(struct gm_market *m, const char *handle,
			    const char *old_pass, const char *new_pass,
			    struct gm_key *new_out, struct gm_diag *d)
{
	struct gm_publisher_state s;
	struct gm_key old;
	struct gm_record r;
	uint64_t now = (uint64_t)time(NULL);
	gm_err e;

	e = gm_ingest_publisher_state(m->reg, handle, &s, d);
	if (e)
		return e;
	e = gm_key_rotate(m->keys, handle, old_pass, new_pass, now, &old,
			  new_out, d);
	if (e)
		return e;
	gm_record_init(&r, GM_RECORD_ROTATION);
	snprintf(r.rotation.handle, sizeof(r.rotation.handle), "%s", handle);
	memcpy(r.rotation.old_key, old.pk, sizeof(r.rotation.old_key));
	memcpy(r.rotation.new_key, new_out->pk, sizeof(r.rotation.new_key));
	r.rotation.seq = s.seq + 1;
	r.rotation.time = now;
	e = gm_registry_release_seq_max(m->reg, old.pk, &r.rotation.last, d);
	if (!e)
		e = sign_and_ingest(m, &r, &old, new_out, d);
	gm_key_release(&old);
	if (e)
		gm_key_release(new_out);
	return e;
}

gm_err gm_market_key_revoke(struct gm_market *m, const char *handle,
			    const char *passphrase, uint64_t *after,
			    struct gm_diag *d)
{
	struct gm_publisher_state s;
	struct gm_key k;
	struct gm_record r;
	uint64_t now = (uint64_t)time(NULL);
	char *path;
	gm_err e;

	e = gm_ingest_publisher_state(m->reg, handle, &s, d);
	if (e)
		return e;
	e = gm_key_load(&k, m->keys, handle, passphrase, d);
	if (e)
		return e;
	e = gm_registry_release_seq_max(m->reg, k.pk, after, d);
	if (e)
		goto out;
	gm_record_init(&r, GM_RECORD_REVOCATION);
	snprintf(r.revocation.handle, sizeof(r.revocation.handle), "%s",
		 handle);
	memcpy(r.revocation.key, k.pk, sizeof(r.revocation.key));
	memcpy(r.revocation.by, k.pk, sizeof(r.revocation.by));
	r.revocation.after = *after;
	r.revocation.seq = s.seq + 1;
	r.revocation.time = now;
	e = sign_and_ingest(m, &r, &k, NULL, d);
	if (e)
		goto out;
	path = gm_key_path(m->keys, handle);
	e = path ? gm_key_mark_revoked(path, now, d) : GM_ENOMEM;
	gm_free(path);
out:
	gm_key_release(&k);
	return e;
}

gm_err gm_market_find_publisher(struct gm_market *m, const char *what,
				struct gm_publisher_row *out,
				struct gm_diag *d)
{
	struct gm_publisher_row *all = NULL;
	size_t n = 0, i, hits = 0, hit = 0;
	const char *needle = what;
	gm_err e;

	if (!strncmp(needle, "SHA256:", 7))
		needle += 7;
	e = gm_registry_list_publishers(m->reg, &all, &n, d);
	if (e)
		return e;
	for (i = 0; i < n; i++) {
		const char *f = all[i].fingerprint + 7;
		bool match = (strlen(needle) >= 8 &&
			      !strncmp(f, needle, strlen(needle))) ||
			     (all[i].handle && !strcmp(all[i].handle, what) &&
			      !all[i].has_successor);

		if (match) {
			hits++;
			hit = i;
		}
	}
	if (hits == 1) {
		*out = all[hit];
		memset(&all[hit], 0, sizeof(all[hit]));
	} else if (hits == 0) {
		e = gm_diag_set(d, GM_ENOENT,
				"no publisher '%s' is known here; `ggen market "
				"trust list` shows the keys this registry "
				"has seen",
				what);
	} else {
		e = gm_diag_set(d, GM_EUSAGE,
				"'%s' matches %zu keys; give more of the "
				"fingerprint",
				what, hits);
	}
	for (i = 0; i < n; i++)
		gm_publisher_row_release(&all[i]);
	gm_free(all);
	return e;
}

gm_err gm_market_cid(const char *path, struct gm_unixfs_result *res,
		     struct gm_diag *d)
{
	return gm_unixfs_import_path(path, NULL, NULL, res, d);
}

gm_err gm_market_add(struct gm_market *m, const char *path, bool pin,
		     struct gm_unixfs_result *res, struct gm_diag *d)
{
	struct gm_block_sink sink;
	gm_err e;

	gm_store_sink(m->store, &sink);
	e = gm_unixfs_import_path(path, &sink, NULL, res, d);
	if (e)
		return e;
	/* Every block is durable before anything refers to the root. */
	e = gm_store_sync(m->store, d);
	if (e)
		return e;
	if (pin)
		e = gm_store_pin_add(m->store, &res->root, d);
	return e;
}

gm_err gm_market_get(struct gm_market *m, const struct gm_cid *root,
		     const char *out_path, struct gm_diag *d)
{
	struct gm_block_source src;

	gm_store_source(m->store, &src);
	return gm_unixfs_export(&src, root, out_path, NULL, d);
}

gm_err gm_market_car_export(struct gm_market *m, const struct gm_cid *root,
			    const char *out_path,
			    struct gm_car_export_result *res,
			    struct gm_diag *d)
{
	struct gm_block_source src;
	struct gm_fs_tmp t;
	struct stat st;
	gm_err e;

	if (lstat(out_path, &st) == 0 && !S_ISREG(st.st_mode))
		return gm_diag_set(d, GM_EEXIST,
				   "'%s' exists and is not a regular file; "
				   "choose another output path",
				   out_path);
	e = gm_fs_tmp_open(&t, out_path, 0644, d);
	if (e)
		return e;
	gm_store_source(m->store, &src);
	e = gm_car_export_fd(&src, root, t.fd, res, d);
	if (e) {
		gm_fs_tmp_abort(&t);
		return e;
	}
	return gm_fs_tmp_commit(&t, d);
}

gm_err gm_market_car_import(struct gm_market *m, const char *path,
			    struct gm_car_import_result *res,
			    struct gm_diag *d)
{
	return gm_car_import_path(m->store, path, GM_CAR_IMPORT_PIN_ROOTS, res,
				  d);
}

/* ---- gc: the registry is the record of what the store must keep ---- */

struct roots {
	struct gm_cid *v;
	size_t n, cap;
};

static gm_err roots_add(struct roots *r, const struct gm_cid *c)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct gm_cid *v = gm_reallocarray(r->v, cap, sizeof(*v));

		if (!v)
			return GM_ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = *c;
	return GM_OK;
}

static gm_err roots_add_text(struct roots *r, const char *text)
{
	struct gm_cid c;

	if (!text || gm_cid_parse(&c, text, strlen(text), NULL))
		return GM_OK;
	return roots_add(r, &c);
}

static gm_err registry_roots(struct gm_market *m, struct roots *r,
			     struct gm_diag *d)
{
	struct gm_release_list pk;
	struct gm_publisher_row *pubs = NULL;
	size_t i, j, n_pubs = 0;
	gm_err e;

	e = gm_registry_list_packages(m->reg, 0, 0, &pk, d);
	for (i = 0; !e && i < pk.n; i++) {
		struct gm_release_list all;

		e = gm_registry_find_releases(m->reg, pk.rows[i].ns,
					      pk.rows[i].name, &all, d);
		for (j = 0; !e && j < all.n; j++) {
			e = roots_add_text(r, all.rows[j].root_cid);
			if (!e)
				e = roots_add_text(r, all.rows[j].record_cid);
		}
		gm_release_list_free(&all);
	}
	gm_release_list_free(&pk);
	if (!e)
		e = gm_registry_list_publishers(m->reg, &pubs, &n_pubs, d);
	for (i = 0; i < n_pubs; i++) {
		struct gm_trust_record_list l;

		if (!e && pubs[i].handle &&
		    !(e = gm_registry_trust_records(m->reg, pubs[i].handle, &l,
						    d))) {
			for (j = 0; !e && j < l.n; j++)
				e = roots_add_text(r, l.v[j].cid);
			gm_trust_record_list_free(&l);
		}
		gm_publisher_row_release(&pubs[i]);
	}
	gm_free(pubs);
	return e;
}

gm_err gm_market_gc(struct gm_market *m, struct gm_store_gc_result *res,
		    struct gm_diag *d)
{
	struct roots r = {NULL, 0, 0};
	gm_err e = registry_roots(m, &r, d);

	if (!e)
		e = gm_store_gc_roots(m->store, r.v, r.n, res, d);
	gm_free(r.v);
	return e;
}

/* ---- repair (gm/rebuild.h): quarantine, rebuild, content states ---- */

gm_err gm_market_repair(const char *home, const struct gm_market_repair_cb *cb,
			struct gm_market_repair_result *res, struct gm_diag *d)
{
	static const struct gm_market_repair_cb none = {NULL, NULL, NULL};
	struct gm_rebuild_opts o = {NULL, 0};
	struct gm_market *m = NULL;
	struct gm_store *store = NULL;
	char *blocks, *db, *keys;
	gm_err e;

	if (!cb)
		cb = &none;
	memset(res, 0, sizeof(*res));
	blocks = gm_path_join(home, "blocks");
	db = gm_path_join(home, "registry.db");
	keys = gm_path_join(home, "keys");
	if (!blocks || !db || !keys) {
		e = GM_ENOMEM;
		goto out;
	}
	snprintf(res->quarantine_dir, sizeof(res->quarantine_dir), "%s/%s",
		 blocks, GM_REBUILD_QUARANTINE);
	o.keys_dir = keys;
	e = gm_fs_mkdir_p(home, 0700, d);
	if (!e)
		e = gm_store_open(&store, blocks, d);
	if (!e)
		e = gm_rebuild_quarantine(store, blocks, cb->quarantined,
					  cb->ctx, &res->blocks, d);
	if (e)
		goto out;
	{
		struct gm_diag dd;

		gm_diag_clear(&dd);
		e = gm_rebuild_db_damaged(db, &res->db_damaged, &dd);
		if (e) {
			*d = dd;
			goto out;
		}
		snprintf(res->db_problem, sizeof(res->db_problem), "%s",
			 dd.msg);
	}
	if (res->db_damaged) {
		e = gm_rebuild_registry_file(db, store, &o, &res->records,
					     res->moved_to,
					     sizeof(res->moved_to), d);
		if (e)
			goto out;
		res->db_rebuilt = true;
	}
	gm_store_close(store);
	store = NULL;
	e = gm_market_open(&m, home, d);
	if (!e && !res->db_rebuilt)
		e = gm_rebuild_registry(m->reg, m->store, &o, &res->records,
					d);
	if (!e)
		e = gm_rebuild_refresh_content(m->reg, m->store,
					       cb->incomplete, cb->ctx,
					       &res->incomplete, d);
out:
	gm_market_close(m);
	gm_store_close(store);
	gm_free(keys);
	gm_free(db);
	gm_free(blocks);
	return e;
}
