#!/bin/bash
# fake_instar_inspect.sh — broken stand-ins for `instar info|check`, for
# inspect_diff_selfcheck.sh. FAKE_MODE picks the fault:
#   oracle   runs the qemu-img release --qemu-compat names: perfect
#            imitation, so every known divergence must turn up stale
#   lying    the oracle's output with its first digit replaced
#   refuse   refuses everything, plausibly
#   crash    dies of SIGSEGV
# FAKE_ORACLES: the directory of the qemu-img-VERSION launchers.
set -u
cmd=$1
shift
v=11.1 args=()
while [ $# -gt 0 ]; do
	case $1 in
	--qemu-compat) v=$2; shift 2 ;;
	*) args+=("$1"); shift ;;
	esac
done
oracle=${FAKE_ORACLES:?}/qemu-img-$v
case ${FAKE_MODE:?} in
oracle)
	exec "$oracle" "$cmd" "${args[@]}"
	;;
lying)
	"$oracle" "$cmd" "${args[@]}" | sed '0,/[0-9]/s/[0-9]/X/'
	exit "${PIPESTATUS[0]}"
	;;
refuse)
	echo "instar $cmd: the sandboxed guest's report is malformed (no end record); nothing was printed" >&2
	exit 1
	;;
crash)
	kill -SEGV $$
	;;
esac
exit 99
