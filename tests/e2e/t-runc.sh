# runc (Debian's) drives our criu as it drives upstream's: `runc --criu OURS
# checkpoint` of a container gets past runc's version check (it needs 3.0)
# and the plain options it sends (notify_scripts, orphan_pts_master,
# config_file of a file that does not exist, ...) to the first option about
# mounts or namespaces, refused by name in the log runc points to; the
# container runs on.  Everything here is this test's own container.
. "$TOP/tests/e2e/lib.sh"
command -v runc >/dev/null || fail "runc is not installed (make deps installs it)"
name="criu-e2e-runc-$$"
cleanup() { runc delete -f "$name" >/dev/null 2>&1; }
trap cleanup EXIT

mkdir -p bundle/rootfs img work
printf '#include <unistd.h>\nint main(void) { for (;;) pause(); }\n' >sleeper.c
${CC:-gcc} -static -O2 -o bundle/rootfs/sleeper sleeper.c || fail "can't build a static sleeper"
(cd bundle && runc spec) || fail "runc spec"
python3 - bundle/config.json <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c['process']['args'] = ['/sleeper']
c['process']['terminal'] = False
json.dump(c, open(sys.argv[1], 'w'))
PY
timeout 60 runc run -d --bundle "$PWD/bundle" "$name" </dev/null >run.txt 2>&1 ||
	{ cat run.txt; fail "runc run"; }
timeout 60 runc --criu "$(readlink -f "$CRIU")" checkpoint --image-path "$PWD/img" \
	--work-path "$PWD/work" "$name" >out.txt 2>&1 && fail "checkpoint succeeded: $(cat out.txt)"
cat out.txt
grep -qi "version" out.txt && fail "runc complained about the version"
[ -f work/dump.log ] || fail "no dump.log in the work path"
grep -q "RPC DUMP request" work/dump.log || fail "criu did not log runc's request"
grep -q "option root is not supported by this criu: it is about mounts or namespaces" \
	work/dump.log || { tail -5 work/dump.log; fail "not refused at root, named"; }
runc list | grep -q "^$name .*running" || fail "the container is not running after the refusal"
echo "ok: runc stops at: $(grep -o 'option root.*' work/dump.log)"
echo PASS
