/*
 * semver.h - Semantic Versioning 2.0.0 and Cargo-style version requirements.
 *
 * struct gm_semver is a value with no heap memory: the pre-release and build
 * metadata texts live in bounded arrays inside it, so versions can be copied
 * with '=' and need no release. Parsing follows semver.org 2.0.0 exactly
 * (no leading zeros in numbers or numeric pre-release identifiers,
 * identifiers of [0-9A-Za-z-] and never empty, numbers fitting uint64); the
 * whole text is at most GM_SEMVER_MAX_LEN bytes.
 *
 * struct gm_semver_req is a requirement in Cargo's syntax, a comma-separated
 * list of comparators that must all match:
 *
 *   text            | meaning
 *   ----------------+------------------------------------------------
 *   1.2.3 / ^1.2.3  | >=1.2.3, <2.0.0   (^0.2.3: <0.3.0, ^0.0.3: <0.0.4)
 *   ^1.2 / ^1       | >=1.2.0, <2.0.0 / >=1.0.0, <2.0.0 (^0.0: <0.1.0,
 *                   | ^0: <1.0.0)
 *   ~1.2.3          | >=1.2.3, <1.3.0  (~1.2: <1.3.0, ~1: <2.0.0)
 *   *, 1.*, 1.2.*   | any, >=1.0.0 <2.0.0, >=1.2.0 <1.3.0 (x or X too)
 *   =, >, >=, <, <= | comparisons; a partial version stands for a range
 *                   | (=1.2 is 1.2.*, >1.2 is >=1.3.0, <=1 is <2.0.0)
 *
 * As in Cargo (the semver crate), a pre-release version only matches when
 * some comparator of the requirement names a pre-release on the same
 * major.minor.patch, e.g. 1.2.3-beta.2 matches ">=1.2.3-beta.1" but not
 * ">=1.2.0". Build metadata is accepted on comparators and ignored.
 */
#ifndef GM_SEMVER_H
#define GM_SEMVER_H

#include "gm/gm.h"

/* Longest version text (and longest pre-release or build text). */
#define GM_SEMVER_MAX_LEN 256
/* Longest requirement text, and most comparators in one requirement. */
#define GM_SEMVER_REQ_MAX_LEN 1024
#define GM_SEMVER_REQ_MAX 32

struct gm_semver {
	uint64_t major;
	uint64_t minor;
	uint64_t patch;
	/* Dot-separated identifiers without the '-' / '+'; "" when absent. */
	char pre[GM_SEMVER_MAX_LEN + 1];
	char build[GM_SEMVER_MAX_LEN + 1];
};

/*
 * Parses exactly len bytes of s as a version. Returns GM_EPARSE (with a
 * message naming the byte and the position, 1-based) or GM_ELIMIT for text
 * longer than GM_SEMVER_MAX_LEN. *out is written only on success.
 */
GM_EXTERN gm_err gm_semver_parse(struct gm_semver *out, const char *s,
				 size_t len, struct gm_diag *d);
/*
 * Precedence comparison: <0, 0 or >0 as a is lower than, equal to or higher
 * than b. Build metadata is ignored, so 1.0.0+a and 1.0.0+b compare equal.
 */
GM_EXTERN int gm_semver_cmp(const struct gm_semver *a,
			    const struct gm_semver *b);
/* a and b equal including build metadata. */
GM_EXTERN bool gm_semver_equal(const struct gm_semver *a,
			       const struct gm_semver *b);
/*
 * Writes v as text into out (NUL terminated when cap > 0, truncated to
 * cap - 1 bytes). Returns the full length of the text, as snprintf does, so
 * a result >= cap means it was truncated. GM_SEMVER_MAX_LEN + 1 bytes always
 * suffice for a parsed version.
 */
GM_EXTERN size_t gm_semver_format(const struct gm_semver *v, char *out,
				  size_t cap);

enum gm_semver_op {
	GM_SEMVER_OP_EXACT,	 /* =   */
	GM_SEMVER_OP_GREATER,	 /* >   */
	GM_SEMVER_OP_GREATER_EQ, /* >= */
	GM_SEMVER_OP_LESS,	 /* <   */
	GM_SEMVER_OP_LESS_EQ,	 /* <=  */
	GM_SEMVER_OP_TILDE,	 /* ~   */
	GM_SEMVER_OP_CARET,	 /* ^ and no operator */
	GM_SEMVER_OP_WILDCARD,	 /* 1.*, 1.2.* */
};

/*
 * One comparator. minor and patch are meaningful only when has_minor /
 * has_patch; the pre-release text (when pre_len > 0, only with a patch) is
 * pre_len bytes at pre_off in the requirement's pool.
 */
struct gm_semver_comparator {
	enum gm_semver_op op;
	bool has_minor;
	bool has_patch;
	uint16_t pre_off;
	uint16_t pre_len;
	uint64_t major;
	uint64_t minor;
	uint64_t patch;
};

/* A requirement; n == 0 is "*" (any release). A value, no heap memory. */
struct gm_semver_req {
	size_t n;
	struct gm_semver_comparator cmp[GM_SEMVER_REQ_MAX];
	size_t pool_len;
	char pool[GM_SEMVER_REQ_MAX_LEN];
};

/*
 * Parses exactly len bytes of s as a requirement. Errors: GM_EPARSE with a
 * message such as "unexpected character '!' at position 5 in requirement
 * '>=1.!'", GM_ELIMIT for text over GM_SEMVER_REQ_MAX_LEN bytes, or whose
 * canonical form (gm_semver_req_format) would be longer than that, or more
 * than GM_SEMVER_REQ_MAX comparators. *out is written only on success.
 */
GM_EXTERN gm_err gm_semver_req_parse(struct gm_semver_req *out, const char *s,
				     size_t len, struct gm_diag *d);
/* Whether v satisfies every comparator of req (with the pre-release rule). */
GM_EXTERN bool gm_semver_req_matches(const struct gm_semver_req *req,
				     const struct gm_semver *v);
/*
 * Writes req in canonical form ("^1.2.3", ">=1.2, <1.5", "1.*", "*") into
 * out, as gm_semver_format does; the text parses back to an equal
 * requirement. GM_SEMVER_REQ_MAX_LEN * 2 bytes always suffice.
 */
GM_EXTERN size_t gm_semver_req_format(const struct gm_semver_req *req,
				      char *out, size_t cap);

#endif
