# diskpoint.sh - what test_crash.sh and test_diskfull.sh share: the
# preload library tests/crash/diskpoint.c (SIGKILL or a failure at the
# N-th disk-changing call), counting a command's calls, the points to try
# and a small package to publish. Source it after lib.sh, with DENSE and
# STRIDE set.

DISKPOINT=$(dirname "$GGEN_BIN")/../tests/libdiskpoint.so

# mkpkg DIR NAME VERSION [DEPS]: a small template package; DEPS is the
# text of a [dependencies] table (printf %b escapes).
mkpkg() {
	local dir=$1 name=$2 ver=$3 deps=${4:-}
	mkdir -p "$dir/templates/src"
	cat >"$dir/ggen.toml" <<PKG
[package]
name = "$name"
namespace = "acme"
version = "$ver"
kind = "template"
description = "Fault fixture $name"
PKG
	printf '%b' "$deps" >>"$dir/ggen.toml"
	printf '# %s %s\n' "$name" "$ver" >"$dir/README.md"
	printf 'fn main() {}\n' >"$dir/templates/src/main.rs.tmpl"
}

# count_points FILE CMD...: runs CMD to the end with the preload counting;
# prints the number of disk-changing calls it made.
count_points() {
	local f=$1; shift
	rm -f "$f"
	LD_PRELOAD="$DISKPOINT" GM_FAULT_COUNT="$f" "$@" >/dev/null 2>&1
	cat "$f"
}

# points TOTAL: the N to try, one a line: every one up to DENSE, then
# every STRIDE-th, and the last.
points() {
	local total=$1 n
	for ((n = 1; n <= total && n <= DENSE; n++)); do echo "$n"; done
	for ((n = DENSE + STRIDE; n < total; n += STRIDE)); do echo "$n"; done
	[ "$total" -le "$DENSE" ] || echo "$total"
}
