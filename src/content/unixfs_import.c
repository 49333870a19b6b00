/*
 * unixfs_import.c - files and folders to a UnixFS DAG, as IPFS builds it
 * (ipfs-unixfs-importer 17, {cidVersion: 1, rawLeaves: true}); also the
 * UnixFS Data codec shared with the exporter (see unixfs_int.h).
 *
 * A file is cut into 262144-byte chunks; each chunk is a raw leaf. One chunk
 * (or an empty file, whose one chunk is empty) is its own root. Otherwise
 * the balanced layout applies: the leaves are grouped 174 at a time under
 * File nodes, then those nodes 174 at a time, until one node remains. The
 * groups are built eagerly with one pending array per level, so a file costs
 * O(174 x depth) memory however large it is. Files of more than four chunks
 * are read and hashed in batches of 16 chunks by a small thread pool (see
 * struct hash_pool), the leaves still entering the tree in file order;
 * smaller ones by the caller alone. Without a sink a chunk is read and
 * hashed in 64 KiB pieces through a buffer that stays in cache (see PIECE);
 * with one, whole into a reused chunk buffer. A File node is:
 *
 *   | dag-pb part | content                                              |
 *   |-------------|------------------------------------------------------|
 *   | Links[i]    | Hash = child CID, Name = "" (present), Tsize = the   |
 *   |             | child's block length plus its links' Tsizes          |
 *   | Data        | Type=File(2), filesize=sum, blocksizes[i] = bytes of |
 *   |             | file content below child i; no Data, mode or mtime   |
 *
 * A folder is a dag-pb node with Data {Type=Directory(1)} and one link per
 * entry, sorted by name bytes, Tsize as above. IPFS shards a folder whose
 * estimate (sum of UTF-8 name length + 36 CID bytes per entry) passes 256
 * KiB; we refuse those (GM_EUNSUPPORTED). ipfs-unixfs-importer leaves
 * non-empty subfolders out of its estimate while kubo counts them: we count
 * every entry, so we refuse whenever either would shard.
 */
#include "internal.h"

#include <dirent.h>
#include <pthread.h>
#include <sched.h>

#include <openssl/evp.h>

#include "gm/buf.h"
#include "gm/dagpb.h"
#include "gm/unixfs.h"
#include "unixfs_int.h"

/* ---- the UnixFS Data codec ---- */

void gm__unixfs_data_init(struct gm__unixfs_data *u)
{
	memset(u, 0, sizeof(*u));
}

void gm__unixfs_data_release(struct gm__unixfs_data *u)
{
	if (!u)
		return;
	gm_free(u->blocksizes);
	memset(u, 0, sizeof(*u));
}

/* A protobuf varint (up to 10 bytes, 64 bits) at p[*off..len). */
static bool pb_varint(const uint8_t *p, size_t len, size_t *off, uint64_t *v)
{
	uint64_t x = 0;
	unsigned shift = 0;
	size_t i = *off;

	for (;;) {
		uint8_t b;

		if (i >= len || shift > 63)
			return false;
		b = p[i++];
		if (shift == 63 && (b & 0x7e))
			return false;
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
		shift += 7;
	}
	*off = i;
	*v = x;
	return true;
}

static size_t pb_put_varint(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

static gm_err pb_append_varint(struct gm_buf *b, uint64_t v)
{
	uint8_t tmp[10];

	return gm_buf_append(b, tmp, pb_put_varint(tmp, v));
}

/* Field tag: field number and wire type (0 varint, 2 length-delimited). */
static gm_err pb_append_tag(struct gm_buf *b, unsigned field, unsigned wire)
{
	return pb_append_varint(b, ((uint64_t)field << 3) | wire);
}

static gm_err pb_append_uint(struct gm_buf *b, unsigned field, uint64_t v)
{
	gm_err e = pb_append_tag(b, field, 0);

	return e ? e : pb_append_varint(b, v);
}

gm_err gm__unixfs_data_encode(const struct gm__unixfs_data *u,
			      struct gm_buf *out)
{
	gm_err e;
	size_t i;

	if ((e = pb_append_uint(out, 1, u->type)))
		return e;
	if (u->has_data) {
		if ((e = pb_append_tag(out, 2, 2)) ||
		    (e = pb_append_varint(out, u->data_len)) ||
		    (e = gm_buf_append(out, u->data, u->data_len)))
			return e;
	}
	if (u->has_filesize && (e = pb_append_uint(out, 3, u->filesize)))
		return e;
	for (i = 0; i < u->n_blocksizes; i++)
		if ((e = pb_append_uint(out, 4, u->blocksizes[i])))
			return e;
	if (u->has_hashtype && (e = pb_append_uint(out, 5, u->hashtype)))
		return e;
	if (u->has_fanout && (e = pb_append_uint(out, 6, u->fanout)))
		return e;
	if (u->has_mode && (e = pb_append_uint(out, 7, u->mode)))
		return e;
	return GM_OK;
}

/*
 * One pass over the message. With bs == NULL it validates and counts the
 * blocksizes into *nbs; with bs it stores them (*nbs entries were counted).
 */
static gm_err data_pass(struct gm__unixfs_data *u, const uint8_t *p, size_t len,
			uint64_t *bs, size_t *nbs, struct gm_diag *d)
{
	size_t off = 0, n = 0;
	bool has_type = false;

	while (off < len) {
		uint64_t key, v, l;
		unsigned field, wire;

		if (!pb_varint(p, len, &off, &key))
			goto bad;
		field = (unsigned)(key >> 3);
		wire = (unsigned)(key & 7);
		if (key >> 32 || field == 0)
			goto bad;
		if (wire == 0) {
			if (!pb_varint(p, len, &off, &v))
				goto bad;
		} else if (wire == 2) {
			if (!pb_varint(p, len, &off, &l) ||
			    (uint64_t)off + l > len)
				goto bad;
		} else if (wire == 1 || wire == 5) {
			l = wire == 1 ? 8 : 4;
			if ((uint64_t)off + l > len)
				goto bad;
			if (field <= 8)
				goto bad;
			off += (size_t)l;
			continue;
		} else {
			goto bad;
		}
		switch (field) {
		case 1:
			if (wire != 0 || has_type)
				goto bad;
			has_type = true;
			u->type = v;
			break;
		case 2:
			if (wire != 2 || u->has_data)
				goto bad;
			u->has_data = true;
			u->data = p + off;
			u->data_len = (size_t)l;
			break;
		case 3:
			if (wire != 0 || u->has_filesize)
				goto bad;
			u->has_filesize = true;
			u->filesize = v;
			break;
		case 4:
			if (wire == 0) {
				if (bs)
					bs[n] = v;
				n++;
				break;
			} else {
				size_t q = off, end = off + (size_t)l;

				while (q < end) {
					if (!pb_varint(p, end, &q, &v))
						goto bad;
					if (bs)
						bs[n] = v;
					n++;
				}
			}
			break;
		case 5:
			if (wire != 0 || u->has_hashtype)
				goto bad;
			u->has_hashtype = true;
			u->hashtype = v;
			break;
		case 6:
			if (wire != 0 || u->has_fanout)
				goto bad;
			u->has_fanout = true;
			u->fanout = v;
			break;
		case 7:
			if (wire != 0 || u->has_mode || v > UINT32_MAX)
				goto bad;
			u->has_mode = true;
			u->mode = v;
			break;
		case 8:
			if (wire != 2 || u->has_mtime)
				goto bad;
			u->has_mtime = true;
			break;
		default:
			break;
		}
		if (wire == 2)
			off += (size_t)l;
	}
	if (!has_type)
		return gm_diag_set(d, GM_EFORMAT,
				   "UnixFS Data message has no Type field");
	*nbs = n;
	return GM_OK;
bad:
	return gm_diag_set(d, GM_EFORMAT,
			   "malformed UnixFS Data message near byte %zu", off);
}

gm_err gm__unixfs_data_decode(struct gm__unixfs_data *u, const uint8_t *p,
			      size_t len, size_t max_blocksizes,
			      struct gm_diag *d)
{
	uint64_t *bs;
	size_t n = 0;
	gm_err e;

	gm__unixfs_data_release(u);
	e = data_pass(u, p, len, NULL, &n, d);
	if (e)
		goto out_reset;
	if (n > max_blocksizes) {
		e = gm_diag_set(d, GM_ELIMIT,
				"UnixFS node lists %zu block sizes, more than "
				"the %zu allowed",
				n, max_blocksizes);
		goto out_reset;
	}
	if (n == 0)
		return GM_OK;
	bs = gm_reallocarray(NULL, n, sizeof(*bs));
	if (!bs) {
		e = GM_ENOMEM;
		goto out_reset;
	}
	/* The second pass sees what the first accepted: it cannot fail. */
	gm__unixfs_data_init(u);
	e = data_pass(u, p, len, bs, &n, d);
	GM_ASSERT(e == GM_OK);
	u->blocksizes = bs;
	u->n_blocksizes = n;
	return GM_OK;
out_reset:
	gm__unixfs_data_release(u);
	return e;
}

/* ---- the importer ---- */

/* Binary length of a CIDv1 sha2-256 (raw or dag-pb): 1+1+1+1+32. */
#define CID_V1_LEN 36
/* Levels of the balanced tree: 174^15 chunks is far beyond 2^64 bytes. */
#define MAX_LEVELS 16
/* Chunks read (and hashed in parallel) at a time, and hashing threads. */
#define BATCH_CHUNKS 16
/*
 * Without a sink a chunk is read and hashed in pieces of this size through
 * one small buffer that stays in the core's cache: on the reference machine
 * read() into a 64 KiB buffer costs a third of the kernel time of read()
 * into a 256 KiB one.
 */
#define PIECE 65536
#define MAX_THREADS 4
/* Folder nesting we follow on disk. */
#define MAX_FS_DEPTH 256

/* A finished child: its CID, cumulative DAG size and file bytes below it. */
struct child {
	struct gm_cid cid;
	uint64_t tsize;
	uint64_t fsize;
};

/* Pending children of one level of the balanced tree. */
struct level {
	size_t n;
	struct child c[GM_UNIXFS_MAX_LINKS];
};

struct hash_pool;

struct importer {
	const struct gm_block_sink *sink;
	const struct gm_unixfs_import_opts *opts;
	struct gm_diag *d;
	uint8_t *chunk;		/* read buffer, one chunk */
	uint8_t *batch;		/* BATCH_CHUNKS chunks, pool + sink */
	struct hash_pool *pool; /* helper threads, NULL if none */
	EVP_MD *md;		/* SHA-256, for streamed hashing */
	EVP_MD_CTX *md_ctx;
	bool pool_tried;
	struct gm_buf node;	     /* scratch: an encoded dag-pb node */
	struct gm_buf data;	     /* scratch: a UnixFS Data message */
	struct gm_dagpb_link *links; /* scratch: GM_UNIXFS_MAX_LINKS */
	uint64_t bsizes[GM_UNIXFS_MAX_LINKS];
	struct level *levels[MAX_LEVELS];
	size_t n_levels;    /* levels in use by the current file */
	uint64_t n_leaves;  /* leaves of the current file */
	struct gm_buf path; /* display path of the current entry */
	size_t root_len;    /* length of the root path in path */
	struct gm_unixfs_result res;
};

static void importer_init(struct importer *im, const struct gm_block_sink *sink,
			  const struct gm_unixfs_import_opts *opts,
			  struct gm_diag *d)
{
	memset(im, 0, sizeof(*im));
	im->sink = sink;
	im->opts = opts;
	im->d = d;
	gm_buf_init(&im->node, GM_BLOCK_MAX);
	gm_buf_init(&im->data, GM_BLOCK_MAX);
	gm_buf_init(&im->path, 1u << 20);
}

static void pool_stop(struct hash_pool *p);

static void importer_release(struct importer *im)
{
	size_t i;

	for (i = 0; i < MAX_LEVELS; i++)
		gm_free(im->levels[i]);
	gm_free(im->links);
	pool_stop(im->pool);
	EVP_MD_CTX_free(im->md_ctx);
	EVP_MD_free(im->md);
	gm_free(im->batch);
	gm_free(im->chunk);
	gm_buf_release(&im->node);
	gm_buf_release(&im->data);
	gm_buf_release(&im->path);
}

static const char *cur_path(const struct importer *im)
{
	return im->path.len ? (const char *)im->path.data : "(bytes)";
}

static gm_err emit(struct importer *im, const struct gm_cid *cid,
		   const uint8_t *data, size_t len)
{
	gm_err e;

	im->res.blocks++;
	if (!im->sink || !im->sink->put)
		return GM_OK;
	e = im->sink->put(im->sink->ctx, cid, data, len);
	if (e && im->d && !im->d->msg[0])
		gm_diag_set(im->d, e, "cannot store a block of '%s': %s",
			    cur_path(im), gm_strerror(e));
	return e;
}

/* Hashes and emits a dag-pb node of links and data; fills *out's cid. */
static gm_err put_node(struct importer *im, const struct gm_dagpb_link *links,
		       size_t n, const uint8_t *data, size_t data_len,
		       struct child *out)
{
	struct gm_dagpb_node node;
	uint64_t tsum = 0;
	gm_err e;
	size_t i;

	for (i = 0; i < n; i++)
		tsum += links[i].tsize;
	memset(&node, 0, sizeof(node));
	node.links = (struct gm_dagpb_link *)links;
	node.n_links = n;
	node.data = data;
	node.data_len = data_len;
	node.has_data = true;
	gm_buf_reset(&im->node);
	if ((e = gm_dagpb_encode(&node, &im->node)))
		return e;
	if ((e = gm_cid_sha256(&out->cid, 1, GM_CODEC_DAG_PB, im->node.data,
			       im->node.len)))
		return e;
	out->tsize = im->node.len + tsum;
	return emit(im, &out->cid, im->node.data, im->node.len);
}

/* Makes one File node of a level's pending children. */
static gm_err reduce_level(struct importer *im, struct level *l,
			   struct child *out)
{
	struct gm__unixfs_data u;
	uint64_t fsum = 0;
	gm_err e;
	size_t i;

	if (!im->links) {
		im->links = gm_calloc(GM_UNIXFS_MAX_LINKS, sizeof(*im->links));
		if (!im->links)
			return GM_ENOMEM;
	}
	for (i = 0; i < l->n; i++) {
		struct gm_dagpb_link *k = &im->links[i];

		memset(k, 0, sizeof(*k));
		k->cid = l->c[i].cid;
		k->name = (const uint8_t *)"";
		k->has_name = true;
		k->tsize = l->c[i].tsize;
		k->has_tsize = true;
		im->bsizes[i] = l->c[i].fsize;
		fsum += l->c[i].fsize;
	}
	gm__unixfs_data_init(&u);
	u.type = GM_UNIXFS_FILE;
	u.filesize = fsum;
	u.has_filesize = true;
	u.blocksizes = im->bsizes;
	u.n_blocksizes = l->n;
	gm_buf_reset(&im->data);
	if ((e = gm__unixfs_data_encode(&u, &im->data)))
		return e;
	if ((e = put_node(im, im->links, l->n, im->data.data, im->data.len,
			  out)))
		return e;
	out->fsize = fsum;
	l->n = 0;
	return GM_OK;
}

/* Adds a child at level lv, building a node when 174 are pending. */
static gm_err push_child(struct importer *im, size_t lv, const struct child *c)
{
	struct level *l;
	struct child node;
	gm_err e;

	if (lv >= MAX_LEVELS)
		return gm_diag_set(im->d, GM_ELIMIT, "'%s' is too large",
				   cur_path(im));
	if (lv >= im->n_levels) {
		if (!im->levels[lv]) {
			im->levels[lv] = gm_malloc(sizeof(struct level));
			if (!im->levels[lv])
				return GM_ENOMEM;
		}
		im->levels[lv]->n = 0;
		im->n_levels = lv + 1;
	}
	l = im->levels[lv];
	l->c[l->n++] = *c;
	if (l->n < GM_UNIXFS_MAX_LINKS)
		return GM_OK;
	if ((e = reduce_level(im, l, &node)))
		return e;
	return push_child(im, lv + 1, &node);
}

static void file_begin(struct importer *im)
{
	im->n_levels = 0;
	im->n_leaves = 0;
}

static gm_err file_leaf(struct importer *im, const uint8_t *p, size_t n)
{
	struct child c;
	gm_err e;

	if ((e = gm_cid_sha256(&c.cid, 1, GM_CODEC_RAW, p, n)))
		return e;
	c.tsize = n;
	c.fsize = n;
	im->n_leaves++;
	if ((e = emit(im, &c.cid, p, n)))
		return e;
	return push_child(im, 0, &c);
}

/* Closes the tree: reduces the pending levels until one root remains. */
static gm_err file_end(struct importer *im, struct child *root)
{
	struct child node;
	size_t i;
	gm_err e;

	for (i = 0; i < im->n_levels; i++) {
		struct level *l = im->levels[i];
		bool top = i + 1 == im->n_levels;

		if (l->n == 0)
			continue;
		if (top && l->n == 1 && (i > 0 || im->n_leaves == 1)) {
			*root = l->c[0];
			break;
		}
		if ((e = reduce_level(im, l, &node)) ||
		    (e = push_child(im, i + 1, &node)))
			return e;
	}
	GM_ASSERT(i < im->n_levels);
	im->res.files++;
	im->res.content_bytes += root->fsize;
	return GM_OK;
}

/*
 * Hashing pool, for files of more than four chunks. A batch covers up to
 * BATCH_CHUNKS consecutive chunks; the calling thread and up to
 * MAX_THREADS - 1 helpers take chunks through an atomic counter (whoever is
 * free takes the next one), pread() it and hash it at once, while it is
 * still in that core's cache. With a sink each chunk has its own slot in
 * the batch buffer, so the blocks can be handed over afterwards; without
 * one each thread reuses one chunk buffer. The caller then adds the leaves
 * in file order, so the result does not depend on the threads.
 */
struct hash_pool {
	pthread_t tid[MAX_THREADS - 1];
	size_t n_helpers;
	size_t next_index; /* helpers claim their thread index 1, 2, ... */
	pthread_mutex_t mu;
	pthread_cond_t start;
	pthread_cond_t done;
	unsigned long gen; /* batch number, bumped to start helpers */
	size_t pending;	   /* helpers still working on this batch */
	bool quit;
	uint8_t *tbuf[MAX_THREADS]; /* per-thread PIECE buffers */
	EVP_MD_CTX *ctx[MAX_THREADS];
	EVP_MD *md;
	/* the batch */
	int fd;
	uint64_t off;	/* file offset of chunk 0 */
	uint8_t *slots; /* per-chunk buffers, or NULL to use tbuf */
	size_t n;	/* chunks in the batch */
	size_t next;	/* next chunk to take (atomic) */
	struct gm_cid cids[BATCH_CHUNKS];
	size_t lens[BATCH_CHUNKS];
	int errnos[BATCH_CHUNKS];
	bool hash_failed[BATCH_CHUNKS];
};

/* Reads up to GM_UNIXFS_CHUNK bytes at off; short only at the end. */
static ssize_t pread_chunk(int fd, uint8_t *buf, uint64_t off)
{
	size_t have = 0;

	while (have < GM_UNIXFS_CHUNK) {
		ssize_t r = pread(fd, buf + have, GM_UNIXFS_CHUNK - have,
				  (off_t)(off + have));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		have += (size_t)r;
	}
	return (ssize_t)have;
}

/*
 * Reads the chunk at off in PIECE steps through buf and hashes it as it
 * goes; *len gets its length, *err an errno (0 if none). Returns false if
 * hashing failed.
 */
static bool stream_chunk(EVP_MD_CTX *ctx, const EVP_MD *md, int fd,
			 uint64_t off, uint8_t *buf, struct gm_cid *cid,
			 size_t *len, int *err)
{
	uint8_t digest[32];
	size_t have = 0;

	*err = 0;
	if (!EVP_DigestInit_ex2(ctx, md, NULL))
		return false;
	while (have < GM_UNIXFS_CHUNK) {
		ssize_t r = pread(fd, buf, PIECE, (off_t)(off + have));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*err = errno;
			break;
		}
		if (r == 0)
			break;
		if (!EVP_DigestUpdate(ctx, buf, (size_t)r))
			return false;
		have += (size_t)r;
	}
	*len = have;
	if (!EVP_DigestFinal_ex(ctx, digest, NULL))
		return false;
	gm_cid_from_digest(cid, 1, GM_CODEC_RAW, digest);
	return true;
}

static void pool_work(struct hash_pool *p, size_t self)
{
	for (;;) {
		size_t i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED);
		uint64_t off = p->off + (uint64_t)i * GM_UNIXFS_CHUNK;
		uint8_t *buf;
		ssize_t r;

		if (i >= p->n)
			return;
		p->hash_failed[i] = false;
		if (!p->slots) {
			p->hash_failed[i] = !stream_chunk(
			    p->ctx[self], p->md, p->fd, off, p->tbuf[self],
			    &p->cids[i], &p->lens[i], &p->errnos[i]);
			continue;
		}
		buf = p->slots + i * GM_UNIXFS_CHUNK;
		r = pread_chunk(p->fd, buf, off);
		p->errnos[i] = r < 0 ? errno : 0;
		p->lens[i] = r < 0 ? 0 : (size_t)r;
		if (r > 0 && gm_cid_sha256(&p->cids[i], 1, GM_CODEC_RAW, buf,
					   (size_t)r) != GM_OK)
			p->hash_failed[i] = true;
	}
}

static void *pool_main(void *arg)
{
	struct hash_pool *p = arg;
	unsigned long seen = 0;
	size_t self;

	pthread_mutex_lock(&p->mu);
	self = ++p->next_index;
	for (;;) {
		while (p->gen == seen && !p->quit)
			pthread_cond_wait(&p->start, &p->mu);
		if (p->quit)
			break;
		seen = p->gen;
		pthread_mutex_unlock(&p->mu);
		pool_work(p, self);
		pthread_mutex_lock(&p->mu);
		if (--p->pending == 0)
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void pool_stop(struct hash_pool *p)
{
	size_t i;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_cond_broadcast(&p->start);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->n_helpers; i++)
		pthread_join(p->tid[i], NULL);
	pthread_cond_destroy(&p->start);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->mu);
	for (i = 0; i < MAX_THREADS; i++) {
		gm_free(p->tbuf[i]);
		EVP_MD_CTX_free(p->ctx[i]);
	}
	EVP_MD_free(p->md);
	gm_free(p);
}

/*
 * Starts helpers (one fewer than the CPUs this process may run on, at most
 * MAX_THREADS - 1); NULL
 * when there is one CPU or nothing could be started (the caller then works
 * alone).
 */
static struct hash_pool *pool_start(void)
{
	cpu_set_t set;
	long cpus = sched_getaffinity(0, sizeof(set), &set) == 0
			? CPU_COUNT(&set)
			: sysconf(_SC_NPROCESSORS_ONLN);
	size_t want = cpus > MAX_THREADS ? MAX_THREADS - 1
		      : cpus > 1	 ? (size_t)cpus - 1
					 : 0;
	struct hash_pool *p;
	size_t i;

	if (want == 0)
		return NULL;
	p = gm_calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!p->md)
		goto out_free;
	for (i = 0; i <= want; i++) {
		p->tbuf[i] = gm_malloc(PIECE);
		p->ctx[i] = EVP_MD_CTX_new();
		if (!p->tbuf[i] || !p->ctx[i])
			goto out_free;
	}
	if (pthread_mutex_init(&p->mu, NULL) != 0)
		goto out_free;
	if (pthread_cond_init(&p->start, NULL) != 0)
		goto out_mutex;
	if (pthread_cond_init(&p->done, NULL) != 0)
		goto out_start;
	while (p->n_helpers < want &&
	       pthread_create(&p->tid[p->n_helpers], NULL, pool_main, p) == 0)
		p->n_helpers++;
	if (p->n_helpers == 0) {
		pthread_cond_destroy(&p->done);
		goto out_start;
	}
	return p;
out_start:
	pthread_cond_destroy(&p->start);
out_mutex:
	pthread_mutex_destroy(&p->mu);
out_free:
	for (i = 0; i < MAX_THREADS; i++) {
		gm_free(p->tbuf[i]);
		EVP_MD_CTX_free(p->ctx[i]);
	}
	EVP_MD_free(p->md);
	gm_free(p);
	return NULL;
}

/* Reads and hashes n chunks from off with the pool; returns when done. */
static void pool_batch(struct hash_pool *p, int fd, uint64_t off,
		       uint8_t *slots, size_t n)
{
	p->fd = fd;
	p->off = off;
	p->slots = slots;
	p->n = n;
	p->next = 0;
	pthread_mutex_lock(&p->mu);
	p->gen++;
	p->pending = p->n_helpers;
	pthread_cond_broadcast(&p->start);
	pthread_mutex_unlock(&p->mu);
	pool_work(p, 0);
	pthread_mutex_lock(&p->mu);
	while (p->pending)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

/* Adds an already hashed leaf. */
static gm_err file_leaf_hashed(struct importer *im, const struct gm_cid *cid,
			       const uint8_t *p, size_t n)
{
	struct child c;
	gm_err e;

	c.cid = *cid;
	c.tsize = n;
	c.fsize = n;
	im->n_leaves++;
	if ((e = emit(im, &c.cid, p, n)))
		return e;
	return push_child(im, 0, &c);
}

static gm_err read_error(struct importer *im, int err)
{
	return gm_diag_set(im->d, gm_err_from_errno(err),
			   "cannot read '%s': %s", cur_path(im), strerror(err));
}

/* A file with the pool: batches of chunks read and hashed in parallel. */
static gm_err import_fd_pool(struct importer *im, int fd)
{
	struct hash_pool *p = im->pool;
	bool with_data = im->sink && im->sink->put;
	uint64_t off = 0;
	bool eof = false;
	gm_err e;

	if (with_data && !im->batch) {
		im->batch = gm_malloc((size_t)BATCH_CHUNKS * GM_UNIXFS_CHUNK);
		if (!im->batch)
			return GM_ENOMEM;
	}
	while (!eof) {
		size_t i;

		pool_batch(p, fd, off, with_data ? im->batch : NULL,
			   BATCH_CHUNKS);
		for (i = 0; i < BATCH_CHUNKS; i++) {
			const uint8_t *data =
			    with_data ? im->batch + i * GM_UNIXFS_CHUNK : NULL;

			if (p->errnos[i])
				return read_error(im, p->errnos[i]);
			if (p->hash_failed[i])
				return gm_diag_set(im->d, GM_EIO,
						   "cannot hash '%s' (OpenSSL)",
						   cur_path(im));
			if (eof && p->lens[i])
				return gm_diag_set(im->d, GM_EIO,
						   "'%s' changed while it was "
						   "read; try again",
						   cur_path(im));
			if (eof)
				continue;
			if (p->lens[i] < GM_UNIXFS_CHUNK)
				eof = true;
			if (p->lens[i] == 0 && im->n_leaves > 0)
				continue;
			if (p->lens[i] == 0)
				e = file_leaf(im, (const uint8_t *)"", 0);
			else
				e = file_leaf_hashed(im, &p->cids[i], data,
						     p->lens[i]);
			if (e)
				return e;
		}
		off += (uint64_t)BATCH_CHUNKS * GM_UNIXFS_CHUNK;
	}
	return GM_OK;
}

/* A file without a sink, alone: hashed in PIECE steps (see PIECE). */
static gm_err import_fd_stream(struct importer *im, int fd)
{
	uint64_t off = 0;
	size_t len;

	if (!im->md)
		im->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!im->md_ctx)
		im->md_ctx = EVP_MD_CTX_new();
	if (!im->md || !im->md_ctx)
		return GM_ENOMEM;
	do {
		struct gm_cid cid;
		gm_err e;
		int err;

		if (!stream_chunk(im->md_ctx, im->md, fd, off, im->chunk, &cid,
				  &len, &err))
			return gm_diag_set(im->d, GM_EIO,
					   "cannot hash '%s' (OpenSSL)",
					   cur_path(im));
		if (err)
			return read_error(im, err);
		if (len > 0 || im->n_leaves == 0)
			if ((e = file_leaf_hashed(im, &cid, NULL, len)))
				return e;
		off += len;
	} while (len == GM_UNIXFS_CHUNK);
	return GM_OK;
}

static gm_err import_fd(struct importer *im, int fd, const struct stat *st,
			struct child *out)
{
	bool eof = false;
	gm_err e;

	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	file_begin(im);
	if (!im->pool_tried && st->st_size > 4 * GM_UNIXFS_CHUNK) {
		im->pool_tried = true;
		im->pool = pool_start();
	}
	if (im->pool && st->st_size > 4 * GM_UNIXFS_CHUNK) {
		if ((e = import_fd_pool(im, fd)))
			return e;
		return file_end(im, out);
	}
	if (!im->chunk) {
		im->chunk = gm_malloc(GM_UNIXFS_CHUNK);
		if (!im->chunk)
			return GM_ENOMEM;
	}
	if (!im->sink || !im->sink->put) {
		if ((e = import_fd_stream(im, fd)))
			return e;
		return file_end(im, out);
	}
	while (!eof) {
		size_t have = 0;

		while (have < GM_UNIXFS_CHUNK) {
			ssize_t r =
			    read(fd, im->chunk + have, GM_UNIXFS_CHUNK - have);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return read_error(im, errno);
			if (r == 0) {
				eof = true;
				break;
			}
			have += (size_t)r;
		}
		if (have > 0 || im->n_leaves == 0)
			if ((e = file_leaf(im, im->chunk, have)))
				return e;
	}
	return file_end(im, out);
}

/* ---- folders ---- */

struct dent {
	char *name;
	size_t len;
	bool is_dir;
	struct child c;
};

static int dent_cmp(const void *a, const void *b)
{
	const struct dent *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->name, y->name, n);

	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

static bool valid_utf8(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		uint32_t cp;
		size_t k, j;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + k >= n)
			return false;
		for (j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

static const char *kind_of(mode_t m)
{
	if (S_ISLNK(m))
		return "a symbolic link";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	if (S_ISFIFO(m))
		return "a fifo";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file or folder";
}

static gm_err refuse_kind(struct importer *im, mode_t m)
{
	return gm_diag_set(im->d, GM_EUNSAFE,
			   "'%s' is %s; only regular files and folders can be "
			   "imported (remove it or exclude it)",
			   cur_path(im), kind_of(m));
}

static gm_err import_dir(struct importer *im, int dfd, size_t depth,
			 struct child *out);

/* Imports entry de (opened relative to dfd); the path holds its name. */
static gm_err import_entry(struct importer *im, int dfd, struct dent *de,
			   size_t depth)
{
	struct stat st;
	gm_err e;
	int fd;

	fd = openat(dfd, de->name,
		    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
			(de->is_dir ? O_DIRECTORY : 0));
	if (fd < 0) {
		if (errno == ELOOP)
			return refuse_kind(im, S_IFLNK);
		return gm_diag_set(im->d, gm_err_from_errno(errno),
				   "cannot open '%s': %s", cur_path(im),
				   strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		e = gm_diag_set(im->d, gm_err_from_errno(errno),
				"cannot stat '%s': %s", cur_path(im),
				strerror(errno));
		goto out_close;
	}
	if (de->is_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
		e = refuse_kind(im, st.st_mode);
		goto out_close;
	}
	if (de->is_dir)
		e = import_dir(im, fd, depth + 1, &de->c);
	else
		e = import_fd(im, fd, &st, &de->c);
out_close:
	close(fd);
	return e;
}

static gm_err path_push(struct importer *im, const char *name, size_t len)
{
	gm_err e = gm_buf_append_byte(&im->path, '/');

	return e ? e : gm_buf_append(&im->path, name, len);
}

static void path_pop(struct importer *im, size_t len)
{
	im->path.len = len;
	im->path.data[len] = '\0';
}

/*
 * Reads the folder's entries into *out (sorted), applying the filter and
 * refusing unsafe kinds. Stops storing once the shard estimate is passed
 * but keeps counting, for the message.
 */
static gm_err read_dir(struct importer *im, int dfd, struct dent **out,
		       size_t *n_out)
{
	size_t base = im->path.len, n = 0, cap = 0, count = 0;
	uint64_t estimate = 0;
	struct dent *v = NULL;
	struct dirent *ent;
	gm_err e = GM_OK;
	DIR *dir;
	int fd2;

	fd2 = dup(dfd);
	if (fd2 < 0)
		return gm_diag_set(im->d, gm_err_from_errno(errno),
				   "cannot read folder '%s': %s", cur_path(im),
				   strerror(errno));
	dir = fdopendir(fd2);
	if (!dir) {
		close(fd2);
		return gm_diag_set(im->d, gm_err_from_errno(errno),
				   "cannot read folder '%s': %s", cur_path(im),
				   strerror(errno));
	}
	for (;;) {
		struct stat st;
		size_t len;

		errno = 0;
		ent = readdir(dir);
		if (!ent) {
			if (errno)
				e = gm_diag_set(im->d, gm_err_from_errno(errno),
						"cannot read folder '%s': %s",
						cur_path(im), strerror(errno));
			break;
		}
		if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, ".."))
			continue;
		len = strlen(ent->d_name);
		if ((e = path_push(im, ent->d_name, len)))
			break;
		if (fstatat(dfd, ent->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			e = gm_diag_set(im->d, gm_err_from_errno(errno),
					"cannot stat '%s': %s", cur_path(im),
					strerror(errno));
			break;
		}
		if (im->opts && im->opts->filter &&
		    !im->opts->filter(
			im->opts->filter_ctx,
			(const char *)im->path.data + im->root_len + 1, &st)) {
			path_pop(im, base);
			continue;
		}
		if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
			e = refuse_kind(im, st.st_mode);
			break;
		}
		if (!valid_utf8((const uint8_t *)ent->d_name, len)) {
			e = gm_diag_set(im->d, GM_EUNSUPPORTED,
					"the name of '%s' is not valid UTF-8; "
					"IPFS names must be UTF-8 (rename it)",
					cur_path(im));
			break;
		}
		path_pop(im, base);
		count++;
		estimate += len + CID_V1_LEN;
		if (estimate > GM_UNIXFS_SHARD_THRESHOLD)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct dent *nv = gm_reallocarray(v, nc, sizeof(*v));

			if (!nv) {
				e = GM_ENOMEM;
				break;
			}
			v = nv;
			cap = nc;
		}
		v[n].name = gm_strndup(ent->d_name, len);
		if (!v[n].name) {
			e = GM_ENOMEM;
			break;
		}
		v[n].len = len;
		v[n].is_dir = S_ISDIR(st.st_mode);
		n++;
	}
	closedir(dir);
	path_pop(im, base);
	if (!e && estimate > GM_UNIXFS_SHARD_THRESHOLD)
		e = gm_diag_set(im->d, GM_EUNSUPPORTED,
				"folder '%s' has too many entries (%zu) for a "
				"single UnixFS node; sharded directories are "
				"not supported yet",
				cur_path(im), count);
	if (e) {
		while (n)
			gm_free(v[--n].name);
		gm_free(v);
		return e;
	}
	if (n)
		qsort(v, n, sizeof(*v), dent_cmp);
	*out = v;
	*n_out = n;
	return GM_OK;
}

static gm_err import_dir(struct importer *im, int dfd, size_t depth,
			 struct child *out)
{
	static const uint8_t dir_data[] = {0x08, GM_UNIXFS_DIRECTORY};
	size_t base = im->path.len, n = 0, i;
	struct gm_dagpb_link *links = NULL;
	struct dent *v = NULL;
	gm_err e;

	if (depth > MAX_FS_DEPTH)
		return gm_diag_set(im->d, GM_ELIMIT,
				   "'%s' is nested more than %d folders deep",
				   cur_path(im), MAX_FS_DEPTH);
	if ((e = read_dir(im, dfd, &v, &n)))
		return e;
	for (i = 0; i < n; i++) {
		if ((e = path_push(im, v[i].name, v[i].len)))
			goto out_free;
		e = import_entry(im, dfd, &v[i], depth);
		if (e)
			goto out_free;
		path_pop(im, base);
	}
	if (n) {
		links = gm_calloc(n, sizeof(*links));
		if (!links) {
			e = GM_ENOMEM;
			goto out_free;
		}
	}
	for (i = 0; i < n; i++) {
		links[i].cid = v[i].c.cid;
		links[i].name = (const uint8_t *)v[i].name;
		links[i].name_len = v[i].len;
		links[i].has_name = true;
		links[i].tsize = v[i].c.tsize;
		links[i].has_tsize = true;
	}
	if ((e = put_node(im, links, n, dir_data, sizeof(dir_data), out)))
		goto out_free;
	out->fsize = 0;
	im->res.dirs++;
out_free:
	gm_free(links);
	for (i = 0; i < n; i++)
		gm_free(v[i].name);
	gm_free(v);
	return e;
}

static gm_err finish(struct importer *im, const struct child *root,
		     struct gm_unixfs_result *out)
{
	im->res.root = root->cid;
	im->res.dag_size = root->tsize;
	*out = im->res;
	return GM_OK;
}

gm_err gm_unixfs_import_path(const char *path, const struct gm_block_sink *sink,
			     const struct gm_unixfs_import_opts *opts,
			     struct gm_unixfs_result *out, struct gm_diag *d)
{
	struct importer im;
	struct child root;
	struct stat st;
	gm_err e;
	int fd = -1;

	importer_init(&im, sink, opts, d);
	if ((e = gm_buf_append_str(&im.path, path)))
		goto out_release;
	while (im.path.len > 1 && im.path.data[im.path.len - 1] == '/')
		im.path.data[--im.path.len] = '\0';
	im.root_len = im.path.len;
	if (lstat(path, &st) != 0) {
		e = gm_diag_set(d, gm_err_from_errno(errno),
				"cannot import '%s': %s", path,
				strerror(errno));
		goto out_release;
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		e = refuse_kind(&im, st.st_mode);
		goto out_release;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
			    (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
	if (fd < 0) {
		e = errno == ELOOP ? refuse_kind(&im, S_IFLNK)
				   : gm_diag_set(d, gm_err_from_errno(errno),
						 "cannot open '%s': %s", path,
						 strerror(errno));
		goto out_release;
	}
	if (fstat(fd, &st) != 0 ||
	    (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))) {
		e = refuse_kind(&im, st.st_mode);
		goto out_close;
	}
	if (S_ISDIR(st.st_mode))
		e = import_dir(&im, fd, 0, &root);
	else
		e = import_fd(&im, fd, &st, &root);
	if (!e)
		e = finish(&im, &root, out);
out_close:
	close(fd);
out_release:
	importer_release(&im);
	return e;
}

gm_err gm_unixfs_import_bytes(const uint8_t *data, size_t len,
			      const struct gm_block_sink *sink,
			      struct gm_unixfs_result *out, struct gm_diag *d)
{
	struct importer im;
	struct child root;
	size_t off = 0;
	gm_err e = GM_OK;

	importer_init(&im, sink, NULL, d);
	if (!data)
		data = (const uint8_t *)"";
	file_begin(&im);
	do {
		size_t n =
		    len - off < GM_UNIXFS_CHUNK ? len - off : GM_UNIXFS_CHUNK;

		if ((e = file_leaf(&im, data + off, n)))
			goto out_release;
		off += n;
	} while (off < len);
	if ((e = file_end(&im, &root)))
		goto out_release;
	e = finish(&im, &root, out);
out_release:
	importer_release(&im);
	return e;
}
