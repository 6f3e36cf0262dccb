#!/usr/bin/env python3
"""make_check_images.py DIR — build the `qemu-img check` corpus in DIR.

The images the `qemu-img check` samples were captured on, built from
scratch with qcow2_build.py and the layout of
tests/tools/qcow2_fixture.py: one qcow2 image per finding — clean
images of every cluster size and refcount width, leaks and wrong
refcounts, OFLAG_COPIED errors, tables past EOF or unaligned,
compressed clusters, snapshots, extended L2, bitmaps, external data
files, offsets near 2^63 — and their companions (a backing file,
external data files, plain.raw), in DIR; a copy of leak_tail.qcow2 under
an odd name in DIR/_names/ (file name escaping); and two index files
(format: README.md):

  DIR/images.txt  name <TAB> file <TAB> description, one line per image
  DIR/runs.txt    name <TAB> variant <TAB> cwd <TAB> argument <TAB> mode,
                  one line per sample: `check FILE` and
                  `check --output=json FILE` of every image, then the
                  command-line and locking cases (samples/_extra/<case>)

DIR must be absent or empty. Deterministic: two runs give the same bytes
(the few compressed clusters are zlib's deflate output, the same for one
zlib; qemu-img check never decompresses them). file_too_large.qcow2 is a sparse file of
1 TiB + 512 bytes (a few KiB on disk): copy the corpus only with
sparse-aware tools, or rebuild it.

Each recipe builds on the clean image qcow2_build.Image makes (refcounts
from references, OFLAG_COPIED where the refcount is 1) and then breaks
it with the raw helpers; guest data clusters are filled with a
recognisable byte.

Trust: test code; python3 stdlib only, no qemu involved; writes only
under DIR.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import qcow2_fixture as qf  # noqa: E402
from qcow2_build import (  # noqa: E402
    COPIED, OFF_MASK, ZERO, Buffer, Image, index_field, write_index)
from qcow2_fixture import (  # noqa: E402
    COMPAT_LAZY_REFCOUNTS, INCOMPAT_CORRUPT, INCOMPAT_DIRTY)

IMAGES = []          # (name, description, builder, companion files)


def image(name, desc, companions=()):
    def deco(fn):
        IMAGES.append((name, desc, fn, companions))
        return fn
    return deco


def std(**kw):
    """64 KiB clusters, 16-bit refcounts, v3, 64 MiB unless told."""
    return Image(**kw)


# ---------------------------------------------------------------- clean ---

@image("clean_v3", "clean v3 image: runs, gaps, zero clusters, compressed, "
       "two L2 tables (fragmentation is per L2 table)")
def _(d):
    im = std(size=2 << 30)            # 2 GiB: L1 has 4 entries
    im.write_data(0, 0x10)
    im.write_data(1, 0x11)            # contiguous with guest 0
    im.write_data(5, 0x12)            # host contiguous -> not fragmented
    im.write_data(3, 0x13)            # new L2? no, same L2; host contiguous
    im.set_l2(7, ZERO)                # zero, no host cluster
    h = im.alloc(1)
    im.refs.append((h, im.cs))
    im.set_l2(8, h | ZERO)            # preallocated zero cluster
    im.write_compressed(9, 0x14)
    im.write_data(10, 0x15)
    im.write_data(8192, 0x16)         # second L2 table (guest 512 MiB)
    im.write_data(8193, 0x17)
    im.finalize()
    im.save(os.path.join(d, "clean_v3.qcow2"))


@image("clean_v2", "clean compat=0.10 (v2) image")
def _(d):
    im = std(version=2)
    im.write_data(0, 0x20)
    im.write_data(2, 0x21)
    im.finalize()
    im.save(os.path.join(d, "clean_v2.qcow2"))


@image("empty", "no guest cluster allocated: no percentage line")
def _(d):
    im = std()
    im.finalize()
    im.save(os.path.join(d, "empty.qcow2"))


@image("empty_l2", "an L2 table but every entry unallocated")
def _(d):
    im = std()
    im.new_l2(0)
    im.finalize()
    im.save(os.path.join(d, "empty_l2.qcow2"))


@image("size_zero", "virtual size 0, L1 size 0: total-clusters 0")
def _(d):
    im = std(size=0)
    im.finalize()
    im.save(os.path.join(d, "size_zero.qcow2"))


@image("size_zero_alloc", "virtual size 0 but an L1 entry with data: "
       "allocated != 0, total 0 -> no percentage line")
def _(d):
    im = std(size=0, l1_size=1)
    im.write_data(0, 0x30)
    im.finalize()
    im.save(os.path.join(d, "size_zero_alloc.qcow2"))


@image("size_odd", "virtual size 100000 bytes (not a multiple of 512): "
       "total clusters from size rounded down to sectors")
def _(d):
    im = std(size=100000)
    im.write_data(0, 0x31)
    im.finalize()
    im.save(os.path.join(d, "size_odd.qcow2"))


@image("size_sector_round", "virtual size 65537 bytes: 128 sectors -> "
       "exactly one cluster in total-clusters")
def _(d):
    im = std(size=65537)
    im.write_data(0, 0x32)
    im.finalize()
    im.save(os.path.join(d, "size_sector_round.qcow2"))


@image("pct_round", "percentages that are exact binary ties at the third "
       "decimal: 32/25600 = 0.125%, 1/32 = 3.125%, 3/32 = 9.375%")
def _(d):
    im = std(size=25600 * 65536)
    im.new_l2(0)                      # L2 first: data runs contiguous
    # 29 contiguous normal clusters, then 2 with a gap each, 1 compressed
    for g in range(29):
        im.write_data(g, 0x40)
    im.alloc(1)
    im.write_data(29, 0x41)           # gap before it -> fragmented
    im.alloc(1)
    im.write_data(30, 0x42)           # fragmented
    im.write_compressed(31, 0x43)     # compressed -> fragmented too
    im.finalize()
    im.save(os.path.join(d, "pct_round.qcow2"))


@image("pct_full", "every guest cluster allocated and fragmented: 100.00%")
def _(d):
    im = std(size=4 * 65536)
    for g in range(4):
        im.write_compressed(g, 0x44 + g)
    im.finalize()
    im.save(os.path.join(d, "pct_full.qcow2"))


@image("c512", "512-byte clusters, 64 MiB, many L2 tables and refblocks")
def _(d):
    im = std(cluster_bits=9)
    for g in range(0, 400, 3):
        im.write_data(g, g & 0xFF)
    im.write_compressed(401, 0x50)
    im.finalize()
    im.save(os.path.join(d, "c512.qcow2"))


@image("c2m", "2 MiB clusters")
def _(d):
    im = std(cluster_bits=21, size=1 << 30)
    im.write_data(0, 0x51)
    im.write_data(3, 0x52)
    im.write_compressed(4, 0x53)
    im.finalize()
    im.save(os.path.join(d, "c2m.qcow2"))


for _o in range(7):
    def _mk(o):
        @image("rc%d" % (1 << o), "clean image with refcount_bits=%d%s"
               % (1 << o, "" if o == 0 else " and a snapshot"))
        def _(d):
            im = std(refcount_order=o)
            im.write_data(0, 0x60)
            im.write_data(1, 0x61)
            if o:
                im.snapshot("s1")
                im.write_data(1, 0x62)
            im.finalize()
            im.save(os.path.join(d, "rc%d.qcow2" % (1 << o)))
    _mk(_o)


@image("rc8_c512", "refcount_bits=64, 512-byte clusters: 64 refcounts per "
       "refblock, many refblocks")
def _(d):
    im = std(cluster_bits=9, refcount_order=6, reftable_clusters=2)
    for g in range(0, 200, 5):
        im.write_data(g, 0x63)
    im.finalize()
    im.save(os.path.join(d, "rc8_c512.qcow2"))


# ----------------------------------------------------- refcount values ---

@image("leak_tail", "one leaked cluster after the last used one")
def _(d):
    im = std()
    im.write_data(0, 0x70)
    h = im.alloc(1)
    im.extra_counts[h >> im.cb] = 1
    im.finalize()
    im.save(os.path.join(d, "leak_tail.qcow2"))


@image("leak_many", "three leaks, one with refcount 3, one in the middle")
def _(d):
    im = std()
    im.write_data(0, 0x71)
    a = im.alloc(1)
    im.write_data(1, 0x72)
    b = im.alloc(1)
    im.extra_counts[a >> im.cb] = 1
    im.extra_counts[b >> im.cb] = 3
    im.finalize()
    im.save(os.path.join(d, "leak_many.qcow2"))


@image("refcount_high", "data cluster refcount 2, referenced once: leak "
       "(and OFLAG_COPIED mismatch since refcount != 1)")
def _(d):
    im = std()
    im.write_data(0, 0x73)
    im.finalize()
    h = im.get64(im.l2_entry_off(0)) & OFF_MASK
    im.set_refcount(h >> im.cb, 2)
    im.save(os.path.join(d, "refcount_high.qcow2"))


@image("refcount_low", "cluster shared with a snapshot (reference 2) but "
       "refcount 1; COPIED set on it")
def _(d):
    im = std()
    im.write_data(0, 0x74)
    im.write_data(1, 0x75)
    im.snapshot("snap1")
    im.write_data(1, 0x76)            # COW of L2 and of guest 1
    im.finalize()
    h = im.get64(im.l2_entry_off(0)) & OFF_MASK
    im.set_refcount(h >> im.cb, 1)
    im.put64(im.l2_entry_off(0), h | COPIED)
    im.save(os.path.join(d, "refcount_low.qcow2"))


@image("refcount_zero", "refcount 0 for a used data cluster and for the "
       "L2 table")
def _(d):
    im = std()
    im.write_data(0, 0x77)
    im.finalize()
    h = im.get64(im.l2_entry_off(0)) & OFF_MASK
    im.set_refcount(h >> im.cb, 0)
    im.set_refcount((im.l1[0] & OFF_MASK) >> im.cb, 0)
    im.save(os.path.join(d, "refcount_zero.qcow2"))


@image("refcount_header0", "refcount of the header cluster 0, of the "
       "reftable and of the refblock set to 0")
def _(d):
    im = std()
    im.write_data(0, 0x78)
    im.finalize()
    im.set_refcount(0, 0)
    im.set_refcount(1, 0)
    im.set_refcount(2, 0)
    im.save(os.path.join(d, "refcount_header0.qcow2"))


@image("refcount_past_eof", "refblock gives refcounts to clusters past the "
       "end of the file: not compared, not in the image end offset")
def _(d):
    im = std()
    im.write_data(0, 0x79)
    im.finalize()
    n = len(im.buf) >> im.cb
    im.set_refcount(n + 2, 1)
    im.set_refcount(n + 40, 5)
    im.save(os.path.join(d, "refcount_past_eof.qcow2"))


@image("refcount_max16", "16-bit refcount at 65535 on a cluster referenced "
       "once (leak of 65534)")
def _(d):
    im = std()
    im.write_data(0, 0x7A)
    im.finalize()
    h = im.get64(im.l2_entry_off(0)) & OFF_MASK
    im.set_refcount(h >> im.cb, 65535)
    im.save(os.path.join(d, "refcount_max16.qcow2"))


@image("refcount64_huge", "64-bit refcount of 2^63+5 on a used cluster")
def _(d):
    im = std(refcount_order=6)
    im.write_data(0, 0x7B)
    im.finalize()
    h = im.get64(im.l2_entry_off(0)) & OFF_MASK
    im.set_refcount(h >> im.cb, (1 << 63) + 5)
    im.save(os.path.join(d, "refcount64_huge.qcow2"))


@image("overflow_rc1", "refcount_bits=1: a cluster shared by two snapshots "
       "and the active L1 overflows the in-memory counter")
def _(d):
    im = std(refcount_order=0)
    im.write_data(0, 0x7C)
    im.snapshot("a")
    im.snapshot("b")
    im.write_data(2, 0x7D)
    im.finalize()
    im.save(os.path.join(d, "overflow_rc1.qcow2"))


@image("overflow_rc2", "refcount_bits=2: one data cluster referenced by 5 "
       "L2 entries (max 3), overflow reported twice")
def _(d):
    im = std(refcount_order=1)
    h = im.write_data(0, 0x7E)
    for g in (1, 2, 3, 4):
        im.write_data(g, None, host=h)
    im.finalize()
    im.save(os.path.join(d, "overflow_rc2.qcow2"))


@image("overflow_l1_region", "refcount_bits=1: the L1 table cluster is also "
       "used as data; overflow on a metadata reference")
def _(d):
    im = std(refcount_order=0)
    im.write_data(0, 0x7F)
    im.write_data(1, None, host=im.l1_off, ref=False)
    im.finalize()
    im.save(os.path.join(d, "overflow_l1_region.qcow2"))


# ------------------------------------------------------- growth / EOF -----

@image("data_past_eof", "data clusters beyond the end of the file (file cut "
       "in the middle of the last data cluster and before others)")
def _(d):
    im = std()
    im.write_data(0, 0x80)
    im.write_data(1, 0x81)
    im.write_data(2, 0x82)
    im.finalize()
    last = im.get64(im.l2_entry_off(2)) & OFF_MASK
    mid = im.get64(im.l2_entry_off(1)) & OFF_MASK
    # cut 0x800 bytes into guest 1's cluster: guest 1 is partly in the
    # file (fine), guest 2 starts past EOF by more than a cluster - 0x800
    im.save(os.path.join(d, "data_past_eof.qcow2"), truncate=mid + 0x800)
    assert last == mid + 0x10000


@image("eof_half_cluster", "file ends in the middle of its last cluster "
       "(a data cluster): no error, nb_clusters rounds up")
def _(d):
    im = std()
    im.write_data(0, 0x83)
    im.finalize()
    im.save(os.path.join(d, "eof_half_cluster.qcow2"),
            truncate=len(im.buf) - 0x8000)


@image("grow_compressed", "compressed cluster starting exactly at EOF, "
       "less than a cluster long: accepted, IMRT grows past nb_clusters, "
       "cluster past EOF compared (refcount 0)")
def _(d):
    im = std()
    im.write_data(0, 0x84)
    im.finalize()
    eof = len(im.buf)
    # guest 1: compressed, 2 sectors at eof + 0x100
    im.put64(im.l2_entry_off(1), im.compressed_entry(eof + 0x100, 2))
    im.save(os.path.join(d, "grow_compressed.qcow2"))


@image("grow_unaligned", "unaligned data cluster crossing EOF by < 1 "
       "cluster: IMRT grows, extra cluster compared")
def _(d):
    im = std()
    im.write_data(0, 0x85)
    im.finalize()
    eof = len(im.buf)
    im.put64(im.l2_entry_off(1), (eof - 0x10000 + 0x400) | COPIED)
    im.save(os.path.join(d, "grow_unaligned.qcow2"))


@image("huge_offset", "L2 entry with the largest 64k-aligned host offset "
       "(0xffffffffff0000): exceeding-EOF error, no growth")
def _(d):
    im = std()
    im.write_data(0, 0x86)
    im.finalize()
    im.put64(im.l2_entry_off(1), 0x00FFFFFFFFFF0000 | COPIED)
    im.save(os.path.join(d, "huge_offset.qcow2"))


# ------------------------------------------------------------ L1 / L2 -----

@image("l1_unaligned", "L1 entry with an L2 offset 0x200 past a cluster "
       "boundary")
def _(d):
    im = std()
    im.write_data(0, 0x90)
    im.finalize()
    e = im.get64(im.l1_entry_off(0))
    im.put64(im.l1_entry_off(0), e + 0x200)
    im.save(os.path.join(d, "l1_unaligned.qcow2"))


@image("l1_reserved", "L1 entry with reserved bits 0 and 56 set")
def _(d):
    im = std()
    im.write_data(0, 0x91)
    im.finalize()
    e = im.get64(im.l1_entry_off(0))
    im.put64(im.l1_entry_off(0), e | 1 | (1 << 56))
    im.save(os.path.join(d, "l1_reserved.qcow2"))


@image("l1_copied_only", "L1 entry = COPIED flag only (offset 0): the "
       "header cluster is counted and read as an L2 table")
def _(d):
    im = std(size=1 << 30)
    im.write_data(0, 0x92)
    im.finalize()
    im.put64(im.l1_entry_off(1), COPIED)
    im.save(os.path.join(d, "l1_copied_only.qcow2"))


@image("l1_past_eof", "L1 entry pointing 256 MiB past EOF (L2 reads as "
       "zeros)")
def _(d):
    im = std()
    im.write_data(0, 0x93)
    im.finalize()
    im.put64(im.l1_entry_off(0), COPIED | 0x10000000)
    im.save(os.path.join(d, "l1_past_eof.qcow2"))


@image("l1_shared_l2", "two L1 entries point to the same L2 table")
def _(d):
    im = std(size=1 << 30)
    im.write_data(0, 0x94)
    im.write_data(1, 0x95)
    im.finalize()
    im.put64(im.l1_entry_off(1), im.get64(im.l1_entry_off(0)))
    im.save(os.path.join(d, "l1_shared_l2.qcow2"))


@image("l1_copied_missing", "L1 entry without COPIED, L2 refcount 1")
def _(d):
    im = std()
    im.write_data(0, 0x96)
    im.finalize()
    im.put64(im.l1_entry_off(0), im.get64(im.l1_entry_off(0)) & ~COPIED)
    im.save(os.path.join(d, "l1_copied_missing.qcow2"))


@image("l1_copied_extra", "L1 entry with COPIED but its L2 is shared with "
       "a snapshot (refcount 2)")
def _(d):
    im = std()
    im.write_data(0, 0x97)
    im.snapshot("snap1")
    im.finalize()
    im.put64(im.l1_entry_off(0), im.get64(im.l1_entry_off(0)) | COPIED)
    im.save(os.path.join(d, "l1_copied_extra.qcow2"))


@image("l2_copied_missing", "L2 entry without COPIED (refcount 1), and a "
       "preallocated zero cluster without COPIED")
def _(d):
    im = std()
    im.write_data(0, 0x98)
    h = im.write_data(1, 0x99)
    im.finalize()
    im.put64(im.l2_entry_off(0), im.get64(im.l2_entry_off(0)) & ~COPIED)
    im.put64(im.l2_entry_off(1), h | ZERO)
    im.save(os.path.join(d, "l2_copied_missing.qcow2"))


@image("l2_copied_extra", "L2 entry with COPIED but data shared with a "
       "snapshot (refcount 2)")
def _(d):
    im = std()
    im.write_data(0, 0x9A)
    im.write_data(1, 0x9B)
    im.snapshot("snap1")
    im.write_data(1, 0x9C)
    im.finalize()
    im.put64(im.l2_entry_off(0), im.get64(im.l2_entry_off(0)) | COPIED)
    im.save(os.path.join(d, "l2_copied_extra.qcow2"))


@image("l2_unallocated_flags", "L2 entries with only COPIED, only ZERO, "
       "ZERO|COPIED and all-zero: no errors")
def _(d):
    im = std()
    im.write_data(0, 0x9D)
    im.finalize()
    im.put64(im.l2_entry_off(1), COPIED)
    im.put64(im.l2_entry_off(2), ZERO)
    im.put64(im.l2_entry_off(3), ZERO | COPIED)
    im.save(os.path.join(d, "l2_unallocated_flags.qcow2"))


@image("l2_reserved", "L2 entries with reserved bits (bit 1; bit 57) set "
       "on a normal and on an unallocated entry")
def _(d):
    im = std()
    im.write_data(0, 0x9E)
    im.finalize()
    im.put64(im.l2_entry_off(0), im.get64(im.l2_entry_off(0)) | 2)
    im.put64(im.l2_entry_off(1), 1 << 57)
    im.save(os.path.join(d, "l2_reserved.qcow2"))


@image("l2_unaligned_data", "data cluster offset +0x200: counted on two "
       "host clusters")
def _(d):
    im = std()
    im.write_data(0, 0xA0)
    im.write_data(1, 0xA1)
    im.finalize()
    im.put64(im.l2_entry_off(0), im.get64(im.l2_entry_off(0)) + 0x200)
    im.save(os.path.join(d, "l2_unaligned_data.qcow2"))


@image("l2_unaligned_prealloc", "preallocated zero cluster with an "
       "unaligned offset")
def _(d):
    im = std()
    im.write_data(0, 0xA2)
    h = im.write_data(1, 0xA3)
    im.finalize()
    im.put64(im.l2_entry_off(1), (h + 0x400) | ZERO | COPIED)
    im.save(os.path.join(d, "l2_unaligned_prealloc.qcow2"))


@image("l2_unaligned_past_eof", "unaligned data offset far past EOF: "
       "alignment message then exceeding-EOF message")
def _(d):
    im = std()
    im.write_data(0, 0xA4)
    im.finalize()
    im.put64(im.l2_entry_off(1), 0x40000200 | COPIED)
    im.save(os.path.join(d, "l2_unaligned_past_eof.qcow2"))


@image("data_on_metadata", "data clusters pointing at the L1 table and at "
       "the refcount table")
def _(d):
    im = std()
    im.write_data(0, 0xA5)
    im.finalize()
    im.put64(im.l2_entry_off(1), im.l1_off | COPIED)
    im.put64(im.l2_entry_off(2), im.reftable_off)
    im.save(os.path.join(d, "data_on_metadata.qcow2"))


@image("data_in_header", "data cluster at unaligned offset 0x200 (inside "
       "the header cluster)")
def _(d):
    im = std()
    im.write_data(0, 0xA6)
    im.finalize()
    im.put64(im.l2_entry_off(1), 0x200 | COPIED)
    im.save(os.path.join(d, "data_in_header.qcow2"))


@image("data_shared", "two guest clusters map the same host cluster "
       "(refcount 1, reference 2)")
def _(d):
    im = std()
    h = im.write_data(0, 0xA7)
    im.write_data(1, None, host=h, ref=False)
    im.finalize()
    im.save(os.path.join(d, "data_shared.qcow2"))


# --------------------------------------------------------- compressed -----

@image("compressed", "compressed clusters: two packed in one host cluster, "
       "one spanning two host clusters")
def _(d):
    im = std()
    im.write_data(0, 0xB0)
    h = im.alloc(2)
    co1, n1 = im.write_compressed(1, 0xB1, coffset=h)
    co2, n2 = im.write_compressed(2, 0xB2, coffset=h + ((n1 + 511) & ~511))
    # third one straddles the boundary between h and h + 64k
    im.write_compressed(3, 0xB3, coffset=h + 0x10000 - 0x100)
    im.finalize()
    im.save(os.path.join(d, "compressed.qcow2"))


@image("compressed_copied", "compressed L2 entry with COPIED set")
def _(d):
    im = std()
    im.write_compressed(0, 0xB4)
    im.finalize()
    im.put64(im.l2_entry_off(0), im.get64(im.l2_entry_off(0)) | COPIED)
    im.save(os.path.join(d, "compressed_copied.qcow2"))


@image("compressed_past_eof", "compressed entry at an unaligned offset far "
       "past EOF (QEMU 5.2 prints the sector-aligned offset/size)")
def _(d):
    im = std()
    im.write_data(0, 0xB5)
    im.finalize()
    im.put64(im.l2_entry_off(1), im.compressed_entry(0x1000123, 3))
    im.save(os.path.join(d, "compressed_past_eof.qcow2"))


@image("compressed_refcount", "compressed host cluster holding two "
       "compressed clusters has refcount 1 (needs 2)")
def _(d):
    im = std()
    h = im.alloc(1)
    co1, n1 = im.write_compressed(0, 0xB6, coffset=h)
    im.write_compressed(1, 0xB7, coffset=h + ((n1 + 511) & ~511))
    im.finalize()
    im.set_refcount(h >> im.cb, 1)
    im.save(os.path.join(d, "compressed_refcount.qcow2"))


@image("compressed_c512", "512-byte clusters with compressed clusters "
       "(csize field 1 bit: at most 2 sectors)")
def _(d):
    im = std(cluster_bits=9)
    h = im.alloc(2)
    im.write_compressed(0, 0xB8, coffset=h + 0x10)
    im.write_data(1, 0xB9)
    im.finalize()
    im.save(os.path.join(d, "compressed_c512.qcow2"))


# ---------------------------------------------------------- snapshots -----

@image("snapshot", "two snapshots sharing clusters with the active L1")
def _(d):
    im = std()
    im.write_data(0, 0xC0)
    im.write_data(1, 0xC1)
    im.snapshot("snap1", icount=0)
    im.write_data(1, 0xC2)
    im.write_data(2, 0xC3)
    im.snapshot("snap2", icount=0)
    im.write_data(0, 0xC4)
    im.finalize()
    im.save(os.path.join(d, "snapshot.qcow2"))


@image("snapshot_only_data", "data reachable only from a snapshot: not in "
       "the allocation statistics")
def _(d):
    im = std()
    for g in range(4):
        im.write_data(g, 0xC5)
    im.snapshot("s")
    for g in range(4):
        im.set_l2(g, 0)
    im.write_data(10, 0xC6)
    im.finalize()
    im.save(os.path.join(d, "snapshot_only_data.qcow2"))


@image("snap_l1_unaligned", "snapshot L1 offset not cluster aligned")
def _(d):
    im = std()
    im.write_data(0, 0xC7)
    im.snapshot("bad", icount=0)
    im.finalize()
    st = im.snapshot_field_off("l1_table_offset")
    im.put64(st, im.get64(st) + 0x200)
    im.save(os.path.join(d, "snap_l1_unaligned.qcow2"))


@image("snap_l1_too_large", "snapshot l1_size 0x400001 (> 32 MiB / 8)")
def _(d):
    im = std()
    im.write_data(0, 0xC8)
    im.snapshot("big", icount=0)
    im.finalize()
    im.put32(im.snapshot_field_off("l1_size"), 0x400001)
    im.save(os.path.join(d, "snap_l1_too_large.qcow2"))


@image("snap_l1_past_eof", "snapshot L1 table 1 GiB past EOF")
def _(d):
    im = std()
    im.write_data(0, 0xC9)
    im.snapshot("far", icount=0)
    im.finalize()
    im.put64(im.snapshot_field_off("l1_table_offset"), 0x40000000)
    im.save(os.path.join(d, "snap_l1_past_eof.qcow2"))


@image("snap_l2_bad", "snapshot L2 table with an unaligned data offset and "
       "a compressed entry with COPIED (snapshot tables are checked too)")
def _(d):
    im = std()
    im.write_data(0, 0xCA)
    im.write_compressed(1, 0xCB)
    im.snapshot("s", icount=0)
    im.write_data(0, 0xCC)            # COW: snapshot keeps the old L2
    im.write_data(1, 0xCD)
    im.finalize()
    old_l2 = im.snapshots[0]["table"][0] & OFF_MASK
    im.put64(old_l2, im.get64(old_l2) + 0x200)
    im.put64(old_l2 + 8, im.get64(old_l2 + 8) | COPIED)
    im.save(os.path.join(d, "snap_l2_bad.qcow2"))


@image("snap_incomplete", "v3 snapshot table entry with no extra data "
       "(extra_data_size 0)")
def _(d):
    im = std()
    im.write_data(0, 0xCE)
    im.snapshot("s1", extra=b"")
    im.snapshot("s2", extra=b"\0" * 8)
    im.snapshot("s3")
    im.finalize()
    im.save(os.path.join(d, "snap_incomplete.qcow2"))


@image("snap_v2_noextra", "v2 snapshot table entry without extra data: "
       "fine in v2")
def _(d):
    im = std(version=2)
    im.write_data(0, 0xCF)
    im.snapshot("s1", extra=b"")
    im.finalize()
    im.save(os.path.join(d, "snap_v2_noextra.qcow2"))


@image("snap_extra_too_big", "snapshot extra_data_size 1025 (> 1024): "
       "the check fails")
def _(d):
    im = std()
    im.write_data(0, 0xD0)
    im.snapshot("s1", extra=b"\0" * 1025)
    im.finalize()
    im.save(os.path.join(d, "snap_extra_too_big.qcow2"))


@image("snap_table_unaligned", "snapshot table offset not aligned: the "
       "check fails")
def _(d):
    im = std()
    im.write_data(0, 0xD1)
    im.snapshot("s1")
    im.finalize()
    im.set_header_field("snapshots_offset", im.snap_off + 8)
    im.save(os.path.join(d, "snap_table_unaligned.qcow2"))


@image("snap_too_many", "nb_snapshots 65537 (> 65536): the check fails")
def _(d):
    im = std()
    im.write_data(0, 0xD2)
    im.snapshot("s1")
    im.finalize()
    im.set_header_field("nb_snapshots", 65537)
    im.save(os.path.join(d, "snap_too_many.qcow2"))


@image("snap_table_past_eof", "3 snapshots, table 1 MiB past EOF: entries "
       "read as zeros (v3: incomplete), table region past EOF")
def _(d):
    im = std()
    im.write_data(0, 0xD3)
    im.finalize()
    im.set_header_field("nb_snapshots", 3)
    im.set_header_field("snapshots_offset", len(im.buf) + (1 << 20))
    im.save(os.path.join(d, "snap_table_past_eof.qcow2"))


@image("snap_table_big", "snapshot table longer than 64 MiB (513 entries "
       "with 64 KiB id and name): the check fails (sparse 67 MB file)")
def _(d):
    im = std()
    im.write_data(0, 0xD4)
    im.finalize()
    base = len(im.buf)
    off = base
    n = 513
    hdr = qf.pack_snapshot_header(
        l1_table_offset=0, l1_size=0, id_str_size=65535, name_size=65535,
        date_sec=0, date_nsec=0, vm_clock_nsec=0, vm_state_size=0,
        extra_data_size=16)
    for i in range(n):
        im.put(off, hdr)
        off += qf.SNAPSHOT_HEADER_SIZE + 16 + 65535 + 65535
        off += len(qf.pad(off, qf.SNAPSHOT_ALIGN))
    im.set_header_field("nb_snapshots", n)
    im.set_header_field("snapshots_offset", base)
    im.save(os.path.join(d, "snap_table_big.qcow2"))


@image("snap_refcount_low", "L2 table shared by the active L1 and a "
       "snapshot with refcount 1 (2 references)")
def _(d):
    im = std()
    im.write_data(0, 0xD5)
    im.snapshot("s")
    im.finalize()
    l2 = im.l1[0] & OFF_MASK
    im.set_refcount(l2 >> im.cb, 1)
    im.save(os.path.join(d, "snap_refcount_low.qcow2"))


@image("snap_long_names", "snapshot with long id and name used in an "
       "error message (unaligned L1)")
def _(d):
    im = std()
    im.write_data(0, 0xD6)
    im.snapshot("a name with spaces and (parens)", sid="id-0042")
    im.finalize()
    st = im.snapshot_field_off("l1_table_offset")
    im.put64(st, im.get64(st) | 0x10)
    im.save(os.path.join(d, "snap_long_names.qcow2"))


# ------------------------------------------------------ refcount table -----

@image("reftable_entry0", "refcount table entry 0 cleared: every cluster "
       "refcount 0")
def _(d):
    im = std()
    im.write_data(0, 0xE0)
    im.finalize()
    im.put64(im.reftable_entry_off(0), 0)
    im.save(os.path.join(d, "reftable_entry0.qcow2"))


@image("reftable_reserved", "refcount table entry 0 with low bit 0 set "
       "(reserved in 6.2+, 'not cluster aligned' in 5.2)")
def _(d):
    im = std()
    im.write_data(0, 0xE1)
    im.finalize()
    im.put64(im.reftable_entry_off(0), im.get64(im.reftable_entry_off(0)) | 1)
    im.save(os.path.join(d, "reftable_reserved.qcow2"))


@image("refblock_unaligned", "refblock offset +0x200: corruption signalled, "
       "refcounts unreadable -> internal errors, check fails")
def _(d):
    im = std()
    im.write_data(0, 0xE2)
    im.finalize()
    im.put64(im.reftable_entry_off(0), im.get64(im.reftable_entry_off(0)) + 0x200)
    im.save(os.path.join(d, "refblock_unaligned.qcow2"))


@image("refblock_unaligned_c512", "512-byte clusters, 2nd refblock entry "
       "unaligned by 0x100 (reserved bits)")
def _(d):
    im = std(cluster_bits=9)
    for g in range(0, 1200, 4):
        im.write_data(g, 0xE3)
    im.finalize()
    assert len(im.refblocks) >= 2
    im.put64(im.reftable_entry_off(1), im.get64(im.reftable_entry_off(1)) | 0x100)
    im.save(os.path.join(d, "refblock_unaligned_c512.qcow2"))


@image("refblock_past_eof", "second refcount table entry points past EOF")
def _(d):
    im = std()
    im.write_data(0, 0xE4)
    im.finalize()
    im.put64(im.reftable_entry_off(1), 0x40000000)
    im.save(os.path.join(d, "refblock_past_eof.qcow2"))


@image("refblock0_past_eof", "the only refblock entry points past EOF: all "
       "refcounts read as 0")
def _(d):
    im = std()
    im.write_data(0, 0xE5)
    im.finalize()
    im.put64(im.reftable_entry_off(0), 0x40000000)
    im.save(os.path.join(d, "refblock0_past_eof.qcow2"))


@image("refblock_twice", "two refcount table entries point to the same "
       "refblock")
def _(d):
    im = std()
    im.write_data(0, 0xE6)
    im.finalize()
    im.put64(im.reftable_entry_off(1), im.refblocks[0])
    im.save(os.path.join(d, "refblock_twice.qcow2"))


@image("refblock_on_l2", "refblock 1 placed on the active L2 table")
def _(d):
    im = std()
    im.write_data(0, 0xE7)
    im.finalize()
    im.put64(im.reftable_entry_off(1), im.l1[0] & OFF_MASK)
    im.save(os.path.join(d, "refblock_on_l2.qcow2"))


@image("refblock_refcount0", "the refblock's own refcount is 0")
def _(d):
    im = std()
    im.write_data(0, 0xE8)
    im.finalize()
    im.set_refcount(im.refblocks[0] >> im.cb, 0)
    im.save(os.path.join(d, "refblock_refcount0.qcow2"))


@image("reftable_past_eof", "refcount table 1 GiB past EOF (reads as "
       "zeros)")
def _(d):
    im = std()
    im.write_data(0, 0xE9)
    im.finalize()
    im.set_header_field("refcount_table_offset", 0x40000000)
    im.save(os.path.join(d, "reftable_past_eof.qcow2"))


@image("reftable_clusters0", "refcount_table_clusters 0: opened only in "
       "check mode; no refcounts at all")
def _(d):
    im = std()
    im.write_data(0, 0xEA)
    im.finalize()
    im.set_header_field("refcount_table_clusters", 0)
    im.save(os.path.join(d, "reftable_clusters0.qcow2"))


@image("reftable_big", "refcount table of 4 clusters, only the first "
       "in the file (rest past EOF)")
def _(d):
    im = std()
    im.write_data(0, 0xEB)
    im.finalize()
    # move reftable to the last cluster of the file, claim 4 clusters
    rt = len(im.buf)
    im.alloc(1)
    im.put64(rt, im.refblocks[0])
    im.set_refcount(rt >> im.cb, 1)
    im.set_header_field("refcount_table_offset", rt)
    im.set_header_field("refcount_table_clusters", 4)
    im.save(os.path.join(d, "reftable_big.qcow2"))


# ----------------------------------------------------------- ext. L2 ------

@image("extl2", "extended L2 entries, clean (partial subcluster bitmaps)")
def _(d):
    im = std(extl2=True)
    im.write_data(0, 0xF0)
    im.write_data(1, 0xF1, bitmap=0x0000FFFF)
    im.write_data(2, 0xF2, bitmap=(0xFF << 56) | 0xFF)
    im.set_l2(3, 0, 0xFFFF0000_00000000)   # unallocated, zero subclusters
    im.write_data(4, 0xF3, bitmap=0)      # allocated, no subcluster data
    im.finalize()
    im.save(os.path.join(d, "extl2.qcow2"))


@image("extl2_bad_bitmap", "ext L2: subcluster both allocated and zero")
def _(d):
    im = std(extl2=True)
    im.write_data(0, 0xF4, bitmap=(1 << 32) | 1)
    im.finalize()
    im.save(os.path.join(d, "extl2_bad_bitmap.qcow2"))


@image("extl2_unalloc_bitmap", "ext L2: unallocated entry with allocation "
       "bits set")
def _(d):
    im = std(extl2=True)
    im.write_data(0, 0xF5)
    im.set_l2(1, 0, 0x3)
    im.finalize()
    im.save(os.path.join(d, "extl2_unalloc_bitmap.qcow2"))


@image("extl2_compressed_bitmap", "ext L2: compressed entry with a non-zero "
       "bitmap")
def _(d):
    im = std(extl2=True)
    im.write_compressed(0, 0xF6)
    im.finalize()
    im.put64(im.l2_bitmap_off(0), 0x1)
    im.save(os.path.join(d, "extl2_compressed_bitmap.qcow2"))


@image("extl2_unaligned", "ext L2: unaligned offsets with and without "
       "allocated subclusters (data vs preallocated message)")
def _(d):
    im = std(extl2=True)
    a = im.write_data(0, 0xF7, bitmap=0x1)
    b = im.write_data(1, 0xF8, bitmap=0x1 << 32)
    im.finalize()
    im.put64(im.l2_entry_off(0), (a + 0x200) | COPIED)
    im.put64(im.l2_entry_off(1), (b + 0x200) | COPIED)
    im.save(os.path.join(d, "extl2_unaligned.qcow2"))


@image("extl2_zero_bit", "ext L2: bit 0 (ZERO in standard L2) set on a "
       "normal entry: ignored")
def _(d):
    im = std(extl2=True)
    a = im.write_data(0, 0xF9)
    im.finalize()
    im.put64(im.l2_entry_off(0), a | COPIED | ZERO)
    im.save(os.path.join(d, "extl2_zero_bit.qcow2"))


# ------------------------------------------------------------- bitmaps -----

@image("bitmaps", "two persistent bitmaps, one with a data cluster")
def _(d):
    im = std()
    im.write_data(0, 0x01)
    im.add_bitmap("b0", data_clusters=((0, 0xFF),))
    im.add_bitmap("b1", granularity_bits=17, flags=0)
    im.finalize()
    im.save(os.path.join(d, "bitmaps.qcow2"))


@image("bitmap_table_refcount0", "bitmap table and data cluster with "
       "refcount 0")
def _(d):
    im = std()
    im.write_data(0, 0x02)
    t = im.add_bitmap("b0", data_clusters=((0, 0xFF),))
    im.finalize()
    im.set_refcount(t >> im.cb, 0)
    im.set_refcount(im.get64(t) >> im.cb, 0)
    im.save(os.path.join(d, "bitmap_table_refcount0.qcow2"))


@image("bitmap_inuse_bad_entry", "in-use bitmap (table not read at open) "
       "whose table has an entry with reserved bits: the check fails")
def _(d):
    im = std()
    im.write_data(0, 0x03)
    im.add_bitmap("b0", flags=1, table=[0x10000 | 0x2])
    im.finalize()
    im.save(os.path.join(d, "bitmap_inuse_bad_entry.qcow2"))


@image("bitmap_inuse_past_eof", "in-use bitmap whose table entry points past "
       "EOF")
def _(d):
    im = std()
    im.write_data(0, 0x04)
    im.add_bitmap("b0", flags=1, table=[0x40000000])
    im.finalize()
    im.save(os.path.join(d, "bitmap_inuse_past_eof.qcow2"))


@image("bitmap_no_autoclear", "bitmaps extension present but autoclear bit "
       "clear: warning at open, bitmap clusters leak")
def _(d):
    im = std()
    im.write_data(0, 0x05)
    im.add_bitmap("b0", data_clusters=((0, 0xFF),))
    im.finalize()
    im.set_header_field("autoclear_features",
                        im.get_header_field("autoclear_features") &
                        ~qf.AUTOCLEAR_BITMAPS)
    im.save(os.path.join(d, "bitmap_no_autoclear.qcow2"))


@image("bitmap_v2_no_autoclear", "v2 image with a bitmaps extension: v2 "
       "wording of the warning, leaks")
def _(d):
    im = std(version=2)
    im.write_data(0, 0x06)
    im.add_bitmap("b0")
    im.finalize()
    im.save(os.path.join(d, "bitmap_v2_no_autoclear.qcow2"))


# ----------------------------------------------------------- data file ----

@image("datafile", "external data file: data clusters not counted, "
       "OFLAG_COPIED expects refcount 1", companions=("datafile-data.raw",))
def _(d):
    im = std(data_file="datafile-data.raw")
    for g in (0, 1, 5):
        e = (g * 65536) | COPIED
        im.set_l2(g, e)
    im.set_l2(2, COPIED)              # offset 0 + COPIED: allocated at 0
    im.finalize()
    im.save(os.path.join(d, "datafile.qcow2"))
    with open(os.path.join(d, "datafile-data.raw"), "wb") as f:
        f.truncate(64 << 20)


@image("datafile_bad", "external data file with a compressed entry, a "
       "cluster without COPIED, and a snapshot",
       companions=("datafile_bad-data.raw",))
def _(d):
    im = std(data_file="datafile_bad-data.raw")
    im.set_l2(0, 0 | COPIED)
    im.set_l2(1, 0x10000)
    im.snapshot("s1")
    im.finalize()
    im.put64(im.l2_entry_off(1), 0x10000)     # COPIED missing
    im.put64(im.l2_entry_off(2), im.compressed_entry(0x20000, 1))
    im.put64(im.l2_entry_off(3), im.compressed_entry(0x30000, 1) | COPIED)
    im.save(os.path.join(d, "datafile_bad.qcow2"))
    with open(os.path.join(d, "datafile_bad-data.raw"), "wb") as f:
        f.truncate(64 << 20)


# ------------------------------------------------------ header / open -----

@image("dirty_lazy", "lazy refcounts + dirty bit with stale refcounts "
       "(read-only check does not repair)")
def _(d):
    im = std(compat=COMPAT_LAZY_REFCOUNTS, incompat=INCOMPAT_DIRTY)
    im.write_data(0, 0x07)
    im.write_data(1, 0x08)
    im.finalize()
    h = im.get64(im.l2_entry_off(1)) & OFF_MASK
    im.set_refcount(h >> im.cb, 0)
    im.save(os.path.join(d, "dirty_lazy.qcow2"))


@image("corrupt_bit_errors", "corrupt bit set and a leak")
def _(d):
    im = std(incompat=INCOMPAT_CORRUPT)
    im.write_data(0, 0x09)
    im.alloc(1)
    im.extra_counts[im.nclusters - 1] = 1
    im.finalize()
    im.save(os.path.join(d, "corrupt_bit_errors.qcow2"))


@image("backing_chain", "overlay with an existing backing file: only the "
       "overlay is checked", companions=("backing_chain-base.qcow2",))
def _(d):
    base = std()
    base.write_data(0, 0x0A)
    base.alloc(1)
    base.extra_counts[base.nclusters - 1] = 1     # leak in the base
    base.finalize()
    base.save(os.path.join(d, "backing_chain-base.qcow2"))
    im = std(backing="backing_chain-base.qcow2", backing_fmt="qcow2")
    im.write_data(1, 0x0B)
    im.finalize()
    im.save(os.path.join(d, "backing_chain.qcow2"))


@image("unknown_autoclear", "unknown autoclear bit 5 set: ignored "
       "read-only")
def _(d):
    im = std(autoclear=1 << 5)
    im.write_data(0, 0x0C)
    im.finalize()
    im.save(os.path.join(d, "unknown_autoclear.qcow2"))


@image("header_ext_feature_table", "feature name table extension naming "
       "incompatible bit 9, which is set: open error uses the name")
def _(d):
    im = std(feature_table=True, incompat=1 << 9)
    im.feature_names = [(0, 9, "imaginary feature")]
    im.write_data(0, 0x0D)
    im.finalize()
    im.save(os.path.join(d, "header_ext_feature_table.qcow2"))


@image("l1_table_unaligned_open", "active L1 offset unaligned: open error")
def _(d):
    im = std()
    im.write_data(0, 0x0E)
    im.finalize()
    im.set_header_field("l1_table_offset", im.l1_off + 0x200)
    im.save(os.path.join(d, "l1_table_unaligned_open.qcow2"))


@image("many_errors", "a mix: leak, refcount 0, unaligned L2, OFLAG errors, "
       "exceeding EOF -- message order across phases")
def _(d):
    im = std(size=1 << 30)
    im.write_data(0, 0x0F)
    im.write_data(1, 0x10)
    im.write_data(8192, 0x11)
    im.snapshot("s")
    im.write_data(0, 0x12)
    im.alloc(1)
    im.extra_counts[im.nclusters - 1] = 2
    im.finalize()
    im.put64(im.l2_entry_off(8192 + 1), 0x7000000 | COPIED)
    h = im.get64(im.l2_entry_off(1)) & OFF_MASK
    im.set_refcount(h >> im.cb, 0)
    im.put64(im.l1_entry_off(1), im.get64(im.l1_entry_off(1)) & ~COPIED)
    im.save(os.path.join(d, "many_errors.qcow2"))


@image("file_too_large", "512-byte clusters and a sparse file of 1 TiB + "
       "512 bytes: nb_clusters > INT_MAX, the check fails")
def _(d):
    im = std(cluster_bits=9)
    im.write_data(0, 0x13)
    im.finalize()
    im.save(os.path.join(d, "file_too_large.qcow2"),
            truncate=(1 << 40) + 512)


# ------------------------------------------------------- more corners -----

@image("frag_reset", "fragmentation tracking restarts with every L2 "
       "table: a discontiguous first entry of the 2nd table is not counted")
def _(d):
    im = std(size=1 << 30)
    im.new_l2(0)
    im.new_l2(1)
    im.write_data(8191, 0x14)         # last entry of L2 #0
    im.alloc(3)
    im.write_data(8192, 0x15)         # first entry of L2 #1, far away
    im.write_data(8193, 0x16)         # contiguous
    im.finalize()
    im.save(os.path.join(d, "frag_reset.qcow2"))


@image("l1_table_past_eof", "active L1 table 1 GiB past EOF: read as "
       "zeros at open, its region exceeds the file")
def _(d):
    im = std()
    im.write_data(0, 0x17)
    im.finalize()
    im.set_header_field("l1_table_offset", 0x40000000)
    im.save(os.path.join(d, "l1_table_past_eof.qcow2"))


@image("l2_partial_past_eof", "file ends in the middle of the (last) L2 "
       "table: the missing half reads as zeros, no error")
def _(d):
    im = std()
    im.write_data(0, 0x18)
    l2 = im.l1[0] & OFF_MASK
    im.finalize()
    assert l2 == len(im.buf) - im.cs
    im.save(os.path.join(d, "l2_partial_past_eof.qcow2"),
            truncate=l2 + 0x8000)


@image("snap_l1_size0", "snapshot with l1_size 0 (its L1 offset is not "
       "counted)")
def _(d):
    im = std()
    im.write_data(0, 0x19)
    im.snapshot("empty", icount=0)
    im.finalize()
    im.put32(im.snapshot_field_off("l1_size"), 0)
    im.save(os.path.join(d, "snap_l1_size0.qcow2"))


@image("snap_same_l1", "two snapshot entries share one L1 table")
def _(d):
    im = std()
    im.write_data(0, 0x1A)
    im.snapshot("a", icount=0)
    im.snapshot("b", icount=0)
    im.finalize()
    a = im.snapshots[0]["l1_off"]
    # the second entry starts after the first (40 + 24 + len("1") + len("a"))
    im.put64(im.snapshot_field_off("l1_table_offset", 1), a)
    im.save(os.path.join(d, "snap_same_l1.qcow2"))


@image("datafile_missing", "external data file that does not exist: open "
       "error")
def _(d):
    im = std(data_file="datafile_missing-data.raw")
    im.set_l2(0, COPIED)
    im.finalize()
    im.save(os.path.join(d, "datafile_missing.qcow2"))


@image("bitmap_dir_bad_flags", "bitmap directory entry with a reserved "
       "flag bit: open error")
def _(d):
    im = std()
    im.write_data(0, 0x1B)
    im.add_bitmap("b0", flags=2 | 4)
    im.finalize()
    im.save(os.path.join(d, "bitmap_dir_bad_flags.qcow2"))


@image("bitmap_dir_count", "bitmaps extension says 2 bitmaps, directory "
       "has 1: open error")
def _(d):
    im = std()
    im.write_data(0, 0x1C)
    im.add_bitmap("b0")
    im.finalize()
    assert im.ext_offset(qf.EXT_BITMAPS) == im.header_length
    im.put32(im.bitmaps_ext_field_off("nb_bitmaps"), 2)
    im.save(os.path.join(d, "bitmap_dir_count.qcow2"))


@image("bitmap_dir_past_eof", "bitmap directory past EOF (reads as zeros): "
       "open error")
def _(d):
    im = std()
    im.write_data(0, 0x1D)
    im.add_bitmap("b0")
    im.finalize()
    im.put64(im.bitmaps_ext_field_off("bitmap_directory_offset"), 0x40000000)
    im.save(os.path.join(d, "bitmap_dir_past_eof.qcow2"))


@image("bitmap_inuse_wrong_size", "in-use bitmap with a table size that "
       "does not match the disk: accepted for in-use bitmaps")
def _(d):
    im = std()
    im.write_data(0, 0x1E)
    im.add_bitmap("b0", flags=1, table_size=3)
    im.finalize()
    # (table_size 3 is wrong for 64 MiB at 64 KiB granularity: 1 expected)
    im.save(os.path.join(d, "bitmap_inuse_wrong_size.qcow2"))


@image("v2_zero_flag", "v2 image with L2 entries that have bit 0 (zero "
       "flag) set: with and without a host offset, and unaligned")
def _(d):
    im = std(version=2)
    im.write_data(0, 0x1F)
    h = im.write_data(1, 0x20)
    h3 = im.write_data(3, 0x2D)
    im.finalize()
    im.put64(im.l2_entry_off(1), h | ZERO | COPIED)
    im.put64(im.l2_entry_off(2), ZERO)
    # unaligned + zero flag: the 'Preallocated' wording proves bit 0 counts
    im.put64(im.l2_entry_off(3), (h3 + 0x400) | ZERO | COPIED)
    im.save(os.path.join(d, "v2_zero_flag.qcow2"))


@image("compressed_max_size", "compressed entry with the largest sector "
       "count (256 x 512 = 128 KiB for 64 KiB clusters)")
def _(d):
    im = std()
    h = im.alloc(3)
    im.refs.append((h + 0x100, 256 * 512 - 0x100))
    im.set_l2(0, im.compressed_entry(h + 0x100, 256))
    im.finalize()
    im.save(os.path.join(d, "compressed_max_size.qcow2"))


@image("zero_alloc_only", "only preallocated zero clusters: allocated and "
       "counted, not compressed")
def _(d):
    im = std()
    im.new_l2(0)
    for g in range(3):
        h = im.alloc(1)
        im.refs.append((h, im.cs))
        im.set_l2(g, h | ZERO)
    im.finalize()
    im.save(os.path.join(d, "zero_alloc_only.qcow2"))


# ------------------------------------------- offsets near 2^63 (limits) ---

def _snap_l1_at(d, name, val):
    im = std()
    im.write_data(0, 0x21)
    im.snapshot("s", icount=0)
    im.finalize()
    im.put64(im.snapshot_field_off("l1_table_offset"), val)
    im.save(os.path.join(d, name + ".qcow2"))


@image("snap_l1_io_limit", "snapshot L1 at 0x7fffffffc0000000: reading it "
       "fails in 7.2+ (beyond the block layer's maximum), zeros in 5.2")
def _(d):
    _snap_l1_at(d, "snap_l1_io_limit", 0x7FFFFFFFC0000000)


@image("snap_l1_below_limit", "snapshot L1 at 0x7fffffffbfff0000: still "
       "readable (as zeros) in every version")
def _(d):
    _snap_l1_at(d, "snap_l1_below_limit", 0x7FFFFFFFBFFF0000)


@image("snap_l1_negative", "snapshot L1 offset with bit 63 set: the region "
       "wraps, the in-memory refcount array cannot grow -> ENOMEM")
def _(d):
    _snap_l1_at(d, "snap_l1_negative", 0xFFFFFFFFFFFF0000)


@image("refblock_negative", "refcount table entry 0 = 0xffffffffffff0000: "
       "outside image, reading it fails -> internal errors")
def _(d):
    im = std()
    im.write_data(0, 0x22)
    im.finalize()
    im.put64(im.reftable_entry_off(0), 0xFFFFFFFFFFFF0000)
    im.save(os.path.join(d, "refblock_negative.qcow2"))


@image("refblock_near_max", "refcount table entry 0 = 0x7fffffffffff0000: "
       "7.2+ internal errors; 5.2 aborts on an assertion")
def _(d):
    im = std()
    im.write_data(0, 0x23)
    im.finalize()
    im.put64(im.reftable_entry_off(0), 0x7FFFFFFFFFFF0000)
    im.save(os.path.join(d, "refblock_near_max.qcow2"))


def _bitmap_table_at(d, name, val):
    im = std()
    im.write_data(0, 0x24)
    im.add_bitmap("b", flags=1)
    im.finalize()
    im.put64(im.bitmap_field_off("bitmap_table_offset"), val)
    im.save(os.path.join(d, name + ".qcow2"))


@image("bitmap_table_io_limit", "in-use bitmap table at 0x7fffffffffff0000: "
       "5.2 reads zeros (leak), 7.2+ the check fails with EIO")
def _(d):
    _bitmap_table_at(d, "bitmap_table_io_limit", 0x7FFFFFFFFFFF0000)


@image("bitmap_table_negative", "in-use bitmap table offset with bit 63 "
       "set: ENOMEM")
def _(d):
    _bitmap_table_at(d, "bitmap_table_negative", 0xFFFFFFFFFFFF0000)


@image("refblock_in_grown_area", "refblock 1 at the cluster just past EOF, "
       "which a compressed cluster starting at EOF pulled into the IMRT: "
       "not 'outside image', counted twice")
def _(d):
    im = std()
    im.write_data(0, 0x25)
    im.finalize()
    eof = len(im.buf)
    im.put64(im.l2_entry_off(1), im.compressed_entry(eof + 0x100, 1))
    im.put64(im.reftable_entry_off(1), eof)
    im.save(os.path.join(d, "refblock_in_grown_area.qcow2"))


@image("refblock1_unaligned_c4k", "4 KiB clusters, file of 2050 clusters, "
       "refblock 1 offset +0x200: corruption signal names reftable index "
       "0x1, internal errors from cluster 2048 on")
def _(d):
    im = std(cluster_bits=12)
    im.write_data(0, 0x26)
    im.alloc(2046 - im.nclusters + 2)
    im.write_data(1, 0x27)            # lands at cluster >= 2048
    im.finalize()
    assert len(im.refblocks) == 2
    im.put64(im.reftable_entry_off(1), im.get64(im.reftable_entry_off(1)) + 0x200)
    im.save(os.path.join(d, "refblock1_unaligned_c4k.qcow2"))


@image("snap_table_io_limit", "snapshot table at 0x7fffffffc0000000 (passes "
       "the offset validation): 7.2+ cannot read it, 5.2 reads zeros")
def _(d):
    im = std()
    im.write_data(0, 0x28)
    im.finalize()
    im.set_header_field("nb_snapshots", 1)
    im.set_header_field("snapshots_offset", 0x7FFFFFFFC0000000)
    im.save(os.path.join(d, "snap_table_io_limit.qcow2"))


@image("snap_names_binary", "snapshot id/name with a high byte and an "
       "embedded NUL (printed up to the NUL), unaligned L1")
def _(d):
    im = std()
    im.write_data(0, 0x29)
    im.snapshot("x", sid="1")
    im.finalize()
    # rewrite id "1" -> "\xff", name "x" -> "a\0b" needs room: patch sizes
    # in place: id stays 1 byte, name becomes 3 bytes written after it
    ext = 16
    im.put16(im.snapshot_field_off("id_str_size"), 1)
    im.put16(im.snapshot_field_off("name_size"), 3)
    im.put(im.snapshot_entry_off(0) + qf.SNAPSHOT_HEADER_SIZE + ext,
           b"\xff" + b"a\0b")
    st = im.snapshot_field_off("l1_table_offset")
    im.put64(st, im.get64(st) | 0x8)
    im.save(os.path.join(d, "snap_names_binary.qcow2"))


@image("reftable_too_small", "512-byte clusters, refcount table of one "
       "cluster (64 refblocks = 16384 clusters) but the file is larger: "
       "clusters past its coverage have refcount 0")
def _(d):
    im = std(cluster_bits=9, reftable_clusters=2)
    im.write_data(0, 0x2A)
    im.alloc(16384 + 10 - im.nclusters)
    im.write_data(1, 0x2B)
    im.finalize()
    im.set_header_field("refcount_table_clusters", 1)                   # header: 1 reftable cluster only
    im.save(os.path.join(d, "reftable_too_small.qcow2"))


@image("eof_unaligned_len", "file length 0x80001 (not a multiple of 512): "
       "the check uses it rounded up to 0x80200; a snapshot L1 (8 bytes) at "
       "0x90000 is then < 1 cluster past the end -> growth, no EOF error")
def _(d):
    im = std()
    im.write_data(0, 0x2C)
    im.snapshot("s", icount=0)
    im.finalize()
    im.alloc(1)                       # the cluster the cut falls into
    n = len(im.buf)
    im.put64(im.snapshot_field_off("l1_table_offset"), n)
    im.save(os.path.join(d, "eof_unaligned_len.qcow2"),
            truncate=n - im.cs + 1)


@image("snap_offset_unaligned_nosnap", "no snapshots, but the header's "
       "snapshot table offset is unaligned: the check still fails")
def _(d):
    im = std()
    im.write_data(0, 0x2E)
    im.finalize()
    im.set_header_field("snapshots_offset", 0x12345)
    im.save(os.path.join(d, "snap_offset_unaligned_nosnap.qcow2"))


@image("snap_offset_huge_nosnap", "no snapshots, snapshot table offset "
       "0x7ffffffffff00000 (aligned): ignored, clean")
def _(d):
    im = std()
    im.write_data(0, 0x2F)
    im.finalize()
    im.set_header_field("snapshots_offset", 0x7FFFFFFFFFF00000)
    im.save(os.path.join(d, "snap_offset_huge_nosnap.qcow2"))


@image("bitmap_bad_entry_open", "bitmap NOT in use with an invalid table "
       "entry: its table is read at open -> open error")
def _(d):
    im = std()
    im.write_data(0, 0x30)
    im.add_bitmap("b0", flags=2, table=[0x10000 | 0x2])
    im.finalize()
    im.save(os.path.join(d, "bitmap_bad_entry_open.qcow2"))



# ---- command-line and locking cases ---------------------------------------
# samples/_extra/<case>: (case, cwd, argument, mode), each run once. The
# lock cases hold shared POSIX locks on QEMU's lock bytes of the image
# from another process (lockhold.py --posix): 100 + bit = a permission
# held, 200 + bit = a permission not shared; bit 0 consistent read,
# 1 write, 2 write unchanged, 3 resize.
ODD_DIR = "_names"
ODD_NAME = b'q"b\\s\tt\xc3\xa9\xff.qcow2'      # quote, backslash, TAB, é, 0xff
EXTRA = [
    ("lock_write", ".", "leak_tail.qcow2", "posixlock=101"),
    ("lock_write_json", ".", "leak_tail.qcow2", "posixlock=101+output=json"),
    ("lock_consistent_read", ".", "leak_tail.qcow2", "posixlock=200"),
    ("lock_resize", ".", "leak_tail.qcow2", "posixlock=103"),
    ("lock_write_and_resize", ".", "leak_tail.qcow2", "posixlock=101,103"),
    ("lock_write_force_share", ".", "leak_tail.qcow2", "posixlock=101+U"),
    ("lock_write_force_share_long", ".", "leak_tail.qcow2",
     "posixlock=101+force-share"),
    ("lock_unrelated_bytes", ".", "leak_tail.qcow2",
     "posixlock=100,102,201,202"),
    ("missing_file", ".", "nonexistent.qcow2", ""),
    ("raw_probed", ".", "plain.raw", ""),
    ("raw_probed_json", ".", "plain.raw", "output=json"),
    ("raw_forced_qcow2", ".", "plain.raw", "f=qcow2"),
    ("qcow2_forced_raw", ".", "leak_tail.qcow2", "f=raw"),
    ("format_qcow2_explicit", ".", "leak_tail.qcow2", "f=qcow2"),
    ("quiet", ".", "many_errors.qcow2", "q"),
    ("quiet_json", ".", "many_errors.qcow2", "q+output=json"),
    ("quiet_check_errors", ".", "refblock_unaligned.qcow2", "q"),
    ("output_human", ".", "leak_tail.qcow2", "output=human"),
    ("output_invalid", ".", "leak_tail.qcow2", "output=xml"),
    ("output_separate_arg", ".", "leak_tail.qcow2", "output_sep=json"),
    ("filename_escaping", ODD_DIR, ODD_NAME, "output=json"),
    ("filename_escaping_human", ODD_DIR, ODD_NAME, ""),
]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_check_images.py DIR")
    d = sys.argv[1]
    if os.path.exists(d) and os.listdir(d):
        sys.exit("make_check_images: %s is not empty" % d)
    os.makedirs(d, exist_ok=True)
    # a raw file for the command-line cases
    with open(os.path.join(d, "plain.raw"), "wb") as f:
        f.truncate(1 << 20)
    images, runs = [], []
    for name, desc, fn, _ in IMAGES:
        fn(d)
        images.append((name, name + ".qcow2", desc))
        arg = index_field(name + ".qcow2")
        runs.append((name, "check", ".", arg, "-"))
        runs.append((name, "check.json", ".", arg, "output=json"))
    # a copy of leak_tail.qcow2 under an odd name (holes kept)
    os.makedirs(os.path.join(d, ODD_DIR))
    copy = Buffer()
    with open(os.path.join(d, "leak_tail.qcow2"), "rb") as f:
        copy.put(0, f.read())
    copy.save(os.path.join(os.fsencode(d), os.fsencode(ODD_DIR), ODD_NAME))
    for case, cwd, arg, mode in EXTRA:
        runs.append(("_extra/" + case, "check", cwd, index_field(arg),
                     mode or "-"))
    write_index(os.path.join(d, "images.txt"), images)
    write_index(os.path.join(d, "runs.txt"), runs)


if __name__ == "__main__":
    main()
