/*
 * keys.h - Ed25519 signing keys of publisher handles, and their key files.
 *
 * A struct gm_key is a value holding the public key, and the secret key
 * when it was loaded with its secret; gm_key_release() wipes it
 * (sodium_memzero). Key files live in a keys folder the caller names
 * (normally $GGEN_HOME/keys, mode 0700) as <handle>.key, mode 0600, a small
 * TOML document:
 *
 *   | key          | value                                              |
 *   |--------------|----------------------------------------------------|
 *   | format       | "ggen-key-v1"                                      |
 *   | handle       | the publisher handle (package name rules)          |
 *   | public       | base64 (standard, padded) of the 32-byte public key |
 *   | created      | unix seconds                                       |
 *   | revoked      | unix seconds; present once the key was revoked     |
 *   | secret       | base64 of the 32-byte seed (unsealed files only)   |
 *   | [sealed]     | instead of secret, when sealed with a passphrase:  |
 *   |   kdf        | "argon2id13"                                       |
 *   |   opslimit   | crypto_pwhash opslimit                             |
 *   |   memlimit   | crypto_pwhash memlimit (bytes)                     |
 *   |   salt       | base64, 16 bytes                                   |
 *   |   nonce      | base64, 24 bytes                                   |
 *   |   box        | base64 of crypto_secretbox_easy(seed) (48 bytes)   |
 *
 * The box key is crypto_pwhash(ALG_ARGON2ID13) of the passphrase and salt.
 * Loading checks that the seed gives the public key written beside it.
 *
 * Passphrases are passed in by the caller (the CLI reads a terminal or
 * GGEN_PASSPHRASE); nothing here prompts. A wrong passphrase is GM_EPERM
 * ("wrong passphrase for key 'acme'"), as is a sealed key loaded without
 * one, and a key file that group or others may access ("chmod 600 ...").
 * A malformed key file is GM_EPARSE / GM_EFORMAT with line and column.
 *
 * Fingerprints are OpenSSH style: "SHA256:" and the unpadded standard
 * base64 of sha256(public key), 50 characters; the short form is the first
 * 16 characters after "SHA256:".
 */
#ifndef GM_KEYS_H
#define GM_KEYS_H

#include "gm/gm.h"

#define GM_KEY_PUBLIC_BYTES 32
#define GM_KEY_SEED_BYTES 32
#define GM_KEY_SECRET_BYTES 64
#define GM_KEY_SIG_BYTES 64
#define GM_HANDLE_MAX 64
/* "SHA256:" + 43 characters + NUL. */
#define GM_KEY_FPR_MAX 51
/* 16 characters + NUL. */
#define GM_KEY_FPR_SHORT_MAX 17
/* Environment variable with a base64 seed, for CI. */
#define GM_KEY_ENV "GGEN_SIGNING_KEY"
/* Largest key file read. */
#define GM_KEY_FILE_MAX 4096

struct gm_key {
	char handle[GM_HANDLE_MAX + 1];
	uint8_t pk[GM_KEY_PUBLIC_BYTES];
	uint8_t sk[GM_KEY_SECRET_BYTES]; /* libsodium form: seed || pk */
	bool has_secret;
	bool sealed;	  /* as found on disk */
	uint64_t created; /* unix seconds; 0 when unknown */
	uint64_t revoked; /* unix seconds; 0 when not revoked */
};

/* Whether handle (NUL terminated) is a valid publisher handle. */
GM_EXTERN bool gm_handle_valid(const char *handle);

/* Wipes k (accepts NULL). */
GM_EXTERN void gm_key_release(struct gm_key *k);

/*
 * Makes a new random key for handle, created at the given time.
 * GM_EINVAL for a bad handle.
 */
GM_EXTERN gm_err gm_key_generate(struct gm_key *out, const char *handle,
				 uint64_t created, struct gm_diag *d);
/* Makes the key of a 32-byte seed (deterministic). */
GM_EXTERN gm_err gm_key_from_seed(struct gm_key *out, const char *handle,
				  const uint8_t seed[GM_KEY_SEED_BYTES],
				  uint64_t created, struct gm_diag *d);

/* Fingerprint of a public key into out ("SHA256:..."). */
GM_EXTERN void gm_key_fingerprint(const uint8_t pk[GM_KEY_PUBLIC_BYTES],
				  char out[GM_KEY_FPR_MAX]);
/* The 16-character short form, for tables and file names. */
GM_EXTERN void gm_key_fingerprint_short(const uint8_t pk[GM_KEY_PUBLIC_BYTES],
					char out[GM_KEY_FPR_SHORT_MAX]);

/*
 * Signs msg with k's secret key into sig (64 bytes). GM_EINVAL when k has
 * no secret.
 */
GM_EXTERN gm_err gm_key_sign(const struct gm_key *k, const uint8_t *msg,
			     size_t len, uint8_t sig[GM_KEY_SIG_BYTES]);
/* Whether sig is a valid signature of msg by pk. */
GM_EXTERN bool gm_key_verify(const uint8_t pk[GM_KEY_PUBLIC_BYTES],
			     const uint8_t *msg, size_t len,
			     const uint8_t sig[GM_KEY_SIG_BYTES]);

/*
 * Path of the key file of handle in keys_dir (gm_free it); NULL on ENOMEM.
 */
GM_EXTERN char *gm_key_path(const char *keys_dir, const char *handle);

/*
 * Writes k (which must hold its secret) to <keys_dir>/<handle>.key, sealed
 * with passphrase when it is not NULL (an empty passphrase is GM_EINVAL),
 * creating keys_dir with mode 0700. GM_EEXIST when the file exists (rotate
 * or remove it first). Uses crypto_pwhash's interactive limits.
 */
GM_EXTERN gm_err gm_key_save(const char *keys_dir, const struct gm_key *k,
			     const char *passphrase, struct gm_diag *d);
/* As gm_key_save, to an explicit path; overwrites. */
GM_EXTERN gm_err gm_key_save_file(const char *path, const struct gm_key *k,
				  const char *passphrase, struct gm_diag *d);

/*
 * Loads the key file of handle from keys_dir, with its secret. passphrase
 * is needed (and only used) for sealed files. GM_ENOENT when there is no
 * such file; see the top of this file for the other errors.
 */
GM_EXTERN gm_err gm_key_load(struct gm_key *out, const char *keys_dir,
			     const char *handle, const char *passphrase,
			     struct gm_diag *d);
/* Loads a key file by path (--key-file). */
GM_EXTERN gm_err gm_key_load_file(struct gm_key *out, const char *path,
				  const char *passphrase, struct gm_diag *d);
/*
 * Loads only the public part of a key file (handle, public key, created,
 * revoked, sealed), without any passphrase; out->has_secret is false.
 */
GM_EXTERN gm_err gm_key_load_public(struct gm_key *out, const char *path,
				    struct gm_diag *d);
/*
 * Makes the key of handle from the base64 seed in the environment variable
 * GGEN_SIGNING_KEY (CI use). The variable holds no handle: the caller
 * gives it (normally the namespace being published). GM_ENOENT when the
 * variable is unset or empty, GM_EFORMAT when it is not a base64 32-byte
 * seed. The base64 text is the standard alphabet, padded or not.
 */
GM_EXTERN gm_err gm_key_from_env(struct gm_key *out, const char *handle,
				 struct gm_diag *d);
/* As gm_key_from_env, from a given base64 text. */
GM_EXTERN gm_err gm_key_from_base64_seed(struct gm_key *out, const char *handle,
					 const char *b64, struct gm_diag *d);

/*
 * Lists the public part of every <handle>.key in keys_dir (files of
 * rotated-out keys are skipped), sorted by handle, into a new array *out of
 * *n keys (gm_free it; no secrets in it). A missing folder is an empty
 * list. A malformed file fails the listing and names the file.
 */
GM_EXTERN gm_err gm_key_list(const char *keys_dir, struct gm_key **out,
			     size_t *n, struct gm_diag *d);

/*
 * Rotates the key of handle: loads the current key (passphrase old_pass),
 * renames its file to <handle>.key.old-<fingerprint-short> (a '/' of the
 * base64 fingerprint written as '_'), and writes a
 * new key made at the given time (sealed with new_pass when not NULL).
 * Both keys are returned with their secrets, so the caller can sign the
 * rotation record with both; the caller releases them. On error nothing
 * was changed (the old file is renamed back if writing the new one fails).
 */
GM_EXTERN gm_err gm_key_rotate(const char *keys_dir, const char *handle,
			       const char *old_pass, const char *new_pass,
			       uint64_t created, struct gm_key *old_out,
			       struct gm_key *new_out, struct gm_diag *d);

/*
 * Marks the key file at path revoked at the given time (rewrites the
 * file atomically, keeping every other field, sealed or not). Marking an
 * already revoked key again keeps the first time.
 */
GM_EXTERN gm_err gm_key_mark_revoked(const char *path, uint64_t when,
				     struct gm_diag *d);

#endif
