#!/usr/bin/python3
"""What dump refuses because restore could not rebuild it (issue 9, part 1).

    refuse.py CRIU SCRATCH TOOLS

TOOLS is the directory of the built tests/e2e/tools (share-vm).

Each case starts a tree holding one thing dump does not save (a pty with
bytes queued in it, a pty slave whose master is not in the tree, a
deleted file over --ghost-limit, a namespace of its own, a file lock (a
lease also with --file-locks), a
device, a deleted root, a TCP connection (without --tcp-established, or
with its peer outside the tree), a listener with connections
not yet accepted, corked UDP data, a netlink socket with messages queued or a dump half read, a packet socket with a ring, a thread with its own fd table, two processes
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
import ctypes, fcntl, os, struct, sys, time
kind, hb = sys.argv[1], sys.argv[2]
keep = []
if kind == 'pty-data':
    m, s = os.openpty()
    keep.append((m, s))
    os.write(m, b'queued\n')  # unread by the slave (and its echo by the master)
elif kind == 'pts':
    # a slave of a pty whose master is the runner's
    keep.append(os.open(sys.argv[3], os.O_RDWR | os.O_NOCTTY))
elif kind == 'flock':
    f = open(hb + '.lock', 'w'); fcntl.flock(f, fcntl.LOCK_EX); keep.append(f)
elif kind == 'posix-lock':
    f = open(hb + '.lock', 'w'); fcntl.lockf(f, fcntl.LOCK_EX); keep.append(f)
elif kind == 'posix-lock-mapped':
    import mmap
    f = open(hb + '.lock', 'w+'); f.write('x' * 4096); f.flush()
    fcntl.lockf(f, fcntl.LOCK_EX); keep += [f, mmap.mmap(f.fileno(), 4096)]
elif kind == 'lease':
    open(hb + '.lease', 'w').close()
    f = open(hb + '.lease'); fcntl.fcntl(f, fcntl.F_SETLEASE, fcntl.F_RDLCK); keep.append(f)
elif kind in ('unix-ext-stream', 'unix-ext-dgram', 'unix-ext-accepted'):
    import socket
    t = socket.SOCK_DGRAM if kind == 'unix-ext-dgram' else socket.SOCK_STREAM
    c = socket.socket(socket.AF_UNIX, t); c.connect(sys.argv[3]); keep.append(c)
elif kind == 'unix-scm-rights':
    import socket
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    a.sendmsg([b'x'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack('i', a.fileno()))])
    keep += [a, b]
elif kind == 'unix-backlog':
    import socket
    l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); l.bind(hb + '.sock'); l.listen(4)
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); c.connect(hb + '.sock')
    keep += [l, c]
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
elif kind in ('tcp-established', 'tcp-not-accepted'):
    # on loopback, ports of the kernel's choosing
    import socket
    l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(4)
    c = socket.socket(); c.connect(l.getsockname())
    keep += [l, c]
    if kind == 'tcp-established':
        keep.append(l.accept()[0])
    else:
        time.sleep(0.2)  # the handshake done: the connection waits in l's queue
elif kind == 'tcp-peer-outside':
    # connected to a listener of the runner's
    import socket
    c = socket.create_connection(('127.0.0.1', int(sys.argv[3]))); keep.append(c)
elif kind in ('netlink-queued', 'netlink-dump-unread'):
    # lo's link asked for (or a dump of every link), the answer not read
    import socket, struct
    n = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0); n.bind((0, 0))
    if kind == 'netlink-queued':  # RTM_GETLINK of ifindex 1, with an ack
        n.send(struct.pack('=IHHII', 32, 18, 0x5, 1, 0) + struct.pack('=BxHiII', 0, 0, 1, 0, 0))
    else:  # RTM_GETLINK, NLM_F_DUMP
        n.send(struct.pack('=IHHII', 32, 18, 0x301, 1, 0) + bytes(16))
    keep.append(n)
    time.sleep(0.2)
elif kind == 'packet-ring':
    # a receive ring (PACKET_RX_RING, TPACKET_V1: one block of two frames)
    import socket, struct
    k = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    k.setsockopt(263, 5, struct.pack('IIII', 4096, 1, 2048, 2))  # SOL_PACKET, PACKET_RX_RING
    keep.append(k)
elif kind == 'udp-corked':
    import socket
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(('127.0.0.1', 0))
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.setsockopt(socket.IPPROTO_UDP, 1, 1)  # UDP_CORK
    u.sendto(b'corked', r.getsockname())
    keep += [r, u]
elif kind == 'deleted-root':
    # a child chrooted into a directory removed since (restore chroots by path)
    os.mkdir(hb + '.root')
    r, w = os.pipe()
    if os.fork() == 0:
        os.chroot(hb + '.root'); os.chdir('/')
        os.write(w, b'x')
        while True:
            time.sleep(100)
    os.read(r, 1)
    os.rmdir(hb + '.root')
elif kind == 'big-ghost':
    # opened, 2 MiB written, unlinked: more than the default --ghost-limit
    f = open(hb + '.big', 'wb'); keep.append(f)
    f.write(b'x' * (2 << 20)); f.flush(); os.fsync(f.fileno())
    os.unlink(hb + '.big')
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
elif kind == 'epoll-elsewhere':
    # the epoll's target (a pipe) is held by the child only
    import select
    r, w = os.pipe()
    ep = select.epoll()
    ep.register(r, select.EPOLLIN)
    keep.append(ep)
    if os.fork() == 0:
        ep.close()
        while True:
            time.sleep(100)
    os.close(r)
    os.close(w)
elif kind in ('io_uring', 'userfaultfd', 'perf-event', 'bpf-map', 'bpf-prog', 'fscontext',
              'fanotify-fs', 'pidfd-outside'):
    import platform, struct
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    # userfaultfd, perf_event_open, bpf; the rest (425 io_uring_setup,
    # 430 fsopen, 434 pidfd_open) have one number everywhere
    nr = {'x86_64': (323, 298, 321), 'aarch64': (282, 241, 280),
          'ppc64le': (364, 319, 361), 's390x': (355, 331, 351)}[platform.machine()]
    if kind == 'io_uring':
        params = ctypes.create_string_buffer(120)
        fd = libc.syscall(425, 4, params)
    elif kind == 'userfaultfd':
        fd = libc.syscall(nr[0], os.O_CLOEXEC)
        if fd < 0:
            fd = libc.syscall(nr[0], os.O_CLOEXEC | 1)  # UFFD_USER_MODE_ONLY
    elif kind == 'perf-event':
        # PERF_TYPE_SOFTWARE, size PERF_ATTR_SIZE_VER0, PERF_COUNT_SW_CPU_CLOCK
        attr = ctypes.create_string_buffer(struct.pack('IIQ', 1, 64, 0), 128)
        fd = libc.syscall(nr[1], attr, 0, -1, -1, 8)  # this task, any cpu, FD_CLOEXEC
    elif kind == 'bpf-map':
        # BPF_MAP_CREATE of a one-entry BPF_MAP_TYPE_ARRAY
        attr = ctypes.create_string_buffer(struct.pack('IIII', 2, 4, 4, 1), 128)
        fd = libc.syscall(nr[2], 0, attr, 128)
    elif kind == 'bpf-prog':
        # BPF_PROG_LOAD of a socket filter: r0 = 0; exit
        insns = ctypes.create_string_buffer(bytes([0xb7] + [0] * 7 + [0x95] + [0] * 7))
        lic = ctypes.create_string_buffer(b'GPL')
        attr = ctypes.create_string_buffer(struct.pack('IIQQ', 1, 2, ctypes.addressof(insns),
                                                       ctypes.addressof(lic)), 128)
        fd = libc.syscall(nr[2], 5, attr, 128)
    elif kind == 'fscontext':
        fd = libc.syscall(430, b'tmpfs', 1)  # FSOPEN_CLOEXEC
    elif kind == 'fanotify-fs':
        fd = libc.fanotify_init(0, 0)
        # FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN
        libc.fanotify_mark.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_uint64,
                                       ctypes.c_int, ctypes.c_char_p]
        if fd >= 0 and libc.fanotify_mark(fd, 0x101, 0x20, -100, os.path.dirname(hb).encode()):
            sys.exit('fanotify_mark: %d' % ctypes.get_errno())
    else:
        fd = libc.syscall(434, os.getppid(), 0)  # the runner: not in the tree
    if fd < 0:
        sys.exit('%s: errno %d' % (kind, ctypes.get_errno()))
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


def tcp_outside(d):
    """With --tcp-established, a connection to a listener of ours (outside
    the tree): refused without a network lock, naming --network-lock skip."""
    import socket
    srv = socket.socket()
    srv.bind(('127.0.0.1', 0))
    srv.listen(4)
    try:
        return check_refused(d, [], 'tcp-peer-outside', ('peer outside the dumped tree',
                                                         '--network-lock skip'),
                             (str(srv.getsockname()[1]),), criu_args=('--tcp-established',))
    finally:
        srv.close()


def unix_outside(kind, words):
    """A unix socket of the tree connected to one of ours (outside the tree)."""
    import socket

    def run(d):
        path = os.path.join(d, 'outside.sock')
        t = socket.SOCK_DGRAM if kind == 'unix-ext-dgram' else socket.SOCK_STREAM
        srv = socket.socket(socket.AF_UNIX, t)
        srv.bind(path)
        keep = []
        if t == socket.SOCK_STREAM:
            srv.listen(1)
        if kind == 'unix-ext-accepted':
            # accept the holder's connection as soon as it comes
            import threading

            def take():
                srv.settimeout(10)
                try:
                    keep.append(srv.accept()[0])
                except OSError:
                    pass
            threading.Thread(target=take, daemon=True).start()
        try:
            return check_refused(d, [], kind, words, (path,))
        finally:
            srv.close()
            for k in keep:
                k.close()
    return run
def test_pts(d):
    """A pty slave whose master is ours, not the tree's."""
    master, slave = os.openpty()
    try:
        return check_refused(d, [], 'pts', ('pty slave', 'master is not in the tree'),
                             (os.ttyname(slave),))
    finally:
        os.close(slave)
        os.close(master)


def main():
    if not shutil.which('unshare'):
        print('refuse: unshare (util-linux) is missing')
        return 1
    tests = [
        ('pty-queued-data', case([], 'pty-data', 'pty', 'fd ', 'queued')),
        ('pty-slave-outside', test_pts),
        ('flock', case([], 'flock', 'file lock', 'FLOCK')),
        ('posix-lock', case([], 'posix-lock', 'file lock', 'POSIX')),
        ('lease-with-l', lambda d: check_refused(d, [], 'lease', ('lease', 'LEASE', 'fd 3'),
                                                 criu_args=('--file-locks',))),
        ('posix-lock-mapped-with-l',
         lambda d: check_refused(d, [], 'posix-lock-mapped', ('POSIX lock', 'also maps'),
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
        ('mlock', case([], 'mlock', 'locked', 'mlock')),
        ('thread-own-fd-table', case([], 'thread-files', 'thread', 'fd table')),
        ('thread-own-fs', case([], 'thread-fs', 'thread', 'CLONE_FS')),
        ('deleted-root', case([], 'deleted-root', 'root', 'deleted')),
        ('tcp-established', case([], 'tcp-established', 'established TCP connection',
                                 '--tcp-established')),
        ('tcp-peer-outside', tcp_outside),
        ('tcp-not-accepted', case([], 'tcp-not-accepted', 'TCP socket 127.0.0.1:',
                                  'not yet accepted')),
        ('udp-corked', case([], 'udp-corked', 'UDP socket', 'corked')),
        ('netlink-queued', case([], 'netlink-queued', 'netlink socket', 'queued')),
        ('packet-ring', case([], 'packet-ring', 'packet socket', 'PACKET_RX_RING')),
        ('netlink-dump-unread', case([], 'netlink-dump-unread', 'netlink socket',
                                     'in the middle of reading a dump')),
        ('big-ghost', case([], 'big-ghost', 'deleted', '--ghost-limit', '--link-remap')),
        ('device', case([], 'device', 'character device', '/dev/kmsg')),
        ('ctty', test_ctty),
        ('mseal', case([], 'mseal', 'sealed', 'mseal')),
        ('exit-signal', case([], 'exit-signal', 'signal 10', 'SIGCHLD')),
        ('shared-vm', case([], 'share-vm', 'shares its memory', 'CLONE_VM')),
        ('unix-peer-outside-stream', unix_outside('unix-ext-stream',
                                                  ('unix socket', 'outside the dumped tree'))),
        ('unix-peer-accepted-outside', unix_outside('unix-ext-accepted',
                                                    ('unix socket', 'outside the dumped tree'))),
        ('unix-peer-outside-dgram', unix_outside('unix-ext-dgram',
                                                 ('unix socket', '--ext-unix-sk'))),
        ('unix-fd-in-flight', case([], 'unix-scm-rights', 'unix socket', 'SCM_RIGHTS')),
        ('unix-not-accepted', case([], 'unix-backlog', 'unix socket', 'not yet accepted')),
        ('epoll-target-elsewhere', case([], 'epoll-elsewhere', 'epoll', 'no longer holds')),
        # kinds the kernel can't give back: the kind and the fd's path in /proc
        ('io_uring', case([], 'io_uring', 'an io_uring', 'anon_inode:[io_uring]', '/proc/')),
        ('userfaultfd', case([], 'userfaultfd', 'a userfaultfd', '/proc/')),
        ('perf-event', case([], 'perf-event', 'a perf event', '/proc/')),
        ('bpf-map', case([], 'bpf-map', 'a bpf map', 'anon_inode:bpf-map', '/proc/')),
        ('bpf-prog', case([], 'bpf-prog', 'a bpf program', 'anon_inode:bpf-prog', '/proc/')),
        ('unknown-kind', case([], 'fscontext', 'does not know', 'anon_inode:[fscontext]',
                              '/proc/')),
        ('fanotify-filesystem-mark', case([], 'fanotify-fs', 'fanotify', 'sdev:', 'fdinfo')),
        ('pidfd-outside', case([], 'pidfd-outside', 'pidfd of pid', 'not in the dumped tree')),
    ]
    return run_tests('refuse', tests, SCRATCH, where=' (logs in {dir}/img)')


if __name__ == '__main__':
    sys.exit(main())
