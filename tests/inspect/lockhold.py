#!/usr/bin/env python3
"""lockhold.py — hold shared locks on bytes of a file, as a second QEMU would.

Usage: lockhold.py [--ofd | --posix] FILE BYTES [CMD [ARG...]]

QEMU takes its image locks as shared (read) locks on single bytes of the
file: byte 100 + bit when it holds a permission, 200 + bit when it does
not share it (bit 0 consistent read, 1 write, 2 write unchanged,
3 resize). lockhold.py opens FILE read-only and takes a shared lock of
one byte at each offset of BYTES (comma-separated: "101" or "101,103"),
so that qemu-img or instar run meanwhile meet the locks another user of
the image would hold, without a second QEMU process:

  --ofd    (default) open file description locks (F_OFD_SETLK), as the
           `qemu-img info` research capture held them (runs.txt token
           ofdlock=BYTES);
  --posix  POSIX record locks (F_SETLK), owned by this process, as the
           `qemu-img check` research capture held them (runs.txt token
           posixlock=BYTES).

Either kind conflicts with an exclusive lock anyone else asks for on
those bytes, and shows up in F_OFD_GETLK / F_GETLK from another open of
the file. With CMD, lockhold.py runs it (without the locked descriptor)
while holding the locks and exits with its status (128 + N if signal N
ended it). Without CMD it prints "locked" on stdout once the locks are
held, then waits until SIGTERM, SIGINT or SIGHUP (end it by its pid)
and exits 0.

Exit status of its own: 2 wrong usage, 125 a lock could not be taken
(someone holds a conflicting one) or FILE cannot be opened, 126/127 CMD
cannot be run / is not found.

Trust: test code; locks only the file it is given, changes nothing in
it. Linux only (struct flock as laid out on 64-bit Linux).
"""
import fcntl
import os
import signal
import struct
import subprocess
import sys

F_OFD_SETLK = getattr(fcntl, "F_OFD_SETLK", 37)


def usage():
    sys.stderr.write("usage: lockhold.py [--ofd | --posix] FILE BYTES "
                     "[CMD [ARG...]]\n")
    sys.exit(2)


def parse(argv):
    kind = "ofd"
    if argv and argv[0] in ("--ofd", "--posix"):
        kind = argv[0][2:]
        argv = argv[1:]
    if len(argv) < 2:
        usage()
    try:
        offsets = [int(b) for b in argv[1].split(",")]
    except ValueError:
        usage()
    if any(b < 0 for b in offsets):
        usage()
    return kind, argv[0], offsets, argv[2:]


def lock(fd, kind, offset):
    """A shared lock on the byte at offset."""
    if kind == "posix":
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB, 1, offset, os.SEEK_SET)
    else:
        # struct flock: l_type, l_whence, l_start, l_len, l_pid (0 for OFD)
        fl = struct.pack("hhqqi4x", fcntl.F_RDLCK, os.SEEK_SET, offset, 1, 0)
        fcntl.fcntl(fd, F_OFD_SETLK, fl)


def main(argv):
    kind, path, offsets, cmd = parse(argv)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        for b in offsets:
            lock(fd, kind, b)
    except OSError as e:
        sys.stderr.write("lockhold: %s: %s\n" % (path, e.strerror))
        return 125
    if cmd:
        try:
            rc = subprocess.call(cmd)
        except FileNotFoundError:
            sys.stderr.write("lockhold: %s: not found\n" % cmd[0])
            return 127
        except OSError as e:
            sys.stderr.write("lockhold: %s: %s\n" % (cmd[0], e.strerror))
            return 126
        return 128 - rc if rc < 0 else rc
    # blocked before "locked" is printed: none can slip by unseen
    sigs = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
    signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    sys.stdout.write("locked\n")
    sys.stdout.flush()
    signal.sigwait(sigs)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
