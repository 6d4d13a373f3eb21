#!/bin/bash
# make demo: dump a running counter, show its images, restore it, and watch
# it carry on with the same PID.  Touches only what it starts.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
criu="$top/criu"
dir=$(mktemp -d /tmp/criu-demo.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; }
trap cleanup EXIT

gcc -O2 -o "$dir/counter" "$top/demo/counter.c" || exit 1
mkdir "$dir/images"
echo "== starting the counter (output in $dir/counter.log)"
# a session of its own, so that it can be dumped without -j
pid=$(python3 -c '
import subprocess, sys
p = subprocess.Popen([sys.argv[1]], start_new_session=True, stdin=subprocess.DEVNULL,
                     stdout=open(sys.argv[2], "w"), stderr=subprocess.STDOUT)
print(p.pid)' "$dir/counter" "$dir/counter.log")
sleep 3
tail -n 2 "$dir/counter.log"

echo "== criu dump -t $pid -D $dir/images"
"$criu" dump -t "$pid" -D "$dir/images" -o dump.log -v3 || { tail "$dir/images/dump.log"; exit 1; }
grep 'dumped' "$dir/images/dump.log"
for i in $(seq 100); do [ -e /proc/$pid ] || break; sleep 0.1; done
echo "   the counter is gone: $([ -e /proc/$pid ] && echo NO || echo yes)"
ls -l "$dir/images" | tail -n +2 | awk '{printf "   %8s  %s\n", $5, $9}'
echo "== criu show -f pstree.img"
"$criu" show -f "$dir/images/pstree.img"
echo "== criu show -f core-$pid.img (the first lines)"
"$criu" show -f "$dir/images/core-$pid.img" | head -n 12

echo "== criu restore -D $dir/images -d"
"$criu" restore -D "$dir/images" -o restore.log -v3 -d || { tail "$dir/images/restore.log"; exit 1; }
grep 'restored' "$dir/images/restore.log"
sleep 3
tail -n 3 "$dir/counter.log"
if tail -n 1 "$dir/counter.log" | grep -q "pid $pid (same as at start: yes)  memory intact  fpu intact"; then
	echo "== the restored counter carries on as pid $pid"
	kill -TERM "$pid"
	rm -rf "$dir"
	exit 0
fi
echo "== the restored counter is not right (files in $dir)"
exit 1
