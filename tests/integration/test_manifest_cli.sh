#!/usr/bin/env bash
# End-to-end tests of `ggen market manifest check`.
. "$(dirname "$0")/lib.sh"

EXAMPLES=$GGEN_SOURCE_ROOT/examples/packages

t_examples_are_valid() {
	local p
	for p in "$EXAMPLES"/*/; do
		expect_rc 0 ggen market manifest check "$p"
		expect_grep '^ok: acme/' "$OUT"
	done
	expect_rc 0 ggen market manifest check "$EXAMPLES/web-framework"
	expect_eq "$OUT" "ok: acme/web-framework@1.2.0 (template)"
}

t_json_fields() {
	expect_rc 0 ggen market manifest check --json "$EXAMPLES/web-framework/ggen.toml"
	expect_eq "$(json_get "$OUT" j.name)" web-framework
	expect_eq "$(json_get "$OUT" j.namespace)" acme
	expect_eq "$(json_get "$OUT" j.version)" 1.2.0
	expect_eq "$(json_get "$OUT" j.kind)" template
	expect_eq "$(json_get "$OUT" j.license)" "MIT OR Apache-2.0"
	expect_eq "$(json_get "$OUT" j.keywords.length)" 5
	expect_eq "$(json_get "$OUT" 'j.dependencies[0].id')" acme/http-middleware
	expect_eq "$(json_get "$OUT" 'j.dependencies[0].req')" '^0.3'
}

t_unknown_key_has_position_and_suggestion() {
	mkdir p
	cat >p/ggen.toml <<'TOML'
[package]
name = "demo"
namespace = "acme"
descripton = "typo"
version = "1.0.0"
kind = "template"
TOML
	expect_rc 1 ggen market manifest check p
	expect_grep 'ggen.toml:4:1: ' "$ERR"
	expect_grep "did you mean 'description'" "$ERR"
}

t_syntax_error_has_position() {
	mkdir p
	printf '[package]\nname = "demo"\nversion = \n' >p/ggen.toml
	expect_rc 1 ggen market manifest check p
	expect_grep 'ggen.toml:3:[0-9]+: ' "$ERR"
}

t_bad_values_are_named() {
	mkdir p
	cat >p/ggen.toml <<'TOML'
[package]
name = "Demo"
namespace = "acme"
version = "1.0.0"
kind = "template"
description = "d"
TOML
	expect_rc 1 ggen market manifest check p
	expect_grep 'ggen.toml:2:[0-9]+: .*name' "$ERR"
	sed -i 's/"Demo"/"demo"/; s/"1.0.0"/"1.0"/' p/ggen.toml
	expect_rc 1 ggen market manifest check p
	expect_grep 'ggen.toml:4:[0-9]+: .*version' "$ERR"
	sed -i 's/"1.0"/"1.0.0"/' p/ggen.toml
	expect_rc 0 ggen market manifest check p
	expect_rc 1 ggen market manifest check missing-dir
	expect_grep 'missing-dir' "$ERR"
}

run_tests
