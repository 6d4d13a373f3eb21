#!/bin/bash
# kill -9 of criu restore at random moments (KILL_RESTORE_CASES of them,
# default 24) on fault-tree's 4-process tree, then at fixed moments on the
# big trees of issue 9: 2 GiB (KILL_RESTORE_BIG_MB per process, default 512)
# at 0.1, 0.5 and 1.5 s, and 1000 threads at 0.1 s; SIGTERM, SIGINT and
# SIGHUP at random moments (KILL_RESTORE_SIGNAL_CASES each, default 4).
# After each the tree is gone (every pid free) or whole, and the next
# restore succeeds.
# KILL_RESTORE_PARTS: which of "random signals big threads" (default all).
# Usage: kill-restore.sh CRIU TOOLS_DIR SCRATCH
set -u
criu=$1 tools=$2 scratch=$3
walk() { # name, env...
	local name=$1; shift
	mkdir -p "$scratch/$name" || return 1
	env "$@" "$tools/fault-walk" "$criu" "$tools/fault-tree" "$scratch/$name" restore-timed \
		>"$scratch/$name.out" 2>&1
	local rc=$?
	grep -v '^ok ' "$scratch/$name.out"
	rm -rf "${scratch:?}/$name"
	return $rc
}
parts=${KILL_RESTORE_PARTS:-random signals big threads}
case " $parts " in *" random "*)
	walk random FAULT_COUNT="${KILL_RESTORE_CASES:-24}" || exit 1 ;;
esac
# SIGTERM, SIGINT, SIGHUP: criu kills the tree it made and fails
case " $parts " in *" signals "*)
	for sig in 15 2 1; do
		walk "signal-$sig" FAULT_SIGNAL=$sig FAULT_COUNT="${KILL_RESTORE_SIGNAL_CASES:-4}" || exit 1
	done ;;
esac
case " $parts " in *" big "*)
	walk big-memory FAULT_MEM="${KILL_RESTORE_BIG_MB:-512}" FAULT_DELAYS=100,500,1500 || exit 1 ;;
esac
case " $parts " in *" threads "*)
	walk many-threads FAULT_THREADS=250 FAULT_DELAYS=100 || exit 1 ;;
esac
echo PASS
