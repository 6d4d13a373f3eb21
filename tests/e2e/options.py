#!/usr/bin/python3
"""The options of dump and restore that change where things go and who
waits for whom: -W with -o and --log-pid, --pidfile, --status-fd,
-d/--restore-detached, -S/--restore-sibling, and restore's exit status
when it waits for the restored tree.

    options.py CRIU SCRATCH

Runs as a child subreaper (harness.py).  Prints PASS/FAIL lines and
"options: N passed, N failed".
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import criu, reap, run_tests, setup, spawn, started, tree_of, wait_gone  # noqa: E402

SCRATCH = setup(sys.argv)
from harness import CRIU  # noqa: E402  (set by setup)


def dumped_sleep(d, seconds='100'):
    """A sleep started, dumped into d/img (and so killed), its pid gone."""
    pid = spawn(['sleep', seconds])
    time.sleep(0.2)
    r = criu('dump', '-t', str(pid), '-D', os.path.join(d, 'img'), '-o', 'dump.log')
    if r.returncode:
        raise RuntimeError(f'dump failed ({r.returncode}): {r.stdout.decode()[-300:]}')
    if not wait_gone([pid]):
        raise RuntimeError(f'the dumped sleep {pid} is still there')
    return pid


def test_work_dir(d):
    """-W takes the logs (with --log-pid, NAME.PID); the images stay in -D."""
    img, work = os.path.join(d, 'img'), os.path.join(d, 'work')
    os.makedirs(work)
    pid = spawn(['sleep', '100'])
    time.sleep(0.2)
    p = subprocess.Popen([CRIU, 'dump', '-t', str(pid), '-D', img, '-W', work, '-R',
                          '-o', 'dump.log', '--log-pid', '-v4'],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.communicate(timeout=60)[0].decode()
    if p.returncode:
        return f'dump -R failed ({p.returncode}): {out[-300:]}'
    log = os.path.join(work, f'dump.log.{p.pid}')
    if not os.path.isfile(log) or os.path.getsize(log) == 0:
        return f'no log {log} (work dir has {sorted(os.listdir(work))})'
    logs = [n for n in os.listdir(img) if '.log' in n or n == 'stats-dump']
    if logs:
        return f'logs or stats in the images dir: {logs}'
    if not os.path.exists(os.path.join(work, 'stats-dump')):
        return f'no stats-dump in the work dir: {sorted(os.listdir(work))}'
    if not os.path.exists(os.path.join(img, f'core-{pid}.img')):
        return f'no core-{pid}.img in the images dir: {sorted(os.listdir(img))}'
    if not os.path.exists(f'/proc/{pid}'):
        return 'the task did not survive dump -R'
    return None


def test_pidfile_status_fd(d):
    """restore -d: the pidfile holds the root's pid; the status fd gets one
    zero byte and is closed once the tree runs."""
    pid = dumped_sleep(d)
    pidfile = os.path.join(d, 'root.pid')
    r_fd, w_fd = os.pipe()
    try:
        r = criu('restore', '-D', os.path.join(d, 'img'), '-o', 'restore.log', '-d',
                 '--pidfile', pidfile, '--status-fd', str(w_fd), pass_fds=(w_fd,))
        os.close(w_fd)
        w_fd = -1
        if r.returncode:
            return f'restore failed ({r.returncode}): {r.stdout.decode()[-300:]}'
        os.set_blocking(r_fd, False)
        try:
            got = os.read(r_fd, 16)
        except BlockingIOError:
            return 'the status fd is still open and got nothing'
        if got != b'\0':
            return f'the status fd got {got!r}, want one zero byte'
        try:
            rest = os.read(r_fd, 16)
        except BlockingIOError:
            return 'criu left the status fd open (no end of file)'
        if rest:
            return f'the status fd got more: {rest!r}'
    finally:
        os.close(r_fd)
        if w_fd >= 0:
            os.close(w_fd)
    started.append(pid)
    with open(pidfile) as f:
        text = f.read().strip()
    if text != str(pid):
        return f'the pidfile says {text!r}, want {pid}'
    if not os.path.exists(f'/proc/{pid}'):
        return f'the restored task {pid} is not running'
    # neither the status fd nor the pidfile leaked into the restored task
    fds = sorted(os.listdir(f'/proc/{pid}/fd'), key=int)
    if fds != ['0', '1', '2']:
        return f'the restored sleep has fds {fds}, want its own 0, 1, 2'
    return None


def test_pidfile_work_dir(d):
    """A relative --pidfile, and restore's statistics, go to -W; a pidfile
    that cannot be created fails the restore before anything runs."""
    pid = dumped_sleep(d)
    img, work = os.path.join(d, 'img'), os.path.join(d, 'work')
    os.makedirs(work)
    bad = os.path.join(d, 'no', 'such', 'dir', 'root.pid')
    r = criu('restore', '-D', img, '-W', work, '-o', 'restore.log', '-d', '--pidfile', bad)
    reap()
    if r.returncode != 1 or b'root.pid' not in r.stdout:
        return f'restore with pidfile {bad}: exit {r.returncode}: {r.stdout.decode()[-300:]}'
    if os.path.exists(f'/proc/{pid}'):
        started.append(pid)
        return f'a restore that failed on its pidfile left {pid} running'
    r = criu('restore', '-D', img, '-W', work, '-o', 'restore.log', '-d', '--pidfile', 'root.pid')
    if r.returncode:
        return f'restore failed ({r.returncode}): {r.stdout.decode()[-300:]}'
    started.append(pid)
    try:
        with open(os.path.join(work, 'root.pid')) as f:
            text = f.read().strip()
    except OSError as e:
        return f'no pidfile in the work dir: {e}'
    if text != str(pid):
        return f'the pidfile says {text!r}, want {pid}'
    if not os.path.exists(os.path.join(work, 'stats-restore')):
        return f'no stats-restore in the work dir: {sorted(os.listdir(work))}'
    stray = [n for n in os.listdir(img) if n in ('root.pid', 'stats-restore', 'restore.log')]
    if stray:
        return f'in the images dir instead: {stray}'
    return None


def restore_from_shell(d, extra):
    """Runs criu restore -d EXTRA from a shell (not a subreaper): the
    restored root's parent right after criu exits, and the shell's pid."""
    script = ('c=$0 d=$1; shift; '
              '"$c" restore -D "$d/img" -o restore.log -d --pidfile "$d/root.pid" "$@" '
              '>"$d/restore.out" 2>&1 || exit 1; '
              'read r <"$d/root.pid"; read -r s <"/proc/$r/stat"; '
              'echo "${s##*) }" | cut -d" " -f2; echo $$')
    r = subprocess.run(['sh', '-c', script, CRIU, d, *extra], stdout=subprocess.PIPE,
                       timeout=60, text=True)
    if r.returncode:
        with open(os.path.join(d, 'restore.out')) as f:
            raise RuntimeError(f'restore {extra} failed: {f.read()[-300:]}')
    ppid, shell = (int(x) for x in r.stdout.split())
    return ppid, shell


def test_restore_sibling(d):
    """-S: the root is the caller's child, not criu's (whose orphans go to
    the nearest subreaper, this runner)."""
    pid = dumped_sleep(d)
    ppid, shell = restore_from_shell(d, ['-S'])
    started.append(pid)
    if ppid != shell:
        return f'with -S the root {pid} has parent {ppid}, want the shell {shell}'
    # the control: without -S the root is criu's child, then an orphan
    os.kill(pid, 9)
    if not wait_gone([pid]):
        return f'the restored {pid} did not go away'
    d2 = os.path.join(d, 'control')
    os.makedirs(os.path.join(d2, 'img'))
    pid2 = dumped_sleep(d2)
    ppid, shell = restore_from_shell(d2, [])
    started.append(pid2)
    if ppid == shell:
        return f'without -S the root {pid2} is the shell\'s child too'
    if ppid != os.getpid():
        return f'without -S the root {pid2} has parent {ppid}, want this runner {os.getpid()}'
    return None


def test_waits_for_root(d):
    """Without -d criu waits for the root and exits with its status."""
    pid = spawn(['sh', '-c', 'sleep 1; exit 7'])
    time.sleep(0.3)
    tree = tree_of(pid)  # sh and its sleep: both must be reaped before the restore
    r = criu('dump', '-t', str(pid), '-D', os.path.join(d, 'img'), '-o', 'dump.log')
    if r.returncode:
        return f'dump failed ({r.returncode}): {r.stdout.decode()[-300:]}'
    if not wait_gone(tree):
        return 'the dumped tree is still there'
    t0 = time.time()
    r = criu('restore', '-D', os.path.join(d, 'img'), '-o', 'restore.log')
    reap()
    if r.returncode != 7:
        return f'restore exited {r.returncode}, want the root\'s 7: {r.stdout.decode()[-300:]}'
    if time.time() - t0 > 30:
        return 'restore took too long'
    if os.path.exists(f'/proc/{pid}'):
        return f'the root {pid} is still there after criu returned'
    return None


def main():
    tests = [('work-dir', test_work_dir), ('pidfile-status-fd', test_pidfile_status_fd),
             ('pidfile-work-dir', test_pidfile_work_dir),
             ('restore-sibling', test_restore_sibling), ('waits-for-root', test_waits_for_root)]
    return run_tests('options', tests, SCRATCH, subdirs=('img',), where=' (files in {dir})')


if __name__ == '__main__':
    sys.exit(main())
