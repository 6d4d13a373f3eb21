#!/bin/bash
# kill -9 of criu restore of a 512 MiB tree at 0.1, 0.5 and 1.5 s and of a
# 1000-thread tree at 0.1 s (tests/e2e/kill-restore.sh; 2 GiB in make fuzz-kill).
. "$TOP/tests/e2e/lib.sh"
b=${BUILD:-build/$(uname -m)}
tools="$TOP/$b/tests/e2e/tools"
make -C "$TOP" --no-print-directory "$b/tests/e2e/tools/fault-walk" "$b/tests/e2e/tools/fault-tree" \
	>make.log 2>&1 || { cat make.log; fail "make fault-walk"; }
KILL_RESTORE_PARTS="big threads" KILL_RESTORE_BIG_MB=${KILL_RESTORE_BIG_MB:-128} bash "$TOP/tests/e2e/kill-restore.sh" "$CRIU" "$tools" "$PWD/kill" ||
	fail "kill -9 of criu restore"
echo PASS
