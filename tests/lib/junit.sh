# junit.sh — sourced by shell test suites: record one JUnit testcase per
# check and write the $XML_OUTPUT_FILE that the CI's counter reads
# (tests/count_results.py). Trusts nothing; it only formats.
# Use: junit_init SUITE DIR; record NAME OK(0/1) MESSAGE; junit_finish.
# shellcheck shell=bash

junit_init() {   # SUITE WORKDIR
	JUNIT_SUITE=$1
	JUNIT_WORK=$2
	XML_CASES="$JUNIT_WORK/cases.xml"
	: >"$XML_CASES"
	PASS=0
	FAIL=0
}

xml_escape() {
	sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'
}

record() {   # NAME OK(0/1) MESSAGE
	local name msg
	name=$(printf '%s' "$1" | xml_escape)
	if [ "$2" = 0 ]; then
		PASS=$((PASS + 1))
		printf '  <testcase classname="%s" name="%s"/>\n' "$JUNIT_SUITE" "$name" >>"$XML_CASES"
	else
		FAIL=$((FAIL + 1))
		msg=$(printf '%s' "$3" | head -c 4000 | xml_escape)
		printf '  <testcase classname="%s" name="%s"><failure message="failed">%s</failure></testcase>\n' \
			"$JUNIT_SUITE" "$name" "$msg" >>"$XML_CASES"
		echo "FAIL $1: $3" >&2
	fi
}

junit_finish() {   # writes the XML; returns non-zero if any check failed
	{
		echo '<?xml version="1.0" encoding="UTF-8"?>'
		printf '<testsuites><testsuite name="%s" tests="%d" failures="%d">\n' \
			"$JUNIT_SUITE" $((PASS + FAIL)) "$FAIL"
		cat "$XML_CASES"
		echo '</testsuite></testsuites>'
	} >"${XML_OUTPUT_FILE:-$JUNIT_WORK/test.xml}"
	echo "$JUNIT_SUITE: $PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}
