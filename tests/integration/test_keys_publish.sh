#!/usr/bin/env bash
# End-to-end tests of `ggen market key | publish` through the binary: key
# files and their modes, sealed keys, the three key sources, and what
# publish takes from a folder and what it refuses.
. "$(dirname "$0")/lib.sh"

# mkpkg DIR NAME [VERSION] [NS] [KIND]: a small template package.
mkpkg() {
	local dir=$1 name=$2 ver=${3:-1.0.0} ns=${4:-acme} kind=${5:-template}
	mkdir -p "$dir/templates/src"
	cat >"$dir/ggen.toml" <<EOF
# $name: a fixture package
[package]
name = "$name"
namespace = "$ns"
version = "$ver"
kind = "$kind"
description = "Fixture package $name: a Rust service skeleton"
license = "MIT"
authors = ["Acme Platform Team <platform@acme.example>"]
keywords = ["rust", "fixture"]
categories = ["web"]
readme = "README.md"
EOF
	printf '# %s\n\nGenerates a service.\n' "$name" >"$dir/README.md"
	cat >"$dir/templates/src/main.rs.tmpl" <<'EOF'
fn main() {
    println!("hello from {{ project_name }}");
}
EOF
	printf 'name = "{{ project_name }}"\nport = 8080\n' \
		>"$dir/templates/config.toml.tmpl"
}

fpr_of() { # handle -> fingerprint from `key list --json`
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

stat_json() { ggen market store stat --json; }

t_usage_errors() {
	expect_rc 2 ggen market key
	expect_grep 'ggen market key --help' "$ERR"
	expect_rc 2 ggen market key generate
	expect_grep -- '--handle' "$ERR"
	expect_grep 'ggen market key --help' "$ERR"
	expect_rc 2 ggen market key frobnicate --handle acme
	expect_grep "unknown action 'frobnicate'" "$ERR"
	expect_rc 2 ggen market key generate --handle 'Bad Handle'
	expect_grep 'not a valid handle' "$ERR"
	expect_rc 2 ggen market key generate --handle acme --sael
	expect_grep "did you mean '--seal'" "$ERR"
	expect_rc 2 ggen market key generate --handle
	expect_grep 'ggen market key --help' "$ERR"
	expect_rc 2 ggen market publish a b
	expect_grep 'ggen market publish --help' "$ERR"
	expect_rc 2 ggen market publish --dryrun
	expect_grep "did you mean '--dry-run'" "$ERR"
	expect_rc 2 ggen market publish --key-file
	expect_grep 'ggen market publish --help' "$ERR"
	expect_rc 0 ggen market key --help
	expect_grep '^usage: ggen market key' "$OUT"
	expect_rc 0 ggen market publish --help
	expect_grep '^usage: ggen market publish' "$OUT"
	# nothing was made by the refused commands
	[ ! -e "$GGEN_HOME/keys/acme.key" ]
}

t_key_generate_modes_and_fingerprint() {
	expect_rc 0 ggen market key generate --handle acme
	expect_grep "^made key for 'acme'$" "$OUT"
	expect_grep '^fingerprint SHA256:[A-Za-z0-9+/]{43}$' "$OUT"
	local fpr=${OUT##*fingerprint }
	expect_eq "$(stat -c %a "$GGEN_HOME/keys/acme.key")" 600 "key mode"
	expect_eq "$(stat -c %a "$GGEN_HOME/keys")" 700 "keys folder mode"
	expect_eq "$(fpr_of acme)" "$fpr" "key list fingerprint"
	expect_rc 0 ggen market key list
	expect_eq "$(printf '%s\n' "$OUT" | awk '$1 == "acme" {print $2}')" \
		"$fpr" "key list line"
	# the key is ultimately trusted here
	expect_rc 0 ggen market trust list --json
	expect_eq "$(json_get "$OUT" 'j[0].fingerprint')" "$fpr" "trust fpr"
	expect_eq "$(json_get "$OUT" 'j[0].trust')" ultimate "trust level"
	# a second key for the handle is refused, naming the way forward
	local before
	before=$(sha256sum "$GGEN_HOME/keys/acme.key")
	expect_rc 1 ggen market key generate --handle acme
	expect_has "already has key $fpr;" "$ERR"
	expect_grep 'ggen market key rotate --handle acme' "$ERR"
	expect_eq "$(sha256sum "$GGEN_HOME/keys/acme.key")" "$before" \
		"key file unchanged"
	# --json
	expect_rc 0 ggen market key generate --handle beta --json
	expect_eq "$(json_get "$OUT" j.handle)" beta "json handle"
	expect_eq "$(json_get "$OUT" j.sealed)" false "json sealed"
	expect_eq "$(json_get "$OUT" j.fingerprint)" "$(fpr_of beta)" "json fpr"
	expect_rc 0 ggen market key list --json
	expect_eq "$(json_get "$OUT" 'j.map(k => k.handle).sort().join()')" \
		acme,beta "key list"
}

t_sealed_key_needs_its_passphrase() {
	GGEN_PASSPHRASE='correct horse' expect_rc 0 \
		ggen market key generate --handle acme --seal --json
	expect_eq "$(json_get "$OUT" j.sealed)" true "sealed"
	local fpr
	fpr=$(json_get "$OUT" j.fingerprint)
	# the secret is not in the file in the clear
	expect_rc 0 ggen market key list --json
	expect_eq "$(json_get "$OUT" 'j[0].sealed')" true "list sealed"
	mkpkg pkg sealed-pkg
	expect_rc 1 env -u GGEN_PASSPHRASE "$GGEN_BIN" market publish pkg \
		</dev/null
	expect_grep 'sealed with a passphrase' "$ERR"
	expect_grep GGEN_PASSPHRASE "$ERR"
	GGEN_PASSPHRASE='wrong horse' expect_rc 1 ggen market publish pkg
	expect_grep 'wrong passphrase' "$ERR"
	expect_rc 0 ggen market search sealed-pkg --json
	expect_eq "$(json_get "$OUT" j.total)" 0 "nothing published"
	GGEN_PASSPHRASE='correct horse' expect_rc 0 ggen market publish pkg
	expect_grep '^published acme/sealed-pkg@1\.0\.0  bafybei' "$OUT"
	expect_rc 0 ggen market info acme/sealed-pkg --json
	expect_eq "$(json_get "$OUT" 'j.versions[0].publisher')" "$fpr" "fpr"
	# --seal without a passphrase and no terminal: usage error
	expect_rc 2 env -u GGEN_PASSPHRASE "$GGEN_BIN" market key generate \
		--handle other --seal </dev/null
	expect_grep 'GGEN_PASSPHRASE' "$ERR"
	[ ! -e "$GGEN_HOME/keys/other.key" ]
}

t_publish_success_and_json() {
	ggen market key generate --handle acme >/dev/null
	local fpr
	fpr=$(fpr_of acme)
	mkpkg pkg web-service 1.0.0
	expect_rc 0 ggen market cid pkg
	local cid=$OUT
	expect_rc 0 ggen market publish pkg
	expect_eq "$OUT" "published acme/web-service@1.0.0  $cid  (local only: will be announced when a node runs)" "success line"
	sed -i 's/^version = .*/version = "1.1.0"/' pkg/ggen.toml
	expect_rc 0 ggen market cid pkg
	cid=$OUT
	expect_rc 0 ggen market publish pkg --json
	expect_eq "$(json_get "$OUT" j.id)" acme/web-service "id"
	expect_eq "$(json_get "$OUT" j.version)" 1.1.0 "version"
	expect_eq "$(json_get "$OUT" j.kind)" template "kind"
	expect_eq "$(json_get "$OUT" j.cid)" "$cid" "cid"
	expect_eq "$(json_get "$OUT" j.files)" 4 "files"
	expect_eq "$(json_get "$OUT" j.dry_run)" false "dry_run"
	expect_eq "$(json_get "$OUT" j.size)" \
		"$(find pkg -type f -printf '%s\n' | awk '{s += $1} END {print s}')" \
		"size"
	local rec
	rec=$(json_get "$OUT" j.record)
	expect_grep '^bafyrei' "$rec"
	expect_rc 0 ggen market info acme/web-service --json
	local v='j.versions.find(v => v.version == "1.1.0")'
	expect_eq "$(json_get "$OUT" "$v.record")" "$rec" "record"
	expect_eq "$(json_get "$OUT" "$v.cid")" "$cid" "info cid"
	expect_eq "$(json_get "$OUT" "$v.publisher")" "$fpr" "fpr"
	expect_eq "$(json_get "$OUT" "$v.latest")" true "latest"
	# the content is in the store and comes back byte for byte
	expect_rc 0 ggen market store get "$cid" -o out
	diff -r pkg out
	# publishing the same version again is refused
	expect_rc 1 ggen market publish pkg
	expect_grep 'acme/web-service@1\.1\.0 is already published' "$ERR"
	expect_grep 'raise the version' "$ERR"
	# even with other content
	printf 'changed\n' >>pkg/README.md
	expect_rc 1 ggen market publish pkg
	expect_grep "root $cid" "$ERR"
}

t_publish_dry_run_writes_nothing() {
	ggen market key generate --handle acme >/dev/null
	mkpkg pkg dry-pkg 0.1.0
	expect_rc 0 ggen market cid pkg
	local cid=$OUT before
	before=$(stat_json)
	expect_rc 0 ggen market publish pkg --dry-run --json
	expect_eq "$(json_get "$OUT" j.cid)" "$cid" "dry-run cid"
	expect_eq "$(json_get "$OUT" j.record)" null "no record"
	expect_eq "$(json_get "$OUT" j.dry_run)" true "dry_run"
	expect_eq "$(json_get "$OUT" j.id)" acme/dry-pkg "id"
	expect_rc 0 ggen market publish pkg -n
	expect_grep "^would publish acme/dry-pkg@0\.1\.0  $cid  \(4 files, [0-9]+ bytes; nothing written\)$" "$OUT"
	expect_eq "$(stat_json)" "$before" "store stat after dry runs"
	expect_rc 0 ggen market search dry-pkg --json
	expect_eq "$(json_get "$OUT" j.total)" 0 "registered"
	expect_rc 1 ggen market store get "$cid" -o out
	[ ! -e out ]
	# a dry run needs no key at all
	export GGEN_HOME=$PWD/nokeys
	expect_rc 0 ggen market publish pkg --dry-run --json
	expect_eq "$(json_get "$OUT" j.cid)" "$cid" "keyless dry run"
	expect_rc 0 ggen market store stat --json
	expect_eq "$(json_get "$OUT" j.blocks)" 0 "keyless store"
	# and the real publish gives the same CID
	export GGEN_HOME=$TEST_ROOT/${FUNCNAME[0]}/home
	expect_rc 0 ggen market publish pkg --json
	expect_eq "$(json_get "$OUT" j.cid)" "$cid" "published cid"
}

t_publish_key_sources() {
	ggen market key generate --handle acme >/dev/null
	ggen market key generate --handle bob >/dev/null
	mkpkg pkg keyed 1.0.0
	# --key-file of another handle: security refusal (3)
	expect_rc 3 ggen market publish pkg --key-file "$GGEN_HOME/keys/bob.key"
	expect_grep "the key of 'bob' cannot publish in namespace 'acme'" "$ERR"
	# GGEN_SIGNING_KEY is for the namespace too, but --key-file wins
	cp "$GGEN_HOME/keys/acme.key" acme-copy.key
	chmod 600 acme-copy.key
	GGEN_SIGNING_KEY=$(head -c32 /dev/urandom | base64) expect_rc 0 \
		ggen market publish pkg --key-file acme-copy.key --json
	expect_rc 0 ggen market info acme/keyed --json
	expect_eq "$(json_get "$OUT" 'j.versions[0].publisher')" \
		"$(fpr_of acme)" "--key-file signer"
	expect_eq "$(json_get "$OUT" 'j.versions[0].trust')" ultimate "trust"
	expect_rc 1 ggen market publish pkg --key-file no-such.key
	expect_grep 'no-such.key' "$ERR"
	# a namespace with no key names the command that makes one
	mkpkg other stray 1.0.0 nobody
	expect_rc 1 ggen market publish other
	expect_grep "no signing key for 'nobody'" "$ERR"
	expect_grep 'ggen market key generate --handle nobody' "$ERR"
}

t_publish_ci_signing_key() {
	# a CI job: fresh GGEN_HOME, the seed in the environment, no key files
	mkpkg pkg ci-built 2.0.0
	local seed
	seed=$(head -c32 /dev/urandom | base64)
	GGEN_SIGNING_KEY=$seed expect_rc 0 ggen market publish pkg --json
	local cid
	cid=$(json_get "$OUT" j.cid)
	expect_eq "$cid" "$(ggen market cid pkg)" "ci cid"
	[ ! -e "$GGEN_HOME/keys/acme.key" ]
	expect_rc 0 ggen market info acme/ci-built --json
	expect_eq "$(json_get "$OUT" 'j.versions[0].signature')" valid "sig"
	expect_eq "$(json_get "$OUT" 'j.versions[0].cid')" "$cid" "cid"
	# the same seed signs again as the same publisher
	local fpr
	fpr=$(json_get "$OUT" 'j.versions[0].publisher')
	sed -i 's/^version = .*/version = "2.0.1"/' pkg/ggen.toml
	GGEN_SIGNING_KEY=$seed expect_rc 0 ggen market publish pkg
	expect_rc 0 ggen market info acme/ci-built --json
	expect_eq "$(json_get "$OUT" \
		'j.versions.map(v => v.version + " " + v.publisher).sort().join()')" \
		"2.0.0 $fpr,2.0.1 $fpr" "both by one key"
	# a bad seed is refused and publishes nothing
	sed -i 's/^version = .*/version = "2.0.2"/' pkg/ggen.toml
	GGEN_SIGNING_KEY=not-base64 expect_rc 1 ggen market publish pkg
	expect_grep GGEN_SIGNING_KEY "$ERR"
	GGEN_SIGNING_KEY=$(head -c16 /dev/urandom | base64) expect_rc 1 \
		ggen market publish pkg
	expect_grep '32-byte' "$ERR"
	expect_rc 0 ggen market info acme/ci-built --json
	expect_eq "$(json_get "$OUT" j.versions.length)" 2 "no 2.0.2"
}

t_publish_ignores_git_and_ggenignore() {
	ggen market key generate --handle acme >/dev/null
	mkpkg pkg ignoring 1.0.0
	mkdir -p pkg/.git/objects pkg/build pkg/.ggen
	printf 'ref: refs/heads/main\n' >pkg/.git/HEAD
	printf 'blob\n' >pkg/.git/objects/ab
	printf 'obj\n' >pkg/build/out.o
	printf 'TOKEN=hunter2\n' >pkg/secret.env
	printf 'cache\n' >pkg/.ggen/state
	printf '# local junk\nbuild/\n*.env\n' >pkg/.ggenignore
	# the expected CID: a copy without the skipped entries
	mkdir want
	cp -r pkg/ggen.toml pkg/README.md pkg/templates pkg/.ggenignore want/
	expect_rc 0 ggen market cid want
	local cid=$OUT
	expect_rc 0 ggen market publish pkg --dry-run --json
	expect_eq "$(json_get "$OUT" j.cid)" "$cid" "dry-run cid"
	expect_eq "$(json_get "$OUT" j.files)" 5 "files"
	expect_rc 0 ggen market publish pkg
	expect_grep "^published acme/ignoring@1\.0\.0  $cid  " "$OUT"
	expect_grep '^skipped \.git/ \(always left out\)$' "$ERR"
	expect_grep '^skipped \.ggen/ \(always left out\)$' "$ERR"
	expect_grep '^skipped build/ \(matches \.ggenignore\)$' "$ERR"
	expect_grep '^skipped secret\.env \(matches \.ggenignore\)$' "$ERR"
	expect_rc 0 ggen market store get "$cid" -o out
	diff -r want out
	[ ! -e out/secret.env ] && [ ! -e out/.git ]
	! grep -rq hunter2 "$GGEN_HOME/blocks"
}

t_publish_refuses_unsafe_content() {
	ggen market key generate --handle acme >/dev/null
	local before
	ggen market store gc >/dev/null
	before=$(stat_json)
	mkpkg sl linked
	ln -s README.md sl/templates/link.md
	expect_rc 3 ggen market publish sl
	expect_grep "'sl/templates/link\.md' is a symbolic link" "$ERR"
	mkpkg ff piped
	mkfifo ff/pipe
	expect_rc 3 ggen market publish ff
	expect_grep "'ff/pipe' is a fifo" "$ERR"
	mkpkg cs cased
	printf 'a\n' >cs/templates/Main.rs
	printf 'b\n' >cs/templates/main.RS
	expect_rc 3 ggen market publish cs
	expect_grep "both named 'templates/main\.rs' when case is ignored" "$ERR"
	# the dry run refuses the same
	expect_rc 3 ggen market publish sl --dry-run
	# an ignored link is fine
	printf 'templates/link.md\n' >sl/.ggenignore
	expect_rc 0 ggen market publish sl --dry-run
	expect_grep 'skipped templates/link\.md' "$ERR"
	# nothing registered or pinned by the refusals: blocks imported
	# before the walk met the bad entry are garbage that gc removes
	expect_rc 0 ggen market store gc
	expect_eq "$(stat_json)" "$before" "store after refusals and gc"
	expect_rc 0 ggen market search --json
	expect_eq "$(json_get "$OUT" j.total)" 0 "registered"
}

t_publish_refuses_bad_manifests() {
	ggen market key generate --handle acme >/dev/null
	# validator without [plugin]
	mkpkg va checker 1.0.0 acme validator
	expect_rc 1 ggen market publish va
	expect_grep 'va/ggen\.toml:[0-9]+:[0-9]+: missing table \[plugin\]' "$ERR"
	# [plugin] whose entry is not in the package
	cat >>va/ggen.toml <<'EOF'

[plugin]
entry = "checker.wasm"
capabilities = ["stdout"]

[plugin.limits]
memory_mb = 16
fuel = 1000000
timeout_ms = 1000
EOF
	expect_rc 1 ggen market publish va
	expect_grep "entry 'checker\.wasm' is not a file" "$ERR"
	printf '\0asm\1\0\0\0' >va/checker.wasm
	expect_rc 0 ggen market publish va --json
	expect_eq "$(json_get "$OUT" j.kind)" validator "validator kind"
	# line:column of a misspelt key and of a bad version
	mkpkg bad broken
	printf 'keyword = ["x"]\n' >>bad/ggen.toml
	expect_rc 1 ggen market publish bad
	expect_grep 'bad/ggen\.toml:13:1: unknown key .keyword.' "$ERR"
	expect_grep "did you mean 'keywords'" "$ERR"
	sed -i '/^keyword = /d; s/^version = .*/version = "1.0"/' bad/ggen.toml
	expect_rc 1 ggen market publish bad
	expect_grep 'bad/ggen\.toml:5:11: invalid version .1\.0.' "$ERR"
	sed -i 's/^version = .*/version = 1.0.0/' bad/ggen.toml
	expect_rc 1 ggen market publish bad
	expect_grep 'bad/ggen\.toml:5:11: ' "$ERR"
	# no ggen.toml at all
	mkdir empty
	expect_rc 1 ggen market publish empty
	expect_grep 'empty/ggen\.toml' "$ERR"
	expect_rc 1 ggen market publish no-such-dir
	expect_grep 'no-such-dir' "$ERR"
	expect_rc 0 ggen market search --json
	expect_eq "$(json_get "$OUT" 'j.results.map(r => r.id).join()')" \
		acme/checker "registered"
}

run_tests
