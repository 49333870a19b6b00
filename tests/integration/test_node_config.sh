#!/usr/bin/env bash
# End-to-end tests of the node's config file and bootstrap peers:
# `ggen market node bootstrap add | rm | list`, $GGEN_HOME/node/config.json,
# `node start` without --listen, the $GGEN_HOME/node/addrs file `node id`
# reads, and the redial of a bootstrap peer that went away. Nodes listen on
# 127.0.0.1 port 0 only (a second start of the same node reuses the port it
# got); each node has its own GGEN_HOME; every wait has a time limit.
. "$(dirname "$0")/lib.sh"

# wait_for SECONDS CMD...: runs CMD every 0.1 s until it succeeds; fails
# after SECONDS.
wait_for() {
	local n=$(($1 * 10))
	shift
	until "$@"; do
		n=$((n - 1))
		if [ "$n" -le 0 ]; then
			echo "  timed out waiting for: $*" >&2
			return 1
		fi
		sleep 0.1
	done
}

# has_lines FILE REGEX N: FILE has at least N lines matching REGEX.
has_lines() {
	[ -f "$1" ] && [ "$(grep -Ec -- "$2" "$1")" -ge "$3" ]
}

# start_node HOME NAME ARGS...: runs `node start ARGS` in the background
# with GGEN_HOME=HOME; stdout goes to NAME.out, stderr to NAME.err, its pid
# to NAME.pid and, once it ended, its exit status to NAME.rc.
start_node() {
	local home=$1 name=$2
	shift 2
	rm -f "$name.pid" "$name.rc"
	(
		GGEN_HOME=$home "$GGEN_BIN" market node start "$@" \
			>"$name.out" 2>"$name.err" &
		echo $! >"$name.pid.tmp"
		mv "$name.pid.tmp" "$name.pid"
		rc=0
		wait $! || rc=$?
		echo "$rc" >"$name.rc"
	) 2>/dev/null &
	wait_for 5 test -s "$name.pid"
	NODES+=("$PWD/$name.pid")
}

# Kills what start_node started (the EXIT trap of each test).
kill_nodes() {
	local f
	for f in "${NODES[@]}"; do
		if [ -s "$f" ]; then
			kill -9 "$(cat "$f")" 2>/dev/null || true
		fi
	done
	return 0
}

# listen_addr NAME: waits for NAME's first "listening on" line; prints the
# address.
listen_addr() {
	wait_for 15 has_lines "$1.out" '^listening on /ip4/127\.0\.0\.1/tcp/[0-9]+/p2p/12D3KooW' 1 ||
		{ echo "  $1 stderr: $(cat "$1.err")" >&2; return 1; }
	sed -n '1s/^listening on //p' "$1.out"
}

# stop_node NAME: SIGTERM, then expects exit 0 (ASan reports a leak with
# another status) within 10 s.
stop_node() {
	kill -TERM "$(cat "$1.pid")"
	wait_for 10 test -s "$1.rc"
	expect_eq "$(cat "$1.rc")" 0 "exit status of $1 after SIGTERM"
}

# peer_id HOME: the peer id of the node whose GGEN_HOME is HOME.
peer_id() {
	GGEN_HOME=$1 "$GGEN_BIN" market node id | head -n 1
}

t_bootstrap_add_list_rm() {
	local p1 p2 a1 a2 a3 cfg=$GGEN_HOME/node/config.json
	p1=$(peer_id "$PWD/p1")
	p2=$(peer_id "$PWD/p2")
	a1=/ip4/127.0.0.1/tcp/4001/p2p/$p1
	a2=/ip4/127.0.0.1/tcp/4002/p2p/$p2
	a3=/ip6/::1/tcp/4003/p2p/$p1
	expect_rc 0 ggen market node bootstrap list
	expect_eq "$OUT" "" "list of a new node"
	expect_rc 0 ggen market node bootstrap list --json
	expect_eq "$OUT" "[]" "json list of a new node"
	[ ! -e "$cfg" ]

	expect_rc 0 ggen market node bootstrap add "$a1" "$a2"
	expect_eq "$OUT" "added $a1
added $a2" "add output"
	expect_eq "$(stat -c %a "$cfg")" 600 "config.json mode"
	expect_eq "$(cat "$cfg")" "{
  \"listen\": [],
  \"bootstrap\": [
    \"$a1\",
    \"$a2\"
  ]
}" "config.json"
	# a duplicate is not added twice, and says so; the new one is added
	expect_rc 0 ggen market node bootstrap add "$a2" "$a3"
	expect_eq "$OUT" "added $a3" "add with a duplicate"
	expect_grep "note: $a2 is already a bootstrap address; not added twice" "$ERR"
	expect_rc 0 ggen market node bootstrap list
	expect_eq "$OUT" "$a1
$a2
$a3" "list"
	expect_rc 0 ggen market node bootstrap list --json
	expect_eq "$OUT" "[\"$a1\",\"$a2\",\"$a3\"]" "json list"

	# rm is all or nothing: an absent address is named, nothing goes
	cp "$cfg" before.json
	expect_rc 1 ggen market node bootstrap rm "$a1" /ip4/10.9.9.9/tcp/1/p2p/$p2
	expect_eq "$OUT" "" "rm output when one is absent"
	expect_grep "/ip4/10\.9\.9\.9/tcp/1/p2p/$p2 is not a bootstrap address" "$ERR"
	expect_grep "nothing was removed" "$ERR"
	cmp before.json "$cfg"
	expect_rc 0 ggen market node bootstrap rm "$a2"
	expect_eq "$OUT" "removed $a2" "rm output"
	expect_rc 0 ggen market node bootstrap list
	expect_eq "$OUT" "$a1
$a3" "list after rm"
	expect_rc 0 ggen market node bootstrap rm --all
	expect_eq "$OUT" "removed $a1
removed $a3" "rm --all output"
	expect_eq "$(cat "$cfg")" '{
  "listen": [],
  "bootstrap": []
}' "config.json after rm --all"
	expect_rc 2 ggen market node bootstrap rm --all "$a1"
	expect_grep "either --all or addresses" "$ERR"
	expect_rc 2 ggen market node bootstrap rm
	expect_grep "needs one or more MULTIADDR" "$ERR"
	expect_rc 2 ggen market node bootstrap
	expect_grep "needs an action: add, rm or list" "$ERR"
}

t_bootstrap_keeps_other_keys() {
	local p1 cfg=$GGEN_HOME/node/config.json
	p1=$(peer_id "$PWD/p1")
	mkdir -p "$GGEN_HOME/node"
	printf '{"listen": ["/ip4/127.0.0.1/tcp/0"], "mine": {"a": 1}}' >"$cfg"
	expect_rc 0 ggen market node bootstrap add /ip4/127.0.0.1/tcp/9/p2p/$p1
	expect_eq "$(cat "$cfg")" "{
  \"listen\": [
    \"/ip4/127.0.0.1/tcp/0\"
  ],
  \"mine\": {
    \"a\": 1
  },
  \"bootstrap\": [
    \"/ip4/127.0.0.1/tcp/9/p2p/$p1\"
  ]
}" "config.json with other keys"
}

t_bootstrap_needs_p2p() {
	local p1
	p1=$(peer_id "$PWD/p1")
	expect_rc 2 ggen market node bootstrap add /ip4/127.0.0.1/tcp/4001
	expect_grep "'/ip4/127\.0\.0\.1/tcp/4001' cannot be a bootstrap address: it does not end in /p2p/<peer id>" "$ERR"
	expect_grep "nothing was added" "$ERR"
	expect_grep "ggen market node bootstrap --help" "$ERR"
	# one bad address: the good one is not added either
	expect_rc 2 ggen market node bootstrap add /ip4/127.0.0.1/tcp/1/p2p/$p1 /p2p/$p1
	expect_grep "no address to dial before /p2p" "$ERR"
	expect_rc 2 ggen market node bootstrap add /ip4/1.2.3/tcp/1/p2p/$p1
	expect_grep "is not a multiaddr" "$ERR"
	[ ! -e "$GGEN_HOME/node/config.json" ]
	expect_rc 0 ggen market node bootstrap list
	expect_eq "$OUT" "" "list after refused adds"
}

# corrupt CONTENT PATTERN: config.json holding CONTENT makes add, list,
# id and start fail with exit 1 and PATTERN, and stays byte for byte.
corrupt() {
	local cfg=$GGEN_HOME/node/config.json
	mkdir -p "$GGEN_HOME/node"
	printf '%s' "$1" >"$cfg"
	cp "$cfg" want.json
	expect_rc 1 ggen market node bootstrap add \
		/ip4/127.0.0.1/tcp/1/p2p/"$ID"
	expect_grep "^ggen: error: bad node config: $cfg$2" "$ERR"
	expect_grep "fix the file by hand \(it was left as it is\)" "$ERR"
	expect_eq "$OUT" "" "stdout of add"
	cmp want.json "$cfg"
	expect_rc 1 ggen market node bootstrap rm --all
	expect_grep "bad node config: $cfg$2" "$ERR"
	expect_rc 1 ggen market node bootstrap list
	expect_grep "bad node config: $cfg$2" "$ERR"
	expect_rc 1 ggen market node id
	expect_grep "bad node config: $cfg$2" "$ERR"
	expect_rc 1 timeout 10 "$GGEN_BIN" market node start \
		--listen /ip4/127.0.0.1/tcp/0
	expect_grep "bad node config: $cfg$2" "$ERR"
	expect_eq "$OUT" "" "stdout of start"
	cmp want.json "$cfg"
}

t_corrupt_config_left_alone() {
	ID=$(peer_id "$PWD/p1")
	corrupt '{"bootstrap": [' ':1:15: not valid JSON: '
	corrupt '{"listen": [],
  "bootstrap": [,]}' ':2:17: not valid JSON: '
	corrupt '{"a": 1, "a": 2}' ':1:.*duplicate object key'
	corrupt '["x"]' ': the file holds a list, not an object'
	corrupt '{"listen": "/ip4/127.0.0.1/tcp/0"}' ': "listen" is a string, not a list of multiaddr strings'
	corrupt '{"bootstrap": ["/ip4/1.2.3.4/tcp/1/p2p/'"$ID"'", 7]}' ': "bootstrap"\[1\] is a number, not a multiaddr string'
	corrupt '{"listen": ["/ip4/127.0.0.1/udp/1"]}' ': "listen"\[0\] '"'"'/ip4/127\.0\.0\.1/udp/1'"'"' is not a multiaddr'
	corrupt '{"bootstrap": ["/ip4/1.2.3.4/tcp/1"]}' ': "bootstrap"\[0\] '"'"'/ip4/1\.2\.3\.4/tcp/1'"'"' is not usable: it does not end in /p2p/<peer id>'
	corrupt '{"listen": ["/ip4/127.0.0.1/tcp/0/p2p/'"$ID"'"]}' ': "listen"\[0\] .* is not usable: a listen address takes no /p2p'
}

t_start_uses_configured_listen() {
	local cfg=$GGEN_HOME/node/config.json id addr
	trap kill_nodes EXIT
	id=$(peer_id "$GGEN_HOME")
	# without a config: the default, marked as configured
	expect_rc 0 ggen market node id
	expect_eq "$OUT" "$id
/ip4/0.0.0.0/tcp/4001/p2p/$id (configured, not running)" "id without config"

	printf '{"listen": ["/ip4/127.0.0.1/tcp/0"]}\n' >"$cfg"
	start_node "$GGEN_HOME" n
	addr=$(listen_addr n)
	expect_grep "^/ip4/127\.0\.0\.1/tcp/[1-9][0-9]*/p2p/$id$" "$addr"
	expect_eq "$(wc -l <n.out)" 1 "listening lines"
	expect_grep "^using the listen addresses in $cfg$" "$(cat n.err)"
	stop_node n
	# --listen overrides the config (whose address cannot be bound here)
	printf '{"listen": ["/ip4/192.0.2.1/tcp/1"]}\n' >"$cfg"
	start_node "$GGEN_HOME" o --listen /ip4/127.0.0.1/tcp/0
	addr=$(listen_addr o)
	expect_grep "^/ip4/127\.0\.0\.1/tcp/[1-9][0-9]*/p2p/$id$" "$addr"
	stop_node o
	expect_eq "$(grep -c 'using the' o.err || true)" 0 "listen source note with --listen"
	# and without --listen the unbindable configured address is the error
	expect_rc 1 timeout 10 "$GGEN_BIN" market node start
	expect_grep "cannot listen on /ip4/192\.0\.2\.1/tcp/1" "$ERR"
	[ ! -e "$GGEN_HOME/node/addrs" ]
}

t_id_running_then_configured() {
	local cfg=$GGEN_HOME/node/config.json id addr pid
	trap kill_nodes EXIT
	id=$(peer_id "$GGEN_HOME")
	printf '{"listen": ["/ip4/127.0.0.1/tcp/0"]}\n' >"$cfg"
	start_node "$GGEN_HOME" n
	addr=$(listen_addr n)
	pid=$(cat n.pid)
	expect_eq "$(cat "$GGEN_HOME/node/addrs")" "pid $pid
$addr" "addrs file"
	expect_eq "$(stat -c %a "$GGEN_HOME/node/addrs")" 600 "addrs mode"
	expect_rc 0 ggen market node id
	expect_eq "$OUT" "$id
$addr" "id while running"
	expect_rc 0 ggen market node id --json
	expect_eq "$OUT" "{\"id\":\"$id\",\"addrs\":[\"$addr\"],\"running\":true}" "id --json while running"
	stop_node n
	[ ! -e "$GGEN_HOME/node/addrs" ]
	expect_rc 0 ggen market node id
	expect_eq "$OUT" "$id
/ip4/127.0.0.1/tcp/0/p2p/$id (configured, not running)" "id after stop"
	expect_rc 0 ggen market node id --json
	expect_eq "$OUT" "{\"id\":\"$id\",\"addrs\":[\"/ip4/127.0.0.1/tcp/0/p2p/$id\"],\"running\":false}" "id --json after stop"

	# killed: the addrs file stays, but its pid is dead, so it is ignored
	start_node "$GGEN_HOME" k
	addr=$(listen_addr k)
	kill -9 "$(cat k.pid)"
	wait_for 10 test -s k.rc
	[ -e "$GGEN_HOME/node/addrs" ]
	expect_rc 0 ggen market node id
	expect_eq "$OUT" "$id
/ip4/127.0.0.1/tcp/0/p2p/$id (configured, not running)" "id after SIGKILL"
}

t_bootstrap_redial() {
	local ha=$PWD/a hb=$PWD/b aid bid baddr bport first retry second
	trap kill_nodes EXIT
	aid=$(peer_id "$ha")
	bid=$(peer_id "$hb")
	start_node "$hb" b1 --listen /ip4/127.0.0.1/tcp/0
	baddr=$(listen_addr b1)
	bport=$(echo "$baddr" | sed -E 's|^/ip4/127\.0\.0\.1/tcp/([0-9]+)/.*|\1|')
	expect_rc 0 env GGEN_HOME="$ha" "$GGEN_BIN" market node bootstrap add "$baddr"
	start_node "$ha" a --listen /ip4/127.0.0.1/tcp/0
	listen_addr a >/dev/null
	wait_for 10 has_lines a.err "^connected to $bid$" 1

	kill -9 "$(cat b1.pid)"
	wait_for 10 test -s b1.rc
	wait_for 10 has_lines a.err "^bootstrap $baddr: .*; retrying in 1 s$" 1
	start_node "$hb" b2 --listen "/ip4/127.0.0.1/tcp/$bport"
	expect_eq "$(listen_addr b2)" "$baddr" "B's address the second time"
	wait_for 10 has_lines a.err "^connected to $bid$" 2
	# in order: connected, a retry, connected again
	first=$(grep -n "^connected to $bid$" a.err | sed -n '1s/:.*//p')
	second=$(grep -n "^connected to $bid$" a.err | sed -n '2s/:.*//p')
	retry=$(grep -n "^bootstrap $baddr: .*; retrying in [0-9]+ s$" -E a.err | sed -n '1s/:.*//p')
	[ "$first" -lt "$retry" ] && [ "$retry" -lt "$second" ] ||
		{ echo "  a.err out of order: $(cat a.err)" >&2; return 1; }
	# B saw nothing go wrong on its side
	expect_eq "$(cat b2.out)" "listening on $baddr" "B's stdout"
	stop_node a
	stop_node b2
	[ ! -e "$ha/node/addrs" ] && [ ! -e "$hb/node/addrs" ]
	expect_grep "^listening on /ip4/127\.0\.0\.1/tcp/[0-9]+/p2p/$aid$" "$(cat a.out)"
}

t_bootstrap_backoff() {
	local p1 bad
	trap kill_nodes EXIT
	p1=$(peer_id "$PWD/p1")
	# nothing listens on port 1: every dial is refused at once
	bad=/ip4/127.0.0.1/tcp/1/p2p/$p1
	start_node "$GGEN_HOME" n --listen /ip4/127.0.0.1/tcp/0 --bootstrap "$bad"
	listen_addr n >/dev/null
	wait_for 15 has_lines n.err "retrying in 4 s$" 1
	stop_node n
	expect_eq "$(grep '^bootstrap ' n.err | sed 's/: .*; / /')" "bootstrap $bad retrying in 1 s
bootstrap $bad retrying in 2 s
bootstrap $bad retrying in 4 s" "retry lines"
	expect_grep "^bootstrap $bad: .*refused.*; retrying in 1 s$" "$(cat n.err)"
}

# write_config HOME JSON: HOME's node/config.json holds JSON.
write_config() {
	mkdir -p "$1/node"
	printf '%s\n' "$2" >"$1/node/config.json"
}

# The bootstrap keepalive, on short clocks from config.json: B prunes a
# connection idle for 2 s. A pinging every 1 s stays connected to B for 6 s
# (no retry line); A pinging every 10 s loses it to B's pruning and
# redials.
t_bootstrap_keepalive() {
	local ha=$PWD/a hb=$PWD/b hc=$PWD/c bid baddr
	trap kill_nodes EXIT
	bid=$(peer_id "$hb")
	write_config "$hb" '{"idle_timeout_s": 2}'
	start_node "$hb" b --listen /ip4/127.0.0.1/tcp/0
	baddr=$(listen_addr b)
	write_config "$ha" "{\"bootstrap\": [\"$baddr\"], \"keepalive_s\": 1}"
	write_config "$hc" "{\"bootstrap\": [\"$baddr\"], \"keepalive_s\": 10}"
	start_node "$ha" a --listen /ip4/127.0.0.1/tcp/0
	start_node "$hc" c --listen /ip4/127.0.0.1/tcp/0
	wait_for 10 has_lines a.err "^connected to $bid$" 1
	wait_for 10 has_lines c.err "^connected to $bid$" 1
	# c's connection idles out on B's side within about 2.5 s
	wait_for 10 has_lines c.err "^bootstrap $baddr: .*; retrying in 1 s$" 1
	sleep 4
	if grep -q "^bootstrap " a.err; then
		echo "  a lost its bootstrap connection: $(cat a.err)" >&2
		return 1
	fi
	expect_eq "$(grep -c "^connected to $bid$" a.err)" 1 "a's connections"
	stop_node a
	stop_node c
	stop_node b
}

t_bad_clock_in_config() {
	write_config "$GGEN_HOME" '{"keepalive_s": 0}'
	cp "$GGEN_HOME/node/config.json" before.json
	expect_rc 1 ggen market node start --listen /ip4/127.0.0.1/tcp/0
	expect_grep 'keepalive_s.*whole number of seconds from 1 to 3600' "$ERR"
	cmp before.json "$GGEN_HOME/node/config.json"
	write_config "$GGEN_HOME" '{"idle_timeout_s": "5"}'
	expect_rc 1 ggen market node start --listen /ip4/127.0.0.1/tcp/0
	expect_grep 'idle_timeout_s' "$ERR"
}

t_help_and_usage() {
	expect_rc 0 ggen market node start --help
	expect_grep '^usage: ggen market node start' "$OUT"
	expect_grep 'config\.json' "$OUT"
	expect_grep '/ip4/0\.0\.0\.0/tcp/4001' "$OUT"
	expect_grep '60 s' "$OUT"
	expect_rc 0 ggen market node bootstrap --help
	expect_grep '^usage: ggen market node bootstrap add MULTIADDR' "$OUT"
	expect_grep 'all or nothing' "$OUT"
	expect_rc 2 ggen market node start --frob
	expect_grep "unknown argument '--frob' for 'node start'; it takes --listen MULTIADDR and --bootstrap MULTIADDR" "$ERR"
	expect_grep "Run 'ggen market node start --help'" "$ERR"
	expect_rc 2 ggen market node start --listen
	expect_grep "needs a multiaddr, e.g. /ip4/127\.0\.0\.1/tcp/4001" "$ERR"
	expect_rc 2 ggen market node bootstrap list --all
	expect_grep "\-\-all goes with 'node bootstrap rm' only" "$ERR"
	expect_rc 2 ggen market node frob
	expect_grep "use id, start, ping or bootstrap" "$ERR"
}

NODES=()
run_tests
