/*
 * resolve.h - the dependency resolver: PubGrub version solving, sans-IO.
 *
 * The resolver picks one version per package id ("ns/name") so that every
 * requirement of the project and of every chosen package is met, or explains
 * in plain sentences why no such choice exists. It does no I/O: it asks a
 * caller-provided index through two callbacks, which hand their answers to
 * a sink (the resolver copies what it keeps):
 *
 *   callback      | asked for                  | answers with
 *   --------------+----------------------------+------------------------------
 *   versions      | the versions of a package  | gm_resolve_sink_version(),
 *                 |                            | any order; GM_ENOENT (or no
 *                 |                            | version) = no such package
 *   dependencies  | one version's dependencies | gm_resolve_sink_dep() per
 *                 |                            | (package id, requirement)
 *
 * Requirements use Cargo's syntax (gm/semver.h), with its pre-release rule.
 *
 * Choice order ("highest"): the solver repeatedly takes the undecided
 * package with the fewest versions still allowed (ties: the one seen
 * first), and gives it the highest version allowed by everything decided
 * and learned so far. So each package gets the highest version compatible
 * with the packages decided before it; when versions conflict, the solver
 * learns why (conflict-driven, with backjumping) and tries lower versions.
 * This is the greedy "newest first" of Dart pub and Cargo, not a global
 * maximum over all packages.
 *
 * A solution whose chosen versions depend on each other in a cycle is
 * refused (GM_ECONFLICT, "dependency cycle: a@1.0.0 -> b@2.1.0 ->
 * a@1.0.0").
 */
#ifndef GM_RESOLVE_H
#define GM_RESOLVE_H

#include "gm/gm.h"
#include "gm/semver.h"

/* Longest package id accepted from the index or the project. */
#define GM_RESOLVE_MAX_ID 256
/* Default limits (see struct gm_resolve_limits). */
#define GM_RESOLVE_DEFAULT_MAX_PACKAGES 10000
#define GM_RESOLVE_DEFAULT_MAX_VERSIONS 4096
#define GM_RESOLVE_DEFAULT_MAX_DEPS 512
#define GM_RESOLVE_DEFAULT_MAX_STEPS 1000000
/* Marks the project in struct gm_resolve_reason.from. */
#define GM_RESOLVE_PROJECT ((size_t)-1)

/* Where the callbacks deliver their answers; owned by the resolver. */
struct gm_resolve_sink;

/*
 * A caller's view of its package index. ctx is passed back unchanged. id is
 * a NUL-terminated package id, version the NUL-terminated version text as
 * gm_semver_format() writes it. A callback returns GM_OK, or an error that
 * ends the resolve with that error (the callback may fill d). versions may
 * return GM_ENOENT for an unknown package.
 */
struct gm_resolve_index {
	void *ctx;
	gm_err (*versions)(void *ctx, const char *id,
			   struct gm_resolve_sink *sink, struct gm_diag *d);
	gm_err (*dependencies)(void *ctx, const char *id, const char *version,
			       struct gm_resolve_sink *sink, struct gm_diag *d);
};

/*
 * Adds one version (len bytes of text, SemVer 2.0.0) of the package being
 * listed. Only valid inside a versions callback. Errors: GM_EPARSE for bad
 * text, GM_EFORMAT for a version listed twice (equal precedence), GM_ELIMIT
 * past max_versions, GM_ENOMEM. An error is also remembered, so the resolve
 * fails even if the callback ignores it.
 */
GM_EXTERN gm_err gm_resolve_sink_version(struct gm_resolve_sink *sink,
					 const char *v, size_t len);
/*
 * Adds one dependency (package id and requirement text) of the version
 * being listed. Only valid inside a dependencies callback. Errors:
 * GM_EFORMAT for an empty or over-long id or requirement, GM_ELIMIT past
 * max_deps, GM_ENOMEM; remembered as for gm_resolve_sink_version. The
 * requirement is parsed when the solver first uses it.
 */
GM_EXTERN gm_err gm_resolve_sink_dep(struct gm_resolve_sink *sink,
				     const char *id, size_t id_len,
				     const char *req, size_t req_len);

/* One direct requirement of the project. */
struct gm_resolve_req {
	const char *id;
	const char *req;
};

/* Bounds; a zero field takes its GM_RESOLVE_DEFAULT_* value. */
struct gm_resolve_limits {
	size_t max_packages; /* distinct package ids looked at */
	size_t max_versions; /* versions of one package */
	size_t max_deps;     /* dependencies of one version (or the project) */
	uint64_t max_steps;  /* derivations + decisions + conflict steps */
};

/* Why a package is in the solution: who required it, with what text. */
struct gm_resolve_reason {
	size_t from; /* index into picks, or GM_RESOLVE_PROJECT */
	char *req;   /* the requirement as written */
};

struct gm_resolve_pick {
	char *id;
	struct gm_semver version;
	struct gm_resolve_reason *by; /* sorted by requirer id */
	size_t n_by;
};

/*
 * The outcome. On success picks holds one entry per chosen package, sorted
 * by id (bytewise). On GM_ECONFLICT explanation holds the full text (lines
 * separated by '\n'; derived facts referred to again carry "(N)" numbers),
 * of which d->msg gets as much as fits. Statistics are filled either way.
 */
struct gm_resolve_result {
	struct gm_resolve_pick *picks;
	size_t n;
	char *explanation;
	uint64_t steps;
	uint64_t decisions;
	uint64_t conflicts;
};

/* Makes r empty. */
GM_EXTERN void gm_resolve_result_init(struct gm_resolve_result *r);
/* Frees everything r holds and makes it empty again (accepts NULL). */
GM_EXTERN void gm_resolve_result_release(struct gm_resolve_result *r);

/*
 * Solves the project's requirements reqs[0..n_reqs) against idx. out must be
 * initialized; its previous contents are released first. lim may be NULL.
 *
 * Returns GM_OK with out->picks; GM_ECONFLICT when no solution exists
 * (out->explanation says why: conflicting requirements, a package that
 * does not exist, "no version of acme/x matches ^2.0; available: ...") or
 * when the solution has a dependency cycle; GM_ELIMIT when a bound is
 * passed; GM_EPARSE for a requirement or version that does not parse (d
 * names the package); GM_EFORMAT for a version listed twice or an empty
 * dependency id; GM_EINVAL for bad arguments; GM_ENOMEM; or whatever a
 * callback returned. out holds no picks unless GM_OK is returned.
 */
GM_EXTERN gm_err gm_resolve(const struct gm_resolve_index *idx,
			    const struct gm_resolve_req *reqs, size_t n_reqs,
			    const struct gm_resolve_limits *lim,
			    struct gm_resolve_result *out, struct gm_diag *d);

#endif
