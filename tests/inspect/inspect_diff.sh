#!/bin/bash
# inspect_diff.sh — `instar info` / `instar check` against the qemu-img
# releases they imitate, run side by side on the same files: the corpus
# is made afresh (make_info_images.py / make_check_images.py), and every
# run of its runs.txt is made once with each oracle (qemu-img 5.2, 7.2,
# 10.0, 11.1 from scripts/install-oracles.sh) and once with
# `instar --qemu-compat VERSION`, the same options, directory, argument,
# time zone, user and lock holders. stdout, stderr and the exit status
# must be byte-identical.
#
# A run that known_divergences.txt names (instar differs on purpose: see
# docs/info.md and docs/check.md) must still differ: it is reported as a
# skipped case "... (known-divergence)" with the reason, and FAILS if the
# outputs agree (a stale entry). An entry that matches no run fails too.
# A missing oracle FAILS (never skips): install them with
# scripts/install-oracles.sh.
#
# Usage: inspect_diff.sh KIND INSTAR GENERATOR LOCKHOLD KNOWN [EVERY]
#   KIND       info | check
#   GENERATOR  make_info_images.py / make_check_images.py
#   LOCKHOLD   lockhold.py
#   KNOWN      known_divergences.txt
#   EVERY      run every EVERY-th line of runs.txt (default 1: all)
# Env: INSTAR_ORACLES (default /var/cache/instar-oracles).
# One JUnit testcase per run and version in $XML_OUTPUT_FILE.
set -u
shopt -s extglob

KIND=$1
INSTAR=$(readlink -f "$2")
GEN=$(readlink -f "$3")
LOCKHOLD=$(readlink -f "$4")
KNOWN=$(readlink -f "$5")
EVERY=${6:-1}
ORACLES=${INSTAR_ORACLES:-/var/cache/instar-oracles}/bin
VERSIONS=(5.2 7.2 10.0 11.1)

JUNIT=$(readlink -f "${JUNIT_SH:?}")
# shellcheck source=tests/lib/junit.sh
source "$JUNIT"

# The corpus lives in /tmp, not in the test's private directory: two runs
# are made as user nobody, who must reach the files (and the binary).
WORK=$(mktemp -d /tmp/instar-inspect.XXXXXX) || exit 1
holder_pid=""
cleanup() {
	[ -z "$holder_pid" ] || kill "$holder_pid" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
chmod 755 "$WORK"
junit_init "inspect_$KIND" "$WORK"
mkdir -p "$WORK/bin" "$WORK/res"
cp "$INSTAR" "$WORK/bin/instar"
chmod 755 "$WORK/bin/instar"
INSTAR=$WORK/bin/instar
DIR=$WORK/corpus

for t in python3 setpriv /usr/bin/qemu-io; do
	command -v "$t" >/dev/null ||
		{ record "setup/$t" 1 "$t is missing: install qemu-utils, util-linux, python3"; junit_finish; exit 1; }
done
missing=()
for v in "${VERSIONS[@]}"; do
	[ -x "$ORACLES/qemu-img-$v" ] || missing+=("$v")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "inspect_diff: ORACLES MISSING: qemu-img ${missing[*]} not in $ORACLES: run scripts/install-oracles.sh" >&2
	for v in "${missing[@]}"; do
		record "setup/oracle qemu-img-$v" 1 "$ORACLES/qemu-img-$v is missing: run scripts/install-oracles.sh"
	done
	junit_finish
	exit 1
fi

if ! python3 "$GEN" "$DIR" >"$WORK/gen.log" 2>&1; then
	record "setup/generate the corpus" 1 "$(tail -20 "$WORK/gen.log")"
	junit_finish
	exit 1
fi
sync
chmod 755 "$DIR"
DIGEST=$(readlink -f "$(dirname "$GEN")/qcow2_build.py")
python3 "$DIGEST" --digest "$DIR" >"$WORK/digest.before" 2>&1 ||
	record "setup/digest" 1 "$(tail -5 "$WORK/digest.before")"

# The known divergences: KIND NAME-GLOB VARIANT-GLOB VERSIONS REASON
# (tab-separated; VERSIONS "*" or a comma list).
known_kind=() known_name=() known_variant=() known_versions=() known_reason=()
while IFS=$'\t' read -r k n va ve reason; do
	case $k in '' | '#'*) continue ;; esac
	[ "$k" = "$KIND" ] || continue
	known_kind+=("$k") known_name+=("$n") known_variant+=("$va")
	known_versions+=("$ve") known_reason+=("$reason")
done <"$KNOWN"
declare -a known_hits
for i in "${!known_kind[@]}"; do known_hits[i]=0; done

# known NAME VARIANT VERSION: the index of the entry that names the run.
known() {
	local i
	for i in "${!known_kind[@]}"; do
		# shellcheck disable=SC2053 # the table's fields are globs
		[[ $1 == ${known_name[i]} && $2 == ${known_variant[i]} ]] || continue
		if [ "${known_versions[i]}" = "*" ] || [[ ",${known_versions[i]}," == *",$3,"* ]]; then
			echo "$i"
			return 0
		fi
	done
	return 1
}

BASE_ENV=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C)
for var in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
	[ -z "${!var:-}" ] || BASE_ENV+=("$var=${!var}")
done

# one TOOL VERSION TAG: run the line's command with TOOL into res/TAG.*
# (cwd, arg, opts, tz, wrap set by the caller).
one() {
	local tool=$1 v=$2 tag=$3 cmd
	if [ "$tool" = qemu ]; then
		cmd=("$ORACLES/qemu-img-$v" "$KIND")
	else
		cmd=("$INSTAR" "$KIND" --qemu-compat "$v")
	fi
	(cd "$DIR/$cwd" && exec "${BASE_ENV[@]}" "TZ=$tz" "${wrap[@]}" \
		"${cmd[@]}" "${opts[@]}" "$arg") </dev/null \
		>"$WORK/res/$tag.out" 2>"$WORK/res/$tag.err"
	echo $? >"$WORK/res/$tag.rc"
}

# Start qemu-io holding the argument's file open (rw or ro), from the
# run's directory; its stdin is a pipe kept open until stop_holder.
start_holder() {
	local ro=() fmt=qcow2
	[ "$1" = ro ] && ro=(-r)
	case $arg in *.raw) fmt=raw ;; esac
	mkfifo "$WORK/holder.in"
	(cd "$DIR/$cwd" && exec /usr/bin/qemu-io -f "$fmt" "${ro[@]}" "$arg" \
		<"$WORK/holder.in" >/dev/null 2>&1) &
	holder_pid=$!
	exec 9>"$WORK/holder.in"
	sleep 0.5
}
stop_holder() {
	exec 9>&-
	wait "$holder_pid" 2>/dev/null
	holder_pid=""
	rm -f "$WORK/holder.in"
}

show_diff() { # TAG_A TAG_B: what differs, cut short
	local s
	for s in rc out err; do
		cmp -s "$WORK/res/$1.$s" "$WORK/res/$2.$s" && continue
		printf -- '--- %s: qemu-img | instar\n' "$s"
		diff "$WORK/res/$1.$s" "$WORK/res/$2.$s" | head -20
	done
}

n=0
while IFS=$'\t' read -r name variant cwd arg mode; do
	n=$((n + 1))
	[ $(((n - 1) % EVERY)) -eq 0 ] || continue
	printf -v cwd '%b' "$cwd"
	printf -v arg '%b' "$arg"
	arg=${arg/#@DIR@/$DIR}
	opts=() wrap=() tz=UTC holder=""
	IFS=+ read -ra tokens <<<"${mode#-}"
	for t in "${tokens[@]}"; do
		case $t in
		f=*) opts+=(-f "${t#f=}") ;;
		U) opts+=(-U) ;;
		force-share) opts+=(--force-share) ;;
		q) opts+=(-q) ;;
		output=*) opts+=("--output=${t#output=}") ;;
		output_sep=*) opts+=(--output "${t#output_sep=}") ;;
		TZ=*) tz=${t#TZ=} ;;
		nobody) wrap+=(setpriv --reuid=65534 --regid=65534 --clear-groups) ;;
		ofdlock=*) wrap+=(python3 "$LOCKHOLD" --ofd "$arg" "${t#ofdlock=}") ;;
		posixlock=*) wrap+=(python3 "$LOCKHOLD" --posix "$arg" "${t#posixlock=}") ;;
		qemu-io=*) holder=${t#qemu-io=} ;;
		*) record "$name/$variant" 1 "runs.txt: unknown mode token '$t'"; continue 2 ;;
		esac
	done
	[ -z "$holder" ] || start_holder "$holder"
	for v in "${VERSIONS[@]}"; do
		case_name="$name/$variant qemu-img-$v"
		one instar "$v" i
		one qemu "$v" q
		same=1
		for s in rc out err; do
			cmp -s "$WORK/res/q.$s" "$WORK/res/i.$s" || same=0
		done
		if idx=$(known "$name" "$variant" "$v"); then
			known_hits[idx]=$((known_hits[idx] + 1))
			if [ "$same" = 1 ]; then
				record "$case_name" 1 "STALE known divergence (${known_name[idx]} ${known_variant[idx]} ${known_versions[idx]}): instar now prints what qemu-img prints"
			else
				junit_case "$case_name (known-divergence)" skip "${known_reason[idx]}" 0 \
					"$(show_diff q i)"
				echo "SKIP $case_name (known-divergence): ${known_reason[idx]}"
			fi
		elif [ "$same" = 1 ]; then
			record "$case_name" 0 ""
		else
			record "$case_name" 1 "instar differs from qemu-img $v:
$(show_diff q i)"
		fi
	done
	[ -z "$holder" ] || stop_holder
done <"$DIR/runs.txt"

# Every entry must still name a run (a whole run only: a sampled one may
# miss some).
if [ "$EVERY" = 1 ]; then
	for i in "${!known_kind[@]}"; do
		[ "${known_hits[i]}" -gt 0 ] && continue
		record "known_divergences/${known_name[i]} ${known_variant[i]} ${known_versions[i]}" 1 \
			"stale entry: it names no run of the $KIND corpus"
	done
fi

# Neither tool may have changed a byte of the corpus.
if python3 "$DIGEST" --digest "$DIR" | cmp -s - "$WORK/digest.before"; then
	record "corpus unchanged" 0 ""
else
	record "corpus unchanged" 1 "the corpus changed during the runs:
$(python3 "$DIGEST" --digest "$DIR" | diff "$WORK/digest.before" - | head -20)"
fi
junit_finish
