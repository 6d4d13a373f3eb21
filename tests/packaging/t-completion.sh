# contrib/bash-completion/criu offers exactly the commands and long options
# of criu's tables (core/cli.c, read here from the source, independently of
# criu --help that the completion reads), and values by metavariable.
. "$TOP/tests/packaging/lib.sh"
[ -x "$TOP/criu" ] || fail "build criu first"
export PATH="$TOP:$PATH"

# The tables, from the source.
sed -n '/^static const struct cli_option options\[\] = {/,/^};/p' "$TOP/core/cli.c" |
	grep -oE '^\s*([A-Z]+\(|\{ )"[a-z0-9-]+"' | grep -oE '"[a-z0-9-]+"' | tr -d '"' | sed 's/^/--/' | sort -u >opts-src.txt
sed -n '/^static const struct cli_command commands\[\] = {/,/^};/p' "$TOP/core/cli.c" |
	grep -oE '\.name = "[a-z-]+"' | grep -oE '"[a-z-]+"' | tr -d '"' | sort -u >cmds-src.txt
[ "$(wc -l <opts-src.txt)" -gt 30 ] || fail "could not read the option table"
[ "$(wc -l <cmds-src.txt)" -gt 8 ] || fail "could not read the command table"

mkdir -p dir-a/dir-b && touch file-c
cat >complete.sh <<'EOF'
. "$TOP/contrib/bash-completion/criu"
complete -p criu | grep -q -- '-F _criu criu' || exit 1
# Prints the candidates for the command line in "$@" (the last word is the
# one being completed), one a line.
c() {
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	_criu
	printf '%s\n' "${COMPREPLY[@]}" | sort
}
"$@"
EOF
comp() { bash complete.sh c "$@"; }

comp criu "" >got.txt
diff cmds-src.txt got.txt || fail "commands offered differ from the command table"
comp criu dump -- >got.txt
diff opts-src.txt got.txt || fail "options offered differ from the option table"
[ "$(comp criu dump --leave-)" = "$(printf '%s\n' --leave-running --leave-stopped)" ] ||
	fail "--leave- does not give the two --leave options"
[ "$(comp criu d)" = "$(printf '%s\n' dedup dump)" ] || fail "d does not give dedup and dump"
[ "$(comp criu cpuinfo "")" = "$(printf '%s\n' check dump)" ] || fail "cpuinfo subcommands"
[ "$(comp criu restore -D dir-)" = dir-a ] || fail "-D DIR does not complete folders"
[ "$(comp criu restore --images-dir dir-a/)" = dir-a/dir-b ] || fail "--images-dir DIR"
[ "$(comp criu show -f file-)" = file-c ] || fail "-f FILE does not complete files"
comp criu dump -t "$$" | grep -qx "$$" || fail "-t PID does not offer this shell's pid"
[ -z "$(comp criu dump --timeout "")" ] || fail "--timeout SEC offers something"
criu check --feature list | awk '/^[[:space:]]/ { print $1 }' | sort >features.txt
[ -s features.txt ] || fail "criu check --feature list printed no feature"
comp criu check --feature "" >got.txt
diff features.txt got.txt || fail "--feature does not offer the features"
ok "commands, options and values from the tables"
