# make install into a DESTDIR with every directory variable set (a
# multiarch LIBDIR): criu, criu(8), the completion, libcriu's file, soname
# and -dev links, header, static library and pkg-config file; a program
# built through pkg-config against the installed files links and loads
# libcriu; make uninstall removes exactly what install put, and nothing else.
. "$TOP/tests/packaging/lib.sh"
d=$SCRATCH/root
triplet=$(gcc -dumpmachine)
vars=(PREFIX=/usr SBINDIR=/usr/sbin LIBDIR=/usr/lib/$triplet INCLUDEDIR=/usr/include
	MANDIR=/usr/share/man)
# Someone else's files in the same folders stay.
mkdir -p "$d/usr/lib/$triplet" "$d/usr/include" && touch "$d/usr/lib/$triplet/libother.so.1" \
	"$d/usr/include/other.h"
make -C "$TOP" --no-print-directory install DESTDIR="$d" "${vars[@]}" >install.log 2>&1 ||
	{ cat install.log; fail "make install"; }

(cd "$d" && find . \( -type f -o -type l \) | sort) >got.txt
cat >want.txt <<EOT
./usr/include/criu/criu.h
./usr/include/criu/rpc.pb-c.h
./usr/include/criu/rpc.proto
./usr/include/criu/version.h
./usr/include/other.h
./usr/lib/$triplet/libcriu.a
./usr/lib/$triplet/libcriu.so
./usr/lib/$triplet/libcriu.so.2
./usr/lib/$triplet/libcriu.so.2.0
./usr/lib/$triplet/libother.so.1
./usr/lib/$triplet/pkgconfig/criu.pc
./usr/sbin/criu
./usr/share/bash-completion/completions/criu
./usr/share/man/man8/criu.8
EOT
diff want.txt got.txt || fail "installed files differ from the expected list"
lib=$d/usr/lib/$triplet
[ "$(readlink "$lib/libcriu.so.2")" = libcriu.so.2.0 ] || fail "libcriu.so.2 -> $(readlink "$lib/libcriu.so.2")"
[ "$(readlink "$lib/libcriu.so")" = libcriu.so.2 ] || fail "libcriu.so -> $(readlink "$lib/libcriu.so")"
readelf -d "$lib/libcriu.so.2.0" | grep -q 'SONAME.*\[libcriu.so.2\]' || fail "soname is not libcriu.so.2"
[ -x "$d/usr/sbin/criu" ] && [ ! -x "$lib/libcriu.so.2.0" ] || fail "modes: criu 0755, the library 0644"
"$d/usr/sbin/criu" --version | grep -qx "Version: $(make -C "$TOP" -s --no-print-directory print-version)" ||
	fail "installed criu --version"
grep -qx "libdir=/usr/lib/$triplet" "$lib/pkgconfig/criu.pc" || fail "criu.pc libdir"
grep -qx "includedir=/usr/include" "$lib/pkgconfig/criu.pc" || fail "criu.pc includedir"
ok "install: the files, links, soname, modes and criu.pc"

# A libcriu client built only from the installed files.
cat >client.c <<'EOC'
#include <criu.h>
#include <stdio.h>
int main(void)
{
	if (criu_init_opts() < 0)
		return 1;
	criu_set_service_binary("/nonexistent/criu");
	criu_free_opts();
	puts("libcriu client ok");
	return 0;
}
EOC
export PKG_CONFIG_SYSROOT_DIR=$d PKG_CONFIG_PATH=$lib/pkgconfig
flags=$(pkg-config --cflags --libs criu) || fail "pkg-config criu"
gcc -o client client.c $flags || fail "building a client with: $flags"
LD_LIBRARY_PATH=$lib ./client | grep -q 'libcriu client ok' || fail "the client does not run"
LD_LIBRARY_PATH=$lib ldd ./client | grep -q "libcriu.so.2 => $lib/libcriu.so.2 " ||
	fail "the client does not load the installed libcriu.so.2"
gcc -static -o client-static client.c $(pkg-config --static --cflags criu) "$lib/libcriu.a" \
	-lprotobuf-c || fail "linking the static library"
./client-static | grep -q 'libcriu client ok' || fail "the static client does not run"
ok "a client built through pkg-config links (shared and static) and runs"

# Twice is fine; uninstall leaves only what was there before.
make -C "$TOP" --no-print-directory install DESTDIR="$d" "${vars[@]}" >>install.log 2>&1 ||
	fail "second make install"
make -C "$TOP" --no-print-directory uninstall DESTDIR="$d" "${vars[@]}" >uninstall.log 2>&1 ||
	{ cat uninstall.log; fail "make uninstall"; }
(cd "$d" && find . \( -type f -o -type l \) | sort) >left.txt
printf '%s\n' ./usr/include/other.h "./usr/lib/$triplet/libother.so.1" >want.txt
diff want.txt left.txt || fail "uninstall left or removed the wrong files"
[ -e "$d/usr/include/criu" ] && fail "uninstall left include/criu"
ok "uninstall removes exactly what install put"

# The defaults: PREFIX=/usr/local, LIBDIR PREFIX/lib; PREFIX alone moves all.
make -C "$TOP" --no-print-directory install DESTDIR="$d" PREFIX=/opt/criu >>install.log 2>&1 ||
	fail "make install PREFIX=/opt/criu"
for f in sbin/criu lib/libcriu.so.2.0 lib/pkgconfig/criu.pc include/criu/criu.h \
	include/criu/version.h include/criu/rpc.pb-c.h \
	share/man/man8/criu.8 share/bash-completion/completions/criu; do
	[ -e "$d/opt/criu/$f" ] || fail "PREFIX=/opt/criu: no $f"
done
make -C "$TOP" --no-print-directory uninstall DESTDIR="$d" PREFIX=/opt/criu >>install.log 2>&1
[ -z "$(find "$d/opt" \( -type f -o -type l \))" ] || fail "uninstall PREFIX=/opt/criu left files"
ok "PREFIX alone"
