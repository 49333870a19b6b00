/*
 * car.c - CAR v1 reader and writer, DAG export and import (see gm/car.h).
 *
 *   | bytes                     | meaning                                 |
 *   |---------------------------|-----------------------------------------|
 *   | varint H                  | header length, 1..64 KiB                |
 *   | a2                        | CBOR map, 2 entries                     |
 *   | 65 "roots"                | key 1 (shorter key sorts first)         |
 *   | 8n / 98 n                 | array of n roots (n <= 64)              |
 *   |   d8 2a 58 L 00 <CID>     | each root: tag 42, bytes(0x00 + CID)    |
 *   | 67 "version" 01           | key 2, value 1                          |
 *   | varint S, CID, data       | sections, S = len(CID) + len(data) > 0  |
 *
 * The header is written with dagcbor.c's canonical writer; the reader here
 * is the smallest decoder the header needs and accepts only that shape, with
 * every CBOR head in its shortest form, no indefinite lengths, no trailing
 * bytes, and each root's CID in its canonical binary form. Together with
 * the minimal varints required by gm_varint_decode and the canonical CID
 * check on every section, this makes the reader accept only canonical CARs,
 * which the writer reproduces byte for byte (the fuzz target checks it).
 *
 * Reading is streaming: a small buffered input over an fd (or a memory
 * range) yields the header and one section at a time into a buffer bounded
 * by GM_CAR_MAX_SECTION. Import puts each verified block into the store and
 * remembers which ones were new, so that a failure later in the file can
 * remove exactly those again (single pass, works on pipes).
 */
#include "internal.h"

#include "gm/car.h"
#include "gm/dag.h"
#include "gm/dagcbor.h"
#include "gm/fs.h"
#include "gm/varint.h"

#define CBOR_UINT 0
#define CBOR_BYTES 2
#define CBOR_TEXT 3
#define CBOR_ARRAY 4
#define CBOR_MAP 5
#define CBOR_TAG 6
#define CBOR_TAG_CID 42

/* ---- header: DAG-CBOR ---- */

gm_err gm_car_header_encode(const struct gm_cid *roots, size_t n,
			    struct gm_buf *out)
{
	uint8_t vb[GM_VARINT_MAX];
	struct gm_buf h;
	size_t i, vl;
	gm_err e;

	if (n > GM_CAR_MAX_ROOTS)
		return GM_ELIMIT;
	gm_buf_init(&h, GM_CAR_MAX_HEADER);
	e = gm_cbor_put_map(&h, 2);
	if (!e)
		e = gm_cbor_put_key(&h, "roots");
	if (!e)
		e = gm_cbor_put_array(&h, n);
	for (i = 0; !e && i < n; i++)
		e = gm_cbor_put_cid(&h, &roots[i]);
	if (!e)
		e = gm_cbor_put_key(&h, "version");
	if (!e)
		e = gm_cbor_put_uint(&h, 1);
	if (e)
		goto out_release;
	vl = gm_varint_encode(h.len, vb);
	e = gm_buf_reserve(out, vl + h.len);
	if (!e)
		e = gm_buf_append(out, vb, vl);
	if (!e)
		e = gm_buf_append(out, h.data, h.len);
out_release:
	gm_buf_release(&h);
	return e;
}

/*
 * Reads one CBOR head at p[*off..len) in its shortest form. Indefinite
 * lengths, reserved additional information and non-minimal heads are
 * refused (false).
 */
static bool cbor_read_head(const uint8_t *p, size_t len, size_t *off,
			   unsigned *major, uint64_t *v)
{
	unsigned ai, n, i;
	uint64_t x = 0;

	if (*off >= len)
		return false;
	*major = p[*off] >> 5;
	ai = p[*off] & 31;
	(*off)++;
	if (ai < 24) {
		*v = ai;
		return true;
	}
	if (ai > 27)
		return false;
	n = 1u << (ai - 24);
	if ((uint64_t)*off + n > len)
		return false;
	for (i = 0; i < n; i++)
		x = x << 8 | p[*off + i];
	*off += n;
	/* Shortest form: the value must not fit a smaller head. */
	if ((n == 1 && x < 24) || (n == 2 && x <= 0xff) ||
	    (n == 4 && x <= 0xffff) || (n == 8 && x <= 0xffffffffu))
		return false;
	*v = x;
	return true;
}

/* Reads a text string at *off and compares it with want. */
static bool cbor_text_is(const uint8_t *p, size_t len, size_t *off,
			 const char *want, bool *is)
{
	unsigned major;
	uint64_t n;

	if (!cbor_read_head(p, len, off, &major, &n) || major != CBOR_TEXT)
		return false;
	if ((uint64_t)*off + n > len)
		return false;
	*is = n == strlen(want) && memcmp(p + *off, want, (size_t)n) == 0;
	*off += (size_t)n;
	return true;
}

static gm_err header_version(const uint8_t *p, size_t len, size_t *off,
			     struct gm_diag *d)
{
	unsigned major;
	uint64_t v;

	if (!cbor_read_head(p, len, off, &major, &v) || major != CBOR_UINT)
		return gm_diag_set(d, GM_EFORMAT,
				   "CAR header: 'version' is not a small "
				   "unsigned integer in canonical DAG-CBOR");
	if (v == 2)
		return gm_diag_set(d, GM_EUNSUPPORTED,
				   "CARv2 is not supported; export as CARv1");
	if (v != 1)
		return gm_diag_set(d, GM_EUNSUPPORTED,
				   "CAR version %" PRIu64 " is not supported; "
				   "export as CARv1",
				   v);
	return GM_OK;
}

static gm_err header_root(const uint8_t *p, size_t len, size_t *off,
			  struct gm_cid *root, size_t i, struct gm_diag *d)
{
	uint8_t again[GM_CID_MAX_BYTES];
	struct gm_diag why;
	unsigned major;
	uint64_t v, n;
	size_t used;

	if (!cbor_read_head(p, len, off, &major, &v) || major != CBOR_TAG ||
	    v != CBOR_TAG_CID)
		return gm_diag_set(d, GM_EFORMAT,
				   "CAR header: root %zu is not a CID (CBOR "
				   "tag 42)",
				   i);
	if (!cbor_read_head(p, len, off, &major, &n) || major != CBOR_BYTES ||
	    (uint64_t)*off + n > len || n < 2 || p[*off] != 0)
		return gm_diag_set(d, GM_EFORMAT,
				   "CAR header: root %zu is not a byte string "
				   "of 0x00 followed by a binary CID",
				   i);
	gm_diag_clear(&why);
	if (gm_cid_decode(root, p + *off + 1, (size_t)n - 1, &used, &why) !=
		GM_OK ||
	    used != n - 1)
		return gm_diag_set(
		    d, GM_EFORMAT,
		    "CAR header: root %zu is not a valid CID%s%s", i,
		    why.msg[0] ? ": " : "", why.msg);
	if (gm_cid_encode(root, again, sizeof(again)) != used ||
	    memcmp(again, p + *off + 1, used) != 0)
		return gm_diag_set(d, GM_EFORMAT,
				   "CAR header: root %zu is not a CID in its "
				   "canonical binary form",
				   i);
	*off += (size_t)n;
	return GM_OK;
}

gm_err gm_car_header_decode(const uint8_t *p, size_t len, struct gm_cid *roots,
			    size_t *n, struct gm_diag *d)
{
	size_t off = 0, i;
	unsigned major;
	uint64_t v, count;
	bool is;
	gm_err e;

	*n = 0;
	if (!cbor_read_head(p, len, &off, &major, &v) || major != CBOR_MAP)
		return gm_diag_set(d, GM_EFORMAT,
				   "CAR header is not a DAG-CBOR map; this is "
				   "not a CAR file");
	if (v == 1) {
		/* The CARv2 pragma is {"version": 2}. */
		if (cbor_text_is(p, len, &off, "version", &is) && is) {
			e = header_version(p, len, &off, d);
			if (e)
				return e;
		}
		return gm_diag_set(d, GM_EFORMAT,
				   "CAR header must have exactly the keys "
				   "'roots' and 'version'");
	}
	if (v != 2)
		return gm_diag_set(
		    d, GM_EFORMAT,
		    "CAR header has %" PRIu64 " entries; it must "
		    "have exactly the keys 'roots' and 'version'",
		    v);
	if (!cbor_text_is(p, len, &off, "roots", &is))
		return gm_diag_set(d, GM_EFORMAT,
				   "CAR header: keys must be text strings");
	if (!is)
		return gm_diag_set(d, GM_EFORMAT,
				   "CAR header must have exactly the keys "
				   "'roots' and 'version', in this canonical "
				   "order");
	if (!cbor_read_head(p, len, &off, &major, &count) ||
	    major != CBOR_ARRAY)
		return gm_diag_set(d, GM_EFORMAT,
				   "CAR header: 'roots' is not an array");
	if (count > GM_CAR_MAX_ROOTS)
		return gm_diag_set(d, GM_ELIMIT,
				   "CAR header lists %" PRIu64 " roots; at "
				   "most %d are accepted",
				   count, GM_CAR_MAX_ROOTS);
	for (i = 0; i < count; i++) {
		e = header_root(p, len, &off, &roots[i], i, d);
		if (e)
			return e;
	}
	if (!cbor_text_is(p, len, &off, "version", &is) || !is)
		return gm_diag_set(d, GM_EFORMAT,
				   "CAR header must have exactly the keys "
				   "'roots' and 'version', in this canonical "
				   "order");
	e = header_version(p, len, &off, d);
	if (e)
		return e;
	if (off != len)
		return gm_diag_set(d, GM_EFORMAT,
				   "CAR header has %zu bytes after its map",
				   len - off);
	*n = (size_t)count;
	return GM_OK;
}

/* ---- writer ---- */

static gm_err writer_out(struct gm_car_writer *w, const void *p, size_t n,
			 struct gm_diag *d)
{
	gm_err e;

	if (w->fd >= 0) {
		e = gm_fs_write_all(w->fd, p, n);
		if (e)
			return gm_diag_set(d, e, "cannot write the CAR: %s",
					   strerror(errno));
	} else {
		e = gm_buf_append(w->out, p, n);
		if (e)
			return e;
	}
	w->size += n;
	return GM_OK;
}

static gm_err writer_header(struct gm_car_writer *w, const struct gm_cid *roots,
			    size_t n, struct gm_diag *d)
{
	struct gm_buf h;
	gm_err e;

	if (n > GM_CAR_MAX_ROOTS)
		return gm_diag_set(d, GM_ELIMIT,
				   "a CAR may have at most %d roots",
				   GM_CAR_MAX_ROOTS);
	gm_buf_init(&h, GM_CAR_MAX_HEADER + GM_VARINT_MAX);
	e = gm_car_header_encode(roots, n, &h);
	if (!e)
		e = writer_out(w, h.data, h.len, d);
	gm_buf_release(&h);
	return e;
}

gm_err gm_car_writer_init_fd(struct gm_car_writer *w, int fd,
			     const struct gm_cid *roots, size_t n_roots,
			     struct gm_diag *d)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	return writer_header(w, roots, n_roots, d);
}

gm_err gm_car_writer_init_buf(struct gm_car_writer *w, struct gm_buf *out,
			      const struct gm_cid *roots, size_t n_roots,
			      struct gm_diag *d)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->out = out;
	return writer_header(w, roots, n_roots, d);
}

gm_err gm_car_writer_put(struct gm_car_writer *w, const struct gm_cid *cid,
			 const uint8_t *data, size_t len, struct gm_diag *d)
{
	uint8_t head[GM_VARINT_MAX + GM_CID_MAX_BYTES];
	uint8_t cb[GM_CID_MAX_BYTES];
	size_t cl, vl;
	gm_err e;

	if (len > GM_BLOCK_MAX)
		return gm_diag_set(d, GM_ELIMIT,
				   "block of %zu bytes is over the limit of "
				   "%u bytes",
				   len, GM_BLOCK_MAX);
	cl = gm_cid_encode(cid, cb, sizeof(cb));
	if (cl == 0)
		return gm_diag_set(d, GM_EINVAL, "cannot encode a block's CID");
	vl = gm_varint_encode(cl + len, head);
	memcpy(head + vl, cb, cl);
	if (w->fd < 0) {
		e = gm_buf_reserve(w->out, vl + cl + len);
		if (e)
			return e;
	}
	e = writer_out(w, head, vl + cl, d);
	if (!e && len)
		e = writer_out(w, data, len, d);
	if (!e)
		w->blocks++;
	return e;
}

static gm_err writer_sink_put(void *ctx, const struct gm_cid *cid,
			      const uint8_t *data, size_t len)
{
	return gm_car_writer_put(ctx, cid, data, len, NULL);
}

void gm_car_writer_sink(struct gm_car_writer *w, struct gm_block_sink *out)
{
	out->put = writer_sink_put;
	out->ctx = w;
}

static gm_err write_blocks(struct gm_car_writer *w,
			   const struct gm_car_block *blocks, size_t n,
			   struct gm_diag *d)
{
	size_t i;
	gm_err e = GM_OK;

	for (i = 0; !e && i < n; i++)
		e = gm_car_writer_put(w, &blocks[i].cid, blocks[i].data,
				      blocks[i].len, d);
	return e;
}

gm_err gm_car_write_fd(int fd, const struct gm_cid *roots, size_t n_roots,
		       const struct gm_car_block *blocks, size_t n_blocks,
		       struct gm_diag *d)
{
	struct gm_car_writer w;
	gm_err e;

	e = gm_car_writer_init_fd(&w, fd, roots, n_roots, d);
	return e ? e : write_blocks(&w, blocks, n_blocks, d);
}

gm_err gm_car_write_buf(struct gm_buf *out, const struct gm_cid *roots,
			size_t n_roots, const struct gm_car_block *blocks,
			size_t n_blocks, struct gm_diag *d)
{
	struct gm_car_writer w;
	gm_err e;

	e = gm_car_writer_init_buf(&w, out, roots, n_roots, d);
	return e ? e : write_blocks(&w, blocks, n_blocks, d);
}

/* ---- export ---- */

struct export_ctx {
	struct gm_car_writer *w;
	struct gm_car_export_result *res;
	struct gm_diag *d;
};

static gm_err export_visit(void *ctx, const struct gm_cid *cid,
			   const uint8_t *data, size_t len)
{
	struct export_ctx *x = ctx;
	gm_err e = gm_car_writer_put(x->w, cid, data, len, x->d);

	if (!e && x->res) {
		x->res->blocks++;
		x->res->bytes += len;
	}
	return e;
}

/* The blocks of root's DAG, each once, depth first (gm/dag.h). */
static gm_err export_dag(const struct gm_block_source *src,
			 const struct gm_cid *root, struct gm_car_writer *w,
			 struct gm_car_export_result *res, struct gm_diag *d)
{
	struct export_ctx x = {w, res, d};
	gm_err e = gm_dag_walk(src, root, 1, NULL, 0, export_visit, &x, d);

	if (res)
		res->size = w->size;
	return e;
}

gm_err gm_car_export_fd(const struct gm_block_source *src,
			const struct gm_cid *root, int fd,
			struct gm_car_export_result *res, struct gm_diag *d)
{
	struct gm_car_writer w;
	gm_err e;

	if (res)
		memset(res, 0, sizeof(*res));
	e = gm_car_writer_init_fd(&w, fd, root, 1, d);
	return e ? e : export_dag(src, root, &w, res, d);
}

gm_err gm_car_export_buf(const struct gm_block_source *src,
			 const struct gm_cid *root, struct gm_buf *out,
			 struct gm_car_export_result *res, struct gm_diag *d)
{
	struct gm_car_writer w;
	gm_err e;

	if (res)
		memset(res, 0, sizeof(*res));
	e = gm_car_writer_init_buf(&w, out, root, 1, d);
	return e ? e : export_dag(src, root, &w, res, d);
}

/* ---- reader ---- */

#define IN_CHUNK 65536

/* Buffered input over an fd, or a memory range (fd < 0). */
struct car_in {
	int fd;
	const uint8_t *mem;
	size_t len;   /* memory: total; fd: bytes in buf */
	size_t pos;   /* memory: consumed; fd: consumed in buf */
	uint64_t off; /* offset in the CAR */
	uint8_t *buf; /* fd only */
	bool eof;
};

/* Reads up to n bytes into dst; *got < n only at the end of the input. */
static gm_err in_read(struct car_in *in, uint8_t *dst, size_t n, size_t *got,
		      struct gm_diag *d)
{
	size_t done = 0;

	while (done < n) {
		size_t k;

		if (in->pos == in->len) {
			ssize_t r;

			if (in->fd < 0 || in->eof)
				break;
			r = read(in->fd, in->buf, IN_CHUNK);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return gm_diag_set(d, gm_err_from_errno(errno),
						   "cannot read the CAR: %s",
						   strerror(errno));
			if (r == 0) {
				in->eof = true;
				break;
			}
			in->len = (size_t)r;
			in->pos = 0;
		}
		k = in->len - in->pos;
		if (k > n - done)
			k = n - done;
		memcpy(dst + done, (in->fd < 0 ? in->mem : in->buf) + in->pos,
		       k);
		in->pos += k;
		done += k;
	}
	in->off += done;
	*got = done;
	return GM_OK;
}

/*
 * Reads a varint. *end is set (and GM_OK returned) when the input ends
 * before its first byte.
 */
static gm_err in_varint(struct car_in *in, uint64_t *v, bool *end,
			const char *what, struct gm_diag *d)
{
	uint8_t b[GM_VARINT_MAX];
	uint64_t start = in->off;
	size_t n = 0, got, used;
	gm_err e;

	*end = false;
	for (;;) {
		e = in_read(in, b + n, 1, &got, d);
		if (e)
			return e;
		if (!got) {
			if (n == 0) {
				*end = true;
				return GM_OK;
			}
			return gm_diag_set(d, GM_EFORMAT,
					   "CAR is truncated in the %s at "
					   "offset %" PRIu64,
					   what, start);
		}
		n++;
		if (!(b[n - 1] & 0x80) || n == GM_VARINT_MAX)
			break;
	}
	if (gm_varint_decode(b, n, v, &used) != GM_OK || used != n)
		return gm_diag_set(d, GM_EFORMAT,
				   "CAR has a malformed %s at offset %" PRIu64
				   " (not a minimal varint)",
				   what, start);
	return GM_OK;
}

static gm_err read_section(struct car_in *in, struct gm_buf *sec,
			   const struct gm_block_sink *sink,
			   struct gm_car_info *info, bool *end,
			   struct gm_diag *d)
{
	uint8_t again[GM_CID_MAX_BYTES];
	char ctext[GM_CID_MAX_STR];
	uint64_t start = in->off, slen;
	struct gm_diag why;
	struct gm_cid cid;
	size_t got, used;
	gm_err e;

	e = in_varint(in, &slen, end, "section length", d);
	if (e || *end)
		return e;
	if (slen == 0)
		return gm_diag_set(d, GM_EFORMAT,
				   "CAR has a zero-length section at offset "
				   "%" PRIu64 " (trailing bytes?)",
				   start);
	if (slen > GM_CAR_MAX_SECTION)
		return gm_diag_set(d, GM_ELIMIT,
				   "CAR section at offset %" PRIu64
				   " is %" PRIu64
				   " bytes, more than the limit of %u",
				   start, slen, (unsigned)GM_CAR_MAX_SECTION);
	gm_buf_reset(sec);
	e = gm_buf_reserve(sec, (size_t)slen);
	if (e)
		return e;
	e = in_read(in, sec->data, (size_t)slen, &got, d);
	if (e)
		return e;
	sec->len = got;
	sec->data[got] = 0;
	if (got < slen)
		return gm_diag_set(d, GM_EFORMAT,
				   "CAR is truncated: the section at offset "
				   "%" PRIu64 " declares %" PRIu64 " bytes but "
				   "only %zu remain",
				   start, slen, got);
	gm_diag_clear(&why);
	if (gm_cid_decode(&cid, sec->data, sec->len, &used, &why) != GM_OK)
		return gm_diag_set(d, GM_EFORMAT,
				   "CAR section at offset %" PRIu64 " does not "
				   "start with a valid CID: %s",
				   start, why.msg);
	if (gm_cid_encode(&cid, again, sizeof(again)) != used ||
	    memcmp(again, sec->data, used) != 0)
		return gm_diag_set(d, GM_EFORMAT,
				   "CAR section at offset %" PRIu64
				   " has a CID "
				   "that is not in its canonical binary form",
				   start);
	if (!gm_cid_format(&cid, ctext, sizeof(ctext)))
		snprintf(ctext, sizeof(ctext), "(CID)");
	if (sec->len - used > GM_BLOCK_MAX)
		return gm_diag_set(d, GM_ELIMIT,
				   "block %s at offset %" PRIu64
				   " is %zu bytes, "
				   "more than the limit of %u",
				   ctext, start, sec->len - used, GM_BLOCK_MAX);
	gm_diag_clear(&why);
	e = gm_cid_verify(&cid, sec->data + used, sec->len - used, &why);
	if (e == GM_EINTEGRITY)
		return gm_diag_set(d, e,
				   "block %s at offset %" PRIu64 " of the CAR "
				   "does not match its CID: %s",
				   ctext, start, why.msg);
	if (e)
		return gm_diag_set(d, e,
				   "block %s at offset %" PRIu64 " cannot be "
				   "verified: %s",
				   ctext, start, why.msg);
	if (sink) {
		e = sink->put(sink->ctx, &cid, sec->data + used,
			      sec->len - used);
		if (e)
			return gm_diag_set(d, e, "cannot store block %s: %s",
					   ctext, gm_strerror(e));
	}
	info->blocks++;
	info->bytes += sec->len - used;
	return GM_OK;
}

static gm_err car_read(struct car_in *in, const struct gm_block_sink *sink,
		       struct gm_car_info *out, struct gm_diag *d)
{
	struct gm_car_info *info;
	struct gm_buf sec;
	uint64_t hlen;
	size_t got;
	bool end;
	gm_err e;

	info = gm_calloc(1, sizeof(*info));
	if (!info)
		return GM_ENOMEM;
	gm_buf_init(&sec, GM_CAR_MAX_SECTION);
	e = in_varint(in, &hlen, &end, "header length", d);
	if (e)
		goto out_release;
	if (end) {
		e = gm_diag_set(d, GM_EFORMAT,
				"the file is empty; it is not a CAR");
		goto out_release;
	}
	if (hlen == 0) {
		e = gm_diag_set(d, GM_EFORMAT,
				"CAR header has zero length; this is not a "
				"CAR file");
		goto out_release;
	}
	if (hlen > GM_CAR_MAX_HEADER) {
		e = gm_diag_set(d, GM_ELIMIT,
				"CAR header is %" PRIu64
				" bytes, more than the "
				"limit of %d; this is probably not a CAR file",
				hlen, GM_CAR_MAX_HEADER);
		goto out_release;
	}
	e = gm_buf_reserve(&sec, (size_t)hlen);
	if (e)
		goto out_release;
	e = in_read(in, sec.data, (size_t)hlen, &got, d);
	if (e)
		goto out_release;
	if (got < hlen) {
		e = gm_diag_set(d, GM_EFORMAT,
				"CAR is truncated inside its header (%zu of "
				"%" PRIu64 " bytes)",
				got, hlen);
		goto out_release;
	}
	e = gm_car_header_decode(sec.data, (size_t)hlen, info->roots,
				 &info->n_roots, d);
	while (!e) {
		e = read_section(in, &sec, sink, info, &end, d);
		if (end)
			break;
	}
out_release:
	info->size = in->off;
	if (out)
		*out = *info;
	gm_buf_release(&sec);
	gm_free(info);
	return e;
}

gm_err gm_car_read_fd(int fd, const struct gm_block_sink *sink,
		      struct gm_car_info *info, struct gm_diag *d)
{
	struct car_in in;
	gm_err e;

	memset(&in, 0, sizeof(in));
	in.fd = fd;
	in.buf = gm_malloc(IN_CHUNK);
	if (!in.buf)
		return GM_ENOMEM;
	e = car_read(&in, sink, info, d);
	gm_free(in.buf);
	return e;
}

gm_err gm_car_read_mem(const uint8_t *p, size_t len,
		       const struct gm_block_sink *sink,
		       struct gm_car_info *info, struct gm_diag *d)
{
	struct car_in in;

	memset(&in, 0, sizeof(in));
	in.fd = -1;
	in.mem = p;
	in.len = len;
	return car_read(&in, sink, info, d);
}

/* ---- import ---- */

struct import_ctx {
	struct gm_store *store;
	struct gm_cid *added; /* blocks this import wrote */
	size_t n_added, cap;
	uint64_t new_bytes;
	struct gm_diag why; /* the store's own diagnostic */
};

static gm_err import_put(void *ctx, const struct gm_cid *cid,
			 const uint8_t *data, size_t len)
{
	struct import_ctx *ic = ctx;
	bool added;
	gm_err e;

	/* Make room first, so a new block is always remembered. */
	if (ic->n_added == ic->cap) {
		size_t cap = ic->cap ? ic->cap * 2 : 64;
		struct gm_cid *v = gm_reallocarray(ic->added, cap, sizeof(*v));

		if (!v)
			return GM_ENOMEM;
		ic->added = v;
		ic->cap = cap;
	}
	e = gm_store_put(ic->store, cid, data, len, &added, &ic->why);
	if (e)
		return e;
	if (added) {
		ic->added[ic->n_added++] = *cid;
		ic->new_bytes += len;
	}
	return GM_OK;
}

gm_err gm_car_import(struct gm_store *s, int fd, unsigned flags,
		     struct gm_car_import_result *res, struct gm_diag *d)
{
	struct gm_car_import_result *r;
	struct import_ctx ic;
	struct gm_block_sink sink;
	size_t i;
	gm_err e;

	r = gm_calloc(1, sizeof(*r));
	if (!r)
		return GM_ENOMEM;
	memset(&ic, 0, sizeof(ic));
	ic.store = s;
	sink.put = import_put;
	sink.ctx = &ic;
	e = gm_car_read_fd(fd, &sink, &r->info, d);
	if (e && ic.why.msg[0])
		gm_diag_set(d, e, "%s; nothing was imported", ic.why.msg);
	else if (e && d && d->msg[0]) {
		char msg[GM_DIAG_MAX];

		memcpy(msg, d->msg, sizeof(msg));
		msg[400] = '\0';
		gm_diag_set(d, e, "%s; nothing was imported", msg);
	}
	if (!e)
		e = gm_store_sync(s, d);
	if (e) {
		/* Undo: remove exactly the blocks this import added. */
		for (i = 0; i < ic.n_added; i++)
			gm_store_delete(s, &ic.added[i], NULL);
		gm_store_sync(s, NULL);
		goto out_free;
	}
	r->new_blocks = ic.n_added;
	r->new_bytes = ic.new_bytes;
	if (flags & GM_CAR_IMPORT_PIN_ROOTS)
		for (i = 0; !e && i < r->info.n_roots; i++)
			e = gm_store_pin_add(s, &r->info.roots[i], d);
	if (res)
		*res = *r;
out_free:
	gm_free(ic.added);
	gm_free(r);
	return e;
}

gm_err gm_car_import_path(struct gm_store *s, const char *path, unsigned flags,
			  struct gm_car_import_result *res, struct gm_diag *d)
{
	gm_err e;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return gm_diag_set(d, gm_err_from_errno(errno),
				   "cannot open '%s': %s", path,
				   strerror(errno));
	e = gm_car_import(s, fd, flags, res, d);
	close(fd);
	return e;
}
