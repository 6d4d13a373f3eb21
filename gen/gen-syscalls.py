#!/usr/bin/python3
"""Syscall numbers, raw stubs and the name table, from arch/<arch>/syscall.tbl.

    gen-syscalls.py --arch ARCH --cc CC --tbl arch/ARCH/syscall.tbl --out DIR

The table has one syscall per line, kernel .tbl style:

    # comment
    NUMBER  NAME  NARGS

Writes into DIR:
    syscall-nr.h     #define __NR_<name> <number> for every entry
    syscalls.h       long sys_<name>(long, ...) prototypes for the blobs
    syscalls.S       the stubs: one function per syscall, each in its own
                     section .text.sys_<name> (the blob linker drops unused ones)
    syscall-table.h  struct syscall_info and the lookup functions
    syscall-table.c  the name -> (number, argument count) table, sorted by name

Before writing anything it preprocesses <asm/unistd.h> with CC and checks
every number of the table against it; a mismatch or a name the toolchain does
not know fails with one line per problem naming the table line.
"""

import argparse
import os
import re
import subprocess
import sys

ARCHS = ('x86_64', 'aarch64', 'ppc64le', 's390x')
MAX_ARGS = 6


class TableError(Exception):
    pass


def parse_table(text, path='syscall.tbl'):
    """[(lineno, nr, name, nargs)] in file order; TableError on bad lines."""
    entries = []
    errors = []
    names = {}
    nrs = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split('#', 1)[0].strip()
        if not line:
            continue
        f = line.split()
        where = f'{path}:{lineno}'
        if len(f) != 3:
            errors.append(f'{where}: expected "NUMBER NAME NARGS", got {line!r}')
            continue
        nr, name, nargs = f
        if not re.fullmatch(r'\d+', nr):
            errors.append(f'{where}: syscall number {nr!r} is not a number')
            continue
        if not re.fullmatch(r'[a-z_][a-z0-9_]*', name):
            errors.append(f'{where}: bad syscall name {name!r}')
            continue
        if not re.fullmatch(r'\d', nargs) or int(nargs) > MAX_ARGS:
            errors.append(f'{where}: argument count of {name} must be 0..{MAX_ARGS}, got {nargs!r}')
            continue
        if name in names:
            errors.append(f'{where}: {name} already listed on line {names[name]}')
            continue
        if int(nr) in nrs:
            errors.append(f'{where}: number {nr} of {name} already used by {nrs[int(nr)]}')
            continue
        names[name] = lineno
        nrs[int(nr)] = name
        entries.append((lineno, int(nr), name, int(nargs)))
    if errors:
        raise TableError('\n'.join(errors))
    if not entries:
        raise TableError(f'{path}: no syscalls listed')
    return entries


def toolchain_numbers(cc):
    """{name: number} from CC's <asm/unistd.h>."""
    cmd = cc.split() + ['-E', '-dM', '-x', 'c', '-']
    try:
        p = subprocess.run(cmd, input='#include <asm/unistd.h>\n', capture_output=True,
                           text=True, timeout=60)
    except OSError as e:
        raise TableError(f'cannot run {cc!r} to read <asm/unistd.h>: {e.strerror}')
    if p.returncode != 0:
        raise TableError(f'{cc} could not preprocess <asm/unistd.h>:\n{p.stderr.strip()}')
    return parse_defines(p.stdout)


def parse_defines(text):
    raw = {}
    for m in re.finditer(r'^#define[ \t]+(\w+)[ \t]+(.+?)[ \t]*$', text, re.M):
        raw[m.group(1)] = m.group(2)

    def value(name, depth=0):
        expr = raw.get(name)
        if expr is None or depth > 8:
            return None
        expr = re.sub(r'\b(\d+)[uUlL]+\b', r'\1', expr)

        def sub(m):
            v = value(m.group(0), depth + 1)
            if v is None:
                raise ValueError(m.group(0))
            return str(v)
        try:
            expr = re.sub(r'\b[A-Za-z_]\w*\b', sub, expr)
            if not re.fullmatch(r'[\d\s()+\-*x]+', expr):
                return None
            return int(eval(expr, {'__builtins__': {}}))
        except (ValueError, SyntaxError):
            return None

    out = {}
    for name in raw:
        if name.startswith('__NR_'):
            v = value(name)
            if v is not None:
                out[name[5:]] = v
    return out


def check(entries, known, path, cc):
    errors = []
    for lineno, nr, name, _ in entries:
        if name not in known:
            errors.append(f'{path}:{lineno}: {name} is not in <asm/unistd.h> of {cc}')
        elif known[name] != nr:
            errors.append(f'{path}:{lineno}: {name} is {nr} here but {known[name]} '
                          f'in <asm/unistd.h> of {cc}')
    if errors:
        raise TableError('\n'.join(errors))


# ---- stubs --------------------------------------------------------------------
#
# Every stub returns what the kernel returned, -errno on failure, and
# touches no stack.

def stub_x86_64(name, nr, nargs):
    body = []
    if nargs >= 4:
        body.append('movq %rcx, %r10')
    body += [f'movl ${nr}, %eax', 'syscall', 'ret']
    return body


def stub_aarch64(name, nr, nargs):
    return [f'mov x8, #{nr}', 'svc #0', 'ret']


def stub_ppc64le(name, nr, nargs):
    # sc sets cr0.SO on failure with a positive errno in r3
    return [f'li 0, {nr}', 'sc', 'bnslr+', 'neg 3, 3', 'blr']


def stub_s390x(name, nr, nargs):
    # Arguments 1-5 come in r2-r6, the sixth on the caller's stack at
    # 160(%r15); the kernel wants it in r7, which the callee must preserve:
    # keep it in the caller's register save area meanwhile.
    body = []
    if nargs == 6:
        body += ['stg %r7, 56(%r15)', 'lg %r7, 160(%r15)']
    if nr < 256:
        body.append(f'svc {nr}')
    else:
        body += [f'lghi %r1, {nr}', 'svc 0']
    if nargs == 6:
        body.append('lg %r7, 56(%r15)')
    body.append('br %r14')
    return body


STUBS = {'x86_64': stub_x86_64, 'aarch64': stub_aarch64, 'ppc64le': stub_ppc64le,
         's390x': stub_s390x}
FUNC_TYPE = {'x86_64': '@function', 'aarch64': '%function', 'ppc64le': '@function',
             's390x': '@function'}
ALIGN = {'x86_64': 16, 'aarch64': 4, 'ppc64le': 4, 's390x': 4}

HEAD = '/* Generated by gen/gen-syscalls.py from {tbl}: do not edit. */\n'


def gen_nr_h(entries, arch, tbl):
    out = [HEAD.format(tbl=tbl), '#ifndef CRIU_SYSCALL_NR_H', '#define CRIU_SYSCALL_NR_H', '']
    for _, nr, name, _ in sorted(entries, key=lambda e: e[1]):
        out += [f'#ifndef __NR_{name}', f'#define __NR_{name} {nr}', '#endif']
    out += ['', f'#define CRIU_SYSCALL_COUNT {len(entries)}', '', '#endif', '']
    return '\n'.join(out)


def gen_syscalls_h(entries, arch, tbl):
    out = [HEAD.format(tbl=tbl), '#ifndef CRIU_SYSCALLS_H', '#define CRIU_SYSCALLS_H', '',
           '/* Raw system calls for freestanding code: each returns the kernel\'s',
           ' * value, a negative errno on failure. */']
    for _, _, name, nargs in sorted(entries, key=lambda e: e[2]):
        params = ', '.join(f'long a{i}' for i in range(1, nargs + 1)) or 'void'
        out.append(f'long sys_{name}({params});')
    out += ['', '#endif', '']
    return '\n'.join(out)


def gen_syscalls_s(entries, arch, tbl):
    stub = STUBS[arch]
    out = [HEAD.format(tbl=tbl)]
    for _, nr, name, nargs in sorted(entries, key=lambda e: e[2]):
        sym = f'sys_{name}'
        out += [f'\t.section .text.{sym}, "ax", @progbits', f'\t.balign {ALIGN[arch]}',
                f'\t.globl {sym}', f'\t.hidden {sym}', f'\t.type {sym}, {FUNC_TYPE[arch]}',
                f'{sym}:']
        out += [f'\t{insn}' for insn in stub(name, nr, nargs)]
        out += [f'\t.size {sym}, . - {sym}', '']
    out += ['\t.section .note.GNU-stack, "", @progbits', '']
    return '\n'.join(out)


def gen_table_h(entries, arch, tbl):
    return HEAD.format(tbl=tbl) + '''#ifndef CRIU_SYSCALL_TABLE_H
#define CRIU_SYSCALL_TABLE_H

/* The syscalls of arch/<arch>/syscall.tbl, for `criu exec' and compel. */
struct syscall_info {
	const char *name;
	int nr;
	int nargs;
};

/* Sorted by name. */
extern const struct syscall_info syscall_table[];
extern const unsigned int syscall_table_size;

/* NULL when the name is not in the table. */
const struct syscall_info *syscall_lookup(const char *name);
/* NULL when the number is not in the table. */
const struct syscall_info *syscall_lookup_nr(int nr);

#endif
'''


def gen_table_c(entries, arch, tbl):
    rows = sorted(entries, key=lambda e: e[2])
    out = [HEAD.format(tbl=tbl), '#include <stdlib.h>', '#include <string.h>', '',
           '#include "syscall-table.h"', '', 'const struct syscall_info syscall_table[] = {']
    out += [f'\t{{ "{name}", {nr}, {nargs} }},' for _, nr, name, nargs in rows]
    out += ['};', '',
            'const unsigned int syscall_table_size = sizeof(syscall_table) / sizeof(syscall_table[0]);',
            '',
            'static int by_name(const void *key, const void *elem)',
            '{',
            '\treturn strcmp(key, ((const struct syscall_info *)elem)->name);',
            '}',
            '',
            'const struct syscall_info *syscall_lookup(const char *name)',
            '{',
            '\treturn bsearch(name, syscall_table, syscall_table_size, sizeof(syscall_table[0]),',
            '\t\t       by_name);',
            '}',
            '',
            'const struct syscall_info *syscall_lookup_nr(int nr)',
            '{',
            '\tfor (unsigned int i = 0; i < syscall_table_size; i++)',
            '\t\tif (syscall_table[i].nr == nr)',
            '\t\t\treturn &syscall_table[i];',
            '\treturn NULL;',
            '}', '']
    return '\n'.join(out)


OUTPUTS = {
    'syscall-nr.h': gen_nr_h,
    'syscalls.h': gen_syscalls_h,
    'syscalls.S': gen_syscalls_s,
    'syscall-table.h': gen_table_h,
    'syscall-table.c': gen_table_c,
}


def generate(arch, tbl_path, out_dir, cc=None, known=None):
    if arch not in ARCHS:
        raise TableError(f'unknown architecture {arch!r} (one of {", ".join(ARCHS)})')
    try:
        with open(tbl_path) as f:
            text = f.read()
    except OSError as e:
        raise TableError(f'{tbl_path}: {e.strerror}')
    entries = parse_table(text, tbl_path)
    if known is None:
        known = toolchain_numbers(cc)
    check(entries, known, tbl_path, cc)
    os.makedirs(out_dir, exist_ok=True)
    for fname, fn in OUTPUTS.items():
        path = os.path.join(out_dir, fname)
        tmp = path + '.tmp'
        with open(tmp, 'w') as f:
            f.write(fn(entries, arch, tbl_path))
        os.replace(tmp, path)
    return entries


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--arch', required=True)
    ap.add_argument('--cc', required=True, help='the target C compiler (checks the numbers)')
    ap.add_argument('--tbl', required=True)
    ap.add_argument('--out', required=True)
    args = ap.parse_args(argv)
    try:
        generate(args.arch, args.tbl, args.out, cc=args.cc)
    except TableError as e:
        print(f'gen-syscalls: {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
