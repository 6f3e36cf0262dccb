#!/bin/bash
# fake_instar.sh — a deliberately wrong stand-in for `instar amend`,
# `instar info` and `instar check`, for hostile_selfcheck: proves
# hostile_test.sh catches every kind of bad outcome. Trusts qemu-img,
# whose answers it gives as its own where it behaves.
#
# amend chooses its misbehaviour from the checksum of the image's first
# MiB (mod 5):
#   0 dies of SIGSEGV          1 writes a byte, then "refuses"
#   2 refuses properly          3 claims "Image amended." having written
#                                 nothing
#   4 prints an AddressSanitizer report and exits 1
# and the very first amend (per $FAKE_STATE directory) hangs for 60 s.
#
# info and check choose theirs from the checksum (mod 8):
#   0 dies of SIGSEGV           1 writes a byte, then answers as qemu-img
#   2 prints an AddressSanitizer report and exits 1
#   3 prints nothing and exits 1
#   4 check exits 134 after 5.2's assertion message (right with
#     --qemu-compat 5.2 only)
#   5 check dies of SIGABRT after 5.2's assertion message (a crash, even
#     with --qemu-compat 5.2)
#   6 info with --qemu-compat (the run held to qemu-img info): refuses
#     what qemu-img reads, "reads" what qemu-img refuses
#   7 info with --qemu-compat: qemu-img's answer and one more line
# and otherwise answer as qemu-img does (`qemu-img info|check
# [--output=json] FILE`); the very first info or check hangs for 60 s.
#
# FAKE_MODE=refuse_all instead refuses every image properly (exit 1, a
# message, nothing written) with no reason the planner would give;
# FAKE_MODE=nochange_all says "No change." of every image (every command).
# Usage (as instar): fake_instar.sh amend -o OPTS FILE
#                    fake_instar.sh info|check [OPTIONS] FILE
set -u
ulimit -c 0   # no core files from the deaths by signal
img=${!#}
case ${FAKE_MODE:-} in
refuse_all) echo "instar amend: refused" >&2; exit 1 ;;
nochange_all) echo "No change."; exit 0 ;;
esac
# (The first MiB: reading a 1 TiB sparse image would be a hang of its own.)
sum=$(head -c 1048576 "$img" | cksum | cut -d' ' -f1)

if [ "$1" = amend ]; then
	if mkdir "$FAKE_STATE/hang" 2>/dev/null; then
		sleep 60
	fi
	case $((sum % 5)) in
	0) kill -SEGV $$ ;;
	1) printf 'X' | dd of="$img" bs=1 seek=100 conv=notrunc status=none
	   echo "instar amend: refused" >&2; exit 1 ;;
	2) echo "instar amend: refused" >&2; exit 1 ;;
	3) echo "Image amended."; exit 0 ;;
	4) echo "==1==ERROR: AddressSanitizer: heap-buffer-overflow" >&2; exit 1 ;;
	esac
	exit 0
fi

# info or check: qemu-img's answer is the proper one.
cmd=$1 json=() compat=""
shift
while [ $# -gt 1 ]; do
	case $1 in
	--output=json) json=(--output=json) ;;
	--qemu-compat) compat=$2; shift ;;
	esac
	shift
done
as_qemu() { qemu-img "$cmd" "${json[@]}" "$img"; }
if mkdir "$FAKE_STATE/hang_inspect" 2>/dev/null; then
	sleep 60
fi
case $((sum % 8)):$cmd:$compat in
0:*) kill -SEGV $$ ;;
1:*) printf 'X' | dd of="$img" bs=1 seek=100 conv=notrunc status=none
     as_qemu; exit ;;
2:*) echo "==1==ERROR: AddressSanitizer: heap-buffer-overflow" >&2; exit 1 ;;
3:*) exit 1 ;;
4:check:*) echo "qemu-img: ../../block/io.c:710: tracked_request_begin: Assertion failed." >&2
           exit 134 ;;
5:check:*) echo "qemu-img: ../../block/io.c:710: tracked_request_begin: Assertion failed." >&2
           kill -ABRT $$ ;;
6:info:?*) if as_qemu >/dev/null 2>&1; then
		echo "qemu-img: Could not open '$img': made up" >&2; exit 1
	    fi
	    echo "made up"; exit 0 ;;
7:info:?*) as_qemu; rc=$?; echo "one more line"; exit $rc ;;
*) as_qemu ;;
esac
