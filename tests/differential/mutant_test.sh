#!/bin/bash
# mutant_test.sh — proves the differential harness can fail: drive it with
# tests/tools/naive_amend.py (a deliberately wrong amend tool) on a subset
# of cases and require that it reports exactly the failures a naive header
# patcher must cause, and passes the cases a naive patcher gets right.
#
# Then an always-refusing fake (exit 1, a fixed refusal) must fail too:
# on every case qemu-img amends, and on the cases both refuse, because
# its reason is not the one paired with qemu-img's (QEMU_REFUSALS).
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

# The always-refusing fake.
refuser="$scratch/refuse_all.sh"
printf '#!/bin/sh\necho "instar: refused: nothing is supported" >&2\nexit 1\n' >"$refuser"
chmod +x "$refuser"
rout="$scratch/refuser.out"
XML_OUTPUT_FILE="$scratch/refuser.xml" bash "$harness" --tool "$refuser" >"$rout" 2>&1
rrc=$?
rstatus=0
rfail() { echo "mutant_test: FAIL (refuse-all fake): $*"; rstatus=1; }
[ $rrc -eq 1 ] || rfail "harness exited $rrc on the refusing fake, expected 1"
grep -q '^FAIL v3@compat_0.10: qemu-img amended but the tool refused' "$rout" ||
	rfail "a refusal where qemu-img amends was not caught"
grep -q '^FAIL corrupt@lazy_on: both refused, but the tool refused for another reason' "$rout" ||
	rfail "a refusal for the wrong reason (corrupt image) was not caught"
grep -q '^FAIL unk_incompat@compat_1.1: both refused, but the tool refused for another reason' "$rout" ||
	rfail "a refusal for the wrong reason (unknown incompatible feature) was not caught"
if grep -q '^differential: .* cases in.*: [1-9][0-9]* passed' "$rout"; then
	rfail "the refusing fake passed some cases: $(grep '^differential: .* cases in' "$rout")"
fi
if [ $rstatus -ne 0 ]; then
	echo "---- harness output (refuse-all fake) ----"
	cat "$rout"
	status=1
else
	grep '^differential: .* cases in' "$rout"
	echo "mutant_test: the harness caught the refuse-all fake as expected"
fi
exit $status
