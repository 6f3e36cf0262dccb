#!/bin/bash
# hostile_selfcheck.sh — hostile_test.sh must be able to fail: run it on
# a sample of the corpus (MAX_IMAGES 300: every image but the field
# mutants, about 460; info and check on every third of those) with
# fake_instar.sh (whose amend crashes, writes on refusal,
# hangs, lies about amending, reports a sanitizer error; whose info and
# check crash, hang, write, report a sanitizer error, print nothing, exit
# 134 outside 5.2, die of SIGABRT with 5.2, and disagree with qemu-img
# info) and require that it fails and names each of those outcomes for
# the command that misbehaved, while the proper answers pass (amend's
# refusals, info and check as qemu-img gives them, check's 134 with
# --qemu-compat 5.2); then with a fake that refuses everything cleanly
# but for no reason, and one that says "No change." of everything: both
# must fail too (amend alone: INSPECT_EVERY past the sample).
# Usage: hostile_selfcheck.sh HOSTILE_TEST MAKE_HOSTILE_SH FAKE_INSTAR
# Trusts: grep; fake_instar.sh behaves as its header says.
set -u
TEST=$1 MAKE=$2 FAKE=$3
STATE=$(mktemp -d "${TEST_TMPDIR:-/tmp}/fake.XXXXXX")
trap 'rm -rf "$STATE"' EXIT
export FAKE_STATE=$STATE
XML_OUTPUT_FILE=$STATE/inner.xml bash "$TEST" "$FAKE" "$MAKE" 300 3 >"$STATE/log" 2>&1
rc=$?
fail=0
if [ $rc -eq 0 ]; then
	echo "hostile_test passed a fake instar that crashes and corrupts" >&2
	fail=1
fi
# COMMAND:OUTCOME — a FAIL line of the log, `FAIL IMAGE [CATEGORY
# COMMAND]: OUTCOME: ...`, COMMAND an extended regular expression.
for want in "-o [^]]*:exit_139" "-o [^]]*:refused_but_written" "-o [^]]*:timeout" \
		"-o [^]]*:sanitizer" "-o [^]]*:amended_differs_from_qemu" \
		"info:signal_11" "check:signal_11" "(info|check)[^]]*:timeout" \
		"info:written" "check --qemu-compat 5.2:written" \
		"info --output=json:sanitizer" "check:sanitizer" \
		"info:silent" "check:silent" "check:exit_134" \
		"check --qemu-compat 5.2:signal_6" \
		"info --output=json --qemu-compat [0-9.]*:differs_from_qemu" \
		"info --output=json --qemu-compat [0-9.]*:refused_qemu_reads" \
		"info --output=json --qemu-compat [0-9.]*:shown_qemu_refuses"; do
	if ! grep -Eq "^FAIL [^ ]* \[[a-z]* ${want%%:*}\]: ${want#*:}:" "$STATE/log"; then
		echo "hostile_test did not report outcome ${want#*:} of ${want%%:*}" >&2
		fail=1
	fi
done
# Passing cases: name="IMAGE [CATEGORY COMMAND] OUTCOME", no <failure>.
for want in "-o [^]]*:refused" "info:shown" "info --output=json:refused" \
		"check:clean" "check --qemu-compat 5.2:aborted_as_qemu_5.2" \
		"info --output=json --qemu-compat [0-9.]*:same_as_qemu"; do
	if ! grep -Eq "<testcase classname=\"hostile.[a-z]*\" name=\"[^ ]* \[[a-z]* ${want%%:*}\] ${want#*:}\" time=\"[^\"]*\">(<system-out>|</testcase>)" \
			"$STATE/inner.xml"; then
		echo "proper answers did not pass: ${want#*:} of ${want%%:*}" >&2
		fail=1
	fi
done
n=$(grep -c "<testcase " "$STATE/inner.xml")
amends=$(grep -c "<testcase [^>]* name=\"[^\"]* -o " "$STATE/inner.xml")
thirds=$((amends / 3))   # the images numbered 3, 6, 9, ...
if [ "$amends" -lt 300 ] || [ $((n - amends)) -ne $((thirds * 5)) ]; then
	echo "expected a testcase per image (300 or more) and 5 per third image, got $amends and $((n - amends))" >&2
	fail=1
fi
for mode in refuse_all:refused_without_reason_qemu_amends \
		nochange_all:nochange_qemu_refuses; do
	m=${mode%%:*} want=${mode#*:}
	rm -rf "$STATE/hang"
	mkdir -p "$STATE/hang"  # no hang in these modes
	if FAKE_MODE=$m XML_OUTPUT_FILE=$STATE/$m.xml bash "$TEST" "$FAKE" "$MAKE" 300 100000 \
			>"$STATE/$m.log" 2>&1; then
		echo "hostile_test passed a fake instar in mode $m" >&2
		fail=1
	elif ! grep -q "^FAIL .*: $want" "$STATE/$m.log"; then
		echo "hostile_test did not report $want for mode $m" >&2
		fail=1
	fi
done
if [ $fail -ne 0 ]; then
	head -60 "$STATE/log" >&2
	exit 1
fi
echo "hostile_selfcheck: hostile_test caught every fake misbehaviour ($n cases)"
