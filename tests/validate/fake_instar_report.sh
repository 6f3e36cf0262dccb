#!/bin/bash
# fake_instar_report.sh — broken stand-ins for instar_replay_report, for
# lying_report_selfcheck.sh. FAKE_MODE picks the fault:
#   refuse_all   every command refused with a plausible message
#   accept_all   every command "succeeds" with the honest first line
#   crash        dies of SIGSEGV
#   scribble     runs the real binary ($FAKE_REAL), then changes the image
# The image is the last argument.
set -u
img=${!#}
case ${FAKE_MODE:?} in
refuse_all)
	echo "instar $1: the sandboxed guest's report is malformed (no end record); nothing was printed" >&2
	exit 1
	;;
accept_all)
	case $1 in
	info) echo "image: $img" ;;
	check) echo "No errors were found on the image." ;;
	*) echo "Image amended." ;;
	esac
	exit 0
	;;
crash)
	kill -SEGV $$
	;;
scribble)
	"${FAKE_REAL:?}" "$@"
	rc=$?
	printf 'x' >>"$img"
	exit $rc
	;;
esac
exit 99
