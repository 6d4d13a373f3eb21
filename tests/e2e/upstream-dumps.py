#!/usr/bin/env python3
"""Restores, with our criu, the dumps upstream CRIU 4.2 wrote of our e2e
programs (tests/fixtures/upstream-dumps, see its README), and checks that
each restored program says PASS.

Usage: upstream-dumps.py CRIU FIXTURES SCRATCH [NAME...]

Run as PID 1 of a new PID namespace (t-upstream-dumps.sh does that with
unshare), so that the dumped PIDs are free whatever runs on the machine,
and so that everything restored dies with this script.  The programs'
binaries must be at /tmp/criu-upstream-fixtures/bin (where upstream dumped
them), their cwd and verdicts at /tmp/criu-upstream-fixtures/out; the
caller holds the lock of that directory.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

BASE = "/tmp/criu-upstream-fixtures"
RESTORE_TIMEOUT = 60
VERDICT_TIMEOUT = 20


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def exists(pid):
    """pid is there and not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def tree_pids(criu, images):
    r = subprocess.run([criu, "show", "--json", "-f", os.path.join(images, "pstree.img")],
                       capture_output=True, text=True, timeout=30)
    if r.returncode:
        raise RuntimeError("criu show pstree.img: %s" % r.stderr.strip())
    return [e["pid"] for e in json.loads(r.stdout)["entries"]]


def kill_all(pids):
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass
    end = time.monotonic() + 10
    while time.monotonic() < end and any(os.path.exists("/proc/%d" % p) for p in pids):
        reap()
        time.sleep(0.02)


def run_one(criu, fixtures, scratch, name):
    """None, or what went wrong."""
    images = os.path.join(scratch, name)
    shutil.copytree(os.path.join(fixtures, "dumps", name), images)
    out = os.path.join(BASE, "out", name + ".out")
    if os.path.exists(out):
        os.unlink(out)
    pids = tree_pids(criu, images)
    log = os.path.join(scratch, name + ".restore.log")
    try:
        r = subprocess.run([criu, "restore", "-d", "-D", images, "-o", log, "-v4"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=RESTORE_TIMEOUT)
    except subprocess.TimeoutExpired:
        kill_all(pids)
        return "criu restore did not finish within %d s" % RESTORE_TIMEOUT
    if r.returncode:
        kill_all(pids)
        last = (r.stdout.strip().splitlines() or ["(no output)"])[-1]
        return "criu restore exited %d: %s" % (r.returncode, last)
    root = pids[0]
    try:
        exe = os.readlink("/proc/%d/exe" % root)
    except OSError as e:
        kill_all(pids)
        return "no pid %d after restore: %s" % (root, e)
    if exe != os.path.join(BASE, "bin", name):
        kill_all(pids)
        return "pid %d runs %s, not the program" % (root, exe)
    os.kill(root, signal.SIGTERM)
    end = time.monotonic() + VERDICT_TIMEOUT
    while exists(root) and time.monotonic() < end:
        reap()
        time.sleep(0.02)
    left = exists(root)
    kill_all(pids)
    if left:
        return "no verdict within %d s of SIGTERM" % VERDICT_TIMEOUT
    try:
        with open(out) as f:
            verdict = f.readline().strip()
    except OSError:
        return "no verdict in %s" % out
    return None if verdict == "PASS" else verdict


def main():
    criu, fixtures, scratch = (os.path.abspath(a) for a in sys.argv[1:4])
    names = sys.argv[4:] or sorted(os.listdir(os.path.join(fixtures, "dumps")))
    if os.getpid() != 1:
        sys.exit("upstream-dumps.py must be PID 1 of its own PID namespace")
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(1))
    failed = 0
    for name in names:
        try:
            err = run_one(criu, fixtures, scratch, name)
        except Exception as e:  # a harness error is a failure, never a pass
            err = "%s: %s" % (type(e).__name__, e)
        if err:
            failed += 1
            print("FAIL %s: %s" % (name, err))
            log = os.path.join(scratch, name + ".restore.log")
            if os.path.exists(log):
                with open(log, errors="replace") as f:
                    print("".join(f.readlines()[-8:]).rstrip())
        else:
            print("PASS %s" % name)
        sys.stdout.flush()
    print("upstream dumps: %d passed, %d failed" % (len(names) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
