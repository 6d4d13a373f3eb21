#!/usr/bin/env python3
"""Our dump of fd-pipe (two processes, pipes with data) has upstream CRIU
4.2's layout: the same image files, named the same way, the same fields in
each (as `criu show --json` lists them) as upstream's dump of the same
program in tests/fixtures/upstream-dumps, but for the differences listed
below; inventory root_ids are criu's own ids (1) with criu's namespace ids
numbered in upstream's order; and a restore of a task whose ids say it had
namespaces of its own is refused, naming them.

Usage: images-layout.py CRIU PROG FIXTURE_DUMP SCRATCH
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

# fields only one side writes, none needed by the other's restore (docs/images.md)
ONLY_UPSTREAM = {
    "core": {"thread_info.tls", "thread_info.fpregs.xsave.cet"},
    "mm": {"thp_disabled"},
    "files": {"reg.build_id"},
}
ONLY_OURS = {
    "core": {"thread_core.blk_sigset", "thread_core.creds.no_new_privs",
             "thread_core.pdeath_sig"},
}
NS_ORDER = ["pid", "net", "ipc", "uts", "time", "mnt", "user", "cgroup"]
errors = []


def check(cond, what):
    if not cond:
        errors.append(what)


def show(criu, path):
    r = subprocess.run([criu, "show", "--json", "-f", path], capture_output=True, text=True,
                       timeout=60)
    if r.returncode:
        raise RuntimeError("criu show %s: %s" % (path, r.stderr.strip()))
    return json.loads(r.stdout)["entries"]


def keys(obj, prefix, acc):
    if isinstance(obj, dict):
        for k, v in obj.items():
            name = prefix + "." + k if prefix else k
            acc.add(name)
            keys(v, name, acc)
    elif isinstance(obj, list):
        for v in obj:
            keys(v, prefix, acc)
    return acc


def kind(fname):
    """core-17106.img -> core; pagemap-shmem-5.img -> pagemap-shmem"""
    return re.sub(r"-[0-9]+$", "", fname[:-4] if fname.endswith(".img") else fname)


def allowed(k, name, extra):
    return any(name == a or name.startswith(a + ".") for a in extra.get(k, ()))


def compare_fields(criu, ours, theirs):
    by_kind = {}
    for d, side in ((theirs, 0), (ours, 1)):
        for f in sorted(os.listdir(d)):
            if f.startswith("pages-") or not (f.endswith(".img") or f == "stats-dump"):
                continue
            by_kind.setdefault(kind(f), [set(), set()])
            for e in show(criu, os.path.join(d, f)):
                keys(e, "", by_kind[kind(f)][side])
    for k, (up, us) in sorted(by_kind.items()):
        if k == "cpuinfo":
            continue
        miss = sorted(n for n in up - us if not allowed(k, n, ONLY_UPSTREAM))
        more = sorted(n for n in us - up if not allowed(k, n, ONLY_OURS))
        check(not miss, "%s: upstream writes %s, we do not" % (k, ", ".join(miss)))
        check(not more, "%s: we write %s, upstream does not" % (k, ", ".join(more)))


def compare_names(criu, ours, theirs):
    def kinds(d):
        return {kind(f) for f in os.listdir(d) if not f.endswith(".log")}
    up, us = kinds(theirs), kinds(ours) - {"cpuinfo"}
    check(up == us, "image files: upstream has %s, we have %s" % (sorted(up), sorted(us)))
    files = set(os.listdir(ours))
    pstree = show(criu, os.path.join(ours, "pstree.img"))
    heads = set()
    for t in pstree:
        ids = show(criu, os.path.join(ours, "ids-%d.img" % t["pid"]))[0]
        check("fdinfo-%d.img" % ids["files_id"] in files,
              "no fdinfo-%d.img for the files_id of pid %d" % (ids["files_id"], t["pid"]))
        head = show(criu, os.path.join(ours, "pagemap-%d.img" % t["pid"]))[0]
        check("pages-%d.img" % head["pages_id"] in files,
              "no pages-%d.img for pagemap-%d.img" % (head["pages_id"], t["pid"]))
        heads.add(head["pages_id"])
    check(heads == set(range(1, len(pstree) + 1)),
          "pages ids %s, want 1..%d" % (sorted(heads), len(pstree)))
    return pstree


def check_ids(criu, ours, pstree):
    inv = show(criu, os.path.join(ours, "inventory.img"))[0]
    root = inv.get("root_ids", {})
    for k in ("vm_id", "files_id", "fs_id", "sighand_id"):
        check(root.get(k) == 1, "inventory root_ids.%s is %s, want 1 (criu's own)" %
              (k, root.get(k)))
    n = 0
    for ns in NS_ORDER:
        if os.path.exists("/proc/self/ns/" + ns):
            n += 1
            check(root.get(ns + "_ns_id") == n, "root_ids.%s_ns_id is %s, want %d" %
                  (ns, root.get(ns + "_ns_id"), n))
    for k in ("root_cg_set", "lsmtype", "network_lock_method", "dump_criu_run_id"):
        check(k in inv, "inventory has no %s" % k)
    for i, t in enumerate(pstree):
        ids = show(criu, os.path.join(ours, "ids-%d.img" % t["pid"]))[0]
        check(ids["vm_id"] == i + 2, "pid %d: vm_id %d, want %d" % (t["pid"], ids["vm_id"], i + 2))
        for ns in NS_ORDER:
            k = ns + "_ns_id"
            check(ids.get(k) == root.get(k), "pid %d: %s %s, criu's %s" %
                  (t["pid"], k, ids.get(k), root.get(k)))
        core = show(criu, os.path.join(ours, "core-%d.img" % t["pid"]))[0]
        for k in ("oom_score_adj", "loginuid"):
            check(k in core["tc"] or not os.path.exists("/proc/self/" + k),
                  "core-%d.img: no %s" % (t["pid"], k))
        for k in ("sched_policy", "sched_nice", "cg_set"):
            check(k in core["thread_core"], "core-%d.img: no %s" % (t["pid"], k))


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def set_varint_field(msg, number, value):
    """msg (only varint fields) with field number set to value."""
    out, i = b"", 0
    while i < len(msg):
        tag, j = 0, 0
        while True:
            b = msg[i]
            tag |= (b & 0x7F) << (7 * j)
            i += 1
            j += 1
            if not b & 0x80:
                break
        start = i
        while msg[i] & 0x80:
            i += 1
        i += 1
        if tag >> 3 == number:
            out += varint(tag) + varint(value)
        else:
            out += varint(tag) + msg[start:i]
    return out


def check_ns_refusal(criu, ours, pid):
    path = os.path.join(ours, "ids-%d.img" % pid)
    data = open(path, "rb").read()
    length = int.from_bytes(data[8:12], "little")
    msg = set_varint_field(data[12:12 + length], 6, 1000)  # net_ns_id
    with open(path, "wb") as f:
        f.write(data[:8] + len(msg).to_bytes(4, "little") + msg + data[12 + length:])
    r = subprocess.run([criu, "restore", "-d", "-D", ours, "-o", "ns.log"], capture_output=True,
                       text=True, timeout=60)
    check(r.returncode == 1, "restore with a net namespace of its own exited %d" % r.returncode)
    check("namespaces of its own (net)" in r.stderr,
          "restore with a net namespace of its own says: %s" % r.stderr.strip())
    check(not os.path.exists("/proc/%d" % pid), "pid %d exists after the refused restore" % pid)
    with open(path, "wb") as f:
        f.write(data)


def main():
    criu, prog, theirs, scratch = (os.path.abspath(a) for a in sys.argv[1:5])
    ours = os.path.join(scratch, "images")
    os.makedirs(ours)
    pidfile, outfile = os.path.join(scratch, "pid"), os.path.join(scratch, "out")
    p = subprocess.Popen([prog, "--pidfile", pidfile, "--outfile", outfile], cwd=scratch,
                         start_new_session=True, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 10
        while not os.path.exists(pidfile) and time.monotonic() < end:
            time.sleep(0.02)
        r = subprocess.run([criu, "dump", "-t", str(p.pid), "-D", ours, "-o", "dump.log"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode:
            sys.exit("criu dump failed: %s" % r.stderr.strip())
        p.wait(timeout=20)
        pstree = compare_names(criu, ours, theirs)
        compare_fields(criu, ours, theirs)
        check_ids(criu, ours, pstree)
        check_ns_refusal(criu, ours, p.pid)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    for e in errors:
        print("FAIL: " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
