#!/bin/bash
# fake_instar.sh — a deliberately wrong stand-in for `instar amend`, for
# hostile_selfcheck: proves hostile_test.sh catches every kind of bad
# outcome. Chooses its misbehaviour from the image's checksum (mod 5):
#   0 dies of SIGSEGV          1 writes a byte, then "refuses"
#   2 refuses properly          3 claims "Image amended." having written
#                                 nothing
#   4 prints an AddressSanitizer report and exits 1
# and the very first call (per $FAKE_STATE directory) hangs for 60 s.
# FAKE_MODE=refuse_all instead refuses every image properly (exit 1, a
# message, nothing written) with no reason the planner would give;
# FAKE_MODE=nochange_all says "No change." of every image.
# Usage (as instar): fake_instar.sh amend -o OPTS FILE
set -u
img=${!#}
case ${FAKE_MODE:-} in
refuse_all) echo "instar amend: refused" >&2; exit 1 ;;
nochange_all) echo "No change."; exit 0 ;;
esac
if mkdir "$FAKE_STATE/hang" 2>/dev/null; then
	sleep 60
fi
case $(( $(cksum <"$img" | cut -d' ' -f1) % 5 )) in
0) kill -SEGV $$ ;;
1) printf 'X' | dd of="$img" bs=1 seek=100 conv=notrunc status=none
   echo "instar amend: refused" >&2; exit 1 ;;
2) echo "instar amend: refused" >&2; exit 1 ;;
3) echo "Image amended."; exit 0 ;;
4) echo "==1==ERROR: AddressSanitizer: heap-buffer-overflow" >&2; exit 1 ;;
esac
