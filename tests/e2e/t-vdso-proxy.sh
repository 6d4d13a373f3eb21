# A vDSO of another layout than the dumped one: the dumped vDSO's code goes
# back where it was and each of its functions jumps to this kernel's.
# CRIU_TEST_VDSO_PROXY makes restore take that path on this very kernel;
# the qemu-system tests restore on another kernel for real.
. "$TOP/tests/e2e/lib.sh"
progs="$TOP/${BUILD:-build/$(uname -m)}/tests/e2e/progs"
chmod 755 "$PWD"
CRIU_TEST_VDSO_PROXY=1 python3 "$TOP/tests/e2e/cr-run.py" --criu "$CRIU" --progs "$progs" \
	--scratch "$PWD/cr" --keep --show-logs --variants plain,user \
	mem-vdso threads regs-gp tree-children posix-timers || fail "vDSO proxy"
# the path was taken: restore said so in its log (-v4 in cr-run.py)
grep -rq 'jumps to this kernel' "$PWD"/cr/mem-vdso.plain ||
	fail "restore did not redirect the dumped vDSO"
echo PASS
