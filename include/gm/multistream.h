/*
 * multistream.h - multistream-select 1.0 protocol negotiation, sans-IO.
 *
 * Every message is `uvarint(len) text '\n'`, len counting the newline:
 *
 *   | message              | meaning                                     |
 *   |----------------------|---------------------------------------------|
 *   | /multistream/1.0.0   | header, sent first by both sides            |
 *   | <protocol id>        | dialer: proposal; listener: acceptance echo |
 *   | na                   | listener: proposal refused                  |
 *   | ls                   | dialer: asks for the listener's protocols   |
 *
 * A struct gm_mss is a value, one per stream side. The caller feeds it the
 * bytes read from the stream and sends whatever it appends to out. The
 * dialer writes its header and first proposal together on the first
 * gm_mss_feed() (call it with len 0 to start); on "na" it proposes the next
 * protocol. The listener answers the header with its own, echoes a
 * supported protocol and answers anything else with "na" ("ls" gets the
 * list of supported protocols, each a message, inside one message).
 * Several messages per chunk and messages split across chunks are handled;
 * bytes after the final message are kept for the application
 * (gm_mss_take_rest()).
 *
 * Protocol strings are borrowed: the arrays given to the init functions
 * must outlive the struct gm_mss.
 */
#ifndef GM_MULTISTREAM_H
#define GM_MULTISTREAM_H

#include "gm/gm.h"
#include "gm/buf.h"

#define GM_MSS_HEADER "/multistream/1.0.0"
/* Largest message (length prefix value, newline included) accepted. */
#define GM_MSS_MAX_MSG 1024
/* Most protocols a side may propose or support. */
#define GM_MSS_MAX_PROTOCOLS 64
/* Most proposals a listener answers before giving up. */
#define GM_MSS_MAX_ATTEMPTS 64
/* Most application bytes kept after negotiation (one read's worth). */
#define GM_MSS_MAX_REST (1024 * 1024)

enum gm_mss_role { GM_MSS_DIALER, GM_MSS_LISTENER };

enum gm_mss_state {
	GM_MSS_START,	      /* dialer: nothing sent yet */
	GM_MSS_WAIT_HEADER,   /* waiting for the peer's header */
	GM_MSS_WAIT_REPLY,    /* dialer: waiting for echo or na */
	GM_MSS_WAIT_PROPOSAL, /* listener: waiting for a proposal */
	GM_MSS_DONE,
	GM_MSS_FAILED,
};

struct gm_mss {
	enum gm_mss_role role;
	enum gm_mss_state state;
	const char *const *protocols;
	size_t n;
	size_t next;	   /* dialer: index of the proposal in flight */
	size_t chosen;	   /* index into protocols once done */
	size_t attempts;   /* listener: proposals answered */
	uint8_t prefix[2]; /* length prefix of the current message */
	size_t prefix_len;
	size_t need; /* body length, 0 while the prefix is incomplete */
	uint8_t msg[GM_MSS_MAX_MSG];
	size_t msg_len; /* body bytes received so far */
	struct gm_buf rest;
};

/*
 * Sets up a dialer proposing protocols[0..n) in order. GM_EINVAL (with a
 * diagnostic) when n is 0 or above GM_MSS_MAX_PROTOCOLS, or a protocol is
 * empty, too long or holds a newline. Release with gm_mss_release().
 */
GM_EXTERN gm_err gm_mss_init_dialer(struct gm_mss *m,
				    const char *const *protocols, size_t n,
				    struct gm_diag *d);
/* Sets up a listener supporting protocols[0..n) (n may be 0). */
GM_EXTERN gm_err gm_mss_init_listener(struct gm_mss *m,
				      const char *const *supported, size_t n,
				      struct gm_diag *d);
/* Frees the kept application bytes. */
GM_EXTERN void gm_mss_release(struct gm_mss *m);

/*
 * Feeds in[0..len) read from the stream (in may be NULL when len is 0);
 * appends the bytes to send to out. Once negotiation is done, input past
 * the final message is kept for gm_mss_take_rest(). Errors (the state
 * becomes failed and stays so): GM_EPROTO for a malformed or unexpected
 * message, GM_ELIMIT for an oversized message or too many proposals,
 * GM_EUNSUPPORTED when the listener refused every proposal, GM_ENOMEM;
 * the diagnostic gives the reason.
 */
GM_EXTERN gm_err gm_mss_feed(struct gm_mss *m, const uint8_t *in, size_t len,
			     struct gm_buf *out, struct gm_diag *d);
/* True once a protocol was agreed. */
GM_EXTERN bool gm_mss_done(const struct gm_mss *m);
/* True once negotiation failed. */
GM_EXTERN bool gm_mss_failed(const struct gm_mss *m);
/* The agreed protocol (borrowed from the init array), NULL until done. */
GM_EXTERN const char *gm_mss_protocol(const struct gm_mss *m);
/*
 * Moves the application bytes received after the final message to the end
 * of out and forgets them. GM_ELIMIT/GM_ENOMEM from out, which then keeps
 * its contents and m keeps the bytes.
 */
GM_EXTERN gm_err gm_mss_take_rest(struct gm_mss *m, struct gm_buf *out);

#endif
