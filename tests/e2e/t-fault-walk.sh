#!/bin/bash
# The fault walk (tests/e2e/tools/fault-walk.c): every fault point of a dump
# (failing; killed too with FAULT_WALK_DUMP_KILL=1, see docs/faults.md) and
# of a restore (failing and killed) of fault-tree's tree.  After each, a
# dump leaves the tree running as before, a restore leaves nothing, and
# criu made no file outside the images dir.
. "$TOP/tests/e2e/lib.sh"
b=${BUILD:-build/$(uname -m)}
tools="$TOP/$b/tests/e2e/tools"
make -C "$TOP" --no-print-directory "$b/tests/e2e/tools/fault-walk" "$b/tests/e2e/tools/fault-tree" \
	>make.log 2>&1 || { cat make.log; fail "make fault-walk"; }
modes=${FAULT_WALK_MODES:-dump-fail restore-fail restore-kill}
[ "${FAULT_WALK_DUMP_KILL:-0}" = 1 ] && modes="$modes dump-kill"
for m in $modes; do
	mkdir -p "$PWD/$m"
	"$tools/fault-walk" "$CRIU" "$tools/fault-tree" "$PWD/$m" "$m" >"$m.out" 2>&1
	rc=$?
	grep -v '^ok ' "$m.out"
	[ $rc = 0 ] || fail "fault walk $m"
	rm -rf "${PWD:?}/$m"
done
echo PASS
