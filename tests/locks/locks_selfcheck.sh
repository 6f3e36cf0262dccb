#!/bin/bash
# locks_selfcheck.sh — locks_test.sh part C must be able to fail: run it
# (LOCKS_ONLY=C, fewer rounds) with fake_racer.sh as both lock_holder and
# instar in each FAKE_MODE, and require that it fails and names the lie:
#   silent  the wait for a racer at the barrier timed out, and no round
#           counts as run; instar racers that print nothing did not answer
#   mute    a racer at the barrier that prints nothing did not answer,
#           and no racer took the lock
#   refuse  racers that always refuse: no racer took the lock; no instar
#           amended
#   greedy  racers that always win: both took the lock / both amended
# One JUnit testcase per mode (tests/lib/junit.sh).
# Usage: locks_selfcheck.sh LOCKS_TEST FAKE_RACER
set -u
TEST=$1 FAKE=$2
STATE=$(mktemp -d "${TEST_TMPDIR:-/tmp}/locks_selfcheck.XXXXXX")
trap 'rm -rf "$STATE"' EXIT
# shellcheck source=tests/lib/junit.sh
source "${JUNIT_SH:-tests/lib/junit.sh}"
junit_init locks_selfcheck "$STATE"

R=4 IR=3
P="C/$R simultaneous pairs of image_lock_writer()"
ANS="$P: every racer answered TAKEN (exit 0) or CONFLICT (exit 10)"
ONE="$P: one of the two takes the lock in every round"
BOTH="$P: never both"
I="C/two real instar amend at once ($IR rounds)"
IANS="$I: each answers (Image amended., No change. or the lock message)"
IONE="$I: exactly one amends, never both; the image is amended and clean"

# selfcheck MODE WANT...: each WANT starts a "FAIL name: message" line of
# the run in MODE.
selfcheck() {   # MODE WANT...
	local mode=$1 log="$STATE/$1.log" want missing="" t0=$SECONDS
	shift
	FAKE_MODE=$mode LOCKS_ONLY=C LOCKS_ROUNDS=$R LOCKS_INSTAR_ROUNDS=$IR \
		XML_OUTPUT_FILE="$STATE/$mode.xml" bash "$TEST" "$FAKE" "$FAKE" >"$log" 2>&1
	local rc=$?
	[ $rc -ne 0 ] || missing="locks_test.sh passed (exit 0); "
	for want in "$@"; do
		grep -qF -- "FAIL $want" "$log" || missing+="no line 'FAIL $want'; "
	done
	if [ -z "$missing" ]; then
		junit_case "fake racers ($mode) fail part C" pass "" $((SECONDS - t0)) \
			"$(grep '^FAIL' "$log")"
	else
		junit_case "fake racers ($mode) fail part C" fail "${missing%; }" \
			$((SECONDS - t0)) "$(cat "$log")"
	fi
}

selfcheck silent \
	"$ANS: only 0 of $R rounds ran: the wait for racer 1 of round 1 to reach the barrier" \
	"$ONE: only 0 of $R rounds ran" \
	"$BOTH: only 0 of $R rounds ran" \
	"$IANS: round 1: instar 1 exit 0, printed ''" \
	"$IONE: round 1: 0 amended"
selfcheck mute \
	"$ANS: round 1: racer 1 exit 0, printed ''" \
	"$ONE: no racer took the lock in $R rounds"
selfcheck refuse \
	"$ONE: no racer took the lock in $R rounds" \
	"$IONE: round 1: 0 amended"
selfcheck greedy \
	"$BOTH: both took the lock in $R rounds" \
	"$IONE: round 1: 2 amended"
junit_finish
