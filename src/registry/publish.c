/*
 * publish.c - a package folder becomes a signed, registered release (see
 * gm/publish.h for the steps and their crash safety).
 */
#include "internal.h"

#include "gm/fs.h"
#include "gm/ignore.h"
#include "gm/log.h"
#include "gm/publish.h"
#include "gm/record.h"
#include "gm/unixfs.h"

#include "registry_int.h"

/* ---- the folder walk: ignore rules and case collisions ---- */

#define SEEN_MAX 1000000

struct walk {
	struct gm_ignore *ig;
	const struct gm_publish_opts *o;
	uint64_t skipped;
	char **seen; /* lower-cased relative paths, sorted at the end */
	size_t n_seen;
	bool oom;
};

static bool walk_filter(void *ctx, const char *rel, const struct stat *st)
{
	struct walk *w = ctx;
	bool dir = S_ISDIR(st->st_mode);
	char **grown;
	char *low;
	size_t i;

	if (gm_ignore_match(w->ig, rel, dir)) {
		w->skipped++;
		gm__note(w->o->note, w->o->note_ctx, "skipped %s%s (%s)", rel, dir ? "/" : "",
		     !strncmp(rel, ".git", 4) || !strncmp(rel, ".ggen", 5)
			     ? "always left out"
			     : "matches .ggenignore");
		return false;
	}
	if (w->n_seen >= SEEN_MAX || w->oom)
		return true;
	low = gm_strdup(rel);
	grown = gm_reallocarray(w->seen, w->n_seen + 1, sizeof(char *));
	if (!low || !grown) {
		gm_free(low);
		if (grown)
			w->seen = grown;
		w->oom = true;
		return true;
	}
	for (i = 0; low[i]; i++)
		if (low[i] >= 'A' && low[i] <= 'Z')
			low[i] = (char)(low[i] - 'A' + 'a');
	w->seen = grown;
	w->seen[w->n_seen++] = low;
	return true;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Two entries whose paths differ only in case cannot be installed on a
 * case-insensitive file system, and the exporter refuses them. */
static gm_err check_case(struct walk *w, struct gm_diag *d)
{
	size_t i;

	if (w->oom)
		return GM_ENOMEM;
	if (w->n_seen)
		qsort(w->seen, w->n_seen, sizeof(char *), str_cmp);
	for (i = 1; i < w->n_seen; i++)
		if (!strcmp(w->seen[i - 1], w->seen[i]))
			return gm_diag_set(
				d, GM_EUNSAFE,
				"two entries are both named '%s' when case is "
				"ignored; rename one (installs on "
				"case-insensitive file systems would clash)",
				w->seen[i]);
	return GM_OK;
}

static void walk_release(struct walk *w)
{
	size_t i;

	for (i = 0; i < w->n_seen; i++)
		gm_free(w->seen[i]);
	gm_free(w->seen);
	gm_ignore_close(w->ig);
}

/* ---- the release record ---- */

static int dep_cmp(const void *a, const void *b)
{
	return strcmp(((const struct gm_rec_dep *)a)->id,
		      ((const struct gm_rec_dep *)b)->id);
}

static gm_err join(char *const *v, size_t n, char sep, struct gm_buf *out)
{
	gm_err e = GM_OK;
	size_t i;

	for (i = 0; !e && i < n; i++) {
		if (i)
			e = gm_buf_append_byte(out, (uint8_t)sep);
		if (!e)
			e = gm_buf_append_str(out, v[i]);
	}
	if (!e && !out->data)
		e = gm_buf_append(out, "", 0);
	return e;
}

static gm_err manifest_digest(const char *dir, uint8_t out[32],
			      struct gm_diag *d)
{
	char *path = gm_path_join(dir, "ggen.toml");
	struct gm_buf b;
	struct stat st;
	gm_err e;

	if (!path)
		return GM_ENOMEM;
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
		gm_free(path);
		return gm_diag_set(d, GM_EUSAGE,
				   "'%s' is not a folder; publish takes the "
				   "package folder that holds ggen.toml",
				   dir);
	}
	gm_buf_init(&b, GM_MANIFEST_MAX_SIZE);
	e = gm_fs_read_file(path, &b, d);
	if (!e)
		gm_sha256(b.data ? b.data : (const uint8_t *)"", b.len, out);
	gm_buf_release(&b);
	gm_free(path);
	return e;
}

static gm_err put_record_block(struct gm_store *store, const struct gm_buf *b,
			       struct gm_cid *cid, struct gm_diag *d)
{
	gm_err e = gm_record_cid(b->data, b->len, cid);

	if (!e)
		e = gm_store_put(store, cid, b->data, b->len, NULL, d);
	return e;
}

/* Makes and stores the publisher record of a key seen for the first time. */
static gm_err make_publisher(struct gm_registry *reg, struct gm_store *store,
			     const struct gm_key *key, uint64_t now,
			     struct gm_buf *rec, struct gm_cid *cid,
			     bool *made, struct gm_diag *d)
{
	struct gm_publisher_row row;
	struct gm_record r;
	gm_err e;

	*made = false;
	e = gm_registry_get_publisher(reg, key->pk, &row, d);
	if (e == GM_OK) {
		gm_publisher_row_release(&row);
		return GM_OK;
	}
	if (e != GM_ENOENT)
		return e;
	gm_diag_clear(d);
	gm_record_init(&r, GM_RECORD_PUBLISHER);
	snprintf(r.publisher.handle, sizeof(r.publisher.handle), "%s",
		 key->handle);
	memcpy(r.publisher.key, key->pk, sizeof(r.publisher.key));
	r.publisher.seq = 1;
	r.publisher.time = now;
	e = gm_record_sign(&r, key, NULL, rec, d);
	if (!e)
		e = put_record_block(store, rec, cid, d);
	gm_record_release(&r);
	*made = !e;
	return e;
}

static gm_err already_published(struct gm_registry *reg,
				const struct gm_manifest *m,
				const char *version, struct gm_diag *d)
{
	struct gm_release_list l;
	gm_err e;

	e = gm_registry_find_release(reg, m->ns, m->name, version, &l, d);
	if (e == GM_ENOENT)
		return GM_OK;
	if (e)
		return e;
	if (l.n) {
		e = gm_diag_set(d, GM_EEXIST,
				"%s/%s@%s is already published (root %s); "
				"versions never change: raise the version in "
				"ggen.toml",
				m->ns, m->name, version,
				l.rows[0].root_cid ? l.rows[0].root_cid : "?");
	}
	gm_release_list_free(&l);
	return e;
}

/*
 * A key this registry knows as revoked or rotated away signs nothing new:
 * importers would refuse the release (its sequence is past the key's last
 * good one), so it must not be registered here either.
 */
static gm_err key_retired(struct gm_registry *reg, const struct gm_key *key,
			  struct gm_diag *d)
{
	struct gm_publisher_row row;
	char fpr[GM_KEY_FPR_MAX];
	gm_err e = gm_registry_get_publisher(reg, key->pk, &row, d);

	if (e == GM_ENOENT) {
		gm_diag_clear(d);
		return GM_OK;
	}
	if (e)
		return e;
	gm_key_fingerprint(key->pk, fpr);
	if (row.has_revoked_after)
		e = gm_diag_set(d, GM_ETRUST,
				"key %s of '%s' is revoked; releases it signs "
				"are refused. Publish with a new handle's key",
				fpr, key->handle);
	else if (row.has_successor)
		e = gm_diag_set(d, GM_ETRUST,
				"key %s of '%s' was rotated out; publish with "
				"the current key in $GGEN_HOME/keys",
				fpr, key->handle);
	gm_publisher_row_release(&row);
	return e;
}

gm_err gm_publish(struct gm_registry *reg, struct gm_store *store,
		  const struct gm_publish_opts *o,
		  struct gm_publish_result *res, struct gm_diag *d)
{
	struct gm_manifest m;
	struct walk w = {0};
	struct gm_unixfs_import_opts iopts;
	struct gm_unixfs_result ur;
	struct gm_block_sink sink;
	struct gm_rec_dep *deps = NULL;
	struct gm_buf kw, cats, auth, pubrec, relrec;
	struct gm_record r;
	struct gm_release_row row;
	struct gm_registry_dep *rdeps = NULL;
	struct gm_cid pub_cid;
	char root_text[GM_CID_MAX_STR], rec_text[GM_CID_MAX_STR];
	char pub_text[GM_CID_MAX_STR], fpr[GM_KEY_FPR_MAX];
	uint8_t digest[32];
	uint64_t now = o->now ? o->now : (uint64_t)time(NULL);
	uint64_t seq = 0;
	bool made_pub = false, in_tx = false;
	size_t i;
	gm_err e;

	memset(res, 0, sizeof(*res));
	gm_manifest_init(&m);
	gm_buf_init(&kw, 1 << 20);
	gm_buf_init(&cats, 1 << 20);
	gm_buf_init(&auth, 1 << 20);
	gm_buf_init(&pubrec, GM_RECORD_MAX);
	gm_buf_init(&relrec, GM_RECORD_MAX);
	gm_record_init(&r, GM_RECORD_RELEASE);

	/* 1. the manifest, the key, the version */
	e = gm_manifest_load(&m, o->dir, d);
	if (e)
		goto out;
	snprintf(res->ns, sizeof(res->ns), "%s", m.ns);
	snprintf(res->name, sizeof(res->name), "%s", m.name);
	gm_semver_format(&m.version, res->version, sizeof(res->version));
	res->kind = m.kind;
	if (o->require_kind != GM_PACKAGE_NONE && m.kind != o->require_kind) {
		e = gm_diag_set(d, GM_EUSAGE,
				"%s/%s is a %s package; %s",
				m.ns, m.name, gm_package_kind_name(m.kind),
				o->require_kind == GM_PACKAGE_VALIDATOR
					? "`clnrm validator publish` publishes "
					  "validators only (use `ggen market "
					  "publish`)"
					: "use `clnrm validator publish` for "
					  "validators");
		goto out;
	}
	if (!o->dry_run && (!o->key || !o->key->has_secret)) {
		e = gm_diag_set(d, GM_EINVAL, "no signing key with its secret");
		goto out;
	}
	if (o->key && strcmp(o->key->handle, m.ns)) {
		e = gm_diag_set(d, GM_ETRUST,
				"the key of '%s' cannot publish in namespace "
				"'%s'; use the key of '%s' (ggen market key "
				"generate --handle %s)",
				o->key->handle, m.ns, m.ns, m.ns);
		goto out;
	}
	e = already_published(reg, &m, res->version, d);
	if (!e && o->key)
		e = key_retired(reg, o->key, d);
	if (e)
		goto out;
	if (m.has_plugin) {
		char *entry = gm_path_join(o->dir, m.plugin.entry);
		struct stat st;

		if (!entry) {
			e = GM_ENOMEM;
			goto out;
		}
		if (lstat(entry, &st) != 0 || !S_ISREG(st.st_mode))
			e = gm_diag_set(d, GM_EFORMAT,
					"[plugin] entry '%s' is not a file in "
					"the package; build the module first",
					m.plugin.entry);
		gm_free(entry);
		if (e)
			goto out;
	}
	e = manifest_digest(o->dir, digest, d);
	if (e)
		goto out;

	/* 2 and 3. the content */
	e = gm_ignore_open(&w.ig, o->dir, d);
	if (e)
		goto out;
	w.o = o;
	iopts.filter = walk_filter;
	iopts.filter_ctx = &w;
	if (!o->dry_run)
		gm_store_sink(store, &sink);
	e = gm_unixfs_import_path(o->dir, o->dry_run ? NULL : &sink, &iopts,
				  &ur, d);
	if (!e)
		e = check_case(&w, d);
	if (e)
		goto out;
	res->root = ur.root;
	res->size = ur.content_bytes;
	res->files = ur.files;
	res->blocks = ur.blocks;
	res->skipped = w.skipped;
	if (o->dry_run)
		goto out;
	e = gm_store_sync(store, d);
	if (e)
		goto out;

	/* 4. the records */
	e = make_publisher(reg, store, o->key, now, &pubrec, &pub_cid,
			   &made_pub, d);
	if (e)
		goto out;
	res->new_publisher = made_pub;
	e = gm_registry_release_seq_max(reg, o->key->pk, &seq, d);
	if (e)
		goto out;
	seq++;
	res->seq = seq;
	if (m.n_deps) {
		deps = gm_calloc(m.n_deps, sizeof(*deps));
		rdeps = gm_calloc(m.n_deps, sizeof(*rdeps));
		if (!deps || !rdeps) {
			e = GM_ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < m.n_deps; i++) {
		size_t idlen = strlen(m.deps[i].ns) + strlen(m.deps[i].name) + 2;
		char *id = gm_malloc(idlen);

		if (!id) {
			e = GM_ENOMEM;
			goto out;
		}
		snprintf(id, idlen, "%s/%s", m.deps[i].ns, m.deps[i].name);
		deps[i].id = id;
		deps[i].req = m.deps[i].req_text;
		rdeps[i].ns = m.deps[i].ns;
		rdeps[i].name = m.deps[i].name;
		rdeps[i].req = m.deps[i].req_text;
	}
	if (m.n_deps)
		qsort(deps, m.n_deps, sizeof(*deps), dep_cmp);
	{
		char id[2 * GM_PACKAGE_NAME_MAX + 2];
		struct gm_rec_release *rel = &r.release;

		snprintf(id, sizeof(id), "%s/%s", m.ns, m.name);
		rel->package = id;
		rel->version = res->version;
		rel->kind = m.kind;
		rel->root = ur.root;
		memcpy(rel->manifest, digest, 32);
		rel->deps = deps;
		rel->ndeps = m.n_deps;
		rel->size = ur.content_bytes;
		memcpy(rel->key, o->key->pk, sizeof(rel->key));
		rel->seq = seq;
		rel->time = now;
		rel->meta.description = m.description;
		rel->meta.license = m.license;
		rel->meta.keywords = (const char *const *)m.keywords;
		rel->meta.nkeywords = m.n_keywords;
		rel->meta.categories = (const char *const *)m.categories;
		rel->meta.ncategories = m.n_categories;
		rel->meta.authors = (const char *const *)m.authors;
		rel->meta.nauthors = m.n_authors;
		rel->meta.homepage = m.homepage;
		rel->meta.repository = m.repository;
		e = gm_record_sign(&r, o->key, NULL, &relrec, d);
		rel->package = NULL; /* id goes out of scope */
	}
	if (!e)
		e = put_record_block(store, &relrec, &res->record, d);
	if (!e)
		e = gm_store_sync(store, d);
	if (e)
		goto out;
	/*
	 * No pins: the registry is the record of what the store must keep
	 * (gm_market_gc keeps every registered release), so a crash before
	 * the commit leaves nothing that keeps these blocks alive.
	 */

	/* 5. one transaction */
	e = join(m.keywords, m.n_keywords, ' ', &kw);
	if (!e)
		e = join(m.categories, m.n_categories, ' ', &cats);
	if (!e)
		e = join(m.authors, m.n_authors, '\n', &auth);
	if (e)
		goto out;
	gm_cid_format(&ur.root, root_text, sizeof(root_text));
	gm_cid_format(&res->record, rec_text, sizeof(rec_text));
	gm_key_fingerprint(o->key->pk, fpr);
	e = gm_registry_begin(reg, d);
	if (e)
		goto out;
	in_tx = true;
	if (made_pub) {
		struct gm_publisher_row p;

		memset(&p, 0, sizeof(p));
		memcpy(p.key, o->key->pk, sizeof(p.key));
		p.fingerprint = fpr;
		p.handle = o->key->handle;
		p.seq = 1;
		p.record = pubrec.data;
		p.record_len = pubrec.len;
		p.trust = GM_TRUST_ULTIMATE;
		p.first_seen = (int64_t)now;
		p.pinned = true;
		e = gm_registry_upsert_publisher(reg, &p, d);
		gm_cid_format(&pub_cid, pub_text, sizeof(pub_text));
		if (!e)
			e = gm_registry_add_trust_record(
				reg, pub_text, o->key->handle,
				GM_RECORD_PUBLISHER, 1, pubrec.data,
				pubrec.len, (int64_t)now, d);
		if (!e)
			e = gm_registry_outbox_add(reg, pub_text,
						   (int64_t)now, d);
		if (e)
			goto out;
	}
	memset(&row, 0, sizeof(row));
	row.ns = m.ns;
	row.name = m.name;
	row.version = res->version;
	row.semver = m.version;
	row.kind = gm_package_kind_name(m.kind);
	row.description = m.description;
	row.license = m.license;
	row.keywords = (const char *)kw.data;
	row.categories = (const char *)cats.data;
	row.authors = (const char *)auth.data;
	row.homepage = m.homepage;
	row.repository = m.repository;
	row.root_cid = root_text;
	row.manifest_digest = digest;
	row.manifest_digest_len = 32;
	row.size = ur.content_bytes;
	row.publisher = o->key->pk;
	row.seq = seq;
	row.record_cid = rec_text;
	row.record = relrec.data;
	row.record_len = relrec.len;
	row.published_at = (int64_t)now;
	row.content_state = GM_CONTENT_COMPLETE;
	row.deps = rdeps;
	row.n_deps = m.n_deps;
	e = gm_registry_insert_release(reg, &row, NULL, d);
	if (!e)
		e = gm_registry_outbox_add(reg, rec_text, (int64_t)now, d);
	if (!e)
		e = gm_registry_commit(reg, d);
	if (!e)
		in_tx = false;

out:
	if (in_tx)
		gm_registry_rollback(reg, NULL);
	for (i = 0; deps && i < m.n_deps; i++)
		gm_free((char *)deps[i].id);
	gm_free(deps);
	gm_free(rdeps);
	gm_record_release(&r);
	gm_buf_release(&relrec);
	gm_buf_release(&pubrec);
	gm_buf_release(&auth);
	gm_buf_release(&cats);
	gm_buf_release(&kw);
	walk_release(&w);
	gm_manifest_release(&m);
	return e;
}
