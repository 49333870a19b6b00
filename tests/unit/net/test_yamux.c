/*
 * test_yamux.c - tests of the Yamux core (src/net/yamux.c).
 *
 * Most tests wire a client and a server session together in memory: pump()
 * moves each side's output into the other until both are quiet, checking on
 * the way that every frame parses and no data frame exceeds 64 KiB. Crafted
 * frames (hdr()) play a misbehaving peer.
 */
#include "harness.h"

#include "gm/alloc.h"
#include "gm/buf.h"
#include "gm/yamux.h"

struct pair {
	struct gm_yamux *c, *s;
};

static void pair_open(struct pair *p)
{
	ASSERT_OK(gm_yamux_open(&p->c, GM_YAMUX_CLIENT));
	ASSERT_OK(gm_yamux_open(&p->s, GM_YAMUX_SERVER));
}

static void pair_close(struct pair *p)
{
	gm_yamux_close(p->c);
	gm_yamux_close(p->s);
}

/* Every frame in b parses; data frames carry at most 64 KiB. */
static void check_frames(const struct gm_buf *b)
{
	struct gm_yamux_header h;
	size_t off = 0;

	while (off < b->len) {
		ASSERT_OK(
		    gm_yamux_parse_header(&h, b->data + off, b->len - off));
		off += GM_YAMUX_HEADER_LEN;
		if (h.type == GM_YAMUX_TYPE_DATA) {
			ASSERT(h.length <= GM_YAMUX_MAX_FRAME_DATA);
			ASSERT((uint64_t)off + h.length <= b->len);
			off += h.length;
		}
	}
	ASSERT_EQ(off, b->len);
}

/* Moves output from one side to the other until both are quiet. */
static void pump_at(struct pair *p, uint64_t now)
{
	struct gm_buf b;
	struct gm_diag d;
	bool moved = true;

	gm_buf_init(&b, GM_BUF_UNLIMITED);
	while (moved) {
		moved = false;
		gm_buf_reset(&b);
		ASSERT_OK(gm_yamux_take_output(p->c, &b));
		if (b.len) {
			check_frames(&b);
			ASSERT_OK(gm_yamux_feed(p->s, b.data, b.len, now, &d));
			moved = true;
		}
		gm_buf_reset(&b);
		ASSERT_OK(gm_yamux_take_output(p->s, &b));
		if (b.len) {
			check_frames(&b);
			ASSERT_OK(gm_yamux_feed(p->c, b.data, b.len, now, &d));
			moved = true;
		}
	}
	gm_buf_release(&b);
}

static void pump(struct pair *p)
{
	pump_at(p, 0);
}

/* Next event must be of this type and stream; returns its value. */
static uint32_t expect_ev(struct gm_yamux *y, enum gm_yamux_event_type t,
			  uint32_t id)
{
	struct gm_yamux_event ev;

	ASSERT(gm_yamux_poll_event(y, &ev));
	ASSERT_EQ(ev.type, t);
	ASSERT_EQ(ev.stream_id, id);
	return ev.value;
}

static void expect_no_ev(struct gm_yamux *y)
{
	struct gm_yamux_event ev;

	ASSERT(!gm_yamux_poll_event(y, &ev));
	ASSERT_EQ(ev.type, GM_YAMUX_EV_NONE);
}

static size_t hdr(uint8_t *p, uint8_t type, uint16_t flags, uint32_t id,
		  uint32_t len)
{
	p[0] = 0;
	p[1] = type;
	p[2] = (uint8_t)(flags >> 8);
	p[3] = (uint8_t)flags;
	p[4] = (uint8_t)(id >> 24);
	p[5] = (uint8_t)(id >> 16);
	p[6] = (uint8_t)(id >> 8);
	p[7] = (uint8_t)id;
	p[8] = (uint8_t)(len >> 24);
	p[9] = (uint8_t)(len >> 16);
	p[10] = (uint8_t)(len >> 8);
	p[11] = (uint8_t)len;
	return GM_YAMUX_HEADER_LEN;
}

static void take(struct gm_yamux *y, struct gm_buf *b)
{
	gm_buf_reset(b);
	ASSERT_OK(gm_yamux_take_output(y, b));
}

/* Asserts the output of y is exactly one go away with code. */
static void expect_go_away(struct gm_yamux *y, uint32_t code)
{
	struct gm_buf b;
	uint8_t want[12];

	gm_buf_init(&b, GM_BUF_UNLIMITED);
	take(y, &b);
	hdr(want, GM_YAMUX_TYPE_GO_AWAY, 0, 0, code);
	ASSERT_EQ(b.len, 12);
	ASSERT_MEMEQ(b.data, want, 12);
	gm_buf_release(&b);
}

static void write_all(struct gm_yamux *y, uint32_t id, const char *s)
{
	size_t acc;

	ASSERT_OK(gm_yamux_write(y, id, s, strlen(s), &acc, NULL));
	ASSERT_EQ(acc, strlen(s));
}

static void read_expect(struct gm_yamux *y, uint32_t id, const char *s)
{
	char buf[256];
	size_t got;

	ASSERT_OK(gm_yamux_read(y, id, buf, sizeof(buf), &got));
	ASSERT_EQ(got, strlen(s));
	ASSERT_MEMEQ(buf, s, got);
}

TEST(header_parse)
{
	static const uint8_t f[12] = {0, 1, 0, 3, 0, 0, 0, 7, 0, 4, 0, 0};
	struct gm_yamux_header h;
	uint8_t bad[12];

	ASSERT_OK(gm_yamux_parse_header(&h, f, sizeof(f)));
	ASSERT_EQ(h.type, GM_YAMUX_TYPE_WINDOW_UPDATE);
	ASSERT_EQ(h.flags, GM_YAMUX_SYN | GM_YAMUX_ACK);
	ASSERT_EQ(h.stream_id, 7);
	ASSERT_EQ(h.length, 262144);
	ASSERT_ERR(gm_yamux_parse_header(&h, f, 11), GM_EFORMAT);
	memcpy(bad, f, 12);
	bad[0] = 1;
	ASSERT_ERR(gm_yamux_parse_header(&h, bad, 12), GM_EFORMAT);
	bad[0] = 0;
	bad[1] = 4;
	ASSERT_ERR(gm_yamux_parse_header(&h, bad, 12), GM_EFORMAT);
}

TEST(open_from_client_and_talk)
{
	struct pair p;
	struct gm_buf b;
	uint8_t want[12];
	uint32_t id;

	pair_open(&p);
	gm_buf_init(&b, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_yamux_open_stream(p.c, &id, NULL));
	ASSERT_EQ(id, 1);
	ASSERT_EQ(gm_yamux_stream_state(p.c, 1), GM_YAMUX_SYN_SENT);
	/* exact bytes of the SYN: window update, flag SYN, stream 1, 0 */
	take(p.c, &b);
	hdr(want, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_SYN, 1, 0);
	ASSERT_EQ(b.len, 12);
	ASSERT_MEMEQ(b.data, want, 12);
	ASSERT_OK(gm_yamux_feed(p.s, b.data, b.len, 0, NULL));
	expect_ev(p.s, GM_YAMUX_EV_STREAM_OPENED, 1);
	ASSERT_EQ(gm_yamux_stream_state(p.s, 1), GM_YAMUX_ESTABLISHED);
	take(p.s, &b);
	hdr(want, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_ACK, 1, 0);
	ASSERT_EQ(b.len, 12);
	ASSERT_MEMEQ(b.data, want, 12);
	ASSERT_OK(gm_yamux_feed(p.c, b.data, b.len, 0, NULL));
	ASSERT_EQ(gm_yamux_stream_state(p.c, 1), GM_YAMUX_ESTABLISHED);

	write_all(p.c, 1, "hello server");
	pump(&p);
	expect_ev(p.s, GM_YAMUX_EV_READABLE, 1);
	ASSERT_EQ(gm_yamux_readable(p.s, 1), 12);
	read_expect(p.s, 1, "hello server");
	write_all(p.s, 1, "hello client");
	pump(&p);
	expect_ev(p.c, GM_YAMUX_EV_READABLE, 1);
	read_expect(p.c, 1, "hello client");
	expect_no_ev(p.c);
	expect_no_ev(p.s);
	gm_buf_release(&b);
	pair_close(&p);
}

TEST(open_from_server)
{
	struct pair p;
	uint32_t a, b;

	pair_open(&p);
	ASSERT_OK(gm_yamux_open_stream(p.s, &a, NULL));
	ASSERT_OK(gm_yamux_open_stream(p.s, &b, NULL));
	ASSERT_EQ(a, 2);
	ASSERT_EQ(b, 4);
	write_all(p.s, 2, "two");
	write_all(p.s, 4, "four");
	pump(&p);
	expect_ev(p.c, GM_YAMUX_EV_STREAM_OPENED, 2);
	expect_ev(p.c, GM_YAMUX_EV_STREAM_OPENED, 4);
	expect_ev(p.c, GM_YAMUX_EV_READABLE, 2);
	expect_ev(p.c, GM_YAMUX_EV_READABLE, 4);
	read_expect(p.c, 4, "four");
	read_expect(p.c, 2, "two");
	ASSERT_EQ(gm_yamux_stream_state(p.s, 2), GM_YAMUX_ESTABLISHED);
	write_all(p.c, 2, "back");
	pump(&p);
	expect_ev(p.s, GM_YAMUX_EV_READABLE, 2);
	read_expect(p.s, 2, "back");
	ASSERT_EQ(gm_yamux_stream_count(p.c), 2);
	pair_close(&p);
}

TEST(hundred_streams_one_mib_each)
{
	enum { N = 100, SZ = 1024 * 1024, SHIFT = 97 };
	/* stream i carries pat[i * SHIFT ...], so each stream differs */
	static uint8_t pat[SZ + N * SHIFT];
	static uint8_t rd[GM_YAMUX_WINDOW];
	static size_t sent[N], rcvd[N];
	uint32_t ids[N], x = 12345;
	struct pair p;
	struct gm_yamux_event ev;
	size_t i, acc, got, done = 0;
	int rounds = 0;

	for (i = 0; i < sizeof(pat); i++) {
		x = x * 1103515245u + 12345u;
		pat[i] = (uint8_t)(x >> 16);
	}
	pair_open(&p);
	for (i = 0; i < N; i++) {
		/* half opened by each side */
		ASSERT_OK(
		    gm_yamux_open_stream(i % 2 ? p.s : p.c, &ids[i], NULL));
	}
	pump(&p);
	while (done < N) {
		ASSERT(++rounds < 10000);
		for (i = 0; i < N; i++) {
			struct gm_yamux *w = i % 2 ? p.s : p.c;

			ASSERT_OK(gm_yamux_write(w, ids[i],
						 pat + i * SHIFT + sent[i],
						 SZ - sent[i], &acc, NULL));
			ASSERT(acc <= GM_YAMUX_WINDOW);
			sent[i] += acc;
		}
		pump(&p);
		for (i = 0; i < N; i++) {
			struct gm_yamux *r = i % 2 ? p.c : p.s;

			for (;;) {
				ASSERT_OK(gm_yamux_read(r, ids[i], rd,
							sizeof(rd), &got));
				if (!got)
					break;
				ASSERT(rcvd[i] + got <= SZ);
				ASSERT_MEMEQ(rd, pat + i * SHIFT + rcvd[i],
					     got);
				rcvd[i] += got;
				if (rcvd[i] == SZ)
					done++;
			}
		}
		pump(&p);
		while (gm_yamux_poll_event(p.c, &ev))
			ASSERT(ev.type != GM_YAMUX_EV_ERROR);
		while (gm_yamux_poll_event(p.s, &ev))
			ASSERT(ev.type != GM_YAMUX_EV_ERROR);
	}
	for (i = 0; i < N; i++)
		ASSERT_EQ(sent[i], SZ);
	/* four rounds at least: one window per round per stream */
	ASSERT(rounds >= (int)(SZ / GM_YAMUX_WINDOW));
	pair_close(&p);
}

TEST(window_exhaustion_and_resume)
{
	static uint8_t big[300 * 1024], rd[300 * 1024];
	struct pair p;
	uint32_t id;
	size_t acc, got;

	memset(big, 'x', sizeof(big));
	pair_open(&p);
	ASSERT_OK(gm_yamux_open_stream(p.c, &id, NULL));
	ASSERT_OK(gm_yamux_write(p.c, id, big, sizeof(big), &acc, NULL));
	ASSERT_EQ(acc, GM_YAMUX_WINDOW);
	ASSERT_EQ(gm_yamux_send_window(p.c, id), 0);
	ASSERT_OK(gm_yamux_write(p.c, id, big, 10, &acc, NULL));
	ASSERT_EQ(acc, 0);
	pump(&p);
	expect_ev(p.s, GM_YAMUX_EV_STREAM_OPENED, id);
	expect_ev(p.s, GM_YAMUX_EV_READABLE, id);
	ASSERT_EQ(gm_yamux_readable(p.s, id), GM_YAMUX_WINDOW);
	/* less than half a window consumed: no update yet */
	ASSERT_OK(gm_yamux_read(p.s, id, rd, 100 * 1024, &got));
	ASSERT_EQ(got, 100 * 1024);
	ASSERT_EQ(gm_yamux_output_len(p.s), 0);
	pump(&p);
	ASSERT_EQ(gm_yamux_send_window(p.c, id), 0);
	expect_no_ev(p.c);
	/* crossing half the window sends an update of what was consumed */
	ASSERT_OK(gm_yamux_read(p.s, id, rd, 28 * 1024, &got));
	ASSERT_EQ(gm_yamux_output_len(p.s), 12);
	pump(&p);
	ASSERT_EQ(gm_yamux_send_window(p.c, id), 128 * 1024);
	expect_ev(p.c, GM_YAMUX_EV_WRITABLE, id);
	expect_no_ev(p.c);
	ASSERT_OK(gm_yamux_write(p.c, id, big, sizeof(big), &acc, NULL));
	ASSERT_EQ(acc, 128 * 1024);
	pump(&p);
	ASSERT_EQ(gm_yamux_readable(p.s, id), GM_YAMUX_WINDOW);
	pair_close(&p);
}

TEST(fin_from_client)
{
	struct pair p;
	uint32_t id;
	size_t acc, got;
	char buf[8];

	pair_open(&p);
	ASSERT_OK(gm_yamux_open_stream(p.c, &id, NULL));
	write_all(p.c, id, "bye");
	ASSERT_OK(gm_yamux_close_stream(p.c, id));
	ASSERT_EQ(gm_yamux_stream_state(p.c, id), GM_YAMUX_LOCAL_CLOSE);
	ASSERT_ERR(gm_yamux_write(p.c, id, "x", 1, &acc, NULL), GM_EINVAL);
	ASSERT_ERR(gm_yamux_close_stream(p.c, id), GM_EINVAL);
	pump(&p);
	expect_ev(p.s, GM_YAMUX_EV_STREAM_OPENED, id);
	expect_ev(p.s, GM_YAMUX_EV_READABLE, id);
	expect_ev(p.s, GM_YAMUX_EV_HALF_CLOSED, id);
	ASSERT_EQ(gm_yamux_stream_state(p.s, id), GM_YAMUX_REMOTE_CLOSE);
	read_expect(p.s, id, "bye");
	ASSERT_OK(gm_yamux_read(p.s, id, buf, sizeof(buf), &got));
	ASSERT_EQ(got, 0); /* end of stream */
	/* the server may still answer */
	write_all(p.s, id, "ok");
	pump(&p);
	expect_ev(p.c, GM_YAMUX_EV_READABLE, id);
	read_expect(p.c, id, "ok");
	pair_close(&p);
}

TEST(fin_from_server_then_both)
{
	struct pair p;
	uint32_t id;
	size_t got;
	char buf[8];

	pair_open(&p);
	ASSERT_OK(gm_yamux_open_stream(p.c, &id, NULL));
	pump(&p);
	expect_ev(p.s, GM_YAMUX_EV_STREAM_OPENED, id);
	write_all(p.s, id, "last");
	ASSERT_OK(gm_yamux_close_stream(p.s, id));
	pump(&p);
	expect_ev(p.c, GM_YAMUX_EV_READABLE, id);
	expect_ev(p.c, GM_YAMUX_EV_HALF_CLOSED, id);
	ASSERT_EQ(gm_yamux_stream_state(p.c, id), GM_YAMUX_REMOTE_CLOSE);
	ASSERT_OK(gm_yamux_close_stream(p.c, id));
	/* closed both ways but data unread: still there */
	ASSERT_EQ(gm_yamux_stream_state(p.c, id), GM_YAMUX_CLOSED);
	ASSERT_EQ(gm_yamux_stream_count(p.c), 1);
	read_expect(p.c, id, "last");
	ASSERT_EQ(gm_yamux_stream_count(p.c), 0);
	ASSERT_ERR(gm_yamux_read(p.c, id, buf, sizeof(buf), &got), GM_ENOENT);
	/* a closed, forgotten stream cannot be reset any more */
	ASSERT_ERR(gm_yamux_reset_stream(p.c, id), GM_ENOENT);
	ASSERT_EQ(gm_yamux_output_len(p.c), 12); /* only the FIN */
	pump(&p);
	expect_ev(p.s, GM_YAMUX_EV_HALF_CLOSED, id);
	ASSERT_EQ(gm_yamux_stream_count(p.s), 0);
	pair_close(&p);
}

TEST(fin_simultaneous)
{
	struct pair p;
	uint32_t id;

	pair_open(&p);
	ASSERT_OK(gm_yamux_open_stream(p.c, &id, NULL));
	pump(&p);
	expect_ev(p.s, GM_YAMUX_EV_STREAM_OPENED, id);
	ASSERT_OK(gm_yamux_close_stream(p.c, id));
	ASSERT_OK(gm_yamux_close_stream(p.s, id));
	pump(&p);
	expect_ev(p.s, GM_YAMUX_EV_HALF_CLOSED, id);
	expect_ev(p.c, GM_YAMUX_EV_HALF_CLOSED, id);
	ASSERT_EQ(gm_yamux_stream_count(p.s), 0);
	ASSERT_EQ(gm_yamux_stream_count(p.c), 0);
	pair_close(&p);
}

TEST(data_after_fin_is_protocol_error)
{
	struct gm_yamux *s;
	struct gm_diag d;
	uint8_t f[64];
	size_t n = 0;
	struct gm_yamux_event ev;

	ASSERT_OK(gm_yamux_open(&s, GM_YAMUX_SERVER));
	n += hdr(f + n, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_SYN, 1, 0);
	n += hdr(f + n, GM_YAMUX_TYPE_DATA, GM_YAMUX_FIN, 1, 2);
	f[n++] = 'h';
	f[n++] = 'i';
	ASSERT_OK(gm_yamux_feed(s, f, n, 0, &d));
	n = hdr(f, GM_YAMUX_TYPE_DATA, 0, 1, 1);
	f[n++] = '!';
	gm_diag_clear(&d);
	ASSERT_ERR(gm_yamux_feed(s, f, n, 0, &d), GM_EPROTO);
	ASSERT(strstr(d.msg, "after FIN"));
	expect_ev(s, GM_YAMUX_EV_STREAM_OPENED, 1);
	expect_ev(s, GM_YAMUX_EV_READABLE, 1);
	expect_ev(s, GM_YAMUX_EV_HALF_CLOSED, 1);
	ASSERT(gm_yamux_poll_event(s, &ev));
	ASSERT_EQ(ev.type, GM_YAMUX_EV_ERROR);
	ASSERT_EQ(ev.err, GM_EPROTO);
	gm_yamux_close(s);
}

TEST(second_fin_is_protocol_error)
{
	struct gm_yamux *s;
	uint8_t f[48];
	size_t n = 0;

	ASSERT_OK(gm_yamux_open(&s, GM_YAMUX_SERVER));
	n += hdr(f + n, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_SYN, 1, 0);
	n += hdr(f + n, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_FIN, 1, 0);
	n += hdr(f + n, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_FIN, 1, 0);
	ASSERT_ERR(gm_yamux_feed(s, f, n, 0, NULL), GM_EPROTO);
	gm_yamux_close(s);
}

TEST(rst_in_each_state)
{
	struct pair p;
	uint32_t id;
	size_t acc;

	pair_open(&p);
	/* SYN sent, not yet seen: the server sees open then reset */
	ASSERT_OK(gm_yamux_open_stream(p.c, &id, NULL));
	ASSERT_OK(gm_yamux_reset_stream(p.c, id));
	ASSERT_ERR(gm_yamux_write(p.c, id, "x", 1, &acc, NULL), GM_ENOENT);
	pump(&p);
	expect_ev(p.s, GM_YAMUX_EV_STREAM_OPENED, id);
	expect_ev(p.s, GM_YAMUX_EV_RESET, id);
	ASSERT_EQ(gm_yamux_stream_count(p.s), 0);
	expect_no_ev(p.c); /* the ACK for a forgotten stream is ignored */

	/* established, reset by the server, with unread data dropped */
	ASSERT_OK(gm_yamux_open_stream(p.c, &id, NULL));
	write_all(p.c, id, "data");
	pump(&p);
	expect_ev(p.s, GM_YAMUX_EV_STREAM_OPENED, id);
	expect_ev(p.s, GM_YAMUX_EV_READABLE, id);
	write_all(p.s, id, "unread");
	ASSERT_OK(gm_yamux_reset_stream(p.s, id));
	pump(&p);
	/* READABLE for a reset stream is dropped; RESET is delivered */
	expect_ev(p.c, GM_YAMUX_EV_RESET, id);
	expect_no_ev(p.c);
	ASSERT_EQ(gm_yamux_stream_state(p.c, id), GM_YAMUX_CLOSED);
	ASSERT_EQ(gm_yamux_stream_count(p.c), 0);

	/* local close (FIN sent), then reset by the peer */
	ASSERT_OK(gm_yamux_open_stream(p.c, &id, NULL));
	ASSERT_OK(gm_yamux_close_stream(p.c, id));
	pump(&p);
	expect_ev(p.s, GM_YAMUX_EV_STREAM_OPENED, id);
	expect_ev(p.s, GM_YAMUX_EV_HALF_CLOSED, id);
	ASSERT_OK(gm_yamux_reset_stream(p.s, id));
	pump(&p);
	expect_ev(p.c, GM_YAMUX_EV_RESET, id);
	ASSERT_EQ(gm_yamux_stream_count(p.c), 0);

	/* remote close (FIN received), then reset locally */
	ASSERT_OK(gm_yamux_open_stream(p.c, &id, NULL));
	pump(&p);
	expect_ev(p.s, GM_YAMUX_EV_STREAM_OPENED, id);
	ASSERT_OK(gm_yamux_close_stream(p.s, id));
	pump(&p);
	expect_ev(p.c, GM_YAMUX_EV_HALF_CLOSED, id);
	ASSERT_EQ(gm_yamux_stream_state(p.c, id), GM_YAMUX_REMOTE_CLOSE);
	ASSERT_OK(gm_yamux_reset_stream(p.c, id));
	ASSERT_ERR(gm_yamux_reset_stream(p.c, id), GM_ENOENT);
	pump(&p);
	expect_ev(p.s, GM_YAMUX_EV_RESET, id);
	ASSERT_EQ(gm_yamux_stream_count(p.s), 0);
	ASSERT_EQ(gm_yamux_stream_count(p.c), 0);
	expect_no_ev(p.c);
	expect_no_ev(p.s);
	pair_close(&p);
}

TEST(rst_refused_syn_sent_stream)
{
	struct gm_yamux *c;
	uint8_t f[12];
	uint32_t id;

	/* a peer refusing our SYN with RST before any ACK */
	ASSERT_OK(gm_yamux_open(&c, GM_YAMUX_CLIENT));
	ASSERT_OK(gm_yamux_open_stream(c, &id, NULL));
	hdr(f, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_RST, id, 0);
	ASSERT_OK(gm_yamux_feed(c, f, 12, 0, NULL));
	expect_ev(c, GM_YAMUX_EV_RESET, id);
	ASSERT_EQ(gm_yamux_stream_count(c), 0);
	gm_yamux_close(c);
}

TEST(window_violation_is_protocol_error)
{
	static uint8_t f[GM_YAMUX_WINDOW + 64];
	struct gm_yamux *s;
	struct gm_diag d;
	struct gm_yamux_event ev;
	size_t n = 0;

	ASSERT_OK(gm_yamux_open(&s, GM_YAMUX_SERVER));
	n += hdr(f + n, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_SYN, 1, 0);
	ASSERT_OK(gm_yamux_feed(s, f, n, 0, &d));
	ASSERT_EQ(gm_yamux_output_len(s), 12);
	{
		struct gm_buf ack;

		gm_buf_init(&ack, GM_BUF_UNLIMITED);
		take(s, &ack); /* drop the ACK */
		gm_buf_release(&ack);
	}
	/* 128 KiB fits, then 128 KiB + 1 does not */
	n = hdr(f, GM_YAMUX_TYPE_DATA, 0, 1, 128 * 1024);
	ASSERT_OK(gm_yamux_feed(s, f, n + 128 * 1024, 0, &d));
	n = hdr(f, GM_YAMUX_TYPE_DATA, 0, 1, 128 * 1024 + 1);
	gm_diag_clear(&d);
	ASSERT_ERR(gm_yamux_feed(s, f, n, 0, &d), GM_EPROTO);
	ASSERT(strstr(d.msg, "beyond its window"));
	expect_go_away(s, GM_YAMUX_GO_AWAY_PROTOCOL);
	expect_ev(s, GM_YAMUX_EV_STREAM_OPENED, 1);
	expect_ev(s, GM_YAMUX_EV_READABLE, 1);
	ASSERT(gm_yamux_poll_event(s, &ev));
	ASSERT_EQ(ev.type, GM_YAMUX_EV_ERROR);
	ASSERT_EQ(ev.err, GM_EPROTO);
	/* the session stays failed */
	ASSERT_ERR(gm_yamux_feed(s, f, 1, 0, &d), GM_EPROTO);
	ASSERT_ERR(gm_yamux_open_stream(s, &(uint32_t){0}, NULL), GM_EPROTO);
	gm_yamux_close(s);
}

TEST(ping_answered_with_same_opaque)
{
	struct gm_yamux *s;
	struct gm_buf b;
	uint8_t f[12], want[12];

	ASSERT_OK(gm_yamux_open(&s, GM_YAMUX_SERVER));
	gm_buf_init(&b, GM_BUF_UNLIMITED);
	hdr(f, GM_YAMUX_TYPE_PING, GM_YAMUX_SYN, 0, 0xdeadbeef);
	ASSERT_OK(gm_yamux_feed(s, f, 12, 0, NULL));
	take(s, &b);
	hdr(want, GM_YAMUX_TYPE_PING, GM_YAMUX_ACK, 0, 0xdeadbeef);
	ASSERT_EQ(b.len, 12);
	ASSERT_MEMEQ(b.data, want, 12);
	/* an ACK nobody asked for is ignored */
	hdr(f, GM_YAMUX_TYPE_PING, GM_YAMUX_ACK, 0, 77);
	ASSERT_OK(gm_yamux_feed(s, f, 12, 0, NULL));
	expect_no_ev(s);
	ASSERT_EQ(gm_yamux_output_len(s), 0);
	/* ping on a stream id is a protocol error */
	hdr(f, GM_YAMUX_TYPE_PING, GM_YAMUX_SYN, 1, 5);
	ASSERT_ERR(gm_yamux_feed(s, f, 12, 0, NULL), GM_EPROTO);
	gm_buf_release(&b);
	gm_yamux_close(s);
}

TEST(ping_rtt)
{
	struct pair p;
	struct gm_buf b;
	uint32_t op1, op2;

	pair_open(&p);
	gm_buf_init(&b, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_yamux_ping(p.c, 1000, &op1));
	ASSERT_OK(gm_yamux_ping(p.c, 1100, &op2));
	ASSERT(op1 != op2);
	take(p.c, &b);
	ASSERT_OK(gm_yamux_feed(p.s, b.data, b.len, 0, NULL));
	take(p.s, &b);
	ASSERT_EQ(b.len, 24);
	/* the answers arrive at 1250 */
	ASSERT_OK(gm_yamux_feed(p.c, b.data, b.len, 1250, NULL));
	ASSERT_EQ(expect_ev(p.c, GM_YAMUX_EV_PING_RTT, 0), 250);
	ASSERT_EQ(expect_ev(p.c, GM_YAMUX_EV_PING_RTT, 0), 150);
	expect_no_ev(p.c);
	expect_no_ev(p.s);
	gm_buf_release(&b);
	pair_close(&p);
}

TEST(ping_limit)
{
	struct gm_yamux *c;
	int i;

	ASSERT_OK(gm_yamux_open(&c, GM_YAMUX_CLIENT));
	for (i = 0; i < GM_YAMUX_MAX_PINGS; i++)
		ASSERT_OK(gm_yamux_ping(c, 0, NULL));
	ASSERT_ERR(gm_yamux_ping(c, 0, NULL), GM_ELIMIT);
	gm_yamux_close(c);
}

TEST(keepalive)
{
	struct pair p;
	struct gm_buf b;
	struct gm_yamux_header h;

	pair_open(&p);
	gm_buf_init(&b, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_yamux_tick(p.c, 5000));
	ASSERT_OK(gm_yamux_tick(p.c, 5000 + GM_YAMUX_KEEPALIVE_MS - 1));
	ASSERT_EQ(gm_yamux_output_len(p.c), 0);
	ASSERT_OK(gm_yamux_tick(p.c, 5000 + GM_YAMUX_KEEPALIVE_MS));
	take(p.c, &b);
	ASSERT_EQ(b.len, 12);
	ASSERT_OK(gm_yamux_parse_header(&h, b.data, b.len));
	ASSERT_EQ(h.type, GM_YAMUX_TYPE_PING);
	ASSERT_EQ(h.flags, GM_YAMUX_SYN);
	/* no second ping while one is outstanding */
	ASSERT_OK(gm_yamux_tick(p.c, 5000 + 2 * GM_YAMUX_KEEPALIVE_MS));
	ASSERT_EQ(gm_yamux_output_len(p.c), 0);
	ASSERT_OK(gm_yamux_feed(p.s, b.data, b.len, 0, NULL));
	pump_at(&p, 5000 + GM_YAMUX_KEEPALIVE_MS + 42);
	ASSERT_EQ(expect_ev(p.c, GM_YAMUX_EV_PING_RTT, 0), 42);
	/* the next keepalive goes out one interval after the last ping */
	ASSERT_OK(gm_yamux_tick(p.c, 5000 + 2 * GM_YAMUX_KEEPALIVE_MS));
	ASSERT_EQ(gm_yamux_output_len(p.c), 12);
	/* never answered: the session times out */
	ASSERT_OK(gm_yamux_tick(p.c, 5000 + 2 * GM_YAMUX_KEEPALIVE_MS +
					 GM_YAMUX_PING_TIMEOUT_MS - 1));
	take(p.c, &b);
	ASSERT_ERR(gm_yamux_tick(p.c, 5000 + 2 * GM_YAMUX_KEEPALIVE_MS +
					  GM_YAMUX_PING_TIMEOUT_MS),
		   GM_ETIMEOUT);
	expect_go_away(p.c, GM_YAMUX_GO_AWAY_INTERNAL);
	expect_ev(p.c, GM_YAMUX_EV_ERROR, 0);
	gm_buf_release(&b);
	pair_close(&p);
}

TEST(go_away_then_open_refused)
{
	struct pair p;
	struct gm_diag d;
	uint32_t id, id2;
	uint8_t f[12];
	struct gm_buf b;

	pair_open(&p);
	gm_buf_init(&b, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_yamux_open_stream(p.c, &id, NULL));
	pump(&p);
	expect_ev(p.s, GM_YAMUX_EV_STREAM_OPENED, id);
	ASSERT_ERR(gm_yamux_go_away(p.s, 3), GM_EINVAL);
	ASSERT_OK(gm_yamux_go_away(p.s, GM_YAMUX_GO_AWAY_NORMAL));
	pump(&p);
	ASSERT(gm_yamux_peer_went_away(p.c));
	ASSERT_EQ(expect_ev(p.c, GM_YAMUX_EV_GO_AWAY, 0), 0);
	ASSERT_ERR(gm_yamux_open_stream(p.c, &id2, &d), GM_EPERM);
	ASSERT(strstr(d.msg, "go away"));
	ASSERT_ERR(gm_yamux_open_stream(p.s, &id2, NULL), GM_EPERM);
	/* existing streams still work */
	write_all(p.c, id, "still");
	pump(&p);
	expect_ev(p.s, GM_YAMUX_EV_READABLE, id);
	read_expect(p.s, id, "still");
	/* a peer ignoring our go away gets its SYN refused with RST */
	hdr(f, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_SYN, 3, 0);
	ASSERT_OK(gm_yamux_feed(p.s, f, 12, 0, NULL));
	expect_no_ev(p.s);
	take(p.s, &b);
	hdr(f, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_RST, 3, 0);
	ASSERT_EQ(b.len, 12);
	ASSERT_MEMEQ(b.data, f, 12);
	gm_buf_release(&b);
	pair_close(&p);
}

TEST(inbound_stream_limit)
{
	struct pair p;
	uint32_t id = 0;
	int i;

	pair_open(&p);
	for (i = 0; i < GM_YAMUX_MAX_INBOUND + 1; i++)
		ASSERT_OK(gm_yamux_open_stream(p.c, &id, NULL));
	pump(&p);
	for (i = 0; i < GM_YAMUX_MAX_INBOUND; i++)
		expect_ev(p.s, GM_YAMUX_EV_STREAM_OPENED, 2u * (uint32_t)i + 1);
	expect_no_ev(p.s);
	ASSERT_EQ(gm_yamux_stream_count(p.s), GM_YAMUX_MAX_INBOUND);
	expect_ev(p.c, GM_YAMUX_EV_RESET, id);
	ASSERT_EQ(gm_yamux_stream_count(p.c), GM_YAMUX_MAX_INBOUND);
	/* closing one makes room for a new one */
	ASSERT_OK(gm_yamux_reset_stream(p.c, 1));
	ASSERT_OK(gm_yamux_open_stream(p.c, &id, NULL));
	pump(&p);
	expect_ev(p.s, GM_YAMUX_EV_RESET, 1);
	expect_ev(p.s, GM_YAMUX_EV_STREAM_OPENED, id);
	ASSERT_EQ(gm_yamux_stream_state(p.c, id), GM_YAMUX_ESTABLISHED);
	pair_close(&p);
}

TEST(bad_frames_are_protocol_errors)
{
	static const struct {
		uint8_t version, type;
		uint16_t flags;
		uint32_t id;
		const char *msg;
	} cases[] = {
	    {1, 0, 0, 1, "version"},
	    {0, 4, 0, 0, "unknown frame type"},
	    {0, 0xff, 0, 0, "unknown frame type"},
	    {0, 0, 0, 0, "stream 0"},
	    {0, 1, 0, 0, "stream 0"},
	    {0, 3, 0, 5, "go away on stream"},
	    {0, 1, GM_YAMUX_SYN, 2, "wrong-parity"},
	};
	size_t i;

	for (i = 0; i < GM_ARRAY_LEN(cases); i++) {
		struct gm_yamux *s;
		struct gm_diag d;
		uint8_t f[12];

		ASSERT_OK(gm_yamux_open(&s, GM_YAMUX_SERVER));
		hdr(f, cases[i].type, cases[i].flags, cases[i].id, 0);
		f[0] = cases[i].version;
		gm_diag_clear(&d);
		ASSERT_ERR(gm_yamux_feed(s, f, 12, 0, &d), GM_EPROTO);
		if (!strstr(d.msg, cases[i].msg))
			gm_test_fail(__FILE__, __LINE__, "case %zu: %s", i,
				     d.msg);
		expect_go_away(s, GM_YAMUX_GO_AWAY_PROTOCOL);
		gm_yamux_close(s);
	}
}

TEST(duplicate_syn_is_protocol_error)
{
	struct gm_yamux *s;
	struct gm_diag d;
	uint8_t f[36];
	size_t n = 0;

	ASSERT_OK(gm_yamux_open(&s, GM_YAMUX_SERVER));
	n += hdr(f + n, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_SYN, 5, 0);
	n += hdr(f + n, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_RST, 5, 0);
	/* reusing an id, even of a forgotten stream, is refused */
	n += hdr(f + n, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_SYN, 3, 0);
	ASSERT_ERR(gm_yamux_feed(s, f, n, 0, &d), GM_EPROTO);
	ASSERT(strstr(d.msg, "stream 3"));
	gm_yamux_close(s);
}

TEST(window_overflow_is_protocol_error)
{
	struct gm_yamux *s;
	uint8_t f[24];
	size_t n = 0;

	ASSERT_OK(gm_yamux_open(&s, GM_YAMUX_SERVER));
	n += hdr(f + n, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_SYN, 1,
		 UINT32_MAX - GM_YAMUX_WINDOW);
	ASSERT_OK(gm_yamux_feed(s, f, n, 0, NULL));
	ASSERT_EQ(gm_yamux_send_window(s, 1), UINT32_MAX);
	n = hdr(f, GM_YAMUX_TYPE_WINDOW_UPDATE, 0, 1, 1);
	ASSERT_ERR(gm_yamux_feed(s, f, n, 0, NULL), GM_EPROTO);
	gm_yamux_close(s);
}

/* A client conversation recorded as bytes, for the split test. */
static void record_client(struct gm_buf *rec)
{
	struct gm_yamux *c;
	uint32_t id;
	size_t acc;
	uint8_t f[12];

	ASSERT_OK(gm_yamux_open(&c, GM_YAMUX_CLIENT));
	ASSERT_OK(gm_yamux_open_stream(c, &id, NULL));
	ASSERT_OK(gm_yamux_write(c, id, "abcdefghij", 10, &acc, NULL));
	ASSERT_OK(gm_yamux_ping(c, 0, NULL));
	ASSERT_OK(gm_yamux_open_stream(c, &id, NULL));
	ASSERT_OK(gm_yamux_write(c, id, "xyz", 3, &acc, NULL));
	ASSERT_OK(gm_yamux_close_stream(c, id));
	ASSERT_OK(gm_yamux_reset_stream(c, 1));
	ASSERT_OK(gm_yamux_take_output(c, rec));
	/* a peer ping and a zero-length data frame */
	hdr(f, GM_YAMUX_TYPE_PING, GM_YAMUX_SYN, 0, 99);
	ASSERT_OK(gm_buf_append(rec, f, 12));
	hdr(f, GM_YAMUX_TYPE_DATA, 0, 3, 0);
	ASSERT_OK(gm_buf_append(rec, f, 12));
	gm_yamux_close(c);
}

/* Feeds rec to a fresh server in pieces; returns events and output. */
static void replay(const struct gm_buf *rec, size_t cut, bool bytewise,
		   struct gm_buf *out, struct gm_buf *evs)
{
	struct gm_yamux *s;
	struct gm_yamux_event ev;
	uint8_t tmp[64];
	size_t i, got;

	ASSERT_OK(gm_yamux_open(&s, GM_YAMUX_SERVER));
	if (bytewise) {
		for (i = 0; i < rec->len; i++)
			ASSERT_OK(gm_yamux_feed(s, rec->data + i, 1, 0, NULL));
	} else {
		ASSERT_OK(gm_yamux_feed(s, rec->data, cut, 0, NULL));
		ASSERT_OK(
		    gm_yamux_feed(s, rec->data + cut, rec->len - cut, 0, NULL));
	}
	ASSERT_OK(gm_yamux_take_output(s, out));
	while (gm_yamux_poll_event(s, &ev)) {
		ASSERT_OK(gm_buf_append(evs, &ev.type, sizeof(ev.type)));
		ASSERT_OK(gm_buf_append(evs, &ev.stream_id, 4));
		if (ev.type == GM_YAMUX_EV_READABLE) {
			ASSERT_OK(gm_yamux_read(s, ev.stream_id, tmp,
						sizeof(tmp), &got));
			ASSERT_OK(gm_buf_append(evs, tmp, got));
		}
	}
	gm_yamux_close(s);
}

TEST(frames_split_at_every_byte)
{
	struct gm_buf rec, out0, ev0, out, ev;
	size_t cut;

	gm_buf_init(&rec, GM_BUF_UNLIMITED);
	gm_buf_init(&out0, GM_BUF_UNLIMITED);
	gm_buf_init(&ev0, GM_BUF_UNLIMITED);
	gm_buf_init(&out, GM_BUF_UNLIMITED);
	gm_buf_init(&ev, GM_BUF_UNLIMITED);
	record_client(&rec);
	ASSERT(rec.len > 100);
	replay(&rec, rec.len, false, &out0, &ev0);
	/* ACK of 1, answer to the client's ping 1, ACK of 3, answer to 99 */
	{
		uint8_t want[48];

		hdr(want, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_ACK, 1, 0);
		hdr(want + 12, GM_YAMUX_TYPE_PING, GM_YAMUX_ACK, 0, 1);
		hdr(want + 24, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_ACK, 3, 0);
		hdr(want + 36, GM_YAMUX_TYPE_PING, GM_YAMUX_ACK, 0, 99);
		ASSERT_EQ(out0.len, 48);
		ASSERT_MEMEQ(out0.data, want, 48);
	}
	/* opened 1, (readable 1 dropped: reset before polled), opened 3,
	 * readable 3 "xyz", half closed 3, reset 1 */
	{
		struct gm_buf w;
		static const struct {
			enum gm_yamux_event_type t;
			uint32_t id;
			const char *data;
		} want[] = {
		    {GM_YAMUX_EV_STREAM_OPENED, 1, ""},
		    {GM_YAMUX_EV_STREAM_OPENED, 3, ""},
		    {GM_YAMUX_EV_READABLE, 3, "xyz"},
		    {GM_YAMUX_EV_HALF_CLOSED, 3, ""},
		    {GM_YAMUX_EV_RESET, 1, ""},
		};
		size_t i;

		gm_buf_init(&w, GM_BUF_UNLIMITED);
		for (i = 0; i < GM_ARRAY_LEN(want); i++) {
			ASSERT_OK(
			    gm_buf_append(&w, &want[i].t, sizeof(want[i].t)));
			ASSERT_OK(gm_buf_append(&w, &want[i].id, 4));
			ASSERT_OK(gm_buf_append_str(&w, want[i].data));
		}
		ASSERT_EQ(ev0.len, w.len);
		ASSERT_MEMEQ(ev0.data, w.data, w.len);
		gm_buf_release(&w);
	}
	for (cut = 0; cut <= rec.len; cut++) {
		gm_buf_reset(&out);
		gm_buf_reset(&ev);
		replay(&rec, cut, false, &out, &ev);
		ASSERT_EQ(out.len, out0.len);
		ASSERT_MEMEQ(out.data, out0.data, out0.len);
		ASSERT_EQ(ev.len, ev0.len);
		ASSERT_MEMEQ(ev.data, ev0.data, ev0.len);
	}
	gm_buf_reset(&out);
	gm_buf_reset(&ev);
	replay(&rec, 0, true, &out, &ev);
	ASSERT_EQ(ev.len, ev0.len);
	ASSERT_MEMEQ(ev.data, ev0.data, ev0.len);
	ASSERT_MEMEQ(out.data, out0.data, out0.len);
	gm_buf_release(&rec);
	gm_buf_release(&out0);
	gm_buf_release(&ev0);
	gm_buf_release(&out);
	gm_buf_release(&ev);
}

TEST(large_write_uses_64k_frames)
{
	static uint8_t big[GM_YAMUX_WINDOW];
	struct gm_yamux *c;
	struct gm_buf b;
	uint32_t id;
	size_t acc;

	ASSERT_OK(gm_yamux_open(&c, GM_YAMUX_CLIENT));
	gm_buf_init(&b, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_yamux_open_stream(c, &id, NULL));
	take(c, &b);
	ASSERT_OK(gm_yamux_write(c, id, big, sizeof(big), &acc, NULL));
	ASSERT_EQ(acc, sizeof(big));
	take(c, &b);
	/* four full frames */
	ASSERT_EQ(b.len, 4 * (12 + GM_YAMUX_MAX_FRAME_DATA));
	check_frames(&b);
	gm_buf_release(&b);
	gm_yamux_close(c);
}

TEST(event_queue_bounded)
{
	struct gm_yamux *s;
	struct gm_diag d;
	uint8_t f[24];
	uint32_t id;
	gm_err e = GM_OK;

	/* open and reset streams without polling: the queue fills up */
	ASSERT_OK(gm_yamux_open(&s, GM_YAMUX_SERVER));
	for (id = 1; id < 2 * GM_YAMUX_MAX_EVENTS + 10 && !e; id += 2) {
		hdr(f, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_SYN, id, 0);
		hdr(f + 12, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_RST, id, 0);
		e = gm_yamux_feed(s, f, 24, 0, &d);
	}
	ASSERT_ERR(e, GM_ELIMIT);
	ASSERT(strstr(d.msg, "events"));
	gm_yamux_close(s);
}

TEST(oom_paths)
{
	unsigned long n;
	gm_err e;

	for (n = 1;; n++) {
		struct gm_yamux *c = NULL, *s = NULL;
		struct gm_buf b;
		uint32_t id;
		size_t acc, got;
		char buf[16];

		gm_buf_init(&b, GM_BUF_UNLIMITED);
		gm_alloc_fail_after(n);
		e = gm_yamux_open(&c, GM_YAMUX_CLIENT);
		if (!e)
			e = gm_yamux_open(&s, GM_YAMUX_SERVER);
		if (!e)
			e = gm_yamux_open_stream(c, &id, NULL);
		if (!e)
			e = gm_yamux_write(c, id, "hello", 5, &acc, NULL);
		if (!e)
			e = gm_yamux_take_output(c, &b);
		if (!e)
			e = gm_yamux_feed(s, b.data, b.len, 0, NULL);
		if (!e)
			e = gm_yamux_read(s, id, buf, sizeof(buf), &got);
		gm_alloc_fail_after(0);
		gm_yamux_close(c);
		gm_yamux_close(s);
		gm_buf_release(&b);
		if (!e) {
			ASSERT_EQ(got, 5);
			ASSERT_MEMEQ(buf, "hello", 5);
			break;
		}
		ASSERT_ERR(e, GM_ENOMEM);
		ASSERT(n < 100);
	}
	ASSERT(n > 3);
}

TEST(reads_between_partial_bodies)
{
	static uint8_t f[12 + GM_YAMUX_WINDOW], rd[GM_YAMUX_WINDOW];
	struct gm_yamux *s;
	struct gm_buf b;
	size_t i, got, total = 0;
	uint32_t k = 0;

	ASSERT_OK(gm_yamux_open(&s, GM_YAMUX_SERVER));
	gm_buf_init(&b, GM_BUF_UNLIMITED);
	hdr(f, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_SYN, 1, 0);
	ASSERT_OK(gm_yamux_feed(s, f, 12, 0, NULL));
	/* three full windows, fed in odd pieces with partial reads between */
	while (total < 3 * GM_YAMUX_WINDOW) {
		size_t len = 40000, off;

		take(s, &b); /* window updates, not looked at */
		hdr(f, GM_YAMUX_TYPE_DATA, 0, 1, (uint32_t)len);
		for (i = 0; i < len; i++)
			f[12 + i] = (uint8_t)(k + i);
		k += (uint32_t)len;
		for (off = 0; off < 12 + len; off += 7001) {
			size_t n =
			    12 + len - off < 7001 ? 12 + len - off : 7001;

			ASSERT_OK(gm_yamux_feed(s, f + off, n, 0, NULL));
			ASSERT_OK(gm_yamux_read(s, 1, rd, 3000, &got));
			for (i = 0; i < got; i++)
				ASSERT_EQ(rd[i], (uint8_t)(total + i));
			total += got;
		}
		do {
			ASSERT_OK(gm_yamux_read(s, 1, rd, 5000, &got));
			for (i = 0; i < got; i++)
				ASSERT_EQ(rd[i], (uint8_t)(total + i));
			total += got;
		} while (got);
	}
	gm_buf_release(&b);
	gm_yamux_close(s);
}

TEST(syn_on_data_frame_and_larger_window)
{
	struct gm_yamux *s;
	uint8_t f[64];
	size_t n = 0;

	ASSERT_OK(gm_yamux_open(&s, GM_YAMUX_SERVER));
	/* a window update with SYN may grant more than 256 KiB */
	n += hdr(f + n, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_SYN, 1, 1000);
	n += hdr(f + n, GM_YAMUX_TYPE_DATA, GM_YAMUX_SYN, 3, 4);
	memcpy(f + n, "ping", 4);
	n += 4;
	ASSERT_OK(gm_yamux_feed(s, f, n, 0, NULL));
	ASSERT_EQ(gm_yamux_send_window(s, 1), GM_YAMUX_WINDOW + 1000);
	ASSERT_EQ(gm_yamux_send_window(s, 3), GM_YAMUX_WINDOW);
	expect_ev(s, GM_YAMUX_EV_STREAM_OPENED, 1);
	expect_ev(s, GM_YAMUX_EV_STREAM_OPENED, 3);
	expect_ev(s, GM_YAMUX_EV_READABLE, 3);
	read_expect(s, 3, "ping");
	ASSERT_EQ(gm_yamux_output_len(s), 24); /* two ACKs */
	gm_yamux_close(s);
}

/*
 * take_output: an empty buffer gets the bytes by a swap, a non-empty one
 * by appending after what it held, and one too small gets GM_ELIMIT with
 * nothing taken.
 */
TEST(take_output_swap_append_and_limit)
{
	struct gm_yamux *y;
	struct gm_buf a, b, small;
	uint32_t id1, id2;
	size_t n;

	ASSERT_OK(gm_yamux_open(&y, GM_YAMUX_CLIENT));
	ASSERT_OK(gm_yamux_open_stream(y, &id1, NULL));
	n = gm_yamux_output_len(y);
	ASSERT_EQ(n, GM_YAMUX_HEADER_LEN);
	gm_buf_init(&small, GM_YAMUX_HEADER_LEN - 1);
	ASSERT_ERR(gm_yamux_take_output(y, &small), GM_ELIMIT);
	ASSERT_EQ(small.len, 0);
	ASSERT_EQ(gm_yamux_output_len(y), n);
	gm_buf_init(&a, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_yamux_take_output(y, &a));
	ASSERT_EQ(a.len, GM_YAMUX_HEADER_LEN);
	ASSERT_EQ(a.data[a.len], 0); /* still NUL terminated */
	ASSERT_EQ(gm_yamux_output_len(y), 0);
	ASSERT_OK(gm_yamux_open_stream(y, &id2, NULL));
	ASSERT_EQ(id2, id1 + 2);
	gm_buf_init(&b, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_buf_append(&b, "xy", 2));
	ASSERT_OK(gm_yamux_take_output(y, &b));
	ASSERT_EQ(b.len, 2 + GM_YAMUX_HEADER_LEN);
	ASSERT_MEMEQ(b.data, "xy", 2);
	/* same header but the stream id: 4-7 big-endian */
	ASSERT_MEMEQ(b.data + 2, a.data, 4);
	ASSERT_EQ(b.data[2 + 7], (uint8_t)id2);
	ASSERT_EQ(a.data[7], (uint8_t)id1);
	gm_buf_release(&a);
	gm_buf_release(&b);
	gm_buf_release(&small);
	gm_yamux_close(y);
}
