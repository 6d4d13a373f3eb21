# criu killed (SIGKILL, SIGTERM, SIGINT, SIGHUP) at random moments of a dump
# of a multi-process tree (big memory, a 200-thread child, pipes, files):
# every task runs on unharmed, with no descriptor of the parasite left
# (docs/dump-restore.md).  `make fuzz-kill N=200` runs more cases.
. "$TOP/tests/e2e/lib.sh"
python3 "$TOP/tests/e2e/kill-dump.py" "$CRIU" "$TOP/${BUILD:-build/$(uname -m)}/tests/e2e/tools/kill-target" "$PWD" \
	--cases "${KILL_DUMP_CASES:-24}" --mem "${KILL_DUMP_MEM:-128}" || fail "kill during dump"
echo PASS
