#!/bin/sh
# Writes debian/libcriu2.symbols from a built libcriu: every exported
# symbol with its symbol version (@Base when unversioned), at the version in
# debian/changelog.
# Rerun it whenever libcriu gains functions (lib/c/criu.h), then set the
# version of each new line to the first release that has it:
#
#   make && debian/gen-symbols.sh build/$(uname -m)/libcriu.so.2.0
#
# make deb fails while the file does not match the built library
# (dpkg-gensymbols -c4 in debian/rules).
set -eu
so=${1:?usage: debian/gen-symbols.sh path/to/libcriu.so.2.0}
here=$(dirname "$0")
out=${2:-$here/libcriu2.symbols}
version=$(dpkg-parsechangelog -l "$here/changelog" -S Version 2>/dev/null ||
	sed -n '1s/.*(\(.*\)).*/\1/p' "$here/changelog")
soname=$(readelf -d "$so" | sed -n 's/.*SONAME.*\[\(.*\)\].*/\1/p')
[ -n "$soname" ] || { echo "gen-symbols: $so has no SONAME" >&2; exit 1; }
# Keep each line's existing minimum version: only new symbols get $version.
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{
	echo "$soname libcriu2 #MINVER#"
	echo "* Build-Depends-Package: libcriu-dev"
	# "criu_init_opts@@CRIU_2" from nm: the default version of a defined symbol
	nm -D --defined-only --with-symbol-versions "$so" |
		awk '$2 == "A" { print $3 "@" $3; next } $2 ~ /^[TWDBRVi]$/ { print $3 }' |
		sed 's/@@*/@/; /@/!s/$/@Base/' | sort -u |
		while read -r sym; do
			old=$(grep -F " $sym " "$out" 2>/dev/null | awk '{ print $2 }' | head -n 1 || true)
			echo " $sym ${old:-$version}"
		done
} >"$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "gen-symbols: $(grep -c '^ ' "$out") symbols of $soname in $out"
