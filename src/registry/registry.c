/*
 * registry.c - the SQLite registry: schema, migrations and rows (see
 * gm/registry.h).
 *
 * The database is opened in WAL mode, synchronous=FULL, foreign_keys=ON,
 * with a busy timeout. PRAGMA user_version holds the number of migrations
 * applied; migrations[] below is applied in order, each in its own
 * transaction together with the user_version bump. A database whose
 * user_version is above the last migration was written by a newer ggen and
 * is refused.
 *
 * Schema (migration 1):
 *
 *   table        | columns
 *   -------------+-----------------------------------------------------------
 *   publishers   | key BLOB PK (32-byte Ed25519), fingerprint TEXT UNIQUE,
 *                | handle TEXT, seq INTEGER, record BLOB NULL (newest
 *                | publisher record), trust INTEGER (0 untrusted, 1
 *                | marginal, 2 full, 3 ultimate), revoked_after INTEGER NULL,
 *                | successor BLOB NULL, first_seen INTEGER, pinned INTEGER
 *   releases     | id INTEGER PK, ns, name, version TEXT, v_major, v_minor,
 *                | v_patch INTEGER, v_pre TEXT ('' for a release), kind,
 *                | description, license, keywords (space separated),
 *                | categories (space separated), authors (newline
 *                | separated), homepage, repository, root_cid TEXT,
 *                | manifest_digest BLOB, size INTEGER, publisher BLOB
 *                | (-> publishers.key), seq INTEGER, record_cid TEXT UNIQUE,
 *                | record BLOB, published_at INTEGER, content_state INTEGER
 *                | (0 absent, 1 partial, 2 complete), equivocation INTEGER,
 *                | latest INTEGER (1 on the latest row of ns/name),
 *                | UNIQUE(ns, name, version, record_cid)
 *   release_deps | release_id (-> releases.id ON DELETE CASCADE), dep_ns,
 *                | dep_name, req TEXT, position INTEGER;
 *                | PK(release_id, position)
 *   categories   | name TEXT PK, description TEXT (seeded list)
 *   outbox       | record_cid TEXT PK, queued_at INTEGER
 *   latest_releases | view: id, name, ns, keywords, description of the
 *                | rows with latest = 1
 *   release_fts  | FTS5 (name, ns, keywords, description), external content
 *                | latest_releases, rowid = releases.id, unicode61 tokens,
 *                | prefix indexes for 2 and 3 characters
 *
 * Indexes: the UNIQUE ones above; releases(ns, name), releases(name, ns),
 * releases(length(name), first letter, name, ns) and releases(categories),
 * all partial on latest = 1 (listing, bare-name lookup, "did you mean"
 * candidates, category counts).
 *
 * The search index holds exactly the latest rows: when a new row becomes
 * the latest of its package, the old latest row's entry is deleted (with
 * the values it was indexed with, as external content requires) and the
 * new row's inserted, in the same transaction as the row. Each write call
 * runs in a SAVEPOINT, so it is atomic on its own and nests inside an
 * explicit gm_registry_begin() transaction.
 *
 * Result memory: rows handed out live in an arena, a chain of blocks
 * (struct arena_blk) freed at once by the owning object's free function.
 */
#include "internal.h"

#include <pthread.h>
#include <sqlite3.h>

#include "gm/manifest.h"
#include "gm/registry.h"
#include "registry_int.h"

#define BUSY_TIMEOUT_MS 5000
#define ARENA_BLOCK 16384

struct gm_registry {
	sqlite3 *db;
	int schema_version;
	bool bulk; /* a bulk load is in progress */
};

/* ---- arena ---------------------------------------------------------- */

struct arena_blk {
	struct arena_blk *next;
	size_t cap;
	size_t used;
	unsigned char data[];
};

void *gm__arena_alloc(void **mem, size_t n)
{
	struct arena_blk *b = *mem;
	void *p;

	if (n > SIZE_MAX - 8)
		return NULL;
	n = (n + 7) & ~(size_t)7;
	if (n == 0)
		n = 8;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		if (cap > SIZE_MAX - sizeof(*b))
			return NULL;
		b = gm_malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->cap = cap;
		b->used = 0;
		if (*mem && cap == ARENA_BLOCK) {
			b->next = *mem;
			*mem = b;
		} else if (*mem) {
			/* A big block goes second, the current one stays. */
			struct arena_blk *head = *mem;

			b->next = head->next;
			head->next = b;
		} else {
			b->next = NULL;
			*mem = b;
		}
	}
	p = b->data + b->used;
	b->used += n;
	return p;
}

char *gm__arena_strndup(void **mem, const char *s, size_t len)
{
	char *p;

	if (len == SIZE_MAX)
		return NULL;
	p = gm__arena_alloc(mem, len + 1);
	if (!p)
		return NULL;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void gm__arena_free(void **mem)
{
	struct arena_blk *b = *mem;

	while (b) {
		struct arena_blk *next = b->next;

		gm_free(b);
		b = next;
	}
	*mem = NULL;
}

void gm__note(void (*fn)(void *ctx, const char *msg), void *ctx,
	      const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fn(ctx, msg);
}

/* ---- errors and statements ------------------------------------------- */

/*
 * Why SQLite could not create a file. When creating its -wal or -journal
 * fails (ENOSPC on a full disk), the unix VFS retries the open read-only,
 * which fails with ENOENT, and reports SQLITE_CANTOPEN with that errno:
 * "unable to open database file". Its "open" system call is wrapped (the
 * VFS's own xSetSystemCall) to keep the errno of the creating open.
 */
static sqlite3_syscall_ptr real_open, real_pwrite, real_pwrite64;
static _Thread_local int create_errno, write_errno;

static int open_hook(const char *path, int flags, int mode)
{
	int fd = ((int (*)(const char *, int, int))real_open)(path, flags,
							      mode);

	if (fd < 0 && (flags & O_CREAT))
		create_errno = errno;
	return fd;
}

/*
 * Likewise SQLite turns a failed page write into SQLITE_FULL only for
 * ENOSPC; EDQUOT and EIO become "disk I/O error", and by the time it asks
 * for errno the rollback has changed it. These keep the write's errno.
 */
static ssize_t pwrite_hook(int fd, const void *buf, size_t n, off_t off)
{
	ssize_t w = ((ssize_t(*)(int, const void *, size_t,
				 off_t))real_pwrite)(fd, buf, n, off);

	if (w < 0)
		write_errno = errno;
	return w;
}

static ssize_t pwrite64_hook(int fd, const void *buf, size_t n, off_t off)
{
	ssize_t w = ((ssize_t(*)(int, const void *, size_t,
				 off_t))real_pwrite64)(fd, buf, n, off);

	if (w < 0)
		write_errno = errno;
	return w;
}

static pthread_once_t hook_once = PTHREAD_ONCE_INIT;

static void hook(sqlite3_vfs *vfs, const char *name, sqlite3_syscall_ptr *real,
		 sqlite3_syscall_ptr fn)
{
	*real = vfs->xGetSystemCall(vfs, name);
	if (*real && vfs->xSetSystemCall(vfs, name, fn) != SQLITE_OK)
		*real = NULL;
}

static void install_hooks(void)
{
	sqlite3_vfs *vfs = sqlite3_vfs_find("unix");

	if (!vfs || vfs->iVersion < 3 || !vfs->xGetSystemCall)
		return;
	hook(vfs, "open", &real_open, (sqlite3_syscall_ptr)open_hook);
	hook(vfs, "pwrite", &real_pwrite, (sqlite3_syscall_ptr)pwrite_hook);
	/* pwrite64 takes an off64_t: the same type only when off_t is 64-bit */
	if (sizeof(off_t) == 8)
		hook(vfs, "pwrite64", &real_pwrite64,
		     (sqlite3_syscall_ptr)pwrite64_hook);
}

/*
 * SQLite's message, and for an I/O failure the system's reason too: SQLite
 * says "unable to open database file" or "disk I/O error" when it could
 * not create its -wal or write a page on a full disk. The reason is added
 * only when it says more than SQLite (ENOENT from the read-only retry
 * does not). Returns buf or SQLite's text; *sys is the errno or 0.
 */
static const char *sqlite_msg(sqlite3 *db, int rc, char *buf, size_t size,
			      int *sys)
{
	const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);

	*sys = 0;
	if ((rc & 0xff) == SQLITE_CANTOPEN && create_errno)
		*sys = create_errno;
	else if ((rc & 0xff) == SQLITE_IOERR && write_errno &&
		 (rc == SQLITE_IOERR_WRITE || rc == SQLITE_IOERR))
		*sys = write_errno;
	else if (db && ((rc & 0xff) == SQLITE_IOERR ||
			(rc & 0xff) == SQLITE_CANTOPEN ||
			(rc & 0xff) == SQLITE_FULL))
		*sys = sqlite3_system_errno(db);
	if (*sys != ENOSPC && *sys != EDQUOT && *sys != EIO &&
	    *sys != EROFS && *sys != EACCES && *sys != EPERM) {
		*sys = 0;
		return msg;
	}
	snprintf(buf, size, "%s (%s)", msg, strerror(*sys));
	return buf;
}

gm_err gm__registry_sqlite_err(sqlite3 *db, int rc, struct gm_diag *d,
			       const char *what)
{
	gm_err e;
	char buf[GM_DIAG_MAX];
	int sys;
	const char *msg = sqlite_msg(db, rc, buf, sizeof(buf), &sys);

	create_errno = 0;
	write_errno = 0;
	switch (rc & 0xff) {
	case SQLITE_NOMEM:
		e = GM_ENOMEM;
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		e = GM_ETIMEOUT;
		break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		e = GM_ECORRUPT;
		break;
	case SQLITE_FULL:
		e = GM_ENOSPC;
		break;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		e = GM_EPERM;
		break;
	case SQLITE_CONSTRAINT:
		e = GM_ECONFLICT;
		break;
	case SQLITE_TOOBIG:
		e = GM_ELIMIT;
		break;
	default:
		e = GM_EIO;
		break;
	}
	if (sys == ENOSPC || sys == EDQUOT)
		e = GM_ENOSPC;
	if (e == GM_ETIMEOUT)
		return gm_diag_set(
		    d, e,
		    "registry %s: database is busy (%s); another "
		    "ggen may be writing, try again",
		    what, msg);
	return gm_diag_set(d, e, "registry %s: %s", what, msg);
}

struct sqlite3 *gm__registry_db(struct gm_registry *r)
{
	return r->db;
}

static gm_err prep(struct gm_registry *r, sqlite3_stmt **st, const char *sql,
		   struct gm_diag *d)
{
	int rc = sqlite3_prepare_v2(r->db, sql, -1, st, NULL);

	if (rc != SQLITE_OK) {
		*st = NULL;
		return gm__registry_sqlite_err(r->db, rc, d, "prepare");
	}
	return GM_OK;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void bind_text_nn(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_STATIC);
}

static void bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
	if (p)
		sqlite3_bind_blob64(st, i, p, n, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Steps st expecting SQLITE_DONE (returns GM_OK) or SQLITE_ROW (*row). */
static gm_err step(struct gm_registry *r, sqlite3_stmt *st, bool *row,
		   struct gm_diag *d, const char *what)
{
	int rc = sqlite3_step(st);

	if (row)
		*row = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return GM_OK;
	return gm__registry_sqlite_err(r->db, rc, d, what);
}

static gm_err exec(struct gm_registry *r, const char *sql, struct gm_diag *d,
		   const char *what)
{
	int rc = sqlite3_exec(r->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return gm__registry_sqlite_err(r->db, rc, d, what);
	return GM_OK;
}

/* Savepoints make each write call atomic, nested or not. */
static gm_err sp_begin(struct gm_registry *r, struct gm_diag *d)
{
	return exec(r, "SAVEPOINT gm_write", d, "savepoint");
}

static gm_err sp_end(struct gm_registry *r, gm_err e, struct gm_diag *d)
{
	if (e == GM_OK) {
		e = exec(r, "RELEASE gm_write", d, "commit");
		if (e == GM_OK)
			return GM_OK;
	}
	sqlite3_exec(r->db, "ROLLBACK TO gm_write; RELEASE gm_write", NULL,
		     NULL, NULL);
	return e;
}

/* ---- schema ------------------------------------------------------------ */

static const char *const migrations[] = {
    /* 1: the first schema. */
    "CREATE TABLE publishers ("
    " key BLOB PRIMARY KEY CHECK (length(key) = 32),"
    " fingerprint TEXT NOT NULL UNIQUE,"
    " handle TEXT,"
    " seq INTEGER NOT NULL DEFAULT 0,"
    " record BLOB,"
    " trust INTEGER NOT NULL DEFAULT 0 CHECK (trust BETWEEN 0 AND 3),"
    " revoked_after INTEGER,"
    " successor BLOB,"
    " first_seen INTEGER NOT NULL,"
    " pinned INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX publishers_handle ON publishers(handle);"
    "CREATE TABLE releases ("
    " id INTEGER PRIMARY KEY,"
    " ns TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL,"
    " v_major INTEGER NOT NULL, v_minor INTEGER NOT NULL,"
    " v_patch INTEGER NOT NULL, v_pre TEXT NOT NULL DEFAULT '',"
    " kind TEXT NOT NULL DEFAULT '',"
    " description TEXT NOT NULL DEFAULT '',"
    " license TEXT,"
    " keywords TEXT NOT NULL DEFAULT '',"
    " categories TEXT NOT NULL DEFAULT '',"
    " authors TEXT NOT NULL DEFAULT '',"
    " homepage TEXT, repository TEXT, root_cid TEXT,"
    " manifest_digest BLOB,"
    " size INTEGER NOT NULL DEFAULT 0,"
    " publisher BLOB REFERENCES publishers(key),"
    " seq INTEGER NOT NULL DEFAULT 0,"
    " record_cid TEXT UNIQUE,"
    " record BLOB,"
    " published_at INTEGER NOT NULL DEFAULT 0,"
    " content_state INTEGER NOT NULL DEFAULT 0"
    "  CHECK (content_state BETWEEN 0 AND 2),"
    " equivocation INTEGER NOT NULL DEFAULT 0,"
    " latest INTEGER NOT NULL DEFAULT 0,"
    " UNIQUE (ns, name, version, record_cid));"
    "CREATE INDEX releases_latest ON releases(ns, name) WHERE latest = 1;"
    "CREATE INDEX releases_name ON releases(name, ns) WHERE latest = 1;"
    "CREATE INDEX releases_suggest ON releases(length(name),"
    " lower(substr(name, 1, 1)), name, ns) WHERE latest = 1;"
    "CREATE INDEX releases_categories ON releases(categories)"
    " WHERE latest = 1 AND categories <> '';"
    "CREATE TABLE release_deps ("
    " release_id INTEGER NOT NULL"
    "  REFERENCES releases(id) ON DELETE CASCADE,"
    " dep_ns TEXT NOT NULL, dep_name TEXT NOT NULL, req TEXT NOT NULL,"
    " position INTEGER NOT NULL,"
    " PRIMARY KEY (release_id, position));"
    "CREATE TABLE categories (name TEXT PRIMARY KEY,"
    " description TEXT NOT NULL);"
    "INSERT INTO categories VALUES"
    " ('cli', 'Command-line tools and their scaffolding'),"
    " ('data', 'Data formats, pipelines and processing'),"
    " ('database', 'Databases, ORMs and migrations'),"
    " ('devops', 'Build, deployment, CI and infrastructure'),"
    " ('docs', 'Documentation generators and templates'),"
    " ('embedded', 'Embedded and constrained systems'),"
    " ('games', 'Games and game engines'),"
    " ('ml', 'Machine learning and AI'),"
    " ('mobile', 'Mobile applications'),"
    " ('networking', 'Network protocols and clients'),"
    " ('security', 'Security, cryptography and auditing'),"
    " ('testing', 'Testing tools and fixtures'),"
    " ('validator', 'Cleanroom validators (WASM plugins)'),"
    " ('web', 'Web servers, frameworks and front ends');"
    "CREATE TABLE outbox (record_cid TEXT PRIMARY KEY,"
    " queued_at INTEGER NOT NULL);"
    "CREATE VIEW latest_releases AS SELECT id, name, ns, keywords,"
    " description FROM releases WHERE latest = 1;"
    "CREATE VIRTUAL TABLE release_fts USING fts5(name, ns, keywords,"
    " description, content = 'latest_releases', content_rowid = 'id',"
    " tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');",
    /* 2: publisher, rotation and revocation records, replayed to rebuild
     * a handle's trust state (gm/trust.h). */
    "CREATE TABLE trust_records ("
    " cid TEXT PRIMARY KEY,"
    " handle TEXT NOT NULL,"
    " type INTEGER NOT NULL CHECK (type BETWEEN 1 AND 4),"
    " seq INTEGER NOT NULL,"
    " record BLOB NOT NULL,"
    " received_at INTEGER NOT NULL);"
    "CREATE INDEX trust_records_handle ON trust_records(handle, seq);",
};

_Static_assert(GM_ARRAY_LEN(migrations) == GM_REGISTRY_SCHEMA_VERSION,
	       "one migration per schema version");

static gm_err user_version(struct gm_registry *r, int *out, struct gm_diag *d)
{
	sqlite3_stmt *st;
	bool row;
	gm_err e;

	e = prep(r, &st, "PRAGMA user_version", d);
	if (e)
		return e;
	e = step(r, st, &row, d, "read schema version");
	if (e == GM_OK)
		*out = row ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return e;
}

static gm_err migrate(struct gm_registry *r, const char *path,
		      struct gm_diag *d)
{
	int have, want = (int)GM_ARRAY_LEN(migrations);
	gm_err e;

	e = user_version(r, &have, d);
	if (e)
		return e;
	if (have > want)
		return gm_diag_set(d, GM_EUNSUPPORTED,
				   "registry %s has schema version %d but this "
				   "ggen knows versions up to %d: it was "
				   "written by a newer ggen; upgrade ggen",
				   path, have, want);
	if (have < 0)
		return gm_diag_set(d, GM_ECORRUPT,
				   "registry %s has a negative schema version "
				   "%d",
				   path, have);
	while (have < want) {
		char bump[64];

		e = exec(r, "BEGIN IMMEDIATE", d, "migration");
		if (e)
			return e;
		snprintf(bump, sizeof(bump), "PRAGMA user_version = %d",
			 have + 1);
		e = exec(r, migrations[have], d, "migration");
		if (e == GM_OK)
			e = exec(r, bump, d, "migration");
		if (e == GM_OK)
			e = exec(r, "COMMIT", d, "migration");
		if (e) {
			sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
			return e;
		}
		have++;
	}
	r->schema_version = have;
	return GM_OK;
}

static int wal_cb(void *arg, int n, char **vals, char **names)
{
	char *mode = arg;

	if (n > 0 && vals[0])
		snprintf(mode, 16, "%s", vals[0]);
	return 0;
}

gm_err gm_registry_open(struct gm_registry **out, const char *path,
			struct gm_diag *d)
{
	struct gm_registry *r;
	char mode[16] = "";
	int rc;
	gm_err e;

	*out = NULL;
	if (!path || !*path)
		return gm_diag_set(d, GM_EINVAL, "registry path is empty");
	r = gm_calloc(1, sizeof(*r));
	if (!r)
		return GM_ENOMEM;
	pthread_once(&hook_once, install_hooks);
	create_errno = 0;
	write_errno = 0;
	rc = sqlite3_open_v2(path, &r->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		char buf[GM_DIAG_MAX];
		int sys;
		const char *msg = sqlite_msg(r->db, rc, buf, sizeof(buf), &sys);

		e = gm__registry_sqlite_err(r->db, rc, d, "open");
		gm_diag_set(d, e, "cannot open registry %s: %s", path, msg);
		goto out_close;
	}
	sqlite3_extended_result_codes(r->db, 1);
	sqlite3_busy_timeout(r->db, BUSY_TIMEOUT_MS);
	rc = sqlite3_exec(r->db, "PRAGMA journal_mode = WAL", wal_cb, mode,
			  NULL);
	if (rc != SQLITE_OK) {
		char buf[GM_DIAG_MAX];
		int sys;
		const char *msg = sqlite_msg(r->db, rc, buf, sizeof(buf), &sys);

		e = gm__registry_sqlite_err(r->db, rc, d, "open");
		gm_diag_set(d, e, "cannot open registry %s: %s", path, msg);
		goto out_close;
	}
	if (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0) {
		e = gm_diag_set(d, GM_EIO,
				"registry %s: cannot switch to WAL mode "
				"(journal mode is '%s')",
				path, mode);
		goto out_close;
	}
	e = exec(r,
		 "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
		 " PRAGMA trusted_schema = OFF",
		 d, "open");
	if (e)
		goto out_close;
	e = migrate(r, path, d);
	if (e)
		goto out_close;
	*out = r;
	return GM_OK;

out_close:
	sqlite3_close(r->db);
	gm_free(r);
	return e;
}

void gm_registry_close(struct gm_registry *r)
{
	if (!r)
		return;
	if (r->db && !sqlite3_get_autocommit(r->db))
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(r->db);
	gm_free(r);
}

int gm_registry_schema_version(struct gm_registry *r)
{
	return r->schema_version;
}

gm_err gm_registry_begin(struct gm_registry *r, struct gm_diag *d)
{
	if (!sqlite3_get_autocommit(r->db))
		return gm_diag_set(d, GM_EUSAGE,
				   "registry transaction already open");
	return exec(r, "BEGIN IMMEDIATE", d, "begin");
}

gm_err gm_registry_commit(struct gm_registry *r, struct gm_diag *d)
{
	if (sqlite3_get_autocommit(r->db))
		return gm_diag_set(d, GM_EUSAGE,
				   "no registry transaction to commit");
	return exec(r, "COMMIT", d, "commit");
}

gm_err gm_registry_rollback(struct gm_registry *r, struct gm_diag *d)
{
	if (sqlite3_get_autocommit(r->db))
		return gm_diag_set(d, GM_EUSAGE,
				   "no registry transaction to roll back");
	return exec(r, "ROLLBACK", d, "rollback");
}

/* ---- releases ------------------------------------------------------------ */

#define RELEASE_COLS                                                           \
	"id, ns, name, version, v_major, v_minor, v_patch, v_pre, kind,"       \
	" description, license, keywords, categories, authors, homepage,"      \
	" repository, root_cid, manifest_digest, size, publisher, seq,"        \
	" record_cid, record, published_at, content_state, equivocation,"      \
	" latest"

/* Release first, pre-release after; then SemVer precedence. */
static int latest_cmp(const struct gm_semver *a, const struct gm_semver *b)
{
	bool sa = a->pre[0] == '\0', sb = b->pre[0] == '\0';

	if (sa != sb)
		return sa ? 1 : -1;
	return gm_semver_cmp(a, b);
}

static void semver_from(sqlite3_stmt *st, int col, struct gm_semver *v)
{
	const unsigned char *pre = sqlite3_column_text(st, col + 3);

	memset(v, 0, sizeof(*v));
	v->major = (uint64_t)sqlite3_column_int64(st, col);
	v->minor = (uint64_t)sqlite3_column_int64(st, col + 1);
	v->patch = (uint64_t)sqlite3_column_int64(st, col + 2);
	if (pre)
		snprintf(v->pre, sizeof(v->pre), "%s", (const char *)pre);
}

static gm_err col_text(void **mem, sqlite3_stmt *st, int col, const char **out)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	if (!s) {
		*out = NULL;
		if (sqlite3_column_type(st, col) != SQLITE_NULL)
			return GM_ENOMEM;
		return GM_OK;
	}
	*out = gm__arena_strndup(mem, (const char *)s,
				 (size_t)sqlite3_column_bytes(st, col));
	return *out ? GM_OK : GM_ENOMEM;
}

static gm_err col_blob(void **mem, sqlite3_stmt *st, int col,
		       const uint8_t **out, size_t *len)
{
	const void *p = sqlite3_column_blob(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);
	uint8_t *c;

	*out = NULL;
	*len = 0;
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return GM_OK;
	c = gm__arena_alloc(mem, n);
	if (!c)
		return GM_ENOMEM;
	if (n)
		memcpy(c, p, n);
	*out = c;
	*len = n;
	return GM_OK;
}

static gm_err read_release(void **mem, sqlite3_stmt *st,
			   struct gm_release_row *row)
{
	size_t keylen;
	gm_err e = GM_OK;

	memset(row, 0, sizeof(*row));
	row->id = sqlite3_column_int64(st, 0);
	semver_from(st, 4, &row->semver);
	e = col_text(mem, st, 1, &row->ns);
	if (!e)
		e = col_text(mem, st, 2, &row->name);
	if (!e)
		e = col_text(mem, st, 3, &row->version);
	if (!e)
		e = col_text(mem, st, 8, &row->kind);
	if (!e)
		e = col_text(mem, st, 9, &row->description);
	if (!e)
		e = col_text(mem, st, 10, &row->license);
	if (!e)
		e = col_text(mem, st, 11, &row->keywords);
	if (!e)
		e = col_text(mem, st, 12, &row->categories);
	if (!e)
		e = col_text(mem, st, 13, &row->authors);
	if (!e)
		e = col_text(mem, st, 14, &row->homepage);
	if (!e)
		e = col_text(mem, st, 15, &row->repository);
	if (!e)
		e = col_text(mem, st, 16, &row->root_cid);
	if (!e)
		e = col_blob(mem, st, 17, &row->manifest_digest,
			     &row->manifest_digest_len);
	row->size = (uint64_t)sqlite3_column_int64(st, 18);
	if (!e)
		e = col_blob(mem, st, 19, &row->publisher, &keylen);
	row->seq = (uint64_t)sqlite3_column_int64(st, 20);
	if (!e)
		e = col_text(mem, st, 21, &row->record_cid);
	if (!e)
		e = col_blob(mem, st, 22, &row->record, &row->record_len);
	row->published_at = sqlite3_column_int64(st, 23);
	row->content_state = (enum gm_content_state)sqlite3_column_int(st, 24);
	row->equivocation = sqlite3_column_int(st, 25) != 0;
	row->latest = sqlite3_column_int(st, 26) != 0;
	if (!e && row->publisher && keylen != GM_REGISTRY_KEY_LEN)
		row->publisher = NULL;
	return e;
}

void gm_release_list_free(struct gm_release_list *l)
{
	if (!l)
		return;
	gm_free(l->rows);
	gm__arena_free(&l->mem_);
	l->rows = NULL;
	l->n = 0;
}

static gm_err load_deps(struct gm_registry *r, struct gm_release_list *l,
			struct gm_diag *d)
{
	sqlite3_stmt *st;
	size_t i;
	gm_err e;

	e = prep(r, &st,
		 "SELECT dep_ns, dep_name, req FROM release_deps"
		 " WHERE release_id = ? ORDER BY position",
		 d);
	if (e)
		return e;
	for (i = 0; i < l->n && !e; i++) {
		struct gm_registry_dep *deps = NULL;
		size_t n = 0, cap = 0;
		bool row;

		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, l->rows[i].id);
		for (;;) {
			e = step(r, st, &row, d, "read dependencies");
			if (e || !row)
				break;
			if (n == cap) {
				struct gm_registry_dep *nd;

				cap = cap ? cap * 2 : 8;
				nd = gm__arena_alloc(&l->mem_,
						     cap * sizeof(*nd));
				if (!nd) {
					e = GM_ENOMEM;
					break;
				}
				if (n)
					memcpy(nd, deps, n * sizeof(*nd));
				deps = nd;
			}
			e = col_text(&l->mem_, st, 0, &deps[n].ns);
			if (!e)
				e = col_text(&l->mem_, st, 1, &deps[n].name);
			if (!e)
				e = col_text(&l->mem_, st, 2, &deps[n].req);
			if (e)
				break;
			n++;
		}
		l->rows[i].deps = deps;
		l->rows[i].n_deps = n;
	}
	sqlite3_finalize(st);
	return e;
}

/* Runs st (bound) and appends every row to l. */
static gm_err collect(struct gm_registry *r, sqlite3_stmt *st,
		      struct gm_release_list *l, struct gm_diag *d)
{
	size_t cap = 0;
	bool row;
	gm_err e;

	for (;;) {
		e = step(r, st, &row, d, "read releases");
		if (e || !row)
			return e;
		if (l->n == cap) {
			struct gm_release_row *nr;

			cap = cap ? cap * 2 : 8;
			nr = gm_reallocarray(l->rows, cap, sizeof(*nr));
			if (!nr)
				return GM_ENOMEM;
			l->rows = nr;
		}
		e = read_release(&l->mem_, st, &l->rows[l->n]);
		if (e)
			return e;
		l->n++;
	}
}

static int row_cmp_desc(const void *pa, const void *pb)
{
	const struct gm_release_row *a = pa, *b = pb;
	int c = gm_semver_cmp(&a->semver, &b->semver);

	if (c)
		return -c;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* Rows of ns/name (and version, when not NULL), highest version first. */
static gm_err find_rows(struct gm_registry *r, const char *ns,
			const char *name, const char *version,
			struct gm_release_list *out, struct gm_diag *d)
{
	sqlite3_stmt *st;
	gm_err e;

	memset(out, 0, sizeof(*out));
	e = prep(r, &st,
		 version ? "SELECT " RELEASE_COLS " FROM releases WHERE ns = ?"
			   " AND name = ? AND version = ? ORDER BY id"
			 : "SELECT " RELEASE_COLS " FROM releases WHERE ns = ?"
			   " AND name = ? ORDER BY id",
		 d);
	if (e)
		return e;
	bind_text_nn(st, 1, ns);
	bind_text_nn(st, 2, name);
	if (version)
		bind_text_nn(st, 3, version);
	e = collect(r, st, out, d);
	sqlite3_finalize(st);
	if (!e && out->n > 1)
		qsort(out->rows, out->n, sizeof(out->rows[0]), row_cmp_desc);
	if (!e)
		e = load_deps(r, out, d);
	if (e)
		gm_release_list_free(out);
	return e;
}

gm_err gm_registry_find_releases(struct gm_registry *r, const char *ns,
				 const char *name, struct gm_release_list *out,
				 struct gm_diag *d)
{
	return find_rows(r, ns, name, NULL, out, d);
}

gm_err gm_registry_find_release(struct gm_registry *r, const char *ns,
				const char *name, const char *version,
				struct gm_release_list *out, struct gm_diag *d)
{
	gm_err e = find_rows(r, ns, name, version ? version : "", out, d);

	if (!e && out->n == 0)
		return gm_diag_set(
		    d, GM_ENOENT, "no release %s/%s@%s in the registry",
		    ns ? ns : "", name ? name : "", version ? version : "");
	return e;
}

gm_err gm_registry_list_packages(struct gm_registry *r, size_t limit,
				 size_t offset, struct gm_release_list *out,
				 struct gm_diag *d)
{
	sqlite3_stmt *st;
	gm_err e;

	memset(out, 0, sizeof(*out));
	e = prep(r, &st,
		 "SELECT " RELEASE_COLS " FROM releases INDEXED BY"
		 " releases_latest WHERE latest = 1 ORDER BY ns, name"
		 " LIMIT ? OFFSET ?",
		 d);
	if (e)
		return e;
	sqlite3_bind_int64(
	    st, 1, limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit);
	sqlite3_bind_int64(st, 2,
			   offset > INT64_MAX ? INT64_MAX : (int64_t)offset);
	e = collect(r, st, out, d);
	sqlite3_finalize(st);
	if (e)
		gm_release_list_free(out);
	return e;
}

static gm_err check_text(const char *what, const char *s, struct gm_diag *d)
{
	if (s && strlen(s) > GM_REGISTRY_TEXT_MAX)
		return gm_diag_set(d, GM_ELIMIT,
				   "release %s is longer than %d bytes", what,
				   GM_REGISTRY_TEXT_MAX);
	return GM_OK;
}

static gm_err validate_release(const struct gm_release_row *row,
			       struct gm_diag *d)
{
	const char *texts[] = {row->version,  row->kind,      row->description,
			       row->license,  row->keywords,  row->categories,
			       row->authors,  row->homepage,  row->repository,
			       row->root_cid, row->record_cid};
	const char *names[] = {"version",  "kind",	"description",
			       "license",  "keywords",	"categories",
			       "authors",  "homepage",	"repository",
			       "root_cid", "record_cid"};
	size_t i;
	gm_err e;

	if (!row->ns || !gm_package_name_valid(row->ns, strlen(row->ns)))
		return gm_diag_set(d, GM_EINVAL,
				   "release namespace '%s' is not a valid "
				   "package name (1 to 64 of a-z 0-9 - _)",
				   row->ns ? row->ns : "");
	if (!row->name || !gm_package_name_valid(row->name, strlen(row->name)))
		return gm_diag_set(d, GM_EINVAL,
				   "release name '%s' is not a valid package "
				   "name (1 to 64 of a-z 0-9 - _)",
				   row->name ? row->name : "");
	if (!row->version || !*row->version)
		return gm_diag_set(d, GM_EINVAL, "release %s/%s has no version",
				   row->ns, row->name);
	for (i = 0; i < GM_ARRAY_LEN(texts); i++) {
		e = check_text(names[i], texts[i], d);
		if (e)
			return e;
	}
	if ((unsigned)row->content_state > GM_CONTENT_COMPLETE)
		return gm_diag_set(d, GM_EINVAL, "content state %d is unknown",
				   (int)row->content_state);
	if (row->record_len > GM_REGISTRY_RECORD_MAX ||
	    row->manifest_digest_len > GM_REGISTRY_RECORD_MAX)
		return gm_diag_set(d, GM_ELIMIT,
				   "release record is larger than %d bytes",
				   GM_REGISTRY_RECORD_MAX);
	if (row->n_deps > GM_REGISTRY_DEPS_MAX)
		return gm_diag_set(
		    d, GM_ELIMIT, "release %s/%s has more than %d dependencies",
		    row->ns, row->name, GM_REGISTRY_DEPS_MAX);
	if (row->n_deps && !row->deps)
		return gm_diag_set(d, GM_EINVAL, "dependencies missing");
	for (i = 0; i < row->n_deps; i++) {
		const struct gm_registry_dep *dp = &row->deps[i];

		if (!dp->ns || !dp->name || !dp->req)
			return gm_diag_set(d, GM_EINVAL,
					   "dependency %zu of %s/%s is "
					   "incomplete",
					   i + 1, row->ns, row->name);
		e = check_text("dependency", dp->ns, d);
		if (!e)
			e = check_text("dependency", dp->name, d);
		if (!e)
			e = check_text("dependency", dp->req, d);
		if (e)
			return e;
	}
	if (strlen(row->semver.pre) > GM_SEMVER_MAX_LEN)
		return gm_diag_set(d, GM_EINVAL, "pre-release text too long");
	return GM_OK;
}

static const char insert_sql[] =
    "INSERT INTO releases (ns, name, version, v_major, v_minor, v_patch,"
    " v_pre, kind, description, license, keywords, categories, authors,"
    " homepage, repository, root_cid, manifest_digest, size, publisher,"
    " seq, record_cid, record, published_at, content_state,"
    " equivocation, latest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
    " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

static void bind_release(sqlite3_stmt *st, const struct gm_release_row *row,
			 bool equivocation, bool latest, bool with_record)
{
	bind_text(st, 1, row->ns);
	bind_text(st, 2, row->name);
	bind_text(st, 3, row->version);
	sqlite3_bind_int64(st, 4, (int64_t)row->semver.major);
	sqlite3_bind_int64(st, 5, (int64_t)row->semver.minor);
	sqlite3_bind_int64(st, 6, (int64_t)row->semver.patch);
	bind_text_nn(st, 7, row->semver.pre);
	bind_text_nn(st, 8, row->kind);
	bind_text_nn(st, 9, row->description);
	bind_text(st, 10, row->license);
	bind_text_nn(st, 11, row->keywords);
	bind_text_nn(st, 12, row->categories);
	bind_text_nn(st, 13, row->authors);
	bind_text(st, 14, row->homepage);
	bind_text(st, 15, row->repository);
	bind_text(st, 16, row->root_cid);
	if (with_record) {
		bind_blob(st, 17, row->manifest_digest,
			  row->manifest_digest_len);
		bind_blob(st, 19, row->publisher,
			  row->publisher ? GM_REGISTRY_KEY_LEN : 0);
		bind_text(st, 21, row->record_cid);
		bind_blob(st, 22, row->record, row->record_len);
	} else {
		sqlite3_bind_null(st, 17);
		sqlite3_bind_null(st, 19);
		sqlite3_bind_null(st, 21);
		sqlite3_bind_null(st, 22);
	}
	sqlite3_bind_int64(st, 18, (int64_t)row->size);
	sqlite3_bind_int64(st, 20, (int64_t)row->seq);
	sqlite3_bind_int64(st, 23, row->published_at);
	sqlite3_bind_int(st, 24, (int)row->content_state);
	sqlite3_bind_int(st, 25, equivocation);
	sqlite3_bind_int(st, 26, latest);
}

static const char find_latest_sql[] =
    "SELECT id, v_major, v_minor, v_patch, v_pre FROM releases"
    " INDEXED BY releases_latest WHERE ns = ? AND name = ? AND latest = 1";
static const char unset_latest_sql[] =
    "UPDATE releases SET latest = 0 WHERE id = ?";
static const char set_latest_sql[] =
    "UPDATE releases SET latest = 1 WHERE id = ?";
static const char fts_delete_sql[] =
    "INSERT INTO release_fts (release_fts, rowid, name, ns, keywords,"
    " description) SELECT 'delete', id, name, ns, keywords, description"
    " FROM releases WHERE id = ?";
static const char fts_insert_sql[] =
    "INSERT INTO release_fts (rowid, name, ns, keywords, description)"
    " SELECT id, name, ns, keywords, description FROM releases"
    " WHERE id = ?";

static gm_err run_id(struct gm_registry *r, sqlite3_stmt *st, int64_t id,
		     struct gm_diag *d, const char *what)
{
	gm_err e;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, id);
	e = step(r, st, NULL, d, what);
	sqlite3_reset(st);
	return e;
}

static gm_err run_id_sql(struct gm_registry *r, const char *sql, int64_t id,
			 struct gm_diag *d, const char *what)
{
	sqlite3_stmt *st;
	gm_err e;

	e = prep(r, &st, sql, d);
	if (e)
		return e;
	e = run_id(r, st, id, d, what);
	sqlite3_finalize(st);
	return e;
}

/*
 * The latest row of ns/name: *old_id (0 when none) and whether a row with
 * version v would replace it.
 */
static gm_err latest_of(struct gm_registry *r, sqlite3_stmt *st, const char *ns,
			const char *name, const struct gm_semver *v,
			int64_t *old_id, bool *replaces, struct gm_diag *d)
{
	struct gm_semver cur;
	bool row;
	gm_err e;

	sqlite3_reset(st);
	bind_text(st, 1, ns);
	bind_text(st, 2, name);
	e = step(r, st, &row, d, "find latest");
	*old_id = 0;
	*replaces = true;
	if (!e && row) {
		*old_id = sqlite3_column_int64(st, 0);
		semver_from(st, 1, &cur);
		*replaces = latest_cmp(v, &cur) > 0;
	}
	sqlite3_reset(st);
	return e;
}

/* Checks the rows already stored for row's ns/name@version. */
static gm_err check_existing(struct gm_registry *r,
			     const struct gm_release_row *row, bool *exists,
			     struct gm_diag *d)
{
	sqlite3_stmt *st;
	bool found;
	gm_err e;

	*exists = false;
	if (row->record_cid) {
		e = prep(r, &st,
			 "SELECT ns, name, version FROM releases"
			 " WHERE record_cid = ?",
			 d);
		if (e)
			return e;
		bind_text(st, 1, row->record_cid);
		e = step(r, st, &found, d, "find record");
		if (!e && found)
			e = gm_diag_set(d, GM_EEXIST,
					"release record %s is already in the "
					"registry (%s/%s@%s)",
					row->record_cid,
					sqlite3_column_text(st, 0),
					sqlite3_column_text(st, 1),
					sqlite3_column_text(st, 2));
		sqlite3_finalize(st);
		if (e)
			return e;
	}
	e = prep(r, &st,
		 "SELECT publisher FROM releases"
		 " WHERE ns = ? AND name = ? AND version = ?",
		 d);
	if (e)
		return e;
	bind_text(st, 1, row->ns);
	bind_text(st, 2, row->name);
	bind_text(st, 3, row->version);
	for (;;) {
		const void *pub;
		bool same;

		e = step(r, st, &found, d, "find release");
		if (e || !found)
			break;
		*exists = true;
		if (row->equivocation)
			continue;
		pub = sqlite3_column_blob(st, 0);
		same = (!pub && !row->publisher) ||
		       (pub && row->publisher &&
			sqlite3_column_bytes(st, 0) == GM_REGISTRY_KEY_LEN &&
			memcmp(pub, row->publisher, GM_REGISTRY_KEY_LEN) == 0);
		e = gm_diag_set(d, GM_ECONFLICT,
				"%s/%s@%s is already in the registry%s; a "
				"second release of one version is only kept "
				"as equivocation evidence",
				row->ns, row->name, row->version,
				same ? " from the same publisher"
				     : " from another publisher");
		break;
	}
	sqlite3_finalize(st);
	return e;
}

static gm_err insert_deps(struct gm_registry *r, int64_t id,
			  const struct gm_release_row *row, struct gm_diag *d)
{
	sqlite3_stmt *st;
	size_t i;
	gm_err e = GM_OK;

	if (row->n_deps == 0)
		return GM_OK;
	e = prep(r, &st,
		 "INSERT INTO release_deps (release_id, dep_ns, dep_name, req,"
		 " position) VALUES (?, ?, ?, ?, ?)",
		 d);
	if (e)
		return e;
	for (i = 0; i < row->n_deps && !e; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, id);
		bind_text(st, 2, row->deps[i].ns);
		bind_text(st, 3, row->deps[i].name);
		bind_text(st, 4, row->deps[i].req);
		sqlite3_bind_int64(st, 5, (int64_t)i);
		e = step(r, st, NULL, d, "insert dependency");
	}
	sqlite3_finalize(st);
	return e;
}

static gm_err insert_locked(struct gm_registry *r,
			    const struct gm_release_row *row, int64_t *id_out,
			    struct gm_diag *d)
{
	sqlite3_stmt *st = NULL;
	int64_t id, old_id;
	bool exists, replaces;
	int rc;
	gm_err e;

	e = check_existing(r, row, &exists, d);
	if (e)
		return e;
	if (exists) {
		/* Equivocation evidence: every row of the version marked. */
		e = prep(r, &st,
			 "UPDATE releases SET equivocation = 1"
			 " WHERE ns = ? AND name = ? AND version = ?",
			 d);
		if (e)
			return e;
		bind_text(st, 1, row->ns);
		bind_text(st, 2, row->name);
		bind_text(st, 3, row->version);
		e = step(r, st, NULL, d, "mark equivocation");
		sqlite3_finalize(st);
		if (e)
			return e;
	}
	e = prep(r, &st, insert_sql, d);
	if (e)
		return e;
	bind_release(st, row, exists || row->equivocation, false, true);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return gm_diag_set(d, GM_ECONFLICT,
				   "release %s/%s@%s names a publisher key "
				   "that is not in the registry; add the "
				   "publisher first",
				   row->ns, row->name, row->version);
	if (rc != SQLITE_DONE)
		return gm__registry_sqlite_err(r->db, rc, d, "insert release");
	id = sqlite3_last_insert_rowid(r->db);
	e = insert_deps(r, id, row, d);
	if (e)
		return e;
	if (!exists && !row->equivocation) {
		e = prep(r, &st, find_latest_sql, d);
		if (e)
			return e;
		e = latest_of(r, st, row->ns, row->name, &row->semver, &old_id,
			      &replaces, d);
		sqlite3_finalize(st);
		if (e)
			return e;
		if (replaces) {
			if (old_id) {
				e = run_id_sql(r, fts_delete_sql, old_id, d,
					       "search index");
				if (!e)
					e = run_id_sql(r, unset_latest_sql,
						       old_id, d, "latest");
			}
			if (!e)
				e = run_id_sql(r, set_latest_sql, id, d,
					       "latest");
			if (!e)
				e = run_id_sql(r, fts_insert_sql, id, d,
					       "search index");
			if (e)
				return e;
		}
	}
	if (id_out)
		*id_out = id;
	return GM_OK;
}

gm_err gm_registry_insert_release(struct gm_registry *r,
				  const struct gm_release_row *row,
				  int64_t *id_out, struct gm_diag *d)
{
	gm_err e;

	if (r->bulk)
		return gm_diag_set(d, GM_EUSAGE, "a bulk load is in progress");
	e = validate_release(row, d);
	if (e)
		return e;
	e = sp_begin(r, d);
	if (e)
		return e;
	return sp_end(r, insert_locked(r, row, id_out, d), d);
}

gm_err gm_registry_set_content_state(struct gm_registry *r, int64_t id,
				     enum gm_content_state state,
				     struct gm_diag *d)
{
	sqlite3_stmt *st;
	gm_err e;

	if ((unsigned)state > GM_CONTENT_COMPLETE)
		return gm_diag_set(d, GM_EINVAL, "content state %d is unknown",
				   (int)state);
	e = prep(r, &st, "UPDATE releases SET content_state = ? WHERE id = ?",
		 d);
	if (e)
		return e;
	sqlite3_bind_int(st, 1, (int)state);
	sqlite3_bind_int64(st, 2, id);
	e = step(r, st, NULL, d, "set content state");
	sqlite3_finalize(st);
	if (!e && sqlite3_changes(r->db) == 0)
		return gm_diag_set(d, GM_ENOENT, "no release with id %" PRId64,
				   id);
	return e;
}

/* ---- names ----------------------------------------------------------------
 */

void gm_registry_names_free(struct gm_registry_names *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->n; i++)
		gm_free(n->v[i]);
	gm_free(n->v);
	n->v = NULL;
	n->n = 0;
}

/* Runs st and collects column 0 of every row. */
static gm_err collect_names(struct gm_registry *r, sqlite3_stmt *st,
			    struct gm_registry_names *out, struct gm_diag *d)
{
	size_t cap = 0;
	bool row;
	gm_err e;

	for (;;) {
		const unsigned char *s;
		char *c;

		e = step(r, st, &row, d, "read");
		if (e || !row)
			break;
		if (out->n == cap) {
			char **nv;

			cap = cap ? cap * 2 : 8;
			nv = gm_reallocarray(out->v, cap, sizeof(*nv));
			if (!nv) {
				e = GM_ENOMEM;
				break;
			}
			out->v = nv;
		}
		s = sqlite3_column_text(st, 0);
		c = gm_strndup(s ? (const char *)s : "",
			       (size_t)sqlite3_column_bytes(st, 0));
		if (!c) {
			e = GM_ENOMEM;
			break;
		}
		out->v[out->n++] = c;
	}
	if (e)
		gm_registry_names_free(out);
	return e;
}

gm_err gm_registry_namespaces_for(struct gm_registry *r, const char *name,
				  struct gm_registry_names *out,
				  struct gm_diag *d)
{
	sqlite3_stmt *st;
	gm_err e;

	memset(out, 0, sizeof(*out));
	e = prep(r, &st,
		 "SELECT ns FROM releases INDEXED BY releases_name"
		 " WHERE name = ? AND latest = 1 ORDER BY ns",
		 d);
	if (e)
		return e;
	bind_text_nn(st, 1, name);
	e = collect_names(r, st, out, d);
	sqlite3_finalize(st);
	return e;
}

/* ---- publishers ---------------------------------------------------------- */

gm_err gm_registry_upsert_publisher(struct gm_registry *r,
				    const struct gm_publisher_row *p,
				    struct gm_diag *d)
{
	sqlite3_stmt *st;
	bool found;
	uint64_t have = 0;
	int rc;
	gm_err e;

	if (!p->fingerprint || !*p->fingerprint)
		return gm_diag_set(d, GM_EINVAL,
				   "publisher has no fingerprint");
	if (check_text("fingerprint", p->fingerprint, d) ||
	    check_text("handle", p->handle, d))
		return GM_ELIMIT;
	if (p->record_len > GM_REGISTRY_RECORD_MAX)
		return gm_diag_set(d, GM_ELIMIT,
				   "publisher record is larger than %d bytes",
				   GM_REGISTRY_RECORD_MAX);
	if ((unsigned)p->trust > GM_TRUST_ULTIMATE)
		return gm_diag_set(d, GM_EINVAL, "trust level %d is unknown",
				   (int)p->trust);
	e = sp_begin(r, d);
	if (e)
		return e;
	e = prep(r, &st, "SELECT seq FROM publishers WHERE key = ?", d);
	if (e)
		goto out_sp;
	sqlite3_bind_blob(st, 1, p->key, GM_REGISTRY_KEY_LEN, SQLITE_STATIC);
	e = step(r, st, &found, d, "find publisher");
	if (!e && found)
		have = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (e)
		goto out_sp;
	if (found && p->seq < have) {
		e = gm_diag_set(d, GM_ECONFLICT,
				"publisher %s: record sequence %" PRIu64
				" is older than the stored %" PRIu64
				"; an older record never replaces a newer one",
				p->fingerprint, p->seq, have);
		goto out_sp;
	}
	if (found)
		e = prep(r, &st,
			 "UPDATE publishers SET fingerprint = ?2, handle = ?3,"
			 " seq = ?4, record = ?5, revoked_after = ?6,"
			 " successor = ?7 WHERE key = ?1",
			 d);
	else
		e = prep(
		    r, &st,
		    "INSERT INTO publishers (key, fingerprint, handle, seq,"
		    " record, revoked_after, successor, trust, first_seen,"
		    " pinned) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
		    " ?10)",
		    d);
	if (e)
		goto out_sp;
	sqlite3_bind_blob(st, 1, p->key, GM_REGISTRY_KEY_LEN, SQLITE_STATIC);
	bind_text(st, 2, p->fingerprint);
	bind_text(st, 3, p->handle);
	sqlite3_bind_int64(st, 4, (int64_t)p->seq);
	bind_blob(st, 5, p->record, p->record_len);
	if (p->has_revoked_after)
		sqlite3_bind_int64(st, 6, (int64_t)p->revoked_after);
	else
		sqlite3_bind_null(st, 6);
	if (p->has_successor)
		sqlite3_bind_blob(st, 7, p->successor, GM_REGISTRY_KEY_LEN,
				  SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 7);
	if (!found) {
		sqlite3_bind_int(st, 8, (int)p->trust);
		sqlite3_bind_int64(
		    st, 9, p->first_seen ? p->first_seen : (int64_t)time(NULL));
		sqlite3_bind_int(st, 10, p->pinned);
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		e = gm_diag_set(d, GM_ECONFLICT,
				"publisher fingerprint %s already belongs to "
				"another key",
				p->fingerprint);
	else if (rc != SQLITE_DONE)
		e = gm__registry_sqlite_err(r->db, rc, d, "store publisher");
out_sp:
	return sp_end(r, e, d);
}

void gm_publisher_row_release(struct gm_publisher_row *p)
{
	if (!p)
		return;
	gm__arena_free(&p->mem_);
	p->fingerprint = NULL;
	p->handle = NULL;
	p->record = NULL;
	p->record_len = 0;
}

#define PUBLISHER_COLS                                                         \
	"key, fingerprint, handle, seq, record, trust, revoked_after,"         \
	" successor, first_seen, pinned"

/* Fills out from the current row of a SELECT PUBLISHER_COLS statement. */
static gm_err read_publisher(sqlite3_stmt *st, struct gm_publisher_row *out)
{
	const void *k = sqlite3_column_blob(st, 0);
	gm_err e;

	memset(out, 0, sizeof(*out));
	if (k && sqlite3_column_bytes(st, 0) == GM_REGISTRY_KEY_LEN)
		memcpy(out->key, k, GM_REGISTRY_KEY_LEN);
	out->seq = (uint64_t)sqlite3_column_int64(st, 3);
	out->trust = (enum gm_trust_level)sqlite3_column_int(st, 5);
	out->has_revoked_after = sqlite3_column_type(st, 6) != SQLITE_NULL;
	out->revoked_after = (uint64_t)sqlite3_column_int64(st, 6);
	k = sqlite3_column_blob(st, 7);
	if (k && sqlite3_column_bytes(st, 7) == GM_REGISTRY_KEY_LEN) {
		out->has_successor = true;
		memcpy(out->successor, k, GM_REGISTRY_KEY_LEN);
	}
	out->first_seen = sqlite3_column_int64(st, 8);
	out->pinned = sqlite3_column_int(st, 9) != 0;
	e = col_text(&out->mem_, st, 1, &out->fingerprint);
	if (!e)
		e = col_text(&out->mem_, st, 2, &out->handle);
	if (!e)
		e = col_blob(&out->mem_, st, 4, &out->record, &out->record_len);
	return e;
}

gm_err gm_registry_list_publishers(struct gm_registry *r,
				   struct gm_publisher_row **out, size_t *n,
				   struct gm_diag *d)
{
	struct gm_publisher_row *v = NULL;
	sqlite3_stmt *st;
	bool row = false;
	size_t i, count = 0;
	gm_err e;

	*out = NULL;
	*n = 0;
	e = prep(r, &st,
		 "SELECT " PUBLISHER_COLS " FROM publishers"
		 " ORDER BY handle, fingerprint",
		 d);
	if (e)
		return e;
	for (;;) {
		struct gm_publisher_row *grown;

		e = step(r, st, &row, d, "list publishers");
		if (e || !row)
			break;
		grown = gm_reallocarray(v, count + 1, sizeof(*v));
		if (!grown) {
			e = GM_ENOMEM;
			break;
		}
		v = grown;
		e = read_publisher(st, &v[count]);
		count++;
		if (e)
			break;
	}
	sqlite3_finalize(st);
	if (e) {
		for (i = 0; i < count; i++)
			gm_publisher_row_release(&v[i]);
		gm_free(v);
		return e;
	}
	*out = v;
	*n = count;
	return GM_OK;
}

static gm_err get_publisher(struct gm_registry *r, const char *sql,
			    const void *arg, int arglen,
			    struct gm_publisher_row *out, const char *what,
			    struct gm_diag *d)
{
	sqlite3_stmt *st;
	bool found;
	gm_err e;

	memset(out, 0, sizeof(*out));
	e = prep(r, &st, sql, d);
	if (e)
		return e;
	if (arglen >= 0)
		sqlite3_bind_blob(st, 1, arg, arglen, SQLITE_STATIC);
	else
		bind_text_nn(st, 1, arg);
	e = step(r, st, &found, d, "find publisher");
	if (!e && !found)
		e = gm_diag_set(d, GM_ENOENT, "no publisher %s in the registry",
				what);
	if (!e)
		e = read_publisher(st, out);
	sqlite3_finalize(st);
	if (e)
		gm_publisher_row_release(out);
	return e;
}

gm_err gm_registry_get_publisher(struct gm_registry *r, const uint8_t *key,
				 struct gm_publisher_row *out,
				 struct gm_diag *d)
{
	return get_publisher(r,
			     "SELECT " PUBLISHER_COLS " FROM publishers"
			     " WHERE key = ?",
			     key, GM_REGISTRY_KEY_LEN, out, "with that key", d);
}

gm_err gm_registry_get_publisher_by_fingerprint(struct gm_registry *r,
						const char *fingerprint,
						struct gm_publisher_row *out,
						struct gm_diag *d)
{
	return get_publisher(r,
			     "SELECT " PUBLISHER_COLS " FROM publishers"
			     " WHERE fingerprint = ?",
			     fingerprint, -1, out, "with that fingerprint", d);
}

gm_err gm_registry_get_publisher_by_handle(struct gm_registry *r,
					   const char *handle,
					   struct gm_publisher_row *out,
					   struct gm_diag *d)
{
	return get_publisher(r,
			     "SELECT " PUBLISHER_COLS " FROM publishers"
			     " WHERE handle = ? ORDER BY successor IS NULL"
			     " DESC, seq DESC, first_seen DESC LIMIT 1",
			     handle, -1, out, "with that handle", d);
}

gm_err gm_registry_set_trust(struct gm_registry *r, const uint8_t *key,
			     enum gm_trust_level trust, bool pinned,
			     struct gm_diag *d)
{
	sqlite3_stmt *st;
	gm_err e;

	if ((unsigned)trust > GM_TRUST_ULTIMATE)
		return gm_diag_set(d, GM_EINVAL, "trust level %d is unknown",
				   (int)trust);
	e = prep(r, &st,
		 "UPDATE publishers SET trust = ?, pinned = ? WHERE key = ?",
		 d);
	if (e)
		return e;
	sqlite3_bind_int(st, 1, (int)trust);
	sqlite3_bind_int(st, 2, pinned);
	sqlite3_bind_blob(st, 3, key, GM_REGISTRY_KEY_LEN, SQLITE_STATIC);
	e = step(r, st, NULL, d, "set trust");
	sqlite3_finalize(st);
	if (!e && sqlite3_changes(r->db) == 0)
		return gm_diag_set(d, GM_ENOENT,
				   "no publisher with that key in the "
				   "registry");
	return e;
}

/* ---- outbox ------------------------------------------------------------- */

static gm_err one_shot(struct gm_registry *r, const char *sql, const char *text,
		       int64_t num, struct gm_diag *d, const char *what)
{
	sqlite3_stmt *st;
	gm_err e;

	if (!text || !*text)
		return gm_diag_set(d, GM_EINVAL, "%s: empty record CID", what);
	e = prep(r, &st, sql, d);
	if (e)
		return e;
	bind_text(st, 1, text);
	if (sqlite3_bind_parameter_count(st) > 1)
		sqlite3_bind_int64(st, 2, num);
	e = step(r, st, NULL, d, what);
	sqlite3_finalize(st);
	return e;
}

gm_err gm_registry_outbox_add(struct gm_registry *r, const char *record_cid,
			      int64_t queued_at, struct gm_diag *d)
{
	if (record_cid && strlen(record_cid) > GM_REGISTRY_TEXT_MAX)
		return gm_diag_set(d, GM_ELIMIT, "record CID too long");
	return one_shot(r,
			"INSERT OR IGNORE INTO outbox (record_cid, queued_at)"
			" VALUES (?, ?)",
			record_cid, queued_at, d, "outbox add");
}

gm_err gm_registry_outbox_list(struct gm_registry *r,
			       struct gm_registry_names *out, struct gm_diag *d)
{
	sqlite3_stmt *st;
	gm_err e;

	memset(out, 0, sizeof(*out));
	e = prep(r, &st,
		 "SELECT record_cid FROM outbox ORDER BY queued_at, record_cid",
		 d);
	if (e)
		return e;
	e = collect_names(r, st, out, d);
	sqlite3_finalize(st);
	return e;
}

gm_err gm_registry_outbox_remove(struct gm_registry *r, const char *record_cid,
				 struct gm_diag *d)
{
	return one_shot(r, "DELETE FROM outbox WHERE record_cid = ?",
			record_cid, 0, d, "outbox remove");
}

/* ---- trust records and sequences ------------------------------------------
 */

gm_err gm_registry_add_trust_record(struct gm_registry *r, const char *cid,
				    const char *handle, int type, uint64_t seq,
				    const uint8_t *record, size_t len,
				    int64_t received_at, struct gm_diag *d)
{
	sqlite3_stmt *st;
	gm_err e;

	if (len > GM_REGISTRY_RECORD_MAX)
		return gm_diag_set(d, GM_ELIMIT, "record of %zu bytes", len);
	e = prep(r, &st,
		 "INSERT OR IGNORE INTO trust_records (cid, handle, type, seq,"
		 " record, received_at) VALUES (?, ?, ?, ?, ?, ?)",
		 d);
	if (e)
		return e;
	bind_text_nn(st, 1, cid);
	bind_text_nn(st, 2, handle);
	sqlite3_bind_int(st, 3, type);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)seq);
	bind_blob(st, 5, record, len);
	sqlite3_bind_int64(st, 6, received_at);
	e = step(r, st, NULL, d, "trust record insert");
	sqlite3_finalize(st);
	return e;
}

void gm_trust_record_list_free(struct gm_trust_record_list *l)
{
	if (!l)
		return;
	gm_free(l->v);
	gm__arena_free(&l->mem_);
	l->v = NULL;
	l->n = 0;
}

gm_err gm_registry_trust_records(struct gm_registry *r, const char *handle,
				 struct gm_trust_record_list *out,
				 struct gm_diag *d)
{
	sqlite3_stmt *st;
	bool row = false;
	gm_err e;

	memset(out, 0, sizeof(*out));
	e = prep(r, &st,
		 "SELECT cid, type, seq, record FROM trust_records"
		 " WHERE handle = ? ORDER BY seq, type, cid",
		 d);
	if (e)
		return e;
	bind_text_nn(st, 1, handle);
	for (;;) {
		struct gm_trust_record_row *grown, *t;
		const char *cid;
		const void *blob;
		int n;

		e = step(r, st, &row, d, "trust records");
		if (e || !row)
			break;
		grown = gm_reallocarray(out->v, out->n + 1, sizeof(*grown));
		if (!grown) {
			e = GM_ENOMEM;
			break;
		}
		out->v = grown;
		t = &out->v[out->n];
		cid = (const char *)sqlite3_column_text(st, 0);
		t->type = sqlite3_column_int(st, 1);
		t->seq = (uint64_t)sqlite3_column_int64(st, 2);
		blob = sqlite3_column_blob(st, 3);
		n = sqlite3_column_bytes(st, 3);
		t->cid = gm__arena_strndup(&out->mem_, cid ? cid : "",
					   cid ? strlen(cid) : 0);
		t->record = gm__arena_alloc(&out->mem_, (size_t)n);
		if (!t->cid || (n && !t->record)) {
			e = GM_ENOMEM;
			break;
		}
		if (n)
			memcpy((void *)t->record, blob, (size_t)n);
		t->len = (size_t)n;
		out->n++;
	}
	sqlite3_finalize(st);
	if (e)
		gm_trust_record_list_free(out);
	return e;
}

gm_err gm_registry_release_seq_max(struct gm_registry *r, const uint8_t *key,
				   uint64_t *out, struct gm_diag *d)
{
	sqlite3_stmt *st;
	bool row = false;
	gm_err e;

	*out = 0;
	e = prep(r, &st,
		 "SELECT coalesce(max(seq), 0) FROM releases WHERE publisher = ?",
		 d);
	if (e)
		return e;
	bind_blob(st, 1, key, GM_REGISTRY_KEY_LEN);
	e = step(r, st, &row, d, "release sequence");
	if (!e && row)
		*out = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return e;
}

/* ---- categories -----------------------------------------------------------
 */

void gm_category_list_free(struct gm_category_list *l)
{
	if (!l)
		return;
	gm_free(l->v);
	gm__arena_free(&l->mem_);
	l->v = NULL;
	l->n = 0;
}

/* Adds one to every category of l named in the space-separated s. */
static void tally(struct gm_category_list *l, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i, k;

		while (j < len && s[j] != ' ')
			j++;
		for (k = 0; k < l->n && j > i; k++) {
			if (strlen(l->v[k].name) == j - i &&
			    memcmp(l->v[k].name, s + i, j - i) == 0) {
				l->v[k].count++;
				break;
			}
		}
		i = j + 1;
	}
}

gm_err gm_registry_list_categories(struct gm_registry *r,
				   struct gm_category_list *out,
				   struct gm_diag *d)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	bool row;
	gm_err e;

	memset(out, 0, sizeof(*out));
	e = prep(r, &st,
		 "SELECT name, description FROM categories ORDER BY name", d);
	if (e)
		return e;
	for (;;) {
		e = step(r, st, &row, d, "list categories");
		if (e || !row)
			break;
		if (out->n == cap) {
			struct gm_category_count *nv;

			cap = cap ? cap * 2 : 16;
			nv = gm_reallocarray(out->v, cap, sizeof(*nv));
			if (!nv) {
				e = GM_ENOMEM;
				break;
			}
			out->v = nv;
		}
		memset(&out->v[out->n], 0, sizeof(out->v[0]));
		e = col_text(&out->mem_, st, 0, &out->v[out->n].name);
		if (!e)
			e = col_text(&out->mem_, st, 1,
				     &out->v[out->n].description);
		if (e)
			break;
		out->n++;
	}
	sqlite3_finalize(st);
	if (e)
		goto out_free;
	e = prep(
	    r, &st,
	    "SELECT categories FROM releases INDEXED BY releases_categories"
	    " WHERE latest = 1 AND categories <> ''",
	    d);
	if (e)
		goto out_free;
	for (;;) {
		e = step(r, st, &row, d, "count categories");
		if (e || !row)
			break;
		tally(out, (const char *)sqlite3_column_text(st, 0),
		      (size_t)sqlite3_column_bytes(st, 0));
	}
	sqlite3_finalize(st);
	if (!e)
		return GM_OK;
out_free:
	gm_category_list_free(out);
	return e;
}

/* ---- integrity --------------------------------------------------------- */

gm_err gm_registry_check(struct gm_registry *r, struct gm_diag *d)
{
	sqlite3_stmt *st;
	bool row;
	int rc;
	gm_err e;

	e = prep(r, &st, "PRAGMA integrity_check(10)", d);
	if (e)
		return e;
	e = step(r, st, &row, d, "integrity check");
	if (!e && row) {
		const char *msg = (const char *)sqlite3_column_text(st, 0);

		if (!msg || strcmp(msg, "ok") != 0)
			e = gm_diag_set(d, GM_ECORRUPT,
					"registry integrity check failed: %s; "
					"`ggen market verify --repair` "
					"rebuilds it from the stored blocks",
					msg ? msg : "(no message)");
	}
	sqlite3_finalize(st);
	if (e)
		return e;
	rc = sqlite3_exec(r->db,
			  "INSERT INTO release_fts (release_fts, rank)"
			  " VALUES ('integrity-check', 1)",
			  NULL, NULL, NULL);
	if ((rc & 0xff) == SQLITE_CORRUPT)
		return gm_diag_set(d, GM_ECORRUPT,
				   "registry search index does not match the "
				   "releases: %s",
				   sqlite3_errmsg(r->db));
	if (rc != SQLITE_OK)
		return gm__registry_sqlite_err(r->db, rc, d, "integrity check");
	return GM_OK;
}

/* ---- bulk path -------------------------------------------------------------
 */

struct gm_registry_bulk {
	struct gm_registry *r;
	sqlite3_stmt *ins;
	sqlite3_stmt *find_ver;
	sqlite3_stmt *find_latest;
	sqlite3_stmt *unset_latest;
	sqlite3_stmt *fts_del;
	sqlite3_stmt *fts_ins;
	bool defer_fts; /* registry was empty: rebuild the index at commit */
	uint64_t added;
	uint64_t skipped;
};

static void bulk_free(struct gm_registry_bulk *b)
{
	sqlite3_finalize(b->ins);
	sqlite3_finalize(b->find_ver);
	sqlite3_finalize(b->find_latest);
	sqlite3_finalize(b->unset_latest);
	sqlite3_finalize(b->fts_del);
	sqlite3_finalize(b->fts_ins);
	b->r->bulk = false;
	sqlite3_exec(b->r->db,
		     "PRAGMA synchronous = FULL; PRAGMA cache_size = -2000",
		     NULL, NULL, NULL);
	gm_free(b);
}

gm_err gm_registry_bulk_begin(struct gm_registry *r,
			      struct gm_registry_bulk **out, struct gm_diag *d)
{
	struct gm_registry_bulk *b;
	sqlite3_stmt *st;
	bool row;
	gm_err e;

	*out = NULL;
	if (r->bulk || !sqlite3_get_autocommit(r->db))
		return gm_diag_set(d, GM_EUSAGE,
				   "bulk load needs the registry outside any "
				   "transaction");
	b = gm_calloc(1, sizeof(*b));
	if (!b)
		return GM_ENOMEM;
	b->r = r;
	r->bulk = true;
	e = exec(r,
		 "PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;"
		 " BEGIN IMMEDIATE",
		 d, "bulk begin");
	if (e)
		goto out_free;
	e = prep(r, &st, "SELECT EXISTS (SELECT 1 FROM releases)", d);
	if (e)
		goto out_rollback;
	e = step(r, st, &row, d, "bulk begin");
	b->defer_fts = !e && row && sqlite3_column_int(st, 0) == 0;
	sqlite3_finalize(st);
	if (!e)
		e = prep(r, &b->ins, insert_sql, d);
	if (!e)
		e = prep(r, &b->find_ver,
			 "SELECT 1 FROM releases WHERE ns = ? AND name = ?"
			 " AND version = ?",
			 d);
	if (!e)
		e = prep(r, &b->find_latest, find_latest_sql, d);
	if (!e)
		e = prep(r, &b->unset_latest, unset_latest_sql, d);
	if (!e)
		e = prep(r, &b->fts_del, fts_delete_sql, d);
	if (!e)
		e = prep(r, &b->fts_ins, fts_insert_sql, d);
	if (e)
		goto out_rollback;
	*out = b;
	return GM_OK;

out_rollback:
	sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
out_free:
	bulk_free(b);
	return e;
}

gm_err gm_registry_bulk_add(struct gm_registry_bulk *b,
			    const struct gm_release_row *row, struct gm_diag *d)
{
	struct gm_registry *r = b->r;
	int64_t old_id, id;
	bool found, replaces;
	const char *texts[] = {row->ns,	      row->name,	row->version,
			       row->kind,     row->description, row->license,
			       row->keywords, row->categories,	row->authors,
			       row->homepage, row->repository,	row->root_cid};
	size_t i;
	gm_err e;

	if (!row->ns || !*row->ns || !row->name || !*row->name ||
	    !row->version || !*row->version)
		return gm_diag_set(d, GM_EINVAL,
				   "bulk release needs ns, name and version");
	for (i = 0; i < GM_ARRAY_LEN(texts); i++)
		if (texts[i] && strlen(texts[i]) > GM_REGISTRY_TEXT_MAX)
			return gm_diag_set(d, GM_ELIMIT,
					   "bulk release %s/%s: a field is "
					   "longer than %d bytes",
					   row->ns, row->name,
					   GM_REGISTRY_TEXT_MAX);
	if ((unsigned)row->content_state > GM_CONTENT_COMPLETE)
		return gm_diag_set(d, GM_EINVAL, "content state %d is unknown",
				   (int)row->content_state);

	sqlite3_reset(b->find_ver);
	bind_text(b->find_ver, 1, row->ns);
	bind_text(b->find_ver, 2, row->name);
	bind_text(b->find_ver, 3, row->version);
	e = step(r, b->find_ver, &found, d, "bulk find");
	sqlite3_reset(b->find_ver);
	if (e)
		return e;
	if (found) {
		b->skipped++;
		return GM_OK;
	}
	e = latest_of(r, b->find_latest, row->ns, row->name, &row->semver,
		      &old_id, &replaces, d);
	if (e)
		return e;
	if (replaces && old_id) {
		if (!b->defer_fts)
			e = run_id(r, b->fts_del, old_id, d, "search index");
		if (!e)
			e = run_id(r, b->unset_latest, old_id, d, "latest");
		if (e)
			return e;
	}
	sqlite3_reset(b->ins);
	bind_release(b->ins, row, false, replaces, false);
	e = step(r, b->ins, NULL, d, "bulk insert");
	sqlite3_reset(b->ins);
	if (e)
		return e;
	id = sqlite3_last_insert_rowid(r->db);
	if (replaces && !b->defer_fts) {
		e = run_id(r, b->fts_ins, id, d, "search index");
		if (e)
			return e;
	}
	b->added++;
	return GM_OK;
}

gm_err gm_registry_bulk_commit(struct gm_registry_bulk *b, uint64_t *added,
			       uint64_t *skipped, struct gm_diag *d)
{
	struct gm_registry *r = b->r;
	gm_err e = GM_OK;

	if (b->defer_fts)
		e = exec(r,
			 "INSERT INTO release_fts (release_fts)"
			 " VALUES ('rebuild')",
			 d, "bulk index");
	if (!e)
		e = exec(r,
			 "INSERT INTO release_fts (release_fts)"
			 " VALUES ('optimize')",
			 d, "bulk index");
	if (!e)
		e = exec(r, "COMMIT", d, "bulk commit");
	if (e) {
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	} else {
		if (added)
			*added = b->added;
		if (skipped)
			*skipped = b->skipped;
		/* Fold the large WAL back into the database file. */
		sqlite3_exec(r->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL,
			     NULL, NULL);
	}
	bulk_free(b);
	return e;
}

void gm_registry_bulk_abort(struct gm_registry_bulk *b)
{
	if (!b)
		return;
	sqlite3_exec(b->r->db, "ROLLBACK", NULL, NULL, NULL);
	bulk_free(b);
}
