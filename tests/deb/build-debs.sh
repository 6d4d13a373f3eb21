#!/bin/bash
# make deb: builds the Debian packages (criu, libcriu2, libcriu-dev) for
# amd64, arm64, ppc64el and s390x from a clean copy of the tree into
# build/deb/, and checks each: its file list (tests/deb/*.list), the
# architecture of every binary by its ELF header, lintian with no error; the
# amd64 packages are then installed on this machine (dpkg -i), the
# autopkgtest scripts of debian/tests run against them, and they are purged.
#
#   tests/deb/build-debs.sh                 everything
#   tests/deb/build-debs.sh --have-tools    exit 0 when the tools are there
#   DEB_ARCHS="amd64 s390x" tests/deb/build-debs.sh
#
# Native builds run the unit tests (dh_auto_test); cross builds are
# -Pcross,nocheck.  Logs: build/deb/<arch>.log, lintian's in build/deb/lintian-<arch>.txt.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build/deb
tools="dpkg-buildpackage:dpkg-dev dh:debhelper fakeroot:fakeroot lintian:lintian"

missing_tools() {
	local t m=""
	for t in $tools; do
		command -v "${t%%:*}" >/dev/null 2>&1 || m="$m ${t#*:}"
	done
	echo "${m# }"
}
if [ "${1:-}" = --have-tools ]; then
	[ -z "$(missing_tools)" ]
	exit
fi
m=$(missing_tools)
if [ -n "$m" ]; then
	echo "make deb: missing packaging tools (Debian packages): $m; run \`make deps\` as root to install them" >&2
	exit 1
fi

native=$(dpkg --print-architecture)
archs=${DEB_ARCHS:-amd64 arm64 ppc64el s390x}
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
make_version=$(make -C "$top" -s --no-print-directory print-version)
[ "$version" = "$make_version" ] || {
	echo "make deb: debian/changelog says $version, the Makefile's VERSION $make_version" >&2
	exit 1
}
multiarch() { dpkg-architecture -a"$1" -qDEB_HOST_MULTIARCH 2>/dev/null; }
failures=0
fail() { echo "make deb: $*" >&2; failures=$((failures + 1)); }

# The source tree as git has it (tracked and new files), or without build/.
copy_tree() {
	mkdir -p "$1"
	if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$top" && git ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
			tar --null -T - -cf -) | tar -C "$1" -xf -
	else
		tar -C "$top" --exclude=./build --exclude=./criu -cf - . | tar -C "$1" -xf -
	fi
}

build_arch() {
	local arch=$1 work=$out/work/$1 log=$out/$1.log
	rm -rf "$work" && copy_tree "$work/criu-$version" || return 1
	echo "== $arch: dpkg-buildpackage (log: build/deb/$arch.log)"
	if [ "$arch" = "$native" ]; then
		(cd "$work/criu-$version" && DEB_BUILD_OPTIONS="parallel=2 ${DEB_BUILD_OPTIONS:-}" \
			dpkg-buildpackage -us -uc -b) >"$log" 2>&1
	else
		(cd "$work/criu-$version" && DEB_BUILD_OPTIONS="parallel=2 nocheck ${DEB_BUILD_OPTIONS:-}" \
			dpkg-buildpackage -a "$arch" -Pcross,nocheck -us -uc -b) >"$log" 2>&1
	fi || { tail -n 40 "$log"; return 1; }
	grep -E '^unit\[' "$log" | tail -n 1
	mv "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes "$out/" || return 1
	rm -rf "$work"
}

check_arch() {
	local arch=$1 pkg deb ma x
	ma=$(multiarch "$arch")
	for pkg in criu libcriu2 libcriu-dev; do
		deb=$out/${pkg}_${version}_$arch.deb
		[ -f "$deb" ] || { fail "$arch: no $(basename "$deb")"; continue; }
		[ "$(dpkg-deb -f "$deb" Architecture)" = "$arch" ] || fail "$deb: Architecture field"
		dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||' | grep -v '^$' |
			sort >"$out/$pkg-$arch.files"
		sed "s|@MULTIARCH@|$ma|g" "$top/tests/deb/$pkg.list" | sort >"$out/$pkg-$arch.want"
		diff -u "$out/$pkg-$arch.want" "$out/$pkg-$arch.files" ||
			fail "$arch: $pkg's files differ from tests/deb/$pkg.list"
		x=$(mktemp -d "$out/x.XXXXXX")
		dpkg-deb -x "$deb" "$x"
		python3 "$top/tests/deb/check-elf.py" "$arch" "$x" >"$out/$pkg-$arch.elf" ||
			{ cat "$out/$pkg-$arch.elf"; fail "$arch: $pkg has binaries of another architecture"; }
		rm -rf "$x" "$out/$pkg-$arch.want"
	done
	echo "== $arch: file lists and ELF architectures checked"
	lintian --fail-on error --tag-display-limit 0 "$out"/*_"${version}_$arch.deb" \
		>"$out/lintian-$arch.txt" 2>&1 || { cat "$out/lintian-$arch.txt"; fail "$arch: lintian errors"; }
	echo "== $arch: lintian: $(grep -c '^E:' "$out/lintian-$arch.txt") errors," \
		"$(grep -c '^W:' "$out/lintian-$arch.txt") warnings (build/deb/lintian-$arch.txt)"
}

# dpkg may be busy with another install on this machine: wait for it.
dpkg_retry() {
	local i
	for i in $(seq 30); do
		"$@" >>"$out/install.log" 2>&1 && return 0
		grep -q 'lock' "$out/install.log" || return 1
		sleep 10
	done
	return 1
}

installed_version() { dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null | sed -n 's/^install ok installed //p'; }

smoke_test() {
	local p v t
	for p in criu libcriu2 libcriu-dev; do
		v=$(installed_version "$p")
		if [ -n "$v" ] && [ "$v" != "$version" ]; then
			fail "amd64: $p $v is installed here; not replacing it (remove it to run the smoke test)"
			return
		fi
	done
	: >"$out/install.log"
	echo "== $native: dpkg -i, debian/tests, dpkg --purge"
	trap 'dpkg --purge libcriu-dev libcriu2 criu >>"$out/install.log" 2>&1' EXIT
	dpkg_retry dpkg -i "$out"/{criu,libcriu2,libcriu-dev}_"${version}_$native.deb" ||
		{ cat "$out/install.log"; fail "dpkg -i"; return; }
	[ "$(command -v criu)" = /usr/sbin/criu ] || fail "criu is not /usr/sbin/criu once installed"
	for t in criu-check dump-restore libcriu-version; do
		if (cd / && timeout 300 "$top/debian/tests/$t") >"$out/autopkgtest-$t.log" 2>&1; then
			echo "PASS debian/tests/$t: $(tail -n 1 "$out/autopkgtest-$t.log")"
		else
			cat "$out/autopkgtest-$t.log"
			fail "debian/tests/$t failed against the installed packages"
		fi
	done
	dpkg_retry dpkg --purge libcriu-dev libcriu2 criu || fail "dpkg --purge"
	trap - EXIT
	for p in criu libcriu2 libcriu-dev; do
		[ -z "$(installed_version "$p")" ] || fail "$p still installed after purge"
	done
	[ ! -e /usr/sbin/criu ] || fail "/usr/sbin/criu left after purge"
}

mkdir -p "$out"
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
for arch in $archs; do
	if build_arch "$arch"; then
		check_arch "$arch"
	else
		fail "$arch: dpkg-buildpackage failed"
	fi
done
case " $archs " in
*" $native "*) [ -f "$out/criu_${version}_$native.deb" ] && smoke_test ;;
esac
rm -rf "$out/work"
if [ $failures = 0 ]; then
	echo "make deb: $(ls "$out"/*.deb | wc -l) packages in build/deb/ for $archs: all checks passed"
else
	echo "make deb: $failures checks failed"
	exit 1
fi
