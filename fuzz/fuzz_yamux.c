/*
 * fuzz_yamux.c - a Yamux server session fed arbitrary peer bytes.
 *
 * Input layout:
 *
 *   offset size  field
 *   0      1     chunk size - 1 (the rest is fed in chunks of this size)
 *   1      ...   bytes from the peer
 *
 * Between chunks the harness acts like an application: it polls every
 * event, reads readable streams (which sends window updates), answers
 * opened streams with a few bytes and closes streams the peer half-closed.
 * Invariants checked:
 *   - every byte of output is a sequence of well-formed frames (version 0,
 *     known type, data frames of at most 64 KiB, whole);
 *   - no stream ever holds more unread data than one window;
 *   - once feed fails it keeps failing with the same error;
 *   - our output, fed to a fresh client session, never makes that client
 *     report a protocol error.
 */
#include "internal.h"

#include "gm/buf.h"
#include "gm/yamux.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_frames(const struct gm_buf *b)
{
	struct gm_yamux_header h;
	size_t off = 0;

	while (off < b->len) {
		if (gm_yamux_parse_header(&h, b->data + off, b->len - off))
			abort();
		off += GM_YAMUX_HEADER_LEN;
		if (h.type != GM_YAMUX_TYPE_DATA)
			continue;
		if (h.length > GM_YAMUX_MAX_FRAME_DATA ||
		    (uint64_t)off + h.length > b->len)
			abort();
		off += h.length;
	}
}

static void act(struct gm_yamux *y)
{
	struct gm_yamux_event ev;
	static uint8_t tmp[4096];
	size_t got, acc;

	while (gm_yamux_poll_event(y, &ev)) {
		switch (ev.type) {
		case GM_YAMUX_EV_STREAM_OPENED:
			gm_yamux_write(y, ev.stream_id, "ok", 2, &acc, NULL);
			if (acc > 2)
				abort();
			break;
		case GM_YAMUX_EV_READABLE:
			if (gm_yamux_readable(y, ev.stream_id) >
			    GM_YAMUX_WINDOW)
				abort();
			do {
				if (gm_yamux_read(y, ev.stream_id, tmp,
						  sizeof(tmp), &got))
					got = 0;
			} while (got);
			break;
		case GM_YAMUX_EV_HALF_CLOSED:
			gm_yamux_close_stream(y, ev.stream_id);
			break;
		case GM_YAMUX_EV_NONE:
			abort();
		default:
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gm_yamux *s, *c;
	struct gm_buf out;
	size_t chunk, off, n;
	uint64_t now = 0;
	gm_err e, failed = GM_OK;

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] + 1;
	data++;
	size--;
	if (gm_yamux_open(&s, GM_YAMUX_SERVER))
		return 0;
	if (gm_yamux_open(&c, GM_YAMUX_CLIENT)) {
		gm_yamux_close(s);
		return 0;
	}
	gm_buf_init(&out, GM_BUF_UNLIMITED);
	for (off = 0; off < size; off += n) {
		n = size - off < chunk ? size - off : chunk;
		e = gm_yamux_feed(s, data + off, n, now++, NULL);
		if (failed && e != failed)
			abort();
		if (e)
			failed = e;
		act(s);
		if (off % 7 == 0)
			gm_yamux_ping(s, now * 100, NULL);
		gm_yamux_tick(s, now * 100);
		gm_buf_reset(&out);
		if (gm_yamux_take_output(s, &out))
			abort();
		check_frames(&out);
		if (gm_yamux_feed(c, out.data, out.len, now, NULL) == GM_EPROTO)
			abort();
		act(c);
		gm_buf_reset(&out);
		gm_yamux_take_output(c, &out);
	}
	gm_buf_release(&out);
	gm_yamux_close(s);
	gm_yamux_close(c);
	return 0;
}
