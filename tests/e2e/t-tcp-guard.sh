#!/bin/bash
# criu killed (or failing) while the established TCP connections of sk-tcp
# are in repair mode, and later in the dump, with -R and without: the
# TCP guard takes them out of repair mode, and sk-tcp checks from inside
# that every byte still arrives and the connections carry new data
# (tests/e2e/tcp-guard.py).
. "$TOP/tests/e2e/lib.sh"
b=${BUILD:-build/$(uname -m)}
make -C "$TOP" --no-print-directory "$b/tests/e2e/progs/sk-tcp" >make.log 2>&1 ||
	{ cat make.log; fail "make sk-tcp"; }
python3 "$TOP/tests/e2e/tcp-guard.py" "$CRIU" "$TOP/$b/tests/e2e/progs/sk-tcp" "$PWD" ||
	fail "tcp guard"
echo PASS
