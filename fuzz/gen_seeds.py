#!/usr/bin/env python3
"""gen_seeds.py — called by make_corpus.sh: turn the images it made into
seed files for every fuzz target, and write the hand-built seeds of the
targets that do not read images (argv, virtio programs, policy files).

Usage: gen_seeds.py TMPDIR OUTDIR SECCOMP_DIR
Trusts: the images in TMPDIR (made by qemu-img moments before).
The qcow2 layout is tests/tools/qcow2_fixture.py's; the guest result
record's (validate seeds) is abi/guest_abi.h's, read by
tests/tools/guest_abi.py, with the status codes of
src/amend/amend_status.h.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "tools"))
import guest_abi  # noqa: E402
import qcow2_fixture as qf  # noqa: E402

MAX_SEED = 64 * 1024


def trim(b):
    """Keep up to the last non-zero byte, rounded up to 512, min 512."""
    end = len(b.rstrip(b"\0"))
    end = max(512, (end + 511) // 512 * 512)
    return b[:min(end, MAX_SEED, len(b))]


def put(outdir, target, name, data):
    assert len(data) <= MAX_SEED, (target, name, len(data))
    d = os.path.join(outdir, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    tmp, out, seccomp = sys.argv[1], sys.argv[2], sys.argv[3]
    imgdir = os.path.join(tmp, "img")
    qcow = {}
    for fn in sorted(os.listdir(imgdir)):
        name = fn[:-len(".qcow2")]
        qcow[name] = trim(qf.read_header_cluster(os.path.join(imgdir, fn))[0])
    # Hand-made variants of real headers.
    qcow["v3_dirty"] = qf.set_field(qcow["v3_dirty"], "incompatible_features",
                                    qf.INCOMPAT_DIRTY)
    qcow["v3_corrupt"] = qf.set_field(qcow["v3"], "incompatible_features",
                                      qf.INCOMPAT_CORRUPT)
    # Bit 63 unknown, beside the known raw-data-file bit.
    qcow["v3_unknown_autoclear"] = qf.set_field(qcow["v3"], "autoclear_features",
                                                1 << 63 | qf.AUTOCLEAR_DATA_FILE_RAW)
    qcow["v3_hdrlen104"] = qf.set_field(qcow["v2_amended_up"], "header_length",
                                        qf.V3_HEADER_LENGTH)

    for name, data in qcow.items():
        put(out, "qcow2_header", name, data)
    otherdir = os.path.join(tmp, "other")
    for fn in sorted(os.listdir(otherdir)):
        with open(os.path.join(otherdir, fn), "rb") as f:
            data = f.read()
        if fn == "vpc_fixed":
            put(out, "qcow2_header", "fmt_" + fn, data[:512] + data[-512:])
        else:
            put(out, "qcow2_header", "fmt_" + fn, trim(data[:4096]))

    # amend_plan: [compat, lazy, scan] + cluster. compat/lazy bytes:
    # 0 keep, 1 -> v2 / off, 2 -> v3 / on (see fuzz_amend.h).
    reqs = {
        "down": (1, 0, 0x03),      # compat=0.10, scan done, clean
        "down_noscan": (1, 0, 0x00),
        "up_lazy": (2, 2, 0x00),   # compat=1.1,lazy_refcounts=on
        "lazy_off": (0, 1, 0x00),
        "lazy_on": (0, 2, 0x00),
    }
    for name, data in qcow.items():
        for rname, (c, l, s) in reqs.items():
            put(out, "amend_plan", f"{name}.{rname}", bytes([c, l, s]) + data)
    put(out, "amend_plan", "bad_request", bytes([0xf7, 0xf9, 0]) + qcow["v3"])
    put(out, "amend_plan", "down_zero_clusters", bytes([1, 0, 0x07]) + qcow["v3"])
    put(out, "amend_plan", "down_zstd_compressed", bytes([1, 0, 0x0b]) + qcow["v3_zstd"])
    put(out, "amend_plan", "down_snapshot_size", bytes([1, 0, 0x13]) + qcow["v3_snapshot"])

    # validate: [compat, lazy, mode, struct guest_result, be16 len] +
    # cluster + edits {be16 offset, xor} (see validate_fuzzer.c).
    abi = guest_abi.load()
    status = guest_abi.load_status()
    result = abi.structs["guest_result"]
    # The fuzzer's input carries the amend part of the record: the
    # members before the inspection programs' report_len.
    rec_len = result.member("report_len").offset
    no_rec = bytes(rec_len)
    for name, data in qcow.items():
        for rname, (c, l, _) in reqs.items():
            if rname == "down_noscan":
                continue
            hdr = bytes([c, l, 1]) + no_rec + struct.pack(">H", len(data))
            put(out, "validate", f"{name}.{rname}", hdr + data)
    rec = result.pack(io_error=1, rest=0)[:rec_len]  # XORed in: flips io_error only
    v3 = qcow["v3"]
    put(out, "validate", "io_error",
        bytes([2, 2, 3]) + rec + struct.pack(">H", len(v3)) + v3)

    def edit(off, xor):
        return struct.pack(">H", off) + bytes([xor])
    put(out, "validate", "edit_l1",
        bytes([2, 2, 1]) + no_rec + struct.pack(">H", len(v3)) + v3 +
        edit(qf.field("l1_table_offset").offset + 3, 1) +
        edit(qf.field("version").offset, 1))
    # A record claiming an upgrade to v3 with lazy refcounts (one 8-byte
    # patch, one sector written) from a guest that staged nothing: the
    # current magic and ABI version, so that the lie is what is refused.
    good = result.pack(
        magic=abi.GUEST_ABI_MAGIC, abi_version=abi.GUEST_ABI_VERSION,
        status=status["AMEND_CHANGED"], action=abi.GUEST_ACTION_AMENDED,
        result_version=3, result_lazy=1, n_patches=1, patch_bytes=8,
        sectors_written=1, io_error=0, report_len=0, progress=0)[:rec_len]
    put(out, "validate", "liar_record",
        bytes([2, 2, 0]) + good + struct.pack(">H", len(v3)) + v3)

    # amend_scan: [fault byte] + a whole small image (<= 64 KiB).
    scandir = os.path.join(tmp, "scan")
    for fn in sorted(os.listdir(scandir)):
        with open(os.path.join(scandir, fn), "rb") as f:
            img = f.read()
        name = fn[:-len(".qcow2")]
        if len(img) + 1 > MAX_SEED:
            print(f"gen_seeds: {fn} is {len(img)} bytes, skipped", file=sys.stderr)
            continue
        put(out, "amend_scan", name, b"\0" + img)
        if name == "data":
            put(out, "amend_scan", name + ".fail3", bytes([5]) + img)
        # amend_guest: [compat, lazy] + the whole image, run in KVM.
        if len(img) + 2 <= MAX_SEED:
            for rname, (c, l) in {"down": (1, 0), "up": (2, 0),
                                  "up_lazy": (2, 2), "lazy_on": (0, 2),
                                  "lazy_off": (0, 1)}.items():
                put(out, "amend_guest", f"{name}.{rname}", bytes([c, l]) + img)

    # amend_diff: [size, be16 m] + old bytes + 4-byte edits.
    def diff_seed(sz, old, edits):
        return bytes([sz]) + struct.pack(">H", len(old)) + old + b"".join(
            struct.pack(">I", off)[1:] + bytes([x]) for off, x in edits)
    v3, up = qcow["v3"], qcow["v2_amended_up"]
    def at(f):
        return qf.field(f).offset
    put(out, "amend_diff", "one_byte", diff_seed(0, v3[:512], [(at("version"), 1)]))
    # The version's last byte, the top bytes of autoclear and of
    # header_length, then bytes among the extensions.
    put(out, "amend_diff", "header_rewrite", diff_seed(
        7, v3, [(qf.field("version").end - 1, 1), (at("autoclear_features"), 3),
                (at("header_length"), 0x10), (112, 0x20), (200, 0x85), (4000, 0x81)]))
    put(out, "amend_diff", "many_ranges", diff_seed(
        3, up, [(i * 97, 5) for i in range(60)]))
    put(out, "amend_diff", "big_run", diff_seed(
        0x80, b"", [(0, 0xff), (100000, 0xff), (1 << 20, 0x90), (2000000, 1)]))

    # amend_args: argv words separated by NUL.
    argvs = {
        "up": ["-o", "compat=1.1", "img.qcow2"],
        "down": ["-o", "compat=0.10", "img.qcow2"],
        "lazy": ["-o", "compat=1.1,lazy_refcounts=on", "-f", "qcow2", "x"],
        "long": ["--options=lazy_refcounts=off", "--format=qcow2",
                 "--output=json", "--quiet", "img"],
        "joined": ["-ocompat=1.1", "-fqcow2", "--output", "human", "-q", "--", "-img"],
        "help": ["--help"],
        "raw": ["-f", "raw", "-o", "compat=1.1", "x"],
        "conflict": ["-o", "compat=1.1", "-o", "compat=0.10", "x"],
        "bad": ["-o", "compat=1.1,,lazy_refcounts=yes,x", "a", "b"],
        "values": ["-o", "lazy_refcounts=true,lazy_refcounts=on,compat=v3", "f"],
        "missing": ["-o"],
    }
    for name, words in argvs.items():
        put(out, "amend_args", name, b"\0".join(w.encode() for w in words))

    # policy_parse: the shipped files and small snippets.
    for fn in ("policy.txt", "policy_sanitizer.txt"):
        with open(os.path.join(seccomp, fn), "rb") as f:
            put(out, "policy_parse", fn, f.read())
    snippets = {
        "set": b"[always]\nioctl arg1:32 in {KVM_RUN, 0x10} # run\n",
        "mask": b"[setup]\nmmap arg2 & PROT_EXEC == 0, arg0 <= 0xffff # m\n",
        "var": b"[always]\nwrite arg0:32 == $image_fd # w\nclose # c\n",
        "ops": b"[always]\nread arg0 != 1, arg1 > 2, arg2 >= 3, arg3 < 4 # r\n",
        "or": b"[setup]\nopenat arg2:32 == O_RDWR|O_CLOEXEC, arg0:32 == AT_FDCWD # o\n",
    }
    for name, data in snippets.items():
        put(out, "policy_parse", name, data)

    # virtio_device: [cluster choice, disk choice] + operations.
    INIT = bytes([3, 8, 0x10, 0x20, 0x30])   # num 8, desc 0x1000, ...

    def req(t, sector, sectors=0, how=0):
        return bytes([7, t]) + struct.pack(">H", sector) + bytes([sectors, how])
    progs = {
        "read0": bytes([1, 0]) + INIT + req(0, 0),
        "write0": bytes([1, 0]) + INIT + req(1, 0, 7),
        "write_outside": bytes([0, 0]) + INIT + req(1, 3),
        "read_past_end": bytes([0, 5]) + INIT + req(0, 7, 3),
        "flush_getid": bytes([2, 0]) + INIT + req(2, 0) + req(3, 0),
        "partial": bytes([1, 0]) + INIT + req(0, 1, 0, 1),
        "nodata": bytes([1, 0]) + INIT + req(1, 0, 0, 2),
        "changed": bytes([1, 8]) + INIT + req(0, 0, 7),
        "regs": bytes([1, 0]) + b"".join(
            bytes([1]) + struct.pack(">H", off) + bytes([2]) + bytes(8)
            for off in (0, 4, 8, 12, 16, 0x34, 0x44, 0x60, 0x70, 0xfc, 0x100, 0x104)),
        "loop": bytes([1, 0]) + INIT + bytes([5, 0, 0x40, 0, 0, 16, 1, 1]) +
                bytes([5, 1, 0x40, 0, 0, 16, 1, 0]) + bytes([4, 0]),
        "two_requests": bytes([1, 0]) + INIT + req(0, 0) + req(1, 1, 1),
    }
    for name, data in progs.items():
        put(out, "virtio_device", name, data)

    snapshot_seeds(out)


def snapshot_entry(l1_offset, l1_size, id_str, name, extra=b"", pad=True):
    """One snapshot table entry (qcow2_fixture.pack_snapshot_entry), taken
    at a fixed time."""
    return qf.pack_snapshot_entry(l1_offset, l1_size, id_str, name, extra,
                                  date_sec=1700000000, date_nsec=5,
                                  vm_clock_nsec=123456789, padded=pad)


def snapshot_extra(disk_size, n=24):
    """Extra data: vm_state_size_large, disk_size, icount (none), cut to
    n bytes."""
    return qf.pack_snapshot_extra(disk_size=disk_size)[:n]


def snapshot_seeds(out):
    """qcow2_snapshot: [fault, stop, window, reps, be16 nb, be16 offset,
    flags] + table bytes (see fuzz/qcow2_snapshot_fuzzer.c)."""
    def seed(table, nb, off=0, fault=0, stop=0, window=0, reps=0, flags=0):
        return bytes([fault, stop, window, reps]) + struct.pack(">HH", nb, off) + \
            bytes([flags]) + table

    # What qemu-img 7.2 writes for `snapshot -c s` on a fresh 64 MiB image:
    # the last bytes of the file, the padding past its end.
    qemu = snapshot_entry(0x40000, 1, b"1", b"s", snapshot_extra(64 << 20), pad=False)
    three = (snapshot_entry(0x50000, 8, b"1", b"old", b"") +
             snapshot_entry(0x60000, 8, b"2", b"sizes", snapshot_extra(1 << 30, 16)) +
             snapshot_entry(0x70000, 8, b"3", b"icount", snapshot_extra(1 << 30)))
    # 48 entries of 370 to 700 bytes (25 KiB), repeated 8 times: 200 KiB
    # of table, more than the least window, so entries straddle refills.
    many = b"".join(snapshot_entry(0x100000 + i * 0x10000, 16, str(i + 1).encode(),
                                   b"n" * (300 + i * 7), snapshot_extra(1 << 30))
                    for i in range(48))
    big = snapshot_entry(0x80000, 1, b"7", b"B" * 60000, snapshot_extra(1 << 30))
    bad_extra = snapshot_entry(0x50000, 1, b"1", b"x", bytes(1025))
    # The longest entry (132136 bytes) 504 bytes into a sector: the table
    # repeated three times holds it; the least window cannot (the known
    # limit noted at walk_limit in the harness), a larger one can.
    late = snapshot_entry(0, 0, b"", b"p" * 464)
    late += qf.pack_snapshot_header(
        l1_table_offset=0x90000, l1_size=1, id_str_size=65535, name_size=65535,
        date_sec=0, date_nsec=0, vm_clock_nsec=0, vm_state_size=0,
        extra_data_size=1024)
    late += snapshot_extra(1 << 30) + b"L" * (45000 - len(late) - 24)
    seeds = {
        "qemu_img_exact": seed(qemu, 1),
        "qemu_img_sectors": seed(qemu, 1, flags=1),
        "three": seed(three, 3),
        "three_stop_second": seed(three, 3, stop=2),
        "three_fail_first_read": seed(three, 3, fault=1),
        "three_too_many": seed(three, 4),
        "three_at_offset": seed(bytes(520) + three, 3, off=520),
        "many_straddling": seed(many, 48 * 8, reps=7),
        "many_straddling_window8": seed(many, 48 * 8, reps=7, window=0x05),
        "many_fail_second_read": seed(many, 48 * 8, reps=7, fault=3),
        "big_entries": seed(big, 4, reps=3),
        "big_entries_large_window": seed(big, 4, reps=3, window=0x02),
        "extra_too_long": seed(bad_extra, 1),
        "longest_entry_late_in_sector": seed(late, 2, reps=2),
        "longest_entry_late_large_window": seed(late, 2, reps=2, window=0x02),
        "window_too_small": seed(three, 3, window=0x03),
        "zero_entries": seed(bytes(4096), 100),
    }
    for name, data in seeds.items():
        put(out, "qcow2_snapshot", name, data)


if __name__ == "__main__":
    main()
