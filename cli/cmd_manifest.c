/*
 * cmd_manifest.c - `manifest check`: parse and validate a ggen.toml.
 *
 * Errors print as "FILE:LINE:COLUMN: message" so editors can jump to them.
 */
#include "cli.h"

#include "cmds.h"
#include "gm/manifest.h"

static json_t *str_array(char **v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *opt_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *manifest_json(const struct gm_manifest *m)
{
	char version[GM_SEMVER_MAX_LEN + 1];
	json_t *deps = json_array();
	json_t *o;
	size_t i;

	gm_semver_format(&m->version, version, sizeof(version));
	for (i = 0; deps && i < m->n_deps; i++)
		json_array_append_new(
			deps, json_pack("{s:s+++, s:s}", "id", m->deps[i].ns,
					"/", "", m->deps[i].name, "req",
					m->deps[i].req_text));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, "
		      "s:o, s:o, s:o}",
		      "name", m->name, "namespace", m->ns, "version", version,
		      "kind", gm_package_kind_name(m->kind), "description",
		      m->description ? m->description : "", "license",
		      opt_str(m->license), "authors",
		      str_array(m->authors, m->n_authors), "keywords",
		      str_array(m->keywords, m->n_keywords), "categories",
		      str_array(m->categories, m->n_categories), "homepage",
		      opt_str(m->homepage), "repository",
		      opt_str(m->repository), "readme", opt_str(m->readme),
		      "dependencies", deps);
	if (o && m->has_plugin) {
		json_t *caps = json_array();
		uint32_t bit;

		for (bit = 1; bit && caps; bit <<= 1)
			if (m->plugin.capabilities & bit)
				json_array_append_new(
					caps,
					json_string(gm_capability_name(bit)));
		json_object_set_new(
			o, "plugin",
			json_pack("{s:s, s:o, s:{s:I, s:I, s:I, s:I}}",
				  "entry", m->plugin.entry, "capabilities",
				  caps, "limits", "memory_mb",
				  (json_int_t)m->plugin.limits.memory_mb,
				  "fuel", (json_int_t)m->plugin.limits.fuel,
				  "timeout_ms",
				  (json_int_t)m->plugin.limits.timeout_ms,
				  "stack", (json_int_t)m->plugin.limits.stack));
	}
	return o;
}

int cmd_manifest(int argc, char **argv)
{
	bool json = false;
	const struct cli_opt opts[] = {{"json", 0, &json, NULL}};
	struct gm_manifest m;
	struct cli_args a;
	struct gm_diag d;
	struct stat st;
	const char *path;
	char file[4096];
	char version[GM_SEMVER_MAX_LEN + 1];
	gm_err e;
	int rc;

	if (argc < 1 || strcmp(argv[0], "check"))
		return cli_usage("manifest", "use 'manifest check [PATH]'");
	rc = cli_parse(argc - 1, argv + 1, opts, GM_ARRAY_LEN(opts), &a,
		       "manifest");
	if (rc)
		return rc;
	if (a.n_pos > 1)
		return cli_usage("manifest", "manifest check takes one path");
	path = a.n_pos ? a.pos[0] : ".";
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(file, sizeof(file), "%s/ggen.toml", path);
	else
		snprintf(file, sizeof(file), "%s", path);

	gm_manifest_init(&m);
	gm_diag_clear(&d);
	e = gm_manifest_load(&m, path, &d);
	if (e) {
		if (d.line)
			fprintf(stderr, "%s: error: %s:%u:%u: %s\n", cli_prog,
				file, d.line, d.column, d.msg);
		else
			fprintf(stderr, "%s: error: %s: %s\n", cli_prog, file,
				d.msg[0] ? d.msg : gm_strerror(e));
		gm_manifest_release(&m);
		return gm_err_exit_code(e) ? gm_err_exit_code(e) : 1;
	}
	if (json) {
		rc = cli_print_json(manifest_json(&m));
	} else {
		gm_semver_format(&m.version, version, sizeof(version));
		printf("ok: %s/%s@%s (%s)\n", m.ns, m.name, version,
		       gm_package_kind_name(m.kind));
	}
	gm_manifest_release(&m);
	return rc;
}
