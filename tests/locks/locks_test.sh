#!/bin/bash
# locks_test.sh — instar and QEMU see each other's image locks (QEMU's
# OFD byte-range protocol, src/image/image_lock.c), checked against the real
# QEMU 7.2 tools:
#   A. while a QEMU process holds the image (qemu-nbd read-write and
#      read-only, qemu-io read-write, read-only, and read-only with -U),
#      the real `instar amend` accepts or refuses exactly as `qemu-img
#      amend` does on an identical copy with an identical holder; a
#      refusal prints the lock message, exits 1 and leaves the file
#      byte-identical; after the holder exits the amend works.
#   B. while instar's lock is held (image_lock_writer() in lock_holder),
#      qemu-img amend and qemu-io refuse with QEMU's 'Failed to get "write"
#      lock', qemu-img info with 'Failed to get shared "write" lock',
#      qemu-nbd refuses, qemu-img info -U works, the real instar refuses,
#      and a second lock_holder gets CONFLICT; nothing is written.
#   C. two processes taking the lock at the same moment (a FIFO barrier),
#      each holding what it gets until both have answered: every racer
#      answers (TAKEN exit 0 or CONFLICT exit 10), one of them takes the
#      lock in every round and never both; two real `instar amend` at
#      once: each answers (amended, no change, or the lock message) and
#      exactly one amends (two that give up at once try again after
#      different pauses: src/image/image_lock.h). A wait that
#      times out (a racer never at the barrier or never answering, a
#      holder never locking) fails its check and says which wait it was.
# One JUnit testcase per check in $XML_OUTPUT_FILE (tests/lib/junit.sh).
# locks_selfcheck.sh proves that part C fails on racers that lie.
#
# Usage: locks_test.sh INSTAR LOCK_HOLDER
# LOCKS_ONLY=C runs only part C; LOCKS_ROUNDS (100) and
# LOCKS_INSTAR_ROUNDS (20) set its rounds (for the self-check).
set -u

INSTAR=$1
HOLDER=$2
for t in qemu-img qemu-io qemu-nbd python3; do
	command -v "$t" >/dev/null || { echo "$t missing" >&2; exit 1; }
done

# /tmp, not $TEST_TMPDIR: qemu-nbd's UNIX socket path must be < 108 bytes.
WORK=$(mktemp -d /tmp/instar-locks.XXXXXX)
HPID=""
cleanup() {
	exec 7>&- 2>/dev/null
	[ -n "$HPID" ] && kill "$HPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
# shellcheck source=tests/lib/junit.sh
source "${JUNIT_SH:?}"
junit_init locks "$WORK"
LOCK_MSG="is in use by another process"
WAIT_SECS=5  # wait_locked; the waits of part C allow 10 s each

check() {   # NAME MESSAGE-IF-FAILED CONDITION...
	local name=$1 msg=$2
	shift 2
	if "$@"; then record "$name" 0 ""; else record "$name" 1 "$msg"; fi
}

new_image() {   # PATH: a v2 image with data
	rm -f "$1"
	qemu-img create -q -f qcow2 -o compat=0.10 "$1" 64M &&
		qemu-io -c 'write -q -P 0x5a 0 64k' "$1" >/dev/null
}

sha() { sha256sum "$1" | cut -d' ' -f1; }
refused_locked() { [ "$1" -eq 1 ] && grep -q "$LOCK_MSG" <<<"$2"; }   # RC OUTPUT

# Wait until some process holds at least one OFD lock on the file; on
# a time-out WAIT_FAILED says which wait it was.
WAIT_FAILED=""
wait_locked() {   # FILE WHO
	local ino
	ino=$(stat -c %i "$1")
	for _ in $(seq 1 $((WAIT_SECS * 20))); do
		if grep -q "OFDLCK.*:$ino " /proc/locks; then
			return 0
		fi
		sleep 0.05
	done
	WAIT_FAILED="the wait for $2 to lock $(basename "$1") timed out after $WAIT_SECS s"
	return 1
}

# Start a holder whose stdin is a FIFO we keep open on fd 7; HPID is set.
start_holder() {   # IMAGE KIND
	local img=$1 kind=$2 fifo="$WORK/holder.fifo"
	rm -f "$fifo" "$WORK/nbd.sock"
	mkfifo "$fifo"
	case $kind in
	nbd-rw) qemu-nbd -k "$WORK/nbd.sock" -f qcow2 "$img" <"$fifo" >/dev/null 2>&1 & ;;
	nbd-ro) qemu-nbd -r -k "$WORK/nbd.sock" -f qcow2 "$img" <"$fifo" >/dev/null 2>&1 & ;;
	io-rw) qemu-io -f qcow2 "$img" <"$fifo" >/dev/null 2>&1 & ;;
	io-ro) qemu-io -r -f qcow2 "$img" <"$fifo" >/dev/null 2>&1 & ;;
	io-ro-U) qemu-io -r -U -f qcow2 "$img" <"$fifo" >/dev/null 2>&1 & ;;
	instar) "$HOLDER" "$img" --hold-stdin <"$fifo" >"$WORK/holder.out" 2>&1 & ;;
	esac
	HPID=$!
	exec 7>"$fifo"
	wait_locked "$img" "holder $kind"
}

stop_holder() {
	exec 7>&-
	if [ -n "$HPID" ]; then
		kill "$HPID" 2>/dev/null
		wait "$HPID" 2>/dev/null
	fi
	HPID=""
}

if [ "${LOCKS_ONLY:-}" != C ]; then
	# ---- A. QEMU holds the image: instar decides as qemu-img amend does ----
	for kind in nbd-rw nbd-ro io-rw io-ro io-ro-U; do
		q="$WORK/q.qcow2"
		i="$WORK/i.qcow2"
		if ! { new_image "$q" && new_image "$i"; }; then
			record "A/$kind/setup" 1 "image"
			continue
		fi
		if ! start_holder "$q" "$kind"; then
			record "A/$kind/setup" 1 "$WAIT_FAILED (qemu-img's copy)"
			stop_holder
			continue
		fi
		qout=$(timeout 20 qemu-img amend -o compat=1.1 "$q" 2>&1)
		qrc=$?
		stop_holder
		before=$(sha "$i")
		if ! start_holder "$i" "$kind"; then
			record "A/$kind/setup" 1 "$WAIT_FAILED (instar's copy)"
			stop_holder
			continue
		fi
		iout=$(timeout 20 "$INSTAR" amend -o compat=1.1 "$i" 2>&1)
		irc=$?
		after=$(sha "$i")
		stop_holder
		if [ $qrc -ne 0 ]; then
			check "A/$kind/qemu-img amend refuses with its lock error" "$qout" \
				grep -q 'Failed to get "write" lock' <<<"$qout"
			check "A/$kind/instar refuses (exit 1) like qemu-img amend" \
				"rc=$irc: $iout" test "$irc" -eq 1
			check "A/$kind/instar prints the lock message" "$iout" \
				grep -q "$LOCK_MSG" <<<"$iout"
			check "A/$kind/instar wrote nothing" "sha changed" \
				test "$before" = "$after"
		else
			check "A/$kind/instar amends like qemu-img amend" \
				"qemu-img rc=0, instar rc=$irc: $iout" test "$irc" -eq 0
		fi
		# After the holder exits the amend works.
		out=$(timeout 20 "$INSTAR" amend -o compat=1.1 "$i" 2>&1)
		rc=$?
		ok=0
		want="No change."
		[ $qrc -ne 0 ] && want="Image amended."
		if [ $rc -ne 0 ] || ! grep -qF "$want" <<<"$out"; then
			ok=1
		fi
		chk=$(qemu-img check "$i" 2>&1) || ok=1
		qemu-img info "$i" | grep -q "compat: 1.1" || ok=1
		record "A/$kind/after the holder exits instar amends, image checks clean" \
			"$ok" "rc=$rc: $out / $chk"
	done

	# ---- B. instar holds the lock: QEMU refuses ----
	img="$WORK/b.qcow2"
	new_image "$img"
	before=$(sha "$img")
	WAIT_FAILED=""
	if start_holder "$img" instar && grep -q TAKEN "$WORK/holder.out"; then
		record "B/lock_holder takes the lock on a free image" 0 ""
		out=$(timeout 20 qemu-img amend -o compat=1.1 "$img" 2>&1)
		check "B/qemu-img amend refused: Failed to get \"write\" lock" "$out" \
			grep -q 'Failed to get "write" lock' <<<"$out"
		out=$(timeout 20 qemu-io -c 'write -P 0x11 0 4k' "$img" 2>&1)
		check "B/qemu-io write refused: Failed to get \"write\" lock" "$out" \
			grep -q 'Failed to get "write" lock' <<<"$out"
		out=$(timeout 20 qemu-img info "$img" 2>&1)
		check "B/qemu-img info refused: Failed to get shared \"write\" lock" "$out" \
			grep -q 'Failed to get shared "write" lock' <<<"$out"
		out=$(timeout 20 qemu-img info -U "$img" 2>&1)
		check "B/qemu-img info -U (force share) works" "$out" \
			grep -q "file format: qcow2" <<<"$out"
		out=$(timeout 20 qemu-nbd -k "$WORK/b.sock" -f qcow2 "$img" 2>&1)
		check "B/qemu-nbd refused: Failed to get \"write\" lock" "$out" \
			grep -q 'Failed to get "write" lock' <<<"$out"
		out=$(timeout 20 "$INSTAR" amend -o compat=1.1 "$img" 2>&1)
		rc=$?
		check "B/a second instar amend is refused with the lock message" \
			"rc=$rc: $out" \
			refused_locked "$rc" "$out"
		out=$("$HOLDER" "$img" 2>&1)
		check "B/a second image_lock_writer() gets CONFLICT" "$out" \
			test "$out" = CONFLICT
		check "B/nothing was written while instar held the lock" "sha changed" \
			test "$(sha "$img")" = "$before"
	else
		record "B/lock_holder takes the lock on a free image" 1 \
			"${WAIT_FAILED:+$WAIT_FAILED; }holder said: $(cat "$WORK/holder.out" 2>/dev/null)"
	fi
	stop_holder
	out=$(timeout 20 qemu-img amend -o compat=1.1 "$img" 2>&1)
	rc=$?
	check "B/after the holder exits qemu-img amend works" "rc=$rc: $out" \
		test "$rc" -eq 0
	out=$("$HOLDER" "$img" 2>&1)
	check "B/after the holder exits image_lock_writer() takes the lock" "$out" \
		test "$out" = TAKEN
fi

# ---- C. two at once: every racer answers, one wins, never both ----
# QEMU's protocol (image_lock.c) takes the bytes, then looks for others:
# two writers starting at the same instant can each see the other and
# both give up; instar then tries again after a pause that differs
# between processes (image_lock.h), so every round must have exactly one
# winner. A round nobody wins fails; so does a round both win.
img="$WORK/c.qcow2"
new_image "$img" || record "C/setup" 1 "cannot make $img"
ROUNDS=${LOCKS_ROUNDS:-100}
IROUNDS=${LOCKS_INSTAR_ROUNDS:-20}

# wait_until WHAT CMD...: poll CMD every 10 ms, 10 s at most; on a
# time-out WAIT_FAILED says "the wait for WHAT timed out".
wait_until() {
	local what=$1
	shift
	for _ in $(seq 1 1000); do
		"$@" && return 0
		sleep 0.01
	done
	WAIT_FAILED="the wait for $what timed out after 10 s"
	return 1
}
# answered FILE PID: FILE has the answer, or PID is gone (no answer is
# coming: the answer check then says what it printed).
answered() { [ -s "$1" ] || ! kill -0 "$2" 2>/dev/null; }
# holder_answer RC FILE: the one line lock_holder prints and its exit.
holder_answer() {
	case "$1:$(cat "$2")" in
	0:TAKEN | 10:CONFLICT) return 0 ;;
	esac
	return 1
}
# Show a racer's output for a failure message: one line, bounded.
said() { head -c 200 "$1" | tr '\n' '|'; }
# The failure list without its last separator.
list() { printf '%s' "$1" | sed 's/; $//'; }

# Each racer holds what it gets until we close its stdin, which we do
# only after both have answered: two TAKEN = both held it at once.
both=0 one=0 none=0 ran=0
bad_answers="" none_rounds="" both_rounds="" stuck=""
for round in $(seq 1 "$ROUNDS"); do
	fifo="$WORK/barrier.fifo"
	rm -f "$fifo" "$WORK/h1" "$WORK/h2" "$WORK/ready1" "$WORK/ready2" \
		"$WORK/r1" "$WORK/r2"
	mkfifo "$fifo" "$WORK/h1" "$WORK/h2"
	"$HOLDER" "$img" --ready "$WORK/ready1" --barrier "$fifo" --hold-stdin \
		<"$WORK/h1" >"$WORK/r1" 2>&1 &
	p1=$!
	"$HOLDER" "$img" --ready "$WORK/ready2" --barrier "$fifo" --hold-stdin \
		<"$WORK/h2" >"$WORK/r2" 2>&1 &
	p2=$!
	exec 5>"$WORK/h1" 6>"$WORK/h2"
	# Read-write open of a FIFO does not block and keeps it alive until
	# both racers have their byte.
	exec 8<>"$fifo"
	WAIT_FAILED=""
	if wait_until "racer 1 of round $round to reach the barrier ($WORK/ready1)" \
			test -e "$WORK/ready1" &&
		wait_until "racer 2 of round $round to reach the barrier ($WORK/ready2)" \
			test -e "$WORK/ready2"; then
		printf 'xy' >&8
		wait_until "racer 1 of round $round to answer" answered "$WORK/r1" "$p1" &&
			wait_until "racer 2 of round $round to answer" answered "$WORK/r2" "$p2"
	fi
	n=$(cat "$WORK/r1" "$WORK/r2" | grep -c '^TAKEN$')
	exec 5>&- 6>&- 8>&-
	if [ -n "$WAIT_FAILED" ]; then
		# A racer that is stuck proves nothing more: stop the rounds.
		kill "$p1" "$p2" 2>/dev/null
		wait "$p1" "$p2" 2>/dev/null
		stuck=$WAIT_FAILED
		break
	fi
	wait "$p1"
	rc1=$?
	wait "$p2"
	rc2=$?
	ran=$((ran + 1))
	holder_answer "$rc1" "$WORK/r1" ||
		bad_answers+="round $round: racer 1 exit $rc1, printed '$(said "$WORK/r1")'; "
	holder_answer "$rc2" "$WORK/r2" ||
		bad_answers+="round $round: racer 2 exit $rc2, printed '$(said "$WORK/r2")'; "
	case $n in
	2) both=$((both + 1)) both_rounds+=" $round" ;;
	1) one=$((one + 1)) ;;
	*) none=$((none + 1)) none_rounds+=" $round" ;;
	esac
done
echo "race: $ran of $ROUNDS rounds ran: one taker $one, nobody $none, both $both"
# Rounds that did not run count against every check of them.
short=""
[ "$ran" -eq "$ROUNDS" ] || short="only $ran of $ROUNDS rounds ran: $stuck"
pairs="C/$ROUNDS simultaneous pairs of image_lock_writer()"
check "$pairs: every racer answered TAKEN (exit 0) or CONFLICT (exit 10)" \
	"$(list "${short:+$short; }$bad_answers")" \
	test -z "$short$bad_answers"
check "$pairs: one of the two takes the lock in every round" \
	"$(list "${short:+$short; }${none_rounds:+no racer took the lock in $none rounds:$none_rounds}")" \
	test -z "$short$none_rounds"
check "$pairs: never both" \
	"$(list "${short:+$short; }${both_rounds:+both took the lock in $both rounds:$both_rounds}")" \
	test -z "$short$both_rounds"

# instar_answer RC FILE: amended or no change (exit 0), or the lock
# refusal (exit 1); "amended" is the one that wrote.
instar_answer() {
	case "$1:$(cat "$2")" in
	"0:Image amended." | "0:No change.") return 0 ;;
	1:*"$LOCK_MSG"*) return 0 ;;
	esac
	return 1
}
bad_answers="" not_one="" unclean=""
for round in $(seq 1 "$IROUNDS"); do
	new_image "$img" || { unclean+="round $round: cannot make the image; "; continue; }
	"$INSTAR" amend -o compat=1.1 "$img" >"$WORK/i1" 2>&1 &
	p1=$!
	"$INSTAR" amend -o compat=1.1 "$img" >"$WORK/i2" 2>&1 &
	p2=$!
	wait "$p1"
	rc1=$?
	wait "$p2"
	rc2=$?
	instar_answer "$rc1" "$WORK/i1" ||
		bad_answers+="round $round: instar 1 exit $rc1, printed '$(said "$WORK/i1")'; "
	instar_answer "$rc2" "$WORK/i2" ||
		bad_answers+="round $round: instar 2 exit $rc2, printed '$(said "$WORK/i2")'; "
	n=$(cat "$WORK/i1" "$WORK/i2" | grep -c '^Image amended.$')
	[ "$n" -eq 1 ] || not_one+="round $round: $n amended; "
	if ! qemu-img check "$img" >/dev/null 2>&1; then
		unclean+="round $round: qemu-img check fails; "
	elif ! qemu-img info "$img" | grep -q "compat: 1.1"; then
		unclean+="round $round: the image is not compat 1.1; "
	fi
done
echo "instar race: $IROUNDS rounds"
real="C/two real instar amend at once ($IROUNDS rounds)"
check "$real: each answers (Image amended., No change. or the lock message)" \
	"$(list "$bad_answers")" test -z "$bad_answers"
check "$real: exactly one amends, never both; the image is amended and clean" \
	"$(list "$not_one$unclean")" test -z "$not_one$unclean"

junit_finish
