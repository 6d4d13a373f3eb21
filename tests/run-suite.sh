#!/bin/bash
# run-suite.sh LABEL DIR SECONDS: runs every DIR/t-*.sh from the project
# root, each in a scratch folder of its own (exported as SCRATCH) under a
# time limit of SECONDS (a test may ask for more with a line "# timeout: N");
# prints "LABEL: N passed, N failed".  The log of a
# test is shown when it fails, or always with VERBOSE set.  T=t-name limits
# the run to the tests whose names match.
set -u
label=$1 dir=$2 limit=$3
passed=0 failed=0 failed_names=""
for t in "$dir"/t-*.sh; do
	name=$(basename "$t" .sh)
	case $name in ${T:-*}) ;; *) continue ;; esac
	own=$(sed -n 's/^# timeout: \([0-9][0-9]*\)$/\1/p' "$t" | head -1)
	scratch=$(mktemp -d "/tmp/criu-$label.XXXXXX")
	( cd "$scratch" && SCRATCH="$scratch" timeout "${own:-$limit}" bash "$t" ) >"$scratch.log" 2>&1
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
echo "$label: $passed passed, $failed failed${failed_names:+ ($failed_names)}"
[ $failed = 0 ]
