#!/usr/bin/env bash
# demo.sh GGEN - what `make run` shows on the embedded default: the example
# packages in examples/packages/ (three templates that depend on each other
# and one validator) go through the whole offline marketplace in a
# temporary GGEN_HOME: a key, publish, search, info, install into a demo
# project with its lock file, the validator through clnrm, and an
# air-gapped bundle carried to a second machine (a second GGEN_HOME).
set -euo pipefail
bindir=$(cd "$(dirname "$1")" && pwd)
ggen=$bindir/$(basename "$1")
clnrm=$bindir/clnrm
root=$(cd "$(dirname "$0")/.." && pwd)
pkgs=$root/examples/packages
work=$(mktemp -d "${TMPDIR:-/tmp}/ggen-demo-XXXXXX")
trap 'rm -rf "$work"' EXIT
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
echo
echo "demo done: published, searched, installed and carried across an air gap with no network."
