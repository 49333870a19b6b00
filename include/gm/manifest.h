/*
 * manifest.h - the package manifest, ggen.toml, read and checked.
 *
 * Schema (TOML 1.0; every key not listed is an error that names the key,
 * its table, its line:column and the closest known key):
 *
 *   table            | key          | type / rule
 *   -----------------+--------------+------------------------------------
 *   [package]        | name         | required; package name (see below)
 *                    | namespace    | required; package name rules
 *                    | version      | required; SemVer 2.0.0
 *                    | kind         | required; "template" or "validator"
 *                    | description  | required; 1..512 bytes
 *                    | license      | SPDX license expression (syntax)
 *                    | authors      | array of 1..256-byte strings, <= 64
 *                    | keywords     | <= 10 of [a-z0-9][a-z0-9_-]{0,19}
 *                    | categories   | <= 5 strings of 1..64 bytes
 *                    | homepage     | http:// or https:// URL
 *                    | repository   | http:// or https:// URL
 *                    | readme       | relative path, no "..", not absolute
 *   [dependencies]   | "ns/name"    | requirement string, or a table
 *                    |              | { version = "requirement" }; <= 256
 *   [plugin]         | entry        | required; relative path to a .wasm
 *   (validator only, | capabilities | array of "fs-read", "fs-write", "env",
 *    and required    |              | "clock", "random", "args", "stdout",
 *    for one)        |              | "stderr", each at most once
 *   [plugin.limits]  | memory_mb    | required; 1..4096
 *   (required)       | fuel         | required; integer > 0
 *                    | timeout_ms   | required; 1..600000
 *                    | stack        | bytes of stack, 1024..67108864
 *
 * A package name (name, namespace) is 1 to 64 bytes of lowercase ASCII
 * letters, digits, '-' and '_', starting with a letter or a digit. A
 * package id is "namespace/name".
 *
 * Errors are GM_EPARSE from the TOML reader, or GM_EFORMAT for a document
 * that breaks the schema; both set d->line and d->column (1-based) and a
 * message starting with what was wrong, e.g. "unknown key 'descripton' in
 * [package] at 4:1; did you mean 'description'?".
 */
#ifndef GM_MANIFEST_H
#define GM_MANIFEST_H

#include "gm/gm.h"
#include "gm/semver.h"

#define GM_PACKAGE_NAME_MAX 64
#define GM_MANIFEST_MAX_SIZE (1024 * 1024)
#define GM_MANIFEST_DESCRIPTION_MAX 512
#define GM_MANIFEST_MAX_KEYWORDS 10
#define GM_MANIFEST_MAX_CATEGORIES 5
#define GM_MANIFEST_MAX_AUTHORS 64
#define GM_MANIFEST_MAX_DEPS 256

enum gm_package_kind {
	GM_PACKAGE_NONE = 0,
	GM_PACKAGE_TEMPLATE,
	GM_PACKAGE_VALIDATOR,
};

/* Plugin capabilities, a bit set. */
enum gm_capability {
	GM_CAP_FS_READ = 1u << 0,
	GM_CAP_FS_WRITE = 1u << 1,
	GM_CAP_ENV = 1u << 2,
	GM_CAP_CLOCK = 1u << 3,
	GM_CAP_RANDOM = 1u << 4,
	GM_CAP_ARGS = 1u << 5,
	GM_CAP_STDOUT = 1u << 6,
	GM_CAP_STDERR = 1u << 7,
};

struct gm_dependency {
	char ns[GM_PACKAGE_NAME_MAX + 1];
	char name[GM_PACKAGE_NAME_MAX + 1];
	char *req_text; /* as written, owned */
	struct gm_semver_req req;
};

struct gm_plugin_limits {
	uint32_t memory_mb;
	uint64_t fuel;
	uint32_t timeout_ms;
	uint64_t stack; /* bytes; 0 when not given (the runtime's default) */
};

struct gm_plugin_manifest {
	char *entry;	       /* relative path of the .wasm module, owned */
	uint32_t capabilities; /* enum gm_capability bits */
	struct gm_plugin_limits limits;
};

/*
 * A parsed manifest: a value the caller allocates, sets up with
 * gm_manifest_init() and frees with gm_manifest_release(). All strings are
 * NUL terminated and owned by it; optional strings are NULL when absent.
 */
struct gm_manifest {
	char name[GM_PACKAGE_NAME_MAX + 1];
	char ns[GM_PACKAGE_NAME_MAX + 1];
	struct gm_semver version;
	enum gm_package_kind kind;
	char *description;
	char *license;
	char **authors;
	size_t n_authors;
	char **keywords;
	size_t n_keywords;
	char **categories;
	size_t n_categories;
	char *homepage;
	char *repository;
	char *readme;
	struct gm_dependency *deps; /* in the order written */
	size_t n_deps;
	bool has_plugin;
	struct gm_plugin_manifest plugin;
};

/* Sets m up empty. */
GM_EXTERN void gm_manifest_init(struct gm_manifest *m);
/* Frees what m owns and leaves it empty (as after init). */
GM_EXTERN void gm_manifest_release(struct gm_manifest *m);

/*
 * Parses and checks len bytes of ggen.toml text into m (which must be
 * initialized; anything it held is released first). On error m is left
 * empty. Returns GM_OK, GM_EPARSE (TOML syntax), GM_EFORMAT (schema),
 * GM_ELIMIT or GM_ENOMEM; see the top of this file for the diagnostics.
 */
GM_EXTERN gm_err gm_manifest_parse(struct gm_manifest *m, const char *src,
				   size_t len, struct gm_diag *d);
/*
 * Reads <dir_or_file>/ggen.toml when dir_or_file is a folder, or the file
 * itself otherwise (at most GM_MANIFEST_MAX_SIZE bytes, else GM_ELIMIT), and
 * parses it as gm_manifest_parse() does.
 */
GM_EXTERN gm_err gm_manifest_load(struct gm_manifest *m,
				  const char *dir_or_file, struct gm_diag *d);

/* Name of a kind ("template", "validator"); "none" for GM_PACKAGE_NONE. */
GM_EXTERN const char *gm_package_kind_name(enum gm_package_kind k);
/* Name of one capability bit ("fs-read", ...); NULL for anything else. */
GM_EXTERN const char *gm_capability_name(uint32_t cap);

/* Whether len bytes of s form a valid package name or namespace. */
GM_EXTERN bool gm_package_name_valid(const char *s, size_t len);
/*
 * Splits a package id "ns/name" (len bytes) into NUL-terminated ns and name.
 * GM_EINVAL with a message naming the id and the rule it breaks.
 */
GM_EXTERN gm_err gm_package_id_parse(const char *s, size_t len,
				     char ns[GM_PACKAGE_NAME_MAX + 1],
				     char name[GM_PACKAGE_NAME_MAX + 1],
				     struct gm_diag *d);
/*
 * Checks the syntax of an SPDX license expression (len bytes): license ids
 * and LicenseRef-... / DocumentRef-...:LicenseRef-... with an optional
 * trailing '+', "WITH" exception, "AND" / "OR" (upper case) and
 * parentheses. GM_EFORMAT with a message that gives the character position
 * of the problem. Ids are not checked against the SPDX list.
 */
GM_EXTERN gm_err gm_manifest_license_check(const char *s, size_t len,
					   struct gm_diag *d);

#endif
