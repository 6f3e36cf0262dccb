#!/usr/bin/env bash
# capture_samples.sh — regenerate tests/oracles/samples/: make a small set of
# images with the system's qemu-img / qemu-io (7.2), then run
#   qemu-img info, info --output=json, check, check --output=json
# on each with every oracle that scripts/install-oracles.sh installed, and
# keep stdout, stderr and the exit code of each run as
#   samples/<image>/<version>/{info,info.json,check,check.json}.{out,err,rc}
# plus samples/<image>/recipe.txt, the commands that made the image.
#
# The images are made in a temporary dir, the commands run from inside it
# on bare file names (so no temporary path shows in the outputs), with
# TZ=UTC and LC_ALL=C. Deterministic except for:
#   * "disk size" / "actual-size": the file system's allocation of the
#     image file, not qemu's choice (stable on one file system, differs
#     between e.g. ext4 and tmpfs);
#   * snapshot dates: qemu stamps the current time; this script pins the
#     date of every snapshot table entry to 2020-01-01 00:00:00 UTC after
#     `qemu-img snapshot -c`, by editing the table (date_sec/date_nsec);
#   * zstd output depends on the system's libzstd build (Debian 12's here).
# Needs: python3, the oracles ($INSTAR_ORACLES, default
# /var/cache/instar-oracles: run scripts/install-oracles.sh first).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$HERE/samples
ORACLES=${INSTAR_ORACLES:-/var/cache/instar-oracles}
VERSIONS=(5.2 7.2 10.0 11.1)
QEMU_IMG=/usr/bin/qemu-img
QEMU_IO=/usr/bin/qemu-io
export TZ=UTC LC_ALL=C

die() {
	printf 'capture_samples: ERROR: %s\n' "$*" >&2
	exit 1
}

for v in "${VERSIONS[@]}"; do
	[ -x "$ORACLES/bin/qemu-img-$v" ] ||
		die "no $ORACLES/bin/qemu-img-$v: run scripts/install-oracles.sh"
done
if [ ! -x "$QEMU_IMG" ] || [ ! -x "$QEMU_IO" ]; then
	die "needs the system's qemu-utils"
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# Small qcow2 editor (big-endian fields, refcount_order 4 = 16-bit
# refcounts, the default of both versions), used for the damaged images and
# to pin snapshot dates.
cat >edit.py <<'EOF'
import struct, sys

def u(f, off, fmt):
    f.seek(off)
    return struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]

def put(f, off, fmt, val):
    f.seek(off)
    f.write(struct.pack(fmt, val))

def geometry(f):
    cbits = u(f, 20, ">I")
    version = u(f, 4, ">I")
    order = u(f, 96, ">I") if version >= 3 else 4
    assert order == 4, "only 16-bit refcounts handled"
    return 1 << cbits, u(f, 48, ">Q")

def refcount_entry(f, cluster_index):
    """File offset of the 16-bit refcount of host cluster cluster_index."""
    cs, rt = geometry(f)
    per_block = cs // 2
    rb = u(f, rt + 8 * (cluster_index // per_block), ">Q")
    assert rb, "no refcount block for that cluster"
    return rb + 2 * (cluster_index % per_block)

def first_data_cluster(f):
    cs, _ = geometry(f)
    l1 = u(f, 40, ">Q")
    l2 = u(f, l1, ">Q") & 0x00fffffffffffe00
    data = u(f, l2, ">Q") & 0x00fffffffffffe00
    assert data, "guest cluster 0 is not allocated"
    return data // cs

cmd, path = sys.argv[1], sys.argv[2]
with open(path, "r+b") as f:
    cs, _ = geometry(f)
    if cmd == "leak":
        # one more cluster at the end of the file, referenced by nothing,
        # with refcount 1
        f.seek(0, 2)
        end = f.tell()
        idx = (end + cs - 1) // cs
        f.truncate((idx + 1) * cs)
        put(f, refcount_entry(f, idx), ">H", 1)
        print("leaked host cluster %d" % idx)
    elif cmd == "refcount0":
        idx = first_data_cluster(f)
        put(f, refcount_entry(f, idx), ">H", 0)
        print("refcount of host cluster %d set to 0" % idx)
    elif cmd == "cutdata":
        # cut the file just before the cluster holding guest cluster 0
        idx = first_data_cluster(f)
        f.truncate(idx * cs)
        print("cut at host cluster %d" % idx)
    elif cmd == "dropext":
        # dropext FILE TYPE: remove a header extension, shifting the ones
        # after it (the backing file name stays where it is)
        drop = int(sys.argv[3], 0)
        version = u(f, 4, ">I")
        start = u(f, 100, ">I") if version >= 3 else 72
        f.seek(start)
        area = f.read(cs - start)
        out, off = b"", 0
        while True:
            typ, ln = struct.unpack(">II", area[off:off + 8])
            size = 8 + ((ln + 7) & ~7)
            if typ != drop:
                out += area[off:off + size]
            if typ == 0:
                break
            off += size
        f.seek(start)
        f.write(out + bytes(off + size - len(out)))
    elif cmd == "bitmap_inuse":
        # set the in-use flag of the first bitmap directory entry
        version = u(f, 4, ">I")
        off = u(f, 100, ">I")
        while True:
            typ, ln = u(f, off, ">I"), u(f, off + 4, ">I")
            assert typ != 0, "no bitmaps extension"
            if typ == 0x23852875:
                break
            off += 8 + ((ln + 7) & ~7)
        d = u(f, off + 8 + 16, ">Q")
        put(f, d + 12, ">I", u(f, d + 12, ">I") | 1)
    elif cmd == "snapclock":
        # snapclock FILE INDEX NSEC ICOUNT: vm clock and icount of snapshot
        # INDEX (0-based), as a VM that ran that long would have left them
        n, off = u(f, 60, ">I"), u(f, 64, ">Q")
        for i in range(n):
            id_len, name_len = u(f, off + 12, ">H"), u(f, off + 14, ">H")
            extra = u(f, off + 36, ">I")
            if i == int(sys.argv[3]):
                put(f, off + 24, ">Q", int(sys.argv[4]))
                if extra >= 24:
                    put(f, off + 40 + 16, ">Q", int(sys.argv[5]))
            off = (off + 40 + extra + id_len + name_len + 7) & ~7
    elif cmd == "l2unalign":
        # guest cluster 0's L2 entry: host offset moved by 512 bytes
        l1 = u(f, 40, ">Q")
        l2 = u(f, l1, ">Q") & 0x00fffffffffffe00
        put(f, l2, ">Q", u(f, l2, ">Q") + 0x200)
    elif cmd == "subclusterbad":
        # extended L2: subcluster 0 of guest cluster 0 both allocated and
        # zero
        l1 = u(f, 40, ">Q")
        l2 = u(f, l1, ">Q") & 0x00fffffffffffe00
        put(f, l2 + 8, ">Q", u(f, l2 + 8, ">Q") | (1 << 32) | 1)
    elif cmd == "l1far":
        # L1[0] points at an L2 table 256 MiB past the end of the file
        l1 = u(f, 40, ">Q")
        put(f, l1, ">Q", 0x8000000000000000 | 0x10000000)
    elif cmd == "reftable0":
        # the refcount table's first entry (the only refcount block) cleared
        _, rt = geometry(f)
        put(f, rt, ">Q", 0)
    elif cmd == "setbit":
        # setbit FILE incompat|compat BIT
        off = {"incompat": 72, "compat": 80}[sys.argv[3]]
        put(f, off, ">Q", u(f, off, ">Q") | (1 << int(sys.argv[4])))
    elif cmd == "pindates":
        n, tab = u(f, 60, ">I"), u(f, 64, ">Q")
        off = tab
        for _ in range(n):
            id_len, name_len = u(f, off + 12, ">H"), u(f, off + 14, ">H")
            extra = u(f, off + 36, ">I")
            put(f, off + 16, ">I", 1577836800)  # 2020-01-01 00:00:00 UTC
            put(f, off + 20, ">I", 0)
            off += 40 + extra + id_len + name_len
            off = (off + 7) & ~7
        print("pinned %d snapshot date(s)" % n)
    else:
        sys.exit("unknown command " + cmd)
EOF

RECIPE=""
# Run a make step and remember it for recipe.txt.
step() {
	local a line=""
	for a in "$@"; do
		case $a in
		*[!A-Za-z0-9_.,=/:+-]*) a="'$a'" ;;
		esac
		line+="${line:+ }$a"
	done
	RECIPE+="$line"$'\n'
	"$@" >/dev/null
}
img() { step "$QEMU_IMG" "$@"; }
io() { step "$QEMU_IO" "$@"; }
edit() { step python3 edit.py "$@"; }
# Some guest data: two 64 KiB runs of a pattern, one 512 B run.
data() {
	io -f "$1" -c 'write -P 0x11 0 64k' -c 'write -P 0x22 1M 64k' \
		-c 'write -P 0x33 4M 512' "$2"
}

IMAGES=()
begin() {
	IMAGES+=("$1")
	RECIPE=""
}
finish() { # image-name file
	mkdir -p "$WORK/recipes"
	printf '%s' "${RECIPE//$QEMU_IMG/qemu-img}" |
		sed "s|$QEMU_IO|qemu-io|g" >"$WORK/recipes/$1"
	printf '%s\n' "$2" >"$WORK/recipes/$1.file"
}

begin v2_64k
img create -f qcow2 -o compat=0.10 v2_64k.qcow2 64M
data qcow2 v2_64k.qcow2
finish v2_64k v2_64k.qcow2

begin v2_512
img create -f qcow2 -o compat=0.10,cluster_size=512 v2_512.qcow2 64M
data qcow2 v2_512.qcow2
finish v2_512 v2_512.qcow2

begin v3_64k
img create -f qcow2 -o compat=1.1 v3_64k.qcow2 64M
data qcow2 v3_64k.qcow2
finish v3_64k v3_64k.qcow2

begin v3_512
img create -f qcow2 -o compat=1.1,cluster_size=512 v3_512.qcow2 64M
data qcow2 v3_512.qcow2
finish v3_512 v3_512.qcow2

begin backing
img create -f qcow2 base.qcow2 64M
data qcow2 base.qcow2
img create -f qcow2 -b base.qcow2 -F qcow2 backing.qcow2
io -f qcow2 -c 'write -P 0x44 64k 64k' backing.qcow2
finish backing backing.qcow2

begin lazy
img create -f qcow2 -o lazy_refcounts=on lazy.qcow2 64M
data qcow2 lazy.qcow2
finish lazy lazy.qcow2

begin dirty
img create -f qcow2 -o lazy_refcounts=on dirty.qcow2 64M
data qcow2 dirty.qcow2
edit setbit dirty.qcow2 incompat 0
finish dirty dirty.qcow2

begin snapshot
img create -f qcow2 snapshot.qcow2 64M
data qcow2 snapshot.qcow2
img snapshot -c snap1 snapshot.qcow2
io -f qcow2 -c 'write -P 0x55 0 64k' snapshot.qcow2
img snapshot -c snap2 snapshot.qcow2
edit pindates snapshot.qcow2
finish snapshot snapshot.qcow2

begin bitmap
img create -f qcow2 bitmap.qcow2 64M
data qcow2 bitmap.qcow2
img bitmap --add bitmap.qcow2 bm0
img bitmap --add -g 128k --disable bitmap.qcow2 bm1
finish bitmap bitmap.qcow2

begin zstd
img create -f raw zstd-src.raw 64M
data raw zstd-src.raw
img convert -c -f raw -O qcow2 -o compression_type=zstd zstd-src.raw zstd.qcow2
finish zstd zstd.qcow2

begin raw
img create -f raw raw.raw 64M
data raw raw.raw
finish raw raw.raw

begin leak
img create -f qcow2 leak.qcow2 64M
data qcow2 leak.qcow2
edit leak leak.qcow2
finish leak leak.qcow2

begin refcount0
img create -f qcow2 refcount0.qcow2 64M
data qcow2 refcount0.qcow2
edit refcount0 refcount0.qcow2
finish refcount0 refcount0.qcow2

begin corrupt_bit
img create -f qcow2 corrupt_bit.qcow2 64M
data qcow2 corrupt_bit.qcow2
edit setbit corrupt_bit.qcow2 incompat 1
finish corrupt_bit corrupt_bit.qcow2

# Beyond the basic set: more features and damage that info/check report.
begin zlib
img create -f raw zlib-src.raw 64M
data raw zlib-src.raw
img convert -c -f raw -O qcow2 zlib-src.raw zlib.qcow2
finish zlib zlib.qcow2

begin extl2
img create -f qcow2 -o extended_l2=on extl2.qcow2 64M
data qcow2 extl2.qcow2
finish extl2 extl2.qcow2

begin datafile
img create -f qcow2 -o data_file=datafile-data.raw datafile.qcow2 64M
data qcow2 datafile.qcow2
finish datafile datafile.qcow2

begin cutdata
img create -f qcow2 cutdata.qcow2 64M
data qcow2 cutdata.qcow2
edit cutdata cutdata.qcow2
finish cutdata cutdata.qcow2

begin unknown_incompat
img create -f qcow2 unknown_incompat.qcow2 64M
data qcow2 unknown_incompat.qcow2
edit setbit unknown_incompat.qcow2 incompat 20
finish unknown_incompat unknown_incompat.qcow2

begin snapshot_wide
img create -f qcow2 snapshot_wide.qcow2 64M
data qcow2 snapshot_wide.qcow2
img snapshot -c a-snapshot-tag-longer-than-its-column snapshot_wide.qcow2
io -f qcow2 -c 'write -P 0x55 0 64k' snapshot_wide.qcow2
img snapshot -c s2 snapshot_wide.qcow2
edit pindates snapshot_wide.qcow2
edit snapclock snapshot_wide.qcow2 0 44442367089000000 12345678901234
edit snapclock snapshot_wide.qcow2 1 443045678000000 123456789
finish snapshot_wide snapshot_wide.qcow2

begin bitmap_inuse
img create -f qcow2 bitmap_inuse.qcow2 64M
data qcow2 bitmap_inuse.qcow2
img bitmap --add bitmap_inuse.qcow2 bm0
edit bitmap_inuse bitmap_inuse.qcow2
finish bitmap_inuse bitmap_inuse.qcow2

begin backing_nofmt
img create -f qcow2 base_nofmt.qcow2 64M
data qcow2 base_nofmt.qcow2
img create -f qcow2 -b base_nofmt.qcow2 -F qcow2 backing_nofmt.qcow2
edit dropext backing_nofmt.qcow2 0xe2792aca
finish backing_nofmt backing_nofmt.qcow2

begin backing_missing
img create -f qcow2 -u -b gone.qcow2 -F qcow2 backing_missing.qcow2 64M
finish backing_missing backing_missing.qcow2

begin l2_unaligned
img create -f qcow2 l2_unaligned.qcow2 64M
data qcow2 l2_unaligned.qcow2
edit l2unalign l2_unaligned.qcow2
finish l2_unaligned l2_unaligned.qcow2

begin subcluster_bad
img create -f qcow2 -o extended_l2=on subcluster_bad.qcow2 64M
data qcow2 subcluster_bad.qcow2
edit subclusterbad subcluster_bad.qcow2
finish subcluster_bad subcluster_bad.qcow2

begin l1_far
img create -f qcow2 l1_far.qcow2 64M
data qcow2 l1_far.qcow2
edit l1far l1_far.qcow2
finish l1_far l1_far.qcow2

begin reftable0
img create -f qcow2 reftable0.qcow2 64M
data qcow2 reftable0.qcow2
edit reftable0 reftable0.qcow2
finish reftable0 reftable0.qcow2

# Capture. Every run is from $WORK, on the bare file name.
run() { # dir name launcher args...
	local dir=$1 name=$2 rc=0
	shift 2
	"$@" >"$dir/$name.out" 2>"$dir/$name.err" || rc=$?
	printf '%s\n' "$rc" >"$dir/$name.rc"
}

sha256sum -- *.qcow2 *.raw >"$WORK/images.sha256"
NEW=$(mktemp -d "$HERE/.samples.XXXXXX")
trap 'rm -rf "$WORK" "$NEW"' EXIT
for im in "${IMAGES[@]}"; do
	mkdir -p "$NEW/$im"
	{
		printf '# made with qemu-img/qemu-io %s, in an empty dir; edit.py is\n' \
			"$("$QEMU_IMG" --version | head -n1 | cut -d' ' -f3)"
		printf '# the qcow2 editor inside capture_samples.sh\n'
		cat "recipes/$im"
	} >"$NEW/$im/recipe.txt"
done
for v in "${VERSIONS[@]}"; do
	q=$ORACLES/bin/qemu-img-$v
	for im in "${IMAGES[@]}"; do
		file=$(cat "recipes/$im.file")
		d=$NEW/$im/$v
		mkdir -p "$d"
		run "$d" info "$q" info "$file"
		run "$d" info.json "$q" info --output=json "$file"
		run "$d" check "$q" check "$file"
		run "$d" check.json "$q" check --output=json "$file"
	done
	# Every version must see the same bytes: none may have written.
	sha256sum -c --quiet "$WORK/images.sha256" ||
		die "qemu-img $v changed an image"
done
{
	printf 'qemu-img versions that made these samples:\n'
	for v in "${VERSIONS[@]}"; do
		printf '%-5s %s\n' "$v" "$("$ORACLES/bin/qemu-img-$v" --version | head -n1)"
	done
} >"$NEW/VERSIONS"
chmod -R a+rX "$NEW"
rm -rf "$OUT"
mv -T "$NEW" "$OUT"
echo "capture_samples: wrote $OUT (${#IMAGES[@]} images x ${#VERSIONS[@]} versions)"
