/*
 * fuzz_lockfile.c - ggen.lock reader. An accepted lock file must format to
 * canonical text that parses back to an equal lock file, and formatting
 * that again must give the same bytes.
 */
#include "internal.h"

#include "gm/lockfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gm_lockfile a, b;
	struct gm_buf t1, t2;
	struct gm_diag d;

	gm_lockfile_init(&a);
	gm_lockfile_init(&b);
	gm_diag_clear(&d);
	if (gm_lockfile_parse(&a, (const char *)data, size, &d) != GM_OK) {
		if (!d.msg[0])
			abort(); /* every refusal says why */
		return 0;
	}
	gm_buf_init(&t1, GM_LOCKFILE_MAX_SIZE * 2);
	gm_buf_init(&t2, GM_LOCKFILE_MAX_SIZE * 2);
	if (gm_lockfile_format(&a, &t1) != GM_OK)
		abort();
	if (gm_lockfile_parse(&b, (const char *)t1.data, t1.len, &d) != GM_OK)
		abort();
	if (!gm_lockfile_equal(&a, &b) || a.n_reqs != b.n_reqs)
		abort();
	if (gm_lockfile_format(&b, &t2) != GM_OK || t1.len != t2.len ||
	    memcmp(t1.data, t2.data, t1.len))
		abort();
	gm_buf_release(&t2);
	gm_buf_release(&t1);
	gm_lockfile_release(&b);
	gm_lockfile_release(&a);
	return 0;
}
