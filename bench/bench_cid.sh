#!/usr/bin/env bash
# bench_cid.sh [BUILD_DIR] - CID computation speed, side by side with peers.
#
# Makes one file of BENCH_MB MiB (default 1024) of pseudo-random bytes in a
# temporary folder, reads it once to warm the page cache, then times, best of
# BENCH_RUNS (default 3) each:
#
#   ggen market cid FILE              (ours; BUILD_DIR/cli/ggen, or $GGEN_BIN)
#   openssl dgst -sha256 FILE         (the SHA-256 alone, same library)
#   sha256sum FILE                    (coreutils)
#   node tests/interop/unixfs_ref.mjs --null FILE
#                                     (ipfs-unixfs-importer 17.1.1, blocks
#                                      discarded like ours with no store)
#
# and prints MB/s (10^6 bytes per second) and the ratios. Floors: ours at
# least 0.8x openssl and at least 5x the node importer; each prints PASS or
# FAIL, and the script exits 1 if a floor fails. Use a release build:
#   CC=clang meson setup build --buildtype=release -Db_ndebug=true
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$src/$build ;; esac
ggen=${GGEN_BIN:-$build/cli/ggen}
mb=${BENCH_MB:-1024}
runs=${BENCH_RUNS:-3}
bytes=$((mb * 1048576))

if [ ! -x "$ggen" ]; then
	echo "no ggen binary at $ggen (build first, or set GGEN_BIN)" >&2
	exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
file=$work/data.bin
head -c "$bytes" /dev/zero |
	openssl enc -aes-128-ctr -nosalt -K 0f0e0d0c0b0a09080706050403020100 \
		-iv 00000000000000000000000000000000 >"$file"
cat "$file" >/dev/null

now() { date +%s.%N; }

# best NAME CMD...: runs CMD $runs times, keeps the best wall time; prints
# the output of the last run to $work/NAME.out.
best() {
	local name=$1 t0 t1 dt b=
	shift
	for _ in $(seq "$runs"); do
		t0=$(now)
		"$@" >"$work/$name.out" 2>&1 || {
			echo "$name failed: $(head -c 300 "$work/$name.out")" >&2
			echo 0
			return
		}
		t1=$(now)
		dt=$(echo "$t1 $t0" | awk '{ printf "%.6f", $1 - $2 }')
		if [ -z "$b" ] || awk -v a="$dt" -v b="$b" 'BEGIN { exit !(a < b) }'; then
			b=$dt
		fi
	done
	echo "$b"
}

t_ours=$(best ours "$ggen" market cid "$file")
t_openssl=$(best openssl openssl dgst -sha256 "$file")
t_sha256sum=$(best sha256sum sha256sum "$file")
if command -v node >/dev/null 2>&1 &&
	[ -d "$src/tests/interop/node_modules/ipfs-unixfs-importer" ]; then
	t_node=$(best node node --max-old-space-size=4096 \
		"$src/tests/interop/unixfs_ref.mjs" --null "$file")
else
	echo "node or tests/interop/node_modules missing: no reference" >&2
	t_node=0
fi

mbs() { awk -v b="$bytes" -v t="$1" 'BEGIN { if (t > 0) printf "%.0f", b / t / 1e6; else print "n/a" }'; }

echo "file: $mb MiB, best of $runs, $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
printf '%-34s %8s s %8s MB/s\n' "ggen market cid" "$t_ours" "$(mbs "$t_ours")"
printf '%-34s %8s s %8s MB/s\n' "openssl dgst -sha256" "$t_openssl" "$(mbs "$t_openssl")"
printf '%-34s %8s s %8s MB/s\n' "sha256sum" "$t_sha256sum" "$(mbs "$t_sha256sum")"
printf '%-34s %8s s %8s MB/s\n' "ipfs-unixfs-importer (node)" "$t_node" "$(mbs "$t_node")"

if [ -s "$work/node.out" ] && [ "$t_node" != 0 ]; then
	if [ "$(tail -n 1 "$work/ours.out")" = "$(tail -n 1 "$work/node.out")" ]; then
		echo "root CIDs agree: $(tail -n 1 "$work/ours.out")"
	else
		echo "FAIL root CIDs differ: ours $(tail -n 1 "$work/ours.out"), reference $(tail -n 1 "$work/node.out")"
	fi
fi

status=0
# floor NAME PEER_TIME FACTOR: ours must be at least FACTOR x as fast.
floor() {
	local r
	if [ "$2" = 0 ] || [ "$t_ours" = 0 ]; then
		echo "SKIP ours >= $3x $1 (no measurement)"
		return
	fi
	r=$(awk -v a="$2" -v b="$t_ours" 'BEGIN { printf "%.2f", a / b }')
	if awk -v r="$r" -v f="$3" 'BEGIN { exit !(r >= f) }'; then
		echo "PASS ours >= $3x $1 (ratio ${r}x)"
	else
		echo "FAIL ours >= $3x $1 (ratio ${r}x)"
		status=1
	fi
}
floor openssl "$t_openssl" 0.8
floor "node importer" "$t_node" 5
if [ "$t_sha256sum" != 0 ] && [ "$t_ours" != 0 ]; then
	echo "ratio to sha256sum: $(awk -v a="$t_sha256sum" -v b="$t_ours" 'BEGIN { printf "%.2f", a / b }')x (no floor)"
fi
exit $status
