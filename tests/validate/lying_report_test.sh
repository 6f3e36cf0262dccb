#!/bin/bash
# lying_report_test.sh — the real instar info/check flow (lockdown,
# sandbox, report checks, printers) with a compromised guest:
# instar_replay_report embeds replay_report instead of guest.bin, a guest
# that hands the host whatever report report_forge appended to the image,
# under the length and status it chose. Each lie must be refused with its
# message, nothing on stdout and the file unchanged; the honest replays
# must be accepted and printed, which proves the refusals are the host's
# checks and not the guest failing.
#
# Usage: lying_report_test.sh INSTAR_REPLAY_REPORT REPORT_FORGE
# One JUnit testcase per check in $XML_OUTPUT_FILE.
set -u

INSTAR=$(readlink -f "$1")
FORGE=$(readlink -f "$2")
command -v qemu-img >/dev/null || { echo "lying_report_test: qemu-img missing" >&2; exit 1; }
[ -r /dev/kvm ] || echo "lying_report_test: /dev/kvm is missing: every case will FAIL" >&2

JUNIT=$(readlink -f "${JUNIT_SH:?}")
WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/lyingrep.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
# shellcheck source=tests/lib/junit.sh
source "$JUNIT"
junit_init lying_report "$WORK"

MALFORMED="the sandboxed guest's report is malformed"
CONTRADICTS="the sandboxed guest's report contradicts the image header the host read; nothing was printed"

# run CMD SCENARIO: a fresh 64 MiB image with the scenario appended, then
# `instar CMD` on it; leaves rc, out, err, and "changed" set when the
# file's bytes moved.
run() {
	rm -f img.qcow2
	qemu-img create -q -f qcow2 img.qcow2 64M || return 1
	"$FORGE" "$2" img.qcow2 || return 1
	sha256sum <img.qcow2 >sum.before
	timeout -k 5 60 "$INSTAR" "$1" img.qcow2 </dev/null >out 2>err
	rc=$?
	changed=""
	sha256sum <img.qcow2 | cmp -s - sum.before || changed=1
}

# refused CMD SCENARIO WANT_STDERR: exit 1, stdout empty, stderr exactly
# "instar CMD: WANT_STDERR", the file unchanged.
refused() {
	local msg=""
	if ! run "$1" "$2"; then
		record "$1/$2" 1 "could not make the image"
		return
	fi
	[ "$rc" = 1 ] || msg="exit $rc, want 1. "
	[ ! -s out ] || msg+="stdout: $(head -c 300 out). "
	[ "$(cat err)" = "instar $1: $3" ] || msg+="stderr: $(head -c 300 err). "
	[ -z "$changed" ] || msg+="the image was written. "
	record "$1/$2" "$([ -z "$msg" ] && echo 0 || echo 1)" "$msg"
}

# accepted CMD SCENARIO RC FIRST_LINE: the honest replay is printed.
accepted() {
	local msg=""
	if ! run "$1" "$2"; then
		record "$1/$2" 1 "could not make the image"
		return
	fi
	[ "$rc" = "$3" ] || msg="exit $rc, want $3 (stderr: $(head -c 300 err)). "
	[ "$(grep -m1 . out)" = "$4" ] || msg+="stdout: $(head -c 300 out). "
	[ -z "$changed" ] || msg+="the image was written. "
	record "$1/$2" "$([ -z "$msg" ] && echo 0 || echo 1)" "$msg"
}

# Every scenario the forge knows is used below: a new one must be added.
for s in $("$FORGE" --list); do
	grep -q "[ /]$s\b" "$0" || record "scenario/$s" 1 "report_forge's scenario $s is not tested"
done

accepted info honest_info 0 "image: img.qcow2"
accepted check honest_check 0 "No errors were found on the image."
# 30000 findings: 1.3 MB of stderr written under the seccomp policy.
accepted check many_findings 3 "30000 leaked clusters were found on the image."
if [ "$(grep -c '^Leaked cluster' err)" != 30000 ]; then
	record "check/many_findings/stderr" 1 "$(grep -c '^Leaked cluster' err) leak lines, want 30000"
else
	record "check/many_findings/stderr" 0 ""
fi

refused info size_lie "$CONTRADICTS"
refused info version_lie "$CONTRADICTS"
refused info snapshot_invented "$CONTRADICTS"
refused info field_range "$MALFORMED (a field out of range); nothing was printed"
refused info no_end "$MALFORMED (no end record); nothing was printed"
refused info trailing "$MALFORMED (bytes after the end record); nothing was printed"
refused info replayed_flush "$MALFORMED (bytes after the end record); nothing was printed"
refused info bad_length "$MALFORMED (a malformed record); nothing was printed"
refused info claims_less "$MALFORMED (a malformed record); nothing was printed"
refused info out_of_order "$MALFORMED (records out of order); nothing was printed"
refused info end_miscounts "$MALFORMED (counts that disagree); nothing was printed"
refused check check_totals_lie "$MALFORMED (counts that disagree); nothing was printed"
refused check check_of_info "$MALFORMED (records out of order); nothing was printed"
refused info claims_past_region "the sandboxed guest broke the report protocol; nothing was written"
refused info flood "the image has more findings than instar's report ceiling holds; nothing was written"
refused info status_io "the sandboxed guest could not inspect the image (a read failed)"
refused info status_unknown "the sandboxed guest could not inspect the image (unknown status)"
refused info writes_disk "the sandboxed guest tried to write to an image it may only read; nothing was written"
refused check writes_disk "the sandboxed guest tried to write to an image it may only read; nothing was written"

# A flush in a run without a report region (a header-only amend: only a
# downgrade of a version 3 image has one, for its list of tables with
# zero entries) is a doorbell that run does not have (abi/guest_abi.h):
# refused, and the amend writes nothing.
rm -f img.qcow2
qemu-img create -q -f qcow2 -o compat=1.1 img.qcow2 64M
"$FORGE" replayed_flush img.qcow2
cp img.qcow2 before
timeout -k 5 60 "$INSTAR" amend -o lazy_refcounts=on img.qcow2 </dev/null >out 2>err
rc=$?
msg=""
[ "$rc" = 1 ] || msg="exit $rc, want 1. "
[ ! -s out ] || msg+="stdout: $(head -c 300 out). "
[ "$(cat err)" = "instar amend: the sandboxed guest broke the device protocol; nothing was written" ] ||
	msg+="stderr: $(head -c 300 err). "
cmp -s img.qcow2 before || msg+="the image was written. "
record "amend/flush_without_region" "$([ -z "$msg" ] && echo 0 || echo 1)" "$msg"

junit_finish
