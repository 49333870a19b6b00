# lib.sh - helpers for the end-to-end tests, which drive the real `ggen`
# binary in a temporary GGEN_HOME. Source it, write tests as functions named
# t_*, and end the script with `run_tests`. Each test runs in a subshell
# with `set -e`: any failing command fails the test; use `expect_rc` and
# `expect_grep` for the expected failures and outputs. Prints "ok NAME" or
# "FAIL NAME" per test and ends with "N passed, N failed".

set -u
: "${GGEN_BIN:?GGEN_BIN must name the ggen binary (tests/run_all.sh sets it)}"
: "${GGEN_SOURCE_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
TEST_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/gm-it-XXXXXX")
trap 'rm -rf "$TEST_ROOT"' EXIT

ggen() { "$GGEN_BIN" "$@"; }

# expect_rc WANT CMD...: runs CMD, fails unless its exit status is WANT.
# Its stdout and stderr are kept in $OUT and $ERR.
expect_rc() {
	local want=$1; shift
	local rc=0
	"$@" >"$TEST_ROOT/.out" 2>"$TEST_ROOT/.err" || rc=$?
	OUT=$(cat "$TEST_ROOT/.out"); ERR=$(cat "$TEST_ROOT/.err")
	if [ "$rc" != "$want" ]; then
		echo "  expected exit $want, got $rc: $*" >&2
		echo "  stdout: $OUT" >&2
		echo "  stderr: $ERR" >&2
		return 1
	fi
}

# expect_grep PATTERN TEXT: fails unless TEXT matches the extended regex.
expect_grep() {
	if ! printf '%s\n' "$2" | grep -Eq -- "$1"; then
		echo "  expected /$1/ in: $2" >&2
		return 1
	fi
}

# expect_eq A B [what]
expect_eq() {
	if [ "$1" != "$2" ]; then
		echo "  ${3:-values} differ: '$1' != '$2'" >&2
		return 1
	fi
}

# json_get JSON EXPR: evaluates a JavaScript expression over `j` with node.
json_get() {
	node -e 'const j = JSON.parse(process.argv[1]); console.log(eval(process.argv[2]))' "$1" "$2"
}

run_tests() {
	local passed=0 failed=0 t
	for t in $(declare -F | awk '{print $3}' | grep '^t_'); do
		export GGEN_HOME="$TEST_ROOT/$t/home"
		mkdir -p "$TEST_ROOT/$t"
		# Not inside `if` or `||`: bash ignores set -e in a condition.
		local rc
		(set -e; cd "$TEST_ROOT/$t"; "$t")
		rc=$?
		if [ "$rc" = 0 ]; then
			echo "ok ${t#t_}"; passed=$((passed + 1))
		else
			echo "FAIL ${t#t_}"; failed=$((failed + 1))
		fi
	done
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
}
