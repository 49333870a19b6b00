/*
 * multiaddr.h - self-describing network addresses (the subset libp2p over
 * TCP needs).
 *
 * Binary form: components back to back, each `varint(code) value`:
 *
 *   | name | code | binary value                  | text value           |
 *   |------|------|-------------------------------|----------------------|
 *   | ip4  | 4    | 4 bytes                       | 127.0.0.1            |
 *   | tcp  | 6    | 2 bytes big endian            | 4001                 |
 *   | ip6  | 41   | 16 bytes                      | ::1                  |
 *   | dns  | 53   | varint length + name          | example.com          |
 *   | dns4 | 54   | varint length + name          | example.com          |
 *   | dns6 | 55   | varint length + name          | example.com          |
 *   | p2p  | 421  | varint length + multihash     | 12D3KooW... (base58) |
 *
 * Text form: "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...". A /p2p value may
 * also be given as a libp2p-key CID; it is printed in base58btc. DNS names
 * are 1 to 255 printable ASCII characters other than '/'.
 *
 * struct gm_multiaddr is a value holding the binary form; every function
 * that makes one validates it, so its components can be walked without
 * further checks. Errors name the component that was wrong.
 */
#ifndef GM_MULTIADDR_H
#define GM_MULTIADDR_H

#include "gm/gm.h"
#include "gm/peerid.h"

#define GM_MA_IP4 4
#define GM_MA_TCP 6
#define GM_MA_IP6 41
#define GM_MA_DNS 53
#define GM_MA_DNS4 54
#define GM_MA_DNS6 55
#define GM_MA_P2P 421

/* Largest binary multiaddr accepted. */
#define GM_MULTIADDR_MAX 512
/*
 * Largest text form accepted or written, NUL included: an ip4 component
 * (5 bytes) prints as up to 20 characters, the worst ratio of all.
 */
#define GM_MULTIADDR_MAX_STR (4 * GM_MULTIADDR_MAX + 1)

struct gm_multiaddr {
	size_t len;
	uint8_t bytes[GM_MULTIADDR_MAX];
};

/* One component; value points into the multiaddr (no copy). */
struct gm_multiaddr_comp {
	uint64_t code;
	const uint8_t *value; /* without the length prefix, for dns and p2p */
	size_t len;
};

/* Sets ma to the empty multiaddr. */
GM_EXTERN void gm_multiaddr_init(struct gm_multiaddr *ma);
/*
 * Parses text s[0..len). GM_EFORMAT (diagnostic names the component) for
 * an unknown protocol, a missing or bad value; GM_ELIMIT when too long.
 */
GM_EXTERN gm_err gm_multiaddr_parse(struct gm_multiaddr *out, const char *s,
				    size_t len, struct gm_diag *d);
/* Validates and copies the binary form p[0..len) (exactly). */
GM_EXTERN gm_err gm_multiaddr_decode(struct gm_multiaddr *out, const uint8_t *p,
				     size_t len, struct gm_diag *d);
/*
 * Writes the text form with a NUL into out; returns its length without the
 * NUL, 0 if cap is too small (GM_MULTIADDR_MAX_STR always suffices).
 */
GM_EXTERN size_t gm_multiaddr_format(const struct gm_multiaddr *ma, char *out,
				     size_t cap);
/*
 * Appends a component (value in binary form, without a length prefix).
 * GM_EFORMAT if the value is invalid for code, GM_EUNSUPPORTED for an
 * unknown code, GM_ELIMIT if the result would be too long.
 */
GM_EXTERN gm_err gm_multiaddr_push(struct gm_multiaddr *ma, uint64_t code,
				   const uint8_t *value, size_t len,
				   struct gm_diag *d);
/*
 * Walks the components: start with *off = 0; returns false at the end.
 */
GM_EXTERN bool gm_multiaddr_next(const struct gm_multiaddr *ma, size_t *off,
				 struct gm_multiaddr_comp *c);
/* Finds the last /p2p component; false if there is none. */
GM_EXTERN bool gm_multiaddr_peerid(const struct gm_multiaddr *ma,
				   struct gm_peerid *out);
/* True when a and b hold the same binary form. */
GM_EXTERN bool gm_multiaddr_equal(const struct gm_multiaddr *a,
				  const struct gm_multiaddr *b);

#endif
