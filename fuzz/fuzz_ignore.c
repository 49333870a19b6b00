/*
 * fuzz_ignore.c - .ggenignore rules: any text either parses or is refused
 * with a message; parsed rules answer for a few paths derived from the
 * input without crashing, and .git/ is always left out.
 */
#include "internal.h"

#include "gm/ignore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = {
		"a", "a/b", "a/b/c.txt", "build/out.o", ".hidden/x", "x.log",
		"docs/a/b/c.tmp", "deep/er/still/deeper/file",
	};
	struct gm_ignore *ig;
	struct gm_diag d;
	char path[256];
	size_t i;

	gm_diag_clear(&d);
	if (gm_ignore_parse(&ig, (const char *)data, size, &d) != GM_OK) {
		if (!d.msg[0])
			abort();
		return 0;
	}
	for (i = 0; i < GM_ARRAY_LEN(paths); i++) {
		(void)gm_ignore_match(ig, paths[i], false);
		(void)gm_ignore_match(ig, paths[i], true);
	}
	/* a path made of the input's first bytes */
	snprintf(path, sizeof(path), "%.*s", (int)(size < 200 ? size : 200),
		 (const char *)data);
	for (i = 0; path[i]; i++)
		if (path[i] == '\n' || path[i] == '\r')
			path[i] = '/';
	if (path[0])
		(void)gm_ignore_match(ig, path, false);
	if (!gm_ignore_match(ig, ".git/config", false))
		abort();
	gm_ignore_close(ig);
	return 0;
}
