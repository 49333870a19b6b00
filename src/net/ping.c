/*
 * ping.c - the libp2p Ping protocol (/ipfs/ping/1.0.0), sans-IO.
 *   | direction          | bytes                                  |
 *   |--------------------|----------------------------------------|
 *   | dialer -> listener | 32 random bytes                        |
 *   | listener -> dialer | the same 32 bytes                      |
 * repeated on one stream until the dialer closes it. The dialer side keeps
 * one ping in flight and reports its round trip from caller-given times.
 */
#include "internal.h"

#include <sodium.h>

#include "gm/identify.h"

void gm_ping_init(struct gm_ping *p)
{
	memset(p, 0, sizeof(*p));
}

gm_err gm_ping_send(struct gm_ping *p, const uint8_t *payload,
		    uint64_t now_us, struct gm_buf *out)
{
	uint8_t fresh[GM_PING_SIZE];
	gm_err e;

	if (p->waiting)
		return GM_EINVAL;
	if (payload)
		memcpy(fresh, payload, GM_PING_SIZE);
	else
		randombytes_buf(fresh, sizeof(fresh));
	if ((e = gm_buf_append(out, fresh, sizeof(fresh))))
		return e;
	memcpy(p->sent, fresh, sizeof(fresh));
	p->got_len = 0;
	p->sent_us = now_us;
	p->waiting = true;
	return GM_OK;
}

gm_err gm_ping_feed(struct gm_ping *p, const uint8_t *in, size_t len,
		    uint64_t now_us, size_t *used, bool *pong, uint64_t *rtt_us,
		    struct gm_diag *d)
{
	size_t take;

	*used = 0;
	*pong = false;
	*rtt_us = 0;
	if (!len)
		return GM_OK;
	if (!p->waiting)
		return gm_diag_set(d, GM_EPROTO, "ping: %zu bytes arrived "
				   "while no ping was in flight", len);
	take = GM_PING_SIZE - p->got_len;
	if (take > len)
		take = len;
	memcpy(p->got + p->got_len, in, take);
	p->got_len += take;
	*used = take;
	if (p->got_len < GM_PING_SIZE)
		return GM_OK;
	p->waiting = false;
	p->got_len = 0;
	if (sodium_memcmp(p->got, p->sent, GM_PING_SIZE) != 0)
		return gm_diag_set(d, GM_EPROTO, "ping: the peer answered "
				   "with different bytes than were sent");
	*pong = true;
	*rtt_us = now_us >= p->sent_us ? now_us - p->sent_us : 0;
	p->count++;
	return GM_OK;
}

void gm_ping_echo_init(struct gm_ping_echo *e)
{
	memset(e, 0, sizeof(*e));
}

gm_err gm_ping_echo_feed(struct gm_ping_echo *e, const uint8_t *in,
			 size_t len, struct gm_buf *out)
{
	gm_err err;

	while (len) {
		size_t take = GM_PING_SIZE - e->len;

		if (take > len)
			take = len;
		memcpy(e->buf + e->len, in, take);
		e->len += take;
		in += take;
		len -= take;
		if (e->len == GM_PING_SIZE) {
			e->len = 0;
			if ((err = gm_buf_append(out, e->buf, GM_PING_SIZE)))
				return err;
		}
	}
	return GM_OK;
}
