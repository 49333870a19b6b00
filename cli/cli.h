/*
 * cli.h - shared plumbing of the front ends: option parsing, error output
 * and JSON printing. The front ends hold no marketplace logic; they parse,
 * call the library's gm_market_* facade, and print.
 *
 * Exit statuses (THREATS.md): 0 ok, 1 operational error, 2 usage error,
 * 3 security refusal; cli_fail() maps a gm_err to the right one.
 */
#ifndef GM_CLI_H
#define GM_CLI_H

#include "internal.h"

#include <jansson.h>

/* One option of a verb. Flags set *flag; options with a value set *value. */
struct cli_opt {
	const char *name; /* long name without "--" */
	char short_name;  /* 0 if none */
	bool *flag;
	const char **value;
};

#define CLI_MAX_POS 64

struct cli_args {
	const char *pos[CLI_MAX_POS];
	size_t n_pos;
	bool help;
};

/* A verb: `ggen market <name> ...`. */
struct cli_verb {
	const char *name;
	const char *summary;
	const char *help; /* full --help text */
	int (*run)(int argc, char **argv);
};

/*
 * Runs `<prog> <group> <verb> ...`: help with no verb or --help, the
 * verb's help text for `<verb> --help`, a suggestion for an unknown verb.
 */
int cli_run_verbs(const struct cli_verb *verbs, size_t n, const char *what,
		  int argc, char **argv);

/*
 * Parses argv[0..argc) (argv[0] is the first argument after the verb) into
 * positional arguments and options. "--help"/"-h" sets args->help. Unknown
 * options are a usage error printed with a suggestion; returns 0 on
 * success or the exit status to return (2).
 */
int cli_parse(int argc, char **argv, const struct cli_opt *opts,
	      size_t n_opts, struct cli_args *args, const char *verb);

/* Prints "ggen: error: <what>: <diag or strerror>" and returns the exit code. */
int cli_fail(gm_err e, const struct gm_diag *d, const char *fmt, ...)
	GM_PRINTF(3, 4);
/* Prints a usage error with the hint and returns 2. */
int cli_usage(const char *verb, const char *fmt, ...) GM_PRINTF(2, 3);

/* Prints a JSON value (compact, sorted keys as given) with a newline; frees it. */
int cli_print_json(json_t *v);

/* $GGEN_HOME or ~/.ggen, as a new string (gm_free); NULL on failure. */
char *cli_home(void);

/* Human-readable byte count into buf. */
const char *cli_bytes(uint64_t n, char *buf, size_t cap);

struct gm_market;
struct gm_cid;
/* Opens the marketplace under cli_home(); prints the error, returns exit. */
int cli_open_market(struct gm_market **m);
/* Parses a CID argument; prints a usage error and returns 2 if bad. */
int cli_parse_cid(const char *text, struct gm_cid *cid);
/*
 * The passphrase for sealing or unsealing a key: GGEN_PASSPHRASE, else a
 * prompt on the terminal (no echo) when stdin is one, else NULL. The
 * returned buffer is static and wiped by cli_passphrase_wipe().
 */
const char *cli_passphrase(const char *prompt, bool required);
void cli_passphrase_wipe(void);

extern const char *cli_prog;  /* "ggen" or "clnrm" */
extern const char *cli_group; /* "market" or "validator" */

#endif
