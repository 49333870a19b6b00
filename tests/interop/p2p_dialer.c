/*
 * p2p_dialer.c - the interop test program for "we dial js": our host dials
 * a js-libp2p peer (p2p_peer.mjs listen / serve-echo) and checks Identify,
 * Ping, concurrent /ggen/echo/1.0.0 streams and an idle connection.
 * Not a user verb; tests/interop/p2p_interop.sh runs it.
 *
 *   p2p_dialer MULTIADDR [--pings N] [--streams N] [--bytes N]
 *                        [--inflight N] [--idle-seconds N]
 *                        [--echo-seconds N]
 *
 * Steps, one after the other on one uv loop, with a fresh Ed25519 key:
 *   | step     | passes when                                            |
 *   |----------|--------------------------------------------------------|
 *   | dial     | the upgrade (Noise, Yamux) finished                    |
 *   | identify | js answered Identify, listing ping and echo protocols  |
 *   | ping     | N pongs on one /ipfs/ping/1.0.0 stream                 |
 *   | echo     | N concurrent streams each get their BYTES back intact  |
 *   | idle     | after the wait the same connection is open and a ping  |
 *   |          | on a new stream is answered                            |
 * Echo payload of stream I (0-based), as p2p_peer.mjs makes it: xorshift32
 * words, little-endian, state seeded with (I + 1) * 0x9e3779b9 (mod 2^32,
 * then | 1), each word after x ^= x << 13; x ^= x >> 17; x ^= x << 5.
 * --inflight N caps the payload bytes of a stream sent and not yet echoed
 * (default 16 KiB); 0 means no cap: a stream writes while
 * gm_host_stream_write accepts, and after GM_ELIMIT (not a failure; the
 * chunk is kept) waits for GM_HOST_STREAM_WRITABLE. --echo-seconds bounds
 * the echo step (default 180). --pings 0 skips the ping step; with
 * --idle-seconds 0 the final ping follows the echo at once.
 * Output, one line each, stdout flushed per line:
 *   connected <peer id>
 *   identify protocols=<comma list> agent=<agent version>
 *   ping N rtt=X ms
 *   echo ok=N fail=N bytes=N seconds=X mbps=X elimit=N writable=N
 *                          (mbps: MB/s both ways; elimit: writes refused
 *                           with GM_ELIMIT; writable: WRITABLE events)
 *   echo-fail I: reason                          (at most 5)
 *   idle seconds=N open=B same=B ping=B
 *   verdict {"identify":B,"pings":N,"echo_ok":N,"echo_fail":N,
 *            "idle_ok":B,"inflight":N,"elimit":N,"writable":N,
 *            "mbps":X,"closed":S}                 (always last)
 * closed: "no" while our connection is up (or we ended it when done),
 * "peer" when the remote hung up, "us:<error name>" when our host closed
 * it for an error (e.g. "us:ELIMIT": the peer did not read what we sent).
 * Exit 0 when every step passed, 1 when one failed, 2 for bad usage.
 */
#include "internal.h"

#include <uv.h>

#include "gm/alloc.h"
#include "gm/buf.h"
#include "gm/host.h"
#include "gm/keys.h"

#define DIAL_TIMEOUT_MS 10000
#define STEP_TIMEOUT_MS 10000
#define PUMP_MS 10
#define CHUNK (64u * 1024)
/*
 * Default payload bytes of one stream sent and not yet echoed. js's
 * connection monitor pings us every 10 s and drops the connection when a
 * ping (several round trips with multistream-select) takes over 5 s, so
 * the bytes queued both ways must stay small when many streams run: 100
 * streams keep at most 1.6 MiB in flight. --inflight 0 instead leaves the
 * pacing to the host's backpressure (GM_ELIMIT, WRITABLE).
 */
#define INFLIGHT_DEFAULT (16u * 1024)
#define ECHO_SECONDS_DEFAULT 180
#define MAX_ECHO_SECONDS 3600
#define MAX_STREAMS 250
#define MAX_BYTES (64ull * 1024 * 1024)
#define MAX_PINGS 1000
#define MAX_IDLE 3600
#define MAX_FAIL_LINES 5

enum step { S_DIAL, S_IDENTIFY, S_PING, S_ECHO, S_IDLE, S_FINAL, S_DONE };

/* The byte stream of xorshift32 words of one echo stream. */
struct gen {
	uint32_t x;
	uint8_t word[4];
	unsigned pos;
};

struct dialer;

struct echo {
	struct dialer *dl;
	struct gm_host_stream *s;
	uint32_t idx;
	struct gen tx, rx;
	uint64_t sent, got;
	bool wrote_all, eof, failed, closed;
	bool blocked; /* a write got GM_ELIMIT; waiting for WRITABLE */
	char why[120];
};

struct dialer {
	uv_loop_t loop;
	uv_timer_t deadline, pump;
	struct gm_host *host;
	struct gm_host_conn *conn, *first_conn;
	enum step step;
	bool finished, lost;
	/* options */
	uint64_t pings, streams, bytes, idle, inflight, echo_secs;
	/* identify */
	bool identified, identify_ok;
	/* ping */
	struct gm_host_stream *ping_s;
	struct gm_ping p;
	uint64_t pongs;
	bool final_pong;
	/* echo */
	struct echo *echo;
	uint64_t echo_ok, echo_fail, echo_closed, fail_lines;
	uint64_t echo_start;
	uint64_t echo_ready;
	uint64_t elimit, writable;
	double mbps;
	/* how our connection ended: GM_OK by the peer, else our error */
	bool conn_lost;
	gm_err lost_err;
	uint8_t chunk[CHUNK], want[CHUNK];
	/* idle */
	bool idle_open, idle_same, idle_ok;
};

static void run_step(struct dialer *dl, enum step st);

static uint64_t now_us(void)
{
	return uv_hrtime() / 1000;
}

static void gen_init(struct gen *g, uint32_t idx)
{
	g->x = (uint32_t)((idx + 1u) * 0x9e3779b9u) | 1u;
	g->pos = 4;
}

static uint8_t gen_byte(struct gen *g)
{
	if (g->pos == 4) {
		g->x ^= g->x << 13;
		g->x ^= g->x >> 17;
		g->x ^= g->x << 5;
		g->word[0] = (uint8_t)g->x;
		g->word[1] = (uint8_t)(g->x >> 8);
		g->word[2] = (uint8_t)(g->x >> 16);
		g->word[3] = (uint8_t)(g->x >> 24);
		g->pos = 0;
	}
	return g->word[g->pos++];
}

/* The next n bytes of g into buf, a word at a time where it can. */
static void gen_fill(struct gen *g, uint8_t *buf, size_t n)
{
	uint32_t x;

	while (n && g->pos != 4) {
		*buf++ = gen_byte(g);
		n--;
	}
	x = g->x;
	while (n >= 4) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[0] = (uint8_t)x;
		buf[1] = (uint8_t)(x >> 8);
		buf[2] = (uint8_t)(x >> 16);
		buf[3] = (uint8_t)(x >> 24);
		buf += 4;
		n -= 4;
	}
	g->x = x;
	while (n--)
		*buf++ = gen_byte(g);
}

static void say(const char *fmt, ...) GM_PRINTF(1, 2);

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static const char *yes(bool b)
{
	return b ? "true" : "false";
}

static void say_idle(const struct dialer *dl, bool ping)
{
	say("idle seconds=%llu open=%s same=%s ping=%s",
	    (unsigned long long)dl->idle, yes(dl->idle_open),
	    yes(dl->idle_same), yes(ping));
}

static bool all_ok(const struct dialer *dl)
{
	return dl->identify_ok && dl->pongs == dl->pings &&
	       dl->echo_ok == dl->streams && !dl->echo_fail && dl->idle_ok;
}

static void on_stop(uv_timer_t *t)
{
	struct dialer *dl = t->data;

	uv_close((uv_handle_t *)&dl->deadline, NULL);
	uv_close((uv_handle_t *)&dl->pump, NULL);
	gm_host_free(dl->host);
	dl->host = NULL;
}

/* MB/s both ways of the echo so far: bytes sent plus bytes back. */
static double echo_mbps(const struct dialer *dl)
{
	double secs = (double)(now_us() - dl->echo_start) / 1e6;
	double n = 0;
	uint64_t i;

	for (i = 0; i < dl->streams; i++)
		n += (double)(dl->echo[i].sent + dl->echo[i].got);
	return secs > 0 ? n / 1e6 / secs : 0.0;
}

/* Prints the verdict and frees the host; the loop then runs down. */
static void finish(struct dialer *dl)
{
	char closed[40];

	if (dl->finished)
		return;
	if (dl->step == S_ECHO && dl->echo_start)
		dl->mbps = echo_mbps(dl);
	dl->finished = true;
	dl->step = S_DONE;
	if (!dl->conn_lost)
		snprintf(closed, sizeof(closed), "no");
	else if (!dl->lost_err)
		snprintf(closed, sizeof(closed), "peer");
	else
		snprintf(closed, sizeof(closed), "us:%s",
			 gm_errname(dl->lost_err));
	say("verdict {\"identify\":%s,\"pings\":%llu,\"echo_ok\":%llu,"
	    "\"echo_fail\":%llu,\"idle_ok\":%s,\"inflight\":%llu,"
	    "\"elimit\":%llu,\"writable\":%llu,\"mbps\":%.1f,"
	    "\"closed\":\"%s\"}",
	    yes(dl->identify_ok), (unsigned long long)dl->pongs,
	    (unsigned long long)dl->echo_ok,
	    (unsigned long long)dl->echo_fail, yes(dl->idle_ok),
	    (unsigned long long)dl->inflight,
	    (unsigned long long)dl->elimit,
	    (unsigned long long)dl->writable, dl->mbps, closed);
	uv_timer_stop(&dl->pump);
	/* Not from inside a host callback: the host goes from the loop. */
	uv_timer_start(&dl->deadline, on_stop, 0, 0);
	dl->conn = NULL;
}

static void fail(struct dialer *dl, const char *fmt, ...) GM_PRINTF(2, 3);

static void fail(struct dialer *dl, const char *fmt, ...)
{
	va_list ap;

	fputs("p2p_dialer: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	finish(dl);
}

/* ---- ping ---- */

static void ping_send(struct dialer *dl)
{
	struct gm_buf out;
	gm_err e;

	gm_buf_init(&out, 64);
	e = gm_ping_send(&dl->p, NULL, now_us(), &out);
	if (!e)
		e = gm_host_stream_write(dl->ping_s, out.data, out.len);
	gm_buf_release(&out);
	if (e)
		fail(dl, "cannot send a ping: %s", gm_strerror(e));
	else
		uv_timer_again(&dl->deadline);
}

static void on_pong(struct dialer *dl, uint64_t rtt)
{
	if (dl->step == S_FINAL) {
		dl->final_pong = true;
		dl->idle_ok = dl->idle_open && dl->idle_same;
		say_idle(dl, true);
		finish(dl);
		return;
	}
	dl->pongs++;
	say("ping %llu rtt=%.3f ms", (unsigned long long)dl->pongs,
	    (double)rtt / 1000.0);
	if (dl->pongs < dl->pings) {
		ping_send(dl);
		return;
	}
	gm_host_stream_close_write(dl->ping_s);
	dl->ping_s = NULL;
	run_step(dl, S_ECHO);
}

static void ping_stream(void *ctx, struct gm_host_stream *s,
			enum gm_host_stream_event ev, const uint8_t *data,
			size_t len, gm_err err)
{
	struct dialer *dl = ctx;
	struct gm_diag d;
	size_t used;
	bool pong;
	uint64_t rtt;

	if (dl->finished || (dl->ping_s && s != dl->ping_s))
		return;
	if (ev == GM_HOST_STREAM_READY) {
		dl->ping_s = s;
		ping_send(dl);
		return;
	}
	if (!dl->ping_s)
		return; /* an old ping stream winding down */
	if (ev == GM_HOST_STREAM_EOF || ev == GM_HOST_STREAM_CLOSED) {
		fail(dl, "the ping stream closed early%s%s", err ? ": " : "",
		     err ? gm_strerror(err) : "");
		return;
	}
	while (len && !dl->finished && dl->ping_s == s) {
		gm_diag_clear(&d);
		if (gm_ping_feed(&dl->p, data, len, now_us(), &used, &pong,
				 &rtt, &d)) {
			fail(dl, "bad pong: %s", d.msg);
			return;
		}
		data += used;
		len -= used;
		if (pong)
			on_pong(dl, rtt);
	}
}

static void open_ping(struct dialer *dl)
{
	struct gm_diag d;
	gm_err e;

	gm_ping_init(&dl->p);
	dl->ping_s = NULL;
	gm_diag_clear(&d);
	e = gm_host_stream_open(dl->conn, GM_PING_PROTOCOL, ping_stream, dl,
				NULL, &d);
	if (e)
		fail(dl, "cannot open a ping stream: %s", d.msg);
}

/* ---- echo ---- */

static void echo_fail(struct echo *ec, const char *fmt, ...) GM_PRINTF(2, 3);

static void echo_fail(struct echo *ec, const char *fmt, ...)
{
	va_list ap;

	if (ec->failed)
		return;
	ec->failed = true;
	va_start(ap, fmt);
	vsnprintf(ec->why, sizeof(ec->why), fmt, ap);
	va_end(ap);
	if (ec->s && !ec->closed)
		gm_host_stream_reset(ec->s);
}

/*
 * Writes more of the payload, CHUNK at a time, while the in-flight cap
 * (if any) allows and the host accepts. GM_ELIMIT leaves the chunk for
 * later: the stream waits for WRITABLE.
 */
static void echo_pump(struct echo *ec)
{
	struct dialer *dl = ec->dl;
	struct gen keep;
	uint64_t n;
	gm_err e;

	while (dl->echo_ready == dl->streams && ec->s && !ec->wrote_all &&
	       !ec->failed && !ec->closed && !ec->blocked) {
		n = dl->bytes - ec->sent;
		if (dl->inflight) {
			if (ec->sent - ec->got >= dl->inflight)
				return;
			if (n > dl->inflight - (ec->sent - ec->got))
				n = dl->inflight - (ec->sent - ec->got);
		}
		if (n > CHUNK)
			n = CHUNK;
		keep = ec->tx;
		gen_fill(&ec->tx, dl->chunk, (size_t)n);
		e = n ? gm_host_stream_write(ec->s, dl->chunk, (size_t)n)
		      : GM_OK;
		if (e == GM_ELIMIT) {
			ec->tx = keep;
			ec->blocked = true;
			dl->elimit++;
			return;
		}
		if (e) {
			echo_fail(ec, "write failed: %s", gm_strerror(e));
			return;
		}
		ec->sent += n;
		if (ec->sent == dl->bytes) {
			ec->wrote_all = true;
			gm_host_stream_close_write(ec->s);
		}
	}
}

static void on_pump(uv_timer_t *t)
{
	struct dialer *dl = t->data;
	uint64_t i;

	for (i = 0; i < dl->streams && !dl->finished; i++)
		echo_pump(&dl->echo[i]);
}

static void echo_done(struct dialer *dl)
{
	double secs = (double)(now_us() - dl->echo_start) / 1e6;

	uv_timer_stop(&dl->pump);
	dl->mbps = echo_mbps(dl);
	say("echo ok=%llu fail=%llu bytes=%llu seconds=%.2f mbps=%.1f "
	    "elimit=%llu writable=%llu",
	    (unsigned long long)dl->echo_ok,
	    (unsigned long long)dl->echo_fail,
	    (unsigned long long)dl->bytes, secs, dl->mbps,
	    (unsigned long long)dl->elimit,
	    (unsigned long long)dl->writable);
	run_step(dl, S_IDLE);
}

static void echo_stream(void *ctx, struct gm_host_stream *s,
			enum gm_host_stream_event ev, const uint8_t *data,
			size_t len, gm_err err)
{
	struct echo *ec = ctx;
	struct dialer *dl = ec->dl;
	size_t i, n;

	if (dl->finished || ec->closed)
		return;
	switch (ev) {
	case GM_HOST_STREAM_READY:
		/*
		 * js times out a stream whose protocol is not agreed within
		 * 10 s; so no payload goes out before every stream is READY.
		 */
		ec->s = s;
		if (++dl->echo_ready == dl->streams)
			on_pump(&dl->pump);
		return;
	case GM_HOST_STREAM_DATA:
		if (ec->failed)
			return;
		if (ec->got + len > dl->bytes) {
			echo_fail(ec, "%llu bytes came back, sent %llu",
				  (unsigned long long)(ec->got + len),
				  (unsigned long long)dl->bytes);
			return;
		}
		while (len) {
			n = len < CHUNK ? len : CHUNK;
			gen_fill(&ec->rx, dl->want, n);
			if (memcmp(data, dl->want, n)) {
				for (i = 0; data[i] == dl->want[i]; i++)
					;
				echo_fail(ec, "byte %llu differs",
					  (unsigned long long)(ec->got + i));
				return;
			}
			ec->got += n;
			data += n;
			len -= n;
		}
		echo_pump(ec);
		return;
	case GM_HOST_STREAM_WRITABLE:
		dl->writable++;
		ec->blocked = false;
		echo_pump(ec);
		return;
	case GM_HOST_STREAM_EOF:
		ec->eof = true;
		if (ec->got != dl->bytes)
			echo_fail(ec, "end of stream after %llu of %llu bytes",
				  (unsigned long long)ec->got,
				  (unsigned long long)dl->bytes);
		return;
	case GM_HOST_STREAM_CLOSED:
		break;
	}
	ec->closed = true;
	ec->s = NULL;
	if (!ec->failed && err)
		echo_fail(ec, "stream failed: %s", gm_strerror(err));
	else if (!ec->failed && !ec->eof)
		echo_fail(ec, "closed without end of stream after %llu bytes",
			  (unsigned long long)ec->got);
	if (ec->failed) {
		dl->echo_fail++;
		if (dl->fail_lines++ < MAX_FAIL_LINES)
			say("echo-fail %u: %s", ec->idx, ec->why);
	} else {
		dl->echo_ok++;
	}
	if (++dl->echo_closed == dl->streams)
		echo_done(dl);
}

static void open_echo(struct dialer *dl)
{
	struct gm_diag d;
	struct echo *ec;
	uint64_t i;
	gm_err e;

	dl->echo_start = now_us();
	if (!dl->streams) {
		echo_done(dl);
		return;
	}
	uv_timer_start(&dl->pump, on_pump, PUMP_MS, PUMP_MS);
	for (i = 0; i < dl->streams && !dl->finished; i++) {
		ec = &dl->echo[i];
		gm_diag_clear(&d);
		e = gm_host_stream_open(dl->conn, GM_ECHO_PROTOCOL,
					echo_stream, ec, NULL, &d);
		if (e) {
			fail(dl, "cannot open echo stream %llu: %s",
			     (unsigned long long)i, d.msg);
			return;
		}
	}
}

/* ---- steps ---- */

static void on_deadline(uv_timer_t *t)
{
	struct dialer *dl = t->data;
	static const char *const what[] = {
		"dial", "identify", "ping", "echo", "idle", "final ping", "",
	};

	if (dl->step == S_IDLE) {
		dl->idle_open = dl->conn && !dl->lost;
		dl->idle_same = dl->idle_open && dl->conn == dl->first_conn &&
				gm_host_conn_count(dl->host) == 1;
		run_step(dl, S_FINAL);
		return;
	}
	if (dl->step == S_IDENTIFY) {
		say("identify none (no answer within %d s)",
		    STEP_TIMEOUT_MS / 1000);
		run_step(dl, S_PING);
		return;
	}
	fail(dl, "%s step timed out", what[dl->step]);
}

static void show_identify(struct dialer *dl)
{
	const struct gm_identify *id = gm_host_conn_identify(dl->conn);
	bool ping = false, echo = false;
	size_t i;

	if (!id)
		return;
	printf("identify protocols=");
	for (i = 0; i < id->n_protocols; i++) {
		printf("%s%s", i ? "," : "", id->protocols[i]);
		ping |= !strcmp(id->protocols[i], GM_PING_PROTOCOL);
		echo |= !strcmp(id->protocols[i], GM_ECHO_PROTOCOL);
	}
	say(" agent=%s", id->agent_version ? id->agent_version : "-");
	dl->identify_ok = id->has_key && ping && echo;
}

static void run_step(struct dialer *dl, enum step st)
{
	if (dl->finished)
		return;
	dl->step = st;
	uv_timer_stop(&dl->deadline);
	switch (st) {
	case S_IDENTIFY:
		if (dl->identified) {
			show_identify(dl);
			run_step(dl, S_PING);
			return;
		}
		uv_timer_start(&dl->deadline, on_deadline, STEP_TIMEOUT_MS, 0);
		return;
	case S_PING:
		if (!dl->pings) {
			run_step(dl, S_ECHO);
			return;
		}
		uv_timer_start(&dl->deadline, on_deadline, STEP_TIMEOUT_MS,
			       STEP_TIMEOUT_MS);
		open_ping(dl);
		return;
	case S_ECHO:
		uv_timer_start(&dl->deadline, on_deadline,
			       dl->echo_secs * 1000, 0);
		open_echo(dl);
		return;
	case S_IDLE:
		uv_timer_start(&dl->deadline, on_deadline, dl->idle * 1000, 0);
		return;
	case S_FINAL:
		if (!dl->idle_open) {
			say_idle(dl, false);
			finish(dl);
			return;
		}
		uv_timer_start(&dl->deadline, on_deadline, STEP_TIMEOUT_MS,
			       STEP_TIMEOUT_MS);
		open_ping(dl);
		return;
	case S_DIAL:
	case S_DONE:
		return;
	}
}

static void observer(void *ctx, struct gm_host_conn *c, enum gm_host_event ev,
		     gm_err err)
{
	struct dialer *dl = ctx;

	if (dl->finished)
		return;
	if (ev == GM_HOST_EV_IDENTIFIED) {
		if (dl->conn && c != dl->conn)
			return;
		dl->identified = true;
		if (dl->step == S_IDENTIFY) {
			show_identify(dl);
			run_step(dl, S_PING);
		}
		return;
	}
	if (ev != GM_HOST_EV_DISCONNECTED || c != dl->conn)
		return;
	dl->lost = true;
	dl->conn = NULL;
	dl->conn_lost = true;
	dl->lost_err = err;
	if (dl->step == S_IDLE) {
		say_idle(dl, false);
		fail(dl, "the connection closed while idle: %s",
		     err ? gm_strerror(err) : "by the peer");
		return;
	}
	fail(dl, "the connection closed: %s",
	     err ? gm_strerror(err) : "by the peer");
}

static void on_dialed(void *ctx, gm_err err, struct gm_host_conn *c,
		      const struct gm_diag *d)
{
	struct dialer *dl = ctx;
	char id[GM_PEERID_MAX_STR];

	if (dl->finished)
		return;
	if (err) {
		fail(dl, "cannot dial: %s",
		     d && d->msg[0] ? d->msg : gm_strerror(err));
		return;
	}
	dl->conn = c;
	dl->first_conn = c;
	gm_peerid_format(gm_host_conn_peer(c), id, sizeof(id));
	say("connected %s", id);
	run_step(dl, S_IDENTIFY);
}

/* ---- main ---- */

static bool num_arg(const char *name, const char *text, uint64_t max,
		    uint64_t *out)
{
	unsigned long long v;
	char *end = NULL;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || !end || end == text || *end || text[0] == '-' ||
	    v > max) {
		fprintf(stderr, "p2p_dialer: %s wants a number from 0 to %llu, "
			"not '%s'\n", name, (unsigned long long)max, text);
		return false;
	}
	*out = v;
	return true;
}

static int usage(void)
{
	fputs("usage: p2p_dialer MULTIADDR [--pings N] [--streams N] "
	      "[--bytes N] [--inflight N] [--idle-seconds N] "
	      "[--echo-seconds N]\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	struct gm_host_config cfg;
	struct gm_multiaddr ma;
	struct dialer *dl;
	struct gm_key k;
	struct gm_diag d;
	const char *addr = NULL;
	uint64_t i;
	int ai, rc;
	gm_err e;

	/* A peer that hangs up must give EPIPE, not kill the program. */
	signal(SIGPIPE, SIG_IGN);
	dl = gm_calloc(1, sizeof(*dl));
	if (!dl)
		return 1;
	dl->pings = 10;
	dl->streams = 100;
	dl->bytes = 1024 * 1024;
	dl->idle = 40;
	dl->inflight = INFLIGHT_DEFAULT;
	dl->echo_secs = ECHO_SECONDS_DEFAULT;
	for (ai = 1; ai < argc; ai++) {
		const char *o = argv[ai];
		bool okv = true;

		if (o[0] != '-') {
			if (addr) {
				gm_free(dl);
				return usage();
			}
			addr = o;
			continue;
		}
		if (ai + 1 >= argc) {
			gm_free(dl);
			return usage();
		}
		if (!strcmp(o, "--pings"))
			okv = num_arg(o, argv[++ai], MAX_PINGS, &dl->pings);
		else if (!strcmp(o, "--streams"))
			okv = num_arg(o, argv[++ai], MAX_STREAMS, &dl->streams);
		else if (!strcmp(o, "--bytes"))
			okv = num_arg(o, argv[++ai], MAX_BYTES, &dl->bytes);
		else if (!strcmp(o, "--inflight"))
			okv = num_arg(o, argv[++ai], MAX_BYTES, &dl->inflight);
		else if (!strcmp(o, "--idle-seconds"))
			okv = num_arg(o, argv[++ai], MAX_IDLE, &dl->idle);
		else if (!strcmp(o, "--echo-seconds"))
			okv = num_arg(o, argv[++ai], MAX_ECHO_SECONDS,
				      &dl->echo_secs);
		else
			okv = false;
		if (!okv) {
			gm_free(dl);
			return usage();
		}
	}
	if (!dl->echo_secs) {
		fputs("p2p_dialer: --echo-seconds wants at least 1\n", stderr);
		gm_free(dl);
		return usage();
	}
	gm_diag_clear(&d);
	if (!addr || gm_multiaddr_parse(&ma, addr, strlen(addr), &d)) {
		if (addr)
			fprintf(stderr, "p2p_dialer: '%s': %s\n", addr, d.msg);
		gm_free(dl);
		return usage();
	}
	dl->echo = gm_calloc(dl->streams ? dl->streams : 1,
			     sizeof(*dl->echo));
	if (!dl->echo) {
		gm_free(dl);
		return 1;
	}
	for (i = 0; i < dl->streams; i++) {
		dl->echo[i].dl = dl;
		dl->echo[i].idx = (uint32_t)i;
		gen_init(&dl->echo[i].tx, (uint32_t)i);
		gen_init(&dl->echo[i].rx, (uint32_t)i);
	}

	uv_loop_init(&dl->loop);
	uv_timer_init(&dl->loop, &dl->deadline);
	uv_timer_init(&dl->loop, &dl->pump);
	dl->deadline.data = dl;
	dl->pump.data = dl;
	e = gm_key_generate(&k, "dialer", (uint64_t)time(NULL), &d);
	if (!e) {
		memset(&cfg, 0, sizeof(cfg));
		cfg.loop = &dl->loop;
		cfg.key = &k;
		e = gm_host_new(&dl->host, &cfg, &d);
		gm_key_release(&k);
	}
	if (!e) {
		gm_host_set_observer(dl->host, observer, dl);
		e = gm_host_dial(dl->host, &ma, DIAL_TIMEOUT_MS, on_dialed, dl,
				 &d);
	}
	if (e)
		fail(dl, "cannot start: %s", d.msg[0] ? d.msg : gm_strerror(e));
	uv_run(&dl->loop, UV_RUN_DEFAULT);
	uv_loop_close(&dl->loop);
	rc = all_ok(dl) ? 0 : 1;
	gm_free(dl->echo);
	gm_free(dl);
	return rc;
}
