/*
 * cmds.h - the verbs of `ggen market`, one run function and help text each.
 */
#ifndef GM_CLI_CMDS_H
#define GM_CLI_CMDS_H

int cmd_cid(int argc, char **argv);
int cmd_store(int argc, char **argv);
int cmd_car(int argc, char **argv);
int cmd_manifest(int argc, char **argv);

#define CMD_CID_HELP                                                          \
	"usage: ggen market cid [--json] PATH...\n\n"                         \
	"Computes the root CID of each file or folder, exactly as\n"          \
	"`ipfs add -r -Q -n --cid-version=1` would, without storing "         \
	"anything.\n\n"                                                       \
	"Options:\n"                                                          \
	"  --json   print {\"path\", \"cid\", \"size\", \"blocks\"} per "     \
	"line\n\n"                                                            \
	"Examples:\n"                                                         \
	"  ggen market cid ./my-package\n"                                    \
	"  ggen market cid --json README.md\n"

#define CMD_STORE_HELP                                                        \
	"usage: ggen market store <action> ...\n\n"                           \
	"The content-addressed block store under $GGEN_HOME/blocks.\n\n"      \
	"Actions:\n"                                                          \
	"  add [--json] [--no-pin] PATH   import a file or folder, print "    \
	"its root CID;\n"                                                     \
	"                                 the root is pinned unless "         \
	"--no-pin\n"                                                          \
	"  get CID -o OUT                 export the DAG back to files, "     \
	"every block verified\n"                                              \
	"  verify [--json]                re-hash every block, list the "     \
	"corrupt ones\n"                                                      \
	"  gc [--json]                    delete blocks no pin reaches\n"     \
	"  stat [--json]                  blocks, bytes and pins\n"           \
	"  pin add|rm CID | pin ls        manage recursive pins\n\n"          \
	"Examples:\n"                                                         \
	"  ggen market store add ./my-package\n"                              \
	"  ggen market store get bafybei... -o ./out\n"                       \
	"  ggen market store verify\n"

#define CMD_CAR_HELP                                                          \
	"usage: ggen market car <action> ...\n\n"                             \
	"CAR v1 files, for moving content without a network.\n\n"             \
	"Actions:\n"                                                          \
	"  export CID -o FILE     write the DAG under CID from the local "    \
	"store\n"                                                             \
	"  import [--json] FILE   verify every block, then store them all "   \
	"(nothing\n"                                                          \
	"                         is kept when any block fails)\n\n"          \
	"Examples:\n"                                                         \
	"  ggen market car export bafybei... -o pkg.car\n"                    \
	"  ggen market car import pkg.car\n"

#define CMD_MANIFEST_HELP                                                     \
	"usage: ggen market manifest check [--json] [PATH]\n\n"               \
	"Parses and validates PATH/ggen.toml (PATH defaults to the current\n" \
	"folder; PATH may also name the file). Errors give line:column.\n\n"  \
	"Example:\n"                                                          \
	"  ggen market manifest check ./my-package\n"

#endif
