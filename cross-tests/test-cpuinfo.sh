#!/bin/bash
# `criu cpuinfo dump` and `criu cpuinfo check` between a poorer and a richer
# CPU model of each architecture, under qemu-user.  Run by `make cross-test`
# from the top of the tree (HOST_ARCH in the environment).
#
# For each architecture: a dump on the richer CPU fails its check on the
# poorer one under cpu, fpu and ins, naming a missing feature, and passes
# under none; a dump on the poorer CPU passes on the richer one under ins
# and fpu and fails under cpu, naming what the richer CPU adds.  Also: bad
# --cpu-cap values and a missing image are errors (exit 2), and an image of
# another architecture is refused naming both.
#
# CPUINFO_BUILD_DIR (default build) holds <arch>/criu; CPUINFO_NO_MAKE=1
# uses the binaries there as they are instead of running make first.
set -u
cd "$(dirname "$0")/.." || exit 1

HOST_ARCH=${HOST_ARCH:-$(uname -m)}
BUILD_DIR=${CPUINFO_BUILD_DIR:-build}
TIMEOUT=${CPUINFO_TIMEOUT:-120}

# arch | qemu | poorer model | richer model | an ins feature | an fpu feature
# The richer model has both features, the poorer one neither.  s390x: this
# qemu's z13 and later models want crypto functions TCG lacks, so the poorer
# CPU is "max" without the vector facilities.
MODELS="
x86_64|qemu-x86_64-static|Nehalem|max|avx2|xsave.avx
aarch64|qemu-aarch64-static|cortex-a53|max|sve|sve
ppc64le|qemu-ppc64le-static|power8|power10|arch_3_1|mma
s390x|qemu-s390x-static|max,vx=off,vxeh=off,vxeh2=off|max|vxeh2|vx
"

passed=0
failed=0
tmp=$(mktemp -d /tmp/criu-cpuinfo.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

pass() {
	passed=$((passed + 1))
	echo "PASS $*"
}

fail() {
	failed=$((failed + 1))
	echo "FAIL $*"
}

# Builds criu for an architecture (the host's dynamic, the others static).
build_criu() {
	local arch=$1 log=$tmp/build-$1.log

	[ "${CPUINFO_NO_MAKE:-0}" = 1 ] && return 0
	if [ "$arch" = "$HOST_ARCH" ]; then
		make --no-print-directory criu >"$log" 2>&1
	else
		make --no-print-directory ARCH="$arch" criu >"$log" 2>&1
	fi || {
		tail -n 20 "$log"
		return 1
	}
}

# run ARCH QEMU MODEL OUT ARGS...: criu under qemu with that CPU; prints the exit code.
run() {
	local arch=$1 qemu=$2 model=$3 out=$4

	shift 4
	timeout "$TIMEOUT" "$qemu" -cpu "$model" "$BUILD_DIR/$arch/criu" "$@" >"$out" 2>&1
	echo $?
}

# expect WHAT RC WANT_RC OUT [PATTERN]: checks an exit code and, if given, a fixed string in the output.
expect() {
	local what=$1 rc=$2 want=$3 out=$4 pattern=${5:-}

	if [ "$rc" != "$want" ]; then
		fail "$what: exit $rc, expected $want"
		sed 's/^/    /' "$out" | tail -n 15
	elif [ -n "$pattern" ] && ! grep -qF -- "$pattern" "$out"; then
		fail "$what: no \"$pattern\" in the output"
		sed 's/^/    /' "$out" | tail -n 15
	else
		pass "$what${pattern:+ ($pattern)}"
	fi
}

# The checks of one architecture.  Images go to $tmp/<arch>-rich and -poor.
test_arch() {
	local arch=$1 qemu=$2 poor=$3 rich=$4 ins=$5 fpu=$6
	local rd=$tmp/$arch-rich pd=$tmp/$arch-poor out=$tmp/$arch.out rc mode

	mkdir -p "$rd" "$pd" "$tmp/$arch-empty"
	rc=$(run "$arch" "$qemu" "$rich" "$out" cpuinfo dump -D "$rd")
	[ -s "$rd/cpuinfo.img" ] || rc="$rc (no cpuinfo.img)"
	expect "$arch: dump on $rich" "$rc" 0 "$out"
	rc=$(run "$arch" "$qemu" "$poor" "$out" cpuinfo dump -D "$pd")
	[ -s "$pd/cpuinfo.img" ] || rc="$rc (no cpuinfo.img)"
	expect "$arch: dump on $poor" "$rc" 0 "$out"

	rc=$(run "$arch" "$qemu" "$rich" "$out" cpuinfo check -D "$rd" --cpu-cap)
	expect "$arch: $rich image on $rich, --cpu-cap (all)" "$rc" 0 "$out" "compatible"

	# The richer CPU's image on the poorer CPU.
	rc=$(run "$arch" "$qemu" "$poor" "$out" cpuinfo check -D "$rd" --cpu-cap=cpu)
	expect "$arch: $rich image on $poor, cpu" "$rc" 1 "$out" "image needs $ins ("
	rc=$(run "$arch" "$qemu" "$poor" "$out" cpuinfo check -D "$rd" --cpu-cap=fpu)
	expect "$arch: $rich image on $poor, fpu" "$rc" 1 "$out" "image needs $fpu ("
	rc=$(run "$arch" "$qemu" "$poor" "$out" cpuinfo check -D "$rd" --cpu-cap=ins)
	expect "$arch: $rich image on $poor, ins" "$rc" 1 "$out" "image needs $ins ("
	rc=$(run "$arch" "$qemu" "$poor" "$out" cpuinfo check -D "$rd")
	expect "$arch: $rich image on $poor, default (fpu)" "$rc" 1 "$out" "image needs $fpu ("
	rc=$(run "$arch" "$qemu" "$poor" "$out" cpuinfo check -D "$rd" --cpu-cap=all,^cpu,^fpu)
	expect "$arch: $rich image on $poor, all,^cpu,^fpu" "$rc" 1 "$out" "--cpu-cap=ins"
	rc=$(run "$arch" "$qemu" "$poor" "$out" cpuinfo check -D "$rd" --cpu-cap=none)
	expect "$arch: $rich image on $poor, none" "$rc" 0 "$out"

	# The poorer CPU's image on the richer CPU.
	for mode in ins fpu fpu,ins; do
		rc=$(run "$arch" "$qemu" "$rich" "$out" cpuinfo check -D "$pd" --cpu-cap=$mode)
		expect "$arch: $poor image on $rich, $mode" "$rc" 0 "$out" "compatible"
	done
	rc=$(run "$arch" "$qemu" "$rich" "$out" cpuinfo check -D "$pd" --cpu-cap=cpu)
	expect "$arch: $poor image on $rich, cpu" "$rc" 1 "$out" "this CPU has $ins ("

	# Errors.
	rc=$(run "$arch" "$qemu" "$rich" "$out" cpuinfo check -D "$rd" --cpu-cap=fpu,bogus)
	expect "$arch: --cpu-cap=fpu,bogus" "$rc" 2 "$out" "bogus"
	rc=$(run "$arch" "$qemu" "$rich" "$out" cpuinfo check -D "$tmp/$arch-empty")
	expect "$arch: no cpuinfo.img" "$rc" 2 "$out" "no cpuinfo.img"
}

# An image of the previous architecture in the list, checked here.
test_other_arch() {
	local arch=$1 qemu=$2 rich=$3 other=$4 out=$tmp/$1.out rc

	[ -s "$tmp/$other-rich/cpuinfo.img" ] || return 0
	rc=$(run "$arch" "$qemu" "$rich" "$out" cpuinfo check -D "$tmp/$other-rich" --cpu-cap=none)
	expect "$arch: $other image" "$rc" 1 "$out" "dumped on $other and this is $arch"
}

built=""
prev=""
while IFS='|' read -r arch qemu poor rich ins fpu; do
	[ -n "$arch" ] || continue
	echo "== cpuinfo: $arch ($poor against $rich)"
	if ! command -v "$qemu" >/dev/null; then
		fail "$arch: $qemu is not installed (make deps)"
		continue
	fi
	if ! build_criu "$arch" || [ ! -x "$BUILD_DIR/$arch/criu" ]; then
		fail "$arch: could not build $BUILD_DIR/$arch/criu"
		continue
	fi
	built="$built $arch"
	test_arch "$arch" "$qemu" "$poor" "$rich" "$ins" "$fpu"
	[ -n "$prev" ] && test_other_arch "$arch" "$qemu" "$rich" "$prev"
	prev=$arch
done <<<"$MODELS"

# The first architecture checks the last one's image.
first=${built# }
first=${first%% *}
if [ -n "$first" ] && [ "$first" != "$prev" ]; then
	line=$(grep "^$first|" <<<"$MODELS")
	IFS='|' read -r arch qemu poor rich ins fpu <<<"$line"
	test_other_arch "$arch" "$qemu" "$rich" "$prev"
fi

echo "cpuinfo: $passed passed, $failed failed"
[ "$failed" = 0 ]
