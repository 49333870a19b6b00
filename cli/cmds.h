/*
 * cmds.h - the verbs of `ggen market`, one run function and help text each.
 */
#ifndef GM_CLI_CMDS_H
#define GM_CLI_CMDS_H

int cmd_cid(int argc, char **argv);
int cmd_store(int argc, char **argv);
int cmd_car(int argc, char **argv);
int cmd_manifest(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_publish(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_categories(int argc, char **argv);
int cmd_trust(int argc, char **argv);
int cmd_bundle(int argc, char **argv);
int cmd_install(int argc, char **argv);
int cmd_update(int argc, char **argv);
int cmd_remove(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_node(int argc, char **argv);

#include "gm/manifest.h"
struct gm_market;
/* GM_PACKAGE_VALIDATOR under clnrm: verbs act on validators only. */
extern enum gm_package_kind cli_kind;
/*
 * Turns "ns/name[@req]" or a bare "name[@req]" (unambiguous in the
 * registry) into ns and name; *req gets the text after '@' or NULL (req
 * NULL: a version is a usage error). Prints the error and returns the exit
 * status on failure, 0 on success.
 */
int cli_package_id(struct gm_market *m, const char *arg, char *ns, char *name,
		   const char **req);
/* Prints "package 'x' not found. Did you mean ...? Try ..." and returns 1. */
int cli_not_found(struct gm_market *m, const char *what);

#define CMD_KEY_HELP                                                          \
	"usage: ggen market key <action> [--handle NAME] [--seal] [--json]\n\n" \
	"Ed25519 signing keys of your publisher handles, in "               \
	"$GGEN_HOME/keys\n(mode 0600).\n\n"                                  \
	"Actions:\n"                                                         \
	"  generate --handle NAME [--seal]  make a key; --seal encrypts it "   \
	"with a\n"                                                           \
	"                                   passphrase (GGEN_PASSPHRASE or "   \
	"a prompt)\n"                                                        \
	"  list                             your keys and fingerprints\n"     \
	"  rotate --handle NAME             a new key, vouched for by the "   \
	"old one\n"                                                          \
	"  revoke --handle NAME             refuse the key's future "         \
	"releases\n\n"                                                        \
	"Examples:\n"                                                        \
	"  ggen market key generate --handle acme\n"                         \
	"  ggen market key rotate --handle acme\n"

#define CMD_PUBLISH_HELP                                                      \
	"usage: ggen market publish [DIR] [--dry-run] [--key-file FILE] "     \
	"[--json]\n\n"                                                        \
	"Checks DIR/ggen.toml, imports the folder into the block store, "     \
	"signs the\nrelease with the namespace's key and registers it. "      \
	".git/, .ggen/ and\n.ggenignore patterns are left out; symlinks and " \
	"special files are refused.\nThe key comes from --key-file, else "    \
	"GGEN_SIGNING_KEY (base64 seed, for CI),\nelse $GGEN_HOME/keys.\n\n"  \
	"Examples:\n"                                                        \
	"  ggen market publish ./web-framework\n"                            \
	"  ggen market publish ./web-framework --dry-run\n"

#define CMD_SEARCH_HELP                                                       \
	"usage: ggen market search [WORDS...] [--category C] [--keyword K] "  \
	"[--author A]\n"                                                     \
	"       [--license L] [--kind template|validator] "                  \
	"[--sort relevance|name|recent]\n"                                   \
	"       [--limit N] [--offset N] [--json]\n\n"                        \
	"Searches names, namespaces, keywords and descriptions of the "       \
	"local registry\n(prefixes match too); exact names come first.\n\n"  \
	"Example:\n"                                                         \
	"  ggen market search \"rust web framework\" --category web "        \
	"--limit 10\n"

#define CMD_INFO_HELP                                                         \
	"usage: ggen market info PACKAGE[@VERSION] [--json]\n\n"              \
	"Versions, dependencies, publisher, CID, signature and trust state "  \
	"of a package.\n\n"                                                   \
	"Example:\n"                                                         \
	"  ggen market info acme/web-framework\n"

#define CMD_CATEGORIES_HELP                                                   \
	"usage: ggen market categories [--json]\n\n"                          \
	"The categories and how many packages each holds.\n"

#define CMD_TRUST_HELP                                                        \
	"usage: ggen market trust <action> [KEY] [--level L] [--json]\n\n"    \
	"Which publishers' releases may be installed. KEY is a fingerprint "  \
	"(SHA256:...),\nat least 8 of its characters, or a handle.\n\n"      \
	"Actions:\n"                                                         \
	"  add KEY [--level marginal|full|ultimate]   trust it (default "     \
	"full)\n"                                                            \
	"  list                                       every key seen, with "  \
	"its level\n"                                                        \
	"  remove KEY                                 back to untrusted\n"   \
	"  revoke KEY                                 distrust it, even "     \
	"against --trust-new\n\n"                                             \
	"Example:\n"                                                         \
	"  ggen market trust add SHA256:q1w2e3r4...\n"

#define CMD_INSTALL_HELP                                                      \
	"usage: ggen market install [PACKAGE[@REQ]...] [--locked] "          \
	"[--trust-new] [--link]\n"                                           \
	"                           [-C DIR] [--json]\n\n"                   \
	"Resolves the project's requirements (plus the packages given) "      \
	"against the\nlocal registry, verifies every block, signature and "   \
	"publisher, installs into\n.ggen/packages/ and writes ggen.lock; a "  \
	"failure leaves the project as it was.\n"                            \
	"  --locked     install exactly ggen.lock; fail if it would change\n" \
	"  --trust-new  trust (and pin) publishers seen for the first time\n" \
	"  --link       hard-link small files to the store (they share "      \
	"bytes)\n\n"                                                          \
	"Examples:\n"                                                        \
	"  ggen market install acme/web-framework@^1.2\n"                    \
	"  ggen market install --locked\n"

#define CMD_UPDATE_HELP                                                       \
	"usage: ggen market update [PACKAGE...] [-C DIR] [--json]\n\n"        \
	"Moves the given packages (or all) to the newest versions the "       \
	"requirements\nallow, and rewrites ggen.lock.\n\nExample:\n"          \
	"  ggen market update acme/web-framework\n"

#define CMD_REMOVE_HELP                                                       \
	"usage: ggen market remove PACKAGE... [-C DIR] [--json]\n\n"          \
	"Drops packages from the project's requirements; what nothing "       \
	"needs any more\nis uninstalled.\n\nExample:\n"                      \
	"  ggen market remove acme/web-framework\n"

#define CMD_LIST_HELP                                                         \
	"usage: ggen market list [-C DIR] [--json]\n\n"                      \
	"The packages installed in the project (from ggen.lock).\n"

#define CMD_VERIFY_HELP                                                       \
	"usage: ggen market verify [-C DIR] [--json] [--repair]\n\n"         \
	"Checks the registry database, re-hashes every stored block, and "    \
	"checks that\nthe project's installed packages match ggen.lock.\n\n" \
	"--repair moves corrupt block files to blocks/quarantine/ (bytes "    \
	"kept) and\nmarks the releases that lack them; moves a damaged "      \
	"registry.db aside to\nregistry.db.corrupt-<UTC time> and rebuilds " \
	"it from the signed records in\nthe block store, with the same "      \
	"checks as a bundle import. Trust decisions\nabout other publishers " \
	"live only in the database: the output lists them\nwith the `trust " \
	"add` to run. Exits 0 when the node is consistent afterwards.\n"

#define CMD_GC_HELP                                                           \
	"usage: ggen market gc [--json]\n\n"                                 \
	"Deletes stored blocks that no published or imported release "        \
	"needs.\n"

#define CMD_BUNDLE_HELP                                                       \
	"usage: ggen market bundle export PACKAGE[@REQ]... -o FILE\n"         \
	"       ggen market bundle import FILE [--trust-new] [--json]\n\n"    \
	"A bundle is a CAR file with the packages, their dependencies and "   \
	"the signed\nrecords that vouch for them, for sites with no "         \
	"network. Import makes\nthe same checks as the network.\n\n"         \
	"Examples:\n"                                                        \
	"  ggen market bundle export acme/web-framework -o bundle.car\n"     \
	"  ggen market bundle import bundle.car\n"

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

#define CMD_NODE_HELP                                                         \
	"usage: ggen market node <action> ...\n\n"                             \
	"The libp2p node (TCP, Noise, Yamux). Its key is $GGEN_HOME/node/key"\
	"\n(Ed25519, mode 0600), made on first use.\n\n"                       \
	"Actions:\n"                                                          \
	"  id [--json]                       the peer id, then the running\n"  \
	"                                    node's (or the configured)\n"      \
	"                                    listen addresses\n"                \
	"  start [--listen MULTIADDR]... [--bootstrap MULTIADDR]...\n"        \
	"                                    run until SIGINT/SIGTERM; keeps\n" \
	"                                    bootstrap peers connected\n"       \
	"  bootstrap add|rm|list ...         the bootstrap peers in\n"          \
	"                                    $GGEN_HOME/node/config.json\n"     \
	"                                    (see node bootstrap --help)\n"     \
	"  ping MULTIADDR [-c N]             ping a node N times (default "    \
	"10)\n\n"                                                             \
	"Examples:\n"                                                         \
	"  ggen market node start --listen /ip4/127.0.0.1/tcp/4001\n"         \
	"  ggen market node ping /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW... "     \
	"-c 3\n"

#endif
