/*
 * ignore.c - .ggenignore rules (see gm/ignore.h).
 *
 * Patterns are kept in file order; matching walks them all and the last
 * match wins, as in gitignore. A path is also left out when one of its
 * parent folders is (the importer does not descend into an ignored folder,
 * so this only matters for direct calls).
 */
#include "internal.h"

#include <fnmatch.h>

#include "gm/buf.h"
#include "gm/fs.h"
#include "gm/ignore.h"

struct pattern {
	char *glob;    /* without '!', leading '/' and trailing '/' */
	bool negate;   /* '!' */
	bool anchored; /* contains '/' (matched against the whole path) */
	bool dir_only; /* trailing '/' */
};

struct gm_ignore {
	struct pattern *p;
	size_t n;
};

void gm_ignore_close(struct gm_ignore *ig)
{
	size_t i;

	if (!ig)
		return;
	for (i = 0; i < ig->n; i++)
		gm_free(ig->p[i].glob);
	gm_free(ig->p);
	gm_free(ig);
}

static gm_err add_line(struct gm_ignore *ig, const char *s, size_t len,
		       unsigned line, struct gm_diag *d)
{
	struct pattern pat = {0};
	struct pattern *grown;

	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
		       s[len - 1] == '\r'))
		len--;
	if (!len || s[0] == '#')
		return GM_OK;
	if (ig->n == GM_IGNORE_MAX_PATTERNS)
		return gm_diag_set_at(d, GM_ELIMIT, line, 1,
				      ".ggenignore has more than %d patterns",
				      GM_IGNORE_MAX_PATTERNS);
	if (s[0] == '!') {
		pat.negate = true;
		s++;
		len--;
	} else if (s[0] == '\\' && len > 1 && (s[1] == '!' || s[1] == '#')) {
		s++;
		len--;
	}
	if (len && s[len - 1] == '/') {
		pat.dir_only = true;
		len--;
	}
	if (len && s[0] == '/') {
		pat.anchored = true;
		s++;
		len--;
	}
	if (!len)
		return gm_diag_set_at(d, GM_EPARSE, line, 1,
				      ".ggenignore line %u is an empty pattern",
				      line);
	if (memchr(s, '/', len))
		pat.anchored = true;
	pat.glob = gm_strndup(s, len);
	if (!pat.glob)
		return GM_ENOMEM;
	{
		/* "** / ** /" means "** /": collapse, then bound the number
		 * of "**" (each one multiplies the matching work by the
		 * path's depth) */
		char *p;
		int stars = 0;

		while ((p = strstr(pat.glob, "**/**")) != NULL)
			memmove(p, p + 3, strlen(p + 3) + 1);
		for (p = pat.glob; (p = strstr(p, "**")) != NULL; p += 2)
			stars++;
		if (stars > 2) {
			gm_free(pat.glob);
			return gm_diag_set_at(d, GM_EPARSE, line, 1,
					      ".ggenignore line %u has more "
					      "than two '**'; simplify the "
					      "pattern",
					      line);
		}
	}
	grown = gm_reallocarray(ig->p, ig->n + 1, sizeof(*grown));
	if (!grown) {
		gm_free(pat.glob);
		return GM_ENOMEM;
	}
	ig->p = grown;
	ig->p[ig->n++] = pat;
	return GM_OK;
}

gm_err gm_ignore_parse(struct gm_ignore **out, const char *text, size_t len,
		       struct gm_diag *d)
{
	struct gm_ignore *ig = gm_calloc(1, sizeof(*ig));
	size_t off = 0;
	unsigned line = 1;
	gm_err e = GM_OK;

	*out = NULL;
	if (!ig)
		return GM_ENOMEM;
	if (memchr(text, '\0', len)) {
		gm_free(ig);
		return gm_diag_set(d, GM_EPARSE,
				   ".ggenignore contains a NUL byte");
	}
	while (!e && off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t l = nl ? (size_t)(nl - text - off) : len - off;

		e = add_line(ig, text + off, l, line++, d);
		off += l + (nl ? 1 : 0);
	}
	if (e) {
		gm_ignore_close(ig);
		return e;
	}
	*out = ig;
	return GM_OK;
}

gm_err gm_ignore_open(struct gm_ignore **out, const char *root,
		      struct gm_diag *d)
{
	char *path = gm_path_join(root, GM_IGNORE_FILE);
	struct gm_buf b;
	gm_err e;

	if (!path)
		return GM_ENOMEM;
	gm_buf_init(&b, 64 * 1024);
	e = gm_fs_read_file(path, &b, d);
	if (e == GM_ENOENT) {
		gm_diag_clear(d);
		e = gm_ignore_parse(out, "", 0, d);
	} else if (!e) {
		e = gm_ignore_parse(out, b.data ? (char *)b.data : "", b.len,
				    d);
	}
	gm_buf_release(&b);
	gm_free(path);
	return e;
}

/*
 * fnmatch with '**' segments: "a/ ** /b" matches a/b, a/x/b, a/x/y/b;
 * a leading "** /" matches at any depth; a trailing "/ **" matches
 * everything inside.
 */
static bool glob_match(const char *glob, const char *path)
{
	const char *ss = strstr(glob, "**");
	char head[4096];
	size_t hl;
	const char *rest, *p;

	if (!ss)
		return fnmatch(glob, path, FNM_PATHNAME | FNM_PERIOD) == 0;
	hl = (size_t)(ss - glob);
	if (hl >= sizeof(head))
		return false;
	rest = ss + 2;
	if (*rest == '/')
		rest++;
	memcpy(head, glob, hl);
	head[hl] = '\0';
	/* head is "" or ends with '/': it must match a prefix of whole
	 * segments of path, then rest must match some suffix. */
	for (p = path;; p++) {
		if (p == path || p[-1] == '/') {
			size_t pl = (size_t)(p - path);
			char pre[4096];
			bool head_ok;

			if (pl >= sizeof(pre))
				return false;
			memcpy(pre, path, pl);
			pre[pl] = '\0';
			/* a leading "**" matches any prefix */
			head_ok = hl == 0 ||
				  fnmatch(head, pre, FNM_PATHNAME) == 0;
			if (head_ok) {
				const char *q;

				if (!*rest)
					return true;
				for (q = p;; q++) {
					if ((q == p || q[-1] == '/') &&
					    glob_match(rest, q))
						return true;
					if (!*q)
						break;
				}
			}
		}
		if (!*p)
			break;
	}
	return false;
}

static bool match_one(const struct pattern *pat, const char *rel,
		      bool is_dir)
{
	const char *base;

	if (pat->dir_only && !is_dir)
		return false;
	if (pat->anchored)
		return glob_match(pat->glob, rel);
	base = strrchr(rel, '/');
	return glob_match(pat->glob, base ? base + 1 : rel);
}

static bool builtin(const char *rel)
{
	const char *slash = strchr(rel, '/');
	size_t first = slash ? (size_t)(slash - rel) : strlen(rel);

	return (first == 4 && !memcmp(rel, ".git", 4)) ||
	       (first == 5 && !memcmp(rel, ".ggen", 5));
}

bool gm_ignore_match(const struct gm_ignore *ig, const char *rel, bool is_dir)
{
	char parent[4096];
	const char *slash;
	bool ignored = false;
	size_t i;

	if (builtin(rel))
		return true;
	/* a path inside an ignored folder is ignored */
	for (slash = strchr(rel, '/'); slash; slash = strchr(slash + 1, '/')) {
		size_t pl = (size_t)(slash - rel);

		if (pl >= sizeof(parent))
			break;
		memcpy(parent, rel, pl);
		parent[pl] = '\0';
		for (i = 0, ignored = false; i < ig->n; i++)
			if (match_one(&ig->p[i], parent, true))
				ignored = !ig->p[i].negate;
		if (ignored)
			return true;
	}
	for (i = 0, ignored = false; i < ig->n; i++)
		if (match_one(&ig->p[i], rel, is_dir))
			ignored = !ig->p[i].negate;
	return ignored;
}
