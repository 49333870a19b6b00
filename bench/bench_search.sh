#!/usr/bin/env bash
# bench_search.sh [BUILD_DIR] - registry bulk load and search latency on
# the real npm + PyPI corpora (1.11M packages), at 10k, 100k and all rows.
#
# Runs BUILD_DIR/bench/bench_search (default build/, a release build:
#   CC=clang meson setup build --buildtype=release -Db_ndebug=true
#   ninja -C build bench/bench_search)
# on $GGEN_SHARED/corpus (default ../shared next to the source tree) and
# prints the machine, then the table: rows, load time, database size and
# p50/p95/p99/max latency of the fixed query set (bench/bench_search.c).
# The floor, p95 under 10 ms at 10k rows, prints PASS or FAIL; the script
# exits 1 when it fails. BENCH_SCALES, BENCH_REPEAT, BENCH_VERBOSE=1
# (per-query figures), BENCH_KEEP=1 (keep the databases, for EXPLAIN
# QUERY PLAN in sqlite3), BENCH_DB=PATH (run the queries on a kept
# database, no load) and BENCH_DUMP=FILE (every query's hits, to diff two
# builds) are passed through.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$src/$build ;; esac
bin=$build/bench/bench_search
shared=${GGEN_SHARED:-$src/../shared}

if [ ! -x "$bin" ]; then
	echo "no bench_search at $bin (build first: ninja -C $build bench/bench_search)" >&2
	exit 2
fi
if ! command -v zstd >/dev/null 2>&1; then
	echo "zstd is needed to read the corpora" >&2
	exit 2
fi
echo "$(date -u +%Y-%m-%d), $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), sqlite $(pkg-config --modversion sqlite3 2>/dev/null || echo '?')"
exec "$bin" "$shared"
