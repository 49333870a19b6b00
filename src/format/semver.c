/*
 * semver.c - SemVer 2.0.0 versions and Cargo-style requirements (see
 * gm/semver.h).
 *
 * Grammar accepted for a version (semver.org 2.0.0, section "BNF"):
 *
 *   version  = core [ "-" pre ] [ "+" build ]
 *   core     = num "." num "." num       num: "0" | [1-9][0-9]*, fits uint64
 *   pre      = pid *( "." pid )          pid: num | [0-9A-Za-z-]* with a
 *                                        non-digit
 *   build    = bid *( "." bid )          bid: [0-9A-Za-z-]+
 *
 * A requirement is a list of comparators separated by ',' (spaces allowed
 * around operators and commas), or a lone '*' / 'x' / 'X':
 *
 *   comparator = [ op ] [ " "* ] num [ "." ( num | wild ) [ "." ( num | wild )
 *                [ "-" pre ] [ "+" build ] ] ]
 *   op         = "=" | ">" | ">=" | "<" | "<=" | "~" | "^"
 *
 * Matching follows the semver crate that Cargo uses: each operator compares
 * field by field with absent minor/patch widening the range, and a
 * pre-release version must also be named by a comparator with a pre-release
 * on the same major.minor.patch.
 */
#include "internal.h"

#include "gm/semver.h"

/* Printable copy of input for messages (non-printing bytes become '?'). */
static void show(char *buf, size_t cap, const char *s, size_t len)
{
	size_t i, n = len < cap - 4 ? len : cap - 4;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (n < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
}

/* Describes one input byte for messages: "'q'" or "byte 0x01". */
static void show_char(char *buf, size_t cap, unsigned char c)
{
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, cap, "'%c'", c);
	else
		snprintf(buf, cap, "byte 0x%02x", c);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_ident_char(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '-';
}

/* What a parse is reading, for messages. */
struct ctx {
	const char *s;
	size_t len;
	const char *kind; /* "version" or "requirement" */
	struct gm_diag *d;
};

static gm_err bad_char(const struct ctx *c, size_t off, const char *expect)
{
	char text[80], ch[16];

	show(text, sizeof(text), c->s, c->len);
	if (off >= c->len)
		return gm_diag_set(c->d, GM_EPARSE,
				   "%s '%s' ends early: expected %s", c->kind,
				   text, expect);
	show_char(ch, sizeof(ch), (unsigned char)c->s[off]);
	return gm_diag_set(c->d, GM_EPARSE,
			   "unexpected character %s at position %zu in %s "
			   "'%s': expected %s",
			   ch, off + 1, c->kind, text, expect);
}

/* Reads a number (no leading zero, fits uint64) at *off. */
static gm_err parse_num(const struct ctx *c, size_t *off, uint64_t *out,
			const char *what)
{
	size_t i = *off;
	uint64_t v = 0;
	char text[80];

	if (i >= c->len || !is_digit(c->s[i]))
		return bad_char(c, i, what);
	if (c->s[i] == '0' && i + 1 < c->len && is_digit(c->s[i + 1])) {
		show(text, sizeof(text), c->s, c->len);
		return gm_diag_set(c->d, GM_EPARSE,
				   "leading zero in %s at position %zu of %s "
				   "'%s'",
				   what, i + 1, c->kind, text);
	}
	while (i < c->len && is_digit(c->s[i])) {
		unsigned dig = (unsigned)(c->s[i] - '0');

		if (v > (UINT64_MAX - dig) / 10) {
			show(text, sizeof(text), c->s, c->len);
			return gm_diag_set(c->d, GM_EPARSE,
					   "%s at position %zu of %s '%s' is "
					   "larger than %" PRIu64,
					   what, *off + 1, c->kind, text,
					   UINT64_MAX);
		}
		v = v * 10 + dig;
		i++;
	}
	*out = v;
	*off = i;
	return GM_OK;
}

/*
 * Reads dot-separated identifiers at *off (after '-' or '+'), stopping at
 * the first byte that cannot continue them. pre selects the pre-release
 * rule (no leading zero in numeric identifiers).
 */
static gm_err parse_idents(const struct ctx *c, size_t *off, bool pre)
{
	const char *what =
	    pre ? "a pre-release identifier" : "a build metadata identifier";
	size_t i = *off;
	char text[80];

	for (;;) {
		size_t start = i;
		bool numeric = true;

		while (i < c->len && is_ident_char(c->s[i])) {
			if (!is_digit(c->s[i]))
				numeric = false;
			i++;
		}
		if (i == start)
			return bad_char(c, i, what);
		if (pre && numeric && i - start > 1 && c->s[start] == '0') {
			show(text, sizeof(text), c->s, c->len);
			return gm_diag_set(c->d, GM_EPARSE,
					   "leading zero in numeric "
					   "pre-release identifier at "
					   "position %zu of %s '%s'",
					   start + 1, c->kind, text);
		}
		if (i < c->len && c->s[i] == '.') {
			i++;
			continue;
		}
		break;
	}
	*off = i;
	return GM_OK;
}

gm_err gm_semver_parse(struct gm_semver *out, const char *s, size_t len,
		       struct gm_diag *d)
{
	struct ctx c = {s, len, "version", d};
	struct gm_semver v;
	size_t off = 0, start;
	gm_err e;

	if (len == 0)
		return gm_diag_set(d, GM_EPARSE,
				   "empty version: expected "
				   "major.minor.patch such as 1.0.0");
	if (len > GM_SEMVER_MAX_LEN)
		return gm_diag_set(d, GM_ELIMIT,
				   "version is %zu bytes long, more than the "
				   "limit of %d",
				   len, GM_SEMVER_MAX_LEN);
	memset(&v, 0, sizeof(v));
	e = parse_num(&c, &off, &v.major, "the major version number");
	if (e)
		return e;
	if (off >= len || s[off] != '.')
		return bad_char(&c, off, "'.' after the major version number");
	off++;
	e = parse_num(&c, &off, &v.minor, "the minor version number");
	if (e)
		return e;
	if (off >= len || s[off] != '.')
		return bad_char(&c, off, "'.' after the minor version number");
	off++;
	e = parse_num(&c, &off, &v.patch, "the patch version number");
	if (e)
		return e;
	if (off < len && s[off] == '-') {
		start = ++off;
		e = parse_idents(&c, &off, true);
		if (e)
			return e;
		memcpy(v.pre, s + start, off - start);
		v.pre[off - start] = '\0';
	}
	if (off < len && s[off] == '+') {
		start = ++off;
		e = parse_idents(&c, &off, false);
		if (e)
			return e;
		memcpy(v.build, s + start, off - start);
		v.build[off - start] = '\0';
	}
	if (off < len)
		return bad_char(&c, off,
				v.build[0] ? "the end of the version"
				: v.pre[0]
				    ? "'+' or the end of the version"
				    : "'-', '+' or the end of the version");
	*out = v;
	return GM_OK;
}

static bool all_digits(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

/*
 * Precedence of two pre-release texts (dot-separated identifiers; empty
 * means a release, which is higher than any pre-release).
 */
static int cmp_pre(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t ai = 0, bi = 0;

	if (alen == 0 || blen == 0)
		return (alen == 0) - (blen == 0);
	while (ai < alen && bi < blen) {
		size_t ae = ai, be = bi, n;
		bool an, bn;
		int r;

		while (ae < alen && a[ae] != '.')
			ae++;
		while (be < blen && b[be] != '.')
			be++;
		an = all_digits(a + ai, ae - ai);
		bn = all_digits(b + bi, be - bi);
		if (an != bn)
			return an ? -1 : 1;
		if (an && ae - ai != be - bi)
			return ae - ai < be - bi ? -1 : 1;
		n = ae - ai < be - bi ? ae - ai : be - bi;
		r = memcmp(a + ai, b + bi, n);
		if (r)
			return r < 0 ? -1 : 1;
		if (ae - ai != be - bi)
			return ae - ai < be - bi ? -1 : 1;
		ai = ae + 1;
		bi = be + 1;
	}
	/* Whichever has identifiers left is higher. */
	return (ai < alen) - (bi < blen);
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

int gm_semver_cmp(const struct gm_semver *a, const struct gm_semver *b)
{
	int r = cmp_u64(a->major, b->major);

	if (!r)
		r = cmp_u64(a->minor, b->minor);
	if (!r)
		r = cmp_u64(a->patch, b->patch);
	if (!r)
		r = cmp_pre(a->pre, strlen(a->pre), b->pre, strlen(b->pre));
	return r;
}

bool gm_semver_equal(const struct gm_semver *a, const struct gm_semver *b)
{
	return gm_semver_cmp(a, b) == 0 && strcmp(a->build, b->build) == 0;
}

/* snprintf that keeps a running length and never writes past cap. */
struct out {
	char *p;
	size_t cap;
	size_t len;
};

static void out_printf(struct out *o, const char *fmt, ...) GM_PRINTF(2, 3);

static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (o->len < o->cap)
		n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	else
		n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

size_t gm_semver_format(const struct gm_semver *v, char *out, size_t cap)
{
	struct out o = {out, cap, 0};

	if (cap)
		out[0] = '\0';
	out_printf(&o, "%" PRIu64 ".%" PRIu64 ".%" PRIu64, v->major, v->minor,
		   v->patch);
	if (v->pre[0])
		out_printf(&o, "-%s", v->pre);
	if (v->build[0])
		out_printf(&o, "+%s", v->build);
	return o.len;
}

/* ---- requirements ---- */

static size_t skip_spaces(const char *s, size_t len, size_t off)
{
	while (off < len && s[off] == ' ')
		off++;
	return off;
}

static bool is_wild(char c)
{
	return c == '*' || c == 'x' || c == 'X';
}

static gm_err parse_comparator(const struct ctx *c, size_t *off,
			       struct gm_semver_req *req)
{
	struct gm_semver_comparator cmp;
	const char *s = c->s;
	size_t i = *off, start;
	bool explicit_op = true, wild = false;
	gm_err e;

	memset(&cmp, 0, sizeof(cmp));
	if (i < c->len && s[i] == '=') {
		cmp.op = GM_SEMVER_OP_EXACT;
		i++;
	} else if (i < c->len && s[i] == '>') {
		i++;
		cmp.op = GM_SEMVER_OP_GREATER;
		if (i < c->len && s[i] == '=') {
			cmp.op = GM_SEMVER_OP_GREATER_EQ;
			i++;
		}
	} else if (i < c->len && s[i] == '<') {
		i++;
		cmp.op = GM_SEMVER_OP_LESS;
		if (i < c->len && s[i] == '=') {
			cmp.op = GM_SEMVER_OP_LESS_EQ;
			i++;
		}
	} else if (i < c->len && s[i] == '~') {
		cmp.op = GM_SEMVER_OP_TILDE;
		i++;
	} else if (i < c->len && s[i] == '^') {
		cmp.op = GM_SEMVER_OP_CARET;
		i++;
	} else {
		cmp.op = GM_SEMVER_OP_CARET;
		explicit_op = false;
	}
	i = skip_spaces(s, c->len, i);
	if (i < c->len && is_wild(s[i])) {
		char ch[16];

		show_char(ch, sizeof(ch), (unsigned char)s[i]);
		if (explicit_op)
			return bad_char(c, i, "the major version number");
		return gm_diag_set(c->d, GM_EPARSE,
				   "wildcard %s at position %zu must be the "
				   "only comparator of a requirement",
				   ch, i + 1);
	}
	e = parse_num(c, &i, &cmp.major, "the major version number");
	if (e)
		return e;
	if (i < c->len && s[i] == '.') {
		i++;
		if (i < c->len && is_wild(s[i])) {
			wild = true;
			i++;
		} else {
			e = parse_num(c, &i, &cmp.minor,
				      "the minor version number or '*'");
			if (e)
				return e;
			cmp.has_minor = true;
		}
	}
	if (i < c->len && s[i] == '.') {
		i++;
		if (i < c->len && is_wild(s[i])) {
			wild = true;
			i++;
		} else if (wild) {
			return bad_char(c, i, "'*' after a wildcard");
		} else {
			e = parse_num(c, &i, &cmp.patch,
				      "the patch version number or '*'");
			if (e)
				return e;
			cmp.has_patch = true;
		}
	}
	if (wild && !explicit_op)
		cmp.op = GM_SEMVER_OP_WILDCARD;
	if (cmp.has_patch && i < c->len && s[i] == '-') {
		start = ++i;
		e = parse_idents(c, &i, true);
		if (e)
			return e;
		/* The pool holds less than the whole text: always fits. */
		GM_ASSERT(req->pool_len + (i - start) <= sizeof(req->pool));
		memcpy(req->pool + req->pool_len, s + start, i - start);
		cmp.pre_off = (uint16_t)req->pool_len;
		cmp.pre_len = (uint16_t)(i - start);
		req->pool_len += i - start;
	}
	if (cmp.has_patch && i < c->len && s[i] == '+') {
		i++;
		e = parse_idents(c, &i, false);
		if (e)
			return e;
	}
	if (i < c->len && s[i] == '-' && !cmp.has_patch) {
		char text[80];

		show(text, sizeof(text), s, c->len);
		return gm_diag_set(c->d, GM_EPARSE,
				   "pre-release at position %zu of requirement "
				   "'%s' needs a full major.minor.patch "
				   "version",
				   i + 1, text);
	}
	req->cmp[req->n++] = cmp;
	*off = skip_spaces(s, c->len, i);
	return GM_OK;
}

gm_err gm_semver_req_parse(struct gm_semver_req *out, const char *s, size_t len,
			   struct gm_diag *d)
{
	struct ctx c = {s, len, "requirement", d};
	struct gm_semver_req tmp, *req = &tmp;
	size_t off, canon;
	gm_err e = GM_OK;

	if (len > GM_SEMVER_REQ_MAX_LEN)
		return gm_diag_set(d, GM_ELIMIT,
				   "version requirement is %zu bytes long, "
				   "more than the limit of %d",
				   len, GM_SEMVER_REQ_MAX_LEN);
	req->n = 0;
	req->pool_len = 0;
	off = skip_spaces(s, len, 0);
	if (off == len) {
		e = gm_diag_set(d, GM_EPARSE,
				"empty version requirement: write a version "
				"such as 1.2 or '*' for any");
		goto out_fail;
	}
	if (is_wild(s[off])) {
		size_t next = skip_spaces(s, len, off + 1);

		if (next == len)
			goto out_done;
		if (s[next] == ',') {
			char ch[16];

			show_char(ch, sizeof(ch), (unsigned char)s[off]);
			e = gm_diag_set(d, GM_EPARSE,
					"wildcard %s at position %zu must be "
					"the only comparator of a requirement",
					ch, off + 1);
			goto out_fail;
		}
		e = bad_char(&c, next, "',' or the end after a wildcard");
		goto out_fail;
	}
	for (;;) {
		if (req->n == GM_SEMVER_REQ_MAX) {
			e = gm_diag_set(d, GM_ELIMIT,
					"version requirement has more than %d "
					"comparators",
					GM_SEMVER_REQ_MAX);
			goto out_fail;
		}
		e = parse_comparator(&c, &off, req);
		if (e)
			goto out_fail;
		if (off == len)
			break;
		if (s[off] != ',') {
			e = bad_char(&c, off,
				     "',' or the end of the "
				     "requirement");
			goto out_fail;
		}
		off = skip_spaces(s, len, off + 1);
	}
out_done:
	/*
	 * The canonical form adds '^' and ", " and could outgrow the limit,
	 * and then it would not parse back: refuse such a requirement here.
	 */
	canon = gm_semver_req_format(req, NULL, 0);
	if (canon > GM_SEMVER_REQ_MAX_LEN) {
		e = gm_diag_set(d, GM_ELIMIT,
				"version requirement is %zu bytes long when "
				"written in canonical form, more than the "
				"limit of %d",
				canon, GM_SEMVER_REQ_MAX_LEN);
		goto out_fail;
	}
	memcpy(out, req, sizeof(*req));
out_fail:
	return e;
}

/* Pre-release of a comparator against that of a version. */
static int cmp_pre_of(const struct gm_semver_req *req,
		      const struct gm_semver_comparator *c,
		      const struct gm_semver *v)
{
	return cmp_pre(v->pre, strlen(v->pre), req->pool + c->pre_off,
		       c->pre_len);
}

/* v equal to c on the fields c has, and the same pre-release. */
static bool match_exact(const struct gm_semver_req *req,
			const struct gm_semver_comparator *c,
			const struct gm_semver *v)
{
	if (v->major != c->major)
		return false;
	if (c->has_minor && v->minor != c->minor)
		return false;
	if (c->has_patch && v->patch != c->patch)
		return false;
	return cmp_pre_of(req, c, v) == 0;
}

/*
 * Sign of v against c on the fields c has: 0 when the present fields and
 * the pre-release are equal; an absent field is a wildcard, so any v with
 * equal leading fields gives 0 (tested through present).
 */
static int order(const struct gm_semver_req *req,
		 const struct gm_semver_comparator *c,
		 const struct gm_semver *v, bool *partial)
{
	int r = cmp_u64(v->major, c->major);

	*partial = false;
	if (r)
		return r;
	if (!c->has_minor) {
		*partial = true;
		return 0;
	}
	r = cmp_u64(v->minor, c->minor);
	if (r)
		return r;
	if (!c->has_patch) {
		*partial = true;
		return 0;
	}
	r = cmp_u64(v->patch, c->patch);
	if (r)
		return r;
	return cmp_pre_of(req, c, v);
}

static bool match_caret(const struct gm_semver_req *req,
			const struct gm_semver_comparator *c,
			const struct gm_semver *v)
{
	if (v->major != c->major)
		return false;
	if (!c->has_minor)
		return true;
	if (!c->has_patch)
		return c->major > 0 ? v->minor >= c->minor
				    : v->minor == c->minor;
	if (c->major > 0) {
		if (v->minor != c->minor)
			return v->minor > c->minor;
		if (v->patch != c->patch)
			return v->patch > c->patch;
	} else if (c->minor > 0) {
		if (v->minor != c->minor)
			return false;
		if (v->patch != c->patch)
			return v->patch > c->patch;
	} else if (v->minor != c->minor || v->patch != c->patch) {
		return false;
	}
	return cmp_pre_of(req, c, v) >= 0;
}

static bool match_tilde(const struct gm_semver_req *req,
			const struct gm_semver_comparator *c,
			const struct gm_semver *v)
{
	if (v->major != c->major)
		return false;
	if (c->has_minor && v->minor != c->minor)
		return false;
	if (c->has_patch && v->patch != c->patch)
		return v->patch > c->patch;
	return cmp_pre_of(req, c, v) >= 0;
}

static bool match_one(const struct gm_semver_req *req,
		      const struct gm_semver_comparator *c,
		      const struct gm_semver *v)
{
	bool partial;
	int r;

	switch (c->op) {
	case GM_SEMVER_OP_EXACT:
	case GM_SEMVER_OP_WILDCARD:
		return match_exact(req, c, v);
	case GM_SEMVER_OP_GREATER:
		r = order(req, c, v, &partial);
		return !partial && r > 0;
	case GM_SEMVER_OP_GREATER_EQ:
		r = order(req, c, v, &partial);
		return match_exact(req, c, v) || (!partial && r > 0);
	case GM_SEMVER_OP_LESS:
		r = order(req, c, v, &partial);
		return !partial && r < 0;
	case GM_SEMVER_OP_LESS_EQ:
		r = order(req, c, v, &partial);
		return match_exact(req, c, v) || (!partial && r < 0);
	case GM_SEMVER_OP_TILDE:
		return match_tilde(req, c, v);
	case GM_SEMVER_OP_CARET:
		return match_caret(req, c, v);
	}
	return false;
}

bool gm_semver_req_matches(const struct gm_semver_req *req,
			   const struct gm_semver *v)
{
	size_t i;

	for (i = 0; i < req->n; i++)
		if (!match_one(req, &req->cmp[i], v))
			return false;
	if (!v->pre[0])
		return true;
	/* A pre-release needs a comparator naming one on its own x.y.z. */
	for (i = 0; i < req->n; i++) {
		const struct gm_semver_comparator *c = &req->cmp[i];

		if (c->pre_len && c->major == v->major &&
		    c->minor == v->minor && c->patch == v->patch)
			return true;
	}
	return false;
}

size_t gm_semver_req_format(const struct gm_semver_req *req, char *out,
			    size_t cap)
{
	static const char *const ops[] = {
	    [GM_SEMVER_OP_EXACT] = "=",	      [GM_SEMVER_OP_GREATER] = ">",
	    [GM_SEMVER_OP_GREATER_EQ] = ">=", [GM_SEMVER_OP_LESS] = "<",
	    [GM_SEMVER_OP_LESS_EQ] = "<=",    [GM_SEMVER_OP_TILDE] = "~",
	    [GM_SEMVER_OP_CARET] = "^",	      [GM_SEMVER_OP_WILDCARD] = "",
	};
	struct out o = {out, cap, 0};
	size_t i;

	if (cap)
		out[0] = '\0';
	if (req->n == 0)
		out_printf(&o, "*");
	for (i = 0; i < req->n; i++) {
		const struct gm_semver_comparator *c = &req->cmp[i];

		out_printf(&o, "%s%s%" PRIu64, i ? ", " : "", ops[c->op],
			   c->major);
		if (c->has_minor)
			out_printf(&o, ".%" PRIu64, c->minor);
		if (c->has_patch)
			out_printf(&o, ".%" PRIu64, c->patch);
		if (c->op == GM_SEMVER_OP_WILDCARD)
			out_printf(&o, ".*");
		if (c->pre_len)
			out_printf(&o, "-%.*s", (int)c->pre_len,
				   req->pool + c->pre_off);
	}
	return o.len;
}
