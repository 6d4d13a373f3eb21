#!/usr/bin/python3
"""criu killed or failing while its TCP connections are in repair mode.

    tcp-guard.py CRIU SK_TCP SCRATCH

SK_TCP is tests/e2e/progs/sk-tcp (established connections over 127.0.0.1
and ::1, with data in flight both ways and one direction full).  A dump
with --tcp-established puts each connection in repair mode; while it is
there the kernel neither sends nor answers on it.  If criu dies then, the
tree must go on with live connections: criu's TCP guard (a process that
holds a copy of each socket) takes them out of repair mode when criu's end
of its control socket closes.

The points come from one dump with CRIU_FAULT=list.  Then, each in a fresh
sk-tcp: criu killed (CRIU_FAULT=N:kill) at the first "dump: tcp repair"
point, at the last one, at a point in the middle of the rest of the dump,
and at the release of the tree, with -R and without; and a dump that fails
(N:fail) at the last "tcp repair" point.  After each, criu has exited
non-zero, no thread of sk-tcp is stopped or traced (bounded wait), no
guard is left, and sk-tcp, sent SIGTERM, checks from inside that every
byte arrives once and in order both ways, that the connections carry new
data and that the listener takes a new connection: PASS.
Prints one PASS/FAIL line per case and "tcp-guard: N passed, N failed".
"""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import reap, run_tests, setup, spawn, started, state  # noqa: E402

SCRATCH = setup(sys.argv[:1] + sys.argv[1:2] + sys.argv[3:4])
from harness import CRIU  # noqa: E402  (set by setup)
SK_TCP = os.path.abspath(sys.argv[2])


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ''


def wait_for(pred, timeout, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        reap()
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def start(d):
    pidfile, out = os.path.join(d, 'pid'), os.path.join(d, 'out')
    for f in (pidfile, out):
        if os.path.exists(f):
            os.unlink(f)
    spawn([SK_TCP, '--pidfile', pidfile, '--outfile', out])
    pid = wait_for(lambda: read(pidfile).strip(), 30)
    if not pid:
        raise RuntimeError('sk-tcp wrote no pidfile: ' + read(out))
    return int(pid), out


def held(pid):
    """Threads of pid stopped or traced, as text ('' when none)."""
    bad = []
    try:
        tids = os.listdir(f'/proc/{pid}/task')
    except OSError:
        return f'{pid} is gone'
    for t in tids:
        st = read(f'/proc/{pid}/task/{t}/status')
        f = dict(l.split(':\t', 1) for l in st.splitlines() if ':\t' in l)
        s, tracer = f.get('State', '?')[:1], f.get('TracerPid', '0').strip()
        if s in 'tTZX' or tracer != '0':
            bad.append(f'{pid}/{t} state {s} tracer {tracer}')
    return '; '.join(bad)


def guards():
    """criu-tcp-guard processes whose parent chain we started (none wanted)."""
    found = []
    for p in os.listdir('/proc'):
        if p.isdigit() and read(f'/proc/{p}/comm').strip() == 'criu-tcp-guard':
            found.append(int(p))
    return found


def dump(d, pid, fault, leave_running, name):
    img = os.path.join(d, name)
    os.makedirs(img, exist_ok=True)
    cmd = [CRIU, 'dump', '-t', str(pid), '-D', img, '-o', 'dump.log', '-v4',
           '--tcp-established']
    if leave_running:
        cmd.append('-R')
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120,
                       env=dict(os.environ, CRIU_FAULT=fault))
    return p.returncode, p.stderr.decode(), os.path.join(img, 'dump.log')


def points(d):
    os.makedirs(d, exist_ok=True)
    pid, out = start(d)
    rc, err, log = dump(d, pid, 'list', True, 'list')
    if rc != 0:
        raise RuntimeError(f'the listing dump -R exited {rc}: {read(log)[-2000:]}')
    verdict(pid, out)
    pts = []
    for l in err.splitlines():
        if l.startswith('fault point '):
            n, name = l[len('fault point '):].split(':', 1)
            pts.append((int(n), name.strip()))
    return pts


def verdict(pid, out):
    """SIGTERM to sk-tcp, its verdict (None when it gives none in time)."""
    os.kill(pid, signal.SIGTERM)
    got = wait_for(lambda: [l for l in read(out).splitlines()
                            if l.startswith(("PASS", "FAIL"))], 20)
    return got[0] if got else None


def one_case(d, n, mode, leave_running, what):
    pid, out = start(d)
    rc, err, log = dump(d, pid, f'{n}:{mode}', leave_running, f'{mode}-{n}')
    if rc == 0:
        return f'{what}: criu exited 0 at point {n}:{mode}'
    if mode == 'kill' and rc != -signal.SIGKILL:
        return f'{what}: criu exited {rc}, not killed, at point {n}: {err[-500:]}'
    left = wait_for(lambda: not held(pid), 20)
    if not left:
        return f'{what}: sk-tcp still held after criu stopped: {held(pid)}'
    if not wait_for(lambda: not guards(), 10):
        return f'{what}: a guard is left: {guards()}'
    v = verdict(pid, out)
    if v is None:
        return f'{what}: sk-tcp gave no verdict (state {state(pid)}): {read(out)[-500:]}'
    if not v.startswith('PASS'):
        return f'{what}: {v}; dump log tail: {read(log)[-1500:]}'
    return None


def main():
    pts = points(os.path.join(SCRATCH, 'list'))
    repair = [n for n, name in pts if name.startswith('dump: tcp repair')]
    release = [n for n, name in pts if name.startswith('dump: release')]
    if len(repair) < 2 or not release:
        print(f'FAIL points: want 2 or more "dump: tcp repair" and a "dump: release", '
              f'got {pts}')
        return 1
    between = [n for n, _ in pts if repair[-1] < n < release[0]]
    mid = between[len(between) // 2] if between else release[0]
    cases = []
    for r in (True, False):
        tag = '-R' if r else 'kill'
        for label, n in (('first-repair', repair[0]), ('last-repair', repair[-1]),
                         ('after-repair', mid), ('release', release[0])):
            cases.append((f'{label}{tag}',
                          lambda d, n=n, r=r, w=f'{label} {tag}': one_case(d, n, 'kill', r, w)))
    cases.append(('fail-last-repair',
                  lambda d: one_case(d, repair[-1], 'fail', True, 'fail at last repair')))
    return run_tests('tcp-guard', cases, SCRATCH)


if __name__ == '__main__':
    sys.exit(main())
