#!/usr/bin/env bash
# test_crash.sh - crash safety of publish and install, end to end: the real
# `ggen` is SIGKILLed just before its N-th disk-changing call (write, fsync,
# rename, mkdir, unlink, a creating open, ...; tests/crash/diskpoint.c, a
# preload library) for every N the command has, and what the kill left is
# checked (docs THREATS.md, "process killed mid-publish or mid-install"):
#
#   | scenario | right after the kill            | then                    |
#   |----------|---------------------------------|-------------------------|
#   | publish  | verify: registry ok, no corrupt | publish again: done, or |
#   |          | block, no incomplete release;   | "already published";    |
#   |          | the release whole or absent     | gc; verify clean; the   |
#   |          |                                 | store as a clean publish|
#   | update   | old lock and tree, new lock and | verify (recovers) exits |
#   |          | tree, or a txn journal          | 0; lock old or new byte |
#   |          |                                 | for byte, tree to match;|
#   |          |                                 | update again: new       |
#
# Kill points: every N up to GM_CRASH_DENSE (default 200), then every
# GM_CRASH_STRIDE-th (default 3) and the last. Each scenario prints how
# many points it tried and which states it saw. A pin that no registered
# release needs (publish used to pin before its transaction) fails the
# test: the registry, not pins, records what gc keeps.
#
# A SIGKILL leaves the page cache alone, so what fsync makes durable does
# not change the outcome here (power cuts are another test): the test
# folders go to tmpfs where it exists, where fsync costs nothing.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	export TMPDIR=/dev/shm
fi
. "$(dirname "$0")/lib.sh"

KCOUNT=$TEST_ROOT/kill-count
DENSE=${GM_CRASH_DENSE:-200}
STRIDE=${GM_CRASH_STRIDE:-3}
. "$(dirname "$0")/diskpoint.sh"

# killed N CMD...: runs CMD with GM_KILL_AT=N; its exit status goes into
# KRC. The subshell (which must not exec the command, hence the exit)
# waits for it, so bash's "Killed" notice goes to /dev/null.
killed() {
	local n=$1; shift
	KRC=0
	rm -f "$KCOUNT"
	(LD_PRELOAD="$DISKPOINT" GM_KILL_AT=$n GM_KILL_COUNT="$KCOUNT" "$@" \
		>/dev/null 2>&1; exit $?) 2>/dev/null || KRC=$?
}

# fewer_points N: true when the last `killed` run finished (exit 0) having
# made fewer than N disk-changing calls, so point N never came. A release
# record holds its publish time, so its block's CID, and the shard folder
# it goes into, change from run to run: when that folder already exists,
# the run makes one mkdir fewer than the counting run did.
fewer_points() {
	[ "$KRC" = 0 ] && [ -s "$KCOUNT" ] && [ "$(cat "$KCOUNT")" -lt "$1" ]
}

# verify_clean WHAT: `ggen market verify --json` must exit 0 and report a
# sound registry, no corrupt block, no incomplete release.
verify_clean() {
	local rc=0 out
	out=$("$GGEN_BIN" market verify --json 2>&1) || rc=$?
	if [ "$rc" != 0 ] ||
		! printf '%s' "$out" | grep -q '"registry_ok":true' ||
		! printf '%s' "$out" | grep -q '"corrupt":\[\]' ||
		! printf '%s' "$out" | grep -q '"incomplete":\[\]'; then
		echo "  $1: verify exit $rc: $out" >&2
		return 1
	fi
}

# same_store WANT GOT: two listings of a store folder (find . | sort) hold
# the same blocks and pins, but for the release record, which differs
# between two publishes of one package by its time: the same number of
# block files and of pins, at most one of each swapped, no .tmp-* file.
same_store() {
	local k
	! grep -q '/\.tmp-' "$2" || return 1
	for k in '\.data$' '^\./pins/'; do
		[ "$(grep -c "$k" "$1")" = "$(grep -c "$k" "$2")" ] || return 1
		[ "$(comm -3 <(grep "$k" "$1") <(grep "$k" "$2") | wc -l)" \
			-le 2 ] || return 1
	done
}

t_harness_can_fail() {
	[ -f "$DISKPOINT" ] || { echo "  no $DISKPOINT" >&2; return 1; }
	ggen market key generate --handle acme >/dev/null
	mkpkg pkg one 1.0.0
	cp -a "$GGEN_HOME" home0
	local total
	total=$(count_points "$PWD/count" "$GGEN_BIN" market publish pkg)
	if [ "$total" -lt 20 ] || [ "$total" -gt 5000 ]; then
		echo "  implausible count: $total" >&2; return 1
	fi
	# past the end: the command completes
	rm -rf "$GGEN_HOME"; cp -a home0 "$GGEN_HOME"
	killed $((total + 1)) "$GGEN_BIN" market publish pkg
	expect_eq "$KRC" 0 "exit past the last kill point"
	expect_rc 0 ggen market info acme/one
	# at the first and the last point: SIGKILL (128 + 9)
	local n
	for n in 1 "$total"; do
		rm -rf "$GGEN_HOME"; cp -a home0 "$GGEN_HOME"
		killed "$n" "$GGEN_BIN" market publish pkg
		expect_eq "$KRC" 137 "exit at kill point $n"
	done
	# killed before its first write, the publish left nothing
	rm -rf "$GGEN_HOME"; cp -a home0 "$GGEN_HOME"
	killed 1 "$GGEN_BIN" market publish pkg
	expect_rc 1 ggen market info acme/one
	expect_eq "$(cd "$GGEN_HOME" && find . | sort)" \
		"$(cd home0 && find . | sort)" "home after a kill at 1"
	# the count is deterministic and GM_KILL_AT changes nothing before N
	rm -rf "$GGEN_HOME"; cp -a home0 "$GGEN_HOME"
	expect_eq "$(count_points "$PWD/count" "$GGEN_BIN" market publish \
		pkg)" "$total" "second count"
}

t_publish_killed_at_every_point() {
	ggen market key generate --handle acme >/dev/null
	mkpkg p1 one 1.0.0
	ggen market publish p1 >/dev/null
	# several files; one of three chunks, so a dag-pb file node
	mkpkg p2 two 1.0.0
	printf 'name = "{{ project_name }}"\n' >p2/templates/config.toml.tmpl
	head -c 700000 /dev/urandom >p2/templates/big.bin
	local base=$PWD/base work=$PWD/work
	cp -a "$GGEN_HOME" "$base"
	export GGEN_HOME=$work
	rm -rf "$work"; cp -a "$base" "$work"
	local total root
	total=$(count_points "$PWD/count" "$GGEN_BIN" market publish p2)
	[ "$total" -ge 20 ] || { echo "  implausible count $total" >&2; return 1; }
	expect_rc 0 ggen market info acme/two --json
	root=$(printf '%s' "$OUT" | sed -n 's/.*"cid":"\([a-z0-9]*\)".*/\1/p')
	[ -n "$root" ]
	# the store of a clean publish after gc: every file, by name
	expect_rc 0 ggen market store gc
	(cd "$work/blocks" && find . | sort) >want.files
	grep -q '\.data$' want.files
	local n tried=0 whole=0 absent=0 orphan_points=
	for n in $(points "$total"); do
		rm -rf "$work"; cp -a "$base" "$work"
		killed "$n" "$GGEN_BIN" market publish p2
		if [ "$KRC" != 137 ] && ! fewer_points "$n"; then
			echo "  N=$n: exit $KRC, not killed" >&2; return 1
		fi
		verify_clean "N=$n after the kill"
		local rc=0 info pin orphans
		info=$("$GGEN_BIN" market info acme/two --json 2>&1) || rc=$?
		if [ "$rc" = 0 ]; then
			# registered: the whole release, nothing half
			expect_grep "\"cid\":\"$root\"" "$info"
			expect_grep '"content":"complete"' "$info"
			expect_grep '"signature":"valid"' "$info"
			expect_grep '"trust":"ultimate"' "$info"
			expect_rc 1 ggen market publish p2
			expect_grep 'already published' "$ERR"
			whole=$((whole + 1))
		elif [ "$rc" = 1 ]; then
			# not registered: no pin may be left behind that
			# would keep its blocks alive (regression: publish
			# once pinned before its transaction)
			orphans=0
			for pin in "$work"/blocks/pins/*; do
				pin=${pin##*/}
				[ "$pin" != '*' ] || continue
				[ -e "$base/blocks/pins/$pin" ] && continue
				ggen market store pin rm "$pin" >/dev/null
				orphans=$((orphans + 1))
			done
			[ "$orphans" = 0 ] || orphan_points="$orphan_points $n"
			expect_rc 0 ggen market publish p2 --json
			expect_grep "\"cid\":\"$root\"" "$OUT"
			absent=$((absent + 1))
		else
			echo "  N=$n: info exit $rc: $info" >&2; return 1
		fi
		expect_rc 0 ggen market store gc
		verify_clean "N=$n after publish and gc"
		# gc left the blocks and pins of a clean publish: no leftover
		# temporary file, no orphan block, nothing missing
		(cd "$work/blocks" && find . | sort) >got.files
		if ! same_store want.files got.files; then
			echo "  N=$n: the store differs from a clean publish:" \
				"$(diff want.files got.files | grep '^[<>]')" >&2
			return 1
		fi
		tried=$((tried + 1))
	done
	echo "  publish: $tried of $total kill points tried; release" \
		"absent after $absent, whole after $whole" >&2
	if [ -n "$orphan_points" ]; then
		# shellcheck disable=SC2086 # a list of numbers
		set -- $orphan_points
		echo "  orphan pins (a pin, the release not registered) after" \
			"$# kills, N=$1..${!#}" >&2
		return 1
	fi
	[ "$whole" -gt 0 ] && [ "$absent" -gt 0 ]
}

# same_tree A B: the two folders hold the same names and bytes.
same_tree() { diff -r "$1" "$2" >/dev/null 2>&1; }

t_update_killed_at_every_point() {
	ggen market key generate --handle acme >/dev/null
	mkpkg b b 1.0.0; mkpkg c c 1.0.0
	mkpkg a a 1.0.0 '\n[dependencies]\n"acme/b" = "^1.0"\n"acme/c" = "^1.0"\n'
	local p
	for p in b c a; do ggen market publish "$p" >/dev/null; done
	mkdir proj
	(cd proj && "$GGEN_BIN" market install acme/a >/dev/null 2>&1)
	rm -rf b; mkpkg b b 1.1.0
	head -c 300000 /dev/urandom >b/templates/data.bin
	ggen market publish b >/dev/null
	local base=$PWD/base
	mkdir "$base"
	cp -a "$GGEN_HOME" "$base/home"; cp -a proj "$base/proj"
	# the reference states: old (as installed), new (after a clean update)
	cp proj/ggen.lock old.lock; cp -a proj/.ggen/packages old.tree
	ggen market update --project proj >/dev/null 2>&1
	expect_rc 0 ggen market verify --project proj
	expect_grep 'matches ggen.lock' "$OUT"
	cp proj/ggen.lock new.lock; cp -a proj/.ggen/packages new.tree
	if cmp -s old.lock new.lock || same_tree old.tree new.tree; then
		echo "  the update changed nothing" >&2; return 1
	fi
	export GGEN_HOME=$PWD/work/home
	local w=$PWD/work/proj total
	rm -rf work; cp -a "$base" work
	total=$(count_points "$PWD/count" "$GGEN_BIN" market update --project "$w")
	[ "$total" -ge 20 ] || { echo "  implausible count $total" >&2; return 1; }
	local n tried=0 s_old=0 s_new=0 s_txn_old=0 s_txn_new=0
	local s_left_old=0 s_left_new=0
	for n in $(points "$total"); do
		rm -rf work; cp -a "$base" work
		killed "$n" "$GGEN_BIN" market update --project "$w"
		if [ "$KRC" != 137 ] && ! fewer_points "$n"; then
			echo "  N=$n: exit $KRC, not killed" >&2; return 1
		fi
		# right after the kill, before anything else runs
		local lock=other
		cmp -s "$w/ggen.lock" old.lock && lock=old
		cmp -s "$w/ggen.lock" new.lock && lock=new
		if [ "$lock" = other ]; then
			echo "  N=$n: ggen.lock is neither old nor new" >&2
			return 1
		fi
		if [ -e "$w/.ggen/txn" ]; then
			[ "$lock" = old ] && s_txn_old=$((s_txn_old + 1))
			[ "$lock" = new ] && s_txn_new=$((s_txn_new + 1))
		else
			if ! same_tree "$w/.ggen/packages" "$lock.tree"; then
				echo "  N=$n: no txn, lock $lock, but the" \
					"tree is not the $lock one" >&2
				return 1
			fi
			if compgen -G "$w/.ggen/.staging-*" >/dev/null ||
				compgen -G "$w/.ggen/.old-*" >/dev/null; then
				[ "$lock" = old ] && s_left_old=$((s_left_old + 1))
				[ "$lock" = new ] && s_left_new=$((s_left_new + 1))
			elif [ "$lock" = old ]; then
				s_old=$((s_old + 1))
			else
				s_new=$((s_new + 1))
			fi
		fi
		# verify recovers first; then the project is old or new
		expect_rc 0 ggen market verify --project "$w"
		expect_grep 'matches ggen.lock' "$OUT"
		lock=other
		cmp -s "$w/ggen.lock" old.lock && lock=old
		cmp -s "$w/ggen.lock" new.lock && lock=new
		if [ "$lock" = other ] ||
			! same_tree "$w/.ggen/packages" "$lock.tree"; then
			echo "  N=$n: after recovery lock $lock, tree differs" >&2
			return 1
		fi
		if [ -e "$w/.ggen/txn" ] ||
			compgen -G "$w/.ggen/.staging-*" >/dev/null ||
			compgen -G "$w/.ggen/.old-*" >/dev/null ||
			compgen -G "$w/.ggen/.tmp-*" >/dev/null; then
			echo "  N=$n: leftovers after recovery:" \
				"$(ls -A "$w/.ggen")" >&2
			return 1
		fi
		# a second update reaches the new state (the lock and the tree
		# of the reference, which verify passed: equal bytes pass too)
		expect_rc 0 ggen market update --project "$w"
		cmp -s "$w/ggen.lock" new.lock ||
			{ echo "  N=$n: the lock is not the new one" >&2; return 1; }
		same_tree "$w/.ggen/packages" new.tree ||
			{ echo "  N=$n: the tree is not the new one" >&2; return 1; }
		tried=$((tried + 1))
	done
	echo "  update: $tried of $total kill points tried; states right" \
		"after the kill: old $s_old; old + .staging/.old leftovers" \
		"$s_left_old; txn + old lock $s_txn_old; txn + new lock" \
		"$s_txn_new; new + leftovers $s_left_new; new $s_new" >&2
	# the kills reached every phase: before, inside and after the switch
	[ "$s_old" -gt 0 ] && [ "$s_txn_old" -gt 0 ] &&
		[ "$s_txn_new" -gt 0 ] && [ "$s_new" -gt 0 ]
}

run_tests
