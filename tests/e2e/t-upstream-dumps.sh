#!/bin/bash
# Our criu restores every dump upstream CRIU 4.2 wrote of our e2e programs
# (tests/fixtures/upstream-dumps) and each program says PASS; in a PID
# namespace of its own, so that the dumped PIDs are free.
. "$TOP/tests/e2e/lib.sh"

# upstream's dumps are of x86_64 programs: only an x86_64 host can restore them
if [ "$(uname -m)" != x86_64 ]; then
	echo "SKIP: the upstream dumps are x86_64's"
	exit 0
fi

fixtures="$TOP/tests/fixtures/upstream-dumps"
base=/tmp/criu-upstream-fixtures
[ -d "$fixtures/dumps" ] || fail "no fixtures in $fixtures"
mkdir -p "$base"
# one user of $base at a time (other worktrees' test runs use it too)
exec 9>"$base.lock"
flock -w 600 9 || fail "can't lock $base.lock"
rm -rf "$base/bin" "$base/out"
mkdir -p "$base/bin" "$base/out"
# the images check the size of the binaries; their mode is what was dumped
for b in "$fixtures"/bin/*; do
	install -m 0755 "$b" "$base/bin/" || fail "can't install $b"
done
mkdir -p scratch
timeout 280 unshare --pid --fork --mount-proc \
	python3 "$TOP/tests/e2e/upstream-dumps.py" "$CRIU" "$fixtures" "$PWD/scratch" ||
	fail "restore of upstream's dumps"
echo PASS
