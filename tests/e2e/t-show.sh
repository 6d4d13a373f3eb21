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

# corrupt and truncated images: one error line, exit 1, no crash
head -c 30 "$FIXTURES/core-16517.img" >core-1.img
expect_rc 1 "$CRIU" show -f core-1.img
grep -q 'core-1.img' err.txt || fail "truncation error does not name the file"
printf 'garbage!' >junk.img
expect_rc 1 "$CRIU" show -f junk.img
grep -q 'junk.img' err.txt || fail "unknown magic error does not name the file"
expect_rc 1 "$CRIU" show -f does-not-exist.img
echo ok
