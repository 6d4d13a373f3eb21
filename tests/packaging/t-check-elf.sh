# tests/deb/check-elf.py (make deb's architecture check) tells the
# architectures apart by the ELF header, inside ar archives too, and refuses
# a folder with no ELF file.
. "$TOP/tests/packaging/lib.sh"
check=$TOP/tests/deb/check-elf.py
native=$(dpkg --print-architecture 2>/dev/null || echo amd64)
mkdir -p n/usr/lib empty
printf 'int f(void) { return 1; }\n' >f.c
gcc -c -o f.o f.c && cp f.o n/usr/lib/native.o && ar rcs n/usr/lib/libf.a f.o
echo 'not ELF' >n/usr/lib/readme
python3 "$check" "$native" n >out.txt || { cat out.txt; fail "native objects refused"; }
grep -q 'libf.a(f.o)' out.txt || fail "the archive member was not looked at"
ok "native files accepted"
python3 "$check" "$native" empty 2>/dev/null && fail "a folder with no ELF file accepted"
for pair in aarch64-linux-gnu:arm64 s390x-linux-gnu:s390x powerpc64le-linux-gnu:ppc64el; do
	cc=${pair%%:*}-gcc arch=${pair#*:}
	command -v "$cc" >/dev/null || continue
	rm -rf x && mkdir -p x && "$cc" -c -o x/f.o f.c
	python3 "$check" "$arch" x >/dev/null || fail "$arch object refused as $arch"
	python3 "$check" "$native" x >/dev/null 2>&1 && fail "$arch object accepted as $native"
	cp f.o x/native.o
	python3 "$check" "$arch" x >/dev/null 2>&1 && fail "a native object accepted among $arch ones"
	ar rcs x/libmixed.a f.o && rm x/native.o
	python3 "$check" "$arch" x >/dev/null 2>&1 && fail "a native archive member accepted as $arch"
	ok "$arch told apart from $native"
done
