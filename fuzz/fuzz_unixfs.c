/*
 * fuzz_unixfs.c - libFuzzer target for the UnixFS exporter
 * (src/content/unixfs_export.c).
 *
 * The input is a small set of blocks. Because the fuzzer cannot forge
 * SHA-256, links are not taken from the bytes: "derived" records describe
 * dag-pb nodes whose links name other records by index, and the target builds
 * them with the real CIDs, so the exporter gets past hash verification and
 * deep into the DAG. Layout (all integers little endian):
 *
 *   | bytes  | field                                                    |
 *   |--------|----------------------------------------------------------|
 *   | 1      | config: bit 0 the source lies about one block (index     |
 *   |        | config >> 4), bit 1 tiny limits instead of the fuzz ones |
 *   | then, at most MAX_BLOCKS records:                                 |
 *   | 1      | kind: low 2 bits select the record type (below)          |
 *   | 2      | payload length (cut to what is left of the input)        |
 *   | n      | payload                                                  |
 *
 *   | kind&3 | record                                                   |
 *   |--------|----------------------------------------------------------|
 *   | 0      | literal block: dag-pb CID (v0 if kind bit 2) when it     |
 *   |        | decodes as dag-pb, raw CIDv1 otherwise                   |
 *   | 1      | derived folder: Data = {Type: Directory} (Type = first   |
 *   |        | payload byte if kind bit 2), then links (target, name    |
 *   |        | length, name)                                            |
 *   | 2      | derived file: flags, inline length, inline bytes, then   |
 *   |        | links (target, size); size bit 7 set: size & 0x7f, else  |
 *   |        | the real content size of the target. flags: bit 0 write  |
 *   |        | filesize, bit 1 filesize off by flags >> 4, bit 2 Type   |
 *   |        | Raw, bit 3 packed blocksizes; kind bit 3: empty link     |
 *   |        | names                                                    |
 *   | 3      | identity CID holding the payload (at most 64 bytes)      |
 *
 * A link target byte t names record i + 1 + t % (n - i - 1) (records only
 * link forward, so block 0 is the root and the DAG is acyclic); 0xff, or no
 * record after i, names a block the source does not have. Records are built
 * from the last to the first.
 *
 * FUZZ_UNIXFS_VERBOSE=1 in the environment prints each result (for
 * checking what the seeds reach).
 *
 * Invariants checked:
 *   - the result is a gm_err of the enum, and a failure other than ENOMEM
 *     carries a diagnostic;
 *   - on failure nothing is left at the output path nor anywhere in the
 *     scratch folder (no temporary sibling survives);
 *   - on success the output exists, holds only folders and regular files,
 *     every name is non-empty, not "." or "..", without '/', the total file
 *     bytes and entry count respect the limits, the tree is no deeper than
 *     max_depth, and a raw root is written back byte for byte.
 */
#include "internal.h"

#include <dirent.h>
#include <ftw.h>

#include "gm/block.h"
#include "gm/dagpb.h"
#include "gm/fs.h"
#include "gm/unixfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_BLOCKS 16
#define MAX_LINKS 64

struct rec {
	struct gm_cid cid;
	uint8_t *bytes; /* gm_malloc'd block, NULL for identity */
	size_t len;
	uint64_t content; /* file bytes below it, as far as we know */
};

struct src {
	struct rec *r;
	size_t n;
	bool lie;
	size_t lie_idx;
};

static char *scratch;	     /* per-process folder under /tmp */
static unsigned long serial; /* one output path per input */

/* What the tree walk checks against. */
static struct {
	uint64_t max_bytes, max_entries;
	uint32_t max_depth;
	uint64_t bytes, entries;
} walk;

static void cleanup_scratch(void)
{
	if (scratch)
		gm_fs_remove_tree(scratch, NULL);
}

static gm_err src_get(void *ctx, const struct gm_cid *cid, struct gm_buf *out)
{
	struct src *s = ctx;
	gm_err e;
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (!s->r[i].bytes || !gm_cid_equal(&s->r[i].cid, cid))
			continue;
		if ((e = gm_buf_append(out, s->r[i].bytes, s->r[i].len)))
			return e;
		if (s->lie && i == s->lie_idx) {
			if (out->len)
				out->data[0] ^= 1;
			else if ((e = gm_buf_append_byte(out, 0)))
				return e;
		}
		return GM_OK;
	}
	return GM_ENOENT;
}

static void put_varint(struct gm_buf *b, uint64_t v)
{
	while (v >= 0x80) {
		if (gm_buf_append_byte(b, (uint8_t)(v | 0x80)))
			abort();
		v >>= 7;
	}
	if (gm_buf_append_byte(b, (uint8_t)v))
		abort();
}

static void missing_cid(struct gm_cid *c)
{
	static const uint8_t tag[] = "fuzz_unixfs: no such block";

	gm_cid_sha256(c, 1, GM_CODEC_RAW, tag, sizeof(tag));
}

/* Resolves a link target byte of record i to a CID and content size. */
static void target(const struct rec *r, size_t n, size_t i, uint8_t t,
		   struct gm_cid *cid, uint64_t *content, uint64_t *tsize)
{
	size_t j;

	if (t == 0xff || i + 1 >= n) {
		missing_cid(cid);
		*content = 0;
		*tsize = 0;
		return;
	}
	j = i + 1 + t % (n - i - 1);
	*cid = r[j].cid;
	*content = r[j].content;
	*tsize = r[j].len + r[j].content;
}

static void finish_pb(struct rec *rc, struct gm_dagpb_node *node,
		      struct gm_buf *ud)
{
	struct gm_buf out;
	size_t len;

	node->data = ud->data;
	node->data_len = ud->len;
	node->has_data = true;
	gm_buf_init(&out, GM_BUF_UNLIMITED);
	if (gm_dagpb_encode(node, &out))
		abort();
	rc->bytes = gm_buf_steal(&out, &len);
	rc->len = len;
	if (!rc->bytes)
		rc->bytes = gm_malloc(1);
	if (!rc->bytes)
		abort();
	if (gm_cid_sha256(&rc->cid, 1, GM_CODEC_DAG_PB, rc->bytes, rc->len))
		abort();
}

static void build_dir(struct rec *r, size_t n, size_t i, uint8_t kind,
		      const uint8_t *p, size_t len)
{
	struct gm_dagpb_link links[MAX_LINKS];
	struct gm_dagpb_node node;
	struct gm_buf ud;
	uint64_t type = GM_UNIXFS_DIRECTORY, content;
	size_t off = 0, k = 0;

	if ((kind & 4) && len) {
		type = p[0] % 8;
		off = 1;
	}
	while (k < MAX_LINKS && (uint64_t)off + 2 <= len) {
		struct gm_dagpb_link *l = &links[k++];
		size_t nl = p[off + 1];

		memset(l, 0, sizeof(*l));
		target(r, n, i, p[off], &l->cid, &content, &l->tsize);
		l->has_tsize = true;
		off += 2;
		if (nl > len - off)
			nl = len - off;
		l->name = p + off;
		l->name_len = nl;
		l->has_name = true;
		off += nl;
	}
	gm_buf_init(&ud, GM_BUF_UNLIMITED);
	put_varint(&ud, 0x08);
	put_varint(&ud, type);
	gm_dagpb_node_init(&node);
	node.links = links;
	node.n_links = k;
	finish_pb(&r[i], &node, &ud);
	gm_buf_release(&ud);
	r[i].content = 0;
}

static void build_file(struct rec *r, size_t n, size_t i, uint8_t kind,
		       const uint8_t *p, size_t len)
{
	struct gm_dagpb_link links[MAX_LINKS];
	uint64_t sizes[MAX_LINKS], total;
	struct gm_dagpb_node node;
	struct gm_buf ud, packed;
	uint8_t flags = len ? p[0] : 0;
	size_t off = len ? 1 : 0, k = 0, il = 0, j;
	const uint8_t *inl = NULL;

	if (off < len) {
		il = p[off++];
		if (il > len - off)
			il = len - off;
		inl = p + off;
		off += il;
	}
	total = il;
	while (k < MAX_LINKS && (uint64_t)off + 2 <= len) {
		struct gm_dagpb_link *l = &links[k];
		uint64_t content;

		memset(l, 0, sizeof(*l));
		target(r, n, i, p[off], &l->cid, &content, &l->tsize);
		l->has_tsize = true;
		if (kind & 8)
			l->has_name = true; /* empty name, as js-ipfs */
		sizes[k] = (p[off + 1] & 0x80) ? (uint64_t)(p[off + 1] & 0x7f)
					       : content;
		total += sizes[k];
		off += 2;
		k++;
	}
	gm_buf_init(&ud, GM_BUF_UNLIMITED);
	put_varint(&ud, 0x08);
	put_varint(&ud, (flags & 4) ? GM_UNIXFS_RAW : GM_UNIXFS_FILE);
	if (inl && il) {
		put_varint(&ud, 0x12);
		put_varint(&ud, il);
		if (gm_buf_append(&ud, inl, il))
			abort();
	}
	if (flags & 1) {
		put_varint(&ud, 0x18);
		put_varint(&ud, total + ((flags & 2) ? (flags >> 4) + 1 : 0));
	}
	if ((flags & 8) && k) {
		gm_buf_init(&packed, GM_BUF_UNLIMITED);
		for (j = 0; j < k; j++)
			put_varint(&packed, sizes[j]);
		put_varint(&ud, 0x22);
		put_varint(&ud, packed.len);
		if (gm_buf_append(&ud, packed.data, packed.len))
			abort();
		gm_buf_release(&packed);
	} else {
		for (j = 0; j < k; j++) {
			put_varint(&ud, 0x20);
			put_varint(&ud, sizes[j]);
		}
	}
	gm_dagpb_node_init(&node);
	node.links = links;
	node.n_links = k;
	finish_pb(&r[i], &node, &ud);
	gm_buf_release(&ud);
	r[i].content = total;
}

static void build_literal(struct rec *rc, uint8_t kind, const uint8_t *p,
			  size_t len)
{
	struct gm_dagpb_node node;
	bool pb;

	rc->bytes = gm_malloc(len ? len : 1);
	if (!rc->bytes)
		abort();
	if (len)
		memcpy(rc->bytes, p, len);
	rc->len = len;
	gm_dagpb_node_init(&node);
	pb = gm_dagpb_decode(&node, p, len, NULL) == GM_OK;
	gm_dagpb_node_release(&node);
	if (gm_cid_sha256(&rc->cid, pb && (kind & 4) ? 0 : 1,
			  pb ? GM_CODEC_DAG_PB : GM_CODEC_RAW, p, len))
		abort();
	rc->content = pb ? 0 : len;
}

static void build_identity(struct rec *rc, const uint8_t *p, size_t len)
{
	struct gm_dagpb_node node;
	bool pb;

	if (len > GM_CID_MAX_DIGEST)
		len = GM_CID_MAX_DIGEST;
	gm_dagpb_node_init(&node);
	pb = gm_dagpb_decode(&node, p, len, NULL) == GM_OK;
	gm_dagpb_node_release(&node);
	memset(&rc->cid, 0, sizeof(rc->cid));
	rc->cid.version = 1;
	rc->cid.codec = pb ? GM_CODEC_DAG_PB : GM_CODEC_RAW;
	rc->cid.mh_code = GM_MH_IDENTITY;
	rc->cid.digest_len = (uint8_t)len;
	if (len)
		memcpy(rc->cid.digest, p, len);
	rc->bytes = NULL;
	rc->len = len;
	rc->content = pb ? 0 : len;
}

static bool bad_name(const char *s)
{
	return !s[0] || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 ||
	       strchr(s, '/') != NULL;
}

static int walk_cb(const char *path, const struct stat *st, int flag,
		   struct FTW *f)
{
	if (f->level > 0 && bad_name(path + f->base))
		abort();
	if ((uint32_t)f->level > walk.max_depth)
		abort();
	walk.entries++;
	if (walk.entries > walk.max_entries)
		abort();
	switch (flag) {
	case FTW_F:
		if (!S_ISREG(st->st_mode))
			abort(); /* symlink, device, fifo... */
		if ((uint64_t)st->st_size > walk.max_bytes)
			abort();
		walk.bytes += (uint64_t)st->st_size;
		if (walk.bytes > walk.max_bytes)
			abort();
		break;
	case FTW_D:
		break;
	default:
		abort(); /* FTW_SL, FTW_DNR, FTW_NS... */
	}
	return 0;
}

static bool scratch_empty(void)
{
	struct dirent *de;
	bool empty = true;
	DIR *dir = opendir(scratch);

	if (!dir)
		abort();
	while ((de = readdir(dir)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	closedir(dir);
	return empty;
}

static void check_raw_root(const char *out, const struct rec *root)
{
	struct gm_buf b;

	gm_buf_init(&b, GM_BUF_UNLIMITED);
	if (gm_fs_read_file(out, &b, NULL))
		abort();
	if (b.len != root->len)
		abort();
	if (b.len &&
	    memcmp(b.data, root->bytes ? root->bytes : root->cid.digest, b.len))
		abort();
	gm_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec r[MAX_BLOCKS];
	const uint8_t *pay[MAX_BLOCKS];
	size_t plen[MAX_BLOCKS];
	uint8_t kinds[MAX_BLOCKS];
	struct gm_unixfs_limits lim;
	struct gm_block_source bs;
	struct src s;
	struct gm_diag d;
	struct stat st;
	char out[256];
	size_t off = 1, n = 0, i;
	uint8_t config;
	gm_err e;

	if (!scratch) {
		static char tmpl[] = "/tmp/fuzz_unixfs.XXXXXX";

		scratch = mkdtemp(tmpl);
		if (!scratch)
			abort();
		atexit(cleanup_scratch);
	}
	if (size < 1)
		return 0;
	config = data[0];
	while (n < MAX_BLOCKS && (uint64_t)off + 3 <= size) {
		size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;

		kinds[n] = data[off];
		off += 3;
		if (len > size - off)
			len = size - off;
		pay[n] = data + off;
		plen[n] = len;
		off += len;
		n++;
	}
	if (n == 0)
		return 0;
	memset(r, 0, sizeof(r));
	for (i = n; i-- > 0;) {
		switch (kinds[i] & 3) {
		case 0:
			build_literal(&r[i], kinds[i], pay[i], plen[i]);
			break;
		case 1:
			build_dir(r, n, i, kinds[i], pay[i], plen[i]);
			break;
		case 2:
			build_file(r, n, i, kinds[i], pay[i], plen[i]);
			break;
		default:
			build_identity(&r[i], pay[i], plen[i]);
			break;
		}
	}

	s.r = r;
	s.n = n;
	s.lie = config & 1;
	s.lie_idx = (size_t)(config >> 4) % n;
	bs.get = src_get;
	bs.ctx = &s;
	memset(&lim, 0, sizeof(lim));
	if (config & 2) {
		lim.max_bytes = 64;
		lim.max_entries = 4;
		lim.max_depth = 4;
	} else {
		lim.max_bytes = 1u << 20;
		lim.max_entries = 1000;
		lim.max_depth = 16;
	}
	snprintf(out, sizeof(out), "%s/out%lu", scratch, ++serial);
	gm_diag_clear(&d);

	e = gm_unixfs_export(&bs, &r[0].cid, out, &lim, &d);

	if ((int)e < 0 || e >= GM__ERR_COUNT)
		abort();
	if (getenv("FUZZ_UNIXFS_VERBOSE"))
		fprintf(stderr, "fuzz_unixfs: %s %s\n", gm_errname(e), d.msg);
	if (e) {
		if (e != GM_ENOMEM && !d.msg[0])
			abort();
		if (lstat(out, &st) == 0 || errno != ENOENT)
			abort();
		if (!scratch_empty())
			abort(); /* a temporary sibling was left behind */
	} else {
		if (lstat(out, &st) != 0)
			abort();
		memset(&walk, 0, sizeof(walk));
		walk.max_bytes = lim.max_bytes;
		walk.max_entries = lim.max_entries;
		walk.max_depth = lim.max_depth;
		if (nftw(out, walk_cb, 16, FTW_PHYS) != 0)
			abort();
		if (r[0].cid.codec == GM_CODEC_RAW) {
			if (!S_ISREG(st.st_mode))
				abort();
			check_raw_root(out, &r[0]);
		}
		if (gm_fs_remove_tree(out, NULL) || !scratch_empty())
			abort();
	}
	for (i = 0; i < n; i++)
		gm_free(r[i].bytes);
	return 0;
}
