#!/bin/bash
# hostile_selfcheck.sh — hostile_test.sh must be able to fail: run it on
# 300 images with fake_instar.sh (which crashes, writes on refusal, hangs,
# lies about amending, reports a sanitizer error) and require that it
# fails and names each of those outcomes, while the proper refusals pass;
# then with a fake that refuses everything cleanly but for no reason, and
# one that says "No change." of everything: both must fail too.
# Usage: hostile_selfcheck.sh HOSTILE_TEST MAKE_HOSTILE_SH FAKE_INSTAR
set -u
TEST=$1 MAKE=$2 FAKE=$3
STATE=$(mktemp -d "${TEST_TMPDIR:-/tmp}/fake.XXXXXX")
trap 'rm -rf "$STATE"' EXIT
export FAKE_STATE=$STATE
XML_OUTPUT_FILE=$STATE/inner.xml bash "$TEST" "$FAKE" "$MAKE" 300 >"$STATE/log" 2>&1
rc=$?
fail=0
if [ $rc -eq 0 ]; then
	echo "hostile_test passed a fake instar that crashes and corrupts" >&2
	fail=1
fi
for outcome in exit_139 refused_but_written timeout sanitizer \
		amended_differs_from_qemu; do
	if ! grep -q "^FAIL .*: $outcome" "$STATE/log"; then
		echo "hostile_test did not report outcome $outcome" >&2
		fail=1
	fi
done
if ! grep -q "<testcase classname=\"hostile.[a-z]*\" name=\"[^\"]* refused\" time=\"[^\"]*\"><system-out>" \
		"$STATE/inner.xml"; then
	echo "proper refusals did not pass" >&2
	fail=1
fi
n=$(grep -c "<testcase " "$STATE/inner.xml")
if [ "$n" -lt 300 ]; then
	echo "expected one testcase per image (300), got $n" >&2
	fail=1
fi
for mode in refuse_all:refused_without_reason_qemu_amends \
		nochange_all:nochange_qemu_refuses; do
	m=${mode%%:*} want=${mode#*:}
	rm -rf "$STATE/hang"
	mkdir -p "$STATE/hang"  # no hang in these modes
	if FAKE_MODE=$m XML_OUTPUT_FILE=$STATE/$m.xml bash "$TEST" "$FAKE" "$MAKE" 300 \
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
