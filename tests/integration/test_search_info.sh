#!/usr/bin/env bash
# End-to-end tests of `ggen market search | info | categories` through the
# binary, over a registry seeded once by publishing fixture packages.
. "$(dirname "$0")/lib.sh"

SEED=$TEST_ROOT/seed

# pkg DIR NAME VERSION DESCRIPTION KEYWORDS CATEGORIES LICENSE AUTHOR [KIND]:
# a template package (or a validator with its [plugin] table) in DIR, under
# namespace $NS (default acme). Extra manifest text comes from $EXTRA.
pkg() {
	local dir=$1 name=$2 ver=$3 desc=$4 kw=$5 cats=$6 lic=$7 auth=$8
	local kind=${9:-template}
	mkdir -p "$dir/templates"
	cat >"$dir/ggen.toml" <<EOF
# fixture package $name
[package]
name = "$name"
namespace = "${NS:-acme}"
version = "$ver"
kind = "$kind"
description = "$desc"
license = "$lic"
authors = ["$auth"]
keywords = [$kw]
categories = [$cats]
${EXTRA:-}
EOF
	printf '// %s %s\nfn main() { println!("{{ name }}"); }\n' \
		"$name" "$ver" >"$dir/templates/main.rs.tmpl"
	printf '# %s\n\n%s\n' "$name" "$desc" >"$dir/README.md"
	if [ "$kind" = validator ]; then
		printf '\0asm\1\0\0\0' >"$dir/plugin.wasm"
		cat >>"$dir/ggen.toml" <<EOF

[plugin]
entry = "plugin.wasm"
capabilities = ["stdout"]

[plugin.limits]
memory_mb = 16
fuel = 1000000
timeout_ms = 1000
EOF
	fi
}

# The shared registry: built by the first test that needs it (tests run in
# subshells, so the folder is the memo).
seed() {
	export GGEN_HOME=$SEED/home
	if [ ! -e "$SEED/done" ]; then
		local rc
		set +e
		(set -e; seed_build)
		rc=$?
		set -e
		[ "$rc" = 0 ] || { rm -rf "$SEED"; return 1; }
	fi
	cd "$SEED"
}

seed_build() {
	mkdir -p "$SEED" && cd "$SEED"
	ggen market key generate --handle acme >/dev/null
	ggen market key generate --handle other >/dev/null
	pkg p/hm http-middleware 0.3.1 \
		"Tower middleware templates: request ids and access logs" \
		'"http", "middleware", "tower"' '"web"' Apache-2.0 \
		"Jane Doe <jane@example.org>"
	pkg p/cli rust-cli 1.0.3 \
		"Command line application in Rust with clap argument parsing" \
		'"rust", "cli", "clap"' '"cli"' MIT \
		"Acme Platform Team <platform@acme.example>"
	EXTRA='[dependencies]
"acme/http-middleware" = "^0.3"
"acme/rust-cli" = "1.0"' \
	pkg p/wf10 web-framework 1.0.0 \
		"Rust web framework starter: axum service with routing" \
		'"rust", "web", "framework", "axum"' '"web"' "MIT OR Apache-2.0" \
		"Acme Platform Team <platform@acme.example>"
	EXTRA='[dependencies]
"acme/http-middleware" = "^0.3"
"acme/rust-cli" = "1.0"' \
	pkg p/wf12 web-framework 1.2.0 \
		"Rust web framework starter: axum service with routing" \
		'"rust", "web", "framework", "axum"' '"web"' "MIT OR Apache-2.0" \
		"Acme Platform Team <platform@acme.example>"
	pkg p/web web 0.1.0 "Minimal static site generator in plain HTML" \
		'"html", "static"' '"docs"' MIT \
		"Acme Platform Team <platform@acme.example>"
	pkg p/webhooks webhooks 2.0.0 \
		"Receivers for signed callbacks from payment providers" \
		'"callbacks", "payments"' '"web"' ISC "Jane Doe"
	pkg p/scan security-scanner 0.2.0 \
		"Fails a project that commits private keys" \
		'"security", "secrets"' '"security", "validator"' Apache-2.0 \
		"Acme Security <security@acme.example>" validator
	NS=other pkg p/other-hm http-middleware 9.0.0 \
		"A different middleware collection for gRPC services" \
		'"grpc", "middleware"' '"web"' MIT "Other Corp"
	local d
	for d in hm cli wf10 wf12 web webhooks scan other-hm; do
		ggen market publish "p/$d" >/dev/null
	done
	# one release clearly newer than the rest, for --sort recent
	sleep 1
	pkg p/late zeta-logger 0.0.1 "Structured logging templates" \
		'"logging"' '"cli"' MIT "Jane Doe"
	ggen market publish p/late >/dev/null
	touch "$SEED/done"
}

# expect_line LINE TEXT: fails unless TEXT has the exact line LINE.
expect_line() {
	if ! printf '%s\n' "$2" | grep -Fxq -- "$1"; then
		echo "  expected line '$1' in: $2" >&2
		return 1
	fi
}

# ids of a search's --json results, one line, space separated
ids() { json_get "$1" 'j.results.map(r => r.id).join(" ")'; }

t_search_exact_name_first() {
	seed
	expect_rc 0 ggen market search web --json
	expect_eq "$(json_get "$OUT" 'j.results[0].id')" acme/web "first hit"
	expect_eq "$(json_get "$OUT" 'j.results[0].exact')" true "exact flag"
	expect_eq "$(json_get "$OUT" 'j.results[1].exact')" false "2nd exact"
	local all
	all=$(ids "$OUT")
	expect_grep 'acme/web-framework' "$all"
	expect_grep 'acme/webhooks' "$all"
	# ns/name equal to the query is exact too
	expect_rc 0 ggen market search acme/web-framework --json
	expect_eq "$(json_get "$OUT" 'j.results[0].id')" acme/web-framework \
		"ns/name query"
	expect_eq "$(json_get "$OUT" 'j.results[0].exact')" true "ns/name exact"
}

t_search_prefix_and_json_fields() {
	seed
	expect_rc 0 ggen market search webh --json
	expect_eq "$(ids "$OUT")" acme/webhooks "prefix webh"
	expect_rc 0 ggen market search frame --json
	expect_eq "$(ids "$OUT")" acme/web-framework "prefix frame"
	local fpr
	fpr=$(ggen market key list --json | node -e \
		'let s="";process.stdin.on("data",c=>s+=c).on("end",()=>{console.log(JSON.parse(s).find(k=>k.handle=="acme").fingerprint)})')
	expect_eq "$(json_get "$OUT" j.query)" frame "query"
	expect_eq "$(json_get "$OUT" j.total)" 1 "total"
	expect_eq "$(json_get "$OUT" 'j.terms.join(",")')" frame "terms"
	expect_eq "$(json_get "$OUT" j.any_term)" false "any_term"
	expect_eq "$(json_get "$OUT" 'j.results[0].name')" web-framework "name"
	expect_eq "$(json_get "$OUT" 'j.results[0].namespace')" acme "ns"
	# only the latest version is a result
	expect_eq "$(json_get "$OUT" 'j.results[0].version')" 1.2.0 "version"
	expect_eq "$(json_get "$OUT" 'j.results[0].publisher')" "$fpr" "fpr"
	expect_eq "$(json_get "$OUT" 'j.results[0].content')" complete \
		"content"
	expect_eq "$(json_get "$OUT" 'j.results[0].matched.join(",")')" \
		frame "matched"
	expect_grep '^Rust web framework starter' \
		"$(json_get "$OUT" 'j.results[0].description')"
	[ "$(json_get "$OUT" 'j.results[0].score > 0')" = true ]
	# the text form highlights the matched term and counts
	expect_rc 0 ggen market search frame
	expect_grep '^acme/web-framework 1\.2\.0$' "$OUT"
	expect_grep '\[framework\]' "$OUT"
	expect_grep '^1 of 1 shown$' "$OUT"
}

t_search_filters() {
	seed
	expect_rc 0 ggen market search --category cli --sort name --json
	expect_eq "$(ids "$OUT")" "acme/rust-cli acme/zeta-logger" "category"
	expect_rc 0 ggen market search --keyword middleware --sort name --json
	expect_eq "$(ids "$OUT")" "acme/http-middleware other/http-middleware" \
		"keyword"
	# author: the whole entry or its name before " <"
	expect_rc 0 ggen market search --author "Jane Doe" --sort name --json
	expect_eq "$(ids "$OUT")" \
		"acme/http-middleware acme/webhooks acme/zeta-logger" "author"
	expect_rc 0 ggen market search --author "Jane" --json
	expect_eq "$(json_get "$OUT" j.total)" 0 "partial author"
	expect_rc 0 ggen market search --license ISC --json
	expect_eq "$(ids "$OUT")" acme/webhooks "license"
	expect_rc 0 ggen market search --license "MIT OR Apache-2.0" --json
	expect_eq "$(ids "$OUT")" acme/web-framework "compound license"
	expect_rc 0 ggen market search --kind validator --json
	expect_eq "$(ids "$OUT")" acme/security-scanner "kind"
	# filters combine with the text
	expect_rc 0 ggen market search middleware --category web --license MIT \
		--json
	expect_eq "$(ids "$OUT")" other/http-middleware "text + filters"
	# ns/rest filters on the namespace
	expect_rc 0 ggen market search other/middleware --json
	expect_eq "$(ids "$OUT")" other/http-middleware "ns/ filter"
}

t_search_sort_and_paging() {
	seed
	expect_rc 0 ggen market search --sort name --json
	expect_eq "$(json_get "$OUT" j.total)" 8 "total of all"
	expect_eq "$(ids "$OUT")" "acme/http-middleware other/http-middleware acme/rust-cli acme/security-scanner acme/web acme/web-framework acme/webhooks acme/zeta-logger" "by name"
	expect_rc 0 ggen market search --sort recent --json
	expect_eq "$(json_get "$OUT" 'j.results[0].id')" acme/zeta-logger \
		"newest first"
	expect_rc 0 ggen market search --sort name --limit 3 --offset 2 --json
	expect_eq "$(json_get "$OUT" j.total)" 8 "total with a page"
	expect_eq "$(ids "$OUT")" \
		"acme/rust-cli acme/security-scanner acme/web" "page"
	expect_rc 0 ggen market search --sort name --limit 3 --offset 2
	expect_grep '^3 of 8 shown$' "$OUT"
	expect_rc 0 ggen market search --sort name --offset 7 --json
	expect_eq "$(ids "$OUT")" acme/zeta-logger "last page"
	expect_rc 0 ggen market search --sort name --offset 50 --json
	expect_eq "$(json_get "$OUT" j.results.length)" 0 "past the end"
	expect_eq "$(json_get "$OUT" j.total)" 8 "total past the end"
}

t_search_did_you_mean_and_empty() {
	seed
	# no term matches: the message suggests the near name
	expect_rc 0 ggen market search wbhooks
	expect_eq "$OUT" "no packages match 'wbhooks'; did you mean 'acme/webhooks'?" \
		"did you mean"
	expect_rc 0 ggen market search web-framwork --json
	expect_eq "$(json_get "$OUT" 'j.did_you_mean[0]')" acme/web-framework \
		"suggestion"
	# "web" matches, "framwork" does not: any-term results
	expect_eq "$(json_get "$OUT" j.any_term)" true "any_term"
	expect_eq "$(json_get "$OUT" 'j.terms.join()')" web,framwork "terms"
	expect_rc 0 ggen market search qqqqzzzz
	expect_eq "$OUT" "no packages match 'qqqqzzzz'" "empty message"
	expect_rc 0 ggen market search qqqqzzzz --json
	expect_eq "$(json_get "$OUT" j.total)" 0 "total"
	expect_eq "$(json_get "$OUT" j.did_you_mean.length)" 0 "no suggestion"
	expect_rc 0 ggen market search axum qqqqzzzz --json
	expect_eq "$(json_get "$OUT" j.any_term)" true "any_term"
	expect_eq "$(ids "$OUT")" acme/web-framework "any_term hit"
}

# Regression: "web" matches (any-term results), and the text form must still
# show the suggestion that --json carries (it once did only with no hits).
t_search_did_you_mean_with_partial_hits() {
	seed
	expect_rc 0 ggen market search web-framwork
	expect_grep "did you mean 'acme/web-framework'" "$OUT"
}

t_search_fts_syntax_is_plain_text() {
	seed
	local q
	for q in 'foo AND' '"' '*' 'NEAR(' 'web OR' '-' '^web' 'col:x' \
		"'" 'AND OR NOT'; do
		expect_rc 0 ggen market search "$q" --json
		[ "$(json_get "$OUT" 'typeof j.total')" = number ]
	done
	# punctuation separates terms: "web*" searches the word web
	expect_rc 0 ggen market search web --sort name --json
	local want
	want=$(ids "$OUT")
	expect_rc 0 ggen market search 'web*' --sort name --json
	expect_eq "$(ids "$OUT")" "$want" "web*"
	expect_eq "$(json_get "$OUT" 'j.terms.join()')" web "web* terms"
	expect_rc 0 ggen market search '"rust" AND "cli"' --json
	expect_eq "$(json_get "$OUT" 'j.results[0].id')" acme/rust-cli \
		"quoted words"
}

t_search_usage_errors() {
	seed
	expect_rc 2 ggen market search --sort size
	expect_grep 'relevance, name or recent' "$ERR"
	expect_grep 'ggen market search --help' "$ERR"
	expect_rc 2 ggen market search --limit 0
	expect_grep 'ggen market search --help' "$ERR"
	expect_rc 2 ggen market search --limit x
	# regression: strtoul once read "-1" as 2^64-1 (exit 1, not 2)
	expect_rc 2 ggen market search --offset -1
	expect_rc 2 ggen market search --kind library
	expect_grep "template' or 'validator" "$ERR"
	expect_rc 2 ggen market search --categroy web
	expect_grep "did you mean '--category'" "$ERR"
	expect_rc 2 ggen market search --limit
	expect_grep 'ggen market search --help' "$ERR"
}

t_categories() {
	seed
	expect_rc 0 ggen market categories --json
	expect_eq "$(json_get "$OUT" \
		'j.find(c => c.name == "web").packages')" 4 "web count"
	expect_eq "$(json_get "$OUT" \
		'j.find(c => c.name == "cli").packages')" 2 "cli count"
	expect_eq "$(json_get "$OUT" \
		'j.find(c => c.name == "security").packages')" 1 "security"
	[ -n "$(json_get "$OUT" 'j.find(c => c.name == "web").description')" ]
	expect_rc 0 ggen market categories
	expect_grep '^web +4  ' "$OUT"
	expect_rc 2 ggen market categories --jsn
	expect_grep "did you mean '--json'" "$ERR"
}

t_info_versions_and_fields() {
	seed
	local fpr
	fpr=$(ggen market key list | awk '$1 == "acme" {print $2}')
	expect_grep '^SHA256:' "$fpr"
	expect_rc 0 ggen market info acme/web-framework
	expect_grep '^acme/web-framework$' "$OUT"
	expect_grep '^1\.2\.0  \(latest\)$' "$OUT"
	expect_grep '^1\.0\.0$' "$OUT"
	expect_line "  publisher:   $fpr" "$OUT"
	expect_grep '^  signature:   valid$' "$OUT"
	expect_grep '^  trust:       ultimate$' "$OUT"
	expect_grep '^  depends on: acme/http-middleware \^0\.3$' "$OUT"
	expect_grep '^ +acme/rust-cli 1\.0$' "$OUT"
	expect_grep '^  license:     MIT OR Apache-2\.0$' "$OUT"
	expect_rc 0 ggen market cid p/wf12
	local cid=$OUT
	expect_rc 0 ggen market info acme/web-framework --json
	expect_eq "$(json_get "$OUT" j.id)" acme/web-framework "id"
	expect_eq "$(json_get "$OUT" j.versions.length)" 2 "versions"
	expect_eq "$(json_get "$OUT" 'j.versions.map(v => v.version + ":" + v.latest).sort().join(" ")')" \
		"1.0.0:false 1.2.0:true" "latest marker"
	local v='j.versions.find(v => v.version == "1.2.0")'
	expect_eq "$(json_get "$OUT" "$v.cid")" "$cid" "cid"
	expect_eq "$(json_get "$OUT" "$v.kind")" template "kind"
	expect_eq "$(json_get "$OUT" "$v.publisher")" "$fpr" "publisher"
	expect_eq "$(json_get "$OUT" "$v.signature")" valid "signature"
	expect_eq "$(json_get "$OUT" "$v.trust")" ultimate "trust"
	expect_eq "$(json_get "$OUT" "$v.content")" complete "content"
	expect_eq "$(json_get "$OUT" "$v.equivocation")" false "equivocation"
	expect_eq "$(json_get "$OUT" "$v.license")" "MIT OR Apache-2.0" "lic"
	expect_grep '^bafyrei' "$(json_get "$OUT" "$v.record")"
	expect_eq "$(json_get "$OUT" "$v.dependencies.map(d => d.id + \" \" + d.req).join(\",\")")" \
		"acme/http-middleware ^0.3,acme/rust-cli 1.0" "dependencies"
	[ "$(json_get "$OUT" "$v.size")" -gt 100 ]
	[ "$(json_get "$OUT" "$v.published_at")" -gt 1600000000 ]
	# one version
	expect_rc 0 ggen market info acme/web-framework@1.2.0
	expect_grep '^1\.2\.0  \(latest\)$' "$OUT"
	if printf '%s\n' "$OUT" | grep -q '^1\.0\.0'; then
		echo "  info @1.2.0 shows 1.0.0" >&2
		return 1
	fi
	expect_rc 1 ggen market info acme/web-framework@3.0.0
	expect_grep 'has no version 3\.0\.0' "$ERR"
	# a validator
	expect_rc 0 ggen market info acme/security-scanner --json
	expect_eq "$(json_get "$OUT" 'j.versions[0].kind')" validator "kind"
}

# Regression: the JSON of versions that @VERSION skips was once leaked
# (exit 1 under ASan's leak checker).
t_info_one_version_json() {
	seed
	expect_rc 0 ggen market info acme/web-framework@1.0.0 --json
	expect_eq "$(json_get "$OUT" 'j.versions.map(v => v.version).join()')" \
		1.0.0 "@version"
	expect_eq "$(json_get "$OUT" 'j.versions[0].latest')" false "latest"
}

t_info_unknown_and_bare_names() {
	seed
	expect_rc 1 ggen market info acme/web-framwork
	expect_grep "package 'acme/web-framwork' not found\. Did you mean 'acme/web-framework'\?" "$ERR"
	expect_grep 'ggen market search' "$ERR"
	expect_rc 1 ggen market info web-framwork
	expect_grep "Did you mean 'acme/web-framework'" "$ERR"
	expect_rc 1 ggen market info zzzzzzzzzz
	expect_grep "'zzzzzzzzzz' not found" "$ERR"
	# a bare name resolves when only one namespace has it
	expect_rc 0 ggen market info webhooks --json
	expect_eq "$(json_get "$OUT" j.id)" acme/webhooks "bare name"
	# ... and lists the choices when two do
	expect_rc 1 ggen market info http-middleware
	expect_grep "'http-middleware' is ambiguous" "$ERR"
	expect_grep '^  acme/http-middleware$' "$ERR"
	expect_grep '^  other/http-middleware$' "$ERR"
	expect_rc 0 ggen market info other/http-middleware --json
	expect_eq "$(json_get "$OUT" 'j.versions[0].version')" 9.0.0 "other"
	# usage errors
	expect_rc 2 ggen market info
	expect_grep 'ggen market info --help' "$ERR"
	expect_rc 2 ggen market info a b
	expect_rc 2 ggen market info 'Bad Name'
	expect_grep 'not a package name' "$ERR"
	expect_rc 2 ggen market info acme/web --jsn
	expect_grep "did you mean '--json'" "$ERR"
}

run_tests
