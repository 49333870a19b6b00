#!/usr/bin/env bash
# run_all.sh BUILD_DIR - runs every suite and ends with "N passed, N failed".
#
# Each suite (a unit test binary, a conformance runner, an integration or
# interop script) prints its own lines and ends with "N passed, N failed";
# this script adds them up. A suite that crashes or prints no such line counts
# as one failure. Fuzz targets each run for FUZZ_SECONDS (default 5) from
# their seed corpus and count as one test each.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build-test}
case $build in /*) ;; *) build=$here/$build ;; esac
export GGEN_BIN=$build/cli/ggen
export GGEN_SHARED=${GGEN_SHARED:-$here/../shared}
export GGEN_SOURCE_ROOT=$here
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fuzz_seconds=${FUZZ_SECONDS:-5}
total_pass=0
total_fail=0
failed_suites=()
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

run_suite() { # name, command...
	local name=$1; shift
	local out=$log/suite.out
	echo "== $name"
	"$@" >"$out" 2>&1
	local rc=$?
	grep -v '^ok ' "$out" | tail -n 40
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		echo "   (no result line, exit $rc): counted as 1 failure"
		total_fail=$((total_fail + 1)); failed_suites+=("$name"); return
	fi
	local p f
	p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
	[ "$f" = 0 ] || failed_suites+=("$name")
}

for t in "$build"/tests/unit/test_*; do
	[ -f "$t" ] && [ -x "$t" ] && run_suite "unit/$(basename "$t")" "$t"
done
for t in "$build"/tests/conformance/*; do
	[ -f "$t" ] && [ -x "$t" ] && run_suite "conformance/$(basename "$t")" "$t"
done
for t in "$here"/tests/integration/test_*.sh "$here"/tests/interop/*_interop.sh; do
	[ -f "$t" ] && run_suite "${t#"$here"/tests/}" bash "$t"
done

# Fuzz targets: seed corpus in fuzz/corpus/<target>/ plus any data listed in
# fuzz/corpus/<target>.dirs (paths relative to GGEN_SHARED).
for f in "$build"/fuzz/fuzz_*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	name=$(basename "$f")
	work=$log/$name; mkdir -p "$work"
	seeds=()
	[ -d "$here/fuzz/corpus/$name" ] && seeds+=("$here/fuzz/corpus/$name")
	if [ -f "$here/fuzz/corpus/$name.dirs" ]; then
		while read -r d; do
			[ -n "$d" ] && [ -d "$GGEN_SHARED/$d" ] && seeds+=("$GGEN_SHARED/$d")
		done <"$here/fuzz/corpus/$name.dirs"
	fi
	echo "== fuzz/$name (${fuzz_seconds}s)"
	if "$f" -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 \
		-artifact_prefix="$work/" "$work" "${seeds[@]}" >"$work/out" 2>&1; then
		tail -n 1 "$work/out"
		total_pass=$((total_pass + 1))
	else
		tail -n 30 "$work/out"
		total_fail=$((total_fail + 1)); failed_suites+=("fuzz/$name")
	fi
done

if [ ${#failed_suites[@]} -gt 0 ]; then
	echo "failed suites: ${failed_suites[*]}"
fi
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
