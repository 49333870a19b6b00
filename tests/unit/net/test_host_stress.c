/*
 * test_host_stress.c - connection churn against one libp2p host on
 * 127.0.0.1 in one uv loop, and idle pruning:
 *   | test                                | work                          |
 *   |-------------------------------------|-------------------------------|
 *   | host_thousand_sequential_connections | 1000 x (dial, Identify, one  |
 *   |                                     | ping, close)                  |
 *   | host_two_hundred_concurrent_echo    | 200 connections open at once, |
 *   |                                     | one echo of 4-8 KiB on each   |
 *   | host_idle_connection_pruned         | idle timeout 200 ms           |
 * After the churn the process has as many open file descriptors as before
 * (entries in /proc/self/fd) and both hosts count no connection; every host
 * is freed and the loop run dry, so LeakSanitizer at exit sees no leak.
 */
#include "harness.h"

#include <dirent.h>

#include "gm/alloc.h"
#include "gm/host.h"

#define SEQ_CONNS 1000
#define CONC_CONNS 200

struct fix {
	uv_loop_t loop;
	struct gm_key ka, kb;
	struct gm_host *a, *b; /* a dials, b listens */
	int identified_a;
	int connected_b;
	int disconnected_a, disconnected_b;
	gm_err disc_err_a, disc_err_b;
	uint64_t disc_ms_b; /* uv_now at b's latest DISCONNECTED */
};

static void observer(void *ctx, struct gm_host_conn *c, enum gm_host_event ev,
		     gm_err err)
{
	struct fix *f = ctx;
	bool is_a = gm_host_conn_outbound(c);

	if (ev == GM_HOST_EV_IDENTIFIED) {
		if (is_a)
			f->identified_a++;
	} else if (ev == GM_HOST_EV_CONNECTED) {
		if (!is_a)
			f->connected_b++;
	} else if (is_a) {
		f->disconnected_a++;
		if (err)
			f->disc_err_a = err;
	} else {
		f->disconnected_b++;
		f->disc_ms_b = uv_now(&f->loop);
		if (err)
			f->disc_err_b = err;
	}
}

static void make_host(struct fix *f, struct gm_host **h, struct gm_key *k,
		      uint8_t seed_byte, size_t max_conns, uint64_t idle_ms)
{
	struct gm_host_config cfg;
	struct gm_multiaddr ma;
	uint8_t seed[32];

	memset(seed, seed_byte, sizeof(seed));
	ASSERT_OK(gm_key_from_seed(k, "node", seed, 0, NULL));
	memset(&cfg, 0, sizeof(cfg));
	cfg.loop = &f->loop;
	cfg.key = k;
	cfg.max_conns = max_conns;
	/* every connection here comes from the one peer a */
	cfg.max_conns_per_peer = max_conns ? max_conns : GM_HOST_MAX_CONNS;
	cfg.max_streams_per_peer = GM_HOST_MAX_CONNS * GM_HOST_MAX_STREAMS;
	cfg.idle_timeout_ms = idle_ms;
	ASSERT_OK(gm_host_new(h, &cfg, NULL));
	gm_host_set_observer(*h, observer, f);
	ASSERT_OK(gm_multiaddr_parse(&ma, "/ip4/127.0.0.1/tcp/0", 20, NULL));
	ASSERT_OK(gm_host_listen(*h, &ma, NULL));
}

static void setup(struct fix *f, size_t max_conns, uint64_t idle_b)
{
	memset(f, 0, sizeof(*f));
	ASSERT_EQ(uv_loop_init(&f->loop), 0);
	make_host(f, &f->a, &f->ka, 1, max_conns, 0);
	make_host(f, &f->b, &f->kb, 2, max_conns, idle_b);
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

/* Runs the loop until *cond >= want; fails after ms (cond NULL: runs ms). */
static void run_until(struct fix *f, const int *cond, int want, uint64_t ms)
{
	uv_timer_t t;
	bool late = false;

	uv_timer_init(&f->loop, &t);
	t.data = &late;
	uv_timer_start(&t, on_deadline, ms, 0);
	while ((!cond || *cond < want) && !late)
		uv_run(&f->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	if (cond && *cond < want)
		gm_test_fail(__FILE__, __LINE__, "timed out: %d of %d", *cond,
			     want);
}

static int count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	ASSERT(dir);
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/* b's listen address with /p2p/<b>. */
static void addr_of_b(struct fix *f, struct gm_multiaddr *out)
{
	const struct gm_multiaddr *la;
	const struct gm_peerid *id = gm_host_peerid(f->b);

	ASSERT_EQ(gm_host_listen_addrs(f->b, &la), 1);
	*out = la[0];
	ASSERT_OK(gm_multiaddr_push(out, GM_MA_P2P, id->bytes, id->len,
				    NULL));
}

struct dial {
	struct gm_host_conn *conn;
	gm_err err;
	int *done;
};

static void on_dialed(void *ctx, gm_err err, struct gm_host_conn *c,
		      const struct gm_diag *d)
{
	struct dial *dl = ctx;

	(void)d;
	dl->err = err;
	dl->conn = c;
	(*dl->done)++;
}

/* ---- ping ---- */

struct pinger {
	struct gm_ping p;
	int pongs;
	int closed;
	gm_err err;
};

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
	if (ev == GM_HOST_STREAM_READY) {
		gm_buf_init(&out, 64);
		ASSERT_OK(gm_ping_send(&pg->p, NULL, uv_hrtime() / 1000,
				       &out));
		ASSERT_OK(gm_host_stream_write(s, out.data, out.len));
		gm_buf_release(&out);
	}
	while (ev == GM_HOST_STREAM_DATA && len) {
		ASSERT_OK(gm_ping_feed(&pg->p, data, len, uv_hrtime() / 1000,
				       &used, &pong, &rtt, NULL));
		data += used;
		len -= used;
		if (pong) {
			pg->pongs++;
			gm_host_stream_close_write(s);
		}
	}
}

/* ---- echo ---- */

struct echoer {
	size_t size;
	uint8_t seed;
	size_t got;
	bool mismatch;
	bool eof;
	int writable; /* WRITABLE events */
	bool keep_open; /* do not close our side after writing */
	struct gm_host_stream *s;
	int closed;
	int *done;
	gm_err err;
};

static uint8_t pattern(uint8_t seed, size_t i)
{
	return (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

static void echo_fn(void *ctx, struct gm_host_stream *s,
		    enum gm_host_stream_event ev, const uint8_t *data,
		    size_t len, gm_err err)
{
	struct echoer *e = ctx;
	uint8_t buf[8192];
	size_t i;

	if (ev == GM_HOST_STREAM_READY) {
		e->s = s;
		ASSERT(e->size <= sizeof(buf));
		for (i = 0; i < e->size; i++)
			buf[i] = pattern(e->seed, i);
		ASSERT_OK(gm_host_stream_write(s, buf, e->size));
		if (!e->keep_open)
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
		e->s = NULL;
		if (e->done)
			(*e->done)++;
	}
}

TEST(host_thousand_sequential_connections)
{
	struct fix f;
	struct gm_multiaddr ma;
	struct gm_host_stats sa, sb;
	struct pinger pg;
	struct dial dl;
	uint64_t t0;
	int base, dialed, i;

	setup(&f, 0, 0);
	addr_of_b(&f, &ma);
	uv_run(&f.loop, UV_RUN_NOWAIT);
	base = count_fds();
	t0 = uv_hrtime();
	for (i = 0; i < SEQ_CONNS; i++) {
		dialed = 0;
		memset(&dl, 0, sizeof(dl));
		dl.done = &dialed;
		ASSERT_OK(gm_host_dial(f.a, &ma, 10000, on_dialed, &dl, NULL));
		run_until(&f, &dialed, 1, 10000);
		ASSERT_OK(dl.err);
		ASSERT(dl.conn);
		run_until(&f, &f.identified_a, i + 1, 10000);
		ASSERT(gm_host_conn_identify(dl.conn));
		memset(&pg, 0, sizeof(pg));
		gm_ping_init(&pg.p);
		ASSERT_OK(gm_host_stream_open(dl.conn, GM_PING_PROTOCOL,
					      ping_fn, &pg, NULL, NULL));
		run_until(&f, &pg.closed, 1, 10000);
		ASSERT_OK(pg.err);
		ASSERT_EQ(pg.pongs, 1);
		gm_host_conn_close(dl.conn);
		run_until(&f, &f.disconnected_a, i + 1, 10000);
		run_until(&f, &f.disconnected_b, i + 1, 10000);
	}
	fprintf(stderr, "%d sequential connections: %.2f s\n", SEQ_CONNS,
		(double)(uv_hrtime() - t0) / 1e9);
	ASSERT_EQ(gm_host_conn_count(f.a), 0);
	ASSERT_EQ(gm_host_conn_count(f.b), 0);
	sa = gm_host_stats(f.a);
	sb = gm_host_stats(f.b);
	ASSERT_EQ(sa.conns_opened, SEQ_CONNS);
	ASSERT_EQ(sb.conns_opened, SEQ_CONNS);
	ASSERT_EQ(sa.handshake_failed + sa.protocol_errors + sa.timeouts, 0);
	ASSERT_EQ(sb.handshake_failed + sb.protocol_errors + sb.timeouts, 0);
	ASSERT_EQ(f.connected_b, SEQ_CONNS);
	ASSERT_OK(f.disc_err_a);
	ASSERT_OK(f.disc_err_b);
	uv_run(&f.loop, UV_RUN_NOWAIT);
	ASSERT_EQ(count_fds(), base);
	teardown(&f);
}

TEST(host_two_hundred_concurrent_echo)
{
	struct fix f;
	struct gm_multiaddr ma;
	struct dial *dl;
	struct echoer *e;
	struct gm_host_stats sb;
	uint64_t t0;
	int base, dialed = 0, echoed = 0, i;

	setup(&f, CONC_CONNS + 50, 0);
	addr_of_b(&f, &ma);
	dl = gm_calloc(CONC_CONNS, sizeof(*dl));
	e = gm_calloc(CONC_CONNS, sizeof(*e));
	ASSERT(dl && e);
	uv_run(&f.loop, UV_RUN_NOWAIT);
	base = count_fds();
	t0 = uv_hrtime();
	for (i = 0; i < CONC_CONNS; i++) {
		dl[i].done = &dialed;
		ASSERT_OK(gm_host_dial(f.a, &ma, 30000, on_dialed, &dl[i],
				       NULL));
	}
	run_until(&f, &dialed, CONC_CONNS, 40000);
	for (i = 0; i < CONC_CONNS; i++) {
		ASSERT_OK(dl[i].err);
		ASSERT(dl[i].conn);
	}
	run_until(&f, &f.connected_b, CONC_CONNS, 10000);
	/* all of them open at the same time on both sides */
	ASSERT_EQ(gm_host_conn_count(f.a), CONC_CONNS);
	ASSERT_EQ(gm_host_conn_count(f.b), CONC_CONNS);
	ASSERT_EQ(count_fds(), base + 2 * CONC_CONNS);
	for (i = 0; i < CONC_CONNS; i++) {
		e[i].size = 4096 + (size_t)i * 20;
		e[i].seed = (uint8_t)i;
		e[i].done = &echoed;
		ASSERT_OK(gm_host_stream_open(dl[i].conn, GM_ECHO_PROTOCOL,
					      echo_fn, &e[i], NULL, NULL));
	}
	run_until(&f, &echoed, CONC_CONNS, 30000);
	for (i = 0; i < CONC_CONNS; i++) {
		ASSERT_OK(e[i].err);
		ASSERT(e[i].eof);
		ASSERT_EQ(e[i].got, e[i].size);
		ASSERT(!e[i].mismatch);
	}
	for (i = 0; i < CONC_CONNS; i++)
		gm_host_conn_close(dl[i].conn);
	run_until(&f, &f.disconnected_a, CONC_CONNS, 10000);
	run_until(&f, &f.disconnected_b, CONC_CONNS, 10000);
	fprintf(stderr, "%d concurrent echo connections: %.2f s\n",
		CONC_CONNS, (double)(uv_hrtime() - t0) / 1e9);
	ASSERT_EQ(gm_host_conn_count(f.a), 0);
	ASSERT_EQ(gm_host_conn_count(f.b), 0);
	sb = gm_host_stats(f.b);
	ASSERT_EQ(sb.conns_opened, CONC_CONNS);
	ASSERT_EQ(sb.refused_limit, 0);
	ASSERT_EQ(sb.handshake_failed + sb.protocol_errors + sb.timeouts, 0);
	ASSERT_OK(f.disc_err_a);
	ASSERT_OK(f.disc_err_b);
	uv_run(&f.loop, UV_RUN_NOWAIT);
	ASSERT_EQ(count_fds(), base);
	gm_free(dl);
	gm_free(e);
	teardown(&f);
}

TEST(host_idle_connection_pruned)
{
	struct fix f;
	struct gm_multiaddr ma;
	struct echoer e;
	struct dial dl;
	uint64_t t_free;
	int dialed = 0, base;

	setup(&f, 0, 200); /* b prunes after 200 ms, a after 5 minutes */
	addr_of_b(&f, &ma);
	uv_run(&f.loop, UV_RUN_NOWAIT);
	base = count_fds();
	memset(&dl, 0, sizeof(dl));
	dl.done = &dialed;
	ASSERT_OK(gm_host_dial(f.a, &ma, 5000, on_dialed, &dl, NULL));
	run_until(&f, &dialed, 1, 5000);
	ASSERT_OK(dl.err);
	run_until(&f, &f.identified_a, 1, 5000);

	/* an open stream keeps the connection, however long it is quiet */
	memset(&e, 0, sizeof(e));
	e.size = 1000;
	e.seed = 9;
	e.keep_open = true;
	ASSERT_OK(gm_host_stream_open(dl.conn, GM_ECHO_PROTOCOL, echo_fn, &e,
				      NULL, NULL));
	run_until(&f, NULL, 0, 700);
	ASSERT_EQ(e.got, 1000);
	ASSERT(!e.closed);
	ASSERT_EQ(f.disconnected_b, 0);
	ASSERT_EQ(gm_host_conn_count(f.b), 1);
	ASSERT_EQ(gm_host_stats(f.b).idle_closed, 0);

	/* once the stream is gone, b closes the connection after 200 ms */
	ASSERT(e.s);
	gm_host_stream_close_write(e.s);
	run_until(&f, &e.closed, 1, 5000);
	ASSERT_OK(e.err);
	t_free = uv_now(&f.loop);
	run_until(&f, &f.disconnected_b, 1, 5000);
	run_until(&f, &f.disconnected_a, 1, 5000);
	ASSERT(f.disc_ms_b - t_free >= 150);
	ASSERT(f.disc_ms_b - t_free < 2000);
	ASSERT_OK(f.disc_err_b);
	ASSERT_OK(f.disc_err_a);
	ASSERT_EQ(gm_host_stats(f.b).idle_closed, 1);
	ASSERT_EQ(gm_host_stats(f.b).protocol_errors, 0);
	ASSERT_EQ(gm_host_stats(f.a).idle_closed, 0);
	ASSERT_EQ(gm_host_conn_count(f.a), 0);
	ASSERT_EQ(gm_host_conn_count(f.b), 0);
	uv_run(&f.loop, UV_RUN_NOWAIT);
	ASSERT_EQ(count_fds(), base);
	teardown(&f);
}
