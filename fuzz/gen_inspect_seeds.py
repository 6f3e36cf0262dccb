#!/usr/bin/env python3
"""gen_inspect_seeds.py — seeds for the fuzz targets of info and check:

  inspect_open   [behaviour][mode] + an image (the info and check corpora)
  inspect_check  [behaviour] + an image
  report_parse   [kind][release][json] + a report, packed from the record
                 layout abi/report_abi.h itself says (read by
                 tests/tools/guest_abi.py's header reader)

Usage: gen_inspect_seeds.py OUTDIR CORPUS_DIR...
The images are the ones tests/inspect's generators make (run them into
CORPUS_DIRs first). Each image is cut after its last non-zero byte
(rounded up to 512, at most 256 KiB): a seed only has to lead the fuzzer
somewhere. Trusts: the images (made by the project's own generators).
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "tools"))
import guest_abi  # noqa: E402

MAX_SEED = 256 * 1024
# Small images are all taken; of the larger ones (64 KiB clusters: about
# 200 KiB each) only these, one per kind of metadata, to keep the
# checked-in corpora small (the fuzzer finds the rest).
KEEP_LARGE = {"snapshot", "bitmaps", "many_errors", "extl2_bad_bitmap",
              "l1_copied_only", "overflow_rc1", "snap_l1_unaligned",
              "datafile_bad", "v3_basic", "snap_basic", "bm_single",
              "backing_fmt"}
SMALL = 64 * 1024
REPORT_ABI_H = os.path.join(HERE, "..", "abi", "report_abi.h")


def trim(b):
    end = len(b.rstrip(b"\0"))
    end = max(512, (end + 511) // 512 * 512)
    return b[:min(end, MAX_SEED, len(b))]


def put(outdir, target, name, data):
    d = os.path.join(outdir, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def images(dirs):
    for d in dirs:
        for fn in sorted(os.listdir(d)):
            p = os.path.join(d, fn)
            if not fn.endswith(".qcow2") or not os.path.isfile(p):
                continue
            if os.path.getsize(p) > 8 << 20:
                continue
            with open(p, "rb") as f:
                data = trim(f.read(MAX_SEED))
            name = fn[:-len(".qcow2")]
            if len(data) <= SMALL or name in KEEP_LARGE:
                yield name, data


def record(hdr, sname, strings=b"", **fields):
    """One record: the struct's fields, its type and length, the strings,
    padded to 8."""
    st = hdr.structs[sname]
    body_len = st.size + len(strings)
    total = (body_len + 7) // 8 * 8
    types = dict(hdr.enums["report_type"])
    tname = {"report_message": fields.pop("_type", "REPORT_T_OPEN_ERROR"),
             "report_image": "REPORT_T_IMAGE",
             "report_name": "REPORT_T_NAME",
             "report_snapshot": "REPORT_T_SNAPSHOT",
             "report_bitmap": "REPORT_T_BITMAP",
             "report_finding": "REPORT_T_FINDING",
             "report_check": "REPORT_T_CHECK",
             "report_end": "REPORT_T_END"}[sname]
    raw = bytearray(st.pack({}, rest=0, **fields))
    raw[0:8] = struct.pack("<II", types[tname], total)
    return bytes(raw) + strings + bytes(total - body_len)


def reports(hdr):
    img = dict(version=3, cluster_bits=16, size=64 << 20, refcount_order=4,
               nb_snapshots=1, nb_bitmaps=1, flags=1)
    info = [
        record(hdr, "report_image", **img),
        record(hdr, "report_name", b"base.qcow2", kind=1, len=10),
        record(hdr, "report_name", b"qcow2", kind=2, len=5),
        record(hdr, "report_snapshot", b"1snap1", vm_state_size=0,
               vm_clock_nsec=1, icount=2, date_sec=1577836800, id_len=1,
               name_len=5),
        record(hdr, "report_bitmap", b"bm0", flags=2, granularity_bits=16,
               name_len=3),
    ]
    info.append(record(hdr, "report_end", records=len(info), findings=0))
    yield "info_full", 0, b"".join(info)
    refused = [record(hdr, "report_message", code=1, n_args=1, arg=[4, 0, 0])]
    refused.append(record(hdr, "report_end", records=1, findings=0))
    yield "info_refused", 0, b"".join(refused)
    check = [
        record(hdr, "report_finding", code=30, n_args=3, arg=[8, 1, 0, 0]),
        record(hdr, "report_finding", code=0, n_args=2, arg=[0x10000000, 0x10000, 0, 0]),
        record(hdr, "report_check", corruptions=1, leaks=1, total_clusters=1024,
               allocated_clusters=3, image_end_offset=589824),
    ]
    check.append(record(hdr, "report_end", records=len(check), findings=2))
    yield "check_findings", 1, b"".join(check)


def main():
    out, dirs = sys.argv[1], sys.argv[2:]
    for name, img in images(dirs):
        put(out, "inspect_open", name + ".info", bytes([0x03, 0]) + img)
        put(out, "inspect_open", name + ".check", bytes([0x03, 1]) + img)
        put(out, "inspect_check", name, bytes([0xf3]) + img)
    hdr = guest_abi.read_header(REPORT_ABI_H)
    for name, kind, rep in reports(hdr):
        for rel in range(4):
            put(out, "report_parse", "%s.%d" % (name, rel), bytes([kind, rel, 0]) + rep)
            put(out, "report_parse", "%s.%d.json" % (name, rel), bytes([kind, rel, 1]) + rep)


if __name__ == "__main__":
    main()
