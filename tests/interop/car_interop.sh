#!/usr/bin/env bash
# car_interop.sh - CAR v1 against @ipld/car 5.4.7 (tests/interop/node_modules).
#
# (1) car_ref.mjs writes CARs with CarWriter (raw and dag-pb blocks, v0 and
#     v1 CIDs, one and two roots, a 300 kB block, an empty block); `ggen
#     market car import` takes each into a fresh GGEN_HOME, `ggen market car
#     export <root> -o x.car` writes it back, and the bytes must equal what
#     CarWriter writes for the same root and blocks in `ipfs dag export`
#     order (walked by car_ref.mjs on its own) and what CarWriter writes when
#     it re-encodes our file as read by CarBlockIterator.
# (2) car_ref.mjs reads each of our CARs with CarReader and checks every
#     block's hash; a CAR with a tampered block must be refused by import.
#
# Needs GGEN_BIN (set by tests/run_all.sh); prints ok/FAIL lines and ends
# with "N passed, N failed". Prints SKIP when node or the packages are
# missing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ref=$here/car_ref.mjs
pass=0
fail=0

ok() { echo "ok $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1${2:+: $2}"; fail=$((fail + 1)); }
finish() { echo "$pass passed, $fail failed"; [ "$fail" = 0 ]; exit $?; }

if ! command -v node >/dev/null 2>&1 ||
	[ ! -d "$here/node_modules/@ipld/car" ] ||
	[ ! -d "$here/node_modules/@ipld/dag-pb" ]; then
	echo "SKIP car_interop: node or tests/interop/node_modules missing"
	finish
fi
if [ -z "${GGEN_BIN:-}" ] || [ ! -x "$GGEN_BIN" ]; then
	bad "ggen binary" "GGEN_BIN='${GGEN_BIN:-}' is not executable"
	finish
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/cars"

if ! node "$ref" gen "$work/cars" >"$work/manifest" 2>"$work/gen.err"; then
	bad "car_ref.mjs gen" "$(cat "$work/gen.err")"
	finish
fi

n=0
while read -r file roots; do
	n=$((n + 1))
	home=$work/home$n
	export GGEN_HOME=$home
	if "$GGEN_BIN" market car import "$work/cars/$file" \
		>"$work/out" 2>&1; then
		ok "import $file"
	else
		bad "import $file" "$(tail -n 3 "$work/out")"
		continue
	fi
	for root in $roots; do
		ours=$work/ours-$n-$root.car
		want=$work/want-$n-$root.car
		again=$work/again-$n-$root.car
		if ! "$GGEN_BIN" market car export "$root" -o "$ours" \
			>"$work/out" 2>&1; then
			bad "export $file $root" "$(tail -n 3 "$work/out")"
			continue
		fi
		ok "export $file $root"
		if node "$ref" export-ref "$work/cars/$file" "$root" "$want" \
			2>"$work/out" && cmp -s "$ours" "$want"; then
			ok "export $file $root equals @ipld/car in dag export order"
		else
			bad "export $file $root equals @ipld/car in dag export order" \
				"$(cat "$work/out"; cmp "$ours" "$want" 2>&1)"
		fi
		if node "$ref" rewrite "$ours" "$again" 2>"$work/out" &&
			cmp -s "$ours" "$again"; then
			ok "export $file $root equals CarWriter's re-encoding"
		else
			bad "export $file $root equals CarWriter's re-encoding" \
				"$(cat "$work/out"; cmp "$ours" "$again" 2>&1)"
		fi
		if node "$ref" verify "$ours" >"$work/out" 2>&1; then
			ok "CarReader verifies $file $root ($(cat "$work/out"))"
		else
			bad "CarReader verifies $file $root" "$(cat "$work/out")"
		fi
	done
done <"$work/manifest"
[ "$n" -ge 3 ] || bad "manifest" "expected 3 CARs, got $n"

# A CAR whose block does not match its CID is refused, and the store stays
# empty.
export GGEN_HOME=$work/home-tampered
"$GGEN_BIN" market car import "$work/cars/tampered.car" >"$work/out" 2>&1
rc=$?
if [ "$rc" != 0 ] && grep -Eqi "does not match|integrity" "$work/out"; then
	ok "tampered CAR refused (exit $rc)"
else
	bad "tampered CAR refused" "exit $rc: $(tail -n 3 "$work/out")"
fi
left=$(find "$work/home-tampered" -name '*.data' 2>/dev/null | wc -l)
if [ "$left" = 0 ]; then
	ok "tampered CAR left no blocks"
else
	bad "tampered CAR left no blocks" "$left block files remain"
fi

finish
