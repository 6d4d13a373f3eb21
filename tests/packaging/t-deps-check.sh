# Plain make never installs: a missing build dependency stops it at once
# with one line naming the Debian packages and `make deps`, before any
# command runs; nothing is reported when everything is there.
. "$TOP/tests/packaging/lib.sh"

# $1: what must be named; the rest: make's arguments.
expect_missing() {
	local want=$1
	shift
	make -C "$TOP" --no-print-directory "$@" >out.txt 2>&1 && fail "make $* succeeded"
	[ "$(wc -l <out.txt)" = 1 ] || { cat out.txt; fail "make $*: not one line"; }
	grep -qE "missing build dependencies \(Debian packages\):.* $want[ ;]" out.txt ||
		{ cat out.txt; fail "make $*: $want not named"; }
	grep -q 'make deps' out.txt || fail "make $*: make deps not named"
	ok "make $*: $(cat out.txt)"
}

expect_missing protobuf-c-compiler PROTOC_C=/nonexistent/protoc-c
expect_missing python3-capstone PYTHON=/nonexistent/python3 all
expect_missing python3 PYTHON=/nonexistent/python3 criu
[ "$(uname -m)" = x86_64 ] && {
	expect_missing gcc-aarch64-linux-gnu ARCH=aarch64 CROSS_COMPILE=/nonexistent/aarch64-
	expect_missing binutils-s390x-linux-gnu ARCH=s390x CROSS_COMPILE=/nonexistent/s390x- \
		install
}
# A compiler that cannot find the library headers: the -dev packages.
mkdir -p inc && printf '#error no headers here\n' >inc/stdio.h
printf '#!/bin/sh\nexec gcc -I%s "$@"\n' "$PWD/inc" >cc-nolibc && chmod +x cc-nolibc
expect_missing libc6-dev CC="$PWD/cc-nolibc"

# Everything present: nothing named, and the build goes on.
out=$(cd "$TOP" && CC=gcc LD=ld OBJCOPY=objcopy PYTHON=/usr/bin/python3 PROTOC_C=protoc-c \
	STATIC= TRIPLET=x86_64-linux-gnu DEBARCH=amd64 CROSS=0 gen/check-build-deps.sh)
[ -z "$out" ] || fail "all present, yet reported: $out"
make -C "$TOP" --no-print-directory -n all >out.txt 2>&1 || { cat out.txt; fail "make -n all"; }
ok "nothing missing here"
