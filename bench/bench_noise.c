/*
 * bench_noise.c - CPU per side of one libp2p Noise XX handshake, in one
 * process, beside the cost of the curve operations it is made of.
 *
 * Usage: bench_noise [HANDSHAKES]   (default 2000)
 *
 * Two gm_noise sessions (initiator, responder) exchange the three
 * handshake messages through buffers, exactly as gm_host runs them: each
 * side set up from a struct gm_noise_cache (the host's static key and
 * signed payload), checking the other's identity signature. The CPU time
 * (CLOCK_PROCESS_CPUTIME_ID) of each side's calls is summed separately:
 * gm_noise_init_cached, gm_noise_start, every gm_noise_feed, and the
 * transport cipher set-up at the end; the message hand-over in between
 * is not counted.
 *
 *   | run  | what differs                                             |
 *   |------|----------------------------------------------------------|
 *   | cold | a new pair of hosts (identities, static keys) per        |
 *   |      | handshake, made outside the timing: every identity       |
 *   |      | signature is verified                                    |
 *   | warm | the same two hosts every time: the identity signature    |
 *   |      | of a peer seen before is found in the cache              |
 *
 * The components are timed the same way with libsodium directly: X25519
 * base multiplication (a new ephemeral key), X25519 DH, Ed25519 sign and
 * verify. A handshake side does one ephemeral key, three DH and, cold,
 * one verification; the signature is made once per host.
 *
 * Output (one line each):
 *   op x25519_base_us=.. x25519_dh_us=.. ed25519_sign_us=.. ed25519_verify_us=..
 *   handshake cold initiator_us=.. responder_us=.. n=N
 *   handshake warm initiator_us=.. responder_us=.. n=N
 * Exit 1 when a handshake fails or the sides disagree on the keys.
 */
#include "internal.h"

#include <sodium.h>

#include "gm/buf.h"
#include "gm/keys.h"
#include "gm/noise.h"

struct side {
	struct gm_key key;
	struct gm_noise_cache cache;
};

static double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int side_new(struct side *s, uint64_t n)
{
	struct gm_diag d;

	gm_diag_clear(&d);
	if (gm_key_generate(&s->key, "bench", n, &d) ||
	    gm_noise_cache_init(&s->cache, &s->key, NULL, &d)) {
		fprintf(stderr, "bench_noise: key set-up failed: %s\n", d.msg);
		return 1;
	}
	return 0;
}

static void side_free(struct side *s)
{
	gm_noise_cache_release(&s->cache);
	gm_key_release(&s->key);
}

/*
 * One handshake between a (initiator) and b (responder); adds each side's
 * CPU microseconds to *ta and *tb. Returns 0, or 1 on failure.
 */
static int handshake(struct side *a, struct side *b, double *ta, double *tb)
{
	struct gm_noise na, nb;
	struct gm_buf to_b, to_a, pt;
	struct gm_diag d;
	double t;
	int rc = 1, turn;
	gm_err e = GM_OK;

	gm_buf_init(&to_b, 4096);
	gm_buf_init(&to_a, 4096);
	gm_buf_init(&pt, 4096);
	gm_diag_clear(&d);
	t = cpu_us();
	e = gm_noise_init_cached(&na, true, &a->cache, NULL, &d);
	if (!e)
		e = gm_noise_start(&na, &to_b, &d);
	*ta += cpu_us() - t;
	if (e)
		goto out;
	t = cpu_us();
	e = gm_noise_init_cached(&nb, false, &b->cache, NULL, &d);
	if (!e)
		e = gm_noise_start(&nb, &to_a, &d);
	*tb += cpu_us() - t;
	if (e) {
		gm_noise_release(&na);
		goto out;
	}
	/* msg1 a->b, msg2 b->a, msg3 a->b */
	for (turn = 0; turn < 3 && !e; turn++) {
		if (turn % 2 == 0) {
			t = cpu_us();
			e = gm_noise_feed(&nb, to_b.data, to_b.len, &to_a, &pt,
					  &d);
			*tb += cpu_us() - t;
			gm_buf_reset(&to_b);
		} else {
			t = cpu_us();
			e = gm_noise_feed(&na, to_a.data, to_a.len, &to_b, &pt,
					  &d);
			*ta += cpu_us() - t;
			gm_buf_reset(&to_a);
		}
	}
	if (e)
		fprintf(stderr, "bench_noise: handshake failed: %s\n", d.msg);
	else if (!gm_noise_handshake_done(&na) ||
		 !gm_noise_handshake_done(&nb) ||
		 memcmp(na.remote_pk, b->key.pk, 32) ||
		 memcmp(nb.remote_pk, a->key.pk, 32) || pt.len)
		fprintf(stderr, "bench_noise: the sides disagree\n");
	else
		rc = 0;
	gm_noise_release(&na);
	gm_noise_release(&nb);
out:
	if (e && rc)
		fprintf(stderr, "bench_noise: %s\n", d.msg);
	gm_buf_release(&pt);
	gm_buf_release(&to_a);
	gm_buf_release(&to_b);
	return rc;
}

static void ops(long n)
{
	uint8_t sk[32], pk[32], out[32], esk[64], epk[32], sig[64];
	uint8_t msg[56];
	double t, base, dh, sign, verify;
	long i;
	int bad = 0;

	randombytes_buf(sk, sizeof(sk));
	randombytes_buf(msg, sizeof(msg));
	crypto_scalarmult_curve25519_base(pk, sk);
	crypto_sign_keypair(epk, esk);
	t = cpu_us();
	for (i = 0; i < n; i++)
		crypto_scalarmult_curve25519_base(out, sk);
	base = (cpu_us() - t) / (double)n;
	t = cpu_us();
	for (i = 0; i < n; i++)
		bad |= crypto_scalarmult_curve25519(out, sk, pk);
	dh = (cpu_us() - t) / (double)n;
	t = cpu_us();
	for (i = 0; i < n; i++)
		crypto_sign_detached(sig, NULL, msg, sizeof(msg), esk);
	sign = (cpu_us() - t) / (double)n;
	t = cpu_us();
	for (i = 0; i < n; i++)
		bad |= crypto_sign_verify_detached(sig, msg, sizeof(msg), epk);
	verify = (cpu_us() - t) / (double)n;
	printf("op x25519_base_us=%.1f x25519_dh_us=%.1f ed25519_sign_us=%.1f "
	       "ed25519_verify_us=%.1f%s\n", base, dh, sign, verify,
	       bad ? " (an operation failed)" : "");
}

int main(int argc, char **argv)
{
	struct side a, b;
	double ta = 0, tb = 0;
	long n = 2000, i;
	char *end;

	if (argc > 1) {
		errno = 0;
		n = strtol(argv[1], &end, 10);
		if (errno || *end || n < 1 || n > 10000000) {
			fputs("usage: bench_noise [HANDSHAKES]\n", stderr);
			return 2;
		}
	}
	if (sodium_init() < 0)
		return 1;
	ops(n);
	for (i = 0; i < n; i++) {
		if (side_new(&a, (uint64_t)i) || side_new(&b, (uint64_t)i))
			return 1;
		if (handshake(&a, &b, &ta, &tb))
			return 1;
		side_free(&a);
		side_free(&b);
	}
	printf("handshake cold initiator_us=%.1f responder_us=%.1f n=%ld\n",
	       ta / (double)n, tb / (double)n, n);
	if (side_new(&a, 1) || side_new(&b, 2))
		return 1;
	ta = tb = 0;
	for (i = 0; i < n; i++)
		if (handshake(&a, &b, &ta, &tb))
			return 1;
	printf("handshake warm initiator_us=%.1f responder_us=%.1f n=%ld\n",
	       ta / (double)n, tb / (double)n, n);
	side_free(&a);
	side_free(&b);
	return 0;
}
