/*
 * cmd_market.c - the marketplace verbs that work on keys, the registry and
 * bundles: key, publish, search, info, categories, trust, bundle. The
 * install verbs live in cmd_install.c. clnrm reuses these with
 * cli_kind = validator.
 */
#include "cli.h"

#include "cmds.h"
#include "gm/bundle.h"
#include "gm/ingest.h"
#include "gm/market.h"
#include "gm/record.h"
#include "gm/search.h"

enum gm_package_kind cli_kind = GM_PACKAGE_NONE;

static void note_line(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s\n", msg);
}

/* ---- package ids ---- */

int cli_package_id(struct gm_market *m, const char *arg, char *ns,
		   char *name, const char **req)
{
	struct gm_registry_names names;
	struct gm_diag d;
	char text[256];
	const char *at = strchr(arg, '@');
	size_t len = at ? (size_t)(at - arg) : strlen(arg);
	gm_err e;

	if (req)
		*req = at ? at + 1 : NULL;
	else if (at)
		return cli_usage(NULL, "'%s': a version does not belong here",
				 arg);
	if (len >= sizeof(text))
		return cli_usage(NULL, "package id '%.40s...' is too long",
				 arg);
	memcpy(text, arg, len);
	text[len] = '\0';
	if (strchr(text, '/')) {
		gm_diag_clear(&d);
		if (gm_package_id_parse(text, len, ns, name, &d))
			return cli_usage(NULL, "'%s' is not a package id: %s",
					 text, d.msg);
		return 0;
	}
	if (!gm_package_name_valid(text, len))
		return cli_usage(NULL, "'%s' is not a package name (lowercase "
				 "letters, digits, '-' and '_')",
				 text);
	gm_diag_clear(&d);
	e = gm_registry_namespaces_for(gm_market_registry(m), text, &names,
				       &d);
	if (e)
		return cli_fail(e, &d, "cannot look up '%s'", text);
	if (names.n == 1) {
		snprintf(ns, GM_PACKAGE_NAME_MAX + 1, "%s", names.v[0]);
		snprintf(name, GM_PACKAGE_NAME_MAX + 1, "%s", text);
		gm_registry_names_free(&names);
		return 0;
	}
	if (names.n > 1) {
		size_t i;

		fprintf(stderr,
			"%s: error: '%s' is ambiguous; it exists as:\n",
			cli_prog, text);
		for (i = 0; i < names.n; i++)
			fprintf(stderr, "  %s/%s\n", names.v[i], text);
		gm_registry_names_free(&names);
		return 1;
	}
	gm_registry_names_free(&names);
	return cli_not_found(m, text);
}

int cli_not_found(struct gm_market *m, const char *what)
{
	struct gm_search_result s = {0};

	fprintf(stderr, "%s: error: package '%s' not found.", cli_prog, what);
	if (gm_search_suggest(gm_market_registry(m), what, 1, &s, NULL) ==
		    GM_OK &&
	    s.n_suggestions)
		fprintf(stderr, " Did you mean '%s'?", s.suggestions[0]);
	gm_search_result_free(&s);
	fprintf(stderr, " Try `%s %s search %s`.\n", cli_prog, cli_group,
		what);
	return 1;
}

/* ---- key ---- */

static int key_generate(struct gm_market *m, const char *handle, bool seal,
			bool json)
{
	const char *pass = NULL;
	struct gm_key k;
	struct gm_diag d;
	char fpr[GM_KEY_FPR_MAX];
	gm_err e;

	if (seal) {
		pass = cli_passphrase("passphrase to seal the key", true);
		if (!pass)
			return cli_usage("key", "--seal needs a passphrase: set "
					 "GGEN_PASSPHRASE or run on a terminal");
	}
	gm_diag_clear(&d);
	e = gm_market_key_generate(m, handle, pass, &k, &d);
	cli_passphrase_wipe();
	if (e)
		return cli_fail(e, &d, "cannot make a key for '%s'", handle);
	gm_key_fingerprint(k.pk, fpr);
	if (json)
		cli_print_json(json_pack("{s:s, s:s, s:b}", "handle", handle,
					 "fingerprint", fpr, "sealed",
					 pass != NULL));
	else
		printf("made key for '%s'%s\nfingerprint %s\n", handle,
		       pass ? " (sealed)" : "", fpr);
	gm_key_release(&k);
	return 0;
}

static int key_list(struct gm_market *m, bool json)
{
	struct gm_key *keys = NULL;
	struct gm_diag d;
	json_t *list = json ? json_array() : NULL;
	size_t n = 0, i;
	gm_err e;

	gm_diag_clear(&d);
	e = gm_key_list(gm_market_keys_dir(m), &keys, &n, &d);
	if (e)
		return cli_fail(e, &d, "cannot list keys");
	for (i = 0; i < n; i++) {
		char fpr[GM_KEY_FPR_MAX];

		gm_key_fingerprint(keys[i].pk, fpr);
		if (list)
			json_array_append_new(
				list, json_pack("{s:s, s:s, s:b, s:b}",
						"handle", keys[i].handle,
						"fingerprint", fpr, "sealed",
						keys[i].sealed, "revoked",
						keys[i].revoked != 0));
		else
			printf("%-20s %s%s%s\n", keys[i].handle, fpr,
			       keys[i].sealed ? "  sealed" : "",
			       keys[i].revoked ? "  REVOKED" : "");
	}
	if (!json && !n)
		printf("no keys; make one with `%s market key generate "
		       "--handle NAME`\n",
		       cli_prog);
	gm_free(keys);
	return list ? cli_print_json(list) : 0;
}

int cmd_key(int argc, char **argv)
{
	bool json = false, seal = false;
	const char *handle = NULL;
	const struct cli_opt opts[] = {{"json", 0, &json, NULL},
				       {"seal", 0, &seal, NULL},
				       {"handle", 0, NULL, &handle}};
	struct gm_market *m;
	struct cli_args a;
	struct gm_diag d;
	int rc;

	if (argc < 1)
		return cli_usage("key", "give an action: generate, list, "
				 "rotate or revoke");
	rc = cli_parse(argc - 1, argv + 1, opts, GM_ARRAY_LEN(opts), &a, "key");
	if (rc)
		return rc;
	if (a.n_pos)
		return cli_usage("key", "unexpected argument '%s'", a.pos[0]);
	if (strcmp(argv[0], "list") && !handle)
		return cli_usage("key", "give --handle NAME (your namespace)");
	if (handle && !gm_handle_valid(handle))
		return cli_usage("key", "'%s' is not a valid handle (lowercase "
				 "letters, digits, '-' and '_')",
				 handle);
	rc = cli_open_market(&m);
	if (rc)
		return rc;
	gm_diag_clear(&d);
	if (!strcmp(argv[0], "generate")) {
		rc = key_generate(m, handle, seal, json);
	} else if (!strcmp(argv[0], "list")) {
		rc = key_list(m, json);
	} else if (!strcmp(argv[0], "rotate")) {
		struct gm_key k;
		const char *old = cli_passphrase("passphrase of the current key",
						 false);
		gm_err e = gm_market_key_rotate(m, handle, old,
						seal ? old : NULL, &k, &d);
		char fpr[GM_KEY_FPR_MAX];

		if (e) {
			rc = cli_fail(e, &d, "cannot rotate the key of '%s'",
				      handle);
		} else {
			gm_key_fingerprint(k.pk, fpr);
			printf("rotated '%s' to key %s\nthe rotation record "
			       "is signed by the old and the new key\n",
			       handle, fpr);
			gm_key_release(&k);
		}
	} else if (!strcmp(argv[0], "revoke")) {
		uint64_t after = 0;
		gm_err e = gm_market_key_revoke(
			m, handle, cli_passphrase("passphrase of the key", false),
			&after, &d);

		if (e)
			rc = cli_fail(e, &d, "cannot revoke the key of '%s'",
				      handle);
		else
			printf("revoked the key of '%s': releases after its "
			       "sequence %" PRIu64 " are refused\nmake a new "
			       "key with `%s market key rotate` (before "
			       "revoking) or a new handle\n",
			       handle, after, cli_prog);
	} else {
		rc = cli_usage("key", "unknown action '%s' (generate, list, "
			       "rotate, revoke)",
			       argv[0]);
	}
	cli_passphrase_wipe();
	gm_market_close(m);
	return rc;
}

/* ---- publish ---- */

int cmd_publish(int argc, char **argv)
{
	bool json = false, dry = false;
	const char *key_file = NULL;
	const struct cli_opt opts[] = {{"json", 0, &json, NULL},
				       {"dry-run", 'n', &dry, NULL},
				       {"key-file", 0, NULL, &key_file}};
	struct gm_publish_opts po;
	struct gm_publish_result r;
	struct gm_manifest man;
	struct gm_market *m;
	struct cli_args a;
	struct gm_diag d;
	struct gm_key k;
	char root[GM_CID_MAX_STR], rec[GM_CID_MAX_STR];
	const char *dir;
	gm_err e;
	int rc = cli_parse(argc, argv, opts, GM_ARRAY_LEN(opts), &a,
			   "publish");

	if (rc)
		return rc;
	if (a.n_pos > 1)
		return cli_usage("publish", "publish takes one package folder");
	dir = a.n_pos ? a.pos[0] : ".";
	memset(&k, 0, sizeof(k));
	gm_manifest_init(&man);
	gm_diag_clear(&d);
	e = gm_manifest_load(&man, dir, &d);
	if (e) {
		if (d.line)
			fprintf(stderr, "%s: error: %s/ggen.toml:%u:%u: %s\n",
				cli_prog, dir, d.line, d.column, d.msg);
		else
			fprintf(stderr, "%s: error: %s\n", cli_prog,
				d.msg[0] ? d.msg : gm_strerror(e));
		gm_manifest_release(&man);
		return gm_err_exit_code(e) ? gm_err_exit_code(e) : 1;
	}
	rc = cli_open_market(&m);
	if (rc) {
		gm_manifest_release(&man);
		return rc;
	}
	if (!dry) {
		e = gm_market_signing_key(
			m, man.ns, key_file,
			cli_passphrase("passphrase of the signing key", false),
			&k, &d);
		if (e) {
			rc = cli_fail(e, &d, "cannot load the signing key");
			goto out;
		}
	}
	memset(&po, 0, sizeof(po));
	po.dir = dir;
	po.key = dry ? NULL : &k;
	po.dry_run = dry;
	po.require_kind = cli_kind;
	po.note = note_line;
	e = gm_publish(gm_market_registry(m), gm_market_store(m), &po, &r, &d);
	if (e) {
		if (d.line)
			fprintf(stderr, "%s: error: %s/ggen.toml:%u:%u: %s\n",
				cli_prog, dir, d.line, d.column, d.msg);
		else
			rc = cli_fail(e, &d, "cannot publish '%s'", dir);
		rc = rc ? rc : gm_err_exit_code(e);
		goto out;
	}
	gm_cid_format(&r.root, root, sizeof(root));
	gm_cid_format(&r.record, rec, sizeof(rec));
	if (json) {
		rc = cli_print_json(json_pack(
			"{s:s+++, s:s, s:s, s:s, s:s?, s:I, s:I, s:b}", "id",
			r.ns, "/", "", r.name, "version", r.version, "kind",
			gm_package_kind_name(r.kind), "cid", root, "record",
			dry ? NULL : rec, "size", (json_int_t)r.size, "files",
			(json_int_t)r.files, "dry_run", dry));
	} else if (dry) {
		printf("would publish %s/%s@%s  %s  (%" PRIu64 " files, %" PRIu64
		       " bytes; nothing written)\n",
		       r.ns, r.name, r.version, root, r.files, r.size);
	} else {
		printf("published %s/%s@%s  %s  (local only: will be announced "
		       "when a node runs)\n",
		       r.ns, r.name, r.version, root);
	}
out:
	cli_passphrase_wipe();
	gm_key_release(&k);
	gm_manifest_release(&man);
	gm_market_close(m);
	return rc;
}

/* ---- search ---- */

int cmd_search(int argc, char **argv)
{
	bool json = false;
	const char *category = NULL, *keyword = NULL, *author = NULL;
	const char *license = NULL, *kind = NULL, *sort = NULL;
	const char *limit = NULL, *offset = NULL;
	const struct cli_opt opts[] = {
		{"json", 0, &json, NULL},	{"category", 0, NULL, &category},
		{"keyword", 0, NULL, &keyword}, {"author", 0, NULL, &author},
		{"license", 0, NULL, &license}, {"kind", 0, NULL, &kind},
		{"sort", 0, NULL, &sort},	{"limit", 0, NULL, &limit},
		{"offset", 0, NULL, &offset},
	};
	struct gm_search_query q;
	struct gm_search_result res;
	struct gm_market *m;
	struct cli_args a;
	struct gm_diag d;
	char text[GM_SEARCH_TEXT_MAX + 1] = "";
	size_t i, used = 0;
	gm_err e;
	int rc = cli_parse(argc, argv, opts, GM_ARRAY_LEN(opts), &a,
			   "search");

	if (rc)
		return rc;
	for (i = 0; i < a.n_pos; i++) {
		int n = snprintf(text + used, sizeof(text) - used, "%s%s",
				 i ? " " : "", a.pos[i]);

		if (n < 0 || (size_t)n >= sizeof(text) - used)
			return cli_usage("search", "the query is too long");
		used += (size_t)n;
	}
	memset(&q, 0, sizeof(q));
	q.text = text;
	q.category = category;
	q.keyword = keyword;
	q.author = author;
	q.license = license;
	q.kind = kind ? kind
		      : (cli_kind == GM_PACKAGE_VALIDATOR ? "validator" : NULL);
	if (kind && strcmp(kind, "template") && strcmp(kind, "validator"))
		return cli_usage("search", "--kind is 'template' or "
				 "'validator'");
	if (!sort || !strcmp(sort, "relevance"))
		q.sort = GM_SEARCH_RELEVANCE;
	else if (!strcmp(sort, "name"))
		q.sort = GM_SEARCH_NAME;
	else if (!strcmp(sort, "recent"))
		q.sort = GM_SEARCH_RECENT;
	else
		return cli_usage("search", "--sort is relevance, name or "
				 "recent");
	if (limit) {
		char *end;
		unsigned long v = strtoul(limit, &end, 10);

		if (*end || !*limit || *limit == '-' || v == 0 ||
		    v > GM_SEARCH_LIMIT_MAX)
			return cli_usage("search", "--limit is 1 to %d",
					 GM_SEARCH_LIMIT_MAX);
		q.limit = v;
	}
	if (offset) {
		char *end;
		unsigned long v = strtoul(offset, &end, 10);

		if (*end || !*offset || *offset == '-' || v > UINT32_MAX)
			return cli_usage("search", "--offset is a number from "
				 "0");
		q.offset = v;
	}
	if (!json) {
		q.hl_open = isatty(STDOUT_FILENO) ? "\033[1m" : "[";
		q.hl_close = isatty(STDOUT_FILENO) ? "\033[0m" : "]";
	}
	rc = cli_open_market(&m);
	if (rc)
		return rc;
	gm_diag_clear(&d);
	e = gm_search(gm_market_registry(m), &q, &res, &d);
	if (e) {
		rc = cli_fail(e, &d, "search failed");
		goto out;
	}
	if (json) {
		json_t *hits = json_array(), *terms = json_array(),
		       *sugg = json_array();

		for (i = 0; i < res.n; i++) {
			const struct gm_search_hit *h = &res.hits[i];
			json_t *matched = json_array();
			size_t t;

			for (t = 0; t < res.n_terms; t++)
				if (h->matched & (1u << t))
					json_array_append_new(
						matched,
						json_string(res.terms[t]));
			json_array_append_new(
				hits,
				json_pack("{s:s+++, s:s, s:s, s:s, s:s, s:f, "
					  "s:b, s:o, s:s?, s:s}",
					  "id", h->ns, "/", "", h->name, "name",
					  h->name, "namespace", h->ns,
					  "version", h->version, "description",
					  h->description, "score", h->score,
					  "exact", h->exact, "matched", matched,
					  "publisher", h->publisher_fingerprint,
					  "content",
					  h->content_state == GM_CONTENT_COMPLETE
						  ? "complete"
					  : h->content_state ==
							  GM_CONTENT_PARTIAL
						  ? "partial"
						  : "absent"));
		}
		for (i = 0; i < res.n_terms; i++)
			json_array_append_new(terms,
					      json_string(res.terms[i]));
		for (i = 0; i < res.n_suggestions; i++)
			json_array_append_new(sugg,
					      json_string(res.suggestions[i]));
		rc = cli_print_json(json_pack(
			"{s:s, s:I, s:b, s:o, s:o, s:b, s:o}", "query", text,
			"total", (json_int_t)res.total, "total_capped",
			res.total_capped, "results", hits, "terms", terms,
			"any_term", res.any_term, "did_you_mean", sugg));
	} else {
		for (i = 0; i < res.n; i++) {
			const struct gm_search_hit *h = &res.hits[i];

			printf("%s/%s %s%s\n    %s\n", h->ns, h->name,
			       h->version,
			       h->content_state == GM_CONTENT_COMPLETE
				       ? ""
				       : "  (metadata only)",
			       h->highlighted);
		}
		if (res.n == 0) {
			printf("no packages match '%s'", text);
			for (i = 0; i < res.n_suggestions; i++)
				printf("%s'%s'", i ? ", " : "; did you mean ",
				       res.suggestions[i]);
			printf("%s\n", res.n_suggestions ? "?" : "");
		} else {
			printf("%zu of %" PRIu64 "%s shown%s\n", res.n,
			       res.total, res.total_capped ? "+" : "",
			       res.any_term ? " (matching some of the words)"
					    : "");
			for (i = 0; res.any_term && i < res.n_suggestions; i++)
				printf("%s'%s'%s", i ? ", " : "did you mean ",
				       res.suggestions[i],
				       i + 1 == res.n_suggestions ? "?\n" : "");
		}
	}
	gm_search_result_free(&res);
out:
	gm_market_close(m);
	return rc;
}

/* ---- info ---- */

static const char *content_name(enum gm_content_state s)
{
	return s == GM_CONTENT_COMPLETE	  ? "complete"
	       : s == GM_CONTENT_PARTIAL ? "partial"
					 : "absent";
}

/* Signature and trust of one release row, as text. */
static void release_checks(struct gm_market *m, const struct gm_release_row *r,
			   const char **sig, char *trust, size_t cap)
{
	struct gm_record rec;
	struct gm_diag d;
	gm_err e;

	*sig = "missing";
	snprintf(trust, cap, "unknown");
	if (!r->record)
		return;
	gm_diag_clear(&d);
	e = gm_record_decode(&rec, r->record, r->record_len, &d);
	if (e) {
		*sig = "INVALID";
		return;
	}
	*sig = "valid";
	{
		struct gm_publisher_state s;
		char ns[GM_PACKAGE_NAME_MAX + 1];

		snprintf(ns, sizeof(ns), "%s", r->ns);
		if (gm_ingest_publisher_state(gm_market_registry(m), ns, &s,
					      NULL) == GM_OK) {
			gm_diag_clear(&d);
			if (gm_trust_check_release(&s, &rec, &d) == GM_OK)
				snprintf(trust, cap, "%s",
					 gm_trust_level_name(s.trust));
			else
				snprintf(trust, cap, "refused: %s", d.msg);
		}
	}
	gm_record_release(&rec);
}

int cmd_info(int argc, char **argv)
{
	bool json = false;
	const struct cli_opt opts[] = {{"json", 0, &json, NULL}};
	char ns[GM_PACKAGE_NAME_MAX + 1], name[GM_PACKAGE_NAME_MAX + 1];
	struct gm_release_list l;
	struct gm_market *m;
	struct cli_args a;
	struct gm_diag d;
	const char *ver = NULL;
	json_t *versions = NULL;
	size_t i, j, shown = 0;
	gm_err e;
	int rc = cli_parse(argc, argv, opts, GM_ARRAY_LEN(opts), &a, "info");

	if (rc)
		return rc;
	if (a.n_pos != 1)
		return cli_usage("info", "info takes one package, e.g. "
				 "acme/web-framework");
	rc = cli_open_market(&m);
	if (rc)
		return rc;
	rc = cli_package_id(m, a.pos[0], ns, name, &ver);
	if (rc)
		goto out;
	gm_diag_clear(&d);
	e = gm_registry_find_releases(gm_market_registry(m), ns, name, &l, &d);
	if (e == GM_OK && l.n == 0)
		e = GM_ENOENT;
	if (e == GM_ENOENT) {
		rc = cli_not_found(m, a.pos[0]);
		goto out;
	}
	if (e) {
		rc = cli_fail(e, &d, "cannot read '%s/%s'", ns, name);
		goto out;
	}
	if (json)
		versions = json_array();
	for (i = 0; i < l.n; i++) {
		const struct gm_release_row *r = &l.rows[i];
		char fpr[GM_KEY_FPR_MAX] = "", trust[600];
		const char *sig;
		json_t *deps;

		if (ver && strcmp(ver, r->version))
			continue;
		deps = json ? json_array() : NULL;
		shown++;
		if (r->publisher)
			gm_key_fingerprint(r->publisher, fpr);
		release_checks(m, r, &sig, trust, sizeof(trust));
		if (json) {
			for (j = 0; j < r->n_deps; j++)
				json_array_append_new(
					deps,
					json_pack("{s:s+++, s:s}", "id",
						  r->deps[j].ns, "/", "",
						  r->deps[j].name, "req",
						  r->deps[j].req));
			json_array_append_new(
				versions,
				json_pack("{s:s, s:s, s:s?, s:s, s:s?, s:s?, "
					  "s:s, s:s, s:s, s:b, s:b, s:o, "
					  "s:I, s:I}",
					  "version", r->version, "kind",
					  r->kind, "cid", r->root_cid,
					  "description", r->description,
					  "license", r->license, "record",
					  r->record_cid, "publisher", fpr,
					  "signature", sig, "trust", trust,
					  "latest", r->latest, "equivocation",
					  r->equivocation, "dependencies", deps,
					  "size", (json_int_t)r->size,
					  "published_at",
					  (json_int_t)r->published_at));
			(void)content_name;
			json_object_set_new(
				json_array_get(versions,
					       json_array_size(versions) - 1),
				"content",
				json_string(content_name(r->content_state)));
			continue;
		}
		if (shown == 1)
			printf("%s/%s\n%s\n\n", ns, name, r->description);
		printf("%s%s%s\n", r->version, r->latest ? "  (latest)" : "",
		       r->equivocation ? "  EQUIVOCATION: a second, different "
					 "release of this version (security "
					 "error; never installed)"
				       : "");
		printf("  kind:        %s\n  cid:         %s\n  content:     "
		       "%s (%" PRIu64 " bytes)\n",
		       r->kind, r->root_cid ? r->root_cid : "-",
		       content_name(r->content_state), r->size);
		if (r->license)
			printf("  license:     %s\n", r->license);
		printf("  publisher:   %s\n  signature:   %s\n  trust:       "
		       "%s\n  record:      %s\n",
		       fpr, sig, trust, r->record_cid ? r->record_cid : "-");
		for (j = 0; j < r->n_deps; j++)
			printf("  %s %s/%s %s\n", j ? "            " :
						      "depends on:",
			       r->deps[j].ns, r->deps[j].name,
			       r->deps[j].req);
	}
	if (!shown) {
		fprintf(stderr, "%s: error: %s/%s has no version %s\n",
			cli_prog, ns, name, ver);
		rc = 1;
	} else if (json) {
		rc = cli_print_json(json_pack("{s:s+++, s:o}", "id", ns, "/",
					      "", name, "versions", versions));
		versions = NULL;
	}
	json_decref(versions);
	gm_release_list_free(&l);
out:
	gm_market_close(m);
	return rc;
}

/* ---- categories ---- */

int cmd_categories(int argc, char **argv)
{
	bool json = false;
	const struct cli_opt opts[] = {{"json", 0, &json, NULL}};
	struct gm_category_list l;
	struct gm_market *m;
	struct cli_args a;
	struct gm_diag d;
	json_t *list;
	size_t i;
	gm_err e;
	int rc = cli_parse(argc, argv, opts, GM_ARRAY_LEN(opts), &a,
			   "categories");

	if (rc)
		return rc;
	rc = cli_open_market(&m);
	if (rc)
		return rc;
	gm_diag_clear(&d);
	e = gm_registry_list_categories(gm_market_registry(m), &l, &d);
	if (e) {
		rc = cli_fail(e, &d, "cannot list categories");
		goto out;
	}
	list = json ? json_array() : NULL;
	for (i = 0; i < l.n; i++) {
		if (list)
			json_array_append_new(
				list, json_pack("{s:s, s:s, s:I}", "name",
						l.v[i].name, "description",
						l.v[i].description, "packages",
						(json_int_t)l.v[i].count));
		else
			printf("%-12s %4" PRIu64 "  %s\n", l.v[i].name,
			       l.v[i].count, l.v[i].description);
	}
	if (list)
		rc = cli_print_json(list);
	gm_category_list_free(&l);
out:
	gm_market_close(m);
	return rc;
}

/* ---- trust ---- */

int cmd_trust(int argc, char **argv)
{
	bool json = false;
	const char *level = NULL;
	const struct cli_opt opts[] = {{"json", 0, &json, NULL},
				       {"level", 0, NULL, &level}};
	struct gm_publisher_row p;
	struct gm_market *m;
	struct cli_args a;
	struct gm_diag d;
	enum gm_trust_level lv = GM_TRUST_FULL;
	gm_err e;
	int rc;

	if (argc < 1)
		return cli_usage("trust", "give an action: add, list, remove "
				 "or revoke");
	rc = cli_parse(argc - 1, argv + 1, opts, GM_ARRAY_LEN(opts), &a,
		       "trust");
	if (rc)
		return rc;
	gm_diag_clear(&d);
	if (level && gm_trust_level_parse(level, &lv, &d))
		return cli_usage("trust", "%s", d.msg);
	if (strcmp(argv[0], "list") && strcmp(argv[0], "add") &&
	    strcmp(argv[0], "remove") && strcmp(argv[0], "revoke"))
		return cli_usage("trust", "unknown action '%s' (add, list, "
				 "remove, revoke)",
				 argv[0]);
	if (strcmp(argv[0], "list") && a.n_pos != 1)
		return cli_usage("trust", "trust %s takes one key fingerprint "
				 "(or handle)",
				 argv[0]);
	rc = cli_open_market(&m);
	if (rc)
		return rc;
	if (!strcmp(argv[0], "list")) {
		struct gm_publisher_row *all = NULL;
		json_t *list = json ? json_array() : NULL;
		size_t n = 0, i;

		e = gm_registry_list_publishers(gm_market_registry(m), &all,
						&n, &d);
		if (e) {
			rc = cli_fail(e, &d, "cannot list publishers");
			goto out;
		}
		for (i = 0; i < n; i++) {
			const char *lvname = gm_trust_level_name(all[i].trust);
			const char *state =
				all[i].has_revoked_after ? "revoked"
				: all[i].has_successor	 ? "rotated"
				: all[i].pinned && !all[i].trust
					? "distrusted"
					: "current";

			if (list)
				json_array_append_new(
					list,
					json_pack("{s:s?, s:s, s:s, s:s, s:b}",
						  "handle", all[i].handle,
						  "fingerprint",
						  all[i].fingerprint, "trust",
						  lvname, "state", state,
						  "pinned", all[i].pinned));
			else
				printf("%-16s %-51s %-9s %s\n",
				       all[i].handle ? all[i].handle : "-",
				       all[i].fingerprint, lvname, state);
			gm_publisher_row_release(&all[i]);
		}
		gm_free(all);
		if (list)
			rc = cli_print_json(list);
		goto out;
	}
	e = gm_market_find_publisher(m, a.pos[0], &p, &d);
	if (e) {
		rc = cli_fail(e, &d, "cannot find '%s'", a.pos[0]);
		goto out;
	}
	if (!strcmp(argv[0], "add"))
		e = gm_registry_set_trust(gm_market_registry(m), p.key, lv,
					  true, &d);
	else if (!strcmp(argv[0], "remove"))
		e = gm_registry_set_trust(gm_market_registry(m), p.key,
					  GM_TRUST_UNTRUSTED, false, &d);
	else if (!strcmp(argv[0], "revoke"))
		/* explicit distrust: --trust-new will not override it */
		e = gm_registry_set_trust(gm_market_registry(m), p.key,
					  GM_TRUST_UNTRUSTED, true, &d);
	else
		e = gm_diag_set(&d, GM_EUSAGE,
				"unknown action '%s' (add, list, remove, "
				"revoke)",
				argv[0]);
	if (e)
		rc = cli_fail(e, &d, "trust %s failed", argv[0]);
	else
		printf("%s %s (%s): %s\n", p.handle ? p.handle : "-",
		       p.fingerprint,
		       !strcmp(argv[0], "add") ? gm_trust_level_name(lv)
		       : !strcmp(argv[0], "remove") ? "untrusted"
						    : "distrusted",
		       !strcmp(argv[0], "add")
			       ? "its releases can be installed"
			       : "its releases will be refused");
	gm_publisher_row_release(&p);
out:
	gm_market_close(m);
	return rc;
}

/* ---- bundle ---- */

int cmd_bundle(int argc, char **argv)
{
	bool json = false, trust_new = false;
	const char *out = NULL;
	const struct cli_opt opts[] = {{"json", 0, &json, NULL},
				       {"output", 'o', NULL, &out},
				       {"trust-new", 0, &trust_new, NULL}};
	struct gm_bundle_result r;
	struct gm_market *m;
	struct cli_args a;
	struct gm_diag d;
	gm_err e;
	int rc;

	if (argc < 1 || (strcmp(argv[0], "export") && strcmp(argv[0], "import")))
		return cli_usage("bundle", "give an action: export or import");
	rc = cli_parse(argc - 1, argv + 1, opts, GM_ARRAY_LEN(opts), &a,
		       "bundle");
	if (rc)
		return rc;
	if (!strcmp(argv[0], "export") && (!a.n_pos || !out))
		return cli_usage("bundle", "bundle export takes packages and "
				 "-o FILE");
	if (!strcmp(argv[0], "import") && a.n_pos != 1)
		return cli_usage("bundle", "bundle import takes one file");
	rc = cli_open_market(&m);
	if (rc)
		return rc;
	gm_diag_clear(&d);
	if (!strcmp(argv[0], "export")) {
		struct gm_resolve_req reqs[CLI_MAX_POS];
		char ids[CLI_MAX_POS][2 * GM_PACKAGE_NAME_MAX + 2];
		size_t i;

		for (i = 0; i < a.n_pos; i++) {
			char ns[GM_PACKAGE_NAME_MAX + 1];
			char name[GM_PACKAGE_NAME_MAX + 1];
			const char *req;

			rc = cli_package_id(m, a.pos[i], ns, name, &req);
			if (rc)
				goto out;
			snprintf(ids[i], sizeof(ids[i]), "%s/%s", ns, name);
			reqs[i].id = ids[i];
			reqs[i].req = req ? req : "*";
		}
		e = gm_bundle_export(gm_market_registry(m), gm_market_store(m),
				     reqs, a.n_pos, out, note_line, NULL, &r,
				     &d);
		if (e)
			rc = cli_fail(e, &d, "cannot export the bundle");
		else if (json)
			rc = cli_print_json(json_pack(
				"{s:s, s:I, s:I, s:I, s:I}", "file", out,
				"releases", (json_int_t)r.releases, "records",
				(json_int_t)r.records, "blocks",
				(json_int_t)r.blocks, "bytes",
				(json_int_t)r.bytes));
		else
			printf("wrote %s: %zu releases, %zu records, %" PRIu64
			       " blocks\n",
			       out, r.releases, r.records, r.blocks);
		goto out;
	}
	e = gm_bundle_import(gm_market_registry(m), gm_market_store(m),
			     a.pos[0], trust_new ? GM_INGEST_TRUST_NEW : 0,
			     note_line, NULL, &r, &d);
	if (e) {
		rc = cli_fail(e, &d, "bundle '%s' refused", a.pos[0]);
		goto out;
	}
	if (json)
		rc = cli_print_json(json_pack(
			"{s:I, s:I, s:I, s:I, s:I}", "releases",
			(json_int_t)r.releases, "added", (json_int_t)r.added,
			"blocks", (json_int_t)r.blocks, "new_blocks",
			(json_int_t)r.new_blocks, "trusted_new",
			(json_int_t)r.pinned_new));
	else
		printf("imported %s: %zu releases (%zu new), %" PRIu64
		       " blocks (%" PRIu64 " new)\n",
		       a.pos[0], r.releases, r.added, r.blocks, r.new_blocks);
out:
	gm_market_close(m);
	return rc;
}
