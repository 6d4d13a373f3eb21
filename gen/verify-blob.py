#!/usr/bin/python3
"""Check a linked PIE blob with capstone before it becomes a header.

    verify-blob.py --arch ARCH --name NAME [--stubs syscalls.S]
            [--stack-size N --stack-usage OBJ.su ...] BLOB.elf

The blob is copied into a task at an address known only at load time, and
relocated by compel with nothing but the R_*_RELATIVE words gen-blob.py
lists.  The whole code of the image is disassembled (a linear sweep that
restarts at every symbol) and these rules are checked:

 1. Relocation sites.  A RELATIVE relocation patches a 64-bit word.  It must
    lie inside one data section, or, inside code, exactly on an instruction
    operand of 64 bits (only x86_64's movabs immediate has one); anywhere else
    it would corrupt an instruction.

 2. No absolute address that is not relocated:
    - no instruction immediate (or x86 displacement used as a constant) that
      equals an address inside the blob;
    - no absolute memory operand: x86 memory operands without base register
      (or %fs/%gs-relative: there is no TLS), ppc64 D/DS-form accesses with
      RA = 0, s390x accesses with base and index 0, absolute branches (ppc64
      AA=1, s390x BC/BAL/BAS/EX with base and index 0);
    - no absolute address built in a register from pieces: aarch64
      movz/movn/movk, ppc64 li/lis/ori/oris/addi/addis/sldi, s390x
      llihf/iihf/iilf/oilf/llilf chains are followed per register;
    - no PC-relative literal load (aarch64 ldr literal, s390x lgrl, lrl...)
      of a word holding an unrelocated blob address, and no such 64-bit word
      anywhere in the image, nor 32-bit word in data (except the reserved
      first .got word of ppc64le, the link-time .TOC. a dynamic linker would
      read; see gen-blob.py);
    - every PC-relative reference (branch targets, adr/adrp, larl, literal
      loads, x86 %rip operands) lands inside the blob.
    The blob is linked at a non-zero address (blob.lds) so that an address
    cannot be mistaken for a small constant.

 3. Syscall instructions (x86_64 syscall/sysenter/int $0x80, aarch64 svc,
    ppc64 sc/scv, s390x svc) only inside the generated stubs: the sys_*
    symbols defined by $(GEN)/syscalls.S, whose ranges come from the ELF
    symbol table.

 4. With --stack-size and --stack-usage: the worst-case stack use, from the
    call graph of the disassembly (direct calls and tail calls; an indirect
    call may reach any function whose address is relocated or formed
    PC-relatively) and gcc's -fstack-usage frames, fits in the stack compel
    gives the blob with SIGNAL_RESERVE bytes to spare; no recursion, no
    unbounded frame.

Everything in an executable section counts as code: the compilers put no
data there with the flags pie.mk uses.

Any violation exits 1 with one line per problem naming the blob, the offset
(from the image start), the enclosing symbol, the instruction and the rule.
Capstone 4's s390x tables miss a few instructions (svc, exrl, bc, nop); for
s390x the encoding is also decoded directly (the length comes from the two
top opcode bits) so those are still checked.
"""

import argparse
import importlib.util
import os
import re
import struct
import sys

import capstone
from capstone import x86 as cs_x86

_spec = importlib.util.spec_from_file_location(
    'gen_blob', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'gen-blob.py'))
gen_blob = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_blob)

MASK64 = (1 << 64) - 1
# Rule 4 (stack): what a function without a -fstack-usage record (the
# assembly heads and stubs) may use, what each call adds beyond the callee's
# own frame, and what stays free for a signal frame (xsave with AVX-512, SVE).
ASM_FRAME = 256
CALL_OVERHEAD = 16
SIGNAL_RESERVE = 8192


def sext(v, bits):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


class Insn:
    """One decoded instruction; off is from the image start."""

    def __init__(self, off, size, raw, text, cs=None):
        self.off, self.size, self.raw, self.text, self.cs = off, size, raw, text, cs

    @property
    def end(self):
        return self.off + self.size


class Arch:
    """What differs per architecture.  Subclasses fill in the rules."""
    step = 4  # how far to skip over bytes capstone cannot decode

    def __init__(self, v):
        self.v = v  # the Verifier
        self.md = capstone.Cs(*self.cs_mode)
        self.md.detail = True

    def reset(self):
        self.regs = {}   # register -> absolute constant built in it
        self.pcrel = {}  # register -> link address derived from the PC

    def forget(self, reg):
        self.regs.pop(reg, None)
        self.pcrel.pop(reg, None)

    def decode_fallback(self, data, off):
        """(size, text) for bytes capstone cannot decode, or None."""
        return None

    def is_syscall(self, insn):
        raise NotImplementedError

    def reloc_in_insn(self, insn, site):
        """None if a 64-bit relocation at image offset `site' patches a
        64-bit operand of insn, else why not."""
        return 'no operand of this instruction is a 64-bit word'

    def check(self, insn):
        """Rule 2 for one instruction: calls self.v.report()."""
        raise NotImplementedError

    def indirect_call(self, insn):
        """Whether insn calls through a register or memory (for rule 4)."""
        raise NotImplementedError

    # helpers for subclasses
    def imm_values(self, insn):
        out = []
        for op in insn.cs.operands if insn.cs else ():
            if op.type == self.IMM:
                out.append(op.imm & MASK64)
        return out

    def track(self, insn, reg, value, how):
        self.forget(reg)
        if value is None:
            return
        value &= MASK64
        self.regs[reg] = value
        if self.v.in_blob(value):
            self.v.report(insn, f'builds the absolute address {value:#x} '
                                f'({self.v.describe_addr(value)}) in a register with {how}: '
                                f'not relocatable, use PC-relative addressing')


class X86(Arch):
    cs_mode = (capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    IMM = cs_x86.X86_OP_IMM
    step = 1

    def is_syscall(self, insn):
        m = insn.cs.mnemonic if insn.cs else ''
        if m in ('syscall', 'sysenter'):
            return True
        return m == 'int' and self.imm_values(insn) == [0x80]

    def indirect_call(self, insn):
        c = insn.cs
        return c.mnemonic == 'call' and all(op.type != cs_x86.X86_OP_IMM for op in c.operands)

    def reloc_in_insn(self, insn, site):
        c = insn.cs
        if c.imm_size == 8 and insn.off + c.imm_offset == site:
            return None
        return 'no 64-bit immediate at that place of the instruction'

    def check(self, insn):
        c, v = insn.cs, self.v
        branch = c.group(capstone.CS_GRP_JUMP) or c.group(capstone.CS_GRP_CALL)
        for op in c.operands:
            if op.type == cs_x86.X86_OP_IMM:
                if branch:
                    v.check_target(insn, op.imm & MASK64, 'branch target', branch=True,
                                   call=c.group(capstone.CS_GRP_CALL))
                else:
                    v.check_imm(insn, op.imm & MASK64, c.imm_offset, c.imm_size)
            elif op.type == cs_x86.X86_OP_MEM:
                m = op.mem
                if m.base == cs_x86.X86_REG_RIP:
                    target = (v.start + insn.end + m.disp) & MASK64
                    v.check_target(insn, target, '%rip-relative operand')
                    if c.mnemonic == 'lea':
                        v.address_formed(target)
                elif m.segment in (cs_x86.X86_REG_FS, cs_x86.X86_REG_GS):
                    v.report(insn, 'segment-relative (%fs/%gs) memory access: blobs have no '
                                   'TLS (stack protector?)')
                elif m.base == 0:
                    if c.mnemonic in ('lea', 'nop') or m.disp == 0:
                        v.check_imm(insn, m.disp & MASK64, c.disp_offset, c.disp_size)
                    else:
                        v.report(insn, f'absolute memory operand {m.disp & MASK64:#x} '
                                       f'(no base register)' + v.addr_note(m.disp & MASK64))


class Arm64(Arch):
    cs_mode = (capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)
    IMM = capstone.arm64.ARM64_OP_IMM

    def is_syscall(self, insn):
        return (insn.raw & 0xFFE0001F) == 0xD4000001  # svc #imm

    def indirect_call(self, insn):
        return (insn.raw & 0xFFFFFC1F) == 0xD63F0000  # blr

    def check(self, insn):
        w, v = insn.raw, self.v
        rd = w & 31
        if (w & 0x7C000000) == 0x14000000 or (w & 0xFF000010) == 0x54000000 or \
                (w & 0x7E000000) in (0x34000000, 0x36000000):  # b/bl, b.cond, cbz, tbz
            v.check_target(insn, self.imm_values(insn)[-1], 'branch target', branch=True,
                           call=(w & 0xFC000000) == 0x94000000)  # bl
            return
        if (w & 0x1F000000) == 0x10000000:  # adr, adrp
            target = self.imm_values(insn)[-1]
            if w >> 31:  # adrp: a 4K page
                v.check_target(insn, target, 'adrp page', page=True)
            else:
                v.check_target(insn, target, 'adr target')
                v.address_formed(target)
            self.forget(rd)
            self.pcrel[rd] = target
            return
        if (w & 0xFF800000) == 0x91000000:  # add xd, xn, #imm (adrp's :lo12:)
            rn, imm = (w >> 5) & 31, ((w >> 10) & 0xFFF) << (12 if (w >> 22) & 1 else 0)
            base = self.pcrel.get(rn)
            self.forget(rd)
            if base is not None:
                self.pcrel[rd] = base + imm
                v.address_formed(base + imm)
                return
        if (w & 0x3B000000) == 0x18000000:  # ldr/ldrsw/prfm literal
            opc, simd = w >> 30, (w >> 26) & 1
            target = self.imm_values(insn)[-1]
            if opc != 3:
                v.check_literal(insn, target, 8 if opc == 1 and not simd else 4)
            self.forget(rd)
            return
        if (w & 0x1F800000) == 0x12800000:  # movn/movz/movk, 32 or 64 bits
            opc, hw, imm = (w >> 29) & 3, (w >> 21) & 3, (w >> 5) & 0xFFFF
            width = 64 if w >> 31 else 32
            mask = (1 << width) - 1
            if opc == 0:  # movn
                self.track(insn, rd, ~(imm << (16 * hw)) & mask, 'movn')
            elif opc == 2:  # movz
                self.track(insn, rd, imm << (16 * hw), 'movz')
            elif opc == 3 and rd in self.regs:  # movk
                old = self.regs[rd] & ~(0xFFFF << (16 * hw))
                self.track(insn, rd, (old | imm << (16 * hw)) & mask, 'movz/movk')
            else:
                self.forget(rd)
            return
        for value in self.imm_values(insn):
            v.check_imm(insn, value)
        ops = insn.cs.operands if insn.cs else ()
        if ops and ops[0].type == capstone.arm64.ARM64_OP_REG:
            m = re.match(r'[xw](\d+)', insn.cs.op_str)
            if m:
                self.forget(int(m.group(1)))


class Ppc64(Arch):
    cs_mode = (capstone.CS_ARCH_PPC, capstone.CS_MODE_64 | capstone.CS_MODE_LITTLE_ENDIAN)
    IMM = capstone.ppc.PPC_OP_IMM
    # D/DS-form loads and stores: RA = 0 means address 0, not r0
    DFORM = set(range(32, 56)) | {56, 57, 58, 61, 62}

    def decode_fallback(self, data, off):
        if off + 4 <= len(data):
            w = struct.unpack_from('<I', data, off)[0]
            if (w & 0xFC000003) == 0x44000001:  # unknown to capstone 4
                return 4, f'scv {(w >> 5) & 0x7F}'
        return None

    def is_syscall(self, insn):
        return (insn.raw & 0xFC000002) == 0x44000002 or (insn.raw & 0xFC000003) == 0x44000001

    def reset(self):
        super().reset()
        self.lr = self.ctr = None
        self.formed = {}  # register -> a function's address, not yet used
        if self.v.toc is not None:  # set from r12 by every global entry point
            self.pcrel[2] = self.v.toc

    def indirect_call(self, insn):
        if (insn.raw & 0xFC0007FF) not in (0x4C000421, 0x4C000461):  # bcctrl, bctarl
            return False
        if self.ctr is not None:  # mtctr of a PC-derived address: a direct call
            self.v.check_target(insn, self.ctr, 'call target', call=True)
            return False
        return True

    def note_uses(self, insn, w):
        """A function address computed into a register counts as taken (an
        indirect call may reach it) once it is used for anything but the
        mtctr/bctrl of a call through its global entry point."""
        if not self.formed or (w & 0xFC1FFFFF) == 0x7C0903A6:
            return
        ops = insn.cs.op_str.split(', ') if insn.cs else []
        call = (w >> 26) in (16, 18) and w & 1
        for reg, value in list(self.formed.items()):
            name = f'r{reg}'
            used = any(re.search(rf'\b{name}\b', o) for o in ops[1:]) or \
                (ops and ops[0] == name and insn.cs.mnemonic.startswith('st')) or \
                (call and 3 <= reg <= 10)
            if used:
                self.v.address_formed(value)
            if used or (ops and ops[0] == name):
                del self.formed[reg]

    def check(self, insn):
        w, v = insn.raw, self.v
        self.note_uses(insn, w)
        op = w >> 26
        rt, ra, ui = (w >> 21) & 31, (w >> 16) & 31, w & 0xFFFF
        if op in (16, 18):  # bc, b
            target = self.imm_values(insn)[-1] if self.imm_values(insn) else v.start + insn.off
            if w & 2:
                v.report(insn, 'absolute branch (AA=1): not relocatable')
            else:
                v.check_target(insn, target, 'branch target', branch=True, call=bool(w & 1))
            if w & 1 and op == 16 and target == v.start + insn.end:
                self.lr = target  # bcl 20,31,.+4: reads the PC
            elif w & 1:  # a call: r0, r3..r12, lr and ctr are the callee's
                self.reset()
            return
        if (w & 0xFC0007FE) in (0x4C000420, 0x4C000020):  # bcctr[l], bclr[l]
            if w & 1:
                self.reset()
            return
        if (w & 0xFC1FFFFF) == 0x7C0802A6:  # mflr rt
            self.forget(rt)
            if self.lr is not None:
                self.pcrel[rt] = self.lr
            return
        if (w & 0xFC1FFFFF) == 0x7C0903A6:  # mtctr rs
            self.ctr = self.pcrel.get(rt)
            return
        if op in self.DFORM and ra == 0:
            v.report(insn, 'absolute memory access (base register 0)')
            return
        if op in (14, 15) and ra != 0 and ra in self.pcrel:  # addi/addis on a PC address
            value = self.pcrel[ra] + (sext(ui, 16) << (16 if op == 15 else 0))
            self.forget(rt)
            self.pcrel[rt] = value
            if value - v.start in v.func_at_start:
                self.formed[rt] = value
            return
        if op == 14:  # addi / li
            base = 0 if ra == 0 else self.regs.get(ra)
            self.track(insn, rt, None if base is None else base + sext(ui, 16), 'li/addi')
        elif op == 15:  # addis / lis
            base = 0 if ra == 0 else self.regs.get(ra)
            self.track(insn, rt, None if base is None else base + (sext(ui, 16) << 16),
                       'lis/addis')
        elif op in (24, 25):  # ori / oris: RA = RS | UI
            src = self.regs.get(rt)
            shift = 16 if op == 25 else 0
            self.track(insn, ra, None if src is None else src | ui << shift, 'lis/ori')
        elif op == 30 and (w >> 2) & 7 == 1:  # rldicr (sldi)
            sh = ((w >> 11) & 31) | ((w >> 1) & 1) << 5
            me = ((w >> 6) & 31) | ((w >> 5) & 1) << 5
            src = self.regs.get(rt)
            if src is None:
                self.forget(ra)
            else:
                rot = ((src << sh) | (src >> (64 - sh))) & MASK64
                self.track(insn, ra, rot & ~((1 << (63 - me)) - 1) & MASK64, 'lis/ori/sldi')
        else:
            ops = insn.cs.operands if insn.cs else ()
            if ops and ops[0].type == capstone.ppc.PPC_OP_REG:
                m = re.match(r'r(\d+)', insn.cs.op_str)
                if m:
                    self.forget(int(m.group(1)))


class S390(Arch):
    cs_mode = (capstone.CS_ARCH_SYSZ, capstone.CS_MODE_BIG_ENDIAN)
    IMM = capstone.systemz.SYSZ_OP_IMM
    step = 2
    # RSY/SIY (0xEB..) opcodes that access memory; the rest are shifts etc.
    EB_MEM = {0x04, 0x24, 0x14, 0x30, 0x2C, 0x2D, 0x80, 0x81, 0x90, 0x98, 0x51, 0x52,
              0x54, 0x55, 0x56, 0x57, 0x6A, 0x6E, 0x7A, 0x7E, 0xE2, 0xE3, 0xE4, 0xE6,
              0xE7, 0xE8, 0xEA, 0xF2, 0xF3, 0xF4, 0xF6, 0xF7, 0xF8, 0xFA}
    # RIL with a PC-relative operand: larl, brcl, brasl; C4/C6 families
    # (literal loads/stores, exrl, compare relative)
    LIT64 = {(0xC4, 0x8), (0xC6, 0x8), (0xC6, 0xA)}  # lgrl, cgrl, clgrl
    LIT32 = {(0xC4, 0xC), (0xC4, 0xD), (0xC4, 0xE), (0xC6, 0xC), (0xC6, 0xD), (0xC6, 0xE),
             (0xC6, 0xF)}  # lgfrl lrl llgfrl cgfrl crl clgfrl clrl

    @staticmethod
    def length(first):
        return (2, 4, 4, 6)[first >> 6]

    def decode_fallback(self, data, off):
        n = self.length(data[off])
        if off + n > len(data):
            return None
        b = data[off:off + n]
        if b[:2] == b'\x00\x00':
            return None  # not an instruction: padding, or an error in a function
        if b[0] == 0x0A:
            return n, f'svc {b[1]}'
        if b[:2] == b'\x00\x01':
            return n, 'trap (0x0001 breakpoint)'
        return n, f'.insn {b.hex()}'

    def is_syscall(self, insn):
        return insn.bytes[0] == 0x0A

    def indirect_call(self, insn):
        b = insn.bytes
        return (b[0] == 0x0D and b[1] & 0xF) or b[0] == 0x4D  # basr, bas

    def check(self, insn):
        b, v = insn.bytes, self.v
        op = b[0]
        key = (op, b[1] & 0xF) if len(b) == 6 else None
        if b[:2] == b'\x00\x01' and insn.size == 2:
            return
        # PC-relative: RI-b/c branches, RIL, RIE compare-and-branch, RSI
        rel = None
        if op == 0xA7 and b[1] & 0xF in (4, 5, 6, 7):  # brc bras brct brctg
            rel = sext(struct.unpack('>H', b[2:4])[0], 16)
        elif op in (0x84, 0x85):  # brxh brxle
            rel = sext(struct.unpack('>H', b[2:4])[0], 16)
        elif op in (0xC0, 0xC4, 0xC6, 0xCC) and \
                (op != 0xC0 or b[1] & 0xF in (0, 4, 5)) and (op != 0xCC or b[1] & 0xF == 6):
            rel = sext(struct.unpack('>I', b[2:6])[0], 32)
        elif op == 0xEC and b[5] in (0x44, 0x45, 0x64, 0x65, 0x76, 0x77, 0x7C,
                                      0x7D, 0x7E, 0x7F):
            rel = sext(struct.unpack('>H', b[2:4])[0], 16)
        if rel is not None:
            target = (v.start + insn.off + 2 * rel) & MASK64
            if key in self.LIT64:
                v.check_literal(insn, target, 8)
            elif key in self.LIT32:
                v.check_literal(insn, target, 4)
            elif op == 0xC0 and b[1] & 0xF == 0:  # larl
                v.check_target(insn, target, 'PC-relative target')
                v.address_formed(target)
            else:
                call = (op == 0xC0 and b[1] & 0xF == 5) or (op == 0xA7 and b[1] & 0xF == 5)
                v.check_target(insn, target, 'PC-relative target', branch=True, call=call)
            self.forget(b[1] >> 4)
            return
        # absolute memory operands: base and index both 0
        base = index = None
        if 0x40 <= op <= 0x7F and op != 0x41:  # RX; la computes, not accesses
            if not (op == 0x47 and b[1] >> 4 == 0):  # bc 0 = nop
                index, base = b[1] & 0xF, b[2] >> 4
        elif op == 0xE3 and b[5] != 0x71:  # RXY; lay computes
            index, base = b[1] & 0xF, b[2] >> 4
        elif op in (0x90, 0x98, 0x9A, 0x9B, 0xBA, 0xBB, 0xBE, 0xBF, 0x91, 0x92, 0x94, 0x95,
                    0x96, 0x97, 0xE5) or (op == 0xEB and b[5] in self.EB_MEM):
            index, base = 0, b[2] >> 4
        elif 0xD1 <= op <= 0xDF:  # SS: two memory operands
            index, base = 0, min(b[2] >> 4, b[4] >> 4)
        if base == 0 and index == 0:
            v.report(insn, 'absolute memory operand (base and index register 0)')
            return
        # constants built in a register
        r1 = b[1] >> 4
        if op == 0xC0 and len(b) == 6:
            imm = struct.unpack('>I', b[2:6])[0]
            sub = b[1] & 0xF
            old = self.regs.get(r1)
            if sub == 0xE:  # llihf
                self.track(insn, r1, imm << 32, 'llihf')
            elif sub == 0xF:  # llilf
                self.track(insn, r1, imm, 'llilf')
            elif sub == 0x1:  # lgfi
                self.track(insn, r1, sext(imm, 32), 'lgfi')
            elif sub in (0x8, 0x9, 0xC, 0xD):  # iihf iilf oihf oilf
                hi = sub in (0x8, 0xC)
                part = imm << 32 if hi else imm
                keep = 0xFFFFFFFF if hi else 0xFFFFFFFF00000000
                if old is None:
                    v.check_imm(insn, imm)
                    self.forget(r1)
                elif sub in (0x8, 0x9):
                    self.track(insn, r1, (old & keep) | part, 'insert-immediate')
                else:
                    self.track(insn, r1, old | part, 'or-immediate')
            else:
                v.check_imm(insn, imm)
                self.forget(r1)
            return
        for value in self.imm_values(insn):
            if base is None:
                v.check_imm(insn, value)
        self.forget(r1)


ARCH_CLASSES = {'x86_64': X86, 'aarch64': Arm64, 'ppc64le': Ppc64, 's390x': S390}


class Verifier:
    def __init__(self, blob, stub_names):
        self.blob = blob
        self.start = blob.start
        self.end = blob.end
        self.problems = []
        self.arch = ARCH_CLASSES[blob.arch](self)
        # ($x/$d: aarch64 mapping symbols; __blob_*: blob.lds markers)
        self.syms = sorted((s for s in blob.symbols
                            if not s.name.startswith(('$', '__blob_'))),
                           key=lambda s: (s.off, -s.size))
        if stub_names is None:
            stub_names = {s.name for s in self.syms
                          if s.type == gen_blob.STT_FUNC and s.name.startswith('sys_')}
        self.stubs = [(s.off, s.off + (s.size or self._next_sym(s.off) - s.off), s.name)
                      for s in self.syms if s.name in stub_names]
        self.relocs = {r.offset: r for r in blob.relocs}
        self.reloc_bytes = set()
        for r in blob.relocs:
            self.reloc_bytes.update(range(r.offset, r.offset + 8))
        self.insns = []
        self.reported = set()
        # for the stack check: functions, direct call edges, indirect callers
        funcs = [s for s in self.syms if s.type == gen_blob.STT_FUNC]
        self.funcs = [(s.off, s.off + (s.size or self._next_sym(s.off) - s.off), s.name)
                      for s in funcs]
        self.func_at_start = {s.off: s.name for s in funcs}
        self.calls, self.indirect, self.taken = {}, set(), set()
        toc = blob.elf.symbol('.TOC.')
        self.toc = toc.value if toc else None

    def _next_sym(self, off):
        for s in self.syms:
            if s.off > off:
                return s.off
        return self.blob.size

    # -- reporting ---------------------------------------------------------

    def where(self, off):
        best = None
        for s in self.syms:
            if s.off <= off and (best is None or s.off >= best.off):
                best = s
        return f'{best.name}+{off - best.off:#x}' if best else '?'

    def describe_addr(self, value):
        return f'blob offset {value - self.start:#x}, {self.where(value - self.start)}'

    def addr_note(self, value):
        return f' = {self.describe_addr(value)}' if self.in_blob(value) else ''

    def report(self, insn, msg):
        key = (insn.off, msg)
        if key in self.reported:
            return
        self.reported.add(key)
        self.problems.append(f'offset {insn.off:#x} ({self.where(insn.off)}): '
                             f'`{insn.text}\': {msg}')

    def report_data(self, off, msg):
        self.problems.append(f'offset {off:#x} ({self.where(off)}): {msg}')

    # -- rule helpers used by the arch classes -------------------------------

    def in_blob(self, value):
        return self.start <= value <= self.end

    def relocated(self, off, size):
        return any(b in self.reloc_bytes for b in range(off, off + size))

    def check_imm(self, insn, value, field_off=None, field_size=None):
        value &= MASK64
        if not self.in_blob(value):
            return
        if field_size == 8 and field_off is not None and insn.off + field_off in self.relocs:
            return  # a relocated movabs
        self.report(insn, f'immediate {value:#x} is an address inside the blob '
                          f'({self.describe_addr(value)}) without a relocation')

    def check_target(self, insn, value, what, page=False, branch=False, call=False):
        """branch: a jump that may leave the function (a tail call when it
        lands on another function's start); call: one that returns."""
        callee = self.func_at_start.get(value - self.start)
        if (branch or call) and callee and (call or callee != self.func_of(insn.off)):
            self.calls.setdefault(self.func_of(insn.off), set()).add(callee)
        lo = self.start & ~0xFFF if page else self.start
        if not lo <= value <= self.end:
            self.report(insn, f'{what} {value:#x} is outside the blob '
                              f'[{self.start:#x}, {self.end:#x}]: it will not be there at run time')

    def address_formed(self, value):
        """A function's address computed PC-relatively: an indirect call may
        reach it (rule 4)."""
        name = self.func_at_start.get(value - self.start)
        if name:
            self.taken.add(name)

    def check_literal(self, insn, target, size):
        self.check_target(insn, target, 'literal')
        off = target - self.start
        if not self.in_blob(target) or off + size > self.blob.size:
            return
        fmt = self.blob.cfg['endian'] + ('Q' if size == 8 else 'I')
        value = struct.unpack_from(fmt, self.blob.image, off)[0]
        if self.in_blob(value) and not self.relocated(off, size):
            self.report(insn, f'loads the unrelocated absolute address {value:#x} '
                              f'({self.describe_addr(value)}) from the literal at {off:#x}')

    # -- the passes ---------------------------------------------------------

    def code_sections(self):
        return [s for s in self.blob.image_sections if s.exec and not s.nobits]

    def disassemble(self):
        image = bytes(self.blob.image)
        arch = self.arch
        endian = self.blob.cfg['endian']
        for sec in self.code_sections():
            cuts = sorted({sec.off, sec.off + sec.size} |
                          {s.off for s in self.syms if sec.off < s.off < sec.off + sec.size})
            for lo, hi in zip(cuts, cuts[1:]):
                arch.reset()
                off = lo
                while off < hi:
                    got = None
                    for c in arch.md.disasm(image[off:hi], self.start + off, count=1):
                        got = c
                    if got is not None:
                        size, text = got.size, f'{got.mnemonic} {got.op_str}'.strip()
                    else:
                        fb = arch.decode_fallback(image[:hi], off)
                        if fb is None:
                            step = min(arch.step, hi - off)
                            chunk = image[off:off + step]
                            if any(chunk):  # zeros are padding
                                self.report_data(off, f'cannot decode {chunk.hex()} as a '
                                                      f'{self.blob.arch} instruction '
                                                      f'(data in code?)')
                            off += step
                            continue
                        size, text = fb
                    raw = None
                    if size == 4 and self.blob.arch in ('aarch64', 'ppc64le'):
                        raw = struct.unpack_from(endian + 'I', image, off)[0]
                    insn = Insn(off, size, raw, text, got)
                    insn.bytes = image[off:off + size]
                    self.insns.append(insn)
                    self.check_insn(insn)
                    off += size

    def in_stub(self, off, end):
        return any(a <= off and end <= b for a, b, _ in self.stubs)

    def func_of(self, off):
        for a, b, name in self.funcs:
            if a <= off < b:
                return name
        return None

    def check_insn(self, insn):
        if self.arch.indirect_call(insn):
            self.indirect.add(self.func_of(insn.off))
        if self.arch.is_syscall(insn) and not self.in_stub(insn.off, insn.end):
            self.report(insn, 'syscall instruction outside the syscall stubs (the sys_* '
                              'functions of syscalls.S): call a stub instead')
        self.arch.check(insn)

    def check_relocs(self):
        code = self.code_sections()
        for r in self.blob.relocs:
            lo, hi = r.offset, r.offset + 8
            sec = self.blob.section_at(lo)
            if sec is None or hi > sec.off + sec.size:
                self.report_data(lo, f'{r.type_name}: the 8 bytes it patches are not inside '
                                     f'one section')
                continue
            if not any(s is sec for s in code):
                continue
            hit = [i for i in self.insns if i.off < hi and lo < i.end]
            if not hit:
                self.report_data(lo, f'{r.type_name} inside code ({sec.name}), on bytes that '
                                     f'are no instruction: in code, only a 64-bit instruction '
                                     f'operand may be relocated')
            elif len(hit) > 1 or hi > hit[0].end:
                self.report(hit[0], f'{r.type_name} at {lo:#x} spans '
                                    f'{len(hit)} instructions: it would corrupt code')
            else:
                why = self.arch.reloc_in_insn(hit[0], lo)
                if why:
                    self.report(hit[0], f'{r.type_name} at {lo:#x} inside the instruction: '
                                        f'{why}')

    def check_data_words(self):
        image, e = bytes(self.blob.image), self.blob.cfg['endian']
        exempt = set()
        if self.blob.arch == 'ppc64le':
            # The reserved first .got word holds .TOC. for a dynamic linker;
            # nothing in the blob reads it (r2 comes from r12, see gen-blob.py).
            for s in self.blob.image_sections:
                if s.name == '.got':
                    exempt.add(s.off)
        seen = set()
        for sec in self.blob.image_sections:
            if sec.nobits:
                continue
            first = (sec.off + 7) & ~7
            for off in range(first, sec.off + sec.size - 7, 8):
                value = struct.unpack_from(e + 'Q', image, off)[0]
                if self.in_blob(value) and off not in exempt and not self.relocated(off, 8):
                    seen.update(range(off, off + 8))
                    self.report_data(off, f'the 64-bit word {value:#x} is an address inside the '
                                          f'blob ({self.describe_addr(value)}) without a '
                                          f'relocation (in {sec.name})')
            if sec.exec:
                continue
            first = (sec.off + 3) & ~3
            for off in range(first, sec.off + sec.size - 3, 4):
                value = struct.unpack_from(e + 'I', image, off)[0]
                if self.in_blob(value) and not self.relocated(off, 4) and off not in seen:
                    self.report_data(off, f'the 32-bit word {value:#x} is an absolute address '
                                          f'inside the blob ({self.describe_addr(value)}) '
                                          f'(in {sec.name}): not relocatable')

    def stack_need(self, frames, entries):
        """Worst-case stack use of the entries: (bytes, call chain) or a
        problem string.  frames: function -> bytes (gcc -fstack-usage); a
        function without one (assembly) counts ASM_FRAME.  Indirect calls
        may reach every function whose address is relocated into the blob or
        formed PC-relatively (lea, adr, adrp+add, larl, TOC or bcl/mflr
        arithmetic)."""
        taken = self.taken | {self.func_at_start[r.addend] for r in self.blob.relocs
                              if r.addend in self.func_at_start}
        memo, active = {}, []

        def need(f):
            if f in memo:
                return memo[f]
            if f in active:
                raise ValueError(' -> '.join(active[active.index(f):] + [f]))
            active.append(f)
            callees = set(self.calls.get(f, ())) | (taken if f in self.indirect else set())
            best = (0, [])
            for c in sorted(callees):
                best = max(best, need(c), key=lambda x: x[0])
            active.pop()
            memo[f] = (frames.get(f, ASM_FRAME) + CALL_OVERHEAD + best[0], [f] + best[1])
            return memo[f]

        try:
            return max((need(e) for e in entries), key=lambda x: x[0], default=(0, []))
        except ValueError as e:
            return f'recursion {e}: the stack need has no bound'

    def check_stack(self, stack_size, su_files):
        frames = {}
        for path in su_files:
            with open(path) as f:
                for line in f:
                    where, size, kind = line.rstrip('\n').split('\t')
                    func = where.rsplit(':', 1)[-1]
                    if 'dynamic' in kind and 'bounded' not in kind:
                        self.problems.append(f'{func}: unbounded stack frame ({kind}, alloca or '
                                             f'VLA): the stack need has no bound')
                    frames[func] = max(frames.get(func, 0), int(size))
        entries = [name for _, _, name in self.funcs if name.startswith(gen_blob.EXPORT_PREFIX)]
        result = self.stack_need(frames, entries)
        if isinstance(result, str):
            self.problems.append(result)
            return None
        need, chain = result
        if need + SIGNAL_RESERVE > stack_size:
            self.problems.append(f'stack: the worst case is {need} bytes ({" -> ".join(chain)}) '
                                 f'+ {SIGNAL_RESERVE} kept for a signal frame, more than the '
                                 f'{stack_size} bytes given (PIE_STACK_{self.blob.name} in '
                                 f'pie.mk)')
        return need

    def run(self):
        if not self.code_sections():
            self.problems.append('no code')
        self.disassemble()
        self.check_relocs()
        self.check_data_words()
        return self.problems


def stub_names_from(path):
    with open(path) as f:
        text = f.read()
    names = set(re.findall(r'^\s*(sys_\w+)\s*:', text, re.M))
    names |= set(re.findall(r'\.globl\s+(sys_\w+)', text))
    return names


def verify(path, arch, name, stubs_path=None, stack_size=None, su_files=()):
    """The list of problems (empty when the blob is fine)."""
    try:
        blob = gen_blob.Blob(path, arch, name)
    except gen_blob.BlobError as e:
        return str(e).split('\n')
    stubs = stub_names_from(stubs_path) if stubs_path else None
    v = Verifier(blob, stubs)
    v.run()
    if stack_size is not None:
        v.check_stack(stack_size, su_files)
    return [f'{name}: {p}' for p in v.problems]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--arch', required=True, choices=sorted(ARCH_CLASSES))
    ap.add_argument('--name', required=True)
    ap.add_argument('--stubs', help='the generated syscalls.S: its sys_* are the stubs')
    ap.add_argument('--stack-size', type=lambda x: int(x, 0),
                    help='check that the worst-case stack use fits in this')
    ap.add_argument('--stack-usage', action='append', default=[], metavar='SU',
                    help='a gcc -fstack-usage file of the blob\'s C objects (repeat)')
    ap.add_argument('elf')
    args = ap.parse_args()
    try:
        problems = verify(args.elf, args.arch, args.name, args.stubs, args.stack_size,
                          args.stack_usage)
    except (OSError, gen_blob.BlobError) as e:
        problems = [f'{args.name}: {e}']
    for p in problems:
        print(f'verify-blob: {args.arch}: {p}', file=sys.stderr)
    if problems:
        print(f'verify-blob: {args.arch}: {args.name}: {len(problems)} problem(s); the blob is '
              f'not position-independent as compel loads it', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
