#!/bin/bash
# make fuzz-kill: kill -9 of criu at random moments, KILL_CASES times for
# each of dump (tests/e2e/kill-dump.sh, when there) and restore
# (tests/e2e/kill-restore.sh).  Usage: fuzz-kill.sh CRIU TOOLS_DIR SCRATCH
set -u
here=$(dirname "$0")
rc=0
for part in kill-dump kill-restore; do
	[ -f "$here/$part.sh" ] || continue
	echo "== $part: ${KILL_CASES:-200} kills"
	KILL_DUMP_CASES=${KILL_CASES:-200} KILL_RESTORE_CASES=${KILL_CASES:-200} \
		KILL_RESTORE_SIGNAL_CASES=$(( ${KILL_CASES:-200} / 10 )) KILL_RESTORE_BIG_MB=512 \
		bash "$here/$part.sh" "$1" "$2" "$3/$part" || rc=1
done
[ $rc = 0 ] && echo "fuzz-kill: PASS"
exit $rc
