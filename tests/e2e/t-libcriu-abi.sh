#!/bin/bash
# libcriu's interface is upstream's: every function of
# tests/fixtures/libcriu-abi.txt is declared in our criu.h with exactly that
# prototype (a probe built with -Werror checks each with
# __builtin_types_compatible_p, and the constants, struct members and
# typedefs), the probe links against libcriu.so and runs, each function is
# a defined, unversioned dynamic symbol of libcriu.so.2, whose soname is
# libcriu.so.2.  A probe with one prototype changed must fail to build.
. "$TOP/tests/e2e/lib.sh"

build="$TOP/${BUILD:-build/x86_64}"
fixture="$TOP/tests/fixtures/libcriu-abi.txt"
so="$build/libcriu.so.2"
cc=${CC:-gcc}
inc=(-I"$TOP/lib/c" -I"$TOP/core/include" -I"$build/gen/proto")
[ -f "$so" ] || fail "$so is not built"

n=$(python3 "$TOP/tests/e2e/rpc/abi-probe.py" "$fixture" probe.c) || fail "probe generation"
[ "$n" -ge 150 ] || fail "the fixture lists only $n functions"
"$cc" -std=gnu11 -Wall -Wextra -Werror "${inc[@]}" -o probe probe.c -L"$build" -lcriu \
	-lprotobuf-c 2>err.txt || { head -30 err.txt; fail "the probe does not build against criu.h"; }
out=$(LD_LIBRARY_PATH="$build" ./probe) || fail "the probe does not run"
[ "$out" = "$n functions" ] || fail "probe said '$out', want '$n functions'"
readelf -d probe | grep -q 'NEEDED.*\[libcriu\.so\.2\]' || fail "the probe does not need libcriu.so.2"
echo "ok: $n functions with upstream's prototypes in criu.h, linked and run"

# the headers make install puts in include/criu are enough on their own
mkdir -p inst/criu
cp "$TOP/lib/c/criu.h" "$TOP/core/include/version.h" "$build/gen/proto/rpc.pb-c.h" inst/criu/
printf '#include <criu/criu.h>\nint main(void) { return criu_init_opts(); }\n' >alone.c
"$cc" -std=gnu11 -Wall -Wextra -Werror -Iinst -o alone alone.c -L"$build" -lcriu -lprotobuf-c \
	2>err.txt || { cat err.txt; fail "criu.h with only the installed headers does not build"; }
echo "ok: criu.h, version.h and rpc.pb-c.h build a client on their own"

# the check can fail: one return type changed breaks the build
python3 "$TOP/tests/e2e/rpc/abi-probe.py" "$fixture" bad.c --break criu_set_service_address >/dev/null
if "$cc" -std=gnu11 -Werror "${inc[@]}" -c -o bad.o bad.c 2>bad.txt; then
	fail "a probe with a wrong prototype of criu_set_service_address built"
fi
grep -q "criu_set_service_address: not declared as" bad.txt || { cat bad.txt; fail "no named mismatch"; }
echo "ok: a wrong prototype fails the probe, named"

soname=$(sed -n 's/^soname //p' "$fixture")
readelf -d "$so" | grep -q "SONAME.*\[$soname\]" || fail "soname of $so is not $soname"
nm -D --defined-only "$so" | awk '$2 == "T" { print $3 }' | sort >exported.txt
missing=0
for f in $(sed -n 's/^func .*\b\(criu_[a-z_0-9]*\)(.*/\1/p' "$fixture"); do
	grep -qx "$f" exported.txt || { echo "missing from $so: $f"; missing=$((missing + 1)); }
done
[ $missing = 0 ] || fail "$missing functions are not exported"
# unversioned, as upstream's
if nm -D --defined-only "$so" | grep -q '@'; then
	nm -D --defined-only "$so" | grep '@' | head -3
	fail "$so has versioned symbols; upstream's are unversioned"
fi
# nothing of its own beyond the criu_* functions and the rpc protobuf code criu.h declares
extra=$(nm -D --defined-only "$so" | awk '{ print $3 }' |
	grep -v -e '^criu_' -e '^ext_mount_map__' -e '^join_namespace__' -e '^inherit_fd__' \
		-e '^cgroup_root__' -e '^unix_sk__' -e '^_init$' -e '^_fini$' || true)
[ -z "$extra" ] || fail "$so exports more: $extra"
echo "ok: soname $soname, every function exported, unversioned"
echo PASS
