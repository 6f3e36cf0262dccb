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
import signal
import struct
import sys

signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet under `| head`

EXT_NAMES = {
    0xe2792aca: "backing-format",
    0x6803f857: "feature-table",
    0x0537be77: "crypto",
    0x23852875: "bitmaps",
    0x44415441: "data-file",
}
FIELDS = {"incompat": (72, 8), "compat": (80, 8), "autoclear": (88, 8)}


def read_cluster(path):
    with open(path, "rb") as f:
        head = f.read(24)
        cb = struct.unpack(">I", head[20:24])[0]
        if not 9 <= cb <= 21:
            raise SystemExit("cluster_bits %d out of range" % cb)
        f.seek(0)
        return f.read(1 << cb), cb


def walk_ext(buf, start):
    exts = []
    off = start
    while off + 8 <= len(buf):
        t, ln = struct.unpack(">II", buf[off:off + 8])
        if t == 0:
            exts.append((off, t, ln, b""))
            return exts, off + 8
        data = buf[off + 8:off + 8 + ln]
        exts.append((off, t, ln, data))
        off += 8 + ((ln + 7) & ~7)
    return exts, None


def dump(path):
    buf, cb = read_cluster(path)
    v = struct.unpack(">I", buf[4:8])[0]
    bo, bs = struct.unpack(">QI", buf[8:20])
    print("version=%d cluster_bits=%d backing_offset=%d backing_size=%d"
          % (v, cb, bo, bs))
    hl = 72
    if v >= 3:
        inc, com, ac, ro, hl = struct.unpack(">QQQII", buf[72:104])
        ct = buf[104] if hl > 104 else None
        print("incompat=%#x compat=%#x autoclear=%#x refcount_order=%d "
              "header_length=%d compression_type=%s" % (inc, com, ac, ro, hl, ct))
    exts, end = walk_ext(buf, hl)
    for off, t, ln, data in exts:
        name = EXT_NAMES.get(t, "end" if t == 0 else "unknown")
        extra = ""
        if t == 0x6803f857:
            ents = []
            for i in range(0, ln, 48):
                e = data[i:i + 48]
                ents.append("%d/%d:%s" % (e[0], e[1],
                            e[2:].rstrip(b"\0").decode("ascii", "replace")))
            extra = " [" + ", ".join(ents) + "]"
        elif t == 0xe2792aca:
            extra = " " + repr(data.decode("ascii", "replace"))
        elif t != 0:
            extra = " " + data[:32].hex()
        print("ext @%d type=%#010x(%s) len=%d%s" % (off, t, name, ln, extra))
    print("ext_end=%s" % end)
    if bo:
        print("backing name @%d %r" % (bo, buf[bo:bo + bs].decode("ascii", "replace")))
    last = max(i for i in range(len(buf)) if buf[i]) if any(buf) else -1
    print("last_nonzero_byte=%d" % last)


def setfield(path, field, value):
    if field in FIELDS:
        off, size = FIELDS[field]
    else:
        off, size = (int(x, 0) for x in field.split(":"))
    val = int(value, 0)
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(val.to_bytes(size, "big"))


def addext(path, etype, hexdata):
    buf, cb = read_cluster(path)
    v = struct.unpack(">I", buf[4:8])[0]
    hl = struct.unpack(">I", buf[100:104])[0] if v >= 3 else 72
    exts, end = walk_ext(buf, hl)
    if end is None:
        raise SystemExit("no end marker")
    data = bytes.fromhex(hexdata)
    rec = struct.pack(">II", int(etype, 0), len(data)) + data
    rec += b"\0" * ((8 - len(rec) % 8) % 8)
    pos = end - 8
    bo, bs = struct.unpack(">QI", buf[8:20])
    name = buf[bo:bo + bs] if bo else b""
    tail = rec + b"\0" * 8
    newend = pos + len(tail)
    if newend + len(name) > len(buf):
        raise SystemExit("extension does not fit")
    with open(path, "r+b") as f:
        f.seek(pos)
        f.write(tail + name)
        if bo:
            f.seek(8)
            f.write(struct.pack(">Q", newend))


def setbacking(path, name, at=None):
    buf, cb = read_cluster(path)
    v = struct.unpack(">I", buf[4:8])[0]
    hl = struct.unpack(">I", buf[100:104])[0] if v >= 3 else 72
    exts, end = walk_ext(buf, hl)
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
        f.seek(end)
        f.write(data)
        f.seek(8)
        f.write(struct.pack(">QI", end, len(data)))


def rebuild(path, hl_new, drops):
    buf, cb = read_cluster(path)
    v = struct.unpack(">I", buf[4:8])[0]
    if v != 3:
        raise SystemExit("rebuild needs a v3 image")
    hl = struct.unpack(">I", buf[100:104])[0]
    exts, end = walk_ext(buf, hl)
    if end is None:
        raise SystemExit("no end marker")
    bo, bs = struct.unpack(">QI", buf[8:20])
    name = buf[bo:bo + bs] if bo else b""
    out = bytearray(buf[:104])
    if hl_new >= 112:
        out += buf[104:112] if hl >= 112 else b"\0" * 8
    if hl_new > 112:
        # Unknown trailing header fields (a future qcow2 version's).
        out += bytes(0xee for _ in range(hl_new - 112))
    out[100:104] = struct.pack(">I", hl_new)
    for off, t, ln, data in exts:
        if t == 0 or t in drops:
            continue
        rec = struct.pack(">II", t, ln) + data
        out += rec + b"\0" * ((8 - len(rec) % 8) % 8)
    out += b"\0" * 8
    if bo:
        out[8:16] = struct.pack(">Q", len(out))
        out += name
    oldend = max(end, bo + bs)
    out += b"\0" * max(0, oldend - len(out))
    with open(path, "r+b") as f:
        f.write(out)


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    cmd = argv[1]
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


if __name__ == "__main__":
    main(sys.argv)
