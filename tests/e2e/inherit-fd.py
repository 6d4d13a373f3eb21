#!/usr/bin/python3
"""Files that are not criu's to open: restore --inherit-fd fd[N]:KEY, dump
--external file[MNT_ID:INODE] (issue 11).

    inherit-fd.py CRIU SCRATCH

A python writer counts "tick N" lines into a pipe whose reader is ours, a
log file, or an unlinked file.  Each case dumps it, restores it with criu's
fd N standing in for that file, and checks that the restored writer goes on
counting into what we gave (and not into the old file).  The bad cases: an
--inherit-fd that names nothing, one whose fd criu does not have, an
external file restored without one; each is one error, nothing is left.

Runs as a child subreaper (reaps what it started).  Prints PASS/FAIL lines
and "inherit-fd: N passed, N failed".
"""

import os
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import criu, run_tests, setup, started, state, tree_of, wait_gone  # noqa: E402

SCRATCH = setup(sys.argv)

# argv: MODE [PATH].  stdout: fd 1 (a pipe); file: PATH opened for append;
# deleted: PATH opened, then unlinked.  Writes a line every 50 ms forever.
WRITER = r'''
import os, sys, time
mode = sys.argv[1]
fd = 1
if mode != 'stdout':
    fd = os.open(sys.argv[2], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    if mode == 'deleted':
        os.unlink(sys.argv[2])
n = 0
while True:
    os.write(fd, b'tick %d\n' % n)
    n += 1
    time.sleep(0.05)
'''


def start_writer(mode, path=None, stdout=subprocess.DEVNULL):
    p = subprocess.Popen([sys.executable, '-c', WRITER, mode] + ([path] if path else []),
                         start_new_session=True, stdin=subprocess.DEVNULL, stdout=stdout,
                         stderr=subprocess.DEVNULL)
    started.append(p.pid)
    return p.pid


def ticks(text):
    return [int(line.split()[1]) for line in text.splitlines() if line.startswith('tick ')]


def wait_ticks(path, n, timeout=10):
    """The ticks in path once there are at least n of them, or None."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            with open(path) as f:
                t = ticks(f.read())
            if len(t) >= n:
                return t
        except OSError:
            pass
        time.sleep(0.05)
    return None


def dump(d, pid, *extra):
    img = os.path.join(d, 'img')
    os.makedirs(img, exist_ok=True)
    pids = tree_of(pid)
    r = criu('dump', '-t', str(pid), '-D', img, '-o', 'dump.log', '-v4', *extra)
    if r.returncode:
        return None, f'dump failed ({r.returncode}): {r.stdout.decode()[-300:]}'
    if not wait_gone(pids):
        return None, 'the dumped tree is still there'
    return img, None


def restore(img, fd, key):
    return criu('restore', '-D', img, '-o', 'restore.log', '-v4', '-d',
                '--inherit-fd', f'fd[{fd}]:{key}', pass_fds=(fd,))


def test_pipe(d):
    """Its stdout is a pipe to us: restored, it writes into a new pipe we give."""
    r, w = os.pipe()
    pid = start_writer('stdout', stdout=w)
    ino = os.fstat(w).st_ino
    os.close(w)
    before = b''
    end = time.time() + 10
    while before.count(b'\n') < 3 and time.time() < end:
        if select.select([r], [], [], 0.5)[0]:
            before += os.read(r, 4096)
    if before.count(b'\n') < 3:
        return 'the writer does not write'
    img, err = dump(d, pid)
    if err:
        return err
    os.close(r)
    r2, w2 = os.pipe()
    res = restore(img, w2, f'pipe:[{ino}]')
    os.close(w2)
    if res.returncode:
        return f'restore failed: {res.stdout.decode()[-300:]}'
    after = b''
    end = time.time() + 10
    while after.count(b'\n') < 3 and time.time() < end:
        if select.select([r2], [], [], 0.5)[0]:
            after += os.read(r2, 4096)
    os.close(r2)
    got, last = ticks(after.decode()), ticks(before.decode())[-1]
    if len(got) < 2 or got[0] <= last or got != list(range(got[0], got[0] + len(got))):
        return f'after restore the pipe we gave got {got[:5]}, want ticks after {last}'
    return None


def test_file(d):
    """A log file: restored, it appends to another file we give, by its path."""
    a, b = os.path.join(d, 'log-a'), os.path.join(d, 'log-b')
    pid = start_writer('file', a)
    if not wait_ticks(a, 3):
        return 'the writer does not write'
    img, err = dump(d, pid)
    if err:
        return err
    done = len(ticks(open(a).read()))
    fd = os.open(b, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    res = restore(img, fd, os.path.realpath(a).lstrip('/'))
    os.close(fd)
    if res.returncode:
        return f'restore failed: {res.stdout.decode()[-300:]}'
    got = wait_ticks(b, 3)
    if not got or got[0] < done:
        return f'the file we gave got {got and got[:5]}, want ticks from {done}'
    if len(ticks(open(a).read())) != done:
        return 'the restored writer still writes to its old file'
    return None


def external_key(pid, fd):
    with open(f'/proc/{pid}/fdinfo/{fd}') as f:
        mnt = int([l.split()[1] for l in f if l.startswith('mnt_id:')][0])
    return 'file[%x:%x]' % (mnt, os.stat(f'/proc/{pid}/fd/{fd}').st_ino)


def test_external(d):
    """An unlinked file dumped as --external file[...] comes back from --inherit-fd;
    without one, restore stops and says which."""
    path = os.path.join(d, 'gone')
    pid = start_writer('deleted', path)
    end = time.time() + 10
    while True:  # fd 3 is the file, unlinked (python may hold others at first)
        try:
            if os.readlink(f'/proc/{pid}/fd/3') == path + ' (deleted)':
                break
        except OSError:
            pass
        if time.time() > end:
            return 'the writer did not start'
        time.sleep(0.05)
    key = external_key(pid, 3)
    img, err = dump(d, pid, '--external', key)
    if err:
        return err
    res = criu('restore', '-D', img, '-o', 'restore.log', '-v4', '-d')
    text = res.stdout.decode()
    if res.returncode != 1 or '--inherit-fd' not in text or key not in text:
        return f'restore without --inherit-fd: exit {res.returncode}: {text[-300:]}'
    if state(pid) not in (None, 'Z'):
        return f'pid {pid} was left after the refused restore'
    new = os.path.join(d, 'given')
    fd = os.open(new, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    res = restore(img, fd, key)
    os.close(fd)
    if res.returncode:
        return f'restore failed: {res.stdout.decode()[-300:]}'
    if not wait_ticks(new, 3):
        return 'the restored writer does not write to the file we gave'
    return None


def test_no_match(d):
    """An --inherit-fd naming no file of the images, and one of an fd criu has not."""
    pid = start_writer('file', os.path.join(d, 'log'))
    if not wait_ticks(os.path.join(d, 'log'), 1):
        return 'the writer does not write'
    img, err = dump(d, pid)
    if err:
        return err
    fd = os.open('/dev/null', os.O_WRONLY)
    cases = [(restore(img, fd, 'no/such/file'), ('--inherit-fd', 'no/such/file')),
             (criu('restore', '-D', img, '-d', '--inherit-fd', 'fd[987]:tmp/x'),
              ('--inherit-fd', 'fd 987'))]
    os.close(fd)
    for res, words in cases:
        text = res.stdout.decode()
        errs = [l for l in text.splitlines() if 'Error' in l]
        if res.returncode != 1 or not errs or any(w not in ' '.join(errs) for w in words):
            return f'exit {res.returncode}, want 1 and an error naming {words}: {text[-300:]}'
        if state(pid) not in (None, 'Z'):
            return f'pid {pid} was left after the refused restore'
    return None


def main():
    tests = [('pipe', test_pipe), ('file', test_file), ('external', test_external),
             ('no-match', test_no_match)]
    return run_tests('inherit-fd', tests, SCRATCH)


if __name__ == '__main__':
    sys.exit(main())
