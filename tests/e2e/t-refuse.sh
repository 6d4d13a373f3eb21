# What dump refuses because restore could not rebuild it: a pty, a shared
# mapping of a deleted file, file locks, namespaces of its own; each refused
# by name with the tree left running (tests/e2e/refuse.py).
. "$TOP/tests/e2e/lib.sh"
python3 "$TOP/tests/e2e/refuse.py" "$CRIU" "$PWD" || fail "refused dumps"
echo PASS
