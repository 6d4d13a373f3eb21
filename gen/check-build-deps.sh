#!/bin/sh
# Prints the Debian packages that building criu for one architecture needs
# and that are missing here, on one line; prints nothing when all are there.
# Probes the tools and headers themselves (no apt, no network), so it also
# works where dpkg-query knows nothing of what is installed.
# Environment: CC LD OBJCOPY PYTHON PROTOC_C STATIC, TRIPLET (gcc's
# triplet), DEBARCH (the Debian architecture of the build), CROSS (1 when
# DEBARCH is not this machine's).
set -u
missing=""
need() { case " $missing " in *" $1 "*) ;; *) missing="$missing $1" ;; esac; }
# A -dev package of the target architecture: name:arch when cross-building.
dev() { if [ "$CROSS" = 1 ]; then echo "$1:$DEBARCH"; else echo "$1"; fi; }
tool() { command -v "${1%% *}" >/dev/null 2>&1; }

if [ "$CROSS" = 1 ]; then
	tool "$CC" || need "gcc-$TRIPLET"
	tool "$LD" && tool "$OBJCOPY" || need "binutils-$TRIPLET"
	libc="libc6-dev-$DEBARCH-cross"
else
	tool "$CC" || need gcc
	tool "$LD" && tool "$OBJCOPY" || need binutils
	libc=libc6-dev
fi
tool "$PROTOC_C" || need protobuf-c-compiler
if tool "$PYTHON"; then
	"$PYTHON" -c 'import importlib.util as u, sys; sys.exit(u.find_spec("capstone") is None)' 2>/dev/null || need python3-capstone
else
	need python3
	need python3-capstone
fi

if tool "$CC"; then
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/criu-deps.XXXXXX") || exit 1
	trap 'rm -rf "$tmp"' EXIT
	probe() { # header, link flags
		printf '#include <%s>\nint main(void) { return 0; }\n' "$1" >"$tmp/p.c"
		$CC $STATIC -o "$tmp/p" "$tmp/p.c" $2 >/dev/null 2>&1
	}
	if ! probe stdio.h ""; then
		need "$libc"
	else
		probe protobuf-c/protobuf-c.h -lprotobuf-c || need "$(dev libprotobuf-c-dev)"
		probe stdio.h -lcap || need "$(dev libcap-dev)"
	fi
fi
[ -n "$missing" ] && echo "${missing# }"
exit 0
