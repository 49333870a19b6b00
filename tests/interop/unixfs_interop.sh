#!/usr/bin/env bash
# unixfs_interop.sh - our UnixFS root CIDs against ipfs-unixfs-importer.
#
# Makes inputs in a temporary folder (pseudo-random bytes from AES-128-CTR
# with a fixed key per case, so every run sees the same bytes), then for each
# compares `$GGEN_BIN market cid PATH` with `node unixfs_ref.mjs PATH`
# (ipfs-unixfs-importer 17.1.1, {cidVersion: 1, rawLeaves: true}, what
# `ipfs add -r --cid-version=1` does). Prints "ok <case>" or
# "FAIL <case>: ours X, reference Y" and ends with "N passed, N failed".
# Without node or tests/interop/node_modules it prints SKIP and 0 tests.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ggen=${GGEN_BIN:-$here/../../build/cli/ggen}
pass=0
fail=0

if ! command -v node >/dev/null 2>&1 ||
	[ ! -d "$here/node_modules/ipfs-unixfs-importer" ]; then
	echo "SKIP unixfs interop: node or tests/interop/node_modules missing"
	echo "0 passed, 0 failed"
	exit 0
fi
if ! command -v openssl >/dev/null 2>&1; then
	echo "SKIP unixfs interop: openssl (used to make test data) missing"
	echo "0 passed, 0 failed"
	exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# prng N KEYBYTE > file: N deterministic pseudo-random bytes.
prng() {
	local key
	key=$(printf '%02x' "$2")
	key=$key$key$key$key$key$key$key$key$key$key$key$key$key$key$key$key
	head -c "$1" /dev/zero |
		openssl enc -aes-128-ctr -nosalt -K "$key" \
			-iv 00000000000000000000000000000000
}

ok() { echo "ok $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }

# compare CASE PATH: root CIDs must be equal.
compare() {
	local name=$1 path=$2 ours ref
	ours=$("$ggen" market cid "$path" 2>"$work/err") ||
		ours="error($(tr '\n' ' ' <"$work/err" | head -c 300))"
	ref=$(node "$here/unixfs_ref.mjs" "$path" 2>&1 | tail -n 1)
	if [ -n "$ours" ] && [ "$ours" = "$ref" ]; then
		ok "$name"
	else
		bad "$name" "ours $ours, reference $ref"
	fi
}

in=$work/in
mkdir -p "$in"
: >"$in/empty"
printf 'hello world\n' >"$in/hello"
prng 262144 1 >"$in/one-chunk"
prng 262145 2 >"$in/one-chunk-plus-one"
prng $((174 * 262144)) 3 >"$in/full-node"
# More than 174 x 256 KiB: a second tree level.
prng 46000000 4 >"$in/two-levels"

tree=$in/tree
mkdir -p "$tree/sub/deeper/deepest" "$tree/empty folder" \
	"$tree/données/日本語" "$tree/sub/also empty"
: >"$tree/empty.txt"
printf 'top\n' >"$tree/README"
printf 'lower\n' >"$tree/readme.md"
prng 1000 5 >"$tree/sub/a.bin"
prng 300000 6 >"$tree/sub/deeper/b.bin"
prng 17 7 >"$tree/sub/deeper/deepest/c"
printf 'ünïcödé\n' >"$tree/données/日本語/ファイル.txt"
printf 'emoji\n' >"$tree/données/😀.txt"
printf 'x' >"$tree/a"
printf 'y' >"$tree/ab"
printf 'z' >"$tree/a b"
printf 'w' >"$tree/B"
mkdir -p "$in/only-empty"

compare empty-file "$in/empty"
compare hello-world "$in/hello"
compare one-chunk "$in/one-chunk"
compare one-chunk-plus-one-byte "$in/one-chunk-plus-one"
compare exactly-174-chunks "$in/full-node"
compare two-tree-levels "$in/two-levels"
compare tree "$tree"
compare subtree "$tree/sub"
compare empty-folder "$in/only-empty"

# The sharding boundary: 1024 entries of 220 + 36 bytes is exactly the
# threshold (still one flat node); one more name byte makes IPFS shard,
# which we refuse rather than print a CID IPFS would not give.
flat=$work/flat
mkdir -p "$flat"
(cd "$flat" && printf '%0220d\n' $(seq 0 1023) | xargs touch)
compare shard-threshold-flat "$flat"
first=$(printf '%0220d' 0)
mv "$flat/$first" "$flat/${first}x"
if out=$("$ggen" market cid "$flat" 2>&1); then
	bad shard-threshold-sharded "ours $out, expected a refusal"
elif echo "$out" | grep -q "sharded directories are not supported"; then
	ok shard-threshold-sharded
else
	bad shard-threshold-sharded "ours: $out"
fi

# --json: cid, content bytes and block count agree with the reference.
ours=$("$ggen" market cid --json "$tree" 2>&1)
ref=$(node "$here/unixfs_ref.mjs" --json "$tree" 2>&1)
if node -e '
	const a = JSON.parse(process.argv[1]), b = JSON.parse(process.argv[2])
	process.exit(a.cid === b.cid && a.size === b.size &&
		a.blocks === b.blocks ? 0 : 1)' "$ours" "$ref" 2>/dev/null; then
	ok json-output
else
	bad json-output "ours $ours, reference $ref"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
