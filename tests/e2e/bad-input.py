#!/usr/bin/python3
"""Bad input for dump and restore: one clear error, a non-zero exit, nothing
left frozen or half-restored.

    bad-input.py CRIU SCRATCH TOOLS

TOOLS is the directory of the built tests/e2e/tools (leader-exit).

Runs as a child subreaper (reaps what it started).  Prints PASS/FAIL lines
and "bad-input: N passed, N failed".
"""

import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import become_subreaper, run_tests, spawn, started, state, wait_gone  # noqa: E402

CRIU = os.path.abspath(sys.argv[1])
SCRATCH = sys.argv[2]
TOOLS = os.path.abspath(sys.argv[3])
become_subreaper()


def criu(*args):
    return subprocess.run([CRIU, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60, text=True)


def one_error(r, *words):
    """Exit 1, and an error line naming what went wrong."""
    if r.returncode != 1:
        return f'exit {r.returncode}, want 1 (stderr: {r.stderr[-300:]})'
    errs = [l for l in (r.stderr + r.stdout).splitlines() if 'Error' in l]
    if not errs:
        return f'no error line (stderr: {r.stderr[-300:]})'
    text = ' '.join(errs)
    for w in words:
        if w not in text:
            return f'the error does not name {w!r}: {text[-300:]}'
    return None


def dumped_sleep(d):
    """A sleep dumped into d/img; returns its pid (gone by now)."""
    img = os.path.join(d, 'img')
    os.makedirs(img, exist_ok=True)
    pid = spawn(['sleep', '1000'])
    time.sleep(0.2)
    r = criu('dump', '-t', str(pid), '-D', img, '-o', 'dump.log')
    if r.returncode:
        raise RuntimeError(f'dump of sleep failed: {r.stderr}')
    wait_gone([pid])
    return pid, img


def test_no_such_pid(d):
    # a pid that cannot exist: above pid_max
    with open('/proc/sys/kernel/pid_max') as f:
        pid = int(f.read()) + 1
    os.makedirs(d, exist_ok=True)
    return one_error(criu('dump', '-t', str(pid), '-D', d), str(pid))


def test_missing_image(d):
    pid, img = dumped_sleep(d)
    os.unlink(os.path.join(img, f'mm-{pid}.img'))
    err = one_error(criu('restore', '-D', img, '-d', '-o', 'restore.log', '-v4'))
    if not err:
        err = one_error(criu('restore', '-D', img, '-d'), f'mm-{pid}.img')
    if not err and state(pid) not in (None, 'Z'):
        err = f'pid {pid} was left after the failed restore'
    return err


def test_corrupt_image(d):
    pid, img = dumped_sleep(d)
    core = os.path.join(img, f'core-{pid}.img')
    with open(core, 'r+b') as f:
        size = os.fstat(f.fileno()).st_size
        f.truncate(size // 2)
    err = one_error(criu('restore', '-D', img, '-d'), f'core-{pid}.img')
    if not err and state(pid) not in (None, 'Z'):
        err = f'pid {pid} was left after the failed restore'
    return err


def test_corrupt_pages(d):
    pid, img = dumped_sleep(d)
    pages = [f for f in os.listdir(img) if f.startswith('pages-')][0]
    with open(os.path.join(img, pages), 'r+b') as f:
        f.truncate(4096)
    err = one_error(criu('restore', '-D', img, '-d'), pages)
    wait_gone([pid], 5)
    if not err and state(pid) not in (None, 'Z'):
        err = f'pid {pid} was left after the failed restore'
    return err


def test_fifo_gone(d):
    """A FIFO the task held is gone at restore: refused naming it; with the
    FIFO made again, the same images restore."""
    fifo = os.path.join(d, 'fifo')
    os.mkfifo(fifo)
    pid = spawn([sys.executable, '-c', 'import os, sys, time\n'
                 'fd = os.open(sys.argv[1], os.O_RDWR); os.write(fd, b"x")\n'
                 'time.sleep(1000)', fifo])
    img = os.path.join(d, 'img')
    os.makedirs(img)
    end = time.time() + 10
    while not any(os.readlink(f'/proc/{pid}/fd/{n}') == fifo
                  for n in os.listdir(f'/proc/{pid}/fd') if os.path.exists(f'/proc/{pid}/fd/{n}')):
        if time.time() > end:
            return 'the holder did not open its FIFO'
        time.sleep(0.05)
    time.sleep(0.1)
    r = criu('dump', '-t', str(pid), '-D', img, '-o', 'dump.log')
    if r.returncode:
        return f'dump failed: {r.stderr}'
    wait_gone([pid])
    os.unlink(fifo)
    err = one_error(criu('restore', '-D', img, '-d'), fifo, 'does not exist', 'mkfifo')
    if not err and state(pid) not in (None, 'Z'):
        err = f'pid {pid} was left after the failed restore'
    if err:
        return err
    os.mkfifo(fifo)
    r = criu('restore', '-D', img, '-d')
    if r.returncode:
        return f'restore with the FIFO made again failed: {r.stderr[-300:]}'
    started.append(pid)
    if state(pid) not in ('S', 'R'):
        return f'the restored holder is in state {state(pid)}'
    return None


def test_pid_taken(d):
    pid, img = dumped_sleep(d)
    # the images say pid; make a process that has it: restore the same
    # images once, then again
    r = criu('restore', '-D', img, '-d')
    if r.returncode:
        return f'the first restore failed: {r.stderr}'
    started.append(pid)
    err = one_error(criu('restore', '-D', img, '-d'), str(pid))
    if not err and state(pid) not in ('S', 'R'):
        err = f'the first restored task {pid} was harmed: state {state(pid)}'
    return err


def test_tree_changes(d):
    # a parent that forks short-lived children all the time
    code = ('import os, time\n'
            'while True:\n'
            '    p = os.fork()\n'
            '    if p == 0:\n'
            '        time.sleep(0.001); os._exit(0)\n'
            '    os.waitpid(p, 0)\n')
    pid = spawn([sys.executable, '-c', code])
    time.sleep(0.3)
    img = os.path.join(d, 'img')
    os.makedirs(img, exist_ok=True)
    results = []
    for i in range(5):
        r = criu('dump', '-t', str(pid), '-D', img, '-o', f'dump{i}.log', '-R')
        results.append(r.returncode)
        if r.returncode not in (0, 1):
            return f'dump exited {r.returncode}: {r.stderr[-300:]}'
        if r.returncode == 1 and 'Error' not in r.stderr + r.stdout:
            return 'a failed dump gave no error'
        time.sleep(0.05)
        st = state(pid)
        if st not in ('S', 'R'):
            return f'after dump -R the forking parent is in state {st}'
    return None


def test_leader_exited(d):
    """A process whose main thread exited while another runs is refused,
    by name, not dumped as a zombie; as the root or as a child."""
    for extra in ([], ['--child']):
        pid = spawn([os.path.join(TOOLS, 'leader-exit'), *extra])
        want = pid
        end = time.time() + 5
        while time.time() < end:
            if extra:
                try:
                    with open(f'/proc/{pid}/task/{pid}/children') as f:
                        kids = f.read().split()
                except OSError:
                    kids = []
                want = int(kids[0]) if kids else None
            if want and state(want) == 'Z' and len(os.listdir(f'/proc/{want}/task')) > 1:
                break
            time.sleep(0.02)
        else:
            return f'leader-exit {extra} did not get there'
        img = os.path.join(d, 'img' + ''.join(extra))
        os.makedirs(img)
        r = criu('dump', '-t', str(pid), '-D', img, '-o', 'dump.log')
        err = one_error(r, str(want), 'main thread has exited')
        if err:
            return f'{extra}: {err}'
        for p in (pid, want):
            if state(p) is None:
                return f'{extra}: {p} is gone after a refused dump'
            with open(f'/proc/{p}/status') as f:
                if 'TracerPid:\t0' not in f.read():
                    return f'{extra}: {p} is still traced after a refused dump'
    return None


def test_never_stops(d):
    """A task that can't be stopped (a vfork parent): dump --timeout gives
    up after about that long, naming it, and leaves it running untraced."""
    pid = spawn([os.path.join(TOOLS, 'vfork-wait')])
    end = time.time() + 5
    kids = []
    while time.time() < end and not kids:
        try:
            with open(f'/proc/{pid}/task/{pid}/children') as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            pass
        time.sleep(0.02)
    started.extend(kids)  # the child is killed by its pid too
    if not kids or state(pid) != 'D':
        return f'vfork-wait is not waiting in vfork (state {state(pid)})'
    img = os.path.join(d, 'img')
    os.makedirs(img)
    t0 = time.time()
    r = criu('dump', '-t', str(pid), '-D', img, '-o', 'dump.log', '--timeout', '1')
    took = time.time() - t0
    err = one_error(r, str(pid), 'did not stop within 1000 ms')
    if err:
        return err
    if took > 8:  # the default would be 10 s twice; 1 s twice is the bound
        return f'dump --timeout 1 took {took:.1f} s'
    if state(pid) != 'D':
        return f'{pid} is in state {state(pid)} after the refused dump'
    with open(f'/proc/{pid}/status') as f:
        if 'TracerPid:\t0' not in f.read():
            return f'{pid} is still traced after the refused dump'
    return None


def test_dies_mid_dump(d):
    # 256 MiB of written memory makes the dump take a while; kill it meanwhile
    code = ('import time\n'
            'b = bytearray(256 << 20)\n'
            'for i in range(0, len(b), 4096): b[i] = 1\n'
            'open(__import__("sys").argv[1], "w").write("ready")\n'
            'time.sleep(1000)\n')
    ready = os.path.join(d, 'ready')
    os.makedirs(d, exist_ok=True)
    pid = spawn([sys.executable, '-c', code, ready])
    end = time.time() + 20
    while not os.path.exists(ready) and time.time() < end:
        time.sleep(0.05)
    img = os.path.join(d, 'img')
    os.makedirs(img, exist_ok=True)
    killer = threading.Timer(0.05, lambda: os.kill(pid, signal.SIGKILL))
    killer.start()
    r = criu('dump', '-t', str(pid), '-D', img, '-o', 'dump.log')
    killer.join()
    if r.returncode == 0:
        return None  # the dump won the race: fine, nothing to check
    return one_error(r)


def test_file_changed(d):
    """A file the task holds that grows, changes mode or goes away between
    dump and restore: restore refuses it naming the file, and leaves nothing."""
    for change, word in (('grow', 'size'), ('chmod', 'mode'), ('remove', 'found')):
        sub = os.path.join(d, change)
        img = os.path.join(sub, 'img')
        os.makedirs(img, exist_ok=True)
        held = os.path.join(sub, 'held')
        with open(held, 'w') as f:
            f.write('data')
        pid = spawn(['sh', '-c', f'exec sleep 1000 3<{held}'])
        time.sleep(0.3)
        r = criu('dump', '-t', str(pid), '-D', img, '-o', 'dump.log')
        if r.returncode:
            return f'dump of sleep holding {held} failed: {r.stderr}'
        wait_gone([pid])
        if change == 'grow':
            with open(held, 'a') as f:
                f.write('more')
        elif change == 'chmod':
            os.chmod(held, 0o600)
        else:
            os.unlink(held)
        err = one_error(criu('restore', '-D', img, '-d'), held, word)
        if not err and state(pid):
            err = f'pid {pid} was left after the failed restore'
        if err:
            return f'{change}: {err}'
    return None


def main():
    tests = [('no-such-pid', test_no_such_pid), ('missing-image', test_missing_image),
             ('corrupt-core', test_corrupt_image), ('truncated-pages', test_corrupt_pages),
             ('pid-taken', test_pid_taken), ('fifo-gone', test_fifo_gone), ('tree-changes', test_tree_changes),
             ('dies-mid-dump', test_dies_mid_dump), ('leader-exited', test_leader_exited),
             ('never-stops', test_never_stops), ('file-changed', test_file_changed)]
    return run_tests('bad-input', tests, SCRATCH)


if __name__ == '__main__':
    sys.exit(main())
