/*
 * multistream.c - multistream-select 1.0 state machine (see
 * gm/multistream.h).
 *
 *   | role     | state          | on message         | sends, next state   |
 *   |----------|----------------|--------------------|---------------------|
 *   | dialer   | START          | (first feed)       | header + proposal 0 |
 *   |          |                |                    | -> WAIT_HEADER      |
 *   | dialer   | WAIT_HEADER    | header             | -> WAIT_REPLY       |
 *   | dialer   | WAIT_REPLY     | echo of proposal   | -> DONE             |
 *   | dialer   | WAIT_REPLY     | na                 | next proposal, or   |
 *   |          |                |                    | FAILED if none left |
 *   | listener | WAIT_HEADER    | header             | header              |
 *   |          |                |                    | -> WAIT_PROPOSAL    |
 *   | listener | WAIT_PROPOSAL  | supported protocol | echo -> DONE        |
 *   | listener | WAIT_PROPOSAL  | ls                 | list                |
 *   | listener | WAIT_PROPOSAL  | anything else      | na                  |
 *
 * Input is taken byte by byte into the length prefix (at most 2 bytes,
 * since a message holds at most GM_MSS_MAX_MSG bytes), then in runs into
 * the body buffer, so a message may arrive in any number of pieces and a
 * chunk may hold several messages. Anything unexpected moves to FAILED.
 */
#include "internal.h"

#include "gm/multistream.h"
#include "gm/varint.h"

static gm_err check_protocols(const char *const *p, size_t n, size_t min,
			      struct gm_diag *d)
{
	size_t i, len;

	if (n < min || n > GM_MSS_MAX_PROTOCOLS)
		return gm_diag_set(d, GM_EINVAL,
				   "multistream: %zu protocols given (%zu to "
				   "%d allowed)",
				   n, min, GM_MSS_MAX_PROTOCOLS);
	for (i = 0; i < n; i++) {
		len = strlen(p[i]);
		if (len == 0 || len >= GM_MSS_MAX_MSG ||
		    memchr(p[i], '\n', len) || strcmp(p[i], "na") == 0 ||
		    strcmp(p[i], "ls") == 0 || strcmp(p[i], GM_MSS_HEADER) == 0)
			return gm_diag_set(d, GM_EINVAL,
					   "multistream: protocol %zu is "
					   "empty, too long, holds a newline "
					   "or is reserved",
					   i);
	}
	return GM_OK;
}

static void mss_init(struct gm_mss *m, enum gm_mss_role role,
		     const char *const *p, size_t n)
{
	memset(m, 0, sizeof(*m));
	m->role = role;
	m->state = role == GM_MSS_DIALER ? GM_MSS_START : GM_MSS_WAIT_HEADER;
	m->protocols = p;
	m->n = n;
	gm_buf_init(&m->rest, GM_MSS_MAX_REST);
}

gm_err gm_mss_init_dialer(struct gm_mss *m, const char *const *protocols,
			  size_t n, struct gm_diag *d)
{
	gm_err e = check_protocols(protocols, n, 1, d);

	mss_init(m, GM_MSS_DIALER, protocols, e ? 0 : n);
	if (e)
		m->state = GM_MSS_FAILED;
	return e;
}

gm_err gm_mss_init_listener(struct gm_mss *m, const char *const *supported,
			    size_t n, struct gm_diag *d)
{
	gm_err e = check_protocols(supported, n, 0, d);

	mss_init(m, GM_MSS_LISTENER, supported, e ? 0 : n);
	if (e)
		m->state = GM_MSS_FAILED;
	return e;
}

void gm_mss_release(struct gm_mss *m)
{
	gm_buf_release(&m->rest);
}

bool gm_mss_done(const struct gm_mss *m)
{
	return m->state == GM_MSS_DONE;
}

bool gm_mss_failed(const struct gm_mss *m)
{
	return m->state == GM_MSS_FAILED;
}

const char *gm_mss_protocol(const struct gm_mss *m)
{
	return m->state == GM_MSS_DONE ? m->protocols[m->chosen] : NULL;
}

gm_err gm_mss_take_rest(struct gm_mss *m, struct gm_buf *out)
{
	gm_err e;

	if (m->rest.len == 0)
		return GM_OK;
	e = gm_buf_append(out, m->rest.data, m->rest.len);
	if (e)
		return e;
	gm_buf_reset(&m->rest);
	return GM_OK;
}

/* Appends one message `uvarint(len + 1) s '\n'` to out. */
static gm_err write_msg(struct gm_buf *out, const char *s, size_t len)
{
	uint8_t pfx[GM_VARINT_MAX];
	size_t n = gm_varint_encode(len + 1, pfx);
	gm_err e;

	e = gm_buf_append(out, pfx, n);
	if (!e)
		e = gm_buf_append(out, s, len);
	if (!e)
		e = gm_buf_append_byte(out, '\n');
	return e;
}

static gm_err write_str(struct gm_buf *out, const char *s)
{
	return write_msg(out, s, strlen(s));
}

/* The ls answer: one message holding each protocol as a message. */
static gm_err write_ls(struct gm_mss *m, struct gm_buf *out)
{
	uint8_t pfx[GM_VARINT_MAX];
	size_t i, body = 1, len;
	gm_err e;

	for (i = 0; i < m->n; i++) {
		len = strlen(m->protocols[i]) + 1;
		body += gm_varint_size(len) + len;
	}
	e = gm_buf_append(out, pfx, gm_varint_encode(body, pfx));
	for (i = 0; !e && i < m->n; i++)
		e = write_str(out, m->protocols[i]);
	if (!e)
		e = gm_buf_append_byte(out, '\n');
	return e;
}

static bool msg_is(const uint8_t *s, size_t len, const char *want)
{
	return strlen(want) == len && memcmp(s, want, len) == 0;
}

static gm_err fail(struct gm_mss *m, gm_err e)
{
	m->state = GM_MSS_FAILED;
	return e;
}

static gm_err on_dialer_msg(struct gm_mss *m, const uint8_t *s, size_t len,
			    struct gm_buf *out, struct gm_diag *d)
{
	const char *want = m->protocols[m->next];

	if (m->state == GM_MSS_WAIT_HEADER) {
		if (!msg_is(s, len, GM_MSS_HEADER))
			return gm_diag_set(d, GM_EPROTO,
					   "multistream: expected the header "
					   "'" GM_MSS_HEADER "', got '%.*s'",
					   (int)(len > 64 ? 64 : len), s);
		m->state = GM_MSS_WAIT_REPLY;
		return GM_OK;
	}
	if (msg_is(s, len, want)) {
		m->chosen = m->next;
		m->state = GM_MSS_DONE;
		return GM_OK;
	}
	if (!msg_is(s, len, "na"))
		return gm_diag_set(d, GM_EPROTO,
				   "multistream: unexpected answer '%.*s' to "
				   "proposal '%s'",
				   (int)(len > 64 ? 64 : len), s, want);
	m->next++;
	if (m->next == m->n)
		return gm_diag_set(d, GM_EUNSUPPORTED,
				   "multistream: the peer refused all %zu "
				   "proposed protocols (first '%s', last "
				   "'%s')",
				   m->n, m->protocols[0], want);
	return write_str(out, m->protocols[m->next]);
}

static gm_err on_listener_msg(struct gm_mss *m, const uint8_t *s, size_t len,
			      struct gm_buf *out, struct gm_diag *d)
{
	size_t i;

	if (m->state == GM_MSS_WAIT_HEADER) {
		if (!msg_is(s, len, GM_MSS_HEADER))
			return gm_diag_set(d, GM_EPROTO,
					   "multistream: expected the header "
					   "'" GM_MSS_HEADER "', got '%.*s'",
					   (int)(len > 64 ? 64 : len), s);
		m->state = GM_MSS_WAIT_PROPOSAL;
		return write_str(out, GM_MSS_HEADER);
	}
	if (++m->attempts > GM_MSS_MAX_ATTEMPTS)
		return gm_diag_set(d, GM_ELIMIT,
				   "multistream: more than %d proposals",
				   GM_MSS_MAX_ATTEMPTS);
	if (msg_is(s, len, "ls"))
		return write_ls(m, out);
	for (i = 0; i < m->n; i++) {
		if (msg_is(s, len, m->protocols[i])) {
			m->chosen = i;
			m->state = GM_MSS_DONE;
			return write_str(out, m->protocols[i]);
		}
	}
	return write_str(out, "na");
}

static gm_err on_msg(struct gm_mss *m, struct gm_buf *out, struct gm_diag *d)
{
	size_t len = m->msg_len, i;

	if (m->msg[len - 1] != '\n')
		return gm_diag_set(d, GM_EPROTO,
				   "multistream: message of %zu bytes does "
				   "not end with a newline",
				   len);
	len--;
	for (i = 0; i < len; i++)
		if (m->msg[i] < 0x20 || m->msg[i] == 0x7f)
			return gm_diag_set(d, GM_EPROTO,
					   "multistream: control character "
					   "0x%02x at byte %zu of a message",
					   m->msg[i], i);
	if (m->role == GM_MSS_DIALER)
		return on_dialer_msg(m, m->msg, len, out, d);
	return on_listener_msg(m, m->msg, len, out, d);
}

/* Takes one length-prefix byte. */
static gm_err on_prefix_byte(struct gm_mss *m, uint8_t c, struct gm_diag *d)
{
	uint64_t v;
	size_t used;

	m->prefix[m->prefix_len++] = c;
	if (c & 0x80) {
		if (m->prefix_len == sizeof(m->prefix))
			return gm_diag_set(d, GM_ELIMIT,
					   "multistream: message longer than "
					   "%d bytes",
					   GM_MSS_MAX_MSG);
		return GM_OK;
	}
	if (gm_varint_decode(m->prefix, m->prefix_len, &v, &used))
		return gm_diag_set(d, GM_EPROTO,
				   "multistream: length prefix is not a "
				   "minimal varint");
	if (v == 0)
		return gm_diag_set(d, GM_EPROTO,
				   "multistream: empty message (length 0)");
	if (v > GM_MSS_MAX_MSG)
		return gm_diag_set(d, GM_ELIMIT,
				   "multistream: message of %" PRIu64
				   " bytes exceeds the limit of %d",
				   v, GM_MSS_MAX_MSG);
	m->need = (size_t)v;
	m->msg_len = 0;
	return GM_OK;
}

gm_err gm_mss_feed(struct gm_mss *m, const uint8_t *in, size_t len,
		   struct gm_buf *out, struct gm_diag *d)
{
	size_t i = 0, take;
	gm_err e;

	if (m->state == GM_MSS_FAILED)
		return gm_diag_set(d, GM_EPROTO,
				   "multistream: negotiation already failed");
	if (m->state == GM_MSS_START) {
		e = write_str(out, GM_MSS_HEADER);
		if (!e)
			e = write_str(out, m->protocols[0]);
		if (e)
			return fail(m, gm_diag_set(d, e,
						   "multistream: cannot queue "
						   "the proposal"));
		m->state = GM_MSS_WAIT_HEADER;
	}
	while (i < len) {
		if (m->state == GM_MSS_DONE) {
			e = gm_buf_append(&m->rest, in + i, len - i);
			if (e)
				return gm_diag_set(d, e,
						   "multistream: cannot keep "
						   "%zu bytes of application "
						   "data",
						   len - i);
			break;
		}
		if (m->need == 0) {
			e = on_prefix_byte(m, in[i++], d);
			if (e)
				return fail(m, e);
			continue;
		}
		take = m->need - m->msg_len;
		if (take > len - i)
			take = len - i;
		memcpy(m->msg + m->msg_len, in + i, take);
		m->msg_len += take;
		i += take;
		if (m->msg_len < m->need)
			break;
		e = on_msg(m, out, d);
		m->need = 0;
		m->prefix_len = 0;
		m->msg_len = 0;
		if (e)
			return fail(m, e);
	}
	return GM_OK;
}
