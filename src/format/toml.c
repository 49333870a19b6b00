/*
 * toml.c - a TOML 1.0.0 reader (see gm/toml.h).
 *
 * One pass of recursive descent over (src, len) builds the tree. Before
 * parsing, the whole input is checked to be valid UTF-8 (no overlong forms,
 * no surrogates, nothing above U+10FFFF), so the grammar below only ever
 * deals with ASCII structure; non-ASCII bytes are legal only inside strings
 * and comments.
 *
 * Memory: every node, key, string and array of the tree comes from an arena
 * of chunks owned by the document; gm_toml_free() frees the chunks. Arrays
 * and table entry vectors grow by doubling inside the arena (in place when
 * they sit at the end of the current chunk), so the waste is bounded by the
 * final size. Tables keep entries in insertion order; once a table has more
 * than TABLE_INDEX_MIN entries it also gets an open-addressing hash index,
 * so lookups stay O(1) on average and a 10k-key table is linear to build.
 *
 * Redefinition rules are enforced with per-node flags:
 *
 *   flag          | set on                      | meaning
 *   --------------+-----------------------------+----------------------------
 *   TF_HEADER     | table                       | defined by a [header] or
 *                 |                             | an [[array]] element
 *   TF_IMPLICIT   | table                       | created as the parent of a
 *                 |                             | header; one later [header]
 *                 |                             | may still define it
 *   TF_DOTTED     | table                       | created by a dotted key;
 *                 |                             | only dotted keys of the same
 *                 |                             | table may add to it
 *   TF_INLINE     | table                       | an inline table: closed
 *   AF_AOT        | array                       | made by [[headers]]; other
 *                 |                             | arrays are static (closed)
 *
 * Positions: each value and each key records a 1-based line and column
 * (columns count characters, not bytes). They are computed with a cursor
 * that only moves forward in the common case, so recording them is linear.
 *
 * Limits: input size GM_TOML_MAX_INPUT, tree depth GM_TOML_MAX_DEPTH (each
 * table or array level counts one, root is 0), key parts per key
 * GM_TOML_MAX_DEPTH, and MEMORY_MAX bytes of tree per document (a 16 MiB
 * file of tiny values would need more); passing one gives GM_ELIMIT.
 *
 * Choices left to implementations by the spec: a leading UTF-8 byte order
 * mark is skipped; CRLF inside multi-line strings is stored as LF; floats
 * that overflow binary64 are rejected.
 */
#include "internal.h"

#include <math.h>

#include "gm/buf.h"
#include "gm/toml.h"

#define TF_HEADER 0x01u
#define TF_IMPLICIT 0x02u
#define TF_DOTTED 0x04u
#define TF_INLINE 0x08u
#define AF_AOT 0x10u

#define TABLE_INDEX_MIN 8
#define CHUNK_MIN 2048u
#define CHUNK_MAX (1024u * 1024u)
#define MSG_KEY_MAX 64
/* Memory one document may use (the tree takes up to ~36x its text). */
#define MEMORY_MAX (256u * 1024 * 1024)

struct gm_toml_entry {
	const char *key;
	size_t klen;
	uint32_t hash;
	uint32_t line;
	uint32_t column;
	struct gm_toml_value *val;
};

struct gm_toml_value {
	uint8_t type;
	uint8_t flags;
	uint16_t depth;
	uint32_t line;
	uint32_t column;
	union {
		struct {
			char *ptr;
			size_t len;
		} s; /* strings and date/time text */
		int64_t i;
		double f;
		bool b;
		struct {
			struct gm_toml_value **items;
			size_t len;
			size_t cap;
		} a;
		struct {
			struct gm_toml_entry *ents;
			uint32_t *idx; /* entry index + 1, 0 = empty slot */
			size_t len;
			size_t cap;
			size_t idx_cap; /* power of two, or 0 */
		} t;
	} u;
};

struct chunk {
	struct chunk *next;
	size_t used;
	size_t cap;
	unsigned char data[];
};

struct gm_toml_doc {
	struct chunk *chunks;
	size_t next_chunk;
	size_t total;	  /* bytes of all chunks */
	bool over_budget; /* an allocation passed MEMORY_MAX */
	struct gm_toml_value *root;
};

/* A place in the input: byte offset and its 1-based line and column. */
struct srcpos {
	size_t off;
	uint32_t line;
	uint32_t column;
};

struct keypart {
	const char *s;
	size_t len;
	uint32_t hash;
	struct srcpos at;
};

struct parser {
	const char *src;
	size_t len;
	size_t pos;
	struct gm_toml_doc *doc;
	struct gm_diag *d;
	/* position cursor: line/column of offset loc_off */
	size_t loc_off;
	uint32_t loc_line;
	uint32_t loc_col;
	/* parts of the key just parsed */
	struct keypart *parts;
	size_t nparts;
	size_t parts_cap;
	/* scratch for decoding strings */
	struct gm_buf sbuf;
};

/* ---- arena ---- */

static void *arena_alloc(struct gm_toml_doc *doc, size_t n)
{
	struct chunk *c = doc->chunks;
	size_t want, size;

	n = (n + 7) & ~(size_t)7;
	if (n == 0)
		n = 8;
	if (c && c->cap - c->used >= n) {
		void *p = c->data + c->used;

		c->used += n;
		return p;
	}
	want = doc->next_chunk;
	if (n > MEMORY_MAX || doc->total > MEMORY_MAX - (n > want ? n : want)) {
		doc->over_budget = true;
		return NULL;
	}
	if (n > want / 4) {
		/* A big block gets a chunk of its own, behind the head. */
		if (n > SIZE_MAX - sizeof(*c))
			return NULL;
		c = gm_malloc(sizeof(*c) + n);
		if (!c)
			return NULL;
		c->used = n;
		c->cap = n;
		doc->total += n;
		if (doc->chunks) {
			c->next = doc->chunks->next;
			doc->chunks->next = c;
		} else {
			c->next = NULL;
			doc->chunks = c;
		}
		return c->data;
	}
	size = want;
	c = gm_malloc(sizeof(*c) + size);
	if (!c)
		return NULL;
	c->next = doc->chunks;
	c->used = n;
	c->cap = size;
	doc->total += size;
	doc->chunks = c;
	if (doc->next_chunk < CHUNK_MAX)
		doc->next_chunk *= 2;
	return c->data;
}

/* Grows a block from old_n to new_n bytes, in place when it is the last. */
static void *arena_grow(struct gm_toml_doc *doc, void *old, size_t old_n,
			size_t new_n)
{
	struct chunk *c = doc->chunks;
	size_t oa = (old_n + 7) & ~(size_t)7;
	size_t na = (new_n + 7) & ~(size_t)7;
	void *p;

	if (old && c && (unsigned char *)old + oa == c->data + c->used &&
	    na - oa <= c->cap - c->used) {
		c->used += na - oa;
		return old;
	}
	p = arena_alloc(doc, new_n);
	if (p && old_n)
		memcpy(p, old, old_n);
	return p;
}

/* ---- positions and diagnostics ---- */

static void locate(struct parser *p, size_t off, uint32_t *line, uint32_t *col)
{
	size_t i;

	if (off > p->len)
		off = p->len;
	if (off < p->loc_off) {
		p->loc_off = 0;
		p->loc_line = 1;
		p->loc_col = 1;
	}
	for (i = p->loc_off; i < off; i++) {
		unsigned char b = (unsigned char)p->src[i];

		if (b == '\n') {
			p->loc_line++;
			p->loc_col = 1;
		} else if ((b & 0xC0) != 0x80) {
			p->loc_col++;
		}
	}
	p->loc_off = off;
	*line = p->loc_line;
	*col = p->loc_col;
}

static gm_err perr_code(struct parser *p, gm_err e, size_t off, const char *fmt,
			...) GM_PRINTF(4, 5);

static gm_err perr_code(struct parser *p, gm_err e, size_t off, const char *fmt,
			...)
{
	char msg[GM_DIAG_MAX];
	uint32_t line, col;
	va_list ap;

	if (!p->d)
		return e;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	locate(p, off, &line, &col);
	return gm_diag_set_at(p->d, e, line, col, "%s", msg);
}

#define perr(p, off, ...) perr_code((p), GM_EPARSE, (off), __VA_ARGS__)

/* An arena allocation failed: out of memory, or past MEMORY_MAX. */
static gm_err oom(struct parser *p)
{
	if (p->doc->over_budget)
		return perr_code(p, GM_ELIMIT, p->pos,
				 "document needs more than %u MiB of memory "
				 "(too many values)",
				 MEMORY_MAX / (1024 * 1024));
	return gm_diag_set(p->d, GM_ENOMEM, "out of memory while reading TOML");
}

/* Describes the byte at off for a message: "'x'", "end of input", ... */
static const char *describe(struct parser *p, size_t off, char *buf, size_t n)
{
	unsigned char c;

	if (off >= p->len)
		return "end of input";
	c = (unsigned char)p->src[off];
	if (c == '\n' ||
	    (c == '\r' && off + 1 < p->len && p->src[off + 1] == '\n'))
		return "end of line";
	if (c >= 0x21 && c < 0x7F)
		snprintf(buf, n, "'%c'", c);
	else if (c == ' ')
		snprintf(buf, n, "a space");
	else if (c < 0x80)
		snprintf(buf, n, "control character U+%04X", c);
	else
		snprintf(buf, n, "non-ASCII character");
	return buf;
}

/* Writes a key printable (quoted bytes escaped, long keys cut) into buf. */
static void key_text(char *buf, size_t n, const char *k, size_t klen)
{
	size_t i, o = 0;

	for (i = 0; i < klen && o + 8 < n; i++) {
		unsigned char c = (unsigned char)k[i];

		if (i >= MSG_KEY_MAX) {
			o += (size_t)snprintf(buf + o, n - o, "...");
			break;
		}
		if (c >= 0x20 && c != 0x7F)
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, n - o, "\\x%02X", c);
	}
	buf[o < n ? o : n - 1] = '\0';
}

/* Dotted path of parts [0, upto] for messages. */
static void path_text(struct parser *p, size_t upto, char *buf, size_t n)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i <= upto && i < p->nparts && o + 2 < n; i++) {
		if (i)
			buf[o++] = '.';
		key_text(buf + o, n - o, p->parts[i].s, p->parts[i].len);
		o += strlen(buf + o);
	}
}

/* ---- tables ---- */

static uint32_t key_hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return (uint32_t)h;
}

static struct gm_toml_entry *table_find(const struct gm_toml_value *t,
					const char *k, size_t klen,
					uint32_t hash)
{
	size_t i;

	if (t->u.t.idx_cap) {
		size_t mask = t->u.t.idx_cap - 1;

		for (i = hash & mask;; i = (i + 1) & mask) {
			uint32_t slot = t->u.t.idx[i];
			struct gm_toml_entry *e;

			if (!slot)
				return NULL;
			e = &t->u.t.ents[slot - 1];
			if (e->hash == hash && e->klen == klen &&
			    memcmp(e->key, k, klen) == 0)
				return e;
		}
	}
	for (i = 0; i < t->u.t.len; i++) {
		struct gm_toml_entry *e = &t->u.t.ents[i];

		if (e->hash == hash && e->klen == klen &&
		    memcmp(e->key, k, klen) == 0)
			return e;
	}
	return NULL;
}

static void index_put(uint32_t *idx, size_t cap, uint32_t hash, uint32_t slot)
{
	size_t mask = cap - 1, i;

	for (i = hash & mask; idx[i]; i = (i + 1) & mask)
		;
	idx[i] = slot;
}

/* Appends an entry (the key must be absent); the key is not copied. */
static gm_err table_insert(struct parser *p, struct gm_toml_value *t,
			   const struct keypart *k, struct gm_toml_value *v)
{
	struct gm_toml_entry *e;
	size_t n = t->u.t.len;

	if (n == t->u.t.cap) {
		size_t cap = n ? n * 2 : 4;

		if (cap > UINT32_MAX / 2)
			return perr_code(p, GM_ELIMIT, k->at.off,
					 "too many keys in one table");
		e = arena_grow(p->doc, t->u.t.ents, n * sizeof(*e),
			       cap * sizeof(*e));
		if (!e)
			return oom(p);
		t->u.t.ents = e;
		t->u.t.cap = cap;
	}
	e = &t->u.t.ents[n];
	e->key = k->s;
	e->klen = k->len;
	e->hash = k->hash;
	e->line = k->at.line;
	e->column = k->at.column;
	e->val = v;
	t->u.t.len = n + 1;

	if (t->u.t.len < TABLE_INDEX_MIN)
		return GM_OK;
	if (t->u.t.len * 2 > t->u.t.idx_cap) {
		size_t cap = t->u.t.idx_cap ? t->u.t.idx_cap * 2 : 32;
		uint32_t *idx;
		size_t i;

		while (cap < t->u.t.len * 2)
			cap *= 2;
		idx = arena_alloc(p->doc, cap * sizeof(*idx));
		if (!idx)
			return oom(p);
		memset(idx, 0, cap * sizeof(*idx));
		for (i = 0; i < t->u.t.len; i++)
			index_put(idx, cap, t->u.t.ents[i].hash,
				  (uint32_t)i + 1);
		t->u.t.idx = idx;
		t->u.t.idx_cap = cap;
	} else {
		index_put(t->u.t.idx, t->u.t.idx_cap, e->hash,
			  (uint32_t)t->u.t.len);
	}
	return GM_OK;
}

static struct srcpos here(struct parser *p, size_t off)
{
	struct srcpos sp;

	sp.off = off;
	locate(p, off, &sp.line, &sp.column);
	return sp;
}

static gm_err new_value(struct parser *p, enum gm_toml_type type,
			unsigned depth, struct srcpos at,
			struct gm_toml_value **out)
{
	struct gm_toml_value *v;

	if ((type == GM_TOML_TABLE || type == GM_TOML_ARRAY) &&
	    depth > GM_TOML_MAX_DEPTH)
		return perr_code(p, GM_ELIMIT, at.off,
				 "tables and arrays nest deeper than %d levels",
				 GM_TOML_MAX_DEPTH);
	v = arena_alloc(p->doc, sizeof(*v));
	if (!v)
		return oom(p);
	memset(v, 0, sizeof(*v));
	v->type = (uint8_t)type;
	v->depth = (uint16_t)depth;
	v->line = at.line;
	v->column = at.column;
	*out = v;
	return GM_OK;
}

static gm_err array_push(struct parser *p, struct gm_toml_value *a,
			 struct gm_toml_value *v)
{
	size_t n = a->u.a.len;

	if (n == a->u.a.cap) {
		size_t cap = n ? n * 2 : 4;
		struct gm_toml_value **items;

		items = arena_grow(p->doc, a->u.a.items, n * sizeof(*items),
				   cap * sizeof(*items));
		if (!items)
			return oom(p);
		a->u.a.items = items;
		a->u.a.cap = cap;
	}
	a->u.a.items[n] = v;
	a->u.a.len = n + 1;
	return GM_OK;
}

/* ---- lexical helpers ---- */

static bool at(const struct parser *p, size_t off, char c)
{
	return off < p->len && p->src[off] == c;
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       is_digit(c) || c == '_' || c == '-';
}

static bool is_control(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7F;
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len &&
	       (p->src[p->pos] == ' ' || p->src[p->pos] == '\t'))
		p->pos++;
}

/* Length of the newline at off: 1 for LF, 2 for CRLF, else 0. */
static size_t newline_at(const struct parser *p, size_t off)
{
	if (at(p, off, '\n'))
		return 1;
	if (at(p, off, '\r') && at(p, off + 1, '\n'))
		return 2;
	return 0;
}

/* pos is at '#': skips up to (not over) the newline. */
static gm_err skip_comment(struct parser *p)
{
	while (p->pos < p->len) {
		unsigned char c = (unsigned char)p->src[p->pos];

		if (c == '\n' || newline_at(p, p->pos))
			return GM_OK;
		if (is_control(c))
			return perr(p, p->pos,
				    "control character U+%04X is not allowed "
				    "in a comment",
				    c);
		p->pos++;
	}
	return GM_OK;
}

/* Skips spaces, tabs, newlines and comments (inside arrays). */
static gm_err skip_ws_nl(struct parser *p)
{
	gm_err e;
	size_t nl;

	for (;;) {
		skip_ws(p);
		if (at(p, p->pos, '#')) {
			e = skip_comment(p);
			if (e)
				return e;
		}
		nl = newline_at(p, p->pos);
		if (!nl)
			return GM_OK;
		p->pos += nl;
	}
}

/* After a key/value pair or a header: optional comment, then newline. */
static gm_err end_of_line(struct parser *p, const char *after)
{
	char buf[48];
	size_t nl;
	gm_err e;

	skip_ws(p);
	if (at(p, p->pos, '#')) {
		e = skip_comment(p);
		if (e)
			return e;
	}
	if (p->pos >= p->len)
		return GM_OK;
	nl = newline_at(p, p->pos);
	if (!nl)
		return perr(p, p->pos,
			    "expected end of line after %s, found %s", after,
			    describe(p, p->pos, buf, sizeof(buf)));
	p->pos += nl;
	return GM_OK;
}

/* Checks the whole input is UTF-8 without overlongs or surrogates. */
static gm_err check_utf8(struct parser *p)
{
	const unsigned char *s = (const unsigned char *)p->src;
	size_t i = 0, n = p->len;

	while (i < n) {
		unsigned char c = s[i];
		size_t k, need;
		unsigned char lo = 0x80, hi = 0xBF;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			need = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			need = 2;
			if (c == 0xE0)
				lo = 0xA0;
			else if (c == 0xED)
				hi = 0x9F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			need = 3;
			if (c == 0xF0)
				lo = 0x90;
			else if (c == 0xF4)
				hi = 0x8F;
		} else {
			goto bad;
		}
		if ((uint64_t)i + 1 + need > n)
			goto bad;
		if (s[i + 1] < lo || s[i + 1] > hi)
			goto bad;
		for (k = 2; k <= need; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				goto bad;
		i += 1 + need;
		continue;
	bad:
		return perr(p, i,
			    "invalid UTF-8 byte 0x%02X (the file must be "
			    "UTF-8 encoded)",
			    c);
	}
	return GM_OK;
}

/* ---- strings ---- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static gm_err put_byte(struct parser *p, unsigned char c)
{
	if (gm_buf_append_byte(&p->sbuf, c))
		return oom(p);
	return GM_OK;
}

static gm_err put_utf8(struct parser *p, uint32_t cp)
{
	unsigned char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xE0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xF0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	if (gm_buf_append(&p->sbuf, b, n))
		return oom(p);
	return GM_OK;
}

/* pos is at the backslash of an escape in a basic string. */
static gm_err read_escape(struct parser *p)
{
	size_t start = p->pos;
	char buf[48];
	size_t i, ndig;
	uint32_t cp = 0;
	char c;

	if (p->pos + 1 >= p->len)
		return perr(p, start, "unterminated escape sequence");
	c = p->src[p->pos + 1];
	p->pos += 2;
	switch (c) {
	case 'b':
		return put_byte(p, '\b');
	case 't':
		return put_byte(p, '\t');
	case 'n':
		return put_byte(p, '\n');
	case 'f':
		return put_byte(p, '\f');
	case 'r':
		return put_byte(p, '\r');
	case '"':
		return put_byte(p, '"');
	case '\\':
		return put_byte(p, '\\');
	case 'u':
		ndig = 4;
		break;
	case 'U':
		ndig = 8;
		break;
	default:
		return perr(p, start,
			    "invalid escape sequence '\\' followed by %s "
			    "(allowed: \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX "
			    "\\UXXXXXXXX)",
			    describe(p, start + 1, buf, sizeof(buf)));
	}
	for (i = 0; i < ndig; i++) {
		int h = p->pos + i < p->len ? hexval(p->src[p->pos + i]) : -1;

		if (h < 0)
			return perr(p, start,
				    "\\%c escape needs %zu hexadecimal digits",
				    c, ndig);
		cp = cp * 16 + (uint32_t)h;
	}
	p->pos += ndig;
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return perr(p, start,
			    "escape \\%c%0*" PRIX32
			    " is not a Unicode scalar value",
			    c, (int)ndig, cp);
	return put_utf8(p, cp);
}

/* Copies the scratch buffer into the arena as a NUL-terminated string. */
static gm_err take_string(struct parser *p, char **out, size_t *len)
{
	char *s = arena_alloc(p->doc, p->sbuf.len + 1);

	if (!s)
		return oom(p);
	if (p->sbuf.len)
		memcpy(s, p->sbuf.data, p->sbuf.len);
	s[p->sbuf.len] = '\0';
	*out = s;
	*len = p->sbuf.len;
	return GM_OK;
}

/*
 * Reads a string of any of the four kinds at pos into the arena. Multi-line
 * forms are refused when for_key is set.
 */
static gm_err read_string(struct parser *p, bool for_key, char **out,
			  size_t *len)
{
	size_t start = p->pos;
	char q = p->src[p->pos];
	bool basic = q == '"';
	bool ml = at(p, start + 1, q) && at(p, start + 2, q);
	const char *kind = basic ? "basic" : "literal";
	size_t nl;
	gm_err e;

	gm_buf_reset(&p->sbuf);
	if (ml && for_key)
		return perr(p, start, "a key cannot be a multi-line string");
	if (!ml) {
		p->pos++;
		for (;;) {
			unsigned char c;

			if (p->pos >= p->len || newline_at(p, p->pos))
				return perr(p, start,
					    "unterminated %s string (add the "
					    "closing %c on the same line)",
					    kind, q);
			c = (unsigned char)p->src[p->pos];
			if (c == (unsigned char)q) {
				p->pos++;
				break;
			}
			if (basic && c == '\\') {
				e = read_escape(p);
				if (e)
					return e;
				continue;
			}
			if (is_control(c))
				return perr(
				    p, p->pos,
				    "control character U+%04X is not "
				    "allowed in a string (use an escape)",
				    c);
			e = put_byte(p, c);
			if (e)
				return e;
			p->pos++;
		}
		return take_string(p, out, len);
	}

	p->pos += 3;
	p->pos += newline_at(p, p->pos); /* a first newline is trimmed */
	for (;;) {
		unsigned char c;

		if (p->pos >= p->len)
			return perr(p, start,
				    "unterminated multi-line %s string (close "
				    "it with %c%c%c)",
				    kind, q, q, q);
		c = (unsigned char)p->src[p->pos];
		if (c == (unsigned char)q) {
			size_t run = 0, i;

			while (at(p, p->pos + run, q))
				run++;
			if (run >= 3) {
				if (run > 5)
					return perr(
					    p, p->pos + 5,
					    "too many quotes at the end "
					    "of a multi-line string");
				for (i = 3; i < run; i++) {
					e = put_byte(p, c);
					if (e)
						return e;
				}
				p->pos += run;
				break;
			}
			for (i = 0; i < run; i++) {
				e = put_byte(p, c);
				if (e)
					return e;
			}
			p->pos += run;
			continue;
		}
		nl = newline_at(p, p->pos);
		if (nl) {
			e = put_byte(p, '\n');
			if (e)
				return e;
			p->pos += nl;
			continue;
		}
		if (basic && c == '\\') {
			size_t j = p->pos + 1;

			while (at(p, j, ' ') || at(p, j, '\t'))
				j++;
			if (newline_at(p, j)) {
				/* line-ending backslash: trim to next text */
				p->pos = j;
				while ((nl = newline_at(p, p->pos)) ||
				       at(p, p->pos, ' ') ||
				       at(p, p->pos, '\t'))
					p->pos += nl ? nl : 1;
				continue;
			}
			e = read_escape(p);
			if (e)
				return e;
			continue;
		}
		if (is_control(c))
			return perr(
			    p, p->pos,
			    "control character U+%04X is not allowed in "
			    "a string (use an escape)",
			    c);
		e = put_byte(p, c);
		if (e)
			return e;
		p->pos++;
	}
	return take_string(p, out, len);
}

/* ---- keys ---- */

static gm_err push_part(struct parser *p, const char *s, size_t len, size_t off)
{
	struct keypart *k;

	if (p->nparts >= GM_TOML_MAX_DEPTH)
		return perr_code(p, GM_ELIMIT, off,
				 "key has more than %d dotted parts",
				 GM_TOML_MAX_DEPTH);
	if (p->nparts == p->parts_cap) {
		size_t cap = p->parts_cap ? p->parts_cap * 2 : 8;

		k = gm_reallocarray(p->parts, cap, sizeof(*k));
		if (!k)
			return oom(p);
		p->parts = k;
		p->parts_cap = cap;
	}
	k = &p->parts[p->nparts++];
	k->s = s;
	k->len = len;
	k->hash = key_hash(s, len);
	k->at = here(p, off);
	return GM_OK;
}

/* Reads a (possibly dotted) key into p->parts. */
static gm_err read_key(struct parser *p)
{
	char buf[48];
	gm_err e;

	p->nparts = 0;
	for (;;) {
		size_t start = p->pos;
		char *s;
		size_t len;

		if (at(p, start, '"') || at(p, start, '\'')) {
			e = read_string(p, true, &s, &len);
			if (e)
				return e;
		} else {
			while (p->pos < p->len && is_bare(p->src[p->pos]))
				p->pos++;
			len = p->pos - start;
			if (!len)
				return perr(
				    p, start,
				    "expected a key, found %s (bare "
				    "keys use A-Z a-z 0-9 _ -; quote "
				    "others)",
				    describe(p, start, buf, sizeof(buf)));
			s = arena_alloc(p->doc, len + 1);
			if (!s)
				return oom(p);
			memcpy(s, p->src + start, len);
			s[len] = '\0';
		}
		e = push_part(p, s, len, start);
		if (e)
			return e;
		skip_ws(p);
		if (!at(p, p->pos, '.'))
			return GM_OK;
		p->pos++;
		skip_ws(p);
	}
}

/* ---- numbers and dates ---- */

/*
 * Checks digits with single underscores between them from s[*i]; digit()
 * says which characters are digits. Returns false on a bad underscore or no
 * digit at all.
 */
static bool scan_digits(const char *s, size_t n, size_t *i,
			bool (*digit)(int c))
{
	size_t j = *i;

	if (j >= n || !digit(s[j]))
		return false;
	while (j < n) {
		if (digit(s[j])) {
			j++;
		} else if (s[j] == '_') {
			if (j + 1 >= n || !digit(s[j + 1]))
				return false;
			j++;
		} else {
			break;
		}
	}
	*i = j;
	return true;
}

static bool is_hex(int c)
{
	return hexval(c) >= 0;
}

static bool is_oct(int c)
{
	return c >= '0' && c <= '7';
}

static bool is_bin(int c)
{
	return c == '0' || c == '1';
}

static bool is_num_char(int c)
{
	return is_bare(c) || c == '.' || c == '+';
}

/* Parses a whole integer token; *overflow tells range from syntax. */
static bool parse_int(const char *s, size_t n, int64_t *out, bool *overflow)
{
	size_t i = 0, j;
	bool neg = false;
	unsigned base = 10;
	uint64_t v = 0, lim;
	bool (*digit)(int) = is_digit;

	*overflow = false;
	if (n && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (n - i >= 2 && s[i] == '0' &&
	    (s[i + 1] == 'x' || s[i + 1] == 'o' || s[i + 1] == 'b')) {
		if (i)
			return false; /* no sign on prefixed integers */
		base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
		digit = base == 16 ? is_hex : base == 8 ? is_oct : is_bin;
		i = 2;
	} else if (n - i >= 2 && s[i] == '0') {
		return false; /* leading zero */
	}
	j = i;
	if (!scan_digits(s, n, &j, digit) || j != n)
		return false;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		unsigned d;

		if (s[i] == '_')
			continue;
		d = (unsigned)hexval(s[i]);
		if (v > (lim - d) / base) {
			*overflow = true;
			return false;
		}
		v = v * base + d;
	}
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return true;
}

/* Checks the float grammar over a whole token. */
static bool float_syntax(const char *s, size_t n)
{
	size_t i = 0;
	bool frac = false, exp = false;

	if (n && (s[0] == '+' || s[0] == '-'))
		i = 1;
	if (i < n && s[i] == '0' && i + 1 < n && is_digit(s[i + 1]))
		return false;
	if (!scan_digits(s, n, &i, is_digit))
		return false;
	if (i < n && s[i] == '.') {
		i++;
		if (!scan_digits(s, n, &i, is_digit))
			return false;
		frac = true;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (!scan_digits(s, n, &i, is_digit))
			return false;
		exp = true;
	}
	return i == n && (frac || exp);
}

static gm_err read_number(struct parser *p, struct gm_toml_value *v)
{
	size_t start = p->pos, end = p->pos, i;
	const char *s = p->src + start;
	bool overflow;
	char *endp;
	double f;
	gm_err e;
	size_t n;

	while (end < p->len && is_num_char(p->src[end]))
		end++;
	n = end - start;
	p->pos = end;

	/* inf and nan, signed or not */
	if (n >= 3) {
		const char *w = s + n - 3;
		size_t sign = n - 3;

		if (sign <= 1 && (sign == 0 || s[0] == '+' || s[0] == '-') &&
		    (memcmp(w, "inf", 3) == 0 || memcmp(w, "nan", 3) == 0)) {
			v->type = GM_TOML_FLOAT;
			if (w[0] == 'i')
				v->u.f =
				    sign && s[0] == '-' ? -INFINITY : INFINITY;
			else
				v->u.f = sign && s[0] == '-' ? -NAN : NAN;
			return GM_OK;
		}
	}
	if (parse_int(s, n, &v->u.i, &overflow)) {
		v->type = GM_TOML_INTEGER;
		return GM_OK;
	}
	if (overflow)
		return perr(p, start,
			    "integer '%.*s' does not fit in 64 bits (range "
			    "-9223372036854775808 to 9223372036854775807)",
			    (int)(n > 40 ? 40 : n), s);
	if (!float_syntax(s, n)) {
		if (n > 40)
			n = 40;
		return perr(p, start,
			    "invalid number '%.*s' (integers: 42, 0x2A, "
			    "0o52, 0b101010, 1_000; floats: 3.14, 1e6, inf, "
			    "nan)",
			    (int)n, s);
	}
	gm_buf_reset(&p->sbuf);
	for (i = 0; i < n; i++) {
		if (s[i] == '_')
			continue;
		e = put_byte(p, (unsigned char)s[i]);
		if (e)
			return e;
	}
	errno = 0;
	f = strtod((const char *)p->sbuf.data, &endp);
	if (endp != (const char *)p->sbuf.data + p->sbuf.len)
		return perr(p, start, "invalid float '%.*s'",
			    (int)(n > 40 ? 40 : n), s);
	if (isinf(f))
		return perr(p, start,
			    "float '%.*s' is too large for a 64-bit float",
			    (int)(n > 40 ? 40 : n), s);
	v->type = GM_TOML_FLOAT;
	v->u.f = f;
	return GM_OK;
}

/* Reads n digits at off into *out; false if any is not a digit. */
static bool digits_at(const struct parser *p, size_t off, size_t n,
		      unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if ((uint64_t)off + n > p->len)
		return false;
	for (i = 0; i < n; i++) {
		if (!is_digit(p->src[off + i]))
			return false;
		v = v * 10 + (unsigned)(p->src[off + i] - '0');
	}
	*out = v;
	return true;
}

static bool is_time_at(const struct parser *p, size_t off)
{
	unsigned x;

	return digits_at(p, off, 2, &x) && at(p, off + 2, ':');
}

static bool is_date_at(const struct parser *p, size_t off)
{
	unsigned x;

	return digits_at(p, off, 4, &x) && at(p, off + 4, '-');
}

/* Reads HH:MM:SS[.frac] at pos into the scratch buffer. */
static gm_err read_time(struct parser *p)
{
	size_t start = p->pos, f;
	unsigned h, m, s;

	if (!digits_at(p, start, 2, &h) || !at(p, start + 2, ':') ||
	    !digits_at(p, start + 3, 2, &m) || !at(p, start + 5, ':') ||
	    !digits_at(p, start + 6, 2, &s))
		return perr(p, start,
			    "invalid time: expected HH:MM:SS (two digits "
			    "each, seconds required)");
	if (h > 23 || m > 59 || s > 60)
		return perr(p, start,
			    "invalid time %02u:%02u:%02u (hour 00-23, minute "
			    "00-59, second 00-60)",
			    h, m, s);
	f = start + 8;
	if (at(p, f, '.')) {
		f++;
		if (f >= p->len || !is_digit(p->src[f]))
			return perr(p, f, "expected digits after '.' in time");
		while (f < p->len && is_digit(p->src[f]))
			f++;
	}
	if (gm_buf_append(&p->sbuf, p->src + start, f - start))
		return oom(p);
	p->pos = f;
	return GM_OK;
}

static gm_err read_datetime(struct parser *p, struct gm_toml_value *v)
{
	static const unsigned char mdays[12] = {31, 29, 31, 30, 31, 30,
						31, 31, 30, 31, 30, 31};
	size_t start = p->pos;
	unsigned y, mo, d, oh, om;
	char c;
	gm_err e;

	gm_buf_reset(&p->sbuf);
	if (is_time_at(p, start)) {
		e = read_time(p);
		if (e)
			return e;
		v->type = GM_TOML_TIME_LOCAL;
		return take_string(p, &v->u.s.ptr, &v->u.s.len);
	}
	if (!digits_at(p, start, 4, &y) || !at(p, start + 4, '-') ||
	    !digits_at(p, start + 5, 2, &mo) || !at(p, start + 7, '-') ||
	    !digits_at(p, start + 8, 2, &d))
		return perr(p, start,
			    "invalid date: expected YYYY-MM-DD (with leading "
			    "zeros)");
	if (mo < 1 || mo > 12)
		return perr(p, start + 5,
			    "invalid date %04u-%02u-%02u: month must be 01-12",
			    y, mo, d);
	if (d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 &&
	     !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))))
		return perr(p, start + 8,
			    "invalid date %04u-%02u-%02u: no such day in "
			    "that month",
			    y, mo, d);
	if (gm_buf_append(&p->sbuf, p->src + start, 10))
		return oom(p);
	p->pos = start + 10;
	c = p->pos < p->len ? p->src[p->pos] : 0;
	if (!(c == 'T' || c == 't' ||
	      (c == ' ' && is_time_at(p, p->pos + 1)))) {
		v->type = GM_TOML_DATE_LOCAL;
		return take_string(p, &v->u.s.ptr, &v->u.s.len);
	}
	p->pos++;
	if (put_byte(p, 'T'))
		return oom(p);
	e = read_time(p);
	if (e)
		return e;
	c = p->pos < p->len ? p->src[p->pos] : 0;
	if (c == 'Z' || c == 'z') {
		p->pos++;
		if (put_byte(p, 'Z'))
			return oom(p);
	} else if (c == '+' || c == '-') {
		if (!digits_at(p, p->pos + 1, 2, &oh) ||
		    !at(p, p->pos + 3, ':') ||
		    !digits_at(p, p->pos + 4, 2, &om))
			return perr(p, p->pos,
				    "invalid time offset: expected +HH:MM or "
				    "-HH:MM");
		if (oh > 23 || om > 59)
			return perr(p, p->pos,
				    "invalid time offset %c%02u:%02u", c, oh,
				    om);
		if (gm_buf_append(&p->sbuf, p->src + p->pos, 6))
			return oom(p);
		p->pos += 6;
	} else {
		v->type = GM_TOML_DATETIME_LOCAL;
		return take_string(p, &v->u.s.ptr, &v->u.s.len);
	}
	v->type = GM_TOML_DATETIME;
	return take_string(p, &v->u.s.ptr, &v->u.s.len);
}

/* ---- values ---- */

static gm_err read_value(struct parser *p, unsigned depth,
			 struct gm_toml_value **out);
static gm_err read_keyval(struct parser *p, struct gm_toml_value *table);

static bool word_at(const struct parser *p, const char *w)
{
	size_t n = strlen(w);

	return (uint64_t)p->pos + n <= p->len &&
	       memcmp(p->src + p->pos, w, n) == 0;
}

static gm_err read_array(struct parser *p, struct gm_toml_value *a)
{
	char buf[48];
	gm_err e;

	p->pos++;
	for (;;) {
		struct gm_toml_value *item;

		e = skip_ws_nl(p);
		if (e)
			return e;
		if (at(p, p->pos, ']')) {
			p->pos++;
			return GM_OK;
		}
		e = read_value(p, a->depth + 1u, &item);
		if (e)
			return e;
		e = array_push(p, a, item);
		if (e)
			return e;
		e = skip_ws_nl(p);
		if (e)
			return e;
		if (at(p, p->pos, ',')) {
			p->pos++;
			continue;
		}
		if (at(p, p->pos, ']')) {
			p->pos++;
			return GM_OK;
		}
		return perr(p, p->pos, "expected ',' or ']' in array, found %s",
			    describe(p, p->pos, buf, sizeof(buf)));
	}
}

static gm_err read_inline_table(struct parser *p, struct gm_toml_value *t)
{
	char buf[48];
	gm_err e;

	p->pos++;
	skip_ws(p);
	if (at(p, p->pos, '}')) {
		p->pos++;
		return GM_OK;
	}
	for (;;) {
		e = read_keyval(p, t);
		if (e)
			return e;
		skip_ws(p);
		if (at(p, p->pos, ',')) {
			p->pos++;
			skip_ws(p);
			if (at(p, p->pos, '}'))
				return perr(p, p->pos,
					    "trailing comma is not allowed in "
					    "an inline table");
			continue;
		}
		if (at(p, p->pos, '}')) {
			p->pos++;
			return GM_OK;
		}
		if (p->pos < p->len && newline_at(p, p->pos))
			return perr(
			    p, p->pos,
			    "expected ',' or '}' in inline table, found "
			    "end of line (inline tables must be on one "
			    "line)");
		return perr(p, p->pos,
			    "expected ',' or '}' in inline table, found %s",
			    describe(p, p->pos, buf, sizeof(buf)));
	}
}

static gm_err read_value(struct parser *p, unsigned depth,
			 struct gm_toml_value **out)
{
	size_t start = p->pos;
	struct gm_toml_value *v;
	char buf[48];
	gm_err e;
	char c;

	if (start >= p->len || newline_at(p, start) || at(p, start, '#'))
		return perr(p, start, "expected a value, found %s",
			    describe(p, start, buf, sizeof(buf)));
	c = p->src[start];
	e = new_value(p, GM_TOML_STRING, depth, here(p, start), &v);
	if (e)
		return e;
	*out = v;
	switch (c) {
	case '"':
	case '\'':
		return read_string(p, false, &v->u.s.ptr, &v->u.s.len);
	case 't':
	case 'f':
		if (word_at(p, "true") || word_at(p, "false")) {
			v->type = GM_TOML_BOOL;
			v->u.b = c == 't';
			p->pos += c == 't' ? 4 : 5;
			return GM_OK;
		}
		break;
	case '[':
	case '{':
		if (depth > GM_TOML_MAX_DEPTH)
			return perr_code(p, GM_ELIMIT, start,
					 "tables and arrays nest deeper than "
					 "%d levels",
					 GM_TOML_MAX_DEPTH);
		if (c == '[') {
			v->type = GM_TOML_ARRAY;
			return read_array(p, v);
		}
		v->type = GM_TOML_TABLE;
		v->flags = TF_INLINE;
		return read_inline_table(p, v);
	default:
		if (is_date_at(p, start) || is_time_at(p, start))
			return read_datetime(p, v);
		if (is_digit(c) || c == '+' || c == '-' || c == 'i' || c == 'n')
			return read_number(p, v);
		break;
	}
	return perr(p, start,
		    "expected a value (string, number, true/false, date, "
		    "array or inline table), found %s",
		    describe(p, start, buf, sizeof(buf)));
}

static const char *defined_as(const struct gm_toml_value *v)
{
	if (v->type == GM_TOML_TABLE) {
		if (v->flags & TF_INLINE)
			return "an inline table";
		if (v->flags & TF_DOTTED)
			return "a table (by dotted keys)";
		if (v->flags & TF_HEADER)
			return "a table (by a [header])";
		return "a table (implicitly, by a header below it)";
	}
	if (v->type == GM_TOML_ARRAY)
		return v->flags & AF_AOT ? "an array of tables" : "an array";
	switch (v->type) {
	case GM_TOML_STRING:
		return "a string";
	case GM_TOML_INTEGER:
		return "an integer";
	case GM_TOML_FLOAT:
		return "a float";
	case GM_TOML_BOOL:
		return "a boolean";
	default:
		return "a date/time";
	}
}

/* A key/value pair at pos, added to table (a dotted key adds subtables). */
static gm_err read_keyval(struct parser *p, struct gm_toml_value *table)
{
	struct gm_toml_value *t = table, *v;
	struct gm_toml_entry *e;
	struct keypart last;
	char kbuf[MSG_KEY_MAX * 4 + 16];
	char buf[48];
	size_t i;
	gm_err err;

	err = read_key(p);
	if (err)
		return err;
	skip_ws(p);
	if (!at(p, p->pos, '=')) {
		path_text(p, p->nparts - 1, kbuf, sizeof(kbuf));
		return perr(p, p->pos, "expected '=' after key '%s', found %s",
			    kbuf, describe(p, p->pos, buf, sizeof(buf)));
	}
	p->pos++;
	skip_ws(p);

	for (i = 0; i + 1 < p->nparts; i++) {
		struct keypart *k = &p->parts[i];

		e = table_find(t, k->s, k->len, k->hash);
		if (!e) {
			err = new_value(p, GM_TOML_TABLE, t->depth + 1u, k->at,
					&v);
			if (err)
				return err;
			v->flags = TF_DOTTED;
			err = table_insert(p, t, k, v);
			if (err)
				return err;
			t = v;
			continue;
		}
		v = e->val;
		if (v->type == GM_TOML_TABLE && (v->flags & TF_DOTTED)) {
			t = v;
			continue;
		}
		path_text(p, i, kbuf, sizeof(kbuf));
		return perr(p, k->at.off,
			    "cannot add keys to '%s' with a dotted key: it is "
			    "already %s at %" PRIu32 ":%" PRIu32,
			    kbuf, defined_as(v), e->line, e->column);
	}
	last = p->parts[p->nparts - 1];
	e = table_find(t, last.s, last.len, last.hash);
	if (e) {
		path_text(p, p->nparts - 1, kbuf, sizeof(kbuf));
		return perr(p, last.at.off,
			    "duplicate key '%s' (first defined at %" PRIu32
			    ":%" PRIu32 ")",
			    kbuf, e->line, e->column);
	}
	err = read_value(p, t->depth + 1u, &v);
	if (err)
		return err;
	return table_insert(p, t, &last, v);
}

/* A [header] or [[header]] at pos; *cur becomes the table it opens. */
static gm_err read_header(struct parser *p, struct gm_toml_value **cur)
{
	size_t start = p->pos;
	struct srcpos hdr = here(p, start);
	bool aot = at(p, start + 1, '[');
	struct gm_toml_value *t = p->doc->root, *v;
	struct gm_toml_entry *e;
	struct keypart *k;
	char kbuf[MSG_KEY_MAX * 4 + 16];
	char buf[48];
	size_t i;
	gm_err err;

	p->pos += aot ? 2 : 1;
	skip_ws(p);
	err = read_key(p);
	if (err)
		return err;
	skip_ws(p);
	if (!at(p, p->pos, ']') || (aot && !at(p, p->pos + 1, ']'))) {
		path_text(p, p->nparts - 1, kbuf, sizeof(kbuf));
		return perr(p, p->pos,
			    "expected '%s' after table name '%s', "
			    "found %s",
			    aot ? "]]" : "]", kbuf,
			    describe(p, p->pos, buf, sizeof(buf)));
	}
	p->pos += aot ? 2 : 1;

	for (i = 0; i + 1 < p->nparts; i++) {
		k = &p->parts[i];
		e = table_find(t, k->s, k->len, k->hash);
		if (!e) {
			err = new_value(p, GM_TOML_TABLE, t->depth + 1u, k->at,
					&v);
			if (err)
				return err;
			v->flags = TF_IMPLICIT;
			err = table_insert(p, t, k, v);
			if (err)
				return err;
			t = v;
			continue;
		}
		v = e->val;
		if (v->type == GM_TOML_TABLE && !(v->flags & TF_INLINE)) {
			t = v;
			continue;
		}
		if (v->type == GM_TOML_ARRAY && (v->flags & AF_AOT)) {
			t = v->u.a.items[v->u.a.len - 1];
			continue;
		}
		path_text(p, i, kbuf, sizeof(kbuf));
		return perr(p, k->at.off,
			    "cannot define a table under '%s': it is already "
			    "%s at %" PRIu32 ":%" PRIu32,
			    kbuf, defined_as(v), e->line, e->column);
	}

	k = &p->parts[p->nparts - 1];
	e = table_find(t, k->s, k->len, k->hash);
	path_text(p, p->nparts - 1, kbuf, sizeof(kbuf));
	if (!aot) {
		if (!e) {
			err =
			    new_value(p, GM_TOML_TABLE, t->depth + 1u, hdr, &v);
			if (err)
				return err;
			v->flags = TF_HEADER;
			err = table_insert(p, t, k, v);
			if (err)
				return err;
			*cur = v;
			return GM_OK;
		}
		v = e->val;
		if (v->type == GM_TOML_TABLE && v->flags == TF_IMPLICIT) {
			v->flags = TF_HEADER;
			v->line = hdr.line;
			v->column = hdr.column;
			*cur = v;
			return GM_OK;
		}
		if (v->type == GM_TOML_TABLE)
			return perr(p, start,
				    "table '%s' defined twice (it is already "
				    "%s at %" PRIu32 ":%" PRIu32 ")",
				    kbuf, defined_as(v), e->line, e->column);
		return perr(p, start,
			    "cannot define table '%s': the key is already %s "
			    "at %" PRIu32 ":%" PRIu32,
			    kbuf, defined_as(v), e->line, e->column);
	}
	if (!e) {
		err = new_value(p, GM_TOML_ARRAY, t->depth + 1u, hdr, &v);
		if (err)
			return err;
		v->flags = AF_AOT;
		err = table_insert(p, t, k, v);
		if (err)
			return err;
	} else {
		v = e->val;
		if (v->type != GM_TOML_ARRAY || !(v->flags & AF_AOT))
			return perr(p, start,
				    "cannot append to '%s' with [[%s]]: it is "
				    "already %s at %" PRIu32 ":%" PRIu32,
				    kbuf, kbuf, defined_as(v), e->line,
				    e->column);
	}
	t = v;
	err = new_value(p, GM_TOML_TABLE, t->depth + 1u, hdr, &v);
	if (err)
		return err;
	v->flags = TF_HEADER;
	err = array_push(p, t, v);
	if (err)
		return err;
	*cur = v;
	return GM_OK;
}

static gm_err read_document(struct parser *p)
{
	struct gm_toml_value *cur = p->doc->root;
	gm_err e;

	if (p->len >= 3 && memcmp(p->src, "\xEF\xBB\xBF", 3) == 0)
		p->pos = 3;
	for (;;) {
		char c;

		skip_ws(p);
		if (p->pos >= p->len)
			return GM_OK;
		c = p->src[p->pos];
		if (c == '#' || c == '\n' || c == '\r') {
			e = end_of_line(p, "a comment");
		} else if (c == '[') {
			e = read_header(p, &cur);
			if (!e)
				e = end_of_line(p, "a table header");
		} else {
			e = read_keyval(p, cur);
			if (!e)
				e = end_of_line(p, "a value");
		}
		if (e)
			return e;
	}
}

/* ---- public API ---- */

gm_err gm_toml_parse(struct gm_toml_doc **out, const char *src, size_t len,
		     struct gm_diag *d)
{
	struct gm_toml_doc *doc;
	struct parser p;
	gm_err e;

	*out = NULL;
	gm_diag_clear(d);
	if (!src && len)
		return gm_diag_set(d, GM_EINVAL, "no TOML input given");
	if (len > GM_TOML_MAX_INPUT)
		return gm_diag_set(d, GM_ELIMIT,
				   "TOML input is %zu bytes; the limit is %u",
				   len, GM_TOML_MAX_INPUT);
	doc = gm_calloc(1, sizeof(*doc));
	if (!doc)
		return gm_diag_set(d, GM_ENOMEM,
				   "out of memory while reading TOML");
	doc->next_chunk = CHUNK_MIN;
	memset(&p, 0, sizeof(p));
	p.src = src ? src : "";
	p.len = len;
	p.doc = doc;
	p.d = d;
	p.loc_line = 1;
	p.loc_col = 1;
	gm_buf_init(&p.sbuf, GM_TOML_MAX_INPUT);

	e = check_utf8(&p);
	if (e)
		goto out_free_doc;
	e = new_value(&p, GM_TOML_TABLE, 0, here(&p, 0), &doc->root);
	if (e)
		goto out_free_doc;
	doc->root->flags = TF_HEADER;
	e = read_document(&p);
	if (e)
		goto out_free_doc;
	gm_buf_release(&p.sbuf);
	gm_free(p.parts);
	*out = doc;
	return GM_OK;

out_free_doc:
	gm_buf_release(&p.sbuf);
	gm_free(p.parts);
	gm_toml_free(doc);
	return e;
}

void gm_toml_free(struct gm_toml_doc *doc)
{
	struct chunk *c, *next;

	if (!doc)
		return;
	for (c = doc->chunks; c; c = next) {
		next = c->next;
		gm_free(c);
	}
	gm_free(doc);
}

const struct gm_toml_value *gm_toml_root(const struct gm_toml_doc *doc)
{
	return doc ? doc->root : NULL;
}

enum gm_toml_type gm_toml_type(const struct gm_toml_value *v)
{
	return (enum gm_toml_type)v->type;
}

const char *gm_toml_type_name(enum gm_toml_type t)
{
	switch (t) {
	case GM_TOML_STRING:
		return "string";
	case GM_TOML_INTEGER:
		return "integer";
	case GM_TOML_FLOAT:
		return "float";
	case GM_TOML_BOOL:
		return "boolean";
	case GM_TOML_DATETIME:
		return "offset date-time";
	case GM_TOML_DATETIME_LOCAL:
		return "local date-time";
	case GM_TOML_DATE_LOCAL:
		return "local date";
	case GM_TOML_TIME_LOCAL:
		return "local time";
	case GM_TOML_ARRAY:
		return "array";
	case GM_TOML_TABLE:
		return "table";
	}
	return "unknown";
}

void gm_toml_pos(const struct gm_toml_value *v, uint32_t *line,
		 uint32_t *column)
{
	*line = v->line;
	*column = v->column;
}

size_t gm_toml_table_len(const struct gm_toml_value *t)
{
	return t && t->type == GM_TOML_TABLE ? t->u.t.len : 0;
}

const char *gm_toml_table_key(const struct gm_toml_value *t, size_t i,
			      size_t *len)
{
	GM_ASSERT(t->type == GM_TOML_TABLE && i < t->u.t.len);
	if (len)
		*len = t->u.t.ents[i].klen;
	return t->u.t.ents[i].key;
}

void gm_toml_table_key_pos(const struct gm_toml_value *t, size_t i,
			   uint32_t *line, uint32_t *column)
{
	GM_ASSERT(t->type == GM_TOML_TABLE && i < t->u.t.len);
	*line = t->u.t.ents[i].line;
	*column = t->u.t.ents[i].column;
}

const struct gm_toml_value *gm_toml_table_value(const struct gm_toml_value *t,
						size_t i)
{
	GM_ASSERT(t->type == GM_TOML_TABLE && i < t->u.t.len);
	return t->u.t.ents[i].val;
}

const struct gm_toml_value *gm_toml_table_get(const struct gm_toml_value *t,
					      const char *key)
{
	struct gm_toml_entry *e;
	size_t n;

	if (!t || t->type != GM_TOML_TABLE || !key)
		return NULL;
	n = strlen(key);
	e = table_find(t, key, n, key_hash(key, n));
	return e ? e->val : NULL;
}

size_t gm_toml_array_len(const struct gm_toml_value *a)
{
	return a && a->type == GM_TOML_ARRAY ? a->u.a.len : 0;
}

const struct gm_toml_value *gm_toml_array_get(const struct gm_toml_value *a,
					      size_t i)
{
	GM_ASSERT(a->type == GM_TOML_ARRAY && i < a->u.a.len);
	return a->u.a.items[i];
}

const char *gm_toml_string(const struct gm_toml_value *v, size_t *len)
{
	GM_ASSERT(v->type == GM_TOML_STRING);
	if (len)
		*len = v->u.s.len;
	return v->u.s.ptr;
}

int64_t gm_toml_integer(const struct gm_toml_value *v)
{
	GM_ASSERT(v->type == GM_TOML_INTEGER);
	return v->u.i;
}

double gm_toml_float(const struct gm_toml_value *v)
{
	GM_ASSERT(v->type == GM_TOML_FLOAT);
	return v->u.f;
}

bool gm_toml_bool(const struct gm_toml_value *v)
{
	GM_ASSERT(v->type == GM_TOML_BOOL);
	return v->u.b;
}

const char *gm_toml_datetime(const struct gm_toml_value *v)
{
	GM_ASSERT(v->type >= GM_TOML_DATETIME && v->type <= GM_TOML_TIME_LOCAL);
	return v->u.s.ptr;
}
