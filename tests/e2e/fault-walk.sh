#!/bin/bash
# fault-walk.sh MODE...: the fault walks (tests/e2e/tools/fault-walk.c,
# docs/faults.md) of fault-tree's tree, for the t-fault-walk-*.sh tests.
. "$TOP/tests/e2e/lib.sh"
b=${BUILD:-build/$(uname -m)}
tools="$TOP/$b/tests/e2e/tools"
make -C "$TOP" --no-print-directory "$b/tests/e2e/tools/fault-walk" "$b/tests/e2e/tools/fault-tree" \
	>make.log 2>&1 || { cat make.log; fail "make fault-walk"; }
for m in "$@"; do
	mkdir -p "$PWD/$m"
	"$tools/fault-walk" "$CRIU" "$tools/fault-tree" "$PWD/$m" "$m" >"$m.out" 2>&1
	rc=$?
	grep -v '^ok ' "$m.out"
	[ $rc = 0 ] || fail "fault walk $m"
	rm -rf "${PWD:?}/$m"
done
echo PASS
