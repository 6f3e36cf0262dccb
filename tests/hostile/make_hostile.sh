#!/bin/bash
# make_hostile.sh — build the hostile-input corpus for hostile_test.sh:
# real images from the system qemu-img/qemu-io (v2 and v3; 512 B, 4 KiB
# and 64 KiB clusters; with backing file + format; with internal
# snapshots; with data), then make_hostile.py derives the malformed
# images from them (see its docstring for the categories).
#
# Usage: make_hostile.sh OUTDIR   (OUTDIR/MANIFEST lists the images)
set -eu

OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${MAKE_HOSTILE_PY:-$HERE/make_hostile.py}
BASE=$(mktemp -d "${TMPDIR:-/tmp}/hostile-base.XXXXXX")
trap 'rm -rf "$BASE"' EXIT

mk() {   # NAME CREATE-OPTIONS [BACKING]
	local name=$1 opts=$2 bk=${3:-}
	if [ -n "$bk" ]; then
		(cd "$BASE" && qemu-img create -q -f qcow2 -o "$opts" -b "$bk" -F qcow2 \
			"$name.qcow2" 16M)
	else
		qemu-img create -q -f qcow2 -o "$opts" "$BASE/$name.qcow2" 16M
	fi
	qemu-io -c 'write -q -P 0x5a 0 128k' -c 'write -q -P 0x66 8M 64k' \
		"$BASE/$name.qcow2" >/dev/null
}

qemu-img create -q -f qcow2 "$BASE/base.qcow2" 16M
mk v2_64k compat=0.10,cluster_size=65536
mk v3_64k compat=1.1,cluster_size=65536
mk v3_4k compat=1.1,cluster_size=4096
mk v3_512 compat=1.1,cluster_size=512
mk v3_512_backing compat=1.1,cluster_size=512 base.qcow2
mk v2_4k_backing compat=0.10,cluster_size=4096 base.qcow2
mk v3_snap compat=1.1,cluster_size=65536
qemu-img snapshot -c s1 "$BASE/v3_snap.qcow2"
mk v2_snap compat=0.10,cluster_size=65536
qemu-img snapshot -c s1 "$BASE/v2_snap.qcow2"
rm -f "$BASE/base.qcow2"

python3 "$PY" "$BASE" "$OUT"
