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
import struct
import sys

TRANSITIONS = [
    "compat=1.1",
    "compat=0.10",
    "lazy_refcounts=on",
    "lazy_refcounts=off",
    "compat=1.1,lazy_refcounts=on",
    "compat=0.10,lazy_refcounts=off",
]

# (name, offset, size) of the qcow2 header fields.
FIELDS = [
    ("magic", 0, 4), ("version", 4, 4), ("backing_offset", 8, 8),
    ("backing_size", 16, 4), ("cluster_bits", 20, 4), ("size", 24, 8),
    ("crypt_method", 32, 4), ("l1_size", 36, 4), ("l1_offset", 40, 8),
    ("refcount_offset", 48, 8), ("refcount_clusters", 56, 4),
    ("nb_snapshots", 60, 4), ("snapshots_offset", 64, 8),
    ("incompat", 72, 8), ("compat", 80, 8), ("autoclear", 88, 8),
    ("refcount_order", 96, 4), ("header_length", 100, 4),
    ("compression_type", 104, 1),
]
FIELD_ENDS = sorted({o + s for _, o, s in FIELDS} | {o for _, o, _ in FIELDS})

OUT = []   # (name, category, data or ("sparse", head, size))


def be(n, v):
    return (v & ((1 << (8 * n)) - 1)).to_bytes(n, "big")


def get(buf, off, n):
    return int.from_bytes(buf[off:off + n], "big")


def put(buf, off, n, v):
    b = bytearray(buf)
    b[off:off + n] = be(n, v)
    return bytes(b)


def add(cat, reason, data):
    OUT.append((reason, cat, data))


def special_values(name, size, orig, csize, flen):
    m = (1 << (8 * size)) - 1
    vals = {0, 1, m, m - 1, 1 << (8 * size - 1), (1 << (8 * size - 1)) - 1,
            (orig + 1) & m, (orig - 1) & m}
    extra = {
        "magic": [0x514649fa, 0x514649fc, 0x4d5a0000],
        "version": [2, 3, 4, 5],
        "backing_offset": [8, 71, 72, 104, 111, 112, csize - 1, csize,
                           csize + 1, csize - 8, flen, flen + csize],
        "backing_size": [1022, 1023, 1024, 1025, csize, csize + 1],
        "cluster_bits": [8, 9, 10, 12, 16, 20, 21, 22, 30, 31, 32, 63, 64],
        "size": [511, 512, 1 << 40, 1 << 55, (1 << 63) - 512, 1 << 62],
        "crypt_method": [2, 3],
        "l1_size": [0x2000000, 0x2000001, 0x1ffffff, orig * 2,
                    max(orig - 1, 0), 0x10000000],
        "l1_offset": [8, 512, csize // 2, csize, csize + 8, flen, flen + csize,
                      1 << 56, (1 << 63) - csize, orig + 8, orig + 512],
        "refcount_offset": [8, 512, csize, csize + 8, flen, flen + csize,
                            1 << 56, orig + 8],
        "refcount_clusters": [0x100000, 0x800000, orig * 2, 0x10000000],
        "nb_snapshots": [2, 65535, 65536, 65537, 0x10000],
        "snapshots_offset": [8, 512, csize, csize + 8, flen, flen + csize,
                             1 << 56, orig + 8],
        "incompat": [1 << b for b in range(0, 6)] + [1 << 63, 0x1f, 0x3],
        "compat": [1 << 0, 1 << 1, 1 << 63, 0x3],
        "autoclear": [1 << 0, 1 << 1, 1 << 2, 0x3, 1 << 63],
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
    csize = 1 << get(img, 20, 4)
    for name, off, size in FIELDS:
        if fields is not None and name not in fields:
            continue
        orig = get(img, off, size)
        vals = special_values(name, size, orig, csize, len(img))
        if limit is not None:
            vals = vals[:limit]
        for v in vals:
            add("field", f"{tag}_{name}_{v:x}", put(img, off, size, v))


def trunc_mutants(tag, img):
    csize = 1 << get(img, 20, 4)
    cuts = set(FIELD_ENDS) | {1, 2, 3, 5, 7, 71, 73, 113, 120, 128, 511, 512,
                              513, 4095, 4096, csize - 1, csize, csize + 1,
                              len(img) - 1, len(img) // 2}
    ext_end = ext_chain_end(img)
    cuts |= {ext_end - 1, ext_end, ext_end + 1}
    for c in sorted(x for x in cuts if 0 <= x < len(img)):
        add("trunc", f"{tag}_cut_{c}", img[:c])


def header_len(img):
    return 72 if get(img, 4, 4) == 2 else get(img, 100, 4)


def ext_chain_end(img):
    off = header_len(img)
    csize = 1 << get(img, 20, 4)
    while off + 8 <= csize:
        t, n = get(img, off, 4), get(img, off + 4, 4)
        off += 8
        if t == 0:
            return off
        off += (n + 7) & ~7
    return off


def write_chain(img, exts, backing=None, raw_tail=b""):
    """The header (fields) of img, then `exts` [(type, data)] as an
    extension chain, then raw_tail (no end marker is added: put (0, b"")
    in exts for one), then optionally a backing name right after."""
    hl = header_len(img)
    csize = 1 << get(img, 20, 4)
    b = bytearray(img[:hl])
    for t, d in exts:
        b += be(4, t) + be(4, len(d)) + d + b"\0" * ((8 - len(d) % 8) % 8)
    b += raw_tail
    if backing is not None:
        off = len(b)
        b += backing
        b[8:16] = be(8, off)
        b[16:20] = be(4, len(backing))
    if len(b) > csize:
        b = b[:csize]
    out = bytearray(img)
    out[:csize] = b"\0" * csize
    out[:len(b)] = b
    return bytes(out)


def ext_mutants(tag, img):
    csize = 1 << get(img, 20, 4)
    fmt = (0xe2792aca, b"qcow2")
    end = (0, b"")
    unk = 0x12345678
    # Many small unknown extensions: around QCOW2_MAX_EXTENSIONS (64).
    for n in (63, 64, 65, 100, 1000):
        add("ext", f"{tag}_ext_many_{n}", write_chain(img, [(unk + i % 7, b"x")
                                                           for i in range(n)] + [end]))
    # Chain filling the cluster exactly, and one byte over.
    hl = header_len(img)
    room = csize - hl - 8 - 8
    add("ext", f"{tag}_ext_fill_exact", write_chain(img, [(unk, b"A" * room), end]))
    add("ext", f"{tag}_ext_fill_over", write_chain(img, [(unk, b"A" * (room + 1)), end]))
    add("ext", f"{tag}_ext_fill_nomarker", write_chain(img, [(unk, b"A" * (room + 8))]))
    # Unterminated: no end marker, non-zero bytes to the end.
    add("ext", f"{tag}_ext_unterminated",
        write_chain(img, [fmt], raw_tail=b"\x01" * (csize - hl - 16)))
    # Length fields at and past the limits.
    for n in (0xffffffff, 0x80000000, csize, csize - hl - 8, csize - hl - 7):
        b = bytearray(write_chain(img, [fmt, end]))
        b[hl + 4:hl + 8] = be(4, n)
        add("ext", f"{tag}_ext_len_{n:x}", bytes(b))
    # Extension overlapping the backing name / backing name inside a chain.
    b = bytearray(write_chain(img, [fmt, end], backing=b"base.qcow2"))
    b[8:16] = be(8, hl + 4)
    add("ext", f"{tag}_ext_backing_inside_chain", bytes(b))
    b = bytearray(write_chain(img, [fmt, (unk, b"Z" * 64), end], backing=b"b.img"))
    b[hl + 4:hl + 8] = be(4, 200)
    add("ext", f"{tag}_ext_overlaps_backing", bytes(b))
    # Duplicates, empty string extensions, odd feature tables.
    add("ext", f"{tag}_ext_dup_fmt", write_chain(img, [fmt, (0xe2792aca, b"raw"), end],
                                                 backing=b"base.raw"))
    add("ext", f"{tag}_ext_empty_fmt", write_chain(img, [(0xe2792aca, b""), end],
                                                   backing=b"x"))
    add("ext", f"{tag}_ext_fmt_no_backing", write_chain(img, [fmt, end]))
    for n in (0, 1, 47, 49, 48 * 200):
        add("ext", f"{tag}_ext_feature_table_{n}",
            write_chain(img, [(0x6803f857, b"\x00\x00dirty" + b"\0" * max(n - 7, 0)
                               if n >= 7 else b"\x01" * n), end]))
    add("ext", f"{tag}_ext_bitmaps_short",
        write_chain(img, [(0x23852875, b"\0" * 8), end]))
    add("ext", f"{tag}_ext_bitmaps_bad_dir",
        put(write_chain(img, [(0x23852875, be(4, 1) + be(4, 0) + be(8, 1 << 62)
                                + be(8, 1 << 62)), end]), 88, 8, 1))
    add("ext", f"{tag}_ext_data_file_no_bit",
        write_chain(img, [(0x44415441, b"data.raw"), end]))
    add("ext", f"{tag}_ext_crypto_no_crypt",
        write_chain(img, [(0x0537be77, be(8, 0) + be(8, 0)), end]))
    add("ext", f"{tag}_ext_backing_1023",
        write_chain(img, [fmt, end], backing=b"b" * 1023))
    add("ext", f"{tag}_ext_backing_1024",
        write_chain(img, [fmt, end], backing=b"b" * 1024))
    add("ext", f"{tag}_ext_backing_nul",
        write_chain(img, [fmt, end], backing=b"a\0b"))
    add("ext", f"{tag}_ext_backing_at_end",
        put(put(img, 8, 8, csize - 4), 16, 4, 8))


def table_mutants(tag, img):
    csize = 1 << get(img, 20, 4)
    l1o, l1n = get(img, 40, 8), get(img, 36, 4)
    flen = len(img)
    if l1n and l1o + 8 <= flen:
        e = get(img, l1o, 8)
        l2 = e & 0x00fffffffffffe00
        for v, why in ((1 << 63 | (flen + csize), "past_eof"),
                       (1 << 63 | (l2 + 8 if l2 else csize + 8), "unaligned"),
                       (1 << 63, "header_cluster"),
                       (1 << 63 | 0x00fffffffffffe00, "huge"),
                       (0xffffffffffffffff, "all_ones"),
                       (1 << 63 | l1o, "self")):
            add("table", f"{tag}_l1e0_{why}", put(img, l1o, 8, v))
        if l2 and l2 + 8 <= flen:
            d = get(img, l2, 8)
            for v, why in ((1 << 63 | (flen + csize), "past_eof"),
                           (1 << 63 | 1, "zero_flag"),
                           (1, "zero_flag_unalloc"),
                           (1 << 63 | ((d & 0x00fffffffffffe00) + 8), "unaligned"),
                           (1 << 62 | 5, "compressed"),
                           (1 << 63, "header_cluster"),
                           (0xffffffffffffffff, "all_ones")):
                add("table", f"{tag}_l2e0_{why}", put(img, l2, 8, v))
            add("table", f"{tag}_l2_all_zero_flag",
                img[:l2] + (be(8, 1) * (csize // 8)) + img[l2 + csize:])
    for l1_size in (0x2000000, 0xffffffff, 0x1fffffff):
        add("table", f"{tag}_l1size_{l1_size:x}_eof", put(img, 36, 4, l1_size))
    add("table", f"{tag}_l1_at_eof", put(img, 40, 8, flen))
    add("table", f"{tag}_l1_overlaps_eof", put(img, 40, 8, (flen - 8) & ~7))
    add("table", f"{tag}_l1_in_header", put(img, 40, 8, 0))
    add("table", f"{tag}_l1_unaligned", put(img, 40, 8, l1o + 8))
    add("table", f"{tag}_rc_in_header", put(img, 48, 8, 0))
    add("table", f"{tag}_rc_past_eof", put(img, 48, 8, flen + csize))
    sno, snn = get(img, 64, 8), get(img, 60, 4)
    if snn and sno + 40 <= flen:
        # Snapshot header: l1 offset 0..8, l1 size 8..12, id 12..14,
        # name 14..16, ..., extra 36..40.
        for off, n, v, why in ((0, 8, flen + csize, "l1_past_eof"),
                               (0, 8, 8, "l1_in_header"),
                               (0, 8, 0x0fffffffffffff00, "l1_huge"),
                               (8, 4, 0xffffffff, "l1_size_huge"),
                               (8, 4, 0x2000001, "l1_size_limit"),
                               (12, 2, 0xffff, "id_size_huge"),
                               (14, 2, 0xffff, "name_size_huge"),
                               (36, 4, 0xffffffff, "extra_huge"),
                               (36, 4, 7, "extra_short")):
            add("table", f"{tag}_snap_{why}", put(img, sno + off, n, v))
        for v in (2, 100, 65536, 65537):
            add("table", f"{tag}_nbsnap_{v}", put(img, 60, 4, v))
        add("table", f"{tag}_snap_table_past_eof", put(img, 64, 8, flen + csize))
        add("table", f"{tag}_snap_table_unaligned", put(img, 64, 8, sno + 8))
        add("table", f"{tag}_snap_table_in_header", put(img, 64, 8, 0))
        add("table", f"{tag}_snap_table_truncated", img[:sno + 20])


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
        hdr[20:24] = be(4, 9)
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
                  fields={n for n, o, _ in FIELDS if o < 72})
    field_mutants("v3_512_bk", imgs["v3_512_backing"], limit=5)
    field_mutants("v2_4k_bk", imgs["v2_4k_backing"],
                  fields={"backing_offset", "backing_size", "cluster_bits",
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
