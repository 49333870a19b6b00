/*
 * host.c - the libp2p host on libuv: TCP listeners and dials, the upgrade
 * pipeline of each connection and the protocol streams over Yamux.
 * Connection stages (struct conn_stage):
 *   | stage      | input bytes go to         | output goes out as        |
 *   |------------|---------------------------|---------------------------|
 *   | ST_MSS_SEC | gm_mss ("/noise")         | raw                       |
 *   | ST_NOISE   | gm_noise handshake        | raw                       |
 *   | ST_MSS_MUX | gm_noise -> gm_mss(yamux) | gm_noise_write            |
 *   | ST_READY   | gm_noise -> gm_yamux      | gm_noise_write            |
 * Re-entrancy: user callbacks run only inside service(), which holds
 * c->busy; closing a connection from a callback is deferred until the
 * outermost service ends, and streams are freed only by the sweep at the
 * end of service(). A host being freed waits for the close callbacks of
 * all its uv handles (listeners, connection sockets and timers, the
 * keepalive and idle timers) before its memory goes.
 * Output path: streams queue what handlers write (s->out); flush_streams
 * moves it into Yamux a frame per stream in turn while the socket's
 * backlog is under SOCK_HIGH_WATER (backpressure, resumed by on_written);
 * Yamux output is encrypted at the end of service(). Inside a loop
 * callback the ciphertext collects in c->corked and leaves as one write
 * when the callback ends (corked_begin / corked_end).
 * Idle pruning: a ready connection remembers when it last had a stream
 * (last_active: when one was created or freed); the idle timer, ticking
 * at a quarter of the idle timeout, closes those without streams whose
 * last_active is older than the timeout. Yamux keepalive pings are not
 * streams, so they do not keep a connection alive.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>

#include "gm/alloc.h"
#include "gm/buf.h"
#include "gm/host.h"
#include "gm/log.h"
#include "gm/multistream.h"
#include "gm/noise.h"
#include "gm/yamux.h"

#define READ_CHUNK 65536
/* Plaintext and handshake output buffered per read. */
#define CONN_BUF_MAX (1u << 20)
/* Bytes waiting in libuv's write queue before the peer counts as stuck. */
#define WRITE_QUEUE_MAX (64u * 1024 * 1024)
/*
 * Backpressure: stream data moves into Yamux (and on to the socket) only
 * while the socket's backlog (libuv's write queue plus Yamux output not
 * yet encrypted) is below SOCK_HIGH_WATER; once above, streams keep their
 * data until the backlog falls below SOCK_LOW_WATER. A short backlog also
 * keeps our window updates and pings from waiting behind megabytes.
 */
#define SOCK_HIGH_WATER (256u * 1024)
#define SOCK_LOW_WATER (64u * 1024)
/* An echoing stream (builtin_echoes) stops reading at this much output. */
#define STREAM_HIGH_WATER (1u * 1024 * 1024)
#define KEEPALIVE_TICK_MS 5000

enum conn_stage { ST_CONNECTING, ST_MSS_SEC, ST_NOISE, ST_MSS_MUX, ST_READY };

/*
 * Protocol errors of one peer, remembered for ban_ms (the oldest slot is
 * reused when all are taken: a flood of fresh identities cannot grow it).
 */
#define PENALTY_SLOTS 256
struct penalty {
	struct gm_peerid peer;
	uint32_t errors;
	uint64_t last_ms;      /* when the last error counted */
	uint64_t banned_until; /* loop time; 0: not banned */
};

enum builtin { B_NONE, B_IDENTIFY_OUT, B_IDENTIFY, B_PUSH, B_PING, B_ECHO };

struct gm_host_stream {
	struct gm_host_conn *c;
	struct gm_host_stream *next;
	uint32_t id;
	bool outbound;
	bool negotiated;
	bool eof_delivered;
	bool fin_wanted;
	bool fin_sent;
	bool reset_seen;
	bool dead;
	bool want_writable; /* deliver WRITABLE once out drains */
	bool read_paused;   /* gm_host_stream_pause_read */
	struct gm_mss mss;
	const char *want[1]; /* outbound: the proposal */
	char *want_str;
	char *proto;
	struct gm_buf out;
	size_t out_off;
	gm_host_stream_fn fn;
	void *ctx;
	enum builtin builtin;
	struct gm_buf acc;	 /* identify: the message being read */
	struct gm_ping_echo echo; /* ping listener */
};

struct handler {
	char *proto;
	gm_host_stream_fn fn;
	void *ctx;
	enum builtin builtin;
};

struct gm_host_conn {
	struct gm_host *h;
	struct gm_host_conn *next;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_connect_t connect;
	enum conn_stage stage;
	bool outbound;
	bool closing;
	bool close_pending;
	gm_err close_err;
	char close_reason[GM_DIAG_MAX];
	int busy;
	bool kicked;
	bool send_blocked; /* backlog reached SOCK_HIGH_WATER: wait for drain */
	int cork;	    /* > 0: output collects in corked (see corked_begin) */
	struct gm_buf corked;
	struct gm_buf yout; /* Yamux output swaps into it (no copy) */
	uint32_t rr_next;  /* the stream to flush first next time */
	uint64_t timeout_ms;
	int handles_open;
	bool connected_sent;
	uint64_t last_active; /* uv_now when it last had a stream */
	bool has_expected;
	struct gm_peerid expected;
	struct gm_peerid peer;
	bool peer_known; /* Noise named it and it was admitted */
	struct gm_multiaddr remote;
	struct gm_mss mss;
	bool mss_live;
	struct gm_noise noise;
	bool noise_live;
	struct gm_yamux *yamux;
	struct gm_host_stream *streams;
	size_t n_streams;
	bool identified;
	struct gm_identify info;
	gm_host_dial_fn dial_fn;
	void *dial_ctx;
};

struct listener {
	uv_tcp_t tcp;
	struct gm_host *h;
};

struct gm_host {
	uv_loop_t *loop;
	struct gm_key key;
	/*
	 * The Noise static X25519 key, one per host like js-libp2p's, with
	 * our handshake payload signed once for it and the remotes whose
	 * signatures verified lately (see struct gm_noise_cache).
	 */
	struct gm_noise_cache noise_cache;
	struct gm_peerid id;
	size_t max_conns, max_streams;
	size_t max_conns_per_peer, max_streams_per_peer;
	uint32_t ban_after;
	uint64_t ban_ms;
	struct penalty penalties[PENALTY_SLOTS];
	uint64_t hs_timeout_ms, idle_ms;
	char *agent;
	struct listener *listeners[GM_HOST_MAX_LISTENERS];
	struct gm_multiaddr laddrs[GM_HOST_MAX_LISTENERS];
	size_t n_listeners;
	struct handler handlers[GM_HOST_MAX_HANDLERS];
	const char *names[GM_HOST_MAX_HANDLERS];
	size_t n_handlers;
	struct gm_host_conn *conns;
	size_t n_conns;
	uv_timer_t keepalive;
	uv_timer_t idle;
	uv_timer_t kick;
	int handles_open;
	bool freeing;
	gm_host_event_fn ev_fn;
	void *ev_ctx;
	struct gm_host_stats stats;
	uint8_t rbuf[READ_CHUNK];
	uint8_t pbuf[GM_YAMUX_MAX_FRAME_DATA]; /* stream_pump's reads */
};

static const char *const mss_noise[] = {"/noise"};
static const char *const mss_yamux[] = {GM_YAMUX_PROTOCOL};

static void conn_close(struct gm_host_conn *c, gm_err e, const char *fmt,
		       ...) GM_PRINTF(3, 4);
static void service(struct gm_host_conn *c);
static void conn_close_now(struct gm_host_conn *c);
static void corked_begin(struct gm_host_conn *c);
static void corked_end(struct gm_host_conn *c);

static void on_kick(uv_timer_t *t)
{
	struct gm_host *h = t->data;
	struct gm_host_conn *c, *next;

	for (c = h->conns; c; c = next) {
		next = c->next;
		if (c->kicked) {
			c->kicked = false;
			corked_begin(c);
			service(c);
			corked_end(c);
		}
	}
}

/*
 * Asks for service(c) from the loop: API calls made outside callbacks
 * never run callbacks themselves.
 */
static void kick(struct gm_host_conn *c)
{
	c->kicked = true;
	if (!c->h->freeing && !uv_is_active((uv_handle_t *)&c->h->kick))
		uv_timer_start(&c->h->kick, on_kick, 0, 0);
}

/* ---- addresses ---- */

static gm_err ma_to_sockaddr(const struct gm_multiaddr *ma,
			     struct sockaddr_storage *ss, bool *has_peer,
			     struct gm_peerid *peer, struct gm_diag *d)
{
	struct gm_multiaddr_comp comp;
	size_t off = 0;
	int step = 0;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct gm_diag ign;

	memset(ss, 0, sizeof(*ss));
	*has_peer = false;
	while (gm_multiaddr_next(ma, &off, &comp)) {
		if (step == 0 && comp.code == GM_MA_IP4) {
			s4->sin_family = AF_INET;
			memcpy(&s4->sin_addr, comp.value, 4);
		} else if (step == 0 && comp.code == GM_MA_IP6) {
			s6->sin6_family = AF_INET6;
			memcpy(&s6->sin6_addr, comp.value, 16);
		} else if (step == 1 && comp.code == GM_MA_TCP) {
			uint16_t port = (uint16_t)(comp.value[0] << 8 |
						   comp.value[1]);

			if (ss->ss_family == AF_INET)
				s4->sin_port = htons(port);
			else
				s6->sin6_port = htons(port);
		} else if (step == 2 && comp.code == GM_MA_P2P) {
			if (!peer || gm_peerid_from_bytes(peer, comp.value,
							  comp.len, &ign))
				goto unsupported;
			*has_peer = true;
		} else {
			goto unsupported;
		}
		step++;
	}
	if (step >= 2)
		return GM_OK;
unsupported:
	return gm_diag_set(d, GM_EUNSUPPORTED, "only /ip4/A/tcp/P and "
			   "/ip6/A/tcp/P addresses (optionally ending in "
			   "/p2p/ID) are supported");
}

static void sockaddr_to_ma(const struct sockaddr *sa, struct gm_multiaddr *ma)
{
	uint8_t port[2];
	uint16_t p;

	gm_multiaddr_init(ma);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		gm_multiaddr_push(ma, GM_MA_IP4,
				  (const uint8_t *)&s4->sin_addr, 4, NULL);
		p = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 =
			(const struct sockaddr_in6 *)sa;

		gm_multiaddr_push(ma, GM_MA_IP6,
				  (const uint8_t *)&s6->sin6_addr, 16, NULL);
		p = ntohs(s6->sin6_port);
	} else {
		return;
	}
	port[0] = (uint8_t)(p >> 8);
	port[1] = (uint8_t)p;
	gm_multiaddr_push(ma, GM_MA_TCP, port, 2, NULL);
}

/* ---- host lifetime ---- */

static void host_maybe_free(struct gm_host *h)
{
	size_t i;

	if (!h->freeing || h->handles_open || h->conns)
		return;
	for (i = 0; i < h->n_handlers; i++)
		gm_free(h->handlers[i].proto);
	gm_free(h->agent);
	gm_key_release(&h->key);
	gm_noise_cache_release(&h->noise_cache);
	gm_free(h);
}

static void on_handle_closed_host(uv_handle_t *handle)
{
	struct gm_host *h = handle->data;

	if (handle->type == UV_TCP)
		gm_free(((struct listener *)((char *)handle -
			offsetof(struct listener, tcp))));
	h->handles_open--;
	host_maybe_free(h);
}

static void stream_builtin(void *ctx, struct gm_host_stream *s,
			   enum gm_host_stream_event ev, const uint8_t *data,
			   size_t len, gm_err err);

static gm_err add_handler(struct gm_host *h, const char *proto,
			  gm_host_stream_fn fn, void *ctx, enum builtin b)
{
	size_t i, n = strlen(proto);
	char *copy;

	if (!n || n >= GM_MSS_MAX_MSG - 1 || strchr(proto, '\n'))
		return GM_EINVAL;
	for (i = 0; i < h->n_handlers; i++)
		if (!strcmp(h->handlers[i].proto, proto))
			break;
	if (i == h->n_handlers) {
		if (h->n_handlers >= GM_HOST_MAX_HANDLERS)
			return GM_ELIMIT;
		if (!(copy = gm_strdup(proto)))
			return GM_ENOMEM;
		h->handlers[i].proto = copy;
		h->names[i] = copy;
		h->n_handlers++;
	}
	h->handlers[i].fn = fn;
	h->handlers[i].ctx = ctx;
	h->handlers[i].builtin = b;
	return GM_OK;
}

static void on_keepalive(uv_timer_t *t)
{
	struct gm_host *h = t->data;
	struct gm_host_conn *c, *next;

	for (c = h->conns; c; c = next) {
		next = c->next;
		if (c->stage != ST_READY || c->closing)
			continue;
		if (gm_yamux_tick(c->yamux, uv_now(h->loop)))
			conn_close(c, GM_ETIMEOUT, "keepalive ping unanswered");
		else
			service(c);
	}
}

static void on_idle(uv_timer_t *t)
{
	struct gm_host *h = t->data;
	struct gm_host_conn *c, *next;
	uint64_t now = uv_now(h->loop);

	for (c = h->conns; c && !h->freeing; c = next) {
		next = c->next;
		if (c->stage != ST_READY || c->closing || c->close_pending)
			continue;
		if (c->n_streams) {
			c->last_active = now;
			continue;
		}
		if (now - c->last_active < h->idle_ms)
			continue;
		h->stats.idle_closed++;
		conn_close(c, GM_OK, "idle for %" PRIu64 " ms", h->idle_ms);
	}
}

gm_err gm_host_new(struct gm_host **out, const struct gm_host_config *cfg,
		   struct gm_diag *d)
{
	struct gm_host *h;
	char agent[64];
	uint64_t tick;
	gm_err e;

	*out = NULL;
	if (!cfg || !cfg->loop || !cfg->key || !cfg->key->has_secret)
		return gm_diag_set(d, GM_EINVAL, "host: a loop and a node key "
				   "with its secret are needed");
	h = gm_calloc(1, sizeof(*h));
	if (!h)
		return GM_ENOMEM;
	h->loop = cfg->loop;
	h->key = *cfg->key;
	if ((e = gm_noise_cache_init(&h->noise_cache, &h->key, NULL, d))) {
		gm_key_release(&h->key);
		gm_free(h);
		return e;
	}
	gm_peerid_from_ed25519(&h->id, h->key.pk);
	h->max_conns = cfg->max_conns ? cfg->max_conns : GM_HOST_MAX_CONNS;
	h->max_conns_per_peer = cfg->max_conns_per_peer ?
					cfg->max_conns_per_peer :
					GM_HOST_MAX_CONNS_PER_PEER;
	h->ban_after = cfg->ban_after_errors ? cfg->ban_after_errors :
					       GM_HOST_BAN_AFTER_ERRORS;
	h->ban_ms = cfg->ban_ms ? cfg->ban_ms : GM_HOST_BAN_MS;
	h->max_streams_per_peer = cfg->max_streams_per_peer ?
					  cfg->max_streams_per_peer :
					  GM_HOST_MAX_STREAMS_PER_PEER;
	h->max_streams = cfg->max_streams ? cfg->max_streams :
					    GM_HOST_MAX_STREAMS;
	h->hs_timeout_ms = cfg->handshake_timeout_ms ?
				   cfg->handshake_timeout_ms :
				   GM_HOST_HANDSHAKE_TIMEOUT_MS;
	h->idle_ms = cfg->idle_timeout_ms ? cfg->idle_timeout_ms :
					    GM_HOST_IDLE_TIMEOUT_MS;
	snprintf(agent, sizeof(agent), "ggen/%s", GM_VERSION_STRING);
	h->agent = gm_strdup(cfg->agent_version ? cfg->agent_version : agent);
	e = h->agent ? GM_OK : GM_ENOMEM;
	if (!e)
		e = add_handler(h, GM_IDENTIFY_PROTOCOL, stream_builtin, h,
				B_IDENTIFY);
	if (!e)
		e = add_handler(h, GM_IDENTIFY_PUSH_PROTOCOL, stream_builtin,
				h, B_PUSH);
	if (!e)
		e = add_handler(h, GM_PING_PROTOCOL, stream_builtin, h,
				B_PING);
	if (!e)
		e = add_handler(h, GM_ECHO_PROTOCOL, stream_builtin, h, B_ECHO);
	if (e) {
		h->freeing = true;
		host_maybe_free(h);
		return e;
	}
	uv_timer_init(h->loop, &h->keepalive);
	h->keepalive.data = h;
	h->handles_open++;
	uv_timer_start(&h->keepalive, on_keepalive, KEEPALIVE_TICK_MS,
		       KEEPALIVE_TICK_MS);
	uv_unref((uv_handle_t *)&h->keepalive);
	uv_timer_init(h->loop, &h->idle);
	h->idle.data = h;
	h->handles_open++;
	tick = h->idle_ms / 4 ? h->idle_ms / 4 : 1;
	uv_timer_start(&h->idle, on_idle, tick, tick);
	uv_unref((uv_handle_t *)&h->idle);
	uv_timer_init(h->loop, &h->kick);
	h->kick.data = h;
	h->handles_open++;
	*out = h;
	return GM_OK;
}

void gm_host_free(struct gm_host *h)
{
	struct gm_host_conn *c, *next;
	size_t i;

	if (!h || h->freeing)
		return;
	h->freeing = true;
	for (i = 0; i < h->n_listeners; i++)
		uv_close((uv_handle_t *)&h->listeners[i]->tcp,
			 on_handle_closed_host);
	h->n_listeners = 0;
	uv_timer_stop(&h->keepalive);
	uv_close((uv_handle_t *)&h->keepalive, on_handle_closed_host);
	uv_timer_stop(&h->idle);
	uv_close((uv_handle_t *)&h->idle, on_handle_closed_host);
	uv_timer_stop(&h->kick);
	uv_close((uv_handle_t *)&h->kick, on_handle_closed_host);
	for (c = h->conns; c; c = next) {
		next = c->next;
		if (c->close_pending && !c->busy && !c->closing) {
			c->close_pending = false;
			conn_close_now(c);
		} else {
			conn_close(c, GM_OK, "host shutting down");
		}
	}
}

const struct gm_peerid *gm_host_peerid(const struct gm_host *h)
{
	return &h->id;
}

void gm_host_set_observer(struct gm_host *h, gm_host_event_fn fn, void *ctx)
{
	h->ev_fn = fn;
	h->ev_ctx = ctx;
}

struct gm_host_stats gm_host_stats(const struct gm_host *h)
{
	return h->stats;
}

size_t gm_host_conn_count(const struct gm_host *h)
{
	return h->n_conns;
}

gm_err gm_host_handle(struct gm_host *h, const char *proto,
		      gm_host_stream_fn fn, void *ctx)
{
	if (!fn)
		return GM_EINVAL;
	return add_handler(h, proto, fn, ctx, B_NONE);
}

size_t gm_host_listen_addrs(const struct gm_host *h,
			    const struct gm_multiaddr **out)
{
	*out = h->laddrs;
	return h->n_listeners;
}

/* ---- connection I/O ---- */

struct write_req {
	uv_write_t req;
	uv_buf_t buf;
	struct gm_host_conn *c;
	uint8_t *data; /* owned */
};

/* Bytes on their way out: libuv's write queue, corked and Yamux output. */
static size_t conn_backlog(const struct gm_host_conn *c)
{
	size_t n = uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp) +
		   c->corked.len;

	if (c->stage == ST_READY && c->yamux)
		n += gm_yamux_output_len(c->yamux);
	return n;
}

static void on_written(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;
	struct gm_host_conn *c = w->c;

	(void)status;
	gm_free(w->data);
	gm_free(w);
	/* the socket drained: let the streams send again */
	if (!c->closing && c->send_blocked &&
	    conn_backlog(c) < SOCK_LOW_WATER) {
		c->send_blocked = false;
		corked_begin(c);
		service(c);
		corked_end(c);
	}
}

/*
 * Queues the n bytes at data, a gm_malloc'd block that passes to the
 * write (freed on every path), on the socket. Never closes the connection
 * itself.
 */
static gm_err try_write_owned(struct gm_host_conn *c, uint8_t *data,
			      size_t n)
{
	struct write_req *w;

	if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) >
	    WRITE_QUEUE_MAX) {
		gm_free(data);
		return GM_ELIMIT;
	}
	w = gm_malloc(sizeof(*w));
	if (!w) {
		gm_free(data);
		return GM_ENOMEM;
	}
	w->c = c;
	w->data = data;
	w->buf = uv_buf_init((char *)data, (unsigned)n);
	if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &w->buf, 1,
		     on_written)) {
		gm_free(data);
		gm_free(w);
		return GM_ENET;
	}
	return GM_OK;
}

/* try_write_owned on a copy of p[0..n). */
static gm_err try_write(struct gm_host_conn *c, const uint8_t *p, size_t n)
{
	uint8_t *copy = gm_malloc(n);

	if (!copy)
		return GM_ENOMEM;
	memcpy(copy, p, n);
	return try_write_owned(c, copy, n);
}

static void write_failed(struct gm_host_conn *c, gm_err e)
{
	if (e == GM_ELIMIT)
		conn_close(c, e, "the peer does not read what we send");
	else if (e == GM_ENOMEM)
		conn_close(c, e, "out of memory sending");
	else if (e)
		conn_close(c, e, "write failed");
}

static void send_raw(struct gm_host_conn *c, const uint8_t *p, size_t n)
{
	if (!n || c->closing || c->close_pending)
		return;
	if (c->cork)
		write_failed(c, gm_buf_append(&c->corked, p, n));
	else
		write_failed(c, try_write(c, p, n));
}

/*
 * Corking: while a callback runs, everything it sends collects in
 * c->corked and goes out as one write when it ends (corked_end), so a
 * handshake step or a batch of Yamux frames costs one syscall and one
 * TCP segment instead of several. Nests.
 */
static void corked_begin(struct gm_host_conn *c)
{
	c->cork++;
}

/* Writes what collected while corked (also used on close). */
static void uncork(struct gm_host_conn *c)
{
	uint8_t *data;
	size_t len;

	if (!c->corked.len)
		return;
	data = gm_buf_steal(&c->corked, &len);
	if (c->closing || c->close_pending)
		gm_free(data);
	else
		write_failed(c, try_write_owned(c, data, len));
}

static void corked_end(struct gm_host_conn *c)
{
	if (--c->cork == 0)
		uncork(c);
}

static void send_buf(struct gm_host_conn *c, struct gm_buf *b)
{
	send_raw(c, b->data, b->len);
	gm_buf_reset(b);
}

/* Encrypts p[0..n) and queues it; the ciphertext buffer goes to the write. */
static void send_secure(struct gm_host_conn *c, const uint8_t *p, size_t n)
{
	struct gm_buf ct;
	struct gm_diag d;
	uint8_t *data;
	size_t len;
	gm_err e;

	if (!n || c->closing || c->close_pending)
		return;
	gm_diag_clear(&d);
	if (c->cork) {
		e = gm_noise_write(&c->noise, p, n, &c->corked, &d);
		if (e == GM_ELIMIT)
			write_failed(c, e);
		else if (e)
			conn_close(c, e, "noise write: %s", d.msg);
		return;
	}
	gm_buf_init(&ct, n + (n / GM_NOISE_PLAINTEXT_MAX + 1) * 18 + 16);
	e = gm_noise_write(&c->noise, p, n, &ct, &d);
	if (e) {
		gm_buf_release(&ct);
		conn_close(c, e, "noise write: %s", d.msg);
		return;
	}
	data = gm_buf_steal(&ct, &len);
	write_failed(c, try_write_owned(c, data, len));
}

/* ---- streams ---- */

static struct gm_host_stream *stream_find(struct gm_host_conn *c, uint32_t id)
{
	struct gm_host_stream *s;

	for (s = c->streams; s; s = s->next)
		if (s->id == id && !s->dead)
			return s;
	return NULL;
}

static struct gm_host_stream *stream_new(struct gm_host_conn *c, uint32_t id)
{
	struct gm_host_stream *s = gm_calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->c = c;
	s->id = id;
	gm_buf_init(&s->out, GM_HOST_STREAM_OUT_MAX);
	gm_buf_init(&s->acc, GM_IDENTIFY_MAX_MSG + 16);
	gm_ping_echo_init(&s->echo);
	s->next = c->streams;
	c->streams = s;
	c->n_streams++;
	c->last_active = uv_now(c->h->loop);
	return s;
}

static void stream_free(struct gm_host_stream *s)
{
	gm_mss_release(&s->mss);
	gm_buf_release(&s->out);
	gm_buf_release(&s->acc);
	gm_free(s->proto);
	gm_free(s->want_str);
	gm_free(s);
}

static void deliver(struct gm_host_stream *s, enum gm_host_stream_event ev,
		    const uint8_t *p, size_t n, gm_err err)
{
	if (s->dead || (s->reset_seen && ev != GM_HOST_STREAM_CLOSED))
		return;
	if (ev == GM_HOST_STREAM_CLOSED)
		s->dead = true;
	if (s->fn)
		s->fn(s->ctx, s, ev, p, n, err);
}

/* Kills s: resets it at the Yamux level and delivers CLOSED. */
static void stream_fail(struct gm_host_stream *s, gm_err err)
{
	if (s->dead)
		return;
	if (s->c->yamux && gm_yamux_stream_state(s->c->yamux, s->id) !=
				   GM_YAMUX_CLOSED)
		gm_yamux_reset_stream(s->c->yamux, s->id);
	deliver(s, GM_HOST_STREAM_CLOSED, NULL, 0, err);
}

/* What stream data may still go into Yamux before the socket is full. */
static size_t send_room(const struct gm_host_conn *c)
{
	size_t n = conn_backlog(c);

	return n >= SOCK_HIGH_WATER ? 0 : SOCK_HIGH_WATER - n;
}

/*
 * Moves up to max bytes of s's queue into Yamux (the peer's window may
 * take less) and sends FIN once the queue is empty and close_write was
 * asked. Returns the bytes moved.
 */
static size_t stream_flush(struct gm_host_stream *s, size_t max)
{
	struct gm_yamux *y = s->c->yamux;
	size_t acc = 0, n = s->out.len - s->out_off;

	if (s->dead)
		return 0;
	if (n > max)
		n = max;
	if (n) {
		if (gm_yamux_write(y, s->id, s->out.data + s->out_off, n, &acc,
				   NULL)) {
			/* the pump delivers CLOSED from the loop */
			s->reset_seen = true;
			if (gm_yamux_stream_state(y, s->id) != GM_YAMUX_CLOSED)
				gm_yamux_reset_stream(y, s->id);
			return 0;
		}
		s->out_off += acc;
		if (s->out_off == s->out.len) {
			gm_buf_reset(&s->out);
			s->out_off = 0;
		} else if (s->out_off > s->out.len / 2) {
			memmove(s->out.data, s->out.data + s->out_off,
				s->out.len - s->out_off);
			s->out.len -= s->out_off;
			s->out_off = 0;
		}
	}
	if (s->fin_wanted && !s->fin_sent && s->out.len == s->out_off) {
		s->fin_sent = true;
		gm_yamux_close_stream(y, s->id);
	}
	return acc;
}

/*
 * Moves the streams' queued data into Yamux while the socket has room,
 * a frame per stream in turn, starting where the last call stopped, so no
 * stream starves the others. Delivers WRITABLE to streams whose queue fell
 * to GM_HOST_STREAM_LOW_WATER. Runs inside service().
 */

static void flush_streams(struct gm_host_conn *c)
{
	struct gm_host_stream *s, *start;
	size_t room, moved;

	start = stream_find(c, c->rr_next);
	if (!start)
		start = c->streams;
	if (!start)
		return;
	do {
		moved = 0;
		s = start;
		do {
			if (!s->dead && s->negotiated) {
				room = send_room(c);
				if (!room) {
					c->send_blocked = true;
					c->rr_next = s->id;
					return;
				}
				if (room > GM_YAMUX_MAX_FRAME_DATA)
					room = GM_YAMUX_MAX_FRAME_DATA;
				moved += stream_flush(s, room);
				if (s->want_writable &&
				    gm_host_stream_queued(s) <=
					    GM_HOST_STREAM_LOW_WATER) {
					s->want_writable = false;
					deliver(s, GM_HOST_STREAM_WRITABLE,
						NULL, 0, GM_OK);
					if (c->close_pending)
						return;
				}
			}
			s = s->next ? s->next : c->streams;
		} while (s != start);
	} while (moved);
	c->rr_next = start->id;
}

static void stream_negotiated(struct gm_host_stream *s)
{
	struct gm_host *h = s->c->h;
	const char *p = gm_mss_protocol(&s->mss);
	struct gm_buf rest;
	size_t i;

	s->negotiated = true;
	s->proto = gm_strdup(p);
	if (!s->proto) {
		stream_fail(s, GM_ENOMEM);
		return;
	}
	if (!s->outbound) {
		for (i = 0; i < h->n_handlers; i++)
			if (!strcmp(h->handlers[i].proto, p))
				break;
		if (i == h->n_handlers) {
			stream_fail(s, GM_EUNSUPPORTED);
			return;
		}
		s->fn = h->handlers[i].fn;
		s->ctx = h->handlers[i].ctx;
		s->builtin = h->handlers[i].builtin;
	}
	deliver(s, GM_HOST_STREAM_READY, NULL, 0, GM_OK);
	gm_buf_init(&rest, GM_MSS_MAX_REST);
	if (!gm_mss_take_rest(&s->mss, &rest) && rest.len)
		deliver(s, GM_HOST_STREAM_DATA, rest.data, rest.len, GM_OK);
	gm_buf_release(&rest);
}

/*
 * Whether s answers what it reads (echo, ping): such a stream stops
 * reading while its answers wait, so the remote's window holds it back.
 * Other streams always read: their handlers pace their own writes
 * (GM_ELIMIT, WRITABLE), and a stream that stopped reading because its
 * own writes wait could deadlock against a peer doing the same.
 */
static bool builtin_echoes(const struct gm_host_stream *s)
{
	return s->builtin == B_ECHO || s->builtin == B_PING;
}

static void stream_pump(struct gm_host_stream *s)
{
	struct gm_yamux *y = s->c->yamux;
	uint8_t *buf = s->c->h->pbuf;
	enum gm_yamux_stream_state st;
	size_t got;

	stream_flush(s, s->negotiated ? 0 : SIZE_MAX);
	while (!s->dead && gm_yamux_readable(y, s->id) &&
	       !(s->negotiated && s->read_paused) &&
	       (!s->negotiated || !builtin_echoes(s) ||
		s->out.len - s->out_off < STREAM_HIGH_WATER)) {
		if (gm_yamux_read(y, s->id, buf, sizeof(s->c->h->pbuf),
				  &got) || !got)
			break;
		if (s->negotiated) {
			deliver(s, GM_HOST_STREAM_DATA, buf, got, GM_OK);
			continue;
		}
		if (gm_mss_feed(&s->mss, buf, got, &s->out, NULL)) {
			stream_fail(s, s->outbound ? GM_EUNSUPPORTED :
						     GM_EPROTO);
			break;
		}
		stream_flush(s, SIZE_MAX);
		if (gm_mss_done(&s->mss))
			stream_negotiated(s);
	}
	if (s->dead)
		return;
	st = gm_yamux_stream_state(y, s->id);
	if (!gm_yamux_readable(y, s->id) &&
	    (st == GM_YAMUX_REMOTE_CLOSE || st == GM_YAMUX_CLOSED)) {
		if (!s->negotiated) {
			stream_fail(s, s->reset_seen ? GM_EIO :
						       GM_EUNSUPPORTED);
			return;
		}
		if (!s->eof_delivered && !s->reset_seen) {
			s->eof_delivered = true;
			deliver(s, GM_HOST_STREAM_EOF, NULL, 0, GM_OK);
		}
	}
	stream_flush(s, s->negotiated ? 0 : SIZE_MAX);
	/* closed both ways: final once a paused reader has had its data */
	if (gm_yamux_stream_state(y, s->id) == GM_YAMUX_CLOSED &&
	    (s->reset_seen || !gm_yamux_readable(y, s->id)))
		deliver(s, GM_HOST_STREAM_CLOSED, NULL, 0,
			s->reset_seen ? GM_EIO : GM_OK);
}

/*
 * Connections with c's peer other than c (past Noise, not closing), and
 * the streams open on all of them and c.
 */
static void peer_load(const struct gm_host_conn *c, size_t *conns,
		      size_t *streams)
{
	const struct gm_host_conn *o;

	*conns = 0;
	*streams = c->n_streams;
	for (o = c->h->conns; o; o = o->next) {
		if (o == c || o->closing || o->close_pending ||
		    o->stage < ST_MSS_MUX || !gm_peerid_equal(&o->peer, &c->peer))
			continue;
		(*conns)++;
		*streams += o->n_streams;
	}
}

static void stream_inbound(struct gm_host_conn *c, uint32_t id)
{
	struct gm_host *h = c->h;
	struct gm_host_stream *s;
	size_t pc, ps;

	peer_load(c, &pc, &ps);
	if (c->n_streams >= h->max_streams || ps >= h->max_streams_per_peer) {
		gm_debug("host: stream %u refused: %zu streams open (%zu "
			 "from this peer)", id, c->n_streams, ps);
		gm_yamux_reset_stream(c->yamux, id);
		return;
	}
	s = stream_new(c, id);
	if (!s || gm_mss_init_listener(&s->mss, h->names, h->n_handlers,
				       NULL)) {
		if (s)
			s->dead = true;
		gm_yamux_reset_stream(c->yamux, id);
	}
}

gm_err gm_host_stream_open(struct gm_host_conn *c, const char *proto,
			   gm_host_stream_fn fn, void *ctx,
			   struct gm_host_stream **out, struct gm_diag *d)
{
	struct gm_host_stream *s;
	uint32_t id;
	gm_err e;

	if (out)
		*out = NULL;
	if (c->closing || c->close_pending || c->stage != ST_READY)
		return gm_diag_set(d, GM_EPERM, "the connection is closing");
	if (c->n_streams >= c->h->max_streams)
		return gm_diag_set(d, GM_ELIMIT, "%zu streams are open on "
				   "this connection", c->n_streams);
	if ((e = gm_yamux_open_stream(c->yamux, &id, d)))
		return e;
	s = stream_new(c, id);
	if (!s) {
		gm_yamux_reset_stream(c->yamux, id);
		return GM_ENOMEM;
	}
	s->outbound = true;
	s->fn = fn;
	s->ctx = ctx;
	s->want_str = gm_strdup(proto);
	s->want[0] = s->want_str;
	e = s->want_str ? gm_mss_init_dialer(&s->mss, s->want, 1, d) :
			  GM_ENOMEM;
	if (!e)
		e = gm_mss_feed(&s->mss, NULL, 0, &s->out, d);
	if (e) {
		s->dead = true;
		gm_yamux_reset_stream(c->yamux, id);
		kick(c);
		return e;
	}
	if (out)
		*out = s;
	stream_flush(s, SIZE_MAX);
	kick(c);
	return GM_OK;
}

gm_err gm_host_stream_write(struct gm_host_stream *s, const void *data,
			    size_t len)
{
	gm_err e;

	if (s->dead || !s->negotiated || s->fin_wanted)
		return GM_EINVAL;
	if (s->out_off && s->out.len + len > GM_HOST_STREAM_OUT_MAX) {
		memmove(s->out.data, s->out.data + s->out_off,
			s->out.len - s->out_off);
		s->out.len -= s->out_off;
		s->out_off = 0;
	}
	e = gm_buf_append(&s->out, data, len);
	if (e == GM_ELIMIT || gm_host_stream_queued(s) >
				      GM_HOST_STREAM_LOW_WATER)
		s->want_writable = true;
	if (e)
		return e;
	kick(s->c);
	return GM_OK;
}

size_t gm_host_stream_queued(const struct gm_host_stream *s)
{
	return s->out.len - s->out_off;
}

void gm_host_stream_close_write(struct gm_host_stream *s)
{
	if (s->dead || s->fin_wanted)
		return;
	s->fin_wanted = true;
	kick(s->c);
}

void gm_host_stream_pause_read(struct gm_host_stream *s, bool paused)
{
	if (s->dead || s->read_paused == paused)
		return;
	s->read_paused = paused;
	if (!paused)
		kick(s->c);
}

void gm_host_stream_reset(struct gm_host_stream *s)
{
	if (s->dead)
		return;
	s->reset_seen = true;
	if (gm_yamux_stream_state(s->c->yamux, s->id) != GM_YAMUX_CLOSED)
		gm_yamux_reset_stream(s->c->yamux, s->id);
	kick(s->c);
}

const char *gm_host_stream_protocol(const struct gm_host_stream *s)
{
	return s->negotiated ? s->proto : NULL;
}

struct gm_host_conn *gm_host_stream_conn(const struct gm_host_stream *s)
{
	return s->c;
}

/* ---- built-in protocols ---- */

static void identify_answer(struct gm_host_stream *s)
{
	struct gm_host_conn *c = s->c;
	struct gm_host *h = c->h;
	struct gm_identify id;
	struct gm_buf msg;
	size_t i;
	gm_err e = GM_OK;

	gm_identify_init(&id);
	id.has_key = true;
	memcpy(id.pk, h->key.pk, sizeof(id.pk));
	for (i = 0; !e && i < h->n_listeners; i++)
		e = gm_identify_add_addr(&id, &h->laddrs[i]);
	for (i = 0; !e && i < h->n_handlers; i++)
		e = gm_identify_add_protocol(&id, h->handlers[i].proto);
	id.has_observed = c->remote.len > 0;
	id.observed = c->remote;
	if (!e)
		e = gm_identify_set_versions(&id, GM_IDENTIFY_PROTOCOL_VERSION,
					     h->agent);
	gm_buf_init(&msg, GM_IDENTIFY_MAX_MSG + 16);
	if (!e)
		e = gm_identify_encode(&id, &msg, NULL);
	if (!e)
		e = gm_host_stream_write(s, msg.data, msg.len);
	gm_buf_release(&msg);
	gm_identify_release(&id);
	if (e)
		gm_host_stream_reset(s);
	else
		gm_host_stream_close_write(s);
}

static void identify_learn(struct gm_host_stream *s, bool push)
{
	struct gm_host_conn *c = s->c;
	struct gm_identify got;
	struct gm_diag d;
	bool complete;
	size_t off, len;
	gm_err e;

	gm_diag_clear(&d);
	e = gm_identify_frame(s->acc.data, s->acc.len, &complete, &off, &len,
			      &d);
	if (!e && !complete)
		e = gm_diag_set(&d, GM_EFORMAT, "identify: truncated message");
	if (!e)
		e = gm_identify_decode(&got, s->acc.data + off, len, &d);
	else
		gm_identify_init(&got);
	if (!e && got.has_key &&
	    memcmp(got.pk, gm_noise_remote_key(&c->noise), 32))
		e = gm_diag_set(&d, GM_ETRUST, "identify: the key differs "
				"from the Noise identity");
	if (!e && push && c->identified)
		e = gm_identify_merge(&c->info, &got);
	else if (!e) {
		gm_identify_release(&c->info);
		c->info = got;
		gm_identify_init(&got);
	}
	gm_identify_release(&got);
	if (e) {
		gm_debug("host: identify from peer failed: %s", d.msg);
		return;
	}
	c->identified = true;
	if (c->h->ev_fn)
		c->h->ev_fn(c->h->ev_ctx, c, GM_HOST_EV_IDENTIFIED, GM_OK);
}

static void stream_builtin(void *ctx, struct gm_host_stream *s,
			   enum gm_host_stream_event ev, const uint8_t *data,
			   size_t len, gm_err err)
{
	struct gm_buf out;

	(void)ctx;
	(void)err;
	switch (s->builtin) {
	case B_IDENTIFY:
		if (ev == GM_HOST_STREAM_READY)
			identify_answer(s);
		break;
	case B_IDENTIFY_OUT:
	case B_PUSH:
		if (ev == GM_HOST_STREAM_DATA &&
		    gm_buf_append(&s->acc, data, len))
			gm_host_stream_reset(s);
		else if (ev == GM_HOST_STREAM_EOF) {
			identify_learn(s, s->builtin == B_PUSH);
			gm_host_stream_close_write(s);
		} else if (ev == GM_HOST_STREAM_READY &&
			   s->builtin == B_IDENTIFY_OUT)
			gm_host_stream_close_write(s);
		break;
	case B_PING:
		if (ev == GM_HOST_STREAM_DATA) {
			gm_buf_init(&out, GM_HOST_STREAM_OUT_MAX);
			if (gm_ping_echo_feed(&s->echo, data, len, &out) ||
			    (out.len &&
			     gm_host_stream_write(s, out.data, out.len)))
				gm_host_stream_reset(s);
			gm_buf_release(&out);
		} else if (ev == GM_HOST_STREAM_EOF) {
			gm_host_stream_close_write(s);
		}
		break;
	case B_ECHO:
		if (ev == GM_HOST_STREAM_DATA) {
			if (gm_host_stream_write(s, data, len))
				gm_host_stream_reset(s);
		} else if (ev == GM_HOST_STREAM_EOF) {
			gm_host_stream_close_write(s);
		}
		break;
	case B_NONE:
		break;
	}
}

/* ---- connection lifetime ---- */

static void on_conn_handle_closed(uv_handle_t *handle)
{
	struct gm_host_conn *c = handle->data;
	struct gm_host *h = c->h;

	if (--c->handles_open)
		return;
	if (c->mss_live)
		gm_mss_release(&c->mss);
	if (c->noise_live)
		gm_noise_release(&c->noise);
	gm_yamux_close(c->yamux);
	gm_identify_release(&c->info);
	gm_buf_release(&c->corked);
	gm_buf_release(&c->yout);
	gm_free(c);
	h->handles_open--;
	host_maybe_free(h);
}

static void conn_close_now(struct gm_host_conn *c)
{
	struct gm_host *h = c->h;
	struct gm_host_conn **pp;
	struct gm_host_stream *s, *next;
	gm_host_dial_fn fn = c->dial_fn;

	/* once only, whatever path asks again */
	if (uv_is_closing((uv_handle_t *)&c->tcp))
		return;
	uncork(c); /* what was said before closing still goes out */
	c->closing = true;
	c->busy++;
	for (s = c->streams; s; s = s->next)
		deliver(s, GM_HOST_STREAM_CLOSED, NULL, 0,
			c->close_err ? c->close_err : GM_EIO);
	c->busy--;
	for (s = c->streams; s; s = next) {
		next = s->next;
		stream_free(s);
	}
	c->streams = NULL;
	if (c->stage == ST_READY && c->yamux) {
		struct gm_buf out;

		/* a polite go away; best effort */
		gm_buf_init(&out, 1024);
		if (!gm_yamux_go_away(c->yamux, 0) &&
		    !gm_yamux_take_output(c->yamux, &out) && out.len) {
			struct gm_buf ct;

			gm_buf_init(&ct, 4096);
			/* best effort: a refused write must not close the
			 * connection a second time */
			if (!gm_noise_write(&c->noise, out.data, out.len, &ct,
					    NULL) && ct.len)
				(void)try_write(c, ct.data, ct.len);
			gm_buf_release(&ct);
		}
		gm_buf_release(&out);
	}
	for (pp = &h->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			h->n_conns--;
			break;
		}
	if (fn) {
		struct gm_diag d;

		c->dial_fn = NULL;
		gm_diag_set(&d, c->close_err, "%s", c->close_reason);
		fn(c->dial_ctx, c->close_err ? c->close_err : GM_ENET, NULL,
		   &d);
	}
	if (c->connected_sent && h->ev_fn)
		h->ev_fn(h->ev_ctx, c, GM_HOST_EV_DISCONNECTED, c->close_err);
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
	uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
}

/* peer's slot, or NULL; with make, a new one (reusing the oldest). */
static struct penalty *penalty_of(struct gm_host *h,
				  const struct gm_peerid *peer, bool make)
{
	struct penalty *p, *oldest = &h->penalties[0];
	size_t i;

	for (i = 0; i < PENALTY_SLOTS; i++) {
		p = &h->penalties[i];
		if (p->peer.len && gm_peerid_equal(&p->peer, peer))
			return p;
		if (p->last_ms < oldest->last_ms)
			oldest = p;
	}
	if (!make)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	oldest->peer = *peer;
	return oldest;
}

uint64_t gm_host_peer_banned_ms(const struct gm_host *h,
				const struct gm_peerid *peer)
{
	struct penalty *p = penalty_of((struct gm_host *)h, peer, false);
	uint64_t now = uv_now(h->loop);

	return p && p->banned_until > now ? p->banned_until - now : 0;
}

/* Counts a protocol error against c's peer; bans it at ban_after. */
static void penalise(struct gm_host_conn *c, gm_err e)
{
	struct gm_host *h = c->h;
	uint64_t now = uv_now(h->loop);
	char who[GM_PEERID_MAX_STR];
	struct penalty *p;

	if (!c->peer_known ||
	    (e != GM_EPROTO && e != GM_EFORMAT && e != GM_ELIMIT))
		return;
	p = penalty_of(h, &c->peer, true);
	if (now - p->last_ms > h->ban_ms)
		p->errors = 0;
	p->errors++;
	p->last_ms = now;
	if (p->errors < h->ban_after || p->banned_until > now)
		return;
	p->banned_until = now + h->ban_ms;
	p->errors = 0;
	h->stats.bans++;
	gm_peerid_format(&c->peer, who, sizeof(who));
	gm_info("host: banned %s for %" PRIu64 " s after %u protocol errors",
		who, h->ban_ms / 1000, h->ban_after);
}

static void conn_close(struct gm_host_conn *c, gm_err e, const char *fmt, ...)
{
	va_list ap;

	if (c->closing || c->close_pending)
		return;
	penalise(c, e);
	c->close_err = e;
	va_start(ap, fmt);
	vsnprintf(c->close_reason, sizeof(c->close_reason), fmt, ap);
	va_end(ap);
	if (e != GM_OK) {
		if (e == GM_ETIMEOUT && c->stage != ST_READY)
			c->h->stats.timeouts++;
		else if (c->stage != ST_READY)
			c->h->stats.handshake_failed++;
		else
			c->h->stats.protocol_errors++;
	}
	gm_debug("host: closing connection (%s): %s", gm_errname(e),
		 c->close_reason);
	if (c->busy) {
		c->close_pending = true;
		return;
	}
	conn_close_now(c);
}

void gm_host_conn_close(struct gm_host_conn *c)
{
	if (c->closing || c->close_pending)
		return;
	c->close_err = GM_OK;
	snprintf(c->close_reason, sizeof(c->close_reason), "closed by us");
	gm_debug("host: closing connection: closed by us");
	c->close_pending = true;
	kick(c);
}

const struct gm_peerid *gm_host_conn_peer(const struct gm_host_conn *c)
{
	return &c->peer;
}

const struct gm_identify *gm_host_conn_identify(const struct gm_host_conn *c)
{
	return c->identified ? &c->info : NULL;
}

const struct gm_multiaddr *
gm_host_conn_remote_addr(const struct gm_host_conn *c)
{
	return &c->remote;
}

bool gm_host_conn_outbound(const struct gm_host_conn *c)
{
	return c->outbound;
}

/* ---- the upgrade ---- */

static void service(struct gm_host_conn *c)
{
	struct gm_yamux_event ev;
	struct gm_host_stream *s, **pp;
	int pass;

	if (c->closing || c->close_pending || c->stage != ST_READY)
		goto finish;
	c->busy++;
	while (gm_yamux_poll_event(c->yamux, &ev)) {
		if (ev.type == GM_YAMUX_EV_STREAM_OPENED) {
			stream_inbound(c, ev.stream_id);
		} else if (ev.type == GM_YAMUX_EV_RESET) {
			if ((s = stream_find(c, ev.stream_id)))
				s->reset_seen = true;
		} else if (ev.type == GM_YAMUX_EV_ERROR) {
			conn_close(c, ev.err, "yamux session failed");
		}
	}
	for (pass = 0; pass < 2 && !c->close_pending; pass++)
		for (s = c->streams; s && !c->close_pending; s = s->next)
			stream_pump(s);
	if (!c->close_pending)
		flush_streams(c);
	c->busy--;
	if (c->close_pending)
		goto finish;
	if (!c->busy) {
		for (pp = &c->streams; *pp;) {
			s = *pp;
			if (s->dead) {
				*pp = s->next;
				if (gm_yamux_stream_state(c->yamux, s->id) !=
				    GM_YAMUX_CLOSED)
					gm_yamux_reset_stream(c->yamux, s->id);
				stream_free(s);
				c->n_streams--;
				c->last_active = uv_now(c->h->loop);
			} else {
				pp = &s->next;
			}
		}
	}
	if (gm_yamux_output_len(c->yamux)) {
		gm_buf_reset(&c->yout);
		if (gm_yamux_take_output(c->yamux, &c->yout))
			conn_close(c, GM_ENOMEM, "yamux output");
		else
			send_secure(c, c->yout.data, c->yout.len);
		gm_buf_reset(&c->yout);
	}
finish:
	if (c->close_pending && !c->busy && !c->closing) {
		c->close_pending = false;
		conn_close_now(c);
	}
}

static void conn_ready(struct gm_host_conn *c)
{
	struct gm_host *h = c->h;
	struct gm_host_stream *s;
	gm_host_dial_fn fn = c->dial_fn;

	uv_timer_stop(&c->timer);
	h->stats.conns_opened++;
	c->last_active = uv_now(h->loop);
	c->connected_sent = true;
	c->dial_fn = NULL;
	if (fn)
		fn(c->dial_ctx, GM_OK, c, NULL);
	if (c->close_pending || c->closing)
		return;
	if (h->ev_fn)
		h->ev_fn(h->ev_ctx, c, GM_HOST_EV_CONNECTED, GM_OK);
	if (c->close_pending || c->closing)
		return;
	if (!gm_host_stream_open(c, GM_IDENTIFY_PROTOCOL, stream_builtin, h,
				 &s, NULL))
		s->builtin = B_IDENTIFY_OUT;
}

static gm_err secure_input(struct gm_host_conn *c, const uint8_t *p,
			   size_t n, struct gm_diag *d)
{
	struct gm_buf out, rest;
	gm_err e = GM_OK;

	gm_buf_init(&out, CONN_BUF_MAX);
	gm_buf_init(&rest, GM_MSS_MAX_REST);
	if (c->stage == ST_MSS_MUX) {
		if ((e = gm_mss_feed(&c->mss, p, n, &out, d)))
			goto release;
		send_secure(c, out.data, out.len);
		if (!gm_mss_done(&c->mss))
			goto release;
		if ((e = gm_mss_take_rest(&c->mss, &rest)))
			goto release;
		if ((e = gm_yamux_open(&c->yamux, c->outbound ?
							  GM_YAMUX_CLIENT :
							  GM_YAMUX_SERVER)))
			goto release;
		c->stage = ST_READY;
		c->busy++;
		conn_ready(c);
		c->busy--;
		p = rest.data;
		n = rest.len;
	}
	if (c->stage == ST_READY && n && !c->closing && !c->close_pending)
		e = gm_yamux_feed(c->yamux, p, n, uv_now(c->h->loop), d);
	if (c->stage == ST_READY)
		service(c);
release:
	gm_buf_release(&rest);
	gm_buf_release(&out);
	return e;
}

static gm_err raw_input(struct gm_host_conn *c, const uint8_t *p, size_t n,
			struct gm_diag *d)
{
	struct gm_buf out, pt, rest;
	size_t pc, ps;
	uint64_t ban;
	gm_err e = GM_OK;

	gm_buf_init(&out, CONN_BUF_MAX);
	gm_buf_init(&pt, CONN_BUF_MAX);
	gm_buf_init(&rest, GM_MSS_MAX_REST);
	if (c->stage == ST_MSS_SEC) {
		if ((e = gm_mss_feed(&c->mss, p, n, &out, d)))
			goto release;
		send_buf(c, &out);
		if (!gm_mss_done(&c->mss))
			goto release;
		if ((e = gm_mss_take_rest(&c->mss, &rest)))
			goto release;
		gm_mss_release(&c->mss);
		c->mss_live = false;
		if ((e = gm_noise_init_cached(&c->noise, c->outbound,
					      &c->h->noise_cache, NULL, d)))
			goto release;
		c->noise_live = true;
		c->stage = ST_NOISE;
		if ((e = gm_noise_start(&c->noise, &out, d)))
			goto release;
		send_buf(c, &out);
		p = rest.data;
		n = rest.len;
	}
	if (!n)
		goto release;
	if ((e = gm_noise_feed(&c->noise, p, n, &out, &pt, d)))
		goto release;
	send_buf(c, &out);
	if (!gm_noise_handshake_done(&c->noise))
		goto release;
	if (c->stage == ST_NOISE) {
		gm_peerid_from_ed25519(&c->peer,
				       gm_noise_remote_key(&c->noise));
		if (c->has_expected &&
		    !gm_peerid_equal(&c->peer, &c->expected)) {
			char want[GM_PEERID_MAX_STR], got[GM_PEERID_MAX_STR];

			gm_peerid_format(&c->expected, want, sizeof(want));
			gm_peerid_format(&c->peer, got, sizeof(got));
			e = gm_diag_set(d, GM_ETRUST, "peer id mismatch: "
					"dialed %s but the remote is %s; check "
					"the /p2p part of the address",
					want, got);
			goto release;
		}
		if ((ban = gm_host_peer_banned_ms(c->h, &c->peer))) {
			char who[GM_PEERID_MAX_STR];

			c->h->stats.refused_banned++;
			gm_peerid_format(&c->peer, who, sizeof(who));
			e = gm_diag_set(d, GM_EPERM, "%s is banned for another "
					"%" PRIu64 " s after repeated protocol "
					"errors",
					who, (ban + 999) / 1000);
			goto release;
		}
		peer_load(c, &pc, &ps);
		if (pc >= c->h->max_conns_per_peer) {
			char who[GM_PEERID_MAX_STR];

			c->h->stats.refused_peer++;
			gm_peerid_format(&c->peer, who, sizeof(who));
			e = gm_diag_set(d, GM_ELIMIT, "%s already has %zu "
					"connections with us, the most one "
					"peer may have",
					who, pc);
			goto release;
		}
		c->stage = ST_MSS_MUX;
		c->peer_known = true;
		if (c->outbound)
			e = gm_mss_init_dialer(&c->mss, mss_yamux, 1, d);
		else
			e = gm_mss_init_listener(&c->mss, mss_yamux, 1, d);
		if (e)
			goto release;
		c->mss_live = true;
		if (c->outbound) {
			if ((e = gm_mss_feed(&c->mss, NULL, 0, &out, d)))
				goto release;
			send_secure(c, out.data, out.len);
			gm_buf_reset(&out);
		}
	}
	if (pt.len || c->stage == ST_READY)
		e = secure_input(c, pt.data, pt.len, d);
release:
	gm_buf_release(&rest);
	gm_buf_release(&pt);
	gm_buf_release(&out);
	return e;
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	struct gm_host_conn *c = handle->data;

	(void)suggested;
	*buf = uv_buf_init((char *)c->h->rbuf, READ_CHUNK);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct gm_host_conn *c = stream->data;
	struct gm_diag d;
	gm_err e;

	(void)buf;
	if (c->closing)
		return;
	if (nread < 0) {
		conn_close(c, c->stage == ST_READY ? GM_OK : GM_ENET,
			   "%s", nread == UV_EOF ? "connection closed by the "
			   "peer" : uv_strerror((int)nread));
		return;
	}
	if (!nread)
		return;
	gm_diag_clear(&d);
	corked_begin(c);
	c->busy++;
	e = raw_input(c, (const uint8_t *)buf->base, (size_t)nread, &d);
	c->busy--;
	if (e)
		conn_close(c, e, "%s", d.msg[0] ? d.msg : gm_strerror(e));
	/* also carries out a close asked for while busy (a Yamux error
	 * event seen inside raw_input), which conn_close above skips */
	service(c);
	corked_end(c);
}

static void on_timeout(uv_timer_t *t)
{
	struct gm_host_conn *c = t->data;

	if (c->outbound)
		conn_close(c, GM_ETIMEOUT, "no connection within %" PRIu64
			   " ms; check the address and that the node is "
			   "running", c->timeout_ms);
	else
		conn_close(c, GM_ETIMEOUT, "the handshake did not finish "
			   "within %" PRIu64 " ms", c->timeout_ms);
}

static struct gm_host_conn *conn_new(struct gm_host *h, bool outbound)
{
	struct gm_host_conn *c = gm_calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->h = h;
	c->outbound = outbound;
	c->stage = ST_CONNECTING;
	uv_tcp_init(h->loop, &c->tcp);
	uv_timer_init(h->loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->handles_open = 2;
	h->handles_open++;
	gm_buf_init(&c->corked, WRITE_QUEUE_MAX);
	gm_buf_init(&c->yout, GM_BUF_UNLIMITED);
	gm_identify_init(&c->info);
	c->next = h->conns;
	h->conns = c;
	h->n_conns++;
	return c;
}

static gm_err conn_start(struct gm_host_conn *c)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	struct gm_buf out;
	gm_err e;

	uv_tcp_nodelay(&c->tcp, 1);
	if (!uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len))
		sockaddr_to_ma((struct sockaddr *)&ss, &c->remote);
	c->stage = ST_MSS_SEC;
	if (c->outbound)
		e = gm_mss_init_dialer(&c->mss, mss_noise, 1, NULL);
	else
		e = gm_mss_init_listener(&c->mss, mss_noise, 1, NULL);
	if (e)
		return e;
	c->mss_live = true;
	if (c->outbound) {
		gm_buf_init(&out, 1024);
		e = gm_mss_feed(&c->mss, NULL, 0, &out, NULL);
		if (!e)
			send_raw(c, out.data, out.len);
		gm_buf_release(&out);
		if (e)
			return e;
	}
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read))
		return GM_ENET;
	return GM_OK;
}

static void on_connection(uv_stream_t *server, int status)
{
	struct gm_host *h = server->data;
	struct gm_host_conn *c;

	if (status < 0 || h->freeing)
		return;
	c = conn_new(h, false);
	if (!c)
		return; /* nothing accepted: libuv reports it again */
	if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
		conn_close(c, GM_ENET, "accept failed");
		return;
	}
	if (h->n_conns > h->max_conns) {
		h->stats.refused_limit++;
		conn_close(c, GM_OK, "connection limit of %zu reached",
			   h->max_conns);
		return;
	}
	c->timeout_ms = h->hs_timeout_ms;
	uv_timer_start(&c->timer, on_timeout, c->timeout_ms, 0);
	corked_begin(c);
	if (conn_start(c))
		conn_close(c, GM_ENET, "cannot start the connection");
	corked_end(c);
}

gm_err gm_host_listen(struct gm_host *h, const struct gm_multiaddr *ma,
		      struct gm_diag *d)
{
	struct sockaddr_storage ss;
	struct listener *l;
	bool has_peer;
	int len = sizeof(ss), rc;
	char text[GM_MULTIADDR_MAX_STR];
	gm_err e;

	if ((e = ma_to_sockaddr(ma, &ss, &has_peer, NULL, d)))
		return e;
	if (h->n_listeners >= GM_HOST_MAX_LISTENERS)
		return gm_diag_set(d, GM_ELIMIT, "at most %d listen addresses",
				   GM_HOST_MAX_LISTENERS);
	l = gm_calloc(1, sizeof(*l));
	if (!l)
		return GM_ENOMEM;
	l->h = h;
	uv_tcp_init(h->loop, &l->tcp);
	l->tcp.data = h;
	h->handles_open++;
	gm_multiaddr_format(ma, text, sizeof(text));
	rc = uv_tcp_bind(&l->tcp, (struct sockaddr *)&ss,
			 ss.ss_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0);
	if (!rc)
		rc = uv_listen((uv_stream_t *)&l->tcp, 128, on_connection);
	if (!rc)
		rc = uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&ss, &len);
	if (rc) {
		uv_close((uv_handle_t *)&l->tcp, on_handle_closed_host);
		return gm_diag_set(d, GM_ENET, "cannot listen on %s: %s; pick "
				   "another port or address", text,
				   uv_strerror(rc));
	}
	sockaddr_to_ma((struct sockaddr *)&ss, &h->laddrs[h->n_listeners]);
	h->listeners[h->n_listeners++] = l;
	return GM_OK;
}

static void on_connect(uv_connect_t *req, int status)
{
	struct gm_host_conn *c = req->data;

	if (status == UV_ECANCELED || c->closing)
		return;
	if (status < 0) {
		conn_close(c, GM_ENET, "cannot connect: %s; is the node "
			   "running and the address right?",
			   uv_strerror(status));
		return;
	}
	corked_begin(c);
	if (conn_start(c))
		conn_close(c, GM_ENET, "cannot start the connection");
	corked_end(c);
}

gm_err gm_host_dial(struct gm_host *h, const struct gm_multiaddr *ma,
		    uint64_t timeout_ms, gm_host_dial_fn fn, void *ctx,
		    struct gm_diag *d)
{
	struct sockaddr_storage ss;
	struct gm_host_conn *c;
	struct gm_peerid peer;
	bool has_peer;
	int rc;
	gm_err e;

	if (h->freeing)
		return gm_diag_set(d, GM_EPERM, "the host is shutting down");
	if ((e = ma_to_sockaddr(ma, &ss, &has_peer, &peer, d)))
		return e;
	if (has_peer && gm_host_peer_banned_ms(h, &peer))
		return gm_diag_set(d, GM_EPERM, "that peer is banned for "
				   "another %" PRIu64 " s after repeated "
				   "protocol errors",
				   (gm_host_peer_banned_ms(h, &peer) + 999) /
					   1000);
	if (h->n_conns >= h->max_conns)
		return gm_diag_set(d, GM_ELIMIT, "connection limit of %zu "
				   "reached", h->max_conns);
	c = conn_new(h, true);
	if (!c)
		return GM_ENOMEM;
	c->has_expected = has_peer;
	c->expected = peer;
	c->dial_fn = fn;
	c->dial_ctx = ctx;
	c->connect.data = c;
	c->timeout_ms = timeout_ms ? timeout_ms : h->hs_timeout_ms;
	uv_timer_start(&c->timer, on_timeout, c->timeout_ms, 0);
	rc = uv_tcp_connect(&c->connect, &c->tcp, (struct sockaddr *)&ss,
			    on_connect);
	if (rc) {
		c->dial_fn = NULL;
		conn_close(c, GM_ENET, "cannot connect: %s", uv_strerror(rc));
		return gm_diag_set(d, GM_ENET, "cannot connect: %s",
				   uv_strerror(rc));
	}
	return GM_OK;
}
