#!/usr/bin/python3
"""Every option of upstream's criu(8) (tests/fixtures/upstream-options.txt)
is accepted or refused by name, never "unknown option", and what it does
agrees with the table of docs/options.md: an option the table calls
refused is refused, naming the option as it was typed; one it says works
is not refused.

    every-option.py CRIU FIXTURE DOCS SCRATCH

Dumps are of a pid that does not exist, restores of an empty directory:
nothing is dumped or restored.  Prints "every-option: N passed, N failed".
"""

import os
import re
import subprocess
import sys

CRIU, FIXTURE, DOCS, SCRATCH = (os.path.abspath(a) for a in sys.argv[1:5])
NO_PID = '2147483646'
os.makedirs(os.path.join(SCRATCH, 'img'), exist_ok=True)
os.makedirs(os.path.join(SCRATCH, 'home'), exist_ok=True)
ENV = {k: v for k, v in os.environ.items() if k != 'CRIU_CONFIG_FILE'}
ENV['HOME'] = os.path.join(SCRATCH, 'home')


def doc_table():
    """{spelling: status} from the docs' option table."""
    table = {}
    with open(DOCS) as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip('|').split('|')]
            if len(cells) != 3 or not cells[0].startswith('`-'):
                continue
            for i, spelling in enumerate(re.findall(r'`(-[^`]+)`', cells[0])):
                # a flag's --no-NAME asks for what criu does anyway
                off = i > 0 and spelling.startswith('--no-')
                table[spelling] = 'works (turns it off)' if off else cells[1]
    return table


def command_line(cmd, opt, val):
    argv = [CRIU, cmd]
    if opt not in ('--config', '--no-default-config'):
        argv.append('--no-default-config')
    if opt in ('-t', '--tree'):
        val = NO_PID
    elif cmd in ('dump', 'pre-dump'):
        argv += ['-t', NO_PID]
    if cmd == 'show' and opt not in ('-f', '--file'):
        argv += ['-f', os.path.join(SCRATCH, 'none.img')]
    argv += ['-D', os.path.join(SCRATCH, 'img')]
    argv.append(opt)
    if val is not None:
        argv.append(val)
    return argv


def main():
    table = doc_table()
    passed = failed = 0
    with open(FIXTURE) as f:
        lines = [ln.split() for ln in f if ln.strip() and not ln.startswith('#')]
    for words in lines:
        cmd, opt, val = words[0], words[1], (words[2] if len(words) > 2 else None)
        name = opt.split('=')[0]
        r = subprocess.run(command_line(cmd, opt, val), cwd=SCRATCH, env=ENV,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        err = r.stderr.decode(errors='replace')
        refused = f'criu: {name} is not supported by this criu: ' in err
        # -v4, -vvvv: a short option with its value attached
        short = name[:2] if not name.startswith('--') else name
        status = table.get(name) or table.get(short)
        problem = None
        if 'unknown option' in err or 'is ambiguous' in err:
            problem = f'not known: {err.strip()}'
        elif 'is not supported by this criu' in err and not refused:
            problem = f'refused without naming {name}: {err.strip()}'
        elif status is None:
            problem = 'not in the table of docs/options.md'
        elif refused and not status.startswith('refused'):
            problem = f'refused, but docs/options.md says "{status}"'
        elif not refused and status == 'refused':
            problem = f'docs/options.md says refused, but it was not: {err.strip()[:200]}'
        if problem:
            failed += 1
            print(f'FAIL {cmd} {" ".join(words[1:])}: {problem}')
        else:
            passed += 1
    print(f'every-option: {passed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
