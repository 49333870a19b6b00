#!/usr/bin/env bash
# demo.sh GGEN - what `make run` shows on the embedded default: the example
# packages in examples/packages/ (three templates that depend on each other
# and one validator) go through the whole offline marketplace in a
# temporary GGEN_HOME: a key, publish, search, info, install into a demo
# project with its lock file, the validator through clnrm, and an
# air-gapped bundle carried to a second machine (a second GGEN_HOME).
# Then the libp2p node: the first machine's node listens on loopback; the
# second machine's node takes it as its bootstrap peer, connects, and
# pings it.
set -euo pipefail
bindir=$(cd "$(dirname "$1")" && pwd)
ggen=$bindir/$(basename "$1")
clnrm=$bindir/clnrm
root=$(cd "$(dirname "$0")/.." && pwd)
pkgs=$root/examples/packages
work=$(mktemp -d "${TMPDIR:-/tmp}/ggen-demo-XXXXXX")
node_pid=
trap '[ -z "$node_pid" ] || kill "$node_pid" 2>/dev/null; rm -rf "$work"' EXIT
export GGEN_HOME=$work/home

step() { printf '\n\033[1m$ %s\033[0m\n' "${*#"$bindir/"}"; "$@"; }

"$ggen" --version
step "$ggen" market key generate --handle acme
for p in http-middleware rust-cli web-framework; do
	step "$ggen" market publish "$pkgs/$p"
done
step "$clnrm" validator publish "$pkgs/security-scanner"
step "$ggen" market cid "$pkgs/web-framework"
step "$ggen" market search "rust web framework" --category web --limit 10
step "$ggen" market search "web-framwork"
step "$ggen" market info acme/web-framework
step "$ggen" market categories

mkdir -p "$work/demo-project"
cd "$work/demo-project"
step "$ggen" market install acme/web-framework@^1.2
step "$clnrm" validator install acme/security-scanner
step "$ggen" market list
step cat ggen.lock
step find .ggen -maxdepth 3 -type d
step "$ggen" market verify
step "$ggen" market install --locked

step "$ggen" market bundle export acme/web-framework -o "$work/bundle.car"
export GGEN_HOME=$work/second-machine
step "$ggen" market bundle import "$work/bundle.car" --trust-new
step "$ggen" market trust list
mkdir -p "$work/offline-project" && cd "$work/offline-project"
step "$ggen" market install acme/web-framework
step "$ggen" market list

# The node: loopback only, a port the system picks.
export GGEN_HOME=$work/home
step "$ggen" market node id
"$ggen" market node start --listen /ip4/127.0.0.1/tcp/0 >"$work/node.out" \
	2>"$work/node.err" &
node_pid=$!
addr=
for _ in $(seq 100); do
	addr=$(awk '/^listening on/ { print $3; exit }' "$work/node.out")
	[ -n "$addr" ] && break
	sleep 0.1
done
[ -n "$addr" ] || { cat "$work/node.err" >&2; exit 1; }
printf '\n\033[1m$ ggen market node start --listen /ip4/127.0.0.1/tcp/0 &\033[0m\n'
cat "$work/node.out"
step "$ggen" market node id
export GGEN_HOME=$work/second-machine
step "$ggen" market node bootstrap add "$addr"
"$ggen" market node start --listen /ip4/127.0.0.1/tcp/0 >"$work/node2.out" \
	2>"$work/node2.err" &
node2_pid=$!
for _ in $(seq 100); do
	grep -q '^connected to' "$work/node2.err" && break
	sleep 0.1
done
printf '\n\033[1m$ ggen market node start --listen /ip4/127.0.0.1/tcp/0 &\033[0m\n'
cat "$work/node2.out" "$work/node2.err"
grep -q '^connected to' "$work/node2.err" || { kill "$node2_pid"; exit 1; }
kill "$node2_pid"
wait "$node2_pid" || true
step "$ggen" market node ping "$addr" -c 3
kill "$node_pid"
wait "$node_pid" || true
node_pid=

echo
echo "demo done: published, searched, installed and carried across an air gap with no network; two nodes spoke libp2p on loopback."
