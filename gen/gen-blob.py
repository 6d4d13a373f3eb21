#!/usr/bin/python3
"""Turn a linked PIE blob (parasite, restorer) into a C header.

    gen-blob.py --arch ARCH --name NAME [--stack-size N] [--export SYM]... \
            -o OUT.h BLOB.elf

The ELF is what ld -pie -T arch/<arch>/blob.lds makes of core/pie: one
contiguous image [__blob_start, __blob_end) (code, read-only data, data,
bss) and, outside of it, the dynamic-linking metadata with .rela.dyn.

The header holds the image bytes (bss as a size), the entry points (every
__export_* symbol plus the --export ones), the stack size to give the blob,
and the relocations compel applies once it knows where the blob will run.
The only relocation a blob may have is the architecture's RELATIVE one
(R_X86_64_RELATIVE, R_AARCH64_RELATIVE, R_PPC64_RELATIVE, R_390_RELATIVE):
"the 64-bit word at OFFSET is the load address plus ADDEND".  Every other
type is refused, naming it, the symbol and the offset, and so is anything a
loader that only copies bytes cannot honour (a PLT, TLS, ELFv1 function
descriptors, needed libraries, packed RELR relocations).

Offsets are from __blob_start, and the addends are stored relative to it as
well, so the link address (chosen non-zero in blob.lds, see there) does not
leak into the header.  The addends are also written into the image bytes, so
that the unrelocated image is the blob as if loaded at address 0.

ppc64le: the code is ELFv2 -mcmodel=medium; the TOC pointer r2 is computed
by every C function from its own address (r12) at its global entry point,
with PC-relative arithmetic the linker resolves, and the heads in
arch/ppc64le/pie-head.S enter the C code through its global entry point with
r12 set PC-relatively.  So there is no TOC value to patch: .got/.toc words
holding addresses carry R_PPC64_RELATIVE like any other pointer, and the
reserved first .got word (the link-time .TOC. value, used only by a dynamic
linker) is left alone; R_PPC64_TOC and .opd are refused.

verify-blob.py imports this file for its ELF reader.  Standard library only.
"""

import argparse
import os
import re
import struct
import sys

SHT_NOBITS = 8
SHT_RELA = 4
SHT_REL = 9
SHT_SYMTAB = 2
SHT_DYNAMIC = 6
SHT_RELR = 19
SHF_WRITE = 0x1
SHF_ALLOC = 0x2
SHF_EXECINSTR = 0x4
SHF_TLS = 0x400
STT_FUNC = 2
STT_SECTION = 3
STT_FILE = 4
SHN_UNDEF = 0
SHN_ABS = 0xFFF1
DT_NEEDED = 1

# machine, byte order, RELATIVE type, relocation-name prefix in <elf.h>
ARCHS = {
    'x86_64': dict(machine=62, endian='<', relative=8, prefix='R_X86_64_'),
    'aarch64': dict(machine=183, endian='<', relative=1027, prefix='R_AARCH64_'),
    'ppc64le': dict(machine=21, endian='<', relative=22, prefix='R_PPC64_'),
    's390x': dict(machine=22, endian='>', relative=12, prefix='R_390_'),
}

# Sections ld makes for dynamic linking: read here, never loaded.
METADATA_SECTIONS = {'.dynamic', '.dynsym', '.dynstr', '.hash', '.gnu.hash', '.rela.dyn',
                     '.rela.plt', '.rela.iplt'}
# Sections whose presence (non-empty) means the blob cannot work when copied.
FORBIDDEN_SECTIONS = {
    '.plt': 'a PLT: calls through it need a dynamic linker',
    '.iplt': 'a PLT for IFUNCs: needs a dynamic linker',
    '.plt.got': 'a PLT: calls through it need a dynamic linker',
    '.plt.sec': 'a PLT: calls through it need a dynamic linker',
    '.glink': 'PLT call stubs: calls through them need a dynamic linker',
    '.opd': 'ELFv1 function descriptors: need relocated descriptors',
    '.interp': 'a program interpreter',
    '.init_array': 'constructors: nothing runs them',
    '.fini_array': 'destructors: nothing runs them',
    '.preinit_array': 'constructors: nothing runs them',
}

BLOB_START = '__blob_start'
BLOB_END = '__blob_end'
EXPORT_PREFIX = '__export_'


class BlobError(Exception):
    """The blob cannot be turned into a header; the message names why."""


def reloc_type_names(prefix):
    """Relocation type names for messages, from the system's <elf.h>."""
    names = {}
    try:
        with open('/usr/include/elf.h') as f:
            text = f.read()
    except OSError:
        return names
    defs = dict(re.findall(r'#define\s+(R_\w+)\s+(\w+)', text))
    for name, value in defs.items():
        if not name.startswith(prefix):
            continue
        for _ in range(4):  # R_PPC64_JMP_SLOT is defined as R_PPC_JMP_SLOT
            if value.isdigit() or value not in defs:
                break
            value = defs[value]
        if value.isdigit():
            names.setdefault(int(value), name)
    return names


class Section:
    def __init__(self, name, type_, flags, addr, offset, size, link, info, align, entsize):
        self.name, self.type, self.flags = name, type_, flags
        self.addr, self.offset, self.size = addr, offset, size
        self.link, self.info, self.align, self.entsize = link, info, align, entsize

    @property
    def alloc(self):
        return bool(self.flags & SHF_ALLOC)

    @property
    def exec(self):
        return bool(self.flags & SHF_EXECINSTR)

    @property
    def nobits(self):
        return self.type == SHT_NOBITS


class Symbol:
    def __init__(self, name, value, size, type_, bind, other, shndx):
        self.name, self.value, self.size = name, value, size
        self.type, self.bind, self.other, self.shndx = type_, bind, other, shndx


class Elf:
    """The parts of a 64-bit ELF file a blob needs: sections, symbols, RELA."""

    def __init__(self, path):
        self.path = path
        with open(path, 'rb') as f:
            self.raw = f.read()
        raw = self.raw
        if len(raw) < 64 or raw[:4] != b'\x7fELF':
            raise BlobError(f'{path}: not an ELF file')
        if raw[4] != 2:
            raise BlobError(f'{path}: not a 64-bit ELF file')
        self.endian = '<' if raw[5] == 1 else '>'
        e = self.endian
        (self.type, self.machine, _, self.entry, _, shoff, self.flags, _, _, _, shentsize,
         shnum, shstrndx) = struct.unpack_from(e + 'HHIQQQIHHHHHH', raw, 16)
        if shoff == 0 or shentsize != 64 or shoff + shnum * 64 > len(raw):
            raise BlobError(f'{path}: bad section header table')
        hdrs = [struct.unpack_from(e + 'IIQQQQIIQQ', raw, shoff + i * 64) for i in range(shnum)]
        strtab = hdrs[shstrndx]
        self.sections = []
        for h in hdrs:
            name = self._str(strtab[4], strtab[5], h[0])
            self.sections.append(Section(name, h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8],
                                         h[9]))
        self.symbols = self._symbols()

    def _str(self, off, size, idx):
        if idx >= size:
            raise BlobError(f'{self.path}: string index {idx} out of range')
        end = self.raw.index(b'\0', off + idx)
        return self.raw[off + idx:end].decode('utf-8', 'replace')

    def data(self, sec):
        if sec.nobits:
            return bytes(sec.size)
        if sec.offset + sec.size > len(self.raw):
            raise BlobError(f'{self.path}: section {sec.name} extends past the file')
        return self.raw[sec.offset:sec.offset + sec.size]

    def _symbols(self, sh_type=SHT_SYMTAB):
        syms = []
        for sec in self.sections:
            if sec.type != sh_type:
                continue
            strsec = self.sections[sec.link]
            data = self.data(sec)
            for i in range(len(data) // 24):
                name, info, other, shndx, value, size = struct.unpack_from(
                    self.endian + 'IBBHQQ', data, i * 24)
                syms.append(Symbol(self._str(strsec.offset, strsec.size, name), value, size,
                                   info & 0xF, info >> 4, other, shndx))
        return syms

    def dynsyms(self):
        return self._symbols(sh_type=11)

    def symbol(self, name):
        for s in self.symbols:
            if s.name == name and s.shndx != SHN_UNDEF:
                return s
        return None

    def relas(self, sec):
        """(offset, type, symbol index, addend) of a SHT_RELA section."""
        data = self.data(sec)
        out = []
        for i in range(len(data) // 24):
            off, info, addend = struct.unpack_from(self.endian + 'QQq', data, i * 24)
            out.append((off, info & 0xFFFFFFFF, info >> 32, addend))
        return out


class Reloc:
    def __init__(self, offset, addend, elf_type, type_name):
        self.offset, self.addend = offset, addend
        self.elf_type, self.type_name = elf_type, type_name


class Blob:
    """A PIE blob as compel loads it: image bytes, bss, entries, relocations.

    Offsets (relocations, sections, symbols, entries) count from
    __blob_start.  Raises BlobError listing every problem found."""

    def __init__(self, path, arch, name='blob'):
        if arch not in ARCHS:
            raise BlobError(f'unknown arch {arch!r}')
        self.path, self.arch, self.name = path, arch, name
        self.cfg = ARCHS[arch]
        self.elf = elf = Elf(path)
        self.type_names = reloc_type_names(self.cfg['prefix'])
        self.problems = []
        if elf.machine != self.cfg['machine'] or elf.endian != self.cfg['endian']:
            raise BlobError(f'{name}: {path} is not a {arch} ELF file (e_machine {elf.machine})')
        if arch == 'ppc64le' and elf.flags & 3 == 1:
            self.problem('ELFv1 object (function descriptors): build with ELFv2')

        start, end = elf.symbol(BLOB_START), elf.symbol(BLOB_END)
        if not start or not end or end.value < start.value:
            raise BlobError(f'{name}: no {BLOB_START}/{BLOB_END} symbols: link with '
                            f'arch/{arch}/blob.lds')
        self.start, self.end = start.value, end.value
        self._layout()
        self._relocations()
        self._dynamic()
        if self.problems:
            raise BlobError('\n'.join(f'{name}: {p}' for p in self.problems))

    def problem(self, msg):
        self.problems.append(msg)

    def type_name(self, t):
        return self.type_names.get(t, f'{self.cfg["prefix"]}{t} (type {t})')

    def section_at(self, off):
        """The image section holding image offset off, or None."""
        for s in self.image_sections:
            if s.off <= off < s.off + s.size:
                return s
        return None

    def _layout(self):
        elf, start, end = self.elf, self.start, self.end
        self.image_sections = []
        file_end = 0
        self.align = 4096
        progbits = []
        for sec in elf.sections:
            if not sec.alloc or sec.size == 0:
                continue
            if sec.name in FORBIDDEN_SECTIONS:
                self.problem(f'section {sec.name} ({sec.size} bytes) is '
                             f'{FORBIDDEN_SECTIONS[sec.name]}')
                continue
            if sec.flags & SHF_TLS:
                self.problem(f'section {sec.name} is thread-local storage: blobs have no TLS')
                continue
            inside = start <= sec.addr and sec.addr + sec.size <= end
            if not inside:
                if sec.name in METADATA_SECTIONS:
                    continue
                self.problem(f'section {sec.name} at {sec.addr:#x} is outside the image '
                             f'[{start:#x}, {end:#x}): place it in blob.lds')
                continue
            if sec.name in METADATA_SECTIONS:
                self.problem(f'section {sec.name} is inside the image: blob.lds must place it '
                             f'after {BLOB_END}')
                continue
            sec.off = sec.addr - start
            self.image_sections.append(sec)
            self.align = max(self.align, sec.align)
            if not sec.nobits:
                progbits.append(sec)
                file_end = max(file_end, sec.off + sec.size)
        for sec in self.image_sections:
            if sec.nobits and sec.off < file_end:
                self.problem(f'bss section {sec.name} at offset {sec.off:#x} is followed by '
                             f'data: bss must come last')
        self.image_sections.sort(key=lambda s: s.off)
        self.image = bytearray(file_end)
        for sec in progbits:
            self.image[sec.off:sec.off + sec.size] = elf.data(sec)
        self.size = file_end
        self.bss_size = (end - start) - file_end
        self.symbols = [s for s in elf.symbols
                        if s.shndx not in (SHN_UNDEF, SHN_ABS)
                        and s.type not in (STT_SECTION, STT_FILE)
                        and start <= s.value <= end]
        for s in self.symbols:
            s.off = s.value - start

    def _relocations(self):
        elf, rel_type = self.elf, self.cfg['relative']
        self.relocs = []
        dynsyms = None
        for sec in elf.sections:
            if sec.type == SHT_RELR:
                self.problem(f'packed relocations ({sec.name}): link without '
                             f'-z pack-relative-relocs')
            if sec.type == SHT_REL and sec.alloc:
                self.problem(f'REL (not RELA) relocations in {sec.name}')
            if sec.type != SHT_RELA or not sec.alloc:
                continue
            for off, t, symidx, addend in elf.relas(sec):
                if t == 0:
                    continue  # R_*_NONE: a slot ld reserved and did not need
                where = off - self.start
                target = self.section_at(where)
                place = f'offset {where:#x}' + (f' ({target.name})' if target else '')
                if t != rel_type or symidx != 0:
                    if dynsyms is None:
                        dynsyms = elf.dynsyms()
                    sym = ''
                    if symidx and symidx < len(dynsyms):
                        sym = f" against symbol '{dynsyms[symidx].name}'"
                    self.problem(f'unsupported relocation {self.type_name(t)}{sym} at {place}: '
                                 f'only {self.type_name(rel_type)} can be applied at load time')
                    continue
                if where < 0 or where + 8 > self.size:
                    self.problem(f'{self.type_name(t)} at {off:#x} is outside the image bytes')
                    continue
                value = addend - self.start
                if not 0 <= value <= self.size + self.bss_size:
                    self.problem(f'{self.type_name(t)} at {place} points outside the blob '
                                 f'({addend:#x})')
                    continue
                self.image[where:where + 8] = struct.pack(self.cfg['endian'] + 'Q', value)
                self.relocs.append(Reloc(where, value, t, self.type_name(t)))
        self.relocs.sort(key=lambda r: r.offset)

    def _dynamic(self):
        for sec in self.elf.sections:
            if sec.type != SHT_DYNAMIC:
                continue
            data = self.elf.data(sec)
            for i in range(len(data) // 16):
                tag, _ = struct.unpack_from(self.elf.endian + 'qQ', data, i * 16)
                if tag == DT_NEEDED:
                    self.problem('needs a shared library (DT_NEEDED): blobs are self-contained')

    def entries(self, extra=()):
        """(entry name, offset, symbol) of the exported symbols."""
        out = []
        for s in self.symbols:
            if s.name.startswith(EXPORT_PREFIX) or s.name in extra:
                short = s.name[len(EXPORT_PREFIX):] if s.name.startswith(EXPORT_PREFIX) \
                    else s.name
                if short.startswith(self.name + '_'):
                    short = short[len(self.name) + 1:]
                out.append((short, s.off, s.name))
        for short, off, sym in out:
            sec = self.section_at(off)
            if sec is None or not sec.exec:
                raise BlobError(f'{self.name}: entry point {sym} at {off:#x} is not in code')
        missing = set(extra) - {s.name for s in self.symbols}
        if missing:
            raise BlobError(f'{self.name}: exported symbols not found: {", ".join(sorted(missing))}')
        names = [e[0] for e in out]
        dups = {n for n in names if names.count(n) > 1}
        if dups:
            raise BlobError(f'{self.name}: entry names clash: {", ".join(sorted(dups))}')
        return sorted(out, key=lambda e: e[1])


def c_ident(s):
    return re.sub(r'\W', '_', s)


def header(blob, entries, stack_size, source):
    n = c_ident(blob.name)
    up = n.upper()
    out = [f'/* Generated by gen/gen-blob.py from {source}: do not edit. */',
           f'#ifndef CRIU_{up}_BLOB_H', f'#define CRIU_{up}_BLOB_H', '',
           '#include "blob.h"', '',
           f'#define {up}_BLOB_SIZE {blob.size:#x}',
           f'#define {up}_BLOB_BSS_SIZE {blob.bss_size:#x}',
           f'#define {up}_BLOB_STACK_SIZE {stack_size:#x}',
           f'#define {up}_BLOB_ALIGN {blob.align:#x}',
           f'#define {up}_BLOB_NR_RELOCS {len(blob.relocs)}']
    for short, off, sym in entries:
        out.append(f'#define {up}_BLOB_ENTRY_{c_ident(short).upper()} {off:#x} /* {sym} */')
    out += ['', f'static const unsigned char {n}_blob_bytes[{max(blob.size, 1)}] '
            '__attribute__((aligned(16), unused)) = {']
    for i in range(0, blob.size, 12):
        out.append('\t' + ' '.join(f'0x{b:02x},' for b in blob.image[i:i + 12]))
    out.append('};')
    out += ['', f'static const struct blob_reloc {n}_blob_relocs[] __attribute__((unused)) = {{']
    for r in blob.relocs:
        out.append(f'\t{{ {r.offset:#x}, BLOB_RELOC_REL64, {r.addend:#x} }}, /* {r.type_name} */')
    if not blob.relocs:
        out.append('\t{ 0, BLOB_RELOC_NONE, 0 },')
    out.append('};')
    out += ['', f'static const struct blob_entry {n}_blob_entries[] __attribute__((unused)) = {{']
    for short, off, sym in entries:
        out.append(f'\t{{ "{short}", {off:#x} }},')
    if not entries:
        out.append('\t{ "", 0 },')
    out.append('};')
    out += ['', f'static const struct blob_desc {n}_blob __attribute__((unused)) = {{',
            f'\t.name = "{blob.name}",',
            f'\t.arch = "{blob.arch}",',
            f'\t.bytes = {n}_blob_bytes,',
            f'\t.size = {blob.size:#x},',
            f'\t.bss_size = {blob.bss_size:#x},',
            f'\t.stack_size = {stack_size:#x},',
            f'\t.align = {blob.align:#x},',
            f'\t.relocs = {n}_blob_relocs,',
            f'\t.nr_relocs = {len(blob.relocs)},',
            f'\t.entries = {n}_blob_entries,',
            f'\t.nr_entries = {len(entries)},',
            '};', '', '#endif', '']
    return '\n'.join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--arch', required=True, choices=sorted(ARCHS))
    ap.add_argument('--name', required=True, help='blob name: parasite, restorer')
    ap.add_argument('--stack-size', type=lambda s: int(s, 0), default=16384)
    ap.add_argument('--export', action='append', default=[],
                    help='also export this symbol as an entry point')
    ap.add_argument('-o', '--output', required=True)
    ap.add_argument('elf')
    args = ap.parse_args()
    try:
        blob = Blob(args.elf, args.arch, args.name)
        entries = blob.entries(args.export)
        if not entries:
            raise BlobError(f'{args.name}: no entry point ({EXPORT_PREFIX}* symbol)')
        if args.stack_size <= 0 or args.stack_size % 16:
            raise BlobError(f'{args.name}: stack size {args.stack_size} not a multiple of 16')
        text = header(blob, entries, args.stack_size, args.elf)
    except BlobError as e:
        print(f'gen-blob: {e}', file=sys.stderr)
        return 1
    tmp = args.output + '.part'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, args.output)
    return 0


if __name__ == '__main__':
    sys.exit(main())
