#!/bin/bash
# inspect_diff_selfcheck.sh — inspect_diff.sh must be able to fail: run
# it (on every 20th run of the info corpus) with each stand-in of
# fake_instar_inspect.sh and require that it fails, naming the fault: a
# perfect imitation of qemu-img turns the known divergences stale; a
# lying, a refusing and a crashing instar differ from qemu-img.
# Usage: inspect_diff_selfcheck.sh INSPECT_DIFF GENERATOR LOCKHOLD KNOWN FAKE
set -u
TEST=$1 GEN=$2 LOCKHOLD=$3 KNOWN=$4
FAKE=$(readlink -f "$5")
STATE=$(mktemp -d "${TEST_TMPDIR:-/tmp}/idself.XXXXXX")
trap 'rm -rf "$STATE"' EXIT
export FAKE_ORACLES=${INSTAR_ORACLES:-/var/cache/instar-oracles}/bin
fail=0
for spec in "oracle:STALE known divergence" \
	"lying:instar differs from qemu-img" \
	"refuse:instar differs from qemu-img" \
	"crash:instar differs from qemu-img"; do
	mode=${spec%%:*} want=${spec#*:}
	# The suite runs the tool with a cleared environment: bake the mode in.
	printf '#!/bin/sh\nFAKE_MODE=%s FAKE_ORACLES=%s exec %s "$@"\n' \
		"$mode" "$FAKE_ORACLES" "$FAKE" >"$STATE/fake-$mode"
	chmod 755 "$STATE/fake-$mode"
	if XML_OUTPUT_FILE=$STATE/$mode.xml bash "$TEST" info "$STATE/fake-$mode" \
		"$GEN" "$LOCKHOLD" "$KNOWN" 20 >"$STATE/$mode.log" 2>&1; then
		echo "inspect_diff passed a fake instar in mode $mode" >&2
		fail=1
	elif ! grep -q "^FAIL .*$want" "$STATE/$mode.log"; then
		echo "inspect_diff did not report '$want' in mode $mode:" >&2
		grep -m5 "^FAIL\|passed" "$STATE/$mode.log" >&2
		fail=1
	fi
done
# The perfect imitation must pass every run no rule names: only the
# stale rules fail. (The sample holds no run made as user nobody, who
# could not reach the fake.)
if grep "^FAIL" "$STATE/oracle.log" | grep -qv "STALE known divergence"; then
	echo "inspect_diff failed the perfect imitation for another reason:" >&2
	grep "^FAIL" "$STATE/oracle.log" | grep -v STALE | head -5 >&2
	fail=1
fi
[ $fail -eq 0 ] || exit 1
echo "inspect_diff_selfcheck: inspect_diff caught every fake (4 modes)"
