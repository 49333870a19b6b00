/*
 * index.c - the resolver's view of the registry (gm_registry_resolve_index
 * in gm/registry.h): versions and dependencies come from release rows.
 *   | question           | answer                                        |
 *   |--------------------|-----------------------------------------------|
 *   | versions of ns/n   | its release rows, newest first, each version  |
 *   |                    | once; rows kept only as equivocation evidence |
 *   |                    | left out (all evidence: GM_EINTEGRITY); with  |
 *   |                    | pins, only the pinned version                 |
 *   | deps of ns/n@v     | those of v's usable row (a missing            |
 *   |                    | requirement reads "*")                        |
 * Install pins the versions of ggen.lock this way and retries without
 * pins on a conflict; bundle export uses no pins.
 */
#include "internal.h"

#include "gm/lockfile.h"
#include "gm/manifest.h"
#include "gm/registry.h"
#include "gm/resolve.h"

#include "registry_int.h"

#define ID_MAX (2 * GM_PACKAGE_NAME_MAX + 2)

const struct gm_release_row *
gm__release_usable_row(const struct gm_release_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!l->rows[i].equivocation)
			return &l->rows[i];
	return l->n ? &l->rows[0] : NULL;
}

static gm_err split_id(const char *id, char ns[GM_PACKAGE_NAME_MAX + 1],
		       char name[GM_PACKAGE_NAME_MAX + 1], struct gm_diag *d)
{
	return gm_package_id_parse(id, strlen(id), ns, name, d);
}

static const struct gm_semver *pin_of(const struct gm_registry_view *x,
				      const char *ns, const char *name)
{
	const struct gm_lock_entry *e;

	if (!x->pins)
		return NULL;
	e = gm_lockfile_find(x->pins, ns, name);
	if (!e || !x->pinned[e - x->pins->entries])
		return NULL;
	return &e->version;
}

static gm_err idx_versions(void *ctx, const char *id,
			   struct gm_resolve_sink *sink, struct gm_diag *d)
{
	struct gm_registry_view *x = ctx;
	char ns[GM_PACKAGE_NAME_MAX + 1], name[GM_PACKAGE_NAME_MAX + 1];
	const struct gm_semver *pin, *prev = NULL;
	struct gm_release_list l;
	size_t i, any = 0, evidence = 0;
	gm_err e;

	if (split_id(id, ns, name, NULL))
		return GM_ENOENT;
	pin = pin_of(x, ns, name);
	e = gm_registry_find_releases(x->reg, ns, name, &l, d);
	for (i = 0; !e && i < l.n; i++) {
		const struct gm_release_row *r = &l.rows[i];

		if (r->equivocation) {
			evidence++;
			continue;
		}
		if (pin && gm_semver_cmp(pin, &r->semver) != 0)
			continue;
		if (prev && gm_semver_cmp(prev, &r->semver) == 0)
			continue;
		e = gm_resolve_sink_version(sink, r->version,
					    strlen(r->version));
		prev = &r->semver;
		any++;
	}
	if (!e && !any && evidence)
		e = gm_diag_set(d, GM_EINTEGRITY,
				"equivocation: every release of %s has two "
				"different signed contents for its version; "
				"refusing to install it (see `ggen market info "
				"%s`)",
				id, id);
	gm_release_list_free(&l);
	if (e)
		return e;
	return any ? GM_OK : GM_ENOENT;
}

static gm_err idx_deps(void *ctx, const char *id, const char *version,
		       struct gm_resolve_sink *sink, struct gm_diag *d)
{
	struct gm_registry_view *x = ctx;
	char ns[GM_PACKAGE_NAME_MAX + 1], name[GM_PACKAGE_NAME_MAX + 1];
	const struct gm_release_row *r;
	struct gm_release_list l;
	size_t i;
	gm_err e;

	if ((e = split_id(id, ns, name, d)))
		return e;
	e = gm_registry_find_release(x->reg, ns, name, version, &l, d);
	r = e ? NULL : gm__release_usable_row(&l);
	for (i = 0; r && !e && i < r->n_deps; i++) {
		char dep[ID_MAX];
		int n = snprintf(dep, sizeof(dep), "%s/%s", r->deps[i].ns,
				 r->deps[i].name);
		const char *req = r->deps[i].req ? r->deps[i].req : "*";

		if (n < 0 || (size_t)n >= sizeof(dep))
			e = gm_diag_set(d, GM_EFORMAT,
					"%s@%s has a malformed dependency", id,
					version);
		else
			e = gm_resolve_sink_dep(sink, dep, (size_t)n, req,
						strlen(req));
	}
	gm_release_list_free(&l);
	return e;
}

void gm_registry_resolve_index(struct gm_registry_view *v,
			       struct gm_resolve_index *idx)
{
	idx->ctx = v;
	idx->versions = idx_versions;
	idx->dependencies = idx_deps;
}
