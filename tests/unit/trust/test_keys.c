/*
 * test_keys.c - Ed25519 keys, fingerprints and key files.
 *
 * The key vector is RFC 8032 section 7.1 test 1; its fingerprint was
 * computed independently (python3: base64 of hashlib.sha256(pk)).
 */
#include "harness.h"

#include "gm/buf.h"
#include "gm/fs.h"
#include "gm/keys.h"

static const uint8_t rfc_seed[32] = {
    0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
    0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
    0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
};
static const uint8_t rfc_pk[32] = {
    0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
    0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
    0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
};
#define RFC_FPR "SHA256:If4x36FUomFia/hUBG/SJxt77UtqvkWqWId+9H+XIbk"
#define RFC_SEED_B64 "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="
#define RFC_PK_B64 "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

static char *keys_dir(void)
{
	return gm_path_join(gm_test_tmpdir(), "home/keys");
}

static void write_file(const char *path, const char *text, unsigned mode)
{
	struct gm_diag d;

	ASSERT_OK(gm_fs_write_atomic(path, text, strlen(text), mode, &d));
	ASSERT_EQ(chmod(path, mode), 0);
}

static void read_text(const char *path, struct gm_buf *b)
{
	gm_buf_init(b, 1 << 16);
	ASSERT_OK(gm_fs_read_file(path, b, NULL));
	ASSERT_OK(gm_buf_append_byte(b, 0));
}

TEST(seed_gives_rfc8032_key_and_fingerprint)
{
	struct gm_key k;
	char fpr[GM_KEY_FPR_MAX], sh[GM_KEY_FPR_SHORT_MAX];
	uint8_t sig[64];
	static const uint8_t want_sig0[8] = {0xe5, 0x56, 0x43, 0x00,
					     0xc3, 0x60, 0xac, 0x72};

	ASSERT_OK(gm_key_from_seed(&k, "acme", rfc_seed, 7, NULL));
	ASSERT_MEMEQ(k.pk, rfc_pk, 32);
	ASSERT(k.has_secret);
	ASSERT_STREQ(k.handle, "acme");
	gm_key_fingerprint(k.pk, fpr);
	ASSERT_STREQ(fpr, RFC_FPR);
	gm_key_fingerprint_short(k.pk, sh);
	ASSERT_STREQ(sh, "If4x36FUomFia/hU");
	/* RFC 8032 test 1 signs the empty message. */
	ASSERT_OK(gm_key_sign(&k, (const uint8_t *)"", 0, sig));
	ASSERT_MEMEQ(sig, want_sig0, 8);
	ASSERT(gm_key_verify(k.pk, (const uint8_t *)"", 0, sig));
	sig[5] ^= 1;
	ASSERT(!gm_key_verify(k.pk, (const uint8_t *)"", 0, sig));
	gm_key_release(&k);
	ASSERT(!k.has_secret);
	ASSERT_ERR(gm_key_sign(&k, (const uint8_t *)"", 0, sig), GM_EINVAL);
}

TEST(bad_handles_are_refused)
{
	struct gm_key k;
	struct gm_diag d;

	ASSERT_ERR(gm_key_from_seed(&k, "Acme", rfc_seed, 0, &d), GM_EINVAL);
	ASSERT(strstr(d.msg, "invalid handle 'Acme'"));
	ASSERT_ERR(gm_key_generate(&k, "", 0, &d), GM_EINVAL);
	ASSERT_ERR(gm_key_generate(&k, "a/b", 0, &d), GM_EINVAL);
	ASSERT(gm_handle_valid("acme-co_2"));
	ASSERT(!gm_handle_valid("-acme"));
}

TEST(generate_save_load_unsealed)
{
	char *dir = keys_dir(), *path;
	struct gm_key k, l;
	struct gm_diag d;
	struct gm_buf b;
	struct stat st;

	ASSERT_OK(gm_key_generate(&k, "acme", 1700000000, &d));
	ASSERT_OK(gm_key_save(dir, &k, NULL, &d));
	path = gm_key_path(dir, "acme");
	ASSERT_EQ(stat(path, &st), 0);
	ASSERT_EQ(st.st_mode & 0777, 0600);
	ASSERT_EQ(stat(dir, &st), 0);
	ASSERT_EQ(st.st_mode & 0777, 0700);
	read_text(path, &b);
	ASSERT(strstr((char *)b.data, "format = \"ggen-key-v1\"\n"));
	ASSERT(strstr((char *)b.data, "handle = \"acme\"\n"));
	ASSERT(strstr((char *)b.data, "created = 1700000000\n"));
	ASSERT(strstr((char *)b.data, "secret = \""));
	ASSERT(!strstr((char *)b.data, "[sealed]"));
	gm_buf_release(&b);
	ASSERT_OK(gm_key_load(&l, dir, "acme", NULL, &d));
	ASSERT_MEMEQ(l.pk, k.pk, 32);
	ASSERT_MEMEQ(l.sk, k.sk, 64);
	ASSERT_EQ(l.created, 1700000000);
	ASSERT(!l.sealed);
	ASSERT_ERR(gm_key_save(dir, &k, NULL, &d), GM_EEXIST);
	ASSERT(strstr(d.msg, "key rotate acme"));
	ASSERT_ERR(gm_key_load(&l, dir, "other", NULL, &d), GM_ENOENT);
	ASSERT(strstr(d.msg, "key new other"));
	gm_key_release(&k);
	gm_key_release(&l);
	gm_free(path);
	gm_free(dir);
}

TEST(seed_file_has_exact_layout)
{
	char *path = gm_path_join(gm_test_tmpdir(), "acme.key");
	struct gm_key k, pub;
	struct gm_buf b;

	ASSERT_OK(gm_key_from_seed(&k, "acme", rfc_seed, 42, NULL));
	ASSERT_OK(gm_key_save_file(path, &k, NULL, NULL));
	read_text(path, &b);
	ASSERT_STREQ((char *)b.data,
		     "# ggen signing key: keep this file secret (mode 0600)\n"
		     "format = \"ggen-key-v1\"\n"
		     "handle = \"acme\"\n"
		     "public = \"" RFC_PK_B64 "\"\n"
		     "created = 42\n"
		     "secret = \"" RFC_SEED_B64 "\"\n");
	gm_buf_release(&b);
	ASSERT_OK(gm_key_load_public(&pub, path, NULL));
	ASSERT(!pub.has_secret);
	ASSERT_MEMEQ(pub.pk, rfc_pk, 32);
	gm_key_release(&k);
	gm_free(path);
}

TEST(sealed_round_trip_and_wrong_passphrase)
{
	char *dir = keys_dir(), *path;
	struct gm_key k, l;
	struct gm_diag d;
	struct gm_buf b;

	ASSERT_OK(gm_key_from_seed(&k, "acme", rfc_seed, 5, &d));
	ASSERT_OK(gm_key_save(dir, &k, "correct horse", &d));
	path = gm_key_path(dir, "acme");
	read_text(path, &b);
	ASSERT(strstr((char *)b.data, "[sealed]\nkdf = \"argon2id13\"\n"));
	ASSERT(!strstr((char *)b.data, RFC_SEED_B64));
	ASSERT(!strstr((char *)b.data, "secret ="));
	gm_buf_release(&b);
	ASSERT_OK(gm_key_load(&l, dir, "acme", "correct horse", &d));
	ASSERT_MEMEQ(l.sk, k.sk, 64);
	ASSERT(l.sealed);
	gm_key_release(&l);
	ASSERT_ERR(gm_key_load(&l, dir, "acme", "wrong horse", &d), GM_EPERM);
	ASSERT_STREQ(d.msg, "wrong passphrase for key 'acme'");
	ASSERT(!l.has_secret);
	ASSERT_ERR(gm_key_load(&l, dir, "acme", NULL, &d), GM_EPERM);
	ASSERT(strstr(d.msg, "sealed"));
	ASSERT(strstr(d.msg, "GGEN_PASSPHRASE"));
	/* The public part needs no passphrase. */
	ASSERT_OK(gm_key_load_public(&l, path, &d));
	ASSERT_MEMEQ(l.pk, rfc_pk, 32);
	ASSERT(l.sealed && !l.has_secret);
	ASSERT_ERR(gm_key_save_file(path, &k, "", &d), GM_EINVAL);
	gm_key_release(&k);
	gm_free(path);
	gm_free(dir);
}

TEST(group_or_other_bits_are_refused)
{
	char *path = gm_path_join(gm_test_tmpdir(), "acme.key");
	struct gm_key k;
	struct gm_diag d;
	char want[600];

	ASSERT_OK(gm_key_from_seed(&k, "acme", rfc_seed, 5, &d));
	ASSERT_OK(gm_key_save_file(path, &k, NULL, &d));
	gm_key_release(&k);
	ASSERT_EQ(chmod(path, 0640), 0);
	ASSERT_ERR(gm_key_load_file(&k, path, NULL, &d), GM_EPERM);
	snprintf(want, sizeof(want), "chmod 600 %s", path);
	ASSERT(strstr(d.msg, want));
	ASSERT_EQ(chmod(path, 0604), 0);
	ASSERT_ERR(gm_key_load_public(&k, path, &d), GM_EPERM);
	ASSERT_EQ(chmod(path, 0600), 0);
	ASSERT_OK(gm_key_load_file(&k, path, NULL, &d));
	gm_key_release(&k);
	gm_free(path);
}

TEST(symlinked_key_file_is_refused)
{
	char *path = gm_path_join(gm_test_tmpdir(), "real.key");
	char *link = gm_path_join(gm_test_tmpdir(), "link.key");
	struct gm_key k;
	struct gm_diag d;

	ASSERT_OK(gm_key_from_seed(&k, "acme", rfc_seed, 5, &d));
	ASSERT_OK(gm_key_save_file(path, &k, NULL, &d));
	ASSERT_EQ(symlink(path, link), 0);
	ASSERT_ERR(gm_key_load_file(&k, link, NULL, &d), GM_EPERM);
	ASSERT(strstr(d.msg, "symbolic link"));
	gm_free(path);
	gm_free(link);
}

static void expect_bad(const char *text, gm_err want, const char *needle,
		       uint32_t line)
{
	char *path = gm_path_join(gm_test_tmpdir(), "bad.key");
	struct gm_key k;
	struct gm_diag d;

	write_file(path, text, 0600);
	gm_diag_clear(&d);
	ASSERT_ERR(gm_key_load_file(&k, path, NULL, &d), want);
	if (!strstr(d.msg, needle))
		gm_test_fail(__FILE__, __LINE__, "diag '%s' lacks '%s'", d.msg,
			     needle);
	if (line)
		ASSERT_EQ(d.line, line);
	ASSERT(strstr(d.msg, path));
	gm_free(path);
}

#define GOOD_HEAD                                                              \
	"format = \"ggen-key-v1\"\nhandle = \"acme\"\npublic = \"" RFC_PK_B64  \
	"\"\ncreated = 1\n"

TEST(malformed_key_files_name_line_and_column)
{
	expect_bad(GOOD_HEAD "secret = \"" RFC_SEED_B64 "\"\ncolour = 1\n",
		   GM_EFORMAT, "unknown key 'colour'", 6);
	expect_bad(GOOD_HEAD "secret = \"" RFC_SEED_B64 "\nx", GM_EPARSE,
		   "at 5:", 5);
	expect_bad(GOOD_HEAD, GM_EFORMAT, "exactly one", 0);
	expect_bad(GOOD_HEAD "secret = \"" RFC_SEED_B64 "\"\n[sealed]\n",
		   GM_EFORMAT, "exactly one", 0);
	expect_bad(GOOD_HEAD "secret = \"AAAA\"\n", GM_EFORMAT,
		   "'secret' must be base64 of 32 bytes", 5);
	expect_bad(GOOD_HEAD "secret = 12\n", GM_EFORMAT,
		   "'secret' must be a string", 5);
	expect_bad("format = \"ggen-key-v9\"\n", GM_EUNSUPPORTED,
		   "unsupported format", 1);
	expect_bad("format = \"ggen-key-v1\"\nhandle = \"Acme\"\n", GM_EFORMAT,
		   "invalid handle", 2);
	expect_bad("format = \"ggen-key-v1\"\nhandle = \"acme\"\n", GM_EFORMAT,
		   "missing key 'public'", 0);
	expect_bad(GOOD_HEAD "[sealed]\nkdf = \"scrypt\"\n", GM_EUNSUPPORTED,
		   "unsupported kdf", 6);
	expect_bad(GOOD_HEAD "[sealed]\nkdf = \"argon2id13\"\nopslimit = 99\n"
			     "memlimit = 67108864\n",
		   GM_ELIMIT, "opslimit", 7);
	expect_bad(GOOD_HEAD "[sealed]\nkdf = \"argon2id13\"\nopslimit = 2\n"
			     "memlimit = 99999999999\n",
		   GM_ELIMIT, "memlimit", 8);
	expect_bad(GOOD_HEAD "[sealed]\nkdf = \"argon2id13\"\nopslimit = 2\n"
			     "memlimit = 67108864\nsalt = \"AAAA\"\n",
		   GM_EFORMAT, "'salt' must be base64 of 16 bytes", 9);
	/* A secret that is not the public key's. */
	expect_bad(GOOD_HEAD
		   "secret = "
		   "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"\n",
		   GM_ECORRUPT, "does not match", 0);
	expect_bad(GOOD_HEAD "created = 2\n", GM_EPARSE, "", 5);
	expect_bad(GOOD_HEAD "created2 = -1\n", GM_EFORMAT, "unknown key", 5);
}

TEST(oversized_key_file_is_refused)
{
	char *path = gm_path_join(gm_test_tmpdir(), "big.key");
	char *text = gm_malloc(GM_KEY_FILE_MAX + 100);
	struct gm_key k;
	struct gm_diag d;

	memset(text, '#', GM_KEY_FILE_MAX + 99);
	text[GM_KEY_FILE_MAX + 99] = 0;
	write_file(path, text, 0600);
	ASSERT_ERR(gm_key_load_file(&k, path, NULL, &d), GM_ELIMIT);
	ASSERT(strstr(d.msg, "larger than"));
	gm_free(text);
	gm_free(path);
}

TEST(key_from_environment)
{
	struct gm_key k;
	struct gm_diag d;

	unsetenv(GM_KEY_ENV);
	ASSERT_ERR(gm_key_from_env(&k, "acme", &d), GM_ENOENT);
	ASSERT(strstr(d.msg, "GGEN_SIGNING_KEY"));
	setenv(GM_KEY_ENV, RFC_SEED_B64 "\n", 1);
	ASSERT_OK(gm_key_from_env(&k, "ci-bot", &d));
	ASSERT_MEMEQ(k.pk, rfc_pk, 32);
	ASSERT_STREQ(k.handle, "ci-bot");
	ASSERT(k.has_secret);
	gm_key_release(&k);
	/* Unpadded works too. */
	ASSERT_OK(gm_key_from_base64_seed(
	    &k, "acme", "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A", &d));
	ASSERT_MEMEQ(k.pk, rfc_pk, 32);
	setenv(GM_KEY_ENV, "not base64!", 1);
	ASSERT_ERR(gm_key_from_env(&k, "acme", &d), GM_EFORMAT);
	ASSERT(strstr(d.msg, "32-byte"));
	setenv(GM_KEY_ENV, "AAAA", 1);
	ASSERT_ERR(gm_key_from_env(&k, "acme", &d), GM_EFORMAT);
	setenv(GM_KEY_ENV, RFC_SEED_B64, 1);
	ASSERT_ERR(gm_key_from_env(&k, "Bad Handle", &d), GM_EINVAL);
}

TEST(rotate_keeps_old_file_and_lists_current)
{
	char *dir = keys_dir(), *path, *old;
	struct gm_key k, o, n, l, *list;
	size_t count;
	struct gm_diag d;
	struct stat st;

	ASSERT_OK(gm_key_from_seed(&k, "acme", rfc_seed, 5, &d));
	ASSERT_OK(gm_key_save(dir, &k, NULL, &d));
	ASSERT_OK(gm_key_generate(&l, "beta", 6, &d));
	ASSERT_OK(gm_key_save(dir, &l, "pw", &d));
	ASSERT_OK(gm_key_rotate(dir, "acme", NULL, "new pw", 9, &o, &n, &d));
	ASSERT_MEMEQ(o.pk, rfc_pk, 32);
	ASSERT(o.has_secret && n.has_secret);
	ASSERT(memcmp(n.pk, rfc_pk, 32) != 0);
	ASSERT_EQ(n.created, 9);
	/* '/' of the base64 short fingerprint becomes '_'. */
	old = gm_path_join(dir, "acme.key.old-If4x36FUomFia_hU");
	ASSERT_EQ(stat(old, &st), 0);
	ASSERT_EQ(st.st_mode & 0777, 0600);
	gm_key_release(&k);
	ASSERT_OK(gm_key_load_file(&k, old, NULL, &d));
	ASSERT_MEMEQ(k.pk, rfc_pk, 32);
	gm_key_release(&k);
	ASSERT_OK(gm_key_load(&k, dir, "acme", "new pw", &d));
	ASSERT_MEMEQ(k.pk, n.pk, 32);
	ASSERT_OK(gm_key_list(dir, &list, &count, &d));
	ASSERT_EQ(count, 2);
	ASSERT_STREQ(list[0].handle, "acme");
	ASSERT_MEMEQ(list[0].pk, n.pk, 32);
	ASSERT(list[0].sealed && !list[0].has_secret);
	ASSERT_STREQ(list[1].handle, "beta");
	ASSERT_MEMEQ(list[1].pk, l.pk, 32);
	gm_free(list);
	/* Rotating with the wrong passphrase changes nothing. */
	ASSERT_ERR(gm_key_rotate(dir, "acme", "bad", NULL, 10, &o, &n, &d),
		   GM_EPERM);
	path = gm_key_path(dir, "acme");
	ASSERT_OK(gm_key_load(&l, dir, "acme", "new pw", &d));
	ASSERT_MEMEQ(l.pk, k.pk, 32);
	gm_key_release(&k);
	gm_key_release(&l);
	gm_free(path);
	gm_free(old);
	gm_free(dir);
}

TEST(list_of_missing_folder_is_empty)
{
	char *dir = keys_dir();
	struct gm_key *list = (struct gm_key *)1;
	size_t n = 9;

	ASSERT_OK(gm_key_list(dir, &list, &n, NULL));
	ASSERT_EQ(n, 0);
	ASSERT(list == NULL);
	gm_free(dir);
}

TEST(mark_revoked_keeps_sealed_fields)
{
	char *dir = keys_dir(), *path;
	struct gm_key k, l;
	struct gm_diag d;

	ASSERT_OK(gm_key_from_seed(&k, "acme", rfc_seed, 5, &d));
	ASSERT_OK(gm_key_save(dir, &k, "pw", &d));
	path = gm_key_path(dir, "acme");
	ASSERT_OK(gm_key_mark_revoked(path, 1234, &d));
	ASSERT_OK(gm_key_mark_revoked(path, 9999, &d));
	ASSERT_OK(gm_key_load(&l, dir, "acme", "pw", &d));
	ASSERT_EQ(l.revoked, 1234);
	ASSERT_MEMEQ(l.sk, k.sk, 64);
	gm_key_release(&k);
	gm_key_release(&l);
	gm_free(path);
	gm_free(dir);
}

TEST(load_out_of_memory_is_clean)
{
	char *dir = keys_dir();
	struct gm_key k;
	unsigned long n;
	gm_err e;

	ASSERT_OK(gm_key_from_seed(&k, "acme", rfc_seed, 5, NULL));
	ASSERT_OK(gm_key_save(dir, &k, NULL, NULL));
	gm_key_release(&k);
	for (n = 1;; n++) {
		gm_alloc_fail_after(n);
		e = gm_key_load(&k, dir, "acme", NULL, NULL);
		gm_alloc_fail_after(0);
		if (!e)
			break;
		ASSERT_ERR(e, GM_ENOMEM);
		ASSERT(!k.has_secret);
	}
	ASSERT(n > 3);
	ASSERT_MEMEQ(k.pk, rfc_pk, 32);
	gm_key_release(&k);
	for (n = 1;; n++) {
		struct gm_key *list;
		size_t count;

		gm_alloc_fail_after(n);
		e = gm_key_list(dir, &list, &count, NULL);
		gm_alloc_fail_after(0);
		if (!e) {
			ASSERT_EQ(count, 1);
			gm_free(list);
			break;
		}
		ASSERT_ERR(e, GM_ENOMEM);
	}
	gm_free(dir);
}
