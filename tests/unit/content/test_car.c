/*
 * test_car.c - CAR v1: the writer against bytes @ipld/car 5.4.7 wrote for
 * the same roots and blocks, reader round trips, every kind of malformed
 * file, import all-or-nothing into the block store, DAG export order, and
 * the out-of-memory paths.
 */
#include "harness.h"

#include "gm/blockstore.h"
#include "gm/car.h"
#include "gm/dag.h"
#include "gm/dagpb.h"
#include "gm/fs.h"
#include "gm/varint.h"

/*
 * Generated once with @ipld/car 5.4.7 CarWriter (tests/interop has the
 * packages): leaf = raw "hello world\n"; dir = dag-pb {Data 08 01, Links
 * [{leaf, "hello.txt", 12}]} as CIDv1; empty = dag-pb {Data 08 01} as
 * CIDv0 (QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn).
 * CAR1: roots [dir], blocks dir, leaf. CAR2: roots [dir, empty], blocks
 * dir, leaf, empty. CAR0: no roots, no blocks.
 */
#define DIR_HEX                                                                \
	"12330a2401551220a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85" \
	"d"                                                                    \
	"299a192a447120968656c6c6f2e747874180c0a020801"
#define CAR1_HEX                                                               \
	"3aa265726f6f747381d82a5825000170122067551847369651027d238517ddf59a84" \
	"3829100eab577e6c8144f18c99637fd06776657273696f6e015d0170122067551847" \
	"369651027d238517ddf59a843829100eab577e6c8144f18c99637fd012330a240155" \
	"1220a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447" \
	"120968656c6c6f2e747874180c0a0208013001551220a948904f2f0f479b8f819769" \
	"4b30184b0d2ed1c1cd2a1ec0fb85d299a192a44768656c6c6f20776f726c640a"
#define CAR2_HEX                                                               \
	"61a265726f6f747382d82a5825000170122067551847369651027d238517ddf59a84" \
	"3829100eab577e6c8144f18c99637fd0d82a582300122059948439065f29619ef412" \
	"80cbb932be52c56d99c5966b65e0111239f098bbef6776657273696f6e015d017012" \
	"2067551847369651027d238517ddf59a843829100eab577e6c8144f18c99637fd012" \
	"330a2401551220a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d2" \
	"99a192a447120968656c6c6f2e747874180c0a0208013001551220a948904f2f0f47" \
	"9b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a44768656c6c6f20776f72" \
	"6c640a26122059948439065f29619ef41280cbb932be52c56d99c5966b65e0111239" \
	"f098bbef0a020801"
#define CAR0_HEX "11a265726f6f7473806776657273696f6e01"
#define DIR_CID "bafybeidhkumeonuwkebh2i4fc7o7lguehauradvlk57gzake6ggjsy372a"
#define EMPTY_CID "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"

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

/* The three blocks of the vectors above. */
struct vec {
	struct gm_cid leaf, dir, empty;
	uint8_t dir_bytes[64];
	size_t dir_len;
};

static void make_vec(struct vec *v)
{
	struct gm_dagpb_link l;
	struct gm_dagpb_node n;
	struct gm_buf b;
	uint8_t want[64];
	char text[GM_CID_MAX_STR];

	ASSERT_OK(gm_cid_sha256(&v->leaf, 1, GM_CODEC_RAW,
				(const uint8_t *)"hello world\n", 12));
	memset(&l, 0, sizeof(l));
	l.cid = v->leaf;
	l.name = (const uint8_t *)"hello.txt";
	l.name_len = 9;
	l.has_name = true;
	l.tsize = 12;
	l.has_tsize = true;
	memset(&n, 0, sizeof(n));
	n.links = &l;
	n.n_links = 1;
	n.data = (const uint8_t *)"\x08\x01";
	n.data_len = 2;
	n.has_data = true;
	gm_buf_init(&b, 1024);
	ASSERT_OK(gm_dagpb_encode(&n, &b));
	ASSERT_EQ(b.len, unhex(DIR_HEX, want, sizeof(want)));
	ASSERT_MEMEQ(b.data, want, b.len);
	memcpy(v->dir_bytes, b.data, b.len);
	v->dir_len = b.len;
	gm_buf_release(&b);
	ASSERT_OK(gm_cid_sha256(&v->dir, 1, GM_CODEC_DAG_PB, v->dir_bytes,
				v->dir_len));
	gm_cid_format(&v->dir, text, sizeof(text));
	ASSERT_STREQ(text, DIR_CID);
	ASSERT_OK(gm_cid_sha256(&v->empty, 0, GM_CODEC_DAG_PB,
				(const uint8_t *)"\x0a\x02\x08\x01", 4));
	gm_cid_format(&v->empty, text, sizeof(text));
	ASSERT_STREQ(text, EMPTY_CID);
}

static void vec_blocks(const struct vec *v, struct gm_car_block *blk)
{
	blk[0].cid = v->dir;
	blk[0].data = v->dir_bytes;
	blk[0].len = v->dir_len;
	blk[1].cid = v->leaf;
	blk[1].data = (const uint8_t *)"hello world\n";
	blk[1].len = 12;
	blk[2].cid = v->empty;
	blk[2].data = (const uint8_t *)"\x0a\x02\x08\x01";
	blk[2].len = 4;
}

/* A memory sink that keeps copies of the blocks in order. */
struct memsink {
	struct gm_car_block blk[16];
	size_t n;
};

static gm_err mem_put(void *ctx, const struct gm_cid *cid, const uint8_t *data,
		      size_t len)
{
	struct memsink *m = ctx;
	uint8_t *copy;

	if (m->n == 16)
		return GM_ELIMIT;
	copy = gm_malloc(len + 1);
	if (!copy)
		return GM_ENOMEM;
	memcpy(copy, data, len);
	m->blk[m->n].cid = *cid;
	m->blk[m->n].data = copy;
	m->blk[m->n].len = len;
	m->n++;
	return GM_OK;
}

static void mem_release(struct memsink *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		gm_free((void *)m->blk[i].data);
	m->n = 0;
}

TEST(writer_matches_ipld_car)
{
	struct gm_car_block blk[3];
	struct gm_car_writer w;
	struct gm_cid roots[2];
	uint8_t want[512];
	struct gm_buf b;
	struct vec v;
	size_t n;

	make_vec(&v);
	vec_blocks(&v, blk);
	gm_buf_init(&b, GM_BUF_UNLIMITED);

	ASSERT_OK(gm_car_write_buf(&b, &v.dir, 1, blk, 2, NULL));
	n = unhex(CAR1_HEX, want, sizeof(want));
	ASSERT_EQ(b.len, n);
	ASSERT_MEMEQ(b.data, want, n);

	gm_buf_reset(&b);
	roots[0] = v.dir;
	roots[1] = v.empty;
	ASSERT_OK(gm_car_writer_init_buf(&w, &b, roots, 2, NULL));
	ASSERT_OK(
	    gm_car_writer_put(&w, &blk[0].cid, blk[0].data, blk[0].len, NULL));
	ASSERT_OK(
	    gm_car_writer_put(&w, &blk[1].cid, blk[1].data, blk[1].len, NULL));
	ASSERT_OK(
	    gm_car_writer_put(&w, &blk[2].cid, blk[2].data, blk[2].len, NULL));
	n = unhex(CAR2_HEX, want, sizeof(want));
	ASSERT_EQ(b.len, n);
	ASSERT_EQ(w.size, n);
	ASSERT_EQ(w.blocks, 3);
	ASSERT_MEMEQ(b.data, want, n);

	gm_buf_reset(&b);
	ASSERT_OK(gm_car_write_buf(&b, NULL, 0, NULL, 0, NULL));
	n = unhex(CAR0_HEX, want, sizeof(want));
	ASSERT_EQ(b.len, n);
	ASSERT_MEMEQ(b.data, want, n);
	gm_buf_release(&b);
}

TEST(writer_to_fd_matches_buffer)
{
	struct gm_car_block blk[3];
	struct gm_buf b;
	struct vec v;
	uint8_t want[512];
	char *path = gm_path_join(gm_test_tmpdir(), "x.car");
	size_t n;
	int fd;

	make_vec(&v);
	vec_blocks(&v, blk);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ASSERT(fd >= 0);
	ASSERT_OK(gm_car_write_fd(fd, &v.dir, 1, blk, 2, NULL));
	close(fd);
	gm_buf_init(&b, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_fs_read_file(path, &b, NULL));
	n = unhex(CAR1_HEX, want, sizeof(want));
	ASSERT_EQ(b.len, n);
	ASSERT_MEMEQ(b.data, want, n);
	gm_buf_release(&b);
	gm_free(path);
}

TEST(reader_round_trip)
{
	struct gm_car_info info;
	struct memsink m;
	struct gm_block_sink sink = {mem_put, &m};
	uint8_t car[512];
	struct gm_buf b;
	struct vec v;
	size_t n;

	make_vec(&v);
	n = unhex(CAR2_HEX, car, sizeof(car));
	memset(&m, 0, sizeof(m));
	ASSERT_OK(gm_car_read_mem(car, n, &sink, &info, NULL));
	ASSERT_EQ(info.n_roots, 2);
	ASSERT(gm_cid_equal(&info.roots[0], &v.dir));
	ASSERT(gm_cid_equal(&info.roots[1], &v.empty));
	ASSERT_EQ(info.blocks, 3);
	ASSERT_EQ(info.bytes, v.dir_len + 12 + 4);
	ASSERT_EQ(info.size, n);
	ASSERT_EQ(m.n, 3);
	ASSERT(gm_cid_equal(&m.blk[0].cid, &v.dir));
	ASSERT(gm_cid_equal(&m.blk[1].cid, &v.leaf));
	ASSERT(gm_cid_equal(&m.blk[2].cid, &v.empty));
	ASSERT_MEMEQ(m.blk[1].data, "hello world\n", 12);

	gm_buf_init(&b, GM_BUF_UNLIMITED);
	ASSERT_OK(
	    gm_car_write_buf(&b, info.roots, info.n_roots, m.blk, m.n, NULL));
	ASSERT_EQ(b.len, n);
	ASSERT_MEMEQ(b.data, car, n);
	gm_buf_release(&b);
	mem_release(&m);

	/* No sink: only checks. */
	ASSERT_OK(gm_car_read_mem(car, n, NULL, &info, NULL));
	ASSERT_EQ(info.blocks, 3);
}

TEST(reader_from_fd_and_pipe)
{
	struct gm_car_info info;
	uint8_t car[512];
	size_t n;
	int p[2];

	n = unhex(CAR1_HEX, car, sizeof(car));
	ASSERT_EQ(pipe(p), 0);
	ASSERT_EQ(write(p[1], car, n), (ssize_t)n);
	close(p[1]);
	ASSERT_OK(gm_car_read_fd(p[0], NULL, &info, NULL));
	close(p[0]);
	ASSERT_EQ(info.blocks, 2);
	ASSERT_EQ(info.n_roots, 1);
	ASSERT_EQ(info.size, n);
}

TEST(truncated_cars_are_refused)
{
	struct gm_car_info info;
	struct gm_diag d;
	uint8_t car[512];
	size_t n, cut, ok = 0;

	n = unhex(CAR1_HEX, car, sizeof(car));
	for (cut = 0; cut < n; cut++) {
		gm_err e;

		gm_diag_clear(&d);
		e = gm_car_read_mem(car, cut, NULL, &info, &d);
		if (e == GM_OK) {
			/* Only a cut at a section boundary is a valid CAR. */
			ok++;
			ASSERT(cut == 59 || cut == 59 + 94);
			continue;
		}
		ASSERT_ERR(e, GM_EFORMAT);
		ASSERT(d.msg[0] != '\0');
		if (cut > 0)
			ASSERT(strstr(d.msg, "truncated") != NULL);
	}
	ASSERT_EQ(ok, 2);
	gm_diag_clear(&d);
	ASSERT_ERR(gm_car_read_mem(car, 0, NULL, &info, &d), GM_EFORMAT);
	ASSERT(strstr(d.msg, "empty") != NULL);
}

/* The CAR1 header followed by extra bytes. */
static size_t car_with(uint8_t *car, size_t cap, const uint8_t *tail,
		       size_t tlen)
{
	size_t n = unhex(CAR1_HEX, car, cap);

	ASSERT_EQ(n, 202);
	n = 59; /* header only */
	ASSERT(n + tlen <= cap);
	memcpy(car + n, tail, tlen);
	return n + tlen;
}

TEST(bad_sections_are_refused)
{
	static uint8_t car[GM_CAR_MAX_SECTION + 256];
	uint8_t tail[64];
	struct gm_car_info info;
	struct gm_diag d;
	size_t n, t;

	/* Oversized section length. */
	t = gm_varint_encode(GM_CAR_MAX_SECTION + 1, tail);
	n = car_with(car, sizeof(car), tail, t);
	gm_diag_clear(&d);
	ASSERT_ERR(gm_car_read_mem(car, n, NULL, &info, &d), GM_ELIMIT);
	ASSERT(strstr(d.msg, "offset 59") != NULL);

	/* Zero-length section (a trailing zero byte). */
	tail[0] = 0;
	n = car_with(car, sizeof(car), tail, 1);
	gm_diag_clear(&d);
	ASSERT_ERR(gm_car_read_mem(car, n, NULL, &info, &d), GM_EFORMAT);
	ASSERT(strstr(d.msg, "zero-length") != NULL);

	/* Non-minimal section length varint. */
	tail[0] = 0x85;
	tail[1] = 0x00;
	n = car_with(car, sizeof(car), tail, 2);
	ASSERT_ERR(gm_car_read_mem(car, n, NULL, &info, NULL), GM_EFORMAT);

	/* Bad CID: version 3. */
	memcpy(tail, "\x05\x03\x55\x00\x01\x61", 6);
	n = car_with(car, sizeof(car), tail, 6);
	gm_diag_clear(&d);
	ASSERT_ERR(gm_car_read_mem(car, n, NULL, &info, &d), GM_EFORMAT);
	ASSERT(strstr(d.msg, "CID") != NULL);

	/* Section shorter than its CID. */
	memcpy(tail, "\x03\x01\x55\x12", 4);
	n = car_with(car, sizeof(car), tail, 4);
	ASSERT_ERR(gm_car_read_mem(car, n, NULL, &info, NULL), GM_EFORMAT);

	/* Trailing garbage after a complete CAR. */
	n = unhex(CAR1_HEX, car, sizeof(car));
	memcpy(car + n, "\x01\x02\x03", 3);
	gm_diag_clear(&d);
	ASSERT_ERR(gm_car_read_mem(car, n + 3, NULL, &info, &d), GM_EFORMAT);
	ASSERT(strstr(d.msg, "offset 202") != NULL);
}

TEST(tampered_block_is_refused_with_its_cid)
{
	struct gm_car_info info;
	struct gm_diag d;
	uint8_t car[512];
	size_t n;

	n = unhex(CAR1_HEX, car, sizeof(car));
	car[n - 1] ^= 0x20; /* "hello world\n" -> "hello world*" */
	gm_diag_clear(&d);
	ASSERT_ERR(gm_car_read_mem(car, n, NULL, &info, &d), GM_EINTEGRITY);
	ASSERT(strstr(d.msg, "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f"
			     "2km2devei4") != NULL);
	ASSERT_EQ(info.blocks, 1);
}

static gm_err header_err(const char *hex, struct gm_diag *d)
{
	uint8_t h[512];
	struct gm_cid roots[GM_CAR_MAX_ROOTS];
	size_t n = unhex(hex, h, sizeof(h)), nr;

	gm_diag_clear(d);
	return gm_car_header_decode(h, n, roots, &nr, d);
}

TEST(bad_headers_are_refused)
{
	static uint8_t big[8192];
	struct gm_cid roots[GM_CAR_MAX_ROOTS];
	struct gm_car_info info;
	struct gm_buf b;
	struct gm_diag d;
	struct vec v;
	size_t nr, i, n;
	gm_err e;

	/* Canonical: accepted. */
	ASSERT_OK(header_err("a265726f6f7473806776657273696f6e01", &d));
	/* CARv2 pragma, on its own and as a whole file. */
	ASSERT_ERR(header_err("a16776657273696f6e02", &d), GM_EUNSUPPORTED);
	ASSERT_STREQ(d.msg, "CARv2 is not supported; export as CARv1");
	memcpy(big, "\x0a\xa1\x67version\x02", 11);
	gm_diag_clear(&d);
	ASSERT_ERR(gm_car_read_mem(big, 11, NULL, &info, &d), GM_EUNSUPPORTED);
	ASSERT_STREQ(d.msg, "CARv2 is not supported; export as CARv1");
	/* version 2 with roots, version 3. */
	ASSERT_ERR(header_err("a265726f6f7473806776657273696f6e02", &d),
		   GM_EUNSUPPORTED);
	ASSERT(strstr(d.msg, "CARv2") != NULL);
	ASSERT_ERR(header_err("a265726f6f7473806776657273696f6e03", &d),
		   GM_EUNSUPPORTED);
	/* Extra key. */
	ASSERT_ERR(header_err("a365726f6f7473806776657273696f6e01"
			      "6478747261f5",
			      &d),
		   GM_EFORMAT);
	ASSERT(strstr(d.msg, "3 entries") != NULL);
	/* Keys out of canonical order. */
	ASSERT_ERR(header_err("a26776657273696f6e0165726f6f747380", &d),
		   GM_EFORMAT);
	ASSERT(strstr(d.msg, "order") != NULL);
	/* Another key instead of roots. */
	ASSERT_ERR(header_err("a265726f6f7478806776657273696f6e01", &d),
		   GM_EFORMAT);
	/* Missing roots. */
	ASSERT_ERR(header_err("a16776657273696f6e01", &d), GM_EFORMAT);
	/* Non-minimal array length, version as 1-byte head. */
	ASSERT_ERR(header_err("a265726f6f747398006776657273696f6e01", &d),
		   GM_EFORMAT);
	ASSERT_ERR(header_err("a265726f6f7473806776657273696f6e1801", &d),
		   GM_EFORMAT);
	/* Indefinite-length map. */
	ASSERT_ERR(header_err("bf65726f6f7473806776657273696f6e01ff", &d),
		   GM_EFORMAT);
	/* Trailing byte. */
	ASSERT_ERR(header_err("a265726f6f7473806776657273696f6e0100", &d),
		   GM_EFORMAT);
	ASSERT(strstr(d.msg, "after") != NULL);
	/* Root not tagged, tagged but not bytes, missing 0x00 prefix. */
	ASSERT_ERR(header_err("a265726f6f74738143000155"
			      "6776657273696f6e01",
			      &d),
		   GM_EFORMAT);
	ASSERT_ERR(header_err("a265726f6f747381d82a01"
			      "6776657273696f6e01",
			      &d),
		   GM_EFORMAT);
	ASSERT_ERR(header_err("a265726f6f747381d82a4401550001"
			      "6776657273696f6e01",
			      &d),
		   GM_EFORMAT);
	/* A root with trailing bytes inside its byte string. */
	ASSERT_ERR(header_err("a265726f6f747381d82a46000155000000"
			      "6776657273696f6e01",
			      &d),
		   GM_EFORMAT);
	/* Not a map at all; zero-length header; oversized header. */
	ASSERT_ERR(header_err("8001", &d), GM_EFORMAT);
	gm_diag_clear(&d);
	ASSERT_ERR(gm_car_read_mem((const uint8_t *)"\x00", 1, NULL, &info, &d),
		   GM_EFORMAT);
	ASSERT(strstr(d.msg, "zero length") != NULL);
	n = gm_varint_encode(GM_CAR_MAX_HEADER + 1, big);
	ASSERT_ERR(gm_car_read_mem(big, n + 100, NULL, &info, NULL), GM_ELIMIT);

	/* 64 roots are fine, 65 are not. */
	make_vec(&v);
	for (i = 0; i < GM_CAR_MAX_ROOTS; i++)
		roots[i] = v.dir;
	gm_buf_init(&b, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_car_header_encode(roots, GM_CAR_MAX_ROOTS, &b));
	ASSERT_OK(gm_car_read_mem(b.data, b.len, NULL, &info, NULL));
	ASSERT_EQ(info.n_roots, GM_CAR_MAX_ROOTS);
	ASSERT_ERR(gm_car_header_encode(roots, GM_CAR_MAX_ROOTS + 1, &b),
		   GM_ELIMIT);
	/* Forge a 65-root header: array head 0x98 0x41 and one more root. */
	/* b: 2-byte varint, a2, 65 "roots", 98 40, 64 roots of 41 bytes. */
	ASSERT_EQ(b.data[9], 0x98);
	ASSERT_EQ(b.data[10], 64);
	memcpy(big, b.data + 2, b.len - 2);
	big[8] = 65;
	/* Duplicate the first root (at 9, 41 bytes). */
	memmove(big + 9 + 41, big + 9, b.len - 2 - 9);
	gm_diag_clear(&d);
	e = gm_car_header_decode(big, b.len - 2 + 41, roots, &nr, &d);
	ASSERT_ERR(e, GM_ELIMIT);
	ASSERT(strstr(d.msg, "65 roots") != NULL);
	gm_buf_release(&b);
}

static struct gm_store *open_store(const char *sub)
{
	struct gm_store *s;
	char *dir = gm_path_join(gm_test_tmpdir(), sub);

	ASSERT_OK(gm_store_open(&s, dir, NULL));
	gm_free(dir);
	return s;
}

static int write_tmp(const char *name, const uint8_t *p, size_t n)
{
	char *path = gm_path_join(gm_test_tmpdir(), name);
	int fd;

	ASSERT_OK(gm_fs_write_atomic(path, p, n, 0644, NULL));
	fd = open(path, O_RDONLY);
	ASSERT(fd >= 0);
	gm_free(path);
	return fd;
}

static gm_err count_block(void *ctx, const struct gm_cid *cid, uint64_t size)
{
	(*(int *)ctx)++;
	return GM_OK;
}

TEST(import_puts_verified_blocks_and_pins_roots)
{
	struct gm_store *s = open_store("st");
	struct gm_car_import_result r;
	uint8_t car[512];
	struct vec v;
	size_t n;
	int fd;

	make_vec(&v);
	n = unhex(CAR2_HEX, car, sizeof(car));
	fd = write_tmp("a.car", car, n);
	ASSERT_OK(gm_car_import(s, fd, GM_CAR_IMPORT_PIN_ROOTS, &r, NULL));
	close(fd);
	ASSERT_EQ(r.info.n_roots, 2);
	ASSERT_EQ(r.info.blocks, 3);
	ASSERT_EQ(r.new_blocks, 3);
	ASSERT_EQ(r.new_bytes, v.dir_len + 12 + 4);
	ASSERT(gm_store_has(s, &v.dir));
	ASSERT(gm_store_has(s, &v.leaf));
	ASSERT(gm_store_has(s, &v.empty));
	ASSERT(gm_store_is_pinned(s, &v.dir));
	ASSERT(gm_store_is_pinned(s, &v.empty));
	ASSERT(!gm_store_is_pinned(s, &v.leaf));

	{
		char *path = gm_path_join(gm_test_tmpdir(), "a.car");

		ASSERT_OK(gm_car_import_path(s, path, 0, &r, NULL));
		gm_free(path);
	}
	ASSERT_EQ(r.info.blocks, 3);
	ASSERT_EQ(r.new_blocks, 0);
	ASSERT_EQ(r.new_bytes, 0);
	gm_store_close(s);
}

TEST(failed_import_leaves_the_store_as_it_was)
{
	struct gm_store *s = open_store("st");
	struct gm_car_import_result r;
	struct gm_car_block blk[4], vb[3];
	struct gm_cid pre, fresh;
	struct gm_diag d;
	struct gm_buf b;
	struct vec v;
	int fd, count = 0;

	make_vec(&v);
	/* The store holds leaf (also in the CAR) and another block. */
	ASSERT_OK(gm_store_put(s, &v.leaf, (const uint8_t *)"hello world\n", 12,
			       NULL, NULL));
	ASSERT_OK(
	    gm_cid_sha256(&pre, 1, GM_CODEC_RAW, (const uint8_t *)"before", 6));
	ASSERT_OK(
	    gm_store_put(s, &pre, (const uint8_t *)"before", 6, NULL, NULL));
	ASSERT_OK(gm_cid_sha256(&fresh, 1, GM_CODEC_RAW,
				(const uint8_t *)"fresh", 5));
	/* CAR: leaf (present), dir (new), fresh (new), empty (tampered). */
	vec_blocks(&v, vb);
	blk[0] = vb[1];
	blk[1] = vb[0];
	blk[2].cid = fresh;
	blk[2].data = (const uint8_t *)"fresh";
	blk[2].len = 5;
	blk[3] = vb[2];
	blk[3].data = (const uint8_t *)"\x0a\x02\x08\x02";
	gm_buf_init(&b, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_car_write_buf(&b, &v.dir, 1, blk, 4, NULL));
	fd = write_tmp("bad.car", b.data, b.len);
	gm_buf_release(&b);

	gm_diag_clear(&d);
	ASSERT_ERR(gm_car_import(s, fd, GM_CAR_IMPORT_PIN_ROOTS, &r, &d),
		   GM_EINTEGRITY);
	close(fd);
	ASSERT(strstr(d.msg, EMPTY_CID) != NULL);
	ASSERT(strstr(d.msg, "nothing was imported") != NULL);
	ASSERT(gm_store_has(s, &v.leaf));
	ASSERT(gm_store_has(s, &pre));
	ASSERT(!gm_store_has(s, &v.dir));
	ASSERT(!gm_store_has(s, &fresh));
	ASSERT(!gm_store_has(s, &v.empty));
	ASSERT(!gm_store_is_pinned(s, &v.dir));
	ASSERT_OK(gm_store_iterate(s, count_block, &count, NULL));
	ASSERT_EQ(count, 2);
	gm_store_close(s);
}

/* Stores a dag-pb node over links; returns its CID. */
static void put_node(struct gm_store *s, const struct gm_cid *links, size_t n,
		     struct gm_cid *out)
{
	struct gm_dagpb_link l[4];
	struct gm_dagpb_node node;
	struct gm_buf b;
	size_t i;

	memset(&node, 0, sizeof(node));
	memset(l, 0, sizeof(l));
	for (i = 0; i < n; i++)
		l[i].cid = links[i];
	node.links = l;
	node.n_links = n;
	node.data = (const uint8_t *)"\x08\x01";
	node.data_len = 2;
	node.has_data = true;
	gm_buf_init(&b, GM_BLOCK_MAX);
	ASSERT_OK(gm_dagpb_encode(&node, &b));
	ASSERT_OK(gm_cid_sha256(out, 1, GM_CODEC_DAG_PB, b.data, b.len));
	ASSERT_OK(gm_store_put(s, out, b.data, b.len, NULL, NULL));
	gm_buf_release(&b);
}

static void put_raw(struct gm_store *s, const char *t, struct gm_cid *c)
{
	ASSERT_OK(
	    gm_cid_sha256(c, 1, GM_CODEC_RAW, (const uint8_t *)t, strlen(t)));
	ASSERT_OK(
	    gm_store_put(s, c, (const uint8_t *)t, strlen(t), NULL, NULL));
}

TEST(export_walks_depth_first_preorder_once_each)
{
	struct gm_store *s = open_store("st");
	struct gm_car_export_result r;
	struct gm_block_source src;
	struct gm_car_info info;
	struct gm_cid a, b, c, n1, n2, root, l[3];
	struct memsink m;
	struct gm_block_sink sink = {mem_put, &m};
	struct gm_diag d;
	struct gm_buf out;
	char text[GM_CID_MAX_STR];

	put_raw(s, "a", &a);
	put_raw(s, "b", &b);
	put_raw(s, "c", &c);
	l[0] = a;
	l[1] = b;
	put_node(s, l, 2, &n1); /* n1 -> a, b */
	l[0] = b;
	l[1] = c;
	put_node(s, l, 2, &n2); /* n2 -> b, c */
	l[0] = n1;
	l[1] = n2;
	l[2] = a;
	put_node(s, l, 3, &root); /* root -> n1, n2, a */
	gm_store_source(s, &src);
	gm_buf_init(&out, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_car_export_buf(&src, &root, &out, &r, NULL));
	ASSERT_EQ(r.blocks, 6);
	ASSERT_EQ(r.size, out.len);

	memset(&m, 0, sizeof(m));
	ASSERT_OK(gm_car_read_mem(out.data, out.len, &sink, &info, NULL));
	ASSERT_EQ(info.n_roots, 1);
	ASSERT(gm_cid_equal(&info.roots[0], &root));
	ASSERT_EQ(m.n, 6);
	ASSERT(gm_cid_equal(&m.blk[0].cid, &root));
	ASSERT(gm_cid_equal(&m.blk[1].cid, &n1));
	ASSERT(gm_cid_equal(&m.blk[2].cid, &a));
	ASSERT(gm_cid_equal(&m.blk[3].cid, &b));
	ASSERT(gm_cid_equal(&m.blk[4].cid, &n2));
	ASSERT(gm_cid_equal(&m.blk[5].cid, &c));
	ASSERT_EQ(info.bytes, r.bytes);
	mem_release(&m);

	/* A missing block is named. */
	ASSERT_OK(gm_store_delete(s, &c, NULL));
	gm_buf_reset(&out);
	gm_diag_clear(&d);
	ASSERT_ERR(gm_car_export_buf(&src, &root, &out, &r, &d), GM_ENOENT);
	gm_cid_format(&c, text, sizeof(text));
	ASSERT(strstr(d.msg, text) != NULL);
	gm_buf_release(&out);
	gm_store_close(s);
}

TEST(export_to_fd_reimports_identically)
{
	struct gm_store *s = open_store("st"), *s2 = open_store("st2");
	struct gm_car_export_result r;
	struct gm_car_import_result ir;
	struct gm_block_source src;
	struct gm_buf a, b;
	uint8_t car[512];
	char *path;
	size_t n;
	int fd;

	n = unhex(CAR1_HEX, car, sizeof(car));
	fd = write_tmp("in.car", car, n);
	ASSERT_OK(gm_car_import(s, fd, 0, &ir, NULL));
	close(fd);
	gm_store_source(s, &src);
	path = gm_path_join(gm_test_tmpdir(), "out.car");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ASSERT(fd >= 0);
	ASSERT_OK(gm_car_export_fd(&src, &ir.info.roots[0], fd, &r, NULL));
	close(fd);
	gm_buf_init(&a, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_fs_read_file(path, &a, NULL));
	ASSERT_EQ(a.len, n);
	ASSERT_MEMEQ(a.data, car, n);
	ASSERT_OK(gm_car_import_path(s2, path, 0, &ir, NULL));
	ASSERT_EQ(ir.new_blocks, 2);
	gm_store_source(s2, &src);
	gm_buf_init(&b, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_car_export_buf(&src, &ir.info.roots[0], &b, NULL, NULL));
	ASSERT_EQ(b.len, a.len);
	ASSERT_MEMEQ(b.data, a.data, a.len);
	gm_buf_release(&a);
	gm_buf_release(&b);
	gm_free(path);
	gm_store_close(s2);
	gm_store_close(s);
}

TEST(oom_read_import_export)
{
	struct gm_store *s = open_store("st");
	struct gm_car_import_result r;
	struct gm_block_source src;
	struct gm_car_info info;
	struct vec v;
	uint8_t car[512];
	struct gm_buf out;
	unsigned long k;
	size_t n;
	gm_err e;
	int fd;

	make_vec(&v);
	n = unhex(CAR2_HEX, car, sizeof(car));
	for (k = 1;; k++) {
		gm_alloc_fail_after(k);
		e = gm_car_read_mem(car, n, NULL, &info, NULL);
		gm_alloc_fail_after(0);
		if (!e)
			break;
		ASSERT_ERR(e, GM_ENOMEM);
	}
	ASSERT(k > 1);
	fd = write_tmp("a.car", car, n);
	for (k = 1;; k++) {
		int count = 0;

		ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
		gm_alloc_fail_after(k);
		e = gm_car_import(s, fd, GM_CAR_IMPORT_PIN_ROOTS, &r, NULL);
		gm_alloc_fail_after(0);
		if (!e)
			break;
		ASSERT_ERR(e, GM_ENOMEM);
		/* Nothing stays, unless the failure was in pinning. */
		ASSERT_OK(gm_store_iterate(s, count_block, &count, NULL));
		ASSERT(count == 0 || count == 3);
	}
	close(fd);
	ASSERT_EQ(r.info.blocks, 3);
	gm_store_source(s, &src);
	gm_buf_init(&out, GM_BUF_UNLIMITED);
	for (k = 1;; k++) {
		gm_buf_reset(&out);
		gm_alloc_fail_after(k);
		e = gm_car_export_buf(&src, &v.dir, &out, NULL, NULL);
		gm_alloc_fail_after(0);
		if (!e)
			break;
		ASSERT_ERR(e, GM_ENOMEM);
	}
	n = unhex(CAR1_HEX, car, sizeof(car));
	ASSERT_EQ(out.len, n);
	ASSERT_MEMEQ(out.data, car, n);
	gm_buf_release(&out);
	gm_store_close(s);
}

/* gm_dag_walk: shared seen set across roots, bad blocks skipped or not. */
static gm_err count_visit(void *ctx, const struct gm_cid *cid,
			  const uint8_t *data, size_t len)
{
	(void)cid;
	(void)data;
	(void)len;
	(*(int *)ctx)++;
	return GM_OK;
}

static gm_err none_get(void *ctx, const struct gm_cid *cid, struct gm_buf *out)
{
	(void)ctx;
	(void)cid;
	(void)out;
	return GM_ENOENT;
}

TEST(dag_walk_missing_blocks_and_shared_seen_set)
{
	struct gm_block_source src = {none_get, NULL};
	struct gm_cidset seen;
	struct gm_cid a, id;
	struct gm_diag d;
	int n = 0;

	ASSERT_OK(gm_cid_sha256(&a, 1, GM_CODEC_RAW, (const uint8_t *)"a", 1));
	/* an identity CID is served from itself */
	memset(&id, 0, sizeof(id));
	id.version = 1;
	id.codec = GM_CODEC_RAW;
	id.mh_code = GM_MH_IDENTITY;
	id.digest_len = 2;
	memcpy(id.digest, "hi", 2);
	gm_diag_clear(&d);
	ASSERT_ERR(gm_dag_walk(&src, &a, 1, NULL, 0, count_visit, &n, &d),
		   GM_ENOENT);
	ASSERT(strstr(d.msg, "not available") != NULL);
	ASSERT_OK(gm_dag_walk(&src, &a, 1, NULL, GM_DAG_SKIP_BAD, count_visit,
			      &n, &d));
	ASSERT_EQ(n, 0);
	gm_cidset_init(&seen);
	ASSERT_OK(gm_dag_walk(&src, &id, 1, &seen, 0, count_visit, &n, &d));
	ASSERT_OK(gm_dag_walk(&src, &id, 1, &seen, 0, count_visit, &n, &d));
	ASSERT_EQ(n, 1); /* the second walk saw it already */
	ASSERT(gm_cidset_has(&seen, &id));
	ASSERT(!gm_cidset_has(&seen, &a));
	gm_cidset_release(&seen);
}
