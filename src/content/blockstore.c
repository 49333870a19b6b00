/*
 * blockstore.c - the content-addressed block store (see gm/blockstore.h).
 *
 * Layout under the store folder, as IPFS flatfs with next-to-last/2:
 *
 *   | path                    | holds                                      |
 *   |-------------------------|--------------------------------------------|
 *   | SHARDING                | "/repo/flatfs/shard/v1/next-to-last/2\n"   |
 *   | <SS>/<KEY>.data         | a block; KEY = base32 upper (RFC 4648, no  |
 *   |                         | padding) of the multihash bytes, SS = the  |
 *   |                         | two characters of KEY before its last one  |
 *   | <SS>/.tmp-<pid>-<n>     | a put in progress or a crash's leftover    |
 *   | pins/<cid text>         | a recursive pin, "<cid text>\n"            |
 *
 * A put writes the temporary file, fsyncs it and renames it over the final
 * name, so a block file is always complete. The rename is made durable by
 * the fsync of its shard folder, which is deferred: each touched shard is a
 * bit in a 32x32 bitmap (two base32 characters), and gm_store_sync() fsyncs
 * each marked folder once, so a bulk import costs one folder fsync per shard
 * rather than one per block.
 *
 * Garbage collection is mark and sweep. The mark walks the DAG of every pin
 * with an explicit stack and two hash sets: visited (by binary CID, since
 * the codec decides how a block's links are read) and marked (by multihash,
 * since that is what a file is keyed by). The sweep scans the folder and
 * removes every block whose multihash is not marked. Any error other than a
 * missing, corrupt or undecodable block stops gc before the sweep, so an
 * I/O problem never causes a reachable block to be deleted. gc assumes no
 * other process writes the store meanwhile.
 */
#include "internal.h"

#include <dirent.h>

#include "gm/blockstore.h"
#include "gm/fs.h"
#include "gm/varint.h"

#define SHARDS 1024 /* 32 x 32 two-character shard names */
#define MH_MAX (2 * GM_VARINT_MAX + GM_CID_MAX_DIGEST)
#define TMP_PREFIX ".tmp-"
#define DATA_SUFFIX ".data"

struct gm_store {
	char *dir;
	char *pins;
	uint32_t dirty[SHARDS / 32]; /* shard folders to fsync */
	bool root_dirty;	     /* a shard folder was created */
	unsigned long seq;	     /* temporary file names */
};

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static int b32_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* Base32 upper, no padding. out must hold (len * 8 + 4) / 5 + 1 bytes. */
static size_t b32_encode(const uint8_t *p, size_t len, char *out)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		acc = (acc << 8) | p[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32_alphabet[(acc >> bits) & 31];
		}
	}
	if (bits)
		out[o++] = b32_alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return o;
}

/*
 * Decodes base32 upper without padding into out (cap bytes); returns the
 * length, or -1 when s is not canonical base32 or does not fit.
 */
static long b32_decode(const char *s, size_t len, uint8_t *out, size_t cap)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		int v = b32_value(s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* Leftover bits must be fewer than 5 and all zero. */
	if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
		return -1;
	return (long)o;
}

/* The multihash bytes of c into out[MH_MAX]; returns their length. */
static size_t mh_encode(const struct gm_cid *c, uint8_t *out)
{
	size_t n = gm_varint_encode(c->mh_code, out);

	n += gm_varint_encode(c->digest_len, out + n);
	memcpy(out + n, c->digest, c->digest_len);
	return n + c->digest_len;
}

/* Parses a multihash we support into a CIDv1 raw; false otherwise. */
static bool mh_to_cid(const uint8_t *p, size_t len, struct gm_cid *out)
{
	uint64_t code, dlen;
	size_t u1, u2;

	if (gm_varint_decode(p, len, &code, &u1) != GM_OK)
		return false;
	if (gm_varint_decode(p + u1, len - u1, &dlen, &u2) != GM_OK)
		return false;
	if ((uint64_t)u1 + u2 + dlen != len)
		return false;
	if (code == GM_MH_SHA2_256
		? dlen != 32
		: code != GM_MH_IDENTITY || dlen > GM_CID_MAX_DIGEST)
		return false;
	memset(out, 0, sizeof(*out));
	out->version = 1;
	out->codec = GM_CODEC_RAW;
	out->mh_code = code;
	out->digest_len = (uint8_t)dlen;
	memcpy(out->digest, p + u1 + u2, (size_t)dlen);
	return true;
}

size_t gm_store_key(const struct gm_cid *cid, char *out, size_t cap)
{
	uint8_t mh[MH_MAX];
	size_t n = mh_encode(cid, mh);

	if (cap < (n * 8 + 4) / 5 + 1)
		return 0;
	return b32_encode(mh, n, out);
}

static int shard_index(const char *ss)
{
	int a = b32_value(ss[0]), b = b32_value(ss[1]);

	return a < 0 || b < 0 ? -1 : a * 32 + b;
}

static void mark_dirty(struct gm_store *s, const char *ss)
{
	int i = shard_index(ss);

	if (i >= 0)
		s->dirty[i / 32] |= 1u << (i % 32);
}

/* "<dir>/<SS>/<KEY>.data", or "<dir>/<SS>" when file is false. */
static char *key_path(const struct gm_store *s, const char *key, bool file)
{
	size_t kl = strlen(key), dl = strlen(s->dir);
	size_t n = dl + 4 + kl + sizeof(DATA_SUFFIX);
	char *p = gm_malloc(n);

	if (!p)
		return NULL;
	if (file)
		snprintf(p, n, "%s/%.2s/%s" DATA_SUFFIX, s->dir, key + kl - 3,
			 key);
	else
		snprintf(p, n, "%s/%.2s", s->dir, key + kl - 3);
	return p;
}

char *gm_store_block_path(const struct gm_store *s, const struct gm_cid *cid)
{
	char key[GM_STORE_KEY_MAX];

	gm_store_key(cid, key, sizeof(key));
	return key_path(s, key, true);
}

static void cid_text(const struct gm_cid *c, char *out, size_t cap)
{
	if (gm_cid_format(c, out, cap) == 0)
		snprintf(out, cap, "(unprintable CID)");
}

/* ---- open, close, sync ---- */

static gm_err check_sharding(const char *dir, struct gm_diag *d)
{
	char *path = gm_path_join(dir, "SHARDING");
	struct gm_buf b;
	gm_err e;

	if (!path)
		return GM_ENOMEM;
	gm_buf_init(&b, 4096);
	e = gm_fs_read_file(path, &b, NULL);
	if (e == GM_ENOENT) {
		e = gm_fs_write_atomic(path, GM_STORE_SHARDING "\n",
				       sizeof(GM_STORE_SHARDING), 0644, d);
	} else if (e == GM_OK) {
		size_t n = b.len;

		while (n && (b.data[n - 1] == '\n' || b.data[n - 1] == ' ' ||
			     b.data[n - 1] == '\r' || b.data[n - 1] == '\t'))
			n--;
		if (n != strlen(GM_STORE_SHARDING) ||
		    memcmp(b.data, GM_STORE_SHARDING, n) != 0)
			e = gm_diag_set(d, GM_ECONFLICT,
					"'%s' says the blocks are sharded as "
					"'%.*s', but this store only reads "
					"'" GM_STORE_SHARDING "'; use another "
					"folder or convert it with the tool "
					"that wrote it",
					path, (int)(n > 200 ? 200 : n),
					(const char *)b.data);
	} else if (e == GM_ENOMEM) {
		/* nothing to add */
	} else {
		e = gm_diag_set(d, e, "cannot read '%s': %s", path,
				gm_strerror(e));
	}
	gm_buf_release(&b);
	gm_free(path);
	return e;
}

gm_err gm_store_open(struct gm_store **out, const char *dir, struct gm_diag *d)
{
	struct gm_store *s;
	gm_err e;

	*out = NULL;
	s = gm_calloc(1, sizeof(*s));
	if (!s)
		return GM_ENOMEM;
	s->dir = gm_strdup(dir);
	if (!s->dir) {
		e = GM_ENOMEM;
		goto out_free;
	}
	s->pins = gm_path_join(dir, "pins");
	if (!s->pins) {
		e = GM_ENOMEM;
		goto out_free;
	}
	e = gm_fs_mkdir_p(dir, 0755, d);
	if (e)
		goto out_free;
	e = check_sharding(dir, d);
	if (e)
		goto out_free;
	if (mkdir(s->pins, 0755) == 0) {
		s->root_dirty = true;
	} else if (errno != EEXIST) {
		e = gm_diag_set(d, gm_err_from_errno(errno),
				"cannot create folder '%s': %s", s->pins,
				strerror(errno));
		goto out_free;
	}
	*out = s;
	return GM_OK;

out_free:
	gm_free(s->pins);
	gm_free(s->dir);
	gm_free(s);
	return e;
}

gm_err gm_store_sync(struct gm_store *s, struct gm_diag *d)
{
	char *path;
	gm_err e;
	int i;

	for (i = 0; i < SHARDS; i++) {
		char ss[3];

		if (!(s->dirty[i / 32] & (1u << (i % 32))))
			continue;
		ss[0] = b32_alphabet[i / 32];
		ss[1] = b32_alphabet[i % 32];
		ss[2] = '\0';
		path = gm_path_join(s->dir, ss);
		if (!path)
			return GM_ENOMEM;
		e = gm_fs_fsync_dir(path, d);
		gm_free(path);
		/* A shard emptied and removed by someone else is fine. */
		if (e && e != GM_ENOENT)
			return e;
		s->dirty[i / 32] &= ~(1u << (i % 32));
	}
	if (s->root_dirty) {
		e = gm_fs_fsync_dir(s->dir, d);
		if (e)
			return e;
		s->root_dirty = false;
	}
	return GM_OK;
}

void gm_store_close(struct gm_store *s)
{
	if (!s)
		return;
	gm_store_sync(s, NULL);
	gm_free(s->pins);
	gm_free(s->dir);
	gm_free(s);
}

/* ---- put, get, has, delete ---- */

gm_err gm_store_put(struct gm_store *s, const struct gm_cid *cid,
		    const uint8_t *data, size_t len, bool *added,
		    struct gm_diag *d)
{
	char key[GM_STORE_KEY_MAX], ctext[GM_CID_MAX_STR];
	char *path, *shard, *tmp = NULL;
	size_t tlen;
	struct stat st;
	gm_err e;
	int fd;

	if (added)
		*added = false;
	if (len > GM_BLOCK_MAX) {
		cid_text(cid, ctext, sizeof(ctext));
		return gm_diag_set(d, GM_ELIMIT,
				   "block %s is %zu bytes, more than the "
				   "limit of %u bytes",
				   ctext, len, GM_BLOCK_MAX);
	}
	e = gm_cid_verify(cid, data, len, d);
	if (e)
		return e;
	gm_store_key(cid, key, sizeof(key));
	path = key_path(s, key, true);
	if (!path)
		return GM_ENOMEM;
	if (lstat(path, &st) == 0) {
		gm_free(path);
		return GM_OK;
	}
	shard = key_path(s, key, false);
	if (!shard) {
		e = GM_ENOMEM;
		goto out_free_path;
	}
	tlen = strlen(shard) + sizeof(TMP_PREFIX) + 48;
	tmp = gm_malloc(tlen);
	if (!tmp) {
		e = GM_ENOMEM;
		goto out_free_shard;
	}
	snprintf(tmp, tlen, "%s/" TMP_PREFIX "%ld-%lu", shard, (long)getpid(),
		 ++s->seq);
	if (mkdir(shard, 0755) == 0) {
		s->root_dirty = true;
	} else if (errno != EEXIST) {
		e = gm_diag_set(d, gm_err_from_errno(errno),
				"cannot create folder '%s': %s", shard,
				strerror(errno));
		goto out_free_tmp;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		e = gm_diag_set(d, gm_err_from_errno(errno),
				"cannot create '%s': %s", tmp, strerror(errno));
		goto out_free_tmp;
	}
	e = gm_fs_write_all(fd, data, len);
	if (!e && fsync(fd) != 0)
		e = gm_err_from_errno(errno);
	if (close(fd) != 0 && !e)
		e = gm_err_from_errno(errno);
	if (e) {
		gm_diag_set(d, e, "cannot write '%s': %s", tmp, gm_strerror(e));
		goto out_unlink;
	}
	if (rename(tmp, path) != 0) {
		e = gm_diag_set(d, gm_err_from_errno(errno),
				"cannot rename '%s' to '%s': %s", tmp, path,
				strerror(errno));
		goto out_unlink;
	}
	mark_dirty(s, key + strlen(key) - 3);
	if (added)
		*added = true;
	goto out_free_tmp;

out_unlink:
	unlink(tmp);
out_free_tmp:
	gm_free(tmp);
out_free_shard:
	gm_free(shard);
out_free_path:
	gm_free(path);
	return e;
}

/*
 * Appends the whole file at path to out, refusing more than GM_BLOCK_MAX
 * bytes. out is unchanged on error.
 */
static gm_err read_block_file(const char *path, struct gm_buf *out,
			      struct gm_diag *d)
{
	uint8_t chunk[16384];
	size_t old = out->len, total = 0;
	struct stat st;
	gm_err e = GM_OK;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return gm_diag_set(d, gm_err_from_errno(errno),
				   "cannot open '%s': %s", path,
				   strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		e = gm_diag_set(d, GM_EIO, "'%s' is not a regular file", path);
		goto out_close;
	}
	if ((uint64_t)st.st_size > GM_BLOCK_MAX) {
		e = gm_diag_set(d, GM_ELIMIT,
				"'%s' is %lld bytes, more than the block "
				"limit of %u bytes",
				path, (long long)st.st_size, GM_BLOCK_MAX);
		goto out_close;
	}
	e = gm_buf_reserve(out, (size_t)st.st_size);
	if (e)
		goto out_limit;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = gm_diag_set(d, gm_err_from_errno(errno),
					"cannot read '%s': %s", path,
					strerror(errno));
			goto out_reset;
		}
		if (n == 0)
			break;
		total += (size_t)n;
		if (total > GM_BLOCK_MAX) {
			e = gm_diag_set(d, GM_ELIMIT,
					"'%s' grew past the block limit of "
					"%u bytes while being read",
					path, GM_BLOCK_MAX);
			goto out_reset;
		}
		e = gm_buf_append(out, chunk, (size_t)n);
		if (e)
			goto out_limit;
	}
	goto out_close;

out_limit:
	if (e == GM_ELIMIT)
		gm_diag_set(d, e,
			    "'%s' does not fit in the buffer (limit %zu "
			    "bytes)",
			    path, out->limit);
out_reset:
	out->len = old;
	if (out->data)
		out->data[old] = 0;
out_close:
	close(fd);
	return e;
}

gm_err gm_store_get(struct gm_store *s, const struct gm_cid *cid,
		    struct gm_buf *out, struct gm_diag *d)
{
	char ctext[GM_CID_MAX_STR], atext[GM_CID_MAX_STR];
	struct gm_cid actual;
	size_t old = out->len;
	char *path;
	gm_err e;

	path = gm_store_block_path(s, cid);
	if (!path)
		return GM_ENOMEM;
	e = read_block_file(path, out, d);
	if (e == GM_ENOENT) {
		cid_text(cid, ctext, sizeof(ctext));
		gm_diag_set(d, e, "block %s is not in the store", ctext);
		goto out_free;
	}
	if (e)
		goto out_free;
	if (gm_cid_verify(cid, out->data + old, out->len - old, NULL) == GM_OK)
		goto out_free;
	e = GM_EINTEGRITY;
	cid_text(cid, ctext, sizeof(ctext));
	if (cid->mh_code == GM_MH_SHA2_256 &&
	    gm_cid_sha256(&actual, cid->version, cid->codec, out->data + old,
			  out->len - old) == GM_OK)
		cid_text(&actual, atext, sizeof(atext));
	else
		snprintf(atext, sizeof(atext), "other bytes");
	gm_diag_set(d, e,
		    "block file '%s' is corrupted: expected %s, the content "
		    "hashes to %s; delete the file and fetch the block again",
		    path, ctext, atext);
	out->len = old;
	out->data[old] = 0;
out_free:
	gm_free(path);
	return e;
}

bool gm_store_has(struct gm_store *s, const struct gm_cid *cid)
{
	char *path = gm_store_block_path(s, cid);
	struct stat st;
	bool r;

	if (!path)
		return false;
	r = stat(path, &st) == 0 && S_ISREG(st.st_mode);
	gm_free(path);
	return r;
}

gm_err gm_store_delete(struct gm_store *s, const struct gm_cid *cid,
		       struct gm_diag *d)
{
	char key[GM_STORE_KEY_MAX], ctext[GM_CID_MAX_STR];
	char *path;
	gm_err e = GM_OK;

	gm_store_key(cid, key, sizeof(key));
	path = key_path(s, key, true);
	if (!path)
		return GM_ENOMEM;
	if (unlink(path) != 0) {
		e = gm_err_from_errno(errno);
		if (e == GM_ENOENT) {
			cid_text(cid, ctext, sizeof(ctext));
			gm_diag_set(d, e, "block %s is not in the store",
				    ctext);
		} else {
			gm_diag_set(d, e, "cannot remove '%s': %s", path,
				    strerror(errno));
		}
	} else {
		mark_dirty(s, key + strlen(key) - 3);
	}
	gm_free(path);
	return e;
}

/* ---- scanning the folder ---- */

enum entry_kind { ENTRY_BLOCK, ENTRY_TEMP };

struct entry {
	enum entry_kind kind;
	const char *shard; /* shard folder path */
	const char *name;  /* file name in it */
	const char *key;   /* KEY (blocks only) */
	struct gm_cid cid; /* CIDv1 raw of the multihash (blocks only) */
	uint64_t size;
};

typedef gm_err (*scan_fn)(struct gm_store *s, void *ctx,
			  const struct entry *ent, struct gm_diag *d);

/* Classifies name in shard ss; false when it is neither block nor temp. */
static bool classify(const char *ss, const char *name, struct entry *ent,
		     char *key)
{
	size_t n = strlen(name), kl;
	uint8_t mh[MH_MAX];
	long ml;

	if (!strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX))) {
		ent->kind = ENTRY_TEMP;
		return true;
	}
	if (n <= strlen(DATA_SUFFIX) ||
	    strcmp(name + n - strlen(DATA_SUFFIX), DATA_SUFFIX) != 0)
		return false;
	kl = n - strlen(DATA_SUFFIX);
	if (kl < 4 || kl >= GM_STORE_KEY_MAX)
		return false;
	if (name[kl - 3] != ss[0] || name[kl - 2] != ss[1])
		return false;
	ml = b32_decode(name, kl, mh, sizeof(mh));
	if (ml < 0 || !mh_to_cid(mh, (size_t)ml, &ent->cid))
		return false;
	memcpy(key, name, kl);
	key[kl] = '\0';
	ent->kind = ENTRY_BLOCK;
	ent->key = key;
	return true;
}

static gm_err scan_shard(struct gm_store *s, const char *ss, scan_fn fn,
			 void *ctx, struct gm_diag *d)
{
	char key[GM_STORE_KEY_MAX];
	struct dirent *de;
	struct entry ent;
	gm_err e = GM_OK;
	char *path;
	DIR *dir;

	path = gm_path_join(s->dir, ss);
	if (!path)
		return GM_ENOMEM;
	dir = opendir(path);
	if (!dir) {
		if (errno == ENOTDIR || errno == ENOENT)
			goto out_free;
		e = gm_diag_set(d, gm_err_from_errno(errno),
				"cannot open folder '%s': %s", path,
				strerror(errno));
		goto out_free;
	}
	while (!e) {
		struct stat st;

		errno = 0;
		de = readdir(dir);
		if (!de) {
			if (errno)
				e = gm_diag_set(d, gm_err_from_errno(errno),
						"cannot read folder '%s': %s",
						path, strerror(errno));
			break;
		}
		memset(&ent, 0, sizeof(ent));
		if (!classify(ss, de->d_name, &ent, key))
			continue;
		if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
			0 ||
		    !S_ISREG(st.st_mode))
			continue;
		ent.shard = path;
		ent.name = de->d_name;
		ent.size = (uint64_t)st.st_size;
		e = fn(s, ctx, &ent, d);
	}
	closedir(dir);
out_free:
	gm_free(path);
	return e;
}

static gm_err scan(struct gm_store *s, scan_fn fn, void *ctx, struct gm_diag *d)
{
	struct dirent *de;
	gm_err e = GM_OK;
	DIR *dir;

	dir = opendir(s->dir);
	if (!dir)
		return gm_diag_set(d, gm_err_from_errno(errno),
				   "cannot open folder '%s': %s", s->dir,
				   strerror(errno));
	while (!e) {
		errno = 0;
		de = readdir(dir);
		if (!de) {
			if (errno)
				e = gm_diag_set(d, gm_err_from_errno(errno),
						"cannot read folder '%s': %s",
						s->dir, strerror(errno));
			break;
		}
		if (strlen(de->d_name) != 2 || shard_index(de->d_name) < 0)
			continue;
		e = scan_shard(s, de->d_name, fn, ctx, d);
	}
	closedir(dir);
	return e;
}

struct iter_ctx {
	gm_store_iter_fn fn;
	void *ctx;
};

static gm_err iter_cb(struct gm_store *s, void *ctx, const struct entry *ent,
		      struct gm_diag *d)
{
	struct iter_ctx *ic = ctx;

	if (ent->kind != ENTRY_BLOCK)
		return GM_OK;
	return ic->fn(ic->ctx, &ent->cid, ent->size);
}

gm_err gm_store_iterate(struct gm_store *s, gm_store_iter_fn fn, void *ctx,
			struct gm_diag *d)
{
	struct iter_ctx ic = {fn, ctx};

	return scan(s, iter_cb, &ic, d);
}

static gm_err stat_cb(struct gm_store *s, void *ctx, const struct entry *ent,
		      struct gm_diag *d)
{
	struct gm_store_stat *st = ctx;

	if (ent->kind == ENTRY_BLOCK) {
		st->blocks++;
		st->bytes += ent->size;
	}
	return GM_OK;
}

/* ---- verify ---- */

struct verify_ctx {
	gm_store_corrupt_fn fn;
	void *ctx;
	struct gm_store_verify_result res;
	struct gm_buf buf;
};

static gm_err verify_cb(struct gm_store *s, void *ctx, const struct entry *ent,
			struct gm_diag *d)
{
	struct verify_ctx *vc = ctx;
	struct gm_diag why;
	char *path;
	gm_err e;

	if (ent->kind != ENTRY_BLOCK)
		return GM_OK;
	path = gm_path_join(ent->shard, ent->name);
	if (!path)
		return GM_ENOMEM;
	gm_diag_clear(&why);
	gm_buf_reset(&vc->buf);
	vc->res.checked++;
	e = read_block_file(path, &vc->buf, &why);
	if (e == GM_ENOMEM)
		goto out_free;
	if (e == GM_OK)
		e = gm_cid_verify(&ent->cid, vc->buf.data, vc->buf.len, &why);
	if (e) {
		vc->res.corrupt++;
		if (!why.msg[0])
			snprintf(why.msg, sizeof(why.msg), "%s",
				 gm_strerror(e));
		if (vc->fn)
			vc->fn(vc->ctx, &ent->cid, ent->key, why.msg);
	}
	e = GM_OK;
out_free:
	gm_free(path);
	return e;
}

gm_err gm_store_verify(struct gm_store *s, gm_store_corrupt_fn fn, void *ctx,
		       struct gm_store_verify_result *out, struct gm_diag *d)
{
	struct verify_ctx vc;
	gm_err e;

	memset(&vc, 0, sizeof(vc));
	vc.fn = fn;
	vc.ctx = ctx;
	gm_buf_init(&vc.buf, GM_BLOCK_MAX);
	e = scan(s, verify_cb, &vc, d);
	gm_buf_release(&vc.buf);
	if (out)
		*out = vc.res;
	if (!e && vc.res.corrupt)
		e = gm_diag_set(d, GM_ECORRUPT,
				"%" PRIu64 " of %" PRIu64 " blocks in '%s' are "
				"corrupted; delete them and fetch them again",
				vc.res.corrupt, vc.res.checked, s->dir);
	return e;
}

/* ---- pins ---- */

static char *pin_path(struct gm_store *s, const struct gm_cid *cid, char *text,
		      size_t cap)
{
	if (gm_cid_format(cid, text, cap) == 0) {
		text[0] = '\0';
		return NULL;
	}
	return gm_path_join(s->pins, text);
}

gm_err gm_store_pin_add(struct gm_store *s, const struct gm_cid *cid,
			struct gm_diag *d)
{
	char text[GM_CID_MAX_STR + 1];
	struct stat st;
	char *path;
	size_t n;
	gm_err e = GM_OK;

	path = pin_path(s, cid, text, sizeof(text) - 1);
	if (!path)
		return text[0] ? GM_ENOMEM : GM_EINVAL;
	if (lstat(path, &st) != 0) {
		n = strlen(text);
		text[n] = '\n';
		e = gm_fs_write_atomic(path, text, n + 1, 0644, d);
	}
	gm_free(path);
	return e;
}

gm_err gm_store_pin_rm(struct gm_store *s, const struct gm_cid *cid,
		       struct gm_diag *d)
{
	char text[GM_CID_MAX_STR];
	char *path;
	gm_err e;

	path = pin_path(s, cid, text, sizeof(text));
	if (!path)
		return text[0] ? GM_ENOMEM : GM_EINVAL;
	if (unlink(path) != 0) {
		e = gm_err_from_errno(errno);
		if (e == GM_ENOENT)
			gm_diag_set(d, e, "%s is not pinned", text);
		else
			gm_diag_set(d, e, "cannot remove '%s': %s", path,
				    strerror(errno));
		goto out_free;
	}
	e = gm_fs_fsync_dir(s->pins, d);
out_free:
	gm_free(path);
	return e;
}

bool gm_store_is_pinned(struct gm_store *s, const struct gm_cid *cid)
{
	char text[GM_CID_MAX_STR];
	struct stat st;
	char *path;
	bool r;

	path = pin_path(s, cid, text, sizeof(text));
	if (!path)
		return false;
	r = lstat(path, &st) == 0 && S_ISREG(st.st_mode);
	gm_free(path);
	return r;
}

struct pin_ent {
	struct gm_cid cid;
	char text[GM_CID_MAX_STR];
};

static int pin_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pin_ent *)a)->text,
		      ((const struct pin_ent *)b)->text);
}

gm_err gm_store_pin_list(struct gm_store *s, struct gm_cid **out, size_t *n,
			 struct gm_diag *d)
{
	struct pin_ent *pins = NULL, *np;
	size_t count = 0, cap = 0, i;
	struct gm_cid *res = NULL;
	struct dirent *de;
	gm_err e = GM_OK;
	DIR *dir;

	*out = NULL;
	*n = 0;
	dir = opendir(s->pins);
	if (!dir) {
		if (errno == ENOENT)
			return GM_OK;
		return gm_diag_set(d, gm_err_from_errno(errno),
				   "cannot open folder '%s': %s", s->pins,
				   strerror(errno));
	}
	for (;;) {
		struct pin_ent pe;
		size_t len;

		errno = 0;
		de = readdir(dir);
		if (!de) {
			if (errno)
				e = gm_diag_set(d, gm_err_from_errno(errno),
						"cannot read folder '%s': %s",
						s->pins, strerror(errno));
			break;
		}
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len >= GM_CID_MAX_STR)
			continue;
		if (gm_cid_parse(&pe.cid, de->d_name, len, NULL) != GM_OK)
			continue;
		/* Only the canonical text form names a pin. */
		if (gm_cid_format(&pe.cid, pe.text, sizeof(pe.text)) != len ||
		    memcmp(pe.text, de->d_name, len) != 0)
			continue;
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			np = gm_reallocarray(pins, cap, sizeof(*pins));
			if (!np) {
				e = GM_ENOMEM;
				break;
			}
			pins = np;
		}
		pins[count++] = pe;
	}
	closedir(dir);
	if (e || count == 0)
		goto out_free;
	qsort(pins, count, sizeof(*pins), pin_cmp);
	res = gm_reallocarray(NULL, count, sizeof(*res));
	if (!res) {
		e = GM_ENOMEM;
		goto out_free;
	}
	for (i = 0; i < count; i++)
		res[i] = pins[i].cid;
	*out = res;
	*n = count;
out_free:
	gm_free(pins);
	return e;
}

gm_err gm_store_stat(struct gm_store *s, struct gm_store_stat *out,
		     struct gm_diag *d)
{
	struct gm_cid *pins;
	size_t n;
	gm_err e;

	memset(out, 0, sizeof(*out));
	e = scan(s, stat_cb, out, d);
	if (e)
		return e;
	e = gm_store_pin_list(s, &pins, &n, d);
	if (e)
		return e;
	gm_free(pins);
	out->pins = n;
	return GM_OK;
}

/* ---- garbage collection ---- */

/* An open-addressing hash set of short byte strings (CIDs, multihashes). */
struct keyent {
	uint8_t len; /* 0: empty slot */
	uint8_t b[GM_CID_MAX_BYTES];
};

struct keyset {
	struct keyent *tab;
	size_t cap, n; /* cap is a power of two */
};

static uint64_t key_hash(const uint8_t *p, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static struct keyent *keyset_find(const struct keyset *ks, const uint8_t *p,
				  size_t len)
{
	size_t i = (size_t)key_hash(p, len) & (ks->cap - 1);

	for (;;) {
		struct keyent *k = &ks->tab[i];

		if (!k->len || (k->len == len && !memcmp(k->b, p, len)))
			return k;
		i = (i + 1) & (ks->cap - 1);
	}
}

static bool keyset_has(const struct keyset *ks, const uint8_t *p, size_t len)
{
	return ks->cap && keyset_find(ks, p, len)->len != 0;
}

/* Inserts; *fresh tells whether the key was new. */
static gm_err keyset_add(struct keyset *ks, const uint8_t *p, size_t len,
			 bool *fresh)
{
	struct keyent *k;

	GM_ASSERT(len > 0 && len <= GM_CID_MAX_BYTES);
	if ((ks->n + 1) * 2 > ks->cap) {
		struct keyset big = {NULL, ks->cap ? ks->cap * 2 : 64, 0};
		size_t i;

		big.tab = gm_calloc(big.cap, sizeof(*big.tab));
		if (!big.tab)
			return GM_ENOMEM;
		for (i = 0; i < ks->cap; i++) {
			if (!ks->tab[i].len)
				continue;
			*keyset_find(&big, ks->tab[i].b, ks->tab[i].len) =
			    ks->tab[i];
			big.n++;
		}
		gm_free(ks->tab);
		*ks = big;
	}
	k = keyset_find(ks, p, len);
	*fresh = k->len == 0;
	if (*fresh) {
		k->len = (uint8_t)len;
		memcpy(k->b, p, len);
		ks->n++;
	}
	return GM_OK;
}

struct cid_stack {
	struct gm_cid *v;
	size_t n, cap;
};

static gm_err stack_push(void *ctx, const struct gm_cid *cid)
{
	struct cid_stack *st = ctx;

	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 64;
		struct gm_cid *v = gm_reallocarray(st->v, cap, sizeof(*v));

		if (!v)
			return GM_ENOMEM;
		st->v = v;
		st->cap = cap;
	}
	st->v[st->n++] = *cid;
	return GM_OK;
}

struct gc_ctx {
	struct keyset marked;
	struct gm_store_gc_result res;
};

static gm_err mark(struct gm_store *s, struct gc_ctx *gc,
		   const struct gm_cid *roots, size_t n_roots, struct gm_diag *d)
{
	struct keyset visited = {NULL, 0, 0};
	struct cid_stack st = {NULL, 0, 0};
	struct gm_cid *pins = NULL;
	uint8_t key[GM_CID_MAX_BYTES];
	struct gm_diag why;
	struct gm_buf buf;
	size_t n_pins, i;
	gm_err e;

	gm_diag_clear(&why);
	gm_buf_init(&buf, GM_BLOCK_MAX);
	e = gm_store_pin_list(s, &pins, &n_pins, d);
	for (i = 0; !e && i < n_pins; i++)
		e = stack_push(&st, &pins[i]);
	for (i = 0; !e && i < n_roots; i++)
		e = stack_push(&st, &roots[i]);
	while (!e && st.n) {
		struct gm_cid cid = st.v[--st.n];
		size_t kl;
		bool fresh;

		kl = gm_cid_encode(&cid, key, sizeof(key));
		GM_ASSERT(kl > 0);
		e = keyset_add(&visited, key, kl, &fresh);
		if (e || !fresh)
			continue;
		kl = mh_encode(&cid, key);
		e = keyset_add(&gc->marked, key, kl, &fresh);
		if (e)
			continue;
		gm_buf_reset(&buf);
		e = gm_store_get(s, &cid, &buf, &why);
		if (e == GM_ENOENT || e == GM_EINTEGRITY || e == GM_ELIMIT) {
			/* Missing or unreadable as a DAG: a leaf. */
			e = GM_OK;
			continue;
		}
		if (e) {
			gm_diag_set(d, e, "%s; nothing was removed", why.msg);
			continue;
		}
		e = gm_block_links(&cid, buf.data, buf.len, stack_push, &st);
		if (e == GM_EUNSUPPORTED || e == GM_EFORMAT)
			e = GM_OK;
	}
	if (e == GM_ENOMEM)
		gm_diag_set(d, e,
			    "out of memory while marking the pinned "
			    "blocks; nothing was removed");
	gm_free(st.v);
	gm_free(visited.tab);
	gm_free(pins);
	gm_buf_release(&buf);
	return e;
}

static gm_err sweep_cb(struct gm_store *s, void *ctx, const struct entry *ent,
		       struct gm_diag *d)
{
	struct gc_ctx *gc = ctx;
	uint8_t mh[MH_MAX];
	size_t ml;
	char *path;

	if (ent->kind == ENTRY_BLOCK) {
		ml = mh_encode(&ent->cid, mh);
		if (keyset_has(&gc->marked, mh, ml)) {
			gc->res.kept++;
			return GM_OK;
		}
	}
	path = gm_path_join(ent->shard, ent->name);
	if (!path)
		return GM_ENOMEM;
	if (unlink(path) != 0) {
		gm_err e = gm_diag_set(d, gm_err_from_errno(errno),
				       "cannot remove '%s': %s", path,
				       strerror(errno));

		gm_free(path);
		return e;
	}
	gm_free(path);
	if (ent->kind == ENTRY_BLOCK) {
		gc->res.removed++;
		gc->res.bytes_freed += ent->size;
		mark_dirty(s, ent->key + strlen(ent->key) - 3);
	} else {
		gc->res.temp_removed++;
	}
	return GM_OK;
}

/* Removes pin files left half-written by a crash (gm_fs_write_atomic). */
static gm_err sweep_pin_temps(struct gm_store *s, struct gc_ctx *gc,
			      struct gm_diag *d)
{
	struct dirent *de;
	gm_err e = GM_OK;
	DIR *dir;

	dir = opendir(s->pins);
	if (!dir)
		return GM_OK;
	while (!e && (de = readdir(dir)) != NULL) {
		if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) != 0)
			continue;
		if (unlinkat(dirfd(dir), de->d_name, 0) == 0)
			gc->res.temp_removed++;
		else if (errno != ENOENT)
			e = gm_diag_set(d, gm_err_from_errno(errno),
					"cannot remove '%s/%s': %s", s->pins,
					de->d_name, strerror(errno));
	}
	closedir(dir);
	return e;
}

gm_err gm_store_gc(struct gm_store *s, struct gm_store_gc_result *out,
		   struct gm_diag *d)
{
	return gm_store_gc_roots(s, NULL, 0, out, d);
}

gm_err gm_store_gc_roots(struct gm_store *s, const struct gm_cid *roots,
			 size_t n_roots, struct gm_store_gc_result *out,
			 struct gm_diag *d)
{
	struct gc_ctx gc;
	gm_err e;

	memset(&gc, 0, sizeof(gc));
	e = mark(s, &gc, roots, n_roots, d);
	if (!e)
		e = scan(s, sweep_cb, &gc, d);
	if (!e)
		e = sweep_pin_temps(s, &gc, d);
	if (!e)
		e = gm_store_sync(s, d);
	gm_free(gc.marked.tab);
	if (out)
		*out = gc.res;
	return e;
}

/* ---- adapters ---- */

static gm_err sink_put(void *ctx, const struct gm_cid *cid, const uint8_t *data,
		       size_t len)
{
	return gm_store_put(ctx, cid, data, len, NULL, NULL);
}

static gm_err source_get(void *ctx, const struct gm_cid *cid,
			 struct gm_buf *out)
{
	return gm_store_get(ctx, cid, out, NULL);
}

void gm_store_sink(struct gm_store *s, struct gm_block_sink *out)
{
	out->put = sink_put;
	out->ctx = s;
}

void gm_store_source(struct gm_store *s, struct gm_block_source *out)
{
	out->get = source_get;
	out->ctx = s;
}
