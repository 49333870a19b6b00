/*
 * identify.h - the libp2p Identify (/ipfs/id/1.0.0, /ipfs/id/push/1.0.0)
 * and Ping (/ipfs/ping/1.0.0) protocol cores, sans-IO.
 * Identify: the responder writes one uvarint-length-prefixed protobuf
 * message and closes its side of the stream. Push is the same message sent
 * by the side whose information changed.
 *   | field | name            | type            | here                 |
 *   |-------|-----------------|-----------------|----------------------|
 *   | 1     | publicKey       | bytes           | PublicKey protobuf   |
 *   | 2     | listenAddrs     | repeated bytes  | binary multiaddrs    |
 *   | 3     | protocols       | repeated string | protocol ids         |
 *   | 4     | observedAddr    | bytes           | binary multiaddr     |
 *   | 5     | protocolVersion | string          | "ipfs/0.1.0"         |
 *   | 6     | agentVersion    | string          | "ggen/<version>"     |
 * Other fields (e.g. signedPeerRecord = 8) are skipped. Decoding is
 * bounded: a message of at most GM_IDENTIFY_MAX_MSG bytes, at most
 * GM_IDENTIFY_MAX_ADDRS addresses and GM_IDENTIFY_MAX_PROTOCOLS protocols.
 * Addresses this library cannot parse (e.g. /quic-v1) are skipped but
 * count toward the limit; a non-Ed25519 public key leaves has_key false.
 * Ping: the dialer writes 32 random bytes and expects the same 32 back,
 * repeatedly on one stream; the listener echoes each 32-byte payload until
 * the stream closes. Times are the caller's, in microseconds.
 */
#ifndef GM_IDENTIFY_H
#define GM_IDENTIFY_H

#include "gm/gm.h"
#include "gm/buf.h"
#include "gm/multiaddr.h"
#include "gm/peerid.h"

#define GM_IDENTIFY_PROTOCOL "/ipfs/id/1.0.0"
#define GM_IDENTIFY_PUSH_PROTOCOL "/ipfs/id/push/1.0.0"
#define GM_IDENTIFY_PROTOCOL_VERSION "ipfs/0.1.0"
/* Largest Identify message body accepted. */
#define GM_IDENTIFY_MAX_MSG (64 * 1024)
#define GM_IDENTIFY_MAX_ADDRS 128
#define GM_IDENTIFY_MAX_PROTOCOLS 256
/* Longest protocol id or version string accepted. */
#define GM_IDENTIFY_MAX_STR 1024

/* What a peer says about itself. Owns its arrays and strings. */
struct gm_identify {
	bool has_key;
	uint8_t pk[GM_ED25519_PUBKEY_LEN];
	struct gm_multiaddr *addrs;
	size_t n_addrs;
	char **protocols;
	size_t n_protocols;
	bool has_observed;
	struct gm_multiaddr observed;
	char *protocol_version; /* NULL when absent */
	char *agent_version;	/* NULL when absent */
};

/* Sets id to the empty message. */
GM_EXTERN void gm_identify_init(struct gm_identify *id);
/* Frees everything id owns and empties it (accepts NULL). */
GM_EXTERN void gm_identify_release(struct gm_identify *id);
/*
 * Appends a copy of a listen address. GM_ELIMIT beyond
 * GM_IDENTIFY_MAX_ADDRS, GM_ENOMEM.
 */
GM_EXTERN gm_err gm_identify_add_addr(struct gm_identify *id,
				      const struct gm_multiaddr *ma);
/*
 * Appends a copy of a protocol id. GM_EINVAL for an empty or too long
 * one, GM_ELIMIT beyond GM_IDENTIFY_MAX_PROTOCOLS, GM_ENOMEM.
 */
GM_EXTERN gm_err gm_identify_add_protocol(struct gm_identify *id,
					  const char *proto);
/* Replaces a version string (field 5 or 6) with a copy of s (NULL clears). */
GM_EXTERN gm_err gm_identify_set_versions(struct gm_identify *id,
					  const char *protocol_version,
					  const char *agent_version);
/* True when id lists protocol proto. */
GM_EXTERN bool gm_identify_has_protocol(const struct gm_identify *id,
					const char *proto);

/*
 * Appends the message, prefixed with its uvarint length, to out (fields in
 * tag order). GM_ELIMIT when the body would exceed GM_IDENTIFY_MAX_MSG,
 * GM_ENOMEM / GM_ELIMIT from out.
 */
GM_EXTERN gm_err gm_identify_encode(const struct gm_identify *id,
				    struct gm_buf *out, struct gm_diag *d);
/*
 * Looks for one length-prefixed message at the start of p[0..len): sets
 * *complete and, when complete, *body_off and *body_len. GM_EFORMAT for a
 * bad prefix, GM_ELIMIT for a length above GM_IDENTIFY_MAX_MSG.
 */
GM_EXTERN gm_err gm_identify_frame(const uint8_t *p, size_t len,
				   bool *complete, size_t *body_off,
				   size_t *body_len, struct gm_diag *d);
/*
 * Decodes a message body p[0..len) into out (initialized here; release it
 * even on error). GM_EFORMAT for malformed protobuf or strings holding NUL,
 * GM_ELIMIT for a too big body or too many addresses or protocols.
 */
GM_EXTERN gm_err gm_identify_decode(struct gm_identify *out, const uint8_t *p,
				    size_t len, struct gm_diag *d);
/*
 * Identify push: merges a newer message into what we know. Fields present
 * in upd replace those of known (lists replace lists); absent ones stay.
 * On GM_ENOMEM known is unchanged.
 */
GM_EXTERN gm_err gm_identify_merge(struct gm_identify *known,
				   const struct gm_identify *upd);

#define GM_PING_PROTOCOL "/ipfs/ping/1.0.0"
#define GM_PING_SIZE 32

/* The dialer side of one ping stream. */
struct gm_ping {
	uint8_t sent[GM_PING_SIZE];
	uint8_t got[GM_PING_SIZE];
	size_t got_len;
	bool waiting;
	uint64_t sent_us;
	uint64_t count; /* pongs received */
};

/* The listener side: partial payloads are kept until 32 bytes arrived. */
struct gm_ping_echo {
	uint8_t buf[GM_PING_SIZE];
	size_t len;
};

/* Sets p up; no ping in flight. */
GM_EXTERN void gm_ping_init(struct gm_ping *p);
/*
 * Appends a fresh random 32-byte payload to out, remembering now_us.
 * GM_EINVAL while a ping is in flight, GM_ENOMEM / GM_ELIMIT from out.
 * payload (32 bytes) is used instead of random bytes when not NULL.
 */
GM_EXTERN gm_err gm_ping_send(struct gm_ping *p, const uint8_t *payload,
			      uint64_t now_us, struct gm_buf *out);
/*
 * Feeds bytes read from the stream. When the 32nd byte of the answer
 * arrives, *pong is set and *rtt_us receives now_us - send time; *used says
 * how many bytes were consumed (the rest belongs to no ping). GM_EPROTO
 * for bytes while no ping is in flight or an answer that differs.
 */
GM_EXTERN gm_err gm_ping_feed(struct gm_ping *p, const uint8_t *in,
			      size_t len, uint64_t now_us, size_t *used,
			      bool *pong, uint64_t *rtt_us, struct gm_diag *d);
/* Sets e up. */
GM_EXTERN void gm_ping_echo_init(struct gm_ping_echo *e);
/*
 * Feeds bytes read by the listener and appends every completed 32-byte
 * payload to out. GM_ENOMEM / GM_ELIMIT from out (bytes are then lost).
 */
GM_EXTERN gm_err gm_ping_echo_feed(struct gm_ping_echo *e, const uint8_t *in,
				   size_t len, struct gm_buf *out);

#endif
