# criu show decodes every upstream fixture, as text and as valid JSON, and
# refuses corrupt images with one clear line and exit 1.
. "$TOP/tests/e2e/lib.sh"

for f in "$FIXTURES"/*.img "$FIXTURES"/stats-dump; do
	expect_rc 0 "$CRIU" show -f "$f"
	expect_rc 0 "$CRIU" show --json -f "$f"
	python3 -m json.tool out.txt >/dev/null || fail "show --json $f: not JSON"
done

# and every image of upstream's dumps of our e2e programs (the raw pages
# files aside); the JSON of all checked at once
n=0
for f in "$TOP"/tests/fixtures/upstream-dumps/dumps/*/*; do
	case $f in */pages-*.img) continue ;; esac
	n=$((n + 1))
	"$CRIU" show -f "$f" >/dev/null 2>err.txt || { cat err.txt; fail "show $f"; }
	"$CRIU" show --json -f "$f" >"json-$n.txt" 2>err.txt || { cat err.txt; fail "show --json $f"; }
done
python3 -c 'import json, sys
for p in sys.argv[1:]:
    json.load(open(p))' json-*.txt || fail "show --json of upstream-dumps: not JSON"

"$CRIU" show -f "$FIXTURES/pstree.img" >out.txt || fail "show pstree"
grep -q 'pid: 16517' out.txt || fail "pstree: pid 16517 missing"
grep -q 'threads: \[16517, 16519\]' out.txt || fail "pstree: threads missing"

"$CRIU" show --json -f "$FIXTURES/pstree.img" >out.txt
python3 - <<'PY' || fail "pstree JSON content"
import json
d = json.load(open("out.txt"))
assert d["magic"] == "PSTREE", d["magic"]
assert [e["pid"] for e in d["entries"]] == [16517, 16520], d
PY

# -c shows the pipe's "hello" and page contents through the pagemap
"$CRIU" show -c -f "$FIXTURES/pipes-data.img" >out.txt || fail "show -c pipes-data"
grep -q '|hello|' out.txt || fail "pipes-data payload not shown"
"$CRIU" show -c -f "$FIXTURES/pagemap-16517.img" >out.txt || fail "show -c pagemap"
grep -qE '^[0-9a-f]{16}: ' out.txt || fail "pagemap pages not dumped"

# the anon-inode kinds in files.img (the fuzz seed, after its selector
# byte): an eventfd, an epoll with its targets, a signalfd, a timerfd
tail -c +2 "$TOP/tests/fuzz/corpus/anon-files" >files.img
"$CRIU" show -f files.img >out.txt || fail "show files.img of the anon-inode kinds"
for want in 'type: EVENTFD' 'counter: 20015998343868' 'type: EVENTPOLL' 'tfd: 40' \
	'tfd_now: 41' 'data: 18446744073709551615' 'type: SIGNALFD' 'sigmask: 0x800000200' \
	'type: TIMERFD' 'clockid: 7' 'ticks: 3' 'settime_flags: 0x1' 'vnsec: 999999999'; do
	grep -q "$want" out.txt || { cat out.txt; fail "show files.img: no '$want'"; }
done
"$CRIU" show --json -f files.img >out.txt || fail "show --json files.img of the anon-inode kinds"
python3 - <<'PY' || fail "anon-inode files JSON content"
import json
e = json.load(open("out.txt"))["entries"]
assert [x["type"] for x in e] == ["EVENTFD", "EVENTPOLL", "SIGNALFD", "TIMERFD"], e
assert e[0]["efd"]["counter"] == 0x123456789ABC, e[0]
t = e[1]["epfd"]["tfd"]
assert [x["tfd"] for x in t] == [3, 40, 5] and t[1]["tfd_now"] == 41, t
assert "tfd_now" not in t[0], t
assert e[2]["sgfd"]["sigmask"] in (0x800000200, "0x800000200"), e[2]
assert e[3]["tfd"]["clockid"] == 7 and e[3]["tfd"]["isec"] == 1, e[3]
PY

# corrupt and truncated images: one error line, exit 1, no crash
head -c 30 "$FIXTURES/core-16517.img" >core-1.img
expect_rc 1 "$CRIU" show -f core-1.img
grep -q 'core-1.img' err.txt || fail "truncation error does not name the file"
printf 'garbage!' >junk.img
expect_rc 1 "$CRIU" show -f junk.img
grep -q 'junk.img' err.txt || fail "unknown magic error does not name the file"
expect_rc 1 "$CRIU" show -f does-not-exist.img
echo ok
