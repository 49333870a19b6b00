#!/usr/bin/env bash
# bench_p2p.sh [BUILD_DIR] - libp2p on loopback: our host against js-libp2p.
#
# For each pair CLIENT->SERVER (ours->ours, js->js, ours->js, js->ours), two
# processes: a server (bench_p2p server / p2p_bench.mjs server) and a
# client run three times against it:
#   | run          | what                                                |
#   |--------------|-----------------------------------------------------|
#   | conns        | sequential connections for BENCH_CONN_SECONDS (3):  |
#   |              | dial, Noise, Yamux, Identify both ways, one echo    |
#   |              | stream of one byte, close                           |
#   | 1 stream     | echo throughput, BENCH_TPUT_SECONDS (2)             |
#   | 16 streams   | the same over 16 concurrent streams                 |
# Each run has a server of its own (so the server's CPU time, getrusage
# user+sys from ready to the end of its stdin, covers connections only, and
# a server that died in one run does not spoil the next);
# both CPU figures are divided by the client's connection count. MB/s are
# 10^6 bytes echoed back per second.
# Then bench_noise (same build) times one Noise XX handshake per side in
# one process, cold (peers never seen) and warm, beside the X25519 and
# Ed25519 operations it is made of.
# Floors (PASS/FAIL with the measured figure; exit 1 on any FAIL):
#   CPU per side for a full (cold) Noise handshake <= 250 us
#   (CPU per whole connection is reported, not judged: it adds the
#   kernel's TCP set-up and teardown, multistream, Yamux, Identify both
#   ways, an echo stream and the close)
#   our connection rate >= 10x js's (ours->ours over js->js)
#   our single-stream throughput >= 3x js's
# Use a release build:
#   CC=clang meson setup build --buildtype=release -Db_ndebug=true
#   ninja -C build bench/bench_p2p
# js-libp2p comes from tests/interop/node_modules (npm ci there).
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$src/$build ;; esac
bin=$build/bench/bench_p2p
noise_bin=$build/bench/bench_noise
mjs=$src/bench/p2p_bench.mjs
cs=${BENCH_CONN_SECONDS:-3}
ts=${BENCH_TPUT_SECONDS:-2}
if [ ! -x "$bin" ] || [ ! -x "$noise_bin" ]; then
	echo "no bench_p2p or bench_noise in $build/bench (build first:" \
		"ninja -C $build bench/bench_p2p bench/bench_noise)" >&2
	exit 2
fi
if [ ! -d "$src/tests/interop/node_modules/libp2p" ]; then
	echo "no js-libp2p in tests/interop/node_modules (run npm ci there)" >&2
	exit 2
fi
tmp=$(mktemp -d)
trap 'exec 3>&- 2>/dev/null; rm -rf "$tmp"' EXIT

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "node: $(node --version)"

side() { # side ours|js MODE ARGS...
	local who=$1
	shift
	if [ "$who" = ours ]; then
		"$bin" "$@"
	else
		node "$mjs" "$@"
	fi
}

# start_server WHO: starts a server reading the fifo $tmp/in (fd 3 holds
# it open); sets addr. stop_server closes fd 3 and waits for its line.
start_server() {
	rm -f "$tmp/in" "$tmp/srv"
	mkfifo "$tmp/in"
	side "$1" server <"$tmp/in" >"$tmp/srv" 2>"$tmp/srv.err" &
	spid=$!
	exec 3>"$tmp/in"
	addr=
	for _ in $(seq 100); do
		addr=$(awk '/^listening on/ { print $3; exit }' "$tmp/srv")
		[ -n "$addr" ] && return 0
		sleep 0.1
	done
	echo "server ($1) did not start:" >&2
	cat "$tmp/srv.err" >&2
	return 1
}

stop_server() {
	exec 3>&-
	wait "$spid"
}

# field NAME LINE: the value of NAME=... in LINE
field() {
	echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

declare -A rate ccpu scpu mb1 mb16
pairs="ours-ours js-js ours-js js-ours"
for pair in $pairs; do
	cli=${pair%-*}
	srv=${pair#*-}
	start_server "$srv" || exit 1
	line=$(side "$cli" client "$addr" --conns "$cs" | grep '^client')
	stop_server
	sline=$(grep '^server' "$tmp/srv")
	echo "$pair conns: $line | $sline"
	n=$(field conns "$line")
	if [ -n "$n" ] && [ "$n" -gt 0 ] && [ -n "$sline" ]; then
		rate[$pair]=$(field rate "$line")
		ccpu[$pair]=$(( $(field cpu_us "$line") / n ))
		scpu[$pair]=$(( $(field cpu_us "$sline") / n ))
	fi
	for k in 1 16; do
		start_server "$srv" || exit 1
		line=$(side "$cli" client "$addr" --throughput "$ts" \
			--streams "$k" | grep '^client')
		stop_server
		echo "$pair $k stream(s): $line"
		if [ "$k" = 1 ]; then
			mb1[$pair]=$(field mbps "$line")
		else
			mb16[$pair]=$(field mbps "$line")
		fi
	done
done

echo
echo "| client->server | conns/s | client CPU us/conn | server CPU us/conn | 1 stream MB/s | 16 streams MB/s |"
echo "|---|---|---|---|---|---|"
for pair in $pairs; do
	echo "| ${pair/-/->} | ${rate[$pair]:-n/a} | ${ccpu[$pair]:-n/a} | ${scpu[$pair]:-n/a} | ${mb1[$pair]:-n/a} | ${mb16[$pair]:-n/a} |"
done
echo

fails=0
verdict() { # verdict OK TEXT
	if [ "$1" = 1 ]; then
		echo "PASS $2"
	else
		echo "FAIL $2"
		fails=$((fails + 1))
	fi
}
hs=$("$noise_bin" 2000)
echo "$hs"
cold=$(echo "$hs" | grep '^handshake cold')
hi=$(field initiator_us "$cold")
hr=$(field responder_us "$cold")
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? 1 : 0 }'; }
if [ -n "$hi" ] && [ -n "$hr" ]; then
	verdict "$(le "$hi" 250)" "CPU per cold Noise handshake, initiator: $hi us (floor 250 us)"
	verdict "$(le "$hr" 250)" "CPU per cold Noise handshake, responder: $hr us (floor 250 us)"
else
	verdict 0 "CPU per Noise handshake: not measured"
fi
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? 1 : 0 }'; }
if [ -n "${rate[ours-ours]:-}" ] && [ -n "${rate[js-js]:-}" ]; then
	r=$(ratio "${rate[ours-ours]}" "${rate[js-js]}")
	verdict "$(ge "$r" 10)" "connection rate ours/js: ${r}x (floor 10x)"
else
	verdict 0 "connection rate ratio: not measured"
fi
if [ -n "${mb1[ours-ours]:-}" ] && [ -n "${mb1[js-js]:-}" ]; then
	r=$(ratio "${mb1[ours-ours]}" "${mb1[js-js]}")
	verdict "$(ge "$r" 3)" "single-stream throughput ours/js: ${r}x (floor 3x)"
else
	verdict 0 "single-stream throughput ratio: not measured"
fi
[ "$fails" = 0 ]
