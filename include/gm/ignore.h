/*
 * ignore.h - which files of a package folder are published.
 *
 * `.git/` and `.ggen/` are always left out. A `.ggenignore` file at the
 * package root adds patterns, one per line, with gitignore's rules for the
 * common cases:
 *
 *   | line          | meaning                                              |
 *   |---------------|------------------------------------------------------|
 *   | `# text`      | a comment; blank lines are ignored                   |
 *   | `*.log`       | no '/' inside: matches the name at any depth         |
 *   | `/build`      | leading '/': anchored at the package root            |
 *   | `docs/x.tmp`  | a '/' inside: matched against the whole relative path|
 *   | `out/`        | trailing '/': folders only                           |
 *   | `!keep.log`   | re-includes what an earlier pattern left out         |
 *   | `**`          | any number of folders: `a/ ** /b`, `** /x` (written  |
 *   |               | without the spaces)                                  |
 *
 * The last matching pattern decides. Matching uses fnmatch(3) with
 * FNM_PATHNAME, plus the `**` forms above.
 */
#ifndef GM_IGNORE_H
#define GM_IGNORE_H

#include "gm/gm.h"

#define GM_IGNORE_FILE ".ggenignore"
#define GM_IGNORE_MAX_PATTERNS 1024

struct gm_ignore;

/*
 * Loads <root>/.ggenignore if present (no file means only the built-in
 * rules). GM_ELIMIT past GM_IGNORE_MAX_PATTERNS or 64 KiB.
 */
GM_EXTERN gm_err gm_ignore_open(struct gm_ignore **out, const char *root,
				struct gm_diag *d);
/* Builds the rules from text (tests). */
GM_EXTERN gm_err gm_ignore_parse(struct gm_ignore **out, const char *text,
				 size_t len, struct gm_diag *d);
GM_EXTERN void gm_ignore_close(struct gm_ignore *ig);
/* Whether rel ("a/b.txt", no leading '/') is left out. */
GM_EXTERN bool gm_ignore_match(const struct gm_ignore *ig, const char *rel,
			       bool is_dir);

#endif
