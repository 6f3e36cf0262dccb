#!/usr/bin/env python3
"""make_info_images.py DIR — build the `qemu-img info` corpus in DIR.

The images the `qemu-img info` samples were captured on, built with
qcow2_build.py and the layout of tests/tools/qcow2_fixture.py: qcow2
images for every line of info's output (versions 2 and 3, every feature
bit, cluster and refcount sizes, virtual sizes, backing files and
formats, snapshots, bitmaps, external data files, encryption headers)
and for every header error QEMU reports, in QEMU's order; raw files and file-level cases (locks, permissions,
odd file names, path forms); and other formats (vmdk, vpc, vhdx, vdi,
qed, qcow, parallels made by the system's /usr/bin/qemu-img create with
their random fields pinned afterwards; bochs, cloop, LUKS crafted here).
Most files go in DIR itself, some in DIR/dir/ to test paths.

Two index files (format: README.md):

  DIR/images.txt  name <TAB> file <TAB> description, one line per case
  DIR/runs.txt    name <TAB> variant <TAB> cwd <TAB> argument <TAB> mode,
                  one line per sample: each variant (the plain run "info"
                  from the image's directory on its bare name, and the
                  others: sub-directory, absolute path, TZ, -U, -f, lock
                  bytes held, a qemu-io holding the image, run as nobody)
                  and its --output=json twin, "<variant>.json"

DIR must be absent or empty. Deterministic: no clock, no randomness; two
runs give the same bytes (the foreign formats too, once pinned, for one
version of the system's qemu-img). "disk size" in info's output is
st_blocks and so depends on the file system as well: sync before
running a tool on the corpus (ext4's delayed allocation changes
st_blocks when the data reaches the disk).

The qcow2 images share one layout (qcow2_image below): header, refcount
table, one refcount block, the L1 table (at least one cluster), then an
L2 table and data for guest clusters 0, 16 and 64 (filled with
0x11 + cluster), empty L1 tables for the snapshots, the snapshot table,
bitmap tables, the bitmap directory, the LUKS header. Every cluster the
layout allocates has refcount 1: info never checks refcounts.

Trust: test code; python3 stdlib, plus /usr/bin/qemu-img for the foreign
formats only; writes only under DIR.
"""
import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import qcow2_fixture as qf  # noqa: E402
from qcow2_build import (  # noqa: E402
    PIN_DATE, Buffer, Image, cdiv, index_field, snapshot_extra, write_index)
from qcow2_fixture import (  # noqa: E402
    AUTOCLEAR_BITMAPS, AUTOCLEAR_DATA_FILE_RAW, COMPAT_LAZY_REFCOUNTS,
    EXT_BACKING_FORMAT, INCOMPAT_COMPRESSION, INCOMPAT_CORRUPT,
    INCOMPAT_DATA_FILE, INCOMPAT_DIRTY, INCOMPAT_EXTL2)

QEMU_IMG = "/usr/bin/qemu-img"
MiB = 1 << 20
COMPAT_LAZY = COMPAT_LAZY_REFCOUNTS

IMAGES = []          # (name, description, builder, runs)


def image(name, desc, runs=None):
    """Register builder(d) -> the case's file relative to DIR (None: no
    file of its own).

    runs: None = the default run (variant "info", from the file's
    directory, on its bare name), else a list of (variant, cwd, arg,
    mode, env): cwd and arg may use {dir} (the file's directory), {base}
    (its bare name), {path} (its path relative to DIR), {abs} (its
    absolute path: "@DIR@/{path}" in runs.txt); mode: "+"-separated
    tokens of runs.txt (README.md); env: "" or TZ=ZONE."""
    def deco(fn):
        IMAGES.append((name, desc, fn, runs))
        return fn
    return deco


# ----------------------------------------------------------------------
# The layout of the corpus's qcow2 images
# ----------------------------------------------------------------------

INFO_SNAPSHOT_KEYS = {"id", "name", "date_sec", "date_nsec", "vm_clock_nsec",
                      "vm_state_size32", "extra", "icount", "vm_state_size"}
INFO_BITMAP_KEYS = {"name", "flags", "granularity_bits", "typ", "extra",
                    "table_size", "table_offset"}


def qcow2_image(version=3, cluster_bits=16, size=64 << 20, refcount_order=4,
                incompat=0, compat=0, autoclear=0, compression_type=0,
                header_length=None, crypt_method=0, backing=None,
                backing_fmt=None, data_file=None, feature_table="default",
                extra_exts=(), raw_exts=None, snapshots=(), bitmaps=None,
                bitmap_ext=None, luks=None, crypto_ext=None,
                data_clusters=(0, 16, 64), hdr=None, patches=(),
                l1_size=None):
    """A finalized qcow2_build.Image in the corpus's layout (see the
    module docstring); save() it.

    incompat is exactly the header's (an external data file's name and
    incompatible bit 2 are independent: with the bit set there is no
    guest data). compression_type None: header_length 104, no
    compression type field. header_length below 104: the extensions
    still start at 112. feature_table: "default" (QEMU's table, version
    3 only), None, or the extension's data. snapshots: dicts of id, name
    and optionally date_sec, date_nsec, vm_clock_nsec, vm_state_size32,
    extra (the raw extra data), icount, vm_state_size; each gets an
    empty L1 table. bitmaps: dicts of name and optionally flags (0),
    granularity_bits (16), typ (1), extra, table_size (1), table_offset
    (else one cluster is allocated). luks: a LUKS header to store, the
    crypto extension pointing at it unless crypto_ext. hdr: header
    fields to override (magic as bytes). patches: (offset, bytes)
    written last."""
    cs = 1 << cluster_bits
    extl2 = bool(incompat & INCOMPAT_EXTL2)
    l2_entries = cs // (qf.EXTL2_ENTRY_SIZE if extl2 else qf.L2_ENTRY_SIZE)
    if l1_size is None:
        l1_size = max(1, cdiv(size, cs * l2_entries))
    if version >= 3:
        hl = header_length
        if hl is None:
            hl = qf.V3_HEADER_LENGTH if compression_type is None \
                else qf.QEMU_V3_HEADER_LENGTH
        ext_off = qf.QEMU_V3_HEADER_LENGTH if hl < qf.V3_HEADER_LENGTH else hl
    else:
        hl = ext_off = qf.V2_HEADER_LENGTH
    if feature_table == "default":
        feature_table = version >= 3
    im = Image(cluster_bits=cluster_bits, version=version,
               refcount_order=refcount_order, size=size, extl2=extl2,
               compat=compat, autoclear=autoclear, backing=backing,
               backing_fmt=backing_fmt, data_file=data_file,
               l1_size=l1_size,
               l1_clusters=max(1, cdiv(l1_size * qf.L1_ENTRY_SIZE, cs)),
               header_length=hl, extensions_offset=ext_off,
               feature_table=feature_table or False,
               compression_type=compression_type or 0,
               crypt_method=crypt_method)
    im.incompat = incompat
    im.bitmaps_autoclear = False

    # guest data: the L2 table first, then the cluster
    if not incompat & INCOMPAT_DATA_FILE:
        for gc in data_clusters:
            if gc * cs >= size or gc // l2_entries >= l1_size:
                continue
            im.l2_for(gc)
            im.write_data(gc, 0x11 + gc % 0xEE)

    # snapshots: entries with empty L1 tables of their own
    for sn in snapshots:
        assert set(sn) <= INFO_SNAPSHOT_KEYS, sn
        extra = sn.get("extra")
        if extra is None:
            extra = snapshot_extra(size, sn.get("vm_state_size", 0),
                                   sn.get("icount"))
        l1_off = im.alloc(max(1, cdiv(l1_size * qf.L1_ENTRY_SIZE, cs)))
        im.add_snapshot_entry(
            l1_off, l1_size, sn["id"], sn["name"], extra,
            date_sec=sn.get("date_sec", PIN_DATE),
            date_nsec=sn.get("date_nsec", 0),
            vm_clock_nsec=sn.get("vm_clock_nsec", 0),
            vm_state_size=sn.get("vm_state_size32", 0))
    if snapshots:
        im.place_snapshot_table()

    # bitmaps: one table cluster each (unless placed), then the directory
    if bitmaps is not None:
        for bm in bitmaps:
            assert set(bm) <= INFO_BITMAP_KEYS, bm
            im.add_bitmap(bm["name"],
                          granularity_bits=bm.get("granularity_bits", 16),
                          flags=bm.get("flags", 0),
                          table_size=bm.get("table_size", 1),
                          table_offset=bm.get("table_offset"),
                          bitmap_type=bm.get("typ", 1),
                          extra=bm.get("extra", b""))
        im.place_bitmap_directory()
    im.bitmaps_ext = bitmap_ext

    # the LUKS header
    im.crypto_ext = crypto_ext
    if luks is not None:
        luks_off = im.alloc(max(1, cdiv(len(luks), cs)))
        im.put(luks_off, luks)
        if crypto_ext is None:
            im.crypto_ext = qf.pack_crypto_ext(luks_off, len(luks))

    im.extensions = list(extra_exts)
    im.raw_extensions = raw_exts
    hdr = dict(hdr or {})
    if "magic" in hdr:
        hdr["magic"] = int.from_bytes(hdr["magic"], "big")
    im.header_overrides = hdr
    # every allocated cluster has refcount 1, in the one refcount block
    im.extra_counts = {k: 1 for k in range(im.nclusters)}
    im.finalize()
    assert len(im.refblocks) == 1 and im.nclusters == len(im.buf) // cs
    for off, data in patches:
        im.put(off, data)
    return im


def q(path, **kw):
    qcow2_image(**kw).save(path)


def base_snaps(n=2):
    return [dict(id=str(i + 1), name="snap%d" % (i + 1),
                 vm_clock_nsec=i * 1500000000, icount=None)
            for i in range(n)]


def luks_header(payload_offset_sectors=4096, cipher=b"aes", mode=b"xts-plain64",
                hash_spec=b"sha256", key_bytes=64, mk_iters=1000,
                uuid=b"01234567-89ab-cdef-0123-456789abcdef", slots=None,
                magic=b"LUKS\xba\xbe", version=1):
    """A LUKS1 header (592 bytes). The key material is not real: info
    only parses the header.

    slots: 8 x (active, iterations, key_offset_sectors, stripes)."""
    if slots is None:
        slots = []
        for i in range(8):
            active = 0x00AC71F3 if i == 0 else 0x0000DEAD
            slots.append((active, 2000 if i == 0 else 0,
                          8 + i * 512, 4000))
    h = magic + struct.pack(">H", version)
    h += cipher.ljust(32, b"\0") + mode.ljust(32, b"\0")
    h += hash_spec.ljust(32, b"\0")
    h += struct.pack(">II", payload_offset_sectors, key_bytes)
    h += bytes(range(1, 21))            # master key digest
    h += bytes(range(32, 64))           # salt
    h += struct.pack(">I", mk_iters)
    h += uuid.ljust(40, b"\0")
    for active, iters, koff, stripes in slots:
        h += struct.pack(">II", active, iters) + bytes(range(64, 96))
        h += struct.pack(">II", koff, stripes)
    assert len(h) == 592, len(h)
    return h


# ----------------------------------------------------------------------
# A. basic qcow2 images: every line of the human dump, v2 and v3
# ----------------------------------------------------------------------

@image("v2_basic", "compat=0.10 (version 2), 64 MiB, 64 KiB clusters, "
       "three data clusters")
def _(d):
    q(d + "/v2_basic.qcow2", version=2)
    return "v2_basic.qcow2"


@image("v3_basic", "compat=1.1 (version 3), header_length 112 with "
       "compression type byte 0, feature name table, three data clusters",
       runs=[("info", ".", "{base}", "", ""),
             ("info-U", ".", "{base}", "U", ""),
             ("info-dot", ".", "./{base}", "", ""),
             ("info-abs", ".", "{abs}", "", ""),
             ("info-f-qcow2", ".", "{base}", "f=qcow2", ""),
             ("info-f-raw", ".", "{base}", "f=raw", "")])
def _(d):
    q(d + "/v3_basic.qcow2")
    return "v3_basic.qcow2"


@image("v3_hl104", "version 3, header_length 104: no compression type "
       "field (zlib assumed), no feature table")
def _(d):
    q(d + "/v3_hl104.qcow2", compression_type=None, feature_table=None)
    return "v3_hl104.qcow2"


@image("v3_hl120", "version 3, header_length 120: 8 bytes of unknown "
       "header fields (non-zero) before the extensions")
def _(d):
    q(d + "/v3_hl120.qcow2", header_length=120,
      patches=[(112, b"\x55" * 8)])
    return "v3_hl120.qcow2"


@image("v3_cs512", "cluster_bits 9 (512-byte clusters), the minimum")
def _(d):
    q(d + "/v3_cs512.qcow2", cluster_bits=9)
    return "v3_cs512.qcow2"


@image("v3_cs2m_1p", "cluster_bits 21 (2 MiB, the maximum), virtual size "
       "1 PiB (L1 of 2048 entries)")
def _(d):
    q(d + "/v3_cs2m_1p.qcow2", cluster_bits=21, size=1 << 50)
    return "v3_cs2m_1p.qcow2"


@image("v3_lazy", "compatible feature bit 0: lazy refcounts true")
def _(d):
    q(d + "/v3_lazy.qcow2", compat=COMPAT_LAZY)
    return "v3_lazy.qcow2"


@image("v3_dirty", "incompatible bit 0 (dirty) with lazy refcounts: "
       "'cleanly shut down: no' / dirty-flag true in 7.2+, nothing in 5.2")
def _(d):
    q(d + "/v3_dirty.qcow2", compat=COMPAT_LAZY, incompat=INCOMPAT_DIRTY)
    return "v3_dirty.qcow2"


@image("v3_dirty_nolazy", "dirty bit set without lazy refcounts")
def _(d):
    q(d + "/v3_dirty_nolazy.qcow2", incompat=INCOMPAT_DIRTY)
    return "v3_dirty_nolazy.qcow2"


@image("v3_corrupt", "incompatible bit 1 (corrupt): info opens it "
       "read-only and reports corrupt: true")
def _(d):
    q(d + "/v3_corrupt.qcow2", incompat=INCOMPAT_CORRUPT)
    return "v3_corrupt.qcow2"


@image("v3_dirty_corrupt", "dirty and corrupt bits")
def _(d):
    q(d + "/v3_dirty_corrupt.qcow2",
      incompat=INCOMPAT_CORRUPT | INCOMPAT_DIRTY, compat=COMPAT_LAZY)
    return "v3_dirty_corrupt.qcow2"


@image("v3_extl2", "incompatible bit 4: extended L2 entries, 64 KiB "
       "clusters")
def _(d):
    q(d + "/v3_extl2.qcow2", incompat=INCOMPAT_EXTL2)
    return "v3_extl2.qcow2"


@image("v3_extl2_16k", "extended L2 with 16 KiB clusters (512-byte "
       "subclusters, the smallest allowed)")
def _(d):
    q(d + "/v3_extl2_16k.qcow2", incompat=INCOMPAT_EXTL2, cluster_bits=14)
    return "v3_extl2_16k.qcow2"


@image("v3_zstd", "compression type 1 (zstd) with incompatible bit 3; "
       "5.2's Debian build has no zstd")
def _(d):
    q(d + "/v3_zstd.qcow2", compression_type=1,
      incompat=INCOMPAT_COMPRESSION)
    return "v3_zstd.qcow2"


for _o in (0, 1, 3, 5, 6):
    @image("v3_refcount_order%d" % _o,
           "refcount_order %d: refcount bits %d" % (_o, 1 << _o))
    def _(d, o=_o):
        q(d + "/v3_refcount_order%d.qcow2" % o, refcount_order=o)
        return "v3_refcount_order%d.qcow2" % o


@image("v3_compat_unknown", "unknown compatible feature bit 7 "
       "(ignored)")
def _(d):
    q(d + "/v3_compat_unknown.qcow2", compat=1 << 7)
    return "v3_compat_unknown.qcow2"


@image("v3_autoclear_unknown", "unknown autoclear bit 5 (ignored; "
       "read-only open does not clear it)")
def _(d):
    q(d + "/v3_autoclear_unknown.qcow2", autoclear=1 << 5)
    return "v3_autoclear_unknown.qcow2"


@image("v3_all_features", "lazy, dirty, corrupt, extended L2, zstd, "
       "bitmaps, external data file (raw), backing file and format, "
       "two snapshots: every optional line at once",
       runs=[("info", ".", "{base}", "", "")])
def _(d):
    data = d + "/all-data.raw"
    with open(data, "wb") as f:
        f.truncate(64 * MiB)
    q(d + "/v3_all_features.qcow2", compat=COMPAT_LAZY,
      incompat=(INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_EXTL2 |
                INCOMPAT_COMPRESSION | INCOMPAT_DATA_FILE),
      compression_type=1, autoclear=AUTOCLEAR_BITMAPS |
      AUTOCLEAR_DATA_FILE_RAW, data_file="all-data.raw",
      backing="all-base.qcow2", backing_fmt="qcow2",
      bitmaps=[dict(name="b0", flags=2), dict(name="b1", flags=1)],
      snapshots=base_snaps(2))
    return "v3_all_features.qcow2"


@image("v2_all_features", "version 2 with backing file and format and "
       "snapshots (v2 snapshot entries have no extra data)")
def _(d):
    q(d + "/v2_all_features.qcow2", version=2, backing="base.qcow2",
      backing_fmt="qcow2",
      snapshots=[dict(id="1", name="old", extra=b"",
                      vm_state_size32=123456)])
    return "v2_all_features.qcow2"


# virtual sizes (qcow2 header size field, rounded down to 512)
for _n, _s in (("0", 0), ("1000", 1000), ("511", 511), ("513", 513),
               ("1023488", 1023488), ("1048064", 1048064),
               ("999_5m", 1048051712), ("1g", 1 << 30),
               ("1t_minus1", (1 << 40) - 1), ("2p", 1 << 51)):
    @image("vsize_%s" % _n, "qcow2 virtual size field = %d bytes" % _s)
    def _(d, n=_n, s=_s):
        cb = 21 if s > (1 << 44) else 16
        q(d + "/vsize_%s.qcow2" % n, size=s, cluster_bits=cb,
          l1_size=None if s else 0, data_clusters=[])
        return "vsize_%s.qcow2" % n


@image("vsize_u64max", "size field 2^64-1: the L1 index computation wraps "
       "to 0, so the L1 checks pass; the size is then refused")
def _(d):
    q(d + "/vsize_u64max.qcow2", size=(1 << 64) - 1, l1_size=1,
      data_clusters=[])
    return "vsize_u64max.qcow2"


@image("vsize_2_63", "size field 2^63: 'Image is too big'")
def _(d):
    q(d + "/vsize_2_63.qcow2", size=1 << 63, l1_size=1, data_clusters=[])
    return "vsize_2_63.qcow2"


# ----------------------------------------------------------------------
# B. raw images and file-level cases
# ----------------------------------------------------------------------

for _n, _s in (("0", 0), ("1", 1), ("511", 511), ("512", 512),
               ("1023487", 1023487), ("10g", 10 << 30),
               ("15t_plus_1", (15 << 40) + 1)):
    @image("raw_%s" % _n, "raw file of %d bytes (sparse); sizes round up "
           "to 512 bytes" % _s)
    def _(d, n=_n, s=_s):
        p = "raw_%s.raw" % n
        with open(d + "/" + p, "wb") as f:
            if s:
                f.write(b"R" * min(s, 512))
            f.truncate(s)
        return p


@image("raw_text", "a small text file: probed as raw; -f qcow2 refuses "
       "it", runs=[("info", ".", "{base}", "", ""),
                   ("info-f-qcow2", ".", "{base}", "f=qcow2", ""),
                   ("info-f-raw", ".", "{base}", "f=raw", "")])
def _(d):
    with open(d + "/raw_text.txt", "wb") as f:
        f.write(b"hello, this is not a disk image\n" * 40)
    return "raw_text.txt"


@image("raw_locked", "raw image held open read-write by qemu-io: "
       "locking error unless -U",
       runs=[("info", ".", "{base}", "qemu-io=rw", ""),
             ("info-U", ".", "{base}", "qemu-io=rw+U", "")])
def _(d):
    with open(d + "/raw_locked.raw", "wb") as f:
        f.truncate(1 * MiB)
    return "raw_locked.raw"


@image("qcow2_locked", "qcow2 image held open read-write by qemu-io; "
       "also opened by path with a directory part; and held only "
       "read-only (no conflict)",
       runs=[("info", "dir", "{base}", "qemu-io=rw", ""),
             ("info-U", "dir", "{base}", "qemu-io=rw+U", ""),
             ("info-sub", ".", "dir/{base}", "qemu-io=rw", ""),
             ("info-ro-holder", "dir", "{base}", "qemu-io=ro", "")])
def _(d):
    q(d + "/dir/qcow2_locked.qcow2")
    return "dir/qcow2_locked.qcow2"


@image("qcow2_lockbytes", "qcow2 image with QEMU's lock bytes held by "
       "another open file description: byte 100+1 (someone holds the "
       "write permission), 100+3 (resize), both, 100+0 (consistent read), "
       "200+0 (someone refuses to share consistent read); and a raw image "
       "with byte 101 held",
       runs=[("info-lock101", ".", "{base}", "ofdlock=101", ""),
             ("info-lock103", ".", "{base}", "ofdlock=103", ""),
             ("info-lock101-103", ".", "{base}", "ofdlock=101,103", ""),
             ("info-lock100", ".", "{base}", "ofdlock=100", ""),
             ("info-lock200", ".", "{base}", "ofdlock=200", ""),
             ("info-lock101-U", ".", "{base}", "ofdlock=101+U", ""),
             ("info-raw-lock101", ".", "raw_lockbytes.raw", "ofdlock=101",
              "")])
def _(d):
    q(d + "/qcow2_lockbytes.qcow2")
    with open(d + "/raw_lockbytes.raw", "wb") as f:
        f.truncate(MiB)
    return "qcow2_lockbytes.qcow2"


@image("lock_vs_errors", "lock byte 101 held on images that are "
       "broken (version 4; too much snapshot extra data) or warn (bitmaps "
       "without autoclear): the lock error comes first; a version-1 (qcow) "
       "header and a raw-probed file for comparison",
       runs=[("info-version4", ".", "lock_v4.qcow2", "ofdlock=101", ""),
             ("info-snapshot", ".", "lock_sn.qcow2", "ofdlock=101", ""),
             ("info-bitmapwarn", ".", "lock_bm.qcow2", "ofdlock=101", ""),
             ("info-qcow1", ".", "lock_v1.qcow2", "ofdlock=101", ""),
             ("info-version0", ".", "lock_v0.qcow2", "ofdlock=101", "")])
def _(d):
    q(d + "/lock_v4.qcow2", hdr=dict(version=4))
    q(d + "/lock_sn.qcow2",
      snapshots=[dict(id="1", name="a", extra=b"\0" * 1025)])
    q(d + "/lock_bm.qcow2", bitmaps=[dict(name="b")])
    q(d + "/lock_v1.qcow2", hdr=dict(version=1))
    q(d + "/lock_v0.qcow2", hdr=dict(version=0))
    return None


@image("missing", "a file name that does not exist",
       runs=[("info", ".", "missing.qcow2", "", ""),
             ("info-sub", ".", "dir/missing.qcow2", "", ""),
             ("info-nodir", ".", "nodir/missing.qcow2", "", "")])
def _(d):
    return None


@image("directory", "a directory given as the image",
       runs=[("info", ".", "adir", "", "")])
def _(d):
    os.makedirs(d + "/adir", exist_ok=True)
    return None


@image("noperm", "a mode-000 file opened by an unprivileged user "
       "(uid 65534)",
       runs=[("info", ".", "{base}", "nobody", "")])
def _(d):
    p = d + "/noperm.qcow2"
    q(p)
    os.chmod(p, 0)
    return "noperm.qcow2"


@image("devnull", "/dev/null: a character device, probed as raw, size 0",
       runs=[("info", ".", "/dev/null", "", "")])
def _(d):
    return None


@image("name_space", "file name with a space",
       runs=[("info", ".", "name with space.qcow2", "", "")])
def _(d):
    q(d + "/name with space.qcow2")
    return "name with space.qcow2"


@image("name_utf8", "file name in UTF-8 (non-ASCII)",
       runs=[("info", ".", "n\u00e4me-\u20ac.qcow2", "", "")])
def _(d):
    q(d + "/n\u00e4me-\u20ac.qcow2")
    return "n\u00e4me-\u20ac.qcow2"


@image("name_ctrl", "file name with TAB, newline, ESC, DEL, quote, "
       "backslash",
       runs=[("info", ".", "c\ttrl\n\x1b\x7f\"\\.qcow2", "", "")])
def _(d):
    q(d + "/c\ttrl\n\x1b\x7f\"\\.qcow2")
    return "c\ttrl\n\x1b\x7f\"\\.qcow2"


@image("name_badutf8", "file name with bytes 0xff 0xc3 (invalid UTF-8)",
       runs=[("info", ".", b"bad\xff\xc3.qcow2", "", "")])
def _(d):
    q(os.fsencode(d) + b"/bad\xff\xc3.qcow2")
    return b"bad\xff\xc3.qcow2"


@image("name_colon", "file name 'a:b.qcow2': parsed as protocol 'a'",
       runs=[("info", ".", "a:b.qcow2", "", ""),
             ("info-dot", ".", "./a:b.qcow2", "", "")])
def _(d):
    q(d + "/a:b.qcow2")
    return "a:b.qcow2"


@image("name_file_prefix", "argument 'file:fp.qcow2': the file: prefix "
       "selects the protocol and is stripped",
       runs=[("info", ".", "file:fp.qcow2", "", ""),
             ("info-missing", ".", "file:fp-missing.qcow2", "", "")])
def _(d):
    q(d + "/fp.qcow2")
    return "fp.qcow2"


@image("name_json", "argument 'json:{...}' naming jv.qcow2 (built like "
       "v3_basic.qcow2)",
       runs=[("info", ".", 'json:{"file":{"driver":"file","filename":'
              '"jv.qcow2"}}', "", "")])
def _(d):
    q(d + "/jv.qcow2")
    return "jv.qcow2"


@image("path_forms", "the same image by bare name, ./name, dir/name, "
       "dir//name, ../dir/name and absolute path",
       runs=[("info", "dir", "{base}", "", ""),
             ("info-dot", "dir", "./{base}", "", ""),
             ("info-sub", ".", "dir/{base}", "", ""),
             ("info-dslash", ".", "dir//{base}", "", ""),
             ("info-dotdot", "dir", "../dir/{base}", "", ""),
             ("info-abs", ".", "{abs}", "", "")])
def _(d):
    q(d + "/dir/path_forms.qcow2")
    return "dir/path_forms.qcow2"


# ----------------------------------------------------------------------
# C. backing files
# ----------------------------------------------------------------------

PATH_RUNS = [("info", "dir", "{base}", "", ""),
             ("info-sub", ".", "dir/{base}", "", ""),
             ("info-abs", ".", "{abs}", "", "")]


def backing_image(name, desc, backing, fmt=None, runs=PATH_RUNS, **kw):
    @image(name, desc, runs=runs)
    def _(d):
        q(d + "/dir/%s.qcow2" % name, backing=backing, backing_fmt=fmt,
          **kw)
        return "dir/%s.qcow2" % name


backing_image("backing_fmt", "backing file 'base.qcow2' with format "
              "extension 'qcow2' (backing file not present)",
              "base.qcow2", "qcow2")
backing_image("backing_nofmt", "backing file without a format extension",
              "base.qcow2")
backing_image("backing_abs", "absolute backing file name",
              "/nonexistent/dir/base.raw", "raw")
backing_image("backing_subdir", "relative backing name with a directory",
              "sub/base.qcow2", "qcow2")
backing_image("backing_dotdot", "relative backing name '../base.qcow2'",
              "../base.qcow2", "qcow2")
backing_image("backing_json", "json: pseudo-protocol backing name",
              'json:{"driver":"raw","file":{"driver":"file",'
              '"filename":"base.raw"}}')
backing_image("backing_nbd", "protocol backing name nbd://...",
              "nbd://localhost:10809/export", "raw")
backing_image("backing_colon", "backing name 'a:b' (looks like a "
              "protocol prefix)", "a:b.qcow2", "qcow2")
backing_image("backing_1023", "backing name of 1023 bytes, the maximum",
              "b" * 1019 + ".img")
backing_image("backing_1024", "backing name of 1024 bytes: too long",
              "b" * 1020 + ".img")
backing_image("backing_pastcluster", "backing_file_size runs past the "
              "end of cluster 0", "base.qcow2",
              hdr=dict(backing_file_size=65000))
backing_image("backing_empty", "backing_file_offset set but size 0: "
              "no backing file", "")
backing_image("backing_ctrl", "backing and format names with TAB, "
              "newline, ESC, DEL, quote, backslash, 0x01",
              b'a\tb\nc\x1bd\x7fe"f\\g\x01h.qcow2', b'q\x1b"\\')
backing_image("backing_utf8", "backing name mixing valid UTF-8 (2, 3, "
              "4 bytes), U+FFFF, a surrogate, C0 80, an overlong, FF FE, "
              "a lone continuation byte and a truncated sequence",
              b"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf "
              b"\xed\xa0\x80 \xc0\x80 \xc0\xaf \xff\xfe \x80 \xe2\x82 "
              b"\xf4\x90\x80\x80 \xef\xb7\x90 end")
backing_image("backing_fmt15", "backing format name of 15 bytes",
              "base.qcow2", "f" * 15)
backing_image("backing_fmt16", "backing format name of 16 bytes: too "
              "long", "base.qcow2", "f" * 16)
backing_image("backing_fmt_empty", "backing format extension of "
              "length 0", "base.qcow2", "")
backing_image("backing_fmt_only", "backing format extension but no "
              "backing file", None, "qcow2")
backing_image("backing_v2", "version 2 image with a backing file",
              "base.qcow2", None, version=2)
backing_image("backing_snapshots", "backing file, format and snapshots "
              "(JSON key order with both)", "base.qcow2", "qcow2",
              snapshots=base_snaps(1))


@image("backing_two_fmt_ext", "two backing format extensions: the "
       "second wins")
def _(d):
    q(d + "/backing_two_fmt_ext.qcow2", backing="base.qcow2",
      backing_fmt="first", extra_exts=[(EXT_BACKING_FORMAT, b"second")])
    return "backing_two_fmt_ext.qcow2"


# ----------------------------------------------------------------------
# D. snapshots
# ----------------------------------------------------------------------

@image("snap_basic", "two snapshots with icount, pinned dates; also run "
       "in other time zones",
       runs=[("info", ".", "{base}", "", ""),
             ("info-tz-newyork", ".", "{base}", "",
              "TZ=America/New_York"),
             ("info-tz-kolkata", ".", "{base}", "", "TZ=Asia/Kolkata"),
             ("info-tz-bogus", ".", "{base}", "", "TZ=Nowhere/Bogus")])
def _(d):
    q(d + "/snap_basic.qcow2", snapshots=[
        dict(id="1", name="first", icount=0, vm_state_size=0),
        dict(id="2", name="second", vm_clock_nsec=3723004000000,
             icount=123456, vm_state_size=10 * MiB,
             date_sec=PIN_DATE + 86399, date_nsec=123456789)])
    return "snap_basic.qcow2"


@image("snap_many", "40 snapshots")
def _(d):
    q(d + "/snap_many.qcow2", snapshots=[
        dict(id=str(i + 1), name="s%02d" % i, vm_clock_nsec=i * 10 ** 9,
             icount=i * 1000, vm_state_size=i * 4096,
             date_sec=PIN_DATE + i * 3600) for i in range(40)])
    return "snap_many.qcow2"


def _fields():
    S = []
    S.append(dict(id="1", name="noextra", extra=b""))
    S.append(dict(id="2", name="extra8",
                  extra=qf.be(8, 123456789)))
    S.append(dict(id="3", name="extra16", vm_state_size=1 << 40))
    S.append(dict(id="4", name="extra24", icount=0))
    S.append(dict(id="5", name="extra32", extra=qf.pack_snapshot_extra(
        1023488, 64 * MiB, 42) + qf.be(8, 0xdeadbeef)))
    S.append(dict(id="6", name="vm32only", extra=b"",
                  vm_state_size32=1536))
    S.append(dict(id="7", name="both32and64", extra=snapshot_extra(
        64 * MiB, 10240), vm_state_size32=99))
    S.append(dict(id="8", name="clock-max", vm_clock_nsec=(1 << 64) - 1,
                  icount=(1 << 63) - 1))
    S.append(dict(id="9", name="clock-2^63", vm_clock_nsec=1 << 63,
                  icount=1 << 63))
    S.append(dict(id="10", name="clock-9999h",
                  vm_clock_nsec=3600 * 10 ** 9 * 10000 - 1,
                  icount=(1 << 64) - 2))
    S.append(dict(id="11", name="clock-100h",
                  vm_clock_nsec=3600 * 10 ** 9 * 100 + 999999,
                  icount=(1 << 64) - 1))
    S.append(dict(id="1234567890", name="id-of-10"))
    S.append(dict(id="123456789", name="id-of-9"))
    S.append(dict(id="1234567", name="id-of-7"))
    S.append(dict(id="12345678", name="tag-exactly-16ch"))
    S.append(dict(id="b", name="tag-of-seventeen!"))
    S.append(dict(id="x" * 200, name="y" * 300))
    S.append(dict(id="", name=""))
    S.append(dict(id="a\tb", name=b"\x1b\xff\xc3\xa9\"\\\x7f"))
    S.append(dict(id="d1", name="date-max", date_sec=0xFFFFFFFF,
                  date_nsec=999999999))
    S.append(dict(id="d2", name="date-zero", date_sec=0,
                  date_nsec=0xFFFFFFFF))
    S.append(dict(id="d3", name="date-2038", date_sec=0x80000000))
    return S


@image("snap_fields", "snapshot entries exercising every field: extra "
       "data sizes 0/8/16/24/32, 32- and 64-bit VM state sizes, huge VM "
       "clocks and icounts, long/empty/odd ids and names, date extremes",
       runs=[("info", ".", "{base}", "", ""),
             ("info-tz-newyork", ".", "{base}", "",
              "TZ=America/New_York")])
def _(d):
    q(d + "/snap_fields.qcow2", snapshots=_fields())
    return "snap_fields.qcow2"


SIZES = [0, 1, 512, 999, 1000, 1001, 1023, 1024, 1025, 1029, 1034, 1535,
         1536, 1537, 10239, 10240, 10752, 11776, 102400, 118272, 119296,
         197120, 198144, 1022976, 1023487, 1023488, 1047552, 1048063,
         1048064, 1048575, 1048576, 1572864, 1048051712, 1048052736,
         1073741823, 1073741824, 12345678901, (1 << 40) - 1, 1 << 40,
         3 << 39, 1 << 50, 1 << 60, 1 << 62, (1 << 63) - 1, 1 << 63,
         (1 << 64) - 1024, (1 << 64) - 1]


@image("snap_sizes", "one snapshot per VM state size: the human size "
       "formatter on %d values from 0 to 2^64-1" % len(SIZES))
def _(d):
    q(d + "/snap_sizes.qcow2", snapshots=[
        dict(id=str(i), name=str(s), vm_state_size=s, icount=i)
        for i, s in enumerate(SIZES)])
    return "snap_sizes.qcow2"


@image("snap_v2", "version 2 image, snapshot entry with no extra data "
       "and a 32-bit VM state size")
def _(d):
    q(d + "/snap_v2.qcow2", version=2, snapshots=[
        dict(id="1", name="v2snap", extra=b"", vm_state_size32=4096)])
    return "snap_v2.qcow2"


@image("snap_pasteof", "nb_snapshots 2, table beyond the end of the "
       "file: reads as zeros (empty ids and names, 1970 dates)")
def _(d):
    q(d + "/snap_pasteof.qcow2",
      hdr=dict(nb_snapshots=2, snapshots_offset=1 << 32))
    return "snap_pasteof.qcow2"


@image("snap_far", "snapshot table at 0x7fffffffffff0000: past QEMU's "
       "maximum request offset (EIO in 7.2+, zeros in 5.2)")
def _(d):
    q(d + "/snap_far.qcow2",
      hdr=dict(nb_snapshots=1, snapshots_offset=0x7FFFFFFFFFFF0000))
    return "snap_far.qcow2"


@image("snap_extra1024", "snapshot extra data of 1024 bytes (the "
       "maximum), all 0x01")
def _(d):
    q(d + "/snap_extra1024.qcow2",
      snapshots=[dict(id="1", name="big", extra=b"\1" * 1024)])
    return "snap_extra1024.qcow2"


@image("snap_extra1025", "snapshot extra data of 1025 bytes: refused, "
       "with a hint line")
def _(d):
    q(d + "/snap_extra1025.qcow2",
      snapshots=[dict(id="1", name="big", extra=b"\0" * 1025)])
    return "snap_extra1025.qcow2"


@image("snap_extra_second", "the second snapshot has too much extra "
       "data: the message names entry 1")
def _(d):
    q(d + "/snap_extra_second.qcow2",
      snapshots=[dict(id="1", name="a"),
                 dict(id="2", name="b", extra=b"\0" * 2000)])
    return "snap_extra_second.qcow2"


@image("snap_toomany", "nb_snapshots 65537: over the 65536 limit")
def _(d):
    q(d + "/snap_toomany.qcow2",
      hdr=dict(nb_snapshots=65537, snapshots_offset=0x50000))
    return "snap_toomany.qcow2"


@image("snap_unaligned", "snapshot table offset not cluster aligned")
def _(d):
    q(d + "/snap_unaligned.qcow2",
      hdr=dict(nb_snapshots=1, snapshots_offset=0x50008))
    return "snap_unaligned.qcow2"


@image("snap_offset_overflow", "snapshot table offset + size overflows "
       "INT64_MAX")
def _(d):
    q(d + "/snap_offset_overflow.qcow2",
      hdr=dict(nb_snapshots=2, snapshots_offset=0x8000000000000000))
    return "snap_offset_overflow.qcow2"


@image("snap_count0_unaligned", "nb_snapshots 0 with an unaligned "
       "table offset: still checked")
def _(d):
    q(d + "/snap_count0_unaligned.qcow2",
      hdr=dict(nb_snapshots=0, snapshots_offset=0x123))
    return "snap_count0_unaligned.qcow2"


@image("snap_count0_huge", "nb_snapshots 0 with offset 2^63")
def _(d):
    q(d + "/snap_count0_huge.qcow2",
      hdr=dict(nb_snapshots=0, snapshots_offset=1 << 63))
    return "snap_count0_huge.qcow2"


@image("snap_table_toobig", "520 snapshot headers each announcing 1024 "
       "bytes of extra data and 65535-byte id and name: the table passes "
       "64 MiB (sparse file)")
def _(d):
    n = 520
    es = qf.SNAPSHOT_HEADER_SIZE + 1024 + 65535 + 65535
    es += len(qf.pad(es, qf.SNAPSHOT_ALIGN))
    im = qcow2_image(hdr=dict(nb_snapshots=n))
    base = cdiv(len(im.buf), im.cs) * im.cs
    entry = qf.pack_snapshot_header(
        l1_table_offset=0, l1_size=0, id_str_size=65535, name_size=65535,
        date_sec=PIN_DATE, date_nsec=0, vm_clock_nsec=0, vm_state_size=0,
        extra_data_size=1024)
    for i in range(n):
        im.put(base + i * es, entry)
    im.set_header_field("snapshots_offset", base)
    im.save(d + "/snap_table_toobig.qcow2")
    return "snap_table_toobig.qcow2"


# ----------------------------------------------------------------------
# E. header field errors, one each (in QEMU's check order)
# ----------------------------------------------------------------------

def err_image(name, desc, runs=None, **kw):
    @image(name, desc, runs=runs)
    def _(d):
        q(d + "/%s.qcow2" % name, **kw)
        return "%s.qcow2" % name


@image("hdr_badmagic", "magic QFI\\xfa: not qcow2, probed as raw; with "
       "-f qcow2 the qcow2 driver refuses it",
       runs=[("info", ".", "{base}", "", ""),
             ("info-f-qcow2", ".", "{base}", "f=qcow2", "")])
def _(d):
    q(d + "/hdr_badmagic.qcow2", hdr=dict(magic=b"QFI\xfa"))
    return "hdr_badmagic.qcow2"
err_image("hdr_version0", "version 0: no driver claims it, raw",
          runs=[("info", ".", "{base}", "", ""), ("info-f-qcow2", ".", "{base}", "f=qcow2", "")],
          hdr=dict(version=0))
err_image("hdr_version1", "version 1: the qcow (v1) driver claims it",
          runs=[("info", ".", "{base}", "", ""), ("info-f-qcow2", ".", "{base}", "f=qcow2", "")],
          hdr=dict(version=1))
err_image("hdr_version4", "version 4: unsupported",
          hdr=dict(version=4))
err_image("hdr_cluster_bits8", "cluster_bits 8: too small",
          hdr=dict(cluster_bits=8))
err_image("hdr_cluster_bits22", "cluster_bits 22: too large",
          hdr=dict(cluster_bits=22))
err_image("hdr_length100", "header_length 100 < 104", header_length=100)
err_image("hdr_length_gt_cluster", "header_length 65544 > cluster size",
          hdr=dict(header_length=65544))
err_image("hdr_backing_offset", "backing_file_offset past cluster 0",
          hdr=dict(backing_file_offset=65537, backing_file_size=3))
err_image("hdr_compression2", "compression type 2: unknown",
          compression_type=2)
err_image("hdr_compression1_nobit", "compression type 1 without "
          "incompatible bit 3", compression_type=1)
err_image("hdr_compression0_bit", "incompatible bit 3 with compression "
          "type 0", incompat=INCOMPAT_COMPRESSION)
err_image("hdr_incompat_bit5", "unknown incompatible bit 5",
          incompat=1 << 5)
err_image("hdr_incompat_named", "unknown incompatible bits 5, 7, 63; "
          "bits 5 and 7 named in the feature table (7 with a name longer "
          "than 46 bytes), 63 named only as a compatible feature",
          incompat=(1 << 5) | (1 << 7) | (1 << 63),
          feature_table=qf.pack_feature(0, 5, b"feature five") +
          qf.pack_feature(0, 7, (b"x" * 60)[:46]) +    # cut to the field
          qf.pack_feature(1, 63, b"c63"))
err_image("hdr_incompat_mixed", "known incompatible bits 1, 2 plus "
          "unknown 5 and 63: only the unknown ones are listed",
          incompat=(1 << 5) | (1 << 63) | INCOMPAT_DATA_FILE |
          INCOMPAT_CORRUPT)
err_image("hdr_incompat_named_order", "unknown bits 6 and 9 named in "
          "the table in the order 9, 6", incompat=(1 << 6) | (1 << 9),
          feature_table=qf.pack_feature(0, 9, b"nine") +
          qf.pack_feature(0, 6, b"six"))
err_image("hdr_subcluster", "extended L2 with 8 KiB clusters: "
          "subclusters of 256 bytes", incompat=INCOMPAT_EXTL2,
          cluster_bits=13)
err_image("hdr_refcount_order7", "refcount_order 7 (128 bits)",
          refcount_order=7)
err_image("hdr_reftable_clusters0", "refcount_table_clusters 0",
          hdr=dict(refcount_table_clusters=0))
err_image("hdr_reftable_toolarge", "refcount_table_clusters 2^24",
          hdr=dict(refcount_table_clusters=1 << 24))
err_image("hdr_reftable_128", "refcount_table_clusters 128 with 64 KiB "
          "clusters: 8 MiB, the maximum", hdr=dict(
              refcount_table_clusters=128))
err_image("hdr_reftable_129", "refcount_table_clusters 129: too large",
          hdr=dict(refcount_table_clusters=129))
err_image("hdr_reftable_unaligned", "refcount table offset not cluster "
          "aligned", hdr=dict(refcount_table_offset=0x10008))
err_image("hdr_reftable_overflow", "refcount table offset + size "
          "overflows INT64_MAX",
          hdr=dict(refcount_table_offset=0x8000000000000000))
err_image("hdr_reftable_far", "refcount table at 0x7ffffffffff00000: "
          "valid offset, but the read passes QEMU's maximum request "
          "offset 2^63-2^30 (EIO in 7.2+, zeros in 5.2)",
          hdr=dict(refcount_table_offset=0x7FFFFFFFFFF00000))
err_image("hdr_reftable_pasteof", "refcount table beyond EOF (reads "
          "zeros)", hdr=dict(refcount_table_offset=1 << 32))
err_image("hdr_l1_toolarge", "l1_size 0x400001: over 32 MiB",
          l1_size=0x400001)
err_image("hdr_l1_unaligned", "L1 table offset not cluster aligned",
          hdr=dict(l1_table_offset=0x30200))
err_image("hdr_l1_overflow", "L1 offset + size overflows INT64_MAX",
          hdr=dict(l1_table_offset=0x8000000000000000))
err_image("hdr_l1_pasteof", "L1 table beyond EOF (reads zeros)",
          hdr=dict(l1_table_offset=1 << 32))
err_image("hdr_l1_far", "L1 table at 0x7fffffffffff0000 (EIO in 7.2+)",
          hdr=dict(l1_table_offset=0x7FFFFFFFFFFF0000))
err_image("hdr_l1_edge_ok", "L1 table of 8 bytes ending exactly at "
          "2^63-2^30", hdr=dict(l1_table_offset=0x7FFFFFFFBFFF0000))
err_image("hdr_l1_edge_bad", "L1 table starting at 2^63-2^30",
          hdr=dict(l1_table_offset=0x7FFFFFFFC0000000))
err_image("hdr_l1_size0_unaligned", "empty image, l1_size 0, L1 offset "
          "unaligned: still checked", size=0, l1_size=0,
          hdr=dict(l1_table_offset=0x123))
err_image("hdr_l1_size0_far", "empty image, l1_size 0, L1 offset at the "
          "far offset: nothing is read, opens", size=0, l1_size=0,
          hdr=dict(l1_table_offset=0x7FFFFFFFFFFF0000))
err_image("hdr_l1_end_at_limit", "L1 of 8192 entries ending exactly at "
          "2^63-2^30", l1_size=8192,
          hdr=dict(l1_table_offset=0x7FFFFFFFBFFF0000))
err_image("hdr_l1_end_past_limit", "L1 of 8193 entries ending 8 bytes "
          "past 2^63-2^30", l1_size=8193,
          hdr=dict(l1_table_offset=0x7FFFFFFFBFFF0000))
err_image("hdr_l1_small", "1 TiB image with l1_size 1", size=1 << 40,
          l1_size=1)
err_image("hdr_toobig", "2^62-byte image with 512-byte clusters: "
          "'Image is too big'", size=1 << 62, l1_size=1, cluster_bits=9)
err_image("hdr_crypt3", "crypt_method 3", crypt_method=3)
err_image("ext_toolarge", "an extension whose length runs past the "
          "extension area",
          raw_exts=qf.pack_fields(qf.EXT_FIELDS, dict(
              type=0x12345678, length=0x10000)) + bytes(8))
err_image("ext_garbage", "extension area filled with 0x12",
          raw_exts=b"\x12" * 200)
err_image("ext_unknown", "an unknown extension (ignored)",
          extra_exts=[(0x12345678, b"abc")])
err_image("ext_none", "extension area all zeros: immediate end marker",
          raw_exts=b"")


@image("hdr_truncated104", "a 104-byte file: the version 3 header "
       "alone; everything else reads as zeros")
def _(d):
    q(d + "/tmp.qcow2")
    with open(d + "/tmp.qcow2", "rb") as f:
        h = f.read(104)
    os.unlink(d + "/tmp.qcow2")
    with open(d + "/hdr_truncated104.qcow2", "wb") as f:
        f.write(h)
    return "hdr_truncated104.qcow2"


@image("hdr_truncated103", "the first 103 bytes of a version 3 header: "
       "probed as qcow2? header_length reads as zero")
def _(d):
    q(d + "/tmp.qcow2")
    with open(d + "/tmp.qcow2", "rb") as f:
        h = f.read(103)
    os.unlink(d + "/tmp.qcow2")
    with open(d + "/hdr_truncated103.qcow2", "wb") as f:
        f.write(h)
    return "hdr_truncated103.qcow2"


@image("hdr_truncated50", "the first 50 bytes of a qcow2 header: too "
       "short for the qcow2 probe")
def _(d):
    q(d + "/tmp.qcow2")
    with open(d + "/tmp.qcow2", "rb") as f:
        h = f.read(50)
    os.unlink(d + "/tmp.qcow2")
    with open(d + "/hdr_truncated50.qcow2", "wb") as f:
        f.write(h)
    return "hdr_truncated50.qcow2"


# pairs: two problems, the one QEMU checks first wins
for _n, _desc, _kw in (
        ("order_version_vs_cluster", "version 4 and cluster_bits 8",
         dict(hdr=dict(version=4, cluster_bits=8))),
        ("order_cluster_vs_length", "cluster_bits 8 and header_length 100",
         dict(hdr=dict(cluster_bits=8, header_length=100))),
        ("order_length_vs_backing", "header_length 100 and bad backing "
         "offset", dict(header_length=100,
                        hdr=dict(backing_file_offset=65537))),
        ("order_backing_vs_compression", "bad backing offset and "
         "compression type 2", dict(compression_type=2,
                                    hdr=dict(backing_file_offset=65537))),
        ("order_compression_vs_incompat", "compression type 2 and "
         "unknown incompatible bit 5",
         dict(compression_type=2, incompat=1 << 5)),
        ("order_incompat_vs_subcluster", "unknown incompatible bit 5 and "
         "subclusters too small", dict(incompat=(1 << 5) | INCOMPAT_EXTL2,
                                       cluster_bits=13)),
        ("order_subcluster_vs_refcount", "subclusters too small and "
         "refcount_order 7", dict(incompat=INCOMPAT_EXTL2, cluster_bits=13,
                                  refcount_order=7)),
        ("order_refcount_vs_reftable", "refcount_order 7 and "
         "refcount_table_clusters 0",
         dict(refcount_order=7, hdr=dict(refcount_table_clusters=0))),
        ("order_reftable_vs_snapshots", "refcount table too large and "
         "65537 snapshots", dict(hdr=dict(refcount_table_clusters=1 << 24,
                                          nb_snapshots=65537))),
        ("order_snapshots_vs_l1", "65537 snapshots and L1 too large",
         dict(hdr=dict(nb_snapshots=65537), l1_size=0x400001)),
        ("order_l1_vs_toobig", "L1 offset unaligned and image too big",
         dict(size=1 << 62, l1_size=1, cluster_bits=9,
              hdr=dict(l1_table_offset=0x30100))),
        ("order_toobig_vs_l1small", "image too big (l1 too small too)",
         dict(size=1 << 62, l1_size=0, cluster_bits=9)),
        ("order_l1read_vs_crypt", "L1 at the far offset and crypt_method "
         "3", dict(crypt_method=3,
                   hdr=dict(l1_table_offset=0x7FFFFFFFFFFF0000))),
        ("order_crypt_vs_reftable_read", "crypt_method 3 and refcount "
         "table at the far offset", dict(crypt_method=3, hdr=dict(
             refcount_table_offset=0x7FFFFFFFFFF00000))),
        ("order_reftable_read_vs_ext", "refcount table at the far offset "
         "and a broken extension", dict(raw_exts=b"\x12" * 64, hdr=dict(
             refcount_table_offset=0x7FFFFFFFFFF00000))),
        ("order_ext_vs_backing", "broken extension and backing name too "
         "long", dict(raw_exts=b"\x12" * 64, backing="x" * 1100)),
        ("order_backing_vs_snapshot", "backing name too long and "
         "snapshot extra data too large",
         dict(backing="x" * 1100, snapshots=[dict(
             id="1", name="a", extra=b"\0" * 1025)])),
        ("order_snapshot_vs_bitmap", "snapshot extra data too large and "
         "a bitmap with reserved flags",
         dict(autoclear=AUTOCLEAR_BITMAPS,
              bitmaps=[dict(name="b", flags=4)],
              snapshots=[dict(id="1", name="a", extra=b"\0" * 1025)])),
        ("order_incompat_with_broken_ext", "unknown incompatible bit 5 "
         "with a broken extension area: still the feature message",
         dict(incompat=1 << 5, raw_exts=b"\x12" * 64)),
):
    err_image(_n, _desc, **_kw)


# ----------------------------------------------------------------------
# F. bitmaps
# ----------------------------------------------------------------------

def bm_image(name, desc, bitmaps, autoclear=AUTOCLEAR_BITMAPS, **kw):
    @image(name, desc)
    def _(d):
        q(d + "/%s.qcow2" % name, bitmaps=bitmaps, autoclear=autoclear,
          **kw)
        return "%s.qcow2" % name


BMS = [dict(name="bm0", flags=2), dict(name="bm1")]
bm_image("bm_flags", "bitmaps with flags in-use+auto, in-use, auto, none; "
         "granularities 2^31, 2^9; a 100-byte and an empty name",
         [dict(name="inuse-auto", flags=3),
          dict(name="x" * 100, flags=1, granularity_bits=31),
          dict(name="", flags=2, granularity_bits=9),
          dict(name="plain", flags=0, granularity_bits=16)])
bm_image("bm_single", "one bitmap, auto", [dict(name="only", flags=2)])
bm_image("bm_name_odd", "bitmap name with ESC, 0xff, quote, backslash",
         [dict(name=b"\x1b[31mred\xff\"\\")])
bm_image("bm_name_1023", "bitmap name of 1023 bytes",
         [dict(name="n" * 1023)])
bm_image("bm_name_1024", "bitmap name of 1024 bytes: constraints",
         [dict(name="n" * 1024)])
bm_image("bm_noautoclear", "bitmaps extension without the autoclear "
         "bit: a warning, bitmaps ignored", BMS, autoclear=0)
bm_image("bm_v2", "bitmaps extension in a version 2 image: another "
         "warning", BMS, autoclear=0, version=2)
bm_image("bm_extlen", "bitmaps extension of 32 bytes", BMS,
         bitmap_ext=qf.pack_bitmaps_ext(2, 64, 0) + bytes(8))
bm_image("bm_reserved", "bitmaps extension reserved field non-zero", BMS,
         bitmap_ext=qf.pack_fields(qf.BITMAPS_EXT_FIELDS, dict(
             nb_bitmaps=2, reserved=1, bitmap_directory_size=64,
             bitmap_directory_offset=0xA0000)))
bm_image("bm_toomany", "nb_bitmaps 65536", BMS,
         bitmap_ext=qf.pack_bitmaps_ext(65536, 64, 0xA0000))
bm_image("bm_zero", "nb_bitmaps 0", BMS,
         bitmap_ext=qf.pack_bitmaps_ext(0, 64, 0xA0000))
bm_image("bm_dir_unaligned", "bitmap directory offset unaligned", BMS,
         bitmap_ext=qf.pack_bitmaps_ext(2, 64, 0xA0008))
bm_image("bm_dir_toolarge", "bitmap directory size 2^40", BMS,
         bitmap_ext=qf.pack_bitmaps_ext(2, 1 << 40, 0xA0000))
bm_image("bm_dir_zero", "bitmap directory size 0", BMS,
         bitmap_ext=qf.pack_bitmaps_ext(2, 0, 0xA0000))
bm_image("bm_more", "directory holds 2 entries, header says 1", BMS,
         bitmap_ext=qf.pack_bitmaps_ext(1, 64, 0xA0000))
bm_image("bm_less", "directory holds 2 entries, header says 3", BMS,
         bitmap_ext=qf.pack_bitmaps_ext(3, 64, 0xA0000))
bm_image("bm_dir_trailing", "directory size 72 for 64 bytes of entries",
         BMS, bitmap_ext=qf.pack_bitmaps_ext(2, 72, 0xA0000))
bm_image("bm_dir_short", "directory size 60: the last entry is cut",
         BMS, bitmap_ext=qf.pack_bitmaps_ext(2, 60, 0xA0000))
bm_image("bm_extra_data", "bitmap entry with 8 bytes of extra data",
         [dict(name="bm0", extra=b"12345678")])
bm_image("bm_reserved_flag", "bitmap flag bit 2", [dict(name="bad",
                                                         flags=4)])
bm_image("bm_granularity8", "granularity bits 8", [dict(
    name="gran", granularity_bits=8)])
bm_image("bm_granularity32", "granularity bits 32", [dict(
    name="gran", granularity_bits=32)])
bm_image("bm_type2", "bitmap type 2", [dict(name="typ", typ=2)])
bm_image("bm_duplicate", "two bitmaps with the same name",
         [dict(name="dup"), dict(name="dup")])
bm_image("bm_bad_table_entry", "bitmap table entry with an unaligned "
         "offset", [dict(name="tab", table_offset=0x90000)],
         patches=[(0x90000, qf.be(8, 0x200))])
bm_image("bm_table_toosmall", "1 TiB image, granularity 512, one table "
         "cluster: too small", [dict(name="small", granularity_bits=9)],
         size=1 << 40)
bm_image("bm_inuse_toosmall", "the same with the in-use flag: accepted",
         [dict(name="small", granularity_bits=9, flags=1)], size=1 << 40)
bm_image("bm_table_size_mismatch", "bitmap table of 2 clusters where 1 "
         "is needed: the data load fails",
         [dict(name="mm", table_size=2)])
bm_image("bm_table_size0", "bitmap table size 0",
         [dict(name="t0", table_size=0)])


# ----------------------------------------------------------------------
# G. external data file
# ----------------------------------------------------------------------

def df_image(name, desc, runs=None, **kw):
    @image(name, desc, runs=runs)
    def _(d):
        q(d + "/%s.qcow2" % name, **kw)
        return "%s.qcow2" % name


@image("df_basic", "external data file (present, 192 KiB allocated): "
       "5.2 adds its allocation to 'disk size'; run also from the "
       "parent directory",
       runs=[("info", "dir", "{base}", "", ""),
             ("info-sub", ".", "dir/{base}", "", "")])
def _(d):
    with open(d + "/dir/df_basic-data.raw", "wb") as f:
        for off in (0, MiB, 4 * MiB):
            f.seek(off)
            f.write(b"\x11" * 65536)
        f.truncate(64 * MiB)
    q(d + "/dir/df_basic.qcow2", incompat=INCOMPAT_DATA_FILE,
      data_file="df_basic-data.raw")
    return "dir/df_basic.qcow2"


@image("df_raw", "external data file with data-file-raw")
def _(d):
    with open(d + "/df_raw-data.raw", "wb") as f:
        f.truncate(64 * MiB)
    q(d + "/df_raw.qcow2", incompat=INCOMPAT_DATA_FILE,
      autoclear=AUTOCLEAR_DATA_FILE_RAW, data_file="df_raw-data.raw")
    return "df_raw.qcow2"


@image("df_missing", "data file named but absent: 5.2 fails to open it "
       "(the message shows the path it tried)", runs=PATH_RUNS)
def _(d):
    q(d + "/dir/df_missing.qcow2", incompat=INCOMPAT_DATA_FILE,
      data_file="missing-data.raw")
    return "dir/df_missing.qcow2"


@image("df_snapshots", "external data file (present) and two snapshots: "
       "the snapshot list is not shown in 7.2+")
def _(d):
    with open(d + "/df_snapshots-data.raw", "wb") as f:
        f.truncate(64 * MiB)
    q(d + "/df_snapshots.qcow2", incompat=INCOMPAT_DATA_FILE,
      data_file="df_snapshots-data.raw", snapshots=base_snaps(2))
    return "df_snapshots.qcow2"


@image("df_snapshot_bad", "external data file and a snapshot entry with "
       "too much extra data: the table is still checked at open")
def _(d):
    with open(d + "/df_snapshot_bad-data.raw", "wb") as f:
        f.truncate(64 * MiB)
    q(d + "/df_snapshot_bad.qcow2", incompat=INCOMPAT_DATA_FILE,
      data_file="df_snapshot_bad-data.raw",
      snapshots=[dict(id="1", name="a", extra=b"\0" * 1025)])
    return "df_snapshot_bad.qcow2"


df_image("df_noname", "incompatible bit 2 without a data file "
         "extension", incompat=INCOMPAT_DATA_FILE)
df_image("df_nobit", "data file extension without incompatible bit 2",
         data_file="df_raw-data.raw")
df_image("df_raw_nofile", "data-file-raw autoclear bit without a data "
         "file", autoclear=AUTOCLEAR_DATA_FILE_RAW)
df_image("df_oddname", "data file name with ESC, 0xff and a quote",
         incompat=INCOMPAT_DATA_FILE, data_file=b'we\x1bird\xff"name')
df_image("df_emptyname", "data file extension of length 0",
         incompat=INCOMPAT_DATA_FILE, data_file="")
df_image("df_absname", "absolute data file name (absent)",
         incompat=INCOMPAT_DATA_FILE, data_file="/nonexistent/data.raw")


# ----------------------------------------------------------------------
# H. encryption
# ----------------------------------------------------------------------

err_image("enc_aes", "crypt_method 1 (AES-CBC), version 3",
          crypt_method=1)
err_image("enc_aes_v2", "crypt_method 1, version 2", crypt_method=1,
          version=2)
err_image("enc_luks", "crypt_method 2 with a LUKS header (crafted: "
          "parsed only, never decrypted)", crypt_method=2,
          luks=luks_header())
err_image("enc_aes_datafile", "AES encryption plus an external data file "
          "name and bitmaps: order of encrypt / data file / bitmaps",
          crypt_method=1, incompat=INCOMPAT_DATA_FILE,
          data_file="x-data.raw", autoclear=AUTOCLEAR_BITMAPS,
          bitmaps=[dict(name="b", flags=2)])
err_image("enc_luks_noext", "crypt_method 2 without a crypto header "
          "extension (5.2 and 7.2 crash)", crypt_method=2)
err_image("enc_luks_method0", "crypto header extension with "
          "crypt_method 0", crypt_method=0, luks=luks_header())
err_image("enc_luks_extlen", "crypto header extension of 24 bytes",
          crypt_method=2, luks=luks_header(),
          crypto_ext=qf.pack_crypto_ext(0, 0) + bytes(8))
err_image("enc_luks_unaligned", "crypto header offset not cluster "
          "aligned", crypt_method=2, luks=luks_header(),
          crypto_ext=qf.pack_crypto_ext(0x10200, 592))
err_image("enc_luks_badmagic", "LUKS header with a bad magic",
          crypt_method=2, luks=luks_header(magic=b"LUKS\0\0"))
err_image("enc_luks_version2", "LUKS header version 2", crypt_method=2,
          luks=luks_header(version=2))
err_image("enc_luks_badcipher", "LUKS header with cipher 'nosuch'",
          crypt_method=2, luks=luks_header(cipher=b"nosuch"))
err_image("enc_luks_badhash", "LUKS header with hash 'nosuch'",
          crypt_method=2, luks=luks_header(hash_spec=b"nosuch"))
err_image("enc_luks_cbc", "LUKS header aes cbc-essiv:sha256, 32-byte "
          "key", crypt_method=2,
          luks=luks_header(mode=b"cbc-essiv:sha256", key_bytes=32))


def _slots(mod):
    sl = []
    for i in range(8):
        sl.append([0x00AC71F3 if i == 0 else 0x0000DEAD,
                   2000 if i == 0 else 0, 8 + i * 512, 4000])
    mod(sl)
    return [tuple(x) for x in sl]


for _n, _desc, _mod in (
        ("stripes", "active key slot 0 with 100 stripes",
         lambda sl: sl[0].__setitem__(3, 100)),
        ("iters0", "active key slot 0 with 0 iterations",
         lambda sl: sl[0].__setitem__(1, 0)),
        ("slot_state", "key slot 1 with state 0x12345678",
         lambda sl: sl[1].__setitem__(0, 0x12345678)),
        ("slots_overlap", "key slots 0 and 1 at the same offset",
         lambda sl: sl[1].__setitem__(2, 8)),
        ("slot_in_payload", "key slot 7 inside the payload",
         lambda sl: sl[7].__setitem__(2, 5000)),
        ("slot_in_header", "key slot 0 at sector 0",
         lambda sl: sl[0].__setitem__(2, 0)),
        ("inactive_stripes", "inactive key slot 2 with 1 stripe",
         lambda sl: sl[2].__setitem__(3, 1))):
    err_image("enc_luks_" + _n, "LUKS header: " + _desc, crypt_method=2,
              luks=luks_header(slots=_slots(_mod)))

for _n, _desc, _kw in (
        ("payload1", "payload offset 1 sector (inside the header)",
         dict(payload_offset_sectors=1)),
        ("mode_nodash", "cipher mode 'xts' without an IV generator",
         dict(mode=b"xts")),
        ("essiv_nohash", "cipher mode 'cbc-essiv' without a hash",
         dict(mode=b"cbc-essiv")),
        ("mode_bad", "cipher mode 'foo-plain64'",
         dict(mode=b"foo-plain64")),
        ("ivgen_bad", "cipher mode 'xts-foo'", dict(mode=b"xts-foo")),
        ("keybytes48", "xts with a 48-byte key: aes-192",
         dict(key_bytes=48)),
        ("twofish", "twofish-128 cbc-plain sha1",
         dict(cipher=b"twofish", mode=b"cbc-plain", hash_spec=b"sha1",
              key_bytes=16))):
    err_image("enc_luks_" + _n, "LUKS header: " + _desc, crypt_method=2,
              luks=luks_header(**_kw))


@image("luks_raw", "a raw LUKS volume (crafted header, 64 KiB payload)")
def _(d):
    img = Buffer()
    img.put(0, luks_header())
    img.ensure(4096 * 512 + 65536)
    img.save(d + "/luks_raw.luks")
    return "luks_raw.luks"


# ----------------------------------------------------------------------
# I. other formats: what info prints for them (instar refuses them)
# ----------------------------------------------------------------------

def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_CRC = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def pin_vpc(path):
    with open(path, "r+b") as f:
        size = os.fstat(f.fileno()).st_size
        for off in (0, size - 512):
            f.seek(off)
            foot = bytearray(f.read(512))
            if foot[:8] != b"conectix":
                continue
            foot[24:28] = struct.pack(">I", 600000000)   # timestamp
            foot[68:84] = bytes(range(16))               # uuid
            total = sum(foot[:64]) + sum(foot[68:512])
            foot[64:68] = struct.pack(">I", (~total) & 0xFFFFFFFF)
            f.seek(off)
            f.write(foot)


def pin_vdi(path):
    with open(path, "r+b") as f:
        for off, val in ((0x188, bytes(range(16))),
                         (0x198, bytes(range(16, 32)))):
            f.seek(off)
            f.write(val)


def pin_vmdk(path):
    """Replace the random CID in the text descriptor (which QEMU prints
    without zero padding, so its length varies) by a fixed value."""
    with open(path, "r+b") as f:
        data = f.read(1 << 20)
        i = data.find(b"\nCID=")
        if i < 0:
            return
        j = data.index(b"\n", i + 1)
        end = data.index(b"\0", j)
        text = data[i:end]
        new = b"\nCID=1234abcd" + text[j - i:]
        f.seek(i)
        f.write(new + bytes(max(0, len(text) - len(new))))


def pin_vhdx(path):
    with open(path, "r+b") as f:
        seq = []
        for off in (64 << 10, 128 << 10):
            f.seek(off)
            h = bytearray(f.read(4096))
            if h[:4] != b"head":
                continue
            seq.append((struct.unpack_from("<Q", h, 8)[0], off))
            h[16:32] = bytes(range(16))          # file write guid
            h[32:48] = bytes(range(16, 32))      # data write guid
            f.seek(off)
            f.write(h)
        # pin the sequence numbers, keeping which header is current
        for n, (_, off) in enumerate(sorted(seq)):
            f.seek(off)
            h = bytearray(f.read(4096))
            struct.pack_into("<Q", h, 8, n + 1)
            h[4:8] = b"\0\0\0\0"
            h[4:8] = struct.pack("<I", crc32c(bytes(h)))
            f.seek(off)
            f.write(h)
        # page 83 (disk id) in the metadata region
        f.seek(192 << 10)
        rt = f.read(65536)
        n = struct.unpack_from("<I", rt, 8)[0]
        meta_guid = bytes.fromhex("06a27c8b90479a4bb8fe575f050f886e")
        for i in range(n):
            e = rt[16 + 32 * i:48 + 32 * i]
            if e[:16] == meta_guid:
                moff = struct.unpack_from("<Q", e, 16)[0]
                f.seek(moff)
                mt = f.read(65536)
                cnt = struct.unpack_from("<H", mt, 10)[0]
                p83 = bytes.fromhex("ab12cabee6b2234593efc309e000c746")
                for j in range(cnt):
                    me = mt[32 + 32 * j:64 + 32 * j]
                    if me[:16] == p83:
                        ioff = struct.unpack_from("<I", me, 16)[0]
                        f.seek(moff + ioff)
                        f.write(bytes(range(32, 48)))


def foreign(name, fmt, desc, opts=None, pin=None, size="64M"):
    @image(name, desc)
    def _(d):
        p = "%s.%s" % (name, fmt)
        if not os.access(QEMU_IMG, os.X_OK):
            raise SystemExit("need %s for %s" % (QEMU_IMG, p))
        cmd = [QEMU_IMG, "create", "-q", "-f", fmt]
        if opts:
            cmd += ["-o", opts]
        subprocess.run(cmd + [d + "/" + p, size], check=True)
        if pin:
            pin(d + "/" + p)
        return p


foreign("fmt_vmdk", "vmdk", "VMDK monolithicSparse (qemu-img create; "
        "CID pinned)", pin=pin_vmdk)
foreign("fmt_vmdk_stream", "vmdk", "VMDK streamOptimized",
        opts="subformat=streamOptimized", pin=pin_vmdk)
foreign("fmt_vpc", "vpc", "VHD dynamic (timestamp, uuid pinned)",
        pin=pin_vpc)
foreign("fmt_vpc_fixed", "vpc", "VHD fixed", opts="subformat=fixed",
        pin=pin_vpc, size="1M")
foreign("fmt_vhdx", "vhdx", "VHDX (GUIDs pinned, CRC32C recomputed)",
        pin=pin_vhdx)
foreign("fmt_vdi", "vdi", "VDI (uuids pinned)", pin=pin_vdi)
foreign("fmt_qed", "qed", "QED")
foreign("fmt_qcow1", "qcow", "qcow version 1")
foreign("fmt_parallels", "parallels", "Parallels (5.2 probes it as raw)")


@image("fmt_bochs", "Bochs growing image (crafted header: 64 KiB "
       "extents, 1024-entry catalog, nothing allocated)")
def _(d):
    b = (b"Bochs Virtual HD Image".ljust(32, b"\0") +
         b"Redolog".ljust(16, b"\0") + b"Growing".ljust(16, b"\0") +
         struct.pack("<II", 0x00020000, 512) +
         struct.pack("<IIIIQ", 1024, 16, 65536, 0, 64 * MiB))
    img = Buffer()
    img.put(0, b)
    img.put(512, b"\xff" * 4096)
    img.save(d + "/fmt_bochs.img")
    return "fmt_bochs.img"


@image("fmt_cloop", "cloop V2.0 header (crafted)")
def _(d):
    c = (b"#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$0 && mount -r "
         b"-t iso9660 /dev/cloop $1\n").ljust(128, b"\0")
    c += struct.pack(">II", 65536, 1)
    c += struct.pack(">QQ", 128 + 8 + 16, 128 + 8 + 16)
    img = Buffer()
    img.put(0, c)
    img.ensure(1024)
    img.save(d + "/fmt_cloop.img")
    return "fmt_cloop.img"


@image("fmt_qcow1_bad", "qcow (v1) header with cluster_bits 8")
def _(d):
    # qcow version 1 (not qcow2): magic, version, backing offset and
    # size, mtime, size, cluster_bits, l2_bits, padding, crypt method,
    # L1 offset
    h = qf.be(4, qf.MAGIC) + struct.pack(">IQIIQBBHIQ", 1, 0, 0, 0, 64 * MiB,
                                         8, 9, 0, 0, 48)
    img = Buffer()
    img.put(0, h)
    img.ensure(1024)
    img.save(d + "/fmt_qcow1_bad.img")
    return "fmt_qcow1_bad.img"


@image("fmt_dmg_named", "a raw file whose name ends in .dmg (the dmg "
       "probe looks at the name and the trailer)")
def _(d):
    with open(d + "/fmt_dmg_named.dmg", "wb") as f:
        f.write(b"\0" * 4096)
    return "fmt_dmg_named.dmg"


# ----------------------------------------------------------------------

# ----------------------------------------------------------------------

def run_rows(name, path, runs):
    """The runs.txt lines of one case: each variant and its JSON twin."""
    if runs is None:
        runs = [("info", "{dir}", "{base}", "", "")]
    pathb = b"" if path is None else os.fsencode(path)
    dirn, base = os.path.split(pathb)
    fields = {b"{dir}": dirn or b".", b"{base}": base, b"{path}": pathb,
              b"{abs}": b"@DIR@/" + pathb}
    rows = []
    for variant, cwd, arg, mode, env in runs:
        cwd, arg = os.fsencode(cwd), os.fsencode(arg)
        for k, v in fields.items():
            cwd, arg = cwd.replace(k, v), arg.replace(k, v)
        tokens = [t for t in mode.split("+") if t] + ([env] if env else [])
        for stem, extra in ((variant, []), (variant + ".json", ["output=json"])):
            rows.append((name, stem, index_field(cwd or b"."), index_field(arg),
                         "+".join(tokens + extra) or "-"))
    return rows


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_info_images.py DIR")
    d = os.path.abspath(sys.argv[1])
    if os.path.exists(d) and os.listdir(d):
        sys.exit("make_info_images: %s is not empty" % d)
    os.makedirs(d + "/dir")
    images, runs = [], []
    seen = set()
    for name, desc, fn, case_runs in IMAGES:
        assert name not in seen, name
        seen.add(name)
        path = fn(d)
        images.append((name, "-" if path is None else index_field(path), desc))
        runs += run_rows(name, path, case_runs)
    write_index(os.path.join(d, "images.txt"), images)
    write_index(os.path.join(d, "runs.txt"), runs)
    print("make_info_images: %d cases, %d runs in %s" % (len(images),
                                                         len(runs), d))


if __name__ == "__main__":
    main()
