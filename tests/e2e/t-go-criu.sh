# go-criu (Debian's) dumps and restores an e2e program through our swrk, with
# a notify callback that sees every point; a callback failing post-dump
# leaves the process running (tests/e2e/go/main.go).
. "$TOP/tests/e2e/lib.sh"
build="$TOP/${BUILD:-build/x86_64}"
timeout 200 "$build/tests/e2e/go/go-criu-test" "$(readlink -f "$CRIU")" \
	"$build/tests/e2e/progs/mem-heap" "$PWD" || {
	tail -20 img/*.log 2>/dev/null
	fail "go-criu"
}
echo PASS
