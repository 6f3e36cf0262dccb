#!/usr/bin/env python3
"""qcow2_build.py — build whole qcow2 images from scratch, for the test corpora.

The one qcow2 image builder of the `qemu-img info` and `qemu-img check`
corpora (make_info_images.py, make_check_images.py). The qcow2 layout
itself — header fields, extensions, the feature name table, snapshot
table entries, bitmap directory entries, compressed cluster descriptors,
entry masks and flags — comes from tests/tools/qcow2_fixture.py; this
file only decides where things go and what the refcounts say.

How an image is made:
  * Image(...) lays out cluster 0 (the header), the refcount table, the
    first refcount block and the active L1 table, in that order.
  * The caller maps guest clusters (write_data, write_compressed, set_l2,
    new_l2), takes internal snapshots (snapshot: a copy of the active L1
    and one more reference on everything it reaches; an L2 table shared
    with a snapshot is copied on the next write through it), adds
    persistent bitmaps (add_bitmap) and allocates clusters of its own
    (alloc). Every reference is remembered in `refs` as (offset, length).
  * finalize() places the snapshot table and the bitmap directory (unless
    the caller placed them already: place_snapshot_table,
    place_bitmap_directory), adds refcount blocks until every cluster is
    covered, writes each cluster's refcount as the number of references
    to it (`extra_counts` overrides single clusters: leaks, wrong counts;
    None drops one), sets OFLAG_COPIED on exactly the active L1/L2
    entries whose target ends with refcount 1, and writes every table,
    the header, its extensions and the backing file name.
  * Damage goes in afterwards, with the raw helpers (put64,
    set_header_field, set_refcount, ...): nothing here checks anything.
  * save() writes the file sparsely.

Everything is in memory (a bytearray of the whole file; the largest
image of the corpora is about 70 MB) and is written with holes wherever
a 4 KiB block is all zeros, so a file's allocation (st_blocks, the "disk
size" qemu-img info prints) depends only on its content. No clock and no
randomness: the same calls give the same bytes.

index_field() and write_index() write the corpora's index files
(images.txt, runs.txt: README.md). sparse_digest() hashes a file's
content hole-aware (a 1 TiB sparse file costs only its data);
`qcow2_build.py --digest DIR` prints it for every file under DIR, to
show that a tool run on a corpus left it unchanged.

Trust: test code; builds whatever it is told, broken images on purpose;
writes only the paths given to save().
"""
import hashlib
import os
import struct
import sys
import zlib

# The qcow2 layout: tests/tools/qcow2_fixture.py (beside this directory in
# the source tree and in the runfiles alike).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tools"))
import qcow2_fixture as qf  # noqa: E402

COPIED = qf.OFLAG_COPIED
COMPRESSED = qf.OFLAG_COMPRESSED
ZERO = qf.OFLAG_ZERO
OFF_MASK = qf.L2E_OFFSET_MASK
U64 = (1 << 64) - 1

# The date both corpora give snapshots unless told: 2020-01-01 00:00:00 UTC.
PIN_DATE = 1577836800

# The feature name table qemu-img writes into every version 3 image:
# (type, bit, name).
QEMU_FEATURE_NAMES = (
    (qf.FEATURE_TYPE_INCOMPAT, 0, "dirty bit"),
    (qf.FEATURE_TYPE_INCOMPAT, 1, "corrupt bit"),
    (qf.FEATURE_TYPE_INCOMPAT, 2, "external data file"),
    (qf.FEATURE_TYPE_INCOMPAT, 3, "compression type"),
    (qf.FEATURE_TYPE_INCOMPAT, 4, "extended L2 entries"),
    (qf.FEATURE_TYPE_COMPAT, 0, "lazy refcounts"),
    (qf.FEATURE_TYPE_AUTOCLEAR, 0, "bitmaps"),
    (qf.FEATURE_TYPE_AUTOCLEAR, 1, "raw external data"),
)

# Header extensions, by kind, in the order they are written (then the end
# marker and the backing file name): qemu-img's order for the backing
# format, feature table and bitmaps extensions (qemu-img 7.2 seen writing
# them so). Image(ext_order=...) can change it; "extra" is
# Image.extensions, unknown or repeated ones.
QEMU_EXT_ORDER = ("backing_format", "data_file", "crypto", "feature_table",
                  "bitmaps", "extra")

SAVE_BLOCK = 4096       # save(): blocks of this size that are all zeros stay holes


def to_bytes(s):
    """A name given as str (UTF-8) or bytes, as bytes."""
    return s.encode() if isinstance(s, str) else bytes(s)


def cdiv(a, b):
    return -(-a // b)


def feature_table_data(names):
    """The data of a feature name table extension for (type, bit, name)s."""
    return b"".join(qf.pack_feature(t, bit, to_bytes(n)) for t, bit, n in names)


def snapshot_extra(disk_size, vm_state_size=0, icount=None):
    """Snapshot extra data as QEMU writes it: 16 bytes (64-bit VM state
    size, disk size), 24 with an icount."""
    extra = qf.pack_snapshot_extra(vm_state_size, disk_size,
                                   qf.ICOUNT_NONE if icount is None else icount)
    return extra if icount is not None else extra[:16]


class Buffer:
    """A file's bytes in memory, growing as they are written; saved with
    holes. Numbers are big-endian and taken modulo their width (so that
    `e & ~COPIED` and the like can be written back as they are)."""

    def __init__(self):
        self.buf = bytearray()

    def ensure(self, end):
        if len(self.buf) < end:
            self.buf.extend(bytes(end - len(self.buf)))

    def put(self, off, data):
        self.ensure(off + len(data))
        self.buf[off:off + len(data)] = data

    def put64(self, off, v):
        self.put(off, qf.be(8, v & U64))

    def put32(self, off, v):
        self.put(off, qf.be(4, v & 0xFFFFFFFF))

    def put16(self, off, v):
        self.put(off, qf.be(2, v & 0xFFFF))

    def get64(self, off):
        return qf.get(self.buf, off, 8)

    def get32(self, off):
        return qf.get(self.buf, off, 4)

    def save(self, path, truncate=None):
        """Write the file: every 4 KiB block holding a non-zero byte, holes
        elsewhere, then set its length (truncate: another length, shorter
        or far longer than what is in memory)."""
        length = len(self.buf) if truncate is None else truncate
        with open(path, "wb") as f, memoryview(self.buf) as mv:
            data = mv[:length]
            for o in range(0, len(data), SAVE_BLOCK):
                chunk = data[o:o + SAVE_BLOCK]
                if chunk.tobytes().count(0) != len(chunk):
                    f.seek(o)
                    f.write(chunk)
            f.truncate(length)


class Image(Buffer):
    """A qcow2 image under construction (see the module docstring).

    Constructor: cluster_bits, version (the header's layout: 2 or 3),
    refcount_order, size (virtual), extl2 (extended L2 entries; sets
    incompatible bit 4), reftable_clusters, incompat/compat/autoclear
    (feature bits; a data_file name adds incompatible bit 2 — set
    `incompat` afterwards for a name without the bit), backing and
    backing_fmt (names, str or bytes; None: none), data_file (the
    external data file's name: its clusters are not counted),
    l1_size (default: what size needs), l1_clusters (clusters allocated
    for the L1 table; default: what l1_size needs, none for 0),
    header_length (default 72 for version 2, 112 for 3), extensions_offset
    (where the extension area starts; default header_length),
    feature_table (False: none; True: feature_names then QEMU's table;
    bytes: that data), compression_type, crypt_method, ext_order.

    Attributes a caller may set before finalize(): feature_names,
    extensions ([(type, data)]: extra extensions), crypto_ext (data of a
    full disk encryption header pointer), bitmaps_ext (the bitmaps
    extension's data instead of the one describing the directory),
    raw_extensions (bytes written as the whole extension area, no end
    marker), bitmaps_autoclear (False: leave the autoclear bit alone),
    header_overrides ({field: value}: what the header says, whatever the
    layout is), extra_counts, auto_copied.
    """

    def __init__(self, cluster_bits=16, version=3, refcount_order=4,
                 size=64 << 20, extl2=False, reftable_clusters=1,
                 incompat=0, compat=0, autoclear=0, backing=None,
                 backing_fmt=None, data_file=None, l1_size=None,
                 l1_clusters=None, header_length=None,
                 extensions_offset=None, feature_table=False,
                 compression_type=0, crypt_method=0, ext_order=None):
        super().__init__()
        self.cb = cluster_bits
        self.cs = 1 << cluster_bits
        self.version = version
        self.order = refcount_order
        self.size = size
        self.extl2 = extl2
        self.l2_entry_size = qf.EXTL2_ENTRY_SIZE if extl2 else qf.L2_ENTRY_SIZE
        self.l2_size = self.cs // self.l2_entry_size
        self.incompat = incompat | (qf.INCOMPAT_EXTL2 if extl2 else 0)
        if data_file is not None:
            self.incompat |= qf.INCOMPAT_DATA_FILE
        self.compat = compat
        self.autoclear = autoclear
        self.backing = backing
        self.backing_fmt = backing_fmt
        self.data_file = data_file
        self.feature_table = feature_table
        self.feature_names = []   # (type, bit, name) before QEMU's table
        self.compression_type = compression_type
        self.crypt_method = crypt_method
        if header_length is None:
            header_length = (qf.V2_HEADER_LENGTH if version == 2
                             else qf.QEMU_V3_HEADER_LENGTH)
        self.header_length = header_length
        self.extensions_offset = (header_length if extensions_offset is None
                                  else extensions_offset)
        self.ext_order = QEMU_EXT_ORDER if ext_order is None else ext_order
        self.extensions = []      # extra (type, data) extensions
        self.crypto_ext = None
        self.bitmaps_ext = None
        self.raw_extensions = None
        self.bitmaps_autoclear = True
        self.header_overrides = {}
        self.refs = []            # (offset, length) that count as references
        self.nclusters = 0
        # cluster 0: the header
        self.alloc(1)
        self.refs.append((0, self.cs))
        # the refcount table and the first refcount block
        self.reftable_clusters = reftable_clusters
        self.reftable_off = self.alloc(reftable_clusters)
        self.refs.append((self.reftable_off, reftable_clusters * self.cs))
        self.refblocks = [self.alloc(1)]
        self.refs.append((self.refblocks[0], self.cs))
        # the active L1 table
        per_l1 = self.cs * self.l2_size
        self.l1_size = cdiv(size, per_l1) if l1_size is None else l1_size
        self.l1 = [0] * self.l1_size
        nbytes = self.l1_size * qf.L1_ENTRY_SIZE
        if l1_clusters is None:
            l1_clusters = cdiv(nbytes, self.cs)
        if l1_clusters:
            self.l1_off = self.alloc(l1_clusters)
            self.refs.append((self.l1_off, nbytes))
        else:
            self.l1_off = 0
        self.l2 = {}              # L2 offset -> [[entry, subcluster bitmap]]
        self.snapshots = []       # entries of the snapshot table
        self.snap_off = 0
        self.snap_size = 0
        self.snap_placed = False
        self.bitmaps = None
        self.bm_dir_off = None
        self.bm_dir_size = 0
        self.extra_counts = {}    # cluster index -> forced refcount (None: 0)
        self.auto_copied = True
        self.frozen = set()       # L2 tables shared with a snapshot

    # ---- header ---------------------------------------------------------
    def set_header_field(self, name, v):
        """Overwrite one header field in the buffer (after finalize)."""
        qf.set_field_into(self.buf, name, v)

    def get_header_field(self, name):
        return qf.get_field(self.buf, name)

    def alloc(self, n=1):
        """n more clusters at the end of the file; their offset."""
        off = self.nclusters * self.cs
        self.nclusters += n
        self.ensure(self.nclusters * self.cs)
        return off

    # ---- guest mapping --------------------------------------------------
    def new_l2(self, l1_index, ref=True):
        """A new, empty L2 table for L1 entry l1_index."""
        off = self.alloc(1)
        self.l2[off] = [[0, 0] for _ in range(self.l2_size)]
        self.l1[l1_index] = off
        if ref:
            self.refs.append((off, self.cs))
        return off

    def l2_for(self, guest_cluster, create=True):
        """(L2 table offset, index in it) of a guest cluster; the table
        is made if there is none (unless not create: None)."""
        l1i, l2i = divmod(guest_cluster, self.l2_size)
        off = self.l1[l1i] & OFF_MASK
        if not off:
            if not create:
                return None, l2i
            off = self.new_l2(l1i)
        return off, l2i

    def _unref(self, off, size):
        try:
            self.refs.remove((off, size))
        except ValueError:
            pass

    def _entry_ref(self, ent):
        """The reference an L2 entry makes: (offset, length) or None."""
        if ent & COMPRESSED:
            co, nb = qf.compressed_extent(self.cb, ent)
            sector = qf.COMPRESSED_SECTOR_SIZE
            return (co, (co // sector + nb) * sector - co)
        off = ent & OFF_MASK
        if off and self.data_file is None:
            return (off, self.cs)
        return None

    def set_l2(self, guest_cluster, entry, bitmap=0, cow=True):
        """Set a guest cluster's L2 entry (and subcluster bitmap). cow: an
        L2 table shared with a snapshot is copied first, and the old
        entry's reference is dropped."""
        off, i = self.l2_for(guest_cluster)
        if cow and off in self.frozen:
            l1i = guest_cluster // self.l2_size
            new = self.alloc(1)
            self.l2[new] = [list(x) for x in self.l2[off]]
            self.refs.append((new, self.cs))
            self._unref(off, self.cs)
            self.l1[l1i] = new
            off = new
        old = self.l2[off][i][0]
        r = self._entry_ref(old)
        if cow and r:
            self._unref(*r)
        self.l2[off][i] = [entry, bitmap]

    def write_data(self, guest_cluster, fill=None, host=None, bitmap=None,
                   flags=0, ref=True):
        """Allocate (or reuse host) one data cluster for guest_cluster,
        filled with the byte fill (None: left as it is). bitmap: the
        subcluster bitmap (default: all allocated with extended L2)."""
        if host is None:
            host = self.alloc(1)
        if fill is not None:
            self.put(host, bytes([fill]) * self.cs)
        if ref:
            self.refs.append((host, self.cs))
        if bitmap is None:
            bitmap = 0xFFFFFFFF if self.extl2 else 0
        self.set_l2(guest_cluster, host | flags, bitmap)
        return host

    def compressed_entry(self, coffset, nb_sectors):
        return qf.pack_compressed(self.cb, coffset, nb_sectors)

    def write_compressed(self, guest_cluster, fill, coffset=None, ref=True):
        """Store one deflated cluster of the byte fill at byte offset
        coffset (a new cluster if None). Returns (coffset, length)."""
        co = zlib.compressobj(6, zlib.DEFLATED, -12)     # raw deflate, 4 KiB window
        data = co.compress(bytes([fill]) * self.cs) + co.flush()
        if coffset is None:
            coffset = self.alloc(1)
        self.put(coffset, data)
        sector = qf.COMPRESSED_SECTOR_SIZE
        end = coffset + len(data)
        nb = cdiv(end, sector) - coffset // sector
        if ref:
            # QEMU >= 6.1 counts [coffset, end of its last sector)
            self.refs.append((coffset, (coffset // sector + nb) * sector - coffset))
        self.set_l2(guest_cluster, self.compressed_entry(coffset, nb), 0)
        return coffset, len(data)

    # ---- snapshots ------------------------------------------------------
    def add_snapshot_entry(self, l1_off, l1_size, sid, name, extra=b"",
                           date_sec=PIN_DATE, date_nsec=0, vm_clock_nsec=0,
                           vm_state_size=0, table=None):
        """One more snapshot table entry, as given (no reference made).
        table: the L1 entries finalize() writes at l1_off (None: none)."""
        self.snapshots.append(dict(
            l1_off=l1_off, l1_size=l1_size, table=table, id=to_bytes(sid),
            name=to_bytes(name), extra=extra, date_sec=date_sec,
            date_nsec=date_nsec, vm_clock_nsec=vm_clock_nsec,
            vm_state_size=vm_state_size))

    def snapshot(self, name, sid=None, extra=None, vm_clock=0,
                 date=PIN_DATE, icount=None):
        """Take an internal snapshot of the current state: a copy of the
        active L1 (flags as they are), one more reference on every L2
        table and data cluster it reaches. Returns its L1 offset."""
        n = self.l1_size
        nbytes = n * qf.L1_ENTRY_SIZE
        off = self.alloc(max(1, cdiv(nbytes, self.cs))) if n else 0
        if n:
            self.refs.append((off, nbytes))
        table = list(self.l1)
        for e in table:
            l2off = e & OFF_MASK
            if not l2off:
                continue
            self.refs.append((l2off, self.cs))
            self.frozen.add(l2off)
            for ent, _ in self.l2[l2off]:
                r = self._entry_ref(ent)
                if r:
                    self.refs.append(r)
        if sid is None:
            sid = str(len(self.snapshots) + 1)
        if extra is None:
            extra = snapshot_extra(self.size, 0, icount)
        self.add_snapshot_entry(off, n, sid, name, extra, date_sec=date,
                                vm_clock_nsec=vm_clock, table=table)
        return off

    def snapshot_table_bytes(self):
        """The snapshot table: entries padded to 8 between them (the last
        one is not)."""
        out = bytearray()
        for sn in self.snapshots:
            out += qf.pad(len(out), qf.SNAPSHOT_ALIGN)
            out += qf.pack_snapshot_entry(
                sn["l1_off"], sn["l1_size"], sn["id"], sn["name"],
                extra=sn["extra"], date_sec=sn["date_sec"],
                date_nsec=sn["date_nsec"], vm_clock_nsec=sn["vm_clock_nsec"],
                vm_state_size=sn["vm_state_size"], padded=False)
        return bytes(out)

    def place_snapshot_table(self):
        """Allocate and write the snapshot table now (finalize() does it
        otherwise, after everything else)."""
        st = self.snapshot_table_bytes()
        self.snap_size = len(st)
        self.snap_off = self.alloc(max(1, cdiv(len(st), self.cs)))
        self.put(self.snap_off, st)
        self.refs.append((self.snap_off, len(st)))
        self.snap_placed = True
        return self.snap_off

    # ---- bitmaps --------------------------------------------------------
    def add_bitmap(self, name, granularity_bits=16, flags=qf.BME_FLAG_AUTO,
                   table=None, table_size=None, data_clusters=(),
                   table_offset=None, bitmap_type=qf.BITMAP_TYPE_DIRTY_TRACKING,
                   extra=b""):
        """A persistent dirty bitmap: a directory entry and its table (and
        data clusters: (table index, fill byte)). table_size: default
        what the virtual size needs; table: its entries (default: zeros
        but for data_clusters). table_offset: the table is there, nothing
        is allocated or written. Returns the table's offset."""
        if self.bitmaps is None:
            self.bitmaps = []
        if table_size is None:
            bits = cdiv(self.size, 1 << granularity_bits)
            table_size = max(1, cdiv(cdiv(bits, 8), self.cs))
        if table_offset is None:
            toff = self.alloc(max(1, cdiv(table_size * 8, self.cs)))
            self.refs.append((toff, table_size * 8))
            if table is None:
                table = [0] * table_size
                for i, fill in data_clusters:
                    d = self.alloc(1)
                    self.put(d, bytes([fill]) * self.cs)
                    self.refs.append((d, self.cs))
                    table[i] = d
            for i, e in enumerate(table):
                self.put64(toff + 8 * i, e)
        else:
            toff = table_offset
        self.bitmaps.append(dict(name=to_bytes(name), gb=granularity_bits,
                                 flags=flags, toff=toff, tsize=table_size,
                                 type=bitmap_type, extra=extra))
        return toff

    def bitmap_directory_bytes(self):
        return b"".join(qf.pack_bitmap_dir_entry(
            b["toff"], b["tsize"], b["name"], flags=b["flags"],
            bitmap_type=b["type"], granularity_bits=b["gb"], extra=b["extra"])
            for b in self.bitmaps)

    def place_bitmap_directory(self):
        """Allocate and write the bitmap directory now (finalize() does it
        otherwise); the bitmaps extension will describe it, and the
        autoclear bit is set unless bitmaps_autoclear is False."""
        bd = self.bitmap_directory_bytes()
        self.bm_dir_size = len(bd)
        self.bm_dir_off = self.alloc(max(1, cdiv(len(bd), self.cs)))
        self.put(self.bm_dir_off, bd)
        self.refs.append((self.bm_dir_off, len(bd)))
        if self.bitmaps_autoclear:
            self.autoclear |= qf.AUTOCLEAR_BITMAPS
        return self.bm_dir_off

    # ---- finalize -------------------------------------------------------
    def counts(self):
        """References per cluster index."""
        c = {}
        for off, size in self.refs:
            if size <= 0:
                continue
            first = off >> self.cb
            last = (off + size - 1) >> self.cb
            for k in range(first, last + 1):
                c[k] = c.get(k, 0) + 1
        return c

    def finalize(self):
        if self.snapshots and not self.snap_placed:
            self.place_snapshot_table()
        if self.bitmaps and self.bm_dir_off is None:
            self.place_bitmap_directory()
        # enough refcount blocks for every cluster (the new ones included)
        per_block = (self.cs * 8) >> self.order
        while True:
            need = cdiv(self.nclusters, per_block)
            if need <= len(self.refblocks):
                break
            rb = self.alloc(1)
            self.refblocks.append(rb)
            self.refs.append((rb, self.cs))
        assert len(self.refblocks) <= \
            self.reftable_clusters * self.cs // qf.REFTABLE_ENTRY_SIZE
        counts = self.counts()
        for k, v in self.extra_counts.items():
            if v is None:
                counts.pop(k, None)
            else:
                counts[k] = v
        self.final_counts = counts
        if self.auto_copied:
            self._set_copied(counts)
        # the tables
        esz = self.l2_entry_size
        for l2off, ents in self.l2.items():
            if esz == qf.EXTL2_ENTRY_SIZE:
                flat = [v & U64 for e, bm in ents for v in (e, bm)]
            else:
                flat = [e & U64 for e, _ in ents]
            self.put(l2off, struct.pack(">%dQ" % len(flat), *flat))
        if self.l1:
            self.put(self.l1_off, self._pack_l1(self.l1))
        for sn in self.snapshots:
            if sn["table"]:
                self.put(sn["l1_off"], self._pack_l1(sn["table"]))
        for i, rb in enumerate(self.refblocks):
            self.put64(self.reftable_off + qf.REFTABLE_ENTRY_SIZE * i, rb)
        for k, v in counts.items():
            self.set_refcount(k, v)
        self.write_header()

    @staticmethod
    def _pack_l1(entries):
        return struct.pack(">%dQ" % len(entries), *(e & U64 for e in entries))

    def _set_copied(self, counts):
        """OFLAG_COPIED on the active L1/L2 entries: set where the target's
        refcount is 1 (always for clusters in an external data file),
        cleared elsewhere; compressed entries keep it clear."""
        for i, e in enumerate(self.l1):
            off = e & OFF_MASK
            if not off:
                continue
            if counts.get(off >> self.cb, 0) == 1:
                self.l1[i] = e | COPIED
            else:
                self.l1[i] = e & ~COPIED
        active = {e & OFF_MASK for e in self.l1 if e & OFF_MASK}
        for l2off in active:
            for ent in self.l2[l2off]:
                e = ent[0]
                if e & COMPRESSED:
                    continue
                off = e & OFF_MASK
                if not off:
                    continue
                if self.data_file is not None or counts.get(off >> self.cb, 0) == 1:
                    ent[0] = e | COPIED
                else:
                    ent[0] = e & ~COPIED

    def refcount_pos(self, k):
        """(refcount block offset, index in it) of cluster k, as the
        refcount table in the buffer says."""
        per_block = (self.cs * 8) >> self.order
        bi, idx = divmod(k, per_block)
        rb = self.get64(self.reftable_off + qf.REFTABLE_ENTRY_SIZE * bi) \
            & qf.REFT_OFFSET_MASK
        return rb, idx

    def set_refcount(self, k, v):
        """Write cluster k's refcount (clamped to what the width holds)."""
        rb, idx = self.refcount_pos(k)
        assert rb, "no refcount block for cluster %d" % k
        bits = 1 << self.order
        if bits < 64:
            v = min(v, (1 << bits) - 1)
        if bits >= 8:
            nb = bits // 8
            self.put(rb + idx * nb, v.to_bytes(nb, "big"))
        else:
            per = 8 // bits
            bo = rb + idx // per
            sh = (idx % per) * bits
            mask = ((1 << bits) - 1) << sh
            self.ensure(bo + 1)
            self.buf[bo] = (self.buf[bo] & ~mask) | (v << sh)

    # ---- header and extensions -------------------------------------------
    def extension_chain(self):
        """[(type, data)]: the header extensions, in ext_order."""
        kinds = {k: [] for k in QEMU_EXT_ORDER}
        if self.backing_fmt is not None:
            kinds["backing_format"].append(
                (qf.EXT_BACKING_FORMAT, to_bytes(self.backing_fmt)))
        if self.data_file is not None:
            kinds["data_file"].append((qf.EXT_DATA_FILE, to_bytes(self.data_file)))
        if self.crypto_ext is not None:
            kinds["crypto"].append((qf.EXT_CRYPTO, self.crypto_ext))
        if self.feature_table is True:
            kinds["feature_table"].append((qf.EXT_FEATURE_TABLE, feature_table_data(
                list(self.feature_names) + list(QEMU_FEATURE_NAMES))))
        elif self.feature_table:
            kinds["feature_table"].append((qf.EXT_FEATURE_TABLE, self.feature_table))
        if self.bitmaps_ext is not None:
            kinds["bitmaps"].append((qf.EXT_BITMAPS, self.bitmaps_ext))
        elif self.bm_dir_off is not None:
            kinds["bitmaps"].append((qf.EXT_BITMAPS, qf.pack_bitmaps_ext(
                len(self.bitmaps), self.bm_dir_size, self.bm_dir_off)))
        kinds["extra"] = [(t, to_bytes(d)) for t, d in self.extensions]
        return [e for k in self.ext_order for e in kinds[k]]

    def header_fields(self):
        """The header fields the layout has: version 2's 72 bytes; version
        3's 104 and the additional fields header_length covers."""
        if self.version < 3:
            return [f for f in qf.HEADER_FIELDS if f.end <= qf.V2_HEADER_LENGTH]
        return [f for f in qf.HEADER_FIELDS if f.end <= qf.V3_HEADER_LENGTH
                or qf.field_present(self.header_length, f.name)]

    def write_header(self):
        """The header, the extension area at extensions_offset, and the
        backing file name right after it; header_overrides last."""
        if self.raw_extensions is not None:
            area = self.raw_extensions
        else:
            area = b"".join(qf.pack_extension(t, d)
                            for t, d in self.extension_chain())
            area += qf.END_OF_EXTENSIONS
        self.put(self.extensions_offset, area)
        backing_off = backing_len = 0
        if self.backing is not None:
            name = to_bytes(self.backing)
            backing_off = self.extensions_offset + len(area)
            backing_len = len(name)
            self.put(backing_off, name)
        values = dict(
            magic=qf.MAGIC, version=self.version,
            backing_file_offset=backing_off, backing_file_size=backing_len,
            cluster_bits=self.cb, size=self.size,
            crypt_method=self.crypt_method, l1_size=self.l1_size,
            l1_table_offset=self.l1_off,
            refcount_table_offset=self.reftable_off,
            refcount_table_clusters=self.reftable_clusters,
            nb_snapshots=len(self.snapshots), snapshots_offset=self.snap_off,
            incompatible_features=self.incompat,
            compatible_features=self.compat,
            autoclear_features=self.autoclear,
            refcount_order=self.order, header_length=self.header_length,
            compression_type=self.compression_type)
        values.update(self.header_overrides)
        for f in self.header_fields():
            qf.set_field_into(self.buf, f, values[f.name])

    # ---- locators (after finalize) -----------------------------------------
    def l1_entry_off(self, i):
        return self.l1_off + qf.L1_ENTRY_SIZE * i

    def l2_entry_off(self, guest_cluster):
        l1i, l2i = divmod(guest_cluster, self.l2_size)
        return (self.l1[l1i] & OFF_MASK) + l2i * self.l2_entry_size

    def l2_bitmap_off(self, guest_cluster):
        """Where an extended L2 entry's subcluster bitmap is."""
        return self.l2_entry_off(guest_cluster) + qf.L2_ENTRY_SIZE

    def reftable_entry_off(self, i):
        return self.reftable_off + qf.REFTABLE_ENTRY_SIZE * i

    def snapshot_entry_off(self, i):
        """Where snapshot table entry i starts."""
        off = self.snap_off
        for sn in self.snapshots[:i]:
            n = (qf.SNAPSHOT_HEADER_SIZE + len(sn["extra"]) + len(sn["id"]) +
                 len(sn["name"]))
            off += n + len(qf.pad(n, qf.SNAPSHOT_ALIGN))
        return off

    def snapshot_field_off(self, name, i=0):
        """Where field name (qcow2_fixture.SNAPSHOT_FIELDS) of snapshot
        table entry i is."""
        return self.snapshot_entry_off(i) + qf.SNAPSHOT_FIELD[name].offset

    def bitmap_field_off(self, name, i=0):
        """Where field name (qcow2_fixture.BITMAP_DIR_FIELDS) of bitmap
        directory entry i is."""
        off = self.bm_dir_off
        for b in self.bitmaps[:i]:
            n = qf.BITMAP_DIR_HEADER_SIZE + len(b["extra"]) + len(b["name"])
            off += n + len(qf.pad(n, qf.BITMAP_DIR_ALIGN))
        return off + qf.BITMAP_DIR_FIELD[name].offset

    def ext_offset(self, etype):
        """Where the first extension of type etype starts (after finalize)."""
        for e in qf.walk_extensions(self.buf, self.extensions_offset,
                                    self.cs).exts:
            if e.type == etype:
                return e.offset
        raise KeyError("no extension %#x" % etype)

    def bitmaps_ext_field_off(self, name):
        """Where field name (qcow2_fixture.BITMAPS_EXT_FIELDS) of the
        bitmaps extension's data is."""
        return (self.ext_offset(qf.EXT_BITMAPS) + qf.EXT_HEADER_SIZE +
                qf.BITMAPS_EXT_FIELD[name].offset)


# ---- The corpora's index files (format: README.md) ---------------------------
def index_field(v):
    """A value (str or bytes) as one field of an index line: a backslash
    as two, every byte outside printable ASCII (tab, newline, UTF-8, ...)
    as \\xHH, so that bash's `printf -v v %b "$field"` gives the bytes
    back; "-" for an empty value."""
    out = []
    for c in to_bytes(v):
        if c == 0x5c:
            out.append("\\\\")
        elif 0x20 <= c < 0x7f:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return "".join(out) or "-"


def write_index(path, rows):
    """One line per row, its fields (already index_field()s or plain
    text without tabs and newlines) separated by tabs."""
    with open(path, "w") as f:
        for row in rows:
            for x in row:
                assert x and "\t" not in x and "\n" not in x, row
            f.write("\t".join(row) + "\n")


# ---- Digests ----------------------------------------------------------------
def sparse_digest(path):
    """sha256 of a file's length and of every non-zero 4 KiB block with its
    offset, the blocks found through SEEK_DATA/SEEK_HOLE: equal for equal
    contents however the holes lie, and cheap on huge sparse files."""
    blocks = {}
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        off = 0
        while off < size:
            try:
                off = os.lseek(fd, off, os.SEEK_DATA)
            except OSError:         # ENXIO: no data after off
                break
            # whole blocks, whatever granularity the holes have
            end = os.lseek(fd, off, os.SEEK_HOLE)
            end = min(size, cdiv(end, SAVE_BLOCK) * SAVE_BLOCK)
            off -= off % SAVE_BLOCK
            while off < end:
                chunk = os.pread(fd, min(end - off, 1 << 20), off)
                if not chunk:
                    break
                for i in range(0, len(chunk), SAVE_BLOCK):
                    block = chunk[i:i + SAVE_BLOCK]
                    if block.count(0) != len(block):
                        blocks[off + i] = hashlib.sha256(block).digest()
                off += len(chunk)
    finally:
        os.close(fd)
    h = hashlib.sha256(b"size %d\n" % size)
    for o in sorted(blocks):
        h.update(b"@%d:" % o + blocks[o])
    return h.hexdigest()


def digest_tree(top, skip=()):
    """'digest  name' lines for every regular file under top (names
    relative to top, hex-encoded: they hold any byte), sorted; files in
    skip (relative names) are left out. Unreadable files (mode 000) are
    made readable for the moment of reading."""
    out = []
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for n in sorted(files):
            p = os.path.join(root, n)
            rel = os.path.relpath(p, top)
            if rel in skip or not os.path.isfile(p) or os.path.islink(p):
                continue
            mode = os.stat(p).st_mode & 0o7777
            if not os.access(p, os.R_OK):
                os.chmod(p, mode | 0o400)
            try:
                out.append("%s  %s" % (sparse_digest(p), os.fsencode(rel).hex()))
            finally:
                os.chmod(p, mode)
    return sorted(out, key=lambda s: s.split("  ")[1])


def main(argv):
    if len(argv) != 3 or argv[1] != "--digest":
        sys.exit("usage: qcow2_build.py --digest DIR")
    for line in digest_tree(argv[2], skip=("images.txt", "runs.txt")):
        print(line)


if __name__ == "__main__":
    main(sys.argv)
