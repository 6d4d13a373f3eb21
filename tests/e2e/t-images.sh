#!/bin/bash
# Our dump has upstream CRIU 4.2's layout (tests/e2e/images-layout.py):
# the files, names, ids and fields of upstream's dump of the same program.
. "$TOP/tests/e2e/lib.sh"

# upstream's dumps are of x86_64 programs: only an x86_64 host can compare with them
if [ "$(uname -m)" != x86_64 ]; then
	echo "SKIP: the upstream dumps are x86_64's"
	exit 0
fi

make -C "$TOP" --no-print-directory e2e-progs >make.log 2>&1 || { cat make.log; fail "make e2e-progs"; }
progs="$TOP/${BUILD:-build/$(uname -m)}/tests/e2e/progs"
mkdir scratch
python3 "$TOP/tests/e2e/images-layout.py" "$CRIU" "$progs/fd-pipe" \
	"$TOP/tests/fixtures/upstream-dumps/dumps/fd-pipe" scratch || fail "image layout"
echo PASS
