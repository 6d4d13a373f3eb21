#!/bin/sh
# Installs the Debian packages the build and the tests need, only those that
# are missing; quiet and quick when everything is already there.
# Environment: HOST_PKGS, CROSS_PKGS (name:debarch), FOREIGN (debian archs).
set -u

missing=""
for p in $HOST_PKGS $CROSS_PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case "$st" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: these Debian packages are missing and only root can install them:$missing" >&2
	exit 1
fi
have=$(dpkg --print-foreign-architectures)
for a in $FOREIGN; do
	echo "$have" | grep -qx "$a" || dpkg --add-architecture "$a" || exit 1
done
# A mirror in the middle of a sync can fail one index; the others still help.
apt-get update -q || echo "deps: apt-get update reported errors; trying the install anyway" >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing || {
	echo "deps: apt-get install failed for:$missing" >&2
	exit 1
}
