#!/usr/bin/env bash
# bench.sh — time `instar amend`, `instar info` and `instar check`
# against the same `qemu-img` command on the same images in the same run,
# side by side, and print for each case both times, their ratio, the peak
# RSS of each, and instar's VM exits. info and check run with
# --qemu-compat set to the system qemu-img's release, so both print the
# same bytes (checked once per case before timing).
# Not a test: it passes or fails nothing, it measures.
#
# Usage: bench/bench.sh [PATH/TO/instar]
#   Without an argument (or $INSTAR) it builds //src/cli:instar with Bazel
#   and uses that. Needs /dev/kvm (instar), qemu-img and qemu-io; uses
#   hyperfine when installed (else a bash loop on $EPOCHREALTIME), and GNU
#   time (/usr/bin/time -f %M) for the peak RSS when installed (else
#   python3's getrusage of the child).
# Environment: ROUNDS (default 5) rounds per case; RUNS (default 10) timed
#   runs per command and round, fewer for slow cases (each round of a
#   command is kept near 2 s, at least 3 runs); WARMUP (1) per round;
#   CASES_MATCHING (a grep -E pattern) to run only some cases.
#
# How it measures: each round times instar, then qemu-img, on fresh
# copies of the image (the copy is not timed); the ratio is taken per
# round (instar mean / qemu-img mean of that round) and the median of the
# rounds is reported, so a machine that slows down during the run moves
# both sides of a ratio alike. Exits: one extra instar run with --stats
# (the run loop's count of KVM_RUN returns).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
RUNS=${RUNS:-10}
WARMUP=${WARMUP:-1}
INSTAR=${1:-${INSTAR:-}}
if [ -z "$INSTAR" ]; then
	bazel build //src/cli:instar >&2
	INSTAR=$(bazel info bazel-bin 2>/dev/null)/src/cli/instar
fi
INSTAR=$(readlink -f "$INSTAR")
QIMG=$(command -v qemu-img)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---------------------------------------------------------------------
# Images: "name|create options|size|qemu-io writes|snapshot(0/1)".
# `walkN`: N allocated L2 tables (one 4 KiB write every 512 MiB with
# 64 KiB clusters, so every write has its own L2 table), a downgrade
# must read all of them; `walkNs`: the same after `qemu-img snapshot -c`
# (the snapshot shares every L2 table with the active L1 table).
walk_writes() { # N: qemu-io commands, one write per 512 MiB
	local i
	for ((i = 0; i < $1; i++)); do printf 'write -P 0xab %dM 4k\n' $((i * 512)); done
}
# `zeroN`: as walkN, and in each L2 table a zero cluster that keeps its
# host cluster (zeroes written over data) and a plain zero cluster: a
# downgrade expands 2 x N entries; `zeroNb`: the same over a backing
# file, so each plain zero cluster gets a new cluster.
zero_writes() { # N
	local i
	for ((i = 0; i < $1; i++)); do
		printf 'write -P 0xab %dM 128k\nwrite -z %dk 64k\nwrite -z %dk 64k\n' \
			$((i * 512)) $((i * 524288 + 64)) $((i * 524288 + 128))
	done
}
IMAGES=(
	"v2_64k|compat=0.10,cluster_size=64k|1G|write -P 0xab 0 4M|0"
	"v3_64k|compat=1.1,cluster_size=64k|1G|write -P 0xab 0 4M|0"
	"v2_2m|compat=0.10,cluster_size=2M|1G|write -P 0xab 0 4M|0"
	"v3_2m|compat=1.1,cluster_size=2M|1G|write -P 0xab 0 4M|0"
	"v2_1t|compat=0.10,cluster_size=64k|1T|write -P 0xab 1023G 1M|0"
	"v3_1t|compat=1.1,cluster_size=64k|1T|write -P 0xab 1023G 1M|0"
	"walk300|compat=1.1,cluster_size=64k|151G|@300|0"
	"walk300s|compat=1.1,cluster_size=64k|151G|@300|1"
	"walk2500|compat=1.1,cluster_size=64k|1251G|@2500|0"
	"walk2500s|compat=1.1,cluster_size=64k|1251G|@2500|1"
	"zero2500|compat=1.1,cluster_size=64k|1251G|z2500|0"
	"zero2500b|compat=1.1,cluster_size=64k,backing_fmt=qcow2,backing_file=BASE|1251G|z2500|0"
)
# Cases: "label|image|command|-o options (amend)".
CASES=(
	"64 KiB clusters, v2 -> v3|v2_64k|amend|compat=1.1"
	"64 KiB clusters, v3 -> v2|v3_64k|amend|compat=0.10"
	"2 MiB clusters, v2 -> v3|v2_2m|amend|compat=1.1"
	"2 MiB clusters, v3 -> v2|v3_2m|amend|compat=0.10"
	"1 TiB sparse, v2 -> v3|v2_1t|amend|compat=1.1"
	"1 TiB sparse, v3 -> v2|v3_1t|amend|compat=0.10"
	"300 L2 tables, v3 -> v2|walk300|amend|compat=0.10"
	"300 L2 + snapshot, v3 -> v2|walk300s|amend|compat=0.10"
	"2500 L2 tables, v3 -> v2|walk2500|amend|compat=0.10"
	"2500 L2 + snapshot, v3 -> v2|walk2500s|amend|compat=0.10"
	"2500 L2, 5000 zero clusters, v3 -> v2|zero2500|amend|compat=0.10"
	"2500 L2, 5000 zero, backing, v3 -> v2|zero2500b|amend|compat=0.10"
	"info, 64 KiB v3|v3_64k|info|"
	"info, 2 MiB v2|v2_2m|info|"
	"info, 2500 L2 + snapshot|walk2500s|info|"
	"info --output=json, 2500 L2 + snap|walk2500s|info --output=json|"
	"check, 64 KiB v3|v3_64k|check|"
	"check, 2 MiB v3|v3_2m|check|"
	"check, 1 TiB sparse|v3_1t|check|"
	"check, 300 L2 tables|walk300|check|"
	"check, 2500 L2 tables|walk2500|check|"
	"check, 2500 L2 + snapshot|walk2500s|check|"
)
if [ -n "${CASES_MATCHING:-}" ]; then
	sel=()
	for row in "${CASES[@]}"; do
		if printf '%s\n' "$row" | grep -Eq "$CASES_MATCHING"; then sel+=("$row"); fi
	done
	CASES=("${sel[@]}")
fi

needed() { # IMAGE: is it used by a selected case?
	local row
	for row in "${CASES[@]}"; do
		[ "$(printf '%s' "$row" | cut -d'|' -f2)" = "$1" ] && return 0
	done
	return 1
}

for row in "${IMAGES[@]}"; do
	IFS='|' read -r name opts size io snap <<<"$row"
	needed "$name" || continue
	if [[ $opts == *backing_file=BASE* ]]; then
		qemu-img create -q -f qcow2 "$work/base.qcow2" "$size"
		opts=${opts/backing_file=BASE/backing_file=$work/base.qcow2}
	fi
	qemu-img create -q -f qcow2 -o "$opts" "$work/$name.qcow2" "$size"
	if [ "${io#@}" != "$io" ]; then
		walk_writes "${io#@}" | qemu-io -f qcow2 "$work/$name.qcow2" >/dev/null
	elif [ "${io#z}" != "$io" ]; then
		zero_writes "${io#z}" | qemu-io -f qcow2 "$work/$name.qcow2" >/dev/null
	else
		qemu-io -f qcow2 -c "$io" "$work/$name.qcow2" >/dev/null
	fi
	[ "$snap" = 1 ] && qemu-img snapshot -c s1 "$work/$name.qcow2"
done

have_hyperfine=0
command -v hyperfine >/dev/null && have_hyperfine=1
have_gnu_time=0
[ -x /usr/bin/time ] && /usr/bin/time -f %M true >/dev/null 2>&1 && have_gnu_time=1

# mean_loop CMD PREPARE RUNS -> mean seconds (bash loop, no hyperfine)
mean_loop() {
	local cmd=$1 prep=$2 runs=$3 i t0 t1
	local -a ts=()
	for ((i = 0; i < WARMUP; i++)); do bash -c "$prep"; bash -c "$cmd" >/dev/null 2>&1; done
	for ((i = 0; i < runs; i++)); do
		bash -c "$prep"
		t0=$EPOCHREALTIME
		bash -c "exec $cmd" >/dev/null 2>&1
		t1=$EPOCHREALTIME
		ts+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')")
	done
	printf '%s\n' "${ts[@]}" | awk '{s+=$1; n++} END{printf "%.6f\n", s/n}'
}

# mean_of CMD PREPARE RUNS -> mean seconds of RUNS timed runs
mean_of() {
	if [ "$have_hyperfine" = 1 ]; then
		hyperfine -N --style none --runs "$3" --warmup "$WARMUP" \
			--export-json "$work/h.json" --prepare "$2" "$1" >"$work/h.log" 2>&1 ||
			{ echo "hyperfine failed on: $1" >&2; tail -5 "$work/h.log" >&2; exit 1; }
		python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"][0]["mean"])' "$work/h.json"
	else
		mean_loop "$1" "$2" "$3"
	fi
}

# peak_rss CMD -> KiB of the command's peak resident set
peak_rss() {
	if [ "$have_gnu_time" = 1 ]; then
		/usr/bin/time -f %M -o "$work/rss" bash -c "exec $1" >/dev/null 2>&1
		tail -1 "$work/rss"
	else
		python3 -c '
import resource, subprocess, sys
subprocess.run(["bash", "-c", "exec " + sys.argv[1]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$1"
	fi
}

# runs_for SECONDS_OF_ONE_RUN -> timed runs per round (about 2 s a round)
runs_for() {
	awk -v t="$1" -v max="$RUNS" 'BEGIN{ n = (t > 0) ? int(2.0 / t) : max;
		if (n > max) n = max; if (n < 3) n = 3; print n }'
}

# The system qemu-img's release ("7.2"), for info and check's --qemu-compat.
QVER=$("$QIMG" --version | sed -n '1s/^qemu-img version \([0-9]*\.[0-9]*\).*/\1/p')

echo "instar:   $INSTAR ($("$INSTAR" --version))"
echo "qemu-img: $QIMG ($("$QIMG" --version | head -1))"
timer='bash EPOCHREALTIME loop (hyperfine not installed)'
[ "$have_hyperfine" = 1 ] && timer=$(hyperfine --version)
echo "timing:   $timer; $ROUNDS rounds per case, each: instar then qemu-img, up to $RUNS runs + $WARMUP warm-up, fresh image copy before each run (not timed)"
echo "peak RSS: $([ "$have_gnu_time" = 1 ] && echo '/usr/bin/time -f %M' || echo "python3 getrusage (GNU time not installed: add Debian package 'time')")"
echo "host:     $(uname -r), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), /dev/kvm: $(grep -qs pvm /proc/modules 2>/dev/null && echo kvm_pvm || echo present)"
echo

results=()
for row in "${CASES[@]}"; do
	IFS='|' read -r label img cmd opts <<<"$row"
	src="$work/$img.qcow2"
	ti="$work/t_instar.qcow2"
	tq="$work/t_qemu.qcow2"
	prep_i="cp --sparse=always '$src' '$ti'"
	prep_q="cp --sparse=always '$src' '$tq'"
	if [ "$cmd" = amend ]; then
		cmd_i="'$INSTAR' amend -o $opts '$ti'"
		cmd_q="'$QIMG' amend -o $opts '$tq'"
	else
		# Read-only commands: the same file for both, named alike, so
		# their outputs can be compared byte for byte.
		prep_i=true prep_q=true
		ln -sf "$src" "$work/bench.qcow2"
		read -r verb rest <<<"$cmd"
		cmd_i="'$INSTAR' $verb --qemu-compat $QVER $rest '$work/bench.qcow2'"
		cmd_q="'$QIMG' $cmd '$work/bench.qcow2'"
	fi

	# Both must succeed on this image before they are timed; the first
	# runs also say how long one run takes.
	bash -c "$prep_i"
	t0=$EPOCHREALTIME
	if ! out_i=$(bash -c "$cmd_i --stats" 2>&1); then
		echo "$label: instar refused: $out_i — not timed" >&2
		results+=("$label|refused|-|-|-|-|-|-|-")
		continue
	fi
	t1=$EPOCHREALTIME
	exits=$(printf '%s\n' "$out_i" | sed -n 's/.*stats: exits=\([0-9]*\).*/\1/p')
	bash -c "$prep_q"
	t2=$EPOCHREALTIME
	if ! out_q=$(bash -c "$cmd_q" 2>&1); then
		echo "$label: qemu-img failed: $out_q — not timed" >&2
		results+=("$label|-|failed|-|-|-|-|-|-")
		continue
	fi
	t3=$EPOCHREALTIME
	if [ "$cmd" != amend ] && [ "$(bash -c "$cmd_i" 2>&1)" != "$out_q" ]; then
		echo "$label: instar's output differs from qemu-img's — not timed" >&2
		results+=("$label|differs|-|-|-|-|-|-|-")
		continue
	fi
	ni=$(runs_for "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')")
	nq=$(runs_for "$(awk -v a="$t2" -v b="$t3" 'BEGIN{print b-a}')")

	: >"$work/rounds"
	for ((r = 0; r < ROUNDS; r++)); do
		mi=$(mean_of "$cmd_i" "$prep_i" "$ni")
		mq=$(mean_of "$cmd_q" "$prep_q" "$nq")
		echo "$mi $mq" >>"$work/rounds"
	done
	read -r mi mq ratio rmin rmax < <(python3 -c '
import statistics, sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
ratios = sorted(i / q for i, q in rows)
print(statistics.mean(i for i, _ in rows), statistics.mean(q for _, q in rows),
      statistics.median(ratios), ratios[0], ratios[-1])' "$work/rounds")
	bash -c "$prep_i"
	ri=$(peak_rss "$cmd_i")
	bash -c "$prep_q"
	rq=$(peak_rss "$cmd_q")
	results+=("$label|$mi|$mq|$ratio|$rmin|$rmax|$ri|$rq|${exits:-?}")
done

printf '%-30s %12s %14s %22s %11s %12s %6s\n' "case" "instar" "qemu-img" "ratio (min..max)" "RSS instar" "RSS qemu" "exits"
for row in "${results[@]}"; do
	IFS='|' read -r label mi mq ratio rmin rmax ri rq exits <<<"$row"
	if [ "$mq" = "-" ] || [ "$mi" = refused ] || [ "$mi" = differs ] || [ "$mq" = failed ]; then
		printf '%-30s %12s %14s %22s\n' "$label" "$mi" "$mq" "-"
		continue
	fi
	awk -v l="$label" -v mi="$mi" -v mq="$mq" -v r="$ratio" -v a="$rmin" -v b="$rmax" \
		-v ri="$ri" -v rq="$rq" -v e="$exits" 'BEGIN{
		printf "%-30s %9.2f ms %11.2f ms %7.3f (%.3f..%.3f) %7d KiB %8d KiB %6s\n",
			l, mi*1000, mq*1000, r, a, b, ri, rq, e }'
done
echo
echo "ratio = instar / qemu-img, the median over $ROUNDS rounds of each round's means (below 1: instar is faster);"
echo "exits = instar's VM exits (KVM_RUN returns) in one run, from --stats."
