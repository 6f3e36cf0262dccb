#!/bin/bash
# lying_guest_test.sh — the real instar host flow (lockdown, sandbox,
# validator, commit) with a compromised guest: instar_replay_tail embeds
# replay_tail instead of guest.bin, a guest that writes over the header
# cluster whatever cluster the test appended to the image file and reports
# the amend that was asked for. Each lie must be refused with the
# validator's message and leave the file byte-identical; the same guest
# replaying the honest header (the planner's) must be accepted, which
# proves the refusals are the validator's doing.
#
# Usage: lying_guest_test.sh INSTAR_REPLAY_TAIL PLAN_APPLY QCOW2_HDR_PY
# One JUnit testcase per check in $XML_OUTPUT_FILE.
set -u

INSTAR=$(readlink -f "$1")
PLAN=$(readlink -f "$2")
HDR=$(readlink -f "$3")
for t in qemu-img python3; do
	command -v "$t" >/dev/null || { echo "lying_guest_test: $t missing" >&2; exit 1; }
done
[ -r /dev/kvm ] || echo "lying_guest_test: /dev/kvm is missing: every case will FAIL" >&2

JUNIT=$(readlink -f "${JUNIT_SH:?}")
WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/lying.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
# shellcheck source=tests/lib/junit.sh
source "$JUNIT"
junit_init lying_guest "$WORK"

M_NOT_EXPECTED="instar amend: the header the sandboxed guest wrote is not the one the host computes for this request; nothing was written"

cluster_size() { # FILE
	python3 -c 'import struct,sys; f=open(sys.argv[1],"rb"); f.seek(20); print(1 << struct.unpack(">I", f.read(4))[0])' "$1"
}
header_of() { # FILE OUT: the header cluster
	head -c "$(cluster_size "$1")" "$1" >"$2"
}
# append FILE CLUSTER: pad FILE to a whole number of clusters, then append
# CLUSTER (the guest reads the disk's last cluster).
append() {
	local cs size
	cs=$(cluster_size "$1")
	size=$(stat -c %s "$1")
	truncate -s $(((size + cs - 1) / cs * cs)) "$1"
	cat "$2" >>"$1"
}
# planned IMG OPTS OUT: the header cluster the planner makes of IMG.
planned() {
	cp "$1" plan.tmp
	"$PLAN" -o "$2" plan.tmp >/dev/null || return 1
	header_of plan.tmp "$3"
}
# patch FILE OFFSET HEXBYTES
patch() {
	python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2], 0)); f.write(bytes.fromhex(sys.argv[3]))' "$@"
}
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
# ext_offset FILE TYPE: offset of the first extension of TYPE (its header)
ext_offset() {
	python3 - "$1" "$2" <<'EOF'
import struct, sys
buf = open(sys.argv[1], "rb").read(65536)
want = int(sys.argv[2], 0)
v = struct.unpack(">I", buf[4:8])[0]
off = 72 if v == 2 else struct.unpack(">I", buf[100:104])[0]
while off + 8 <= len(buf):
    t, n = struct.unpack(">II", buf[off:off + 8])
    if t == want:
        print(off)
        sys.exit(0)
    if t == 0:
        break
    off += 8 + ((n + 7) & ~7)
sys.exit(1)
EOF
}

# refused NAME IMG OPTS EVIL: the guest replays EVIL; instar must refuse.
refused() {
	local name=$1 msg=""
	cp "$2" try
	append try "$4"
	cp try before
	timeout -k 5 30 "$INSTAR" amend -o "$3" try </dev/null >out 2>err
	local rc=$?
	[ "$rc" = 1 ] || msg="exit $rc, want 1. "
	[ ! -s out ] || msg+="stdout: $(cat out). "
	[ "$(cat err)" = "$M_NOT_EXPECTED" ] || msg+="stderr: $(cat err). "
	cmp -s try before || msg+="the image was written. "
	record "$name" "$([ -z "$msg" ] && echo 0 || echo 1)" "$msg"
}
# accepted NAME IMG OPTS: the guest replays the planner's header: amended.
accepted() {
	local name=$1 msg=""
	if ! planned "$2" "$3" honest; then
		record "$name" 1 "the planner does not amend $2 with $3"
		return
	fi
	cp "$2" try
	append try honest
	timeout -k 5 30 "$INSTAR" amend -o "$3" try </dev/null >out 2>err
	local rc=$?
	[ "$rc" = 0 ] || msg="exit $rc, want 0 (stderr: $(cat err)). "
	[ "$(cat out)" = "Image amended." ] || msg+="stdout: $(cat out). "
	header_of try got
	cmp -s got honest || msg+="the header is not the planner's. "
	record "$name" "$([ -z "$msg" ] && echo 0 || echo 1)" "$msg"
}

# --- Two data-file extensions: QEMU uses the last (disk.raw). Keeping the
# first would point QEMU at another file (victim_disk.raw).
qemu-img create -q -f qcow2 -o compat=1.1,data_file=victim_disk.raw,data_file_raw=on df.qcow2 64M
cp df.qcow2 df_first_only.qcow2
python3 "$HDR" addext df.qcow2 0x44415441 "$(hex disk.raw)"
planned df_first_only.qcow2 lazy_refcounts=on evil_df
accepted data_file_honest df.qcow2 lazy_refcounts=on
refused data_file_keeps_earlier_copy df.qcow2 lazy_refcounts=on evil_df

# --- Two backing-format extensions (raw, then qcow2): keeping "raw".
qemu-img create -q -f raw base.raw 64M
qemu-img create -q -f qcow2 -o compat=0.10 -b base.raw -F raw bf.qcow2
cp bf.qcow2 bf_first_only.qcow2
python3 "$HDR" addext bf.qcow2 0xe2792aca "$(hex qcow2)"
planned bf_first_only.qcow2 compat=1.1 evil_bf
accepted backing_format_honest bf.qcow2 compat=1.1
refused backing_format_keeps_earlier_copy bf.qcow2 compat=1.1 evil_bf

# --- A data-file extension left over without its incompatible bit: a
# rewrite drops it. A guest that keeps it in the backing format's place
# makes QEMU probe the backing file's format.
cp bf_first_only.qcow2 lo.qcow2
python3 "$HDR" addext lo.qcow2 0x44415441 "$(hex leftover)"
planned lo.qcow2 compat=1.1 evil_swap
off=$(ext_offset evil_swap 0xe2792aca) || off=""
if [ -n "$off" ]; then
	patch evil_swap "$off" "44415441""00000008""$(hex leftover)"
	accepted leftover_data_file_honest lo.qcow2 compat=1.1
	refused leftover_data_file_replaces_backing_format lo.qcow2 compat=1.1 evil_swap
else
	record leftover_data_file_replaces_backing_format 1 "no backing-format extension in the planned header"
fi

# --- Bytes outside every parsed field: header padding, the rest of the
# cluster; and a moved L1 table.
qemu-img create -q -f qcow2 -o compat=0.10 plain.qcow2 64M
planned plain.qcow2 compat=1.1 evil_pad
patch evil_pad 110 41
planned plain.qcow2 compat=1.1 evil_tail
patch evil_tail 0x9000 deadbeef
planned plain.qcow2 compat=1.1 evil_l1
python3 - evil_l1 <<'EOF'
import struct, sys
f = open(sys.argv[1], "r+b"); b = f.read(48)
f.seek(40); f.write(struct.pack(">Q", struct.unpack(">Q", b[40:48])[0] + 65536))
EOF
accepted plain_honest plain.qcow2 compat=1.1
refused header_padding_byte plain.qcow2 compat=1.1 evil_pad
refused garbage_past_the_extensions plain.qcow2 compat=1.1 evil_tail
refused l1_table_moved plain.qcow2 compat=1.1 evil_l1

junit_finish
