#!/bin/bash
# kill -9 of criu restore at 24 random moments, and SIGTERM, SIGINT, SIGHUP
# at 4 each (tests/e2e/kill-restore.sh).
. "$TOP/tests/e2e/lib.sh"
b=${BUILD:-build/$(uname -m)}
tools="$TOP/$b/tests/e2e/tools"
make -C "$TOP" --no-print-directory "$b/tests/e2e/tools/fault-walk" "$b/tests/e2e/tools/fault-tree" \
	>make.log 2>&1 || { cat make.log; fail "make fault-walk"; }
KILL_RESTORE_PARTS="random signals" KILL_RESTORE_CASES=${KILL_RESTORE_CASES:-24} bash "$TOP/tests/e2e/kill-restore.sh" "$CRIU" "$tools" "$PWD/kill" ||
	fail "kill -9 of criu restore"
echo PASS
