"""guest_abi.py — the guest ABI as abi/guest_abi.h itself says it.

Test-only. Reads the C text of abi/guest_abi.h (and of
src/amend/amend_status.h, for the status codes a result record carries)
so that test tools take the result-record layout and the constants from
the header instead of restating them:

  abi = guest_abi.load()
  abi.GUEST_ABI_VERSION                  # any #define of the header
  abi.structs["guest_result"].names      # field names, in order
  abi.pack("guest_result", magic=abi.GUEST_ABI_MAGIC, ...)
  guest_abi.load_status()["AMEND_CHANGED"]

The reader understands exactly the shape these headers have, and raises
AbiHeaderError for anything else rather than guess: object-like
#defines of an integer literal (bare, or wrapped in the header's
GUEST_U()/GUEST_ULL() suffix macros, whose C definitions it checks);
#ifndef/#ifdef/#else/#endif (read as the C compiler sees them:
__ASSEMBLER__ undefined); #include <stdint.h>; `struct NAME { ... };`
of uint8_t..uint64_t and earlier structs, arrays of them included; and
`enum NAME { A = 0, B, ... };`. Layout: x86-64 (host and guest alike),
natural alignment, little-endian.

Trust: test code; the headers are the project's own.
"""
import os
import re
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
# As the source tree and the runfiles of //tests/tools:guest_abi lay them out.
GUEST_ABI_H = os.path.join(ROOT, "abi", "guest_abi.h")
AMEND_STATUS_H = os.path.join(ROOT, "src", "amend", "amend_status.h")

# The fixed-width types a struct member may have: (size = alignment,
# struct code, little-endian).
C_TYPES = {"uint8_t": 1, "uint16_t": 2, "uint32_t": 4, "uint64_t": 8}
_CODES = {1: "B", 2: "H", 4: "I", 8: "Q"}
# C suffix each value-wrapping macro must paste on (GUEST_U(x) -> xU).
WRAPPER_SUFFIXES = ("U", "ULL")


class AbiHeaderError(Exception):
    """The header is not of a shape this reader understands."""


class Member:
    """One member of a struct: a fixed-width integer or an earlier
    struct, or an array of either."""

    def __init__(self, name, ctype, offset, elem_size, align, count, sub):
        self.name = name
        self.ctype = ctype          # "uint32_t" or "struct NAME"
        self.offset = offset
        self.elem_size = elem_size
        self.align = align
        self.count = count          # None: not an array
        self.sub = sub              # the Struct of a struct member

    @property
    def size(self):
        return self.elem_size * (1 if self.count is None else self.count)

    def __repr__(self):
        arr = "" if self.count is None else "[%d]" % self.count
        return "%s %s%s @%d" % (self.ctype, self.name, arr, self.offset)


class Struct:
    """A struct's layout: members at their offsets, size, alignment."""

    def __init__(self, name, members, size, align):
        self.name = name
        self.members = members
        self.size = size
        self.align = align

    @property
    def names(self):
        return [m.name for m in self.members]

    def member(self, name):
        for m in self.members:
            if m.name == name:
                return m
        raise KeyError("struct %s has no member %r" % (self.name, name))

    def pack(self, values=None, rest=None, **kw):
        """The struct's bytes. Every member must be named (in `values` or
        as keywords), unless `rest` is given: members not named then hold
        it. Arrays take a sequence of their length, struct members a
        dict. Padding is zero."""
        vals = dict(values or {})
        vals.update(kw)
        unknown = set(vals) - set(self.names)
        if unknown:
            raise KeyError("struct %s has no member %s"
                           % (self.name, ", ".join(sorted(unknown))))
        out = bytearray(self.size)
        for m in self.members:
            if m.name in vals:
                v = vals[m.name]
            elif rest is not None:
                v = None
            else:
                raise KeyError("struct %s: member %r not given"
                               % (self.name, m.name))
            if m.count is None:
                elems = [v]
            elif v is None:
                elems = [None] * m.count
            elif isinstance(v, (int, dict)) or len(v) != m.count:
                raise ValueError("%s.%s: give %d elements"
                                 % (self.name, m.name, m.count))
            else:
                elems = list(v)
            for i, e in enumerate(elems):
                at = m.offset + i * m.elem_size
                if m.sub is not None:
                    if e is not None and not isinstance(e, dict):
                        raise ValueError("%s.%s: give a dict of struct %s"
                                         % (self.name, m.name, m.sub.name))
                    data = m.sub.pack(e or {}, rest=rest)
                else:
                    e = rest if e is None else e
                    if not isinstance(e, int) or not 0 <= e < 1 << (8 * m.elem_size):
                        raise ValueError("%s.%s: %r does not fit %s"
                                         % (self.name, m.name, e, m.ctype))
                    data = struct.pack("<" + _CODES[m.elem_size], e)
                out[at:at + len(data)] = data
        return bytes(out)

    def unpack(self, data):
        """The members of `data` (exactly the struct's size) as a dict."""
        if len(data) != self.size:
            raise ValueError("struct %s is %d bytes, not %d"
                             % (self.name, self.size, len(data)))
        out = {}
        for m in self.members:
            elems = []
            for i in range(1 if m.count is None else m.count):
                at = m.offset + i * m.elem_size
                b = data[at:at + m.elem_size]
                elems.append(m.sub.unpack(b) if m.sub is not None else
                             struct.unpack("<" + _CODES[m.elem_size], b)[0])
            out[m.name] = elems[0] if m.count is None else elems
        return out


class Header:
    """What one header defines: integer constants, structs, enums."""

    def __init__(self, path):
        self.path = path
        self.defines = {}           # name -> int, in the header's order
        self.structs = {}           # name -> Struct
        self.enums = {}             # name -> {enumerator: value}

    def __getattr__(self, name):
        d = self.__dict__.get("defines", {})
        if name in d:
            return d[name]
        raise AttributeError("%s defines no %s" % (self.__dict__.get("path"), name))

    def pack(self, struct_name, values=None, rest=None, **kw):
        return self.structs[struct_name].pack(values, rest=rest, **kw)

    def unpack(self, struct_name, data):
        return self.structs[struct_name].unpack(data)


def _fail(path, line, why):
    raise AbiHeaderError("%s:%s: %s" % (path, line, why))


def _strip_comments(path, text):
    """The text with comments blanked (newlines kept, for line numbers)."""
    out = []
    i = 0
    n = len(text)
    while i < n:
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                _fail(path, text.count("\n", 0, i) + 1, "unterminated comment")
            out.append(" " + "\n" * text.count("\n", i, j))
            i = j + 2
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text[i] in "\"'":
            _fail(path, text.count("\n", 0, i) + 1,
                  "string or character literal (not understood)")
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


_INT = r"(?:0[xX][0-9a-fA-F]+|[1-9][0-9]*|0)"
_IDENT = r"[A-Za-z_]\w*"


def _literal(s):
    return int(s, 0)


def _preprocess(path, text, hdr):
    """Run the header's directives as the C compiler would (C, not
    assembler); return the active C text as (line, text) pairs."""
    text = _strip_comments(path, text)
    lines = text.split("\n")
    # Line continuations: join, keeping the first line's number.
    joined = []
    i = 0
    while i < len(lines):
        no, cur = i + 1, lines[i]
        while cur.endswith("\\"):
            i += 1
            if i == len(lines):
                _fail(path, no, "continuation at the end of the file")
            cur = cur[:-1] + " " + lines[i]
        joined.append((no, cur))
        i += 1

    wrappers = {}                   # macro name -> C suffix
    defined = set()
    stack = []                      # (active, ifndef-name or None, else-seen)
    c_text = []

    def active():
        return all(a for a, _, _ in stack)

    for no, line in joined:
        s = line.strip()
        if not s.startswith("#"):
            if active() and s:
                c_text.append((no, line))
            continue
        d = s[1:].strip()
        m = re.match(r"(\w+)\s*(.*)$", d)
        if not m:
            _fail(path, no, "directive not understood: %r" % s)
        word, arg = m.group(1), m.group(2).strip()
        if word in ("ifdef", "ifndef"):
            if not re.fullmatch(_IDENT, arg):
                _fail(path, no, "#%s of %r not understood" % (word, arg))
            cond = (arg in defined) == (word == "ifdef")
            stack.append((cond, arg if word == "ifndef" else None, False))
        elif word == "else":
            if not stack or stack[-1][2] or arg:
                _fail(path, no, "#else not understood")
            a, _, _ = stack.pop()
            stack.append((not a, None, True))
        elif word == "endif":
            if not stack or arg:
                _fail(path, no, "#endif not understood")
            stack.pop()
        elif word == "include":
            if active() and arg != "<stdint.h>":
                _fail(path, no, "#include %s: only <stdint.h> is understood" % arg)
        elif word == "define":
            if not active():
                continue
            fm = re.fullmatch(r"(%s)\((%s)\)\s*(.*)" % (_IDENT, _IDENT), arg)
            if fm:
                name, param, body = fm.groups()
                bm = re.fullmatch(r"(%s)\s*##\s*(\w+)" % _IDENT, body)
                if not bm or bm.group(1) != param or bm.group(2) not in WRAPPER_SUFFIXES:
                    _fail(path, no, "function-like macro %s not understood "
                          "(only x##U / x##ULL wrappers are)" % name)
                if name in defined:
                    _fail(path, no, "%s defined twice" % name)
                wrappers[name] = bm.group(2)
                defined.add(name)
                continue
            om = re.fullmatch(r"(%s)(?:\s+(.*))?" % _IDENT, arg)
            if not om:
                _fail(path, no, "#define not understood: %r" % s)
            name, body = om.group(1), (om.group(2) or "").strip()
            if name in defined:
                _fail(path, no, "%s defined twice" % name)
            defined.add(name)
            if not body:
                # Only the include guard may be empty: the #ifndef it is in.
                if not stack or stack[-1][1] != name:
                    _fail(path, no, "empty #define %s (not the include guard)" % name)
                continue
            vm = re.fullmatch(r"(%s)\s*\(\s*(%s)\s*\)" % (_IDENT, _INT), body)
            if vm and vm.group(1) in wrappers:
                hdr.defines[name] = _literal(vm.group(2))
            elif re.fullmatch(_INT, body):
                hdr.defines[name] = _literal(body)
            else:
                _fail(path, no, "value of %s not understood: %r" % (name, body))
        else:
            _fail(path, no, "directive #%s not understood" % word)
    if stack:
        _fail(path, len(lines), "unterminated #if")
    return c_text


_TOKEN = re.compile(r"\s*(?:(%s)|(%s)|([{}\[\];,=]))" % (_IDENT, _INT))


def _tokens(path, c_text):
    toks = []
    for no, line in c_text:
        pos = 0
        while pos < len(line):
            if not line[pos:].strip():
                break
            m = _TOKEN.match(line, pos)
            if not m:
                _fail(path, no, "C text not understood: %r" % line[pos:].strip())
            toks.append((no, m.group(m.lastindex)))
            pos = m.end()
    return toks


def _parse_c(path, toks, hdr):
    i = 0

    def peek():
        return toks[i][1] if i < len(toks) else None

    def take(expect=None, what=None):
        nonlocal i
        if i >= len(toks):
            _fail(path, "EOF", "expected %s" % (expect or what))
        no, t = toks[i]
        if expect is not None and t != expect:
            _fail(path, no, "expected %r, found %r" % (expect, t))
        if what == "name" and not re.fullmatch(_IDENT, t):
            _fail(path, no, "expected a name, found %r" % t)
        if what == "int":
            if re.fullmatch(_INT, t):
                i += 1
                return _literal(t)
            if t in hdr.defines:
                i += 1
                return hdr.defines[t]
            _fail(path, no, "expected an integer, found %r" % t)
        i += 1
        return t

    def line():
        return toks[i][0] if i < len(toks) else "EOF"

    while i < len(toks):
        no = line()
        kind = take()
        if kind not in ("struct", "enum"):
            _fail(path, no, "only struct and enum definitions are understood, "
                  "found %r" % kind)
        tag = take(what="name")
        take("{")
        if kind == "enum":
            vals = {}
            nxt = 0
            while peek() != "}":
                ln = line()
                name = take(what="name")
                if name in vals or any(name in e for e in hdr.enums.values()):
                    _fail(path, ln, "enumerator %s twice" % name)
                if peek() == "=":
                    take("=")
                    nxt = take(what="int")
                vals[name] = nxt
                nxt += 1
                if peek() != "}":
                    take(",")
            take("}")
            take(";")
            if tag in hdr.enums:
                _fail(path, no, "enum %s twice" % tag)
            hdr.enums[tag] = vals
            continue
        members = []
        off = 0
        align = 1
        while peek() != "}":
            ln = line()
            t = take(what="name")
            sub = None
            if t == "struct":
                sname = take(what="name")
                if sname not in hdr.structs:
                    _fail(path, ln, "struct %s used before its definition" % sname)
                sub = hdr.structs[sname]
                ctype, esize, ealign = "struct " + sname, sub.size, sub.align
            elif t in C_TYPES:
                ctype, esize, ealign = t, C_TYPES[t], C_TYPES[t]
            else:
                _fail(path, ln, "member type %r not understood" % t)
            name = take(what="name")
            count = None
            if peek() == "[":
                take("[")
                count = take(what="int")
                take("]")
                if count <= 0:
                    _fail(path, ln, "array %s of %d elements" % (name, count))
            take(";")
            if name in (m.name for m in members):
                _fail(path, ln, "member %s twice" % name)
            off = (off + ealign - 1) // ealign * ealign
            members.append(Member(name, ctype, off, esize, ealign, count, sub))
            off += members[-1].size
            align = max(align, ealign)
        take("}")
        take(";")
        if not members:
            _fail(path, no, "empty struct %s" % tag)
        if tag in hdr.structs:
            _fail(path, no, "struct %s twice" % tag)
        size = (off + align - 1) // align * align
        hdr.structs[tag] = Struct(tag, members, size, align)


def read_header(path):
    """Every constant, struct and enum of the C header at `path`."""
    with open(path) as f:
        text = f.read()
    hdr = Header(path)
    _parse_c(path, _tokens(path, _preprocess(path, text, hdr)), hdr)
    return hdr


# What the result-record tools need of abi/guest_abi.h: without them the
# header is not one this reader knows how to use.
REQUIRED_DEFINES = ("GUEST_ABI_MAGIC", "GUEST_ABI_VERSION")
REQUIRED_STRUCTS = ("guest_result", "guest_params", "guest_request")


def load(path=None):
    """abi/guest_abi.h (or the copy at `path`), checked to hold the ABI's
    magic, version and structs."""
    hdr = read_header(path or GUEST_ABI_H)
    for d in REQUIRED_DEFINES:
        if d not in hdr.defines:
            raise AbiHeaderError("%s: no #define %s" % (hdr.path, d))
    for s in REQUIRED_STRUCTS:
        if s not in hdr.structs:
            raise AbiHeaderError("%s: no struct %s" % (hdr.path, s))
    if hdr.enums:
        raise AbiHeaderError("%s: enums in the ABI header (not understood)" % hdr.path)
    return hdr


def load_status(path=None):
    """enum amend_status of src/amend/amend_status.h (or of `path`):
    {name: value}."""
    hdr = read_header(path or AMEND_STATUS_H)
    if set(hdr.enums) != {"amend_status"} or hdr.structs or hdr.defines:
        raise AbiHeaderError("%s: expected exactly enum amend_status" % hdr.path)
    return dict(hdr.enums["amend_status"])
