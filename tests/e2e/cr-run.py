#!/usr/bin/env python3
"""Runs the e2e test programs (tests/e2e/progs) through criu dump and restore.

For each program and variant:
  plain          criu dump, then criu restore
  leave-running  criu dump -R; the original must still run and pass; it is
                 then killed, and the images restored
  leave-stopped  criu dump -s; the original must be stopped; it is killed,
                 and the images restored
  user           as plain, with the program running as uid/gid 65534
The program is started in its own session (stdin /dev/null, stdout/stderr to
a log), writes its pidfile when set up, and after SIGTERM writes PASS or
"FAIL: ..." to its outfile.  The runner checks that verdict, and that the
restored process has the dumped PID.  --no-cr skips dump and restore.

The runner is a child subreaper: everything the tests start stays below it,
is reaped by it, and is killed by it (by PID, never by name) when a test
ends, times out, or the runner is interrupted.
"""
import argparse
import ctypes
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

PR_SET_CHILD_SUBREAPER = 36
WALL = 0x40000000
NOBODY = 65534
VARIANTS = ("plain", "leave-running", "leave-stopped", "user")
NATIVE_VARIANTS = ("plain", "user")
READY_TIMEOUT = 10
VERDICT_TIMEOUT = 20
GONE_TIMEOUT = 10
LOG_NAMES = ("prog.log", "criu-dump.out", "images/dump.log", "criu-restore.out",
             "images/restore.log", "threads.txt")

ABORT = threading.Event()
PRINT_LOCK = threading.Lock()


class Aborted(Exception):
    pass


class TestFailed(Exception):
    pass


# ---- processes ---------------------------------------------------------------

class Reaper:
    """Reaps every child (ours, and orphans that come to us as subreaper) and
    keeps their wait statuses until someone asks for them."""

    def __init__(self):
        self.lock = threading.Lock()
        self.status = {}

    def reap(self):
        with self.lock:
            while True:
                try:
                    pid, st = os.waitpid(-1, os.WNOHANG | WALL)
                except ChildProcessError:
                    return
                if pid == 0:
                    return
                self.status[pid] = st

    def take(self, pid):
        with self.lock:
            return self.status.pop(pid, None)

    def forget(self, pids):
        with self.lock:
            for p in pids:
                self.status.pop(p, None)


REAPER = Reaper()


def check_abort():
    if ABORT.is_set():
        raise Aborted()


def spawn(argv, cwd, out_path, new_session=True, uid=None):
    """fork+exec argv with stdin /dev/null and stdout/stderr appended to out_path."""
    out_fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
    in_fd = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
    try:
        with REAPER.lock:  # no reaping between fork and forgetting a stale status
            pid = os.fork()
            if pid == 0:
                try:
                    os.chdir(cwd)
                    if new_session:
                        os.setsid()
                    os.dup2(in_fd, 0)
                    os.dup2(out_fd, 1)
                    os.dup2(out_fd, 2)
                    if uid is not None:
                        os.setgroups([])
                        os.setresgid(uid, uid, uid)
                        os.setresuid(uid, uid, uid)
                    signal.pthread_sigmask(signal.SIG_SETMASK, [])
                    os.execv(argv[0], argv)
                except BaseException as e:  # noqa: B036 - the child must never return
                    os.write(2, ("cannot start %s: %s\n" % (argv[0], e)).encode())
                os._exit(127)
            REAPER.status.pop(pid, None)
    finally:
        os.close(out_fd)
        os.close(in_fd)
    return pid


def proc_stat(pid):
    """(state, ppid) of pid, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    return rest[0], int(rest[1])


def exists(pid):
    return os.path.exists("/proc/%d" % pid)


def is_ours(pid):
    """pid descends from this runner (so we created it, through some chain)."""
    me = os.getpid()
    for _ in range(64):
        st = proc_stat(pid)
        if st is None:
            return False
        if st[1] == me:
            return True
        if st[1] <= 1:
            return False
        pid = st[1]
    return False


def tree_of(root):
    """(pids, tids) of root and all its descendants, from /proc."""
    pids, tids, todo = [], [], [root]
    while todo:
        p = todo.pop()
        if p in pids:
            continue
        pids.append(p)
        try:
            threads = [int(t) for t in os.listdir("/proc/%d/task" % p)]
        except OSError:
            continue
        for t in threads:
            tids.append(t)
            try:
                with open("/proc/%d/task/%d/children" % (p, t)) as f:
                    todo.extend(int(c) for c in f.read().split())
            except OSError:
                pass
    return pids, tids


def descendants():
    """Every process below this runner."""
    me, parent = os.getpid(), {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_stat(int(name))
            if st:
                parent[int(name)] = st[1]
    found, changed = set(), True
    while changed:
        changed = False
        for p, pp in parent.items():
            if p not in found and (pp == me or pp in found):
                found.add(p)
                changed = True
    return found


def kill_pids(pids):
    for p in pids:
        if is_ours(p):
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass


def wait_gone(ids, timeout=GONE_TIMEOUT):
    """Reaps until none of ids (pids and tids) exists; returns those left."""
    deadline = time.monotonic() + timeout
    while True:
        REAPER.reap()
        REAPER.forget(ids)
        left = [p for p in ids if exists(p)]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.01)


def wait_exit(pid, deadline):
    """The wait status of pid (None if not ours to reap), or raises on timeout."""
    while True:
        REAPER.reap()
        st = REAPER.take(pid)
        if st is not None:
            return st
        stat = proc_stat(pid)
        if stat is None:
            # Gone: another test's thread may have reaped it after our
            # take() above, and then its status waits for us.
            REAPER.reap()
            return REAPER.take(pid)
        if stat[0] == "Z" and stat[1] != os.getpid():
            return None  # ended, and someone else reaps it
        if time.monotonic() >= deadline:
            raise TimeoutError()
        check_abort()
        time.sleep(0.01)


def describe_status(st):
    if st is None:
        return "ended"
    if os.WIFEXITED(st):
        return "exit %d" % os.WEXITSTATUS(st)
    if os.WIFSIGNALED(st):
        return "killed by signal %d" % os.WTERMSIG(st)
    return "status %#x" % st


def kill_everything():
    """Kills every process below the runner, until none is left (bounded)."""
    deadline = time.monotonic() + GONE_TIMEOUT
    while time.monotonic() < deadline:
        left = descendants()
        if not left:
            return
        for p in left:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        REAPER.reap()
        time.sleep(0.02)


# ---- one test ----------------------------------------------------------------

class Test:
    def __init__(self, prog, variant, desc, args):
        self.prog, self.variant, self.desc, self.args = prog, variant, desc, args
        self.name = os.path.basename(prog)
        self.dir = os.path.join(args.scratch, "%s.%s" % (self.name, variant))
        self.work = os.path.join(self.dir, "work")
        self.images = os.path.join(self.dir, "images")
        self.pidfile = os.path.join(self.work, "pid")
        self.outfile = os.path.join(self.work, "out")
        self.log = os.path.join(self.dir, "prog.log")
        self.uid = NOBODY if variant == "user" else None
        self.ours = set()  # pids and tids this test created and has not seen end
        self.deadline = 0

    def fail(self, reason):
        raise TestFailed(reason)

    def remaining(self, cap=None):
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.fail("timed out after %d s" % self.args.timeout)
        return min(left, cap) if cap else left

    def prepare(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.work)
        os.makedirs(self.images, mode=0o700)
        os.chmod(self.dir, 0o755)
        if self.uid is not None:
            os.chown(self.work, self.uid, self.uid)
            os.chmod(self.work, 0o755)
        else:
            os.chmod(self.work, 0o777)  # programs that change their uid write here too

    def start(self):
        argv = [self.prog, "--pidfile", self.pidfile, "--outfile", self.outfile]
        if self.args.self_test_break:
            argv.append("--self-test-break")
        pid = spawn(argv, self.work, self.log, uid=self.uid)
        self.ours.add(pid)
        deadline = time.monotonic() + self.remaining(READY_TIMEOUT)
        while not os.path.exists(self.pidfile):
            st = REAPER.take(pid)
            if st is not None:
                self.fail("exited before it was ready (%s): %s" %
                          (describe_status(st), self.read_outfile() or "no verdict"))
            if time.monotonic() >= deadline:
                self.fail("no pidfile within %d s" % READY_TIMEOUT)
            check_abort()
            REAPER.reap()
            time.sleep(0.01)
        with open(self.pidfile) as f:
            written = int(f.read().strip() or 0)
        if written != pid:
            self.fail("pidfile says %d, the program is %d" % (written, pid))
        # what it runs when ready: the program, or a copy it executed
        # (exe-deleted runs a copy of itself that it then removes)
        try:
            self.exe = os.readlink("/proc/%d/exe" % pid)
        except OSError as e:
            self.fail("pid %d when ready: %s" % (pid, e))
        if self.exe != os.path.realpath(self.prog) and \
                not self.exe.startswith(os.path.realpath(self.work) + "/"):
            self.fail("pid %d runs %s, neither the program nor a file of its own" %
                      (pid, self.exe))
        return pid

    def read_outfile(self):
        try:
            with open(self.outfile) as f:
                return f.readline().strip()
        except OSError:
            return ""

    def track(self, root):
        pids, tids = tree_of(root)
        self.ours.update(pids, tids)
        return pids, tids

    def criu(self, action, extra, deadline_cap=None):
        out = os.path.join(self.dir, "criu-%s.out" % action)
        log = "%s.log" % action
        argv = [self.args.criu, action, "-D", self.images, "-o", log, "-v4"] + extra + \
            self.desc.get("criu-opts", "").split()
        pid = spawn(argv, self.dir, out)
        self.ours.add(pid)
        try:
            st = wait_exit(pid, time.monotonic() + self.remaining(deadline_cap))
        except TimeoutError:
            self.kill(pid)
            self.fail("criu %s did not finish within %d s" % (action, self.args.timeout))
        self.ours.discard(pid)
        if st is None or not os.WIFEXITED(st) or os.WEXITSTATUS(st) != 0:
            said = "".join(tail(out, 1)).strip()
            self.fail("criu %s failed (%s)%s" % (action, describe_status(st),
                                                  ": " + said if said else ""))

    def verdict(self, pid, what):
        """SIGTERM pid; its outfile must say PASS and it must exit 0."""
        self.disturb(pid)
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError as e:
            self.fail("%s: cannot signal %d: %s" % (what, pid, e))
        try:
            st = wait_exit(pid, time.monotonic() + self.remaining(VERDICT_TIMEOUT))
        except TimeoutError:
            self.record_threads(pid)
            self.fail("%s: no verdict within %d s of SIGTERM" % (what, VERDICT_TIMEOUT))
        self.ours.discard(pid)
        text = self.read_outfile()
        if text == "PASS" and (st is None or (os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0)):
            return
        self.fail("%s%s" % (what + ": " if what else "",
                            text or "no verdict (%s)" % describe_status(st)))

    def record_threads(self, pid):
        """Where each thread of a program that gave no verdict sits (state,
        signal masks, syscall, wchan): threads.txt, shown with the logs."""
        keys = ("State:", "SigBlk:", "SigPnd:", "ShdPnd:", "SigIgn:", "SigCgt:")
        lines = []
        task = "/proc/%d/task" % pid
        try:
            tids = sorted(os.listdir(task), key=int)
        except OSError:
            return
        for tid in tids:
            parts = ["tid %s:" % tid]
            try:
                with open("%s/%s/status" % (task, tid)) as f:
                    parts += [l.strip().replace("\t", " ") for l in f if l.startswith(keys)]
                for name in ("syscall", "wchan"):
                    with open("%s/%s/%s" % (task, tid, name)) as f:
                        parts.append("%s: %s" % (name, f.read().strip()))
            except OSError:
                pass
            lines.append(" ".join(parts))
        with open(os.path.join(self.dir, "threads.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")

    def disturb(self, pid):
        if not self.args.disturb:
            return
        cmd = self.args.disturb.format(pid=pid, dir=self.work, prog=self.name)
        sh = spawn(["/bin/sh", "-c", cmd], self.work, self.log)
        try:
            wait_exit(sh, time.monotonic() + self.remaining(VERDICT_TIMEOUT))
        except TimeoutError:
            self.kill(sh)

    def wait_gone(self, ids):
        left = wait_gone(ids)
        self.ours.difference_update(set(ids) - set(left))
        return left

    def kill(self, root):
        pids, tids = tree_of(root) if exists(root) else ([root], [])
        kill_pids(pids)
        self.wait_gone(pids + tids)

    def states(self, tids):
        out = {}
        for t in tids:
            st = proc_stat(t)
            out[t] = st[0] if st else "gone"
        return out

    def check_original(self, pid, pids, tids, before):
        """After dump -R every task runs on, after -s it is stopped; zombies stay zombies,
        and tasks stopped before the dump stay stopped."""
        want = ("R", "S", "D") if self.variant == "leave-running" else ("T",)
        deadline = time.monotonic() + self.remaining(5)
        while True:  # a SIGSTOP criu sent may take a moment to land
            bad = {t: s for t, s in self.states(tids).items()
                   if s not in want and not (s in ("Z", "T") and before.get(t) == s)}
            if not bad or time.monotonic() >= deadline:
                break
            time.sleep(0.01)
        if bad:
            self.fail("after dump %s, tasks are not %s: %s" % (
                "-R" if self.variant == "leave-running" else "-s",
                "running" if self.variant == "leave-running" else "stopped", bad))
        if self.variant == "leave-running":
            self.verdict(pid, "the original after dump -R")
        kill_pids(pids)

    def restored(self, pid):
        st = proc_stat(pid)
        if st is None or st[0] == "Z":
            self.fail("no process with the dumped pid %d after restore" % pid)
        try:
            exe = os.readlink("/proc/%d/exe" % pid)
        except OSError as e:
            self.fail("pid %d after restore: %s" % (pid, e))
        if exe != self.exe:
            self.fail("pid %d after restore runs %s, not %s as before dump" %
                      (pid, exe, self.exe))
        self.track(pid)

    def run(self):
        self.deadline = time.monotonic() + self.args.timeout
        self.prepare()
        pid = self.start()
        if self.args.no_cr:
            self.track(pid)
            self.verdict(pid, "")
            return
        pids, tids = self.track(pid)
        extra = {"leave-running": ["-R"], "leave-stopped": ["-s"]}.get(self.variant, [])
        before = self.states(tids)
        self.criu("dump", ["-t", str(pid)] + extra)
        if extra:
            self.check_original(pid, pids, tids, before)
        left = self.wait_gone(pids + tids)
        if left:
            kill_pids(left)
            self.fail("the dumped tree is still there: %s" % left)
        for f in (self.outfile, self.pidfile):
            if os.path.exists(f):
                os.unlink(f)
        self.criu("restore", ["-d"])
        self.restored(pid)
        self.verdict(pid, "")

    def cleanup(self):
        for p in list(self.ours):
            if exists(p):
                self.ours.update(tree_of(p)[0])
        kill_pids(self.ours)
        self.wait_gone(list(self.ours))

    def logs(self):
        paths = [os.path.join(self.dir, n) for n in LOG_NAMES]
        return [p for p in paths if os.path.exists(p) and os.path.getsize(p)]


def skip_reason(desc, variant, args):
    if desc.get("skip"):
        return desc["skip"]
    if variant == "user" and os.geteuid() != 0:
        return "the runner is not root"
    if desc.get("needs-root") == "yes" and (variant == "user" or os.geteuid() != 0):
        return "needs root"
    if variant == "user" and not nobody_can_reach(args.scratch):
        return "uid %d cannot reach %s" % (NOBODY, args.scratch)
    return None


def nobody_can_reach(path):
    path = os.path.realpath(path)
    while path != "/":
        st = os.stat(path)
        if not (st.st_mode & 0o001 or (st.st_uid == NOBODY and st.st_mode & 0o100)):
            return False
        path = os.path.dirname(path)
    return True


def say(line):
    with PRINT_LOCK:
        print(line, flush=True)


def tail(path, lines=15):
    try:
        with open(path, errors="replace") as f:
            return f.readlines()[-lines:]
    except OSError:
        return []


def run_test(prog, variant, desc, args):
    """Returns 'pass', 'fail' or 'skip'; prints the line."""
    name = os.path.basename(prog)
    why = skip_reason(desc, variant, args)
    if why:
        say("SKIP %s %s: %s" % (name, variant, why))
        return "skip"
    t = Test(prog, variant, desc, args)
    try:
        t.run()
        result = None
    except TestFailed as e:
        result = str(e)
    except Aborted:
        result = "interrupted"
    except Exception as e:  # a bug in the runner must not leave processes behind
        result = "runner error: %r" % e
    finally:
        t.cleanup()
    if result is None:
        say("PASS %s %s" % (name, variant))
        if not args.keep:
            shutil.rmtree(t.dir, ignore_errors=True)
        return "pass"
    logs = t.logs()
    text = "FAIL %s %s: %s (%s)" % (name, variant, result, ", ".join(logs) or t.dir)
    if args.show_logs:
        for path in logs:
            text += "\n--- %s (last lines)\n%s" % (path, "".join(tail(path)).rstrip())
    say(text)
    return "fail"


# ---- main ------------------------------------------------------------------------

def describe(prog):
    """Parses `prog --describe`: doc, needs-root, skip."""
    try:
        r = subprocess.run([prog, "--describe"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as e:
        return {"skip": "cannot describe: %s" % e}
    desc = {}
    for line in r.stdout.splitlines():
        key, _, value = line.partition(":")
        desc[key.strip()] = value.strip()
    if r.returncode != 0 or "doc" not in desc:
        return {"skip": "--describe failed: %s" % (r.stderr.strip() or r.returncode)}
    return desc


def find_progs(args):
    if not os.path.isdir(args.progs):
        sys.exit("cr-run: no programs in %s (make e2e-progs)" % args.progs)
    found = sorted(f for f in os.listdir(args.progs)
                   if not f.endswith(".o") and os.access(os.path.join(args.progs, f), os.X_OK)
                   and os.path.isfile(os.path.join(args.progs, f)))
    if args.names:
        missing = [n for n in args.names if n not in found]
        if missing:
            sys.exit("cr-run: no such program: %s" % " ".join(missing))
        found = args.names
    return [os.path.realpath(os.path.join(args.progs, f)) for f in found]


def parse_args():
    arch = platform.machine()
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", help="programs to run (default: all)")
    p.add_argument("--criu", default="./criu", help="criu binary (default ./criu)")
    p.add_argument("--progs", default="build/%s/tests/e2e/progs" % arch,
                   help="directory of the built programs")
    p.add_argument("--variants", help="comma-separated, of: %s (default: all; with "
                   "--no-cr: %s)" % (",".join(VARIANTS), ",".join(NATIVE_VARIANTS)))
    p.add_argument("--no-cr", action="store_true",
                   help="no dump/restore: only SIGTERM and the verdict")
    p.add_argument("-j", "--jobs", type=int, default=1, help="tests run in parallel")
    p.add_argument("--timeout", type=int, default=120, help="seconds per test and variant")
    p.add_argument("--scratch", help="directory for the tests' files (default: a new "
                   "one in /tmp, removed when everything passed)")
    p.add_argument("--keep", action="store_true", help="keep the files of passing tests")
    p.add_argument("--show-logs", action="store_true", help="print log tails of failures")
    p.add_argument("--list", action="store_true", help="list the programs and exit")
    p.add_argument("--disturb", metavar="CMD",
                   help="shell command run right before SIGTERM ({pid} {dir} {prog}); "
                   "for checking that the programs notice a change")
    p.add_argument("--self-test-break", action="store_true",
                   help="make every program corrupt a recorded value: all must FAIL")
    args = p.parse_args()
    if args.variants:
        args.variants = args.variants.split(",")
        bad = [v for v in args.variants if v not in VARIANTS]
        if bad:
            p.error("unknown variant %s" % ",".join(bad))
    else:
        args.variants = list(NATIVE_VARIANTS if args.no_cr else VARIANTS)
    if args.jobs < 1:
        p.error("-j must be at least 1")
    args.criu = os.path.realpath(args.criu)
    if not args.no_cr and not os.access(args.criu, os.X_OK):
        p.error("no criu at %s" % args.criu)
    return args


def on_sigterm(sig, frame):
    raise KeyboardInterrupt()


def main():
    args = parse_args()
    progs = find_progs(args)
    descs = {prog: describe(prog) for prog in progs}
    if args.list:
        for prog in progs:
            d = descs[prog]
            print("%-22s %s%s%s" % (os.path.basename(prog), d.get("doc", ""),
                                    " [root]" if d.get("needs-root") == "yes" else "",
                                    " [skip: %s]" % d["skip"] if d.get("skip") else ""))
        return 0

    # Children inherit ignored signals: Python ignores these two.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, on_sigterm)  # even when started with SIGINT ignored
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("cr-run: PR_SET_CHILD_SUBREAPER: %s" % os.strerror(ctypes.get_errno()))

    own_scratch = args.scratch is None
    if own_scratch:
        args.scratch = tempfile.mkdtemp(prefix="criu-cr.")
    os.makedirs(args.scratch, exist_ok=True)
    os.chmod(args.scratch, 0o755)

    jobs = [(prog, v) for prog in progs for v in args.variants]
    results = {"pass": 0, "fail": 0, "skip": 0}
    pool = ThreadPoolExecutor(max_workers=args.jobs)
    try:
        futures = [pool.submit(run_test, prog, v, descs[prog], args) for prog, v in jobs]
        for f in as_completed(futures):
            results[f.result()] += 1
    except KeyboardInterrupt:
        ABORT.set()
        pool.shutdown(wait=False, cancel_futures=True)
        kill_everything()
        pool.shutdown(wait=True)
        kill_everything()
        say("cr: interrupted (files in %s)" % args.scratch)
        return 130
    pool.shutdown(wait=True)
    kill_everything()

    summary = "cr: %d passed, %d failed" % (results["pass"], results["fail"])
    if results["skip"]:
        summary += ", %d skipped" % results["skip"]
    if results["fail"]:
        summary += " (files in %s)" % args.scratch
    elif own_scratch and not args.keep:
        shutil.rmtree(args.scratch, ignore_errors=True)
    say(summary)
    return 1 if results["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
