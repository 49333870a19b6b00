/*
 * cmd_node.c - `ggen market node id | start | ping | bootstrap`: the libp2p
 * node. The node's files live in $GGEN_HOME/node (folder 0700):
 *   | file        | what                                  | written by     |
 *   |-------------|---------------------------------------|----------------|
 *   | key         | Ed25519 key (0600); the peer id       | first use      |
 *   | config.json | {"listen": [MA..], "bootstrap": [MA..]} | bootstrap add, |
 *   |             |                                       | bootstrap rm   |
 *   | addrs       | "pid N", then a listen MA/p2p/ID a line | running start |
 * config.json and addrs are replaced atomically (mode 0600); config.json
 * is made on the first `bootstrap add`, keeps keys it does not know, and
 * a malformed one is an error that leaves it untouched. Bootstrap
 * addresses in it must end in /p2p/<peer id>; listen addresses carry none.
 * addrs exists while `start` runs and goes on a clean exit; `id` trusts it
 * only while the pid on its first line is alive.
 * `start` keeps a connection to every bootstrap peer: a failed dial or a
 * dropped connection is redialed after a backoff of 1 s doubling to 60 s,
 * back to 1 s after a connection that lasted 60 s or more.
 * `bootstrap rm` is all or nothing: when any address given is not in the
 * list, each missing one is named, nothing is removed, and it exits 1.
 * Output contract (tests and interop scripts read it; keep it exact):
 *   | verb  | stream | line                                              |
 *   |-------|--------|---------------------------------------------------|
 *   | id    | stdout | 12D3KooW...  (always the first line)              |
 *   | id    | stdout | /ip4/127.0.0.1/tcp/40001/p2p/12D3KooW... (running)|
 *   | id    | stdout | /ip4/0.0.0.0/tcp/4001/p2p/12D3KooW... (configured, |
 *   |       |        | not running)                                      |
 *   | id    | stdout | --json: {"id":..., "addrs":[...], "running":bool} |
 *   | start | stdout | listening on /ip4/127.0.0.1/tcp/40001/p2p/12D3KooW...|
 *   | start | stderr | connected to 12D3KooW...                          |
 *   | start | stderr | bootstrap MA: REASON; retrying in N s             |
 *   | ping  | stdout | PING 12D3KooW...                                  |
 *   | ping  | stdout | Pong received: time=0.42 ms                       |
 *   | ping  | stdout | Average latency: 0.45ms                           |
 *   | bootstrap add  | stdout | added MA                                 |
 *   | bootstrap rm   | stdout | removed MA                               |
 *   | bootstrap list | stdout | MA (one a line); --json: ["MA", ...]     |
 * stdout is flushed after each line. Exit: 0 ok, 1 operational error (a
 * network error, a malformed config.json, an address rm did not find), 2
 * usage, 3 peer id mismatch.
 */
#include "cli.h"

#include <signal.h>

#include <uv.h>

#include "cmds.h"
#include "gm/alloc.h"
#include "gm/buf.h"
#include "gm/fs.h"
#include "gm/host.h"
#include "gm/keys.h"

#define NODE_MAX_LISTEN GM_HOST_MAX_LISTENERS
#define NODE_MAX_BOOTSTRAP 64
#define NODE_MAX_CLI_BOOTSTRAP 16
#define NODE_DIAL_TIMEOUT_MS 10000
#define NODE_PING_TIMEOUT_MS 10000
#define NODE_CONFIG_MAX (256u * 1024)
#define NODE_ADDRS_MAX (64u * 1024)
#define NODE_DEFAULT_LISTEN "/ip4/0.0.0.0/tcp/4001"
#define NODE_BACKOFF_MIN_MS 1000u
#define NODE_BACKOFF_MAX_MS 60000u
/* A connection that lasted this long resets the backoff. */
#define NODE_STABLE_MS 60000u
/* A ping on every bootstrap connection this often keeps it from idling. */
#define NODE_KEEPALIVE_MS 30000u

#define NODE_START_HELP                                                       \
	"usage: ggen market node start [--listen MULTIADDR]... "              \
	"[--bootstrap MULTIADDR]...\n\n"                                      \
	"Runs the libp2p node until SIGINT or SIGTERM.\n\n"                   \
	"Listen addresses: each --listen; without one, the \"listen\" list "  \
	"of\n$GGEN_HOME/node/config.json; when that is empty or missing, "    \
	"the default\n" NODE_DEFAULT_LISTEN ". Which one is used is said "    \
	"on stderr; each actual\naddress is printed on stdout as "            \
	"'listening on MULTIADDR/p2p/PEERID'\nand written to "                \
	"$GGEN_HOME/node/addrs (removed on exit; `node id` reads it).\n\n"    \
	"Bootstrap peers: every address of the \"bootstrap\" list of "        \
	"config.json\n(see `ggen market node bootstrap --help`) and each "    \
	"--bootstrap. The node\nkeeps them connected: a failed dial or a "    \
	"dropped connection is redialed\nafter 1 s, then 2, 4, ... up to "    \
	"60 s; a connection that lasted 60 s resets\nthe wait. stderr says "  \
	"'connected to PEERID' and\n'bootstrap MULTIADDR: REASON; retrying " \
	"in N s'.\nEach bootstrap peer is pinged every \"keepalive_s\" "      \
	"(default 30) so neither\nside prunes the connection as idle.\n\n"      \
	"Clocks in config.json (whole seconds): \"idle_timeout_s\" (default "  \
	"300),\nafter which a connection with no stream is closed, and "       \
	"\"keepalive_s\".\n\n"                                                 \
	"Examples:\n"                                                         \
	"  ggen market node start\n"                                          \
	"  ggen market node start --listen /ip4/127.0.0.1/tcp/4001 \\\n"      \
	"      --bootstrap /ip4/10.0.0.2/tcp/4001/p2p/12D3KooW...\n"

#define NODE_BOOTSTRAP_HELP                                                   \
	"usage: ggen market node bootstrap add MULTIADDR...\n"                \
	"       ggen market node bootstrap rm MULTIADDR... | rm --all\n"      \
	"       ggen market node bootstrap list [--json]\n\n"                 \
	"The peers `node start` dials and keeps connected, kept in the "      \
	"\"bootstrap\"\nlist of $GGEN_HOME/node/config.json (made on the "    \
	"first add, mode 0600,\nreplaced atomically; its other keys, such "   \
	"as \"listen\", are kept).\n\n"                                       \
	"  add    each MULTIADDR must end in /p2p/PEERID (exit 2 otherwise, " \
	"nothing\n         added); one already in the list is not added "   \
	"twice (a note says so)\n"                                           \
	"  rm     all or nothing: if any MULTIADDR is not in the list, each " \
	"such one is\n         named, nothing is removed, exit 1; --all "    \
	"empties the list\n"                                                 \
	"  list   one address a line; --json prints a JSON list\n\n"          \
	"A malformed config.json is reported with what is wrong and is "      \
	"never\noverwritten: fix it by hand, or move it away to start "       \
	"afresh.\n\n"                                                         \
	"Examples:\n"                                                         \
	"  ggen market node bootstrap add "                                   \
	"/ip4/10.0.0.2/tcp/4001/p2p/12D3KooW...\n"                            \
	"  ggen market node bootstrap list --json\n"                         \
	"  ggen market node bootstrap rm --all\n"

/* $GGEN_HOME/node/<name> as a new string; NULL (error printed) on ENOMEM. */
static char *node_file(const char *name)
{
	char *home = cli_home(), *dir = NULL, *path = NULL;

	if (home)
		dir = gm_path_join(home, "node");
	if (dir)
		path = name ? gm_path_join(dir, name) : gm_strdup(dir);
	gm_free(dir);
	gm_free(home);
	if (!path)
		cli_fail(GM_ENOMEM, NULL, "cannot find the node folder");
	return path;
}

/* Loads $GGEN_HOME/node/key, creating it on first use. Prints errors. */
static int node_key(struct gm_key *k)
{
	struct gm_diag d;
	char *dir = NULL, *path = NULL;
	struct stat st;
	int rc = 0;
	gm_err e;

	gm_diag_clear(&d);
	dir = node_file(NULL);
	path = node_file("key");
	if (!dir || !path) {
		rc = 1;
		goto free_paths;
	}
	if (stat(path, &st) == 0) {
		e = gm_key_load_file(k, path, NULL, &d);
		if (e)
			rc = cli_fail(e, &d, "cannot load the node key %s "
				      "(remove it to make a new one)", path);
		goto free_paths;
	}
	e = gm_fs_mkdir_p(dir, 0700, &d);
	if (!e)
		e = gm_key_generate(k, "node", (uint64_t)time(NULL), &d);
	if (!e)
		e = gm_key_save_file(path, k, NULL, &d);
	if (e)
		rc = cli_fail(e, &d, "cannot create the node key %s", path);
free_paths:
	gm_free(path);
	gm_free(dir);
	return rc;
}

static int parse_ma(const char *verb, const char *text,
		    struct gm_multiaddr *ma)
{
	struct gm_diag d;

	gm_diag_clear(&d);
	if (gm_multiaddr_parse(ma, text, strlen(text), &d))
		return cli_usage(verb, "'%s' is not a multiaddr: %s", text,
				 d.msg);
	return 0;
}

/*
 * Why ma cannot be a bootstrap address (it must be an address followed by
 * a final /p2p/<peer id>), or NULL when it can.
 */
static const char *bootstrap_problem(const struct gm_multiaddr *ma)
{
	struct gm_multiaddr_comp c;
	size_t off = 0, n = 0;
	uint64_t last = 0;

	while (gm_multiaddr_next(ma, &off, &c)) {
		last = c.code;
		n++;
	}
	if (last != GM_MA_P2P)
		return "it does not end in /p2p/<peer id>, so the peer "
		       "cannot be checked; append the peer's id (its "
		       "`ggen market node id`)";
	if (n < 2)
		return "it has no address to dial before /p2p; give one "
		       "such as /ip4/A/tcp/P/p2p/<peer id>";
	return NULL;
}

static bool has_p2p(const struct gm_multiaddr *ma)
{
	struct gm_peerid id;

	return gm_multiaddr_peerid(ma, &id);
}

static void format_ma(const struct gm_multiaddr *ma,
		      char text[GM_MULTIADDR_MAX_STR])
{
	if (!gm_multiaddr_format(ma, text, GM_MULTIADDR_MAX_STR))
		text[0] = '\0';
}

/* ---- config.json ---- */

struct node_config {
	char *dir, *path;
	json_t *root; /* the whole file; NULL when there is none yet */
	struct gm_multiaddr listen[NODE_MAX_LISTEN];
	size_t n_listen;
	struct gm_multiaddr boot[NODE_MAX_BOOTSTRAP];
	size_t n_boot;
	uint64_t idle_s;      /* "idle_timeout_s"; 0: the host's default */
	uint64_t keepalive_s; /* "keepalive_s"; 0: NODE_KEEPALIVE_MS */
};

/*
 * Reads the whole number of seconds field (1..max) into *out, leaving it 0
 * when the field is absent; the diag names what is wrong.
 */
static gm_err config_seconds(struct node_config *c, const char *field,
			     uint64_t max, uint64_t *out, struct gm_diag *d)
{
	json_t *v = json_object_get(c->root, field);

	*out = 0;
	if (!v)
		return GM_OK;
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    (uint64_t)json_integer_value(v) > max)
		return gm_diag_set(d, GM_EFORMAT,
				   "%s: \"%s\" must be a whole number of "
				   "seconds from 1 to %" PRIu64 "; fix the file "
				   "by hand (it was left as it is)",
				   c->path, field, max);
	*out = (uint64_t)json_integer_value(v);
	return GM_OK;
}

static void config_free(struct node_config *c)
{
	if (!c)
		return;
	json_decref(c->root);
	gm_free(c->path);
	gm_free(c->dir);
	gm_free(c);
}

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "a list";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/* Reads field of c->root into out[0..max); the diag names what is wrong. */
static gm_err config_list(struct node_config *c, const char *field,
			  struct gm_multiaddr *out, size_t max, size_t *n,
			  struct gm_diag *d)
{
	static const char fix[] = "fix the file by hand (it was left as it is)";
	json_t *list = json_object_get(c->root, field), *v;
	struct gm_diag pd;
	const char *s, *why;
	size_t i;
	bool boot = !strcmp(field, "bootstrap");

	*n = 0;
	if (!list)
		return GM_OK;
	if (!json_is_array(list))
		return gm_diag_set(d, GM_EFORMAT,
				   "%s: \"%s\" is %s, not a list of "
				   "multiaddr strings such as [\"%s\"]; %s",
				   c->path, field, json_kind(list),
				   boot ? "/ip4/10.0.0.2/tcp/4001/p2p/"
					  "12D3KooW..." :
					  "/ip4/0.0.0.0/tcp/4001",
				   fix);
	if (json_array_size(list) > max)
		return gm_diag_set(d, GM_ELIMIT,
				   "%s: \"%s\" holds %zu addresses, more than "
				   "the %zu allowed; %s", c->path, field,
				   json_array_size(list), max, fix);
	json_array_foreach(list, i, v) {
		if (!json_is_string(v))
			return gm_diag_set(d, GM_EFORMAT,
					   "%s: \"%s\"[%zu] is %s, not a "
					   "multiaddr string; %s", c->path,
					   field, i, json_kind(v), fix);
		s = json_string_value(v);
		gm_diag_clear(&pd);
		if (gm_multiaddr_parse(&out[i], s, json_string_length(v), &pd))
			return gm_diag_set(d, GM_EFORMAT,
					   "%s: \"%s\"[%zu] '%s' is not a "
					   "multiaddr: %s; %s", c->path,
					   field, i, s, pd.msg, fix);
		why = boot ? bootstrap_problem(&out[i]) :
			     has_p2p(&out[i]) ? "a listen address takes no "
						"/p2p (the node adds its own)" :
						NULL;
		if (why)
			return gm_diag_set(d, GM_EFORMAT,
					   "%s: \"%s\"[%zu] '%s' is not "
					   "usable: %s; %s", c->path, field,
					   i, s, why, fix);
	}
	*n = json_array_size(list);
	return GM_OK;
}

/* Loads config.json (none: empty lists). Prints errors, returns exit. */
static int config_load(struct node_config **out)
{
	struct node_config *c;
	struct gm_buf buf;
	struct gm_diag d;
	json_error_t je;
	int rc = 0;
	gm_err e;

	*out = NULL;
	c = gm_calloc(1, sizeof(*c));
	if (!c)
		return cli_fail(GM_ENOMEM, NULL, "cannot load the node config");
	c->dir = node_file(NULL);
	c->path = node_file("config.json");
	if (!c->dir || !c->path) {
		config_free(c);
		return 1;
	}
	gm_diag_clear(&d);
	gm_buf_init(&buf, NODE_CONFIG_MAX);
	e = gm_fs_read_file(c->path, &buf, &d);
	if (e == GM_ENOENT) {
		gm_buf_release(&buf);
		*out = c;
		return 0;
	}
	if (e) {
		rc = cli_fail(e == GM_EINVAL ? GM_EFORMAT : e, &d,
			      "cannot read the node config");
		goto fail;
	}
	c->root = json_loadb((const char *)buf.data, buf.len,
			     JSON_REJECT_DUPLICATES, &je);
	if (!c->root) {
		gm_diag_set_at(&d, GM_EPARSE, (uint32_t)je.line,
			       (uint32_t)je.column,
			       "%s:%d:%d: not valid JSON: %s; fix the file by "
			       "hand (it was left as it is)", c->path, je.line,
			       je.column, je.text);
		rc = cli_fail(GM_EPARSE, &d, "bad node config");
		goto fail;
	}
	if (!json_is_object(c->root)) {
		gm_diag_set(&d, GM_EFORMAT,
			    "%s: the file holds %s, not an object such as "
			    "{\"listen\": [], \"bootstrap\": []}; fix the file "
			    "by hand (it was left as it is)", c->path,
			    json_kind(c->root));
		rc = cli_fail(GM_EFORMAT, &d, "bad node config");
		goto fail;
	}
	e = config_list(c, "listen", c->listen, NODE_MAX_LISTEN, &c->n_listen,
			&d);
	if (!e)
		e = config_list(c, "bootstrap", c->boot, NODE_MAX_BOOTSTRAP,
				&c->n_boot, &d);
	if (!e)
		e = config_seconds(c, "idle_timeout_s", 86400, &c->idle_s, &d);
	if (!e)
		e = config_seconds(c, "keepalive_s", 3600, &c->keepalive_s,
				   &d);
	if (e) {
		rc = cli_fail(e, &d, "bad node config");
		goto fail;
	}
	gm_buf_release(&buf);
	*out = c;
	return 0;
fail:
	gm_buf_release(&buf);
	config_free(c);
	return rc;
}

static int config_nomem(void)
{
	return cli_fail(GM_ENOMEM, NULL, "cannot write the node config");
}

/* Writes c (its bootstrap list replaced) atomically. Prints errors. */
static int config_save(struct node_config *c)
{
	char text[GM_MULTIADDR_MAX_STR];
	json_t *list;
	struct gm_diag d;
	char *s;
	size_t i;
	gm_err e = GM_OK;

	if (!c->root) {
		c->root = json_object();
		if (!c->root ||
		    json_object_set_new(c->root, "listen", json_array()))
			return config_nomem();
	}
	list = json_array();
	if (!list)
		return config_nomem();
	for (i = 0; i < c->n_boot; i++) {
		format_ma(&c->boot[i], text);
		if (json_array_append_new(list, json_string(text))) {
			json_decref(list);
			return config_nomem();
		}
	}
	if (json_object_set_new(c->root, "bootstrap", list))
		return config_nomem();
	s = json_dumps(c->root, JSON_INDENT(2));
	if (!s)
		return config_nomem();
	gm_diag_clear(&d);
	e = gm_fs_mkdir_p(c->dir, 0700, &d);
	if (!e) {
		size_t len = strlen(s);
		char *t = gm_malloc(len + 2);

		if (!t) {
			e = GM_ENOMEM;
		} else {
			memcpy(t, s, len);
			t[len] = '\n';
			e = gm_fs_write_atomic(c->path, t, len + 1, 0600, &d);
			gm_free(t);
		}
	}
	free(s);
	if (e)
		return cli_fail(e, &d, "cannot write the node config %s",
				c->path);
	return 0;
}

/* ---- node bootstrap ---- */

static bool boot_has(const struct gm_multiaddr *list, size_t n,
		     const struct gm_multiaddr *ma, size_t *at)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (gm_multiaddr_equal(&list[i], ma)) {
			if (at)
				*at = i;
			return true;
		}
	return false;
}

static int bootstrap_add(size_t n, const char *const *args)
{
	struct gm_multiaddr *want;
	struct node_config *c;
	char text[GM_MULTIADDR_MAX_STR];
	const char *why;
	size_t i, added = 0;
	int rc;

	if (!n)
		return cli_usage("node bootstrap",
				 "'node bootstrap add' needs one or more "
				 "MULTIADDR, e.g. /ip4/10.0.0.2/tcp/4001/p2p/"
				 "12D3KooW...");
	if (n > NODE_MAX_BOOTSTRAP)
		return cli_usage("node bootstrap", "at most %d addresses at "
				 "once", NODE_MAX_BOOTSTRAP);
	want = gm_calloc(n, sizeof(*want));
	if (!want)
		return cli_fail(GM_ENOMEM, NULL, "cannot add");
	for (i = 0; i < n; i++) {
		if ((rc = parse_ma("node bootstrap", args[i], &want[i])))
			goto free_want;
		if ((why = bootstrap_problem(&want[i]))) {
			rc = cli_usage("node bootstrap", "'%s' cannot be a "
				       "bootstrap address: %s; nothing was "
				       "added", args[i], why);
			goto free_want;
		}
	}
	if ((rc = config_load(&c)))
		goto free_want;
	for (i = 0; i < n; i++) {
		format_ma(&want[i], text);
		if (boot_has(c->boot, c->n_boot, &want[i], NULL)) {
			fprintf(stderr, "%s: note: %s is already a bootstrap "
				"address; not added twice\n", cli_prog, text);
			continue;
		}
		if (c->n_boot == NODE_MAX_BOOTSTRAP) {
			rc = cli_fail(GM_ELIMIT, NULL, "%s already holds %d "
				      "bootstrap addresses, the most allowed; "
				      "remove some with 'ggen market node "
				      "bootstrap rm' (nothing was added)",
				      c->path, NODE_MAX_BOOTSTRAP);
			goto free_config;
		}
		c->boot[c->n_boot++] = want[i];
		added++;
	}
	if (added && (rc = config_save(c)))
		goto free_config;
	for (i = 0; i < c->n_boot; i++)
		if (i >= c->n_boot - added) {
			format_ma(&c->boot[i], text);
			printf("added %s\n", text);
		}
	fflush(stdout);
free_config:
	config_free(c);
free_want:
	gm_free(want);
	return rc;
}

static int bootstrap_rm(size_t n, const char *const *args, bool all)
{
	struct gm_multiaddr *gone;
	struct node_config *c;
	char text[GM_MULTIADDR_MAX_STR];
	size_t i, j, at, n_gone = 0, missing = 0;
	int rc;

	if (all && n)
		return cli_usage("node bootstrap", "'node bootstrap rm' takes "
				 "either --all or addresses, not both");
	if (!all && !n)
		return cli_usage("node bootstrap", "'node bootstrap rm' needs "
				 "one or more MULTIADDR (as 'node bootstrap "
				 "list' prints them), or --all");
	if (n > NODE_MAX_BOOTSTRAP)
		return cli_usage("node bootstrap", "at most %d addresses at "
				 "once", NODE_MAX_BOOTSTRAP);
	gone = gm_calloc(NODE_MAX_BOOTSTRAP, sizeof(*gone));
	if (!gone)
		return cli_fail(GM_ENOMEM, NULL, "cannot remove");
	for (i = 0; i < n; i++)
		if ((rc = parse_ma("node bootstrap", args[i], &gone[i])))
			goto free_gone;
	if ((rc = config_load(&c)))
		goto free_gone;
	if (all) {
		n_gone = c->n_boot;
		memcpy(gone, c->boot, n_gone * sizeof(*gone));
		c->n_boot = 0;
	} else {
		for (i = 0; i < n; i++)
			if (!boot_has(c->boot, c->n_boot, &gone[i], NULL)) {
				fprintf(stderr, "%s: error: %s is not a "
					"bootstrap address (see 'ggen market "
					"node bootstrap list')\n", cli_prog,
					args[i]);
				missing++;
			}
		if (missing) {
			fprintf(stderr, "%s: nothing was removed\n", cli_prog);
			rc = 1;
			goto free_config;
		}
		for (i = 0; i < n; i++) {
			if (!boot_has(c->boot, c->n_boot, &gone[i], &at))
				continue; /* given twice */
			for (j = at; j + 1 < c->n_boot; j++)
				c->boot[j] = c->boot[j + 1];
			c->n_boot--;
			gone[n_gone++] = gone[i];
		}
	}
	if (n_gone && (rc = config_save(c)))
		goto free_config;
	for (i = 0; i < n_gone; i++) {
		format_ma(&gone[i], text);
		printf("removed %s\n", text);
	}
	fflush(stdout);
free_config:
	config_free(c);
free_gone:
	gm_free(gone);
	return rc;
}

static int bootstrap_list(bool json)
{
	struct node_config *c;
	char text[GM_MULTIADDR_MAX_STR];
	json_t *list = NULL;
	size_t i;
	int rc;

	if ((rc = config_load(&c)))
		return rc;
	if (json && !(list = json_array())) {
		config_free(c);
		return cli_fail(GM_ENOMEM, NULL, "cannot list");
	}
	for (i = 0; i < c->n_boot; i++) {
		format_ma(&c->boot[i], text);
		if (!json)
			printf("%s\n", text);
		else if (json_array_append_new(list, json_string(text)))
			rc = 1;
	}
	config_free(c);
	if (json) {
		if (rc) {
			json_decref(list);
			return cli_fail(GM_ENOMEM, NULL, "cannot list");
		}
		return cli_print_json(list);
	}
	fflush(stdout);
	return 0;
}

static int node_bootstrap(int argc, char **argv)
{
	bool json = false, all = false;
	struct cli_opt opts[] = {{"json", 0, &json, NULL},
				 {"all", 0, &all, NULL}};
	struct cli_args a;
	const char *act;
	int rc;

	if ((rc = cli_parse(argc, argv, opts, GM_ARRAY_LEN(opts), &a,
			    "node bootstrap")))
		return rc;
	if (a.help) {
		fputs(NODE_BOOTSTRAP_HELP, stdout);
		return 0;
	}
	if (!a.n_pos)
		return cli_usage("node bootstrap", "'node bootstrap' needs an "
				 "action: add, rm or list");
	act = a.pos[0];
	if (strcmp(act, "list") && json)
		return cli_usage("node bootstrap", "--json goes with 'node "
				 "bootstrap list' only");
	if (strcmp(act, "rm") && all)
		return cli_usage("node bootstrap", "--all goes with 'node "
				 "bootstrap rm' only");
	if (!strcmp(act, "add"))
		return bootstrap_add(a.n_pos - 1, a.pos + 1);
	if (!strcmp(act, "rm"))
		return bootstrap_rm(a.n_pos - 1, a.pos + 1, all);
	if (!strcmp(act, "list")) {
		if (a.n_pos > 1)
			return cli_usage("node bootstrap", "'node bootstrap "
					 "list' takes no arguments");
		return bootstrap_list(json);
	}
	return cli_usage("node bootstrap", "unknown action '%s'; use add, rm "
			 "or list", act);
}

/* ---- $GGEN_HOME/node/addrs ---- */

static bool pid_alive(long pid)
{
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/*
 * Reads the addrs file: the pid and the addresses (into *addrs, a new JSON
 * list). false when it is missing or not in the expected form.
 */
static bool addrs_read(const char *path, long *pid, json_t **addrs)
{
	struct gm_multiaddr ma;
	struct gm_buf buf;
	const char *p, *end, *nl;
	char *num_end;
	bool ok = false;

	*addrs = NULL;
	gm_buf_init(&buf, NODE_ADDRS_MAX);
	if (gm_fs_read_file(path, &buf, NULL) || buf.len < 5 ||
	    memcmp(buf.data, "pid ", 4))
		goto out;
	p = (const char *)buf.data;
	end = p + buf.len;
	errno = 0;
	*pid = strtol(p + 4, &num_end, 10);
	if (errno || num_end == p + 4 || num_end >= end || *num_end != '\n')
		goto out;
	if (!(*addrs = json_array()))
		goto out;
	for (p = num_end + 1; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			goto out;
		if (nl == p)
			continue;
		if (gm_multiaddr_parse(&ma, p, (size_t)(nl - p), NULL) ||
		    json_array_append_new(*addrs,
					  json_stringn(p, (size_t)(nl - p))))
			goto out;
	}
	ok = true;
out:
	if (!ok) {
		json_decref(*addrs);
		*addrs = NULL;
	}
	gm_buf_release(&buf);
	return ok;
}

/* ---- node id ---- */

static int node_id(int argc, char **argv)
{
	bool json = false, running;
	struct cli_opt opts[] = {{"json", 0, &json, NULL}};
	struct cli_args a;
	struct gm_key k;
	struct gm_peerid id;
	struct node_config *c;
	struct gm_multiaddr def;
	char text[GM_PEERID_MAX_STR], ma[GM_MULTIADDR_MAX_STR];
	char *path;
	json_t *addrs = NULL, *v;
	size_t i;
	long pid = 0;
	int rc;

	if ((rc = cli_parse(argc, argv, opts, GM_ARRAY_LEN(opts), &a,
			    "node")))
		return rc;
	if (a.help) {
		fputs(CMD_NODE_HELP, stdout);
		return 0;
	}
	if (a.n_pos)
		return cli_usage("node", "'node id' takes no arguments");
	if ((rc = node_key(&k)))
		return rc;
	gm_peerid_from_ed25519(&id, k.pk);
	gm_key_release(&k);
	gm_peerid_format(&id, text, sizeof(text));
	if (!(path = node_file("addrs")))
		return 1;
	running = addrs_read(path, &pid, &addrs) && pid_alive(pid);
	gm_free(path);
	if (!running) {
		json_decref(addrs);
		if ((rc = config_load(&c)))
			return rc;
		if (!c->n_listen &&
		    !gm_multiaddr_parse(&def, NODE_DEFAULT_LISTEN,
					strlen(NODE_DEFAULT_LISTEN), NULL))
			c->listen[c->n_listen++] = def;
		addrs = json_array();
		for (i = 0; addrs && i < c->n_listen; i++) {
			char full[GM_MULTIADDR_MAX_STR + GM_PEERID_MAX_STR + 8];

			format_ma(&c->listen[i], ma);
			snprintf(full, sizeof(full), "%s/p2p/%s", ma, text);
			if (json_array_append_new(addrs, json_string(full))) {
				json_decref(addrs);
				addrs = NULL;
			}
		}
		config_free(c);
		if (!addrs)
			return cli_fail(GM_ENOMEM, NULL, "cannot list the "
					"addresses");
	}
	if (json)
		return cli_print_json(json_pack("{s:s, s:o, s:b}", "id", text,
						"addrs", addrs, "running",
						running));
	printf("%s\n", text);
	json_array_foreach(addrs, i, v)
		printf("%s%s\n", json_string_value(v),
		       running ? "" : " (configured, not running)");
	json_decref(addrs);
	fflush(stdout);
	return 0;
}

/* ---- node start ---- */

struct start;

/* One bootstrap peer kept connected. */
struct boot {
	struct start *st;
	struct gm_multiaddr ma;
	char text[GM_MULTIADDR_MAX_STR];
	uv_timer_t timer;     /* the redial wait, then the keepalive ping */
	struct gm_host_conn *conn; /* NULL while not connected */
	struct gm_host_stream *ping; /* keepalive ping stream, or NULL */
	struct gm_ping p;
	uint64_t delay_ms;    /* the next wait before a redial */
	uint64_t since;	      /* loop time conn came up */
	bool dialing;
};

struct start {
	uv_loop_t loop;
	uint64_t keepalive_ms;
	uv_signal_t sigint, sigterm;
	struct gm_host *host;
	struct boot *boots;
	size_t n_boots;
	char *addrs_path; /* NULL until written */
	bool stopping;
};

static void boot_dial(struct boot *b);

static void on_boot_timer(uv_timer_t *t);

/* Says why b is down and arms the redial timer with the backoff. */
static void boot_retry(struct boot *b, const char *fmt, ...) GM_PRINTF(2, 3);
static void boot_retry(struct boot *b, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bootstrap %s: ", b->text);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; retrying in %u s\n",
		(unsigned)(b->delay_ms / 1000));
	uv_timer_start(&b->timer, on_boot_timer, b->delay_ms, 0);
	b->delay_ms *= 2;
	if (b->delay_ms > NODE_BACKOFF_MAX_MS)
		b->delay_ms = NODE_BACKOFF_MAX_MS;
}

static void keepalive_stream(void *ctx, struct gm_host_stream *s,
			     enum gm_host_stream_event ev, const uint8_t *data,
			     size_t len, gm_err err)
{
	struct boot *b = ctx;
	struct gm_buf out;
	size_t used;
	bool pong;
	uint64_t rtt;

	(void)err;
	if (ev == GM_HOST_STREAM_CLOSED) {
		if (b->ping == s)
			b->ping = NULL;
		return;
	}
	if (b->st->stopping || b->ping != s)
		return;
	if (ev == GM_HOST_STREAM_READY) {
		gm_buf_init(&out, 64);
		if (gm_ping_send(&b->p, NULL, uv_now(&b->st->loop) * 1000,
				 &out) ||
		    gm_host_stream_write(s, out.data, out.len))
			gm_host_stream_reset(s);
		gm_buf_release(&out);
		return;
	}
	if (ev == GM_HOST_STREAM_EOF) {
		if (b->p.waiting)
			gm_host_stream_reset(s);
		return;
	}
	while (len) {
		if (gm_ping_feed(&b->p, data, len, uv_now(&b->st->loop) * 1000,
				 &used, &pong, &rtt, NULL) ||
		    !used) {
			gm_host_stream_reset(s);
			return;
		}
		data += used;
		len -= used;
		if (pong)
			gm_host_stream_close_write(s);
	}
}

/*
 * While connected the timer pings every keepalive_ms on a fresh
 * stream, so the host's idle timeout never closes a bootstrap connection;
 * a ping still unanswered at the next tick closes it (and so redials).
 */
static void boot_keepalive(struct boot *b)
{
	struct gm_host_stream *old = b->ping;

	if (old && b->p.waiting) {
		b->ping = NULL;
		gm_host_conn_close(b->conn);
		return;
	}
	b->ping = NULL;
	if (old)
		gm_host_stream_reset(old);
	gm_ping_init(&b->p);
	if (gm_host_stream_open(b->conn, GM_PING_PROTOCOL, keepalive_stream,
				b, &b->ping, NULL))
		b->ping = NULL;
	uv_timer_start(&b->timer, on_boot_timer, b->st->keepalive_ms, 0);
}

static void on_boot_timer(uv_timer_t *t)
{
	struct boot *b = t->data;

	if (b->st->stopping)
		return;
	if (b->conn)
		boot_keepalive(b);
	else if (!b->dialing)
		boot_dial(b);
}

static void on_boot_dialed(void *ctx, gm_err err, struct gm_host_conn *c,
			   const struct gm_diag *d)
{
	struct boot *b = ctx;
	char text[GM_PEERID_MAX_STR];

	b->dialing = false;
	if (b->st->stopping)
		return;
	if (err) {
		boot_retry(b, "%s", d && d->msg[0] ? d->msg : gm_strerror(err));
		return;
	}
	b->conn = c;
	b->since = uv_now(&b->st->loop);
	gm_peerid_format(gm_host_conn_peer(c), text, sizeof(text));
	fprintf(stderr, "connected to %s\n", text);
	uv_timer_start(&b->timer, on_boot_timer, b->st->keepalive_ms, 0);
}

static void boot_dial(struct boot *b)
{
	struct gm_diag d;
	gm_err e;

	gm_diag_clear(&d);
	b->dialing = true;
	e = gm_host_dial(b->st->host, &b->ma, NODE_DIAL_TIMEOUT_MS,
			 on_boot_dialed, b, &d);
	if (!e)
		return;
	b->dialing = false;
	if (e == GM_EUNSUPPORTED) {
		fprintf(stderr, "bootstrap %s: %s; not retried\n", b->text,
			d.msg[0] ? d.msg : gm_strerror(e));
		return;
	}
	boot_retry(b, "%s", d.msg[0] ? d.msg : gm_strerror(e));
}

static void on_host_event(void *ctx, struct gm_host_conn *c,
			  enum gm_host_event ev, gm_err err)
{
	struct start *st = ctx;
	struct boot *b;
	size_t i;

	if (ev != GM_HOST_EV_DISCONNECTED || st->stopping)
		return;
	for (i = 0; i < st->n_boots; i++) {
		b = &st->boots[i];
		if (b->conn != c)
			continue;
		b->conn = NULL;
		b->ping = NULL;
		uv_timer_stop(&b->timer);
		if (uv_now(&st->loop) - b->since >= NODE_STABLE_MS)
			b->delay_ms = NODE_BACKOFF_MIN_MS;
		if (err)
			boot_retry(b, "connection lost: %s", gm_strerror(err));
		else
			boot_retry(b, "connection closed");
	}
}

/* Removes the addrs file if it is still ours. */
static void addrs_remove(struct start *st)
{
	json_t *addrs;
	long pid;

	if (!st->addrs_path)
		return;
	if (addrs_read(st->addrs_path, &pid, &addrs) && pid == getpid())
		unlink(st->addrs_path);
	json_decref(addrs);
	gm_free(st->addrs_path);
	st->addrs_path = NULL;
}

static void on_stop_signal(uv_signal_t *s, int signum)
{
	struct start *st = s->data;
	size_t i;

	(void)signum;
	st->stopping = true;
	uv_signal_stop(&st->sigint);
	uv_signal_stop(&st->sigterm);
	uv_close((uv_handle_t *)&st->sigint, NULL);
	uv_close((uv_handle_t *)&st->sigterm, NULL);
	for (i = 0; i < st->n_boots; i++) {
		uv_timer_stop(&st->boots[i].timer);
		uv_close((uv_handle_t *)&st->boots[i].timer, NULL);
	}
	gm_host_free(st->host);
	st->host = NULL;
	addrs_remove(st);
}

/* Writes $GGEN_HOME/node/addrs: "pid N", then each listen address. */
static int addrs_write(struct start *st, const char *id)
{
	const struct gm_multiaddr *la;
	char text[GM_MULTIADDR_MAX_STR];
	struct gm_buf buf;
	struct gm_diag d;
	char *path;
	size_t i, n;
	gm_err e;

	if (!(path = node_file("addrs")))
		return 1;
	gm_diag_clear(&d);
	gm_buf_init(&buf, NODE_ADDRS_MAX);
	e = gm_buf_printf(&buf, "pid %ld\n", (long)getpid());
	n = gm_host_listen_addrs(st->host, &la);
	for (i = 0; !e && i < n; i++) {
		format_ma(&la[i], text);
		e = gm_buf_printf(&buf, "%s/p2p/%s\n", text, id);
	}
	if (!e)
		e = gm_fs_write_atomic(path, buf.data, buf.len, 0600, &d);
	gm_buf_release(&buf);
	if (e) {
		cli_fail(e, &d, "cannot write %s", path);
		gm_free(path);
		return 1;
	}
	st->addrs_path = path;
	return 0;
}

/* Adds ma to the bootstrap peers unless it is there already. */
static void boot_add(struct start *st, const struct gm_multiaddr *ma)
{
	struct boot *b;
	size_t i;

	for (i = 0; i < st->n_boots; i++)
		if (gm_multiaddr_equal(&st->boots[i].ma, ma))
			return;
	b = &st->boots[st->n_boots++];
	b->st = st;
	b->ma = *ma;
	format_ma(ma, b->text);
	b->delay_ms = NODE_BACKOFF_MIN_MS;
}

static int node_start(int argc, char **argv)
{
	struct gm_multiaddr listen[NODE_MAX_LISTEN];
	struct gm_multiaddr boot[NODE_MAX_CLI_BOOTSTRAP];
	const struct gm_multiaddr *la, *use;
	size_t n_listen = 0, n_boot = 0, n_use, i, n;
	struct node_config *c = NULL;
	struct gm_host_config cfg;
	struct start st;
	struct gm_key k;
	struct gm_diag d;
	char id[GM_PEERID_MAX_STR], text[GM_MULTIADDR_MAX_STR];
	int rc = 0, ai;
	gm_err e;

	for (ai = 0; ai < argc; ai++) {
		const char *o = argv[ai];

		if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
			fputs(NODE_START_HELP, stdout);
			return 0;
		}
		if (strcmp(o, "--listen") && strcmp(o, "--bootstrap"))
			return cli_usage("node start", "unknown argument '%s' "
					 "for 'node start'; it takes --listen "
					 "MULTIADDR and --bootstrap MULTIADDR",
					 o);
		if (ai + 1 >= argc)
			return cli_usage("node start", "option '%s' needs a "
					 "multiaddr, e.g. %s", o,
					 strcmp(o, "--listen") ?
						 "/ip4/10.0.0.2/tcp/4001/p2p/"
						 "12D3KooW..." :
						 "/ip4/127.0.0.1/tcp/4001");
		if (!strcmp(o, "--listen")) {
			if (n_listen == NODE_MAX_LISTEN)
				return cli_usage("node start", "at most %d "
						 "--listen", NODE_MAX_LISTEN);
			rc = parse_ma("node start", argv[++ai],
				      &listen[n_listen++]);
		} else {
			if (n_boot == NODE_MAX_CLI_BOOTSTRAP)
				return cli_usage("node start", "at most %d "
						 "--bootstrap",
						 NODE_MAX_CLI_BOOTSTRAP);
			rc = parse_ma("node start", argv[++ai],
				      &boot[n_boot++]);
		}
		if (rc)
			return rc;
	}
	if ((rc = config_load(&c)))
		return rc;
	memset(&st, 0, sizeof(st));
	st.boots = gm_calloc(c->n_boot + n_boot + 1, sizeof(*st.boots));
	if (!st.boots) {
		config_free(c);
		return cli_fail(GM_ENOMEM, NULL, "cannot start the node");
	}
	for (i = 0; i < c->n_boot; i++)
		boot_add(&st, &c->boot[i]);
	for (i = 0; i < n_boot; i++)
		boot_add(&st, &boot[i]);
	use = listen;
	n_use = n_listen;
	if (!n_listen && c->n_listen) {
		fprintf(stderr, "using the listen addresses in %s\n", c->path);
		use = c->listen;
		n_use = c->n_listen;
	} else if (!n_listen) {
		fprintf(stderr, "using the default listen address %s (%s "
			"lists no \"listen\" addresses; --listen overrides)\n",
			NODE_DEFAULT_LISTEN, c->path);
		if ((rc = parse_ma("node start", NODE_DEFAULT_LISTEN,
				   &listen[0])))
			goto free_boots;
		n_use = 1;
	}
	if ((rc = node_key(&k)))
		goto free_boots;
	uv_loop_init(&st.loop);
	memset(&cfg, 0, sizeof(cfg));
	cfg.loop = &st.loop;
	cfg.key = &k;
	cfg.idle_timeout_ms = c->idle_s * 1000;
	st.keepalive_ms = c->keepalive_s ? c->keepalive_s * 1000 :
					   NODE_KEEPALIVE_MS;
	gm_diag_clear(&d);
	e = gm_host_new(&st.host, &cfg, &d);
	gm_key_release(&k);
	if (e) {
		rc = cli_fail(e, &d, "cannot start the node");
		goto close_loop;
	}
	gm_host_set_observer(st.host, on_host_event, &st);
	for (i = 0; i < n_use; i++) {
		gm_diag_clear(&d);
		if ((e = gm_host_listen(st.host, &use[i], &d))) {
			rc = e == GM_EUNSUPPORTED ?
				     cli_usage("node start", "%s", d.msg) :
				     cli_fail(e, &d, "cannot start the node");
			goto free_host;
		}
	}
	gm_peerid_format(gm_host_peerid(st.host), id, sizeof(id));
	/* before the lines, so `node id` sees it once they are out */
	if ((rc = addrs_write(&st, id)))
		goto free_host;
	n = gm_host_listen_addrs(st.host, &la);
	for (i = 0; i < n; i++) {
		format_ma(&la[i], text);
		printf("listening on %s/p2p/%s\n", text, id);
		fflush(stdout);
	}
	for (i = 0; i < st.n_boots; i++) {
		uv_timer_init(&st.loop, &st.boots[i].timer);
		st.boots[i].timer.data = &st.boots[i];
		boot_dial(&st.boots[i]);
	}
	uv_signal_init(&st.loop, &st.sigint);
	uv_signal_init(&st.loop, &st.sigterm);
	st.sigint.data = &st;
	st.sigterm.data = &st;
	uv_signal_start(&st.sigint, on_stop_signal, SIGINT);
	uv_signal_start(&st.sigterm, on_stop_signal, SIGTERM);
	uv_run(&st.loop, UV_RUN_DEFAULT);
	goto close_loop;
free_host:
	st.stopping = true;
	gm_host_free(st.host);
	uv_run(&st.loop, UV_RUN_DEFAULT);
close_loop:
	uv_loop_close(&st.loop);
free_boots:
	gm_free(st.boots);
	config_free(c);
	return rc;
}

/* ---- node ping ---- */

struct pinger {
	uv_loop_t loop;
	uv_timer_t timer;
	struct gm_host *host;
	struct gm_host_stream *s;
	struct gm_ping p;
	long want, got;
	uint64_t interval_ms;
	uint64_t sum_us;
	int rc;
	bool finished;
};

static uint64_t now_us(void)
{
	return uv_hrtime() / 1000;
}

static void ping_finish(struct pinger *pg, int rc)
{
	if (pg->finished)
		return;
	pg->finished = true;
	pg->rc = rc;
	if (pg->got)
		printf("Average latency: %.2fms\n",
		       (double)pg->sum_us / (double)pg->got / 1000.0);
	fflush(stdout);
	uv_timer_stop(&pg->timer);
	uv_close((uv_handle_t *)&pg->timer, NULL);
	gm_host_free(pg->host);
	pg->host = NULL;
}

static void ping_send(struct pinger *pg)
{
	struct gm_buf out;

	gm_buf_init(&out, 64);
	if (gm_ping_send(&pg->p, NULL, now_us(), &out) ||
	    gm_host_stream_write(pg->s, out.data, out.len)) {
		fprintf(stderr, "Ping error: cannot send\n");
		ping_finish(pg, 1);
	}
	gm_buf_release(&out);
}

static void on_ping_timer(uv_timer_t *t)
{
	struct pinger *pg = t->data;

	if (pg->p.waiting) {
		fprintf(stderr, "Ping error: no answer within %d s\n",
			NODE_PING_TIMEOUT_MS / 1000);
		ping_finish(pg, 1);
		return;
	}
	ping_send(pg);
	uv_timer_start(&pg->timer, on_ping_timer, NODE_PING_TIMEOUT_MS, 0);
}

static void ping_stream(void *ctx, struct gm_host_stream *s,
			enum gm_host_stream_event ev, const uint8_t *data,
			size_t len, gm_err err)
{
	struct pinger *pg = ctx;
	struct gm_diag d;
	size_t used;
	bool pong;
	uint64_t rtt;

	if (pg->finished)
		return;
	if (ev == GM_HOST_STREAM_READY) {
		pg->s = s;
		ping_send(pg);
		uv_timer_start(&pg->timer, on_ping_timer, NODE_PING_TIMEOUT_MS,
			       0);
		return;
	}
	if (ev == GM_HOST_STREAM_EOF || ev == GM_HOST_STREAM_CLOSED) {
		fprintf(stderr, "Ping error: the peer closed the stream%s%s\n",
			err ? ": " : "", err ? gm_strerror(err) : "");
		ping_finish(pg, 1);
		return;
	}
	while (len && !pg->finished) {
		gm_diag_clear(&d);
		if (gm_ping_feed(&pg->p, data, len, now_us(), &used, &pong,
				 &rtt, &d)) {
			fprintf(stderr, "Ping error: %s\n", d.msg);
			ping_finish(pg, 1);
			return;
		}
		data += used;
		len -= used;
		if (!pong)
			continue;
		pg->got++;
		pg->sum_us += rtt;
		printf("Pong received: time=%.2f ms\n", (double)rtt / 1000.0);
		fflush(stdout);
		if (pg->got >= pg->want) {
			ping_finish(pg, 0);
			return;
		}
		uv_timer_start(&pg->timer, on_ping_timer, pg->interval_ms, 0);
	}
}

static void on_ping_dialed(void *ctx, gm_err err, struct gm_host_conn *c,
			   const struct gm_diag *d)
{
	struct pinger *pg = ctx;
	struct gm_diag od;
	char id[GM_PEERID_MAX_STR];
	gm_err e;

	if (err) {
		pg->rc = cli_fail(err, d, "cannot reach the node");
		pg->finished = true;
		uv_close((uv_handle_t *)&pg->timer, NULL);
		gm_host_free(pg->host);
		pg->host = NULL;
		return;
	}
	gm_peerid_format(gm_host_conn_peer(c), id, sizeof(id));
	printf("PING %s\n", id);
	fflush(stdout);
	gm_diag_clear(&od);
	e = gm_host_stream_open(c, GM_PING_PROTOCOL, ping_stream, pg, NULL,
				&od);
	if (e) {
		fprintf(stderr, "Ping error: %s\n", od.msg);
		ping_finish(pg, 1);
	}
}

static int node_ping(int argc, char **argv)
{
	const char *count = NULL;
	struct cli_opt opts[] = {{"count", 'c', NULL, &count}};
	struct cli_args a;
	struct gm_multiaddr ma;
	struct gm_host_config cfg;
	struct pinger pg;
	struct gm_key k;
	struct gm_diag d;
	char *end = NULL;
	int rc;
	gm_err e;

	if ((rc = cli_parse(argc, argv, opts, GM_ARRAY_LEN(opts), &a,
			    "node")))
		return rc;
	if (a.help) {
		fputs(CMD_NODE_HELP, stdout);
		return 0;
	}
	if (a.n_pos != 1)
		return cli_usage("node", "'node ping' needs one MULTIADDR, "
				 "e.g. /ip4/127.0.0.1/tcp/4001/p2p/"
				 "12D3KooW...");
	if ((rc = parse_ma("node", a.pos[0], &ma)))
		return rc;
	memset(&pg, 0, sizeof(pg));
	pg.want = 10;
	pg.interval_ms = 1000;
	if (count) {
		errno = 0;
		pg.want = strtol(count, &end, 10);
		if (errno || !end || *end || pg.want < 1 || pg.want > 100000)
			return cli_usage("node", "-c wants a count from 1 to "
					 "100000, not '%s'", count);
	}
	if ((rc = node_key(&k)))
		return rc;
	uv_loop_init(&pg.loop);
	uv_timer_init(&pg.loop, &pg.timer);
	pg.timer.data = &pg;
	gm_ping_init(&pg.p);
	memset(&cfg, 0, sizeof(cfg));
	cfg.loop = &pg.loop;
	cfg.key = &k;
	gm_diag_clear(&d);
	e = gm_host_new(&pg.host, &cfg, &d);
	gm_key_release(&k);
	if (!e)
		e = gm_host_dial(pg.host, &ma, NODE_DIAL_TIMEOUT_MS,
				 on_ping_dialed, &pg, &d);
	if (e) {
		rc = e == GM_EUNSUPPORTED ? cli_usage("node", "%s", d.msg) :
					    cli_fail(e, &d, "cannot ping");
		gm_host_free(pg.host);
		uv_close((uv_handle_t *)&pg.timer, NULL);
		uv_run(&pg.loop, UV_RUN_DEFAULT);
		uv_loop_close(&pg.loop);
		return rc;
	}
	uv_run(&pg.loop, UV_RUN_DEFAULT);
	uv_loop_close(&pg.loop);
	return pg.rc;
}

int cmd_node(int argc, char **argv)
{
	/* a peer that hangs up must give EPIPE on the socket, not kill us */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
		fputs(CMD_NODE_HELP, argc < 1 ? stderr : stdout);
		return argc < 1 ? 2 : 0;
	}
	if (!strcmp(argv[0], "id"))
		return node_id(argc - 1, argv + 1);
	if (!strcmp(argv[0], "start"))
		return node_start(argc - 1, argv + 1);
	if (!strcmp(argv[0], "ping"))
		return node_ping(argc - 1, argv + 1);
	if (!strcmp(argv[0], "bootstrap"))
		return node_bootstrap(argc - 1, argv + 1);
	return cli_usage("node", "unknown action '%s'; use id, start, ping "
			 "or bootstrap", argv[0]);
}
