#!/usr/bin/env python3
"""Writes the seed corpus of the image fuzzer (tests/fuzz/fuzz-image.c).

Run by hand from the project root when image types or protos change; the
output, tests/fuzz/corpus/, is committed:

    python3 tests/fuzz/make-corpus.py

Each seed is one selector byte and the bytes of an image file, the input
format fuzz-image.c reads: the selector is the image type's index in enum
img_type (the file is read and shown as that type), or 0xff (shown as a file
of unknown type, recognised by its magic).  Seeds are:

  - every upstream fixture in tests/fixtures/upstream-images/, cut to
    64 KiB, under its own type, and a few again under 0xff;
  - the images of upstream's dump of mem-anon-shared
    (tests/fixtures/upstream-dumps) that those lack: memfd, shmem pagemap,
    ids with namespaces, inventory, files with a memfd, timens;
  - for every image type with entries, one image whose entry has only its
    required fields and one with two entries that have every field set
    (repeated ones with one element), payloads included, built from
    proto/*.proto and core/image-desc.c by a small proto2 encoder below (no
    protobuf package needed);
  - a small file for every raw type;
  - files.img with an eventfd, an epoll and its targets, a signalfd and a
    timerfd; another with an inotify, a fanotify and pidfds;
  - a cgroup image nested deeper than the reader allows.
"""
import os
import re
import struct
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(TOP, "tests", "fuzz", "corpus")
FIXTURES = os.path.join(TOP, "tests", "fixtures", "upstream-images")
DUMPS = os.path.join(TOP, "tests", "fixtures", "upstream-dumps", "dumps", "mem-anon-shared")
MAX_SEED = 64 << 10
UNKNOWN_TYPE = 0xFF

# ---- proto2 files: messages, enums, fields ---------------------------------


class Field:
    def __init__(self, label, ftype, name, number, default):
        self.label, self.type, self.name, self.number = label, ftype, name, number
        self.default = default


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def parse_protos(folder):
    """Returns ({message: [Field]}, {enum: [value numbers]}) over all files."""
    messages, enums = {}, {}
    field_re = re.compile(
        r"(required|optional|repeated)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*(\[[^\]]*\])?\s*;")
    for fname in sorted(os.listdir(folder)):
        if not fname.endswith(".proto"):
            continue
        text = strip_comments(open(os.path.join(folder, fname)).read())
        stack = []  # (kind, name) of open blocks
        pos = 0
        block_re = re.compile(r"\b(message|enum|oneof)\s+(\w+)\s*\{|\}|"
                              + field_re.pattern + r"|(\w+)\s*=\s*(-?\w+)\s*;")
        for m in block_re.finditer(text):
            if m.group(1):
                stack.append((m.group(1), m.group(2)))
                if m.group(1) == "message":
                    messages[m.group(2)] = []
                elif m.group(1) == "enum":
                    enums[m.group(2)] = []
            elif m.group(0) == "}":
                if stack:
                    stack.pop()
            elif m.group(3):
                owner = [n for k, n in stack if k == "message"]
                if owner:
                    default = None
                    if m.group(7):
                        d = re.search(r"default\s*=\s*([^\],]+)", m.group(7))
                        default = d.group(1).strip() if d else None
                    messages[owner[-1]].append(
                        Field(m.group(3), m.group(4), m.group(5), int(m.group(6)), default))
            elif m.group(8) and stack and stack[-1][0] == "enum":
                enums[stack[-1][1]].append(int(m.group(9), 0))
            pos = m.end()
    return messages, enums


# ---- encoding ---------------------------------------------------------------

VARINT_TYPES = {"int32", "int64", "uint32", "uint64", "bool", "sint32", "sint64"}


def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(number, wire):
    return varint(number << 3 | wire)


class Encoder:
    def __init__(self, messages, enums):
        self.messages, self.enums = messages, enums

    def scalar(self, f, value):
        t = f.type
        if t in ("sint32", "sint64"):
            return key(f.number, 0) + varint((value << 1) ^ (value >> 63))
        if t in VARINT_TYPES:
            return key(f.number, 0) + varint(value)
        if t in ("fixed64", "sfixed64", "double"):
            return key(f.number, 1) + struct.pack("<Q", value & (2**64 - 1))
        if t in ("fixed32", "sfixed32", "float"):
            return key(f.number, 5) + struct.pack("<I", value & (2**32 - 1))
        raise ValueError(t)

    def field_value(self, f, full, depth, overrides):
        """Encoded bytes of one occurrence of field f."""
        if f.name in overrides:
            v = overrides[f.name]
            if isinstance(v, (bytes, str)):
                data = v.encode() if isinstance(v, str) else v
                return key(f.number, 2) + varint(len(data)) + data
            return self.scalar(f, v)
        if f.type == "string":
            data = (f.name if full else "s").encode()
            return key(f.number, 2) + varint(len(data)) + data
        if f.type == "bytes":
            data = bytes(range(1, 9)) if full else b"\x01"
            return key(f.number, 2) + varint(len(data)) + data
        if f.type in self.enums:
            values = self.enums[f.type]
            return key(f.number, 0) + varint(values[-1] if full else values[0])
        if f.type in self.messages:
            data = self.message(f.type, full, depth + 1, {})
            return key(f.number, 2) + varint(len(data)) + data
        if f.type == "bool":
            return self.scalar(f, 1)
        return self.scalar(f, 7 if full else 1)

    def message(self, name, full, depth=0, overrides=None):
        """An entry with its required fields set, or every field when full."""
        overrides = overrides or {}
        out = b""
        for f in self.messages[name]:
            wanted = f.label == "required" or f.name in overrides
            # nested messages can be recursive (cgroup dirs): stop going deeper
            if full and depth < 4:
                wanted = True
            if wanted:
                out += self.field_value(f, full, depth, overrides)
        return out


# ---- image types, from core/image-desc.h and core/image-desc.c --------------


class ImgType:
    def __init__(self, index, enum):
        self.index, self.enum = index, enum
        self.name = self.fmt = self.set = self.pb = self.head_pb = None
        self.magic = 0


def parse_image_types():
    hdr = strip_comments(open(os.path.join(TOP, "core/include/image-desc.h")).read())
    body = re.search(r"enum img_type\s*\{(.*?)\}", hdr, re.S).group(1)
    names = [n for n in re.findall(r"\b(IMG_\w+)", body) if n != "IMG_TYPE_MAX"]
    types = {n: ImgType(i, n) for i, n in enumerate(names)}

    src = strip_comments(open(os.path.join(TOP, "core/image-desc.c")).read())
    defines = dict(re.findall(r"#define\s+(\w+_MAGIC)\s+(\w+)", src))

    def magic(sym):
        while sym in defines:
            sym = defines[sym]
        return int(sym.rstrip("uU"), 0)

    for t, name, fmt, mag, pb in re.findall(
            r"COMMON\(\s*(IMG_\w+),\s*\"([^\"]*)\",\s*\"([^\"]*)\",\s*(\w+),\s*(\w+)\s*\)", src):
        x = types[t]
        x.name, x.fmt, x.magic, x.set, x.pb = name, fmt, magic(mag), "COMMON", pb
    for t, name, fmt in re.findall(r"RAW\(\s*(IMG_\w+),\s*\"([^\"]*)\",\s*\"([^\"]*)\"\s*\)", src):
        x = types[t]
        x.name, x.fmt, x.set = name, fmt, "RAW"
    for t, block in re.findall(r"^\s*\[(IMG_\w+)\]\s*=\s*\{(.*?)\}", src, re.S | re.M):
        x = types[t]
        x.name = re.search(r"\.name\s*=\s*\"([^\"]*)\"", block).group(1)
        x.fmt = re.search(r"\.fmt\s*=\s*\"([^\"]*)\"", block).group(1)
        x.magic = magic(re.search(r"\.magic\s*=\s*(\w+)", block).group(1))
        x.set = re.search(r"\.set\s*=\s*IMG_SET_(\w+)", block).group(1)
        x.pb = re.search(r"\.pb\s*=\s*PB\((\w+)\)", block).group(1)
        hp = re.search(r"\.head_pb\s*=\s*PB\((\w+)\)", block)
        x.head_pb = hp.group(1) if hp else None
    missing = [t.enum for t in types.values() if not t.set]
    if missing:
        sys.exit("make-corpus: no descriptor found for " + ", ".join(missing))
    return list(types.values())


def header(t):
    words = {"COMMON": [0x54564319], "SERVICE": [0x55105940], "NONE": [], "RAW": None}[t.set]
    if words is None:
        return b""
    return struct.pack("<%dI" % (len(words) + 1), *words, t.magic)


def entry(data):
    return struct.pack("<I", len(data)) + data


def payload(n, seed=0):
    return bytes((seed + i * 31) & 0xFF for i in range(n))


def round_up(x, a):
    return (x + a - 1) // a * a


S_IFREG = 0o100000


def image_body(t, enc, full):
    """Entries (and payloads) of a synthetic image of type t."""
    m = lambda name, ov=None: enc.message(name, full, 0, ov)
    n = 2 if full else 1
    e = t.enum
    if e in ("IMG_PIPES_DATA", "IMG_FIFO_DATA"):
        return b"".join(entry(m(t.pb, {"bytes": 5 + i})) + payload(5 + i) for i in range(n))
    if e == "IMG_SK_QUEUES":
        return b"".join(entry(m(t.pb, {"length": 9})) + payload(9, i) for i in range(n))
    if e == "IMG_TCP_STREAM":
        return entry(m(t.pb, {"inq_len": 3, "outq_len": 4})) + payload(7)
    if e == "IMG_BPFMAP_DATA":
        return entry(m(t.pb, {"keys_bytes": 8, "values_bytes": 16})) + payload(24)
    if e == "IMG_IPCNS_SEM":
        return entry(m(t.pb, {"nsems": 3})) + payload(round_up(3 * 2, 8))
    if e == "IMG_IPCNS_SHM":
        # an old image with its data inline, then a current one
        return (entry(m(t.pb, {"size": 10, "in_pagemaps": 0})) + payload(12) +
                entry(m(t.pb, {"size": 4096, "in_pagemaps": 1})))
    if e == "IMG_IPCNS_MSG":
        out = entry(m(t.pb, {"qnum": 2}))
        for size in (5, 8):
            out += entry(m("ipc_msg", {"msize": size})) + payload(round_up(size, 8))
        return out
    if e == "IMG_GHOST_FILE":
        if full:  # chunked: head, then chunks each followed by len bytes
            out = entry(m(t.head_pb, {"mode": S_IFREG | 0o644, "chunks": 1}))
            for off in (0, 4096):
                out += entry(m(t.pb, {"len": 6, "off": off})) + payload(6, off)
            return out
        return entry(m(t.head_pb, {"mode": S_IFREG | 0o600})) + payload(20)
    if t.head_pb:  # pagemaps: head naming pages-1.img, then runs of pages
        out = entry(m(t.head_pb, {"pages_id": 1}))
        for i in range(n):
            out += entry(m(t.pb, {"vaddr": 0x400000 + i * 0x2000, "compat_nr_pages": 0,
                                  "nr_pages": 1, "flags": 4}))
        return out
    return b"".join(entry(m(t.pb)) for _ in range(n))


# ---- the corpus -------------------------------------------------------------


def type_of_file(types, fname):
    for t in types:
        pattern = "".join("[0-9a-f]+" if part.startswith("%") else re.escape(part)
                          for part in re.split(r"(%l*[udx])", t.fmt))
        if re.fullmatch(pattern, fname):
            return t
    return None


def main():
    messages, enums = parse_protos(os.path.join(TOP, "proto"))
    enc = Encoder(messages, enums)
    types = parse_image_types()
    seeds = {}

    def add(name, selector, data):
        seeds[name] = bytes([selector]) + data[:MAX_SEED]

    if os.path.isdir(FIXTURES):
        for fname in sorted(os.listdir(FIXTURES)):
            t = type_of_file(types, fname)
            if not t:
                continue
            data = open(os.path.join(FIXTURES, fname), "rb").read()
            add("upstream-" + fname, t.index, data)
            if t.set != "RAW" and fname.split("-")[0].split(".")[0] in (
                    "core", "pagemap", "inventory", "stats", "pstree", "pipes"):
                add("upstream-any-" + fname, UNKNOWN_TYPE, data)
    else:
        sys.exit("make-corpus: no fixtures at %s" % FIXTURES)

    # what upstream writes that sample.c's dump has not: a memfd (files.img,
    # memfd.img, its shmem pagemap), namespace ids, timens
    if os.path.isdir(DUMPS):
        for fname in sorted(os.listdir(DUMPS)):
            t = type_of_file(types, fname)
            if t and t.set != "RAW" and fname.split("-")[0].split(".")[0] in (
                    "memfd", "pagemap", "ids", "files", "inventory", "timens"):
                add("upstream-shared-" + fname, t.index,
                    open(os.path.join(DUMPS, fname), "rb").read())

    for t in types:
        slug = t.enum[4:].lower().replace("_", "-")
        if t.set == "RAW":
            add("raw-" + slug, t.index, payload(100 if t.enum != "IMG_PAGES" else 8192))
            continue
        for full in (False, True):
            data = header(t) + image_body(t, enc, full)
            add("%s-%s" % ("full" if full else "req", slug), t.index, data)
        if t.enum in ("IMG_IPCNS_MSG", "IMG_GHOST_FILE", "IMG_PAGEMAP", "IMG_CPUINFO",
                      "IMG_TCP_STREAM", "IMG_CORE"):
            add("any-full-" + slug, UNKNOWN_TYPE, header(t) + image_body(t, enc, True))

    # files.img as a dump of the anon-inode kinds writes it: an eventfd, an
    # epoll with three targets (one held at another number: tfd_now), a
    # signalfd and a timerfd
    files = next(t for t in types if t.enum == "IMG_FILES")

    def ld(number, data):
        return key(number, 2) + varint(len(data)) + data

    def vi(number, value):
        return key(number, 0) + varint(value)

    fown = enc.message("fown_entry", False)
    targets = b"".join(ld(4, vi(1, 2) + vi(2, fd) + vi(3, 0x19) + vi(4, data) + vi(5, 0x10) +
                          vi(6, 0x40E) + vi(7, 0) + (vi(8, now) if now else b""))
                       for fd, data, now in ((3, 0x1234, 0), (40, 1, 41), (5, 2**64 - 1, 0)))
    anon = [(6, 8, vi(1, 1) + vi(2, 0o4003) + ld(3, fown) + vi(4, 0x123456789ABC)),
            (7, 9, vi(1, 2) + vi(2, 2) + ld(3, fown) + targets),
            (9, 10, vi(1, 3) + vi(2, 0o4002) + ld(3, fown) + vi(4, 0x800000200)),
            (17, 12, vi(1, 4) + vi(2, 2) + ld(3, fown) + vi(4, 7) + vi(5, 3) + vi(6, 1) +
             vi(7, 100) + vi(8, 999999999) + vi(9, 1) + vi(10, 5))]
    add("anon-files", files.index, header(files) + b"".join(
        entry(vi(1, ftype) + vi(2, i + 1) + ld(sub, body))
        for i, (ftype, sub, body) in enumerate(anon)))

    # files.img with the fsnotify kinds and pidfds: an inotify with two
    # watches (one by handle, one with an --force-irmap path), a fanotify
    # with an inode and a mount mark, a pidfd of a live and of a dead task
    def fh(nbytes, words, path=None):
        return (vi(1, nbytes) + vi(2, 1) + b"".join(vi(3, w) for w in words) +
                (ld(4, path) if path else b""))

    wds = (ld(5, vi(1, 1) + vi(2, 0xA7633C) + vi(3, 0xFFF) + vi(4, 0) + vi(5, 0xFE00000) +
              vi(6, 1) + ld(7, fh(8, [0x3A41CC1800A7633C] + [0] * 15))) +
           ld(5, vi(1, 1) + vi(2, 0x10) + vi(3, 0x40000002) + vi(4, 0) + vi(5, 0x800) +
              vi(6, 7) + ld(7, fh(0, [0] * 16, b"/tmp/watched"))))
    marks = (ld(6, vi(1, 2) + vi(2, 1) + vi(3, 0x40) + vi(4, 0) + vi(5, 0x20) +
                vi(6, 0xFE00000) + ld(7, vi(1, 0xA7633C) + ld(2, fh(8, [1] + [0] * 15)))) +
             ld(6, vi(1, 2) + vi(2, 2) + vi(3, 0) + vi(4, 0x1000) + vi(5, 0) + vi(6, 0) +
                ld(8, vi(1, 26) + ld(2, b"/"))))
    notify = [(8, 13, vi(1, 1) + vi(2, 0o4000) + ld(4, fown) + wds),
              (12, 14, vi(1, 2) + vi(2, 0o4002) + ld(3, fown) + vi(4, 3) + vi(5, 0x8000) + marks),
              (20, 22, vi(1, 3) + vi(2, 647693) + vi(3, 0o4002) + vi(4, 1234) + ld(5, fown)),
              (20, 22, vi(1, 4) + vi(2, 647734) + vi(3, 2) + vi(4, 2**64 - 1) + ld(5, fown))]
    add("notify-files", files.index, header(files) + b"".join(
        entry(vi(1, ftype) + vi(2, i + 1) + ld(sub, body))
        for i, (ftype, sub, body) in enumerate(notify)))

    # cgroup dirs nested past the reader's depth limit (100): refused
    cgroup = next(t for t in types if t.enum == "IMG_CGROUP")
    d = b"\x0a\x00"
    for _ in range(120):
        d = b"\x0a\x00\x12" + varint(len(d)) + d
    ctl = b"\x12" + varint(len(d)) + d
    add("deep-cgroup", cgroup.index, header(cgroup) + entry(b"\x12" + varint(len(ctl)) + ctl))

    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        os.unlink(os.path.join(OUT, old))
    for name, data in sorted(seeds.items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    total = sum(len(d) for d in seeds.values())
    print("make-corpus: %d seeds, %d bytes in %s" % (len(seeds), total, os.path.relpath(OUT)))
    if len(seeds) >= 300 or total >= 2 << 20:
        sys.exit("make-corpus: corpus too big")


if __name__ == "__main__":
    main()
