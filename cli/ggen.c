/*
 * ggen.c - the `ggen` front end.
 *
 *   ggen --version
 *   ggen market --help
 *   ggen market <verb> [args] [--help]
 *
 * Argument parsing and output only; the work is done by the library through
 * the gm_market_* facade. Each verb lives in a cmd_*.c file and registers in
 * the table below.
 */
#include "cli.h"

#include "cmds.h"
#include "gm/text.h"

static const struct cli_verb verbs[] = {
	{"cid", "compute the IPFS root CID of a file or folder (nothing stored)",
	 CMD_CID_HELP, cmd_cid},
	{"store", "the local block store: add, get, verify, gc, stat, pin",
	 CMD_STORE_HELP, cmd_store},
	{"car", "export or import a DAG as a CAR v1 file",
	 CMD_CAR_HELP, cmd_car},
	{"manifest", "check a package's ggen.toml",
	 CMD_MANIFEST_HELP, cmd_manifest},
	{"key", "your signing keys: generate, list, rotate, revoke",
	 CMD_KEY_HELP, cmd_key},
	{"publish", "sign and register a package folder", CMD_PUBLISH_HELP,
	 cmd_publish},
	{"search", "search the local registry", CMD_SEARCH_HELP, cmd_search},
	{"info", "versions, dependencies, publisher and trust of a package",
	 CMD_INFO_HELP, cmd_info},
	{"categories", "the package categories", CMD_CATEGORIES_HELP,
	 cmd_categories},
	{"trust", "which publishers to trust: add, list, remove, revoke",
	 CMD_TRUST_HELP, cmd_trust},
	{"bundle", "export or import packages as a CAR bundle",
	 CMD_BUNDLE_HELP, cmd_bundle},
};

static void market_help(FILE *f)
{
	size_t i;

	fprintf(f, "usage: ggen market <verb> [arguments] [--help]\n\n"
		   "The decentralized ggen package marketplace.\n\nVerbs:\n");
	for (i = 0; i < GM_ARRAY_LEN(verbs); i++)
		fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f, "\nEnvironment:\n"
		   "  GGEN_HOME  where the registry and blocks live "
		   "(default ~/.ggen)\n"
		   "  GGEN_LOG   error, warn, info or debug (default warn)\n\n"
		   "Exit status: 0 ok, 1 operational error, 2 usage error, "
		   "3 security refusal.\n");
}

static void top_help(FILE *f)
{
	fprintf(f, "usage: ggen [--version] [--help] market <verb> ...\n\n"
		   "Run 'ggen market --help' for the marketplace verbs.\n");
}

static int run_market(int argc, char **argv)
{
	const char *names[GM_ARRAY_LEN(verbs)];
	const char *best;
	size_t i;

	if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h") ||
	    !strcmp(argv[0], "help")) {
		market_help(argc < 1 ? stderr : stdout);
		return argc < 1 ? 2 : 0;
	}
	for (i = 0; i < GM_ARRAY_LEN(verbs); i++) {
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
			       GM_ARRAY_LEN(verbs), 3);
	if (best)
		return cli_usage("market", "unknown verb '%s'; did you mean "
				 "'%s'?", argv[0], best);
	return cli_usage("market", "unknown verb '%s'", argv[0]);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		top_help(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("ggen %s\n", GM_VERSION_STRING);
		return 0;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		top_help(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "market"))
		return run_market(argc - 2, argv + 2);
	return cli_usage(NULL, "unknown command '%s'; try 'ggen market'",
			 argv[1]);
}
