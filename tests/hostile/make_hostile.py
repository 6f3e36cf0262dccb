#!/usr/bin/env python3
"""make_hostile.py — derive malformed qcow2 images from real ones.

Usage: make_hostile.py BASEDIR OUTDIR

BASEDIR holds the real images make_hostile.sh built with qemu-img/qemu-io
(v2_64k.qcow2, v3_64k.qcow2, ...). Writes OUTDIR/NNNN_<reason>.img for
every derived image, and OUTDIR/MANIFEST (one line per image:
`name<TAB>category<TAB>transition`), where the transition is the
`instar amend -o` argument the test uses on it (rotated over the corpus
so that every transition meets every category).

Categories: field (every header field at and around its limits),
trunc (truncations at every header field boundary and around the
extensions), ext (extension chains: long, overlapping, unterminated,
oversized), table (L1/L2/refcount/snapshot tables past EOF, unaligned,
inside the header cluster, overflowing sizes, zero-flagged entries),
small (files of 0..4096 bytes), sparse (huge sparse files).

Trust: test code; the output is hostile on purpose.
"""
import os
import sys

# The qcow2 layout: tests/tools/qcow2_fixture.py (beside this directory in
# the source tree and in the runfiles alike; not symlink-resolved, so a
# missing data dependency shows).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tools"))
from qcow2_fixture import (  # noqa: E402
    AUTOCLEAR_BITMAPS, END_OF_EXTENSIONS, EXT_BACKING_FORMAT, EXT_BITMAPS,
    EXT_CRYPTO, EXT_DATA_FILE, EXT_FEATURE_TABLE, EXT_FIELD, FEATURE_TYPE_INCOMPAT,
    HEADER_FIELDS, L1_ENTRY_SIZE, L1E_OFFSET_MASK, L2_ENTRY_SIZE, L2E_OFFSET_MASK,
    MIN_CLUSTER_BITS, OFLAG_COMPRESSED, OFLAG_COPIED, OFLAG_ZERO,
    SNAPSHOT_FIELD, SNAPSHOT_HEADER_SIZE, V2_HEADER_LENGTH, be, cluster_size,
    get, get_field, header_length, pack_bitmaps_ext, pack_crypto_ext,
    pack_extension, pack_feature, put, set_field, set_field_into,
    walk_extensions)

TRANSITIONS = [
    "compat=1.1",
    "compat=0.10",
    "lazy_refcounts=on",
    "lazy_refcounts=off",
    "compat=1.1,lazy_refcounts=on",
    "compat=0.10,lazy_refcounts=off",
]

# The short name a header field goes by in the images' names (the spec's
# name where there is none here).
TAGS = {
    "backing_file_offset": "backing_offset",
    "backing_file_size": "backing_size",
    "l1_table_offset": "l1_offset",
    "refcount_table_offset": "refcount_offset",
    "refcount_table_clusters": "refcount_clusters",
    "incompatible_features": "incompat",
    "compatible_features": "compat",
    "autoclear_features": "autoclear",
}
FIELD_ENDS = sorted({f.end for f in HEADER_FIELDS} | {f.offset for f in HEADER_FIELDS})

OUT = []   # (name, category, data or ("sparse", head, size))


def add(cat, reason, data):
    OUT.append((reason, cat, data))


def special_values(name, size, orig, csize, flen):
    m = (1 << (8 * size)) - 1
    vals = {0, 1, m, m - 1, 1 << (8 * size - 1), (1 << (8 * size - 1)) - 1,
            (orig + 1) & m, (orig - 1) & m}
    extra = {
        "magic": [0x514649fa, 0x514649fc, 0x4d5a0000],
        "version": [2, 3, 4, 5],
        "backing_file_offset": [8, 71, 72, 104, 111, 112, csize - 1, csize,
                           csize + 1, csize - 8, flen, flen + csize],
        "backing_file_size": [1022, 1023, 1024, 1025, csize, csize + 1],
        "cluster_bits": [8, 9, 10, 12, 16, 20, 21, 22, 30, 31, 32, 63, 64],
        "size": [511, 512, 1 << 40, 1 << 55, (1 << 63) - 512, 1 << 62],
        "crypt_method": [2, 3],
        "l1_size": [0x2000000, 0x2000001, 0x1ffffff, orig * 2,
                    max(orig - 1, 0), 0x10000000],
        "l1_table_offset": [8, 512, csize // 2, csize, csize + 8, flen, flen + csize,
                      1 << 56, (1 << 63) - csize, orig + 8, orig + 512],
        "refcount_table_offset": [8, 512, csize, csize + 8, flen, flen + csize,
                            1 << 56, orig + 8],
        "refcount_table_clusters": [0x100000, 0x800000, orig * 2, 0x10000000],
        "nb_snapshots": [2, 65535, 65536, 65537, 0x10000],
        "snapshots_offset": [8, 512, csize, csize + 8, flen, flen + csize,
                             1 << 56, orig + 8],
        "incompatible_features": [1 << b for b in range(0, 6)] + [1 << 63, 0x1f, 0x3],
        "compatible_features": [1 << 0, 1 << 1, 1 << 63, 0x3],
        "autoclear_features": [1 << 0, 1 << 1, 1 << 2, 0x3, 1 << 63],
        "refcount_order": [0, 3, 4, 5, 6, 7, 8, 32],
        "header_length": [0, 71, 72, 99, 100, 103, 104, 105, 111, 112, 113,
                          120, 4096, csize - 8, csize, csize + 1],
        "compression_type": [1, 2, 255],
    }.get(name, [])
    for v in extra:
        vals.add(v & m)
    vals.discard(orig)
    return sorted(vals)


def field_mutants(tag, img, fields=None, limit=None):
    csize = cluster_size(img)
    for name, off, size in HEADER_FIELDS:
        if fields is not None and name not in fields:
            continue
        orig = get(img, off, size)
        vals = special_values(name, size, orig, csize, len(img))
        if limit is not None:
            vals = vals[:limit]
        for v in vals:
            add("field", f"{tag}_{TAGS.get(name, name)}_{v:x}", put(img, off, size, v))


def trunc_mutants(tag, img):
    csize = cluster_size(img)
    cuts = set(FIELD_ENDS) | {1, 2, 3, 5, 7, 71, 73, 113, 120, 128, 511, 512,
                              513, 4095, 4096, csize - 1, csize, csize + 1,
                              len(img) - 1, len(img) // 2}
    ext_end = ext_chain_end(img)
    cuts |= {ext_end - 1, ext_end, ext_end + 1}
    for c in sorted(x for x in cuts if 0 <= x < len(img)):
        add("trunc", f"{tag}_cut_{c}", img[:c])


def ext_chain_end(img):
    """Just past the end marker, or where the walk left the cluster."""
    return walk_extensions(img, header_length(img), limit=cluster_size(img)).stop


def write_chain(img, exts, backing=None, raw_tail=b""):
    """The header (fields) of img, then `exts` [(type, data)] as an
    extension chain, then raw_tail (no end marker is added: put (0, b"")
    in exts for one), then optionally a backing name right after."""
    hl = header_length(img)
    csize = cluster_size(img)
    b = bytearray(img[:hl])
    for t, d in exts:
        b += pack_extension(t, d)
    b += raw_tail
    if backing is not None:
        off = len(b)
        b += backing
        set_field_into(b, "backing_file_offset", off)
        set_field_into(b, "backing_file_size", len(backing))
    if len(b) > csize:
        b = b[:csize]
    out = bytearray(img)
    out[:csize] = b"\0" * csize
    out[:len(b)] = b
    return bytes(out)


def ext_mutants(tag, img):
    csize = cluster_size(img)
    fmt = (EXT_BACKING_FORMAT, b"qcow2")
    end = (0, b"")              # an extension of type 0: the end marker
    unk = 0x12345678
    # Many small unknown extensions: around QCOW2_MAX_EXTENSIONS (64).
    for n in (63, 64, 65, 100, 1000):
        add("ext", f"{tag}_ext_many_{n}", write_chain(img, [(unk + i % 7, b"x")
                                                           for i in range(n)] + [end]))
    # Chain filling the cluster exactly, and one byte over.
    hl = header_length(img)
    ext_hdr = len(END_OF_EXTENSIONS)
    room = csize - hl - ext_hdr - ext_hdr
    add("ext", f"{tag}_ext_fill_exact", write_chain(img, [(unk, b"A" * room), end]))
    add("ext", f"{tag}_ext_fill_over", write_chain(img, [(unk, b"A" * (room + 1)), end]))
    add("ext", f"{tag}_ext_fill_nomarker", write_chain(img, [(unk, b"A" * (room + 8))]))
    # Unterminated: no end marker, non-zero bytes to the end.
    add("ext", f"{tag}_ext_unterminated",
        write_chain(img, [fmt], raw_tail=b"\x01" * (csize - hl - 2 * ext_hdr)))
    # Length fields at and past the limits.
    length = EXT_FIELD["length"]
    for n in (0xffffffff, 0x80000000, csize, csize - hl - 8, csize - hl - 7):
        b = bytearray(write_chain(img, [fmt, end]))
        b[hl + length.offset:hl + length.end] = be(length.size, n)
        add("ext", f"{tag}_ext_len_{n:x}", bytes(b))
    # Extension overlapping the backing name / backing name inside a chain.
    b = bytearray(write_chain(img, [fmt, end], backing=b"base.qcow2"))
    set_field_into(b, "backing_file_offset", hl + 4)
    add("ext", f"{tag}_ext_backing_inside_chain", bytes(b))
    b = bytearray(write_chain(img, [fmt, (unk, b"Z" * 64), end], backing=b"b.img"))
    b[hl + length.offset:hl + length.end] = be(length.size, 200)
    add("ext", f"{tag}_ext_overlaps_backing", bytes(b))
    # Duplicates, empty string extensions, odd feature tables.
    add("ext", f"{tag}_ext_dup_fmt", write_chain(img, [fmt, (EXT_BACKING_FORMAT, b"raw"),
                                                       end], backing=b"base.raw"))
    add("ext", f"{tag}_ext_empty_fmt", write_chain(img, [(EXT_BACKING_FORMAT, b""), end],
                                                   backing=b"x"))
    add("ext", f"{tag}_ext_fmt_no_backing", write_chain(img, [fmt, end]))
    # A table of n bytes: the "dirty" entry cut or zero-extended to n
    # (n >= 7: type, bit and the name's 5 bytes), else n bytes of 0x01.
    dirty = pack_feature(FEATURE_TYPE_INCOMPAT, 0, b"dirty")
    for n in (0, 1, 47, 49, 48 * 200):
        add("ext", f"{tag}_ext_feature_table_{n}",
            write_chain(img, [(EXT_FEATURE_TABLE, (dirty + bytes(n))[:n]
                               if n >= 7 else b"\x01" * n), end]))
    add("ext", f"{tag}_ext_bitmaps_short",
        write_chain(img, [(EXT_BITMAPS, b"\0" * 8), end]))
    add("ext", f"{tag}_ext_bitmaps_bad_dir",
        set_field(write_chain(img, [(EXT_BITMAPS, pack_bitmaps_ext(1, 1 << 62, 1 << 62)),
                                    end]), "autoclear_features", AUTOCLEAR_BITMAPS))
    add("ext", f"{tag}_ext_data_file_no_bit",
        write_chain(img, [(EXT_DATA_FILE, b"data.raw"), end]))
    add("ext", f"{tag}_ext_crypto_no_crypt",
        write_chain(img, [(EXT_CRYPTO, pack_crypto_ext(0, 0)), end]))
    add("ext", f"{tag}_ext_backing_1023",
        write_chain(img, [fmt, end], backing=b"b" * 1023))
    add("ext", f"{tag}_ext_backing_1024",
        write_chain(img, [fmt, end], backing=b"b" * 1024))
    add("ext", f"{tag}_ext_backing_nul",
        write_chain(img, [fmt, end], backing=b"a\0b"))
    add("ext", f"{tag}_ext_backing_at_end",
        set_field(set_field(img, "backing_file_offset", csize - 4), "backing_file_size", 8))


def table_mutants(tag, img):
    csize = cluster_size(img)
    l1o, l1n = get_field(img, "l1_table_offset"), get_field(img, "l1_size")
    flen = len(img)
    C, E = L1_ENTRY_SIZE, L2_ENTRY_SIZE
    if l1n and l1o + C <= flen:
        e = get(img, l1o, C)
        l2 = e & L1E_OFFSET_MASK
        for v, why in ((OFLAG_COPIED | (flen + csize), "past_eof"),
                       (OFLAG_COPIED | (l2 + 8 if l2 else csize + 8), "unaligned"),
                       (OFLAG_COPIED, "header_cluster"),
                       (OFLAG_COPIED | L1E_OFFSET_MASK, "huge"),
                       (0xffffffffffffffff, "all_ones"),
                       (OFLAG_COPIED | l1o, "self")):
            add("table", f"{tag}_l1e0_{why}", put(img, l1o, C, v))
        if l2 and l2 + E <= flen:
            d = get(img, l2, E)
            for v, why in ((OFLAG_COPIED | (flen + csize), "past_eof"),
                           (OFLAG_COPIED | OFLAG_ZERO, "zero_flag"),
                           (OFLAG_ZERO, "zero_flag_unalloc"),
                           (OFLAG_COPIED | ((d & L2E_OFFSET_MASK) + 8), "unaligned"),
                           (OFLAG_COMPRESSED | 5, "compressed"),
                           (OFLAG_COPIED, "header_cluster"),
                           (0xffffffffffffffff, "all_ones")):
                add("table", f"{tag}_l2e0_{why}", put(img, l2, E, v))
            add("table", f"{tag}_l2_all_zero_flag",
                img[:l2] + (be(E, OFLAG_ZERO) * (csize // E)) + img[l2 + csize:])
    for l1_size in (0x2000000, 0xffffffff, 0x1fffffff):
        add("table", f"{tag}_l1size_{l1_size:x}_eof", set_field(img, "l1_size", l1_size))
    for v, why in ((flen, "at_eof"), ((flen - 8) & ~7, "overlaps_eof"),
                   (0, "in_header"), (l1o + 8, "unaligned")):
        add("table", f"{tag}_l1_{why}", set_field(img, "l1_table_offset", v))
    add("table", f"{tag}_rc_in_header", set_field(img, "refcount_table_offset", 0))
    add("table", f"{tag}_rc_past_eof", set_field(img, "refcount_table_offset", flen + csize))
    sno, snn = get_field(img, "snapshots_offset"), get_field(img, "nb_snapshots")
    if snn and sno + SNAPSHOT_HEADER_SIZE <= flen:
        # The first snapshot table entry's fixed part.
        for name, v, why in (("l1_table_offset", flen + csize, "l1_past_eof"),
                             ("l1_table_offset", 8, "l1_in_header"),
                             ("l1_table_offset", 0x0fffffffffffff00, "l1_huge"),
                             ("l1_size", 0xffffffff, "l1_size_huge"),
                             ("l1_size", 0x2000001, "l1_size_limit"),
                             ("id_str_size", 0xffff, "id_size_huge"),
                             ("name_size", 0xffff, "name_size_huge"),
                             ("extra_data_size", 0xffffffff, "extra_huge"),
                             ("extra_data_size", 7, "extra_short")):
            add("table", f"{tag}_snap_{why}",
                set_field(img, name, v, table=SNAPSHOT_FIELD, base=sno))
        for v in (2, 100, 65536, 65537):
            add("table", f"{tag}_nbsnap_{v}", set_field(img, "nb_snapshots", v))
        for v, why in ((flen + csize, "past_eof"), (sno + 8, "unaligned"),
                       (0, "in_header")):
            add("table", f"{tag}_snap_table_{why}", set_field(img, "snapshots_offset", v))
        # Cut halfway through the first entry's fixed part.
        add("table", f"{tag}_snap_table_truncated", img[:sno + SNAPSHOT_HEADER_SIZE // 2])


def small_files(magic_img):
    sizes = list(range(0, 17)) + list(range(24, 129, 8)) + \
        [255, 256, 511, 512, 513, 1023, 1024, 2047, 2048, 4095, 4096]
    for n in sizes:
        add("small", f"small_zero_{n}", b"\0" * n)
    for n in sizes:
        add("small", f"small_qcow2_prefix_{n}", magic_img[:n])
    for n in (4, 8, 72, 104, 512, 4096):
        add("small", f"small_ff_{n}", b"\xff" * n)
    for n in (72, 112, 512, 4096):   # a v3 header that claims 512-byte clusters
        hdr = bytearray(magic_img[:n])
        set_field_into(hdr, "cluster_bits", MIN_CLUSTER_BITS)
        add("small", f"small_512cluster_{n}", bytes(hdr))


def main():
    base, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    imgs = {}
    for f in sorted(os.listdir(base)):
        if f.endswith(".qcow2"):
            with open(os.path.join(base, f), "rb") as fh:
                imgs[f[:-6]] = fh.read()

    field_mutants("v3_64k", imgs["v3_64k"])
    field_mutants("v2_64k", imgs["v2_64k"],
                  fields={f.name for f in HEADER_FIELDS if f.offset < V2_HEADER_LENGTH})
    field_mutants("v3_512_bk", imgs["v3_512_backing"], limit=5)
    field_mutants("v2_4k_bk", imgs["v2_4k_backing"],
                  fields={"backing_file_offset", "backing_file_size", "cluster_bits",
                          "version"})
    for tag in ("v3_64k", "v2_64k", "v3_512_backing"):
        trunc_mutants(tag, imgs[tag])
    for tag in ("v3_64k", "v2_64k", "v3_4k"):
        ext_mutants(tag, imgs[tag])
    for tag in ("v3_64k", "v2_64k", "v3_snap", "v2_snap", "v3_512"):
        table_mutants(tag, imgs[tag])
    small_files(imgs["v3_64k"])

    with open(os.path.join(out, "MANIFEST"), "w") as man:
        for i, (reason, cat, data) in enumerate(OUT):
            name = f"{i:04d}_{reason}.img"
            with open(os.path.join(out, name), "wb") as fh:
                fh.write(data)
            man.write(f"{name}\t{cat}\t{TRANSITIONS[i % len(TRANSITIONS)]}\n")
        # Huge sparse files: a real header, then 1 TiB of holes.
        n = len(OUT)
        for j, (tag, size) in enumerate((("v3_64k", 1 << 40),
                                         ("v2_64k", (1 << 40) + 512),
                                         ("v3_512", 1 << 40))):
            name = f"{n + j:04d}_sparse_{tag}_{size:x}.img"
            with open(os.path.join(out, name), "wb") as fh:
                fh.write(imgs[tag])
                fh.truncate(size)
            man.write(f"{name}\tsparse\t{TRANSITIONS[(n + j) % len(TRANSITIONS)]}\n")


if __name__ == "__main__":
    main()
