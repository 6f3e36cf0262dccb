#!/usr/bin/env python3
"""naive_amend.py — a deliberately WRONG amend tool (test-only mutant).

  naive_amend.py -o KEY=VAL[,...] [-o ...] FILE

It patches only the fields a naive reading of the task suggests: the
version word, and for v3 the lazy_refcounts bit; on an upgrade it writes a
bare 104-byte v3 header over whatever follows byte 72 (header extensions
included) and never refuses anything. The differential suite must catch
it; tests/differential/mutant_test.sh proves that it does.
"""
import struct
import sys


def main(argv):
    compat = lazy = None
    args = argv[1:]
    path = None
    while args:
        a = args.pop(0)
        if a == "-o":
            for piece in args.pop(0).split(","):
                k, v = piece.split("=", 1)
                if k == "compat":
                    compat = {"0.10": 2, "1.1": 3}[v]
                elif k == "lazy_refcounts":
                    lazy = v in ("on", "true", "yes")
        else:
            path = a
    with open(path, "r+b") as f:
        hdr = bytearray(f.read(112))
        ver = struct.unpack(">I", hdr[4:8])[0]
        if compat == 3 and ver == 2:
            hdr[4:8] = struct.pack(">I", 3)
            hdr[72:104] = struct.pack(">QQQII", 0, 0, 0, 4, 104)
            ver = 3
        elif compat == 2 and ver == 3:
            hdr[4:8] = struct.pack(">I", 2)
            ver = 2
        if lazy is not None and ver == 3:
            c = struct.unpack(">Q", hdr[80:88])[0]
            c = (c | 1) if lazy else (c & ~1)
            hdr[80:88] = struct.pack(">Q", c)
        f.seek(0)
        f.write(hdr[:104] if ver == 3 else hdr[:72])
    print("changed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
