#!/bin/bash
# The dump part of make fuzz-kill (tests/e2e/fuzz-kill.sh): KILL_DUMP_CASES
# kills of criu at random moments of dumps of kill-target's tree, each
# checked by tests/e2e/kill-dump.py.  Usage: kill-dump.sh CRIU TOOLS_DIR SCRATCH
set -u
mkdir -p "$3" || exit 1
exec python3 "$(dirname "$0")/kill-dump.py" "$1" "$2/kill-target" "$3" \
	--cases "${KILL_DUMP_CASES:-200}" --seed "${KILL_DUMP_SEED:-$(date +%s)}"
