#!/bin/bash
# lying_expand_test.sh — the real instar host flow (lockdown, sandbox,
# validator, expansion rules, commit) with a compromised guest for the
# downgrade that expands zero clusters: instar_replay_expand embeds
# replay_expand instead of guest.bin, a guest that writes the honest
# header (the planner's, appended by the test) and hands over the list of
# L2 tables the test chose. Each lie must be refused by the host's rule
# for it (src/image/expand.h), with its message, leaving the file
# byte-identical; the same guest naming the honest list must be accepted
# and give an image qemu-img checks clean and reads as the original,
# which proves the refusals are the rules' doing.
#
# Then hostile images with the honest list (entries whose clusters are
# metadata or outside the file, a refcount table pointing into an L2
# table, an L2 table whose refcount is 0): each refused by its rule,
# byte-identical; and the same images through the shipped instar (its
# own guest): refused, byte-identical.
#
# Usage: lying_expand_test.sh INSTAR_REPLAY_EXPAND PLAN_APPLY INSTAR
# One JUnit testcase per check in $XML_OUTPUT_FILE.
set -u

INSTAR=$(readlink -f "$1")
PLAN=$(readlink -f "$2")
REAL=$(readlink -f "$3")
for t in qemu-img qemu-io python3; do
	command -v "$t" >/dev/null || { echo "lying_expand_test: $t missing" >&2; exit 1; }
done
[ -r /dev/kvm ] || echo "lying_expand_test: /dev/kvm is missing: every case will FAIL" >&2

JUNIT=$(readlink -f "${JUNIT_SH:?}")
WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/lyingx.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
# shellcheck source=tests/lib/junit.sh
source "$JUNIT"
junit_init lying_expand "$WORK"

P="instar amend: "
M_LIST="${P}the sandboxed guest named L2 tables outside the image; nothing was written"
M_NOT_REF="${P}the sandboxed guest named an L2 table no L1 table references; nothing was written"
M_NO_ZERO="${P}the sandboxed guest named an L2 table without zero clusters; nothing was written"
M_RECORD="${P}the sandboxed guest returned a malformed result record; nothing was written"

# tables IMG: the offsets of the L2 tables (active and snapshots') that
# hold a zero entry, one per line (what an honest guest names).
tables() {
	python3 - "$1" <<'EOF'
import struct, sys
f = open(sys.argv[1], "rb").read()
u32 = lambda o: struct.unpack(">I", f[o:o + 4])[0]
u64 = lambda o: struct.unpack(">Q", f[o:o + 8])[0]
cs = 1 << u32(20)
l1s = [(u64(40), u32(36))]
off = u64(64)
for _ in range(u32(60)):
    l1o, l1n = u64(off), u32(off + 8)
    idl, nml, ext = struct.unpack(">HH", f[off + 12:off + 16])[0], struct.unpack(">HH", f[off + 12:off + 16])[1], u32(off + 36)
    l1s.append((l1o, l1n))
    off += (40 + ext + idl + nml + 7) & ~7
seen = set()
for l1o, n in l1s:
    for i in range(n):
        t = u64(l1o + 8 * i) & 0x00fffffffffffe00
        if t == 0 or t in seen:
            continue
        seen.add(t)
        for j in range(cs // 8):
            e = u64(t + 8 * j)
            if e & 1 and not e & (1 << 62):
                print(t)
                break
EOF
}
# report FILE OFFSET... : the guest's report naming these tables, with
# an END record that counts RECORDS (default: their number).
report() {
	local out=$1
	shift
	python3 - "$out" "${RECORDS:-}" "$@" <<'EOF'
import struct, sys
out, records, offs = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3:]]
b = b"".join(struct.pack("<IIQ", 10, 16, o) for o in offs)
b += struct.pack("<IIQQ", 8, 24, int(records) if records else len(offs), 0)
open(out, "wb").write(b)
EOF
}
cluster_size() { # FILE
	python3 -c 'import struct,sys; f=open(sys.argv[1],"rb"); f.seek(20); print(1 << struct.unpack(">I", f.read(4))[0])' "$1"
}
# append FILE REPORT HEADER: pad FILE to a whole cluster, then the report
# (padded to sectors), the control sector and the header cluster.
append() {
	local cs size
	cs=$(cluster_size "$1")
	size=$(stat -c %s "$1")
	truncate -s $(((size + cs - 1) / cs * cs)) "$1"
	python3 - "$1" "$2" "$3" <<'EOF'
import struct, sys
img, rep, hdr = sys.argv[1:4]
r = open(rep, "rb").read()
pad = (-len(r)) % 512
ctl = struct.pack("<QII", 0x4e41505845524e49, len(r), 0).ljust(512, b"\0")
with open(img, "ab") as f:
    f.write(r + b"\0" * pad + ctl + open(hdr, "rb").read())
EOF
}
# honest_header IMG OUT: the header cluster the planner makes of IMG.
honest_header() {
	cp "$1" plan.tmp
	"$PLAN" -o compat=0.10 plan.tmp >/dev/null || return 1
	head -c "$(cluster_size "$1")" plan.tmp >"$2"
}

# refused NAME IMG MESSAGE OFFSET...: the guest names these tables (and
# writes the header the planner makes of $HDR_FROM, default IMG).
refused() {
	local name=$1 img=$2 want=$3 msg=""
	shift 3
	honest_header "${HDR_FROM:-$img}" hh || { record "$name" 1 "the planner does not downgrade ${HDR_FROM:-$img}"; return; }
	report rep "$@"
	cp "$img" try
	append try rep hh
	cp try before
	timeout -k 5 60 "$INSTAR" amend -o compat=0.10 try </dev/null >out 2>err
	local rc=$?
	[ "$rc" = 1 ] || msg="exit $rc, want 1. "
	[ ! -s out ] || msg+="stdout: $(cat out). "
	[ "$(cat err)" = "$want" ] || msg+="stderr: $(cat err), want: $want. "
	cmp -s try before || msg+="the image was written. "
	record "$name" "$([ -z "$msg" ] && echo 0 || echo 1)" "$msg"
}
# accepted NAME IMG OFFSET...: amended, clean, the same content.
accepted() {
	local name=$1 img=$2 msg=""
	shift 2
	honest_header "$img" hh || { record "$name" 1 "the planner does not downgrade $img"; return; }
	report rep "$@"
	cp "$img" try
	append try rep hh
	cp try orig
	timeout -k 5 60 "$INSTAR" amend -o compat=0.10 try </dev/null >out 2>err
	local rc=$?
	[ "$rc" = 0 ] || msg="exit $rc, want 0 (stderr: $(cat err)). "
	[ "$(cat out)" = "Image amended." ] || msg+="stdout: $(cat out). "
	qemu-img check -q try >/dev/null 2>&1 || msg+="qemu-img check is not clean. "
	qemu-img compare -q orig try >/dev/null 2>&1 || msg+="the content changed. "
	[ -z "$(tables try)" ] || msg+="zero entries are left. "
	record "$name" "$([ -z "$msg" ] && echo 0 || echo 1)" "$msg"
}

# An image with zero clusters in one L2 table and data in a second one
# (1 GiB on) that holds none.
qemu-img create -q -f qcow2 z.qcow2 2G
qemu-io -f qcow2 -c "write -P 0x5a 0 128k" -c "write -z 64k 64k" -c "write -z 1M 64k" \
	-c "write -P 0x6b 1G 64k" z.qcow2 >/dev/null
mapfile -t T < <(tables z.qcow2)
[ ${#T[@]} = 1 ] || { record setup 1 "want one table with zero entries, found ${#T[@]}"; junit_finish; exit 1; }
l1=$(python3 -c 'import struct,sys; f=open(sys.argv[1],"rb"); f.seek(40); print(struct.unpack(">Q", f.read(8))[0])' z.qcow2)
second=$(python3 -c 'import struct,sys; f=open(sys.argv[1],"rb").read(); o=struct.unpack(">Q", f[40:48])[0]; print(struct.unpack(">Q", f[o+16:o+24])[0] & 0x00fffffffffffe00)' z.qcow2)
cs=65536
size=$(stat -c %s z.qcow2)

accepted honest z.qcow2 "${T[0]}"
accepted repeated_table_named_once z.qcow2 "${T[0]}" "${T[0]}"
refused header_cluster z.qcow2 "$M_LIST" 0 "${T[0]}"
refused unaligned_table z.qcow2 "$M_LIST" $((T[0] + 512))
refused table_past_end z.qcow2 "$M_LIST" $(((size + cs - 1) / cs * cs + 8 * cs))
refused table_without_zeros z.qcow2 "$M_NO_ZERO" "${T[0]}" "$second"
refused l1_table_as_l2 z.qcow2 "$M_NO_ZERO" "$l1"
# A cluster full of plain zero entries that no L1 table names (a leaked
# cluster: its refcount is 1): rewriting it would change nothing QEMU
# reads, and the rule refuses it all the same.
cp z.qcow2 orphan.qcow2
osize=$(stat -c %s orphan.qcow2)
python3 - orphan.qcow2 <<'EOF'
import struct, sys
f = open(sys.argv[1], "r+b")
b = f.read()
cs = 1 << struct.unpack(">I", b[20:24])[0]
rb = struct.unpack(">Q", b[struct.unpack(">Q", b[48:56])[0]:][:8])[0]
f.seek(len(b)); f.write((b"\0" * 7 + b"\1") * (cs // 8))
f.seek(rb + 2 * (len(b) // cs)); f.write(struct.pack(">H", 1))
EOF
refused orphan_cluster_of_zero_entries orphan.qcow2 "$M_NOT_REF" "${T[0]}" "$osize"
RECORDS=5 refused end_count_wrong z.qcow2 "$M_RECORD" "${T[0]}"

# ---------------------------------------------------------------------
# Hostile images, honest list.
M_ENTRY="${P}a zero cluster's host offset is unaligned or outside the image; nothing was written"
M_OVERLAP="${P}a zero cluster, L2 table or refcount block overlaps other metadata; nothing was written"
M_REFCOUNT="${P}the image's refcounts disagree with its tables (run \`qemu-img check -r all\`); nothing was written"
# poke IMG WHAT: rewrite one field of z.qcow2's copy IMG (python below).
poke() {
	python3 - "$1" "$2" <<'EOF'
import struct, sys
path, what = sys.argv[1:3]
f = open(path, "r+b")
b = f.read()
u64 = lambda o: struct.unpack(">Q", b[o:o + 8])[0]
cs = 1 << struct.unpack(">I", b[20:24])[0]
l1 = u64(40)
rt = u64(48)
rb = u64(rt)
t = u64(l1) & 0x00fffffffffffe00
def entry(i, v):
    f.seek(t + 8 * i); f.write(struct.pack(">Q", v))
# entry 1 is a plain zero entry (write -z 64k 64k)
if what == "unaligned": entry(1, (t + cs + 512) | 1)
elif what == "past_end": entry(1, ((len(b) + cs - 1) // cs + 4) * cs | 1)
elif what == "onto_l2": entry(1, t | 1)
elif what == "onto_l1": entry(1, l1 | 1)
elif what == "onto_reftable": entry(1, rt | 1)
elif what == "onto_refblock": entry(1, rb | 1)
elif what == "reftable_into_l2":
    f.seek(rt + 8); f.write(struct.pack(">Q", t))
elif what == "onto_l1_shared":
    # the L1 table's cluster counted twice: the entry would be detached
    # and the L1 table's refcount lowered
    entry(1, l1 | 1)
    f.seek(rb + 2 * (l1 // cs)); f.write(struct.pack(">H", 2))
elif what == "l2_refcount_0":
    f.seek(rb + 2 * (t // cs)); f.write(struct.pack(">H", 0))
else: sys.exit("unknown poke " + what)
EOF
}
hostile() { # NAME MESSAGE
	cp z.qcow2 "h_$1.qcow2"
	poke "h_$1.qcow2" "$1"
	# (The planner's header of the sound image: plan_apply, which expands
	# too, refuses the hostile one.)
	HDR_FROM=z.qcow2 refused "hostile_$1" "h_$1.qcow2" "$2" "${T[0]}"
	# The shipped binary, its own guest: refused, nothing written.
	cp "h_$1.qcow2" real
	cp real before
	timeout -k 5 60 "$REAL" amend -o compat=0.10 real </dev/null >out 2>err
	local rc=$? msg=""
	[ "$rc" = 1 ] || msg="exit $rc, want 1 (stderr: $(cat err)). "
	grep -q "^instar amend: " err || msg+="no message. "
	cmp -s real before || msg+="the image was written. "
	record "hostile_$1_shipped_guest" "$([ -z "$msg" ] && echo 0 || echo 1)" "$msg"
}
hostile unaligned "$M_ENTRY"
hostile past_end "$M_ENTRY"
hostile onto_l2 "$M_OVERLAP"
hostile onto_l1 "$M_OVERLAP"
hostile onto_reftable "$M_OVERLAP"
hostile onto_refblock "$M_OVERLAP"
hostile onto_l1_shared "$M_OVERLAP"
hostile reftable_into_l2 "$M_OVERLAP"
hostile l2_refcount_0 "$M_REFCOUNT"

junit_finish
