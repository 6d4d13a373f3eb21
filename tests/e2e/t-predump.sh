#!/bin/bash
# Incremental dumps (issue 14): a process rewriting 5% of a 64 MiB buffer
# every 100 ms, within its first 10% (tools/mem-writer) is pre-dumped 3 times, each a child of the
# last, then dumped with --prev-images-dir -R and restored from the chain:
# it checks every byte of every page from inside.  Also: the tracker leaves
# nothing in the task (no descriptor, no uffd-wp mapping, the same
# /proc/PID/maps) once the final dump is done; the later images hold fewer
# pages; criu dedup shrinks the parents and the chain still restores; bad
# chains (a broken parent link, a parent without the task's pagemap, a
# missing --prev-images-dir) are refused with one clear error.
. "$TOP/tests/e2e/lib.sh"
b=${BUILD:-build/$(uname -m)}
writer="$TOP/$b/tests/e2e/tools/mem-writer"
make -C "$TOP" --no-print-directory "$b/tests/e2e/tools/mem-writer" >make.log 2>&1 ||
	{ cat make.log; fail "make mem-writer"; }

if ! "$CRIU" check --feature mem_dirty_track >check.txt 2>&1; then
	cat check.txt
	echo "SKIP: no memory change tracker on this kernel"
	echo PASS
	exit 0
fi
cat check.txt
# the soft-dirty tracker has no keeper process: its checks are for userfaultfd's
uffd=true
grep -q soft-dirty check.txt && uffd=false

pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; }
trap cleanup EXIT

wait_file() { # FILE: up to 10 s
	for _ in $(seq 500); do [ -s "$1" ] && return 0; sleep 0.02; done
	fail "no $1"
}
track() { # what the writer sees of the tracker
	rm -f w/track
	kill -USR1 "$pid"
	wait_file w/track
	cat w/track
}
running() {
	kill -0 "$pid" 2>/dev/null || fail "$1: the writer is gone"
	local st tr
	st=$(awk '/^State:/ {print $2}' /proc/$pid/status)
	tr=$(awk '/^TracerPid:/ {print $2}' /proc/$pid/status)
	[ "$st" = S ] || [ "$st" = R ] || fail "$1: the writer is in state $st"
	[ "$tr" = 0 ] || fail "$1: the writer is still traced by $tr"
}
kb() { du -sk "$1" | awk '{print $1}'; }
keeper_sock() { grep -c "@criu-mem-track-$pid-" /proc/net/unix; }

mkdir -p w p1 p2 p3 d
setsid "$writer" "$PWD/w" 64 5 hot=10 </dev/null >/dev/null 2>&1 &
pid=$!
wait_file w/ready
[ "$(cat w/ready)" = "$pid" ] || fail "the writer's ready file names $(cat w/ready)"

# --- three pre-dumps, each the child of the last ---
expect_rc 0 "$CRIU" pre-dump -t "$pid" -D p1 -o pd.log -v4
running "pre-dump 1"
t=$(track)
case "$t" in "uffd 0 uw "*" maps SAME") ;; *) fail "after pre-dump 1 the writer sees: $t" ;; esac
! $uffd || [ "$(keeper_sock)" = 1 ] || fail "no keeper of the tracker after pre-dump 1"
sleep 0.3
expect_rc 0 "$CRIU" pre-dump -t "$pid" -D p2 --prev-images-dir ../p1 -o pd.log -v4
running "pre-dump 2"
[ "$(readlink p2/parent)" = ../p1 ] || fail "p2/parent is '$(readlink p2/parent)', want ../p1"
sleep 0.3
expect_rc 0 "$CRIU" pre-dump -t "$pid" -D p3 --prev-images-dir ../p2 -o pd.log -v4
running "pre-dump 3"
grep -q "the tracker did not run" p3/pd.log && { cat p3/pd.log; fail "pre-dump 3 did not trust the tracker"; }

# a pre-dump copies what changed: the writer rewrites only the first 10% of
# its pages, so each later one holds well under a quarter of the first
k1=$(kb p1) k2=$(kb p2) k3=$(kb p3)
echo "pre-dumps: $k1 kB, $k2 kB, $k3 kB"
[ "$k2" -lt $((k1 / 4)) ] && [ "$k3" -lt $((k1 / 4)) ] || fail "later pre-dumps are not smaller: $k1 $k2 $k3 kB"

# --- the final dump, leaving the writer running: the tracker must be gone ---
expect_rc 0 "$CRIU" dump -t "$pid" -D d --prev-images-dir ../p3 -R -o dump.log -v4
running "the final dump"
kd=$(kb d)
echo "final dump: $kd kB"
[ "$kd" -lt $((k1 / 4)) ] || fail "the final dump holds $kd kB, the first pre-dump $k1 kB"
t=$(track)
[ "$t" = "uffd 0 uw 0 maps SAME" ] || fail "after dump -R the writer sees: $t"
[ "$(keeper_sock)" = 0 ] || fail "the tracker's keeper is still there after the final dump"

# --- restore from the chain: every byte right ---
kill -9 "$pid"
wait "$pid" 2>/dev/null
mkdir keep && cp -a p1 p2 p3 d keep/
expect_rc 0 "$CRIU" restore -D d -d -o restore.log -v4
rm -f w/verdict
kill -TERM "$pid"
wait_file w/verdict
[ "$(cut -d' ' -f1 w/verdict)" = PASS ] || fail "restored from the chain: $(cat w/verdict)"
for _ in $(seq 250); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done

# --- dedup: the parents give up what the final dump holds ---
before=$(( $(kb p1) + $(kb p2) + $(kb p3) ))
expect_rc 0 "$CRIU" dedup -D d
after=$(( $(kb p1) + $(kb p2) + $(kb p3) ))
echo "dedup: parents $before kB -> $after kB"
[ "$after" -lt "$before" ] || fail "dedup did not shrink the parents ($before -> $after kB)"
for _ in $(seq 250); do [ -e /proc/$pid ] || break; sleep 0.02; done
expect_rc 0 "$CRIU" restore -D d -d -o restore2.log -v4
rm -f w/verdict
kill -TERM "$pid"
wait_file w/verdict
[ "$(cut -d' ' -f1 w/verdict)" = PASS ] || fail "restored after dedup: $(cat w/verdict)"
for _ in $(seq 250); do [ -e /proc/$pid ] || break; sleep 0.02; done
pid=""

# --- bad chains: one clear error, nothing left running ---
cp -a keep/d bad1
ln -sfn ../nowhere bad1/parent
expect_rc 1 "$CRIU" restore -D bad1 -d
grep -q "parent images link (parent -> ../nowhere) is broken" err.txt || { cat err.txt; fail "a broken parent link is not named"; }
[ "$(grep -c Error err.txt)" -le 2 ] || { cat err.txt; fail "more than one error for a broken parent link"; }
mkdir bad2p
cp -a keep/d bad2
ln -sfn ../bad2p bad2/parent
expect_rc 1 "$CRIU" restore -D bad2 -d
grep -q "no pagemap-.*img" err.txt || { cat err.txt; fail "a parent without the task's pagemap is not named"; }
mkdir -p w2 bad3
setsid "$writer" "$PWD/w2" 4 5 </dev/null >/dev/null 2>&1 &
pid=$!
wait_file w2/ready
expect_rc 1 "$CRIU" pre-dump -t "$pid" -D bad3 --prev-images-dir ../nonexistent
grep -q "prev-images-dir ../nonexistent: no such images directory" err.txt || { cat err.txt; fail "a missing --prev-images-dir is not named"; }
running "a refused pre-dump"
kill -9 "$pid"
wait "$pid" 2>/dev/null

# --- dump --track-mem twice, a splice-mode pre-dump, a final dump and a
# restore with --auto-dedup ---
mkdir -p w3 t1 t2 t3 t4
setsid "$writer" "$PWD/w3" 32 5 hot=10 </dev/null >/dev/null 2>&1 &
pid=$!
wait_file w3/ready
expect_rc 0 "$CRIU" dump -t "$pid" -D t1 --track-mem -R -o dump.log -v4
running "dump --track-mem"
! $uffd || [ "$(keeper_sock)" = 1 ] || fail "dump --track-mem -R left no tracker"
expect_rc 0 "$CRIU" dump -t "$pid" -D t2 --prev-images-dir ../t1 --track-mem -R -o dump.log -v4
running "dump --track-mem with a parent"
[ "$(kb t2)" -lt $(( $(kb t1) / 2 )) ] || fail "dump --track-mem with a parent holds $(kb t2) kB, its parent $(kb t1) kB"
expect_rc 0 "$CRIU" pre-dump -t "$pid" -D t3 --prev-images-dir ../t2 --pre-dump-mode splice -o pd.log -v4
running "pre-dump --pre-dump-mode splice"
expect_rc 0 "$CRIU" dump -t "$pid" -D t4 --prev-images-dir ../t3 --auto-dedup -o dump.log -v4
wait "$pid" 2>/dev/null
grep -q "auto-dedup: [1-9][0-9]* pages punched" t4/dump.log || { cat t4/dump.log; fail "dump --auto-dedup punched nothing"; }
chain() { echo $(( $(kb t1) + $(kb t2) + $(kb t3) + $(kb t4) )); }
before=$(chain)
expect_rc 0 "$CRIU" restore -D t4 -d --auto-dedup -o restore.log -v4
after=$(chain)
echo "restore --auto-dedup: chain $before kB -> $after kB"
[ "$after" -lt $((before / 4)) ] || fail "restore --auto-dedup left $after of $before kB"
rm -f w3/verdict
kill -TERM "$pid"
wait_file w3/verdict
[ "$(cut -d' ' -f1 w3/verdict)" = PASS ] || fail "restored with --auto-dedup: $(cat w3/verdict)"
pid=""
echo PASS
