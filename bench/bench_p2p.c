/*
 * bench_p2p.c - our side of the libp2p benchmark (bench/bench_p2p.sh):
 * connection setup rate, CPU per connection and echo throughput of the
 * gm_host (TCP + Noise + Yamux + Identify) on loopback.
 *
 * Usage:
 *   bench_p2p server
 *       listens on /ip4/127.0.0.1/tcp/0 (serves the built-in
 *       /ggen/echo/1.0.0), prints "listening on <addr>/p2p/<id>", runs
 *       until SIGTERM/SIGINT or end of stdin, then prints its CPU time
 *       since it was ready.
 *   bench_p2p client ADDR --conns SECONDS
 *       sequential connections for SECONDS, each: dial, Noise, Yamux,
 *       wait for the remote's Identify (the remote identifies us too),
 *       one echo stream carrying one byte and its echo, close, wait for
 *       the disconnect.
 *   bench_p2p client ADDR --throughput SECONDS --streams K
 *       one connection, K echo streams kept full (64 KiB writes, at most
 *       INFLIGHT bytes sent and not yet echoed per stream, as a peer that
 *       grants windows faster than it echoes would otherwise buffer
 *       without bound) for SECONDS; counts the bytes that came back.
 *
 * Output, one line each (bench/p2p_bench.mjs prints the same); cpu_us is
 * user+sys microseconds (getrusage) of this process over the measured
 * part only:
 *   | mode       | line                                                |
 *   |------------|-----------------------------------------------------|
 *   | server     | listening on /ip4/127.0.0.1/tcp/P/p2p/12D3KooW...   |
 *   | server     | server conns=N cpu_us=U                             |
 *   | --conns    | client conns=N seconds=S rate=R cpu_us=U            |
 *   | throughput | client streams=K bytes=B seconds=S mbps=M cpu_us=U  |
 * Exit: 0 ok, 1 a network or protocol error (printed on stderr), 2 usage.
 */
#include "internal.h"

#include <signal.h>
#include <sys/resource.h>
#include <uv.h>

#include "gm/host.h"
#include "gm/keys.h"
#include "gm/multiaddr.h"

#define CHUNK 65536
#define INFLIGHT ((uint64_t)2 * 1024 * 1024)
#define MAX_STREAMS 256
#define DIAL_TIMEOUT_MS 10000

struct bench {
	uv_loop_t loop;
	uv_signal_t sigint, sigterm;
	uv_pipe_t in;
	uv_timer_t timer;
	bool in_open, timer_open, sig_open, stopping, failing;
	struct gm_host *host;
	struct gm_multiaddr target;
	/* client */
	bool tput;
	double seconds;
	int streams;
	uint64_t t0, t_end, cpu0, conns, bytes;
	bool counting, identified, echoed, failed;
	struct gm_host_conn *conn;
	int rc;
	struct tstream {
		struct bench *b;
		uint64_t sent, got;
	} ts[MAX_STREAMS];
};

static uint8_t chunk[CHUNK];

static uint64_t cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)ru.ru_utime.tv_sec * 1000000u +
	       (uint64_t)ru.ru_utime.tv_usec +
	       (uint64_t)ru.ru_stime.tv_sec * 1000000u +
	       (uint64_t)ru.ru_stime.tv_usec;
}

static void close_handles(struct bench *b)
{
	if (b->sig_open) {
		uv_close((uv_handle_t *)&b->sigint, NULL);
		uv_close((uv_handle_t *)&b->sigterm, NULL);
		b->sig_open = false;
	}
	if (b->in_open) {
		uv_close((uv_handle_t *)&b->in, NULL);
		b->in_open = false;
	}
	if (b->timer_open) {
		uv_close((uv_handle_t *)&b->timer, NULL);
		b->timer_open = false;
	}
}

static void stop(struct bench *b)
{
	if (b->stopping)
		return;
	b->stopping = true;
	close_handles(b);
	gm_host_free(b->host);
	b->host = NULL;
}

static void on_fail_timer(uv_timer_t *t)
{
	stop(t->data);
}

/*
 * Prints the error and stops from a fresh loop turn, not from inside the
 * host's callback (b->failing: the host's events are ignored meanwhile).
 */
static void fail(struct bench *b, const char *what, gm_err e,
		 const struct gm_diag *d)
{
	if (b->failing || b->stopping)
		return;
	fprintf(stderr, "bench_p2p: %s: %s%s%s\n", what, gm_strerror(e),
		d && d->msg[0] ? ": " : "", d ? d->msg : "");
	b->rc = 1;
	b->failing = true;
	if (b->timer_open)
		uv_timer_start(&b->timer, on_fail_timer, 0, 0);
	else
		stop(b);
}

/* ---- server ---- */

static void server_done(struct bench *b)
{
	struct gm_host_stats st;

	if (b->stopping)
		return;
	st = gm_host_stats(b->host);
	printf("server conns=%" PRIu64 " cpu_us=%" PRIu64 "\n",
	       st.conns_opened, cpu_us() - b->cpu0);
	fflush(stdout);
	stop(b);
}

static void on_signal(uv_signal_t *s, int signum)
{
	(void)signum;
	server_done(s->data);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char junk[256];

	(void)h;
	(void)hint;
	*buf = uv_buf_init(junk, sizeof(junk));
}

static void on_stdin(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	(void)buf;
	if (n < 0)
		server_done(s->data);
}

static int run_server(struct bench *b)
{
	struct gm_diag d;
	const struct gm_multiaddr *la;
	char text[GM_MULTIADDR_MAX_STR], id[GM_PEERID_MAX_STR];
	gm_err e;

	gm_diag_clear(&d);
	if ((e = gm_multiaddr_parse(&b->target, "/ip4/127.0.0.1/tcp/0",
				    strlen("/ip4/127.0.0.1/tcp/0"), &d)) ||
	    (e = gm_host_listen(b->host, &b->target, &d))) {
		fail(b, "cannot listen", e, &d);
		return 1;
	}
	if (!gm_host_listen_addrs(b->host, &la)) {
		fail(b, "no listen address", GM_ENET, NULL);
		return 1;
	}
	gm_multiaddr_format(&la[0], text, sizeof(text));
	gm_peerid_format(gm_host_peerid(b->host), id, sizeof(id));
	printf("listening on %s/p2p/%s\n", text, id);
	fflush(stdout);
	uv_signal_init(&b->loop, &b->sigint);
	uv_signal_init(&b->loop, &b->sigterm);
	b->sigint.data = b;
	b->sigterm.data = b;
	b->sig_open = true;
	uv_signal_start(&b->sigint, on_signal, SIGINT);
	uv_signal_start(&b->sigterm, on_signal, SIGTERM);
	/* A pipe or terminal on stdin: its end stops the server too. */
	if (uv_guess_handle(0) == UV_NAMED_PIPE &&
	    !uv_pipe_init(&b->loop, &b->in, 0)) {
		b->in_open = true;
		b->in.data = b;
		if (uv_pipe_open(&b->in, 0) ||
		    uv_read_start((uv_stream_t *)&b->in, on_alloc, on_stdin)) {
			uv_close((uv_handle_t *)&b->in, NULL);
			b->in_open = false;
		}
	}
	b->cpu0 = cpu_us();
	return 0;
}

/* ---- client: connections ---- */

static void next_conn(struct bench *b);

static void conns_done(struct bench *b)
{
	uint64_t t = uv_hrtime();
	double s = (double)(t - b->t0) / 1e9;

	printf("client conns=%" PRIu64 " seconds=%.3f rate=%.1f cpu_us=%"
	       PRIu64 "\n", b->conns, s, (double)b->conns / s,
	       cpu_us() - b->cpu0);
	fflush(stdout);
	stop(b);
}

static void echo_stream(void *ctx, struct gm_host_stream *s,
			enum gm_host_stream_event ev, const uint8_t *data,
			size_t len, gm_err err)
{
	struct bench *b = ctx;
	uint8_t one = 42;
	gm_err e;

	switch (ev) {
	case GM_HOST_STREAM_READY:
		if ((e = gm_host_stream_write(s, &one, 1))) {
			fail(b, "echo write", e, NULL);
			return;
		}
		gm_host_stream_close_write(s);
		break;
	case GM_HOST_STREAM_DATA:
		if (len != 1 || data[0] != one || b->echoed) {
			b->failed = true;
			gm_host_stream_reset(s);
			return;
		}
		b->echoed = true;
		break;
	case GM_HOST_STREAM_EOF:
	case GM_HOST_STREAM_WRITABLE:
		break;
	case GM_HOST_STREAM_CLOSED:
		if (b->stopping || b->failing)
			return;
		if (err || !b->echoed || b->failed) {
			fail(b, "echo of one byte", err ? err : GM_EPROTO,
			     NULL);
			return;
		}
		gm_host_conn_close(b->conn);
		break;
	}
}

static void open_echo(struct bench *b)
{
	struct gm_diag d;
	gm_err e;

	gm_diag_clear(&d);
	if ((e = gm_host_stream_open(b->conn, GM_ECHO_PROTOCOL, echo_stream,
				     b, NULL, &d)))
		fail(b, "cannot open the echo stream", e, &d);
}

static void on_event(void *ctx, struct gm_host_conn *c,
		     enum gm_host_event ev, gm_err err)
{
	struct bench *b = ctx;

	if (b->stopping || b->failing || c != b->conn)
		return;
	if (ev == GM_HOST_EV_IDENTIFIED && !b->identified) {
		b->identified = true;
		open_echo(b);
	} else if (ev == GM_HOST_EV_DISCONNECTED) {
		b->conn = NULL;
		if (err || !b->echoed) {
			fail(b, "connection ended early", err ? err : GM_EPROTO,
			     NULL);
			return;
		}
		b->conns++;
		if (uv_hrtime() >= b->t_end)
			conns_done(b);
		else
			next_conn(b);
	}
}

static void on_dialed(void *ctx, gm_err err, struct gm_host_conn *c,
		      const struct gm_diag *d)
{
	struct bench *b = ctx;

	if (err) {
		fail(b, "cannot dial", err, d);
		return;
	}
	b->conn = c;
	if (gm_host_conn_identify(c) && !b->identified) {
		b->identified = true;
		open_echo(b);
	}
}

static void next_conn(struct bench *b)
{
	struct gm_diag d;
	gm_err e;

	b->identified = false;
	b->echoed = false;
	b->failed = false;
	gm_diag_clear(&d);
	if ((e = gm_host_dial(b->host, &b->target, DIAL_TIMEOUT_MS, on_dialed,
			      b, &d)))
		fail(b, "cannot dial", e, &d);
}

/* ---- client: throughput ---- */

static void fill(struct tstream *t, struct gm_host_stream *s)
{
	gm_err e;

	while (t->sent - t->got < INFLIGHT) {
		if ((e = gm_host_stream_write(s, chunk, sizeof(chunk)))) {
			fail(t->b, "stream write", e, NULL);
			return;
		}
		t->sent += sizeof(chunk);
	}
}

static void tput_stream(void *ctx, struct gm_host_stream *s,
			enum gm_host_stream_event ev, const uint8_t *data,
			size_t len, gm_err err)
{
	struct tstream *t = ctx;
	struct bench *b = t->b;

	(void)data;
	if (b->stopping || b->failing)
		return;
	switch (ev) {
	case GM_HOST_STREAM_READY:
	case GM_HOST_STREAM_WRITABLE:
		fill(t, s);
		break;
	case GM_HOST_STREAM_DATA:
		if (b->counting)
			b->bytes += len;
		t->got += len;
		fill(t, s);
		break;
	case GM_HOST_STREAM_EOF:
		break;
	case GM_HOST_STREAM_CLOSED:
		fail(b, "echo stream closed early", err ? err : GM_EPROTO,
		     NULL);
		break;
	}
}

static void on_tput_timer(uv_timer_t *t)
{
	struct bench *b = t->data;
	uint64_t now = uv_hrtime(), cpu = cpu_us();
	double s = (double)(now - b->t0) / 1e9;

	if (b->failing)
		return;
	b->counting = false;
	printf("client streams=%d bytes=%" PRIu64 " seconds=%.3f mbps=%.1f "
	       "cpu_us=%" PRIu64 "\n", b->streams, b->bytes, s,
	       (double)b->bytes / s / 1e6, cpu - b->cpu0);
	fflush(stdout);
	stop(b);
}

static void on_tput_dialed(void *ctx, gm_err err, struct gm_host_conn *c,
			   const struct gm_diag *d)
{
	struct bench *b = ctx;
	struct gm_diag d2;
	gm_err e;
	int i;

	if (err) {
		fail(b, "cannot dial", err, d);
		return;
	}
	b->conn = c;
	b->counting = true;
	b->cpu0 = cpu_us();
	b->t0 = uv_hrtime();
	uv_timer_start(&b->timer, on_tput_timer,
		       (uint64_t)(b->seconds * 1000.0), 0);
	for (i = 0; i < b->streams; i++) {
		gm_diag_clear(&d2);
		b->ts[i].b = b;
		if ((e = gm_host_stream_open(c, GM_ECHO_PROTOCOL, tput_stream,
					     &b->ts[i], NULL, &d2))) {
			fail(b, "cannot open a stream", e, &d2);
			return;
		}
	}
}

static int usage(void)
{
	fputs("usage: bench_p2p server | client ADDR (--conns SECONDS | "
	      "--throughput SECONDS --streams K)\n", stderr);
	return 2;
}

static int parse_client(struct bench *b, int argc, char **argv)
{
	struct gm_diag d;
	bool conns = false;
	char *end;
	double v;
	int i;

	if (argc < 4)
		return usage();
	gm_diag_clear(&d);
	if (gm_multiaddr_parse(&b->target, argv[2], strlen(argv[2]), &d)) {
		fprintf(stderr, "bench_p2p: bad address: %s\n", d.msg);
		return 2;
	}
	b->streams = 1;
	for (i = 3; i + 1 < argc; i += 2) {
		errno = 0;
		v = strtod(argv[i + 1], &end);
		if (errno || *end || !(v > 0) || v > 3600)
			return usage();
		if (!strcmp(argv[i], "--conns")) {
			conns = true;
			b->seconds = v;
		} else if (!strcmp(argv[i], "--throughput")) {
			b->tput = true;
			b->seconds = v;
		} else if (!strcmp(argv[i], "--streams") && v <= MAX_STREAMS) {
			b->streams = (int)v;
		} else {
			return usage();
		}
	}
	if (i != argc || conns == b->tput || b->streams < 1)
		return usage();
	return 0;
}

int main(int argc, char **argv)
{
	struct gm_host_config cfg;
	struct gm_diag d;
	struct gm_key k;
	static struct bench b;
	bool server;
	int rc;
	gm_err e;

	if (argc < 2)
		return usage();
	server = !strcmp(argv[1], "server");
	if (!server && strcmp(argv[1], "client"))
		return usage();
	if (server && argc != 2)
		return usage();
	if (!server && (rc = parse_client(&b, argc, argv)))
		return rc;
	memset(chunk, 7, sizeof(chunk));
	signal(SIGPIPE, SIG_IGN);
	gm_diag_clear(&d);
	if ((e = gm_key_generate(&k, "bench", (uint64_t)time(NULL), &d))) {
		fprintf(stderr, "bench_p2p: key: %s\n", d.msg);
		return 1;
	}
	uv_loop_init(&b.loop);
	memset(&cfg, 0, sizeof(cfg));
	cfg.loop = &b.loop;
	cfg.key = &k;
	cfg.max_conns = GM_HOST_MAX_CONNS;
	e = gm_host_new(&b.host, &cfg, &d);
	gm_key_release(&k);
	if (e) {
		fprintf(stderr, "bench_p2p: host: %s\n", d.msg);
		uv_loop_close(&b.loop);
		return 1;
	}
	uv_timer_init(&b.loop, &b.timer);
	b.timer.data = &b;
	b.timer_open = true;
	if (server) {
		run_server(&b);
	} else if (b.tput) {
		gm_diag_clear(&d);
		if ((e = gm_host_dial(b.host, &b.target, DIAL_TIMEOUT_MS,
				      on_tput_dialed, &b, &d)))
			fail(&b, "cannot dial", e, &d);
	} else {
		gm_host_set_observer(b.host, on_event, &b);
		b.cpu0 = cpu_us();
		b.t0 = uv_hrtime();
		b.t_end = b.t0 + (uint64_t)(b.seconds * 1e9);
		next_conn(&b);
	}
	uv_run(&b.loop, UV_RUN_DEFAULT);
	uv_loop_close(&b.loop);
	return b.rc;
}
