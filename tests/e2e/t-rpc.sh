#!/bin/bash
# The RPC protocol through libcriu: over `criu swrk` (libcriu's CRIU_COMM_BIN)
# and over a `criu service` socket in this scratch dir (CRIU_COMM_SK):
# check, version, dump with and without leave_running, criu_restore,
# criu_restore_child, notifications, and the errors (see
# tests/e2e/rpc/libcriu-test.c); every function of criu.h over swrk with
# the binary set, over the default swrk from PATH, and over the service
# (tests/e2e/rpc/libcriu-every.c).
. "$TOP/tests/e2e/lib.sh"

build="$TOP/${BUILD:-build/x86_64}"
test_bin="$build/tests/e2e/rpc/libcriu-test"
prog="$build/tests/e2e/progs/mem-heap"
crbin=$(readlink -f "$CRIU")
svc=""
cleanup() { [ -n "$svc" ] && kill "$svc" 2>/dev/null; }
trap cleanup EXIT

every="$build/tests/e2e/rpc/libcriu-every"
mkdir bin sk every-bin every-path every-sk
timeout 250 "$test_bin" bin "$crbin" "$prog" "$PWD/bin" || {
	cat bin/*.log 2>/dev/null | tail -30
	fail "libcriu over swrk"
}
# every function of criu.h, over swrk: the binary set, then "criu" from PATH (the default)
timeout 250 "$every" bin "$crbin" "$prog" "$PWD/every-bin" || fail "libcriu-every over swrk"
PATH="$(dirname "$crbin"):$PATH" timeout 250 "$every" path "$crbin" "$prog" "$PWD/every-path" ||
	fail "libcriu-every over the default swrk from PATH"

# the service, on a socket of our own
"$CRIU" service --address "$PWD/criu.sock" --pidfile "$PWD/service.pid" -v4 -o "$PWD/service.log" &
svc=$!
for _ in $(seq 500); do [ -S criu.sock ] && break; sleep 0.01; done
[ -S criu.sock ] || fail "criu service did not listen on criu.sock"
# a client of uid 65534 must reach the socket, and be refused what it asks
chmod 0711 . sk
chmod 0777 criu.sock
[ "$(cat service.pid)" = "$svc" ] || fail "service pidfile has '$(cat service.pid)', want $svc"
# criu_restore_child runs a swrk even then: upstream's default, "criu" from PATH
PATH="$(dirname "$crbin"):$PATH" timeout 250 "$test_bin" sk "$PWD/criu.sock" "$crbin" "$prog" "$PWD/sk" || {
	cat sk/*.log service.log 2>/dev/null | tail -30
	fail "libcriu over criu service"
}
PATH="$(dirname "$crbin"):$PATH" timeout 250 "$every" sk "$crbin" "$prog" "$PWD/every-sk" \
	"$PWD/criu.sock" || fail "libcriu-every over criu service"
kill "$svc"
wait "$svc" 2>/dev/null
svc=""
echo PASS
