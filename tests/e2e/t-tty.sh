#!/bin/bash
# Terminals beyond one program (tests/e2e/terminals.py): a pty whose index is
# taken at restore comes back as another one, a shell job's terminal needs
# -j at restore, queued terminal data (tty-data.img) is refused by name.
. "$TOP/tests/e2e/lib.sh"
python3 "$TOP/tests/e2e/terminals.py" "$CRIU" "$PWD" "$TOP/${BUILD:-build/$(uname -m)}/tests/e2e/progs" ||
	fail "terminals"
echo PASS
