#!/usr/bin/python3
"""Messages that say what is wrong (issue 9, part 5).

    messages.py CRIU SCRATCH

- a PID restore needs, held by a zombie its parent has not reaped: the
  error says zombie and names the parent; held by a kernel thread: says so;
- dump of a kernel thread: says it is one;
- a truncated pages image: named, with the offset where it ends, refused
  before any task is created;
- bytes after the only entry of a single-entry image (core, mm, fs):
  refused as trailing data, naming the image;
- restore from an empty dir: the first message names pstree.img (no
  cpuinfo warning before it).

Runs as a child subreaper.  Prints PASS/FAIL lines and
"messages: N passed, N failed".
"""

import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import criu, run_tests, setup, spawn, started, state, wait_gone  # noqa: E402

SCRATCH = setup(sys.argv)

MEMORY = r'''
import os, sys, time
b = bytearray(1 << 20)
for i in range(0, len(b), 4096):
    b[i] = 1
open(sys.argv[1], 'w').write('ready')
time.sleep(1000)
'''


def out_of(r):
    return r.stdout.decode(errors='replace')


def first_error(r):
    """Exit 1 and the first error line, or (None, what is wrong)."""
    out = out_of(r)
    if r.returncode != 1:
        return None, f'exit {r.returncode}, want 1: {out[-400:]}'
    errs = [line for line in out.splitlines() if 'Error' in line]
    if not errs:
        return None, f'no error line: {out[-400:]}'
    return errs[0], None


def names(line, *words):
    for w in words:
        if w not in line:
            return f'the error does not name {w!r}: {line}'
    return None


def wait_file(path, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path):
            return True
        time.sleep(0.05)
    return False


def dumped_memory(d):
    """A process with 1 MiB of memory, dumped (and gone) into d/img."""
    ready = os.path.join(d, 'ready')
    pid = spawn([sys.executable, '-c', MEMORY, ready])
    if not wait_file(ready):
        raise RuntimeError('the memory holder did not start')
    img = os.path.join(d, 'img')
    os.makedirs(img, exist_ok=True)
    r = criu('dump', '-t', str(pid), '-D', img, '-o', 'dump.log')
    if r.returncode:
        raise RuntimeError(f'dump failed: {out_of(r)[-300:]}')
    if not wait_gone([pid]):
        raise RuntimeError(f'the dumped {pid} is still there')
    return pid, img


def restore_refused(img, pid, *words):
    r = criu('restore', '-D', img, '-d', '-o', 'restore.log')
    line, err = first_error(r)
    if not err:
        err = names(line, *words)
    if not err and state(pid) not in (None, 'Z'):
        err = f'pid {pid} was left after the refused restore'
    if r.returncode == 0:
        started.append(pid)
    return err


# ---- PIDs held by something else -------------------------------------------------------

# The parent forks a child in a session of its own and never reaps it.
UNREAPED = r'''
import os, sys, time
child = os.fork()
if child == 0:
    os.setsid()
    open(sys.argv[1], 'w').write(str(os.getpid()))
    time.sleep(1000)
    os._exit(0)
time.sleep(1000)
'''


def test_zombie_pid(d):
    ready = os.path.join(d, 'child')
    parent = spawn([sys.executable, '-c', UNREAPED, ready])
    if not wait_file(ready):
        return 'the child did not start'
    time.sleep(0.1)
    with open(ready) as f:
        child = int(f.read())
    img = os.path.join(d, 'img')
    os.makedirs(img, exist_ok=True)
    r = criu('dump', '-t', str(child), '-D', img, '-o', 'dump.log')
    if r.returncode:
        return f'dump of the child failed: {out_of(r)[-300:]}'
    end = time.time() + 10
    while state(child) != 'Z' and time.time() < end:
        time.sleep(0.05)
    if state(child) != 'Z':
        return f'the dumped child {child} is not a zombie: state {state(child)}'
    r = criu('restore', '-D', img, '-d', '-o', 'restore.log')
    line, err = first_error(r)
    if err:
        return err
    err = names(line, str(child), 'zombie', f'parent {parent}', 'reaped')
    if not err and state(child) != 'Z':
        err = f'the zombie {child} was touched: state {state(child)}'
    return err


def kernel_thread():
    """A kernel thread's pid and comm (kthreadd, normally pid 2)."""
    for pid in [2] + sorted(int(p) for p in os.listdir('/proc') if p.isdigit()):
        try:
            with open(f'/proc/{pid}/stat') as f:
                text = f.read()
        except OSError:
            continue
        comm = text[text.index('(') + 1:text.rindex(')')]
        flags = int(text[text.rindex(')') + 2:].split()[6])
        if flags & 0x00200000:  # PF_KTHREAD
            return pid, comm
    return None, None


def test_dump_kernel_thread(d):
    pid, comm = kernel_thread()
    if not pid:
        return 'no kernel thread found'
    line, err = first_error(criu('dump', '-t', str(pid), '-D', d, '-o', 'dump.log'))
    return err or names(line, f'{pid} ({comm})', 'kernel thread')


def pb_varint(v):
    out = b''
    while True:
        b = v & 0x7f
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def pb_field(num, v):
    return pb_varint(num << 3) + pb_varint(v)


def test_kernel_thread_pid(d):
    """The images of a dumped process renamed to a kernel thread's pid."""
    kpid, comm = kernel_thread()
    if not kpid:
        return 'no kernel thread found'
    pid, img = dumped_memory(d)
    for f in os.listdir(img):
        base, dash, rest = f.rpartition('-')
        if rest == f'{pid}.img' and base != 'pages':
            os.rename(os.path.join(img, f), os.path.join(img, f'{base}-{kpid}.img'))
    path = os.path.join(img, 'pstree.img')
    with open(path, 'rb') as f:
        magics = f.read(8)
    entry = (pb_field(1, kpid) + pb_field(2, 0) + pb_field(3, kpid) + pb_field(4, kpid) +
             pb_field(5, kpid))
    with open(path, 'wb') as f:
        f.write(magics + struct.pack('<I', len(entry)) + entry)
    line, err = first_error(criu('restore', '-D', img, '-d', '-o', 'restore.log'))
    return err or names(line, f'PID {kpid}', 'kernel thread', comm)


# ---- broken images -------------------------------------------------------------------------

def test_truncated_pages(d):
    pid, img = dumped_memory(d)
    # named by the pagemap's pages_id, as upstream names it: one task, one file
    pages = [n for n in os.listdir(img) if n.startswith('pages-') and n.endswith('.img')][0]
    with open(os.path.join(img, pages), 'r+b') as f:
        f.truncate(8192)
    return restore_refused(img, pid, pages, 'truncated', 'offset 8192')


def test_trailing_data(d):
    pid, img = dumped_memory(d)
    for kind in ('core', 'mm', 'fs'):
        path = os.path.join(img, f'{kind}-{pid}.img')
        with open(path, 'rb') as f:
            good = f.read()
        with open(path, 'ab') as f:
            f.write(b'\x01\x02\x03')
        err = restore_refused(img, pid, f'{kind}-{pid}.img', 'trailing data')
        if err:
            return f'{kind}: {err}'
        with open(path, 'wb') as f:
            f.write(good)
    return None


def test_empty_dir(d):
    empty = os.path.join(d, 'empty')
    os.makedirs(empty)
    r = criu('restore', '-D', empty)
    out = out_of(r)
    if r.returncode != 1:
        return f'exit {r.returncode}, want 1: {out[-300:]}'
    said = [line for line in out.splitlines() if 'Error' in line or 'Warn' in line]
    if not said:
        return f'nothing said: {out[-300:]}'
    return names(said[0], 'pstree.img', 'missing')


def main():
    tests = [('zombie-pid', test_zombie_pid), ('dump-kernel-thread', test_dump_kernel_thread),
             ('kernel-thread-pid', test_kernel_thread_pid),
             ('truncated-pages', test_truncated_pages), ('trailing-data', test_trailing_data),
             ('empty-dir', test_empty_dir)]
    return run_tests('messages', tests, SCRATCH, subdirs=('img',), where=' (logs in {dir}/img)')


if __name__ == '__main__':
    sys.exit(main())
