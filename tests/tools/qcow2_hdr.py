#!/usr/bin/env python3
"""qcow2_hdr.py — test-only helper: dump or poke a qcow2 header.

  qcow2_hdr.py dump FILE            print header fields and extensions
  qcow2_hdr.py set FILE FIELD VALUE set a big-endian header field
       FIELD: incompat|compat|autoclear (u64 at 72/80/88), or OFF:SIZE (e.g. 104:1)
  qcow2_hdr.py addext FILE TYPE HEXDATA  insert a header extension before the
       end marker (must fit in the cluster, before any backing name)
  qcow2_hdr.py rebuild FILE HEADER_LENGTH [DROPTYPE...]  v3: re-serialise the
       header with HEADER_LENGTH (104, 112, or more: extra header bytes are
       0xee) and without extensions DROPTYPE
  qcow2_hdr.py setbacking FILE NAME [OFFSET]  point the header at backing
       file NAME (no backing-format extension), stored just past the end
       marker or at OFFSET
"""
import os
import signal
import sys

# The fixture library beside this file (in the runfiles too: no symlink
# resolving, so a missing data dependency shows).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qcow2_fixture as qf  # noqa: E402

signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet under `| head`

# `set` FIELD names other than OFF:SIZE.
SET_ALIASES = {
    "incompat": "incompatible_features",
    "compat": "compatible_features",
    "autoclear": "autoclear_features",
}


def read_cluster(path):
    return qf.read_header_cluster(path)


def write_at(f, off, data):
    f.seek(off)
    f.write(data)


def ext_chain(buf):
    return qf.walk_extensions(buf, qf.header_length(buf))


def dump(path):
    buf, cb = read_cluster(path)
    v = qf.version(buf)
    bo, bs = qf.backing(buf)
    print("version=%d cluster_bits=%d backing_offset=%d backing_size=%d"
          % (v, cb, bo, bs))
    if v >= 3:
        inc, com, ac, ro = (qf.get_field(buf, n) for n in (
            "incompatible_features", "compatible_features",
            "autoclear_features", "refcount_order"))
        hl = qf.header_length(buf)
        ct = qf.get_field(buf, "compression_type") \
            if qf.field_present(hl, "compression_type") else None
        print("incompat=%#x compat=%#x autoclear=%#x refcount_order=%d "
              "header_length=%d compression_type=%s" % (inc, com, ac, ro, hl, ct))
    chain = ext_chain(buf)
    for off, t, ln, data in chain.exts:
        name = qf.EXT_NAMES.get(t, "end" if t == qf.EXT_END else "unknown")
        extra = ""
        if t == qf.EXT_FEATURE_TABLE:
            ents = ["%d/%d:%s" % (ft, bit, nm.decode("ascii", "replace"))
                    for ft, bit, nm in qf.feature_table(data, ln)]
            extra = " [" + ", ".join(ents) + "]"
        elif t == qf.EXT_BACKING_FORMAT:
            extra = " " + repr(data.decode("ascii", "replace"))
        elif t != qf.EXT_END:
            extra = " " + data[:32].hex()
        print("ext @%d type=%#010x(%s) len=%d%s" % (off, t, name, ln, extra))
    print("ext_end=%s" % chain.end)
    if bo:
        print("backing name @%d %r" % (bo, qf.backing_name(buf).decode("ascii", "replace")))
    last = max(i for i in range(len(buf)) if buf[i]) if any(buf) else -1
    print("last_nonzero_byte=%d" % last)


def setfield(path, field, value):
    if field in SET_ALIASES:
        off, size = qf.field(SET_ALIASES[field])[1:]
    else:
        off, size = (int(x, 0) for x in field.split(":"))
    val = int(value, 0)
    with open(path, "r+b") as f:
        write_at(f, off, qf.be(size, val))


def addext(path, etype, hexdata):
    buf, cb = read_cluster(path)
    chain = ext_chain(buf)
    if chain.end is None:
        raise SystemExit("no end marker")
    rec = qf.pack_extension(int(etype, 0), bytes.fromhex(hexdata))
    pos = chain.end - qf.EXT_HEADER_SIZE
    bo, bs = qf.backing(buf)
    name = qf.backing_name(buf)
    tail = rec + qf.END_OF_EXTENSIONS
    newend = pos + len(tail)
    if newend + len(name) > len(buf):
        raise SystemExit("extension does not fit")
    with open(path, "r+b") as f:
        write_at(f, pos, tail + name)
        if bo:
            write_at(f, qf.field("backing_file_offset").offset,
                     qf.pack_field("backing_file_offset", newend))


def setbacking(path, name, at=None):
    buf, cb = read_cluster(path)
    end = ext_chain(buf).end
    if end is None:
        raise SystemExit("no end marker")
    data = name.encode()
    if at is not None:
        if at < end:
            raise SystemExit("backing name offset inside the extensions")
        end = at
    if end + len(data) > len(buf):
        raise SystemExit("backing name does not fit")
    with open(path, "r+b") as f:
        write_at(f, end, data)
        for fname, v in (("backing_file_offset", end), ("backing_file_size", len(data))):
            write_at(f, qf.field(fname).offset, qf.pack_field(fname, v))


def rebuild(path, hl_new, drops):
    buf, cb = read_cluster(path)
    if qf.version(buf) != 3:
        raise SystemExit("rebuild needs a v3 image")
    hl = qf.header_length(buf)
    chain = ext_chain(buf)
    if chain.end is None:
        raise SystemExit("no end marker")
    bo, bs = qf.backing(buf)
    name = qf.backing_name(buf)
    base, qemu = qf.V3_HEADER_LENGTH, qf.QEMU_V3_HEADER_LENGTH
    out = bytearray(buf[:base])
    if hl_new >= qemu:
        # compression_type and its padding, as found or zero.
        out += buf[base:qemu] if hl >= qemu else bytes(qemu - base)
    if hl_new > qemu:
        # Unknown trailing header fields (a future qcow2 version's).
        out += bytes(0xee for _ in range(hl_new - qemu))
    qf.set_field_into(out, "header_length", hl_new)
    for off, t, ln, data in chain.exts:
        if t == qf.EXT_END or t in drops:
            continue
        out += qf.pack_extension(t, data)
    out += qf.END_OF_EXTENSIONS
    if bo:
        qf.set_field_into(out, "backing_file_offset", len(out))
        out += name
    oldend = max(chain.end, bo + bs)
    out += bytes(max(0, oldend - len(out)))
    with open(path, "r+b") as f:
        f.write(out)


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    cmd = argv[1]
    try:
        if cmd == "dump":
            dump(argv[2])
        elif cmd == "set" and len(argv) == 5:
            setfield(argv[2], argv[3], argv[4])
        elif cmd == "addext" and len(argv) == 5:
            addext(argv[2], argv[3], argv[4])
        elif cmd == "rebuild" and len(argv) >= 4:
            rebuild(argv[2], int(argv[3], 0), [int(x, 0) for x in argv[4:]])
        elif cmd == "setbacking" and len(argv) in (4, 5):
            setbacking(argv[2], argv[3], int(argv[4], 0) if len(argv) == 5 else None)
        else:
            raise SystemExit(__doc__)
    except qf.Qcow2Error as e:
        raise SystemExit(str(e)) from None


if __name__ == "__main__":
    main(sys.argv)
