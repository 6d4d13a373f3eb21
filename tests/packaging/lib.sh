# Helpers of tests/packaging/t-*.sh: TOP is the project root, SCRATCH the test's
# own folder (the current one), removed by run.sh.
set -u
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# Copies the source tree (what git tracks or would track, or everything but
# build/ without git) to $1.
copy_tree() {
	mkdir -p "$1"
	if git -C "$TOP" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$TOP" && git ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
			tar --null -T - -cf -) | tar -C "$1" -xf -
	else
		tar -C "$TOP" --exclude=./build --exclude=./criu -cf - . | tar -C "$1" -xf -
	fi
}
