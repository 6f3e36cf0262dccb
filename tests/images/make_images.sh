#!/bin/bash
# make_images.sh OUTDIR — build every qcow2 image kind the differential
# suite amends, with Debian's qemu-img/qemu-io (7.2) and a few header pokes.
#
# Layout: OUTDIR/<kind>/img.qcow2 is the image; any file it refers to
# (base.qcow2 backing file, df.raw external data file) sits beside it in
# the same directory under a relative name, so copying the directory gives
# a self-contained case. OUTDIR/MANIFEST has one line per kind:
#     <kind><TAB><version 2|3><TAB><cluster size><TAB><description>
#
# Every image gets a little patterned data so content checks mean
# something. Images are sparse; the whole set takes well under a second
# of qemu time and a few MiB of disk.
#
# Env: QCOW2_HDR (path to tests/tools/qcow2_hdr.py; default: beside this
# script's ../tools), QEMU_IMG, QEMU_IO.
set -euo pipefail

out=${1:?usage: make_images.sh OUTDIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HDR=${QCOW2_HDR:-$here/../tools/qcow2_hdr.py}
QIMG=${QEMU_IMG:-qemu-img}
QIO=${QEMU_IO:-qemu-io}

[ -f "$HDR" ] || { echo "make_images: qcow2_hdr.py not found at $HDR" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
: >"$out/MANIFEST"

# Quiet wrappers: any failure aborts the whole set (set -e), loudly.
img() { "$QIMG" "$@" >/dev/null; }
io() { "$QIO" -f qcow2 "$@" >/dev/null; }
hdr() { python3 "$HDR" "$@"; }

# begin KIND DESCRIPTION: make OUTDIR/KIND and cd into it.
cur=""
begin() {
	cur=$1
	desc=$2
	rm -rf "${out:?}/$cur"
	mkdir -p "$out/$cur"
	cd "$out/$cur"
}
# done_kind: sanity-check the image and record it in the manifest.
# An image kind qemu-img cannot even read is a generator bug, not a case.
done_kind() {
	local v cs
	v=$(od -An -tu1 -j4 -N4 img.qcow2 | awk '{print $4}')
	cs=$(( 1 << $(od -An -tu1 -j20 -N4 img.qcow2 | awk '{print $4}') ))
	if [ "${1:-}" != "noinfo" ]; then
		"$QIMG" info -f qcow2 img.qcow2 >/dev/null 2>&1 ||
			{ echo "make_images: $cur: qemu-img info failed" >&2; exit 1; }
	fi
	printf '%s\t%s\t%s\t%s\n' "$cur" "$v" "$cs" "$desc" >>"$out/MANIFEST"
	cd "$out"
}
# data: a little patterned guest data at the start and at 1 MiB.
data() { io -c "write -P 0x5a 0 64k" -c "write -P 0xa5 1M 4k" img.qcow2; }
# base: a 64 MiB qcow2 backing file with its own pattern where the
# overlays put zero clusters (64k, 2M), so a lost zero flag shows.
base() {
	img create -f qcow2 base.qcow2 64M
	io -c "write -P 0x11 0 256k" -c "write -P 0x22 2M 64k" base.qcow2
}

# LUKS creation spends ~2 s benchmarking PBKDF2 whatever iter-time says,
# so it runs in the background while the other kinds are built.
luks_log="$out/.luks.log"
(
	set -e
	rm -rf "${out:?}/luks"
	mkdir -p "$out/luks"
	cd "$out/luks"
	# qemu's PBKDF2 benchmark can fail on a loaded machine ("Unable to
	# get accurate CPU usage"): retry a few times before giving up.
	for try in 1 2 3 4 5; do
		if "$QIMG" create -q -f qcow2 --object secret,id=sec0,data=instar \
			-o encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10 \
			img.qcow2 64M; then
			break
		fi
		[ "$try" -lt 5 ] || exit 1
		echo "luks: qemu-img create failed (try $try), retrying"
		rm -f img.qcow2
	done
	"$QIO" --object secret,id=sec0,data=instar --image-opts \
		driver=qcow2,file.filename=img.qcow2,encrypt.key-secret=sec0 \
		-c "write -P 0x5a 0 64k" >/dev/null
) >"$luks_log" 2>&1 &
luks_pid=$!

begin v2 "qcow2 v2 (compat=0.10), 64 KiB clusters"
img create -f qcow2 -o compat=0.10 img.qcow2 64M; data; done_kind

begin v3 "qcow2 v3 (compat=1.1)"
img create -f qcow2 -o compat=1.1 img.qcow2 64M; data; done_kind

begin v3_lazy "qcow2 v3 with lazy_refcounts=on"
img create -f qcow2 -o lazy_refcounts=on img.qcow2 64M; data; done_kind

for rb in 1 8 64; do
	begin "refbits$rb" "v3 with refcount_bits=$rb"
	img create -f qcow2 -o refcount_bits=$rb img.qcow2 64M; data; done_kind
done

begin v3_104_notable "v3 with header_length 104 and no feature-name table (older writers)"
img create -f qcow2 img.qcow2 64M; data; hdr rebuild img.qcow2 104 0x6803f857; done_kind

begin v2_comp "v2 with zlib-compressed clusters"
img create -f qcow2 -o compat=0.10 img.qcow2 64M
io -c "write -c -P 0x33 0 64k" -c "write -P 0xa5 1M 4k" img.qcow2; done_kind

begin v3_zlib_comp "v3 (zlib) with compressed clusters"
img create -f qcow2 img.qcow2 64M
io -c "write -c -P 0x33 0 64k" -c "write -P 0xa5 1M 4k" img.qcow2; done_kind

begin zstd "v3 compression_type=zstd, no compressed clusters"
img create -f qcow2 -o compression_type=zstd img.qcow2 64M; data; done_kind

begin zstd_comp "v3 compression_type=zstd with compressed clusters"
img create -f qcow2 -o compression_type=zstd img.qcow2 64M
io -c "write -c -P 0x33 0 64k" -c "write -P 0xa5 1M 4k" img.qcow2; done_kind

begin extl2 "v3 with extended_l2=on"
img create -f qcow2 -o extended_l2=on img.qcow2 64M; data; done_kind

begin datafile "v3 with external data file df.raw"
img create -f qcow2 -o data_file=df.raw img.qcow2 64M; data; done_kind

begin datafile_raw "v3 with external data file df.raw, data_file_raw=on"
img create -f qcow2 -o data_file=df.raw,data_file_raw=on img.qcow2 64M; data; done_kind

begin backing_v2_fmt "v2 with backing file and backing-format extension"
base; img create -f qcow2 -o compat=0.10 -b base.qcow2 -F qcow2 img.qcow2; data; done_kind

begin backing_v2_nofmt "v2 with backing file name only (no backing-format extension)"
base; img create -f qcow2 -o compat=0.10 img.qcow2 64M
hdr setbacking img.qcow2 base.qcow2; data; done_kind

begin backing_v3_fmt "v3 with backing file and backing-format extension"
base; img create -f qcow2 -b base.qcow2 -F qcow2 img.qcow2; data; done_kind

begin backing_v3_nofmt "v3 with backing file name only (no backing-format extension)"
base; img create -f qcow2 img.qcow2 64M
hdr setbacking img.qcow2 base.qcow2; data; done_kind

begin snap_v2 "v2 with an internal snapshot"
img create -f qcow2 -o compat=0.10 img.qcow2 64M; data
img snapshot -c snap1 img.qcow2; io -c "write -P 0x77 0 4k" img.qcow2; done_kind

begin snap_v3 "v3 with an internal snapshot"
img create -f qcow2 img.qcow2 64M; data
img snapshot -c snap1 img.qcow2; io -c "write -P 0x77 0 4k" img.qcow2; done_kind

begin bitmap "v3 with two persistent dirty bitmaps"
img create -f qcow2 img.qcow2 64M; data
img bitmap --add img.qcow2 bm0; img bitmap --add --disable img.qcow2 bm1
io -c "write -P 0x66 2M 64k" img.qcow2; done_kind

begin zero_v3 "v3 with zero clusters (no backing file)"
img create -f qcow2 img.qcow2 64M; data
io -c "write -z 64k 64k" -c "write -z 2M 64k" img.qcow2; done_kind

begin zero_backing_v3 "v3 with zero clusters over backing-file data"
base; img create -f qcow2 -b base.qcow2 -F qcow2 img.qcow2; data
io -c "write -z 64k 64k" -c "write -z 2M 64k" img.qcow2; done_kind

begin zero_alloc_v3 "v3 with zero clusters that keep their host clusters"
img create -f qcow2 img.qcow2 64M; data
io -c "write -z 0 64k" -c "write -z 64k 64k" -c "write -P 0x3c 4M 128k" -c "write -z 4M 64k" img.qcow2; done_kind

begin zero_snap_v3 "v3, snapshot, then zero clusters over the snapshot's data"
img create -f qcow2 img.qcow2 64M; data
img snapshot -c snap1 img.qcow2
io -c "write -z 0 64k" -c "write -z 2M 64k" img.qcow2
img snapshot -c snap2 img.qcow2; io -c "write -z 1M 64k" img.qcow2; done_kind

begin zero_snap_backing_v3 "v3 over a backing file, zero clusters shared with a snapshot"
base; img create -f qcow2 -b base.qcow2 -F qcow2 img.qcow2; data
io -c "write -z 64k 64k" img.qcow2; img snapshot -c snap1 img.qcow2
io -c "write -z 0 64k" -c "write -z 2M 64k" img.qcow2; done_kind

begin zero_c512_backing_v3 "v3, 512-byte clusters, zero clusters over a backing file (new refcount blocks)"
base; img create -f qcow2 -o cluster_size=512 -b base.qcow2 -F qcow2 img.qcow2; data
io -c "write -z 4k 200k" -c "write -z 2M 64k" img.qcow2; done_kind

begin zero_holes_backing_v3 "v3 over a backing file, discarded ranges and zero clusters"
base; img create -f qcow2 -b base.qcow2 -F qcow2 img.qcow2; data
io -c "write -P 0x42 2M 512k" -c "write -z -u 2M 256k" -c "write -z 64k 64k" img.qcow2; done_kind

begin c512_v2 "v2, 512-byte clusters"
img create -f qcow2 -o compat=0.10,cluster_size=512 img.qcow2 64M; data; done_kind

begin c512_v3 "v3, 512-byte clusters"
img create -f qcow2 -o cluster_size=512 img.qcow2 64M; data; done_kind

begin c512_v2_backing "v2, 512-byte clusters, backing file + format"
base; img create -f qcow2 -o compat=0.10,cluster_size=512 -b base.qcow2 -F qcow2 img.qcow2
data; done_kind

begin c512_v2_longbacking "v2, 512-byte clusters, 410-byte backing name: v3 cannot fit"
base; img create -f qcow2 -o compat=0.10,cluster_size=512 \
	-b "$(printf './%.0s' $(seq 200))base.qcow2" -F qcow2 img.qcow2
data; done_kind

begin c4k_v2 "v2, 4 KiB clusters (qemu writes no feature table at <= 4 KiB)"
img create -f qcow2 -o compat=0.10,cluster_size=4096 img.qcow2 64M; data; done_kind

begin c8k_v2 "v2, 8 KiB clusters (smallest size with a feature table)"
img create -f qcow2 -o compat=0.10,cluster_size=8192 img.qcow2 64M; data; done_kind

begin c8k_v2_fullext "v2, 8 KiB clusters, unknown extension so large v3 cannot fit"
img create -f qcow2 -o compat=0.10,cluster_size=8192 img.qcow2 64M; data
hdr addext img.qcow2 0x7a7a7a7a "$(printf 'ab%.0s' $(seq 7700))"; done_kind

begin c2m_v2 "v2, 2 MiB clusters"
img create -f qcow2 -o compat=0.10,cluster_size=2M img.qcow2 64M; data; done_kind

begin c2m_v3 "v3, 2 MiB clusters"
img create -f qcow2 -o cluster_size=2M img.qcow2 64M; data; done_kind

begin dirty "v3 with the DIRTY incompatible bit set"
img create -f qcow2 img.qcow2 64M; data; hdr set img.qcow2 incompat 0x1; done_kind

begin dirty_lazy "v3 lazy_refcounts=on with the DIRTY bit set"
img create -f qcow2 -o lazy_refcounts=on img.qcow2 64M; data
hdr set img.qcow2 incompat 0x1; done_kind

begin corrupt "v3 with the CORRUPT incompatible bit set"
img create -f qcow2 img.qcow2 64M; data; hdr set img.qcow2 incompat 0x2; done_kind

begin unk_compat "v3 with an unknown compatible bit (bit 5)"
img create -f qcow2 img.qcow2 64M; data; hdr set img.qcow2 compat 0x20; done_kind

begin unk_compat_lazy "v3 lazy with an unknown compatible bit (bit 5)"
img create -f qcow2 -o lazy_refcounts=on img.qcow2 64M; data; hdr set img.qcow2 compat 0x21; done_kind

begin unk_autoclear "v3 with an unknown autoclear bit (bit 7)"
img create -f qcow2 img.qcow2 64M; data; hdr set img.qcow2 autoclear 0x80; done_kind

begin unk_incompat "v3 with an unknown incompatible bit (bit 5)"
img create -f qcow2 img.qcow2 64M; data; hdr set img.qcow2 incompat 0x20
done_kind noinfo   # qemu-img cannot open it, by design

begin unk_ext_v2 "v2 with backing file + format and an unknown header extension"
base; img create -f qcow2 -o compat=0.10 -b base.qcow2 -F qcow2 img.qcow2; data
hdr addext img.qcow2 0x12345678 deadbeefcafe; done_kind

begin unk_ext_v3 "v3 with backing file + format and an unknown header extension"
base; img create -f qcow2 -b base.qcow2 -F qcow2 img.qcow2; data
hdr addext img.qcow2 0x12345678 deadbeefcafe; done_kind

# Layouts qemu-img itself does not write, but reads (other writers, older
# qemu, hand-made or naively edited images): the planner must relocate
# from them correctly too.
begin v3_hl120 "v3 + backing, header_length 120 (8 unknown header-field bytes 0xee)"
base; img create -f qcow2 -b base.qcow2 -F qcow2 img.qcow2; data
hdr rebuild img.qcow2 120; done_kind

begin v3_104_backing "v3 + backing + format, header_length 104, no feature table"
base; img create -f qcow2 -b base.qcow2 -F qcow2 img.qcow2; data
hdr rebuild img.qcow2 104 0x6803f857; done_kind

begin v3_ext_order "v3, unknown extension before the backing-format extension"
base; img create -f qcow2 img.qcow2 64M; data
hdr addext img.qcow2 0x12345678 0102030405060708090a
hdr addext img.qcow2 0xe2792aca "$(printf qcow2 | od -An -tx1 | tr -d ' \n')"
hdr setbacking img.qcow2 base.qcow2; done_kind

begin v2_backing_far "v2 + backing + format, backing name far from the extensions (at 4000)"
base; img create -f qcow2 -o compat=0.10 img.qcow2 64M; data
hdr addext img.qcow2 0xe2792aca "$(printf qcow2 | od -An -tx1 | tr -d ' \n')"
hdr setbacking img.qcow2 base.qcow2 4000; done_kind

begin v3_backing_far "v3 + backing, no format, backing name far from the extensions (at 4000)"
base; img create -f qcow2 img.qcow2 64M; data
hdr setbacking img.qcow2 base.qcow2 4000; done_kind

begin v2_stale_tail "v2 made by flipping a v3 header's version (v3 fields and table left behind)"
img create -f qcow2 img.qcow2 64M; data; hdr set img.qcow2 4:4 2; done_kind

begin sparse1t_v2 "v2, 1 TiB virtual size, sparse"
img create -f qcow2 -o compat=0.10 img.qcow2 1T
io -c "write -P 0x5a 0 64k" -c "write -P 0xa5 1099511562240 64k" img.qcow2; done_kind

begin sparse1t_v3 "v3, 1 TiB virtual size, sparse"
img create -f qcow2 img.qcow2 1T
io -c "write -P 0x5a 0 64k" -c "write -P 0xa5 1099511562240 64k" img.qcow2; done_kind

if ! wait "$luks_pid"; then
	echo "make_images: luks: image creation failed:" >&2
	cat "$luks_log" >&2
	exit 1
fi
grep -h 'retrying' "$luks_log" || true   # say so if the LUKS build was retried
rm -f "$luks_log"
cur=luks
desc="v3 LUKS-encrypted (qemu-img amend cannot open it without the secret)"
cd "$out/luks"
done_kind

n=$(wc -l <"$out/MANIFEST")
echo "make_images: $n image kinds in $out"
