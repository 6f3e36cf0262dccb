#!/usr/bin/env python3
"""gen_expand_seeds.py — seeds for the expansion target (expand_fuzzer.c):

  [flags][fail][list length, be16][list] + a whole image

from small images with zero clusters made by qemu-img and qemu-io (plain
zero entries and zero entries with a host cluster; 512 B, 4 KiB and
16 KiB clusters; with and without a backing file; one with a snapshot
whose data a zero entry shares). Each image's L2 tables with a zero
entry are found here (active and snapshot L1 tables) and named both as
4-byte cluster indices and as a zero report (abi/report_abi.h records);
then the same on a block device, with a write that fails, with the
optional zero callback, and a few lists that lie (the L1 table, an
unaligned sector, a repeat); and the 512-byte image with a backing file
padded to 256 clusters, so that its new clusters need a new refcount
block (and to 255.5, so that they start at the end rounded up).

Usage: gen_expand_seeds.py OUTDIR     (writes OUTDIR/expand/*)
Trusts: qemu-img and qemu-io (Debian's 7.2).
"""
import os
import struct
import subprocess
import sys
import tempfile

ZERO_TABLE, END = 10, 8
F_CAN_GROW, F_REPORT, F_FAULT, F_ZERO = 1, 2, 4, 8
OFFSET_MASK = 0x00FFFFFFFFFFFE00


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def be(fmt, b, off):
    return struct.unpack_from(">" + fmt, b, off)[0]


def zero_tables(img):
    """The L2 tables holding a zero entry, from every L1 table."""
    cb = be("I", img, 20)
    cs = 1 << cb
    l1s = [(be("Q", img, 40), be("I", img, 36))]
    nb, snap = be("I", img, 60), be("Q", img, 64)
    for _ in range(nb):
        l1_off, l1_n = be("Q", img, snap), be("I", img, snap + 8)
        id_len, name_len = be("H", img, snap + 12), be("H", img, snap + 14)
        extra = be("I", img, snap + 36)
        l1s.append((l1_off, l1_n))
        snap += (40 + extra + id_len + name_len + 7) & ~7
    found = []
    for l1_off, l1_n in l1s:
        for i in range(l1_n):
            l2 = be("Q", img, l1_off + 8 * i) & OFFSET_MASK
            if l2 == 0 or l2 in found:
                continue
            for j in range(cs // 8):
                e = be("Q", img, l2 + 8 * j)
                if e & 1 and not e & (1 << 62):
                    found.append(l2)
                    break
    return cb, found


def words(cb, offsets):
    return b"".join(struct.pack(">I", o >> cb) for o in offsets)


def report(offsets):
    out = b"".join(struct.pack("<IIQ", ZERO_TABLE, 16, o) for o in offsets)
    return out + struct.pack("<IIQQ", END, 24, len(offsets), 0)


def seed(flags, lst, img, fail=0):
    return bytes([flags, fail]) + struct.pack(">H", len(lst)) + lst + img


def main():
    out = os.path.join(sys.argv[1], "expand")
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        def path(name):
            return os.path.join(tmp, name + ".qcow2")

        def mk(name, cluster, size, *opts):
            run("qemu-img", "create", "-f", "qcow2", "-o",
                ",".join(["cluster_size=%d" % cluster] + list(opts)), path(name), size)

        def io(name, *cmds):
            args = ["qemu-io", "-f", "qcow2"]
            for c in cmds:
                args += ["-c", c]
            run(*args, path(name))

        mk("base512", 512, "64K")
        io("base512", "write -P 0x11 0 64k")
        mk("z512", 512, "64K")
        io("z512", "write -P 0xaa 0 4k", "write -z 1k 1k", "write -z 16k 2k",
           "write -P 0xbb 32k 512", "write -z -u 32k 512")
        mk("z512_backing", 512, "64K", "backing_file=" + path("base512"),
           "backing_fmt=qcow2")
        io("z512_backing", "write -P 0xaa 0 4k", "write -z 1k 1k", "write -z 16k 2k",
           "write -z 40k 512")
        mk("z4k_snapshot", 4096, "256K")
        io("z4k_snapshot", "write -P 0xaa 0 16k")
        run("qemu-img", "snapshot", "-c", "s0", path("z4k_snapshot"))
        io("z4k_snapshot", "write -z 0 4k", "write -z 64k 8k", "write -P 0xcc 128k 4k",
           "write -z 128k 4k")
        mk("base16k", 16384, "1M")
        mk("z16k_backing", 16384, "1M", "backing_file=" + path("base16k"),
           "backing_fmt=qcow2")
        io("z16k_backing", "write -P 0xaa 0 16k", "write -z 0 16k", "write -z 512k 32k")
        for name in ("z512", "z512_backing", "z4k_snapshot", "z16k_backing"):
            with open(path(name), "rb") as f:
                img = f.read()
            cb, tables = zero_tables(img)
            if not tables:
                sys.exit("gen_expand_seeds.py: %s has no zero entry" % name)
            print("%s: %d bytes, tables %s" % (name, len(img), [hex(t) for t in tables]))
            w, r = words(cb, tables), report(tables)

            def put(tag, data):
                with open(os.path.join(out, "%s.%s" % (name, tag)), "wb") as f:
                    f.write(data)

            put("words", seed(F_CAN_GROW, w, img))
            put("report", seed(F_CAN_GROW | F_REPORT, r, img))
            put("blockdev", seed(F_REPORT, r, img))
            for k in (0, 1, 3):
                put("fail%d" % k, seed(F_CAN_GROW | F_FAULT, w, img, k))
            put("zero", seed(F_CAN_GROW | F_ZERO, w, img))
            put("zero_fail1", seed(F_CAN_GROW | F_ZERO | F_FAULT, w, img, 1))
            put("repeat", seed(F_CAN_GROW | F_REPORT, report(tables + tables[:1]), img))
            put("l1", seed(F_CAN_GROW, words(cb, tables + [be("Q", img, 40)]), img))
            put("sector", seed(F_CAN_GROW, w + struct.pack(">I", 0x80000000 |
                                                           ((tables[0] >> 9) + 1)), img))
            if name == "z512_backing":
                pad = img + bytes(256 * 512 - len(img))
                put("newblock", seed(F_CAN_GROW, w, pad))
                put("newblock_zero", seed(F_CAN_GROW | F_ZERO, w, pad))
                put("newblock_fail2", seed(F_CAN_GROW | F_FAULT, w, pad, 2))
                put("unaligned_end", seed(F_CAN_GROW, w, pad[:255 * 512 + 256]))
    print("gen_expand_seeds.py: %d seeds in %s" % (len(os.listdir(out)), out))


if __name__ == "__main__":
    main()
