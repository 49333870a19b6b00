#!/usr/bin/env bash
# bench_resolve.sh [BUILD_DIR] - resolver latency on a 100,000-package index.
#
# Runs BUILD_DIR/bench/bench_resolve (default build dir: build) with
# BENCH_RUNS resolves (default 200) of a project whose closure is 100
# packages, with two conflicts to resolve on the way (see the comment at
# the top of bench/bench_resolve.c for how the index is made). Prints the
# index size, the closure, p50/p95 in milliseconds and the floor (p95 under
# 10 ms) as PASS or FAIL; exits 1 on FAIL. Use a release build:
#   CC=clang meson setup build --buildtype=release -Db_ndebug=true
#   ninja -C build bench/bench_resolve
# No peer resolver runs beside it: none is packaged for this machine.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$src/$build ;; esac
bin=$build/bench/bench_resolve
if [ ! -x "$bin" ]; then
	echo "no bench_resolve at $bin (build first: ninja -C $build bench/bench_resolve)" >&2
	exit 2
fi
echo "machine: $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" "${BENCH_RUNS:-200}"
