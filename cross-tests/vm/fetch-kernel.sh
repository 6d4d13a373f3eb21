#!/bin/bash
# fetch-kernel.sh ARCH: prints the path of Debian 12's current kernel image
# for ARCH (aarch64, ppc64le, s390x, x86_64), ready for qemu-system -kernel.
#
# The package is found through the architecture's metapackage (never a
# hard-coded version), fetched with `apt-get download` and unpacked with
# dpkg-deb -x into $VM_CACHE (default build/vm/cache), where it is reused by
# later runs.  The modules are next to the image, in ../lib/modules/<release>.  When apt cannot answer (no network, stale lists), the newest
# kernel already in the cache is used, with a warning.
#
# Foreign architectures must be known to dpkg (`make deps` adds them).
# Diagnostics go to stderr; stdout is only the path.
set -u
cd "$(dirname "$0")/../.." || exit 1

arch=${1:-}
case "$arch" in
aarch64) debarch=arm64 meta=linux-image-arm64 image=vmlinuz ;;
ppc64le) debarch=ppc64el meta=linux-image-powerpc64le image=vmlinux ;;
s390x) debarch=s390x meta=linux-image-s390x image=vmlinuz ;;
x86_64) debarch=amd64 meta=linux-image-amd64 image=vmlinuz ;;
*)
	echo "usage: $0 aarch64|ppc64le|s390x|x86_64" >&2
	exit 2
	;;
esac

cache=${VM_CACHE:-build/vm/cache}/$arch
mkdir -p "$cache" || exit 1
cache=$(cd "$cache" && pwd)

say() { echo "fetch-kernel[$arch]: $*" >&2; }

# The kernel image inside an unpacked package directory.
image_in() {
	local f

	for f in "$1"/boot/$image-*; do
		[ -f "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}

# The newest unpacked kernel in the cache, for when apt cannot help.
fallback() {
	local newest

	newest=$(ls -d "$cache"/*/.unpacked 2>/dev/null | sort -V | tail -n 1)
	newest=${newest%/.unpacked}
	if [ -n "$newest" ] && image_in "$newest" >/dev/null; then
		say "warning: $1; using the cached $(basename "$newest")"
		image_in "$newest"
		exit 0
	fi
	say "$1, and nothing usable in $cache"
	exit 1
}

# linux-image-arm64:arm64 -> linux-image-6.1.0-NN-arm64
pkg=$(apt-cache depends "$meta:$debarch" 2>/dev/null |
	sed -nE 's/^ *Depends: <?(linux-image-[^ :>]+)(:[a-z0-9]+)?>?$/\1/p' | head -n 1)
[ -n "$pkg" ] || fallback "apt-cache depends $meta:$debarch names no kernel package (is $debarch a dpkg architecture? make deps adds it)"
version=$(apt-cache policy "$pkg:$debarch" 2>/dev/null | sed -nE 's/^ *Candidate: (.*)$/\1/p')
[ -n "$version" ] && [ "$version" != "(none)" ] ||
	fallback "apt-cache policy $pkg:$debarch gives no candidate version"

dir=$cache/${pkg}_${version//:/%3a}
if [ -f "$dir/.unpacked" ] && image_in "$dir"; then
	exit 0
fi

# Serialises concurrent runs for the same architecture.
exec 9>"$cache/.lock"
timeout 600 flock 9 || fallback "waiting for $cache/.lock timed out"
if [ -f "$dir/.unpacked" ] && image_in "$dir"; then
	exit 0
fi

tmp=$(mktemp -d "$cache/.fetch.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
# _apt must be able to write there, or apt downloads unsandboxed and warns.
chmod 0777 "$tmp"
say "downloading $pkg $version ($debarch)"
if ! (cd "$tmp" && timeout 600 apt-get download -q "$pkg:$debarch=$version") >"$tmp/apt.log" 2>&1; then
	sed 's/^/    /' "$tmp/apt.log" >&2
	fallback "apt-get download $pkg:$debarch=$version failed"
fi
deb=$(ls "$tmp"/*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || fallback "apt-get download left no .deb in $tmp"
rm -rf "$dir"
mkdir -p "$dir" || exit 1
# The whole package is kept: run-vm.sh takes modules from lib/modules/.
if ! dpkg-deb -x "$deb" "$dir" 2>"$tmp/dpkg.log"; then
	sed 's/^/    /' "$tmp/dpkg.log" >&2
	rm -rf "$dir"
	fallback "dpkg-deb -x $(basename "$deb") failed"
fi
if ! image_in "$dir" >/dev/null; then
	rm -rf "$dir"
	fallback "$(basename "$deb") has no boot/$image-*"
fi
touch "$dir/.unpacked"
image_in "$dir"
