/*
 * fuzz_noise.c - the libp2p Noise session fed hostile bytes.
 *
 * Input layout:
 *
 *   | byte | meaning                                                   |
 *   |------|-----------------------------------------------------------|
 *   | 0    | mode, modulo 3 (below)                                    |
 *   | 1    | chunk size (0 means 1) for the second, chunked feed       |
 *   | 2..  | the bytes fed (modes 0, 1) or the payload (mode 2)        |
 *
 * Mode 0 is a fresh responder (fixed injected keys) fed the bytes as
 * handshake messages and then frames; mode 1 is a responder whose
 * handshake with a fixed initiator was done once in the fuzzer's
 * initialization, fed transport frames. All keys are fixed, so a seed made
 * from a real initiator (see below) reaches every state. Mode 2 runs a
 * real handshake in which the initiator's message 3 carries the input as
 * its NoiseHandshakePayload, so the payload decoder sees every input;
 * it runs three times, by a plain responder and twice by one with the
 * host's struct gm_noise_cache (a miss, then a hit for a payload that
 * verified), which must all agree.
 *
 * Invariants checked:
 *   - feeding everything at once and feeding it in chunks give the same
 *     result, the same bytes to send and the same plaintext;
 *   - errors are only GM_EPROTO, GM_ESIGNATURE or GM_ELIMIT;
 *   - when the responder answers message 1, the answer is 202 bytes and the
 *     handshake is done only after a verified message 3, with the remote
 *     key that of the fixed initiator;
 *   - mode 2 succeeds only with the initiator's own signed identity.
 *
 * With GM_FUZZ_NOISE_SEEDS=<folder> in the environment, the initialization
 * writes seed inputs (a whole handshake with data, and transport frames)
 * into that folder; with GM_FUZZ_NOISE_VERBOSE set, each run prints its
 * result.
 */
#include "internal.h"

#include <sodium.h>

#include "gm/noise.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define OUT_LIMIT (1u << 20)

static struct gm_key ki, kr;
static uint8_t is[32], ie[32], rs[32], re[32];
static struct gm_noise_cipher rx_template;
static struct gm_noise_cache rcache; /* the responder's, as a host has */
static bool ready;
static bool verbose; /* GM_FUZZ_NOISE_VERBOSE set: print each result */

static void die(const char *what)
{
	fprintf(stderr, "fuzz_noise: %s\n", what);
	abort();
}

static void write_seed(const char *dir, const char *name, uint8_t mode,
		       const uint8_t *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		die("cannot write a seed");
	fputc(mode, f);
	fputc(7, f);
	if (fwrite(p, 1, n, f) != n)
		die("short seed write");
	fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t seed[32];
	struct gm_noise i, r;
	struct gm_buf a, b, pt, hs, tr;
	const char *dir = getenv("GM_FUZZ_NOISE_SEEDS");
	uint8_t payload[104], payload_ext[110], is_pk[32];
	uint8_t msg[24 + 32];

	verbose = getenv("GM_FUZZ_NOISE_VERBOSE") != NULL;
	memset(seed, 1, 32);
	if (gm_key_from_seed(&ki, "initiator", seed, 0, NULL))
		die("key");
	memset(seed, 2, 32);
	if (gm_key_from_seed(&kr, "responder", seed, 0, NULL))
		die("key");
	memset(is, 3, 32);
	memset(ie, 4, 32);
	memset(rs, 5, 32);
	memset(re, 6, 32);
	if (gm_noise_init(&i, true, &ki, is, ie, NULL) ||
	    gm_noise_init(&r, false, &kr, rs, re, NULL))
		die("init");
	gm_buf_init(&a, OUT_LIMIT);
	gm_buf_init(&b, OUT_LIMIT);
	gm_buf_init(&pt, OUT_LIMIT);
	gm_buf_init(&hs, OUT_LIMIT);
	gm_buf_init(&tr, OUT_LIMIT);
	if (gm_noise_start(&i, &a, NULL) || gm_noise_start(&r, &b, NULL) ||
	    gm_buf_append(&hs, a.data, a.len) ||
	    gm_noise_feed(&r, a.data, a.len, &b, &pt, NULL))
		die("message 1");
	gm_buf_reset(&a);
	if (gm_noise_feed(&i, b.data, b.len, &a, &pt, NULL) ||
	    gm_buf_append(&hs, a.data, a.len) ||
	    gm_noise_feed(&r, a.data, a.len, &b, &pt, NULL) ||
	    !gm_noise_handshake_done(&r))
		die("messages 2 and 3");
	/* The initiator's real payload, as the seeds of mode 2. */
	crypto_scalarmult_curve25519_base(is_pk, is);
	memcpy(msg, GM_NOISE_SIG_PREFIX, 24);
	memcpy(msg + 24, is_pk, 32);
	memcpy(payload, "\x0a\x24\x08\x01\x12\x20", 6);
	memcpy(payload + 6, ki.pk, 32);
	payload[38] = 0x12;
	payload[39] = 64;
	if (gm_key_sign(&ki, msg, sizeof(msg), payload + 40))
		die("sign");
	memcpy(payload_ext, payload, sizeof(payload));
	memcpy(payload_ext + 104, "\x22\x04\x12\x02\x61\x62", 6);
	rx_template = r.rx;
	rx_template.evp = NULL;
	if (gm_noise_write(&i, (const uint8_t *)"hello", 5, &tr, NULL) ||
	    gm_noise_write(&i, (const uint8_t *)"", 0, &tr, NULL) ||
	    gm_noise_write(&i, (const uint8_t *)"noise world", 11, &tr, NULL))
		die("transport");
	if (dir) {
		if (gm_buf_append(&hs, tr.data, tr.len))
			die("seed");
		write_seed(dir, "handshake-and-data", 0, hs.data, hs.len);
		write_seed(dir, "handshake-msg1", 0, hs.data, 34);
		write_seed(dir, "transport-frames", 1, tr.data, tr.len);
		write_seed(dir, "transport-one-frame", 1, tr.data, 23);
		write_seed(dir, "payload-valid", 2, payload, sizeof(payload));
		write_seed(dir, "payload-extension", 2, payload_ext,
			   sizeof(payload_ext));
	}
	gm_noise_release(&i);
	gm_noise_release(&r);
	gm_buf_release(&a);
	gm_buf_release(&b);
	gm_buf_release(&pt);
	gm_buf_release(&hs);
	gm_buf_release(&tr);
	if (gm_noise_cache_init(&rcache, &kr, rs, NULL))
		die("cache");
	ready = true;
	return 0;
}

struct result {
	gm_err e;
	struct gm_buf send, pt;
	bool done;
	uint8_t remote[32];
};

static void run(uint8_t mode, size_t chunk, const uint8_t *p, size_t n,
		struct result *res)
{
	struct gm_noise s;
	size_t off = 0, k;

	gm_buf_init(&res->send, OUT_LIMIT);
	gm_buf_init(&res->pt, OUT_LIMIT);
	res->done = false;
	if (gm_noise_init(&s, false, &kr, rs, re, NULL))
		die("init");
	if (mode) {
		s.started = true;
		s.done = true;
		s.hs.msgs = 3;
		s.rx = rx_template;
		if (gm_noise_cipher_use_evp(&s.rx, NULL))
			die("evp");
	} else if (gm_noise_start(&s, &res->send, NULL)) {
		die("start");
	}
	res->e = GM_OK;
	while (off < n && !res->e) {
		k = chunk ? (n - off < chunk ? n - off : chunk) : n - off;
		res->e =
		    gm_noise_feed(&s, p + off, k, &res->send, &res->pt, NULL);
		off += k;
		/* After answering message 1 the reply is exactly 202 bytes. */
		if (!mode && s.hs.msgs >= 2 && res->send.len != 202)
			die("message 2 has the wrong size");
	}
	if (res->e != GM_OK && res->e != GM_EPROTO && res->e != GM_ESIGNATURE &&
	    res->e != GM_ELIMIT)
		die("undocumented error");
	if (verbose)
		fprintf(stderr,
			"fuzz_noise: mode %u: %s, %zu plaintext bytes\n", mode,
			gm_errname(res->e), res->pt.len);
	if (gm_noise_handshake_done(&s)) {
		res->done = true;
		memcpy(res->remote, gm_noise_remote_key(&s), 32);
		if (!mode && memcmp(res->remote, ki.pk, 32) != 0)
			die("handshake done with an unknown identity");
	} else if (gm_noise_remote_key(&s)) {
		die("remote key before the handshake is done");
	}
	gm_noise_release(&s);
}

/*
 * Mode 2: a real handshake whose message 3 carries payload p; the
 * responder uses cache when not NULL. Returns the result of message 3.
 */
static gm_err run_payload(const uint8_t *p, size_t n,
			  struct gm_noise_cache *cache)
{
	struct gm_noise_hs hi;
	struct gm_noise r;
	struct gm_buf a, b, pt;
	gm_err e;

	if (n > 60000)
		return GM_OK;
	gm_buf_init(&a, OUT_LIMIT);
	gm_buf_init(&b, OUT_LIMIT);
	gm_buf_init(&pt, OUT_LIMIT);
	if (gm_noise_hs_init(&hi, true, NULL, 0, is, ie, NULL) ||
	    (cache ? gm_noise_init_cached(&r, false, cache, re, NULL) :
		     gm_noise_init(&r, false, &kr, rs, re, NULL)) ||
	    gm_noise_start(&r, &b, NULL) || gm_buf_append(&a, "\0\0", 2) ||
	    gm_noise_hs_write(&hi, NULL, 0, &a, NULL))
		die("mode 2 message 1");
	a.data[1] = 32;
	if (gm_noise_feed(&r, a.data, a.len, &b, &pt, NULL) || b.len != 202 ||
	    gm_noise_hs_read(&hi, b.data + 2, b.len - 2, &pt, NULL))
		die("mode 2 message 2");
	gm_buf_reset(&a);
	if (gm_buf_append(&a, "\0\0", 2) ||
	    gm_noise_hs_write(&hi, p, n, &a, NULL))
		die("mode 2 message 3");
	a.data[0] = (uint8_t)((a.len - 2) >> 8);
	a.data[1] = (uint8_t)(a.len - 2);
	gm_buf_reset(&b);
	e = gm_noise_feed(&r, a.data, a.len, &b, &pt, NULL);
	if (verbose)
		fprintf(stderr, "fuzz_noise: mode 2: %s\n", gm_errname(e));
	if (e != GM_OK && e != GM_EPROTO && e != GM_ESIGNATURE)
		die("mode 2: undocumented error");
	if (!e != gm_noise_handshake_done(&r))
		die("mode 2: done state disagrees with the result");
	if (!e && memcmp(gm_noise_remote_key(&r), ki.pk, 32) != 0)
		die("mode 2: accepted an identity that did not sign");
	gm_noise_hs_release(&hi);
	gm_noise_release(&r);
	gm_buf_release(&a);
	gm_buf_release(&b);
	gm_buf_release(&pt);
	return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result whole, parts;
	uint8_t mode;
	size_t chunk;

	if (!ready || size < 2 || size > 300000)
		return 0;
	mode = data[0] % 3;
	if (mode == 2) {
		/* the host's cache must not change any verdict, the first
		 * time (a miss) or the second (a hit if it verified) */
		gm_err plain = run_payload(data + 2, size - 2, NULL);

		if (run_payload(data + 2, size - 2, &rcache) != plain ||
		    run_payload(data + 2, size - 2, &rcache) != plain)
			die("mode 2: the cached responder disagrees");
		return 0;
	}
	chunk = data[1] ? data[1] : 1;
	run(mode, 0, data + 2, size - 2, &whole);
	run(mode, chunk, data + 2, size - 2, &parts);
	if (whole.e != parts.e || whole.done != parts.done ||
	    whole.send.len != parts.send.len || whole.pt.len != parts.pt.len ||
	    (whole.send.len &&
	     memcmp(whole.send.data, parts.send.data, whole.send.len)) ||
	    (whole.pt.len &&
	     memcmp(whole.pt.data, parts.pt.data, whole.pt.len)))
		die("chunked feeding differs from a whole feed");
	gm_buf_release(&whole.send);
	gm_buf_release(&whole.pt);
	gm_buf_release(&parts.send);
	gm_buf_release(&parts.pt);
	return 0;
}
