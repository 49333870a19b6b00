/*
 * unixfs_export.c - a UnixFS DAG back to files and folders, refusing
 * anything hostile.
 *
 * The walk is depth first. Every block is fetched from the source into the
 * buffer of its depth and checked with gm_cid_verify() before it is decoded,
 * so decoded names and data (which point into that buffer) stay valid while
 * the children below are processed. What is accepted:
 *
 *   | block                     | becomes                                   |
 *   |---------------------------|-------------------------------------------|
 *   | raw                       | a file (at the root) or file bytes        |
 *   | dag-pb File / Raw         | a file: inline Data, then each link's     |
 *   |                           | bytes; filesize = len(Data) + sum of      |
 *   |                           | blocksizes; link i yields blocksizes[i]   |
 *   | dag-pb Directory          | a folder; each link is a named entry      |
 *
 * Refused: Symlink and Metadata nodes, bad names (empty, ".", "..", '/',
 * NUL, longer than 255 bytes, duplicates, equal ignoring ASCII case), size
 * disagreements, file links of 0 bytes (a work bomb: a handful of blocks
 * linking each other thousands of times over) and a CID that appears twice
 * on the current path (only a lying source can make one) with GM_EUNSAFE;
 * HAMT shards and codecs other than raw and dag-pb with GM_EUNSUPPORTED;
 * depth, byte and entry budgets with GM_ELIMIT.
 *
 * Entries are created relative to their folder's descriptor (mkdirat,
 * openat with O_EXCL and O_NOFOLLOW), never through a path that a symlink
 * planted during the export could redirect.
 *
 * Everything is written under "<dir>/.<name>.gm-tmp-<pid>-<n>", renamed to
 * the target (without replacing anything) only after the whole DAG was
 * written; on any failure the temporary tree is removed. Files are not
 * fsynced: the caller decides about durability.
 */
#include "internal.h"

#include "gm/buf.h"
#include "gm/dagpb.h"
#include "gm/fs.h"
#include "gm/unixfs.h"
#include "unixfs_int.h"

#define NAME_MAX_BYTES 255

struct level {
	struct gm_buf block;
	struct gm_dagpb_node node;
	struct gm__unixfs_data u;
};

struct exporter {
	const struct gm_block_source *src;
	struct gm_diag *d;
	const char *out_path;
	uint32_t max_depth;
	uint64_t max_bytes;
	uint64_t max_entries;
	uint64_t bytes;
	uint64_t entries;
	size_t depth;	      /* blocks on the current path */
	struct gm_cid *stack; /* their CIDs, max_depth entries */
	struct level *levels; /* per depth, max_depth entries */
	struct gm_buf path;   /* file system path of the current entry */
	size_t tmp_len;	      /* length of the temporary root in path */
	char disp[1024];      /* scratch for what_path() */
};

/* The current entry as the user will see it: under out_path. */
static const char *what_path(struct exporter *ex)
{
	snprintf(ex->disp, sizeof(ex->disp), "%s%s", ex->out_path,
		 (const char *)ex->path.data + ex->tmp_len);
	return ex->disp;
}

/* A printable copy of an untrusted name, for messages. */
static const char *show_name(char *out, size_t cap, const uint8_t *p, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 4 < cap; i++)
		out[o++] = (p[i] < 0x20 || p[i] == 0x7f) ? '?' : (char)p[i];
	if (i < n && o + 3 < cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

static gm_err enter(struct exporter *ex, const struct gm_cid *cid)
{
	char s[GM_CID_MAX_STR];
	size_t i;

	if (ex->depth >= ex->max_depth)
		return gm_diag_set(ex->d, GM_ELIMIT,
				   "'%s' is more than %" PRIu32 " blocks deep; "
				   "refusing the DAG (raise the depth limit if "
				   "it is legitimate)",
				   what_path(ex), ex->max_depth);
	for (i = 0; i < ex->depth; i++) {
		if (!gm_cid_equal(&ex->stack[i], cid))
			continue;
		gm_cid_format(cid, s, sizeof(s));
		return gm_diag_set(ex->d, GM_EUNSAFE,
				   "cycle in the DAG: block %s appears again "
				   "below itself at '%s'",
				   s, what_path(ex));
	}
	ex->stack[ex->depth++] = *cid;
	return GM_OK;
}

static void leave(struct exporter *ex)
{
	struct level *l = &ex->levels[--ex->depth];

	gm_dagpb_node_release(&l->node);
	gm_dagpb_node_init(&l->node);
	gm__unixfs_data_release(&l->u);
}

/* Fetches and verifies cid into the current level's buffer. */
static gm_err fetch(struct exporter *ex, const struct gm_cid *cid,
		    struct level *l)
{
	char s[GM_CID_MAX_STR];
	gm_err e;

	if (cid->codec != GM_CODEC_RAW && cid->codec != GM_CODEC_DAG_PB) {
		gm_cid_format(cid, s, sizeof(s));
		return gm_diag_set(ex->d, GM_EUNSUPPORTED,
				   "block %s for '%s' has codec 0x%" PRIx64
				   "; only raw and dag-pb UnixFS can be "
				   "exported",
				   s, what_path(ex), cid->codec);
	}
	gm_buf_reset(&l->block);
	if (cid->mh_code == GM_MH_IDENTITY)
		/* An inline block: the CID holds the bytes themselves. */
		e = gm_buf_append(&l->block, cid->digest, cid->digest_len);
	else
		e = ex->src->get(ex->src->ctx, cid, &l->block);
	if (e)
		gm_cid_format(cid, s, sizeof(s));
	if (e == GM_ENOENT)
		return gm_diag_set(ex->d, e,
				   "block %s for '%s' is not available; fetch "
				   "it first",
				   s, what_path(ex));
	if (e)
		return gm_diag_set(ex->d, e, "cannot get block %s for '%s': %s",
				   s, what_path(ex), gm_strerror(e));
	return gm_cid_verify(cid, l->block.data, l->block.len, ex->d);
}

/* Decodes a dag-pb block of the level and its UnixFS Data. */
static gm_err decode_pb(struct exporter *ex, struct level *l)
{
	gm_err e;

	e = gm_dagpb_decode(&l->node, l->block.data, l->block.len, ex->d);
	if (e)
		return e;
	if (!l->node.has_data)
		return gm_diag_set(ex->d, GM_EFORMAT,
				   "'%s' is a dag-pb node without UnixFS Data",
				   what_path(ex));
	return gm__unixfs_data_decode(&l->u, l->node.data, l->node.data_len,
				      GM_DAGPB_MAX_LINKS, ex->d);
}

static gm_err refuse_type(struct exporter *ex, uint64_t type)
{
	if (type == GM_UNIXFS_HAMT_SHARD)
		return gm_diag_set(ex->d, GM_EUNSUPPORTED,
				   "'%s' is a HAMT-sharded folder; sharded "
				   "folders are not supported yet",
				   what_path(ex));
	if (type == GM_UNIXFS_SYMLINK)
		return gm_diag_set(ex->d, GM_EUNSAFE,
				   "'%s' is a symbolic link; links are not "
				   "extracted",
				   what_path(ex));
	return gm_diag_set(ex->d, GM_EUNSAFE,
			   "'%s' has UnixFS type %" PRIu64
			   "; only files and folders are extracted",
			   what_path(ex), type);
}

static gm_err write_bytes(struct exporter *ex, int fd, const uint8_t *p,
			  size_t n)
{
	gm_err e;

	if (n > ex->max_bytes - ex->bytes)
		return gm_diag_set(ex->d, GM_ELIMIT,
				   "'%s' takes the export past %" PRIu64
				   " bytes",
				   what_path(ex), ex->max_bytes);
	ex->bytes += n;
	e = gm_fs_write_all(fd, p, n);
	if (e)
		return gm_diag_set(ex->d, e, "cannot write '%s': %s",
				   what_path(ex), strerror(errno));
	return GM_OK;
}

static gm_err size_lie(struct exporter *ex, const char *what, uint64_t a,
		       uint64_t b)
{
	return gm_diag_set(ex->d, GM_EUNSAFE,
			   "sizes in '%s' disagree: %s (%" PRIu64 " vs %" PRIu64
			   "); the DAG is corrupt or hostile",
			   what_path(ex), what, a, b);
}

/*
 * Writes the content of the file node at level l (decoded, type File or
 * Raw). want is the size the parent's blocksizes promise (or UINT64_MAX at
 * the top of the file).
 */
static gm_err write_file_node(struct exporter *ex, int fd, struct level *l,
			      uint64_t want);

/* Writes the bytes below one link of a file; they must be want bytes. */
static gm_err write_file_child(struct exporter *ex, int fd,
			       const struct gm_cid *cid, uint64_t want)
{
	struct level *l;
	gm_err e;

	if ((e = enter(ex, cid)))
		return e;
	l = &ex->levels[ex->depth - 1];
	if ((e = fetch(ex, cid, l)))
		goto out_leave;
	if (cid->codec == GM_CODEC_RAW) {
		if (l->block.len != want) {
			e = size_lie(ex, "raw leaf length vs blocksizes",
				     l->block.len, want);
			goto out_leave;
		}
		e = write_bytes(ex, fd, l->block.data, l->block.len);
		goto out_leave;
	}
	if ((e = decode_pb(ex, l)))
		goto out_leave;
	if (l->u.type != GM_UNIXFS_FILE && l->u.type != GM_UNIXFS_RAW) {
		e = l->u.type == GM_UNIXFS_DIRECTORY
			? gm_diag_set(ex->d, GM_EUNSAFE,
				      "'%s' has a folder node inside a "
				      "file",
				      what_path(ex))
			: refuse_type(ex, l->u.type);
		goto out_leave;
	}
	e = write_file_node(ex, fd, l, want);
out_leave:
	leave(ex);
	return e;
}

static gm_err write_file_node(struct exporter *ex, int fd, struct level *l,
			      uint64_t want)
{
	const struct gm__unixfs_data *u = &l->u;
	uint64_t total = u->has_data ? u->data_len : 0;
	gm_err e;
	size_t i;

	if (l->node.n_links != u->n_blocksizes)
		return size_lie(ex, "number of links vs blocksizes",
				l->node.n_links, u->n_blocksizes);
	for (i = 0; i < u->n_blocksizes; i++) {
		/*
		 * Every link must carry bytes: links of 0 bytes cost a fetch
		 * each without touching the byte budget, so a few blocks
		 * linking each other many times over would make the walk
		 * run for ever. With each link worth a byte or more, the
		 * blocks fetched stay below depth times max_bytes.
		 */
		if (u->blocksizes[i] == 0)
			return gm_diag_set(
			    ex->d, GM_EUNSAFE,
			    "'%s' has a file node whose link %zu "
			    "holds 0 bytes; importers never make "
			    "one, and repeated they are a work "
			    "bomb; refusing the DAG",
			    what_path(ex), i);
		if (u->blocksizes[i] > UINT64_MAX / 2 - total)
			return size_lie(ex, "blocksizes overflow",
					u->blocksizes[i], total);
		total += u->blocksizes[i];
	}
	if (u->has_filesize && u->filesize != total)
		return size_lie(ex, "filesize vs data plus blocksizes",
				u->filesize, total);
	if (want != UINT64_MAX && want != total)
		return size_lie(ex, "file node size vs parent blocksizes",
				total, want);
	if (total > ex->max_bytes - ex->bytes)
		return gm_diag_set(ex->d, GM_ELIMIT,
				   "'%s' (%" PRIu64 " bytes) takes the export "
				   "past %" PRIu64 " bytes",
				   what_path(ex), total, ex->max_bytes);
	if (u->has_data && (e = write_bytes(ex, fd, u->data, u->data_len)))
		return e;
	for (i = 0; i < l->node.n_links; i++) {
		e = write_file_child(ex, fd, &l->node.links[i].cid,
				     u->blocksizes[i]);
		if (e)
			return e;
	}
	return GM_OK;
}

static gm_err count_entry(struct exporter *ex)
{
	if (ex->entries >= ex->max_entries)
		return gm_diag_set(ex->d, GM_ELIMIT,
				   "'%s' takes the export past %" PRIu64
				   " files and folders",
				   what_path(ex), ex->max_entries);
	ex->entries++;
	return GM_OK;
}

/* Creates the file name in folder pfd and writes level l's content. */
static gm_err export_file(struct exporter *ex, struct level *l, bool raw,
			  int pfd, const char *name)
{
	gm_err e;
	int fd;

	if ((e = count_entry(ex)))
		return e;
	fd = openat(pfd, name,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return gm_diag_set(ex->d, gm_err_from_errno(errno),
				   "cannot create '%s': %s", what_path(ex),
				   strerror(errno));
	if (raw)
		e = write_bytes(ex, fd, l->block.data, l->block.len);
	else
		e = write_file_node(ex, fd, l, UINT64_MAX);
	if (close(fd) != 0 && !e)
		e = gm_diag_set(ex->d, gm_err_from_errno(errno),
				"cannot write '%s': %s", what_path(ex),
				strerror(errno));
	return e;
}

static int ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Orders names ignoring ASCII case; exact bytes break ties. */
static int name_cmp_ci(const struct gm_dagpb_link *a,
		       const struct gm_dagpb_link *b, bool *same_ci)
{
	size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
	size_t i;

	for (i = 0; i < n; i++) {
		int x = ascii_lower(a->name[i]), y = ascii_lower(b->name[i]);

		if (x != y) {
			*same_ci = false;
			return x - y;
		}
	}
	if (a->name_len != b->name_len) {
		*same_ci = false;
		return a->name_len < b->name_len ? -1 : 1;
	}
	*same_ci = true;
	n = a->name_len;
	return n ? memcmp(a->name, b->name, n) : 0;
}

static int link_ptr_cmp(const void *pa, const void *pb)
{
	typedef const struct gm_dagpb_link *link_ptr;
	link_ptr a = *(const link_ptr *)pa, b = *(const link_ptr *)pb;
	bool same;

	return name_cmp_ci(a, b, &same);
}

/* Refuses bad, duplicate and case-colliding names of a folder node. */
static gm_err check_names(struct exporter *ex, const struct gm_dagpb_node *n)
{
	const struct gm_dagpb_link **v;
	char s1[80], s2[80];
	gm_err e = GM_OK;
	size_t i;

	for (i = 0; i < n->n_links; i++) {
		const struct gm_dagpb_link *k = &n->links[i];
		const char *why = NULL;

		if (!k->has_name || k->name_len == 0)
			why = "is empty";
		else if ((k->name_len == 1 && k->name[0] == '.') ||
			 (k->name_len == 2 && k->name[0] == '.' &&
			  k->name[1] == '.'))
			why = "is a relative path component";
		else if (memchr(k->name, '/', k->name_len))
			why = "contains '/'";
		else if (memchr(k->name, '\0', k->name_len))
			why = "contains a NUL byte";
		else if (k->name_len > NAME_MAX_BYTES)
			why = "is longer than 255 bytes";
		if (why)
			return gm_diag_set(
			    ex->d, GM_EUNSAFE,
			    "folder '%s' has an entry whose "
			    "name '%s' %s; refusing the DAG",
			    what_path(ex),
			    show_name(s1, sizeof(s1), k->name, k->name_len),
			    why);
	}
	if (n->n_links < 2)
		return GM_OK;
	v = gm_reallocarray(NULL, n->n_links, sizeof(*v));
	if (!v)
		return GM_ENOMEM;
	for (i = 0; i < n->n_links; i++)
		v[i] = &n->links[i];
	qsort(v, n->n_links, sizeof(*v), link_ptr_cmp);
	for (i = 1; i < n->n_links; i++) {
		bool same;
		int c = name_cmp_ci(v[i - 1], v[i], &same);

		if (!same)
			continue;
		show_name(s1, sizeof(s1), v[i - 1]->name, v[i - 1]->name_len);
		show_name(s2, sizeof(s2), v[i]->name, v[i]->name_len);
		if (c == 0)
			e = gm_diag_set(ex->d, GM_EUNSAFE,
					"folder '%s' has the name '%s' twice; "
					"refusing the DAG",
					what_path(ex), s1);
		else
			e = gm_diag_set(ex->d, GM_EUNSAFE,
					"folder '%s' has names '%s' and '%s' "
					"that differ only in case; refusing "
					"the DAG (they would collide on "
					"case-insensitive file systems)",
					what_path(ex), s1, s2);
		break;
	}
	gm_free(v);
	return e;
}

static gm_err export_node(struct exporter *ex, const struct gm_cid *cid,
			  int pfd, const char *name);

/* Creates the folder name in folder pfd and exports its entries into it. */
static gm_err export_dir(struct exporter *ex, struct level *l, int pfd,
			 const char *name)
{
	size_t base = ex->path.len, i;
	char nm[NAME_MAX_BYTES + 1];
	gm_err e = GM_OK;
	int dfd;

	if ((e = check_names(ex, &l->node)) || (e = count_entry(ex)))
		return e;
	if (l->node.n_links > ex->max_entries - ex->entries)
		return gm_diag_set(ex->d, GM_ELIMIT,
				   "folder '%s' (%zu entries) takes the "
				   "export past %" PRIu64 " files and folders",
				   what_path(ex), l->node.n_links,
				   ex->max_entries);
	if (mkdirat(pfd, name, 0755) != 0)
		return gm_diag_set(ex->d, gm_err_from_errno(errno),
				   "cannot create folder '%s': %s",
				   what_path(ex), strerror(errno));
	dfd =
	    openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return gm_diag_set(ex->d, gm_err_from_errno(errno),
				   "cannot open folder '%s': %s", what_path(ex),
				   strerror(errno));
	for (i = 0; i < l->node.n_links; i++) {
		const struct gm_dagpb_link *k = &l->node.links[i];

		/* check_names() bounded the length and refused NUL and '/'. */
		memcpy(nm, k->name, k->name_len);
		nm[k->name_len] = '\0';
		if ((e = gm_buf_append_byte(&ex->path, '/')) ||
		    (e = gm_buf_append(&ex->path, k->name, k->name_len)))
			break;
		if ((e = export_node(ex, &k->cid, dfd, nm)))
			break;
		ex->path.len = base;
		ex->path.data[base] = '\0';
	}
	close(dfd);
	return e;
}

/* Exports the entry cid as name in folder pfd (ex->path names it). */
static gm_err export_node(struct exporter *ex, const struct gm_cid *cid,
			  int pfd, const char *name)
{
	struct level *l;
	gm_err e;

	if ((e = enter(ex, cid)))
		return e;
	l = &ex->levels[ex->depth - 1];
	if ((e = fetch(ex, cid, l)))
		goto out_leave;
	if (cid->codec == GM_CODEC_RAW) {
		e = export_file(ex, l, true, pfd, name);
		goto out_leave;
	}
	if ((e = decode_pb(ex, l)))
		goto out_leave;
	switch (l->u.type) {
	case GM_UNIXFS_FILE:
	case GM_UNIXFS_RAW:
		e = export_file(ex, l, false, pfd, name);
		break;
	case GM_UNIXFS_DIRECTORY:
		e = export_dir(ex, l, pfd, name);
		break;
	default:
		e = refuse_type(ex, l->u.type);
		break;
	}
out_leave:
	leave(ex);
	return e;
}

static gm_err exporter_init(struct exporter *ex,
			    const struct gm_block_source *src,
			    const char *out_path,
			    const struct gm_unixfs_limits *lim,
			    struct gm_diag *d)
{
	uint32_t i;

	memset(ex, 0, sizeof(*ex));
	ex->src = src;
	ex->d = d;
	ex->out_path = out_path;
	ex->max_depth =
	    lim && lim->max_depth ? lim->max_depth : GM_UNIXFS_DEFAULT_DEPTH;
	ex->max_bytes =
	    lim && lim->max_bytes ? lim->max_bytes : GM_UNIXFS_DEFAULT_BYTES;
	ex->max_entries = lim && lim->max_entries ? lim->max_entries
						  : GM_UNIXFS_DEFAULT_ENTRIES;
	if (ex->max_depth > 4096)
		ex->max_depth = 4096;
	gm_buf_init(&ex->path, 1u << 20);
	ex->stack = gm_calloc(ex->max_depth, sizeof(*ex->stack));
	ex->levels = gm_calloc(ex->max_depth, sizeof(*ex->levels));
	if (!ex->stack || !ex->levels)
		return GM_ENOMEM;
	for (i = 0; i < ex->max_depth; i++) {
		gm_buf_init(&ex->levels[i].block, GM_BLOCK_MAX);
		gm_dagpb_node_init(&ex->levels[i].node);
		gm__unixfs_data_init(&ex->levels[i].u);
	}
	return GM_OK;
}

static void exporter_release(struct exporter *ex)
{
	uint32_t i;

	if (ex->levels) {
		for (i = 0; i < ex->max_depth; i++) {
			gm_buf_release(&ex->levels[i].block);
			gm_dagpb_node_release(&ex->levels[i].node);
			gm__unixfs_data_release(&ex->levels[i].u);
		}
	}
	gm_free(ex->levels);
	gm_free(ex->stack);
	gm_buf_release(&ex->path);
}

/*
 * "<dir>/.<base>.gm-tmp-<pid>-<n>" next to out (without trailing '/');
 * *dlen gets the length of "<dir>/" (0 for the current folder).
 */
static gm_err tmp_sibling(struct gm_buf *b, const char *out, size_t len,
			  size_t *dlen)
{
	static unsigned long seq;
	const char *slash;

	slash = memrchr(out, '/', len);
	*dlen = slash ? (size_t)(slash - out) + 1 : 0;
	return gm_buf_printf(b, "%.*s.%.*s.gm-tmp-%ld-%lu", (int)*dlen, out,
			     (int)(len - *dlen), out + *dlen, (long)getpid(),
			     ++seq);
}

gm_err gm_unixfs_export(const struct gm_block_source *src,
			const struct gm_cid *root, const char *out_path,
			const struct gm_unixfs_limits *lim, struct gm_diag *d)
{
	struct exporter ex;
	struct stat st;
	size_t len = strlen(out_path);
	char *target = NULL, *parent = NULL, *tmpname = NULL;
	size_t dlen;
	gm_err e;
	int pfd = -1;

	while (len > 1 && out_path[len - 1] == '/')
		len--;
	if (len == 0 || !src || !src->get)
		return gm_diag_set(d, GM_EINVAL, "no output path or source");
	if (lstat(out_path, &st) == 0)
		return gm_diag_set(d, GM_EEXIST,
				   "'%s' already exists; choose a new path or "
				   "remove it first",
				   out_path);
	target = gm_strndup(out_path, len);
	if (!target)
		return GM_ENOMEM;
	if ((e = exporter_init(&ex, src, target, lim, d)))
		goto out_release;
	if ((e = tmp_sibling(&ex.path, target, len, &dlen)))
		goto out_release;
	ex.tmp_len = ex.path.len;
	parent = dlen ? gm_strndup(target, dlen) : gm_strdup(".");
	tmpname = gm_strdup((const char *)ex.path.data + dlen);
	if (!parent || !tmpname) {
		e = GM_ENOMEM;
		goto out_release;
	}
	pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0) {
		e = gm_diag_set(d, gm_err_from_errno(errno),
				"cannot open folder '%s' for '%s': %s", parent,
				target, strerror(errno));
		goto out_release;
	}
	e = export_node(&ex, root, pfd, tmpname);
	if (!e && renameat2(AT_FDCWD, (const char *)ex.path.data, AT_FDCWD,
			    target, RENAME_NOREPLACE) != 0) {
		if (errno == EEXIST)
			e = gm_diag_set(d, GM_EEXIST,
					"'%s' appeared while exporting; "
					"nothing was replaced",
					target);
		else
			e = gm_diag_set(d, gm_err_from_errno(errno),
					"cannot rename the export into '%s': "
					"%s",
					target, strerror(errno));
	}
	if (e && ex.path.len) {
		ex.path.len = ex.tmp_len;
		ex.path.data[ex.tmp_len] = '\0';
		gm_fs_remove_tree((const char *)ex.path.data, NULL);
	}
out_release:
	if (pfd >= 0)
		close(pfd);
	exporter_release(&ex);
	gm_free(tmpname);
	gm_free(parent);
	gm_free(target);
	return e;
}
