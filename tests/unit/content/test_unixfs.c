/*
 * test_unixfs.c - UnixFS import against CIDs of the reference importer
 * (ipfs-unixfs-importer 17.1.1, {cidVersion: 1, rawLeaves: true}; the
 * literals were computed once with node), round trips through an in-memory
 * block map, and hostile DAGs built by hand with gm_dagpb_encode.
 *
 * pattern(n) is byte i = (uint32)(i * 2654435761) >> 24 (no two chunks
 * alike), the same in the node script that made the literals.
 */
#include "harness.h"

#include <dirent.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "gm/buf.h"
#include "gm/dagpb.h"
#include "gm/fs.h"
#include "gm/unixfs.h"

#define CID_EMPTY "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
#define CID_HELLO "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"
#define CID_P262144                                                            \
	"bafkreiecq6sthzzdvpdhqwwpdczxx26e4t3e5wmnzviqmqdphldgfqoe3m"
#define CID_P262145                                                            \
	"bafybeigipb3upfgc7d3pg3llsnskvcftvdsi6mhqvmuxde2mq3do4gk47m"
#define CID_P174 "bafybeidimne5wf5ewfzo7j3i6rqielsyhrfd3gchn3xe5vjxbzxs5d5rye"
#define CID_P174P1 "bafybeiajrrb2wso56upygo5ncasyf7ychzfsllqzv4yen5vlyacji47x5q"
#define CID_P16 "bafybeiaso3zjdhen4s2aatlp6nnwsyy2zzdn3fr5f6frlwoxwvp3b2h5ky"
#define CID_P37 "bafybeieegys5s65borw62ykwqncgjmwotwy3ykf3zoxg6pj6utobvr7hkq"
#define CID_TREE "bafybeiegk3cjv4kxyoelytufjc4vft4bwjdu6xz57lzva5oixl6skjqxfy"
#define CID_TREE_FILTERED                                                      \
	"bafybeieigg4fpmc2rlf6vivtgtke2lxbayhsktwbpujs2pbi6uhtftmtmq"
#define CID_EMPTY_DIR                                                          \
	"bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354"
#define CID_FLAT_1024                                                          \
	"bafybeidx6qfpp6f4hl3oys47lro6iiqqcmtjipovx5s6k7e6hgpkhtynja"

/* ---- helpers ---- */

static uint8_t *pattern(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	size_t i;

	ASSERT(p != NULL);
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)((uint32_t)(i * 2654435761u) >> 24);
	return p;
}

static const char *cid_str(const struct gm_cid *c)
{
	static char s[4][GM_CID_MAX_STR];
	static int k;

	k = (k + 1) % 4;
	ASSERT(gm_cid_format(c, s[k], sizeof(s[k])) > 0);
	return s[k];
}

static void cid_parse(struct gm_cid *c, const char *s)
{
	ASSERT_OK(gm_cid_parse(c, s, strlen(s), NULL));
}

/* In-memory block map; plain malloc so the OOM walks only hit the library. */
struct mem_block {
	struct gm_cid cid;
	uint8_t *data;
	size_t len;
};

struct mem_map {
	struct mem_block *v;
	size_t n, cap;
	size_t puts;
	/* A lying source: for lie_cid, return lie_data instead. */
	bool lie;
	struct gm_cid lie_cid;
	const uint8_t *lie_data;
	size_t lie_len;
};

static gm_err mem_put(void *ctx, const struct gm_cid *cid, const uint8_t *data,
		      size_t len)
{
	struct mem_map *m = ctx;
	size_t i;

	m->puts++;
	for (i = 0; i < m->n; i++)
		if (gm_cid_equal(&m->v[i].cid, cid))
			return GM_OK;
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->v = realloc(m->v, m->cap * sizeof(*m->v));
		ASSERT(m->v != NULL);
	}
	m->v[m->n].cid = *cid;
	m->v[m->n].data = malloc(len ? len : 1);
	ASSERT(m->v[m->n].data != NULL);
	if (len)
		memcpy(m->v[m->n].data, data, len);
	m->v[m->n].len = len;
	m->n++;
	return GM_OK;
}

static gm_err mem_get(void *ctx, const struct gm_cid *cid, struct gm_buf *out)
{
	struct mem_map *m = ctx;
	size_t i;

	if (m->lie && gm_cid_equal(&m->lie_cid, cid))
		return gm_buf_append(out, m->lie_data, m->lie_len);
	for (i = 0; i < m->n; i++)
		if (gm_cid_equal(&m->v[i].cid, cid))
			return gm_buf_append(out, m->v[i].data, m->v[i].len);
	return GM_ENOENT;
}

static void mem_free(struct mem_map *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i].data);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

static const struct mem_block *mem_find(const struct mem_map *m,
					const struct gm_cid *cid)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (gm_cid_equal(&m->v[i].cid, cid))
			return &m->v[i];
	return NULL;
}

static struct gm_block_sink sink_of(struct mem_map *m)
{
	struct gm_block_sink s = {mem_put, m};

	return s;
}

static struct gm_block_source source_of(struct mem_map *m)
{
	struct gm_block_source s = {mem_get, m};

	return s;
}

static void put_raw(struct mem_map *m, const void *p, size_t n,
		    struct gm_cid *out)
{
	ASSERT_OK(gm_cid_sha256(out, 1, GM_CODEC_RAW, p, n));
	ASSERT_OK(mem_put(m, out, p, n));
}

static struct gm_dagpb_link mk_link(const struct gm_cid *c, const char *name,
				    uint64_t tsize)
{
	struct gm_dagpb_link k;

	memset(&k, 0, sizeof(k));
	k.cid = *c;
	k.name = (const uint8_t *)name;
	k.name_len = strlen(name);
	k.has_name = true;
	k.tsize = tsize;
	k.has_tsize = true;
	return k;
}

/* Encodes a dag-pb node (links given in the order to write), stores it. */
static void put_pb(struct mem_map *m, struct gm_dagpb_link *links, size_t n,
		   const uint8_t *data, size_t dlen, struct gm_cid *out)
{
	struct gm_dagpb_node node;
	struct gm_buf b;

	memset(&node, 0, sizeof(node));
	node.links = links;
	node.n_links = n;
	node.data = data;
	node.data_len = dlen;
	node.has_data = true;
	gm_buf_init(&b, GM_BLOCK_MAX);
	ASSERT_OK(gm_dagpb_encode(&node, &b));
	ASSERT_OK(gm_cid_sha256(out, 1, GM_CODEC_DAG_PB, b.data, b.len));
	ASSERT_OK(mem_put(m, out, b.data, b.len));
	gm_buf_release(&b);
}

static const uint8_t DIR_DATA[] = {0x08, 0x01};

static void write_file(const char *dir, const char *rel, const void *p,
		       size_t n)
{
	char *path = gm_path_join(dir, rel);

	ASSERT(path != NULL);
	ASSERT_OK(gm_fs_write_atomic(path, p, n, 0644, NULL));
	gm_free(path);
}

static void make_dir(const char *dir, const char *rel)
{
	char *path = gm_path_join(dir, rel);

	ASSERT(path != NULL);
	ASSERT_OK(gm_fs_mkdir_p(path, 0755, NULL));
	gm_free(path);
}

/* The tree of CID_TREE under dir/r; returns the root path (gm_free). */
static char *make_tree(const char *dir)
{
	uint8_t *big = pattern(262145);
	char *root = gm_path_join(dir, "r");

	ASSERT(root != NULL);
	make_dir(root, "sub/deeper");
	make_dir(root, "emptydir");
	write_file(root, "a.txt", "x", 1);
	write_file(root, "B", "B", 1);
	write_file(root, "sub/empty", "", 0);
	write_file(root,
		   "sub/\xc3\xb1"
		   "ame-\xe6\x97\xa5\xe6\x9c\xac.txt",
		   "h\xc3\xa9llo", 6);
	write_file(root, "sub/deeper/big", big, 262145);
	free(big);
	return root;
}

static size_t count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	size_t n = 0;

	ASSERT(d != NULL);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void assert_file(const char *dir, const char *rel, const void *want,
			size_t n)
{
	char *path = gm_path_join(dir, rel);
	struct gm_buf b;

	ASSERT(path != NULL);
	gm_buf_init(&b, 1u << 26);
	ASSERT_OK(gm_fs_read_file(path, &b, NULL));
	ASSERT_EQ(b.len, n);
	if (n)
		ASSERT_MEMEQ(b.data, want, n);
	gm_buf_release(&b);
	gm_free(path);
}

/* ---- import: known CIDs ---- */

static void check_bytes(size_t n, const uint8_t *p, const char *want,
			uint64_t blocks, uint64_t dag_size)
{
	struct gm_unixfs_result r;
	struct gm_diag d;

	gm_diag_clear(&d);
	ASSERT_OK(gm_unixfs_import_bytes(p, n, NULL, &r, &d));
	ASSERT_STREQ(cid_str(&r.root), want);
	ASSERT_EQ(r.content_bytes, n);
	ASSERT_EQ(r.blocks, blocks);
	ASSERT_EQ(r.dag_size, dag_size);
	ASSERT_EQ(r.files, 1);
	ASSERT_EQ(r.dirs, 0);
}

TEST(import_bytes_small_files_match_reference)
{
	uint8_t *p = pattern(262145);

	check_bytes(0, NULL, CID_EMPTY, 1, 0);
	check_bytes(12, (const uint8_t *)"hello world\n", CID_HELLO, 1, 12);
	check_bytes(262144, p, CID_P262144, 1, 262144);
	/* Two leaves and one File node of 104 bytes. */
	check_bytes(262145, p, CID_P262145, 3, 262249);
	free(p);
}

TEST(import_bytes_second_tree_level_matches_reference)
{
	size_t n = 174u * 262144;
	uint8_t *p = pattern(n + 1);

	/* 174 leaves fill exactly one node. */
	check_bytes(n, p, CID_P174, 175, 45621766);
	/* One more byte: two level-1 nodes (174 + 1 leaves) and a root. */
	check_bytes(n + 1, p, CID_P174P1, 178, 45621926);
	free(p);
}

TEST(import_blocks_reach_the_sink_and_decode)
{
	struct mem_map m = {0};
	struct gm_block_sink s = sink_of(&m);
	struct gm_unixfs_result r;
	struct gm_dagpb_node node;
	const struct mem_block *root;
	uint8_t *p = pattern(262145);

	ASSERT_OK(gm_unixfs_import_bytes(p, 262145, &s, &r, NULL));
	ASSERT_EQ(m.puts, 3);
	root = mem_find(&m, &r.root);
	ASSERT(root != NULL);
	ASSERT_EQ(root->len, 104);
	gm_dagpb_node_init(&node);
	ASSERT_OK(gm_dagpb_decode(&node, root->data, root->len, NULL));
	ASSERT_EQ(node.n_links, 2);
	ASSERT(node.links[0].has_name && node.links[0].name_len == 0);
	ASSERT_EQ(node.links[0].tsize, 262144);
	ASSERT_EQ(node.links[1].tsize, 1);
	/* Type=File, filesize=262145, blocksizes 262144 and 1; no Data. */
	{
		static const uint8_t want[] = {0x08, 0x02, 0x18, 0x81,
					       0x80, 0x10, 0x20, 0x80,
					       0x80, 0x10, 0x20, 0x01};

		ASSERT_EQ(node.data_len, sizeof(want));
		ASSERT_MEMEQ(node.data, want, sizeof(want));
	}
	gm_dagpb_node_release(&node);
	mem_free(&m);
	free(p);
}

TEST(import_path_tree_matches_reference)
{
	char *root = make_tree(gm_test_tmpdir());
	struct gm_unixfs_result r;
	struct gm_diag d;

	gm_diag_clear(&d);
	ASSERT_OK(gm_unixfs_import_path(root, NULL, NULL, &r, &d));
	ASSERT_STREQ(cid_str(&r.root), CID_TREE);
	ASSERT_EQ(r.dag_size, 262678);
	ASSERT_EQ(r.files, 5);
	ASSERT_EQ(r.dirs, 4);
	ASSERT_EQ(r.content_bytes, 1 + 1 + 0 + 6 + 262145);
	/* 3 blocks of big, 4 other files, 4 folders. */
	ASSERT_EQ(r.blocks, 11);
	gm_free(root);
}

/* Files of more than four chunks are read and hashed by a thread pool. */
TEST(import_path_large_files_use_the_pool_and_match)
{
	const char *tmp = gm_test_tmpdir();
	size_t n16 = 16u * 262144, n37 = 37u * 262144 + 5;
	uint8_t *p = pattern(n37);
	struct mem_map m = {0};
	struct gm_block_sink s = sink_of(&m);
	struct gm_block_source src = source_of(&m);
	struct gm_unixfs_result r;
	char *path, *out;

	/* Exactly one batch of 16 chunks, then 37 chunks and 5 bytes. */
	write_file(tmp, "p16", p, n16);
	write_file(tmp, "p37", p, n37);
	path = gm_path_join(tmp, "p16");
	ASSERT_OK(gm_unixfs_import_path(path, NULL, NULL, &r, NULL));
	ASSERT_STREQ(cid_str(&r.root), CID_P16);
	ASSERT_EQ(r.dag_size, 4195113);
	ASSERT_EQ(r.blocks, 17);
	gm_free(path);
	path = gm_path_join(tmp, "p37");
	ASSERT_OK(gm_unixfs_import_path(path, NULL, NULL, &r, NULL));
	ASSERT_STREQ(cid_str(&r.root), CID_P37);
	ASSERT_EQ(r.dag_size, 9701239);
	ASSERT_EQ(r.content_bytes, n37);
	/* With a sink: the blocks arrive whole and in order. */
	ASSERT_OK(gm_unixfs_import_path(path, &s, NULL, &r, NULL));
	ASSERT_STREQ(cid_str(&r.root), CID_P37);
	ASSERT_EQ(m.puts, 39);
	ASSERT_EQ(m.v[0].len, 262144);
	ASSERT_MEMEQ(m.v[0].data, p, 262144);
	ASSERT_EQ(m.v[37].len, 5);
	ASSERT_MEMEQ(m.v[37].data, p + 37u * 262144, 5);
	out = gm_path_join(tmp, "out");
	ASSERT_OK(gm_unixfs_export(&src, &r.root, out, NULL, NULL));
	assert_file(tmp, "out", p, n37);
	gm_free(out);
	gm_free(path);
	mem_free(&m);
	free(p);
}

TEST(import_path_single_file_and_empty_folder)
{
	const char *tmp = gm_test_tmpdir();
	struct gm_unixfs_result r;
	char *p;

	write_file(tmp, "hello", "hello world\n", 12);
	p = gm_path_join(tmp, "hello");
	ASSERT_OK(gm_unixfs_import_path(p, NULL, NULL, &r, NULL));
	ASSERT_STREQ(cid_str(&r.root), CID_HELLO);
	gm_free(p);
	make_dir(tmp, "e");
	p = gm_path_join(tmp, "e");
	ASSERT_OK(gm_unixfs_import_path(p, NULL, NULL, &r, NULL));
	ASSERT_STREQ(cid_str(&r.root), CID_EMPTY_DIR);
	ASSERT_EQ(r.dag_size, 4);
	ASSERT_EQ(r.dirs, 1);
	gm_free(p);
}

struct filter_log {
	int calls;
	bool saw_sub;
	bool saw_inside_sub;
};

static bool skip_sub(void *ctx, const char *rel, const struct stat *st)
{
	struct filter_log *l = ctx;

	l->calls++;
	if (!strcmp(rel, "sub")) {
		l->saw_sub = S_ISDIR(st->st_mode);
		return false;
	}
	if (!strncmp(rel, "sub/", 4))
		l->saw_inside_sub = true;
	return true;
}

TEST(import_filter_skips_entries)
{
	char *root = make_tree(gm_test_tmpdir());
	struct filter_log log = {0};
	struct gm_unixfs_import_opts o = {skip_sub, &log};
	struct gm_unixfs_result r;

	ASSERT_OK(gm_unixfs_import_path(root, NULL, &o, &r, NULL));
	ASSERT_STREQ(cid_str(&r.root), CID_TREE_FILTERED);
	ASSERT(log.saw_sub);
	ASSERT(!log.saw_inside_sub);
	ASSERT_EQ(log.calls, 4); /* a.txt, B, emptydir, sub */
	gm_free(root);
}

TEST(import_refuses_symlinks_fifos_and_sockets)
{
	const char *tmp = gm_test_tmpdir();
	char *root = make_tree(tmp), *p;
	struct gm_unixfs_result r;
	struct sockaddr_un sa;
	struct gm_diag d;
	int s;

	p = gm_path_join(root, "sub/link");
	ASSERT(symlink("../a.txt", p) == 0);
	gm_diag_clear(&d);
	ASSERT_ERR(gm_unixfs_import_path(root, NULL, NULL, &r, &d), GM_EUNSAFE);
	ASSERT(strstr(d.msg, "sub/link") != NULL);
	ASSERT(strstr(d.msg, "symbolic link") != NULL);
	/* The root itself being a link is refused too. */
	gm_diag_clear(&d);
	ASSERT_ERR(gm_unixfs_import_path(p, NULL, NULL, &r, &d), GM_EUNSAFE);
	ASSERT(unlink(p) == 0);
	gm_free(p);

	p = gm_path_join(root, "fifo");
	ASSERT(mkfifo(p, 0644) == 0);
	gm_diag_clear(&d);
	ASSERT_ERR(gm_unixfs_import_path(root, NULL, NULL, &r, &d), GM_EUNSAFE);
	ASSERT(strstr(d.msg, "fifo") != NULL);
	ASSERT(unlink(p) == 0);
	gm_free(p);

	p = gm_path_join(root, "sock");
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT(s >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	ASSERT(strlen(p) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, p, strlen(p));
	ASSERT(bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	gm_diag_clear(&d);
	ASSERT_ERR(gm_unixfs_import_path(root, NULL, NULL, &r, &d), GM_EUNSAFE);
	ASSERT(strstr(d.msg, "socket") != NULL);
	close(s);
	ASSERT(unlink(p) == 0);
	gm_free(p);

	/* Back to the plain tree. */
	ASSERT_OK(gm_unixfs_import_path(root, NULL, NULL, &r, NULL));
	ASSERT_STREQ(cid_str(&r.root), CID_TREE);
	gm_free(root);
}

TEST(import_refuses_folders_ipfs_would_shard)
{
	const char *tmp = gm_test_tmpdir();
	struct gm_unixfs_result r;
	struct gm_diag d;
	char name[256], name2[256], *root, *p, *q;
	int i, fd;

	/* 1024 x (220 + 36) = 262144 exactly: still flat in the reference. */
	root = gm_path_join(tmp, "many");
	make_dir(root, ".");
	for (i = 0; i < 1024; i++) {
		snprintf(name, sizeof(name), "%s/%0220d", root, i);
		fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0644);
		ASSERT(fd >= 0);
		close(fd);
	}
	ASSERT_OK(gm_unixfs_import_path(root, NULL, NULL, &r, NULL));
	ASSERT_STREQ(cid_str(&r.root), CID_FLAT_1024);
	/* One byte more in one name: the reference shards, we refuse. */
	snprintf(name, sizeof(name), "%0220d", 0);
	snprintf(name2, sizeof(name2), "%0220dx", 0);
	p = gm_path_join(root, name);
	q = gm_path_join(root, name2);
	ASSERT(p && q && rename(p, q) == 0);
	gm_diag_clear(&d);
	ASSERT_ERR(gm_unixfs_import_path(root, NULL, NULL, &r, &d),
		   GM_EUNSUPPORTED);
	ASSERT(strstr(d.msg, "many' has too many entries (1024)") != NULL);
	ASSERT(strstr(d.msg, "sharded") != NULL);
	gm_free(p);
	gm_free(q);
	gm_free(root);
}

TEST(import_refuses_names_that_are_not_utf8)
{
	const char *tmp = gm_test_tmpdir();
	struct gm_unixfs_result r;
	struct gm_diag d;
	char *root = gm_path_join(tmp, "u");

	make_dir(root, ".");
	write_file(root, "bad\xff", "", 0);
	gm_diag_clear(&d);
	ASSERT_ERR(gm_unixfs_import_path(root, NULL, NULL, &r, &d),
		   GM_EUNSUPPORTED);
	ASSERT(strstr(d.msg, "UTF-8") != NULL);
	gm_free(root);
}

TEST(import_missing_path_is_enoent)
{
	struct gm_unixfs_result r;
	struct gm_diag d;

	gm_diag_clear(&d);
	ASSERT_ERR(gm_unixfs_import_path("/nonexistent/x", NULL, NULL, &r, &d),
		   GM_ENOENT);
	ASSERT(strstr(d.msg, "/nonexistent/x") != NULL);
}

/* ---- round trips ---- */

TEST(roundtrip_tree_through_memory)
{
	const char *tmp = gm_test_tmpdir();
	char *root = make_tree(tmp), *out = gm_path_join(tmp, "out");
	struct mem_map m = {0};
	struct gm_block_sink s = sink_of(&m);
	struct gm_block_source src = source_of(&m);
	struct gm_unixfs_result r, r2;
	uint8_t *big = pattern(262145);
	struct gm_diag d;
	char *p;

	ASSERT_OK(gm_unixfs_import_path(root, &s, NULL, &r, NULL));
	ASSERT_EQ(m.puts, r.blocks);
	gm_diag_clear(&d);
	ASSERT_OK(gm_unixfs_export(&src, &r.root, out, NULL, &d));
	assert_file(out, "a.txt", "x", 1);
	assert_file(out, "B", "B", 1);
	assert_file(out, "sub/empty", "", 0);
	assert_file(out,
		    "sub/\xc3\xb1"
		    "ame-\xe6\x97\xa5\xe6\x9c\xac.txt",
		    "h\xc3\xa9llo", 6);
	assert_file(out, "sub/deeper/big", big, 262145);
	p = gm_path_join(out, "emptydir");
	ASSERT_EQ(count_dir(p), 0);
	gm_free(p);
	ASSERT_EQ(count_dir(out), 4);
	/* Only out and the two inputs' folder in tmp: no temporary left. */
	ASSERT_EQ(count_dir(tmp), 2);
	/* Re-importing the export gives the same root. */
	ASSERT_OK(gm_unixfs_import_path(out, NULL, NULL, &r2, NULL));
	ASSERT(gm_cid_equal(&r.root, &r2.root));
	/* The target now exists: a second export is refused. */
	gm_diag_clear(&d);
	ASSERT_ERR(gm_unixfs_export(&src, &r.root, out, NULL, &d), GM_EEXIST);
	ASSERT(strstr(d.msg, out) != NULL);
	free(big);
	mem_free(&m);
	gm_free(root);
	gm_free(out);
}

TEST(roundtrip_multi_chunk_file)
{
	const char *tmp = gm_test_tmpdir();
	size_t n = 3 * 262144 + 5;
	uint8_t *p = pattern(n);
	char *out = gm_path_join(tmp, "f");
	struct mem_map m = {0};
	struct gm_block_sink s = sink_of(&m);
	struct gm_block_source src = source_of(&m);
	struct gm_unixfs_result r;

	ASSERT_OK(gm_unixfs_import_bytes(p, n, &s, &r, NULL));
	ASSERT_OK(gm_unixfs_export(&src, &r.root, out, NULL, NULL));
	assert_file(tmp, "f", p, n);
	/* A raw root exports as a file too. */
	ASSERT_OK(gm_unixfs_import_bytes(p, 100, &s, &r, NULL));
	ASSERT_EQ(r.root.codec, GM_CODEC_RAW);
	gm_free(out);
	out = gm_path_join(tmp, "g");
	ASSERT_OK(gm_unixfs_export(&src, &r.root, out, NULL, NULL));
	assert_file(tmp, "g", p, 100);
	/* A relative target: the temporary goes into the current folder. */
	ASSERT(chdir(tmp) == 0);
	ASSERT_OK(gm_unixfs_export(&src, &r.root, "rel/", NULL, NULL));
	assert_file(tmp, "rel", p, 100);
	ASSERT_EQ(count_dir(tmp), 3);
	free(p);
	mem_free(&m);
	gm_free(out);
}

TEST(export_inline_identity_block)
{
	struct mem_map m = {0};
	struct gm_block_source src = source_of(&m);
	struct gm_dagpb_link k;
	struct gm_cid id, top;
	char *out = gm_path_join(gm_test_tmpdir(), "o");

	/* Not in the map: the bytes travel inside the CID. */
	memset(&id, 0, sizeof(id));
	id.version = 1;
	id.codec = GM_CODEC_RAW;
	id.mh_code = GM_MH_IDENTITY;
	id.digest_len = 2;
	memcpy(id.digest, "hi", 2);
	k = mk_link(&id, "inline", 2);
	put_pb(&m, &k, 1, DIR_DATA, sizeof(DIR_DATA), &top);
	ASSERT_OK(gm_unixfs_export(&src, &top, out, NULL, NULL));
	assert_file(out, "inline", "hi", 2);
	mem_free(&m);
	gm_free(out);
}

/* ---- hostile DAGs ---- */

struct hostile {
	struct mem_map m;
	struct gm_block_source src;
	char *parent; /* an empty folder that receives the export */
	char *out;
	struct gm_cid leaf; /* raw "hello" */
};

static void hostile_init(struct hostile *h)
{
	memset(h, 0, sizeof(*h));
	h->src = source_of(&h->m);
	h->parent = gm_path_join(gm_test_tmpdir(), "x");
	ASSERT(h->parent != NULL);
	make_dir(h->parent, ".");
	h->out = gm_path_join(h->parent, "out");
	ASSERT(h->out != NULL);
	put_raw(&h->m, "hello", 5, &h->leaf);
}

/* Exports root, expecting want and a diag containing needle; no trace. */
static void expect_refusal(struct hostile *h, const struct gm_cid *root,
			   const struct gm_unixfs_limits *lim, gm_err want,
			   const char *needle)
{
	struct gm_diag d;

	gm_diag_clear(&d);
	ASSERT_ERR(gm_unixfs_export(&h->src, root, h->out, lim, &d), want);
	if (!strstr(d.msg, needle))
		gm_test_fail(__FILE__, __LINE__, "diag '%s' lacks '%s'", d.msg,
			     needle);
	ASSERT(!exists(h->out));
	ASSERT_EQ(count_dir(h->parent), 0);
}

static void hostile_free(struct hostile *h)
{
	mem_free(&h->m);
	gm_free(h->parent);
	gm_free(h->out);
}

/* A folder whose one good file comes first, then the bad entry. */
static void dir_of(struct hostile *h, const char *const *names, size_t n,
		   struct gm_cid *out)
{
	struct gm_dagpb_link links[8];
	size_t i;

	ASSERT(n <= 8);
	for (i = 0; i < n; i++)
		links[i] = mk_link(&h->leaf, names[i], 5);
	put_pb(&h->m, links, n, DIR_DATA, sizeof(DIR_DATA), out);
}

TEST(export_refuses_bad_names)
{
	static const char *const dotdot[] = {"a", ".."};
	static const char *const dot[] = {"."};
	static const char *const slash[] = {"a", "b/c"};
	static const char *const empty[] = {""};
	static const char *const dup[] = {"a", "a"};
	static const char *const cased[] = {"README", "b", "readme"};
	struct hostile h;
	struct gm_cid c;

	hostile_init(&h);
	dir_of(&h, dotdot, 2, &c);
	expect_refusal(&h, &c, NULL, GM_EUNSAFE, "'..'");
	dir_of(&h, dot, 1, &c);
	expect_refusal(&h, &c, NULL, GM_EUNSAFE, "relative path");
	dir_of(&h, slash, 2, &c);
	expect_refusal(&h, &c, NULL, GM_EUNSAFE, "'b/c' contains '/'");
	dir_of(&h, empty, 1, &c);
	expect_refusal(&h, &c, NULL, GM_EUNSAFE, "is empty");
	dir_of(&h, dup, 2, &c);
	expect_refusal(&h, &c, NULL, GM_EUNSAFE, "'a' twice");
	dir_of(&h, cased, 3, &c);
	expect_refusal(&h, &c, NULL, GM_EUNSAFE, "differ only in case");
	hostile_free(&h);
}

TEST(export_refuses_name_with_nul)
{
	struct hostile h;
	struct gm_dagpb_link k;
	struct gm_cid c;

	hostile_init(&h);
	k = mk_link(&h.leaf, "a", 5);
	k.name = (const uint8_t *)"a\0b";
	k.name_len = 3;
	put_pb(&h.m, &k, 1, DIR_DATA, sizeof(DIR_DATA), &c);
	expect_refusal(&h, &c, NULL, GM_EUNSAFE, "NUL");
	hostile_free(&h);
}

TEST(export_refuses_size_lies)
{
	/* Type=File, filesize=9, blocksizes=[5]: filesize lies. */
	static const uint8_t fsize_lie[] = {0x08, 0x02, 0x18, 0x09, 0x20, 0x05};
	/* filesize=6, blocksizes=[6] but the leaf has 5 bytes. */
	static const uint8_t leaf_lie[] = {0x08, 0x02, 0x18, 0x06, 0x20, 0x06};
	/* Two blocksizes for one link. */
	static const uint8_t count_lie[] = {0x08, 0x02, 0x18, 0x0a,
					    0x20, 0x05, 0x20, 0x05};
	/* Honest, with the blocksizes packed: accepted. */
	static const uint8_t packed[] = {0x08, 0x02, 0x18, 0x0a,
					 0x22, 0x02, 0x05, 0x05};
	struct hostile h;
	struct gm_dagpb_link k[2];
	struct gm_cid c, top;

	hostile_init(&h);
	k[0] = mk_link(&h.leaf, "", 5);
	put_pb(&h.m, k, 1, fsize_lie, sizeof(fsize_lie), &c);
	expect_refusal(&h, &c, NULL, GM_EUNSAFE, "filesize");
	put_pb(&h.m, k, 1, leaf_lie, sizeof(leaf_lie), &c);
	expect_refusal(&h, &c, NULL, GM_EUNSAFE, "raw leaf length");
	put_pb(&h.m, k, 1, count_lie, sizeof(count_lie), &c);
	expect_refusal(&h, &c, NULL, GM_EUNSAFE, "number of links");
	/* A lie one level down, under an honest-looking parent. */
	{
		static const uint8_t parent[] = {0x08, 0x02, 0x18,
						 0x06, 0x20, 0x06};

		put_pb(&h.m, k, 1, fsize_lie, sizeof(fsize_lie), &c);
		k[1] = mk_link(&c, "", 100);
		put_pb(&h.m, &k[1], 1, parent, sizeof(parent), &top);
		expect_refusal(&h, &top, NULL, GM_EUNSAFE, "disagree");
	}
	k[1] = k[0];
	put_pb(&h.m, k, 2, packed, sizeof(packed), &c);
	ASSERT_OK(gm_unixfs_export(&h.src, &c, h.out, NULL, NULL));
	assert_file(h.parent, "out", "hellohello", 10);
	hostile_free(&h);
}

TEST(export_refuses_zero_byte_file_links)
{
	/*
	 * Found with fuzz_unixfs (seed zero_size_bomb): links of 0 bytes
	 * cost a fetch each without touching the byte budget, so 16 blocks
	 * each linking the next 64 times kept the exporter busy for ever
	 * (64^14 fetches under the default limits). Type=File, filesize=0,
	 * blocksizes=[0, 0, 0] over an empty raw leaf.
	 */
	static const uint8_t zeros[] = {0x08, 0x02, 0x18, 0x00, 0x20,
					0x00, 0x20, 0x00, 0x20, 0x00};
	/* The same shape one level up: blocksizes=[0] * 8. */
	static const uint8_t zeros8[] = {
	    0x08, 0x02, 0x18, 0x00, 0x20, 0x00, 0x20, 0x00, 0x20, 0x00,
	    0x20, 0x00, 0x20, 0x00, 0x20, 0x00, 0x20, 0x00, 0x20, 0x00};
	struct hostile h;
	struct gm_dagpb_link k[8];
	struct gm_cid empty, c, top;
	int i, level;

	hostile_init(&h);
	put_raw(&h.m, "", 0, &empty);
	for (i = 0; i < 3; i++)
		k[i] = mk_link(&empty, "", 0);
	put_pb(&h.m, k, 3, zeros, sizeof(zeros), &c);
	expect_refusal(&h, &c, NULL, GM_EUNSAFE, "link 0 holds 0 bytes");
	/* A small bomb below an honest folder entry. */
	for (level = 0; level < 3; level++) {
		for (i = 0; i < 8; i++)
			k[i] = mk_link(&c, "", 10);
		put_pb(&h.m, k, 8, zeros8, sizeof(zeros8), &c);
	}
	k[0] = mk_link(&h.leaf, "a", 5);
	k[1] = mk_link(&c, "bomb", 100);
	put_pb(&h.m, k, 2, DIR_DATA, sizeof(DIR_DATA), &top);
	expect_refusal(&h, &top, NULL, GM_EUNSAFE, "bomb' has a file node");
	/* The empty leaf on its own is a fine empty file. */
	ASSERT_OK(gm_unixfs_export(&h.src, &empty, h.out, NULL, NULL));
	assert_file(h.parent, "out", "", 0);
	hostile_free(&h);
}

TEST(export_refuses_tampered_and_missing_blocks)
{
	static const char *const names[] = {"a", "b"};
	struct hostile h;
	struct gm_cid c, missing;

	hostile_init(&h);
	dir_of(&h, names, 2, &c);
	h.m.lie = true;
	h.m.lie_cid = h.leaf;
	h.m.lie_data = (const uint8_t *)"HELLO";
	h.m.lie_len = 5;
	expect_refusal(&h, &c, NULL, GM_EINTEGRITY, cid_str(&h.leaf));
	h.m.lie = false;
	ASSERT_OK(gm_cid_sha256(&missing, 1, GM_CODEC_RAW,
				(const uint8_t *)"nope", 4));
	expect_refusal(&h, &missing, NULL, GM_ENOENT, "not available");
	hostile_free(&h);
}

TEST(export_refuses_a_cycle_from_a_lying_source)
{
	/*
	 * Hashes cannot form a cycle, so only a source that lies can present
	 * one: here the child "loop" answers with the bytes of its parent.
	 * Verification catches the lie before the walk could go round.
	 */
	struct hostile h;
	struct gm_dagpb_link k;
	struct gm_cid fake, top;
	const struct mem_block *b;

	hostile_init(&h);
	ASSERT_OK(
	    gm_cid_sha256(&fake, 1, GM_CODEC_DAG_PB, (const uint8_t *)"x", 1));
	k = mk_link(&fake, "loop", 10);
	put_pb(&h.m, &k, 1, DIR_DATA, sizeof(DIR_DATA), &top);
	b = mem_find(&h.m, &top);
	h.m.lie = true;
	h.m.lie_cid = fake;
	h.m.lie_data = b->data;
	h.m.lie_len = b->len;
	expect_refusal(&h, &top, NULL, GM_EINTEGRITY, cid_str(&fake));
	hostile_free(&h);
}

TEST(export_refuses_depth_bombs_and_respects_limits)
{
	struct gm_unixfs_limits lim = {0};
	struct hostile h;
	struct gm_dagpb_link k;
	struct gm_cid c;
	int i;

	hostile_init(&h);
	k = mk_link(&h.leaf, "f", 5);
	put_pb(&h.m, &k, 1, DIR_DATA, sizeof(DIR_DATA), &c);
	for (i = 0; i < 70; i++) {
		k = mk_link(&c, "d", 100);
		put_pb(&h.m, &k, 1, DIR_DATA, sizeof(DIR_DATA), &c);
	}
	expect_refusal(&h, &c, NULL, GM_ELIMIT, "blocks deep");
	lim.max_depth = 100;
	ASSERT_OK(gm_unixfs_export(&h.src, &c, h.out, &lim, NULL));
	ASSERT(gm_fs_remove_tree(h.out, NULL) == GM_OK);
	lim.max_entries = 50;
	expect_refusal(&h, &c, &lim, GM_ELIMIT, "files and folders");
	lim.max_entries = 0;
	lim.max_bytes = 4;
	expect_refusal(&h, &c, &lim, GM_ELIMIT, "bytes");
	hostile_free(&h);
}

TEST(export_refuses_symlink_hamt_and_non_unixfs)
{
	/* Type=Symlink, Data="/etc/passwd". */
	static const uint8_t sym[] = {0x08, 0x04, 0x12, 0x0b, '/',
				      'e',  't',  'c',	'/',  'p',
				      'a',  's',  's',	'w',  'd'};
	static const uint8_t hamt[] = {0x08, 0x05, 0x28, 0x22,
				       0x30, 0x80, 0x02};
	static const uint8_t no_type[] = {0x18, 0x05};
	static const uint8_t truncated[] = {0x08, 0x02, 0x18};
	struct hostile h;
	struct gm_dagpb_link k;
	struct gm_cid c, top;

	hostile_init(&h);
	put_pb(&h.m, NULL, 0, sym, sizeof(sym), &c);
	k = mk_link(&c, "evil", 20);
	put_pb(&h.m, &k, 1, DIR_DATA, sizeof(DIR_DATA), &top);
	expect_refusal(&h, &top, NULL, GM_EUNSAFE, "evil' is a symbolic");
	put_pb(&h.m, NULL, 0, hamt, sizeof(hamt), &c);
	expect_refusal(&h, &c, NULL, GM_EUNSUPPORTED, "HAMT");
	put_pb(&h.m, NULL, 0, no_type, sizeof(no_type), &c);
	expect_refusal(&h, &c, NULL, GM_EFORMAT, "Type");
	put_pb(&h.m, NULL, 0, truncated, sizeof(truncated), &c);
	expect_refusal(&h, &c, NULL, GM_EFORMAT, "malformed");
	ASSERT_OK(
	    gm_cid_sha256(&c, 1, GM_CODEC_DAG_CBOR, (const uint8_t *)"x", 1));
	expect_refusal(&h, &c, NULL, GM_EUNSUPPORTED, "codec");
	hostile_free(&h);
}

/* ---- out of memory ---- */

TEST(oom_import_bytes)
{
	uint8_t *p = pattern(262145);
	struct gm_unixfs_result r;
	unsigned long n;
	gm_err e;

	for (n = 1;; n++) {
		gm_alloc_fail_after(n);
		e = gm_unixfs_import_bytes(p, 262145, NULL, &r, NULL);
		gm_alloc_fail_after(0);
		if (e == GM_OK)
			break;
		ASSERT_ERR(e, GM_ENOMEM);
	}
	ASSERT(n > 1);
	ASSERT_STREQ(cid_str(&r.root), CID_P262145);
	free(p);
}

TEST(oom_import_path_and_export)
{
	const char *tmp = gm_test_tmpdir();
	char *root = make_tree(tmp), *out = gm_path_join(tmp, "out");
	struct mem_map m = {0};
	struct gm_block_sink s = sink_of(&m);
	struct gm_block_source src = source_of(&m);
	struct gm_unixfs_result r;
	struct gm_cid want;
	unsigned long n;
	gm_err e;

	cid_parse(&want, CID_TREE);
	for (n = 1;; n++) {
		gm_alloc_fail_after(n);
		e = gm_unixfs_import_path(root, &s, NULL, &r, NULL);
		gm_alloc_fail_after(0);
		if (e == GM_OK)
			break;
		ASSERT_ERR(e, GM_ENOMEM);
	}
	ASSERT(n > 1);
	ASSERT(gm_cid_equal(&r.root, &want));
	for (n = 1;; n++) {
		gm_alloc_fail_after(n);
		e = gm_unixfs_export(&src, &r.root, out, NULL, NULL);
		gm_alloc_fail_after(0);
		if (e == GM_OK)
			break;
		ASSERT_ERR(e, GM_ENOMEM);
		ASSERT(!exists(out));
		ASSERT_EQ(count_dir(tmp), 1);
	}
	ASSERT(n > 1);
	assert_file(out, "B", "B", 1);
	mem_free(&m);
	gm_free(root);
	gm_free(out);
}
