#!/bin/bash
# criu exec -t PID SYSCALL ARGS...: the man page's examples, results and
# errors, and the target carrying on unharmed after each call.
. "$TOP/tests/e2e/lib.sh"

started=""
cleanup() { for p in $started; do kill -9 "$p" 2>/dev/null; done; }
trap cleanup EXIT

criu_exec() { timeout 30 "$CRIU" exec "$@"; }

state() { sed -n 's/^State:\t\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null; }

# The target is alive and neither stopped nor traced.
check_running() {
	local s
	s=$(state "$1")
	case "$s" in
	R | S | D) ;;
	*) fail "pid $1 is in state '$s' after criu exec" ;;
	esac
	grep -q '^TracerPid:[[:space:]]*0$' "/proc/$1/status" || fail "pid $1 is still traced"
}

# wait_state PID LETTERS: bounded wait for /proc/PID/status State
wait_state() {
	for _ in $(seq 200); do
		case "$(state "$1")" in [$2]) return 0 ;; esac
		sleep 0.01
	done
	fail "pid $1 never reached state [$2] (is '$(state "$1")')"
}

sleep 100 &
pid=$!
started="$started $pid"
wait_state $pid S

# getpid prints the target's pid
expect_rc 0 criu_exec -t $pid getpid
[ "$(cat out.txt)" = "$pid" ] || fail "getpid printed '$(cat out.txt)', want $pid"
check_running $pid

# open '&PATH' FLAGS: the string is copied into the task
target="$PWD/opened-by-exec"
echo data >"$target"
expect_rc 0 criu_exec -t $pid open "&$target" 2
fd=$(cat out.txt)
case "$fd" in '' | *[!0-9]*) fail "open printed '$fd', want an fd" ;; esac
[ "$(readlink /proc/$pid/fd/$fd)" = "$target" ] ||
	fail "fd $fd of $pid is '$(readlink /proc/$pid/fd/$fd)', want $target"
check_running $pid
# the strings' scratch mapping is gone again
maps_before=$(wc -l <"/proc/$pid/maps")

# close works, and a second close reports the errno by name
expect_rc 0 criu_exec -t $pid close "$fd"
[ "$(cat out.txt)" = 0 ] || fail "close printed '$(cat out.txt)', want 0"
[ ! -e "/proc/$pid/fd/$fd" ] || fail "fd $fd still open in $pid"
expect_rc 0 criu_exec -t $pid close "$fd"
grep -q '^-9 (EBADF: Bad file descriptor)$' out.txt || fail "second close printed '$(cat out.txt)'"
[ "$(wc -l <"/proc/$pid/maps")" = "$maps_before" ] || fail "exec left a mapping in $pid"

# a missing file: -errno with its name, still exit 0 (the syscall ran)
expect_rc 0 criu_exec -t $pid open "&$PWD/no/such/file" 0
grep -q '^-2 (ENOENT: No such file or directory)$' out.txt || fail "open printed '$(cat out.txt)'"

# numbers in any strtol base
expect_rc 0 criu_exec -t $pid close 0x7fff
grep -q '^-9 (EBADF' out.txt || fail "close 0x7fff printed '$(cat out.txt)'"
check_running $pid

# usage errors: one line, exit 1, the target untouched
expect_rc 1 criu_exec -t $pid no_such_syscall
grep -q "unknown syscall 'no_such_syscall'" err.txt || fail "unknown syscall: '$(cat err.txt)'"
expect_rc 1 criu_exec -t $pid close 1 2
grep -q "close takes 1 argument, 2 given" err.txt || fail "too many args: '$(cat err.txt)'"
expect_rc 1 criu_exec -t $pid close 12abc
grep -q "'12abc' is not a number" err.txt || fail "junk number: '$(cat err.txt)'"
expect_rc 1 criu_exec close 1
grep -q "needs -t PID" err.txt || fail "missing pid: '$(cat err.txt)'"
expect_rc 1 criu_exec -t $pid
grep -q "syscall name" err.txt || fail "missing syscall: '$(cat err.txt)'"
check_running $pid

# a pid that does not exist
nopid=$(($(cat /proc/sys/kernel/pid_max) - 1))
while [ -e /proc/$nopid ]; do nopid=$((nopid - 1)); done
expect_rc 1 criu_exec -t $nopid getpid
grep -q "no process with pid $nopid" err.txt || fail "missing process: '$(cat err.txt)'"

# a busy task (running, not sleeping)
bash -c 'while :; do :; done' &
busy=$!
started="$started $busy"
sleep 0.1
for _ in 1 2 3 4 5; do
	expect_rc 0 criu_exec -t $busy getpid
	[ "$(cat out.txt)" = "$busy" ] || fail "busy getpid printed '$(cat out.txt)'"
done
check_running $busy

# a stopped task stays stopped
kill -STOP $pid
wait_state $pid T
expect_rc 0 criu_exec -t $pid getpid
[ "$(cat out.txt)" = "$pid" ] || fail "stopped getpid printed '$(cat out.txt)'"
sleep 0.05
[ "$(state $pid)" = T ] || fail "stopped pid $pid is '$(state $pid)' after exec"
kill -CONT $pid
wait_state $pid S
check_running $pid

# a zombie: its parent never reaps it (python does not reap on its own,
# unlike bash, which may reap the child before its exec)
python3 -c '
import os, sys, time
child = os.fork()
if child == 0:
    os._exit(0)
with open("zombie.pid", "w") as f:
    f.write("%d\n" % child)
time.sleep(100)
' &
zparent=$!
started="$started $zparent"
for _ in $(seq 200); do [ -s zombie.pid ] && break; sleep 0.01; done
zombie=$(cat zombie.pid)
wait_state "$zombie" Z
expect_rc 1 criu_exec -t "$zombie" getpid
grep -q "pid $zombie is a zombie" err.txt || fail "zombie: '$(cat err.txt)'"

check_running $pid
check_running $busy
echo "PASS"
