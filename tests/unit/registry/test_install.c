/*
 * test_install.c - install: resolution against the registry, lock file
 * contents, files on disk, --locked, update, remove, security refusals that
 * leave the project untouched, crash recovery at every step, verify.
 *
 * Each test publishes small packages with gm_publish into a fresh registry
 * and block store under the test's temporary folder:
 *
 *   | package | versions     | depends on |
 *   |---------|--------------|------------|
 *   | acme/a  | 1.0.0, 1.1.0 | acme/b ^1.0 |
 *   | acme/b  | 1.0.0, 1.2.0 | -          |
 *   | acme/c  | 1.0.0        | acme/d *   |
 *   | acme/d  | 1.0.0        | -          |
 */
#include "harness.h"

#include <dirent.h>
#include <sys/file.h>
#include <sys/wait.h>

#include "gm/fs.h"
#include "gm/ingest.h"
#include "gm/install.h"
#include "gm/keys.h"
#include "gm/lockfile.h"
#include "gm/publish.h"
#include "gm/unixfs.h"

extern int gm__install_crash_after;

struct env {
	char tmp[PATH_MAX];
	char project[PATH_MAX];
	struct gm_registry *reg;
	struct gm_store *store;
	struct gm_key key;
	struct gm_key key2; /* handle "other" */
};

static void env_open(struct env *v)
{
	char p[PATH_MAX];

	snprintf(v->tmp, sizeof(v->tmp), "%s", gm_test_tmpdir());
	snprintf(p, sizeof(p), "%s/registry.db", v->tmp);
	ASSERT_OK(gm_registry_open(&v->reg, p, NULL));
	snprintf(p, sizeof(p), "%s/blocks", v->tmp);
	ASSERT_OK(gm_store_open(&v->store, p, NULL));
	ASSERT_OK(gm_key_generate(&v->key, "acme", 1000, NULL));
	ASSERT_OK(gm_key_generate(&v->key2, "other", 1000, NULL));
	snprintf(v->project, sizeof(v->project), "%s/proj", v->tmp);
	ASSERT(mkdir(v->project, 0755) == 0);
}

static void env_close(struct env *v)
{
	gm_store_close(v->store);
	gm_registry_close(v->reg);
	gm_key_release(&v->key);
	gm_key_release(&v->key2);
}

static void write_file(const char *path, const char *text)
{
	ASSERT_OK(gm_fs_write_atomic(path, text, strlen(text), 0644, NULL));
}

static char *read_text(const char *path)
{
	struct gm_buf b;
	size_t n;

	gm_buf_init(&b, 1 << 22);
	if (gm_fs_read_file(path, &b, NULL)) {
		gm_buf_release(&b);
		return NULL;
	}
	gm_buf_append_byte(&b, 0);
	return (char *)gm_buf_steal(&b, &n);
}

/* The README text of a package version. */
static void readme_of(const char *ns, const char *name, const char *ver,
		      char *out, size_t cap)
{
	snprintf(out, cap, "# %s/%s %s\nfiles of version %s.\n", ns, name, ver,
		 ver);
}

static void publish_as(struct env *v, const struct gm_key *key, const char *ns,
		       const char *name, const char *ver, const char *deps,
		       struct gm_publish_result *res)
{
	char dir[PATH_MAX], p[PATH_MAX], toml[1024], readme[256];
	struct gm_publish_opts o;
	struct gm_publish_result r;
	struct gm_diag d;

	snprintf(dir, sizeof(dir), "%s/src-%s-%s-%s", v->tmp, ns, name, ver);
	ASSERT(mkdir(dir, 0755) == 0);
	snprintf(toml, sizeof(toml),
		 "[package]\nname = \"%s\"\nnamespace = \"%s\"\n"
		 "version = \"%s\"\nkind = \"template\"\n"
		 "description = \"test package %s\"\n%s%s",
		 name, ns, ver, name, deps ? "\n[dependencies]\n" : "",
		 deps ? deps : "");
	snprintf(p, sizeof(p), "%s/ggen.toml", dir);
	write_file(p, toml);
	snprintf(p, sizeof(p), "%s/README.md", dir);
	readme_of(ns, name, ver, readme, sizeof(readme));
	write_file(p, readme);
	snprintf(p, sizeof(p), "%s/templates", dir);
	ASSERT(mkdir(p, 0755) == 0);
	snprintf(p, sizeof(p), "%s/templates/main.tmpl", dir);
	write_file(p, "hello {{ name }}\n");
	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.key = key;
	o.now = 2000;
	gm_diag_clear(&d);
	if (gm_publish(v->reg, v->store, &o, res ? res : &r, &d) != GM_OK)
		gm_test_fail(__FILE__, __LINE__, "publish %s/%s: %s", ns, name,
			     d.msg);
}

static void publish(struct env *v, const char *name, const char *ver,
		    const char *deps, struct gm_publish_result *res)
{
	publish_as(v, &v->key, "acme", name, ver, deps, res);
}

static void opts_init(struct env *v, struct gm_install_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->project = v->project;
}

static gm_err install_add(struct env *v, const char *id, const char *req,
			  struct gm_install_result *res, struct gm_diag *d)
{
	struct gm_install_opts o;
	struct gm_resolve_req add = {id, req};

	opts_init(v, &o);
	o.add = &add;
	o.n_add = 1;
	return gm_install(v->reg, v->store, &o, res, d);
}

static gm_err install_plain(struct env *v, struct gm_install_result *res,
			    struct gm_diag *d)
{
	struct gm_install_opts o;

	opts_init(v, &o);
	return gm_install(v->reg, v->store, &o, res, d);
}

static void load_lock(struct env *v, struct gm_lockfile *l)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/ggen.lock", v->project);
	gm_lockfile_init(l);
	ASSERT_OK(gm_lockfile_load(l, p, NULL));
}

static char *lock_text(struct env *v)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/ggen.lock", v->project);
	return read_text(p);
}

static void pkg_path(struct env *v, const char *name, const char *file,
		     char *out)
{
	snprintf(out, PATH_MAX, "%s/.ggen/packages/acme/%s%s%s", v->project,
		 name, file ? "/" : "", file ? file : "");
}

static void assert_readme(struct env *v, const char *name, const char *ver)
{
	char p[PATH_MAX], want[256], *got;

	pkg_path(v, name, "README.md", p);
	readme_of("acme", name, ver, want, sizeof(want));
	got = read_text(p);
	ASSERT(got != NULL);
	ASSERT_STREQ(got, want);
	gm_free(got);
}

/* A listing of every entry under dir with a hash of each file. */
static void snapshot_dir(const char *dir, const char *rel, struct gm_buf *out)
{
	struct dirent **ents;
	int n, i;

	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0)
		return;
	for (i = 0; i < n; i++) {
		char p[PATH_MAX], r[PATH_MAX];
		struct stat st;

		if (!strcmp(ents[i]->d_name, ".") ||
		    !strcmp(ents[i]->d_name, "..")) {
			free(ents[i]);
			continue;
		}
		snprintf(p, sizeof(p), "%s/%s", dir, ents[i]->d_name);
		snprintf(r, sizeof(r), "%s/%s", rel, ents[i]->d_name);
		free(ents[i]);
		ASSERT(lstat(p, &st) == 0);
		if (S_ISDIR(st.st_mode)) {
			ASSERT_OK(gm_buf_printf(out, "d %s\n", r));
			snapshot_dir(p, r, out);
		} else {
			char *t = read_text(p);
			uint8_t h[32];

			ASSERT(t != NULL);
			gm_sha256((const uint8_t *)t, strlen(t), h);
			ASSERT_OK(gm_buf_printf(out, "f %s %02x%02x%02x%02x\n",
						r, h[0], h[1], h[2], h[3]));
			gm_free(t);
		}
	}
	free(ents);
}

static char *snapshot(struct env *v)
{
	struct gm_buf b;
	size_t n;

	gm_buf_init(&b, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_buf_append_str(&b, "project\n"));
	snapshot_dir(v->project, "", &b);
	return (char *)gm_buf_steal(&b, &n);
}

static void assert_snapshot(struct env *v, const char *before)
{
	char *now = snapshot(v);

	if (strcmp(now, before))
		gm_test_fail(__FILE__, __LINE__,
			     "project changed:\n--- before\n%s--- after\n%s",
			     before, now);
	gm_free(now);
}

/* Names in <project>/.ggen, sorted, joined by ' '. */
static void ggen_entries(struct env *v, char *out, size_t cap)
{
	struct dirent **ents;
	char p[PATH_MAX];
	size_t len = 0;
	int n, i;

	out[0] = '\0';
	snprintf(p, sizeof(p), "%s/.ggen", v->project);
	n = scandir(p, &ents, NULL, alphasort);
	ASSERT(n >= 0);
	for (i = 0; i < n; i++) {
		if (strcmp(ents[i]->d_name, ".") &&
		    strcmp(ents[i]->d_name, ".."))
			len +=
			    (size_t)snprintf(out + len, cap - len, "%s%s",
					     len ? " " : "", ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
}

/* The store path of the raw block holding a README of a version. */
static char *readme_block(struct env *v, const char *name, const char *ver)
{
	struct gm_unixfs_result ur;
	char text[256];

	readme_of("acme", name, ver, text, sizeof(text));
	ASSERT_OK(gm_unixfs_import_bytes((const uint8_t *)text, strlen(text),
					 NULL, &ur, NULL));
	ASSERT_EQ(ur.root.codec, GM_CODEC_RAW);
	return gm_store_block_path(v->store, &ur.root);
}

static void publish_ab(struct env *v, struct gm_publish_result *a10,
		       struct gm_publish_result *b10)
{
	publish(v, "b", "1.0.0", NULL, b10);
	publish(v, "a", "1.0.0", "\"acme/b\" = \"^1.0\"\n", a10);
}

TEST(install_picks_highest_and_writes_lock_and_files)
{
	struct gm_publish_result a11, b12;
	struct gm_install_result res;
	struct gm_lockfile l;
	struct gm_diag d;
	struct env v;
	char fpr[GM_KEY_FPR_MAX], p[PATH_MAX], ents[256], *got;

	env_open(&v);
	publish_ab(&v, NULL, NULL);
	publish(&v, "b", "1.2.0", NULL, &b12);
	publish(&v, "a", "1.1.0", "\"acme/b\" = \"^1.0\"\n", &a11);
	publish(&v, "b", "2.0.0", NULL, NULL);

	gm_diag_clear(&d);
	ASSERT_OK(install_add(&v, "acme/a", "^1.0", &res, &d));
	ASSERT_EQ(res.added, 2);
	ASSERT_EQ(res.updated + res.removed + res.unchanged, 0);

	load_lock(&v, &l);
	gm_key_fingerprint(v.key.pk, fpr);
	ASSERT_EQ(l.n_reqs, 1);
	ASSERT_STREQ(l.reqs[0].ns, "acme");
	ASSERT_STREQ(l.reqs[0].name, "a");
	ASSERT_STREQ(l.reqs[0].req, "^1.0");
	ASSERT_EQ(l.n, 2);
	ASSERT_STREQ(l.entries[0].name, "a");
	ASSERT_STREQ(l.entries[0].ns, "acme");
	ASSERT_EQ(l.entries[0].version.major, 1);
	ASSERT_EQ(l.entries[0].version.minor, 1);
	ASSERT_EQ(l.entries[0].version.patch, 0);
	ASSERT_EQ(l.entries[0].kind, GM_PACKAGE_TEMPLATE);
	ASSERT(gm_cid_equal(&l.entries[0].root, &a11.root));
	ASSERT(gm_cid_equal(&l.entries[0].release, &a11.record));
	ASSERT_STREQ(l.entries[0].publisher, fpr);
	ASSERT_EQ(l.entries[0].n_deps, 1);
	ASSERT_STREQ(l.entries[0].deps[0], "acme/b");
	ASSERT_STREQ(l.entries[1].name, "b");
	ASSERT_EQ(l.entries[1].version.major, 1);
	ASSERT_EQ(l.entries[1].version.minor, 2);
	ASSERT(gm_cid_equal(&l.entries[1].root, &b12.root));
	ASSERT(gm_cid_equal(&l.entries[1].release, &b12.record));
	ASSERT_STREQ(l.entries[1].publisher, fpr);
	ASSERT_EQ(l.entries[1].n_deps, 0);
	gm_lockfile_release(&l);

	assert_readme(&v, "a", "1.1.0");
	assert_readme(&v, "b", "1.2.0");
	pkg_path(&v, "a", "templates/main.tmpl", p);
	got = read_text(p);
	ASSERT(got != NULL);
	ASSERT_STREQ(got, "hello {{ name }}\n");
	gm_free(got);
	snprintf(p, sizeof(p), "%s/src-acme-a-1.1.0/ggen.toml", v.tmp);
	got = read_text(p);
	{
		char q[PATH_MAX];
		char *inst;

		pkg_path(&v, "a", "ggen.toml", q);
		inst = read_text(q);
		ASSERT(inst != NULL && got != NULL);
		ASSERT_STREQ(inst, got);
		gm_free(inst);
	}
	gm_free(got);
	ggen_entries(&v, ents, sizeof(ents));
	ASSERT_STREQ(ents, "packages");
	ASSERT_OK(gm_install_verify(v.project, NULL, NULL, NULL, &d));
	env_close(&v);
}

TEST(install_again_is_a_noop)
{
	struct gm_install_result res;
	struct stat st1, st2;
	struct env v;
	char p[PATH_MAX], *before, *lock1, *lock2;

	env_open(&v);
	publish_ab(&v, NULL, NULL);
	ASSERT_OK(install_add(&v, "acme/a", NULL, &res, NULL));
	ASSERT_EQ(res.added, 2);
	pkg_path(&v, "a", "README.md", p);
	ASSERT(stat(p, &st1) == 0);
	before = snapshot(&v);
	lock1 = lock_text(&v);
	/* no requirement given: recorded as compatible with the choice */
	ASSERT(strstr(lock1, "\"acme/a\" = \"^1.0.0\"") != NULL);
	ASSERT_OK(install_plain(&v, &res, NULL));
	ASSERT_EQ(res.unchanged, 2);
	ASSERT_EQ(res.added + res.updated + res.removed, 0);
	/* adding what is already required with the same text: no-op too */
	ASSERT_OK(install_add(&v, "acme/a", "^1.0.0", &res, NULL));
	ASSERT_EQ(res.unchanged, 2);
	ASSERT(stat(p, &st2) == 0);
	ASSERT_EQ(st1.st_ino, st2.st_ino); /* not re-exported */
	lock2 = lock_text(&v);
	ASSERT_STREQ(lock1, lock2);
	assert_snapshot(&v, before);
	gm_free(before);
	gm_free(lock1);
	gm_free(lock2);
	env_close(&v);
}

TEST(install_repairs_a_damaged_tree)
{
	struct gm_install_result res;
	struct env v;
	char p[PATH_MAX];

	env_open(&v);
	publish_ab(&v, NULL, NULL);
	ASSERT_OK(install_add(&v, "acme/a", "^1", NULL, NULL));
	pkg_path(&v, "b", "README.md", p);
	write_file(p, "changed\n");
	ASSERT_ERR(gm_install_verify(v.project, NULL, NULL, NULL, NULL),
		   GM_EINTEGRITY);
	ASSERT_OK(install_plain(&v, &res, NULL));
	ASSERT_EQ(res.unchanged, 2);
	assert_readme(&v, "b", "1.0.0");
	ASSERT_OK(gm_install_verify(v.project, NULL, NULL, NULL, NULL));
	env_close(&v);
}

TEST(locked_reproduces_and_refuses_changes)
{
	struct gm_install_opts o;
	struct gm_install_result res;
	struct gm_resolve_req add = {"acme/b", "^1.2"};
	struct gm_diag d;
	struct env v;
	char p[PATH_MAX], *lock1, *lock2, *before;

	env_open(&v);
	publish_ab(&v, NULL, NULL);
	ASSERT_OK(install_add(&v, "acme/a", "^1.0", NULL, NULL));
	lock1 = lock_text(&v);
	/* newer versions appear; --locked still installs the locked ones */
	publish(&v, "b", "1.2.0", NULL, NULL);
	publish(&v, "a", "1.1.0", "\"acme/b\" = \"^1.0\"\n", NULL);
	snprintf(p, sizeof(p), "%s/.ggen", v.project);
	ASSERT_OK(gm_fs_remove_tree(p, NULL));
	opts_init(&v, &o);
	o.locked = true;
	ASSERT_OK(gm_install(v.reg, v.store, &o, &res, NULL));
	ASSERT_EQ(res.unchanged, 2);
	lock2 = lock_text(&v);
	ASSERT_STREQ(lock1, lock2);
	assert_readme(&v, "a", "1.0.0");
	assert_readme(&v, "b", "1.0.0");
	ASSERT_OK(gm_install_verify(v.project, NULL, NULL, NULL, NULL));

	/* a requirement the locked b 1.0.0 does not meet */
	before = snapshot(&v);
	o.add = &add;
	o.n_add = 1;
	gm_diag_clear(&d);
	ASSERT_ERR(gm_install(v.reg, v.store, &o, &res, &d), GM_ECONFLICT);
	ASSERT(strstr(d.msg, "--locked") != NULL);
	ASSERT(strstr(d.msg, "acme/b 1.0.0 -> 1.2.0") != NULL);
	assert_snapshot(&v, before);
	/* a requirement that keeps the versions still changes [requires] */
	add.req = "^1.0";
	gm_diag_clear(&d);
	ASSERT_ERR(gm_install(v.reg, v.store, &o, &res, &d), GM_ECONFLICT);
	ASSERT(strstr(d.msg, "--locked") != NULL);
	assert_snapshot(&v, before);
	gm_free(before);
	gm_free(lock1);
	gm_free(lock2);
	env_close(&v);
}

TEST(locked_without_lock_is_enoent)
{
	struct gm_install_opts o;
	struct gm_diag d;
	struct env v;
	char ents[64];

	env_open(&v);
	opts_init(&v, &o);
	o.locked = true;
	gm_diag_clear(&d);
	ASSERT_ERR(gm_install(v.reg, v.store, &o, NULL, &d), GM_ENOENT);
	ASSERT(strstr(d.msg, "no ggen.lock") != NULL);
	/* the project is left as it was: no .ggen created */
	snprintf(ents, sizeof(ents), "%s/.ggen", v.project);
	ASSERT(access(ents, F_OK) != 0);
	env_close(&v);
}

struct notes {
	char text[4096];
	size_t len;
};

static void collect(void *ctx, const char *msg)
{
	struct notes *n = ctx;

	n->len += (size_t)snprintf(n->text + n->len, sizeof(n->text) - n->len,
				   "%s\n", msg);
	if (n->len >= sizeof(n->text))
		n->len = sizeof(n->text) - 1;
}

TEST(update_moves_to_a_newer_version)
{
	struct gm_install_opts o;
	struct gm_install_result res;
	const char *upd[] = {"acme/b"};
	struct notes nt = {{0}, 0};
	struct gm_lockfile l;
	struct env v;

	env_open(&v);
	publish_ab(&v, NULL, NULL);
	ASSERT_OK(install_add(&v, "acme/a", "^1.0", NULL, NULL));
	publish(&v, "b", "1.2.0", NULL, NULL);
	publish(&v, "a", "1.1.0", "\"acme/b\" = \"^1.0\"\n", NULL);
	/* without update the locked versions stay */
	ASSERT_OK(install_plain(&v, &res, NULL));
	ASSERT_EQ(res.unchanged, 2);
	assert_readme(&v, "b", "1.0.0");
	/* update one package: b moves, a stays */
	opts_init(&v, &o);
	o.update = upd;
	o.n_update = 1;
	o.note = collect;
	o.note_ctx = &nt;
	ASSERT_OK(gm_install(v.reg, v.store, &o, &res, NULL));
	ASSERT_EQ(res.updated, 1);
	ASSERT_EQ(res.unchanged, 1);
	ASSERT(strstr(nt.text, "updated acme/b 1.0.0 -> 1.2.0") != NULL);
	assert_readme(&v, "a", "1.0.0");
	assert_readme(&v, "b", "1.2.0");
	/* update everything */
	opts_init(&v, &o);
	o.update_all = true;
	ASSERT_OK(gm_install(v.reg, v.store, &o, &res, NULL));
	ASSERT_EQ(res.updated, 1);
	assert_readme(&v, "a", "1.1.0");
	load_lock(&v, &l);
	ASSERT_EQ(l.n, 2);
	ASSERT_EQ(l.entries[0].version.minor, 1);
	ASSERT_EQ(l.entries[1].version.minor, 2);
	gm_lockfile_release(&l);
	/* updating something not installed */
	upd[0] = "acme/zzz";
	opts_init(&v, &o);
	o.update = upd;
	o.n_update = 1;
	ASSERT_ERR(gm_install(v.reg, v.store, &o, &res, NULL), GM_ENOENT);
	ASSERT_OK(gm_install_verify(v.project, NULL, NULL, NULL, NULL));
	env_close(&v);
}

TEST(locked_versions_move_when_requires_demand_it)
{
	struct gm_install_result res;
	struct notes nt = {{0}, 0};
	struct gm_install_opts o;
	struct gm_resolve_req add = {"acme/b", "^1.2"};
	struct env v;

	env_open(&v);
	publish_ab(&v, NULL, NULL);
	ASSERT_OK(install_add(&v, "acme/a", "^1.0", NULL, NULL));
	publish(&v, "b", "1.2.0", NULL, NULL);
	opts_init(&v, &o);
	o.add = &add;
	o.n_add = 1;
	o.note = collect;
	o.note_ctx = &nt;
	ASSERT_OK(gm_install(v.reg, v.store, &o, &res, NULL));
	ASSERT_EQ(res.updated, 1);
	ASSERT(strstr(nt.text, "moving: acme/b 1.0.0 -> 1.2.0") != NULL);
	assert_readme(&v, "b", "1.2.0");
	env_close(&v);
}

TEST(remove_drops_a_dependency_tree)
{
	struct gm_install_opts o;
	struct gm_install_result res;
	const char *rm[] = {"acme/c"};
	struct gm_lockfile l;
	struct gm_diag d;
	struct env v;
	char p[PATH_MAX];

	env_open(&v);
	publish_ab(&v, NULL, NULL);
	publish(&v, "d", "1.0.0", NULL, NULL);
	publish(&v, "c", "1.0.0", "\"acme/d\" = \"*\"\n", NULL);
	ASSERT_OK(install_add(&v, "acme/a", "^1.0", NULL, NULL));
	ASSERT_OK(install_add(&v, "acme/c", NULL, &res, NULL));
	ASSERT_EQ(res.added, 2);
	ASSERT_EQ(res.unchanged, 2);
	assert_readme(&v, "d", "1.0.0");

	opts_init(&v, &o);
	o.remove = rm;
	o.n_remove = 1;
	ASSERT_OK(gm_install(v.reg, v.store, &o, &res, NULL));
	ASSERT_EQ(res.removed, 2);
	ASSERT_EQ(res.unchanged, 2);
	load_lock(&v, &l);
	ASSERT_EQ(l.n_reqs, 1);
	ASSERT_EQ(l.n, 2);
	ASSERT_STREQ(l.entries[0].name, "a");
	ASSERT_STREQ(l.entries[1].name, "b");
	gm_lockfile_release(&l);
	pkg_path(&v, "c", NULL, p);
	ASSERT(access(p, F_OK) != 0);
	pkg_path(&v, "d", NULL, p);
	ASSERT(access(p, F_OK) != 0);
	ASSERT_OK(gm_install_verify(v.project, NULL, NULL, NULL, NULL));

	/* removing what is not required names what is */
	gm_diag_clear(&d);
	ASSERT_ERR(gm_install(v.reg, v.store, &o, &res, &d), GM_ENOENT);
	ASSERT(strstr(d.msg, "acme/c") != NULL);
	ASSERT(strstr(d.msg, "required: acme/a") != NULL);
	/* a dependency that is not required directly cannot be removed */
	rm[0] = "acme/b";
	ASSERT_ERR(gm_install(v.reg, v.store, &o, &res, &d), GM_ENOENT);
	/* removing the last requirement empties the tree */
	rm[0] = "acme/a";
	ASSERT_OK(gm_install(v.reg, v.store, &o, &res, NULL));
	ASSERT_EQ(res.removed, 2);
	load_lock(&v, &l);
	ASSERT_EQ(l.n, 0);
	ASSERT_EQ(l.n_reqs, 0);
	gm_lockfile_release(&l);
	pkg_path(&v, "a", NULL, p);
	ASSERT(access(p, F_OK) != 0);
	ASSERT_OK(gm_install_verify(v.project, NULL, NULL, NULL, NULL));
	env_close(&v);
}

TEST(unknown_package_and_no_solution)
{
	struct gm_diag d;
	struct env v;

	env_open(&v);
	publish_ab(&v, NULL, NULL);
	gm_diag_clear(&d);
	ASSERT_ERR(install_add(&v, "acme/nope", NULL, NULL, &d), GM_ENOENT);
	ASSERT(strstr(d.msg, "acme/nope") != NULL);
	gm_diag_clear(&d);
	ASSERT_ERR(install_add(&v, "acme/a", "^2", NULL, &d), GM_ECONFLICT);
	ASSERT(strstr(d.msg, "acme/a") != NULL);
	ASSERT_ERR(install_add(&v, "acme/a", "not a req", NULL, &d), GM_EPARSE);
	ASSERT_ERR(install_add(&v, "bad id", NULL, NULL, &d), GM_EINVAL);
	env_close(&v);
}

TEST(tampered_block_is_refused_and_project_untouched)
{
	struct gm_install_opts o;
	struct gm_diag d;
	struct env v;
	char *blk, *before, buf[256];
	int fd;

	env_open(&v);
	publish_ab(&v, NULL, NULL);
	ASSERT_OK(install_add(&v, "acme/a", "^1.0", NULL, NULL));
	publish(&v, "b", "1.2.0", NULL, NULL);
	blk = readme_block(&v, "b", "1.2.0");
	ASSERT(blk != NULL);
	chmod(blk, 0644);
	fd = open(blk, O_RDWR);
	ASSERT(fd >= 0);
	ASSERT(pread(fd, buf, 1, 3) == 1);
	buf[0] ^= 0x01;
	ASSERT(pwrite(fd, buf, 1, 3) == 1);
	close(fd);
	gm_free(blk);

	before = snapshot(&v);
	opts_init(&v, &o);
	o.update_all = true;
	gm_diag_clear(&d);
	ASSERT_ERR(gm_install(v.reg, v.store, &o, NULL, &d), GM_EINTEGRITY);
	ASSERT_EQ(gm_err_exit_code(GM_EINTEGRITY), 3);
	ASSERT(strstr(d.msg, "acme/b@1.2.0") != NULL);
	assert_snapshot(&v, before);
	gm_free(before);
	env_close(&v);
}

TEST(tampered_block_on_first_install_leaves_no_ggen)
{
	struct gm_diag d;
	struct env v;
	char *blk, *before, buf[1];
	int fd;

	env_open(&v);
	publish_ab(&v, NULL, NULL);
	blk = readme_block(&v, "a", "1.0.0");
	ASSERT(blk != NULL);
	chmod(blk, 0644);
	fd = open(blk, O_RDWR);
	ASSERT(fd >= 0);
	ASSERT(pread(fd, buf, 1, 0) == 1);
	buf[0] ^= 0x40;
	ASSERT(pwrite(fd, buf, 1, 0) == 1);
	close(fd);
	gm_free(blk);
	before = snapshot(&v);
	gm_diag_clear(&d);
	ASSERT_ERR(install_add(&v, "acme/a", NULL, NULL, &d), GM_EINTEGRITY);
	assert_snapshot(&v, before);
	gm_free(before);
	env_close(&v);
}

TEST(missing_block_is_enoent_with_next_step)
{
	struct gm_unixfs_result ur;
	struct gm_diag d;
	struct env v;
	char text[256], *before;

	env_open(&v);
	publish_ab(&v, NULL, NULL);
	readme_of("acme", "b", "1.0.0", text, sizeof(text));
	ASSERT_OK(gm_unixfs_import_bytes((const uint8_t *)text, strlen(text),
					 NULL, &ur, NULL));
	ASSERT_OK(gm_store_delete(v.store, &ur.root, NULL));
	before = snapshot(&v);
	gm_diag_clear(&d);
	ASSERT_ERR(install_add(&v, "acme/a", NULL, NULL, &d), GM_ENOENT);
	ASSERT(strstr(d.msg, "content of acme/b@1.0.0 is not in the local "
			     "store; import a bundle (ggen market bundle "
			     "import) or run a node") != NULL);
	assert_snapshot(&v, before);
	gm_free(before);
	env_close(&v);
}

TEST(content_state_not_complete_is_enoent)
{
	struct gm_release_list l;
	struct gm_diag d;
	struct env v;

	env_open(&v);
	publish_ab(&v, NULL, NULL);
	ASSERT_OK(
	    gm_registry_find_release(v.reg, "acme", "b", "1.0.0", &l, NULL));
	ASSERT_OK(gm_registry_set_content_state(v.reg, l.rows[0].id,
						GM_CONTENT_PARTIAL, NULL));
	gm_release_list_free(&l);
	gm_diag_clear(&d);
	ASSERT_ERR(install_add(&v, "acme/a", NULL, NULL, &d), GM_ENOENT);
	ASSERT(strstr(d.msg, "content of acme/b@1.0.0 is not in the local "
			     "store") != NULL);
	env_close(&v);
}

/* A registry row that carries another release's signed record. */
TEST(row_that_disagrees_with_its_record_is_refused)
{
	struct gm_release_list l;
	struct gm_release_row row;
	struct gm_diag d;
	struct env v;
	char *before;

	env_open(&v);
	publish_ab(&v, NULL, NULL);
	ASSERT_OK(
	    gm_registry_find_release(v.reg, "acme", "b", "1.0.0", &l, NULL));
	row = l.rows[0];
	row.id = 0;
	row.name = "z";
	row.record_cid = NULL;
	row.deps = NULL;
	row.n_deps = 0;
	ASSERT_OK(gm_registry_insert_release(v.reg, &row, NULL, NULL));
	gm_release_list_free(&l);
	before = snapshot(&v);
	gm_diag_clear(&d);
	ASSERT_ERR(install_add(&v, "acme/z", NULL, NULL, &d), GM_EINTEGRITY);
	ASSERT(strstr(d.msg, "acme/z@1.0.0") != NULL);
	ASSERT(strstr(d.msg, "disagrees with its signed release record") !=
	       NULL);
	assert_snapshot(&v, before);
	gm_free(before);
	env_close(&v);
}

TEST(untrusted_publisher_is_refused_unless_trust_new)
{
	struct gm_install_opts o;
	struct gm_resolve_req add = {"other/x", NULL};
	struct gm_diag d;
	struct env v;
	char *before, ents[64];

	env_open(&v);
	publish_as(&v, &v.key2, "other", "x", "1.0.0", NULL, NULL);
	ASSERT_OK(gm_registry_set_trust(v.reg, v.key2.pk, GM_TRUST_UNTRUSTED,
					false, NULL));
	before = snapshot(&v);
	opts_init(&v, &o);
	o.add = &add;
	o.n_add = 1;
	gm_diag_clear(&d);
	ASSERT_ERR(gm_install(v.reg, v.store, &o, NULL, &d), GM_ETRUST);
	ASSERT(strstr(d.msg, "other/x@1.0.0") != NULL);
	assert_snapshot(&v, before);
	snprintf(ents, sizeof(ents), "%s/.ggen", v.project);
	ASSERT(access(ents, F_OK) != 0);
	gm_free(before);
	o.trust_flags = GM_INGEST_TRUST_NEW;
	ASSERT_OK(gm_install(v.reg, v.store, &o, NULL, &d));
	o.trust_flags = 0;
	ASSERT_OK(gm_install(v.reg, v.store, &o, NULL, &d)); /* now pinned */
	ASSERT_OK(gm_install_verify(v.project, NULL, NULL, NULL, NULL));
	env_close(&v);
}

TEST(only_kind_refuses_templates)
{
	struct gm_install_opts o;
	struct gm_resolve_req add = {"acme/b", NULL};
	struct gm_diag d;
	struct env v;

	env_open(&v);
	publish_ab(&v, NULL, NULL);
	opts_init(&v, &o);
	o.add = &add;
	o.n_add = 1;
	o.only_kind = GM_PACKAGE_VALIDATOR;
	gm_diag_clear(&d);
	ASSERT_ERR(gm_install(v.reg, v.store, &o, NULL, &d), GM_EUSAGE);
	ASSERT(strstr(d.msg, "acme/b is a template package") != NULL);
	env_close(&v);
}

TEST(validators_go_to_their_own_folder)
{
	struct gm_install_opts o;
	struct gm_resolve_req add = {"acme/v", "^0.1"};
	struct gm_publish_opts po;
	struct gm_publish_result pr;
	struct gm_lockfile l;
	struct gm_diag d;
	struct env v;
	char dir[PATH_MAX], p[PATH_MAX], ents[256], *got;

	env_open(&v);
	publish_ab(&v, NULL, NULL);
	snprintf(dir, sizeof(dir), "%s/src-v", v.tmp);
	ASSERT(mkdir(dir, 0755) == 0);
	snprintf(p, sizeof(p), "%s/ggen.toml", dir);
	write_file(p, "[package]\nname = \"v\"\nnamespace = \"acme\"\n"
		      "version = \"0.1.0\"\nkind = \"validator\"\n"
		      "description = \"a validator\"\n\n"
		      "[plugin]\nentry = \"check.wasm\"\n\n"
		      "[plugin.limits]\nmemory_mb = 16\nfuel = 1000000\n"
		      "timeout_ms = 1000\n");
	snprintf(p, sizeof(p), "%s/check.wasm", dir);
	write_file(p, "\x01"
		      "asm-not-really");
	memset(&po, 0, sizeof(po));
	po.dir = dir;
	po.key = &v.key;
	po.now = 3000;
	gm_diag_clear(&d);
	if (gm_publish(v.reg, v.store, &po, &pr, &d))
		gm_test_fail(__FILE__, __LINE__, "publish: %s", d.msg);

	opts_init(&v, &o);
	o.add = &add;
	o.n_add = 1;
	o.only_kind = GM_PACKAGE_VALIDATOR;
	ASSERT_OK(gm_install(v.reg, v.store, &o, NULL, NULL));
	snprintf(p, sizeof(p), "%s/.ggen/validators/acme/v/check.wasm",
		 v.project);
	got = read_text(p);
	ASSERT(got != NULL);
	ASSERT_STREQ(got, "\x01"
			  "asm-not-really");
	gm_free(got);
	load_lock(&v, &l);
	ASSERT_EQ(l.n, 1);
	ASSERT_EQ(l.entries[0].kind, GM_PACKAGE_VALIDATOR);
	ASSERT(gm_cid_equal(&l.entries[0].root, &pr.root));
	gm_lockfile_release(&l);
	ggen_entries(&v, ents, sizeof(ents));
	ASSERT_STREQ(ents, "validators");
	/* a template beside it */
	ASSERT_OK(install_add(&v, "acme/b", NULL, NULL, NULL));
	ggen_entries(&v, ents, sizeof(ents));
	ASSERT_STREQ(ents, "packages validators");
	ASSERT_OK(gm_install_verify(v.project, NULL, NULL, NULL, NULL));
	/* a validator folder under packages/ is an extra */
	snprintf(p, sizeof(p), "%s/.ggen/packages/acme/v", v.project);
	ASSERT(mkdir(p, 0755) == 0);
	ASSERT_ERR(gm_install_verify(v.project, NULL, NULL, NULL, NULL),
		   GM_EINTEGRITY);
	env_close(&v);
}

TEST(hardlink_shares_the_store_block)
{
	struct gm_install_opts o;
	struct gm_resolve_req add = {"acme/a", NULL};
	struct stat s1, s2;
	struct env v;
	char p[PATH_MAX], *blk;

	env_open(&v);
	publish_ab(&v, NULL, NULL);
	opts_init(&v, &o);
	o.add = &add;
	o.n_add = 1;
	o.hardlink = true;
	ASSERT_OK(gm_install(v.reg, v.store, &o, NULL, NULL));
	assert_readme(&v, "a", "1.0.0");
	pkg_path(&v, "a", "README.md", p);
	blk = readme_block(&v, "a", "1.0.0");
	ASSERT(stat(p, &s1) == 0);
	ASSERT(stat(blk, &s2) == 0);
	ASSERT_EQ(s1.st_ino, s2.st_ino);
	gm_free(blk);
	/* without the option the files are copies */
	snprintf(p, sizeof(p), "%s/.ggen", v.project);
	ASSERT_OK(gm_fs_remove_tree(p, NULL));
	o.hardlink = false;
	o.n_add = 0;
	ASSERT_OK(gm_install(v.reg, v.store, &o, NULL, NULL));
	pkg_path(&v, "a", "README.md", p);
	ASSERT(stat(p, &s1) == 0);
	ASSERT(s1.st_ino != s2.st_ino);
	ASSERT_OK(gm_install_verify(v.project, NULL, NULL, NULL, NULL));
	env_close(&v);
}

struct seen {
	int missing, modified, extra;
	char ids[512];
};

static void on_problem(void *ctx, enum gm_install_problem p, const char *id,
		       const char *msg)
{
	struct seen *s = ctx;
	size_t len = strlen(s->ids);

	(void)msg;
	if (p == GM_INSTALL_MISSING)
		s->missing++;
	else if (p == GM_INSTALL_MODIFIED)
		s->modified++;
	else if (p == GM_INSTALL_EXTRA)
		s->extra++;
	snprintf(s->ids + len, sizeof(s->ids) - len, "%s ", id);
}

TEST(verify_reports_modified_missing_and_extra)
{
	struct seen s;
	struct gm_diag d;
	struct env v;
	size_t n;
	char p[PATH_MAX];

	env_open(&v);
	ASSERT_ERR(gm_install_verify(v.project, NULL, NULL, NULL, NULL),
		   GM_ENOENT);
	publish_ab(&v, NULL, NULL);
	ASSERT_OK(install_add(&v, "acme/a", NULL, NULL, NULL));
	ASSERT_OK(gm_install_verify(v.project, NULL, NULL, &n, NULL));
	ASSERT_EQ(n, 0);

	pkg_path(&v, "a", "templates/main.tmpl", p);
	write_file(p, "hello {{ name }}!\n");
	pkg_path(&v, "b", NULL, p);
	ASSERT_OK(gm_fs_remove_tree(p, NULL));
	pkg_path(&v, "zzz", NULL, p);
	ASSERT(mkdir(p, 0755) == 0);
	memset(&s, 0, sizeof(s));
	gm_diag_clear(&d);
	ASSERT_ERR(gm_install_verify(v.project, on_problem, &s, &n, &d),
		   GM_EINTEGRITY);
	ASSERT_EQ(n, 3);
	ASSERT_EQ(s.modified, 1);
	ASSERT_EQ(s.missing, 1);
	ASSERT_EQ(s.extra, 1);
	ASSERT(strstr(s.ids, "acme/a ") != NULL);
	ASSERT(strstr(s.ids, "acme/b ") != NULL);
	ASSERT(strstr(s.ids, "acme/zzz ") != NULL);
	ASSERT(strstr(d.msg, "3 problems") != NULL);
	ASSERT(strstr(d.msg, "acme/a was modified") != NULL);
	/* install restores the locked state and removes the extra folder */
	ASSERT_OK(install_plain(&v, NULL, NULL));
	ASSERT_OK(gm_install_verify(v.project, NULL, NULL, &n, NULL));
	ASSERT_EQ(n, 0);
	ASSERT(access(p, F_OK) != 0);
	env_close(&v);
}

/*
 * A kill after each step of the switch: recovery gives the old install
 * (before the commit point) or the new one (after it), never a mix.
 */
TEST(recovery_after_a_crash_at_every_step)
{
	int k;

	for (k = 1; k <= 6; k++) {
		struct gm_install_opts o;
		struct gm_lockfile l;
		struct env v;
		char sub[64], ents[256], *old_lock, *now_lock;
		pid_t pid = fork();
		int status;

		ASSERT(pid >= 0);
		if (pid) {
			ASSERT(waitpid(pid, &status, 0) == pid);
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				gm_test_fail(__FILE__, __LINE__,
					     "crash point %d failed", k);
			continue;
		}
		env_open(&v);
		snprintf(sub, sizeof(sub), "/k%d", k);
		publish_ab(&v, NULL, NULL);
		ASSERT_OK(install_add(&v, "acme/a", "^1", NULL, NULL));
		old_lock = lock_text(&v);
		publish(&v, "b", "1.2.0", NULL, NULL);
		opts_init(&v, &o);
		o.update_all = true;
		gm__install_crash_after = k;
		ASSERT_ERR(gm_install(v.reg, v.store, &o, NULL, NULL), GM_EIO);
		gm__install_crash_after = 0;
		ASSERT_OK(gm_install_recover(v.project, NULL));
		ASSERT_OK(gm_install_verify(v.project, NULL, NULL, NULL, NULL));
		now_lock = lock_text(&v);
		load_lock(&v, &l);
		ASSERT_EQ(l.n, 2);
		if (k <= 4) {
			ASSERT_STREQ(now_lock, old_lock);
			ASSERT_EQ(l.entries[1].version.minor, 0);
			assert_readme(&v, "b", "1.0.0");
		} else {
			ASSERT(strcmp(now_lock, old_lock) != 0);
			ASSERT_EQ(l.entries[1].version.minor, 2);
			assert_readme(&v, "b", "1.2.0");
		}
		gm_lockfile_release(&l);
		ggen_entries(&v, ents, sizeof(ents));
		ASSERT_STREQ(ents, "packages");
		gm_free(old_lock);
		gm_free(now_lock);
		env_close(&v);
		exit(0);
	}
}

/* The same on a first install: before the commit nothing remains. */
TEST(recovery_of_a_first_install)
{
	int k;

	for (k = 1; k <= 6; k++) {
		struct env v;
		char ents[256], p[PATH_MAX];
		pid_t pid = fork();
		int status;

		ASSERT(pid >= 0);
		if (pid) {
			ASSERT(waitpid(pid, &status, 0) == pid);
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				gm_test_fail(__FILE__, __LINE__,
					     "crash point %d failed", k);
			continue;
		}
		env_open(&v);
		publish_ab(&v, NULL, NULL);
		gm__install_crash_after = k;
		ASSERT_ERR(install_add(&v, "acme/a", NULL, NULL, NULL), GM_EIO);
		gm__install_crash_after = 0;
		ASSERT_OK(gm_install_recover(v.project, NULL));
		snprintf(p, sizeof(p), "%s/ggen.lock", v.project);
		ggen_entries(&v, ents, sizeof(ents));
		if (k <= 4) {
			ASSERT(access(p, F_OK) != 0);
			ASSERT_STREQ(ents, "");
		} else {
			ASSERT_OK(gm_install_verify(v.project, NULL, NULL, NULL,
						    NULL));
			ASSERT_STREQ(ents, "packages");
		}
		/* and a later install completes normally */
		ASSERT_OK(install_add(&v, "acme/a", NULL, NULL, NULL));
		ASSERT_OK(gm_install_verify(v.project, NULL, NULL, NULL, NULL));
		env_close(&v);
		exit(0);
	}
}

TEST(install_recovers_first_and_rejects_bad_journal)
{
	struct gm_diag d;
	struct env v;
	char p[PATH_MAX], ents[256];

	env_open(&v);
	publish_ab(&v, NULL, NULL);
	ASSERT_OK(install_add(&v, "acme/a", NULL, NULL, NULL));
	/* leftovers without a journal are removed */
	snprintf(p, sizeof(p), "%s/.ggen/.staging-99999", v.project);
	ASSERT(mkdir(p, 0755) == 0);
	snprintf(p, sizeof(p), "%s/.ggen/.old-99999", v.project);
	ASSERT(mkdir(p, 0755) == 0);
	ASSERT_OK(gm_install_recover(v.project, NULL));
	ggen_entries(&v, ents, sizeof(ents));
	ASSERT_STREQ(ents, "packages");
	/* a journal naming a folder outside .ggen is refused */
	snprintf(p, sizeof(p), "%s/.ggen/txn", v.project);
	write_file(p, "ggen-install-txn 1\nstaging ../../etc\nold .old-1\n"
		      "lock 00\nhad 1 0\nnew 1 0\n");
	gm_diag_clear(&d);
	ASSERT_ERR(gm_install_recover(v.project, &d), GM_ECORRUPT);
	ASSERT(strstr(d.msg, "txn") != NULL);
	ASSERT_ERR(install_plain(&v, NULL, NULL), GM_ECORRUPT);
	ASSERT(unlink(p) == 0);
	ASSERT_OK(install_plain(&v, NULL, NULL));
	env_close(&v);
}

TEST(concurrent_install_is_refused)
{
	struct gm_diag d;
	struct env v;
	char p[PATH_MAX];
	int fd;

	env_open(&v);
	publish_ab(&v, NULL, NULL);
	ASSERT_OK(install_add(&v, "acme/a", NULL, NULL, NULL));
	snprintf(p, sizeof(p), "%s/.ggen", v.project);
	fd = open(p, O_RDONLY | O_DIRECTORY);
	ASSERT(fd >= 0);
	ASSERT(flock(fd, LOCK_EX) == 0);
	gm_diag_clear(&d);
	ASSERT_ERR(install_plain(&v, NULL, &d), GM_ECONFLICT);
	ASSERT(strstr(d.msg, "another install") != NULL);
	close(fd);
	ASSERT_OK(install_plain(&v, NULL, NULL));
	env_close(&v);
}

/*
 * Runs one install with the n-th allocation failing in a child process and
 * returns its result; the child runs LeakSanitizer's check before leaving,
 * so every failure path is leak-checked.
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_LSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_LSAN 1
#endif
#ifdef HAVE_LSAN
#include <sanitizer/lsan_interface.h>
static void leak_check(void)
{
	__lsan_do_leak_check(); /* ends the process when it finds a leak */
}
#else
static void leak_check(void)
{
}
#endif

static gm_err oom_child(struct env *v, unsigned long n)
{
	int status;
	pid_t pid = fork();

	ASSERT(pid >= 0);
	if (!pid) {
		struct gm_diag d;
		gm_err e;

		gm_diag_clear(&d);
		gm_alloc_fail_after(n);
		e = install_add(v, "acme/a", NULL, NULL, &d);
		gm_alloc_fail_after(0);
		if (e && e != GM_ENOMEM)
			fprintf(stderr, "n=%lu: %s: %s\n", n, gm_errname(e),
				d.msg);
		/* _exit: the parent's temporary folder must stay */
		leak_check();
		_exit(100 + e);
	}
	ASSERT(waitpid(pid, &status, 0) == pid);
	ASSERT(WIFEXITED(status));
	ASSERT(WEXITSTATUS(status) >= 100);
	return (gm_err)(WEXITSTATUS(status) - 100);
}

TEST(install_oom_walk)
{
	struct env v;
	unsigned long n;
	size_t enomem = 0;
	struct gm_diag d;
	gm_err e = GM_ENOMEM;

	env_open(&v);
	publish_ab(&v, NULL, NULL);
	for (n = 1; n < 100000; n++) {
		char p[PATH_MAX];

		e = oom_child(&v, n);
		if (e == GM_OK)
			break;
		ASSERT_ERR(e, GM_ENOMEM);
		enomem++;
		/* the project is as it was: no lock, no .ggen */
		snprintf(p, sizeof(p), "%s/ggen.lock", v.project);
		ASSERT(access(p, F_OK) != 0);
		snprintf(p, sizeof(p), "%s/.ggen", v.project);
		ASSERT(access(p, F_OK) != 0);
	}
	ASSERT_OK(e);
	ASSERT(enomem > 10);
	/* the child's install is on disk; it verifies */
	ASSERT_OK(gm_install_verify(v.project, NULL, NULL, NULL, NULL));
	/* the OOM walk of verify itself */
	for (n = 1; n < 100000; n++) {
		gm_alloc_fail_after(n);
		gm_diag_clear(&d);
		e = gm_install_verify(v.project, NULL, NULL, NULL, &d);
		gm_alloc_fail_after(0);
		if (e == GM_OK)
			break;
		if (e != GM_ENOMEM)
			gm_test_fail(__FILE__, __LINE__, "n=%lu: %s: %s", n,
				     gm_errname(e), d.msg);
	}
	ASSERT_OK(e);
	env_close(&v);
}
