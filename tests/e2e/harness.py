"""What the python e2e scripts (bad-input.py, real-programs.py) share: the
runner as a child subreaper that reaps everything below it, starting and
tracking processes, waiting (bounded) for them to be gone, and the loop
that runs named tests, kills what each started, and prints the verdicts.
cr-run.py has its own, thread-safe, version of the process part."""

import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
CRIU = None  # set by setup()

started = []  # pids the current test created: killed, with their trees, after it


def become_subreaper():
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def setup(argv):
    """For scripts called as SCRIPT CRIU SCRATCH: becomes a subreaper and
    returns the scratch directory; criu() runs that CRIU."""
    global CRIU
    CRIU = os.path.abspath(argv[1])
    become_subreaper()
    return argv[2]


def criu(*args, **kw):
    """Runs CRIU with args (bounded), stdout and stderr together in .stdout."""
    return subprocess.run([CRIU, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=60, **kw)


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def state(pid):
    """The state letter of /proc/PID/stat, None when it is gone."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0]
    except OSError:
        return None


def wait_gone(pids, timeout=10):
    """Reaps until none of pids exists (zombies included); False on timeout."""
    end = time.time() + timeout
    while time.time() < end:
        reap()
        if not any(os.path.exists(f'/proc/{p}') for p in pids):
            return True
        time.sleep(0.05)
    return False


def tree_of(root):
    pids, todo = [], [root]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            with open(f'/proc/{p}/task/{p}/children') as f:
                todo += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return pids


def spawn(argv, **kw):
    """Starts argv in its own session, stdio to /dev/null, and tracks it."""
    p = subprocess.Popen(argv, start_new_session=True, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    started.append(p.pid)
    return p.pid


def kill_started():
    for p in started:
        for q in tree_of(p):
            try:
                os.kill(q, signal.SIGKILL)
            except OSError:
                pass
    wait_gone(started)
    started.clear()


def run_tests(label, tests, scratch, subdirs=(), where=''):
    """Runs each (name, fn) as fn(dir) in scratch/name (with subdirs made
    there); fn returns an error string or None.  Prints PASS/FAIL lines and
    "label: N passed, N failed"; the exit status to use."""
    passed = failed = 0
    for name, fn in tests:
        d = os.path.join(scratch, name)
        for sub in ('',) + tuple(subdirs):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        try:
            err = fn(d)
        except Exception as e:  # a broken harness is a failure too
            err = f'{type(e).__name__}: {e}'
        kill_started()
        if err:
            failed += 1
            print(f'FAIL {name}: {err}{where.format(dir=d)}')
        else:
            passed += 1
            print(f'PASS {name}')
        sys.stdout.flush()
    print(f'{label}: {passed} passed, {failed} failed')
    return 1 if failed else 0
