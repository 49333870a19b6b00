/*
 * fuzz_identify.c - the Identify message decoder. A decoded message, once
 * encoded again and decoded, must give the same fields; encoding that
 * second message must give the same bytes (our encoding is canonical).
 */
#include "internal.h"

#include "gm/buf.h"
#include "gm/identify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct gm_identify *a, const struct gm_identify *b)
{
	size_t i;

	if (a->has_key != b->has_key ||
	    (a->has_key && memcmp(a->pk, b->pk, sizeof(a->pk))) ||
	    a->n_addrs != b->n_addrs || a->n_protocols != b->n_protocols ||
	    a->has_observed != b->has_observed ||
	    !a->protocol_version != !b->protocol_version ||
	    !a->agent_version != !b->agent_version)
		return false;
	for (i = 0; i < a->n_addrs; i++)
		if (!gm_multiaddr_equal(&a->addrs[i], &b->addrs[i]))
			return false;
	for (i = 0; i < a->n_protocols; i++)
		if (strcmp(a->protocols[i], b->protocols[i]))
			return false;
	if (a->protocol_version &&
	    strcmp(a->protocol_version, b->protocol_version))
		return false;
	return !a->agent_version || !strcmp(a->agent_version, b->agent_version);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gm_identify a, b;
	struct gm_buf e1, e2;
	size_t off, len;
	bool complete;

	if (gm_identify_decode(&a, data, size, NULL) != GM_OK) {
		gm_identify_release(&a);
		return 0;
	}
	gm_buf_init(&e1, 1 << 20);
	gm_buf_init(&e2, 1 << 20);
	if (gm_identify_encode(&a, &e1, NULL) != GM_OK)
		abort();
	if (gm_identify_frame(e1.data, e1.len, &complete, &off, &len, NULL) !=
		    GM_OK ||
	    !complete || off + len != e1.len)
		abort();
	if (gm_identify_decode(&b, e1.data + off, len, NULL) != GM_OK ||
	    !same(&a, &b))
		abort();
	if (gm_identify_encode(&b, &e2, NULL) != GM_OK || e1.len != e2.len ||
	    memcmp(e1.data, e2.data, e1.len))
		abort();
	gm_identify_release(&b);
	gm_buf_release(&e2);
	gm_buf_release(&e1);
	gm_identify_release(&a);
	return 0;
}
