#!/bin/bash
# lying_expand_selfcheck.sh — lying_expand_test.sh must be able to fail:
# run it with broken stand-ins for both instar binaries and require that
# it fails, naming a case that shows the fault.
#   accept_all  says "Image amended." and writes nothing
#   refuse_all  refuses everything with a plausible message
#   crash       dies of SIGSEGV
#   scribble    writes a byte into the image, then refuses
# Usage: lying_expand_selfcheck.sh LYING_EXPAND_TEST PLAN_APPLY
set -u
TEST=$1
PLAN=$(readlink -f "$2")
STATE=$(mktemp -d "${TEST_TMPDIR:-/tmp}/lxself.XXXXXX")
trap 'rm -rf "$STATE"' EXIT
FAKE=$STATE/fake_instar
cat >"$FAKE" <<'EOF'
#!/bin/bash
img=${!#}
case $FAKE_MODE in
accept_all) echo "Image amended." ;;
refuse_all) echo "instar amend: the sandboxed guest named L2 tables outside the image; nothing was written" >&2; exit 1 ;;
crash) kill -SEGV $$ ;;
scribble) printf 'x' | dd of="$img" bs=1 seek=100000 conv=notrunc status=none
	echo "instar amend: the sandboxed guest named L2 tables outside the image; nothing was written" >&2; exit 1 ;;
esac
EOF
chmod +x "$FAKE"
fail=0
for spec in "accept_all:FAIL header_cluster: exit 0, want 1" \
	"refuse_all:FAIL honest: exit 1, want 0" \
	"crash:FAIL honest: exit 139, want 0" \
	"scribble:FAIL table_without_zeros: stderr: instar amend: the sandboxed guest named L2 tables outside the image; nothing was written, want: instar amend: the sandboxed guest named an L2 table without zero clusters; nothing was written. the image was written."; do
	mode=${spec%%:*} want=${spec#*:}
	if FAKE_MODE=$mode XML_OUTPUT_FILE=$STATE/$mode.xml TEST_TMPDIR=$STATE \
		bash "$TEST" "$FAKE" "$PLAN" "$FAKE" >"$STATE/$mode.log" 2>&1; then
		echo "lying_expand_test passed a fake instar in mode $mode" >&2
		fail=1
	elif ! grep -qF "$want" "$STATE/$mode.log"; then
		echo "lying_expand_test did not report '$want' in mode $mode:" >&2
		head -20 "$STATE/$mode.log" >&2
		fail=1
	fi
done
[ $fail -eq 0 ] || exit 1
echo "lying_expand_selfcheck: lying_expand_test caught every fake (4 modes)"
