#!/usr/bin/env python3
"""guest_abi_test.py — the ABI reader reads abi/guest_abi.h as it is,
and the tools built on it cannot drift from it unseen.

  guest_abi_test.py [GUEST_ABI_H [AMEND_STATUS_H]]

check() reads the header it is pointed at (default: abi/guest_abi.h and
src/amend/amend_status.h) and holds it to PINS: the layout of the ABI's
structs, member by member, as of each GUEST_ABI_VERSION that changed
it. A member added, removed, renamed, retyped or moved fails it until
GUEST_ABI_VERSION is bumped and the new layout pinned here (then
regenerate the validate seeds: fuzz/make_corpus.sh). It also packs the
result record fuzz/gen_seeds.py packs, by name.

The self-check runs check() on mutated copies of the real headers: a
member added, a member renamed, a layout change with a version bump
but no pin, a status renamed, and shapes the reader must refuse rather
than guess (AbiHeaderError). Each must fail; the unmodified copies and
a bare version bump must pass.

Trust: test code.
"""
import os
import re
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest_abi  # noqa: E402

# {GUEST_ABI_VERSION: {struct: ((ctype, name, offset), ...)}}: the layout
# from that version on (the newest pin at or below the header's version
# applies).
PINS = {
    4: {
        "guest_request": (
            ("uint32_t", "command", 0), ("uint32_t", "arg[3]", 4),
        ),
        "guest_params": (
            ("uint32_t", "magic", 0), ("uint32_t", "abi_version", 4),
            ("uint32_t", "cluster_size", 8), ("uint32_t", "header_loaded", 12),
            ("uint64_t", "disk_bytes", 16), ("uint64_t", "scratch_gpa", 24),
            ("uint64_t", "scratch_bytes", 32),
            ("struct guest_request", "request", 40),
        ),
        "guest_result": (
            ("uint32_t", "magic", 0), ("uint32_t", "abi_version", 4),
            ("uint32_t", "status", 8), ("uint32_t", "action", 12),
            ("uint32_t", "result_version", 16), ("uint32_t", "result_lazy", 20),
            ("uint32_t", "n_patches", 24), ("uint32_t", "patch_bytes", 28),
            ("uint32_t", "sectors_written", 32), ("uint32_t", "io_error", 36),
        ),
    },
    # 5: the report region of the inspection programs (info, check).
    5: {
        "guest_request": (
            ("uint32_t", "command", 0), ("uint32_t", "arg[3]", 4),
        ),
        "guest_params": (
            ("uint32_t", "magic", 0), ("uint32_t", "abi_version", 4),
            ("uint32_t", "cluster_size", 8), ("uint32_t", "header_loaded", 12),
            ("uint64_t", "disk_bytes", 16), ("uint64_t", "scratch_gpa", 24),
            ("uint64_t", "scratch_bytes", 32), ("uint64_t", "report_gpa", 40),
            ("uint64_t", "report_bytes", 48),
            ("struct guest_request", "request", 56),
        ),
        "guest_result": (
            ("uint32_t", "magic", 0), ("uint32_t", "abi_version", 4),
            ("uint32_t", "status", 8), ("uint32_t", "action", 12),
            ("uint32_t", "result_version", 16), ("uint32_t", "result_lazy", 20),
            ("uint32_t", "n_patches", 24), ("uint32_t", "patch_bytes", 28),
            ("uint32_t", "sectors_written", 32), ("uint32_t", "io_error", 36),
            ("uint32_t", "report_len", 40), ("uint32_t", "progress", 44),
        ),
    },
}


class CheckFailed(Exception):
    pass


def layout(st):
    return tuple((m.ctype, m.name if m.count is None else "%s[%d]" % (m.name, m.count),
                  m.offset) for m in st.members)


def check(abi_h=None, status_h=None):
    """Raise (CheckFailed or guest_abi.AbiHeaderError) unless the headers
    read and match the pinned layout."""
    abi = guest_abi.load(abi_h)
    status = guest_abi.load_status(status_h)
    v = abi.GUEST_ABI_VERSION
    pinned = [p for p in PINS if p <= v]
    if not pinned:
        raise CheckFailed("GUEST_ABI_VERSION %d is older than every pin" % v)
    pv = max(pinned)
    pin = PINS[pv]
    for name, want in pin.items():
        got = layout(abi.structs[name]) if name in abi.structs else ()
        if got != want:
            todo = ("pin version %d's layout" % v if v > pv else
                    "bump GUEST_ABI_VERSION and pin the new layout")
            raise CheckFailed(
                "struct %s of version %d differs from the pin of version %d "
                "(now %s, pinned %s): %s" % (
                    name, v, pv, sorted(set(got) - set(want)),
                    sorted(set(want) - set(got)), todo))
    extra = set(abi.structs) - set(pin)
    if extra:
        raise CheckFailed("structs not pinned: %s" % ", ".join(sorted(extra)))
    # The record fuzz/gen_seeds.py builds, by name: every member named.
    rec = abi.pack("guest_result", magic=abi.GUEST_ABI_MAGIC,
                   abi_version=v, status=status["AMEND_CHANGED"],
                   action=abi.GUEST_ACTION_AMENDED, result_version=3,
                   result_lazy=1, n_patches=1, patch_bytes=8,
                   sectors_written=1, io_error=0, report_len=0, progress=0)
    back = abi.unpack("guest_result", rec)
    if back["abi_version"] != v or rec[:4] != abi.GUEST_ABI_MAGIC.to_bytes(4, "little"):
        raise CheckFailed("record does not round-trip: %r" % back)
    res = abi.structs["guest_result"]
    io_at = res.member("io_error").offset
    if abi.pack("guest_result", io_error=1, rest=0) != \
            bytes(io_at) + (1).to_bytes(4, "little") + bytes(res.size - io_at - 4):
        raise CheckFailed("partial record wrong")
    return abi, status


HEADER = guest_abi.GUEST_ABI_H
STATUS = guest_abi.AMEND_STATUS_H


def sub(text, old, new):
    """text with the first `old` replaced (which must be there)."""
    if old not in text:
        raise AssertionError("mutation anchor %r not in the header" % old)
    return text.replace(old, new, 1)


def resub(pattern, repl, text):
    out, n = re.subn(pattern, repl, text, count=1)
    if not n:
        raise AssertionError("mutation pattern %r not in the header" % pattern)
    return out


def in_struct(name, f):
    """A mutation applying f to the definition of struct `name`."""
    def mutate(text):
        m = re.search(r"struct %s \{.*?\n\};" % name, text, re.S)
        if not m:
            raise AssertionError("no struct %s in the header" % name)
        return text[:m.start()] + f(m.group(0)) + text[m.end():]
    return mutate


def in_result(f):
    return in_struct("guest_result", f)


def bump(text):
    return resub(r"(#define GUEST_ABI_VERSION\s+GUEST_U\()(\d+)\)",
                 lambda m: "%s%d)" % (m.group(1), int(m.group(2)) + 1), text)


def io_error_as(decl):
    return in_result(lambda b: sub(b, "uint32_t io_error;", decl))


ADD = in_result(lambda b: sub(b, "\n};", "\n\tuint32_t spare;\n};"))
RENAME = io_error_as("uint32_t io_errno;")
AFTER_RESULT = in_result(lambda b: b + "\n%s")

# name -> mutation of abi/guest_abi.h that check() must fail on.
ABI_MUTANTS = {
    "member_added": ADD,
    "member_renamed": RENAME,
    "member_retyped": in_result(lambda b: sub(b, "uint32_t n_patches;",
                                              "uint64_t n_patches;")),
    "members_swapped": in_result(lambda b: sub(
        sub(b, "uint32_t n_patches;", "uint32_t @P;"),
        "uint32_t patch_bytes;", "uint32_t n_patches;").replace("@P", "patch_bytes")),
    "member_added_version_bumped": lambda t: bump(ADD(t)),
    "params_member_added": in_struct("guest_params", lambda b: sub(
        b, "\n};", "\n\tuint64_t more;\n};")),
    "request_array_grown": in_struct("guest_request", lambda b: resub(
        r"arg\[(\d+)\]", lambda m: "arg[%d]" % (int(m.group(1)) + 1), b)),
    "struct_added": lambda t: AFTER_RESULT(t).replace(
        "%s", "struct guest_extra {\n\tuint32_t x;\n};", 1),
    # Shapes the reader must refuse, not guess at.
    "two_declarators": io_error_as("uint32_t io_error, more;"),
    "bitfield": io_error_as("uint32_t io_error : 1;"),
    "plain_int": io_error_as("int io_error;"),
    "pointer": io_error_as("uint32_t *io_error;"),
    "union": lambda t: sub(t, "struct guest_request {", "union guest_request {"),
    "typedef": lambda t: AFTER_RESULT(t).replace("%s", "typedef uint32_t guest_word;", 1),
    "expression_value": lambda t: resub(r"(#define GUEST_ABI_VERSION\s+)(GUEST_U\(\d+\))",
                                        r"\1(\2 + 0)", t),
    "unknown_wrapper": lambda t: resub(r"(#define GUEST_ABI_VERSION\s+)GUEST_U\(",
                                       r"\1GUEST_X(", t),
    "wrapper_changed": lambda t: sub(t, "#define GUEST_U(x) x##U", "#define GUEST_U(x) (x)"),
    "if_directive": lambda t: sub(t, "#ifndef __ASSEMBLER__", "#if !defined(__ASSEMBLER__)"),
    "other_include": lambda t: sub(t, "#include <stdint.h>", "#include <stddef.h>"),
    "redefined": lambda t: sub(t, "#define GUEST_VQ_SIZE",
                               "#define GUEST_ABI_MAGIC GUEST_U(1)\n#define GUEST_VQ_SIZE"),
    "magic_gone": lambda t: resub(r"#define GUEST_ABI_MAGIC[^\n]*\n", "", t),
    "unterminated_comment": lambda t: t + "\n/* no end",
}
# Mutations check() must pass: the reader reads the header, not a copy
# of it, and the pin is of the layout, not of the text.
ABI_HARMLESS = {
    "unchanged": lambda t: t,
    "version_bumped": bump,
    "comments_and_spacing": io_error_as("uint32_t   io_error ; // spaced\n\t/* more */"),
}
STATUS_MUTANTS = {
    "status_renamed": lambda t: sub(t, "AMEND_CHANGED = 0", "AMEND_PATCHED = 0"),
    "status_expression": lambda t: sub(t, "AMEND_CHANGED = 0", "AMEND_CHANGED = 1 - 1"),
    "second_enum": lambda t: sub(t, "#endif", "enum more { M };\n#endif"),
}


class GuestAbiTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def copy(self, src, f, name):
        with open(src) as fh:
            text = f(fh.read())
        path = os.path.join(self.tmp, name)
        with open(path, "w") as fh:
            fh.write(text)
        return path

    def test_header_as_pinned(self):
        abi, status = check(HEADER, STATUS)
        self.assertEqual(abi.structs["guest_result"].size,
                         sum(m.size for m in abi.structs["guest_result"].members))
        self.assertIn("GUEST_CMD_AMEND", abi.defines)
        self.assertEqual(status["AMEND_CHANGED"], 0)
        self.assertEqual(len(set(status.values())), len(status))

    def test_mutants_fail(self):
        for name, f in ABI_MUTANTS.items():
            with self.subTest(mutant=name):
                path = self.copy(HEADER, f, name + ".h")
                with self.assertRaises((CheckFailed, guest_abi.AbiHeaderError, KeyError),
                                       msg=name):
                    check(path, STATUS)
        for name, f in STATUS_MUTANTS.items():
            with self.subTest(mutant=name):
                path = self.copy(STATUS, f, name + ".h")
                with self.assertRaises((CheckFailed, guest_abi.AbiHeaderError, KeyError),
                                       msg=name):
                    check(HEADER, path)

    def test_harmless_pass(self):
        for name, f in ABI_HARMLESS.items():
            with self.subTest(mutant=name):
                check(self.copy(HEADER, f, name + ".h"), STATUS)

    def test_pack_is_strict(self):
        abi = guest_abi.load(HEADER)
        with self.assertRaises(KeyError):        # a member missing
            abi.pack("guest_result", magic=1)
        with self.assertRaises(KeyError):        # no such member
            abi.pack("guest_result", rest=0, no_such=1)
        with self.assertRaises(ValueError):      # does not fit
            abi.pack("guest_result", rest=0, status=1 << 32)
        with self.assertRaises(ValueError):      # array of the wrong length
            abi.pack("guest_request", command=1, arg=[1, 2])


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) > 2 or any(a.startswith("-") for a in args):
        raise SystemExit(__doc__)
    if args:
        HEADER = os.path.abspath(args[0])
    if len(args) > 1:
        STATUS = os.path.abspath(args[1])
    unittest.main(argv=sys.argv[:1], verbosity=2)
