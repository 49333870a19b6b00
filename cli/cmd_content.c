/*
 * cmd_content.c - the content verbs: `cid`, `store ...` and `car ...`.
 */
#include "cli.h"

#include "cmds.h"
#include "gm/market.h"

static json_t *result_json(const char *path, const struct gm_unixfs_result *r)
{
	char cid[GM_CID_MAX_STR];

	gm_cid_format(&r->root, cid, sizeof(cid));
	return json_pack("{s:s, s:s, s:I, s:I}", "path", path, "cid", cid,
			 "size", (json_int_t)r->content_bytes, "blocks",
			 (json_int_t)r->blocks);
}

int cmd_cid(int argc, char **argv)
{
	bool json = false;
	const struct cli_opt opts[] = {{"json", 0, &json, NULL}};
	struct cli_args a;
	size_t i;
	int rc = cli_parse(argc, argv, opts, GM_ARRAY_LEN(opts), &a, "cid");

	if (rc)
		return rc;
	if (a.help) {
		fputs(CMD_CID_HELP, stdout);
		return 0;
	}
	if (a.n_pos == 0)
		return cli_usage("cid", "give a file or folder, e.g. "
				 "'ggen market cid ./my-package'");
	for (i = 0; i < a.n_pos; i++) {
		struct gm_unixfs_result r;
		struct gm_diag d;
		char cid[GM_CID_MAX_STR];
		gm_err e;

		gm_diag_clear(&d);
		e = gm_market_cid(a.pos[i], &r, &d);
		if (e)
			return cli_fail(e, &d, "cannot compute the CID of '%s'",
					a.pos[i]);
		if (json) {
			rc = cli_print_json(result_json(a.pos[i], &r));
			if (rc)
				return rc;
			continue;
		}
		gm_cid_format(&r.root, cid, sizeof(cid));
		if (a.n_pos > 1)
			printf("%s  %s\n", cid, a.pos[i]);
		else
			printf("%s\n", cid);
	}
	return 0;
}

static int store_add(int argc, char **argv)
{
	bool json = false, no_pin = false;
	const struct cli_opt opts[] = {{"json", 0, &json, NULL},
				       {"no-pin", 0, &no_pin, NULL}};
	struct gm_unixfs_result r;
	struct gm_market *m;
	struct cli_args a;
	struct gm_diag d;
	char cid[GM_CID_MAX_STR];
	gm_err e;
	int rc = cli_parse(argc, argv, opts, GM_ARRAY_LEN(opts), &a, "store");

	if (rc)
		return rc;
	if (a.n_pos != 1)
		return cli_usage("store", "store add takes one file or folder");
	rc = cli_open_market(&m);
	if (rc)
		return rc;
	gm_diag_clear(&d);
	e = gm_market_add(m, a.pos[0], !no_pin, &r, &d);
	if (e) {
		rc = cli_fail(e, &d, "cannot add '%s'", a.pos[0]);
		goto out;
	}
	if (json) {
		rc = cli_print_json(result_json(a.pos[0], &r));
		goto out;
	}
	gm_cid_format(&r.root, cid, sizeof(cid));
	printf("%s\n", cid);
out:
	gm_market_close(m);
	return rc;
}

static int store_get(int argc, char **argv)
{
	const char *out = NULL;
	const struct cli_opt opts[] = {{"output", 'o', NULL, &out}};
	struct gm_market *m;
	struct cli_args a;
	struct gm_diag d;
	struct gm_cid cid;
	gm_err e;
	int rc = cli_parse(argc, argv, opts, GM_ARRAY_LEN(opts), &a, "store");

	if (rc)
		return rc;
	if (a.n_pos != 1 || !out)
		return cli_usage("store", "store get takes a CID and -o OUT");
	rc = cli_parse_cid(a.pos[0], &cid);
	if (rc)
		return rc;
	rc = cli_open_market(&m);
	if (rc)
		return rc;
	gm_diag_clear(&d);
	e = gm_market_get(m, &cid, out, &d);
	if (e)
		rc = cli_fail(e, &d, "cannot export %s", a.pos[0]);
	else
		printf("saved %s to %s\n", a.pos[0], out);
	gm_market_close(m);
	return rc;
}

struct verify_ctx {
	json_t *list;
};

static void on_corrupt(void *ctx, const struct gm_cid *cid, const char *key,
		       const char *reason)
{
	struct verify_ctx *v = ctx;
	char text[GM_CID_MAX_STR];

	gm_cid_format(cid, text, sizeof(text));
	if (v->list)
		json_array_append_new(v->list,
				      json_pack("{s:s, s:s, s:s}", "cid", text,
						"key", key, "reason", reason));
	else
		printf("corrupt %s (%s): %s\n", text, key, reason);
}

static int store_simple(const char *action, int argc, char **argv)
{
	bool json = false;
	const struct cli_opt opts[] = {{"json", 0, &json, NULL}};
	struct gm_market *m;
	struct cli_args a;
	struct gm_diag d;
	char b1[32];
	gm_err e = GM_OK;
	int rc = cli_parse(argc, argv, opts, GM_ARRAY_LEN(opts), &a, "store");

	if (rc)
		return rc;
	if (a.n_pos)
		return cli_usage("store", "store %s takes no arguments",
				 action);
	rc = cli_open_market(&m);
	if (rc)
		return rc;
	gm_diag_clear(&d);
	if (!strcmp(action, "stat")) {
		struct gm_store_stat st;

		e = gm_store_stat(gm_market_store(m), &st, &d);
		if (e)
			goto fail;
		if (json)
			rc = cli_print_json(json_pack(
				"{s:I, s:I, s:I}", "blocks",
				(json_int_t)st.blocks, "bytes",
				(json_int_t)st.bytes, "pins",
				(json_int_t)st.pins));
		else
			printf("blocks: %" PRIu64 "\nbytes:  %" PRIu64
			       " (%s)\npins:   %" PRIu64 "\n",
			       st.blocks, st.bytes,
			       cli_bytes(st.bytes, b1, sizeof(b1)), st.pins);
	} else if (!strcmp(action, "gc")) {
		struct gm_store_gc_result g;

		e = gm_market_gc(m, &g, &d);
		if (e)
			goto fail;
		if (json)
			rc = cli_print_json(json_pack(
				"{s:I, s:I, s:I}", "kept", (json_int_t)g.kept,
				"removed", (json_int_t)g.removed,
				"bytes_freed", (json_int_t)g.bytes_freed));
		else
			printf("removed %" PRIu64 " blocks (%s), kept %" PRIu64
			       "\n",
			       g.removed, cli_bytes(g.bytes_freed, b1, sizeof(b1)),
			       g.kept);
	} else {
		struct gm_store_verify_result v;
		struct verify_ctx vc = {json ? json_array() : NULL};

		e = gm_store_verify(gm_market_store(m), on_corrupt, &vc, &v,
				    &d);
		if (json) {
			rc = cli_print_json(json_pack(
				"{s:I, s:I, s:o}", "checked",
				(json_int_t)v.checked, "corrupt",
				(json_int_t)v.corrupt, "blocks", vc.list));
		} else if (!e) {
			printf("%" PRIu64 " blocks verified, none corrupt\n",
			       v.checked);
		}
		if (e)
			goto fail;
	}
	gm_market_close(m);
	return rc;
fail:
	rc = cli_fail(e, &d, "store %s failed", action);
	gm_market_close(m);
	return rc;
}

static int store_pin(int argc, char **argv)
{
	bool json = false;
	const struct cli_opt opts[] = {{"json", 0, &json, NULL}};
	struct gm_market *m;
	struct cli_args a;
	struct gm_diag d;
	struct gm_cid cid;
	gm_err e;
	int rc = cli_parse(argc, argv, opts, GM_ARRAY_LEN(opts), &a, "store");

	if (rc)
		return rc;
	if (a.n_pos < 1 || (strcmp(a.pos[0], "ls") && a.n_pos != 2) ||
	    (!strcmp(a.pos[0], "ls") && a.n_pos != 1))
		return cli_usage("store", "use 'store pin add CID', 'store pin "
				 "rm CID' or 'store pin ls'");
	if (strcmp(a.pos[0], "ls") && strcmp(a.pos[0], "add") &&
	    strcmp(a.pos[0], "rm"))
		return cli_usage("store", "unknown pin action '%s' (add, rm, "
				 "ls)", a.pos[0]);
	if (a.n_pos == 2) {
		rc = cli_parse_cid(a.pos[1], &cid);
		if (rc)
			return rc;
	}
	rc = cli_open_market(&m);
	if (rc)
		return rc;
	gm_diag_clear(&d);
	if (!strcmp(a.pos[0], "add")) {
		e = gm_store_pin_add(gm_market_store(m), &cid, &d);
	} else if (!strcmp(a.pos[0], "rm")) {
		e = gm_store_pin_rm(gm_market_store(m), &cid, &d);
	} else {
		struct gm_cid *pins = NULL;
		json_t *list = json ? json_array() : NULL;
		size_t i, n = 0;

		e = gm_store_pin_list(gm_market_store(m), &pins, &n, &d);
		for (i = 0; !e && i < n; i++) {
			char text[GM_CID_MAX_STR];

			gm_cid_format(&pins[i], text, sizeof(text));
			if (list)
				json_array_append_new(list, json_string(text));
			else
				printf("%s\n", text);
		}
		gm_free(pins);
		if (list)
			rc = cli_print_json(list);
	}
	if (e)
		rc = cli_fail(e, &d, "store pin %s failed", a.pos[0]);
	gm_market_close(m);
	return rc;
}

int cmd_store(int argc, char **argv)
{
	if (argc < 1)
		return cli_usage("store", "give an action: add, get, verify, "
				 "gc, stat or pin");
	if (!strcmp(argv[0], "add"))
		return store_add(argc - 1, argv + 1);
	if (!strcmp(argv[0], "get"))
		return store_get(argc - 1, argv + 1);
	if (!strcmp(argv[0], "pin"))
		return store_pin(argc - 1, argv + 1);
	if (!strcmp(argv[0], "verify") || !strcmp(argv[0], "gc") ||
	    !strcmp(argv[0], "stat"))
		return store_simple(argv[0], argc - 1, argv + 1);
	return cli_usage("store", "unknown action '%s' (add, get, verify, gc, "
			 "stat, pin)", argv[0]);
}

int cmd_car(int argc, char **argv)
{
	bool json = false;
	const char *out = NULL;
	const struct cli_opt opts[] = {{"json", 0, &json, NULL},
				       {"output", 'o', NULL, &out}};
	struct gm_market *m;
	struct cli_args a;
	struct gm_diag d;
	char text[GM_CID_MAX_STR];
	gm_err e;
	int rc;

	if (argc < 1 || (strcmp(argv[0], "export") && strcmp(argv[0], "import")))
		return cli_usage("car", "give an action: export or import");
	rc = cli_parse(argc - 1, argv + 1, opts, GM_ARRAY_LEN(opts), &a, "car");
	if (rc)
		return rc;
	gm_diag_clear(&d);
	if (!strcmp(argv[0], "export")) {
		struct gm_car_export_result r;
		struct gm_cid cid;

		if (a.n_pos != 1 || !out)
			return cli_usage("car", "car export takes a CID and "
					 "-o FILE");
		rc = cli_parse_cid(a.pos[0], &cid);
		if (rc)
			return rc;
		rc = cli_open_market(&m);
		if (rc)
			return rc;
		e = gm_market_car_export(m, &cid, out, &r, &d);
		if (e)
			rc = cli_fail(e, &d, "cannot export %s", a.pos[0]);
		else if (json)
			rc = cli_print_json(json_pack(
				"{s:s, s:s, s:I, s:I}", "root", a.pos[0],
				"file", out, "blocks", (json_int_t)r.blocks,
				"size", (json_int_t)r.size));
		else
			printf("wrote %s: %" PRIu64 " blocks, %" PRIu64
			       " bytes\n",
			       out, r.blocks, r.size);
		gm_market_close(m);
		return rc;
	}
	if (a.n_pos != 1)
		return cli_usage("car", "car import takes one CAR file");
	rc = cli_open_market(&m);
	if (rc)
		return rc;
	{
		struct gm_car_import_result r;
		json_t *roots;
		size_t i;

		e = gm_market_car_import(m, a.pos[0], &r, &d);
		if (e) {
			rc = cli_fail(e, &d, "cannot import '%s'", a.pos[0]);
			goto out;
		}
		roots = json ? json_array() : NULL;
		for (i = 0; i < r.info.n_roots; i++) {
			gm_cid_format(&r.info.roots[i], text, sizeof(text));
			if (roots)
				json_array_append_new(roots, json_string(text));
			else
				printf("root %s\n", text);
		}
		if (json)
			rc = cli_print_json(json_pack(
				"{s:o, s:I, s:I, s:I}", "roots", roots,
				"blocks", (json_int_t)r.info.blocks, "new_blocks",
				(json_int_t)r.new_blocks, "bytes",
				(json_int_t)r.info.bytes));
		else
			printf("imported %" PRIu64 " blocks (%" PRIu64
			       " new)\n",
			       r.info.blocks, r.new_blocks);
	}
out:
	gm_market_close(m);
	return rc;
}
