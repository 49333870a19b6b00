/*
 * bundle.c - bundle export and import (see gm/bundle.h for the layout and
 * the order of the checks).
 */
#include "internal.h"

#include "gm/bundle.h"
#include "gm/car.h"
#include "gm/dag.h"
#include "gm/fs.h"
#include "gm/record.h"

#include "registry_int.h"

/* ---- export ---- */

struct exporter {
	struct gm_store *store;
	struct gm_car_writer w;
	struct gm_cidset seen; /* every block written, once */
	struct gm_bundle_result *res;
	struct gm_diag *d;
};

static gm_err put_block(void *ctx, const struct gm_cid *c, const uint8_t *p,
			size_t len)
{
	struct exporter *x = ctx;

	x->res->blocks++;
	x->res->bytes += len;
	return gm_car_writer_put(&x->w, c, p, len, x->d);
}

/* Writes a record block unless it was written already. */
static gm_err put_once(struct exporter *x, const struct gm_cid *c,
		       const uint8_t *p, size_t len)
{
	bool fresh;
	gm_err e = gm_cidset_add(&x->seen, c, &fresh);

	return e || !fresh ? e : put_block(x, c, p, len);
}

/* Writes the DAG under root, each block once across the whole bundle. */
static gm_err write_dag(struct exporter *x, const struct gm_cid *root)
{
	struct gm_block_source src;

	gm_store_source(x->store, &src);
	return gm_dag_walk(&src, root, 1, &x->seen, 0, put_block, x, x->d);
}

struct pick {
	struct gm_release_list rows; /* row 0: the release */
	const struct gm_release_row *row;
	struct gm_cid record;
};

static gm_err load_pick(struct gm_registry *reg, struct gm_store *store,
			const char *id, const struct gm_semver *v,
			struct pick *p, struct gm_diag *d)
{
	char ns[GM_PACKAGE_NAME_MAX + 1], name[GM_PACKAGE_NAME_MAX + 1];
	char ver[GM_SEMVER_MAX_LEN + 1];
	const char *slash = strchr(id, '/');
	size_t i;
	gm_err e;

	snprintf(ns, sizeof(ns), "%.*s", (int)(slash - id), id);
	snprintf(name, sizeof(name), "%s", slash + 1);
	gm_semver_format(v, ver, sizeof(ver));
	e = gm_registry_find_release(reg, ns, name, ver, &p->rows, d);
	if (e)
		return e;
	for (i = 0; i < p->rows.n && p->rows.rows[i].equivocation; i++)
		;
	if (i == p->rows.n || !p->rows.rows[i].record)
		return gm_diag_set(d, GM_ENOENT, "%s@%s has no signed release "
				   "record here", id, ver);
	p->row = &p->rows.rows[i];
	{
		struct gm_cid root;

		if (!p->row->root_cid ||
		    gm_cid_parse(&root, p->row->root_cid,
				 strlen(p->row->root_cid), NULL) ||
		    !gm_ingest_dag_complete(store, &root))
			return gm_diag_set(d, GM_ENOENT,
					   "content of %s@%s is not in the "
					   "local store, so it cannot be "
					   "bundled; import it first",
					   id, ver);
	}
	return gm_record_cid(p->row->record, p->row->record_len, &p->record);
}

gm_err gm_bundle_export(struct gm_registry *reg, struct gm_store *store,
			const struct gm_resolve_req *reqs, size_t n,
			const char *out_path, gm_bundle_note_fn note,
			void *note_ctx, struct gm_bundle_result *res,
			struct gm_diag *d)
{
	struct gm_resolve_index idx;
	struct gm_registry_view view = {reg, NULL, NULL};
	struct gm_resolve_result rr;
	struct exporter x;
	struct pick *picks = NULL;
	struct gm_cid *roots = NULL;
	char **handles = NULL;
	size_t n_handles = 0, i, j;
	struct gm_fs_tmp t = {-1, NULL, NULL, NULL};
	gm_err e;

	memset(res, 0, sizeof(*res));
	memset(&x, 0, sizeof(x));
	x.store = store;
	x.res = res;
	x.d = d;
	gm_cidset_init(&x.seen);
	gm_resolve_result_init(&rr);
	gm_registry_resolve_index(&view, &idx);
	e = gm_resolve(&idx, reqs, n, NULL, &rr, d);
	if (e)
		goto out;
	picks = gm_calloc(rr.n, sizeof(*picks));
	roots = gm_calloc(rr.n, sizeof(*roots));
	handles = gm_calloc(rr.n, sizeof(*handles));
	if (rr.n && (!picks || !roots || !handles)) {
		e = GM_ENOMEM;
		goto out;
	}
	for (i = 0; i < rr.n; i++) {
		const char *id = rr.picks[i].id;
		size_t nl = (size_t)(strchr(id, '/') - id);
		bool have = false;

		e = load_pick(reg, store, id, &rr.picks[i].version, &picks[i],
			      d);
		if (e)
			goto out;
		roots[i] = picks[i].record;
		for (j = 0; j < n_handles; j++)
			have |= strlen(handles[j]) == nl &&
				!memcmp(handles[j], id, nl);
		if (!have) {
			handles[n_handles] = gm_strndup(id, nl);
			if (!handles[n_handles++]) {
				e = GM_ENOMEM;
				goto out;
			}
		}
	}
	res->releases = rr.n;

	e = gm_fs_tmp_open(&t, out_path, 0644, d);
	if (e)
		goto out;
	e = gm_car_writer_init_fd(&x.w, t.fd, roots, rr.n, d);
	/* the records that vouch for the publishers */
	for (i = 0; !e && i < n_handles; i++) {
		struct gm_trust_record_list l;

		e = gm_registry_trust_records(reg, handles[i], &l, d);
		for (j = 0; !e && j < l.n; j++) {
			struct gm_cid c;

			e = gm_record_cid(l.v[j].record, l.v[j].len, &c);
			if (!e)
				e = put_once(&x, &c, l.v[j].record,
					     l.v[j].len);
			res->records++;
		}
		gm_trust_record_list_free(&l);
	}
	/* each release: its record, then its content */
	for (i = 0; !e && i < rr.n; i++) {
		struct gm_cid root;

		e = put_once(&x, &picks[i].record, picks[i].row->record,
			     picks[i].row->record_len);
		res->records++;
		if (!e)
			e = gm_cid_parse(&root, picks[i].row->root_cid,
					 strlen(picks[i].row->root_cid), d);
		if (!e)
			e = write_dag(&x, &root);
		if (!e)
			gm__note(note, note_ctx, "bundled %s@%s",
				 rr.picks[i].id, picks[i].row->version);
	}
	if (!e)
		e = gm_fs_tmp_commit(&t, d);
out:
	gm_fs_tmp_abort(&t);
	for (i = 0; picks && i < rr.n; i++)
		gm_release_list_free(&picks[i].rows);
	for (i = 0; i < n_handles; i++)
		gm_free(handles[i]);
	gm_free(handles);
	gm_free(picks);
	gm_free(roots);
	gm_cidset_release(&x.seen);
	gm_resolve_result_release(&rr);
	return e;
}

/* ---- import ---- */

struct rec {
	uint8_t *p;
	size_t len;
	int type;
	uint64_t seq;
};

struct collector {
	struct rec *v;
	size_t n;
	uint64_t blocks, bytes;
	gm_err err;
};

static gm_err collect(void *ctx, const struct gm_cid *cid, const uint8_t *data,
		      size_t len)
{
	struct collector *c = ctx;
	struct rec *grown;

	c->blocks++;
	c->bytes += len;
	if (cid->codec != GM_CODEC_DAG_CBOR)
		return GM_OK;
	if (c->n >= GM_BUNDLE_MAX_RECORDS || len > GM_RECORD_MAX)
		return GM_ELIMIT;
	grown = gm_reallocarray(c->v, c->n + 1, sizeof(*grown));
	if (!grown)
		return GM_ENOMEM;
	c->v = grown;
	c->v[c->n].p = gm_malloc(len);
	if (!c->v[c->n].p)
		return GM_ENOMEM;
	memcpy(c->v[c->n].p, data, len);
	c->v[c->n].len = len;
	c->n++;
	return GM_OK;
}

static int rec_rank(int type)
{
	switch (type) {
	case GM_RECORD_PUBLISHER:
		return 0;
	case GM_RECORD_ROTATION:
		return 1;
	case GM_RECORD_REVOCATION:
		return 2;
	default:
		return 3;
	}
}

static int rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (rec_rank(x->type) != rec_rank(y->type))
		return rec_rank(x->type) - rec_rank(y->type);
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

/* Ingests every record inside the caller's transaction. */
static gm_err ingest_all(struct gm_registry *reg, struct gm_store *store,
			 struct collector *c, unsigned flags,
			 gm_bundle_note_fn note, void *note_ctx,
			 struct gm_bundle_result *res, struct gm_diag *d)
{
	gm_err first_equivocation = GM_OK;
	struct gm_diag eq;
	size_t i;

	gm_diag_clear(&eq);
	for (i = 0; i < c->n; i++) {
		struct gm_ingest_result ir;
		gm_err e = gm_ingest_record(reg, store, c->v[i].p, c->v[i].len,
					    flags, 0, &ir, d);

		if (ir.pinned_new)
			res->pinned_new++;
		if (e == GM_EINTEGRITY &&
		    ir.outcome == GM_INGEST_EQUIVOCATION) {
			res->equivocations++;
			if (!first_equivocation) {
				first_equivocation = e;
				eq = *d;
			}
			continue;
		}
		if (e)
			return e;
		if (ir.type == GM_RECORD_RELEASE &&
		    ir.outcome == GM_INGEST_ADDED) {
			res->added++;
			if (note) {
				struct gm_record r;

				if (!gm_record_decode(&r, c->v[i].p,
						      c->v[i].len, NULL)) {
					gm__note(note, note_ctx, "added %s@%s",
						 r.release.package,
						 r.release.version);
					gm_record_release(&r);
				}
			}
		}
	}
	if (first_equivocation && d)
		*d = eq;
	return first_equivocation;
}

gm_err gm_bundle_import(struct gm_registry *reg, struct gm_store *store,
			const char *path, unsigned flags,
			gm_bundle_note_fn note, void *note_ctx,
			struct gm_bundle_result *res, struct gm_diag *d)
{
	struct collector c = {0};
	struct gm_block_sink sink = {collect, &c};
	struct gm_car_info info;
	struct gm_car_import_result ir;
	size_t i;
	gm_err e;
	int fd;

	memset(res, 0, sizeof(*res));
	/* 1. every block verified, records collected; nothing stored */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return gm_diag_set(d, gm_err_from_errno(errno),
				   "cannot open '%s': %s", path,
				   strerror(errno));
	e = gm_car_read_fd(fd, &sink, &info, d);
	close(fd);
	if (e)
		goto out;
	res->blocks = c.blocks;
	res->bytes = c.bytes;
	/* 2. every record decoded and its signature verified */
	for (i = 0; i < c.n; i++) {
		struct gm_record r;

		e = gm_record_decode(&r, c.v[i].p, c.v[i].len, d);
		if (e)
			goto out;
		c.v[i].type = r.type;
		c.v[i].seq = r.type == GM_RECORD_PUBLISHER  ? r.publisher.seq
			     : r.type == GM_RECORD_ROTATION ? r.rotation.seq
			     : r.type == GM_RECORD_REVOCATION
				     ? r.revocation.seq
				     : r.release.seq;
		res->releases += r.type == GM_RECORD_RELEASE;
		gm_record_release(&r);
	}
	res->records = c.n;
	if (c.n)
		qsort(c.v, c.n, sizeof(*c.v), rec_cmp);
	/* 3. the trust checks, kept nowhere */
	e = gm_registry_begin(reg, d);
	if (e)
		goto out;
	{
		struct gm_bundle_result dry = {0};

		e = ingest_all(reg, store, &c, flags, NULL, NULL, &dry, d);
	}
	gm_registry_rollback(reg, NULL);
	if (e == GM_ETRUST) {
		/*
		 * Keep the publisher records (facts, untrusted) so the key
		 * the message names can be trusted with `trust add`.
		 */
		struct gm_diag keep;
		size_t k;

		for (k = 0; k < c.n; k++)
			if (c.v[k].type != GM_RECORD_RELEASE)
				gm_ingest_record(reg, store, c.v[k].p,
						 c.v[k].len, 0, 0, NULL,
						 &keep);
	}
	if (e && e != GM_EINTEGRITY)
		goto out;
	/* 4. the blocks, all or none */
	e = gm_car_import_path(store, path, 0, &ir, d);
	if (e)
		goto out;
	res->new_blocks = ir.new_blocks;
	/* 5. the records, in one transaction */
	e = gm_registry_begin(reg, d);
	if (e)
		goto out;
	e = ingest_all(reg, store, &c, flags, note, note_ctx, res, d);
	if (!e || e == GM_EINTEGRITY) {
		gm_err ce = gm_registry_commit(reg, e ? NULL : d);

		if (ce && !e)
			e = ce;
	} else {
		gm_registry_rollback(reg, NULL);
	}
out:
	for (i = 0; i < c.n; i++)
		gm_free(c.v[i].p);
	gm_free(c.v);
	return e;
}
