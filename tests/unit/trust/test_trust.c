/*
 * test_trust.c - trust decisions: sequences, rollback, rotation,
 * revocation, untrusted publishers, equivocation.
 *
 * The functions take verified records; the records here are built by hand
 * (signatures are covered by test_record.c).
 */
#include "harness.h"

#include "gm/trust.h"

static void key_of(uint8_t first, uint8_t pk[32])
{
	struct gm_key k;
	uint8_t seed[32];
	int i;

	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)(first + i);
	ASSERT_OK(gm_key_from_seed(&k, "acme", seed, 0, NULL));
	memcpy(pk, k.pk, 32);
	gm_key_release(&k);
}

static void publisher(struct gm_record *r, const uint8_t *pk, uint64_t seq)
{
	gm_record_init(r, GM_RECORD_PUBLISHER);
	snprintf(r->publisher.handle, sizeof(r->publisher.handle), "acme");
	memcpy(r->publisher.key, pk, 32);
	r->publisher.seq = seq;
	r->publisher.time = 1000 + seq;
}

static void rotation(struct gm_record *r, const uint8_t *old,
		     const uint8_t *new_key, uint64_t seq)
{
	gm_record_init(r, GM_RECORD_ROTATION);
	snprintf(r->rotation.handle, sizeof(r->rotation.handle), "acme");
	memcpy(r->rotation.old_key, old, 32);
	memcpy(r->rotation.new_key, new_key, 32);
	r->rotation.seq = seq;
}

static void revocation(struct gm_record *r, const uint8_t *key,
		       const uint8_t *by, uint64_t after)
{
	gm_record_init(r, GM_RECORD_REVOCATION);
	snprintf(r->revocation.handle, sizeof(r->revocation.handle), "acme");
	memcpy(r->revocation.key, key, 32);
	memcpy(r->revocation.by, by, 32);
	r->revocation.after = after;
	r->revocation.seq = 9;
}

static void release(struct gm_record *r, const char *pkg, const uint8_t *pk,
		    uint64_t seq)
{
	gm_record_init(r, GM_RECORD_RELEASE);
	r->release.package = pkg;
	r->release.version = "1.0.0";
	r->release.kind = GM_PACKAGE_TEMPLATE;
	ASSERT_OK(gm_cid_sha256(&r->release.root, 1, GM_CODEC_RAW,
				(const uint8_t *)"x", 1));
	memcpy(r->release.key, pk, 32);
	r->release.seq = seq;
	r->release.meta.description = "d";
}

static void check(const struct gm_publisher_state *s, const struct gm_record *r,
		  gm_err want, const char *needle)
{
	struct gm_diag d;

	gm_diag_clear(&d);
	ASSERT_ERR(gm_trust_check_release(s, r, &d), want);
	if (needle && !strstr(d.msg, needle))
		gm_test_fail(__FILE__, __LINE__, "diag '%s' lacks '%s'", d.msg,
			     needle);
}

TEST(level_names_round_trip)
{
	enum gm_trust_level t;
	struct gm_diag d;

	ASSERT_STREQ(gm_trust_level_name(GM_TRUST_UNTRUSTED), "untrusted");
	ASSERT_STREQ(gm_trust_level_name(GM_TRUST_ULTIMATE), "ultimate");
	ASSERT_STREQ(gm_trust_level_name((enum gm_trust_level)7), "unknown");
	ASSERT_OK(gm_trust_level_parse("marginal", &t, &d));
	ASSERT_EQ(t, GM_TRUST_MARGINAL);
	ASSERT_OK(gm_trust_level_parse("full", &t, &d));
	ASSERT_EQ(t, 2);
	ASSERT_ERR(gm_trust_level_parse("total", &t, &d), GM_EINVAL);
	ASSERT(strstr(d.msg, "'total'"));
}

TEST(publisher_sequence_rollback_and_replay)
{
	struct gm_publisher_state s;
	struct gm_record r;
	struct gm_diag d;
	uint8_t a[32], b[32];
	bool changed;

	key_of(1, a);
	key_of(0x21, b);
	gm_publisher_state_init(&s, "acme");
	ASSERT(!s.known);
	publisher(&r, a, 5);
	ASSERT_OK(gm_trust_apply_publisher(&s, &r, &changed, &d));
	ASSERT(changed && s.known);
	ASSERT_EQ(s.seq, 5);
	ASSERT_MEMEQ(s.key, a, 32);
	/* equal: no-op */
	ASSERT_OK(gm_trust_apply_publisher(&s, &r, &changed, &d));
	ASSERT(!changed);
	/* seq - 1: rollback */
	publisher(&r, a, 4);
	ASSERT_ERR(gm_trust_apply_publisher(&s, &r, &changed, &d),
		   GM_ECONFLICT);
	ASSERT(strstr(d.msg, "rollback"));
	ASSERT(strstr(d.msg, "sequence 4, older than the known 5"));
	ASSERT_EQ(s.seq, 5);
	/* newer replaces */
	publisher(&r, a, 6);
	ASSERT_OK(gm_trust_apply_publisher(&s, &r, &changed, &d));
	ASSERT(changed);
	ASSERT_EQ(s.seq, 6);
	ASSERT_EQ(s.time, 1006);
	/* another key, even newer: needs a rotation */
	publisher(&r, b, 7);
	ASSERT_ERR(gm_trust_apply_publisher(&s, &r, &changed, &d),
		   GM_ECONFLICT);
	ASSERT(strstr(d.msg, "rotation record"));
	ASSERT_MEMEQ(s.key, a, 32);
	/* another handle */
	publisher(&r, a, 8);
	snprintf(r.publisher.handle, sizeof(r.publisher.handle), "evil");
	ASSERT_ERR(gm_trust_apply_publisher(&s, &r, &changed, &d), GM_EINVAL);
	ASSERT_ERR(gm_trust_apply_rotation(&s, &r, &changed, &d), GM_EINVAL);
}

TEST(rotation_rules)
{
	struct gm_publisher_state s;
	struct gm_record r;
	struct gm_diag d;
	uint8_t a[32], b[32], c[32];
	char fpr[GM_KEY_FPR_MAX];
	bool changed;

	key_of(1, a);
	key_of(0x21, b);
	key_of(0x41, c);
	gm_publisher_state_init(&s, "acme");
	rotation(&r, a, b, 2);
	ASSERT_ERR(gm_trust_apply_rotation(&s, &r, &changed, &d),
		   GM_ECONFLICT);
	publisher(&r, a, 1);
	ASSERT_OK(gm_trust_apply_publisher(&s, &r, NULL, &d));
	s.trust = GM_TRUST_FULL;
	/* Not signed by the current key: refused. */
	rotation(&r, c, b, 2);
	ASSERT_ERR(gm_trust_apply_rotation(&s, &r, &changed, &d),
		   GM_ESIGNATURE);
	gm_key_fingerprint(c, fpr);
	ASSERT(strstr(d.msg, fpr));
	ASSERT(strstr(d.msg, "not its current key"));
	/* Sequence must grow. */
	rotation(&r, a, b, 1);
	ASSERT_ERR(gm_trust_apply_rotation(&s, &r, &changed, &d),
		   GM_ECONFLICT);
	ASSERT(strstr(d.msg, "rollback"));
	rotation(&r, a, b, 2);
	r.rotation.last = 3;
	ASSERT_OK(gm_trust_apply_rotation(&s, &r, &changed, &d));
	ASSERT(changed);
	ASSERT_MEMEQ(s.key, b, 32);
	ASSERT_EQ(s.seq, 2);
	ASSERT_EQ(s.nprev, 1);
	ASSERT_MEMEQ(s.prev[0].successor, b, 32);
	ASSERT_EQ(s.trust, GM_TRUST_FULL);
	/* Replay: no-op. */
	r.rotation.last = 3;
	ASSERT_OK(gm_trust_apply_rotation(&s, &r, &changed, &d));
	ASSERT(!changed);
	/* Back to a key used before: refused. */
	rotation(&r, b, a, 3);
	ASSERT_ERR(gm_trust_apply_rotation(&s, &r, &changed, &d),
		   GM_ECONFLICT);
	ASSERT(strstr(d.msg, "used or revoked before"));
	/* The old key's publisher record no longer applies. */
	publisher(&r, a, 9);
	ASSERT_ERR(gm_trust_apply_publisher(&s, &r, NULL, &d), GM_ECONFLICT);
}

TEST(releases_by_current_previous_and_revoked_keys)
{
	struct gm_publisher_state s;
	struct gm_record r, rel;
	struct gm_diag d;
	uint8_t a[32], b[32], c[32];
	bool changed;

	key_of(1, a);
	key_of(0x21, b);
	key_of(0x41, c);
	gm_publisher_state_init(&s, "acme");
	publisher(&r, a, 1);
	ASSERT_OK(gm_trust_apply_publisher(&s, &r, NULL, &d));
	s.trust = GM_TRUST_MARGINAL;
	release(&rel, "acme/hello", a, 7);
	check(&s, &rel, GM_OK, NULL);
	/* Rotate a -> b; a's last release was 5. */
	rotation(&r, a, b, 2);
	r.rotation.last = 5;
	ASSERT_OK(gm_trust_apply_rotation(&s, &r, NULL, &d));
	release(&rel, "acme/hello", a, 5);
	check(&s, &rel, GM_OK, NULL);
	release(&rel, "acme/hello", a, 6);
	check(&s, &rel, GM_ETRUST, "after that key was rotated out");
	release(&rel, "acme/hello", b, 1);
	check(&s, &rel, GM_OK, NULL);
	release(&rel, "acme/hello", c, 1);
	check(&s, &rel, GM_ETRUST, "not a key of publisher 'acme'");
	/* Revocation of a signed by an unrelated key: refused. */
	revocation(&r, a, c, 2);
	ASSERT_ERR(gm_trust_apply_revocation(&s, &r, &changed, &d),
		   GM_ESIGNATURE);
	ASSERT(strstr(d.msg, "neither that key nor its successor"));
	/* Revocation of a key the handle never had. */
	revocation(&r, c, c, 2);
	ASSERT_ERR(gm_trust_apply_revocation(&s, &r, &changed, &d),
		   GM_ECONFLICT);
	/* b (a's successor) revokes a after release 2. */
	revocation(&r, a, b, 2);
	ASSERT_OK(gm_trust_apply_revocation(&s, &r, &changed, &d));
	ASSERT(changed);
	release(&rel, "acme/hello", a, 2);
	check(&s, &rel, GM_OK, NULL);
	release(&rel, "acme/hello", a, 3);
	check(&s, &rel, GM_ETRUST, "revoked for releases after sequence 2");
	/* A later, looser revocation does not loosen; a stricter one does. */
	revocation(&r, a, a, 4);
	ASSERT_OK(gm_trust_apply_revocation(&s, &r, &changed, &d));
	ASSERT(!changed);
	release(&rel, "acme/hello", a, 3);
	check(&s, &rel, GM_ETRUST, "revoked");
	revocation(&r, a, a, 1);
	ASSERT_OK(gm_trust_apply_revocation(&s, &r, &changed, &d));
	ASSERT(changed);
	release(&rel, "acme/hello", a, 2);
	check(&s, &rel, GM_ETRUST, "after sequence 1");
	/* The current key revokes itself: releases up to 'after' only. */
	revocation(&r, b, b, 0);
	ASSERT_OK(gm_trust_apply_revocation(&s, &r, &changed, &d));
	release(&rel, "acme/hello", b, 0);
	check(&s, &rel, GM_OK, NULL);
	release(&rel, "acme/hello", b, 1);
	check(&s, &rel, GM_ETRUST, "revoked");
	/* And a revoked key cannot rotate. */
	rotation(&r, b, c, 3);
	ASSERT_ERR(gm_trust_apply_rotation(&s, &r, &changed, &d), GM_ETRUST);
}

TEST(untrusted_or_unknown_publisher_shows_fingerprint_and_command)
{
	struct gm_publisher_state s;
	struct gm_record r, rel;
	char fpr[GM_KEY_FPR_MAX], want[200];
	uint8_t a[32];

	key_of(1, a);
	gm_key_fingerprint(a, fpr);
	snprintf(want, sizeof(want), "`ggen market trust add %s`", fpr);
	gm_publisher_state_init(&s, "acme");
	release(&rel, "acme/hello", a, 1);
	check(&s, &rel, GM_ETRUST, want);
	check(&s, &rel, GM_ETRUST, "--trust-new");
	check(&s, &rel, GM_ETRUST, "unknown");
	publisher(&r, a, 1);
	ASSERT_OK(gm_trust_apply_publisher(&s, &r, NULL, NULL));
	ASSERT_EQ(s.trust, GM_TRUST_UNTRUSTED);
	check(&s, &rel, GM_ETRUST, want);
	check(&s, &rel, GM_ETRUST, "is not trusted");
	ASSERT_EQ(gm_err_exit_code(GM_ETRUST), 3);
	s.trust = GM_TRUST_MARGINAL;
	check(&s, &rel, GM_OK, NULL);
	s.trust = GM_TRUST_ULTIMATE;
	check(&s, &rel, GM_OK, NULL);
	/* The namespace must be the handle. */
	release(&rel, "other/hello", a, 1);
	check(&s, &rel, GM_ETRUST, "not in the namespace of publisher 'acme'");
	release(&rel, "acmex/hello", a, 1);
	check(&s, &rel, GM_ETRUST, "namespace");
	/* Not a release. */
	check(&s, &r, GM_EINVAL, "not a release");
}

TEST(equivocation_is_different_content_for_same_version)
{
	struct gm_record x, y;
	uint8_t a[32], b[32];

	key_of(1, a);
	key_of(0x21, b);
	release(&x, "acme/hello", a, 1);
	release(&y, "acme/hello", b, 2);
	ASSERT(!gm_trust_is_equivocation(&x, &y));
	y.release.manifest[0] = 1;
	ASSERT(gm_trust_is_equivocation(&x, &y));
	y.release.manifest[0] = 0;
	ASSERT_OK(gm_cid_sha256(&y.release.root, 1, GM_CODEC_RAW,
				(const uint8_t *)"y", 1));
	ASSERT(gm_trust_is_equivocation(&x, &y));
	ASSERT(gm_trust_is_equivocation(&y, &x));
	y.release.version = "1.0.1";
	ASSERT(!gm_trust_is_equivocation(&x, &y));
	y.release.version = "1.0.0";
	y.release.package = "acme/other";
	ASSERT(!gm_trust_is_equivocation(&x, &y));
	publisher(&y, a, 1);
	ASSERT(!gm_trust_is_equivocation(&x, &y));
}

TEST(state_limits)
{
	struct gm_publisher_state s;
	struct gm_record r;
	struct gm_diag d;
	uint8_t k[GM_TRUST_MAX_KEYS + 2][32];
	size_t i;

	for (i = 0; i < GM_TRUST_MAX_KEYS + 2; i++)
		key_of((uint8_t)(i * 3 + 1), k[i]);
	gm_publisher_state_init(&s, "acme");
	publisher(&r, k[0], 1);
	ASSERT_OK(gm_trust_apply_publisher(&s, &r, NULL, &d));
	for (i = 0; i < GM_TRUST_MAX_KEYS; i++) {
		rotation(&r, k[i], k[i + 1], i + 2);
		r.rotation.last = UINT64_MAX;
		ASSERT_OK(
		    gm_trust_apply_rotation(&s, &r, NULL, &d));
	}
	rotation(&r, k[GM_TRUST_MAX_KEYS], k[GM_TRUST_MAX_KEYS + 1],
		 GM_TRUST_MAX_KEYS + 2);
	ASSERT_ERR(gm_trust_apply_rotation(&s, &r, NULL, &d), GM_ELIMIT);
	ASSERT_MEMEQ(s.key, k[GM_TRUST_MAX_KEYS], 32);
}
