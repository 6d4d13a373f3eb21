#!/bin/sh
# Runs unit test binaries (under $RUNNER, qemu-user for other architectures)
# from a scratch directory, and prints one summary line for all of them.
set -u
arch=${ARCH:-$(uname -m)}
top=$(pwd)
passed=0
failed=0
failed_bins=""
for bin in "$@"; do
	tmp=$(mktemp -d /tmp/criu-unit.XXXXXX)
	out="$tmp/out"
	( cd "$tmp" && CRIU_TOP="$top" timeout 300 $RUNNER "$top/$bin" ) >"$out" 2>&1
	rc=$?
	line=$(grep -E '^unit: .*passed, [0-9]+ failed' "$out" | tail -n 1)
	p=$(echo "$line" | sed -nE 's/.* ([0-9]+) passed, ([0-9]+) failed.*/\1/p')
	f=$(echo "$line" | sed -nE 's/.* ([0-9]+) passed, ([0-9]+) failed.*/\2/p')
	if [ "$rc" != 0 ] || [ -z "$line" ]; then
		cat "$out"
		echo "unit[$arch]: $(basename "$bin") exited with $rc"
		failed=$((failed + ${f:-0}))
		[ "${f:-0}" = 0 ] && failed=$((failed + 1))
		failed_bins="$failed_bins $(basename "$bin")"
	else
		[ -n "${VERBOSE:-}" ] && cat "$out"
	fi
	passed=$((passed + ${p:-0}))
	rm -rf "$tmp"
done
echo "unit[$arch]: $passed passed, $failed failed${failed_bins:+ ($failed_bins)}"
[ "$failed" = 0 ]
