#!/usr/bin/python3
"""Tests of gen/gen-syscalls.py.   /usr/bin/python3 gen/test_gen.py

Checks the table parser, the number check against each architecture's
toolchain, and that the generated stubs assemble and the generated table
compiles and answers lookups.  Prints `gen: N passed, N failed' last.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CC = {'x86_64': 'gcc', 'aarch64': 'aarch64-linux-gnu-gcc',
      'ppc64le': 'powerpc64le-linux-gnu-gcc', 's390x': 's390x-linux-gnu-gcc'}
if os.uname().machine != 'x86_64':
    CC[os.uname().machine] = 'gcc'
    CC['x86_64'] = 'x86_64-linux-gnu-gcc'

spec = importlib.util.spec_from_file_location('gen_syscalls',
                                              os.path.join(TOP, 'gen', 'gen-syscalls.py'))
gs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gs)


def tbl(arch):
    return os.path.join(TOP, 'arch', arch, 'syscall.tbl')


class ParseTest(unittest.TestCase):
    def test_good_table(self):
        e = gs.parse_table('# c\n0 read 3\n\n1 write 3  # trailing\n')
        self.assertEqual([(n, name, a) for _, n, name, a in e],
                         [(0, 'read', 3), (1, 'write', 3)])

    def assertBad(self, text, pattern):
        with self.assertRaises(gs.TableError) as cm:
            gs.parse_table(text, 't.tbl')
        self.assertRegex(str(cm.exception), pattern)

    def test_bad_lines(self):
        self.assertBad('0 read\n', r't\.tbl:1: expected "NUMBER NAME NARGS"')
        self.assertBad('x read 3\n', r't\.tbl:1: syscall number .x. is not a number')
        self.assertBad('0 Read 3\n', r'bad syscall name')
        self.assertBad('0 read 7\n', r'argument count of read must be 0\.\.6')
        self.assertBad('0 read 3\n1 read 3\n', r't\.tbl:2: read already listed on line 1')
        self.assertBad('0 read 3\n0 write 3\n', r't\.tbl:2: number 0 of write already used by read')
        self.assertBad('# nothing\n', r'no syscalls listed')

    def test_defines(self):
        d = gs.parse_defines('#define __NR_a 5\n#define BASE 100\n#define __NR_b (BASE + 3)\n'
                             '#define __NR_c __NR_b\n#define __NR_d foo(1)\n#define EMPTY\n'
                             '#define __NR_e 7\n')
        self.assertEqual(d, {'a': 5, 'b': 103, 'c': 103, 'e': 7})

    def test_mismatch_names_the_line(self):
        e = gs.parse_table('0 read 3\n2 write 3\n5 nosuch 1\n', 'x.tbl')
        with self.assertRaises(gs.TableError) as cm:
            gs.check(e, {'read': 0, 'write': 1}, 'x.tbl', 'cc')
        msg = str(cm.exception)
        self.assertIn('x.tbl:2: write is 2 here but 1 in <asm/unistd.h> of cc', msg)
        self.assertIn('x.tbl:3: nosuch is not in <asm/unistd.h> of cc', msg)
        self.assertNotIn('read', msg)


class ToolchainTest(unittest.TestCase):
    """Every architecture's table against its own cross toolchain."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def run_arch(self, arch):
        cc = CC[arch]
        if not shutil.which(cc):
            self.fail(f'{cc} is missing (make deps installs it)')
        out = os.path.join(self.tmp, arch)
        entries = gs.generate(arch, tbl(arch), out, cc=cc)
        names = {e[2] for e in entries}
        # what the blobs and compel need, everywhere
        for n in ('getpid', 'gettid', 'mmap', 'munmap', 'rt_sigaction', 'rt_sigreturn',
                  'vmsplice', 'futex', 'exit_group', 'getitimer', 'close', 'openat',
                  'clone3', 'process_vm_readv', 'memfd_create', 'ptrace', 'kcmp'):
            self.assertIn(n, names, f'{arch}: {n} missing from syscall.tbl')
        # the stubs assemble, each in its own section
        obj = os.path.join(out, 'syscalls.o')
        p = subprocess.run([cc, '-c', '-o', obj, os.path.join(out, 'syscalls.S')],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = subprocess.run([cc.replace('gcc', 'objdump'), '-h', obj], capture_output=True,
                           text=True)
        if p.returncode == 0:
            self.assertIn('.text.sys_getpid', p.stdout)
        # the table compiles and its numbers agree with the header
        with open(os.path.join(out, 'syscall-nr.h')) as f:
            nr_h = f.read()
        for _, nr, name, _ in entries:
            self.assertIn(f'#define __NR_{name} {nr}\n', nr_h)
        p = subprocess.run([cc, '-c', '-Wall', '-Werror', '-I', out, '-o',
                            os.path.join(out, 't.o'), os.path.join(out, 'syscall-table.c')],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        return entries, out

    def test_x86_64(self):
        entries, out = self.run_arch('x86_64')
        # run a lookup program on the host
        if os.uname().machine == 'x86_64':
            prog = os.path.join(out, 'lookup.c')
            with open(prog, 'w') as f:
                f.write('#include <stdio.h>\n#include "syscall-table.h"\n'
                        'int main(int c, char **v) { const struct syscall_info *s = '
                        'syscall_lookup(v[1]); if (!s) return 3; '
                        'printf("%d %d\\n", s->nr, s->nargs); return 0; }\n')
            exe = os.path.join(out, 'lookup')
            subprocess.run(['gcc', '-I', out, '-o', exe, prog,
                            os.path.join(out, 'syscall-table.c')], check=True)
            self.assertEqual(subprocess.run([exe, 'openat'], capture_output=True,
                                            text=True).stdout, '257 4\n')
            self.assertEqual(subprocess.run([exe, 'close'], capture_output=True,
                                            text=True).stdout, '3 1\n')
            self.assertEqual(subprocess.run([exe, 'nosuch']).returncode, 3)
            self.assertEqual(subprocess.run([exe, 'aaa']).returncode, 3)
            self.assertEqual(subprocess.run([exe, 'zzz']).returncode, 3)

    def test_aarch64(self):
        entries, _ = self.run_arch('aarch64')
        self.assertNotIn('open', {e[2] for e in entries})  # only openat there

    def test_ppc64le(self):
        _, out = self.run_arch('ppc64le')
        with open(os.path.join(out, 'syscalls.S')) as f:
            self.assertIn('bnslr', f.read())  # errno sign fixup

    def test_s390x(self):
        entries, out = self.run_arch('s390x')
        self.assertEqual({e[2]: e[3] for e in entries}['mmap'], 1)  # old_mmap
        with open(os.path.join(out, 'syscalls.S')) as f:
            s = f.read()
        # numbers >= 256 go through r1
        self.assertRegex(s, r'sys_clone3:\n\tlghi %r1, 435\n\tsvc 0')

    def test_wrong_number_fails_the_build(self):
        bad = os.path.join(self.tmp, 'bad.tbl')
        with open(tbl('x86_64' if os.uname().machine == 'x86_64' else 'aarch64')) as f:
            text = f.read()
        text = re.sub(r'^(\d+)(\tgetpid\t)', lambda m: str(int(m.group(1)) + 1000) + m.group(2),
                      text, flags=re.M)
        with open(bad, 'w') as f:
            f.write(text)
        arch = 'x86_64' if os.uname().machine == 'x86_64' else 'aarch64'
        p = subprocess.run([sys.executable, os.path.join(TOP, 'gen', 'gen-syscalls.py'),
                            '--arch', arch, '--cc', CC[arch], '--tbl', bad, '--out',
                            os.path.join(self.tmp, 'o')], capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr, r'bad\.tbl:\d+: getpid is \d+ here but \d+ in <asm/unistd.h>')
        self.assertFalse(os.path.exists(os.path.join(self.tmp, 'o', 'syscall-nr.h')))

    def test_unknown_arch(self):
        with self.assertRaises(gs.TableError):
            gs.generate('mips', tbl('x86_64'), self.tmp, known={})


if __name__ == '__main__':
    r = unittest.main(exit=False, verbosity=1).result
    failed = len(r.failures) + len(r.errors)
    print(f'gen: {r.testsRun - failed} passed, {failed} failed')
    sys.exit(1 if failed else 0)
