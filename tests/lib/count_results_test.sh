#!/usr/bin/env bash
# count_results_test.sh — the test counter (tests/count_results.py) held
# to its rules on made-up Bazel outputs: each case builds a testlogs tree
# and a Build Event Protocol file, runs the counter, and checks its TOTAL
# line. The counter must never read a broken run as clean.
# Usage (Bazel passes it): count_results_test.sh COUNT_RESULTS.PY
# Trusts: python3.
set -uo pipefail
# shellcheck source=tests/lib/junit.sh
source tests/lib/junit.sh

counter=$1
work=${TEST_TMPDIR:-$(mktemp -d)}
junit_init count_results "$work"

# make_case DIR: fresh testlogs with //t:a (and the BEP file DIR/bep.json)
xml_ok='<testsuites><testsuite name="a" tests="2"><testcase classname="S" name="one"/><testcase classname="S" name="two"/></testsuite></testsuites>'
xml_fail='<testsuites><testsuite name="a" tests="2"><testcase classname="S" name="one"/><testcase classname="S" name="two"><failure message="x"/></testcase></testsuite></testsuites>'
xml_skip='<testsuites><testsuite name="a" tests="2"><testcase classname="S" name="one"/><testcase classname="S" name="two"><skipped message="SKIPPED LOUDLY: no widget"/></testcase></testsuite></testsuites>'
bep_line() { printf '{"id":{"testSummary":{"label":"%s"}},"testSummary":{"overallStatus":"%s"}}\n' "$1" "$2"; }

run_case() {   # NAME XML(or "") STATUS(or "") WANT_TOTAL [ENV...]
	local name=$1 xml=$2 st=$3 want=$4
	shift 4
	local d="$work/$name"
	mkdir -p "$d/logs/t/a"
	[ -n "$xml" ] && printf '%s\n' "$xml" >"$d/logs/t/a/test.xml"
	: >"$d/bep.json"
	[ -n "$st" ] && bep_line //t:a "$st" >"$d/bep.json"
	local out got
	out=$(env "$@" python3 "$counter" "$d/logs" 0 "$d/bep.json" //t:a 2>&1)
	got=$(grep '^TOTAL' <<<"$out")
	if [ "$got" = "TOTAL $want" ]; then
		record "$name" 0 ""
	else
		record "$name" 1 "want 'TOTAL $want', got '$got'; output: $out"
	fi
}

run_case clean "$xml_ok" PASSED "2 0 0"
run_case a_failed_case "$xml_fail" FAILED "1 1 0"
# A binary that writes a clean XML and then aborts (LeakSanitizer at exit).
run_case clean_xml_but_bazel_failed "$xml_ok" FAILED "2 1 0"
run_case clean_xml_but_timeout "$xml_ok" TIMEOUT "2 1 0"
run_case clean_xml_no_verdict "$xml_ok" "" "2 1 0"
run_case no_xml "" FAILED "0 1 0"
run_case xml_does_not_parse "<testsuites><testcase" PASSED "0 1 0"
run_case skip_outside_ci "$xml_skip" PASSED "1 0 1" CI=
run_case skip_in_ci_fails "$xml_skip" PASSED "1 1 0" CI=true

# A counter that cannot read its inputs exits non-zero (test.sh then
# counts a failure), never prints a clean TOTAL.
if python3 "$counter" "$work/clean/logs" 0 "$work/nonexistent.json" //t:a >/dev/null 2>&1; then
	record missing_bep_is_an_error 1 "the counter exited 0 without its BEP file"
else
	record missing_bep_is_an_error 0 ""
fi
printf 'not json\n' >"$work/bad.json"
if python3 "$counter" "$work/clean/logs" 0 "$work/bad.json" //t:a >/dev/null 2>&1; then
	record bad_bep_is_an_error 1 "the counter exited 0 on a BEP file that is not JSON"
else
	record bad_bep_is_an_error 0 ""
fi

junit_finish
