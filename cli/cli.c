/*
 * cli.c - option parsing, errors and JSON output for the front ends.
 */
#include "cli.h"

#include <termios.h>

#include "gm/fs.h"
#include "gm/market.h"
#include "gm/text.h"

const char *cli_prog = "ggen";
const char *cli_group = "market";

static const struct cli_opt *find_opt(const struct cli_opt *opts, size_t n,
				      const char *name, size_t len, char sh)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (sh && opts[i].short_name == sh)
			return &opts[i];
		if (!sh && strlen(opts[i].name) == len &&
		    !memcmp(opts[i].name, name, len))
			return &opts[i];
	}
	return NULL;
}

static int unknown_opt(const struct cli_opt *opts, size_t n, const char *arg,
		       const char *verb)
{
	const char *names[64];
	const char *best;
	size_t i, k = 0;

	for (i = 0; i < n && k < GM_ARRAY_LEN(names); i++)
		names[k++] = opts[i].name;
	best = gm_text_closest(arg + 2, strlen(arg + 2), names, k, 3);
	if (best)
		return cli_usage(verb, "unknown option '%s'; did you mean '--%s'?",
				 arg, best);
	return cli_usage(verb, "unknown option '%s'", arg);
}

int cli_parse(int argc, char **argv, const struct cli_opt *opts,
	      size_t n_opts, struct cli_args *args, const char *verb)
{
	bool only_pos = false;
	int i;

	memset(args, 0, sizeof(*args));
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		const struct cli_opt *o;
		const char *val = NULL;

		if (only_pos || a[0] != '-' || !a[1]) {
			if (args->n_pos == CLI_MAX_POS)
				return cli_usage(verb, "too many arguments");
			args->pos[args->n_pos++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = true;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			args->help = true;
			continue;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);

			o = find_opt(opts, n_opts, a + 2, len, 0);
			if (!o)
				return unknown_opt(opts, n_opts, a, verb);
			if (eq)
				val = eq + 1;
		} else {
			if (a[2])
				return cli_usage(verb,
						 "unknown option '%s' (short "
						 "options take one letter)",
						 a);
			o = find_opt(opts, n_opts, NULL, 0, a[1]);
			if (!o)
				return cli_usage(verb, "unknown option '%s'", a);
		}
		if (o->flag) {
			if (val)
				return cli_usage(verb,
						 "option '--%s' takes no value",
						 o->name);
			*o->flag = true;
			continue;
		}
		if (!val) {
			if (i + 1 >= argc)
				return cli_usage(verb,
						 "option '--%s' needs a value",
						 o->name);
			val = argv[++i];
		}
		*o->value = val;
	}
	return 0;
}

int cli_fail(gm_err e, const struct gm_diag *d, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: error: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (d && d->msg[0])
		fprintf(stderr, ": %s", d->msg);
	else
		fprintf(stderr, ": %s", gm_strerror(e));
	fputc('\n', stderr);
	return gm_err_exit_code(e) ? gm_err_exit_code(e) : 1;
}

int cli_usage(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: usage error: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (verb && strcmp(verb, cli_group))
		fprintf(stderr, "\nRun '%s %s %s --help' for usage.\n",
			cli_prog, cli_group, verb);
	else
		fprintf(stderr, "\nRun '%s %s --help' for usage.\n", cli_prog,
			cli_group);
	return 2;
}

int cli_print_json(json_t *v)
{
	char *s;

	if (!v)
		return cli_fail(GM_ENOMEM, NULL, "cannot build JSON output");
	s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(v);
	if (!s)
		return cli_fail(GM_ENOMEM, NULL, "cannot build JSON output");
	puts(s);
	free(s);
	return 0;
}

char *cli_home(void)
{
	const char *h = getenv("GGEN_HOME");
	const char *home;

	if (h && *h)
		return gm_strdup(h);
	home = getenv("HOME");
	if (!home || !*home)
		home = "/";
	return gm_path_join(home, ".ggen");
}

const char *cli_bytes(uint64_t n, char *buf, size_t cap)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	size_t u = 0;

	while (v >= 1024 && u + 1 < GM_ARRAY_LEN(units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, cap, "%" PRIu64 " B", n);
	else
		snprintf(buf, cap, "%.1f %s", v, units[u]);
	return buf;
}

int cli_open_market(struct gm_market **m)
{
	struct gm_diag d;
	char *home = cli_home();
	gm_err e;

	if (!home)
		return cli_fail(GM_ENOMEM, NULL, "cannot find the home folder");
	gm_diag_clear(&d);
	e = gm_market_open(m, home, &d);
	if (e) {
		int rc = cli_fail(e, &d, "cannot open the marketplace at '%s'",
				  home);
		gm_free(home);
		return rc;
	}
	gm_free(home);
	return 0;
}

int cli_parse_cid(const char *text, struct gm_cid *cid)
{
	struct gm_diag d;
	gm_err e;

	gm_diag_clear(&d);
	e = gm_cid_parse(cid, text, strlen(text), &d);
	if (e) {
		fprintf(stderr, "%s: usage error: '%s' is not a CID: %s\n",
			cli_prog, text, d.msg[0] ? d.msg : gm_strerror(e));
		return 2;
	}
	return 0;
}


static char passphrase_buf[1024];

void cli_passphrase_wipe(void)
{
	volatile char *p = passphrase_buf;
	size_t i;

	for (i = 0; i < sizeof(passphrase_buf); i++)
		p[i] = 0;
}

const char *cli_passphrase(const char *prompt, bool required)
{
	const char *env = getenv("GGEN_PASSPHRASE");
	struct termios old, quiet;
	size_t len;

	if (env && *env)
		return env;
	if (!required || !isatty(STDIN_FILENO))
		return NULL;
	fprintf(stderr, "%s: ", prompt);
	if (tcgetattr(STDIN_FILENO, &old) != 0)
		return NULL;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	if (!fgets(passphrase_buf, sizeof(passphrase_buf), stdin))
		passphrase_buf[0] = '\0';
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	len = strlen(passphrase_buf);
	while (len && (passphrase_buf[len - 1] == '\n' ||
		       passphrase_buf[len - 1] == '\r'))
		passphrase_buf[--len] = '\0';
	return len ? passphrase_buf : NULL;
}

static void verbs_help(FILE *f, const struct cli_verb *verbs, size_t n,
		       const char *what)
{
	size_t i;

	fprintf(f, "usage: %s %s <verb> [arguments] [--help]\n\n%s\n\nVerbs:\n",
		cli_prog, cli_group, what);
	for (i = 0; i < n; i++)
		fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f, "\nEnvironment:\n"
		   "  GGEN_HOME        where the registry, blocks and keys live "
		   "(default ~/.ggen)\n"
		   "  GGEN_LOG         error, warn, info or debug (default "
		   "warn)\n"
		   "  GGEN_PASSPHRASE  passphrase of a sealed signing key\n"
		   "  GGEN_SIGNING_KEY base64 seed of a signing key (CI)\n\n"
		   "Exit status: 0 ok, 1 operational error, 2 usage error, "
		   "3 security refusal.\n");
}

int cli_run_verbs(const struct cli_verb *verbs, size_t n, const char *what,
		  int argc, char **argv)
{
	const char *names[64];
	const char *best;
	size_t i;

	if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h") ||
	    !strcmp(argv[0], "help")) {
		verbs_help(argc < 1 ? stderr : stdout, verbs, n, what);
		return argc < 1 ? 2 : 0;
	}
	for (i = 0; i < n; i++) {
		if (i < GM_ARRAY_LEN(names))
			names[i] = verbs[i].name;
		if (strcmp(argv[0], verbs[i].name))
			continue;
		if (argc >= 2 && (!strcmp(argv[1], "--help") ||
				  !strcmp(argv[1], "-h"))) {
			fputs(verbs[i].help, stdout);
			return 0;
		}
		return verbs[i].run(argc - 1, argv + 1);
	}
	best = gm_text_closest(argv[0], strlen(argv[0]), names,
			       n < GM_ARRAY_LEN(names) ? n : GM_ARRAY_LEN(names),
			       3);
	if (best)
		return cli_usage(cli_group, "unknown verb '%s'; did you mean "
				 "'%s'?", argv[0], best);
	return cli_usage(cli_group, "unknown verb '%s'", argv[0]);
}
