#!/bin/bash
# locks_test.sh — instar and QEMU see each other's image locks (QEMU's
# OFD byte-range protocol, sandbox/image_lock.c), checked against the real
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
#      each holding what it gets until both have answered, never both get
#      it; two real `instar amend` at once never both amend.
# One JUnit testcase per check in $XML_OUTPUT_FILE.
#
# Usage: locks_test.sh INSTAR LOCK_HOLDER
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

# Wait until some process holds at least one OFD lock on the file.
wait_locked() {
	local ino i
	ino=$(stat -c %i "$1")
	for i in $(seq 1 100); do
		if grep -q "OFDLCK.*:$ino " /proc/locks; then
			return 0
		fi
		sleep 0.05
	done
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
	wait_locked "$img"
}

stop_holder() {
	exec 7>&-
	if [ -n "$HPID" ]; then
		kill "$HPID" 2>/dev/null
		wait "$HPID" 2>/dev/null
	fi
	HPID=""
}

# ---- A. QEMU holds the image: instar decides as qemu-img amend does ----
for kind in nbd-rw nbd-ro io-rw io-ro io-ro-U; do
	q="$WORK/q.qcow2"
	i="$WORK/i.qcow2"
	new_image "$q" && new_image "$i" || { record "A/$kind/setup" 1 "image"; continue; }
	if ! start_holder "$q" "$kind"; then
		record "A/$kind/setup" 1 "holder did not lock the file"
		stop_holder
		continue
	fi
	qout=$(timeout 20 qemu-img amend -o compat=1.1 "$q" 2>&1)
	qrc=$?
	stop_holder
	before=$(sha "$i")
	start_holder "$i" "$kind" || record "A/$kind/setup" 1 "holder did not lock"
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
	if [ $qrc -ne 0 ]; then
		[ $rc -eq 0 ] && grep -q "Image amended." <<<"$out" || ok=1
	else
		[ $rc -eq 0 ] && grep -q "No change." <<<"$out" || ok=1
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
		bash -c '[ "$1" -eq 1 ] && grep -q "$2" <<<"$3"' _ "$rc" "$LOCK_MSG" "$out"
	out=$("$HOLDER" "$img" 2>&1)
	check "B/a second image_lock_writer() gets CONFLICT" "$out" \
		test "$out" = CONFLICT
	check "B/nothing was written while instar held the lock" "sha changed" \
		test "$(sha "$img")" = "$before"
else
	record "B/lock_holder takes the lock on a free image" 1 \
		"$(cat "$WORK/holder.out" 2>/dev/null)"
fi
stop_holder
out=$(timeout 20 qemu-img amend -o compat=1.1 "$img" 2>&1)
rc=$?
check "B/after the holder exits qemu-img amend works" "rc=$rc: $out" \
	test "$rc" -eq 0
out=$("$HOLDER" "$img" 2>&1)
check "B/after the holder exits image_lock_writer() takes the lock" "$out" \
	test "$out" = TAKEN

# ---- C. two at once never both get it ----
img="$WORK/c.qcow2"
new_image "$img"
both=0 one=0 none=0
# wait_for FILE...: until every FILE is non-empty (10 s max).
wait_for() {
	local i f missing
	for i in $(seq 1 1000); do
		missing=0
		for f in "$@"; do [ -s "$f" ] || missing=1; done
		[ $missing -eq 0 ] && return 0
		sleep 0.01
	done
	return 1
}
for round in $(seq 1 100); do
	fifo="$WORK/barrier.fifo"
	rm -f "$fifo" "$WORK/h1" "$WORK/h2" "$WORK/ready1" "$WORK/ready2" \
		"$WORK/r1" "$WORK/r2"
	mkfifo "$fifo" "$WORK/h1" "$WORK/h2"
	# Each racer holds what it gets until we close its stdin, which we
	# do only after both have answered: two TAKEN = both held at once.
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
	# Both racers are at the barrier (or about to read it).
	for i in $(seq 1 1000); do
		[ -e "$WORK/ready1" ] && [ -e "$WORK/ready2" ] && break
		sleep 0.01
	done
	printf 'xy' >&8
	wait_for "$WORK/r1" "$WORK/r2"
	n=$(cat "$WORK/r1" "$WORK/r2" | grep -c '^TAKEN$')
	exec 5>&- 6>&- 8>&-
	wait "$p1" "$p2"
	case $n in 2) both=$((both + 1)) ;; 1) one=$((one + 1)) ;; *) none=$((none + 1)) ;; esac
	if grep -qv '^\(TAKEN\|CONFLICT\)$' "$WORK/r1" "$WORK/r2"; then
		none=$((none + 1000))
	fi
done
echo "race: one taker $one, none $none, both $both (100 rounds)"
check "C/100 simultaneous pairs of image_lock_writer(): never both (one=$one none=$none)" \
	"both took the lock in $both rounds" test "$both" -eq 0
check "C/every racer answered TAKEN or CONFLICT" "none=$none" test "$none" -lt 1000

amended_twice=0
for round in $(seq 1 20); do
	new_image "$img"
	"$INSTAR" amend -o compat=1.1 "$img" >"$WORK/i1" 2>&1 &
	p1=$!
	"$INSTAR" amend -o compat=1.1 "$img" >"$WORK/i2" 2>&1 &
	p2=$!
	wait "$p1" "$p2"
	n=$(cat "$WORK/i1" "$WORK/i2" | grep -c '^Image amended.$')
	[ "$n" -ge 2 ] && amended_twice=$((amended_twice + 1))
	if ! qemu-img check "$img" >/dev/null 2>&1; then
		amended_twice=$((amended_twice + 100))
	fi
done
check "C/two real instar amend at once: never both amend, image clean (20 rounds)" \
	"bad rounds: $amended_twice" test "$amended_twice" -eq 0

junit_finish
