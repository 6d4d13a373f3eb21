#!/bin/bash
# Runs every tests/e2e/t-*.sh against ./criu, each in its own scratch
# directory with a time limit; prints "e2e: N passed, N failed".
set -u
top=$(pwd)
export CRIU="$top/criu" TOP="$top" FIXTURES="$top/tests/fixtures/upstream-images"
passed=0
failed=0
failed_names=""
for t in "$top"/tests/e2e/t-*.sh; do
	name=$(basename "$t" .sh)
	scratch=$(mktemp -d /tmp/criu-e2e.XXXXXX)
	( cd "$scratch" && timeout 300 bash "$t" ) >"$scratch.log" 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		passed=$((passed + 1))
		[ -n "${VERBOSE:-}" ] && cat "$scratch.log"
		echo "PASS $name"
	else
		failed=$((failed + 1))
		failed_names="$failed_names $name"
		cat "$scratch.log"
		echo "FAIL $name (exit $rc)"
	fi
	rm -rf "$scratch" "$scratch.log"
done
echo "e2e: $passed passed, $failed failed${failed_names:+ ($failed_names)}"
[ $failed = 0 ]
