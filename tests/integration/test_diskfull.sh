#!/usr/bin/env bash
# test_diskfull.sh - disk full and I/O errors, end to end: the real `ggen`
# runs with tests/crash/diskpoint.c preloaded, which makes its N-th
# disk-changing call (write, fsync, rename, mkdir, unlink, a creating open,
# ...; the calls test_crash.sh kills at) fail with ENOSPC, EIO or EDQUOT,
# for every N the command has (docs THREATS.md, "disk full / I/O error":
# clean error; no torn block or row).
#
#   | step          | what must hold                                        |
#   |---------------|-------------------------------------------------------|
#   | the fault     | exit 1 and "ggen: error: cannot ..." naming the reason|
#   |               | (no space / quota / I/O error), never "corrupt", no   |
#   |               | sanitizer report; exit 0 only if the state is whole   |
#   | right after   | verify and store verify exit 0 (no corrupt block, no  |
#   |               | incomplete release, every block file hashes to its    |
#   |               | name), no .tmp-* left, the release whole or absent,   |
#   |               | ggen.lock the old or the new one byte for byte        |
#   | fault gone    | the same command again succeeds (or says "already     |
#   |               | published"); the end state is a clean run's: the same |
#   |               | store files and `store stat`, `list --json`, lock,    |
#   |               | tree                                                  |
#
# The way each point fails rotates with N: N % 4 == 1 ENOSPC, 2 ENOSPC
# after a short write (the write at N writes half, the next call fails), 3
# EDQUOT, 0 EIO. Points: every N up to GM_FAULT_DENSE (default 150), then
# every GM_FAULT_STRIDE-th (default 5) and the last. Then sticky runs: the
# disk stays full from N on (every call fails, or only those that need
# space). Each scenario prints how many points it tried, how the command
# ended and the distinct error messages (paths and numbers blanked).
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	export TMPDIR=/dev/shm
fi
. "$(dirname "$0")/lib.sh"

DENSE=${GM_FAULT_DENSE:-150}
STRIDE=${GM_FAULT_STRIDE:-5}
. "$(dirname "$0")/diskpoint.sh"

# fault_mode N: how point N fails (the rotation in the header), as the
# environment settings for the preload.
fault_mode() {
	case $(($1 % 4)) in
	1) echo GM_FAULT_ERRNO=ENOSPC ;;
	2) echo GM_FAULT_ERRNO=ENOSPC GM_FAULT_SHORT=1 ;;
	3) echo GM_FAULT_ERRNO=EDQUOT ;;
	0) echo GM_FAULT_ERRNO=EIO ;;
	esac
}

# faulted N MODE CMD...: runs CMD with call N failing as MODE (settings
# for env). Sets FRC (exit status), FERR (stderr), FCALL (the first call
# made to fail, empty when none was) and FERRNO.
faulted() {
	local n=$1 mode=$2; shift 2
	local log=$TEST_ROOT/.flog
	rm -f "$log"
	FRC=0
	# shellcheck disable=SC2086 # MODE is a list of settings
	env LD_PRELOAD="$DISKPOINT" GM_FAULT_AT="$n" GM_FAULT_LOG="$log" \
		$mode "$@" >"$TEST_ROOT/.fout" 2>"$TEST_ROOT/.ferr" || FRC=$?
	FERR=$(cat "$TEST_ROOT/.ferr")
	FCALL= FERRNO=
	if [ -s "$log" ]; then
		read -r _ FCALL FERRNO <"$log"
	fi
}

# check_fault WHAT MSGS: the failed command's exit and message. A command
# that failed must exit 1 (an operational error, not a refusal) with
# "ggen: error: cannot ..." and the reason of its errno, and no word of
# corruption; one that no call failed for must succeed. The message, paths
# and numbers blanked, is added to the file MSGS. Exit 0 after a failed
# call is allowed here: the caller checks that the state is then whole.
check_fault() {
	local what=$1 msgs=$2 want
	if printf '%s' "$FERR" |
		grep -Eq 'Sanitizer|runtime error:|Segmentation|Aborted'; then
		echo "  $what: sanitizer or crash: $FERR" >&2
		return 1
	fi
	if [ -z "$FCALL" ]; then
		[ "$FRC" = 0 ] && return 0
		echo "  $what: no call failed, yet exit $FRC: $FERR" >&2
		return 1
	fi
	[ "$FRC" = 0 ] && return 0
	case $FERRNO in
	ENOSPC) want='no space left on device|database or disk is full' ;;
	EDQUOT) want='disk quota exceeded|no space left on device|disk is full' ;;
	EIO) want='input/output error|disk I/O error' ;;
	esac
	# a failed sync is an I/O error to SQLite, whatever its errno
	case $FCALL in fsync | fdatasync) want="$want|disk I/O error" ;; esac
	if [ "$FRC" != 1 ] ||
		! printf '%s\n' "$FERR" |
		grep -Eq '^ggen: error: .*cannot [a-z]' ||
		! printf '%s\n' "$FERR" | grep -Eiq "$want" ||
		printf '%s\n' "$FERR" | grep -Eiq 'corrupt|integrity|tamper'; then
		echo "  $what: $FCALL $FERRNO: exit $FRC, stderr: $FERR" >&2
		return 1
	fi
	printf '%s\n' "$FERR" | grep '^ggen: error: ' |
		sed -e "s/'[^']*'/'…'/g" -e 's# /[^ :]*# …#g' \
			-e 's/installing [^:]*:/installing …:/' \
		-e 's/[0-9][0-9]*/N/g' >>"$msgs"
}

# report WHAT TRIED TOTAL MSGS REST...: the summary line of a scenario.
report() {
	local what=$1 tried=$2 total=$3 msgs=$4; shift 4
	echo "  $what: $total fault points, $tried runs (2 sticky); $*" >&2
	if [ -s "$msgs" ]; then
		echo "  $what: $(sort -u "$msgs" | wc -l) distinct messages:" >&2
		sort "$msgs" | uniq -c | sort -rn | sed 's/^/    /' >&2
	fi
}

# verify_clean WHAT [quick]: `ggen market verify --json` exits 0 and
# reports a sound registry, no corrupt block (it hashes every block file),
# no incomplete release; `store verify` exits 0 too, unless quick (the
# store add scenario runs it at every point; the others save the time).
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
	[ "${2:-}" != quick ] || return 0
	rc=0
	out=$("$GGEN_BIN" market store verify 2>&1) || rc=$?
	if [ "$rc" != 0 ] || ! printf '%s' "$out" | grep -q 'none corrupt'; then
		echo "  $1: store verify exit $rc: $out" >&2
		return 1
	fi
}

# no_tmp WHAT DIR: no temporary file is left under DIR, unless the failed
# call was the removal of one (or every later call failed, STICKY=1).
no_tmp() {
	local left
	left=$(find "$2" -name '.tmp-*' | head -3)
	[ -z "$left" ] && return 0
	case $FCALL in unlink | unlinkat) return 0 ;; esac
	[ "${STICKY_ALL:-0}" = 1 ] && return 0
	echo "  $1: $FCALL $FERRNO left temporary files: $left" >&2
	return 1
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

# same_tree A B: the two folders hold the same names and bytes.
same_tree() { diff -r "$1" "$2" >/dev/null 2>&1; }

# stat_counts: `store stat --json` without the byte count (the release
# record's size may change with its time).
stat_counts() {
	"$GGEN_BIN" market store stat --json | sed 's/"bytes":[0-9]*,//'
}

t_harness_can_fail() {
	[ -f "$DISKPOINT" ] || { echo "  no $DISKPOINT" >&2; return 1; }
	ggen market key generate --handle acme >/dev/null
	mkpkg pkg one 1.0.0
	cp -a "$GGEN_HOME" home0
	local total n
	total=$(count_points "$PWD/count" "$GGEN_BIN" market publish pkg)
	if [ "$total" -lt 20 ] || [ "$total" -gt 5000 ]; then
		echo "  implausible count: $total" >&2; return 1
	fi
	# the count is deterministic
	rm -rf "$GGEN_HOME"; cp -a home0 "$GGEN_HOME"
	expect_eq "$(count_points "$PWD/count" "$GGEN_BIN" market publish \
		pkg)" "$total" "second count"
	# past the end: nothing fails, the command completes
	rm -rf "$GGEN_HOME"; cp -a home0 "$GGEN_HOME"
	faulted $((total + 1)) GM_FAULT_ERRNO=ENOSPC "$GGEN_BIN" market \
		publish pkg
	expect_eq "$FRC/$FCALL" "0/" "exit past the last fault point"
	expect_rc 0 ggen market info acme/one
	# the last call fails: whatever it was, it was made to fail
	rm -rf "$GGEN_HOME"; cp -a home0 "$GGEN_HOME"
	faulted "$total" GM_FAULT_ERRNO=EIO "$GGEN_BIN" market publish pkg
	expect_eq "$FERRNO" EIO "errno at the last point"
	# a disk that is full from the start: nothing is published
	rm -rf "$GGEN_HOME"; cp -a home0 "$GGEN_HOME"
	STICKY_ALL=1
	faulted 1 "GM_FAULT_ERRNO=ENOSPC GM_FAULT_STICKY=1" "$GGEN_BIN" \
		market publish pkg
	expect_eq "$FRC" 1 "exit on a full disk"
	expect_grep '^ggen: error: cannot .*No space left on device' "$FERR"
	expect_rc 1 ggen market info acme/one
	expect_eq "$(cd "$GGEN_HOME" && find . | sort)" \
		"$(cd home0 && find . | sort)" "home after a full disk"
	# the preload itself: a short write, then the failure; sticky=space
	# fails writes and new names but not fsync or unlink; EEXIST wins
	command -v /usr/bin/python3 >/dev/null || return 0
	: >f
	expect_rc 0 env LD_PRELOAD="$DISKPOINT" GM_FAULT_AT=1 \
		GM_FAULT_SHORT=1 GM_FAULT_ERRNO=EIO /usr/bin/python3 -c '
import os
fd = os.open("f", os.O_WRONLY)
print(os.write(fd, b"a" * 1000))
try:
    os.write(fd, b"b")
except OSError as e:
    print(e.strerror)
print(os.write(fd, b"c"))'
	expect_eq "$(printf '%s' "$OUT" | tr '\n' ,)" \
		"500,Input/output error,1" "short write"
	expect_eq "$(wc -c <f)" 501 "bytes after the short write"
	expect_rc 0 env LD_PRELOAD="$DISKPOINT" GM_FAULT_AT=2 \
		GM_FAULT_STICKY=space /usr/bin/python3 -c '
import os
fd = os.open("f", os.O_WRONLY)
def t(f):
    try:
        f()
        print("ok")
    except OSError as e:
        print(e.errno)
t(lambda: os.write(fd, b"a"))
t(lambda: os.write(fd, b"b"))
t(lambda: os.fsync(fd))
t(lambda: os.mkdir("d"))
t(lambda: os.mkdir("/"))
t(lambda: os.unlink("f"))'
	expect_eq "$(printf '%s' "$OUT" | tr '\n' ,)" "ok,28,ok,28,17,ok" \
		"sticky=space"
}

t_publish_fails_at_every_point() {
	ggen market key generate --handle acme >/dev/null
	mkpkg p1 one 1.0.0
	ggen market publish p1 >/dev/null
	# several files; one of two chunks, so a dag-pb file node
	mkpkg p2 two 1.0.0
	printf 'name = "{{ project_name }}"\n' >p2/templates/config.toml.tmpl
	head -c 300000 /dev/urandom >p2/templates/big.bin
	local base=$PWD/base work=$PWD/work msgs=$PWD/msgs
	cp -a "$GGEN_HOME" "$base"
	export GGEN_HOME=$work
	rm -rf "$work"; cp -a "$base" "$work"
	local total root
	total=$(count_points "$PWD/count" "$GGEN_BIN" market publish p2)
	[ "$total" -ge 20 ] || { echo "  implausible count $total" >&2; return 1; }
	expect_rc 0 ggen market info acme/two --json
	root=$(printf '%s' "$OUT" | sed -n 's/.*"cid":"\([a-z0-9]*\)".*/\1/p')
	[ -n "$root" ]
	expect_rc 0 ggen market store gc
	(cd "$work/blocks" && find . | sort) >want.files
	grep -q '\.data$' want.files
	local want_stat
	want_stat=$(stat_counts)
	: >"$msgs"
	local n mode tried=0 failed=0 ok=0 whole_err=0 sticky
	for n in $(points "$total") s1 s2; do
		STICKY_ALL=0
		case $n in
		s1) n=$((total / 2)) STICKY_ALL=1
			mode="GM_FAULT_ERRNO=ENOSPC GM_FAULT_STICKY=1" ;;
		s2) n=$((total / 3))
			mode="GM_FAULT_ERRNO=ENOSPC GM_FAULT_STICKY=space" ;;
		*) mode=$(fault_mode "$n") ;;
		esac
		sticky=; [ "$mode" = "${mode%STICKY*}" ] || sticky=" sticky"
		rm -rf "$work"; cp -a "$base" "$work"
		faulted "$n" "$mode" "$GGEN_BIN" market publish p2
		check_fault "N=$n$sticky" "$msgs"
		verify_clean "N=$n$sticky after the fault" quick
		no_tmp "N=$n$sticky" "$work"
		local rc=0 info
		info=$("$GGEN_BIN" market info acme/two --json 2>&1) || rc=$?
		if [ "$rc" = 0 ]; then
			# registered: the whole release, nothing half
			expect_grep "\"cid\":\"$root\"" "$info"
			expect_grep '"content":"complete"' "$info"
			expect_grep '"signature":"valid"' "$info"
			expect_rc 1 ggen market publish p2
			expect_grep 'already published' "$ERR"
			if [ "$FRC" = 0 ]; then
				ok=$((ok + 1))
			else
				whole_err=$((whole_err + 1))
			fi
		elif [ "$rc" = 1 ] && [ "$FRC" != 0 ]; then
			expect_rc 0 ggen market publish p2 --json
			expect_grep "\"cid\":\"$root\"" "$OUT"
			failed=$((failed + 1))
		else
			echo "  N=$n$sticky: exit $FRC, then info exit $rc:" \
				"$info" >&2
			return 1
		fi
		expect_rc 0 ggen market store gc
		verify_clean "N=$n$sticky after publish and gc" quick
		(cd "$work/blocks" && find . | sort) >got.files
		if ! same_store want.files got.files; then
			echo "  N=$n$sticky: the store differs from a clean" \
				"publish: $(diff want.files got.files |
					grep '^[<>]')" >&2
			return 1
		fi
		expect_eq "$(stat_counts)" "$want_stat" "N=$n$sticky store stat"
		tried=$((tried + 1))
	done
	report publish "$tried" "$total" "$msgs" "failed cleanly $failed;" \
		"succeeded $ok; failed but registered whole $whole_err"
	[ "$failed" -gt 0 ]
}

t_update_fails_at_every_point() {
	ggen market key generate --handle acme >/dev/null
	mkpkg b b 1.0.0; mkpkg c c 1.0.0
	mkpkg a a 1.0.0 '\n[dependencies]\n"acme/b" = "^1.0"\n"acme/c" = "^1.0"\n'
	local p
	for p in b c a; do ggen market publish "$p" >/dev/null; done
	mkdir proj
	(cd proj && "$GGEN_BIN" market install acme/a >/dev/null 2>&1)
	rm -rf b; mkpkg b b 1.1.0
	head -c 100000 /dev/urandom >b/templates/data.bin
	ggen market publish b >/dev/null
	local base=$PWD/base msgs=$PWD/msgs
	mkdir "$base"
	cp -a "$GGEN_HOME" "$base/home"; cp -a proj "$base/proj"
	# the reference states: old (as installed), new (after a clean update)
	cp proj/ggen.lock old.lock; cp -a proj/.ggen/packages old.tree
	ggen market update --project proj >/dev/null 2>&1
	expect_rc 0 ggen market verify --project proj
	expect_grep 'matches ggen.lock' "$OUT"
	cp proj/ggen.lock new.lock; cp -a proj/.ggen/packages new.tree
	expect_rc 0 ggen market list --json --project proj
	local want_list=$OUT
	if cmp -s old.lock new.lock || same_tree old.tree new.tree; then
		echo "  the update changed nothing" >&2; return 1
	fi
	export GGEN_HOME=$PWD/work/home
	local w=$PWD/work/proj total
	rm -rf work; cp -a "$base" work
	total=$(count_points "$PWD/count" "$GGEN_BIN" market update --project "$w")
	[ "$total" -ge 20 ] || { echo "  implausible count $total" >&2; return 1; }
	: >"$msgs"
	local n mode tried=0 s_old=0 s_new=0 s_txn=0 s_left=0 ok=0 sticky
	local s_cleanup=0
	for n in $(points "$total") s1 s2; do
		STICKY_ALL=0
		case $n in
		s1) n=$((total / 2)) STICKY_ALL=1
			mode="GM_FAULT_ERRNO=ENOSPC GM_FAULT_STICKY=1" ;;
		s2) n=$((total / 3))
			mode="GM_FAULT_ERRNO=ENOSPC GM_FAULT_STICKY=space" ;;
		*) mode=$(fault_mode "$n") ;;
		esac
		sticky=; [ "$mode" = "${mode%STICKY*}" ] || sticky=" sticky"
		rm -rf work; cp -a "$base" work
		faulted "$n" "$mode" "$GGEN_BIN" market update --project "$w"
		check_fault "N=$n$sticky" "$msgs"
		# right after the fault: the lock is old or new, byte for byte
		local lock=other
		cmp -s "$w/ggen.lock" old.lock && lock=old
		cmp -s "$w/ggen.lock" new.lock && lock=new
		if [ "$lock" = other ]; then
			echo "  N=$n$sticky: $FCALL $FERRNO: ggen.lock is" \
				"neither old nor new" >&2
			return 1
		fi
		if [ "$FRC" = 0 ]; then
			# a success is the whole new state; a failed clean-up
			# after the commit point (a removal or a folder sync)
			# may leave the txn and the old tree, and says so
			if [ "$lock" != new ] ||
				! same_tree "$w/.ggen/packages" new.tree; then
				echo "  N=$n$sticky: $FCALL $FERRNO: exit 0" \
					"but lock $lock or the tree is off" >&2
				return 1
			fi
			if [ -e "$w/.ggen/txn" ] || [ -n "$(find "$w/.ggen" \
				-mindepth 1 -maxdepth 1 -name '.*')" ]; then
				case $FCALL in
				unlink | unlinkat | rmdir | fsync) ;;
				*) echo "  N=$n$sticky: $FCALL $FERRNO: exit" \
					"0, leftovers: $(ls -A "$w/.ggen")" >&2
					return 1 ;;
				esac
				expect_grep 'clean-up .* failed' "$FERR"
				s_cleanup=$((s_cleanup + 1))
			fi
			ok=$((ok + 1))
		elif [ -e "$w/.ggen/txn" ]; then
			s_txn=$((s_txn + 1))
		elif compgen -G "$w/.ggen/.staging-*" >/dev/null ||
			compgen -G "$w/.ggen/.old-*" >/dev/null; then
			s_left=$((s_left + 1))
		elif ! same_tree "$w/.ggen/packages" "$lock.tree"; then
			echo "  N=$n$sticky: $FCALL $FERRNO: no txn, lock $lock," \
				"but the tree is not the $lock one" >&2
			return 1
		elif [ "$lock" = old ]; then
			s_old=$((s_old + 1))
		else
			s_new=$((s_new + 1))
		fi
		no_tmp "N=$n$sticky" "$PWD/work"
		verify_clean "N=$n$sticky after the fault" quick
		# verify --project recovers; then the project is old or new
		expect_rc 0 ggen market verify --project "$w"
		expect_grep 'matches ggen.lock' "$OUT"
		lock=other
		cmp -s "$w/ggen.lock" old.lock && lock=old
		cmp -s "$w/ggen.lock" new.lock && lock=new
		if [ "$lock" = other ] ||
			! same_tree "$w/.ggen/packages" "$lock.tree"; then
			echo "  N=$n$sticky: after recovery lock $lock," \
				"tree differs" >&2
			return 1
		fi
		# the fault gone, the update reaches the new state
		expect_rc 0 ggen market update --project "$w"
		cmp -s "$w/ggen.lock" new.lock ||
			{ echo "  N=$n: the lock is not the new one" >&2; return 1; }
		same_tree "$w/.ggen/packages" new.tree ||
			{ echo "  N=$n: the tree is not the new one" >&2; return 1; }
		if [ -e "$w/.ggen/txn" ] ||
			[ -n "$(find "$w/.ggen" -mindepth 1 -maxdepth 1 -name '.*')" ]; then
			echo "  N=$n$sticky: leftovers after the update:" \
				"$(ls -A "$w/.ggen")" >&2
			return 1
		fi
		expect_rc 0 ggen market list --json --project "$w"
		expect_eq "$OUT" "$want_list" "N=$n$sticky list --json"
		tried=$((tried + 1))
	done
	report update "$tried" "$total" "$msgs" "after the fault: old $s_old;" \
		"new $s_new; txn journal $s_txn; .staging/.old leftovers" \
		"$s_left; succeeded $ok ($s_cleanup with a failed clean-up)"
	[ "$s_old" -gt 0 ]
}

t_store_add_fails_at_every_point() {
	head -c 1200000 /dev/urandom >big.bin
	ggen market store stat >/dev/null
	local base=$PWD/base work=$PWD/work msgs=$PWD/msgs
	cp -a "$GGEN_HOME" "$base"
	export GGEN_HOME=$work
	rm -rf "$work"; cp -a "$base" "$work"
	local total want want_stat
	total=$(count_points "$PWD/count" "$GGEN_BIN" market store add big.bin)
	[ "$total" -ge 10 ] || { echo "  implausible count $total" >&2; return 1; }
	expect_rc 0 ggen market store pin ls
	want=$OUT
	[ -n "$want" ]
	(cd "$work/blocks" && find . | sort) >want.files
	want_stat=$("$GGEN_BIN" market store stat --json)
	: >"$msgs"
	local n mode tried=0 failed=0 pinned=0 ok=0 sticky
	for n in $(points "$total") s1 s2; do
		STICKY_ALL=0
		case $n in
		s1) n=$((total / 2)) STICKY_ALL=1
			mode="GM_FAULT_ERRNO=ENOSPC GM_FAULT_STICKY=1" ;;
		s2) n=$((total / 3))
			mode="GM_FAULT_ERRNO=ENOSPC GM_FAULT_STICKY=space" ;;
		*) mode=$(fault_mode "$n") ;;
		esac
		sticky=; [ "$mode" = "${mode%STICKY*}" ] || sticky=" sticky"
		rm -rf "$work"; cp -a "$base" "$work"
		faulted "$n" "$mode" "$GGEN_BIN" market store add big.bin
		check_fault "N=$n$sticky" "$msgs"
		verify_clean "N=$n$sticky after the fault"
		no_tmp "N=$n$sticky" "$work"
		expect_rc 0 ggen market store pin ls
		if [ -n "$OUT" ]; then
			# pinned: every block of the file is there
			expect_eq "$OUT" "$want" "N=$n$sticky pin"
			rm -f out.bin
			expect_rc 0 ggen market store get "$want" -o out.bin
			cmp -s out.bin big.bin ||
				{ echo "  N=$n: get differs" >&2; return 1; }
			if [ "$FRC" = 0 ]; then
				ok=$((ok + 1))
			else
				pinned=$((pinned + 1))
			fi
		elif [ "$FRC" = 0 ]; then
			echo "  N=$n$sticky: $FCALL $FERRNO: exit 0, no pin" >&2
			return 1
		else
			failed=$((failed + 1))
		fi
		# the fault gone: the same CID, the store of a clean add (gc
		# removes what a failed cleanup left, sticky runs only)
		expect_rc 0 ggen market store add big.bin
		expect_eq "$OUT" "$want" "N=$n$sticky CID"
		expect_rc 0 ggen market store gc
		verify_clean "N=$n$sticky after the add" quick
		(cd "$work/blocks" && find . | sort) >got.files
		if ! cmp -s want.files got.files; then
			echo "  N=$n$sticky: the store differs from a clean add:" \
				"$(diff want.files got.files | grep '^[<>]')" >&2
			return 1
		fi
		expect_eq "$("$GGEN_BIN" market store stat --json)" "$want_stat" \
			"N=$n$sticky store stat"
		tried=$((tried + 1))
	done
	report "store add" "$tried" "$total" "$msgs" "failed cleanly" \
		"$failed; succeeded $ok; failed but pinned whole $pinned"
	[ "$failed" -gt 0 ]
}

run_tests
