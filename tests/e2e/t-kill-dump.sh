#!/bin/bash
# criu killed (SIGKILL, SIGTERM, SIGINT, SIGHUP) at 24 random moments of a
# dump of a multi-process tree (big memory, a 200-thread child, pipes,
# files): every task runs on unharmed, with nothing of criu's left in it,
# not even the parasite's area after a SIGKILL (tests/e2e/kill-dump.py).
# `make fuzz-kill` runs 200 cases with more memory.
. "$TOP/tests/e2e/lib.sh"
b=${BUILD:-build/$(uname -m)}
make -C "$TOP" --no-print-directory "$b/tests/e2e/tools/kill-target" >make.log 2>&1 ||
	{ cat make.log; fail "make kill-target"; }
python3 "$TOP/tests/e2e/kill-dump.py" "$CRIU" "$TOP/$b/tests/e2e/tools/kill-target" "$PWD" \
	--cases "${KILL_DUMP_CASES:-24}" --mem "${KILL_DUMP_MEM:-128}" || fail "kill during dump"
echo PASS
