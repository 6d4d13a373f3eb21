# --action-script at every point of a dump and a restore (tests/e2e/action-scripts.py).
. "$TOP/tests/e2e/lib.sh"
python3 "$TOP/tests/e2e/action-scripts.py" "$CRIU" "$PWD" \
	"$TOP/${BUILD:-build/x86_64}/tests/e2e/progs/mem-heap" || fail "action scripts"
echo PASS
