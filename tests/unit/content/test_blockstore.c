/*
 * test_blockstore.c - the flatfs-layout block store: put/get/has/delete,
 * the exact file layout, verification on read and in verify, pins, gc with
 * exact counts, iterate/stat, and the out-of-memory paths.
 */
#include "harness.h"

#include "gm/blockstore.h"
#include "gm/dagpb.h"
#include "gm/fs.h"

#define HELLO "hello world\n"
#define HELLO_KEY "CIQKSSEQJ4XQ6R43R6AZO2KLGAMEWDJO2HA42KQ6YD5YLUUZUGJKIRY"

static struct gm_store *open_store(const char *sub)
{
	struct gm_store *s;
	struct gm_diag d;
	char *dir = gm_path_join(gm_test_tmpdir(), sub);

	ASSERT(dir != NULL);
	gm_diag_clear(&d);
	ASSERT_OK(gm_store_open(&s, dir, &d));
	gm_free(dir);
	return s;
}

static void raw_cid(const char *text, struct gm_cid *c)
{
	ASSERT_OK(gm_cid_sha256(c, 1, GM_CODEC_RAW, (const uint8_t *)text,
				strlen(text)));
}

static void put_raw(struct gm_store *s, const char *text, struct gm_cid *c)
{
	raw_cid(text, c);
	ASSERT_OK(gm_store_put(s, c, (const uint8_t *)text, strlen(text), NULL,
			       NULL));
}

/* Encodes a dag-pb node linking to links[0..n), stores it, returns size. */
static size_t put_node(struct gm_store *s, const struct gm_cid *links, size_t n,
		       struct gm_cid *out)
{
	struct gm_dagpb_link l[8];
	struct gm_dagpb_node node;
	struct gm_buf b;
	size_t i, len;

	ASSERT(n <= 8);
	memset(&node, 0, sizeof(node));
	memset(l, 0, sizeof(l));
	for (i = 0; i < n; i++) {
		l[i].cid = links[i];
		l[i].name = (const uint8_t *)"x";
		l[i].name_len = 1;
		l[i].has_name = true;
		l[i].tsize = 1;
		l[i].has_tsize = true;
	}
	node.links = l;
	node.n_links = n;
	node.data = (const uint8_t *)"\x08\x01";
	node.data_len = 2;
	node.has_data = true;
	gm_buf_init(&b, GM_BLOCK_MAX);
	ASSERT_OK(gm_dagpb_encode(&node, &b));
	ASSERT_OK(gm_cid_sha256(out, 1, GM_CODEC_DAG_PB, b.data, b.len));
	ASSERT_OK(gm_store_put(s, out, b.data, b.len, NULL, NULL));
	len = b.len;
	gm_buf_release(&b);
	return len;
}

static void flip_byte(const char *path, size_t at)
{
	uint8_t c;
	int fd = open(path, O_RDWR);

	ASSERT(fd >= 0);
	ASSERT_EQ(pread(fd, &c, 1, (off_t)at), 1);
	c ^= 0x01;
	ASSERT_EQ(pwrite(fd, &c, 1, (off_t)at), 1);
	close(fd);
}

TEST(put_get_has_delete)
{
	struct gm_store *s = open_store("st");
	struct gm_cid c, other;
	struct gm_diag d;
	struct gm_buf b;
	char text[GM_CID_MAX_STR];
	bool added;

	raw_cid(HELLO, &c);
	raw_cid("other", &other);
	ASSERT(!gm_store_has(s, &c));
	ASSERT_OK(
	    gm_store_put(s, &c, (const uint8_t *)HELLO, 12, &added, NULL));
	ASSERT(added);
	ASSERT_OK(
	    gm_store_put(s, &c, (const uint8_t *)HELLO, 12, &added, NULL));
	ASSERT(!added);
	ASSERT(gm_store_has(s, &c));
	ASSERT(!gm_store_has(s, &other));

	gm_buf_init(&b, GM_BLOCK_MAX);
	ASSERT_OK(gm_buf_append(&b, "pre", 3));
	ASSERT_OK(gm_store_get(s, &c, &b, NULL));
	ASSERT_EQ(b.len, 15);
	ASSERT_MEMEQ(b.data, "pre" HELLO, 15);

	gm_buf_reset(&b);
	gm_diag_clear(&d);
	ASSERT_ERR(gm_store_get(s, &other, &b, &d), GM_ENOENT);
	gm_cid_format(&other, text, sizeof(text));
	ASSERT(strstr(d.msg, text) != NULL);
	ASSERT_EQ(b.len, 0);

	ASSERT_OK(gm_store_delete(s, &c, NULL));
	ASSERT(!gm_store_has(s, &c));
	ASSERT_ERR(gm_store_delete(s, &c, NULL), GM_ENOENT);
	ASSERT_ERR(gm_store_get(s, &c, &b, NULL), GM_ENOENT);
	ASSERT_OK(gm_store_sync(s, NULL));
	gm_buf_release(&b);
	gm_store_close(s);
	gm_store_close(NULL);
}

TEST(layout_is_flatfs_next_to_last_2)
{
	struct gm_store *s = open_store("st");
	struct gm_cid c, v0;
	char key[GM_STORE_KEY_MAX], *path, *want, *sharding;
	struct gm_buf b;
	struct stat st;

	put_raw(s, HELLO, &c);
	ASSERT_EQ(gm_store_key(&c, key, sizeof(key)), strlen(HELLO_KEY));
	ASSERT_STREQ(key, HELLO_KEY);
	ASSERT_EQ(gm_store_key(&c, key, 10), 0);

	/* The key is the multihash only: a v0 dag-pb CID of the same digest
	 * maps to the same file. */
	gm_cid_from_digest(&v0, 0, GM_CODEC_DAG_PB, c.digest);
	ASSERT_EQ(gm_store_key(&v0, key, sizeof(key)), strlen(HELLO_KEY));
	ASSERT_STREQ(key, HELLO_KEY);

	want = gm_path_join(gm_test_tmpdir(), "st/IR/" HELLO_KEY ".data");
	path = gm_store_block_path(s, &c);
	ASSERT_STREQ(path, want);
	ASSERT_EQ(stat(want, &st), 0);
	ASSERT_EQ(st.st_size, 12);
	ASSERT(gm_store_has(s, &v0));

	sharding = gm_path_join(gm_test_tmpdir(), "st/SHARDING");
	gm_buf_init(&b, 1024);
	ASSERT_OK(gm_fs_read_file(sharding, &b, NULL));
	ASSERT_STREQ((char *)b.data, "/repo/flatfs/shard/v1/next-to-last/2\n");
	gm_buf_release(&b);
	gm_free(sharding);
	gm_free(path);
	gm_free(want);
	gm_store_close(s);
}

TEST(put_refuses_data_that_does_not_match)
{
	struct gm_store *s = open_store("st");
	struct gm_cid c, actual;
	char ct[GM_CID_MAX_STR], at[GM_CID_MAX_STR];
	struct gm_diag d;
	struct gm_store_stat stt;

	raw_cid(HELLO, &c);
	raw_cid("hello world?", &actual);
	gm_cid_format(&c, ct, sizeof(ct));
	gm_cid_format(&actual, at, sizeof(at));
	gm_diag_clear(&d);
	ASSERT_ERR(
	    gm_store_put(s, &c, (const uint8_t *)"hello world?", 12, NULL, &d),
	    GM_EINTEGRITY);
	ASSERT(strstr(d.msg, ct) != NULL);
	ASSERT(strstr(d.msg, at) != NULL);
	ASSERT(!gm_store_has(s, &c));
	ASSERT_OK(gm_store_stat(s, &stt, NULL));
	ASSERT_EQ(stt.blocks, 0);
	gm_store_close(s);
}

TEST(get_verifies_the_file_on_read)
{
	struct gm_store *s = open_store("st");
	struct gm_cid c, actual;
	char ct[GM_CID_MAX_STR], at[GM_CID_MAX_STR];
	struct gm_diag d;
	struct gm_buf b;
	char *path;

	put_raw(s, HELLO, &c);
	path = gm_store_block_path(s, &c);
	flip_byte(path, 0); /* 'h' -> 'i' */
	raw_cid("iello world\n", &actual);
	gm_cid_format(&c, ct, sizeof(ct));
	gm_cid_format(&actual, at, sizeof(at));

	gm_buf_init(&b, GM_BLOCK_MAX);
	gm_diag_clear(&d);
	ASSERT_ERR(gm_store_get(s, &c, &b, &d), GM_EINTEGRITY);
	ASSERT_EQ(b.len, 0);
	ASSERT(strstr(d.msg, ct) != NULL);
	ASSERT(strstr(d.msg, at) != NULL);
	ASSERT(strstr(d.msg, HELLO_KEY) != NULL);
	gm_buf_release(&b);
	gm_free(path);
	gm_store_close(s);
}

TEST(get_refuses_oversized_files_and_small_buffers)
{
	struct gm_store *s = open_store("st");
	struct gm_cid c;
	struct gm_buf b;
	char *path;

	put_raw(s, HELLO, &c);
	path = gm_store_block_path(s, &c);
	ASSERT_EQ(truncate(path, GM_BLOCK_MAX + 1), 0);
	gm_buf_init(&b, GM_BUF_UNLIMITED);
	ASSERT_ERR(gm_store_get(s, &c, &b, NULL), GM_ELIMIT);
	ASSERT_EQ(b.len, 0);
	gm_buf_release(&b);
	ASSERT_EQ(truncate(path, 0), 0);
	ASSERT_OK(gm_store_delete(s, &c, NULL));
	put_raw(s, HELLO, &c);
	gm_buf_init(&b, 5);
	ASSERT_ERR(gm_store_get(s, &c, &b, NULL), GM_ELIMIT);
	ASSERT_EQ(b.len, 0);
	gm_buf_release(&b);
	gm_free(path);
	gm_store_close(s);
}

struct corrupt_seen {
	char keys[4][GM_STORE_KEY_MAX];
	int n;
};

static void on_corrupt(void *ctx, const struct gm_cid *cid, const char *key,
		       const char *reason)
{
	struct corrupt_seen *cs = ctx;
	char k[GM_STORE_KEY_MAX];

	ASSERT(cs->n < 4);
	gm_store_key(cid, k, sizeof(k));
	ASSERT_STREQ(k, key);
	ASSERT(reason[0] != '\0');
	snprintf(cs->keys[cs->n++], GM_STORE_KEY_MAX, "%s", key);
}

TEST(verify_finds_exactly_the_corrupted_blocks)
{
	struct gm_store *s = open_store("st");
	struct gm_store_verify_result vr;
	struct corrupt_seen cs;
	struct gm_cid c[5];
	char k1[GM_STORE_KEY_MAX], k3[GM_STORE_KEY_MAX], *p;
	const char *texts[5] = {"one", "two", "three", "four", "five"};
	struct gm_diag d;
	int i;

	for (i = 0; i < 5; i++)
		put_raw(s, texts[i], &c[i]);
	memset(&cs, 0, sizeof(cs));
	ASSERT_OK(gm_store_verify(s, on_corrupt, &cs, &vr, NULL));
	ASSERT_EQ(vr.checked, 5);
	ASSERT_EQ(vr.corrupt, 0);
	ASSERT_EQ(cs.n, 0);

	p = gm_store_block_path(s, &c[1]);
	flip_byte(p, 1);
	gm_free(p);
	p = gm_store_block_path(s, &c[3]);
	ASSERT_EQ(truncate(p, 2), 0);
	gm_free(p);
	gm_store_key(&c[1], k1, sizeof(k1));
	gm_store_key(&c[3], k3, sizeof(k3));

	gm_diag_clear(&d);
	ASSERT_ERR(gm_store_verify(s, on_corrupt, &cs, &vr, &d), GM_ECORRUPT);
	ASSERT_EQ(vr.checked, 5);
	ASSERT_EQ(vr.corrupt, 2);
	ASSERT_EQ(cs.n, 2);
	ASSERT((!strcmp(cs.keys[0], k1) && !strcmp(cs.keys[1], k3)) ||
	       (!strcmp(cs.keys[0], k3) && !strcmp(cs.keys[1], k1)));
	ASSERT(strstr(d.msg, "2 of 5") != NULL);
	gm_store_close(s);
}

struct iter_seen {
	struct gm_cid cids[8];
	uint64_t sizes[8];
	int n;
};

static gm_err on_block(void *ctx, const struct gm_cid *cid, uint64_t size)
{
	struct iter_seen *is = ctx;

	ASSERT(is->n < 8);
	is->cids[is->n] = *cid;
	is->sizes[is->n++] = size;
	return GM_OK;
}

static gm_err stop_at_first(void *ctx, const struct gm_cid *cid, uint64_t size)
{
	(*(int *)ctx)++;
	return GM_ECONFLICT;
}

TEST(iterate_and_stat_skip_temporary_and_foreign_files)
{
	struct gm_store *s = open_store("st");
	struct gm_store_gc_result gr;
	struct gm_store_stat stt;
	struct iter_seen is;
	struct gm_cid a, b, v0;
	char *p, *shard;
	int i, calls = 0, found = 0;

	put_raw(s, "alpha", &a);
	put_raw(s, "beta!", &b);
	/* A v0 dag-pb block: iterate reports its multihash as CIDv1 raw. */
	ASSERT_OK(gm_cid_sha256(&v0, 0, GM_CODEC_DAG_PB,
				(const uint8_t *)"\x0a\x02\x08\x01", 4));
	ASSERT_OK(gm_store_put(s, &v0, (const uint8_t *)"\x0a\x02\x08\x01", 4,
			       NULL, NULL));
	/* Leftover temporary file, a foreign file, a misplaced block, all
	 * in the shard folder of a. */
	p = gm_store_block_path(s, &a);
	shard = gm_strndup(p, strrchr(p, '/') - p);
	gm_free(p);
	p = gm_path_join(shard, ".tmp-99-1");
	ASSERT_OK(gm_fs_write_atomic(p, "junk", 4, 0644, NULL));
	gm_free(p);
	p = gm_path_join(shard, "notes.txt");
	ASSERT_OK(gm_fs_write_atomic(p, "hi", 2, 0644, NULL));
	gm_free(p);
	p = gm_path_join(shard, "AFKREIA.data");
	ASSERT_OK(gm_fs_write_atomic(p, "x", 1, 0644, NULL));
	gm_free(p);

	memset(&is, 0, sizeof(is));
	ASSERT_OK(gm_store_iterate(s, on_block, &is, NULL));
	ASSERT_EQ(is.n, 3);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(is.cids[i].version, 1);
		ASSERT_EQ(is.cids[i].codec, GM_CODEC_RAW);
		if (gm_cid_equal(&is.cids[i], &a)) {
			ASSERT_EQ(is.sizes[i], 5);
			found |= 1;
		} else if (gm_cid_equal(&is.cids[i], &b)) {
			found |= 2;
		} else if (!memcmp(is.cids[i].digest, v0.digest, 32)) {
			ASSERT_EQ(is.sizes[i], 4);
			found |= 4;
		}
	}
	ASSERT_EQ(found, 7);
	ASSERT_ERR(gm_store_iterate(s, stop_at_first, &calls, NULL),
		   GM_ECONFLICT);
	ASSERT_EQ(calls, 1);

	ASSERT_OK(gm_store_pin_add(s, &a, NULL));
	ASSERT_OK(gm_store_stat(s, &stt, NULL));
	ASSERT_EQ(stt.blocks, 3);
	ASSERT_EQ(stt.bytes, 14);
	ASSERT_EQ(stt.pins, 1);

	/* A pin file left half-written by a crash. */
	p = gm_path_join(gm_test_tmpdir(), "st/pins/.tmp-99-7");
	ASSERT_OK(gm_fs_write_atomic(p, "bafy", 4, 0644, NULL));
	gm_free(p);
	ASSERT_OK(gm_store_stat(s, &stt, NULL));
	ASSERT_EQ(stt.pins, 1);

	ASSERT_OK(gm_store_gc(s, &gr, NULL));
	ASSERT_EQ(gr.temp_removed, 2);
	ASSERT_EQ(gr.kept, 1);
	ASSERT_EQ(gr.removed, 2);
	ASSERT_EQ(gr.bytes_freed, 9);
	p = gm_path_join(shard, "notes.txt");
	ASSERT_EQ(access(p, F_OK), 0);
	gm_free(p);
	gm_free(shard);
	gm_store_close(s);
}

TEST(gc_keeps_pinned_dags_and_removes_the_rest)
{
	struct gm_store *s = open_store("st");
	struct gm_store_gc_result gr;
	struct gm_store_stat stt;
	struct gm_cid a, b, c, shared, n1, root, d, root2, e, missing;
	struct gm_cid l[3];
	uint64_t freed;
	struct gm_buf buf;

	put_raw(s, "leaf a", &a);
	put_raw(s, "leaf b", &b);
	put_raw(s, "leaf c", &c);
	put_raw(s, "shared", &shared);
	raw_cid("never stored", &missing);
	l[0] = a;
	l[1] = b;
	l[2] = missing;
	put_node(s, l, 3, &n1);
	l[0] = n1;
	l[1] = c;
	l[2] = shared;
	put_node(s, l, 3, &root);

	put_raw(s, "leaf d", &d);
	l[0] = d;
	l[1] = shared;
	freed = put_node(s, l, 2, &root2);
	put_raw(s, "loose e", &e);
	freed += 6 + 7;

	ASSERT_OK(gm_store_pin_add(s, &root, NULL));
	/* A pin whose content has not arrived yet is fine. */
	ASSERT_OK(gm_store_pin_add(s, &missing, NULL));

	ASSERT_OK(gm_store_gc(s, &gr, NULL));
	ASSERT_EQ(gr.kept, 6);
	ASSERT_EQ(gr.removed, 3);
	ASSERT_EQ(gr.bytes_freed, freed);
	ASSERT_EQ(gr.temp_removed, 0);
	ASSERT(gm_store_has(s, &root));
	ASSERT(gm_store_has(s, &n1));
	ASSERT(gm_store_has(s, &a));
	ASSERT(gm_store_has(s, &b));
	ASSERT(gm_store_has(s, &c));
	ASSERT(gm_store_has(s, &shared));
	ASSERT(!gm_store_has(s, &root2));
	ASSERT(!gm_store_has(s, &d));
	ASSERT(!gm_store_has(s, &e));

	gm_buf_init(&buf, GM_BLOCK_MAX);
	ASSERT_OK(gm_store_get(s, &a, &buf, NULL));
	gm_buf_release(&buf);

	/* Unpinning the root lets the next gc take everything. */
	ASSERT_OK(gm_store_pin_rm(s, &root, NULL));
	ASSERT_OK(gm_store_gc(s, &gr, NULL));
	ASSERT_EQ(gr.kept, 0);
	ASSERT_EQ(gr.removed, 6);
	ASSERT_OK(gm_store_stat(s, &stt, NULL));
	ASSERT_EQ(stt.blocks, 0);
	ASSERT_EQ(stt.bytes, 0);
	ASSERT_EQ(stt.pins, 1);
	gm_store_close(s);
}

TEST(gc_walks_a_deep_chain_without_recursion)
{
	struct gm_store *s = open_store("st");
	struct gm_store_gc_result gr;
	struct gm_cid cur, next;
	int i;

	put_raw(s, "bottom", &cur);
	for (i = 0; i < 150; i++) {
		put_node(s, &cur, 1, &next);
		cur = next;
	}
	ASSERT_OK(gm_store_pin_add(s, &cur, NULL));
	put_raw(s, "garbage", &next);
	ASSERT_OK(gm_store_gc(s, &gr, NULL));
	ASSERT_EQ(gr.kept, 151);
	ASSERT_EQ(gr.removed, 1);
	gm_store_close(s);
}

TEST(pins_survive_reopen)
{
	struct gm_store *s = open_store("st");
	struct gm_cid a, b, v0, *list;
	char ta[GM_CID_MAX_STR], tb[GM_CID_MAX_STR];
	struct gm_diag d;
	size_t n;

	raw_cid("pin a", &a);
	raw_cid("pin b", &b);
	gm_cid_from_digest(&v0, 0, GM_CODEC_DAG_PB, a.digest);
	ASSERT_OK(gm_store_pin_list(s, &list, &n, NULL));
	ASSERT_EQ(n, 0);
	ASSERT(list == NULL);
	ASSERT_OK(gm_store_pin_add(s, &b, NULL));
	ASSERT_OK(gm_store_pin_add(s, &a, NULL));
	ASSERT_OK(gm_store_pin_add(s, &a, NULL));
	ASSERT(!gm_store_is_pinned(s, &v0));
	gm_store_close(s);

	s = open_store("st");
	ASSERT(gm_store_is_pinned(s, &a));
	ASSERT(gm_store_is_pinned(s, &b));
	ASSERT_OK(gm_store_pin_list(s, &list, &n, NULL));
	ASSERT_EQ(n, 2);
	gm_cid_format(&a, ta, sizeof(ta));
	gm_cid_format(&b, tb, sizeof(tb));
	/* Sorted by text form. */
	if (strcmp(ta, tb) < 0) {
		ASSERT(gm_cid_equal(&list[0], &a));
		ASSERT(gm_cid_equal(&list[1], &b));
	} else {
		ASSERT(gm_cid_equal(&list[0], &b));
		ASSERT(gm_cid_equal(&list[1], &a));
	}
	gm_free(list);
	ASSERT_OK(gm_store_pin_rm(s, &a, NULL));
	gm_diag_clear(&d);
	ASSERT_ERR(gm_store_pin_rm(s, &a, &d), GM_ENOENT);
	ASSERT(strstr(d.msg, ta) != NULL);
	gm_store_close(s);

	s = open_store("st");
	ASSERT(!gm_store_is_pinned(s, &a));
	ASSERT(gm_store_is_pinned(s, &b));
	gm_store_close(s);
}

TEST(sharding_mismatch_is_refused)
{
	char *dir = gm_path_join(gm_test_tmpdir(), "kubo");
	char *sh = gm_path_join(dir, "SHARDING");
	struct gm_store *s = (struct gm_store *)1;
	struct gm_diag d;

	ASSERT_OK(gm_fs_mkdir_p(dir, 0755, NULL));
	ASSERT_OK(gm_fs_write_atomic(sh, "/repo/flatfs/shard/v1/prefix/2\n", 31,
				     0644, NULL));
	gm_diag_clear(&d);
	ASSERT_ERR(gm_store_open(&s, dir, &d), GM_ECONFLICT);
	ASSERT(s == NULL);
	ASSERT(strstr(d.msg, "/repo/flatfs/shard/v1/prefix/2") != NULL);
	ASSERT(strstr(d.msg, "next-to-last/2") != NULL);

	/* kubo's own file (no trailing newline variant) is accepted. */
	ASSERT_OK(gm_fs_write_atomic(sh, GM_STORE_SHARDING,
				     strlen(GM_STORE_SHARDING), 0644, NULL));
	ASSERT_OK(gm_store_open(&s, dir, NULL));
	gm_store_close(s);
	gm_free(sh);
	gm_free(dir);
}

TEST(sink_and_source_adapters)
{
	struct gm_store *s = open_store("st");
	struct gm_block_sink sink;
	struct gm_block_source src;
	struct gm_cid c, bad;
	struct gm_buf b;

	gm_store_sink(s, &sink);
	gm_store_source(s, &src);
	raw_cid(HELLO, &c);
	raw_cid("nope", &bad);
	ASSERT_OK(sink.put(sink.ctx, &c, (const uint8_t *)HELLO, 12));
	ASSERT_ERR(sink.put(sink.ctx, &bad, (const uint8_t *)HELLO, 12),
		   GM_EINTEGRITY);
	gm_buf_init(&b, GM_BLOCK_MAX);
	ASSERT_OK(src.get(src.ctx, &c, &b));
	ASSERT_EQ(b.len, 12);
	ASSERT_MEMEQ(b.data, HELLO, 12);
	gm_buf_reset(&b);
	ASSERT_ERR(src.get(src.ctx, &bad, &b), GM_ENOENT);
	gm_buf_release(&b);
	gm_store_close(s);
}

TEST(oom_open_put_get_gc)
{
	struct gm_store *s = NULL;
	struct gm_store_gc_result gr;
	struct gm_cid c, l, root;
	struct gm_buf b;
	unsigned long n;
	char *dir;
	gm_err e;

	dir = gm_path_join(gm_test_tmpdir(), "oom");
	for (n = 1;; n++) {
		gm_alloc_fail_after(n);
		e = gm_store_open(&s, dir, NULL);
		gm_alloc_fail_after(0);
		if (e == GM_OK)
			break;
		ASSERT_ERR(e, GM_ENOMEM);
		ASSERT(s == NULL);
	}
	ASSERT(n > 1);
	raw_cid(HELLO, &c);
	for (n = 1;; n++) {
		gm_alloc_fail_after(n);
		e = gm_store_put(s, &c, (const uint8_t *)HELLO, 12, NULL, NULL);
		gm_alloc_fail_after(0);
		if (e == GM_OK)
			break;
		ASSERT_ERR(e, GM_ENOMEM);
		ASSERT(!gm_store_has(s, &c));
	}
	ASSERT(n > 1);
	gm_buf_init(&b, GM_BLOCK_MAX);
	for (n = 1;; n++) {
		gm_alloc_fail_after(n);
		e = gm_store_get(s, &c, &b, NULL);
		gm_alloc_fail_after(0);
		if (e == GM_OK)
			break;
		ASSERT_ERR(e, GM_ENOMEM);
		ASSERT_EQ(b.len, 0);
	}
	ASSERT_EQ(b.len, 12);
	gm_buf_release(&b);

	l = c;
	put_node(s, &l, 1, &root);
	ASSERT_OK(gm_store_pin_add(s, &root, NULL));
	put_raw(s, "garbage", &l);
	for (n = 1;; n++) {
		gm_alloc_fail_after(n);
		e = gm_store_gc(s, &gr, NULL);
		gm_alloc_fail_after(0);
		if (e == GM_OK)
			break;
		ASSERT_ERR(e, GM_ENOMEM);
		/* A failed gc never removes a reachable block. */
		ASSERT(gm_store_has(s, &c));
		ASSERT(gm_store_has(s, &root));
	}
	ASSERT_EQ(gr.kept, 2);
	ASSERT(!gm_store_has(s, &l));
	gm_store_close(s);
	gm_free(dir);
}
