#!/bin/bash
# Every program in tests/e2e/progs through criu dump and restore (plain,
# --leave-running, --leave-stopped, and running as uid 65534), driven by
# tests/e2e/cr-run.py, which checks each verdict and the preserved PIDs.
#   CR_MODE=full    dump and restore every program
#   CR_MODE=native  no dump/restore: checks that the programs themselves pass
# Every program in four variants, one at a time: more than the runner's 300 s.
# timeout: 1200
. "$TOP/tests/e2e/lib.sh"

CR_MODE=${CR_MODE:-full}

case $CR_MODE in
full) mode= ;;
native) mode=--no-cr ;;
*) fail "CR_MODE is '$CR_MODE', want full or native" ;;
esac

make -C "$TOP" --no-print-directory e2e-progs >make.log 2>&1 || { cat make.log; fail "make e2e-progs"; }
progs="$TOP/${BUILD:-build/$(uname -m)}/tests/e2e/progs"

# The user variant runs as uid 65534 below this directory.
chmod 755 "$PWD"
# one test at a time: the programs' timing then does not depend on what
# else the runner does (the runner itself is safe with -j N)
python3 "$TOP/tests/e2e/cr-run.py" $mode --criu "$CRIU" --progs "$progs" \
	--scratch "$PWD/cr" --show-logs -j 1 &
runner=$!
# the runner kills what it started when it is told to stop
trap 'kill -TERM $runner 2>/dev/null; wait $runner; exit 1' TERM INT
wait $runner || fail "cr-run.py ($CR_MODE mode)"
echo PASS
