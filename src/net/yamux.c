/*
 * yamux.c - the Yamux 1.0 multiplexer core (see gm/yamux.h), sans-IO.
 *
 * Frame header, 12 bytes, big-endian:
 *
 *   | 0 version | 1 type | 2-3 flags | 4-7 stream id | 8-11 length |
 *
 *   type   stream id  length           flags used
 *   data   > 0        data bytes       SYN ACK FIN RST
 *   window > 0        window delta     SYN ACK FIN RST
 *   ping   0          opaque value     SYN (request) ACK (answer)
 *   goaway 0          code 0/1/2       -
 *
 * Input is parsed incrementally: hdr[] collects a header across feeds, then
 * a data body is copied straight into the stream's receive buffer (or
 * skipped for a stream we forgot), so no frame is ever buffered whole.
 * Flags SYN/ACK act when the header is complete, FIN/RST once the body is.
 *
 * Receive flow control keeps, per stream,
 *   unread bytes + recv_window + unsent_credit == GM_YAMUX_WINDOW
 * (bytes of a data body still to come count as unread), so the receive buffer
 * never holds more than one window; data beyond recv_window is a protocol
 * error. Reading moves bytes into unsent_credit, which is sent as a window
 * update once it reaches half a window.
 *
 * Events go to a fixed ring; READABLE and WRITABLE are coalesced per stream
 * by a pending flag. Streams live in a small pointer array searched
 * linearly (at most GM_YAMUX_MAX_INBOUND + GM_YAMUX_MAX_OUTBOUND).
 */
#include "internal.h"

#include "gm/alloc.h"
#include "gm/yamux.h"

/* Output may hold this much; data writes leave GM_YAMUX_OUT_SPARE free. */
#define GM_YAMUX_OUT_LIMIT (64u * 1024u * 1024u)
#define GM_YAMUX_OUT_SPARE (1024u * 1024u)

struct ystream {
	uint32_t id;
	enum gm_yamux_stream_state state;
	bool inbound;
	bool readable_pending; /* a READABLE event is queued */
	bool writable_pending; /* a WRITABLE event is queued */
	bool blocked;	       /* last write was short */
	uint32_t send_window;  /* what the peer lets us send */
	uint32_t recv_window;  /* what we let the peer send */
	uint32_t unsent_credit;
	struct gm_buf rbuf; /* received data, unread from rd on */
	size_t rd;
};

struct yping {
	uint32_t opaque;
	uint64_t sent_ms;
};

struct gm_yamux {
	enum gm_yamux_role role;
	gm_err failed;
	uint32_t next_id;
	bool id_exhausted;
	uint32_t peer_max_id; /* highest id the peer opened */
	bool go_away_sent;
	bool go_away_received;

	struct ystream **streams;
	size_t nstreams, capstreams;
	size_t ninbound, noutbound;

	/* input parser */
	uint8_t hdr[GM_YAMUX_HEADER_LEN];
	size_t hdr_have;
	bool in_body;
	struct gm_yamux_header cur;
	uint32_t body_left;
	struct ystream *body_stream; /* NULL: discard the body */

	struct gm_buf out;

	struct gm_yamux_event ev[GM_YAMUX_MAX_EVENTS + 1];
	size_t ev_head, ev_count;

	struct yping pings[GM_YAMUX_MAX_PINGS];
	size_t npings;
	uint32_t ping_counter;
	bool keepalive_base_set;
	uint64_t last_ping_ms;
};

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

gm_err gm_yamux_parse_header(struct gm_yamux_header *h, const uint8_t *p,
			     size_t len)
{
	if (len < GM_YAMUX_HEADER_LEN)
		return GM_EFORMAT;
	h->version = p[0];
	h->type = p[1];
	h->flags = (uint16_t)((unsigned)p[2] << 8 | p[3]);
	h->stream_id = get_be32(p + 4);
	h->length = get_be32(p + 8);
	if (h->version != 0 || h->type > GM_YAMUX_TYPE_GO_AWAY)
		return GM_EFORMAT;
	return GM_OK;
}

/* Appends one header (and body) to the output. */
static gm_err emit(struct gm_yamux *y, uint8_t type, uint16_t flags,
		   uint32_t id, uint32_t length, const void *body,
		   size_t body_len)
{
	uint8_t h[GM_YAMUX_HEADER_LEN];
	gm_err e;

	h[0] = 0;
	h[1] = type;
	h[2] = (uint8_t)(flags >> 8);
	h[3] = (uint8_t)flags;
	put_be32(h + 4, id);
	put_be32(h + 8, length);
	e = gm_buf_reserve(&y->out, sizeof(h) + body_len);
	if (e)
		return e;
	gm_buf_append(&y->out, h, sizeof(h));
	if (body_len)
		gm_buf_append(&y->out, body, body_len);
	return GM_OK;
}

static gm_err push_event(struct gm_yamux *y, enum gm_yamux_event_type type,
			 uint32_t id, uint32_t value, gm_err err)
{
	struct gm_yamux_event *ev;
	size_t cap = GM_ARRAY_LEN(y->ev);

	/* the last slot is kept for the session error */
	if (y->ev_count >= GM_YAMUX_MAX_EVENTS && type != GM_YAMUX_EV_ERROR)
		return GM_ELIMIT;
	if (y->ev_count >= cap)
		return GM_ELIMIT;
	ev = &y->ev[(y->ev_head + y->ev_count) % cap];
	ev->type = type;
	ev->stream_id = id;
	ev->value = value;
	ev->err = err;
	y->ev_count++;
	return GM_OK;
}

/* Marks the session failed, queues go away and the error event. */
static gm_err fail(struct gm_yamux *y, gm_err e)
{
	uint32_t code;

	if (y->failed)
		return y->failed;
	y->failed = e;
	if (!y->go_away_sent) {
		code = e == GM_EPROTO ? GM_YAMUX_GO_AWAY_PROTOCOL
				      : GM_YAMUX_GO_AWAY_INTERNAL;
		if (emit(y, GM_YAMUX_TYPE_GO_AWAY, 0, 0, code, NULL, 0) ==
		    GM_OK)
			y->go_away_sent = true;
	}
	push_event(y, GM_YAMUX_EV_ERROR, 0, 0, e);
	return e;
}

static struct ystream *find(const struct gm_yamux *y, uint32_t id)
{
	size_t i;

	if (!id)
		return NULL;
	for (i = 0; i < y->nstreams; i++)
		if (y->streams[i]->id == id)
			return y->streams[i];
	return NULL;
}

static gm_err add_stream(struct gm_yamux *y, uint32_t id, bool inbound,
			 struct ystream **out)
{
	struct ystream *s, **n;
	size_t cap;

	if (y->nstreams == y->capstreams) {
		cap = y->capstreams ? y->capstreams * 2 : 16;
		n = gm_reallocarray(y->streams, cap, sizeof(*n));
		if (!n)
			return GM_ENOMEM;
		y->streams = n;
		y->capstreams = cap;
	}
	s = gm_calloc(1, sizeof(*s));
	if (!s)
		return GM_ENOMEM;
	s->id = id;
	s->inbound = inbound;
	s->state = GM_YAMUX_INIT;
	s->send_window = GM_YAMUX_WINDOW;
	s->recv_window = GM_YAMUX_WINDOW;
	gm_buf_init(&s->rbuf, GM_YAMUX_WINDOW);
	y->streams[y->nstreams++] = s;
	if (inbound)
		y->ninbound++;
	else
		y->noutbound++;
	*out = s;
	return GM_OK;
}

static void remove_stream(struct gm_yamux *y, struct ystream *s)
{
	size_t i;

	for (i = 0; i < y->nstreams; i++) {
		if (y->streams[i] != s)
			continue;
		y->streams[i] = y->streams[--y->nstreams];
		break;
	}
	if (y->body_stream == s)
		y->body_stream = NULL;
	if (s->inbound)
		y->ninbound--;
	else
		y->noutbound--;
	gm_buf_release(&s->rbuf);
	gm_free(s);
}

static size_t unread(const struct ystream *s)
{
	return s->rbuf.len - s->rd;
}

/*
 * Moves unread data to the front of the buffer, so appending at most
 * recv_window more bytes stays within one window.
 */
static void compact(struct ystream *s)
{
	if (!s->rd)
		return;
	memmove(s->rbuf.data, s->rbuf.data + s->rd, unread(s));
	s->rbuf.len -= s->rd;
	s->rd = 0;
}

/* Forgets a stream closed both ways once its data was read. */
static void maybe_forget(struct gm_yamux *y, struct ystream *s)
{
	if (s->state == GM_YAMUX_CLOSED && !unread(s))
		remove_stream(y, s);
}

gm_err gm_yamux_open(struct gm_yamux **out, enum gm_yamux_role role)
{
	struct gm_yamux *y;

	*out = NULL;
	if (role != GM_YAMUX_CLIENT && role != GM_YAMUX_SERVER)
		return GM_EINVAL;
	y = gm_calloc(1, sizeof(*y));
	if (!y)
		return GM_ENOMEM;
	y->role = role;
	y->next_id = role == GM_YAMUX_CLIENT ? 1 : 2;
	gm_buf_init(&y->out, GM_YAMUX_OUT_LIMIT);
	*out = y;
	return GM_OK;
}

void gm_yamux_close(struct gm_yamux *y)
{
	size_t i;

	if (!y)
		return;
	for (i = 0; i < y->nstreams; i++) {
		gm_buf_release(&y->streams[i]->rbuf);
		gm_free(y->streams[i]);
	}
	gm_free(y->streams);
	gm_buf_release(&y->out);
	gm_free(y);
}

static bool peer_parity(const struct gm_yamux *y, uint32_t id)
{
	/* the client's peer opens even ids, the server's peer odd ones */
	return (id & 1) == (y->role == GM_YAMUX_SERVER ? 1u : 0u);
}

/* A SYN on a new id: accept (ACK) or refuse (RST). *out NULL if refused. */
static gm_err accept_syn(struct gm_yamux *y, uint32_t id, struct ystream **out,
			 struct gm_diag *diag)
{
	struct ystream *s;
	gm_err e;

	*out = NULL;
	if (!peer_parity(y, id) || id <= y->peer_max_id)
		return gm_diag_set(diag, GM_EPROTO,
				   "yamux: peer opened stream %" PRIu32
				   " with a reused or wrong-parity id",
				   id);
	y->peer_max_id = id;
	if (y->go_away_sent || y->ninbound >= GM_YAMUX_MAX_INBOUND)
		return emit(y, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_RST, id, 0,
			    NULL, 0);
	e = gm_buf_reserve(&y->out, GM_YAMUX_HEADER_LEN);
	if (e)
		return e;
	e = add_stream(y, id, true, &s);
	if (e)
		return e;
	s->state = GM_YAMUX_SYN_RECEIVED;
	e = push_event(y, GM_YAMUX_EV_STREAM_OPENED, id, 0, GM_OK);
	if (e)
		return e;
	emit(y, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_ACK, id, 0, NULL, 0);
	s->state = GM_YAMUX_ESTABLISHED;
	*out = s;
	return GM_OK;
}

/* FIN or RST at the end of a data or window update frame. */
static gm_err end_flags(struct gm_yamux *y, struct ystream *s, uint16_t flags,
			struct gm_diag *diag)
{
	gm_err e;

	if (!s)
		return GM_OK;
	if (flags & GM_YAMUX_RST) {
		uint32_t id = s->id;

		remove_stream(y, s);
		return push_event(y, GM_YAMUX_EV_RESET, id, 0, GM_OK);
	}
	if (!(flags & GM_YAMUX_FIN))
		return GM_OK;
	switch (s->state) {
	case GM_YAMUX_SYN_SENT:
	case GM_YAMUX_SYN_RECEIVED:
	case GM_YAMUX_ESTABLISHED:
		s->state = GM_YAMUX_REMOTE_CLOSE;
		break;
	case GM_YAMUX_LOCAL_CLOSE:
		s->state = GM_YAMUX_CLOSED;
		break;
	default:
		return gm_diag_set(diag, GM_EPROTO,
				   "yamux: second FIN on stream %" PRIu32,
				   s->id);
	}
	e = push_event(y, GM_YAMUX_EV_HALF_CLOSED, s->id, 0, GM_OK);
	if (e)
		return e;
	maybe_forget(y, s);
	return GM_OK;
}

/*
 * A data or window update header: finds or opens the stream and applies
 * SYN/ACK (and the window delta). Sets y->body_stream for data.
 */
static gm_err stream_header(struct gm_yamux *y, struct gm_diag *diag)
{
	const struct gm_yamux_header *h = &y->cur;
	struct ystream *s;
	gm_err e;

	if (!h->stream_id)
		return gm_diag_set(
		    diag, GM_EPROTO, "yamux: %s frame on stream 0",
		    h->type == GM_YAMUX_TYPE_DATA ? "data" : "window");
	s = find(y, h->stream_id);
	if (h->flags & GM_YAMUX_SYN) {
		if (s)
			return gm_diag_set(
			    diag, GM_EPROTO,
			    "yamux: SYN for open stream %" PRIu32,
			    h->stream_id);
		e = accept_syn(y, h->stream_id, &s, diag);
		if (e)
			return e;
	}
	if (s && (h->flags & GM_YAMUX_ACK) && s->state == GM_YAMUX_SYN_SENT)
		s->state = GM_YAMUX_ESTABLISHED;
	y->body_stream = NULL;
	if (h->type == GM_YAMUX_TYPE_WINDOW_UPDATE) {
		if (!s)
			return GM_OK;
		if (h->length > UINT32_MAX - s->send_window)
			return gm_diag_set(diag, GM_EPROTO,
					   "yamux: window of stream %" PRIu32
					   " overflows",
					   s->id);
		s->send_window += h->length;
		if (s->blocked && s->send_window && !s->writable_pending &&
		    s->state != GM_YAMUX_LOCAL_CLOSE &&
		    s->state != GM_YAMUX_CLOSED) {
			e = push_event(y, GM_YAMUX_EV_WRITABLE, s->id, 0,
				       GM_OK);
			if (e)
				return e;
			s->writable_pending = true;
			s->blocked = false;
		}
		return GM_OK;
	}
	/* data */
	if (!s)
		return GM_OK; /* forgotten stream: skip the body */
	if (s->state == GM_YAMUX_REMOTE_CLOSE || s->state == GM_YAMUX_CLOSED) {
		if (h->length)
			return gm_diag_set(diag, GM_EPROTO,
					   "yamux: data after FIN on stream "
					   "%" PRIu32,
					   s->id);
		return GM_OK;
	}
	if (h->length > s->recv_window)
		return gm_diag_set(diag, GM_EPROTO,
				   "yamux: peer sent %" PRIu32
				   " bytes on stream %" PRIu32
				   " beyond its window of %" PRIu32,
				   h->length, s->id, s->recv_window);
	s->recv_window -= h->length;
	y->body_stream = s;
	return GM_OK;
}

static gm_err ping_frame(struct gm_yamux *y, uint64_t now_ms,
			 struct gm_diag *diag)
{
	const struct gm_yamux_header *h = &y->cur;
	uint64_t rtt;
	size_t i;

	if (h->stream_id)
		return gm_diag_set(diag, GM_EPROTO,
				   "yamux: ping on stream %" PRIu32
				   " instead of 0",
				   h->stream_id);
	if (h->flags & GM_YAMUX_SYN)
		return emit(y, GM_YAMUX_TYPE_PING, GM_YAMUX_ACK, 0, h->length,
			    NULL, 0);
	if (!(h->flags & GM_YAMUX_ACK))
		return GM_OK;
	for (i = 0; i < y->npings; i++) {
		if (y->pings[i].opaque != h->length)
			continue;
		rtt = now_ms >= y->pings[i].sent_ms
			  ? now_ms - y->pings[i].sent_ms
			  : 0;
		if (rtt > UINT32_MAX)
			rtt = UINT32_MAX;
		y->pings[i] = y->pings[--y->npings];
		return push_event(y, GM_YAMUX_EV_PING_RTT, 0, (uint32_t)rtt,
				  GM_OK);
	}
	return GM_OK; /* an ACK we did not ask for: ignored */
}

/* A complete header in y->cur: acts on it. */
static gm_err header_done(struct gm_yamux *y, uint64_t now_ms,
			  struct gm_diag *diag)
{
	const struct gm_yamux_header *h = &y->cur;
	gm_err e;

	if (h->version != 0)
		return gm_diag_set(diag, GM_EPROTO,
				   "yamux: frame version %u, expected 0",
				   h->version);
	switch (h->type) {
	case GM_YAMUX_TYPE_DATA:
		e = stream_header(y, diag);
		if (e)
			return e;
		y->body_left = h->length;
		y->in_body = true;
		if (!h->length) {
			y->in_body = false;
			return end_flags(y, y->body_stream, h->flags, diag);
		}
		return GM_OK;
	case GM_YAMUX_TYPE_WINDOW_UPDATE:
		e = stream_header(y, diag);
		if (e)
			return e;
		return end_flags(y, find(y, h->stream_id), h->flags, diag);
	case GM_YAMUX_TYPE_PING:
		return ping_frame(y, now_ms, diag);
	case GM_YAMUX_TYPE_GO_AWAY:
		if (h->stream_id)
			return gm_diag_set(diag, GM_EPROTO,
					   "yamux: go away on stream %" PRIu32,
					   h->stream_id);
		if (y->go_away_received)
			return GM_OK;
		y->go_away_received = true;
		return push_event(y, GM_YAMUX_EV_GO_AWAY, 0, h->length, GM_OK);
	default:
		return gm_diag_set(diag, GM_EPROTO,
				   "yamux: unknown frame type %u", h->type);
	}
}

gm_err gm_yamux_feed(struct gm_yamux *y, const uint8_t *in, size_t len,
		     uint64_t now_ms, struct gm_diag *diag)
{
	size_t off = 0, n;
	struct ystream *s;
	gm_err e;

	if (y->failed)
		return gm_diag_set(diag, y->failed,
				   "yamux: session already failed (%s)",
				   gm_errname(y->failed));
	while (off < len) {
		if (y->in_body) {
			n = len - off;
			if (n > y->body_left)
				n = y->body_left;
			s = y->body_stream;
			if (s) {
				compact(s);
				e = gm_buf_append(&s->rbuf, in + off, n);
				if (e)
					goto fail_session;
				if (!s->readable_pending) {
					e = push_event(y, GM_YAMUX_EV_READABLE,
						       s->id, 0, GM_OK);
					if (e)
						goto fail_session;
					s->readable_pending = true;
				}
			}
			off += n;
			y->body_left -= (uint32_t)n;
			if (y->body_left)
				continue;
			y->in_body = false;
			e = end_flags(y, y->body_stream, y->cur.flags, diag);
			if (e)
				goto fail_session;
			continue;
		}
		n = GM_YAMUX_HEADER_LEN - y->hdr_have;
		if (n > len - off)
			n = len - off;
		memcpy(y->hdr + y->hdr_have, in + off, n);
		y->hdr_have += n;
		off += n;
		if (y->hdr_have < GM_YAMUX_HEADER_LEN)
			break;
		y->hdr_have = 0;
		y->cur.version = y->hdr[0];
		y->cur.type = y->hdr[1];
		y->cur.flags = (uint16_t)((unsigned)y->hdr[2] << 8 | y->hdr[3]);
		y->cur.stream_id = get_be32(y->hdr + 4);
		y->cur.length = get_be32(y->hdr + 8);
		e = header_done(y, now_ms, diag);
		if (e)
			goto fail_session;
	}
	return GM_OK;

fail_session:
	if (e == GM_ELIMIT && y->ev_count >= GM_YAMUX_MAX_EVENTS)
		gm_diag_set(diag, e,
			    "yamux: more than %d events not polled; poll "
			    "events after each feed",
			    GM_YAMUX_MAX_EVENTS);
	else if (e == GM_ELIMIT)
		gm_diag_set(diag, e,
			    "yamux: output queue full; take output after "
			    "each feed");
	else if (e == GM_ENOMEM)
		gm_diag_set(diag, e, "yamux: out of memory");
	return fail(y, e);
}

bool gm_yamux_poll_event(struct gm_yamux *y, struct gm_yamux_event *ev)
{
	struct ystream *s;

	while (y->ev_count) {
		*ev = y->ev[y->ev_head];
		y->ev_head = (y->ev_head + 1) % GM_ARRAY_LEN(y->ev);
		y->ev_count--;
		if (ev->type != GM_YAMUX_EV_READABLE &&
		    ev->type != GM_YAMUX_EV_WRITABLE)
			return true;
		s = find(y, ev->stream_id);
		if (!s)
			continue; /* the stream is gone */
		if (ev->type == GM_YAMUX_EV_READABLE)
			s->readable_pending = false;
		else
			s->writable_pending = false;
		return true;
	}
	memset(ev, 0, sizeof(*ev));
	ev->type = GM_YAMUX_EV_NONE;
	return false;
}

gm_err gm_yamux_take_output(struct gm_yamux *y, struct gm_buf *out)
{
	gm_err e;

	if (!y->out.len)
		return GM_OK;
	if (!out->len && out->limit >= y->out.len) {
		/* an empty buffer takes ours whole: no copy */
		struct gm_buf tmp = *out;

		out->data = y->out.data;
		out->len = y->out.len;
		out->cap = y->out.cap;
		y->out.data = tmp.data;
		y->out.cap = tmp.cap;
		gm_buf_reset(&y->out);
		return GM_OK;
	}
	e = gm_buf_append(out, y->out.data, y->out.len);
	if (e)
		return e;
	gm_buf_reset(&y->out);
	return GM_OK;
}

size_t gm_yamux_output_len(const struct gm_yamux *y)
{
	return y->out.len;
}

gm_err gm_yamux_open_stream(struct gm_yamux *y, uint32_t *id,
			    struct gm_diag *diag)
{
	struct ystream *s;
	gm_err e;

	*id = 0;
	if (y->failed)
		return gm_diag_set(diag, y->failed,
				   "yamux: session failed (%s)",
				   gm_errname(y->failed));
	if (y->go_away_received || y->go_away_sent)
		return gm_diag_set(diag, GM_EPERM,
				   "yamux: session is going away (%s); open "
				   "a new connection",
				   y->go_away_received ? "peer sent go away"
						       : "we sent go away");
	if (y->id_exhausted || y->noutbound >= GM_YAMUX_MAX_OUTBOUND)
		return gm_diag_set(diag, GM_ELIMIT,
				   "yamux: %s; close streams or open a new "
				   "connection",
				   y->id_exhausted ? "stream ids exhausted"
						   : "too many open streams");
	e = gm_buf_reserve(&y->out, GM_YAMUX_HEADER_LEN);
	if (e)
		return e;
	e = add_stream(y, y->next_id, false, &s);
	if (e)
		return e;
	emit(y, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_SYN, s->id, 0, NULL, 0);
	s->state = GM_YAMUX_SYN_SENT;
	*id = s->id;
	if (y->next_id > UINT32_MAX - 2)
		y->id_exhausted = true;
	else
		y->next_id += 2;
	return GM_OK;
}

gm_err gm_yamux_write(struct gm_yamux *y, uint32_t id, const void *data,
		      size_t len, size_t *accepted, struct gm_diag *diag)
{
	const uint8_t *p = data;
	struct ystream *s;
	size_t room, n;
	gm_err e;

	*accepted = 0;
	if (y->failed)
		return gm_diag_set(diag, y->failed,
				   "yamux: session failed (%s)",
				   gm_errname(y->failed));
	s = find(y, id);
	if (!s)
		return gm_diag_set(diag, GM_ENOENT, "yamux: no stream %" PRIu32,
				   id);
	if (s->state == GM_YAMUX_LOCAL_CLOSE || s->state == GM_YAMUX_CLOSED)
		return gm_diag_set(diag, GM_EINVAL,
				   "yamux: stream %" PRIu32
				   " was closed for writing (FIN sent)",
				   id);
	while (*accepted < len) {
		n = len - *accepted;
		if (n > s->send_window)
			n = s->send_window;
		if (n > GM_YAMUX_MAX_FRAME_DATA)
			n = GM_YAMUX_MAX_FRAME_DATA;
		room = GM_YAMUX_OUT_LIMIT - GM_YAMUX_OUT_SPARE;
		room = y->out.len + GM_YAMUX_HEADER_LEN < room
			   ? room - y->out.len - GM_YAMUX_HEADER_LEN
			   : 0;
		if (n > room)
			n = room;
		if (!n)
			break;
		e = emit(y, GM_YAMUX_TYPE_DATA, 0, id, (uint32_t)n,
			 p + *accepted, n);
		if (e)
			return e;
		s->send_window -= (uint32_t)n;
		*accepted += n;
	}
	s->blocked = *accepted < len;
	return GM_OK;
}

gm_err gm_yamux_read(struct gm_yamux *y, uint32_t id, void *buf, size_t cap,
		     size_t *got)
{
	struct ystream *s;
	size_t n;
	uint32_t credit;
	gm_err e;

	*got = 0;
	s = find(y, id);
	if (!s)
		return GM_ENOENT;
	GM_ASSERT((uint64_t)unread(s) + s->recv_window + s->unsent_credit <=
		  GM_YAMUX_WINDOW);
	n = unread(s);
	if (n > cap)
		n = cap;
	if (!n) {
		maybe_forget(y, s);
		return GM_OK;
	}
	credit = s->unsent_credit + (uint32_t)n;
	/* no window updates once the peer stopped sending or we failed */
	if (credit >= GM_YAMUX_WINDOW / 2 && !y->failed &&
	    s->state != GM_YAMUX_REMOTE_CLOSE && s->state != GM_YAMUX_CLOSED) {
		e = emit(y, GM_YAMUX_TYPE_WINDOW_UPDATE, 0, id, credit, NULL,
			 0);
		if (e)
			return e;
		s->recv_window += credit;
		credit = 0;
	}
	s->unsent_credit = credit;
	memcpy(buf, s->rbuf.data + s->rd, n);
	s->rd += n;
	if (s->rd == s->rbuf.len) {
		s->rd = 0;
		s->rbuf.len = 0;
	}
	*got = n;
	maybe_forget(y, s);
	return GM_OK;
}

gm_err gm_yamux_close_stream(struct gm_yamux *y, uint32_t id)
{
	struct ystream *s;
	gm_err e;

	if (y->failed)
		return y->failed;
	s = find(y, id);
	if (!s)
		return GM_ENOENT;
	if (s->state == GM_YAMUX_LOCAL_CLOSE || s->state == GM_YAMUX_CLOSED)
		return GM_EINVAL;
	e = emit(y, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_FIN, id, 0, NULL, 0);
	if (e)
		return e;
	s->state = s->state == GM_YAMUX_REMOTE_CLOSE ? GM_YAMUX_CLOSED
						     : GM_YAMUX_LOCAL_CLOSE;
	maybe_forget(y, s);
	return GM_OK;
}

gm_err gm_yamux_reset_stream(struct gm_yamux *y, uint32_t id)
{
	struct ystream *s;
	gm_err e;

	s = find(y, id);
	if (!s)
		return GM_ENOENT;
	if (!y->failed) {
		e = emit(y, GM_YAMUX_TYPE_WINDOW_UPDATE, GM_YAMUX_RST, id, 0,
			 NULL, 0);
		if (e)
			return e;
	}
	remove_stream(y, s);
	return GM_OK;
}

enum gm_yamux_stream_state gm_yamux_stream_state(const struct gm_yamux *y,
						 uint32_t id)
{
	const struct ystream *s = find(y, id);

	return s ? s->state : GM_YAMUX_CLOSED;
}

size_t gm_yamux_readable(const struct gm_yamux *y, uint32_t id)
{
	const struct ystream *s = find(y, id);

	return s ? unread(s) : 0;
}

uint32_t gm_yamux_send_window(const struct gm_yamux *y, uint32_t id)
{
	const struct ystream *s = find(y, id);

	return s ? s->send_window : 0;
}

size_t gm_yamux_stream_count(const struct gm_yamux *y)
{
	return y->nstreams;
}

gm_err gm_yamux_ping(struct gm_yamux *y, uint64_t now_ms, uint32_t *opaque)
{
	uint32_t v;
	gm_err e;

	if (y->failed)
		return y->failed;
	if (y->npings >= GM_YAMUX_MAX_PINGS)
		return GM_ELIMIT;
	v = ++y->ping_counter;
	e = emit(y, GM_YAMUX_TYPE_PING, GM_YAMUX_SYN, 0, v, NULL, 0);
	if (e)
		return e;
	y->pings[y->npings].opaque = v;
	y->pings[y->npings].sent_ms = now_ms;
	y->npings++;
	y->keepalive_base_set = true;
	y->last_ping_ms = now_ms;
	if (opaque)
		*opaque = v;
	return GM_OK;
}

gm_err gm_yamux_tick(struct gm_yamux *y, uint64_t now_ms)
{
	size_t i;

	if (y->failed)
		return y->failed;
	for (i = 0; i < y->npings; i++)
		if (now_ms >= y->pings[i].sent_ms &&
		    now_ms - y->pings[i].sent_ms >= GM_YAMUX_PING_TIMEOUT_MS)
			return fail(y, GM_ETIMEOUT);
	if (!y->keepalive_base_set) {
		y->keepalive_base_set = true;
		y->last_ping_ms = now_ms;
		return GM_OK;
	}
	if (now_ms < y->last_ping_ms ||
	    now_ms - y->last_ping_ms < GM_YAMUX_KEEPALIVE_MS || y->npings)
		return GM_OK;
	return gm_yamux_ping(y, now_ms, NULL);
}

gm_err gm_yamux_go_away(struct gm_yamux *y, uint32_t code)
{
	gm_err e;

	if (code > GM_YAMUX_GO_AWAY_INTERNAL)
		return GM_EINVAL;
	if (y->go_away_sent)
		return GM_OK;
	e = emit(y, GM_YAMUX_TYPE_GO_AWAY, 0, 0, code, NULL, 0);
	if (e)
		return e;
	y->go_away_sent = true;
	return GM_OK;
}

bool gm_yamux_peer_went_away(const struct gm_yamux *y)
{
	return y->go_away_received;
}
