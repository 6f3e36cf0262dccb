#!/bin/bash
# crash_test.sh — crash consistency of instar's writes: the header commit
# (src/image/commit.c) and the zero-cluster expansion of a downgrade
# (src/image/expand.c, expand_file.c), which runs before it.
#
# Header-only transitions (v2->v3 with/without backing file + backing
# format, v3->v2, lazy_refcounts on/off, 512 B / 1, 2, 4 and 64 KiB
# clusters, backing names long enough to force the relocation path); for
# each it:
#   1. builds the image with qemu-img and writes known data with qemu-io;
#   2. records `qemu-img info` of the old state, and of the new state as
#      `qemu-img amend` produces it; runs the commit to the end through the
#      test-only driver (commit_crash_driver, linked with the commit's
#      fault-injection build) and requires the same info as qemu-img amend
#      and a clean check: N = the number of pwrites it made;
#   3. for every k in 1..N, on a fresh copy, stops the commit right after
#      its k-th pwrite (no fdatasync, nothing later) and requires
#      `qemu-img check` exit 0, `qemu-img info` equal to the old or the new
#      state, and the data written in step 1 still readable.
# Cases marked "single" must commit with exactly one pwrite.
#
# Zero-cluster downgrades (v3 -> v2 of images with zero clusters: no
# backing file, a backing file, 512-byte clusters with new refcount
# blocks, zero clusters sharing their host cluster with an internal
# snapshot, snapshot + backing file): the driver runs the expansion and
# then the commit, and the fault point counts the writes of both. After
# the full run: `qemu-img check` clean, `qemu-img info` equal to
# qemu-img amend's result, the expansion did what the case is built for
# (its counts, from the driver), content as below. For every k in 1..N,
# on a fresh copy:
#   - `qemu-img check` exits 0 (clean) or 3 (leaked clusters only; a
#     crash between the refcount and the L2 phases leaks new clusters),
#     never 2 (corruption) or 1;
#   - `qemu-img compare` with the ORIGINAL image: identical (what the
#     guest sees never changes, even half-way);
#   - every internal snapshot reads as the original's (raw conversions
#     with -l snapshot.name=NAME compared);
#   - `qemu-img info` equals the old state (compat 1.1) while the stop is
#     inside the expansion, the old or the new one (compat 0.10) once it
#     is in the commit.
#
# One JUnit testcase per (case, k) in $XML_OUTPUT_FILE.
#
# Usage: crash_test.sh DRIVER
set -u

DRIVER=$1
command -v qemu-img >/dev/null || { echo "qemu-img missing" >&2; exit 1; }
command -v qemu-io >/dev/null || { echo "qemu-io missing" >&2; exit 1; }

WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/crash.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=tests/lib/junit.sh
source "${JUNIT_SH:?}"
junit_init crash "$WORK"

# qemu-img info without what differs between copies (name, allocation).
# qemu-img prints one key a line in a fixed order: dropping those lines
# is enough to compare two outputs (and, unlike a python3 filter, cheap
# enough to run once per k on the zero-cluster cases' hundreds of k).
info_of() {
	qemu-img info --output=json "$1" |
		grep -v -e '^ *"filename":' -e '^ *"actual-size":' \
			-e '^ *"full-backing-filename":'
}

long_name() {   # a relative backing name of about N bytes naming base.qcow2
	local n=$1 s=""
	while [ ${#s} -lt "$n" ]; do s="$s./"; done
	printf '%sbase.qcow2' "$s"
}

# name | create -o options | backing name ("" none) | amend -o | single?
CASES=(
	"v2to3_64k|compat=0.10,cluster_size=65536||compat=1.1|single"
	"v2to3_64k_backing|compat=0.10,cluster_size=65536|base.qcow2|compat=1.1|multi"
	"v2to3_64k_backing_lazy|compat=0.10,cluster_size=65536|base.qcow2|compat=1.1,lazy_refcounts=on|multi"
	"v2to3_64k_longbacking|compat=0.10,cluster_size=65536|LONG450|compat=1.1|multi"
	"v2to3_4k_backing|compat=0.10,cluster_size=4096|base.qcow2|compat=1.1|any"
	"v2to3_4k_longbacking|compat=0.10,cluster_size=4096|LONG450|compat=1.1|multi"
	"v2to3_2k_longbacking|compat=0.10,cluster_size=2048|LONG450|compat=1.1|multi"
	"v3to2_1k_backing|compat=1.1,cluster_size=1024|base.qcow2|compat=0.10|any"
	"v2to3_512_backing|compat=0.10,cluster_size=512|base.qcow2|compat=1.1|single"
	"v2to3_512|compat=0.10,cluster_size=512||compat=1.1,lazy_refcounts=on|single"
	"v3to2_64k|compat=1.1,cluster_size=65536||compat=0.10|any"
	"v3to2_64k_backing|compat=1.1,cluster_size=65536|base.qcow2|compat=0.10|any"
	"v3to2_64k_lazy_backing|compat=1.1,cluster_size=65536,lazy_refcounts=on|base.qcow2|compat=0.10|any"
	"v3to2_64k_longbacking|compat=1.1,cluster_size=65536|LONG450|compat=0.10|multi"
	"v3to2_4k_longbacking|compat=1.1,cluster_size=4096|LONG450|compat=0.10|multi"
	"v3to2_512_backing|compat=1.1,cluster_size=512|base.qcow2|compat=0.10|single"
	"lazy_on_64k|compat=1.1,cluster_size=65536||lazy_refcounts=on|single"
	"lazy_off_64k_backing|compat=1.1,cluster_size=65536,lazy_refcounts=on|base.qcow2|lazy_refcounts=off|single"
	"lazy_on_512|compat=1.1,cluster_size=512|base.qcow2|lazy_refcounts=on|single"
	"lazy_off_512|compat=1.1,cluster_size=512,lazy_refcounts=on||lazy_refcounts=off|single"
)

qemu-img create -q -f qcow2 "$WORK/base.qcow2" 64M || exit 1
qemu-io -c 'write -q -P 0x33 1M 64k' "$WORK/base.qcow2" >/dev/null || exit 1

for c in "${CASES[@]}"; do
	IFS='|' read -r name copts backing aopts kind <<<"$c"
	orig="$WORK/$name.orig.qcow2"
	bargs=()
	if [ "$backing" = LONG450 ]; then
		backing=$(long_name 440)
	fi
	if [ -n "$backing" ]; then
		bargs=(-b "$backing" -F qcow2)
	fi
	if ! out=$( (cd "$WORK" && qemu-img create -q -f qcow2 -o "$copts" \
			"${bargs[@]}" "$orig" 64M && \
		    qemu-io -c 'write -q -P 0x5a 0 128k' "$orig") 2>&1 ); then
		record "$name/setup" 1 "cannot build image: $out"
		continue
	fi
	before=$(info_of "$orig")
	cp "$orig" "$WORK/ref.qcow2"
	if ! out=$(qemu-img amend -o "$aopts" "$WORK/ref.qcow2" 2>&1); then
		record "$name/setup" 1 "qemu-img amend failed: $out"
		continue
	fi
	after=$(info_of "$WORK/ref.qcow2")
	if [ "$before" = "$after" ]; then
		record "$name/setup" 1 "transition changes nothing qemu-img info shows"
		continue
	fi

	# The whole commit.
	cp "$orig" "$WORK/full.qcow2"
	out=$("$DRIVER" "$WORK/full.qcow2" "$aopts" 0 2>&1)
	rc=$?
	n=$(printf '%s\n' "$out" | sed -n 's/^writes=\([0-9]*\) .*/\1/p')
	msg=""
	if [ $rc -ne 0 ] || [ -z "$n" ]; then
		msg="driver rc=$rc: $out"
	elif [ "$n" -lt 1 ]; then
		msg="commit made no write: $out"
	elif [ "$kind" = single ] && [ "$n" -ne 1 ]; then
		msg="expected exactly one pwrite, got: $out"
	elif [ "$kind" = multi ] && [ "$n" -lt 2 ]; then
		msg="expected a multi-step commit (case would not test ordering): $out"
	elif ! chk=$(qemu-img check "$WORK/full.qcow2" 2>&1); then
		msg="qemu-img check failed after full commit: $chk"
	elif [ "$(info_of "$WORK/full.qcow2")" != "$after" ]; then
		msg="info after full commit differs from qemu-img amend:
$(info_of "$WORK/full.qcow2")
vs
$after"
	fi
	if [ -n "$msg" ]; then
		record "$name/full" 1 "$msg"
		continue
	fi
	record "$name/full ($n writes: $out)" 0 ""

	for k in $(seq 1 "$n"); do
		img="$WORK/k.qcow2"
		cp "$orig" "$img"
		out=$("$DRIVER" "$img" "$aopts" "$k" 2>&1)
		rc=$?
		msg=""
		if [ $rc -ne 0 ]; then
			msg="driver rc=$rc: $out"
		elif ! printf '%s\n' "$out" | grep -q "^writes=$k .*complete=0"; then
			msg="the commit did not stop after write $k: $out"
		elif ! chk=$(qemu-img check "$img" 2>&1); then
			msg="qemu-img check failed: $chk"
		elif ! rd=$(qemu-io -c 'read -q -P 0x5a 0 128k' "$img" 2>&1) || \
		     [ -n "$rd" ]; then
			msg="data not readable: $rd"
		else
			now=$(info_of "$img")
			if [ "$now" = "$before" ]; then
				state=old
			elif [ "$now" = "$after" ]; then
				state=new
			else
				msg="info is neither the old nor the new state:
$now
old: $before
new: $after"
			fi
		fi
		if [ -n "$msg" ]; then
			record "$name/crash_after_write_$k" 1 "$msg"
		else
			record "$name/crash_after_write_$k (state: $state)" 0 ""
		fi
	done
done

# ---- Zero-cluster downgrades: the expansion, then the commit ----
#
# name | create -o options | backing name ("" none) | setup | expect
# Every image is 8 MiB, amended with compat=0.10. setup: steps separated
# by ";", each "io:CMD" (qemu-io -c CMD) or "snap:NAME" (qemu-img
# snapshot -c NAME). expect: the counts of the driver's "expand:" line
# that must be above 0 after the full run, so that a case cannot quietly
# stop testing what it is built for (unallocated: plain zero entries
# cleared; zeroed: kept clusters filled with zeros; new: new clusters of
# zeros over a backing file; detached: entries detached from a cluster a
# snapshot shares; new_blocks: new refcount blocks).
# Runtime: every k costs a copy and five or so qemu-img runs. A cluster
# of zeros (zeroed in place, or new) is one write where the file system
# takes fallocate(FALLOC_FL_ZERO_RANGE) (ext4, xfs) and one per 512-byte
# sector where it does not (tmpfs: 128 for 64 KiB clusters), so N
# depends on where TEST_TMPDIR lies: on ext4 3, 5, 95, 4, 11, 11 (about
# 130 k in all, some 6 s), on tmpfs 130, 132, 95, 131, 53, 53 (about
# 600 k, some 40 s). Each case therefore zeroes only a cluster or two of
# 64 KiB.
# zero_512_backing: 512-byte clusters, a refcount block covers 256
# clusters (128 KiB of file); 120 KiB of data end the file just short of
# that, so the new clusters need a new block. Its zero ranges stay small
# (40 KiB + 4 KiB: one write per new or zeroed 512-byte cluster on any
# file system) to keep N under a hundred.
# zero_4k_tables: four L2 tables (2 MiB each with 4 KiB clusters) with
# zero entries, so that a crash can fall between the rewrites of two.
ZCASES=(
	"zero_64k|compat=1.1,cluster_size=65536||io:write -P 0x5a 0 128k;io:write -z 1M 128k;io:write -z 0 64k|unallocated,zeroed"
	"zero_64k_backing|compat=1.1,cluster_size=65536|base.qcow2|io:write -P 0x5a 0 128k;io:write -z 1M 64k|new"
	"zero_512_backing|compat=1.1,cluster_size=512|base.qcow2|io:write -P 0x5a 0 120k;io:write -z 1M 40k;io:write -z 0 4k|new,zeroed,new_blocks"
	"zero_64k_snapshot|compat=1.1,cluster_size=65536||io:write -P 0x5a 0 128k;snap:s1;io:write -z 0 64k;io:write -z 1M 64k;io:write -P 0x77 3M 64k;io:write -z 3M 64k;snap:s2|detached,unallocated,zeroed"
	"zero_4k_tables|compat=1.1,cluster_size=4096||io:write -P 0x5a 0 128k;io:write -z 0 16k;io:write -z 2M 64k;io:write -P 0x6b 4M 8k;io:write -z 4M 8k;io:write -z 6M 4k|unallocated,zeroed"
	"zero_4k_snapshot_backing|compat=1.1,cluster_size=4096|base.qcow2|io:write -P 0x5a 0 128k;io:write -P 0x66 1M 16k;snap:s1;io:write -z 1M 16k;io:write -z 0 8k|detached"
)
ZOPTS=compat=0.10

# build_zero IMAGE CREATE_OPTS BACKING SETUP (in $WORK: relative backing)
build_zero() {
	local img=$1 copts=$2 backing=$3 setup=$4 step
	local -a bargs=() steps=()
	if [ -n "$backing" ]; then
		bargs=(-b "$backing" -F qcow2)
	fi
	(cd "$WORK" && qemu-img create -q -f qcow2 -o "$copts" "${bargs[@]}" \
		"$img" 8M) || return 1
	IFS=';' read -ra steps <<<"$setup"
	for step in "${steps[@]}"; do
		case $step in
		io:*)
			qemu-io -c "${step#io:}" "$img" >/dev/null || return 1 ;;
		snap:*)
			qemu-img snapshot -c "${step#snap:}" "$img" || return 1 ;;
		*)
			echo "bad setup step: $step" >&2
			return 1 ;;
		esac
	done
}

# expand_count LINE KEY: KEY's number in the driver's "expand:" line.
expand_count() {
	printf '%s\n' "$1" | sed -n "s/^expand: .* $2=\([0-9]*\).*/\1/p"
}

# zero_content ORIG IMG SNAPDIR: empty when IMG reads as ORIG (guest
# view and every snapshot, whose raw copies of ORIG are in SNAPDIR),
# else what differs.
zero_content() {
	local orig=$1 img=$2 dir=$3 sn out
	if ! out=$(qemu-img compare -f qcow2 -F qcow2 "$orig" "$img" 2>&1); then
		printf 'qemu-img compare with the original: %s\n' "$out"
		return
	fi
	for sn in $(qemu-img snapshot -l "$orig" | awk 'NR > 2 { print $2 }'); do
		rm -f "$dir/now.raw"
		if ! out=$(qemu-img convert -O raw -l "snapshot.name=$sn" \
				"$img" "$dir/now.raw" 2>&1); then
			printf 'snapshot %s unreadable: %s\n' "$sn" "$out"
		elif ! cmp -s "$dir/$sn.raw" "$dir/now.raw"; then
			printf 'snapshot %s reads differently from the original'"'"'s\n' "$sn"
		fi
	done
}

# check_zero IMG: sets chk_state (clean|leaks) or returns 1 with
# chk_msg: exit 0 or 3 (leaked clusters only), never 2 or 1.
check_zero() {
	local out rc
	out=$(qemu-img check "$1" 2>&1)
	rc=$?
	case $rc in
	0) chk_state=clean ;;
	3) chk_state=leaks ;;
	*)
		chk_msg="qemu-img check exit $rc: $out"
		return 1 ;;
	esac
}

compat_of() {
	sed -n 's/^ *"compat": "\([^"]*\)".*/\1/p' <<<"$1"
}

for c in "${ZCASES[@]}"; do
	IFS='|' read -r name copts backing setup expect <<<"$c"
	orig="$WORK/$name.orig.qcow2"
	sdir="$WORK/$name.snaps"
	mkdir -p "$sdir"
	if ! out=$(build_zero "$orig" "$copts" "$backing" "$setup" 2>&1); then
		record "$name/setup" 1 "cannot build image: $out"
		continue
	fi
	msg=""
	for sn in $(qemu-img snapshot -l "$orig" | awk 'NR > 2 { print $2 }'); do
		if ! out=$(qemu-img convert -O raw -l "snapshot.name=$sn" \
				"$orig" "$sdir/$sn.raw" 2>&1); then
			msg="cannot read snapshot $sn: $out"
		fi
	done
	if [ -n "$msg" ]; then
		record "$name/setup" 1 "$msg"
		continue
	fi
	before=$(info_of "$orig")
	cp "$orig" "$WORK/ref.qcow2"
	if ! out=$(qemu-img amend -o "$ZOPTS" "$WORK/ref.qcow2" 2>&1); then
		record "$name/setup" 1 "qemu-img amend failed: $out"
		continue
	fi
	after=$(info_of "$WORK/ref.qcow2")
	if [ "$(compat_of "$before")" != 1.1 ] || [ "$(compat_of "$after")" != 0.10 ]; then
		record "$name/setup" 1 "not a 1.1 -> 0.10 transition:
$before
$after"
		continue
	fi

	# The whole expansion and commit.
	cp "$orig" "$WORK/full.qcow2"
	out=$("$DRIVER" "$WORK/full.qcow2" "$ZOPTS" 0 2>&1)
	rc=$?
	n=$(printf '%s\n' "$out" | sed -n 's/^writes=\([0-9]*\) .*complete=1.*/\1/p')
	ex=$(printf '%s\n' "$out" | grep '^expand: ')
	ew=$(expand_count "$ex" writes)
	msg=""
	if [ $rc -ne 0 ] || [ -z "$n" ]; then
		msg="driver rc=$rc: $out"
	elif [ -z "$ew" ] || [ "$ew" -lt 1 ] || [ "$n" -le "$ew" ]; then
		msg="expected an expansion (writes) and then a commit: $out"
	else
		IFS=',' read -ra keys <<<"$expect"
		for key in "${keys[@]}"; do
			v=$(expand_count "$ex" "$key")
			if [ -z "$v" ] || [ "$v" -lt 1 ]; then
				msg="the expansion made no '$key' (the case no longer tests it): $out"
			fi
		done
	fi
	if [ -z "$msg" ]; then
		if ! chk=$(qemu-img check "$WORK/full.qcow2" 2>&1); then
			msg="qemu-img check not clean after the full run: $chk"
		elif [ "$(info_of "$WORK/full.qcow2")" != "$after" ]; then
			msg="info after the full run differs from qemu-img amend:
$(info_of "$WORK/full.qcow2")
vs
$after"
		else
			msg=$(zero_content "$orig" "$WORK/full.qcow2" "$sdir")
		fi
	fi
	if [ -n "$msg" ]; then
		record "$name/full" 1 "$msg"
		continue
	fi
	record "$name/full ($n writes, $ew of them the expansion's: ${out//$'\n'/; })" 0 ""

	for k in $(seq 1 "$n"); do
		img="$WORK/k.qcow2"
		cp "$orig" "$img"
		out=$("$DRIVER" "$img" "$ZOPTS" "$k" 2>&1)
		rc=$?
		msg=""
		where=commit
		[ "$k" -le "$ew" ] && where=expansion
		if [ $rc -ne 0 ]; then
			msg="driver rc=$rc: $out"
		elif ! printf '%s\n' "$out" | grep -q "^writes=$k .*complete=0"; then
			msg="the run did not stop after write $k: $out"
		elif ! check_zero "$img"; then
			msg=$chk_msg
		else
			msg=$(zero_content "$orig" "$img" "$sdir")
		fi
		if [ -z "$msg" ]; then
			now=$(info_of "$img")
			if [ "$now" = "$before" ]; then
				state=old
			elif [ "$now" = "$after" ] && [ $where = commit ]; then
				state=new
			else
				# Inside the expansion the header is the old
				# one; only the commit may switch it.
				msg="info (compat $(compat_of "$now")) after a stop in the $where is not the old state"
				[ $where = commit ] && msg="$msg nor the new one"
				msg="$msg:
$now
old: $before
new: $after"
			fi
		fi
		if [ -n "$msg" ]; then
			record "$name/crash_after_write_$k (in the $where)" 1 "$msg"
		else
			record "$name/crash_after_write_$k (in the $where; state: $state, compat $(compat_of "$now"); check: $chk_state)" 0 ""
		fi
	done
done

junit_finish
