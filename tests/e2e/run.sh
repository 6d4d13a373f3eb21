#!/bin/bash
# Runs every tests/e2e/t-*.sh against ./criu, each in its own scratch
# directory with a time limit of 300 s (tests/run-suite.sh; T=t-name runs
# the matching ones only); prints "e2e: N passed, N failed".
top=$(pwd)
export CRIU="$top/criu" TOP="$top" FIXTURES="$top/tests/fixtures/upstream-images"
exec "$top/tests/run-suite.sh" e2e "$top/tests/e2e" 300
