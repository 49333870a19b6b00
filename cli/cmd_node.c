/*
 * cmd_node.c - `ggen market node id | start | ping`: the libp2p node.
 * The node key is an Ed25519 key file at $GGEN_HOME/node/key (mode 0600,
 * folder 0700), made on first use; the peer id derives from it.
 * Output contract (tests and interop scripts read it; keep it exact):
 *   | verb  | stdout line                                               |
 *   |-------|-----------------------------------------------------------|
 *   | id    | 12D3KooW...                                               |
 *   | start | listening on /ip4/127.0.0.1/tcp/40001/p2p/12D3KooW...     |
 *   | ping  | PING 12D3KooW...                                          |
 *   | ping  | Pong received: time=0.42 ms                               |
 *   | ping  | Average latency: 0.45ms                                   |
 * stdout is flushed after each line. Exit: 0 ok, 1 network error, 2 usage,
 * 3 peer id mismatch.
 */
#include "cli.h"

#include <signal.h>

#include <uv.h>

#include "cmds.h"
#include "gm/alloc.h"
#include "gm/fs.h"
#include "gm/host.h"
#include "gm/keys.h"

#define NODE_MAX_LISTEN GM_HOST_MAX_LISTENERS
#define NODE_MAX_BOOTSTRAP 16
#define NODE_DIAL_TIMEOUT_MS 10000
#define NODE_PING_TIMEOUT_MS 10000

/* Loads $GGEN_HOME/node/key, creating it on first use. Prints errors. */
static int node_key(struct gm_key *k)
{
	struct gm_diag d;
	char *home = cli_home(), *dir = NULL, *path = NULL;
	struct stat st;
	int rc = 0;
	gm_err e;

	gm_diag_clear(&d);
	if (home)
		dir = gm_path_join(home, "node");
	if (dir)
		path = gm_path_join(dir, "key");
	if (!path) {
		rc = cli_fail(GM_ENOMEM, NULL, "cannot find the node key");
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
	gm_free(home);
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

/* ---- node id ---- */

static int node_id(int argc, char **argv)
{
	bool json = false;
	struct cli_opt opts[] = {{"json", 0, &json, NULL}};
	struct cli_args a;
	struct gm_key k;
	struct gm_peerid id;
	char text[GM_PEERID_MAX_STR];
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
	if (json)
		return cli_print_json(json_pack("{s:s, s:[]}", "id", text,
						"addrs"));
	printf("%s\n", text);
	return 0;
}

/* ---- node start ---- */

struct start {
	uv_loop_t loop;
	uv_signal_t sigint, sigterm;
	struct gm_host *host;
};

static void on_stop_signal(uv_signal_t *s, int signum)
{
	struct start *st = s->data;

	(void)signum;
	uv_signal_stop(&st->sigint);
	uv_signal_stop(&st->sigterm);
	uv_close((uv_handle_t *)&st->sigint, NULL);
	uv_close((uv_handle_t *)&st->sigterm, NULL);
	gm_host_free(st->host);
	st->host = NULL;
}

static void on_bootstrap(void *ctx, gm_err err, struct gm_host_conn *c,
			 const struct gm_diag *d)
{
	char text[GM_PEERID_MAX_STR];

	(void)ctx;
	if (err) {
		fprintf(stderr, "%s: warning: bootstrap dial failed: %s\n",
			cli_prog, d && d->msg[0] ? d->msg : gm_strerror(err));
		return;
	}
	gm_peerid_format(gm_host_conn_peer(c), text, sizeof(text));
	fprintf(stderr, "connected to %s\n", text);
}

static int node_start(int argc, char **argv)
{
	struct gm_multiaddr listen[NODE_MAX_LISTEN], boot[NODE_MAX_BOOTSTRAP];
	const struct gm_multiaddr *la;
	size_t n_listen = 0, n_boot = 0, i, n;
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
			fputs(CMD_NODE_HELP, stdout);
			return 0;
		}
		if (strcmp(o, "--listen") && strcmp(o, "--bootstrap"))
			return cli_usage("node", "unknown argument '%s' for "
					 "'node start'", o);
		if (ai + 1 >= argc)
			return cli_usage("node", "option '%s' needs a "
					 "multiaddr", o);
		if (!strcmp(o, "--listen")) {
			if (n_listen == NODE_MAX_LISTEN)
				return cli_usage("node", "at most %d --listen",
						 NODE_MAX_LISTEN);
			rc = parse_ma("node", argv[++ai], &listen[n_listen++]);
		} else {
			if (n_boot == NODE_MAX_BOOTSTRAP)
				return cli_usage("node", "at most %d "
						 "--bootstrap",
						 NODE_MAX_BOOTSTRAP);
			rc = parse_ma("node", argv[++ai], &boot[n_boot++]);
		}
		if (rc)
			return rc;
	}
	if (!n_listen)
		return cli_usage("node", "'node start' needs --listen "
				 "MULTIADDR, e.g. /ip4/127.0.0.1/tcp/4001");
	if ((rc = node_key(&k)))
		return rc;
	memset(&st, 0, sizeof(st));
	uv_loop_init(&st.loop);
	memset(&cfg, 0, sizeof(cfg));
	cfg.loop = &st.loop;
	cfg.key = &k;
	gm_diag_clear(&d);
	e = gm_host_new(&st.host, &cfg, &d);
	gm_key_release(&k);
	if (e) {
		rc = cli_fail(e, &d, "cannot start the node");
		goto close_loop;
	}
	for (i = 0; i < n_listen; i++) {
		gm_diag_clear(&d);
		if ((e = gm_host_listen(st.host, &listen[i], &d))) {
			rc = e == GM_EUNSUPPORTED ?
				     cli_usage("node", "%s", d.msg) :
				     cli_fail(e, &d, "cannot listen");
			gm_host_free(st.host);
			uv_run(&st.loop, UV_RUN_DEFAULT);
			goto close_loop;
		}
	}
	gm_peerid_format(gm_host_peerid(st.host), id, sizeof(id));
	n = gm_host_listen_addrs(st.host, &la);
	for (i = 0; i < n; i++) {
		gm_multiaddr_format(&la[i], text, sizeof(text));
		printf("listening on %s/p2p/%s\n", text, id);
		fflush(stdout);
	}
	for (i = 0; i < n_boot; i++) {
		gm_diag_clear(&d);
		if (gm_host_dial(st.host, &boot[i], NODE_DIAL_TIMEOUT_MS,
				 on_bootstrap, NULL, &d))
			fprintf(stderr, "%s: warning: cannot dial bootstrap "
				"address: %s\n", cli_prog, d.msg);
	}
	uv_signal_init(&st.loop, &st.sigint);
	uv_signal_init(&st.loop, &st.sigterm);
	st.sigint.data = &st;
	st.sigterm.data = &st;
	uv_signal_start(&st.sigint, on_stop_signal, SIGINT);
	uv_signal_start(&st.sigterm, on_stop_signal, SIGTERM);
	uv_run(&st.loop, UV_RUN_DEFAULT);
close_loop:
	uv_loop_close(&st.loop);
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
		return cli_usage("node", "'node ping' needs one MULTIADDR, e.g. "
				 "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...");
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
	return cli_usage("node", "unknown action '%s'; use id, start or ping",
			 argv[0]);
}
