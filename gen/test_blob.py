#!/usr/bin/python3
"""Tests of the PIE blob pipeline on all four architectures.

    /usr/bin/python3 gen/test_blob.py      (from the repository root)

Builds, through make (pie.mk), the parasite and restorer blobs and the
deliberately broken fixtures of tests/fixtures/blobs/<arch>/ for x86_64,
aarch64, ppc64le and s390x with their cross compilers, then checks that the
real blobs pass gen-blob.py and verify-blob.py, and that every fixture is
refused with the message its `expect:' line names (or accepted for
`expect: pass').  Prints `blob: N passed, N failed' last.

BLOB_TEST_SYSCALLS=/path/{arch} makes the blobs use hand-written syscall
stubs from that folder instead of $(GEN) (only to try the blobs without
gen/gen-syscalls.py).
"""

import glob
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import unittest
from concurrent.futures import ThreadPoolExecutor

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARCHS = ['x86_64', 'aarch64', 'ppc64le', 's390x']
PYTHON = '/usr/bin/python3'
FIXTURES = os.path.join(TOP, 'tests', 'fixtures', 'blobs')
REQUIRED_FIXTURES = ['abs-addr', 'abs-data', 'bad-reloc', 'stray-syscall', 'code-reloc',
                     'recursion']
ENTRY = {'parasite': 'parasite_service', 'restorer': 'restorer_main'}


def pie_stack_sizes():
    """PIE_STACK_<blob> from pie.mk: the stack sizes the blobs are built with."""
    with open(os.path.join(TOP, 'pie.mk')) as f:
        return {m.group(1): int(m.group(2))
                for m in re.finditer(r'^PIE_STACK_(\w+) := (\d+)', f.read(), re.M)}


STACK = pie_stack_sizes()


def load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(TOP, 'gen', file))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


verify_blob = load('verify_blob', 'verify-blob.py')
gen_blob = verify_blob.gen_blob


def make_cmd(arch):
    with open(os.path.join(TOP, 'Makefile')) as f:
        included = re.search(r'^\s*-?include\s+pie\.mk\b', f.read(), re.M)
    cmd = ['make', '-s', '--no-print-directory', '-f', 'Makefile']
    if not included:
        cmd += ['-f', 'pie.mk']
    cmd += [f'ARCH={arch}', 'blobs', 'blob-fixtures']
    stubs = os.environ.get('BLOB_TEST_SYSCALLS')
    if stubs:
        cmd.append('PIE_SYSCALLS=' + stubs.format(arch=arch))
    return cmd


def build(arch):
    try:
        p = subprocess.run(make_cmd(arch), cwd=TOP, capture_output=True, text=True,
                           timeout=300)
        return p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired:
        return 1, 'make timed out'


BUILT = {}


def setUpModule():
    with ThreadPoolExecutor(len(ARCHS)) as pool:
        for arch, result in zip(ARCHS, pool.map(build, ARCHS)):
            BUILT[arch] = result


def paths(arch):
    build_dir = os.path.join(TOP, 'build', arch)
    stubs = os.environ.get('BLOB_TEST_SYSCALLS')
    gen = stubs.format(arch=arch) if stubs else os.path.join(build_dir, 'gen')
    return build_dir, os.path.join(gen, 'syscalls.S')


def fixture_names(arch):
    d = os.path.join(FIXTURES, arch)
    return sorted(f[:-2] for f in os.listdir(d) if f.endswith('.S'))


def expectation(arch, name):
    with open(os.path.join(FIXTURES, arch, name + '.S')) as f:
        m = re.search(r'expect: (.*?) \*/', f.read())
    return m.group(1) if m else None


class BlobTest(unittest.TestCase):
    arch = None

    def require_build(self):
        rc, out = BUILT[self.arch]
        if rc:
            self.fail(f'make for {self.arch} failed:\n{out[-3000:]}')


def good_blob_test(arch, blob):
    def test(self):
        self.require_build()
        build_dir, stubs = paths(arch)
        elf = os.path.join(build_dir, 'pie', blob + '.elf')
        header = os.path.join(build_dir, 'gen', blob + '-blob.h')
        self.assertTrue(os.path.exists(header), f'{header} not generated')
        other = 'restorer' if blob == 'parasite' else 'parasite'
        su = [f for f in glob.glob(os.path.join(build_dir, 'pie', '*.su'))
              if not os.path.basename(f).startswith(other)]
        self.assertEqual(verify_blob.verify(elf, arch, blob, stubs, STACK[blob], su), [])
        b = gen_blob.Blob(elf, arch, blob)
        entries = {e[0]: e[1] for e in b.entries([ENTRY[blob]])}
        self.assertIn('head', entries)
        with open(header) as f:
            text = f.read()
        self.assertIn(f'#define {blob.upper()}_BLOB_ENTRY_HEAD {entries["head"]:#x}', text)
        self.assertIn(f'.size = {b.size:#x}', text)
        # Every relocated word points at the start of a function (the
        # parasite's command table) and holds its offset in the image bytes.
        funcs = {s.off for s in b.symbols if s.type == gen_blob.STT_FUNC}
        for r in b.relocs:
            self.assertIn(r.addend, funcs, f'reloc at {r.offset:#x}')
            word = int.from_bytes(b.image[r.offset:r.offset + 8],
                                  'little' if b.cfg['endian'] == '<' else 'big')
            self.assertEqual(word, r.addend)
        if blob == 'parasite':
            self.assertGreaterEqual(len(b.relocs), 4)  # the command table
        # Syscall instructions exist, all of them in the stubs.
        v = verify_blob.Verifier(b, verify_blob.stub_names_from(stubs))
        self.assertEqual(v.run(), [])
        self.assertTrue(any(v.arch.is_syscall(i) for i in v.insns))
        # The stack need covers the command handlers, reached indirectly.
        need = v.check_stack(STACK[blob], su)
        self.assertEqual(v.problems, [])
        self.assertTrue(256 < need < STACK[blob] - verify_blob.SIGNAL_RESERVE, need)
        chain = v.stack_need({}, ['__export_' + blob + '_head'])[1]
        self.assertEqual(chain[:2], ['__export_' + blob + '_head', ENTRY[blob]])
    return test


def fixture_test(arch, name):
    def test(self):
        self.require_build()
        build_dir, stubs = paths(arch)
        elf = os.path.join(build_dir, 'pie', 'fixtures', name + '.elf')
        expect = expectation(arch, name)
        self.assertIsNotNone(expect, f'{name}.S has no expect: line')
        self.assertTrue(os.path.exists(elf), f'{elf} not built')
        problems = verify_blob.verify(elf, arch, name, stubs, 16384, [])
        if expect == 'pass':
            self.assertEqual(problems, [])
            return
        self.assertTrue(problems, f'{arch}/{name} was accepted')
        self.assertTrue(any(re.search(expect, p) for p in problems),
                        f'{arch}/{name}: no problem matches {expect!r}:\n' + '\n'.join(problems))
        for p in problems:
            self.assertTrue(p.startswith(name + ': '), p)
    return test


def required_fixtures_test(arch):
    def test(self):
        missing = set(REQUIRED_FIXTURES) - set(fixture_names(arch))
        self.assertFalse(missing, f'{arch}: missing fixtures {missing}')
    return test


for _arch in ARCHS:
    _cls = type(f'Blob_{_arch}', (BlobTest,), {'arch': _arch})
    for _blob in ('parasite', 'restorer'):
        setattr(_cls, f'test_{_blob}_verifies', good_blob_test(_arch, _blob))
    for _name in fixture_names(_arch):
        setattr(_cls, f'test_fixture_{_name.replace("-", "_")}', fixture_test(_arch, _name))
    setattr(_cls, 'test_required_fixtures', required_fixtures_test(_arch))
    globals()[_cls.__name__] = _cls


class CommandLine(unittest.TestCase):
    """The tools as the Makefile runs them: exit status, messages, outputs."""
    arch = 'x86_64'

    def setUp(self):
        rc, out = BUILT[self.arch]
        if rc:
            self.fail(f'make for {self.arch} failed:\n{out[-3000:]}')
        self.build_dir, self.stubs = paths(self.arch)

    def run_tool(self, *args):
        return subprocess.run([PYTHON, *args], cwd=TOP, capture_output=True, text=True)

    def test_gen_blob_refuses_and_writes_nothing(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, 'x.h')
            p = self.run_tool('gen/gen-blob.py', '--arch', self.arch, '--name', 'bad-reloc',
                              '-o', out, os.path.join(self.build_dir, 'pie', 'fixtures',
                                                      'bad-reloc.elf'))
            self.assertEqual(p.returncode, 1)
            self.assertRegex(p.stderr, r'gen-blob: bad-reloc: unsupported relocation '
                                       r'R_X86_64_IRELATIVE at offset 0x[0-9a-f]+')
            self.assertFalse(os.path.exists(out))

    def test_verify_blob_exit_status(self):
        fx = os.path.join(self.build_dir, 'pie', 'fixtures', 'stray-syscall.elf')
        p = self.run_tool('gen/verify-blob.py', '--arch', self.arch, '--name', 'stray',
                          '--stubs', self.stubs, fx)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr, r'verify-blob: x86_64: stray: offset 0x[0-9a-f]+ '
                                   r'\(__export_fixture_head\+0x[0-9a-f]+\): `syscall\'')
        good = os.path.join(self.build_dir, 'pie', 'parasite.elf')
        p = self.run_tool('gen/verify-blob.py', '--arch', self.arch, '--name', 'parasite',
                          '--stubs', self.stubs, good)
        self.assertEqual((p.returncode, p.stderr), (0, ''))

    def test_wrong_arch_is_refused(self):
        p = self.run_tool('gen/gen-blob.py', '--arch', 'aarch64', '--name', 'parasite', '-o',
                          os.devnull, os.path.join(self.build_dir, 'pie', 'parasite.elf'))
        self.assertEqual(p.returncode, 1)
        self.assertIn('not a aarch64 ELF file', p.stderr)

    def test_stubs_are_only_the_generated_ones(self):
        # Without the sys_* names of syscalls.S nothing counts as a stub.
        b = gen_blob.Blob(os.path.join(self.build_dir, 'pie', 'parasite.elf'), self.arch,
                          'parasite')
        problems = verify_blob.Verifier(b, set()).run()
        self.assertTrue(problems)
        self.assertTrue(all('syscall instruction outside the syscall stubs' in p
                            for p in problems))


def main():
    os.chdir(TOP)
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=1 if not os.environ.get('VERBOSE') else 2,
                                     stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print(f'blob: {passed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
