#!/usr/bin/env bash
# End-to-end tests of `ggen market trust | bundle` through the binary: the
# THREATS.md rows that need no network (untrusted publisher, tampered and
# truncated bundles, equivocation, key rotation and revocation), each with
# two or three GGEN_HOMEs standing in for machines.
. "$(dirname "$0")/lib.sh"

# mkpkg DIR NAME VERSION [DEPS...]: a template package of namespace acme
# whose template holds a line unique to NAME@VERSION ("marker-NAME-VERSION").
mkpkg() {
	local dir=$1 name=$2 ver=$3 dep
	shift 3
	mkdir -p "$dir/templates"
	cat >"$dir/ggen.toml" <<EOF
[package]
name = "$name"
namespace = "acme"
version = "$ver"
kind = "template"
description = "Fixture $name: templates for an HTTP service"
license = "Apache-2.0"
authors = ["Acme Platform Team <platform@acme.example>"]
keywords = ["http", "fixture"]
categories = ["web"]
EOF
	if [ $# -gt 0 ]; then
		printf '\n[dependencies]\n' >>"$dir/ggen.toml"
		for dep in "$@"; do
			printf '%s\n' "$dep" >>"$dir/ggen.toml"
		done
	fi
	printf 'pub fn layer() {}\n// marker-%s-%s\n' "$name" "$ver" \
		>"$dir/templates/lib.rs.tmpl"
}

# home NAME: switch to GGEN_HOME $PWD/NAME (a "machine")
home() { export GGEN_HOME=$PWD/$1; }

fpr_of() { # handle -> fingerprint of this home's key
	ggen market key list --json | node -e '
		let s = "";
		process.stdin.on("data", c => s += c).on("end", () => {
			const k = JSON.parse(s).find(k => k.handle == process.argv[1]);
			console.log(k ? k.fingerprint : "");
		})' "$1"
}

# expect_has STRING TEXT: fails unless TEXT contains STRING (no regex).
expect_has() {
	case $2 in *"$1"*) ;; *)
		echo "  expected '$1' in: $2" >&2
		return 1 ;;
	esac
}

# A publisher home "pub" with acme/web-framework 1.2.0 depending on
# http-middleware ^0.3 and rust-cli 1.0, all published; prints nothing.
publish_framework() {
	home pub
	ggen market key generate --handle acme >/dev/null
	mkpkg hm http-middleware 0.3.1
	mkpkg cli rust-cli 1.0.3
	mkpkg wf web-framework 1.2.0 '"acme/http-middleware" = "^0.3"' \
		'"acme/rust-cli" = "1.0"'
	ggen market publish hm >/dev/null 2>&1
	ggen market publish cli >/dev/null 2>&1
	ggen market publish wf >/dev/null 2>&1
}

t_bundle_usage_errors() {
	expect_rc 2 ggen market bundle
	expect_grep 'ggen market bundle --help' "$ERR"
	expect_rc 2 ggen market bundle pack x
	expect_grep 'ggen market bundle --help' "$ERR"
	expect_rc 2 ggen market bundle export acme/x
	expect_has '-o FILE' "$ERR"
	expect_grep 'ggen market bundle --help' "$ERR"
	expect_rc 2 ggen market bundle import
	expect_grep 'ggen market bundle --help' "$ERR"
	expect_rc 2 ggen market bundle import a.car --trust-nwe
	expect_grep "did you mean '--trust-new'" "$ERR"
	expect_rc 2 ggen market trust
	expect_grep 'ggen market trust --help' "$ERR"
	expect_rc 2 ggen market trust add
	expect_grep 'ggen market trust --help' "$ERR"
	expect_rc 2 ggen market trust add SHA256:abcdefgh --level total
	expect_grep 'unknown trust level' "$ERR"
	expect_rc 1 ggen market trust add SHA256:abcdefghijk
	expect_grep 'ggen market trust list' "$ERR"
	expect_rc 1 ggen market bundle import no-such.car
	expect_grep 'no-such.car' "$ERR"
	expect_rc 1 ggen market bundle export acme/nothing -o x.car
	[ ! -e x.car ]
}

# Regression: an unknown action is a usage error, checked before the key is
# looked up.
t_trust_unknown_action_is_usage() {
	expect_rc 2 ggen market trust frob SHA256:abcdefgh
	expect_grep "unknown action 'frob'" "$ERR"
}

t_bundle_carries_dependencies() {
	publish_framework
	expect_rc 0 ggen market bundle export acme/web-framework -o wf.car \
		--json
	expect_eq "$(json_get "$OUT" j.file)" wf.car "file"
	expect_eq "$(json_get "$OUT" j.releases)" 3 "releases"
	# the publisher record and the three release records
	expect_eq "$(json_get "$OUT" j.records)" 4 "records"
	[ "$(json_get "$OUT" j.blocks)" -ge 10 ]
	# block bytes, without the CAR's headers and CIDs
	[ "$(json_get "$OUT" j.bytes)" -gt 0 ]
	[ "$(json_get "$OUT" j.bytes)" -lt "$(stat -c %s wf.car)" ]
	expect_grep '^bundled acme/http-middleware@0\.3\.1$' "$ERR"
	expect_grep '^bundled acme/rust-cli@1\.0\.3$' "$ERR"
	expect_grep '^bundled acme/web-framework@1\.2\.0$' "$ERR"
	local fpr cid
	fpr=$(fpr_of acme)
	cid=$(ggen market cid wf)
	home site
	expect_rc 0 ggen market bundle import wf.car --trust-new --json
	expect_eq "$(json_get "$OUT" j.releases)" 3 "imported releases"
	expect_eq "$(json_get "$OUT" j.added)" 3 "added"
	expect_eq "$(json_get "$OUT" j.trusted_new)" 1 "trusted_new"
	local id
	for id in acme/http-middleware acme/rust-cli acme/web-framework; do
		expect_rc 0 ggen market info "$id" --json
		expect_eq "$(json_get "$OUT" 'j.versions[0].content')" complete \
			"$id content"
		expect_eq "$(json_get "$OUT" 'j.versions[0].signature')" valid \
			"$id signature"
		expect_eq "$(json_get "$OUT" 'j.versions[0].trust')" full \
			"$id trust"
		expect_eq "$(json_get "$OUT" 'j.versions[0].publisher')" "$fpr" \
			"$id publisher"
	done
	expect_rc 0 ggen market info acme/web-framework --json
	expect_eq "$(json_get "$OUT" 'j.versions[0].cid')" "$cid" "root cid"
	expect_rc 0 ggen market store get "$cid" -o out
	diff -r wf out
	# importing again adds nothing
	expect_rc 0 ggen market bundle import wf.car --json
	expect_eq "$(json_get "$OUT" j.added)" 0 "added again"
	expect_eq "$(json_get "$OUT" j.new_blocks)" 0 "new blocks again"
}

t_first_seen_publisher_refused_then_trusted() {
	publish_framework
	local fpr
	fpr=$(fpr_of acme)
	ggen market bundle export acme/web-framework -o wf.car 2>/dev/null
	home site
	expect_rc 3 ggen market bundle import wf.car
	expect_has "$fpr" "$ERR"
	expect_has "ggen market trust add $fpr" "$ERR"
	expect_has "--trust-new" "$ERR"
	# nothing registered
	expect_rc 0 ggen market search --json
	expect_eq "$(json_get "$OUT" j.total)" 0 "registered"
	expect_rc 1 ggen market info acme/web-framework
	# the key is known (untrusted) so that `trust add` can name it
	expect_rc 0 ggen market trust list --json
	expect_eq "$(json_get "$OUT" 'j[0].fingerprint')" "$fpr" "seen key"
	expect_eq "$(json_get "$OUT" 'j[0].trust')" untrusted "seen level"
	expect_rc 0 ggen market trust add "${fpr:0:15}"
	expect_has "acme $fpr (full)" "$OUT"
	expect_rc 0 ggen market bundle import wf.car --json
	expect_eq "$(json_get "$OUT" j.added)" 3 "added"
	expect_eq "$(json_get "$OUT" j.trusted_new)" 0 "trusted_new"
	expect_rc 0 ggen market search --json
	expect_eq "$(json_get "$OUT" j.total)" 3 "registered now"
	# trust remove: back to untrusted, and info says so
	expect_rc 0 ggen market trust remove acme
	expect_rc 0 ggen market info acme/rust-cli --json
	expect_grep '^refused: .*not trusted' \
		"$(json_get "$OUT" 'j.versions[0].trust')"
}

t_trust_new_pins_and_trust_revoke_wins() {
	publish_framework
	local fpr
	fpr=$(fpr_of acme)
	ggen market bundle export acme/rust-cli -o cli.car 2>/dev/null
	home site
	expect_rc 0 ggen market bundle import cli.car --trust-new
	expect_grep '^imported cli\.car: 1 releases \(1 new\)' "$OUT"
	expect_rc 0 ggen market trust list --json
	expect_eq "$(json_get "$OUT" 'j.length')" 1 "keys"
	expect_eq "$(json_get "$OUT" 'j[0].fingerprint')" "$fpr" "fpr"
	expect_eq "$(json_get "$OUT" 'j[0].handle')" acme "handle"
	expect_eq "$(json_get "$OUT" 'j[0].trust')" full "level"
	expect_eq "$(json_get "$OUT" 'j[0].pinned')" true "pinned"
	expect_eq "$(json_get "$OUT" 'j[0].state')" current "state"
	# an explicit distrust is stronger than --trust-new
	home other
	expect_rc 3 ggen market bundle import cli.car
	expect_rc 0 ggen market trust revoke "$fpr"
	expect_has "(distrusted)" "$OUT"
	expect_rc 3 ggen market bundle import cli.car --trust-new
	expect_has "$fpr" "$ERR"
	expect_rc 0 ggen market search --json
	expect_eq "$(json_get "$OUT" j.total)" 0 "registered"
	expect_rc 0 ggen market trust list --json
	expect_eq "$(json_get "$OUT" 'j[0].state')" distrusted "state"
	expect_eq "$(json_get "$OUT" 'j[0].trust')" untrusted "level"
}

t_tampered_bundle_refused() {
	publish_framework
	ggen market bundle export acme/http-middleware -o hm.car 2>/dev/null
	LC_ALL=C sed 's/marker-http-middleware-0\.3\.1/marker-http-middleware-0.3.2/' \
		hm.car >bad.car
	cmp -s hm.car bad.car && { echo "  tampering failed" >&2; return 1; }
	[ "$(stat -c %s hm.car)" = "$(stat -c %s bad.car)" ]
	home site
	expect_rc 3 ggen market bundle import bad.car --trust-new
	expect_grep 'bafkrei[a-z2-7]+ .*does not match its CID' "$ERR"
	expect_grep 'expected bafkrei[a-z2-7]+, got bafkrei' "$ERR"
	expect_rc 0 ggen market store stat --json
	expect_eq "$(json_get "$OUT" j.blocks)" 0 "blocks"
	expect_rc 0 ggen market search --json
	expect_eq "$(json_get "$OUT" j.total)" 0 "registered"
	expect_rc 0 ggen market trust list --json
	expect_eq "$(json_get "$OUT" j.length)" 0 "keys"
	# a flipped byte in a record (the signed release) is refused too
	LC_ALL=C sed 's/Fixture http-middleware/Fixture http-middlewarE/' \
		hm.car >bad2.car
	cmp -s hm.car bad2.car && { echo "  tampering failed" >&2; return 1; }
	expect_rc 3 ggen market bundle import bad2.car --trust-new
	expect_grep 'bafyrei' "$ERR"
	expect_rc 0 ggen market store stat --json
	expect_eq "$(json_get "$OUT" j.blocks)" 0 "blocks after record"
	# the untouched bundle still imports
	expect_rc 0 ggen market bundle import hm.car --trust-new
}

t_truncated_bundle_refused() {
	publish_framework
	ggen market bundle export acme/web-framework -o wf.car 2>/dev/null
	home site
	local n
	for n in 3 500 $(($(stat -c %s wf.car) - 1)); do
		head -c "$n" wf.car >short.car
		expect_rc 1 ggen market bundle import short.car --trust-new
		expect_grep 'truncated|short|end' "$ERR"
		expect_rc 0 ggen market store stat --json
		expect_eq "$(json_get "$OUT" j.blocks)" 0 "blocks ($n)"
		expect_rc 0 ggen market search --json
		expect_eq "$(json_get "$OUT" j.total)" 0 "registered ($n)"
	done
	printf 'not a bundle' >junk.car
	expect_rc 1 ggen market bundle import junk.car
}

t_equivocation_detected_and_kept() {
	# two machines hold the same key and publish acme/x@1.0.0 differently
	home a
	ggen market key generate --handle acme >/dev/null
	mkdir -p b/keys && chmod 700 b b/keys
	cp a/keys/acme.key b/keys/acme.key
	mkpkg x x 1.0.0
	ggen market publish x >/dev/null
	local cid1 cid2
	cid1=$(ggen market cid x)
	ggen market bundle export acme/x -o one.car 2>/dev/null
	home b
	printf '// other content\n' >>x/templates/lib.rs.tmpl
	expect_rc 0 ggen market publish x
	cid2=$(ggen market cid x)
	[ "$cid1" != "$cid2" ]
	ggen market bundle export acme/x -o two.car 2>/dev/null
	home c
	expect_rc 0 ggen market bundle import one.car --trust-new
	expect_rc 3 ggen market bundle import two.car
	expect_grep 'equivocation: acme/x@1\.0\.0 was already released with other content' "$ERR"
	expect_grep 'ggen market info acme/x' "$ERR"
	expect_rc 0 ggen market info acme/x --json
	expect_eq "$(json_get "$OUT" j.versions.length)" 2 "both kept"
	expect_eq "$(json_get "$OUT" \
		'j.versions.map(v => v.cid).sort().join()')" \
		"$(printf '%s\n' "$cid1" "$cid2" | sort | paste -sd,)" "cids"
	expect_eq "$(json_get "$OUT" \
		'j.versions.filter(v => v.equivocation).length > 0')" true \
		"flagged"
	expect_eq "$(json_get "$OUT" \
		'j.versions.every(v => v.version == "1.0.0")')" true "version"
	expect_rc 0 ggen market info acme/x
	expect_grep 'EQUIVOCATION' "$OUT"
	# the evidence stays on a second import
	ggen market bundle import two.car >/dev/null 2>&1 || true
	expect_rc 0 ggen market info acme/x --json
	expect_eq "$(json_get "$OUT" j.versions.length)" 2 "still two"
}

t_rotation_carries_trust() {
	home pub
	ggen market key generate --handle acme >/dev/null
	local old new
	old=$(fpr_of acme)
	cp pub/keys/acme.key old.key
	mkpkg x x 1.0.0
	ggen market publish x >/dev/null
	ggen market bundle export acme/x -o pre.car 2>/dev/null
	expect_rc 0 ggen market key rotate --handle acme
	new=$(fpr_of acme)
	[ -n "$new" ] && [ "$new" != "$old" ]
	expect_has "rotated 'acme' to key $new" "$OUT"
	sed -i 's/^version = .*/version = "1.1.0"/' x/ggen.toml
	expect_rc 0 ggen market publish x
	expect_rc 0 ggen market info acme/x --json
	local v='j.versions.find(v => v.version == "1.1.0")'
	expect_eq "$(json_get "$OUT" "$v.publisher")" "$new" "new signer"
	expect_eq "$(json_get "$OUT" "$v.trust")" ultimate "new key trust"
	v='j.versions.find(v => v.version == "1.0.0")'
	expect_eq "$(json_get "$OUT" "$v.publisher")" "$old" "old signer"
	expect_eq "$(json_get "$OUT" "$v.trust")" ultimate "old release"
	expect_rc 0 ggen market trust list --json
	expect_eq "$(json_get "$OUT" \
		'j.map(k => k.fingerprint + " " + k.state).sort().join()')" \
		"$(printf '%s\n' "$old rotated" "$new current" | sort | paste -sd,)" \
		"states"
	# the old key signs nothing new here
	sed -i 's/^version = .*/version = "1.2.0"/' x/ggen.toml
	expect_rc 3 ggen market publish x --key-file old.key
	expect_has "$old" "$ERR"
	sed -i 's/^version = .*/version = "1.1.0"/' x/ggen.toml
	ggen market bundle export acme/x -o post.car 2>/dev/null
	# a site that trusted the old key trusts the new one, and a bundle
	# made before the rotation still imports
	home site
	expect_rc 0 ggen market bundle import pre.car --trust-new
	expect_rc 0 ggen market bundle import post.car --json
	expect_eq "$(json_get "$OUT" j.added)" 1 "added"
	expect_eq "$(json_get "$OUT" j.trusted_new)" 0 "no new pin"
	expect_rc 0 ggen market info acme/x --json
	v='j.versions.find(v => v.version == "1.1.0")'
	expect_eq "$(json_get "$OUT" "$v.publisher")" "$new" "site signer"
	expect_eq "$(json_get "$OUT" "$v.trust")" full "carried trust"
	expect_rc 0 ggen market bundle import pre.car --json
	expect_eq "$(json_get "$OUT" j.added)" 0 "pre again"
}

# Regression: the rotation record carries the old key's last release
# sequence (signed), so a site that learns of the rotation before the old
# key's releases still accepts those made before it.
t_rotation_old_bundle_after_new() {
	home pub
	ggen market key generate --handle acme >/dev/null
	mkpkg x x 1.0.0
	ggen market publish x >/dev/null
	ggen market bundle export acme/x -o pre.car 2>/dev/null
	ggen market key rotate --handle acme >/dev/null
	sed -i 's/^version = .*/version = "1.1.0"/' x/ggen.toml
	ggen market publish x >/dev/null
	ggen market bundle export 'acme/x@=1.1.0' -o post.car 2>/dev/null
	home site
	expect_rc 0 ggen market bundle import post.car --trust-new
	expect_rc 0 ggen market bundle import pre.car
	expect_rc 0 ggen market info acme/x --json
	expect_eq "$(json_get "$OUT" j.versions.length)" 2 "both versions"
}

t_revocation_refuses_later_releases() {
	# pub publishes 1.0.0 (release sequence 1); its key file leaks
	home pub
	ggen market key generate --handle acme >/dev/null
	local fpr
	fpr=$(fpr_of acme)
	cp pub/keys/acme.key leaked.key
	mkpkg x x 1.0.0
	ggen market publish x >/dev/null
	ggen market bundle export acme/x -o v1-pre.car 2>/dev/null
	# the thief's machine, which knows 1.0.0 but not the revocation,
	# signs 1.1.0 (release sequence 2) with the leaked key
	home thief
	ggen market bundle import v1-pre.car --trust-new >/dev/null
	sed -i 's/^version = .*/version = "1.1.0"/' x/ggen.toml
	printf '// planted\n' >>x/templates/lib.rs.tmpl
	expect_rc 0 ggen market publish x --key-file leaked.key
	ggen market bundle export 'acme/x@=1.1.0' -o stolen.car 2>/dev/null
	# pub revokes the key: releases after sequence 1 are refused
	home pub
	expect_rc 0 ggen market key revoke --handle acme
	expect_grep 'releases after its sequence 1 are refused' "$OUT"
	expect_rc 0 ggen market key list --json
	expect_eq "$(json_get "$OUT" 'j[0].revoked')" true "key list revoked"
	expect_rc 0 ggen market trust list --json
	expect_eq "$(json_get "$OUT" 'j[0].state')" revoked "trust state"
	# ... and its own machine signs nothing more with it
	sed -i 's/^version = .*/version = "1.2.0"/' x/ggen.toml
	expect_rc 3 ggen market publish x
	expect_has "$fpr" "$ERR"
	expect_grep 'revoked' "$ERR"
	expect_rc 3 ggen market publish x --key-file leaked.key
	ggen market bundle export 'acme/x@=1.0.0' -o v1-post.car 2>/dev/null
	# a site that learns of the revocation keeps 1.0.0 ...
	home site
	expect_rc 0 ggen market bundle import v1-post.car --trust-new
	expect_rc 0 ggen market info acme/x --json
	expect_eq "$(json_get "$OUT" 'j.versions[0].trust')" full "1.0.0 trust"
	# ... and refuses the release signed after the revocation
	expect_rc 3 ggen market bundle import stolen.car --trust-new
	expect_has "acme/x@1.1.0 is signed by key $fpr, revoked for releases after sequence 1 (this one is 2)" "$ERR"
	expect_rc 0 ggen market info acme/x --json
	expect_eq "$(json_get "$OUT" 'j.versions.map(v => v.version).join()')" \
		1.0.0 "only 1.0.0"
	# re-importing the older bundles (which carry the same publisher
	# record) is a no-op, not a refusal
	expect_rc 0 ggen market bundle import v1-pre.car --json
	expect_eq "$(json_get "$OUT" j.added)" 0 "pre again"
	expect_rc 0 ggen market bundle import v1-post.car --json
	expect_eq "$(json_get "$OUT" j.added)" 0 "post again"
	# a site that hears of the revocation after the stolen release
	# flags it in info
	home late
	expect_rc 0 ggen market bundle import stolen.car --trust-new
	expect_rc 0 ggen market bundle import v1-post.car
	expect_rc 0 ggen market info acme/x --json
	expect_grep '^refused: .*revoked for releases after sequence 1' \
		"$(json_get "$OUT" \
			'j.versions.find(v => v.version == "1.1.0").trust')"
	expect_eq "$(json_get "$OUT" \
		'j.versions.find(v => v.version == "1.0.0").trust')" full \
		"late 1.0.0"
}

run_tests
