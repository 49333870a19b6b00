/*
 * test_threats.c - the rows of THREATS.md that apply without a network,
 * through the real ingest and install paths (the CLI end-to-end tests
 * cover the same rows through the binaries where a crafted input can be
 * made with the binaries alone).
 *
 *   | row                                   | test                           |
 *   |---------------------------------------|--------------------------------|
 *   | path traversal, unsafe names          | unsafe_names_refused_at_install |
 *   | size bomb (declared sizes lie)        | lying_file_size_refused         |
 *   | deep trees                            | depth_bomb_refused              |
 *   | wrong signature                       | flipped_signature_refused       |
 *   | untrusted publisher                   | untrusted_publisher_refused     |
 *   | rollback / replay                     | publisher_rollback_refused      |
 *   | revoked key                           | revoked_key_releases_refused    |
 *   | rotated key                           | rotation_bounds_the_old_key     |
 *   | equivocation                          | equivocation_kept_and_refused   |
 *
 * Every refusal at install must leave the project untouched: no ggen.lock
 * and no .ggen folder appear.
 */
#include "harness.h"

#include "gm/dagpb.h"
#include "gm/fs.h"
#include "gm/ingest.h"
#include "gm/install.h"
#include "gm/keys.h"
#include "gm/record.h"
#include "gm/varint.h"

struct env {
	char project[PATH_MAX];
	struct gm_registry *reg;
	struct gm_store *store;
	struct gm_key acme, other;
};

static gm_err put_record(struct env *v, struct gm_record *r,
			 const struct gm_key *signer,
			 const struct gm_key *new_signer, unsigned flags)
{
	struct gm_buf b;
	struct gm_diag d;
	gm_err e;

	gm_buf_init(&b, GM_RECORD_MAX);
	gm_diag_clear(&d);
	ASSERT_OK(gm_record_sign(r, signer, new_signer, &b, &d));
	e = gm_ingest_record(v->reg, v->store, b.data, b.len, flags, 0, NULL,
			     &d);
	gm_buf_release(&b);
	return e;
}

static void register_key(struct env *v, const struct gm_key *k, uint64_t seq,
			 enum gm_trust_level trust)
{
	struct gm_record r;

	gm_record_init(&r, GM_RECORD_PUBLISHER);
	snprintf(r.publisher.handle, sizeof(r.publisher.handle), "%s",
		 k->handle);
	memcpy(r.publisher.key, k->pk, 32);
	r.publisher.seq = seq;
	r.publisher.time = 1000 + seq;
	ASSERT_OK(put_record(v, &r, k, NULL, 0));
	ASSERT_OK(gm_registry_set_trust(v->reg, k->pk, trust, true, NULL));
}

static void env_open(struct env *v)
{
	char p[PATH_MAX];
	const char *tmp = gm_test_tmpdir();

	snprintf(p, sizeof(p), "%s/registry.db", tmp);
	ASSERT_OK(gm_registry_open(&v->reg, p, NULL));
	snprintf(p, sizeof(p), "%s/blocks", tmp);
	ASSERT_OK(gm_store_open(&v->store, p, NULL));
	ASSERT_OK(gm_key_generate(&v->acme, "acme", 1000, NULL));
	ASSERT_OK(gm_key_generate(&v->other, "other", 1000, NULL));
	snprintf(v->project, sizeof(v->project), "%s/proj", tmp);
	ASSERT(mkdir(v->project, 0755) == 0);
	register_key(v, &v->acme, 1, GM_TRUST_ULTIMATE);
}

static void env_close(struct env *v)
{
	gm_store_close(v->store);
	gm_registry_close(v->reg);
	gm_key_release(&v->acme);
	gm_key_release(&v->other);
}

/* ---- crafted DAGs ---- */

static void put_block(struct env *v, uint64_t codec, const uint8_t *p,
		      size_t len, struct gm_cid *cid)
{
	ASSERT_OK(gm_cid_sha256(cid, 1, codec, p, len));
	ASSERT_OK(gm_store_put(v->store, cid, p, len, NULL, NULL));
}

static void raw_leaf(struct env *v, const char *text, struct gm_cid *cid)
{
	put_block(v, GM_CODEC_RAW, (const uint8_t *)text, strlen(text), cid);
}

/* A UnixFS directory node with the given (name, child) links. */
static void dir_node(struct env *v, const char *const *names,
		     const struct gm_cid *kids, size_t n, struct gm_cid *cid)
{
	static const uint8_t dir_data[] = {0x08, 0x01};
	struct gm_dagpb_link links[16];
	struct gm_dagpb_node node;
	struct gm_buf b;
	size_t i;

	ASSERT(n <= 16);
	gm_dagpb_node_init(&node);
	for (i = 0; i < n; i++) {
		memset(&links[i], 0, sizeof(links[i]));
		links[i].cid = kids[i];
		links[i].name = (const uint8_t *)names[i];
		links[i].name_len = strlen(names[i]) +
				    (names[i][0] == 'N' && names[i][1] == 'U'
					     ? 1
					     : 0); /* "NUL\0x": keeps the NUL */
		links[i].has_name = true;
		links[i].tsize = 10;
		links[i].has_tsize = true;
	}
	node.links = links;
	node.n_links = n;
	node.data = dir_data;
	node.data_len = sizeof(dir_data);
	node.has_data = true;
	gm_buf_init(&b, GM_BLOCK_MAX);
	ASSERT_OK(gm_dagpb_encode(&node, &b));
	put_block(v, GM_CODEC_DAG_PB, b.data, b.len, cid);
	gm_buf_release(&b);
}

/* A UnixFS file node claiming filesize, over one leaf of leaf_size bytes. */
static void file_node(struct env *v, uint64_t filesize, uint64_t leaf_size,
		      const struct gm_cid *leaf, struct gm_cid *cid)
{
	struct gm_dagpb_link link;
	struct gm_dagpb_node node;
	uint8_t data[32];
	size_t n = 0;
	struct gm_buf b;

	data[n++] = 0x08;
	data[n++] = 0x02; /* Type = File */
	data[n++] = 0x18; /* filesize */
	n += gm_varint_encode(filesize, data + n);
	data[n++] = 0x20; /* blocksizes */
	n += gm_varint_encode(leaf_size, data + n);
	memset(&link, 0, sizeof(link));
	link.cid = *leaf;
	link.name = (const uint8_t *)"";
	link.has_name = true;
	link.tsize = leaf_size;
	link.has_tsize = true;
	gm_dagpb_node_init(&node);
	node.links = &link;
	node.n_links = 1;
	node.data = data;
	node.data_len = n;
	node.has_data = true;
	gm_buf_init(&b, GM_BLOCK_MAX);
	ASSERT_OK(gm_dagpb_encode(&node, &b));
	put_block(v, GM_CODEC_DAG_PB, b.data, b.len, cid);
	gm_buf_release(&b);
}

/* A package folder holding one file with text. */
static void pkg_dir(struct env *v, const char *text, struct gm_cid *cid)
{
	const char *names[1] = {"README.md"};
	struct gm_cid leaf;

	raw_leaf(v, text, &leaf);
	dir_node(v, names, &leaf, 1, cid);
}

/* ---- releases and installs ---- */

static void release_of(struct gm_record *r, const struct gm_key *k,
		       const char *pkg, const char *version,
		       const struct gm_cid *root, uint64_t seq)
{
	gm_record_init(r, GM_RECORD_RELEASE);
	r->release.package = pkg;
	r->release.version = version;
	r->release.kind = GM_PACKAGE_TEMPLATE;
	r->release.root = *root;
	memset(r->release.manifest, 0xab, 32);
	r->release.size = 10;
	memcpy(r->release.key, k->pk, 32);
	r->release.seq = seq;
	r->release.time = 2000 + seq;
	r->release.meta.description = "a crafted package";
}

static gm_err release(struct env *v, const struct gm_key *k, const char *pkg,
		      const char *version, const struct gm_cid *root,
		      uint64_t seq, unsigned flags)
{
	struct gm_record r;

	release_of(&r, k, pkg, version, root, seq);
	return put_record(v, &r, k, NULL, flags);
}

static gm_err install(struct env *v, const char *id, struct gm_diag *d)
{
	struct gm_resolve_req req = {id, "*"};
	struct gm_install_opts o;

	memset(&o, 0, sizeof(o));
	o.project = v->project;
	o.add = &req;
	o.n_add = 1;
	gm_diag_clear(d);
	return gm_install(v->reg, v->store, &o, NULL, d);
}

static void assert_untouched(struct env *v)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/ggen.lock", v->project);
	ASSERT(access(p, F_OK) != 0);
	snprintf(p, sizeof(p), "%s/.ggen/packages", v->project);
	ASSERT(access(p, F_OK) != 0);
}

static void expect_install_refused(struct env *v, const char *id,
				   gm_err want, const char *needle)
{
	struct gm_diag d;
	gm_err e = install(v, id, &d);

	if (e != want)
		gm_test_fail(__FILE__, __LINE__, "%s: %s (%s), expected %s", id,
			     gm_errname(e), d.msg, gm_errname(want));
	if (!strstr(d.msg, needle))
		gm_test_fail(__FILE__, __LINE__, "%s: '%s' lacks '%s'", id,
			     d.msg, needle);
	assert_untouched(v);
}

TEST(unsafe_names_refused_at_install)
{
	static const char *const bad[] = {"..", ".", "a/b", "", "NUL\0x"};
	struct env v;
	struct gm_cid leaf, root, kids[2];
	char pkg[64];
	size_t i;

	env_open(&v);
	raw_leaf(&v, "payload\n", &leaf);
	for (i = 0; i < GM_ARRAY_LEN(bad); i++) {
		const char *names[1] = {bad[i]};

		kids[0] = leaf;
		dir_node(&v, names, kids, 1, &root);
		snprintf(pkg, sizeof(pkg), "acme/bad%zu", i);
		ASSERT_OK(release(&v, &v.acme, pkg, "1.0.0", &root, i + 1, 0));
		expect_install_refused(&v, pkg, GM_EUNSAFE, "");
	}
	{
		/* duplicate and case-colliding names */
		const char *dup[2] = {"x.txt", "x.txt"};
		const char *fold[2] = {"README", "readme"};

		kids[0] = kids[1] = leaf;
		dir_node(&v, dup, kids, 2, &root);
		ASSERT_OK(release(&v, &v.acme, "acme/dup", "1.0.0", &root, 10,
				  0));
		expect_install_refused(&v, "acme/dup", GM_EUNSAFE, "");
		dir_node(&v, fold, kids, 2, &root);
		ASSERT_OK(release(&v, &v.acme, "acme/fold", "1.0.0", &root, 11,
				  0));
		expect_install_refused(&v, "acme/fold", GM_EUNSAFE, "");
	}
	env_close(&v);
}

TEST(lying_file_size_refused)
{
	struct env v;
	struct gm_cid leaf, file, root;
	const char *names[1] = {"big.bin"};

	env_open(&v);
	raw_leaf(&v, "tiny", &leaf);
	/* declares 10 GiB over a 4-byte leaf */
	file_node(&v, 10ull << 30, 4, &leaf, &file);
	dir_node(&v, names, &file, 1, &root);
	ASSERT_OK(release(&v, &v.acme, "acme/bomb", "1.0.0", &root, 1, 0));
	expect_install_refused(&v, "acme/bomb", GM_EUNSAFE, "");
	env_close(&v);
}

TEST(depth_bomb_refused)
{
	struct env v;
	struct gm_cid cur;
	const char *names[1] = {"d"};
	int i;

	env_open(&v);
	raw_leaf(&v, "deep\n", &cur);
	for (i = 0; i < 80; i++) {
		struct gm_cid parent;

		dir_node(&v, names, &cur, 1, &parent);
		cur = parent;
	}
	ASSERT_OK(release(&v, &v.acme, "acme/deep", "1.0.0", &cur, 1, 0));
	expect_install_refused(&v, "acme/deep", GM_ELIMIT, "");
	env_close(&v);
}

TEST(flipped_signature_refused)
{
	struct env v;
	struct gm_record r;
	struct gm_buf b;
	struct gm_cid leaf;
	struct gm_diag d;

	env_open(&v);
	raw_leaf(&v, "x\n", &leaf);
	release_of(&r, &v.acme, "acme/x", "1.0.0", &leaf, 1);
	gm_buf_init(&b, GM_RECORD_MAX);
	ASSERT_OK(gm_record_sign(&r, &v.acme, NULL, &b, NULL));
	{
		/* flip one bit of the signature itself */
		uint8_t *sig = memmem(b.data, b.len, r.release.sig, 64);

		ASSERT(sig != NULL);
		sig[10] ^= 1;
	}
	gm_diag_clear(&d);
	ASSERT_ERR(gm_ingest_record(v.reg, v.store, b.data, b.len, 0, 0, NULL,
				    &d),
		   GM_ESIGNATURE);
	gm_buf_release(&b);
	expect_install_refused(&v, "acme/x", GM_ENOENT, "not in the local");
	env_close(&v);
}

TEST(untrusted_publisher_refused)
{
	struct env v;
	struct gm_cid leaf;
	struct gm_diag d;
	char fpr[GM_KEY_FPR_MAX];
	struct gm_record r;
	struct gm_buf b;

	env_open(&v);
	register_key(&v, &v.other, 1, GM_TRUST_UNTRUSTED);
	/* untrusted, and explicitly distrusted (pinned): refused even with
	 * --trust-new */
	raw_leaf(&v, "y\n", &leaf);
	release_of(&r, &v.other, "other/y", "1.0.0", &leaf, 1);
	gm_buf_init(&b, GM_RECORD_MAX);
	ASSERT_OK(gm_record_sign(&r, &v.other, NULL, &b, NULL));
	gm_diag_clear(&d);
	ASSERT_ERR(gm_ingest_record(v.reg, v.store, b.data, b.len, 0, 0, NULL,
				    &d),
		   GM_ETRUST);
	gm_key_fingerprint(v.other.pk, fpr);
	ASSERT(strstr(d.msg, fpr) != NULL);
	ASSERT(strstr(d.msg, "trust add") != NULL);
	ASSERT_ERR(gm_ingest_record(v.reg, v.store, b.data, b.len,
				    GM_INGEST_TRUST_NEW, 0, NULL, &d),
		   GM_ETRUST);
	ASSERT(strstr(d.msg, "distrusted") != NULL);
	ASSERT(strstr(d.msg, "--trust-new") == NULL);
	/* not pinned: --trust-new accepts it and pins it */
	ASSERT_OK(gm_registry_set_trust(v.reg, v.other.pk, GM_TRUST_UNTRUSTED,
					false, NULL));
	ASSERT_OK(gm_ingest_record(v.reg, v.store, b.data, b.len,
				   GM_INGEST_TRUST_NEW, 0, NULL, &d));
	gm_buf_release(&b);
	env_close(&v);
}

TEST(publisher_rollback_refused)
{
	struct env v;
	struct gm_record r;
	struct gm_publisher_state s;
	struct gm_buf b;
	struct gm_diag d;

	env_open(&v);
	register_key(&v, &v.acme, 3, GM_TRUST_ULTIMATE);
	/* replaying sequence 2 after 3 is refused, 3 again is a no-op */
	gm_record_init(&r, GM_RECORD_PUBLISHER);
	snprintf(r.publisher.handle, sizeof(r.publisher.handle), "acme");
	memcpy(r.publisher.key, v.acme.pk, 32);
	r.publisher.seq = 2;
	r.publisher.time = 5;
	gm_buf_init(&b, GM_RECORD_MAX);
	ASSERT_OK(gm_record_sign(&r, &v.acme, NULL, &b, NULL));
	gm_diag_clear(&d);
	ASSERT_ERR(gm_ingest_record(v.reg, v.store, b.data, b.len, 0, 0, NULL,
				    &d),
		   GM_ECONFLICT);
	ASSERT(strstr(d.msg, "rollback") != NULL);
	gm_buf_release(&b);
	ASSERT_OK(gm_ingest_publisher_state(v.reg, "acme", &s, NULL));
	ASSERT_EQ(s.seq, 3);
	env_close(&v);
}

TEST(revoked_key_releases_refused)
{
	struct env v;
	struct gm_cid l1, l2, l3;
	struct gm_record r;
	struct gm_diag d;

	env_open(&v);
	pkg_dir(&v, "one\n", &l1);
	pkg_dir(&v, "two\n", &l2);
	pkg_dir(&v, "three\n", &l3);
	ASSERT_OK(release(&v, &v.acme, "acme/p", "1.0.0", &l1, 1, 0));
	ASSERT_OK(release(&v, &v.acme, "acme/p", "1.1.0", &l2, 2, 0));
	/* revoked for everything after sequence 1 */
	gm_record_init(&r, GM_RECORD_REVOCATION);
	snprintf(r.revocation.handle, sizeof(r.revocation.handle), "acme");
	memcpy(r.revocation.key, v.acme.pk, 32);
	memcpy(r.revocation.by, v.acme.pk, 32);
	r.revocation.after = 1;
	r.revocation.seq = 2;
	r.revocation.time = 3000;
	ASSERT_OK(put_record(&v, &r, &v.acme, NULL, 0));
	/* a new release signed after the revocation is refused on arrival */
	gm_diag_clear(&d);
	ASSERT_ERR(release(&v, &v.acme, "acme/p", "1.2.0", &l3, 3, 0),
		   GM_ETRUST);
	/* 1.1.0 (sequence 2) was known before, but is refused at install */
	{
		struct gm_resolve_req req = {"acme/p", "=1.1.0"};
		struct gm_install_opts o;

		memset(&o, 0, sizeof(o));
		o.project = v.project;
		o.add = &req;
		o.n_add = 1;
		ASSERT_ERR(gm_install(v.reg, v.store, &o, NULL, &d), GM_ETRUST);
		assert_untouched(&v);
		req.req = "=1.0.0";
		ASSERT_OK(gm_install(v.reg, v.store, &o, NULL, &d));
	}
	env_close(&v);
}

TEST(rotation_bounds_the_old_key)
{
	struct env v;
	struct gm_key next;
	struct gm_cid l1, l2, l3;
	struct gm_record r;

	env_open(&v);
	ASSERT_OK(gm_key_generate(&next, "acme", 2000, NULL));
	pkg_dir(&v, "old\n", &l1);
	pkg_dir(&v, "late\n", &l2);
	pkg_dir(&v, "new\n", &l3);
	ASSERT_OK(release(&v, &v.acme, "acme/q", "1.0.0", &l1, 1, 0));
	gm_record_init(&r, GM_RECORD_ROTATION);
	snprintf(r.rotation.handle, sizeof(r.rotation.handle), "acme");
	memcpy(r.rotation.old_key, v.acme.pk, 32);
	memcpy(r.rotation.new_key, next.pk, 32);
	r.rotation.seq = 2;
	r.rotation.last = 1; /* the old key's last release */
	r.rotation.time = 4000;
	/* a rotation needs the old key's signature too */
	{
		struct gm_buf b;

		gm_buf_init(&b, GM_RECORD_MAX);
		ASSERT(gm_record_sign(&r, &next, &next, &b, NULL) != GM_OK);
		gm_buf_release(&b);
	}
	ASSERT_OK(put_record(&v, &r, &v.acme, &next, 0));
	/* the old key's releases after the rotation are refused */
	ASSERT_ERR(release(&v, &v.acme, "acme/q", "1.1.0", &l2, 2, 0),
		   GM_ETRUST);
	/* the new key carries the handle's trust */
	ASSERT_OK(release(&v, &next, "acme/q", "2.0.0", &l3, 1, 0));
	{
		struct gm_diag d;

		ASSERT_OK(install(&v, "acme/q", &d));
	}
	gm_key_release(&next);
	env_close(&v);
}

/* Rotates k's handle to next (seq 2, k's last release 0). */
static gm_err rotate(struct env *v, const struct gm_key *k,
		     const struct gm_key *next)
{
	struct gm_record r;

	gm_record_init(&r, GM_RECORD_ROTATION);
	snprintf(r.rotation.handle, sizeof(r.rotation.handle), "%s",
		 k->handle);
	memcpy(r.rotation.old_key, k->pk, 32);
	memcpy(r.rotation.new_key, next->pk, 32);
	r.rotation.seq = 2;
	r.rotation.last = 0;
	r.rotation.time = 4000;
	return put_record(v, &r, k, next, 0);
}

/*
 * A rotation passes on the decision made about a handle, not more: the
 * new key of a publisher nobody decided on can still be accepted with
 * --trust-new (this test), and the new key of a distrusted one stays
 * distrusted (the next).
 */
TEST(rotation_of_an_undecided_publisher_allows_trust_new)
{
	struct env v;
	struct gm_key next;
	struct gm_cid leaf;
	struct gm_diag d;
	struct gm_record r;

	env_open(&v);
	ASSERT_OK(gm_key_generate(&next, "other", 2000, NULL));
	gm_record_init(&r, GM_RECORD_PUBLISHER);
	snprintf(r.publisher.handle, sizeof(r.publisher.handle), "other");
	memcpy(r.publisher.key, v.other.pk, 32);
	r.publisher.seq = 1;
	r.publisher.time = 1001;
	ASSERT_OK(put_record(&v, &r, &v.other, NULL, 0));
	ASSERT_OK(rotate(&v, &v.other, &next));
	raw_leaf(&v, "n\n", &leaf);
	gm_diag_clear(&d);
	ASSERT_ERR(release(&v, &next, "other/n", "1.0.0", &leaf, 1, 0),
		   GM_ETRUST);
	ASSERT_OK(release(&v, &next, "other/n", "1.0.0", &leaf, 1,
			  GM_INGEST_TRUST_NEW));
	gm_key_release(&next);
	env_close(&v);
}

TEST(rotation_keeps_a_distrust)
{
	struct env v;
	struct gm_key next;
	struct gm_cid leaf;
	struct gm_diag d;
	struct gm_record r;

	env_open(&v);
	ASSERT_OK(gm_key_generate(&next, "other", 2000, NULL));
	register_key(&v, &v.other, 1, GM_TRUST_UNTRUSTED); /* trust revoke */
	ASSERT_OK(rotate(&v, &v.other, &next));
	raw_leaf(&v, "n\n", &leaf);
	release_of(&r, &next, "other/n", "1.0.0", &leaf, 1);
	{
		struct gm_buf b;

		gm_buf_init(&b, GM_RECORD_MAX);
		ASSERT_OK(gm_record_sign(&r, &next, NULL, &b, NULL));
		gm_diag_clear(&d);
		ASSERT_ERR(gm_ingest_record(v.reg, v.store, b.data, b.len,
					    GM_INGEST_TRUST_NEW, 0, NULL, &d),
			   GM_ETRUST);
		ASSERT(strstr(d.msg, "distrusted") != NULL);
		gm_buf_release(&b);
	}
	gm_key_release(&next);
	env_close(&v);
}

TEST(equivocation_kept_and_refused)
{
	struct env v;
	struct gm_cid a, b;
	struct gm_release_list l;
	struct gm_diag d;

	env_open(&v);
	pkg_dir(&v, "content A\n", &a);
	pkg_dir(&v, "content B\n", &b);
	ASSERT_OK(release(&v, &v.acme, "acme/e", "1.0.0", &a, 1, 0));
	gm_diag_clear(&d);
	ASSERT_ERR(release(&v, &v.acme, "acme/e", "1.0.0", &b, 2, 0),
		   GM_EINTEGRITY);
	/* both kept as evidence */
	ASSERT_OK(gm_registry_find_release(v.reg, "acme", "e", "1.0.0", &l,
					   NULL));
	ASSERT_EQ(l.n, 2);
	ASSERT(l.rows[0].equivocation || l.rows[1].equivocation);
	gm_release_list_free(&l);
	expect_install_refused(&v, "acme/e", GM_EINTEGRITY, "equivocation");
	env_close(&v);
}
