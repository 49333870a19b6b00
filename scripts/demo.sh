#!/usr/bin/env bash
# demo.sh GGEN - the demonstration `make run` gives on the embedded default
# (the example packages in examples/packages/), in a temporary GGEN_HOME:
# manifests checked, CIDs computed, a store round trip verified, a CAR
# exported and imported into a second home. It grows with the offline
# marketplace issue into publish, search and install.
set -euo pipefail
ggen=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ggen-demo-XXXXXX")
trap 'rm -rf "$work"' EXIT
export GGEN_HOME=$work/home

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

"$ggen" --version
for p in "$root"/examples/packages/*/; do
	step "$ggen" market manifest check "$p"
done
step "$ggen" market cid "$root/examples/packages/web-framework"
step "$ggen" market cid --json "$root/examples/packages/web-framework/README.md"
cid=$("$ggen" market store add "$root/examples/packages/web-framework")
step "$ggen" market store add "$root/examples/packages/web-framework"
step "$ggen" market store stat
step "$ggen" market store get "$cid" -o "$work/exported"
step diff -r "$root/examples/packages/web-framework" "$work/exported"
echo "(identical)"
step "$ggen" market car export "$cid" -o "$work/web-framework.car"
GGEN_HOME=$work/home2 step "$ggen" market car import "$work/web-framework.car"
GGEN_HOME=$work/home2 step "$ggen" market store verify
echo
echo "demo done: the package's CID is the one 'ipfs add -r --cid-version=1' prints."
