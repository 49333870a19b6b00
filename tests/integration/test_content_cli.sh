#!/usr/bin/env bash
# End-to-end tests of `ggen market cid | store | car` through the binary.
. "$(dirname "$0")/lib.sh"

HELLO_CID=bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4

# A package folder with nested folders, an empty file and folder, a UTF-8
# name and a file of more than one chunk.
make_tree() {
	mkdir -p "$1/src/deep/er" "$1/empty-dir" "$1/données"
	printf 'hello world\n' >"$1/README.md"
	: >"$1/src/empty.txt"
	printf 'fn main() {}\n' >"$1/src/deep/er/main.rs"
	printf 'é\n' >"$1/données/café.txt"
	head -c 600000 /dev/urandom >"$1/src/blob.bin"
}

t_version_and_help() {
	expect_rc 0 ggen --version
	expect_grep '^ggen [0-9]+\.[0-9]+\.[0-9]+' "$OUT"
	expect_rc 0 ggen market --help
	for v in cid store car manifest; do
		expect_grep "^  $v " "$OUT"
	done
	for v in cid store car manifest; do
		expect_rc 0 ggen market $v --help
		expect_grep '^usage: ggen market' "$OUT"
	done
	expect_rc 2 ggen market
	expect_rc 2 ggen market cdi x
	expect_grep "did you mean 'cid'" "$ERR"
	expect_rc 2 ggen market cid --jsn x
	expect_grep "did you mean '--json'" "$ERR"
	expect_rc 2 ggen market cid
	expect_grep 'ggen market cid --help' "$ERR"
}

t_cid_hello_world() {
	printf 'hello world\n' >hello.txt
	expect_rc 0 ggen market cid hello.txt
	expect_eq "$OUT" "$HELLO_CID" "CID"
	expect_rc 0 ggen market cid --json hello.txt
	expect_eq "$(json_get "$OUT" j.cid)" "$HELLO_CID" "json cid"
	expect_eq "$(json_get "$OUT" j.size)" 12 "json size"
	expect_eq "$(json_get "$OUT" j.blocks)" 1 "json blocks"
	expect_eq "$(json_get "$OUT" j.path)" hello.txt "json path"
	# nothing stored by cid
	[ ! -e "$GGEN_HOME" ]
}

t_cid_errors() {
	expect_rc 1 ggen market cid does-not-exist
	expect_grep 'does-not-exist' "$ERR"
	mkdir pkg && printf x >pkg/a && ln -s a pkg/link
	expect_rc 3 ggen market cid pkg
	expect_grep 'link' "$ERR"
	mkfifo fifo
	expect_rc 3 ggen market cid fifo
}

t_store_add_get_round_trip() {
	make_tree pkg
	expect_rc 0 ggen market cid pkg
	local want=$OUT
	expect_rc 0 ggen market store add pkg
	expect_eq "$OUT" "$want" "store add CID"
	expect_rc 0 ggen market store get "$want" -o out
	diff -r pkg out
	[ -d out/empty-dir ] && [ -f out/src/empty.txt ]
	expect_rc 0 ggen market store stat --json
	expect_eq "$(json_get "$OUT" j.pins)" 1 "pins"
	[ "$(json_get "$OUT" j.blocks)" -ge 8 ]
	expect_rc 0 ggen market store verify
	expect_grep 'none corrupt' "$OUT"
	expect_rc 0 ggen market store pin ls
	expect_eq "$OUT" "$want" "pin ls"
	# the output folder must not exist already
	expect_rc 1 ggen market store get "$want" -o out
	expect_grep 'out' "$ERR"
	# a bad CID is a usage error
	expect_rc 2 ggen market store get not-a-cid -o x
	expect_grep 'not a CID' "$ERR"
}

# Flips one byte of every stored block file whose content contains TEXT.
tamper_block_with() {
	local f
	for f in $(grep -rl --include='*.data' "$1" "$GGEN_HOME/blocks"); do
		printf 'X' | dd of="$f" bs=1 seek=0 conv=notrunc status=none
	done
}

t_store_detects_tampered_block() {
	mkdir pkg && printf 'precious bytes\n' >pkg/a.txt && printf 'b\n' >pkg/b
	expect_rc 0 ggen market store add pkg
	local root=$OUT
	tamper_block_with 'precious bytes'
	expect_rc 1 ggen market store verify
	expect_grep 'corrupt' "$OUT$ERR"
	expect_rc 3 ggen market store get "$root" -o out
	expect_grep 'bafkrei' "$ERR"
	[ ! -e out ]
	expect_rc 1 ggen market store verify --json
	expect_eq "$(json_get "$OUT" j.corrupt)" 1 "corrupt count"
}

t_store_gc_keeps_pinned() {
	mkdir a b
	printf 'only in a\n' >a/x; printf 'shared\n' >a/s
	printf 'only in b\n' >b/y; printf 'shared\n' >b/s
	expect_rc 0 ggen market store add a
	local ra=$OUT
	expect_rc 0 ggen market store add b
	local rb=$OUT
	expect_rc 0 ggen market store stat --json
	expect_eq "$(json_get "$OUT" j.blocks)" 5 "blocks before gc"
	expect_rc 0 ggen market store pin rm "$rb"
	expect_rc 0 ggen market store gc --json
	# b's root and 'only in b' go; the shared leaf stays
	expect_eq "$(json_get "$OUT" j.removed)" 2 "removed"
	expect_eq "$(json_get "$OUT" j.kept)" 3 "kept"
	expect_rc 0 ggen market store get "$ra" -o out
	diff -r a out
	expect_rc 1 ggen market store get "$rb" -o out-b
	[ ! -e out-b ]
}

t_car_export_import_round_trip() {
	make_tree pkg
	expect_rc 0 ggen market store add pkg
	local root=$OUT
	expect_rc 0 ggen market car export "$root" -o pkg.car --json
	expect_eq "$(json_get "$OUT" j.root)" "$root" "root"
	[ -s pkg.car ]
	export GGEN_HOME=$PWD/home2
	expect_rc 0 ggen market car import pkg.car --json
	expect_eq "$(json_get "$OUT" j.roots[0])" "$root" "imported root"
	expect_rc 0 ggen market store get "$root" -o out
	diff -r pkg out
	# import is idempotent
	expect_rc 0 ggen market car import pkg.car --json
	expect_eq "$(json_get "$OUT" j.new_blocks)" 0 "new blocks"
	# exporting a CID the store lacks fails and writes nothing
	printf 'never stored\n' >absent.txt
	expect_rc 0 ggen market cid absent.txt
	expect_rc 1 ggen market car export "$OUT" -o missing.car
	[ ! -e missing.car ]
}

t_car_import_refuses_tampered_and_truncated() {
	mkdir pkg && printf 'first block\n' >pkg/a && printf 'second\n' >pkg/b
	expect_rc 0 ggen market store add pkg
	expect_rc 0 ggen market car export "$OUT" -o pkg.car
	export GGEN_HOME=$PWD/home2
	LC_ALL=C sed 's/second/SECOND/' pkg.car >bad.car
	cmp -s pkg.car bad.car && { echo "tampering failed" >&2; return 1; }
	expect_rc 3 ggen market car import bad.car
	expect_grep 'bafkrei' "$ERR"
	expect_rc 0 ggen market store stat --json
	expect_eq "$(json_get "$OUT" j.blocks)" 0 "blocks after failed import"
	head -c $(($(stat -c %s pkg.car) - 3)) pkg.car >short.car
	expect_rc 1 ggen market car import short.car
	expect_rc 0 ggen market store stat --json
	expect_eq "$(json_get "$OUT" j.blocks)" 0 "blocks after truncated import"
	printf 'not a car file at all' >junk.car
	expect_rc 1 ggen market car import junk.car
	expect_rc 1 ggen market car import no-such.car
	expect_grep 'no-such.car' "$ERR"
}

run_tests
