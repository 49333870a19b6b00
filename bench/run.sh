#!/usr/bin/env bash
# run.sh [BUILD_DIR] - runs every benchmark in bench/ (bench_*.sh) one after
# the other against a release build; each prints its figures beside its
# peers and its floors as PASS/FAIL. Copy the figures into
# docs/PERFORMANCE.md with the command that produced them.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
status=0
for b in "$here"/bench_*.sh; do
	echo "=== $(basename "$b")"
	bash "$b" "$build" || status=1
done
exit $status
