# Messages that say what is wrong: PIDs held by a zombie or a kernel
# thread, a kernel thread dumped, a truncated pages image, trailing data in
# a single-entry image, restore from an empty dir (tests/e2e/messages.py).
. "$TOP/tests/e2e/lib.sh"
python3 "$TOP/tests/e2e/messages.py" "$CRIU" "$PWD" || fail "messages"
echo PASS
