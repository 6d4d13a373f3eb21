# debian/ agrees with the tree: debian/changelog's version is the Makefile's
# VERSION and criu --version's, and debian/libcriu2.symbols lists exactly
# the functions the built libcriu exports (debian/gen-symbols.sh rewrites it
# when libcriu changes).
. "$TOP/tests/packaging/lib.sh"
want=$(make -C "$TOP" -s --no-print-directory print-version)
got=$(sed -n '1s/^criu (\([^)]*\)).*/\1/p' "$TOP/debian/changelog")
[ "$got" = "$want" ] || fail "debian/changelog says $got, the Makefile $want"
"$TOP/criu" --version | grep -qx "Version: $want" || fail "criu --version is not $want"
ok "version $want in the Makefile, debian/changelog and criu --version"

so=$TOP/build/$ARCH/libcriu.so.2.0
[ -f "$so" ] || fail "build libcriu first"
cp "$TOP/debian/libcriu2.symbols" current.symbols
"$TOP/debian/gen-symbols.sh" "$so" current.symbols >/dev/null || fail "gen-symbols.sh"
diff -u "$TOP/debian/libcriu2.symbols" current.symbols ||
	fail "debian/libcriu2.symbols is not the built library's: run debian/gen-symbols.sh $so"
grep -q "^ criu_init_opts@Base " current.symbols || fail "gen-symbols.sh: no criu_init_opts"
ok "debian/libcriu2.symbols matches the built libcriu"
