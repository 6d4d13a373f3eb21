# criu check: "Looks good." on this kernel, named features, bad names, and
# the extra/all levels (exit 2 when only optional features are missing).
. "$TOP/tests/e2e/lib.sh"

expect_rc 0 "$CRIU" check
grep -qx 'Looks good.' out.txt || fail "check did not say Looks good.: $(cat out.txt err.txt)"
[ ! -s err.txt ] || fail "check printed errors: $(cat err.txt)"

expect_rc 0 "$CRIU" check --ms
grep -qx 'Looks good.' out.txt || fail "check --ms"

for f in ptrace_seize ptrace_getregset map_files kcmp clone3_set_tid process_vm_readv \
	memfd_create vdso; do
	expect_rc 0 "$CRIU" check --feature "$f"
	grep -qx "$f is supported" out.txt || fail "--feature $f: $(cat out.txt)"
done
# upstream's spelling
expect_rc 0 "$CRIU" check --feature uffd
grep -qx "userfaultfd is supported" out.txt || fail "--feature uffd"

expect_rc 1 "$CRIU" check --feature no_such_thing
grep -q "unknown feature 'no_such_thing'" err.txt || fail "unknown feature not named"
[ "$(wc -l <err.txt)" = 1 ] || fail "more than one error line: $(cat err.txt)"

expect_rc 0 "$CRIU" check --feature list
grep -q 'pagemap_scan' out.txt || fail "feature list lacks pagemap_scan"

# --all: every optional feature is judged too; the answer must agree with
# the single-feature probes.
"$CRIU" check --all >out.txt 2>err.txt
rc=$?
missing=0
for f in $(awk '/^  [a-z]/ {print $1}' <<EOF2
$("$CRIU" check --feature list)
EOF2
); do
	"$CRIU" check --feature "$f" >/dev/null 2>&1 || missing=$((missing + 1))
done
if [ $missing = 0 ]; then
	[ $rc = 0 ] || fail "check --all exited $rc with every feature present"
else
	[ $rc = 2 ] || fail "check --all exited $rc with $missing optional features missing"
	grep -q 'Looks good but' out.txt || fail "check --all verdict"
fi

expect_rc 1 "$CRIU" check --bogus-option
grep -q 'bogus-option' err.txt || fail "bad option not named"
echo PASS
