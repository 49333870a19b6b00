/*
 * fuzz_toml.c - libFuzzer target for the TOML reader.
 *
 * For every input that parses, it walks the whole tree through the public
 * accessors and checks the invariants a caller relies on:
 *
 *   what                 | invariant
 *   ---------------------+---------------------------------------------------
 *   every value          | type in range, line and column >= 1, depth within
 *                        | GM_TOML_MAX_DEPTH
 *   tables               | each key NUL-terminated at its length; keys are
 *                        | unique; gm_toml_table_get() finds the same value
 *   strings              | NUL-terminated at their length, valid UTF-8
 *   date/times           | normalized: 'T', 'Z', seconds present
 *   the whole tree       | written back as TOML (inline form) it parses to
 *                        | an equal tree: decode(encode(decode(x))) ==
 *                        | decode(x)
 *
 * A failed parse must leave the handle NULL and give a position.
 */
#include "internal.h"

#include <math.h>

#include "gm/buf.h"
#include "gm/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
	fprintf(stderr, "fuzz_toml: invariant broken: %s\n", what);
	abort();
}

static bool utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t need, k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			need = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			need = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + need >= n)
			return false;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += need + 1;
	}
	return true;
}

static void check_datetime(const struct gm_toml_value *v)
{
	const char *s = gm_toml_datetime(v);
	enum gm_toml_type t = gm_toml_type(v);
	size_t n = strlen(s), tpos;

	if (t == GM_TOML_DATE_LOCAL) {
		if (n != 10 || s[4] != '-' || s[7] != '-')
			die("local date not YYYY-MM-DD");
		return;
	}
	tpos = t == GM_TOML_TIME_LOCAL ? 0 : 11;
	if (tpos && s[10] != 'T')
		die("date-time separator is not 'T'");
	if (n < tpos + 8 || s[tpos + 2] != ':' || s[tpos + 5] != ':')
		die("time without seconds");
	if (t == GM_TOML_DATETIME && s[n - 1] != 'Z' && s[n - 6] != '+' &&
	    s[n - 6] != '-')
		die("offset date-time without offset");
	if (t != GM_TOML_DATETIME && (strchr(s, 'Z') || strchr(s, 'z')))
		die("local date-time with a zone");
	if (strchr(s, 't') || strchr(s, 'z') || strchr(s, ' '))
		die("date-time not normalized");
}

static void walk(const struct gm_toml_value *v, unsigned depth)
{
	enum gm_toml_type t = gm_toml_type(v);
	uint32_t line, col;
	size_t i, j, n, kl, kl2;

	if (depth > GM_TOML_MAX_DEPTH)
		die("tree deeper than the limit");
	gm_toml_pos(v, &line, &col);
	if (line < 1 || col < 1)
		die("value position not 1-based");
	switch (t) {
	case GM_TOML_TABLE:
		n = gm_toml_table_len(v);
		if (gm_toml_array_len(v) != 0)
			die("table has an array length");
		for (i = 0; i < n; i++) {
			const char *k = gm_toml_table_key(v, i, &kl);

			if (k[kl] != '\0')
				die("key not NUL-terminated");
			if (!utf8_ok((const unsigned char *)k, kl))
				die("key not UTF-8");
			gm_toml_table_key_pos(v, i, &line, &col);
			if (line < 1 || col < 1)
				die("key position not 1-based");
			if (strlen(k) == kl && gm_toml_table_get(v, k) !=
						   gm_toml_table_value(v, i))
				die("table_get disagrees with the entry");
			/* uniqueness, bounded so big tables stay fast */
			for (j = i + 1; j < n && j < i + 64; j++) {
				const char *k2 = gm_toml_table_key(v, j, &kl2);

				if (kl == kl2 && memcmp(k, k2, kl) == 0)
					die("duplicate key in a table");
			}
			walk(gm_toml_table_value(v, i), depth + 1);
		}
		break;
	case GM_TOML_ARRAY:
		n = gm_toml_array_len(v);
		if (gm_toml_table_len(v) != 0)
			die("array has a table length");
		for (i = 0; i < n; i++) {
			const struct gm_toml_value *item =
			    gm_toml_array_get(v, i);

			if (!item)
				die("NULL array item");
			walk(item, depth + 1);
		}
		break;
	case GM_TOML_STRING: {
		const char *s = gm_toml_string(v, &n);

		if (s[n] != '\0')
			die("string not NUL-terminated");
		if (!utf8_ok((const unsigned char *)s, n))
			die("string not UTF-8");
		break;
	}
	case GM_TOML_INTEGER:
		(void)gm_toml_integer(v);
		break;
	case GM_TOML_FLOAT:
		(void)gm_toml_float(v);
		break;
	case GM_TOML_BOOL:
		(void)gm_toml_bool(v);
		break;
	case GM_TOML_DATETIME:
	case GM_TOML_DATETIME_LOCAL:
	case GM_TOML_DATE_LOCAL:
	case GM_TOML_TIME_LOCAL:
		check_datetime(v);
		break;
	default:
		die("unknown value type");
	}
}

static void put(struct gm_buf *b, const char *s)
{
	if (gm_buf_append_str(b, s))
		die("out of memory");
}

static void put_quoted(struct gm_buf *b, const char *s, size_t n)
{
	size_t i;

	put(b, "\"");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7F || c == '"' || c == '\\') {
			if (gm_buf_printf(b, "\\u%04X", c))
				die("out of memory");
		} else if (gm_buf_append_byte(b, c)) {
			die("out of memory");
		}
	}
	put(b, "\"");
}

/* Writes v as an inline TOML value. */
static void encode(struct gm_buf *b, const struct gm_toml_value *v)
{
	size_t i, n, kl;
	const char *s;
	char num[64];
	double f;

	switch (gm_toml_type(v)) {
	case GM_TOML_TABLE:
		put(b, "{");
		n = gm_toml_table_len(v);
		for (i = 0; i < n; i++) {
			s = gm_toml_table_key(v, i, &kl);
			put(b, i ? ", " : " ");
			put_quoted(b, s, kl);
			put(b, " = ");
			encode(b, gm_toml_table_value(v, i));
		}
		put(b, " }");
		break;
	case GM_TOML_ARRAY:
		put(b, "[");
		n = gm_toml_array_len(v);
		for (i = 0; i < n; i++) {
			put(b, i ? ", " : "");
			encode(b, gm_toml_array_get(v, i));
		}
		put(b, "]");
		break;
	case GM_TOML_STRING:
		s = gm_toml_string(v, &n);
		put_quoted(b, s, n);
		break;
	case GM_TOML_INTEGER:
		snprintf(num, sizeof(num), "%" PRId64, gm_toml_integer(v));
		put(b, num);
		break;
	case GM_TOML_FLOAT:
		f = gm_toml_float(v);
		if (isnan(f)) {
			put(b, "nan");
		} else if (isinf(f)) {
			put(b, f < 0 ? "-inf" : "inf");
		} else {
			snprintf(num, sizeof(num), "%.17g", f);
			put(b, num);
			if (!strpbrk(num, ".e"))
				put(b, ".0");
		}
		break;
	case GM_TOML_BOOL:
		put(b, gm_toml_bool(v) ? "true" : "false");
		break;
	default:
		put(b, gm_toml_datetime(v));
		break;
	}
}

static void same(const struct gm_toml_value *a, const struct gm_toml_value *b)
{
	enum gm_toml_type t = gm_toml_type(a);
	size_t i, n, la, lb;
	const char *sa, *sb;
	double fa, fb;

	if (t != gm_toml_type(b))
		die("round trip changed a type");
	switch (t) {
	case GM_TOML_TABLE:
		n = gm_toml_table_len(a);
		if (n != gm_toml_table_len(b))
			die("round trip changed a table's size");
		for (i = 0; i < n; i++) {
			sa = gm_toml_table_key(a, i, &la);
			sb = gm_toml_table_key(b, i, &lb);
			if (la != lb || memcmp(sa, sb, la) != 0)
				die("round trip changed a key or key order");
			same(gm_toml_table_value(a, i),
			     gm_toml_table_value(b, i));
		}
		break;
	case GM_TOML_ARRAY:
		n = gm_toml_array_len(a);
		if (n != gm_toml_array_len(b))
			die("round trip changed an array's size");
		for (i = 0; i < n; i++)
			same(gm_toml_array_get(a, i), gm_toml_array_get(b, i));
		break;
	case GM_TOML_STRING:
		sa = gm_toml_string(a, &la);
		sb = gm_toml_string(b, &lb);
		if (la != lb || memcmp(sa, sb, la) != 0)
			die("round trip changed a string");
		break;
	case GM_TOML_INTEGER:
		if (gm_toml_integer(a) != gm_toml_integer(b))
			die("round trip changed an integer");
		break;
	case GM_TOML_FLOAT:
		fa = gm_toml_float(a);
		fb = gm_toml_float(b);
		if (isnan(fa) != isnan(fb) ||
		    (!isnan(fa) && (fa != fb || signbit(fa) != signbit(fb))))
			die("round trip changed a float");
		break;
	case GM_TOML_BOOL:
		if (gm_toml_bool(a) != gm_toml_bool(b))
			die("round trip changed a boolean");
		break;
	default:
		if (strcmp(gm_toml_datetime(a), gm_toml_datetime(b)) != 0)
			die("round trip changed a date/time");
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gm_toml_doc *doc = (struct gm_toml_doc *)1, *doc2 = NULL;
	const struct gm_toml_value *root;
	struct gm_diag d;
	struct gm_buf b;
	size_t i, n;
	gm_err e;

	e = gm_toml_parse(&doc, (const char *)data, size, &d);
	if (e != GM_OK) {
		if (doc != NULL)
			die("failed parse left a document");
		if (e != GM_EPARSE && e != GM_ELIMIT)
			die("unexpected error code");
		if (d.line < 1 || d.column < 1 || !d.msg[0])
			die("error without position or message");
		return 0;
	}
	root = gm_toml_root(doc);
	if (gm_toml_type(root) != GM_TOML_TABLE)
		die("root is not a table");
	walk(root, 0);

	/* decode(encode(decode(x))) == decode(x) */
	gm_buf_init(&b, GM_BUF_UNLIMITED);
	n = gm_toml_table_len(root);
	for (i = 0; i < n; i++) {
		size_t kl;
		const char *k = gm_toml_table_key(root, i, &kl);

		put_quoted(&b, k, kl);
		put(&b, " = ");
		encode(&b, gm_toml_table_value(root, i));
		put(&b, "\n");
	}
	e = gm_toml_parse(&doc2, b.data ? (const char *)b.data : "", b.len, &d);
	if (e != GM_OK) {
		fprintf(stderr, "re-parse failed at %u:%u: %s\n%.*s\n", d.line,
			d.column, d.msg, (int)(b.len > 2000 ? 2000 : b.len),
			b.data ? (const char *)b.data : "");
		die("encoded tree does not parse");
	}
	same(root, gm_toml_root(doc2));
	gm_toml_free(doc2);
	gm_buf_release(&b);
	gm_toml_free(doc);
	return 0;
}
