#!/usr/bin/python3
"""criu killed while it dumps: the tree must run on as before.

    kill-dump.py CRIU KILL_TARGET WORKDIR [--cases N] [--seed S] [--mem MIB]

Starts tools/kill-target (a root with big memory and a few threads, a child
with 200 threads, a small child), dumps it with `criu dump -R` (and some
cases without -R), and sends criu SIGKILL, SIGTERM, SIGINT or SIGHUP at a
random moment of the dump (the first, uninterrupted dump measures how long
one takes).  Before that, two dumps -R are stopped (CRIU_FAULT=N:pause), one
after the last parasite is gone and one with the root's parasite in place,
the root is sent SIGTERM there, criu goes on (the first) or is killed (the
second), and the tree must answer that SIGTERM (the interrupted read() ends
with EINTR, as it would have without criu).
Then, for every case:
  - criu exits (bounded), non-zero unless the dump had finished; a criu that
    got SIGTERM, SIGINT or SIGHUP says why it stopped in its log;
  - every thread of every task is neither stopped nor traced (bounded wait:
    a parasite needs a moment to cure itself);
  - after SIGTERM each task checks itself (memory, pipe data, descriptors,
    signal mask of every thread, threads still running) and reports PASS;
  - writable and executable mappings left over: none, whatever the signal
    (after SIGKILL the parasite leaves through the exit chain, unmapping its
    area); at most one per task after a SIGKILL only when criu's log says it
    found no exit chain for a task.
A dump without -R that finished killed the tree as it should: nothing to
check then.  Prints one line per case and a summary; exits 1 on a failure.
"""

import argparse
import os
import random
import signal
import subprocess
import sys
import time

SIGNALS = [signal.SIGKILL] * 6 + [signal.SIGTERM, signal.SIGINT, signal.SIGHUP] * 2


def wait_for(pred, timeout, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ''


class Tree:
    def __init__(self, target, workdir, mem):
        self.out = os.path.join(workdir, 'target.out')
        if os.path.exists(self.out):
            os.unlink(self.out)
        self.proc = subprocess.Popen(
            [target, '--out', self.out, '--mem', str(mem)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)
        line = wait_for(lambda: next((l for l in read(self.out).splitlines()
                                      if l.startswith('READY')), None), 30)
        if not line:
            self.kill()
            raise RuntimeError('the target did not get ready')
        self.pids = [int(p) for p in line.split()[1:]]

    def threads(self):
        tids = []
        for p in self.pids:
            try:
                tids += [(p, int(t)) for t in os.listdir(f'/proc/{p}/task')]
            except OSError:
                tids.append((p, None))
        return tids

    def held(self):
        """Threads stopped or traced (or tasks gone), as text; '' when none."""
        bad = []
        for p, t in self.threads():
            if t is None:
                bad.append(f'{p} is gone')
                continue
            st = read(f'/proc/{p}/task/{t}/status')
            fields = dict(l.split(':\t', 1) for l in st.splitlines() if ':\t' in l)
            state = fields.get('State', '?')[:1]
            tracer = fields.get('TracerPid', '0').strip()
            if state in 'tTZX' or tracer != '0':
                bad.append(f'{p}/{t} state {state} tracer {tracer}')
        return '; '.join(bad[:5]) + (f' (+{len(bad) - 5})' if len(bad) > 5 else '')

    def verdicts(self, timeout=60, send=True):
        if send:
            os.kill(self.pids[0], signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            print('    ' + self.describe())
            print('    verdicts so far: ' + read(self.out).replace('\n', ' | '))
            self.kill()
            return None
        return [l for l in read(self.out).splitlines() if l.startswith(('PASS', 'FAIL'))]

    def describe(self):
        """Where each thread is: state, mask, syscall; for a failure report."""
        out = []
        for p, t in self.threads():
            if t is None:
                out.append(f'{p}: gone')
                continue
            st = read(f'/proc/{p}/task/{t}/status')
            fields = dict(l.split(':\t', 1) for l in st.splitlines() if ':\t' in l)
            out.append(f'{p}/{t}: {fields.get("State", "?")} blocked {fields.get("SigBlk", "?")}'
                       f' pending {fields.get("SigPnd", "?")}/{fields.get("ShdPnd", "?")}'
                       f' syscall {read(f"/proc/{p}/task/{t}/syscall").strip()[:60]}'
                       f' wchan {read(f"/proc/{p}/task/{t}/wchan")}')
        rwx = [l for p in self.pids for l in read(f'/proc/{p}/maps').splitlines()
               if l.split()[1:2] and 'wx' in l.split()[1]]
        return '\n    '.join(out[:12] + rwx)

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        for p in self.pids if hasattr(self, 'pids') else [self.proc.pid]:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        try:  # children not in the list yet (the tree never got ready)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def dump(criu, workdir, tree, leave_running, n, env=None, stderr=subprocess.DEVNULL):
    img = os.path.join(workdir, f'img-{n}')
    os.makedirs(img, exist_ok=True)
    log = os.path.join(img, 'dump.log')
    cmd = [criu, 'dump', '-t', str(tree.pids[0]), '-D', img, '-o', 'dump.log', '-v4',
           '--shell-job']
    if leave_running:
        cmd.append('-R')
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=stderr,
                            env=dict(os.environ, **(env or {}))), log


def signal_window(args, which):
    """A SIGTERM that comes while criu holds the tree must end the root's
    read() with EINTR (its handler has no SA_RESTART), as it would without
    criu: the tree then answers it.  criu is stopped (CRIU_FAULT=N:pause)
    while the test sends it: which='release' at the last "parasite:
    unparked" point, after which criu goes on (SIGCONT) and lets the tree
    go; which='killed' at the root's memory dump, with its parasite in
    place, after which criu is killed (SIGKILL) and the parasite cures
    itself with the signal waiting."""
    tree = Tree(args.target, args.workdir, 4)
    try:
        c, log = dump(args.criu, args.workdir, tree, True, 'points', {'CRIU_FAULT': 'list'},
                      subprocess.PIPE)
        _, err = c.communicate(timeout=240)
        v = tree.verdicts()
        root = tree.pids[0]
    finally:
        tree.kill()
    want = ': parasite: unparked ' if which == 'release' else f': dump pid {root}: memory '
    points = [int(l.split()[2].rstrip(':')) for l in err.decode().splitlines()
              if l.startswith('fault point ') and want in l]
    if c.returncode != 0 or not points or not v or any(l.startswith('FAIL') for l in v):
        return f'the listing dump: exit {c.returncode}, points {points}, verdicts {v}'
    tree = Tree(args.target, args.workdir, 4)
    try:
        # the same point in a tree with other PIDs: points count steps, not PIDs
        c, log = dump(args.criu, args.workdir, tree, True, which,
                      {'CRIU_FAULT': f'{max(points)}:pause'})
        if not wait_for(lambda: c.poll() is not None or
                        read(f'/proc/{c.pid}/stat').split(') ')[-1][:1] == 'T', 120):
            c.kill()
            c.wait()
            return 'criu did not stop at the point'
        if c.poll() is not None:
            return f'criu exited {c.returncode} before the point'
        os.kill(tree.pids[0], signal.SIGTERM)
        if which == 'release':
            os.kill(c.pid, signal.SIGCONT)
            rc = c.wait(timeout=120)
            if rc != 0:
                return f'the paused dump -R exited {rc}'
        else:
            c.kill()
            c.wait()
        v = tree.verdicts(send=False)
        if v is None:
            return 'the SIGTERM was lost (the root slept on in read())'
        if any(l.startswith('FAIL') for l in v) or len(v) != len(tree.pids):
            return f'verdicts {v}'
        return ''
    finally:
        tree.kill()


def one_case(args, n, sig, delay, leave_running):
    """'' on success, or what went wrong; 'finished' when criu was faster."""
    tree = Tree(args.target, args.workdir, args.mem)
    try:
        c, log = dump(args.criu, args.workdir, tree, leave_running, n)
        time.sleep(delay)
        try:
            c.send_signal(sig)
        except OSError:
            pass
        try:
            rc = c.wait(timeout=60)
        except subprocess.TimeoutExpired:
            c.kill()
            c.wait()
            return f'criu did not exit within 60 s of {sig.name}'
        if rc == 0 and not leave_running:
            if tree.alive() and wait_for(lambda: not tree.alive(), 10) is False:
                return 'dump succeeded but the tree still runs'
            return 'finished'
        if rc == -sig:
            sig = signal.SIGKILL  # it came before criu caught it: the same as a kill
        if rc != 0 and sig != signal.SIGKILL and 'interrupted by signal' not in read(log):
            return f'criu exited {rc} after {sig.name} without saying it was interrupted'
        if not wait_for(lambda: not tree.held(), 10):
            return f'held after criu exited {rc}: {tree.held()}'
        v = tree.verdicts()
        if v is None:
            return 'the tree did not answer SIGTERM within 60 s'
        fails = [l for l in v if l.startswith('FAIL')]
        if fails or len(v) != len(tree.pids):
            return f'verdicts {v}'
        # the exit chain (compel/exit-chain.c) unmaps the area even after a
        # SIGKILL; only a task criu found none for may keep it
        limit = 1 if sig == signal.SIGKILL and rc != 0 and 'no exit chain' in read(log) else 0
        extra = [l for l in v if int(l.split('rwx=')[1]) > limit]
        if extra:
            return f'writable+executable mappings left: {extra}'
        return 'finished' if rc == 0 else ''
    finally:
        tree.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('criu')
    ap.add_argument('target')
    ap.add_argument('workdir')
    ap.add_argument('--cases', type=int, default=24)
    ap.add_argument('--seed', type=int, default=int(time.time()))
    ap.add_argument('--mem', type=int, default=256)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    print(f'kill-dump: seed {args.seed}, {args.cases} cases, {args.mem} MiB')

    for which in ('release', 'killed'):
        what = signal_window(args, which)
        if what:
            print(f'FAIL: a signal sent while criu holds the tree ({which}): {what}')
            return 1
        print(f'ok   a signal sent while criu holds the tree ({which}) ends the read()')

    took = None
    for _ in range(2):  # the shorter of two: the first one warms caches up
        tree = Tree(args.target, args.workdir, args.mem)
        try:
            t0 = time.monotonic()
            c, log = dump(args.criu, args.workdir, tree, True, 0)
            rc = c.wait(timeout=240)
            t = time.monotonic() - t0
            v = tree.verdicts()
        finally:
            tree.kill()
        if rc != 0 or not v or any(l.startswith('FAIL') for l in v):
            print(f'FAIL: the uninterrupted dump -R: exit {rc}, verdicts {v}')
            print(read(log)[-3000:])
            return 1
        took = t if took is None else min(took, t)
    print(f'an uninterrupted dump -R takes {took:.2f} s')

    failed = finished = 0
    for n in range(1, args.cases + 1):
        sig = SIGNALS[(n - 1) % len(SIGNALS)] if n <= len(SIGNALS) else rnd.choice(SIGNALS)
        delay = rnd.uniform(0.0, took * 0.9)
        leave_running = n % 4 != 0
        what = one_case(args, n, sig, delay, leave_running)
        tag = f'case {n}: {sig.name} at {delay:.3f} s{" -R" if leave_running else ""}'
        if what == 'finished':
            finished += 1
            print(f'ok   {tag} (the dump had finished)')
        elif what:
            failed += 1
            print(f'FAIL {tag}: {what}')
            print(read(os.path.join(args.workdir, f'img-{n}', 'dump.log'))[-2000:])
        else:
            print(f'ok   {tag}')
            subprocess.run(['rm', '-rf', os.path.join(args.workdir, f'img-{n}')])
    print(f'kill-dump: {args.cases - failed} passed ({finished} finished first), '
          f'{failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
