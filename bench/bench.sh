#!/usr/bin/env bash
# bench.sh — time `instar amend` against `qemu-img amend` on the same
# images in the same run, and print the ratio and the peak RSS of each.
# Not a test: it passes or fails nothing, it measures.
#
# Usage: bench/bench.sh [PATH/TO/instar]
#   Without an argument (or $INSTAR) it builds //src/cli:instar with Bazel
#   and uses that. Needs /dev/kvm (instar), qemu-img and qemu-io.
#   Uses hyperfine when installed (else a bash loop on $EPOCHREALTIME),
#   and GNU time (/usr/bin/time -f %M) for the peak RSS when installed
#   (else python3's getrusage of the child).
# Environment: RUNS (default 30) timed runs per command, WARMUP (3).
#
# Every run starts from a fresh copy of the image (hyperfine --prepare),
# so each run does the same work: the copy is not timed.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
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
# Images: "name|create options|size|qemu-io writes".
IMAGES=(
	"v2_64k|compat=0.10,cluster_size=64k|1G|write -P 0xab 0 4M"
	"v3_64k|compat=1.1,cluster_size=64k|1G|write -P 0xab 0 4M"
	"v2_2m|compat=0.10,cluster_size=2M|1G|write -P 0xab 0 4M"
	"v3_2m|compat=1.1,cluster_size=2M|1G|write -P 0xab 0 4M"
	"v2_1t|compat=0.10,cluster_size=64k|1T|write -P 0xab 1023G 1M"
	"v3_1t|compat=1.1,cluster_size=64k|1T|write -P 0xab 1023G 1M"
)
# Cases: "label|image|-o options".
CASES=(
	"64 KiB clusters, v2 -> v3|v2_64k|compat=1.1"
	"64 KiB clusters, v3 -> v2|v3_64k|compat=0.10"
	"2 MiB clusters, v2 -> v3|v2_2m|compat=1.1"
	"2 MiB clusters, v3 -> v2|v3_2m|compat=0.10"
	"1 TiB sparse, v2 -> v3|v2_1t|compat=1.1"
	"1 TiB sparse, v3 -> v2|v3_1t|compat=0.10"
)

for row in "${IMAGES[@]}"; do
	IFS='|' read -r name opts size io <<<"$row"
	qemu-img create -q -f qcow2 -o "$opts" "$work/$name.qcow2" "$size"
	qemu-io -f qcow2 -c "$io" "$work/$name.qcow2" >/dev/null
done

have_hyperfine=0
command -v hyperfine >/dev/null && have_hyperfine=1
have_gnu_time=0
[ -x /usr/bin/time ] && /usr/bin/time -f %M true >/dev/null 2>&1 && have_gnu_time=1

# mean_sd CMD PREPARE -> "mean_seconds stddev_seconds"
mean_sd_loop() {
	local cmd=$1 prep=$2 i t0 t1
	local -a ts=()
	for ((i = 0; i < WARMUP; i++)); do bash -c "$prep"; bash -c "$cmd" >/dev/null; done
	for ((i = 0; i < RUNS; i++)); do
		bash -c "$prep"
		t0=$EPOCHREALTIME
		bash -c "$cmd" >/dev/null
		t1=$EPOCHREALTIME
		ts+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')")
	done
	printf '%s\n' "${ts[@]}" | awk '{s+=$1; q+=$1*$1; n++} END{m=s/n; v=q/n-m*m; if (v<0) v=0; printf "%.6f %.6f\n", m, sqrt(v)}'
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

echo "instar:   $INSTAR ($("$INSTAR" --version))"
echo "qemu-img: $QIMG ($("$QIMG" --version | head -1))"
echo "timing:   $([ "$have_hyperfine" = 1 ] && hyperfine --version || echo 'bash $EPOCHREALTIME loop (hyperfine not installed)'), $RUNS runs + $WARMUP warm-up per command, fresh image copy before each run (not timed)"
echo "peak RSS: $([ "$have_gnu_time" = 1 ] && echo '/usr/bin/time -f %M' || echo "python3 getrusage (GNU time not installed: add Debian package 'time')")"
echo "host:     $(uname -r), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo

results=()
for row in "${CASES[@]}"; do
	IFS='|' read -r label img opts <<<"$row"
	src="$work/$img.qcow2"
	ti="$work/t_instar.qcow2"
	tq="$work/t_qemu.qcow2"
	prep_i="cp --sparse=always '$src' '$ti'"
	prep_q="cp --sparse=always '$src' '$tq'"
	cmd_i="'$INSTAR' amend -o $opts '$ti'"
	cmd_q="'$QIMG' amend -o $opts '$tq'"

	# Both must succeed on this image before they are timed.
	bash -c "$prep_i"; bash -c "$prep_q"
	if ! out_i=$(bash -c "$cmd_i" 2>&1); then
		echo "$label: instar refused: $out_i — not timed" >&2
		results+=("$label|refused|-|-|-|-|-")
		continue
	fi
	if ! out_q=$(bash -c "$cmd_q" 2>&1); then
		echo "$label: qemu-img failed: $out_q — not timed" >&2
		results+=("$label|-|failed|-|-|-|-")
		continue
	fi

	if [ "$have_hyperfine" = 1 ]; then
		hyperfine -N --style basic --runs "$RUNS" --warmup "$WARMUP" \
			--export-json "$work/h.json" \
			--prepare "$prep_i" -n instar "$cmd_i" \
			--prepare "$prep_q" -n qemu-img "$cmd_q" >"$work/h.txt" 2>&1 ||
			{ cat "$work/h.txt" >&2; exit 1; }
		read -r mi si mq sq < <(python3 -c '
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
print(r["instar"]["mean"], r["instar"]["stddev"] or 0, r["qemu-img"]["mean"], r["qemu-img"]["stddev"] or 0)' "$work/h.json")
	else
		read -r mi si < <(mean_sd_loop "$cmd_i" "$prep_i")
		read -r mq sq < <(mean_sd_loop "$cmd_q" "$prep_q")
	fi
	bash -c "$prep_i"
	ri=$(peak_rss "$cmd_i")
	bash -c "$prep_q"
	rq=$(peak_rss "$cmd_q")
	results+=("$label|$mi|$si|$mq|$sq|$ri|$rq")
done

printf '%-28s %18s %18s %8s %12s %12s\n' "case" "instar amend" "qemu-img amend" "ratio" "RSS instar" "RSS qemu-img"
for row in "${results[@]}"; do
	IFS='|' read -r label mi si mq sq ri rq <<<"$row"
	if [ "$si" = "-" ] || [ "$mi" = refused ]; then
		printf '%-28s %18s %18s %8s %12s %12s\n' "$label" "$mi" "$mq" "-" "-" "-"
		continue
	fi
	awk -v l="$label" -v mi="$mi" -v si="$si" -v mq="$mq" -v sq="$sq" -v ri="$ri" -v rq="$rq" 'BEGIN{
		printf "%-28s %9.2f ± %4.2f ms %9.2f ± %4.2f ms %7.2fx %9d KiB %9d KiB\n",
			l, mi*1000, si*1000, mq*1000, sq*1000, mi/mq, ri, rq }'
done
echo
echo "ratio = instar mean / qemu-img mean (below 1: instar is faster)."
