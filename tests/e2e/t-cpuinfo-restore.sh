# The restore-time CPU check: an image from a CPU with features this one
# lacks is refused before any task is created, naming the features;
# --cpu-cap=none lets it through.
. "$TOP/tests/e2e/lib.sh"
forge="$TOP/${BUILD:-build/$(uname -m)}/tests/e2e/tools/cpuinfo-forge"
python3 - "$CRIU" "$forge" "$PWD" <<'PY' || fail "restore-time cpu check"
import ctypes, os, subprocess, sys, time
criu, forge, d = sys.argv[1:]
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # subreaper: reap the dumped sleep
def gone(pid):
    for _ in range(200):
        try:
            os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            pass
        if not os.path.exists(f'/proc/{pid}'):
            return True
        time.sleep(0.05)
    return False
p = subprocess.Popen(['sleep', '1000'], start_new_session=True)
time.sleep(0.2)
img = os.path.join(d, 'img'); os.mkdir(img)
assert subprocess.run([criu, 'dump', '-t', str(p.pid), '-D', img]).returncode == 0, 'dump'
assert gone(p.pid), 'the dumped sleep is still there'
assert subprocess.run([forge, img]).returncode == 0, 'forge'
r = subprocess.run([criu, 'restore', '-D', img, '-d'], capture_output=True, text=True)
assert r.returncode == 1, f'restore of a forged image exited {r.returncode}'
assert 'lacks' in r.stderr + r.stdout, f'no missing feature named: {r.stderr}'
assert not os.path.exists(f'/proc/{p.pid}'), 'a task was created before the check'
for cap in ('cpu', 'fpu', 'ins', 'all'):
    r = subprocess.run([criu, 'restore', '-D', img, '-d', f'--cpu-cap={cap}'], capture_output=True)
    assert r.returncode == 1, f'--cpu-cap={cap} let the forged image through'
    assert not os.path.exists(f'/proc/{p.pid}'), f'--cpu-cap={cap}: a task was created'
r = subprocess.run([criu, 'restore', '-D', img, '-d', '--cpu-cap=none'], capture_output=True, text=True)
assert r.returncode == 0, f'--cpu-cap=none: {r.stderr}'
assert os.path.exists(f'/proc/{p.pid}'), 'not restored with --cpu-cap=none'
os.kill(p.pid, 9); gone(p.pid)
PY
echo PASS
