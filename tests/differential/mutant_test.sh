#!/bin/bash
# mutant_test.sh — proves the differential harness can fail, with each of
# the four qemu-img releases it runs against (5.2, 7.2, 10.0, 11.1: the
# oracles of scripts/install-oracles.sh; a missing one fails this test).
#
# 1. With each release: drive the harness with tests/tools/naive_amend.py
#    (a deliberately wrong amend tool) on a subset of cases and require
#    that it reports exactly the failures a naive header patcher must
#    cause, and passes the cases a naive patcher gets right. Then an
#    always-refusing fake (exit 1, a fixed refusal) must fail too: on
#    every case qemu-img amends, and on the cases both refuse, because its
#    reason is not the one paired with qemu-img's (QEMU_REFUSALS).
# 2. The per-release rows and the oracle checks, with fake oracles
#    ($INSTAR_ORACLES pointed at a directory of launchers made here):
#    a missing oracle and a launcher of another release fail the run; a
#    "5.2" that opens zstd images makes the 5.2 QEMU_CANNOT_OPEN rows
#    stale, which fails; a "7.2" that cannot open them fails the zstd
#    cases, since no row holds for 7.2 (rows do not leak across releases).
#
# Trusts: the harness's summary and FAIL lines (it greps them), the real
# oracles and the system's qemu-img (the tool of part 2).
#
# Usage: mutant_test.sh HARNESS MUTANT
set -uo pipefail
harness=$1
mutant=$2
scratch=${TEST_TMPDIR:-$(mktemp -d)}
oracles=${INSTAR_ORACLES:-/var/cache/instar-oracles}/bin
images="$scratch/images"
status=0
fail() { echo "mutant_test: FAIL: $*"; status=1; }

# run NAME ARGS...: the harness into $scratch/NAME.out; its exit status.
run() {
	local name=$1
	shift
	XML_OUTPUT_FILE="$scratch/$name.xml" bash "$harness" "$@" >"$scratch/$name.out" 2>&1
}

# The images, once for every run.
if ! bash "$(dirname "$harness")/../images/make_images.sh" "$images" >"$scratch/images.log" 2>&1; then
	cat "$scratch/images.log"
	fail "the image generator failed"
	exit 1
fi

# ---------------------------------------------------------------------
# 1. The naive mutant and the refuse-all fake, with every release.
# A subset keeps this quick: --kinds and --transitions narrow the suite;
# with 7.2 the mutant's run narrows with DIFF_ONLY instead, whose left-out
# cases must be reported as skipped, loudly.
kinds='^(v3|v2|backing_v2_fmt|zero_v3|dirty|corrupt|unk_incompat)$'
transitions='^(compat_1.1|compat_0.10|lazy_on)$'
narrow=(--kinds "$kinds" --transitions "$transitions")
# expect_fail CASE REASON / expect_pass CASE, in $out of release $rel.
expect_fail() {
	grep -q "^FAIL $1: .*$2" "$out" || fail "$rel: harness did not report '$1' failing with '$2'"
}
expect_pass() {
	grep -q "^FAIL $1:" "$out" && fail "$rel: harness failed '$1', which the mutant gets right"
}
refuser="$scratch/refuse_all.sh"
printf '#!/bin/sh\necho "instar: refused: nothing is supported" >&2\nexit 1\n' >"$refuser"
chmod +x "$refuser"
for rel in 5.2 7.2 10.0 11.1; do
	out="$scratch/mutant-$rel.out"
	if [ "$rel" = 7.2 ]; then
		DIFF_ONLY='^(v3|v2|backing_v2_fmt|zero_v3|dirty|corrupt|unk_incompat)@(compat_1.1|compat_0.10|lazy_on)$' \
			run "mutant-$rel" --qemu "$rel" \
			--images "$images" --tool "python3 $(pwd)/$mutant"
	else
		run "mutant-$rel" --qemu "$rel" "${narrow[@]}" --images "$images" \
			--tool "python3 $(pwd)/$mutant"
	fi
	rc=$?
	before=$status
	[ $rc -eq 1 ] || fail "$rel: harness exited $rc on the mutant tool, expected 1"
	grep -q "^differential: qemu: qemu-img version $rel\." "$out" ||
		fail "$rel: the harness did not run qemu-img $rel"
	# Must be caught (with the reason the harness gives):
	expect_fail 'backing_v2_fmt@compat_1.1' 'qemu-img info differs'
	expect_fail 'zero_v3@compat_0.10' 'qemu-img compare'
	expect_fail 'corrupt@lazy_on' 'qemu-img refused'
	expect_fail 'unk_incompat@compat_1.1' 'qemu-img refused'
	# 5.2's info does not show the DIRTY bit (ORACLE.md §9): the mutant,
	# which leaves it set, is caught by the known divergence instead.
	if [ "$rel" = 5.2 ]; then
		expect_fail 'dirty@compat_1.1' 'STALE known-divergence entry'
	else
		expect_fail 'dirty@compat_1.1' 'qemu-img info differs'
	fi
	expect_pass 'v3@lazy_on'
	expect_pass 'v3@compat_1.1'
	# A bare version flip 3->2 of a plain v3 image is invisible to
	# qemu-img (bytes 72.. read as an end marker), so the harness must
	# not fail it.
	expect_pass 'v3@compat_0.10'
	if [ "$rel" = 7.2 ]; then
		grep -q 'WARNING: 694 cases SKIPPED' "$out" || fail "$rel: skipped cases were not reported loudly"
	fi
	grep -q '^differential: 21 cases in' "$out" || fail "$rel: the harness did not run the 21 cases"
	if [ $status -ne "$before" ]; then
		echo "---- harness output (mutant, qemu-img $rel) ----"
		cat "$out"
	else
		echo "mutant_test: qemu-img $rel: $(grep '^differential: .* cases in' "$out")"
		echo "mutant_test: qemu-img $rel: the harness caught the mutant as expected"
	fi

	# The always-refusing fake, on the same subset.
	rout="$scratch/refuser-$rel.out"
	run "refuser-$rel" --qemu "$rel" "${narrow[@]}" --images "$images" --tool "$refuser"
	rrc=$?
	before=$status
	[ $rrc -eq 1 ] || fail "$rel (refuse-all fake): harness exited $rrc, expected 1"
	grep -q '^FAIL v3@compat_0.10: qemu-img amended but the tool refused' "$rout" ||
		fail "$rel (refuse-all fake): a refusal where qemu-img amends was not caught"
	grep -q '^FAIL corrupt@lazy_on: both refused, but the tool refused for another reason' "$rout" ||
		fail "$rel (refuse-all fake): a refusal for the wrong reason (corrupt image) was not caught"
	grep -q '^FAIL unk_incompat@compat_1.1: both refused, but the tool refused for another reason' "$rout" ||
		fail "$rel (refuse-all fake): a refusal for the wrong reason (unknown incompatible feature) was not caught"
	if grep -q '^differential: .* cases in.*: [1-9][0-9]* passed' "$rout"; then
		fail "$rel (refuse-all fake): it passed some cases: $(grep '^differential: .* cases in' "$rout")"
	fi
	if [ $status -ne "$before" ]; then
		echo "---- harness output (refuse-all fake, qemu-img $rel) ----"
		cat "$rout"
	else
		echo "mutant_test: qemu-img $rel: $(grep '^differential: .* cases in' "$rout")"
		echo "mutant_test: qemu-img $rel: the harness caught the refuse-all fake as expected"
	fi
done

# ---------------------------------------------------------------------
# 2. Fake oracles. fake_oracle RELEASE VERSION-LINE REAL: a launcher
# qemu-img-RELEASE that answers --version with VERSION-LINE and runs the
# qemu-img REAL for everything else.
fakes="$scratch/fake-oracles"
mkdir -p "$fakes/bin"
fake_oracle() {
	cat >"$fakes/bin/qemu-img-$1" <<-EOF
		#!/bin/sh
		if [ "\$1" = --version ]; then echo '$2'; exit 0; fi
		exec '$3' "\$@"
	EOF
	chmod +x "$fakes/bin/qemu-img-$1"
}
real_52=$oracles/qemu-img-5.2
[ -x "$real_52" ] || fail "the qemu-img 5.2 oracle $real_52 is missing: run scripts/install-oracles.sh"
sys_tool="/usr/bin/qemu-img amend"
# check NAME WHAT PATTERN: the run exited 1 and printed PATTERN.
check() {
	local rc=$1 name=$2 what=$3 pattern=$4
	if [ "$rc" -eq 1 ] && grep -Eq -- "$pattern" "$scratch/$name.out"; then
		echo "mutant_test: $what: caught as expected"
	else
		fail "$what: harness exited $rc, expected 1 and /$pattern/"
		cat "$scratch/$name.out"
	fi
}

INSTAR_ORACLES=$fakes run missing --qemu 10.0 --images "$images" --tool "$sys_tool"
check $? missing "a missing oracle" 'FATAL: ORACLE MISSING: .*qemu-img-10.0'
grep -q '<failure' "$scratch/missing.xml" 2>/dev/null ||
	fail "a missing oracle left no failing testcase in the JUnit XML"

fake_oracle 10.0 "$(/usr/bin/qemu-img --version | head -1)" /usr/bin/qemu-img
INSTAR_ORACLES=$fakes run wrong --qemu 10.0 --images "$images" --tool "$sys_tool"
check $? wrong "an oracle of another release" 'FATAL: .*qemu-img-10.0 is qemu-img [0-9]+\.[0-9]+, not 10\.0'

fake_oracle 5.2 "qemu-img version 5.2.0 (fake: really the system qemu-img)" /usr/bin/qemu-img
INSTAR_ORACLES=$fakes run stale --qemu 5.2 --kinds '^zstd(_comp)?$' \
	--transitions '^(compat_1.1|compat_0.10)$' --images "$images" --tool "$sys_tool"
rc=$?
check $rc stale "a \"5.2\" that opens zstd images (zstd@compat_1.1)" \
	'^FAIL zstd@compat_1.1: STALE QEMU_CANNOT_OPEN entry'
check $rc stale "a \"5.2\" that opens zstd images (zstd_comp@compat_0.10)" \
	'^FAIL zstd_comp@compat_0.10: STALE QEMU_CANNOT_OPEN entry'

fake_oracle 7.2 "qemu-img version 7.2.0 (fake: really qemu-img 5.2)" "$real_52"
INSTAR_ORACLES=$fakes run leak --qemu 7.2 --kinds '^zstd$' --transitions '^compat_1.1$' \
	--images "$images" --tool "$sys_tool"
check $? leak "a \"7.2\" that cannot open zstd images" \
	'^FAIL zstd@compat_1.1: qemu-img refused \(.*unknown compression type: 1\) but the tool succeeded'

exit $status
