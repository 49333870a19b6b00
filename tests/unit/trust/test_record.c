/*
 * test_record.c - the four signed records: exact vectors (also in
 * docs/formats.md, cross-checked with @ipld/dag-cbor and Node's Ed25519),
 * tampering, wrong signers, malformed fields, OOM.
 *
 * Keys: seed A = bytes 0x01..0x20, seed B = 0x21..0x40 (Ed25519 signatures
 * are deterministic, so every vector is exact).
 */
#include "harness.h"

#include "gm/dagcbor.h"
#include "gm/fs.h"
#include "gm/record.h"

/* The vectors of docs/formats.md, "Signed records". */
#define PUBLISHER_CID                                                          \
	"bafyreiangslnojshypexnlgidhjnpptzrzygnq5q4jht52ntns27elwqfm"
#define PUBLISHER_HEX                                                          \
	"a76174697075626c6973686572617601636b6579582079b5562e8fe654f94078"     \
	"b112e8a98ba7901f853ae695bed7e0e3910bad04966463736571016373696758"     \
	"409f1131787fee61f4ebfbcfb586da69f8b4be958e50118728a5006ee7f609f0"     \
	"71ea290331356680f7ebd2cea5857f2d7f586e314ce63694dc189f7755282381"     \
	"086474696d651a6553f1006668616e646c656461636d65"

#define RELEASE_CID                                                            \
	"bafyreif6ttcfv5a3dhhqwp5xccc6k3khkfggfjjxqsdizkxdwkj53euehy"
#define RELEASE_HEX                                                            \
	"ae61746772656c65617365617601636b6579582079b5562e8fe654f94078b112"     \
	"e8a98ba7901f853ae695bed7e0e3910bad0496646373657101637369675840c0"     \
	"88dfacc83308afc88f25ecf10afa7f2f250e90baff2ed818ce210b9d6e46ba23"     \
	"c0ab79ec2c253868476de9293dbae2c0e2472b6e53bb398655458e68e0730164"     \
	"6465707382826961636d652f62617365645e312e308269746f6f6c732f666d74"     \
	"647e322e31646b696e646874656d706c617465646d657461a667617574686f72"     \
	"738175416461203c616461406578616d706c652e636f6d3e676c6963656e7365"     \
	"634d495468686f6d6570616765781968747470733a2f2f6578616d706c652e63"     \
	"6f6d2f68656c6c6f686b6579776f726473826568656c6c6f6464656d6f6a6361"     \
	"7465676f72696573816974656d706c617465736b6465736372697074696f6e74"     \
	"48656c6c6f20776f726c642074656d706c61746564726f6f74d82a5825000170"     \
	"122059948439065f29619ef41280cbb932be52c56d99c5966b65e0111239f098"     \
	"bbef6473697a651904d26474696d651a6553f164677061636b6167656a61636d"     \
	"652f68656c6c6f6776657273696f6e65312e322e33686d616e69666573745820"     \
	"65a3cad09b2f90d521498a410bb4b25da05f61a10549ad2b8d31cde81295b7fa"

#define ROTATION_CID                                                           \
	"bafyreieqnhstcpc2nqwldm32y7sxy2hsvaocyewtuce44gspmqqbwwvhaa"
#define ROTATION_HEX                                                           \
	"aa617468726f746174696f6e617601636e65775820e7f162a10bec559afea195"     \
	"e4dce84b69568d5d2cb0963eb446c0685e2b17f2f0636f6c64582079b5562e8f"     \
	"e654f94078b112e8a98ba7901f853ae695bed7e0e3910bad0496646373657102"     \
	"63736967584022f79186249a3ea3516d8a2c7327426e4ab6c7f6c0535e0e2e09"     \
	"8a9f456b79ad4b1f41dd59f7d8e5b6478849f6d4dc31586ffdd30ae5fb4085c0"     \
	"c4332db90704646c617374016474696d651a6553f1c86668616e646c65646163"     \
	"6d65677369675f6e65775840332cc45b1773ce1384850af34cad284ef2cb761b"     \
	"9c994f6ca84afd3ad508ef84aaf571cf895ffc9a507cb62068963b4c047bc8de"     \
	"2b2a80c5c0bd3f019597fc01"

#define REVOCATION_CID                                                         \
	"bafyreib7j2kxaquf3iwtjljz4bzhif36berzqfw5vhnzexzyiclhq4ye3m"
#define REVOCATION_HEX                                                         \
	"a961746a7265766f636174696f6e6176016262795820e7f162a10bec559afea1"     \
	"95e4dce84b69568d5d2cb0963eb446c0685e2b17f2f0636b6579582079b5562e"     \
	"8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad04966463736571"     \
	"03637369675840da14c1cd1a186d6731f1efb47a980cf2e674186241a624cd17"     \
	"f7cd556d29f5e499e4c8bae7f80437af99151a2100e1876b050d31732f7c1867"     \
	"bf427676c7570c6474696d651a6553f22c656166746572016668616e646c6564"     \
	"61636d65"

static void seed_key(struct gm_key *k, uint8_t first)
{
	uint8_t seed[32];
	int i;

	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)(first + i);
	ASSERT_OK(gm_key_from_seed(k, "acme", seed, 0, NULL));
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
	out[2 * n] = 0;
}

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = strlen(h) / 2, i;

	ASSERT(n <= cap);
	for (i = 0; i < n; i++) {
		unsigned v;

		ASSERT(sscanf(h + 2 * i, "%2x", &v) == 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static const struct gm_rec_dep vec_deps[] = {
    {"acme/base", "^1.0"},
    {"tools/fmt", "~2.1"},
};
static const char *const vec_keywords[] = {"hello", "demo"};
static const char *const vec_categories[] = {"templates"};
static const char *const vec_authors[] = {"Ada <ada@example.com>"};

/* Builds vector record t, signed; appends its bytes to out. */
static void make(enum gm_record_type t, struct gm_record *r, struct gm_buf *out)
{
	struct gm_key a, b;

	seed_key(&a, 0x01);
	seed_key(&b, 0x21);
	gm_record_init(r, t);
	switch (t) {
	case GM_RECORD_PUBLISHER:
		snprintf(r->publisher.handle, sizeof(r->publisher.handle),
			 "acme");
		memcpy(r->publisher.key, a.pk, 32);
		r->publisher.seq = 1;
		r->publisher.time = 1700000000;
		ASSERT_OK(gm_record_sign(r, &a, NULL, out, NULL));
		break;
	case GM_RECORD_RELEASE:
		r->release.package = "acme/hello";
		r->release.version = "1.2.3";
		r->release.kind = GM_PACKAGE_TEMPLATE;
		ASSERT_OK(gm_cid_parse(&r->release.root,
				       "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3g"
				       "ofszvwlyarci47bgf354",
				       59, NULL));
		gm_sha256((const uint8_t *)"ggen.toml", 9, r->release.manifest);
		r->release.deps = vec_deps;
		r->release.ndeps = 2;
		r->release.size = 1234;
		memcpy(r->release.key, a.pk, 32);
		r->release.seq = 1;
		r->release.time = 1700000100;
		r->release.meta.description = "Hello world template";
		r->release.meta.license = "MIT";
		r->release.meta.keywords = vec_keywords;
		r->release.meta.nkeywords = 2;
		r->release.meta.categories = vec_categories;
		r->release.meta.ncategories = 1;
		r->release.meta.authors = vec_authors;
		r->release.meta.nauthors = 1;
		r->release.meta.homepage = "https://example.com/hello";
		ASSERT_OK(gm_record_sign(r, &a, NULL, out, NULL));
		break;
	case GM_RECORD_ROTATION:
		snprintf(r->rotation.handle, sizeof(r->rotation.handle),
			 "acme");
		memcpy(r->rotation.old_key, a.pk, 32);
		memcpy(r->rotation.new_key, b.pk, 32);
		r->rotation.seq = 2;
		r->rotation.last = 1;
		r->rotation.time = 1700000200;
		ASSERT_OK(gm_record_sign(r, &a, &b, out, NULL));
		break;
	case GM_RECORD_REVOCATION:
		snprintf(r->revocation.handle, sizeof(r->revocation.handle),
			 "acme");
		memcpy(r->revocation.key, a.pk, 32);
		memcpy(r->revocation.by, b.pk, 32);
		r->revocation.after = 1;
		r->revocation.seq = 3;
		r->revocation.time = 1700000300;
		ASSERT_OK(gm_record_sign(r, &b, NULL, out, NULL));
		break;
	default:
		ASSERT(0);
	}
	gm_key_release(&a);
	gm_key_release(&b);
}

TEST(print_vectors)
{
	static const enum gm_record_type ts[] = {
	    GM_RECORD_PUBLISHER, GM_RECORD_RELEASE, GM_RECORD_ROTATION,
	    GM_RECORD_REVOCATION};
	char h[8192], cs[GM_CID_MAX_STR];
	struct gm_record r;
	struct gm_buf b;
	struct gm_cid cid;
	size_t i;

	if (!getenv("GM_PRINT_VECTORS"))
		return;
	for (i = 0; i < GM_ARRAY_LEN(ts); i++) {
		gm_buf_init(&b, GM_BUF_UNLIMITED);
		make(ts[i], &r, &b);
		hex(b.data, b.len, h);
		ASSERT_OK(gm_record_cid(b.data, b.len, &cid));
		gm_cid_format(&cid, cs, sizeof(cs));
		printf("%s %s %s\n", gm_record_type_name(ts[i]), cs, h);
		gm_buf_reset(&b);
		ASSERT_OK(gm_record_signing_input(&r, &b, NULL));
		hex(b.data, b.len, h);
		printf("input-%s %s\n", gm_record_type_name(ts[i]), h);
		gm_buf_release(&b);
	}
}

static const struct {
	enum gm_record_type type;
	const char *hex;
	const char *cid;
} vectors[] = {
    {GM_RECORD_PUBLISHER, PUBLISHER_HEX, PUBLISHER_CID},
    {GM_RECORD_RELEASE, RELEASE_HEX, RELEASE_CID},
    {GM_RECORD_ROTATION, ROTATION_HEX, ROTATION_CID},
    {GM_RECORD_REVOCATION, REVOCATION_HEX, REVOCATION_CID},
};

TEST(vectors_encode_exactly_and_have_their_cids)
{
	char h[4096], cs[GM_CID_MAX_STR];
	struct gm_record r;
	struct gm_buf b;
	struct gm_cid cid;
	size_t i;

	for (i = 0; i < GM_ARRAY_LEN(vectors); i++) {
		gm_buf_init(&b, GM_BUF_UNLIMITED);
		make(vectors[i].type, &r, &b);
		ASSERT(b.len < sizeof(h) / 2);
		hex(b.data, b.len, h);
		ASSERT_STREQ(h, vectors[i].hex);
		ASSERT_OK(gm_record_cid(b.data, b.len, &cid));
		gm_cid_format(&cid, cs, sizeof(cs));
		ASSERT_STREQ(cs, vectors[i].cid);
		/* Re-encoding the signed struct gives the same bytes. */
		gm_buf_reset(&b);
		ASSERT_OK(gm_record_encode(&r, &b, NULL));
		hex(b.data, b.len, h);
		ASSERT_STREQ(h, vectors[i].hex);
		gm_buf_release(&b);
	}
}

TEST(vectors_decode_and_verify)
{
	uint8_t in[1024];
	struct gm_record r;
	struct gm_key a, b;
	struct gm_buf out;
	size_t i, n;

	seed_key(&a, 0x01);
	seed_key(&b, 0x21);
	for (i = 0; i < GM_ARRAY_LEN(vectors); i++) {
		n = unhex(vectors[i].hex, in, sizeof(in));
		ASSERT_OK(gm_record_decode(&r, in, n, NULL));
		ASSERT_EQ(r.type, vectors[i].type);
		gm_buf_init(&out, GM_BUF_UNLIMITED);
		ASSERT_OK(gm_record_encode(&r, &out, NULL));
		ASSERT_EQ(out.len, n);
		ASSERT_MEMEQ(out.data, in, n);
		gm_buf_release(&out);
		switch (r.type) {
		case GM_RECORD_PUBLISHER:
			ASSERT_STREQ(r.publisher.handle, "acme");
			ASSERT_MEMEQ(r.publisher.key, a.pk, 32);
			ASSERT_EQ(r.publisher.seq, 1);
			ASSERT_EQ(r.publisher.time, 1700000000);
			break;
		case GM_RECORD_RELEASE:
			ASSERT_STREQ(r.release.package, "acme/hello");
			ASSERT_STREQ(r.release.version, "1.2.3");
			ASSERT_EQ(r.release.kind, GM_PACKAGE_TEMPLATE);
			ASSERT_EQ(r.release.ndeps, 2);
			ASSERT_STREQ(r.release.deps[1].id, "tools/fmt");
			ASSERT_STREQ(r.release.deps[1].req, "~2.1");
			ASSERT_EQ(r.release.size, 1234);
			ASSERT_EQ(r.release.seq, 1);
			ASSERT_STREQ(r.release.meta.description,
				     "Hello world template");
			ASSERT_STREQ(r.release.meta.license, "MIT");
			ASSERT_EQ(r.release.meta.nkeywords, 2);
			ASSERT_STREQ(r.release.meta.keywords[1], "demo");
			ASSERT_STREQ(r.release.meta.categories[0], "templates");
			ASSERT_STREQ(r.release.meta.authors[0],
				     "Ada <ada@example.com>");
			ASSERT_STREQ(r.release.meta.homepage,
				     "https://example.com/hello");
			ASSERT(r.release.meta.repository == NULL);
			ASSERT_EQ(r.release.root.codec, GM_CODEC_DAG_PB);
			break;
		case GM_RECORD_ROTATION:
			ASSERT_MEMEQ(r.rotation.old_key, a.pk, 32);
			ASSERT_MEMEQ(r.rotation.new_key, b.pk, 32);
			ASSERT_EQ(r.rotation.seq, 2);
			break;
		default:
			ASSERT_MEMEQ(r.revocation.key, a.pk, 32);
			ASSERT_MEMEQ(r.revocation.by, b.pk, 32);
			ASSERT_EQ(r.revocation.after, 1);
			ASSERT_EQ(r.revocation.seq, 3);
			break;
		}
		gm_record_release(&r);
		ASSERT(r.mem == NULL);
	}
	gm_key_release(&a);
	gm_key_release(&b);
}

TEST(signing_input_is_domain_then_map_without_signatures)
{
	struct gm_record r;
	struct gm_buf b, in;
	struct gm_key a;
	const char *dom = "ggen-marketplace/record/v1\n";

	gm_buf_init(&b, GM_BUF_UNLIMITED);
	make(GM_RECORD_PUBLISHER, &r, &b);
	gm_buf_init(&in, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_record_signing_input(&r, &in, NULL));
	ASSERT_EQ(in.len, strlen(dom) + b.len - (4 + 2 + 64));
	ASSERT_MEMEQ(in.data, dom, strlen(dom));
	ASSERT_EQ(in.data[strlen(dom)], 0xa6);
	ASSERT(
	    gm_key_verify(r.publisher.key, in.data, in.len, r.publisher.sig));
	/* Without the domain the signature does not verify. */
	ASSERT(!gm_key_verify(r.publisher.key, in.data + strlen(dom),
			      in.len - strlen(dom), r.publisher.sig));
	seed_key(&a, 0x01);
	ASSERT_MEMEQ(r.publisher.key, a.pk, 32);
	gm_buf_release(&in);
	gm_buf_release(&b);
}

TEST(every_tampered_byte_is_refused)
{
	uint8_t in[1024];
	struct gm_record r;
	struct gm_diag d;
	size_t i, pos, n, sigfails;
	gm_err e;

	for (i = 0; i < GM_ARRAY_LEN(vectors); i++) {
		n = unhex(vectors[i].hex, in, sizeof(in));
		sigfails = 0;
		for (pos = 0; pos < n; pos++) {
			in[pos] ^= 0x01;
			e = gm_record_decode(&r, in, n, &d);
			in[pos] ^= 0x01;
			if (e == GM_ESIGNATURE) {
				sigfails++;
				continue;
			}
			if (e != GM_EFORMAT && e != GM_EUNSUPPORTED)
				gm_test_fail(
				    __FILE__, __LINE__, "%s byte %zu: %s",
				    gm_record_type_name(vectors[i].type), pos,
				    gm_errname(e));
		}
		/* Each byte of a key, digest, signature and integer value
		 * keeps the record well formed: a signature failure. */
		ASSERT(sigfails > 64 + 32);
	}
	/* A flipped bit in the release's time value: exactly ESIGNATURE. */
	n = unhex(RELEASE_HEX, in, sizeof(in));
	in[n - 80] ^= 0x40;
	ASSERT_ERR(gm_record_decode(&r, in, n, &d), GM_ESIGNATURE);
	ASSERT(strstr(d.msg, "release record: signature 'sig' is not a valid "
			     "signature by its key SHA256:"));
}

/* Hex of a vector with one substring replaced. */
static size_t patched(const char *hexv, const char *from, const char *to,
		      uint8_t *out, size_t cap)
{
	char buf[4096];
	const char *at = strstr(hexv, from);

	ASSERT(at != NULL);
	ASSERT(strlen(hexv) + strlen(to) < sizeof(buf));
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - hexv), hexv, to,
		 at + strlen(from));
	return unhex(buf, out, cap);
}

static void decode_fails(const uint8_t *in, size_t n, gm_err want,
			 const char *needle)
{
	struct gm_record r;
	struct gm_diag d;

	gm_diag_clear(&d);
	ASSERT_ERR(gm_record_decode(&r, in, n, &d), want);
	ASSERT(r.type == GM_RECORD_NONE && r.mem == NULL);
	if (!strstr(d.msg, needle))
		gm_test_fail(__FILE__, __LINE__, "diag '%s' lacks '%s'", d.msg,
			     needle);
}

#define PUB_SIG_ENTRY                                                          \
	"6373696758409f1131787fee61f4ebfbcfb586da69f8b4be958e50118728a500"     \
	"6ee7f609f071ea290331356680f7ebd2cea5857f2d7f586e314ce63694dc189f"     \
	"7755282381"                                                           \
	"08"

TEST(missing_duplicate_and_unknown_fields)
{
	uint8_t in[1024];
	char h[2048];
	size_t n;

	/* No sig at all. */
	snprintf(h, sizeof(h), "%s", PUBLISHER_HEX);
	n = patched(h, PUB_SIG_ENTRY, "", in, sizeof(in));
	in[0] = 0xa6;
	decode_fails(in, n, GM_ESIGNATURE, "signature 'sig' is missing");
	/* sig twice: a duplicate map key. */
	n = patched(h, PUB_SIG_ENTRY, PUB_SIG_ENTRY PUB_SIG_ENTRY, in,
		    sizeof(in));
	in[0] = 0xa8;
	decode_fails(in, n, GM_EFORMAT, "duplicate map key 'sig'");
	/* An extra field "extra": 0 (in canonical place). */
	n = patched(h, "6668616e646c65",
		    "65657874726100"
		    "6668616e646c65",
		    in, sizeof(in));
	in[0] = 0xa8;
	decode_fails(in, n, GM_EFORMAT,
		     "publisher record: unknown field 'extra'");
	/* sig of 63 bytes. */
	n = patched(h, "6373696758409f", "63736967583f", in, sizeof(in));
	decode_fails(in, n, GM_ESIGNATURE, "63 bytes");
	/* Rotation without sig_new. */
	snprintf(h, sizeof(h), "%s", ROTATION_HEX);
	h[strlen(h) - 2 * (8 + 2 + 64)] = 0;
	n = unhex(h, in, sizeof(in));
	in[0] = 0xa9; /* ten fields, one fewer */
	decode_fails(in, n, GM_ESIGNATURE, "'sig_new' is missing");
}

TEST(rotation_without_old_signature_is_refused)
{
	struct gm_record r;
	struct gm_buf b;
	uint8_t in[1024];
	char h[2048], *at;
	size_t n;

	gm_buf_init(&b, GM_BUF_UNLIMITED);
	make(GM_RECORD_ROTATION, &r, &b);
	hex(b.data, b.len, h);
	/* Remove "sig": 64 bytes. */
	at = strstr(h, "637369675840");
	ASSERT(at != NULL);
	memmove(at, at + 2 * (4 + 2 + 64), strlen(at + 2 * (4 + 2 + 64)) + 1);
	n = unhex(h, in, sizeof(in));
	in[0] = 0xa9; /* ten fields, one fewer */
	decode_fails(in, n, GM_ESIGNATURE, "signature 'sig' is missing");
	/* sig_new copied into sig: signed by the new key only. */
	hex(b.data, b.len, h);
	at = strstr(h, "637369675840");
	memcpy(at + 12, h + strlen(h) - 128, 128);
	n = unhex(h, in, sizeof(in));
	decode_fails(in, n, GM_ESIGNATURE, "signature 'sig' is not a valid");
	gm_buf_release(&b);
}

TEST(signature_by_another_key_is_refused)
{
	struct gm_record r;
	struct gm_key a, b;
	struct gm_buf out;
	struct gm_diag d;
	uint8_t *at;

	seed_key(&a, 0x01);
	seed_key(&b, 0x21);
	/* The API refuses to sign with a key the record does not name. */
	gm_buf_init(&out, GM_BUF_UNLIMITED);
	make(GM_RECORD_RELEASE, &r, &out);
	gm_buf_reset(&out);
	ASSERT_ERR(gm_record_sign(&r, &b, NULL, &out, &d), GM_EINVAL);
	ASSERT(strstr(d.msg, "not the key"));
	ASSERT_EQ(out.len, 0);
	/* Signed by b, then relabelled as a's: the signature fails. */
	memcpy(r.release.key, b.pk, 32);
	ASSERT_OK(gm_record_sign(&r, &b, NULL, &out, &d));
	at = memmem(out.data, out.len, b.pk, 32);
	ASSERT(at != NULL);
	memcpy(at, a.pk, 32);
	decode_fails(out.data, out.len, GM_ESIGNATURE, "by its key SHA256:");
	/* Revocation signed by b must name b in "by". */
	gm_buf_reset(&out);
	make(GM_RECORD_REVOCATION, &r, &out);
	gm_buf_reset(&out);
	ASSERT_ERR(gm_record_sign(&r, &a, NULL, &out, &d), GM_EINVAL);
	/* Rotation needs the new key too. */
	make(GM_RECORD_ROTATION, &r, &out);
	gm_buf_reset(&out);
	ASSERT_ERR(gm_record_sign(&r, &a, NULL, &out, &d), GM_EINVAL);
	ASSERT(strstr(d.msg, "new key"));
	ASSERT_ERR(gm_record_sign(&r, &a, &a, &out, &d), GM_EINVAL);
	gm_buf_release(&out);
	gm_key_release(&a);
	gm_key_release(&b);
}

TEST(wrong_types_are_refused)
{
	uint8_t in[1024];
	size_t n;

	/* seq as text "1" */
	n = patched(PUBLISHER_HEX,
		    "63736571"
		    "01",
		    "63736571"
		    "6131",
		    in, sizeof(in));
	decode_fails(in, n, GM_EFORMAT,
		     "field 'seq' must be a unsigned integer, not a text");
	/* key of 31 bytes (still canonical CBOR) */
	n = patched(PUBLISHER_HEX, "636b6579582079", "636b6579581f", in,
		    sizeof(in));
	decode_fails(in, n, GM_EFORMAT, "32-byte Ed25519 public key");
	/* handle as bytes */
	n = patched(PUBLISHER_HEX, "6668616e646c656461636d65",
		    "6668616e646c654461636d65", in, sizeof(in));
	decode_fails(in, n, GM_EFORMAT, "'handle' must be a text string");
	/* handle with upper case */
	n = patched(PUBLISHER_HEX, "6668616e646c656461636d65",
		    "6668616e646c656441636d65", in, sizeof(in));
	decode_fails(in, n, GM_EFORMAT, "must be a handle");
	/* v = 2 */
	n = patched(PUBLISHER_HEX, "617601", "617602", in, sizeof(in));
	decode_fails(in, n, GM_EUNSUPPORTED, "format version 2");
	/* unknown type */
	n = patched(PUBLISHER_HEX, "6174697075626c6973686572",
		    "6174697075626c6973686571", in, sizeof(in));
	decode_fails(in, n, GM_EFORMAT, "record has no type");
	/* release kind "plugin" */
	n = patched(RELEASE_HEX, "646b696e646874656d706c617465",
		    "646b696e6466706c7567696e", in, sizeof(in));
	decode_fails(in, n, GM_EFORMAT, "'kind' must be");
	/* release root as a plain byte string */
	n = patched(RELEASE_HEX, "64726f6f74d82a5825", "64726f6f745825", in,
		    sizeof(in));
	decode_fails(in, n, GM_EFORMAT,
		     "field 'root' must be a CID, not a byte string");
	/* release version that is not SemVer: "1.2.x" */
	n = patched(RELEASE_HEX, "65312e322e33", "65312e322e78", in,
		    sizeof(in));
	decode_fails(in, n, GM_EFORMAT, "'version' must be a SemVer");
	/* deps in the wrong order: swap "acme/base" to "zcme/base" */
	n = patched(RELEASE_HEX, "6961636d652f62617365", "697a636d652f62617365",
		    in, sizeof(in));
	decode_fails(in, n, GM_EFORMAT, "out of order");
	/* a text with a NUL byte */
	n = patched(RELEASE_HEX, "676c6963656e7365634d4954",
		    "676c6963656e7365634d0054", in, sizeof(in));
	decode_fails(in, n, GM_EFORMAT, "NUL");
	/* not a map at all */
	decode_fails((const uint8_t *)"\x01", 1, GM_EFORMAT, "must be a map");
	decode_fails((const uint8_t *)"\xa0", 1, GM_EFORMAT, "no type");
}

TEST(sign_refuses_invalid_release_fields)
{
	struct gm_record r;
	struct gm_key a;
	struct gm_buf out;
	struct gm_diag d;
	static const struct gm_rec_dep unsorted[] = {
	    {"tools/fmt", "~2.1"},
	    {"acme/base", "^1.0"},
	};
	static const struct gm_rec_dep dup[] = {
	    {"acme/base", "^1.0"},
	    {"acme/base", "^2.0"},
	};
	static const struct gm_rec_dep badreq[] = {{"acme/base", "^^1"}};

	seed_key(&a, 0x01);
	gm_buf_init(&out, GM_BUF_UNLIMITED);
	make(GM_RECORD_RELEASE, &r, &out);
	gm_buf_reset(&out);
	r.release.deps = unsorted;
	ASSERT_ERR(gm_record_sign(&r, &a, NULL, &out, &d), GM_EINVAL);
	ASSERT(strstr(d.msg, "'acme/base' is repeated or out of order"));
	r.release.deps = dup;
	ASSERT_ERR(gm_record_sign(&r, &a, NULL, &out, &d), GM_EINVAL);
	r.release.deps = badreq;
	r.release.ndeps = 1;
	ASSERT_ERR(gm_record_sign(&r, &a, NULL, &out, &d), GM_EINVAL);
	ASSERT(strstr(d.msg, "invalid version requirement"));
	r.release.ndeps = 0;
	r.release.version = "1.2";
	ASSERT_ERR(gm_record_sign(&r, &a, NULL, &out, &d), GM_EINVAL);
	r.release.version = "1.2.3-rc.1+b5";
	r.release.package = "acme";
	ASSERT_ERR(gm_record_sign(&r, &a, NULL, &out, &d), GM_EINVAL);
	ASSERT(strstr(d.msg, "'package'"));
	r.release.package = "acme/x";
	r.release.meta.homepage = "ftp://x";
	ASSERT_ERR(gm_record_sign(&r, &a, NULL, &out, &d), GM_EINVAL);
	r.release.meta.homepage = NULL;
	r.release.meta.license = "MIT OR";
	ASSERT_ERR(gm_record_sign(&r, &a, NULL, &out, &d), GM_EINVAL);
	r.release.meta.license = NULL;
	r.release.meta.description = "";
	ASSERT_ERR(gm_record_sign(&r, &a, NULL, &out, &d), GM_EINVAL);
	r.release.meta.description = "d";
	r.release.kind = GM_PACKAGE_NONE;
	ASSERT_ERR(gm_record_sign(&r, &a, NULL, &out, &d), GM_EINVAL);
	r.release.kind = GM_PACKAGE_VALIDATOR;
	r.release.meta.nkeywords = 0;
	r.release.meta.ncategories = 0;
	r.release.meta.nauthors = 0;
	ASSERT_EQ(out.len, 0);
	/* The minimal release round trips, absent options stay NULL. */
	ASSERT_OK(gm_record_sign(&r, &a, NULL, &out, &d));
	{
		struct gm_record back;

		ASSERT_OK(gm_record_decode(&back, out.data, out.len, &d));
		ASSERT(back.release.meta.license == NULL);
		ASSERT(back.release.deps == NULL);
		ASSERT_EQ(back.release.kind, GM_PACKAGE_VALIDATOR);
		ASSERT_STREQ(back.release.version, "1.2.3-rc.1+b5");
		gm_record_release(&back);
	}
	gm_buf_release(&out);
	gm_key_release(&a);
}

TEST(oversized_record_is_refused)
{
	uint8_t *big = gm_calloc(GM_RECORD_MAX + 1, 1);

	decode_fails(big, GM_RECORD_MAX + 1, GM_ELIMIT, "larger than");
	gm_free(big);
}

TEST(decode_out_of_memory_is_clean)
{
	uint8_t in[1024];
	struct gm_record r;
	unsigned long k;
	size_t i, n;
	gm_err e;

	for (i = 0; i < GM_ARRAY_LEN(vectors); i++) {
		n = unhex(vectors[i].hex, in, sizeof(in));
		for (k = 1;; k++) {
			gm_alloc_fail_after(k);
			e = gm_record_decode(&r, in, n, NULL);
			gm_alloc_fail_after(0);
			if (!e)
				break;
			ASSERT_ERR(e, GM_ENOMEM);
			ASSERT(r.mem == NULL);
		}
		ASSERT(k > 1);
		ASSERT_EQ(r.type, vectors[i].type);
		gm_record_release(&r);
	}
}

TEST(sign_out_of_memory_is_clean)
{
	struct gm_record r;
	struct gm_key a;
	struct gm_buf out;
	unsigned long k;
	gm_err e;
	char h[2048];

	seed_key(&a, 0x01);
	gm_buf_init(&out, GM_BUF_UNLIMITED);
	make(GM_RECORD_RELEASE, &r, &out);
	for (k = 1;; k++) {
		gm_buf_release(&out);
		gm_buf_init(&out, GM_BUF_UNLIMITED);
		gm_alloc_fail_after(k);
		e = gm_record_sign(&r, &a, NULL, &out, NULL);
		gm_alloc_fail_after(0);
		if (!e)
			break;
		ASSERT_ERR(e, GM_ENOMEM);
	}
	hex(out.data, out.len, h);
	ASSERT_STREQ(h, RELEASE_HEX);
	gm_buf_release(&out);
	gm_key_release(&a);
}

TEST(formats_md_holds_the_same_vectors)
{
	char *path = gm_path_join(GM_SOURCE_ROOT, "docs/formats.md");
	struct gm_buf b, flat;
	size_t i;

	gm_buf_init(&b, 1 << 20);
	ASSERT_OK(gm_fs_read_file(path, &b, NULL));
	/* Join the hex lines: drop every newline. */
	gm_buf_init(&flat, 1 << 20);
	for (i = 0; i < b.len; i++)
		if (b.data[i] != '\n')
			ASSERT_OK(gm_buf_append_byte(&flat, b.data[i]));
	ASSERT_OK(gm_buf_append_byte(&flat, 0));
	ASSERT(strstr((char *)flat.data, "## Signed records"));
	for (i = 0; i < GM_ARRAY_LEN(vectors); i++) {
		ASSERT(strstr((char *)flat.data, vectors[i].hex));
		ASSERT(strstr((char *)flat.data, vectors[i].cid));
	}
	gm_buf_release(&flat);
	gm_buf_release(&b);
	gm_free(path);
}

TEST(largest_lists_round_trip)
{
	static char ids[GM_MANIFEST_MAX_DEPS][16];
	static struct gm_rec_dep deps[GM_MANIFEST_MAX_DEPS];
	static const char *words[GM_MANIFEST_MAX_AUTHORS + 1];
	struct gm_record r, back;
	struct gm_key a;
	struct gm_buf out;
	size_t i;

	seed_key(&a, 0x01);
	for (i = 0; i < GM_MANIFEST_MAX_DEPS; i++) {
		snprintf(ids[i], sizeof(ids[i]), "a/%03zu", i);
		deps[i].id = ids[i];
		deps[i].req = "*";
	}
	for (i = 0; i <= GM_MANIFEST_MAX_AUTHORS; i++)
		words[i] = "x";
	gm_buf_init(&out, GM_BUF_UNLIMITED);
	make(GM_RECORD_RELEASE, &r, &out);
	gm_buf_reset(&out);
	r.release.deps = deps;
	r.release.ndeps = GM_MANIFEST_MAX_DEPS;
	r.release.meta.keywords = words;
	r.release.meta.nkeywords = GM_MANIFEST_MAX_KEYWORDS;
	r.release.meta.categories = words;
	r.release.meta.ncategories = GM_MANIFEST_MAX_CATEGORIES;
	r.release.meta.authors = words;
	r.release.meta.nauthors = GM_MANIFEST_MAX_AUTHORS;
	ASSERT_OK(gm_record_sign(&r, &a, NULL, &out, NULL));
	ASSERT_OK(gm_record_decode(&back, out.data, out.len, NULL));
	ASSERT_EQ(back.release.ndeps, GM_MANIFEST_MAX_DEPS);
	ASSERT_STREQ(back.release.deps[255].id, "a/255");
	ASSERT_STREQ(back.release.deps[255].req, "*");
	ASSERT_EQ(back.release.meta.nauthors, GM_MANIFEST_MAX_AUTHORS);
	gm_record_release(&back);
	/* One more author: refused on both sides. */
	r.release.meta.nauthors = GM_MANIFEST_MAX_AUTHORS + 1;
	gm_buf_reset(&out);
	ASSERT_ERR(gm_record_sign(&r, &a, NULL, &out, NULL), GM_EINVAL);
	gm_buf_release(&out);
	gm_key_release(&a);
}
