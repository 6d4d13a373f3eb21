#!/usr/bin/python3
"""Terminals beyond what one e2e program can set up (core/files/tty.c).

    terminals.py CRIU SCRATCH PROGS

PROGS is the directory of the built tests/e2e/progs.

  index-taken      a pty whose index another process holds when the dump is
                   restored comes back as another pty: tty-pty checks from
                   inside that ptsname and ttyname name the new one and work
  unpaired-needs-j the job's terminal of a dump taken with --shell-job (a
                   slave whose master is not in the images) is refused by a
                   restore without -j, naming --shell-job, with nothing left
  tty-data         an upstream tty-data.img (bytes queued in a terminal) is
                   refused by name, with nothing left

Prints PASS/FAIL lines and "tty: N passed, N failed".
"""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import criu, reap, run_tests, setup, started, tree_of, wait_gone  # noqa: E402

SCRATCH = setup(sys.argv)
PROGS = os.path.abspath(sys.argv[3])


def start_prog(d, name):
    """Starts PROGS/name in its own session in d/work; its pid, or None."""
    work = os.path.join(d, 'work')
    os.makedirs(work, exist_ok=True)
    pidfile = os.path.join(work, 'pid')
    log = open(os.path.join(d, 'prog.log'), 'w')
    p = subprocess.Popen([os.path.join(PROGS, name), '--pidfile', pidfile, '--outfile',
                          os.path.join(work, 'out')], cwd=work, stdin=subprocess.DEVNULL,
                         stdout=log, stderr=log, start_new_session=True)
    started.append(p.pid)
    end = time.time() + 10
    while not os.path.exists(pidfile) and time.time() < end:
        time.sleep(0.01)
    return p.pid if os.path.exists(pidfile) else None


def verdict(d, pid):
    """SIGTERMs the restored program; its verdict line (or why there is none)."""
    os.kill(pid, 15)
    out = os.path.join(d, 'work', 'out')
    end = time.time() + 20
    while time.time() < end:
        reap()
        if os.path.exists(out) and open(out).read().endswith('\n'):
            return open(out).read().strip()
        time.sleep(0.05)
    return 'no verdict'


def dumped_indexes(img):
    r = criu('show', '--json', '-f', os.path.join(img, 'tty-info.img'))
    entries = json.loads(r.stdout.decode())['entries']
    return sorted({e['pty']['index'] for e in entries if e.get('pty')})


def pty_index(fd):
    """The index of the pty whose master is fd (fdinfo's tty-index)."""
    with open(f'/proc/self/fdinfo/{fd}') as f:
        for line in f:
            if line.startswith('tty-index:'):
                return int(line.split()[1])
    raise RuntimeError('no tty-index in fdinfo')


def dump_tty_pty(d):
    """Starts tty-pty and dumps it to d/img: (pid, img, pty index), or a reason."""
    pid = start_prog(d, 'tty-pty')
    if not pid:
        return 'tty-pty did not start'
    img = os.path.join(d, 'img')
    os.makedirs(img)
    tree = tree_of(pid)  # tty-pty forks: wait for every process, not just the root
    r = criu('dump', '-t', str(pid), '-D', img, '-o', 'dump.log', '-v4')
    if r.returncode:
        return f'dump failed: {r.stdout.decode()[-300:]}'
    if not wait_gone(tree):
        return 'the dumped program is still there'
    (index,) = dumped_indexes(img)
    return pid, img, index


def test_index_taken(d):
    dumped = dump_tty_pty(d)
    if isinstance(dumped, str):
        return dumped
    pid, img, index = dumped
    # take that index: new ptys get the lowest free one
    held, mine = [], None
    for _ in range(index + 2):
        fd = os.open('/dev/ptmx', os.O_RDWR | os.O_NOCTTY)
        held.append(fd)
        if pty_index(fd) >= index:
            mine = pty_index(fd)
            break
    try:
        if mine != index:
            print(f'  (pty {index} was taken by someone else before us: checked anyway)')
        r = criu('restore', '-D', img, '-o', 'restore.log', '-v4', '-d')
        if r.returncode:
            return f'restore failed: {r.stdout.decode()[-300:]}'
        log = open(os.path.join(img, 'restore.log')).read()
        if f'pty {index} is taken' not in log:
            return f'restore.log does not say pty {index} was taken'
        v = verdict(d, pid)
        return None if v == 'PASS' else f'the restored tty-pty says {v}'
    finally:
        for fd in held:
            os.close(fd)


def restore_refused(d, img, words, extra=()):
    """Restores img; None if it was refused with words and left nothing."""
    before = set(tree_of(os.getpid()))
    r = criu('restore', '-D', img, '-o', 'restore.log', '-v4', '-d', *extra)
    out = r.stdout.decode(errors='replace')
    time.sleep(0.2)
    reap()
    left = set(tree_of(os.getpid())) - before
    if r.returncode == 0:
        return f'restore was accepted: {out[-300:]}'
    errs = [line for line in out.splitlines() if 'Error' in line]
    if not errs or not all(w in errs[0] for w in words):
        return f'the first error does not name {words}: {errs[:1] or out[-300:]}'
    if left:
        return f'a refused restore left {sorted(left)}'
    return None


def test_unpaired_needs_j(d):
    # a session leader whose controlling terminal is a slave of ours
    master, slave = os.openpty()
    name = os.ttyname(slave)
    code = ('import os, sys, time\n'
            'fd = os.open(sys.argv[1], os.O_RDWR)\n'
            'open(sys.argv[2], "w").close()\n'
            'time.sleep(1000)\n')
    ready = os.path.join(d, 'ready')
    p = subprocess.Popen([sys.executable, '-c', code, name, ready], start_new_session=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    started.append(p.pid)
    try:
        end = time.time() + 10
        while not os.path.exists(ready) and time.time() < end:
            time.sleep(0.02)
        img = os.path.join(d, 'img')
        os.makedirs(img)
        r = criu('dump', '-t', str(p.pid), '-D', img, '-o', 'dump.log', '-v4', '-j')
        if r.returncode:
            return f'dump -j failed: {r.stdout.decode()[-300:]}'
        if not wait_gone([p.pid]):
            return 'the dumped program is still there'
        return restore_refused(d, img, ('pty slave', '--shell-job'))
    finally:
        os.close(slave)
        os.close(master)


def test_tty_data(d):
    dumped = dump_tty_pty(d)
    if isinstance(dumped, str):
        return dumped
    _, img, index = dumped
    # one tty_data_entry as upstream writes it: tty_id, data (magic TTY_DATA)
    body = bytes([0x08, 2 * index + 1, 0x12, 3]) + b'abc'
    with open(os.path.join(img, 'tty-data.img'), 'wb') as f:
        f.write((0x54564319).to_bytes(4, 'little') + (0x59413026).to_bytes(4, 'little'))
        f.write(len(body).to_bytes(4, 'little') + body)
    return restore_refused(d, img, ('tty-data.img', 'queued', 'not restored'))


def main():
    tests = [('index-taken', test_index_taken), ('unpaired-needs-j', test_unpaired_needs_j),
             ('tty-data', test_tty_data)]
    return run_tests('tty', tests, SCRATCH, where=' (logs in {dir}/img)')


if __name__ == '__main__':
    sys.exit(main())
