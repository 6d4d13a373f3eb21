# Real programs through dump and restore: python3 mid-computation, sleep, a
# shell pipeline with data in flight, a shell job (-j) on a pty.
. "$TOP/tests/e2e/lib.sh"
python3 "$TOP/tests/e2e/real-programs.py" "$CRIU" "$PWD" || fail "real programs"
echo PASS
