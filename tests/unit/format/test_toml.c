/*
 * test_toml.c - the TOML 1.0.0 reader: values, keys, tables, the
 * redefinition rules, strings, numbers, date/times, diagnostics with their
 * line:column, limits, and every out-of-memory path of gm_toml_parse().
 *
 * The full toml-test suite runs separately (tests/conformance/toml_test.c);
 * these tests pin down behaviour and messages of our own.
 */
#include "harness.h"

#include <math.h>

#include "gm/toml.h"

static struct gm_toml_doc *parse_ok(const char *src)
{
	struct gm_toml_doc *doc = NULL;
	struct gm_diag d;
	gm_err e;

	e = gm_toml_parse(&doc, src, strlen(src), &d);
	if (e != GM_OK)
		gm_test_fail(__FILE__, __LINE__,
			     "parse failed (%s) at %u:%u: %s", gm_errname(e),
			     d.line, d.column, d.msg);
	ASSERT(doc != NULL);
	return doc;
}

/* Parses src expecting error want at line:col with msg containing needle. */
static void parse_bad(const char *src, size_t len, gm_err want, uint32_t line,
		      uint32_t col, const char *needle)
{
	struct gm_toml_doc *doc = (struct gm_toml_doc *)1;
	struct gm_diag d;
	gm_err e;

	e = gm_toml_parse(&doc, src, len, &d);
	if (e != want)
		gm_test_fail(__FILE__, __LINE__,
			     "parsing [%s] gave %s, expected %s (%s)", src,
			     gm_errname(e), gm_errname(want), d.msg);
	ASSERT(doc == NULL);
	if (line && (d.line != line || d.column != col))
		gm_test_fail(
		    __FILE__, __LINE__,
		    "parsing [%s]: error at %u:%u, expected %u:%u (%s)", src,
		    d.line, d.column, line, col, d.msg);
	if (needle && !strstr(d.msg, needle))
		gm_test_fail(__FILE__, __LINE__,
			     "parsing [%s]: message \"%s\" lacks \"%s\"", src,
			     d.msg, needle);
}

#define BAD(src, line, col, needle)                                            \
	parse_bad((src), strlen(src), GM_EPARSE, (line), (col), (needle))

static const struct gm_toml_value *get(const struct gm_toml_doc *doc,
				       const char *path)
{
	const struct gm_toml_value *v = gm_toml_root(doc);
	char key[128];
	const char *dot;

	while (v && *path) {
		size_t n;

		dot = strchr(path, '.');
		n = dot ? (size_t)(dot - path) : strlen(path);
		ASSERT(n < sizeof(key));
		memcpy(key, path, n);
		key[n] = '\0';
		v = gm_toml_table_get(v, key);
		path += n + (dot ? 1 : 0);
	}
	return v;
}

static const char *str_at(const struct gm_toml_doc *doc, const char *path)
{
	const struct gm_toml_value *v = get(doc, path);

	ASSERT(v != NULL);
	ASSERT_EQ(gm_toml_type(v), GM_TOML_STRING);
	return gm_toml_string(v, NULL);
}

static int64_t int_at(const struct gm_toml_doc *doc, const char *path)
{
	const struct gm_toml_value *v = get(doc, path);

	ASSERT(v != NULL);
	ASSERT_EQ(gm_toml_type(v), GM_TOML_INTEGER);
	return gm_toml_integer(v);
}

static double float_at(const struct gm_toml_doc *doc, const char *path)
{
	const struct gm_toml_value *v = get(doc, path);

	ASSERT(v != NULL);
	ASSERT_EQ(gm_toml_type(v), GM_TOML_FLOAT);
	return gm_toml_float(v);
}

TEST(every_value_type)
{
	struct gm_toml_doc *doc = parse_ok("s = \"hi\"\n"
					   "i = -42\n"
					   "f = 3.5\n"
					   "b = true\n"
					   "c = false\n"
					   "odt = 1979-05-27T07:32:00Z\n"
					   "ldt = 1979-05-27T07:32:00\n"
					   "ld = 1979-05-27\n"
					   "lt = 07:32:00\n"
					   "a = [1, \"two\", 3.0]\n"
					   "t = { x = 1 }\n");
	const struct gm_toml_value *root = gm_toml_root(doc);
	static const enum gm_toml_type want[] = {
	    GM_TOML_STRING,	    GM_TOML_INTEGER,	GM_TOML_FLOAT,
	    GM_TOML_BOOL,	    GM_TOML_BOOL,	GM_TOML_DATETIME,
	    GM_TOML_DATETIME_LOCAL, GM_TOML_DATE_LOCAL, GM_TOML_TIME_LOCAL,
	    GM_TOML_ARRAY,	    GM_TOML_TABLE,
	};
	size_t i;

	ASSERT_EQ(gm_toml_type(root), GM_TOML_TABLE);
	ASSERT_EQ(gm_toml_table_len(root), GM_ARRAY_LEN(want));
	for (i = 0; i < GM_ARRAY_LEN(want); i++)
		ASSERT_EQ(gm_toml_type(gm_toml_table_value(root, i)), want[i]);
	ASSERT_STREQ(str_at(doc, "s"), "hi");
	ASSERT_EQ(int_at(doc, "i"), -42);
	ASSERT(float_at(doc, "f") == 3.5);
	ASSERT(gm_toml_bool(get(doc, "b")));
	ASSERT(!gm_toml_bool(get(doc, "c")));
	ASSERT_STREQ(gm_toml_datetime(get(doc, "odt")), "1979-05-27T07:32:00Z");
	ASSERT_STREQ(gm_toml_datetime(get(doc, "ldt")), "1979-05-27T07:32:00");
	ASSERT_STREQ(gm_toml_datetime(get(doc, "ld")), "1979-05-27");
	ASSERT_STREQ(gm_toml_datetime(get(doc, "lt")), "07:32:00");
	ASSERT_EQ(gm_toml_array_len(get(doc, "a")), 3);
	ASSERT_STREQ(gm_toml_string(gm_toml_array_get(get(doc, "a"), 1), NULL),
		     "two");
	ASSERT_EQ(int_at(doc, "t.x"), 1);
	/* wrong-type lookups are harmless */
	ASSERT_EQ(gm_toml_table_len(get(doc, "a")), 0);
	ASSERT_EQ(gm_toml_array_len(get(doc, "t")), 0);
	ASSERT(gm_toml_table_get(get(doc, "a"), "x") == NULL);
	ASSERT(gm_toml_table_get(root, "missing") == NULL);
	ASSERT_STREQ(gm_toml_type_name(GM_TOML_INTEGER), "integer");
	ASSERT_STREQ(gm_toml_type_name(GM_TOML_DATE_LOCAL), "local date");
	ASSERT_STREQ(gm_toml_type_name(GM_TOML_TABLE), "table");
	gm_toml_free(doc);
	gm_toml_free(NULL);
}

TEST(keys_bare_quoted_dotted_keep_order_and_positions)
{
	struct gm_toml_doc *doc = parse_ok("zeta = 1\n"
					   "\"a b\" = 2\n"
					   "'lit\\eral' = 3\n"
					   "\"\" = 4\n"
					   "x . \"y.z\" . w = 5\n"
					   "1234 = 6\n"
					   "3.14 = 7\n"
					   "\"\\u00e9\" = 8\n");
	const struct gm_toml_value *root = gm_toml_root(doc), *x, *y;
	static const char *const order[] = {"zeta", "a b", "lit\\eral", "", "x",
					    "1234", "3",   "\xc3\xa9"};
	uint32_t line, col;
	size_t i, n;

	ASSERT_EQ(gm_toml_table_len(root), GM_ARRAY_LEN(order));
	for (i = 0; i < GM_ARRAY_LEN(order); i++) {
		const char *k = gm_toml_table_key(root, i, &n);

		ASSERT_EQ(n, strlen(order[i]));
		ASSERT_MEMEQ(k, order[i], n);
	}
	x = gm_toml_table_get(root, "x");
	ASSERT(x != NULL);
	y = gm_toml_table_get(x, "y.z");
	ASSERT(y != NULL);
	ASSERT_EQ(gm_toml_integer(gm_toml_table_get(y, "w")), 5);
	ASSERT_EQ(gm_toml_integer(
		      gm_toml_table_get(gm_toml_table_get(root, "3"), "14")),
		  7);
	ASSERT_EQ(gm_toml_integer(gm_toml_table_get(root, "")), 4);
	/* key positions: "x" at 5:1, "y.z" at 5:5, "w" at 5:13 */
	gm_toml_table_key_pos(root, 4, &line, &col);
	ASSERT_EQ(line, 5);
	ASSERT_EQ(col, 1);
	gm_toml_table_key_pos(x, 0, &line, &col);
	ASSERT_EQ(line, 5);
	ASSERT_EQ(col, 5);
	gm_toml_table_key_pos(y, 0, &line, &col);
	ASSERT_EQ(col, 13);
	/* value position: the 5 */
	gm_toml_pos(gm_toml_table_get(y, "w"), &line, &col);
	ASSERT_EQ(line, 5);
	ASSERT_EQ(col, 17);
	gm_toml_free(doc);
}

TEST(tables_headers_implicit_and_order)
{
	struct gm_toml_doc *doc =
	    parse_ok("top = 0\n"
		     "[a.b.c]\n"
		     "x = 1\n"
		     "[a]\n"
		     "y = 2\n"
		     "[ a . b ]  # define the implicit one\n"
		     "z = 3\n"
		     "[other]\n");
	const struct gm_toml_value *a = get(doc, "a"), *other;
	uint32_t line, col;
	size_t n;

	ASSERT_EQ(int_at(doc, "a.b.c.x"), 1);
	ASSERT_EQ(int_at(doc, "a.y"), 2);
	ASSERT_EQ(int_at(doc, "a.b.z"), 3);
	ASSERT_EQ(gm_toml_table_len(a), 2);
	ASSERT_STREQ(gm_toml_table_key(a, 0, &n), "b");
	ASSERT_STREQ(gm_toml_table_key(a, 1, &n), "y");
	other = get(doc, "other");
	ASSERT_EQ(gm_toml_type(other), GM_TOML_TABLE);
	ASSERT_EQ(gm_toml_table_len(other), 0);
	/* a defined table records its header */
	gm_toml_pos(a, &line, &col);
	ASSERT_EQ(line, 4);
	ASSERT_EQ(col, 1);
	gm_toml_pos(get(doc, "a.b"), &line, &col);
	ASSERT_EQ(line, 6);
	gm_toml_free(doc);
}

TEST(array_of_tables_and_subtables)
{
	struct gm_toml_doc *doc = parse_ok("[[fruit]]\n"
					   "name = \"apple\"\n"
					   "[fruit.physical]\n"
					   "color = \"red\"\n"
					   "[[fruit.variety]]\n"
					   "name = \"red delicious\"\n"
					   "[[fruit.variety]]\n"
					   "name = \"granny smith\"\n"
					   "[[fruit]]\n"
					   "name = \"banana\"\n"
					   "[[fruit.variety]]\n"
					   "name = \"plantain\"\n");
	const struct gm_toml_value *fruit = get(doc, "fruit"), *f0, *f1;

	ASSERT_EQ(gm_toml_type(fruit), GM_TOML_ARRAY);
	ASSERT_EQ(gm_toml_array_len(fruit), 2);
	f0 = gm_toml_array_get(fruit, 0);
	f1 = gm_toml_array_get(fruit, 1);
	ASSERT_STREQ(gm_toml_string(gm_toml_table_get(f0, "name"), NULL),
		     "apple");
	ASSERT_STREQ(
	    gm_toml_string(
		gm_toml_table_get(gm_toml_table_get(f0, "physical"), "color"),
		NULL),
	    "red");
	ASSERT_EQ(gm_toml_array_len(gm_toml_table_get(f0, "variety")), 2);
	ASSERT_STREQ(
	    gm_toml_string(
		gm_toml_table_get(
		    gm_toml_array_get(gm_toml_table_get(f0, "variety"), 1),
		    "name"),
		NULL),
	    "granny smith");
	ASSERT_EQ(gm_toml_array_len(gm_toml_table_get(f1, "variety")), 1);
	gm_toml_free(doc);
}

TEST(inline_tables_and_nested_arrays)
{
	struct gm_toml_doc *doc = parse_ok(
	    "point = { x = 1, y = 2, sub.deep = \"d\", sub.more = 3 }\n"
	    "empty = {}\n"
	    "nest = { a = { b = { c = [ [1, 2], [\"x\"], [] ] } } }\n"
	    "arr = [\n"
	    "  1, # comment\n"
	    "  2,\n"
	    "]\n"
	    "aot = [ { n = 1 }, { n = 2 } ]\n");
	const struct gm_toml_value *c;

	ASSERT_EQ(int_at(doc, "point.y"), 2);
	ASSERT_STREQ(str_at(doc, "point.sub.deep"), "d");
	ASSERT_EQ(int_at(doc, "point.sub.more"), 3);
	ASSERT_EQ(gm_toml_table_len(get(doc, "empty")), 0);
	c = get(doc, "nest.a.b.c");
	ASSERT_EQ(gm_toml_array_len(c), 3);
	ASSERT_EQ(
	    gm_toml_integer(gm_toml_array_get(gm_toml_array_get(c, 0), 1)), 2);
	ASSERT_EQ(gm_toml_array_len(gm_toml_array_get(c, 2)), 0);
	ASSERT_EQ(gm_toml_array_len(get(doc, "arr")), 2);
	ASSERT_EQ(gm_toml_integer(gm_toml_table_get(
		      gm_toml_array_get(get(doc, "aot"), 1), "n")),
		  2);
	gm_toml_free(doc);

	BAD("t = { a = 1, }\n", 1, 14, "trailing comma");
	BAD("t = { a = 1\n}\n", 1, 12, "one line");
	BAD("t = {\n a = 1 }\n", 1, 6, "expected a key");
	BAD("a = [1 2]\n", 1, 8, "expected ',' or ']' in array");
	BAD("a = [,]\n", 1, 6, "expected a value");
}

TEST(redefinition_rules)
{
	/* allowed */
	gm_toml_free(parse_ok("[a.b]\n[a]\n"));
	gm_toml_free(parse_ok("[fruit]\napple.color = 1\n"
			      "[fruit.apple.texture]\nsmooth = true\n"));
	gm_toml_free(parse_ok("[[a.b]]\nx = 1\n[a]\ny = 2\n"));
	gm_toml_free(parse_ok("a.b.c = 1\na.b.d = 2\n[a.e]\n"));
	gm_toml_free(parse_ok("[a]\n[a.b]\n[a.c]\n"));

	BAD("a = 1\na = 2\n", 2, 1, "duplicate key 'a' (first defined at 1:1)");
	BAD("x = 1\n\"x\" = 2\n", 2, 1, "duplicate key 'x'");
	BAD("[a]\nb = 1\n[a]\n", 3, 1, "table 'a' defined twice");
	BAD("[a]\nb.c = 1\n[a.b]\n", 3, 1, "defined twice");
	BAD("[a]\nb.c.d = 1\n[a.b.c]\n", 3, 1, "by dotted keys");
	BAD("a.b = 1\n[a]\n", 2, 1, "defined twice");
	BAD("[a.b]\n[a]\nb.c = 1\n", 3, 1,
	    "cannot add keys to 'b' with a dotted key");
	BAD("a = { b = 1 }\na.c = 2\n", 2, 1, "inline table");
	BAD("a = { b = 1 }\n[a.c]\n", 2, 2, "inline table");
	BAD("a = { b = 1 }\n[a]\n", 2, 1, "inline table");
	BAD("a = { b = { c = 1 }, b.d = 2 }\n", 1, 22, "inline table");
	BAD("a = [1]\n[[a]]\n", 2, 1, "cannot append to 'a'");
	BAD("a = [{}]\n[a.b]\n", 2, 2, "an array at 1:1");
	BAD("[[a]]\n[a]\n", 2, 1, "array of tables");
	BAD("[a]\n[[a]]\n", 2, 1, "cannot append to 'a'");
	BAD("a = 1\n[a.b]\n", 2, 2, "an integer at 1:1");
	BAD("a = 1\na.b = 2\n", 2, 1, "an integer");
	BAD("[[a.b]]\n[a]\nb.y = 2\n", 3, 1, "array of tables");
}

TEST(string_escapes_and_unicode)
{
	struct gm_toml_doc *doc =
	    parse_ok("esc = \"\\b\\t\\n\\f\\r\\\"\\\\\"\n"
		     "u = \"\\u00E9\\u20AC\\U0001F600\"\n"
		     "nul = \"a\\u0000b\"\n"
		     "lit = 'C:\\path\\n'\n"
		     "raw = \"caf\xc3\xa9 \xf0\x9f\x98\x80\"\n"
		     "tab = \"a\tb\"\n");
	const char *s;
	size_t n;

	ASSERT_STREQ(str_at(doc, "esc"), "\b\t\n\f\r\"\\");
	ASSERT_STREQ(str_at(doc, "u"), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	s = gm_toml_string(get(doc, "nul"), &n);
	ASSERT_EQ(n, 3);
	ASSERT_MEMEQ(s, "a\0b", 3);
	ASSERT_STREQ(str_at(doc, "lit"), "C:\\path\\n");
	ASSERT_STREQ(str_at(doc, "raw"), "caf\xc3\xa9 \xf0\x9f\x98\x80");
	ASSERT_STREQ(str_at(doc, "tab"), "a\tb");
	gm_toml_free(doc);

	BAD("s = \"\\uD800\"\n", 1, 6, "not a Unicode scalar value");
	BAD("s = \"\\U00110000\"\n", 1, 6, "not a Unicode scalar value");
	BAD("s = \"\\u12\"\n", 1, 6, "4 hexadecimal digits");
	BAD("s = \"\\x41\"\n", 1, 6, "invalid escape");
	BAD("s = \"\\e\"\n", 1, 6, "invalid escape");
	BAD("s = \"abc\n", 1, 5, "unterminated basic string");
	BAD("s = 'abc\n", 1, 5, "unterminated literal string");
	BAD("s = \"a\x01\"\n", 1, 7, "U+0001");
	BAD("s = 'a\x7f'\n", 1, 7, "U+007F");
}

TEST(multiline_strings)
{
	struct gm_toml_doc *doc = parse_ok("a = \"\"\"\nline1\nline2\"\"\"\n"
					   "b = \"\"\"\\\n   The quick \\\n\n  "
					   " brown \\   \n   fox.\\\n\"\"\"\n"
					   "c = \"\"\"\"quoted\"\"\"\"\n"
					   "d = \"\"\"two\"\"\"\"\"\n"
					   "e = '''\n\\raw \"\"\" ''\n'''\n"
					   "f = \"\"\"crlf\r\nline\"\"\"\n"
					   "g = '''''x'''''\n"
					   "h = \"\"\"\\u0041\\tx\"\"\"\n");

	ASSERT_STREQ(str_at(doc, "a"), "line1\nline2");
	ASSERT_STREQ(str_at(doc, "b"), "The quick brown fox.");
	ASSERT_STREQ(str_at(doc, "c"), "\"quoted\"");
	ASSERT_STREQ(str_at(doc, "d"), "two\"\"");
	ASSERT_STREQ(str_at(doc, "e"), "\\raw \"\"\" ''\n");
	ASSERT_STREQ(str_at(doc, "f"), "crlf\nline");
	ASSERT_STREQ(str_at(doc, "g"), "''x''");
	ASSERT_STREQ(str_at(doc, "h"), "A\tx");
	gm_toml_free(doc);

	BAD("a = \"\"\"abc\"\"\"\"\"\"\n", 1, 16, "too many quotes");
	BAD("a = \"\"\"abc\n", 1, 5, "unterminated multi-line basic");
	BAD("a = '''abc\n", 1, 5, "unterminated multi-line literal");
	BAD("a = \"\"\"x \\ y\"\"\"\n", 1, 10, "invalid escape");
	BAD("a = \"\"\"x\ry\"\"\"\n", 1, 9, "U+000D");
	BAD("\"\"\"k\"\"\" = 1\n", 1, 1, "multi-line");
}

TEST(integers)
{
	struct gm_toml_doc *doc = parse_ok("a = 0\nb = +17\nc = -0\n"
					   "d = 1_000_000\n"
					   "e = 0xDEAD_beef\nf = 0o755\n"
					   "g = 0b1101_0110\n"
					   "max = 9223372036854775807\n"
					   "min = -9223372036854775808\n"
					   "hmax = 0x7FFFFFFFFFFFFFFF\n");

	ASSERT_EQ(int_at(doc, "a"), 0);
	ASSERT_EQ(int_at(doc, "b"), 17);
	ASSERT_EQ(int_at(doc, "c"), 0);
	ASSERT_EQ(int_at(doc, "d"), 1000000);
	ASSERT_EQ(int_at(doc, "e"), 0xDEADBEEF);
	ASSERT_EQ(int_at(doc, "f"), 0755);
	ASSERT_EQ(int_at(doc, "g"), 0xD6);
	ASSERT(int_at(doc, "max") == INT64_MAX);
	ASSERT(int_at(doc, "min") == INT64_MIN);
	ASSERT(int_at(doc, "hmax") == INT64_MAX);
	gm_toml_free(doc);

	BAD("a = 9223372036854775808\n", 1, 5, "does not fit in 64 bits");
	BAD("a = -9223372036854775809\n", 1, 5, "does not fit in 64 bits");
	BAD("a = 0x8000000000000000\n", 1, 5, "does not fit");
	BAD("a = 012\n", 1, 5, "invalid number '012'");
	BAD("a = 1__0\n", 1, 5, "invalid number");
	BAD("a = _1\n", 1, 5, "expected a value");
	BAD("a = 1_\n", 1, 5, "invalid number");
	BAD("a = +0x10\n", 1, 5, "invalid number");
	BAD("a = 0X10\n", 1, 5, "invalid number");
	BAD("a = 0x\n", 1, 5, "invalid number");
	BAD("a = 0o8\n", 1, 5, "invalid number");
	BAD("a = 0b2\n", 1, 5, "invalid number");
	BAD("a = 0x_1\n", 1, 5, "invalid number");
}

TEST(floats)
{
	struct gm_toml_doc *doc =
	    parse_ok("a = +1.0\nb = 3.1415\nc = -0.01\n"
		     "d = 5e+22\ne = 1e06\nf = -2E-2\n"
		     "g = 6.626e-34\nh = 224_617.445_991\n"
		     "i = inf\nj = +inf\nk = -inf\n"
		     "l = nan\nm = -nan\nn = -0.0\n"
		     "o = 1e1_0\n");

	ASSERT(float_at(doc, "a") == 1.0);
	ASSERT(float_at(doc, "b") == 3.1415);
	ASSERT(float_at(doc, "c") == -0.01);
	ASSERT(float_at(doc, "d") == 5e22);
	ASSERT(float_at(doc, "e") == 1e6);
	ASSERT(float_at(doc, "f") == -2e-2);
	ASSERT(float_at(doc, "g") == 6.626e-34);
	ASSERT(float_at(doc, "h") == 224617.445991);
	ASSERT(isinf(float_at(doc, "i")) && float_at(doc, "i") > 0);
	ASSERT(isinf(float_at(doc, "j")) && float_at(doc, "j") > 0);
	ASSERT(isinf(float_at(doc, "k")) && float_at(doc, "k") < 0);
	ASSERT(isnan(float_at(doc, "l")));
	ASSERT(isnan(float_at(doc, "m")));
	ASSERT(float_at(doc, "n") == 0.0 && signbit(float_at(doc, "n")));
	ASSERT(float_at(doc, "o") == 1e10);
	gm_toml_free(doc);

	BAD("a = 1.\n", 1, 5, "invalid number '1.'");
	BAD("a = .5\n", 1, 5, "expected a value");
	BAD("a = 1e\n", 1, 5, "invalid number");
	BAD("a = 01.5\n", 1, 5, "invalid number");
	BAD("a = 1.e5\n", 1, 5, "invalid number");
	BAD("a = 1._5\n", 1, 5, "invalid number");
	BAD("a = Inf\n", 1, 5, "expected a value");
	BAD("a = infinity\n", 1, 5, "invalid number");
	BAD("a = 1e400\n", 1, 5, "too large");
}

TEST(datetimes_are_normalized)
{
	struct gm_toml_doc *doc =
	    parse_ok("a = 1979-05-27 07:32:00Z\n"
		     "b = 1979-05-27t07:32:00z\n"
		     "c = 1979-05-27T00:32:00.999999-07:00\n"
		     "d = 1979-05-27 07:32:00.5\n"
		     "e = 00:32:00.123456789\n"
		     "f = 2000-02-29\n"
		     "g = 1990-12-31T23:59:60Z\n"
		     "h = [1979-05-27, 07:32:00]\n");

	ASSERT_STREQ(gm_toml_datetime(get(doc, "a")), "1979-05-27T07:32:00Z");
	ASSERT_STREQ(gm_toml_datetime(get(doc, "b")), "1979-05-27T07:32:00Z");
	ASSERT_STREQ(gm_toml_datetime(get(doc, "c")),
		     "1979-05-27T00:32:00.999999-07:00");
	ASSERT_EQ(gm_toml_type(get(doc, "d")), GM_TOML_DATETIME_LOCAL);
	ASSERT_STREQ(gm_toml_datetime(get(doc, "d")), "1979-05-27T07:32:00.5");
	ASSERT_EQ(gm_toml_type(get(doc, "e")), GM_TOML_TIME_LOCAL);
	ASSERT_STREQ(gm_toml_datetime(get(doc, "e")), "00:32:00.123456789");
	ASSERT_STREQ(gm_toml_datetime(get(doc, "f")), "2000-02-29");
	ASSERT_STREQ(gm_toml_datetime(get(doc, "g")), "1990-12-31T23:59:60Z");
	ASSERT_EQ(gm_toml_type(gm_toml_array_get(get(doc, "h"), 0)),
		  GM_TOML_DATE_LOCAL);
	ASSERT_EQ(gm_toml_type(gm_toml_array_get(get(doc, "h"), 1)),
		  GM_TOML_TIME_LOCAL);
	gm_toml_free(doc);

	BAD("a = 1900-02-29\n", 1, 13, "no such day");
	BAD("a = 2021-13-01\n", 1, 10, "month must be 01-12");
	BAD("a = 2021-04-31\n", 1, 13, "no such day");
	BAD("a = 1979-05-27T07:32Z\n", 1, 16, "seconds required");
	BAD("a = 07:32\n", 1, 5, "seconds required");
	BAD("a = 24:00:00\n", 1, 5, "hour 00-23");
	BAD("a = 1979-05-27T07:32:00+24:00\n", 1, 24, "invalid time offset");
	BAD("a = 1979-05-27T07:32:00+7:00\n", 1, 24, "+HH:MM");
	BAD("a = 1979-05-27T\n", 1, 16, "HH:MM:SS");
	BAD("a = 1979-05-27T07:32:00.\n", 1, 25, "digits after '.'");
	BAD("a = 1979-5-27\n", 1, 5, "leading zeros");
	BAD("a = 07:32:00Z\n", 1, 13, "end of line after a value");
}

TEST(errors_point_at_line_and_column)
{
	BAD("a = 1\nb = \n", 2, 5, "expected a value, found end of line");
	BAD("a = 1\nname \"x\"\n", 2, 6, "expected '=' after key 'name'");
	BAD("[t]\nx.y.z 1\n", 2, 7, "expected '=' after key 'x.y.z'");
	BAD("a = 1 2\n", 1, 7, "expected end of line after a value");
	BAD("[a] b = 1\n", 1, 5, "after a table header");
	BAD("[a\n", 1, 3, "expected ']'");
	BAD("[[a]\n", 1, 4, "expected ']]'");
	BAD("!x = 1\n", 1, 1, "expected a key, found '!'");
	BAD("# c\x01omment\n", 1, 4, "not allowed in a comment");
	BAD("a = 1\r\n  b = 2\rc = 3\n", 2, 8, "U+000D");
	/* columns count characters, not bytes */
	BAD("s = \"\xc3\xa9\xc3\xa9\" x\n", 1, 10, "found 'x'");
	BAD("# \xe2\x82\xac\nk = \xe2\x82\xac\n", 2, 5, "non-ASCII");
	/* the first definition of a duplicate is quoted */
	BAD("[t]\n  k = 1\n\n  k = 2\n", 4, 3,
	    "duplicate key 'k' (first defined at 2:3)");
}

TEST(utf8_is_validated)
{
	static const struct {
		const char *src;
		size_t len;
		uint32_t col;
	} cases[] = {
	    {"s = \"\xc0\x80\"\n", 9, 6},	   /* overlong NUL */
	    {"s = \"\xe0\x80\xaf\"\n", 10, 6},	   /* overlong '/' */
	    {"s = \"\xed\xa0\x80\"\n", 10, 6},	   /* surrogate */
	    {"s = \"\xf4\x90\x80\x80\"\n", 11, 6}, /* > U+10FFFF */
	    {"s = \"\xf5\x80\x80\x80\"\n", 11, 6},
	    {"s = \"\xc3\"\n", 8, 6},	/* truncated */
	    {"# \x80\n", 4, 3},		/* lone continuation */
	    {"s = \"\xe2\x82\n", 8, 6}, /* cut at the end */
	};
	size_t i;

	for (i = 0; i < GM_ARRAY_LEN(cases); i++)
		parse_bad(cases[i].src, cases[i].len, GM_EPARSE, 1,
			  cases[i].col, "invalid UTF-8");
	gm_toml_free(parse_ok("s = \"\xf4\x8f\xbf\xbf \xed\x9f\xbf\"\n"));
}

TEST(bom_comments_crlf_and_empty)
{
	struct gm_toml_doc *doc;

	doc = parse_ok("\xef\xbb\xbf# comment\r\na = 1 # trailing\r\n\r\n"
		       "[t] # header comment\r\nb = 2");
	ASSERT_EQ(int_at(doc, "a"), 1);
	ASSERT_EQ(int_at(doc, "t.b"), 2);
	gm_toml_free(doc);

	doc = parse_ok("");
	ASSERT_EQ(gm_toml_table_len(gm_toml_root(doc)), 0);
	gm_toml_free(doc);
	ASSERT_OK(gm_toml_parse(&doc, NULL, 0, NULL));
	ASSERT_EQ(gm_toml_table_len(gm_toml_root(doc)), 0);
	gm_toml_free(doc);

	BAD("\xef\xbb\xbf\xef\xbb\xbf"
	    "a = 1\n",
	    1, 2, "expected a key");
	/* the diag may be NULL */
	ASSERT_ERR(gm_toml_parse(&doc, "a =", 3, NULL), GM_EPARSE);
	ASSERT(doc == NULL);
}

static char *repeat(const char *head, const char *unit, size_t n,
		    const char *tail)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail), i;
	char *s = malloc(hl + ul * n + tl + 1);

	ASSERT(s != NULL);
	memcpy(s, head, hl);
	for (i = 0; i < n; i++)
		memcpy(s + hl + i * ul, unit, ul);
	memcpy(s + hl + n * ul, tail, tl + 1);
	return s;
}

TEST(limits_depth_and_size)
{
	struct gm_toml_doc *doc;
	struct gm_diag d;
	char *s, *t, *big;

	/* 128 nested arrays below the root table are fine, 129 are not */
	s = repeat("a = ", "[", GM_TOML_MAX_DEPTH, "");
	t = repeat(s, "]", GM_TOML_MAX_DEPTH, "\n");
	free(s);
	doc = parse_ok(t);
	gm_toml_free(doc);
	free(t);
	s = repeat("a = ", "[", GM_TOML_MAX_DEPTH + 1, "");
	t = repeat(s, "]", GM_TOML_MAX_DEPTH + 1, "\n");
	free(s);
	parse_bad(t, strlen(t), GM_ELIMIT, 1, 5 + GM_TOML_MAX_DEPTH,
		  "deeper than 128");
	free(t);

	/* inline tables count too */
	s = repeat("a = ", "{b=", GM_TOML_MAX_DEPTH + 5, "1");
	t = repeat(s, "}", GM_TOML_MAX_DEPTH + 5, "\n");
	free(s);
	parse_bad(t, strlen(t), GM_ELIMIT, 0, 0, "deeper than");
	free(t);

	/* dotted keys and headers */
	s = repeat("", "k.", GM_TOML_MAX_DEPTH, "k = 1\n");
	parse_bad(s, strlen(s), GM_ELIMIT, 0, 0, "dotted parts");
	free(s);
	s = repeat("[", "k.", GM_TOML_MAX_DEPTH - 1, "k]\n");
	doc = parse_ok(s);
	gm_toml_free(doc);
	free(s);
	s = repeat("[", "k.", GM_TOML_MAX_DEPTH - 1, "k]\nk = [[[1]]]\n");
	parse_bad(s, strlen(s), GM_ELIMIT, 0, 0, "deeper than");
	free(s);

	/* input size */
	big = malloc(GM_TOML_MAX_INPUT + 1);
	ASSERT(big != NULL);
	memset(big, '#', GM_TOML_MAX_INPUT + 1);
	ASSERT_ERR(gm_toml_parse(&doc, big, GM_TOML_MAX_INPUT + 1, &d),
		   GM_ELIMIT);
	ASSERT(strstr(d.msg, "limit") != NULL);
	ASSERT(doc == NULL);
	free(big);
}

TEST(big_table_is_indexed)
{
	enum { N = 100000 };
	struct gm_toml_doc *doc;
	const struct gm_toml_value *root, *t;
	char *src, key[32];
	size_t i, off = 0, cap = (size_t)N * 40;
	clock_t t0;

	src = malloc(cap);
	ASSERT(src != NULL);
	off += (size_t)snprintf(src + off, cap - off, "[t]\n");
	for (i = 0; i < N; i++)
		off += (size_t)snprintf(src + off, cap - off, "key_%zu = %zu\n",
					i, i * 3);
	t0 = clock();
	doc = parse_ok(src);
	/* linear, not quadratic: ~1 s with ASan; quadratic would be minutes */
	ASSERT((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0);
	root = gm_toml_root(doc);
	t = gm_toml_table_get(root, "t");
	ASSERT_EQ(gm_toml_table_len(t), N);
	for (i = 0; i < N; i++) {
		size_t n;

		snprintf(key, sizeof(key), "key_%zu", i);
		ASSERT_STREQ(gm_toml_table_key(t, i, &n), key);
		ASSERT_EQ(gm_toml_integer(gm_toml_table_get(t, key)),
			  (long long)i * 3);
	}
	ASSERT(gm_toml_table_get(t, "key_") == NULL);
	gm_toml_free(doc);

	/* a duplicate far in is still found through the index */
	off += (size_t)snprintf(src + off, cap - off, "key_12345 = 0\n");
	parse_bad(src, off, GM_EPARSE, N + 2, 1,
		  "duplicate key 'key_12345' (first defined at 12347:1)");
	free(src);
}

static const char oom_doc[] =
    "title = \"oom \\u00e9\"\n"
    "n = [1, 2.5, true, 1979-05-27T07:32:00Z, \"\"\"x\ny\"\"\"]\n"
    "t = { a.b = 1, c = [ { d = 'e' } ] }\n"
    "k1 = 1\nk2 = 2\nk3 = 3\nk4 = 4\nk5 = 5\nk6 = 6\nk7 = 7\nk8 = 8\n"
    "k9 = 9\nk10 = 10\n"
    "[a.b.c]\nx.y.z = 0x10\n"
    "[[arr]]\nname = 'one'\n[[arr]]\nname = 'two'\n[arr.sub]\n";

TEST(out_of_memory_walk)
{
	struct gm_toml_doc *doc;
	struct gm_diag d;
	unsigned long n;
	gm_err e = GM_ENOMEM;

	for (n = 1; n < 10000; n++) {
		gm_alloc_fail_after(n);
		e = gm_toml_parse(&doc, oom_doc, sizeof(oom_doc) - 1, &d);
		gm_alloc_fail_after(0);
		if (e == GM_OK)
			break;
		ASSERT_ERR(e, GM_ENOMEM);
		ASSERT(doc == NULL);
		ASSERT(strstr(d.msg, "out of memory") != NULL);
	}
	ASSERT_OK(e);
	ASSERT(n > 3);
	ASSERT_STREQ(str_at(doc, "title"), "oom \xc3\xa9");
	ASSERT_EQ(int_at(doc, "a.b.c.x.y.z"), 16);
	ASSERT_EQ(int_at(doc, "k10"), 10);
	ASSERT_EQ(gm_toml_array_len(get(doc, "arr")), 2);
	gm_toml_free(doc);
}

TEST(out_of_memory_walk_large_strings)
{
	struct gm_toml_doc *doc;
	unsigned long n;
	char *src;
	gm_err e = GM_ENOMEM;

	/* strings and keys bigger than an arena chunk */
	src = repeat("s = \"", "abcdefgh", 2000, "\"\n");
	for (n = 1; n < 1000; n++) {
		gm_alloc_fail_after(n);
		e = gm_toml_parse(&doc, src, strlen(src), NULL);
		gm_alloc_fail_after(0);
		if (e == GM_OK)
			break;
		ASSERT_ERR(e, GM_ENOMEM);
	}
	ASSERT_OK(e);
	ASSERT_EQ(strlen(str_at(doc, "s")), 16000);
	gm_toml_free(doc);
	free(src);
}
