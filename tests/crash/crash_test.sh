#!/bin/bash
# crash_test.sh — crash consistency of instar's commit (src/image/commit.c).
#
# For each transition (v2->v3 with/without backing file + backing format,
# v3->v2, lazy_refcounts on/off, 512 B / 1, 2, 4 and 64 KiB clusters, backing
# names long enough to force the relocation path) it:
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
info_of() {
	qemu-img info --output=json "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for k in ("filename", "actual-size", "full-backing-filename"):
    d.pop(k, None)
print(json.dumps(d, sort_keys=True))'
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

junit_finish
