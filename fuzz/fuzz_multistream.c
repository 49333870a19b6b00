/*
 * fuzz_multistream.c - multistream-select listener and dialer fed the
 * input, whole and in pieces.
 *
 * The first input byte picks the piece size; the rest is fed to a
 * listener and to a dialer. Invariants checked:
 *   - feeding in pieces gives the same outcome (error code, done state,
 *     protocol, bytes sent and application bytes kept) as feeding whole;
 *   - a failure sets the failed state and a diagnostic, and later feeds
 *     fail too;
 *   - done => the protocol is one of the configured ones, and the bytes
 *     kept are exactly the tail of the input after the last message;
 *   - everything sent splits into well-formed messages, header first.
 */
#include "internal.h"

#include "gm/buf.h"
#include "gm/multistream.h"
#include "gm/varint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const protos[] = {"/noise", "/yamux/1.0.0",
				     "/ipfs/id/1.0.0"};

struct outcome {
	gm_err e;
	bool done;
	const char *proto;
	struct gm_buf out;
	struct gm_buf rest;
};

static void run(bool dialer, const uint8_t *in, size_t len, size_t step,
		struct outcome *o)
{
	struct gm_mss m;
	struct gm_diag d;
	size_t off, n;

	gm_buf_init(&o->out, 1 << 20);
	gm_buf_init(&o->rest, 1 << 20);
	if (dialer) {
		if (gm_mss_init_dialer(&m, protos, 3, NULL))
			abort();
	} else if (gm_mss_init_listener(&m, protos, 3, NULL)) {
		abort();
	}
	o->e = gm_mss_feed(&m, NULL, 0, &o->out, NULL);
	for (off = 0; !o->e && off < len; off += n) {
		n = len - off < step ? len - off : step;
		gm_diag_clear(&d);
		o->e = gm_mss_feed(&m, in + off, n, &o->out, &d);
		if (o->e && (!d.msg[0] || !gm_mss_failed(&m)))
			abort();
	}
	if (o->e && !gm_mss_feed(&m, (const uint8_t *)"x", 1, &o->out, NULL))
		abort();
	o->done = gm_mss_done(&m);
	o->proto = gm_mss_protocol(&m);
	if (o->done != (o->proto != NULL))
		abort();
	if (o->done) {
		if (gm_mss_take_rest(&m, &o->rest))
			abort();
		if (o->rest.len > len ||
		    (o->rest.len &&
		     memcmp(o->rest.data, in + len - o->rest.len, o->rest.len)))
			abort();
	}
	gm_mss_release(&m);
}

/*
 * What we sent must split exactly into well-formed messages
 * (minimal varint length, newline at the end, within the size limit),
 * the first of them the header.
 */
static void check_sent(const struct gm_buf *sent)
{
	size_t off = 0, used, count = 0;
	uint64_t n;

	while (off < sent->len) {
		if (gm_varint_decode(sent->data + off, sent->len - off, &n,
				     &used))
			abort();
		off += used;
		if (n == 0 || n > GM_MSS_MAX_MSG || n > sent->len - off ||
		    sent->data[off + n - 1] != '\n')
			abort();
		if (count++ == 0 &&
		    (n != sizeof(GM_MSS_HEADER) ||
		     memcmp(sent->data + off, GM_MSS_HEADER, n - 1)))
			abort();
		off += (size_t)n;
	}
}

static void one_role(bool dialer, const uint8_t *in, size_t len, size_t step)
{
	struct outcome whole, parts;

	run(dialer, in, len, len ? len : 1, &whole);
	run(dialer, in, len, step, &parts);
	if (whole.e != parts.e || whole.done != parts.done ||
	    whole.proto != parts.proto || whole.out.len != parts.out.len ||
	    (whole.out.len &&
	     memcmp(whole.out.data, parts.out.data, whole.out.len)) ||
	    whole.rest.len != parts.rest.len ||
	    (whole.rest.len &&
	     memcmp(whole.rest.data, parts.rest.data, whole.rest.len)))
		abort();
	check_sent(&whole.out);
	gm_buf_release(&whole.out);
	gm_buf_release(&whole.rest);
	gm_buf_release(&parts.out);
	gm_buf_release(&parts.rest);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t step;

	if (size == 0)
		return 0;
	step = (size_t)(data[0] % 16) + 1;
	one_role(false, data + 1, size - 1, step);
	one_role(true, data + 1, size - 1, step);
	return 0;
}
