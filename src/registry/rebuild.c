/*
 * rebuild.c - the registry rebuilt from the record blocks of the store,
 * damaged blocks quarantined, content states recomputed (see
 * gm/rebuild.h for what is recovered and what is not).
 *
 * A rebuild reads the store twice: a first pass classifies every block
 * (records are kept as small entries: CID, phase, handle, sequence, time,
 * signer), the entries are sorted into the replay order, and a second pass
 * reads each record block again and hands its bytes to gm_ingest_record().
 * Nothing is trusted from the first pass but the order: the ingest decodes
 * and verifies every record itself.
 *
 * Files next to the database during a rebuild:
 *
 *   | path                          | what                                 |
 *   |-------------------------------|--------------------------------------|
 *   | registry.db.rebuild(-wal,-shm)| the new database being built         |
 *   | registry.db.corrupt-<UTC>     | the damaged database, kept for good  |
 *   |   (-wal, -shm)                |                                      |
 */
#include "internal.h"

#include <time.h>

#include "gm/dagcbor.h"
#include "gm/fs.h"
#include "gm/ingest.h"
#include "gm/rebuild.h"
#include "gm/record.h"

#define REBUILD_SUFFIX ".rebuild"
#define ASIDE_TRIES 100

/* ---- results ---- */

void gm_rebuild_result_init(struct gm_rebuild_result *res)
{
	memset(res, 0, sizeof(*res));
}

void gm_rebuild_result_release(struct gm_rebuild_result *res)
{
	if (!res)
		return;
	gm_free(res->untrusted);
	gm_rebuild_result_init(res);
}

static void note_cid(char list[][GM_CID_MAX_STR], uint64_t n, const char *text,
		     char *reason, const struct gm_diag *d)
{
	if (n < GM_REBUILD_SHOW)
		snprintf(list[n], GM_CID_MAX_STR, "%s", text);
	if (n == 0 && d)
		snprintf(reason, GM_DIAG_MAX, "%s", d->msg);
}

/* ---- pass 1: which blocks are records ---- */

enum phase {
	PHASE_PUBLISHER = 0, /* publisher and rotation records */
	PHASE_REVOCATION = 1,
	PHASE_RELEASE = 2,
};

struct entry {
	struct gm_cid cid; /* as the store names it (raw codec) */
	enum phase phase;
	char handle[GM_PACKAGE_NAME_MAX + 1]; /* namespace for a release */
	uint64_t seq;
	uint64_t time;
	uint8_t signer[GM_KEY_PUBLIC_BYTES];
	uint8_t signer2[GM_KEY_PUBLIC_BYTES]; /* a rotation's new key */
	bool has_signer2;
	bool held; /* pass 2: a release held back for trust */
};

struct scan {
	struct gm_store *store;
	struct gm_rebuild_result *res;
	struct gm_buf buf;
	struct entry *v;
	size_t n, cap;
	gm_err err; /* what stopped the iteration */
	struct gm_diag *d;
};

/* Whether a decoded CBOR document is shaped like a record (a map whose
 * "t" names a record type), so failing to verify it is worth a report. */
static bool record_shaped(const uint8_t *p, size_t len, gm_err *err)
{
	static const char *const types[] = {"publisher", "release", "rotation",
					    "revocation"};
	struct gm_dagcbor_doc doc;
	const struct gm_cbor *t;
	bool shaped = false;
	size_t i;
	gm_err e;

	*err = GM_OK;
	/* a CBOR map head: major type 5 */
	if (!len || (p[0] & 0xe0) != 0xa0)
		return false;
	e = gm_dagcbor_decode(&doc, p, len, NULL);
	if (e == GM_ENOMEM) {
		*err = e;
		return false;
	}
	if (e)
		return false;
	t = gm_cbor_map_get(doc.root, "t");
	for (i = 0; t && i < GM_ARRAY_LEN(types) && !shaped; i++)
		shaped = gm_cbor_text_is(t, types[i]);
	gm_dagcbor_doc_release(&doc);
	return shaped;
}

static void record_text(const uint8_t *p, size_t len, char *out)
{
	struct gm_cid c;

	if (gm_record_cid(p, len, &c) == GM_OK)
		gm_cid_format(&c, out, GM_CID_MAX_STR);
	else
		snprintf(out, GM_CID_MAX_STR, "?");
}

static void fill_entry(struct entry *en, const struct gm_record *r)
{
	const char *slash;
	size_t nl;

	switch (r->type) {
	case GM_RECORD_PUBLISHER:
		en->phase = PHASE_PUBLISHER;
		snprintf(en->handle, sizeof(en->handle), "%s",
			 r->publisher.handle);
		en->seq = r->publisher.seq;
		en->time = r->publisher.time;
		memcpy(en->signer, r->publisher.key, sizeof(en->signer));
		break;
	case GM_RECORD_ROTATION:
		en->phase = PHASE_PUBLISHER;
		snprintf(en->handle, sizeof(en->handle), "%s",
			 r->rotation.handle);
		en->seq = r->rotation.seq;
		en->time = r->rotation.time;
		memcpy(en->signer, r->rotation.old_key, sizeof(en->signer));
		memcpy(en->signer2, r->rotation.new_key, sizeof(en->signer2));
		en->has_signer2 = true;
		break;
	case GM_RECORD_REVOCATION:
		en->phase = PHASE_REVOCATION;
		snprintf(en->handle, sizeof(en->handle), "%s",
			 r->revocation.handle);
		en->seq = r->revocation.seq;
		en->time = r->revocation.time;
		memcpy(en->signer, r->revocation.by, sizeof(en->signer));
		break;
	default:
		en->phase = PHASE_RELEASE;
		slash = strchr(r->release.package, '/');
		nl = slash ? (size_t)(slash - r->release.package) : 0;
		snprintf(en->handle, sizeof(en->handle), "%.*s", (int)nl,
			 r->release.package);
		en->seq = r->release.seq;
		en->time = r->release.time;
		memcpy(en->signer, r->release.key, sizeof(en->signer));
		break;
	}
}

static gm_err scan_one(void *ctx, const struct gm_cid *cid, uint64_t size)
{
	struct scan *s = ctx;
	struct gm_record r;
	struct gm_diag rd;
	struct entry *en;
	char text[GM_CID_MAX_STR];
	gm_err e;

	s->res->blocks++;
	if (size > GM_RECORD_MAX)
		return GM_OK; /* content, never a record */
	gm_buf_reset(&s->buf);
	e = gm_store_get(s->store, cid, &s->buf, NULL);
	if (e == GM_ENOMEM)
		goto stop;
	if (e) {
		/* damaged or vanished: quarantine is the place for it */
		s->res->unreadable++;
		return GM_OK;
	}
	if (!record_shaped(s->buf.data, s->buf.len, &e)) {
		if (e)
			goto stop;
		return GM_OK;
	}
	s->res->records++;
	gm_diag_clear(&rd);
	e = gm_record_decode(&r, s->buf.data, s->buf.len, &rd);
	if (e == GM_ENOMEM)
		goto stop;
	if (e) {
		record_text(s->buf.data, s->buf.len, text);
		note_cid(s->res->bad_cids, s->res->bad, text,
			 s->res->bad_reason, &rd);
		s->res->bad++;
		return GM_OK;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct entry *v;

		if (s->n >= GM_REBUILD_RECORDS_MAX) {
			gm_record_release(&r);
			e = gm_diag_set(s->d, GM_ELIMIT,
					"the store holds more than %u record "
					"blocks; a rebuild stops there",
					GM_REBUILD_RECORDS_MAX);
			goto stop;
		}
		v = gm_reallocarray(s->v, cap, sizeof(*v));
		if (!v) {
			gm_record_release(&r);
			e = GM_ENOMEM;
			goto stop;
		}
		s->v = v;
		s->cap = cap;
	}
	en = &s->v[s->n++];
	memset(en, 0, sizeof(*en));
	en->cid = *cid;
	fill_entry(en, &r);
	gm_record_release(&r);
	return GM_OK;
stop:
	s->err = e;
	return e;
}

static int u64_cmp(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c;

	if (x->phase != y->phase)
		return (int)x->phase - (int)y->phase;
	c = strcmp(x->handle, y->handle);
	if (!c)
		c = u64_cmp(x->seq, y->seq);
	if (!c && x->phase == PHASE_RELEASE)
		c = u64_cmp(x->time, y->time);
	if (!c)
		c = memcmp(x->cid.digest, y->cid.digest, sizeof(x->cid.digest));
	return c;
}

/* ---- pass 2: the ingest ---- */

struct own {
	struct gm_key *keys;
	size_t n;
};

static bool own_key(const struct own *own, const uint8_t *pk)
{
	size_t i;

	for (i = 0; i < own->n; i++)
		if (!memcmp(own->keys[i].pk, pk, GM_KEY_PUBLIC_BYTES))
			return true;
	return false;
}

/* A release refused for trust: held back when its publisher is known and
 * merely untrusted (a `trust add` brings it back), refused otherwise. */
static gm_err held_back(struct gm_registry *reg, const struct entry *en,
			bool *held, struct gm_diag *d)
{
	struct gm_publisher_state s;
	gm_err e;

	*held = false;
	e = gm_ingest_publisher_state(reg, en->handle, &s, d);
	if (e)
		return e;
	*held = s.known && s.trust < GM_TRUST_MARGINAL;
	return GM_OK;
}

static gm_err ingest_one(struct gm_registry *reg, struct gm_store *store,
			 struct entry *en, const struct own *own, uint64_t now,
			 struct gm_buf *buf, struct gm_rebuild_result *res,
			 struct gm_diag *d)
{
	struct gm_ingest_result ir;
	struct gm_diag rd;
	char text[GM_CID_MAX_STR];
	bool held;
	gm_err e;

	gm_buf_reset(buf);
	e = gm_store_get(store, &en->cid, buf, d);
	if (e == GM_ENOMEM)
		return e;
	if (e) {
		/* changed since pass 1 */
		gm_diag_clear(d);
		res->unreadable++;
		return GM_OK;
	}
	gm_diag_clear(&rd);
	e = gm_ingest_record(reg, store, buf->data, buf->len, 0, now, &ir, &rd);
	if (e == GM_ENOMEM || e == GM_EIO || e == GM_ENOSPC ||
	    e == GM_ETIMEOUT || e == GM_EPERM || e == GM_ECORRUPT) {
		if (d)
			*d = rd;
		return e;
	}
	if (e == GM_EINTEGRITY && ir.outcome == GM_INGEST_EQUIVOCATION) {
		res->equivocations++;
		e = GM_OK;
	} else if (!e && ir.outcome == GM_INGEST_DUPLICATE) {
		res->duplicates++;
		return GM_OK;
	}
	if (!e) {
		res->added++;
		if (own_key(own, en->signer) ||
		    (en->has_signer2 && own_key(own, en->signer2))) {
			gm_cid_format(&ir.cid, text, sizeof(text));
			e = gm_registry_outbox_add(reg, text, (int64_t)now, d);
			if (!e)
				res->requeued++;
		}
		return e;
	}
	if (e == GM_ETRUST && en->phase == PHASE_RELEASE) {
		gm_err he = held_back(reg, en, &held, d);

		if (he)
			return he;
		if (held) {
			en->held = true;
			res->held_back++;
			return GM_OK;
		}
	}
	record_text(buf->data, buf->len, text);
	note_cid(res->refused_cids, res->refused, text, res->refused_reason,
		 &rd);
	res->refused++;
	return GM_OK;
}

/*
 * Own keys made here get their ultimate trust back (see gm/rebuild.h). In
 * a fresh registry no row holds a user decision (a rotation pins the new
 * key at the handle's level); in a sound one a pinned row is one.
 */
static gm_err restore_own(struct gm_registry *reg, const struct own *own,
			  bool fresh, struct gm_rebuild_result *res,
			  struct gm_diag *d)
{
	size_t i;
	gm_err e = GM_OK;

	for (i = 0; !e && i < own->n; i++) {
		const struct gm_key *k = &own->keys[i];
		struct gm_publisher_state s;
		struct gm_publisher_row row;
		bool untouched;

		e = gm_ingest_publisher_state(reg, k->handle, &s, d);
		if (e || !s.known || memcmp(s.key, k->pk, sizeof(s.key)))
			continue;
		e = gm_registry_get_publisher(reg, k->pk, &row, d);
		if (e == GM_ENOENT) {
			gm_diag_clear(d);
			e = GM_OK;
			continue;
		}
		if (e)
			break;
		untouched =
		    row.trust < GM_TRUST_MARGINAL && (fresh || !row.pinned);
		gm_publisher_row_release(&row);
		if (!untouched)
			continue;
		e = gm_registry_set_trust(reg, k->pk, GM_TRUST_ULTIMATE, true,
					  d);
		if (!e)
			res->own_restored++;
	}
	return e;
}

/* Publishers whose current key is untrusted, with their held-back count. */
static gm_err list_untrusted(struct gm_registry *reg, const struct entry *v,
			     size_t n, struct gm_rebuild_result *res,
			     struct gm_diag *d)
{
	struct gm_publisher_row *pubs = NULL;
	size_t n_pubs = 0, i, j;
	gm_err e;

	e = gm_registry_list_publishers(reg, &pubs, &n_pubs, d);
	if (e)
		return e;
	if (n_pubs) {
		res->untrusted = gm_calloc(n_pubs, sizeof(*res->untrusted));
		if (!res->untrusted)
			e = GM_ENOMEM;
	}
	for (i = 0; !e && i < n_pubs; i++) {
		struct gm_rebuild_untrusted *u;

		if (!pubs[i].handle || pubs[i].has_successor ||
		    pubs[i].trust >= GM_TRUST_MARGINAL)
			continue;
		u = &res->untrusted[res->n_untrusted++];
		snprintf(u->handle, sizeof(u->handle), "%s", pubs[i].handle);
		snprintf(u->fingerprint, sizeof(u->fingerprint), "%s",
			 pubs[i].fingerprint);
		for (j = 0; j < n; j++)
			if (v[j].held && !strcmp(v[j].handle, u->handle))
				u->held_back++;
	}
	for (i = 0; i < n_pubs; i++)
		gm_publisher_row_release(&pubs[i]);
	gm_free(pubs);
	return e;
}

static gm_err load_own(const char *keys_dir, struct own *own)
{
	struct gm_diag kd;
	gm_err e;

	own->keys = NULL;
	own->n = 0;
	if (!keys_dir)
		return GM_OK;
	e = gm_key_list(keys_dir, &own->keys, &own->n, &kd);
	if (e == GM_ENOMEM)
		return e;
	if (e) {
		/* a malformed key file: no key counts as ours */
		own->keys = NULL;
		own->n = 0;
	}
	return GM_OK;
}

static gm_err rebuild(struct gm_registry *reg, struct gm_store *store,
		      const struct gm_rebuild_opts *o, bool fresh,
		      struct gm_rebuild_result *res, struct gm_diag *d)
{
	struct scan s;
	struct own own = {NULL, 0};
	uint64_t now = o && o->now ? o->now : (uint64_t)time(NULL);
	size_t i;
	gm_err e;

	gm_rebuild_result_init(res);
	memset(&s, 0, sizeof(s));
	s.store = store;
	s.res = res;
	s.d = d;
	gm_buf_init(&s.buf, GM_RECORD_MAX);
	e = gm_store_iterate(store, scan_one, &s, d);
	if (s.err)
		e = s.err;
	if (e)
		goto out;
	if (s.n)
		qsort(s.v, s.n, sizeof(*s.v), entry_cmp);
	e = load_own(o ? o->keys_dir : NULL, &own);
	for (i = 0; !e && i < s.n && s.v[i].phase != PHASE_RELEASE; i++)
		e = ingest_one(reg, store, &s.v[i], &own, now, &s.buf, res, d);
	if (!e)
		e = restore_own(reg, &own, fresh, res, d);
	for (; !e && i < s.n; i++)
		e = ingest_one(reg, store, &s.v[i], &own, now, &s.buf, res, d);
	if (e)
		goto out;
	e = list_untrusted(reg, s.v, s.n, res, d);
out:
	gm_free(own.keys);
	gm_free(s.v);
	gm_buf_release(&s.buf);
	return e;
}

gm_err gm_rebuild_registry(struct gm_registry *reg, struct gm_store *store,
			   const struct gm_rebuild_opts *o,
			   struct gm_rebuild_result *res, struct gm_diag *d)
{
	return rebuild(reg, store, o, false, res, d);
}

/* ---- the database file ---- */

gm_err gm_rebuild_db_damaged(const char *db_path, bool *damaged,
			     struct gm_diag *d)
{
	struct gm_registry *reg;
	gm_err e;

	*damaged = false;
	gm_diag_clear(d);
	e = gm_registry_open(&reg, db_path, d);
	if (e == GM_ECORRUPT) {
		*damaged = true;
		return GM_OK;
	}
	if (e)
		return e;
	e = gm_registry_check(reg, d);
	gm_registry_close(reg);
	if (e == GM_ECORRUPT) {
		*damaged = true;
		return GM_OK;
	}
	if (!e)
		gm_diag_clear(d);
	return e;
}

/* path + suffix as a new string; NULL on ENOMEM. */
static char *with_suffix(const char *path, const char *suffix)
{
	size_t n = strlen(path) + strlen(suffix) + 1;
	char *p = gm_malloc(n);

	if (p)
		snprintf(p, n, "%s%s", path, suffix);
	return p;
}

static void unlink_db(const char *path)
{
	static const char *const ext[] = {"", "-wal", "-shm", "-journal"};
	char p[PATH_MAX];
	size_t i;

	for (i = 0; i < GM_ARRAY_LEN(ext); i++) {
		snprintf(p, sizeof(p), "%s%s", path, ext[i]);
		unlink(p);
	}
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* <db>.corrupt-<UTC>[-N] that nothing uses yet, with its -wal and -shm. */
static gm_err aside_name(const char *db_path, uint64_t now, char *out,
			 size_t cap, struct gm_diag *d)
{
	char stamp[32], w[PATH_MAX], s[PATH_MAX];
	time_t t = (time_t)now;
	struct tm tm;
	int i;

	if (!gmtime_r(&t, &tm))
		return gm_diag_set(d, GM_EINVAL,
				   "time %" PRIu64 " is out of "
				   "range",
				   now);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (i = 0; i < ASIDE_TRIES; i++) {
		int n = i ? snprintf(out, cap, "%s.corrupt-%s-%d", db_path,
				     stamp, i)
			  : snprintf(out, cap, "%s.corrupt-%s", db_path, stamp);

		if (n < 0 || (size_t)n >= cap || (size_t)n + 5 > sizeof(w))
			return gm_diag_set(d, GM_ELIMIT,
					   "path '%s' is too long", db_path);
		snprintf(w, sizeof(w), "%s-wal", out);
		snprintf(s, sizeof(s), "%s-shm", out);
		if (!exists(out) && !exists(w) && !exists(s))
			return GM_OK;
	}
	return gm_diag_set(d, GM_EEXIST,
			   "too many %s.corrupt-%s* files; move some away",
			   db_path, stamp);
}

static gm_err move(const char *from, const char *to, struct gm_diag *d)
{
	if (rename(from, to) == 0 || errno == ENOENT)
		return GM_OK;
	return gm_diag_set(d, errno == ENOSPC ? GM_ENOSPC : GM_EIO,
			   "cannot move '%s' to '%s': %s", from, to,
			   strerror(errno));
}

/*
 * Old database aside (its -wal and -shm first, so they never meet the new
 * file; the main file by a hard link, so db_path always names a database),
 * then the new one over db_path.
 */
static gm_err swap_in(const char *db_path, const char *tmp, const char *aside,
		      struct gm_diag *d)
{
	char from[PATH_MAX], to[PATH_MAX], *dir;
	gm_err e = GM_OK;
	size_t i;

	for (i = 0; !e && i < 2; i++) {
		const char *ext = i ? "-shm" : "-wal";

		snprintf(from, sizeof(from), "%s%s", db_path, ext);
		snprintf(to, sizeof(to), "%s%s", aside, ext);
		e = move(from, to, d);
	}
	if (e)
		return e;
	if (exists(db_path) && link(db_path, aside) != 0) {
		e = move(db_path, aside, d);
		if (e)
			return e;
	}
	e = move(tmp, db_path, d);
	if (e)
		return e;
	snprintf(from, sizeof(from), "%s-wal", tmp);
	snprintf(to, sizeof(to), "%s-wal", db_path);
	if (exists(from))
		e = move(from, to, d);
	snprintf(from, sizeof(from), "%s-shm", tmp);
	unlink(from);
	if (e)
		return e;
	dir = gm_strdup(db_path);
	if (!dir)
		return GM_ENOMEM;
	if (strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	else
		snprintf(dir, strlen(dir) + 1, ".");
	e = gm_fs_fsync_dir(*dir ? dir : "/", d);
	gm_free(dir);
	return e;
}

gm_err gm_rebuild_registry_file(const char *db_path, struct gm_store *store,
				const struct gm_rebuild_opts *o,
				struct gm_rebuild_result *res, char *moved_to,
				size_t cap, struct gm_diag *d)
{
	struct gm_registry *reg = NULL;
	uint64_t now = o && o->now ? o->now : (uint64_t)time(NULL);
	char aside[PATH_MAX];
	char *tmp;
	gm_err e;

	gm_rebuild_result_init(res);
	if (moved_to && cap)
		moved_to[0] = '\0';
	if (strlen(db_path) + 32 > PATH_MAX)
		return gm_diag_set(d, GM_ELIMIT, "path '%s' is too long",
				   db_path);
	tmp = with_suffix(db_path, REBUILD_SUFFIX);
	if (!tmp)
		return GM_ENOMEM;
	unlink_db(tmp);
	e = gm_registry_open(&reg, tmp, d);
	if (!e)
		e = rebuild(reg, store, o, true, res, d);
	if (!e)
		e = gm_registry_check(reg, d);
	gm_registry_close(reg);
	if (!e)
		e = aside_name(db_path, now, aside, sizeof(aside), d);
	if (!e)
		e = swap_in(db_path, tmp, aside, d);
	if (e) {
		unlink_db(tmp);
		gm_free(tmp);
		return e;
	}
	gm_free(tmp);
	if (moved_to && cap && exists(aside))
		snprintf(moved_to, cap, "%s", aside);
	return GM_OK;
}

/* ---- damaged blocks ---- */

struct bad_block {
	struct gm_cid cid;
	char key[GM_STORE_KEY_MAX];
	char reason[256];
};

struct bad_list {
	struct bad_block *v;
	size_t n, cap;
	bool oom;
};

static void on_bad(void *ctx, const struct gm_cid *cid, const char *key,
		   const char *reason)
{
	struct bad_list *l = ctx;
	struct bad_block *b;

	if (l->oom)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct bad_block *v = gm_reallocarray(l->v, cap, sizeof(*v));

		if (!v) {
			l->oom = true;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	b = &l->v[l->n++];
	b->cid = *cid;
	snprintf(b->key, sizeof(b->key), "%s", key);
	snprintf(b->reason, sizeof(b->reason), "%s", reason);
}

/* Moves one block file to dir/<KEY>.data (or .data.N when taken). */
static gm_err quarantine_one(struct gm_store *store, const char *qdir,
			     const struct bad_block *b, char *out, size_t cap,
			     struct gm_diag *d)
{
	char *path = gm_store_block_path(store, &b->cid);
	gm_err e = GM_OK;
	int i;

	if (!path)
		return GM_ENOMEM;
	for (i = 0; i < ASIDE_TRIES; i++) {
		if (i)
			snprintf(out, cap, "%s/%s.data.%d", qdir, b->key, i);
		else
			snprintf(out, cap, "%s/%s.data", qdir, b->key);
		if (!exists(out))
			break;
	}
	if (i == ASIDE_TRIES)
		e = gm_diag_set(d, GM_EEXIST,
				"quarantine already holds %d copies of %s; "
				"clear %s",
				ASIDE_TRIES, b->key, qdir);
	if (!e && rename(path, out) != 0)
		e = gm_diag_set(d, GM_EIO, "cannot move '%s' to '%s': %s", path,
				out, strerror(errno));
	gm_free(path);
	return e;
}

gm_err gm_rebuild_quarantine(struct gm_store *store, const char *store_dir,
			     gm_rebuild_quarantine_fn fn, void *ctx,
			     struct gm_rebuild_quarantine_result *res,
			     struct gm_diag *d)
{
	struct gm_rebuild_quarantine_result local;
	struct gm_store_verify_result vr;
	struct bad_list l = {NULL, 0, 0, false};
	char *qdir = NULL;
	char to[PATH_MAX];
	gm_err e, first = GM_OK;
	size_t i;

	if (!res)
		res = &local;
	memset(res, 0, sizeof(*res));
	memset(&vr, 0, sizeof(vr));
	e = gm_store_verify(store, on_bad, &l, &vr, NULL);
	res->checked = vr.checked;
	res->corrupt = vr.corrupt;
	if (l.oom) {
		e = GM_ENOMEM;
		goto out;
	}
	if (e && e != GM_ECORRUPT) {
		/* the scan itself failed: say why */
		e = gm_store_verify(store, NULL, NULL, NULL, d);
		goto out;
	}
	e = GM_OK;
	if (!l.n)
		goto out;
	qdir = gm_path_join(store_dir, GM_REBUILD_QUARANTINE);
	if (!qdir) {
		e = GM_ENOMEM;
		goto out;
	}
	e = gm_fs_mkdir_p(qdir, 0700, d);
	if (e)
		goto out;
	for (i = 0; i < l.n; i++) {
		e = quarantine_one(store, qdir, &l.v[i], to, sizeof(to), d);
		if (e == GM_ENOMEM)
			goto out;
		if (e) {
			if (!first)
				first = e;
			continue;
		}
		res->quarantined++;
		if (fn)
			fn(ctx, &l.v[i].cid, l.v[i].reason, to);
	}
	/* the renames are durable once both folders are synced */
	e = gm_fs_fsync_dir(qdir, d);
	if (!e)
		e = gm_store_sync(store, d);
	if (!e) {
		for (i = 0; !e && i < l.n; i++) {
			char *p = gm_store_block_path(store, &l.v[i].cid);
			char *slash = p ? strrchr(p, '/') : NULL;

			if (!p)
				e = GM_ENOMEM;
			if (slash) {
				*slash = '\0';
				e = gm_fs_fsync_dir(p, d);
			}
			gm_free(p);
		}
	}
	if (!e)
		e = first;
out:
	gm_free(qdir);
	gm_free(l.v);
	return e;
}

/* ---- content states ---- */

static enum gm_content_state content_of(struct gm_store *store,
					const char *root_text)
{
	struct gm_cid root;

	if (!root_text ||
	    gm_cid_parse(&root, root_text, strlen(root_text), NULL))
		return GM_CONTENT_ABSENT;
	if (gm_ingest_dag_complete(store, &root))
		return GM_CONTENT_COMPLETE;
	if (gm_store_has(store, &root))
		return GM_CONTENT_PARTIAL;
	return GM_CONTENT_ABSENT;
}

gm_err gm_rebuild_refresh_content(struct gm_registry *reg,
				  struct gm_store *store,
				  gm_rebuild_content_fn fn, void *ctx,
				  uint64_t *incomplete, struct gm_diag *d)
{
	struct gm_release_list pk;
	uint64_t bad = 0;
	size_t i, j;
	gm_err e;

	e = gm_registry_list_packages(reg, 0, 0, &pk, d);
	for (i = 0; !e && i < pk.n; i++) {
		struct gm_release_list all;

		e = gm_registry_find_releases(reg, pk.rows[i].ns,
					      pk.rows[i].name, &all, d);
		for (j = 0; !e && j < all.n; j++) {
			struct gm_release_row *r = &all.rows[j];
			enum gm_content_state now =
			    content_of(store, r->root_cid);
			bool changed = now != r->content_state;

			if (changed)
				e = gm_registry_set_content_state(reg, r->id,
								  now, d);
			if (e || now == GM_CONTENT_COMPLETE)
				continue;
			bad++;
			if (fn)
				fn(ctx, r, now, changed);
		}
		gm_release_list_free(&all);
	}
	gm_release_list_free(&pk);
	if (incomplete)
		*incomplete = bad;
	return e;
}
