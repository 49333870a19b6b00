/*
 * fuzz_record.c - the DAG-CBOR decoder and the signed record decoder.
 *
 * Invariants checked:
 *   - gm_dagcbor_decode OK => gm_dagcbor_encode of the tree gives back
 *     exactly the input (only canonical DAG-CBOR is accepted);
 *   - gm_record_decode OK => the input was valid DAG-CBOR, and
 *     gm_record_encode of the record gives back exactly the input, whose
 *     signing input verifies against the record's signer;
 *   - errors are only the documented ones.
 */
#include "internal.h"

#include "gm/dagcbor.h"
#include "gm/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gm_dagcbor_doc doc;
	struct gm_record r;
	struct gm_diag d;
	struct gm_buf out;
	gm_err ce, re;

	if (size > GM_RECORD_MAX + 16)
		return 0;
	gm_buf_init(&out, GM_BUF_UNLIMITED);
	ce = gm_dagcbor_decode(&doc, data, size, &d);
	if (ce != GM_OK && ce != GM_EFORMAT && ce != GM_ELIMIT)
		abort();
	if (!ce) {
		if (gm_dagcbor_encode(doc.root, &out, &d) != GM_OK ||
		    out.len != size || memcmp(out.data, data, size) != 0)
			abort();
		gm_dagcbor_doc_release(&doc);
	}
	re = gm_record_decode(&r, data, size, &d);
	if (re != GM_OK && re != GM_EFORMAT && re != GM_ELIMIT &&
	    re != GM_EUNSUPPORTED && re != GM_ESIGNATURE)
		abort();
	if (!re) {
		if (ce)
			abort();
		gm_buf_reset(&out);
		if (gm_record_encode(&r, &out, &d) != GM_OK ||
		    out.len != size || memcmp(out.data, data, size) != 0)
			abort();
		gm_buf_reset(&out);
		if (gm_record_signing_input(&r, &out, &d) != GM_OK ||
		    out.len <= sizeof(GM_RECORD_DOMAIN) - 1)
			abort();
		gm_record_release(&r);
	}
	gm_buf_release(&out);
	return 0;
}
