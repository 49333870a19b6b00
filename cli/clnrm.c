/*
 * clnrm.c - the `clnrm` front end: the marketplace engine for Cleanroom
 * validators (packages of kind "validator", WebAssembly plugins).
 *
 *   clnrm validator search | install | publish | list | info | remove
 *
 * The verbs are ggen market's, restricted to validators (cli_kind);
 * validators install into .ggen/validators/ of the project. Running them
 * comes with the plugin runtime.
 */
#include "cli.h"

#include "cmds.h"

#define CLNRM_HELP(verb, args, text)                                          \
	"usage: clnrm validator " verb " " args "\n\n" text

static const struct cli_verb verbs[] = {
	{"search", "search validators in the local registry",
	 CLNRM_HELP("search", "[WORDS...] [--json] [--limit N]",
		    "Searches the local registry's validators.\n\nExample:\n"
		    "  clnrm validator search security\n"),
	 cmd_search},
	{"install", "install validators into .ggen/validators",
	 CLNRM_HELP("install", "PACKAGE[@REQ]... [--trust-new] [--locked]",
		    "Resolves, verifies and installs validators into "
		    ".ggen/validators/.\n\nExample:\n"
		    "  clnrm validator install acme/security-scanner\n"),
	 cmd_install},
	{"publish", "sign and register a validator package",
	 CLNRM_HELP("publish", "[DIR] [--dry-run] [--key-file FILE] [--json]",
		    "Publishes a package of kind \"validator\" (see ggen market "
		    "publish).\n\nExample:\n"
		    "  clnrm validator publish ./my-validator\n"),
	 cmd_publish},
	{"list", "validators installed in this project",
	 CLNRM_HELP("list", "[--json]", "Lists the installed validators.\n"),
	 cmd_list},
	{"info", "versions, publisher and trust of a validator",
	 CLNRM_HELP("info", "PACKAGE [--json]",
		    "Shows a validator's versions, CID, signature and "
		    "trust.\n\nExample:\n"
		    "  clnrm validator info acme/security-scanner\n"),
	 cmd_info},
	{"remove", "remove an installed validator",
	 CLNRM_HELP("remove", "PACKAGE", "Removes a validator from the "
					 "project.\n\nExample:\n"
					 "  clnrm validator remove "
					 "acme/security-scanner\n"),
	 cmd_remove},
};

int main(int argc, char **argv)
{
	cli_prog = "clnrm";
	cli_group = "validator";
	cli_kind = GM_PACKAGE_VALIDATOR;
	if (argc >= 2 &&
	    (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		printf("clnrm %s\n", GM_VERSION_STRING);
		return 0;
	}
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fprintf(argc < 2 ? stderr : stdout,
			"usage: clnrm [--version] validator <verb> ...\n\n"
			"Run 'clnrm validator --help' for the verbs.\n");
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "validator"))
		return cli_usage(NULL, "unknown command '%s'; try 'clnrm "
				 "validator'",
				 argv[1]);
	return cli_run_verbs(verbs, GM_ARRAY_LEN(verbs),
			     "Cleanroom validators: WebAssembly plugins from "
			     "the ggen marketplace.",
			     argc - 2, argv + 2);
}
