/*
 * test_rebuild.c - the registry rebuilt from the record blocks of the
 * store, damaged blocks quarantined (gm/rebuild.h).
 *
 *   | test                              | what                             |
 *   |-----------------------------------|----------------------------------|
 *   | rebuild_restores_releases         | 3 releases, 2 publishers, one    |
 *   |                                   | rotation: same rows after a page |
 *   |                                   | of the db is overwritten; forged |
 *   |                                   | record reported, raw block not   |
 *   | rebuild_without_keys_holds_back   | no own keys: publishers come     |
 *   |                                   | back untrusted, releases held    |
 *   | truncated_db_is_damaged           | a cut file is found damaged      |
 *   | quarantine_keeps_bytes            | corrupt block moved, bytes kept, |
 *   |                                   | release marked partial           |
 *   | rebuild_out_of_memory_paths       | every allocation failure leaves  |
 *   |                                   | the old database where it was    |
 */
#include "harness.h"

#include "gm/dagpb.h"
#include "gm/fs.h"
#include "gm/ingest.h"
#include "gm/keys.h"
#include "gm/rebuild.h"
#include "gm/record.h"

#define NOW 1700000000 /* 2023-11-14T22:13:20Z */

struct env {
	char dir[PATH_MAX], db[PATH_MAX], blocks[PATH_MAX], keys[PATH_MAX];
	struct gm_registry *reg;
	struct gm_store *store;
	struct gm_key acme, acme2, other;
	struct gm_cid content, leaf;
	char forged[GM_CID_MAX_STR];
};

static void sign_ingest(struct env *v, struct gm_record *r,
			const struct gm_key *k, const struct gm_key *k2,
			struct gm_buf *keep)
{
	struct gm_buf b;
	struct gm_diag d;

	gm_buf_init(&b, GM_RECORD_MAX);
	gm_diag_clear(&d);
	ASSERT_OK(gm_record_sign(r, k, k2, &b, &d));
	ASSERT_OK(
	    gm_ingest_record(v->reg, v->store, b.data, b.len, 0, 0, NULL, &d));
	if (keep)
		ASSERT_OK(gm_buf_append(keep, b.data, b.len));
	gm_buf_release(&b);
}

static void publisher(struct env *v, const struct gm_key *k)
{
	struct gm_record r;

	gm_record_init(&r, GM_RECORD_PUBLISHER);
	snprintf(r.publisher.handle, sizeof(r.publisher.handle), "%s",
		 k->handle);
	memcpy(r.publisher.key, k->pk, 32);
	r.publisher.seq = 1;
	r.publisher.time = 1000;
	sign_ingest(v, &r, k, NULL, NULL);
	ASSERT_OK(
	    gm_registry_set_trust(v->reg, k->pk, GM_TRUST_FULL, true, NULL));
}

static void release(struct env *v, const struct gm_key *k, const char *pkg,
		    const char *version, uint64_t seq, struct gm_buf *keep)
{
	struct gm_record r;

	gm_record_init(&r, GM_RECORD_RELEASE);
	r.release.package = pkg;
	r.release.version = version;
	r.release.kind = GM_PACKAGE_TEMPLATE;
	r.release.root = v->content;
	memset(r.release.manifest, 0xab, 32);
	r.release.size = 6;
	memcpy(r.release.key, k->pk, 32);
	r.release.seq = seq;
	r.release.time = 2000 + seq;
	r.release.meta.description = "fixture";
	sign_ingest(v, &r, k, NULL, keep);
}

/* The content: a dag-pb directory over one raw leaf. */
static void content(struct env *v)
{
	static const char text[] = "hello\n";
	static const uint8_t dir_data[] = {0x08, 0x01};
	struct gm_dagpb_link link;
	struct gm_dagpb_node node;
	struct gm_buf b;

	ASSERT_OK(
	    gm_cid_sha256(&v->leaf, 1, GM_CODEC_RAW, (const uint8_t *)text, 6));
	ASSERT_OK(gm_store_put(v->store, &v->leaf, (const uint8_t *)text, 6,
			       NULL, NULL));
	memset(&link, 0, sizeof(link));
	link.cid = v->leaf;
	link.name = (const uint8_t *)"README.md";
	link.name_len = 9;
	link.has_name = true;
	link.tsize = 6;
	link.has_tsize = true;
	gm_dagpb_node_init(&node);
	node.links = &link;
	node.n_links = 1;
	node.data = dir_data;
	node.data_len = sizeof(dir_data);
	node.has_data = true;
	gm_buf_init(&b, GM_BLOCK_MAX);
	ASSERT_OK(gm_dagpb_encode(&node, &b));
	ASSERT_OK(
	    gm_cid_sha256(&v->content, 1, GM_CODEC_DAG_PB, b.data, b.len));
	ASSERT_OK(
	    gm_store_put(v->store, &v->content, b.data, b.len, NULL, NULL));
	gm_buf_release(&b);
}

/*
 * acme: publisher, acme/alpha@1.0.0 (old key), rotation, acme/beta@1.0.0
 * (new key); other: publisher, other/gamma@2.0.0. Plus an unrelated raw
 * block and a copy of gamma's record with one signature byte flipped,
 * stored under its own CID. With full = false only acme and alpha.
 */
static void env_open(struct env *v, bool full)
{
	const char *tmp = gm_test_tmpdir();
	struct gm_record r;
	struct gm_buf rec;
	struct gm_cid c;
	uint8_t *sig;
	size_t i;

	memset(v, 0, sizeof(*v));
	snprintf(v->dir, sizeof(v->dir), "%s", tmp);
	snprintf(v->db, sizeof(v->db), "%s/registry.db", tmp);
	snprintf(v->blocks, sizeof(v->blocks), "%s/blocks", tmp);
	snprintf(v->keys, sizeof(v->keys), "%s/keys", tmp);
	ASSERT_OK(gm_registry_open(&v->reg, v->db, NULL));
	ASSERT_OK(gm_store_open(&v->store, v->blocks, NULL));
	ASSERT_OK(gm_key_generate(&v->acme, "acme", 1000, NULL));
	ASSERT_OK(gm_key_generate(&v->acme2, "acme", 3000, NULL));
	ASSERT_OK(gm_key_generate(&v->other, "other", 1000, NULL));
	content(v);
	publisher(v, &v->acme);
	release(v, &v->acme, "acme/alpha", "1.0.0", 1, NULL);
	ASSERT_OK(
	    gm_key_save(v->keys, full ? &v->acme2 : &v->acme, NULL, NULL));
	if (!full)
		return;
	gm_record_init(&r, GM_RECORD_ROTATION);
	snprintf(r.rotation.handle, sizeof(r.rotation.handle), "acme");
	memcpy(r.rotation.old_key, v->acme.pk, 32);
	memcpy(r.rotation.new_key, v->acme2.pk, 32);
	r.rotation.seq = 2;
	r.rotation.last = 1;
	r.rotation.time = 3000;
	sign_ingest(v, &r, &v->acme, &v->acme2, NULL);
	release(v, &v->acme2, "acme/beta", "1.0.0", 1, NULL);
	publisher(v, &v->other);
	ASSERT_OK(gm_key_save(v->keys, &v->other, NULL, NULL));
	gm_buf_init(&rec, GM_RECORD_MAX);
	release(v, &v->other, "other/gamma", "2.0.0", 1, &rec);
	/* an unrelated raw block that happens to start like a CBOR map */
	ASSERT_OK(gm_cid_sha256(&c, 1, GM_CODEC_RAW,
				(const uint8_t *)"\xa1"
						 "abc",
				4));
	ASSERT_OK(gm_store_put(v->store, &c,
			       (const uint8_t *)"\xa1"
						"abc",
			       4, NULL, NULL));
	/* the forged record: sig is a 64-byte string after "csig" */
	sig = NULL;
	for (i = 0; i + 5 < rec.len; i++)
		if (!memcmp(rec.data + i, "csigX@", 6)) {
			sig = rec.data + i + 6;
			break;
		}
	ASSERT(sig != NULL);
	sig[10] ^= 0x01;
	ASSERT_ERR(gm_record_decode(&r, rec.data, rec.len, NULL),
		   GM_ESIGNATURE);
	ASSERT_OK(gm_record_cid(rec.data, rec.len, &c));
	ASSERT_OK(gm_store_put(v->store, &c, rec.data, rec.len, NULL, NULL));
	gm_cid_format(&c, v->forged, sizeof(v->forged));
	gm_buf_release(&rec);
	ASSERT_OK(gm_store_sync(v->store, NULL));
}

static void env_close(struct env *v)
{
	gm_store_close(v->store);
	gm_registry_close(v->reg);
	gm_key_release(&v->acme);
	gm_key_release(&v->acme2);
	gm_key_release(&v->other);
}

/* Every release row as "ns/name@version record publisher" lines. */
static void snapshot(struct gm_registry *reg, struct gm_buf *out)
{
	struct gm_release_list pk;
	size_t i, j;

	gm_buf_init(out, 1 << 20);
	ASSERT_OK(gm_buf_append(out, "", 0));
	ASSERT_OK(gm_registry_list_packages(reg, 0, 0, &pk, NULL));
	for (i = 0; i < pk.n; i++) {
		struct gm_release_list all;

		ASSERT_OK(gm_registry_find_releases(
		    reg, pk.rows[i].ns, pk.rows[i].name, &all, NULL));
		for (j = 0; j < all.n; j++) {
			char fpr[GM_KEY_FPR_MAX];

			gm_key_fingerprint(all.rows[j].publisher, fpr);
			ASSERT_OK(gm_buf_printf(
			    out, "%s/%s@%s %s %s %d\n", all.rows[j].ns,
			    all.rows[j].name, all.rows[j].version,
			    all.rows[j].record_cid, fpr,
			    (int)all.rows[j].content_state));
		}
		gm_release_list_free(&all);
	}
	gm_release_list_free(&pk);
}

/* Overwrites page 2 (4096 bytes at 4096) with garbage. */
static void smash_page2(const char *db)
{
	uint8_t junk[4096];
	int fd = open(db, O_WRONLY);

	ASSERT(fd >= 0);
	memset(junk, 0xde, sizeof(junk));
	ASSERT(pwrite(fd, junk, sizeof(junk), 4096) == (ssize_t)sizeof(junk));
	close(fd);
}

static bool file_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

TEST(rebuild_restores_releases)
{
	struct gm_rebuild_opts o = {NULL, NOW};
	struct gm_rebuild_result res;
	struct gm_release_list l;
	struct gm_buf before, after;
	char moved[PATH_MAX], want[PATH_MAX];
	struct env v;
	struct gm_diag d;
	bool damaged;

	env_open(&v, true);
	snapshot(v.reg, &before);
	ASSERT(strstr((char *)before.data, "acme/alpha@1.0.0 "));
	ASSERT(strstr((char *)before.data, "acme/beta@1.0.0 "));
	ASSERT(strstr((char *)before.data, "other/gamma@2.0.0 "));
	gm_registry_close(v.reg);
	v.reg = NULL;
	smash_page2(v.db);
	gm_diag_clear(&d);
	ASSERT_OK(gm_rebuild_db_damaged(v.db, &damaged, &d));
	ASSERT(damaged);
	ASSERT(strstr(d.msg, "integrity check failed"));

	o.keys_dir = v.keys;
	ASSERT_OK(gm_rebuild_registry_file(v.db, v.store, &o, &res, moved,
					   sizeof(moved), &d));
	snprintf(want, sizeof(want), "%s.corrupt-20231114T221320Z", v.db);
	ASSERT_STREQ(moved, want);
	ASSERT(file_exists(moved));
	snprintf(want, sizeof(want), "%s.rebuild", v.db);
	ASSERT(!file_exists(want));
	/* publisher x2, rotation, 3 releases */
	ASSERT_EQ(res.added, 6);
	ASSERT_EQ(res.records, 7);
	ASSERT_EQ(res.bad, 1);
	ASSERT_STREQ(res.bad_cids[0], v.forged);
	ASSERT(strstr(res.bad_reason, "signature"));
	ASSERT_EQ(res.refused, 0);
	ASSERT_EQ(res.held_back, 0);
	ASSERT_EQ(res.own_restored, 2);
	/* by the current keys: the rotation, beta, other and gamma */
	ASSERT_EQ(res.requeued, 4);
	ASSERT_EQ(res.n_untrusted, 0);
	ASSERT_EQ(res.unreadable, 0);
	gm_rebuild_result_release(&res);

	ASSERT_OK(gm_rebuild_db_damaged(v.db, &damaged, NULL));
	ASSERT(!damaged);
	ASSERT_OK(gm_registry_open(&v.reg, v.db, NULL));
	snapshot(v.reg, &after);
	ASSERT_STREQ((char *)after.data, (char *)before.data);
	/* the forged copy of gamma's record is not a row */
	ASSERT_OK(gm_registry_find_release(v.reg, "other", "gamma", "2.0.0", &l,
					   NULL));
	ASSERT_EQ(l.n, 1);
	ASSERT(strcmp(l.rows[0].record_cid, v.forged) != 0);
	gm_release_list_free(&l);

	/* a second pass over a sound registry changes nothing */
	ASSERT_OK(gm_rebuild_registry(v.reg, v.store, &o, &res, NULL));
	ASSERT_EQ(res.added, 0);
	ASSERT_EQ(res.duplicates, 6);
	ASSERT_EQ(res.bad, 1);
	gm_rebuild_result_release(&res);
	gm_buf_release(&after);
	gm_buf_release(&before);
	env_close(&v);
}

TEST(rebuild_without_keys_holds_back)
{
	struct gm_rebuild_opts o = {NULL, NOW};
	struct gm_rebuild_result res;
	struct gm_release_list pk;
	char fpr[GM_KEY_FPR_MAX];
	struct env v;

	env_open(&v, true);
	gm_registry_close(v.reg);
	v.reg = NULL;
	smash_page2(v.db);
	ASSERT_OK(
	    gm_rebuild_registry_file(v.db, v.store, &o, &res, NULL, 0, NULL));
	ASSERT_EQ(res.added, 3);
	ASSERT_EQ(res.held_back, 3);
	ASSERT_EQ(res.own_restored, 0);
	ASSERT_EQ(res.n_untrusted, 2);
	ASSERT_STREQ(res.untrusted[0].handle, "acme");
	gm_key_fingerprint(v.acme2.pk, fpr);
	ASSERT_STREQ(res.untrusted[0].fingerprint, fpr);
	ASSERT_EQ(res.untrusted[0].held_back, 2);
	ASSERT_STREQ(res.untrusted[1].handle, "other");
	ASSERT_EQ(res.untrusted[1].held_back, 1);
	gm_rebuild_result_release(&res);
	ASSERT_OK(gm_registry_open(&v.reg, v.db, NULL));
	ASSERT_OK(gm_registry_list_packages(v.reg, 0, 0, &pk, NULL));
	ASSERT_EQ(pk.n, 0);
	gm_release_list_free(&pk);

	/* trust add, then the same pass brings them in */
	ASSERT_OK(gm_registry_set_trust(v.reg, v.acme2.pk, GM_TRUST_FULL, true,
					NULL));
	ASSERT_OK(gm_rebuild_registry(v.reg, v.store, &o, &res, NULL));
	ASSERT_EQ(res.added, 2);
	ASSERT_EQ(res.held_back, 1);
	ASSERT_EQ(res.n_untrusted, 1);
	ASSERT_STREQ(res.untrusted[0].handle, "other");
	gm_rebuild_result_release(&res);
	env_close(&v);
}

TEST(truncated_db_is_damaged)
{
	struct env v;
	struct gm_diag d;
	bool damaged;

	env_open(&v, false);
	gm_registry_close(v.reg);
	v.reg = NULL;
	ASSERT(truncate(v.db, 4096 + 100) == 0);
	gm_diag_clear(&d);
	ASSERT_OK(gm_rebuild_db_damaged(v.db, &damaged, &d));
	ASSERT(damaged);
	ASSERT(d.msg[0]);
	env_close(&v);
}

static void count_q(void *ctx, const struct gm_cid *cid, const char *reason,
		    const char *moved_to)
{
	int *n = ctx;

	(void)cid;
	ASSERT(strstr(reason, "mismatch") || strstr(reason, "hash"));
	ASSERT(strstr(moved_to, "/quarantine/"));
	(*n)++;
}

static void on_incomplete(void *ctx, const struct gm_release_row *row,
			  enum gm_content_state now, bool changed)
{
	int *n = ctx;

	ASSERT_STREQ(row->name, "alpha");
	ASSERT_EQ(now, GM_CONTENT_PARTIAL);
	ASSERT(changed);
	(*n)++;
}

TEST(quarantine_keeps_bytes)
{
	struct gm_rebuild_quarantine_result qr;
	struct gm_release_list l;
	struct gm_buf b;
	char key[GM_STORE_KEY_MAX], q[PATH_MAX * 2];
	char *path;
	uint64_t incomplete = 0;
	int n = 0, m = 0, fd;
	struct env v;

	env_open(&v, false);
	path = gm_store_block_path(v.store, &v.leaf);
	ASSERT(path);
	fd = open(path, O_WRONLY);
	ASSERT(fd >= 0);
	ASSERT(pwrite(fd, "J", 1, 0) == 1);
	close(fd);
	ASSERT_OK(
	    gm_rebuild_quarantine(v.store, v.blocks, count_q, &n, &qr, NULL));
	ASSERT_EQ(n, 1);
	ASSERT_EQ(qr.corrupt, 1);
	ASSERT_EQ(qr.quarantined, 1);
	ASSERT(!file_exists(path));
	ASSERT(!gm_store_has(v.store, &v.leaf));
	ASSERT(gm_store_key(&v.leaf, key, sizeof(key)));
	snprintf(q, sizeof(q), "%s/quarantine/%s.data", v.blocks, key);
	gm_buf_init(&b, 1024);
	ASSERT_OK(gm_fs_read_file(q, &b, NULL));
	ASSERT_EQ(b.len, 6);
	ASSERT_MEMEQ(b.data, "Jello\n", 6);
	gm_buf_release(&b);
	ASSERT_OK(gm_store_verify(v.store, NULL, NULL, NULL, NULL));

	ASSERT_OK(gm_rebuild_refresh_content(v.reg, v.store, on_incomplete, &m,
					     &incomplete, NULL));
	ASSERT_EQ(m, 1);
	ASSERT_EQ(incomplete, 1);
	ASSERT_OK(gm_registry_find_release(v.reg, "acme", "alpha", "1.0.0", &l,
					   NULL));
	ASSERT_EQ(l.rows[0].content_state, GM_CONTENT_PARTIAL);
	gm_release_list_free(&l);
	/* a second corrupt copy of the same block gets another name */
	ASSERT_OK(gm_store_put(v.store, &v.leaf, (const uint8_t *)"hello\n", 6,
			       NULL, NULL));
	fd = open(path, O_WRONLY);
	ASSERT(fd >= 0);
	ASSERT(pwrite(fd, "K", 1, 0) == 1);
	close(fd);
	ASSERT_OK(
	    gm_rebuild_quarantine(v.store, v.blocks, NULL, NULL, &qr, NULL));
	ASSERT_EQ(qr.quarantined, 1);
	snprintf(q, sizeof(q), "%s/quarantine/%s.data.1", v.blocks, key);
	ASSERT(file_exists(q));
	gm_free(path);
	env_close(&v);
}

TEST(rebuild_out_of_memory_paths)
{
	struct gm_rebuild_opts o = {NULL, NOW};
	struct gm_rebuild_result res;
	char moved[PATH_MAX], p[PATH_MAX];
	struct env v;
	unsigned long n;
	gm_err e = GM_ENOMEM;

	env_open(&v, false);
	gm_registry_close(v.reg);
	v.reg = NULL;
	smash_page2(v.db);
	o.keys_dir = v.keys;
	for (n = 1; e == GM_ENOMEM; n++) {
		gm_alloc_fail_after(n);
		e = gm_rebuild_registry_file(v.db, v.store, &o, &res, moved,
					     sizeof(moved), NULL);
		gm_alloc_fail_after(0);
		if (e == GM_OK)
			break;
		ASSERT_ERR(e, GM_ENOMEM);
		gm_rebuild_result_release(&res);
		/* the damaged database stays, nothing half made remains */
		ASSERT(file_exists(v.db));
		snprintf(p, sizeof(p), "%s.rebuild", v.db);
		ASSERT(!file_exists(p));
		snprintf(p, sizeof(p), "%s.corrupt-20231114T221320Z", v.db);
		ASSERT(!file_exists(p));
		ASSERT(n < 100000);
	}
	ASSERT(n > 10);
	ASSERT_EQ(res.added, 2);
	ASSERT_EQ(res.own_restored, 1);
	ASSERT_STREQ(moved, p);
	gm_rebuild_result_release(&res);
	env_close(&v);
}
