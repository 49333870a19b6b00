/*
 * cmd_install.c - the project verbs: install, list, update, remove, verify,
 * gc. A project is the current folder (or --project DIR): ggen.lock at its
 * root, packages under .ggen/.
 */
#include "cli.h"

#include "cmds.h"
#include "gm/fs.h"
#include "gm/ingest.h"
#include "gm/install.h"
#include "gm/lockfile.h"
#include "gm/market.h"

static void note_line(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s\n", msg);
}

struct ids {
	struct gm_resolve_req reqs[CLI_MAX_POS];
	char id[CLI_MAX_POS][2 * GM_PACKAGE_NAME_MAX + 2];
	const char *ptr[CLI_MAX_POS];
	size_t n;
};

/* Turns the arguments into package ids (with requirements if allowed). */
static int parse_ids(struct gm_market *m, const struct cli_args *a,
		     bool with_req, struct ids *out)
{
	size_t i;

	out->n = 0;
	for (i = 0; i < a->n_pos; i++) {
		char ns[GM_PACKAGE_NAME_MAX + 1], name[GM_PACKAGE_NAME_MAX + 1];
		const char *req = NULL;
		int rc = cli_package_id(m, a->pos[i], ns, name,
					with_req ? &req : NULL);

		if (rc)
			return rc;
		snprintf(out->id[i], sizeof(out->id[i]), "%s/%s", ns, name);
		out->reqs[i].id = out->id[i];
		out->reqs[i].req = req && *req ? req : NULL;
		out->ptr[i] = out->id[i];
		out->n++;
	}
	return 0;
}

static int report(gm_err e, const struct gm_diag *d,
		  const struct gm_install_result *r, bool json,
		  const char *what)
{
	if (e)
		return cli_fail(e, d, "%s failed", what);
	if (json)
		return cli_print_json(json_pack(
			"{s:I, s:I, s:I, s:I}", "added", (json_int_t)r->added,
			"updated", (json_int_t)r->updated, "removed",
			(json_int_t)r->removed, "unchanged",
			(json_int_t)r->unchanged));
	if (!r->added && !r->updated && !r->removed)
		printf("%s: nothing to do; %zu packages as ggen.lock says\n",
		       what, r->unchanged);
	else
		printf("%s: %zu added, %zu updated, %zu removed, %zu "
		       "unchanged; ggen.lock written\n",
		       what, r->added, r->updated, r->removed, r->unchanged);
	return 0;
}

enum action { INSTALL, UPDATE, REMOVE };

static int run_install(enum action act, int argc, char **argv,
		       const char *verb)
{
	bool json = false, locked = false, trust_new = false, link = false;
	const char *project = ".";
	const struct cli_opt opts[] = {{"json", 0, &json, NULL},
				       {"locked", 0, &locked, NULL},
				       {"trust-new", 0, &trust_new, NULL},
				       {"link", 0, &link, NULL},
				       {"project", 'C', NULL, &project}};
	struct gm_install_opts o;
	struct gm_install_result r;
	struct gm_market *m;
	struct cli_args a;
	struct gm_diag d;
	struct ids ids;
	gm_err e;
	int rc = cli_parse(argc, argv, opts, GM_ARRAY_LEN(opts), &a, verb);

	if (rc)
		return rc;
	if (act == REMOVE && !a.n_pos)
		return cli_usage(verb, "remove takes the packages to remove");
	if (locked && a.n_pos)
		return cli_usage(verb, "--locked installs exactly ggen.lock; "
				 "give no packages with it");
	rc = cli_open_market(&m);
	if (rc)
		return rc;
	rc = parse_ids(m, &a, act == INSTALL, &ids);
	if (rc)
		goto out;
	memset(&o, 0, sizeof(o));
	o.project = project;
	if (act == INSTALL) {
		o.add = ids.reqs;
		o.n_add = ids.n;
	} else if (act == REMOVE) {
		o.remove = ids.ptr;
		o.n_remove = ids.n;
	} else {
		o.update = ids.ptr;
		o.n_update = ids.n;
		o.update_all = ids.n == 0;
	}
	o.locked = locked;
	o.trust_flags = trust_new ? GM_INGEST_TRUST_NEW : 0;
	o.hardlink = link;
	o.only_kind = cli_kind;
	o.note = note_line;
	gm_diag_clear(&d);
	e = gm_install(gm_market_registry(m), gm_market_store(m), &o, &r, &d);
	rc = report(e, &d, &r, json, verb);
out:
	gm_market_close(m);
	return rc;
}

int cmd_install(int argc, char **argv)
{
	return run_install(INSTALL, argc, argv, "install");
}

int cmd_update(int argc, char **argv)
{
	return run_install(UPDATE, argc, argv, "update");
}

int cmd_remove(int argc, char **argv)
{
	return run_install(REMOVE, argc, argv, "remove");
}

int cmd_list(int argc, char **argv)
{
	bool json = false;
	const char *project = ".";
	const struct cli_opt opts[] = {{"json", 0, &json, NULL},
				       {"project", 'C', NULL, &project}};
	struct gm_lockfile l;
	struct cli_args a;
	struct gm_diag d;
	char *path;
	json_t *list;
	size_t i, shown = 0;
	gm_err e;
	int rc = cli_parse(argc, argv, opts, GM_ARRAY_LEN(opts), &a, "list");

	if (rc)
		return rc;
	path = gm_path_join(project, GM_LOCKFILE_NAME);
	if (!path)
		return cli_fail(GM_ENOMEM, NULL, "list");
	gm_lockfile_init(&l);
	gm_diag_clear(&d);
	e = gm_lockfile_load(&l, path, &d);
	gm_free(path);
	if (e == GM_ENOENT) {
		if (json)
			return cli_print_json(json_array());
		printf("nothing installed here (no ggen.lock); try `%s %s "
		       "install PACKAGE`\n",
		       cli_prog, cli_group);
		return 0;
	}
	if (e)
		return cli_fail(e, &d, "cannot read ggen.lock");
	list = json ? json_array() : NULL;
	for (i = 0; i < l.n; i++) {
		const struct gm_lock_entry *en = &l.entries[i];
		char ver[GM_SEMVER_MAX_LEN + 1], root[GM_CID_MAX_STR];
		bool direct = false;
		size_t j;

		if (cli_kind != GM_PACKAGE_NONE && en->kind != cli_kind)
			continue;
		for (j = 0; j < l.n_reqs; j++)
			direct |= !strcmp(l.reqs[j].ns, en->ns) &&
				  !strcmp(l.reqs[j].name, en->name);
		gm_semver_format(&en->version, ver, sizeof(ver));
		gm_cid_format(&en->root, root, sizeof(root));
		shown++;
		if (list)
			json_array_append_new(
				list,
				json_pack("{s:s+++, s:s, s:s, s:s, s:s, s:b}",
					  "id", en->ns, "/", "", en->name,
					  "version", ver, "kind",
					  gm_package_kind_name(en->kind),
					  "cid", root, "publisher",
					  en->publisher, "direct", direct));
		else
			printf("%s/%s %s  %s%s\n", en->ns, en->name, ver,
			       gm_package_kind_name(en->kind),
			       direct ? "" : "  (dependency)");
	}
	if (list)
		rc = cli_print_json(list);
	else if (!shown)
		printf("nothing installed\n");
	gm_lockfile_release(&l);
	return rc;
}

static void on_problem(void *ctx, enum gm_install_problem p, const char *id,
		       const char *msg)
{
	json_t *list = ctx;
	const char *kind = p == GM_INSTALL_MISSING    ? "missing"
			   : p == GM_INSTALL_MODIFIED ? "modified"
						      : "extra";

	if (list)
		json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "id",
						      id, "problem", kind,
						      "message", msg));
	else
		printf("%s %s: %s\n", kind, id, msg);
}

static void on_corrupt(void *ctx, const struct gm_cid *cid, const char *key,
		       const char *reason)
{
	json_t *list = ctx;
	char text[GM_CID_MAX_STR];

	gm_cid_format(cid, text, sizeof(text));
	if (list)
		json_array_append_new(list, json_pack("{s:s, s:s}", "cid", text,
						      "reason", reason));
	else
		printf("corrupt block %s (%s): %s\n", text, key, reason);
}

/*
 * Every release registered with complete content must have all its blocks
 * (the publish and import protocols promise it). Returns the number of
 * releases found lacking.
 */
static size_t check_releases(struct gm_market *m, json_t *list,
			     uint64_t *checked)
{
	struct gm_release_list pk;
	size_t i, j, bad = 0;

	*checked = 0;
	if (gm_registry_list_packages(gm_market_registry(m), 0, 0, &pk, NULL))
		return 0;
	for (i = 0; i < pk.n; i++) {
		struct gm_release_list all;

		if (gm_registry_find_releases(gm_market_registry(m),
					      pk.rows[i].ns, pk.rows[i].name,
					      &all, NULL))
			continue;
		for (j = 0; j < all.n; j++) {
			const struct gm_release_row *r = &all.rows[j];
			struct gm_cid root;

			if (r->content_state != GM_CONTENT_COMPLETE ||
			    !r->root_cid)
				continue;
			(*checked)++;
			if (!gm_cid_parse(&root, r->root_cid,
					  strlen(r->root_cid), NULL) &&
			    gm_ingest_dag_complete(gm_market_store(m), &root))
				continue;
			bad++;
			if (list)
				json_array_append_new(
					list, json_pack("{s:s+++, s:s, s:s}",
							"id", r->ns, "/", "",
							r->name, "version",
							r->version, "cid",
							r->root_cid));
			else
				printf("release %s/%s@%s: content %s is "
				       "registered complete but blocks are "
				       "missing or corrupt\n",
				       r->ns, r->name, r->version,
				       r->root_cid);
		}
		gm_release_list_free(&all);
	}
	gm_release_list_free(&pk);
	return bad;
}

static const char *state_name(enum gm_content_state s)
{
	return s == GM_CONTENT_COMPLETE	  ? "complete"
	       : s == GM_CONTENT_PARTIAL ? "partial"
					  : "absent";
}

static void on_quarantined(void *ctx, const struct gm_cid *cid,
			   const char *reason, const char *moved_to)
{
	json_t *o = ctx;
	char text[GM_CID_MAX_STR];

	gm_cid_format(cid, text, sizeof(text));
	if (o)
		json_array_append_new(json_object_get(o, "quarantined"),
				      json_pack("{s:s, s:s, s:s}", "cid", text,
						"reason", reason, "moved_to",
						moved_to));
	else
		printf("corrupt block %s: %s\n  moved to %s\n", text, reason,
		       moved_to);
}

static void on_incomplete(void *ctx, const struct gm_release_row *r,
			  enum gm_content_state now, bool changed)
{
	json_t *o = ctx;

	if (o)
		json_array_append_new(
			json_object_get(o, "incomplete"),
			json_pack("{s:s+++, s:s, s:s, s:b}", "id", r->ns, "/",
				  "", r->name, "version", r->version,
				  "content_state", state_name(now), "changed",
				  changed));
	else
		printf("release %s/%s@%s: content %s%s; a bundle import or a "
		       "fetch of %s completes it\n",
		       r->ns, r->name, r->version, state_name(now),
		       changed ? " (was registered complete)" : "",
		       r->root_cid ? r->root_cid : "its content");
}

static void print_cids(const char *what, uint64_t n,
		       const char (*cids)[GM_CID_MAX_STR], const char *reason)
{
	uint64_t i;

	if (!n)
		return;
	printf("%s: %" PRIu64 "\n", what, n);
	for (i = 0; i < n && i < GM_REBUILD_SHOW; i++)
		printf("  %s\n", cids[i]);
	if (n > GM_REBUILD_SHOW)
		printf("  ... and %" PRIu64 " more\n", n - GM_REBUILD_SHOW);
	if (reason[0])
		printf("  first reason: %s\n", reason);
}

static void print_repair(const struct gm_market_repair_result *r)
{
	const struct gm_rebuild_result *rb = &r->records;
	size_t i;

	printf("blocks: %" PRIu64 " checked, %" PRIu64 " corrupt, %" PRIu64
	       " moved to %s\n",
	       r->blocks.checked, r->blocks.corrupt, r->blocks.quarantined,
	       r->blocks.quarantined ? r->quarantine_dir : "quarantine");
	if (r->db_damaged)
		printf("registry: damaged: %s\nregistry: the damaged database "
		       "was moved to %s (kept, not deleted)\nregistry: "
		       "rebuilt from the record blocks in the store\n",
		       r->db_problem, r->moved_to[0] ? r->moved_to : "(none)");
	else
		printf("registry: ok\n");
	printf("records: %" PRIu64 " record blocks, %" PRIu64
	       " registered, %" PRIu64 " already known, %" PRIu64
	       " failed verification, %" PRIu64 " refused, %" PRIu64
	       " held back (untrusted publisher)\n",
	       rb->records, rb->added, rb->duplicates, rb->bad, rb->refused,
	       rb->held_back);
	if (rb->equivocations)
		printf("records: %" PRIu64 " equivocation(s) kept as "
		       "evidence\n",
		       rb->equivocations);
	print_cids("record blocks that fail verification (not ingested)",
		   rb->bad, rb->bad_cids, rb->bad_reason);
	print_cids("records refused by the import rules", rb->refused,
		   rb->refused_cids, rb->refused_reason);
	if (rb->own_restored)
		printf("trust: %" PRIu64 " key(s) of this machine "
		       "($GGEN_HOME/keys) keep their ultimate trust\n",
		       rb->own_restored);
	for (i = 0; r->db_rebuilt && i < rb->n_untrusted; i++)
		printf("trust: publisher '%s' (key %s) is untrusted now; %" PRIu64
		       " release(s) held back. If you trusted it before, run "
		       "`ggen market trust add %s`, then `ggen market verify "
		       "--repair` again\n",
		       rb->untrusted[i].handle, rb->untrusted[i].fingerprint,
		       rb->untrusted[i].held_back,
		       rb->untrusted[i].fingerprint);
	if (r->db_rebuilt)
		printf("not recoverable from blocks: trust decisions about "
		       "other publishers (trust add/revoke, pins), the "
		       "announcement queue (%" PRIu64 " record(s) of this "
		       "machine queued again), first-seen times, and "
		       "releases known only as metadata without a signed "
		       "record\n",
		       rb->requeued);
	printf("releases: %" PRIu64 " with content not complete\n",
	       r->incomplete);
}

/* What a plain `verify` would find: 0 when it would pass. */
static int recheck(const char *project, json_t *out)
{
	struct gm_store_verify_result sv;
	struct gm_market *m;
	struct gm_diag d;
	size_t n_problems = 0, n_incomplete;
	uint64_t n_releases;
	gm_err re, se, pe;
	int rc = cli_open_market(&m);

	if (rc)
		return rc;
	gm_diag_clear(&d);
	re = gm_registry_check(gm_market_registry(m), &d);
	se = gm_store_verify(gm_market_store(m), NULL, NULL, &sv, NULL);
	n_incomplete = check_releases(m, NULL, &n_releases);
	pe = gm_install_verify(project, out ? NULL : on_problem, NULL,
			       &n_problems, NULL);
	if (pe == GM_ENOENT)
		pe = GM_OK;
	gm_market_close(m);
	if (!re && !se && !pe && !n_incomplete)
		return 0;
	if (!out)
		fprintf(stderr,
			"%s: error: the node is still not consistent "
			"(registry %s, %" PRIu64 " corrupt blocks, %zu "
			"incomplete releases, %zu project problems)\n",
			cli_prog, re ? "damaged" : "ok", sv.corrupt,
			n_incomplete, n_problems);
	return 1;
}

static int verify_repair(const char *project, bool json)
{
	struct gm_market_repair_result res;
	struct gm_market_repair_cb cb;
	json_t *o = NULL;
	struct gm_diag d;
	char *home = cli_home();
	gm_err e;
	int rc;

	if (!home)
		return cli_fail(GM_ENOMEM, NULL, "cannot find the home folder");
	if (json)
		o = json_pack("{s:[], s:[]}", "quarantined", "incomplete");
	cb.ctx = o;
	cb.quarantined = on_quarantined;
	cb.incomplete = on_incomplete;
	gm_diag_clear(&d);
	e = gm_market_repair(home, &cb, &res, &d);
	gm_free(home);
	if (e) {
		if (!json)
			print_repair(&res);
		json_decref(o);
		gm_rebuild_result_release(&res.records);
		return cli_fail(e, &d, "the repair stopped");
	}
	rc = recheck(project, o);
	if (o) {
		json_t *u = json_array();
		size_t i;

		for (i = 0; res.db_rebuilt && i < res.records.n_untrusted; i++)
			json_array_append_new(
				u, json_pack("{s:s, s:s, s:I}", "handle",
					     res.records.untrusted[i].handle,
					     "fingerprint",
					     res.records.untrusted[i]
						     .fingerprint,
					     "held_back",
					     (json_int_t)res.records
						     .untrusted[i]
						     .held_back));
		json_object_set_new(o, "untrusted", u);
		json_object_set_new(o, "registry_damaged",
				    json_boolean(res.db_damaged));
		json_object_set_new(o, "moved_to",
				    json_string(res.moved_to));
		json_object_set_new(o, "records_added",
				    json_integer((json_int_t)res.records.added));
		json_object_set_new(o, "records_bad",
				    json_integer((json_int_t)res.records.bad));
		json_object_set_new(o, "consistent", json_boolean(rc == 0));
		cli_print_json(o);
	} else {
		print_repair(&res);
		if (!rc)
			printf("node: consistent; `ggen market verify` "
			       "passes\n");
	}
	gm_rebuild_result_release(&res.records);
	return rc;
}

int cmd_verify(int argc, char **argv)
{
	bool json = false, repair = false;
	const char *project = ".";
	const struct cli_opt opts[] = {{"json", 0, &json, NULL},
				       {"repair", 0, &repair, NULL},
				       {"project", 'C', NULL, &project}};
	struct gm_store_verify_result sv;
	struct gm_market *m;
	struct cli_args a;
	struct gm_diag d, pd;
	json_t *problems = NULL, *corrupt = NULL, *incomplete = NULL;
	size_t n_problems = 0, n_incomplete;
	uint64_t n_releases;
	bool has_project = true;
	gm_err se, pe, re;
	char *home;
	int rc = cli_parse(argc, argv, opts, GM_ARRAY_LEN(opts), &a, "verify");

	if (rc)
		return rc;
	if (repair)
		return verify_repair(project, json);
	home = cli_home();
	if (!home)
		return cli_fail(GM_ENOMEM, NULL, "cannot find the home folder");
	gm_diag_clear(&d);
	re = gm_market_open(&m, home, &d);
	gm_free(home);
	if (re == GM_ECORRUPT) {
		printf("registry: %s\n", d.msg);
		return cli_fail(re, NULL,
				"the registry database is damaged; `ggen "
				"market verify --repair` moves it aside and "
				"rebuilds it from the stored blocks");
	}
	if (re)
		return cli_fail(re, &d, "cannot open the marketplace");
	if (json) {
		problems = json_array();
		corrupt = json_array();
		incomplete = json_array();
	}
	gm_diag_clear(&d);
	gm_diag_clear(&pd);
	re = gm_registry_check(gm_market_registry(m), &d);
	se = gm_store_verify(gm_market_store(m), on_corrupt, corrupt, &sv, &d);
	n_incomplete = check_releases(m, incomplete, &n_releases);
	pe = gm_install_verify(project, on_problem, problems, &n_problems, &pd);
	if (pe == GM_ENOENT) {
		has_project = false;
		pe = GM_OK;
	}
	if (json) {
		rc = cli_print_json(json_pack(
			"{s:b, s:I, s:o, s:I, s:o, s:b, s:o}", "registry_ok",
			re == GM_OK, "blocks_checked", (json_int_t)sv.checked,
			"corrupt", corrupt, "releases_checked",
			(json_int_t)n_releases, "incomplete", incomplete,
			"project", has_project, "problems", problems));
	} else {
		printf("registry: %s\nblocks: %" PRIu64 " checked, %" PRIu64
		       " corrupt\nreleases: %" PRIu64 " with content, %zu "
		       "incomplete\n",
		       re ? d.msg : "ok", sv.checked, sv.corrupt, n_releases,
		       n_incomplete);
		if (has_project)
			printf("project: %s\n",
			       n_problems ? "problems above" : "matches ggen.lock");
	}
	if (re)
		rc = cli_fail(re, NULL,
			      "the registry database is damaged; `ggen market "
			      "verify --repair` moves it aside and rebuilds it "
			      "from the stored blocks");
	else if (se || pe || n_incomplete)
		rc = cli_fail(GM_EINTEGRITY, se || pe ? (se ? &d : &pd) : NULL,
			      "verification found problems%s",
			      se || n_incomplete
				      ? "; `ggen market verify --repair` "
					"quarantines corrupt blocks"
				      : "");
	gm_market_close(m);
	return rc;
}

int cmd_gc(int argc, char **argv)
{
	bool json = false;
	const struct cli_opt opts[] = {{"json", 0, &json, NULL}};
	struct gm_store_gc_result g;
	struct gm_market *m;
	struct cli_args a;
	struct gm_diag d;
	char b[32];
	gm_err e;
	int rc = cli_parse(argc, argv, opts, GM_ARRAY_LEN(opts), &a, "gc");

	if (rc)
		return rc;
	rc = cli_open_market(&m);
	if (rc)
		return rc;
	gm_diag_clear(&d);
	e = gm_market_gc(m, &g, &d);
	if (e)
		rc = cli_fail(e, &d, "gc failed");
	else if (json)
		rc = cli_print_json(json_pack("{s:I, s:I, s:I}", "kept",
					      (json_int_t)g.kept, "removed",
					      (json_int_t)g.removed,
					      "bytes_freed",
					      (json_int_t)g.bytes_freed));
	else
		printf("removed %" PRIu64 " unreferenced blocks (%s); %" PRIu64
		       " kept for published and imported releases\n",
		       g.removed, cli_bytes(g.bytes_freed, b, sizeof(b)),
		       g.kept);
	gm_market_close(m);
	return rc;
}
