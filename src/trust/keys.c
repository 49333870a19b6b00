/*
 * keys.c - Ed25519 signing keys and their key files (see gm/keys.h).
 *
 * File layout (TOML, mode 0600, in a folder of mode 0700):
 *
 *   | line                          | when                              |
 *   |-------------------------------|-----------------------------------|
 *   | format = "ggen-key-v1"        | always                            |
 *   | handle = "acme"               | always                            |
 *   | public = "<b64 32 bytes>"     | always                            |
 *   | created = <unix s>            | always                            |
 *   | revoked = <unix s>            | once revoked                      |
 *   | secret = "<b64 seed>"         | unsealed                          |
 *   | [sealed] kdf, opslimit,       | sealed: Argon2id13 key from the   |
 *   |   memlimit, salt, nonce, box  | passphrase opens box = the seed   |
 *
 * Every read goes through read_keyfile(): open without following links,
 * refuse anything but a regular file with no group/other permission bits,
 * read at most GM_KEY_FILE_MAX bytes, parse TOML, check every field, and
 * fill a struct keyfile. Secrets (seed, derived box key, file text) are
 * wiped with sodium_memzero once used. The TOML reader keeps its own copy
 * of an unsealed file's text, which it does not wipe when freed.
 */
#include "internal.h"

#include <dirent.h>
#include <sodium.h>

#include "gm/buf.h"
#include "gm/cid.h"
#include "gm/fs.h"
#include "gm/keys.h"
#include "gm/manifest.h"
#include "gm/toml.h"

#define KEY_FORMAT "ggen-key-v1"
#define KEY_KDF "argon2id13"
#define KEY_SUFFIX ".key"
#define KEY_LIST_MAX 4096
#define BOX_BYTES (GM_KEY_SEED_BYTES + crypto_secretbox_MACBYTES)

/* Everything a key file holds. */
struct keyfile {
	char handle[GM_HANDLE_MAX + 1];
	uint8_t pk[GM_KEY_PUBLIC_BYTES];
	uint64_t created;
	uint64_t revoked;
	bool sealed;
	uint8_t seed[GM_KEY_SEED_BYTES]; /* unsealed */
	uint64_t opslimit;
	uint64_t memlimit;
	uint8_t salt[crypto_pwhash_SALTBYTES];
	uint8_t nonce[crypto_secretbox_NONCEBYTES];
	uint8_t box[BOX_BYTES];
};

static gm_err sodium_ready(struct gm_diag *d)
{
	if (sodium_init() < 0)
		return gm_diag_set(d, GM_EIO, "cannot initialize libsodium");
	return GM_OK;
}

bool gm_handle_valid(const char *handle)
{
	return handle && gm_package_name_valid(handle, strlen(handle));
}

void gm_key_release(struct gm_key *k)
{
	if (k)
		sodium_memzero(k, sizeof(*k));
}

gm_err gm_key_from_seed(struct gm_key *out, const char *handle,
			const uint8_t seed[GM_KEY_SEED_BYTES], uint64_t created,
			struct gm_diag *d)
{
	gm_err e;

	memset(out, 0, sizeof(*out));
	if (!gm_handle_valid(handle))
		return gm_diag_set(
		    d, GM_EINVAL,
		    "invalid handle '%s': use 1-64 of a-z, 0-9, "
		    "'-' and '_', starting with a letter or digit",
		    handle ? handle : "");
	e = sodium_ready(d);
	if (e)
		return e;
	snprintf(out->handle, sizeof(out->handle), "%s", handle);
	crypto_sign_seed_keypair(out->pk, out->sk, seed);
	out->has_secret = true;
	out->created = created;
	return GM_OK;
}

gm_err gm_key_generate(struct gm_key *out, const char *handle, uint64_t created,
		       struct gm_diag *d)
{
	uint8_t seed[GM_KEY_SEED_BYTES];
	gm_err e;

	e = sodium_ready(d);
	if (e)
		return e;
	randombytes_buf(seed, sizeof(seed));
	e = gm_key_from_seed(out, handle, seed, created, d);
	sodium_memzero(seed, sizeof(seed));
	return e;
}

void gm_key_fingerprint(const uint8_t pk[GM_KEY_PUBLIC_BYTES],
			char out[GM_KEY_FPR_MAX])
{
	uint8_t h[32];

	gm_sha256(pk, GM_KEY_PUBLIC_BYTES, h);
	memcpy(out, "SHA256:", 7);
	sodium_bin2base64(out + 7, GM_KEY_FPR_MAX - 7, h, sizeof(h),
			  sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

void gm_key_fingerprint_short(const uint8_t pk[GM_KEY_PUBLIC_BYTES],
			      char out[GM_KEY_FPR_SHORT_MAX])
{
	char full[GM_KEY_FPR_MAX];

	gm_key_fingerprint(pk, full);
	memcpy(out, full + 7, GM_KEY_FPR_SHORT_MAX - 1);
	out[GM_KEY_FPR_SHORT_MAX - 1] = '\0';
}

gm_err gm_key_sign(const struct gm_key *k, const uint8_t *msg, size_t len,
		   uint8_t sig[GM_KEY_SIG_BYTES])
{
	if (!k->has_secret)
		return GM_EINVAL;
	if (sodium_init() < 0)
		return GM_EIO;
	crypto_sign_detached(sig, NULL, msg, len, k->sk);
	return GM_OK;
}

bool gm_key_verify(const uint8_t pk[GM_KEY_PUBLIC_BYTES], const uint8_t *msg,
		   size_t len, const uint8_t sig[GM_KEY_SIG_BYTES])
{
	if (sodium_init() < 0)
		return false;
	return crypto_sign_verify_detached(sig, msg, len, pk) == 0;
}

char *gm_key_path(const char *keys_dir, const char *handle)
{
	size_t n = strlen(keys_dir) + strlen(handle) + sizeof(KEY_SUFFIX) + 2;
	char *p = gm_malloc(n);

	if (p)
		snprintf(p, n, "%s/%s%s", keys_dir, handle, KEY_SUFFIX);
	return p;
}

/* ---- base64 ---- */

/* Decodes exactly want bytes of standard base64 (padded, or not if nopad). */
static bool b64_exact(const char *s, size_t len, uint8_t *out, size_t want,
		      bool nopad_ok)
{
	const char *end = NULL;
	size_t got = 0;

	if (sodium_base642bin(out, want, s, len, NULL, &got, &end,
			      sodium_base64_VARIANT_ORIGINAL) == 0 &&
	    end == s + len && got == want)
		return true;
	if (nopad_ok &&
	    sodium_base642bin(out, want, s, len, NULL, &got, &end,
			      sodium_base64_VARIANT_ORIGINAL_NO_PADDING) == 0 &&
	    end == s + len && got == want)
		return true;
	sodium_memzero(out, want);
	return false;
}

static gm_err put_b64(struct gm_buf *b, const char *key, const uint8_t *p,
		      size_t n)
{
	char tmp[128];
	gm_err e;

	GM_ASSERT(sodium_base64_ENCODED_LEN(
		      n, sodium_base64_VARIANT_ORIGINAL) <= sizeof(tmp));
	sodium_bin2base64(tmp, sizeof(tmp), p, n,
			  sodium_base64_VARIANT_ORIGINAL);
	e = gm_buf_printf(b, "%s = \"%s\"\n", key, tmp);
	sodium_memzero(tmp, sizeof(tmp));
	return e;
}

/* ---- reading ---- */

/* Reads a key file: a regular file, no group/other bits, bounded size. */
static gm_err read_text(const char *path, struct gm_buf *out, struct gm_diag *d)
{
	struct stat st;
	uint8_t chunk[512];
	gm_err e = GM_OK;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		int err = errno;

		if (err == ELOOP)
			return gm_diag_set(d, GM_EPERM,
					   "key file '%s' is a symbolic link; "
					   "key files must be regular files",
					   path);
		return gm_diag_set(d, gm_err_from_errno(err),
				   "cannot open key file '%s': %s", path,
				   strerror(err));
	}
	if (fstat(fd, &st) != 0) {
		e = gm_diag_set(d, gm_err_from_errno(errno),
				"cannot stat key file '%s': %s", path,
				strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		e = gm_diag_set(d, GM_EFORMAT,
				"key file '%s' is not a regular file", path);
		goto out_close;
	}
	if (st.st_mode & 077) {
		e = gm_diag_set(d, GM_EPERM,
				"key file '%s' may be read by other users "
				"(mode %04o); run: chmod 600 %s",
				path, (unsigned)(st.st_mode & 07777), path);
		goto out_close;
	}
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = gm_diag_set(d, gm_err_from_errno(errno),
					"cannot read key file '%s': %s", path,
					strerror(errno));
			break;
		}
		if (r == 0)
			break;
		e = gm_buf_append(out, chunk, (size_t)r);
		if (e == GM_ELIMIT)
			e = gm_diag_set(d, GM_ELIMIT,
					"key file '%s' is larger than %d bytes",
					path, GM_KEY_FILE_MAX);
		if (e)
			break;
	}
	sodium_memzero(chunk, sizeof(chunk));
out_close:
	close(fd);
	return e;
}

struct field_ctx {
	const char *path;
	struct gm_diag *d;
};

static gm_err bad_at(struct field_ctx *c, const struct gm_toml_value *v,
		     gm_err e, const char *what)
{
	uint32_t line = 0, col = 0;

	if (v)
		gm_toml_pos(v, &line, &col);
	return gm_diag_set_at(c->d, e, line, col, "key file '%s' at %u:%u: %s",
			      c->path, line, col, what);
}

static gm_err get_string(struct field_ctx *c, const struct gm_toml_value *t,
			 const char *key, bool required, const char **s,
			 size_t *len)
{
	const struct gm_toml_value *v = gm_toml_table_get(t, key);
	char msg[128];

	*s = NULL;
	*len = 0;
	if (!v) {
		if (!required)
			return GM_OK;
		snprintf(msg, sizeof(msg), "missing key '%s'", key);
		return bad_at(c, t, GM_EFORMAT, msg);
	}
	if (gm_toml_type(v) != GM_TOML_STRING) {
		snprintf(msg, sizeof(msg), "'%s' must be a string, not %s", key,
			 gm_toml_type_name(gm_toml_type(v)));
		return bad_at(c, v, GM_EFORMAT, msg);
	}
	*s = gm_toml_string(v, len);
	return GM_OK;
}

static gm_err get_uint(struct field_ctx *c, const struct gm_toml_value *t,
		       const char *key, bool required, uint64_t *out)
{
	const struct gm_toml_value *v = gm_toml_table_get(t, key);
	char msg[128];

	*out = 0;
	if (!v) {
		if (!required)
			return GM_OK;
		snprintf(msg, sizeof(msg), "missing key '%s'", key);
		return bad_at(c, t, GM_EFORMAT, msg);
	}
	if (gm_toml_type(v) != GM_TOML_INTEGER || gm_toml_integer(v) < 0) {
		snprintf(msg, sizeof(msg),
			 "'%s' must be a non-negative integer", key);
		return bad_at(c, v, GM_EFORMAT, msg);
	}
	*out = (uint64_t)gm_toml_integer(v);
	return GM_OK;
}

static gm_err get_b64(struct field_ctx *c, const struct gm_toml_value *t,
		      const char *key, uint8_t *out, size_t want)
{
	const char *s;
	size_t len;
	char msg[128];
	gm_err e;

	e = get_string(c, t, key, true, &s, &len);
	if (e)
		return e;
	if (!b64_exact(s, len, out, want, false)) {
		snprintf(msg, sizeof(msg), "'%s' must be base64 of %zu bytes",
			 key, want);
		return bad_at(c, gm_toml_table_get(t, key), GM_EFORMAT, msg);
	}
	return GM_OK;
}

/* Refuses keys of table t not in the list. */
static gm_err only_keys(struct field_ctx *c, const struct gm_toml_value *t,
			const char *const *known, size_t n, const char *where)
{
	size_t i, j, len;

	for (i = 0; i < gm_toml_table_len(t); i++) {
		const char *k = gm_toml_table_key(t, i, &len);
		bool ok = false;
		char msg[200];
		uint32_t line, col;

		for (j = 0; j < n && !ok; j++)
			ok = strlen(known[j]) == len &&
			     memcmp(known[j], k, len) == 0;
		if (ok)
			continue;
		gm_toml_table_key_pos(t, i, &line, &col);
		snprintf(msg, sizeof(msg), "unknown key '%.*s'%s",
			 (int)(len > 64 ? 64 : len), k, where);
		return gm_diag_set_at(c->d, GM_EFORMAT, line, col,
				      "key file '%s' at %u:%u: %s", c->path,
				      line, col, msg);
	}
	return GM_OK;
}

static gm_err parse_sealed(struct field_ctx *c, const struct gm_toml_value *s,
			   struct keyfile *kf)
{
	static const char *const known[] = {"kdf",  "opslimit", "memlimit",
					    "salt", "nonce",	"box"};
	const char *kdf;
	size_t len;
	gm_err e;

	if (gm_toml_type(s) != GM_TOML_TABLE)
		return bad_at(c, s, GM_EFORMAT, "'sealed' must be a table");
	e = only_keys(c, s, known, GM_ARRAY_LEN(known), " in [sealed]");
	if (!e)
		e = get_string(c, s, "kdf", true, &kdf, &len);
	if (e)
		return e;
	if (len != strlen(KEY_KDF) || memcmp(kdf, KEY_KDF, len) != 0)
		return bad_at(c, gm_toml_table_get(s, "kdf"), GM_EUNSUPPORTED,
			      "unsupported kdf (only \"" KEY_KDF "\")");
	e = get_uint(c, s, "opslimit", true, &kf->opslimit);
	if (!e)
		e = get_uint(c, s, "memlimit", true, &kf->memlimit);
	if (e)
		return e;
	if (kf->opslimit < crypto_pwhash_OPSLIMIT_MIN ||
	    kf->opslimit > crypto_pwhash_OPSLIMIT_SENSITIVE)
		return bad_at(c, gm_toml_table_get(s, "opslimit"), GM_ELIMIT,
			      "opslimit is outside the range libsodium "
			      "allows for interactive to sensitive use");
	if (kf->memlimit < crypto_pwhash_MEMLIMIT_MIN ||
	    kf->memlimit > crypto_pwhash_MEMLIMIT_SENSITIVE)
		return bad_at(c, gm_toml_table_get(s, "memlimit"), GM_ELIMIT,
			      "memlimit is outside the range libsodium "
			      "allows for interactive to sensitive use");
	e = get_b64(c, s, "salt", kf->salt, sizeof(kf->salt));
	if (!e)
		e = get_b64(c, s, "nonce", kf->nonce, sizeof(kf->nonce));
	if (!e)
		e = get_b64(c, s, "box", kf->box, sizeof(kf->box));
	return e;
}

static gm_err parse_keyfile(const char *path, const char *text, size_t len,
			    struct keyfile *kf, struct gm_diag *d)
{
	static const char *const known[] = {"format",  "handle",  "public",
					    "created", "revoked", "secret",
					    "sealed"};
	struct field_ctx c = {path, d};
	struct gm_toml_doc *doc;
	const struct gm_toml_value *root, *sealed;
	const char *s;
	size_t n;
	struct gm_diag why;
	gm_err e;

	gm_diag_clear(&why);
	e = gm_toml_parse(&doc, text, len, &why);
	if (e) {
		if (e == GM_ENOMEM)
			return GM_ENOMEM;
		return gm_diag_set_at(d, e, why.line, why.column,
				      "key file '%s' at %u:%u: %s", path,
				      why.line, why.column, why.msg);
	}
	root = gm_toml_root(doc);
	e = only_keys(&c, root, known, GM_ARRAY_LEN(known), "");
	if (!e)
		e = get_string(&c, root, "format", true, &s, &n);
	if (e)
		goto out_free;
	if (n != strlen(KEY_FORMAT) || memcmp(s, KEY_FORMAT, n) != 0) {
		e = bad_at(&c, gm_toml_table_get(root, "format"),
			   GM_EUNSUPPORTED,
			   "unsupported format (expected \"" KEY_FORMAT "\")");
		goto out_free;
	}
	e = get_string(&c, root, "handle", true, &s, &n);
	if (e)
		goto out_free;
	if (n > GM_HANDLE_MAX || !gm_package_name_valid(s, n)) {
		e = bad_at(&c, gm_toml_table_get(root, "handle"), GM_EFORMAT,
			   "invalid handle");
		goto out_free;
	}
	memcpy(kf->handle, s, n);
	kf->handle[n] = '\0';
	e = get_b64(&c, root, "public", kf->pk, sizeof(kf->pk));
	if (!e)
		e = get_uint(&c, root, "created", true, &kf->created);
	if (!e)
		e = get_uint(&c, root, "revoked", false, &kf->revoked);
	if (e)
		goto out_free;
	sealed = gm_toml_table_get(root, "sealed");
	if (!!sealed == !!gm_toml_table_get(root, "secret")) {
		e = bad_at(&c, root, GM_EFORMAT,
			   "a key file holds either 'secret' or a [sealed] "
			   "table, exactly one of them");
		goto out_free;
	}
	kf->sealed = sealed != NULL;
	if (sealed)
		e = parse_sealed(&c, sealed, kf);
	else
		e = get_b64(&c, root, "secret", kf->seed, sizeof(kf->seed));
out_free:
	gm_toml_free(doc);
	return e;
}

static gm_err read_keyfile(const char *path, struct keyfile *kf,
			   struct gm_diag *d)
{
	struct gm_buf b;
	gm_err e;

	memset(kf, 0, sizeof(*kf));
	gm_buf_init(&b, GM_KEY_FILE_MAX);
	e = read_text(path, &b, d);
	if (!e)
		e = parse_keyfile(path, (const char *)b.data, b.len, kf, d);
	if (b.data)
		sodium_memzero(b.data, b.len);
	gm_buf_release(&b);
	if (e)
		sodium_memzero(kf, sizeof(*kf));
	return e;
}

/* Derives the box key of a passphrase. */
static gm_err derive(uint8_t key[crypto_secretbox_KEYBYTES],
		     const char *passphrase, const uint8_t *salt,
		     uint64_t opslimit, uint64_t memlimit, struct gm_diag *d)
{
	if (crypto_pwhash(key, crypto_secretbox_KEYBYTES, passphrase,
			  strlen(passphrase), salt, opslimit, (size_t)memlimit,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return gm_diag_set(d, GM_ENOMEM,
				   "not enough memory to derive the key from "
				   "the passphrase (Argon2id, %" PRIu64
				   " bytes)",
				   memlimit);
	return GM_OK;
}

/* Fills out from a parsed file; opens the box when sealed. */
static gm_err keyfile_to_key(const char *path, struct keyfile *kf,
			     const char *passphrase, bool with_secret,
			     struct gm_key *out, struct gm_diag *d)
{
	uint8_t key[crypto_secretbox_KEYBYTES];
	uint8_t seed[GM_KEY_SEED_BYTES];
	gm_err e;

	memset(out, 0, sizeof(*out));
	memcpy(out->handle, kf->handle, sizeof(out->handle));
	memcpy(out->pk, kf->pk, sizeof(out->pk));
	out->created = kf->created;
	out->revoked = kf->revoked;
	out->sealed = kf->sealed;
	if (!with_secret)
		return GM_OK;
	if (kf->sealed) {
		if (!passphrase)
			return gm_diag_set(d, GM_EPERM,
					   "key '%s' is sealed with a "
					   "passphrase; give it (terminal or "
					   "GGEN_PASSPHRASE)",
					   kf->handle);
		e = derive(key, passphrase, kf->salt, kf->opslimit,
			   kf->memlimit, d);
		if (e)
			return e;
		if (crypto_secretbox_open_easy(seed, kf->box, sizeof(kf->box),
					       kf->nonce, key) != 0) {
			sodium_memzero(key, sizeof(key));
			return gm_diag_set(d, GM_EPERM,
					   "wrong passphrase for key '%s'",
					   kf->handle);
		}
		sodium_memzero(key, sizeof(key));
	} else {
		memcpy(seed, kf->seed, sizeof(seed));
	}
	crypto_sign_seed_keypair(out->pk, out->sk, seed);
	sodium_memzero(seed, sizeof(seed));
	if (sodium_memcmp(out->pk, kf->pk, sizeof(out->pk)) != 0) {
		gm_key_release(out);
		return gm_diag_set(d, GM_ECORRUPT,
				   "key file '%s': the secret key does not "
				   "match the public key written beside it",
				   path);
	}
	out->has_secret = true;
	return GM_OK;
}

static gm_err load_path(struct gm_key *out, const char *path,
			const char *passphrase, bool with_secret,
			struct gm_diag *d)
{
	struct keyfile kf;
	gm_err e;

	memset(out, 0, sizeof(*out));
	e = sodium_ready(d);
	if (e)
		return e;
	e = read_keyfile(path, &kf, d);
	if (!e)
		e = keyfile_to_key(path, &kf, passphrase, with_secret, out, d);
	sodium_memzero(&kf, sizeof(kf));
	if (e)
		gm_key_release(out);
	return e;
}

gm_err gm_key_load_file(struct gm_key *out, const char *path,
			const char *passphrase, struct gm_diag *d)
{
	return load_path(out, path, passphrase, true, d);
}

gm_err gm_key_load_public(struct gm_key *out, const char *path,
			  struct gm_diag *d)
{
	return load_path(out, path, NULL, false, d);
}

gm_err gm_key_load(struct gm_key *out, const char *keys_dir, const char *handle,
		   const char *passphrase, struct gm_diag *d)
{
	char *path;
	gm_err e;

	memset(out, 0, sizeof(*out));
	if (!gm_handle_valid(handle))
		return gm_diag_set(d, GM_EINVAL, "invalid handle '%s'",
				   handle ? handle : "");
	path = gm_key_path(keys_dir, handle);
	if (!path)
		return GM_ENOMEM;
	e = load_path(out, path, passphrase, true, d);
	if (e == GM_ENOENT)
		gm_diag_set(d, e,
			    "no signing key for '%s' (looked for '%s'); "
			    "create one with `ggen market key new %s`",
			    handle, path, handle);
	else if (!e && strcmp(out->handle, handle) != 0) {
		gm_key_release(out);
		e = gm_diag_set(d, GM_EFORMAT,
				"key file '%s' holds the key of '%s', not '%s'",
				path, out->handle, handle);
	}
	gm_free(path);
	return e;
}

gm_err gm_key_from_base64_seed(struct gm_key *out, const char *handle,
			       const char *b64, struct gm_diag *d)
{
	uint8_t seed[GM_KEY_SEED_BYTES];
	size_t len = strlen(b64);
	gm_err e;

	memset(out, 0, sizeof(*out));
	e = sodium_ready(d);
	if (e)
		return e;
	while (len > 0 && (b64[len - 1] == '\n' || b64[len - 1] == '\r' ||
			   b64[len - 1] == ' ' || b64[len - 1] == '\t'))
		len--;
	if (!b64_exact(b64, len, seed, sizeof(seed), true))
		return gm_diag_set(d, GM_EFORMAT,
				   "the signing key must be the base64 of a "
				   "32-byte seed");
	e = gm_key_from_seed(out, handle, seed, 0, d);
	sodium_memzero(seed, sizeof(seed));
	return e;
}

gm_err gm_key_from_env(struct gm_key *out, const char *handle,
		       struct gm_diag *d)
{
	const char *v = getenv(GM_KEY_ENV);
	gm_err e;

	memset(out, 0, sizeof(*out));
	if (!v || !*v)
		return gm_diag_set(d, GM_ENOENT, "%s is not set", GM_KEY_ENV);
	e = gm_key_from_base64_seed(out, handle, v, d);
	if (e == GM_EFORMAT)
		gm_diag_set(d, e,
			    "%s must hold the base64 of a 32-byte Ed25519 "
			    "seed",
			    GM_KEY_ENV);
	return e;
}

/* ---- writing ---- */

static gm_err format_keyfile(const struct keyfile *kf, struct gm_buf *b)
{
	gm_err e;

	e = gm_buf_printf(b,
			  "# ggen signing key: keep this file secret "
			  "(mode 0600)\n"
			  "format = \"%s\"\nhandle = \"%s\"\n",
			  KEY_FORMAT, kf->handle);
	if (!e)
		e = put_b64(b, "public", kf->pk, sizeof(kf->pk));
	if (!e)
		e = gm_buf_printf(b, "created = %" PRIu64 "\n", kf->created);
	if (!e && kf->revoked)
		e = gm_buf_printf(b, "revoked = %" PRIu64 "\n", kf->revoked);
	if (e)
		return e;
	if (!kf->sealed)
		return put_b64(b, "secret", kf->seed, sizeof(kf->seed));
	e = gm_buf_printf(b,
			  "\n[sealed]\nkdf = \"%s\"\nopslimit = %" PRIu64
			  "\nmemlimit = %" PRIu64 "\n",
			  KEY_KDF, kf->opslimit, kf->memlimit);
	if (!e)
		e = put_b64(b, "salt", kf->salt, sizeof(kf->salt));
	if (!e)
		e = put_b64(b, "nonce", kf->nonce, sizeof(kf->nonce));
	if (!e)
		e = put_b64(b, "box", kf->box, sizeof(kf->box));
	return e;
}

static gm_err write_keyfile(const char *path, const struct keyfile *kf,
			    struct gm_diag *d)
{
	struct gm_buf b;
	gm_err e;

	gm_buf_init(&b, GM_KEY_FILE_MAX);
	e = format_keyfile(kf, &b);
	if (!e)
		e = gm_fs_write_atomic(path, b.data, b.len, 0600, d);
	if (b.data)
		sodium_memzero(b.data, b.len);
	gm_buf_release(&b);
	return e;
}

gm_err gm_key_save_file(const char *path, const struct gm_key *k,
			const char *passphrase, struct gm_diag *d)
{
	struct keyfile kf;
	uint8_t key[crypto_secretbox_KEYBYTES];
	gm_err e;

	if (!k->has_secret)
		return gm_diag_set(d, GM_EINVAL,
				   "key '%s' has no secret to save", k->handle);
	if (passphrase && !*passphrase)
		return gm_diag_set(d, GM_EINVAL,
				   "empty passphrase: give a passphrase or "
				   "none to save the key unsealed");
	e = sodium_ready(d);
	if (e)
		return e;
	memset(&kf, 0, sizeof(kf));
	memcpy(kf.handle, k->handle, sizeof(kf.handle));
	memcpy(kf.pk, k->pk, sizeof(kf.pk));
	kf.created = k->created;
	kf.revoked = k->revoked;
	if (passphrase) {
		kf.sealed = true;
		kf.opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		kf.memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
		randombytes_buf(kf.salt, sizeof(kf.salt));
		randombytes_buf(kf.nonce, sizeof(kf.nonce));
		e = derive(key, passphrase, kf.salt, kf.opslimit, kf.memlimit,
			   d);
		if (e)
			goto out_wipe;
		crypto_secretbox_easy(kf.box, k->sk, GM_KEY_SEED_BYTES,
				      kf.nonce, key);
		sodium_memzero(key, sizeof(key));
	} else {
		memcpy(kf.seed, k->sk, sizeof(kf.seed));
	}
	e = write_keyfile(path, &kf, d);
out_wipe:
	sodium_memzero(&kf, sizeof(kf));
	return e;
}

gm_err gm_key_save(const char *keys_dir, const struct gm_key *k,
		   const char *passphrase, struct gm_diag *d)
{
	struct stat st;
	char *path;
	gm_err e;

	if (!gm_handle_valid(k->handle))
		return gm_diag_set(d, GM_EINVAL, "invalid handle '%s'",
				   k->handle);
	e = gm_fs_mkdir_p(keys_dir, 0700, d);
	if (e)
		return e;
	path = gm_key_path(keys_dir, k->handle);
	if (!path)
		return GM_ENOMEM;
	if (lstat(path, &st) == 0)
		e = gm_diag_set(d, GM_EEXIST,
				"a key for '%s' exists already ('%s'); use "
				"`ggen market key rotate %s` to replace it",
				k->handle, path, k->handle);
	else
		e = gm_key_save_file(path, k, passphrase, d);
	gm_free(path);
	return e;
}

gm_err gm_key_mark_revoked(const char *path, uint64_t when, struct gm_diag *d)
{
	struct keyfile kf;
	gm_err e;

	e = sodium_ready(d);
	if (e)
		return e;
	e = read_keyfile(path, &kf, d);
	if (e)
		return e;
	if (!kf.revoked)
		kf.revoked = when ? when : 1;
	e = write_keyfile(path, &kf, d);
	sodium_memzero(&kf, sizeof(kf));
	return e;
}

gm_err gm_key_rotate(const char *keys_dir, const char *handle,
		     const char *old_pass, const char *new_pass,
		     uint64_t created, struct gm_key *old_out,
		     struct gm_key *new_out, struct gm_diag *d)
{
	char fpr[GM_KEY_FPR_SHORT_MAX];
	char *path, *old_path = NULL;
	struct stat st;
	size_t n;
	gm_err e;

	memset(new_out, 0, sizeof(*new_out));
	e = gm_key_load(old_out, keys_dir, handle, old_pass, d);
	if (e)
		return e;
	path = gm_key_path(keys_dir, handle);
	if (!path) {
		e = GM_ENOMEM;
		goto out_release_old;
	}
	gm_key_fingerprint_short(old_out->pk, fpr);
	n = strlen(path) + sizeof(".old-") + sizeof(fpr);
	old_path = gm_malloc(n);
	if (!old_path) {
		e = GM_ENOMEM;
		goto out_free;
	}
	snprintf(old_path, n, "%s.old-%s", path, fpr);
	/* The short fingerprint uses base64: '/' would make a path. */
	for (n = strlen(path); old_path[n]; n++)
		if (old_path[n] == '/')
			old_path[n] = '_';
	e = gm_key_generate(new_out, handle, created, d);
	if (e)
		goto out_free;
	if (lstat(old_path, &st) == 0) {
		e = gm_diag_set(d, GM_EEXIST,
				"'%s' exists already; move it away first",
				old_path);
		goto out_free;
	}
	if (rename(path, old_path) != 0) {
		e = gm_diag_set(d, gm_err_from_errno(errno),
				"cannot rename '%s' to '%s': %s", path,
				old_path, strerror(errno));
		goto out_free;
	}
	e = gm_key_save_file(path, new_out, new_pass, d);
	if (e) {
		if (rename(old_path, path) != 0)
			gm_diag_set(d, e,
				    "cannot write the new key, and cannot put "
				    "the old one back: move '%s' to '%s'",
				    old_path, path);
		goto out_free;
	}
	e = gm_fs_fsync_dir(keys_dir, d);
out_free:
	gm_free(old_path);
	gm_free(path);
out_release_old:
	if (e) {
		gm_key_release(old_out);
		gm_key_release(new_out);
	}
	return e;
}

/* ---- listing ---- */

static int cmp_handle(const void *a, const void *b)
{
	return strcmp(((const struct gm_key *)a)->handle,
		      ((const struct gm_key *)b)->handle);
}

gm_err gm_key_list(const char *keys_dir, struct gm_key **out, size_t *n,
		   struct gm_diag *d)
{
	struct gm_key *keys = NULL, *grown;
	size_t count = 0, cap = 0;
	struct dirent *ent;
	gm_err e = GM_OK;
	DIR *dir;

	*out = NULL;
	*n = 0;
	dir = opendir(keys_dir);
	if (!dir) {
		if (errno == ENOENT)
			return GM_OK;
		return gm_diag_set(d, gm_err_from_errno(errno),
				   "cannot open keys folder '%s': %s", keys_dir,
				   strerror(errno));
	}
	while ((ent = readdir(dir)) != NULL) {
		size_t len = strlen(ent->d_name), hl;
		char handle[GM_HANDLE_MAX + 1];
		char *path;

		if (len <= strlen(KEY_SUFFIX) ||
		    strcmp(ent->d_name + len - strlen(KEY_SUFFIX),
			   KEY_SUFFIX) != 0)
			continue;
		hl = len - strlen(KEY_SUFFIX);
		if (hl > GM_HANDLE_MAX ||
		    !gm_package_name_valid(ent->d_name, hl))
			continue;
		memcpy(handle, ent->d_name, hl);
		handle[hl] = '\0';
		if (count == KEY_LIST_MAX) {
			e = gm_diag_set(d, GM_ELIMIT,
					"more than %d keys in '%s'",
					KEY_LIST_MAX, keys_dir);
			break;
		}
		if (count == cap) {
			cap = cap ? cap * 2 : 8;
			grown = gm_reallocarray(keys, cap, sizeof(*keys));
			if (!grown) {
				e = GM_ENOMEM;
				break;
			}
			keys = grown;
		}
		path = gm_path_join(keys_dir, ent->d_name);
		if (!path) {
			e = GM_ENOMEM;
			break;
		}
		e = gm_key_load_public(&keys[count], path, d);
		if (!e && strcmp(keys[count].handle, handle) != 0)
			e = gm_diag_set(d, GM_EFORMAT,
					"key file '%s' holds the key of '%s'",
					path, keys[count].handle);
		gm_free(path);
		if (e)
			break;
		count++;
	}
	closedir(dir);
	if (e) {
		gm_free(keys);
		return e;
	}
	if (count > 1)
		qsort(keys, count, sizeof(*keys), cmp_handle);
	*out = keys;
	*n = count;
	return GM_OK;
}
