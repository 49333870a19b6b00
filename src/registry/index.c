/*
 * index.c - the resolver's view of the registry (gm_registry_resolve_index
 * in gm/registry.h): versions and dependencies come from release rows.
 */
#include "internal.h"

#include "gm/registry.h"
#include "gm/resolve.h"

static gm_err split(const char *id, char *ns, char *name)
{
	const char *slash = strchr(id, '/');

	if (!slash || (size_t)(slash - id) > 64 ||
	    strlen(slash + 1) > 64)
		return GM_ENOENT;
	snprintf(ns, 64 + 1, "%.*s", (int)(slash - id),
		 id);
	snprintf(name, 64 + 1, "%s", slash + 1);
	return GM_OK;
}

static gm_err idx_versions(void *ctx, const char *id,
			   struct gm_resolve_sink *sink, struct gm_diag *d)
{
	char ns[64 + 1], name[64 + 1];
	struct gm_release_list l;
	size_t i;
	gm_err e;

	if (split(id, ns, name))
		return GM_ENOENT;
	e = gm_registry_find_releases(ctx, ns, name, &l, d);
	if (e)
		return e;
	for (i = 0; !e && i < l.n; i++) {
		const char *v = l.rows[i].version;
		size_t j;
		bool dup = false;

		if (l.rows[i].equivocation)
			continue;
		/* several rows of one version exist only as evidence */
		for (j = 0; j < i; j++)
			dup |= !l.rows[j].equivocation &&
			       !strcmp(l.rows[j].version, v);
		if (!dup)
			e = gm_resolve_sink_version(sink, v, strlen(v));
	}
	gm_release_list_free(&l);
	return e;
}

static gm_err idx_deps(void *ctx, const char *id, const char *version,
		       struct gm_resolve_sink *sink, struct gm_diag *d)
{
	char ns[64 + 1], name[64 + 1];
	struct gm_release_list l;
	size_t i, j;
	gm_err e;

	if (split(id, ns, name))
		return GM_ENOENT;
	e = gm_registry_find_release(ctx, ns, name, version, &l, d);
	if (e)
		return e;
	for (i = 0; i < l.n && l.rows[i].equivocation; i++)
		;
	for (j = 0; !e && i < l.n && j < l.rows[i].n_deps; j++) {
		const struct gm_registry_dep *dep = &l.rows[i].deps[j];
		char did[2 * 64 + 2];
		int n = snprintf(did, sizeof(did), "%s/%s", dep->ns, dep->name);

		e = gm_resolve_sink_dep(sink, did, (size_t)n, dep->req,
					strlen(dep->req));
	}
	gm_release_list_free(&l);
	return e;
}

void gm_registry_resolve_index(struct gm_registry *reg,
			       struct gm_resolve_index *idx)
{
	idx->ctx = reg;
	idx->versions = idx_versions;
	idx->dependencies = idx_deps;
}
