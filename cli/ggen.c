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
	{"install", "install packages into this project, write ggen.lock",
	 CMD_INSTALL_HELP, cmd_install},
	{"list", "packages installed in this project", CMD_LIST_HELP,
	 cmd_list},
	{"update", "move packages to their newest allowed versions",
	 CMD_UPDATE_HELP, cmd_update},
	{"remove", "remove packages from this project", CMD_REMOVE_HELP,
	 cmd_remove},
	{"verify", "check the registry, the blocks and the project",
	 CMD_VERIFY_HELP, cmd_verify},
	{"gc", "delete blocks nothing needs", CMD_GC_HELP, cmd_gc},
	{"node", "the libp2p node: id, start, bootstrap, ping", CMD_NODE_HELP, cmd_node},
};

static void top_help(FILE *f)
{
	fprintf(f, "usage: ggen [--version] [--help] market <verb> ...\n\n"
		   "Run 'ggen market --help' for the marketplace verbs.\n");
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
		return cli_run_verbs(verbs, GM_ARRAY_LEN(verbs),
				     "The decentralized ggen package "
				     "marketplace.",
				     argc - 2, argv + 2);
	return cli_usage(NULL, "unknown command '%s'; try 'ggen market'",
			 argv[1]);
}
