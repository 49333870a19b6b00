/*
 * test_host.c - two libp2p hosts in one process on 127.0.0.1, one uv loop:
 * the upgrade, Identify both ways, Ping, echo streams, garbage and slow
 * peers, peer id checks, and many connections without a leak.
 */
#include "harness.h"

#include "gm/alloc.h"
#include "gm/host.h"
#include "gm/multistream.h"
#include "gm/noise.h"
#include "gm/yamux.h"

struct fix {
	uv_loop_t loop;
	struct gm_key ka, kb;
	struct gm_host *a, *b;
	int identified_a, identified_b;
	int connected_a, connected_b;
	int disconnected_a, disconnected_b;
	struct gm_host_conn *conn; /* a's dialed connection */
	struct gm_host_conn *conn_b; /* b's side of the latest one */
	size_t max_conns;
	size_t max_streams;
	gm_err dial_err;
	struct gm_diag dial_diag;
	int dialed;
};

static void observer(void *ctx, struct gm_host_conn *c, enum gm_host_event ev,
		     gm_err err)
{
	struct fix *f = ctx;
	bool is_a = gm_host_conn_outbound(c);

	(void)err;
	if (ev == GM_HOST_EV_IDENTIFIED)
		is_a ? f->identified_a++ : f->identified_b++;
	else if (ev == GM_HOST_EV_CONNECTED) {
		is_a ? f->connected_a++ : f->connected_b++;
		if (!is_a)
			f->conn_b = c;
	}
	else
		is_a ? f->disconnected_a++ : f->disconnected_b++;
}

/*
 * A host listening on 127.0.0.1 with the key made from seed_byte, cfg's
 * limits (loop and key are filled in here) and f's observer.
 */
static void make_host_cfg(struct fix *f, struct gm_host **h, struct gm_key *k,
			  uint8_t seed_byte, struct gm_host_config cfg)
{
	struct gm_multiaddr ma;
	uint8_t seed[32];

	memset(seed, seed_byte, sizeof(seed));
	ASSERT_OK(gm_key_from_seed(k, "node", seed, 0, NULL));
	cfg.loop = &f->loop;
	cfg.key = k;
	ASSERT_OK(gm_host_new(h, &cfg, NULL));
	gm_host_set_observer(*h, observer, f);
	ASSERT_OK(gm_multiaddr_parse(&ma, "/ip4/127.0.0.1/tcp/0", 20, NULL));
	ASSERT_OK(gm_host_listen(*h, &ma, NULL));
}

static void make_host(struct fix *f, struct gm_host **h, struct gm_key *k,
		      uint8_t seed_byte, uint64_t hs_timeout)
{
	struct gm_host_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.handshake_timeout_ms = hs_timeout;
	cfg.max_conns = f->max_conns;
	cfg.max_streams = f->max_streams;
	make_host_cfg(f, h, k, seed_byte, cfg);
}

static void setup_cap(struct fix *f, uint64_t hs_timeout, size_t max_conns)
{
	memset(f, 0, sizeof(*f));
	ASSERT_EQ(uv_loop_init(&f->loop), 0);
	make_host(f, &f->a, &f->ka, 1, hs_timeout);
	f->max_conns = max_conns; /* b only */
	make_host(f, &f->b, &f->kb, 2, hs_timeout);
}

static void setup(struct fix *f, uint64_t hs_timeout)
{
	setup_cap(f, hs_timeout, 0);
}

static void teardown(struct fix *f)
{
	gm_host_free(f->a);
	gm_host_free(f->b);
	ASSERT_EQ(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
	ASSERT_EQ(uv_loop_close(&f->loop), 0);
}

static void on_deadline(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

/* Runs the loop until *cond is true; fails after ms. */
static void run_until(struct fix *f, const int *cond, int want, uint64_t ms)
{
	uv_timer_t t;
	bool late = false;

	uv_timer_init(&f->loop, &t);
	t.data = &late;
	uv_timer_start(&t, on_deadline, ms, 0);
	while (*cond < want && !late)
		uv_run(&f->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	if (*cond < want)
		gm_test_fail(__FILE__, __LINE__, "timed out: %d of %d", *cond,
			     want);
}

/* b's listen address with /p2p/<id of who>. */
static void addr_of(struct fix *f, struct gm_host *h,
		    const struct gm_peerid *who, struct gm_multiaddr *out)
{
	const struct gm_multiaddr *la;

	ASSERT_EQ(gm_host_listen_addrs(h, &la), 1);
	*out = la[0];
	if (who)
		ASSERT_OK(gm_multiaddr_push(out, GM_MA_P2P, who->bytes,
					    who->len, NULL));
	(void)f;
}

static void on_dialed(void *ctx, gm_err err, struct gm_host_conn *c,
		      const struct gm_diag *d)
{
	struct fix *f = ctx;

	f->dial_err = err;
	f->conn = c;
	if (d)
		f->dial_diag = *d;
	f->dialed = 1;
}

static void connect_ab(struct fix *f)
{
	struct gm_multiaddr ma;

	addr_of(f, f->b, gm_host_peerid(f->b), &ma);
	ASSERT_OK(gm_host_dial(f->a, &ma, 5000, on_dialed, f, NULL));
	run_until(f, &f->dialed, 1, 5000);
	ASSERT_OK(f->dial_err);
	ASSERT(f->conn);
}

TEST(host_connect_and_identify)
{
	struct fix f;
	const struct gm_identify *id;
	const struct gm_multiaddr *la;

	setup(&f, 0);
	connect_ab(&f);
	ASSERT(gm_peerid_equal(gm_host_conn_peer(f.conn),
			       gm_host_peerid(f.b)));
	run_until(&f, &f.identified_a, 1, 5000);
	run_until(&f, &f.identified_b, 1, 5000);
	id = gm_host_conn_identify(f.conn);
	ASSERT(id);
	ASSERT(id->has_key);
	ASSERT_MEMEQ(id->pk, f.kb.pk, 32);
	ASSERT_EQ(id->n_addrs, 1);
	gm_host_listen_addrs(f.b, &la);
	ASSERT(gm_multiaddr_equal(&id->addrs[0], la));
	ASSERT(gm_identify_has_protocol(id, GM_PING_PROTOCOL));
	ASSERT(gm_identify_has_protocol(id, GM_ECHO_PROTOCOL));
	ASSERT(gm_identify_has_protocol(id, GM_IDENTIFY_PROTOCOL));
	ASSERT_STREQ(id->protocol_version, "ipfs/0.1.0");
	ASSERT(!strncmp(id->agent_version, "ggen/", 5));
	ASSERT(id->has_observed);
	ASSERT_EQ(gm_host_conn_count(f.a), 1);
	ASSERT_EQ(gm_host_conn_count(f.b), 1);
	/* b learned a's key the same way */
	ASSERT_EQ(f.connected_b, 1);
	ASSERT_EQ(gm_host_stats(f.a).conns_opened, 1);
	ASSERT_EQ(gm_host_stats(f.b).conns_opened, 1);
	teardown(&f);
}

struct pinger {
	struct gm_ping p;
	int pongs, want;
	uint64_t rtt_sum;
	int closed;
	gm_err err;
};

static uint64_t now_us(void)
{
	return uv_hrtime() / 1000;
}

static void ping_fn(void *ctx, struct gm_host_stream *s,
		    enum gm_host_stream_event ev, const uint8_t *data,
		    size_t len, gm_err err)
{
	struct pinger *pg = ctx;
	struct gm_buf out;
	size_t used;
	bool pong;
	uint64_t rtt;

	if (ev == GM_HOST_STREAM_CLOSED) {
		pg->err = err;
		pg->closed = 1;
		return;
	}
	gm_buf_init(&out, 64);
	if (ev == GM_HOST_STREAM_READY) {
		ASSERT_STREQ(gm_host_stream_protocol(s), GM_PING_PROTOCOL);
		ASSERT_OK(gm_ping_send(&pg->p, NULL, now_us(), &out));
	}
	while (ev == GM_HOST_STREAM_DATA && len) {
		ASSERT_OK(gm_ping_feed(&pg->p, data, len, now_us(), &used,
				       &pong, &rtt, NULL));
		data += used;
		len -= used;
		if (!pong)
			continue;
		pg->pongs++;
		pg->rtt_sum += rtt;
		if (pg->pongs < pg->want)
			ASSERT_OK(gm_ping_send(&pg->p, NULL, now_us(), &out));
		else
			gm_host_stream_close_write(s);
	}
	if (out.len)
		ASSERT_OK(gm_host_stream_write(s, out.data, out.len));
	gm_buf_release(&out);
}

static void do_pings(struct fix *f, int n)
{
	struct pinger pg;

	memset(&pg, 0, sizeof(pg));
	gm_ping_init(&pg.p);
	pg.want = n;
	ASSERT_OK(gm_host_stream_open(f->conn, GM_PING_PROTOCOL, ping_fn, &pg,
				      NULL, NULL));
	run_until(f, &pg.closed, 1, 5000);
	ASSERT_OK(pg.err);
	ASSERT_EQ(pg.pongs, n);
	ASSERT(pg.rtt_sum < (uint64_t)n * 1000000);
}

TEST(host_ping_ten)
{
	struct fix f;

	setup(&f, 0);
	connect_ab(&f);
	do_pings(&f, 10);
	teardown(&f);
}

struct echoer {
	size_t size;
	uint8_t seed;
	size_t got;
	bool mismatch;
	int closed;
	int *done;
	gm_err err;
	bool eof;
	int writable; /* WRITABLE events */
};

static uint8_t pattern(uint8_t seed, size_t i)
{
	return (uint8_t)(seed * 31 + i * 7 + (i >> 9));
}

static void echo_fn(void *ctx, struct gm_host_stream *s,
		    enum gm_host_stream_event ev, const uint8_t *data,
		    size_t len, gm_err err)
{
	struct echoer *e = ctx;
	size_t i;

	if (ev == GM_HOST_STREAM_READY) {
		uint8_t *buf = gm_malloc(e->size);

		ASSERT(buf);
		for (i = 0; i < e->size; i++)
			buf[i] = pattern(e->seed, i);
		ASSERT_OK(gm_host_stream_write(s, buf, e->size));
		gm_free(buf);
		gm_host_stream_close_write(s);
	} else if (ev == GM_HOST_STREAM_DATA) {
		for (i = 0; i < len; i++)
			if (data[i] != pattern(e->seed, e->got + i))
				e->mismatch = true;
		e->got += len;
	} else if (ev == GM_HOST_STREAM_EOF) {
		e->eof = true;
	} else if (ev == GM_HOST_STREAM_WRITABLE) {
		e->writable++;
	} else {
		e->err = err;
		e->closed = 1;
		if (e->done)
			(*e->done)++;
	}
}

TEST(host_echo_one_mib)
{
	struct fix f;
	struct echoer e;

	setup(&f, 0);
	connect_ab(&f);
	memset(&e, 0, sizeof(e));
	e.size = 1024 * 1024;
	e.seed = 3;
	ASSERT_OK(gm_host_stream_open(f.conn, GM_ECHO_PROTOCOL, echo_fn, &e,
				      NULL, NULL));
	run_until(&f, &e.closed, 1, 10000);
	ASSERT_OK(e.err);
	ASSERT(e.eof);
	ASSERT_EQ(e.got, e.size);
	ASSERT(!e.mismatch);
	/* 1 MiB queued at once is above the low water: one WRITABLE */
	ASSERT_EQ(e.writable, 1);
	teardown(&f);
}

/*
 * A writer that fills its queue: writes past GM_HOST_STREAM_OUT_MAX fail
 * with GM_ELIMIT and queue nothing, WRITABLE says when to go on, and 32
 * MiB arrive back intact with the connection up throughout.
 */
struct pacer {
	size_t total, sent, got, max_queued;
	int limited, writable, closed;
	bool mismatch, eof;
	gm_err err;
	uint8_t chunk[256 * 1024];
};

static void pacer_fill(struct pacer *p, struct gm_host_stream *s)
{
	size_t i, n;
	gm_err e;

	while (p->sent < p->total) {
		n = p->total - p->sent;
		if (n > sizeof(p->chunk))
			n = sizeof(p->chunk);
		for (i = 0; i < n; i++)
			p->chunk[i] = pattern(9, p->sent + i);
		e = gm_host_stream_write(s, p->chunk, n);
		if (gm_host_stream_queued(s) > p->max_queued)
			p->max_queued = gm_host_stream_queued(s);
		if (e == GM_ELIMIT) {
			p->limited++;
			return;
		}
		ASSERT_OK(e);
		p->sent += n;
	}
	gm_host_stream_close_write(s);
}

static void pacer_fn(void *ctx, struct gm_host_stream *s,
		     enum gm_host_stream_event ev, const uint8_t *data,
		     size_t len, gm_err err)
{
	struct pacer *p = ctx;
	size_t i;

	if (ev == GM_HOST_STREAM_READY) {
		pacer_fill(p, s);
	} else if (ev == GM_HOST_STREAM_WRITABLE) {
		p->writable++;
		ASSERT(gm_host_stream_queued(s) <= GM_HOST_STREAM_LOW_WATER);
		pacer_fill(p, s);
	} else if (ev == GM_HOST_STREAM_DATA) {
		for (i = 0; i < len; i++)
			if (data[i] != pattern(9, p->got + i))
				p->mismatch = true;
		p->got += len;
	} else if (ev == GM_HOST_STREAM_EOF) {
		p->eof = true;
	} else if (ev == GM_HOST_STREAM_CLOSED) {
		p->err = err;
		p->closed = 1;
	}
}

TEST(host_write_limit_then_writable)
{
	struct fix f;
	struct pacer *p = gm_calloc(1, sizeof(*p));

	ASSERT(p);
	setup(&f, 0);
	connect_ab(&f);
	p->total = 32u * 1024 * 1024;
	ASSERT_OK(gm_host_stream_open(f.conn, GM_ECHO_PROTOCOL, pacer_fn, p,
				      NULL, NULL));
	run_until(&f, &p->closed, 1, 60000);
	ASSERT_OK(p->err);
	ASSERT(p->eof);
	ASSERT_EQ(p->got, p->total);
	ASSERT(!p->mismatch);
	ASSERT(p->limited > 0);
	ASSERT(p->writable >= p->limited);
	ASSERT(p->max_queued <= GM_HOST_STREAM_OUT_MAX);
	ASSERT_EQ(gm_host_conn_count(f.a), 1);
	gm_free(p);
	teardown(&f);
}

static void on_tick(uv_timer_t *t)
{
	*(int *)t->data = 1;
}

/* A handler that starts paused and counts what it is given. */
struct sink {
	struct gm_host_stream *s;
	size_t got;
	bool mismatch, eof;
	int closed, ready;
	gm_err err;
};

static void sink_fn(void *ctx, struct gm_host_stream *s,
		    enum gm_host_stream_event ev, const uint8_t *data,
		    size_t len, gm_err err)
{
	struct sink *k = ctx;
	size_t i;

	if (ev == GM_HOST_STREAM_READY) {
		k->s = s;
		k->ready = 1;
		gm_host_stream_pause_read(s, true);
	} else if (ev == GM_HOST_STREAM_DATA) {
		for (i = 0; i < len; i++)
			if (data[i] != pattern(9, k->got + i))
				k->mismatch = true;
		k->got += len;
	} else if (ev == GM_HOST_STREAM_EOF) {
		k->eof = true;
		gm_host_stream_close_write(s);
	} else if (ev == GM_HOST_STREAM_CLOSED) {
		k->closed = 1;
		k->err = err;
		k->s = NULL;
	}
}

/*
 * A paused reader gets nothing and holds the writer back by its window;
 * resumed, it gets every byte in order, then EOF, then CLOSED.
 */
TEST(host_pause_read_holds_the_writer_back)
{
	struct fix f;
	struct pacer *p = gm_calloc(1, sizeof(*p));
	struct sink k;
	struct gm_host_stream *as;
	int tick = 0;

	ASSERT(p);
	memset(&k, 0, sizeof(k));
	setup(&f, 0);
	ASSERT_OK(gm_host_handle(f.b, "/test/sink/1.0.0", sink_fn, &k));
	connect_ab(&f);
	p->total = 2u * 1024 * 1024;
	ASSERT_OK(gm_host_stream_open(f.conn, "/test/sink/1.0.0", pacer_fn,
				      p, &as, NULL));
	run_until(&f, &k.ready, 1, 5000);
	/* let a write what the window allows: nothing may reach the sink */
	{
		uv_timer_t t;

		uv_timer_init(&f.loop, &t);
		t.data = &tick;
		uv_timer_start(&t, on_tick, 300, 0);
		run_until(&f, &tick, 1, 5000);
		uv_close((uv_handle_t *)&t, NULL);
	}
	ASSERT_EQ(k.got, 0);
	ASSERT(!k.eof);
	/* all written, at most one window of it gone to b */
	ASSERT_EQ(p->sent, p->total);
	ASSERT(gm_host_stream_queued(as) >= p->total - GM_YAMUX_WINDOW);
	gm_host_stream_pause_read(k.s, false);
	run_until(&f, &k.closed, 1, 20000);
	ASSERT_OK(k.err);
	ASSERT(k.eof);
	ASSERT_EQ(k.got, p->total);
	ASSERT(!k.mismatch);
	run_until(&f, &p->closed, 1, 5000);
	ASSERT_OK(p->err);
	gm_free(p);
	teardown(&f);
}

TEST(host_twenty_concurrent_echo_streams)
{
	struct fix f;
	struct echoer e[20];
	int done = 0, i;

	setup(&f, 0);
	connect_ab(&f);
	memset(e, 0, sizeof(e));
	for (i = 0; i < 20; i++) {
		e[i].size = 50000 + (size_t)i * 1000;
		e[i].seed = (uint8_t)i;
		e[i].done = &done;
		ASSERT_OK(gm_host_stream_open(f.conn, GM_ECHO_PROTOCOL,
					      echo_fn, &e[i], NULL, NULL));
	}
	run_until(&f, &done, 20, 10000);
	for (i = 0; i < 20; i++) {
		ASSERT_OK(e[i].err);
		ASSERT_EQ(e[i].got, e[i].size);
		ASSERT(!e[i].mismatch);
	}
	teardown(&f);
}

TEST(host_unknown_protocol_refused)
{
	struct fix f;
	struct echoer e;

	setup(&f, 0);
	connect_ab(&f);
	memset(&e, 0, sizeof(e));
	ASSERT_OK(gm_host_stream_open(f.conn, "/nope/1.0.0", echo_fn, &e,
				      NULL, NULL));
	run_until(&f, &e.closed, 1, 5000);
	ASSERT_ERR(e.err, GM_EUNSUPPORTED);
	do_pings(&f, 1);
	teardown(&f);
}

/* A raw TCP client that writes bytes and waits for the close. */
struct raw {
	uv_tcp_t tcp;
	uv_connect_t req;
	uv_write_t wr;
	uv_buf_t buf;
	const char *send;
	size_t send_len;
	int closed;
	uint8_t rbuf[4096];
};

static void raw_alloc(uv_handle_t *h, size_t n, uv_buf_t *buf)
{
	struct raw *r = h->data;

	(void)n;
	*buf = uv_buf_init((char *)r->rbuf, sizeof(r->rbuf));
}

static void raw_closed(uv_handle_t *h)
{
	struct raw *r = h->data;

	r->closed = 1;
}

static void raw_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	(void)buf;
	if (n < 0)
		uv_close((uv_handle_t *)s, raw_closed);
}

static void raw_connected(uv_connect_t *req, int status)
{
	struct raw *r = req->data;

	ASSERT_EQ(status, 0);
	uv_read_start((uv_stream_t *)&r->tcp, raw_alloc, raw_read);
	if (r->send) {
		r->buf = uv_buf_init((char *)r->send, (unsigned)r->send_len);
		uv_write(&r->wr, (uv_stream_t *)&r->tcp, &r->buf, 1, NULL);
	}
}

static void raw_connect(struct fix *f, struct raw *r, struct gm_host *h,
			const char *send, size_t send_len)
{
	const struct gm_multiaddr *la;
	struct sockaddr_in sa;
	uint16_t port;

	ASSERT_EQ(gm_host_listen_addrs(h, &la), 1);
	port = (uint16_t)(la->bytes[la->len - 2] << 8 | la->bytes[la->len - 1]);
	uv_ip4_addr("127.0.0.1", port, &sa);
	memset(r, 0, sizeof(*r));
	r->send = send;
	r->send_len = send_len;
	uv_tcp_init(&f->loop, &r->tcp);
	r->tcp.data = r;
	r->req.data = r;
	ASSERT_EQ(uv_tcp_connect(&r->req, &r->tcp, (struct sockaddr *)&sa,
				 raw_connected),
		  0);
}

TEST(host_garbage_closed_others_unaffected)
{
	struct fix f;
	struct raw r;

	setup(&f, 0);
	connect_ab(&f);
	raw_connect(&f, &r, f.b,
		    "\x13/multistream/1.0.0\n\x07/noise\n\x00\x05hello", 35);
	run_until(&f, &r.closed, 1, 5000);
	ASSERT(gm_host_stats(f.b).handshake_failed >= 1);
	raw_connect(&f, &r, f.b, "\xff\xff\xff\xff garbage", 12);
	run_until(&f, &r.closed, 1, 5000);
	ASSERT(gm_host_stats(f.b).handshake_failed >= 2);
	do_pings(&f, 3);
	ASSERT_EQ(gm_host_conn_count(f.b), 1);
	teardown(&f);
}

/*
 * An authenticated peer that breaks Yamux: it goes through multistream,
 * Noise (with key k) and multistream for /yamux/1.0.0 with the sans-IO
 * cores, then sends a frame of Yamux version 1. The host closes it with
 * GM_EPROTO, which counts against k's peer id.
 */
struct evil {
	uv_tcp_t tcp;
	uv_connect_t req;
	const struct gm_key *k;
	struct gm_mss mss;
	struct gm_noise noise;
	int stage; /* 0 mss /noise, 1 noise, 2 mss /yamux, 3 sent */
	int closed;
	const uint8_t *bad; /* what to send once upgraded */
	size_t bad_len;
	bool upgraded; /* reached stage 3 */
	uint8_t rbuf[65536];
};

static void evil_send(struct evil *v, const uint8_t *p, size_t n,
		      bool secure)
{
	struct gm_buf ct;
	uv_buf_t b;

	gm_buf_init(&ct, GM_BUF_UNLIMITED);
	if (secure)
		ASSERT_OK(gm_noise_write(&v->noise, p, n, &ct, NULL));
	else
		ASSERT_OK(gm_buf_append(&ct, p, n));
	b = uv_buf_init((char *)ct.data, (unsigned)ct.len);
	ASSERT(uv_try_write((uv_stream_t *)&v->tcp, &b, 1) == (int)ct.len);
	gm_buf_release(&ct);
}

static void evil_closed(uv_handle_t *h)
{
	struct evil *v = h->data;

	gm_mss_release(&v->mss);
	gm_noise_release(&v->noise);
	v->closed = 1;
}

static void evil_alloc(uv_handle_t *h, size_t n, uv_buf_t *buf)
{
	struct evil *v = h->data;

	(void)n;
	*buf = uv_buf_init((char *)v->rbuf, sizeof(v->rbuf));
}

static void evil_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	static const char *const yamux[] = {"/yamux/1.0.0"};
	struct evil *v = s->data;
	struct gm_buf out, pt, rest;
	const uint8_t *p = (const uint8_t *)buf->base;

	if (n < 0) {
		uv_close((uv_handle_t *)s, evil_closed);
		return;
	}
	gm_buf_init(&out, GM_BUF_UNLIMITED);
	gm_buf_init(&pt, GM_BUF_UNLIMITED);
	gm_buf_init(&rest, GM_BUF_UNLIMITED);
	if (v->stage == 0) {
		ASSERT_OK(gm_mss_feed(&v->mss, p, (size_t)n, &out, NULL));
		if (gm_mss_done(&v->mss)) {
			ASSERT_OK(gm_mss_take_rest(&v->mss, &rest));
			gm_mss_release(&v->mss);
			ASSERT_OK(gm_noise_init(&v->noise, true, v->k, NULL,
						NULL, NULL));
			ASSERT_OK(gm_noise_start(&v->noise, &out, NULL));
			evil_send(v, out.data, out.len, false);
			v->stage = 1;
			p = rest.data;
			n = (ssize_t)rest.len;
			gm_buf_reset(&out);
		}
	}
	if (v->stage == 1 && n > 0) {
		/* a refused peer sees the connection end here */
		if (gm_noise_feed(&v->noise, p, (size_t)n, &out, &pt, NULL))
			goto out;
		evil_send(v, out.data, out.len, false);
		gm_buf_reset(&out);
		if (gm_noise_handshake_done(&v->noise)) {
			ASSERT_OK(gm_mss_init_dialer(&v->mss, yamux, 1, NULL));
			ASSERT_OK(gm_mss_feed(&v->mss, NULL, 0, &out, NULL));
			evil_send(v, out.data, out.len, true);
			gm_buf_reset(&out);
			v->stage = 2;
		}
		n = 0;
	}
	if (v->stage == 2 && n > 0) {
		ASSERT_OK(gm_noise_feed(&v->noise, p, (size_t)n, &out, &pt,
					NULL));
		ASSERT_OK(gm_mss_feed(&v->mss, pt.data, pt.len, &out, NULL));
		if (gm_mss_done(&v->mss)) {
			evil_send(v, v->bad, v->bad_len, true);
			v->stage = 3;
			v->upgraded = true;
		}
	}
out:
	gm_buf_release(&out);
	gm_buf_release(&pt);
	gm_buf_release(&rest);
}

static void evil_connected(uv_connect_t *req, int status)
{
	static const char *const noise[] = {"/noise"};
	struct evil *v = req->data;
	struct gm_buf out;

	ASSERT_EQ(status, 0);
	ASSERT_OK(gm_mss_init_dialer(&v->mss, noise, 1, NULL));
	gm_buf_init(&out, 1024);
	ASSERT_OK(gm_mss_feed(&v->mss, NULL, 0, &out, NULL));
	evil_send(v, out.data, out.len, false);
	gm_buf_release(&out);
	uv_read_start((uv_stream_t *)&v->tcp, evil_alloc, evil_read);
}

/* A Yamux frame of version 1. */
static const uint8_t bad_version[12] = {1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0};

/*
 * One evil connection to h as k sending bad[0..n) once upgraded (NULL:
 * bad_version); runs until it is closed. Returns whether it got there.
 */
static bool evil_send_run(struct fix *f, struct gm_host *h,
			  const struct gm_key *k, const uint8_t *bad,
			  size_t n)
{
	const struct gm_multiaddr *la;
	struct sockaddr_in sa;
	struct evil *v = gm_calloc(1, sizeof(*v));
	bool upgraded;

	ASSERT(v);
	ASSERT_EQ(gm_host_listen_addrs(h, &la), 1);
	uv_ip4_addr("127.0.0.1",
		    (uint16_t)(la->bytes[la->len - 2] << 8 |
			       la->bytes[la->len - 1]),
		    &sa);
	v->k = k;
	v->bad = bad ? bad : bad_version;
	v->bad_len = bad ? n : sizeof(bad_version);
	uv_tcp_init(&f->loop, &v->tcp);
	v->tcp.data = v;
	v->req.data = v;
	ASSERT_EQ(uv_tcp_connect(&v->req, &v->tcp, (struct sockaddr *)&sa,
				 evil_connected),
		  0);
	run_until(f, &v->closed, 1, 5000);
	upgraded = v->upgraded;
	gm_free(v);
	return upgraded;
}

static bool evil_run(struct fix *f, struct gm_host *h, const struct gm_key *k)
{
	return evil_send_run(f, h, k, NULL, 0);
}

/*
 * Bad Yamux from an authenticated peer closes that connection with a
 * protocol error, each time, while another peer keeps being served:
 *   | sent                                          | broken rule      |
 *   |-----------------------------------------------|------------------|
 *   | version 1                                     | version          |
 *   | type 7                                        | frame type       |
 *   | SYN data on stream 1 with 300 KiB of data     | the 256 KiB      |
 *   |                                               | window           |
 *   | data on stream 2 (the dialer's ids are odd)   | stream id parity |
 */
TEST(host_bad_yamux_from_a_peer_closes_it)
{
	struct fix f;
	struct gm_key ke;
	uint8_t seed[32], *big;
	static const uint8_t type7[12] = {0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t even[12] = {0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0};
	size_t n = 12 + 300 * 1024;

	setup(&f, 0);
	connect_ab(&f);
	memset(seed, 9, sizeof(seed));
	ASSERT_OK(gm_key_from_seed(&ke, "evil", seed, 0, NULL));
	big = gm_calloc(1, n);
	ASSERT(big);
	big[3] = 1;			/* SYN */
	big[7] = 1;			/* stream 1 */
	big[9] = (uint8_t)(300 * 1024 >> 16); /* length, big-endian */
	big[10] = (uint8_t)(300 * 1024 >> 8);
	ASSERT(evil_send_run(&f, f.b, &ke, NULL, 0));
	ASSERT(evil_send_run(&f, f.b, &ke, type7, sizeof(type7)));
	/* b bans after 3: use a fresh identity for the rest */
	memset(seed, 10, sizeof(seed));
	gm_key_release(&ke);
	ASSERT_OK(gm_key_from_seed(&ke, "evil", seed, 0, NULL));
	ASSERT(evil_send_run(&f, f.b, &ke, big, n));
	ASSERT(evil_send_run(&f, f.b, &ke, even, sizeof(even)));
	ASSERT_EQ(gm_host_stats(f.b).protocol_errors, 4);
	ASSERT_EQ(gm_host_conn_count(f.b), 1);
	do_pings(&f, 2);
	gm_free(big);
	gm_key_release(&ke);
	teardown(&f);
}

/*
 * Penalties: b bans a peer after 2 protocol errors for 400 ms. The evil
 * peer's third connection is refused at Noise, a dial to it fails at
 * once, a well-behaved peer is unaffected, and after the ban the evil
 * peer gets through Noise again.
 */
TEST(host_protocol_errors_ban_the_peer)
{
	struct fix f;
	struct gm_host_config cfg;
	struct gm_multiaddr ma;
	struct gm_peerid evil_id;
	struct gm_key ke;
	struct gm_diag d;
	uint8_t seed[32];
	int tick = 0;

	memset(&f, 0, sizeof(f));
	ASSERT_EQ(uv_loop_init(&f.loop), 0);
	make_host(&f, &f.a, &f.ka, 1, 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.ban_after_errors = 2;
	cfg.ban_ms = 400;
	make_host_cfg(&f, &f.b, &f.kb, 2, cfg);
	memset(seed, 9, sizeof(seed));
	ASSERT_OK(gm_key_from_seed(&ke, "evil", seed, 0, NULL));
	gm_peerid_from_ed25519(&evil_id, ke.pk);

	ASSERT(evil_run(&f, f.b, &ke));
	ASSERT_EQ(gm_host_stats(f.b).protocol_errors, 1);
	ASSERT_EQ(gm_host_peer_banned_ms(f.b, &evil_id), 0);
	ASSERT(evil_run(&f, f.b, &ke));
	ASSERT_EQ(gm_host_stats(f.b).bans, 1);
	ASSERT(gm_host_peer_banned_ms(f.b, &evil_id) > 0);
	/* banned: refused once Noise names it */
	ASSERT(!evil_run(&f, f.b, &ke));
	ASSERT_EQ(gm_host_stats(f.b).refused_banned, 1);
	/* b will not dial it either */
	{
		char text[256];
		const struct gm_multiaddr *la;
		char id[GM_PEERID_MAX_STR];

		ASSERT_EQ(gm_host_listen_addrs(f.a, &la), 1);
		gm_multiaddr_format(&la[0], text, sizeof(text));
		gm_peerid_format(&evil_id, id, sizeof(id));
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "/p2p/%s", id);
		ASSERT_OK(gm_multiaddr_parse(&ma, text, strlen(text), NULL));
		gm_diag_clear(&d);
		ASSERT_ERR(gm_host_dial(f.b, &ma, 1000, on_dialed, &f, &d),
			   GM_EPERM);
		ASSERT(strstr(d.msg, "banned") != NULL);
	}
	/* others are served */
	connect_ab(&f);
	do_pings(&f, 2);
	/* the ban ends */
	{
		uv_timer_t t;

		uv_timer_init(&f.loop, &t);
		t.data = &tick;
		uv_timer_start(&t, on_tick, 450, 0);
		run_until(&f, &tick, 1, 5000);
		uv_close((uv_handle_t *)&t, NULL);
	}
	ASSERT_EQ(gm_host_peer_banned_ms(f.b, &evil_id), 0);
	ASSERT(evil_run(&f, f.b, &ke));
	ASSERT_EQ(gm_host_stats(f.b).refused_banned, 1);
	gm_key_release(&ke);
	teardown(&f);
}

TEST(host_handshake_timeout)
{
	struct fix f;
	struct raw r;
	uint64_t t0;

	setup(&f, 200);
	t0 = uv_now(&f.loop);
	raw_connect(&f, &r, f.b, NULL, 0);
	run_until(&f, &r.closed, 1, 5000);
	uv_update_time(&f.loop);
	ASSERT(uv_now(&f.loop) - t0 >= 150);
	ASSERT_EQ(gm_host_stats(f.b).timeouts, 1);
	teardown(&f);
}

TEST(host_wrong_peer_id_refused)
{
	struct fix f;
	struct gm_multiaddr ma;

	setup(&f, 0);
	/* b's address, but a's peer id */
	addr_of(&f, f.b, gm_host_peerid(f.a), &ma);
	ASSERT_OK(gm_host_dial(f.a, &ma, 5000, on_dialed, &f, NULL));
	run_until(&f, &f.dialed, 1, 5000);
	ASSERT_ERR(f.dial_err, GM_ETRUST);
	ASSERT(f.conn == NULL);
	ASSERT(strstr(f.dial_diag.msg, "mismatch"));
	teardown(&f);
}

TEST(host_dial_refused_and_bad_address)
{
	struct fix f;
	struct gm_multiaddr ma;
	struct gm_diag d;

	setup(&f, 0);
	ASSERT_OK(gm_multiaddr_parse(&ma, "/ip4/127.0.0.1/tcp/1", 20, NULL));
	ASSERT_OK(gm_host_dial(f.a, &ma, 5000, on_dialed, &f, NULL));
	run_until(&f, &f.dialed, 1, 5000);
	ASSERT_ERR(f.dial_err, GM_ENET);
	ASSERT(strstr(f.dial_diag.msg, "connect"));
	ASSERT_OK(gm_multiaddr_parse(&ma, "/dns4/example.com/tcp/1", 23,
				     NULL));
	gm_diag_clear(&d);
	ASSERT_ERR(gm_host_dial(f.a, &ma, 5000, on_dialed, &f, &d),
		   GM_EUNSUPPORTED);
	ASSERT(strstr(d.msg, "/ip4"));
	teardown(&f);
}

struct serial {
	struct fix *f;
	struct gm_multiaddr ma;
	int ok;
	int want;
	gm_err err;
};

static void serial_dialed(void *ctx, gm_err err, struct gm_host_conn *c,
			  const struct gm_diag *d)
{
	struct serial *s = ctx;

	(void)d;
	if (err) {
		s->err = err;
		s->want = s->ok;
		return;
	}
	s->ok++;
	gm_host_conn_close(c);
	if (s->ok < s->want)
		ASSERT_OK(gm_host_dial(s->f->a, &s->ma, 5000, serial_dialed, s,
				       NULL));
}

TEST(host_fifty_sequential_connections)
{
	struct fix f;
	struct serial s;

	setup(&f, 0);
	memset(&s, 0, sizeof(s));
	s.f = &f;
	s.want = 50;
	addr_of(&f, f.b, gm_host_peerid(f.b), &s.ma);
	ASSERT_OK(gm_host_dial(f.a, &s.ma, 5000, serial_dialed, &s, NULL));
	run_until(&f, &s.ok, 50, 15000);
	ASSERT_OK(s.err);
	ASSERT_EQ(gm_host_stats(f.a).conns_opened, 50);
	run_until(&f, &f.disconnected_b, 50, 5000);
	ASSERT_EQ(gm_host_conn_count(f.b), 0);
	teardown(&f);
}

struct pusher {
	struct gm_buf msg;
	int closed;
};

static void push_fn(void *ctx, struct gm_host_stream *s,
		    enum gm_host_stream_event ev, const uint8_t *data,
		    size_t len, gm_err err)
{
	struct pusher *p = ctx;

	(void)data;
	(void)len;
	(void)err;
	if (ev == GM_HOST_STREAM_READY) {
		ASSERT_OK(gm_host_stream_write(s, p->msg.data, p->msg.len));
		gm_host_stream_close_write(s);
	} else if (ev == GM_HOST_STREAM_CLOSED) {
		p->closed = 1;
	}
}

TEST(host_identify_push_updates)
{
	struct fix f;
	struct pusher p;
	struct gm_identify upd;
	const struct gm_identify *known;

	setup(&f, 0);
	connect_ab(&f);
	run_until(&f, &f.identified_b, 1, 5000);
	ASSERT(f.conn_b);
	ASSERT(!gm_identify_has_protocol(gm_host_conn_identify(f.conn_b),
					 "/new/1.0.0"));
	gm_identify_init(&upd);
	ASSERT_OK(gm_identify_add_protocol(&upd, "/new/1.0.0"));
	gm_buf_init(&p.msg, 1 << 16);
	ASSERT_OK(gm_identify_encode(&upd, &p.msg, NULL));
	p.closed = 0;
	ASSERT_OK(gm_host_stream_open(f.conn, GM_IDENTIFY_PUSH_PROTOCOL,
				      push_fn, &p, NULL, NULL));
	run_until(&f, &f.identified_b, 2, 5000);
	known = gm_host_conn_identify(f.conn_b);
	ASSERT(gm_identify_has_protocol(known, "/new/1.0.0"));
	ASSERT_EQ(known->n_protocols, 1);
	/* fields absent from the push are kept */
	ASSERT(known->has_key);
	ASSERT_MEMEQ(known->pk, f.ka.pk, 32);
	ASSERT_EQ(known->n_addrs, 1);
	run_until(&f, &p.closed, 1, 5000);
	gm_buf_release(&p.msg);
	gm_identify_release(&upd);
	teardown(&f);
}

static void hello_handler(void *ctx, struct gm_host_stream *s,
			  enum gm_host_stream_event ev, const uint8_t *data,
			  size_t len, gm_err err)
{
	int *served = ctx;

	(void)data;
	(void)len;
	(void)err;
	if (ev == GM_HOST_STREAM_READY) {
		ASSERT_STREQ(gm_host_stream_protocol(s), "/test/hello/1.0.0");
		ASSERT_OK(gm_host_stream_write(s, "hello", 5));
		gm_host_stream_close_write(s);
		(*served)++;
	}
}

struct collect {
	char got[64];
	size_t len;
	int eof, closed;
	gm_err err;
	int *n_closed;
};

static void collect_fn(void *ctx, struct gm_host_stream *s,
		       enum gm_host_stream_event ev, const uint8_t *data,
		       size_t len, gm_err err)
{
	struct collect *c = ctx;

	(void)err;
	if (ev == GM_HOST_STREAM_DATA && c->len + len < sizeof(c->got)) {
		memcpy(c->got + c->len, data, len);
		c->len += len;
	} else if (ev == GM_HOST_STREAM_EOF) {
		c->eof = 1;
		gm_host_stream_close_write(s);
	} else if (ev == GM_HOST_STREAM_CLOSED) {
		c->closed = 1;
		c->err = err;
		if (c->n_closed)
			(*c->n_closed)++;
	}
}

TEST(host_custom_handler_routed_and_listed)
{
	struct fix f;
	struct collect c;
	int served = 0;

	setup(&f, 0);
	ASSERT_OK(gm_host_handle(f.b, "/test/hello/1.0.0", hello_handler,
				 &served));
	ASSERT_ERR(gm_host_handle(f.b, "", hello_handler, &served),
		   GM_EINVAL);
	connect_ab(&f);
	run_until(&f, &f.identified_a, 1, 5000);
	ASSERT(gm_identify_has_protocol(gm_host_conn_identify(f.conn),
					"/test/hello/1.0.0"));
	memset(&c, 0, sizeof(c));
	ASSERT_OK(gm_host_stream_open(f.conn, "/test/hello/1.0.0", collect_fn,
				      &c, NULL, NULL));
	run_until(&f, &c.closed, 1, 5000);
	ASSERT_EQ(served, 1);
	ASSERT(c.eof);
	ASSERT_EQ(c.len, 5);
	ASSERT_MEMEQ(c.got, "hello", 5);
	teardown(&f);
}

TEST(host_connection_cap)
{
	struct fix f;
	struct gm_multiaddr ma;

	setup_cap(&f, 0, 1);
	connect_ab(&f);
	addr_of(&f, f.b, gm_host_peerid(f.b), &ma);
	f.dialed = 0;
	f.conn = NULL;
	ASSERT_OK(gm_host_dial(f.a, &ma, 5000, on_dialed, &f, NULL));
	run_until(&f, &f.dialed, 1, 5000);
	ASSERT_ERR(f.dial_err, GM_ENET);
	ASSERT_EQ(gm_host_stats(f.b).refused_limit, 1);
	ASSERT_EQ(gm_host_conn_count(f.b), 1);
	teardown(&f);
}

TEST(host_new_out_of_memory)
{
	struct gm_host_config cfg;
	struct gm_key k;
	uv_loop_t loop;
	uint8_t seed[32];
	unsigned long n;
	gm_err e;

	memset(seed, 9, sizeof(seed));
	ASSERT_OK(gm_key_from_seed(&k, "node", seed, 0, NULL));
	ASSERT_EQ(uv_loop_init(&loop), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.loop = &loop;
	cfg.key = &k;
	ASSERT_ERR(gm_host_new(&(struct gm_host *){NULL}, NULL, NULL),
		   GM_EINVAL);
	for (n = 1;; n++) {
		struct gm_host *h = NULL;

		gm_alloc_fail_after(n);
		e = gm_host_new(&h, &cfg, NULL);
		gm_alloc_fail_after(0);
		ASSERT(e == GM_OK || e == GM_ENOMEM);
		ASSERT(e ? h == NULL : h != NULL);
		gm_host_free(h);
		ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
		if (!e)
			break;
	}
	ASSERT(n > 1);
	ASSERT_EQ(uv_loop_close(&loop), 0);
}

TEST(host_close_then_free_at_once)
{
	struct fix f;

	setup(&f, 0);
	connect_ab(&f);
	run_until(&f, &f.connected_b, 1, 5000);
	gm_host_conn_close(f.conn);
	/* a's connection closes before the loop runs again */
	gm_host_free(f.a);
	ASSERT_EQ(f.disconnected_a, 1);
	f.a = NULL;
	run_until(&f, &f.disconnected_b, 1, 5000);
	teardown(&f);
}

TEST(host_stream_cap_per_connection)
{
	struct fix f;
	struct collect c[8];
	struct gm_host_stream *s[8];
	int refused = 0, closed = 0, i;

	memset(&f, 0, sizeof(f));
	ASSERT_EQ(uv_loop_init(&f.loop), 0);
	make_host(&f, &f.a, &f.ka, 1, 0);
	f.max_streams = 4; /* b only */
	make_host(&f, &f.b, &f.kb, 2, 0);
	connect_ab(&f);
	run_until(&f, &f.identified_a, 1, 5000);
	run_until(&f, &f.identified_b, 1, 5000);
	memset(c, 0, sizeof(c));
	for (i = 0; i < 8; i++) {
		c[i].n_closed = &closed;
		ASSERT_OK(gm_host_stream_open(f.conn, GM_ECHO_PROTOCOL,
					      collect_fn, &c[i], &s[i], NULL));
	}
	run_until(&f, &closed, 4, 5000);
	for (i = 0; i < 8; i++)
		if (c[i].closed) {
			ASSERT(c[i].err != GM_OK);
			refused++;
		}
	ASSERT(refused >= 4);
	/* at the cap b refuses more; closing the open ones frees slots */
	for (i = 0; i < 8; i++)
		if (!c[i].closed)
			gm_host_stream_close_write(s[i]);
	run_until(&f, &closed, 8, 5000);
	for (i = 0; i < 8; i++)
		ASSERT(c[i].err != GM_OK || c[i].eof);
	do_pings(&f, 1); /* the connection itself is fine */
	teardown(&f);
}

/*
 * Per-peer caps: b lets a peer hold 2 connections and 3 streams. a's
 * third connection is closed once Noise names it (counted as
 * refused_peer); across a's two connections the fourth stream is reset;
 * a second peer c is not affected by a's load.
 */
TEST(host_per_peer_caps)
{
	struct fix f;
	struct gm_host_config cfg;
	struct gm_host_conn *c1, *c2;
	struct gm_multiaddr ma;
	struct gm_host *c;
	struct gm_key kc;
	struct collect col[4];
	int closed = 0, i, refused = 0;
	uint8_t seed[32];

	memset(&f, 0, sizeof(f));
	ASSERT_EQ(uv_loop_init(&f.loop), 0);
	make_host(&f, &f.a, &f.ka, 1, 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.max_conns_per_peer = 2;
	cfg.max_streams_per_peer = 3;
	make_host_cfg(&f, &f.b, &f.kb, 2, cfg);
	connect_ab(&f);
	c1 = f.conn;
	f.dialed = 0;
	connect_ab(&f);
	c2 = f.conn;
	ASSERT(c1 != c2);
	run_until(&f, &f.connected_b, 2, 5000);
	/* the third: a's side may finish before b has read a's last
	 * handshake message, so wait for b's verdict */
	f.dialed = 0;
	addr_of(&f, f.b, gm_host_peerid(f.b), &ma);
	ASSERT_OK(gm_host_dial(f.a, &ma, 5000, on_dialed, &f, NULL));
	run_until(&f, &f.dialed, 1, 5000);
	for (i = 0; i < 1000 && gm_host_stats(f.b).refused_peer == 0; i++)
		uv_run(&f.loop, UV_RUN_ONCE);
	ASSERT_EQ(gm_host_stats(f.b).refused_peer, 1);
	ASSERT_EQ(f.connected_b, 2);
	/* streams: 2 on c1, 2 on c2; b lets 3 through (the identify
	 * streams are over by now) */
	run_until(&f, &f.identified_b, 2, 5000);
	run_until(&f, &f.identified_a, 2, 5000);
	memset(col, 0, sizeof(col));
	for (i = 0; i < 4; i++) {
		col[i].n_closed = &closed;
		ASSERT_OK(gm_host_stream_open(i < 2 ? c1 : c2,
					      GM_ECHO_PROTOCOL, collect_fn,
					      &col[i], NULL, NULL));
	}
	run_until(&f, &closed, 1, 5000);
	for (i = 0; i < 4; i++)
		refused += col[i].closed && col[i].err != GM_OK;
	ASSERT_EQ(refused, 1);
	/* another peer is not held back by a's load */
	memset(seed, 3, sizeof(seed));
	ASSERT_OK(gm_key_from_seed(&kc, "node", seed, 0, NULL));
	memset(&cfg, 0, sizeof(cfg));
	cfg.loop = &f.loop;
	cfg.key = &kc;
	ASSERT_OK(gm_host_new(&c, &cfg, NULL));
	f.dialed = 0;
	ASSERT_OK(gm_host_dial(c, &ma, 5000, on_dialed, &f, NULL));
	run_until(&f, &f.dialed, 1, 5000);
	ASSERT_OK(f.dial_err);
	run_until(&f, &f.connected_b, 3, 5000);
	ASSERT_EQ(gm_host_stats(f.b).refused_peer, 1);
	gm_host_free(c);
	gm_key_release(&kc);
	teardown(&f);
}

struct mute {
	uv_tcp_t srv;
	uv_tcp_t peer;
	bool accepted;
};

static void mute_conn(uv_stream_t *srv, int status)
{
	struct mute *m = srv->data;

	ASSERT_EQ(status, 0);
	uv_tcp_init(srv->loop, &m->peer);
	ASSERT_EQ(uv_accept(srv, (uv_stream_t *)&m->peer), 0);
	m->accepted = true;
}

TEST(host_dial_timeout_silent_peer)
{
	struct fix f;
	struct mute m;
	struct sockaddr_in sa;
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	struct gm_multiaddr ma;
	char text[64];

	setup(&f, 0);
	memset(&m, 0, sizeof(m));
	uv_tcp_init(&f.loop, &m.srv);
	m.srv.data = &m;
	uv_ip4_addr("127.0.0.1", 0, &sa);
	ASSERT_EQ(uv_tcp_bind(&m.srv, (struct sockaddr *)&sa, 0), 0);
	ASSERT_EQ(uv_listen((uv_stream_t *)&m.srv, 4, mute_conn), 0);
	ASSERT_EQ(uv_tcp_getsockname(&m.srv, (struct sockaddr *)&ss, &len),
		  0);
	snprintf(text, sizeof(text), "/ip4/127.0.0.1/tcp/%u",
		 ntohs(((struct sockaddr_in *)&ss)->sin_port));
	ASSERT_OK(gm_multiaddr_parse(&ma, text, strlen(text), NULL));
	ASSERT_OK(gm_host_dial(f.a, &ma, 200, on_dialed, &f, NULL));
	run_until(&f, &f.dialed, 1, 5000);
	ASSERT_ERR(f.dial_err, GM_ETIMEOUT);
	ASSERT(strstr(f.dial_diag.msg, "200 ms"));
	ASSERT(m.accepted);
	uv_close((uv_handle_t *)&m.srv, NULL);
	uv_close((uv_handle_t *)&m.peer, NULL);
	teardown(&f);
}
