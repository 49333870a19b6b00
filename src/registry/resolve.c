/*
 * resolve.c - PubGrub version solving, sans-IO (see gm/resolve.h).
 *
 * The algorithm is Natalie Weizenbaum's PubGrub as described in Dart pub's
 * doc/solver.md: a set of incompatibilities (sets of terms that must not
 * all hold), a partial solution (a list of assignments, each a decision or
 * a derivation with its cause, at a decision level), unit propagation,
 * conflict resolution that learns a new incompatibility and backjumps, and
 * decision making that adds a version's dependencies lazily.
 *
 * Version sets. Every version the solver can choose comes from the index,
 * so a set of versions of package p is a bitset over p's version list,
 * sorted highest first (bit 0 = highest). Sets are exact and intersection,
 * union and complement are word operations:
 *
 *   term            | meaning                         | as stored
 *   ----------------+---------------------------------+-----------------
 *   p in S          | p chosen, version in S          | pos = true,  S
 *   not (p in S)    | p absent, or version outside S  | pos = false, S
 *   "any"           | no constraint                   | pos = false, {}
 *
 * A term may carry a label, the requirement text its set came from
 * ("^0.3"), kept as long as set operations leave the set unchanged; the
 * explanation prints labels, else the set as ranges of known versions
 * ("acme/web >=1.2.0", "acme/web 1.0.0 or >=2.0.0").
 *
 * Incompatibilities:
 *
 *   kind        | terms                   | from
 *   ------------+-------------------------+--------------------------------
 *   NOT_ROOT    | not (project)           | start
 *   DEP         | p in R, not (q in S)    | p's versions R depend on q S
 *   DEP_EMPTY   | p in R                  | p's versions R depend on a q
 *               |                         | that is missing or has no
 *               |                         | version matching
 *   DERIVED     | resolvent of two causes | conflict resolution
 *
 * DEP merges the contiguous run of p's versions that have the same
 * dependency (same id and requirement text), as pub does, so explanations
 * say "acme/web >=1.2.0 depends on ...".
 *
 * Memory: growable arrays (packages, incompatibilities, assignments,
 * per-package incompatibility lists, the id hash table) and an arena for
 * everything immutable (bitsets, term arrays, strings); all freed when the
 * resolve returns. Every count is bounded by struct gm_resolve_limits.
 */
#include "internal.h"

#include "gm/buf.h"
#include "gm/resolve.h"
#include "gm/semver.h"

#define ROOT 0u
#define NONE UINT32_MAX
#define ARENA_CHUNK_WORDS 8192
#define EXPLAIN_LIMIT (256 * 1024)
#define EXPLAIN_MAX_DEPTH 1000
#define AVAILABLE_SHOWN 8

struct term {
	uint32_t pkg;
	bool pos;
	const uint64_t *set;
	const char *label;
};

enum ikind { IK_NOT_ROOT, IK_DEP, IK_DEP_EMPTY, IK_DERIVED };

struct incompat {
	struct term *t;
	uint32_t n;
	enum ikind kind;
	uint32_t c1, c2;  /* DERIVED: the two causes */
	uint32_t dep_pkg; /* DEP_EMPTY: the package depended on */
	const char *req;  /* DEP_EMPTY: its requirement text */
};

struct asg {
	uint32_t pkg;
	uint32_t level;
	uint32_t cause; /* NONE for a decision */
	uint32_t prev;	/* previous assignment of the same package */
	struct term term;
	struct term acc; /* intersection of pkg's assignments up to here */
};

struct rdep {
	const char *id;
	const char *req;
	size_t idlen;
};

struct vdeps {
	struct rdep *d;
	uint32_t n;
	bool fetched;
	bool added;
};

struct pkg {
	const char *id; /* arena, NUL terminated; "" for the project */
	size_t idlen;
	uint64_t hash;
	struct gm_semver *v; /* highest first */
	uint32_t nv, nw;
	bool exists;
	bool queued;
	struct vdeps *deps; /* nv entries */
	const uint64_t *full;
	uint32_t last;
	uint32_t decided; /* version index, or NONE */
	uint32_t *inc;
	uint32_t ninc, cinc;
};

struct chunk {
	struct chunk *next;
	size_t used, cap;
	uint64_t w[];
};

struct rs {
	const struct gm_resolve_index *idx;
	struct gm_resolve_limits lim;
	struct gm_diag *d;
	struct pkg *p;
	uint32_t np, cp;
	uint32_t *ht;
	uint32_t htcap;
	struct incompat *inc;
	uint32_t ninc, cinc;
	struct asg *a;
	uint32_t na, ca;
	uint32_t level;
	uint32_t *stack;
	uint64_t *scratch;
	const uint64_t *zero;
	struct chunk *arena;
	uint64_t steps, decisions, conflicts;
};

struct gm_resolve_sink {
	struct rs *s;
	bool deps_mode;
	const char *id;
	struct gm_semver *v;
	uint32_t nv, cv;
	struct rdep *dd;
	uint32_t nd, cd;
	gm_err err;
};

/* ---- arena and arrays ------------------------------------------------ */

static void *arena_alloc(struct rs *s, size_t bytes)
{
	size_t words = bytes ? (bytes + 7) / 8 : 1;
	struct chunk *c = s->arena;
	void *r;

	if (!c || c->cap - c->used < words) {
		size_t cap =
		    words > ARENA_CHUNK_WORDS ? words : ARENA_CHUNK_WORDS;

		c = gm_malloc(sizeof(*c) + cap * 8);
		if (!c)
			return NULL;
		c->next = s->arena;
		c->used = 0;
		c->cap = cap;
		s->arena = c;
	}
	r = c->w + c->used;
	c->used += words;
	return r;
}

static char *arena_strndup(struct rs *s, const char *p, size_t len)
{
	char *r = arena_alloc(s, len + 1);

	if (!r)
		return NULL;
	memcpy(r, p, len);
	r[len] = '\0';
	return r;
}

/* Makes room for one more element in *arr (n used, *cap allocated). */
static gm_err grow(void **arr, uint32_t n, uint32_t *cap, size_t elem)
{
	uint32_t nc;
	void *q;

	if (n < *cap)
		return GM_OK;
	if (*cap >= UINT32_MAX / 2)
		return GM_ELIMIT;
	nc = *cap ? *cap * 2 : 16;
	q = gm_reallocarray(*arr, nc, elem);
	if (!q)
		return GM_ENOMEM;
	*arr = q;
	*cap = nc;
	return GM_OK;
}

static gm_err step(struct rs *s)
{
	if (++s->steps > s->lim.max_steps)
		return gm_diag_set(s->d, GM_ELIMIT,
				   "version solving took more than %" PRIu64
				   " steps; the dependency graph is too "
				   "tangled (raise the step limit or pin "
				   "versions)",
				   s->lim.max_steps);
	return GM_OK;
}

/* ---- bitsets and terms ----------------------------------------------- */

static bool set_subset(const uint64_t *a, const uint64_t *b, uint32_t nw)
{
	uint32_t i;

	for (i = 0; i < nw; i++)
		if (a[i] & ~b[i])
			return false;
	return true;
}

static bool set_disjoint(const uint64_t *a, const uint64_t *b, uint32_t nw)
{
	uint32_t i;

	for (i = 0; i < nw; i++)
		if (a[i] & b[i])
			return false;
	return true;
}

static bool set_empty(const uint64_t *a, uint32_t nw)
{
	uint32_t i;

	for (i = 0; i < nw; i++)
		if (a[i])
			return false;
	return true;
}

static bool set_equal(const uint64_t *a, const uint64_t *b, uint32_t nw)
{
	return a == b || memcmp(a, b, (size_t)nw * 8) == 0;
}

static uint32_t set_count(const uint64_t *a, uint32_t nw)
{
	uint32_t i, c = 0;

	for (i = 0; i < nw; i++)
		c += (uint32_t)__builtin_popcountll(a[i]);
	return c;
}

static bool set_has(const uint64_t *a, uint32_t bit)
{
	return (a[bit / 64] >> (bit % 64)) & 1;
}

static uint32_t set_first(const uint64_t *a, uint32_t nw)
{
	uint32_t i;

	for (i = 0; i < nw; i++)
		if (a[i])
			return i * 64 + (uint32_t)__builtin_ctzll(a[i]);
	return NONE;
}

/* Whether every solution of a also satisfies t (a is a subset of t). */
static bool term_subset(const struct term *a, const struct term *t, uint32_t nw)
{
	if (a->pos && t->pos)
		return set_subset(a->set, t->set, nw);
	if (a->pos)
		return set_disjoint(a->set, t->set, nw);
	if (t->pos)
		return false;
	return set_subset(t->set, a->set, nw);
}

/* Whether a and t have no solution in common. */
static bool term_disjoint(const struct term *a, const struct term *t,
			  uint32_t nw)
{
	if (a->pos && t->pos)
		return set_disjoint(a->set, t->set, nw);
	if (a->pos)
		return set_subset(a->set, t->set, nw);
	if (t->pos)
		return set_subset(t->set, a->set, nw);
	return false;
}

static struct term term_not(const struct term *t)
{
	struct term r = *t;

	r.pos = !t->pos;
	return r;
}

static bool term_is_any(const struct term *t, uint32_t nw)
{
	return !t->pos && set_empty(t->set, nw);
}

/*
 * out = a intersected with b (same package). The set is shared with an
 * operand, label included, when the result equals that operand.
 */
static gm_err term_and(struct rs *s, const struct term *a, const struct term *b,
		       struct term *out)
{
	uint32_t nw = s->p[a->pkg].nw, i;
	uint64_t *w = s->scratch, *copy;
	bool pos = a->pos || b->pos;

	for (i = 0; i < nw; i++) {
		if (a->pos && b->pos)
			w[i] = a->set[i] & b->set[i];
		else if (a->pos)
			w[i] = a->set[i] & ~b->set[i];
		else if (b->pos)
			w[i] = b->set[i] & ~a->set[i];
		else
			w[i] = a->set[i] | b->set[i];
	}
	out->pkg = a->pkg;
	out->pos = pos;
	if (a->pos == pos && set_equal(w, a->set, nw)) {
		out->set = a->set;
		out->label = a->label;
		return GM_OK;
	}
	if (b->pos == pos && set_equal(w, b->set, nw)) {
		out->set = b->set;
		out->label = b->label;
		return GM_OK;
	}
	copy = arena_alloc(s, (size_t)nw * 8);
	if (!copy)
		return GM_ENOMEM;
	memcpy(copy, w, (size_t)nw * 8);
	out->set = copy;
	out->label = NULL;
	return GM_OK;
}

static gm_err term_or(struct rs *s, const struct term *a, const struct term *b,
		      struct term *out)
{
	struct term na = term_not(a), nb = term_not(b), r;
	gm_err e = term_and(s, &na, &nb, &r);

	if (e)
		return e;
	*out = term_not(&r);
	return GM_OK;
}

/* ---- packages -------------------------------------------------------- */

static uint64_t hash_id(const char *id, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)id[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint32_t lookup(const struct rs *s, const char *id, size_t len,
		       uint64_t h)
{
	uint32_t mask = s->htcap - 1, i;

	if (!s->htcap)
		return NONE;
	for (i = (uint32_t)h & mask; s->ht[i]; i = (i + 1) & mask) {
		const struct pkg *p = &s->p[s->ht[i] - 1];

		if (p->hash == h && p->idlen == len &&
		    memcmp(p->id, id, len) == 0)
			return s->ht[i] - 1;
	}
	return NONE;
}

static gm_err ht_insert(struct rs *s, uint32_t pi)
{
	uint32_t mask, i, j;

	if ((uint64_t)(s->np + 1) * 2 > s->htcap) {
		uint32_t nc = s->htcap ? s->htcap * 2 : 64;
		uint32_t *t = gm_calloc(nc, sizeof(*t));

		if (!t)
			return GM_ENOMEM;
		for (j = 0; j < s->htcap; j++) {
			if (!s->ht[j])
				continue;
			for (i = (uint32_t)s->p[s->ht[j] - 1].hash & (nc - 1);
			     t[i]; i = (i + 1) & (nc - 1))
				;
			t[i] = s->ht[j];
		}
		gm_free(s->ht);
		s->ht = t;
		s->htcap = nc;
	}
	mask = s->htcap - 1;
	for (i = (uint32_t)s->p[pi].hash & mask; s->ht[i]; i = (i + 1) & mask)
		;
	s->ht[i] = pi + 1;
	return GM_OK;
}

static int cmp_desc(const void *a, const void *b)
{
	return gm_semver_cmp(b, a);
}

static void sink_init(struct gm_resolve_sink *k, struct rs *s, bool deps,
		      const char *id)
{
	memset(k, 0, sizeof(*k));
	k->s = s;
	k->deps_mode = deps;
	k->id = id;
}

gm_err gm_resolve_sink_version(struct gm_resolve_sink *k, const char *v,
			       size_t len)
{
	struct gm_semver sv;
	gm_err e;

	if (!k || k->deps_mode || (!v && len))
		return GM_EINVAL;
	if (k->err)
		return k->err;
	e = gm_semver_parse(&sv, v, len, k->s->d);
	if (e) {
		char msg[GM_DIAG_MAX];

		snprintf(msg, sizeof(msg), "%s",
			 k->s->d ? k->s->d->msg : "bad version");
		return k->err = gm_diag_set(
			   k->s->d, e,
			   "the index lists an invalid version of %s: %s",
			   k->id, msg);
	}
	if (k->nv >= k->s->lim.max_versions)
		return k->err = gm_diag_set(
			   k->s->d, GM_ELIMIT,
			   "%s has more than %zu versions (the resolver's "
			   "limit)",
			   k->id, k->s->lim.max_versions);
	if ((e = grow((void **)&k->v, k->nv, &k->cv, sizeof(*k->v))))
		return k->err = e;
	k->v[k->nv++] = sv;
	return GM_OK;
}

gm_err gm_resolve_sink_dep(struct gm_resolve_sink *k, const char *id,
			   size_t id_len, const char *req, size_t req_len)
{
	struct rdep *r;
	gm_err e;

	if (!k || !k->deps_mode || !id || !req)
		return GM_EINVAL;
	if (k->err)
		return k->err;
	if (id_len == 0 || id_len > GM_RESOLVE_MAX_ID ||
	    memchr(id, '\0', id_len) || req_len > GM_SEMVER_REQ_MAX_LEN ||
	    memchr(req, '\0', req_len))
		return k->err = gm_diag_set(
			   k->s->d, GM_EFORMAT,
			   "%s lists a dependency with an empty, over-long "
			   "or invalid package id or requirement",
			   k->id);
	if (k->nd >= k->s->lim.max_deps)
		return k->err =
			   gm_diag_set(k->s->d, GM_ELIMIT,
				       "%s has more than %zu dependencies (the "
				       "resolver's limit)",
				       k->id, k->s->lim.max_deps);
	if ((e = grow((void **)&k->dd, k->nd, &k->cd, sizeof(*k->dd))))
		return k->err = e;
	r = &k->dd[k->nd];
	r->id = arena_strndup(k->s, id, id_len);
	r->req = arena_strndup(k->s, req, req_len);
	if (!r->id || !r->req)
		return k->err = GM_ENOMEM;
	r->idlen = id_len;
	k->nd++;
	return GM_OK;
}

static uint64_t *full_set(struct rs *s, uint32_t nv, uint32_t nw)
{
	uint64_t *w = arena_alloc(s, (size_t)nw * 8);
	uint32_t i;

	if (!w)
		return NULL;
	memset(w, 0, (size_t)nw * 8);
	for (i = 0; i < nv; i++)
		w[i / 64] |= 1ull << (i % 64);
	return w;
}

/* Adds an empty package slot; the caller fills versions. */
static gm_err new_pkg(struct rs *s, const char *id, size_t len, uint32_t *out)
{
	struct pkg *p;
	gm_err e;

	if ((e = grow((void **)&s->p, s->np, &s->cp, sizeof(*s->p))))
		return e;
	p = &s->p[s->np];
	memset(p, 0, sizeof(*p));
	p->id = arena_strndup(s, id, len);
	if (!p->id)
		return GM_ENOMEM;
	p->idlen = len;
	p->hash = hash_id(id, len);
	p->last = NONE;
	p->decided = NONE;
	*out = s->np++;
	return GM_OK;
}

/* Finds or creates the package id, listing its versions on creation. */
static gm_err intern(struct rs *s, const char *id, size_t len, uint32_t *out)
{
	struct gm_resolve_sink k;
	uint64_t h = hash_id(id, len);
	uint32_t pi = lookup(s, id, len, h), i;
	struct pkg *p;
	gm_err e;

	if (pi != NONE) {
		*out = pi;
		return GM_OK;
	}
	if (s->np > s->lim.max_packages)
		return gm_diag_set(s->d, GM_ELIMIT,
				   "the dependency graph reaches more than %zu "
				   "packages (the resolver's limit)",
				   s->lim.max_packages);
	if ((e = new_pkg(s, id, len, &pi)))
		return e;
	p = &s->p[pi];
	sink_init(&k, s, false, p->id);
	e = s->idx->versions(s->idx->ctx, p->id, &k, s->d);
	if (!e)
		e = k.err;
	if (e == GM_ENOENT)
		k.nv = 0;
	else if (e)
		goto out_free;
	if (k.nv) {
		qsort(k.v, k.nv, sizeof(*k.v), cmp_desc);
		for (i = 1; i < k.nv; i++) {
			char t[GM_SEMVER_MAX_LEN + 1];

			if (gm_semver_cmp(&k.v[i - 1], &k.v[i]) != 0)
				continue;
			gm_semver_format(&k.v[i], t, sizeof(t));
			e = gm_diag_set(
			    s->d, GM_EFORMAT,
			    "the index lists version %s of %s twice", t, p->id);
			goto out_free;
		}
	}
	p = &s->p[pi];
	p->exists = k.nv > 0;
	p->nv = k.nv;
	p->nw = k.nv ? (k.nv + 63) / 64 : 1;
	p->v = k.v;
	k.v = NULL;
	p->deps = gm_calloc(p->nv ? p->nv : 1, sizeof(*p->deps));
	p->full = full_set(s, p->nv, p->nw);
	if (!p->deps || !p->full)
		return GM_ENOMEM;
	if ((e = ht_insert(s, pi)))
		return e;
	*out = pi;
	return GM_OK;
out_free:
	gm_free(k.v);
	return e;
}

static size_t fmt_version(const struct rs *s, uint32_t pi, uint32_t vi,
			  char *buf, size_t cap)
{
	return gm_semver_format(&s->p[pi].v[vi], buf, cap);
}

static gm_err fetch_deps(struct rs *s, uint32_t pi, uint32_t vi)
{
	char vt[GM_SEMVER_MAX_LEN + 1];
	struct gm_resolve_sink k;
	struct vdeps *vd = &s->p[pi].deps[vi];
	gm_err e;

	if (vd->fetched)
		return GM_OK;
	fmt_version(s, pi, vi, vt, sizeof(vt));
	sink_init(&k, s, true, s->p[pi].id);
	e = s->idx->dependencies(s->idx->ctx, s->p[pi].id, vt, &k, s->d);
	if (!e)
		e = k.err;
	if (e) {
		gm_free(k.dd);
		return e;
	}
	vd = &s->p[pi].deps[vi];
	if (k.nd) {
		vd->d = arena_alloc(s, (size_t)k.nd * sizeof(*vd->d));
		if (!vd->d) {
			gm_free(k.dd);
			return GM_ENOMEM;
		}
		memcpy(vd->d, k.dd, (size_t)k.nd * sizeof(*vd->d));
	}
	gm_free(k.dd);
	vd->n = k.nd;
	vd->fetched = true;
	return GM_OK;
}

/* ---- incompatibilities and the partial solution ----------------------- */

static gm_err new_inc(struct rs *s, const struct term *t, uint32_t n,
		      enum ikind kind, uint32_t *out)
{
	struct incompat *ic;
	gm_err e;

	if ((e = grow((void **)&s->inc, s->ninc, &s->cinc, sizeof(*s->inc))))
		return e;
	ic = &s->inc[s->ninc];
	memset(ic, 0, sizeof(*ic));
	ic->t = arena_alloc(s, (size_t)(n ? n : 1) * sizeof(*t));
	if (!ic->t)
		return GM_ENOMEM;
	if (n)
		memcpy(ic->t, t, (size_t)n * sizeof(*t));
	ic->n = n;
	ic->kind = kind;
	ic->c1 = ic->c2 = ic->dep_pkg = NONE;
	*out = s->ninc++;
	return GM_OK;
}

/* Makes incompatibility ii active: unit propagation will look at it. */
static gm_err activate(struct rs *s, uint32_t ii)
{
	uint32_t i;
	gm_err e;

	for (i = 0; i < s->inc[ii].n; i++) {
		struct pkg *p = &s->p[s->inc[ii].t[i].pkg];

		if ((e = grow((void **)&p->inc, p->ninc, &p->cinc,
			      sizeof(*p->inc))))
			return e;
		p->inc[p->ninc++] = ii;
	}
	return GM_OK;
}

/* The intersection of pi's assignments, or "any". */
static struct term current(const struct rs *s, uint32_t pi)
{
	struct term any = {pi, false, s->zero, NULL};

	return s->p[pi].last == NONE ? any : s->a[s->p[pi].last].acc;
}

static gm_err assign(struct rs *s, const struct term *t, uint32_t cause,
		     uint32_t version)
{
	struct pkg *p = &s->p[t->pkg];
	struct asg *a;
	struct term acc;
	gm_err e;

	if ((e = step(s)))
		return e;
	if (p->last == NONE)
		acc = *t;
	else if ((e = term_and(s, &s->a[p->last].acc, t, &acc)))
		return e;
	if ((e = grow((void **)&s->a, s->na, &s->ca, sizeof(*s->a))))
		return e;
	a = &s->a[s->na];
	a->pkg = t->pkg;
	a->level = s->level;
	a->cause = cause;
	a->prev = p->last;
	a->term = *t;
	a->acc = acc;
	p->last = s->na++;
	if (cause == NONE)
		p->decided = version;
	return GM_OK;
}

static void backtrack(struct rs *s, uint32_t level)
{
	while (s->na && s->a[s->na - 1].level > level) {
		struct asg *a = &s->a[--s->na];

		s->p[a->pkg].last = a->prev;
		if (a->cause == NONE)
			s->p[a->pkg].decided = NONE;
	}
	s->level = level;
}

enum rel { REL_SAT, REL_ALMOST, REL_CONTRA, REL_INCONC };

static enum rel relation(const struct rs *s, const struct incompat *ic,
			 uint32_t *which)
{
	uint32_t i, unsat = NONE, nun = 0;

	for (i = 0; i < ic->n; i++) {
		const struct term *t = &ic->t[i];
		struct term a = current(s, t->pkg);
		uint32_t nw = s->p[t->pkg].nw;

		if (term_subset(&a, t, nw))
			continue;
		if (term_disjoint(&a, t, nw))
			return REL_CONTRA;
		unsat = i;
		nun++;
	}
	*which = unsat;
	return nun == 0 ? REL_SAT : nun == 1 ? REL_ALMOST : REL_INCONC;
}

static bool terminal(const struct incompat *ic)
{
	return ic->n == 0 || (ic->n == 1 && ic->t[0].pkg == ROOT &&
			      ic->t[0].pos && set_has(ic->t[0].set, 0));
}

/* Index of the earliest assignment after which t holds (NONE: always). */
static uint32_t earliest(const struct rs *s, const struct term *t)
{
	uint32_t j = s->p[t->pkg].last, found = NONE;
	uint32_t nw = s->p[t->pkg].nw;

	while (j != NONE && term_subset(&s->a[j].acc, t, nw)) {
		found = j;
		j = s->a[j].prev;
	}
	return found;
}

/* ---- conflict resolution ---------------------------------------------- */

static gm_err prior_cause(struct rs *s, uint32_t ii, uint32_t ci, uint32_t pkg,
			  uint32_t *out)
{
	const struct incompat *I = &s->inc[ii], *C = &s->inc[ci];
	uint32_t n = 0, i, j, ti = NONE, tc = NONE;
	struct term *t, u;
	gm_err e;

	t = arena_alloc(s, (size_t)(I->n + C->n + 1) * sizeof(*t));
	if (!t)
		return GM_ENOMEM;
	for (i = 0; i < I->n; i++) {
		if (I->t[i].pkg == pkg)
			ti = i;
		else
			t[n++] = I->t[i];
	}
	for (i = 0; i < C->n; i++) {
		if (C->t[i].pkg == pkg) {
			tc = i;
			continue;
		}
		for (j = 0; j < n && t[j].pkg != C->t[i].pkg; j++)
			;
		if (j == n)
			t[n++] = C->t[i];
		else if ((e = term_and(s, &t[j], &C->t[i], &t[j])))
			return e;
	}
	if (ti != NONE && tc != NONE) {
		if ((e = term_or(s, &I->t[ti], &C->t[tc], &u)))
			return e;
		if (!term_is_any(&u, s->p[pkg].nw))
			t[n++] = u;
	}
	if ((e = new_inc(s, t, n, IK_DERIVED, out)))
		return e;
	s->inc[*out].c1 = ii;
	s->inc[*out].c2 = ci;
	return GM_OK;
}

/*
 * Finds the root cause of the satisfied incompatibility ii, learns it and
 * backjumps. *failed when the root cause shows the project cannot be
 * solved (then *out is the root incompatibility for the explanation).
 */
static gm_err resolve_conflict(struct rs *s, uint32_t ii, uint32_t *out,
			       bool *failed)
{
	uint32_t orig = ii;
	gm_err e;

	s->conflicts++;
	for (;;) {
		const struct incompat *I = &s->inc[ii];
		uint32_t i, si = NONE, sat_t = NONE, prev = NONE, lvl;
		const struct asg *S;

		if ((e = step(s)))
			return e;
		if (terminal(I)) {
			*failed = true;
			*out = ii;
			return GM_OK;
		}
		for (i = 0; i < I->n; i++) {
			uint32_t ei = earliest(s, &I->t[i]);

			if (ei == NONE)
				continue;
			if (si == NONE || ei > si) {
				if (si != NONE && (prev == NONE || si > prev))
					prev = si;
				si = ei;
				sat_t = i;
			} else if (prev == NONE || ei > prev) {
				prev = ei;
			}
		}
		GM_ASSERT(si != NONE);
		S = &s->a[si];
		if (!term_subset(&S->term, &I->t[sat_t], s->p[S->pkg].nw)) {
			uint32_t j = S->prev, found = NONE;
			uint32_t nw = s->p[S->pkg].nw;

			while (j != NONE) {
				struct term x;

				if ((e = term_and(s, &s->a[j].acc, &S->term,
						  &x)))
					return e;
				if (!term_subset(&x, &I->t[sat_t], nw))
					break;
				found = j;
				j = s->a[j].prev;
			}
			if (found != NONE && (prev == NONE || found > prev))
				prev = found;
		}
		/*
		 * Backjump no further than level 1, where the project was
		 * decided (better explanations); conflicts among level-0
		 * derivations (the project could not be decided) keep
		 * resolving until the root incompatibility.
		 */
		lvl = prev == NONE ? 0 : s->a[prev].level;
		if (lvl < 1 && S->level >= 1)
			lvl = 1;
		if (S->cause == NONE || lvl != S->level) {
			if (ii != orig && (e = activate(s, ii)))
				return e;
			backtrack(s, lvl);
			*out = ii;
			return GM_OK;
		}
		if ((e = prior_cause(s, ii, S->cause, S->pkg, &ii)))
			return e;
	}
}

/* ---- dependencies and decisions ------------------------------------- */

static bool has_dep(const struct vdeps *vd, const struct rdep *r)
{
	uint32_t i;

	for (i = 0; i < vd->n; i++)
		if (vd->d[i].idlen == r->idlen &&
		    memcmp(vd->d[i].id, r->id, r->idlen) == 0 &&
		    strcmp(vd->d[i].req, r->req) == 0)
			return true;
	return false;
}

static gm_err req_set(struct rs *s, uint32_t from, uint32_t fv,
		      const struct rdep *r, uint32_t x, uint64_t **out)
{
	struct gm_semver_req req;
	struct pkg *q = &s->p[x];
	uint64_t *w;
	uint32_t i;
	gm_err e;

	e = gm_semver_req_parse(&req, r->req, strlen(r->req), s->d);
	if (e) {
		char vt[GM_SEMVER_MAX_LEN + 1] = "";
		char msg[GM_DIAG_MAX];

		if (from != ROOT)
			fmt_version(s, from, fv, vt, sizeof(vt));
		snprintf(msg, sizeof(msg), "%s", s->d ? s->d->msg : "");
		return gm_diag_set(s->d, e,
				   "invalid requirement '%s' on %s in %s%s%s: "
				   "%s",
				   r->req, r->id,
				   from == ROOT ? "the project" : s->p[from].id,
				   from == ROOT ? "" : " ", vt, msg);
	}
	w = arena_alloc(s, (size_t)q->nw * 8);
	if (!w)
		return GM_ENOMEM;
	memset(w, 0, (size_t)q->nw * 8);
	for (i = 0; i < q->nv; i++)
		if (gm_semver_req_matches(&req, &q->v[i]))
			w[i / 64] |= 1ull << (i % 64);
	*out = w;
	return GM_OK;
}

/* Adds the incompatibilities for the dependencies of version v of pi. */
static gm_err add_deps(struct rs *s, uint32_t pi, uint32_t v)
{
	uint32_t k, x, ii, hi, lo, u;
	gm_err e;

	if ((e = fetch_deps(s, pi, v)))
		return e;
	for (k = 0; k < s->p[pi].deps[v].n; k++) {
		const struct rdep *r = &s->p[pi].deps[v].d[k];
		struct term t[2];
		uint64_t *run, *set;
		bool seen = false;

		hi = lo = v;
		while (hi > 0) {
			if ((e = fetch_deps(s, pi, hi - 1)))
				return e;
			if (!has_dep(&s->p[pi].deps[hi - 1], r))
				break;
			hi--;
		}
		while (lo + 1 < s->p[pi].nv) {
			if ((e = fetch_deps(s, pi, lo + 1)))
				return e;
			if (!has_dep(&s->p[pi].deps[lo + 1], r))
				break;
			lo++;
		}
		for (u = hi; u <= lo; u++)
			if (u != v && s->p[pi].deps[u].added)
				seen = true;
		if (seen)
			continue;
		if ((e = intern(s, r->id, r->idlen, &x)))
			return e;
		run = arena_alloc(s, (size_t)s->p[pi].nw * 8);
		if (!run)
			return GM_ENOMEM;
		memset(run, 0, (size_t)s->p[pi].nw * 8);
		for (u = hi; u <= lo; u++)
			run[u / 64] |= 1ull << (u % 64);
		if ((e = req_set(s, pi, v, r, x, &set)))
			return e;
		t[0] = (struct term){pi, true, run, NULL};
		if (!s->p[x].exists || set_empty(set, s->p[x].nw)) {
			if ((e = new_inc(s, t, 1, IK_DEP_EMPTY, &ii)))
				return e;
			s->inc[ii].dep_pkg = x;
			s->inc[ii].req = r->req;
		} else if (x == pi) {
			/* Self dependency: only versions outside S clash. */
			uint32_t i, nw = s->p[pi].nw;

			for (i = 0; i < nw; i++)
				run[i] &= ~set[i];
			if (set_empty(run, nw))
				continue;
			if ((e = new_inc(s, t, 1, IK_DEP, &ii)))
				return e;
			s->inc[ii].dep_pkg = x;
			s->inc[ii].req = r->req;
		} else {
			t[1] = (struct term){x, false, set, r->req};
			if ((e = new_inc(s, t, 2, IK_DEP, &ii)))
				return e;
		}
		if ((e = activate(s, ii)))
			return e;
	}
	s->p[pi].deps[v].added = true;
	return GM_OK;
}

static gm_err decide(struct rs *s, uint32_t *next, bool *done)
{
	uint32_t i, best = NONE, bestc = 0, v, first;
	struct term dt;
	uint64_t *w;
	gm_err e;

	for (i = 0; i < s->np; i++) {
		const struct pkg *p = &s->p[i];
		uint32_t c;

		if (p->last == NONE || p->decided != NONE ||
		    !s->a[p->last].acc.pos)
			continue;
		c = set_count(s->a[p->last].acc.set, p->nw);
		if (best == NONE || c < bestc) {
			best = i;
			bestc = c;
		}
	}
	if (best == NONE) {
		*done = true;
		return GM_OK;
	}
	v = set_first(s->a[s->p[best].last].acc.set, s->p[best].nw);
	GM_ASSERT(v != NONE);
	first = s->ninc;
	if ((e = add_deps(s, best, v)))
		return e;
	*next = best;
	/* Decide only if no new incompatibility would be satisfied at once. */
	for (i = first; i < s->ninc; i++) {
		const struct incompat *ic = &s->inc[i];
		uint32_t j;
		bool sat = true;

		for (j = 0; j < ic->n && sat; j++) {
			const struct term *t = &ic->t[j];
			struct term a;

			if (t->pkg == best) {
				sat = set_has(t->set, v) == t->pos;
				continue;
			}
			a = current(s, t->pkg);
			sat = term_subset(&a, t, s->p[t->pkg].nw);
		}
		if (sat)
			return GM_OK;
	}
	w = arena_alloc(s, (size_t)s->p[best].nw * 8);
	if (!w)
		return GM_ENOMEM;
	memset(w, 0, (size_t)s->p[best].nw * 8);
	w[v / 64] |= 1ull << (v % 64);
	dt = (struct term){best, true, w, NULL};
	s->level++;
	s->decisions++;
	return assign(s, &dt, NONE, v);
}

static gm_err propagate(struct rs *s, uint32_t start, bool *failed,
			uint32_t *root)
{
	uint32_t ns = 0;
	gm_err e;

	s->stack[ns++] = start;
	s->p[start].queued = true;
	while (ns) {
		uint32_t pi = s->stack[--ns], k;

		s->p[pi].queued = false;
		for (k = s->p[pi].ninc; k-- > 0;) {
			uint32_t ii = s->p[pi].inc[k], w, rc;
			enum rel r = relation(s, &s->inc[ii], &w);
			struct term t;

			if (r == REL_SAT) {
				if ((e = resolve_conflict(s, ii, &rc, failed)))
					return e;
				if (*failed) {
					*root = rc;
					return GM_OK;
				}
				r = relation(s, &s->inc[rc], &w);
				GM_ASSERT(r == REL_ALMOST);
				if (r != REL_ALMOST)
					return gm_diag_set(
					    s->d, GM_EINVAL,
					    "resolver invariant broken "
					    "after conflict resolution");
				t = term_not(&s->inc[rc].t[w]);
				if ((e = assign(s, &t, rc, NONE)))
					return e;
				while (ns)
					s->p[s->stack[--ns]].queued = false;
				s->stack[ns++] = t.pkg;
				s->p[t.pkg].queued = true;
				break;
			}
			if (r != REL_ALMOST)
				continue;
			t = term_not(&s->inc[ii].t[w]);
			if ((e = assign(s, &t, ii, NONE)))
				return e;
			if (!s->p[t.pkg].queued) {
				s->stack[ns++] = t.pkg;
				s->p[t.pkg].queued = true;
			}
		}
	}
	return GM_OK;
}

/* ---- explanations ------------------------------------------------------ */

struct line {
	char *text;
	uint32_t num;
};

struct explain {
	struct rs *s;
	uint32_t *refs;	  /* per incompatibility: derived users */
	uint32_t *lineno; /* per incompatibility: its line number, 0 if none */
	struct line *l;
	uint32_t nl, cl;
	uint32_t next_num;
	uint32_t root;
	struct gm_buf b; /* the line being written */
	gm_err err;
};

static void put(struct explain *x, const char *str)
{
	gm_err e;

	if (x->err)
		return;
	e = gm_buf_append_str(&x->b, str);
	if (e)
		x->err = e;
}

static void putf(struct explain *x, const char *fmt, ...) GM_PRINTF(2, 3);
static void putf(struct explain *x, const char *fmt, ...)
{
	char tmp[GM_SEMVER_MAX_LEN * 2 + 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	put(x, tmp);
}

static void put_version(struct explain *x, uint32_t pi, uint32_t vi)
{
	char t[GM_SEMVER_MAX_LEN + 1];

	fmt_version(x->s, pi, vi, t, sizeof(t));
	put(x, t);
}

/* Writes the versions of set as ranges ("1.0.0", ">=1.2.0, <2.0.0"). */
static void put_ranges(struct explain *x, uint32_t pi, const uint64_t *set)
{
	const struct pkg *p = &x->s->p[pi];
	uint32_t i = 0, j, runs = 0;

	while (i < p->nv) {
		if (!set_has(set, i)) {
			i++;
			continue;
		}
		for (j = i; j + 1 < p->nv && set_has(set, j + 1); j++)
			;
		/* versions i (highest) .. j (lowest) */
		if (runs++)
			put(x, " or ");
		if (i == j) {
			put_version(x, pi, i);
		} else if (i == 0) {
			put(x, ">=");
			put_version(x, pi, j);
		} else if (j == p->nv - 1) {
			put(x, "<");
			put_version(x, pi, i - 1);
		} else {
			put(x, ">=");
			put_version(x, pi, j);
			put(x, ", <");
			put_version(x, pi, i - 1);
		}
		i = j + 1;
	}
	if (!runs)
		put(x, "(no version)");
}

/* A term as its positive form: "acme/x ^1.2", "every version of acme/x". */
static void put_term(struct explain *x, const struct term *t, bool every)
{
	const struct pkg *p = &x->s->p[t->pkg];

	if (t->pkg == ROOT) {
		put(x, "the project");
		return;
	}
	if (!t->label && set_equal(t->set, p->full, p->nw) &&
	    (every || p->nv > 1)) {
		if (every)
			put(x, "every version of ");
		put(x, p->id);
		return;
	}
	put(x, p->id);
	put(x, " ");
	if (t->label)
		put(x, t->label[0] ? t->label : "*");
	else
		put_ranges(x, t->pkg, t->set);
}

static void put_available(struct explain *x, uint32_t pi)
{
	const struct pkg *p = &x->s->p[pi];
	uint32_t i, shown = p->nv < AVAILABLE_SHOWN ? p->nv : AVAILABLE_SHOWN;

	put(x, "available: ");
	if (shown < p->nv)
		putf(x, "(newest %u of %u) ", shown, p->nv);
	for (i = shown; i-- > 0;) {
		put_version(x, pi, i);
		if (i)
			put(x, ", ");
	}
}

static void put_inc(struct explain *x, uint32_t ii)
{
	const struct incompat *ic = &x->s->inc[ii];
	const struct term *pos[2] = {NULL, NULL}, *neg[2] = {NULL, NULL};
	uint32_t i, np = 0, nn = 0;
	bool root = false;

	switch (ic->kind) {
	case IK_NOT_ROOT:
		put(x, "the project is required");
		return;
	case IK_DEP_EMPTY:
		if (!x->s->p[ic->dep_pkg].exists) {
			putf(x, "no package '%s' (required by ",
			     x->s->p[ic->dep_pkg].id);
			put_term(x, &ic->t[0], false);
			put(x, ")");
		} else {
			putf(x, "no version of %s matches %s (required by ",
			     x->s->p[ic->dep_pkg].id, ic->req);
			put_term(x, &ic->t[0], false);
			put(x, "); ");
			put_available(x, ic->dep_pkg);
		}
		return;
	case IK_DEP:
		put_term(x, &ic->t[0], true);
		if (ic->n == 1) {
			putf(x, " depends on itself (%s)", ic->req);
			return;
		}
		put(x, " depends on ");
		put_term(x, &ic->t[1], false);
		return;
	case IK_DERIVED:
		break;
	}
	for (i = 0; i < ic->n; i++) {
		const struct term *t = &ic->t[i];

		if (t->pkg == ROOT && t->pos) {
			root = true;
			continue;
		}
		if (t->pos) {
			if (np < 2)
				pos[np] = t;
			np++;
		} else {
			if (nn < 2)
				neg[nn] = t;
			nn++;
		}
	}
	if (np == 0 && nn == 0) {
		put(x, "version solving failed");
	} else if (np == 1 && nn == 0) {
		put_term(x, pos[0], false);
		put(x, " is forbidden");
	} else if (np == 0 && nn == 1) {
		put(x, root ? "the project requires " : "");
		put_term(x, neg[0], false);
		put(x, root ? "" : " is required");
	} else if (np == 1 && nn == 1) {
		put_term(x, pos[0], true);
		put(x, " requires ");
		put_term(x, neg[0], false);
	} else if (np == 2 && nn == 0) {
		put_term(x, pos[0], false);
		put(x, " is incompatible with ");
		put_term(x, pos[1], false);
	} else if (np == 0 && nn == 2) {
		put(x, "either ");
		put_term(x, neg[0], false);
		put(x, " or ");
		put_term(x, neg[1], false);
		put(x, " is required");
	} else {
		bool first = true;

		for (i = 0; i < ic->n; i++) {
			if (!ic->t[i].pos || ic->t[i].pkg == ROOT)
				continue;
			put(x, first ? "" : " and ");
			put_term(x, &ic->t[i], false);
			first = false;
		}
		if (np)
			put(x, nn ? " together require " : " are incompatible");
		else
			put(x, "one of ");
		first = true;
		for (i = 0; i < ic->n; i++) {
			if (ic->t[i].pos)
				continue;
			put(x, first ? "" : " or ");
			put_term(x, &ic->t[i], false);
			first = false;
		}
		if (!np)
			put(x, " is required");
	}
}

static bool is_dep2(const struct incompat *ic)
{
	return ic->kind == IK_DEP && ic->n == 2;
}

static bool same_term(const struct rs *s, const struct term *a,
		      const struct term *b)
{
	return a->pkg == b->pkg && a->pos == b->pos &&
	       set_equal(a->set, b->set, s->p[a->pkg].nw);
}

/* "A and B", shortened when both share a depender or form a chain. */
static void put_and(struct explain *x, uint32_t a, uint32_t b, uint32_t la,
		    uint32_t lb)
{
	const struct incompat *A = &x->s->inc[a], *B = &x->s->inc[b];

	if (!la && !lb && is_dep2(A) && is_dep2(B)) {
		if (same_term(x->s, &A->t[0], &B->t[0])) {
			put_term(x, &A->t[0], true);
			put(x, " depends on both ");
			put_term(x, &A->t[1], false);
			put(x, " and ");
			put_term(x, &B->t[1], false);
			return;
		}
		for (int k = 0; k < 2; k++) {
			const struct incompat *P = k ? B : A, *Q = k ? A : B;
			const struct pkg *m = &x->s->p[P->t[1].pkg];

			if (P->t[1].pkg != Q->t[0].pkg ||
			    !set_subset(P->t[1].set, Q->t[0].set, m->nw))
				continue;
			put_term(x, &P->t[0], true);
			put(x, " depends on ");
			put_term(x, &P->t[1], false);
			put(x, " which depends on ");
			put_term(x, &Q->t[1], false);
			return;
		}
	}
	put_inc(x, a);
	if (la)
		putf(x, " (%u)", la);
	put(x, " and ");
	put_inc(x, b);
	if (lb)
		putf(x, " (%u)", lb);
}

static bool derived(const struct explain *x, uint32_t ii)
{
	return x->s->inc[ii].kind == IK_DERIVED;
}

/* Ends the line being written; numbers it when asked. */
static void end_line(struct explain *x, uint32_t ii, bool numbered)
{
	struct line *l;
	gm_err e;

	if (x->err)
		return;
	if ((e = grow((void **)&x->l, x->nl, &x->cl, sizeof(*x->l)))) {
		x->err = e;
		return;
	}
	l = &x->l[x->nl];
	l->text = gm_strndup(x->b.len ? (char *)x->b.data : "", x->b.len);
	if (!l->text) {
		x->err = GM_ENOMEM;
		return;
	}
	l->num = 0;
	if (numbered && ii != NONE) {
		l->num = ++x->next_num;
		x->lineno[ii] = l->num;
	}
	x->nl++;
	gm_buf_reset(&x->b);
}

static void visit(struct explain *x, uint32_t ii, bool conclusion,
		  unsigned depth);

static bool single_line(const struct explain *x, uint32_t ii)
{
	const struct incompat *ic = &x->s->inc[ii];

	return !derived(x, ic->c1) && !derived(x, ic->c2);
}

static bool collapsible(const struct explain *x, uint32_t ii)
{
	const struct incompat *ic = &x->s->inc[ii];
	uint32_t cx;

	if (x->refs[ii] > 1)
		return false;
	if (derived(x, ic->c1) == derived(x, ic->c2))
		return false;
	cx = derived(x, ic->c1) ? ic->c1 : ic->c2;
	return x->lineno[cx] == 0;
}

static void visit(struct explain *x, uint32_t ii, bool conclusion,
		  unsigned depth)
{
	const struct incompat *ic = &x->s->inc[ii];
	bool numbered = conclusion || x->refs[ii] > 1;
	const char *conj = conclusion || ii == x->root ? "So," : "And";
	uint32_t c1 = ic->c1, c2 = ic->c2;

	if (x->err)
		return;
	if (depth > EXPLAIN_MAX_DEPTH) {
		put(x, "(the derivation is too long to show in full)");
		end_line(x, NONE, false);
		return;
	}
	if (derived(x, c1) && derived(x, c2)) {
		uint32_t l1 = x->lineno[c1], l2 = x->lineno[c2];

		if (l1 && l2) {
			put(x, "Because ");
			put_and(x, c1, c2, l1, l2);
		} else if (l1 || l2) {
			uint32_t with = l1 ? c1 : c2, without = l1 ? c2 : c1;

			visit(x, without, false, depth + 1);
			putf(x, "%s because ", conj);
			put_inc(x, with);
			putf(x, " (%u)", x->lineno[with]);
		} else if (single_line(x, c1) || single_line(x, c2)) {
			uint32_t first = single_line(x, c2) ? c1 : c2;
			uint32_t second = first == c1 ? c2 : c1;

			visit(x, first, false, depth + 1);
			visit(x, second, false, depth + 1);
			put(x, "Thus");
		} else {
			visit(x, c1, true, depth + 1);
			end_line(x, NONE, false);
			visit(x, c2, false, depth + 1);
			putf(x, "%s because ", conj);
			put_inc(x, c1);
			putf(x, " (%u)", x->lineno[c1]);
		}
	} else if (derived(x, c1) || derived(x, c2)) {
		uint32_t dv = derived(x, c1) ? c1 : c2;
		uint32_t ex = dv == c1 ? c2 : c1;

		if (x->lineno[dv]) {
			put(x, "Because ");
			put_and(x, ex, dv, 0, x->lineno[dv]);
		} else if (collapsible(x, dv)) {
			const struct incompat *D = &x->s->inc[dv];
			uint32_t pd = derived(x, D->c1) ? D->c1 : D->c2;
			uint32_t pe = pd == D->c1 ? D->c2 : D->c1;

			visit(x, pd, false, depth + 1);
			putf(x, "%s because ", conj);
			put_and(x, pe, ex, 0, 0);
		} else {
			visit(x, dv, false, depth + 1);
			putf(x, "%s because ", conj);
			put_inc(x, ex);
		}
	} else {
		put(x, "Because ");
		put_and(x, c1, c2, 0, 0);
	}
	put(x, ", ");
	put_inc(x, ii);
	put(x, ".");
	end_line(x, ii, numbered);
}

/* Counts how often each derived incompatibility is used, iteratively. */
static gm_err count_refs(struct explain *x)
{
	struct rs *s = x->s;
	uint32_t *st, n = 0;
	bool *seen;

	st = gm_calloc(s->ninc ? s->ninc : 1, sizeof(*st));
	seen = gm_calloc(s->ninc ? s->ninc : 1, sizeof(*seen));
	if (!st || !seen) {
		gm_free(st);
		gm_free(seen);
		return GM_ENOMEM;
	}
	st[n++] = x->root;
	seen[x->root] = true;
	while (n) {
		const struct incompat *ic = &s->inc[st[--n]];
		uint32_t c[2] = {ic->c1, ic->c2}, k;

		if (ic->kind != IK_DERIVED)
			continue;
		for (k = 0; k < 2; k++) {
			x->refs[c[k]]++;
			if (!seen[c[k]]) {
				seen[c[k]] = true;
				st[n++] = c[k];
			}
		}
	}
	gm_free(st);
	gm_free(seen);
	return GM_OK;
}

static gm_err explain(struct rs *s, uint32_t root, char **out)
{
	struct explain x;
	struct gm_buf all;
	uint32_t i;
	gm_err e;

	memset(&x, 0, sizeof(x));
	x.s = s;
	x.root = root;
	gm_buf_init(&x.b, EXPLAIN_LIMIT);
	gm_buf_init(&all, EXPLAIN_LIMIT);
	x.refs = gm_calloc(s->ninc, sizeof(*x.refs));
	x.lineno = gm_calloc(s->ninc, sizeof(*x.lineno));
	if (!x.refs || !x.lineno) {
		e = GM_ENOMEM;
		goto out_free;
	}
	if (!derived(&x, root)) {
		put_inc(&x, root);
		end_line(&x, NONE, false);
	} else {
		if ((e = count_refs(&x)))
			goto out_free;
		visit(&x, root, false, 0);
	}
	if (x.err == GM_ENOMEM) {
		e = GM_ENOMEM;
		goto out_free;
	}
	for (i = 0; i < x.nl; i++) {
		e = GM_OK;
		if (i)
			e = gm_buf_append_byte(&all, '\n');
		if (x.l[i].num)
			e = gm_buf_printf(&all, "(%u) ", x.l[i].num);
		e = e ? e : gm_buf_append_str(&all, x.l[i].text);
		if (e == GM_ENOMEM)
			goto out_free;
		if (e)
			break;
	}
	if (x.err == GM_ELIMIT || e == GM_ELIMIT) {
		gm_buf_reset(&all);
		gm_buf_append_str(&all, "version solving failed (the "
					"explanation is too long to show)");
	}
	*out = gm_strndup(all.len ? (char *)all.data : "", all.len);
	e = *out ? GM_OK : GM_ENOMEM;
out_free:
	for (i = 0; i < x.nl; i++)
		gm_free(x.l[i].text);
	gm_free(x.l);
	gm_free(x.refs);
	gm_free(x.lineno);
	gm_buf_release(&x.b);
	gm_buf_release(&all);
	return e;
}

/* ---- results ---------------------------------------------------------- */

void gm_resolve_result_init(struct gm_resolve_result *r)
{
	memset(r, 0, sizeof(*r));
}

void gm_resolve_result_release(struct gm_resolve_result *r)
{
	size_t i, j;

	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		for (j = 0; j < r->picks[i].n_by; j++)
			gm_free(r->picks[i].by[j].req);
		gm_free(r->picks[i].by);
		gm_free(r->picks[i].id);
	}
	gm_free(r->picks);
	gm_free(r->explanation);
	gm_resolve_result_init(r);
}

struct byid {
	const char *id;
	uint32_t pkg;
};

static int cmp_pkg_id(const void *a, const void *b)
{
	return strcmp(((const struct byid *)a)->id,
		      ((const struct byid *)b)->id);
}

static int cmp_reason(const void *a, const void *b)
{
	const struct gm_resolve_reason *x = a, *y = b;

	if (x->from == y->from)
		return 0;
	if (x->from == GM_RESOLVE_PROJECT)
		return -1;
	if (y->from == GM_RESOLVE_PROJECT)
		return 1;
	return x->from < y->from ? -1 : 1;
}

/* The package a chosen version's dependency points to. */
static uint32_t dep_target(const struct rs *s, const struct rdep *r)
{
	return lookup(s, r->id, r->idlen, hash_id(r->id, r->idlen));
}

static void put_node(struct gm_buf *b, const struct rs *s, uint32_t pi)
{
	char t[GM_SEMVER_MAX_LEN + 1];

	fmt_version(s, pi, s->p[pi].decided, t, sizeof(t));
	gm_buf_printf(b, "%s@%s", s->p[pi].id, t);
}

/* Finds a cycle among the chosen versions; *msg describes it. */
static gm_err find_cycle(struct rs *s, char **msg)
{
	uint8_t *color = gm_calloc(s->np, 1);
	uint32_t *st = gm_calloc(s->np, sizeof(*st));
	uint32_t *edge = gm_calloc(s->np, sizeof(*edge));
	uint32_t n = 0, i;
	gm_err e = GM_OK;

	*msg = NULL;
	if (!color || !st || !edge) {
		e = GM_ENOMEM;
		goto out_free;
	}
	st[n++] = ROOT;
	color[ROOT] = 1;
	while (n) {
		uint32_t pi = st[n - 1];
		const struct vdeps *vd = &s->p[pi].deps[s->p[pi].decided];
		uint32_t x;

		if (edge[pi] == vd->n) {
			color[pi] = 2;
			n--;
			continue;
		}
		x = dep_target(s, &vd->d[edge[pi]++]);
		if (x == NONE || s->p[x].decided == NONE || color[x] == 2)
			continue;
		if (color[x] == 0) {
			color[x] = 1;
			st[n++] = x;
			continue;
		}
		{
			struct gm_buf b;

			gm_buf_init(&b, EXPLAIN_LIMIT);
			gm_buf_append_str(&b, "dependency cycle: ");
			for (i = 0; st[i] != x; i++)
				;
			for (; i < n; i++) {
				put_node(&b, s, st[i]);
				gm_buf_append_str(&b, " -> ");
			}
			put_node(&b, s, x);
			*msg = gm_strndup(b.len ? (char *)b.data : "", b.len);
			gm_buf_release(&b);
			if (!*msg)
				e = GM_ENOMEM;
			goto out_free;
		}
	}
out_free:
	gm_free(color);
	gm_free(st);
	gm_free(edge);
	return e;
}

static gm_err build_result(struct rs *s, struct gm_resolve_result *out)
{
	uint32_t *order, *slot, n = 0, i, k;
	struct byid *by;
	gm_err e = GM_ENOMEM;

	order = gm_calloc(s->np, sizeof(*order));
	slot = gm_calloc(s->np, sizeof(*slot));
	by = gm_calloc(s->np, sizeof(*by));
	if (!order || !slot || !by)
		goto out_free;
	for (i = 1; i < s->np; i++)
		if (s->p[i].decided != NONE)
			by[n++] = (struct byid){s->p[i].id, i};
	qsort(by, n, sizeof(*by), cmp_pkg_id);
	for (i = 0; i < n; i++)
		order[i] = by[i].pkg;
	out->picks = gm_calloc(n ? n : 1, sizeof(*out->picks));
	if (!out->picks)
		goto out_free;
	for (i = 0; i < n; i++) {
		struct gm_resolve_pick *pk = &out->picks[i];

		slot[order[i]] = i;
		pk->id = gm_strdup(s->p[order[i]].id);
		if (!pk->id)
			goto out_free;
		pk->version = s->p[order[i]].v[s->p[order[i]].decided];
		out->n = i + 1;
	}
	for (i = 0; i <= n; i++) {
		uint32_t pi = i == 0 ? ROOT : order[i - 1];
		const struct vdeps *vd = &s->p[pi].deps[s->p[pi].decided];

		for (k = 0; k < vd->n; k++) {
			uint32_t x = dep_target(s, &vd->d[k]);
			struct gm_resolve_pick *pk;
			struct gm_resolve_reason *r;

			if (x == NONE || s->p[x].decided == NONE)
				continue;
			pk = &out->picks[slot[x]];
			r = gm_reallocarray(pk->by, pk->n_by + 1, sizeof(*r));
			if (!r)
				goto out_free;
			pk->by = r;
			r[pk->n_by].from =
			    pi == ROOT ? GM_RESOLVE_PROJECT : slot[pi];
			r[pk->n_by].req = gm_strdup(vd->d[k].req);
			if (!r[pk->n_by].req)
				goto out_free;
			pk->n_by++;
		}
	}
	for (i = 0; i < n; i++)
		qsort(out->picks[i].by, out->picks[i].n_by,
		      sizeof(*out->picks[i].by), cmp_reason);
	e = GM_OK;
out_free:
	gm_free(order);
	gm_free(slot);
	gm_free(by);
	return e;
}

/* ---- entry point ----------------------------------------------------- */

static void release(struct rs *s)
{
	uint32_t i;

	for (i = 0; i < s->np; i++) {
		gm_free(s->p[i].v);
		gm_free(s->p[i].deps);
		gm_free(s->p[i].inc);
	}
	gm_free(s->p);
	gm_free(s->ht);
	gm_free(s->inc);
	gm_free(s->a);
	gm_free(s->stack);
	gm_free(s->scratch);
	gm_free((void *)s->zero);
	while (s->arena) {
		struct chunk *c = s->arena;

		s->arena = c->next;
		gm_free(c);
	}
}

static gm_err setup_root(struct rs *s, const struct gm_resolve_req *reqs,
			 size_t n)
{
	struct pkg *p;
	struct term t;
	uint32_t pi, ii;
	size_t i;
	gm_err e;

	if ((e = new_pkg(s, "", 0, &pi)))
		return e;
	p = &s->p[pi];
	p->v = gm_calloc(1, sizeof(*p->v));
	p->deps = gm_calloc(1, sizeof(*p->deps));
	p->full = full_set(s, 1, 1);
	if (!p->v || !p->deps || !p->full)
		return GM_ENOMEM;
	p->nv = 1;
	p->nw = 1;
	p->exists = true;
	if (n) {
		p->deps[0].d = arena_alloc(s, n * sizeof(*p->deps[0].d));
		if (!p->deps[0].d)
			return GM_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct rdep *r = &p->deps[0].d[i];
		size_t il = reqs[i].id ? strlen(reqs[i].id) : 0;
		size_t rl = reqs[i].req ? strlen(reqs[i].req) : 0;

		if (il == 0 || il > GM_RESOLVE_MAX_ID || !reqs[i].req ||
		    rl > GM_SEMVER_REQ_MAX_LEN)
			return gm_diag_set(s->d, GM_EINVAL,
					   "requirement %zu of the project has "
					   "an empty or over-long package id "
					   "or requirement",
					   i + 1);
		r->id = arena_strndup(s, reqs[i].id, il);
		r->req = arena_strndup(s, reqs[i].req, rl);
		if (!r->id || !r->req)
			return GM_ENOMEM;
		r->idlen = il;
	}
	p->deps[0].n = (uint32_t)n;
	p->deps[0].fetched = true;
	t = (struct term){ROOT, false, p->full, NULL};
	if ((e = new_inc(s, &t, 1, IK_NOT_ROOT, &ii)))
		return e;
	return activate(s, ii);
}

gm_err gm_resolve(const struct gm_resolve_index *idx,
		  const struct gm_resolve_req *reqs, size_t n_reqs,
		  const struct gm_resolve_limits *lim,
		  struct gm_resolve_result *out, struct gm_diag *d)
{
	struct rs s;
	size_t zw;
	uint32_t next = ROOT, root_inc = NONE;
	bool failed = false, done = false;
	gm_err e;

	if (!idx || !idx->versions || !idx->dependencies || !out ||
	    (n_reqs && !reqs))
		return gm_diag_set(d, GM_EINVAL,
				   "gm_resolve needs an index with both "
				   "callbacks and a result");
	gm_resolve_result_release(out);
	memset(&s, 0, sizeof(s));
	s.idx = idx;
	s.d = d;
	if (lim)
		s.lim = *lim;
	if (!s.lim.max_packages)
		s.lim.max_packages = GM_RESOLVE_DEFAULT_MAX_PACKAGES;
	if (!s.lim.max_versions)
		s.lim.max_versions = GM_RESOLVE_DEFAULT_MAX_VERSIONS;
	if (!s.lim.max_deps)
		s.lim.max_deps = GM_RESOLVE_DEFAULT_MAX_DEPS;
	if (!s.lim.max_steps)
		s.lim.max_steps = GM_RESOLVE_DEFAULT_MAX_STEPS;
	if (s.lim.max_packages > UINT32_MAX / 4 ||
	    s.lim.max_versions > UINT32_MAX / 4 ||
	    s.lim.max_deps > UINT32_MAX / 4)
		return gm_diag_set(d, GM_EINVAL, "resolver limits too large");
	if (n_reqs > s.lim.max_deps)
		return gm_diag_set(d, GM_ELIMIT,
				   "the project has more than %zu "
				   "requirements (the resolver's limit)",
				   s.lim.max_deps);
	zw = s.lim.max_versions / 64 + 1;
	s.zero = gm_calloc(zw, 8);
	s.scratch = gm_calloc(zw, 8);
	s.stack = gm_calloc(s.lim.max_packages + 2, sizeof(*s.stack));
	e = GM_ENOMEM;
	if (!s.zero || !s.scratch || !s.stack)
		goto out_release;
	if ((e = setup_root(&s, reqs, n_reqs)))
		goto out_release;
	for (;;) {
		if ((e = propagate(&s, next, &failed, &root_inc)))
			goto out_release;
		if (failed)
			break;
		done = false;
		if ((e = decide(&s, &next, &done)))
			goto out_release;
		if (done)
			break;
	}
	if (failed) {
		if ((e = explain(&s, root_inc, &out->explanation)))
			goto out_release;
		e = gm_diag_set(d, GM_ECONFLICT, "%s", out->explanation);
		goto out_release;
	}
	if ((e = find_cycle(&s, &out->explanation)))
		goto out_release;
	if (out->explanation) {
		e = gm_diag_set(d, GM_ECONFLICT, "%s", out->explanation);
		goto out_release;
	}
	if ((e = build_result(&s, out)))
		gm_resolve_result_release(out);
out_release:
	out->steps = s.steps;
	out->decisions = s.decisions;
	out->conflicts = s.conflicts;
	release(&s);
	return e;
}
