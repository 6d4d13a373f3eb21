#!/bin/bash
# Runs every tests/packaging/t-*.sh (packagers' conventions: the dependency
# check, flags and reproducible builds, install/uninstall, the completion)
# from the project root, each in its own scratch folder with a time limit
# of 900 s (tests/run-suite.sh); prints "build: N passed, N failed".
top=$(pwd)
export TOP="$top" ARCH=${ARCH:-$(uname -m)}
exec "$top/tests/run-suite.sh" build "$top/tests/packaging" 900
