#!/bin/bash
# lying_report_selfcheck.sh — lying_report_test.sh must be able to fail:
# run it with each broken stand-in of fake_instar_report.sh and require
# that it fails, naming the case that shows the fault.
# Usage: lying_report_selfcheck.sh LYING_REPORT_TEST REAL_INSTAR FORGE FAKE
set -u
TEST=$1
FAKE_REAL=$(readlink -f "$2")
FORGE=$3
FAKE=$4
export FAKE_REAL
STATE=$(mktemp -d "${TEST_TMPDIR:-/tmp}/lrself.XXXXXX")
trap 'rm -rf "$STATE"' EXIT
fail=0
# mode:a failure the run must report
for spec in "refuse_all:FAIL info/honest_info: exit 1, want 0" \
	"accept_all:FAIL info/size_lie: exit 0, want 1" \
	"crash:FAIL check/honest_check: exit 139, want 0" \
	"scribble:FAIL info/no_end: the image was written"; do
	mode=${spec%%:*} want=${spec#*:}
	if FAKE_MODE=$mode XML_OUTPUT_FILE=$STATE/$mode.xml \
		TEST_TMPDIR=$STATE bash "$TEST" "$FAKE" "$FORGE" >"$STATE/$mode.log" 2>&1; then
		echo "lying_report_test passed a fake instar in mode $mode" >&2
		fail=1
	elif ! grep -qF "$want" "$STATE/$mode.log"; then
		echo "lying_report_test did not report '$want' in mode $mode:" >&2
		head -20 "$STATE/$mode.log" >&2
		fail=1
	fi
done
[ $fail -eq 0 ] || exit 1
echo "lying_report_selfcheck: lying_report_test caught every fake (4 modes)"
