/*
 * install.c - resolve, verify and materialize packages into a project, and
 * switch it over so that a kill at any point leaves the old install or the
 * complete new one (see gm/install.h).
 *
 * An install first decides everything without touching the project:
 * [requires] (old lock + add - remove), resolution against the registry
 * (locked versions pinned first), and for each chosen release the checks of
 * gm_ingest_check_release() plus agreement between the signed record and
 * its registry row (root, version, package, dependencies, record CID).
 * Then every package is exported from the block store (each block checked
 * against its CID) into <project>/.ggen/.staging-<pid>/{packages,
 * validators}/<ns>/<name>, the staged files and folders are fsynced, and
 * the project is switched over:
 *
 *   | step | action                                   | a crash after it   |
 *   |------|------------------------------------------|--------------------|
 *   |  1   | write .ggen/txn (atomic, fsync): staging | recover: roll back |
 *   |      | and old folder names, SHA-256 of the new | (lock is old)      |
 *   |      | lock text, which trees existed before    |                    |
 *   |      | and which the new install has            |                    |
 *   |  2   | write staging/ggen.lock (atomic, fsync)  | roll back          |
 *   |  3   | per tree: rename .ggen/T to .old-<pid>/T | roll back: remove  |
 *   |      | (if present), rename staging/T to .ggen/T| new T, rename old  |
 *   |      | (if the new install has T); fsync .ggen  | T back             |
 *   |  4   | write ggen.lock (atomic): COMMIT POINT   | recover: finish    |
 *   |  5   | remove .old-<pid>, staging, then txn     | finish (idempotent)|
 *
 * gm_install_recover() with a txn present compares the SHA-256 of ggen.lock
 * with the txn's: equal means committed, so step 3 is redone where it is
 * not complete (idempotent: a staged tree still in staging is moved in,
 * after the current one is moved aside) and step 5 follows; different means
 * not committed, so each tree is put back (a tree moved aside to .old
 * returns, a tree that did not exist before is removed) and staging and txn
 * are removed. Redoing step 3 also covers a repair install whose new lock
 * text equals the old one. Without a txn, leftover .staging-*, .old-* and
 * .tmp-* entries in .ggen are removed. An flock on the .ggen folder keeps
 * two installs (and a recovery) of one project apart.
 *
 * The txn file (text, at most 4 KiB):
 *
 *   | line                      | meaning                                  |
 *   |---------------------------|------------------------------------------|
 *   | ggen-install-txn 1        | magic and version                        |
 *   | staging .staging-<pid>    | staging folder (name checked on read)    |
 *   | old .old-<pid>            | where the old trees are moved aside      |
 *   | lock <64 hex>             | SHA-256 of the new ggen.lock text        |
 *   | had <0|1> <0|1>           | packages/, validators/ existed before    |
 *   | new <0|1> <0|1>           | the new install has packages/, validators/|
 *
 * With o->hardlink, a file that is one raw block is replaced in staging by
 * a hard link to the store's block file (when link() works across the two
 * folders); the bytes were verified by the export just before.
 */
#include "internal.h"

#include <dirent.h>
#include <ftw.h>
#include <sys/file.h>

#include "gm/dagpb.h"
#include "gm/fs.h"
#include "gm/ingest.h"
#include "gm/install.h"
#include "gm/lockfile.h"
#include "gm/record.h"
#include "gm/unixfs.h"

#include "registry_int.h"

#define TXN_NAME "txn"
#define TXN_MAX 4096
#define ID_MAX (2 * GM_PACKAGE_NAME_MAX + 2)
#define HARDLINK_DEPTH 64

/* Test hook: gm_install stops as if killed after this crash point. */
int gm__install_crash_after;

static const char *const tree_names[2] = {GM_INSTALL_PACKAGES,
					  GM_INSTALL_VALIDATORS};

struct txn {
	char staging[48];
	char old[48];
	uint8_t lock_sha[32];
	bool had[2];
	bool now[2];
};

static bool crash_point(int n)
{
	return gm__install_crash_after == n;
}

/* Puts "what: " in front of d's message; returns e. */
static gm_err prefix(struct gm_diag *d, gm_err e, const char *fmt, ...)
    GM_PRINTF(3, 4);

static gm_err prefix(struct gm_diag *d, gm_err e, const char *fmt, ...)
{
	char old[GM_DIAG_MAX], pre[GM_DIAG_MAX];
	va_list ap;

	if (!d)
		return e;
	memcpy(old, d->msg, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	return gm_diag_set(d, e, "%s: %s", pre, old[0] ? old : gm_strerror(e));
}

static gm_err pathf(char out[PATH_MAX], struct gm_diag *d, const char *fmt, ...)
    GM_PRINTF(3, 4);

static gm_err pathf(char out[PATH_MAX], struct gm_diag *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, PATH_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= PATH_MAX)
		return gm_diag_set(d, GM_ELIMIT, "path too long: %.200s", out);
	return GM_OK;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Whether the file at path holds exactly want. */
static bool file_is(const char *path, const struct gm_buf *want)
{
	struct gm_buf b;
	bool same;

	gm_buf_init(&b, want->len + 1);
	same = gm_fs_read_file(path, &b, NULL) == GM_OK &&
	       b.len == want->len && !memcmp(b.data, want->data, b.len);
	gm_buf_release(&b);
	return same;
}

static gm_err move(const char *from, const char *to, struct gm_diag *d)
{
	if (rename(from, to) != 0)
		return gm_diag_set(d, gm_err_from_errno(errno),
				   "cannot rename '%s' to '%s': %s", from, to,
				   strerror(errno));
	return GM_OK;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- the project lock (flock on .ggen) ---- */

static gm_err lock_project(const char *ggen, bool create, int *fd, bool *made,
			   struct gm_diag *d)
{
	*fd = -1;
	if (made)
		*made = false;
	if (create) {
		if (mkdir(ggen, 0755) == 0) {
			if (made)
				*made = true;
		} else if (errno != EEXIST) {
			return gm_diag_set(d, gm_err_from_errno(errno),
					   "cannot create '%s': %s (does the "
					   "project folder exist?)",
					   ggen, strerror(errno));
		}
	}
	*fd = open(ggen, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0) {
		int err = errno;

		if (err == ENOENT && !create)
			return GM_OK;
		if (err == ELOOP || err == ENOTDIR)
			return gm_diag_set(d, GM_EUNSAFE,
					   "'%s' is not a folder (a symlink?); "
					   "move it away and install again",
					   ggen);
		return gm_diag_set(d, gm_err_from_errno(err),
				   "cannot open '%s': %s", ggen, strerror(err));
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		int err = errno;

		close(*fd);
		*fd = -1;
		if (err == EWOULDBLOCK)
			return gm_diag_set(d, GM_ECONFLICT,
					   "another install is running in "
					   "this project (%s is locked); wait "
					   "for it to finish",
					   ggen);
		return gm_diag_set(d, gm_err_from_errno(err),
				   "cannot lock '%s': %s", ggen, strerror(err));
	}
	return GM_OK;
}

static void unlock_project(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* ---- the txn file ---- */

static gm_err txn_format(const struct txn *t, struct gm_buf *out)
{
	char h[65];

	hex(t->lock_sha, 32, h);
	return gm_buf_printf(out,
			     "ggen-install-txn 1\nstaging %s\nold %s\n"
			     "lock %s\nhad %d %d\nnew %d %d\n",
			     t->staging, t->old, h, t->had[0], t->had[1],
			     t->now[0], t->now[1]);
}

static bool name_ok(const char *s, size_t len, const char *pre)
{
	size_t n = strlen(pre), i;

	if (len <= n || len >= 48 || memcmp(s, pre, n))
		return false;
	for (i = n; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool flag(const char *s, bool *out)
{
	if (*s != '0' && *s != '1')
		return false;
	*out = *s == '1';
	return true;
}

/* Parses the txn text p[0..len) (bounded by TXN_MAX). */
static bool txn_parse(struct txn *t, const char *p, size_t len)
{
	unsigned seen = 0;
	size_t off = 0;

	memset(t, 0, sizeof(*t));
	while (off < len) {
		const char *line = p + off, *nl = memchr(line, '\n', len - off);
		size_t n, i;

		if (!nl)
			return false;
		n = (size_t)(nl - line);
		off += n + 1;
		if (n == 18 && !memcmp(line, "ggen-install-txn 1", 18)) {
			seen |= 1;
		} else if (n > 8 && !memcmp(line, "staging ", 8)) {
			if (!name_ok(line + 8, n - 8, ".staging-"))
				return false;
			memcpy(t->staging, line + 8, n - 8);
			t->staging[n - 8] = '\0';
			seen |= 2;
		} else if (n > 4 && !memcmp(line, "old ", 4)) {
			if (!name_ok(line + 4, n - 4, ".old-"))
				return false;
			memcpy(t->old, line + 4, n - 4);
			t->old[n - 4] = '\0';
			seen |= 4;
		} else if (n == 69 && !memcmp(line, "lock ", 5)) {
			for (i = 0; i < 32; i++) {
				int a = hexval(line[5 + 2 * i]);
				int b = hexval(line[6 + 2 * i]);

				if (a < 0 || b < 0)
					return false;
				t->lock_sha[i] = (uint8_t)(a << 4 | b);
			}
			seen |= 8;
		} else if (n == 7 && !memcmp(line, "had ", 4)) {
			if (!flag(line + 4, &t->had[0]) || line[5] != ' ' ||
			    !flag(line + 6, &t->had[1]))
				return false;
			seen |= 16;
		} else if (n == 7 && !memcmp(line, "new ", 4)) {
			if (!flag(line + 4, &t->now[0]) || line[5] != ' ' ||
			    !flag(line + 6, &t->now[1]))
				return false;
			seen |= 32;
		} else {
			return false;
		}
	}
	return seen == 63;
}

/* ---- the switch (step 3), its undo, and the clean-up (step 5) ---- */

/* Step 3 for tree i; idempotent, so recovery can redo it. */
static gm_err switch_tree(const char *ggen, const struct txn *t, int i,
			  bool in_install, struct gm_diag *d)
{
	char cur[PATH_MAX], stg[PATH_MAX], oldd[PATH_MAX], old[PATH_MAX];
	gm_err e;

	if ((e = pathf(cur, d, "%s/%s", ggen, tree_names[i])) ||
	    (e = pathf(stg, d, "%s/%s/%s", ggen, t->staging, tree_names[i])) ||
	    (e = pathf(oldd, d, "%s/%s", ggen, t->old)) ||
	    (e = pathf(old, d, "%s/%s", oldd, tree_names[i])))
		return e;
	if (t->now[i] && !exists(stg))
		return GM_OK; /* already switched */
	if (exists(cur)) {
		if (exists(old))
			return gm_diag_set(d, GM_ECORRUPT,
					   "both '%s' and '%s' exist; the "
					   "interrupted install cannot be "
					   "finished: remove '%s' and install "
					   "again",
					   cur, old, cur);
		if (mkdir(oldd, 0755) != 0 && errno != EEXIST)
			return gm_diag_set(d, gm_err_from_errno(errno),
					   "cannot create '%s': %s", oldd,
					   strerror(errno));
		if ((e = move(cur, old, d)))
			return e;
		if (in_install && i == 0 && crash_point(3))
			return GM_EIO; /* between the two renames */
	} else if (t->now[i]) {
		if ((e = move(stg, cur, d)))
			return e;
		if (in_install && i == 0 && crash_point(3))
			return GM_EIO; /* first install: one tree in place */
		return GM_OK;
	}
	if (t->now[i])
		return move(stg, cur, d);
	return GM_OK;
}

/* Puts tree i back as it was before the install. */
static gm_err rollback_tree(const char *ggen, const struct txn *t, int i,
			    struct gm_diag *d)
{
	char cur[PATH_MAX], old[PATH_MAX];
	gm_err e;

	if ((e = pathf(cur, d, "%s/%s", ggen, tree_names[i])) ||
	    (e = pathf(old, d, "%s/%s/%s", ggen, t->old, tree_names[i])))
		return e;
	if (exists(old)) {
		if ((e = gm_fs_remove_tree(cur, d)))
			return e;
		return move(old, cur, d);
	}
	if (!t->had[i])
		return gm_fs_remove_tree(cur, d); /* only a new tree there */
	return GM_OK;
}

static gm_err sync_dirs(const char *ggen, const struct txn *t,
			struct gm_diag *d)
{
	char p[PATH_MAX];
	gm_err e;

	if ((e = gm_fs_fsync_dir(ggen, d)))
		return e;
	if (!pathf(p, NULL, "%s/%s", ggen, t->old) && exists(p) &&
	    (e = gm_fs_fsync_dir(p, d)))
		return e;
	if (!pathf(p, NULL, "%s/%s", ggen, t->staging) && exists(p) &&
	    (e = gm_fs_fsync_dir(p, d)))
		return e;
	return GM_OK;
}

/* Step 5: old trees, staging, then the txn file. */
static gm_err finish(const char *ggen, const struct txn *t, bool in_install,
		     struct gm_diag *d)
{
	char p[PATH_MAX];
	gm_err e;

	if ((e = pathf(p, d, "%s/%s", ggen, t->old)) ||
	    (e = gm_fs_remove_tree(p, d)))
		return e;
	if (in_install && crash_point(6))
		return GM_EIO;
	if ((e = pathf(p, d, "%s/%s", ggen, t->staging)) ||
	    (e = gm_fs_remove_tree(p, d)))
		return e;
	if ((e = pathf(p, d, "%s/%s", ggen, TXN_NAME)))
		return e;
	if (unlink(p) != 0 && errno != ENOENT)
		return gm_diag_set(d, gm_err_from_errno(errno),
				   "cannot remove '%s': %s", p,
				   strerror(errno));
	return gm_fs_fsync_dir(ggen, d);
}

/* Removes .staging-*, .old-* and .tmp-* entries (no txn refers to them). */
static gm_err remove_leftovers(const char *ggen, struct gm_diag *d)
{
	struct dirent *ent;
	gm_err e = GM_OK;
	DIR *dir;

	dir = opendir(ggen);
	if (!dir)
		return errno == ENOENT
			   ? GM_OK
			   : gm_diag_set(d, gm_err_from_errno(errno),
					 "cannot open '%s': %s", ggen,
					 strerror(errno));
	while (!e && (ent = readdir(dir)) != NULL) {
		char p[PATH_MAX];

		if (strncmp(ent->d_name, ".staging-", 9) &&
		    strncmp(ent->d_name, ".old-", 5) &&
		    strncmp(ent->d_name, ".tmp-", 5))
			continue;
		e = pathf(p, d, "%s/%s", ggen, ent->d_name);
		if (!e)
			e = gm_fs_remove_tree(p, d);
	}
	closedir(dir);
	return e;
}

static gm_err sha_file(const char *path, uint8_t out[32], bool *present,
		       struct gm_diag *d)
{
	struct gm_buf b;
	gm_err e;

	gm_buf_init(&b, GM_LOCKFILE_MAX_SIZE);
	e = gm_fs_read_file(path, &b, d);
	*present = !e;
	if (!e)
		gm_sha256(b.data ? b.data : (const uint8_t *)"", b.len, out);
	else if (e == GM_ENOENT)
		e = GM_OK;
	gm_buf_release(&b);
	return e;
}

/* Recovery with the project lock held. *did says whether a txn was found. */
static gm_err recover_locked(const char *project, const char *ggen, bool *did,
			     struct gm_diag *d)
{
	char txnp[PATH_MAX], lockp[PATH_MAX];
	uint8_t sha[32];
	struct gm_buf b;
	struct txn t;
	bool present, committed;
	int i;
	gm_err e;

	*did = false;
	if ((e = pathf(txnp, d, "%s/%s", ggen, TXN_NAME)) ||
	    (e = pathf(lockp, d, "%s/%s", project, GM_LOCKFILE_NAME)))
		return e;
	gm_buf_init(&b, TXN_MAX);
	e = gm_fs_read_file(txnp, &b, d);
	if (e == GM_ENOENT) {
		gm_buf_release(&b);
		return remove_leftovers(ggen, d);
	}
	if (!e && !txn_parse(&t, (const char *)b.data, b.len))
		e = gm_diag_set(d, GM_ECORRUPT,
				"'%s' is not a valid install journal; check "
				"the project, remove it and install again",
				txnp);
	else if (e == GM_ELIMIT)
		e = gm_diag_set(d, GM_ECORRUPT,
				"'%s' is too large for an install journal; "
				"remove it and install again",
				txnp);
	gm_buf_release(&b);
	if (e)
		return e;
	*did = true;
	if ((e = sha_file(lockp, sha, &present, d)))
		return e;
	committed = present && !memcmp(sha, t.lock_sha, 32);
	for (i = 0; i < 2; i++) {
		e = committed ? switch_tree(ggen, &t, i, false, d)
			      : rollback_tree(ggen, &t, i, d);
		if (e)
			return e;
	}
	if ((e = sync_dirs(ggen, &t, d)))
		return e;
	if ((e = finish(ggen, &t, false, d)))
		return e;
	return remove_leftovers(ggen, d);
}

gm_err gm_install_recover(const char *project, struct gm_diag *d)
{
	char ggen[PATH_MAX];
	bool did;
	int fd;
	gm_err e;

	if (!project)
		return gm_diag_set(d, GM_EINVAL, "no project folder");
	if ((e = pathf(ggen, d, "%s/%s", project, GM_INSTALL_DIR)))
		return e;
	if ((e = lock_project(ggen, false, &fd, NULL, d)))
		return e;
	if (fd < 0)
		return GM_OK; /* no .ggen: nothing installed */
	e = recover_locked(project, ggen, &did, d);
	unlock_project(fd);
	return e;
}

/* ---- checking an installed tree against a lock ---- */

struct problems {
	gm_install_problem_fn fn;
	void *ctx;
	size_t n;
	struct gm_diag first;
};

static void problem(struct problems *p, enum gm_install_problem kind,
		    const char *id, const char *fmt, ...) GM_PRINTF(4, 5);

static void problem(struct problems *p, enum gm_install_problem kind,
		    const char *id, const char *fmt, ...)
{
	char msg[GM_DIAG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!p->n)
		snprintf(p->first.msg, sizeof(p->first.msg), "%s", msg);
	p->n++;
	if (p->fn)
		p->fn(p->ctx, kind, id, msg);
}

static int tree_of(enum gm_package_kind k)
{
	return k == GM_PACKAGE_VALIDATOR ? 1 : 0;
}

static gm_err check_entries(const char *ggen, const struct gm_lockfile *l,
			    struct problems *p)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct gm_lock_entry *en = &l->entries[i];
		char path[PATH_MAX], id[ID_MAX], want[GM_CID_MAX_STR];
		char got[GM_CID_MAX_STR];
		struct gm_unixfs_result ur;
		struct gm_diag d2;
		struct stat st;
		gm_err e;

		snprintf(id, sizeof(id), "%s/%s", en->ns, en->name);
		if ((e = pathf(path, NULL, "%s/%s/%s/%s", ggen,
			       tree_names[tree_of(en->kind)], en->ns,
			       en->name)))
			return e;
		gm_cid_format(&en->root, want, sizeof(want));
		if (lstat(path, &st) != 0) {
			problem(p, GM_INSTALL_MISSING, id,
				"%s is in ggen.lock but '%s' is missing; run "
				"`ggen market install` to restore it",
				id, path);
			continue;
		}
		gm_diag_clear(&d2);
		e = gm_unixfs_import_path(path, NULL, NULL, &ur, &d2);
		if (e == GM_ENOMEM)
			return e;
		if (e) {
			problem(p, GM_INSTALL_MODIFIED, id,
				"%s in '%s' cannot be checked (%s: %s); run "
				"`ggen market install` to restore it",
				id, path, gm_errname(e), d2.msg);
			continue;
		}
		if (!gm_cid_equal(&ur.root, &en->root)) {
			gm_cid_format(&ur.root, got, sizeof(got));
			problem(p, GM_INSTALL_MODIFIED, id,
				"%s was modified: its folder is %s but "
				"ggen.lock says %s; run `ggen market install` "
				"to restore it",
				id, got, want);
		}
	}
	return GM_OK;
}

static bool locked_as(const struct gm_lockfile *l, const char *ns,
		      const char *name, int tree)
{
	const struct gm_lock_entry *e;

	if (strlen(ns) > GM_PACKAGE_NAME_MAX ||
	    strlen(name) > GM_PACKAGE_NAME_MAX)
		return false;
	e = gm_lockfile_find(l, ns, name);
	return e && tree_of(e->kind) == tree;
}

static gm_err check_extras(const char *ggen, const struct gm_lockfile *l,
			   struct problems *p)
{
	int t;

	for (t = 0; t < 2; t++) {
		char tp[PATH_MAX];
		struct dirent *a;
		DIR *top;
		gm_err e;

		if ((e = pathf(tp, NULL, "%s/%s", ggen, tree_names[t])))
			return e;
		top = opendir(tp);
		if (!top)
			continue;
		while ((a = readdir(top)) != NULL) {
			char np[PATH_MAX], id[PATH_MAX];
			struct dirent *b;
			DIR *nsd;

			if (!strcmp(a->d_name, ".") || !strcmp(a->d_name, ".."))
				continue;
			if (pathf(np, NULL, "%s/%s", tp, a->d_name))
				continue;
			nsd = opendir(np);
			if (!nsd) {
				problem(p, GM_INSTALL_EXTRA, a->d_name,
					"'%s' is not from ggen.lock; remove "
					"it",
					np);
				continue;
			}
			while ((b = readdir(nsd)) != NULL) {
				if (!strcmp(b->d_name, ".") ||
				    !strcmp(b->d_name, ".."))
					continue;
				if (locked_as(l, a->d_name, b->d_name, t))
					continue;
				snprintf(id, sizeof(id), "%s/%s", a->d_name,
					 b->d_name);
				problem(p, GM_INSTALL_EXTRA, id,
					"'%s/%s' is not in ggen.lock; remove "
					"it or run `ggen market install`",
					np, b->d_name);
			}
			closedir(nsd);
		}
		closedir(top);
	}
	return GM_OK;
}

gm_err gm_install_verify(const char *project, gm_install_problem_fn fn,
			 void *ctx, size_t *n_problems, struct gm_diag *d)
{
	char ggen[PATH_MAX], lockp[PATH_MAX];
	struct problems p;
	struct gm_lockfile l;
	gm_err e;

	if (n_problems)
		*n_problems = 0;
	if (!project)
		return gm_diag_set(d, GM_EINVAL, "no project folder");
	if ((e = gm_install_recover(project, d)))
		return e;
	if ((e = pathf(ggen, d, "%s/%s", project, GM_INSTALL_DIR)) ||
	    (e = pathf(lockp, d, "%s/%s", project, GM_LOCKFILE_NAME)))
		return e;
	gm_lockfile_init(&l);
	e = gm_lockfile_load(&l, lockp, d);
	if (e == GM_ENOENT) {
		e = gm_diag_set(d, GM_ENOENT,
				"no ggen.lock in '%s': nothing is installed "
				"(run `ggen market install`)",
				project);
		goto out;
	}
	if (e)
		goto out;
	memset(&p, 0, sizeof(p));
	p.fn = fn;
	p.ctx = ctx;
	e = check_entries(ggen, &l, &p);
	if (!e)
		e = check_extras(ggen, &l, &p);
	if (!e && n_problems)
		*n_problems = p.n;
	if (!e && p.n)
		e = gm_diag_set(d, GM_EINTEGRITY, "%zu problem%s: %s", p.n,
				p.n == 1 ? "" : "s", p.first.msg);
out:
	gm_lockfile_release(&l);
	return e;
}

/* ---- package ids ---- */

static gm_err split_id(const char *id, char ns[GM_PACKAGE_NAME_MAX + 1],
		       char name[GM_PACKAGE_NAME_MAX + 1], struct gm_diag *d)
{
	return gm_package_id_parse(id, strlen(id), ns, name, d);
}

/* ---- checking one chosen release and making its lock entry ---- */

static bool same_deps(const struct gm_rec_release *rel,
		      const struct gm_release_row *row)
{
	size_t i, j;

	if (rel->ndeps != row->n_deps)
		return false;
	for (i = 0; i < rel->ndeps; i++) {
		bool found = false;

		for (j = 0; !found && j < row->n_deps; j++) {
			char id[ID_MAX];

			snprintf(id, sizeof(id), "%s/%s", row->deps[j].ns,
				 row->deps[j].name);
			found =
			    !strcmp(id, rel->deps[i].id) &&
			    !strcmp(row->deps[j].req ? row->deps[j].req : "*",
				    rel->deps[i].req);
		}
		if (!found)
			return false;
	}
	return true;
}

static gm_err check_pick(struct gm_registry *reg, const char *ns,
			 const char *name, const char *version, unsigned flags,
			 struct gm_lockfile *nl, struct gm_diag *d)
{
	const struct gm_release_row *row;
	struct gm_release_list l;
	struct gm_record r;
	struct gm_lock_entry en;
	struct gm_cid root, rec_cid, row_cid;
	char id[ID_MAX], **deps = NULL;
	size_t i;
	gm_err e;

	snprintf(id, sizeof(id), "%s/%s", ns, name);
	gm_record_init(&r, GM_RECORD_NONE);
	e = gm_registry_find_release(reg, ns, name, version, &l, d);
	if (e) {
		e = prefix(d, e, "%s@%s", id, version);
		goto out_list;
	}
	row = gm__release_usable_row(&l);
	if (!row) {
		e = gm_diag_set(d, GM_ENOENT, "%s@%s is not in the registry",
				id, version);
		goto out_list;
	}
	if (row->equivocation) {
		e = gm_diag_set(d, GM_EINTEGRITY,
				"%s@%s has two different signed releases "
				"(equivocation); see `ggen market info %s`",
				id, version, id);
		goto out_list;
	}
	if (!row->record || !row->record_len) {
		e = gm_diag_set(d, GM_ESIGNATURE,
				"%s@%s has no signed release record in the "
				"registry; import it again from a bundle",
				id, version);
		goto out_list;
	}
	e = gm_ingest_check_release(reg, row->record, row->record_len, flags,
				    &r, d);
	if (e) {
		e = prefix(d, e, "refusing %s@%s", id, version);
		goto out_list;
	}
	e = gm_record_cid(row->record, row->record_len, &rec_cid);
	if (e)
		goto out_record;
	if (r.type != GM_RECORD_RELEASE || !row->root_cid ||
	    gm_cid_parse(&root, row->root_cid, strlen(row->root_cid), NULL) ||
	    !gm_cid_equal(&root, &r.release.root) ||
	    strcmp(r.release.package, id) ||
	    strcmp(r.release.version, row->version) ||
	    !same_deps(&r.release, row) ||
	    (row->record_cid && (gm_cid_parse(&row_cid, row->record_cid,
					      strlen(row->record_cid), NULL) ||
				 !gm_cid_equal(&row_cid, &rec_cid)))) {
		e = gm_diag_set(d, GM_EINTEGRITY,
				"the registry row of %s@%s disagrees with its "
				"signed release record (root, version, "
				"dependencies or record CID); the registry is "
				"damaged: run `ggen market verify` and import "
				"the release again",
				id, version);
		goto out_record;
	}
	if (row->content_state != GM_CONTENT_COMPLETE) {
		e = gm_diag_set(d, GM_ENOENT,
				"content of %s@%s is not in the local store; "
				"import a bundle (ggen market bundle import) "
				"or run a node",
				id, version);
		goto out_record;
	}
	memset(&en, 0, sizeof(en));
	snprintf(en.ns, sizeof(en.ns), "%s", ns);
	snprintf(en.name, sizeof(en.name), "%s", name);
	en.version = row->semver;
	en.kind = r.release.kind;
	en.root = r.release.root;
	gm_key_fingerprint(r.release.key, en.publisher);
	en.release = rec_cid;
	if (r.release.ndeps) {
		deps = gm_calloc(r.release.ndeps, sizeof(*deps));
		if (!deps) {
			e = GM_ENOMEM;
			goto out_record;
		}
		for (i = 0; i < r.release.ndeps; i++)
			deps[i] = (char *)r.release.deps[i].id;
	}
	en.deps = deps;
	en.n_deps = r.release.ndeps;
	e = gm_lockfile_add(nl, &en);
	gm_free(deps);
out_record:
	gm_record_release(&r);
out_list:
	gm_release_list_free(&l);
	return e;
}

/* ---- describing changes ---- */

/* Appends "acme/b 1.0.0 -> 1.2.0, acme/c (new) 1.0.0, ..." to out. */
static gm_err describe_moves(const struct gm_lockfile *ol,
			     const struct gm_resolve_result *rr,
			     struct gm_buf *out)
{
	char v[GM_SEMVER_MAX_LEN + 1], w[GM_SEMVER_MAX_LEN + 1];
	gm_err e = GM_OK;
	size_t i, j;

	for (i = 0; !e && i < rr->n; i++) {
		char ns[GM_PACKAGE_NAME_MAX + 1], name[GM_PACKAGE_NAME_MAX + 1];
		const struct gm_lock_entry *en;

		if (split_id(rr->picks[i].id, ns, name, NULL))
			continue;
		en = gm_lockfile_find(ol, ns, name);
		gm_semver_format(&rr->picks[i].version, v, sizeof(v));
		if (en && !gm_semver_cmp(&en->version, &rr->picks[i].version))
			continue;
		if (out->len)
			e = gm_buf_append_str(out, ", ");
		if (e)
			break;
		if (en) {
			gm_semver_format(&en->version, w, sizeof(w));
			e = gm_buf_printf(out, "%s %s -> %s", rr->picks[i].id,
					  w, v);
		} else {
			e = gm_buf_printf(out, "add %s %s", rr->picks[i].id, v);
		}
	}
	for (j = 0; !e && j < ol->n; j++) {
		char id[ID_MAX];
		bool kept = false;

		snprintf(id, sizeof(id), "%s/%s", ol->entries[j].ns,
			 ol->entries[j].name);
		for (i = 0; !kept && i < rr->n; i++)
			kept = !strcmp(rr->picks[i].id, id);
		if (kept)
			continue;
		gm_semver_format(&ol->entries[j].version, w, sizeof(w));
		e = gm_buf_printf(out, "%sremove %s %s", out->len ? ", " : "",
				  id, w);
	}
	return e;
}

static bool entry_same(const struct gm_lock_entry *a,
		       const struct gm_lock_entry *b)
{
	return gm_semver_equal(&a->version, &b->version) &&
	       gm_cid_equal(&a->root, &b->root) &&
	       gm_cid_equal(&a->release, &b->release) && a->kind == b->kind;
}

static void count_changes(const struct gm_install_opts *o,
			  const struct gm_lockfile *ol,
			  const struct gm_lockfile *nl,
			  struct gm_install_result *res)
{
	char v[GM_SEMVER_MAX_LEN + 1], w[GM_SEMVER_MAX_LEN + 1];
	size_t i;

	memset(res, 0, sizeof(*res));
	for (i = 0; i < nl->n; i++) {
		const struct gm_lock_entry *n = &nl->entries[i];
		const struct gm_lock_entry *p =
		    gm_lockfile_find(ol, n->ns, n->name);

		gm_semver_format(&n->version, v, sizeof(v));
		if (!p) {
			res->added++;
			gm__note(o->note, o->note_ctx, "added %s/%s %s", n->ns, n->name, v);
		} else if (!entry_same(p, n)) {
			res->updated++;
			gm_semver_format(&p->version, w, sizeof(w));
			gm__note(o->note, o->note_ctx, "updated %s/%s %s -> %s", n->ns, n->name, w, v);
		} else {
			res->unchanged++;
		}
	}
	for (i = 0; i < ol->n; i++) {
		const struct gm_lock_entry *p = &ol->entries[i];

		if (gm_lockfile_find(nl, p->ns, p->name))
			continue;
		res->removed++;
		gm_semver_format(&p->version, w, sizeof(w));
		gm__note(o->note, o->note_ctx, "removed %s/%s %s", p->ns, p->name, w);
	}
}

/* ---- materializing into staging ---- */

static int fsync_one(const char *path, const struct stat *st, int flag,
		     struct FTW *ftw)
{
	int fd, rc = 0;

	(void)st;
	(void)ftw;
	if (flag != FTW_F && flag != FTW_D && flag != FTW_DP)
		return 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno ? errno : EIO;
	if (fsync(fd) != 0)
		rc = errno ? errno : EIO;
	close(fd);
	return rc;
}

static gm_err fsync_tree(const char *path, struct gm_diag *d)
{
	int rc = nftw(path, fsync_one, 16, FTW_PHYS | FTW_DEPTH);

	if (rc == 0)
		return GM_OK;
	if (rc < 0)
		rc = errno;
	return gm_diag_set(d, gm_err_from_errno(rc), "cannot sync '%s': %s",
			   path, strerror(rc));
}

/*
 * Replaces each single-block file under the exported folder dir (DAG node
 * cid) by a hard link to its block file in the store, where link() works.
 */
static gm_err hardlink_dir(struct gm_store *store, const struct gm_cid *cid,
			   const char *dir, int depth, struct gm_diag *d)
{
	struct gm_dagpb_node n;
	struct gm_buf b;
	size_t i;
	gm_err e;

	if (depth > HARDLINK_DEPTH || cid->codec != GM_CODEC_DAG_PB)
		return GM_OK;
	gm_buf_init(&b, GM_BLOCK_MAX);
	gm_dagpb_node_init(&n);
	e = gm_store_get(store, cid, &b, d);
	if (!e)
		e = gm_dagpb_decode(&n, b.data, b.len, d);
	for (i = 0; !e && i < n.n_links; i++) {
		const struct gm_dagpb_link *lk = &n.links[i];
		char child[PATH_MAX], tmp[PATH_MAX], *blk;
		struct stat st;

		if (!lk->has_name || !lk->name_len || lk->name_len > 255)
			continue;
		if ((e = pathf(child, d, "%s/%.*s", dir, (int)lk->name_len,
			       (const char *)lk->name)))
			break;
		if (lstat(child, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			e = hardlink_dir(store, &lk->cid, child, depth + 1, d);
			continue;
		}
		if (lk->cid.codec != GM_CODEC_RAW || !S_ISREG(st.st_mode))
			continue;
		if ((e = pathf(tmp, d, "%s/.gm-link-%ld", dir, (long)getpid())))
			break;
		blk = gm_store_block_path(store, &lk->cid);
		if (!blk) {
			e = GM_ENOMEM;
			break;
		}
		unlink(tmp);
		if (link(blk, tmp) == 0 && rename(tmp, child) != 0) {
			e = gm_diag_set(d, gm_err_from_errno(errno),
					"cannot rename '%s': %s", tmp,
					strerror(errno));
			unlink(tmp);
		}
		gm_free(blk);
	}
	gm_dagpb_node_release(&n);
	gm_buf_release(&b);
	return e;
}

static gm_err export_entry(struct gm_store *store, const char *staging,
			   const struct gm_lock_entry *en, bool hardlink,
			   struct gm_diag *d)
{
	char nsdir[PATH_MAX], out[PATH_MAX], v[GM_SEMVER_MAX_LEN + 1];
	struct gm_block_source src;
	struct stat st;
	gm_err e;

	gm_semver_format(&en->version, v, sizeof(v));
	if ((e = pathf(nsdir, d, "%s/%s/%s", staging,
		       tree_names[tree_of(en->kind)], en->ns)) ||
	    (e = pathf(out, d, "%s/%s", nsdir, en->name)))
		return e;
	if ((e = gm_fs_mkdir_p(nsdir, 0755, d)))
		return e;
	gm_store_source(store, &src);
	e = gm_unixfs_export(&src, &en->root, out, NULL, d);
	if (e == GM_ENOENT)
		return gm_diag_set(d, GM_ENOENT,
				   "content of %s/%s@%s is not in the local "
				   "store; import a bundle (ggen market bundle "
				   "import) or run a node",
				   en->ns, en->name, v);
	if (e)
		return prefix(d, e, "installing %s/%s@%s", en->ns, en->name, v);
	if (lstat(out, &st) != 0 || !S_ISDIR(st.st_mode))
		return gm_diag_set(d, GM_EUNSAFE,
				   "the content of %s/%s@%s is not a folder; "
				   "refusing to install it",
				   en->ns, en->name, v);
	if (hardlink)
		return hardlink_dir(store, &en->root, out, 0, d);
	return GM_OK;
}

/* Builds the staging folder and switches the project over (steps 1-5). */
static gm_err commit(struct gm_store *store, const struct gm_install_opts *o,
		     const char *ggen, const struct gm_lockfile *nl,
		     const struct gm_buf *text, struct gm_diag *d)
{
	char staging[PATH_MAX], p[PATH_MAX];
	struct gm_buf tb;
	struct txn t;
	bool journal = false;
	size_t i;
	gm_err e;
	int k;

	memset(&t, 0, sizeof(t));
	snprintf(t.staging, sizeof(t.staging), ".staging-%ld", (long)getpid());
	snprintf(t.old, sizeof(t.old), ".old-%ld", (long)getpid());
	gm_buf_init(&tb, TXN_MAX);
	if ((e = pathf(staging, d, "%s/%s", ggen, t.staging)))
		goto out;
	if ((e = gm_fs_remove_tree(staging, d)))
		goto out;
	if (mkdir(staging, 0755) != 0) {
		e = gm_diag_set(d, gm_err_from_errno(errno),
				"cannot create '%s': %s", staging,
				strerror(errno));
		goto out;
	}
	for (i = 0; i < nl->n; i++) {
		e = export_entry(store, staging, &nl->entries[i], o->hardlink,
				 d);
		if (e)
			goto out_staging;
		t.now[tree_of(nl->entries[i].kind)] = true;
	}
	if ((e = fsync_tree(staging, d)))
		goto out_staging;
	for (k = 0; k < 2; k++) {
		if ((e = pathf(p, d, "%s/%s", ggen, tree_names[k])))
			goto out_staging;
		t.had[k] = exists(p);
	}
	gm_sha256(text->data, text->len, t.lock_sha);

	/* 1. the journal */
	if ((e = txn_format(&t, &tb)) ||
	    (e = pathf(p, d, "%s/%s", ggen, TXN_NAME)))
		goto out_staging;
	e = gm_fs_write_atomic(p, tb.data, tb.len, 0644, d);
	if (e && exists(p)) {
		/* renamed in, only the folder sync failed: roll back by it */
		journal = true;
		goto out_undo;
	}
	if (e)
		goto out_staging;
	journal = true;
	if (crash_point(1))
		goto crashed;
	/* 2. the new lock beside the staged trees */
	if ((e = pathf(p, d, "%s/%s", staging, GM_LOCKFILE_NAME)) ||
	    (e = gm_fs_write_atomic(p, text->data, text->len, 0644, d)))
		goto out_undo;
	if (crash_point(2))
		goto crashed;
	/* 3. the switch */
	for (k = 0; k < 2; k++) {
		e = switch_tree(ggen, &t, k, true, d);
		if (e && crash_point(3))
			goto crashed;
		if (e)
			goto out_undo;
	}
	if ((e = sync_dirs(ggen, &t, d)))
		goto out_undo;
	if (crash_point(4))
		goto crashed;
	/* 4. the commit point */
	if ((e = pathf(p, d, "%s/%s", o->project, GM_LOCKFILE_NAME)))
		goto out_undo;
	e = gm_fs_write_atomic(p, text->data, text->len, 0644, d);
	if (e && file_is(p, text)) {
		/* renamed in, only the folder sync failed: it is committed,
		 * and saying "failed" would be wrong */
		gm__note(o->note, o->note_ctx,
		     "installed, but %s; a power cut before the next sync "
		     "could bring back the old %s",
		     d->msg, GM_LOCKFILE_NAME);
		gm_diag_clear(d);
		e = GM_OK;
	}
	if (e)
		goto out_undo;
	if (crash_point(5))
		goto crashed;
	/* 5. clean up; committed already, so a failure here only leaves
	 * leftovers that the next install or verify removes */
	e = finish(ggen, &t, true, d);
	if (e && crash_point(6))
		goto crashed;
	if (e)
		gm__note(o->note, o->note_ctx,
		     "installed, but the clean-up of '%s' failed (%s); the "
		     "next install finishes it",
		     ggen, gm_errname(e));
	e = GM_OK;
	goto out;

crashed:
	gm_buf_release(&tb);
	return gm_diag_set(d, GM_EIO, "simulated crash at point %d",
			   gm__install_crash_after);
out_undo : {
	struct gm_diag d2;
	bool did;

	/* finishes if the lock made it to disk, else rolls back */
	recover_locked(o->project, ggen, &did, &d2);
}
	goto out;
out_staging:
	if (!journal)
		gm_fs_remove_tree(staging, NULL);
out:
	gm_buf_release(&tb);
	return e;
}

/* ---- the install ---- */

struct plan {
	struct gm_resolve_req *reqs;
	char (*ids)[ID_MAX];
	size_t n;
	bool *pinned;
};

static void plan_release(struct plan *p)
{
	gm_free(p->reqs);
	gm_free(p->ids);
	gm_free(p->pinned);
	memset(p, 0, sizeof(*p));
}

static gm_err list_required(const struct gm_lockfile *l, struct gm_buf *out)
{
	gm_err e = GM_OK;
	size_t i;

	for (i = 0; !e && i < l->n_reqs; i++)
		e = gm_buf_printf(out, "%s%s/%s", i ? ", " : "", l->reqs[i].ns,
				  l->reqs[i].name);
	if (!e && !l->n_reqs)
		e = gm_buf_append_str(out, "nothing");
	return e;
}

/* New [requires] in nl from the old lock, add and remove. */
static gm_err edit_requires(struct gm_registry *reg,
			    const struct gm_install_opts *o,
			    const struct gm_lockfile *ol,
			    struct gm_lockfile *nl, struct gm_diag *d)
{
	char ns[GM_PACKAGE_NAME_MAX + 1], name[GM_PACKAGE_NAME_MAX + 1];
	size_t i;
	gm_err e;

	for (i = 0; i < ol->n_reqs; i++)
		if ((e = gm_lockfile_set_req(nl, ol->reqs[i].ns,
					     ol->reqs[i].name,
					     ol->reqs[i].req)))
			return e;
	for (i = 0; i < o->n_remove; i++) {
		if ((e = split_id(o->remove[i], ns, name, d)))
			return e;
		e = gm_lockfile_set_req(nl, ns, name, NULL);
		if (e == GM_ENOENT) {
			struct gm_buf b;

			gm_buf_init(&b, GM_DIAG_MAX);
			e = list_required(ol, &b);
			if (!e || e == GM_ELIMIT)
				e = gm_diag_set(
				    d, GM_ENOENT,
				    "%s is not in [requires] of ggen.lock; "
				    "required: %.*s",
				    o->remove[i], (int)b.len,
				    b.data ? (const char *)b.data : "");
			gm_buf_release(&b);
			return e;
		}
		if (e)
			return e;
	}
	for (i = 0; i < o->n_add; i++) {
		const char *req = o->add[i].req ? o->add[i].req : "*";
		struct gm_semver_req sr;
		struct gm_release_list l;
		size_t n;

		if ((e = split_id(o->add[i].id, ns, name, d)))
			return e;
		if ((e = gm_semver_req_parse(&sr, req, strlen(req), d)))
			return prefix(d, e, "requirement of %s", o->add[i].id);
		if ((e = gm_registry_find_releases(reg, ns, name, &l, d)))
			return e;
		n = l.n;
		gm_release_list_free(&l);
		if (!n)
			return gm_diag_set(d, GM_ENOENT,
					   "%s is not in the local registry; "
					   "look for it with `ggen market "
					   "search` or import a bundle",
					   o->add[i].id);
		if ((e = gm_lockfile_set_req(nl, ns, name, req)))
			return e;
	}
	return GM_OK;
}

static gm_err make_plan(const struct gm_install_opts *o,
			const struct gm_lockfile *ol,
			const struct gm_lockfile *nl, struct plan *p,
			struct gm_diag *d)
{
	char ns[GM_PACKAGE_NAME_MAX + 1], name[GM_PACKAGE_NAME_MAX + 1];
	size_t i;
	gm_err e;

	memset(p, 0, sizeof(*p));
	if (nl->n_reqs) {
		p->reqs = gm_calloc(nl->n_reqs, sizeof(*p->reqs));
		p->ids = gm_calloc(nl->n_reqs, sizeof(*p->ids));
		if (!p->reqs || !p->ids)
			return GM_ENOMEM;
	}
	for (i = 0; i < nl->n_reqs; i++) {
		snprintf(p->ids[i], ID_MAX, "%s/%s", nl->reqs[i].ns,
			 nl->reqs[i].name);
		p->reqs[i].id = p->ids[i];
		p->reqs[i].req = nl->reqs[i].req;
	}
	p->n = nl->n_reqs;
	if (ol->n) {
		p->pinned = gm_calloc(ol->n, sizeof(*p->pinned));
		if (!p->pinned)
			return GM_ENOMEM;
	}
	for (i = 0; i < ol->n; i++)
		p->pinned[i] = !o->update_all;
	for (i = 0; i < o->n_update; i++) {
		const struct gm_lock_entry *en;

		if ((e = split_id(o->update[i], ns, name, d)))
			return e;
		en = gm_lockfile_find(ol, ns, name);
		if (!en)
			return gm_diag_set(d, GM_ENOENT,
					   "%s is not installed (not in "
					   "ggen.lock); add it instead",
					   o->update[i]);
		p->pinned[en - ol->entries] = false;
	}
	return GM_OK;
}

static bool any_pinned(const struct plan *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p->pinned[i])
			return true;
	return false;
}

static gm_err resolve(struct gm_registry *reg, const struct gm_install_opts *o,
		      const struct gm_lockfile *ol, const struct plan *p,
		      struct gm_resolve_result *rr, struct gm_diag *d)
{
	struct gm_registry_view x = {reg, NULL, NULL};
	struct gm_resolve_index idx;
	struct gm_resolve_result free_rr;
	struct gm_buf moved;
	gm_err e;

	gm_registry_resolve_index(&x, &idx);
	if (ol->n && any_pinned(p, ol->n)) {
		x.pins = ol;
		x.pinned = p->pinned;
		e = gm_resolve(&idx, p->reqs, p->n, NULL, rr, d);
		if (e != GM_ECONFLICT)
			return e;
		x.pins = NULL;
		x.pinned = NULL;
		gm_resolve_result_init(&free_rr);
		e = gm_resolve(&idx, p->reqs, p->n, NULL, &free_rr, d);
		if (e) {
			gm_resolve_result_release(&free_rr);
			return e;
		}
		gm_buf_init(&moved, GM_DIAG_MAX * 4);
		e = describe_moves(ol, &free_rr, &moved);
		if (e == GM_ELIMIT)
			e = GM_OK;
		if (!e && o->locked)
			e = gm_diag_set(d, GM_ECONFLICT,
					"--locked: ggen.lock no longer fits "
					"[requires]; installing would change: "
					"%.*s; run install without --locked to "
					"update ggen.lock",
					(int)moved.len,
					moved.data ? (const char *)moved.data
						   : "");
		else if (!e)
			gm__note(o->note, o->note_ctx,
			     "the locked versions do not fit [requires]; "
			     "moving: %.*s",
			     (int)moved.len,
			     moved.data ? (const char *)moved.data : "");
		gm_buf_release(&moved);
		if (!e) {
			gm_resolve_result_release(rr);
			*rr = free_rr;
		} else {
			gm_resolve_result_release(&free_rr);
		}
		return e;
	}
	return gm_resolve(&idx, p->reqs, p->n, NULL, rr, d);
}

static gm_err check_kinds(const struct gm_install_opts *o,
			  const struct gm_lockfile *nl, struct gm_diag *d)
{
	char ns[GM_PACKAGE_NAME_MAX + 1], name[GM_PACKAGE_NAME_MAX + 1];
	size_t i;

	if (o->only_kind == GM_PACKAGE_NONE)
		return GM_OK;
	for (i = 0; i < o->n_add; i++) {
		const struct gm_lock_entry *en;

		if (split_id(o->add[i].id, ns, name, NULL))
			continue;
		en = gm_lockfile_find(nl, ns, name);
		if (en && en->kind != o->only_kind)
			return gm_diag_set(
			    d, GM_EUSAGE, "%s is a %s package; %s",
			    o->add[i].id, gm_package_kind_name(en->kind),
			    o->only_kind == GM_PACKAGE_VALIDATOR
				? "`clnrm validator install` installs "
				  "validators only (use `ggen market "
				  "install`)"
				: "use `clnrm validator install` for "
				  "validators");
	}
	return GM_OK;
}

gm_err gm_install(struct gm_registry *reg, struct gm_store *store,
		  const struct gm_install_opts *o,
		  struct gm_install_result *res, struct gm_diag *d)
{
	char ggen[PATH_MAX], lockp[PATH_MAX];
	struct gm_lockfile ol, nl;
	struct gm_buf oldtext, newtext;
	struct gm_resolve_result rr;
	struct gm_install_result counts;
	struct plan plan;
	bool made_ggen = false, had_lock, did;
	size_t i;
	int fd = -1;
	gm_err e;

	if (res)
		memset(res, 0, sizeof(*res));
	if (!reg || !store || !o || !o->project)
		return gm_diag_set(d, GM_EINVAL,
				   "install needs a registry, a store and a "
				   "project folder");
	gm_lockfile_init(&ol);
	gm_lockfile_init(&nl);
	gm_buf_init(&oldtext, GM_LOCKFILE_MAX_SIZE);
	gm_buf_init(&newtext, GM_LOCKFILE_MAX_SIZE);
	gm_resolve_result_init(&rr);
	memset(&plan, 0, sizeof(plan));
	if ((e = pathf(ggen, d, "%s/%s", o->project, GM_INSTALL_DIR)) ||
	    (e = pathf(lockp, d, "%s/%s", o->project, GM_LOCKFILE_NAME)))
		goto out;
	if ((e = lock_project(ggen, true, &fd, &made_ggen, d)))
		goto out;
	if ((e = recover_locked(o->project, ggen, &did, d)))
		goto out;
	if (did)
		gm__note(o->note, o->note_ctx, "finished an interrupted install");

	/* the old lock and the new [requires] */
	e = gm_fs_read_file(lockp, &oldtext, d);
	had_lock = !e;
	if (e == GM_ENOENT)
		e = GM_OK;
	if (!e && had_lock)
		e = gm_lockfile_parse(
		    &ol, oldtext.data ? (const char *)oldtext.data : "",
		    oldtext.len, d);
	if (e) {
		e = prefix(d, e, "%s", lockp);
		goto out;
	}
	if (o->locked && !had_lock) {
		e = gm_diag_set(d, GM_ENOENT,
				"--locked: there is no ggen.lock in '%s'; run "
				"install without --locked to create it",
				o->project);
		goto out;
	}
	if ((e = edit_requires(reg, o, &ol, &nl, d)))
		goto out;

	/* resolve, then check every chosen release */
	if ((e = make_plan(o, &ol, &nl, &plan, d)))
		goto out;
	if ((e = resolve(reg, o, &ol, &plan, &rr, d)))
		goto out;
	for (i = 0; i < rr.n; i++) {
		char ns[GM_PACKAGE_NAME_MAX + 1], name[GM_PACKAGE_NAME_MAX + 1];
		char v[GM_SEMVER_MAX_LEN + 1];

		if ((e = split_id(rr.picks[i].id, ns, name, d)))
			goto out;
		gm_semver_format(&rr.picks[i].version, v, sizeof(v));
		if ((e = check_pick(reg, ns, name, v, o->trust_flags, &nl, d)))
			goto out;
	}
	if ((e = check_kinds(o, &nl, d)))
		goto out;
	/*
	 * A package added without a requirement is recorded as compatible
	 * with the version chosen ("^1.2.0"), as cargo add and npm do, so a
	 * later update never crosses a breaking change unasked.
	 */
	for (i = 0; i < o->n_add; i++) {
		char ns[GM_PACKAGE_NAME_MAX + 1], name[GM_PACKAGE_NAME_MAX + 1];
		const struct gm_lock_entry *en;
		char req[GM_SEMVER_MAX_LEN + 2];

		if (o->add[i].req || split_id(o->add[i].id, ns, name, NULL))
			continue;
		en = gm_lockfile_find(&nl, ns, name);
		if (!en)
			continue;
		req[0] = '^';
		gm_semver_format(&en->version, req + 1, sizeof(req) - 1);
		if ((e = gm_lockfile_set_req(&nl, ns, name, req)))
			goto out;
	}
	if ((e = gm_lockfile_format(&nl, &newtext)))
		goto out;
	if (o->locked && (newtext.len != oldtext.len ||
			  memcmp(newtext.data, oldtext.data, newtext.len))) {
		struct gm_buf moved;

		gm_buf_init(&moved, GM_DIAG_MAX * 4);
		e = describe_moves(&ol, &rr, &moved);
		if (!e || e == GM_ELIMIT)
			e = gm_diag_set(
			    d, GM_ECONFLICT,
			    "--locked: installing would change ggen.lock "
			    "(%.*s); run install without --locked to "
			    "update it",
			    (int)moved.len,
			    moved.len ? (const char *)moved.data
				      : "[requires] or release records");
		gm_buf_release(&moved);
		goto out;
	}

	/* nothing to do when the lock stays and the tree matches it */
	if (newtext.len == oldtext.len &&
	    !memcmp(newtext.data, oldtext.data, newtext.len)) {
		struct problems p;

		memset(&p, 0, sizeof(p));
		e = check_entries(ggen, &nl, &p);
		if (!e)
			e = check_extras(ggen, &nl, &p);
		if (e)
			goto out;
		if (!p.n)
			goto done;
		gm__note(o->note, o->note_ctx, "repairing the installed packages (%s)", p.first.msg);
	}
	if ((e = commit(store, o, ggen, &nl, &newtext, d)))
		goto out;
done:
	count_changes(o, &ol, &nl, &counts);
	if (res)
		*res = counts;
out:
	unlock_project(fd);
	if (e && made_ggen)
		rmdir(ggen);
	plan_release(&plan);
	gm_resolve_result_release(&rr);
	gm_buf_release(&newtext);
	gm_buf_release(&oldtext);
	gm_lockfile_release(&nl);
	gm_lockfile_release(&ol);
	return e;
}
