#!/bin/bash
# Runs every tests/packaging/t-*.sh (packagers' conventions: the dependency
# check, flags and reproducible builds, install/uninstall, the completion)
# from the project root, each in its own scratch folder with a time limit;
# prints "build: N passed, N failed".
set -u
top=$(pwd)
export TOP="$top" ARCH=${ARCH:-$(uname -m)}
passed=0 failed=0 failed_names=""
for t in "$top"/tests/packaging/t-*.sh; do
	name=$(basename "$t" .sh)
	scratch=$(mktemp -d /tmp/criu-build-test.XXXXXX)
	( cd "$scratch" && SCRATCH="$scratch" timeout 900 bash "$t" ) >"$scratch.log" 2>&1
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
echo "build: $passed passed, $failed failed${failed_names:+ ($failed_names)}"
[ $failed = 0 ]
