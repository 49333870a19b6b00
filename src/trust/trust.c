/*
 * trust.c - trust decisions over struct gm_publisher_state (see
 * gm/trust.h).
 *
 * State of one handle and how records move it:
 *
 *   | field    | set by                      | meaning                     |
 *   |----------|-----------------------------|-----------------------------|
 *   | key      | first publisher, rotation   | the key releases come from  |
 *   | seq      | publisher, rotation         | only grows (rollback guard) |
 *   | prev[]   | rotation                    | old key, successor, bound   |
 *   | revoked[]| revocation                  | key, last good release seq  |
 *   | trust    | the caller (trust store)    | untrusted .. ultimate       |
 *
 * Every function makes all its checks before its first change, so a
 * refused record never leaves the state half changed.
 */
#include "internal.h"

#include "gm/trust.h"

static const char *const level_names[] = {"untrusted", "marginal", "full",
					  "ultimate"};

const char *gm_trust_level_name(enum gm_trust_level t)
{
	if ((size_t)t < GM_ARRAY_LEN(level_names))
		return level_names[t];
	return "unknown";
}

gm_err gm_trust_level_parse(const char *s, enum gm_trust_level *out,
			    struct gm_diag *d)
{
	size_t i;

	for (i = 0; i < GM_ARRAY_LEN(level_names); i++)
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum gm_trust_level)i;
			return GM_OK;
		}
	return gm_diag_set(d, GM_EINVAL,
			   "unknown trust level '%s': use untrusted, marginal, "
			   "full or ultimate",
			   s);
}

void gm_publisher_state_init(struct gm_publisher_state *s, const char *handle)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->handle, sizeof(s->handle), "%s", handle);
	s->trust = GM_TRUST_UNTRUSTED;
}

static bool same_key(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, GM_KEY_PUBLIC_BYTES) == 0;
}

/* Index of key in s->prev, or s->nprev when absent. */
static size_t prev_index(const struct gm_publisher_state *s, const uint8_t *key)
{
	size_t i;

	for (i = 0; i < s->nprev; i++)
		if (same_key(s->prev[i].key, key))
			break;
	return i;
}

/* Index of key in s->revoked, or s->nrevoked when absent. */
static size_t revoked_index(const struct gm_publisher_state *s,
			    const uint8_t *key)
{
	size_t i;

	for (i = 0; i < s->nrevoked; i++)
		if (same_key(s->revoked[i].key, key))
			break;
	return i;
}

static struct gm_trust_prev_key *find_prev(struct gm_publisher_state *s,
					   const uint8_t *key)
{
	size_t i = prev_index(s, key);

	return i < s->nprev ? &s->prev[i] : NULL;
}

static struct gm_trust_revoked_key *find_revoked(struct gm_publisher_state *s,
						 const uint8_t *key)
{
	size_t i = revoked_index(s, key);

	return i < s->nrevoked ? &s->revoked[i] : NULL;
}

static gm_err check_handle(const struct gm_publisher_state *s,
			   const char *handle, enum gm_record_type t,
			   struct gm_diag *d)
{
	if (strcmp(s->handle, handle) != 0)
		return gm_diag_set(d, GM_EINVAL,
				   "%s record is for handle '%s', not '%s'",
				   gm_record_type_name(t), handle, s->handle);
	return GM_OK;
}

static void set_changed(bool *changed, bool v)
{
	if (changed)
		*changed = v;
}

gm_err gm_trust_apply_publisher(struct gm_publisher_state *s,
				const struct gm_record *r, bool *changed,
				struct gm_diag *d)
{
	const struct gm_rec_publisher *p = &r->publisher;
	char fpr[GM_KEY_FPR_MAX], cur[GM_KEY_FPR_MAX];
	gm_err e;

	set_changed(changed, false);
	if (r->type != GM_RECORD_PUBLISHER)
		return gm_diag_set(d, GM_EINVAL, "not a publisher record");
	e = check_handle(s, p->handle, r->type, d);
	if (e)
		return e;
	gm_key_fingerprint(p->key, fpr);
	if (find_revoked(s, p->key))
		return gm_diag_set(d, GM_ETRUST,
				   "publisher record for '%s' names key %s, "
				   "which is revoked",
				   s->handle, fpr);
	if (!s->known) {
		if (find_prev(s, p->key))
			return gm_diag_set(d, GM_ECONFLICT,
					   "publisher record for '%s' names "
					   "key %s, which it rotated away from",
					   s->handle, fpr);
		memcpy(s->key, p->key, GM_KEY_PUBLIC_BYTES);
		s->seq = p->seq;
		s->time = p->time;
		s->known = true;
		set_changed(changed, true);
		return GM_OK;
	}
	if (p->seq < s->seq)
		return gm_diag_set(d, GM_ECONFLICT,
				   "rollback: publisher record for '%s' has "
				   "sequence %" PRIu64
				   ", older than the known %" PRIu64
				   "; it is ignored",
				   s->handle, p->seq, s->seq);
	if (!same_key(p->key, s->key)) {
		gm_key_fingerprint(s->key, cur);
		return gm_diag_set(d, GM_ECONFLICT,
				   "publisher record for '%s' names key %s, "
				   "but the handle is bound to %s; a new key "
				   "needs a rotation record signed by the "
				   "current key",
				   s->handle, fpr, cur);
	}
	if (p->seq == s->seq)
		return GM_OK;
	s->seq = p->seq;
	s->time = p->time;
	set_changed(changed, true);
	return GM_OK;
}

gm_err gm_trust_apply_rotation(struct gm_publisher_state *s,
			       const struct gm_record *r, bool *changed,
			       struct gm_diag *d)
{
	const struct gm_rec_rotation *rot = &r->rotation;
	char fpr[GM_KEY_FPR_MAX], cur[GM_KEY_FPR_MAX];
	struct gm_trust_prev_key *pk;
	gm_err e;

	set_changed(changed, false);
	if (r->type != GM_RECORD_ROTATION)
		return gm_diag_set(d, GM_EINVAL, "not a rotation record");
	e = check_handle(s, rot->handle, r->type, d);
	if (e)
		return e;
	if (!s->known)
		return gm_diag_set(d, GM_ECONFLICT,
				   "rotation record for '%s', whose publisher "
				   "record is not known yet",
				   s->handle);
	/* Replay of the rotation that is in effect: no-op. */
	pk = find_prev(s, rot->old_key);
	if (pk && same_key(pk->successor, rot->new_key) &&
	    same_key(s->key, rot->new_key) && rot->seq == s->seq)
		return GM_OK;
	if (rot->seq <= s->seq)
		return gm_diag_set(d, GM_ECONFLICT,
				   "rollback: rotation record for '%s' has "
				   "sequence %" PRIu64
				   ", not above the known %" PRIu64,
				   s->handle, rot->seq, s->seq);
	if (!same_key(rot->old_key, s->key)) {
		gm_key_fingerprint(rot->old_key, fpr);
		gm_key_fingerprint(s->key, cur);
		return gm_diag_set(d, GM_ESIGNATURE,
				   "rotation record for '%s' is signed by key "
				   "%s, which is not its current key %s",
				   s->handle, fpr, cur);
	}
	if (find_revoked(s, rot->old_key)) {
		gm_key_fingerprint(rot->old_key, fpr);
		return gm_diag_set(d, GM_ETRUST,
				   "rotation record for '%s' is signed by the "
				   "revoked key %s",
				   s->handle, fpr);
	}
	if (find_prev(s, rot->new_key) || find_revoked(s, rot->new_key)) {
		gm_key_fingerprint(rot->new_key, fpr);
		return gm_diag_set(d, GM_ECONFLICT,
				   "rotation record for '%s' moves to key %s, "
				   "which the handle used or revoked before",
				   s->handle, fpr);
	}
	if (s->nprev == GM_TRUST_MAX_KEYS)
		return gm_diag_set(d, GM_ELIMIT,
				   "handle '%s' has rotated keys more than %d "
				   "times",
				   s->handle, GM_TRUST_MAX_KEYS);
	pk = &s->prev[s->nprev++];
	memcpy(pk->key, rot->old_key, GM_KEY_PUBLIC_BYTES);
	memcpy(pk->successor, rot->new_key, GM_KEY_PUBLIC_BYTES);
	pk->last_seq = rot->last;
	memcpy(s->key, rot->new_key, GM_KEY_PUBLIC_BYTES);
	s->seq = rot->seq;
	s->time = rot->time;
	set_changed(changed, true);
	return GM_OK;
}

gm_err gm_trust_apply_revocation(struct gm_publisher_state *s,
				 const struct gm_record *r, bool *changed,
				 struct gm_diag *d)
{
	const struct gm_rec_revocation *rv = &r->revocation;
	struct gm_trust_prev_key *pk;
	struct gm_trust_revoked_key *old;
	char fpr[GM_KEY_FPR_MAX], byf[GM_KEY_FPR_MAX];
	bool current;
	gm_err e;

	set_changed(changed, false);
	if (r->type != GM_RECORD_REVOCATION)
		return gm_diag_set(d, GM_EINVAL, "not a revocation record");
	e = check_handle(s, rv->handle, r->type, d);
	if (e)
		return e;
	gm_key_fingerprint(rv->key, fpr);
	current = s->known && same_key(rv->key, s->key);
	pk = find_prev(s, rv->key);
	if (!current && !pk)
		return gm_diag_set(d, GM_ECONFLICT,
				   "revocation record names key %s, which is "
				   "not a key of '%s'",
				   fpr, s->handle);
	if (!same_key(rv->by, rv->key) &&
	    !(pk && same_key(rv->by, pk->successor))) {
		gm_key_fingerprint(rv->by, byf);
		return gm_diag_set(d, GM_ESIGNATURE,
				   "revocation of key %s of '%s' is signed by "
				   "%s, which is neither that key nor its "
				   "successor",
				   fpr, s->handle, byf);
	}
	old = find_revoked(s, rv->key);
	if (old) {
		if (rv->after < old->after) {
			old->after = rv->after;
			set_changed(changed, true);
		}
		return GM_OK;
	}
	if (s->nrevoked == GM_TRUST_MAX_KEYS)
		return gm_diag_set(d, GM_ELIMIT,
				   "handle '%s' has more than %d revoked keys",
				   s->handle, GM_TRUST_MAX_KEYS);
	old = &s->revoked[s->nrevoked++];
	memcpy(old->key, rv->key, GM_KEY_PUBLIC_BYTES);
	old->after = rv->after;
	set_changed(changed, true);
	return GM_OK;
}

gm_err gm_trust_check_release(const struct gm_publisher_state *s,
			      const struct gm_record *r, struct gm_diag *d)
{
	const struct gm_rec_release *rel = &r->release;
	const struct gm_trust_prev_key *pk;
	const struct gm_trust_revoked_key *rk;
	char fpr[GM_KEY_FPR_MAX];
	size_t nslen, i;
	const char *slash;

	if (r->type != GM_RECORD_RELEASE)
		return gm_diag_set(d, GM_EINVAL, "not a release record");
	gm_key_fingerprint(rel->key, fpr);
	slash = strchr(rel->package, '/');
	nslen = slash ? (size_t)(slash - rel->package) : 0;
	if (!slash || nslen != strlen(s->handle) ||
	    memcmp(rel->package, s->handle, nslen) != 0)
		return gm_diag_set(d, GM_ETRUST,
				   "release %s@%s is not in the namespace of "
				   "publisher '%s'",
				   rel->package, rel->version, s->handle);
	if (!s->known)
		return gm_diag_set(d, GM_ETRUST,
				   "publisher '%s' is unknown: %s@%s is signed "
				   "by key %s; if you trust it, run `ggen "
				   "market trust add %s` or pass --trust-new",
				   s->handle, rel->package, rel->version, fpr,
				   fpr);
	pk = NULL;
	if (!same_key(rel->key, s->key)) {
		i = prev_index(s, rel->key);
		pk = i < s->nprev ? &s->prev[i] : NULL;
		if (!pk)
			return gm_diag_set(d, GM_ETRUST,
					   "%s@%s is signed by key %s, which "
					   "is not a key of publisher '%s'",
					   rel->package, rel->version, fpr,
					   s->handle);
		if (rel->seq > pk->last_seq)
			return gm_diag_set(
			    d, GM_ETRUST,
			    "%s@%s is signed by key %s with release "
			    "sequence %" PRIu64
			    ", after that key was rotated out (its last "
			    "release was %" PRIu64 ")",
			    rel->package, rel->version, fpr, rel->seq,
			    pk->last_seq);
	}
	i = revoked_index(s, rel->key);
	rk = i < s->nrevoked ? &s->revoked[i] : NULL;
	if (rk && rel->seq > rk->after)
		return gm_diag_set(d, GM_ETRUST,
				   "%s@%s is signed by key %s, revoked for "
				   "releases after sequence %" PRIu64
				   " (this one is %" PRIu64 ")",
				   rel->package, rel->version, fpr, rk->after,
				   rel->seq);
	if (s->trust < GM_TRUST_MARGINAL)
		return gm_diag_set(d, GM_ETRUST,
				   "publisher '%s' (key %s) is not trusted; "
				   "if you trust it, run `ggen market trust "
				   "add %s` or pass --trust-new",
				   s->handle, fpr, fpr);
	return GM_OK;
}

bool gm_trust_is_equivocation(const struct gm_record *a,
			      const struct gm_record *b)
{
	const struct gm_rec_release *x = &a->release, *y = &b->release;

	if (a->type != GM_RECORD_RELEASE || b->type != GM_RECORD_RELEASE ||
	    strcmp(x->package, y->package) != 0 ||
	    strcmp(x->version, y->version) != 0)
		return false;
	return !gm_cid_equal(&x->root, &y->root) ||
	       memcmp(x->manifest, y->manifest, sizeof(x->manifest)) != 0;
}
