#!/usr/bin/python3
"""Dump and restore time, throughput and criu's peak RSS by memory size.

    bench/bench-cr.py [--criu ./criu] [--runs 5] [--sizes 64,256,1024]

For each size (MiB) a process writes that much anonymous memory (every
page non-zero), then is dumped and restored --runs times.  Prints a table
of medians (min-max); throughput counts the memory size.  Runs as a child
subreaper so the PIDs are free for each restore; touches only what it
starts; images go to a temporary directory on /tmp.
"""
import argparse, ctypes, os, resource, shutil, signal, statistics, subprocess, sys, tempfile, time

ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)

PROG = r'''
import sys, time, mmap
n = int(sys.argv[1]) << 20
m = mmap.mmap(-1, n)
for i in range(0, n, 4096): m[i] = 1 + (i >> 12) % 255
open(sys.argv[2], "w").write("ready")
time.sleep(10000)
'''


def reap():
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                return
        except ChildProcessError:
            return


def gone(pid):
    for _ in range(400):
        reap()
        if not os.path.exists(f'/proc/{pid}'):
            return True
        time.sleep(0.01)
    return False


def timed(argv):
    """Seconds and peak RSS (KiB) of this one criu run (wait4's rusage)."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t
    err = p.stderr.read()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        sys.exit(f'{argv[1]} failed: {err.decode()}')
    return dt, ru.ru_maxrss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--criu', default='./criu')
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--sizes', default='64,256,1024')
    a = ap.parse_args()
    criu = os.path.abspath(a.criu)
    rows = []
    for size in [int(x) for x in a.sizes.split(',')]:
        d = tempfile.mkdtemp(prefix='criu-bench.')
        ready = os.path.join(d, 'ready')
        p = subprocess.Popen([sys.executable, '-c', PROG, str(size), ready], start_new_session=True)
        while not os.path.exists(ready):
            time.sleep(0.05)
        pid = p.pid
        dumps, restores, drss, rrss = [], [], 0, 0
        for i in range(a.runs):
            img = os.path.join(d, f'img{i}')
            os.mkdir(img)
            dt, m = timed([criu, 'dump', '-t', str(pid), '-D', img])
            dumps.append(dt)
            drss = max(drss, m)
            gone(pid)
            dt, m = timed([criu, 'restore', '-D', img, '-d'])
            restores.append(dt)
            rrss = max(rrss, m)
            if i:
                shutil.rmtree(os.path.join(d, f'img{i - 1}'))
        os.kill(pid, signal.SIGKILL)
        gone(pid)
        shutil.rmtree(d)
        rows.append((size, dumps, restores, drss, rrss))
    print(f'{"MiB":>6} {"dump s (min-max)":>22} {"dump MB/s":>10} {"restore s (min-max)":>22} '
          f'{"restore MB/s":>12} {"dump RSS":>9} {"restore RSS":>11}')
    for size, dumps, restores, drss, rrss in rows:
        md, mr = statistics.median(dumps), statistics.median(restores)
        print(f'{size:>6} {md:>8.3f} ({min(dumps):.3f}-{max(dumps):.3f}) {size * 1.048576 / md:>10.0f} '
              f'{mr:>8.3f} ({min(restores):.3f}-{max(restores):.3f}) {size * 1.048576 / mr:>12.0f} '
              f'{drss / 1024:>6.1f} MB {rrss / 1024:>8.1f} MB')


if __name__ == '__main__':
    main()
