#!/usr/bin/env bash
# make_corpus.sh — (re)generate the seed corpora under fuzz/corpus/ from
# real images made with qemu-img (every kind instar meets: v2, v3, lazy
# refcounts, backing files, 512 B and 2 MiB clusters, zstd, extended L2,
# bitmaps, LUKS, external data file, refcount widths, other formats) and
# from hand-built inputs for the targets that do not read images.
#
# Only the start of each header cluster is kept (up to its last non-zero
# byte, rounded up to 512 B, at most 64 KiB): the harnesses zero-pad to the
# cluster size named in the header, so the seeds stay small. Generated
# files are checked in; run this again after changing it, then minimise
# grown corpora with `-merge=1` (see fuzz/README.md).
#
# Trusts: qemu-img (Debian's 7.2) and python3. Writes only fuzz/corpus/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out="$here/corpus"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

command -v qemu-img >/dev/null || { echo "make_corpus.sh: qemu-img missing" >&2; exit 1; }

q() { qemu-img "$@" >/dev/null; }
mk() { # mk NAME [OPTIONS...] SIZE : qcow2 image $tmp/img/NAME.qcow2
	local name=$1; shift
	local size=${*: -1}
	q create -f qcow2 "${@:1:$#-1}" "$tmp/img/$name.qcow2" "$size"
}

mkdir -p "$tmp/img" "$tmp/other"
q create -f raw "$tmp/base.raw" 1M
q create -f qcow2 "$tmp/base.qcow2" 1M

mk v2 -o compat=0.10 64M
mk v3 64M
mk v3_lazy -o lazy_refcounts=on 64M
mk v2_backing -o compat=0.10 -b "$tmp/base.qcow2" -F qcow2 1M
mk v3_backing -b "$tmp/base.qcow2" -F qcow2 1M
mk v3_backing_raw -o lazy_refcounts=on -b "$tmp/base.raw" -F raw 1M
mk v3_c512 -o cluster_size=512 16M
mk v2_c512 -o compat=0.10,cluster_size=512 16M
mk v3_c2m -o cluster_size=2M 4G
mk v3_c4k_lazy -o cluster_size=4096,lazy_refcounts=on 1G
mk v3_zstd -o compression_type=zstd 64M
mk v3_extl2 -o extended_l2=on 64M
mk v3_extl2_c2m -o extended_l2=on,cluster_size=2M 1G
mk v3_rc1 -o refcount_bits=1 64M
mk v3_rc64 -o refcount_bits=64 64M
mk v3_big -o cluster_size=65536 16T
mk v3_datafile -o data_file="$tmp/data.raw" 64M
mk v3_datafile_raw -o data_file="$tmp/data2.raw",data_file_raw=on 64M
# LUKS's PBKDF benchmark fails on a busy machine with a very short
# iter-time ("Unable to get accurate CPU usage"): retry with longer ones.
for it in 50 250 1000; do
	qemu-img create -f qcow2 --object secret,id=s0,data=instar \
		-o encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=$it \
		"$tmp/img/v3_luks.qcow2" 16M >/dev/null 2>&1 && break
done
[ -s "$tmp/img/v3_luks.qcow2" ] || { echo "make_corpus.sh: LUKS image failed" >&2; exit 1; }
mk v3_bitmaps 64M
q bitmap --add "$tmp/img/v3_bitmaps.qcow2" bm0
q bitmap --add "$tmp/img/v3_bitmaps.qcow2" bm1
mk v3_snapshot 64M
q snapshot -c snap0 "$tmp/img/v3_snapshot.qcow2"
mk v2_snapshot -o compat=0.10 64M
q snapshot -c snap0 "$tmp/img/v2_snapshot.qcow2"
# Already amended by qemu-img: the layout instar must reproduce.
mk v3_amended_down 64M
q amend -o compat=0.10 "$tmp/img/v3_amended_down.qcow2"
mk v2_amended_up -o compat=0.10 64M
q amend -o compat=1.1,lazy_refcounts=on "$tmp/img/v2_amended_up.qcow2"
# A dirty image: lazy refcounts and the dirty bit set by hand below.
mk v3_dirty -o lazy_refcounts=on 64M

# Whole small images with data, zero and compressed clusters and
# snapshots, for the table scan (amend_scan): 512 B clusters keep them tiny
# (snapshots use 4 KiB: with 512 B the scan overflows its scratch, see
# regressions/amend_scan).
mkdir -p "$tmp/scan"
qio() { qemu-io -f qcow2 "$@" >/dev/null; }
sc() { q create -f qcow2 -o "cluster_size=$2${3:+,$3}" "$tmp/scan/$1.qcow2" 64K; }
sc data 512
qio -c "write -P 0xaa 0 2k" -c "write -P 0x55 32k 1k" "$tmp/scan/data.qcow2"
sc zero 512
qio -c "write -P 0xaa 0 2k" -c "write -z 4k 1k" "$tmp/scan/zero.qcow2"
sc snap 4096
qio -c "write -P 0xaa 0 1k" "$tmp/scan/snap.qcow2"
q snapshot -c s0 "$tmp/scan/snap.qcow2"
qio -c "write -z 0 512" "$tmp/scan/snap.qcow2"
sc snap_resized 4096
qio -c "write -P 0xaa 0 1k" "$tmp/scan/snap_resized.qcow2"
q snapshot -c s0 "$tmp/scan/snap_resized.qcow2"
q resize "$tmp/scan/snap_resized.qcow2" 128K
sc extl2 16384 extended_l2=on
qio -c "write -P 0xaa 0 8k" -c "write -z 16k 2k" "$tmp/scan/extl2.qcow2"
sc data4k 4096
qio -c "write -P 0xaa 0 8k" "$tmp/scan/data4k.qcow2"
# v2 images, for the upgrades of the end-to-end target (amend_guest).
sc data_v2 512 compat=0.10
qio -c "write -P 0xaa 0 2k" "$tmp/scan/data_v2.qcow2"
sc snap_v2 4096 compat=0.10
q snapshot -c s0 "$tmp/scan/snap_v2.qcow2"
head -c 65536 /dev/zero | tr '\0' 'x' >"$tmp/scan/x.raw"
q convert -c -f raw -O qcow2 -o cluster_size=512 "$tmp/scan/x.raw" "$tmp/scan/compressed.qcow2"
q convert -c -f raw -O qcow2 -o cluster_size=512,compression_type=zstd "$tmp/scan/x.raw" "$tmp/scan/zstd.qcow2"
rm "$tmp/scan/x.raw"

# Other formats, for format detection.
q create -f raw "$tmp/other/raw" 64K
q create -f vmdk "$tmp/other/vmdk" 1M
q create -f vmdk -o subformat=monolithicFlat "$tmp/other/vmdk_flat" 1M
q create -f vpc "$tmp/other/vpc" 1M
q create -f vpc -o subformat=fixed "$tmp/other/vpc_fixed" 1M
q create -f vhdx "$tmp/other/vhdx" 1M
q create -f qed "$tmp/other/qed" 1M
q create -f vdi "$tmp/other/vdi" 1M
q create -f qcow "$tmp/other/qcow1" 1M

# Files are rewritten by name; grown (sha1-named) seeds merged in stay.
mkdir -p "$out"
python3 "$here/gen_seeds.py" "$tmp" "$out" "$here/../seccomp"
echo "make_corpus.sh: $(find "$out" -type f | wc -l) seeds in $out"
du -sh "$out"
