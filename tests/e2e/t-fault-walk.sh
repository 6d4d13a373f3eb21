#!/bin/bash
# The fault walk of a restore (tests/e2e/tools/fault-walk.c, docs/faults.md):
# every fault point of `criu restore -d` of fault-tree's tree, failing and
# with criu killed there.  Before the tasks are released the tree must be
# entirely gone (every pid free, no file outside the images dir, and the
# next restore succeeds); after, it must be whole.
#   FAULT_WALK_MODES   the modes to walk (default: restore-fail restore-kill)
. "$TOP/tests/e2e/lib.sh"
b=${BUILD:-build/$(uname -m)}
tools="$TOP/$b/tests/e2e/tools"
make -C "$TOP" --no-print-directory "$b/tests/e2e/tools/fault-walk" "$b/tests/e2e/tools/fault-tree" \
	>make.log 2>&1 || { cat make.log; fail "make fault-walk"; }
for m in ${FAULT_WALK_MODES:-restore-fail restore-kill}; do
	mkdir -p "$PWD/$m"
	"$tools/fault-walk" "$CRIU" "$tools/fault-tree" "$PWD/$m" "$m" >"$m.out" 2>&1
	rc=$?
	grep -v '^ok ' "$m.out"
	[ $rc = 0 ] || fail "fault walk $m"
	rm -rf "${PWD:?}/$m"
done
echo PASS
