#!/usr/bin/env python3
"""Checks that every ELF file under a folder (an unpacked .deb), and every
ELF member of every ar archive there, is of one Debian architecture, judged
by its ELF header (class, byte order, e_machine).

    check-elf.py DEBARCH FOLDER

Prints one line per ELF file; exits 1 naming each file of another
architecture, or when the folder holds no ELF file at all.
"""
import os
import struct
import sys

# Debian architecture: (ELF class, byte order, e_machine)
ARCHS = {
    "amd64": (2, "<", 62),    # ELFCLASS64, little-endian, EM_X86_64
    "arm64": (2, "<", 183),   # EM_AARCH64
    "ppc64el": (2, "<", 21),  # EM_PPC64
    "s390x": (2, ">", 22),    # EM_S390
}


def elf_arch(data):
    """(class, byte order, machine) of ELF bytes, or None when not ELF."""
    if len(data) < 20 or data[:4] != b"\x7fELF":
        return None
    order = {1: "<", 2: ">"}.get(data[5])
    if order is None:
        return (data[4], "?", -1)
    return (data[4], order, struct.unpack(order + "H", data[18:20])[0])


def ar_members(data):
    """(name, bytes) of each member of an ar archive."""
    pos = 8
    while pos + 60 <= len(data):
        hdr = data[pos:pos + 60]
        name = hdr[:16].decode("ascii", "replace").strip()
        size = int(hdr[48:58].decode("ascii").strip())
        yield name, data[pos + 60:pos + 60 + size]
        pos += 60 + size + (size & 1)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ARCHS:
        sys.exit("usage: check-elf.py {%s} FOLDER" % "|".join(ARCHS))
    want, top = ARCHS[sys.argv[1]], sys.argv[2]
    seen, bad = 0, []
    for root, _, files in os.walk(top):
        for f in sorted(files):
            path = os.path.join(root, f)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as fh:
                data = fh.read()
            items = [(os.path.relpath(path, top), data)]
            if data.startswith(b"!<arch>\n"):
                items = [("%s(%s)" % (items[0][0], n.rstrip("/")), d) for n, d in ar_members(data)]
            for name, d in items:
                got = elf_arch(d)
                if got is None:
                    continue
                seen += 1
                ok = got == want
                print("%s %s: class %d, %s, machine %d" % (
                    "ok " if ok else "BAD", name, got[0],
                    {"<": "little-endian", ">": "big-endian"}.get(got[1], "?"), got[2]))
                if not ok:
                    bad.append(name)
    if not seen:
        sys.exit("check-elf: no ELF file in %s" % top)
    if bad:
        sys.exit("check-elf: not %s: %s" % (sys.argv[1], " ".join(bad)))


if __name__ == "__main__":
    main()
