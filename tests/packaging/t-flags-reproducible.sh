# The user's CFLAGS, CPPFLAGS and LDFLAGS (dpkg-buildflags' hardening) reach
# criu and libcriu after the project's own flags, never the PIE blobs; V=1
# prints every command, the default one line per step; and two builds of the
# same tree in different folders, with SOURCE_DATE_EPOCH set, give the same
# bytes.
. "$TOP/tests/packaging/lib.sh"
export SOURCE_DATE_EPOCH=1700000000
if command -v dpkg-buildflags >/dev/null; then
	eval "$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)"
else
	CFLAGS="-g -O2 -fstack-protector-strong -Wformat -Werror=format-security"
	CPPFLAGS="-D_FORTIFY_SOURCE=2" LDFLAGS="-Wl,-z,relro -Wl,-z,now"
fi
export CFLAGS CPPFLAGS LDFLAGS
a=$SCRATCH/a b=$SCRATCH/a-longer-folder/b
copy_tree "$a"
copy_tree "$b"
# One from the environment, one from the command line.
make -C "$a" -j2 V=1 all >a.log 2>&1 || { tail -30 a.log; fail "build in $a"; }
env -u CFLAGS -u CPPFLAGS -u LDFLAGS make -C "$b" -j2 CFLAGS="$CFLAGS" CPPFLAGS="$CPPFLAGS" \
	LDFLAGS="$LDFLAGS" all >b.log 2>&1 || { tail -30 b.log; fail "build in $b"; }
bld=build/$ARCH
# One line per command: make shows a recipe's continued lines as written.
for l in a b; do
	sed -e ':a' -e '/\\$/N; s/\\\n[[:space:]]*/ /; ta' $l.log >$l.cmds
done

# V=1: every command; the project's flags first, then the user's.
grep -E "^gcc .*-Werror.*-D_GNU_SOURCE.* -D_FORTIFY_SOURCE=2 .*-fstack-protector-strong.* -c -o $bld/core/dump.o core/dump.c" \
	a.cmds >/dev/null || fail "V=1: the compile of core/dump.c lacks the flags in order"
grep -E "^gcc .* -Wl,-z,now .*-o $bld/criu " a.cmds >/dev/null || fail "V=1: criu's link lacks LDFLAGS"
grep -E "^gcc -shared .* -Wl,-z,now .*-o $bld/libcriu.so.2.0 " a.cmds >/dev/null ||
	fail "V=1: libcriu's link lacks LDFLAGS"
grep -E "^(ln|mkdir|rm) " a.cmds >/dev/null || fail "V=1: small commands hidden"
pie=$(grep -E -- "-ffreestanding .*-c -o $bld/pie/" a.cmds) || fail "V=1: no blob compile shown"
echo "$pie" | grep -E -- "-fstack-protector-strong|-D_FORTIFY_SOURCE=2|-Wl,-z" &&
	fail "the user's flags reached the PIE blobs"
echo "$pie" | grep -vq -- "-U_FORTIFY_SOURCE" && fail "a blob compile lacks -U_FORTIFY_SOURCE"
# The default: one short line per step, no command lines.
grep -E "^gcc |^ln " b.log && fail "default output shows commands"
grep -E "^  CC +$bld/core/dump.o$" b.log >/dev/null || fail "default output lacks '  CC  file'"
ok "flags in order, blobs untouched, V=1 and quiet output"

# The hardening is in the binaries.
for f in "$a/$bld/criu" "$a/$bld/libcriu.so.2.0"; do
	readelf -d "$f" | grep -Eq 'BIND_NOW|FLAGS.*NOW' || fail "$f: no BIND_NOW"
	readelf -lW "$f" | grep -q GNU_RELRO || fail "$f: no RELRO"
	readelf -h "$f" | grep -q 'DYN' || fail "$f: not position-independent"
done
nm -D "$a/$bld/criu" | grep -q __stack_chk_fail || fail "criu: no stack protector"
nm -D "$a/$bld/criu" | grep -Eq ' U __[a-z_]+_chk' || fail "criu: no _FORTIFY_SOURCE checks"
ok "criu and libcriu: relro, bind now, PIE, stack protector, fortify"

# Reproducible: same bytes from both folders.
for f in criu libcriu.so.2.0 libcriu.a; do
	cmp "$a/$bld/$f" "$b/$bld/$f" || fail "$f differs between $a and $b"
done
ok "criu, libcriu.so.2.0 and libcriu.a are the same bytes in both folders"
