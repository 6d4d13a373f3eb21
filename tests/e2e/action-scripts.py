#!/usr/bin/python3
"""--action-script: the points of a dump and of a restore, in upstream's
order, with upstream's environment (CRTOOLS_SCRIPT_ACTION, CRTOOLS_INIT_PID,
CRTOOLS_IMAGE_DIR); every script runs at each point, in order; a script
that fails post-dump leaves the tree running (not stopped), one that fails
pre-restore restores nothing, one that fails pre-resume gets the restored
tree killed; a failing post-resume is only reported.

    action-scripts.py CRIU SCRATCH PROG

PROG is an e2e program (tests/e2e/progs): --pidfile when set up, PASS in
--outfile after SIGTERM.  Runs as a child subreaper (harness.py).
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import criu, run_tests, setup, spawn, state, wait_gone  # noqa: E402

SCRATCH = setup(sys.argv)
PROG = os.path.abspath(sys.argv[3])

DUMP_POINTS = ['pre-dump', 'post-dump']
RESTORE_POINTS = ['pre-restore', 'setup-namespaces', 'post-setup-namespaces', 'pre-resume',
                  'post-restore', 'post-resume']


def script(d, name, fail_at=None):
    """A script logging 'NAME ACTION PID IMAGE_DIR' to d/points; exit 1 at fail_at."""
    path = os.path.join(d, name)
    with open(path, 'w') as f:
        f.write('#!/bin/sh\n'
                f'echo "{name} $CRTOOLS_SCRIPT_ACTION ${{CRTOOLS_INIT_PID:--}} '
                f'$CRTOOLS_IMAGE_DIR" >>{d}/points\n')
        if fail_at:
            f.write(f'[ "$CRTOOLS_SCRIPT_ACTION" = {fail_at} ] && exit 1\n')
        f.write('exit 0\n')
    os.chmod(path, 0o755)
    return path


def points(d):
    try:
        with open(os.path.join(d, 'points')) as f:
            lines = [ln.split() for ln in f.read().splitlines()]
    except FileNotFoundError:
        lines = []
    os.unlink(os.path.join(d, 'points')) if lines else None
    return lines


def start(d):
    pidfile, out = os.path.join(d, 'prog.pid'), os.path.join(d, 'prog.out')
    pid = spawn([PROG, '--pidfile', pidfile, '--outfile', out])
    for _ in range(2000):
        if os.path.exists(pidfile) and os.path.getsize(pidfile):
            return pid
        time.sleep(0.01)
    raise RuntimeError(f'{PROG} never wrote {pidfile}')


def verdict(d):
    out = os.path.join(d, 'prog.out')
    for _ in range(1000):
        if os.path.exists(out) and os.path.getsize(out):
            with open(out) as f:
                return f.read().strip()
        time.sleep(0.01)
    return 'no verdict'


def check_points(got, names, want, pid, img, pid_from):
    """Each point once per script, in order; pid from pid_from on, the images dir."""
    expect = [(n, p) for p in want for n in names]
    if [(g[0], g[1]) for g in got] != expect:
        return f'points {[(g[0], g[1]) for g in got]}, want {expect}'
    for i, g in enumerate(got):
        want_pid = str(pid) if i // len(names) >= pid_from else '-'
        if g[2] != want_pid or g[3] != img:
            return f'{g[1]}: CRTOOLS_INIT_PID {g[2]} (want {want_pid}), ' \
                   f'CRTOOLS_IMAGE_DIR {g[3]} (want {img})'
    return None


def test_points(d):
    """Two scripts see every point of a dump and a restore, in order."""
    img = os.path.join(d, 'img')
    a, b = script(d, 'a'), script(d, 'b')
    pid = start(d)
    r = criu('dump', '-t', str(pid), '-D', img, '-o', 'dump.log', '--action-script', a,
             '--action-script', b)
    if r.returncode:
        return f'dump failed: {r.stdout.decode()[-300:]}'
    if not wait_gone([pid]):
        return 'the dumped process is still there'
    err = check_points(points(d), ['a', 'b'], DUMP_POINTS, pid, img, 0)
    if err:
        return 'dump: ' + err
    r = criu('restore', '-d', '-D', img, '-o', 'restore.log', '--action-script', a,
             '--action-script', b)
    if r.returncode:
        return f'restore failed: {r.stdout.decode()[-300:]}'
    err = check_points(points(d), ['a', 'b'], RESTORE_POINTS, pid, img, 1)
    if err:
        return 'restore: ' + err
    os.kill(pid, signal.SIGTERM)
    v = verdict(d)
    return None if v.startswith('PASS') else f'restored process: {v}'


def test_post_dump_fails(d):
    """A script failing post-dump fails the dump; the tree runs on, not stopped."""
    img = os.path.join(d, 'img')
    pid = start(d)
    r = criu('dump', '-t', str(pid), '-D', img, '-o', 'dump.log', '--action-script',
             script(d, 'a', 'post-dump'))
    if r.returncode == 0:
        return 'dump succeeded'
    if 'post-dump' not in r.stdout.decode():
        return f'the failure does not name post-dump: {r.stdout.decode()[-300:]}'
    time.sleep(0.1)
    st = state(pid)
    if st is None or st in 'TtZ':
        return f'after the failed dump the process is {st}'
    os.kill(pid, signal.SIGTERM)
    v = verdict(d)
    return None if v.startswith('PASS') else f'the process after a failed dump: {v}'


def dumped(d):
    img = os.path.join(d, 'img')
    pid = start(d)
    r = criu('dump', '-t', str(pid), '-D', img, '-o', 'dump.log')
    if r.returncode or not wait_gone([pid]):
        raise RuntimeError(f'dump failed: {r.stdout.decode()[-300:]}')
    return pid, img


def test_pre_restore_fails(d):
    """A script failing pre-restore: nothing is restored, nothing else runs."""
    pid, img = dumped(d)
    r = criu('restore', '-d', '-D', img, '-o', 'restore.log', '--action-script',
             script(d, 'a', 'pre-restore'))
    if r.returncode == 0:
        return 'restore succeeded'
    got = [g[1] for g in points(d)]
    if got != ['pre-restore']:
        return f'points {got}, want only pre-restore'
    return None if not os.path.exists(f'/proc/{pid}') else f'pid {pid} exists'


def test_pre_resume_fails(d):
    """A script failing pre-resume: the restored tree is killed."""
    pid, img = dumped(d)
    r = criu('restore', '-d', '-D', img, '-o', 'restore.log', '--action-script',
             script(d, 'a', 'pre-resume'))
    if r.returncode == 0:
        return 'restore succeeded'
    got = [g[1] for g in points(d)]
    if got != RESTORE_POINTS[:4]:
        return f'points {got}, want {RESTORE_POINTS[:4]}'
    return None if wait_gone([pid]) else f'the restored {pid} is still alive'


def test_post_resume_fails(d):
    """A script failing post-resume: reported, the tree runs (as upstream)."""
    pid, img = dumped(d)
    r = criu('restore', '-d', '-D', img, '-o', 'restore.log', '--action-script',
             script(d, 'a', 'post-resume'))
    if r.returncode:
        return f'restore failed: {r.stdout.decode()[-300:]}'
    with open(os.path.join(img, 'restore.log')) as f:
        if 'post-resume' not in f.read():
            return 'the log does not report the failed post-resume'
    os.kill(pid, signal.SIGTERM)
    v = verdict(d)
    return None if v.startswith('PASS') else f'restored process: {v}'


TESTS = [(n, f) for n, f in sorted(globals().items()) if n.startswith('test_')]
sys.exit(run_tests('action-scripts', TESTS, SCRATCH, subdirs=('img',)))
