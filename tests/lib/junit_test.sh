#!/usr/bin/env bash
# junit_test.sh — junit.sh's bulk writer, junit_cases, writes the cases
# and counts junit_case writes for the same rows (passes with and without
# output, failures with and without a message, a skip, XML's special
# characters, a control character, bytes that are not UTF-8), both XML
# files parse, and a failing row makes junit_finish fail. Trusts: diff; junit_case (the reference).
# Usage (Bazel passes it): junit_test.sh
set -uo pipefail
# shellcheck source=tests/lib/junit.sh
source tests/lib/junit.sh

work=${TEST_TMPDIR:-$(mktemp -d)}
rows=$work/rows.tsv
printf '%s\t%s\t%s\t%s\n' \
	s.a 'pass & <output> "q"' pass 'out & <x>' \
	s.a 'pass without output' pass '' \
	s.b "fail $(printf '\001')ctl" fail 'outcome: <detail> & "q"' \
	s.b 'fail without message' fail '' \
	s.c 'skipped' skip 'because' \
	s.d "not UTF-8 $(printf '\303\251 \342\202 \355\240\200 \357\277\277 \377')" \
	pass "$(printf 'qemu-img: caf\303\251\300\257 \376')" >"$rows"

# The reference: the same rows through junit_case.
junit_init ref "$work"
while IFS=$'\t' read -r class name verdict text; do
	if [ "$verdict" = pass ]; then
		junit_case "$name" pass "" 0 "$text" "$class"
	else
		junit_case "$name" "$verdict" "$text" 0 "" "$class"
	fi
done <"$rows" 2>/dev/null
XML_OUTPUT_FILE=$work/ref.xml junit_finish >"$work/ref.count"

junit_init ref "$work"
junit_cases "$rows" 2>/dev/null
XML_OUTPUT_FILE=$work/bulk.xml junit_finish >"$work/bulk.count"
bulk_rc=$?

fail=0
if ! diff "$work/ref.xml" "$work/bulk.xml"; then
	echo "junit_cases wrote other XML than junit_case" >&2
	fail=1
fi
if ! diff "$work/ref.count" "$work/bulk.count"; then
	echo "junit_cases counted other than junit_case" >&2
	fail=1
fi
# Every byte sequence made visible, so that the counter's parser reads
# the file (tests/count_results.py).
for xml in "$work/ref.xml" "$work/bulk.xml"; do
	if ! python3 -c 'import sys, xml.etree.ElementTree as ET; ET.parse(sys.argv[1])' "$xml"; then
		echo "$xml does not parse" >&2
		fail=1
	fi
done
if ! grep -q 'not UTF-8 é \\xe2\\x82 \\xed\\xa0\\x80 \\uffff \\xff' "$work/bulk.xml"; then
	echo "bytes that are not UTF-8 are not shown as \\xNN" >&2
	fail=1
fi
if [ "$bulk_rc" -eq 0 ]; then
	echo "junit_finish passed after junit_cases recorded failures" >&2
	fail=1
fi

junit_init junit "$work"
record "junit_cases writes what junit_case writes" "$fail" "see the log"
junit_finish
