# Helpers for tests/e2e/t-*.sh; each test runs in its own scratch dir.
set -u
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_rc RC CMD...: runs CMD, fails unless it exits with RC
expect_rc() {
	local want=$1; shift
	"$@" >out.txt 2>err.txt
	local rc=$?
	[ $rc = "$want" ] || { cat out.txt err.txt; fail "'$*' exited $rc, want $want"; }
}
