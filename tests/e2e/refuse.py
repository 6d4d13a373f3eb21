#!/usr/bin/python3
"""What dump refuses because restore could not rebuild it (issue 9, part 1).

    refuse.py CRIU SCRATCH TOOLS

TOOLS is the directory of the built tests/e2e/tools (share-vm).

Each case starts a tree holding one thing dump does not save (a pty, a
shared mapping of a deleted file, a namespace of its own, a file lock (a
lease also with --file-locks), a
device, a deleted cwd, a thread with its own fd table, two processes
sharing memory, guard pages, ...),
dumps it the default way (which would kill it) and checks that the dump is
refused with one error naming a task of the tree (pid and comm) and what it
holds, that no image was written, and that every task of the tree is still
running, untraced and unfrozen, and still working (its heartbeat goes on).

Runs as a child subreaper (reaps what it started).  Prints PASS/FAIL lines
and "refuse: N passed, N failed".
"""

import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import criu, run_tests, setup, spawn, state, tree_of  # noqa: E402

SCRATCH = setup(sys.argv)
TOOLS = os.path.abspath(sys.argv[3])

# argv: KIND HEARTBEAT.  Sets up KIND, then rewrites HEARTBEAT with a
# growing counter every 50 ms: a task that stopped working stops it.
HOLDER = r'''
import ctypes, fcntl, os, sys, time
kind, hb = sys.argv[1], sys.argv[2]
keep = []
if kind == 'pty':
    keep.append(os.openpty())
elif kind == 'flock':
    f = open(hb + '.lock', 'w'); fcntl.flock(f, fcntl.LOCK_EX); keep.append(f)
elif kind == 'posix-lock':
    f = open(hb + '.lock', 'w'); fcntl.lockf(f, fcntl.LOCK_EX); keep.append(f)
elif kind == 'lease':
    open(hb + '.lease', 'w').close()
    f = open(hb + '.lease'); fcntl.fcntl(f, fcntl.F_SETLEASE, fcntl.F_RDLCK); keep.append(f)
elif kind in ('deleted-map', 'deleted-private-map'):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]
    fd = os.open(hb + '.map', os.O_RDWR | os.O_CREAT, 0o600)
    os.ftruncate(fd, 4096)
    # PROT_READ|PROT_WRITE, MAP_SHARED or MAP_PRIVATE
    addr = libc.mmap(None, 4096, 3, 1 if kind == 'deleted-map' else 2, fd, 0)
    if addr in (None, ctypes.c_void_p(-1).value):
        sys.exit('mmap failed')
    os.close(fd)
    os.unlink(hb + '.map')
    ctypes.memset(addr, 7, 16)
elif kind == 'guard':
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    addr = libc.mmap(None, 3 * 4096, 3, 0x22, -1, 0)  # MAP_PRIVATE|MAP_ANONYMOUS
    ctypes.memset(addr, 7, 3 * 4096)
    if libc.madvise(addr + 4096, 4096, 102):  # MADV_GUARD_INSTALL
        sys.exit('MADV_GUARD_INSTALL failed')
elif kind == 'mlock':
    import mmap
    libc = ctypes.CDLL(None, use_errno=True)
    m = mmap.mmap(-1, 4096)
    addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
    if libc.mlock(ctypes.c_void_p(addr), ctypes.c_size_t(4096)):
        sys.exit('mlock failed: %d' % ctypes.get_errno())
    keep.append(m)
elif kind in ('thread-files', 'thread-fs'):
    import threading
    libc = ctypes.CDLL(None, use_errno=True)
    done = threading.Event()
    def split():
        if libc.unshare(0x400 if kind == 'thread-files' else 0x200):  # CLONE_FILES, CLONE_FS
            sys.exit('unshare failed')
        done.set()
        while True:
            time.sleep(100)
    threading.Thread(target=split, daemon=True).start()
    done.wait(10)
elif kind == 'deleted-cwd':
    os.mkdir(hb + '.dir')
    os.chdir(hb + '.dir')
    os.rmdir(hb + '.dir')
elif kind == 'replaced-file':
    f = open(hb + '.a', 'w'); keep.append(f)
    with open(hb + '.b', 'w') as g:
        g.write('another file')
    os.rename(hb + '.b', hb + '.a')
elif kind == 'device':
    keep.append(open('/dev/kmsg', 'rb'))
elif kind == 'mseal':
    import mmap
    libc = ctypes.CDLL(None, use_errno=True)
    m = mmap.mmap(-1, 4096)
    addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
    if libc.syscall(462, ctypes.c_void_p(addr), ctypes.c_size_t(4096), 0):  # mseal
        sys.exit('mseal failed: %d' % ctypes.get_errno())
    keep.append(m)
elif kind == 'exit-signal':
    import signal, struct
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    libc = ctypes.CDLL(None, use_errno=True)
    # clone3 (435 everywhere): flags 0, exit_signal SIGUSR1
    args = ctypes.create_string_buffer(struct.pack('11Q', 0, 0, 0, 0, signal.SIGUSR1,
                                                   0, 0, 0, 0, 0, 0))
    pid = libc.syscall(435, args, ctypes.c_size_t(88))
    if pid < 0:
        sys.exit('clone3 failed: %d' % ctypes.get_errno())
    if pid == 0:
        while True:
            time.sleep(100)
elif kind == 'ctty':
    # a session leader that opens a terminal gets it as its controlling one
    os.close(os.open(sys.argv[3], os.O_RDWR))
n = 0
while True:
    n += 1
    with open(hb + '.tmp', 'w') as f:
        f.write(str(n))
    os.rename(hb + '.tmp', hb)
    time.sleep(0.05)
'''


def beat(hb):
    try:
        with open(hb) as f:
            return int(f.read() or 0)
    except (OSError, ValueError):
        return None


def wait_beat(hb, after, timeout=10):
    """True once the heartbeat in hb is above after."""
    end = time.time() + timeout
    while time.time() < end:
        b = beat(hb)
        if b is not None and b > after:
            return True
        time.sleep(0.05)
    return False


def comm(pid):
    with open(f'/proc/{pid}/comm') as f:
        return f.read().strip()


def check_refused(d, prefix, kind, words, extra=(), criu_args=()):
    """Starts prefix + the holder of kind, dumps it, checks the refusal."""
    hb = os.path.join(d, 'heartbeat')
    if kind == 'share-vm':
        root = spawn([*prefix, os.path.join(TOOLS, 'share-vm'), hb])
    else:
        root = spawn([*prefix, sys.executable, '-c', HOLDER, kind, hb, *extra])
    if not wait_beat(hb, 0):
        return f'the holder of {kind} did not start (state {state(root)})'
    tree = tree_of(root)
    names = {p: comm(p) for p in tree}
    img = os.path.join(d, 'img')
    os.makedirs(img, exist_ok=True)
    r = criu('dump', '-t', str(root), '-D', img, '-o', 'dump.log', '-v4', *criu_args)
    out = r.stdout.decode(errors='replace')
    if r.returncode != 1:
        return f'dump exited {r.returncode}, want 1: {out[-400:]}'
    errs = [line for line in out.splitlines() if 'Error' in line]
    if not errs:
        return f'no error line: {out[-400:]}'
    first = errs[0]
    if not any(f'pid {p} ({c})' in first for p, c in names.items()):
        return f'the error names no task of the tree ({names}): {first}'
    for w in words:
        if w not in first:
            return f'the error does not name {w!r}: {first}'
    imgs = [f for f in os.listdir(img) if f.endswith('.img')]
    if imgs:
        return f'a refused dump wrote images: {imgs}'
    for p in tree:
        st = state(p)
        if st not in ('S', 'R', 'D'):  # D: a moment of disk I/O
            return f'pid {p} of the tree is in state {st} after the refused dump'
        with open(f'/proc/{p}/status') as f:
            if 'TracerPid:\t0' not in f.read():
                return f'pid {p} is still traced after the refused dump'
    if not wait_beat(hb, beat(hb) or 0, 5):
        return 'the tree no longer works after the refused dump (no heartbeat)'
    return None


def case(prefix, kind, *words):
    return lambda d: check_refused(d, prefix, kind, words)


def guard_case(d):
    """Guard pages: from Linux 6.14, which shows them in PAGEMAP_SCAN."""
    major, minor = (int(x) for x in os.uname().release.split('.')[:2])
    if (major, minor) < (6, 14):
        print(f'  (guard pages: Linux {os.uname().release} has none to show; not checked)')
        return None
    return check_refused(d, [], 'guard', ('guard pages', 'MADV_GUARD_INSTALL'))


def test_ctty(d):
    """A controlling terminal whose pty master is ours, not the tree's."""
    master, slave = os.openpty()
    try:
        return check_refused(d, [], 'ctty', ('controlling terminal',),
                             (os.ttyname(slave),))
    finally:
        os.close(slave)
        os.close(master)


def main():
    if not shutil.which('unshare'):
        print('refuse: unshare (util-linux) is missing')
        return 1
    tests = [
        ('pty', case([], 'pty', 'pty', 'fd ')),
        ('deleted-shared-map', case([], 'deleted-map', 'shared mapping', 'deleted')),
        ('flock', case([], 'flock', 'file lock', 'FLOCK')),
        ('posix-lock', case([], 'posix-lock', 'file lock', 'POSIX')),
        ('lease-with-l', lambda d: check_refused(d, [], 'lease', ('lease', 'LEASE', 'fd 3'),
                                                 criu_args=('--file-locks',))),
        ('guard-pages', guard_case),
        ('userns', case(['unshare', '--user', '--map-root-user'], 'none', 'namespace', 'user')),
        ('pidns', case(['unshare', '--pid', '--fork'], 'none', 'namespace', 'pid')),
        ('netns', case(['unshare', '--net'], 'none', 'namespace', 'net')),
        ('mntns', case(['unshare', '--mount'], 'none', 'namespace', 'mnt')),
        ('utsns', case(['unshare', '--uts'], 'none', 'namespace', 'uts')),
        ('ipcns', case(['unshare', '--ipc'], 'none', 'namespace', 'ipc')),
        ('cgroupns', case(['unshare', '--cgroup'], 'none', 'namespace', 'cgroup')),
        ('timens', case(['unshare', '--time'], 'none', 'namespace', 'time_for_children')),
        ('deleted-private-map', case([], 'deleted-private-map', 'private mapping', 'deleted')),
        ('mlock', case([], 'mlock', 'locked', 'mlock')),
        ('thread-own-fd-table', case([], 'thread-files', 'thread', 'fd table')),
        ('thread-own-fs', case([], 'thread-fs', 'thread', 'CLONE_FS')),
        ('deleted-cwd', case([], 'deleted-cwd', 'cwd', 'deleted')),
        ('replaced-file', case([], 'replaced-file', 'fd 3', 'deleted')),
        ('device', case([], 'device', 'character device', '/dev/kmsg')),
        ('ctty', test_ctty),
        ('mseal', case([], 'mseal', 'sealed', 'mseal')),
        ('exit-signal', case([], 'exit-signal', 'signal 10', 'SIGCHLD')),
        ('shared-vm', case([], 'share-vm', 'shares its memory', 'CLONE_VM')),
    ]
    return run_tests('refuse', tests, SCRATCH, where=' (logs in {dir}/img)')


if __name__ == '__main__':
    sys.exit(main())
