/*
 * identify.c - the Identify message (/ipfs/id/1.0.0 and its push variant):
 * encode, frame, bounded decode and merge. See gm/identify.h for the
 * field table. Encoding writes fields in tag order with minimal varints:
 *   | bytes           | what                                   |
 *   |-----------------|----------------------------------------|
 *   | uvarint(N)      | body length, N <= GM_IDENTIFY_MAX_MSG  |
 *   | 0a 24 08 01 ... | publicKey (Ed25519 PublicKey protobuf) |
 *   | 12 L ma         | listenAddrs, one field each            |
 *   | 1a L text       | protocols, one field each              |
 *   | 22 L ma         | observedAddr                           |
 *   | 2a L text       | protocolVersion                        |
 *   | 32 L text       | agentVersion                           |
 */
#include "internal.h"

#include "gm/alloc.h"
#include "gm/identify.h"
#include "gm/pb.h"

void gm_identify_init(struct gm_identify *id)
{
	memset(id, 0, sizeof(*id));
}

void gm_identify_release(struct gm_identify *id)
{
	size_t i;

	if (!id)
		return;
	for (i = 0; i < id->n_protocols; i++)
		gm_free(id->protocols[i]);
	gm_free(id->protocols);
	gm_free(id->addrs);
	gm_free(id->protocol_version);
	gm_free(id->agent_version);
	gm_identify_init(id);
}

gm_err gm_identify_add_addr(struct gm_identify *id,
			    const struct gm_multiaddr *ma)
{
	struct gm_multiaddr *v;

	if (id->n_addrs >= GM_IDENTIFY_MAX_ADDRS)
		return GM_ELIMIT;
	v = gm_reallocarray(id->addrs, id->n_addrs + 1, sizeof(*v));
	if (!v)
		return GM_ENOMEM;
	id->addrs = v;
	v[id->n_addrs++] = *ma;
	return GM_OK;
}

static gm_err add_protocol_n(struct gm_identify *id, const char *s,
			     size_t len)
{
	char **v;
	char *copy;

	if (!len || len > GM_IDENTIFY_MAX_STR || memchr(s, '\0', len))
		return GM_EINVAL;
	if (id->n_protocols >= GM_IDENTIFY_MAX_PROTOCOLS)
		return GM_ELIMIT;
	copy = gm_strndup(s, len);
	if (!copy)
		return GM_ENOMEM;
	v = gm_reallocarray(id->protocols, id->n_protocols + 1, sizeof(*v));
	if (!v) {
		gm_free(copy);
		return GM_ENOMEM;
	}
	id->protocols = v;
	v[id->n_protocols++] = copy;
	return GM_OK;
}

gm_err gm_identify_add_protocol(struct gm_identify *id, const char *proto)
{
	return add_protocol_n(id, proto, strlen(proto));
}

static gm_err replace_str(char **slot, const char *s, size_t len)
{
	char *copy = NULL;

	if (s) {
		copy = gm_strndup(s, len);
		if (!copy)
			return GM_ENOMEM;
	}
	gm_free(*slot);
	*slot = copy;
	return GM_OK;
}

gm_err gm_identify_set_versions(struct gm_identify *id,
				const char *protocol_version,
				const char *agent_version)
{
	char *pv = NULL, *av = NULL;

	if (protocol_version && !(pv = gm_strdup(protocol_version)))
		return GM_ENOMEM;
	if (agent_version && !(av = gm_strdup(agent_version))) {
		gm_free(pv);
		return GM_ENOMEM;
	}
	gm_free(id->protocol_version);
	gm_free(id->agent_version);
	id->protocol_version = pv;
	id->agent_version = av;
	return GM_OK;
}

bool gm_identify_has_protocol(const struct gm_identify *id, const char *proto)
{
	size_t i;

	for (i = 0; i < id->n_protocols; i++)
		if (!strcmp(id->protocols[i], proto))
			return true;
	return false;
}

static gm_err encode_body(const struct gm_identify *id, struct gm_buf *b)
{
	uint8_t pkpb[GM_PUBKEY_PB_ED25519_LEN];
	size_t i;
	gm_err e;

	if (id->has_key) {
		gm_pubkey_encode_ed25519(id->pk, pkpb);
		if ((e = gm_pb_put_bytes(b, 1, pkpb, sizeof(pkpb))))
			return e;
	}
	for (i = 0; i < id->n_addrs; i++)
		if ((e = gm_pb_put_bytes(b, 2, id->addrs[i].bytes,
					 id->addrs[i].len)))
			return e;
	for (i = 0; i < id->n_protocols; i++)
		if ((e = gm_pb_put_string(b, 3, id->protocols[i])))
			return e;
	if (id->has_observed &&
	    (e = gm_pb_put_bytes(b, 4, id->observed.bytes, id->observed.len)))
		return e;
	if (id->protocol_version &&
	    (e = gm_pb_put_string(b, 5, id->protocol_version)))
		return e;
	if (id->agent_version &&
	    (e = gm_pb_put_string(b, 6, id->agent_version)))
		return e;
	return GM_OK;
}

gm_err gm_identify_encode(const struct gm_identify *id, struct gm_buf *out,
			  struct gm_diag *d)
{
	struct gm_buf body;
	size_t mark = out->len;
	gm_err e;

	gm_buf_init(&body, GM_IDENTIFY_MAX_MSG);
	e = encode_body(id, &body);
	if (e == GM_ELIMIT) {
		e = gm_diag_set(d, GM_ELIMIT, "identify message exceeds %d "
				"bytes; list fewer addresses or protocols",
				GM_IDENTIFY_MAX_MSG);
		goto release_body;
	}
	if (e)
		goto release_body;
	e = gm_pb_put_raw_uvarint(out, body.len);
	if (!e && body.len)
		e = gm_buf_append(out, body.data, body.len);
	if (e)
		out->len = mark;
release_body:
	gm_buf_release(&body);
	return e;
}

gm_err gm_identify_frame(const uint8_t *p, size_t len, bool *complete,
			 size_t *body_off, size_t *body_len, struct gm_diag *d)
{
	uint64_t n = 0;
	size_t used = 0, i;

	*complete = false;
	/* An incomplete varint is not an error yet. */
	for (i = 0; i < len && i < 10; i++)
		if (!(p[i] & 0x80))
			break;
	if (i == len)
		return GM_OK;
	if (gm_pb_read_uvarint(p, len, &n, &used))
		return gm_diag_set(d, GM_EFORMAT, "identify: bad length "
				   "prefix");
	if (n > GM_IDENTIFY_MAX_MSG)
		return gm_diag_set(d, GM_ELIMIT, "identify: message of %" PRIu64
				   " bytes exceeds the limit of %d", n,
				   GM_IDENTIFY_MAX_MSG);
	if ((uint64_t)used + n <= len) {
		*complete = true;
		*body_off = used;
		*body_len = (size_t)n;
	}
	return GM_OK;
}

static bool text_ok(const uint8_t *p, size_t len)
{
	return len <= GM_IDENTIFY_MAX_STR && !memchr(p, '\0', len);
}

gm_err gm_identify_decode(struct gm_identify *out, const uint8_t *p,
			  size_t len, struct gm_diag *d)
{
	struct gm_pb_reader r;
	struct gm_pb_field f;
	struct gm_multiaddr ma;
	struct gm_diag ign;
	size_t n_addrs_seen = 0;
	gm_err e;

	gm_identify_init(out);
	if (len > GM_IDENTIFY_MAX_MSG)
		return gm_diag_set(d, GM_ELIMIT, "identify: message of %zu "
				   "bytes exceeds the limit of %d", len,
				   GM_IDENTIFY_MAX_MSG);
	gm_pb_reader_init(&r, p, len);
	while (gm_pb_reader_more(&r)) {
		if ((e = gm_pb_next(&r, &f, d)))
			return e;
		if (f.field < 1 || f.field > 6)
			continue;
		if (f.wire != GM_PB_LEN)
			return gm_diag_set(d, GM_EFORMAT, "identify: field %u "
					   "has wire type %d, want bytes",
					   f.field, (int)f.wire);
		switch (f.field) {
		case 1:
			out->has_key = gm_pubkey_decode_ed25519(
					       f.bytes, f.len, out->pk,
					       &ign) == GM_OK;
			break;
		case 2:
			if (++n_addrs_seen > GM_IDENTIFY_MAX_ADDRS)
				return gm_diag_set(d, GM_ELIMIT, "identify: "
						   "more than %d listen "
						   "addresses",
						   GM_IDENTIFY_MAX_ADDRS);
			if (gm_multiaddr_decode(&ma, f.bytes, f.len, &ign))
				break; /* a transport we do not speak */
			if ((e = gm_identify_add_addr(out, &ma)))
				return e;
			break;
		case 3:
			if (out->n_protocols >= GM_IDENTIFY_MAX_PROTOCOLS)
				return gm_diag_set(d, GM_ELIMIT, "identify: "
						   "more than %d protocols",
						   GM_IDENTIFY_MAX_PROTOCOLS);
			if (!f.len || !text_ok(f.bytes, f.len))
				return gm_diag_set(d, GM_EFORMAT, "identify: "
						   "bad protocol id at "
						   "offset %zu", f.offset);
			if ((e = add_protocol_n(out, (const char *)f.bytes,
						f.len)))
				return e;
			break;
		case 4:
			out->has_observed =
				gm_multiaddr_decode(&out->observed, f.bytes,
						    f.len, &ign) == GM_OK;
			break;
		case 5:
		case 6:
			if (!text_ok(f.bytes, f.len))
				return gm_diag_set(d, GM_EFORMAT, "identify: "
						   "bad version string at "
						   "offset %zu", f.offset);
			if ((e = replace_str(f.field == 5 ?
						     &out->protocol_version :
						     &out->agent_version,
					     (const char *)f.bytes, f.len)))
				return e;
			break;
		}
	}
	return GM_OK;
}

static gm_err copy_identify(struct gm_identify *dst,
			    const struct gm_identify *src)
{
	size_t i;
	gm_err e;

	gm_identify_init(dst);
	dst->has_key = src->has_key;
	memcpy(dst->pk, src->pk, sizeof(dst->pk));
	dst->has_observed = src->has_observed;
	dst->observed = src->observed;
	for (i = 0; i < src->n_addrs; i++)
		if ((e = gm_identify_add_addr(dst, &src->addrs[i])))
			return e;
	for (i = 0; i < src->n_protocols; i++)
		if ((e = gm_identify_add_protocol(dst, src->protocols[i])))
			return e;
	return gm_identify_set_versions(dst, src->protocol_version,
					src->agent_version);
}

gm_err gm_identify_merge(struct gm_identify *known,
			 const struct gm_identify *upd)
{
	struct gm_identify m, u;
	gm_err e;

	if ((e = copy_identify(&m, known)))
		goto release_m;
	if ((e = copy_identify(&u, upd)))
		goto release_u;
	if (u.has_key) {
		m.has_key = true;
		memcpy(m.pk, u.pk, sizeof(m.pk));
	}
	if (u.has_observed) {
		m.has_observed = true;
		m.observed = u.observed;
	}
	if (u.n_addrs) {
		gm_free(m.addrs);
		m.addrs = u.addrs;
		m.n_addrs = u.n_addrs;
		u.addrs = NULL;
		u.n_addrs = 0;
	}
	if (u.n_protocols) {
		size_t i;

		for (i = 0; i < m.n_protocols; i++)
			gm_free(m.protocols[i]);
		gm_free(m.protocols);
		m.protocols = u.protocols;
		m.n_protocols = u.n_protocols;
		u.protocols = NULL;
		u.n_protocols = 0;
	}
	if (u.protocol_version) {
		gm_free(m.protocol_version);
		m.protocol_version = u.protocol_version;
		u.protocol_version = NULL;
	}
	if (u.agent_version) {
		gm_free(m.agent_version);
		m.agent_version = u.agent_version;
		u.agent_version = NULL;
	}
	gm_identify_release(known);
	*known = m;
	gm_identify_release(&u);
	return GM_OK;
release_u:
	gm_identify_release(&u);
release_m:
	gm_identify_release(&m);
	return e;
}
