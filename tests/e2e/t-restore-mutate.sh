# Restores of dumps with one value changed in one image: refused cleanly
# or restored, never a crash, a hang or a half-restored tree.  A bounded
# run here; `make fuzz-restore` runs longer (RESTORE_MUTATE_CASES).
. "$TOP/tests/e2e/lib.sh"
build="$TOP/${BUILD:-build/$(uname -m)}"
chmod 755 "$PWD"
python3 "$TOP/tests/e2e/restore-mutate.py" "$CRIU" "$build/tests/e2e/tools/mutate-image" \
	"$build/tests/e2e/progs" "$PWD" --cases "${RESTORE_MUTATE_CASES:-240}" \
	--seed "${RESTORE_MUTATE_SEED:-$(date +%s)}" || fail "restore of mutated images"
echo PASS
