/*
 * bench_search.c - registry load and search latency on real package
 * metadata.
 *
 * Usage: bench_search [SHARED_DIR]   (default $GGEN_SHARED, else ../shared)
 * Env:   BENCH_SCALES  (default "10000 100000 all"), BENCH_REPEAT (runs of
 *        each query, default 5), BENCH_VERBOSE=1 (per-query medians),
 *        BENCH_KEEP=1 (keep each scale's database and print its path),
 *        BENCH_DB=PATH (no corpus, no load: run the queries on the
 *        registry at PATH, e.g. one kept by BENCH_KEEP, as scale "db"),
 *        BENCH_DUMP=FILE (write every query's hits, then those of a
 *        second page, limit 50 offset 30, to FILE: to diff two builds)
 *
 * Reads SHARED_DIR/corpus/npm.tsv.zst and pypi.tsv.zst through a
 * `zstd -dc` pipe:
 *
 *   file          | columns (tab separated, one header line)
 *   --------------+--------------------------------------------------------
 *   npm.tsv.zst   | name, version, downloads_a_month, summary
 *   pypi.tsv.zst  | name, version, month (YYYY-MM), rank, summary
 *
 * shuffles the 1.11M rows with a fixed seed, and for each scale loads the
 * first N into a fresh registry in a temporary folder through the bulk
 * path, as metadata-only releases: ns "npm" or "pypi"; name lowercased with
 * every byte outside [a-z0-9_-] turned into '-' and leading '-'/'_' dropped
 * (so "@types/node" is "types-node"), cut at 64 bytes; the version parsed
 * as SemVer, or else its leading numbers (major.minor.patch) for ordering
 * with the text kept as given; description = summary; kind "library";
 * published_at from the PyPI month; content absent. The bulk path does not
 * validate names, so this sanitizing is only to look like our packages.
 *
 * Then runs the fixed query set below BENCH_REPEAT times each and prints,
 * per scale: rows, load seconds, database size, and p50/p95/p99/max query
 * latency over all runs. The floor is p95 under 10 ms at 10k rows; it is
 * printed as PASS or FAIL and a FAIL makes the exit status 1.
 */
#include "internal.h"

#include <sys/wait.h>

#include "gm/fs.h"
#include "gm/registry.h"
#include "gm/search.h"

struct rec {
	const char *ns;
	char *name;
	char *version;
	char *desc;
	int64_t published_at;
};

struct bq {
	const char *text;
	const char *kind;
	const char *category;
	enum gm_search_sort sort;
};

/* The fixed query set: common searches, misspellings, filters, sorts. */
static const struct bq queries[] = {
    {"http server", NULL, NULL, 0},
    {"react", NULL, NULL, 0},
    {"json parser", NULL, NULL, 0},
    {"test", NULL, NULL, 0},
    {"rust web framework", NULL, NULL, 0},
    {"database orm", NULL, NULL, 0},
    {"machine learning", NULL, NULL, 0},
    {"requests", NULL, NULL, 0},
    {"numpy", NULL, NULL, 0},
    {"django rest", NULL, NULL, 0},
    {"flask extension", NULL, NULL, 0},
    {"websocket client", NULL, NULL, 0},
    {"command line parser", NULL, NULL, 0},
    {"yaml", NULL, NULL, 0},
    {"markdown to html", NULL, NULL, 0},
    {"date time formatting", NULL, NULL, 0},
    {"logging", NULL, NULL, 0},
    {"aws sdk", NULL, NULL, 0},
    {"image processing", NULL, NULL, 0},
    {"pdf", NULL, NULL, 0},
    {"graphql", NULL, NULL, 0},
    {"postgres driver", NULL, NULL, 0},
    {"redis cache", NULL, NULL, 0},
    {"crypto hash", NULL, NULL, 0},
    {"oauth2 authentication", NULL, NULL, 0},
    {"vue component", NULL, NULL, 0},
    {"typescript types", NULL, NULL, 0},
    {"eslint plugin", NULL, NULL, 0},
    {"webpack loader", NULL, NULL, 0},
    {"neural network", NULL, NULL, 0},
    {"data frame", NULL, NULL, 0},
    {"csv", NULL, NULL, 0},
    {"scraper", NULL, NULL, 0},
    {"async", NULL, NULL, 0},
    {"a", NULL, NULL, 0},
    {"lodash", NULL, NULL, 0},
    {"npm/express", NULL, NULL, 0},
    {"pypi/pandas", NULL, NULL, 0},
    /* Misspellings (did you mean). */
    {"reqeusts", NULL, NULL, 0},
    {"pnadas", NULL, NULL, 0},
    {"expresss", NULL, NULL, 0},
    {"tensorflwo", NULL, NULL, 0},
    {"lodahs", NULL, NULL, 0},
    {"djnago", NULL, NULL, 0},
    /* Filters and sorts. */
    {"http", "library", NULL, 0},
    {"parser", NULL, "web", 0},
    {"server", "library", NULL, GM_SEARCH_RECENT},
    {"json", NULL, NULL, GM_SEARCH_NAME},
    {"test framework", NULL, NULL, GM_SEARCH_RECENT},
    {NULL, NULL, "web", 0},
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *sanitize(const char *s, size_t len)
{
	char out[65];
	size_t i, n = 0;

	for (i = 0; i < len && n < 64; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			c = '-';
		if (n == 0 && (c == '-' || c == '_'))
			continue;
		out[n++] = c;
	}
	if (n == 0)
		out[n++] = 'x';
	return gm_strndup(out, n);
}

static void coerce_version(const char *v, struct gm_semver *sv)
{
	uint64_t parts[3] = {0, 0, 0};
	size_t k = 0;
	const char *p = v;

	if (gm_semver_parse(sv, v, strlen(v), NULL) == GM_OK)
		return;
	memset(sv, 0, sizeof(*sv));
	while (k < 3 && *p >= '0' && *p <= '9') {
		while (*p >= '0' && *p <= '9') {
			if (parts[k] < UINT64_MAX / 20)
				parts[k] = parts[k] * 10 + (uint64_t)(*p - '0');
			p++;
		}
		k++;
		if (*p != '.')
			break;
		p++;
	}
	sv->major = parts[0];
	sv->minor = parts[1];
	sv->patch = parts[2];
}

/* Splits line into at most max tab-separated fields (in place). */
static size_t split(char *line, char **f, size_t max)
{
	size_t n = 0;

	f[n++] = line;
	while (n < max) {
		char *t = strchr(f[n - 1], '\t');

		if (!t)
			break;
		*t = '\0';
		f[n++] = t + 1;
	}
	return n;
}

static int64_t month_epoch(const char *m)
{
	int y = 0, mo = 0;

	if (sscanf(m, "%d-%d", &y, &mo) != 2 || y < 1970 || mo < 1)
		return 0;
	return ((int64_t)(y - 1970) * 12 + (mo - 1)) * 2629746;
}

static int load_corpus(const char *dir, const char *file, const char *ns,
		       struct rec **recs, size_t *n, size_t *cap)
{
	char cmd[4200], *line = NULL;
	size_t lcap = 0;
	ssize_t len;
	bool header = true;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "zstd -dc '%s/corpus/%s'", dir, file);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while ((len = getline(&line, &lcap, f)) > 0) {
		char *fl[5];
		size_t nf;
		bool npm = strcmp(ns, "npm") == 0;
		struct rec *r;

		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (header) {
			header = false;
			continue;
		}
		nf = split(line, fl, npm ? 4 : 5);
		if (nf < (npm ? 4u : 5u) || !*fl[0] || !*fl[1])
			continue;
		if (*n == *cap) {
			struct rec *nr;

			*cap = *cap ? *cap * 2 : 1u << 20;
			nr = gm_reallocarray(*recs, *cap, sizeof(*nr));
			if (!nr)
				return -1;
			*recs = nr;
		}
		r = &(*recs)[*n];
		r->ns = ns;
		r->name = sanitize(fl[0], strlen(fl[0]));
		r->version = gm_strdup(fl[1]);
		r->desc = gm_strdup(fl[npm ? 3 : 4]);
		r->published_at = npm ? 0 : month_epoch(fl[2]);
		if (!r->name || !r->version || !r->desc)
			return -1;
		(*n)++;
	}
	free(line);
	return pclose(f) == 0 ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return v[i < n ? i : n - 1];
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : 0;
}

/* One query's result, in full, to f (BENCH_DUMP). */
static void dump(FILE *f, struct gm_registry *reg, const struct bq *bq,
		 size_t limit, size_t offset)
{
	struct gm_search_query q;
	struct gm_search_result res;
	struct gm_diag d;
	size_t i;

	memset(&q, 0, sizeof(q));
	q.text = bq->text;
	q.kind = bq->kind;
	q.category = bq->category;
	q.sort = bq->sort;
	q.limit = limit;
	q.offset = offset;
	q.hl_open = "[";
	q.hl_close = "]";
	if (gm_search(reg, &q, &res, &d)) {
		fprintf(f, "'%s': error %s\n", q.text ? q.text : "", d.msg);
		return;
	}
	fprintf(f,
		"'%s' limit %zu offset %zu: total %" PRIu64 "%s any %d n %zu\n",
		q.text ? q.text : "", limit, offset, res.total,
		res.total_capped ? "+" : "", res.any_term, res.n);
	for (i = 0; i < res.n; i++)
		fprintf(f, "  %s/%s %.9g %d %u %s\n", res.hits[i].ns,
			res.hits[i].name, res.hits[i].score, res.hits[i].exact,
			res.hits[i].matched, res.hits[i].highlighted);
	for (i = 0; i < res.n_suggestions; i++)
		fprintf(f, "  ? %s\n", res.suggestions[i]);
	gm_search_result_free(&res);
}

/*
 * Loads the first n records (none with BENCH_DB), runs the queries;
 * returns p95 in ms.
 */
static double run_scale(struct rec *recs, size_t n, int repeat, bool verbose)
{
	char tmpl[] = "/tmp/gm-bench-search-XXXXXX", path[256], wal[300];
	struct gm_registry *reg;
	struct gm_registry_bulk *b;
	struct gm_diag d;
	double t0, load = 0, *lat, p95;
	size_t i, nq = GM_ARRAY_LEN(queries), nl = 0;
	uint64_t added = 0, skipped = 0;
	const char *db = getenv("BENCH_DB"), *dumpf = getenv("BENCH_DUMP");
	int k;

	gm_diag_clear(&d);
	if (db) {
		snprintf(path, sizeof(path), "%s", db);
		snprintf(wal, sizeof(wal), "%s-wal", path);
		if (gm_registry_open(&reg, path, &d)) {
			fprintf(stderr, "bench_search: %s\n", d.msg);
			exit(2);
		}
		goto queries;
	}
	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(path, sizeof(path), "%s/registry.db", tmpl);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (gm_registry_open(&reg, path, &d) ||
	    gm_registry_bulk_begin(reg, &b, &d)) {
		fprintf(stderr, "bench_search: %s\n", d.msg);
		exit(2);
	}
	t0 = now_s();
	for (i = 0; i < n; i++) {
		struct gm_release_row row;

		memset(&row, 0, sizeof(row));
		row.ns = recs[i].ns;
		row.name = recs[i].name;
		row.version = recs[i].version;
		coerce_version(recs[i].version, &row.semver);
		row.kind = "library";
		row.description = recs[i].desc;
		row.published_at = recs[i].published_at;
		if (gm_registry_bulk_add(b, &row, &d)) {
			fprintf(stderr, "bench_search: row %zu: %s\n", i,
				d.msg);
			exit(2);
		}
	}
	if (gm_registry_bulk_commit(b, &added, &skipped, &d)) {
		fprintf(stderr, "bench_search: commit: %s\n", d.msg);
		exit(2);
	}
	load = now_s() - t0;
queries:
	if (dumpf) {
		FILE *f = fopen(dumpf, "w");

		if (!f) {
			perror(dumpf);
			exit(2);
		}
		for (i = 0; i < nq; i++)
			dump(f, reg, &queries[i], 0, 0);
		for (i = 0; i < nq; i++)
			dump(f, reg, &queries[i], 50, 30);
		fclose(f);
	}
	lat = gm_reallocarray(NULL, nq * (size_t)repeat, sizeof(*lat));
	if (!lat)
		exit(2);
	for (i = 0; i < nq; i++) {
		double ql[64];
		uint64_t total = 0;
		size_t ns = 0;

		for (k = 0; k < repeat && k < 64; k++) {
			struct gm_search_query q;
			struct gm_search_result res;

			memset(&q, 0, sizeof(q));
			q.text = queries[i].text;
			q.kind = queries[i].kind;
			q.category = queries[i].category;
			q.sort = queries[i].sort;
			q.hl_open = "[";
			q.hl_close = "]";
			t0 = now_s();
			if (gm_search(reg, &q, &res, &d)) {
				fprintf(stderr, "bench_search: '%s': %s\n",
					q.text ? q.text : "", d.msg);
				exit(2);
			}
			ql[k] = (now_s() - t0) * 1e3;
			lat[nl++] = ql[k];
			total = res.total;
			ns = res.n_suggestions;
			if (verbose && k == 0 && res.n)
				printf("    top: %s/%s\n", res.hits[0].ns,
				       res.hits[0].name);
			if (verbose && k == 0 && ns)
				printf("    did you mean: %s\n",
				       res.suggestions[0]);
			gm_search_result_free(&res);
		}
		if (verbose) {
			qsort(ql, (size_t)k, sizeof(double), cmp_double);
			printf("  %-26s %8.2f ms  total %" PRIu64
			       "  suggestions %zu\n",
			       queries[i].text ? queries[i].text : "(none)",
			       ql[k / 2], total, ns);
		}
	}
	qsort(lat, nl, sizeof(double), cmp_double);
	p95 = pct(lat, nl, 0.95);
	printf("%9zu %9" PRIu64 " %8.1f %9.0f %8.1f %8.2f %8.2f %8.2f %8.2f\n",
	       n, added, load, (double)added / (load > 0 ? load : 1),
	       (double)(file_size(path) + file_size(wal)) / 1048576.0,
	       pct(lat, nl, 0.50), p95, pct(lat, nl, 0.99), lat[nl - 1]);
	fflush(stdout);
	gm_free(lat);
	gm_registry_close(reg);
	if (db)
		return p95;
	if (getenv("BENCH_KEEP"))
		printf("kept %s\n", path);
	else
		gm_fs_remove_tree(tmpl, NULL);
	return p95;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : getenv("GGEN_SHARED");
	const char *scales = getenv("BENCH_SCALES");
	const char *rep = getenv("BENCH_REPEAT");
	bool verbose = getenv("BENCH_VERBOSE") != NULL;
	struct rec *recs = NULL;
	size_t n = 0, cap = 0, i;
	int repeat = rep ? (int)strtol(rep, NULL, 10) : 5, status = 0;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	char buf[256], *tok, *save;
	double t0;

	if (!dir)
		dir = "../shared";
	if (!scales)
		scales = "10000 100000 all";
	if (repeat < 1 || repeat > 64)
		repeat = 5;
	if (getenv("BENCH_DB")) {
		printf("%s: %zu queries x %d runs\n", getenv("BENCH_DB"),
		       GM_ARRAY_LEN(queries), repeat);
		printf("%9s %9s %8s %9s %8s %8s %8s %8s %8s\n", "scale", "rows",
		       "load s", "rows/s", "db MB", "p50 ms", "p95 ms",
		       "p99 ms", "max ms");
		run_scale(NULL, 0, repeat, verbose);
		return 0;
	}
	t0 = now_s();
	if (load_corpus(dir, "npm.tsv.zst", "npm", &recs, &n, &cap) ||
	    load_corpus(dir, "pypi.tsv.zst", "pypi", &recs, &n, &cap)) {
		fprintf(stderr,
			"bench_search: cannot read %s/corpus "
			"(zstd installed?)\n",
			dir);
		return 2;
	}
	/* Fixed-seed Fisher-Yates shuffle: every scale is a fair sample. */
	for (i = n; i > 1; i--) {
		size_t j;
		struct rec t;

		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		j = (size_t)(seed % i);
		t = recs[i - 1];
		recs[i - 1] = recs[j];
		recs[j] = t;
	}
	printf("corpus: %zu records read in %.1f s; %zu queries x %d runs\n", n,
	       now_s() - t0, GM_ARRAY_LEN(queries), repeat);
	printf("%9s %9s %8s %9s %8s %8s %8s %8s %8s\n", "scale", "rows",
	       "load s", "rows/s", "db MB", "p50 ms", "p95 ms", "p99 ms",
	       "max ms");
	snprintf(buf, sizeof(buf), "%s", scales);
	for (tok = strtok_r(buf, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		size_t want = strcmp(tok, "all") == 0
				  ? n
				  : (size_t)strtoull(tok, NULL, 10);
		double p95;

		if (want == 0 || want > n)
			want = n;
		p95 = run_scale(recs, want, repeat, verbose);
		if (want == 10000) {
			bool ok = p95 < 10.0;

			printf("%s p95 under 10 ms at 10k rows (%.2f ms)\n",
			       ok ? "PASS" : "FAIL", p95);
			if (!ok)
				status = 1;
		}
	}
	for (i = 0; i < n; i++) {
		gm_free(recs[i].name);
		gm_free(recs[i].version);
		gm_free(recs[i].desc);
	}
	gm_free(recs);
	return status;
}
