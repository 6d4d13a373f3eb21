# Options of dump and restore: -W with -o and --log-pid, --pidfile,
# --status-fd, -d, -S, and restore's exit status when it waits.
. "$TOP/tests/e2e/lib.sh"
python3 "$TOP/tests/e2e/options.py" "$CRIU" "$PWD" || fail "options"
echo PASS
