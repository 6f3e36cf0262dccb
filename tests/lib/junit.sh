# junit.sh — the one JUnit writer of the shell test suites (cli_test,
# differential, hostile, locks, crash, lying_guest, the fuzz smoke run,
# count_results_test): each records one testcase per check and
# junit_finish writes the $XML_OUTPUT_FILE that the CI's counter reads
# (tests/count_results.py). Trusts nothing; it only formats.
#
# Use:
#   junit_init SUITE WORKDIR
#   junit_case NAME pass|fail|skip [MESSAGE] [SECONDS] [OUTPUT] [CLASS]
#   record NAME OK MESSAGE       (OK 0: pass; anything else: fail)
#   record_skip NAME REASON      (printed: a skip always says why)
#   junit_finish                 (writes the XML, prints
#                                 "SUITE: N passed, N failed[, N skipped]",
#                                 returns non-zero if any case failed)
# MESSAGE and OUTPUT are cut to 20 000 bytes; control characters XML
# cannot hold are dropped.
# shellcheck shell=bash

junit_init() {   # SUITE WORKDIR
	JUNIT_SUITE=$1
	JUNIT_WORK=$2
	XML_CASES="$JUNIT_WORK/.junit_cases.xml"
	: >"$XML_CASES"
	PASS=0
	FAIL=0
	SKIP=0
}

xml_escape() {
	tr -d '\000-\010\013\014\016-\037' |
		sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'
}

junit_case() {   # NAME pass|fail|skip [MESSAGE] [SECONDS] [OUTPUT] [CLASS]
	local name=$1 verdict=$2 msg=${3:-} secs=${4:-0} out=${5:-} class=${6:-$JUNIT_SUITE}
	local ename eclass first
	ename=$(printf '%s' "$name" | xml_escape)
	eclass=$(printf '%s' "$class" | xml_escape)
	{
		printf '  <testcase classname="%s" name="%s" time="%s">' "$eclass" "$ename" "$secs"
		case $verdict in
		pass) ;;
		fail)
			first=$(printf '%s' "$msg" | head -1 | head -c 500 | xml_escape)
			printf '<failure message="%s">' "${first:-failed}"
			printf '%s' "$msg" | head -c 20000 | xml_escape
			printf '</failure>'
			;;
		skip)
			first=$(printf '%s' "$msg" | head -1 | head -c 500 | xml_escape)
			printf '<skipped message="%s"/>' "${first:-skipped without a reason}"
			;;
		*)
			printf '<failure message="junit_case: verdict %s">bad verdict</failure>' \
				"$(printf '%s' "$verdict" | xml_escape)"
			verdict=fail
			;;
		esac
		[ -n "$out" ] && printf '<system-out>%s</system-out>' \
			"$(printf '%s' "$out" | head -c 20000 | xml_escape)"
		printf '</testcase>\n'
	} >>"$XML_CASES"
	case $verdict in
	pass) PASS=$((PASS + 1)) ;;
	skip)
		SKIP=$((SKIP + 1))
		echo "SKIP $name: ${msg:-no reason given}" >&2
		;;
	*)
		FAIL=$((FAIL + 1))
		echo "FAIL $name: $(printf '%s' "$msg" | head -c 2000)" >&2
		;;
	esac
}

record() {   # NAME OK(0/1) MESSAGE
	if [ "$2" = 0 ]; then
		junit_case "$1" pass
	else
		junit_case "$1" fail "$3"
	fi
}

record_skip() {   # NAME REASON
	junit_case "$1" skip "$2"
}

junit_finish() {   # writes the XML; returns non-zero if any check failed
	{
		echo '<?xml version="1.0" encoding="UTF-8"?>'
		printf '<testsuites><testsuite name="%s" tests="%d" failures="%d" skipped="%d">\n' \
			"$(printf '%s' "$JUNIT_SUITE" | xml_escape)" $((PASS + FAIL + SKIP)) "$FAIL" "$SKIP"
		cat "$XML_CASES"
		echo '</testsuite></testsuites>'
	} >"${XML_OUTPUT_FILE:-$JUNIT_WORK/test.xml}"
	if [ "$SKIP" -gt 0 ]; then
		echo "$JUNIT_SUITE: $PASS passed, $FAIL failed, $SKIP skipped"
	else
		echo "$JUNIT_SUITE: $PASS passed, $FAIL failed"
	fi
	[ "$FAIL" -eq 0 ]
}
