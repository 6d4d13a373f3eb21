#!/bin/bash
# run-vm.sh ARCH TESTLIST FILE...: boots Debian 12's kernel for ARCH under
# qemu-system (TCG) with an initramfs holding the static /init
# (cross-tests/vm/init.c), the FILEs and TESTLIST as /tests.list, and reports
# the verdicts the guest prints.
#
#   ARCH       aarch64, ppc64le, s390x or x86_64
#   TESTLIST   the tests, in the format described at the top of init.c
#   FILE       a file or directory, placed at /<its name> in the guest;
#              SRC=/DEST places it at /DEST.  Guest programs must be static.
#
# Environment:
#   VM_INIT     the static /init for ARCH (default build/vm/ARCH/init, which
#               `make build/vm/ARCH/init` builds)
#   VM_TIMEOUT  seconds for the whole boot, tests and power-off (default 600)
#   VM_SMP, VM_MEM  guest CPUs and memory in MiB (default 2 and 1024)
#   VM_ACCEL    qemu's -accel (default tcg,thread=single, see below)
#   VM_APPEND   more kernel command line
#   VM_MODULES  kernel modules to load before the tests (default: the
#               sock_diag families criu dumps sockets with, tun and veth)
#   VM_DIR      where the console log and the staging go (default build/vm,
#               relative to the top of the tree)
#   VM_FAIL_LINES  lines of a failed test's output shown (default 60; its
#               "PASS ..." lines are left out, e.g. cr-run's passed variants)
#   VERBOSE=1   also show the whole console
#
# The console goes to $VM_DIR/ARCH.log.  Prints one line per failed test
# with its output, then "vm[ARCH]: N passed, N failed (boot+tests T s)";
# exits non-zero on any failure, including a guest that never printed
# VM-DONE (hang, kernel panic, crash of /init), which names the test that
# was running.
set -u
caller=$(pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
# Paths given relative to where we were called from.
abs() { case "$1" in /*) echo "$1" ;; *) echo "$caller/$1" ;; esac; }

if [ $# -lt 2 ]; then
	echo "usage: $0 ARCH TESTLIST [FILE|SRC=/DEST]..." >&2
	exit 2
fi
arch=$1 list=$(abs "$2")
shift 2

smp=${VM_SMP:-2}
mem=${VM_MEM:-1024}
append="panic=-1 quiet${VM_APPEND:+ $VM_APPEND}"
case "$arch" in
aarch64)
	qemu=(qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on)
	append="console=ttyAMA0 $append"
	;;
ppc64le)
	qemu=(qemu-system-ppc64
		-M pseries,x-vof=on,cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,cap-ccf-assist=off)
	append="console=hvc0 $append"
	;;
s390x)
	qemu=(qemu-system-s390x -M s390-ccw-virtio -cpu max)
	append="console=ttysclp0 $append"
	;;
x86_64)
	qemu=(qemu-system-x86_64 -M q35 -cpu max)
	append="console=ttyS0 $append"
	;;
*)
	echo "vm[$arch]: unknown architecture (aarch64, ppc64le, s390x, x86_64)" >&2
	exit 2
	;;
esac

vm_dir=${VM_DIR:-build/vm}
log=$vm_dir/$arch.log
init=${VM_INIT:+$(abs "$VM_INIT")}
init=${init:-$vm_dir/$arch/init}
timeout_s=${VM_TIMEOUT:-600}
modules=${VM_MODULES-unix_diag tcp_diag udp_diag af_packet_diag netlink_diag tun veth}
# One host thread runs all vCPUs (round-robin TCG).  With multi-threaded
# TCG (qemu 7.2), waking a task on an idle vCPU takes until the guest's next
# timer tick: a socketpair ping-pong between two processes measured 1.4 to
# 4.3 ms per round trip on all four guests with -smp 2, against 0.05 to 0.4
# ms here; it also leaves the second host core to a second VM (vm.mk's
# VM_JOBS).  Code spinning on both vCPUs is slower this way (round-robin
# slices of 0.1 s).
accel=${VM_ACCEL:-tcg,thread=single}

fail() {
	echo "vm[$arch]: $*"
	echo "vm[$arch]: 0 passed, 1 failed"
	exit 1
}

command -v "${qemu[0]}" >/dev/null || fail "${qemu[0]} is not installed (make deps)"
command -v cpio >/dev/null || fail "cpio is not installed (make deps)"
[ -f "$list" ] || fail "no test list $list"
[ -x "$init" ] || fail "no /init at $init (make $vm_dir/$arch/init)"
kernel=$(cross-tests/vm/fetch-kernel.sh "$arch") && [ -f "$kernel" ] ||
	fail "no kernel (cross-tests/vm/fetch-kernel.sh $arch failed)"

mkdir -p "$vm_dir" || exit 1
stage=$(mktemp -d "$vm_dir/.$arch.XXXXXX") || exit 1
trap 'rm -rf "$stage"' EXIT
trap 'exit 130' INT TERM

# ---- the initramfs ----------------------------------------------------------
root=$stage/root
mkdir -p "$root" || exit 1
cp "$init" "$root/init" && cp "$list" "$root/tests.list" || fail "cannot stage /init and the list"
for f in "$@"; do
	src=${f%%=*}
	dest=/$(basename "$src")
	[ "$src" != "$f" ] && dest=${f#*=}
	src=$(abs "$src")
	[ -e "$src" ] || fail "no file $src to put at $dest"
	mkdir -p "$root$(dirname "$dest")" && cp -a "$src" "$root$dest" ||
		fail "cannot stage $src at $dest"
done
# Modules, dependencies first, as /modules/NN-name.ko: /init loads them in
# that order.  Debian builds the sock_diag families as modules.
modules_dir=$(ls -d "$(dirname "$kernel")"/../lib/modules/*/ 2>/dev/null | head -n 1)
staged=" "
nmod=0
stage_module() {
	local name=$1 file dep

	case "$staged" in *" $name "*) return 0 ;; esac
	file=$(find "$modules_dir" -name "$name.ko" 2>/dev/null | head -n 1)
	[ -n "$file" ] || fail "no module $name.ko in $modules_dir"
	for dep in $(tr '\0' '\n' <"$file" | sed -n 's/^depends=//p' | tr ',' ' '); do
		stage_module "$dep"
	done
	mkdir -p "$root/modules"
	cp "$file" "$root/modules/$(printf '%02d' $nmod)-$name.ko" || fail "cannot stage $file"
	nmod=$((nmod + 1))
	staged="$staged$name "
}
for m in $modules; do
	[ -n "$modules_dir" ] || fail "no lib/modules next to $kernel"
	stage_module "$m"
done

initrd=$stage/initramfs.cpio.gz
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
	gzip -1 >"$initrd" || fail "cannot pack the initramfs"

# ---- boot -------------------------------------------------------------------
start=$(date +%s%N)
timeout -k 10 "$timeout_s" "${qemu[@]}" -accel "$accel" -m "$mem" -smp "$smp" \
	-nographic -no-reboot -nic none \
	-kernel "$kernel" -initrd "$initrd" -append "$append" \
	</dev/null >"$log" 2>&1 &
qpid=$!
if [ "${VERBOSE:-0}" = 1 ]; then
	timeout -k 5 $((timeout_s + 20)) tail -n +1 --pid=$qpid -f "$log" &
fi
wait $qpid
qrc=$?
ms=$((($(date +%s%N) - start) / 1000000))
secs=$((ms / 1000)).$((ms % 1000 / 100))
wait 2>/dev/null

# ---- verdicts ---------------------------------------------------------------
# The console has CRLF line ends and may carry kernel messages; the markers
# are searched anywhere in a line.
clean=$stage/console
tr -d '\r' <"$log" >"$clean"
passed=0
failed=0
while read -r name verdict rest; do
	[ -n "$name" ] || continue
	if [ "$verdict" = PASS ]; then
		passed=$((passed + 1))
		[ "${VERBOSE:-0}" = 1 ] && echo "vm[$arch]: PASS $name $rest"
	else
		failed=$((failed + 1))
		echo "vm[$arch]: FAIL $name $rest"
		grep -F "[$name] " "$clean" | grep -vF "[$name] PASS " |
			tail -n "${VM_FAIL_LINES:-60}" | sed 's/^/    /'
	fi
done < <(sed -nE "s/.*VM-RESULT [^ ]+ ([^ ]+) (PASS|FAIL) (.*)$/\1 \2 \3/p" "$clean")

want=$(grep -cvE '^[[:space:]]*(#|@|$)' "$list")
if ! grep -q "VM-DONE " "$clean"; then
	last=$(sed -nE "s/.*VM-START [^ ]+ ([^ ]+).*/\1/p" "$clean" | tail -n 1)
	done_last=$(sed -nE "s/.*VM-RESULT [^ ]+ ([^ ]+) .*/\1/p" "$clean" | tail -n 1)
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		how="hung: no VM-DONE within ${timeout_s} s"
	elif grep -q "Kernel panic" "$clean"; then
		how="kernel panic: $(grep -m1 -o 'Kernel panic.*' "$clean")"
	else
		how="stopped without VM-DONE (qemu exit $qrc)"
	fi
	if ! grep -q "VM-INIT " "$clean"; then
		where="before /init started (kernel $(basename "$kernel"))"
	elif [ -n "$last" ] && [ "$last" != "$done_last" ]; then
		where="while running test $last"
	else
		where="between tests (last finished: ${done_last:-none})"
	fi
	failed=$((failed + 1))
	echo "vm[$arch]: FAIL the guest $how, $where; console log $log:"
	tail -n 30 "$clean" | sed 's/^/    /'
elif [ $((passed + failed)) -lt "$want" ]; then
	echo "vm[$arch]: FAIL only $((passed + failed)) verdicts for the $want tests of $list"
	failed=$((failed + 1))
fi

echo "vm[$arch]: $passed passed, $failed failed (boot+tests ${secs} s, $(basename "$kernel"))"
[ "$failed" = 0 ]
