/*
 * yamux.h - the Yamux 1.0 stream multiplexer (/yamux/1.0.0), sans-IO.
 *
 * A struct gm_yamux is one session over one secured connection. It does no
 * I/O and reads no clock: the caller feeds it the bytes received
 * (gm_yamux_feed), takes the bytes to send (gm_yamux_take_output), polls the
 * events it produced (gm_yamux_poll_event) and passes the current time in
 * milliseconds wherever time matters (pings, keepalive).
 *
 * Frame header (12 bytes, big-endian):
 *
 *   offset size field
 *   0      1    version (0)
 *   1      1    type: 0 data, 1 window update, 2 ping, 3 go away
 *   2      2    flags: SYN 1, ACK 2, FIN 4, RST 8
 *   4      4    stream id (0 = the session: ping, go away)
 *   8      4    length: data bytes, window delta, ping opaque or go away code
 *
 * The dialer (client) opens odd stream ids, the listener (server) even ones.
 * Each stream has a 256 KiB window per direction; only data bytes count.
 * Writes never go beyond the peer's window: gm_yamux_write accepts what fits
 * and reports it, and a GM_YAMUX_EV_WRITABLE event tells when more fits.
 * Reading consumes the receive buffer and sends window updates once half a
 * window was consumed. A peer that breaks the protocol (bad version or type,
 * data beyond our window, duplicate stream id, ...) makes gm_yamux_feed
 * return GM_EPROTO: a go away with code 1 is queued for output, a
 * GM_YAMUX_EV_ERROR event is queued and the session refuses further work.
 *
 * Stream lifetime: a stream exists from its SYN until it is reset (by either
 * side) or closed in both directions and its received data was read. After
 * that, calls naming its id return GM_ENOENT and gm_yamux_stream_state says
 * GM_YAMUX_CLOSED.
 */
#ifndef GM_YAMUX_H
#define GM_YAMUX_H

#include <stdbool.h>
#include <stdint.h>

#include "gm/buf.h"
#include "gm/err.h"
#include "gm/gm.h"

#define GM_YAMUX_PROTOCOL "/yamux/1.0.0"
#define GM_YAMUX_HEADER_LEN 12
/* Initial window per stream and direction (bytes of data). */
#define GM_YAMUX_WINDOW (256u * 1024u)
/* Largest data frame we send. */
#define GM_YAMUX_MAX_FRAME_DATA (64u * 1024u)
/* Streams the peer may hold open at once; more are refused with RST. */
#define GM_YAMUX_MAX_INBOUND 256
/* Streams we may hold open at once. */
#define GM_YAMUX_MAX_OUTBOUND 1024
/* Events left unpolled before the session fails with GM_ELIMIT. */
#define GM_YAMUX_MAX_EVENTS 4096
/* Our pings awaiting an ACK at once. */
#define GM_YAMUX_MAX_PINGS 8
/* gm_yamux_tick sends a keepalive ping this often. */
#define GM_YAMUX_KEEPALIVE_MS 30000u
/* A ping unanswered this long fails the session. */
#define GM_YAMUX_PING_TIMEOUT_MS 60000u

enum gm_yamux_type {
	GM_YAMUX_TYPE_DATA = 0,
	GM_YAMUX_TYPE_WINDOW_UPDATE = 1,
	GM_YAMUX_TYPE_PING = 2,
	GM_YAMUX_TYPE_GO_AWAY = 3,
};

enum gm_yamux_flag {
	GM_YAMUX_SYN = 1,
	GM_YAMUX_ACK = 2,
	GM_YAMUX_FIN = 4,
	GM_YAMUX_RST = 8,
};

/* Go away codes. */
enum gm_yamux_go_away_code {
	GM_YAMUX_GO_AWAY_NORMAL = 0,
	GM_YAMUX_GO_AWAY_PROTOCOL = 1,
	GM_YAMUX_GO_AWAY_INTERNAL = 2,
};

enum gm_yamux_role {
	GM_YAMUX_CLIENT, /* the dialer: odd stream ids */
	GM_YAMUX_SERVER, /* the listener: even stream ids */
};

/*
 * Stream states. INIT and SYN_RECEIVED are passed through inside the calls
 * that create a stream: the session answers a peer's SYN with an ACK right
 * away. A reset stream (RST sent or received) is forgotten at once, so
 * gm_yamux_stream_state reports it, like any unknown id, as CLOSED; RESET is
 * kept for the binding layer's own bookkeeping.
 */
enum gm_yamux_stream_state {
	GM_YAMUX_INIT,
	GM_YAMUX_SYN_SENT,
	GM_YAMUX_SYN_RECEIVED,
	GM_YAMUX_ESTABLISHED,
	GM_YAMUX_LOCAL_CLOSE,  /* we sent FIN; the peer may still send */
	GM_YAMUX_REMOTE_CLOSE, /* the peer sent FIN; we may still send */
	GM_YAMUX_CLOSED,
	GM_YAMUX_RESET,
};

enum gm_yamux_event_type {
	GM_YAMUX_EV_NONE = 0,
	GM_YAMUX_EV_STREAM_OPENED, /* the peer opened stream_id */
	GM_YAMUX_EV_READABLE,	   /* data waits on stream_id */
	GM_YAMUX_EV_HALF_CLOSED,   /* the peer sent FIN on stream_id */
	GM_YAMUX_EV_RESET,	   /* stream_id was reset by the peer */
	GM_YAMUX_EV_WRITABLE,	   /* window opened after a short write */
	GM_YAMUX_EV_PING_RTT,	   /* our ping answered; value = RTT ms */
	GM_YAMUX_EV_GO_AWAY,	   /* the peer sent go away; value = code */
	GM_YAMUX_EV_ERROR,	   /* session failed; err says why */
};

struct gm_yamux_event {
	enum gm_yamux_event_type type;
	uint32_t stream_id; /* 0 for session events */
	uint32_t value;	    /* RTT in ms, or go away code */
	gm_err err;	    /* GM_YAMUX_EV_ERROR only */
};

struct gm_yamux;

/*
 * Creates a session in the given role. *out is owned by the caller and freed
 * with gm_yamux_close. Returns GM_OK, GM_EINVAL or GM_ENOMEM.
 */
GM_EXTERN gm_err gm_yamux_open(struct gm_yamux **out, enum gm_yamux_role role);
/* Frees a session and all its streams and buffers (accepts NULL). */
GM_EXTERN void gm_yamux_close(struct gm_yamux *y);

/*
 * Consumes len bytes received from the peer. Frames may be split anywhere
 * across calls. Answers (ACKs, ping replies, RSTs for refused streams) are
 * queued for output, events for gm_yamux_poll_event. now_ms is the caller's
 * clock, used to compute ping round trips. Returns GM_OK; GM_EPROTO when the
 * peer broke the protocol (go away code 1 queued), GM_ELIMIT when too many
 * events or output bytes piled up, GM_ENOMEM; after any error the session is
 * failed and every later call returns that error. diag names the problem.
 */
GM_EXTERN gm_err gm_yamux_feed(struct gm_yamux *y, const uint8_t *in,
			       size_t len, uint64_t now_ms,
			       struct gm_diag *diag);

/*
 * Takes the next event into *ev. Returns true when there was one, false (and
 * ev->type GM_YAMUX_EV_NONE) when the queue is empty.
 */
GM_EXTERN bool gm_yamux_poll_event(struct gm_yamux *y,
				   struct gm_yamux_event *ev);

/*
 * Appends every byte waiting to be sent to out (the caller's buffer) and
 * empties the session's output (an empty out swaps memory with the
 * session instead of copying). Returns GM_OK, or the error of appending to
 * out (GM_ENOMEM, GM_ELIMIT), in which case nothing is taken.
 */
GM_EXTERN gm_err gm_yamux_take_output(struct gm_yamux *y, struct gm_buf *out);
/* Number of bytes waiting for gm_yamux_take_output. */
GM_EXTERN size_t gm_yamux_output_len(const struct gm_yamux *y);

/*
 * Opens a new stream (queues a window update with SYN) and stores its id in
 * *id. Returns GM_OK; GM_EPERM after a go away was sent or received;
 * GM_ELIMIT with GM_YAMUX_MAX_OUTBOUND streams open or ids exhausted;
 * GM_ENOMEM; the session error when failed.
 */
GM_EXTERN gm_err gm_yamux_open_stream(struct gm_yamux *y, uint32_t *id,
				      struct gm_diag *diag);

/*
 * Queues up to len bytes of data on stream id, never more than the peer's
 * window allows, in frames of at most GM_YAMUX_MAX_FRAME_DATA bytes.
 * *accepted receives how many bytes were taken (possibly 0); when short, a
 * GM_YAMUX_EV_WRITABLE event follows once the peer opens its window.
 * Returns GM_OK; GM_ENOENT for an unknown stream; GM_EINVAL when we already
 * closed the stream for writing (FIN sent); GM_ENOMEM.
 */
GM_EXTERN gm_err gm_yamux_write(struct gm_yamux *y, uint32_t id,
				const void *data, size_t len, size_t *accepted,
				struct gm_diag *diag);

/*
 * Copies up to cap bytes received on stream id into buf and stores the count
 * in *got. Consuming data queues a window update once half a window was
 * consumed. *got == 0 with state REMOTE_CLOSE or CLOSED means end of stream.
 * Returns GM_OK, GM_ENOENT for an unknown stream, GM_ENOMEM.
 */
GM_EXTERN gm_err gm_yamux_read(struct gm_yamux *y, uint32_t id, void *buf,
			       size_t cap, size_t *got);

/*
 * Half-closes stream id for writing (queues FIN). Returns GM_OK, GM_ENOENT,
 * GM_EINVAL when already closed for writing, GM_ENOMEM.
 */
GM_EXTERN gm_err gm_yamux_close_stream(struct gm_yamux *y, uint32_t id);

/*
 * Resets stream id (queues RST) and forgets it, dropping unread data.
 * Returns GM_OK, GM_ENOENT, GM_ENOMEM.
 */
GM_EXTERN gm_err gm_yamux_reset_stream(struct gm_yamux *y, uint32_t id);

/* State of stream id (GM_YAMUX_CLOSED when unknown or forgotten). */
GM_EXTERN enum gm_yamux_stream_state
gm_yamux_stream_state(const struct gm_yamux *y, uint32_t id);
/* Bytes received on stream id and not read yet (0 when unknown). */
GM_EXTERN size_t gm_yamux_readable(const struct gm_yamux *y, uint32_t id);
/* Bytes the peer lets us send on stream id right now (0 when unknown). */
GM_EXTERN uint32_t gm_yamux_send_window(const struct gm_yamux *y, uint32_t id);
/* Number of streams the session holds (both directions). */
GM_EXTERN size_t gm_yamux_stream_count(const struct gm_yamux *y);

/*
 * Sends a ping (SYN) with a fresh opaque value, remembering now_ms; the ACK
 * yields a GM_YAMUX_EV_PING_RTT event. The opaque value is stored in *opaque
 * when not NULL. Returns GM_OK, GM_ELIMIT with GM_YAMUX_MAX_PINGS pings
 * unanswered, GM_ENOMEM, or the session error.
 */
GM_EXTERN gm_err gm_yamux_ping(struct gm_yamux *y, uint64_t now_ms,
			       uint32_t *opaque);

/*
 * Timer tick: sends a keepalive ping when none was sent for
 * GM_YAMUX_KEEPALIVE_MS, and fails the session with GM_ETIMEOUT (event
 * GM_YAMUX_EV_ERROR) when a ping stayed unanswered for
 * GM_YAMUX_PING_TIMEOUT_MS. Returns GM_OK or the session error.
 */
GM_EXTERN gm_err gm_yamux_tick(struct gm_yamux *y, uint64_t now_ms);

/*
 * Queues a go away with code (enum gm_yamux_go_away_code): no new streams
 * either way afterwards; open streams continue. Returns GM_OK, GM_EINVAL for
 * a code above 2, GM_ENOMEM.
 */
GM_EXTERN gm_err gm_yamux_go_away(struct gm_yamux *y, uint32_t code);

/* True once the peer sent go away. */
GM_EXTERN bool gm_yamux_peer_went_away(const struct gm_yamux *y);

/*
 * Decodes a 12-byte frame header (for tools and fuzzers). Returns GM_OK, or
 * GM_EFORMAT when len < 12, the version is not 0 or the type is unknown.
 */
struct gm_yamux_header {
	uint8_t version;
	uint8_t type;
	uint16_t flags;
	uint32_t stream_id;
	uint32_t length;
};
GM_EXTERN gm_err gm_yamux_parse_header(struct gm_yamux_header *h,
				       const uint8_t *p, size_t len);

#endif
