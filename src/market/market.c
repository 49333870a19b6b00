/*
 * market.c - the client facade (see gm/market.h): composes the content layer
 * into the user actions of the foundation verbs.
 */
#include "internal.h"

#include "gm/fs.h"
#include "gm/market.h"

struct gm_market {
	char *home;
	struct gm_store *store;
};

gm_err gm_market_open(struct gm_market **out, const char *home,
		      struct gm_diag *d)
{
	struct gm_market *m;
	char *blocks = NULL;
	gm_err e;

	*out = NULL;
	m = gm_calloc(1, sizeof(*m));
	if (!m)
		return GM_ENOMEM;
	m->home = gm_strdup(home);
	if (!m->home) {
		e = GM_ENOMEM;
		goto out_free;
	}
	e = gm_fs_mkdir_p(home, 0700, d);
	if (e)
		goto out_free;
	blocks = gm_path_join(home, "blocks");
	if (!blocks) {
		e = GM_ENOMEM;
		goto out_free;
	}
	e = gm_store_open(&m->store, blocks, d);
	gm_free(blocks);
	if (e)
		goto out_free;
	*out = m;
	return GM_OK;

out_free:
	gm_free(m->home);
	gm_free(m);
	return e;
}

void gm_market_close(struct gm_market *m)
{
	if (!m)
		return;
	gm_store_close(m->store);
	gm_free(m->home);
	gm_free(m);
}

struct gm_store *gm_market_store(struct gm_market *m)
{
	return m->store;
}

gm_err gm_market_cid(const char *path, struct gm_unixfs_result *res,
		     struct gm_diag *d)
{
	return gm_unixfs_import_path(path, NULL, NULL, res, d);
}

gm_err gm_market_add(struct gm_market *m, const char *path, bool pin,
		     struct gm_unixfs_result *res, struct gm_diag *d)
{
	struct gm_block_sink sink;
	gm_err e;

	gm_store_sink(m->store, &sink);
	e = gm_unixfs_import_path(path, &sink, NULL, res, d);
	if (e)
		return e;
	/* Every block is durable before anything refers to the root. */
	e = gm_store_sync(m->store, d);
	if (e)
		return e;
	if (pin)
		e = gm_store_pin_add(m->store, &res->root, d);
	return e;
}

gm_err gm_market_get(struct gm_market *m, const struct gm_cid *root,
		     const char *out_path, struct gm_diag *d)
{
	struct gm_block_source src;

	gm_store_source(m->store, &src);
	return gm_unixfs_export(&src, root, out_path, NULL, d);
}

gm_err gm_market_car_export(struct gm_market *m, const struct gm_cid *root,
			    const char *out_path,
			    struct gm_car_export_result *res,
			    struct gm_diag *d)
{
	struct gm_block_source src;
	struct stat st;
	size_t tlen = strlen(out_path) + 32;
	char *tmp;
	gm_err e;
	int fd;

	if (lstat(out_path, &st) == 0 && !S_ISREG(st.st_mode))
		return gm_diag_set(d, GM_EEXIST,
				   "'%s' exists and is not a regular file; "
				   "choose another output path",
				   out_path);
	tmp = gm_malloc(tlen);
	if (!tmp)
		return GM_ENOMEM;
	snprintf(tmp, tlen, "%s.tmp-%ld", out_path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		e = gm_diag_set(d, gm_err_from_errno(errno),
				"cannot create '%s': %s", tmp, strerror(errno));
		goto out_free;
	}
	gm_store_source(m->store, &src);
	e = gm_car_export_fd(&src, root, fd, res, d);
	if (!e && fsync(fd) != 0)
		e = gm_diag_set(d, gm_err_from_errno(errno),
				"cannot sync '%s': %s", tmp, strerror(errno));
	if (close(fd) != 0 && !e)
		e = gm_diag_set(d, gm_err_from_errno(errno),
				"cannot write '%s': %s", tmp, strerror(errno));
	if (!e && rename(tmp, out_path) != 0)
		e = gm_diag_set(d, gm_err_from_errno(errno),
				"cannot rename into '%s': %s", out_path,
				strerror(errno));
	if (e)
		unlink(tmp);
out_free:
	gm_free(tmp);
	return e;
}

gm_err gm_market_car_import(struct gm_market *m, const char *path,
			    struct gm_car_import_result *res,
			    struct gm_diag *d)
{
	return gm_car_import_path(m->store, path, GM_CAR_IMPORT_PIN_ROOTS, res,
				  d);
}
