/*
 * host.h - a libp2p host over TCP on a libuv loop: listeners, dialing,
 * the connection upgrade and protocol streams.
 * Every connection is upgraded in this order:
 *   | step | layer                     | carried over                   |
 *   |------|---------------------------|--------------------------------|
 *   | 1    | multistream-select "/noise" | raw TCP                      |
 *   | 2    | Noise XX (gm_noise)       | raw TCP, 2-byte framed         |
 *   | 3    | multistream "/yamux/1.0.0" | the Noise channel             |
 *   | 4    | Yamux (gm_yamux)          | the Noise channel              |
 * Each Yamux stream then negotiates its protocol with multistream-select;
 * inbound streams go to the handler registered for the protocol. Built in:
 * Identify (/ipfs/id/1.0.0, run as the dialer on every new connection),
 * Identify push, Ping (/ipfs/ping/1.0.0, echo) and /ggen/echo/1.0.0 (echoes
 * every byte until the remote closes its side).
 * Everything runs on the caller's uv loop, in one thread. Callbacks run from
 * the loop; a stream or connection pointer stays valid until its final
 * event (GM_HOST_STREAM_CLOSED, GM_HOST_EV_DISCONNECTED) has been delivered.
 * Backpressure: written data waits in its stream's queue while the
 * remote's Yamux window is closed or the socket has a quarter MiB on its
 * way out; streams take turns a frame at a time. Writers keep below
 * GM_HOST_STREAM_OUT_MAX by waiting for GM_HOST_STREAM_WRITABLE; a stream
 * whose output queue is full is not read, so the remote is held back by
 * its window in turn.
 * Limits: GM_HOST_MAX_CONNS connections (configurable), streams per
 * connection, connections and inbound streams per peer (a connection over
 * the per-peer cap is closed once its Noise handshake names the peer), GM_HOST_STREAM_OUT_MAX bytes queued per stream, a handshake
 * timeout. A connection that breaks a protocol or times out is closed with
 * the reason logged at debug level and counted in struct gm_host_stats;
 * other connections are unaffected. A peer closed that way
 * GM_HOST_BAN_AFTER_ERRORS times is banned for GM_HOST_BAN_MS (by its peer
 * id, once Noise has proved it). A connection that has had no open
 * stream for the idle timeout (keepalive pings do not count) is closed
 * too, with err GM_OK, and counted as idle_closed.
 */
#ifndef GM_HOST_H
#define GM_HOST_H

#include <uv.h>

#include "gm/gm.h"
#include "gm/identify.h"
#include "gm/keys.h"
#include "gm/multiaddr.h"
#include "gm/peerid.h"

#define GM_ECHO_PROTOCOL "/ggen/echo/1.0.0"
#define GM_HOST_MAX_CONNS 256
#define GM_HOST_MAX_STREAMS 256
/* Connections one peer may hold with us at once (both directions). */
#define GM_HOST_MAX_CONNS_PER_PEER 4
/* Streams one peer may have open with us across its connections. */
#define GM_HOST_MAX_STREAMS_PER_PEER 512
/*
 * Penalties: a peer whose connections we close this many times for
 * breaking a protocol (malformed or oversized frames, window violations,
 * floods) within GM_HOST_BAN_MS is refused for GM_HOST_BAN_MS.
 */
#define GM_HOST_BAN_AFTER_ERRORS 3
#define GM_HOST_BAN_MS (10u * 60 * 1000)
#define GM_HOST_MAX_LISTENERS 16
#define GM_HOST_MAX_HANDLERS 32
#define GM_HOST_HANDSHAKE_TIMEOUT_MS 10000
/* A connection without streams for this long is closed. */
#define GM_HOST_IDLE_TIMEOUT_MS (5u * 60 * 1000)
/* Bytes a stream may queue for sending before writes fail (GM_ELIMIT). */
#define GM_HOST_STREAM_OUT_MAX (4u * 1024 * 1024)
/*
 * A stream whose queue went above this (or whose write failed with
 * GM_ELIMIT) gets GM_HOST_STREAM_WRITABLE once it is back at or below.
 */
#define GM_HOST_STREAM_LOW_WATER (256u * 1024)

struct gm_host;
struct gm_host_conn;
struct gm_host_stream;

struct gm_host_config {
	uv_loop_t *loop;
	const struct gm_key *key;    /* Ed25519 with secret; copied */
	size_t max_conns;	     /* 0: GM_HOST_MAX_CONNS */
	size_t max_streams;	     /* per conn; 0: GM_HOST_MAX_STREAMS */
	size_t max_conns_per_peer;   /* 0: GM_HOST_MAX_CONNS_PER_PEER */
	size_t max_streams_per_peer; /* 0: GM_HOST_MAX_STREAMS_PER_PEER */
	uint32_t ban_after_errors;   /* 0: GM_HOST_BAN_AFTER_ERRORS */
	uint64_t ban_ms;	     /* 0: GM_HOST_BAN_MS */
	uint64_t handshake_timeout_ms; /* 0: GM_HOST_HANDSHAKE_TIMEOUT_MS */
	uint64_t idle_timeout_ms;    /* 0: GM_HOST_IDLE_TIMEOUT_MS */
	const char *agent_version;   /* NULL: "ggen/<version>" */
};

struct gm_host_stats {
	uint64_t conns_opened;	   /* upgraded successfully */
	uint64_t handshake_failed; /* closed before the upgrade finished */
	uint64_t protocol_errors;  /* closed after, for a protocol error */
	uint64_t refused_limit;	   /* refused for the connection cap */
	uint64_t refused_peer;	   /* refused for the per-peer cap */
	uint64_t bans;		   /* peers banned for protocol errors */
	uint64_t refused_banned;   /* connections of banned peers refused */
	uint64_t timeouts;	   /* handshake timeouts */
	uint64_t idle_closed;	   /* closed for idleness (err GM_OK) */
};

enum gm_host_event {
	GM_HOST_EV_CONNECTED,	 /* upgrade done */
	GM_HOST_EV_IDENTIFIED,	 /* the peer answered Identify or pushed */
	GM_HOST_EV_DISCONNECTED, /* final; err says why (GM_OK: normal) */
};

/* Connection events; err is GM_OK but for GM_HOST_EV_DISCONNECTED. */
typedef void (*gm_host_event_fn)(void *ctx, struct gm_host_conn *c,
				 enum gm_host_event ev, gm_err err);
/*
 * The result of gm_host_dial: c is the upgraded connection (NULL on
 * error); d names the problem on error.
 */
typedef void (*gm_host_dial_fn)(void *ctx, gm_err err, struct gm_host_conn *c,
				const struct gm_diag *d);

enum gm_host_stream_event {
	GM_HOST_STREAM_READY,  /* protocol agreed; writing is allowed */
	GM_HOST_STREAM_DATA,   /* data[0..len) arrived */
	GM_HOST_STREAM_EOF,    /* the remote closed its side */
	GM_HOST_STREAM_WRITABLE, /* the queue drained to the low water */
	GM_HOST_STREAM_CLOSED, /* final: err GM_OK, or why it failed */
};

typedef void (*gm_host_stream_fn)(void *ctx, struct gm_host_stream *s,
				  enum gm_host_stream_event ev,
				  const uint8_t *data, size_t len, gm_err err);

/*
 * Creates a host with cfg's key and limits. Free with gm_host_free.
 * GM_EINVAL for a missing loop or a key without secret, GM_ENOMEM.
 */
GM_EXTERN gm_err gm_host_new(struct gm_host **out,
			     const struct gm_host_config *cfg,
			     struct gm_diag *d);
/*
 * Closes every listener and connection (final events are delivered) and
 * frees the host once libuv has closed all its handles: keep running the
 * loop until it returns. May be called from a callback. Accepts NULL.
 */
GM_EXTERN void gm_host_free(struct gm_host *h);
/* Our peer id. */
GM_EXTERN const struct gm_peerid *gm_host_peerid(const struct gm_host *h);
/* Sets the connection event observer (fn NULL: none). */
GM_EXTERN void gm_host_set_observer(struct gm_host *h, gm_host_event_fn fn,
				    void *ctx);
/* Counters since creation. */
GM_EXTERN struct gm_host_stats gm_host_stats(const struct gm_host *h);
/*
 * Milliseconds left of peer's ban (0: not banned). A banned peer's
 * connections are closed once Noise names it, and dials to it fail at
 * once with GM_EPERM.
 */
GM_EXTERN uint64_t gm_host_peer_banned_ms(const struct gm_host *h,
					  const struct gm_peerid *peer);
/* Connections open now (any stage). */
GM_EXTERN size_t gm_host_conn_count(const struct gm_host *h);

/*
 * Listens on ma (/ip4/A/tcp/P or /ip6/A/tcp/P; port 0 picks one).
 * GM_EUNSUPPORTED for other transports, GM_ENET with a diagnostic when the
 * address cannot be bound, GM_ELIMIT beyond GM_HOST_MAX_LISTENERS.
 */
GM_EXTERN gm_err gm_host_listen(struct gm_host *h,
				const struct gm_multiaddr *ma,
				struct gm_diag *d);
/*
 * The actual listen addresses (ports resolved), without /p2p; *out points
 * into the host. Returns the count.
 */
GM_EXTERN size_t gm_host_listen_addrs(const struct gm_host *h,
				      const struct gm_multiaddr **out);

/*
 * Dials ma (ip4/ip6 + tcp, optionally /p2p/<id>, which must match the
 * remote's Noise identity: GM_ETRUST otherwise). fn is called once, from
 * the loop, with the upgraded connection or the error: GM_ENET (refused,
 * unreachable), GM_ETIMEOUT (timeout_ms elapsed; 0 means the handshake
 * timeout), GM_EPROTO, GM_ETRUST. Returns an error at once (fn is then not
 * called) for an unsupported address (GM_EUNSUPPORTED), GM_ELIMIT at the
 * connection cap, GM_ENOMEM.
 */
GM_EXTERN gm_err gm_host_dial(struct gm_host *h, const struct gm_multiaddr *ma,
			      uint64_t timeout_ms, gm_host_dial_fn fn,
			      void *ctx, struct gm_diag *d);

/*
 * Routes inbound streams that negotiate proto to fn (events start with
 * GM_HOST_STREAM_READY). proto is copied. Replaces a previous handler.
 * GM_ELIMIT beyond GM_HOST_MAX_HANDLERS, GM_EINVAL for a bad id.
 */
GM_EXTERN gm_err gm_host_handle(struct gm_host *h, const char *proto,
				gm_host_stream_fn fn, void *ctx);

/* The remote's peer id (valid once connected). */
GM_EXTERN const struct gm_peerid *
gm_host_conn_peer(const struct gm_host_conn *c);
/* What the remote said in Identify, or NULL before it answered. */
GM_EXTERN const struct gm_identify *
gm_host_conn_identify(const struct gm_host_conn *c);
/* The remote's TCP address. */
GM_EXTERN const struct gm_multiaddr *
gm_host_conn_remote_addr(const struct gm_host_conn *c);
/* Whether we dialed the connection. */
GM_EXTERN bool gm_host_conn_outbound(const struct gm_host_conn *c);
/* Closes c (its streams get GM_HOST_STREAM_CLOSED; then DISCONNECTED). */
GM_EXTERN void gm_host_conn_close(struct gm_host_conn *c);

/*
 * Opens a stream on c negotiating proto (copied). fn gets READY, or CLOSED
 * with GM_EUNSUPPORTED when the remote refuses the protocol. *out may be
 * NULL. GM_EPERM on a closing connection, GM_ELIMIT at the stream cap,
 * GM_ENOMEM.
 */
GM_EXTERN gm_err gm_host_stream_open(struct gm_host_conn *c, const char *proto,
				     gm_host_stream_fn fn, void *ctx,
				     struct gm_host_stream **out,
				     struct gm_diag *d);
/*
 * Queues data for sending (after READY); nothing is sent before the loop
 * runs. GM_EINVAL before READY or after close_write, GM_ELIMIT when more
 * than GM_HOST_STREAM_OUT_MAX bytes would be queued (nothing is queued;
 * wait for GM_HOST_STREAM_WRITABLE), GM_ENOMEM.
 */
GM_EXTERN gm_err gm_host_stream_write(struct gm_host_stream *s,
				      const void *data, size_t len);
/* Bytes queued and not yet accepted by the remote's window. */
GM_EXTERN size_t gm_host_stream_queued(const struct gm_host_stream *s);
/*
 * Stops (paused true) or resumes delivering DATA on s. While paused,
 * what arrives stays in the stream's Yamux buffer and no window updates
 * go out, so the remote is held back by its window (256 KiB). EOF is
 * delivered only after the data before it. Resuming delivers from the
 * loop. A handler that cannot keep up pauses instead of buffering.
 */
GM_EXTERN void gm_host_stream_pause_read(struct gm_host_stream *s,
					 bool paused);
/* Closes our side once the queued data is sent. */
GM_EXTERN void gm_host_stream_close_write(struct gm_host_stream *s);
/* Resets the stream; its CLOSED event follows from the loop. */
GM_EXTERN void gm_host_stream_reset(struct gm_host_stream *s);
/* The negotiated protocol (NULL before READY). */
GM_EXTERN const char *gm_host_stream_protocol(const struct gm_host_stream *s);
/* The stream's connection. */
GM_EXTERN struct gm_host_conn *
gm_host_stream_conn(const struct gm_host_stream *s);

#endif
