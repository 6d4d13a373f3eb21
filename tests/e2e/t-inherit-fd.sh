#!/bin/bash
# Files that are not criu's to open: restore --inherit-fd for a pipe to the
# outside, a log file and an --external unlinked file; the bad cases.
. "$TOP/tests/e2e/lib.sh"
python3 "$TOP/tests/e2e/inherit-fd.py" "$CRIU" "$PWD" || fail "inherit-fd"
echo PASS
