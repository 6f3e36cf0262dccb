# tests/dist/selfcheck_lib.sh — what the self-checks of this directory
# share: each runs one of the suites here on a broken input and proves
# that it fails, and fails the right case. Sourced after junit_init.
# shellcheck shell=bash
#
#   broken_copy SRC DST SED-SCRIPT   DST = SRC edited by sed; a script
#                                    that changes nothing is recorded as
#                                    a failed case (the breakage would
#                                    prove nothing)
#   expect_failure NAME CASE -- CMD...
#                                    run CMD (a suite) with its own
#                                    XML_OUTPUT_FILE; one testcase NAME:
#                                    passes when CMD exits non-zero and
#                                    its XML holds a failed testcase
#                                    named CASE

broken_copy() {
	sed -e "$3" "$1" >"$2"
	chmod --reference="$1" "$2"
	if cmp -s "$1" "$2"; then
		junit_case "breaking $(basename "$1") with '$3'" fail \
			"the sed script changed nothing: $1 no longer reads as this self-check expects"
	fi
}

SELFCHECK_N=0
expect_failure() {
	local name=$1 want=$2 xml log rc
	shift 3
	SELFCHECK_N=$((SELFCHECK_N + 1))
	xml=$JUNIT_WORK/run$SELFCHECK_N.xml
	log=$JUNIT_WORK/run$SELFCHECK_N.log
	(XML_OUTPUT_FILE=$xml "$@") >"$log" 2>&1
	rc=$?
	local ename line
	ename=$(printf '%s' "$want" | xml_escape)
	line=$(grep -F "name=\"$ename\" time=" "$xml" 2>/dev/null)
	if [ "$rc" -eq 0 ]; then
		junit_case "$name" fail "the suite passed (exit 0) on a broken input" 0 "$(tail -c 3000 "$log")"
	elif [[ $line != *'<failure'* ]]; then
		junit_case "$name" fail "the suite failed, but not the case '$want'" 0 "$(tail -c 3000 "$log")"
	else
		junit_case "$name" pass "" 0 "$(grep -F "FAIL $want" "$log" | head -c 2000)"
	fi
}
