"""qcow2_fixture.py — the qcow2 on-disk layout, once, for the test tools.

Test-only. tests/tools/qcow2_hdr.py (dump and poke a header),
tests/hostile/make_hostile.py (malformed images), fuzz/gen_seeds.py
(fuzz seeds) and tests/inspect/qcow2_build.py (whole images for the
info/check corpora) all take qcow2 images apart or build them; they take
the layout from here rather than each restating it. The facts are those
of QEMU's docs/interop/qcow2.txt, and so are the names: header fields,
feature bits, header extensions (type, length, data padded to 8),
the feature name table, L1/L2 entries (standard, extended, compressed
descriptors), refcount table entries, snapshot table entries, bitmap
directory entries. Every qcow2 number is big-endian.

Strict where a tool could otherwise lie to itself: get/put of a field
past the end of the buffer, or of a value that does not fit the field,
raise Qcow2Error instead of reading short or truncating. Nothing here
claims an image is valid: hostile images are built with it too.

Trust: test code; reads whatever file it is given.
"""
import collections

MAGIC = 0x514649fb                  # "QFI\xfb"


class Qcow2Error(Exception):
    """A read or write outside the buffer, or a value that does not fit."""


class Field(collections.namedtuple("Field", "name offset size")):
    """A big-endian field: name, byte offset, size in bytes."""

    @property
    def end(self):
        return self.offset + self.size


def _fields(*spec):
    fields = tuple(Field(*f) for f in spec)
    return fields, {f.name: f for f in fields}


# ---- The header ----
HEADER_FIELDS, FIELDS = _fields(
    ("magic", 0, 4),
    ("version", 4, 4),
    ("backing_file_offset", 8, 8),
    ("backing_file_size", 16, 4),
    ("cluster_bits", 20, 4),
    ("size", 24, 8),
    ("crypt_method", 32, 4),
    ("l1_size", 36, 4),
    ("l1_table_offset", 40, 8),
    ("refcount_table_offset", 48, 8),
    ("refcount_table_clusters", 56, 4),
    ("nb_snapshots", 60, 4),
    ("snapshots_offset", 64, 8),
    # Version 3 and later:
    ("incompatible_features", 72, 8),
    ("compatible_features", 80, 8),
    ("autoclear_features", 88, 8),
    ("refcount_order", 96, 4),
    ("header_length", 100, 4),
    # Additional fields (present when header_length > their offset):
    ("compression_type", 104, 1),
)
V2_HEADER_LENGTH = 72               # version 2: exactly this long
V3_HEADER_LENGTH = 104              # version 3: at least through header_length
# What QEMU writes for version 3: through compression_type, padded to 8.
QEMU_V3_HEADER_LENGTH = 112
HEADER_LENGTH_ALIGN = 8

MIN_CLUSTER_BITS = 9                # 512 B
MAX_CLUSTER_BITS = 21               # QEMU's implementation limit, 2 MiB

CRYPT_NONE, CRYPT_AES, CRYPT_LUKS = 0, 1, 2
COMPRESSION_ZLIB, COMPRESSION_ZSTD = 0, 1

# Feature bits.
INCOMPAT_DIRTY = 1 << 0
INCOMPAT_CORRUPT = 1 << 1
INCOMPAT_DATA_FILE = 1 << 2
INCOMPAT_COMPRESSION = 1 << 3
INCOMPAT_EXTL2 = 1 << 4
COMPAT_LAZY_REFCOUNTS = 1 << 0
AUTOCLEAR_BITMAPS = 1 << 0
AUTOCLEAR_DATA_FILE_RAW = 1 << 1

# ---- Header extensions: type, length, data, zero padding to 8 ----
EXT_FIELDS, EXT_FIELD = _fields(("type", 0, 4), ("length", 4, 4))
EXT_HEADER_SIZE = 8
EXT_ALIGN = 8
EXT_END = 0x00000000
EXT_BACKING_FORMAT = 0xe2792aca
EXT_FEATURE_TABLE = 0x6803f857
EXT_BITMAPS = 0x23852875
EXT_CRYPTO = 0x0537be77
EXT_DATA_FILE = 0x44415441
EXT_NAMES = {
    EXT_BACKING_FORMAT: "backing-format",
    EXT_FEATURE_TABLE: "feature-table",
    EXT_CRYPTO: "crypto",
    EXT_BITMAPS: "bitmaps",
    EXT_DATA_FILE: "data-file",
}

# Feature name table entries: type, bit, name (zero-padded).
FEATURE_TYPE_INCOMPAT, FEATURE_TYPE_COMPAT, FEATURE_TYPE_AUTOCLEAR = 0, 1, 2
FEATURE_ENTRY_FIELDS, FEATURE_ENTRY_FIELD = _fields(
    ("type", 0, 1), ("bit", 1, 1), ("name", 2, 46))
FEATURE_ENTRY_SIZE = 48

# Bitmaps extension data; full disk encryption header pointer data.
BITMAPS_EXT_FIELDS, BITMAPS_EXT_FIELD = _fields(
    ("nb_bitmaps", 0, 4), ("reserved", 4, 4),
    ("bitmap_directory_size", 8, 8), ("bitmap_directory_offset", 16, 8))
CRYPTO_EXT_FIELDS, CRYPTO_EXT_FIELD = _fields(("offset", 0, 8), ("length", 8, 8))

# ---- L1 and L2 tables (standard entries) ----
L1_ENTRY_SIZE = 8
L2_ENTRY_SIZE = 8
L1E_OFFSET_MASK = 0x00fffffffffffe00
L2E_OFFSET_MASK = 0x00fffffffffffe00
OFLAG_COPIED = 1 << 63              # refcount exactly one
OFLAG_COMPRESSED = 1 << 62          # L2: compressed cluster descriptor
OFLAG_ZERO = 1 << 0                 # L2 (v3): the cluster reads as zeroes
# Extended L2 (incompatible bit 4): each entry is the standard 8 bytes and
# then a 64-bit subcluster bitmap (bits 0-31 allocated, 32-63 reads as zero).
EXTL2_ENTRY_SIZE = 16
# Compressed cluster descriptor (an L2 entry with OFLAG_COMPRESSED): with
# x = 62 - (cluster_bits - 8), bits 0..x-1 hold the host byte offset and
# bits x..61 the number of 512-byte sectors it spans, less one.
COMPRESSED_SECTOR_SIZE = 512

# ---- Refcount table entries ----
REFTABLE_ENTRY_SIZE = 8
REFT_OFFSET_MASK = 0xfffffffffffffe00   # the refcount block's offset

# ---- Snapshot table entries ----
SNAPSHOT_FIELDS, SNAPSHOT_FIELD = _fields(
    ("l1_table_offset", 0, 8),
    ("l1_size", 8, 4),
    ("id_str_size", 12, 2),
    ("name_size", 14, 2),
    ("date_sec", 16, 4),
    ("date_nsec", 20, 4),
    ("vm_clock_nsec", 24, 8),
    ("vm_state_size", 32, 4),
    ("extra_data_size", 36, 4),
)
SNAPSHOT_HEADER_SIZE = 40           # then extra data, id, name, padding to 8
SNAPSHOT_ALIGN = 8
# Extra data, offsets relative to its start (entry byte 40).
SNAPSHOT_EXTRA_FIELDS, SNAPSHOT_EXTRA_FIELD = _fields(
    ("vm_state_size_large", 0, 8),
    ("disk_size", 8, 8),
    ("icount", 16, 8),
)
ICOUNT_NONE = (1 << 64) - 1

# ---- Bitmap directory entries ----
# The fixed part, then extra data, the name, zero padding to 8.
BITMAP_DIR_FIELDS, BITMAP_DIR_FIELD = _fields(
    ("bitmap_table_offset", 0, 8),
    ("bitmap_table_size", 8, 4),
    ("flags", 12, 4),
    ("type", 16, 1),
    ("granularity_bits", 17, 1),
    ("name_size", 18, 2),
    ("extra_data_size", 20, 4),
)
BITMAP_DIR_HEADER_SIZE = 24
BITMAP_DIR_ALIGN = 8
BITMAP_TYPE_DIRTY_TRACKING = 1
BME_FLAG_IN_USE = 1 << 0
BME_FLAG_AUTO = 1 << 1


# ---- Big-endian numbers ----
def be(n, v):
    """v as n big-endian bytes; it must fit."""
    if not isinstance(v, int) or not 0 <= v < 1 << (8 * n):
        raise Qcow2Error("%r does not fit %d bytes" % (v, n))
    return v.to_bytes(n, "big")


def _span(buf, off, n):
    if off < 0 or off + n > len(buf):
        raise Qcow2Error("bytes %d..%d outside a buffer of %d" % (off, off + n, len(buf)))


def get(buf, off, n):
    """The n-byte big-endian number at off."""
    _span(buf, off, n)
    return int.from_bytes(buf[off:off + n], "big")


def put_into(buf, off, n, v):
    """Write v as n big-endian bytes at off into the bytearray buf."""
    _span(buf, off, n)
    buf[off:off + n] = be(n, v)


def put(buf, off, n, v):
    """A copy of buf (bytes) with v as n big-endian bytes at off."""
    b = bytearray(buf)
    put_into(b, off, n, v)
    return bytes(b)


def _field(name, table=None):
    table = FIELDS if table is None else table
    if isinstance(name, Field):
        return name
    try:
        return table[name]
    except KeyError:
        raise Qcow2Error("no field %r" % name) from None


def field(name):
    """The header Field called name (spec names: docs/interop/qcow2.txt)."""
    return _field(name)


def get_field(buf, name, table=None, base=0):
    f = _field(name, table)
    return get(buf, base + f.offset, f.size)


def pack_field(name, v, table=None):
    """v as the bytes of the field."""
    return be(_field(name, table).size, v)


def set_field(buf, name, v, table=None, base=0):
    """A copy of buf with the field set to v."""
    f = _field(name, table)
    return put(buf, base + f.offset, f.size, v)


def set_field_into(buf, name, v, table=None, base=0):
    f = _field(name, table)
    put_into(buf, base + f.offset, f.size, v)


def pack_fields(table_fields, values):
    """Every field of a table (e.g. SNAPSHOT_FIELDS), all named in values,
    as the bytes they span."""
    names = [f.name for f in table_fields]
    if set(values) != set(names):
        raise Qcow2Error("fields %s wanted, %s given" % (names, sorted(values)))
    out = bytearray(max(f.end for f in table_fields))
    for f in table_fields:
        put_into(out, f.offset, f.size, values[f.name])
    return bytes(out)


def pad(n, align=8):
    """The zero bytes that round a length n up to align."""
    return bytes(-n % align)


# ---- Header fields derived ----
def version(buf):
    return get_field(buf, "version")


def cluster_bits(buf):
    return get_field(buf, "cluster_bits")


def cluster_size(buf):
    return 1 << cluster_bits(buf)


def header_length(buf):
    """Where the extensions start: header_length for version 3 and later,
    72 for anything older."""
    if version(buf) >= 3:
        return get_field(buf, "header_length")
    return V2_HEADER_LENGTH


def field_present(hl, name):
    """Whether an additional header field is there (header_length past
    its offset)."""
    return hl > field(name).offset


def backing(buf):
    """(backing_file_offset, backing_file_size)."""
    return get_field(buf, "backing_file_offset"), get_field(buf, "backing_file_size")


def backing_name(buf):
    """The backing file name bytes (as far as buf holds them), b"" if none."""
    bo, bs = backing(buf)
    return buf[bo:bo + bs] if bo else b""


def read_header_cluster(path, check_bits=True):
    """(the first cluster of the file, cluster_bits): as many bytes as the
    file has of the cluster its header's cluster_bits names. check_bits:
    refuse cluster_bits outside QEMU's 9..21."""
    with open(path, "rb") as f:
        head = f.read(field("cluster_bits").end)
        cb = cluster_bits(head)
        if check_bits and not MIN_CLUSTER_BITS <= cb <= MAX_CLUSTER_BITS:
            raise Qcow2Error("cluster_bits %d out of range" % cb)
        f.seek(0)
        return f.read(1 << cb), cb


# ---- Header extensions ----
class Extension(collections.namedtuple("Extension", "offset type length data")):
    """One extension of a chain. data is what the buffer holds of its
    length bytes (short if the buffer ends first)."""

    @property
    def next(self):
        """Where the following extension starts."""
        return self.offset + EXT_HEADER_SIZE + self.length + (-self.length % EXT_ALIGN)


class ExtChain(collections.namedtuple("ExtChain", "exts end stop")):
    """exts: the extensions in order (the end marker last, if found);
    end: the offset just past the end marker, None if there was none;
    stop: where the walk stopped (end, or the first offset whose
    extension header no longer fits)."""


def walk_extensions(buf, start, limit=None):
    """Walk the extension chain from start while an extension header fits
    before limit (default: the end of buf)."""
    limit = len(buf) if limit is None else limit
    exts = []
    off = start
    while off + EXT_HEADER_SIZE <= limit:
        t = get(buf, off + EXT_FIELD["type"].offset, EXT_FIELD["type"].size)
        ln = get(buf, off + EXT_FIELD["length"].offset, EXT_FIELD["length"].size)
        if t == EXT_END:
            exts.append(Extension(off, t, ln, b""))
            return ExtChain(exts, off + EXT_HEADER_SIZE, off + EXT_HEADER_SIZE)
        data = buf[off + EXT_HEADER_SIZE:off + EXT_HEADER_SIZE + ln]
        exts.append(Extension(off, t, ln, data))
        off = exts[-1].next
    return ExtChain(exts, None, off)


def pack_extension(etype, data):
    """One extension: type, length, data, zero padding to 8."""
    return be(4, etype) + be(4, len(data)) + data + pad(len(data), EXT_ALIGN)


END_OF_EXTENSIONS = pack_extension(EXT_END, b"")


def feature_table(data, length=None):
    """The entries of a feature name table's data: (type, bit, name), one
    per 48 bytes of its length (default: len(data); an extension's data
    can be shorter than its length field says, cut by the buffer's end).
    An entry cut before its name raises; a name cut short is kept."""
    out = []
    length = len(data) if length is None else length
    for i in range(0, length, FEATURE_ENTRY_SIZE):
        e = data[i:i + FEATURE_ENTRY_SIZE]
        if len(e) < FEATURE_ENTRY_FIELD["name"].offset:
            raise Qcow2Error("feature table entry at +%d cut short (%d bytes)"
                             % (i, len(e)))
        out.append((e[FEATURE_ENTRY_FIELD["type"].offset],
                    e[FEATURE_ENTRY_FIELD["bit"].offset],
                    e[FEATURE_ENTRY_FIELD["name"].offset:].rstrip(b"\0")))
    return out


def pack_feature(ftype, bit, name):
    """One feature name table entry."""
    room = FEATURE_ENTRY_FIELD["name"].size
    if len(name) > room:
        raise Qcow2Error("feature name %r longer than %d" % (name, room))
    return bytes([ftype, bit]) + name + bytes(room - len(name))


def pack_bitmaps_ext(nb_bitmaps, bitmap_directory_size, bitmap_directory_offset):
    """The data of a bitmaps extension."""
    return pack_fields(BITMAPS_EXT_FIELDS, {
        "nb_bitmaps": nb_bitmaps, "reserved": 0,
        "bitmap_directory_size": bitmap_directory_size,
        "bitmap_directory_offset": bitmap_directory_offset})


def pack_crypto_ext(offset, length):
    """The data of a full disk encryption header pointer."""
    return pack_fields(CRYPTO_EXT_FIELDS, {"offset": offset, "length": length})


# ---- Snapshot table ----
def pack_snapshot_header(**values):
    """The 40-byte fixed part of a snapshot table entry, every field of
    SNAPSHOT_FIELDS named (sizes as given, whatever follows)."""
    return pack_fields(SNAPSHOT_FIELDS, values)


def pack_snapshot_extra(vm_state_size_large=0, disk_size=0, icount=ICOUNT_NONE):
    """Snapshot extra data (slice it for a shorter one)."""
    return pack_fields(SNAPSHOT_EXTRA_FIELDS, {
        "vm_state_size_large": vm_state_size_large, "disk_size": disk_size,
        "icount": icount})


def pack_snapshot_entry(l1_table_offset, l1_size, id_str, name, extra=b"",
                        date_sec=0, date_nsec=0, vm_clock_nsec=0,
                        vm_state_size=0, padded=True):
    """One snapshot table entry: the fixed part, extra data, id, name,
    and (padded) zeroes to a multiple of 8."""
    e = pack_snapshot_header(
        l1_table_offset=l1_table_offset, l1_size=l1_size,
        id_str_size=len(id_str), name_size=len(name), date_sec=date_sec,
        date_nsec=date_nsec, vm_clock_nsec=vm_clock_nsec,
        vm_state_size=vm_state_size, extra_data_size=len(extra))
    e += extra + id_str + name
    if padded:
        e += pad(len(e), SNAPSHOT_ALIGN)
    return e


# ---- Compressed cluster descriptors ----
def compressed_shift(cluster_bits):
    """x: where a compressed descriptor's sector count starts."""
    return 62 - (cluster_bits - 8)


def pack_compressed(cluster_bits, offset, nb_sectors):
    """The L2 entry of a compressed cluster at host byte offset spanning
    nb_sectors 512-byte sectors (1 .. 2^(cluster_bits-8)); OFLAG_COPIED
    is not part of it."""
    x = compressed_shift(cluster_bits)
    if not 1 <= nb_sectors <= 1 << (cluster_bits - 8):
        raise Qcow2Error("%d sectors do not fit a descriptor" % nb_sectors)
    if not 0 <= offset < 1 << x:
        raise Qcow2Error("offset %#x does not fit a descriptor" % offset)
    return OFLAG_COMPRESSED | ((nb_sectors - 1) << x) | offset


def compressed_extent(cluster_bits, entry):
    """(host byte offset, number of 512-byte sectors) of a compressed
    cluster descriptor."""
    x = compressed_shift(cluster_bits)
    return (entry & ((1 << x) - 1),
            ((entry >> x) & ((1 << (cluster_bits - 8)) - 1)) + 1)


# ---- Bitmap directory ----
def pack_bitmap_dir_entry(bitmap_table_offset, bitmap_table_size, name,
                          flags=0, bitmap_type=BITMAP_TYPE_DIRTY_TRACKING,
                          granularity_bits=16, extra=b"", padded=True):
    """One bitmap directory entry: the fixed part, extra data, the name,
    and (padded) zeroes to a multiple of 8."""
    e = pack_fields(BITMAP_DIR_FIELDS, {
        "bitmap_table_offset": bitmap_table_offset,
        "bitmap_table_size": bitmap_table_size, "flags": flags,
        "type": bitmap_type, "granularity_bits": granularity_bits,
        "name_size": len(name), "extra_data_size": len(extra)})
    e += extra + name
    if padded:
        e += pad(len(e), BITMAP_DIR_ALIGN)
    return e
