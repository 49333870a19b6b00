#!/usr/bin/env bash
# End-to-end tests of `ggen market verify --repair` (THREATS.md: "corrupted
# database page or block file: detected, reported, rebuilt from verified
# blocks where possible"):
#
#   | test                | damage                 | then                     |
#   |---------------------|------------------------|--------------------------|
#   | db_page_rebuilt     | page 2 of registry.db  | verify 1 + hint; repair  |
#   |                     | overwritten            | 0; search/info/install as|
#   |                     |                        | before; verify 0         |
#   | db_header_rebuilt   | not a database at all  | same, from the blocks    |
#   | foreign_untrusted   | mirror's db smashed    | publisher untrusted, the |
#   |                     |                        | trust add to run; after  |
#   |                     |                        | it, repair brings it back|
#   | block_quarantined   | a block file flipped   | moved to quarantine with |
#   |                     |                        | its bytes, release shown |
#   |                     |                        | partial, a bundle import |
#   |                     |                        | completes it             |
. "$(dirname "$0")/lib.sh"

# mkpkg DIR NAME VERSION: a template package of namespace acme whose
# template holds a line unique to it ("marker NAME VERSION").
mkpkg() {
	local dir=$1 name=$2 ver=$3
	mkdir -p "$dir/templates"
	cat >"$dir/ggen.toml" <<EOF
[package]
name = "$name"
namespace = "acme"
version = "$ver"
kind = "template"
description = "Rebuild fixture $name"
license = "MIT"
keywords = ["fixture"]
categories = ["web"]
EOF
	printf 'marker %s %s\n' "$name" "$ver" >"$dir/templates/a.tmpl"
}

home() { export GGEN_HOME=$PWD/$1; }

# smash FILE PAGE: overwrites 4096-byte page PAGE (0 = the header) of FILE.
smash() {
	head -c 4096 /dev/zero | tr '\0' '\336' |
		dd of="$1" bs=4096 seek="$2" conv=notrunc status=none
}

expect_has() {
	case $2 in *"$1"*) ;; *)
		echo "  expected '$1' in: $2" >&2
		return 1 ;;
	esac
}

publish_two() {
	ggen market key generate --handle acme >/dev/null
	mkpkg a alpha 1.0.0
	mkpkg b beta 0.2.0
	ggen market publish a >/dev/null 2>&1
	ggen market publish b >/dev/null 2>&1
}

# the state a user sees: search, info of both, and what install locks
snapshot() {
	local out=$1
	ggen market search fixture --json >"$out"
	ggen market info acme/alpha --json >>"$out"
	ggen market info acme/beta --json >>"$out"
	rm -rf proj && mkdir proj
	(cd proj && ggen market install acme/alpha acme/beta >/dev/null 2>&1)
	cat proj/ggen.lock >>"$out"
	ls -R proj/.ggen/packages >>"$out"
}

t_db_page_rebuilt() {
	home h
	publish_two
	snapshot before
	smash "$GGEN_HOME/registry.db" 1
	expect_rc 1 ggen market verify
	expect_has "integrity check failed" "$OUT"
	expect_has "the registry database is damaged" "$ERR"
	expect_has "ggen market verify --repair" "$ERR"
	[ ! -e "$GGEN_HOME"/registry.db.corrupt-* ] 2>/dev/null
	expect_rc 0 ggen market verify --repair
	expect_grep "registry: damaged: registry integrity check failed" "$OUT"
	expect_grep "moved to $GGEN_HOME/registry.db.corrupt-[0-9]{8}T[0-9]{6}Z \(kept" "$OUT"
	expect_has "records: 3 record blocks, 3 registered, 0 already known, 0 failed verification, 0 refused, 0 held back" "$OUT"
	expect_has "1 key(s) of this machine" "$OUT"
	expect_has "not recoverable from blocks: trust decisions" "$OUT"
	expect_has "node: consistent" "$OUT"
	local aside
	aside=$(ls "$GGEN_HOME" | grep -E '^registry\.db\.corrupt-[0-9]{8}T[0-9]{6}Z$')
	expect_eq "$(cmp -s "$GGEN_HOME/$aside" "$GGEN_HOME/registry.db" && echo same || echo differ)" differ "old and new db"
	# the damaged bytes are kept
	expect_eq "$(dd if="$GGEN_HOME/$aside" bs=1 skip=4096 count=4 status=none | od -An -tx1 | tr -d ' \n')" dededede "kept page"
	snapshot after
	expect_eq "$(cat after)" "$(cat before)" "search/info/install output"
	expect_rc 0 ggen market verify
	expect_has "registry: ok" "$OUT"
}

t_db_header_rebuilt() {
	home h
	publish_two
	ggen market search fixture --json >before
	smash "$GGEN_HOME/registry.db" 0
	expect_rc 1 ggen market verify
	expect_has "ggen market verify --repair" "$ERR"
	expect_rc 0 ggen market verify --repair
	expect_has "registry: damaged" "$OUT"
	expect_has "3 registered" "$OUT"
	ggen market search fixture --json >after
	expect_eq "$(cat after)" "$(cat before)" "search output"
	expect_rc 0 ggen market verify
}

t_foreign_untrusted() {
	home pub
	publish_two
	ggen market bundle export acme/alpha -o a.car >/dev/null 2>&1
	home mirror
	expect_rc 0 ggen market bundle import a.car --trust-new
	ggen market search fixture --json >before
	local fpr
	fpr=$(ggen market trust list --json | node -e '
		let s = "";
		process.stdin.on("data", c => s += c).on("end", () =>
			console.log(JSON.parse(s)[0].fingerprint))')
	smash "$GGEN_HOME/registry.db" 1
	expect_rc 0 ggen market verify --repair
	expect_has "1 registered" "$OUT"
	expect_has "1 held back (untrusted publisher)" "$OUT"
	expect_has "publisher 'acme' (key $fpr) is untrusted now; 1 release(s) held back" "$OUT"
	expect_has "run \`ggen market trust add $fpr\`, then \`ggen market verify --repair\` again" "$OUT"
	expect_rc 1 ggen market info acme/alpha
	expect_rc 0 ggen market verify
	expect_rc 0 ggen market trust add "$fpr"
	expect_rc 0 ggen market verify --repair
	expect_has "registry: ok" "$OUT"
	expect_has "1 registered" "$OUT"
	expect_has "0 held back" "$OUT"
	ggen market search fixture --json >after
	expect_eq "$(cat after)" "$(cat before)" "search output"
}

t_block_quarantined() {
	home pub
	publish_two
	ggen market bundle export acme/alpha -o a.car >/dev/null 2>&1
	local f q
	f=$(grep -rl "marker alpha" "$GGEN_HOME/blocks")
	[ -n "$f" ]
	printf 'X' | dd of="$f" bs=1 conv=notrunc status=none
	expect_rc 3 ggen market verify
	expect_has "corrupt block" "$OUT"
	expect_has "ggen market verify --repair" "$ERR"
	expect_rc 0 ggen market verify --repair
	q=$GGEN_HOME/blocks/quarantine/$(basename "$f")
	expect_has "moved to $q" "$OUT"
	expect_has "blocks: 11 checked, 1 corrupt, 1 moved to" "$OUT"
	expect_has "release acme/alpha@1.0.0: content partial (was registered complete)" "$OUT"
	expect_has "releases: 1 with content not complete" "$OUT"
	expect_has "registry: ok" "$OUT"
	[ ! -e "$f" ]
	expect_eq "$(cat "$q")" "Xarker alpha 1.0.0" "quarantined bytes"
	expect_rc 0 ggen market verify
	expect_rc 0 ggen market info acme/alpha
	expect_grep "content: +partial" "$OUT"
	# a good copy from a bundle completes it again
	expect_rc 0 ggen market bundle import a.car
	expect_rc 0 ggen market info acme/alpha
	expect_grep "content: +complete" "$OUT"
	expect_rc 0 ggen market verify
	expect_has "blocks: 11 checked, 0 corrupt" "$OUT"
}

run_tests
