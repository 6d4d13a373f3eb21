#!/usr/bin/python3
"""Restores dumps in which one value of one image was changed
(tests/e2e/tools/mutate-image): restore must either refuse, with an error
line and a non-zero exit and nothing of the tree left, or restore; it must
never crash, hang, or leave a half-restored tree.

    restore-mutate.py CRIU MUTATOR PROGS SCRATCH [--cases N] [--seed S]

A few e2e programs (PROGS), run as uid 65534, are dumped once (whatever a
mutated image brings back runs unprivileged); each case copies one of those
dumps, mutates one of its protobuf images, and restores it detached.  What
a successful restore brought back is killed: everything below this runner,
a child subreaper, since a mutated pstree may name other PIDs.  A failing
case keeps its directory (the mutation is in mutation.txt) and the run
ends with exit 1.  Prints a summary line "restore-mutate: N cases, N
refused, N restored, N failed".
"""

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import become_subreaper, reap, tree_of, wait_gone  # noqa: E402

# Programs whose images hold a little of everything: threads, children,
# zombies, pipes, FIFOs and files (ghosts, directories, deleted ones, deleted mappings),
# file locks, terminals, shared memory, signals, timers, the anon-inode
# files (eventfd, epoll with its targets, signalfd, timerfd, inotify,
# pidfds of a live and of a dead process), unix, inet and netlink sockets.
# Not sk-packet: the bases run as nobody, and a packet socket needs
# CAP_NET_RAW (its images are fuzzed by the image readers' fuzzer).
BASES = ['threads', 'tree-children', 'tree-zombie', 'fd-shared', 'fd-pipe', 'fd-fifo', 'fd-ghost',
         'fd-dir', 'fd-dir-deleted', 'file-locks', 'mem-deleted', 'mem-anon-shared', 'mem-file-private', 'mem-cow',
         'sig-pending', 'posix-timers', 'itimer-real', 'rseq', 'fd-eventfd', 'fd-epoll',
         'fd-epoll-moved', 'fd-signalfd', 'fd-timerfd', 'tty-pty', 'tty-ctty', 'fsnotify-inotify',
         'pidfd-child', 'pidfd-dead', 'sk-unix-pair', 'sk-unix-named', 'sk-inet', 'sk-netlink']
RESTORE_TIMEOUT = 30
NOBODY = 65534


def below_us():
    return [p for p in tree_of(os.getpid()) if p != os.getpid()]


def describe(pid):
    """State, parent and name of a process, for messages."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            head, tail = f.read().rsplit(')', 1)
        fields = tail.split()
        return f'({head.split("(", 1)[1]}: state {fields[0]}, parent {fields[1]})'
    except OSError:
        return '(gone)'


def kill_below():
    """Kills everything below the runner until nothing is left (bounded)."""
    end = time.time() + 10
    while time.time() < end:
        left = below_us()
        if not left:
            return True
        for p in left:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        reap()
        time.sleep(0.02)
    return not below_us()


def as_nobody():
    """The programs run as uid/gid 65534: what a mutated image restores
    (registers, file positions, ...) then runs unprivileged."""
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)


def dump_base(args, name, d):
    """Starts PROGS/name, dumps it into d/img; the tree's pids."""
    work = os.path.join(d, 'work')
    img = os.path.join(d, 'img')
    os.makedirs(work)
    os.makedirs(img)
    os.chmod(d, 0o755)
    os.chmod(work, 0o777)
    pidfile, outfile = os.path.join(work, 'pid'), os.path.join(work, 'out')
    with open(os.path.join(d, 'prog.log'), 'w') as log:
        os.chmod(log.name, 0o666)
        p = subprocess.Popen([os.path.join(args.progs, name), '--pidfile', pidfile,
                              '--outfile', outfile], cwd=work, stdin=subprocess.DEVNULL,
                             stdout=log, stderr=log, start_new_session=True,
                             preexec_fn=as_nobody)
    end = time.time() + 10
    while not os.path.exists(pidfile) and time.time() < end:
        time.sleep(0.01)
    if not os.path.exists(pidfile):
        raise RuntimeError(f'{name} did not start')
    pids = tree_of(p.pid)
    r = subprocess.run([args.criu, 'dump', '-t', str(p.pid), '-D', img, '-o', 'dump.log',
                        *criu_opts(os.path.join(args.progs, name))],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    if r.returncode:
        raise RuntimeError(f'dump of {name} failed: {r.stdout.decode()[-300:]}')
    if not wait_gone(pids):
        raise RuntimeError(f'the dumped {name} is still there')
    return img


def criu_opts(prog):
    """The options the program's --describe asks dump for (file-locks: -l)."""
    r = subprocess.run([prog, '--describe'], stdout=subprocess.PIPE, text=True, timeout=10)
    for line in r.stdout.splitlines():
        if line.startswith('criu-opts:'):
            return line.split(':', 1)[1].split()
    return []


def images_of(img):
    """The images a mutation can go into: protobuf ones (not pages-*)."""
    return sorted(n for n in os.listdir(img)
                  if (n.endswith('.img') and not n.startswith('pages-')) or n == 'stats-dump')


def run_case(args, i, img, out_dir):
    """One case; returns 'refused', 'restored' or an error string."""
    rng = random.Random(args.seed * 1000003 + i)
    shutil.copytree(img, out_dir)
    names = images_of(img)
    for _ in range(20):
        name = rng.choice(names)
        r = subprocess.run([args.mutator, os.path.join(img, name), os.path.join(out_dir, name),
                            str(rng.randrange(1 << 31))], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        if r.returncode == 0:
            break
        if r.returncode != 2:
            return f'mutate-image {name} failed: {r.stdout.decode()[-200:]}'
    else:
        return 'no image could be mutated'
    what = f'{name}: {r.stdout.decode().strip()}'
    with open(os.path.join(out_dir, 'mutation.txt'), 'w') as f:
        f.write(what + '\n')
    try:
        r = subprocess.run([args.criu, 'restore', '-D', out_dir, '-o', 'restore.log', '-v4', '-d'],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=RESTORE_TIMEOUT)
    except subprocess.TimeoutExpired:
        kill_below()
        return f'{what}: restore hung (more than {RESTORE_TIMEOUT} s)'
    said = r.stdout.decode(errors='replace')
    if r.returncode == 0:
        # what came back is ours (detached, then orphaned to this subreaper)
        if not kill_below():
            return f'{what}: the restored tree could not be killed'
        return 'restored'
    reap()
    if r.returncode < 0:
        kill_below()
        return f'{what}: restore died of signal {-r.returncode}: {said[-300:]}'
    if r.returncode != 1:
        kill_below()
        return f'{what}: restore exited {r.returncode}, want 0 or 1: {said[-300:]}'
    if 'Error' not in said:
        kill_below()
        return f'{what}: restore failed without an error message'
    time.sleep(0.01)
    reap()
    left = below_us()
    if left:
        states = [f'{p} {describe(p)}' for p in left]
        kill_below()
        return f'{what}: a failed restore left processes {states}'
    return 'refused'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('criu')
    ap.add_argument('mutator')
    ap.add_argument('progs')
    ap.add_argument('scratch')
    ap.add_argument('--cases', type=int, default=200)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--bases', default=','.join(BASES))
    args = ap.parse_args()
    args.criu = os.path.abspath(args.criu)
    args.mutator = os.path.abspath(args.mutator)
    args.progs = os.path.abspath(args.progs)
    become_subreaper()
    os.chmod(args.scratch, 0o755)

    bases = []
    for name in args.bases.split(','):
        bases.append(dump_base(args, name, os.path.join(args.scratch, 'base-' + name)))
    counts = {'refused': 0, 'restored': 0}
    failed = 0
    for i in range(args.cases):
        img = bases[i % len(bases)]
        out_dir = os.path.join(args.scratch, f'case-{i}')
        res = run_case(args, i, img, out_dir)
        if res in counts:
            counts[res] += 1
            shutil.rmtree(out_dir, ignore_errors=True)
        else:
            failed += 1
            print(f'FAIL case {i} ({os.path.basename(os.path.dirname(img))}): {res} '
                  f'(files in {out_dir})')
            sys.stdout.flush()
    kill_below()
    print(f'restore-mutate: {args.cases} cases, {counts["refused"]} refused, '
          f'{counts["restored"]} restored, {failed} failed (--seed {args.seed})')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
