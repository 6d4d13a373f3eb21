#!/bin/bash
# criu never writes where the requester couldn't (issue 9, section 3):
# - on the command line (root), a symlink planted in the images dir as the
#   log, an image or the pidfile is not followed: the dump or restore is
#   refused naming it, the file it points at is unchanged, and a dumped tree
#   keeps running;
# - through `criu service` run by root, a uid 65534 client can't have criu
#   follow its planted symlinks, write into a 0711 directory of root's, or
#   name a log outside its work dir; what criu does write for it is the
#   client's (owned by uid 65534).
. "$TOP/tests/e2e/lib.sh"

build="$TOP/${BUILD:-build/x86_64}"
client="$build/tests/e2e/rpc/fsafe-client"
svc="" target=""
cleanup() {
	[ -n "$svc" ] && kill "$svc" 2>/dev/null
	[ -n "$target" ] && kill -9 "$target" 2>/dev/null
}
trap cleanup EXIT

# victim: a file of root's that nobody else may write
mkvictim() { printf 'precious %s\n' "$1" >"$1"; chmod 0644 "$1"; }
unchanged() { [ "$(cat "$1")" = "precious $1" ] || fail "$2: $1 was changed: '$(head -c 80 "$1")'"; }

start_target() {
	setsid sleep 1000 </dev/null >/dev/null 2>&1 &
	target=$!
	for _ in $(seq 200); do [ "$(cat /proc/$target/comm 2>/dev/null)" = sleep ] && break; sleep 0.02; done
}
still_running() {
	kill -0 "$target" 2>/dev/null || fail "$1: the target is gone"
	state=$(awk '/^State:/ {print $2}' /proc/$target/status)
	[ "$state" = S ] || [ "$state" = R ] || fail "$1: the target is in state $state"
	tracer=$(awk '/^TracerPid:/ {print $2}' /proc/$target/status)
	[ "$tracer" = 0 ] || fail "$1: the target is still traced by $tracer"
}

# --- the command line, as root ---
start_target

mkdir d1; mkvictim "$PWD/victim1"; ln -s "$PWD/victim1" d1/dump.log
expect_rc 1 "$CRIU" dump -t "$target" -D d1 -o dump.log --leave-running
grep -q "can't create log file dump.log: it is a symlink" err.txt || {
	cat err.txt; fail "no message naming the planted log symlink"
}
unchanged "$PWD/victim1" "dump -o to a symlink"
still_running "dump -o to a symlink"

mkdir d2; mkvictim "$PWD/victim2"; ln -s "$PWD/victim2" "d2/core-$target.img"
expect_rc 1 "$CRIU" dump -t "$target" -D d2 -o dump.log --leave-running
grep -q "core-$target.img: can't create: it is a symlink" d2/dump.log || {
	cat d2/dump.log err.txt; fail "no message naming the planted image symlink"
}
unchanged "$PWD/victim2" "an image planted as a symlink"
still_running "an image planted as a symlink"

mkdir d3; mkvictim "$PWD/victim3"; ln "$PWD/victim3" d3/dump.log
expect_rc 1 "$CRIU" dump -t "$target" -D d3 -o dump.log --leave-running
grep -q "hard link" err.txt || { cat err.txt; fail "no message for a hard-linked log"; }
unchanged "$PWD/victim3" "a hard-linked log"

mkdir d4; mkfifo d4/dump.log
expect_rc 1 timeout 20 "$CRIU" dump -t "$target" -D d4 -o dump.log --leave-running
grep -q "not a regular file" err.txt || { cat err.txt; fail "no message for a FIFO log"; }

# a plain dump still works, and reuses (truncates) an existing image of its own
mkdir d5; echo stale >d5/dump.log
expect_rc 0 "$CRIU" dump -t "$target" -D d5 -o dump.log --leave-running
grep -q stale d5/dump.log && fail "an existing log was not truncated"
still_running "a plain dump with --leave-running"

# restore's pidfile planted as a symlink: refused before anything runs
kill -9 "$target"; wait "$target" 2>/dev/null; old=$target; target=""
mkvictim "$PWD/victim6"
ln -s "$PWD/victim6" d5/rst.pid
expect_rc 1 "$CRIU" restore -D d5 -o restore.log --pidfile rst.pid -d
grep -q "pidfile rst.pid: it is a symlink" err.txt d5/restore.log || {
	cat err.txt d5/restore.log; fail "no message naming the planted pidfile"
}
unchanged "$PWD/victim6" "restore --pidfile to a symlink"
kill -0 "$old" 2>/dev/null && { kill -9 "$old"; fail "restore went on after refusing the pidfile"; }

# --- the service, run by root, and a client of uid 65534 ---
chmod 0711 .
"$CRIU" service --address "$PWD/criu.sock" -v4 -o "$PWD/service.log" 2>service.err &
svc=$!
for _ in $(seq 500); do [ -S criu.sock ] && break; sleep 0.01; done
[ -S criu.sock ] || fail "criu service did not listen"
chmod 0777 criu.sock
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups timeout 60 "$client" "$@"; }

# its own dir: what criu writes is the client's
mkdir u1; chown 65534:65534 u1
as_nobody "$PWD/criu.sock" "$PWD/u1" dump.log >out.txt 2>&1 || { cat out.txt service.err; fail "the client's own dump failed"; }
grep -q dumped out.txt || fail "no dump"
for f in u1/*; do
	[ "$(stat -c %u "$f")" = 65534 ] || fail "$f was created as $(stat -c %U "$f"), not as the client"
done

# a symlink it planted, as the log and as an image
mkdir u2; chown 65534:65534 u2; mkvictim "$PWD/victim7"
ln -s "$PWD/victim7" u2/dump.log; chown -h 65534:65534 u2/dump.log
as_nobody "$PWD/criu.sock" "$PWD/u2" dump.log >out.txt 2>&1
[ $? = 1 ] || { cat out.txt; fail "a client's planted log symlink was not refused"; }
unchanged "$PWD/victim7" "a client's planted log symlink"
grep -q "can't create log file dump.log: it is a symlink" service.err service.log || {
	cat service.err; fail "no message for the client's planted log symlink"
}

mkdir u3; chown 65534:65534 u3; mkvictim "$PWD/victim8"
as_nobody "$PWD/criu.sock" "$PWD/u3" dump.log 'core-%d.img' "$PWD/victim8" >out.txt 2>&1
[ $? = 1 ] || { cat out.txt; fail "a client's planted image symlink was not refused"; }
unchanged "$PWD/victim8" "a client's planted image symlink"
grep -q "can't create: it is a symlink" u3/dump.log || { cat u3/dump.log; fail "no message for the planted image"; }

# a 0711 dir of root's: nothing may be created there
mkdir u4; chmod 0711 u4
as_nobody "$PWD/criu.sock" "$PWD/u4" dump.log >out.txt 2>&1
[ $? = 1 ] || { cat out.txt; fail "a dump into root's 0711 directory was not refused"; }
[ -z "$(ls -A u4)" ] || { ls -la u4; fail "criu created files in root's 0711 directory for uid 65534"; }
grep -q "Permission denied" service.err service.log || { cat service.err; fail "no message for the 0711 directory"; }

# a log name outside the work dir
mkdir u5; chown 65534:65534 u5; mkvictim "$PWD/victim9"
as_nobody "$PWD/criu.sock" "$PWD/u5" ../victim9 >out.txt 2>&1
[ $? = 1 ] || { cat out.txt; fail "log_file ../victim9 was not refused"; }
unchanged "$PWD/victim9" "log_file ../victim9"

kill "$svc"; wait "$svc" 2>/dev/null; svc=""
echo PASS
