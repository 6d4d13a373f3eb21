#!/usr/bin/python3
"""criu driven the way upstream's test driver (zdtm) and the container
tools call the command line: --no-default-config on every call, -v4 and
-verbosity=4, one-dash long options (-tree, -images-dir, -log-file), -v
alone, --pidfile and -d on restore, options from config files
($HOME/.criu/default.conf, CRIU_CONFIG_FILE, --config), refused options
from a config file, `check --feature NAME` for the names tools ask about,
and the stats-dump and stats-restore fields they read.  Each case dumps and
restores real e2e programs (tests/e2e/progs) and takes their verdict from
inside the restored process.

    driver.py CRIU PROGS SCRATCH

Prints PASS/FAIL lines and "driver: N passed, N failed".
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import reap, run_tests, started, wait_gone  # noqa: E402
import harness  # noqa: E402

CRIU = os.path.abspath(sys.argv[1])
PROGS = os.path.abspath(sys.argv[2])
SCRATCH = harness.setup([sys.argv[0], CRIU, sys.argv[3]])

# A home of the driver's own: ~/.criu/default.conf is read from there.
HOME = os.path.join(SCRATCH, 'home')
os.makedirs(os.path.join(HOME, '.criu'), exist_ok=True)
ENV = {k: v for k, v in os.environ.items() if k != 'CRIU_CONFIG_FILE'}
ENV['HOME'] = HOME


def run(args, cwd, env=None, timeout=60):
    """criu ARGS in cwd; (exit code, stdout, stderr)."""
    r = subprocess.run([CRIU] + args, cwd=cwd, env=env or ENV, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return r.returncode, r.stdout.decode(errors='replace'), r.stderr.decode(errors='replace')


def user_config(text):
    with open(os.path.join(HOME, '.criu', 'default.conf'), 'w') as f:
        f.write(text)


def start(d, prog):
    """Starts an e2e program in its own session; its pid once it is ready."""
    pidfile, outfile = os.path.join(d, 'prog.pid'), os.path.join(d, 'prog.out')
    for f in (pidfile, outfile):
        if os.path.exists(f):
            os.unlink(f)
    p = subprocess.Popen([os.path.join(PROGS, prog), '--pidfile', pidfile, '--outfile', outfile],
                         cwd=d, start_new_session=True, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started.append(p.pid)
    end = time.time() + 10
    while not os.path.exists(pidfile) and time.time() < end:
        if p.poll() is not None:
            raise RuntimeError(f'{prog} exited before it was ready: {p.returncode}')
        time.sleep(0.02)
    time.sleep(0.05)
    with open(pidfile) as f:
        return int(f.read().strip())


def verdict(d, pid):
    """SIGTERMs the restored pid; its own verdict, 'PASS' or what differed."""
    outfile = os.path.join(d, 'prog.out')
    os.kill(pid, signal.SIGTERM)
    end = time.time() + 15
    while time.time() < end:
        reap()
        if os.path.exists(outfile) and not os.path.exists(f'/proc/{pid}'):
            break
        time.sleep(0.05)
    try:
        with open(outfile) as f:
            return f.readline().strip() or 'an empty verdict'
    except OSError:
        return 'no verdict'


def gone(pids):
    """Waits (reaping) until the dumped tree is gone, its zombies too: restore needs the pids."""
    if not wait_gone(pids):
        return f'the dumped tree {pids} is still there'
    return None


def cycle(d, prog, dump_args, restore_args, env=None, img='img', dump_cwd=None):
    """zdtm's round: dump (the program dies), restore -d, the program's verdict."""
    pid = start(d, prog)
    tree = harness.tree_of(pid)
    os.makedirs(os.path.join(d, img), exist_ok=True)
    rc, out, err = run(dump_args(pid), dump_cwd or d, env)
    if rc:
        return f'{prog}: dump exited {rc}: {err.strip()[-300:]}'
    err2 = gone(tree)
    if err2:
        return err2
    os.unlink(os.path.join(d, 'prog.pid'))
    rc, out, err = run(restore_args, d, env)
    if rc:
        return f'{prog}: restore exited {rc}: {err.strip()[-300:]}'
    started.append(pid)
    v = verdict(d, pid)
    if v != 'PASS':
        return f'{prog}: restored process says: {v}'
    return None


PROGRAMS = ['fd-pipe', 'mem-anon-private', 'posix-timers', 'itimer-real', 'cwd']


def test_zdtm_spelling(d):
    """As zdtm calls criu: --no-default-config, -o LOG -D DIR -v4, restore with
    --pidfile and -d; the pidfile names the restored root."""
    for prog in PROGRAMS:
        def dump(pid):
            return ['dump', '--no-default-config', '-o', 'dump.log', '-D', 'img', '-v4',
                    '-t', str(pid)]
        pidfile = os.path.join(d, 'restore.pid')
        err = cycle(d, prog, dump, ['restore', '--no-default-config', '-o', 'restore.log',
                                    '-D', 'img', '-v4', '--pidfile', pidfile, '-d'])
        if err:
            return err
        with open(pidfile) as f:
            if not f.read().strip().isdigit():
                return 'the restore pidfile holds no pid'
        for log in ('dump.log', 'restore.log'):
            if os.path.getsize(os.path.join(d, 'img', log)) == 0:
                return f'-v4 wrote an empty {log}'
    return None


def test_one_dash_long_options(d):
    """getopt_long_only spellings: -verbosity=4, -tree PID, -images-dir, -log-file,
    and -v alone (one above the default: info lines in the log)."""
    def dump(pid):
        return ['dump', '-no-default-config', '-verbosity=4', '-tree', str(pid), '-images-dir',
                'img', '-log-file', 'dump.log']
    err = cycle(d, 'mem-anon-private', dump,
                ['restore', '-no-default-config', '-v', '-images-dir=img',
                 '-log-file=restore.log', '-restore-detached'])
    if err:
        return err
    # level 3 and up: every line with a timestamp; level 2: the steps, without
    for log in ('dump.log', 'restore.log'):
        with open(os.path.join(d, 'img', log)) as f:
            lines = f.read().splitlines()
        if not lines or not all(line.startswith('(') for line in lines):
            return f'{log} has no info lines: {lines[:3]}'
    err = cycle(d, 'mem-anon-private',
                lambda pid: ['dump', '-no-default-config', '-verbosity=2', '-tree', str(pid),
                             '-images-dir', 'img2', '-log-file', 'dump.log'],
                ['restore', '-no-default-config', '-images-dir=img2', '-log-file=restore.log',
                 '-d'], img='img2')
    if err:
        return err
    with open(os.path.join(d, 'img2', 'dump.log')) as f:
        lines = f.read().splitlines()
    if any(line.startswith('(') for line in lines):
        return f'-verbosity=2 logged timestamped (info) lines: {lines[:3]}'
    return None


def test_verbosity_levels(d):
    """-v0 prints nothing but results; -v4 more than the default."""
    rc0, out0, err0 = run(['check', '--no-default-config', '-v0'], d)
    rc4, out4, err4 = run(['check', '--no-default-config', '-vvvv', '--all'], d)
    rc2, out2, err2 = run(['check', '--no-default-config', '--all'], d)
    if rc0 != 0 or 'Looks good.' not in out0:
        return f'check -v0: exit {rc0}: {out0} {err0}'
    if len(out4 + err4) <= len(out2 + err2):
        return 'check -vvvv --all said no more than check --all'
    return None


def test_user_config(d):
    """$HOME/.criu/default.conf is read unless --no-default-config; the command
    line goes over it."""
    user_config('# the driver\'s\nlog-file from-home.log\nverbosity 4\n')
    try:
        err = cycle(d, 'fd-pipe', lambda pid: ['dump', '-t', str(pid), '-D', 'img'],
                    ['restore', '-D', 'img', '-d', '-o', 'cmdline.log'])
        if err:
            return err
        img = os.path.join(d, 'img')
        if not os.path.exists(os.path.join(img, 'from-home.log')):
            return f'~/.criu/default.conf was not read: {sorted(os.listdir(img))}'
        if not os.path.exists(os.path.join(img, 'cmdline.log')):
            return 'the command line did not go over the config file'
        os.unlink(os.path.join(img, 'from-home.log'))
        err = cycle(d, 'fd-pipe',
                    lambda pid: ['dump', '--no-default-config', '-t', str(pid), '-D', 'img2'],
                    ['restore', '--no-default-config', '-D', 'img2', '-d'], img='img2')
        if err:
            return err
        if os.path.exists(os.path.join(d, 'img2', 'from-home.log')):
            return '--no-default-config still read ~/.criu/default.conf'
    finally:
        user_config('')
    return None


def test_env_and_config_files(d):
    """CRIU_CONFIG_FILE and --config hold whole command lines (tree, images
    dir, log, restore-detached, pidfile); --config goes over CRIU_CONFIG_FILE."""
    env_cfg, cmd_cfg = os.path.join(d, 'env.conf'), os.path.join(d, 'cmd.conf')
    env = dict(ENV, CRIU_CONFIG_FILE=env_cfg)
    pid = start(d, 'posix-timers')
    tree = harness.tree_of(pid)
    os.makedirs(os.path.join(d, 'img'))
    with open(env_cfg, 'w') as f:
        f.write(f'tree {pid}\nimages-dir "{d}/img"\nlog-file env.log\nverbosity 4\n')
    rc, out, err = run(['dump'], d, env)
    if rc:
        return f'dump from CRIU_CONFIG_FILE exited {rc}: {err.strip()[-300:]}'
    e = gone(tree)
    if e:
        return e
    if not os.path.exists(os.path.join(d, 'img', 'env.log')):
        return 'CRIU_CONFIG_FILE\'s log-file was not used'
    os.unlink(os.path.join(d, 'prog.pid'))
    with open(cmd_cfg, 'w') as f:
        f.write(f'images-dir {d}/img\nrestore-detached\npidfile {d}/r.pid\n'
                f'log-file cmd.log\n')
    rc, out, err = run(['restore', '--config', cmd_cfg], d, env)
    if rc:
        return f'restore --config exited {rc}: {err.strip()[-300:]}'
    started.append(pid)
    if not os.path.exists(os.path.join(d, 'img', 'cmd.log')):
        return '--config did not go over CRIU_CONFIG_FILE (no cmd.log)'
    with open(os.path.join(d, 'r.pid')) as f:
        if int(f.read()) != pid:
            return 'the --config pidfile does not name the restored pid'
    v = verdict(d, pid)
    return None if v == 'PASS' else f'restored posix-timers says: {v}'


def test_refused_option_from_config(d):
    """An option this criu can't carry out, set in a config file, fails the dump
    naming it and the file; the process keeps running, untouched."""
    user_config('skip-in-flight\n')
    try:
        pid = start(d, 'fd-pipe')
        tree = harness.tree_of(pid)
        os.makedirs(os.path.join(d, 'img'))
        rc, out, err = run(['dump', '-t', str(pid), '-D', 'img', '-o', 'dump.log'], d)
        if rc != 1 or '--skip-in-flight (from a config file) is not supported' not in err:
            return f'dump with skip-in-flight in ~/.criu/default.conf: exit {rc}: {err}'
        if not os.path.exists(f'/proc/{pid}') or os.listdir(os.path.join(d, 'img')):
            return 'the refused dump touched the process or wrote images'
        # what zdtm does: --no-default-config, and the same dump works
        rc, out, err = run(['dump', '--no-default-config', '-t', str(pid), '-D', 'img',
                            '-o', 'dump.log'], d)
        if rc:
            return f'dump --no-default-config exited {rc}: {err.strip()[-300:]}'
        e = gone(tree)
        if e:
            return e
        os.unlink(os.path.join(d, 'prog.pid'))
        rc, out, err = run(['restore', '--no-default-config', '-D', 'img', '-d'], d)
        if rc:
            return f'restore exited {rc}: {err.strip()[-300:]}'
        started.append(pid)
        v = verdict(d, pid)
        return None if v == 'PASS' else f'restored fd-pipe says: {v}'
    finally:
        user_config('')


def test_refused_and_irrelevant_options(d):
    """The command line: a refused option is named and nothing is done; one the
    command has no use for (dump --pidfile, restore -t) is a one-line warning."""
    pid = start(d, 'mem-anon-private')
    tree = harness.tree_of(pid)
    os.makedirs(os.path.join(d, 'img'))
    for opt in (['--lazy-pages'], ['--skip-in-flight'], ['--manage-cgroups'],
                ['--root', '/']):
        rc, out, err = run(['dump', '--no-default-config', '-t', str(pid), '-D', 'img'] + opt,
                           d)
        if rc != 1 or f'{opt[0]} is not supported by this criu' not in err:
            return f'dump {opt}: exit {rc}: {err}'
    if not os.path.exists(f'/proc/{pid}') or os.listdir(os.path.join(d, 'img')):
        return 'a refused dump touched the process or wrote images'
    rc, out, err = run(['dump', '--no-default-config', '-t', str(pid), '-D', 'img',
                        '--pidfile', 'x.pid', '--manage-cgroups=ignore', '--pre-dump-mode',
                        'splice', '--network-lock', 'skip'], d)
    if rc:
        return f'dump with harmless options exited {rc}: {err}'
    if err.strip() != 'criu: warning: --pidfile means nothing to dump; ignored':
        return f'dump --pidfile: want one warning line, got: {err!r}'
    e = gone(tree)
    if e:
        return e
    os.unlink(os.path.join(d, 'prog.pid'))
    rc, out, err = run(['restore', '--no-default-config', '-D', 'img', '-d', '-t', str(pid)], d)
    if rc:
        return f'restore -t exited {rc}: {err}'
    started.append(pid)
    if err.strip() != 'criu: warning: -t means nothing to restore; ignored':
        return f'restore -t: want one warning line, got: {err!r}'
    v = verdict(d, pid)
    return None if v == 'PASS' else f'restored mem-anon-private says: {v}'


def stats(d, name):
    rc, out, err = run(['show', '--no-default-config', '-f', os.path.join(d, name), '--json'], d)
    if rc:
        raise RuntimeError(f'show {name}: {err}')
    entry = json.loads(out)['entries'][0]
    return entry.get('dump') or entry.get('restore')


def test_stats_fields(d):
    """stats-dump has the fields zdtm and tools read, with values that add up."""
    err = cycle(d, 'mem-anon-private',
                lambda pid: ['dump', '--no-default-config', '-t', str(pid), '-D', 'img',
                             '-o', 'dump.log'],
                ['restore', '--no-default-config', '-D', 'img', '-d', '-o', 'restore.log'])
    if err:
        return err
    s = stats(os.path.join(d, 'img'), 'stats-dump')
    for field in ('freezing_time', 'frozen_time', 'memdump_time', 'memwrite_time',
                  'pages_scanned', 'pages_skipped_parent', 'pages_written'):
        if field not in s:
            return f'stats-dump lacks {field}: {s}'
    if not 0 < s['pages_written'] <= s['pages_scanned']:
        return f'pages_written {s["pages_written"]} of {s["pages_scanned"]} scanned'
    if s['frozen_time'] < s['memdump_time']:
        return f'frozen_time {s["frozen_time"]} < memdump_time {s["memdump_time"]}'
    return None


def test_display_stats(d):
    """--display-stats prints the lines drivers parse ("Frozen time: N us", ...),
    with the numbers stats-dump / stats-restore hold."""
    outs = {}
    real_run = globals()['run']

    def keep(args, cwd, env=None, timeout=60):
        rc, out, err = real_run(args, cwd, env, timeout)
        outs[args[0]] = out + err
        return rc, out, err
    globals()['run'] = keep
    try:
        err = cycle(d, 'mem-anon-private',
                    lambda pid: ['dump', '--no-default-config', '-t', str(pid), '-D', 'img',
                                 '-o', 'dump.log', '--display-stats'],
                    ['restore', '--no-default-config', '-D', 'img', '-d', '-o', 'restore.log',
                     '--display-stats'])
    finally:
        globals()['run'] = real_run
    if err:
        return err
    s = stats(os.path.join(d, 'img'), 'stats-dump')
    want = ['Displaying dump stats:', f'Frozen time: {s["frozen_time"]} us',
            f'Freezing time: {s["freezing_time"]} us',
            'Memory pages written: %d (0x%x)' % (s['pages_written'], s['pages_written'])]
    for line in want:
        if line not in outs.get('dump', '').splitlines():
            return f'dump --display-stats lacks {line!r}: {outs.get("dump")!r}'
    r = stats(os.path.join(d, 'img'), 'stats-restore')
    for line in ['Displaying restore stats:', f'Restore time: {r["restore_time"]} us',
                 f'Forking time: {r["forking_time"]} us']:
        if line not in outs.get('restore', '').splitlines():
            return f'restore --display-stats lacks {line!r}: {outs.get("restore")!r}'
    return None


# Names tools ask `criu check --feature` about, with what Python can tell of
# the same kernel for some (None: only that the answer is a clear yes or no).
def has_path(p):
    return os.path.exists(p)


def nspid():
    with open('/proc/self/status') as f:
        return 'NSpid:' in f.read()


def sockopt(family, level, name, get=False):
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            if get:
                s.getsockopt(level, name)
            else:
                s.setsockopt(level, name, 1)
        return True
    except OSError:
        return False


def memfd_hugetlb():
    try:
        os.close(os.memfd_create('criu-driver', os.MFD_HUGETLB))
        return True
    except OSError:
        return False


FEATURES = {
    'mnt_id': None, 'tcp_half_closed': None, 'fdinfo_lock': None, 'has_ipt_legacy': None,
    'seccomp_filters': None, 'seccomp_suspend': None, 'network_lock_nftables': None,
    'nftables': None, 'aio_remap': None, 'timerfd': None, 'net_diag_raw': None,
    'loginuid': None, 'get_rseq_conf': None, 'tun': None, 'link_nsid': None,
    'newifindex': None, 'move_mount_set_group': None, 'pagemap_scan_guard_pages': None,
    'cgroupns': lambda: has_path('/proc/self/ns/cgroup'),
    'userns': lambda: has_path('/proc/self/ns/user'),
    'timens': lambda: has_path('/proc/self/ns/time'),
    'ns_pid': nspid,
    'ipv6_freebind': lambda: sockopt(socket.AF_INET6, socket.IPPROTO_IPV6, 78),
    'sockopt_buf_lock': lambda: sockopt(socket.AF_INET, socket.SOL_SOCKET, 72, get=True),
    'memfd_hugetlb': memfd_hugetlb,
}


def test_feature_checks(d):
    """check --feature NAME answers 0 or 1 with one line for every name; where
    Python can see the same thing the answers agree; --feature list has them."""
    rc, out, err = run(['check', '--no-default-config', '--feature', 'list'], d)
    if rc:
        return f'--feature list exited {rc}'
    listed = {line.split()[0] for line in out.splitlines() if line.startswith('  ')}
    for name, probe in FEATURES.items():
        if name not in listed:
            return f'--feature list lacks {name}'
        rc, out, err = run(['check', '--no-default-config', '--feature', name], d)
        line = (out + err).strip()
        if rc not in (0, 1) or line not in (f'{name} is supported',) and \
                not line.startswith(f'{name} is NOT supported: '):
            return f'--feature {name}: exit {rc}: {line!r}'
        if probe is not None and probe() != (rc == 0):
            return f'--feature {name} says {rc == 0}, the kernel says {probe()}'
    # several at once, as drivers ask: 0 only if all are there
    rc, out, err = run(['check', '--no-default-config', '--feature', 'ns_pid', '--feature',
                        'cgroupns'], d)
    if rc != 0 or out.count('is supported') != 2:
        return f'two features at once: exit {rc}: {out}'
    rc, out, err = run(['check', '--no-default-config', '--feature', 'no_such_feature'], d)
    if rc != 1 or 'unknown feature' not in err:
        return f'an unknown feature: exit {rc}: {err}'
    return None


TESTS = [
    ('zdtm_spelling', test_zdtm_spelling),
    ('one_dash_long_options', test_one_dash_long_options),
    ('verbosity_levels', test_verbosity_levels),
    ('user_config', test_user_config),
    ('env_and_config_files', test_env_and_config_files),
    ('refused_option_from_config', test_refused_option_from_config),
    ('refused_and_irrelevant_options', test_refused_and_irrelevant_options),
    ('stats_fields', test_stats_fields),
    ('display_stats', test_display_stats),
    ('feature_checks', test_feature_checks),
]

if __name__ == '__main__':
    sys.exit(run_tests('driver', TESTS, SCRATCH))
