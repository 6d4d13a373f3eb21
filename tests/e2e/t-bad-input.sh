# Bad input: a PID that does not exist, missing and corrupt images, a PID
# already taken, a tree that forks during dump, a task killed mid-dump, a
# process whose main thread exited.
. "$TOP/tests/e2e/lib.sh"
python3 "$TOP/tests/e2e/bad-input.py" "$CRIU" "$PWD" "$TOP/${BUILD:-build/$(uname -m)}/tests/e2e/tools" ||
	fail "bad input"
echo PASS
