# What dump refuses because restore could not rebuild it: a pty with data
# queued in it or whose master is outside the tree, a shared
# mapping of a deleted file, file locks, namespaces of its own, devices,
# deleted or replaced files (a deleted root), threads with their own fd table, processes
# sharing memory, ...; each refused by name with the tree left running
# (tests/e2e/refuse.py).
. "$TOP/tests/e2e/lib.sh"
python3 "$TOP/tests/e2e/refuse.py" "$CRIU" "$PWD" "$TOP/${BUILD:-build/$(uname -m)}/tests/e2e/tools" ||
	fail "refused dumps"
echo PASS
