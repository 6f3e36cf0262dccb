#!/bin/bash
# mutant_test.sh — proves the differential harness can fail: drive it with
# tests/tools/naive_amend.py (a deliberately wrong amend tool) on a subset
# of cases and require that it reports exactly the failures a naive header
# patcher must cause, and passes the cases a naive patcher gets right.
#
# Usage: mutant_test.sh HARNESS MUTANT
set -uo pipefail
harness=$1
mutant=$2
scratch=${TEST_TMPDIR:-$(mktemp -d)}
out="$scratch/mutant.out"

# A subset keeps this quick; skipped cases are expected here (reported).
export DIFF_ONLY='^(v3|v2|backing_v2_fmt|zero_v3|dirty|corrupt|unk_incompat)@(compat_1.1|compat_0.10|lazy_on)$'
XML_OUTPUT_FILE="$scratch/mutant.xml" bash "$harness" --tool "python3 $(pwd)/$mutant" >"$out" 2>&1
rc=$?
status=0
fail() { echo "mutant_test: FAIL: $*"; status=1; }

[ $rc -eq 1 ] || fail "harness exited $rc on the mutant tool, expected 1"
# Must be caught (with the reason the harness gives):
expect_fail() {
	grep -q "^FAIL $1: .*$2" "$out" || fail "harness did not report '$1' failing with '$2'"
}
expect_pass() {
	grep -q "^FAIL $1:" "$out" && fail "harness failed '$1', which the mutant gets right"
}
expect_fail 'backing_v2_fmt@compat_1.1' 'qemu-img info differs'
expect_fail 'zero_v3@compat_0.10' 'qemu-img compare'
expect_fail 'corrupt@lazy_on' 'qemu-img refused'
expect_fail 'unk_incompat@compat_1.1' 'qemu-img refused'
expect_fail 'dirty@compat_1.1' 'qemu-img info differs'
expect_pass 'v3@lazy_on'
expect_pass 'v3@compat_1.1'
# A bare version flip 3->2 of a plain v3 image is invisible to qemu-img
# (bytes 72.. read as an end marker), so the harness must not fail it.
expect_pass 'v3@compat_0.10'
grep -q 'WARNING: .* cases SKIPPED' "$out" || fail "skipped cases were not reported loudly"
if [ $status -ne 0 ]; then
	echo "---- harness output ----"
	cat "$out"
else
	grep '^differential: .* cases in' "$out"
	echo "mutant_test: the harness caught the mutant as expected"
fi
exit $status
