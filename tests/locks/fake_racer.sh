#!/bin/bash
# fake_racer.sh — a broken stand-in for both racers of locks_test.sh part
# C, for locks_selfcheck.sh: as `instar amend` when its first argument is
# "amend", else as lock_holder (FILE [--ready PATH] [--barrier FIFO]
# [--hold-stdin]). Proves part C fails on each way of lying. FAKE_MODE:
#   silent  prints nothing and exits 0 at once; ignores the barrier
#           (the wait for the racer at the barrier must time out)
#   mute    lock_holder: at the barrier like the real one, then prints
#           nothing and exits 0; instar: as silent
#   refuse  lock_holder: CONFLICT, exit 10; instar: the lock refusal,
#           exit 1 (nobody ever wins)
#   greedy  lock_holder: TAKEN, held until stdin ends; instar: "Image
#           amended.", exit 0, having written nothing (both win)
# Trust: test code only.
set -u
mode=${FAKE_MODE:?FAKE_MODE unset}
if [ "${1:-}" = amend ]; then
	case $mode in
	silent | mute) exit 0 ;;
	refuse)
		echo "instar amend: '${!#}' is in use by another process (QEMU, qemu-nbd or another instar holds its image lock); nothing was written" >&2
		exit 1
		;;
	greedy) echo "Image amended."; exit 0 ;;
	esac
	exit 2
fi
[ "$mode" = silent ] && exit 0
ready="" barrier="" hold=0
shift
while [ $# -gt 0 ]; do
	case $1 in
	--ready) ready=$2; shift ;;
	--barrier) barrier=$2; shift ;;
	--hold-stdin) hold=1 ;;
	esac
	shift
done
if [ -n "$barrier" ]; then
	exec 3<"$barrier"
	[ -n "$ready" ] && : >"$ready"
	read -r -n 1 _ <&3
	exec 3<&-
fi
case $mode in
mute) exit 0 ;;
refuse) echo CONFLICT; exit 10 ;;
greedy)
	echo TAKEN
	[ "$hold" = 1 ] && cat >/dev/null
	exit 0
	;;
esac
exit 2
