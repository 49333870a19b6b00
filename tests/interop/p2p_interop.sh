#!/usr/bin/env bash
# p2p_interop.sh - our libp2p node against js-libp2p 3.x, both directions.
#
# js dials us: `$GGEN_BIN market node start` runs with GGEN_HOME in a
# temporary folder; p2p_peer.mjs check-peer dials the address it prints and
# checks the upgrade (Noise, Yamux), Identify (public key matching the peer
# id, listen addresses, protocols), ten pings, 100 concurrent 1 MiB streams
# on /ggen/echo/1.0.0 and a connection that is still up (and answers a Yamux
# ping) after IDLE_SECONDS (default 40) of silence.
# We dial js: while the checker idles, p2p_peer.mjs listen runs and
# `$GGEN_BIN market node ping ADDR -c 10` must get ten pongs; the js log must
# show our connection upgraded with Noise and Yamux (and, if js finished it
# before we hung up, a valid Identify of our node). At the same time our
# test program tests/p2p_dialer (built next to cli/, found from GGEN_BIN)
# dials a second js peer (p2p_peer.mjs serve-echo) and runs 100 concurrent
# 1 MiB /ggen/echo/1.0.0 streams, then idles IDLE_SECONDS and pings again
# on the same connection; without the program those cases are skipped
# with a note. Once that echo is over (the dialer idles), a second
# p2p_dialer run sends 16 concurrent 8 MiB streams to a third js peer
# (serve-echo) with no cap on the bytes in flight (--inflight 0): it writes
# as long as our host accepts and waits for GM_HOST_STREAM_WRITABLE after
# GM_ELIMIT, so our host's backpressure alone keeps it from flooding js
# (which grants 16 MiB Yamux windows).
#
# Case           what passes
#   node-id        `node id --json` prints {"id": "12D3KooW..."}
#   node-start     `node start` prints listening on /ip4/127.0.0.1/tcp/N/p2p/ID
#   js-dials-*     connect, identify, ping, echo, idle (check-peer verdict)
#   ggen-dials-js-ping, ggen-dials-js-upgrade, ggen-dials-js-identify
#   ggen-dials-js-echo  p2p_dialer: 100 x 1 MiB echoed intact, js echoed all
#   ggen-dials-js-idle  p2p_dialer: same connection open after the idle
#                       wait, a ping answered, every step passed (exit 0)
#   ggen-dials-js-bulk  p2p_dialer --inflight 0: 16 x 8 MiB echoed intact,
#                       js echoed all 16, writes hit GM_ELIMIT and resumed
#                       on WRITABLE (at least once per stream), and our
#                       host did not close the connection
#   node-alive     our node still runs after all of that
#   node-sigterm   it exits 0 within 5 s of SIGTERM
#
# P2P_SELFTEST=1 first runs the same cases against a stand-in for the ggen
# node verbs made of p2p_peer.mjs (so js against js: proves this script and
# the checker), plus a case that a corrupting echo peer is caught.
# Prints "ok <case>" / "FAIL <case>: reason", ends with "N passed, N failed".
# SKIPs (0 tests) without node, tests/interop/node_modules or the
# `ggen market node` verbs. Every process it starts is stopped on exit; all
# on 127.0.0.1.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ggen=${GGEN_BIN:-$here/../../build/cli/ggen}
dialer=$(dirname "$ggen")/../tests/p2p_dialer
idle=${IDLE_SECONDS:-40}
pass=0
fail=0

if ! command -v node >/dev/null 2>&1 ||
	[ ! -d "$here/node_modules/libp2p" ] ||
	[ ! -d "$here/node_modules/@chainsafe/libp2p-noise" ]; then
	echo "SKIP p2p interop: node or tests/interop/node_modules (libp2p) missing"
	echo "0 passed, 0 failed"
	exit 0
fi
have_ggen=1
if ! "$ggen" market node --help >/dev/null 2>&1; then
	have_ggen=0
	if [ "${P2P_SELFTEST:-0}" != 1 ]; then
		echo "SKIP p2p interop: '$ggen market node' verbs missing"
		echo "0 passed, 0 failed"
		exit 0
	fi
fi

work=$(mktemp -d)
pids=()
cleanup() {
	local p n
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		n=0
		while kill -0 "$p" 2>/dev/null && [ $n -lt 50 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ok() { echo "ok $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: ${*:2}"; fail=$((fail + 1)); }
# flat FILE: the file on one line, at most 400 bytes (for FAIL reasons).
flat() { tr '\n' ' ' <"$1" 2>/dev/null | head -c 400; }
js() { node --import "$here/polyfill.mjs" "$here/p2p_peer.mjs" "$@"; }
# js_bg OUT ERR ARGS...: js in the background, its pid (not a subshell's)
# in $!, remembered for cleanup.
js_bg() {
	local o=$1 e=$2
	shift 2
	node --import "$here/polyfill.mjs" "$here/p2p_peer.mjs" "$@" \
		>"$o" 2>"$e" &
	pids+=("$!")
}

# wait_addr FILE PID SECONDS: print the first 127.0.0.1 listening address
# (with /p2p/) PID writes to FILE; fail if PID exits or time runs out.
wait_addr() {
	local file=$1 pid=$2 n=0 a
	while [ $n -lt $(($3 * 10)) ]; do
		a=$(grep -m 1 -oE \
			'listening on /ip4/127\.0\.0\.1/tcp/[0-9]+/p2p/[1-9A-HJ-NP-Za-km-z]+' \
			"$file" 2>/dev/null | sed 's/^listening on //')
		if [ -n "$a" ]; then
			echo "$a"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

# stop_pid PID SECONDS: SIGTERM, wait; sets stop_rc to the exit status, or
# "timeout" (then SIGKILL). Not in $(...): only this shell can wait.
stop_rc=
stop_pid() {
	local pid=$1 n=0
	kill -TERM "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null && [ $n -lt $(($2 * 10)) ]; do
		sleep 0.1
		n=$((n + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		stop_rc=timeout
		return
	fi
	wait "$pid" 2>/dev/null
	stop_rc=$?
}

# verdict_cases FILE PREFIX OURID OURADDR: turn check-peer output into case
# lines "ok NAME" / "FAIL NAME: reason" (node does the JSON).
verdict_cases() {
	node - "$@" <<'EOF'
const fs = require('fs')
const [file, prefix, ourId, ourAddr] = process.argv.slice(2)
const lines = fs.readFileSync(file, 'utf8').split('\n')
const get = (tag) => lines.filter(l => l.startsWith(tag + ' '))
	.map(l => l.slice(tag.length + 1))
const vl = get('verdict').pop()
if (vl == null) {
	const tail = lines.slice(-6).join(' | ').slice(0, 400)
	for (const c of ['connect', 'identify', 'ping', 'echo', 'idle']) {
		console.log(`FAIL ${prefix}-${c}: checker gave no verdict: ${tail}`)
	}
	process.exit(0)
}
const v = JSON.parse(vl)
const why = (c) => (v.errors || []).filter(e => e.startsWith(c + ':'))
	.join('; ') || 'failed'
const res = {}
for (const c of ['connect', 'identify', 'ping', 'echo', 'idle']) {
	res[c] = v[c] === true ? null : why(c)
}
// What the checker cannot know: that it reached the node we started.
const id = get('identify').pop()
if (res.identify == null && id != null) {
	const j = JSON.parse(id)
	const port = ourAddr.split('/')[4]
	if (j.peerId !== ourId) {
		res.identify = `peer id ${j.peerId}, expected ${ourId}`
	} else if (!j.listenAddrs.some(a =>
		a.replace(/\/p2p\/.*/, '') === `/ip4/127.0.0.1/tcp/${port}`)) {
		res.identify = `listen addrs ${j.listenAddrs.join(' ')} lack ` +
			`/ip4/127.0.0.1/tcp/${port}`
	}
}
if (res.ping == null && get('ping').length !== Number(process.env.PINGS || 10)) {
	res.ping = `${get('ping').length} ping lines`
}
const echo = get('echo').pop()
if (res.echo != null && echo != null) res.echo += ` (echo ${echo})`
const idle = get('idle').pop()
if (res.idle != null && idle != null) res.idle += ` (idle ${idle})`
for (const c of ['connect', 'identify', 'ping', 'echo', 'idle']) {
	console.log(res[c] == null ? `ok ${prefix}-${c}`
		: `FAIL ${prefix}-${c}: ${res[c]}`)
}
EOF
}

# count_cases: read case lines on stdin, echo them and add them up.
count_cases() {
	local line
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "${line#ok }" ;;
		"FAIL "*) line=${line#FAIL }; bad "${line%%: *}" "${line#*: }" ;;
		*) echo "$line" ;;
		esac
	done
}

# dialer_cases PID DIR: wait for p2p_dialer (PID, output in DIR/dialer.out)
# and turn its verdict into the cases ggen-dials-js-echo and -idle.
dialer_cases() {
	local pid=$1 dir=$2 n=0 limit=$((idle + 150)) rc v echoed
	while kill -0 "$pid" 2>/dev/null && [ $n -lt $((limit * 10)) ]; do
		sleep 0.1
		n=$((n + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "note: p2p_dialer still running after ${limit} s, stopped"
		stop_pid "$pid" 2
		rc=$stop_rc
	else
		wait "$pid" 2>/dev/null
		rc=$?
	fi
	grep -E '^(identify|echo|idle) ' "$dir/dialer.out" |
		sed 's/^/   dialer: /'
	v=$(tail -n 1 "$dir/dialer.out" | grep '^verdict ' |
		sed 's/^verdict //')
	echoed=$(grep -c '^echoed 1048576 bytes for ' "$dir/dljs.out")
	if [ -z "$v" ]; then
		bad ggen-dials-js-echo "p2p_dialer (exit $rc) gave no verdict:" \
			"$(tail -n 5 "$dir/dialer.out" | tr '\n' ' ' |
				head -c 300)" \
			"$(flat "$dir/dialer.err")"
		bad ggen-dials-js-idle "p2p_dialer gave no verdict"
		return
	fi
	if echo "$v" | node -e '
		let s = ""; process.stdin.on("data", d => { s += d })
		process.stdin.on("end", () => { const j = JSON.parse(s)
			process.exit(j.echo_ok === 100 &&
				j.echo_fail === 0 ? 0 : 1) })' &&
		[ "$echoed" = 100 ]; then
		ok ggen-dials-js-echo
	else
		bad ggen-dials-js-echo "verdict $v, js echoed $echoed streams:" \
			"$(grep -m 3 '^echo' "$dir/dialer.out" | tr '\n' ' ')" \
			"$(flat "$dir/dialer.err")"
	fi
	if [ "$rc" = 0 ] && echo "$v" | node -e '
		let s = ""; process.stdin.on("data", d => { s += d })
		process.stdin.on("end", () => { const j = JSON.parse(s)
			process.exit(j.idle_ok === true ? 0 : 1) })' &&
		grep -q "^idle seconds=$idle open=true same=true ping=true$" \
			"$dir/dialer.out"; then
		ok ggen-dials-js-idle
	else
		bad ggen-dials-js-idle "exit $rc, verdict $v:" \
			"$(grep '^idle' "$dir/dialer.out")" "$(flat "$dir/dialer.err")"
	fi
}

# bulk_cases PID DIR: wait for the bulk p2p_dialer run (PID, output in
# DIR/bulk.out, its js peer's log in DIR/bulkjs.out) and turn its verdict
# into the case ggen-dials-js-bulk.
bulk_cases() {
	local pid=$1 dir=$2 n=0 limit=90 rc v echoed
	while kill -0 "$pid" 2>/dev/null && [ $n -lt $((limit * 10)) ]; do
		sleep 0.1
		n=$((n + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "note: bulk p2p_dialer still running after ${limit} s," \
			"stopped"
		stop_pid "$pid" 2
		rc=$stop_rc
	else
		wait "$pid" 2>/dev/null
		rc=$?
	fi
	grep -E '^echo ' "$dir/bulk.out" | sed 's/^/   bulk: /'
	v=$(tail -n 1 "$dir/bulk.out" | grep '^verdict ' | sed 's/^verdict //')
	if [ -z "$v" ]; then
		bad ggen-dials-js-bulk "p2p_dialer (exit $rc), no verdict:" \
			"$(tail -n 5 "$dir/bulk.out" | tr '\n' ' ' |
				head -c 300)" \
			"$(flat "$dir/bulk.err")"
		return
	fi
	# js logs a stream once its close is done: give the last a moment.
	n=0
	while echoed=$(grep -c '^echoed 8388608 bytes for ' \
		"$dir/bulkjs.out") &&
		[ "$echoed" -lt 16 ] && [ $n -lt 30 ] &&
		echo "$v" | grep -q '"echo_ok":16,'; do
		sleep 0.1
		n=$((n + 1))
	done
	if echo "$v" | node -e '
		let s = ""; process.stdin.on("data", d => { s += d })
		process.stdin.on("end", () => { const j = JSON.parse(s)
			process.exit(j.echo_ok === 16 && j.echo_fail === 0 &&
				j.inflight === 0 && j.elimit >= 16 &&
				j.writable >= 16 &&
				typeof j.closed === "string" &&
				!j.closed.startsWith("us:") ? 0 : 1) })' &&
		[ "$echoed" = 16 ]; then
		ok ggen-dials-js-bulk
	else
		bad ggen-dials-js-bulk "exit $rc, verdict $v, js echoed" \
			"$echoed of 16 streams:" \
			"$(grep -m 6 '^echo' "$dir/bulk.out" | tr '\n' ' ')" \
			"$(flat "$dir/bulk.err")"
	fi
}

# run_cases BIN LABEL: every case against the node verbs of BIN; case
# names start with LABEL.
run_cases() {
	local bin=$1 L=$2 dir=$work/$2 id addr node_pid chk_pid js_pid jsaddr
	local rc out dl_pid= dl_js_pid= dl_addr bk_pid= bk_js_pid= bk_addr
	mkdir -p "$dir/home"
	export GGEN_HOME=$dir/home

	out=$(timeout 20 "$bin" market node id --json 2>"$dir/id.err")
	id=$(echo "$out" | node -e '
		let s = ""; process.stdin.on("data", d => { s += d })
		process.stdin.on("end", () => {
			try { const j = JSON.parse(s); if (typeof j.id === "string" &&
				/^12D3KooW[1-9A-HJ-NP-Za-km-z]{44}$/.test(j.id)) console.log(j.id) }
			catch {} })' 2>/dev/null)
	if [ -n "$id" ]; then
		ok "${L}node-id"
	else
		bad "${L}node-id" "printed '$out' $(flat "$dir/id.err")"
	fi

	"$bin" market node start --listen /ip4/127.0.0.1/tcp/0 \
		>"$dir/node.out" 2>"$dir/node.err" &
	node_pid=$!
	pids+=("$node_pid")
	if ! addr=$(wait_addr "$dir/node.out" "$node_pid" 15); then
		bad "${L}node-start" "no 'listening on /ip4/127.0.0.1/tcp/N/p2p/ID'" \
			"line: $(flat "$dir/node.out") $(flat "$dir/node.err")"
		addr=
	elif [ -n "$id" ] && [ "${addr##*/p2p/}" != "$id" ]; then
		bad "${L}node-start" "listens as ${addr##*/p2p/}, id --json said $id"
	else
		ok "${L}node-start"
	fi

	# js dials us; it idles for $idle s at the end, meanwhile we dial js.
	chk_pid=
	if [ -n "$addr" ]; then
		IDLE_SECONDS=$idle js_bg "$dir/check.out" "$dir/check.err" \
			check-peer "$addr"
		chk_pid=$!
	fi

	# We dial js with p2p_dialer (the real run only), while the rest goes on.
	if [ -z "$L" ] && [ ! -x "$dialer" ]; then
		echo "note: ggen-dials-js-echo, ggen-dials-js-idle and" \
			"ggen-dials-js-bulk skipped: $dialer missing"
	elif [ -z "$L" ]; then
		js_bg "$dir/dljs.out" "$dir/dljs.err" serve-echo
		dl_js_pid=$!
		js_bg "$dir/bulkjs.out" "$dir/bulkjs.err" serve-echo
		bk_js_pid=$!
		if dl_addr=$(wait_addr "$dir/dljs.out" "$dl_js_pid" 20); then
			# Two 100 MiB echoes at once starve the CPU until js's
			# connection monitor pings time out (5 s) and it drops
			# the connection: start once the checker's echo is over
			# (it then idles), so the idle waits overlap.
			(
				n=0
				while [ -n "$chk_pid" ] && [ $n -lt 900 ] &&
					kill -0 "$chk_pid" 2>/dev/null &&
					! grep -q '^echo ' "$dir/check.out"; do
					sleep 0.1
					n=$((n + 1))
				done
				exec "$dialer" "$dl_addr" --pings 10 \
					--streams 100 --bytes 1048576 \
					--idle-seconds "$idle"
			) >"$dir/dialer.out" 2>"$dir/dialer.err" &
			dl_pid=$!
			pids+=("$dl_pid")
		else
			bad ggen-dials-js-echo "js echo peer did not start:" \
				"$(flat "$dir/dljs.err")"
			bad ggen-dials-js-idle "js echo peer did not start"
		fi
		if ! bk_addr=$(wait_addr "$dir/bulkjs.out" "$bk_js_pid" \
			20); then
			bad ggen-dials-js-bulk "js echo peer did not start:" \
				"$(flat "$dir/bulkjs.err")"
		else
			# Bulk echo (about 3 s) once the echo above is over,
			# while that dialer and the checker idle: never two big
			# echoes at once. Bounded: 30 s for the echo.
			(
				w=$dl_pid f=$dir/dialer.out n=0
				if [ -z "$w" ]; then
					w=$chk_pid f=$dir/check.out
				fi
				while [ -n "$w" ] && [ $n -lt 1800 ] &&
					kill -0 "$w" 2>/dev/null &&
					! grep -q '^echo ' "$f"; do
					sleep 0.1
					n=$((n + 1))
				done
				exec "$dialer" "$bk_addr" --pings 0 \
					--streams 16 --bytes 8388608 \
					--inflight 0 --idle-seconds 0 \
					--echo-seconds 30
			) >"$dir/bulk.out" 2>"$dir/bulk.err" &
			bk_pid=$!
			pids+=("$bk_pid")
		fi
	fi

	# Our peer id as js will see it: from id --json, else from start.
	local me=${id:-${addr##*/p2p/}}
	js_bg "$dir/js.out" "$dir/js.err" listen
	js_pid=$!
	if ! jsaddr=$(wait_addr "$dir/js.out" "$js_pid" 20); then
		bad "${L}ggen-dials-js-ping" "js listener did not start:" \
			"$(flat "$dir/js.err")"
	else
		timeout 30 "$bin" market node ping "$jsaddr" -c 10 \
			>"$dir/ping.out" 2>"$dir/ping.err"
		rc=$?
		local pongs
		pongs=$(grep -cE '^Pong received: time=[0-9.]+ ?ms' "$dir/ping.out")
		if [ "$rc" = 0 ] && [ "$pongs" = 10 ] &&
			grep -qE '^Average latency: [0-9.]+ ?ms' "$dir/ping.out"; then
			ok "${L}ggen-dials-js-ping"
		else
			bad "${L}ggen-dials-js-ping" "exit $rc, $pongs pongs:" \
				"$(flat "$dir/ping.out") $(flat "$dir/ping.err")"
		fi
		# js logs the connection as soon as it is upgraded; give its
		# Identify of us a moment.
		sleep 1
		if [ -n "$me" ] && grep -qE "^connection $me encryption=/noise muxer=/yamux/1\.0\.0 dir=inbound" \
			"$dir/js.out"; then
			ok "${L}ggen-dials-js-upgrade"
		else
			bad "${L}ggen-dials-js-upgrade" "js saw: $(flat "$dir/js.out")"
		fi
		local idl
		idl=$(grep "^identify {\"peerId\":\"$me\"" "$dir/js.out" | tail -n 1)
		if [ -z "$me" ] || [ -z "$idl" ]; then
			echo "note: ${L}ggen-dials-js-identify not checked:" \
				"js did not finish Identify of our node before we hung up"
		elif echo "${idl#identify }" | node -e '
			let s = ""; process.stdin.on("data", d => { s += d })
			process.stdin.on("end", () => {
				const j = JSON.parse(s)
				const want = ["/ipfs/id/1.0.0", "/ipfs/ping/1.0.0",
					"/ggen/echo/1.0.0"]
				process.exit(j.publicKeyMatches &&
					want.every(p => j.protocols.includes(p)) ? 0 : 1) })'; then
			ok "${L}ggen-dials-js-identify"
		else
			bad "${L}ggen-dials-js-identify" "js got: $idl"
		fi
	fi
	stop_pid "$js_pid" 5

	if [ -n "$dl_pid" ]; then
		dialer_cases "$dl_pid" "$dir"
	fi
	if [ -n "$dl_js_pid" ]; then
		stop_pid "$dl_js_pid" 5
	fi
	if [ -n "$bk_pid" ]; then
		bulk_cases "$bk_pid" "$dir"
	fi
	if [ -n "$bk_js_pid" ]; then
		stop_pid "$bk_js_pid" 5
	fi

	if [ -n "$chk_pid" ]; then
		# Echo and idle bound the checker; stop it if it hangs.
		local n=0 limit=$((idle + 75))
		while kill -0 "$chk_pid" 2>/dev/null && [ $n -lt $((limit * 10)) ]; do
			sleep 0.1
			n=$((n + 1))
		done
		if kill -0 "$chk_pid" 2>/dev/null; then
			echo "note: checker still running after ${limit} s, stopped"
			stop_pid "$chk_pid" 2
		fi
		wait "$chk_pid" 2>/dev/null
		# (not a pipe: count_cases must run in this shell)
		verdict_cases "$dir/check.out" "${L}js-dials-ggen" "$id" "$addr" \
			>"$dir/cases"
		count_cases <"$dir/cases"
		grep -E '^(connected|ping 1|echo|idle) ' "$dir/check.out" |
			sed 's/^/   js: /'
	fi

	if kill -0 "$node_pid" 2>/dev/null; then
		ok "${L}node-alive"
		stop_pid "$node_pid" 5
		rc=$stop_rc
		if [ "$rc" = 0 ]; then
			ok "${L}node-sigterm"
		else
			bad "${L}node-sigterm" "exit status $rc after SIGTERM:" \
				"$(tail -n 5 "$dir/node.err" | tr '\n' ' ' | head -c 400)"
		fi
	else
		wait "$node_pid" 2>/dev/null
		rc=$?
		bad "${L}node-alive" "our node exited ($rc) during the tests:" \
			"$(tail -n 5 "$dir/node.err" | tr '\n' ' ' | head -c 400)"
	fi
	unset GGEN_HOME
}

if [ "${P2P_SELFTEST:-0}" = 1 ]; then
	# The ggen node verbs, played by p2p_peer.mjs with a kept key.
	stub=$work/ggen-js
	cat >"$stub" <<EOF
#!/usr/bin/env bash
# Stand-in for \`ggen market node\` (P2P_SELFTEST only).
js() { exec node --import "$here/polyfill.mjs" "$here/p2p_peer.mjs" "\$@"; }
export P2P_KEY_FILE=\$GGEN_HOME/js-node.key
case "\$1 \$2 \$3" in
"market node --help") exit 0 ;;
"market node id") js id ;;
"market node start") js listen ;;
"market node ping") js ping "\$4" "\${6:-10}" ;;
esac
echo "ggen-js: unsupported: \$*" >&2
exit 2
EOF
	chmod +x "$stub"
	run_cases "$stub" selftest-

	# The checker must notice an echo that comes back changed.
	P2P_ECHO_FAULT=flip js_bg "$work/flip.out" "$work/flip.err" listen
	flip_pid=$!
	if a=$(wait_addr "$work/flip.out" "$flip_pid" 20); then
		PINGS=1 ECHO_STREAMS=4 ECHO_BYTES=100000 IDLE_SECONDS=0 \
			js check-peer "$a" >"$work/flip.check" 2>&1
		rc=$?
		if [ "$rc" = 1 ] && grep -q '^echo ok=0 fail=4 ' "$work/flip.check" &&
			grep -q '^echo-fail 0: byte 0 differs' "$work/flip.check"; then
			ok selftest-corrupt-echo-caught
		else
			bad selftest-corrupt-echo-caught "exit $rc: $(flat "$work/flip.check")"
		fi
	else
		bad selftest-corrupt-echo-caught "js listener did not start"
	fi
	stop_pid "$flip_pid" 5
fi

if [ "$have_ggen" = 1 ]; then
	run_cases "$ggen" ""
else
	echo "SKIP p2p interop against ggen: '$ggen market node' verbs missing"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
