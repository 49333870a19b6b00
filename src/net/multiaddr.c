/*
 * multiaddr.c - multiaddr text and binary forms (see gm/multiaddr.h).
 *
 *   | kind    | protocols           | binary value                   |
 *   |---------|---------------------|--------------------------------|
 *   | fixed   | ip4 (4), tcp (2),   | exactly that many bytes        |
 *   |         | ip6 (16)            |                                |
 *   | dns     | dns, dns4, dns6     | varint length, 1..255 chars    |
 *   | p2p     | p2p                 | varint length, peer multihash  |
 *
 * Every multiaddr is built through ma_push(), which validates the value,
 * so gm_multiaddr_next() and gm_multiaddr_format() trust the bytes.
 */
#include "internal.h"

#include <arpa/inet.h>

#include "gm/multiaddr.h"
#include "gm/varint.h"

#define DNS_MAX 255

enum ma_kind { MA_FIXED, MA_DNS, MA_P2P };

struct ma_proto {
	uint64_t code;
	const char *name;
	enum ma_kind kind;
	size_t size; /* MA_FIXED only */
};

static const struct ma_proto protos[] = {
    {GM_MA_IP4, "ip4", MA_FIXED, 4},  {GM_MA_TCP, "tcp", MA_FIXED, 2},
    {GM_MA_IP6, "ip6", MA_FIXED, 16}, {GM_MA_DNS, "dns", MA_DNS, 0},
    {GM_MA_DNS4, "dns4", MA_DNS, 0},  {GM_MA_DNS6, "dns6", MA_DNS, 0},
    {GM_MA_P2P, "p2p", MA_P2P, 0},
};

static const struct ma_proto *proto_by_code(uint64_t code)
{
	size_t i;

	for (i = 0; i < GM_ARRAY_LEN(protos); i++)
		if (protos[i].code == code)
			return &protos[i];
	return NULL;
}

static const struct ma_proto *proto_by_name(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < GM_ARRAY_LEN(protos); i++)
		if (strlen(protos[i].name) == len &&
		    memcmp(protos[i].name, s, len) == 0)
			return &protos[i];
	return NULL;
}

static bool dns_char_ok(uint8_t c)
{
	return c > 0x20 && c < 0x7f && c != '/';
}

static gm_err check_value(const struct ma_proto *pr, const uint8_t *v,
			  size_t len, struct gm_diag *d)
{
	struct gm_peerid id;
	size_t i;

	switch (pr->kind) {
	case MA_FIXED:
		if (len != pr->size)
			return gm_diag_set(d, GM_EFORMAT,
					   "multiaddr /%s: value of %zu bytes, "
					   "expected %zu",
					   pr->name, len, pr->size);
		return GM_OK;
	case MA_DNS:
		if (len == 0 || len > DNS_MAX)
			return gm_diag_set(d, GM_EFORMAT,
					   "multiaddr /%s: name of %zu bytes "
					   "(1 to 255 allowed)",
					   pr->name, len);
		for (i = 0; i < len; i++)
			if (!dns_char_ok(v[i]))
				return gm_diag_set(d, GM_EFORMAT,
						   "multiaddr /%s: byte 0x%02x "
						   "not allowed in a name",
						   pr->name, v[i]);
		return GM_OK;
	case MA_P2P:
		if (gm_peerid_from_bytes(&id, v, len, d))
			return gm_diag_set(d, GM_EFORMAT,
					   "multiaddr /p2p: value is not a "
					   "peer id multihash");
		return GM_OK;
	}
	return GM_EFORMAT;
}

static gm_err ma_push(struct gm_multiaddr *ma, const struct ma_proto *pr,
		      const uint8_t *v, size_t len, struct gm_diag *d)
{
	uint8_t hdr[2 * GM_VARINT_MAX];
	size_t h;
	gm_err e;

	e = check_value(pr, v, len, d);
	if (e)
		return e;
	h = gm_varint_encode(pr->code, hdr);
	if (pr->kind != MA_FIXED)
		h += gm_varint_encode(len, hdr + h);
	if ((uint64_t)ma->len + h + len > GM_MULTIADDR_MAX)
		return gm_diag_set(d, GM_ELIMIT,
				   "multiaddr /%s: address longer than %d "
				   "bytes",
				   pr->name, GM_MULTIADDR_MAX);
	memcpy(ma->bytes + ma->len, hdr, h);
	memcpy(ma->bytes + ma->len + h, v, len);
	ma->len += h + len;
	return GM_OK;
}

void gm_multiaddr_init(struct gm_multiaddr *ma)
{
	ma->len = 0;
}

gm_err gm_multiaddr_push(struct gm_multiaddr *ma, uint64_t code,
			 const uint8_t *value, size_t len, struct gm_diag *d)
{
	const struct ma_proto *pr = proto_by_code(code);

	if (!pr)
		return gm_diag_set(d, GM_EUNSUPPORTED,
				   "multiaddr: protocol code %" PRIu64
				   " is not supported",
				   code);
	return ma_push(ma, pr, value, len, d);
}

gm_err gm_multiaddr_decode(struct gm_multiaddr *out, const uint8_t *p,
			   size_t len, struct gm_diag *d)
{
	const struct ma_proto *pr;
	size_t off = 0, used, n;
	uint64_t code, vlen;
	gm_err e;

	gm_multiaddr_init(out);
	if (len == 0)
		return gm_diag_set(d, GM_EFORMAT, "multiaddr: empty address");
	if (len > GM_MULTIADDR_MAX)
		return gm_diag_set(d, GM_ELIMIT,
				   "multiaddr: %zu bytes, at most %d allowed",
				   len, GM_MULTIADDR_MAX);
	while (off < len) {
		if (gm_varint_decode(p + off, len - off, &code, &used))
			return gm_diag_set(d, GM_EFORMAT,
					   "multiaddr: malformed protocol code "
					   "at byte %zu",
					   off);
		off += used;
		pr = proto_by_code(code);
		if (!pr)
			return gm_diag_set(d, GM_EFORMAT,
					   "multiaddr: unknown protocol code "
					   "%" PRIu64 " at byte %zu",
					   code, off - used);
		if (pr->kind == MA_FIXED) {
			n = pr->size;
		} else {
			if (gm_varint_decode(p + off, len - off, &vlen, &used))
				return gm_diag_set(d, GM_EFORMAT,
						   "multiaddr /%s: malformed "
						   "value length",
						   pr->name);
			off += used;
			if (vlen > len - off)
				return gm_diag_set(d, GM_EFORMAT,
						   "multiaddr /%s: value "
						   "length %" PRIu64
						   " runs past the end",
						   pr->name, vlen);
			n = (size_t)vlen;
		}
		if (n > len - off)
			return gm_diag_set(d, GM_EFORMAT,
					   "multiaddr /%s: value truncated",
					   pr->name);
		e = ma_push(out, pr, p + off, n, d);
		if (e)
			return e;
		off += n;
	}
	return GM_OK;
}

static gm_err parse_port(const char *s, size_t len, uint8_t out[2],
			 struct gm_diag *d)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5)
		goto bad;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		goto bad;
	out[0] = (uint8_t)(v >> 8);
	out[1] = (uint8_t)v;
	return GM_OK;
bad:
	return gm_diag_set(d, GM_EFORMAT,
			   "multiaddr /tcp/%.*s: port must be a number from "
			   "0 to 65535",
			   (int)(len > 32 ? 32 : len), s);
}

static gm_err parse_value(struct gm_multiaddr *ma, const struct ma_proto *pr,
			  const char *s, size_t len, struct gm_diag *d)
{
	uint8_t bin[16];
	char tmp[INET6_ADDRSTRLEN + 1];
	struct gm_peerid id;
	int af;

	switch (pr->code) {
	case GM_MA_IP4:
	case GM_MA_IP6:
		af = pr->code == GM_MA_IP4 ? AF_INET : AF_INET6;
		if (len >= sizeof(tmp))
			goto bad_ip;
		memcpy(tmp, s, len);
		tmp[len] = '\0';
		if (inet_pton(af, tmp, bin) != 1)
			goto bad_ip;
		return ma_push(ma, pr, bin, pr->size, d);
	case GM_MA_TCP:
		if (parse_port(s, len, bin, d))
			return GM_EFORMAT;
		return ma_push(ma, pr, bin, 2, d);
	case GM_MA_P2P:
		if (gm_peerid_parse(&id, s, len, d))
			return gm_diag_set(d, GM_EFORMAT,
					   "multiaddr /p2p/%.*s: not a peer "
					   "id",
					   (int)(len > 80 ? 80 : len), s);
		return ma_push(ma, pr, id.bytes, id.len, d);
	default:
		return ma_push(ma, pr, (const uint8_t *)s, len, d);
	}
bad_ip:
	return gm_diag_set(d, GM_EFORMAT,
			   "multiaddr /%s/%.*s: not a valid %s address",
			   pr->name, (int)(len > 64 ? 64 : len), s,
			   af == AF_INET ? "IPv4" : "IPv6");
}

gm_err gm_multiaddr_parse(struct gm_multiaddr *out, const char *s, size_t len,
			  struct gm_diag *d)
{
	const struct ma_proto *pr;
	size_t off = 0, start;
	gm_err e;

	gm_multiaddr_init(out);
	if (len == 0)
		return gm_diag_set(d, GM_EFORMAT, "multiaddr: empty address");
	if (len >= GM_MULTIADDR_MAX_STR)
		return gm_diag_set(d, GM_ELIMIT,
				   "multiaddr: text of %zu characters is too "
				   "long",
				   len);
	if (s[0] != '/')
		return gm_diag_set(d, GM_EFORMAT,
				   "multiaddr '%.*s': must start with '/'",
				   (int)(len > 64 ? 64 : len), s);
	while (off < len) {
		off++; /* the '/' */
		start = off;
		while (off < len && s[off] != '/')
			off++;
		if (off == start)
			return gm_diag_set(d, GM_EFORMAT,
					   "multiaddr: empty protocol name at "
					   "character %zu",
					   start);
		pr = proto_by_name(s + start, off - start);
		if (!pr)
			return gm_diag_set(
			    d, GM_EFORMAT,
			    "multiaddr: unknown protocol "
			    "'/%.*s'",
			    (int)(off - start > 32 ? 32 : off - start),
			    s + start);
		if (off >= len || off + 1 >= len || s[off + 1] == '/')
			return gm_diag_set(d, GM_EFORMAT,
					   "multiaddr /%s: missing value",
					   pr->name);
		off++;
		start = off;
		while (off < len && s[off] != '/')
			off++;
		e = parse_value(out, pr, s + start, off - start, d);
		if (e)
			return e;
	}
	return GM_OK;
}

bool gm_multiaddr_next(const struct gm_multiaddr *ma, size_t *off,
		       struct gm_multiaddr_comp *c)
{
	const struct ma_proto *pr;
	uint64_t code, vlen;
	size_t used;

	if (*off >= ma->len)
		return false;
	if (gm_varint_decode(ma->bytes + *off, ma->len - *off, &code, &used))
		return false; /* cannot happen: validated when built */
	*off += used;
	pr = proto_by_code(code);
	GM_ASSERT(pr != NULL);
	if (!pr)
		return false;
	c->code = code;
	if (pr->kind == MA_FIXED) {
		c->len = pr->size;
	} else {
		if (gm_varint_decode(ma->bytes + *off, ma->len - *off, &vlen,
				     &used))
			return false;
		*off += used;
		c->len = (size_t)vlen;
	}
	c->value = ma->bytes + *off;
	*off += c->len;
	return true;
}

/* Appends printf output to out[*n..cap); false when it does not fit. */
static bool put(char *out, size_t cap, size_t *n, const char *fmt, ...)
    GM_PRINTF(4, 5);

static bool put(char *out, size_t cap, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*n >= cap)
		return false;
	va_start(ap, fmt);
	r = vsnprintf(out + *n, cap - *n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= cap - *n)
		return false;
	*n += (size_t)r;
	return true;
}

size_t gm_multiaddr_format(const struct gm_multiaddr *ma, char *out, size_t cap)
{
	struct gm_multiaddr_comp c;
	char tmp[GM_PEERID_MAX_STR];
	struct gm_peerid id;
	size_t off = 0, n = 0;
	const struct ma_proto *pr;
	bool ok;

	if (cap == 0)
		return 0;
	out[0] = '\0';
	while (gm_multiaddr_next(ma, &off, &c)) {
		pr = proto_by_code(c.code);
		if (!put(out, cap, &n, "/%s/", pr->name))
			return 0;
		switch (c.code) {
		case GM_MA_IP4:
		case GM_MA_IP6:
			ok = inet_ntop(c.code == GM_MA_IP4 ? AF_INET : AF_INET6,
				       c.value, tmp, sizeof(tmp)) != NULL &&
			     put(out, cap, &n, "%s", tmp);
			break;
		case GM_MA_TCP:
			ok = put(out, cap, &n, "%u",
				 (unsigned)c.value[0] << 8 | c.value[1]);
			break;
		case GM_MA_P2P:
			ok = !gm_peerid_from_bytes(&id, c.value, c.len, NULL) &&
			     gm_peerid_format(&id, tmp, sizeof(tmp)) &&
			     put(out, cap, &n, "%s", tmp);
			break;
		default:
			ok = put(out, cap, &n, "%.*s", (int)c.len,
				 (const char *)c.value);
			break;
		}
		if (!ok)
			return 0;
	}
	return n;
}

bool gm_multiaddr_peerid(const struct gm_multiaddr *ma, struct gm_peerid *out)
{
	struct gm_multiaddr_comp c;
	size_t off = 0;
	bool found = false;

	while (gm_multiaddr_next(ma, &off, &c))
		if (c.code == GM_MA_P2P &&
		    !gm_peerid_from_bytes(out, c.value, c.len, NULL))
			found = true;
	return found;
}

bool gm_multiaddr_equal(const struct gm_multiaddr *a,
			const struct gm_multiaddr *b)
{
	return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}
