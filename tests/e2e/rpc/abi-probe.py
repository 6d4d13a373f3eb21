#!/usr/bin/env python3
"""Writes a C probe of libcriu's interface from tests/fixtures/libcriu-abi.txt.

  abi-probe.py FIXTURE OUT.c [--break NAME]

Every `func` line becomes a compile-time check that criu.h declares NAME
with exactly that prototype, and a use of NAME that the link must resolve;
`const`, `member` and `type` lines check values and types.  --break NAME
writes NAME's prototype with its return type changed, to show that a
mismatch fails the build.  Prints the number of functions on stdout.
"""
import re
import sys


def main():
    fixture, out = sys.argv[1], sys.argv[2]
    broken = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--break" else None
    checks, uses, nfunc = [], [], 0
    for line in open(fixture):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kind, rest = line.split(" ", 1)
        if kind == "func":
            m = re.match(r"^(.*?)\b(criu_\w+)\((.*)\)$", rest)
            if not m:
                sys.exit("bad func line: " + line)
            ret, name, args = m.group(1).strip(), m.group(2), m.group(3)
            if name == broken:
                ret = "long" if ret != "long" else "int"
            checks.append(
                "_Static_assert(__builtin_types_compatible_p(__typeof__(&%s), %s (*)(%s)), "
                '"%s: not declared as %s %s(%s)");' % (name, ret, args, name, ret, name, args))
            uses.append("(void *)&%s," % name)
            nfunc += 1
        elif kind == "const":
            name, value = rest.split(" ", 1)
            checks.append('_Static_assert((%s) == (%s), "%s is not %s");' % (name, value, name, value))
        elif kind == "member":
            struct, name, typ = rest.split(" ", 2)
            checks.append(
                "_Static_assert(__builtin_types_compatible_p(__typeof__(((struct %s *)0)->%s), %s), "
                '"struct %s has no %s of type %s");' % (struct, name, typ, struct, name, typ))
        elif kind == "type":
            name, typ = rest.split(" ", 1)
            checks.append('_Static_assert(__builtin_types_compatible_p(%s, %s), "%s is not %s");'
                          % (name, typ, name, typ))
        elif kind == "soname":
            pass
        else:
            sys.exit("unknown line: " + line)
    with open(out, "w") as f:
        f.write("#include <stdbool.h>\n#include <stddef.h>\n#include <stdio.h>\n#include \"criu.h\"\n\n")
        f.write("\n".join(checks) + "\n\n")
        f.write("static void *const uses[] = {\n\t" + "\n\t".join(uses) + "\n};\n\n")
        f.write("int main(void)\n{\n\tprintf(\"%zu functions\\n\", sizeof(uses) / sizeof(uses[0]));\n"
                "\treturn 0;\n}\n")
    print(nfunc)


if __name__ == "__main__":
    main()
